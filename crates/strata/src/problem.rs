//! The facts that refusals and failures carry: why a push or a rollback refuses ([`Problem`],
//! [`RollbackProblem`]), the state of a version ([`State`]), and who holds a lock Strata waited
//! for ([`LockHolder`]). A leaf module: [`crate::error::Error`] names these types, and the
//! modules that produce them (`plan`, `rollback`, `lock`, which re-export them) depend on the
//! error type, so they live here rather than there, and nothing here depends back.

use std::path::PathBuf;

use serde::Serialize;

use crate::source::version::Version;

/// The state of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied, and the local file is unchanged.
    Applied,
    /// Not applied yet; will be applied in order.
    Pending,
    /// Applied, but the local file has changed since.
    Modified,
    /// Applied on the target, but there is no local file.
    MissingLocally,
    /// Not applied, and older than the newest applied version.
    OutOfOrder,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Modified => "modified",
            State::MissingLocally => "missing locally",
            State::OutOfOrder => "out of order",
        }
    }
}

/// Why a push refuses to run.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub kind: State,
    pub version: Version,
    pub file: Option<PathBuf>,
    pub message: String,
    /// The command or action that fixes it.
    pub fix: Option<String>,
    /// For a modified file: what changed (unified diff of recorded vs local statements).
    pub diff: Option<String>,
}

/// Why a migration cannot be rolled back; a rollback with any problem changes nothing.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackProblem {
    pub version: String,
    /// The file at fault or expected (rollback file, or migration file).
    pub file: Option<PathBuf>,
    pub message: String,
    /// What to do about it.
    pub fix: Option<String>,
}

/// A session that holds (or held) a lock Strata needed.
#[derive(Debug, Clone, Serialize)]
pub struct LockHolder {
    pub pid: i32,
    pub user: Option<String>,
    pub application_name: Option<String>,
    pub client: Option<String>,
    pub state: Option<String>,
    /// Seconds since its transaction (or, without one, its session) began.
    pub seconds: Option<i64>,
    /// The relations it holds locks on (for lock timeouts).
    pub relations: Option<String>,
    /// Its current or last query, shortened.
    pub query: Option<String>,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if let Some(u) = &self.user {
            write!(f, " user {u}")?;
        }
        if let Some(a) = self.application_name.as_deref().filter(|a| !a.is_empty()) {
            write!(f, " app {a}")?;
        }
        if let Some(c) = &self.client {
            write!(f, " from {c}")?;
        }
        if let Some(s) = &self.state {
            write!(f, " ({s}")?;
            if let Some(secs) = self.seconds {
                write!(f, " for {secs}s")?;
            }
            write!(f, ")")?;
        }
        if let Some(r) = &self.relations {
            write!(f, " holding {r}")?;
        }
        if let Some(q) = &self.query {
            write!(f, ": {q}")?;
        }
        Ok(())
    }
}
