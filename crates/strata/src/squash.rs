//! `strata migration squash --to VERSION`: the migrations up to VERSION replaced by one
//! baseline that builds the same catalog and the same rows.
//!
//! The squashed migrations are built on a scratch database, next to one that has only what the
//! platform emulation brings. The baseline is the catalog's creation statements
//! ([`crate::diff::create_statements`]) with the rows the migrations wrote kept as `INSERT`s
//! (reference data, `cron` jobs, …; storage buckets are catalog objects already) and every
//! sequence set to where the migrations left it. The rows load after tables and functions and
//! before constraints, indexes and triggers, as `pg_dump` orders a dump, so no trigger fires
//! twice and no foreign key depends on insertion order. Its rollback drops what it creates.
//!
//! [`prove`] checks it before anything is written: the baseline followed by the migrations after
//! VERSION must build the same catalog and the same rows, in every table the migrations wrote
//! to, as the original migrations; the rollback must bring back the empty (platform-only)
//! catalog. [`replace_history`] then rewrites a database's history in one transaction: the
//! squashed versions' rows go, the baseline's row comes, so the next push there is a no-op.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use tokio_postgres::Client;

use crate::catalog::{Catalog, Kind};
use crate::diff::{compare, Scope, Sides};
use crate::error::Error;
use crate::history::{quote_literal, History};
use crate::platform::Platform;
use crate::scratch::ScratchDb;
use crate::source::{Migration, MigrationSet, Version};

/// The name of the baseline migration (`<VERSION>_baseline.sql`).
pub const BASELINE_NAME: &str = "baseline";

/// A planned squash.
#[derive(Debug, Clone, Serialize)]
pub struct Squash {
    /// The baseline's version: the newest squashed migration's.
    pub version: Version,
    /// The squashed migrations' files (and their rollback files).
    pub replaced: Vec<PathBuf>,
    /// The squashed versions, oldest first.
    pub versions: Vec<Version>,
    /// Tables whose rows the baseline keeps, with the number of rows.
    pub data: Vec<(String, usize)>,
    pub sql: String,
    pub rollback_sql: String,
}

use crate::scratch::{table_rows, Rows};

/// Plans squashing the migrations of `set` up to `to` (inclusive). Errors: `to` is not one of
/// them, or fewer than two migrations would be squashed ([`Error::Setting`]); the migrations
/// fail on a scratch database ([`Error::ScratchBuild`]).
pub async fn plan(
    set: &MigrationSet,
    to: &Version,
    platform: Platform,
    scratch: &crate::scratch::Scratch,
    scope: &Scope,
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
    let squashed = set.with_migrations(set.migrations[..=last].to_vec());
    let (built, empty) = tokio::join!(
        snapshot(scratch, "squashfrom", squashed, platform, scope),
        snapshot(scratch, "squashempty", platform_only(set), platform, scope),
    );
    let ((catalog, rows, sequences), (empty_catalog, empty_rows, _)) = (built?, empty?);
    let data = written_rows(&rows, &empty_rows);
    let mut statements = crate::diff::create_statements(&catalog);
    // Default privileges before the objects they apply to (the grants computed for each object
    // assume them).
    statements.sort_by_key(|(id, _)| {
        !matches!(
            id.kind,
            Kind::Schema | Kind::Extension | Kind::DefaultPrivileges
        )
    });
    let mut sql = String::from(
        "-- The migrations up to this version, squashed by `strata migration squash`: the schema\n-- they built and the rows they wrote.\n",
    );
    let mut data_written = false;
    for (id, statement) in &statements {
        if !data_written && loads_after_data(id.kind) {
            sql.push_str(&data_sql(&data, &catalog));
            data_written = true;
        }
        sql.push('\n');
        sql.push_str(statement);
        sql.push('\n');
    }
    if !data_written {
        sql.push_str(&data_sql(&data, &catalog));
    }
    for (name, value) in &sequences {
        sql.push_str(&format!(
            "SELECT pg_catalog.setval({}, {value}, true);\n",
            quote_literal(name)
        ));
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
        versions: set.migrations[..=last]
            .iter()
            .map(|m| m.version.clone())
            .collect(),
        replaced,
        data: data.iter().map(|(t, r)| (t.clone(), r.len())).collect(),
        sql,
        rollback_sql,
    })
}

/// The migrations of `set` with the squashed ones replaced by the baseline.
pub fn squashed_set(set: &MigrationSet, squash: &Squash) -> MigrationSet {
    let dir = set.dir.clone().unwrap_or_default();
    let mut migrations = vec![Migration::new(
        squash.version.clone(),
        BASELINE_NAME,
        dir.join(format!("{}_{BASELINE_NAME}.sql", squash.version)),
        squash.sql.clone(),
    )];
    migrations.extend(
        set.migrations
            .iter()
            .filter(|m| !squash.versions.contains(&m.version))
            .cloned(),
    );
    set.with_migrations(migrations)
}

/// Proves `squash` on scratch databases: the baseline and the migrations after it build the
/// catalog and the rows (in every table the squashed migrations wrote to) that `set` builds;
/// the rollback of the baseline leaves what the platform alone brings. Errors:
/// [`Error::Unproven`] listing what differs; a build fails ([`Error::ScratchBuild`]).
pub async fn prove(
    set: &MigrationSet,
    squash: &Squash,
    platform: Platform,
    scratch: &crate::scratch::Scratch,
    scope: &Scope,
) -> Result<(), Error> {
    let new = squashed_set(set, squash);
    let baseline_only = set.with_migrations(new.migrations[..1].to_vec());
    let (original, squashed, rolled_back, empty) = tokio::join!(
        snapshot(scratch, "squashold", set.clone(), platform, scope),
        snapshot(scratch, "squashnew", new, platform, scope),
        rollback_snapshot(scratch, baseline_only, &squash.rollback_sql, platform),
        snapshot(scratch, "squashempty", platform_only(set), platform, scope),
    );
    let ((mut a, a_rows, _), (mut b, b_rows, _)) = (original?, squashed?);
    let (a_rows, b_rows) = (comparable_rows(&a_rows, &a), comparable_rows(&b_rows, &b));
    let (mut r, mut e) = (rolled_back?, empty?.0);
    // The snapshots are in scope already; the rollback's catalog is not.
    scope.apply(&mut r);
    for c in [&mut a, &mut b, &mut r, &mut e] {
        crate::schema::forget_column_order(c);
    }
    let differences = compare(&a, &b);
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
                "an object kind the differ does not model: squash to an earlier version, or keep these migrations".into(),
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
                "an object kind the differ does not model: squash to an earlier version".into(),
            ),
        });
    }
    Ok(())
}

/// Writes the baseline `<VERSION>_baseline.sql` and its rollback (in the set's rollbacks
/// directory, else beside it), then removes the squashed migrations and their rollback files.
/// Errors: the set has no directory, a file cannot be written (nothing removed) or removed.
pub fn write(
    set: &MigrationSet,
    squash: &Squash,
    author: &str,
    now: time::OffsetDateTime,
) -> Result<crate::author::NewMigration, Error> {
    let Some(dir) = &set.dir else {
        return Err(Error::setting(
            "migrations",
            "embedded migrations cannot be squashed: squash the directory they come from",
        ));
    };
    let written = crate::author::write_migration_at(
        dir,
        set.rollbacks_dir.as_deref(),
        &squash.version,
        BASELINE_NAME,
        author,
        now,
        &squash.sql,
        &squash.rollback_sql,
    )?;
    for p in &squash.replaced {
        std::fs::remove_file(p).map_err(|e| Error::io("remove", p, e))?;
    }
    Ok(written)
}

/// What a database's history says about a squash to `baseline`'s version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryFit {
    /// It has applied every squashed version: its rows can be replaced by the baseline's.
    Replace(Vec<Version>),
    /// It records the baseline already (and nothing else up to its version).
    Done,
}

/// Whether `history` can take the baseline: it must have applied every version in `squashed`
/// (all of its versions up to the baseline's when `squashed` is `None`: the files were
/// squashed already). Errors: it lacks some ([`Error::Setting`]: the migrations it lacks are
/// gone with the squash; nothing is changed).
pub fn history_fit(
    history: &History,
    baseline: &Migration,
    squashed: Option<&[Version]>,
) -> Result<HistoryFit, Error> {
    let applied: Vec<Version> = history
        .applied
        .iter()
        .map(|a| a.version.clone())
        .filter(|v| v <= &baseline.version)
        .collect();
    let recorded = history.applied.iter().any(|a| {
        a.version == baseline.version && a.checksum.as_deref() == Some(baseline.checksum.as_str())
    });
    if recorded && applied.len() == 1 {
        return Ok(HistoryFit::Done);
    }
    let expected: Vec<Version> = match squashed {
        Some(v) => v.to_vec(),
        None => vec![baseline.version.clone()],
    };
    let missing: Vec<&Version> = expected.iter().filter(|v| !applied.contains(v)).collect();
    if !missing.is_empty() {
        return Err(Error::Setting {
            setting: "--to".into(),
            message: format!(
                "the database has not applied {} of the squashed migrations ({}): recording the baseline there would claim schema it does not have",
                missing.len(),
                missing.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            ),
            hint: Some("push the migrations there first (from a checkout before the squash), then squash its history".into()),
        });
    }
    Ok(HistoryFit::Replace(applied))
}

/// Replaces the history rows of `versions` on `client` by `baseline`'s row (recorded as applied
/// by `applied_by`), in one transaction, under the migration lock (waiting up to `lock_wait`;
/// `target` names the database in the wait message). Returns the rows removed.
pub async fn replace_history(
    client: &mut Client,
    target: &str,
    lock_wait: std::time::Duration,
    baseline: &Migration,
    versions: &[Version],
    applied_by: &str,
) -> Result<u64, Error> {
    crate::lock::acquire(client, lock_wait, target, |_| {}).await?;
    let result = replace_locked(client, baseline, versions, applied_by).await;
    let released = crate::lock::release(client).await;
    let n = result?;
    released?;
    Ok(n)
}

async fn replace_locked(
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
/// (`empty`) does not have. Storage buckets are catalog objects ([`Kind::Bucket`]), created by
/// the baseline's statements, so their rows are not repeated here.
fn written_rows(built: &Rows, empty: &Rows) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (table, rows) in built {
        if table == "storage.buckets" {
            continue;
        }
        let mut platform: Vec<&String> = empty
            .get(table)
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        let written: Vec<String> = rows
            .iter()
            .filter(|r| match platform.iter().position(|p| p == r) {
                Some(i) => {
                    platform.remove(i);
                    false
                }
                None => true,
            })
            .cloned()
            .collect();
        if !written.is_empty() {
            out.insert(table.clone(), written);
        }
    }
    out
}

/// `INSERT`s of `data`: every column a value can be given to (not generated ones), identity
/// values kept (`OVERRIDING SYSTEM VALUE`).
fn data_sql(data: &BTreeMap<String, Vec<String>>, catalog: &Catalog) -> String {
    let mut out = String::new();
    for (table, rows) in data {
        let columns: Vec<String> = {
            let mut cols: Vec<(u32, String)> = catalog
                .objects
                .iter()
                .filter(|(id, o)| {
                    id.kind == Kind::Column
                        && o.parent.as_deref() == Some(table.as_str())
                        && o.prop("generated").is_none_or(str::is_empty)
                })
                .map(|(_, o)| {
                    (
                        o.prop("position").and_then(|p| p.parse().ok()).unwrap_or(0),
                        o.local.clone(),
                    )
                })
                .collect();
            cols.sort();
            cols.into_iter().map(|(_, c)| c).collect()
        };
        let json = format!("[{}]", rows.join(","));
        let mut tag = "strata_rows".to_string();
        while json.contains(&format!("${tag}$")) {
            tag.push('_');
        }
        let list = if columns.is_empty() {
            "*".to_string()
        } else {
            columns.join(", ")
        };
        let target = if columns.is_empty() {
            String::new()
        } else {
            format!(" ({list})")
        };
        out.push_str(&format!(
            "\n-- {} row(s) the migrations wrote to {table}.\nINSERT INTO {table}{target} OVERRIDING SYSTEM VALUE\nSELECT {list} FROM pg_catalog.jsonb_populate_recordset(NULL::{table}, ${tag}${json}${tag}$);\n",
            rows.len()
        ));
    }
    out
}

/// Builds `set` on a scratch database and reads its catalog, the rows of every table that has
/// any (outside the history), and every sequence's value. Dropped whatever happens.
async fn snapshot(
    scratch: &crate::scratch::Scratch,
    purpose: &str,
    set: MigrationSet,
    platform: Platform,
    scope: &Scope,
) -> Result<(Catalog, Rows, Vec<(String, i64)>), Error> {
    let scratch = ScratchDb::create(scratch, purpose).await?;
    let result = async {
        scratch.build(set, platform).await?;
        let client = scratch.target().connect().await?;
        let mut catalog = Catalog::capture(&client).await?;
        scope.apply(&mut catalog);
        // The project's tables, and the platform's tables that hold the project's rows.
        let tables: Vec<String> = catalog
            .objects
            .iter()
            .filter(|(id, _)| id.kind == Kind::Table)
            .map(|(id, _)| id.name.clone())
            .chain(PLATFORM_DATA_TABLES.iter().map(|t| t.to_string()))
            .collect();
        let rows = table_rows(&client, &tables).await?;
        let sequences = sequence_values(&client).await?;
        Ok::<_, Error>((catalog, rows, sequences))
    }
    .await;
    let dropped = scratch.drop_now().await;
    let out = result?;
    dropped?;
    Ok(out)
}

/// Builds `set` (the baseline alone), runs `rollback_sql`, and reads the catalog.
async fn rollback_snapshot(
    scratch: &crate::scratch::Scratch,
    set: MigrationSet,
    rollback_sql: &str,
    platform: Platform,
) -> Result<Catalog, Error> {
    let scratch = ScratchDb::create(scratch, "squashrollback").await?;
    let result = async {
        scratch.build(set, platform).await?;
        let client = scratch.target().connect().await?;
        crate::schema::run_rollback(&client, rollback_sql, "the baseline's rollback", None).await?;
        Catalog::capture(&client).await
    }
    .await;
    let dropped = scratch.drop_now().await;
    let out = result?;
    dropped?;
    Ok(out)
}

/// Platform tables that hold the project's own rows (besides storage buckets, which are catalog
/// objects): jobs scheduled with pg_cron.
const PLATFORM_DATA_TABLES: &[&str] = &["cron.job"];

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
