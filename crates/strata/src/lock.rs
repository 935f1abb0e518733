//! The migration lock: one session-level advisory lock per target for the whole run, so
//! concurrent pushes (two CI jobs, replicas starting together) apply each migration once.
//!
//! The lock is taken by polling `pg_try_advisory_lock` outside any transaction, never by
//! blocking in `pg_advisory_lock`: a session blocked in that call holds a snapshot, and a
//! `CREATE INDEX CONCURRENTLY` run by the lock holder waits for every such snapshot — holder and
//! waiters would deadlock.

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::error::Error;

/// The advisory lock key (`3394687718947376225`): a constant chosen once, never changed, so that
/// old and new Strata binaries exclude each other. (Hold it yourself with
/// `select pg_advisory_lock(3394687718947376225)` to keep every Strata run waiting.)
pub const LOCK_KEY: i64 = 0x2f1c_5a7e_9b3d_4c61;

pub use crate::problem::LockHolder;

/// The migration lock, taken.
#[derive(Debug, Clone, Copy)]
pub struct Acquired {
    /// How long it took to get it.
    pub waited: Duration,
    /// The process id of the server session that holds it (the one doing the work).
    pub backend_pid: i32,
}

/// Takes the migration lock, waiting at most `wait`. `on_wait` is called once, when the lock
/// is found taken.
pub async fn acquire(
    client: &Client,
    wait: Duration,
    target: &str,
    mut on_wait: impl FnMut(&[LockHolder]),
) -> Result<Acquired, Error> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(20);
    let mut told = false;
    loop {
        let row = client
            .query_one(
                "select pg_try_advisory_lock($1), pg_backend_pid()",
                &[&LOCK_KEY],
            )
            .await
            .map_err(|e| Error::db("taking the migration lock", e))?;
        if row.get::<_, bool>(0) {
            return Ok(Acquired {
                waited: start.elapsed(),
                backend_pid: row.get(1),
            });
        }
        if !told {
            told = true;
            on_wait(&advisory_holders(client).await.unwrap_or_default());
        }
        let waited = start.elapsed();
        if waited >= wait {
            return Err(Error::LockWait {
                target: target.to_string(),
                waited,
                holders: advisory_holders(client).await.unwrap_or_default(),
            });
        }
        tokio::time::sleep(delay.min(wait - waited)).await;
        delay = (delay * 2).min(Duration::from_millis(250));
    }
}

/// Releases the migration lock (closing the session releases it too).
pub async fn release(client: &Client) -> Result<(), Error> {
    client
        .execute("select pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await
        .map(|_| ())
        .map_err(|e| Error::db("releasing the migration lock", e))
}

const HOLDER_COLUMNS: &str = "a.pid, a.usename::text, a.application_name, \
    coalesce(host(a.client_addr), 'local socket'), a.state, \
    extract(epoch from now() - coalesce(a.xact_start, a.backend_start))::int8";

/// The sessions holding the migration lock.
pub async fn advisory_holders(client: &Client) -> Result<Vec<LockHolder>, Error> {
    let query = format!(
        "select {HOLDER_COLUMNS}, null::text, left(a.query, 200) \
         from pg_locks l join pg_stat_activity a on a.pid = l.pid \
         where l.locktype = 'advisory' and l.granted \
         and l.classid = (($1::int8 >> 32) & 4294967295)::oid \
         and l.objid = ($1::int8 & 4294967295)::oid and l.objsubid = 1 \
         and a.pid <> pg_backend_pid()"
    );
    holders(client, &query, &[&LOCK_KEY]).await
}

/// What session `pid` is waiting for, if it waits for a lock: the lock (`relation
/// public.t (AccessExclusiveLock)`) and the sessions that hold or queue ahead for it
/// (`pg_blocking_pids`).
pub async fn blockers(
    client: &Client,
    pid: i32,
) -> Result<Option<(String, Vec<LockHolder>)>, Error> {
    let wanted = client
        .query_opt(
            "select l.locktype || coalesce(' ' || l.relation::regclass::text, '') \
                    || ' (' || l.mode || ')' \
               from pg_locks l where l.pid = $1 and not l.granted limit 1",
            &[&pid],
        )
        .await
        .map_err(|e| Error::db("listing lock waits", e))?;
    let Some(wanted) = wanted else {
        return Ok(None);
    };
    let query = format!(
        "select {HOLDER_COLUMNS}, \
         (select string_agg(distinct h.relation::regclass::text || ' (' || h.mode || ')', ', ') \
            from pg_locks h where h.pid = a.pid and h.granted and h.relation is not null), \
         left(a.query, 200) \
         from pg_stat_activity a where a.pid = any(pg_blocking_pids($1)) order by a.pid"
    );
    let holders = holders(client, &query, &[&pid]).await?;
    Ok(Some((wanted.get(0), holders)))
}

/// Sessions with open transactions holding locks on user relations of this database — who
/// a migration that hit `lock_timeout` was most likely waiting for.
pub async fn relation_lock_holders(client: &Client) -> Result<Vec<LockHolder>, Error> {
    let query = format!(
        "select {HOLDER_COLUMNS}, \
         string_agg(distinct l.relation::regclass::text || ' (' || l.mode || ')', ', '), \
         left(min(a.query), 200) \
         from pg_locks l join pg_stat_activity a on a.pid = l.pid \
         where l.granted and l.locktype = 'relation' and l.relation >= 16384 \
         and l.database = (select oid from pg_database where datname = current_database()) \
         and a.pid <> pg_backend_pid() and a.xact_start is not null \
         group by a.pid, a.usename, a.application_name, a.client_addr, a.state, a.xact_start, a.backend_start \
         order by a.xact_start limit 10"
    );
    holders(client, &query, &[]).await
}

async fn holders(
    client: &Client,
    query: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<LockHolder>, Error> {
    let rows = client
        .query(query, params)
        .await
        .map_err(|e| Error::db("listing lock holders", e))?;
    Ok(rows
        .into_iter()
        .map(|r| LockHolder {
            pid: r.get(0),
            user: r.get(1),
            application_name: r.get(2),
            client: r.get(3),
            state: r.get(4),
            seconds: r.get(5),
            relations: r.get(6),
            query: r
                .get::<_, Option<String>>(7)
                .map(|q| q.split_whitespace().collect::<Vec<_>>().join(" ")),
        })
        .collect())
}
