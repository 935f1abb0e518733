//! The applied-migration history, shared with the Supabase CLI.
//!
//! Two tables in schema `supabase_migrations`:
//! - `schema_migrations (version text primary key, statements text[], name text)` — created
//!   exactly as the Supabase CLI creates it and written the same way, so a project can move
//!   between the two tools in either direction. Read by column name: the hosted platform adds
//!   columns.
//! - `strata_history` — Strata's own facts (checksum and its algorithm, applied_at, duration,
//!   applied_by, Strata's version), which the Supabase CLI never reads.
//!
//! Reading never creates anything (a dry run changes nothing); [`ensure_tables`] runs only
//! under the migration lock, when a push is about to write.

use std::collections::HashMap;

use serde::Serialize;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, GenericClient};

use crate::error::Error;
use crate::source::{Migration, MigrationSet, Version, CHECKSUM_ALGORITHM};
use sha2::{Digest, Sha256};

/// The Supabase CLI's history schema.
pub const SCHEMA: &str = "supabase_migrations";

/// One version recorded as applied.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedMigration {
    pub version: Version,
    pub name: Option<String>,
    /// Strata's checksum of the file when it was applied (absent for versions applied by the
    /// Supabase CLI).
    pub checksum: Option<String>,
    /// The statements as recorded, loaded only where there is no checksum to compare.
    #[serde(skip)]
    pub statements: Option<Vec<String>>,
    /// When Strata applied it (shown and serialised as RFC 3339, UTC).
    pub applied_at: Option<Timestamp>,
    pub duration_ms: Option<i64>,
    pub applied_by: Option<String>,
    /// Where the row came from when another tool applied the version: `dbmate
    /// (public.schema_migrations)` ([`crate::adopt`]).
    pub source: Option<String>,
    /// Read from another tool's history and not yet copied into Strata's (a push copies it).
    #[serde(skip)]
    pub adopted: bool,
}

/// What the target has recorded.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Whether `supabase_migrations.schema_migrations` exists.
    pub exists: bool,
    /// Whether Strata's side table exists.
    pub side_table: bool,
    /// Whether the side table has every column this Strata writes (`source` came later).
    pub side_table_current: bool,
    /// Applied versions in version order.
    pub applied: Vec<AppliedMigration>,
    /// Versions Strata's history holds that the other tool (whose table Strata adopted or kept
    /// up to date) has rolled back since: no longer applied; a push removes them from Strata's
    /// history ([`crate::adopt::merge`]).
    pub rolled_back_by_tool: Vec<AppliedMigration>,
}

impl History {
    /// Reads the history in one round trip in the common case; a missing table means nothing
    /// is applied. Creates nothing.
    pub async fn read(client: &impl GenericClient) -> Result<History, Error> {
        const FULL: &str = "select s.version, s.name, h.checksum, \
             case when h.version is null then s.statements end, \
             extract(epoch from h.applied_at)::float8, \
             h.duration_ms, h.applied_by, h.source \
             from supabase_migrations.schema_migrations s \
             left join supabase_migrations.strata_history h on h.version = s.version";
        match client.query(FULL, &[]).await {
            Ok(rows) => Ok(History::from_rows(true, true, true, rows)),
            Err(e)
                if e.code() == Some(&SqlState::UNDEFINED_TABLE)
                    || e.code() == Some(&SqlState::UNDEFINED_COLUMN)
                    || e.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
            {
                Self::read_partial(client).await
            }
            Err(e) => Err(Error::db("reading the migration history", e)),
        }
    }

    /// The history in its most compact form: one row that says how many versions are applied,
    /// how many of them Strata recorded with a checksum, and the SHA-256 of their `version
    /// checksum` lines in byte order — 100 bytes whatever the history's length, where
    /// [`History::read`] transfers and decodes every row. `None` when a table or column Strata
    /// writes is missing (read the history instead).
    pub async fn digest(client: &impl GenericClient) -> Result<Option<HistoryDigest>, Error> {
        const DIGEST: &str = "select count(*), count(h.checksum), count(h.source), \
             encode(sha256(convert_to(coalesce(string_agg(s.version || ' ' || \
             coalesce(h.checksum, ''), E'\\n' order by s.version collate \"C\"), ''), 'UTF8')), 'hex') \
             from supabase_migrations.schema_migrations s \
             left join supabase_migrations.strata_history h on h.version = s.version";
        match client.query_one(DIGEST, &[]).await {
            Ok(row) => Ok(Some(HistoryDigest {
                rows: row.get(0),
                with_checksum: row.get(1),
                sha256: row.get(3),
            })),
            Err(e)
                if e.code() == Some(&SqlState::UNDEFINED_TABLE)
                    || e.code() == Some(&SqlState::UNDEFINED_COLUMN)
                    || e.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::db("reading the migration history", e)),
        }
    }

    /// The history `digest` describes, when it proves that the target has applied exactly the
    /// migrations of `set`, each with its current checksum: every applied version recorded by
    /// Strata, the same versions spelled the same way, the same checksums. Rebuilt from `set`
    /// (so without `applied_at`, `applied_by` or `duration_ms`); `None` whenever the digest
    /// cannot prove it, and the caller reads the history.
    pub fn proven_by(digest: &HistoryDigest, set: &MigrationSet) -> Option<History> {
        let n = set.migrations.len() as i64;
        if digest.rows != n || digest.with_checksum != n {
            return None;
        }
        let mut lines: Vec<(&str, &str)> = set
            .migrations
            .iter()
            .map(|m| (m.version.as_str(), m.checksum.as_str()))
            .collect();
        lines.sort_unstable();
        let mut hasher = Sha256::new();
        for (i, (version, checksum)) in lines.iter().enumerate() {
            if i > 0 {
                hasher.update(b"\n");
            }
            hasher.update(version.as_bytes());
            hasher.update(b" ");
            hasher.update(checksum.as_bytes());
        }
        if hex::encode(hasher.finalize()) != digest.sha256 {
            return None;
        }
        let mut applied: Vec<AppliedMigration> = set
            .migrations
            .iter()
            .map(|m| AppliedMigration {
                version: m.version.clone(),
                name: Some(m.name.clone()),
                checksum: Some(m.checksum.clone()),
                statements: None,
                applied_at: None,
                duration_ms: None,
                applied_by: None,
                source: None,
                adopted: false,
            })
            .collect();
        applied.sort_by(|a, b| a.version.cmp(&b.version));
        Some(History {
            exists: true,
            side_table: true,
            side_table_current: true,
            applied,
            rolled_back_by_tool: Vec::new(),
        })
    }

    /// The slow path: some table or column is missing (nothing applied yet, a project pushed
    /// only by the Supabase CLI, or a very old CLI without `name`/`statements`).
    async fn read_partial(client: &impl GenericClient) -> Result<History, Error> {
        let cols = client
            .query(
                "select table_name::text, column_name::text from information_schema.columns \
                 where table_schema = 'supabase_migrations' \
                 and table_name in ('schema_migrations', 'strata_history')",
                &[],
            )
            .await
            .map_err(|e| Error::db("reading the migration history", e))?;
        let has = |t: &str, c: &str| {
            cols.iter()
                .any(|r| r.get::<_, &str>(0) == t && r.get::<_, &str>(1) == c)
        };
        if !has("schema_migrations", "version") {
            return Ok(History::default());
        }
        let side = has("strata_history", "checksum");
        let source = if has("strata_history", "source") {
            "h.source"
        } else {
            "null::text"
        };
        let name = if has("schema_migrations", "name") {
            "s.name"
        } else {
            "null::text"
        };
        let statements = if has("schema_migrations", "statements") {
            if side {
                "case when h.version is null then s.statements end"
            } else {
                "s.statements"
            }
        } else {
            "null::text[]"
        };
        let query = if side {
            format!(
                "select s.version, {name}, h.checksum, {statements}, \
                 extract(epoch from h.applied_at)::float8, \
                 h.duration_ms, h.applied_by, {source} \
                 from supabase_migrations.schema_migrations s \
                 left join supabase_migrations.strata_history h on h.version = s.version"
            )
        } else {
            format!(
                "select s.version, {name}, null::text, {statements}, null::float8, null::int8, \
                 null::text, null::text from supabase_migrations.schema_migrations s"
            )
        };
        let rows = client
            .query(&query, &[])
            .await
            .map_err(|e| Error::db("reading the migration history", e))?;
        Ok(History::from_rows(
            true,
            side,
            side && has("strata_history", "source"),
            rows,
        ))
    }

    fn from_rows(
        exists: bool,
        side_table: bool,
        side_table_current: bool,
        rows: Vec<tokio_postgres::Row>,
    ) -> History {
        let mut applied: Vec<AppliedMigration> = rows
            .into_iter()
            .filter_map(|r| {
                let version: String = r.get(0);
                // The Supabase CLI only writes digits; skip anything else someone inserted.
                Some(AppliedMigration {
                    version: Version::parse(&version)?,
                    name: r.get(1),
                    checksum: r.get(2),
                    statements: r.get(3),
                    // Seconds since the epoch, formatted here: to_char on the server costs more
                    // than the rest of the query on large histories.
                    applied_at: r.get::<_, Option<f64>>(4).and_then(Timestamp::from_epoch),
                    duration_ms: r.get(5),
                    applied_by: r.get(6),
                    source: r.get(7),
                    adopted: false,
                })
            })
            .collect();
        applied.sort_by(|a, b| a.version.cmp(&b.version));
        History {
            exists,
            side_table,
            side_table_current,
            applied,
            rolled_back_by_tool: Vec::new(),
        }
    }

    /// Puts the applied versions in `order` (they are read in numeric order).
    pub fn sort(&mut self, order: crate::source::VersionOrder) {
        self.applied
            .sort_by(|a, b| order.cmp(&a.version, &b.version));
    }

    /// The newest applied version.
    pub fn newest(&self) -> Option<&Version> {
        self.applied.last().map(|a| &a.version)
    }

    /// Whether both tables exist with every column Strata writes.
    pub fn is_ready(&self) -> bool {
        self.exists && self.side_table && self.side_table_current
    }
}

/// A one-row summary of a target's history ([`History::digest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryDigest {
    /// Versions in `supabase_migrations.schema_migrations`.
    pub rows: i64,
    /// Of those, the ones with a checksum in Strata's side table.
    pub with_checksum: i64,
    /// SHA-256 (hex) of the `version checksum` lines, sorted by bytes, joined by newlines.
    pub sha256: String,
}

/// A moment a history table recorded, as seconds since the Unix epoch (read with
/// `extract(epoch from …)`: formatting 10,000 timestamps on the server or while reading costs
/// more than the rest of the read). Shown and serialised as RFC 3339 in UTC, whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Timestamp(f64);

impl Timestamp {
    /// `None` for a value that is not a finite moment `time` can represent (PostgreSQL's
    /// `infinity`, years past 9999).
    pub fn from_epoch(seconds: f64) -> Option<Timestamp> {
        time::OffsetDateTime::from_unix_timestamp(seconds.floor() as i64)
            .ok()
            .filter(|_| seconds.is_finite())
            .map(|_| Timestamp(seconds))
    }

    /// Seconds since the Unix epoch.
    pub fn epoch_seconds(self) -> f64 {
        self.0
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = time::OffsetDateTime::from_unix_timestamp(self.0.floor() as i64)
            .map_err(|_| std::fmt::Error)?;
        let text = t
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Removes every history row — the Supabase CLI's table and Strata's — in one transaction, for
/// a database built from schema files (`strata db reset --from-schemas`), which applied no
/// migration. Missing tables are nothing to remove. Returns the rows removed.
pub async fn clear(client: &Client) -> Result<u64, Error> {
    let history = History::read(client).await?;
    if !history.exists {
        return Ok(0);
    }
    let tables = if history.side_table {
        "supabase_migrations.schema_migrations, supabase_migrations.strata_history"
    } else {
        "supabase_migrations.schema_migrations"
    };
    client
        .batch_execute(&format!("TRUNCATE {tables}"))
        .await
        .map_err(|e| Error::db("clearing the migration history", e))?;
    Ok(history.applied.len() as u64)
}

/// The recorded statements of some versions (for showing what changed in a modified file).
pub async fn recorded_statements(
    client: &impl GenericClient,
    versions: &[String],
) -> Result<HashMap<String, Vec<String>>, Error> {
    if versions.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = client
        .query(
            "select version, coalesce(statements, '{}') from supabase_migrations.schema_migrations \
             where version = any($1)",
            &[&versions],
        )
        .await
        .map_err(|e| Error::db("reading recorded statements", e))?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Creates the history tables if they are missing, as the Supabase CLI does (with its 4 s
/// `lock_timeout`), plus Strata's side table. Run under the migration lock.
pub async fn ensure_tables(client: &Client) -> Result<(), Error> {
    client
        .batch_execute(ENSURE_SQL)
        .await
        .map_err(|e| Error::db("creating the migration history tables", e))
}

const ENSURE_SQL: &str = "BEGIN;
SET LOCAL lock_timeout = '4s';
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;
CREATE TABLE IF NOT EXISTS supabase_migrations.strata_history (
  version text NOT NULL PRIMARY KEY,
  name text,
  checksum text NOT NULL,
  checksum_algorithm text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  duration_ms bigint,
  applied_by text,
  db_role text NOT NULL DEFAULT current_user,
  strata_version text NOT NULL,
  transactional boolean NOT NULL DEFAULT true
);
ALTER TABLE supabase_migrations.strata_history ADD COLUMN IF NOT EXISTS source text;
COMMENT ON TABLE supabase_migrations.strata_history IS
  'Strata: checksums and timings of applied migrations; rows match schema_migrations by version.';
-- Created by a superuser in a database another role owns: the history is the owner's, so the
-- owner's own pushes (not a superuser) can read and write it.
DO $owner$
DECLARE
  owner name := (SELECT pg_catalog.pg_get_userbyid(d.datdba) FROM pg_catalog.pg_database d
                  WHERE d.datname = pg_catalog.current_database());
BEGIN
  IF owner <> current_user AND (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
     AND (SELECT nspowner FROM pg_catalog.pg_namespace WHERE nspname = 'supabase_migrations')
         = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE pg_catalog.format('ALTER SCHEMA supabase_migrations OWNER TO %I', owner);
    EXECUTE pg_catalog.format('ALTER TABLE supabase_migrations.schema_migrations OWNER TO %I', owner);
    EXECUTE pg_catalog.format('ALTER TABLE supabase_migrations.strata_history OWNER TO %I', owner);
  END IF;
END
$owner$;
COMMIT;";

/// Sent before every history write that follows a file in its round trip: whatever session
/// state the file left (`SET ROLE`, `SET SESSION AUTHORIZATION`, `search_path`,
/// `statement_timeout`, a read-only default for new transactions) never decides how, or as
/// whom, the history is written. (`transaction_read_only = off` first: it may only be set
/// before the transaction's first query, which in a transaction of its own it is.) `SET LOCAL`: it
/// ends with the transaction; the next file starts with `RESET ALL` anyway.
pub const RECORDING_PREAMBLE: &str = "SET LOCAL transaction_read_only = off;\nRESET ROLE;\nRESET SESSION AUTHORIZATION;\nSET LOCAL search_path = pg_catalog;\nSET LOCAL statement_timeout = 0;\n";

/// SQL that records `migration` as applied: the Supabase row and Strata's row. Built as text
/// so it travels in the same round trip (and the same transaction) as the migration itself;
/// it starts with [`RECORDING_PREAMBLE`].
pub fn record_sql(
    migration: &Migration,
    transactional: bool,
    applied_by: &str,
) -> Result<String, Error> {
    let statements = migration.statement_texts()?;
    let array = if statements.is_empty() {
        "'{}'::text[]".to_string()
    } else {
        format!(
            "ARRAY[{}]::text[]",
            statements
                .iter()
                .map(|s| quote_literal(s))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let v = quote_literal(migration.version.as_str());
    let n = quote_literal(&migration.name);
    Ok(format!(
        "{RECORDING_PREAMBLE}INSERT INTO supabase_migrations.schema_migrations (version, name, statements) VALUES ({v}, {n}, {array});\n\
         INSERT INTO supabase_migrations.strata_history \
         (version, name, checksum, checksum_algorithm, duration_ms, applied_by, strata_version, transactional) \
         VALUES ({v}, {n}, {c}, {a}, (extract(epoch from clock_timestamp() - statement_timestamp()) * 1000)::bigint, {by}, {sv}, {t}) \
         ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, \
         checksum_algorithm = excluded.checksum_algorithm, applied_at = now(), duration_ms = excluded.duration_ms, \
         applied_by = excluded.applied_by, db_role = current_user, strata_version = excluded.strata_version, \
         transactional = excluded.transactional;",
        c = quote_literal(&migration.checksum),
        a = quote_literal(CHECKSUM_ALGORITHM),
        by = quote_literal(applied_by),
        sv = quote_literal(crate::VERSION),
        t = transactional,
    ))
}

/// SQL that removes `version` from the history (both tables; Strata's only when it exists).
/// Built as text so it travels in the same round trip as the rollback file it goes with; it
/// starts with [`RECORDING_PREAMBLE`].
pub fn remove_sql(version: &Version, side_table: bool) -> String {
    let v = quote_literal(version.as_str());
    let mut sql = format!(
        "{RECORDING_PREAMBLE}DELETE FROM supabase_migrations.schema_migrations WHERE version = {v};"
    );
    if side_table {
        sql.push_str(&format!(
            "\nDELETE FROM supabase_migrations.strata_history WHERE version = {v};"
        ));
    }
    sql
}

/// What `migration repair` changed.
#[derive(Debug, Clone, Serialize)]
pub struct RepairChange {
    pub version: String,
    pub name: Option<String>,
    /// `applied` (recorded) or `reverted` (removed).
    pub status: RepairStatus,
    /// False when the history already said so.
    pub changed: bool,
}

/// The status `migration repair` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairStatus {
    Applied,
    Reverted,
}

/// Marks versions applied (recording the local file's name, statements and checksum, without
/// running it) or reverted (removing their rows), with Supabase CLI semantics. One transaction.
pub async fn repair(
    client: &mut Client,
    status: RepairStatus,
    migrations: &[&Migration],
    reverted_versions: &[Version],
    applied_by: &str,
) -> Result<Vec<RepairChange>, Error> {
    ensure_tables(client).await?;
    let tx = client
        .transaction()
        .await
        .map_err(|e| Error::db("starting the repair", e))?;
    let mut changes = Vec::new();
    match status {
        RepairStatus::Applied => {
            for m in migrations {
                let exists = tx
                    .query_opt(
                        "select 1 from supabase_migrations.schema_migrations where version = $1",
                        &[&m.version.as_str()],
                    )
                    .await
                    .map_err(|e| Error::db("repairing the history", e))?
                    .is_some();
                tx.batch_execute(&format!(
                    "DELETE FROM supabase_migrations.schema_migrations WHERE version = {v};\n{rec}",
                    v = quote_literal(m.version.as_str()),
                    rec = record_sql(m, true, applied_by)?
                ))
                .await
                .map_err(|e| Error::db("repairing the history", e))?;
                changes.push(RepairChange {
                    version: m.version.to_string(),
                    name: Some(m.name.clone()),
                    status,
                    changed: !exists,
                });
            }
        }
        RepairStatus::Reverted => {
            for v in reverted_versions {
                let removed = tx
                    .query_opt(
                        "delete from supabase_migrations.schema_migrations where version = $1 returning name",
                        &[&v.as_str()],
                    )
                    .await
                    .map_err(|e| Error::db("repairing the history", e))?;
                tx.execute(
                    "delete from supabase_migrations.strata_history where version = $1",
                    &[&v.as_str()],
                )
                .await
                .map_err(|e| Error::db("repairing the history", e))?;
                changes.push(RepairChange {
                    version: v.to_string(),
                    name: removed.as_ref().and_then(|r| r.get(0)),
                    status,
                    changed: removed.is_some(),
                });
            }
        }
    }
    tx.commit()
        .await
        .map_err(|e| Error::db("committing the repair", e))?;
    Ok(changes)
}

/// A `migration repair`, checked before anything connects: every version is digits, and for
/// `--status applied` each has a local file that splits (its statements are what gets recorded).
pub struct RepairRequest<'a> {
    status: RepairStatus,
    migrations: Vec<&'a Migration>,
    versions: Vec<Version>,
}

impl<'a> RepairRequest<'a> {
    /// Checks `versions` (as typed) against `set`.
    pub fn new(
        set: &'a crate::source::MigrationSet,
        status: RepairStatus,
        versions: &[String],
    ) -> Result<RepairRequest<'a>, Error> {
        let parsed = versions
            .iter()
            .map(|v| {
                Version::parse(v).ok_or_else(|| Error::Setting {
                    setting: "VERSION".into(),
                    message: format!("`{v}` is not a version (digits only)"),
                    hint: Some("pass the digits before the first _ of the file name".into()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut migrations = Vec::new();
        if status == RepairStatus::Applied {
            for v in &parsed {
                let m = set.get(v).ok_or_else(|| Error::Setting {
                    setting: "VERSION".into(),
                    message: format!("no local migration has version {v}"),
                    hint: Some("`--status applied` records a local file; check the version with `strata migration list`".into()),
                })?;
                m.statements()?;
                migrations.push(m);
            }
        }
        Ok(RepairRequest {
            status,
            migrations,
            versions: parsed,
        })
    }

    /// Takes the migration lock (waiting at most `lock_wait`), then [`repair`]s: a repair is a
    /// write to the history, and every write waits for a running push or rollback to finish.
    pub async fn apply(
        &self,
        client: &mut Client,
        target: &str,
        lock_wait: std::time::Duration,
        applied_by: &str,
        on_wait: impl FnMut(&[crate::problem::LockHolder]),
    ) -> Result<Vec<RepairChange>, Error> {
        crate::lock::acquire(client, lock_wait, target, on_wait).await?;
        let result = repair(
            client,
            self.status,
            &self.migrations,
            &self.versions,
            applied_by,
        )
        .await;
        let released = crate::lock::release(client).await;
        let changes = result?;
        released?;
        Ok(changes)
    }
}

pub use crate::quote::literal as quote_literal;

/// Who is applying: `user@host` of the machine running Strata.
pub fn applied_by() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for its length; gethostname writes a NUL-terminated name into it.
    let host = unsafe {
        if libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            String::from_utf8_lossy(&buf[..end]).into_owned()
        } else {
            "unknown".into()
        }
    };
    format!("{user}@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_survive_quotes_and_backslashes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\b'c"), r"E'a\\b''c'");
        assert_eq!(quote_literal(""), "''");
    }
}
