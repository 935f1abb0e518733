//! How a command fails, as the command line shows it: the library's [`strata::Error`] or a
//! push the lint gate refused; each with its exit code (docs/exit-codes.md) and its JSON
//! (`error` of the envelope, docs/json-output.md). The library only describes errors; showing
//! them is this module's and `render`'s job.

use std::fmt;

use serde_json::{json, Value};
use strata::Error;
use strata_lint::{Finding, Level};

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
    /// `push --fleet`: some databases failed (or were skipped after a failure); the others are
    /// pushed. The report names each.
    pub const FLEET_PARTIAL: i32 = 9;
}

/// A command's failure.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The library failed.
    Strata(Error),
    /// `strata push` refused: lint found problems at or above the failing level in the pending
    /// migrations of a live target ([`strata_lint::gate::Decision::Blocked`]).
    Lint {
        findings: Vec<Finding>,
        fail_on: Level,
    },
    /// `push --fleet`: some databases failed or were skipped; `details` holds every database's
    /// outcome (`targets`), the others were pushed.
    Fleet { message: String, details: Value },
    /// `push --fleet` without `--keep-going`: the push gate held back a live database, so no
    /// database was pushed (exit 3); `details` names each.
    FleetHeldBack { message: String, details: Value },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Strata(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Strata(e) => e.fmt(f),
            Failure::Lint { findings, fail_on } => write!(
                f,
                "lint found {} problem(s) at or above {} in the pending migrations; nothing was changed",
                findings.len(),
                fail_on.as_str()
            ),
            Failure::Fleet { message, .. } | Failure::FleetHeldBack { message, .. } => {
                f.write_str(message)
            }
        }
    }
}

impl Failure {
    /// What the user can do about it.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Failure::Strata(e) => e.hint(),
            Failure::Lint { .. } => Some(
                "fix the migrations (each finding says how), silence a finding with `-- strata-lint: ignore <rule> <reason>`, or push with --no-lint".into(),
            ),
            Failure::Fleet { .. } => Some(
                "fix what each failed database reports and run the same push again: every database's history says what is left".into(),
            ),
            Failure::FleetHeldBack { .. } => Some(
                "fix the migrations (each finding says how), or push the others with --keep-going (the held-back databases then fail with kind `lint`)".into(),
            ),
        }
    }

    /// The process exit code (docs/exit-codes.md).
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            Failure::Strata(e) => strata_exit_code(e),
            Failure::Lint { .. } => exit_code::LINT,
            Failure::Fleet { .. } => exit_code::FLEET_PARTIAL,
            Failure::FleetHeldBack { .. } => exit_code::LINT,
        }
    }

    /// The `error` object of the JSON envelope; never contains secrets.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Failure::Strata(e) => error_json(e),
            Failure::Lint { findings, fail_on } => json!({
                "kind": "lint",
                "message": self.to_string(),
                "hint": self.hint(),
                "details": { "fail_on": fail_on, "findings": findings },
            }),
            Failure::Fleet { details, .. } => json!({
                "kind": "fleet",
                "message": self.to_string(),
                "hint": self.hint(),
                "details": details,
            }),
            Failure::FleetHeldBack { details, .. } => json!({
                "kind": "lint",
                "message": self.to_string(),
                "hint": self.hint(),
                "details": details,
            }),
        }
    }
}

/// The exit code of a library error.
fn strata_exit_code(e: &Error) -> i32 {
    match e {
        Error::LockWait { .. } => exit_code::LOCK_WAIT,
        Error::Lint { .. } => exit_code::LINT,
        Error::Refused { .. }
        | Error::SquashRefused { .. }
        | Error::RollbackRefused { .. }
        | Error::ConfirmationRequired { .. }
        | Error::Unproven { .. }
        | Error::ToolHistory { .. } => exit_code::REFUSED,
        Error::Migration(_) => exit_code::MIGRATION_FAILED,
        Error::Config { .. } | Error::Setting { .. } => exit_code::USAGE,
        Error::ScratchBuild { .. } => exit_code::SCRATCH_BUILD,
        _ => exit_code::FAILURE,
    }
}

/// A library error as JSON: `kind`, `message`, `hint`, and `details` with the facts it carries
/// (file, line, SQLSTATE, setting …). Also `error_details` of `strata verify`'s report.
pub(crate) fn error_json(e: &Error) -> Value {
    let mut v = json!({
        "kind": e.kind(),
        "message": e.to_string(),
        "hint": e.hint(),
    });
    let details = match e {
        Error::Migration(m) => serde_json::to_value(m).ok(),
        Error::Refused { problems } => Some(json!({ "problems": problems })),
        Error::RollbackRefused { problems } => Some(json!({ "problems": problems })),
        Error::SquashRefused { target, problems } => {
            Some(json!({ "target": target, "problems": problems }))
        }
        Error::Lint { findings, .. } => Some(json!({ "findings": findings })),
        Error::LockWait {
            holders, waited, ..
        } => Some(json!({ "holders": holders, "waited_ms": waited.as_millis() as u64 })),
        Error::Scan {
            path, line, column, ..
        } => Some(json!({ "file": path, "line": line, "column": column })),
        Error::Config {
            path, line, column, ..
        } => Some(json!({ "file": path, "line": line, "column": column })),
        Error::SourceFile { path, .. } => Some(json!({ "file": path })),
        Error::Setting { setting, .. } => Some(json!({ "setting": setting })),
        Error::Tool { tool, .. } => Some(json!({ "tool": tool })),
        Error::Unproven { details, .. } => Some(json!({ "differences": details })),
        Error::Database { code, .. } => Some(json!({ "sqlstate": code })),
        Error::ToolHistory { table, .. } => Some(json!({ "table": table })),
        Error::ScratchBuild {
            purpose,
            database,
            error,
        } => Some(json!({
            "purpose": purpose,
            "scratch_database": database,
            "target_touched": false,
            "error": error_json(error),
        })),
        _ => None,
    };
    if let (Some(details), Some(obj)) = (details, v.as_object_mut()) {
        obj.insert("details".into(), details);
    }
    v
}
