//! `.ci/find-libclang`, the prerequisite check `.ci/run` relies on, against fixture directories:
//! it must find exactly what bindgen (clang-sys) loads, and nothing else.

use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.ci/find-libclang")
}

/// Runs the check with `root` in place of `/`; returns what it printed when it found libclang.
fn find(root: &Path) -> Option<String> {
    let out = Command::new("bash")
        .arg(script())
        .arg("--root")
        .arg(root)
        .output()
        .expect("run bash");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn touch(root: &Path, rel: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"").unwrap();
}

#[test]
fn clangs_cpp_runtime_alone_is_not_libclang() {
    // A new Debian 12 machine: clang's C++ runtime, no libclang.
    let root = tempfile::tempdir().unwrap();
    touch(root.path(), "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14");
    touch(root.path(), "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    assert_eq!(find(root.path()), None);
}

#[test]
fn an_empty_machine_has_no_libclang() {
    let root = tempfile::tempdir().unwrap();
    assert_eq!(find(root.path()), None);
}

#[test]
fn every_name_clang_sys_loads_is_found() {
    for name in [
        "usr/lib/llvm-14/lib/libclang.so",
        "usr/lib/llvm-14/lib/libclang-14.so.1",
        "usr/lib/x86_64-linux-gnu/libclang-14.so.14.0.6",
        "usr/lib/x86_64-linux-gnu/libclang.so.1",
        "usr/local/lib/libclang-17.so",
        "usr/local/llvm18/lib64/libclang.so",
    ] {
        let root = tempfile::tempdir().unwrap();
        touch(root.path(), "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14");
        touch(root.path(), name);
        let found = find(root.path()).unwrap_or_else(|| panic!("{name} not found"));
        assert!(found.ends_with(name), "{name}: found {found}");
    }
}

#[test]
fn other_libraries_named_alike_do_not_count() {
    let root = tempfile::tempdir().unwrap();
    for name in [
        "usr/lib/llvm-14/lib/libclangAST.a",
        "usr/lib/llvm-14/lib/libclang-cpp.so",
        "usr/lib/x86_64-linux-gnu/libclang_rt.asan.so",
        // Deeper than clang-sys's patterns look.
        "usr/lib/a/b/c/libclang.so",
    ] {
        touch(root.path(), name);
    }
    assert_eq!(find(root.path()), None);
}
