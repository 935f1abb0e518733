//! Crash points for tests: `STRATA_FAILPOINT=<name>` makes the process abort at the point of
//! that name, as `kill -9` would stop it there (no destructor runs, no lock is released but by
//! the server when the connection drops, no file is cleaned up). The tests of what a command
//! leaves after a crash use them (`tests/squash.rs`); a point costs one environment lookup.

/// The environment variable naming the point to crash at.
pub(crate) const VAR: &str = "STRATA_FAILPOINT";

/// Aborts the process when `STRATA_FAILPOINT` is `name`.
pub(crate) fn hit(name: &str) {
    if std::env::var_os(VAR).is_some_and(|v| v == name) {
        std::process::abort();
    }
}
