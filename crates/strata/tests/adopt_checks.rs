//! Adopting another tool's history never panics and never writes on a row it cannot read: every
//! nullable column of every tool's history table set to NULL, and odd values (a version that is
//! not one, text where a number goes), each give an error naming the table and the row — or are
//! read, where the tool leaves that column empty itself — and nothing is written.

mod support;

use strata::{Error, MigrationSet, Migrator};
use support::{migrations_dir, TestDb};

/// A tool: its layout's files, its history table (as the tool creates it, but with every column
/// nullable), a valid row, and the columns that may be NULL without harm.
struct Tool {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    table: &'static str,
    create: &'static str,
    columns: &'static [&'static str],
    valid: &'static str,
    optional: &'static [&'static str],
    odd: &'static [&'static str],
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "golang-migrate",
        files: &[("1_a.up.sql", "create table a (id int);\n"), ("1_a.down.sql", "drop table a;\n")],
        table: "public.schema_migrations",
        create: "create table public.schema_migrations (version bigint, dirty boolean)",
        columns: &["version", "dirty"],
        valid: "insert into public.schema_migrations values (1, false)",
        optional: &[],
        odd: &[],
    },
    Tool {
        name: "goose",
        files: &[("1_a.sql", "-- +goose Up\ncreate table a (id int);\n-- +goose Down\ndrop table a;\n")],
        table: "public.goose_db_version",
        create: "create table public.goose_db_version (id serial, version_id bigint, is_applied boolean, tstamp timestamp)",
        columns: &["version_id", "is_applied", "tstamp"],
        valid: "insert into public.goose_db_version (version_id, is_applied, tstamp) values (0, true, now()), (1, true, now())",
        optional: &["tstamp"],
        odd: &[],
    },
    Tool {
        name: "dbmate",
        files: &[("1_a.sql", "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop table a;\n")],
        table: "public.schema_migrations",
        create: "create table public.schema_migrations (version varchar(128))",
        columns: &["version"],
        valid: "insert into public.schema_migrations values ('1')",
        optional: &[],
        odd: &["insert into public.schema_migrations values ('not-a-version')"],
    },
    Tool {
        name: "node-pg-migrate",
        files: &[("1_a.sql", "-- Up Migration\ncreate table a (id int);\n-- Down Migration\ndrop table a;\n")],
        table: "public.pgmigrations",
        create: "create table public.pgmigrations (id serial, name varchar, run_on timestamp)",
        columns: &["name", "run_on"],
        valid: "insert into public.pgmigrations (name, run_on) values ('1_a', now())",
        optional: &["run_on"],
        odd: &["insert into public.pgmigrations (name, run_on) values ('notes', now())"],
    },
    Tool {
        name: "sqlx",
        files: &[("1_a.up.sql", "create table a (id int);\n"), ("1_a.down.sql", "drop table a;\n")],
        table: "public._sqlx_migrations",
        create: "create table public._sqlx_migrations (version bigint, description text, installed_on timestamptz, success boolean, checksum bytea, execution_time bigint)",
        columns: &["version", "description", "installed_on", "success"],
        valid: "insert into public._sqlx_migrations values (1, 'a', now(), true, '\\x00', 1)",
        optional: &["description", "installed_on"],
        odd: &[],
    },
    Tool {
        name: "flyway",
        files: &[("V1__a.sql", "create table a (id int);\n")],
        table: "public.flyway_schema_history",
        create: "create table public.flyway_schema_history (installed_rank int, version varchar(50), description varchar(200), type varchar(20), script varchar(1000), checksum int, installed_by varchar(100), installed_on timestamp, execution_time int, success boolean)",
        columns: &["version", "description", "type", "script", "installed_on", "success"],
        valid: "insert into public.flyway_schema_history values (1, '1', 'a', 'SQL', 'V1__a.sql', 0, 'me', now(), 1, true)",
        optional: &["version", "description", "installed_on"],
        odd: &["insert into public.flyway_schema_history values (2, 'one.two', 'b', 'SQL', 'V1__b.sql', 0, 'me', now(), 1, true)"],
    },
    Tool {
        name: "diesel",
        files: &[],
        table: "public.__diesel_schema_migrations",
        create: "create table public.__diesel_schema_migrations (version varchar(50), run_on timestamp)",
        columns: &["version", "run_on"],
        valid: "insert into public.__diesel_schema_migrations values ('20240101000000', now())",
        optional: &["run_on"],
        odd: &["insert into public.__diesel_schema_migrations values ('yesterday', now())"],
    },
];

fn set_for(tool: &Tool) -> (tempfile::TempDir, MigrationSet) {
    let dir = migrations_dir(tool.files);
    if tool.name == "diesel" {
        let d = dir.path().join("2024-01-01-000000_a");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("up.sql"), "create table a (id int);\n").unwrap();
        std::fs::write(d.join("down.sql"), "drop table a;\n").unwrap();
    }
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    // sqlx's reversible files look like golang-migrate's, which reads either history.
    let expected = if tool.name == "sqlx" {
        "golang-migrate"
    } else {
        tool.name
    };
    assert_eq!(set.layout.name(), expected, "layout of {}", tool.name);
    (dir, set)
}

/// Plans on a database whose history table holds the valid row and then `broken`; returns the
/// error (or none), and checks that nothing was written.
async fn plan_with(tool: &Tool, broken: &str) -> Option<Error> {
    let (_dir, set) = set_for(tool);
    let db = TestDb::new("adoptcheck").await;
    let c = db.client().await;
    c.batch_execute(&format!("{}; {}; {broken}", tool.create, tool.valid))
        .await
        .unwrap_or_else(|e| panic!("{}: {broken}: {e}", tool.name));
    let migrator = Migrator::new(set.clone());
    let planned = migrator.plan(&c).await;
    // A push refuses the same way, before writing anything.
    let pushed = migrator.push(&db.target()).await;
    let schema: bool = c
        .query_one(
            "select to_regnamespace('supabase_migrations') is not null",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    match (&planned, &pushed) {
        (Err(_), Err(_)) => assert!(!schema, "{}: {broken}: a refused push wrote", tool.name),
        (Ok(_), Ok(_)) => {}
        _ => panic!(
            "{}: {broken}: plan and push disagree: {planned:?} / {pushed:?}",
            tool.name
        ),
    }
    planned.err()
}

#[tokio::test]
async fn every_nullable_column_and_odd_value_of_every_tool_is_an_error_naming_the_row() {
    for tool in TOOLS {
        for column in tool.columns {
            // The valid rows with this column NULL.
            let broken = format!("update {} set {column} = null", tool.table);
            let e = plan_with(tool, &broken).await;
            if tool.optional.contains(column) {
                assert!(e.is_none(), "{} {column} NULL: {e:?}", tool.name);
                continue;
            }
            let Some(Error::ToolHistory { table, message, .. }) = &e else {
                panic!("{} {column} NULL: {e:?}", tool.name)
            };
            assert_eq!(table, tool.table, "{message}");
            assert!(
                message.contains("row ") && message.contains(column) && message.contains("NULL"),
                "{}: {message}",
                tool.name
            );
        }
        for odd in tool.odd {
            let e = plan_with(tool, odd).await;
            let Some(Error::ToolHistory { message, .. }) = &e else {
                panic!("{} {odd}: {e:?}", tool.name)
            };
            assert!(
                message.contains("row ") && message.contains("not a version"),
                "{message}"
            );
        }
    }
}

#[tokio::test]
async fn a_version_a_tool_recorded_twice_is_one_applied_migration() {
    let dir = migrations_dir(&[(
        "1_a.sql",
        "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop table a;\n",
    )]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let db = TestDb::new("adopttwice").await;
    let c = db.client().await;
    c.batch_execute(
        "create table a (id int); create table public.schema_migrations (version varchar(128)); insert into public.schema_migrations values ('1'), ('1');",
    )
    .await
    .unwrap();
    let report = Migrator::new(set).push(&db.target()).await.unwrap();
    assert!(report.applied.is_empty(), "{report:?}");
    assert_eq!(report.adopted.len(), 1);
}

#[tokio::test]
async fn a_version_only_in_another_tools_history_is_fixed_there() {
    let dir = migrations_dir(&[(
        "1_a.sql",
        "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop table a;\n",
    )]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let db = TestDb::new("adoptmissing").await;
    let c = db.client().await;
    c.batch_execute(
        "create table a (id int); create table public.schema_migrations (version varchar(128) primary key); insert into public.schema_migrations values ('1'), ('7');",
    )
    .await
    .unwrap();
    let e = Migrator::new(set).push(&db.target()).await.unwrap_err();
    let hint = e.hint().unwrap_or_default();
    assert!(
        hint.contains("public.schema_migrations") && !hint.contains("repair --status reverted"),
        "{hint}"
    );
}
