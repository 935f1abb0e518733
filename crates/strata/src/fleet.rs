//! Fleets: one push over many databases (`[fleets.NAME]`, `strata push --fleet NAME`).
//!
//! [`members`] resolves a fleet to its databases, sorted by what they are shown as, so that
//! canaries and re-runs are predictable. [`push`] pushes the first `canary` of them alone, one
//! after the other — a failing canary stops the run before anything else is touched — then the
//! rest, at most `parallel` at a time and never more per server than its connection headroom
//! allows ([`capacity`]). Each database is planned and pushed exactly as a single push: its own
//! connection, its own history, its own migration lock; the files are read once. A database
//! that fails (down, a lock not granted in time, a failing migration) fails alone; without
//! `keep_going` the first failure stops new starts while running pushes finish. A re-run picks
//! up where a run stopped: each database's history says what is left.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::apply::{Migrator, PushOptions};
use crate::config::{parse_duration, Project};
use crate::error::Error;
use crate::history::History;
use crate::plan::{Plan, PlanOptions, State};
use crate::source::MigrationSet;
use crate::target::{SessionSettings, Target, TargetRequest, TargetSource};

/// One database of a fleet.
#[derive(Debug, Clone)]
pub struct Member {
    /// How it is shown (password redacted): the URL and database.
    pub name: String,
    pub target: Target,
}

/// The databases of fleet `name`, sorted by [`Member::name`], duplicates removed; session
/// settings from `req`'s flags, else the fleet's, else strata.toml's; and warnings (a LIKE
/// pattern whose `_` matched another character). Errors: no such fleet, a URL that does not
/// parse, the server or registry cannot be read (a registry row that is NULL, not text or not a
/// connection string is named), or the fleet is empty.
pub async fn members(
    project: &Project,
    name: &str,
    req: &TargetRequest,
) -> Result<(Vec<Member>, Vec<String>), Error> {
    let mut warnings = Vec::new();
    let fleet = project.config.fleets.get(name).ok_or_else(|| {
        let known: Vec<_> = project.config.fleets.keys().cloned().collect();
        Error::Setting {
            setting: "--fleet".into(),
            message: format!("unknown fleet `{name}`"),
            hint: Some(if known.is_empty() {
                "define it as [fleets.NAME] in strata.toml (server + databases, urls, or registry + query)".into()
            } else {
                format!("known fleets: {}", known.join(", "))
            }),
        }
    })?;
    let setting = |key: &str| format!("fleets.{name}.{key}");
    let duration = |flag: &Option<String>,
                    flag_name: &str,
                    own: &Option<String>,
                    key: &str,
                    top: &Option<String>| {
        if let Some(v) = flag {
            return parse_duration(flag_name, v).map(Some);
        }
        if let Some(v) = own {
            return parse_duration(&setting(key), v).map(Some);
        }
        top.as_ref().map(|v| parse_duration(key, v)).transpose()
    };
    let settings = SessionSettings {
        lock_timeout: duration(
            &req.lock_timeout,
            "--lock-timeout",
            &fleet.lock_timeout,
            "lock_timeout",
            &project.config.lock_timeout,
        )?,
        statement_timeout: duration(
            &req.statement_timeout,
            "--statement-timeout",
            &fleet.statement_timeout,
            "statement_timeout",
            &project.config.statement_timeout,
        )?,
    };
    let source = || TargetSource::Fleet {
        name: name.to_string(),
    };
    let mut targets = Vec::new();
    if let (Some(server), Some(pattern)) = (&fleet.server, &fleet.databases) {
        let url = project.interpolate(&setting("server"), server)?;
        let server = Target::from_url(&url, source(), settings.clone())?;
        let client = server.connect().await?;
        let list = |pattern: String| {
            let client = &client;
            async move {
                client
                    .query(
                        "select datname::text from pg_catalog.pg_database \
                         where datname like $1 and datallowconn and not datistemplate order by 1",
                        &[&pattern],
                    )
                    .await
                    .map(|rows| {
                        rows.iter()
                            .map(|r| r.get::<_, String>(0))
                            .collect::<Vec<_>>()
                    })
                    .map_err(|e| Error::db(format!("listing the databases of fleet `{name}`"), e))
            }
        };
        let names = list(pattern.clone()).await?;
        // `_` is LIKE's one-character wildcard: say what matched only because of it.
        let literal = escape_underscores(pattern);
        if literal != *pattern {
            let exact = list(literal.clone()).await?;
            let extra: Vec<&String> = names.iter().filter(|n| !exact.contains(n)).collect();
            if !extra.is_empty() {
                warnings.push(format!(
                    "fleets.{name}.databases = {pattern:?}: `_` matches any one character in a LIKE pattern, so it also matched {}; write {literal:?} for a literal underscore",
                    extra.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        for n in names {
            targets.push(server.with_database(&n));
        }
    } else if !fleet.urls.is_empty() {
        for (i, raw) in fleet.urls.iter().enumerate() {
            let url = project.interpolate(&format!("{}[{i}]", setting("urls")), raw)?;
            targets.push(Target::from_url(&url, source(), settings.clone())?);
        }
    } else if let (Some(registry), Some(query)) = (&fleet.registry, &fleet.query) {
        let url = project.interpolate(&setting("registry"), registry)?;
        let client = Target::from_url(&url, source(), settings.clone())?
            .connect()
            .await?;
        // Always read-only: a fleet's query (a dry run's included) never changes the registry.
        let context = format!("running the query of fleet `{name}` on its registry");
        client
            .batch_execute("BEGIN TRANSACTION READ ONLY")
            .await
            .map_err(|e| Error::db(&context, e))?;
        let rows = client.query(query.as_str(), &[]).await;
        let _ = client.batch_execute("ROLLBACK").await;
        let rows = rows.map_err(|e| {
            let mut err = Error::db(&context, e);
            if let Error::Database { hint, code, .. } = &mut err {
                if code.as_deref() == Some("25006") {
                    *hint = Some(format!(
                        "the query of fleet `{name}` runs in a read-only transaction: it may only read (select url from tenants where active)"
                    ));
                }
            }
            err
        })?;
        for (i, r) in rows.iter().enumerate() {
            let bad = |what: &str| {
                Error::Setting {
                setting: setting("query"),
                message: format!(
                    "row {} of the query of fleet `{name}` {what}: each row's first column must be a connection string (text)",
                    i + 1
                ),
                hint: Some("e.g. select url from tenants where active and url is not null".into()),
            }
            };
            let url: Option<String> = r
                .try_get(0)
                .map_err(|_| bad("is not text (cast it: url::text)"))?;
            let url = url.ok_or_else(|| bad("is NULL"))?;
            let target = Target::from_url(&url, source(), settings.clone())
                .map_err(|_| bad("is not a connection string Strata can read (not shown: it may hold a password)"))?;
            targets.push(target);
        }
    }
    let mut members: Vec<Member> = targets
        .into_iter()
        .map(|target| Member {
            name: target.display(),
            target,
        })
        .collect();
    // Stable: of one database listed twice (by a list, a registry, or with another password),
    // the first listed is kept, and the others are named.
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let before = members.len();
    let mut twice = Vec::new();
    members.dedup_by(|a, b| {
        let same = a.name == b.name;
        if same {
            twice.push(a.name.clone());
        }
        same
    });
    if members.len() < before {
        twice.dedup();
        warnings.push(format!(
            "fleet `{name}` lists {} database(s) more than once (the same URL, or one differing only in its password): {}; each is pushed once, with the first connection string listed",
            twice.len(),
            twice.join(", ")
        ));
    }
    if members.is_empty() {
        return Err(Error::Setting {
            setting: format!("fleets.{name}"),
            message: format!("fleet `{name}` has no database"),
            hint: Some("check the pattern (a LIKE pattern: `_` and `%` are wildcards), the list or the registry's query".into()),
        });
    }
    Ok((members, warnings))
}

/// `pattern` with every `_` not already escaped written `\_` (LIKE's default escape).
fn escape_underscores(pattern: &str) -> String {
    let mut out = String::new();
    let mut escaped = false;
    for c in pattern.chars() {
        if c == '_' && !escaped {
            out.push('\\');
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
    }
    out
}

/// The server a target is on (its URL with the database left out), for per-server limits.
fn server_of(target: &Target) -> String {
    target.with_database("postgres").display()
}

/// How many pushes each server of `members` takes at once: a third of its free connections
/// (`max_connections` less the reserved ones and those in use; a push may hold up to three),
/// at least one. A server that cannot be asked counts as one (its pushes will say why).
pub async fn capacity(members: &[Member]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in members {
        let server = server_of(&m.target);
        if out.contains_key(&server) {
            continue;
        }
        let free = async {
            let client = m.target.connect().await.ok()?;
            let row = client
                .query_one(
                    "select current_setting('max_connections')::int \
                     - current_setting('superuser_reserved_connections')::int \
                     - (select count(*) from pg_catalog.pg_stat_activity)::int",
                    &[],
                )
                .await
                .ok()?;
            Some(row.get::<_, i32>(0))
        }
        .await;
        out.insert(server, free.map_or(1, |f| (f.max(0) as usize / 3).max(1)));
    }
    out
}

/// The push gate of a fleet, decided per database before any database is pushed: given the
/// files, a database's history (read, other tools' adopted) and whether it is fresh or live
/// ([`crate::catalog::freshness`]), `Ok` lets it be pushed and `Err` ([`Error::Lint`]) holds
/// it back. The command line passes `strata_lint`'s gate (the core does not depend on the
/// linter); it may remember its findings per distinct applied set, which is what they depend on.
#[derive(Clone)]
pub struct FleetGate(
    #[allow(clippy::type_complexity)]
    pub  Arc<
        dyn Fn(&MigrationSet, &History, &crate::catalog::Freshness) -> Result<(), Error>
            + Send
            + Sync,
    >,
);

impl std::fmt::Debug for FleetGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FleetGate")
    }
}

/// How a fleet push runs.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// At most this many pushes at once (each server also limited by [`capacity`]).
    pub parallel: usize,
    /// The first this many databases are pushed alone, one after the other, first.
    pub canary: usize,
    /// Go on after a failure (else no new push starts; running ones finish).
    pub keep_going: bool,
    /// What every push does (dry run, lock wait, platform, the backup before its first write:
    /// a database whose backup fails is not pushed, it fails).
    pub push: PushOptions,
    /// The push gate, asked of every database before the first push (`None`: `--no-lint`).
    pub gate: Option<FleetGate>,
}

/// What happened to one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    /// Not started: a canary failed, or (without `keep_going`) another database did.
    Skipped,
}

/// One database's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The database, password redacted.
    pub target: String,
    pub status: Status,
    /// The versions it applied (planned, in a dry run).
    pub applied: Vec<String>,
    /// How many were applied before this run.
    pub already_applied: usize,
    pub duration_ms: u64,
    /// Whether it was a canary.
    pub canary: bool,
    /// The backup taken before the push, if one was asked for and something was pending.
    pub backup: Option<std::path::PathBuf>,
    /// Why it failed.
    #[serde(skip)]
    pub error: Option<Arc<Error>>,
}

/// What a fleet push did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub fleet: String,
    /// A dry run: `applied` of each database is what it would apply.
    pub dry_run: bool,
    pub parallel: usize,
    pub canaries: usize,
    pub targets: Vec<Outcome>,
    pub duration_ms: u64,
}

impl Report {
    /// How many databases ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.targets.iter().filter(|t| t.status == status).count()
    }
}

/// What [`push`] says as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    Started {
        target: &'a str,
        canary: bool,
    },
    Finished {
        outcome: &'a Outcome,
        done: usize,
        total: usize,
        /// A dry run: `outcome.applied` is what would be applied.
        dry_run: bool,
    },
}

/// Pushes `set` to every database of `members` (see the module documentation). Never fails as
/// a whole: each database's outcome is in the report.
pub async fn push(
    fleet: &str,
    set: &MigrationSet,
    members: Vec<Member>,
    options: &FleetOptions,
    observe: &(dyn Fn(Event<'_>) + Sync),
) -> Report {
    let started = Instant::now();
    let total = members.len();
    let parallel = options.parallel.max(1);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; total];
    let mut done = 0;
    // Before any push: every database's history and plan, and the gate's word on each.
    let checks = preflight(set, &members, options, parallel).await;
    let mut stop = false;
    for (i, check) in checks.iter().enumerate() {
        if let Err(e) = check {
            done += 1;
            let outcome = Outcome {
                target: members[i].name.clone(),
                status: Status::Failed,
                applied: Vec::new(),
                already_applied: 0,
                duration_ms: 0,
                canary: false,
                backup: None,
                error: Some(e.clone()),
            };
            observe(Event::Finished {
                outcome: &outcome,
                done,
                total,
                dry_run: options.push.dry_run,
            });
            outcomes[i] = Some(outcome);
            // Without --keep-going, a database held back (or unreadable) stops the fleet before
            // anything is pushed.
            stop |= !options.keep_going;
        }
    }
    let capacity = capacity(&members).await;
    // Canaries: the first databases, in name order, that have something to apply.
    let canary_set: Vec<usize> = checks
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Ok(p) if *p > 0))
        .map(|(i, _)| i)
        .take(options.canary)
        .collect();
    let canaries = canary_set.len();
    for &i in canary_set.iter().take_while(|_| !stop) {
        let m = &members[i];
        observe(Event::Started {
            target: &m.name,
            canary: true,
        });
        let outcome = push_one(set, m, options, true).await;
        done += 1;
        observe(Event::Finished {
            outcome: &outcome,
            done,
            total,
            dry_run: options.push.dry_run,
        });
        let failed = outcome.status == Status::Failed;
        outcomes[i] = Some(outcome);
        if failed {
            stop = true;
            break;
        }
    }
    if !stop {
        let global = Arc::new(tokio::sync::Semaphore::new(parallel));
        let per_server: BTreeMap<String, Arc<tokio::sync::Semaphore>> = capacity
            .iter()
            .map(|(s, n)| {
                (
                    s.clone(),
                    Arc::new(tokio::sync::Semaphore::new((*n).min(parallel))),
                )
            })
            .collect();
        let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Outcome)>();
        let rest: Vec<(usize, Member)> = members
            .iter()
            .cloned()
            .enumerate()
            .filter(|(i, _)| !canary_set.contains(i) && checks[*i].is_ok())
            .collect();
        let run = async {
            let mut running = futures_util::stream::FuturesUnordered::new();
            for (i, m) in rest {
                let global = global.clone();
                let server = per_server
                    .get(&server_of(&m.target))
                    .cloned()
                    .unwrap_or_else(|| Arc::new(tokio::sync::Semaphore::new(1)));
                let failed = failed.clone();
                let tx = tx.clone();
                running.push(async move {
                    let _g = global.acquire_owned().await.expect("open");
                    let _s = server.acquire_owned().await.expect("open");
                    if !options.keep_going && failed.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    observe(Event::Started {
                        target: &m.name,
                        canary: false,
                    });
                    let outcome = push_one(set, &m, options, false).await;
                    if outcome.status == Status::Failed {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    let _ = tx.send((i, outcome));
                });
            }
            drop(tx);
            use futures_util::StreamExt;
            while running.next().await.is_some() {}
        };
        let collect = async {
            while let Some((i, outcome)) = rx.recv().await {
                done += 1;
                observe(Event::Finished {
                    outcome: &outcome,
                    done,
                    total,
                    dry_run: options.push.dry_run,
                });
                outcomes[i] = Some(outcome);
            }
        };
        tokio::join!(run, collect);
    }
    let targets = outcomes
        .into_iter()
        .zip(&members)
        .enumerate()
        .map(|(i, (o, m))| {
            o.unwrap_or_else(|| Outcome {
                target: m.name.clone(),
                status: Status::Skipped,
                applied: Vec::new(),
                already_applied: 0,
                duration_ms: 0,
                canary: canary_set.contains(&i),
                backup: None,
                error: None,
            })
        })
        .collect();
    Report {
        fleet: fleet.to_string(),
        dry_run: options.push.dry_run,
        parallel,
        canaries,
        targets,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// Per database, before any push: its history read (other tools' adopted), its plan, and the
/// gate asked when it has something pending. `Ok(n)`: `n` migrations pending; `Err`: not to be
/// pushed (its history could not be read, its plan refuses, or the gate holds it back).
async fn preflight(
    set: &MigrationSet,
    members: &[Member],
    options: &FleetOptions,
    parallel: usize,
) -> Vec<Result<usize, Arc<Error>>> {
    use futures_util::StreamExt;
    let migrator = Migrator::new(set.clone()).with_options(options.push.clone());
    futures_util::stream::iter(members.iter().map(|m| {
        let migrator = &migrator;
        async move {
            let client = m.target.connect().await?;
            let (history, plan) = migrator.plan(&client).await?;
            let pending = plan.pending.len();
            if let (Some(gate), true) = (&options.gate, pending > 0 && plan.problems.is_empty()) {
                let freshness = crate::catalog::freshness(&client, &history).await?;
                (gate.0)(set, &history, &freshness)?;
            }
            Ok::<_, Error>(pending)
        }
    }))
    .buffered(parallel.max(1))
    .map(|r| r.map_err(Arc::new))
    .collect()
    .await
}

async fn push_one(set: &MigrationSet, m: &Member, options: &FleetOptions, canary: bool) -> Outcome {
    let started = Instant::now();
    let migrator = Migrator::new(set.clone()).with_options(options.push.clone());
    let result = migrator.push(&m.target).await.map(|report| {
        let backup = report.backup.as_ref().map(|b| b.file.clone());
        (report, backup)
    });
    let duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok((report, backup)) => Outcome {
            target: m.name.clone(),
            status: Status::Ok,
            applied: if report.dry_run {
                report.planned.iter().map(|p| p.version.clone()).collect()
            } else {
                report.applied.iter().map(|a| a.version.clone()).collect()
            },
            already_applied: report.already_applied,
            duration_ms,
            canary,
            backup,
            error: None,
        },
        Err(e) => Outcome {
            target: m.name.clone(),
            status: Status::Failed,
            applied: Vec::new(),
            already_applied: 0,
            duration_ms,
            canary,
            backup: None,
            error: Some(Arc::new(e)),
        },
    }
}

/// One database's state for `migration list --fleet`.
#[derive(Debug, Clone, Serialize)]
pub struct MemberState {
    pub target: String,
    /// The newest applied version (`None`: nothing applied, or the database could not be read).
    pub latest: Option<String>,
    pub applied: usize,
    pub pending: usize,
    pub modified: Vec<String>,
    pub missing_locally: Vec<String>,
    /// Why it could not be read.
    #[serde(skip)]
    pub error: Option<Arc<Error>>,
}

/// The state of every database of `members` against `set`, read `parallel` at a time.
pub async fn states(set: &MigrationSet, members: &[Member], parallel: usize) -> Vec<MemberState> {
    use futures_util::StreamExt;
    futures_util::stream::iter(members.iter().map(|m| async move {
        let read = async {
            let client = m.target.connect().await?;
            let mut history = History::read(&client).await?;
            crate::adopt::adopt_into(&client, set, &mut history).await?;
            Ok::<_, Error>(Plan::build(set, &history, PlanOptions::default()))
        };
        match read.await {
            Ok(plan) => {
                let of = |s: State| {
                    plan.rows
                        .iter()
                        .filter(|r| r.state == s)
                        .map(|r| r.version.to_string())
                        .collect::<Vec<_>>()
                };
                let applied: Vec<&crate::plan::Row> = plan
                    .rows
                    .iter()
                    .filter(|r| {
                        matches!(
                            r.state,
                            State::Applied | State::Modified | State::MissingLocally
                        )
                    })
                    .collect();
                MemberState {
                    target: m.name.clone(),
                    latest: applied
                        .iter()
                        .map(|r| r.version.clone())
                        .max()
                        .map(|v| v.to_string()),
                    applied: applied.len(),
                    pending: plan.pending.len(),
                    modified: of(State::Modified),
                    missing_locally: of(State::MissingLocally),
                    error: None,
                }
            }
            Err(e) => MemberState {
                target: m.name.clone(),
                latest: None,
                applied: 0,
                pending: 0,
                modified: Vec::new(),
                missing_locally: Vec::new(),
                error: Some(Arc::new(e)),
            },
        }
    }))
    .buffered(parallel.max(1))
    .collect()
    .await
}

/// Drift per database: each distinct set of applied versions is built once on a scratch
/// database on `server`, and every database that applied that set is compared with it (as
/// `strata diff` compares one target). Returns, per member in order, the differences (as
/// `strata diff` words them) or why it could not be compared. Databases that could not be read
/// (`states[i].error`) or have nothing applied are left empty.
pub async fn drift(
    set: &MigrationSet,
    members: &[Member],
    states: &[MemberState],
    platform: crate::platform::Platform,
    scratch: &crate::scratch::Scratch,
    scope: &crate::diff::Scope,
) -> Vec<Result<Vec<String>, Arc<Error>>> {
    use crate::catalog::Catalog;
    // The applied versions of each database, and one build per distinct set.
    let mut groups: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (i, (m, st)) in members.iter().zip(states).enumerate() {
        if st.error.is_some() || st.applied == 0 {
            continue;
        }
        let versions = async {
            let client = m.target.connect().await.ok()?;
            let h = History::read(&client).await.ok()?;
            Some(
                h.applied
                    .iter()
                    .map(|a| a.version.to_string())
                    .collect::<Vec<_>>(),
            )
        }
        .await;
        if let Some(v) = versions {
            groups.entry(v).or_default().push(i);
        }
    }
    let mut out: Vec<Result<Vec<String>, Arc<Error>>> = vec![Ok(Vec::new()); members.len()];
    for (versions, indexes) in groups {
        let built = set.with_migrations(
            set.migrations
                .iter()
                .filter(|m| versions.contains(&m.version.to_string()))
                .cloned()
                .collect(),
        );
        let expected = async {
            let scratch = crate::scratch::ScratchDb::create(scratch, "fleetdrift").await?;
            let r = async {
                scratch.build(built, platform).await?;
                Catalog::capture(&scratch.target().connect().await?).await
            }
            .await;
            let dropped = scratch.drop_now().await;
            let c = r?;
            dropped?;
            Ok::<_, Error>(c)
        }
        .await;
        let expected = match expected {
            Ok(mut c) => {
                scope.apply(&mut c);
                c
            }
            Err(e) => {
                let e = Arc::new(e);
                for i in indexes {
                    out[i] = Err(e.clone());
                }
                continue;
            }
        };
        for i in indexes {
            let actual = async {
                let client = members[i].target.connect().await?;
                Catalog::capture(&client).await
            }
            .await;
            out[i] = match actual {
                Ok(mut actual) => {
                    let mut expected = expected.clone();
                    let role = actual.role.clone();
                    expected.rename_role(&expected.role.clone(), &role);
                    scope.apply(&mut actual);
                    Ok(crate::diff::compare(&expected, &actual)
                        .iter()
                        .map(|d| d.to_string())
                        .collect())
                }
                Err(e) => Err(Arc::new(e)),
            };
        }
    }
    out
}
