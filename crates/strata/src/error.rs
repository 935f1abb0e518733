//! Strata's error type: every failure is a value that names what is at fault (file, line,
//! setting, version) and says what to do. Rendering happens in one place, the CLI; the
//! library only describes.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::sql::ScanErrorKind;

/// Everything that can go wrong in Strata.
#[derive(Debug, thiserror::Error)]
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

    /// `strata push` refused: lint found problems at or above the failing level.
    #[error("lint found {} problem(s) at or above {} in the pending migrations; nothing was changed", findings.len(), fail_on.as_str())]
    Lint {
        findings: Vec<crate::lint::Finding>,
        fail_on: crate::lint::Level,
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
    Refused { problems: Vec<crate::plan::Problem> },

    #[error("refusing to roll back: {}", problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    RollbackRefused {
        problems: Vec<crate::rollback::RollbackProblem>,
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
        holders: Vec<crate::lock::LockHolder>,
    },

    #[error("{context}: {message}")]
    Database {
        context: String,
        message: String,
        code: Option<String>,
        hint: Option<String>,
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
            Error::Lint { .. } => "lint",
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
            Error::ToolHistory { .. } => "tool_history",
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
            | Error::ConfirmationRequired { hint, .. } => hint.clone(),
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
            Error::RollbackRefused { problems } => {
                let fixes: Vec<_> = problems.iter().filter_map(|p| p.fix.clone()).collect();
                (!fixes.is_empty()).then(|| fixes.join("\n"))
            }
            Error::LockWait { .. } => Some(
                "wait for the other run to finish, or raise --lock-wait; the sessions above held the lock"
                    .into(),
            ),
            Error::Io { .. } => None,
            Error::Lint { .. } => Some(
                "fix the migrations (each finding says how), silence a finding with `-- strata-lint: ignore <rule> <reason>`, or push with --no-lint".into(),
            ),
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

    /// The process exit code this error maps to (documented in docs/exit-codes.md).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::LockWait { .. } => exit_code::LOCK_WAIT,
            Error::Refused { .. }
            | Error::RollbackRefused { .. }
            | Error::ConfirmationRequired { .. } => exit_code::REFUSED,
            Error::Migration(_) => exit_code::MIGRATION_FAILED,
            Error::Lint { .. } => exit_code::LINT,
            Error::Config { .. } | Error::Setting { .. } => exit_code::USAGE,
            Error::ScratchBuild { .. } => exit_code::SCRATCH_BUILD,
            Error::ToolHistory { .. } => exit_code::REFUSED,
            _ => exit_code::FAILURE,
        }
    }

    /// A JSON description of the error (for `--output json`); never contains secrets.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "kind": self.kind(),
            "message": self.to_string(),
            "hint": self.hint(),
        });
        let details = match self {
            Error::Migration(e) => serde_json::to_value(e).ok(),
            Error::Refused { problems } => Some(serde_json::json!({ "problems": problems })),
            Error::RollbackRefused { problems } => {
                Some(serde_json::json!({ "problems": problems }))
            }
            Error::Lint { findings, fail_on } => {
                Some(serde_json::json!({ "fail_on": fail_on, "findings": findings }))
            }
            Error::LockWait {
                holders, waited, ..
            } => Some(
                serde_json::json!({ "holders": holders, "waited_ms": waited.as_millis() as u64 }),
            ),
            Error::Scan {
                path, line, column, ..
            } => Some(serde_json::json!({ "file": path, "line": line, "column": column })),
            Error::Config {
                path, line, column, ..
            } => Some(serde_json::json!({ "file": path, "line": line, "column": column })),
            Error::SourceFile { path, .. } => Some(serde_json::json!({ "file": path })),
            Error::Setting { setting, .. } => Some(serde_json::json!({ "setting": setting })),
            Error::Tool { tool, .. } => Some(serde_json::json!({ "tool": tool })),
            Error::Database { code, .. } => Some(serde_json::json!({ "sqlstate": code })),
            Error::ToolHistory { table, .. } => Some(serde_json::json!({ "table": table })),
            Error::ScratchBuild {
                purpose,
                database,
                error,
            } => Some(serde_json::json!({
                "purpose": purpose,
                "scratch_database": database,
                "target_touched": false,
                "error": error.to_json(),
            })),
            _ => None,
        };
        if let (Some(details), Some(obj)) = (details, v.as_object_mut()) {
            obj.insert("details".into(), details);
        }
        v
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
        match e.as_db_error() {
            Some(db) => Error::Database {
                context: context.into(),
                message: db.message().to_string(),
                code: Some(db.code().code().to_string()),
                hint: db.hint().map(str::to_string),
            },
            None => Error::Database {
                context: context.into(),
                message: e.to_string(),
                code: None,
                hint: None,
            },
        }
    }
}

/// Process exit codes. Documented in `docs/exit-codes.md`; stable.
pub mod exit_code {
    /// Success.
    pub const SUCCESS: i32 = 0;
    /// Any failure not listed below (connection, I/O, bad files).
    pub const FAILURE: i32 = 1;
    /// Bad command line or configuration.
    pub const USAGE: i32 = 2;
    /// Lint findings at or above the failing level.
    pub const LINT: i32 = 3;
    /// Drift found between the migrations and the target.
    pub const DRIFT: i32 = 4;
    /// Gave up waiting for another run's migration lock.
    pub const LOCK_WAIT: i32 = 5;
    /// A migration failed and was rolled back.
    pub const MIGRATION_FAILED: i32 = 6;
    /// Push or rollback refused before doing anything (changed, missing or out-of-order files;
    /// a missing or irreversible rollback file).
    pub const REFUSED: i32 = 7;
    /// The migrations failed on a scratch database (`strata diff`, `lint --schema`); the target
    /// was not touched.
    pub const SCRATCH_BUILD: i32 = 8;
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
    pub lock_holders: Vec<crate::lock::LockHolder>,
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
