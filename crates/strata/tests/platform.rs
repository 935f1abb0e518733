//! The Supabase platform emulation against what real Supabase migrations reference: the whole
//! auth schema (triggers on auth.mfa_factors, the custom access token hook's grants), realtime
//! (policies on realtime.messages, realtime.send), vault, database webhooks, pg_net's interface and
//! storage buckets with their limits. Also: an upgrade from the first emulation keeps the data,
//! a second install changes nothing, and what is missing is named.

mod support;

use std::path::Path;

use strata::apply::{PushOptions, PushReport};
use strata::platform::{self, Platform};
use strata::{Error, MigrationSet, Migrator};
use support::{migrations_dir, TestDb};

async fn push(db: &TestDb, dir: &Path) -> Result<PushReport, Error> {
    Migrator::new(MigrationSet::load_dir(dir)?)
        .with_options(PushOptions {
            platform: Platform::Supabase,
            ..PushOptions::default()
        })
        .push(&db.target())
        .await
}

async fn one<T: for<'a> tokio_postgres::types::FromSql<'a>>(db: &TestDb, sql: &str) -> T {
    db.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

/// What real projects' migrations do with the platform, one file each.
const PROJECT: &[(&str, &str)] = &[
    (
        "20240101000000_profiles.sql",
        "create table public.profiles (id uuid primary key references auth.users on delete cascade, username text);
alter table public.profiles enable row level security;
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, username) values (new.id, new.raw_user_meta_data ->> 'username');
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute procedure public.handle_new_user();
",
    ),
    (
        "20240102000000_mfa_audit.sql",
        "create table public.mfa_events (factor_id uuid, user_id uuid, at timestamptz default now());
create function public.on_mfa_factor() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.mfa_events (factor_id, user_id) values (new.id, new.user_id);
  return new;
end $$;
create trigger on_mfa_factor_created after insert on auth.mfa_factors for each row execute function public.on_mfa_factor();
create index on auth.sessions (user_id, not_after);
",
    ),
    (
        "20240103000000_access_token_hook.sql",
        "create function public.custom_access_token_hook(event jsonb) returns jsonb language plpgsql stable as $$
begin
  return jsonb_set(event, '{claims,app_role}', to_jsonb('member'::text));
end $$;
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook from authenticated, anon, public;
grant select on table public.profiles to supabase_auth_admin;
create policy \"auth admin reads profiles\" on public.profiles as permissive for select to supabase_auth_admin using (true);
",
    ),
    (
        "20240104000000_realtime.sql",
        "create table public.messages (id bigint generated always as identity primary key, room text not null, body text);
alter publication supabase_realtime add table public.messages;
create policy \"members receive room broadcasts\" on realtime.messages for select to authenticated
  using (realtime.topic() = 'room:' || (select auth.uid())::text);
create function public.broadcast_message() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  perform realtime.send(jsonb_build_object('body', new.body), 'message', 'room:' || new.room, true);
  perform realtime.broadcast_changes('room:' || new.room, tg_op, tg_op, tg_table_name, tg_table_schema, new, old);
  return new;
end $$;
create trigger messages_broadcast after insert on public.messages for each row execute function public.broadcast_message();
",
    ),
    (
        "20240105000000_vault_and_webhooks.sql",
        "select vault.create_secret('s3cr3t-service-key', 'service_key', 'key the webhook sends');
create table public.orders (id bigint primary key, total numeric);
create trigger orders_webhook after insert on public.orders for each row
  execute function supabase_functions.http_request('http://localhost:54321/functions/v1/order', 'POST', '{\"Content-Type\":\"application/json\"}', '{}', '1000');
create function public.notify_order() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  perform net.http_post(
    url := 'https://hooks.example.com/orders',
    headers := jsonb_build_object('Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'service_key')),
    body := jsonb_build_object('id', new.id));
  return new;
end $$;
create trigger orders_notify after insert on public.orders for each row execute function public.notify_order();
",
    ),
    (
        "20240106000000_storage.sql",
        "insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('avatars', 'avatars', true, 1048576, array['image/png', 'image/jpeg']);
create policy \"users upload their avatar\" on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);
",
    ),
];

#[tokio::test]
async fn real_supabase_migrations_apply_and_their_triggers_fire() {
    let db = TestDb::new("platform_project").await;
    let dir = migrations_dir(PROJECT);
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(report.applied.len(), PROJECT.len());
    assert_eq!(report.platform.as_ref().unwrap().status, "installed");

    // The platform's own writes fire the project's triggers, as GoTrue's would.
    let c = db.client().await;
    c.batch_execute(
        "insert into auth.users (id, raw_user_meta_data) values ('00000000-0000-0000-0000-000000000001', '{\"username\":\"ada\"}');
         insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at)
           values (gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'phone', 'totp', 'unverified', now(), now());
         insert into public.messages (room, body) values ('1', 'hello');
         insert into public.orders values (1, 9.5);",
    )
    .await
    .unwrap();
    assert_eq!(
        one::<String>(&db, "select username from public.profiles").await,
        "ada"
    );
    assert_eq!(
        one::<i64>(&db, "select count(*) from public.mfa_events").await,
        1
    );
    assert_eq!(
        one::<i64>(&db, "select count(*) from realtime.messages").await,
        2,
        "realtime.send and realtime.broadcast_changes each write a message"
    );
    // pg_net's stand-in queued the two requests (webhook and trigger) and sent nothing.
    if one::<bool>(
        &db,
        "select not exists (select 1 from pg_available_extensions where name = 'pg_net')",
    )
    .await
    {
        assert_eq!(
            one::<i64>(&db, "select count(*) from net.http_request_queue").await,
            2
        );
        assert_eq!(
            one::<String>(
                &db,
                "select headers ->> 'Authorization' from net.http_request_queue where url like 'https://hooks%'"
            )
            .await,
            "Bearer s3cr3t-service-key"
        );
    }
    assert_eq!(
        one::<Option<i64>>(
            &db,
            "select file_size_limit from storage.buckets where id = 'avatars'"
        )
        .await,
        Some(1048576)
    );
}

#[tokio::test]
async fn a_second_install_changes_nothing() {
    let db = TestDb::new("platform_twice").await;
    let c = db.client().await;
    platform::ensure(&c, Platform::Supabase, false)
        .await
        .unwrap();
    let fingerprint = "select count(*)::bigint from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname in ('auth', 'storage', 'realtime', 'vault', 'supabase_functions', 'net', 'extensions')";
    let before: i64 = one(&db, fingerprint).await;
    // Installing again over the current version (what an interrupted upgrade retries) succeeds
    // and creates nothing new.
    let state = platform::PlatformState::Outdated { version: 1 };
    platform::install(&c, &state).await.unwrap();
    assert_eq!(one::<i64>(&db, fingerprint).await, before);
    let state = platform::inspect(&c).await.unwrap();
    assert!(
        matches!(state, platform::PlatformState::Current { version, .. } if version == platform::SUPABASE_VERSION)
    );
}

#[tokio::test]
async fn the_first_emulation_is_upgraded_and_keeps_its_data() {
    let db = TestDb::new("platform_v1").await;
    let c = db.client().await;
    // The roles are the server's, there already (or created by the current script).
    c.batch_execute(platform::SUPABASE_ROLES_SQL).await.unwrap();
    c.batch_execute(include_str!("fixtures/supabase_emulation_v1.sql"))
        .await
        .unwrap();
    c.batch_execute(
        "insert into auth.users (id, email) values ('00000000-0000-0000-0000-0000000000aa', 'old@example.com');
         insert into storage.buckets (id, name) values ('old', 'old');",
    )
    .await
    .unwrap();
    assert_eq!(
        platform::inspect(&c).await.unwrap(),
        platform::PlatformState::Outdated { version: 1 }
    );
    drop(c);
    let dir = migrations_dir(&PROJECT[..2]);
    let report = push(&db, dir.path()).await.unwrap();
    assert_eq!(report.platform.as_ref().unwrap().status, "upgraded");
    assert_eq!(
        one::<String>(&db, "select email from auth.users").await,
        "old@example.com"
    );
    assert_eq!(
        one::<i64>(&db, "select count(*) from storage.buckets where id = 'old'").await,
        1
    );
    assert_eq!(
        one::<i32>(
            &db,
            "select version from strata_platform.emulation where component = 'supabase'"
        )
        .await,
        platform::SUPABASE_VERSION
    );
}

fn hint(e: Error) -> String {
    match e {
        Error::Migration(m) => m.hint.unwrap_or_default(),
        other => panic!("expected a migration error, got {other}"),
    }
}

#[tokio::test]
async fn what_the_emulation_lacks_is_named_as_a_platform_object() {
    let db = TestDb::new("platform_missing").await;
    let dir = migrations_dir(&[(
        "1_hook.sql",
        "create function public.f() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger t after insert on auth.not_a_gotrue_table for each row execute function public.f();
",
    )]);
    let h = hint(push(&db, dir.path()).await.unwrap_err());
    assert!(
        h.contains("auth.not_a_gotrue_table is a Supabase platform object")
            && h.contains("emulation"),
        "{h}"
    );

    let dir = migrations_dir(&[("1_graphql.sql", "select graphql.resolve('{ a }');\n")]);
    let h = hint(push(&db, dir.path()).await.unwrap_err());
    assert!(
        h.contains("Strata does not emulate") && h.contains("pg_graphql"),
        "{h}"
    );
}

#[tokio::test]
async fn a_supabase_extension_the_server_lacks_says_how_to_get_it() {
    let db = TestDb::new("platform_ext").await;
    let dir = migrations_dir(&[(
        "1_graphql.sql",
        "create extension if not exists pg_graphql with schema graphql;\n",
    )]);
    let e = push(&db, dir.path()).await.unwrap_err();
    let Error::Migration(m) = e else {
        panic!("expected a migration error")
    };
    assert!(m.message.contains("pg_graphql"), "{}", m.message);
    let h = m.hint.unwrap();
    assert!(
        h.contains("pg_graphql is a Supabase extension")
            && h.contains("github.com/supabase/pg_graphql"),
        "{h}"
    );

    // An extension with a Debian package: the package for this server's major version.
    let available: bool = one(
        &db,
        "select exists (select 1 from pg_available_extensions where name = 'pg_cron')",
    )
    .await;
    if !available {
        let major: i32 = one(
            &db,
            "select current_setting('server_version_num')::int / 10000",
        )
        .await;
        let dir = migrations_dir(&[("1_cron.sql", "create extension pg_cron;\n")]);
        let h = hint(push(&db, dir.path()).await.unwrap_err());
        assert!(h.contains(&format!("postgresql-{major}-cron")), "{h}");
        assert!(h.contains("shared_preload_libraries"), "{h}");
    }
}
