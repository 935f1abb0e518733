//! `strata lint`: the seed's conventions, migration-safety and row-level-security rules.
//!
//! Two kinds of rule share one finding model:
//! - **statement rules** run on migration files parsed with PostgreSQL's own grammar
//!   (`pg_query`), with the whole set in order as context;
//! - **catalog rules** (`lint::catalog`) query `pg_catalog` of a database built from the migrations
//!   (a scratch database, see [`crate::scratch`]) or of a live target, as Supabase's splinter does.
//!
//! The library only produces [`Finding`]s; rendering (human, JSON, SARIF, GitHub annotations)
//! is data formatting in `lint::format`, and terminal concerns stay in the CLI.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    #[default]
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// What a rule looks at, which decides where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// Parsed migration files (offline).
    Statement,
    /// A database's catalog (`strata lint --schema` or `--db-url`).
    Catalog,
}

/// A rule's identity and documentation. Every rule has one, as a `pub const` next to its code;
/// `strata lint --explain ID` prints it and `docs/lint-rules.md` lists them all.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleInfo {
    /// Stable id, kebab-case (`index-without-concurrently`). Never renamed once released.
    pub id: &'static str,
    /// Group in the docs: `convention`, `idempotency`, `transaction`, `compatibility`,
    /// `locking`, `security`, `rls`, `types`, `parse`, `lint`.
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
}
