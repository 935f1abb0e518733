//! The seed's own example SQL (docs: database-migrations.md), linted as migration files. What
//! each file should and should not raise is written down here.

use std::path::{Path, PathBuf};

use strata_lint::{self as lint, Finding, LintConfig, Location, SourceText};

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed");

/// The seed's files in the order the seed runs them.
const ORDER: &[&str] = &[
    "00_base_schema.sql",
    "projects.sql",
    "images_storage.sql",
    "20240115_add_user_settings.sql",
    "20240116_create_idempotent_examples.sql",
    "20240117_add_users_new_field.sql",
    "20240118_add_users_display_name.sql",
    "20240119_backfill_users_display_name.sql",
    "20240120_replace_users_email.sql",
];

fn lint_seed() -> Vec<Finding> {
    let files = ORDER
        .iter()
        .map(|name| SourceText {
            path: PathBuf::from(name),
            text: std::fs::read_to_string(Path::new(SEED).join(name)).unwrap(),
        })
        .collect();
    lint::lint(files, &LintConfig::default())
}

/// `file:line rule` for each finding.
fn brief(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| match &f.location {
            Location::File { path, line, .. } => format!("{}:{line} {}", path.display(), f.rule),
            Location::Object { name, .. } => format!("{name} {}", f.rule),
        })
        .collect()
}

/// Every finding the seed's SQL raises, in order.
///
/// - The three example migrations (`00_base_schema.sql`, `projects.sql`, `images_storage.sql`)
///   break the seed's own naming convention and have no header; their CREATE TABLE/INDEX lack
///   IF NOT EXISTS and no CREATE POLICY is guarded, so none of them can run twice.
/// - The migration template (`20240115_add_user_settings.sql`) passes everything except its
///   bare CREATE POLICY/CREATE TRIGGER statements.
/// - The idempotency snippet elides SQL as `(...)`: PostgreSQL's parser rejects those lines.
/// - The transactional snippet adds a column, backfills it and sets NOT NULL on `users` in one
///   file: not replayable, schema and data mixed, SET NOT NULL on an existing table.
/// - The data-migration snippet, split into its two files as the seed intends, raises nothing
///   beyond the missing IF NOT EXISTS (and the header the snippets do not show).
/// - The backwards-compatibility snippet written as one file raises each phase's hazard: the
///   phases belong in separate deployments.
/// - Security and locking: the base schema's `idx_profiles_user_id` repeats the primary key and
///   the template's `idx_user_settings_user_id` repeats `UNIQUE(user_id)` (`duplicate-index`);
///   every policy calls `auth.uid()` per row instead of `(select auth.uid())`
///   (`auth-function-per-row`); files that lock tables existing before them set no
///   `lock_timeout` (`missing-lock-timeout`); `DROP INDEX` without CONCURRENTLY on an existing
///   index (`drop-index-without-concurrently`).
const EXPECTED: &[&str] = &[
    "00_base_schema.sql:1 file-name",
    "00_base_schema.sql:1 file-header",
    "00_base_schema.sql:4 create-without-if-not-exists",
    "00_base_schema.sql:14 create-without-if-not-exists",
    "00_base_schema.sql:26 create-without-if-not-exists",
    "00_base_schema.sql:26 duplicate-index",
    "00_base_schema.sql:27 create-without-if-not-exists",
    "00_base_schema.sql:28 create-without-if-not-exists",
    "00_base_schema.sql:37 unguarded-policy-or-trigger",
    "00_base_schema.sql:38 auth-function-per-row",
    "00_base_schema.sql:40 unguarded-policy-or-trigger",
    "00_base_schema.sql:42 auth-function-per-row",
    "00_base_schema.sql:43 auth-function-per-row",
    "00_base_schema.sql:46 unguarded-policy-or-trigger",
    "00_base_schema.sql:47 auth-function-per-row",
    "00_base_schema.sql:49 unguarded-policy-or-trigger",
    "00_base_schema.sql:50 auth-function-per-row",
    "00_base_schema.sql:52 unguarded-policy-or-trigger",
    "00_base_schema.sql:54 auth-function-per-row",
    "00_base_schema.sql:55 auth-function-per-row",
    "00_base_schema.sql:57 unguarded-policy-or-trigger",
    "00_base_schema.sql:58 auth-function-per-row",
    "projects.sql:1 file-name",
    "projects.sql:1 file-header",
    "projects.sql:4 create-without-if-not-exists",
    "projects.sql:16 create-without-if-not-exists",
    "projects.sql:25 create-without-if-not-exists",
    "projects.sql:26 create-without-if-not-exists",
    "projects.sql:27 create-without-if-not-exists",
    "projects.sql:28 create-without-if-not-exists",
    "projects.sql:37 unguarded-policy-or-trigger",
    "projects.sql:38 auth-function-per-row",
    "projects.sql:40 unguarded-policy-or-trigger",
    "projects.sql:41 auth-function-per-row",
    "projects.sql:43 unguarded-policy-or-trigger",
    "projects.sql:44 auth-function-per-row",
    "projects.sql:44 auth-function-per-row",
    "projects.sql:46 unguarded-policy-or-trigger",
    "projects.sql:47 auth-function-per-row",
    "projects.sql:50 unguarded-policy-or-trigger",
    "projects.sql:55 unguarded-policy-or-trigger",
    "projects.sql:61 unguarded-policy-or-trigger",
    "images_storage.sql:1 file-name",
    "images_storage.sql:1 file-header",
    "images_storage.sql:9 unguarded-policy-or-trigger",
    "images_storage.sql:9 missing-lock-timeout",
    "images_storage.sql:12 auth-function-per-row",
    "images_storage.sql:15 unguarded-policy-or-trigger",
    "images_storage.sql:18 auth-function-per-row",
    "images_storage.sql:21 unguarded-policy-or-trigger",
    "images_storage.sql:24 auth-function-per-row",
    "20240115_add_user_settings.sql:21 duplicate-index",
    "20240115_add_user_settings.sql:29 unguarded-policy-or-trigger",
    "20240115_add_user_settings.sql:31 auth-function-per-row",
    "20240115_add_user_settings.sql:33 unguarded-policy-or-trigger",
    "20240115_add_user_settings.sql:35 auth-function-per-row",
    "20240115_add_user_settings.sql:37 unguarded-policy-or-trigger",
    "20240115_add_user_settings.sql:39 auth-function-per-row",
    "20240115_add_user_settings.sql:40 auth-function-per-row",
    "20240115_add_user_settings.sql:43 unguarded-policy-or-trigger",
    "20240116_create_idempotent_examples.sql:1 file-header",
    "20240116_create_idempotent_examples.sql:2 parse-error",
    "20240116_create_idempotent_examples.sql:3 parse-error",
    "20240116_create_idempotent_examples.sql:6 parse-error",
    "20240116_create_idempotent_examples.sql:10 drop-index-without-concurrently",
    "20240116_create_idempotent_examples.sql:10 missing-lock-timeout",
    "20240117_add_users_new_field.sql:1 file-header",
    "20240117_add_users_new_field.sql:4 missing-lock-timeout",
    "20240117_add_users_new_field.sql:4 add-column-without-if-not-exists",
    "20240117_add_users_new_field.sql:5 schema-and-data-change",
    "20240117_add_users_new_field.sql:6 breaking-set-not-null",
    "20240118_add_users_display_name.sql:1 file-header",
    "20240118_add_users_display_name.sql:2 missing-lock-timeout",
    "20240118_add_users_display_name.sql:2 add-column-without-if-not-exists",
    "20240119_backfill_users_display_name.sql:1 file-header",
    "20240120_replace_users_email.sql:1 file-header",
    "20240120_replace_users_email.sql:2 missing-lock-timeout",
    "20240120_replace_users_email.sql:2 add-column-without-if-not-exists",
    "20240120_replace_users_email.sql:5 schema-and-data-change",
    "20240120_replace_users_email.sql:8 breaking-set-not-null",
    "20240120_replace_users_email.sql:11 breaking-drop-column",
];

#[test]
fn the_seed_raises_exactly_these_findings() {
    let found = brief(&lint_seed());
    let expected: Vec<String> = EXPECTED.iter().map(|s| s.to_string()).collect();
    assert_eq!(found, expected);
}

#[test]
fn the_seed_does_not_raise_these() {
    let found = lint_seed();
    let rules_in = |file: &str| -> Vec<&'static str> {
        found
            .iter()
            .filter(
                |f| matches!(&f.location, Location::File { path, .. } if path == Path::new(file)),
            )
            .map(|f| f.rule)
            .collect()
    };
    // The bucket insert has ON CONFLICT (id) DO NOTHING.
    assert!(!rules_in("images_storage.sql").contains(&"insert-without-on-conflict"));
    // The template creates its table and index with IF NOT EXISTS and has the header.
    let template = rules_in("20240115_add_user_settings.sql");
    for rule in ["create-without-if-not-exists", "file-header", "file-name"] {
        assert!(!template.contains(&rule), "{rule}");
    }
    // The data migration on its own file does not mix schema and data.
    assert!(
        !rules_in("20240119_backfill_users_display_name.sql").contains(&"schema-and-data-change")
    );
    // Tables created by an earlier file are new: only the snippets that change `users` (a table
    // the set never creates) raise compatibility findings.
    let breaking: Vec<String> = found
        .iter()
        .filter(|f| f.rule.starts_with("breaking-"))
        .filter_map(|f| match &f.location {
            Location::File { path, .. } => Some(path.display().to_string()),
            Location::Object { .. } => None,
        })
        .collect();
    assert!(
        breaking
            .iter()
            .all(|p| p == "20240117_add_users_new_field.sql"
                || p == "20240120_replace_users_email.sql"),
        "{breaking:?}"
    );
}

/// The shipped example app lints clean at the error level. Its warnings are written down: the
/// files that change `auth.users` and `storage.objects` (tables that exist before the app) set
/// no `lock_timeout` of their own (`strata push --lock-timeout` or `lock_timeout` in
/// strata.toml does, and then the rule is satisfied), and each bucket has its own permissive
/// policies on `storage.objects` for `authenticated` (Supabase's per-bucket pattern; the rule
/// points at the per-row cost).
#[test]
fn the_example_app_lints_clean() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chat-app/supabase/migrations");
    let set = strata::MigrationSet::load_dir(&dir).unwrap();
    assert!(set.migrations.len() >= 8);
    let files = set
        .migrations
        .iter()
        .map(|m| SourceText {
            path: PathBuf::from(m.path.file_name().unwrap()),
            text: m.sql.clone(),
        })
        .collect();
    let findings = lint::lint(files, &LintConfig::default());
    let errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.level >= lint::Level::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        brief(&findings),
        [
            "20240101000000_create_base_schema.sql:152 missing-lock-timeout",
            "20240103000000_create_images_storage.sql:21 missing-lock-timeout",
            "20240104000000_create_project_files_storage.sql:86 missing-lock-timeout",
            "20240104000000_create_project_files_storage.sql:87 multiple-permissive-policies",
            "20240104000000_create_project_files_storage.sql:95 multiple-permissive-policies",
            "20240104000000_create_project_files_storage.sql:103 multiple-permissive-policies",
            "20240104000000_create_project_files_storage.sql:115 multiple-permissive-policies",
            // project_files is live by then (plain lint: earlier files are deployed).
            "20240106000000_add_project_files_markdown.sql:13 missing-lock-timeout",
        ]
    );
}
