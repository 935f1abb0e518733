//! `strata migration squash` as a user runs it, under crashes and races: `kill -9` at each of its
//! steps (the library's crash points, `STRATA_FAILPOINT`, abort the process exactly there) leaves
//! the project unchanged, or its files squashed and its history not, and running the same command
//! again finishes it; a real `strata rollback` racing a squash is seen under the lock.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::*;

const FILES: &[(&str, &str)] = &[
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
];

const TO: &str = "20240102000000";

fn files(p: &Path) -> Vec<String> {
    let mut f: Vec<String> = std::fs::read_dir(p.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    f.sort();
    f
}

fn history(url: &str) -> String {
    strings(
        url,
        "select string_agg(version || ':' || name, ',' order by version) from supabase_migrations.schema_migrations",
    )
    .remove(0)
}

const ORIGINAL_FILES: [&str; 3] = [
    "20240101000000_create_notes.sql",
    "20240102000000_add_pinned.sql",
    "20240103000000_create_tags.sql",
];
const SQUASHED_FILES: [&str; 3] = [
    "20240102000000_baseline.sql",
    "20240102000000_baseline_rollback.sql",
    "20240103000000_create_tags.sql",
];
const ORIGINAL_HISTORY: &str =
    "20240101000000:create_notes,20240102000000:add_pinned,20240103000000:create_tags";
const SQUASHED_HISTORY: &str = "20240102000000:baseline,20240103000000:create_tags";

fn squash(p: &Path, url: &str, env: &[(&str, &str)]) -> Run {
    let mut all = vec![("STRATA_SCRATCH_URL", admin_url())];
    all.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    strata_env(
        p,
        &["migration", "squash", "--to", TO, "--db-url", url],
        &all,
    )
}

#[test]
fn kill_9_at_each_step_of_a_squash_then_the_same_command_finishes_it() {
    for point in [
        "squash:proven",
        "squash:locked",
        "squash:temporaries",
        "squash:journal",
        "squash:removed",
        "squash:files",
        "squash:history",
    ] {
        let db = TestDb::new("squashcrash");
        let p = project(FILES);
        let run = strata(p.path(), &["push", "--db-url", &db.url, "-q"]);
        assert_eq!(run.code, 0, "{run:?}");

        let crashed = squash(p.path(), &db.url, &[("STRATA_FAILPOINT", point)]);
        assert_ne!(
            crashed.code, 0,
            "{point}: the process was stopped there: {crashed:?}"
        );
        let (f, h) = (files(p.path()), history(&db.url));
        // Never history without its files; anything in between the files is a refusal, not a
        // wrong push.
        assert!(
            !(f == ORIGINAL_FILES && h == SQUASHED_HISTORY),
            "{point}: history squashed, files not"
        );
        match point {
            // Before the switch of files: the project as it was (the journal, when committed,
            // is finished by the next squash).
            "squash:proven" | "squash:locked" | "squash:temporaries" | "squash:journal" => {
                assert_eq!(f, ORIGINAL_FILES, "{point}");
                assert_eq!(h, ORIGINAL_HISTORY, "{point}");
                let push = strata(p.path(), &["push", "--db-url", &db.url]);
                assert_eq!(push.code, 0, "{point}: {push:?}");
                assert!(push.stdout.contains("Nothing to push"), "{point}: {push:?}");
            }
            "squash:files" => {
                assert_eq!(f, SQUASHED_FILES, "{point}");
                assert_eq!(h, ORIGINAL_HISTORY, "{point}");
                // A push refuses the mismatch; it changes nothing.
                let push = strata(p.path(), &["push", "--db-url", &db.url]);
                assert_eq!(push.code, 7, "{point}: {push:?}");
            }
            "squash:history" => {
                assert_eq!(f, SQUASHED_FILES, "{point}");
                assert_eq!(h, SQUASHED_HISTORY, "{point}");
            }
            _ => {
                // Half-way through the switch of files: a push refuses; the next squash puts
                // the files in place first.
                assert_eq!(h, ORIGINAL_HISTORY, "{point}");
                let push = strata(p.path(), &["push", "--db-url", &db.url]);
                assert_ne!(
                    push.code, 0,
                    "{point}: a half-switched directory is refused: {push:?}"
                );
            }
        }
        let again = squash(p.path(), &db.url, &[]);
        assert_eq!(again.code, 0, "{point}: {again:?}");
        assert_eq!(files(p.path()), SQUASHED_FILES, "{point}");
        assert_eq!(history(&db.url), SQUASHED_HISTORY, "{point}");
        assert!(
            !p.path().join(".strata/squash-journal.json").exists(),
            "{point}"
        );
        let push = strata(p.path(), &["push", "--db-url", &db.url]);
        assert_eq!(push.code, 0, "{point}: {push:?}");
        assert!(push.stdout.contains("Nothing to push"), "{point}: {push:?}");
        assert_eq!(
            strings(&db.url, "select body from public.notes"),
            ["hello"],
            "{point}"
        );
    }
}

#[test]
fn a_rollback_racing_a_squash_is_seen_under_the_lock() {
    // A squash to version 2 and a real `strata rollback --last 1` (which undoes version 2) queue
    // behind another session's migration lock. Whichever gets it first, the other sees what it
    // did under the lock and refuses (exit 7): never a baseline recorded over a rolled-back
    // column, never a rollback of a version the squash replaced.
    let db = TestDb::new("squashrace");
    let p = project(&FILES[..2]);
    write(
        p.path(),
        "migrations/20240102000000_add_pinned_rollback.sql",
        "alter table public.notes drop column pinned;\n",
    );
    let run = strata(p.path(), &["push", "--db-url", &db.url, "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    let holder = std::thread::spawn({
        let url = db.url.clone();
        move || {
            runtime().block_on(async {
                let c = target(&url).connect().await.unwrap();
                c.query_one("select pg_advisory_lock($1)", &[&strata::lock::LOCK_KEY])
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(8)).await;
            })
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut squash_cmd = command(
        p.path(),
        &[
            "migration",
            "squash",
            "--to",
            TO,
            "--db-url",
            &db.url,
            "--lock-wait",
            "90s",
        ],
    );
    squash_cmd
        .env("STRATA_SCRATCH_URL", admin_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let squashing = squash_cmd.spawn().unwrap();
    let mut rollback_cmd = command(
        p.path(),
        &[
            "rollback",
            "--last",
            "1",
            "--db-url",
            &db.url,
            "--lock-wait",
            "90s",
        ],
    );
    rollback_cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let rolling = rollback_cmd.spawn().unwrap();
    let squash_out = squashing.wait_with_output().unwrap();
    let rollback_out = rolling.wait_with_output().unwrap();
    holder.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(120));
    let (s, r) = (
        squash_out.status.code().unwrap_or(-1),
        rollback_out.status.code().unwrap_or(-1),
    );
    let h = history(&db.url);
    let pinned = strings(
        &db.url,
        "select count(*)::text from pg_attribute where attrelid = 'public.notes'::regclass and attname = 'pinned' and not attisdropped",
    );
    let said = format!(
        "squash {s}:\n{}\nrollback {r}:\n{}",
        String::from_utf8_lossy(&squash_out.stderr),
        String::from_utf8_lossy(&rollback_out.stderr)
    );
    match (s, r) {
        // The rollback first: version 2 is gone, and the squash refuses its history.
        (7, 0) => {
            assert_eq!(h, "20240101000000:create_notes", "{said}");
            assert_eq!(pinned, ["0"], "{said}");
            assert_eq!(files(p.path()).len(), 3, "{said}");
        }
        // The squash first: the rollback finds version 2 recorded as the baseline, not the
        // file it was asked to undo, and refuses.
        (0, 7) => {
            assert_eq!(h, "20240102000000:baseline", "{said}");
            assert_eq!(pinned, ["1"], "{said}");
        }
        _ => panic!("an inconsistent outcome: {said}\nhistory {h}, pinned {pinned:?}"),
    }
    assert!(said.contains("Waiting for"), "{said}");
}
