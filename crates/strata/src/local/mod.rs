//! Strata's private local PostgreSQL cluster (no Docker).
//!
//! When a project has no database configured, Strata runs its own throw-away
//! PostgreSQL cluster built from the PostgreSQL server binaries installed on
//! the machine. [`LocalCluster`] owns that cluster: finding the binaries,
//! creating the cluster (`initdb`), configuring, starting, stopping and
//! describing it. Everything here is blocking `std` code without any terminal
//! output; async callers should use `spawn_blocking`.
//!
//! This module holds the cluster's types and `LocalCluster`; its parts are submodules:
//! `probe` (is it running, on which port), `create` (initdb, configuration, start), `ports`,
//! `binaries` (where the server binaries are; `backup` searches the same places), `process`
//! (running PostgreSQL programs), `root` (running as root) and `files` (state files, the lock).
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

mod binaries;
mod create;
mod files;
mod ports;
mod probe;
mod process;
mod root;
use binaries::*;
pub(crate) use binaries::{pg_config_candidate, well_known_candidates};
use create::*;
use files::*;
use ports::*;
use probe::*;
use process::*;
use root::*;

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
