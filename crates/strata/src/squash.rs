//! `strata migration squash --to VERSION`: the migrations up to VERSION replaced by one
//! baseline that builds the same catalog and the same rows — and the history of each database
//! that applied them rewritten to record the baseline instead.
//!
//! [`run`] goes one way, as a push does: **prove, then lock, then re-read, then write.**
//!
//! 1. [`plan`]: the squashed migrations are built on a scratch database, next to one that has
//!    only what the platform emulation brings (private clusters: [`crate::scratch`]). The
//!    baseline is the catalog's creation statements ([`crate::diff::create_statements`]), the
//!    rows the migrations wrote — in every table of every schema whose rows differ from the
//!    platform-only build — kept as `INSERT`s, loaded after tables and functions and before
//!    constraints, indexes and triggers (as `pg_dump` orders a dump), and every sequence set to
//!    where the migrations left it. What the baseline cannot carry is refused, by name: object
//!    kinds the catalog does not model, roles the migrations create or change (cluster-wide),
//!    rows written to the platform's own tables (`auth.users`, `vault.secrets` …: a raw copy of
//!    what a platform function wrote is not what the platform would store).
//! 2. [`prove`]: the baseline and the migrations after VERSION must build the same catalog
//!    (column order included: the baseline creates every table) and the same rows in every table
//!    as the original migrations; the baseline's rollback must leave the platform-only catalog.
//! 3. The written files pass the check every written file passes
//!    ([`crate::author::WrittenCheck`]). A dry run stops here: no lock, nothing written.
//! 4. Under the project's squash lock (`<state>/squash.lock`, so two squashes of one project
//!    never interleave) and, with a database named, its migration lock (push's advisory lock,
//!    waiting up to `lock_wait`): the files are read again and must still be the proven ones;
//!    the history is read again and must be exactly what the baseline replaces ([`fit`]: the
//!    squashed versions applied with unchanged checksums or statements, nothing else at or
//!    below the baseline — push's own comparison, [`crate::plan::applied_state`]), else
//!    [`Error::SquashRefused`] and nothing changes.
//! 5. The files are replaced through a journal (`<state>/squash-journal.json`): the new files
//!    are written under temporary names, the journal is written (the commit point), then the
//!    squashed files go and the baseline takes its name. A run killed anywhere leaves either
//!    the old files (and temporary ones, removed by the next run) or a journal the next run of
//!    any squash finishes first.
//! 6. The history rows are replaced in one transaction; then the locks are released.
//!
//! After `kill -9` at any point the project is unchanged, or its files are squashed and the
//! history is not: running the same command again finishes it. The baseline carries a manifest
//! of what it replaced (`-- strata:squashed VERSION NAME checksum=… statements=…`), so a
//! database squashed later, from another checkout, is held to the same check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::author::{NewFile, NewMigration, WrittenCheck};
use crate::catalog::{Catalog, Kind};
use crate::diff::{compare, Scope, Sides};
use crate::error::Error;
use crate::history::{quote_literal, History};
use crate::lock::LockHolder;
use crate::platform::Platform;
use crate::problem::{Problem, State};
use crate::scratch::{table_rows, Rows, Scratch, ScratchDb};
use crate::source::{Migration, MigrationSet, Version};
use crate::target::Target;

/// The name of the baseline migration (`<VERSION>_baseline.sql`).
pub const BASELINE_NAME: &str = "baseline";

/// The marker of a manifest line in a baseline: `-- strata:squashed VERSION NAME checksum=…
/// statements=…`, one per migration it replaced.
pub const SQUASHED_MARKER: &str = "strata:squashed";

/// The project's squash lock and journal, in its state directory.
const LOCK_FILE: &str = "squash.lock";
const JOURNAL_FILE: &str = "squash-journal.json";

/// One migration a baseline replaces, as its manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Squashed {
    pub version: Version,
    pub name: String,
    /// Strata's checksum of its file (what a Strata history row records).
    pub checksum: String,
    /// SHA-256 of its statements as the Supabase CLI splits and records them
    /// ([`statements_digest`]), for rows the Supabase CLI wrote.
    pub statements: String,
}

impl Squashed {
    fn of(m: &Migration) -> Result<Squashed, Error> {
        Ok(Squashed {
            version: m.version.clone(),
            name: m.name.clone(),
            checksum: m.checksum.clone(),
            statements: statements_digest(&m.statement_texts()?),
        })
    }

    fn line(&self) -> String {
        format!(
            "-- {SQUASHED_MARKER} {} {} checksum={} statements={}\n",
            self.version, self.name, self.checksum, self.statements
        )
    }
}

/// SHA-256 (hex) of `statements`, each followed by a NUL byte.
pub fn statements_digest(statements: &[String]) -> String {
    let mut h = Sha256::new();
    for s in statements {
        h.update(s.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// The manifest of a baseline: the migrations it replaced (`None`: `m` carries none, it is not
/// a baseline Strata wrote).
pub fn manifest(m: &Migration) -> Option<Vec<Squashed>> {
    let mut out = Vec::new();
    for line in m.sql.lines() {
        let Some(rest) = line
            .trim_start()
            .strip_prefix("--")
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix(SQUASHED_MARKER))
        else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let [version, name, checksum, statements] = words[..] else {
            return None;
        };
        out.push(Squashed {
            version: Version::parse(version)?,
            name: name.to_string(),
            checksum: checksum.strip_prefix("checksum=")?.to_string(),
            statements: statements.strip_prefix("statements=")?.to_string(),
        });
    }
    (!out.is_empty()).then_some(out)
}

/// A planned squash.
#[derive(Debug, Clone, Serialize)]
pub struct Squash {
    /// The baseline's version: the newest squashed migration's.
    pub version: Version,
    /// The squashed migrations' files (and their rollback files).
    pub replaced: Vec<PathBuf>,
    /// The squashed migrations, oldest first: the baseline's manifest.
    pub squashed: Vec<Squashed>,
    /// Tables whose rows the baseline keeps, with the number of rows.
    pub data: Vec<(String, usize)>,
    /// The baseline (without the header the written file gets).
    pub sql: String,
    pub rollback_sql: String,
}

impl Squash {
    /// The squashed versions, oldest first.
    pub fn versions(&self) -> Vec<Version> {
        self.squashed.iter().map(|s| s.version.clone()).collect()
    }
}

/// Where and how a squash builds, checks and writes.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    pub platform: Platform,
    pub scratch: &'a Scratch,
    pub scope: &'a Scope,
    /// The header's author line.
    pub author: &'a str,
    /// The written files pass this first.
    pub check: &'a dyn WrittenCheck,
    /// The project's state directory (`.strata`): the squash lock and journal.
    pub state_dir: &'a Path,
    /// How long to wait for the project's squash lock and the database's migration lock.
    pub lock_wait: Duration,
    /// Who the history rows say applied the baseline (`user@host`).
    pub applied_by: &'a str,
}

/// What [`run`] is asked to do.
pub struct Request<'a> {
    /// The newest migration to squash.
    pub to: Version,
    /// Prove and report; take no lock, write and change nothing.
    pub dry_run: bool,
    /// The database whose history records the squashed migrations (`None`: files only).
    pub target: Option<&'a Target>,
    /// Reads the migrations directory (as the command line resolves it); called again under
    /// the squash lock.
    pub load: &'a (dyn Fn() -> Result<MigrationSet, Error> + Sync),
}

/// What [`run`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dry_run: bool,
    /// The squash planned and proven (`None`: the files were squashed already).
    pub squash: Option<Squash>,
    /// An interrupted squash's files were put in place first (its journal finished).
    pub recovered: bool,
    /// The baseline and its rollback, when written now.
    pub written: Option<NewMigration>,
    /// The named database's history.
    pub history: Option<HistoryReport>,
}

/// What happened to a database's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    /// The database, as displayed (no password).
    pub target: String,
    /// The versions whose rows the baseline's replaced (or would replace, in a dry run).
    pub replaced: Vec<Version>,
    /// It recorded the baseline already: nothing to do.
    pub already: bool,
}

/// Squashes as the module documentation describes; `on_wait` is called once when a lock is
/// found taken, with the sessions holding it (empty for the project's squash lock, held by
/// another process). Errors: bad `--to` ([`Error::Setting`]), a failing build
/// ([`Error::ScratchBuild`]), something the baseline cannot carry or a failed proof
/// ([`Error::Unproven`]), a written file the check refuses ([`Error::Lint`]), a
/// history that does not fit ([`Error::SquashRefused`]), a lock not obtained
/// ([`Error::LockWait`]); nothing is changed by any of them.
pub async fn run(
    request: &Request<'_>,
    options: &Options<'_>,
    on_wait: &(dyn Fn(&[LockHolder]) + Sync),
) -> Result<Report, Error> {
    let mut report = Report {
        dry_run: request.dry_run,
        squash: None,
        recovered: false,
        written: None,
        history: None,
    };
    // A squash killed half-way through switching the files is finished before anything is
    // read (under the squash lock; a dry run changes nothing and says so).
    if options.state_dir.join(JOURNAL_FILE).exists() {
        if request.dry_run {
            return Err(Error::Setting {
                setting: "--dry-run".into(),
                message: format!(
                    "an interrupted squash left {} and the migrations directory half-switched; a dry run changes nothing",
                    options.state_dir.join(JOURNAL_FILE).display()
                ),
                hint: Some("run the same command without --dry-run: it puts the files in place first".into()),
            });
        }
        let _lock = project_lock(options.state_dir, options.lock_wait, on_wait).await?;
        report.recovered = recover(options.state_dir)?;
    }
    let set = (request.load)()?;
    refuse_tool_layout(&set)?;
    let baseline_now = squashed_baseline(&set, &request.to)?;
    // 1-3: plan, prove and check, without any lock.
    let (plan, files) = match &baseline_now {
        Some(_) => (None, Vec::new()),
        None => {
            // Boxed: their builds are large futures, and a caller's thread may have a small stack.
            let plan = Box::pin(self::plan(&set, &request.to, options)).await?;
            Box::pin(prove(&set, &plan, options)).await?;
            let dir = set.dir.clone().ok_or_else(|| {
                Error::setting(
                    "migrations",
                    "embedded migrations cannot be squashed: squash the directory they come from",
                )
            })?;
            let files_of = |sql: &str| {
                crate::author::migration_files(
                    &dir,
                    set.rollbacks_dir.as_deref(),
                    &plan.version,
                    BASELINE_NAME,
                    options.author,
                    time::OffsetDateTime::now_utc(),
                    sql,
                    &plan.rollback_sql,
                )
            };
            let mut files = files_of(&plan.sql)?;
            // The baseline runs only where nothing is applied; what it inherits from the files
            // it replaces is not new, and what they silenced stays silenced.
            let replaced = set.with_migrations(
                set.migrations
                    .iter()
                    .filter(|m| m.version <= plan.version)
                    .cloned()
                    .collect(),
            );
            let carried = options.check.check_replacing(&replaced, &files)?;
            if !carried.is_empty() {
                let sql = carry_ignores(&plan.sql, &carried);
                files = files_of(&sql)?;
                let mut plan = plan;
                plan.sql = sql;
                (Some(plan), files)
            } else {
                (Some(plan), files)
            }
        }
    };
    crate::failpoint::hit("squash:proven");
    if request.dry_run {
        if let Some(target) = request.target {
            // Read only: whether the database could take the baseline, said now.
            let client = target.connect().await?;
            let history = History::read(&client).await?;
            let manifest = match (&plan, &baseline_now) {
                (Some(p), _) => p.squashed.clone(),
                (None, Some(b)) => baseline_manifest(b)?,
                (None, None) => unreachable!("one of the two"),
            };
            let baseline = match &baseline_now {
                Some(b) => b.clone(),
                None => baseline_of(&files)?,
            };
            report.history = Some(history_report(
                target,
                fit(&history, &baseline, &manifest, &target.display())?,
            ));
        }
        report.squash = plan;
        return Ok(report);
    }

    // 4: the locks, then everything read again.
    let _project_lock = project_lock(options.state_dir, options.lock_wait, on_wait).await?;
    report.recovered |= recover(options.state_dir)?;
    if !report.recovered {
        for dir in [set.dir.as_deref(), set.rollbacks_dir.as_deref()]
            .into_iter()
            .flatten()
        {
            remove_stale_temporaries(dir);
        }
    }
    let mut connection = None;
    if let Some(target) = request.target {
        let client = target.connect().await?;
        crate::lock::acquire(&client, options.lock_wait, &target.display(), on_wait).await?;
        connection = Some((target, client));
    }
    let result = async {
        // Read under both locks: a file edited, added or removed while squash waited is seen.
        let set_now = (request.load)()?;
        let baseline_locked = squashed_baseline(&set_now, &request.to)?;
        let (manifest, baseline, write) = match (&plan, baseline_locked) {
            (Some(p), None) => {
                // The files must still be the ones proven.
                let now: Vec<Squashed> = set_now
                    .migrations
                    .iter()
                    .filter(|m| m.version <= p.version)
                    .map(Squashed::of)
                    .collect::<Result<_, _>>()?;
                if now != p.squashed {
                    return Err(Error::Setting {
                        setting: "--to".into(),
                        message: "the migrations up to the baseline changed while squash proved them; nothing was written".into(),
                        hint: Some("run the same command again".into()),
                    });
                }
                (p.squashed.clone(), baseline_of(&files)?, true)
            }
            (_, Some(b)) => (baseline_manifest(&b)?, b, false),
            (None, None) => {
                return Err(Error::Setting {
                    setting: "--to".into(),
                    message: format!(
                        "the baseline {} was removed while squash ran; nothing was changed",
                        request.to
                    ),
                    hint: Some("restore the migration files and run again".into()),
                })
            }
        };
        let fitted = match &connection {
            Some((target, client)) => {
                let history = History::read(client).await?;
                let fitted = fit(&history, &baseline, &manifest, &target.display())?;
                // A history only the Supabase CLI wrote has no Strata table yet: created now,
                // before any file changes, so the history can be replaced after them.
                if !history.is_ready() {
                    crate::history::ensure_tables(client).await?;
                }
                Some(fitted)
            }
            None => None,
        };
        crate::failpoint::hit("squash:locked");
        // 5: the files.
        let written = if write {
            let p = plan.as_ref().expect("a plan when writing");
            replace_files(options.state_dir, &files, &p.replaced)?;
            Some(crate::author::written(&files, None))
        } else {
            None
        };
        // 6: the history, the baseline as written (its header included).
        let mut history = None;
        if let (Some((target, client)), Some(fitted)) = (&mut connection, fitted) {
            let baseline = if write {
                (request.load)()?
                    .migrations
                    .into_iter()
                    .find(|m| m.version == baseline.version && m.name == BASELINE_NAME)
                    .unwrap_or(baseline)
            } else {
                baseline
            };
            crate::failpoint::hit("squash:files");
            if let Fit::Replace(versions) = &fitted {
                replace_history(client, &baseline, versions, options.applied_by).await?;
            }
            crate::failpoint::hit("squash:history");
            history = Some(history_report(target, fitted));
        }
        Ok::<_, Error>((written, history))
    }
    .await;
    if let Some((_, client)) = &connection {
        let _ = crate::lock::release(client).await;
    }
    let (written, history) = result?;
    report.written = written;
    report.history = history;
    report.squash = plan;
    Ok(report)
}

fn history_report(target: &Target, fit: Fit) -> HistoryReport {
    match fit {
        Fit::Done => HistoryReport {
            target: target.display(),
            replaced: Vec::new(),
            already: true,
        },
        Fit::Replace(v) => HistoryReport {
            target: target.display(),
            replaced: v,
            already: false,
        },
    }
}

/// `sql` with an `ignore-file` directive for `rules` after its manifest: the squashed
/// migrations silenced them, and the baseline keeps that decision.
fn carry_ignores(sql: &str, rules: &[String]) -> String {
    let line = format!(
        "-- strata-lint: ignore-file {} -- silenced in the squashed migrations\n",
        rules.join(",")
    );
    let at = sql
        .lines()
        .take_while(|l| l.starts_with("--"))
        .map(|l| l.len() + 1)
        .sum::<usize>()
        .min(sql.len());
    format!("{}{line}{}", &sql[..at], &sql[at..])
}

/// A squash writes Strata's layout (`<version>_baseline.sql` + rollback): another tool's
/// directory is refused, naming it.
fn refuse_tool_layout(set: &MigrationSet) -> Result<(), Error> {
    if set.layout.is_tool() {
        return Err(Error::Setting {
            setting: "--dir".into(),
            message: format!(
                "the migrations are in {}'s layout; a squash writes Strata's (<version>_baseline.sql), which {} would not read",
                set.layout.name(),
                set.layout.name()
            ),
            hint: Some("squash with that tool, or move the project to Strata's layout first".into()),
        });
    }
    Ok(())
}

/// The baseline at `to` when the files are squashed already; `None` when they are not. Errors:
/// `to` is a baseline without Strata's manifest.
fn squashed_baseline(set: &MigrationSet, to: &Version) -> Result<Option<Migration>, Error> {
    Ok(set
        .migrations
        .first()
        .filter(|m| &m.version == to && m.name == BASELINE_NAME)
        .cloned())
}

fn baseline_manifest(b: &Migration) -> Result<Vec<Squashed>, Error> {
    manifest(b).ok_or_else(|| Error::SourceFile {
        path: b.path.clone(),
        problem: format!(
            "a baseline without the `-- {SQUASHED_MARKER}` lines that say what it replaced"
        ),
        hint: Some(
            "record it by hand where the history is known to match (`strata migration repair`), or squash again from a checkout before the squash".into(),
        ),
    })
}

/// The baseline as a migration, from its files (not written yet).
fn baseline_of(files: &[NewFile]) -> Result<Migration, Error> {
    let f = &files[0];
    let version = f
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('_').next())
        .and_then(Version::parse)
        .ok_or_else(|| Error::setting("--to", "the baseline's file has no version"))?;
    Ok(Migration::new(
        version,
        BASELINE_NAME,
        f.path.clone(),
        f.text.clone(),
    ))
}

/// Plans squashing the migrations of `set` up to `to` (inclusive). Errors: `to` is not one of
/// them, or fewer than two migrations would be squashed ([`Error::Setting`]); the migrations
/// fail on a scratch database ([`Error::ScratchBuild`]); they create what a baseline cannot
/// carry ([`Error::Unproven`], naming each).
pub async fn plan(
    set: &MigrationSet,
    to: &Version,
    options: &Options<'_>,
) -> Result<Squash, Error> {
    let Some(last) = set.migrations.iter().position(|m| &m.version == to) else {
        return Err(Error::Setting {
            setting: "--to".into(),
            message: format!("no migration has version {to}"),
            hint: Some(
                "pass the version of a migration file (`strata migration list` shows them)".into(),
            ),
        });
    };
    if last == 0 {
        return Err(Error::Setting {
            setting: "--to".into(),
            message: format!("{to} is the first migration: there is nothing to squash into it"),
            hint: Some("pass a later version: the migrations up to it become one".into()),
        });
    }
    let squashed_set = set.with_migrations(set.migrations[..=last].to_vec());
    let squashed: Vec<Squashed> = set.migrations[..=last]
        .iter()
        .map(Squashed::of)
        .collect::<Result<_, _>>()?;
    let (built, empty) = both(
        options.scratch,
        build(
            options.scratch,
            "squashfrom",
            squashed_set,
            options.platform,
        ),
        build(
            options.scratch,
            "squashempty",
            platform_only(set),
            options.platform,
        ),
    )
    .await?;
    refuse_uncarried(&built, &empty, options.scope)?;
    let mut catalog = built.catalog.clone();
    let mut empty_catalog = empty.catalog.clone();
    options
        .scope
        .apply_all(&mut [&mut catalog, &mut empty_catalog]);
    let data = written_rows(&built, &empty, &catalog)?;
    // What every new database of this platform has already (schema public, plpgsql, the
    // emulation) is not the baseline's to create.
    let mut statements: Vec<_> = crate::diff::create_statements(&catalog)
        .into_iter()
        .filter(|(id, _)| empty_catalog.objects.get(id) != catalog.objects.get(id))
        .collect();
    // Default privileges before the objects they apply to (the grants computed for each object
    // assume them).
    statements.sort_by_key(|(id, _)| {
        !matches!(
            id.kind,
            Kind::Schema | Kind::Extension | Kind::DefaultPrivileges
        )
    });
    let mut sql = String::from(
        "-- The migrations up to this version, squashed by `strata migration squash`: the schema\n-- they built and the rows they wrote. The lines below say what it replaced.\n",
    );
    for s in &squashed {
        sql.push_str(&s.line());
    }
    let mut data_written = false;
    for (id, statement) in &statements {
        if !data_written && loads_after_data(id.kind) {
            sql.push_str(&data_sql(&data, &built.columns));
            data_written = true;
        }
        sql.push('\n');
        sql.push_str(statement);
        sql.push('\n');
    }
    if !data_written {
        sql.push_str(&data_sql(&data, &built.columns));
    }
    let user_sequences: std::collections::BTreeSet<&str> = built
        .sequences
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| {
            let schema = n.split('.').next().unwrap_or("").trim_matches('"');
            !(options.scope.exclude_platform && crate::platform::is_managed_schema(schema))
        })
        .collect();
    for (name, value) in &built.sequences {
        if user_sequences.contains(name.as_str())
            && !empty.sequences.contains(&(name.clone(), *value))
        {
            sql.push_str(&format!(
                "SELECT pg_catalog.setval({}, {value}, true);\n",
                quote_literal(name)
            ));
        }
    }
    let rollback_sql = crate::diff::sql(&catalog, &empty_catalog);
    let mut replaced = Vec::new();
    for m in &set.migrations[..=last] {
        replaced.push(m.path.clone());
        if let Some(r) = &m.rollback {
            replaced.push(r.path.clone());
        }
    }
    Ok(Squash {
        version: to.clone(),
        replaced,
        squashed,
        data: data.iter().map(|(t, r)| (t.clone(), r.len())).collect(),
        sql,
        rollback_sql,
    })
}

/// Refuses what a baseline made of catalog statements and rows cannot carry, naming each:
/// object kinds the catalog does not model, roles the migrations created or changed (the
/// platform-only build on its own cluster shows the emulation's), the platform's own objects
/// the migrations changed in ways the catalog leaves out.
fn refuse_uncarried(built: &Build, empty: &Build, _scope: &Scope) -> Result<(), Error> {
    let mut details: Vec<String> = built
        .unmodelled
        .iter()
        .filter(|u| !empty.unmodelled.contains(u))
        .map(|u| format!("{u}: a kind Strata does not model yet"))
        .collect();
    for role in &built.roles {
        match empty.roles.iter().find(|r| r.name == role.name) {
            None => details.push(format!(
                "role {}: created or changed by the migrations (roles belong to the whole server; a baseline carries none)",
                role.name
            )),
            Some(r) if r != role => details.push(format!(
                "role {}: changed by the migrations (attributes, settings or memberships: {:?} → {:?})",
                role.name,
                [r.attributes.join(" "), r.settings.join(" "), r.member_of.join(" ")],
                [role.attributes.join(" "), role.settings.join(" "), role.member_of.join(" ")]
            )),
            Some(_) => {}
        }
    }
    if details.is_empty() {
        return Ok(());
    }
    Err(Error::Unproven {
        message: format!(
            "the migrations up to the baseline create {} thing(s) a baseline cannot carry; nothing was written",
            details.len()
        ),
        details,
        hint: Some(
            "squash to a version before the migration that creates them (`--to`), or keep these migrations as they are".into(),
        ),
    })
}

/// The migrations of `set` with the squashed ones replaced by the baseline. The baseline's path
/// names it as generated (`<generated baseline>`): an error in it is Strata's, and no file of
/// that name exists before it is written.
pub fn squashed_set(set: &MigrationSet, squash: &Squash) -> MigrationSet {
    let mut migrations = vec![Migration::new(
        squash.version.clone(),
        BASELINE_NAME,
        PathBuf::from("<generated baseline>"),
        squash.sql.clone(),
    )];
    migrations.extend(
        set.migrations
            .iter()
            .filter(|m| m.version > squash.version)
            .cloned(),
    );
    set.with_migrations(migrations)
}

/// Proves `squash` on scratch databases: the baseline and the migrations after it build the
/// catalog (column order included) and the rows (in every table, platform schemas included)
/// that `set` builds; the rollback of the baseline leaves what the platform alone brings.
/// Errors: [`Error::Unproven`] listing what differs; the original migrations fail
/// ([`Error::ScratchBuild`]); the generated baseline fails (an [`Error::Unproven`] that says
/// the SQL is Strata's).
pub async fn prove(
    set: &MigrationSet,
    squash: &Squash,
    options: &Options<'_>,
) -> Result<(), Error> {
    let new = squashed_set(set, squash);
    let baseline_only = set.with_migrations(new.migrations[..1].to_vec());
    let scratch = options.scratch;
    let platform = options.platform;
    let (original, squashed) = both(
        scratch,
        build(scratch, "squashold", set.clone(), platform),
        async {
            build(scratch, "squashnew", new, platform)
                .await
                .map_err(generated)
        },
    )
    .await?;
    let (rolled_back, empty) = both(
        scratch,
        async {
            rollback_build(scratch, baseline_only, &squash.rollback_sql, platform)
                .await
                .map_err(generated)
        },
        build(scratch, "squashempty", platform_only(set), platform),
    )
    .await?;
    let scope = options.scope;
    // Rows in every table (platform schemas included): volatile defaults are known from the
    // whole catalogs.
    let (a_rows, b_rows) = (
        comparable_rows(&original.rows, &original.catalog),
        comparable_rows(&squashed.rows, &squashed.catalog),
    );
    let (mut a, mut b, mut r, mut e) = (
        original.catalog,
        squashed.catalog,
        rolled_back,
        empty.catalog,
    );
    scope.apply_all(&mut [&mut a, &mut b]);
    scope.apply_all(&mut [&mut r, &mut e]);
    let mut differences = compare(&a, &b);
    // The baseline creates every table: their columns' order is its to get right.
    differences.extend(
        crate::diff::column_order(&a, &b)
            .iter()
            .map(|o| o.difference()),
    );
    if !differences.is_empty() {
        return Err(Error::Unproven {
            message: "the baseline does not build what the migrations build; nothing was written"
                .into(),
            details: differences
                .iter()
                .map(|d| {
                    d.describe(Sides {
                        left: "migrations",
                        right: "squashed",
                        only_left: "only with the original migrations",
                        only_right: "only with the baseline",
                    })
                })
                .collect(),
            hint: Some(
                "squash to an earlier version, or keep these migrations; the difference is Strata's to fix (report it)".into(),
            ),
        });
    }
    let mut data_differences = Vec::new();
    for (table, rows) in &a_rows {
        let other = b_rows.get(table).cloned().unwrap_or_default();
        if &other != rows {
            data_differences.push(format!(
                "table {table}: {} row(s) with the original migrations, {} with the baseline",
                rows.len(),
                other.len()
            ));
        }
    }
    for (table, rows) in &b_rows {
        if !a_rows.contains_key(table) {
            data_differences.push(format!(
                "table {table}: {} row(s) only with the baseline",
                rows.len()
            ));
        }
    }
    if !data_differences.is_empty() {
        return Err(Error::Unproven {
            message: "the baseline does not write the rows the migrations write; nothing was written"
                .into(),
            details: data_differences,
            hint: Some("rows a trigger or a later migration changes differently: squash to an earlier version".into()),
        });
    }
    let left = compare(&e, &r);
    if !left.is_empty() {
        return Err(Error::Unproven {
            message: "the baseline's rollback does not remove what it creates; nothing was written"
                .into(),
            details: left.iter().map(|d| d.to_string()).collect(),
            hint: Some(
                "squash to an earlier version; the rollback is Strata's to fix (report it)".into(),
            ),
        });
    }
    Ok(())
}

/// A failure of Strata's own SQL (the generated baseline or its rollback) as such: never "the
/// migrations".
fn generated(e: Error) -> Error {
    match e {
        Error::ScratchBuild { error, .. } => Error::Unproven {
            message: format!(
                "the generated baseline (Strata's own SQL, not written) fails on a scratch database: {error}; nothing was written"
            ),
            details: Vec::new(),
            hint: Some(
                "squash to an earlier version, or keep these migrations; the failure is Strata's to fix (report it with the migrations)".into(),
            ),
        },
        other => other,
    }
}

/// What a database's history says about a squash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// It applied exactly the squashed migrations (unchanged): their rows can be replaced by
    /// the baseline's.
    Replace(Vec<Version>),
    /// It records the baseline already (and nothing else up to its version).
    Done,
}

/// Whether `history` can take `baseline`: the versions at or below the baseline's must be
/// exactly those of `manifest`, each applied unchanged (by checksum, or by statements for rows
/// the Supabase CLI wrote: [`crate::plan::applied_state`]) — or just the baseline itself.
/// Errors: [`Error::SquashRefused`] with one problem per version that does not fit, as push
/// words them (`target` names the database).
pub fn fit(
    history: &History,
    baseline: &Migration,
    manifest: &[Squashed],
    target: &str,
) -> Result<Fit, Error> {
    let at_or_below: Vec<&crate::history::AppliedMigration> = history
        .applied
        .iter()
        .filter(|a| a.version <= baseline.version)
        .collect();
    if at_or_below.len() == 1
        && at_or_below[0].version == baseline.version
        && at_or_below[0].checksum.as_deref() == Some(baseline.checksum.as_str())
    {
        return Ok(Fit::Done);
    }
    let mut problems = Vec::new();
    for s in manifest {
        let Some(a) = at_or_below
            .iter()
            .find(|a| a.version.key() == s.version.key())
        else {
            problems.push(Problem {
                kind: State::Pending,
                version: s.version.clone(),
                file: None,
                message: format!(
                    "{}_{} is squashed into the baseline but not applied on {target}: recording the baseline there would claim schema it does not have",
                    s.version, s.name
                ),
                fix: Some("push the migrations there first (from a checkout before the squash), then squash its history".into()),
                diff: None,
            });
            continue;
        };
        let (state, _) = crate::plan::applied_state(a, &s.checksum, |recorded| {
            statements_digest(recorded) == s.statements
        });
        if state == State::Modified {
            problems.push(Problem {
                kind: State::Modified,
                version: s.version.clone(),
                file: None,
                message: format!(
                    "{}_{} was changed after it was applied on {target}: the baseline builds the file as it is now, not what was applied",
                    s.version, s.name
                ),
                fix: Some(format!(
                    "restore the applied version of {}_{} and squash again; or, if {target} already matches the file, record it first with `strata migration repair --status applied {}`",
                    s.version, s.name, s.version
                )),
                diff: None,
            });
        }
    }
    for a in &at_or_below {
        if !manifest.iter().any(|s| s.version.key() == a.version.key()) {
            problems.push(Problem {
                kind: State::MissingLocally,
                version: a.version.clone(),
                file: None,
                message: format!(
                    "version {} is applied on {target} at or below the baseline but is not one the baseline replaces: its row would be deleted",
                    a.version
                ),
                fix: Some(format!(
                    "restore its file and squash again, or, if it should not count as applied, `strata migration repair --status reverted {}`",
                    a.version
                )),
                diff: None,
            });
        }
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.version.cmp(&b.version));
        return Err(Error::SquashRefused {
            target: target.to_string(),
            problems,
        });
    }
    Ok(Fit::Replace(
        at_or_below.iter().map(|a| a.version.clone()).collect(),
    ))
}

/// Replaces the history rows of `versions` on `client` (holding the migration lock) by
/// `baseline`'s row, recorded as applied by `applied_by`, in one transaction. Returns the rows
/// removed.
pub async fn replace_history(
    client: &mut Client,
    baseline: &Migration,
    versions: &[Version],
    applied_by: &str,
) -> Result<u64, Error> {
    let list = versions
        .iter()
        .map(|v| quote_literal(v.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "DELETE FROM supabase_migrations.schema_migrations WHERE version IN ({list});\n\
         DELETE FROM supabase_migrations.strata_history WHERE version IN ({list});\n{}",
        crate::history::record_sql(baseline, true, applied_by)?
    );
    let tx = client
        .transaction()
        .await
        .map_err(|e| Error::db("replacing the history", e))?;
    tx.batch_execute(&sql)
        .await
        .map_err(|e| Error::db("replacing the history", e))?;
    tx.commit()
        .await
        .map_err(|e| Error::db("replacing the history", e))?;
    Ok(versions.len() as u64)
}

/// The project's squash lock (`<state>/squash.lock`), waited for up to `wait`.
async fn project_lock(
    state_dir: &Path,
    wait: Duration,
    on_wait: &(dyn Fn(&[LockHolder]) + Sync),
) -> Result<std::fs::File, Error> {
    std::fs::create_dir_all(state_dir).map_err(|e| Error::io("create directory", state_dir, e))?;
    let path = state_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    let start = std::time::Instant::now();
    let mut told = false;
    loop {
        if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok() {
            return Ok(file);
        }
        if !told {
            told = true;
            on_wait(&[]);
        }
        if start.elapsed() >= wait {
            return Err(Error::LockWait {
                target: format!("{} (another squash of this project)", path.display()),
                waited: start.elapsed(),
                holders: Vec::new(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The journal of a file replacement: the new files under their temporary names, and the
/// files to remove.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Journal {
    /// (temporary, final) paths of the new files, in the order they take their names.
    put: Vec<(PathBuf, PathBuf)>,
    remove: Vec<PathBuf>,
}

/// A new file's temporary name: hidden, not `.sql`, beside its final place (so no loader reads
/// it and the rename stays on one filesystem).
fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.strata-squash"))
}

/// Replaces `remove` by `files`, through the journal (module documentation, step 5).
fn replace_files(state_dir: &Path, files: &[NewFile], remove: &[PathBuf]) -> Result<(), Error> {
    let mut put = Vec::new();
    for f in files {
        if let Some(parent) = f.path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io("create directory", parent, e))?;
        }
        if f.path.exists() {
            return Err(Error::SourceFile {
                path: f.path.clone(),
                problem: "exists already; nothing was written".into(),
                hint: Some("move it away and run again".into()),
            });
        }
        let tmp = temporary(&f.path);
        std::fs::write(&tmp, &f.text).map_err(|e| Error::io("write", &tmp, e))?;
        sync(&tmp)?;
        put.push((tmp, f.path.clone()));
    }
    crate::failpoint::hit("squash:temporaries");
    let journal = Journal {
        put,
        remove: remove.to_vec(),
    };
    let path = state_dir.join(JOURNAL_FILE);
    let tmp = state_dir.join(format!("{JOURNAL_FILE}.tmp"));
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&journal).expect("serialises"),
    )
    .map_err(|e| Error::io("write", &tmp, e))?;
    sync(&tmp)?;
    // The commit point.
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename", &tmp, e))?;
    crate::failpoint::hit("squash:journal");
    finish(&path, &journal)
}

fn sync(path: &Path) -> Result<(), Error> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("sync", path, e))
}

/// Carries out a committed journal (again, when a run was killed): removes the squashed files,
/// then gives the new files their names; then removes the journal. Idempotent.
fn finish(journal_path: &Path, journal: &Journal) -> Result<(), Error> {
    for p in &journal.remove {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", p, e)),
        }
    }
    crate::failpoint::hit("squash:removed");
    for (tmp, final_path) in &journal.put {
        match std::fs::rename(tmp, final_path) {
            Ok(()) => {}
            // Done by an earlier run.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && final_path.exists() => {}
            Err(e) => return Err(Error::io("rename", tmp, e)),
        }
    }
    std::fs::remove_file(journal_path).map_err(|e| Error::io("remove", journal_path, e))
}

/// Finishes an interrupted squash of the project (its journal), or removes the temporary files
/// of one killed before its journal was written. Returns whether a journal was finished. Call
/// it holding the squash lock ([`run`] does).
pub fn recover(state_dir: &Path) -> Result<bool, Error> {
    let path = state_dir.join(JOURNAL_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = std::fs::remove_file(state_dir.join(format!("{JOURNAL_FILE}.tmp")));
            return Ok(false);
        }
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let journal: Journal = serde_json::from_slice(&text).map_err(|e| Error::SourceFile {
        path: path.clone(),
        problem: format!("not a squash journal Strata can read: {e}"),
        hint: Some("an interrupted squash left it: compare the migrations directory with git, then remove the file".into()),
    })?;
    finish(&path, &journal)?;
    Ok(true)
}

/// Whether a squash of the project (state directory `state_dir`) was interrupted half-way
/// through switching its files: its journal is there (the next squash finishes it).
pub fn interrupted(state_dir: &Path) -> bool {
    state_dir.join(JOURNAL_FILE).exists()
}

/// Removes the temporary files a squash killed before its commit point left in `dir`.
pub fn remove_stale_temporaries(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with(".strata-squash") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// `rows` without the values two builds cannot agree on: columns whose default is volatile
/// (`now()`, `gen_random_uuid()` …) filled in when the migrations inserted the row. The rows
/// are compared on everything else.
fn comparable_rows(rows: &Rows, catalog: &Catalog) -> Rows {
    const VOLATILE: &[&str] = &[
        "now()",
        "CURRENT_TIMESTAMP",
        "clock_timestamp()",
        "statement_timestamp()",
        "transaction_timestamp()",
        "random()",
        "gen_random_uuid()",
        "uuid_generate_v4()",
        "timezone(",
    ];
    rows.iter()
        .map(|(table, rows)| {
            let volatile: Vec<String> = catalog
                .objects
                .iter()
                .filter(|(id, o)| {
                    id.kind == Kind::Column
                        && o.parent.as_deref() == Some(table.as_str())
                        && o.prop("default")
                            .is_some_and(|d| VOLATILE.iter().any(|v| d.contains(v)))
                })
                .map(|(_, o)| o.local.trim_matches('"').to_string())
                .collect();
            let mut kept: Vec<String> = rows
                .iter()
                .map(|r| match serde_json::from_str::<serde_json::Value>(r) {
                    Ok(serde_json::Value::Object(mut m)) => {
                        for c in &volatile {
                            m.remove(c);
                        }
                        serde_json::Value::Object(m).to_string()
                    }
                    _ => r.clone(),
                })
                .collect();
            kept.sort();
            (table.clone(), kept)
        })
        .collect()
}

/// A set whose only migration does nothing: building it installs what the platform emulation
/// brings (a push with nothing to apply installs nothing), so its rows and catalog are what the
/// migrations did not write.
fn platform_only(set: &MigrationSet) -> MigrationSet {
    set.with_migrations(vec![Migration::new(
        Version::parse("0").expect("digits"),
        "platform_only",
        PathBuf::from("0_platform_only.sql"),
        "SELECT 1;".into(),
    )])
}

/// Whether creations of `kind` come after the rows are loaded (as in `pg_dump`: data after
/// tables and functions, before constraints, indexes and triggers).
fn loads_after_data(kind: Kind) -> bool {
    !matches!(
        kind,
        Kind::Schema
            | Kind::Extension
            | Kind::DefaultPrivileges
            | Kind::Type
            | Kind::Sequence
            | Kind::Table
            | Kind::Column
            | Kind::Function
    )
}

/// The rows the migrations wrote: in each table, the rows of `built` that the platform alone
/// (`empty`) does not have. Tables of the baseline's catalog get them as `INSERT`s; storage
/// buckets are catalog objects ([`Kind::Bucket`]) already. Rows in any other table (the
/// platform's own: `auth.users`, `vault.secrets`, `cron.job` …) are refused, naming each: a raw
/// copy of what a platform function stored is not what the platform would store.
fn written_rows(
    built: &Build,
    empty: &Build,
    catalog: &Catalog,
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut out = BTreeMap::new();
    let mut refused = Vec::new();
    // The platform's tables compared without the values two builds cannot agree on (the time
    // the emulation recorded its own rows).
    let (built_cmp, empty_cmp) = (
        comparable_rows(&built.rows, &built.catalog),
        comparable_rows(&empty.rows, &empty.catalog),
    );
    for table in built.rows.keys() {
        if table == "storage.buckets" {
            continue;
        }
        let in_baseline = catalog
            .objects
            .keys()
            .any(|id| id.kind == Kind::Table && &id.name == table);
        let (rows, platform) = if in_baseline {
            (&built.rows, &empty.rows)
        } else {
            (&built_cmp, &empty_cmp)
        };
        let written = multiset_minus(
            rows.get(table).map(Vec::as_slice).unwrap_or_default(),
            platform.get(table).map(Vec::as_slice).unwrap_or_default(),
        );
        if written.is_empty() {
            continue;
        }
        if in_baseline {
            out.insert(table.clone(), written);
        } else {
            refused.push(format!(
                "table {table}: {} row(s) the migrations wrote into the platform's own table",
                written.len()
            ));
        }
    }
    if !refused.is_empty() {
        return Err(Error::Unproven {
            message: "the migrations up to the baseline write rows into the platform's tables, which a baseline cannot copy; nothing was written".into(),
            details: refused,
            hint: Some("squash to a version before the migration that writes them (`--to`), so the call that writes them stays as it is".into()),
        });
    }
    Ok(out)
}

/// The rows of `rows` that `minus` does not have, each row of `minus` taken away once.
fn multiset_minus(rows: &[String], minus: &[String]) -> Vec<String> {
    let mut left: Vec<&String> = minus.iter().collect();
    rows.iter()
        .filter(|r| match left.iter().position(|p| p == r) {
            Some(i) => {
                left.swap_remove(i);
                false
            }
            None => true,
        })
        .cloned()
        .collect()
}

/// `INSERT`s of `data`: every column a value can be given to (`columns`: not generated ones,
/// a partition's inherited ones included), identity values kept (`OVERRIDING SYSTEM VALUE`).
fn data_sql(
    data: &BTreeMap<String, Vec<String>>,
    columns: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut out = String::new();
    for (table, rows) in data {
        let columns = columns.get(table).cloned().unwrap_or_default();
        let json = format!("[{}]", rows.join(","));
        let mut tag = "strata_rows".to_string();
        while json.contains(&format!("${tag}$")) {
            tag.push('_');
        }
        let list = columns.join(", ");
        out.push_str(&format!(
            "\n-- {} row(s) the migrations wrote to {table}.\nINSERT INTO {table} ({list}) OVERRIDING SYSTEM VALUE\nSELECT {list} FROM pg_catalog.json_populate_recordset(NULL::{table}, ${tag}${json}${tag}$);\n",
            rows.len()
        ));
    }
    out
}

/// What a scratch build leaves: its whole catalog (not scoped), the rows of every ordinary
/// table, every sequence's value, the kinds the catalog does not model, and the server's roles
/// (a private cluster's: what the build created).
struct Build {
    catalog: Catalog,
    rows: Rows,
    sequences: Vec<(String, i64)>,
    unmodelled: Vec<String>,
    roles: Vec<crate::scratch::Role>,
    /// The insertable columns of every table that has rows.
    columns: BTreeMap<String, Vec<String>>,
}

/// Runs `a` and `b` at once on private clusters, one after the other on a shared scratch
/// server (where builds take turns).
async fn both<A, B>(
    scratch: &Scratch,
    a: impl std::future::Future<Output = Result<A, Error>>,
    b: impl std::future::Future<Output = Result<B, Error>>,
) -> Result<(A, B), Error> {
    let (a, b) = (Box::pin(a), Box::pin(b));
    if scratch.takes_turns() {
        let a = a.await?;
        Ok((a, b.await?))
    } else {
        let (a, b) = tokio::join!(a, b);
        Ok((a?, b?))
    }
}

/// Builds `set` on a scratch database and reads what [`Build`] holds. Dropped whatever happens.
async fn build(
    scratch: &Scratch,
    purpose: &str,
    set: MigrationSet,
    platform: Platform,
) -> Result<Build, Error> {
    let db = ScratchDb::create(scratch, purpose).await?;
    let result = async {
        db.build(set, platform).await?;
        let client = db.target().connect().await?;
        let catalog = Catalog::capture(&client).await?;
        let tables = crate::scratch::all_tables(&client).await?;
        let tables: Vec<String> = tables
            .into_iter()
            .filter(|t| !t.starts_with("strata_platform."))
            .collect();
        let rows = table_rows(&client, &tables).await?;
        let mut columns = BTreeMap::new();
        for table in rows.keys() {
            columns.insert(
                table.clone(),
                crate::scratch::insertable_columns(&client, table).await?,
            );
        }
        let sequences = sequence_values(&client).await?;
        let unmodelled = Catalog::unmodelled(&client).await?;
        let roles = db.roles().await?;
        Ok::<_, Error>(Build {
            catalog,
            rows,
            sequences,
            unmodelled,
            roles,
            columns,
        })
    }
    .await;
    let dropped = db.drop_now().await;
    let out = result?;
    dropped?;
    Ok(out)
}

/// Builds `set` (the baseline alone), runs `rollback_sql`, and reads the catalog.
async fn rollback_build(
    scratch: &Scratch,
    set: MigrationSet,
    rollback_sql: &str,
    platform: Platform,
) -> Result<Catalog, Error> {
    let db = ScratchDb::create(scratch, "squashrollback").await?;
    let result = async {
        db.build(set, platform).await?;
        let client = db.target().connect().await?;
        crate::schema::run_rollback(&client, rollback_sql, "the baseline's rollback", None).await?;
        Catalog::capture(&client).await
    }
    .await;
    let dropped = db.drop_now().await;
    let out = result?;
    dropped?;
    Ok(out)
}

/// Every sequence outside the system schemas that has been used, with its value.
async fn sequence_values(client: &Client) -> Result<Vec<(String, i64)>, Error> {
    let rows = client
        .query(
            "select format('%I.%I', schemaname, sequencename), last_value from pg_catalog.pg_sequences \
             where last_value is not null and schemaname not in ('pg_catalog', 'information_schema', 'supabase_migrations') \
             order by 1",
            &[],
        )
        .await
        .map_err(|e| Error::db("reading sequences", e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
