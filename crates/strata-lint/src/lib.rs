//! `strata lint`: the seed's conventions, migration-safety and row-level-security rules.
//!
//! Two kinds of rule share one finding model:
//! - **statement rules** run on migration files parsed with PostgreSQL's own grammar
//!   (`pg_query`), with the whole set in order as context;
//! - **catalog rules** (`lint::catalog`) query `pg_catalog` of a database built from the migrations
//!   (a scratch database, see [`strata::scratch`]) or of a live target, as Supabase's splinter does.
//!
//! The library only produces [`Finding`]s; rendering (human, JSON, SARIF, GitHub annotations)
//! is data formatting in `lint::format`, and terminal concerns stay in the CLI.

pub mod catalog;
pub mod engine;
pub mod format;
pub mod gate;
pub mod git;
pub mod input;
pub mod parse;
pub mod rules;
pub mod written;

pub use engine::{check_settings, lint, lint_for, registry, rule, LintConfigExt};
pub use strata::config::lint::{AssumeDeployed, Level, LintConfig, RuleSetting};

use std::path::PathBuf;

use serde::Serialize;

/// What a rule looks at, which decides where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// Parsed migration files (offline).
    Statement,
    /// A database's catalog (`strata lint --schema` or `--db-url`).
    Catalog,
    /// Statically where the SQL says it, and on the catalog where it needs the database.
    Both,
}

/// A rule's identity and documentation. Every rule has one, as a `pub const` next to its code;
/// `strata lint --explain ID` prints it and `docs/lint-rules.md` lists them all.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleInfo {
    /// Stable id, kebab-case (`index-without-concurrently`). Never renamed once released.
    pub id: &'static str,
    /// Group in the docs: `convention`, `idempotency`, `transaction`, `compatibility`,
    /// `locking`, `security`, `rls`, `performance`, `types`, `parse`, `lint`.
    pub category: &'static str,
    pub kind: RuleKind,
    pub default_level: Level,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// One paragraph: why it matters.
    pub why: &'static str,
    /// How to fix it, in general (a finding's own `fix` is specific to the case).
    pub fix: &'static str,
    /// Short SQL examples: what the rule flags, and what passes.
    pub bad: &'static str,
    pub good: &'static str,
}

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Location {
    /// A byte range in a file, with its 1-based line and column (columns count characters).
    File {
        path: PathBuf,
        /// Byte offsets `[start, end)` in the file's text.
        start: usize,
        end: usize,
        line: usize,
        column: usize,
        end_line: usize,
        end_column: usize,
    },
    /// A database object, for catalog rules: `kind` is `table`, `view`, `function`, `index`,
    /// `policy`, `extension`, …; `name` is schema-qualified.
    Object {
        kind: String,
        name: String,
        /// The migration file that created the object, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        defined_in: Option<PathBuf>,
    },
}

/// One problem found by one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    pub location: Location,
    /// What is wrong here, naming the object (`index on public.profiles(user_id) built without CONCURRENTLY`).
    pub message: String,
    /// What to do here, specific to the case (may span lines, e.g. an expand/contract plan).
    pub fix: Option<String>,
    /// For a finding in a file that a catalog rule (`--schema`, or a target) also found on a
    /// database object: that object, so the finding is reported once with both places.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
}

/// A database object a finding is about (`kind` and schema-qualified `name`, as
/// [`Location::Object`] names them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
}

/// Adds catalog findings to statement findings, reporting each problem once: a catalog finding
/// of the same rule as a statement finding whose message names the same object (every part of
/// its qualified name) is folded into that statement finding as its [`Finding::object`]; the
/// rest are added as they are.
pub fn merge_catalog(findings: &mut Vec<Finding>, catalog: Vec<Finding>) {
    for c in catalog {
        let Location::Object { kind, name, .. } = &c.location else {
            findings.push(c);
            continue;
        };
        let parts: Vec<String> = name
            .split('.')
            .map(|p| p.trim_matches('"').to_string())
            .collect();
        let same = findings.iter_mut().find(|f| {
            f.rule == c.rule
                && f.object.is_none()
                && matches!(f.location, Location::File { .. })
                && parts.iter().all(|p| f.message.contains(p.as_str()))
        });
        match same {
            Some(f) => {
                f.object = Some(ObjectRef {
                    kind: kind.clone(),
                    name: name.clone(),
                });
                // The catalog is exact: its level wins over a lowered static one.
                f.level = f.level.max(c.level);
            }
            None => findings.push(c),
        }
    }
}

/// The rule that reports SQL PostgreSQL cannot parse.
pub const PARSE_ERROR: RuleInfo = RuleInfo {
    id: "parse-error",
    category: "parse",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "SQL that PostgreSQL's parser rejects",
    why: "A statement PostgreSQL cannot parse fails the migration when it runs, after the \
          statements before it in the file; no other rule can check it either.",
    fix: "Correct the SQL at the position shown (PostgreSQL's own message and position).",
    bad: "CREATE TABEL profiles (id uuid);",
    good: "CREATE TABLE profiles (id uuid);",
};

/// Which files of the set are already applied where the migrations go — "deployed": a table
/// such a file created exists there, with rows and with code that uses it, so changing it can
/// hold a lock others wait on or break that code. A table is *new* (no locking or compatibility
/// finding on changes to it) only when it is created earlier in the same file, or in a file that
/// is not deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Deployed {
    /// Every file before the one being checked, as squawk assumes of the database a file runs
    /// against: plain `strata lint` (the default; `[lint] assume_deployed = "earlier-files"`).
    #[default]
    EarlierFiles,
    /// No file of the set: a project never deployed anywhere (`[lint] assume_deployed = "none"`).
    Nothing,
    /// These files, by index in the set's run order: the versions applied on a target (`push`,
    /// `lint --db-url`), or the files that exist at a git revision (`lint --changed-since`).
    /// Files past the end of the list are not deployed.
    Files(Vec<bool>),
}

impl Deployed {
    /// Whether file `file` of the set is deployed, as seen from file `checking`.
    pub fn is_deployed(&self, file: usize, checking: usize) -> bool {
        match self {
            Deployed::EarlierFiles => file < checking,
            Deployed::Nothing => false,
            Deployed::Files(files) => files.get(file).copied().unwrap_or(false),
        }
    }
}

/// A file to lint: its path (as shown in findings) and its text.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub path: PathBuf,
    pub text: String,
}

/// Parses `files` (in run order: the set's context depends on it) on all cores and runs every
/// statement rule over them, `deployed` saying which files are applied where they go. Findings are in file order, then by position, at the rules'
/// default levels.
pub fn check_statements(files: Vec<SourceText>, deployed: &Deployed) -> Vec<Finding> {
    check_parsed(
        &parse_all(files),
        &api_schemas(strata::platform::Platform::Supabase),
        deployed,
    )
}

/// The schemas an API exposes to its users before any GRANT in the migrations: `public` on
/// Supabase (PostgREST serves it to `anon` and `authenticated`), none on plain PostgreSQL.
/// Row-level-security rules check tables in these and in schemas the set grants to the API
/// roles.
pub fn api_schemas(platform: strata::platform::Platform) -> Vec<String> {
    match platform {
        strata::platform::Platform::Supabase => vec!["public".to_string()],
        strata::platform::Platform::None => Vec::new(),
    }
}

/// Runs every statement rule over parsed files (in run order); `api_schemas` as
/// [`api_schemas`], `deployed` as [`Deployed`].
pub fn check_parsed(
    parsed: &[parse::ParsedFile],
    api_schemas: &[String],
    deployed: &Deployed,
) -> Vec<Finding> {
    let set = rules::SetIndex::build(parsed, api_schemas, deployed.clone());
    // The set's facts are read-only from here: files are checked on all cores, in chunks that
    // keep their order.
    let check_file = |file_index: usize, file: &parse::ParsedFile| {
        let mut findings = Vec::new();
        for (range, message) in &file.syntax_errors {
            findings.push(Finding {
                rule: PARSE_ERROR.id,
                level: PARSE_ERROR.default_level,
                location: file.location(range.clone()),
                message: message.clone(),
                fix: None,
                object: None,
            });
        }
        let nodes = file.nodes();
        let cx = rules::Cx {
            file,
            nodes: &nodes,
            file_index,
            set: &set,
        };
        for rule in rules::ALL {
            (rule.check)(&cx, &mut findings);
        }
        findings.sort_by_key(|f| match &f.location {
            Location::File { start, end, .. } => (*start, *end),
            Location::Object { .. } => (usize::MAX, usize::MAX),
        });
        findings
    };
    let chunk = parsed.len().div_ceil(threads(parsed.len())).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = parsed
            .chunks(chunk)
            .enumerate()
            .map(|(c, files)| {
                let check_file = &check_file;
                s.spawn(move || {
                    files
                        .iter()
                        .enumerate()
                        .flat_map(|(i, f)| check_file(c * chunk + i, f))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("lint rule thread panicked"))
            .collect()
    })
}

/// How many threads to spread `items` over: the cores, at most one per item.
fn threads(items: usize) -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.max(1))
}

/// Splits and parses files on all cores, keeping their order.
pub fn parse_all(files: Vec<SourceText>) -> Vec<parse::ParsedFile> {
    let chunk = files.len().div_ceil(threads(files.len())).max(1);
    let mut files = files;
    let mut chunks = Vec::new();
    while files.len() > chunk {
        let rest = files.split_off(chunk);
        chunks.push(files);
        files = rest;
    }
    chunks.push(files);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|f| parse::ParsedFile::parse(&f.path, f.text))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("lint parser thread panicked"))
            .collect()
    })
}
