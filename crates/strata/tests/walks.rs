//! Every directory walk and glob Strata reads files through — migrations in every layout,
//! schema files (directory or glob), seed globs of `supabase/config.toml` — names an entry it
//! cannot read (a dangling symbolic link) instead of skipping it: a skipped file is a migration
//! never applied, or schema objects a generated change would drop.

use std::os::unix::fs::symlink;
use std::path::Path;

use strata::config::Project;
use strata::MigrationSet;

fn dangling(at: &Path) {
    symlink("/nonexistent/strata-test-target.sql", at).unwrap();
}

fn assert_names(result: Result<impl std::fmt::Debug, strata::Error>, entry: &Path) {
    let e = result.expect_err("a dangling entry must be an error");
    let text = e.to_string();
    assert!(
        text.contains(&entry.display().to_string()) && text.contains("symbolic link"),
        "{text}"
    );
}

/// A layout's name, the files of a working directory in it, and where a dangling link goes.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn a_dangling_migration_is_named_in_every_layout() {
    let layouts: &[Case] = &[
        (
            "strata",
            &[("1_a.sql", "create table a (id int);\n")],
            "2_b.sql",
        ),
        (
            "dbmate",
            &[(
                "1_a.sql",
                "-- migrate:up\ncreate table a (id int);\n-- migrate:down\n",
            )],
            "2_b.sql",
        ),
        (
            "goose",
            &[(
                "1_a.sql",
                "-- +goose Up\ncreate table a (id int);\n-- +goose Down\n",
            )],
            "2_b.sql",
        ),
        (
            "golang-migrate",
            &[
                ("1_a.up.sql", "create table a (id int);\n"),
                ("1_a.down.sql", ""),
            ],
            "2_b.up.sql",
        ),
        (
            "flyway",
            &[("V1__a.sql", "create table a (id int);\n")],
            "sub/V2__b.sql",
        ),
    ];
    for (name, files, broken) in layouts {
        let dir = tempfile::tempdir().unwrap();
        for (f, text) in *files {
            std::fs::write(dir.path().join(f), text).unwrap();
        }
        let at = dir.path().join(broken);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        dangling(&at);
        let loaded = MigrationSet::load_dir(dir.path());
        assert!(loaded.is_err(), "{name}: {loaded:?}");
        assert_names(loaded, &at);
    }
    // diesel: a migration directory that is a dangling link.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("2024-01-01-000000_a")).unwrap();
    std::fs::write(dir.path().join("2024-01-01-000000_a/up.sql"), "select 1;\n").unwrap();
    std::fs::write(
        dir.path().join("2024-01-01-000000_a/down.sql"),
        "select 1;\n",
    )
    .unwrap();
    let at = dir.path().join("2024-01-02-000000_b");
    symlink("/nonexistent/strata-test-dir", &at).unwrap();
    assert_names(MigrationSet::load_dir(dir.path()), &at);
}

#[test]
fn a_dangling_schema_file_or_seed_is_named() {
    let root = tempfile::tempdir().unwrap();
    let migrations = root.path().join("supabase/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::create_dir_all(root.path().join("supabase/schemas/nested")).unwrap();
    std::fs::write(
        root.path().join("supabase/schemas/10_a.sql"),
        "create table a (id int);\n",
    )
    .unwrap();
    let at = root.path().join("supabase/schemas/nested/20_b.sql");
    dangling(&at);
    let project = Project::discover(root.path(), None).unwrap();
    assert_names(project.schema_files(&migrations), &at);
    std::fs::remove_file(&at).unwrap();

    // schema_paths as a glob.
    std::fs::write(
        root.path().join("strata.toml"),
        "schema_paths = [\"supabase/schemas/*.sql\"]\n",
    )
    .unwrap();
    let at = root.path().join("supabase/schemas/30_c.sql");
    dangling(&at);
    let project = Project::discover(root.path(), None).unwrap();
    assert_names(project.schema_files(&migrations), &at);
    std::fs::remove_file(&at).unwrap();
    std::fs::remove_file(root.path().join("strata.toml")).unwrap();

    // Seeds from supabase/config.toml's glob.
    std::fs::write(
        root.path().join("supabase/config.toml"),
        "[db.seed]\nenabled = true\nsql_paths = [\"./seeds/*.sql\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.path().join("supabase/seeds")).unwrap();
    let at = root.path().join("supabase/seeds/users.sql");
    dangling(&at);
    let project = Project::discover(root.path(), None).unwrap();
    assert_names(project.seed_files(&migrations), &at);
}

#[test]
fn a_directory_named_like_a_migration_is_an_error_not_skipped() {
    for files in [
        &[("1_a.sql", "create table a (id int);\n")][..],
        &[(
            "1_a.sql",
            "-- migrate:up\ncreate table a (id int);\n-- migrate:down\n",
        )][..],
    ] {
        let dir = tempfile::tempdir().unwrap();
        for (f, text) in files {
            std::fs::write(dir.path().join(f), text).unwrap();
        }
        std::fs::create_dir(dir.path().join("2_b.sql")).unwrap();
        let e = MigrationSet::load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("2_b.sql") && e.contains("is a directory"), "{e}");
    }
}
