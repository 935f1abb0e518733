//! Applying a plan: `push`.
//!
//! Invariants:
//! - one session-level advisory lock per run ([`crate::lock`]); the history is re-read under it,
//!   so concurrent pushes apply each migration once;
//! - a transactional migration and its history rows are sent as **one** multi-statement query:
//!   PostgreSQL runs it as one implicit transaction, so the migration is fully applied and
//!   recorded, or not at all — and it costs one round trip, not one per statement;
//! - a file's own `BEGIN;`/`COMMIT;` are blanked out (replaced by spaces, so error positions
//!   still map to the file) and its statements join that transaction with the history rows;
//! - a migration that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`, …, or
//!   marked `-- strata:no-transaction`) runs statement by statement with its history row last;
//! - `RESET ALL` before every migration, so one migration's `SET` does not leak into the next;
//! - a dry run reads and prints; it writes nothing, not even the history tables.
//!
//! [`crate::rollback`] runs rollback files through the same `Step`, with the removal of the
//! history rows in place of their insertion.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{pin_mut, TryStreamExt};
use serde::Serialize;
use tokio_postgres::error::{ErrorPosition, SqlState};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::{Error, MigrationError};
use crate::history::{self, History};
use crate::lock::{self, LockHolder};
use crate::plan::{Plan, PlanOptions};
use crate::platform::{self, Platform, PlatformReport};
use crate::session::{Notice, Session};
use crate::source::{Migration, MigrationSet, RollbackFile};
use crate::sql::transaction::{self, FileMode};
use crate::sql::{LineIndex, Statement};
use crate::target::Target;

/// The comment that makes a migration run outside a transaction (other tools' markers work too:
/// [`crate::sql::transaction::no_transaction_marker`]).
pub const NO_TRANSACTION_MARKER: &str = transaction::STRATA_MARKER;

/// What a push should do besides applying pending migrations.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Print what would run; change nothing.
    pub dry_run: bool,
    /// Apply pending files older than the newest applied version.
    pub include_all: bool,
    /// How long to wait for another run's lock.
    pub lock_wait: Duration,
    /// Seed files to run after the migrations (`--include-seed`, `db reset`).
    pub seeds: Vec<SeedFile>,
    /// Platform objects the migrations expect (installed before the first migration).
    pub platform: Platform,
    /// Apply pending migrations (default). `false` runs the seeds only, applying and refusing no
    /// migration: the Supabase CLI's `[db.migrations] enabled = false`.
    pub migrations_enabled: bool,
    /// Run every seed again, even one already recorded (`push --reseed`); by default a seed runs
    /// once per path and a changed one only has its hash updated, as the Supabase CLI does.
    pub reseed: bool,
    /// Take a `pg_dump` backup before the push's first write (`push --backup`, `backup = true`
    /// of an environment or a fleet): under the lock, after the plan is read again, and only
    /// when there is a migration to apply. A failed backup fails the push before anything is
    /// written. Needs a target ([`Migrator::push`], not [`Migrator::push_client`]).
    pub backup: Option<BackupRequest>,
}

/// Where a push's backup goes ([`PushOptions::backup`]), named by
/// [`crate::backup::backup_path`].
#[derive(Debug, Clone)]
pub struct BackupRequest {
    /// The project's state directory: backups go to `<state_dir>/backups/`.
    pub state_dir: PathBuf,
    /// The run's id ([`crate::backup::run_id`]), shared by every database of a fleet run.
    pub run_id: String,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            dry_run: false,
            include_all: false,
            lock_wait: Duration::from_secs(60),
            seeds: Vec::new(),
            platform: Platform::None,
            migrations_enabled: true,
            reseed: false,
            backup: None,
        }
    }
}

/// A seed file: data loaded after migrations, tracked like the Supabase CLI tracks seeds
/// (`supabase_migrations.seed_files`, by path and SHA-256).
#[derive(Debug, Clone)]
pub struct SeedFile {
    /// The path recorded in `seed_files` (relative to the project root).
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    /// What reading it changed, if anything (pg_dump's `\restrict` lines blanked).
    pub note: Option<String>,
}

impl SeedFile {
    /// Reads a seed file; `root` is the project root its recorded name is relative to.
    pub fn read(root: &Path, path: &Path) -> Result<SeedFile, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        let (sql, note) = crate::source::normalize(text);
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        Ok(SeedFile {
            name,
            path: path.to_path_buf(),
            sql,
            note,
        })
    }
}

/// Progress of a push, for a progress bar or a log. The library prints nothing itself.
#[derive(Debug)]
pub enum Event<'a> {
    /// Another run holds the lock; waiting.
    LockWaiting { holders: &'a [LockHolder] },
    /// The lock is ours.
    LockAcquired { waited: Duration },
    /// About to apply migration `index` (0-based) of `total`.
    Applying {
        index: usize,
        total: usize,
        migration: &'a Migration,
        transactional: bool,
    },
    /// Applied and recorded.
    Applied {
        index: usize,
        total: usize,
        migration: &'a Migration,
        duration: Duration,
        transactional: bool,
        /// Why it ran statement by statement, when it did.
        no_transaction_reason: Option<&'a str>,
    },
    /// About to run the rollback file of migration `index` (0-based, newest first) of `total`.
    Reverting {
        index: usize,
        total: usize,
        migration: &'a Migration,
        transactional: bool,
    },
    /// Rolled back and removed from the history.
    Reverted {
        index: usize,
        total: usize,
        migration: &'a Migration,
        duration: Duration,
        transactional: bool,
    },
    /// A statement of `migration` has been waiting `waited` for a lock other sessions hold
    /// (sent after a second, then every few seconds while it waits).
    Blocked {
        migration: &'a Migration,
        /// The lock it waits for, e.g. `relation public.invoices (AccessExclusiveLock)`.
        waiting_for: &'a str,
        holders: &'a [LockHolder],
        waited: Duration,
    },
    /// The server sent notices (`RAISE NOTICE`, warnings) while `migration` ran.
    Notices {
        migration: &'a Migration,
        notices: &'a [Notice],
    },
    /// A seed file ran (or was already recorded).
    Seeded { seed: &'a SeedReport },
    /// The backup asked for was taken, before anything was written.
    BackedUp {
        report: &'a crate::backup::BackupReport,
    },
    /// What the database is as far as the platform goes, and what was done about it (sent once
    /// per push, when the migrations expect a platform).
    Platform { report: &'a PlatformReport },
}

/// Receives [`Event`]s.
pub trait Observer: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// A migration that was applied.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedReport {
    pub version: String,
    pub name: String,
    pub file: PathBuf,
    pub duration_ms: u64,
    pub transactional: bool,
    /// Why it ran statement by statement, when it did (a marker, a statement that cannot run
    /// in a transaction block, or one PostgreSQL refused there this time).
    pub no_transaction_reason: Option<String>,
    pub statements: usize,
    /// What the server said while the file ran (`RAISE NOTICE`, warnings), in order.
    pub notices: Vec<Notice>,
}

/// A migration a dry run would apply, with the exact SQL.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedMigration {
    pub version: String,
    pub name: String,
    pub file: PathBuf,
    pub transactional: bool,
    /// Why it runs outside a transaction, when it does.
    pub no_transaction_reason: Option<String>,
    /// Exactly what would be sent to the server (per round trip, in order).
    pub sql: Vec<String>,
}

/// A seed file's fate.
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    pub path: String,
    /// `applied`, `unchanged` (already recorded with this hash), `hash_updated` (changed since it
    /// ran: like the Supabase CLI, only its hash is updated), `reapplied` (run again by
    /// `--reseed`), or `planned` (dry run).
    pub status: &'static str,
    pub duration_ms: u64,
    /// What the server said while it ran.
    pub notices: Vec<Notice>,
}

/// The result of a push.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// The target, password redacted.
    pub target: String,
    pub dry_run: bool,
    /// Migrations applied by this run, in order.
    pub applied: Vec<AppliedReport>,
    /// For a dry run: what would be applied.
    pub planned: Vec<PlannedMigration>,
    /// How many versions were already applied.
    pub already_applied: usize,
    pub seeds: Vec<SeedReport>,
    /// Milliseconds spent waiting for another run's lock.
    pub lock_waited_ms: u64,
    /// Whether this run created the history tables.
    pub created_history: bool,
    /// What the database is as far as the platform goes and what was done about it (absent for
    /// plain PostgreSQL projects, and for a push with nothing to do).
    pub platform: Option<PlatformReport>,
    /// False when migrations were skipped by setting ([`PushOptions::migrations_enabled`]).
    pub migrations_enabled: bool,
    /// Versions another tool applied, copied into Strata's history by this push (for a dry
    /// run: that would be copied), with where they came from.
    pub adopted: Vec<AdoptedReport>,
    /// Repeatable migrations (Flyway's `R__…sql`) run by this push because they are new or
    /// changed (for a dry run: that would run), by file name.
    pub repeatables: Vec<String>,
    /// The backup taken before the first write ([`PushOptions::backup`]): only one that was
    /// written in full.
    pub backup: Option<crate::backup::BackupReport>,
}

/// A version adopted from another tool's history (or, with `rolled_back`, one that tool rolled
/// back since, removed from Strata's history).
#[derive(Debug, Clone, Serialize)]
pub struct AdoptedReport {
    pub version: String,
    pub name: Option<String>,
    /// `dbmate (public.schema_migrations)`.
    pub source: String,
    /// The tool rolled it back: no longer applied.
    pub rolled_back: bool,
}

fn adopted_of(history: &History) -> Vec<AdoptedReport> {
    history
        .applied
        .iter()
        .filter(|a| a.adopted)
        .chain(&history.rolled_back_by_tool)
        .map(|a| AdoptedReport {
            version: a.version.to_string(),
            name: a.name.clone(),
            source: a.source.clone().unwrap_or_default(),
            rolled_back: !a.adopted,
        })
        .collect()
}

/// Runs migrations against targets. Cheap to build; holds the migration set.
pub struct Migrator {
    set: MigrationSet,
    options: PushOptions,
    observer: Option<Arc<dyn Observer>>,
}

/// The connection a push works on: a [`Session`] (notices kept, can be replaced by a new one
/// under the lock) or a caller's bare client.
pub(crate) enum Conn<'a> {
    Session(&'a mut Session),
    Client(&'a mut Client),
}

impl Conn<'_> {
    pub(crate) fn client(&self) -> &Client {
        match self {
            Conn::Session(s) => s,
            Conn::Client(c) => c,
        }
    }

    pub(crate) fn take_notices(&mut self) -> Vec<Notice> {
        match self {
            Conn::Session(s) => s.take_notices(),
            Conn::Client(_) => Vec::new(),
        }
    }
}

impl Migrator {
    pub fn new(set: MigrationSet) -> Self {
        Migrator {
            set,
            options: PushOptions::default(),
            observer: None,
        }
    }

    pub fn with_options(mut self, options: PushOptions) -> Self {
        self.options = options;
        self
    }

    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn migrations(&self) -> &MigrationSet {
        &self.set
    }

    fn emit(&self, event: Event<'_>) {
        if let Some(o) = &self.observer {
            o.event(&event);
        }
    }

    /// Connects to `url` (a libpq connection string) and pushes.
    pub async fn push_url(&self, url: &str) -> Result<PushReport, Error> {
        let target = Target::from_url(url, crate::target::TargetSource::DbUrl, Default::default())?;
        self.push(&target).await
    }

    /// Connects to `target` and pushes.
    pub async fn push(&self, target: &Target) -> Result<PushReport, Error> {
        let mut session = target.session().await?;
        self.push_connected(&mut session, target, None).await
    }

    /// Pushes on a session of `target`, with the history already read on it when the caller
    /// read it (the CLI reads it while the files are still being loaded). The session may be
    /// replaced by a new one of `target` (after installing platform emulation: only new sessions
    /// see the database's new `search_path`); the lock is always held by the session that works.
    pub async fn push_connected(
        &self,
        session: &mut Session,
        target: &Target,
        history: Option<History>,
    ) -> Result<PushReport, Error> {
        self.push_on(Conn::Session(session), Some(target), history)
            .await
    }

    /// Pushes on an existing connection (e.g. a service's own client). Without a target to
    /// open a new session, it cannot install platform emulation: a database that needs it is
    /// refused before anything is written (use [`Migrator::push`]).
    pub async fn push_client(&self, client: &mut Client) -> Result<PushReport, Error> {
        self.push_on(Conn::Client(client), None, None).await
    }

    /// Reads the history and plans, without the lock and without writing anything.
    pub async fn plan(&self, client: &Client) -> Result<(History, Plan), Error> {
        let history = History::read(client).await?;
        self.plan_from(client, history).await
    }

    /// Plans against a history already read on `client` (reads recorded statements only for
    /// modified files, to show what changed). For another tool's layout, that tool's history
    /// table counts too ([`crate::adopt`]). Errors: the tool's history is broken
    /// ([`Error::ToolHistory`]); a Strata or Supabase project whose database has nothing in
    /// Strata's history but another tool's history with rows (a push would run everything
    /// again): refused, naming the layout that adopts it.
    pub async fn plan_from(
        &self,
        client: &Client,
        mut history: History,
    ) -> Result<(History, Plan), Error> {
        crate::adopt::adopt_into(client, &self.set, &mut history).await?;
        let mut plan = Plan::build(&self.set, &history, self.plan_options());
        let modified = plan.modified_versions();
        if !modified.is_empty() {
            let recorded = history::recorded_statements(client, &modified).await?;
            plan.attach_diffs(&self.set, &recorded);
        }
        Ok((history, plan))
    }

    /// What a push does with a plan: refuse its problems, or, with migrations disabled, apply
    /// nothing and look at no file.
    fn gate(&self, mut plan: Plan) -> Result<Plan, Error> {
        if !self.options.migrations_enabled {
            plan.pending.clear();
            plan.problems.clear();
            return Ok(plan);
        }
        refuse_problems(&plan)?;
        Ok(plan)
    }

    fn plan_options(&self) -> PlanOptions {
        PlanOptions {
            include_all: self.options.include_all,
        }
    }

    /// A push, in the order that keeps every promise: plan and refuse (nothing written, no
    /// lock); then the lock; then plan again under it; then every write — platform emulation,
    /// history tables, migrations, seeds — on the session that holds the lock.
    async fn push_on(
        &self,
        mut conn: Conn<'_>,
        target: Option<&Target>,
        history: Option<History>,
    ) -> Result<PushReport, Error> {
        let target_name = target.map_or_else(|| "(client)".to_string(), Target::display);
        let mut report = PushReport {
            target: target_name.clone(),
            dry_run: self.options.dry_run,
            applied: Vec::new(),
            planned: Vec::new(),
            already_applied: 0,
            seeds: Vec::new(),
            lock_waited_ms: 0,
            created_history: false,
            platform: None,
            migrations_enabled: self.options.migrations_enabled,
            adopted: Vec::new(),
            repeatables: Vec::new(),
            backup: None,
        };
        // The common no-op push, proven by checksums alone on the history already read: no
        // plan to build, no lock, nothing written.
        if let Some(h) = &history {
            if self.is_clean_noop(h) {
                report.already_applied = h.applied.len();
                return Ok(report);
            }
        }
        // Look first without the lock: the common no-op push is one query, and a push that must
        // be refused is refused before it waits for anyone or writes anything.
        let (history, plan) = match history {
            Some(h) => self.plan_from(conn.client(), h).await?,
            None => self.plan(conn.client()).await?,
        };
        let plan = self.gate(plan)?;
        let prepared = self.prepare(&plan)?;
        report.already_applied = history.applied.len();
        // Adopting another tool's history is a write too: the first push after switching copies
        // it into Strata's history, whether or not anything is pending.
        let repeatables = if self.options.migrations_enabled {
            pending_repeatables(conn.client(), &self.set).await?
        } else {
            Vec::new()
        };
        let has_work = !prepared.is_empty()
            || !self.options.seeds.is_empty()
            || !repeatables.is_empty()
            || history.applied.iter().any(|a| a.adopted)
            || !history.rolled_back_by_tool.is_empty();
        if self.options.dry_run {
            report.adopted = adopted_of(&history);
            report.repeatables = repeatables.iter().map(|r| file_name(&r.path)).collect();
            if !prepared.is_empty() && self.options.platform != Platform::None {
                let state = platform::inspect(conn.client()).await?;
                // A dry run says no where the push would: a role that may not create the
                // emulation's roles.
                if state.needs_install() {
                    platform::check_can_install(conn.client()).await?;
                }
                report.platform = Some(PlatformReport::of(&state, true));
            }
            report.planned = prepared.iter().map(|p| p.planned()).collect();
            report.seeds = self
                .options
                .seeds
                .iter()
                .map(|s| SeedReport {
                    path: s.name.clone(),
                    status: "planned",
                    duration_ms: 0,
                    notices: Vec::new(),
                })
                .collect();
            return Ok(report);
        }
        if !has_work {
            return Ok(report);
        }
        let mut acquired = self.lock(conn.client(), &target_name).await?;
        report.lock_waited_ms = acquired.waited.as_millis() as u64;
        let result = self
            .push_locked(&mut conn, target, &mut report, &mut acquired)
            .await;
        // Closing the session releases the lock as well; release explicitly for pooled clients.
        let released = lock::release(conn.client()).await;
        result?;
        released?;
        Ok(report)
    }

    /// Whether a push onto `history` (read and adopted by the caller) has nothing to do and
    /// nothing to refuse: every migration applied with its checksum ([`plan::is_clean_noop`]),
    /// no seed, no repeatable migration, no other tool's history to copy (another tool's
    /// layout always takes the full path).
    fn is_clean_noop(&self, history: &History) -> bool {
        !self.set.layout.is_tool()
            && self.options.seeds.is_empty()
            && self.set.repeatables.is_empty()
            && history.rolled_back_by_tool.is_empty()
            && !history.applied.iter().any(|a| a.adopted)
            && crate::plan::is_clean_noop(&self.set, history)
    }

    async fn lock(&self, client: &Client, target: &str) -> Result<lock::Acquired, Error> {
        let acquired = lock::acquire(client, self.options.lock_wait, target, |holders| {
            self.emit(Event::LockWaiting { holders })
        })
        .await?;
        self.emit(Event::LockAcquired {
            waited: acquired.waited,
        });
        Ok(acquired)
    }

    async fn push_locked(
        &self,
        conn: &mut Conn<'_>,
        target: Option<&Target>,
        report: &mut PushReport,
        acquired: &mut lock::Acquired,
    ) -> Result<(), Error> {
        let mut moved = false;
        // A caller's own client cannot be replaced by a new session: after an install it keeps
        // the database's new search_path by setting it after each reset.
        let mut search_path: Option<String> = None;
        let (history, prepared) = loop {
            // Another run may have applied migrations while we waited: plan again under the lock.
            let (history, plan) = self.plan(conn.client()).await?;
            let plan = self.gate(plan)?;
            let prepared = self.prepare_with(&plan, search_path.as_deref())?;
            report.already_applied = history.applied.len();
            let adopting = history.applied.iter().any(|a| a.adopted)
                || !history.rolled_back_by_tool.is_empty();
            let repeating = self.options.migrations_enabled && !self.set.repeatables.is_empty();
            if prepared.is_empty() && self.options.seeds.is_empty() && !adopting && !repeating {
                return Ok(());
            }
            // The backup: decided by the plan read under the lock, taken before the first write.
            if let (Some(request), None, Some(first)) =
                (&self.options.backup, &report.backup, prepared.first())
            {
                let Some(target) = target else {
                    return Err(Error::setting(
                        "backup",
                        "a backup needs a target to dump (push with Migrator::push, not push_client)",
                    ));
                };
                let file = crate::backup::backup_path(
                    &request.state_dir,
                    target,
                    time::OffsetDateTime::now_utc(),
                    &request.run_id,
                    Some(&first.migration.version),
                );
                let taken = crate::backup::backup(target, &file).await?;
                self.emit(Event::BackedUp { report: &taken });
                report.backup = Some(taken);
            }
            if self.options.platform == Platform::None {
                break (history, prepared);
            }
            let state = platform::inspect(conn.client()).await?;
            let stale = matches!(
                state,
                platform::PlatformState::Current {
                    stale_session: true,
                    ..
                }
            );
            if (!state.needs_install() && !stale) || moved {
                if report.platform.is_none() {
                    let r = PlatformReport::of(&state, false);
                    self.emit(Event::Platform { report: &r });
                    report.platform = Some(r);
                }
                break (history, prepared);
            }
            if state.needs_install() {
                let mut r = platform::install(conn.client(), &state).await?;
                r.notices = conn.take_notices();
                self.emit(Event::Platform { report: &r });
                report.platform = Some(r);
            }
            moved = true;
            // Only a session that begins after the install sees the database's new search_path
            // (the emulation puts `extensions` on it) — whether this run installed it or another
            // run did while this one waited. Move the lock to a new session: open it, let go of
            // the old lock, take it again on the new session, and plan once more — another run
            // may have come in between, and the lock is always held by the session that works.
            let (Conn::Session(session), Some(target)) = (&mut *conn, target) else {
                search_path = database_search_path(conn.client()).await?;
                continue;
            };
            let fresh = target.session().await?;
            lock::release(session).await?;
            **session = fresh;
            let again = self.lock(conn.client(), &target.display()).await?;
            acquired.backend_pid = again.backend_pid;
            report.lock_waited_ms += again.waited.as_millis() as u64;
        };
        let adopting =
            history.applied.iter().any(|a| a.adopted) || !history.rolled_back_by_tool.is_empty();
        if (!prepared.is_empty() || adopting) && !history.is_ready() {
            history::ensure_tables(conn.client()).await?;
            report.created_history = !history.exists;
        }
        if adopting {
            let sql = crate::adopt::adopt_sql(&history, &self.set)?;
            if let Err(e) = conn
                .client()
                .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
                .await
            {
                let _ = conn.client().batch_execute("ROLLBACK").await;
                return Err(Error::db(
                    "copying the other tool's history into Strata's",
                    e,
                ));
            }
            report.adopted = adopted_of(&history);
        }
        let applied_by = history::applied_by();
        let total = prepared.len();
        let emit = |e: &Event<'_>| {
            if let Some(o) = &self.observer {
                o.event(e);
            }
        };
        let watch = target.map(|t| (t, acquired.backend_pid));
        for (index, step) in prepared.iter().enumerate() {
            let m: &Migration = &step.migration;
            self.emit(Event::Applying {
                index,
                total,
                migration: m,
                transactional: step.transactional(),
            });
            let start = Instant::now();
            let mut record = history::record_sql(m, step.transactional(), &applied_by)?;
            if self.set.record_in_tool_history {
                if let (Some(tool), Some(mark)) = (
                    crate::adopt::record_sql(&self.set, m),
                    crate::adopt::mirrored_source(&self.set),
                ) {
                    record.push_str(&format!(
                        "\n{tool}\nUPDATE supabase_migrations.strata_history SET source = {} WHERE version = {};",
                        history::quote_literal(&mark),
                        history::quote_literal(m.version.as_str())
                    ));
                }
            }
            let ran = execute(
                conn,
                watch,
                step,
                &record,
                "recording it in the history",
                &emit,
            )
            .await
            .map_err(|mut e| {
                if let Error::Migration(m) = &mut e {
                    platform::annotate(m, self.options.platform);
                }
                e
            })?;
            let duration = start.elapsed();
            let transactional = ran.no_transaction_reason.is_none();
            self.emit(Event::Applied {
                index,
                total,
                migration: m,
                duration,
                transactional,
                no_transaction_reason: ran.no_transaction_reason.as_deref(),
            });
            report.applied.push(AppliedReport {
                version: m.version.to_string(),
                name: m.name.clone(),
                file: m.path.clone(),
                duration_ms: duration.as_millis() as u64,
                transactional,
                no_transaction_reason: ran.no_transaction_reason,
                statements: step.statement_count(),
                notices: ran.notices,
            });
        }
        // Repeatables after every versioned migration, in name order, each in one transaction
        // with its record (as Flyway runs them).
        if self.options.migrations_enabled {
            let due = pending_repeatables(conn.client(), &self.set).await?;
            if !due.is_empty() {
                conn.client()
                    .batch_execute(REPEATABLES_TABLE_SQL)
                    .await
                    .map_err(|e| Error::db("creating supabase_migrations.strata_repeatables", e))?;
            }
            for r in due {
                let migration = Migration::new(
                    crate::source::Version::parse("0").expect("digits"),
                    r.name.clone(),
                    r.path.clone(),
                    r.sql.clone(),
                );
                let step = Step::new(&migration)?;
                let record = format!(
                    "INSERT INTO supabase_migrations.strata_repeatables (name, checksum) VALUES ({n}, {c}) \
                     ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, applied_at = now();",
                    n = history::quote_literal(&file_name(&r.path)),
                    c = history::quote_literal(&r.checksum),
                );
                execute(
                    conn,
                    watch,
                    &step,
                    &record,
                    "recording the repeatable",
                    &emit,
                )
                .await?;
                report.repeatables.push(file_name(&r.path));
            }
        }
        for seed in &self.options.seeds {
            let r = run_seed(conn, watch, seed, self.options.reseed, &emit).await?;
            self.emit(Event::Seeded { seed: &r });
            report.seeds.push(r);
        }
        Ok(())
    }

    /// Splits and classifies every pending migration before anything runs, so a bad file stops
    /// the push before the first migration is applied.
    fn prepare<'a>(&'a self, plan: &Plan) -> Result<Vec<Step<'a>>, Error> {
        self.prepare_with(plan, None)
    }

    fn prepare_with<'a>(
        &'a self,
        plan: &Plan,
        search_path: Option<&str>,
    ) -> Result<Vec<Step<'a>>, Error> {
        plan.pending
            .iter()
            .map(|&i| Step::with_session_defaults(&self.set.migrations[i], search_path))
            .collect()
    }
}

/// The `search_path` new sessions of the connected database get from `ALTER DATABASE … SET`
/// (as stored: a list ready for `SET search_path = …`), if one is set.
async fn database_search_path(client: &Client) -> Result<Option<String>, Error> {
    let row = client
        .query_opt(
            "select substr(s.cfg, length('search_path=') + 1) \
               from pg_catalog.pg_db_role_setting d \
               join pg_catalog.pg_database db on db.oid = d.setdatabase \
              cross join lateral unnest(d.setconfig) as s(cfg) \
              where db.datname = current_database() and d.setrole = 0 \
                and s.cfg like 'search_path=%'",
            &[],
        )
        .await
        .map_err(|e| Error::db("reading the database's search_path", e))?;
    Ok(row.map(|r| r.get(0)))
}

fn refuse_problems(plan: &Plan) -> Result<(), Error> {
    if plan.problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused {
            problems: plan.problems.clone(),
        })
    }
}

/// How long a statement waits for a lock before the first [`Event::Blocked`], and between
/// the ones after it.
const BLOCKED_FIRST: Duration = Duration::from_secs(1);
const BLOCKED_EVERY: Duration = Duration::from_secs(5);

/// What running one file did besides succeeding.
pub(crate) struct Executed {
    /// The notices it caused.
    pub notices: Vec<Notice>,
    /// `None`: it ran in one transaction with its tail. Else why it ran statement by statement.
    pub no_transaction_reason: Option<String>,
}

/// Runs `step` with `tail` (history rows to write or remove) on `conn`, and returns the notices
/// it caused (also attached to the error when it fails) and how it ran. With `watch` (the target and the
/// working session's backend pid), a second session opened after a second reports every few
/// seconds what lock the file waits for and who holds it, as [`Event::Blocked`].
pub(crate) async fn execute(
    conn: &mut Conn<'_>,
    watch: Option<(&Target, i32)>,
    step: &Step<'_>,
    tail: &str,
    what: &str,
    emit: &(dyn Fn(&Event<'_>) + Sync),
) -> Result<Executed, Error> {
    let result = {
        let run = step.run(conn.client(), tail, what);
        match watch {
            Some((target, pid)) => {
                let watcher = watch_blocking(target, pid, &step.migration, emit);
                pin_mut!(run);
                pin_mut!(watcher);
                tokio::select! {
                    biased;
                    r = &mut run => r,
                    () = &mut watcher => run.await,
                }
            }
            None => run.await,
        }
    };
    let notices = conn.take_notices();
    if !notices.is_empty() {
        emit(&Event::Notices {
            migration: &step.migration,
            notices: &notices,
        });
    }
    match result {
        Ok(no_transaction_reason) => Ok(Executed {
            notices,
            no_transaction_reason,
        }),
        Err(Error::Migration(mut m)) => {
            m.notices = notices;
            Err(Error::Migration(m))
        }
        Err(e) => Err(e),
    }
}

/// Reports, until dropped, what lock session `pid` waits for. Returns only when it cannot
/// watch (no second session): watching is advice, never a reason to fail.
async fn watch_blocking(
    target: &Target,
    pid: i32,
    migration: &Migration,
    emit: &(dyn Fn(&Event<'_>) + Sync),
) {
    let started = Instant::now();
    tokio::time::sleep(BLOCKED_FIRST).await;
    let Ok(watcher) = target.connect().await else {
        return;
    };
    loop {
        match lock::blockers(&watcher, pid).await {
            Ok(Some((waiting_for, holders))) => emit(&Event::Blocked {
                migration,
                waiting_for: &waiting_for,
                holders: &holders,
                waited: started.elapsed(),
            }),
            Ok(None) => {}
            Err(_) => return,
        }
        tokio::time::sleep(BLOCKED_EVERY).await;
    }
}

/// How one file (a migration, a rollback file, a seed) will be run: split and classified
/// before anything is sent, so a bad file stops a run before its first statement.
pub(crate) struct Step<'a> {
    /// The file: a migration, or (for a rollback) its rollback file under the migration's
    /// version, so errors name the rollback file's path, line and column.
    migration: Cow<'a, Migration>,
    statements: Vec<Statement>,
    mode: Mode,
    /// What is sent before the file: [`RESET`], plus the session defaults of a session that
    /// predates them (see [`Step::with_session_defaults`]).
    preamble: String,
    /// How many statements `preamble` holds (each answers with one CommandComplete).
    preamble_statements: usize,
}

enum Mode {
    /// One round trip: the preamble, the file (own BEGIN/COMMIT blanked), the history rows.
    /// `fallback`: why the file is run again statement by statement if PostgreSQL refuses one of
    /// its statements in a transaction block (see [`FileMode`]).
    Transaction {
        text: String,
        prefix_len: usize,
        fallback: Option<String>,
    },
    /// Statement by statement, outside a transaction.
    NoTransaction { reason: String },
}

/// Sent before every migration: back to the session's own user, role and settings, so one
/// migration's `SET ROLE`/`SET search_path` cannot leak into the next (`RESET ALL` alone leaves
/// the role and session authorization as they are). First, before any query of the round
/// trip's transaction: read-write, whatever `default_transaction_read_only` (or `SET SESSION
/// CHARACTERISTICS AS TRANSACTION READ ONLY`) the previous migration left — `RESET ALL` comes
/// too late for the transaction it runs in.
const RESET: &str =
    "SET LOCAL transaction_read_only = off; SET SESSION AUTHORIZATION DEFAULT; RESET ROLE; RESET ALL;\n";

/// How many statements [`RESET`] holds (each answers with one CommandComplete).
const RESET_STATEMENTS: usize = 4;

impl<'a> Step<'a> {
    pub(crate) fn new(migration: &'a Migration) -> Result<Step<'a>, Error> {
        Self::from_cow(Cow::Borrowed(migration), None)
    }

    /// A step whose preamble also restores `search_path` to `search_path` after `RESET ALL`: for a
    /// caller's own session that predates the database's current default (the platform emulation
    /// was installed on it), so the file sees what a new session would.
    pub(crate) fn with_session_defaults(
        migration: &'a Migration,
        search_path: Option<&str>,
    ) -> Result<Step<'a>, Error> {
        Self::from_cow(Cow::Borrowed(migration), search_path)
    }

    /// The step that runs `rollback`, the rollback file of `migration`.
    pub(crate) fn for_rollback_file(
        migration: &Migration,
        rollback: &RollbackFile,
    ) -> Result<Step<'a>, Error> {
        let file = Migration::new(
            migration.version.clone(),
            format!("{}_rollback", migration.name),
            rollback.path.clone(),
            rollback.sql.clone(),
        );
        Self::from_cow(Cow::Owned(file), None)
    }

    fn from_cow(
        migration: Cow<'a, Migration>,
        search_path: Option<&str>,
    ) -> Result<Step<'a>, Error> {
        let statements = migration.statements()?.to_vec();
        let sql = &migration.sql;
        let (preamble, preamble_statements) = match search_path {
            Some(p) => (
                format!("{RESET}SET search_path = {p};\n"),
                RESET_STATEMENTS + 1,
            ),
            None => (RESET.to_string(), RESET_STATEMENTS),
        };
        if let Some(reason) = migration.no_transaction.clone() {
            return Ok(Step {
                migration,
                statements,
                mode: Mode::NoTransaction { reason },
                preamble,
                preamble_statements,
            });
        }
        let fallback = match transaction::file_mode(sql, &statements) {
            FileMode::NoTransaction { reason } => {
                return Ok(Step {
                    migration,
                    statements,
                    mode: Mode::NoTransaction { reason },
                    preamble,
                    preamble_statements,
                })
            }
            FileMode::Transaction { fallback } => fallback,
        };
        let mut text = String::with_capacity(preamble.len() + sql.len());
        text.push_str(&preamble);
        let mut last = 0;
        for s in &statements {
            let Some(code) = s.code_start else { continue };
            match transaction_control(&s.words) {
                TxControl::None => {}
                TxControl::BeginOrCommit => {
                    text.push_str(&sql[last..code]);
                    // One space per byte: the text sent keeps the file's byte offsets.
                    text.extend(std::iter::repeat_n(' ', s.span.end - code));
                    last = s.span.end;
                }
                TxControl::Rollback => {
                    let (line, column) = LineIndex::new(sql).line_col(sql, code);
                    return Err(Error::SourceFile {
                        path: migration.path.clone(),
                        problem: format!(
                            "line {line}, column {column}: `{}` would end the transaction that keeps this migration and its history row together",
                            sql[code..s.span.end].trim()
                        ),
                        hint: Some(format!(
                            "remove it (a failing statement already rolls the whole migration back), or mark the file `{NO_TRANSACTION_MARKER}`"
                        )),
                    });
                }
            }
        }
        text.push_str(&sql[last..]);
        Ok(Step {
            migration,
            statements,
            mode: Mode::Transaction {
                text,
                prefix_len: preamble.len(),
                fallback,
            },
            preamble,
            preamble_statements,
        })
    }

    pub(crate) fn transactional(&self) -> bool {
        matches!(self.mode, Mode::Transaction { .. })
    }

    fn planned(&self) -> PlannedMigration {
        let m: &Migration = &self.migration;
        let record =
            history::record_sql(m, self.transactional(), "<you>@<host>").unwrap_or_default();
        PlannedMigration {
            version: m.version.to_string(),
            name: m.name.clone(),
            file: m.path.clone(),
            transactional: self.transactional(),
            no_transaction_reason: self.no_transaction_reason().map(str::to_string),
            sql: self.round_trips(&record),
        }
    }

    /// Why the file runs outside a transaction, when it does.
    pub(crate) fn no_transaction_reason(&self) -> Option<&str> {
        match &self.mode {
            Mode::Transaction { .. } => None,
            Mode::NoTransaction { reason } => Some(reason),
        }
    }

    /// How many statements (not comments) the file holds.
    pub(crate) fn statement_count(&self) -> usize {
        self.statements
            .iter()
            .filter(|s| s.code_start.is_some())
            .count()
    }

    /// Exactly what [`Step::run`] sends, one string per round trip. `tail` is the history SQL
    /// that must commit with the file.
    pub(crate) fn round_trips(&self, tail: &str) -> Vec<String> {
        match &self.mode {
            Mode::Transaction { text, .. } => vec![format!("{text}\n;\n{tail}")],
            Mode::NoTransaction { .. } => {
                let m: &Migration = &self.migration;
                let mut sql = vec![self.preamble.trim_end().to_string()];
                sql.extend(
                    self.statements
                        .iter()
                        .filter(|s| s.code_start.is_some())
                        .map(|s| m.sql[s.span.clone()].to_string()),
                );
                sql.push(format!("BEGIN;\n{tail}\nCOMMIT;"));
                sql
            }
        }
    }

    /// Runs the file with `tail` (history rows to write or remove): a transactional file and its
    /// tail in one round trip, so they commit together or not at all; otherwise statement by
    /// statement, then the tail in a transaction of its own. `what` names the tail in errors
    /// ("recording it in the history").
    ///
    /// Returns `None` when the file ran in one transaction, or why it ran statement by statement:
    /// a file with a statement PostgreSQL refuses in a transaction block only sometimes (REINDEX
    /// of a partitioned table, a CALL of a procedure that commits …) is run again that way when
    /// PostgreSQL refuses it (SQLSTATE 25001 or 2D000) — the failed transaction kept nothing.
    pub(crate) async fn run(
        &self,
        client: &Client,
        tail: &str,
        what: &str,
    ) -> Result<Option<String>, Error> {
        match &self.mode {
            Mode::Transaction {
                text,
                prefix_len,
                fallback,
            } => {
                let sql = format!("{text}\n;\n{tail}");
                match run_transactional(client, self, &sql, *prefix_len, what).await {
                    Ok(()) => Ok(None),
                    Err(Error::Migration(m))
                        if fallback.is_some()
                            && matches!(m.sqlstate.as_deref(), Some("25001" | "2D000")) =>
                    {
                        let reason = format!(
                            "{}: ran again statement by statement",
                            fallback.as_deref().unwrap_or_default()
                        );
                        self.run_outside(client, tail, what).await?;
                        Ok(Some(reason))
                    }
                    Err(e) => Err(e),
                }
            }
            Mode::NoTransaction { reason } => {
                self.run_outside(client, tail, what).await?;
                Ok(Some(reason.clone()))
            }
        }
    }

    /// Statement by statement, then `tail` in a transaction of its own.
    async fn run_outside(&self, client: &Client, tail: &str, what: &str) -> Result<(), Error> {
        run_statements(client, self).await?;
        client
            .batch_execute(&format!("BEGIN;\n{tail}\nCOMMIT;"))
            .await
            .map_err(|e| {
                Error::db(
                    format!("{} ran, but {what} failed", self.migration.file_name()),
                    e,
                )
            })
    }
}

enum TxControl {
    None,
    BeginOrCommit,
    Rollback,
}

fn transaction_control(words: &[String]) -> TxControl {
    let w = |i: usize| words.get(i).map(String::as_str);
    match (w(0), w(1)) {
        (Some("begin"), _) | (Some("start"), Some("transaction")) => TxControl::BeginOrCommit,
        (Some("commit") | Some("end"), next) if next != Some("prepared") => {
            TxControl::BeginOrCommit
        }
        (Some("rollback"), next) if next != Some("to") && next != Some("prepared") => {
            TxControl::Rollback
        }
        (Some("abort"), _) => TxControl::Rollback,
        _ => TxControl::None,
    }
}

/// Runs a transactional migration in one round trip, mapping a failure to its statement.
async fn run_transactional(
    client: &Client,
    step: &Step<'_>,
    sql: &str,
    prefix_len: usize,
    what: &str,
) -> Result<(), Error> {
    let mut completed = 0usize;
    let result: Result<(), tokio_postgres::Error> = async {
        let stream = client.simple_query_raw(sql).await?;
        pin_mut!(stream);
        while let Some(msg) = stream.try_next().await? {
            if let SimpleQueryMessage::CommandComplete(_) = msg {
                completed += 1;
            }
        }
        Ok(())
    }
    .await;
    let Err(e) = result else { return Ok(()) };
    // Which statement failed: PostgreSQL's position when it gives one, else the count of
    // statements that completed (after the RESET statements).
    let position = e.as_db_error().and_then(|db| match db.position() {
        Some(ErrorPosition::Original(p)) => Some(*p as usize),
        _ => None,
    });
    let offset_in_sent = position.map(|p| char_to_byte(sql, p.saturating_sub(1)));
    let file_offset = offset_in_sent
        .filter(|&o| o >= prefix_len)
        .map(|o| o - prefix_len)
        .filter(|&o| o < step.migration.sql.len());
    let code: Vec<&Statement> = step
        .statements
        .iter()
        .filter(|s| {
            s.code_start.is_some() && matches!(transaction_control(&s.words), TxControl::None)
        })
        .collect();
    let by_count = completed
        .checked_sub(step.preamble_statements)
        .and_then(|i| code.get(i).copied());
    // Everything up to the last history insert completed: the error came at the implicit
    // COMMIT (a deferred constraint or constraint trigger; Strata's own insert upserts).
    // (The last statement of an implicit transaction commits before its CommandComplete is
    // sent, so the second history insert is never counted.)
    let at_commit = completed > step.preamble_statements + code.len();
    let statement = match file_offset {
        Some(o) => step
            .statements
            .iter()
            .find(|s| s.span.start <= o && o <= s.span.end)
            .or(by_count),
        None => by_count,
    };
    if at_commit && file_offset.is_none() {
        let first = code.first().copied().or(step.statements.first());
        if let Some(s) = first {
            let mut err = migration_error(client, step, s, None, e, true).await;
            if let Error::Migration(m) = &mut err {
                let note = "raised when the migration's transaction committed: a deferred constraint or constraint trigger failed; the location is the migration's first statement";
                m.hint = Some(match m.hint.take() {
                    Some(h) => format!("{h}\n{note}"),
                    None => note.to_string(),
                });
            }
            return Err(err);
        }
    }
    match statement {
        Some(s) => Err(migration_error(client, step, s, file_offset, e, true).await),
        None => Err(Error::db(
            format!(
                "{} ran, but {what} failed; nothing was kept",
                step.migration.file_name()
            ),
            e,
        )),
    }
}

/// Runs a migration statement by statement outside a transaction.
async fn run_statements(client: &Client, step: &Step<'_>) -> Result<(), Error> {
    client
        .batch_execute(&step.preamble)
        .await
        .map_err(|e| Error::db("resetting session settings", e))?;
    for s in step.statements.iter().filter(|s| s.code_start.is_some()) {
        let text = &step.migration.sql[s.span.clone()];
        if let Err(e) = client.simple_query(text).await {
            let position = e.as_db_error().and_then(|db| match db.position() {
                Some(ErrorPosition::Original(p)) => Some(*p as usize),
                _ => None,
            });
            let offset = position.map(|p| s.span.start + char_to_byte(text, p.saturating_sub(1)));
            return Err(migration_error(client, step, s, offset, e, false).await);
        }
    }
    Ok(())
}

async fn migration_error(
    client: &Client,
    step: &Step<'_>,
    statement: &Statement,
    offset: Option<usize>,
    e: tokio_postgres::Error,
    transactional: bool,
) -> Error {
    let m: &Migration = &step.migration;
    let offset = offset.unwrap_or(statement.code_start.unwrap_or(statement.span.start));
    let (line, column) = LineIndex::new(&m.sql).line_col(&m.sql, offset);
    let text =
        m.sql[statement.code_start.unwrap_or(statement.span.start)..statement.span.end].trim();
    let db = e.as_db_error();
    let code = db.map(|d| d.code().clone());
    let lock_holders = if code.as_ref() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
        lock::relation_lock_holders(client)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut hint = db.and_then(|d| d.hint().map(str::to_string));
    if code.as_ref() == Some(&SqlState::LOCK_NOT_AVAILABLE) && hint.is_none() {
        hint = Some("the statement waited longer than lock_timeout for a lock other sessions held (listed above); retry when they finish, or raise --lock-timeout".into());
    }
    if transactional {
        if let Some(h) = transaction_hint(step, code.as_ref(), line) {
            hint = Some(match hint {
                Some(server) => format!("{server}\n{h}"),
                None => h,
            });
        }
    }
    if code.as_ref() == Some(&SqlState::QUERY_CANCELED) && hint.is_none() {
        hint = Some("the statement ran longer than statement_timeout; raise --statement-timeout if that is expected".into());
    }
    if !transactional {
        let note = format!(
            "this file runs outside a transaction: statements before line {line} stay applied and the history is unchanged; make them idempotent (IF NOT EXISTS) and run it again"
        );
        hint = Some(match hint {
            Some(h) => format!("{h}\n{note}"),
            None => note,
        });
    }
    MigrationError {
        file: m.path.clone(),
        version: m.version.to_string(),
        line,
        column,
        statement: excerpt(text, 300),
        sqlstate: code.map(|c| c.code().to_string()),
        message: db
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string()),
        detail: db.and_then(|d| d.detail().map(str::to_string)),
        hint,
        offset,
        source_text: m.sql.clone(),
        transactional,
        lock_holders,
        notices: Vec::new(),
    }
    .into()
}

/// What to do when PostgreSQL refused a statement because the file ran in a transaction:
/// 25001 (cannot run inside a transaction block), 2D000 (COMMIT/ROLLBACK in a procedure or DO
/// block inside one), 55P04 (a new enum value used before the ALTER TYPE that added it committed).
fn transaction_hint(step: &Step<'_>, code: Option<&SqlState>, line: usize) -> Option<String> {
    let marker = NO_TRANSACTION_MARKER;
    match code.map(SqlState::code) {
        Some("25001") | Some("2D000") => Some(format!(
            "this file ran in one transaction, and PostgreSQL refuses this statement (or a COMMIT/ROLLBACK in a procedure or DO block it runs) inside one; add a line `{marker}` to run the file statement by statement, as psql does (statements before a failure then stay applied), or move the statement into a migration of its own with that line"
        )),
        Some("55P04") => {
            let m: &Migration = &step.migration;
            let lines = LineIndex::new(&m.sql);
            let added = step.statements.iter().find_map(|s| {
                let code = s.code(&m.sql)?;
                let t = crate::sql::tokens(code);
                let adds = t.first().is_some_and(|w| w.is("alter"))
                    && t.get(1).is_some_and(|w| w.is("type"))
                    && t.windows(2).any(|w| w[0].is("add") && w[1].is("value"));
                adds.then(|| lines.line_col(&m.sql, s.code_start.unwrap_or(s.span.start)).0)
            });
            let at = added
                .map(|l| format!("ALTER TYPE … ADD VALUE on line {l}"))
                .unwrap_or_else(|| "ALTER TYPE … ADD VALUE".into());
            Some(format!(
                "{at} and a use of the new value (line {line}) are in one transaction, and PostgreSQL lets a new enum value be used only after the transaction that added it commits: move the statements from line {line} on into a new migration after this one, or add a line `{marker}` to run the file statement by statement, as psql does"
            ))
        }
        _ => None,
    }
}

fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut} …")
    }
}

/// The byte offset of the `chars`-th character of `text` (PostgreSQL positions count characters).
fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map(|(i, _)| i)
        .unwrap_or(text.len())
}

/// Where repeatable migrations' last runs are kept: by file name, with the checksum that ran.
const REPEATABLES_TABLE_SQL: &str = "DO $strata$ BEGIN
  IF pg_catalog.to_regnamespace('supabase_migrations') IS NULL THEN
    CREATE SCHEMA supabase_migrations;
  END IF;
  IF pg_catalog.to_regclass('supabase_migrations.strata_repeatables') IS NULL THEN
    CREATE TABLE supabase_migrations.strata_repeatables (
      name text NOT NULL PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    );
  END IF;
END $strata$;";

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The repeatable migrations of `set` that are new or changed since their last run (by file
/// name and checksum in `supabase_migrations.strata_repeatables`), in name order.
async fn pending_repeatables<'s>(
    client: &Client,
    set: &'s MigrationSet,
) -> Result<Vec<&'s crate::source::Repeatable>, Error> {
    if set.repeatables.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "select name, checksum from supabase_migrations.strata_repeatables",
            &[],
        )
        .await;
    let ran: std::collections::HashMap<String, String> = match rows {
        Ok(rows) => rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
        Err(e)
            if e.code() == Some(&SqlState::UNDEFINED_TABLE)
                || e.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
        {
            std::collections::HashMap::new()
        }
        Err(e) => {
            return Err(Error::db(
                "reading supabase_migrations.strata_repeatables",
                e,
            ))
        }
    };
    Ok(set
        .repeatables
        .iter()
        .filter(|r| ran.get(&file_name(&r.path)) != Some(&r.checksum))
        .collect())
}

/// The Supabase CLI's seed table, created without a notice when it (or its schema) exists, so
/// the notices a seed reports are its own.
const SEED_TABLE_SQL: &str = "DO $strata$ BEGIN
  IF pg_catalog.to_regnamespace('supabase_migrations') IS NULL THEN
    CREATE SCHEMA supabase_migrations;
  END IF;
  IF pg_catalog.to_regclass('supabase_migrations.seed_files') IS NULL THEN
    CREATE TABLE supabase_migrations.seed_files (path text NOT NULL PRIMARY KEY, hash text NOT NULL);
  END IF;
END $strata$;";

/// Runs a seed file once, tracked by path and hash like the Supabase CLI.
async fn run_seed(
    conn: &mut Conn<'_>,
    watch: Option<(&Target, i32)>,
    seed: &SeedFile,
    reseed: bool,
    emit: &(dyn Fn(&Event<'_>) + Sync),
) -> Result<SeedReport, Error> {
    use sha2::{Digest, Sha256};
    let start = Instant::now();
    let client = conn.client();
    client
        .batch_execute(SEED_TABLE_SQL)
        .await
        .map_err(|e| Error::db("creating supabase_migrations.seed_files", e))?;
    let hash = hex::encode(Sha256::digest(seed.sql.as_bytes()));
    let recorded: Option<String> = client
        .query_opt(
            "select hash from supabase_migrations.seed_files where path = $1",
            &[&seed.name],
        )
        .await
        .map_err(|e| Error::db("reading supabase_migrations.seed_files", e))?
        .map(|r| r.get(0));
    let record = format!(
        "INSERT INTO supabase_migrations.seed_files (path, hash) VALUES ({}, {}) \
         ON CONFLICT (path) DO UPDATE SET hash = excluded.hash;",
        history::quote_literal(&seed.name),
        history::quote_literal(&hash)
    );
    let mut notices = Vec::new();
    let status = match recorded {
        Some(h) if h == hash && !reseed => "unchanged",
        Some(_) if !reseed => {
            client
                .batch_execute(&record)
                .await
                .map_err(|e| Error::db("updating supabase_migrations.seed_files", e))?;
            "hash_updated"
        }
        recorded => {
            let migration = Migration::new(
                crate::source::Version::parse("0").expect("digits"),
                seed.name.clone(),
                seed.path.clone(),
                seed.sql.clone(),
            );
            let step = Step::new(&migration)?;
            notices = execute(conn, watch, &step, &record, "recording the seed", emit)
                .await?
                .notices;
            if recorded.is_some() {
                "reapplied"
            } else {
                "applied"
            }
        }
    };
    Ok(SeedReport {
        path: seed.name.clone(),
        status,
        duration_ms: start.elapsed().as_millis() as u64,
        notices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(|w| w.to_lowercase()).collect()
    }

    #[test]
    fn transaction_control_words() {
        assert!(matches!(
            transaction_control(&words("begin")),
            TxControl::BeginOrCommit
        ));
        assert!(matches!(
            transaction_control(&words("start transaction")),
            TxControl::BeginOrCommit
        ));
        assert!(matches!(
            transaction_control(&words("commit")),
            TxControl::BeginOrCommit
        ));
        assert!(matches!(
            transaction_control(&words("end")),
            TxControl::BeginOrCommit
        ));
        assert!(matches!(
            transaction_control(&words("rollback")),
            TxControl::Rollback
        ));
        assert!(matches!(
            transaction_control(&words("rollback to savepoint a")),
            TxControl::None
        ));
        assert!(matches!(
            transaction_control(&words("savepoint a")),
            TxControl::None
        ));
    }

    #[test]
    fn char_positions_map_to_bytes() {
        assert_eq!(char_to_byte("héllo", 2), 3);
        assert_eq!(char_to_byte("abc", 10), 3);
    }
}

#[cfg(test)]
mod transaction_hint_tests {
    use super::*;

    #[test]
    fn refusals_of_a_transaction_block_name_the_marker_and_the_split() {
        let m = Migration::new(
            crate::source::Version::parse("1").unwrap(),
            "mood",
            PathBuf::from("1_mood.sql"),
            "create type mood as enum ('sad');\nalter type mood add value 'happy';\nselect 'happy'::mood;\n"
                .to_string(),
        );
        let step = Step::new(&m).unwrap();
        let h = transaction_hint(&step, Some(&SqlState::UNSAFE_NEW_ENUM_VALUE_USAGE), 3).unwrap();
        assert!(h.contains("ADD VALUE on line 2"), "{h}");
        assert!(h.contains("from line 3 on into a new migration"), "{h}");
        assert!(h.contains(NO_TRANSACTION_MARKER), "{h}");
        for code in [
            SqlState::ACTIVE_SQL_TRANSACTION,
            SqlState::INVALID_TRANSACTION_TERMINATION,
        ] {
            let h = transaction_hint(&step, Some(&code), 3).unwrap();
            assert!(h.contains(NO_TRANSACTION_MARKER), "{h}");
        }
        assert!(transaction_hint(&step, Some(&SqlState::SYNTAX_ERROR), 3).is_none());
    }
}
