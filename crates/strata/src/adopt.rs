//! Other tools' history tables: a database that dbmate, diesel, golang-migrate, goose, sqlx,
//! Flyway or node-pg-migrate migrated keeps that tool's record of what ran. Strata reads it —
//! never writes it, unless asked ([`record_sql`]) — and counts those versions as applied, so
//! the first push runs only what the tool had not run; the push then copies them into Strata's
//! history, marked with where they came from.
//!
//! The tables, as each tool creates them (default names, in the schema the tool's connection
//! defaults to, `public`):
//! - dbmate: `schema_migrations (version varchar PRIMARY KEY)`, a row per applied version;
//! - golang-migrate: `schema_migrations (version bigint, dirty boolean)`, one row: the current
//!   version (every version up to it is applied); `dirty` means the last migration failed;
//! - goose: `goose_db_version (id, version_id bigint, is_applied boolean, tstamp)`, one row per
//!   up or down; the latest row of a version says whether it is applied; version 0 is goose's
//!   own first row;
//! - sqlx: `_sqlx_migrations (version bigint, description, installed_on, success, checksum,
//!   execution_time)`; `success = false` marks a migration that failed;
//! - diesel: `__diesel_schema_migrations (version varchar, run_on timestamp)`;
//! - Flyway: `flyway_schema_history (installed_rank, version, description, type, script,
//!   checksum, installed_by, installed_on, execution_time, success)`; `BASELINE` rows count every
//!   version up to theirs as applied, `UNDO_SQL` and `DELETE` rows undo one, `success = false`
//!   marks a failure; repeatables have no version;
//! - node-pg-migrate: `pgmigrations (id, name, run_on)`, `name` the file name without `.sql`.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use tokio_postgres::GenericClient;

use crate::error::Error;
use crate::history::{quote_literal, AppliedMigration, History};
use crate::quote::ident;
use crate::source::{Layout, Migration, MigrationSet, Version};

/// Where a tool keeps its history by default: `(schema, table)`.
pub fn default_table(layout: Layout) -> Option<(&'static str, &'static str)> {
    Some(match layout {
        Layout::Dbmate | Layout::GolangMigrate => ("public", "schema_migrations"),
        Layout::Goose => ("public", "goose_db_version"),
        Layout::Sqlx => ("public", "_sqlx_migrations"),
        Layout::Diesel => ("public", "__diesel_schema_migrations"),
        Layout::Flyway => ("public", "flyway_schema_history"),
        Layout::NodePgMigrate => ("public", "pgmigrations"),
        Layout::Strata | Layout::Supabase => return None,
    })
}

/// The history tables Strata knows, for telling a user of the Strata layout that a database
/// holds another tool's history: `(table, tool)`.
const KNOWN: &[(&str, Layout)] = &[
    ("public.schema_migrations", Layout::Dbmate),
    ("public.goose_db_version", Layout::Goose),
    ("public._sqlx_migrations", Layout::Sqlx),
    ("public.__diesel_schema_migrations", Layout::Diesel),
    ("public.flyway_schema_history", Layout::Flyway),
    ("public.pgmigrations", Layout::NodePgMigrate),
];

/// One version another tool recorded as applied.
#[derive(Debug, Clone, Serialize)]
pub struct ToolApplied {
    pub version: Version,
    pub name: Option<String>,
    /// When the tool ran it, where it records that.
    pub applied_at: Option<crate::history::Timestamp>,
}

/// What another tool's history table says is applied.
#[derive(Debug, Clone, Serialize)]
pub struct ToolHistory {
    /// The tool (its layout name).
    pub tool: &'static str,
    /// The table, schema-qualified.
    pub table: String,
    pub applied: Vec<ToolApplied>,
}

impl ToolHistory {
    /// How the versions are marked in Strata's history and in `migration list`:
    /// `dbmate (public.schema_migrations)`.
    pub fn source(&self) -> String {
        format!("{} ({})", self.tool, self.table)
    }
}

fn refused(table: &str, message: String, hint: String) -> Error {
    Error::ToolHistory {
        table: table.to_string(),
        message,
        hint,
    }
}

/// Reads the history table of `set`'s tool (its layout's, or `set.tool_history_table`), if the
/// table exists. Errors: the tool itself marks its history as broken (golang-migrate `dirty`,
/// sqlx or Flyway `success = false`): refused with what to fix; the table's columns are not the
/// tool's.
pub async fn read(
    client: &impl GenericClient,
    set: &MigrationSet,
) -> Result<Option<ToolHistory>, Error> {
    let Some((schema, table)) = default_table(set.layout) else {
        return Ok(None);
    };
    let qualified = set
        .tool_history_table
        .clone()
        .unwrap_or_else(|| format!("{schema}.{table}"));
    let mut candidates = vec![qualified.clone()];
    // golang-migrate and sqlx read the same files: either history may be there.
    match set.layout {
        Layout::GolangMigrate if set.tool_history_table.is_none() => {
            candidates.push("public._sqlx_migrations".into())
        }
        Layout::Sqlx if set.tool_history_table.is_none() => {
            candidates.push("public.schema_migrations".into())
        }
        _ => {}
    }
    for name in candidates {
        let columns = columns(client, &name).await?;
        if columns.is_empty() {
            continue;
        }
        return read_table(client, set, &name, &columns).await.map(Some);
    }
    Ok(None)
}

/// The columns of `table` (`schema.table`), empty when it does not exist.
async fn columns(client: &impl GenericClient, table: &str) -> Result<Vec<String>, Error> {
    let rows = client
        .query(
            "select a.attname::text from pg_catalog.pg_attribute a \
             where a.attrelid = pg_catalog.to_regclass($1) and a.attnum > 0 and not a.attisdropped",
            &[&table],
        )
        .await
        .map_err(|e| Error::db(format!("looking for {table}"), e))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

fn quoted(table: &str) -> String {
    match table.split_once('.') {
        Some((s, t)) => format!("{}.{}", ident(s), ident(t)),
        None => ident(table),
    }
}

/// One row of another tool's history table, read with checks: a NULL where the tool always
/// writes a value, a value of another type, or a version that is not one, is an error naming
/// the table, the row and the column — never a panic, never a guess.
struct Cells<'a> {
    row: &'a tokio_postgres::Row,
    /// 1-based, in the order the table was read.
    n: usize,
    table: &'a str,
    tool: &'a str,
}

impl Cells<'_> {
    fn bad(&self, column: &str, problem: &str) -> Error {
        refused(
            self.table,
            format!(
                "row {} of {} ({}'s history) has {problem} in column {column}",
                self.n, self.table, self.tool
            ),
            format!(
                "fix or delete that row of {} as {} would need it (Strata writes nothing there), then run again",
                self.table, self.tool
            ),
        )
    }

    /// A column the tool always fills.
    fn need<'b, T: tokio_postgres::types::FromSql<'b>>(
        &'b self,
        i: usize,
        column: &str,
    ) -> Result<T, Error> {
        match self.row.try_get::<_, Option<T>>(i) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.bad(column, "NULL")),
            Err(_) => Err(self.bad(column, "a value of an unexpected type")),
        }
    }

    /// A column that may be NULL.
    fn may<'b, T: tokio_postgres::types::FromSql<'b>>(
        &'b self,
        i: usize,
        column: &str,
    ) -> Result<Option<T>, Error> {
        self.row
            .try_get::<_, Option<T>>(i)
            .map_err(|_| self.bad(column, "a value of an unexpected type"))
    }

    /// A version, parsed.
    fn version(&self, text: &str, column: &str) -> Result<Version, Error> {
        Version::parse(text)
            .ok_or_else(|| self.bad(column, &format!("`{text}`, which is not a version")))
    }
}

async fn read_table(
    client: &impl GenericClient,
    set: &MigrationSet,
    table: &str,
    columns: &[String],
) -> Result<ToolHistory, Error> {
    let has = |c: &str| columns.iter().any(|x| x == c);
    let q = quoted(table);
    let db = |e| Error::db(format!("reading {table}"), e);
    let epoch = |v: Option<f64>| v.and_then(crate::history::Timestamp::from_epoch);
    let local_upto = |max: &Version| -> Vec<ToolApplied> {
        set.migrations
            .iter()
            .filter(|m| m.version <= *max)
            .map(|m| ToolApplied {
                version: m.version.clone(),
                name: Some(m.name.clone()),
                applied_at: None,
            })
            .collect()
    };
    let (tool, applied) = if has("dirty") && has("version") {
        // golang-migrate: one row, the current version.
        let tool = "golang-migrate";
        let rows = client
            .query(
                &format!("select version::text, dirty from {q} limit 2"),
                &[],
            )
            .await
            .map_err(db)?;
        if rows.len() > 1 {
            return Err(refused(
                table,
                format!("{table} ({tool}'s history) holds more than one row; {tool} keeps exactly one (the current version)"),
                format!("delete the rows that are not the current version, as {tool} would leave it, then run again"),
            ));
        }
        let applied = match rows.first() {
            None => Vec::new(),
            Some(r) => {
                let c = Cells {
                    row: r,
                    n: 1,
                    table,
                    tool,
                };
                let version: String = c.need(0, "version")?;
                let dirty: bool = c.need(1, "dirty")?;
                if dirty {
                    return Err(refused(
                        table,
                        format!("golang-migrate recorded version {version} as dirty in {table}: the migration failed partway and the database is in an unknown state"),
                        format!("fix the database by hand, then clear the flag as golang-migrate requires (`migrate force {version}` if it is fully applied, or force the version before it), and push again"),
                    ));
                }
                // golang-migrate's versions are whole numbers (a numeric column may hold more).
                if !version.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(c.bad(
                        "version",
                        &format!("`{version}`, which is not a whole number"),
                    ));
                }
                local_upto(&c.version(&version, "version")?)
            }
        };
        (tool, applied)
    } else if has("version_id") && has("is_applied") {
        // goose: the latest row of each version decides.
        let tool = "goose";
        let rows = client
            .query(
                &format!("select version_id::text, is_applied, extract(epoch from tstamp)::float8 from {q} order by id"),
                &[],
            )
            .await
            .map_err(db)?;
        let mut state: BTreeMap<String, (bool, Option<f64>)> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            let c = Cells {
                row: r,
                n: i + 1,
                table,
                tool,
            };
            let v: String = c.need(0, "version_id")?;
            state.insert(v, (c.need(1, "is_applied")?, c.may(2, "tstamp")?));
        }
        let mut applied = Vec::new();
        for (n, (v, (on, at))) in state.into_iter().enumerate() {
            if !on || v == "0" {
                continue;
            }
            let version = Version::parse(&v).ok_or_else(|| {
                refused(
                    table,
                    format!("{table} ({tool}'s history) records version_id `{v}`, which is not a version (row {})", n + 1),
                    format!("fix or delete that row of {table}, then run again"),
                )
            })?;
            applied.push(ToolApplied {
                version,
                name: None,
                applied_at: epoch(at),
            });
        }
        (tool, applied)
    } else if has("success") && has("installed_rank") {
        // Flyway.
        let tool = "Flyway";
        let rows = client
            .query(
                &format!("select version, description, type, success, extract(epoch from installed_on)::float8, script from {q} order by installed_rank"),
                &[],
            )
            .await
            .map_err(db)?;
        let mut applied: BTreeMap<String, ToolApplied> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            let c = Cells {
                row: r,
                n: i + 1,
                table,
                tool,
            };
            let version: Option<String> = c.may(0, "version")?;
            let kind: String = c.need(2, "type")?;
            let success: bool = c.need(3, "success")?;
            let script: String = c.need(5, "script")?;
            if !success {
                return Err(refused(
                    table,
                    format!("Flyway recorded {script} as failed in {table}"),
                    "fix the database by hand, then remove the failed row as Flyway requires (`flyway repair`), and push again".into(),
                ));
            }
            // Repeatable migrations have no version.
            let Some(version) = version else {
                continue;
            };
            let v = c.version(&version, "version")?;
            match kind.as_str() {
                "BASELINE" => {
                    for a in local_upto(&v) {
                        applied.insert(a.version.key(), a);
                    }
                }
                k if k.starts_with("UNDO") || k == "DELETE" => {
                    applied.remove(&v.key());
                }
                "SCHEMA" => {}
                _ => {
                    applied.insert(
                        v.key(),
                        ToolApplied {
                            version: v,
                            name: c.may(1, "description")?,
                            applied_at: epoch(c.may(4, "installed_on")?),
                        },
                    );
                }
            }
        }
        (tool, applied.into_values().collect())
    } else if has("success") && has("checksum") && has("version") {
        // sqlx.
        let tool = "sqlx";
        let rows = client
            .query(
                &format!("select version::text, description, success, extract(epoch from installed_on)::float8 from {q} order by version"),
                &[],
            )
            .await
            .map_err(db)?;
        let mut applied = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let c = Cells {
                row: r,
                n: i + 1,
                table,
                tool,
            };
            let version: String = c.need(0, "version")?;
            if !c.need::<bool>(2, "success")? {
                return Err(refused(
                    table,
                    format!("sqlx recorded version {version} as failed (success = false) in {table}"),
                    format!("fix the database by hand, then delete that row (`DELETE FROM {table} WHERE version = {version}`) as sqlx requires, and push again"),
                ));
            }
            applied.push(ToolApplied {
                version: c.version(&version, "version")?,
                name: c.may(1, "description")?,
                applied_at: epoch(c.may(3, "installed_on")?),
            });
        }
        (tool, applied)
    } else if has("run_on") && has("name") {
        // node-pg-migrate: the name is the file name; its version the leading digits.
        let tool = "node-pg-migrate";
        let rows = client
            .query(
                &format!(
                    "select name, extract(epoch from run_on)::float8 from {q} order by run_on"
                ),
                &[],
            )
            .await
            .map_err(db)?;
        let mut applied = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let c = Cells {
                row: r,
                n: i + 1,
                table,
                tool,
            };
            let name: String = c.need(0, "name")?;
            let (digits, rest) = name.split_once('_').unwrap_or((&name, ""));
            applied.push(ToolApplied {
                version: c.version(digits, "name")?,
                name: Some(rest.to_string()),
                applied_at: epoch(c.may(1, "run_on")?),
            });
        }
        (tool, applied)
    } else if has("run_on") && has("version") {
        // diesel.
        let tool = "diesel";
        let rows = client
            .query(
                &format!("select version::text, extract(epoch from run_on)::float8 from {q}"),
                &[],
            )
            .await
            .map_err(db)?;
        let mut applied = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let c = Cells {
                row: r,
                n: i + 1,
                table,
                tool,
            };
            let version: String = c.need(0, "version")?;
            applied.push(ToolApplied {
                version: c.version(&version.replace('-', ""), "version")?,
                name: None,
                applied_at: epoch(c.may(1, "run_on")?),
            });
        }
        (tool, applied)
    } else if has("version") && columns.len() <= 2 {
        // dbmate (and Rails, whose table it mimics): a row per version.
        let tool = "dbmate";
        let rows = client
            .query(&format!("select version::text from {q}"), &[])
            .await
            .map_err(db)?;
        let mut applied = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let c = Cells {
                row: r,
                n: i + 1,
                table,
                tool,
            };
            let version: String = c.need(0, "version")?;
            applied.push(ToolApplied {
                version: c.version(&version, "version")?,
                name: None,
                applied_at: None,
            });
        }
        (tool, applied)
    } else {
        return Err(refused(
            table,
            format!(
                "{table} is not a history table Strata knows (columns: {})",
                columns.join(", ")
            ),
            format!(
                "name the {} history table with history_table = \"schema.table\" in strata.toml, or set layout to the tool that wrote {table}",
                set.layout.name()
            ),
        ));
    };
    let mut applied = applied;
    applied.sort_by(|a, b| a.version.cmp(&b.version));
    // A version the tool recorded twice (dbmate, diesel and node-pg-migrate tables do not
    // forbid it) is one applied migration.
    applied.dedup_by(|a, b| a.version.key() == b.version.key());
    Ok(ToolHistory {
        tool,
        table: table.to_string(),
        applied,
    })
}

/// How Strata marks, in its history, a version it applied and also recorded in the tool's
/// table (`record_in_tool_history`).
pub fn mirrored_source(set: &MigrationSet) -> Option<String> {
    let (schema, table) = default_table(set.layout)?;
    let table = set
        .tool_history_table
        .clone()
        .unwrap_or_else(|| format!("{schema}.{table}"));
    Some(format!("mirrored to {} ({table})", set.layout.name()))
}

/// Counts what another tool applied as applied in `history`: each version of `tool` that
/// Strata's own history lacks is added, marked with its source and as not yet recorded. And the
/// other way: a version Strata's history holds because of that tool (adopted from its table, or
/// mirrored into it) that the table no longer lists was rolled back with the tool since — it is
/// no longer applied ([`History::rolled_back_by_tool`]).
pub fn merge(history: &mut History, tool: &ToolHistory) {
    let listed: HashSet<String> = tool.applied.iter().map(|a| a.version.key()).collect();
    let marker = format!("({})", tool.table);
    let (kept, gone): (Vec<AppliedMigration>, Vec<AppliedMigration>) =
        std::mem::take(&mut history.applied)
            .into_iter()
            .partition(|a| {
                !a.source.as_deref().is_some_and(|s| s.ends_with(&marker))
                    || listed.contains(&a.version.key())
            });
    history.applied = kept;
    history.rolled_back_by_tool.extend(gone);
    let recorded: HashSet<String> = history.applied.iter().map(|a| a.version.key()).collect();
    for a in &tool.applied {
        if recorded.contains(&a.version.key()) {
            continue;
        }
        history.applied.push(AppliedMigration {
            version: a.version.clone(),
            name: a.name.clone(),
            checksum: None,
            statements: None,
            applied_at: a.applied_at,
            duration_ms: None,
            applied_by: None,
            source: Some(tool.source()),
            adopted: true,
        });
    }
    history.applied.sort_by(|a, b| a.version.cmp(&b.version));
}

/// Reads `set`'s tool history and merges it into `history` ([`merge`]); returns what was read.
/// For the Strata and Supabase layouts there is nothing to merge, but a database with nothing in
/// Strata's history and another tool's history with rows is refused ([`Error::ToolHistory`]):
/// a push would run again what that tool ran; the error names the layout that adopts it.
pub async fn adopt_into(
    client: &impl GenericClient,
    set: &MigrationSet,
    history: &mut History,
) -> Result<Option<ToolHistory>, Error> {
    if !set.layout.is_tool() {
        if history.applied.is_empty() && !set.migrations.is_empty() {
            if let Some((table, layout, rows)) = foreign_history(client).await? {
                let tool = layout.name();
                return Err(Error::ToolHistory {
                    message: format!(
                        "this database has nothing in Strata's history but {rows} row(s) in {table}, {tool}'s history table: pushing would run again what {tool} ran"
                    ),
                    hint: format!(
                        "to adopt that history, read the directory as {tool} does: layout = \"{tool}\" in strata.toml (docs/switching/{tool}.md); if {table} is not {tool}'s, record what is applied with `strata migration repair --status applied VERSION…`"
                    ),
                    table,
                });
            }
        }
        return Ok(None);
    }
    let tool = read(client, set).await?;
    if let Some(t) = &tool {
        merge(history, t);
    }
    Ok(tool)
}

/// For a project in Strata's or the Supabase layout with nothing in Strata's history: the first
/// known tool history table that has rows, `(table, tool, rows)`. A push there would re-run
/// every migration the tool ran, so the plan refuses it and says which layout adopts it.
pub async fn foreign_history(
    client: &impl GenericClient,
) -> Result<Option<(String, Layout, i64)>, Error> {
    // One query for the common case, a database with none of them.
    let names: Vec<String> = KNOWN.iter().map(|(t, _)| t.to_string()).collect();
    let present: Vec<String> = client
        .query(
            "select t from unnest($1::text[]) t where pg_catalog.to_regclass(t) is not null",
            &[&names],
        )
        .await
        .map_err(|e| Error::db("looking for other tools' history tables", e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for (table, layout) in KNOWN.iter().filter(|(t, _)| present.iter().any(|p| p == t)) {
        let columns = columns(client, table).await?;
        if columns.is_empty() {
            continue;
        }
        let q = quoted(table);
        let rows: i64 = client
            .query_one(&format!("select count(*) from {q}"), &[])
            .await
            .map_err(|e| Error::db(format!("reading {table}"), e))?
            .get(0);
        if rows > 0 {
            let layout = if columns.iter().any(|c| c == "dirty") {
                Layout::GolangMigrate
            } else {
                *layout
            };
            return Ok(Some((table.to_string(), layout, rows)));
        }
    }
    Ok(None)
}

/// SQL that brings Strata's history in line with the tool's: removes the versions the tool has
/// rolled back since, and copies adopted versions (those of `history` not yet recorded) in,
/// with the local file's name, statements and checksum, the tool's time when it has one, and the
/// source. Run under the migration lock, in one transaction.
pub fn adopt_sql(history: &History, set: &MigrationSet) -> Result<String, Error> {
    let mut sql = String::new();
    for a in &history.rolled_back_by_tool {
        sql.push_str(&crate::history::remove_sql(&a.version, true));
        sql.push('\n');
    }
    for a in history.applied.iter().filter(|a| a.adopted) {
        let Some(m) = set.get(&a.version) else {
            continue;
        };
        let source = a.source.clone().unwrap_or_default();
        sql.push_str(&crate::history::record_sql(m, true, "strata (adopted)")?);
        sql.push_str(&format!(
            "\nUPDATE supabase_migrations.strata_history SET source = {s}, applied_at = coalesce({at}::timestamptz, applied_at), duration_ms = NULL WHERE version = {v};\n",
            s = quote_literal(&source),
            at = a
                .applied_at
                .map(|t| quote_literal(&t.to_string()))
                .unwrap_or_else(|| "NULL".into()),
            v = quote_literal(m.version.as_str()),
        ));
    }
    Ok(sql)
}

/// With `record_in_tool_history = true`: SQL that also records `m` as applied in the tool's own
/// table, in the same transaction, so the team can go back to the tool. `None` for the tools
/// whose rows carry a checksum only they compute (sqlx, Flyway) and for Strata's layouts.
pub fn record_sql(set: &MigrationSet, m: &Migration) -> Option<String> {
    let (schema, table) = default_table(set.layout)?;
    let t = quoted(
        &set.tool_history_table
            .clone()
            .unwrap_or_else(|| format!("{schema}.{table}")),
    );
    let v = quote_literal(m.version.as_str());
    Some(match set.layout {
        Layout::Dbmate => format!("INSERT INTO {t} (version) VALUES ({v}) ON CONFLICT DO NOTHING;"),
        Layout::GolangMigrate => format!(
            "DELETE FROM {t}; INSERT INTO {t} (version, dirty) VALUES ({}, false);",
            m.version
        ),
        Layout::Goose => format!(
            "INSERT INTO {t} (version_id, is_applied) VALUES ({}, true);",
            m.version
        ),
        Layout::Diesel => format!("INSERT INTO {t} (version) VALUES ({v}) ON CONFLICT DO NOTHING;"),
        Layout::NodePgMigrate => format!(
            "INSERT INTO {t} (name, run_on) VALUES ({}, now());",
            quote_literal(
                m.path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .as_deref()
                    .unwrap_or_default()
            )
        ),
        _ => return None,
    })
}

/// With `record_in_tool_history = true`: SQL that records the rollback of `m` in the tool's own
/// table (the version before it, for golang-migrate). `None` as for [`record_sql`].
pub fn remove_sql(set: &MigrationSet, m: &Migration) -> Option<String> {
    let (schema, table) = default_table(set.layout)?;
    let t = quoted(
        &set.tool_history_table
            .clone()
            .unwrap_or_else(|| format!("{schema}.{table}")),
    );
    let v = quote_literal(m.version.as_str());
    Some(match set.layout {
        Layout::Dbmate | Layout::Diesel => format!("DELETE FROM {t} WHERE version = {v};"),
        Layout::GolangMigrate => {
            let before = set
                .migrations
                .iter()
                .rev()
                .find(|x| x.version < m.version)
                .map(|x| x.version.to_string());
            match before {
                Some(b) => format!(
                    "DELETE FROM {t}; INSERT INTO {t} (version, dirty) VALUES ({b}, false);"
                ),
                None => format!("DELETE FROM {t};"),
            }
        }
        Layout::Goose => format!(
            "INSERT INTO {t} (version_id, is_applied) VALUES ({}, false);",
            m.version
        ),
        Layout::NodePgMigrate => format!(
            "DELETE FROM {t} WHERE name = {};",
            quote_literal(
                m.path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .as_deref()
                    .unwrap_or_default()
            )
        ),
        _ => return None,
    })
}
