//! Drift: the example app's migrations built on a scratch database, the same migrations pushed to
//! a target that is then changed by hand. For each kind of change: `diff::compare` finds it, the
//! generated SQL applied to the scratch database makes the two equal, and the rollback SQL
//! brings the scratch database back to what the migrations built.

mod support;

use strata::catalog::{Catalog, Kind};
use strata::diff::{self, Status};
use strata::platform::Platform;
use strata::scratch::ScratchDb;

use strata::{MigrationSet, Migrator, PushOptions};
use support::{chat_app_dir, TestDb};
use tokio_postgres::Client;

fn server() -> strata::scratch::Scratch {
    support::scratch_server()
}

async fn user_catalog(c: &Client) -> Catalog {
    Catalog::capture(c).await.unwrap()
}

/// Two catalogs in the scope of a Supabase project, scoped together (an emulation object one of
/// them changed stays on both).
async fn scoped(a: &Catalog, b: &Catalog) -> (Catalog, Catalog) {
    let (mut a, mut b) = (a.clone(), b.clone());
    supabase_scope().await.apply_all(&mut [&mut a, &mut b]);
    (a, b)
}

async fn compare(a: &Catalog, b: &Catalog) -> Vec<diff::Difference> {
    let (a, b) = scoped(a, b).await;
    diff::compare(&a, &b)
}

async fn fix(a: &Catalog, b: &Catalog) -> diff::Fix {
    let (a, b) = scoped(a, b).await;
    diff::fix(&a, &b)
}

/// The scope of a Supabase project (the emulation's own objects identified once).
async fn supabase_scope() -> diff::Scope {
    static SCOPE: tokio::sync::OnceCell<diff::Scope> = tokio::sync::OnceCell::const_new();
    SCOPE
        .get_or_init(|| async {
            diff::Scope::resolve(Platform::Supabase, &server())
                .await
                .unwrap()
        })
        .await
        .clone()
}

fn render(diffs: &[diff::Difference]) -> String {
    diffs
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Builds the example app on a target and on a scratch database, runs `setup` on both (as if
/// the migrations had it) and `change` on the target only; then checks that the difference is
/// found as `(kind, name, status)`, that the SQL fixes it and that its rollback undoes the fix.
async fn drift(tag: &str, setup: &str, change: &str, expect: &[(Kind, &str, Status)]) {
    let set = MigrationSet::load_dir(chat_app_dir()).unwrap();
    let target = TestDb::new(tag).await;
    let options = PushOptions {
        platform: Platform::Supabase,
        ..PushOptions::default()
    };
    Migrator::new(set.clone())
        .with_options(options)
        .push(&target.target())
        .await
        .unwrap();
    let scratch = ScratchDb::create(&server(), "difftest").await.unwrap();
    scratch.build(set, Platform::Supabase).await.unwrap();
    let t = target.client().await;
    let s = scratch.target().connect().await.unwrap();
    if !setup.is_empty() {
        t.batch_execute(setup).await.unwrap();
        s.batch_execute(setup).await.unwrap();
    }
    let built = user_catalog(&s).await;
    assert!(
        compare(&built, &user_catalog(&t).await).await.is_empty(),
        "{tag}: drift before the change:\n{}",
        render(&compare(&built, &user_catalog(&t).await).await)
    );
    t.batch_execute(change)
        .await
        .unwrap_or_else(|e| panic!("{tag}: change: {e:?}"));
    let actual = user_catalog(&t).await;
    let diffs = compare(&built, &actual).await;
    for (kind, name, status) in expect {
        assert!(
            diffs
                .iter()
                .any(|d| d.kind == *kind && d.name == *name && d.status == *status),
            "{tag}: expected {kind} {name} {status:?} among:\n{}",
            render(&diffs)
        );
    }
    let fix = self::fix(&built, &actual).await;
    assert!(!fix.sql.trim().is_empty(), "{tag}: no SQL");
    // `diff --write` writes this SQL as a migration, which then also runs on the target that
    // already has the change: it must apply there and change nothing.
    t.batch_execute(&format!("BEGIN;\n{}\nCOMMIT;", fix.sql))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{tag}: fix failed on the target that has it: {e:?}\n{}",
                fix.sql
            )
        });
    let again = compare(&actual, &user_catalog(&t).await).await;
    assert!(
        again.is_empty(),
        "{tag}: the fix changed the target that has it:\n{}\n--- SQL:\n{}",
        render(&again),
        fix.sql
    );
    s.batch_execute(&format!("BEGIN;\n{}\nCOMMIT;", fix.sql))
        .await
        .unwrap_or_else(|e| panic!("{tag}: fix failed: {e:?}\n{}", fix.sql));
    let after = compare(&user_catalog(&s).await, &actual).await;
    assert!(
        after.is_empty(),
        "{tag}: still differs after the fix:\n{}\n--- SQL:\n{}",
        render(&after),
        fix.sql
    );
    s.batch_execute(&format!("BEGIN;\n{}\nCOMMIT;", fix.rollback_sql))
        .await
        .unwrap_or_else(|e| panic!("{tag}: rollback failed: {e:?}\n{}", fix.rollback_sql));
    // What the rollback SQL says it cannot undo: a column's position (PostgreSQL appends a
    // re-added column), enum labels (PostgreSQL cannot drop one).
    let mut back = compare(&built, &user_catalog(&s).await).await;
    back.retain(|d| {
        let position_only = d.changes.iter().all(|c| c.property == "position")
            && !d.changes.is_empty()
            && fix
                .rollback_sql
                .contains(&format!("-- column {}: ", d.name));
        let enum_labels = fix
            .rollback_sql
            .contains(&format!("-- enum {}: labels", d.name));
        !position_only && !enum_labels
    });
    assert!(
        back.is_empty(),
        "{tag}: rollback does not restore the migrations' schema:\n{}\n--- rollback SQL:\n{}",
        render(&back),
        fix.rollback_sql
    );
    drop(s);
    scratch.drop_now().await.unwrap();
}

macro_rules! drift_case {
    ($name:ident, $setup:expr, $change:expr, [$(($kind:ident, $obj:expr, $status:ident)),+ $(,)?]) => {
        #[tokio::test]
        async fn $name() {
            drift(
                stringify!($name),
                $setup,
                $change,
                &[$((Kind::$kind, $obj, Status::$status)),+],
            )
            .await;
        }
    };
}

drift_case!(
    column_added,
    "",
    "ALTER TABLE public.profiles ADD COLUMN nickname text COLLATE \"C\" DEFAULT 'x' NOT NULL",
    [(Column, "public.profiles.nickname", OnlyInTarget)]
);
drift_case!(
    column_dropped,
    "",
    "ALTER TABLE public.encrypted_chats DROP COLUMN custom_name",
    [(
        Column,
        "public.encrypted_chats.custom_name",
        OnlyInMigrations
    )]
);
drift_case!(
    column_type_default_and_not_null,
    "",
    "ALTER TABLE public.encrypted_chats ALTER COLUMN title TYPE varchar(200);
     ALTER TABLE public.profiles ALTER COLUMN credits SET DEFAULT 5;
     ALTER TABLE public.profiles ALTER COLUMN display_name SET NOT NULL;
     ALTER TABLE public.profiles ALTER COLUMN free_messages_used DROP DEFAULT",
    [
        (Column, "public.encrypted_chats.title", Changed),
        (Column, "public.profiles.credits", Changed),
        (Column, "public.profiles.display_name", Changed),
        (Column, "public.profiles.free_messages_used", Changed),
    ]
);
drift_case!(
    column_identity,
    "CREATE TABLE public.counters (id int NOT NULL, n int)",
    "ALTER TABLE public.counters ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY",
    [(Column, "public.counters.id", Changed)]
);
drift_case!(
    table_created_and_dropped,
    "CREATE TABLE public.scratchpad (id int PRIMARY KEY)",
    "DROP TABLE public.scratchpad;
     CREATE TABLE public.notes (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
       body text DEFAULT '' NOT NULL,
       words int GENERATED ALWAYS AS (length(body)) STORED,
       created_at timestamptz DEFAULT now()
     );
     ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
     REVOKE ALL ON public.notes FROM anon;
     GRANT SELECT (body) ON public.notes TO anon;
     CREATE INDEX notes_user ON public.notes (user_id, created_at DESC);
     CREATE POLICY \"own notes\" ON public.notes FOR ALL TO authenticated
       USING (user_id = (select auth.uid())) WITH CHECK (user_id = (select auth.uid()));",
    [
        (Table, "public.notes", OnlyInTarget),
        (Table, "public.scratchpad", OnlyInMigrations),
        (Policy, "public.notes.\"own notes\"", OnlyInTarget),
    ]
);
drift_case!(
    index_added_and_dropped,
    "",
    "CREATE INDEX idx_chats_title ON public.encrypted_chats (lower(title)) WHERE title IS NOT NULL;
     DROP INDEX public.idx_encrypted_chats_user_updated",
    [
        (Index, "public.idx_chats_title", OnlyInTarget),
        (
            Index,
            "public.idx_encrypted_chats_user_updated",
            OnlyInMigrations
        ),
    ]
);
drift_case!(
    constraints,
    "",
    "ALTER TABLE public.profiles ADD CONSTRAINT credits_nonneg CHECK (credits >= 0);
     ALTER TABLE public.encrypted_chats ADD CONSTRAINT title_unique UNIQUE (user_id, title)",
    [
        (Constraint, "public.profiles.credits_nonneg", OnlyInTarget),
        (
            Constraint,
            "public.encrypted_chats.title_unique",
            OnlyInTarget
        ),
    ]
);
drift_case!(
    policies,
    "",
    "ALTER POLICY \"Users can view own profile\" ON public.profiles TO authenticated, anon;
     DROP POLICY \"Users can view own chats\" ON public.encrypted_chats;
     CREATE POLICY \"public images\" ON storage.objects FOR SELECT TO anon USING (bucket_id = 'images');",
    [
        (Policy, "public.profiles.\"Users can view own profile\"", Changed),
        (Policy, "public.encrypted_chats.\"Users can view own chats\"", OnlyInMigrations),
        (Policy, "storage.objects.\"public images\"", OnlyInTarget),
    ]
);
drift_case!(
    rls_flags,
    "",
    "ALTER TABLE public.profiles NO FORCE ROW LEVEL SECURITY;
     ALTER TABLE public.encrypted_chats DISABLE ROW LEVEL SECURITY",
    [
        (Table, "public.profiles", Changed),
        (Table, "public.encrypted_chats", Changed)
    ]
);
drift_case!(
    grants,
    "CREATE SCHEMA app; CREATE SEQUENCE public.invoice_no;",
    "REVOKE DELETE, TRUNCATE ON public.profiles FROM anon;
     GRANT SELECT ON public.encrypted_chats TO pg_monitor WITH GRANT OPTION;
     GRANT UPDATE (display_name) ON public.profiles TO pg_read_all_data;
     REVOKE EXECUTE ON FUNCTION public.update_updated_at_column() FROM PUBLIC;
     GRANT USAGE ON SCHEMA app TO authenticated;
     REVOKE ALL ON SEQUENCE public.invoice_no FROM anon",
    [
        (Table, "public.profiles", Changed),
        (Table, "public.encrypted_chats", Changed),
        (Column, "public.profiles.display_name", Changed),
        (Function, "public.update_updated_at_column()", Changed),
        (Schema, "app", Changed),
        (Sequence, "public.invoice_no", Changed),
    ]
);
drift_case!(
    default_privileges,
    "",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM anon;
     ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO pg_read_all_data",
    [
        (
            DefaultPrivileges,
            "postgres in public on SEQUENCES",
            Changed
        ),
        (DefaultPrivileges, "postgres on TABLES", OnlyInTarget),
    ]
);
drift_case!(
    function_body_security_and_search_path,
    "",
    "CREATE OR REPLACE FUNCTION public.update_updated_at_column() RETURNS trigger
       LANGUAGE plpgsql SET search_path = '' AS $$
     BEGIN
       NEW.updated_at := pg_catalog.clock_timestamp();
       RETURN NEW;
     END;
     $$;
     ALTER FUNCTION public.handle_new_user() SECURITY INVOKER;
     ALTER FUNCTION public.consume_free_message() SET search_path = public, pg_temp;
     CREATE FUNCTION auth.is_admin() RETURNS boolean LANGUAGE sql STABLE AS 'select false';",
    [
        (Function, "public.update_updated_at_column()", Changed),
        (Function, "public.handle_new_user()", Changed),
        (Function, "public.consume_free_message()", Changed),
        (Function, "auth.is_admin()", OnlyInTarget),
    ]
);
drift_case!(
    triggers,
    "",
    "ALTER TABLE public.profiles DISABLE TRIGGER update_profiles_updated_at;
     DROP TRIGGER update_projects_updated_at ON public.projects;
     CREATE TRIGGER touch_settings BEFORE UPDATE OF settings ON public.user_settings
       FOR EACH ROW WHEN (OLD.settings IS DISTINCT FROM NEW.settings)
       EXECUTE FUNCTION public.update_updated_at_column();",
    [
        (
            Trigger,
            "public.profiles.update_profiles_updated_at",
            Changed
        ),
        (
            Trigger,
            "public.projects.update_projects_updated_at",
            OnlyInMigrations
        ),
        (Trigger, "public.user_settings.touch_settings", OnlyInTarget),
    ]
);
drift_case!(
    views_and_security_invoker,
    "CREATE VIEW public.profile_names AS SELECT id, display_name FROM public.profiles;
     CREATE VIEW public.chat_titles AS SELECT id, title FROM public.encrypted_chats;",
    "ALTER VIEW public.profile_names SET (security_invoker = true);
     CREATE OR REPLACE VIEW public.chat_titles AS SELECT id, title, is_starred FROM public.encrypted_chats;
     CREATE MATERIALIZED VIEW public.chat_counts AS SELECT user_id, count(*) AS n FROM public.encrypted_chats GROUP BY user_id;
     CREATE VIEW public.starred WITH (security_barrier) AS SELECT id FROM public.encrypted_chats WHERE is_starred;",
    [
        (View, "public.profile_names", Changed),
        (View, "public.chat_titles", Changed),
        (View, "public.chat_counts", OnlyInTarget),
        (View, "public.starred", OnlyInTarget),
    ]
);
drift_case!(
    enum_labels_and_domains,
    "CREATE TYPE public.mood AS ENUM ('happy', 'sad');
     CREATE DOMAIN public.positive AS int CHECK (VALUE > 0);",
    "ALTER TYPE public.mood ADD VALUE 'ok' AFTER 'happy';
     ALTER TYPE public.mood ADD VALUE 'angry';
     ALTER DOMAIN public.positive SET DEFAULT 1;
     CREATE TYPE public.size AS ENUM ('s', 'm', 'l');
     CREATE TYPE public.pair AS (a int, b text);",
    [
        (Type, "public.mood", Changed),
        (Type, "public.positive", Changed),
        (Type, "public.size", OnlyInTarget),
        (Type, "public.pair", OnlyInTarget),
    ]
);
drift_case!(
    sequences,
    "CREATE SEQUENCE public.invoice_no",
    "ALTER SEQUENCE public.invoice_no INCREMENT BY 5 MAXVALUE 100000 CYCLE;
     CREATE SEQUENCE public.ticket_no AS integer START 1000;",
    [
        (Sequence, "public.invoice_no", Changed),
        (Sequence, "public.ticket_no", OnlyInTarget),
    ]
);
drift_case!(
    extensions,
    "",
    "CREATE EXTENSION citext WITH SCHEMA extensions",
    [(Extension, "citext", OnlyInTarget)]
);
drift_case!(
    publications,
    "",
    "SET client_min_messages = error;
     ALTER PUBLICATION supabase_realtime ADD TABLE public.encrypted_chats, public.profiles;
     CREATE PUBLICATION audit FOR TABLE public.projects WITH (publish = 'insert, delete');",
    [
        (Publication, "supabase_realtime", Changed),
        (Publication, "audit", OnlyInTarget),
    ]
);
drift_case!(
    comments,
    "",
    "COMMENT ON TABLE public.profiles IS 'One row per user; it''s created by a trigger';
     COMMENT ON COLUMN public.profiles.credits IS 'Prepaid credits';
     COMMENT ON FUNCTION public.consume_free_message() IS 'Takes one free message';",
    [
        (Comment, "TABLE public.profiles", OnlyInTarget),
        (Comment, "COLUMN public.profiles.credits", OnlyInTarget),
        (
            Comment,
            "FUNCTION public.consume_free_message()",
            OnlyInTarget
        ),
    ]
);
drift_case!(
    buckets,
    "",
    "INSERT INTO storage.buckets (id, name, public, allowed_mime_types) VALUES ('avatars', 'avatars', true, '{image/png,image/jpeg}');
     UPDATE storage.buckets SET public = true, file_size_limit = 1024 WHERE id = 'images';
     SELECT set_config('storage.allow_delete_query', 'true', true);
     DELETE FROM storage.buckets WHERE id = 'project-files';",
    [
        (Bucket, "avatars", OnlyInTarget),
        (Bucket, "images", Changed),
        (Bucket, "project-files", OnlyInMigrations),
    ]
);
drift_case!(
    event_triggers_and_platform_triggers,
    "",
    "CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
     CREATE EVENT TRIGGER log_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.log_ddl();
     CREATE FUNCTION public.on_user_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
     CREATE TRIGGER on_auth_user_deleted AFTER DELETE ON auth.users FOR EACH ROW EXECUTE FUNCTION public.on_user_deleted();",
    [
        (EventTrigger, "log_ddl", OnlyInTarget),
        (Trigger, "auth.users.on_auth_user_deleted", OnlyInTarget),
    ]
);

#[tokio::test]
async fn no_drift_means_no_differences_and_no_sql() {
    let set = MigrationSet::load_dir(chat_app_dir()).unwrap();
    let target = TestDb::new("diff_none").await;
    Migrator::new(set.clone())
        .with_options(PushOptions {
            platform: Platform::Supabase,
            ..PushOptions::default()
        })
        .push(&target.target())
        .await
        .unwrap();
    let scratch = ScratchDb::create(&server(), "difftest").await.unwrap();
    scratch.build(set, Platform::Supabase).await.unwrap();
    let s = scratch.target().connect().await.unwrap();
    let built = user_catalog(&s).await;
    let actual = user_catalog(&target.client().await).await;
    assert!(built.objects.len() > 100, "{}", built.objects.len());
    assert_eq!(render(&compare(&built, &actual).await), "");
    assert_eq!(fix(&built, &actual).await.sql, "");
    drop(s);
    scratch.drop_now().await.unwrap();
}

#[tokio::test]
async fn platform_objects_are_left_out_but_user_objects_in_platform_schemas_stay() {
    let set = MigrationSet::load_dir(chat_app_dir()).unwrap();
    let scratch = ScratchDb::create(&server(), "difftest").await.unwrap();
    scratch.build(set, Platform::Supabase).await.unwrap();
    let s = scratch.target().connect().await.unwrap();
    let all = Catalog::capture(&s).await.unwrap();
    let mut user = all.clone();
    supabase_scope().await.apply(&mut user);
    let has = |c: &Catalog, kind: Kind, name: &str| {
        c.objects
            .keys()
            .any(|id| id.kind == kind && id.name == name)
    };
    assert!(has(&all, Kind::Table, "auth.users"));
    assert!(!has(&user, Kind::Table, "auth.users"));
    assert!(has(&all, Kind::Function, "auth.uid()"));
    assert!(!has(&user, Kind::Function, "auth.uid()"));
    assert!(!has(&user, Kind::Extension, "pgcrypto"));
    // The chat app's trigger on auth.users and its storage policies and buckets are its own.
    assert!(has(&user, Kind::Trigger, "auth.users.on_auth_user_created"));
    assert!(user
        .objects
        .keys()
        .any(|id| id.kind == Kind::Policy && id.name.starts_with("storage.objects.")));
    assert!(has(&user, Kind::Bucket, "images"));
    // --schema public: only public's objects.
    let mut public = all.clone();
    public.retain_schemas(&["public".to_string()]);
    assert!(public
        .objects
        .values()
        .all(|o| o.schema.as_deref() == Some("public")));
    assert!(has(&public, Kind::Table, "public.profiles"));
    drop(s);
    scratch.drop_now().await.unwrap();
}
