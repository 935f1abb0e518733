//! Support for the tests that run the built `strata` binary: temporary projects, runs with their
//! exit code and output, and databases of their own on the test server (`STRATA_TEST_ADMIN_URL`,
//! else 127.0.0.1:5432 as `postgres`, else Strata's local cluster under
//! `target/strata-test-cluster`).
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use strata::target::{SessionSettings, Target, TargetSource};

// The database helpers of the library's tests: one admin URL, one way to name a database.
#[path = "../../../strata/tests/support/mod.rs"]
pub mod support;

pub use support::{admin_url, with_database, PrivateServer};

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn target(url: &str) -> Target {
    Target::from_url(url, TargetSource::DbUrl, SessionSettings::default()).expect("test URL")
}

/// Runs SQL (several statements allowed).
pub fn exec(url: &str, sql: &str) {
    runtime().block_on(async {
        let client = target(url)
            .connect()
            .await
            .expect("connect to the test server");
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
}

/// The first column of every row, as text (cast it in the query).
pub fn strings(url: &str, sql: &str) -> Vec<String> {
    runtime().block_on(async {
        let client = target(url)
            .connect()
            .await
            .expect("connect to the test server");
        client
            .query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect()
    })
}

/// A fresh database, dropped (with its connections) when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new(tag: &str) -> TestDb {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("strata_cli_{tag}_{}_{nanos:x}{n:x}", std::process::id());
        exec(&admin_url(), &format!("CREATE DATABASE \"{name}\""));
        let url = with_database(&admin_url(), &name);
        TestDb { name, url }
    }

    pub fn versions(&self) -> Vec<String> {
        if strings(
            &self.url,
            "select exists (select 1 from pg_namespace where nspname = 'supabase_migrations')::text",
        ) != ["true"]
        {
            return Vec::new();
        }
        strings(
            &self.url,
            "select version from supabase_migrations.schema_migrations order by version::numeric",
        )
    }

    pub fn table_exists(&self, name: &str) -> bool {
        strings(
            &self.url,
            &format!("select (to_regclass('{name}') is not null)::text"),
        ) == ["true"]
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let url = admin_url();
        let _ = std::thread::spawn(move || {
            runtime().block_on(async {
                if let Ok(c) = target(&url).connect().await {
                    let _ = c.batch_execute(&sql).await;
                }
            })
        })
        .join();
    }
}

/// Nothing listens here: a command that gets as far as connecting fails at once (and never
/// starts a local cluster).
pub const NOWHERE: &str = "postgresql://postgres@127.0.0.1:1/nowhere";

/// A temporary project directory with `migrations/` holding `files`.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join("migrations").join(name), text).unwrap();
    }
    dir
}

pub fn write(project: &Path, rel: &str, text: &str) {
    let path = project.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as exactly one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The environment variables a run never inherits from the test process: targets, libpq's
/// defaults, CI conventions that change the output.
pub const CLEARED_ENV: &[&str] = &[
    "DATABASE_URL",
    "STRATA_DB_URL",
    "STRATA_SCRATCH_URL",
    "SUPABASE_DB_PASSWORD",
    "GITHUB_ACTIONS",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGPASSFILE",
    "PGOPTIONS",
    "PGAPPNAME",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
];

pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
    c.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for var in CLEARED_ENV {
        c.env_remove(var);
    }
    c
}

pub fn run(mut c: Command) -> Run {
    let out = c.output().expect("run strata");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn strata(cwd: &Path, args: &[&str]) -> Run {
    run(command(cwd, args))
}

pub fn strata_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = command(cwd, args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}
