//! Throwaway databases: the schema the migrations describe, built where nothing else can see
//! it, used and dropped. `strata lint --schema`, `verify`, `diff`, `schema diff|dump` and
//! `migration squash` all work on them.
//!
//! Where they are built ([`Scratch`]):
//! - by default, in **private clusters** of the project's own (`.strata/scratch/<n>/`, created
//!   from the installed server binaries by [`crate::local::LocalCluster`] and kept running, like
//!   the local cluster). Each scratch database leases a whole cluster for its life (an exclusive
//!   `flock` on `<n>/lease`), so two builds never see each other's roles, and the lease ends by
//!   dropping the database and every role the build created (`ALTER ROLE postgres RESET ALL`,
//!   `ALTER SYSTEM RESET ALL` too): nothing outlives a build. A slot that cannot be cleaned is
//!   destroyed and created again. Several leases at once use several clusters.
//! - with `STRATA_SCRATCH_URL`, on that **server**: one build at a time within this process (a
//!   second waits for the first to end), and the roles a build created — all but the platform
//!   emulation's, which other databases of that server may be using — are dropped when it ends.
//!   Other processes on the same server can still see them while it runs.
//!
//! Code that builds two sides must not hold two [`ScratchDb`]s at once with `STRATA_SCRATCH_URL`
//! (the second would wait for the first forever): build, capture and drop one, then the other.
//!
//! A scratch database is named `strata_scratch_<purpose>_<pid>_<n>`; one left behind by a killed
//! run is dropped by the next lease of its cluster, or, on a server, by the next
//! [`ScratchDb::create`] once its process is gone (same host only: the pid is checked locally, and
//! only for servers on loopback or a socket).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::Client;

use crate::apply::{Migrator, PushOptions, PushReport};
use crate::config::Project;
use crate::error::Error;
use crate::history::quote_literal;
use crate::platform::Platform;
use crate::source::MigrationSet;
use crate::target::{SessionSettings, Target, TargetSource};

pub use crate::target::SCRATCH_URL_VAR;

const PREFIX: &str = "strata_scratch_";

/// The directory of the project's private scratch clusters, under its state directory.
pub const POOL_DIR: &str = "scratch";

/// The most private clusters a pool grows to; a lease beyond waits for one to be free.
const POOL_SLOTS: usize = 16;

/// Where scratch databases are built: private clusters of the project's, or the server
/// `STRATA_SCRATCH_URL` names. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Scratch {
    place: Place,
}

#[derive(Debug, Clone)]
enum Place {
    /// Private clusters under this directory (`<dir>/<n>/`).
    Pool(PathBuf),
    /// One server; builds take turns.
    Server(Target),
}

/// One build at a time on a `STRATA_SCRATCH_URL` server, in this process.
static SERVER_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Scratch {
    /// Scratch for `project`: `STRATA_SCRATCH_URL` if set, else private clusters under
    /// `<state dir>/scratch`. Nothing is started yet. Errors: the variable does not hold a
    /// connection string ([`Error::Setting`] naming it).
    pub fn for_project(project: &Project) -> Result<Scratch, Error> {
        if let Some(url) = std::env::var(SCRATCH_URL_VAR)
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            return Ok(Scratch::server(Target::from_url(
                &url,
                TargetSource::Scratch,
                SessionSettings::default(),
            )?));
        }
        Ok(Scratch::pool(project.state_dir().join(POOL_DIR)))
    }

    /// Private clusters under `dir` (created and started on first use, kept running).
    pub fn pool(dir: impl Into<PathBuf>) -> Scratch {
        Scratch {
            place: Place::Pool(dir.into()),
        }
    }

    /// The server `target` (a user that may `CREATE DATABASE` and `CREATE ROLE`).
    pub fn server(target: Target) -> Scratch {
        Scratch {
            place: Place::Server(target),
        }
    }

    /// Where builds go, for a `Scratch:` line: the pool's directory, or the server (password
    /// redacted).
    pub fn display(&self) -> String {
        match &self.place {
            Place::Pool(dir) => format!("private clusters in {}", dir.display()),
            Place::Server(t) => format!("{} ({SCRATCH_URL_VAR})", t.display()),
        }
    }

    /// What a user should know about where builds go: on a shared server, builds take turns
    /// and their roles are dropped after each (`None` for private clusters).
    pub fn note(&self) -> Option<String> {
        match &self.place {
            Place::Pool(_) => None,
            Place::Server(_) => Some(format!(
                "{SCRATCH_URL_VAR} names a shared server: scratch builds run there one after the other, and the roles each one creates (other than the platform emulation's) are dropped after it"
            )),
        }
    }

    /// Whether builds take turns (a shared server): then no code may hold two scratch
    /// databases at once.
    pub fn takes_turns(&self) -> bool {
        matches!(self.place, Place::Server(_))
    }

    /// The pool's directory, when builds go to private clusters.
    pub fn pool_dir(&self) -> Option<&Path> {
        match &self.place {
            Place::Pool(dir) => Some(dir),
            Place::Server(_) => None,
        }
    }
}

/// Stops every private scratch cluster under `<state_dir>/scratch` (`strata db stop`); returns
/// how many were running.
pub fn stop_pool(state_dir: &Path) -> Result<usize, Error> {
    let dir = state_dir.join(POOL_DIR);
    let mut stopped = 0;
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(0);
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", &dir, e))?;
        if entry.path().join("local").is_dir()
            && crate::local::LocalCluster::new(entry.path()).stop()?
        {
            stopped += 1;
        }
    }
    Ok(stopped)
}

/// A lease on a private cluster: its `flock`, held for the life of a scratch database.
#[derive(Debug)]
struct Lease {
    _file: std::fs::File,
    slot: PathBuf,
}

/// What a scratch database holds while it lives.
enum Holding {
    Cluster(Lease),
    /// The server's turn, and the roles as they were before the build.
    Turn {
        _turn: tokio::sync::MutexGuard<'static, ()>,
        before: Vec<Role>,
    },
}

/// A database that exists for one build. Call [`ScratchDb::drop_now`] when done; if the value
/// is dropped without it (a panic, an early `?`), the database and its roles go at the next
/// lease of the cluster, or (on a server) the database at the next [`ScratchDb::create`] once
/// this process has exited.
pub struct ScratchDb {
    server: Target,
    name: String,
    purpose: String,
    target: Target,
    holding: Holding,
}

impl ScratchDb {
    /// Creates an empty database (from `template0`, so nothing of `template1` leaks in) on a
    /// private cluster it leases, or on the scratch server once it is this build's turn.
    /// `purpose` is a short lowercase word that ends up in the name (`lint`, `diff`). Errors:
    /// the cluster does not start ([`Error::Local`]); the database cannot be created.
    pub async fn create(scratch: &Scratch, purpose: &str) -> Result<ScratchDb, Error> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let (server, holding) = match &scratch.place {
            Place::Pool(dir) => {
                let (server, lease) = lease_cluster(dir.clone()).await?;
                (server, Holding::Cluster(lease))
            }
            Place::Server(target) => {
                let turn = SERVER_TURN.lock().await;
                let admin = target.connect().await?;
                drop_abandoned(&admin).await;
                let roles = roles(&admin).await?;
                (
                    target.clone(),
                    Holding::Turn {
                        _turn: turn,
                        before: roles,
                    },
                )
            }
        };
        let admin = server.connect().await?;
        let name = format!(
            "{PREFIX}{}_{}_{}",
            purpose
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .await
            .map_err(|e| {
                let mut err = Error::db(
                    format!("creating scratch database {name} on {}", server.display()),
                    e,
                );
                if let Error::Database { hint, .. } = &mut err {
                    hint.get_or_insert_with(|| {
                        format!("scratch databases need a user allowed to CREATE DATABASE; set {SCRATCH_URL_VAR} to such a server, or unset it to use private clusters")
                    });
                }
                err
            })?;
        let target = server.with_database(&name);
        Ok(ScratchDb {
            server,
            name,
            purpose: purpose.to_string(),
            target,
            holding,
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A target connecting to the scratch database.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The server the database is on (its `postgres` database for a private cluster).
    pub fn server(&self) -> &Target {
        &self.server
    }

    /// Applies every migration of `set` (and the platform emulation they expect), exactly as
    /// `strata push` would to a new database. Errors: [`Error::ScratchBuild`] around what failed.
    pub async fn build(&self, set: MigrationSet, platform: Platform) -> Result<PushReport, Error> {
        self.build_seeded(set, platform, Vec::new()).await
    }

    /// [`ScratchDb::build`], then `seeds` (as `strata push --include-seed` runs them). Pushing
    /// a larger set later applies only what is new.
    pub async fn build_seeded(
        &self,
        set: MigrationSet,
        platform: Platform,
        seeds: Vec<crate::apply::SeedFile>,
    ) -> Result<PushReport, Error> {
        let options = PushOptions {
            platform,
            include_all: true,
            seeds,
            ..PushOptions::default()
        };
        Migrator::new(set)
            .with_options(options)
            .push(&self.target)
            .await
            .map_err(|e| Error::ScratchBuild {
                purpose: format!("strata {}", self.purpose),
                database: self.name.clone(),
                error: Box::new(e),
            })
    }

    /// The roles this build created or changed, with their attributes, settings and memberships
    /// ([`Role`]): on a private cluster, every role but PostgreSQL's own (the emulation's
    /// included); on a shared server, the roles created since the build began (other than the
    /// emulation's) and the ones that existed and were changed (the emulation's included).
    pub async fn roles(&self) -> Result<Vec<Role>, Error> {
        let client = self.server.connect().await?;
        let all = roles(&client).await?;
        Ok(match &self.holding {
            Holding::Cluster(_) => all,
            Holding::Turn { before, .. } => all
                .into_iter()
                .filter(|r| match before.iter().find(|b| b.name == r.name) {
                    Some(b) => b != r,
                    None => !crate::platform::EMULATED_ROLES.contains(&r.name.as_str()),
                })
                .collect(),
        })
    }

    /// Drops the database (closing any connection still open to it) and the roles the build
    /// created, and ends the lease or the turn.
    pub async fn drop_now(self) -> Result<(), Error> {
        let admin = self.server.connect().await?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .map_err(|e| Error::db(format!("dropping scratch database {}", self.name), e))?;
        match &self.holding {
            Holding::Cluster(lease) => {
                if clean_cluster(&admin).await.is_err() {
                    // Housekeeping; the next lease cleans (or re-creates) the cluster.
                    let _ = std::fs::write(lease.slot.join("dirty"), b"");
                }
            }
            Holding::Turn { before, .. } => {
                let now = roles(&admin).await.unwrap_or_default();
                for role in &now {
                    match before.iter().find(|b| b.name == role.name) {
                        // Created by the build (the emulation's stay: other databases of the
                        // server may use them). A role another database uses cannot be
                        // dropped: it stays.
                        None if !crate::platform::EMULATED_ROLES.contains(&role.name.as_str()) => {
                            let _ = admin
                                .batch_execute(&format!(
                                    "DROP ROLE IF EXISTS {}",
                                    crate::quote::ident(&role.name)
                                ))
                                .await;
                        }
                        None => {}
                        // Changed by the build: put back as it was.
                        Some(b) if b != role => {
                            let _ = admin.batch_execute(&restore_role_sql(b, role)).await;
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        Ok(())
    }
}

/// The statements that put `now` back to `was`: attributes, `ALTER ROLE … SET` settings (for
/// every database) and memberships.
fn restore_role_sql(was: &Role, now: &Role) -> String {
    let name = crate::quote::ident(&was.name);
    let mut sql = String::new();
    let flag = |on: &str, off: &str, set: bool| if set { on.to_string() } else { off.to_string() };
    let has = |a: &str| was.attributes.iter().any(|x| x == a);
    sql.push_str(&format!(
        "ALTER ROLE {name} WITH {} {} {} {} {} {} {};\n",
        flag("LOGIN", "NOLOGIN", has("LOGIN")),
        flag("CREATEDB", "NOCREATEDB", has("CREATEDB")),
        flag("CREATEROLE", "NOCREATEROLE", has("CREATEROLE")),
        flag("REPLICATION", "NOREPLICATION", has("REPLICATION")),
        flag("BYPASSRLS", "NOBYPASSRLS", has("BYPASSRLS")),
        flag("NOINHERIT", "INHERIT", has("NOINHERIT")),
        flag("SUPERUSER", "NOSUPERUSER", has("SUPERUSER")),
    ));
    if was.settings != now.settings {
        sql.push_str(&format!("ALTER ROLE {name} RESET ALL;\n"));
        for setting in &was.settings {
            if let Some((key, value)) = setting.split_once('=') {
                sql.push_str(&format!(
                    "ALTER ROLE {name} SET {} = {};\n",
                    crate::quote::ident(key),
                    quote_literal(value)
                ));
            }
        }
    }
    for g in now.member_of.iter().filter(|g| !was.member_of.contains(g)) {
        sql.push_str(&format!("REVOKE {} FROM {name};\n", crate::quote::ident(g)));
    }
    for g in was.member_of.iter().filter(|g| !now.member_of.contains(g)) {
        sql.push_str(&format!("GRANT {} TO {name};\n", crate::quote::ident(g)));
    }
    sql
}

/// Leases a free private cluster under `dir` (starting or creating it), cleaned of whatever a
/// killed run left in it; returns its `postgres` database and the lease.
async fn lease_cluster(dir: PathBuf) -> Result<(Target, Lease), Error> {
    let started = std::time::Instant::now();
    loop {
        let pool = dir.clone();
        let leased = tokio::task::spawn_blocking(move || try_lease(&pool))
            .await
            .map_err(|e| Error::setting("scratch", format!("leasing a scratch cluster: {e}")))??;
        if let Some((lease, info)) = leased {
            let target = Target::from_url(
                &info.url("postgres"),
                TargetSource::Scratch,
                SessionSettings::default(),
            )?;
            let admin = target.connect().await?;
            let dirty = lease.slot.join("dirty");
            if clean_cluster(&admin).await.is_err() {
                // Re-create a cluster that cannot be cleaned.
                drop(admin);
                let slot = lease.slot.clone();
                let info = tokio::task::spawn_blocking(move || {
                    let cluster = crate::local::LocalCluster::new(&slot);
                    cluster.destroy()?;
                    cluster.start()
                })
                .await
                .map_err(|e| {
                    Error::setting("scratch", format!("re-creating a scratch cluster: {e}"))
                })??;
                let target = Target::from_url(
                    &info.url("postgres"),
                    TargetSource::Scratch,
                    SessionSettings::default(),
                )?;
                let _ = std::fs::remove_file(&dirty);
                return Ok((target, lease));
            }
            let _ = std::fs::remove_file(&dirty);
            return Ok((target, lease));
        }
        if started.elapsed() > std::time::Duration::from_secs(600) {
            return Err(Error::setting(
                "scratch",
                format!(
                    "all {POOL_SLOTS} scratch clusters in {} stayed busy for 10 minutes",
                    dir.display()
                ),
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The first free slot under `dir`, locked and started; `None` when all are busy.
fn try_lease(dir: &Path) -> Result<Option<(Lease, crate::local::RunningInfo)>, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    for n in 0..POOL_SLOTS {
        let slot = dir.join(n.to_string());
        std::fs::create_dir_all(&slot).map_err(|e| Error::io("create directory", &slot, e))?;
        let path = slot.join("lease");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            continue;
        }
        let info = crate::local::LocalCluster::new(&slot).start()?;
        return Ok(Some((Lease { _file: file, slot }, info)));
    }
    Ok(None)
}

/// Brings a leased private cluster back to what `initdb` made: no database but PostgreSQL's
/// own, no role but the bootstrap superuser (its settings reset), no `ALTER SYSTEM` setting.
async fn clean_cluster(admin: &Client) -> Result<(), Error> {
    let context = "cleaning a scratch cluster";
    let databases = admin
        .query(
            "SELECT datname FROM pg_catalog.pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')",
            &[],
        )
        .await
        .map_err(|e| Error::db(context, e))?;
    for row in databases {
        let name: String = row.get(0);
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                crate::quote::ident(&name)
            ))
            .await
            .map_err(|e| Error::db(context, e))?;
    }
    // Roles the build created: every one after initdb's (FirstNormalObjectId is 16384).
    let roles = admin
        .query(
            "SELECT rolname FROM pg_catalog.pg_roles WHERE oid >= 16384 ORDER BY oid DESC",
            &[],
        )
        .await
        .map_err(|e| Error::db(context, e))?;
    if !roles.is_empty() {
        let mut sql = String::new();
        for row in &roles {
            let name: String = row.get(0);
            sql.push_str(&format!(
                "DROP OWNED BY {0} CASCADE; DROP ROLE {0};\n",
                crate::quote::ident(&name)
            ));
        }
        admin
            .batch_execute(&sql)
            .await
            .map_err(|e| Error::db(context, e))?;
    }
    admin
        .batch_execute("ALTER ROLE postgres RESET ALL")
        .await
        .map_err(|e| Error::db(context, e))?;
    let altered: bool = admin
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf')",
            &[],
        )
        .await
        .map_err(|e| Error::db(context, e))?
        .get(0);
    if altered {
        admin
            .batch_execute("ALTER SYSTEM RESET ALL; SELECT pg_catalog.pg_reload_conf()")
            .await
            .map_err(|e| Error::db(context, e))?;
    }
    Ok(())
}

/// A role as a build leaves it: its attributes, its `ALTER ROLE … SET` settings and the roles
/// it is a member of. Passwords are never read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Role {
    pub name: String,
    /// `LOGIN`, `SUPERUSER`, `CREATEDB`, `CREATEROLE`, `REPLICATION`, `BYPASSRLS`,
    /// `NOINHERIT`, `CONNECTION LIMIT n`, `VALID UNTIL …`: the ones that differ from
    /// `CREATE ROLE`'s defaults.
    pub attributes: Vec<String>,
    /// `ALTER ROLE … SET` settings (`name=value`), for every database.
    pub settings: Vec<String>,
    /// The roles it is a member of.
    pub member_of: Vec<String>,
}

/// Every role but PostgreSQL's own (`pg_*`) and the bootstrap superuser, sorted by name.
pub async fn roles(client: &Client) -> Result<Vec<Role>, Error> {
    let rows = client
        .query(
            "SELECT r.rolname::text,
                    array_remove(ARRAY[
                      CASE WHEN r.rolcanlogin THEN 'LOGIN' END,
                      CASE WHEN r.rolsuper THEN 'SUPERUSER' END,
                      CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
                      CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
                      CASE WHEN r.rolreplication THEN 'REPLICATION' END,
                      CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
                      CASE WHEN NOT r.rolinherit THEN 'NOINHERIT' END,
                      CASE WHEN r.rolconnlimit <> -1 THEN 'CONNECTION LIMIT ' || r.rolconnlimit END,
                      CASE WHEN r.rolvaliduntil IS NOT NULL THEN 'VALID UNTIL ' || r.rolvaliduntil END
                    ], NULL)::text[],
                    coalesce((SELECT array_agg(s.c ORDER BY s.c) FROM pg_catalog.pg_db_role_setting d,
                              unnest(d.setconfig) s(c) WHERE d.setrole = r.oid), '{}')::text[],
                    coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_catalog.pg_auth_members m
                              JOIN pg_catalog.pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '{}')::text[]
               FROM pg_catalog.pg_roles r
              WHERE r.rolname !~ '^pg_' AND r.oid <> 10
              ORDER BY 1",
            &[],
        )
        .await
        .map_err(|e| Error::db("reading roles", e))?;
    Ok(rows
        .iter()
        .map(|r| Role {
            name: r.get(0),
            attributes: r.get(1),
            settings: r.get(2),
            member_of: r.get(3),
        })
        .collect())
}

/// Drops scratch databases whose creating process is gone. Only for servers on this host
/// (a pid means nothing elsewhere); failures are ignored, this is housekeeping.
async fn drop_abandoned(admin: &Client) {
    let Ok(rows) = admin
        .query(
            &format!(
                "SELECT datname FROM pg_database WHERE datname LIKE {} \
                 AND (inet_server_addr() IS NULL OR host(inet_server_addr()) IN ('127.0.0.1', '::1'))",
                quote_literal(&format!("{PREFIX}%"))
            ),
            &[],
        )
        .await
    else {
        return;
    };
    for row in rows {
        let name: String = row.get(0);
        let Some(pid) = name.rsplit('_').nth(1).and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid as u32 == std::process::id() || process_alive(pid) {
            continue;
        }
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Drops (disconnecting its sessions) and recreates `database` on the running local cluster
/// `info`: `strata db reset`. (Here, not in `local`, so that `local` does not depend on the
/// error type: `Error` wraps `LocalError`.) Each statement runs alone: neither may run in a transaction block.
pub async fn recreate_database(
    info: &crate::local::RunningInfo,
    database: &str,
) -> Result<(), crate::Error> {
    let admin = crate::target::Target::local(&info.url("template1"), Default::default())?;
    let client = admin.connect().await?;
    let quoted = crate::quote::ident(database);
    for statement in [
        format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"),
        format!("CREATE DATABASE {quoted}"),
    ] {
        client
            .batch_execute(&statement)
            .await
            .map_err(|e| crate::Error::db(format!("recreating database {database}"), e))?;
    }
    Ok(())
}

/// The rows of a database's tables, keyed by qualified name: sorted JSON texts.
pub type Rows = std::collections::BTreeMap<String, Vec<String>>;

/// The rows of each of `tables` (qualified, quoted as the catalog names them) that exists and
/// has any, as sorted JSON texts (`row_to_json` of each row: `json` values kept as written,
/// duplicate keys and all, and `-0` stays `-0`, which `jsonb` would normalise). For proofs on scratch databases:
/// every row is read. Each table's own rows only (`ONLY`): a partition or an inheritance child
/// is read as itself, not again through its parent; a partitioned table (which holds no rows of
/// its own), a foreign table (whose rows are on another server), a view and anything else that
/// is not an ordinary table is left out.
pub async fn table_rows(client: &Client, tables: &[String]) -> Result<Rows, Error> {
    let mut out = Rows::new();
    for table in tables {
        let ordinary: bool = client
            .query_one(
                "select coalesce((select c.relkind = 'r' from pg_catalog.pg_class c where c.oid = pg_catalog.to_regclass($1)), false)",
                &[table],
            )
            .await
            .map_err(|e| Error::db("listing tables", e))?
            .get(0);
        if !ordinary {
            continue;
        }
        let row = client
            .query_one(
                &format!(
                    "select coalesce(array_agg(r order by r), '{{}}') from (select pg_catalog.row_to_json(t)::text as r from ONLY {table} t) x"
                ),
                &[],
            )
            .await
            .map_err(|e| Error::db(format!("reading the rows of {table}"), e))?;
        let rows: Vec<String> = row.get(0);
        if !rows.is_empty() {
            out.insert(table.clone(), rows);
        }
    }
    Ok(out)
}

/// Every ordinary table of the database, in every schema but PostgreSQL's own and the
/// migration history's (`supabase_migrations`) — platform schemas included — qualified and
/// quoted as the catalog names them, sorted. With [`table_rows`]: the rows a build holds
/// wherever they are.
pub async fn all_tables(client: &Client) -> Result<Vec<String>, Error> {
    Ok(client
        .query(
            "select pg_catalog.format('%I.%I', n.nspname, c.relname) from pg_catalog.pg_class c \
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
             where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations') \
             and n.nspname !~ '^pg_temp_' and n.nspname !~ '^pg_toast_temp_' order by 1",
            &[],
        )
        .await
        .map_err(|e| Error::db("listing tables", e))?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The columns of `table` a value can be given to (not generated, not dropped), quoted, in
/// their order: what an `INSERT` of its rows lists. Inherited columns (a partition's) included.
pub async fn insertable_columns(client: &Client, table: &str) -> Result<Vec<String>, Error> {
    Ok(client
        .query(
            "select pg_catalog.quote_ident(a.attname) from pg_catalog.pg_attribute a \
             where a.attrelid = pg_catalog.to_regclass($1) and a.attnum > 0 and not a.attisdropped \
             and a.attgenerated = '' order by a.attnum",
            &[&table],
        )
        .await
        .map_err(|e| Error::db(format!("reading the columns of {table}"), e))?
        .iter()
        .map(|r| r.get(0))
        .collect())
}
