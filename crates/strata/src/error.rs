//! Strata's error type: every failure is a value that names what is at fault (file, line,
//! setting, version) and says what to do. Rendering happens in one place, the CLI; the
//! library only describes.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::sql::ScanErrorKind;

/// Everything that can go wrong in Strata's library. Each variant carries facts (the file, line,
/// setting, version or target at fault); [`Error::hint`] says what to do in terms of those facts.
/// How an error is shown (text, JSON) and which exit code it maps to are the command line's
/// concern (`strata-cli`'s `failure` module). New variants may be added: match with a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}:{line}:{column}: {message}", path.display())]
    Config {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        hint: Option<String>,
    },

    #[error("{message}")]
    Setting {
        /// The setting, flag or variable at fault, e.g. `--lock-timeout` or `environments.prod.url`.
        setting: String,
        message: String,
        hint: Option<String>,
    },

    #[error("no migrations directory: none of {} exists", candidates.join(", "))]
    NoMigrationsDir { candidates: Vec<String> },

    #[error("{}: {problem}", path.display())]
    SourceFile {
        path: PathBuf,
        problem: String,
        hint: Option<String>,
    },

    #[error("{}:{line}:{column}: {}", path.display(), scan_message(kind))]
    Scan {
        path: PathBuf,
        line: usize,
        column: usize,
        kind: ScanErrorKind,
    },

    #[error("versions {version} in {} and {} are numerically equal", first.display(), second.display())]
    DuplicateVersion {
        version: String,
        first: PathBuf,
        second: PathBuf,
    },

    #[error("{} has no migration {}", rollback.display(), expected.display())]
    OrphanRollback {
        rollback: PathBuf,
        expected: PathBuf,
    },

    #[error("{} file(s) in {} do not follow <version>_<name>.sql: {}", files.len(), dir.display(), files.join(", "))]
    Unversioned { dir: PathBuf, files: Vec<String> },

    #[error("cannot connect to {target}: {message}")]
    Connect {
        target: String,
        message: String,
        hint: Option<String>,
    },

    #[error("{0}")]
    Migration(Box<MigrationError>),

    #[error("refusing to push: {}", problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Refused {
        problems: Vec<crate::problem::Problem>,
    },

    #[error("refusing to roll back: {}", problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    RollbackRefused {
        problems: Vec<crate::problem::RollbackProblem>,
    },

    /// A PostgreSQL client program (`pg_dump`, `pg_restore`) is missing, too old, or failed.
    #[error("{message}")]
    Tool {
        tool: String,
        message: String,
        hint: Option<String>,
    },

    /// A destructive command needs a confirmation it could not get (`--yes`, or a terminal).
    #[error("{message}")]
    ConfirmationRequired {
        message: String,
        hint: Option<String>,
    },

    #[error(
        "another strata run held the migration lock on {target} for {waited:?}; gave up waiting"
    )]
    LockWait {
        target: String,
        waited: Duration,
        holders: Vec<crate::problem::LockHolder>,
    },

    #[error("{context}: {message}")]
    Database {
        /// What Strata was doing (`reading the migration history of …`).
        context: String,
        message: String,
        /// The SQLSTATE, when the server sent one.
        code: Option<String>,
        hint: Option<String>,
        /// The client's own error, when it came from one (connection lost, server error …).
        #[source]
        source: Option<tokio_postgres::Error>,
    },

    /// Building a scratch database from the migrations failed (`strata diff`, `lint --schema`):
    /// the migrations do not apply to a new database. The target was never written to.
    #[error("the migrations failed on a scratch database built for {purpose}; the target was not touched: {error}")]
    ScratchBuild {
        /// What the scratch database was for (`strata diff`, `strata lint --schema`).
        purpose: String,
        /// The scratch database's name (dropped since).
        database: String,
        /// What failed (usually [`Error::Migration`], located in its file).
        error: Box<Error>,
    },

    /// A generated change did not prove itself on scratch databases (`strata schema diff
    /// --write`), or would drop data without `--allow-data-loss`: nothing was written.
    #[error("{message}")]
    Unproven {
        message: String,
        /// What differs, one line each (`table public.notes: only in …`).
        details: Vec<String>,
        hint: Option<String>,
    },

    /// A lint check refused, as the linter (`strata-lint`, which the core does not depend on)
    /// worded it: a file Strata would write for a user fails the check every written file
    /// passes ([`crate::author::WrittenCheck`]), or a fleet's database is held back by the push
    /// gate ([`crate::fleet::FleetGate`]). Nothing was written.
    #[error("{message}")]
    Lint {
        message: String,
        /// Each finding, rendered with its location.
        findings: Vec<String>,
        hint: Option<String>,
    },

    /// `strata migration squash`: a database's history is not exactly what the baseline
    /// replaces (a squashed migration not applied, or changed since it was applied; an applied
    /// version at or below the baseline that it does not replace). Push's problems, with their
    /// diffs and fixes; nothing was changed.
    #[error("refusing to squash the history of {target}: {}", problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    SquashRefused {
        target: String,
        problems: Vec<crate::problem::Problem>,
    },

    /// Another tool's history table says its last migration failed (golang-migrate `dirty`,
    /// sqlx or Flyway `success = false`), or is not a table Strata can read.
    #[error("{message}")]
    ToolHistory {
        table: String,
        message: String,
        hint: String,
    },

    #[error(transparent)]
    Local(#[from] crate::local::LocalError),
}

impl Error {
    /// A stable, machine-readable name for the kind of error (used in JSON output).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Config { .. } => "config",
            Error::Setting { .. } => "setting",
            Error::NoMigrationsDir { .. } => "no_migrations_dir",
            Error::SourceFile { .. } => "source_file",
            Error::Scan { .. } => "scan",
            Error::DuplicateVersion { .. } => "duplicate_version",
            Error::OrphanRollback { .. } => "orphan_rollback",
            Error::Unversioned { .. } => "unversioned_files",
            Error::Connect { .. } => "connect",
            Error::Migration(_) => "migration_failed",
            Error::Refused { .. } => "refused",
            Error::RollbackRefused { .. } => "rollback_refused",
            Error::Tool { .. } => "tool",
            Error::ConfirmationRequired { .. } => "confirmation_required",
            Error::LockWait { .. } => "lock_wait_timeout",
            Error::Database { .. } => "database",
            Error::ScratchBuild { .. } => "scratch_build_failed",
            Error::Unproven { .. } => "unproven",
            Error::ToolHistory { .. } => "tool_history",
            Error::Lint { .. } => "lint",
            Error::SquashRefused { .. } => "refused",
            Error::Local(_) => "local_cluster",
        }
    }

    /// What the user can do about it, when Strata knows.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config { hint, .. }
            | Error::Setting { hint, .. }
            | Error::SourceFile { hint, .. }
            | Error::Connect { hint, .. }
            | Error::Database { hint, .. }
            | Error::Tool { hint, .. }
            | Error::ConfirmationRequired { hint, .. }
            | Error::Unproven { hint, .. }
            | Error::Lint { hint, .. } => hint.clone(),
            Error::NoMigrationsDir { .. } => Some(
                "run `strata init` to create one, pass --dir DIR, or set migrations_dir in strata.toml"
                    .into(),
            ),
            Error::Scan { kind, .. } => Some(scan_hint(kind).into()),
            Error::DuplicateVersion { .. } => {
                Some("give one of the files a different version (rename it)".into())
            }
            Error::OrphanRollback { .. } => Some(
                "rename the rollback file to <version>_<name>_rollback.sql of an existing migration, or delete it"
                    .into(),
            ),
            Error::Unversioned { .. } => Some(
                "list these files in run order as legacy_order = [...] in strata.toml, then run `strata migration adopt` to rename them"
                    .into(),
            ),
            Error::Migration(e) => e.hint.clone(),
            Error::Refused { problems } => {
                let fixes: Vec<_> = problems.iter().filter_map(|p| p.fix.clone()).collect();
                (!fixes.is_empty()).then(|| fixes.join("\n"))
            }
            Error::SquashRefused { problems, .. } => {
                let fixes: Vec<_> = problems.iter().filter_map(|p| p.fix.clone()).collect();
                (!fixes.is_empty()).then(|| fixes.join("\n"))
            }
            Error::RollbackRefused { problems } => {
                let fixes: Vec<_> = problems.iter().filter_map(|p| p.fix.clone()).collect();
                (!fixes.is_empty()).then(|| fixes.join("\n"))
            }
            Error::LockWait { .. } => Some(
                "wait for the other run to finish, or raise --lock-wait; the sessions above held the lock"
                    .into(),
            ),
            Error::Io { .. } => None,
            Error::ScratchBuild { error, .. } => {
                let own = "the migrations fail on a new, empty database (as `strata db reset` would show): fix that file and run again";
                Some(match error.hint() {
                    Some(h) => format!("{h}\n{own}"),
                    None => own.into(),
                })
            }
            Error::ToolHistory { hint, .. } => Some(hint.clone()),
            Error::Local(e) => e.hint(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn setting(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Setting {
            setting: setting.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// Wraps a database error with what Strata was doing.
    pub fn db(context: impl Into<String>, e: tokio_postgres::Error) -> Self {
        let (message, code, hint) = match e.as_db_error() {
            Some(db) => (
                db.message().to_string(),
                Some(db.code().code().to_string()),
                db.hint().map(str::to_string),
            ),
            None => (e.to_string(), None, None),
        };
        Error::Database {
            context: context.into(),
            message,
            code,
            hint,
            source: Some(e),
        }
    }
}

/// A statement of a migration that failed on the server, located in its file.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationError {
    /// The migration's file.
    pub file: PathBuf,
    pub version: String,
    /// 1-based line and column of the error in the file (PostgreSQL's error position when it
    /// gives one, else the start of the failing statement).
    pub line: usize,
    pub column: usize,
    /// The failing statement as written in the file (shortened when long).
    pub statement: String,
    pub sqlstate: Option<String>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// Byte offset of the error in the file, for rendering an underline.
    #[serde(skip)]
    pub offset: usize,
    /// The file's text, for rendering.
    #[serde(skip)]
    pub source_text: String,
    /// Whether the migration ran outside a transaction (so earlier statements of it stay applied).
    pub transactional: bool,
    /// For a lock timeout: the sessions that held conflicting locks.
    pub lock_holders: Vec<crate::problem::LockHolder>,
    /// What the server said while the file ran, up to the failure (`RAISE NOTICE`, warnings).
    pub notices: Vec<crate::session::Notice>,
}

impl std::fmt::Display for MigrationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(code) = &self.sqlstate {
            write!(f, " (SQLSTATE {code})")?;
        }
        Ok(())
    }
}

impl From<MigrationError> for Error {
    fn from(e: MigrationError) -> Self {
        Error::Migration(Box::new(e))
    }
}

fn scan_message(kind: &ScanErrorKind) -> String {
    match kind {
        ScanErrorKind::UnterminatedString => "unterminated quoted string starts here".into(),
        ScanErrorKind::UnterminatedQuotedIdentifier => {
            "unterminated quoted identifier starts here".into()
        }
        ScanErrorKind::UnterminatedDollarQuote { tag } => {
            format!("unterminated dollar-quoted string ${tag}$ starts here")
        }
        ScanErrorKind::UnterminatedComment => "unterminated /* comment starts here".into(),
        ScanErrorKind::MetaCommand { command } => {
            format!("psql meta-command {command} is not SQL")
        }
        ScanErrorKind::CopyFromStdin => "COPY ... FROM STDIN needs psql to feed it data".into(),
    }
}

fn scan_hint(kind: &ScanErrorKind) -> &'static str {
    match kind {
        ScanErrorKind::UnterminatedString
        | ScanErrorKind::UnterminatedQuotedIdentifier
        | ScanErrorKind::UnterminatedDollarQuote { .. }
        | ScanErrorKind::UnterminatedComment => {
            "close the construct; everything after it was read as part of it"
        }
        ScanErrorKind::MetaCommand { .. } => {
            "migration files must be plain SQL: replace the meta-command with the SQL it stands for (e.g. paste the included file)"
        }
        ScanErrorKind::CopyFromStdin => {
            "load the data with INSERT ... VALUES, or COPY from a server-side file, or keep it in a seed file"
        }
    }
}
