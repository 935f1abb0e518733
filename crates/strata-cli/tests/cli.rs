//! Integration tests for the `strata` binary: JSON output and exit codes, secrets kept out of
//! every output, configuration and source-file errors, `migration new`, and a push killed with
//! SIGKILL at random moments.
//!
//! Each test runs the built binary in its own temporary project directory; tests that need a
//! database create their own on the test server (`STRATA_TEST_ADMIN_URL`, else
//! 127.0.0.1:5432 as `postgres`, else Strata's local cluster under `target/strata-test-cluster`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::*;

// ---------------------------------------------------------------------------------------------
// JSON output and exit codes
// ---------------------------------------------------------------------------------------------

#[test]
fn push_and_list_print_one_json_document() {
    let db = TestDb::new("json");
    let p = project(&[
        ("1_create_a.sql", "create table a (id int);\n"),
        ("2_create_b.sql", "create table b (id int);\n"),
    ]);
    let run = strata(p.path(), &["push", "--db-url", &db.url, "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["command"], "push");
    let applied: Vec<&str> = v["result"]["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["1", "2"]);
    assert_eq!(v["result"]["dry_run"], false);
    assert_eq!(db.versions(), ["1", "2"]);

    write(
        p.path(),
        "migrations/3_create_c.sql",
        "create table c (id int);\n",
    );
    let run = strata(
        p.path(),
        &["migration", "list", "--db-url", &db.url, "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["command"], "migration list");
    let states: Vec<(&str, &str)> = v["result"]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["version"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [("1", "applied"), ("2", "applied"), ("3", "pending")]
    );
    assert_eq!(v["result"]["problems"], serde_json::json!([]));

    let run = strata(
        p.path(),
        &["push", "--dry-run", "--db-url", &db.url, "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["result"]["dry_run"], true);
    assert_eq!(v["result"]["planned"].as_array().unwrap().len(), 1);
    assert!(!db.table_exists("c"));

    // Human output: the result on stdout.
    let run = strata(p.path(), &["push", "--db-url", &db.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Applied 1 migration(s)"), "{run:?}");
    assert!(db.table_exists("c"));
}

#[test]
fn failed_migration_exits_6_with_its_location() {
    let db = TestDb::new("fail6");
    let p = project(&[
        ("1_ok.sql", "create table ok1 (id int);\n"),
        (
            "2_bad.sql",
            "create table f1 (id int);\ncreate table f2 (id int);\nselect nosuchcol from f1;\n",
        ),
    ]);
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert_eq!(run.code, 6, "{run:?}");
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["command"], "push");
    assert_eq!(v["error"]["kind"], "migration_failed");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("2_bad.sql:3:8"), "{message}");
    assert_eq!(v["error"]["details"]["line"], 3);
    assert_eq!(v["error"]["details"]["column"], 8);
    assert_eq!(v["error"]["details"]["sqlstate"], "42703");
    assert_eq!(db.versions(), ["1"]);
    assert!(!db.table_exists("f1"));

    // Human: rustc-style location on stderr.
    let run = strata(p.path(), &["push", "--db-url", &db.url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("2_bad.sql:3:8"), "{run:?}");
    assert!(run.stderr.contains("SQLSTATE 42703"), "{run:?}");
    assert!(run.stderr.contains("rolled back"), "{run:?}");
}

/// With the checksum cache warm (`.strata/checksums-*`), an applied file edited to the same size
/// with its modification time put back is still found modified, and shown with its diff; a new
/// file is pushed; nothing is read that did not need to be.
#[test]
fn a_warm_checksum_cache_still_finds_every_edit() {
    let db = TestDb::new("cache");
    let p = project(&[
        ("1_a.sql", "create table a (id int);\n"),
        ("2_b.sql", "create table b (id int);\n"),
    ]);
    assert_eq!(
        strata(p.path(), &["push", "--db-url", &db.url, "-q"]).code,
        0
    );
    // Once the files are older than the racy window, a no-op push caches them; the next one
    // reads none of them.
    std::thread::sleep(Duration::from_millis(2300));
    for _ in 0..2 {
        let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.json()["result"]["already_applied"], 2);
    }
    let caches: Vec<_> = std::fs::read_dir(p.path().join(".strata"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("checksums-"))
        .collect();
    assert_eq!(
        caches.len(),
        1,
        "one cache for the one migrations directory"
    );
    let list = strata(
        p.path(),
        &["migration", "list", "--db-url", &db.url, "-o", "json"],
    );
    assert_eq!(list.code, 0, "{list:?}");

    let path = p.path().join("migrations/2_b.sql");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::fs::write(&path, "create table c (id int);\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_times(std::fs::FileTimes::new().set_modified(mtime))
        .unwrap();
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert_eq!(
        run.json()["error"]["details"]["problems"][0]["kind"],
        "modified"
    );
    assert_eq!(
        run.json()["error"]["details"]["problems"][0]["version"],
        "2"
    );
    let run = strata(p.path(), &["push", "--db-url", &db.url]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(run.stderr.contains("+create table c (id int)"), "{run:?}");
    let list = strata(
        p.path(),
        &["migration", "list", "--db-url", &db.url, "-o", "json"],
    );
    assert_eq!(
        list.json()["result"]["problems"][0]["kind"],
        "modified",
        "{list:?}"
    );

    // Put back, plus a new file: the new one is applied with its text.
    std::fs::write(&path, "create table b (id int);\n").unwrap();
    write(
        p.path(),
        "migrations/3_c.sql",
        "create table c3 (id int);\n",
    );
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(db.table_exists("public.c3"));
    assert_eq!(db.versions(), ["1", "2", "3"]);
}

#[test]
fn refused_push_exits_7() {
    let db = TestDb::new("refused7");
    let p = project(&[("1_a.sql", "create table a (id int);\n")]);
    assert_eq!(
        strata(p.path(), &["push", "--db-url", &db.url, "-q"]).code,
        0
    );
    write(
        p.path(),
        "migrations/1_a.sql",
        "create table a (id bigint);\n",
    );
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert_eq!(run.code, 7, "{run:?}");
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["kind"], "refused");
    assert_eq!(v["error"]["details"]["problems"][0]["kind"], "modified");
    assert_eq!(v["error"]["details"]["problems"][0]["version"], "1");
    let run = strata(p.path(), &["push", "--db-url", &db.url]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains("+create table a (id bigint)"),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// secrets, URLs, configuration
// ---------------------------------------------------------------------------------------------

#[test]
fn password_never_appears_in_any_output() {
    let p = project(&[("1_a.sql", "create table a (id int);\n")]);
    let urls = [
        "postgresql://u:SECRETPW@127.0.0.1:1/db",
        "postgres://u:SECRETPW%40x@127.0.0.1:1/db?sslmode=disable",
        "postgresql://u@127.0.0.1:1/db?password=SECRETPW",
        "host=127.0.0.1 port=1 user=u password=SECRETPW dbname=db",
    ];
    for url in urls {
        for command in [
            &["push"][..],
            &["migration", "list"][..],
            &["push", "--dry-run"][..],
        ] {
            for output in ["human", "json"] {
                let mut args = command.to_vec();
                args.extend(["--db-url", url, "--output", output]);
                let run = strata(p.path(), &args);
                assert_ne!(run.code, 0, "{args:?}: {run:?}");
                assert!(
                    !run.all().contains("SECRETPW"),
                    "{args:?} leaked the password: {run:?}"
                );
                assert!(
                    run.all().contains("127.0.0.1"),
                    "{args:?} does not name the host: {run:?}"
                );
                if output == "json" {
                    let v = run.json();
                    assert_eq!(v["ok"], false);
                    assert_eq!(v["error"]["kind"], "connect", "{v}");
                }
            }
        }
    }
    // And through the environment variable.
    let run = {
        let mut c = command(p.path(), &["push", "-o", "json"]);
        c.env("STRATA_DB_URL", "postgresql://u:SECRETPW@127.0.0.1:1/db");
        let out = c.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    assert_ne!(run.code, 0);
    assert!(!run.all().contains("SECRETPW"), "{run:?}");
}

#[test]
fn malformed_url_is_a_usage_error_without_the_password() {
    let p = project(&[("1_a.sql", "create table a (id int);\n")]);
    for url in [
        "postgresql://u:SECRETPW@127.0.0.1:notaport/db",
        "postgresql://u:SECRETPW@127.0.0.1/db?sslmode=bogus",
    ] {
        let run = strata(p.path(), &["push", "--db-url", url, "-o", "json"]);
        assert_eq!(run.code, 2, "{url}: {run:?}");
        assert!(!run.all().contains("SECRETPW"), "{run:?}");
        let v = run.json();
        assert_eq!(v["ok"], false);
        assert_eq!(v["error"]["kind"], "setting", "{v}");
        let run = strata(p.path(), &["push", "--db-url", url]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(!run.all().contains("SECRETPW"), "{run:?}");
    }
}

#[test]
fn unknown_environment_names_it_and_the_known_ones() {
    let p = project(&[("1_a.sql", "create table a (id int);\n")]);
    write(
        p.path(),
        "strata.toml",
        "[environments.production]\nurl = \"postgresql://u:SECRETPW@127.0.0.1:1/db\"\n",
    );
    let run = strata(p.path(), &["push", "--env", "staging", "-o", "json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "setting");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("staging"),
        "{v}"
    );
    assert!(
        v["error"]["hint"].as_str().unwrap().contains("production"),
        "{v}"
    );
    let run = strata(p.path(), &["push", "--env", "staging"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("staging") && run.stderr.contains("production"),
        "{run:?}"
    );
    assert!(!run.all().contains("SECRETPW"));

    // The known one resolves (and fails to connect, without the password).
    let run = strata(p.path(), &["push", "--env", "production"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!run.all().contains("SECRETPW"), "{run:?}");
}

#[test]
fn unknown_key_in_strata_toml_names_file_and_line() {
    let p = project(&[("1_a.sql", "create table a (id int);\n")]);
    write(
        p.path(),
        "strata.toml",
        "migrations_dir = \"migrations\"\nlock_wait = \"5s\"\nbogus_key = true\n",
    );
    let run = strata(p.path(), &["push", "--db-url", NOWHERE, "-o", "json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "config");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("strata.toml:3:"), "{message}");
    assert!(message.contains("bogus_key"), "{message}");
    assert_eq!(v["error"]["details"]["line"], 3);
    let run = strata(p.path(), &["push", "--db-url", NOWHERE]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("strata.toml:3:"), "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// source files
// ---------------------------------------------------------------------------------------------

#[test]
fn duplicate_versions_name_both_files() {
    let p = project(&[
        ("1_a.sql", "create table a (id int);\n"),
        ("01_b.sql", "create table b (id int);\n"),
    ]);
    let run = strata(p.path(), &["push", "--db-url", NOWHERE, "-o", "json"]);
    assert_ne!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "duplicate_version");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("1_a.sql") && m.contains("01_b.sql"), "{m}");
    let run = strata(p.path(), &["push", "--db-url", NOWHERE]);
    assert!(
        run.stderr.contains("1_a.sql") && run.stderr.contains("01_b.sql"),
        "{run:?}"
    );
}

#[test]
fn orphan_rollback_is_an_error() {
    let p = project(&[
        ("1_a.sql", "create table a (id int);\n"),
        ("1_a_rollback.sql", "drop table a;\n"),
        ("2_x_rollback.sql", "drop table x;\n"),
    ]);
    let run = strata(p.path(), &["push", "--db-url", NOWHERE, "-o", "json"]);
    assert_ne!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "orphan_rollback");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("2_x_rollback.sql") && m.contains("2_x.sql"),
        "{m}"
    );
}

#[test]
fn unversioned_file_needs_legacy_order_then_is_version_001() {
    let db = TestDb::new("legacy");
    let p = project(&[
        ("projects.sql", "create table projects (id int);\n"),
        (
            "20240101000000_add_x.sql",
            "alter table projects add column x int;\n",
        ),
    ]);
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert_ne!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "unversioned_files");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("projects.sql"),
        "{v}"
    );
    assert!(
        v["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("legacy_order"),
        "{v}"
    );
    assert!(db.versions().is_empty());

    write(
        p.path(),
        "strata.toml",
        "legacy_order = [\"projects.sql\"]\n",
    );
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(db.versions(), ["001", "20240101000000"]);
    assert_eq!(
        strings(
            &db.url,
            "select name from supabase_migrations.schema_migrations where version = '001'"
        ),
        ["projects"]
    );
    assert!(db.table_exists("projects"));
}

#[test]
fn non_utf8_files_are_named_and_empty_files_apply() {
    let db = TestDb::new("badfiles");
    // Not UTF-8: found when the directory is read.
    let p = project(&[("1_ok.sql", "create table ok1 (id int);\n")]);
    std::fs::write(
        p.path().join("migrations/2_latin1.sql"),
        b"create table caf\xe9 (id int);\n",
    )
    .unwrap();
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert_ne!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "source_file", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("2_latin1.sql") && m.contains("UTF-8"), "{m}");
    assert!(m.contains("line 1, column 17"), "{m}");
    assert!(db.versions().is_empty());

    // Empty and comment-only files are migrations that do nothing, as for the Supabase CLI
    // (its `migration new` writes an empty file, Strata's a comment-only one): they apply and are
    // recorded, `{}` or their comments as statements.
    std::fs::remove_file(p.path().join("migrations/2_latin1.sql")).unwrap();
    write(p.path(), "migrations/2_empty.sql", "");
    write(p.path(), "migrations/3_comments.sql", "-- nothing yet\n");
    let run = strata(p.path(), &["push", "--db-url", &db.url, "--no-lint"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(db.versions(), ["1", "2", "3"]);
    assert_eq!(
        strings(
            &db.url,
            "select coalesce(array_to_string(statements, '|'), 'NULL') from supabase_migrations.schema_migrations order by version::int"
        ),
        ["create table ok1 (id int)", "", "-- nothing yet"]
    );
    // Lint agrees: nothing to report about them.
    let run = strata(
        p.path(),
        &[
            "lint",
            "migrations/2_empty.sql",
            "migrations/3_comments.sql",
        ],
    );
    assert!(!run.stdout.contains("error["), "{run:?}");
}

#[test]
fn psql_meta_command_is_an_error_at_its_line() {
    let db = TestDb::new("meta");
    let p = project(&[
        ("1_ok.sql", "create table ok1 (id int);\n"),
        ("2_meta.sql", "create table m (id int);\n\\i x.sql\n"),
    ]);
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert_ne!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "scan", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("2_meta.sql:2:1"), "{m}");
    assert!(m.contains("\\i"), "{m}");
    assert_eq!(v["error"]["details"]["line"], 2);
    assert!(db.versions().is_empty());
    assert!(!db.table_exists("ok1"));
    let run = strata(p.path(), &["push", "--db-url", &db.url]);
    assert!(run.stderr.contains("2_meta.sql:2:1"), "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// migration new
// ---------------------------------------------------------------------------------------------

fn is_new_file(name: &str, suffix: &str) -> bool {
    name.len() == 14 + suffix.len()
        && name[..14].bytes().all(|b| b.is_ascii_digit())
        && name.ends_with(suffix)
}

#[test]
fn migration_new_writes_migration_and_rollback_with_the_header() {
    let p = project(&[]);
    let run = strata(
        p.path(),
        &["migration", "new", "add_user_settings", "--rollback"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("warning"), "{run:?}");
    let mut names: Vec<String> = std::fs::read_dir(p.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        is_new_file(&names[0], "_add_user_settings.sql"),
        "{names:?}"
    );
    assert!(
        is_new_file(&names[1], "_add_user_settings_rollback.sql"),
        "{names:?}"
    );
    assert_eq!(names[0][..14], names[1][..14]);
    let up = std::fs::read_to_string(p.path().join("migrations").join(&names[0])).unwrap();
    let down = std::fs::read_to_string(p.path().join("migrations").join(&names[1])).unwrap();
    assert!(
        up.starts_with("-- Description: add user settings\n-- Author: "),
        "{up}"
    );
    assert!(up.contains("-- Date: 20"), "{up}");
    assert!(up.contains("UP MIGRATION"), "{up}");
    assert!(
        down.starts_with("-- Description: Roll back: add user settings\n"),
        "{down}"
    );
    assert!(down.contains("DOWN MIGRATION"), "{down}");
    for name in &names {
        assert!(run.stdout.contains(name.as_str()), "{run:?}");
    }
}

#[test]
fn in_a_supabase_project_rollbacks_go_where_the_supabase_cli_does_not_look() {
    let p = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(p.path().join("supabase/migrations")).unwrap();
    let run = strata(
        p.path(),
        &["migration", "new", "add_x", "--rollback", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    let up = v["result"]["path"].as_str().unwrap();
    let down = v["result"]["rollback"].as_str().unwrap();
    assert!(up.contains("supabase/migrations/"), "{up}");
    assert!(down.contains("supabase/rollbacks/"), "{down}");
    assert!(Path::new(down).is_file());
    // A rollback file left in supabase/migrations is paired, with a warning saying why not there.
    let name = Path::new(down).file_name().unwrap().to_owned();
    std::fs::rename(down, p.path().join("supabase/migrations").join(&name)).unwrap();
    write(p.path(), "supabase/migrations/notes.txt", "x");
    let run = strata(p.path(), &["lint", "-o", "json"]);
    let v = run.json();
    assert_eq!(
        v["result"]["skipped"][0]["path"]
            .as_str()
            .map(|s| s.ends_with("notes.txt")),
        Some(true),
        "{v}"
    );
    assert!(
        v["result"]["notes"][0]["note"]
            .as_str()
            .unwrap()
            .contains("supabase/rollbacks"),
        "{v}"
    );
    let run = strata(p.path(), &["lint"]);
    assert!(run.stderr.contains("warning: skipping"), "{run:?}");
    assert!(run.stderr.contains("notes.txt"), "{run:?}");
}

#[test]
fn migration_new_warns_about_the_naming_convention() {
    let p = project(&[]);
    let run = strata(p.path(), &["migration", "new", "usersettings"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("warning"), "{run:?}");
    assert!(run.stderr.contains("[action]_[subject]"), "{run:?}");
    let names: Vec<String> = std::fs::read_dir(p.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1);
    assert!(is_new_file(&names[0], "_usersettings.sql"), "{names:?}");

    let run = strata(
        p.path(),
        &["migration", "new", "user_settings2", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert!(
        v["result"]["warning"]
            .as_str()
            .unwrap()
            .contains("convention"),
        "{v}"
    );

    let run = strata(p.path(), &["migration", "new", "Add-Settings"]);
    assert_eq!(run.code, 2, "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// kill -9
// ---------------------------------------------------------------------------------------------

/// Versions recorded and `t_N` tables present, as numbers.
fn recorded_and_tables(db: &TestDb) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mut recorded: Vec<u32> = db.versions().iter().map(|v| v.parse().unwrap()).collect();
    recorded.sort();
    let mut side: Vec<u32> = if recorded.is_empty() {
        Vec::new()
    } else {
        strings(
            &db.url,
            "select version from supabase_migrations.strata_history",
        )
        .iter()
        .map(|v| v.parse().unwrap())
        .collect()
    };
    side.sort();
    let mut tables: Vec<u32> = strings(
        &db.url,
        "select tablename::text from pg_tables where schemaname = 'public' and tablename like 't\\_%'",
    )
    .iter()
    .map(|t| t[2..].parse().unwrap())
    .collect();
    tables.sort();
    (recorded, side, tables)
}

/// Waits until no other session is connected to the database (the killed run's backend has
/// finished whatever it was doing).
fn wait_for_sessions_to_end(db: &TestDb) {
    let start = Instant::now();
    loop {
        let n = strings(
            &db.url,
            &format!(
                "select count(*)::text from pg_stat_activity where datname = '{}' and pid <> pg_backend_pid()",
                db.name
            ),
        );
        if n == ["0"] {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the killed run's session did not end"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn push_killed_with_sigkill_leaves_history_and_schema_consistent() {
    let db = TestDb::new("kill9");
    let files: Vec<(String, String)> = (1..=200)
        .map(|i| {
            (
                format!("{i:03}_create_t_{i}.sql"),
                format!(
                    "create table t_{i} (id int primary key, note text);\n\
                     insert into t_{i} select g, 'row ' || g from generate_series(1, 50) g;\n\
                     create index on t_{i} (note);\n"
                ),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = project(&refs);
    let dir = p.path().join("migrations");
    let dir = dir.to_str().unwrap();

    // A small LCG seeded from the clock: the delays differ from run to run (printed on failure).
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    eprintln!("kill -9 seed: {seed}");
    let mut next = move |lo: u64, hi: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (seed >> 33) % (hi - lo + 1)
    };
    let ranges = [(5, 20), (20, 60), (60, 110), (110, 160), (160, 200)];
    let mut progress = Vec::new();
    for (lo, hi) in ranges {
        let delay = next(lo, hi);
        let mut child = command(
            p.path(),
            &["push", "--db-url", &db.url, "--dir", dir, "--quiet"],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn strata push");
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        wait_for_sessions_to_end(&db);
        let (recorded, side, tables) = recorded_and_tables(&db);
        progress.push((delay, recorded.len(), status.code()));
        assert_eq!(
            recorded, tables,
            "after SIGKILL at {delay} ms: recorded versions and t_N tables differ"
        );
        assert_eq!(
            recorded, side,
            "after SIGKILL at {delay} ms: strata_history differs"
        );
        // Applied in order: a prefix of 1..=200.
        assert_eq!(recorded, (1..=recorded.len() as u32).collect::<Vec<_>>());
    }
    eprintln!("kill -9 progress (delay ms, applied, exit): {progress:?}");

    let run = strata(
        p.path(),
        &["push", "--db-url", &db.url, "--dir", dir, "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let (recorded, side, tables) = recorded_and_tables(&db);
    assert_eq!(recorded, (1..=200).collect::<Vec<_>>());
    assert_eq!(side, recorded);
    assert_eq!(tables, recorded);
}

#[test]
fn password_is_redacted_on_success_too() {
    // With trust authentication the server ignores the password, so the run succeeds and every
    // line that shows the target must redact it.
    let db = TestDb::new("redact");
    let Some(url) = db
        .url
        .strip_prefix("postgresql://postgres@")
        .map(|rest| format!("postgresql://postgres:SECRETPW@{rest}"))
    else {
        eprintln!("skipping: the test server URL has no plain user to add a password to");
        return;
    };
    let p = project(&[
        ("1_a.sql", "create table a (id int);\n"),
        ("2_b.sql", "create table b (id int);\nselect nope from b;\n"),
    ]);
    let probe = strata(
        p.path(),
        &["migration", "list", "--db-url", &url, "-o", "json"],
    );
    if probe.code != 0 {
        eprintln!("skipping: the server does not accept an arbitrary password: {probe:?}");
        return;
    }
    assert!(!probe.all().contains("SECRETPW"), "{probe:?}");
    assert!(probe.json()["result"]["target"]
        .as_str()
        .unwrap()
        .contains("****"));
    for args in [
        &["push", "--dry-run"][..],
        &["push"][..],
        &["migration", "list"][..],
    ] {
        for output in ["human", "json"] {
            let mut a = args.to_vec();
            a.extend(["--db-url", url.as_str(), "-o", output]);
            let run = strata(p.path(), &a);
            assert!(
                !run.all().contains("SECRETPW"),
                "{a:?} leaked the password: {run:?}"
            );
        }
    }
}

#[test]
fn usage_errors_are_json_in_json_mode() {
    let p = project(&[]);
    let run = strata(p.path(), &["push", "--bogus", "-o", "json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let v = run.json();
    assert_eq!(v["ok"], false);
}

// ---------------------------------------------------------------------------------------------
// rollback, backup, restore
// ---------------------------------------------------------------------------------------------

#[test]
fn rollback_dry_run_to_version_refusals_and_failures() {
    let db = TestDb::new("rollback");
    let p = project(&[
        ("1_a.sql", "create table a (id int);\n"),
        ("1_a_rollback.sql", "drop table a;\n"),
        ("2_b.sql", "create table b (id int);\n"),
        ("2_b_rollback.sql", "drop table b;\n"),
        ("3_c.sql", "create table c (id int);\n"),
        ("3_c_rollback.sql", "drop table c;\n"),
    ]);
    assert_eq!(strata(p.path(), &["push", "--db-url", &db.url]).code, 0);

    // Dry run: the SQL per round trip, nothing changed.
    let run = strata(
        p.path(),
        &[
            "rollback",
            "--last",
            "2",
            "--dry-run",
            "--db-url",
            &db.url,
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["command"], "rollback");
    assert_eq!(v["result"]["dry_run"], true);
    let planned = v["result"]["planned"].as_array().unwrap();
    assert_eq!(planned[0]["version"], "3");
    assert_eq!(planned[1]["version"], "2");
    assert!(planned[0]["sql"][0]
        .as_str()
        .unwrap()
        .contains("drop table c;"));
    assert_eq!(v["result"]["newest_applied"], "1");
    assert_eq!(db.versions(), ["1", "2", "3"]);
    let human = strata(p.path(), &["rollback", "--dry-run", "--db-url", &db.url]);
    assert!(
        human
            .stdout
            .contains("Dry run: 1 migration(s) would be rolled back"),
        "{human:?}"
    );
    assert!(human
        .stdout
        .contains("DELETE FROM supabase_migrations.schema_migrations WHERE version = '3';"));

    // Usage errors: --last 0, both selections, a version that is not digits.
    for args in [
        &["rollback", "--last", "0"][..],
        &["rollback", "--last", "1", "--to", "1"],
        &["rollback", "--to", "v1", "--db-url", &db.url],
    ] {
        let run = strata(p.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
    }

    // A missing rollback file refuses with exit 7, naming the file expected.
    std::fs::remove_file(p.path().join("migrations/2_b_rollback.sql")).unwrap();
    let run = strata(
        p.path(),
        &["rollback", "--to", "1", "--db-url", &db.url, "-o", "json"],
    );
    assert_eq!(run.code, 7, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "rollback_refused");
    let problem = &v["error"]["details"]["problems"][0];
    assert_eq!(problem["version"], "2");
    assert!(problem["file"]
        .as_str()
        .unwrap()
        .ends_with("migrations/2_b_rollback.sql"));
    assert_eq!(db.versions(), ["1", "2", "3"]);
    let human = strata(p.path(), &["rollback", "--to", "1", "--db-url", &db.url]);
    assert!(
        human
            .stderr
            .contains("refusing to roll back; nothing was changed"),
        "{human:?}"
    );

    // A failing rollback file: exit 6 at its line and column; that migration stays applied.
    write(
        p.path(),
        "migrations/2_b_rollback.sql",
        "-- undo\nselect nosuch from b;\n",
    );
    let run = strata(p.path(), &["rollback", "--to", "1", "--db-url", &db.url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("2_b_rollback.sql:2:8"), "{run:?}");
    assert!(run.stderr.contains("migration 2 stays applied"), "{run:?}");
    assert_eq!(db.versions(), ["1", "2"]);
    assert!(!db.table_exists("c") && db.table_exists("b"));

    write(p.path(), "migrations/2_b_rollback.sql", "drop table b;\n");
    let run = strata(
        p.path(),
        &["rollback", "--to", "1", "--db-url", &db.url, "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["result"]["reverted"][0]["version"], "2");
    assert_eq!(db.versions(), ["1"]);

    // --to a version that is not applied: a usage error naming it.
    let run = strata(p.path(), &["rollback", "--to", "3", "--db-url", &db.url]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("version 3 is not applied"), "{run:?}");
}

#[test]
fn push_backup_then_restore_gives_back_the_data_and_never_prompts_under_ci() {
    let db = TestDb::new("backup");
    // A password in the URL (the test server trusts it away): it must never be printed.
    let url = db.url.replacen("postgres@", "postgres:Sup3rSecretPw@", 1);
    assert!(
        url.contains("Sup3rSecretPw"),
        "test URL has the user postgres: {url}"
    );
    let p = project(&[(
        "1_notes.sql",
        "create table notes (id int primary key, body text);\ninsert into notes select g, 'n' || g from generate_series(1, 100) g;\n",
    )]);
    write(
        p.path(),
        "strata.toml",
        &format!("[environments.prod]\nurl = \"{url}\"\nbackup = true\n"),
    );
    // backup = true: the first push has something to apply, so it is backed up first.
    let run = strata(
        p.path(),
        &["push", "--env", "prod", "--platform", "none", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let first = run.json()["result"]["backup"]["file"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        first.contains(".strata/backups/") && first.ends_with("+before-1.dump"),
        "{first}"
    );
    // Nothing to apply: no backup.
    let run = strata(
        p.path(),
        &["push", "--env", "prod", "--platform", "none", "-o", "json"],
    );
    assert_eq!(run.json()["result"]["backup"], Value::Null, "{run:?}");

    write(p.path(), "migrations/2_drop.sql", "drop table notes;\n");
    let run = strata(
        p.path(),
        &["push", "--backup", "--db-url", &url, "--platform", "none"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Backup: ") && run.stdout.contains("+before-2.dump"),
        "{run:?}"
    );
    assert!(!run.all().contains("Sup3rSecretPw"), "{run:?}");
    assert!(!db.table_exists("notes"));
    let backups: Vec<_> = std::fs::read_dir(p.path().join(".strata/backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("+before-2.dump"))
        .collect();
    assert_eq!(backups.len(), 1);
    let file = backups[0].to_str().unwrap();

    // Under CI, no prompt: refused without --yes (exit 7), nothing changed.
    let out = command(p.path(), &["restore", file, "--db-url", &url, "-o", "json"])
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "confirmation_required");
    assert!(v["error"]["hint"].as_str().unwrap().contains("ALL data"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Sup3rSecretPw"));
    assert!(!db.table_exists("notes"));

    let out = command(p.path(), &["restore", file, "--yes", "--db-url", &url])
        .env("CI", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ALL data"), "{stderr}");
    assert!(
        stderr.contains("2 were applied after the backup")
            || stderr.contains("migration(s) 2 were applied after the backup"),
        "{stderr}"
    );
    assert!(!stderr.contains("Sup3rSecretPw"));
    assert_eq!(
        strings(&db.url, "select count(*)::text from notes"),
        ["100"]
    );
    assert_eq!(db.versions(), ["1"]);

    // On-demand backup to a chosen file.
    let chosen = p.path().join("manual.dump");
    let run = strata(
        p.path(),
        &[
            "backup",
            "--output-file",
            chosen.to_str().unwrap(),
            "--db-url",
            &url,
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(chosen.is_file());
    assert!(run.json()["result"]["bytes"].as_u64().unwrap() > 0);
    assert!(!run.stdout.contains("Sup3rSecretPw"));
}

#[test]
fn a_pg_dump_older_than_the_server_is_a_clear_error() {
    let db = TestDb::new("olddump");
    let p = project(&[("1_t.sql", "create table t (id int);\n")]);
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("pg_dump");
    std::fs::write(
        &fake,
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 9.6.24'; exit 0; fi\necho ran >&2; exit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = command(p.path(), &["backup", "--db-url", &db.url, "-o", "json"])
        .env("STRATA_PG_BINDIR", bin.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "tool");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("version 9.6.24")
            && message.contains("older than the target server (PostgreSQL 1"),
        "{message}"
    );
    let hint = v["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("postgresql-client-") && hint.contains("STRATA_PG_BINDIR"),
        "{hint}"
    );
    assert!(!p.path().join(".strata/backups").exists());

    // push --backup stops before applying anything when the backup cannot be taken.
    let out = command(p.path(), &["push", "--backup", "--db-url", &db.url])
        .env("STRATA_PG_BINDIR", bin.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("older than the target server"));
    assert!(db.versions().is_empty());
    assert!(!db.table_exists("t"));
}

#[test]
fn rollback_backup_and_restore_help_teach_with_examples() {
    let p = project(&[]);
    for cmd in ["rollback", "backup", "restore"] {
        let run = strata(p.path(), &[cmd, "--help"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("Examples:"), "{cmd}: {run:?}");
    }
    assert!(strata(p.path(), &["restore", "--help"])
        .stdout
        .contains("ALL data"));
}

/// On a terminal (util-linux `script` gives the command one), restore asks for the database name
/// and restores only when it is typed exactly.
#[cfg(target_os = "linux")]
#[test]
fn restore_on_a_terminal_asks_for_the_database_name() {
    use std::io::Write;
    let db = TestDb::new("prompt");
    let p = project(&[(
        "1_t.sql",
        "create table t (id int);\ninsert into t values (1), (2);\n",
    )]);
    assert_eq!(strata(p.path(), &["push", "--db-url", &db.url]).code, 0);
    let file = p.path().join("t.dump");
    let run = strata(
        p.path(),
        &[
            "backup",
            "--output-file",
            file.to_str().unwrap(),
            "--db-url",
            &db.url,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    exec(&db.url, "delete from t");

    let on_terminal = |answer: &str| {
        let cmdline = format!(
            "{} restore {} --db-url '{}'",
            env!("CARGO_BIN_EXE_strata"),
            file.display(),
            db.url
        );
        let mut child = Command::new("script")
            .args(["-qec", &cmdline, "/dev/null"])
            .current_dir(p.path())
            .env_remove("CI")
            .env_remove("STRATA_DB_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("util-linux `script` runs the command on a pseudo-terminal");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{answer}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = on_terminal("not-the-name");
    assert_eq!(code, Some(7), "{text}");
    assert!(
        text.contains(&format!("Type the database name ({})", db.name)),
        "{text}"
    );
    assert!(text.contains("ALL data"), "{text}");
    assert_eq!(strings(&db.url, "select count(*)::text from t"), ["0"]);

    let (code, text) = on_terminal(&db.name);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(strings(&db.url, "select count(*)::text from t"), ["2"]);
}

// ---------------------------------------------------------------------------------------------
// strata diff and --check-drift
// ---------------------------------------------------------------------------------------------

/// `strata` with scratch databases on the test server.
fn strata_scratch(cwd: &Path, args: &[&str]) -> Run {
    let out = command(cwd, args)
        .env("STRATA_SCRATCH_URL", admin_url())
        .output()
        .expect("run strata");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const DIFF_BASE: &str = "create table public.notes (id int primary key, body text not null);\n\
     create index notes_body on public.notes (body);\n\
     alter table public.notes enable row level security;\n";

#[test]
fn diff_exits_4_on_drift_and_its_written_migration_closes_the_gap() {
    let db = TestDb::new("diff");
    let p = project(&[("1_create_notes.sql", DIFF_BASE)]);
    std::fs::create_dir(p.path().join("rollbacks")).unwrap();
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");

    // No drift: exit 0 and says so.
    let run = strata_scratch(p.path(), &["diff", "--db-url", &db.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("No drift"), "{run:?}");

    // An unknown schema is a usage error naming it, not "no drift".
    let run = strata_scratch(
        p.path(),
        &["diff", "--db-url", &db.url, "--schema", "Public"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("schema `Public`"), "{run:?}");

    // Changed by hand.
    exec(
        &db.url,
        "alter table public.notes add column pinned boolean default false not null;
         drop index public.notes_body;
         create policy own on public.notes for select using (true);
         comment on table public.notes is 'hand-made';",
    );
    let run = strata_scratch(p.path(), &["diff", "--db-url", &db.url]);
    assert_eq!(run.code, 4, "{run:?}");
    for expected in [
        "+ column public.notes.pinned (only in the target)",
        "- index public.notes_body (only in the migrations)",
        "+ policy public.notes.own (only in the target)",
        "ALTER TABLE public.notes ADD COLUMN IF NOT EXISTS pinned boolean DEFAULT false NOT NULL;",
        "CREATE INDEX IF NOT EXISTS notes_body ON public.notes USING btree (body);",
    ] {
        assert!(run.stdout.contains(expected), "{expected}\n{run:?}");
    }

    let run = strata_scratch(p.path(), &["diff", "--db-url", &db.url, "-o", "json"]);
    assert_eq!(run.code, 4, "{run:?}");
    let v = run.json();
    assert_eq!(v["command"], "diff");
    assert_eq!(v["ok"], false);
    assert_eq!(v["result"]["drift"], true);
    let kinds: Vec<(&str, &str, &str)> = v["result"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap(),
                d["name"].as_str().unwrap(),
                d["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("column", "public.notes.pinned", "only_in_target")),
        "{kinds:?}"
    );
    assert!(v["result"]["rollback_sql"]
        .as_str()
        .unwrap()
        .contains("DROP POLICY IF EXISTS own ON public.notes;"));

    // --write: lock-safe migrations and their rollbacks (in rollbacks/, where this project
    // keeps them): the transactional change, then the index dropped CONCURRENTLY in a file of
    // its own; proven, and passed through the lint gate.
    let run = strata_scratch(
        p.path(),
        &[
            "diff",
            "--db-url",
            &db.url,
            "--write",
            "sync_hand_changes",
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    let written: Vec<&str> = v["result"]["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(written.len(), 4, "{v}");
    assert!(written[0].contains("/migrations/") && written[0].ends_with("_sync_hand_changes.sql"));
    assert!(
        written[1].contains("/rollbacks/")
            && written[1].ends_with("_sync_hand_changes_rollback.sql")
    );
    assert!(written[2].ends_with("_sync_hand_changes_concurrently.sql"));
    let concurrently = std::fs::read_to_string(written[2]).unwrap();
    assert!(
        concurrently.contains("DROP INDEX CONCURRENTLY"),
        "{concurrently}"
    );
    assert_eq!(v["result"]["proof"]["converges"], true, "{v}");
    let text = std::fs::read_to_string(written[0]).unwrap();
    assert!(
        text.starts_with("-- Description: sync hand changes"),
        "{text}"
    );
    assert!(text.contains("ADD COLUMN IF NOT EXISTS pinned"), "{text}");
    // How to record it on the target, with the target's flags (password-free).
    let record = v["result"]["record_applied"].as_str().unwrap();
    assert!(
        record.contains("strata migration repair --status applied") && record.contains("--db-url"),
        "{record}"
    );

    // Pushing it to a database that has the same hand changes also works: the file only
    // creates what is missing.
    let twin = TestDb::new("diff_twin");
    let dir = p.path().join("migrations");
    let first = dir.join("1_create_notes.sql");
    let hold = tempfile::tempdir().unwrap();
    for (i, w) in written.iter().enumerate() {
        std::fs::rename(w, hold.path().join(i.to_string())).unwrap();
    }
    assert!(first.is_file());
    let run = strata(p.path(), &["push", "--db-url", &twin.url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    exec(
        &twin.url,
        "alter table public.notes add column pinned boolean default false not null;
         drop index public.notes_body;
         create policy own on public.notes for select using (true);
         comment on table public.notes is 'hand-made';",
    );
    for (i, w) in written.iter().enumerate() {
        std::fs::rename(hold.path().join(i.to_string()), w).unwrap();
    }
    let run = strata(p.path(), &["push", "--db-url", &twin.url]);
    assert_eq!(run.code, 0, "{run:?}");

    // The target has these changes already: record the new migrations as applied there; the
    // migrations now build exactly what the target has.
    let version = |w: &str| {
        Path::new(w)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .split('_')
            .next()
            .unwrap()
            .to_string()
    };
    let (v1, v2) = (version(written[0]), version(written[2]));
    assert!(record.contains(&format!("{v1} {v2}")), "{record}");
    let run = strata(
        p.path(),
        &[
            "migration",
            "repair",
            "--status",
            "applied",
            &v1,
            &v2,
            "--db-url",
            &db.url,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let run = strata_scratch(p.path(), &["diff", "--db-url", &db.url, "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["result"]["differences"], serde_json::json!([]));

    // Another database gets the new migration by push.
    let other = TestDb::new("diff_other");
    let run = strata(p.path(), &["push", "--db-url", &other.url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        strings(&other.url, "select string_agg(attname, ',' order by attnum) from pg_attribute where attrelid = 'public.notes'::regclass and attnum > 0"),
        ["id,body,pinned"]
    );
}

#[test]
fn check_drift_warns_before_push_and_list() {
    let db = TestDb::new("check_drift");
    let p = project(&[("1_create_notes.sql", DIFF_BASE)]);
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    exec(&db.url, "grant select on public.notes to pg_monitor");
    write(
        p.path(),
        "migrations/2_add_title.sql",
        "alter table public.notes add column title text;\n",
    );

    let run = strata_scratch(
        p.path(),
        &["migration", "list", "--check-drift", "--db-url", &db.url],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("warning:"), "{run:?}");
    assert!(run.stderr.contains("table public.notes"), "{run:?}");
    assert!(run.stderr.contains("pg_monitor:SELECT"), "{run:?}");

    // Pending migration 2 is not drift: only the applied one is built for the comparison.
    let run = strata_scratch(
        p.path(),
        &["push", "--check-drift", "--db-url", &db.url, "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    let warnings = v["result"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{v}");
    assert!(warnings[0].as_str().unwrap().contains("table public.notes"));
    assert_eq!(db.versions(), ["1", "2"]);

    // Without drift, no warning.
    exec(&db.url, "revoke select on public.notes from pg_monitor");
    let run = strata_scratch(
        p.path(),
        &[
            "migration",
            "list",
            "--check-drift",
            "--db-url",
            &db.url,
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["result"]["warnings"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------------
// strata verify
// ---------------------------------------------------------------------------------------------

#[test]
fn verify_exits_1_naming_the_migration_and_the_object_left_behind() {
    let p = project(&[
        ("1_create_notes.sql", DIFF_BASE),
        ("1_create_notes_rollback.sql", "drop table public.notes;\n"),
        (
            "2_add_policy.sql",
            "create policy own on public.notes for select using (true);\n",
        ),
        ("2_add_policy_rollback.sql", "select 1;\n"),
    ]);
    let run = strata_scratch(p.path(), &["verify"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("ASYMMETRIC")
            && run.stdout.contains("2_add_policy.sql")
            && run
                .stdout
                .contains("+ policy public.notes.own (left behind by the rollback)"),
        "{run:?}"
    );
    let run = strata_scratch(p.path(), &["verify", "-o", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = run.json();
    assert_eq!(v["command"], "verify");
    assert_eq!(v["ok"], false);
    assert_eq!(v["result"]["passed"], false);
    let m = &v["result"]["migrations"];
    assert_eq!(m[0]["outcome"], "reversible");
    assert_eq!(m[1]["outcome"], "asymmetric");
    assert_eq!(m[1]["differences"][0]["name"], "public.notes.own");

    // Fixed: exit 0.
    write(
        p.path(),
        "migrations/2_add_policy_rollback.sql",
        "drop policy own on public.notes;\n",
    );
    let run = strata_scratch(p.path(), &["verify"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Verified: 2 ok."), "{run:?}");
    // A migration without a rollback fails only with --require-rollbacks.
    write(
        p.path(),
        "migrations/3_add_title.sql",
        "alter table public.notes add column title text;\n",
    );
    assert_eq!(strata_scratch(p.path(), &["verify"]).code, 0);
    let run = strata_scratch(p.path(), &["verify", "--require-rollbacks"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("NO ROLLBACK"), "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// supabase/config.toml and seeds
// ---------------------------------------------------------------------------------------------

#[test]
fn config_toml_seeds_run_with_warnings_and_reseed_runs_them_again() {
    let db = TestDb::new("cfgseed");
    let p = tempfile::tempdir().unwrap();
    write(
        p.path(),
        "supabase/migrations/20240101000000_t.sql",
        "create table public.t (id int);\n",
    );
    write(
        p.path(),
        "supabase/seeds/a.sql",
        "insert into public.t values (1);\n",
    );
    write(
        p.path(),
        "supabase/config.toml",
        "[db.seed]\nsql_paths = [\"./seeds/*.sql\", \"./nothing/*.sql\"]\n",
    );
    let push = |extra: &[&str]| {
        let mut args = vec![
            "push",
            "--db-url",
            &db.url,
            "--platform",
            "none",
            "-o",
            "json",
        ];
        args.extend_from_slice(extra);
        strata(p.path(), &args)
    };
    let r = push(&["--include-seed"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.json()["result"]["seeds"][0]["path"],
        "supabase/seeds/a.sql",
        "{r:?}"
    );
    assert_eq!(r.json()["result"]["seeds"][0]["status"], "applied", "{r:?}");
    // The seed's notices are its own (none here).
    assert_eq!(
        r.json()["result"]["seeds"][0]["notices"],
        serde_json::json!([]),
        "{r:?}"
    );
    // The pattern that matches nothing is a warning, in the JSON document.
    assert!(
        r.json()["result"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("./nothing/*.sql"),
        "{r:?}"
    );
    let human = strata(
        p.path(),
        &[
            "push",
            "--db-url",
            &db.url,
            "--platform",
            "none",
            "--include-seed",
            "-q",
        ],
    );
    assert!(
        human.stderr.contains("warning:") && human.stderr.contains("./nothing/*.sql"),
        "{human:?}"
    );
    let r = push(&["--include-seed"]);
    assert_eq!(
        r.json()["result"]["seeds"][0]["status"],
        "unchanged",
        "{r:?}"
    );
    let r = push(&["--reseed"]);
    assert_eq!(
        r.json()["result"]["seeds"][0]["status"],
        "reapplied",
        "{r:?}"
    );
    assert_eq!(
        strings(&db.url, "select count(*)::text from public.t"),
        ["2"]
    );

    // A config.toml the Supabase CLI would refuse names its line; nothing is touched.
    write(
        p.path(),
        "supabase/config.toml",
        "[db.seed]\nenabled = \"yes\"\n",
    );
    let r = push(&["--include-seed"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.all().contains("config.toml:2:11"), "{r:?}");
}

#[test]
fn diff_says_when_the_scratch_build_fails_and_leaves_the_target_alone() {
    let db = TestDb::new("diff_scratch");
    let p = project(&[("1_create_notes.sql", DIFF_BASE)]);
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    // A migration that fails on a new database (it needs a table made by hand on the target).
    write(
        p.path(),
        "migrations/2_index_handmade.sql",
        "create index handmade_x on public.handmade (x);\n",
    );
    exec(&db.url, "create table public.handmade (x int);");
    let run = strata_scratch(p.path(), &["diff", "--db-url", &db.url]);
    assert_eq!(run.code, 8, "{run:?}");
    assert!(
        run.stderr.contains("scratch database")
            && run.stderr.contains("the target was not touched")
            && run.stderr.contains("2_index_handmade.sql:1")
            && !run.stderr.contains("stay applied"),
        "{run:?}"
    );
    let run = strata_scratch(p.path(), &["diff", "--db-url", &db.url, "-o", "json"]);
    assert_eq!(run.code, 8, "{run:?}");
    let e = &run.json()["error"];
    assert_eq!(e["kind"], "scratch_build_failed", "{e}");
    assert_eq!(e["details"]["target_touched"], false, "{e}");
    assert_eq!(e["details"]["error"]["kind"], "migration_failed", "{e}");
    // The target still has only the first migration.
    assert_eq!(db.versions(), ["1"]);
}

// ---------------------------------------------------------------------------------------------
// Switching from another tool
// ---------------------------------------------------------------------------------------------

#[test]
fn a_dbmate_project_through_the_binary() {
    let db = TestDb::new("cli_dbmate");
    let p = tempfile::tempdir().unwrap();
    write(
        p.path(),
        "db/migrations/20240101000000_create_a.sql",
        "-- migrate:up\ncreate table a (id int);\n\n-- migrate:down\ndrop table a;\n",
    );
    // dbmate ran the first migration.
    exec(
        &db.url,
        "create table a (id int);
         create table public.schema_migrations (version varchar(128) primary key);
         insert into public.schema_migrations values ('20240101000000');",
    );
    // New migrations come in dbmate's shape.
    let r = strata(p.path(), &["migration", "new", "create_b", "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let path = r.json()["result"]["path"].as_str().unwrap().to_string();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("-- migrate:up") && text.contains("-- migrate:down"),
        "{text}"
    );
    std::fs::write(
        &path,
        "-- migrate:up\ncreate table b (id int);\n\n-- migrate:down\ndrop table b;\n",
    )
    .unwrap();

    let r = strata(
        p.path(),
        &[
            "migration",
            "list",
            "--db-url",
            &db.url,
            "--platform",
            "none",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("[from dbmate (public.schema_migrations); copied on the next push]"),
        "{r:?}"
    );
    let r = strata(
        p.path(),
        &["push", "--db-url", &db.url, "--platform", "none"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("Adopted 1 version(s) applied by dbmate"),
        "{r:?}"
    );
    assert!(r.stdout.contains("Applied 1 migration(s)"), "{r:?}");
    // The down section is what `strata rollback` runs.
    let r = strata(
        p.path(),
        &["rollback", "--db-url", &db.url, "--platform", "none"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        strings(&db.url, "select (to_regclass('public.b') is null)::text"),
        ["true"]
    );
}

// ---------------------------------------------------------------------------------------------
// strata schema diff
// ---------------------------------------------------------------------------------------------

#[test]
fn schema_diff_exits_4_on_a_difference_and_its_proven_migration_closes_it() {
    let p = project(&[("20240101000000_create_notes.sql", DIFF_BASE)]);
    // No schema files yet: a usage error that says where they go.
    let run = strata_scratch(p.path(), &["schema", "diff"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no schema files"), "{run:?}");
    assert!(run.stderr.contains("schemas"), "{run:?}");

    write(p.path(), "schemas/10_notes.sql", DIFF_BASE);
    let run = strata_scratch(p.path(), &["schema", "diff"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("No difference"), "{run:?}");

    // A column renamed (with its hint), one added, and the table's RLS left as it was.
    write(
        p.path(),
        "schemas/10_notes.sql",
        "create table public.notes (\n  id int primary key,\n  content text not null, -- strata:renamed-from body\n  pinned boolean not null default false\n);\ncreate index notes_body on public.notes (content);\nalter table public.notes enable row level security;\n",
    );
    let run = strata_scratch(p.path(), &["schema", "diff", "-o", "json"]);
    assert_eq!(run.code, 4, "{run:?}");
    let v = run.json();
    assert_eq!(v["command"], "schema diff");
    assert_eq!(v["result"]["changed"], true);
    let sql = v["result"]["sql"].as_str().unwrap();
    assert!(
        sql.starts_with(
            "SET LOCAL lock_timeout = '5s';\nALTER TABLE public.notes RENAME COLUMN body TO content;"
        ),
        "{sql}"
    );
    // The generated change is linted: a rename of a column in use breaks running code, and
    // lint says so (the expand/contract path is in its fix).
    let rules: Vec<&str> = v["result"]["lint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["breaking-rename-column"], "{sql}");
    assert!(
        sql.contains("ADD COLUMN IF NOT EXISTS pinned boolean DEFAULT false NOT NULL"),
        "{sql}"
    );
    assert_eq!(v["result"]["data_loss"], serde_json::json!([]));

    // The push gate would refuse that file: --write refuses it first (exit 3), writing nothing.
    let run = strata_scratch(
        p.path(),
        &["schema", "diff", "--write", "add_pinned_to_notes"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("breaking-rename-column"), "{run:?}");
    assert!(run.stderr.contains("strata-lint: ignore"), "{run:?}");
    assert!(
        std::fs::read_dir(p.path().join("migrations"))
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().contains("pinned")),
        "nothing written"
    );
    // Consent, written next to the column, goes into the migration with the rename.
    write(
        p.path(),
        "schemas/10_notes.sql",
        "create table public.notes (\n  id int primary key,\n  -- strata-lint: ignore breaking-rename-column -- every client reads content since v2\n  content text not null, -- strata:renamed-from body\n  pinned boolean not null default false\n);\ncreate index notes_body on public.notes (content);\nalter table public.notes enable row level security;\n",
    );
    let run = strata_scratch(
        p.path(),
        &["schema", "diff", "--write", "add_pinned_to_notes"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Proven on a scratch database"),
        "{run:?}"
    );
    let migration = std::fs::read_dir(p.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_add_pinned_to_notes.sql"))
        .unwrap();
    let text = std::fs::read_to_string(&migration).unwrap();
    assert!(
        text.contains("-- strata-lint: ignore breaking-rename-column -- every client reads content since v2 (from ")
            && text.contains("RENAME COLUMN body TO content"),
        "{text}"
    );
    // The project's own lint agrees with the file Strata wrote.
    let run = strata(p.path(), &["lint"]);
    assert_eq!(run.code, 0, "{run:?}");
    let written: Vec<String> = std::fs::read_dir(p.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("add_pinned_to_notes"))
        .collect();
    assert_eq!(written.len(), 2, "migration and rollback: {written:?}");
    let run = strata_scratch(p.path(), &["schema", "diff"]);
    assert_eq!(run.code, 0, "the written migration closes the gap: {run:?}");

    // An index and a check on the table in use: lock-safe steps that lint clean.
    write(
        p.path(),
        "schemas/10_notes.sql",
        "create table public.notes (\n  id int primary key,\n  content text not null check (content <> ''),\n  pinned boolean not null default false\n);\ncreate index notes_body on public.notes (content);\ncreate index notes_pinned on public.notes (pinned);\nalter table public.notes enable row level security;\n",
    );
    let run = strata_scratch(p.path(), &["schema", "diff", "-o", "json"]);
    assert_eq!(run.code, 4, "{run:?}");
    let v = run.json();
    assert_eq!(v["result"]["steps"].as_array().unwrap().len(), 2, "{run:?}");
    assert_eq!(v["result"]["lint"], serde_json::json!([]), "{run:?}");
    let run = strata_scratch(
        p.path(),
        &["schema", "diff", "--write", "add_notes_pinned_index"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("CREATE INDEX CONCURRENTLY"), "{run:?}");

    // Dropping the table's column: refused without --allow-data-loss, nothing written.
    write(
        p.path(),
        "schemas/10_notes.sql",
        "create table public.notes (\n  id int primary key,\n  content text not null check (content <> '')\n);\ncreate index notes_body on public.notes (content);\nalter table public.notes enable row level security;\n",
    );
    let count = || {
        std::fs::read_dir(p.path().join("migrations"))
            .unwrap()
            .count()
    };
    let before = count();
    // With a database named: how much of what would be dropped is there (only read).
    let db = TestDb::new("schemarisk");
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    exec(
        &db.url,
        "insert into public.notes (id, content, pinned) values (1, 'a', true), (2, 'b', false)",
    );
    let run = strata_scratch(
        p.path(),
        &["schema", "diff", "-o", "json", "--db-url", &db.url],
    );
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(
        run.json()["result"]["data_at_risk"],
        serde_json::json!([{ "object": "column public.notes.pinned", "count": 2 }]),
        "{run:?}"
    );
    let run = strata_scratch(
        p.path(),
        &["schema", "diff", "--write", "drop_pinned_from_notes"],
    );
    assert_eq!(run.code, 7, "{run:?}");
    assert!(run.stderr.contains("column public.notes.pinned"), "{run:?}");
    assert!(run.stderr.contains("--allow-data-loss"), "{run:?}");
    assert_eq!(count(), before, "nothing written");
    let run = strata_scratch(
        p.path(),
        &[
            "schema",
            "diff",
            "--write",
            "drop_pinned_from_notes",
            "--allow-data-loss",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(count(), before + 2);
    let run = strata_scratch(p.path(), &["schema", "diff"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn schema_dump_writes_proven_files_that_diff_clean_and_keeps_existing_ones_without_force() {
    let p = project(&[("20240101000000_create_notes.sql", DIFF_BASE)]);
    let run = strata_scratch(p.path(), &["schema", "dump", "-o", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["command"], "schema dump");
    let written = v["result"]["written"].as_array().unwrap();
    assert!(
        written
            .iter()
            .any(|w| w.as_str().unwrap().ends_with("schemas/10_public.notes.sql")),
        "{written:?}"
    );
    let run = strata_scratch(p.path(), &["schema", "diff"]);
    assert_eq!(run.code, 0, "a fresh dump diffs clean: {run:?}");
    let run = strata_scratch(p.path(), &["schema", "dump"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--force"), "{run:?}");
    let run = strata_scratch(p.path(), &["schema", "dump", "--force"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn migration_squash_proves_writes_and_rewrites_the_named_database_history() {
    let db = TestDb::new("squashcli");
    let other = TestDb::new("squashother");
    let p = project(&[
        (
            "20240101000000_create_notes.sql",
            "create table public.notes (id int primary key, body text);\ninsert into public.notes values (1, 'hello');\n",
        ),
        (
            "20240102000000_add_pinned.sql",
            "alter table public.notes add column pinned boolean not null default false;\n",
        ),
        (
            "20240103000000_create_tags.sql",
            "create table public.tags (id int primary key);\n",
        ),
    ]);
    for d in [&db, &other] {
        let run = strata(p.path(), &["push", "--db-url", &d.url, "-q"]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let files = || {
        let mut f: Vec<String> = std::fs::read_dir(p.path().join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        f.sort();
        f
    };
    let before = files();
    // A dry run proves and shows, and changes nothing.
    let run = strata_scratch(
        p.path(),
        &["migration", "squash", "--to", "20240102000000", "--dry-run"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("public.notes (1)"), "{run:?}");
    assert_eq!(files(), before);

    let run = strata_scratch(
        p.path(),
        &[
            "migration",
            "squash",
            "--to",
            "20240102000000",
            "--db-url",
            &db.url,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        files(),
        [
            "20240102000000_baseline.sql",
            "20240102000000_baseline_rollback.sql",
            "20240103000000_create_tags.sql"
        ]
    );
    let run = strata(p.path(), &["push", "--db-url", &db.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Nothing to push"), "{run:?}");

    // The other database still records the squashed versions: its push refuses, until the
    // same command rewrites its history (the files are squashed already).
    let run = strata(p.path(), &["push", "--db-url", &other.url]);
    assert_eq!(run.code, 7, "{run:?}");
    let run = strata_scratch(
        p.path(),
        &[
            "migration",
            "squash",
            "--to",
            "20240102000000",
            "--db-url",
            &other.url,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let run = strata(p.path(), &["push", "--db-url", &other.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Nothing to push"), "{run:?}");
    // Without a database, squashed files are a usage error that says what to do.
    let run = strata_scratch(p.path(), &["migration", "squash", "--to", "20240102000000"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--db-url"), "{run:?}");
}
