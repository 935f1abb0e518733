//! Switching from another tool: its directory runs as it is (no file renamed, down parts never
//! run on the way up) and a database it migrated keeps its history — Strata adopts it and runs
//! only what the tool had not run. dbmate and node-pg-migrate are run for real when installed
//! (package.json; the tests say "skipping" otherwise); the other tools' history tables are
//! created as their documentation and source define them.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use strata::apply::PushReport;
use strata::plan::State;
use strata::rollback::{RollbackOptions, Rollbacker, Selection};
use strata::source::{Layout, SourceOptions};
use strata::{Error, MigrationSet, Migrator};
use support::TestDb;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn load(dir: &Path, layout: Option<Layout>, record: bool) -> MigrationSet {
    MigrationSet::load(
        dir,
        &SourceOptions {
            layout,
            record_in_tool_history: record,
            ..SourceOptions::default()
        },
    )
    .unwrap()
}

async fn push(db: &TestDb, set: MigrationSet) -> Result<PushReport, Error> {
    Migrator::new(set).push(&db.target()).await
}

async fn strings(db: &TestDb, sql: &str) -> Vec<String> {
    db.client()
        .await
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn exists(db: &TestDb, relation: &str) -> bool {
    strings(
        db,
        &format!("select (to_regclass('{relation}') is not null)::text"),
    )
    .await
        == ["true"]
}

fn tool(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../node_modules/.bin")
        .join(name);
    p.is_file().then_some(p)
}

fn run_tool(program: &Path, dir: &Path, args: &[&str], url: &str) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", format!("{url}?sslmode=disable"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program:?} {args:?}: {text}");
    text
}

const DBMATE_1: &str =
    "-- migrate:up\ncreate table t1 (id int);\n\n-- migrate:down\ndrop table t1;\n";
const DBMATE_2: &str =
    "-- migrate:up\ncreate table t2 (id int);\n\n-- migrate:down\ndrop table t2;\n";
const DBMATE_3: &str =
    "-- migrate:up\ncreate table t4 (id int);\ninsert into t4 values (1);\n\n-- migrate:down\ndrop table t4;\n";

#[tokio::test]
async fn dbmate_down_sections_never_run_on_the_way_up() {
    let db = TestDb::new("sw_dbmate_down").await;
    let p = tempfile::tempdir().unwrap();
    write(p.path(), "db/migrations/20240101000000_t4.sql", DBMATE_3);
    let dir = p.path().join("db/migrations");
    let set = load(&dir, None, false);
    assert_eq!(set.layout, Layout::Dbmate, "detected from the sections");
    let report = push(&db, set).await.unwrap();
    assert_eq!(report.applied.len(), 1);
    assert!(exists(&db, "public.t4").await, "the down section ran");
    assert_eq!(strings(&db, "select count(*)::text from t4").await, ["1"]);
    // The down section is the rollback, errors and all at the file's own lines.
    let set = load(&dir, None, false);
    let m = &set.migrations[0];
    let rollback = m.rollback.as_ref().unwrap();
    assert_eq!(rollback.path, m.path);
    assert_eq!(rollback.sql.lines().nth(5), Some("drop table t4;"));
    Rollbacker::new(set).rollback(&db.target()).await.unwrap();
    assert!(!exists(&db, "public.t4").await);
}

#[tokio::test]
async fn a_database_dbmate_migrated_is_adopted_and_only_the_rest_runs() {
    let Some(dbmate) = tool("dbmate") else {
        eprintln!("skipping: dbmate is not installed (npm ci)");
        return;
    };
    let db = TestDb::new("sw_dbmate").await;
    let p = tempfile::tempdir().unwrap();
    write(p.path(), "db/migrations/20240101000000_one.sql", DBMATE_1);
    write(p.path(), "db/migrations/20240102000000_two.sql", DBMATE_2);
    run_tool(&dbmate, p.path(), &["--no-dump-schema", "up"], &db.url);
    write(p.path(), "db/migrations/20240103000000_three.sql", DBMATE_3);
    let dir = p.path().join("db/migrations");

    // Before anything is written: dbmate's versions count as applied, from dbmate.
    let migrator = Migrator::new(load(&dir, None, false));
    let (_, plan) = migrator.plan(&db.client().await).await.unwrap();
    let states: Vec<(State, bool)> = plan.rows.iter().map(|r| (r.state, r.adopted)).collect();
    assert_eq!(
        states,
        [
            (State::Applied, true),
            (State::Applied, true),
            (State::Pending, false)
        ]
    );
    assert_eq!(
        plan.rows[0].source.as_deref(),
        Some("dbmate (public.schema_migrations)")
    );

    let report = push(&db, load(&dir, None, false)).await.unwrap();
    assert_eq!(report.adopted.len(), 2);
    assert_eq!(report.applied.len(), 1, "only what dbmate had not run");
    assert!(exists(&db, "public.t4").await);
    // Strata's history has all three, the first two marked as dbmate's; dbmate's table is
    // untouched (Strata never writes it unless asked).
    assert_eq!(
        strings(
            &db,
            "select coalesce(source, '-') from supabase_migrations.strata_history order by version"
        )
        .await,
        [
            "dbmate (public.schema_migrations)",
            "dbmate (public.schema_migrations)",
            "-"
        ]
    );
    assert_eq!(
        strings(
            &db,
            "select version from public.schema_migrations order by 1"
        )
        .await,
        ["20240101000000", "20240102000000"]
    );
    // A version only dbmate records cannot be rolled back by Strata without write-back…
    let refused = Rollbacker::new(load(&dir, None, false))
        .with_options(RollbackOptions {
            selection: Selection::Last(2),
            ..RollbackOptions::default()
        })
        .rollback(&db.target())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::RollbackRefused { .. }),
        "{refused}"
    );
    // …with it, Strata keeps dbmate's table up to date both ways, and dbmate agrees.
    Rollbacker::new(load(&dir, None, true))
        .with_options(RollbackOptions {
            selection: Selection::Last(2),
            ..RollbackOptions::default()
        })
        .rollback(&db.target())
        .await
        .unwrap();
    assert_eq!(
        strings(
            &db,
            "select version from public.schema_migrations order by 1"
        )
        .await,
        ["20240101000000"]
    );
    push(&db, load(&dir, None, true)).await.unwrap();
    let status = run_tool(&dbmate, p.path(), &["status"], &db.url);
    assert!(
        status.contains("Applied: 3") && status.contains("Pending: 0"),
        "{status}"
    );
    // Going back: dbmate itself rolls back what Strata applied (its down section).
    run_tool(
        &dbmate,
        p.path(),
        &["--no-dump-schema", "rollback"],
        &db.url,
    );
    assert!(!exists(&db, "public.t4").await);
}

#[tokio::test]
async fn node_pg_migrate_sql_migrations_are_adopted() {
    let Some(npm) = tool("node-pg-migrate") else {
        eprintln!("skipping: node-pg-migrate is not installed (npm ci)");
        return;
    };
    let db = TestDb::new("sw_npm").await;
    let p = tempfile::tempdir().unwrap();
    write(
        p.path(),
        "migrations/1700000000000_create-users.sql",
        "-- Up Migration\ncreate table users (id int);\n\n-- Down Migration\ndrop table users;\n",
    );
    run_tool(&npm, p.path(), &["up"], &db.url);
    write(
        p.path(),
        "migrations/1700000000001_create-posts.sql",
        "-- Up Migration\ncreate table posts (id int);\n\n-- Down Migration\ndrop table posts;\n",
    );
    let dir = p.path().join("migrations");
    let set = load(&dir, None, true);
    assert_eq!(set.layout, Layout::NodePgMigrate);
    // With write-back (record_in_tool_history), node-pg-migrate sees Strata's migrations as
    // its own.
    let report = push(&db, set).await.unwrap();
    assert_eq!(report.adopted.len(), 1);
    assert_eq!(report.applied.len(), 1);
    assert!(exists(&db, "public.posts").await);
    let down = run_tool(&npm, p.path(), &["down"], &db.url);
    assert!(down.contains("create-posts"), "{down}");
    assert!(!exists(&db, "public.posts").await);
    // …and Strata sees node-pg-migrate's rollback: the version is pending again, and the next
    // push applies it (and removes the stale row from Strata's history first).
    let report = push(&db, load(&dir, None, true)).await.unwrap();
    assert_eq!(report.applied.len(), 1, "{report:?}");
    assert!(report.adopted.iter().any(|a| a.rolled_back), "{report:?}");
    assert!(exists(&db, "public.posts").await);
}

#[tokio::test]
async fn golang_migrate_current_version_and_dirty_flag() {
    let db = TestDb::new("sw_golang").await;
    let p = tempfile::tempdir().unwrap();
    for (v, t) in [(1, "a"), (2, "b"), (3, "c")] {
        write(
            p.path(),
            &format!("migrations/{v}_create_{t}.up.sql"),
            &format!("create table {t} (id int);\n"),
        );
        write(
            p.path(),
            &format!("migrations/{v}_create_{t}.down.sql"),
            &format!("drop table {t};\n"),
        );
    }
    let dir = p.path().join("migrations");
    let c = db.client().await;
    // golang-migrate: one row, the current version; 1 and 2 have run.
    c.batch_execute(
        "create table a (id int); create table b (id int);
         create table schema_migrations (version bigint not null primary key, dirty boolean not null);
         insert into schema_migrations values (2, false);",
    )
    .await
    .unwrap();
    let set = load(&dir, None, false);
    assert_eq!(set.layout, Layout::GolangMigrate);
    assert!(set.migrations.iter().all(|m| m.rollback.is_some()));
    let report = push(&db, set).await.unwrap();
    assert_eq!(report.adopted.len(), 2);
    assert_eq!(report.applied.len(), 1);
    // With write-back the row follows (current version 3, then 2 after a rollback).
    Rollbacker::new(load(&dir, None, true))
        .rollback(&db.target())
        .await
        .unwrap();
    push(&db, load(&dir, None, true)).await.unwrap();
    assert_eq!(
        strings(
            &db,
            "select version::text || ' ' || dirty::text from schema_migrations"
        )
        .await,
        ["3 false"]
    );
    // A dirty history is refused, with golang-migrate's own way out; nothing runs.
    let other = TestDb::new("sw_golang_dirty").await;
    other
        .client()
        .await
        .batch_execute(
            "create table schema_migrations (version bigint not null primary key, dirty boolean not null);
             insert into schema_migrations values (2, true);",
        )
        .await
        .unwrap();
    match push(&other, load(&dir, None, false)).await.unwrap_err() {
        Error::ToolHistory { message, hint, .. } => {
            assert!(message.contains("dirty"), "{message}");
            assert!(hint.contains("migrate force"), "{hint}");
        }
        e => panic!("{e}"),
    }
    assert!(!exists(&other, "public.a").await);
}

#[tokio::test]
async fn goose_sections_and_its_event_log() {
    let db = TestDb::new("sw_goose").await;
    let p = tempfile::tempdir().unwrap();
    write(
        p.path(),
        "migrations/00001_a.sql",
        "-- +goose Up\ncreate table a (id int);\n-- +goose Down\ndrop table a;\n",
    );
    write(
        p.path(),
        "migrations/00002_b.sql",
        "-- +goose Up\n-- +goose StatementBegin\ncreate function f() returns int language plpgsql as $$ begin return 1; end $$;\n-- +goose StatementEnd\n-- +goose Down\ndrop function f;\n",
    );
    write(
        p.path(),
        "migrations/00003_c.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\ncreate index concurrently a_id on a (id);\n-- +goose Down\ndrop index a_id;\n",
    );
    let dir = p.path().join("migrations");
    // goose logs every up and down: 1 is applied, 2 was applied then rolled back.
    db.client()
        .await
        .batch_execute(
            "create table a (id int);
             create table goose_db_version (id serial primary key, version_id bigint not null, is_applied boolean not null, tstamp timestamp default now());
             insert into goose_db_version (version_id, is_applied) values (0, true), (1, true), (2, true), (2, false);",
        )
        .await
        .unwrap();
    let set = load(&dir, None, false);
    assert_eq!(set.layout, Layout::Goose);
    let report = push(&db, set).await.unwrap();
    let applied: Vec<&str> = report.applied.iter().map(|a| a.version.as_str()).collect();
    assert_eq!(applied, ["00002", "00003"]);
    assert!(!report.applied[1].transactional, "NO TRANSACTION honoured");
    assert_eq!(report.adopted.len(), 1);
}

#[tokio::test]
async fn sqlx_history_and_its_failed_rows() {
    let db = TestDb::new("sw_sqlx").await;
    let p = tempfile::tempdir().unwrap();
    write(
        p.path(),
        "migrations/20240101000000_a.sql",
        "create table a (id int);\n",
    );
    write(
        p.path(),
        "migrations/20240102000000_b.sql",
        "create table b (id int);\n",
    );
    let dir = p.path().join("migrations");
    let create = "create table _sqlx_migrations (version bigint primary key, description text not null, installed_on timestamptz not null default now(), success boolean not null, checksum bytea not null, execution_time bigint not null);";
    db.client()
        .await
        .batch_execute(&format!(
            "create table a (id int); {create}
             insert into _sqlx_migrations values (20240101000000, 'a', now(), true, '\\x00', 1);"
        ))
        .await
        .unwrap();
    // Plain `<version>_<name>.sql` files look like Strata's own: named in strata.toml.
    let set = load(&dir, Some(Layout::Sqlx), false);
    let report = push(&db, set).await.unwrap();
    assert_eq!(report.adopted.len(), 1);
    assert_eq!(report.applied.len(), 1);
    // Left to the Strata layout, the same database is refused rather than run again.
    let other = TestDb::new("sw_sqlx_strata").await;
    other
        .client()
        .await
        .batch_execute(&format!(
            "{create} insert into _sqlx_migrations values (20240101000000, 'a', now(), true, '\\x00', 1);"
        ))
        .await
        .unwrap();
    match push(&other, load(&dir, None, false)).await.unwrap_err() {
        Error::ToolHistory { hint, .. } => assert!(hint.contains("layout = \"sqlx\""), "{hint}"),
        e => panic!("{e}"),
    }
    // A failed row is refused, with sqlx's way out.
    other
        .client()
        .await
        .batch_execute("update _sqlx_migrations set success = false")
        .await
        .unwrap();
    match push(&other, load(&dir, Some(Layout::Sqlx), false))
        .await
        .unwrap_err()
    {
        Error::ToolHistory { message, .. } => assert!(message.contains("failed"), "{message}"),
        e => panic!("{e}"),
    }
}

#[tokio::test]
async fn diesel_directories_and_metadata() {
    let db = TestDb::new("sw_diesel").await;
    let p = tempfile::tempdir().unwrap();
    write(
        p.path(),
        "migrations/2024-01-01-000000_create_a/up.sql",
        "create table a (id int);\n",
    );
    write(
        p.path(),
        "migrations/2024-01-01-000000_create_a/down.sql",
        "drop table a;\n",
    );
    write(
        p.path(),
        "migrations/2024-01-02-000000_index_a/up.sql",
        "create index concurrently a_id on a (id);\n",
    );
    write(
        p.path(),
        "migrations/2024-01-02-000000_index_a/metadata.toml",
        "run_in_transaction = false\n",
    );
    let dir = p.path().join("migrations");
    db.client()
        .await
        .batch_execute(
            "create table a (id int);
             create table __diesel_schema_migrations (version varchar(50) primary key not null, run_on timestamp not null default current_timestamp);
             insert into __diesel_schema_migrations (version) values ('20240101000000');",
        )
        .await
        .unwrap();
    let set = load(&dir, None, false);
    assert_eq!(set.layout, Layout::Diesel);
    assert_eq!(set.migrations[0].version.as_str(), "20240101000000");
    let report = push(&db, set).await.unwrap();
    assert_eq!(report.adopted.len(), 1);
    assert_eq!(report.applied.len(), 1);
    assert!(!report.applied[0].transactional);
}

#[tokio::test]
async fn flyway_dotted_versions_undo_files_and_repeatables() {
    let db = TestDb::new("sw_flyway").await;
    let p = tempfile::tempdir().unwrap();
    write(
        p.path(),
        "db/migration/V1__create_a.sql",
        "create table a (id int);\n",
    );
    write(
        p.path(),
        "db/migration/V1.2__create_b.sql",
        "create table b (id int);\n",
    );
    write(
        p.path(),
        "db/migration/more/V1.10__create_c.sql",
        "create table c (id int);\n",
    );
    write(
        p.path(),
        "db/migration/U1.10__create_c.sql",
        "drop table c;\n",
    );
    write(
        p.path(),
        "db/migration/R__view.sql",
        "create or replace view v as select 1 as one;\n",
    );
    let dir = p.path().join("db/migration");
    db.client()
        .await
        .batch_execute(
            "create table a (id int);
             create table flyway_schema_history (installed_rank int primary key, version varchar(50), description varchar(200) not null, type varchar(20) not null, script varchar(1000) not null, checksum int, installed_by varchar(100) not null, installed_on timestamp not null default now(), execution_time int not null, success boolean not null);
             insert into flyway_schema_history values (1, '1', 'create a', 'SQL', 'V1__create_a.sql', 1, 'me', now(), 1, true);",
        )
        .await
        .unwrap();
    let set = load(&dir, None, false);
    assert_eq!(set.layout, Layout::Flyway);
    let versions: Vec<&str> = set.migrations.iter().map(|m| m.version.as_str()).collect();
    assert_eq!(
        versions,
        ["1", "1.2", "1.10"],
        "group by group, subdirectories too"
    );
    assert!(set.migrations[2].rollback.is_some(), "U1.10 undoes V1.10");
    let report = push(&db, set).await.unwrap();
    assert_eq!(report.adopted.len(), 1);
    assert_eq!(report.applied.len(), 2);
    assert_eq!(report.repeatables, ["R__view.sql"]);
    // Unchanged repeatables do not run again; a changed one does.
    let report = push(&db, load(&dir, None, false)).await.unwrap();
    assert!(report.repeatables.is_empty() && report.applied.is_empty());
    write(
        p.path(),
        "db/migration/R__view.sql",
        "create or replace view v as select 1 as one, 2 as two;\n",
    );
    let report = push(&db, load(&dir, None, false)).await.unwrap();
    assert_eq!(report.repeatables, ["R__view.sql"]);
    assert_eq!(strings(&db, "select two::text from v").await, ["2"]);
    // A failed Flyway row is refused.
    let other = TestDb::new("sw_flyway_failed").await;
    other
        .client()
        .await
        .batch_execute(
            "create table flyway_schema_history (installed_rank int primary key, version varchar(50), description varchar(200) not null, type varchar(20) not null, script varchar(1000) not null, checksum int, installed_by varchar(100) not null, installed_on timestamp not null default now(), execution_time int not null, success boolean not null);
             insert into flyway_schema_history values (1, '1', 'create a', 'SQL', 'V1__create_a.sql', 1, 'me', now(), 1, false);",
        )
        .await
        .unwrap();
    match push(&other, load(&dir, None, false)).await.unwrap_err() {
        Error::ToolHistory { hint, .. } => assert!(hint.contains("flyway repair"), "{hint}"),
        e => panic!("{e}"),
    }
}

#[tokio::test]
async fn numbered_sets_with_dashes_run_in_order() {
    let db = TestDb::new("sw_numbered").await;
    let dir = support::migrations_dir(&[
        ("0001-create-a.sql", "create table a (id int);\n"),
        ("0002-create-b.sql", "create table b (a int);\n"),
        ("0010-create-c.sql", "create table c (id int);\n"),
    ]);
    let set = load(dir.path(), None, false);
    assert_eq!(set.layout, Layout::Strata);
    let report = push(&db, set).await.unwrap();
    let applied: Vec<&str> = report.applied.iter().map(|a| a.version.as_str()).collect();
    assert_eq!(applied, ["0001", "0002", "0010"]);
}
