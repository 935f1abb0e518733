//! The checksum cache (`strata::source::cache`): files unchanged since the last load are not
//! read, and an edited file is always found — also one that keeps its size and modification time.

use std::path::Path;
use std::time::Duration;

use strata::source::{cache, SourceOptions};
use strata::MigrationSet;

fn options(state: &Path, dir: &Path) -> SourceOptions {
    SourceOptions {
        checksum_cache: Some(cache::path_for(state, dir)),
        ..SourceOptions::default()
    }
}

/// Writes `text` over `path` keeping its modification time (as an editor that preserves times,
/// or `touch -r`, would): only the status-change time moves.
fn edit_keeping_mtime(path: &Path, text: &str) {
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_times(std::fs::FileTimes::new().set_modified(mtime))
        .unwrap();
    assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), mtime);
}

#[test]
fn unchanged_files_are_not_read_and_edits_are_always_seen() {
    let project = tempfile::tempdir().unwrap();
    let dir = project.path().join("migrations");
    std::fs::create_dir(&dir).unwrap();
    let files = [
        ("1_a.sql", "create table a (id int);\n"),
        ("2_b.sql", "create table b (id int);\n"),
        ("3_c.sql", "create table c (id int);\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    std::fs::write(dir.join("2_b_rollback.sql"), "drop table b;\n").unwrap();
    let state = project.path().join(".strata");
    let opts = options(&state, &dir);

    // Just written: racy, so read every time and not cached yet.
    let first = MigrationSet::load(&dir, &opts).unwrap();
    assert!(first.is_read());
    let again = MigrationSet::load(&dir, &opts).unwrap();
    assert!(
        again.is_read(),
        "files changed within the racy window must be read"
    );

    // Settled: the next load caches them, the one after reads none of them.
    std::thread::sleep(cache::RACY_WINDOW + Duration::from_millis(200));
    let caching = MigrationSet::load(&dir, &opts).unwrap();
    assert!(caching.is_read());
    assert!(state.join(".gitignore").exists());
    let warm = MigrationSet::load(&dir, &opts).unwrap();
    assert!(warm.migrations.iter().all(|m| !m.is_read()));
    for (w, f) in warm.migrations.iter().zip(&first.migrations) {
        assert_eq!(w.checksum, f.checksum);
        assert_eq!(w.version, f.version);
    }
    // Rollback files are always read.
    assert_eq!(
        warm.migrations[1].rollback.as_ref().unwrap().sql,
        "drop table b;\n"
    );
    // An unread file is never run as empty.
    assert!(warm.migrations[0].statements().is_err());

    // The same size and modification time, other text: found.
    edit_keeping_mtime(&dir.join("2_b.sql"), "create table x (id int);\n");
    let edited = MigrationSet::load(&dir, &opts).unwrap();
    let b = &edited.migrations[1];
    assert!(b.is_read());
    assert_ne!(b.checksum, first.migrations[1].checksum);
    assert_eq!(
        b.checksum,
        strata::source::checksum("create table x (id int);\n")
    );
    assert!(!edited.migrations[0].is_read());

    // Reading the rest gives the same set as reading everything.
    let mut lazy = edited;
    lazy.read_deferred().unwrap();
    let full = MigrationSet::load_dir(&dir).unwrap();
    for (l, f) in lazy.migrations.iter().zip(&full.migrations) {
        assert_eq!((l.sql.as_str(), &l.checksum), (f.sql.as_str(), &f.checksum));
        assert_eq!(l.statements().unwrap().len(), 1);
    }

    // Turned off: everything is read, and nothing is written (not even a new cache).
    let elsewhere = project.path().join("other-state");
    let off_opts = options(&elsewhere, &dir);
    std::env::set_var(cache::DISABLE_VAR, "1");
    let off = MigrationSet::load(&dir, &opts).unwrap();
    let off_elsewhere = MigrationSet::load(&dir, &off_opts).unwrap();
    // `0` and `false` do not turn it off.
    std::env::set_var(cache::DISABLE_VAR, "0");
    assert!(!cache::disabled());
    std::env::remove_var(cache::DISABLE_VAR);
    assert!(off.is_read() && off_elsewhere.is_read());
    assert!(!elsewhere.exists(), "a disabled cache must not be written");
}
