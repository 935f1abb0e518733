//! `strata push --fleet` and `strata migration list --fleet` on real PostgreSQL: databases found
//! by a LIKE pattern, a canary that stops everything, a locked database that fails alone, a
//! registry fleet across two servers, re-runs that pick up where a run stopped.

mod common;

use std::path::Path;

use common::*;

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "20240101000000_create_notes.sql",
        "create table notes (id int primary key, body text);\n",
    ),
    (
        "20240102000000_add_pinned.sql",
        "alter table notes add column pinned boolean not null default false;\n",
    ),
];

/// `count` databases named `<prefix><n>` (a prefix unique to the test: the pattern is a LIKE
/// pattern, with `_` escaped).
fn databases(tag: &str, count: usize) -> Vec<TestDb> {
    (0..count).map(|_| TestDb::new(tag)).collect()
}

fn like_prefix(db: &TestDb) -> String {
    // strata_cli_<tag>_<pid>_<unique>: everything up to the pid, underscores escaped.
    let parts: Vec<&str> = db.name.splitn(5, '_').collect();
    format!("{}_", parts[..4].join("_")).replace('_', "\\\\_") + "%"
}

fn project_with_fleet(fleet_toml: &str) -> tempfile::TempDir {
    let p = project(MIGRATIONS);
    write(
        p.path(),
        "strata.toml",
        &format!("migrations_dir = \"migrations\"\n{fleet_toml}"),
    );
    p
}

fn applied(url: &str) -> Vec<String> {
    strings(
        url,
        "select coalesce(string_agg(version, ',' order by version), '') from supabase_migrations.schema_migrations",
    )
}

fn has_history(url: &str) -> bool {
    strings(
        url,
        "select (to_regclass('supabase_migrations.schema_migrations') is not null)::text",
    ) == ["true"]
}

#[test]
fn a_fleet_found_by_pattern_is_pushed_canary_first_and_a_rerun_has_nothing_to_do() {
    let dbs = databases("fltall", 32);
    let pattern = like_prefix(&dbs[0]);
    let p = project_with_fleet(&format!(
        "[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
        admin_url()
    ));
    let run = strata(
        p.path(),
        &[
            "push",
            "--fleet",
            "tenants",
            "--parallel",
            "4",
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["command"], "push");
    assert_eq!(v["result"]["summary"]["ok"], 32, "{run:?}");
    let targets = v["result"]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 32);
    // Sorted by name; the first is the canary; passwords never shown.
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(targets[0]["canary"], true);
    assert!(targets
        .iter()
        .all(|t| t["applied"].as_array().unwrap().len() == 2));
    for db in &dbs {
        assert_eq!(applied(&db.url), ["20240101000000,20240102000000"]);
    }
    // Again: every database has it all.
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.json()["result"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["applied"].as_array().unwrap().is_empty()));
    // The list: every database at the newest version.
    let run = strata(
        p.path(),
        &["migration", "list", "--fleet", "tenants", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.json()["result"]["versions"]["20240102000000"],
        32,
        "{run:?}"
    );
}

#[test]
fn a_failing_canary_touches_nothing_else() {
    let dbs = databases("fltcanary", 5);
    let pattern = like_prefix(&dbs[0]);
    let mut sorted: Vec<&TestDb> = dbs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    // The first database (the canary) already has a table the first migration creates.
    exec(&sorted[0].url, "create table notes (x int)");
    let p = project_with_fleet(&format!(
        "[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
        admin_url()
    ));
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    assert_eq!(run.code, 9, "{run:?}");
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["kind"], "fleet");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("canary"),
        "{run:?}"
    );
    let targets = v["error"]["details"]["targets"].as_array().unwrap();
    assert_eq!(targets[0]["status"], "failed");
    assert_eq!(targets[0]["error"]["kind"], "migration_failed", "{run:?}");
    assert!(
        targets[1..].iter().all(|t| t["status"] == "skipped"),
        "{run:?}"
    );
    for db in &sorted[1..] {
        assert!(!has_history(&db.url), "{} was touched", db.name);
    }
}

#[test]
fn a_locked_database_fails_alone_with_keep_going_and_a_rerun_completes() {
    let dbs = databases("fltlock", 6);
    let pattern = like_prefix(&dbs[0]);
    let p = project_with_fleet(&format!(
        "[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
        admin_url()
    ));
    // Everyone has the first migration; one database's table is held locked.
    let first = project(&MIGRATIONS[..1]);
    for db in &dbs {
        let run = strata(first.path(), &["push", "--db-url", &db.url, "-q"]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let mut sorted: Vec<&TestDb> = dbs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let locked = sorted[3];
    let rt = runtime();
    let holder = rt.block_on(async {
        let c = target(&locked.url).connect().await.unwrap();
        c.batch_execute("begin; lock table notes in access exclusive mode")
            .await
            .unwrap();
        c
    });
    let run = strata(
        p.path(),
        &[
            "push",
            "--fleet",
            "tenants",
            "--keep-going",
            "--lock-timeout",
            "1s",
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 9, "{run:?}");
    let v = run.json();
    let targets = v["error"]["details"]["targets"].as_array().unwrap();
    let failed: Vec<&serde_json::Value> =
        targets.iter().filter(|t| t["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{run:?}");
    assert!(
        failed[0]["target"].as_str().unwrap().contains(&locked.name),
        "{run:?}"
    );
    assert!(
        failed[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("lock"),
        "{run:?}"
    );
    assert_eq!(v["error"]["details"]["summary"]["ok"], 5);
    assert_eq!(applied(&locked.url), ["20240101000000"]);
    // The lock goes (the holder's connection closes with its runtime); the same push picks up
    // where it stopped.
    drop(holder);
    drop(rt);
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let applied_now: usize = run.json()["result"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["applied"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        applied_now, 1,
        "only the locked database had something left"
    );
}

#[test]
fn a_registry_fleet_spans_two_servers() {
    let other = PrivateServer::trust();
    let here = databases("fltreg", 2);
    runtime().block_on(async {
        other.exec("postgres", "create database tenant_far_a").await;
        other.exec("postgres", "create database tenant_far_b").await;
    });
    let registry = TestDb::new("fltregistry");
    let urls: Vec<String> = here
        .iter()
        .map(|d| d.url.clone())
        .chain(
            ["tenant_far_a", "tenant_far_b"]
                .iter()
                .map(|d| other.url(d)),
        )
        .collect();
    exec(
        &registry.url,
        &format!(
            "create table tenants (url text, active boolean);\ninsert into tenants values {}, ('postgresql://nowhere/x', false);",
            urls.iter()
                .map(|u| format!("('{u}', true)"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let p = project_with_fleet(&format!(
        "[fleets.customers]\nregistry = \"{}\"\nquery = \"select url from tenants where active\"\n",
        registry.url
    ));
    let run = strata(p.path(), &["push", "--fleet", "customers", "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["result"]["summary"]["ok"], 4, "{run:?}");
    for u in &urls {
        assert_eq!(applied(u), ["20240101000000,20240102000000"]);
    }
}

#[test]
fn fleet_flags_and_settings_are_checked_before_anything_runs() {
    let p = project_with_fleet(
        "[fleets.tenants]\nurls = [\"postgresql://postgres@127.0.0.1:1/nowhere\"]\n",
    );
    let run = strata(
        p.path(),
        &["push", "--fleet", "tenants", "--db-url", NOWHERE],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--fleet and --db-url"), "{run:?}");
    let run = strata(p.path(), &["push", "--fleet", "nope"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("known fleets: tenants"), "{run:?}");
    let run = strata(p.path(), &["push", "--parallel", "2"]);
    assert_eq!(run.code, 2, "--parallel needs --fleet: {run:?}");
    // A database that is down fails alone, named.
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    assert_eq!(run.code, 9, "{run:?}");
    assert_eq!(
        run.json()["error"]["details"]["targets"][0]["error"]["kind"],
        "connect",
        "{run:?}"
    );
    // A fleet without one of the three shapes is a configuration error at its line.
    write(
        p.path(),
        "strata.toml",
        "migrations_dir = \"migrations\"\n[fleets.half]\nserver = \"postgresql://x/y\"\n",
    );
    let run = strata(p.path(), &["push", "--fleet", "half"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("fleets.half"), "{run:?}");
    let _ = Path::new("");
}

#[test]
fn a_fleet_push_killed_midway_is_completed_by_a_rerun_each_migration_applied_once() {
    let dbs = databases("fltkill", 8);
    let pattern = like_prefix(&dbs[0]);
    let p = project(&[
        (
            "20240101000000_create_log.sql",
            "create table log (n int);\ninsert into log values (1);\n",
        ),
        (
            "20240102000000_slow.sql",
            "select pg_sleep(0.4);\ninsert into log values (2);\n",
        ),
        ("20240103000000_more.sql", "insert into log values (3);\n"),
    ]);
    write(
        p.path(),
        "strata.toml",
        &format!(
            "migrations_dir = \"migrations\"\n[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
            admin_url()
        ),
    );
    let mut child = command(
        p.path(),
        &["push", "--fleet", "tenants", "--parallel", "2", "-q"],
    )
    .spawn()
    .unwrap();
    // Midway: as soon as the canary is done, while the others run (two at a time, each at
    // least 0.4 s), the process is killed.
    let mut sorted: Vec<&TestDb> = dbs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let started = std::time::Instant::now();
    let all = ["20240101000000,20240102000000,20240103000000"];
    let done = |url: &str| has_history(url) && applied(url) == all;
    while !done(&sorted[0].url) {
        assert!(
            started.elapsed().as_secs() < 60,
            "the canary never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let incomplete = dbs.iter().filter(|d| !done(&d.url)).count();
    assert!(
        incomplete > 0,
        "the kill came after the run finished: nothing to pick up"
    );
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    for db in &dbs {
        assert_eq!(
            applied(&db.url),
            ["20240101000000,20240102000000,20240103000000"]
        );
        assert_eq!(
            strings(
                &db.url,
                "select string_agg(n::text, ',' order by n) from log"
            ),
            ["1,2,3"],
            "{}: every migration applied exactly once",
            db.name
        );
    }
}

#[test]
fn platform_roles_are_created_concurrently_by_databases_of_one_server() {
    let dbs = databases("fltroles", 6);
    let pattern = like_prefix(&dbs[0]);
    let p = project(&[(
        "20240101000000_create_profiles.sql",
        "create table public.profiles (id uuid primary key references auth.users (id));\nalter table public.profiles enable row level security;\ngrant select on public.profiles to authenticated;\n",
    )]);
    write(
        p.path(),
        "strata.toml",
        &format!(
            "migrations_dir = \"migrations\"\nplatform = \"supabase\"\n[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
            admin_url()
        ),
    );
    let run = strata(
        p.path(),
        &[
            "push",
            "--fleet",
            "tenants",
            "--canary",
            "0",
            "--parallel",
            "6",
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["result"]["summary"]["ok"], 6, "{run:?}");
}

#[test]
fn a_fleet_with_backup_dumps_each_database_before_pushing_it() {
    let dbs = databases("fltbackup", 3);
    let pattern = like_prefix(&dbs[0]);
    let p = project_with_fleet(&format!(
        "[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\nbackup = true\n",
        admin_url()
    ));
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let targets = run.json()["result"]["targets"].as_array().unwrap().clone();
    assert!(
        targets
            .iter()
            .all(|t| t["backup"].as_str().is_some_and(|b| b.ends_with(".dump"))),
        "{run:?}"
    );
    let dumps = std::fs::read_dir(p.path().join(".strata/backups"))
        .unwrap()
        .count();
    assert_eq!(dumps, 3);
    // Nothing pending: no backup.
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.json()["result"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["backup"].is_null()));
}

#[test]
fn the_fleet_list_names_the_databases_that_lag_or_drifted() {
    let dbs = databases("fltlist", 3);
    let pattern = like_prefix(&dbs[0]);
    let p = project_with_fleet(&format!(
        "[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
        admin_url()
    ));
    let mut sorted: Vec<&TestDb> = dbs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    // Two have everything; one only the first migration; one was changed by hand.
    let first = project(&MIGRATIONS[..1]);
    let run = strata(first.path(), &["push", "--db-url", &sorted[2].url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    for db in &sorted[..2] {
        let run = strata(p.path(), &["push", "--db-url", &db.url, "-q"]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    exec(&sorted[1].url, "alter table notes add column by_hand int");
    let run = strata_env(
        p.path(),
        &[
            "migration",
            "list",
            "--fleet",
            "tenants",
            "--check-drift",
            "-o",
            "json",
        ],
        &[("STRATA_SCRATCH_URL", &admin_url())],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    let targets = v["result"]["targets"].as_array().unwrap();
    assert_eq!(targets[2]["pending"], 1, "{run:?}");
    assert_eq!(targets[2]["latest"], "20240101000000");
    assert_eq!(v["result"]["versions"]["20240102000000"], 2, "{run:?}");
    assert_eq!(v["result"]["versions"]["20240101000000"], 1, "{run:?}");
    assert_eq!(targets[0]["drift"], serde_json::json!([]), "{run:?}");
    let drift = targets[1]["drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1, "{run:?}");
    assert!(drift[0].as_str().unwrap().contains("by_hand"), "{run:?}");
    assert_eq!(targets[2]["drift"], serde_json::json!([]), "{run:?}");
}
