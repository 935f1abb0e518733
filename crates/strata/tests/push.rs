//! Integration tests for `push` against a real PostgreSQL server: ordering and history rows,
//! failures located at file/line/column, atomicity, no-transaction migrations, dry runs,
//! refusals, concurrent pushes and compatibility with the Supabase CLI's history.
//!
//! Every test gets its own database (see `support`), so the tests run in parallel.

mod support;

use std::path::Path;
use std::time::Duration;

use strata::apply::PushReport;
use strata::error::MigrationError;
use strata::history::RepairStatus;
use strata::plan::{Problem, State};
use strata::{Error, MigrationSet, Migrator, PushOptions, Version};
use support::{migrations_dir, run_supabase, supabase_cli, TestDb};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

fn opts() -> PushOptions {
    PushOptions {
        lock_wait: Duration::from_secs(60),
        ..PushOptions::default()
    }
}

fn dry() -> PushOptions {
    PushOptions {
        dry_run: true,
        ..opts()
    }
}

async fn push_with(db: &TestDb, dir: &Path, options: PushOptions) -> Result<PushReport, Error> {
    let set = MigrationSet::load_dir(dir)?;
    Migrator::new(set)
        .with_options(options)
        .push(&db.target())
        .await
}

async fn push(db: &TestDb, dir: &Path) -> Result<PushReport, Error> {
    push_with(db, dir, opts()).await
}

fn applied_versions(r: &PushReport) -> Vec<&str> {
    r.applied.iter().map(|a| a.version.as_str()).collect()
}

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::write(dir.join(name), sql).unwrap();
}

/// `(version, name, statements)` of `schema_migrations`, in version order.
async fn schema_migrations(c: &Client) -> Vec<(String, Option<String>, Vec<String>)> {
    c.query(
        "select version, name, coalesce(statements, '{}') from supabase_migrations.schema_migrations \
         order by version::numeric",
        &[],
    )
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

async fn recorded_versions(c: &Client) -> Vec<String> {
    if !schema_exists(c, "supabase_migrations").await {
        return Vec::new();
    }
    schema_migrations(c)
        .await
        .into_iter()
        .map(|(v, _, _)| v)
        .collect()
}

/// `(version, checksum, checksum_algorithm, strata_version, transactional)` of `strata_history`.
async fn strata_history(c: &Client) -> Vec<(String, String, String, String, bool)> {
    c.query(
        "select version, checksum, checksum_algorithm, strata_version, transactional \
         from supabase_migrations.strata_history order by version::numeric",
        &[],
    )
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

async fn table_exists(c: &Client, name: &str) -> bool {
    c.query_one("select to_regclass($1) is not null", &[&name])
        .await
        .unwrap()
        .get(0)
}

async fn schema_exists(c: &Client, name: &str) -> bool {
    c.query_one(
        "select exists (select 1 from pg_namespace where nspname = $1)",
        &[&name],
    )
    .await
    .unwrap()
    .get(0)
}

async fn count(c: &Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.unwrap().get(0)
}

fn migration_error(e: Error) -> Box<MigrationError> {
    match e {
        Error::Migration(m) => m,
        other => panic!("expected Error::Migration, got {other:?} ({other})"),
    }
}

fn refused(e: Error) -> Vec<Problem> {
    match e {
        Error::Refused { problems } => problems,
        other => panic!("expected Error::Refused, got {other:?} ({other})"),
    }
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. applying in order, history rows
// ---------------------------------------------------------------------------------------------

const M1: &str =
    "-- creates a\ncreate table a (id int);\ninsert into a values (1);\n-- trailing note\n";
const M2: &str = "create table b (a_id int);\n";
// Version 10 sorts after 2 (numeric order); it depends on 2.
const M10: &str = "alter table b add column c text;\ninsert into b values (1, 'x;y');\n";

#[tokio::test]
async fn applies_pending_migrations_in_order_and_records_history() {
    let db = TestDb::new("order").await;
    let dir = migrations_dir(&[
        ("10_alter_b.sql", M10),
        ("1_create_a.sql", M1),
        ("2_create_b.sql", M2),
    ]);
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["1", "2", "10"]);
    assert!(report.created_history);
    assert_eq!(report.already_applied, 0);
    assert!(!report.dry_run);
    assert!(report.applied.iter().all(|a| a.transactional));
    assert_eq!(report.applied[0].name, "create_a");
    assert_eq!(report.applied[0].file, dir.path().join("1_create_a.sql"));
    // Comment-only chunks are not counted as statements run.
    assert_eq!(report.applied[0].statements, 2);

    let c = db.client().await;
    let rows = schema_migrations(&c).await;
    assert_eq!(
        rows,
        vec![
            (
                "1".to_string(),
                Some("create_a".to_string()),
                vec![
                    "-- creates a\ncreate table a (id int)".to_string(),
                    "insert into a values (1)".to_string(),
                    "-- trailing note".to_string(),
                ]
            ),
            (
                "2".to_string(),
                Some("create_b".to_string()),
                vec!["create table b (a_id int)".to_string()]
            ),
            (
                "10".to_string(),
                Some("alter_b".to_string()),
                vec![
                    "alter table b add column c text".to_string(),
                    "insert into b values (1, 'x;y')".to_string(),
                ]
            ),
        ]
    );
    let side = strata_history(&c).await;
    assert_eq!(side.len(), 3);
    for ((version, checksum, algorithm, strata_version, transactional), text) in
        side.iter().zip([M1, M2, M10])
    {
        assert!(checksum.starts_with("sha256:"), "{version}: {checksum}");
        assert_eq!(checksum, &strata::source::checksum(text), "{version}");
        assert_eq!(algorithm, strata::source::CHECKSUM_ALGORITHM);
        assert_eq!(strata_version, strata::VERSION);
        assert!(transactional);
    }
    assert_eq!(count(&c, "select count(*) from b where c = 'x;y'").await, 1);

    // A second push applies nothing and writes nothing.
    let again = push(&db, dir.path()).await.unwrap();
    assert!(again.applied.is_empty(), "{:?}", again.applied);
    assert_eq!(again.already_applied, 3);
    assert!(!again.created_history);
    assert_eq!(schema_migrations(&c).await.len(), 3);
}

// ---------------------------------------------------------------------------------------------
// 2. failures: file, line, column, SQLSTATE; earlier migrations stay; no trace of the failing one
// ---------------------------------------------------------------------------------------------

async fn assert_failed_cleanly(c: &Client, applied_before: &[&str], leftover_tables: &[&str]) {
    assert_eq!(recorded_versions(c).await, applied_before);
    let side: Vec<String> = strata_history(c).await.into_iter().map(|r| r.0).collect();
    assert_eq!(side, applied_before);
    for t in leftover_tables {
        assert!(
            !table_exists(c, t).await,
            "{t} survived the failed migration"
        );
    }
}

#[tokio::test]
async fn failure_with_a_server_position_names_file_line_and_column() {
    let db = TestDb::new("failpos").await;
    // The third statement references a column that does not exist; a multi-byte character on
    // the same line before the error checks that PostgreSQL's character position is mapped.
    let bad = "-- naïve café: ünïcode before the error\ncreate table f1 (id int);\ncreate table f2 (id int);\n\
               select 'é', nosuchcol from f1;\ncreate table f3 (id int);\n";
    let dir = migrations_dir(&[
        ("1_ok.sql", "create table ok1 (id int);\n"),
        ("2_ok.sql", "create table ok2 (id int);\n"),
        ("3_bad.sql", bad),
        ("4_later.sql", "create table later (id int);\n"),
    ]);
    let e = migration_error(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(e.file, dir.path().join("3_bad.sql"));
    assert_eq!(e.version, "3");
    assert_eq!(e.sqlstate.as_deref(), Some("42703"), "{e}");
    assert_eq!((e.line, e.column), (4, 13), "{e}");
    assert!(e.statement.contains("nosuchcol"), "{}", e.statement);
    assert!(e.message.contains("nosuchcol"), "{}", e.message);
    assert!(e.transactional);
    let shown = e.to_string();
    assert!(shown.contains("3_bad.sql:4:13"), "{shown}");

    let c = db.client().await;
    assert_failed_cleanly(&c, &["1", "2"], &["f1", "f2", "f3", "later"]).await;
    assert!(table_exists(&c, "ok1").await && table_exists(&c, "ok2").await);
}

#[tokio::test]
async fn syntax_error_is_located_in_the_file() {
    let db = TestDb::new("failsyntax").await;
    let bad = "create table s1 (id int);\n\ncreate table s2 (\n  id int\n);\n  create tabel s3 (id int);\n";
    let dir = migrations_dir(&[
        ("1_ok.sql", "create table ok1 (id int);\n"),
        ("2_bad.sql", bad),
    ]);
    let e = migration_error(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(e.file, dir.path().join("2_bad.sql"));
    assert_eq!(e.sqlstate.as_deref(), Some("42601"), "{e}");
    // `tabel` on line 6: two spaces of indent, then `create ` → column 10.
    assert_eq!((e.line, e.column), (6, 10), "{e}");
    let c = db.client().await;
    assert_failed_cleanly(&c, &["1"], &["s1", "s2", "s3"]).await;
}

#[tokio::test]
async fn failure_without_a_server_position_names_the_failing_statement() {
    let db = TestDb::new("failnopos").await;
    // Duplicate table: PostgreSQL gives no position; the third statement is at fault.
    let bad = "create table d1 ();\n-- a comment-only chunk between statements;\ncreate table d2 ();\n   create table d1 ();\ncreate table d3 ();\n";
    let dir = migrations_dir(&[
        ("1_ok.sql", "create table ok1 (id int);\n"),
        ("2_dup.sql", bad),
    ]);
    let e = migration_error(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(e.file, dir.path().join("2_dup.sql"));
    assert_eq!(e.sqlstate.as_deref(), Some("42P07"), "{e}");
    assert_eq!((e.line, e.column), (4, 4), "{e}");
    assert_eq!(e.statement, "create table d1 ()");
    let c = db.client().await;
    assert_failed_cleanly(&c, &["1"], &["d1", "d2", "d3"]).await;
}

#[tokio::test]
async fn failure_inside_a_do_block_names_the_do_statement() {
    let db = TestDb::new("faildo").await;
    // The error's position is internal to the PL/pgSQL body (not in the sent text).
    let bad = "create table x1 (id int);\ncreate table x2 (id int);\ndo $$\nbegin\n  perform no_such_function();\nend\n$$;\n";
    let dir = migrations_dir(&[("1_do.sql", bad)]);
    let e = migration_error(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(e.sqlstate.as_deref(), Some("42883"), "{e}");
    assert_eq!(e.line, 3, "{e}");
    assert!(e.statement.starts_with("do $$"), "{}", e.statement);
    let c = db.client().await;
    assert!(recorded_versions(&c).await.is_empty());
    assert!(!table_exists(&c, "x1").await);
}

// ---------------------------------------------------------------------------------------------
// 3. a file's own BEGIN/COMMIT; ROLLBACK is refused
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn own_begin_commit_stays_atomic_with_the_history_row() {
    let db = TestDb::new("owntx").await;
    let failing = "BEGIN;\ncreate table tx_a (id int);\ninsert into tx_a values (1);\ncreate table tx_a (id int);\nCOMMIT;\n";
    let dir = migrations_dir(&[
        ("1_ok.sql", "create table ok1 (id int);\n"),
        ("2_tx.sql", failing),
    ]);
    let e = migration_error(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(e.file, dir.path().join("2_tx.sql"));
    assert_eq!(e.sqlstate.as_deref(), Some("42P07"));
    assert_eq!((e.line, e.column), (4, 1), "{e}");
    let c = db.client().await;
    assert_failed_cleanly(&c, &["1"], &["tx_a"]).await;

    // Fixed: applied and recorded together, still reported transactional.
    write(
        dir.path(),
        "2_tx.sql",
        "BEGIN;\ncreate table tx_a (id int);\ninsert into tx_a values (1);\nCOMMIT;\n",
    );
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["2"]);
    assert!(report.applied[0].transactional);
    assert_eq!(count(&c, "select count(*) from tx_a").await, 1);
    assert_eq!(recorded_versions(&c).await, ["1", "2"]);
    let side = strata_history(&c).await;
    assert!(side[1].4, "recorded as transactional");
}

#[tokio::test]
async fn own_begin_commit_with_a_failing_statement_mid_position() {
    let db = TestDb::new("owntxpos").await;
    // Positions must map through the blanked BEGIN.
    let failing = "begin;\ncreate table tp (id int);\nselect nope from tp;\ncommit;\n";
    let dir = migrations_dir(&[("1_tx.sql", failing)]);
    let e = migration_error(push(&db, dir.path()).await.unwrap_err());
    assert_eq!((e.line, e.column), (3, 8), "{e}");
    let c = db.client().await;
    assert!(!table_exists(&c, "tp").await);
    assert!(recorded_versions(&c).await.is_empty());
}

#[tokio::test]
async fn rollback_in_a_file_is_refused_before_anything_runs() {
    let db = TestDb::new("rollback").await;
    let dir = migrations_dir(&[
        ("1_ok.sql", "create table ok1 (id int);\n"),
        ("2_rb.sql", "create table rb (id int);\n\nROLLBACK;\n"),
    ]);
    let e = push(&db, dir.path()).await.unwrap_err();
    match &e {
        Error::SourceFile { path, problem, .. } => {
            assert_eq!(path, &dir.path().join("2_rb.sql"));
            assert!(problem.contains("line 3"), "{problem}");
            assert!(problem.to_lowercase().contains("rollback"), "{problem}");
        }
        other => panic!("expected SourceFile, got {other:?}"),
    }
    let c = db.client().await;
    assert!(!schema_exists(&c, "supabase_migrations").await);
    assert!(
        !table_exists(&c, "ok1").await,
        "nothing may run before the refusal"
    );
    assert!(!table_exists(&c, "rb").await);
}

// ---------------------------------------------------------------------------------------------
// 4. migrations that cannot run in a transaction
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_index_concurrently_and_marker_run_outside_a_transaction() {
    let db = TestDb::new("notx").await;
    let dir = migrations_dir(&[
        (
            "1_table.sql",
            "create table ci (id int);\ninsert into ci select generate_series(1, 100);\n",
        ),
        (
            "2_index.sql",
            "-- build without blocking writes\ncreate index concurrently ci_id on ci (id);\n",
        ),
        (
            "3_marked.sql",
            "-- strata:no-transaction\ncreate table nt (id int);\ninsert into nt values (1);\n",
        ),
        ("4_after.sql", "create table after_nt (id int);\n"),
    ]);
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["1", "2", "3", "4"]);
    let tx: Vec<bool> = report.applied.iter().map(|a| a.transactional).collect();
    assert_eq!(tx, [true, false, false, true]);

    let c = db.client().await;
    let valid: bool = c
        .query_one(
            "select indisvalid from pg_index where indexrelid = 'ci_id'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(valid);
    assert!(table_exists(&c, "nt").await);
    let side_tx: Vec<bool> = strata_history(&c).await.into_iter().map(|r| r.4).collect();
    assert_eq!(side_tx, [true, false, false, true]);
    let rows = schema_migrations(&c).await;
    assert_eq!(
        rows[1].2,
        [
            "-- build without blocking writes\ncreate index concurrently ci_id on ci (id)"
                .to_string()
        ]
    );
}

#[tokio::test]
async fn failing_no_transaction_migration_keeps_earlier_statements_and_is_not_recorded() {
    let db = TestDb::new("notxfail").await;
    let dir = migrations_dir(&[(
        "1_marked.sql",
        "-- strata:no-transaction\ncreate table n1 (id int);\nselect missing_col from n1;\ncreate table n2 (id int);\n",
    )]);
    let e = migration_error(push(&db, dir.path()).await.unwrap_err());
    assert!(!e.transactional);
    assert_eq!((e.line, e.column), (3, 8), "{e}");
    assert!(e
        .hint
        .as_deref()
        .unwrap_or("")
        .contains("outside a transaction"));
    let c = db.client().await;
    assert!(
        table_exists(&c, "n1").await,
        "outside a transaction, n1 stays"
    );
    assert!(!table_exists(&c, "n2").await);
    assert!(recorded_versions(&c).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 5. dry run
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn dry_run_on_an_empty_database_changes_nothing() {
    let db = TestDb::new("dryempty").await;
    let dir = migrations_dir(&[
        ("1_a.sql", "create table dry_a (id int);\n"),
        (
            "2_idx.sql",
            "create index concurrently dry_a_id on dry_a (id);\n",
        ),
    ]);
    let report = push_with(&db, dir.path(), dry()).await.unwrap();
    assert!(report.dry_run);
    assert!(report.applied.is_empty());
    assert_eq!(report.planned.len(), 2);
    let p1 = &report.planned[0];
    assert_eq!((p1.version.as_str(), p1.transactional), ("1", true));
    assert_eq!(p1.file, dir.path().join("1_a.sql"));
    assert_eq!(p1.sql.len(), 1, "one round trip");
    assert!(
        p1.sql[0].contains("create table dry_a (id int);"),
        "{}",
        p1.sql[0]
    );
    assert!(p1.sql[0].contains("INSERT INTO supabase_migrations.schema_migrations"));
    assert!(p1.no_transaction_reason.is_none());
    let p2 = &report.planned[1];
    assert!(!p2.transactional);
    assert!(p2
        .no_transaction_reason
        .as_deref()
        .unwrap()
        .contains("CREATE INDEX CONCURRENTLY"));
    assert_eq!(p2.sql.len(), 3, "{:?}", p2.sql);
    assert_eq!(
        p2.sql[1],
        "create index concurrently dry_a_id on dry_a (id)"
    );

    let c = db.client().await;
    assert!(!schema_exists(&c, "supabase_migrations").await);
    assert!(!table_exists(&c, "dry_a").await);
}

#[tokio::test]
async fn dry_run_with_history_adds_nothing() {
    let db = TestDb::new("dryhist").await;
    let dir = migrations_dir(&[("1_a.sql", "create table dh_a (id int);\n")]);
    push(&db, dir.path()).await.unwrap();
    write(dir.path(), "2_b.sql", "create table dh_b (id int);\n");
    let c = db.client().await;
    let before_side = strata_history(&c).await;
    let report = push_with(&db, dir.path(), dry()).await.unwrap();
    assert_eq!(report.already_applied, 1);
    let planned: Vec<&str> = report.planned.iter().map(|p| p.version.as_str()).collect();
    assert_eq!(planned, ["2"]);
    assert_eq!(recorded_versions(&c).await, ["1"]);
    assert_eq!(strata_history(&c).await, before_side);
    assert!(!table_exists(&c, "dh_b").await);

    // Nothing pending: a dry run plans nothing.
    std::fs::remove_file(dir.path().join("2_b.sql")).unwrap();
    let report = push_with(&db, dir.path(), dry()).await.unwrap();
    assert!(report.planned.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 6. refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn out_of_order_file_is_refused_then_accepted_with_include_all() {
    let db = TestDb::new("ooo").await;
    let dir = migrations_dir(&[
        ("1_a.sql", "create table o1 (id int);\n"),
        ("3_c.sql", "create table o3 (id int);\n"),
    ]);
    push(&db, dir.path()).await.unwrap();
    write(dir.path(), "2_b.sql", "create table o2 (id int);\n");
    write(dir.path(), "4_d.sql", "create table o4 (id int);\n");
    let problems = refused(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, State::OutOfOrder);
    assert_eq!(problems[0].version, v("2"));
    assert_eq!(
        problems[0].file.as_deref(),
        Some(dir.path().join("2_b.sql").as_path())
    );
    assert!(problems[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("--include-all"));
    let c = db.client().await;
    assert!(!table_exists(&c, "o2").await && !table_exists(&c, "o4").await);
    assert_eq!(recorded_versions(&c).await, ["1", "3"]);

    let report = push_with(
        &db,
        dir.path(),
        PushOptions {
            include_all: true,
            ..opts()
        },
    )
    .await
    .unwrap();
    assert_eq!(applied_versions(&report), ["2", "4"]);
    assert_eq!(recorded_versions(&c).await, ["1", "2", "3", "4"]);
}

#[tokio::test]
async fn edited_applied_file_is_refused_with_a_diff() {
    let db = TestDb::new("edited").await;
    let dir = migrations_dir(&[("1_a.sql", "create table e1 (id int);\n")]);
    push(&db, dir.path()).await.unwrap();
    write(dir.path(), "1_a.sql", "create table e1 (id bigint);\n");
    write(dir.path(), "2_b.sql", "create table e2 (id int);\n");
    let problems = refused(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.kind, State::Modified);
    assert_eq!(p.version, v("1"));
    let diff = p.diff.as_deref().expect("a diff");
    assert!(diff.contains("-create table e1 (id int)"), "{diff}");
    assert!(diff.contains("+create table e1 (id bigint)"), "{diff}");
    let c = db.client().await;
    assert!(!table_exists(&c, "e2").await);
    assert_eq!(recorded_versions(&c).await, ["1"]);

    // Line endings and a BOM are not an edit.
    write(
        dir.path(),
        "1_a.sql",
        "\u{feff}create table e1 (id int);\r\n",
    );
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["2"]);
}

#[tokio::test]
async fn applied_version_without_a_file_is_refused_until_repaired() {
    let db = TestDb::new("missing").await;
    let dir = migrations_dir(&[
        ("1_a.sql", "create table m1 (id int);\n"),
        ("2_b.sql", "create table m2 (id int);\n"),
    ]);
    push(&db, dir.path()).await.unwrap();
    std::fs::remove_file(dir.path().join("2_b.sql")).unwrap();
    write(dir.path(), "3_c.sql", "create table m3 (id int);\n");
    let problems = refused(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, State::MissingLocally);
    assert_eq!(problems[0].version, v("2"));
    assert!(problems[0].message.contains("b"), "{}", problems[0].message);
    assert!(problems[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("repair --status reverted 2"));
    let mut c = db.client().await;
    assert!(!table_exists(&c, "m3").await);

    let changes =
        strata::history::repair(&mut c, RepairStatus::Reverted, &[], &[v("2")], "test@host")
            .await
            .unwrap();
    assert_eq!(changes.len(), 1);
    assert!(changes[0].changed);
    assert_eq!(changes[0].name.as_deref(), Some("b"));
    assert_eq!(recorded_versions(&c).await, ["1"]);
    assert_eq!(strata_history(&c).await.len(), 1);

    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["3"]);
    assert_eq!(recorded_versions(&c).await, ["1", "3"]);
}

#[tokio::test]
async fn repair_applied_records_without_running() {
    let db = TestDb::new("repairapplied").await;
    let dir = migrations_dir(&[
        ("1_a.sql", "create table ra1 (id int);\n"),
        ("2_b.sql", "create table ra2 (id int);\n"),
    ]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let mut c = db.client().await;
    let m1 = set.get(&v("1")).unwrap();
    strata::history::repair(&mut c, RepairStatus::Applied, &[m1], &[], "test@host")
        .await
        .unwrap();
    assert!(!table_exists(&c, "ra1").await);
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["2"]);
    assert_eq!(report.already_applied, 1);
}

// ---------------------------------------------------------------------------------------------
// 7. concurrency
// ---------------------------------------------------------------------------------------------

fn numbered(n: usize, body: impl Fn(usize) -> String) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| (format!("{i:03}_create_t_{i}.sql"), body(i)))
        .collect()
}

fn dir_of(files: &[(String, String)]) -> tempfile::TempDir {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    migrations_dir(&refs)
}

async fn concurrent_pushes(db: &TestDb, dir: &Path, runs: usize) -> Vec<Result<PushReport, Error>> {
    let set = MigrationSet::load_dir(dir).unwrap();
    let target = db.target();
    let mut handles = Vec::new();
    for _ in 0..runs {
        let set = set.clone();
        let target = target.clone();
        handles.push(tokio::spawn(async move {
            Migrator::new(set).with_options(opts()).push(&target).await
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.expect("push task panicked"));
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_apply_each_migration_once() {
    let db = TestDb::new("concurrent").await;
    let files = numbered(100, |i| {
        format!("create table t_{i} (id int);\ninsert into t_{i} values ({i});\n")
    });
    let dir = dir_of(&files);
    let results = tokio::time::timeout(
        Duration::from_secs(90),
        concurrent_pushes(&db, dir.path(), 8),
    )
    .await
    .expect("8 concurrent pushes did not finish in 90 s");
    let mut total = 0;
    for r in results {
        let r = r.unwrap();
        total += r.applied.len();
    }
    assert_eq!(total, 100);
    let c = db.client().await;
    assert_eq!(
        count(
            &c,
            "select count(distinct version) from supabase_migrations.schema_migrations"
        )
        .await,
        100
    );
    assert_eq!(
        count(
            &c,
            "select count(*) from supabase_migrations.schema_migrations"
        )
        .await,
        100
    );
    assert_eq!(
        count(
            &c,
            "select count(*) from supabase_migrations.strata_history"
        )
        .await,
        100
    );
    // Each insert ran once.
    let rows = count(
        &c,
        "select count(*) from pg_tables where schemaname = 'public' and tablename like 't\\_%'",
    )
    .await;
    assert_eq!(rows, 100);
    assert_eq!(count(&c, "select count(*) from t_50").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_with_create_index_concurrently_do_not_deadlock() {
    let db = TestDb::new("concurrentcic").await;
    let mut files = numbered(40, |i| {
        format!("create table t_{i} (id int);\ninsert into t_{i} values ({i});\n")
    });
    files[19].1 = "create index concurrently t_10_id on t_10 (id);\n".to_string();
    files[29].1 = "-- strata:no-transaction\ncreate table t_30 (id int);\n".to_string();
    let dir = dir_of(&files);
    let results = tokio::time::timeout(
        Duration::from_secs(60),
        concurrent_pushes(&db, dir.path(), 8),
    )
    .await
    .expect("concurrent pushes with CREATE INDEX CONCURRENTLY deadlocked (60 s)");
    let total: usize = results.into_iter().map(|r| r.unwrap().applied.len()).sum();
    assert_eq!(total, 40);
    let c = db.client().await;
    assert_eq!(
        count(
            &c,
            "select count(*) from supabase_migrations.schema_migrations"
        )
        .await,
        40
    );
    let valid: bool = c
        .query_one(
            "select indisvalid from pg_index where indexrelid = 't_10_id'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(valid);
}

// ---------------------------------------------------------------------------------------------
// 8. Supabase CLI compatibility
// ---------------------------------------------------------------------------------------------

/// The history table exactly as the Supabase CLI creates it.
const SUPABASE_CLI_HISTORY: &str = "create schema supabase_migrations;
create table supabase_migrations.schema_migrations (version text not null primary key);
alter table supabase_migrations.schema_migrations add column statements text[];
alter table supabase_migrations.schema_migrations add column name text;";

const S1: &str = "-- create a\ncreate table sa (id int);\ninsert into sa values (1);\n";
const S2: &str = "create function sf() returns int language plpgsql as $$\nbegin\n  return 1;\nend\n$$;\n-- done\n";
const S3: &str = "create table sc (id int);\n";

async fn supabase_rows(c: &Client, rows: &[(&str, &str, &[&str])]) {
    c.batch_execute(SUPABASE_CLI_HISTORY).await.unwrap();
    for (version, name, statements) in rows {
        let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
        let params: [&(dyn ToSql + Sync); 3] = [version, name, &statements];
        c.execute(
            "insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)",
            &params,
        )
        .await
        .unwrap();
    }
}

/// Three migrations of which the first two are recorded the way the Supabase CLI records them;
/// `recorded_return` is what the recorded `sf()` returned (the local file returns 1).
async fn supabase_cli_project(
    tag: &str,
    recorded_return: i32,
) -> (TestDb, tempfile::TempDir, Client) {
    let db = TestDb::new(tag).await;
    let dir = migrations_dir(&[
        ("20240101000000_create_a.sql", S1),
        ("20240102000000_create_f.sql", S2),
        ("20240103000000_create_c.sql", S3),
    ]);
    let c = db.client().await;
    let f = format!(
        "create function sf() returns int language plpgsql as $$\nbegin\n  return {recorded_return};\nend\n$$"
    );
    supabase_rows(
        &c,
        &[
            (
                "20240101000000",
                "create_a",
                &[
                    "-- create a\ncreate table sa (id int)",
                    "insert into sa values (1)",
                ],
            ),
            ("20240102000000", "create_f", &[f.as_str(), "-- done"]),
        ],
    )
    .await;
    (db, dir, c)
}

#[tokio::test]
async fn history_written_by_the_supabase_cli_counts_as_applied() {
    let (db, dir, c) = supabase_cli_project("sbhist", 1).await;

    let migrator = Migrator::new(MigrationSet::load_dir(dir.path()).unwrap());
    let (_, plan) = migrator.plan(&c).await.unwrap();
    let states: Vec<(State, bool)> = plan.rows.iter().map(|r| (r.state, r.verified)).collect();
    assert_eq!(
        states,
        [
            (State::Applied, true),
            (State::Applied, true),
            (State::Pending, false)
        ]
    );
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);

    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["20240103000000"]);
    assert_eq!(report.already_applied, 2);
    assert!(table_exists(&c, "sc").await);
    assert!(
        !table_exists(&c, "sa").await,
        "versions recorded by the CLI are not re-run"
    );
    // Strata's own row only for what Strata applied.
    let side: Vec<String> = strata_history(&c).await.into_iter().map(|r| r.0).collect();
    assert_eq!(side, ["20240103000000"]);
    // And the next push is a no-op.
    let again = push(&db, dir.path()).await.unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(again.already_applied, 3);
}

#[tokio::test]
async fn edited_file_against_supabase_cli_history_is_modified() {
    // What was applied returned 2; the local file now returns 1.
    let (db, dir, c) = supabase_cli_project("sbedit", 2).await;
    let problems = refused(push(&db, dir.path()).await.unwrap_err());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, State::Modified);
    assert_eq!(problems[0].version, v("20240102000000"));
    let diff = problems[0].diff.as_deref().expect("diff");
    assert!(
        diff.contains("-  return 2;") && diff.contains("+  return 1;"),
        "{diff}"
    );
    assert!(!table_exists(&c, "sc").await);
    // Nothing written: not even Strata's side table.
    assert!(!table_exists(&c, "supabase_migrations.strata_history").await);
}

#[tokio::test]
async fn very_old_supabase_history_without_statements_is_applied_unverified() {
    let db = TestDb::new("sbold").await;
    let dir = migrations_dir(&[
        ("20240101000000_create_a.sql", S1),
        ("20240103000000_create_c.sql", S3),
    ]);
    let c = db.client().await;
    c.batch_execute(
        "create schema supabase_migrations;
         create table supabase_migrations.schema_migrations (version text not null primary key);
         insert into supabase_migrations.schema_migrations values ('20240101000000');",
    )
    .await
    .unwrap();
    let migrator = Migrator::new(MigrationSet::load_dir(dir.path()).unwrap());
    let (_, plan) = migrator.plan(&c).await.unwrap();
    assert_eq!(plan.rows[0].state, State::Applied);
    assert!(!plan.rows[0].verified);
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["20240103000000"]);
    let rows = schema_migrations(&c).await;
    assert_eq!(rows[1].2, ["create table sc (id int)"]);
}

/// A Supabase project directory with migrations only (no rollback files: the Supabase CLI
/// would treat them as migrations).
fn supabase_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    let dir = project.path().join("supabase/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    project
}

const SB_FILES: [(&str, &str); 4] = [
    ("20240101000000_create_a.sql", S1),
    ("20240102000000_create_f.sql", S2),
    (
        "20240103000000_tricky.sql",
        "/* block; comment */\ncreate table st (t text default 'a;b', \"weird;name\" int);\n\
         comment on table st is $q$semi;colon$q$;\n-- trailing comment only\n",
    ),
    ("20240104000000_create_c.sql", S3),
];

#[tokio::test]
async fn real_supabase_cli_sees_strata_history() {
    let Some(cli) = supabase_cli() else {
        eprintln!("skipping: no Supabase CLI (set STRATA_SUPABASE_CLI)");
        return;
    };
    let db = TestDb::new("sbreal1").await;
    let project = supabase_project(&SB_FILES);
    let dir = project.path().join("supabase/migrations");
    let report = push(&db, &dir).await.unwrap();
    assert_eq!(report.applied.len(), 4);

    let url = db.url.clone();
    let cli2 = cli.clone();
    let root = project.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        run_supabase(&cli2, &root, &["migration", "list", "--db-url", &url])
    })
    .await
    .unwrap();
    for (file, _) in SB_FILES {
        let version = file.split('_').next().unwrap();
        let line = out
            .lines()
            .find(|l| l.contains(version))
            .unwrap_or_else(|| panic!("{version} not listed:\n{out}"));
        let cols: Vec<String> = line
            .split('|')
            .map(|c| c.trim().trim_matches('`').trim().to_string())
            .collect();
        assert_eq!(cols[0], version, "local column: {line}");
        assert_eq!(cols[1], version, "remote column: {line}");
    }

    // And `supabase db push` has nothing to do.
    let url = db.url.clone();
    let root = project.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        run_supabase(&cli, &root, &["db", "push", "--db-url", &url, "--yes"])
    })
    .await
    .unwrap();
    let c = db.client().await;
    assert_eq!(recorded_versions(&c).await.len(), 4);
}

#[tokio::test]
async fn strata_sees_what_the_real_supabase_cli_pushed() {
    let Some(cli) = supabase_cli() else {
        eprintln!("skipping: no Supabase CLI (set STRATA_SUPABASE_CLI)");
        return;
    };
    let db = TestDb::new("sbreal2").await;
    let project = supabase_project(&SB_FILES[..3]);
    let dir = project.path().join("supabase/migrations");
    let url = db.url.clone();
    let root = project.path().to_path_buf();
    let cli2 = cli.clone();
    tokio::task::spawn_blocking(move || {
        run_supabase(&cli2, &root, &["db", "push", "--db-url", &url, "--yes"])
    })
    .await
    .unwrap();

    let c = db.client().await;
    let migrator = Migrator::new(MigrationSet::load_dir(&dir).unwrap());
    let (_, plan) = migrator.plan(&c).await.unwrap();
    for r in &plan.rows {
        assert_eq!((r.state, r.verified), (State::Applied, true), "{r:?}");
    }
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
    let report = push(&db, &dir).await.unwrap();
    assert!(report.applied.is_empty());
    assert_eq!(report.already_applied, 3);

    // A new file: Strata pushes it, and the CLI then lists it as applied too.
    let (name, text) = SB_FILES[3];
    std::fs::write(dir.join(name), text).unwrap();
    let report = push(&db, &dir).await.unwrap();
    assert_eq!(applied_versions(&report), ["20240104000000"]);
    let url = db.url.clone();
    let root = project.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        run_supabase(&cli, &root, &["migration", "list", "--db-url", &url])
    })
    .await
    .unwrap();
    let line = out.lines().find(|l| l.contains("20240104000000")).unwrap();
    assert_eq!(line.matches("20240104000000").count(), 2, "{out}");
}

/// Files whose splitting the Supabase CLI and Strata must agree on (BOM, CRLF, a file's own
/// BEGIN/COMMIT, a SQL-standard function body, E'' strings with `\'`, nested comments).
const SB_TRICKY: [(&str, &str); 5] = [
    ("20240201000001_bom.sql", "\u{feff}create table bom (id int);\n"),
    (
        "20240201000002_crlf.sql",
        "create table crlf (id int);\r\n-- c\r\ninsert into crlf values (1);\r\n",
    ),
    (
        "20240201000003_tx.sql",
        "BEGIN;\ncreate table btx (id int);\nCOMMIT;\n",
    ),
    (
        "20240201000004_atomic.sql",
        "create function add1(a int) returns int language sql\nbegin atomic\n  select a + 1;\nend;\n",
    ),
    (
        "20240201000005_esc.sql",
        "create table esc (t text);\ninsert into esc values (E'it\\'s; here');\n\
         /* outer /* inner; */ still; */\ninsert into esc values ('x');\n",
    ),
];

#[tokio::test]
async fn strata_agrees_with_the_real_supabase_cli_on_tricky_files() {
    let Some(cli) = supabase_cli() else {
        eprintln!("skipping: no Supabase CLI (set STRATA_SUPABASE_CLI)");
        return;
    };
    // Pushed by the Supabase CLI, verified by Strata statement by statement.
    let db = TestDb::new("sbtricky").await;
    let project = supabase_project(&SB_TRICKY);
    let dir = project.path().join("supabase/migrations");
    let url = db.url.clone();
    let root = project.path().to_path_buf();
    let cli2 = cli.clone();
    tokio::task::spawn_blocking(move || {
        run_supabase(&cli2, &root, &["db", "push", "--db-url", &url, "--yes"])
    })
    .await
    .unwrap();
    let c = db.client().await;
    let migrator = Migrator::new(MigrationSet::load_dir(&dir).unwrap());
    let (_, plan) = migrator.plan(&c).await.unwrap();
    assert!(plan.problems.is_empty(), "{:#?}", plan.problems);
    for r in &plan.rows {
        assert_eq!((r.state, r.verified), (State::Applied, true), "{r:?}");
    }

    // Pushed by Strata: the rows equal what the Supabase CLI wrote.
    let cli_rows = schema_migrations(&c).await;
    let db2 = TestDb::new("sbtricky2").await;
    let report = push(&db2, &dir).await.unwrap();
    assert_eq!(report.applied.len(), SB_TRICKY.len());
    let strata_rows = schema_migrations(&db2.client().await).await;
    assert_eq!(strata_rows, cli_rows);
}

// ---------------------------------------------------------------------------------------------
// more: session state between migrations, literal fidelity, the lock, platform dry run
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn settings_of_one_migration_do_not_leak_into_the_next() {
    let db = TestDb::new("reset").await;
    let dir = migrations_dir(&[
        (
            "1_other.sql",
            "create schema other;\nset search_path = other;\ncreate table in_other (id int);\n",
        ),
        ("2_public.sql", "create table in_public (id int);\n"),
        (
            "3_marked.sql",
            "-- strata:no-transaction\nset search_path = other;\ncreate table in_other2 (id int);\n",
        ),
        ("4_public.sql", "create table in_public2 (id int);\n"),
    ]);
    push(&db, dir.path()).await.unwrap();
    let c = db.client().await;
    assert!(table_exists(&c, "other.in_other").await);
    assert!(
        table_exists(&c, "public.in_public").await,
        "search_path leaked into 2"
    );
    assert!(table_exists(&c, "other.in_other2").await);
    assert!(
        table_exists(&c, "public.in_public2").await,
        "search_path leaked into 4"
    );
}

#[tokio::test]
async fn statements_with_quotes_and_backslashes_are_recorded_verbatim() {
    let db = TestDb::new("literals").await;
    let text = "set standard_conforming_strings = off;\ncreate table lit (t text);\n\
                insert into lit values ('it''s'), (E'back\\\\slash'), ($x$dollar ' \\ $x$);\n";
    let dir = migrations_dir(&[("1_lit.sql", text)]);
    push(&db, dir.path()).await.unwrap();
    let c = db.client().await;
    let rows = schema_migrations(&c).await;
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    assert_eq!(rows[0].2, set.migrations[0].statement_texts().unwrap());
    assert_eq!(count(&c, "select count(*) from lit").await, 3);
    // And the next push verifies it unchanged.
    assert!(push(&db, dir.path()).await.unwrap().applied.is_empty());
}

#[tokio::test]
async fn a_held_lock_makes_push_wait_then_give_up() {
    let db = TestDb::new("lockwait").await;
    let dir = migrations_dir(&[("1_a.sql", "create table lw (id int);\n")]);
    let holder = db.client().await;
    holder
        .execute("select pg_advisory_lock($1)", &[&strata::lock::LOCK_KEY])
        .await
        .unwrap();
    let holder_pid: i32 = holder
        .query_one("select pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let e = push_with(
        &db,
        dir.path(),
        PushOptions {
            lock_wait: Duration::from_millis(300),
            ..opts()
        },
    )
    .await
    .unwrap_err();
    match &e {
        Error::LockWait {
            holders, waited, ..
        } => {
            assert!(*waited >= Duration::from_millis(300));
            assert!(holders.iter().any(|h| h.pid == holder_pid), "{holders:?}");
        }
        other => panic!("expected LockWait, got {other:?}"),
    }
    let c = db.client().await;
    assert!(!table_exists(&c, "lw").await);

    // Released while a push waits: it proceeds.
    let target = db.target();
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let waiting =
        tokio::spawn(async move { Migrator::new(set).with_options(opts()).push(&target).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    holder
        .execute("select pg_advisory_unlock($1)", &[&strata::lock::LOCK_KEY])
        .await
        .unwrap();
    let report = waiting.await.unwrap().unwrap();
    assert_eq!(applied_versions(&report), ["1"]);
    assert!(report.lock_waited_ms >= 100, "{}", report.lock_waited_ms);
}

#[tokio::test]
async fn version_reverted_by_the_supabase_cli_is_applied_again() {
    // `supabase migration repair --status reverted` deletes only the schema_migrations row;
    // Strata's stale side row must not get in the way.
    let db = TestDb::new("sbrevert").await;
    let dir = migrations_dir(&[("1_a.sql", "create table if not exists rv (id int);\n")]);
    push(&db, dir.path()).await.unwrap();
    let c = db.client().await;
    c.batch_execute("delete from supabase_migrations.schema_migrations where version = '1'")
        .await
        .unwrap();
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(applied_versions(&report), ["1"]);
    assert_eq!(recorded_versions(&c).await, ["1"]);
    assert_eq!(strata_history(&c).await.len(), 1);
}

#[tokio::test]
async fn dry_run_with_supabase_platform_installs_nothing() {
    let db = TestDb::new("dryplatform").await;
    let dir = migrations_dir(&[("1_a.sql", "create table dp (id int);\n")]);
    let report = push_with(
        &db,
        dir.path(),
        PushOptions {
            platform: strata::platform::Platform::Supabase,
            ..dry()
        },
    )
    .await
    .unwrap();
    let status = report.platform.as_ref().map(|p| p.status);
    assert!(
        matches!(
            status,
            Some("would_install") | Some("current") | Some("real_supabase")
        ),
        "{status:?}"
    );
    let c = db.client().await;
    for schema in [
        "supabase_migrations",
        "strata_platform",
        "auth",
        "storage",
        "extensions",
    ] {
        assert!(
            !schema_exists(&c, schema).await,
            "dry run created schema {schema}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// regressions: bugs found by these tests, fixed
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deferred_constraint_failure_is_a_migration_error() {
    let db = TestDb::new("deferred").await;
    let dir = migrations_dir(&[(
        "1_def.sql",
        "create table p (id int primary key);\n\
         create table ch (pid int references p deferrable initially deferred);\n\
         insert into ch values (1);\n",
    )]);
    let e = push(&db, dir.path()).await.unwrap_err();
    let e = migration_error(e);
    assert_eq!(e.file, dir.path().join("1_def.sql"));
    assert_eq!(e.sqlstate.as_deref(), Some("23503"));
    let c = db.client().await;
    assert!(!table_exists(&c, "ch").await);
    assert!(recorded_versions(&c).await.is_empty());
}

#[tokio::test]
async fn error_column_after_begin_with_a_multibyte_character() {
    let db = TestDb::new("beginmb").await;
    let dir = migrations_dir(&[(
        "1_tx.sql",
        "begin /* é */;\ncreate table x (id int);\nselect nope from x;\ncommit;\n",
    )]);
    let e = migration_error(push(&db, dir.path()).await.unwrap_err());
    assert_eq!((e.line, e.column), (3, 8), "{e}");
}

#[tokio::test]
async fn non_utf8_file_name_is_an_error() {
    use std::os::unix::ffi::OsStrExt;
    let dir = migrations_dir(&[("1_a.sql", "create table a (id int);\n")]);
    let name = std::ffi::OsStr::from_bytes(b"2_caf\xe9.sql");
    std::fs::write(dir.path().join(name), "create table b (id int);\n").unwrap();
    let result = MigrationSet::load_dir(dir.path());
    assert!(
        result.is_err(),
        "loaded {:?}",
        result
            .unwrap()
            .migrations
            .iter()
            .map(|m| m.file_name())
            .collect::<Vec<_>>()
    );
}
