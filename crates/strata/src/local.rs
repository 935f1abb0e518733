//! Strata's private local PostgreSQL cluster (no Docker).
//!
//! When a project has no database configured, Strata runs its own throw-away
//! PostgreSQL cluster built from the PostgreSQL server binaries installed on
//! the machine. [`LocalCluster`] owns that cluster: finding the binaries,
//! creating the cluster (`initdb`), configuring, starting, stopping and
//! describing it. Everything here is blocking `std` code without any terminal
//! output; async callers should use `spawn_blocking`.
//!
//! # Layout
//!
//! The caller passes the project's state directory (normally
//! `<project>/.strata`). Inside it Strata owns `local/`:
//!
//! ```text
//! <state>/local/cluster.json   port, bin dir, server version, created_at, data location
//! <state>/local/.lock          flock(2) lock serialising create/start/stop/destroy
//! <state>/local/data/          PGDATA
//! <state>/local/run/           unix socket directory
//! <state>/local/postgres.log   server log (rotated to postgres.log.1 above 10 MiB)
//! ```
//!
//! The server listens on `127.0.0.1` only, on a TCP port picked when the
//! cluster is created (the kernel's choice for `127.0.0.1:0`) and reused on
//! every start; if the recorded port has since been taken by another program,
//! a new one is picked and recorded. Authentication is `trust`, the superuser
//! is `postgres`, the encoding UTF8 with the `C.UTF-8` locale (or `C` where
//! that locale does not exist); `initdb` runs with `--no-sync`. The settings Strata manages live in
//! `data/strata.conf`, included from `postgresql.conf` and rewritten on every
//! start: `listen_addresses`, `port`, `unix_socket_directories`, and the
//! fast-but-unsafe development settings `fsync`, `synchronous_commit` and
//! `full_page_writes` off (a crash of the machine can corrupt this cluster;
//! it only ever holds development data), `max_connections = 100`. If the
//! socket path would exceed the unix socket path limit, unix sockets are
//! disabled (Strata always connects over TCP).
//!
//! # Binaries
//!
//! `initdb`, `pg_ctl` and `postgres` must live in one directory. If
//! `STRATA_PG_BINDIR` is set (non-empty) only that directory is used.
//! Otherwise Strata tries, in order: the directory recorded in `cluster.json`,
//! every `PATH` entry holding a real (non-script) `pg_ctl` (symlinks resolved;
//! Debian's `postgresql-common` Perl/shell wrappers are skipped), `pg_config
//! --bindir`, then well-known places: `/usr/lib/postgresql/<version>/bin` and
//! `/usr/pgsql-<version>/bin` (newest first), `/usr/local/pgsql/bin`,
//! Homebrew's `opt/postgresql@<version>/bin` and Postgres.app. For an existing
//! cluster, only binaries of the same major version as the data directory are
//! accepted.
//!
//! # Running as root
//!
//! PostgreSQL refuses to run as root. When the effective uid is 0, `initdb`,
//! `pg_ctl` and the server run as an unprivileged user: the owner of an
//! existing data directory, otherwise `nobody` (looked up with
//! `getpwnam_r`, falling back to uid/gid 65534). Supplementary groups are
//! dropped (the standard library calls `setgroups(0)` when a root parent sets
//! a child's uid). `local/` and `cluster.json` stay root-owned; `data/`,
//! `run/` and `postgres.log` are `chown`ed to that user.
//!
//! That user must be able to traverse every directory above the data
//! directory. If it cannot reach `<state>/local` (for example a project under
//! `/root`, mode 700, or a private temporary directory), the data, socket
//! directory and log are placed instead in
//! `/var/tmp/strata-<hash>/{data,run,postgres.log}` (`/tmp` if `/var/tmp` is
//! unusable), where `<hash>` is a 64-bit FNV-1a hash of the canonical state
//! directory path. That directory is created root-owned with mode 755 and
//! must not pre-exist under another owner. Its location is recorded as
//! `data_root` in `cluster.json`, so later starts find it regardless of the
//! hash; [`LocalCluster::destroy`] removes it.
//!
//! # Concurrency
//!
//! Creating, starting, stopping and destroying take an exclusive `flock` on
//! `local/.lock`, so concurrent `start()` calls from several threads or
//! processes produce exactly one cluster; the losers find it running. A start
//! on an already running cluster does not take the lock or spawn a process:
//! it reads `cluster.json` and `postmaster.pid`, checks that the postmaster
//! process is alive and that the port accepts a TCP connection.
//!
//! A `postmaster.pid` counts only if its pid is alive, not a zombie and (on
//! Linux) a `postgres` process whose working directory is the data directory;
//! otherwise it is stale and removed before starting.
//!
//! Child processes get an environment without any `PG*` variables (so a
//! user's `PGDATA`, `PGPORT`, `PGHOST`… cannot redirect them), with
//! `LC_ALL=C`, `/` as working directory and stdin from `/dev/null`.
//!
//! # Errors
//!
//! [`LocalError`]'s message says what went wrong, including the paths and the
//! tail of initdb's output or of the server log; [`LocalError::hint`] says
//! what to do. A missing installation names the package to install.

use std::ffi::{CStr, CString, OsStr};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Environment variable naming the directory holding `initdb`, `pg_ctl` and
/// `postgres`. When set (and non-empty), no other directory is searched.
pub const BINDIR_ENV: &str = "STRATA_PG_BINDIR";

/// Name of the cluster's superuser (created by `initdb -U`).
pub const SUPERUSER: &str = "postgres";

const LOCAL_DIR: &str = "local";
const META_FILE: &str = "cluster.json";
const LOCK_FILE: &str = ".lock";
const CONF_FILE: &str = "strata.conf";
const LOG_FILE: &str = "postgres.log";
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;
const LOCK_TIMEOUT: Duration = Duration::from_secs(180);
const PG_CTL_TIMEOUT_SECS: &str = "60";
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
const NOBODY_FALLBACK_ID: u32 = 65534;
const LOG_TAIL_LINES: usize = 30;
const INSTALL_PACKAGES: &str = "install the PostgreSQL server package: Debian/Ubuntu \
`apt-get install postgresql`, Fedora/RHEL `dnf install postgresql-server`, macOS `brew install postgresql@17`";

/// Errors of the local cluster. The message says what went wrong (with the
/// paths and log output involved); [`LocalError::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// No directory with usable `initdb`, `pg_ctl` and `postgres` was found.
    #[error("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found ({detail}); {INSTALL_PACKAGES}")]
    BinariesNotFound {
        /// What was searched / what was missing.
        detail: String,
        /// The `STRATA_PG_BINDIR` override in effect, if any.
        override_dir: Option<PathBuf>,
    },

    /// The installed binaries cannot run the existing data directory.
    #[error(
        "the local cluster in {data_dir} was created by PostgreSQL {data_version}, but {found}"
    )]
    VersionMismatch {
        /// The data directory.
        data_dir: PathBuf,
        /// Major version recorded in `PG_VERSION`.
        data_version: String,
        /// Which versions were found.
        found: String,
    },

    /// `initdb` failed.
    #[error("initdb failed to create the local cluster in {data_dir} ({status}); its output ends with:\n{output}")]
    InitdbFailed {
        /// The data directory being created.
        data_dir: PathBuf,
        /// Exit status.
        status: String,
        /// Tail of initdb's output.
        output: String,
    },

    /// The server did not start (or did not become reachable).
    #[error("the local PostgreSQL server failed to start: {detail}; the end of its log {log_file}:\n{log_tail}")]
    StartFailed {
        /// What failed.
        detail: String,
        /// The server log.
        log_file: PathBuf,
        /// Tail of the server log written during this attempt.
        log_tail: String,
    },

    /// `pg_ctl stop` failed.
    #[error("could not stop the local PostgreSQL server: {detail}; the end of its log {log_file}:\n{log_tail}")]
    StopFailed {
        /// What failed.
        detail: String,
        /// The server log.
        log_file: PathBuf,
        /// Tail of the server log.
        log_tail: String,
    },

    /// No TCP port could be obtained on 127.0.0.1.
    #[error("could not get a free TCP port on 127.0.0.1 for the local cluster: {source}")]
    Port {
        /// The bind error.
        #[source]
        source: io::Error,
    },

    /// Running as root, the unprivileged server user cannot be given access.
    #[error(
        "running as root: PostgreSQL refuses to run as root, so Strata runs it as `{user}`, \
         which needs access to {path}: {detail}"
    )]
    RootPermission {
        /// The user PostgreSQL runs as.
        user: String,
        /// The path concerned.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },

    /// `cluster.json` is unreadable.
    #[error("{path} is not a valid Strata cluster description: {detail}")]
    Metadata {
        /// Path of `cluster.json`.
        path: PathBuf,
        /// Parse error.
        detail: String,
    },

    /// Another process held the cluster lock for too long.
    #[error(
        "timed out after {secs}s waiting for {path}: another Strata process is creating, \
         starting or stopping the local cluster",
        secs = LOCK_TIMEOUT.as_secs()
    )]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
    },

    /// A program could not be executed.
    #[error("could not run {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The spawn error.
        #[source]
        source: io::Error,
    },

    /// A filesystem operation failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done ("create directory", "read", …).
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl LocalError {
    /// What the user can do about it, when Strata knows.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            LocalError::BinariesNotFound {
                override_dir: Some(_),
                ..
            } => format!(
                "point {BINDIR_ENV} at the directory holding initdb, pg_ctl and postgres \
                 (e.g. /usr/lib/postgresql/17/bin), or unset it to search the usual places"
            ),
            LocalError::BinariesNotFound { .. } => format!(
                "Strata looks on PATH, via `pg_config --bindir` and in the usual install locations; \
                 for an installation elsewhere set {BINDIR_ENV} to the directory holding initdb, pg_ctl and postgres"
            ),
            LocalError::VersionMismatch { data_version, .. } => format!(
                "install the PostgreSQL {data_version} server binaries (or point {BINDIR_ENV} at them), \
                 or destroy the local cluster (its data is lost) so that the next start recreates it \
                 with the installed version"
            ),
            LocalError::InitdbFailed { .. } => {
                "initdb's output above says why; the partial data directory is replaced on the next start"
                    .to_string()
            }
            LocalError::StartFailed { log_file, .. } => format!(
                "the server log ({}) says why; if the data directory is damaged, destroy the local \
                 cluster so that the next start recreates it",
                log_file.display()
            ),
            LocalError::StopFailed { .. } => {
                "the server log says why; as a last resort, send SIGINT to the pid in the data \
                 directory's postmaster.pid"
                    .to_string()
            }
            LocalError::Port { .. } => {
                "check that the loopback interface (127.0.0.1) is up and that local TCP ports are available"
                    .to_string()
            }
            LocalError::RootPermission { user, path, .. } => format!(
                "run Strata as a regular user, or make {} accessible to `{user}`",
                path.display()
            ),
            LocalError::Metadata { .. } => {
                "fix or delete the file; deleting it loses track of a data directory kept outside \
                 the project (root fallback under /var/tmp)"
                    .to_string()
            }
            LocalError::LockTimeout { .. } => {
                "wait for the other Strata process to finish; the lock is released when it exits"
                    .to_string()
            }
            LocalError::Spawn { .. } => {
                "check that the PostgreSQL installation is complete and executable".to_string()
            }
            LocalError::Io { .. } => return None,
        })
    }
}

type Result<T, E = LocalError> = std::result::Result<T, E>;

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> LocalError {
    let path = path.to_path_buf();
    move |source| LocalError::Io {
        action,
        path,
        source,
    }
}

/// State of the local cluster, as printed by the CLI (`{"state": "running", …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClusterStatus {
    /// No cluster has been created yet (or its data directory is gone).
    NotCreated,
    /// The cluster exists but no server is running.
    Stopped {
        /// Port recorded for the cluster (0 if none recorded).
        port: u16,
        /// The data directory (PGDATA).
        data_dir: PathBuf,
    },
    /// The server is running and accepts TCP connections.
    Running(RunningInfo),
}

/// A running local server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningInfo {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Process id of the postmaster.
    pub pid: u32,
    /// Server version, e.g. `15.14` (the major version if unknown).
    pub version: String,
    /// The data directory (PGDATA).
    pub data_dir: PathBuf,
    /// Unix socket directory, if unix sockets are enabled.
    pub socket_dir: Option<PathBuf>,
    /// The server log file.
    pub log_file: PathBuf,
}

impl RunningInfo {
    /// Connection URL for `database` as the `postgres` superuser.
    pub fn url(&self, database: &str) -> String {
        make_url(self.port, database)
    }
}

/// A directory holding usable PostgreSQL server binaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerBinaries {
    /// Directory containing `initdb`, `pg_ctl` and `postgres`.
    pub bin_dir: PathBuf,
    /// Version reported by `postgres --version`, e.g. `15.14`.
    pub version: String,
}

impl ServerBinaries {
    /// Major version as written in `PG_VERSION` (`15`, or `9.6` for old releases).
    pub fn major(&self) -> String {
        major_of(&self.version)
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

/// Finds PostgreSQL server binaries the way [`LocalCluster::start`] does for a
/// new cluster (honouring `STRATA_PG_BINDIR`).
pub fn find_server_binaries() -> Result<ServerBinaries, LocalError> {
    discover(env_bin_dir().as_deref(), None, None, None)
}

/// Contents of `local/cluster.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClusterMeta {
    port: u16,
    bin_dir: PathBuf,
    server_version: String,
    created_at: String,
    /// Directory holding `data/`, `run/` and `postgres.log` when they are not
    /// in `local/` (root fallback); `None` means `local/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_root: Option<PathBuf>,
    /// User the server runs as when Strata runs as root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run_as: Option<String>,
}

/// Where the data, socket directory and log live.
#[derive(Debug, Clone)]
struct Layout {
    root: PathBuf,
    external: bool,
    data: PathBuf,
    run: PathBuf,
    log: PathBuf,
}

impl Layout {
    fn at(root: PathBuf, external: bool) -> Layout {
        Layout {
            data: root.join("data"),
            run: root.join("run"),
            log: root.join(LOG_FILE),
            root,
            external,
        }
    }

    fn created(&self) -> bool {
        self.data.join("PG_VERSION").is_file()
    }

    /// Socket directory, unless the socket path would be too long.
    fn socket_dir(&self) -> Option<&Path> {
        // sun_path is 108 bytes on Linux, 104 on macOS; keep a NUL and margin.
        let len = self.run.as_os_str().len() + "/.s.PGSQL.65535".len();
        (len < 100).then_some(self.run.as_path())
    }
}

/// The unprivileged user the server runs as when Strata runs as root.
#[derive(Debug, Clone)]
struct RunAs {
    uid: u32,
    gid: u32,
    name: String,
}

/// Strata's private PostgreSQL cluster under `<state_dir>/local`.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    state_dir: PathBuf,
    bin_dir_override: Option<PathBuf>,
    /// The superuser's password, when the cluster is created with password authentication.
    password: Option<String>,
}

impl LocalCluster {
    /// A handle on the cluster under `state_dir` (normally `<project>/.strata`).
    /// Nothing is touched until a method is called. Reads `STRATA_PG_BINDIR`.
    pub fn new(state_dir: impl Into<PathBuf>) -> LocalCluster {
        LocalCluster {
            state_dir: state_dir.into(),
            bin_dir_override: env_bin_dir(),
            password: None,
        }
    }

    /// When this handle creates the cluster, it is created with `scram-sha-256` authentication
    /// for every connection (TCP and socket) and `password` for the superuser, instead of
    /// `trust`. For testing what a client does with passwords against a server that checks
    /// them. Has no effect on a cluster that exists already.
    pub fn with_superuser_password(mut self, password: impl Into<String>) -> LocalCluster {
        self.password = Some(password.into());
        self
    }

    /// Uses only `bin_dir` for the server binaries (like `STRATA_PG_BINDIR`).
    pub fn with_bin_dir(mut self, bin_dir: impl Into<PathBuf>) -> LocalCluster {
        self.bin_dir_override = Some(bin_dir.into());
        self
    }

    /// The state directory this handle was created with.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// `<state_dir>/local`, the directory Strata owns.
    pub fn local_dir(&self) -> PathBuf {
        self.abs_state_dir().join(LOCAL_DIR)
    }

    /// Connection URL for `database` as the `postgres` superuser, e.g.
    /// `postgresql://postgres@127.0.0.1:54321/postgres`. Uses the port
    /// recorded in `cluster.json`; before the cluster was ever created the
    /// port is 0, to which no connection succeeds.
    pub fn url(&self, database: &str) -> String {
        let port = self.read_meta().ok().flatten().map(|m| m.port).unwrap_or(0);
        make_url(port, database)
    }

    /// Current state. Never spawns a process.
    pub fn status(&self) -> Result<ClusterStatus, LocalError> {
        let meta = self.read_meta()?;
        let layout = self.layout_from(meta.as_ref());
        if !layout.created() {
            return Ok(ClusterStatus::NotCreated);
        }
        if let Some(info) = probe_running(&layout, meta.as_ref()) {
            return Ok(ClusterStatus::Running(info));
        }
        Ok(ClusterStatus::Stopped {
            port: meta.map(|m| m.port).unwrap_or(0),
            data_dir: layout.data,
        })
    }

    /// Creates the cluster if needed and starts it; returns the running server.
    ///
    /// Idempotent and safe to call concurrently from several threads or
    /// processes. If the server already runs, returns within milliseconds
    /// without spawning anything.
    pub fn start(&self) -> Result<RunningInfo, LocalError> {
        if let Some(info) = self.quick_probe()? {
            return Ok(info);
        }
        let local = self.ensure_local_dir()?;
        let _lock = DirLock::acquire(&local.join(LOCK_FILE))?;
        if let Some(info) = self.quick_probe()? {
            return Ok(info);
        }
        self.start_locked()
    }

    /// Stops the server (`pg_ctl stop -m fast`). Returns whether a running
    /// server was stopped (`false`: it was not running or not created).
    pub fn stop(&self) -> Result<bool, LocalError> {
        let local = self.local_dir();
        if !local.is_dir() {
            return Ok(false);
        }
        let _lock = DirLock::acquire(&local.join(LOCK_FILE))?;
        self.stop_locked()
    }

    /// Stops the server and deletes the cluster: data directory, socket
    /// directory, log, `cluster.json` and, for the root fallback, the
    /// directory under `/var/tmp`. The next [`start`](Self::start) creates a
    /// fresh cluster.
    pub fn destroy(&self) -> Result<(), LocalError> {
        let local = self.local_dir();
        if !local.is_dir() {
            return Ok(());
        }
        let _lock = DirLock::acquire(&local.join(LOCK_FILE))?;
        self.stop_locked()?;
        let meta = self.read_meta()?;
        let layout = self.layout_from(meta.as_ref());
        if layout.external {
            remove_all(&layout.root)?;
        } else {
            remove_all(&layout.data)?;
            remove_all(&layout.run)?;
            remove_file_if_exists(&layout.log)?;
            remove_file_if_exists(&layout.log.with_extension("log.1"))?;
        }
        remove_file_if_exists(&local.join(META_FILE))?;
        Ok(())
    }

    // ---- internals -------------------------------------------------------

    fn abs_state_dir(&self) -> PathBuf {
        fs::canonicalize(&self.state_dir)
            .or_else(|_| std::path::absolute(&self.state_dir))
            .unwrap_or_else(|_| self.state_dir.clone())
    }

    fn meta_path(&self) -> PathBuf {
        self.local_dir().join(META_FILE)
    }

    fn read_meta(&self) -> Result<Option<ClusterMeta>> {
        let path = self.meta_path();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("read", &path)(e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| LocalError::Metadata {
                path,
                detail: e.to_string(),
            })
    }

    fn write_meta(&self, meta: &ClusterMeta) -> Result<()> {
        let path = self.meta_path();
        let mut text = serde_json::to_string_pretty(meta).expect("cluster metadata serialises");
        text.push('\n');
        write_atomically(&path, text.as_bytes())
    }

    fn layout_from(&self, meta: Option<&ClusterMeta>) -> Layout {
        match meta.and_then(|m| m.data_root.clone()) {
            Some(root) => Layout::at(root, true),
            None => Layout::at(self.local_dir(), false),
        }
    }

    fn quick_probe(&self) -> Result<Option<RunningInfo>> {
        let Some(meta) = self.read_meta()? else {
            return Ok(None);
        };
        let layout = self.layout_from(Some(&meta));
        Ok(probe_running(&layout, Some(&meta)))
    }

    fn ensure_local_dir(&self) -> Result<PathBuf> {
        fs::create_dir_all(&self.state_dir).map_err(io_err("create directory", &self.state_dir))?;
        let local = self.local_dir();
        match fs::DirBuilder::new().mode(0o755).create(&local) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("create directory", &local)(e)),
        }
        Ok(local)
    }

    fn start_locked(&self) -> Result<RunningInfo> {
        let local = self.local_dir();
        let old_meta = self.read_meta()?;
        let root = is_root();

        // The recorded (or default) location, unless a new cluster must be
        // created as root: then pick a location the server user can reach.
        let recorded = self.layout_from(old_meta.as_ref());
        let layout = if recorded.created() || !root {
            recorded
        } else {
            choose_root_layout(&local, &nobody())?
        };
        let run_as = if root {
            Some(run_as_for(&layout.data))
        } else {
            None
        };

        // A postmaster that is alive but not (yet) reachable: someone else is
        // starting or stopping it. Wait for it to settle.
        if let Some(info) = settle(&layout, old_meta.as_ref())? {
            return Ok(info);
        }
        // No postmaster of ours is alive: a leftover postmaster.pid is stale
        // (its pid may have been reused, which would make the server refuse
        // to start).
        remove_file_if_exists(&layout.data.join("postmaster.pid"))?;

        let created = layout.created();
        let data_major = if created {
            Some(read_pg_version(&layout.data)?)
        } else {
            None
        };
        let bins = discover(
            self.bin_dir_override.as_deref(),
            data_major.as_deref(),
            old_meta.as_ref().map(|m| m.bin_dir.as_path()),
            Some(&layout.data),
        )?;

        if layout.external {
            ensure_external_root(&layout.root, run_as.as_ref())?;
        }
        if !created {
            init_cluster(&layout, &bins, run_as.as_ref(), self.password.as_deref())?;
        }
        prepare_runtime_paths(&layout, run_as.as_ref())?;

        let mut port = match old_meta.as_ref().map(|m| m.port) {
            Some(p) if p != 0 && port_is_free(p) => p,
            _ => pick_free_port()?,
        };
        let mut meta = ClusterMeta {
            port,
            bin_dir: bins.bin_dir.clone(),
            server_version: bins.version.clone(),
            created_at: old_meta
                .as_ref()
                .filter(|_| created)
                .map(|m| m.created_at.clone())
                .unwrap_or_else(now_rfc3339),
            data_root: layout.external.then(|| layout.root.clone()),
            run_as: run_as.as_ref().map(|u| u.name.clone()),
        };

        let mut attempt = 0;
        loop {
            self.write_meta(&meta)?;
            write_conf(&layout, port, run_as.as_ref())?;
            match pg_ctl_start(&layout, &bins, run_as.as_ref()) {
                Ok(()) => break,
                Err(StartError {
                    port_conflict: true,
                    ..
                }) if attempt < 3 => {
                    attempt += 1;
                    port = pick_free_port()?;
                    meta.port = port;
                }
                Err(e) => return Err(e.error),
            }
        }

        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(info) = probe_running(&layout, Some(&meta)) {
                return Ok(info);
            }
            if Instant::now() >= deadline {
                return Err(LocalError::StartFailed {
                    detail: format!(
                        "pg_ctl reported success but nothing accepts connections on 127.0.0.1:{port}"
                    ),
                    log_tail: log_tail(&layout.log, 0),
                    log_file: layout.log.clone(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop_locked(&self) -> Result<bool> {
        let meta = self.read_meta()?;
        let layout = self.layout_from(meta.as_ref());
        let Some(pid) = live_postmaster(&layout.data) else {
            return Ok(false);
        };
        let data_major = read_pg_version(&layout.data)?;
        let bins = match discover(
            self.bin_dir_override.as_deref(),
            Some(&data_major),
            meta.as_ref().map(|m| m.bin_dir.as_path()),
            Some(&layout.data),
        ) {
            Ok(bins) => bins,
            // Without usable binaries, do what `pg_ctl stop -m fast` does.
            Err(_) => return signal_stop(pid, &layout),
        };
        let run_as = is_root().then(|| run_as_for(&layout.data));
        let pg_ctl = bins.tool("pg_ctl");
        let output = run(pg_command(&pg_ctl, run_as.as_ref()).args([
            OsStr::new("stop"),
            OsStr::new("-D"),
            layout.data.as_os_str(),
            OsStr::new("-m"),
            OsStr::new("fast"),
            OsStr::new("-w"),
            OsStr::new("-t"),
            OsStr::new(PG_CTL_TIMEOUT_SECS),
            OsStr::new("-s"),
        ]))?;
        if output.status.success() || !is_our_postmaster(pid, &layout.data) {
            return Ok(true);
        }
        Err(LocalError::StopFailed {
            detail: format!(
                "pg_ctl stop exited with {}: {}",
                output.status,
                combined_tail(&output)
            ),
            log_tail: log_tail(&layout.log, 0),
            log_file: layout.log.clone(),
        })
    }
}

/// Fast shutdown by signal (SIGINT), waiting for the postmaster to exit.
fn signal_stop(pid: u32, layout: &Layout) -> Result<bool> {
    // SAFETY: sending SIGINT to the postmaster named by postmaster.pid.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    while is_our_postmaster(pid, &layout.data) {
        if Instant::now() >= deadline {
            return Err(LocalError::StopFailed {
                detail: format!("the server (pid {pid}) did not exit after SIGINT"),
                log_tail: log_tail(&layout.log, 0),
                log_file: layout.log.clone(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(true)
}

// ---- probing ---------------------------------------------------------------

/// Parsed `postmaster.pid`.
struct PidFile {
    pid: u32,
    port: u16,
    socket_dir: Option<PathBuf>,
    ready: bool,
}

fn read_pid_file(data: &Path) -> Option<PidFile> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid: u32 = lines.first()?.trim().parse().ok()?;
    let port: u16 = lines
        .get(3)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let socket_dir = lines
        .get(4)
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(PathBuf::from);
    let ready = lines.get(7).is_some_and(|l| l.trim() == "ready");
    Some(PidFile {
        pid,
        port,
        socket_dir,
        ready,
    })
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence/permission.
    let rc = unsafe { libc::kill(pid, 0) };
    let exists = rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    // A zombie (exited, not yet reaped by a lazy init) is not alive.
    exists && !is_zombie(pid)
}

fn is_zombie(pid: libc::pid_t) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            rest.trim_start().chars().next()
        })
        .is_some_and(|state| state == 'Z')
}

/// Whether `pid` is the postmaster of `data`. On Linux, checks that its
/// command is `postgres` and its working directory `data` (the postmaster
/// chdirs there), which tells a stale `postmaster.pid` whose pid was reused
/// apart from ours. Elsewhere (no `/proc`) any live pid is assumed to be it.
fn is_our_postmaster(pid: u32, data: &Path) -> bool {
    if !pid_alive(pid) {
        return false;
    }
    if let Ok(comm) = fs::read_to_string(format!("/proc/{pid}/comm")) {
        let comm = comm.trim();
        if !(comm.starts_with("postgres") || comm.starts_with("postmaster")) {
            return false;
        }
    }
    match fs::read_link(format!("/proc/{pid}/cwd")) {
        Ok(cwd) => fs::canonicalize(data).is_ok_and(|data| data == cwd),
        Err(_) => true,
    }
}

/// The postmaster's pid if `postmaster.pid` names the live postmaster of `data`.
fn live_postmaster(data: &Path) -> Option<u32> {
    let pf = read_pid_file(data)?;
    is_our_postmaster(pf.pid, data).then_some(pf.pid)
}

fn tcp_accepts(port: u16, timeout: Duration) -> bool {
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, timeout).is_ok()
}

/// Running server for `layout`, if its postmaster is alive, ready and
/// accepting TCP connections.
fn probe_running(layout: &Layout, meta: Option<&ClusterMeta>) -> Option<RunningInfo> {
    let pf = read_pid_file(&layout.data)?;
    if !pf.ready || pf.port == 0 || !is_our_postmaster(pf.pid, &layout.data) {
        return None;
    }
    if !tcp_accepts(pf.port, Duration::from_millis(500)) {
        return None;
    }
    let version = meta
        .map(|m| m.server_version.clone())
        .or_else(|| read_pg_version(&layout.data).ok())
        .unwrap_or_default();
    Some(RunningInfo {
        port: pf.port,
        pid: pf.pid,
        version,
        data_dir: layout.data.clone(),
        socket_dir: pf.socket_dir,
        log_file: layout.log.clone(),
    })
}

/// Waits while a live postmaster is starting up or shutting down. Returns the
/// server if it became ready, `None` once no postmaster is alive.
fn settle(layout: &Layout, meta: Option<&ClusterMeta>) -> Result<Option<RunningInfo>> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        if let Some(info) = probe_running(layout, meta) {
            return Ok(Some(info));
        }
        let Some(pid) = live_postmaster(&layout.data) else {
            return Ok(None);
        };
        if Instant::now() >= deadline {
            return Err(LocalError::StartFailed {
                detail: format!(
                    "a server process (pid {pid}) for {} is alive but does not accept connections; \
                     stop it (kill {pid}) and retry",
                    layout.data.display()
                ),
                log_tail: log_tail(&layout.log, 0),
                log_file: layout.log.clone(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---- creation and start ------------------------------------------------------

fn read_pg_version(data: &Path) -> Result<String> {
    let path = data.join("PG_VERSION");
    fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .map_err(io_err("read", &path))
}

fn init_cluster(
    layout: &Layout,
    bins: &ServerBinaries,
    run_as: Option<&RunAs>,
    password: Option<&str>,
) -> Result<()> {
    // A data directory without PG_VERSION is the remains of a failed initdb.
    remove_all(&layout.data)?;
    make_private_dir(&layout.data, 0o700, run_as)?;
    // initdb reads a superuser password only from a file; it lives beside the data directory
    // (readable by the server user only) for the moment initdb runs.
    let pwfile = layout.root.join("initdb.pw");
    let auth: Vec<std::ffi::OsString> = match password {
        Some(pw) => {
            fs::write(&pwfile, format!("{pw}\n")).map_err(io_err("write", &pwfile))?;
            fs::set_permissions(&pwfile, fs::Permissions::from_mode(0o600))
                .map_err(io_err("set permissions of", &pwfile))?;
            if let Some(user) = run_as {
                chown_to(&pwfile, user)?;
            }
            vec![
                "--auth=scram-sha-256".into(),
                format!("--pwfile={}", pwfile.display()).into(),
            ]
        }
        None => vec!["--auth=trust".into()],
    };

    let locale = if c_utf8_available() {
        "--locale=C.UTF-8"
    } else {
        "--no-locale"
    };
    let initdb = bins.tool("initdb");
    let output = run(pg_command(&initdb, run_as)
        .args([
            OsStr::new("-D"),
            layout.data.as_os_str(),
            OsStr::new("-U"),
            OsStr::new(SUPERUSER),
            OsStr::new("--encoding=UTF8"),
            OsStr::new(locale),
            OsStr::new("--no-sync"),
        ])
        .args(&auth))?;
    let _ = fs::remove_file(&pwfile);
    if !output.status.success() {
        return Err(LocalError::InitdbFailed {
            data_dir: layout.data.clone(),
            status: output.status.to_string(),
            output: combined_tail(&output),
        });
    }

    let conf = layout.data.join("postgresql.conf");
    let mut file = OpenOptions::new()
        .append(true)
        .open(&conf)
        .map_err(io_err("open", &conf))?;
    file.write_all(
        format!("\n# Added by Strata: settings it manages (rewritten on every start).\ninclude_if_exists = '{CONF_FILE}'\n")
            .as_bytes(),
    )
    .map_err(io_err("write", &conf))?;
    Ok(())
}

/// Creates (or re-owns) the socket directory and the log file, rotating a
/// large log.
fn prepare_runtime_paths(layout: &Layout, run_as: Option<&RunAs>) -> Result<()> {
    make_private_dir(&layout.run, 0o755, run_as)?;
    if fs::metadata(&layout.log).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let old = layout.log.with_extension("log.1");
        fs::rename(&layout.log, &old).map_err(io_err("rotate", &layout.log))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&layout.log)
        .map_err(io_err("create", &layout.log))?;
    if let Some(user) = run_as {
        chown_to(&layout.log, user)?;
    }
    Ok(())
}

fn conf_quote(path: &Path) -> String {
    path.to_string_lossy().replace('\'', "''")
}

fn write_conf(layout: &Layout, port: u16, run_as: Option<&RunAs>) -> Result<()> {
    let sockets = layout.socket_dir().map(conf_quote).unwrap_or_default();
    let text = format!(
        "# Managed by Strata: rewritten on every start, do not edit.\n\
         listen_addresses = '127.0.0.1'\n\
         port = {port}\n\
         unix_socket_directories = '{sockets}'\n\
         max_connections = 100\n\
         # Fast, crash-unsafe settings for a development database.\n\
         fsync = off\n\
         synchronous_commit = off\n\
         full_page_writes = off\n"
    );
    let path = layout.data.join(CONF_FILE);
    write_atomically(&path, text.as_bytes())?;
    if let Some(user) = run_as {
        chown_to(&path, user)?;
    }
    Ok(())
}

struct StartError {
    port_conflict: bool,
    error: LocalError,
}

fn pg_ctl_start(
    layout: &Layout,
    bins: &ServerBinaries,
    run_as: Option<&RunAs>,
) -> std::result::Result<(), StartError> {
    let log_offset = fs::metadata(&layout.log).map(|m| m.len()).unwrap_or(0);
    let pg_ctl = bins.tool("pg_ctl");
    // With -l, pg_ctl redirects the server's stdin/stdout/stderr, so capturing
    // pg_ctl's own output cannot block on the long-lived server.
    let output = run(pg_command(&pg_ctl, run_as).args([
        OsStr::new("start"),
        OsStr::new("-D"),
        layout.data.as_os_str(),
        OsStr::new("-l"),
        layout.log.as_os_str(),
        // Don't let pg_ctl wait: it checks for readiness only every 100 ms. Poll
        // postmaster.pid ourselves instead (below).
        OsStr::new("-W"),
        OsStr::new("-s"),
    ]))
    .map_err(|error| StartError {
        port_conflict: false,
        error,
    })?;
    if output.status.success() && wait_until_ready(layout) {
        return Ok(());
    }
    let tail = log_tail(&layout.log, log_offset);
    let port_conflict = tail.contains("Address already in use")
        || tail.contains("could not create any TCP/IP sockets");
    Err(StartError {
        port_conflict,
        error: LocalError::StartFailed {
            detail: format!(
                "pg_ctl start exited with {}: {}",
                output.status,
                combined_tail(&output)
            ),
            log_file: layout.log.clone(),
            log_tail: tail,
        },
    })
}

/// Polls `postmaster.pid` until the server says `ready` (true), or the postmaster went away
/// or never appeared, or the pg_ctl timeout passed (false).
fn wait_until_ready(layout: &Layout) -> bool {
    let timeout = Duration::from_secs(PG_CTL_TIMEOUT_SECS.parse().unwrap_or(60));
    let start = Instant::now();
    let mut seen = false;
    while start.elapsed() < timeout {
        match read_pid_file(&layout.data) {
            Some(pf) if pid_alive(pf.pid) => {
                if pf.ready {
                    return true;
                }
                seen = true;
            }
            // It wrote its pid file, then exited (or removed it): the start failed.
            Some(_) | None if seen => return false,
            // Not started yet; give a postmaster that never shows up a few seconds.
            _ if start.elapsed() > Duration::from_secs(10) => return false,
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

// ---- ports -----------------------------------------------------------------

fn pick_free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|source| LocalError::Port { source })?;
    let port = listener
        .local_addr()
        .map_err(|source| LocalError::Port { source })?
        .port();
    Ok(port)
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

fn make_url(port: u16, database: &str) -> String {
    let mut db = String::with_capacity(database.len());
    for b in database.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            db.push(b as char);
        } else {
            db.push_str(&format!("%{b:02X}"));
        }
    }
    format!("postgresql://{SUPERUSER}@127.0.0.1:{port}/{db}")
}

// ---- binaries ----------------------------------------------------------------

const TOOLS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

fn env_bin_dir() -> Option<PathBuf> {
    std::env::var_os(BINDIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn is_script(path: &Path) -> bool {
    let mut head = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| &head == b"#!")
        .unwrap_or(false)
}

/// Names of the tools missing (or unusable) in `dir`.
fn missing_tools(dir: &Path) -> Vec<&'static str> {
    TOOLS
        .iter()
        .copied()
        .filter(|tool| {
            let path = dir.join(tool);
            let ok = fs::metadata(&path)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                && !is_script(&path);
            !ok
        })
        .collect()
}

fn server_version(bin_dir: &Path) -> Option<String> {
    let postgres = bin_dir.join("postgres");
    let output = pg_command(&postgres, None)
        .arg("--version")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&output.stdout))
}

/// `postgres (PostgreSQL) 15.14 (Debian 15.14-1.pgdg12+1)` → `15.14`.
fn parse_version(text: &str) -> Option<String> {
    let after = text
        .split_once("(PostgreSQL)")
        .map(|(_, rest)| rest)
        .unwrap_or(text);
    after
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_string()
        })
}

fn major_of(version: &str) -> String {
    let digits: Vec<&str> = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    match digits.as_slice() {
        [first, second, ..] if first.parse::<u32>().is_ok_and(|n| n < 10) => {
            format!("{first}.{second}")
        }
        [first, ..] => first.to_string(),
        [] => version.to_string(),
    }
}

/// Directories of real `pg_ctl` binaries on PATH (symlinks resolved).
fn path_candidates() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    std::env::split_paths(&path)
        .filter_map(|dir| {
            let pg_ctl = dir.join("pg_ctl");
            if !pg_ctl.is_file() || is_script(&pg_ctl) {
                return None;
            }
            fs::canonicalize(&pg_ctl)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
        })
        .collect()
}

/// `pg_config --bindir` of the first `pg_config` on `PATH` (none when there is none or it fails).
pub(crate) fn pg_config_candidate() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    let Some(pg_config) = std::env::split_paths(&path)
        .map(|dir| dir.join("pg_config"))
        .find(|p| p.is_file())
    else {
        return Vec::new();
    };
    let Ok(output) = pg_command(&pg_config, None)
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    if !output.status.success() {
        return Vec::new();
    }
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if dir.is_empty() {
        Vec::new()
    } else {
        vec![PathBuf::from(dir)]
    }
}

/// `<parent>/<prefix><version><suffix>` directories, newest version first.
fn versioned_dirs(parent: &str, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(prefix)?;
            let key: Vec<u32> = version
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            Some((key, e.path().join(suffix)))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// The places PostgreSQL packages install their binaries, newest version first: Debian/Ubuntu
/// (`/usr/lib/postgresql/<v>/bin`), RHEL/PGDG (`/usr/pgsql-<v>/bin`), source builds
/// (`/usr/local/pgsql/bin`), Homebrew (versioned and not, Apple silicon and Intel) and
/// Postgres.app. The one list: the local cluster's server binaries and `backup`'s
/// `pg_dump`/`pg_restore` are both looked for here.
pub(crate) fn well_known_candidates() -> Vec<PathBuf> {
    let mut dirs = versioned_dirs("/usr/lib/postgresql", "", "bin");
    dirs.extend(versioned_dirs("/usr", "pgsql-", "bin"));
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    for brew in ["/opt/homebrew/opt", "/usr/local/opt"] {
        dirs.extend(versioned_dirs(brew, "postgresql@", "bin"));
        dirs.push(Path::new(brew).join("postgresql/bin"));
    }
    dirs.push(PathBuf::from(
        "/Applications/Postgres.app/Contents/Versions/latest/bin",
    ));
    dirs
}

/// Finds server binaries. `override_dir` is strict. `want_major`: the data
/// directory's major version, if it exists. `recorded`: the directory used
/// last time, tried first.
fn discover(
    override_dir: Option<&Path>,
    want_major: Option<&str>,
    recorded: Option<&Path>,
    data_dir: Option<&Path>,
) -> Result<ServerBinaries> {
    let mismatch = |found: String| LocalError::VersionMismatch {
        data_dir: data_dir.map(Path::to_path_buf).unwrap_or_default(),
        data_version: want_major.unwrap_or_default().to_string(),
        found,
    };

    if let Some(dir) = override_dir {
        let missing = missing_tools(dir);
        if !missing.is_empty() {
            return Err(LocalError::BinariesNotFound {
                detail: format!(
                    "{BINDIR_ENV}={} lacks {}",
                    dir.display(),
                    missing.join(", ")
                ),
                override_dir: Some(dir.to_path_buf()),
            });
        }
        let bin_dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let version = server_version(&bin_dir).ok_or_else(|| LocalError::BinariesNotFound {
            detail: format!(
                "`{} --version` did not report a PostgreSQL version",
                bin_dir.join("postgres").display()
            ),
            override_dir: Some(dir.to_path_buf()),
        })?;
        let bins = ServerBinaries { bin_dir, version };
        if let Some(want) = want_major {
            if bins.major() != want {
                return Err(mismatch(format!(
                    "{BINDIR_ENV}={} holds PostgreSQL {}",
                    dir.display(),
                    bins.version
                )));
            }
        }
        return Ok(bins);
    }

    let mut seen: Vec<PathBuf> = Vec::new();
    let mut other_versions: Vec<String> = Vec::new();
    let sources: [&dyn Fn() -> Vec<PathBuf>; 4] = [
        &|| recorded.map(Path::to_path_buf).into_iter().collect(),
        &path_candidates,
        &pg_config_candidate,
        &well_known_candidates,
    ];
    for source in sources {
        for dir in source() {
            let dir = fs::canonicalize(&dir).unwrap_or(dir);
            if seen.contains(&dir) {
                continue;
            }
            seen.push(dir.clone());
            if !missing_tools(&dir).is_empty() {
                continue;
            }
            let Some(version) = server_version(&dir) else {
                continue;
            };
            let bins = ServerBinaries {
                bin_dir: dir,
                version,
            };
            match want_major {
                Some(want) if bins.major() != want => {
                    other_versions.push(format!("{} in {}", bins.version, bins.bin_dir.display()));
                }
                _ => return Ok(bins),
            }
        }
    }
    if !other_versions.is_empty() {
        return Err(mismatch(format!(
            "only PostgreSQL {} is installed",
            other_versions.join(", ")
        )));
    }
    Err(LocalError::BinariesNotFound {
        detail:
            "searched PATH, `pg_config --bindir`, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, \
                 /usr/local/pgsql/bin and Homebrew/Postgres.app locations"
                .to_string(),
        override_dir: None,
    })
}

// ---- processes -------------------------------------------------------------

/// A command for a PostgreSQL program: no `PG*` variables, `LC_ALL=C`, cwd `/`,
/// stdin from /dev/null, and the unprivileged user when running as root.
fn pg_command(program: &Path, run_as: Option<&RunAs>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.as_bytes().starts_with(b"PG") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("LC_ALL", "C").current_dir("/").stdin(Stdio::null());
    if let Some(user) = run_as {
        // std drops supplementary groups (setgroups(0)) when root sets a uid.
        cmd.gid(user.gid).uid(user.uid);
    }
    cmd
}

fn run(cmd: &mut Command) -> Result<Output> {
    let program = PathBuf::from(cmd.get_program());
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| LocalError::Spawn { program, source })
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn combined_tail(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let tail = tail_lines(&text, LOG_TAIL_LINES);
    if tail.is_empty() {
        "(no output)".to_string()
    } else {
        tail
    }
}

/// The last lines of the log written after byte `offset`.
fn log_tail(log: &Path, offset: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(log) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let start = offset.max(len.saturating_sub(64 * 1024));
        let mut buf = Vec::new();
        if file.seek(SeekFrom::Start(start)).is_ok() && file.read_to_end(&mut buf).is_ok() {
            text = String::from_utf8_lossy(&buf).into_owned();
        }
    }
    let tail = tail_lines(&text, LOG_TAIL_LINES);
    if tail.is_empty() {
        "(empty)".to_string()
    } else {
        tail
    }
}

// ---- root handling -----------------------------------------------------------

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn c_utf8_available() -> bool {
    // SAFETY: newlocale with a valid C string; the result is freed.
    unsafe {
        let loc = libc::newlocale(libc::LC_ALL_MASK, c"C.UTF-8".as_ptr(), std::ptr::null_mut());
        if loc.is_null() {
            false
        } else {
            libc::freelocale(loc);
            true
        }
    }
}

fn passwd_by_name(name: &str) -> Option<(u32, u32)> {
    let name = CString::new(name).ok()?;
    // SAFETY: getpwnam_r writes into our zeroed struct and buffer only.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        (rc == 0 && !result.is_null()).then_some((pwd.pw_uid, pwd.pw_gid))
    }
}

fn passwd_by_uid(uid: u32) -> Option<(String, u32)> {
    // SAFETY: getpwuid_r writes into our zeroed struct and buffer only.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned();
        Some((name, pwd.pw_gid))
    }
}

fn nobody() -> RunAs {
    let (uid, gid) = passwd_by_name("nobody").unwrap_or((NOBODY_FALLBACK_ID, NOBODY_FALLBACK_ID));
    RunAs {
        uid,
        gid,
        name: "nobody".to_string(),
    }
}

/// As root: the owner of an existing data directory, else `nobody`.
fn run_as_for(data: &Path) -> RunAs {
    match fs::metadata(data) {
        Ok(m) if m.uid() != 0 => {
            let (name, gid) =
                passwd_by_uid(m.uid()).unwrap_or_else(|| (format!("uid {}", m.uid()), m.gid()));
            RunAs {
                uid: m.uid(),
                gid,
                name,
            }
        }
        _ => nobody(),
    }
}

/// Whether `user` can search (traverse) `dir` and all its ancestors
/// (classic permission bits; ACLs and supplementary groups are ignored).
fn traversable_by(dir: &Path, user: &RunAs) -> bool {
    dir.ancestors().all(|d| {
        if d.as_os_str().is_empty() {
            return true;
        }
        let Ok(m) = fs::metadata(d) else {
            return false;
        };
        let mode = m.mode();
        if m.uid() == user.uid {
            mode & 0o100 != 0
        } else if m.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    })
}

/// For a new cluster as root: `local/` if `user` can reach it, else a
/// world-traversable directory outside the project.
fn choose_root_layout(local: &Path, user: &RunAs) -> Result<Layout> {
    if traversable_by(local, user) {
        return Ok(Layout::at(local.to_path_buf(), false));
    }
    let state = local.parent().unwrap_or(local);
    let name = format!("strata-{:016x}", fnv1a64(state.as_os_str().as_bytes()));
    let base = [Path::new("/var/tmp"), Path::new("/tmp")]
        .into_iter()
        .find(|b| b.is_dir() && traversable_by(b, user))
        .ok_or_else(|| LocalError::RootPermission {
            user: user.name.clone(),
            path: local.to_path_buf(),
            detail: "it cannot traverse the project's directories, and neither /var/tmp nor /tmp \
                     is usable as a fallback"
                .to_string(),
        })?;
    Ok(Layout::at(base.join(name), true))
}

/// Creates the fallback root (root-owned, 0755) or checks an existing one.
fn ensure_external_root(root: &Path, user: Option<&RunAs>) -> Result<()> {
    let user_name = user.map(|u| u.name.clone()).unwrap_or_default();
    match fs::DirBuilder::new().mode(0o755).create(root) {
        Ok(()) => {
            fs::set_permissions(root, fs::Permissions::from_mode(0o755))
                .map_err(io_err("set permissions of", root))?;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let m = fs::symlink_metadata(root).map_err(io_err("inspect", root))?;
            // SAFETY: geteuid has no preconditions.
            let me = unsafe { libc::geteuid() };
            if !m.file_type().is_dir() || m.uid() != me {
                return Err(LocalError::RootPermission {
                    user: user_name,
                    path: root.to_path_buf(),
                    detail: "it exists but is not a directory owned by the current user; remove it"
                        .to_string(),
                });
            }
            Ok(())
        }
        Err(e) => Err(io_err("create directory", root)(e)),
    }
}

/// Creates `dir` with `mode` if missing and gives it to `run_as`.
fn make_private_dir(dir: &Path, mode: u32, run_as: Option<&RunAs>) -> Result<()> {
    match fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(mode))
            .map_err(io_err("set permissions of", dir))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err("create directory", dir)(e)),
    }
    if let Some(user) = run_as {
        chown_to(dir, user)?;
    }
    Ok(())
}

fn chown_to(path: &Path, user: &RunAs) -> Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(|e| {
        LocalError::RootPermission {
            user: user.name.clone(),
            path: path.to_path_buf(),
            detail: format!("chown to uid {} failed: {e}", user.uid),
        }
    })
}

// ---- files and locking ---------------------------------------------------------

/// Exclusive `flock` on a file, released on drop (or process exit).
struct DirLock {
    _file: File,
}

impl DirLock {
    fn acquire(path: &Path) -> Result<DirLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err("open lock file", path))?;
        let deadline = Instant::now() + LOCK_TIMEOUT;
        loop {
            // SAFETY: flock on a file descriptor we own.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(DirLock { _file: file });
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => {}
                _ => return Err(io_err("lock", path)(err)),
            }
            if Instant::now() >= deadline {
                return Err(LocalError::LockTimeout {
                    path: path.to_path_buf(),
                });
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(io_err("write", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("replace", path))
}

fn remove_all(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path)(e)),
    }
}

fn remove_file_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path)(e)),
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Current UTC time as RFC 3339 (`2025-01-31T12:00:00Z`).
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Drops (disconnecting its sessions) and recreates `database` on the running local cluster
/// `info`: `strata db reset`. Each statement runs alone: neither may run in a transaction block.
pub async fn recreate_database(info: &RunningInfo, database: &str) -> Result<(), crate::Error> {
    let admin = crate::target::Target::local(&info.url("template1"), Default::default())?;
    let client = admin.connect().await?;
    let quoted = crate::quote::ident(database);
    for statement in [
        format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"),
        format!("CREATE DATABASE {quoted}"),
    ] {
        client
            .batch_execute(&statement)
            .await
            .map_err(|e| crate::Error::db(format!("recreating database {database}"), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            parse_version("postgres (PostgreSQL) 15.14 (Debian 15.14-1.pgdg12+1)\n").as_deref(),
            Some("15.14")
        );
        assert_eq!(
            parse_version("postgres (PostgreSQL) 17beta1").as_deref(),
            Some("17beta1")
        );
        assert_eq!(major_of("15.14"), "15");
        assert_eq!(major_of("17beta1"), "17");
        assert_eq!(major_of("9.6.24"), "9.6");
    }

    #[test]
    fn urls_escape_database() {
        assert_eq!(
            make_url(5432, "app"),
            "postgresql://postgres@127.0.0.1:5432/app"
        );
        assert_eq!(
            make_url(1, "my db/x"),
            "postgresql://postgres@127.0.0.1:1/my%20db%2Fx"
        );
    }

    #[test]
    fn status_serialises_with_state_tag() {
        let json = serde_json::to_value(ClusterStatus::NotCreated).unwrap();
        assert_eq!(json, serde_json::json!({"state": "not_created"}));
        let running = ClusterStatus::Running(RunningInfo {
            port: 1,
            pid: 2,
            version: "15.1".into(),
            data_dir: "/d".into(),
            socket_dir: None,
            log_file: "/l".into(),
        });
        let json = serde_json::to_value(&running).unwrap();
        assert_eq!(json["state"], "running");
        assert_eq!(json["port"], 1);
        let back: ClusterStatus = serde_json::from_value(json).unwrap();
        assert_eq!(back, running);
    }

    #[test]
    fn rfc3339_shape() {
        let s = now_rfc3339();
        assert_eq!(s.len(), 20);
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T');
    }

    #[test]
    fn pid_file_parsing() {
        let dir = std::env::temp_dir().join(format!("strata-pidfile-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("postmaster.pid"),
            "123\n/data\n1700000000\n5555\n/run\n127.0.0.1\n  1234   5678\nready   \n",
        )
        .unwrap();
        let pf = read_pid_file(&dir).unwrap();
        assert_eq!((pf.pid, pf.port, pf.ready), (123, 5555, true));
        assert_eq!(pf.socket_dir.as_deref(), Some(Path::new("/run")));
        fs::remove_dir_all(&dir).unwrap();
    }
}
