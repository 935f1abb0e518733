//! Catalog lint rules on real PostgreSQL: each rule fires on a schema that has its problem and
//! stays quiet on one that does not; the shipped example app, built on a scratch database with
//! the Supabase emulation, has no finding at `error` level; the seed's duplicate index is found.
//!
//! Run: `cargo test -p strata-lint --test lint_catalog`.

#[path = "../../strata/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;

use strata::platform::Platform;
use strata::target::{SessionSettings, Target, TargetSource};
use strata::MigrationSet;
use strata_lint::catalog::{self, lint_schema};
use strata_lint::{Finding, Level, Location};
use support::TestDb;

/// A hand-written `auth` schema: just enough for policies to call auth.uid() and auth.jwt().
const AUTH: &str = r#"
create schema auth;
create function auth.uid() returns uuid language sql stable
  as $$ select nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
create function auth.jwt() returns jsonb language sql stable
  as $$ select coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb $$;
"#;

/// One of each problem the catalog rules look for.
const BAD: &str = r#"
create table public.open_notes (id bigint primary key, body text);
create table public.owners (id uuid primary key);
alter table public.owners enable row level security;
alter table public.owners force row level security;
create policy owners_self on public.owners for select using ((select auth.uid()) = id);
create table public.notes (
  id bigint primary key,
  owner_id uuid references public.owners (id),
  body text,
  shared boolean
);
alter table public.notes enable row level security;
create index notes_id_dup on public.notes (id);
create policy notes_own on public.notes for select using (auth.uid() = owner_id);
create policy notes_shared on public.notes for select using (shared);
create policy notes_write on public.notes for update using (true);
create policy notes_admin on public.notes for delete
  using ((select auth.jwt()) -> 'user_metadata' ->> 'role' = 'admin');
create table public.empty_rls (id int primary key);
alter table public.empty_rls enable row level security;
alter table public.empty_rls force row level security;
create schema private;
create table private.lost (id int primary key);
create policy lost_all on private.lost using (id > 0);
create function public.elevate() returns int language sql security definer as $$ select 1 $$;
create view public.notes_view as select id, body from public.notes;
create extension pg_trgm schema public;
"#;

/// The same application, done right.
const GOOD: &str = r#"
create table public.owners (id uuid primary key);
alter table public.owners enable row level security;
alter table public.owners force row level security;
create policy owners_self on public.owners for select using ((select auth.uid()) = id);
create table public.notes (
  id bigint primary key,
  owner_id uuid references public.owners (id),
  body text,
  shared boolean
);
create index notes_owner_id_idx on public.notes (owner_id);
alter table public.notes enable row level security;
alter table public.notes force row level security;
create policy notes_visible on public.notes for select
  using ((select auth.uid()) = owner_id or shared);
create policy notes_write on public.notes for update
  using ((select auth.uid()) = owner_id) with check ((select auth.uid()) = owner_id);
create policy notes_admin on public.notes for delete
  using ((select auth.jwt()) -> 'app_metadata' ->> 'role' = 'admin');
create schema private;
create table private.lost (id int primary key);
create function public.elevate() returns int language sql security definer
  set search_path = '' as $$ select 1 $$;
create view public.notes_view with (security_invoker = true) as select id, body from public.notes;
create schema extensions;
create extension pg_trgm schema extensions;
"#;

async fn catalog_findings(tag: &str, sql: &str) -> Vec<Finding> {
    let db = TestDb::new(tag).await;
    let client = db.client().await;
    client.batch_execute(AUTH).await.unwrap();
    client.batch_execute(sql).await.unwrap();
    let client = db.target().connect().await.unwrap();
    catalog::check(&client, &["public".to_string()])
        .await
        .unwrap()
}

fn name(f: &Finding) -> &str {
    match &f.location {
        Location::Object { name, .. } => name,
        other => panic!("catalog finding with a file location: {other:?}"),
    }
}

fn summary(found: &[Finding]) -> BTreeSet<(String, String)> {
    found
        .iter()
        .map(|f| (f.rule.to_string(), name(f).to_string()))
        .collect()
}

#[tokio::test]
async fn each_rule_fires_on_the_bad_schema() {
    let found = catalog_findings("lintcat_bad", BAD).await;
    let got = summary(&found);
    let expected: BTreeSet<(String, String)> = [
        ("table-without-rls", "public.open_notes"),
        ("rls-not-forced", "public.notes"),
        ("rls-enabled-no-policy", "public.empty_rls"),
        ("policy-exists-rls-disabled", "private.lost"),
        ("auth-function-per-row", "\"notes_own\" on public.notes"),
        ("policy-always-true", "\"notes_write\" on public.notes"),
        ("multiple-permissive-policies", "public.notes"),
        ("policy-user-metadata", "\"notes_admin\" on public.notes"),
        ("security-definer-search-path", "public.elevate()"),
        ("view-without-security-invoker", "public.notes_view"),
        ("duplicate-index", "public.notes_id_dup"),
        (
            "foreign-key-without-index",
            "public.notes.notes_owner_id_fkey",
        ),
        ("extension-in-public", "pg_trgm"),
    ]
    .into_iter()
    .map(|(r, n)| (r.to_string(), n.to_string()))
    .collect();
    assert_eq!(got, expected, "{found:#?}");
    // Every catalog rule is exercised, and each finding is at its rule's level.
    let rules: BTreeSet<&str> = found.iter().map(|f| f.rule).collect();
    assert_eq!(rules.len(), catalog::RULES.len());
    for f in &found {
        let info = catalog::RULES.iter().find(|r| r.id == f.rule).unwrap();
        assert_eq!(f.level, info.default_level);
        assert!(f.fix.is_some(), "{f:?}");
    }
    let dup = found.iter().find(|f| f.rule == "duplicate-index").unwrap();
    assert!(
        dup.message.contains("notes_pkey, notes_id_dup"),
        "{}",
        dup.message
    );
    assert!(dup
        .fix
        .as_deref()
        .unwrap()
        .contains("DROP INDEX CONCURRENTLY IF EXISTS public.notes_id_dup"));
    let multi = found
        .iter()
        .find(|f| f.rule == "multiple-permissive-policies")
        .unwrap();
    assert!(
        multi.message.contains("\"notes_own\", \"notes_shared\"")
            && multi.message.contains("SELECT for public"),
        "{}",
        multi.message
    );
}

#[tokio::test]
async fn the_good_schema_has_no_finding() {
    let found = catalog_findings("lintcat_good", GOOD).await;
    assert!(found.is_empty(), "{found:#?}");
}

#[tokio::test]
async fn exposed_schemas_are_the_callers_choice() {
    let db = TestDb::new("lintcat_exposed").await;
    let client = db.client().await;
    client
        .batch_execute("create schema api; create table api.items (id int primary key);")
        .await
        .unwrap();
    let quiet = catalog::check(&client, &["public".into()]).await.unwrap();
    assert!(quiet.is_empty(), "{quiet:#?}");
    let found = catalog::check(&client, &["public".into(), "api".into()])
        .await
        .unwrap();
    assert_eq!(
        summary(&found),
        [("table-without-rls".to_string(), "api.items".to_string())].into()
    );
}

fn server() -> strata::scratch::Scratch {
    strata::scratch::Scratch::server(
        Target::from_url(
            &support::admin_url(),
            TargetSource::DbUrl,
            SessionSettings::default(),
        )
        .unwrap(),
    )
}

/// Scratch databases of this process still on the server.
async fn our_scratch_databases() -> Vec<String> {
    let admin = support::connect(&support::admin_url()).await;
    admin
        .query(
            "select datname::text from pg_database where datname like $1",
            &[&format!("strata_scratch_lint_{}_%", std::process::id())],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// One test, so that the scratch databases it checks for are only its own.
#[tokio::test]
async fn example_app_on_a_scratch_database() {
    // The shipped example app: nothing at error level.
    let set = MigrationSet::load_dir(support::chat_app_dir()).unwrap();
    let found = lint_schema(&server(), set, Platform::Supabase)
        .await
        .unwrap();
    let errors: Vec<_> = found.iter().filter(|f| f.level >= Level::Error).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // What it does report (warnings) is known: several bucket policies on storage.objects for
    // the same role and command.
    assert_eq!(
        summary(&found),
        [(
            "multiple-permissive-policies".to_string(),
            "storage.objects".to_string()
        )]
        .into(),
        "{found:#?}"
    );

    // The seed's idx_profiles_user_id ON profiles(id) repeats the primary key.
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(support::chat_app_dir()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.path().join("20240201000000_add_seed_index.sql"),
        "CREATE INDEX IF NOT EXISTS idx_profiles_user_id ON public.profiles(id);\n",
    )
    .unwrap();
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let found = lint_schema(&server(), set, Platform::Supabase)
        .await
        .unwrap();
    let dup: Vec<_> = found
        .iter()
        .filter(|f| f.rule == "duplicate-index")
        .collect();
    assert_eq!(dup.len(), 1, "{found:#?}");
    assert!(dup[0]
        .message
        .contains("profiles_pkey, idx_profiles_user_id"));

    // A migration that fails: the error comes back and the scratch database is gone anyway.
    let bad = support::migrations_dir(&[("20240101000000_bad.sql", "create table t (;\n")]);
    let set = MigrationSet::load_dir(bad.path()).unwrap();
    assert!(lint_schema(&server(), set, Platform::None).await.is_err());
    assert_eq!(our_scratch_databases().await, Vec::<String>::new());
}

/// With the Supabase emulation: the platform's own schemas are skipped, but policies the
/// migrations put on storage.objects are the user's and are checked.
#[tokio::test]
async fn storage_policies_are_checked_platform_schemas_are_not() {
    let db = TestDb::new("lintcat_storage").await;
    let dir = support::migrations_dir(&[(
        "20240101000000_bucket_policies.sql",
        "CREATE POLICY \"avatars_insert\" ON storage.objects FOR INSERT TO authenticated\n  \
         WITH CHECK (bucket_id = 'avatars' AND auth.uid()::text = (storage.foldername(name))[1]);\n",
    )]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    strata::Migrator::new(set)
        .with_options(strata::PushOptions {
            platform: Platform::Supabase,
            ..strata::PushOptions::default()
        })
        .push(&db.target())
        .await
        .unwrap();
    let client = db.target().connect().await.unwrap();
    let found = catalog::check(&client, &["public".to_string()])
        .await
        .unwrap();
    assert_eq!(
        summary(&found),
        [(
            "auth-function-per-row".to_string(),
            "\"avatars_insert\" on storage.objects".to_string()
        )]
        .into(),
        "{found:#?}"
    );
}
