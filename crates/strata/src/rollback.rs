//! Undoing migrations: `rollback`.
//!
//! A migration is undone by running its rollback file (`<version>_<name>_rollback.sql`)
//! together with the removal of its history rows, by the same rules as a push
//! ([`crate::apply`]): a transactional rollback file and the history removal are **one**
//! simple-query round trip (one implicit transaction: undone and forgotten, or neither); a file's
//! own `BEGIN;`/`COMMIT;` are blanked; a file holding statements that cannot run in a
//! transaction runs statement by statement with the history removal last; the session is reset
//! before each file; a failure is reported at the rollback file's line and column.
//!
//! [`Rollbacker`] is the command: the newest applied migrations first (`--last N`, or every
//! one newer than `--to VERSION`), under the same advisory lock as push, with the history re-read
//! under the lock. Before anything runs it checks every migration to undo: a missing local
//! file, a missing rollback file, a rollback file marked `-- strata:irreversible`, or a file
//! changed since it was applied stops the whole rollback, naming each. There is no implicit
//! wipe: nothing rolls back unless selected by count or by an applied version.
//!
//! [`revert`] undoes one migration on a connection, for callers such as `verify`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_postgres::Client;

use crate::apply::{execute, Conn, Event, Observer, Step};
use crate::error::Error;
use crate::history::{self, AppliedMigration, History};
use crate::lock;
use crate::session::Session;
use crate::source::{Migration, MigrationSet, RollbackFile, Version};
use crate::target::Target;

/// The comment by which a rollback file says its migration cannot be undone (it destroyed
/// data); `rollback` refuses it, and `verify` skips it.
pub const IRREVERSIBLE_MARKER: &str = "-- strata:irreversible";

/// Whether a rollback file declares its migration irreversible (a line that is
/// [`IRREVERSIBLE_MARKER`], ignoring case and surrounding blanks, optionally followed by a
/// reason: `-- strata:irreversible: drops the old prices`).
pub fn is_irreversible(rollback: &RollbackFile) -> bool {
    irreversible_reason(rollback).is_some()
}

/// `Some(reason)` when the rollback file declares its migration irreversible; the reason is
/// the text after the marker (`None` when there is none).
pub fn irreversible_reason(rollback: &RollbackFile) -> Option<Option<String>> {
    rollback.sql.lines().find_map(|line| {
        let line = line.trim();
        let head = line.get(..IRREVERSIBLE_MARKER.len())?;
        if !head.eq_ignore_ascii_case(IRREVERSIBLE_MARKER) {
            return None;
        }
        let rest = &line[IRREVERSIBLE_MARKER.len()..];
        if !(rest.is_empty() || rest.starts_with([' ', '\t', ':'])) {
            return None;
        }
        let reason = rest.trim_start_matches(':').trim();
        Some((!reason.is_empty()).then(|| reason.to_string()))
    })
}

/// Which applied migrations to undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The newest `n` applied migrations (`--last N`).
    Last(usize),
    /// Every applied migration newer than this applied version (`--to VERSION`).
    To(Version),
}

/// How a rollback runs.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    pub selection: Selection,
    /// Print the SQL that would run; change nothing and take no lock.
    pub dry_run: bool,
    /// How long to wait for another run's lock.
    pub lock_wait: Duration,
    /// Where the project keeps rollback files apart from the migrations (`rollbacks_dir`), so
    /// a missing one is expected there; `None`: `rollbacks/` beside the migrations directory
    /// when it exists, else beside each migration.
    pub rollbacks_dir: Option<PathBuf>,
}

impl Default for RollbackOptions {
    fn default() -> Self {
        RollbackOptions {
            selection: Selection::Last(1),
            dry_run: false,
            lock_wait: Duration::from_secs(60),
            rollbacks_dir: None,
        }
    }
}

/// A migration that was rolled back (`file` is the rollback file that ran).
pub type RevertedReport = crate::apply::AppliedReport;

/// A migration a dry run would roll back, with the exact SQL (`file` is the rollback file).
pub type PlannedRevert = crate::apply::PlannedMigration;

/// The result of a rollback.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// The target, password redacted.
    pub target: String,
    pub dry_run: bool,
    /// Migrations rolled back by this run, newest first.
    pub reverted: Vec<RevertedReport>,
    /// For a dry run: what would be rolled back, newest first.
    pub planned: Vec<PlannedRevert>,
    /// The newest applied version after this run (for a dry run: after it would run); `None`
    /// when nothing stays applied.
    pub newest_applied: Option<String>,
    /// Milliseconds spent waiting for another run's lock.
    pub lock_waited_ms: u64,
}

pub use crate::problem::RollbackProblem;

/// Rolls back applied migrations with their rollback files. Cheap to build; holds the set.
pub struct Rollbacker {
    set: MigrationSet,
    options: RollbackOptions,
    observer: Option<Arc<dyn Observer>>,
}

impl Rollbacker {
    pub fn new(set: MigrationSet) -> Self {
        Rollbacker {
            set,
            options: RollbackOptions::default(),
            observer: None,
        }
    }

    pub fn with_options(mut self, options: RollbackOptions) -> Self {
        self.options = options;
        self
    }

    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    fn emit(&self, event: Event<'_>) {
        self.emit_ref(&event);
    }

    fn emit_ref(&self, event: &Event<'_>) {
        if let Some(o) = &self.observer {
            o.event(event);
        }
    }

    /// Connects to `target` and rolls back.
    pub async fn rollback(&self, target: &Target) -> Result<RollbackReport, Error> {
        let mut session = target.session().await?;
        self.rollback_connected(&mut session, target).await
    }

    /// Rolls back on a session of `target`.
    pub async fn rollback_connected(
        &self,
        session: &mut Session,
        target: &Target,
    ) -> Result<RollbackReport, Error> {
        let name = target.display();
        let mut report = RollbackReport {
            target: name.clone(),
            dry_run: self.options.dry_run,
            reverted: Vec::new(),
            planned: Vec::new(),
            newest_applied: None,
            lock_waited_ms: 0,
        };
        // Check before the lock: a refused rollback should not wait for anyone.
        let mut history = History::read(&**session).await?;
        let tool = crate::adopt::adopt_into(&**session, &self.set, &mut history).await?;
        history.sort(self.set.order);
        let chosen = self.select(&history, tool.as_ref())?;
        if self.options.dry_run {
            let steps = self.prepare(&chosen)?;
            report.planned = steps
                .iter()
                .map(|(m, rollback, step)| PlannedRevert {
                    version: m.version.to_string(),
                    name: m.name.clone(),
                    file: rollback.path.clone(),
                    transactional: step.transactional(),
                    no_transaction_reason: step.no_transaction_reason().map(str::to_string),
                    sql: step.round_trips(&history::remove_sql(&m.version, history.side_table)),
                })
                .collect();
            report.newest_applied = newest_after(&history, chosen.len());
            return Ok(report);
        }
        if chosen.is_empty() {
            report.newest_applied = newest_after(&history, 0);
            return Ok(report);
        }
        let acquired = lock::acquire(session, self.options.lock_wait, &name, |holders| {
            self.emit(Event::LockWaiting { holders })
        })
        .await?;
        report.lock_waited_ms = acquired.waited.as_millis() as u64;
        self.emit(Event::LockAcquired {
            waited: acquired.waited,
        });
        let watch = Some((target, acquired.backend_pid));
        let result = self
            .rollback_locked(&mut Conn::Session(session), watch, &mut report)
            .await;
        let released = lock::release(session).await;
        result?;
        released?;
        Ok(report)
    }

    async fn rollback_locked(
        &self,
        conn: &mut Conn<'_>,
        watch: Option<(&Target, i32)>,
        report: &mut RollbackReport,
    ) -> Result<(), Error> {
        // Another run may have pushed or rolled back while we waited: choose again under the lock.
        let mut history = History::read(conn.client()).await?;
        let tool = crate::adopt::adopt_into(conn.client(), &self.set, &mut history).await?;
        history.sort(self.set.order);
        let chosen = self.select(&history, tool.as_ref())?;
        let steps = self.prepare(&chosen)?;
        let total = steps.len();
        for (index, (m, rollback, step)) in steps.iter().enumerate() {
            self.emit(Event::Reverting {
                index,
                total,
                migration: m,
                transactional: step.transactional(),
            });
            let start = Instant::now();
            let emit = |e: &Event<'_>| self.emit_ref(e);
            let tool_sql = self
                .set
                .record_in_tool_history
                .then(|| crate::adopt::remove_sql(&self.set, m))
                .flatten();
            let ran = run_revert(
                conn,
                watch,
                step,
                &m.version,
                history.side_table,
                tool_sql.as_deref(),
                &emit,
            )
            .await?;
            let duration = start.elapsed();
            self.emit(Event::Reverted {
                index,
                total,
                migration: m,
                duration,
                transactional: step.transactional(),
            });
            report
                .reverted
                .push(reverted_report(m, rollback, step, duration, ran));
        }
        report.newest_applied = newest_after(&history, total);
        Ok(())
    }

    /// The applied migrations the selection names, newest first, checked: every one must exist
    /// locally, unchanged, with a rollback file that does not declare itself irreversible.
    fn select<'h>(
        &self,
        history: &'h History,
        tool: Option<&crate::adopt::ToolHistory>,
    ) -> Result<Vec<&'h AppliedMigration>, Error> {
        let applied = &history.applied;
        let chosen: Vec<&AppliedMigration> = match &self.options.selection {
            Selection::Last(n) => applied.iter().rev().take(*n).collect(),
            Selection::To(version) => {
                if !applied.iter().any(|a| &a.version == version) {
                    return Err(Error::Setting {
                        setting: "--to".into(),
                        message: format!(
                            "version {version} is not applied on the target, so there is nothing to roll back to"
                        ),
                        hint: Some(match history.newest() {
                            Some(newest) => format!(
                                "pass an applied version (newest applied: {newest}); `strata migration list` shows them"
                            ),
                            None => "nothing is applied on the target".into(),
                        }),
                    });
                }
                applied
                    .iter()
                    .rev()
                    .take_while(|a| self.set.order.cmp(&a.version, version).is_gt())
                    .collect()
            }
        };
        let mut problems = Vec::new();
        for a in &chosen {
            let v = a.version.to_string();
            // Still in the other tool's table: Strata would count it applied again on the next
            // read, unless it also removes it there (`record_in_tool_history`).
            let in_tool =
                tool.filter(|t| t.applied.iter().any(|x| x.version.key() == a.version.key()));
            if let (Some(t), false) = (in_tool, self.set.record_in_tool_history) {
                problems.push(RollbackProblem {
                    version: v.clone(),
                    file: None,
                    message: format!(
                        "version {v} is recorded as applied in {}, which Strata does not write by default: after a rollback it would still count as applied",
                        t.source()
                    ),
                    fix: Some(format!(
                        "roll it back with {} itself, or set record_in_tool_history = true in strata.toml so that Strata keeps {} up to date (docs/switching/{}.md)",
                        t.tool, t.table, t.tool
                    )),
                });
                continue;
            }
            let Some(m) = self.set.get(&a.version) else {
                problems.push(RollbackProblem {
                    version: v.clone(),
                    file: None,
                    message: format!(
                        "applied version {v}{} has no local migration file, so no rollback file either",
                        a.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
                    ),
                    fix: Some(format!(
                        "restore the migration and its rollback file from version control, or undo it by hand and run `strata migration repair --status reverted {v}`"
                    )),
                });
                continue;
            };
            match &m.rollback {
                None => {
                    let expected = self.expected_rollback(m);
                    problems.push(RollbackProblem {
                        version: v.clone(),
                        file: Some(expected.clone()),
                        message: format!(
                            "{} has no rollback file (expected {})",
                            m.file_name(),
                            expected.display()
                        ),
                        fix: Some(format!(
                            "write {} with the SQL that undoes the migration",
                            expected.display()
                        )),
                    });
                }
                Some(r) if is_irreversible(r) => problems.push(RollbackProblem {
                    version: v.clone(),
                    file: Some(r.path.clone()),
                    message: format!(
                        "{} declares migration {v} irreversible (`{IRREVERSIBLE_MARKER}`): undoing it cannot bring back what it destroyed",
                        r.path.display()
                    ),
                    fix: Some(
                        "restore a backup taken before it (`strata restore FILE`; `strata push --backup` takes one), or write a new forward migration"
                            .into(),
                    ),
                }),
                Some(_) => {}
            }
            if let Some(recorded) = a.checksum.as_deref() {
                if recorded != m.checksum {
                    problems.push(RollbackProblem {
                        version: v.clone(),
                        file: Some(m.path.clone()),
                        message: format!(
                            "{} changed since it was applied: its rollback file may not undo what actually ran",
                            m.path.display()
                        ),
                        fix: Some(
                            "restore the applied version of the file from version control (see `strata migration list`), then roll back"
                                .into(),
                        ),
                    });
                }
            }
        }
        if problems.is_empty() {
            Ok(chosen)
        } else {
            Err(Error::RollbackRefused { problems })
        }
    }

    /// Where a missing rollback file of `m` is expected.
    fn expected_rollback(&self, m: &Migration) -> PathBuf {
        let name = format!("{}_{}_rollback.sql", m.version, m.name);
        match self
            .options
            .rollbacks_dir
            .clone()
            .or_else(|| self.set.rollbacks_dir.clone())
        {
            Some(dir) => dir.join(name),
            None => m.path.with_file_name(name),
        }
    }

    /// Splits and classifies every rollback file before anything runs.
    fn prepare<'s>(
        &'s self,
        chosen: &[&AppliedMigration],
    ) -> Result<Vec<(&'s Migration, &'s RollbackFile, Step<'s>)>, Error> {
        chosen
            .iter()
            .map(|a| {
                // `select` checked both exist.
                let m = self
                    .set
                    .get(&a.version)
                    .ok_or_else(|| missing(&a.version))?;
                let r = m.rollback.as_ref().ok_or_else(|| missing(&a.version))?;
                let step = Step::for_rollback_file(m, r)?;
                Ok((m, r, step))
            })
            .collect()
    }
}

fn missing(v: &Version) -> Error {
    Error::setting(
        "rollback",
        format!("migration {v} or its rollback file disappeared"),
    )
}

fn newest_after(history: &History, reverted: usize) -> Option<String> {
    let n = history.applied.len().saturating_sub(reverted);
    history.applied[..n].last().map(|a| a.version.to_string())
}

fn reverted_report(
    m: &Migration,
    rollback: &RollbackFile,
    step: &Step<'_>,
    duration: Duration,
    ran: crate::apply::Executed,
) -> RevertedReport {
    RevertedReport {
        version: m.version.to_string(),
        name: m.name.clone(),
        file: rollback.path.clone(),
        duration_ms: duration.as_millis() as u64,
        transactional: ran.no_transaction_reason.is_none(),
        no_transaction_reason: ran.no_transaction_reason,
        statements: step.statement_count(),
        notices: ran.notices,
    }
}

async fn run_revert(
    conn: &mut Conn<'_>,
    watch: Option<(&Target, i32)>,
    step: &Step<'_>,
    version: &Version,
    side_table: bool,
    tool_sql: Option<&str>,
    emit: &(dyn Fn(&Event<'_>) + Sync),
) -> Result<crate::apply::Executed, Error> {
    let mut remove = history::remove_sql(version, side_table);
    if let Some(t) = tool_sql {
        remove.push('\n');
        remove.push_str(t);
    }
    execute(
        conn,
        watch,
        step,
        &remove,
        "removing it from the history",
        emit,
    )
    .await
}

/// Rolls back one applied migration on `client`: runs `rollback` and removes the migration's
/// history rows (both tables), in one transaction when the file allows it, with push's
/// execution rules and error reporting (a failure is an [`Error::Migration`] at the rollback
/// file's line and column, and leaves the migration applied). Takes no lock: callers that may
/// race with pushes hold [`crate::lock`] themselves.
///
/// Refuses a migration that is not applied on the target, and a rollback file marked
/// [`IRREVERSIBLE_MARKER`].
pub async fn revert(
    client: &mut Client,
    migration: &Migration,
    rollback: &RollbackFile,
) -> Result<RevertedReport, Error> {
    if is_irreversible(rollback) {
        return Err(Error::RollbackRefused {
            problems: vec![RollbackProblem {
                version: migration.version.to_string(),
                file: Some(rollback.path.clone()),
                message: format!(
                    "{} declares migration {} irreversible (`{IRREVERSIBLE_MARKER}`)",
                    rollback.path.display(),
                    migration.version
                ),
                fix: Some("restore a backup taken before it (`strata restore FILE`)".into()),
            }],
        });
    }
    let history = History::read(&*client).await?;
    if !history
        .applied
        .iter()
        .any(|a| a.version == migration.version)
    {
        return Err(Error::setting(
            "rollback",
            format!(
                "migration {} is not applied, so it cannot be rolled back",
                migration.version
            ),
        ));
    }
    let step = Step::for_rollback_file(migration, rollback)?;
    let start = Instant::now();
    let ran = run_revert(
        &mut Conn::Client(client),
        None,
        &step,
        &migration.version,
        history.side_table,
        None,
        &|_| {},
    )
    .await?;
    Ok(reverted_report(
        migration,
        rollback,
        &step,
        start.elapsed(),
        ran,
    ))
}

#[cfg(test)]
mod irreversible_marker_tests {
    use super::irreversible_reason;
    use crate::source::RollbackFile;

    fn file(sql: &str) -> RollbackFile {
        RollbackFile {
            path: "1_x_rollback.sql".into(),
            sql: sql.into(),
        }
    }

    #[test]
    fn the_irreversible_marker_is_a_comment_line_with_an_optional_reason() {
        assert_eq!(
            irreversible_reason(&file("-- strata:irreversible\nselect 1;")),
            Some(None)
        );
        assert_eq!(
            irreversible_reason(&file("  -- STRATA:irreversible: drops user data\n")),
            Some(Some("drops user data".into()))
        );
        assert_eq!(
            irreversible_reason(&file("-- strata:irreversible deletes rows")),
            Some(Some("deletes rows".into()))
        );
        assert_eq!(
            irreversible_reason(&file("-- strata:irreversibles\n")),
            None
        );
        assert_eq!(
            irreversible_reason(&file("select '-- strata:irreversible';")),
            None
        );
    }
}
