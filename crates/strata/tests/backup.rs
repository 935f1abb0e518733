//! Backups against a real PostgreSQL server: `pg_dump` before a destructive change, then
//! `pg_restore` gives back the data, the schema and the history; a bad archive or a restore
//! that cannot complete changes nothing; the example app (Supabase emulation, RLS, storage)
//! survives a round trip.

mod support;

use std::path::Path;
use std::time::Duration;

use strata::apply::SeedFile;
use strata::backup;
use strata::platform::Platform;
use strata::rollback::{RollbackOptions, Rollbacker, Selection};
use strata::{Error, MigrationSet, Migrator, PushOptions};
use support::{migrations_dir, TestDb};
use tokio_postgres::Client;

async fn push(db: &TestDb, dir: &Path, options: PushOptions) -> strata::PushReport {
    Migrator::new(MigrationSet::load_dir(dir).unwrap())
        .with_options(options)
        .push(&db.target())
        .await
        .unwrap_or_else(|e| panic!("push failed: {e}"))
}

async fn rows(c: &Client, sql: &str) -> Vec<String> {
    c.query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn recorded(c: &Client) -> Vec<String> {
    rows(
        c,
        "select version from supabase_migrations.schema_migrations order by version::numeric",
    )
    .await
}

#[tokio::test]
async fn backup_then_destructive_migration_then_restore_gives_back_the_data() {
    let db = TestDb::new("bk_restore").await;
    let c = db.client().await;
    let dir = migrations_dir(&[(
        "1_notes.sql",
        "create table notes (id int primary key, body text not null);\n\
         insert into notes select g, 'note ' || g from generate_series(1, 500) g;\n\
         create index notes_body on notes (body);\n\
         grant select on notes to public;\n",
    )]);
    push(&db, dir.path(), PushOptions::default()).await;
    let state = tempfile::tempdir().unwrap();
    let file = backup::backup_path(
        state.path(),
        &db.target(),
        time::OffsetDateTime::now_utc(),
        &backup::run_id(),
        Some(&strata::Version::parse("2").unwrap()),
    );
    let report = backup::backup(&db.target(), &file).await.unwrap();
    assert_eq!(report.file, file);
    assert!(file.is_file() && report.bytes > 0);
    assert_eq!(report.database, db.name);
    assert!(report.pg_dump.version >= report.server_version);

    // The destructive migration: the table and its rows are gone; a table is added.
    std::fs::write(
        dir.path().join("2_drop_notes.sql"),
        "drop table notes;\ncreate table after_backup (id int);\n",
    )
    .unwrap();
    push(&db, dir.path(), PushOptions::default()).await;
    assert_eq!(
        rows(&c, "select coalesce(to_regclass('notes')::text, 'gone')").await,
        ["gone"]
    );

    let restored = backup::restore(&db.target(), &file, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(restored.database, db.name);
    assert_eq!(restored.unrecorded, ["2"]);
    let c = db.client().await;
    let count: i64 = c
        .query_one("select count(*) from notes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 500);
    assert_eq!(
        rows(&c, "select body from notes where id = 42").await,
        ["note 42"]
    );
    assert_eq!(
        rows(
            &c,
            "select indexname::text from pg_indexes where tablename = 'notes' order by 1"
        )
        .await,
        ["notes_body", "notes_pkey"]
    );
    let granted: bool = c
        .query_one(
            "select has_table_privilege('public', 'notes', 'select')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(granted, "grants come back too");
    // The history is the dump's: version 2 is pending again. Objects created after the dump are
    // not in it, so they stay (a restore does not drop what it does not know).
    assert_eq!(recorded(&c).await, ["1"]);
    assert_eq!(
        rows(&c, "select coalesce(to_regclass('after_backup')::text, '')").await,
        ["after_backup"]
    );

    // Restoring twice is the same as once.
    backup::restore(&db.target(), &file, Duration::from_secs(10))
        .await
        .unwrap();
    let count: i64 = c
        .query_one("select count(*) from notes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 500);
}

#[tokio::test]
async fn a_restore_that_cannot_complete_changes_nothing() {
    let db = TestDb::new("bk_atomic").await;
    let c = db.client().await;
    let dir = migrations_dir(&[(
        "1_t.sql",
        "create table parent (id int primary key);\ninsert into parent values (1), (2);\n",
    )]);
    push(&db, dir.path(), PushOptions::default()).await;
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("b.dump");
    backup::backup(&db.target(), &file).await.unwrap();

    // After the backup: a table that depends on `parent`, and new rows in it.
    c.batch_execute(
        "create table child (id int references parent); insert into parent values (3); insert into child values (3);",
    )
    .await
    .unwrap();
    let e = backup::restore(&db.target(), &file, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Tool { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(e.hint().unwrap().contains("depends on"), "{:?}", e.hint());
    assert_eq!(
        rows(&c, "select id::text from parent order by id").await,
        ["1", "2", "3"]
    );

    // Not an archive at all: refused before the database is touched.
    let bogus = state.path().join("bogus.dump");
    std::fs::write(&bogus, "select 1;\n").unwrap();
    let e = backup::restore(&db.target(), &bogus, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Tool { .. }), "{e:?}");
    assert!(e.to_string().contains("cannot read the archive"), "{e}");
    let missing = backup::restore(
        &db.target(),
        &state.path().join("nope.dump"),
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    assert!(missing.to_string().contains("does not exist"), "{missing}");
}

#[tokio::test]
async fn the_example_app_survives_backup_rollback_and_restore() {
    let db = TestDb::new("bk_example").await;
    let c = db.client().await;
    let example = support::chat_app_dir();
    let root = example.parent().unwrap().parent().unwrap();
    let seed = SeedFile::read(root, &example.parent().unwrap().join("seed.sql")).unwrap();
    push(
        &db,
        &example,
        PushOptions {
            platform: Platform::Supabase,
            seeds: vec![seed],
            ..PushOptions::default()
        },
    )
    .await;
    let fingerprint = "select string_agg(t, E'\\n' order by t) from ( \
        select 'profile ' || p::text as t from public.profiles p \
        union all select 'chat ' || x.id::text from public.encrypted_chats x \
        union all select 'user ' || u.email from auth.users u \
        union all select 'bucket ' || b.id from storage.buckets b \
        union all select 'policy ' || tablename || ' ' || policyname from pg_policies) s";
    let before = rows(&c, fingerprint).await;
    assert!(
        before[0].contains("profile") && before[0].contains("bucket"),
        "{before:?}"
    );
    // Every grant too: the platform's default privileges (ALL to anon …) must not be added to
    // what the restore creates.
    let grants = "select t from ( \
        select format('%s %s %s', c.oid::regclass, coalesce(pg_get_userbyid(nullif(x.grantee, 0)), 'PUBLIC'), x.privilege_type) as t \
          from pg_class c, aclexplode(c.relacl) x where c.relnamespace = 'public'::regnamespace \
        union all select format('%s %s %s', p.oid::regprocedure, coalesce(pg_get_userbyid(nullif(x.grantee, 0)), 'PUBLIC'), x.privilege_type) \
          from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x where p.pronamespace = 'public'::regnamespace) g \
        order by t";
    let grants_before = rows(&c, grants).await;

    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("example.dump");
    backup::backup(&db.target(), &file).await.unwrap();

    // Roll everything back to the first version: tables and their data are gone.
    let set = MigrationSet::load_dir(&example).unwrap();
    Rollbacker::new(set.clone())
        .with_options(RollbackOptions {
            selection: Selection::To(set.migrations[0].version.clone()),
            ..RollbackOptions::default()
        })
        .rollback(&db.target())
        .await
        .unwrap();
    assert_eq!(recorded(&c).await.len(), 1);

    backup::restore(&db.target(), &file, Duration::from_secs(10))
        .await
        .unwrap();
    let c = db.client().await;
    assert_eq!(rows(&c, fingerprint).await, before);
    assert_eq!(rows(&c, grants).await, grants_before);
    assert_eq!(recorded(&c).await.len(), set.migrations.len());
    // RLS is still forced on the restored tables.
    let forced: bool = c
        .query_one(
            "select relforcerowsecurity from pg_class where oid = 'public.profiles'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(forced);
}
