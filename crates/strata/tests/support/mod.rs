//! Test support: every test gets its own database on a real PostgreSQL server, so the suite
//! runs in parallel. The server is `STRATA_TEST_ADMIN_URL` if set, else 127.0.0.1:5432 as
//! `postgres` if it answers, else Strata's own local cluster under `target/strata-test-cluster`
//! (so the tests run on a machine that has only the PostgreSQL server binaries).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use strata::target::{SessionSettings, Target, TargetSource};
use tokio_postgres::{Client, NoTls};

static ADMIN_URL: OnceLock<String> = OnceLock::new();

/// Where the tests build scratch databases (`strata diff`, `verify`, `schema`, `squash`):
/// private clusters under `target/strata-scratch`, shared by every test binary (each scratch
/// database leases a cluster of its own, so tests never see each other's roles).
pub fn scratch_server() -> strata::scratch::Scratch {
    strata::scratch::Scratch::pool(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/strata-scratch"),
    )
}

/// The test server itself as a shared scratch server (`STRATA_SCRATCH_URL`'s mode).
pub fn scratch_on_test_server() -> strata::scratch::Scratch {
    strata::scratch::Scratch::server(
        Target::from_url(
            &admin_url(),
            TargetSource::Scratch,
            SessionSettings::default(),
        )
        .unwrap(),
    )
}

/// The URL of a database on the test server that tests may use to create and drop databases.
pub fn admin_url() -> String {
    ADMIN_URL
        .get_or_init(|| {
            if let Ok(url) = std::env::var("STRATA_TEST_ADMIN_URL") {
                return url;
            }
            if std::net::TcpStream::connect_timeout(
                &"127.0.0.1:5432".parse().unwrap(),
                std::time::Duration::from_millis(300),
            )
            .is_ok()
            {
                return "postgresql://postgres@127.0.0.1:5432/postgres".into();
            }
            let state =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/strata-test-cluster");
            let info = strata::local::LocalCluster::new(state)
                .start()
                .expect("no PostgreSQL at 127.0.0.1:5432 and the local cluster did not start");
            info.url("postgres")
        })
        .clone()
}

/// A fresh database, dropped (with its connections) when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates `strata_test_<tag>_<random>`.
    pub async fn new(tag: &str) -> TestDb {
        let name = format!(
            "strata_test_{}_{}_{}",
            tag,
            std::process::id(),
            rand_suffix()
        );
        let admin = connect(&admin_url()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        let url = with_database(&admin_url(), &name);
        TestDb { name, url }
    }

    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }

    pub fn target(&self) -> Target {
        Target::from_url(&self.url, TargetSource::DbUrl, SessionSettings::default()).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let url = admin_url();
        // Drop on a separate thread with its own runtime: Drop may run inside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((c, conn)) = tokio_postgres::connect(&url, NoTls).await {
                    tokio::spawn(conn);
                    let _ = c
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

pub async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to test server: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{:x}{:x}", t, n)
}

/// Writes migration files into a fresh temporary directory.
pub fn migrations_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// The shipped example app's migrations directory.
pub fn chat_app_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/chat-app/supabase/migrations")
}

/// A PostgreSQL server of the test's own (a private cluster in a temporary directory, on a free
/// port), for what the shared server cannot show: a server with no roles created yet, or one that
/// checks passwords. Stopped and deleted when dropped.
pub struct PrivateServer {
    pub cluster: strata::local::LocalCluster,
    pub info: strata::local::RunningInfo,
    /// The superuser's password, when the server checks passwords (scram-sha-256).
    pub password: Option<String>,
    _dir: tempfile::TempDir,
}

impl PrivateServer {
    /// A server with `trust` authentication.
    pub fn trust() -> PrivateServer {
        Self::start(None)
    }

    /// A server that authenticates every connection with scram-sha-256; the superuser
    /// `postgres` has `password`.
    pub fn scram(password: &str) -> PrivateServer {
        Self::start(Some(password.to_string()))
    }

    fn start(password: Option<String>) -> PrivateServer {
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = strata::local::LocalCluster::new(dir.path().join(".strata"));
        if let Some(p) = &password {
            cluster = cluster.with_superuser_password(p.clone());
        }
        let info = cluster.start().expect("start a private cluster");
        PrivateServer {
            cluster,
            info,
            password,
            _dir: dir,
        }
    }

    /// The URL of `database` as the superuser, with the password percent-encoded when there is
    /// one.
    pub fn url(&self, database: &str) -> String {
        match &self.password {
            Some(p) => format!(
                "postgresql://postgres:{}@127.0.0.1:{}/{database}",
                strata::conninfo::encode_userinfo(p),
                self.info.port
            ),
            None => self.info.url(database),
        }
    }

    pub fn port(&self) -> u16 {
        self.info.port
    }

    /// Runs SQL (several statements allowed) on `database`.
    pub async fn exec(&self, database: &str, sql: &str) {
        let t = Target::from_url(
            &self.url(database),
            TargetSource::DbUrl,
            SessionSettings::default(),
        )
        .unwrap();
        let c = t.connect().await.unwrap_or_else(|e| panic!("{e}"));
        c.batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }

    /// The first column of every row, as text.
    pub async fn strings(&self, database: &str, sql: &str) -> Vec<String> {
        let t = Target::from_url(
            &self.url(database),
            TargetSource::DbUrl,
            SessionSettings::default(),
        )
        .unwrap();
        let c = t.connect().await.unwrap_or_else(|e| panic!("{e}"));
        c.query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect()
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.cluster.destroy();
    }
}

/// The real Supabase CLI, when installed.
pub fn supabase_cli() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("STRATA_SUPABASE_CLI") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [
        root.join("node_modules/@supabase/cli-linux-x64/bin/supabase"),
        PathBuf::from("/tmp/sb/node_modules/@supabase/cli-linux-x64/bin/supabase"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Runs the Supabase CLI in `project`; returns its stdout, and fails the test when it fails.
pub fn run_supabase(cli: &Path, project: &Path, args: &[&str]) -> String {
    run_supabase_output(cli, project, args).0
}

/// Runs the Supabase CLI in `project`; returns its stdout and stderr (where it prints its
/// progress and lists), and fails the test when it fails.
pub fn run_supabase_output(cli: &Path, project: &Path, args: &[&str]) -> (String, String) {
    let out = std::process::Command::new(cli)
        .args(args)
        .arg("--workdir")
        .arg(project)
        .current_dir(project)
        .env("DO_NOT_TRACK", "1")
        .output()
        .expect("run the Supabase CLI");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "supabase {args:?} failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    (stdout, stderr)
}
