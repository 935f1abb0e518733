//! A Supabase project moves between the Supabase CLI and Strata in both directions without a
//! change: the real Supabase CLI (installed from npm; the tests say "skipping" without it) and
//! Strata see the same migrations, the same history and the same order.

mod support;

use std::path::Path;

use strata::plan::State;
use strata::source::SourceOptions;
use strata::{MigrationSet, Migrator};
use support::{run_supabase_output, supabase_cli, TestDb};

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    let dir = project.path().join("supabase/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    project
}

/// What the Supabase CLI printed on stdout.
async fn cli(args: Vec<String>, project: &Path) -> String {
    cli_output(args, project).await.0
}

/// What the Supabase CLI printed on stdout and on stderr.
async fn cli_output(args: Vec<String>, project: &Path) -> (String, String) {
    let Some(cli) = supabase_cli() else {
        return Default::default();
    };
    let root = project.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_supabase_output(&cli, &root, &args)
    })
    .await
    .unwrap()
}

/// The versions in the Supabase CLI's `migration list` table, (local, remote) per row.
fn listed(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter(|l| l.contains('|') && l.contains('`'))
        .map(|l| {
            let cells: Vec<String> = l
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect();
            (cells[0].clone(), cells[1].clone())
        })
        .collect()
}

#[tokio::test]
async fn the_example_app_is_the_same_project_to_the_supabase_cli() {
    if supabase_cli().is_none() {
        eprintln!("skipping: no Supabase CLI (set STRATA_SUPABASE_CLI)");
        return;
    }
    let db = TestDb::new("sbexample").await;
    let example = support::chat_app_dir();
    let set = MigrationSet::load_dir(&example).unwrap();
    assert!(set.migrations.iter().all(|m| m.rollback.is_some()));
    assert!(set.notes.is_empty(), "{:?}", set.notes);
    let report = Migrator::new(set.clone())
        .with_options(strata::PushOptions {
            platform: strata::platform::Platform::Supabase,
            ..Default::default()
        })
        .push(&db.target())
        .await
        .unwrap();
    assert_eq!(report.applied.len(), set.migrations.len());
    let root = example.parent().unwrap().parent().unwrap().to_path_buf();
    let out = cli(
        vec![
            "migration".into(),
            "list".into(),
            "--db-url".into(),
            db.url.clone(),
        ],
        &root,
    )
    .await;
    let rows = listed(&out);
    // Each version once, local and remote: the rollback files are not migrations to it.
    assert_eq!(rows.len(), set.migrations.len(), "{out}");
    for (m, (local, remote)) in set.migrations.iter().zip(&rows) {
        assert_eq!(local, m.version.as_str(), "{out}");
        assert_eq!(remote, m.version.as_str(), "{out}");
    }
    let out = cli(
        vec![
            "db".into(),
            "push".into(),
            "--db-url".into(),
            db.url.clone(),
            "--dry-run".into(),
        ],
        &root,
    )
    .await;
    assert!(out.contains("up to date"), "{out}");
}

#[tokio::test]
async fn an_empty_migration_pushed_by_the_supabase_cli_is_applied_to_strata() {
    if supabase_cli().is_none() {
        eprintln!("skipping: no Supabase CLI (set STRATA_SUPABASE_CLI)");
        return;
    }
    let db = TestDb::new("sbempty").await;
    let p = project(&[
        ("20240101000000_empty.sql", ""),
        ("20240102000000_comments.sql", "-- nothing yet\n-- really\n"),
        ("20240103000000_t.sql", "create table t (id int);\n"),
    ]);
    cli(
        vec![
            "db".into(),
            "push".into(),
            "--db-url".into(),
            db.url.clone(),
            "--yes".into(),
        ],
        p.path(),
    )
    .await;
    let dir = p.path().join("supabase/migrations");
    let migrator = Migrator::new(MigrationSet::load_dir(&dir).unwrap());
    let (_, plan) = migrator.plan(&db.client().await).await.unwrap();
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
    assert!(plan
        .rows
        .iter()
        .all(|r| r.state == State::Applied && r.verified));
    let report = migrator.push(&db.target()).await.unwrap();
    assert!(report.applied.is_empty());
}

#[tokio::test]
async fn stray_files_are_skipped_as_the_supabase_cli_skips_them() {
    let p = project(&[
        ("20240101000000_a.sql", "create table a (id int);\n"),
        ("local_20240102000000_b.sql", "create table b (id int);\n"),
        ("20240301_add_x.SQL", "create table x (id int);\n"),
        ("README.md", "notes\n"),
        (".gitkeep", ""),
    ]);
    let dir = p.path().join("supabase/migrations");
    let set = MigrationSet::load_dir(&dir).unwrap();
    let versions: Vec<&str> = set.migrations.iter().map(|m| m.version.as_str()).collect();
    assert_eq!(versions, ["20240101000000"]);
    let skipped: Vec<String> = set
        .skipped
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        skipped,
        [
            ".gitkeep",
            "20240301_add_x.SQL",
            "README.md",
            "local_20240102000000_b.sql"
        ]
    );
    // Outside supabase/migrations the same files stay refused until legacy_order places them.
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(plain.path().join("1_a.sql"), "select 1;\n").unwrap();
    std::fs::write(plain.path().join("projects.sql"), "select 1;\n").unwrap();
    assert!(matches!(
        MigrationSet::load_dir(plain.path()),
        Err(strata::Error::Unversioned { .. })
    ));
    // And the Supabase CLI agrees on what is a migration.
    if supabase_cli().is_none() {
        return;
    }
    let db = TestDb::new("sbstray").await;
    let out = cli(
        vec![
            "db".into(),
            "push".into(),
            "--db-url".into(),
            db.url.clone(),
            "--yes".into(),
        ],
        p.path(),
    )
    .await;
    assert!(!out.contains("local_2024"), "{out}");
    let c = db.client().await;
    let rows: Vec<String> = c
        .query(
            "select version from supabase_migrations.schema_migrations",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, ["20240101000000"]);
}

#[tokio::test]
async fn text_and_numeric_order_never_differ_silently() {
    let p = project(&[
        (
            "20240101000000_base.sql",
            "create table base (id int primary key);\n",
        ),
        // Needs base: applied in the wrong order, it fails.
        (
            "20240115_dated.sql",
            "create table dated (id int references base (id));\n",
        ),
    ]);
    let dir = p.path().join("supabase/migrations");
    let err = MigrationSet::load_dir(&dir).unwrap_err();
    let text = format!("{err} {}", err.hint().unwrap_or_default());
    assert!(
        text.contains("20240115_dated.sql") && text.contains("20240101000000_base.sql"),
        "{text}"
    );
    assert!(text.contains("version_order = \"text\""), "{text}");
    // Chosen: the text order is the Supabase CLI's.
    let options = SourceOptions {
        version_order: Some(strata::source::VersionOrder::Text),
        ..Default::default()
    };
    let set = MigrationSet::load(&dir, &options).unwrap();
    let versions: Vec<&str> = set.migrations.iter().map(|m| m.version.as_str()).collect();
    assert_eq!(versions, ["20240101000000", "20240115"]);
    if supabase_cli().is_none() {
        return;
    }
    // The Supabase CLI applies them in that order too (file 2 needs file 1).
    let db = TestDb::new("sborder").await;
    cli(
        vec![
            "db".into(),
            "push".into(),
            "--db-url".into(),
            db.url.clone(),
            "--yes".into(),
        ],
        p.path(),
    )
    .await;
    let (_, plan) = Migrator::new(set).plan(&db.client().await).await.unwrap();
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
}

/// The Supabase CLI's `Would seed these files:` list, in its order.
fn seeds_listed(out: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| !l.contains("Would seed these files"))
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("• ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn seeds_from_config_toml_run_in_the_supabase_clis_order_and_are_recorded_as_it_records_them()
{
    let db = TestDb::new("sbseeds").await;
    let p = project(&[("20240101000000_t.sql", "create table t (id int);\n")]);
    let sb = p.path().join("supabase");
    std::fs::create_dir_all(sb.join("seeds")).unwrap();
    for (f, v) in [
        ("seeds/b.sql", 2),
        ("seeds/a.sql", 1),
        ("seeds/c.sql", 3),
        ("seed.sql", 4),
    ] {
        std::fs::write(sb.join(f), format!("insert into t values ({v});\n")).unwrap();
    }
    std::fs::write(
        sb.join("config.toml"),
        "project_id = \"seeds\"\n\n[db]\nport = 54322\n\n[db.seed]\nenabled = true\nsql_paths = [\"./seeds/c.sql\", \"./seeds/*.sql\", \"./seed.sql\", \"./missing/*.sql\"]\n",
    )
    .unwrap();
    let project = strata::config::Project::discover(p.path(), None).unwrap();
    let dir = sb.join("migrations");
    let seeds = project.seed_files(&dir).unwrap();
    let names: Vec<String> = seeds
        .files
        .iter()
        .map(|f| f.strip_prefix(p.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "supabase/seeds/c.sql",
            "supabase/seeds/a.sql",
            "supabase/seeds/b.sql",
            "supabase/seed.sql"
        ]
    );
    assert_eq!(seeds.warnings.len(), 1, "{:?}", seeds.warnings);
    if supabase_cli().is_some() {
        let out = cli_output(
            vec![
                "db".into(),
                "push".into(),
                "--db-url".into(),
                db.url.clone(),
                "--include-seed".into(),
                "--dry-run".into(),
            ],
            p.path(),
        )
        .await
        .1;
        assert_eq!(seeds_listed(&out), names, "{out}");
    }
    let files: Vec<strata::apply::SeedFile> = seeds
        .files
        .iter()
        .map(|f| strata::apply::SeedFile::read(p.path(), f).unwrap())
        .collect();
    let migrator =
        Migrator::new(MigrationSet::load_dir(&dir).unwrap()).with_options(strata::PushOptions {
            seeds: files.clone(),
            ..Default::default()
        });
    let report = migrator.push(&db.target()).await.unwrap();
    assert!(report.seeds.iter().all(|s| s.status == "applied"));
    let order: Vec<i32> = db
        .client()
        .await
        .query("select id from t order by ctid", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(order, [3, 1, 2, 4]);
    if supabase_cli().is_some() {
        // The Supabase CLI reads Strata's seed records as its own: nothing left to seed.
        let out = cli_output(
            vec![
                "db".into(),
                "push".into(),
                "--db-url".into(),
                db.url.clone(),
                "--include-seed".into(),
                "--dry-run".into(),
            ],
            p.path(),
        )
        .await
        .1;
        assert!(
            out.contains("DRY RUN") && !out.contains("Would seed"),
            "{out}"
        );
    }
    // A changed seed is only re-hashed; --reseed runs every seed again.
    std::fs::write(sb.join("seed.sql"), "insert into t values (40);\n").unwrap();
    let files: Vec<strata::apply::SeedFile> = seeds
        .files
        .iter()
        .map(|f| strata::apply::SeedFile::read(p.path(), f).unwrap())
        .collect();
    let push = |reseed| {
        Migrator::new(MigrationSet::load_dir(&dir).unwrap()).with_options(strata::PushOptions {
            seeds: files.clone(),
            reseed,
            ..Default::default()
        })
    };
    let report = push(false).push(&db.target()).await.unwrap();
    let statuses: Vec<&str> = report.seeds.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        ["unchanged", "unchanged", "unchanged", "hash_updated"]
    );
    let report = push(true).push(&db.target()).await.unwrap();
    assert!(report.seeds.iter().all(|s| s.status == "reapplied"));
    let count: i64 = db
        .client()
        .await
        .query_one("select count(*) from t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 8);
}

#[tokio::test]
async fn migrations_disabled_in_config_toml_are_skipped_as_the_supabase_cli_skips_them() {
    let db = TestDb::new("sbnomig").await;
    let p = project(&[("20240101000000_t.sql", "create table t (id int);\n")]);
    std::fs::write(
        p.path().join("supabase/config.toml"),
        "[db.migrations]\nenabled = false\n",
    )
    .unwrap();
    let project = strata::config::Project::discover(p.path(), None).unwrap();
    let dir = p.path().join("supabase/migrations");
    let (enabled, setting) = project.migrations_enabled(&dir).unwrap();
    assert!(!enabled);
    assert!(
        setting.contains("[db.migrations] enabled = false"),
        "{setting}"
    );
    if supabase_cli().is_some() {
        let out = cli_output(
            vec![
                "db".into(),
                "push".into(),
                "--db-url".into(),
                db.url.clone(),
                "--dry-run".into(),
            ],
            p.path(),
        )
        .await
        .1;
        assert!(
            out.contains("Skipping migrations") && !out.contains("20240101000000"),
            "{out}"
        );
    }
    let report = Migrator::new(MigrationSet::load_dir(&dir).unwrap())
        .with_options(strata::PushOptions {
            migrations_enabled: enabled,
            ..Default::default()
        })
        .push(&db.target())
        .await
        .unwrap();
    assert!(report.applied.is_empty() && !report.migrations_enabled);
    // strata.toml takes precedence.
    std::fs::write(p.path().join("strata.toml"), "migrations_enabled = true\n").unwrap();
    let project = strata::config::Project::discover(p.path(), None).unwrap();
    assert!(project.migrations_enabled(&dir).unwrap().0);
}
