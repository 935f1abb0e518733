//! `strata migration squash` (`strata::squash`): a baseline that builds the same schema and the
//! same rows, proven, and a database's history rewritten so its next push is a no-op.

mod support;

use std::time::Duration;

use strata::diff::Scope;
use strata::platform::Platform;
use strata::squash::{self, HistoryFit};

use strata::{Error, History, MigrationSet, Migrator, PushOptions, Version};
use support::{migrations_dir, TestDb};

fn server() -> strata::scratch::Scratch {
    support::scratch_server()
}

fn opts() -> PushOptions {
    PushOptions {
        lock_wait: Duration::from_secs(60),
        ..PushOptions::default()
    }
}

const FILES: &[(&str, &str)] = &[
    (
        "20240101000000_create_plans.sql",
        "create table public.plans (\n  id bigint generated always as identity primary key,\n  name text not null unique,\n  price_cents int not null,\n  label text generated always as (name || ' plan') stored,\n  created_at timestamptz not null default now()\n);\ninsert into public.plans (name, price_cents) values ('free', 0), ('pro', 900);\n",
    ),
    (
        "20240102000000_create_audit.sql",
        "create table public.audit (id bigserial primary key, what text not null);\ncreate function public.audit_plan() returns trigger language plpgsql as $$ begin insert into public.audit (what) values ('plan ' || new.name); return new; end $$;\ncreate trigger plans_audit after insert on public.plans for each row execute function public.audit_plan();\ninsert into public.plans (name, price_cents) values ('team', 2900);\ncreate sequence public.invoice_numbers start 1000;\nselect nextval('public.invoice_numbers');\n",
    ),
    (
        "20240103000000_create_subscriptions.sql",
        "create table public.subscriptions (id bigint primary key, plan_id bigint not null references public.plans (id));\n",
    ),
];

async fn push(db: &TestDb, set: &MigrationSet) {
    Migrator::new(set.clone())
        .with_options(opts())
        .push(&db.target())
        .await
        .unwrap();
}

async fn strings(db: &TestDb, sql: &str) -> Vec<String> {
    let client = db.client().await;
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn a_squash_keeps_rows_and_sequences_and_the_database_pushes_nothing_after() {
    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let scope = Scope::default();
    let to = Version::parse("20240102000000").unwrap();
    let plan = squash::plan(&set, &to, Platform::None, &server(), &scope)
        .await
        .unwrap();
    assert_eq!(plan.versions.len(), 2);
    // The rows the migrations wrote, the trigger's included; the trigger is created after the
    // rows load, so it does not write them twice.
    assert_eq!(
        plan.data,
        vec![
            ("public.audit".to_string(), 1),
            ("public.plans".to_string(), 3)
        ]
    );
    assert!(plan.sql.contains("OVERRIDING SYSTEM VALUE"), "{}", plan.sql);
    assert!(
        plan.sql
            .contains("setval('public.invoice_numbers', 1000, true)"),
        "{}",
        plan.sql
    );
    let data_at = plan
        .sql
        .find("the migrations wrote to public.plans")
        .unwrap();
    let trigger_at = plan.sql.find("CREATE TRIGGER plans_audit").unwrap();
    assert!(data_at < trigger_at, "rows load before triggers exist");
    squash::prove(&set, &plan, Platform::None, &server(), &scope)
        .await
        .unwrap();

    // A database that applied the original migrations.
    let db = TestDb::new("squash").await;
    push(&db, &set).await;
    let before = strings(
        &db,
        "select string_agg(name || ':' || id, ',' order by id) from public.plans",
    )
    .await;

    let written = squash::write(&set, &plan, "test", time::OffsetDateTime::now_utc()).unwrap();
    assert!(written.path.ends_with("20240102000000_baseline.sql"));
    let after = MigrationSet::load_dir(dir.path()).unwrap();
    let names: Vec<String> = after.migrations.iter().map(|m| m.file_name()).collect();
    assert_eq!(
        names,
        vec![
            "20240102000000_baseline.sql",
            "20240103000000_create_subscriptions.sql"
        ]
    );
    let baseline = after.migrations[0].clone();
    let mut client = db.client().await;
    let history = History::read(&client).await.unwrap();
    let fit = squash::history_fit(&history, &baseline, Some(&plan.versions)).unwrap();
    let HistoryFit::Replace(versions) = fit else {
        panic!("{fit:?}")
    };
    let n = squash::replace_history(
        &mut client,
        &db.url,
        Duration::from_secs(5),
        &baseline,
        &versions,
        "test",
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    let report = Migrator::new(after.clone())
        .with_options(opts())
        .push(&db.target())
        .await
        .unwrap();
    assert!(report.applied.is_empty(), "the next push is a no-op");
    assert_eq!(
        squash::history_fit(&History::read(&client).await.unwrap(), &baseline, None).unwrap(),
        HistoryFit::Done
    );

    // A new database built from the squashed set has the same rows and sequence position.
    let fresh = TestDb::new("squashfresh").await;
    push(&fresh, &after).await;
    assert_eq!(
        strings(
            &fresh,
            "select string_agg(name || ':' || id, ',' order by id) from public.plans"
        )
        .await,
        before
    );
    assert_eq!(
        strings(&fresh, "select count(*)::text from public.audit").await,
        ["1"]
    );
    assert_eq!(
        strings(&fresh, "select nextval('public.invoice_numbers')::text").await,
        ["1001"]
    );
    // The identity continues after the kept rows.
    assert_eq!(
        strings(
            &fresh,
            "insert into public.plans (name, price_cents) values ('x', 1) returning id::text"
        )
        .await,
        ["4"]
    );
}

#[tokio::test]
async fn a_database_behind_the_squash_is_refused_and_bad_versions_are_named() {
    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let scope = Scope::default();
    // Not a migration's version, and the first migration: usage errors naming --to.
    for v in ["20240109000000", "20240101000000"] {
        let e = squash::plan(
            &set,
            &Version::parse(v).unwrap(),
            Platform::None,
            &server(),
            &scope,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, Error::Setting { setting, .. } if setting == "--to"),
            "{e:?}"
        );
    }
    // A database with only the first migration applied cannot take the baseline.
    let db = TestDb::new("squashbehind").await;
    push(&db, &set.with_migrations(set.migrations[..1].to_vec())).await;
    let plan = squash::plan(
        &set,
        &Version::parse("20240102000000").unwrap(),
        Platform::None,
        &server(),
        &scope,
    )
    .await
    .unwrap();
    let baseline = squash::squashed_set(&set, &plan).migrations[0].clone();
    let client = db.client().await;
    let e = squash::history_fit(
        &History::read(&client).await.unwrap(),
        &baseline,
        Some(&plan.versions),
    )
    .unwrap_err();
    assert!(e.to_string().contains("20240102000000"), "{e}");
}
