//! Integration tests for `strata::local::LocalCluster` against the real
//! PostgreSQL server binaries installed on the machine.
//!
//! Timings are printed to stderr; run with `--nocapture` to see them:
//! `cargo test -p strata --test local_cluster -- --nocapture`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use strata::local::{ClusterStatus, LocalCluster, LocalError, BINDIR_ENV};

/// Destroys the cluster (stopping its server) when dropped, so a failing test
/// does not leak a server or a directory under /var/tmp.
struct Guard(LocalCluster);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

fn state_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join(".strata")
}

fn query_one(url: &str, sql: &str) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let conn = tokio::spawn(connection);
        let result = client.query(sql, &[]).await;
        drop(client);
        let _ = conn.await;
        result
    })
}

fn batch(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let conn = tokio::spawn(connection);
        client.batch_execute(sql).await.expect("batch");
        drop(client);
        let _ = conn.await;
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn lifecycle_start_connect_stop_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let guard = Guard(LocalCluster::new(state_dir(&tmp)));
    let cluster = &guard.0;

    assert_eq!(cluster.status().unwrap(), ClusterStatus::NotCreated);
    assert!(!cluster.stop().unwrap(), "stop before creation is a no-op");

    let t = Instant::now();
    let first = cluster.start().expect("first start");
    let first_start = t.elapsed();
    assert!(first.port > 0);
    assert!(first.version.starts_with(|c: char| c.is_ascii_digit()));

    match cluster.status().unwrap() {
        ClusterStatus::Running(info) => assert_eq!(info, first),
        other => panic!("expected running, got {other:?}"),
    }
    let url = cluster.url("postgres");
    assert_eq!(
        url,
        format!("postgresql://postgres@127.0.0.1:{}/postgres", first.port)
    );
    assert_eq!(url, first.url("postgres"));
    let rows = query_one(&url, "select 1::int4").expect("select 1");
    assert_eq!(rows[0].get::<_, i32>(0), 1);

    // Settings Strata manages are in effect.
    let rows = query_one(
        &url,
        "select current_setting('fsync'), current_setting('listen_addresses'), \
                current_setting('max_connections'), current_user",
    )
    .unwrap();
    assert_eq!(rows[0].get::<_, String>(0), "off");
    assert_eq!(rows[0].get::<_, String>(1), "127.0.0.1");
    assert_eq!(rows[0].get::<_, String>(2), "100");
    assert_eq!(rows[0].get::<_, String>(3), "postgres");

    // Already running: quick and idempotent.
    let t = Instant::now();
    let again = cluster.start().expect("second start");
    let running_start = t.elapsed();
    assert_eq!(again, first);
    assert!(
        running_start < Duration::from_millis(500),
        "start of a running cluster took {running_start:?}"
    );

    batch(
        &url,
        "create table kept (id int primary key); insert into kept values (42);",
    );

    assert!(cluster.stop().expect("stop"));
    assert!(matches!(
        cluster.status().unwrap(),
        ClusterStatus::Stopped { port, .. } if port == first.port
    ));
    assert!(query_one(&url, "select 1").is_err(), "server still answers");
    assert!(!cluster.stop().unwrap(), "second stop is a no-op");

    let t = Instant::now();
    let restarted = cluster.start().expect("restart");
    let restart = t.elapsed();
    assert_eq!(restarted.port, first.port, "port is reused");
    assert_eq!(restarted.data_dir, first.data_dir);
    assert_ne!(restarted.pid, first.pid);
    let rows = query_one(&url, "select id from kept").expect("table survives restart");
    assert_eq!(rows[0].get::<_, i32>(0), 42);

    // A fresh handle (another process, in effect) sees the same cluster.
    let other = LocalCluster::new(state_dir(&tmp));
    assert_eq!(other.start().unwrap(), restarted);

    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cluster.local_dir().join("cluster.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["port"], first.port);
    assert!(meta["bin_dir"].is_string());
    assert!(meta["server_version"].is_string());
    assert!(meta["created_at"].is_string());

    eprintln!(
        "timings: first start (initdb + start) {first_start:?}; \
         start of a stopped cluster {restart:?}; start when running {running_start:?}"
    );
}

#[test]
fn restart_picks_new_port_when_recorded_one_is_taken() {
    let tmp = tempfile::tempdir().unwrap();
    let guard = Guard(LocalCluster::new(state_dir(&tmp)));
    let cluster = &guard.0;
    let first = cluster.start().unwrap();
    assert!(cluster.stop().unwrap());

    let squatter = std::net::TcpListener::bind(("127.0.0.1", first.port)).unwrap();
    let second = cluster.start().expect("start with the old port taken");
    drop(squatter);
    assert_ne!(second.port, first.port);
    assert_eq!(cluster.url("db"), second.url("db"));
    query_one(&cluster.url("postgres"), "select 1").expect("connect on the new port");
}

#[test]
fn stale_pid_file_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let guard = Guard(LocalCluster::new(state_dir(&tmp)));
    let cluster = &guard.0;
    let first = cluster.start().unwrap();
    assert!(cluster.stop().unwrap());

    // A crash leaves postmaster.pid behind; here its pid belongs to a live
    // process that is not PostgreSQL (this test), as after a pid reuse.
    let pid_file = first.data_dir.join("postmaster.pid");
    std::fs::write(
        &pid_file,
        format!(
            "{}\n{}\n1700000000\n{}\n\n127.0.0.1\n  0  0\nready   \n",
            std::process::id(),
            first.data_dir.display(),
            first.port
        ),
    )
    .unwrap();
    assert!(matches!(
        cluster.status().unwrap(),
        ClusterStatus::Stopped { .. }
    ));
    assert!(!cluster.stop().unwrap(), "nothing of ours to stop");
    let second = cluster.start().expect("start over a stale postmaster.pid");
    assert_ne!(second.pid, std::process::id());
    query_one(&cluster.url("postgres"), "select 1").unwrap();
}

#[test]
fn concurrent_starts_make_one_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let state = state_dir(&tmp);
    let guard = Guard(LocalCluster::new(&state));

    const THREADS: usize = 6;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let state = state.clone();
            std::thread::spawn(move || {
                let cluster = LocalCluster::new(state);
                barrier.wait();
                cluster.start()
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap().expect("concurrent start"))
        .collect();
    let first = &results[0];
    for r in &results {
        assert_eq!(r.port, first.port);
        assert_eq!(r.pid, first.pid);
        assert_eq!(r.data_dir, first.data_dir);
    }
    match guard.0.status().unwrap() {
        ClusterStatus::Running(info) => assert_eq!(&info, first),
        other => panic!("expected running, got {other:?}"),
    }
    query_one(&guard.0.url("postgres"), "select 1").unwrap();
}

#[test]
fn root_keeps_data_in_project_when_reachable_else_outside() {
    if !is_root() {
        eprintln!("not root: skipping");
        return;
    }
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    // A project `nobody` cannot reach (mode 0700): data goes outside.
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let guard = Guard(LocalCluster::new(state_dir(&private)));
    let info = guard.0.start().unwrap();
    assert!(
        !info.data_dir.starts_with(private.path()),
        "data dir {:?} should be outside the unreachable project",
        info.data_dir
    );
    assert!(info.data_dir.starts_with("/var/tmp") || info.data_dir.starts_with("/tmp"));
    let meta = std::fs::metadata(&info.data_dir).unwrap();
    assert_ne!(meta.uid(), 0, "data dir must not be owned by root");
    let outside_root = info.data_dir.parent().unwrap().to_path_buf();
    drop(guard);
    assert!(!outside_root.exists(), "destroy removes {outside_root:?}");

    // A reachable project: data stays in <state>/local/data.
    let public = tempfile::tempdir().unwrap();
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let guard = Guard(LocalCluster::new(state_dir(&public)));
    let info = guard.0.start().unwrap();
    let expected = std::fs::canonicalize(public.path())
        .unwrap()
        .join(".strata/local/data");
    assert_eq!(info.data_dir, expected);
    assert_ne!(std::fs::metadata(&info.data_dir).unwrap().uid(), 0);
    query_one(&guard.0.url("postgres"), "select 1").unwrap();
}

#[test]
fn missing_binaries_name_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(state_dir(&tmp)).with_bin_dir(empty.path());
    let err = cluster.start().expect_err("no binaries");
    assert!(
        matches!(err, LocalError::BinariesNotFound { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("apt-get install postgresql"), "{msg}");
    assert!(msg.contains("postgresql-server"), "{msg}");
    assert!(msg.contains("brew install postgresql"), "{msg}");
    assert!(msg.contains(&empty.path().display().to_string()), "{msg}");
    let hint = err.hint().expect("a hint");
    assert!(hint.contains(BINDIR_ENV), "{hint}");
    assert_eq!(cluster.status().unwrap(), ClusterStatus::NotCreated);
}

/// Runs `missing_binaries_via_env_child` in a child process with
/// `STRATA_PG_BINDIR` set, so the variable cannot leak into tests running
/// concurrently in this process.
#[test]
fn missing_binaries_via_env() {
    let empty = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "missing_binaries_via_env_child",
            "--nocapture",
            "--include-ignored",
        ])
        .env(BINDIR_ENV, empty.path())
        .env("STRATA_TEST_ENV_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{stderr}"
    );
}

#[test]
#[ignore = "run by missing_binaries_via_env in a child process"]
fn missing_binaries_via_env_child() {
    if std::env::var_os("STRATA_TEST_ENV_CHILD").is_none() {
        return;
    }
    let empty = PathBuf::from(std::env::var_os(BINDIR_ENV).unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let err = LocalCluster::new(state_dir(&tmp))
        .start()
        .expect_err("the strict override must not fall back to installed binaries");
    let msg = err.to_string();
    assert!(msg.contains("apt-get install postgresql"), "{msg}");
    assert!(msg.contains(BINDIR_ENV), "{msg}");
    assert!(msg.contains(&empty.display().to_string()), "{msg}");
    assert!(strata::local::find_server_binaries().is_err());
}

#[test]
fn user_pg_environment_is_ignored() {
    // PG* variables of the parent must not redirect initdb/pg_ctl/postgres.
    // Checked in a child process so the variables do not affect other tests.
    if std::env::var_os("STRATA_TEST_PGENV_CHILD").is_some() {
        let tmp = tempfile::tempdir().unwrap();
        let guard = Guard(LocalCluster::new(state_dir(&tmp)));
        let info = guard.0.start().expect("start despite PG* variables");
        assert!(info.data_dir.ends_with("data"));
        assert!(!Path::new("/nonexistent-strata-pgdata").exists());
        query_one(&guard.0.url("postgres"), "select 1").unwrap();
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "user_pg_environment_is_ignored", "--nocapture"])
        .env("STRATA_TEST_PGENV_CHILD", "1")
        .env("PGDATA", "/nonexistent-strata-pgdata")
        .env("PGPORT", "1")
        .env("PGHOST", "/nonexistent")
        .env("PGOPTIONS", "-c no_such_setting=1")
        .env_remove(BINDIR_ENV)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{stderr}"
    );
}
