//! Schema as code (`strata::schema`): the SQL from what the migrations build to what the schema
//! files describe, renames declared in the schema files, data loss refused, and every written
//! change proven on a scratch database (forward converges, rollback restores).

mod support;

use std::path::{Path, PathBuf};

use strata::catalog::Kind;
use strata::diff::{Scope, Status};
use strata::platform::Platform;
use strata::schema::{self, SchemaFiles, WriteOptions};

use strata::{Error, MigrationSet};
use support::migrations_dir;

fn server() -> strata::scratch::Scratch {
    support::scratch_server()
}

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "20240101000000_create_notes.sql",
        "create table public.notes (\n  id bigint generated always as identity primary key,\n  body text not null,\n  heading text\n);\ncreate index notes_heading on public.notes (heading);\n",
    ),
    (
        "20240102000000_create_tags.sql",
        "create table public.tags (id bigint primary key, note_id bigint references public.notes (id), label text);\n",
    ),
];

/// Schema files in a temporary directory, in the order given.
fn schema_files(files: &[(&str, &str)]) -> (tempfile::TempDir, SchemaFiles) {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, sql)| {
            let p = dir.path().join(name);
            std::fs::write(&p, sql).unwrap();
            p
        })
        .collect();
    let files = SchemaFiles::read(&paths).unwrap();
    (dir, files)
}

async fn diff(set: &MigrationSet, files: &SchemaFiles) -> Result<schema::SchemaDiff, Error> {
    schema::diff(
        set,
        files,
        Platform::None,
        &server(),
        &Scope::default(),
        &schema::Safety::default(),
    )
    .await
}

fn options<'a>(dir: &'a Path, name: &'a str, allow_data_loss: bool) -> WriteOptions<'a> {
    WriteOptions {
        dir,
        rollbacks_dir: None,
        name,
        author: "test",
        now: time::OffsetDateTime::now_utc(),
        allow_data_loss,
        seeds: &[],
        check: &strata::author::SplitCheck,
        layout: strata::source::Layout::Strata,
    }
}

#[tokio::test]
async fn the_same_state_is_no_difference() {
    let dir = migrations_dir(MIGRATIONS);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    // One schema file holding everything, written differently (column order, case, no
    // identity shorthand differences): what matters is the catalog.
    let (_d, files) = schema_files(&[(
        "00_all.sql",
        "CREATE TABLE public.notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL, heading text);\nCREATE INDEX notes_heading ON public.notes (heading);\nCREATE TABLE public.tags (id bigint PRIMARY KEY, note_id bigint REFERENCES public.notes (id), label text);\n",
    )]);
    let d = diff(&set, &files).await.unwrap();
    assert!(d.is_empty(), "{}", d.sql);
    assert!(d.differences.is_empty());
}

#[tokio::test]
async fn a_renamed_column_and_table_keep_their_data_and_the_change_is_proven() {
    let dir = migrations_dir(MIGRATIONS);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let (_d, files) = schema_files(&[
        (
            "10_notes.sql",
            "-- strata:renamed-from notes\ncreate table public.memos (\n  id bigint generated always as identity primary key,\n  content text not null, -- strata:renamed-from body\n  heading text,\n  due date\n);\ncreate index notes_heading on public.memos (heading);\n",
        ),
        (
            "20_tags.sql",
            "create table public.tags (id bigint primary key, note_id bigint references public.memos (id), label text);\n",
        ),
    ]);
    let d = diff(&set, &files).await.unwrap();
    assert_eq!(d.renames.len(), 2);
    assert!(
        d.sql.starts_with("ALTER TABLE public.notes RENAME TO memos;\nALTER TABLE public.memos RENAME COLUMN body TO content;\nALTER TABLE public.memos RENAME CONSTRAINT notes_pkey TO memos_pkey;"),
        "{}",
        d.sql
    );
    assert!(!d.sql.contains("DROP TABLE"), "{}", d.sql);
    assert!(!d.sql.to_lowercase().contains("drop column"), "{}", d.sql);
    assert!(d.data_loss.is_empty(), "{:?}", d.data_loss);
    assert_eq!(
        d.differences
            .iter()
            .map(|x| (x.kind, x.name.as_str(), x.status))
            .collect::<Vec<_>>(),
        vec![(Kind::Column, "public.memos.due", Status::OnlyInTarget)]
    );
    // Proven and written: the files exist, and the migrations with the new file build the
    // schema files' state (diff again: empty).
    let (proof, written) = schema::write_proven(
        &set,
        &d,
        Platform::None,
        &server(),
        &Scope::default(),
        &options(dir.path(), "rename_notes_to_memos", false),
    )
    .await
    .unwrap();
    assert!(proof.converges && proof.rolls_back);
    assert_eq!(written.len(), 1);
    assert!(written[0].path.is_file());
    assert!(written[0].rollback.as_ref().unwrap().is_file());
    let after = MigrationSet::load_dir(dir.path()).unwrap();
    assert_eq!(after.migrations.len(), 3);
    let again = diff(&after, &files).await.unwrap();
    assert!(again.is_empty(), "a second diff is empty:\n{}", again.sql);
    assert!(again.renames.is_empty(), "carried-out renames are done");
}

#[tokio::test]
async fn dropping_a_column_or_table_is_refused_without_allow_data_loss() {
    let dir = migrations_dir(MIGRATIONS);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let (_d, files) = schema_files(&[(
        "10_notes.sql",
        "create table public.notes (\n  id bigint generated always as identity primary key,\n  body text not null\n);\ncreate index notes_heading on public.notes (id);\n",
    )]);
    let d = diff(&set, &files).await.unwrap();
    assert_eq!(
        d.data_loss,
        vec![
            "table public.tags".to_string(),
            "column public.notes.heading".to_string()
        ]
    );
    let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    let e = schema::write_proven(
        &set,
        &d,
        Platform::None,
        &server(),
        &Scope::default(),
        &options(dir.path(), "drop_heading", false),
    )
    .await
    .unwrap_err();
    match &e {
        Error::Unproven { details, hint, .. } => {
            assert_eq!(details.len(), 2);
            assert!(hint.as_deref().unwrap().contains("--allow-data-loss"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        before.len(),
        "nothing written"
    );
    // Allowed: written, and proven (the rollback brings the column and the table back).
    let (proof, _) = schema::write_proven(
        &set,
        &d,
        Platform::None,
        &server(),
        &Scope::default(),
        &options(dir.path(), "drop_heading", true),
    )
    .await
    .unwrap();
    assert!(proof.rolls_back);
}

#[tokio::test]
async fn a_rename_hint_that_names_nothing_is_refused_at_its_line() {
    let dir = migrations_dir(MIGRATIONS);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let (_d, files) = schema_files(&[(
        "10_notes.sql",
        "create table public.notes (\n  id bigint generated always as identity primary key,\n  content text not null, -- strata:renamed-from no_such_column\n  heading text\n);\ncreate table public.tags (id bigint primary key, note_id bigint references public.notes (id), label text);\n",
    )]);
    let e = diff(&set, &files).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Unproven { .. }), "{e:?}");
    assert!(text.contains("10_notes.sql:3"), "{text}");
    assert!(text.contains("no_such_column"), "{text}");
}

#[tokio::test]
async fn a_schema_file_that_fails_is_located_in_that_file() {
    let dir = migrations_dir(MIGRATIONS);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    // Lexical order matters: the foreign key's table comes later.
    let (_d, files) = schema_files(&[
        (
            "10_tags.sql",
            "create table public.tags (id bigint primary key,\n  note_id bigint references public.notes (id));\n",
        ),
        ("20_notes.sql", "create table public.notes (id bigint primary key);\n"),
    ]);
    let e = diff(&set, &files).await.unwrap_err();
    let Error::ScratchBuild { purpose, error, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(purpose.contains("schema files"), "{purpose}");
    let Error::Migration(m) = error.as_ref() else {
        panic!("{error:?}")
    };
    assert!(m.file.ends_with("10_tags.sql"), "{:?}", m.file);
    assert_eq!(m.line, 1, "the failing statement starts on line 1");
}

/// A schema that cannot be created in name order: a foreign-key cycle, a SQL function that
/// reads a table, a trigger, a view, an enum, a policy that reads another table, comments and
/// grants.
const TANGLED: &str = "create type public.mood as enum ('calm', 'busy');
create table public.authors (id bigint primary key, best_book bigint, mood public.mood default 'calm');
create table public.books (id bigint primary key, author_id bigint not null references public.authors (id), title text not null);
alter table public.authors add constraint authors_best_book_fkey foreign key (best_book) references public.books (id) deferrable initially deferred;
create function public.book_count(a bigint) returns bigint language sql stable as $$ select count(*) from public.books where author_id = a $$;
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger books_touch before update on public.books for each row execute function public.touch();
create view public.prolific as select id from public.authors where public.book_count(id) > 3;
alter table public.books enable row level security;
create policy books_by_calm_authors on public.books for select using (exists (select 1 from public.authors a where a.id = author_id and a.mood = 'calm'));
create index books_title on public.books (lower(title));
comment on table public.books is 'every book';
comment on column public.books.title is 'as printed';
grant select on public.books to public;
";

#[tokio::test]
async fn dumped_files_apply_with_psql_in_lexical_order_and_give_the_same_catalog() {
    let dir = migrations_dir(&[("20240101000000_tangled.sql", TANGLED)]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let scope = Scope::default();
    let (catalog, unmodelled) = schema::built_catalog(&set, Platform::None, &server(), &scope)
        .await
        .unwrap();
    let files = schema::dump_files(&catalog);
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"10_public.books.sql"), "{names:?}");
    assert!(names.contains(&"10_public.authors.sql"), "{names:?}");
    let refs = &files
        .iter()
        .find(|f| f.name == "40_references.sql")
        .unwrap()
        .sql;
    assert!(refs.contains("authors_best_book_fkey"), "{refs}");
    assert!(
        refs.contains("books_by_calm_authors"),
        "the cross-table policy: {refs}"
    );
    let books = &files
        .iter()
        .find(|f| f.name == "10_public.books.sql")
        .unwrap()
        .sql;
    for part in ["books_touch", "books_title", "'every book'", "GRANT SELECT"] {
        assert!(books.contains(part), "{part} in the table's file:\n{books}");
    }

    // Written and applied with plain psql, file by file in lexical order.
    let out = tempfile::tempdir().unwrap();
    for f in &files {
        std::fs::write(out.path().join(&f.name), &f.sql).unwrap();
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let db = support::TestDb::new("schemadump").await;
    let psql = strata::backup::find_tool("psql").unwrap().path;
    for p in &paths {
        let run = std::process::Command::new(&psql)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
            .arg(p)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}: {}",
            p.display(),
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let client = db.client().await;
    let mut rebuilt = strata::catalog::Catalog::capture(&client).await.unwrap();
    let mut expected = catalog.clone();
    for c in [&mut rebuilt, &mut expected] {
        for (id, o) in c.objects.iter_mut() {
            if id.kind == Kind::Column {
                o.props.remove("position");
            }
        }
    }
    let differences = strata::diff::compare(&expected, &rebuilt);
    assert!(
        differences.is_empty(),
        "{:#?}",
        differences
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
    );

    // `dump` proves before writing, and refuses a directory that already holds schema files.
    let target = tempfile::tempdir().unwrap();
    let written = schema::dump(
        &catalog,
        &unmodelled,
        target.path(),
        false,
        Platform::None,
        &server(),
        &scope,
    )
    .await
    .unwrap();
    assert_eq!(written.len(), files.len());
    let again = schema::dump(
        &catalog,
        &unmodelled,
        target.path(),
        false,
        Platform::None,
        &server(),
        &scope,
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("already holds"), "{again}");

    // And the dumped files are the schema files of the same state: no difference.
    let as_files = SchemaFiles::read(&written).unwrap();
    let d = diff(&set, &as_files).await.unwrap();
    assert!(d.is_empty(), "{}", d.sql);
}

fn seed(sql: &str) -> strata::apply::SeedFile {
    strata::apply::SeedFile {
        name: "seed.sql".into(),
        path: PathBuf::from("seed.sql"),
        sql: sql.into(),
        note: None,
    }
}

#[tokio::test]
async fn the_seed_is_loaded_before_the_change_and_its_rows_must_survive() {
    let files_sql = "create table public.notes (\n  id bigint generated always as identity primary key,\n  content text, -- strata:renamed-from body\n  heading text\n);\ncreate index notes_heading on public.notes (heading);\ncreate table public.tags (id bigint primary key, note_id bigint references public.notes (id), label text);\n";
    let dir = migrations_dir(&[(
        "20240101000000_create_notes.sql",
        "create table public.notes (\n  id bigint generated always as identity primary key,\n  body text,\n  heading text\n);\ncreate index notes_heading on public.notes (heading);\ncreate table public.tags (id bigint primary key, note_id bigint references public.notes (id), label text);\n",
    )]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let (_d, files) = schema_files(&[("10_notes.sql", files_sql)]);
    let d = diff(&set, &files).await.unwrap();
    let seeds = [seed(
        "insert into public.notes (body, heading) values ('a', 'x'), (null, 'y');\n",
    )];
    let version = strata::Version::parse("20990101000000").unwrap();
    let proof = schema::prove(
        &set,
        &d,
        std::slice::from_ref(&version),
        Platform::None,
        &server(),
        &Scope::default(),
        &seeds,
    )
    .await
    .unwrap();
    // The renamed table's rows were counted (its columns changed); the table without rows is
    // not in the list, and the changed table had rows, so nothing is unproven.
    assert_eq!(proof.rows.len(), 1, "{:?}", proof.rows);
    assert_eq!(proof.rows[0].table, "public.notes");
    assert_eq!(proof.rows[0].rows, 2);
    assert!(!proof.rows[0].content);
    assert!(
        proof.unproven_tables.is_empty(),
        "{:?}",
        proof.unproven_tables
    );

    // Without a seed the same change is proven, but the changed table is named as unproven.
    let proof = schema::prove(
        &set,
        &d,
        std::slice::from_ref(&version),
        Platform::None,
        &server(),
        &Scope::default(),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(proof.unproven_tables, vec!["public.notes".to_string()]);

    // NOT NULL on a column the seed leaves empty: the change fails on the seeded database, and
    // nothing is written.
    let (_d2, strict) = schema_files(&[(
        "10_notes.sql",
        &files_sql.replace(
            "content text, -- strata",
            "content text not null, -- strata",
        ),
    )]);
    let d = diff(&set, &strict).await.unwrap();
    let e = schema::prove(
        &set,
        &d,
        std::slice::from_ref(&version),
        Platform::None,
        &server(),
        &Scope::default(),
        &seeds,
    )
    .await
    .unwrap_err();
    // The failure is named as the generated change's, not the migrations'.
    assert!(
        matches!(&e, Error::Unproven { message, .. } if message.contains("the generated change fails") && message.contains("<generated change, not written>")),
        "{e:?}"
    );
}

#[tokio::test]
async fn changes_to_tables_in_use_are_written_lock_safe_and_proven() {
    let dir = migrations_dir(&[(
        "20240101000000_create_accounts.sql",
        "create table public.orgs (id bigint primary key);\ncreate table public.accounts (id bigint primary key, email text);\n",
    )]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let (_d, files) = schema_files(&[(
        "10_accounts.sql",
        "create table public.orgs (id bigint primary key);\ncreate table public.accounts (\n  id bigint primary key,\n  email text not null check (length(email) > 3),\n  org_id bigint references public.orgs (id)\n);\ncreate index accounts_email on public.accounts (email);\ncreate table public.audit (id bigint primary key, at timestamptz);\ncreate index audit_at on public.audit (at);\n",
    )]);
    let safety = schema::Safety {
        lock_timeout: Some("5s".into()),
        transaction_only: false,
    };
    let d = schema::diff(
        &set,
        &files,
        Platform::None,
        &server(),
        &Scope::default(),
        &safety,
    )
    .await
    .unwrap();
    assert_eq!(d.steps.len(), 2, "{:#?}", d.steps);
    let (tx, concurrent) = (&d.steps[0], &d.steps[1]);
    assert!(tx.transactional && !concurrent.transactional);
    assert!(
        tx.sql.starts_with("SET LOCAL lock_timeout = '5s';"),
        "{}",
        tx.sql
    );
    for expected in [
        "CHECK (email IS NOT NULL) NOT VALID;",
        "VALIDATE CONSTRAINT email_not_null_check;",
        "ALTER TABLE public.accounts ALTER COLUMN email SET NOT NULL;",
        "DROP CONSTRAINT email_not_null_check;",
        "REFERENCES public.orgs(id) NOT VALID;",
        "VALIDATE CONSTRAINT accounts_org_id_fkey;",
        "CHECK ((length(email) > 3)) NOT VALID;",
        "VALIDATE CONSTRAINT accounts_email_check;",
        // A new table's index is built in the transaction: the table is empty.
        "CREATE INDEX IF NOT EXISTS audit_at ON public.audit",
    ] {
        assert!(tx.sql.contains(expected), "{expected}\n{}", tx.sql);
    }
    assert!(
        concurrent
            .sql
            .contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email ON public.accounts"),
        "{}",
        concurrent.sql
    );
    assert!(
        concurrent
            .rollback_sql
            .contains("DROP INDEX CONCURRENTLY IF EXISTS public.accounts_email;"),
        "{}",
        concurrent.rollback_sql
    );
    assert!(
        !tx.rollback_sql.contains("accounts_email;"),
        "{}",
        tx.rollback_sql
    );

    // Proven with rows in the table, and written as two migrations that a push applies.
    let seeds = [seed(
        "insert into public.orgs values (1);\ninsert into public.accounts values (1, 'a@example.com'), (2, 'b@example.com');\n",
    )];
    let (proof, written) = schema::write_proven(
        &set,
        &d,
        Platform::None,
        &server(),
        &Scope::default(),
        &WriteOptions {
            seeds: &seeds,
            ..options(dir.path(), "add_account_rules", false)
        },
    )
    .await
    .unwrap();
    assert_eq!(proof.rows.len(), 2, "{:?}", proof.rows);
    assert_eq!(written.len(), 2);
    assert!(written[1]
        .path
        .to_string_lossy()
        .ends_with("_add_account_rules_concurrently.sql"));
    let after = MigrationSet::load_dir(dir.path()).unwrap();
    assert_eq!(after.migrations.len(), 3);
    let db = support::TestDb::new("locksafe").await;
    let report = strata::Migrator::new(after.clone())
        .with_options(strata::PushOptions {
            lock_wait: std::time::Duration::from_secs(30),
            ..strata::PushOptions::default()
        })
        .push(&db.target())
        .await
        .unwrap();
    assert_eq!(report.applied.len(), 3);
    let again = diff(&after, &files).await.unwrap();
    assert!(again.is_empty(), "{}", again.sql);

    // transaction_only: one step, the index built in the transaction.
    let d = schema::diff(
        &set,
        &files,
        Platform::None,
        &server(),
        &Scope::default(),
        &schema::Safety {
            lock_timeout: None,
            transaction_only: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(d.steps.len(), 1);
    assert!(
        d.sql.contains("CREATE INDEX IF NOT EXISTS accounts_email"),
        "{}",
        d.sql
    );
}

#[tokio::test]
async fn kinds_not_modelled_and_roles_are_named_not_ignored() {
    let dir = migrations_dir(MIGRATIONS);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let role = format!("strata_test_reader_{}", std::process::id());
    let (_d, files) = schema_files(&[(
        "10_all.sql",
        &format!(
            "{}{}create aggregate public.total(int) (sfunc = int4pl, stype = int, initcond = '0');\ncreate role {role};\n",
            MIGRATIONS[0].1, MIGRATIONS[1].1
        ),
    )]);
    let d = diff(&set, &files).await;
    let admin = support::connect(&support::admin_url()).await;
    admin
        .batch_execute(&format!("drop role if exists {role}"))
        .await
        .unwrap();
    let d = d.unwrap();
    assert!(d.is_empty(), "{}", d.sql);
    assert_eq!(
        d.unmodelled,
        vec![
            "aggregate public.total(integer)".to_string(),
            format!("role {role}")
        ]
    );
}

/// The shipped example round-trips: dump, diff clean, edit, write (proven with its seed), push,
/// diff clean again.
#[tokio::test]
async fn the_chat_app_round_trips_through_schema_files() {
    let work = tempfile::tempdir().unwrap();
    let migrations = work.path().join("supabase/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for e in std::fs::read_dir(support::chat_app_dir()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, migrations.join(p.file_name().unwrap())).unwrap();
    }
    let set = MigrationSet::load_dir(&migrations).unwrap();
    let platform = Platform::Supabase;
    let scope = Scope::resolve(platform, &server()).await.unwrap();
    let (catalog, unmodelled) = schema::built_catalog(&set, platform, &server(), &scope)
        .await
        .unwrap();
    let schemas = work.path().join("supabase/schemas");
    let written = schema::dump(
        &catalog,
        &unmodelled,
        &schemas,
        false,
        platform,
        &server(),
        &scope,
    )
    .await
    .unwrap();
    assert!(
        written
            .iter()
            .any(|p| p.ends_with("10_storage.objects.sql")),
        "the project's storage policies are dumped: {written:?}"
    );
    let safety = schema::Safety {
        lock_timeout: Some("5s".into()),
        transaction_only: false,
    };
    let diff_now = |set: MigrationSet| {
        let schemas = schemas.clone();
        let scope = scope.clone();
        let safety = safety.clone();
        async move {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(&schemas)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            paths.sort();
            let files = SchemaFiles::read(&paths).unwrap();
            schema::diff(&set, &files, platform, &server(), &scope, &safety)
                .await
                .unwrap()
        }
    };
    assert!(diff_now(set.clone()).await.is_empty());

    // Edit: a column and an index on a table in use.
    let projects = schemas.join("10_public.projects.sql");
    let text = std::fs::read_to_string(&projects).unwrap();
    let edited = text.replacen(
        "  system_prompt text,\n",
        "  system_prompt text,\n  due_date date,\n",
        1,
    ) + "\nCREATE INDEX IF NOT EXISTS idx_projects_due_date ON public.projects USING btree (due_date);\n";
    assert_ne!(edited, text);
    std::fs::write(&projects, edited).unwrap();
    let change = diff_now(set.clone()).await;
    assert_eq!(change.steps.len(), 2, "{}", change.sql);
    let seed_sql = std::fs::read_to_string(support::chat_app_dir().join("../seed.sql")).unwrap();
    let seeds = [seed(&seed_sql)];
    let (proof, files) = schema::write_proven(
        &set,
        &change,
        platform,
        &server(),
        &scope,
        &WriteOptions {
            seeds: &seeds,
            ..options(&migrations, "add_project_due_date", false)
        },
    )
    .await
    .unwrap();
    assert!(proof.converges && proof.rolls_back);
    assert_eq!(files.len(), 2);
    let after = MigrationSet::load_dir(&migrations).unwrap();
    let db = support::TestDb::new("chatroundtrip").await;
    strata::Migrator::new(after.clone())
        .with_options(strata::PushOptions {
            platform,
            lock_wait: std::time::Duration::from_secs(60),
            ..strata::PushOptions::default()
        })
        .push(&db.target())
        .await
        .unwrap();
    assert!(diff_now(after).await.is_empty());
}

#[tokio::test]
async fn a_dump_refuses_to_leave_out_what_it_cannot_write() {
    let dir = migrations_dir(&[(
        "20240101000000_create_agg.sql",
        "create table public.t (id int);\ncreate aggregate public.mysum(int) (sfunc = int4pl, stype = int, initcond = '0');\n",
    )]);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    let scope = Scope::default();
    let (catalog, unmodelled) = schema::built_catalog(&set, Platform::None, &server(), &scope)
        .await
        .unwrap();
    let target = tempfile::tempdir().unwrap();
    let e = schema::dump(
        &catalog,
        &unmodelled,
        target.path(),
        false,
        Platform::None,
        &server(),
        &scope,
    )
    .await
    .unwrap_err();
    let Error::Unproven { details, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(
        details.iter().any(|d| d.contains("public.mysum")),
        "{details:?}"
    );
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0);
}
