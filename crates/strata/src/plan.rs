//! The plan: local migrations compared with the target's history — the state of every version,
//! what a push would apply, and what it must refuse.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::history::History;
use crate::source::{MigrationSet, Version};

pub use crate::problem::{Problem, State};

/// One version, local and/or remote.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub version: Version,
    pub name: Option<String>,
    /// The local file, when there is one.
    pub file: Option<PathBuf>,
    pub state: State,
    /// When Strata applied it (absent when applied by another tool, or not applied).
    pub applied_at: Option<crate::history::Timestamp>,
    pub applied_by: Option<String>,
    pub duration_ms: Option<i64>,
    /// Whether a `_rollback.sql` sibling exists.
    pub has_rollback: bool,
    /// Whether the applied file could be verified (checksum or recorded statements).
    pub verified: bool,
    /// Where the applied row comes from when another tool applied it (`dbmate
    /// (public.schema_migrations)`); `None` for Strata's and the Supabase CLI's own rows.
    pub source: Option<String>,
    /// Read from the other tool's history and not yet copied into Strata's (a push copies it).
    pub adopted: bool,
}

/// Options that change what counts as a problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Apply pending files older than the newest applied version (`--include-all`).
    pub include_all: bool,
}

/// Local migrations against the target's history.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Every version, local and remote, in version order.
    pub rows: Vec<Row>,
    /// Indexes into the migration set of what a push applies, in order.
    #[serde(skip)]
    pub pending: Vec<usize>,
    /// What stops a push.
    pub problems: Vec<Problem>,
}

/// Whether pushing `set` onto `history` would do nothing and refuse nothing, judged by
/// checksums alone: every local migration applied with a recorded checksum equal to its own,
/// and every applied version present locally. Cheaper than [`Plan::build`]; `false` whenever it
/// cannot tell (a version recorded only by the Supabase CLI, compared by statements).
pub fn is_clean_noop(set: &MigrationSet, history: &History) -> bool {
    if set.migrations.len() != history.applied.len() {
        return false;
    }
    // Both sides are usually in the same (numeric) order: compare pairwise, without a map.
    let same_slot = |a: &Version, b: &Version| a.groups().eq(b.groups());
    if set
        .migrations
        .iter()
        .zip(&history.applied)
        .all(|(m, a)| same_slot(&m.version, &a.version))
    {
        return set
            .migrations
            .iter()
            .zip(&history.applied)
            .all(|(m, a)| a.checksum.as_deref() == Some(m.checksum.as_str()));
    }
    let applied: HashMap<String, Option<&str>> = history
        .applied
        .iter()
        .map(|a| (a.version.key(), a.checksum.as_deref()))
        .collect();
    applied.len() == set.migrations.len()
        && set
            .migrations
            .iter()
            .all(|m| applied.get(&m.version.key()) == Some(&Some(m.checksum.as_str())))
}

/// How an applied row compares with a local file whose checksum is `checksum`: a row Strata
/// wrote is compared by checksum; a row only the Supabase CLI wrote by its recorded statements
/// (`same_statements` says whether they are the file's). Returns the state ([`State::Applied`]
/// or [`State::Modified`]) and whether it could be verified at all (a row with neither is taken
/// as applied, unverified). The one comparison of applied files: [`Plan::build`] and
/// `migration squash` use it.
pub fn applied_state(
    applied: &crate::history::AppliedMigration,
    checksum: &str,
    same_statements: impl FnOnce(&[String]) -> bool,
) -> (State, bool) {
    match (&applied.checksum, &applied.statements) {
        (Some(c), _) => (
            if c == checksum {
                State::Applied
            } else {
                State::Modified
            },
            true,
        ),
        (None, Some(recorded)) => (
            if same_statements(recorded) {
                State::Applied
            } else {
                State::Modified
            },
            true,
        ),
        (None, None) => (State::Applied, false),
    }
}

impl Plan {
    /// Compares `set` with `history`. Files recorded with a Strata checksum are compared by
    /// checksum; versions recorded only by the Supabase CLI are compared statement by statement.
    pub fn build(set: &MigrationSet, history: &History, options: PlanOptions) -> Plan {
        // Keyed by the version without leading zeros: `001` and `1` are the same slot.
        let applied: HashMap<String, &crate::history::AppliedMigration> = history
            .applied
            .iter()
            .map(|a| (a.version.key(), a))
            .collect();
        // The newest applied version in the set's order (numeric, or the Supabase CLI's text
        // order when `version_order = "text"`).
        let order = set.order;
        let newest = history
            .applied
            .iter()
            .map(|a| &a.version)
            .max_by(|a, b| order.cmp(a, b));
        let mut rows = Vec::new();
        let mut pending = Vec::new();
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();

        for (i, m) in set.migrations.iter().enumerate() {
            let remote = applied.get(&m.version.key()).copied();
            let (state, verified) = match remote {
                Some(a) => {
                    seen.insert(a.version.clone());
                    applied_state(a, &m.checksum, |recorded| {
                        // A file that no longer splits has certainly changed.
                        m.statement_texts().is_ok_and(|local| local == recorded)
                    })
                }
                None => match newest {
                    Some(n) if order.cmp(&m.version, n).is_lt() && !options.include_all => {
                        (State::OutOfOrder, false)
                    }
                    _ => (State::Pending, false),
                },
            };
            match state {
                State::Pending => pending.push(i),
                State::OutOfOrder => problems.push(Problem {
                    kind: state,
                    version: m.version.clone(),
                    file: Some(m.path.clone()),
                    message: format!(
                        "{} is not applied but is older than the newest applied version {}",
                        m.file_name(),
                        newest.map(Version::as_str).unwrap_or_default()
                    ),
                    fix: Some(format!(
                        "apply it anyway with `strata push --include-all`, or rename it to a version newer than {}",
                        newest.map(Version::as_str).unwrap_or_default()
                    )),
                    diff: None,
                }),
                State::Modified => problems.push(Problem {
                    kind: state,
                    version: m.version.clone(),
                    file: Some(m.path.clone()),
                    message: format!("{} was changed after it was applied", m.file_name()),
                    fix: Some(format!(
                        "restore the applied version of {} (e.g. `git checkout -- {}`) and put the change in a new migration; \
                         or, if the database already matches the file, record it with `strata migration repair --status applied {}`",
                        m.file_name(),
                        m.path.display(),
                        m.version
                    )),
                    diff: None,
                }),
                _ => {}
            }
            let remote_row = remote;
            rows.push(Row {
                version: m.version.clone(),
                name: Some(m.name.clone()),
                file: Some(m.path.clone()),
                state,
                applied_at: remote_row.and_then(|a| a.applied_at),
                applied_by: remote_row.and_then(|a| a.applied_by.clone()),
                duration_ms: remote_row.and_then(|a| a.duration_ms),
                has_rollback: m.rollback.is_some(),
                verified,
                source: remote_row.and_then(|a| a.source.clone()),
                adopted: remote_row.is_some_and(|a| a.adopted),
            });
        }
        for a in &history.applied {
            if seen.contains(&a.version) {
                continue;
            }
            problems.push(Problem {
                kind: State::MissingLocally,
                version: a.version.clone(),
                file: None,
                message: format!(
                    "version {}{} is applied on the target but has no local file",
                    a.version,
                    a.name
                        .as_deref()
                        .filter(|n| !n.is_empty())
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ),
                fix: Some(match &a.source {
                    // Recorded only in another tool's history: Strata's repair does not write
                    // there.
                    Some(source) if a.adopted => format!(
                        "restore its file (e.g. from git history), or, if it should not count as applied, delete its row from {source}, the other tool's history (Strata never writes there)"
                    ),
                    _ => format!(
                        "restore its file (e.g. from git history), or, if it should not count as applied, \
                         `strata migration repair --status reverted {}`",
                        a.version
                    ),
                }),
                diff: None,
            });
            rows.push(Row {
                version: a.version.clone(),
                name: a.name.clone(),
                file: None,
                state: State::MissingLocally,
                applied_at: a.applied_at,
                applied_by: a.applied_by.clone(),
                duration_ms: a.duration_ms,
                has_rollback: false,
                verified: false,
                source: a.source.clone(),
                adopted: a.adopted,
            });
        }
        rows.sort_by(|a, b| order.cmp(&a.version, &b.version));
        problems.sort_by(|a, b| order.cmp(&a.version, &b.version));
        Plan {
            rows,
            pending,
            problems,
        }
    }

    /// Versions whose files changed, for fetching their recorded statements.
    pub fn modified_versions(&self) -> Vec<String> {
        self.problems
            .iter()
            .filter(|p| p.kind == State::Modified)
            .map(|p| p.version.to_string())
            .collect()
    }

    /// Adds a short diff (recorded statements → local statements) to each modified problem.
    pub fn attach_diffs(&mut self, set: &MigrationSet, recorded: &HashMap<String, Vec<String>>) {
        for p in self
            .problems
            .iter_mut()
            .filter(|p| p.kind == State::Modified)
        {
            let (Some(m), Some(old)) = (set.get(&p.version), recorded.get(p.version.as_str()))
            else {
                continue;
            };
            let new = match m.statement_texts() {
                Ok(s) => s.join(";\n") + ";\n",
                Err(_) => m.sql.clone(),
            };
            let old = old.join(";\n") + ";\n";
            p.diff = Some(short_diff(&old, &new, 40));
        }
    }
}

/// A unified diff shortened to at most `max_lines` lines.
pub fn short_diff(old: &str, new: &str, max_lines: usize) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header("applied", "local file")
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= max_lines {
        text
    } else {
        let mut out = lines[..max_lines].join("\n");
        out.push_str(&format!("\n… {} more line(s)\n", lines.len() - max_lines));
        out
    }
}
