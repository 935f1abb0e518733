//! The Supabase emulation's own objects never reach what Strata shows or writes for a project: a
//! schema dump, a squash baseline, `strata diff` output, a written migration. They are told apart
//! by building the emulation alone (`Scope::resolve`), whatever way the emulation created them
//! (the pg_net stand-ins are created through `EXECUTE`, and only where pg_net is not installable)
//! — so the test runs on two servers: this machine's (no pg_net: the stand-ins exist) and a copy
//! of its binaries whose extension directory offers a `pg_net` (no stand-ins).
//!
//! One test in its own binary: the second server is chosen with `STRATA_PG_BINDIR`, which is
//! process-wide.

mod support;

use std::path::{Path, PathBuf};

use strata::catalog::{Catalog, Kind, ObjectId};
use strata::diff::Scope;
use strata::platform::Platform;
use strata::scratch::{Scratch, ScratchDb};
use strata::MigrationSet;

/// A copy of the server binaries whose share directory also offers a `pg_net` extension: the
/// binaries copied (PostgreSQL finds its share and library directories relative to its own
/// executable), the library directory linked, the share directory mirrored with links plus the
/// stub. `None` (with the reason printed) where the installation cannot be mirrored.
fn server_with_pg_net(root: &Path) -> Option<PathBuf> {
    let bins = strata::local::find_server_binaries().ok()?;
    let pg_config = bins.bin_dir.join("pg_config");
    let out = std::process::Command::new(&pg_config)
        .args(["--sharedir", "--pkglibdir"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let Some(out) = out else {
        eprintln!("skipped the pg_net-installable server: no pg_config beside the server binaries");
        return None;
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let (share, lib) = (PathBuf::from(lines.next()?), PathBuf::from(lines.next()?));
    let under = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
    let bin = under(&bins.bin_dir);
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["postgres", "initdb", "pg_ctl"] {
        std::fs::copy(bins.bin_dir.join(tool), bin.join(tool)).unwrap();
    }
    let lib_link = under(&lib);
    std::fs::create_dir_all(lib_link.parent().unwrap()).unwrap();
    if !lib_link.exists() {
        std::os::unix::fs::symlink(&lib, &lib_link).unwrap();
    }
    let share_copy = under(&share);
    std::fs::create_dir_all(share_copy.join("extension")).unwrap();
    for entry in std::fs::read_dir(&share).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "extension" {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), share_copy.join(entry.file_name())).unwrap();
    }
    for entry in std::fs::read_dir(share.join("extension")).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(
            entry.path(),
            share_copy.join("extension").join(entry.file_name()),
        )
        .unwrap();
    }
    std::fs::write(
        share_copy.join("extension/pg_net.control"),
        "comment = 'a stub: installable, never installed'\ndefault_version = '0.1'\nrelocatable = false\n",
    )
    .unwrap();
    std::fs::write(share_copy.join("extension/pg_net--0.1.sql"), "").unwrap();
    Some(bin)
}

fn id(kind: Kind, name: &str) -> ObjectId {
    ObjectId {
        kind,
        name: name.into(),
    }
}

/// Every check, on scratch databases of `scratch`; `stand_ins`: whether this server lacks
/// pg_net (so the emulation creates its stand-ins).
async fn check(scratch: &Scratch, stand_ins: bool) {
    let platform = Platform::Supabase;
    let emulation = strata::diff::platform_catalog(scratch).await.unwrap();
    let http_get = emulation
        .objects
        .keys()
        .any(|i| i.kind == Kind::Function && i.name.starts_with("net.http_get("));
    assert_eq!(http_get, stand_ins, "pg_net stand-ins");
    assert!(emulation
        .objects
        .contains_key(&id(Kind::Function, "auth.uid()")));
    let listed: Vec<&ObjectId> = emulation
        .objects
        .keys()
        .filter(|i| i.kind != Kind::DefaultPrivileges)
        .collect();
    assert!(listed.len() > 50, "{}", listed.len());
    let scope = Scope::resolve(platform, scratch).await.unwrap();

    // What the chat app's migrations build, scoped: no emulation object it left as it was.
    let set = MigrationSet::load_dir(support::chat_app_dir()).unwrap();
    let db = ScratchDb::create(scratch, "emulationcheck").await.unwrap();
    db.build(set.clone(), platform).await.unwrap();
    let built = Catalog::capture(&db.target().connect().await.unwrap())
        .await
        .unwrap();
    db.drop_now().await.unwrap();
    let mut scoped = built.clone();
    scope.apply(&mut scoped);
    let mut built_ruled = built.clone();
    built_ruled.retain_user_objects();
    let mut emulation_ruled = emulation.clone();
    emulation_ruled.retain_user_objects();
    for i in &listed {
        let untouched = built_ruled.objects.get(i) == emulation_ruled.objects.get(i);
        assert!(
            !(untouched && scoped.objects.contains_key(i)),
            "{i} of the emulation is in the project's scope"
        );
    }

    // The dump of it.
    let dumped: String = strata::schema::dump_files(&scoped)
        .iter()
        .map(|f| f.sql.clone())
        .collect();
    for needle in [
        "net.http_get",
        "FUNCTION auth.uid",
        "http_request_queue",
        "FUNCTION storage.foldername",
    ] {
        assert!(!dumped.contains(needle), "{needle} in the dump");
    }

    // A squash baseline of it (files only, nothing written: a dry run).
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("supabase/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for e in std::fs::read_dir(support::chat_app_dir()).unwrap() {
        let p = e.unwrap().path();
        if !p.to_string_lossy().ends_with("_rollback.sql") {
            std::fs::copy(&p, migrations.join(p.file_name().unwrap())).unwrap();
        }
    }
    let copy = MigrationSet::load_dir(&migrations).unwrap();
    let to = copy.migrations[copy.migrations.len() - 2].version.clone();
    let state = dir.path().join(".strata");
    let options = strata::squash::Options {
        platform,
        scratch,
        scope: &scope,
        author: "test",
        check: &strata::author::SplitCheck,
        state_dir: &state,
        lock_wait: std::time::Duration::from_secs(30),
        applied_by: "test",
    };
    let load = || MigrationSet::load_dir(&migrations);
    let report = strata::squash::run(
        &strata::squash::Request {
            to,
            dry_run: true,
            target: None,
            load: &load,
        },
        &options,
        &|_| {},
    )
    .await
    .unwrap();
    let baseline = report.squash.unwrap().sql;
    for needle in [
        "net.http_get",
        "FUNCTION auth.uid",
        "http_request_queue",
        "CREATE SCHEMA IF NOT EXISTS auth",
        "supabase_functions.hooks",
    ] {
        assert!(!baseline.contains(needle), "{needle} in the baseline");
    }

    // `strata diff` of a database the migrations were pushed to: nothing to say, and so
    // nothing a written migration could hold.
    // The target is on a server of the same kind (with or without pg_net).
    let target = ScratchDb::create(scratch, "emulationtarget").await.unwrap();
    strata::Migrator::new(set.clone())
        .with_options(strata::PushOptions {
            platform,
            ..strata::PushOptions::default()
        })
        .push(target.target())
        .await
        .unwrap();
    let drift = strata::diff::drift(set, platform, scratch, target.target(), &scope)
        .await
        .unwrap();
    target.drop_now().await.unwrap();
    assert!(drift.differences.is_empty(), "{:?}", drift.differences);
    assert!(drift.fix.sql.trim().is_empty(), "{}", drift.fix.sql);
}

#[tokio::test]
async fn no_emulation_object_reaches_a_dump_a_baseline_a_diff_or_a_written_migration() {
    // This machine's server: pg_net is not installable here, so the stand-ins exist.
    let here = tempfile::tempdir().unwrap();
    check(&Scratch::pool(here.path().join("scratch")), true).await;
    for n in 0..16 {
        let _ = strata::local::LocalCluster::new(here.path().join("scratch").join(n.to_string()))
            .destroy();
    }

    // A server where pg_net is installable: the emulation leaves schema net to it.
    let root = tempfile::tempdir().unwrap();
    let Some(bin) = server_with_pg_net(root.path()) else {
        return;
    };
    std::env::set_var(strata::local::BINDIR_ENV, &bin);
    let pool = root.path().join("scratch");
    check(&Scratch::pool(&pool), false).await;
    for n in 0..16 {
        let _ = strata::local::LocalCluster::new(pool.join(n.to_string())).destroy();
    }
    std::env::remove_var(strata::local::BINDIR_ENV);
}
