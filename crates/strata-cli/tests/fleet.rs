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
/// pattern, with `_` escaped), in name order (the order a fleet takes them in).
fn databases(tag: &str, count: usize) -> Vec<TestDb> {
    let mut dbs: Vec<TestDb> = (0..count).map(|_| TestDb::new(tag)).collect();
    dbs.sort_by(|a, b| a.name.cmp(&b.name));
    dbs
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

/// A database of `server` named exactly `name` (quoted as needed), dropped with the server.
fn create_named(url_of_postgres: &str, name: &str) {
    exec(
        url_of_postgres,
        &format!("create database {}", strata::quote::ident(name)),
    );
}

fn url_of(base: &str, name: &str) -> String {
    // A database name in a URL, percent-encoded.
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    with_database(base, &encoded)
}

#[test]
fn backups_of_look_alike_names_and_of_one_name_on_two_servers_never_collide() {
    let other = PrivateServer::trust();
    let tag = format!("bk{}", std::process::id());
    let names: Vec<String> = [" a", "#a", "$a", "_a"]
        .iter()
        .map(|s| format!("{tag}{s}"))
        .collect();
    for n in &names {
        create_named(&admin_url(), n);
    }
    // The docs' two-region example: a database named `app` on each of two servers.
    let app = format!("{tag}app");
    create_named(&admin_url(), &app);
    create_named(&other.url("postgres"), &app);
    let mut urls: Vec<String> = names.iter().map(|n| url_of(&admin_url(), n)).collect();
    urls.push(url_of(&admin_url(), &app));
    urls.push(url_of(&other.url("postgres"), &app));
    let p = project_with_fleet(&format!(
        "[fleets.regions]\nurls = [{}]\nbackup = true\n",
        urls.iter()
            .map(|u| format!("\"{u}\""))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let run = strata(p.path(), &["push", "--fleet", "regions", "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let backups: std::collections::BTreeSet<String> = run.json()["result"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["backup"]
                .as_str()
                .expect("each database backed up")
                .to_string()
        })
        .collect();
    assert_eq!(backups.len(), 6, "{backups:?}");
    for b in &backups {
        assert!(std::fs::metadata(b).unwrap().len() > 0, "{b} kept");
    }
    // Two backups of one database in the same second (two runs) do not collide either.
    let single = TestDb::new("bksingle");
    let p2 = project(MIGRATIONS);
    let files: std::collections::BTreeSet<String> = (0..2)
        .map(|_| {
            let run = strata(
                p2.path(),
                &["backup", "--db-url", &single.url, "-o", "json"],
            );
            assert_eq!(run.code, 0, "{run:?}");
            run.json()["result"]["file"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for n in &names {
        exec(
            &admin_url(),
            &format!(
                "drop database if exists {} with (force)",
                strata::quote::ident(n)
            ),
        );
    }
    exec(
        &admin_url(),
        &format!(
            "drop database if exists {} with (force)",
            strata::quote::ident(&app)
        ),
    );
}

/// A table with rows on each of `dbs`, and the first migration applied there: live databases.
fn make_live(dbs: &[&TestDb], p: &Path) {
    for d in dbs {
        let run = strata(p, &["push", "--db-url", &d.url, "-q", "--no-lint"]);
        assert_eq!(run.code, 0, "{run:?}");
        exec(
            &d.url,
            "insert into notes (id, body) select g, 'x' from generate_series(1, 10) g",
        );
    }
}

#[test]
fn the_lint_gate_judges_each_database_a_fresh_first_one_does_not_let_live_ones_through() {
    let dbs = databases("fltgate", 3);
    let pattern = like_prefix(&dbs[0]);
    let p = project_with_fleet(&format!(
        "[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
        admin_url()
    ));
    // The first database (in name order) stays fresh; the others are live.
    let only_first = project(&MIGRATIONS[..2]);
    make_live(&[&dbs[1], &dbs[2]], only_first.path());
    // A migration the gate refuses on a live database: a blocking index on a table with rows.
    write(
        p.path(),
        "migrations/20240103000000_index_notes.sql",
        "create index notes_body on notes (body);\n",
    );
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    assert_eq!(run.code, 3, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "lint", "{v}");
    // Nothing changed anywhere: the fresh database was not pushed either.
    assert!(!has_history(&dbs[0].url));
    for d in &dbs[1..] {
        assert_eq!(applied(&d.url), ["20240101000000,20240102000000"]);
    }
    // With --keep-going: the live ones fail with kind lint, the fresh one is pushed.
    let run = strata(
        p.path(),
        &["push", "--fleet", "tenants", "--keep-going", "-o", "json"],
    );
    assert_eq!(run.code, 9, "{run:?}");
    let targets = run.json()["error"]["details"]["targets"]
        .as_array()
        .unwrap()
        .clone();
    let kinds: Vec<(String, String)> = targets
        .iter()
        .map(|t| {
            (
                t["status"].as_str().unwrap().to_string(),
                t["error"]["kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("ok".to_string(), String::new()),
            ("failed".to_string(), "lint".to_string()),
            ("failed".to_string(), "lint".to_string())
        ],
        "{run:?}"
    );
    assert_eq!(
        applied(&dbs[0].url),
        ["20240101000000,20240102000000,20240103000000"]
    );
    // The findings were shown.
    let human = strata(p.path(), &["push", "--fleet", "tenants", "--keep-going"]);
    assert!(
        human.all().contains("index-without-concurrently"),
        "{human:?}"
    );
}

#[test]
fn a_dry_run_says_what_each_database_would_apply_and_a_canary_has_something_to_do() {
    let dbs = databases("fltdry", 3);
    let pattern = like_prefix(&dbs[0]);
    let p = project_with_fleet(&format!(
        "[fleets.tenants]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
        admin_url()
    ));
    // The first database is up to date: the canary is the first with something pending.
    let run = strata(p.path(), &["push", "--db-url", &dbs[0].url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = strata(p.path(), &["push", "--fleet", "tenants", "--dry-run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.all()
            .contains("would apply 20240101000000, 20240102000000"),
        "{run:?}"
    );
    assert!(run.all().contains("would be applied (dry run"), "{run:?}");
    assert!(!run.all().contains("applied,"), "{run:?}");
    assert!(!has_history(&dbs[1].url), "a dry run changes nothing");
    let run = strata(p.path(), &["push", "--fleet", "tenants", "-o", "json"]);
    let targets = run.json()["result"]["targets"].as_array().unwrap().clone();
    assert_eq!(targets[0]["canary"], false, "{run:?}");
    assert_eq!(targets[1]["canary"], true, "{run:?}");
}

#[test]
fn a_registry_is_read_only_and_its_junk_rows_are_named() {
    let registry = TestDb::new("fltjunk");
    let db = TestDb::new("fltjunkdb");
    exec(
        &registry.url,
        &format!(
            "create table tenants (url text, n int); insert into tenants values ('{}', 1);",
            db.url
        ),
    );
    let fleet = |query: &str| {
        project_with_fleet(&format!(
            "[fleets.t]\nregistry = \"{}\"\nquery = \"{query}\"\n",
            registry.url
        ))
    };
    // A query that writes: refused (read-only), the registry untouched, in a dry run too.
    let p = fleet("with d as (delete from tenants returning url) select url from d");
    for args in [
        &["push", "--fleet", "t", "--dry-run"][..],
        &["migration", "list", "--fleet", "t"],
    ] {
        let run = strata(p.path(), args);
        assert_ne!(run.code, 0, "{run:?}");
        assert!(run.stderr.contains("read-only"), "{run:?}");
        assert_eq!(
            strings(&registry.url, "select count(*)::text from tenants"),
            ["1"]
        );
    }
    for (query, named) in [
        (
            "select null::text",
            "row 1 of the query of fleet `t` is NULL",
        ),
        (
            "select n from tenants",
            "row 1 of the query of fleet `t` is not text",
        ),
        (
            "select 'not a url at all ://' ",
            "row 1 of the query of fleet `t` is not a connection string",
        ),
    ] {
        let p = fleet(query);
        let run = strata(p.path(), &["push", "--fleet", "t", "--dry-run"]);
        assert_eq!(run.code, 2, "{query}: {run:?}");
        assert!(run.stderr.contains(named), "{query}: {run:?}");
    }
}

#[test]
fn the_fleet_list_fails_when_a_database_cannot_be_read_and_an_underscore_pattern_warns() {
    let dbs = databases("fltdown", 2);
    let p = project_with_fleet(&format!(
        "[fleets.t]\nurls = [\"{}\", \"postgresql://postgres@127.0.0.1:1/nowhere\"]\n",
        dbs[0].url
    ));
    let run = strata(
        p.path(),
        &["migration", "list", "--fleet", "t", "-o", "json"],
    );
    assert_eq!(run.code, 9, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "fleet");
    assert_eq!(
        v["error"]["details"]["targets"].as_array().unwrap().len(),
        2
    );

    // `_` in a LIKE pattern matches any character: say what matched because of it.
    let pattern = format!("{}%", dbs[0].name.replace("fltdown", "fltdow_"));
    let p = project_with_fleet(&format!(
        "[fleets.t]\nserver = \"{}\"\ndatabases = \"{pattern}\"\n",
        admin_url()
    ));
    let run = strata(p.path(), &["migration", "list", "--fleet", "t"]);
    assert!(
        run.stderr.contains("`_` matches any one character"),
        "{run:?}"
    );
}
