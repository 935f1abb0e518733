//! `strata lint` and the lint check of `strata push`, through the built binary: exit codes,
//! the four formats, `--explain`, `--changed-since` in a real git repository, `[lint]`
//! configuration errors, and push refusing (changing nothing) or `--no-lint`.

use std::path::Path;
use std::process::Command;

mod common;

use common::*;

const HEADER: &str = "-- Description: test\n-- Author: tests\n-- Date: 2024-01-01\n";

fn clean() -> String {
    format!("{HEADER}CREATE TABLE IF NOT EXISTS a (id int);\n")
}

fn nested() -> String {
    format!("{HEADER}BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;\n")
}

#[test]
fn exit_codes_and_the_four_formats() {
    let p = project(&[("20240101000000_create_a.sql", &clean())]);
    let run = strata(p.path(), &["lint"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("no problems in 1 file"), "{run:?}");

    std::fs::write(
        p.path().join("migrations/20240102000000_update_a.sql"),
        format!("{}DROP INDEX old_a;\n", nested()),
    )
    .unwrap();
    // Human: rustc-style, the SQL underlined, a summary line; exit 3.
    let run = strata(p.path(), &["lint"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("error[nested-begin]"), "{run:?}");
    assert!(
        run.stdout
            .contains("--> migrations/20240102000000_update_a.sql:5:1"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("warning[drop-without-if-exists]"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("1 error, 3 warnings in 2 files"),
        "{run:?}"
    );

    // Warnings alone pass at the default fail-on, fail at --fail-on warning or via [lint].
    let run = strata(
        p.path(),
        &[
            "lint",
            "--fail-on",
            "warning",
            "migrations/20240101000000_create_a.sql",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    std::fs::write(
        p.path().join("migrations/20240102000000_update_a.sql"),
        format!("{HEADER}DROP INDEX old_a;\n"),
    )
    .unwrap();
    assert_eq!(strata(p.path(), &["lint"]).code, 0);
    assert_eq!(strata(p.path(), &["lint", "--fail-on", "warning"]).code, 3);
    std::fs::write(
        p.path().join("strata.toml"),
        "[lint]\nfail_on = \"warning\"\n",
    )
    .unwrap();
    assert_eq!(strata(p.path(), &["lint"]).code, 3);
    std::fs::write(
        p.path().join("strata.toml"),
        "[lint]\nrules = { \"drop-without-if-exists\" = \"error\" }\n",
    )
    .unwrap();
    let run = strata(p.path(), &["lint", "--format", "json"]);
    assert_eq!(run.code, 3, "{run:?}");
    let v = run.json();
    assert_eq!(v["command"], "lint");
    assert_eq!(v["ok"], false);
    let f = &v["result"]["findings"][0];
    assert_eq!(f["rule"], "drop-without-if-exists");
    assert_eq!(f["level"], "error");
    assert_eq!(f["location"]["line"], 4);
    assert_eq!(v["result"]["summary"]["errors"], 1);
    // --output json means the JSON format too.
    assert_eq!(
        strata(p.path(), &["lint", "-o", "json"]).json()["result"]["summary"]["files"],
        2
    );

    std::fs::write(
        p.path().join("strata.toml"),
        "[lint]\nrules = { \"drop-without-if-exists\" = \"off\", \"drop-index-without-concurrently\" = \"off\", \"missing-lock-timeout\" = \"off\" }\n",
    )
    .unwrap();
    assert_eq!(strata(p.path(), &["lint", "--fail-on", "info"]).code, 0);
    // Excluded paths are not reported (relative to the project root).
    std::fs::write(
        p.path().join("strata.toml"),
        "[lint]\nfail_on = \"warning\"\nexclude = [\"migrations/20240102*\"]\n",
    )
    .unwrap();
    let run = strata(p.path(), &["lint"]);
    assert_eq!(run.code, 0, "{run:?}");
    std::fs::remove_file(p.path().join("strata.toml")).unwrap();

    let run = strata(p.path(), &["lint", "--format", "sarif"]);
    let v = run.json();
    assert_eq!(v["version"], "2.1.0");
    let result = &v["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "drop-without-if-exists");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );

    let run = strata(p.path(), &["lint", "--format", "github"]);
    assert!(
        run.stdout
            .starts_with("::warning file=migrations/20240102000000_update_a.sql,line=4,col=1,"),
        "{run:?}"
    );
    // Under GitHub Actions the annotations are the default.
    let run = strata_env(p.path(), &["lint"], &[("GITHUB_ACTIONS", "true")]);
    assert!(run.stdout.starts_with("::warning "), "{run:?}");
}

#[test]
fn ignores_in_the_sql_and_unused_ones() {
    let sql = format!(
        "{HEADER}-- strata-lint: ignore nested-begin the inner block is deliberate\nBEGIN;\nBEGIN;\nCOMMIT;\n\
         -- strata-lint: ignore drop-without-if-exist typo\nSELECT 1;\n"
    );
    let p = project(&[("20240101000000_create_a.sql", &sql)]);
    let run = strata(p.path(), &["lint", "--format", "json"]);
    let v = run.json();
    let rules: Vec<&str> = v["result"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // The first BEGIN carries the ignore, but the nested one is the second: the ignore is unused.
    assert_eq!(
        rules,
        ["unused-ignore", "nested-begin", "invalid-ignore"],
        "{run:?}"
    );
    assert_eq!(run.code, 3);
}

#[test]
fn explain_prints_the_rule_or_names_close_ones() {
    let p = project(&[]);
    let run = strata(p.path(), &["lint", "--explain", "breaking-rename-column"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Why:") && run.stdout.contains("Fix:"),
        "{run:?}"
    );
    let run = strata(p.path(), &["lint", "--explain", "rename-column"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("breaking-rename-column"), "{run:?}");
}

#[test]
fn config_errors_name_the_file_line_and_rule() {
    let p = project(&[("20240101000000_create_a.sql", &clean())]);
    std::fs::write(
        p.path().join("strata.toml"),
        "[lint]\nfail_on = \"error\"\nrules = { \"file-headr\" = \"off\" }\n",
    )
    .unwrap();
    let run = strata(p.path(), &["lint"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("strata.toml:3"), "{run:?}");
    assert!(
        run.stderr.contains("file-headr") && run.stderr.contains("file-header"),
        "{run:?}"
    );
    std::fs::write(
        p.path().join("strata.toml"),
        "[lint]\nfail_at = \"error\"\n",
    )
    .unwrap();
    let run = strata(p.path(), &["lint"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("strata.toml:2"), "{run:?}");
    // A missing path is named.
    std::fs::remove_file(p.path().join("strata.toml")).unwrap();
    let run = strata(p.path(), &["lint", "nope.sql"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("nope.sql"), "{run:?}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn changed_since_reports_only_changed_files_with_the_set_as_context() {
    // Base: a table created, and an old file with an error (already merged; not reported).
    let p = project(&[
        ("20240101000000_create_a.sql", &clean()),
        ("20240102000000_update_a.sql", &nested()),
    ]);
    let run = strata(p.path(), &["lint", "--changed-since", "main"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("git repository"), "{run:?}");

    git(p.path(), &["init", "-q", "-b", "main"]);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "base"]);
    git(p.path(), &["checkout", "-q", "-b", "feature"]);
    // Committed on the branch: renames a column of `a`, which a file that exists on main created:
    // `a` is deployed, so the rename breaks running code.
    std::fs::write(
        p.path().join("migrations/20240103000000_rename_a_id.sql"),
        format!("{HEADER}ALTER TABLE a RENAME COLUMN id TO a_id;\n"),
    )
    .unwrap();
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "rename"]);
    // Untracked: renames a table the set never created (an error).
    std::fs::write(
        p.path().join("migrations/20240104000000_rename_users.sql"),
        format!("{HEADER}ALTER TABLE users RENAME TO people;\n"),
    )
    .unwrap();

    let run = strata(
        p.path(),
        &["lint", "--changed-since", "main", "--format", "json"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let v = run.json();
    let found: Vec<(String, String)> = v["result"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "breaking-rename-column".to_string(),
                "migrations/20240103000000_rename_a_id.sql".to_string()
            ),
            (
                "missing-lock-timeout".to_string(),
                "migrations/20240103000000_rename_a_id.sql".to_string()
            ),
            (
                "breaking-rename-table".to_string(),
                "migrations/20240104000000_rename_users.sql".to_string()
            ),
            (
                "missing-lock-timeout".to_string(),
                "migrations/20240104000000_rename_users.sql".to_string()
            )
        ]
    );
    assert_eq!(v["result"]["summary"]["files"], 2);

    let run = strata(p.path(), &["lint", "--changed-since", "no-such-branch"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no-such-branch"), "{run:?}");
}

#[test]
fn push_refuses_on_lint_errors_and_no_lint_skips() {
    let rt = runtime();
    let db = rt.block_on(support::TestDb::new("cli_lint_push"));
    rt.block_on(async {
        db.client()
            .await
            .batch_execute("create table users (id int, email text)")
            .await
            .unwrap()
    });
    let p = project(&[
        ("20240101000000_create_a.sql", &clean()),
        (
            "20240102000000_rename_users_email.sql",
            &format!("{HEADER}ALTER TABLE users RENAME COLUMN email TO address;\n"),
        ),
    ]);
    let tables = || -> Vec<String> {
        rt.block_on(async {
            db.client()
                .await
                .query(
                    "select column_name::text from information_schema.columns \
                     where table_name = 'users' order by 1",
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        })
    };
    for args in [
        vec!["push", "--db-url", &db.url],
        vec!["push", "--dry-run", "--db-url", &db.url],
    ] {
        let run = strata(p.path(), &args);
        assert_eq!(run.code, 3, "{run:?}");
        assert!(
            run.stderr.contains("error[breaking-rename-column]"),
            "{run:?}"
        );
        assert!(run.stderr.contains("phase 1"), "{run:?}");
        assert!(run.stderr.contains("--no-lint"), "{run:?}");
    }
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-o", "json"]);
    assert_eq!(run.code, 3, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["kind"], "lint");
    assert_eq!(
        v["error"]["details"]["findings"][0]["rule"],
        "breaking-rename-column"
    );
    // Nothing changed: not even the clean first migration.
    assert_eq!(tables(), ["email", "id"]);
    let applied = rt.block_on(async {
        db.client()
            .await
            .query(
                "select 1 from pg_namespace where nspname = 'supabase_migrations'",
                &[],
            )
            .await
            .unwrap()
            .len()
    });
    assert_eq!(applied, 0);

    let run = strata(p.path(), &["push", "--no-lint", "--db-url", &db.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(tables(), ["address", "id"]);
    // Nothing pending: nothing to lint, the applied rename is not held against the push.
    let run = strata(p.path(), &["push", "--db-url", &db.url]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// Object findings of `rule` in a `strata lint --format json` run: `(name, level)`.
fn object_findings(run: &Run, rule: &str) -> Vec<(String, String)> {
    run.json()["result"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule && f["location"]["type"] == "object")
        .map(|f| {
            (
                f["location"]["name"].as_str().unwrap().to_string(),
                f["level"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn catalog_rules_run_on_a_scratch_database_or_on_the_target() {
    // --schema: the migrations are built on a scratch database (on the test server) and its
    // catalog is checked; the scratch database is gone afterwards.
    let p = project(&[(
        "20240101000000_create_notes.sql",
        &format!(
            "{HEADER}CREATE TABLE IF NOT EXISTS public.notes (id bigint PRIMARY KEY, body text);\n\
             ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;\n\
             ALTER TABLE public.notes FORCE ROW LEVEL SECURITY;\n"
        ),
    )]);
    let admin = support::admin_url();
    let env = [("STRATA_SCRATCH_URL", admin.as_str())];
    let run = strata_env(
        p.path(),
        &[
            "lint",
            "--schema",
            "--platform",
            "supabase",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{run:?}");
    // Found in the file and on the built database: reported once, with both places.
    let same: Vec<serde_json::Value> = run.json()["result"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "rls-enabled-no-policy")
        .cloned()
        .collect();
    assert_eq!(same.len(), 1, "{run:?}");
    assert_eq!(same[0]["location"]["type"], "file", "{run:?}");
    assert_eq!(same[0]["object"]["kind"], "table", "{run:?}");
    assert_eq!(same[0]["object"]["name"], "public.notes", "{run:?}");
    let human = strata_env(
        p.path(),
        &["lint", "--schema", "--platform", "supabase"],
        &env,
    );
    assert!(
        human
            .stdout
            .contains("also found on the database: table public.notes"),
        "{human:?}"
    );
    assert_eq!(
        human.stdout.matches("[rls-enabled-no-policy]").count(),
        1,
        "{human:?}"
    );
    // Without --schema (or a target), lint stays offline: no object findings.
    let run = strata_env(p.path(), &["lint", "--format", "json"], &env);
    assert!(object_findings(&run, "rls-enabled-no-policy").is_empty());

    // A live target: its catalog, whatever the migrations say. A table created by hand without
    // RLS in public is an error there (exit 3), and [lint] levels apply to catalog findings.
    let rt = runtime();
    let db = rt.block_on(support::TestDb::new("lint_catalog_cli"));
    rt.block_on(async {
        db.client()
            .await
            .batch_execute("CREATE TABLE public.by_hand (id bigint PRIMARY KEY)")
            .await
            .unwrap()
    });
    let args = [
        "lint",
        "--db-url",
        db.url.as_str(),
        "--platform",
        "supabase",
        "--format",
        "json",
    ];
    let run = strata_env(p.path(), &args, &[]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        object_findings(&run, "table-without-rls"),
        [("public.by_hand".to_string(), "error".to_string())]
    );
    std::fs::write(
        p.path().join("strata.toml"),
        "[lint]\nrules = { \"table-without-rls\" = \"warning\" }\n",
    )
    .unwrap();
    let run = strata_env(p.path(), &args, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        object_findings(&run, "table-without-rls"),
        [("public.by_hand".to_string(), "warning".to_string())]
    );
    let leftovers = rt.block_on(async {
        let c = support::connect(&admin).await;
        c.query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'strata_scratch_lint_%' \
             AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
    });
    assert_eq!(leftovers, 0, "scratch databases left behind");
}

fn versions(url: &str) -> Vec<String> {
    strings(
        url,
        "select coalesce(string_agg(version, ',' order by version), '') from supabase_migrations.schema_migrations",
    )
}

#[test]
fn push_gate_reports_on_a_fresh_database_and_refuses_on_a_live_one() {
    // An error-level finding in a file that has been "in production for years".
    let definer = format!(
        "{HEADER}CREATE OR REPLACE FUNCTION public.answer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'select 42';\n"
    );
    let p = project(&[("20240101000000_create_answer.sql", &definer)]);

    // Fresh (no history, no user objects): a new build; applied, the findings reported.
    let fresh = TestDb::new("gate_fresh");
    let run = strata(
        p.path(),
        &["push", "--db-url", &fresh.url, "--platform", "none"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("security-definer") || run.stderr.contains("1 error"),
        "{run:?}"
    );
    assert!(run.stderr.contains("the target was fresh"), "{run:?}");
    assert_eq!(versions(&fresh.url), ["20240101000000"]);
    let fresh_json = TestDb::new("gate_fresh_json");
    let run = strata(
        p.path(),
        &[
            "push",
            "--db-url",
            &fresh_json.url,
            "--platform",
            "none",
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let lint = &run.json()["result"]["lint"];
    assert_eq!(lint["target"]["state"], "fresh", "{lint}");
    assert_eq!(lint["blocked"], false, "{lint}");

    // Live: the same kind of finding in a pending file refuses, and nothing changes.
    write(
        p.path(),
        "migrations/20240102000000_create_other.sql",
        &definer.replace("answer", "other"),
    );
    let run = strata(
        p.path(),
        &["push", "--db-url", &fresh.url, "--platform", "none"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("security-definer-search-path"),
        "{run:?}"
    );
    assert_eq!(versions(&fresh.url), ["20240101000000"]);
    let run = strata(
        p.path(),
        &[
            "push",
            "--db-url",
            &fresh.url,
            "--platform",
            "none",
            "-o",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "{run:?}");
    // Only the pending file's finding: the applied one is history.
    let findings = run.json()["error"]["details"]["findings"].clone();
    assert_eq!(findings.as_array().unwrap().len(), 1, "{findings}");

    // A database with user objects but no history is live too.
    let handmade = TestDb::new("gate_handmade");
    exec(&handmade.url, "create table public.legacy (id int);");
    let run = strata(
        p.path(),
        &["push", "--db-url", &handmade.url, "--platform", "none"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("security-definer-search-path"),
        "{run:?}"
    );
}

#[test]
fn a_table_deployed_by_an_earlier_push_is_live_to_the_next_one() {
    // The example: file 1 has been applied; file 2 indexes its table.
    let p = project(&[(
        "20240101000000_create_invoices.sql",
        &format!("{HEADER}CREATE TABLE IF NOT EXISTS public.invoices (id bigint PRIMARY KEY, customer_ref text);\n"),
    )]);
    let db = TestDb::new("gate_invoices");
    let run = strata(
        p.path(),
        &["push", "--db-url", &db.url, "--platform", "none"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    write(
        p.path(),
        "migrations/20240102000000_index_invoices.sql",
        &format!("{HEADER}CREATE INDEX IF NOT EXISTS invoices_customer_ref_idx ON public.invoices (customer_ref);\n"),
    );
    let run = strata(
        p.path(),
        &["push", "--db-url", &db.url, "--platform", "none"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("index-without-concurrently"), "{run:?}");
    assert_eq!(versions(&db.url), ["20240101000000"]);
    // Plain lint says the same (earlier files are deployed), and so does lint against the target.
    let run = strata(p.path(), &["lint"]);
    assert!(run.stdout.contains("index-without-concurrently"), "{run:?}");
    let run = strata(
        p.path(),
        &["lint", "--db-url", &db.url, "--platform", "none"],
    );
    assert!(run.stdout.contains("index-without-concurrently"), "{run:?}");
    // Both files onto a fresh database: one build, the table is new, nothing to say.
    let other = TestDb::new("gate_invoices_fresh");
    let run = strata(
        p.path(),
        &["lint", "--db-url", &other.url, "--platform", "none"],
    );
    assert!(
        !run.stdout.contains("index-without-concurrently"),
        "{run:?}"
    );
    let run = strata(
        p.path(),
        &["push", "--db-url", &other.url, "--platform", "none"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        !run.stderr.contains("index-without-concurrently"),
        "{run:?}"
    );
}

#[test]
fn push_fail_on_is_set_globally_and_per_environment() {
    let p = project(&[("20240101000000_create_a.sql", &clean())]);
    let db = TestDb::new("gate_env");
    let run = strata(
        p.path(),
        &["push", "--db-url", &db.url, "--platform", "none"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    // A warning-level finding only (no header).
    write(
        p.path(),
        "migrations/20240102000000_create_b.sql",
        "CREATE TABLE IF NOT EXISTS b (id int);\n",
    );
    write(
        p.path(),
        "strata.toml",
        "[environments.production]\nurl = \"${PROD_URL}\"\npush_fail_on = \"warning\"\n",
    );
    let env = [("PROD_URL", db.url.as_str())];
    let run = strata_env(
        p.path(),
        &["push", "--env", "production", "--platform", "none"],
        &env,
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("file-header"), "{run:?}");
    // The same database by URL: the default level (error) lets the warning through.
    let run = strata(
        p.path(),
        &["push", "--db-url", &db.url, "--platform", "none"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("push_fail_on"), "{run:?}");
    // [lint] push_fail_on applies to every target.
    write(
        p.path(),
        "migrations/20240103000000_create_c.sql",
        "CREATE TABLE IF NOT EXISTS c (id int);\n",
    );
    write(
        p.path(),
        "strata.toml",
        "[lint]\npush_fail_on = \"warning\"\n",
    );
    let run = strata(
        p.path(),
        &["push", "--db-url", &db.url, "--platform", "none"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    // A bad level names the line.
    write(
        p.path(),
        "strata.toml",
        "[lint]\npush_fail_on = \"fatal\"\n",
    );
    let run = strata(
        p.path(),
        &["push", "--db-url", &db.url, "--platform", "none"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("strata.toml:2"), "{run:?}");
}
