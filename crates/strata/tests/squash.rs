//! `strata migration squash` (`strata::squash`): a baseline that builds the same schema and the
//! same rows, proven; a database's history rewritten under the migration lock, after it is read
//! again, so its next push is a no-op; and every history that is not exactly what the baseline
//! replaces refused, on the first database and on every later one.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use strata::author::SplitCheck;
use strata::diff::Scope;
use strata::platform::Platform;
use strata::scratch::Scratch;
use strata::squash::{self, Options, Report, Request};
use strata::target::Target;
use strata::{Error, MigrationSet, Migrator, PushOptions, Version};
use support::{migrations_dir, TestDb};

fn opts() -> PushOptions {
    PushOptions {
        lock_wait: Duration::from_secs(60),
        include_all: true,
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

const TO: &str = "20240102000000";

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

async fn history_lines(db: &TestDb) -> Vec<String> {
    strings(
        db,
        "select coalesce(string_agg(version || ':' || coalesce(name, ''), ',' order by version), '') from supabase_migrations.schema_migrations",
    )
    .await
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Squashes the migrations in `dir` up to `to` (on `target` if given) with the library's own
/// pieces: private scratch clusters, the split check, `state` as the project's state directory.
async fn squash_dir(
    dir: &Path,
    state: &Path,
    to: &str,
    platform: Platform,
    target: Option<&Target>,
    dry_run: bool,
    on_wait: &(dyn Fn(&[strata::lock::LockHolder]) + Sync),
) -> Result<Report, Error> {
    let scratch: Scratch = support::scratch_server();
    let scope = Scope::resolve(platform, &scratch).await?;
    let options = Options {
        platform,
        scratch: &scratch,
        scope: &scope,
        author: "test",
        check: &SplitCheck,
        state_dir: state,
        lock_wait: Duration::from_secs(30),
        applied_by: "test",
    };
    let dir = dir.to_path_buf();
    let load = move || MigrationSet::load_dir(&dir);
    let request = Request {
        to: Version::parse(to).unwrap(),
        dry_run,
        target,
        load: &load,
    };
    squash::run(&request, &options, on_wait).await
}

fn no_wait(_: &[strata::lock::LockHolder]) {}

#[tokio::test]
async fn a_squash_keeps_rows_and_sequences_and_the_database_pushes_nothing_after() {
    let dir = migrations_dir(FILES);
    let state = tempfile::tempdir().unwrap();
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let db = TestDb::new("squash").await;
    push(&db, &set).await;
    let before = strings(
        &db,
        "select string_agg(name || ':' || id, ',' order by id) from public.plans",
    )
    .await;

    // A dry run proves and says what it would do; it writes and changes nothing.
    let dry = squash_dir(
        dir.path(),
        state.path(),
        TO,
        Platform::None,
        Some(&db.target()),
        true,
        &no_wait,
    )
    .await
    .unwrap();
    let plan = dry.squash.as_ref().unwrap();
    assert_eq!(plan.squashed.len(), 2);
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
    assert!(plan
        .sql
        .contains("-- strata:squashed 20240101000000 create_plans checksum="));
    let data_at = plan
        .sql
        .find("the migrations wrote to public.plans")
        .unwrap();
    let trigger_at = plan.sql.find("CREATE TRIGGER plans_audit").unwrap();
    assert!(data_at < trigger_at, "rows load before triggers exist");
    assert_eq!(dry.history.as_ref().unwrap().replaced.len(), 2);
    assert_eq!(names(dir.path()).len(), 3, "a dry run writes nothing");
    assert_eq!(history_lines(&db).await[0].matches(':').count(), 3);

    let report = squash_dir(
        dir.path(),
        state.path(),
        TO,
        Platform::None,
        Some(&db.target()),
        false,
        &no_wait,
    )
    .await
    .unwrap();
    assert!(report.written.is_some());
    assert_eq!(
        names(dir.path()),
        vec![
            "20240102000000_baseline.sql",
            "20240102000000_baseline_rollback.sql",
            "20240103000000_create_subscriptions.sql"
        ]
    );
    let after = MigrationSet::load_dir(dir.path()).unwrap();
    assert_eq!(
        history_lines(&db).await,
        ["20240102000000:baseline,20240103000000:create_subscriptions"]
    );
    let pushed = Migrator::new(after.clone())
        .with_options(opts())
        .push(&db.target())
        .await
        .unwrap();
    assert!(pushed.applied.is_empty(), "the next push is a no-op");
    // Again: nothing to do.
    let again = squash_dir(
        dir.path(),
        state.path(),
        TO,
        Platform::None,
        Some(&db.target()),
        false,
        &no_wait,
    )
    .await
    .unwrap();
    assert!(again.history.unwrap().already);

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

/// Runs a squash expected to be refused with `SquashRefused`; checks that nothing changed
/// (files and history) and returns the problems' kinds and versions.
async fn refused(dir: &Path, db: &TestDb) -> Vec<(String, String)> {
    let state = tempfile::tempdir().unwrap();
    let files_before = names(dir);
    let history_before = history_lines(db).await;
    let e = squash_dir(
        dir,
        state.path(),
        TO,
        Platform::None,
        Some(&db.target()),
        false,
        &no_wait,
    )
    .await
    .unwrap_err();
    assert_eq!(names(dir), files_before, "a refusal writes no file");
    assert_eq!(history_lines(db).await, history_before, "nor history");
    let Error::SquashRefused { problems, .. } = e else {
        panic!("{e:?}")
    };
    problems
        .iter()
        .map(|p| (p.kind.as_str().to_string(), p.version.to_string()))
        .collect()
}

#[tokio::test]
async fn a_history_that_is_not_exactly_what_the_baseline_replaces_is_refused() {
    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();

    // Behind: only the first migration applied.
    let behind = TestDb::new("squashbehind").await;
    push(&behind, &set.with_migrations(set.migrations[..1].to_vec())).await;
    assert_eq!(
        refused(dir.path(), &behind).await,
        [("pending".to_string(), TO.to_string())]
    );

    // A gap: 1 and 3 applied, never 2.
    let gap = TestDb::new("squashgap").await;
    push(
        &gap,
        &set.with_migrations(vec![set.migrations[0].clone(), set.migrations[2].clone()]),
    )
    .await;
    assert_eq!(
        refused(dir.path(), &gap).await,
        [("pending".to_string(), TO.to_string())]
    );

    // An applied version at or below the baseline that it does not replace.
    let extra = TestDb::new("squashextra").await;
    push(&extra, &set).await;
    extra
        .client()
        .await
        .batch_execute("insert into supabase_migrations.schema_migrations (version, name, statements) values ('20240101120000', 'hotfix', '{}')")
        .await
        .unwrap();
    assert_eq!(
        refused(dir.path(), &extra).await,
        [("missing locally".to_string(), "20240101120000".to_string())]
    );

    // A file edited after it was applied: the edit would go into the baseline unseen.
    let edited = TestDb::new("squashedited").await;
    push(&edited, &set).await;
    let path = dir.path().join("20240101000000_create_plans.sql");
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("{original}comment on table public.plans is 'edited';\n"),
    )
    .unwrap();
    assert_eq!(
        refused(dir.path(), &edited).await,
        [("modified".to_string(), "20240101000000".to_string())]
    );
    std::fs::write(&path, original).unwrap();
}

#[tokio::test]
async fn a_later_database_is_held_to_the_baseline_manifest() {
    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let first = TestDb::new("squashfirst").await;
    push(&first, &set).await;
    // A second database applied an older text of the second migration.
    let other = TestDb::new("squashother").await;
    let mut older = set.clone();
    older.migrations[1] = strata::Migration::new(
        older.migrations[1].version.clone(),
        "create_audit",
        older.migrations[1].path.clone(),
        format!("{}\n-- an older text\n", older.migrations[1].sql),
    );
    push(&other, &older).await;
    let behind = TestDb::new("squashlater").await;
    push(&behind, &set.with_migrations(set.migrations[..1].to_vec())).await;

    let state = tempfile::tempdir().unwrap();
    squash_dir(
        dir.path(),
        state.path(),
        TO,
        Platform::None,
        Some(&first.target()),
        false,
        &no_wait,
    )
    .await
    .unwrap();
    // The files are squashed: the same command on the other databases checks each history
    // against the baseline's manifest.
    assert_eq!(
        refused(dir.path(), &other).await,
        [("modified".to_string(), TO.to_string())]
    );
    assert_eq!(
        refused(dir.path(), &behind).await,
        [("pending".to_string(), TO.to_string())]
    );
}

#[tokio::test]
async fn a_rollback_after_the_proof_is_seen_under_the_lock_and_refused() {
    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let db = TestDb::new("squashrace").await;
    push(&db, &set.with_migrations(set.migrations[..2].to_vec())).await;
    std::fs::write(
        dir.path().join("20240102000000_create_audit_rollback.sql"),
        "drop trigger plans_audit on public.plans;\ndrop function public.audit_plan();\ndrop sequence public.invoice_numbers;\ndrop table public.audit;\ndelete from public.plans where name = 'team';\n",
    )
    .unwrap();
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    // Another run holds the migration lock: the squash proves, then waits for it.
    let mut holder = db.client().await;
    holder
        .query_one("select pg_advisory_lock($1)", &[&strata::lock::LOCK_KEY])
        .await
        .unwrap();
    let waiting = Arc::new(AtomicBool::new(false));
    let flag = waiting.clone();
    let state = tempfile::tempdir().unwrap();
    let (dir_path, state_path, target) = (
        dir.path().to_path_buf(),
        state.path().to_path_buf(),
        db.target(),
    );
    let squashing = tokio::spawn(async move {
        squash_dir(
            &dir_path,
            &state_path,
            TO,
            Platform::None,
            Some(&target),
            false,
            &move |_| flag.store(true, Ordering::SeqCst),
        )
        .await
    });
    while !waiting.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The holder is a real rollback of the newest migration (exactly what `strata rollback`
    // runs), done while the squash waits.
    let m = &set.migrations[1];
    strata::rollback::revert(&mut holder, m, m.rollback.as_ref().unwrap())
        .await
        .unwrap();
    holder
        .query_one("select pg_advisory_unlock($1)", &[&strata::lock::LOCK_KEY])
        .await
        .unwrap();
    let e = squashing.await.unwrap().unwrap_err();
    let Error::SquashRefused { problems, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(problems[0].version.as_str(), TO, "{e}");
    // Nothing was written, and the database keeps what the rollback left.
    assert_eq!(names(dir.path()).len(), 4);
    assert_eq!(history_lines(&db).await, ["20240101000000:create_plans"]);
    assert_eq!(
        strings(&db, "select (to_regclass('public.audit') is null)::text").await,
        ["true"]
    );
}

#[tokio::test]
async fn what_a_baseline_cannot_carry_is_refused_by_name() {
    let cases: &[(&str, &str, Platform)] = &[
        (
            "create role squash_app_reader nologin;\ngrant select on public.t to squash_app_reader;\n",
            "role squash_app_reader: created or changed by the migrations",
            Platform::None,
        ),
        (
            "create aggregate public.text_concat(text) (sfunc = textcat, stype = text, initcond = '');\n",
            "aggregate public.text_concat",
            Platform::None,
        ),
        (
            "create text search configuration public.my_english (copy = pg_catalog.english);\n",
            "public.my_english",
            Platform::None,
        ),
        (
            "insert into auth.users (id, email) values ('00000000-0000-0000-0000-000000000001', 'system@example.com');\n",
            "table auth.users: 1 row(s)",
            Platform::Supabase,
        ),
        (
            "select vault.create_secret('s3cr3t', 'api_key');\n",
            "table vault.secrets: 1 row(s)",
            Platform::Supabase,
        ),
    ];
    for (sql, named, platform) in cases {
        let dir = migrations_dir(&[
            (
                "20240101000000_create_t.sql",
                "create table public.t (id int primary key);\n",
            ),
            ("20240102000000_add_more.sql", sql),
            (
                "20240103000000_add_u.sql",
                "create table public.u (id int primary key);\n",
            ),
        ]);
        let state = tempfile::tempdir().unwrap();
        let e = squash_dir(
            dir.path(),
            state.path(),
            TO,
            *platform,
            None,
            false,
            &no_wait,
        )
        .await
        .unwrap_err();
        let Error::Unproven { details, .. } = &e else {
            panic!("{sql}: {e:?}")
        };
        assert!(
            details.iter().any(|d| d.contains(named)),
            "{sql}: {details:?}"
        );
        assert_eq!(names(dir.path()).len(), 3, "nothing written");
    }
}

#[tokio::test]
async fn partitions_inheritance_and_generated_columns_are_carried_once() {
    let dir = migrations_dir(&[
        (
            "20240101000000_create_events.sql",
            "create table public.events (id int not null, at date not null, total int generated always as (id * 2) stored) partition by range (at);\n\
             create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');\n\
             insert into public.events (id, at) values (1, '2024-05-01'), (2, '2024-06-01');\n\
             create table public.animals (name text);\n\
             create table public.dogs (barks bool) inherits (public.animals);\n\
             insert into public.animals values ('generic');\n\
             insert into public.dogs values ('rex', true);\n",
        ),
        ("20240102000000_create_t.sql", "create table public.t (id int);\n"),
        ("20240103000000_create_u.sql", "create table public.u (id int);\n"),
    ]);
    let state = tempfile::tempdir().unwrap();
    let report = squash_dir(
        dir.path(),
        state.path(),
        TO,
        Platform::None,
        None,
        false,
        &no_wait,
    )
    .await
    .unwrap();
    let data = report.squash.unwrap().data;
    assert_eq!(
        data,
        vec![
            ("public.animals".to_string(), 1),
            ("public.dogs".to_string(), 1),
            ("public.events_2024".to_string(), 2),
        ]
    );
    // The squashed set builds a new database with each row once.
    let fresh = TestDb::new("squashparts").await;
    push(&fresh, &MigrationSet::load_dir(dir.path()).unwrap()).await;
    assert_eq!(
        strings(
            &fresh,
            "select count(*)::text || ':' || sum(total)::text from public.events"
        )
        .await,
        ["2:6"]
    );
    assert_eq!(
        strings(&fresh, "select count(*)::text from public.animals").await,
        ["2"]
    );
}

#[tokio::test]
async fn bad_versions_are_named_and_a_tool_layout_is_refused() {
    let dir = migrations_dir(FILES);
    let state = tempfile::tempdir().unwrap();
    for v in ["20240109000000", "20240101000000"] {
        let e = squash_dir(
            dir.path(),
            state.path(),
            v,
            Platform::None,
            None,
            true,
            &no_wait,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, Error::Setting { setting, .. } if setting == "--to"),
            "{e:?}"
        );
    }
    let dbmate = migrations_dir(&[
        (
            "20240101000000_a.sql",
            "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop table a;\n",
        ),
        (
            "20240102000000_b.sql",
            "-- migrate:up\ncreate table b (id int);\n-- migrate:down\ndrop table b;\n",
        ),
    ]);
    let e = squash_dir(
        dbmate.path(),
        state.path(),
        "20240102000000",
        Platform::None,
        None,
        true,
        &no_wait,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("dbmate"), "{e}");
}

#[tokio::test]
async fn a_role_a_migration_changes_is_refused_on_a_shared_scratch_server_and_put_back() {
    // The test server as STRATA_SCRATCH_URL's shared server: a pre-existing role the
    // migrations change is named, and left as it was.
    let role = format!("squash_shared_{}", std::process::id());
    let admin = support::connect(&support::admin_url()).await;
    admin
        .batch_execute(&format!(
            "drop role if exists {role}; create role {role} nologin"
        ))
        .await
        .unwrap();
    let dir = migrations_dir(&[
        (
            "20240101000000_tune.sql",
            &format!("alter role {role} set statement_timeout = '3s';\n"),
        ),
        (
            "20240102000000_create_x.sql",
            "create table public.x (a int);\n",
        ),
        (
            "20240103000000_create_y.sql",
            "create table public.y (a int);\n",
        ),
    ]);
    let scratch = support::scratch_on_test_server();
    let scope = Scope::default();
    let state = tempfile::tempdir().unwrap();
    let options = Options {
        platform: Platform::None,
        scratch: &scratch,
        scope: &scope,
        author: "test",
        check: &SplitCheck,
        state_dir: state.path(),
        lock_wait: Duration::from_secs(30),
        applied_by: "test",
    };
    let path = dir.path().to_path_buf();
    let load = move || MigrationSet::load_dir(&path);
    let e = squash::run(
        &Request {
            to: Version::parse(TO).unwrap(),
            dry_run: true,
            target: None,
            load: &load,
        },
        &options,
        &no_wait,
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("cannot carry")
            || matches!(&e, Error::Unproven { details, .. } if details.iter().any(|d| d.contains(&role))),
        "{e:?}"
    );
    let config: Vec<Option<Vec<String>>> = admin
        .query(
            &format!("select rolconfig::text[] from pg_roles where rolname = '{role}'"),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(config, [None], "the shared server's role is as it was");
    admin
        .batch_execute(&format!("drop role {role}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_history_only_the_supabase_cli_wrote_is_squashed() {
    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let db = TestDb::new("squashcli").await;
    // The migrations applied as the Supabase CLI applies them: no Strata table, statements.
    let client = db.client().await;
    let mut sql = "create schema supabase_migrations; create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);\n".to_string();
    for m in &set.migrations {
        client.batch_execute(&m.sql).await.unwrap();
        let statements = m
            .statement_texts()
            .unwrap()
            .iter()
            .map(|s| strata::quote::literal(s))
            .collect::<Vec<_>>()
            .join(",");
        sql.push_str(&format!(
            "insert into supabase_migrations.schema_migrations values ('{}', array[{statements}]::text[], '{}');\n",
            m.version, m.name
        ));
    }
    client.batch_execute(&sql).await.unwrap();
    let state = tempfile::tempdir().unwrap();
    squash_dir(
        dir.path(),
        state.path(),
        TO,
        Platform::None,
        Some(&db.target()),
        false,
        &no_wait,
    )
    .await
    .unwrap();
    assert_eq!(
        history_lines(&db).await,
        ["20240102000000:baseline,20240103000000:create_subscriptions"]
    );
}

#[tokio::test]
async fn a_file_edited_while_squash_waits_for_the_lock_is_seen() {
    let dir = migrations_dir(FILES);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let db = TestDb::new("squashwait").await;
    push(&db, &set).await;
    let holder = db.client().await;
    holder
        .query_one("select pg_advisory_lock($1)", &[&strata::lock::LOCK_KEY])
        .await
        .unwrap();
    let waiting = Arc::new(AtomicBool::new(false));
    let flag = waiting.clone();
    let state = tempfile::tempdir().unwrap();
    let (dir_path, state_path, target) = (
        dir.path().to_path_buf(),
        state.path().to_path_buf(),
        db.target(),
    );
    let squashing = tokio::spawn(async move {
        squash_dir(
            &dir_path,
            &state_path,
            TO,
            Platform::None,
            Some(&target),
            false,
            &move |_| flag.store(true, Ordering::SeqCst),
        )
        .await
    });
    while !waiting.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let edited = dir.path().join("20240102000000_create_audit.sql");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(
        &edited,
        format!("{text}insert into public.audit (what) values ('late');\n"),
    )
    .unwrap();
    holder
        .query_one("select pg_advisory_unlock($1)", &[&strata::lock::LOCK_KEY])
        .await
        .unwrap();
    let e = squashing.await.unwrap().unwrap_err();
    assert!(
        e.to_string().contains("changed while squash proved them"),
        "{e}"
    );
    assert_eq!(names(dir.path()).len(), 3, "nothing written");
}

#[tokio::test]
async fn values_unlogged_tables_and_unpopulated_views_survive_a_squash() {
    let dir = migrations_dir(&[
        (
            "20240101000000_create_s.sql",
            "create table public.s (id int, raw json, f float8);\n\
             insert into public.s values (1, '{\"m\": \"a\", \"m\":  \"b\"}', '-0');\n\
             create unlogged table public.u (x int);\n\
             create materialized view public.mv as select 1 as one with no data;\n\
             create table public.z_parent (a int);\n\
             create table public.a_child (b int) inherits (public.z_parent);\n",
        ),
        (
            "20240102000000_create_t.sql",
            "create table public.t (id int);\n",
        ),
        (
            "20240103000000_create_u2.sql",
            "create table public.u2 (id int);\n",
        ),
    ]);
    let state = tempfile::tempdir().unwrap();
    squash_dir(
        dir.path(),
        state.path(),
        TO,
        Platform::None,
        None,
        false,
        &no_wait,
    )
    .await
    .unwrap();
    let fresh = TestDb::new("squashvalues").await;
    push(&fresh, &MigrationSet::load_dir(dir.path()).unwrap()).await;
    assert_eq!(
        strings(&fresh, "select raw::text || ' ' || f::text from public.s").await,
        ["{\"m\": \"a\", \"m\":  \"b\"} -0"]
    );
    assert_eq!(
        strings(
            &fresh,
            "select relpersistence::text from pg_class where oid = 'public.u'::regclass"
        )
        .await,
        ["u"]
    );
    assert_eq!(
        strings(
            &fresh,
            "select relispopulated::text from pg_class where oid = 'public.mv'::regclass"
        )
        .await,
        ["false"]
    );
    assert_eq!(
        strings(&fresh, "select inhparent::regclass::text from pg_inherits where inhrelid = 'public.a_child'::regclass").await,
        ["z_parent"]
    );
}
