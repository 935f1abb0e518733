//! Supabase platform emulation for vanilla PostgreSQL.
//!
//! Supabase migrations rely on objects the platform creates before any migration runs: the API
//! roles, `auth.users` and `auth.uid()`, the storage tables, the `extensions` schema, the
//! `supabase_realtime` publication. On a target that lacks them, Strata installs them from
//! `platform/supabase/roles.sql` (cluster-wide) and `platform/supabase/*.sql` (this database),
//! versioned in `strata_platform.emulation` and idempotent, so the same migrations and their RLS
//! policies run — and are tested — anywhere. Never on a real Supabase database, and never
//! silently: [`inspect`] says what a database is, and the push report says what was done.
//!
//! Installing writes, so a push does it only under its migration lock, after re-reading the plan
//! ([`crate::apply`]). The roles are the exception to "one database, one lock": they belong to
//! the server, so two pushes to two databases of one server may create them at the same moment;
//! that step runs in its own transaction and is retried (see [`install`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::error::Error;
use crate::session::Notice;

mod hints;
pub use hints::annotate;

/// The per-database emulation script: the files of `platform/supabase/` in name order (the
/// sources and versions they were taken from are in `00_base.sql`'s header).
pub const SUPABASE_SQL: &str = concat!(
    include_str!("platform/supabase/00_base.sql"),
    include_str!("platform/supabase/10_auth.sql"),
    include_str!("platform/supabase/20_storage.sql"),
    include_str!("platform/supabase/30_realtime.sql"),
    include_str!("platform/supabase/40_vault.sql"),
    include_str!("platform/supabase/50_functions.sql"),
    include_str!("platform/supabase/90_marker.sql"),
    include_str!("platform/supabase/95_owner.sql"),
);

/// The cluster-wide part: the API roles and the platform's own roles.
pub const SUPABASE_ROLES_SQL: &str = include_str!("platform/supabase/roles.sql");

/// The version of [`SUPABASE_SQL`]; bump it when the script changes so targets are upgraded.
/// 2: the whole of auth, storage and realtime as the services create them, vault,
/// supabase_functions and a pg_net stand-in (1: auth.users, buckets and objects).
pub const SUPABASE_VERSION: i32 = 2;

/// The roles [`SUPABASE_ROLES_SQL`] creates: the API roles, `authenticator` and the
/// platform's own (NOLOGIN here). Other databases of a server may use them, so a scratch build
/// on a shared server never drops them (`strata::scratch`). A test checks this list against
/// the roles a private cluster has after the emulation is installed.
pub const EMULATED_ROLES: &[&str] = &[
    "anon",
    "authenticated",
    "service_role",
    "authenticator",
    "supabase_admin",
    "supabase_auth_admin",
    "supabase_storage_admin",
    "supabase_realtime_admin",
    "supabase_functions_admin",
    "supabase_replication_admin",
    "supabase_read_only_user",
    "dashboard_user",
    "pgbouncer",
];

/// A schema the Supabase platform (or Strata's emulation of it) owns: its objects are the
/// platform's, not the migrations' (except what users add there — policies on storage tables,
/// triggers on auth.users, bucket rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedSchema {
    pub name: &'static str,
    /// Whether Strata's emulation creates it on plain PostgreSQL.
    pub emulated: bool,
    /// What creates it on Supabase, for messages.
    pub created_by: &'static str,
}

const fn schema(name: &'static str, emulated: bool, created_by: &'static str) -> ManagedSchema {
    ManagedSchema {
        name,
        emulated,
        created_by,
    }
}

/// Every schema the Supabase platform and Strata manage — the one list that catalog capture,
/// diff, the lint catalog rules, the freshness check and the error hints all use.
pub const MANAGED_SCHEMAS: &[ManagedSchema] = &[
    schema("auth", true, "GoTrue (supabase/auth)"),
    schema("storage", true, "the storage API (supabase/storage)"),
    schema("realtime", true, "Realtime (supabase/realtime)"),
    schema("vault", true, "the supabase_vault extension"),
    schema("supabase_functions", true, "database webhooks"),
    schema("net", true, "the pg_net extension"),
    schema("extensions", true, "the platform's init scripts"),
    schema("supabase_migrations", true, "the Supabase CLI's history"),
    schema("graphql", false, "the pg_graphql extension"),
    schema("graphql_public", false, "the pg_graphql extension"),
    schema("pgsodium", false, "the pgsodium extension"),
    schema("pgsodium_masks", false, "the pgsodium extension"),
    schema("cron", false, "the pg_cron extension"),
    schema("pgmq", false, "the pgmq extension"),
    schema("pgtle", false, "the pg_tle extension"),
    schema("pgbouncer", false, "Supavisor/PgBouncer's auth function"),
    schema("_realtime", false, "Realtime's own bookkeeping"),
    schema("_analytics", false, "Logflare"),
    schema("strata_platform", true, "Strata's emulation record"),
];

/// Extensions a Supabase project (or Strata's emulation of one) has before any migration.
pub const PLATFORM_EXTENSIONS: &[&str] = &[
    "plpgsql",
    "pg_graphql",
    "pg_stat_statements",
    "pgsodium",
    "supabase_vault",
    "pgjwt",
    "uuid-ossp",
    "pgcrypto",
];

/// The names of [`MANAGED_SCHEMAS`].
pub fn managed_schema_names() -> impl Iterator<Item = &'static str> {
    MANAGED_SCHEMAS.iter().map(|s| s.name)
}

/// Whether `schema` is one of [`MANAGED_SCHEMAS`].
pub fn is_managed_schema(schema: &str) -> bool {
    MANAGED_SCHEMAS.iter().any(|s| s.name == schema)
}

/// Which platform the migrations expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Supabase: install the emulation where the target is not a Supabase database.
    Supabase,
    /// Plain PostgreSQL: install nothing.
    None,
}

impl Platform {
    /// The default for a migrations directory: Supabase for `…/supabase/migrations`.
    pub fn default_for(dir: &std::path::Path) -> Platform {
        let is_supabase = dir
            .components()
            .rev()
            .nth(1)
            .is_some_and(|c| c.as_os_str() == "supabase");
        if is_supabase {
            Platform::Supabase
        } else {
            Platform::None
        }
    }

    pub fn parse(s: &str) -> Option<Platform> {
        match s {
            "supabase" => Some(Platform::Supabase),
            "none" => Some(Platform::None),
            _ => None,
        }
    }
}

/// What one database is, as far as the Supabase platform goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PlatformState {
    /// A real Supabase database (its `auth` schema belongs to a `supabase_*` role): nothing to do.
    RealSupabase { evidence: String },
    /// The emulation is installed at this version or newer. `stale_session`: the inspecting
    /// session began before it was installed, so it does not have the `search_path` the
    /// emulation gives new sessions (another run installed it while this one waited).
    Current { version: i32, stale_session: bool },
    /// The emulation is installed at an older version.
    Outdated { version: i32 },
    /// Neither: the emulation must be installed before the migrations run.
    Missing,
}

impl PlatformState {
    /// Whether [`install`] has work to do.
    pub fn needs_install(&self) -> bool {
        matches!(
            self,
            PlatformState::Outdated { .. } | PlatformState::Missing
        )
    }
}

/// Reads what the connected database is; writes nothing. The decision is per database: a server
/// that runs Supabase may hold other databases that are plain PostgreSQL (a role such as
/// `supabase_admin` exists server-wide and proves nothing about this database).
pub async fn inspect(client: &Client) -> Result<PlatformState, Error> {
    let row = client
        .query_one(
            "select (select r.rolname::text from pg_catalog.pg_namespace n \
                       join pg_catalog.pg_roles r on r.oid = n.nspowner \
                      where n.nspname = 'auth' and r.rolname like 'supabase%'), \
                    pg_catalog.to_regclass('strata_platform.emulation') is not null",
            &[],
        )
        .await
        .map_err(|e| Error::db("checking for the Supabase platform", e))?;
    let auth_owner: Option<String> = row.get(0);
    let emulated: bool = row.get(1);
    if let (Some(owner), false) = (auth_owner, emulated) {
        return Ok(PlatformState::RealSupabase {
            evidence: format!("schema auth is owned by {owner}"),
        });
    }
    if !emulated {
        return Ok(PlatformState::Missing);
    }
    let row = client
        .query_opt(
            // Stale: the database's search_path (set by the emulation) is not the one this
            // session started with. Settings are read when a session starts, so the session
            // began before the install committed.
            "select e.version, \
                    coalesce(d.value <> (select reset_val from pg_catalog.pg_settings \
                                          where name = 'search_path'), false) \
               from strata_platform.emulation e \
               left join (select substr(s.cfg, length('search_path=') + 1) as value \
                            from pg_catalog.pg_db_role_setting r \
                            join pg_catalog.pg_database db on db.oid = r.setdatabase \
                           cross join lateral pg_catalog.unnest(r.setconfig) as s(cfg) \
                           where db.datname = pg_catalog.current_database() and r.setrole = 0 \
                             and s.cfg like 'search_path=%') d on true \
              where e.component = 'supabase'",
            &[],
        )
        .await
        .map_err(|e| Error::db("reading the platform emulation version", e))?;
    Ok(
        match row.map(|r| (r.get::<_, i32>(0), r.get::<_, bool>(1))) {
            Some((v, stale)) if v >= SUPABASE_VERSION => PlatformState::Current {
                version: v,
                stale_session: stale,
            },
            Some((v, _)) => PlatformState::Outdated { version: v },
            None => PlatformState::Missing,
        },
    )
}

/// What a push did about the platform.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformReport {
    pub platform: Platform,
    /// `installed`, `upgraded`, `current` (already there), `real_supabase` (the target is a
    /// Supabase database: nothing to do), `would_install` (dry run).
    pub status: &'static str,
    pub version: i32,
    /// Why the database counts as real Supabase, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// What the server said while installing (e.g. a role created without BYPASSRLS).
    pub notices: Vec<Notice>,
}

impl PlatformReport {
    /// The report for a state that needs no install (or a dry run's).
    pub fn of(state: &PlatformState, dry_run: bool) -> PlatformReport {
        let (status, evidence) = match state {
            PlatformState::RealSupabase { evidence } => ("real_supabase", Some(evidence.clone())),
            PlatformState::Current { .. } => ("current", None),
            _ if dry_run => ("would_install", None),
            PlatformState::Outdated { .. } => ("upgraded", None),
            PlatformState::Missing => ("installed", None),
        };
        PlatformReport {
            platform: Platform::Supabase,
            status,
            version: SUPABASE_VERSION,
            evidence,
            notices: Vec::new(),
        }
    }
}

/// How often the cluster-wide roles step is tried before giving up.
const ROLE_ATTEMPTS: u32 = 10;

/// Installs or upgrades the emulation on the connected database. The caller holds the
/// migration lock and has just seen `state` (from [`inspect`]) under it.
///
/// The roles step runs first, alone in a transaction, and is retried up to ten times (with a
/// short, growing, jittered pause) when another session of the server created or granted the
/// same roles concurrently: `duplicate_object`, `unique_violation`, `tuple concurrently updated`
/// (an internal error PostgreSQL raises when two transactions update one shared catalog row) and
/// serialization failures. Retrying is enough because the step is idempotent: the second try
/// finds the roles there. Then the per-database script runs in one transaction.
///
/// The session that installed has the database's old `search_path`; callers that run migrations
/// afterwards continue on a new session (see `apply`).
pub async fn install(client: &Client, state: &PlatformState) -> Result<PlatformReport, Error> {
    // Roles belong to the server: before creating any, make sure they can be created, so a
    // user who may not leaves nothing behind.
    let missing = check_can_install(client).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let roles = format!("BEGIN;\n{SUPABASE_ROLES_SQL}\nCOMMIT;");
        match client.batch_execute(&roles).await {
            Ok(()) => break,
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                if attempt < ROLE_ATTEMPTS && is_concurrent_catalog_update(&e) {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                return Err(Error::db(
                    "installing the Supabase platform emulation (roles anon, authenticated, service_role, authenticator)",
                    e,
                ));
            }
        }
    }
    let script = format!("BEGIN;\n{SUPABASE_SQL}\nCOMMIT;");
    if let Err(e) = client.batch_execute(&script).await {
        let _ = client.batch_execute("ROLLBACK").await;
        // The roles this install created go again (one another database already uses stays).
        for role in &missing {
            let _ = client
                .batch_execute(&format!(
                    "DROP ROLE IF EXISTS {}",
                    crate::quote::ident(role)
                ))
                .await;
        }
        return Err(Error::db("installing the Supabase platform emulation", e));
    }
    Ok(PlatformReport::of(state, false))
}

/// Whether the connected role may install the emulation: the server-wide roles it lacks, or
/// (when some are missing and the role may not create roles) the refusal a push and its dry
/// run give before anything is created.
pub async fn check_can_install(client: &Client) -> Result<Vec<String>, Error> {
    let context = "checking what installing the Supabase platform emulation needs";
    let me = client
        .query_one(
            "SELECT r.rolsuper, r.rolcreaterole, current_user::text, \
                    ARRAY(SELECT x FROM unnest($1::text[]) x WHERE NOT EXISTS \
                          (SELECT 1 FROM pg_catalog.pg_roles o WHERE o.rolname = x)) \
               FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
            &[&EMULATED_ROLES],
        )
        .await
        .map_err(|e| Error::db(context, e))?;
    let (superuser, createrole, user, missing): (bool, bool, String, Vec<String>) =
        (me.get(0), me.get(1), me.get(2), me.get(3));
    if !missing.is_empty() && !superuser && !createrole {
        return Err(Error::Database {
            context: "installing the Supabase platform emulation".into(),
            message: format!(
                "role {user} may not create roles (neither superuser nor CREATEROLE), and the emulation needs the server-wide roles {}; nothing was created",
                missing.join(", ")
            ),
            code: Some("42501".into()),
            hint: Some(format!(
                "have an administrator create them once (a push by a superuser installs the emulation and hands it to the database's owner), or `ALTER ROLE {user} CREATEROLE`"
            )),
            source: None,
        });
    }
    Ok(missing)
}

/// Whether an error is another session's concurrent change to a shared catalog.
fn is_concurrent_catalog_update(e: &tokio_postgres::Error) -> bool {
    let Some(db) = e.as_db_error() else {
        return false;
    };
    let code = db.code();
    code == &SqlState::DUPLICATE_OBJECT
        || code == &SqlState::UNIQUE_VIOLATION
        || code == &SqlState::T_R_SERIALIZATION_FAILURE
        || code == &SqlState::T_R_DEADLOCK_DETECTED
        || (code == &SqlState::INTERNAL_ERROR && db.message().contains("concurrently"))
}

/// 10, 20, 40 … ms (at most 320), plus up to half as much again, from the clock's nanoseconds.
fn backoff(attempt: u32) -> Duration {
    let base = 10u64 << attempt.min(5);
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
        % (base / 2 + 1);
    Duration::from_millis(base + jitter)
}

/// Inspects and, unless `dry_run`, installs what is missing, on one connection and without a
/// lock: for tests and tools that own the database. A push uses [`inspect`] and [`install`]
/// under its lock instead.
pub async fn ensure(
    client: &Client,
    platform: Platform,
    dry_run: bool,
) -> Result<Option<PlatformReport>, Error> {
    if platform == Platform::None {
        return Ok(None);
    }
    let state = inspect(client).await?;
    if !state.needs_install() || dry_run {
        return Ok(Some(PlatformReport::of(&state, dry_run)));
    }
    install(client, &state).await.map(Some)
}
