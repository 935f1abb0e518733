//! The database's owner is not a superuser (hosted Supabase's `postgres` is not one either): the
//! Supabase emulation installs for such an owner, or refuses before creating anything, server-wide
//! roles included; an administrator can install it and hand it to the owner, whose pushes then
//! work; and whatever session state a migration leaves never decides how its history is written.
//! Each test runs on a private cluster of its own: roles are server-wide.

mod support;

use strata::platform::Platform;
use strata::target::{SessionSettings, Target, TargetSource};
use strata::{Error, MigrationSet, Migrator, PushOptions};
use support::{chat_app_dir, migrations_dir, PrivateServer};

fn target(server: &PrivateServer, user: &str, db: &str) -> Target {
    Target::from_url(
        &format!("postgresql://{user}:pw@127.0.0.1:{}/{db}", server.port()),
        TargetSource::DbUrl,
        SessionSettings::default(),
    )
    .unwrap()
}

fn supabase() -> PushOptions {
    PushOptions {
        platform: Platform::Supabase,
        ..PushOptions::default()
    }
}

async fn roles(server: &PrivateServer) -> Vec<String> {
    server
        .strings(
            "postgres",
            "select rolname::text from pg_roles where oid >= 16384 order by 1",
        )
        .await
}

#[tokio::test]
async fn a_non_superuser_owner_installs_the_emulation_or_is_refused_before_anything_is_created() {
    let server = PrivateServer::trust();
    server
        .exec(
            "postgres",
            "create role app login createrole password 'pw'; create role plain login password 'pw';",
        )
        .await;
    server
        .exec("postgres", "create database appdb owner app")
        .await;
    server
        .exec("postgres", "create database plaindb owner plain")
        .await;
    let set = MigrationSet::load_dir(chat_app_dir()).unwrap();

    // An owner that may not create roles: refused, naming why, and nothing created.
    let before = roles(&server).await;
    // A dry run says no as the push would.
    let dry = Migrator::new(set.clone())
        .with_options(PushOptions {
            dry_run: true,
            ..supabase()
        })
        .push(&target(&server, "plain", "plaindb"))
        .await;
    assert!(dry.is_err(), "{dry:?}");
    let e = Migrator::new(set.clone())
        .with_options(supabase())
        .push(&target(&server, "plain", "plaindb"))
        .await
        .unwrap_err();
    let text = format!("{e} {}", e.hint().unwrap_or_default());
    assert!(
        text.contains("CREATEROLE")
            && text.contains("anon")
            && text.contains("nothing was created"),
        "{text}"
    );
    assert_eq!(
        roles(&server).await,
        before,
        "no server-wide role was left behind"
    );
    assert_eq!(
        server
            .strings("plaindb", "select count(*)::text from pg_namespace where nspname in ('auth', 'storage', 'supabase_migrations')")
            .await,
        ["0"]
    );

    // An owner with CREATEROLE (not a superuser): the emulation installs, the app migrates.
    let report = Migrator::new(set.clone())
        .with_options(supabase())
        .push(&target(&server, "app", "appdb"))
        .await
        .unwrap();
    assert_eq!(report.applied.len(), set.migrations.len());
    // As Supabase's `postgres`, the owner may act as the API roles (strata sql --as-user).
    let c = target(&server, "app", "appdb").connect().await.unwrap();
    c.batch_execute(
        "begin; set local role authenticated; select count(*) from public.projects; rollback;",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_admin_bootstraps_and_the_app_role_migrates() {
    let server = PrivateServer::trust();
    server
        .exec("postgres", "create role app login password 'pw';")
        .await;
    server
        .exec("postgres", "create database appdb owner app")
        .await;
    // The administrator (a superuser) installs the emulation with a first migration that does
    // nothing else.
    let boot = migrations_dir(&[("20240100000000_bootstrap.sql", "select 1;\n")]);
    Migrator::new(MigrationSet::load_dir(boot.path()).unwrap())
        .with_options(supabase())
        .push(&target(&server, "postgres", "appdb"))
        .await
        .unwrap();
    // The owner, not a superuser and without CREATEROLE, pushes the app's migrations.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        boot.path().join("20240100000000_bootstrap.sql"),
        dir.path().join("20240100000000_bootstrap.sql"),
    )
    .unwrap();
    for e in std::fs::read_dir(chat_app_dir()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let report = Migrator::new(set.clone())
        .with_options(supabase())
        .push(&target(&server, "app", "appdb"))
        .await
        .unwrap();
    assert_eq!(report.applied.len(), set.migrations.len() - 1);
    assert_eq!(
        server
            .strings(
                "appdb",
                "select pg_get_userbyid(nspowner)::text from pg_namespace where nspname in ('supabase_migrations', 'storage', 'strata_platform') order by nspname"
            )
            .await,
        ["app", "app", "app"]
    );
    let c = target(&server, "app", "appdb").connect().await.unwrap();
    c.batch_execute("begin; set local role anon; select 1; rollback;")
        .await
        .unwrap();
}

#[tokio::test]
async fn session_state_a_migration_leaves_never_decides_how_history_is_written() {
    let server = PrivateServer::trust();
    server
        .exec(
            "postgres",
            "create role app login password 'pw'; create role reader nologin;",
        )
        .await;
    server
        .exec("postgres", "create database appdb owner app")
        .await;
    let dir = migrations_dir(&[
        (
            "1_create_t.sql",
            "create table public.t (id int);\nset role reader;\n",
        ),
        (
            "2_auth.sql",
            "create table public.u (id int);\nset session authorization reader;\n",
        ),
        (
            "3_path.sql",
            "create table public.v (id int);\nset search_path = nowhere;\n",
        ),
        (
            "4_timeout.sql",
            "create table public.w (id int);\nset statement_timeout = 1;\n",
        ),
        (
            "5_outside.sql",
            "create index concurrently t_id on public.t (id);\nset role reader;\n",
        ),
        (
            "6_readonly.sql",
            "-- strata:no-transaction\ncreate table public.x (id int);\nset default_transaction_read_only = on;\n",
        ),
        (
            "7_readonly.sql",
            "create table public.y (id int);\nset session characteristics as transaction read only;\n",
        ),
        ("8_after.sql", "create table public.z (id int);\n"),
    ]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    // As the superuser (who may SET SESSION AUTHORIZATION), and as the owner for the rest.
    let report = Migrator::new(set.clone())
        .push(&target(&server, "postgres", "appdb"))
        .await
        .unwrap_or_else(|e: Error| panic!("{e}"));
    assert_eq!(report.applied.len(), 8);
    assert_eq!(
        server
            .strings(
                "appdb",
                "select string_agg(version || ':' || db_role, ',' order by version) from supabase_migrations.strata_history"
            )
            .await,
        ["1:postgres,2:postgres,3:postgres,4:postgres,5:postgres,6:postgres,7:postgres,8:postgres"]
    );
}
