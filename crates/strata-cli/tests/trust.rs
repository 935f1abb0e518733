//! The promises `strata push` makes, on the paths real users take (issue: trust): one lock covers
//! every write, even when eight pushes start together on fresh databases of a fresh server; a
//! refusal changes nothing (the database's catalog and the server's roles are compared before and
//! after); inputs are checked before anything starts; `db reset` works on the local database only;
//! hints carry the target they came from; real Supabase is decided per database; notices and lock
//! waits are shown.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::*;

/// A project with `supabase/migrations/` (so the Supabase platform is expected) holding `files`.
fn supabase_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("supabase/migrations");
    std::fs::create_dir_all(&m).unwrap();
    for (name, text) in files {
        std::fs::write(m.join(name), text).unwrap();
    }
    dir
}

/// Migrations that need the platform emulation: `auth.users`, the API roles, and an extension
/// function called unqualified (it resolves only with the emulation's search_path).
fn platform_migrations() -> Vec<(String, String)> {
    let mut files = vec![(
        "20240101000000_profiles.sql".to_string(),
        "create table if not exists public.profiles (\n  id uuid primary key references auth.users (id),\n  token uuid not null default uuid_generate_v4()\n);\nalter table public.profiles enable row level security;\ncreate policy own on public.profiles for select to authenticated using ((select auth.uid()) = id);\n"
            .to_string(),
    )];
    for i in 2..=5 {
        files.push((
            format!("2024010{i}000000_t{i}.sql"),
            format!("create table if not exists public.t{i} (id uuid primary key default gen_random_uuid(), v text);\nalter table public.t{i} enable row level security;\ncreate policy read_{i} on public.t{i} for select to authenticated using (true);\n"),
        ));
    }
    files
}

/// Starts `n` `strata push` processes at once, each with its own URL; returns their runs.
fn push_together(project: &Path, urls: &[String]) -> Vec<Run> {
    let children: Vec<_> = urls
        .iter()
        .map(|url| {
            command(
                project,
                &["push", "--db-url", url, "--no-lint", "-o", "json"],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn strata")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .collect()
}

#[test]
fn eight_pushes_together_on_one_fresh_database_of_a_fresh_server_all_succeed() {
    let server = PrivateServer::trust();
    let rt = runtime();
    rt.block_on(server.exec("postgres", "create database app"));
    let files = platform_migrations();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = supabase_project(&refs);
    let url = server.url("app");
    let runs = push_together(p.path(), &vec![url.clone(); 8]);
    let mut applied = 0;
    for r in &runs {
        assert_eq!(r.code, 0, "{r:?}");
        applied += r.json()["result"]["applied"].as_array().unwrap().len();
    }
    // Each migration was applied by exactly one of the eight.
    assert_eq!(applied, files.len(), "{runs:?}");
    let versions = rt.block_on(server.strings(
        "app",
        "select version from supabase_migrations.schema_migrations order by version",
    ));
    assert_eq!(versions.len(), files.len());
    let installs: usize = runs
        .iter()
        .filter(|r| r.json()["result"]["platform"]["status"] == "installed")
        .count();
    assert_eq!(installs, 1, "the emulation is installed once: {runs:?}");
}

#[test]
fn eight_pushes_together_on_eight_fresh_databases_of_a_fresh_server_all_succeed() {
    let server = PrivateServer::trust();
    let rt = runtime();
    let mut urls = Vec::new();
    for i in 0..8 {
        rt.block_on(server.exec("postgres", &format!("create database app{i}")));
        urls.push(server.url(&format!("app{i}")));
    }
    let files = platform_migrations();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = supabase_project(&refs);
    // The API roles are cluster-wide: all eight create them at the same moment.
    let runs = push_together(p.path(), &urls);
    for r in &runs {
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(
            r.json()["result"]["applied"].as_array().unwrap().len(),
            files.len(),
            "{r:?}"
        );
    }
    let roles = rt.block_on(server.strings(
        "postgres",
        "select rolname::text from pg_roles where rolname in ('anon','authenticated','service_role','authenticator') order by 1",
    ));
    assert_eq!(
        roles,
        ["anon", "authenticated", "authenticator", "service_role"]
    );
}

/// Everything a write could change: the database's schemas, relations, functions, extensions,
/// database-level settings and history rows, and the server's roles and memberships.
fn snapshot(server: &PrivateServer, database: &str) -> Vec<String> {
    let rt = runtime();
    let mut out = Vec::new();
    for sql in [
        "select 'schema ' || nspname from pg_namespace order by 1",
        "select 'rel ' || oid::regclass::text || ' ' || relkind::text from pg_class where relnamespace <> 'pg_toast'::regnamespace and relnamespace <> 'pg_catalog'::regnamespace and relnamespace <> 'information_schema'::regnamespace order by 1",
        "select 'proc ' || oid::regprocedure::text from pg_proc where pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) order by 1",
        "select 'ext ' || extname from pg_extension order by 1",
        "select 'setting ' || coalesce(array_to_string(setconfig, ','), '') from pg_db_role_setting order by 1",
        "select 'role ' || rolname from pg_roles order by 1",
        "select 'member ' || roleid::regrole::text || ' ' || member::regrole::text from pg_auth_members order by 1",
        "select 'publication ' || pubname from pg_publication order by 1",
        "select 'acl ' || coalesce(nspacl::text, '') from pg_namespace where nspname = 'public'",
        "select 'defacl ' || count(*) from pg_default_acl",
    ] {
        out.extend(rt.block_on(server.strings(database, sql)));
    }
    if rt
        .block_on(server.strings(
            database,
            "select (to_regclass('supabase_migrations.schema_migrations') is not null)::text",
        ))
        .first()
        .map(String::as_str)
        == Some("true")
    {
        out.extend(rt.block_on(server.strings(
            database,
            "select 'history ' || version from supabase_migrations.schema_migrations order by 1",
        )));
    }
    out
}

#[test]
fn every_refusal_changes_nothing_not_even_the_platform_or_the_roles() {
    // A fresh server: none of the emulation's roles exist yet, so creating them would show.
    let server = PrivateServer::trust();
    let rt = runtime();
    rt.block_on(server.exec("postgres", "create database app"));
    let url = server.url("app");
    let p = supabase_project(&[
        ("1_one.sql", "create table if not exists one (id int);\n"),
        (
            "3_three.sql",
            "create table if not exists three (id int);\n",
        ),
    ]);
    // History first, without the platform (as another tool or an older setup would leave it).
    let run = strata(
        p.path(),
        &["push", "--db-url", &url, "--platform", "none", "--no-lint"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let dir = p.path().join("supabase/migrations");
    let before = snapshot(&server, "app");
    assert!(!before.iter().any(|l| l == "role anon"), "{before:?}");

    let check = |what: &str, run: Run, code: i32| {
        assert_eq!(run.code, code, "{what}: {run:?}");
        assert_eq!(snapshot(&server, "app"), before, "{what} changed something");
        if code == 7 {
            assert!(
                run.stderr.contains("nothing was changed"),
                "{what}: {run:?}"
            );
        }
    };
    // Lint would refuse most of these files first; it has its own case below.
    let push = |extra: &[&str]| {
        let mut args = vec!["push", "--db-url", url.as_str(), "--no-lint"];
        args.extend_from_slice(extra);
        strata(p.path(), &args)
    };

    // Out of order: 2 is older than the newest applied (3).
    std::fs::write(dir.join("2_two.sql"), "create table two (id int);\n").unwrap();
    check("out of order", push(&[]), 7);
    std::fs::remove_file(dir.join("2_two.sql")).unwrap();
    // A pending file that would install the platform, with an applied file changed.
    std::fs::write(dir.join("4_four.sql"), "create table four (id int);\n").unwrap();
    std::fs::write(dir.join("1_one.sql"), "create table one (id bigint);\n").unwrap();
    check("modified", push(&[]), 7);
    std::fs::write(
        dir.join("1_one.sql"),
        "create table if not exists one (id int);\n",
    )
    .unwrap();
    // An applied version without its file.
    std::fs::rename(dir.join("3_three.sql"), p.path().join("three.bak")).unwrap();
    check("missing locally", push(&[]), 7);
    std::fs::rename(p.path().join("three.bak"), dir.join("3_three.sql")).unwrap();
    // Lint finding at error level in the pending file.
    std::fs::write(
        dir.join("4_four.sql"),
        "BEGIN;\nBEGIN;\ncreate table four (id int);\nCOMMIT;\n",
    )
    .unwrap();
    check(
        "lint",
        strata(p.path(), &["push", "--db-url", url.as_str()]),
        3,
    );
    // A pending file that does not split.
    std::fs::write(
        dir.join("4_four.sql"),
        "create table four (note text default 'x);\n",
    )
    .unwrap();
    check("unterminated string", push(&[]), 1);
    // A top-level ROLLBACK would end the migration's transaction.
    std::fs::write(
        dir.join("4_four.sql"),
        "create table four (id int);\nROLLBACK;\n",
    )
    .unwrap();
    check("rollback in file", push(&[]), 1);
    // Another run holds the migration lock: waiting gives up, and nothing was installed first.
    std::fs::write(dir.join("4_four.sql"), "create table four (id int);\n").unwrap();
    let holder = rt.block_on(async {
        let c = target(&url).connect().await.unwrap();
        c.execute("select pg_advisory_lock($1)", &[&strata::lock::LOCK_KEY])
            .await
            .unwrap();
        c
    });
    check("lock wait", push(&["--lock-wait", "300ms"]), 5);
    rt.block_on(holder.batch_execute("select pg_advisory_unlock_all()"))
        .unwrap();
    // A dry run.
    check("dry run", push(&["--dry-run"]), 0);
    // And the push itself now works, installing the platform once.
    let run = push(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(snapshot(&server, "app").iter().any(|l| l == "role anon"));
}

#[test]
fn a_push_without_migrations_starts_nothing() {
    for args in [
        &["push"][..],
        &["migration", "list"],
        &["db", "reset"],
        &["rollback"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let run = strata(dir.path(), args);
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("no migrations directory"),
            "{args:?}: {run:?}"
        );
        assert!(
            !dir.path().join(".strata").exists(),
            "{args:?} created .strata/ (started a cluster) before checking its input"
        );
    }
    // A restore of a file that does not exist starts nothing either.
    let dir = project(&[]);
    let run = strata(dir.path(), &["restore", "--yes", "missing.dump"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(!dir.path().join(".strata").exists(), "{run:?}");
}

#[test]
fn db_reset_works_on_the_local_database_whatever_database_url_says() {
    let app = TestDb::new("resetapp");
    exec(
        &app.url,
        "create table keep_me (id int); insert into keep_me values (1);",
    );
    let p = project(&[("1_a.sql", "create table a (id int);\n")]);
    write(p.path(), ".env", &format!("DATABASE_URL={}\n", app.url));
    let run = strata(p.path(), &["db", "reset"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("DATABASE_URL from .env") && run.stderr.contains("not touched"),
        "{run:?}"
    );
    assert!(run.stderr.contains("(local database)"), "{run:?}");
    assert!(run.stdout.contains("Reset postgres"), "{run:?}");
    // The application's database is as it was: no migration, no history.
    assert!(app.table_exists("keep_me"));
    assert!(!app.table_exists("a"));
    assert!(app.versions().is_empty());
    // The same from the environment.
    let run = strata_env(p.path(), &["db", "reset"], &[("DATABASE_URL", &app.url)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("DATABASE_URL from the environment"),
        "{run:?}"
    );
    assert!(!app.table_exists("a"));
    // db url/status concern the local cluster only.
    let run = strata_env(p.path(), &["db", "url"], &[("DATABASE_URL", &app.url)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("postgresql://postgres@127.0.0.1:"),
        "{run:?}"
    );
    assert!(!run.stdout.contains(&app.name), "{run:?}");
    // The local database has the migration.
    let local = run.stdout.trim().to_string();
    assert_eq!(
        strings(&local, "select (to_regclass('a') is not null)::text"),
        ["true"]
    );
    // A named target is refused by name.
    let run = strata(p.path(), &["db", "reset", "--db-url", &app.url]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--db-url"), "{run:?}");

    // --from-schemas: no schema files is a usage error, the database untouched.
    let run = strata(p.path(), &["db", "reset", "--from-schemas"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no schema files"), "{run:?}");
    assert_eq!(
        strings(&local, "select (to_regclass('a') is not null)::text"),
        ["true"]
    );
    // Built from the schema files, with no migration recorded as applied.
    write(
        p.path(),
        "schemas/10_b.sql",
        "create table b (id int primary key);\n",
    );
    let run = strata(p.path(), &["db", "reset", "--from-schemas"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("from 1 schema file(s)"), "{run:?}");
    assert_eq!(
        strings(
            &local,
            "select (to_regclass('a') is null and to_regclass('b') is not null)::text"
        ),
        ["true"]
    );
    assert_eq!(
        strings(
            &local,
            "select count(*)::text from supabase_migrations.schema_migrations"
        ),
        ["0"]
    );
    let _ = strata(p.path(), &["db", "stop"]);
    let _ = strata::local::LocalCluster::new(p.path().join(".strata")).destroy();
}

#[test]
fn hints_carry_the_target_they_came_from_and_work_as_printed() {
    let db = TestDb::new("hints");
    let p = project(&[
        ("1_a.sql", "create table a (id int);\n"),
        ("2_b.sql", "create table b (id int);\n"),
    ]);
    let run = strata(p.path(), &["push", "--db-url", &db.url, "--no-lint"]);
    assert_eq!(run.code, 0, "{run:?}");
    std::fs::remove_file(p.path().join("migrations/2_b.sql")).unwrap();
    let run = strata(p.path(), &["push", "--db-url", &db.url]);
    assert_eq!(run.code, 7, "{run:?}");
    let expected = format!(
        "`strata migration repair --status reverted 2 --db-url {}`",
        db.url
    );
    assert!(run.stderr.contains(&expected), "{expected}\n{run:?}");
    // JSON carries the same hint.
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert!(run.stdout.contains(&expected), "{run:?}");
    // Run as printed, it repairs that database (not the local cluster).
    let run = strata(
        p.path(),
        &[
            "migration",
            "repair",
            "--status",
            "reverted",
            "2",
            "--db-url",
            &db.url,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("Target: "), "{run:?}");
    assert_eq!(db.versions(), ["1"]);
    assert!(!p.path().join(".strata").exists());

    // An environment: the hint names it.
    write(
        p.path(),
        "strata.toml",
        "[environments.production]\nurl = \"${PROD_URL}\"\n",
    );
    std::fs::write(
        p.path().join("migrations/1_a.sql"),
        "create table a (id bigint);\n",
    )
    .unwrap();
    let run = strata_env(
        p.path(),
        &["push", "--env", "production"],
        &[("PROD_URL", &db.url)],
    );
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr
            .contains("`strata migration repair --status applied 1 --env production`"),
        "{run:?}"
    );
    // --dir travels too.
    let other = tempfile::tempdir().unwrap();
    let dir = p.path().join("migrations");
    let run = strata(
        other.path(),
        &["push", "--db-url", &db.url, "--dir", dir.to_str().unwrap()],
    );
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains(&format!("--dir {}", dir.display())),
        "{run:?}"
    );
}

#[test]
fn every_command_that_touches_a_database_prints_its_target() {
    let db = TestDb::new("targets");
    let p = project(&[("1_a.sql", "create table a (id int);\n")]);
    write(p.path(), "migrations/1_a_rollback.sql", "drop table a;\n");
    for args in [
        &["push", "--no-lint"][..],
        &["migration", "list"],
        &["migration", "repair", "--status", "applied", "1"],
        &["sql", "select 1"],
        &["rollback", "--dry-run"],
        &["diff"],
    ] {
        let mut all = args.to_vec();
        all.extend(["--db-url", db.url.as_str()]);
        let run = strata(p.path(), &all);
        assert!(
            run.stderr.contains(&format!("Target: {}", db.url)),
            "{args:?}: {run:?}"
        );
    }
}

#[test]
fn real_supabase_is_decided_per_database_and_said() {
    let server = PrivateServer::trust();
    let rt = runtime();
    // A real Supabase database: its auth schema belongs to supabase_admin. Another database of
    // the same server is plain PostgreSQL and needs the emulation.
    for sql in [
        "create role supabase_admin",
        "create database real_sb",
        "create database plain",
    ] {
        rt.block_on(server.exec("postgres", sql));
    }
    rt.block_on(server.exec(
        "real_sb",
        "create role anon nologin; create role authenticated nologin; create role service_role nologin bypassrls;
         create schema auth authorization supabase_admin;
         create table auth.users (id uuid primary key);
         create function auth.uid() returns uuid language sql stable as $$ select null::uuid $$;
         create schema extensions; create extension if not exists \"uuid-ossp\" with schema extensions;
         alter database real_sb set search_path = \"$user\", public, extensions;",
    ));
    let files = platform_migrations();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = supabase_project(&refs);
    let run = strata(
        p.path(),
        &["push", "--db-url", &server.url("real_sb"), "--no-lint"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("real Supabase database"), "{run:?}");
    assert!(run.stderr.contains("supabase_admin"), "{run:?}");
    assert_eq!(
        rt.block_on(server.strings(
            "real_sb",
            "select (to_regnamespace('strata_platform') is null)::text"
        )),
        ["true"]
    );
    let run = strata(
        p.path(),
        &["push", "--db-url", &server.url("plain"), "--no-lint"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("Supabase platform emulation installed"),
        "{run:?}"
    );
}

#[test]
fn notices_are_shown_with_their_file_and_kept_in_json() {
    let db = TestDb::new("notices");
    let p = project(&[(
        "1_talk.sql",
        "DO $$ BEGIN RAISE NOTICE 'hello from one'; RAISE WARNING 'careful: %', 42; END $$;\ncreate table t (id int);\n",
    )]);
    let run = strata(p.path(), &["push", "--db-url", &db.url, "--no-lint"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("NOTICE: hello from one (1_talk.sql)"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("WARNING: careful: 42 (1_talk.sql)"),
        "{run:?}"
    );
    // strata sql shows them as psql does.
    let run = strata(
        p.path(),
        &[
            "sql",
            "--db-url",
            &db.url,
            "do $$ begin raise notice 'from sql'; end $$",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("NOTICE: from sql"), "{run:?}");
    // -q keeps to errors.
    let db2 = TestDb::new("noticesq");
    let run = strata(p.path(), &["push", "--db-url", &db2.url, "--no-lint", "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.all().contains("hello"), "{run:?}");
    // JSON carries them per migration.
    let db3 = TestDb::new("noticesj");
    let run = strata(
        p.path(),
        &["push", "--db-url", &db3.url, "--no-lint", "-o", "json"],
    );
    let notices = &run.json()["result"]["applied"][0]["notices"];
    assert_eq!(notices.as_array().map(Vec::len), Some(2), "{run:?}");
    assert_eq!(notices[0]["severity"], "NOTICE");
    assert_eq!(notices[1]["message"], "careful: 42");
    // A failing migration shows what it said before the error.
    let db4 = TestDb::new("noticesf");
    let p = project(&[(
        "1_fail.sql",
        "DO $$ BEGIN RAISE NOTICE 'about to fail'; END $$;\nselect 1/0;\n",
    )]);
    let run = strata(p.path(), &["push", "--db-url", &db4.url, "--no-lint"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.stderr.contains("NOTICE: about to fail (1_fail.sql)"),
        "{run:?}"
    );
}

#[test]
fn a_push_waiting_for_a_table_lock_says_what_it_waits_for_until_it_gets_it() {
    let db = TestDb::new("blocked");
    exec(&db.url, "create table busy (id int);");
    let p = project(&[("1_alter.sql", "alter table busy add column c int;\n")]);
    let rt = runtime();
    let holder = rt.block_on(async {
        let c = target(&db.url).connect().await.unwrap();
        c.batch_execute("begin; lock table busy in access share mode; select 'holding busy';")
            .await
            .unwrap();
        c
    });
    let child = command(p.path(), &["push", "--db-url", &db.url, "--no-lint"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let started = Instant::now();
    rt.block_on(holder.batch_execute("commit")).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        stderr.contains("1_alter.sql has waited")
            && stderr.contains("relation busy (AccessExclusiveLock)"),
        "{stderr}"
    );
    assert!(stderr.contains("held by pid"), "{stderr}");
    assert!(stderr.contains("holding busy"), "{stderr}");
}

#[test]
fn supabase_transaction_pooler_urls_are_refused_before_connecting() {
    let p = project(&[("1_a.sql", "select 1;\n")]);
    let run = strata(
        p.path(),
        &[
            "push",
            "--db-url",
            "postgresql://postgres.abcdefghijklmnopqrst:s3cretpw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("transaction pooler"), "{run:?}");
    assert!(
        run.stderr
            .contains("aws-0-eu-central-1.pooler.supabase.com:5432"),
        "{run:?}"
    );
    assert!(!run.all().contains("s3cretpw"), "{run:?}");
}

#[test]
fn linked_says_how_it_connects() {
    let p = project(&[("1_a.sql", "select 1;\n")]);
    let run = strata(
        p.path(),
        &[
            "link",
            "--project-ref",
            "abcdefghijklmnopqrst",
            "--pooler-url",
            "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("session pooler"), "{run:?}");
    let recorded = std::fs::read_to_string(p.path().join(".strata/pooler-url")).unwrap();
    assert_eq!(
        recorded.trim(),
        "postgresql://postgres.abcdefghijklmnopqrst@aws-0-eu-central-1.pooler.supabase.com:5432/postgres?sslmode=require"
    );
    assert!(!recorded.contains("pw"));
    // A dry run to a project that does not exist fails to connect, but says which route it took.
    let run = strata_env(
        p.path(),
        &["push", "--linked", "--dry-run"],
        &[("SUPABASE_DB_PASSWORD", "linkedpw123")],
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.all().contains("--linked:") || run.all().contains("cannot connect"),
        "{run:?}"
    );
    assert!(!run.all().contains("linkedpw123"), "{run:?}");
}
