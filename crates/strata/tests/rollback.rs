//! Integration tests for `rollback` against a real PostgreSQL server: the last N and to a
//! version (schema and both history tables back to the earlier state, a later push re-applies),
//! refusals before anything runs, failures located in the rollback file, the shared lock, dry
//! runs, rollback files that cannot run in a transaction, and the example app rolled back to its
//! first version and pushed again.
//!
//! Every test gets its own database (see `support`), so the tests run in parallel.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use strata::platform::Platform;
use strata::rollback::{self, RollbackOptions, RollbackReport, Rollbacker, Selection};
use strata::{Error, MigrationSet, Migrator, PushOptions, Version};
use support::{migrations_dir, TestDb};
use tokio_postgres::Client;

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const THREE: &[(&str, &str)] = &[
    ("1_a.sql", "create table a (id int primary key);\n"),
    ("1_a_rollback.sql", "drop table a;\n"),
    (
        "2_b.sql",
        "create table b (id int references a);\ncreate index b_id on b (id);\n",
    ),
    ("2_b_rollback.sql", "drop table b;\n"),
    (
        "3_c.sql",
        "alter table a add column note text default 'x';\ncreate view c as select id, note from a;\n",
    ),
    (
        "3_c_rollback.sql",
        "drop view c;\nalter table a drop column note;\n",
    ),
];

async fn push_dir(db: &TestDb, dir: &Path) -> strata::PushReport {
    let set = MigrationSet::load_dir(dir).unwrap();
    Migrator::new(set)
        .with_options(PushOptions::default())
        .push(&db.target())
        .await
        .unwrap_or_else(|e| panic!("push failed: {e}"))
}

async fn roll(db: &TestDb, dir: &Path, selection: Selection) -> Result<RollbackReport, Error> {
    roll_with(
        db,
        dir,
        RollbackOptions {
            selection,
            ..RollbackOptions::default()
        },
    )
    .await
}

async fn roll_with(
    db: &TestDb,
    dir: &Path,
    options: RollbackOptions,
) -> Result<RollbackReport, Error> {
    let set = MigrationSet::load_dir(dir)?;
    Rollbacker::new(set)
        .with_options(options)
        .rollback(&db.target())
        .await
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

/// Versions in `schema_migrations` and in `strata_history`.
async fn history(c: &Client) -> (Vec<String>, Vec<String>) {
    let q = |t: &str| {
        format!("select coalesce(array_agg(version order by version::numeric), '{{}}') from supabase_migrations.{t}")
    };
    let a: Vec<String> = c
        .query_one(&q("schema_migrations"), &[])
        .await
        .unwrap()
        .get(0);
    let b: Vec<String> = c.query_one(&q("strata_history"), &[]).await.unwrap().get(0);
    (a, b)
}

fn versions(a: &[&str]) -> (Vec<String>, Vec<String>) {
    let v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
    (v.clone(), v)
}

/// A compact description of the public schema: relations, columns (type, default), indexes,
/// views, policies and functions.
async fn catalog(c: &Client) -> Vec<String> {
    let rows = c
        .query(
        "select 'rel ' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity \
           || ' acl=' || coalesce(c.relacl::text, '-') \
           from pg_class c where c.relnamespace = 'public'::regnamespace \
         union all \
         select 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
           || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attnotnull \
           from pg_attribute a join pg_class c on c.oid = a.attrelid \
           left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum \
           where c.relnamespace = 'public'::regnamespace and a.attnum > 0 and not a.attisdropped \
         union all \
         select 'idx ' || indexdef from pg_indexes where schemaname in ('public', 'storage') \
         union all \
         select 'view ' || viewname || ' ' || definition from pg_views where schemaname = 'public' \
         union all \
         select 'policy ' || schemaname || '.' || tablename || ' ' || policyname || ' ' || cmd \
           || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '') from pg_policies \
         union all \
         select 'fn ' || p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid)) \
           from pg_proc p where p.pronamespace = 'public'::regnamespace \
         union all \
         select 'trigger ' || tgname || ' on ' || tgrelid::regclass::text from pg_trigger \
           where not tgisinternal \
         order by 1",
        &[],
    )
    .await
    .unwrap();
    let mut lines: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    if exists(c, "storage.buckets").await {
        let buckets = c
            .query(
                "select 'bucket ' || id from storage.buckets order by 1",
                &[],
            )
            .await
            .unwrap();
        lines.extend(buckets.iter().map(|r| r.get::<_, String>(0)));
    }
    lines
}

async fn exists(c: &Client, name: &str) -> bool {
    c.query_one("select to_regclass($1) is not null", &[&name])
        .await
        .unwrap()
        .get(0)
}

fn refused(e: Error) -> Vec<rollback::RollbackProblem> {
    match e {
        Error::RollbackRefused { problems } => problems,
        other => panic!("expected Error::RollbackRefused, got {other:?} ({other})"),
    }
}

// ---------------------------------------------------------------------------------------------
// rolling back
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn last_n_rolls_back_newest_first_and_a_push_reapplies() {
    let db = TestDb::new("rb_last").await;
    let c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;

    let report = roll(&db, dir.path(), Selection::Last(1)).await.unwrap();
    assert_eq!(report.reverted.len(), 1);
    assert_eq!(report.reverted[0].version, "3");
    assert!(report.reverted[0].file.ends_with("3_c_rollback.sql"));
    assert_eq!(report.newest_applied.as_deref(), Some("2"));
    assert!(!exists(&c, "c").await);
    assert_eq!(history(&c).await, versions(&["1", "2"]));

    let report = roll(&db, dir.path(), Selection::Last(2)).await.unwrap();
    let order: Vec<_> = report.reverted.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(order, ["2", "1"], "newest first");
    assert_eq!(report.newest_applied, None);
    assert!(!exists(&c, "a").await && !exists(&c, "b").await);
    assert_eq!(history(&c).await, versions(&[]));
    assert!(catalog(&c).await.is_empty(), "{:?}", catalog(&c).await);

    // Nothing left: rolling back more is a no-op, not an error.
    let report = roll(&db, dir.path(), Selection::Last(1)).await.unwrap();
    assert!(report.reverted.is_empty());

    let pushed = push_dir(&db, dir.path()).await;
    assert_eq!(pushed.applied.len(), 3);
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));
    assert!(exists(&c, "c").await);
}

#[tokio::test]
async fn to_version_restores_the_earlier_state_exactly() {
    let db = TestDb::new("rb_to").await;
    let c = db.client().await;
    let first = migrations_dir(&THREE[..2]);
    push_dir(&db, first.path()).await;
    let after_first = catalog(&c).await;
    assert!(!after_first.is_empty());

    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;
    assert_ne!(catalog(&c).await, after_first);

    let report = roll(&db, dir.path(), Selection::To(v("1"))).await.unwrap();
    let order: Vec<_> = report.reverted.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(order, ["3", "2"]);
    assert_eq!(report.newest_applied.as_deref(), Some("1"));
    assert_eq!(catalog(&c).await, after_first);
    assert_eq!(history(&c).await, versions(&["1"]));

    // --to the newest applied version rolls back nothing.
    let report = roll(&db, dir.path(), Selection::To(v("1"))).await.unwrap();
    assert!(report.reverted.is_empty());

    assert_eq!(push_dir(&db, dir.path()).await.applied.len(), 2);
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));
}

#[tokio::test]
async fn to_a_version_that_is_not_applied_is_an_error_naming_it() {
    let db = TestDb::new("rb_to_bad").await;
    let c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;
    let before = catalog(&c).await;
    // Not applied (and not local either); `--to 0` is no way to wipe everything.
    for version in ["5", "0"] {
        let e = roll(&db, dir.path(), Selection::To(v(version)))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::Setting { setting, .. } if setting == "--to"),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains(&format!("version {version} is not applied")),
            "{e}"
        );
        assert!(
            e.hint().unwrap().contains("newest applied: 3"),
            "{:?}",
            e.hint()
        );
    }
    assert_eq!(catalog(&c).await, before);
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));
}

#[tokio::test]
async fn a_missing_rollback_file_refuses_before_anything_runs() {
    let db = TestDb::new("rb_missing").await;
    let c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;
    // The middle one lacks its rollback: rolling back all three must not even undo the newest.
    std::fs::remove_file(dir.path().join("2_b_rollback.sql")).unwrap();
    let before = catalog(&c).await;

    let e = roll(&db, dir.path(), Selection::Last(3)).await.unwrap_err();
    // Exit 7 in the CLI (refused, nothing changed).
    assert!(matches!(e, Error::RollbackRefused { .. }), "{e:?}");
    let problems = refused(e);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].version, "2");
    assert!(problems[0].message.contains("2_b.sql has no rollback file"));
    assert_eq!(
        problems[0].file.as_deref(),
        Some(dir.path().join("2_b_rollback.sql").as_path())
    );
    assert_eq!(catalog(&c).await, before);
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));

    // A project that keeps rollback files in `rollbacks/` beside the migrations directory
    // expects the missing one there.
    let project = tempfile::tempdir().unwrap();
    let (mig, rb) = (
        project.path().join("migrations"),
        project.path().join("rollbacks"),
    );
    std::fs::create_dir_all(&mig).unwrap();
    std::fs::create_dir_all(&rb).unwrap();
    for (name, text) in THREE {
        let dir = if name.ends_with("_rollback.sql") {
            &rb
        } else {
            &mig
        };
        if *name != "2_b_rollback.sql" {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let problems = refused(roll(&db, &mig, Selection::Last(3)).await.unwrap_err());
    assert_eq!(
        problems[0].file.as_deref(),
        Some(rb.join("2_b_rollback.sql").as_path())
    );

    // An applied version without a local file is named too.
    std::fs::remove_file(dir.path().join("3_c.sql")).unwrap();
    std::fs::remove_file(dir.path().join("3_c_rollback.sql")).unwrap();
    let problems = refused(roll(&db, dir.path(), Selection::Last(2)).await.unwrap_err());
    let named: Vec<_> = problems.iter().map(|p| p.version.as_str()).collect();
    assert_eq!(named, ["3", "2"]);
    assert!(problems[0].message.contains("no local migration file"));
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));
}

#[tokio::test]
async fn irreversible_and_modified_migrations_refuse() {
    let db = TestDb::new("rb_irrev").await;
    let c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;
    std::fs::write(
        dir.path().join("3_c_rollback.sql"),
        "-- strata:irreversible\n-- 3 copies data that cannot be put back.\n",
    )
    .unwrap();
    let problems = refused(roll(&db, dir.path(), Selection::Last(1)).await.unwrap_err());
    assert!(problems[0].message.contains("irreversible"), "{problems:?}");
    assert!(problems[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("strata restore"));

    // A migration edited since it was applied: its rollback may not match what ran.
    std::fs::write(
        dir.path().join("2_b.sql"),
        "create table b (id int references a, extra int);\ncreate index b_id on b (id);\n",
    )
    .unwrap();
    let problems = refused(
        roll(&db, dir.path(), Selection::To(v("1")))
            .await
            .unwrap_err(),
    );
    let kinds: Vec<_> = problems.iter().map(|p| p.version.as_str()).collect();
    assert_eq!(kinds, ["3", "2"]);
    assert!(problems[1].message.contains("changed since it was applied"));
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));
    assert!(exists(&c, "c").await);
}

#[tokio::test]
async fn a_failing_rollback_file_leaves_its_migration_applied_and_is_located() {
    let db = TestDb::new("rb_fail").await;
    let c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;
    std::fs::write(
        dir.path().join("2_b_rollback.sql"),
        "-- undo 2\ndrop index b_id;\ndelete from b where nope = 1;\ndrop table b;\n",
    )
    .unwrap();

    let e = roll(&db, dir.path(), Selection::Last(3)).await.unwrap_err();
    // Exit 6 in the CLI: a migration (here a rollback file) failed.
    let Error::Migration(m) = e else {
        panic!("expected a migration error, got {e:?}")
    };
    assert!(m.file.ends_with("2_b_rollback.sql"), "{:?}", m.file);
    assert_eq!((m.line, m.column), (3, 21), "{m}");
    assert_eq!(m.sqlstate.as_deref(), Some("42703"));
    assert_eq!(m.version, "2");
    assert!(m.transactional);

    // 3 was rolled back before; 2 is still fully applied (its index too) and recorded.
    assert!(!exists(&c, "c").await);
    assert!(exists(&c, "b").await && exists(&c, "b_id").await);
    assert_eq!(history(&c).await, versions(&["1", "2"]));
}

#[tokio::test]
async fn dry_run_prints_each_round_trip_and_changes_nothing() {
    let db = TestDb::new("rb_dry").await;
    let c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;
    let before = catalog(&c).await;

    let report = roll_with(
        &db,
        dir.path(),
        RollbackOptions {
            selection: Selection::Last(2),
            dry_run: true,
            ..RollbackOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(report.dry_run && report.reverted.is_empty());
    assert_eq!(report.newest_applied.as_deref(), Some("1"));
    let planned: Vec<_> = report.planned.iter().map(|p| p.version.as_str()).collect();
    assert_eq!(planned, ["3", "2"]);
    let sql = &report.planned[0].sql;
    assert_eq!(sql.len(), 1, "one round trip: {sql:?}");
    assert!(sql[0].starts_with(
        "SET LOCAL transaction_read_only = off; SET SESSION AUTHORIZATION DEFAULT; RESET ROLE; RESET ALL;"
    ));
    assert!(sql[0].contains("drop view c;"));
    assert!(sql[0].contains(
        "SET LOCAL statement_timeout = 0;\nDELETE FROM supabase_migrations.schema_migrations WHERE version = '3';\nDELETE FROM supabase_migrations.strata_history WHERE version = '3';"
    ));
    assert_eq!(catalog(&c).await, before);
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));
}

#[tokio::test]
async fn a_rollback_that_cannot_run_in_a_transaction_runs_statement_by_statement() {
    let db = TestDb::new("rb_notx").await;
    let c = db.client().await;
    let dir = migrations_dir(&[
        ("1_t.sql", "create table t (id int);\n"),
        ("1_t_rollback.sql", "drop table t;\n"),
        ("2_idx.sql", "create index concurrently t_id on t (id);\n"),
        (
            "2_idx_rollback.sql",
            "begin;\ncommit;\ndrop index concurrently if exists t_id;\n",
        ),
    ]);
    push_dir(&db, dir.path()).await;
    assert!(exists(&c, "t_id").await);
    let report = roll(&db, dir.path(), Selection::Last(1)).await.unwrap();
    assert!(!report.reverted[0].transactional);
    assert!(!exists(&c, "t_id").await);
    assert_eq!(history(&c).await, versions(&["1"]));
}

#[tokio::test]
async fn rollback_waits_for_the_lock_of_a_running_push() {
    let db = TestDb::new("rb_lock").await;
    let c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;

    // Another run holds the lock: a short wait gives up and changes nothing.
    let holder = db.client().await;
    strata::lock::acquire(&holder, Duration::from_secs(1), "t", |_| {})
        .await
        .unwrap();
    let e = roll_with(
        &db,
        dir.path(),
        RollbackOptions {
            selection: Selection::Last(1),
            lock_wait: Duration::from_millis(300),
            ..RollbackOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::LockWait { .. }), "{e:?}");
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));

    // A rollback started while the lock is held runs once it is released, and re-reads the
    // history under the lock: here, a push that ran meanwhile had applied version 4.
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let target = db.target();
    let waiting = tokio::spawn(async move {
        Rollbacker::new(set)
            .with_options(RollbackOptions {
                selection: Selection::Last(1),
                lock_wait: Duration::from_secs(30),
                ..RollbackOptions::default()
            })
            .rollback(&target)
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the rollback should wait for the lock"
    );
    assert_eq!(history(&c).await, versions(&["1", "2", "3"]));
    std::fs::write(dir.path().join("4_d.sql"), "create table d (id int);\n").unwrap();
    std::fs::write(dir.path().join("4_d_rollback.sql"), "drop table d;\n").unwrap();
    // The push of 4 in the holder's session (which owns the lock) while the rollback waits.
    holder
        .batch_execute(
            "create table d (id int);\n\
             insert into supabase_migrations.schema_migrations (version, name, statements) values ('4', 'd', '{}');",
        )
        .await
        .unwrap();
    strata::lock::release(&holder).await.unwrap();
    let e = waiting.await.unwrap().unwrap_err();
    // Version 4 was applied meanwhile, is not in the rollback's set (loaded before it was
    // written): the rollback refuses instead of undoing 3 under 4.
    let problems = refused(e);
    assert_eq!(problems[0].version, "4");
    assert!(exists(&c, "c").await && exists(&c, "d").await);
}

#[tokio::test]
async fn concurrent_rollback_and_push_serialize() {
    let db = TestDb::new("rb_race").await;
    let c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;
    for _ in 0..3 {
        let set = MigrationSet::load_dir(dir.path()).unwrap();
        let set2 = set.clone();
        let (t1, t2) = (db.target(), db.target());
        let rb = tokio::spawn(async move {
            Rollbacker::new(set)
                .with_options(RollbackOptions {
                    selection: Selection::Last(2),
                    ..RollbackOptions::default()
                })
                .rollback(&t1)
                .await
        });
        let push = tokio::spawn(async move { Migrator::new(set2).push(&t2).await });
        let (rb, push) = (rb.await.unwrap().unwrap(), push.await.unwrap().unwrap());
        // Whichever ran second saw the first's result: either everything is applied (rollback
        // first, then push re-applied) or only 1 is (push found nothing, then rollback).
        let (applied, _) = history(&c).await;
        if push.applied.is_empty() {
            assert_eq!(applied, ["1"]);
            assert!(!exists(&c, "b").await);
        } else {
            assert_eq!(rb.reverted.len(), 2);
            assert_eq!(applied, ["1", "2", "3"]);
            assert!(exists(&c, "c").await);
        }
        push_dir(&db, dir.path()).await;
    }
}

#[tokio::test]
async fn revert_undoes_one_migration_on_a_connection() {
    let db = TestDb::new("rb_revert").await;
    let mut c = db.client().await;
    let dir = migrations_dir(THREE);
    push_dir(&db, dir.path()).await;
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let m = set.get(&v("3")).unwrap();
    let report = rollback::revert(&mut c, m, m.rollback.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(report.version, "3");
    assert_eq!(report.statements, 2);
    assert!(!exists(&c, "c").await);
    assert_eq!(history(&c).await, versions(&["1", "2"]));
    // Not applied any more: a second revert refuses instead of running the file again.
    let e = rollback::revert(&mut c, m, m.rollback.as_ref().unwrap())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not applied"), "{e}");
}

#[tokio::test]
async fn history_written_by_the_supabase_cli_alone_is_rolled_back() {
    // No strata_history table: only schema_migrations rows are removed.
    let db = TestDb::new("rb_cli").await;
    let c = db.client().await;
    c.batch_execute(
        "create schema supabase_migrations;\n\
         create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);\n\
         create table a (id int primary key);\n\
         insert into supabase_migrations.schema_migrations values ('1', array['create table a (id int primary key)'], 'a');",
    )
    .await
    .unwrap();
    let dir = migrations_dir(&THREE[..2]);
    let report = roll(&db, dir.path(), Selection::Last(1)).await.unwrap();
    assert_eq!(report.reverted.len(), 1);
    assert!(!exists(&c, "a").await);
    let n: i64 = c
        .query_one(
            "select count(*) from supabase_migrations.schema_migrations",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

// ---------------------------------------------------------------------------------------------
// the example app
// ---------------------------------------------------------------------------------------------

async fn push_example(db: &TestDb, dir: &Path) -> strata::PushReport {
    let set = MigrationSet::load_dir(dir).unwrap();
    Migrator::new(set)
        .with_options(PushOptions {
            platform: Platform::Supabase,
            ..PushOptions::default()
        })
        .push(&db.target())
        .await
        .unwrap_or_else(|e| panic!("push of the example failed: {e}"))
}

#[tokio::test]
async fn the_example_app_rolls_back_to_its_first_version_and_pushes_again() {
    let db = TestDb::new("rb_example").await;
    let c = db.client().await;
    let example = support::chat_app_dir();
    let set = MigrationSet::load_dir(&example).unwrap();
    let first = &set.migrations[0];

    // The state after the first migration alone.
    let only_first = tempfile::tempdir().unwrap();
    std::fs::copy(&first.path, only_first.path().join(first.file_name())).unwrap();
    push_example(&db, only_first.path()).await;
    let after_first = catalog(&c).await;

    let full = push_example(&db, &example).await;
    assert_eq!(full.applied.len(), set.migrations.len() - 1);
    let everything = catalog(&c).await;

    let observed = Arc::new(Events::default());
    let report = Rollbacker::new(set.clone())
        .with_options(RollbackOptions {
            selection: Selection::To(first.version.clone()),
            ..RollbackOptions::default()
        })
        .with_observer(observed.clone())
        .rollback(&db.target())
        .await
        .unwrap();
    assert_eq!(report.reverted.len(), set.migrations.len() - 1);
    assert_eq!(
        *observed.0.lock().unwrap(),
        set.migrations.len() - 1,
        "one Reverted event per migration"
    );
    assert_eq!(catalog(&c).await, after_first);
    assert_eq!(history(&c).await, versions(&[first.version.as_str()]));

    let again = push_example(&db, &example).await;
    assert_eq!(again.applied.len(), set.migrations.len() - 1);
    assert_eq!(catalog(&c).await, everything);
}

#[derive(Default)]
struct Events(std::sync::Mutex<usize>);

impl strata::apply::Observer for Events {
    fn event(&self, event: &strata::apply::Event<'_>) {
        if let strata::apply::Event::Reverted { .. } = event {
            *self.0.lock().unwrap() += 1;
        }
    }
}
