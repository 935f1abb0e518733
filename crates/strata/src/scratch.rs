//! Throwaway databases: the schema the migrations describe, built on a server Strata may create
//! databases on (the project's local cluster by default), used and dropped. `strata lint
//! --schema`, `strata verify` and `strata diff` all work on one.
//!
//! A scratch database is named `strata_scratch_<purpose>_<pid>_<n>`; one left behind by a killed
//! run is dropped by the next [`ScratchDb::create`] on the same server once its process is gone
//! (same host only: the pid is checked locally, and only for servers on loopback or a socket).

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

/// The server scratch databases are created on: `STRATA_SCRATCH_URL` if set, else the project's
/// local cluster (started, created on first use). Blocking while the cluster starts.
pub fn server(project: &Project) -> Result<Target, Error> {
    if let Some(url) = std::env::var(SCRATCH_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        return Target::from_url(&url, TargetSource::Scratch, SessionSettings::default());
    }
    let info = crate::local::LocalCluster::new(project.state_dir()).start()?;
    Target::local(&info.url("postgres"), SessionSettings::default())
}

/// A database that exists for one run. Call [`ScratchDb::drop_now`] when done; if the value is
/// dropped without it (a panic, an early `?`), the database is dropped by the next
/// [`ScratchDb::create`] on the server once this process has exited.
pub struct ScratchDb {
    server: Target,
    name: String,
    purpose: String,
    target: Target,
}

impl ScratchDb {
    /// Creates an empty database on `server` (from `template0`, so nothing of `template1`
    /// leaks in). `purpose` is a short lowercase word that ends up in the name (`lint`, `diff`).
    pub async fn create(server: &Target, purpose: &str) -> Result<ScratchDb, Error> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin = server.connect().await?;
        drop_abandoned(&admin).await;
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
                        format!("scratch databases need a user allowed to CREATE DATABASE; set {SCRATCH_URL_VAR} to such a server, or unset it to use the local cluster")
                    });
                }
                err
            })?;
        let target = server.with_database(&name);
        Ok(ScratchDb {
            server: server.clone(),
            name,
            purpose: purpose.to_string(),
            target,
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

    /// Drops the database (closing any connection still open to it).
    pub async fn drop_now(self) -> Result<(), Error> {
        let admin = self.server.connect().await?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .map_err(|e| Error::db(format!("dropping scratch database {}", self.name), e))
    }
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
/// has any, as sorted JSON texts (`to_jsonb` of each row). For proofs on scratch databases:
/// every row is read.
pub async fn table_rows(client: &Client, tables: &[String]) -> Result<Rows, Error> {
    let mut out = Rows::new();
    for table in tables {
        let exists: bool = client
            .query_one("select to_regclass($1) is not null", &[table])
            .await
            .map_err(|e| Error::db("listing tables", e))?
            .get(0);
        if !exists {
            continue;
        }
        let row = client
            .query_one(
                &format!(
                    "select coalesce(array_agg(r::text order by r::text), '{{}}') from (select to_jsonb(t) as r from {table} t) x"
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
