//! The history digest (`History::digest` / `History::proven_by`): one row that proves a no-op
//! push, and proves nothing else — an edited, added, removed or renumbered file, a version the
//! Supabase CLI applied without a checksum, or a missing history all send the caller to the full
//! history read.

mod support;

use std::time::Duration;

use strata::{History, MigrationSet, Migrator, PushOptions};
use support::{migrations_dir, TestDb};

fn opts() -> PushOptions {
    PushOptions {
        lock_wait: Duration::from_secs(60),
        ..PushOptions::default()
    }
}

const FILES: &[(&str, &str)] = &[
    ("20240101000000_a.sql", "create table a (id int);\n"),
    ("20240102000000_b.sql", "create table b (id int);\n"),
    ("20240103000000_c.sql", "create table c (id int);\n"),
];

async fn proven(db: &TestDb, set: &MigrationSet) -> Option<History> {
    let client = db.client().await;
    let digest = History::digest(&client)
        .await
        .unwrap()
        .expect("history tables exist");
    History::proven_by(&digest, set)
}

#[tokio::test]
async fn the_digest_proves_exactly_the_applied_set() {
    let db = TestDb::new("digest").await;
    let client = db.client().await;
    // No history yet: no digest, the caller reads (and finds nothing applied).
    assert_eq!(History::digest(&client).await.unwrap(), None);

    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    Migrator::new(set.clone())
        .with_options(opts())
        .push(&db.target())
        .await
        .unwrap();

    // Applied as they are: proven, and the history rebuilt equals what a full read says (but
    // for the times, which the digest does not carry).
    let h = proven(&db, &set).await.expect("a no-op is proven");
    let full = History::read(&client).await.unwrap();
    let key = |h: &History| {
        h.applied
            .iter()
            .map(|a| (a.version.clone(), a.name.clone(), a.checksum.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&h), key(&full));
    assert!(h.is_ready());

    // An edited file: not proven.
    let mut edited = set.clone();
    edited.migrations[1] = MigrationSet::load_dir(
        migrations_dir(&[("20240102000000_b.sql", "create table b (id bigint);\n")]).path(),
    )
    .unwrap()
    .migrations
    .remove(0);
    assert!(proven(&db, &edited).await.is_none());

    // A file added (pending) or removed (missing locally): not proven.
    let mut more = FILES.to_vec();
    more.push(("20240104000000_d.sql", "create table d (id int);\n"));
    let more_dir = migrations_dir(&more);
    assert!(
        proven(&db, &MigrationSet::load_dir(more_dir.path()).unwrap())
            .await
            .is_none()
    );
    let fewer_dir = migrations_dir(&FILES[..2]);
    assert!(
        proven(&db, &MigrationSet::load_dir(fewer_dir.path()).unwrap())
            .await
            .is_none()
    );

    // The same slot spelled otherwise (`020240101000000`): the plan decides, not the digest.
    let renumbered_dir =
        migrations_dir(&[("020240101000000_a.sql", FILES[0].1), FILES[1], FILES[2]]);
    assert!(
        proven(&db, &MigrationSet::load_dir(renumbered_dir.path()).unwrap())
            .await
            .is_none()
    );

    // A version the Supabase CLI recorded (no checksum in Strata's side table): not proven,
    // though the files are the same.
    client
        .batch_execute(
            "delete from supabase_migrations.strata_history where version = '20240103000000'",
        )
        .await
        .unwrap();
    assert!(proven(&db, &set).await.is_none());
}

#[tokio::test]
async fn a_no_op_push_on_the_proven_history_writes_nothing_and_an_edit_is_refused() {
    let db = TestDb::new("digest_push").await;
    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let target = db.target();
    Migrator::new(set.clone())
        .with_options(opts())
        .push(&target)
        .await
        .unwrap();
    let client = db.client().await;
    let before: i64 = client
        .query_one(
            "select count(*) from supabase_migrations.strata_history",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    let h = proven(&db, &set).await.unwrap();
    let mut session = target.session().await.unwrap();
    let report = Migrator::new(set.clone())
        .with_options(opts())
        .push_connected(&mut session, &target, Some(h))
        .await
        .unwrap();
    assert!(report.applied.is_empty());
    assert_eq!(report.already_applied, 3);
    let after: i64 = client
        .query_one(
            "select count(*) from supabase_migrations.strata_history",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);

    // Edited after applying: the digest proves nothing, the full history finds the edit and
    // the push refuses it.
    let edited_dir = migrations_dir(&[
        FILES[0],
        ("20240102000000_b.sql", "create table b (id bigint);\n"),
        FILES[2],
    ]);
    let edited = MigrationSet::load_dir(edited_dir.path()).unwrap();
    assert!(proven(&db, &edited).await.is_none());
    let err = Migrator::new(edited)
        .with_options(opts())
        .push(&target)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("20240102000000"),
        "the modified version is named: {err}"
    );
}
