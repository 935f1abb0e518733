//! `strata lint`, and the lint check `strata push` runs on pending migrations.
//!
//! Files are linted as a migration set in run order (a table created by an earlier file is
//! "new" to the ones after it), and findings are reported only for the files asked about.
//! Catalog findings (`--schema`/`--db-url`, run on a database) join the statement findings in
//! [`collect_findings`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_json::json;
use strata::error::exit_code;
use strata::history::History;
use strata::lint::format::{self, Summary};
use strata::lint::{self, Finding, Level, LintConfig, Location, SourceText};
use strata::{Error, MigrationSet};

use crate::args::{Cli, LintArgs, LintFormat, Output};
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

/// The output mode for `strata lint`'s errors and documents: `--format json|sarif` means JSON.
pub(crate) fn output(cli: &Cli) -> Output {
    match &cli.command {
        crate::args::Command::Lint(a)
            if matches!(a.format, Some(LintFormat::Json | LintFormat::Sarif)) =>
        {
            Output::Json
        }
        _ => cli.global.output,
    }
}

fn format_of(cli_output: Output, args: &LintArgs) -> LintFormat {
    match (args.format, cli_output) {
        (Some(f), _) => f,
        (None, Output::Json) => LintFormat::Json,
        (None, Output::Human) if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") => {
            LintFormat::Github
        }
        (None, Output::Human) => LintFormat::Human,
    }
}

/// `strata lint --explain RULE` (needs no project).
pub(crate) fn explain(args: &LintArgs, cli: &Cli, id: &str) -> Result<Outcome, Error> {
    explain_rule(id, format_of(cli.global.output, args))?;
    Ok(Outcome {
        result: None,
        exit: exit_code::SUCCESS,
    })
}

/// Runs `strata lint`; its exit code is 3 when a finding is at or above the failing level.
pub(crate) async fn run(ctx: &Context, args: &LintArgs, out: &Renderer) -> Result<Outcome, Error> {
    let format = format_of(
        if out.is_json() {
            Output::Json
        } else {
            Output::Human
        },
        args,
    );
    let config = &ctx.project.config.lint;
    let fail_on = args
        .fail_on
        .map(Level::from)
        .or(config.fail_on)
        .unwrap_or(Level::Error);
    let (files, mut report, skipped, notes) = gather(ctx, &args.paths)?;
    out.source_facts(&skipped, &notes);
    let texts: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|f| (f.path.clone(), f.text.clone()))
        .collect();
    if let Some(reference) = &args.changed_since {
        let changed = changed_files(&ctx.project.root, reference)?;
        report.retain(|p| changed.contains(p));
    }
    let mut findings = collect_findings(ctx, config, files, &report);
    findings.extend(catalog_findings(args, ctx, config, out).await?);
    let summary = Summary::new(&findings, report.len());
    let failed = findings.iter().any(|f| f.level >= fail_on);
    let mut stdout = String::new();
    match format {
        LintFormat::Human => {
            let styled = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            // The rule's "why" with its first finding only: the explanation once, not 50 times.
            let mut explained = BTreeSet::new();
            for f in &findings {
                let source = match &f.location {
                    Location::File { path, .. } => texts.get(path).map(String::as_str),
                    Location::Object { .. } => None,
                };
                let why = explained
                    .insert(f.rule)
                    .then(|| lint::rule(f.rule).map(|r| r.why))
                    .flatten();
                let _ = writeln!(
                    stdout,
                    "{}\n",
                    format::human_with_why(f, source, styled, why)
                );
            }
            if !out.is_quiet() || failed {
                let _ = writeln!(stdout, "{summary}");
            }
        }
        LintFormat::Json => {
            let mut doc = format::json(&findings, &summary, fail_on);
            doc["result"]["skipped"] = json!(skipped);
            doc["result"]["notes"] = json!(notes);
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
        }
        LintFormat::Sarif => {
            let doc = format::sarif(&findings, &lint::registry());
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
        }
        LintFormat::Github => {
            for f in &findings {
                let _ = writeln!(stdout, "{}", format::github(f));
            }
            let _ = writeln!(stdout, "strata lint: {summary}");
        }
    }
    print!("{stdout}");
    Ok(Outcome {
        result: None,
        exit: if failed {
            exit_code::LINT
        } else {
            exit_code::SUCCESS
        },
    })
}

/// Every finding for the files in `report`: statement rules over `files` (the whole set, for
/// context), with `[lint]` levels and excludes applied. (Catalog findings are added here.)
pub fn collect_findings(
    ctx: &Context,
    config: &LintConfig,
    files: Vec<SourceText>,
    report: &BTreeSet<PathBuf>,
) -> Vec<Finding> {
    let root = ctx
        .project
        .root
        .canonicalize()
        .unwrap_or(ctx.project.root.clone());
    // Row-level-security rules look at the schemas the platform exposes (public on Supabase);
    // an unreadable platform setting is reported by the commands that use it.
    let platform = ctx.platform().unwrap_or(strata::platform::Platform::None);
    let mut findings = lint::lint_for(files, config, &lint::api_schemas(platform));
    // A lock_timeout Strata sets for every migration session satisfies missing-lock-timeout.
    let session_lock_timeout =
        ctx.request.lock_timeout.is_some() || ctx.project.config.lock_timeout.is_some();
    findings.retain(|f| !(session_lock_timeout && f.rule == "missing-lock-timeout"));
    findings.retain(|f| match &f.location {
        Location::File { path, .. } => {
            let full = absolute(path);
            report.contains(&full) && !config.is_excluded(full.strip_prefix(&root).unwrap_or(&full))
        }
        Location::Object { .. } => true,
    });
    findings
}

/// Catalog findings (the RLS and security rules, exact, on `pg_catalog`): on a scratch database
/// built from the migrations (`--schema`), or on the target given with `--db-url`, `--env` or
/// `--linked`. None otherwise: plain `strata lint` stays offline. `[lint]` levels apply.
async fn catalog_findings(
    args: &LintArgs,
    ctx: &Context,
    config: &LintConfig,
    out: &Renderer,
) -> Result<Vec<Finding>, Error> {
    let r = &ctx.request;
    let live = r.db_url.is_some() || r.env.is_some() || r.linked;
    if !args.schema && !live {
        return Ok(Vec::new());
    }
    let findings = if args.schema {
        let server = strata::scratch::server(&ctx.project)?;
        out.target(&server);
        lint::catalog::lint_schema(&server, ctx.migrations()?, ctx.platform()?).await?
    } else {
        let target = ctx.target()?;
        out.target(&target);
        let client = target.connect().await?;
        lint::catalog::check(&client, &lint::api_schemas(ctx.platform()?)).await?
    };
    Ok(findings
        .into_iter()
        .filter_map(|mut f| {
            let info = lint::rule(f.rule)?;
            f.level = config.level(info)?;
            Some(f)
        })
        .collect())
}

/// The files to lint (in run order, with their set as context) and the ones to report on
/// (absolute paths).
/// What the directories' sets skipped and noticed comes back too.
type Gathered = (
    Vec<SourceText>,
    BTreeSet<PathBuf>,
    Vec<strata::source::Skipped>,
    Vec<strata::source::FileNote>,
);

fn gather(ctx: &Context, paths: &[PathBuf]) -> Result<Gathered, Error> {
    let options = ctx.source_options();
    // Directory → files asked for in it (None: all of it).
    let mut wanted: BTreeMap<PathBuf, Option<BTreeSet<PathBuf>>> = BTreeMap::new();
    if paths.is_empty() {
        wanted.insert(absolute(&ctx.migrations_dir()?), None);
    }
    for p in paths {
        if p.is_dir() {
            wanted.insert(absolute(p), None);
        } else if p.is_file() {
            let full = absolute(p);
            let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
            if let Some(files) = wanted.entry(dir).or_insert_with(|| Some(BTreeSet::new())) {
                files.insert(full);
            }
        } else {
            return Err(Error::Setting {
                setting: "PATHS".into(),
                message: format!("{} does not exist", p.display()),
                hint: Some(
                    "pass migration files or directories (default: the migrations directory)"
                        .into(),
                ),
            });
        }
    }
    let mut sources = Vec::new();
    let mut report = BTreeSet::new();
    let mut skipped = Vec::new();
    let mut notes = Vec::new();
    for (dir, only) in wanted {
        let set = MigrationSet::load(&dir, &options);
        let in_set: Vec<PathBuf> = match &set {
            Ok(set) => set.migrations.iter().map(|m| absolute(&m.path)).collect(),
            Err(_) => Vec::new(),
        };
        match (set, &only) {
            (Ok(set), _)
                if only
                    .as_ref()
                    .is_none_or(|o| o.iter().all(|f| in_set.contains(f))) =>
            {
                skipped.extend(set.skipped);
                notes.extend(set.notes);
                for m in set.migrations {
                    let full = absolute(&m.path);
                    if only.as_ref().is_none_or(|o| o.contains(&full)) {
                        report.insert(full.clone());
                    }
                    sources.push(SourceText {
                        path: shown(&full),
                        text: m.sql,
                    });
                }
            }
            (Err(e), None) => return Err(e),
            // Files outside a migration set (or that it does not hold): linted on their own.
            (_, only) => {
                for f in only.iter().flatten() {
                    let text = std::fs::read_to_string(f).map_err(|e| Error::Io {
                        action: "read",
                        path: f.clone(),
                        source: e,
                    })?;
                    report.insert(f.clone());
                    sources.push(SourceText {
                        path: shown(f),
                        text,
                    });
                }
            }
        }
    }
    Ok((sources, report, skipped, notes))
}

/// An absolute, normalized path (symlinks resolved when the file exists).
fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

/// How a path is shown in findings: relative to the current directory when inside it.
fn shown(full: &Path) -> PathBuf {
    let cwd = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .unwrap_or_default();
    full.strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| full.to_path_buf())
}

/// Files changed since `reference` (committed on this branch since it forked, uncommitted, or
/// untracked), as absolute paths.
fn changed_files(root: &Path, reference: &str) -> Result<BTreeSet<PathBuf>, Error> {
    let git = |args: &[&str]| -> Result<String, Error> {
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| Error::Setting {
                setting: "--changed-since".into(),
                message: format!("cannot run git: {e}"),
                hint: Some("install git, or lint without --changed-since".into()),
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let hint = if stderr.contains("not a git repository") {
                "--changed-since needs the project to be in a git repository"
            } else {
                "pass a branch, tag or commit git knows (fetch it first in CI: actions/checkout with fetch-depth: 0)"
            };
            return Err(Error::Setting {
                setting: "--changed-since".into(),
                message: format!("git {}: {}", args.join(" "), stderr.trim()),
                hint: Some(hint.into()),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(top.trim());
    git(&["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")]).map_err(|_| {
        Error::Setting {
            setting: "--changed-since".into(),
            message: format!("git does not know the revision `{reference}`"),
            hint: Some("pass a branch, tag or commit git knows (fetch it first in CI: actions/checkout with fetch-depth: 0)".into()),
        }
    })?;
    let mut names = git(&["diff", "--name-only", &format!("{reference}...HEAD")])?;
    names.push_str(&git(&["diff", "--name-only", "HEAD"])?);
    names.push_str(&git(&["ls-files", "--others", "--exclude-standard"])?);
    Ok(names
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| absolute(&top.join(l)))
        .collect())
}

/// `--explain RULE`.
fn explain_rule(id: &str, format: LintFormat) -> Result<(), Error> {
    let Some(rule) = lint::rule(id) else {
        let close = lint::engine::close_ids(id);
        return Err(Error::Setting {
            setting: "--explain".into(),
            message: format!("no lint rule is called `{id}`"),
            hint: Some(if close.is_empty() {
                "docs/lint-rules.md lists every rule".into()
            } else {
                format!("did you mean {}?", close.join(", "))
            }),
        });
    };
    if format == LintFormat::Json {
        let doc = json!({ "command": "lint", "ok": true, "result": { "rule": rule } });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(());
    }
    println!("{}", lint::engine::explain(rule));
    Ok(())
}

/// Lints the migrations `strata push` is about to apply, with the whole set as context;
/// refuses (nothing changed) when a finding is at or above the failing level. Prints the
/// findings in human mode. Nothing pending: no work at all.
pub(crate) fn check_pending(
    ctx: &Context,
    set: &MigrationSet,
    history: &History,
    out: &Renderer,
) -> Result<(), Error> {
    // Versions compare numerically (as the plan does): `001` is `1`.
    let applied: BTreeSet<&strata::Version> = history.applied.iter().map(|a| &a.version).collect();
    let pending: BTreeSet<PathBuf> = set
        .migrations
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| absolute(&m.path))
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    // A file that cannot be split is the push's own error (`scan`, with its position), as
    // without lint.
    for m in &set.migrations {
        if !applied.contains(&m.version) {
            m.statements()?;
        }
    }
    let config = &ctx.project.config.lint;
    let fail_on = config.fail_on.unwrap_or(Level::Error);
    let files: Vec<SourceText> = set
        .migrations
        .iter()
        .map(|m| SourceText {
            path: shown(&absolute(&m.path)),
            text: m.sql.clone(),
        })
        .collect();
    let texts: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|f| (f.path.clone(), f.text.clone()))
        .collect();
    let (findings, below): (Vec<Finding>, Vec<Finding>) =
        collect_findings(ctx, config, files, &pending)
            .into_iter()
            .partition(|f| f.level >= fail_on);
    if findings.is_empty() {
        if !below.is_empty() {
            out.warn(&format!(
                "lint: {} (pending migrations), below fail_on = {}; `strata lint` shows them",
                Summary::new(&below, pending.len()),
                fail_on.as_str()
            ));
        }
        return Ok(());
    }
    if !out.is_json() {
        let styled = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for f in &findings {
            let source = match &f.location {
                Location::File { path, .. } => texts.get(path).map(String::as_str),
                Location::Object { .. } => None,
            };
            eprintln!("{}\n", format::human(f, source, styled));
        }
    }
    Err(Error::Lint { findings, fail_on })
}

impl From<crate::args::FailOn> for Level {
    fn from(f: crate::args::FailOn) -> Level {
        match f {
            crate::args::FailOn::Error => Level::Error,
            crate::args::FailOn::Warning => Level::Warning,
            crate::args::FailOn::Info => Level::Info,
        }
    }
}
