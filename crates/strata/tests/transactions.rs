//! What cannot run inside a transaction block, on a real server: every file that psql applies
//! (autocommitting) applies with Strata too — run outside a transaction when PostgreSQL demands
//! it, run again statement by statement when it refuses a statement only sometimes, and with a
//! precise hint when neither is possible.

mod support;

use std::path::Path;

use strata::apply::PushReport;
use strata::{Error, MigrationSet, Migrator};
use support::{migrations_dir, TestDb};

async fn push(db: &TestDb, dir: &Path) -> Result<PushReport, Error> {
    Migrator::new(MigrationSet::load_dir(dir)?)
        .push(&db.target())
        .await
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

const PARTITIONED: &str = "create table public.readings (at date not null, v int) partition by range (at);
create table public.readings_2023 partition of public.readings for values from ('2023-01-01') to ('2024-01-01');
create index readings_at on public.readings (at);
insert into public.readings values ('2023-05-01', 1);
";

#[tokio::test]
async fn detach_partition_concurrently_alone_in_a_file_applies() {
    let db = TestDb::new("detach").await;
    let dir = migrations_dir(&[
        ("1_readings.sql", PARTITIONED),
        (
            "2_detach.sql",
            "ALTER TABLE public.readings DETACH PARTITION public.readings_2023 CONCURRENTLY;\n",
        ),
    ]);
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(report.applied.len(), 2);
    assert!(!report.applied[1].transactional);
    assert!(report.applied[1]
        .no_transaction_reason
        .as_deref()
        .unwrap()
        .contains("DETACH CONCURRENTLY"));
    assert_eq!(count(&db, "select count(*) from pg_inherits").await, 0);
}

#[tokio::test]
async fn a_do_block_that_commits_applies_as_with_psql() {
    let db = TestDb::new("docommit").await;
    let dir = migrations_dir(&[
        ("1_t.sql", "create table t (id int);\n"),
        (
            "2_batches.sql",
            "DO $$\nBEGIN\n  INSERT INTO t VALUES (1);\n  COMMIT;\n  INSERT INTO t VALUES (2);\nEND\n$$;\n",
        ),
    ]);
    let report = push(&db, dir.path()).await.unwrap();
    assert!(!report.applied[1].transactional);
    assert_eq!(count(&db, "select count(*) from t").await, 2);
}

#[tokio::test]
async fn sometimes_refused_statements_run_again_statement_by_statement() {
    let db = TestDb::new("fallback").await;
    let dir = migrations_dir(&[
        ("1_readings.sql", PARTITIONED),
        ("2_plain.sql", "create table plain (id int primary key);\n"),
        // A plain table: fine inside a transaction, and kept atomic.
        ("3_reindex_plain.sql", "REINDEX TABLE plain;\n"),
        // A partitioned table: PostgreSQL 14+ refuses it in a transaction block.
        ("4_reindex_partitioned.sql", "REINDEX TABLE public.readings;\n"),
        (
            "5_proc.sql",
            "create procedure batches() language plpgsql as $$\nbegin\n  insert into plain values (1);\n  commit;\n  insert into plain values (2);\nend\n$$;\n",
        ),
        // A procedure that commits: refused in a transaction block (2D000).
        ("6_call.sql", "CALL batches();\n"),
        ("7_do_call.sql", "DO $$ BEGIN CALL batches(); END $$;\n"),
    ]);
    let err = push(&db, dir.path()).await.unwrap_err();
    // 7 calls batches() again: the primary key refuses the rows a second time, and the error
    // is located in file 7 — after 1–6 applied.
    let Error::Migration(m) = err else {
        panic!("{err:?}")
    };
    assert!(m.file.ends_with("7_do_call.sql"), "{m:?}");
    assert_eq!(m.sqlstate.as_deref(), Some("23505"));
    let history: i64 = count(
        &db,
        "select count(*) from supabase_migrations.schema_migrations",
    )
    .await;
    assert_eq!(history, 6);
    let report = Migrator::new(MigrationSet::load_dir(dir.path()).unwrap())
        .plan(&db.client().await)
        .await
        .unwrap()
        .1;
    assert_eq!(report.pending.len(), 1);

    let db = TestDb::new("fallback2").await;
    std::fs::remove_file(dir.path().join("7_do_call.sql")).unwrap();
    let report = push(&db, dir.path()).await.unwrap();
    let by_file = |name: &str| {
        report
            .applied
            .iter()
            .find(|a| a.file.ends_with(name))
            .unwrap()
    };
    assert!(by_file("3_reindex_plain.sql").transactional);
    for (file, what) in [
        ("4_reindex_partitioned.sql", "REINDEX TABLE"),
        ("6_call.sql", "CALL"),
    ] {
        let a = by_file(file);
        assert!(!a.transactional, "{file}");
        let reason = a.no_transaction_reason.as_deref().unwrap();
        assert!(
            reason.contains(what) && reason.contains("ran again statement by statement"),
            "{reason}"
        );
    }
    assert_eq!(count(&db, "select count(*) from plain").await, 2);
}

#[tokio::test]
async fn a_new_enum_value_used_in_its_own_transaction_says_how_to_split() {
    let db = TestDb::new("enumvalue").await;
    let file = "create type mood as enum ('sad');\ncreate table feelings (m mood);\nalter type mood add value 'happy';\ninsert into feelings values ('happy');\n";
    let dir = migrations_dir(&[("1_mood.sql", file)]);
    let Err(Error::Migration(m)) = push(&db, dir.path()).await else {
        panic!("expected a failure")
    };
    assert_eq!(m.sqlstate.as_deref(), Some("55P04"));
    assert_eq!(m.line, 4);
    let hint = m.hint.as_deref().unwrap();
    assert!(hint.contains("ADD VALUE on line 3"), "{hint}");
    assert!(
        hint.contains("from line 4 on into a new migration"),
        "{hint}"
    );
    assert!(hint.contains("-- strata:no-transaction"), "{hint}");
    // Marked, it runs as psql runs it.
    let db = TestDb::new("enumvalue2").await;
    let dir = migrations_dir(&[("1_mood.sql", &format!("-- strata:no-transaction\n{file}"))]);
    push(&db, dir.path()).await.unwrap();
    assert_eq!(count(&db, "select count(*) from feelings").await, 1);
}

#[tokio::test]
async fn other_tools_markers_run_a_file_outside_a_transaction() {
    for (tool, marker) in [
        ("dbmate", "-- migrate:up transaction:false"),
        ("goose", "-- +goose NO TRANSACTION"),
        ("sqlx", "-- no-transaction"),
        (
            "postgres-migrations",
            "-- postgres-migrations disable-transaction",
        ),
        ("flyway", "-- flyway:executeInTransaction=false"),
    ] {
        let db = TestDb::new("markers").await;
        // Outside a transaction, the second statement sees the first one's commit: two
        // different transaction ids.
        let dir = migrations_dir(&[(
            "1_marked.sql",
            &format!("{marker}\ncreate table ids (x xid8);\ninsert into ids values (pg_current_xact_id());\ninsert into ids values (pg_current_xact_id());\n"),
        )]);
        let report = push(&db, dir.path()).await.unwrap();
        assert!(!report.applied[0].transactional, "{tool}");
        assert!(
            report.applied[0]
                .no_transaction_reason
                .as_deref()
                .unwrap()
                .contains(marker),
            "{tool}"
        );
        assert_eq!(
            count(&db, "select count(distinct x::text) from ids").await,
            2,
            "{tool}"
        );
    }
}

#[tokio::test]
async fn pg_dump_restrict_lines_are_ignored_whatever_the_key() {
    let db = TestDb::new("restrict").await;
    let dump = |key: &str| {
        format!("--\n-- PostgreSQL database dump\n--\n\n\\restrict {key}\n\nSET statement_timeout = 0;\ncreate table dumped (id int);\n\n\\unrestrict {key}\n")
    };
    let dir = migrations_dir(&[("1_dump.sql", &dump("aBc123XyZ"))]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    assert_eq!(set.notes.len(), 1);
    assert!(set.notes[0].note.contains("\\restrict"), "{:?}", set.notes);
    // The lines are blanked, so line numbers stay those of the file.
    assert_eq!(
        set.migrations[0].sql.lines().count(),
        dump("k").lines().count()
    );
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(report.applied.len(), 1);
    // A new dump of the same schema has another key: not a change.
    std::fs::write(dir.path().join("1_dump.sql"), dump("OtherKey987")).unwrap();
    let again = push(&db, dir.path()).await.unwrap();
    assert!(again.applied.is_empty());
}
