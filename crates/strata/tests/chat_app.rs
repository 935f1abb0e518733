//! The chat-app example's row-level security, proven through Strata.
//!
//! Each test pushes `examples/chat-app` with Strata onto its own database (Supabase emulation
//! included), creates two users, Alice (A) and Bob (B), with data in every table and both
//! buckets, and then acts as them with [`strata::act::run_as`], the way PostgREST runs a
//! request. The migration files themselves are checked with the real `psql`: each applies twice,
//! and each `_rollback.sql` returns the catalog exactly to where it was.
//!
//! Run: `cargo test -p strata --test chat_app`.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use strata::act::{run_as, ActResult, Actor};
use strata::platform::{self, Platform};
use strata::{MigrationSet, Migrator, PushOptions};
use support::TestDb;
use tokio_postgres::Client;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// A user and the ids of their fixture rows.
struct User {
    id: &'static str,
    name: &'static str,
    /// Linked into `project`.
    chat: &'static str,
    /// Not linked anywhere.
    chat2: &'static str,
    project: &'static str,
}

const ALICE: User = User {
    id: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
    name: "Alice",
    chat: "a0000000-0000-4000-8000-000000000001",
    chat2: "a0000000-0000-4000-8000-000000000003",
    project: "a0000000-0000-4000-8000-000000000002",
};

const BOB: User = User {
    id: "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
    name: "Bob",
    chat: "b0000000-0000-4000-8000-000000000001",
    chat2: "b0000000-0000-4000-8000-000000000003",
    project: "b0000000-0000-4000-8000-000000000002",
};

/// A bucket with no policies at all: nobody but service_role may touch it.
const VAULT: &str = "vault";

impl User {
    fn actor(&self) -> Actor {
        Actor::User(self.id.to_string())
    }
}

fn fixtures_sql(u: &User) -> String {
    let User {
        id,
        name,
        chat,
        chat2,
        project,
    } = u;
    format!(
        r#"
INSERT INTO auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
VALUES ('{id}', 'authenticated', 'authenticated', '{name}@example.com',
        '{{"display_name": "{name}"}}', now(), now());
INSERT INTO public.encrypted_chats (id, user_id, encrypted_data, title) VALUES
  ('{chat}', '{id}', 'ciphertext', '{name} chat'),
  ('{chat2}', '{id}', 'ciphertext', '{name} chat 2');
INSERT INTO public.projects (id, user_id, name) VALUES ('{project}', '{id}', '{name} project');
INSERT INTO public.project_chats (project_id, chat_id) VALUES ('{project}', '{chat}');
INSERT INTO public.project_files (project_id, user_id, name, storage_path)
VALUES ('{project}', '{id}', 'doc.md', '{id}/{project}/doc.md');
INSERT INTO public.image_gen_settings (user_id) VALUES ('{id}');
INSERT INTO public.user_settings (user_id, settings) VALUES ('{id}', '{{"theme": "dark"}}');
INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES
  ('images', '{id}/pic.png', '{id}'),
  ('project-files', '{id}/{project}/doc.md', '{id}'),
  ('{VAULT}', '{id}/secret.txt', '{id}');
"#
    )
}

/// A database with the example pushed by Strata, Alice, Bob and their data.
async fn setup(tag: &str) -> (TestDb, Client) {
    let db = TestDb::new(tag).await;
    push(&db).await;
    let c = db.client().await;
    c.batch_execute(&format!(
        "INSERT INTO storage.buckets (id, name) VALUES ('{VAULT}', '{VAULT}');\n{}{}",
        fixtures_sql(&ALICE),
        fixtures_sql(&BOB)
    ))
    .await
    .expect("insert fixtures");
    // The base schema's trigger on auth.users created the profiles.
    let profiles: Vec<(String, Option<String>)> = c
        .query(
            "select id::text, display_name from public.profiles order by id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        profiles,
        vec![
            (ALICE.id.to_string(), Some("Alice".to_string())),
            (BOB.id.to_string(), Some("Bob".to_string()))
        ],
        "on_auth_user_created should create one profile per user"
    );
    (db, c)
}

async fn push(db: &TestDb) -> strata::PushReport {
    let set = MigrationSet::load_dir(support::chat_app_dir()).expect("load the example");
    Migrator::new(set)
        .with_options(PushOptions {
            platform: Platform::Supabase,
            ..Default::default()
        })
        .push(&db.target())
        .await
        .unwrap_or_else(|e| panic!("strata push of the example failed: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Acting
// ---------------------------------------------------------------------------------------------

fn sqlstate(e: &strata::Error) -> Option<&str> {
    match e {
        strata::Error::Database { code, .. } => code.as_deref(),
        _ => None,
    }
}

/// Prefixed to a DELETE on storage tables: Supabase refuses direct deletes there unless the
/// transaction says `storage.allow_delete_query = 'true'`, which the Storage API does for the
/// requests it serves (with the user's role and claims, so RLS still decides).
const VIA_STORAGE_API: &str = "SELECT set_config('storage.allow_delete_query', 'true', true); ";

/// Runs `sql` as `who` and rolls it back; it must succeed.
async fn act(c: &Client, who: &Actor, sql: &str) -> ActResult {
    run_as(c, who, sql, true).await.unwrap_or_else(|e| {
        panic!(
            "as {who}: `{sql}` failed: {e} (SQLSTATE {:?})",
            sqlstate(&e)
        )
    })
}

/// Runs `sql` as `who`; it must be refused (insufficient privilege or an RLS violation).
async fn denied(c: &Client, who: &Actor, sql: &str) {
    match run_as(c, who, sql, true).await {
        Err(e) if sqlstate(&e) == Some("42501") => {}
        Err(e) => panic!(
            "as {who}: `{sql}` failed with `{e}` (SQLSTATE {:?}); expected a refusal (42501)",
            sqlstate(&e)
        ),
        Ok(r) => panic!(
            "as {who}: `{sql}` was allowed ({:?} rows: {:?}); expected a refusal (42501)",
            r.rows_affected, r.rows
        ),
    }
}

/// Runs `sql` as `who`; it must run and touch (or return) no row.
async fn no_rows(c: &Client, who: &Actor, sql: &str) {
    let r = act(c, who, sql).await;
    assert_eq!(
        r.rows_affected,
        Some(0),
        "as {who}: `{sql}` reached rows {:?}; expected none",
        r.rows
    );
}

/// Runs `sql` as `who` and commits if it succeeds; it must be refused or touch no row.
async fn no_effect(c: &Client, who: &Actor, sql: &str) {
    match run_as(c, who, sql, false).await {
        Err(e) if sqlstate(&e) == Some("42501") => {}
        Err(e) => panic!(
            "as {who}: `{sql}` failed with `{e}` (SQLSTATE {:?}); expected a refusal or no rows",
            sqlstate(&e)
        ),
        Ok(r) => assert_eq!(
            r.rows_affected,
            Some(0),
            "as {who}: `{sql}` reached rows {:?}; expected none",
            r.rows
        ),
    }
}

/// The first column of a result, NULLs as "NULL".
fn col(r: &ActResult) -> Vec<String> {
    r.rows
        .iter()
        .map(|row| row[0].clone().unwrap_or_else(|| "NULL".into()))
        .collect()
}

fn times(s: &str, n: usize) -> Vec<String> {
    vec![s.to_string(); n]
}

/// A number, as the test's superuser connection (no RLS).
async fn scalar(c: &Client, sql: &str) -> i64 {
    c.query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// The tables of schema public.
async fn public_tables(c: &Client) -> Vec<String> {
    c.query(
        "select relname::text from pg_class where relnamespace = 'public'::regnamespace \
         and relkind in ('r', 'p') order by 1",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Row count and content hash of every table an API request could reach, as the superuser.
async fn fingerprint(c: &Client) -> Vec<(String, i64, String)> {
    let mut tables: Vec<String> = public_tables(c)
        .await
        .into_iter()
        .map(|t| format!("public.{t}"))
        .collect();
    tables.extend(["storage.objects", "storage.buckets", "auth.users"].map(String::from));
    let sql = tables
        .iter()
        .map(|t| {
            format!(
                "select '{t}'::text, count(*), md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from {t} x"
            )
        })
        .collect::<Vec<_>>()
        .join(" union all ");
    c.query(&sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tables, as the app uses them
// ---------------------------------------------------------------------------------------------

/// A table whose rows belong to one user.
struct Owned {
    table: &'static str,
    /// The column naming the owner.
    owner: &'static str,
    /// A change the app makes to a row.
    update: &'static str,
    /// Whether the app may delete rows.
    delete: bool,
    /// Whether a user may insert a row for themselves (`insert`).
    insert_own: bool,
    /// The app's write of a new row owned by the user.
    insert: fn(&User) -> String,
}

const OWNED: &[Owned] = &[
    Owned {
        table: "public.profiles",
        owner: "id",
        update: "display_name = 'renamed'",
        delete: false,
        // Profiles are created by the trigger on auth.users only.
        insert_own: false,
        insert: |u| {
            format!(
                "INSERT INTO public.profiles (id, display_name) VALUES ('{}', 'x') \
                 ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name",
                u.id
            )
        },
    },
    Owned {
        table: "public.encrypted_chats",
        owner: "user_id",
        update: "title = 'renamed', is_starred = true",
        delete: true,
        insert_own: true,
        insert: |u| {
            format!(
                "INSERT INTO public.encrypted_chats (user_id, encrypted_data) VALUES ('{}', 'x')",
                u.id
            )
        },
    },
    Owned {
        table: "public.projects",
        owner: "user_id",
        update: "name = 'renamed', is_archived = true",
        delete: true,
        insert_own: true,
        insert: |u| {
            format!(
                "INSERT INTO public.projects (user_id, name) VALUES ('{}', 'new')",
                u.id
            )
        },
    },
    Owned {
        table: "public.project_files",
        owner: "user_id",
        update: "name = 'renamed.md', markdown_summary = '# Summary'",
        delete: true,
        insert_own: true,
        insert: |u| {
            format!(
                "INSERT INTO public.project_files (project_id, user_id, name, storage_path) \
                 VALUES ('{p}', '{id}', 'new.md', '{id}/{p}/new.md')",
                p = u.project,
                id = u.id
            )
        },
    },
    Owned {
        table: "public.image_gen_settings",
        owner: "user_id",
        update: "quality = 'hd', style = 'natural'",
        delete: false,
        insert_own: true,
        // The app's upsert.
        insert: |u| {
            format!(
                "INSERT INTO public.image_gen_settings (user_id, quality) VALUES ('{}', 'hd') \
                 ON CONFLICT (user_id) DO UPDATE SET quality = excluded.quality",
                u.id
            )
        },
    },
    Owned {
        table: "public.user_settings",
        owner: "user_id",
        update: "settings = '{\"theme\": \"light\"}'",
        delete: false,
        insert_own: true,
        insert: |u| {
            format!(
                "INSERT INTO public.user_settings (user_id, settings) VALUES ('{}', '{{}}') \
                 ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings",
                u.id
            )
        },
    },
];

/// The tables checked by `users_see_and_change_only_their_own_rows` besides [`OWNED`].
const SHARED: &[&str] = &["public.free_message_config", "public.project_chats"];

/// `me` reads, changes and deletes only their own rows of `t`, and cannot write rows for `other`.
async fn check_owned(c: &Client, t: &Owned, me: &User, other: &User) {
    let who = me.actor();
    let (table, owner) = (t.table, t.owner);
    let mine = scalar(
        c,
        &format!("select count(*) from {table} where {owner} = '{}'", me.id),
    )
    .await as usize;
    assert!(mine >= 1, "{table}: no fixture rows for {}", me.name);

    // Read.
    let r = act(c, &who, &format!("SELECT {owner}::text FROM {table}")).await;
    assert_eq!(
        col(&r),
        times(me.id, mine),
        "{table}: what {} reads",
        me.name
    );

    // Update: own rows only, and never to another owner. A statement without WHERE or
    // RETURNING is checked by the UPDATE policy alone (with either, PostgreSQL also applies the
    // SELECT policy, which could hide a hole in the UPDATE policy).
    let r = act(c, &who, &format!("UPDATE {table} SET {}", t.update)).await;
    assert_eq!(
        r.rows_affected,
        Some(mine as u64),
        "{table}: rows {} updates",
        me.name
    );
    let r = act(
        c,
        &who,
        &format!("UPDATE {table} SET {} RETURNING {owner}::text", t.update),
    )
    .await;
    assert_eq!(
        col(&r),
        times(me.id, mine),
        "{table}: what {} updates",
        me.name
    );
    no_rows(
        c,
        &who,
        &format!(
            "UPDATE {table} SET {} WHERE {owner} = '{}'",
            t.update, other.id
        ),
    )
    .await;
    denied(
        c,
        &who,
        &format!(
            "UPDATE {table} SET {owner} = '{}' WHERE {owner} = '{}'",
            other.id, me.id
        ),
    )
    .await;

    // Delete: own rows only, and only where the app deletes at all.
    if t.delete {
        let r = act(c, &who, &format!("DELETE FROM {table}")).await;
        assert_eq!(
            r.rows_affected,
            Some(mine as u64),
            "{table}: rows {} deletes",
            me.name
        );
        let r = act(
            c,
            &who,
            &format!("DELETE FROM {table} RETURNING {owner}::text"),
        )
        .await;
        assert_eq!(
            col(&r),
            times(me.id, mine),
            "{table}: what {} deletes",
            me.name
        );
    } else {
        no_rows(c, &who, &format!("DELETE FROM {table}")).await;
    }
    no_rows(
        c,
        &who,
        &format!("DELETE FROM {table} WHERE {owner} = '{}'", other.id),
    )
    .await;

    // Insert: never a row owned by someone else.
    denied(c, &who, &(t.insert)(other)).await;
    if t.insert_own {
        let r = act(c, &who, &(t.insert)(me)).await;
        assert_eq!(
            r.rows_affected,
            Some(1),
            "{table}: {} writes own row",
            me.name
        );
    } else {
        denied(c, &who, &(t.insert)(me)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: acting
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn act_runs_as_the_actor_and_leaves_the_connection_clean() {
    let (_db, c) = setup("act").await;
    let alice = ALICE.actor();

    // Malformed user ids are refused before anything runs.
    for bad in [
        "alice",
        "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa",
        "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaz",
        "aaaaaaaaa-aaa-4aaa-8aaa-aaaaaaaaaaaa",
        "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa'",
    ] {
        match run_as(&c, &Actor::User(bad.into()), "select 1", true).await {
            Err(e @ strata::Error::Setting { .. }) => {
                assert!(e.to_string().contains("not a user id"), "{e}")
            }
            other => panic!("user id {bad:?} accepted: {other:?}"),
        }
    }
    assert!(Actor::parse("anon").unwrap() == Actor::Anon);
    assert!(Actor::parse("service_role").unwrap() == Actor::ServiceRole);
    assert!(Actor::parse(&format!("user:{}", ALICE.id)).unwrap() == alice);
    assert!(Actor::parse("nobody").is_err());

    // Claims and role, as PostgREST sets them.
    let who_sql =
        "select auth.uid()::text as uid, current_user::text as role, auth.role() as claim";
    let r = act(&c, &alice, who_sql).await;
    assert_eq!(r.columns, ["uid", "role", "claim"]);
    assert_eq!(
        r.rows,
        [[
            Some(ALICE.id.into()),
            Some("authenticated".into()),
            Some("authenticated".into())
        ]]
    );
    assert_eq!(r.role, "authenticated");
    assert_eq!(r.actor, format!("user {}", ALICE.id));
    let r = act(&c, &Actor::Anon, who_sql).await;
    assert_eq!(r.rows, [[None, Some("anon".into()), Some("anon".into())]]);
    let r = act(&c, &Actor::ServiceRole, who_sql).await;
    assert_eq!(
        r.rows,
        [[
            None,
            Some("service_role".into()),
            Some("service_role".into())
        ]]
    );

    // Several statements: the rows of the last one that returned rows, the count of the last.
    let r = act(
        &c,
        &alice,
        "select 1 as one; select title from public.encrypted_chats order by title; \
         update public.encrypted_chats set is_starred = true",
    )
    .await;
    assert_eq!(r.columns, ["title"]);
    assert_eq!(col(&r), ["Alice chat", "Alice chat 2"]);
    assert_eq!(r.rows_affected, Some(2));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["columns"][0], "title");
    assert_eq!(json["committed"], false);

    // Rollback vs commit.
    let starred = "select count(*) from public.encrypted_chats where is_starred";
    assert_eq!(scalar(&c, starred).await, 0, "rolled back");
    let r = run_as(
        &c,
        &alice,
        "update public.encrypted_chats set is_starred = true",
        false,
    )
    .await
    .unwrap();
    assert!(r.committed);
    assert_eq!(scalar(&c, starred).await, 2, "committed");

    // A failure: the error carries the SQLSTATE, nothing of the transaction stays, and the
    // connection is back to its own role, settings and no transaction.
    let e = run_as(
        &c,
        &alice,
        "update public.encrypted_chats set is_starred = false; select 1/0",
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(sqlstate(&e), Some("22012"), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("running as user {}", ALICE.id)),
        "{e}"
    );
    assert_eq!(scalar(&c, starred).await, 2, "failed request rolled back");
    let e = run_as(&c, &alice, &(OWNED[1].insert)(&BOB), false)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), Some("42501"), "{e}");
    // A simple query's first statement starts a transaction unless one is still open.
    let state: Vec<Option<String>> = match &c
        .simple_query(
            "select current_user = session_user, \
                    coalesce(current_setting('request.jwt.claims', true), '') = '', \
                    now() = statement_timestamp()",
        )
        .await
        .unwrap()[1]
    {
        tokio_postgres::SimpleQueryMessage::Row(r) => {
            (0..3).map(|i| r.get(i).map(str::to_string)).collect()
        }
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        state,
        [Some("t".into()), Some("t".into()), Some("t".into())],
        "role reset, claims reset, no transaction left open"
    );
}

// ---------------------------------------------------------------------------------------------
// Tests: row-level security of every table
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_see_and_change_only_their_own_rows() {
    let (_db, c) = setup("own_rows").await;
    let before = fingerprint(&c).await;

    // Every table of public is covered here.
    let mut covered: Vec<String> = OWNED
        .iter()
        .map(|t| t.table.to_string())
        .chain(SHARED.iter().map(|t| t.to_string()))
        .map(|t| t.trim_start_matches("public.").to_string())
        .collect();
    covered.sort();
    assert_eq!(
        public_tables(&c).await,
        covered,
        "a table of public has no RLS test"
    );

    for (me, other) in [(&ALICE, &BOB), (&BOB, &ALICE)] {
        for t in OWNED {
            check_owned(&c, t, me, other).await;
        }
    }

    // project_chats: links are decided by who owns the project AND the chat.
    let a = ALICE.actor();
    let link = |project: &str, chat: &str| {
        format!(
            "INSERT INTO public.project_chats (project_id, chat_id) VALUES ('{project}', '{chat}')"
        )
    };
    let r = act(&c, &a, "SELECT project_id::text FROM public.project_chats").await;
    assert_eq!(col(&r), [ALICE.project]);
    act(&c, &a, &link(ALICE.project, ALICE.chat2)).await;
    denied(&c, &a, &link(ALICE.project, BOB.chat2)).await;
    denied(&c, &a, &link(BOB.project, ALICE.chat2)).await;
    denied(&c, &a, &link(BOB.project, BOB.chat2)).await;
    // A new project of her own, with her chat: fine; with Bob's chat: no.
    let own_project = "a0000000-0000-4000-8000-0000000000ff";
    let new_project = format!(
        "INSERT INTO public.projects (id, user_id, name) VALUES ('{own_project}', '{}', 'p2');",
        ALICE.id
    );
    act(
        &c,
        &a,
        &format!("{new_project} {}", link(own_project, ALICE.chat)),
    )
    .await;
    denied(
        &c,
        &a,
        &format!("{new_project} {}", link(own_project, BOB.chat)),
    )
    .await;
    // No UPDATE: a link cannot be moved into Bob's project or onto Bob's chat.
    no_rows(
        &c,
        &a,
        &format!(
            "UPDATE public.project_chats SET project_id = '{}'",
            BOB.project
        ),
    )
    .await;
    no_rows(
        &c,
        &a,
        &format!("UPDATE public.project_chats SET chat_id = '{}'", BOB.chat2),
    )
    .await;
    let r = act(&c, &a, "DELETE FROM public.project_chats").await;
    assert_eq!(
        r.rows_affected,
        Some(1),
        "project_chats: links Alice deletes"
    );
    let r = act(
        &c,
        &a,
        "DELETE FROM public.project_chats RETURNING project_id::text",
    )
    .await;
    assert_eq!(col(&r), [ALICE.project]);
    no_rows(
        &c,
        &a,
        &format!(
            "DELETE FROM public.project_chats WHERE project_id = '{}'",
            BOB.project
        ),
    )
    .await;

    // project_files: a row must point into her own project and her own storage folder.
    let file = |project: &str, path: &str| {
        format!(
            "INSERT INTO public.project_files (project_id, user_id, name, storage_path) \
             VALUES ('{project}', '{}', 'x.md', '{path}')",
            ALICE.id
        )
    };
    denied(&c, &a, &file(BOB.project, &format!("{}/x.md", ALICE.id))).await;
    denied(&c, &a, &file(ALICE.project, &format!("{}/x.md", BOB.id))).await;
    denied(
        &c,
        &a,
        &format!(
            "UPDATE public.project_files SET project_id = '{}'",
            BOB.project
        ),
    )
    .await;
    denied(
        &c,
        &a,
        &format!(
            "UPDATE public.project_files SET storage_path = '{}/{}/doc.md'",
            BOB.id, BOB.project
        ),
    )
    .await;

    // free_message_config: readable, not writable.
    let r = act(
        &c,
        &a,
        "SELECT free_message_limit::text FROM public.free_message_config",
    )
    .await;
    assert_eq!(col(&r), ["10"]);
    no_rows(
        &c,
        &a,
        "UPDATE public.free_message_config SET free_message_limit = 1000",
    )
    .await;
    no_rows(&c, &a, "DELETE FROM public.free_message_config").await;
    denied(
        &c,
        &a,
        "INSERT INTO public.free_message_config (id, free_message_limit) VALUES (true, 1000) \
         ON CONFLICT (id) DO UPDATE SET free_message_limit = 1000",
    )
    .await;

    assert_eq!(
        fingerprint(&c).await,
        before,
        "everything above was rolled back"
    );
}

#[tokio::test]
async fn anon_reads_and_writes_nothing() {
    let (_db, c) = setup("anon").await;
    let anon = Actor::Anon;
    let before = fingerprint(&c).await;

    let mut tables: Vec<String> = public_tables(&c)
        .await
        .into_iter()
        .map(|t| format!("public.{t}"))
        .collect();
    tables.extend(["storage.objects", "storage.buckets"].map(String::from));
    for t in &tables {
        let r = act(&c, &anon, &format!("SELECT * FROM {t}")).await;
        assert!(r.rows.is_empty(), "anon reads {t}: {:?}", r.rows);
        // Writes are committed when allowed: the fingerprint below proves nothing changed.
        no_effect(&c, &anon, &format!("DELETE FROM {t}")).await;
    }
    for t in OWNED {
        no_effect(&c, &anon, &format!("UPDATE {} SET {}", t.table, t.update)).await;
        denied(&c, &anon, &(t.insert)(&ALICE)).await;
    }
    no_effect(
        &c,
        &anon,
        "UPDATE public.project_chats SET chat_id = chat_id",
    )
    .await;
    no_effect(
        &c,
        &anon,
        "UPDATE public.free_message_config SET free_message_limit = 1000",
    )
    .await;
    denied(
        &c,
        &anon,
        &format!(
            "INSERT INTO public.project_chats (project_id, chat_id) VALUES ('{}', '{}')",
            ALICE.project, ALICE.chat2
        ),
    )
    .await;
    denied(
        &c,
        &anon,
        "INSERT INTO public.free_message_config (id, free_message_limit) VALUES (true, 1) \
         ON CONFLICT (id) DO UPDATE SET free_message_limit = 1",
    )
    .await;
    denied(&c, &anon, "SELECT public.consume_free_message()").await;
    denied(&c, &anon, "SELECT count(*) FROM auth.users").await;
    for (bucket, name) in [
        ("images", format!("{}/x.png", ALICE.id)),
        (
            "project-files",
            format!("{}/{}/x.md", ALICE.id, ALICE.project),
        ),
        (VAULT, "x.txt".to_string()),
    ] {
        denied(
            &c,
            &anon,
            &format!("INSERT INTO storage.objects (bucket_id, name) VALUES ('{bucket}', '{name}')"),
        )
        .await;
    }
    no_effect(
        &c,
        &anon,
        "UPDATE storage.objects SET name = name || '.moved'",
    )
    .await;
    no_effect(&c, &anon, "UPDATE storage.buckets SET public = true").await;
    denied(
        &c,
        &anon,
        "INSERT INTO storage.buckets (id, name, public) VALUES ('open', 'open', true)",
    )
    .await;

    assert_eq!(fingerprint(&c).await, before, "anon changed something");
}

#[tokio::test]
async fn service_role_sees_everything() {
    let (_db, c) = setup("service_role").await;
    let mut tables: Vec<String> = public_tables(&c)
        .await
        .into_iter()
        .map(|t| format!("public.{t}"))
        .collect();
    tables.extend(["storage.objects", "storage.buckets"].map(String::from));
    for t in &tables {
        let all = scalar(&c, &format!("select count(*) from {t}")).await;
        assert!(all >= 1, "{t}: no fixture rows");
        let r = act(
            &c,
            &Actor::ServiceRole,
            &format!("SELECT count(*)::text FROM {t}"),
        )
        .await;
        assert_eq!(col(&r), [all.to_string()], "service_role reads {t}");
    }
    // Including what users may not touch.
    act(
        &c,
        &Actor::ServiceRole,
        "UPDATE public.profiles SET credits = 5, free_messages_used = 0; \
         UPDATE public.free_message_config SET free_message_limit = 20; \
         SELECT set_config('storage.allow_delete_query', 'true', true); \
         DELETE FROM storage.objects WHERE bucket_id = 'vault'",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Tests: storage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn storage_objects_are_confined_to_the_users_folder_in_buckets_with_policies() {
    let (_db, c) = setup("storage").await;
    let before = fingerprint(&c).await;

    for (me, other) in [(&ALICE, &BOB), (&BOB, &ALICE)] {
        let who = me.actor();
        let (m, o) = (me.id, other.id);
        let object = |bucket: &str, name: String| {
            format!("INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES ('{bucket}', '{name}', '{m}')")
        };

        // Read: own folder, buckets with policies only.
        let r = act(
            &c,
            &who,
            "SELECT bucket_id || ':' || name FROM storage.objects ORDER BY 1",
        )
        .await;
        assert_eq!(
            col(&r),
            [
                format!("images:{m}/pic.png"),
                format!("project-files:{m}/{}/doc.md", me.project)
            ],
            "objects {} reads",
            me.name
        );

        for (bucket, mine, theirs) in [
            ("images", format!("{m}/pic.png"), format!("{o}/pic.png")),
            (
                "project-files",
                format!("{m}/{}/doc.md", me.project),
                format!("{o}/{}/doc.md", other.project),
            ),
        ] {
            let at = |name: &str| format!("bucket_id = '{bucket}' AND name = '{name}'");
            // Write into own folder: yes; into the other's: no, not even as an overwrite.
            act(&c, &who, &object(bucket, format!("{m}/new"))).await;
            denied(&c, &who, &object(bucket, format!("{o}/planted"))).await;
            denied(&c, &who, &object(bucket, "no-folder".into())).await;
            denied(
                &c,
                &who,
                &format!(
                    "{} ON CONFLICT (bucket_id, name) DO UPDATE SET metadata = '{{}}'",
                    object(bucket, theirs.clone())
                ),
            )
            .await;
            // Update and rename: own objects, within own folder, within buckets with policies.
            let r = act(
                &c,
                &who,
                &format!(
                    "UPDATE storage.objects SET name = '{m}/renamed' WHERE {}",
                    at(&mine)
                ),
            )
            .await;
            assert_eq!(
                r.rows_affected,
                Some(1),
                "{bucket}: {} renames own object",
                me.name
            );
            no_rows(
                &c,
                &who,
                &format!(
                    "UPDATE storage.objects SET metadata = '{{}}' WHERE {}",
                    at(&theirs)
                ),
            )
            .await;
            denied(
                &c,
                &who,
                &format!(
                    "UPDATE storage.objects SET name = '{o}/moved' WHERE {}",
                    at(&mine)
                ),
            )
            .await;
            denied(
                &c,
                &who,
                &format!(
                    "UPDATE storage.objects SET bucket_id = '{VAULT}' WHERE {}",
                    at(&mine)
                ),
            )
            .await;
            // Read and delete: never the other's.
            no_rows(
                &c,
                &who,
                &format!("SELECT 1 FROM storage.objects WHERE {}", at(&theirs)),
            )
            .await;
            no_rows(
                &c,
                &who,
                &format!(
                    "{VIA_STORAGE_API}DELETE FROM storage.objects WHERE {}",
                    at(&theirs)
                ),
            )
            .await;
            let r = act(
                &c,
                &who,
                &format!(
                    "{VIA_STORAGE_API}DELETE FROM storage.objects WHERE {}",
                    at(&mine)
                ),
            )
            .await;
            assert_eq!(
                r.rows_affected,
                Some(1),
                "{bucket}: {} deletes own object",
                me.name
            );
        }

        // Without WHERE or RETURNING (only the UPDATE/DELETE policies apply, not SELECT's):
        // exactly the two objects in the user's folders of the buckets with policies.
        for sql in [
            "UPDATE storage.objects SET metadata = '{}'",
            &format!("{VIA_STORAGE_API}DELETE FROM storage.objects"),
        ] {
            let r = act(&c, &who, sql).await;
            assert_eq!(r.rows_affected, Some(2), "`{sql}` as {}", me.name);
        }

        // The bucket without policies: nothing at all, not even in one's own folder.
        let own_secret = format!("bucket_id = '{VAULT}' AND name = '{m}/secret.txt'");
        no_rows(
            &c,
            &who,
            &format!("SELECT 1 FROM storage.objects WHERE {own_secret}"),
        )
        .await;
        denied(&c, &who, &object(VAULT, format!("{m}/new.txt"))).await;
        no_rows(
            &c,
            &who,
            &format!("UPDATE storage.objects SET name = '{m}/x' WHERE {own_secret}"),
        )
        .await;
        no_rows(
            &c,
            &who,
            &format!("{VIA_STORAGE_API}DELETE FROM storage.objects WHERE {own_secret}"),
        )
        .await;

        // Buckets themselves are not the users' to create or open up.
        denied(
            &c,
            &who,
            &format!("INSERT INTO storage.buckets (id, name) VALUES ('{m}', '{m}')"),
        )
        .await;
        no_rows(&c, &who, "UPDATE storage.buckets SET public = true").await;
        no_rows(
            &c,
            &who,
            &format!("{VIA_STORAGE_API}DELETE FROM storage.buckets"),
        )
        .await;
    }

    assert_eq!(
        fingerprint(&c).await,
        before,
        "everything above was rolled back"
    );
}

// ---------------------------------------------------------------------------------------------
// Tests: credits and the free-message quota
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_cannot_raise_credits_or_reset_free_messages() {
    let (_db, c) = setup("credits").await;
    let a = ALICE.actor();
    let id = ALICE.id;
    c.batch_execute(&format!(
        "UPDATE public.profiles SET credits = 1.5, free_messages_used = 4 WHERE id = '{id}'"
    ))
    .await
    .unwrap();

    for sql in [
        format!("UPDATE public.profiles SET credits = 1000 WHERE id = '{id}'"),
        "UPDATE public.profiles SET credits = credits + 1".to_string(),
        format!("UPDATE public.profiles SET free_messages_used = 0 WHERE id = '{id}'"),
        "UPDATE public.profiles SET display_name = 'x', free_messages_used = 0".to_string(),
        "UPDATE public.profiles SET (display_name, credits) = ('x', 99)".to_string(),
        format!(
            "INSERT INTO public.profiles (id, credits) VALUES ('{id}', 1000) \
             ON CONFLICT (id) DO UPDATE SET credits = 1000"
        ),
        // No way around it through auth.users (re-creating the profile) either.
        format!("UPDATE auth.users SET raw_user_meta_data = '{{}}' WHERE id = '{id}'"),
        "INSERT INTO auth.users (id) VALUES (gen_random_uuid())".to_string(),
    ] {
        denied(&c, &a, &sql).await;
    }
    no_rows(&c, &a, "DELETE FROM public.profiles").await;
    no_rows(
        &c,
        &a,
        "UPDATE public.free_message_config SET free_message_limit = 1000",
    )
    .await;

    // The one column users may change, and the updated_at trigger.
    let r = run_as(
        &c,
        &a,
        "UPDATE public.profiles SET display_name = 'Alice A.' RETURNING updated_at > created_at",
        false,
    )
    .await
    .unwrap();
    assert_eq!(col(&r), ["t"]);

    // Grants behind it.
    let row = c
        .query_one(
            "select has_column_privilege('authenticated', 'public.profiles', 'credits', 'UPDATE'), \
                    has_column_privilege('authenticated', 'public.profiles', 'free_messages_used', 'UPDATE'), \
                    has_column_privilege('authenticated', 'public.profiles', 'display_name', 'UPDATE'), \
                    has_function_privilege('authenticated', 'public.handle_new_user()', 'EXECUTE'), \
                    has_function_privilege('anon', 'public.handle_new_user()', 'EXECUTE'), \
                    has_function_privilege('anon', 'public.consume_free_message()', 'EXECUTE'), \
                    has_function_privilege('authenticated', 'public.consume_free_message()', 'EXECUTE')",
            &[],
        )
        .await
        .unwrap();
    let privileges: Vec<bool> = (0..7).map(|i| row.get(i)).collect();
    assert_eq!(
        privileges,
        [false, false, true, false, false, false, true],
        "update credits, update free_messages_used, update display_name, execute \
         handle_new_user (authenticated, anon), execute consume_free_message (anon, authenticated)"
    );

    // consume_free_message: one at a time, up to the limit (10), for the caller only.
    let consume = "SELECT public.consume_free_message()";
    for left in (0..6).rev() {
        let r = run_as(&c, &a, consume, false).await.unwrap();
        assert_eq!(col(&r), [left.to_string()]);
    }
    let e = run_as(&c, &a, consume, false).await.unwrap_err();
    assert_eq!(sqlstate(&e), Some("PT402"), "{e}");
    let row = c
        .query_one(
            "select (select free_messages_used from public.profiles where id = $1::text::uuid), \
                    (select free_messages_used from public.profiles where id = $2::text::uuid), \
                    (select credits::text from public.profiles where id = $1::text::uuid)",
            &[&ALICE.id, &BOB.id],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, Option<i32>>(0),
        Some(10),
        "Alice's count stops at the limit"
    );
    assert_eq!(
        row.get::<_, Option<i32>>(1),
        Some(0),
        "Bob's count untouched"
    );
    assert_eq!(
        row.get::<_, String>(2),
        "1.5000",
        "Alice's credits untouched"
    );
    let e = run_as(&c, &Actor::Anon, consume, false).await.unwrap_err();
    assert_eq!(sqlstate(&e), Some("42501"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_free_message_allows_exactly_the_remaining_messages_under_concurrency() {
    const CALLS: usize = 20;
    let (db, c) = setup("concurrent").await;
    // 12 allowed, 2 used: 10 left.
    c.batch_execute(&format!(
        "UPDATE public.free_message_config SET free_message_limit = 12; \
         UPDATE public.profiles SET free_messages_used = 2 WHERE id = '{}'",
        ALICE.id
    ))
    .await
    .unwrap();

    let start = Arc::new(tokio::sync::Barrier::new(CALLS));
    let mut tasks = Vec::new();
    for _ in 0..CALLS {
        let url = db.url.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let client = support::connect(&url).await;
            start.wait().await;
            run_as(
                &client,
                &ALICE.actor(),
                "SELECT public.consume_free_message()",
                false,
            )
            .await
            .map(|r| r.rows[0][0].clone().unwrap().parse::<i32>().unwrap())
            .map_err(|e| (sqlstate(&e).map(str::to_string), e.to_string()))
        }));
    }
    let mut left = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(n) => left.push(n),
            Err(e) => refused.push(e),
        }
    }
    left.sort();
    assert_eq!(
        left,
        (0..10).collect::<Vec<_>>(),
        "each remaining message exactly once"
    );
    assert_eq!(refused.len(), 10, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|(code, _)| code.as_deref() == Some("PT402")),
        "{refused:?}"
    );
    let used = scalar(
        &c,
        &format!(
            "select free_messages_used::int8 from public.profiles where id = '{}'",
            ALICE.id
        ),
    )
    .await;
    assert_eq!(used, 12);
}

// ---------------------------------------------------------------------------------------------
// Tests: the policies as a whole
// ---------------------------------------------------------------------------------------------

/// Every policy the app needs: (table, command, roles, bucket for storage policies).
const EXPECTED_POLICIES: &[(&str, &str, &str, &str)] = &[
    ("public.encrypted_chats", "DELETE", "authenticated", ""),
    ("public.encrypted_chats", "INSERT", "authenticated", ""),
    ("public.encrypted_chats", "SELECT", "authenticated", ""),
    ("public.encrypted_chats", "UPDATE", "authenticated", ""),
    ("public.free_message_config", "SELECT", "authenticated", ""),
    ("public.image_gen_settings", "INSERT", "authenticated", ""),
    ("public.image_gen_settings", "SELECT", "authenticated", ""),
    ("public.image_gen_settings", "UPDATE", "authenticated", ""),
    ("public.profiles", "SELECT", "authenticated", ""),
    ("public.profiles", "UPDATE", "authenticated", ""),
    ("public.project_chats", "DELETE", "authenticated", ""),
    ("public.project_chats", "INSERT", "authenticated", ""),
    ("public.project_chats", "SELECT", "authenticated", ""),
    ("public.project_files", "DELETE", "authenticated", ""),
    ("public.project_files", "INSERT", "authenticated", ""),
    ("public.project_files", "SELECT", "authenticated", ""),
    ("public.project_files", "UPDATE", "authenticated", ""),
    ("public.projects", "DELETE", "authenticated", ""),
    ("public.projects", "INSERT", "authenticated", ""),
    ("public.projects", "SELECT", "authenticated", ""),
    ("public.projects", "UPDATE", "authenticated", ""),
    ("public.user_settings", "INSERT", "authenticated", ""),
    ("public.user_settings", "SELECT", "authenticated", ""),
    ("public.user_settings", "UPDATE", "authenticated", ""),
    ("storage.objects", "DELETE", "authenticated", "images"),
    (
        "storage.objects",
        "DELETE",
        "authenticated",
        "project-files",
    ),
    ("storage.objects", "INSERT", "authenticated", "images"),
    (
        "storage.objects",
        "INSERT",
        "authenticated",
        "project-files",
    ),
    ("storage.objects", "SELECT", "authenticated", "images"),
    (
        "storage.objects",
        "SELECT",
        "authenticated",
        "project-files",
    ),
    ("storage.objects", "UPDATE", "authenticated", "images"),
    (
        "storage.objects",
        "UPDATE",
        "authenticated",
        "project-files",
    ),
];

#[tokio::test]
async fn rls_is_forced_everywhere_and_policies_are_exactly_what_the_app_needs() {
    let db = TestDb::new("policies").await;
    push(&db).await;
    let c = db.client().await;

    let rows = c
        .query(
            "select c.relname::text, c.relrowsecurity, c.relforcerowsecurity from pg_class c \
             where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') order by 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 8, "tables in public");
    for r in &rows {
        let (table, enabled, forced): (String, bool, bool) = (r.get(0), r.get(1), r.get(2));
        assert!(
            enabled && forced,
            "public.{table}: RLS enabled={enabled} forced={forced}"
        );
    }

    let rows = c
        .query(
            "select schemaname || '.' || tablename, cmd, \
                    array_to_string(array(select r::text from unnest(roles) r order by 1), ','), \
                    coalesce(substring(coalesce(qual, with_check) from 'bucket_id = ''([^'']+)'''), ''), \
                    permissive \
               from pg_policies where schemaname in ('public', 'storage', 'auth') \
              order by 1, 2, 3, 4",
            &[],
        )
        .await
        .unwrap();
    let actual: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let expected: Vec<(String, String, String, String)> = EXPECTED_POLICIES
        .iter()
        .map(|(t, c, r, b)| (t.to_string(), c.to_string(), r.to_string(), b.to_string()))
        .collect();
    assert_same(
        &expected
            .iter()
            .map(|p| format!("{p:?}"))
            .collect::<Vec<_>>(),
        &actual.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>(),
        "the policies (table, command, roles, bucket)",
    );
    for r in &rows {
        assert_eq!(
            r.get::<_, String>(4),
            "PERMISSIVE",
            "{:?}",
            r.get::<_, String>(0)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: the files under psql
// ---------------------------------------------------------------------------------------------

/// The real psql: the newest under /usr/lib/postgresql, else the one on PATH.
fn psql() -> PathBuf {
    let mut found: Vec<(f64, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<f64>().ok()?;
            let bin = e.path().join("bin/psql");
            bin.exists().then_some((version, bin))
        })
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found.pop().map(|(_, p)| p).unwrap_or_else(|| "psql".into())
}

fn psql_file(url: &str, file: &Path) {
    let out = Command::new(psql())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
        .arg(file)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql -f {} failed ({}):\n{}{}",
        file.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A database with only the Supabase emulation, and the example's files.
async fn emulated() -> (TestDb, Client, MigrationSet) {
    let db = TestDb::new("psql").await;
    let c = db.client().await;
    platform::ensure(&c, Platform::Supabase, false)
        .await
        .expect("install the Supabase emulation");
    let set = MigrationSet::load_dir(support::chat_app_dir()).expect("load the example");
    assert_eq!(set.migrations.len(), 8, "migrations in the example");
    (db, c, set)
}

#[tokio::test]
async fn every_migration_applies_twice_with_psql() {
    let (db, c, set) = emulated().await;
    for m in &set.migrations {
        psql_file(&db.url, &m.path);
        let once = snapshot(&c).await;
        psql_file(&db.url, &m.path);
        assert_same(
            &once,
            &snapshot(&c).await,
            &format!("{} applied a second time", m.file_name()),
        );
    }
}

#[tokio::test]
async fn each_rollback_restores_the_catalog_exactly() {
    let (db, c, set) = emulated().await;
    let rollback = |m: &strata::Migration| {
        m.rollback
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no _rollback.sql", m.file_name()))
            .path
            .clone()
    };

    let empty = snapshot(&c).await;
    for m in &set.migrations {
        let before = snapshot(&c).await;
        psql_file(&db.url, &m.path);
        assert_ne!(
            before,
            snapshot(&c).await,
            "{} changed nothing",
            m.file_name()
        );
        psql_file(&db.url, &rollback(m));
        assert_same(
            &before,
            &snapshot(&c).await,
            &format!("{} then its rollback", m.file_name()),
        );
        psql_file(&db.url, &m.path);
    }
    let all = snapshot(&c).await;

    let roll_back_all = || {
        for m in set.migrations.iter().rev() {
            psql_file(&db.url, &rollback(m));
        }
    };
    roll_back_all();
    assert_same(&empty, &snapshot(&c).await, "every rollback, newest first");

    // Strata pushes onto the rolled-back database, and builds what psql built.
    let report = push(&db).await;
    assert_eq!(report.applied.len(), 8);
    assert_same(
        &all,
        &snapshot(&c).await,
        "strata push vs psql -f of every file",
    );

    // Rolled back again, with the history rows of the rolled-back versions removed, it pushes
    // again.
    roll_back_all();
    assert_same(
        &empty,
        &snapshot(&c).await,
        "every rollback after strata push",
    );
    c.batch_execute(
        "DELETE FROM supabase_migrations.strata_history; \
         DELETE FROM supabase_migrations.schema_migrations;",
    )
    .await
    .unwrap();
    let report = push(&db).await;
    assert_eq!(report.applied.len(), 8);
    assert_same(&all, &snapshot(&c).await, "second strata push");
}

// ---------------------------------------------------------------------------------------------
// Catalog snapshots
// ---------------------------------------------------------------------------------------------

/// The catalog (`strata::catalog`) as sorted text lines, one per object with its properties.
async fn snapshot(c: &Client) -> Vec<String> {
    strata::catalog::Catalog::capture(c)
        .await
        .unwrap_or_else(|e| panic!("catalog snapshot: {e}"))
        .lines()
}

/// Asserts two sorted line lists are equal, showing only the lines that differ.
fn assert_same(expected: &[String], actual: &[String], what: &str) {
    if expected == actual {
        return;
    }
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for l in expected {
        *counts.entry(l).or_default() += 1;
    }
    for l in actual {
        *counts.entry(l).or_default() -= 1;
    }
    let mut diff = String::new();
    for (line, n) in counts {
        let sign = if n > 0 { '-' } else { '+' };
        for _ in 0..n.abs() {
            for (i, l) in line.lines().enumerate() {
                diff.push(if i == 0 { sign } else { ' ' });
                diff.push(' ');
                diff.push_str(l);
                diff.push('\n');
            }
        }
    }
    panic!("{what}: differs (- expected only, + actual only):\n{diff}");
}
