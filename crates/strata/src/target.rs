//! Targets: which database a command works on, and connecting to it.
//!
//! Which target: `--db-url` > `--env NAME` > `--linked` > `DATABASE_URL` > the local cluster,
//! resolved once per command ([`Target::resolve`]).
//!
//! What a connection string means is libpq's business, and Strata follows it
//! ([`crate::conninfo`]): URLs and `key=value` strings, the `PG*` environment variables filling
//! in what the chosen string leaves out (not choosing the target), service files, `~/.pgpass`,
//! Unix sockets (`postgresql://user@/db`), several hosts with `target_session_attrs`. The local
//! cluster is Strata's own and ignores `PG*` variables. TLS follows libpq's `sslmode`
//! (disable, allow/prefer, require, verify-ca, verify-full) and `sslrootcert`, implemented with
//! rustls; Unix sockets never use TLS.
//!
//! Passwords never leave this module: [`Target::display`] is built from the parsed parameters
//! without the password, a connection string that does not parse is never echoed, and every
//! error message passes through [`redact`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config as PgConfig};

use crate::config::{parse_duration, Project};
use crate::conninfo::{self, ConnInfo, ConnInfoError, Endpoint, Passfile};
use crate::error::Error;
use crate::session::{self, Session};

/// Environment variable naming the server for scratch databases (a URL whose user may
/// `CREATE DATABASE`); default: the project's local cluster. (Defined here, where targets name
/// their source; `scratch` re-exports it.)
pub const SCRATCH_URL_VAR: &str = "STRATA_SCRATCH_URL";

/// Where a target came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetSource {
    /// `--db-url` (or `STRATA_DB_URL`).
    DbUrl,
    /// `--env NAME` (`[environments.NAME]` in strata.toml).
    Environment { name: String },
    /// `--linked`: the Supabase project recorded by `strata link`.
    Linked { project_ref: String },
    /// The `DATABASE_URL` variable.
    DatabaseUrl,
    /// The private cluster under `.strata/`.
    Local,
    /// `STRATA_SCRATCH_URL`: the server for scratch databases.
    Scratch,
    /// A database of `[fleets.NAME]` (`push --fleet NAME`).
    Fleet { name: String },
}

impl TargetSource {
    /// The setting, flag or variable the connection string came from, as errors name it.
    pub fn setting(&self) -> String {
        match self {
            TargetSource::DbUrl => "--db-url".into(),
            TargetSource::Environment { name } => format!("environments.{name}.url"),
            TargetSource::Linked { .. } => "--linked".into(),
            TargetSource::DatabaseUrl => "DATABASE_URL".into(),
            TargetSource::Local => "local cluster".into(),
            TargetSource::Scratch => SCRATCH_URL_VAR.into(),
            TargetSource::Fleet { name } => format!("fleets.{name}"),
        }
    }

    /// How a sentence names the source ("--db-url (or STRATA_DB_URL)", "environment production").
    fn described(&self) -> String {
        match self {
            TargetSource::DbUrl => "--db-url (or STRATA_DB_URL)".into(),
            TargetSource::Environment { name } => {
                format!("the url of environment `{name}` (environments.{name}.url)")
            }
            TargetSource::Linked { .. } => "the linked project's URL".into(),
            TargetSource::DatabaseUrl => "DATABASE_URL".into(),
            TargetSource::Local => "the local cluster's URL".into(),
            TargetSource::Scratch => SCRATCH_URL_VAR.into(),
            TargetSource::Fleet { name } => format!("a database of fleet `{name}` (fleets.{name})"),
        }
    }
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    fn parse(s: &str) -> Option<TlsMode> {
        Some(match s {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" | "" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    /// libpq's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }
}

/// Per-session settings applied to every connection of a target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionSettings {
    /// `lock_timeout`: how long a statement waits for a lock before failing.
    #[serde(with = "opt_ms")]
    pub lock_timeout: Option<Duration>,
    /// `statement_timeout`: how long one statement may run.
    #[serde(with = "opt_ms")]
    pub statement_timeout: Option<Duration>,
}

mod opt_ms {
    use serde::Serializer;
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
}

/// A database to work on: parsed connection parameters (the environment's defaults merged in),
/// never the raw string.
#[derive(Clone)]
pub struct Target {
    pub source: TargetSource,
    info: ConnInfo,
    pub tls: TlsMode,
    pub settings: SessionSettings,
    /// Connect to this database instead of the string's (scratch databases on the same server).
    database: Option<String>,
    /// Facts worth a line beside `Target:` (a password file ignored for its permissions, the
    /// route `--linked` takes).
    notes: Vec<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("source", &self.source)
            .field("url", &self.display())
            .field("tls", &self.tls)
            .finish()
    }
}

/// What the command line asked for; resolved with [`Target::resolve`].
#[derive(Debug, Clone, Default)]
pub struct TargetRequest {
    pub db_url: Option<String>,
    pub env: Option<String>,
    pub linked: bool,
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
}

impl TargetRequest {
    /// The flag that names one target, when one does (`--db-url`, `--env`, `--linked`, in
    /// precedence order): commands that only read a target when asked, and those that refuse
    /// one (`db reset`, `push --fleet`), ask this.
    pub fn named_by(&self) -> Option<&'static str> {
        if self.db_url.is_some() {
            Some("--db-url")
        } else if self.env.is_some() {
            Some("--env")
        } else if self.linked {
            Some("--linked")
        } else {
            None
        }
    }
}

/// How [`Target::resolve`] found the target, before connecting.
#[derive(Debug)]
pub enum Resolved {
    /// A URL to connect to.
    Remote(Target),
    /// The local cluster: start it, then [`Target::local`].
    Local { settings: SessionSettings },
}

/// Reads a process environment variable (the `PG*` defaults libpq would read).
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

impl Target {
    /// Builds a target from a connection string (a `postgresql://` URL or `key=value` text, as
    /// libpq reads them), filling in what it leaves out from the `PG*` environment variables
    /// and service files (except for the local cluster, which is Strata's own).
    ///
    /// Errors name `source`'s setting and never repeat the string: an unparsable string may
    /// hold a password in any position.
    pub fn from_url(
        url: &str,
        source: TargetSource,
        settings: SessionSettings,
    ) -> Result<Target, Error> {
        let parsed = ConnInfo::parse(url.trim()).map_err(|e| conninfo_error(&source, e))?;
        let info = if source == TargetSource::Local {
            parsed
        } else {
            parsed
                .with_defaults(&process_env, home_dir().as_deref())
                .map_err(|e| conninfo_error(&source, e))?
        };
        Target::from_conninfo(info, source, settings)
    }

    /// Builds a target from parameters already parsed.
    pub fn from_conninfo(
        info: ConnInfo,
        source: TargetSource,
        settings: SessionSettings,
    ) -> Result<Target, Error> {
        let tls = TlsMode::parse(info.get("sslmode").unwrap_or("prefer")).ok_or_else(|| {
            conninfo_error(
                &source,
                ConnInfoError::InvalidValue {
                    parameter: "sslmode",
                    expected: "disable, allow, prefer, require, verify-ca or verify-full",
                },
            )
        })?;
        let mut target = Target {
            source,
            info,
            tls,
            settings,
            database: None,
            notes: Vec::new(),
        };
        target.refuse_transaction_pooler()?;
        target.check_passfile();
        Ok(target)
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> Target {
        Target {
            database: Some(database.to_string()),
            ..self.clone()
        }
    }

    /// The local cluster's database at `url`.
    pub fn local(url: &str, settings: SessionSettings) -> Result<Target, Error> {
        Target::from_url(url, TargetSource::Local, settings)
    }

    /// Applies the precedence `--db-url` > `--env` > `--linked` > `DATABASE_URL` > local.
    pub fn resolve(project: &Project, req: &TargetRequest) -> Result<Resolved, Error> {
        let cfg = &project.config;
        let env_cfg = match &req.env {
            Some(name) => Some(cfg.environments.get(name).ok_or_else(|| {
                let known: Vec<_> = cfg.environments.keys().cloned().collect();
                Error::Setting {
                    setting: "--env".into(),
                    message: format!("unknown environment `{name}`"),
                    hint: Some(if known.is_empty() {
                        "define it as [environments.NAME] with a url in strata.toml".into()
                    } else {
                        format!("known environments: {}", known.join(", "))
                    }),
                }
            })?),
            None => None,
        };
        let duration = |flag: &Option<String>,
                        flag_name: &str,
                        env_value: Option<&String>,
                        env_name: String,
                        top: &Option<String>,
                        top_name: &str|
         -> Result<Option<Duration>, Error> {
            if let Some(v) = flag {
                return parse_duration(flag_name, v).map(Some);
            }
            if let Some(v) = env_value {
                return parse_duration(&env_name, v).map(Some);
            }
            top.as_ref()
                .map(|v| parse_duration(top_name, v))
                .transpose()
        };
        let env_name = req.env.clone().unwrap_or_default();
        let settings = SessionSettings {
            lock_timeout: duration(
                &req.lock_timeout,
                "--lock-timeout",
                env_cfg.and_then(|e| e.lock_timeout.as_ref()),
                format!("environments.{env_name}.lock_timeout"),
                &cfg.lock_timeout,
                "lock_timeout",
            )?,
            statement_timeout: duration(
                &req.statement_timeout,
                "--statement-timeout",
                env_cfg.and_then(|e| e.statement_timeout.as_ref()),
                format!("environments.{env_name}.statement_timeout"),
                &cfg.statement_timeout,
                "statement_timeout",
            )?,
        };

        if let Some(url) = &req.db_url {
            return Target::from_url(url, TargetSource::DbUrl, settings).map(Resolved::Remote);
        }
        if let (Some(name), Some(env)) = (&req.env, env_cfg) {
            let setting = format!("environments.{name}.url");
            let raw = env.url.as_ref().ok_or_else(|| Error::Setting {
                setting: setting.clone(),
                message: format!("environment `{name}` has no url"),
                hint: Some(format!(
                    "add url = \"${{{}_DATABASE_URL}}\" under [environments.{name}]",
                    name.to_uppercase()
                )),
            })?;
            let url = project.interpolate(&setting, raw)?;
            return Target::from_url(
                &url,
                TargetSource::Environment { name: name.clone() },
                settings,
            )
            .map(Resolved::Remote);
        }
        if req.linked {
            return linked_target(project, settings).map(Resolved::Remote);
        }
        if let Some(url) = project.var("DATABASE_URL") {
            return Target::from_url(&url, TargetSource::DatabaseUrl, settings)
                .map(Resolved::Remote);
        }
        Ok(Resolved::Local { settings })
    }

    /// The target as a URL without its password (`user:****@` when one was given), naming its
    /// own database (one chosen with [`Target::with_database`] included): what Strata prints.
    pub fn display(&self) -> String {
        match &self.database {
            Some(db) => {
                let mut info = self.info.clone();
                info.set("dbname", db.clone());
                info.display()
            }
            None => self.info.display(),
        }
    }

    /// The server, without a database, as a file name can hold it: `<host>+<port>` of the
    /// first host (`socket` for a Unix socket), the host [`crate::backup::file_safe`] so that two
    /// different servers never share a name.
    pub fn server_label(&self) -> String {
        let (host, port) = match self.endpoints().ok().and_then(|e| e.into_iter().next()) {
            Some(e) if e.is_socket() => ("socket".to_string(), e.port),
            Some(e) => (
                if e.host.is_empty() {
                    e.hostaddr.map(|a| a.to_string()).unwrap_or_default()
                } else {
                    e.host.clone()
                },
                e.port,
            ),
            None => ("unknown".to_string(), 0),
        };
        format!("{}+{port}", crate::backup::file_safe(&host))
    }

    /// Facts to show beside the `Target:` line: the route `--linked` took, a password file
    /// that was ignored.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The `sslrootcert` given, if any.
    pub fn root_cert(&self) -> Option<&Path> {
        self.info
            .get("sslrootcert")
            .filter(|p| !p.is_empty())
            .map(Path::new)
    }

    /// The database name the target connects to (libpq's default: the user name).
    pub fn database(&self) -> Option<String> {
        Some(self.database.clone().unwrap_or_else(|| self.info.dbname()))
    }

    /// The user name the target logs in as.
    pub fn user(&self) -> String {
        self.info.user()
    }

    /// The parsed connection parameters (password included: never print them).
    pub fn conninfo(&self) -> &ConnInfo {
        &self.info
    }

    /// The hosts the target tries, in order.
    pub fn endpoints(&self) -> Result<Vec<Endpoint>, Error> {
        self.info
            .endpoints()
            .map_err(|e| conninfo_error(&self.source, e))
    }

    /// Whether every host is on this machine (loopback or a Unix socket).
    pub fn is_local_host(&self) -> bool {
        self.endpoints().is_ok_and(|list| {
            list.iter().all(|e| {
                e.is_socket()
                    || e.hostaddr.is_some_and(|a| a.is_loopback())
                    || matches!(e.host.as_str(), "localhost" | "127.0.0.1" | "::1")
            })
        })
    }

    /// Text a printed message must never contain: the password, raw and percent-encoded (the
    /// CLI scrubs them from everything it prints, as a second line of defence).
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = self.info.get("password").filter(|p| !p.is_empty()) {
            out.push(p.to_string());
            out.push(conninfo::encode_userinfo(p));
        }
        out
    }

    /// The password for one host: the string's (or `PGPASSWORD`), else the password file's.
    fn password_for(&self, endpoint: &Endpoint, dbname: &str) -> Option<String> {
        if let Some(p) = self.info.get("password").filter(|p| !p.is_empty()) {
            return Some(p.to_string());
        }
        let file = self.info.passfile(home_dir().as_deref())?;
        match conninfo::passfile_password(
            &file,
            &endpoint.passfile_host(),
            endpoint.port,
            dbname,
            &self.info.user(),
        ) {
            Passfile::Password(p) => Some(p),
            _ => None,
        }
    }

    /// Notes a password file that libpq would ignore for its permissions.
    fn check_passfile(&mut self) {
        if self.info.has_password() {
            return;
        }
        if let Some(file) = self.info.passfile(home_dir().as_deref()) {
            if let Passfile::TooOpen(path) = conninfo::passfile_password(&file, "", 0, "", "") {
                self.notes.push(format!(
                    "password file {} has group or world access and is ignored (as libpq does); chmod 0600 it",
                    path.display()
                ));
            }
        }
    }

    /// The tokio-postgres configuration for one host, with Strata's application name and the
    /// session settings as startup options (so `RESET ALL` returns to them).
    fn pg_config_for(&self, endpoint: &Endpoint) -> Result<PgConfig, Error> {
        let info = &self.info;
        let mut config = PgConfig::new();
        if endpoint.is_socket() {
            config.host(&endpoint.host);
        } else {
            if !endpoint.host.is_empty() {
                config.host(&endpoint.host);
            }
            if let Some(a) = endpoint.hostaddr {
                config.hostaddr(a);
                if endpoint.host.is_empty() {
                    config.host(a.to_string());
                }
            }
        }
        config.port(endpoint.port);
        let dbname = self.database().unwrap_or_default();
        config.user(info.user());
        config.dbname(&dbname);
        if let Some(p) = self.password_for(endpoint, &dbname) {
            config.password(p);
        }
        let app = info
            .get("application_name")
            .filter(|a| !a.is_empty())
            .or_else(|| {
                info.get("fallback_application_name")
                    .filter(|a| !a.is_empty())
            })
            .unwrap_or("strata");
        config.application_name(app);
        // libpq: connect_timeout is per host, in seconds, at least 2; 0 or negative waits
        // forever. Unset, Strata waits 10 s (libpq would wait for the operating system).
        match info
            .get("connect_timeout")
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            Some(s) if s > 0 => {
                config.connect_timeout(Duration::from_secs(s.max(2) as u64));
            }
            Some(_) => {}
            None => {
                config.connect_timeout(Duration::from_secs(10));
            }
        }
        let num = |k: &str| info.get(k).and_then(|v| v.trim().parse::<i64>().ok());
        if info.get("keepalives") == Some("0") {
            config.keepalives(false);
        }
        if let Some(s) = num("keepalives_idle").filter(|s| *s > 0) {
            config.keepalives_idle(Duration::from_secs(s as u64));
        }
        if let Some(s) = num("keepalives_interval").filter(|s| *s > 0) {
            config.keepalives_interval(Duration::from_secs(s as u64));
        }
        if let Some(n) = num("keepalives_count").filter(|n| *n > 0) {
            config.keepalives_retries(n as u32);
        }
        if let Some(ms) = num("tcp_user_timeout").filter(|n| *n > 0) {
            config.tcp_user_timeout(Duration::from_millis(ms as u64));
        }
        config.channel_binding(match info.get("channel_binding") {
            Some("disable") => tokio_postgres::config::ChannelBinding::Disable,
            Some("require") => tokio_postgres::config::ChannelBinding::Require,
            _ => tokio_postgres::config::ChannelBinding::Prefer,
        });
        let mut options = info.get("options").unwrap_or_default().to_string();
        if let Some(d) = self.settings.lock_timeout {
            options.push_str(&format!(" -c lock_timeout={}", d.as_millis()));
        }
        if let Some(d) = self.settings.statement_timeout {
            options.push_str(&format!(" -c statement_timeout={}", d.as_millis()));
        }
        if !options.trim().is_empty() {
            config.options(options.trim());
        }
        // libpq never uses TLS over a Unix socket.
        config.ssl_mode(match (self.tls, endpoint.is_socket()) {
            (_, true) | (TlsMode::Disable, _) => SslMode::Disable,
            (TlsMode::Prefer, _) => SslMode::Prefer,
            _ => SslMode::Require,
        });
        Ok(config)
    }

    /// Connects, returning the client; the connection is driven on a spawned task and its
    /// notices are dropped. See [`Target::session`] to keep them.
    pub async fn connect(&self) -> Result<Client, Error> {
        Ok(self.session().await?.into_client())
    }

    /// Connects, keeping the server's notices. Hosts are tried in order (shuffled with
    /// `load_balance_hosts=random`) until one accepts and meets `target_session_attrs`, as
    /// libpq does.
    pub async fn session(&self) -> Result<Session, Error> {
        let mut endpoints = self.endpoints()?;
        if self.info.get("load_balance_hosts") == Some("random") {
            shuffle(&mut endpoints);
        }
        let attrs = self
            .info
            .get("target_session_attrs")
            .filter(|a| !a.is_empty())
            .unwrap_or("any");
        // prefer-standby: a standby first, then any server (libpq's two passes).
        let passes: &[&str] = match attrs {
            "prefer-standby" => &["standby", "any"],
            other => std::slice::from_ref(match other {
                "read-write" => &"read-write",
                "read-only" => &"read-only",
                "primary" => &"primary",
                "standby" => &"standby",
                _ => &"any",
            }),
        };
        let mut failures: Vec<(String, Error)> = Vec::new();
        for want in passes {
            for endpoint in &endpoints {
                match self.connect_endpoint(endpoint).await {
                    Ok(session) => match session_matches(&session, want).await {
                        Ok(true) => return Ok(session),
                        Ok(false) => failures.push((
                            endpoint.to_string(),
                            Error::Connect {
                                target: self.display(),
                                message: format!("server is not {want} (target_session_attrs)"),
                                hint: None,
                            },
                        )),
                        Err(e) => failures.push((endpoint.to_string(), e)),
                    },
                    Err(e) => failures.push((endpoint.to_string(), e)),
                }
            }
        }
        if failures.len() == 1 {
            return Err(failures.pop().expect("one failure").1);
        }
        let hint = failures.iter().find_map(|(_, e)| e.hint());
        Err(Error::Connect {
            target: self.display(),
            message: failures
                .iter()
                .map(|(where_, e)| match e {
                    Error::Connect { message, .. } => format!("{where_}: {message}"),
                    other => format!("{where_}: {other}"),
                })
                .collect::<Vec<_>>()
                .join("; "),
            hint,
        })
    }

    async fn connect_endpoint(&self, endpoint: &Endpoint) -> Result<Session, Error> {
        let config = self.pg_config_for(endpoint)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let result = if config.get_ssl_mode() == SslMode::Disable {
            config
                .connect(tokio_postgres::NoTls)
                .await
                .map(|(client, conn)| {
                    session::spawn_connection(conn, tx);
                    client
                })
        } else {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.rustls_config()?);
            config.connect(tls).await.map(|(client, conn)| {
                session::spawn_connection(conn, tx);
                client
            })
        };
        result
            .map(|client| Session::new(client, rx))
            .map_err(|e| self.connect_error(endpoint, e))
    }

    fn connect_error(&self, endpoint: &Endpoint, e: tokio_postgres::Error) -> Error {
        let target = self.display();
        if let Some(db) = e.as_db_error() {
            let (message, hint) = match db.code().code() {
                "28P01" => (
                    "password authentication failed".to_string(),
                    Some(if self.info.has_password() {
                        format!("check the password in {}", self.source.described())
                    } else {
                        "no password was given: put it in the URL (percent-encoded), PGPASSWORD or ~/.pgpass".to_string()
                    }),
                ),
                "3D000" => (
                    db.message().to_string(),
                    Some("create the database first, or fix its name in the URL".to_string()),
                ),
                "28000" => (db.message().to_string(), Some(
                    "the server rejected this user/host/database combination (pg_hba.conf or role)".to_string())),
                "57P03" => (db.message().to_string(), Some("the server is starting up or shutting down; retry shortly".to_string())),
                _ => (db.message().to_string(), db.hint().map(str::to_string)),
            };
            return Error::Connect {
                target,
                message: redact(&message),
                hint,
            };
        }
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        let hint = if message.contains("refused") || message.contains("No such file") {
            Some(if endpoint.is_socket() {
                format!(
                    "is the server running and listening on the socket {}/.s.PGSQL.{}? (no host given: libpq's default socket directory)",
                    endpoint.host, endpoint.port
                )
            } else {
                "is the server running and listening on that host and port?".into()
            })
        } else if message.contains("failed to lookup") || message.contains("resolve") {
            Some("check the host name in the URL".into())
        } else if message.contains("unreachable") {
            Some(self.unreachable_hint())
        } else if message.contains("timed out") {
            Some("the host did not answer: check the address, port and firewall".into())
        } else if message.contains("server does not support TLS") {
            Some("use sslmode=prefer or sslmode=disable for this server".into())
        } else if message.contains("certificate") || message.contains("tls") {
            Some("check sslmode and sslrootcert; sslmode=require encrypts without verifying the certificate".into())
        } else {
            None
        };
        Error::Connect {
            target,
            message: redact(&message),
            hint,
        }
    }

    fn unreachable_hint(&self) -> String {
        match &self.source {
            TargetSource::Linked { project_ref } => format!(
                "db.{project_ref}.supabase.co has only an IPv6 address and this network has no IPv6 route; \
                 record the session pooler with `strata link --project-ref {project_ref} --pooler-url <Session pooler URL from the dashboard's Connect dialog>` and --linked uses it"
            ),
            _ => "the network has no route to that address (an IPv6-only host on an IPv4-only network?)".into(),
        }
    }

    /// Supabase's transaction pooler (port 6543) hands each transaction to any server session:
    /// a session advisory lock taken on one may be released — or held forever — on another, so
    /// the one-lock promise cannot hold. Refused with the URL to use instead.
    fn refuse_transaction_pooler(&self) -> Result<(), Error> {
        let Ok(endpoints) = self.info.endpoints() else {
            return Ok(());
        };
        for e in &endpoints {
            let host = e.host.to_ascii_lowercase();
            let supabase = host.ends_with(".pooler.supabase.com")
                || (host.starts_with("db.") && host.ends_with(".supabase.co"));
            if supabase && e.port == 6543 {
                let mut session_mode = self.info.clone();
                session_mode.set("port", "5432");
                let direct = host
                    .strip_suffix(".supabase.co")
                    .filter(|h| h.starts_with("db."))
                    .map(|_| format!(" or the direct connection {host}:5432"))
                    .unwrap_or_default();
                return Err(Error::Setting {
                    setting: self.source.setting(),
                    message: format!(
                        "{} is Supabase's transaction pooler (port 6543), which cannot hold the migration lock: each transaction may run on another server session",
                        self.display()
                    ),
                    hint: Some(format!(
                        "use the session pooler, the same host on port 5432 ({}){direct}; the dashboard's Connect dialog shows both",
                        session_mode.display()
                    )),
                });
            }
        }
        Ok(())
    }

    /// The connection as libpq environment variables, for a client program (`pg_dump`,
    /// `pg_restore`): every parameter given, mapped to its `PG*` variable, password included.
    /// Pass them in the child's environment, never on its command line.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        for (k, v) in self.info.iter() {
            if k == "dbname" || k == "service" {
                continue;
            }
            if let Some(var) = ConnInfo::env_var(k) {
                env.push((var, v.to_string()));
            }
        }
        if !self.info.has_password() {
            if let Some(e) = self.endpoints().ok().and_then(|l| l.into_iter().next()) {
                if let Some(p) = self.password_for(&e, &self.database().unwrap_or_default()) {
                    env.push(("PGPASSWORD", p));
                }
            }
        }
        if !env.iter().any(|(k, _)| *k == "PGAPPNAME") {
            env.push(("PGAPPNAME", "strata".into()));
        }
        env
    }

    fn rustls_config(&self) -> Result<rustls::ClientConfig, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // ssl_min_protocol_version / ssl_max_protocol_version, within what rustls speaks.
        let min13 = self.info.get("ssl_min_protocol_version") == Some("TLSv1.3");
        let max12 = self.info.get("ssl_max_protocol_version") == Some("TLSv1.2");
        let versions: &[&rustls::SupportedProtocolVersion] = match (min13, max12) {
            (true, true) => {
                return Err(Error::setting(
                    "ssl_min_protocol_version",
                    "ssl_min_protocol_version is above ssl_max_protocol_version",
                ))
            }
            (true, false) => &[&rustls::version::TLS13],
            (false, true) => &[&rustls::version::TLS12],
            (false, false) => rustls::DEFAULT_VERSIONS,
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| Error::setting("sslmode", e.to_string()))?;
        // libpq: with sslmode=require and a root certificate file present (sslrootcert, or
        // ~/.postgresql/root.crt), behave like verify-ca.
        let mode = match (self.tls, self.root_cert_file()) {
            (TlsMode::Require, Some(_)) => TlsMode::VerifyCa,
            (mode, _) => mode,
        };
        let config = match mode {
            TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(tls::NoVerify(provider)))
                .with_no_client_auth(),
            TlsMode::VerifyCa | TlsMode::VerifyFull => {
                let roots = Arc::new(self.root_store()?);
                let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    roots,
                    provider.clone(),
                )
                .build()
                .map_err(|e| Error::setting("sslrootcert", e.to_string()))?;
                if mode == TlsMode::VerifyFull {
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(inner)
                        .with_no_client_auth()
                } else {
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(tls::ChainOnly(inner)))
                        .with_no_client_auth()
                }
            }
        };
        let mut config = config;
        if self.info.get("sslsni") == Some("0") {
            config.enable_sni = false;
        }
        Ok(config)
    }

    /// The root certificate file libpq would use: `sslrootcert` (unless `system`), else
    /// `~/.postgresql/root.crt` when it exists.
    fn root_cert_file(&self) -> Option<PathBuf> {
        match self.root_cert() {
            Some(p) if p.as_os_str() == "system" => None,
            Some(p) => Some(p.to_path_buf()),
            None => home_dir()
                .map(|h| h.join(".postgresql/root.crt"))
                .filter(|p| p.is_file()),
        }
    }

    fn root_store(&self) -> Result<rustls::RootCertStore, Error> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::CertificateDer;
        let mut store = rustls::RootCertStore::empty();
        let file = self.root_cert_file();
        match file {
            None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(&path)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| Error::Setting {
                        setting: "sslrootcert".into(),
                        message: format!("cannot read root certificate {}: {e}", path.display()),
                        hint: Some("sslrootcert must name a PEM file of CA certificates".into()),
                    })?;
                if certs.is_empty() {
                    return Err(Error::setting(
                        "sslrootcert",
                        format!("{} holds no PEM certificate", path.display()),
                    ));
                }
                for cert in certs {
                    store.add(cert).map_err(|e| {
                        Error::setting("sslrootcert", format!("{}: {e}", path.display()))
                    })?;
                }
            }
        }
        Ok(store)
    }
}

/// The error for a connection string that does not parse: it names where the string came from
/// and never repeats it.
fn conninfo_error(source: &TargetSource, e: ConnInfoError) -> Error {
    Error::Setting {
        setting: source.setting(),
        message: format!("the connection string in {} {e}", source.described()),
        hint: Some(e.hint().to_string()),
    }
}

/// Whether a session meets one `target_session_attrs` requirement.
async fn session_matches(session: &Session, want: &str) -> Result<bool, Error> {
    let query = match want {
        "read-write" => "select current_setting('transaction_read_only') = 'off'",
        "read-only" => "select current_setting('transaction_read_only') = 'on'",
        "primary" => "select not pg_is_in_recovery()",
        "standby" => "select pg_is_in_recovery()",
        _ => return Ok(true),
    };
    let row = session
        .query_one(query, &[])
        .await
        .map_err(|e| Error::db("checking target_session_attrs", e))?;
    Ok(row.get(0))
}

/// A cheap shuffle for `load_balance_hosts=random` (no cryptographic need).
fn shuffle<T>(items: &mut [T]) {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(1)
        ^ (std::process::id() as u64) << 32;
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

// ---------------------------------------------------------------------------------------------
// Supabase: --linked
// ---------------------------------------------------------------------------------------------

/// Where `strata link --pooler-url` records the project's session pooler (without password).
pub const POOLER_URL_FILE: &str = "pooler-url";

/// The Supabase project recorded by `strata link` (or by the Supabase CLI's `supabase link`).
pub fn linked_project_ref(project: &Project) -> Result<Option<String>, Error> {
    read_first_line(&[
        project.state_dir().join("project-ref"),
        project.root.join("supabase/.temp/project-ref"),
    ])
}

/// The project's pooler URL recorded by `strata link --pooler-url` or `supabase link`.
pub fn linked_pooler_url(project: &Project) -> Result<Option<String>, Error> {
    read_first_line(&[
        project.state_dir().join(POOLER_URL_FILE),
        project.root.join("supabase/.temp/pooler-url"),
    ])
}

fn read_first_line(paths: &[PathBuf]) -> Result<Option<String>, Error> {
    for path in paths {
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
            let r = text.trim().to_string();
            if !r.is_empty() {
                return Ok(Some(r));
            }
        }
    }
    Ok(None)
}

/// Checks a Supabase project ref: 20 lower-case letters.
pub fn validate_project_ref(r: &str) -> Result<(), Error> {
    if r.len() == 20 && r.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err(Error::Setting {
            setting: "--project-ref".into(),
            message: format!("`{r}` is not a Supabase project ref"),
            hint: Some("a project ref is 20 lower-case letters, as in https://supabase.com/dashboard/project/<ref>".into()),
        })
    }
}

/// The direct database URL of a Supabase project.
pub fn linked_url(project_ref: &str, password: &str) -> String {
    format!(
        "postgresql://postgres:{}@db.{project_ref}.supabase.co:5432/postgres?sslmode=require",
        conninfo::encode_userinfo(password)
    )
}

/// Checks a pooler URL given to `strata link --pooler-url` and returns it as it is recorded:
/// the session-mode port (5432), the `postgres.<ref>` user, no password.
pub fn pooler_url_for_link(project_ref: &str, raw: &str) -> Result<String, Error> {
    let info = ConnInfo::parse(raw.trim()).map_err(|e| conninfo_error(&TargetSource::DbUrl, e))?;
    let host = info.get("host").unwrap_or("").to_ascii_lowercase();
    if host.is_empty() || host.contains(',') || !host.ends_with(".pooler.supabase.com") {
        return Err(Error::Setting {
            setting: "--pooler-url".into(),
            message:
                "the pooler URL's host is not a Supabase pooler (<region>.pooler.supabase.com)"
                    .into(),
            hint: Some("copy the Session pooler URL from the dashboard's Connect dialog".into()),
        });
    }
    Ok(format!(
        "postgresql://postgres.{project_ref}@{host}:5432/postgres?sslmode=require"
    ))
}

/// How `--linked` reaches the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkedRoute {
    /// `db.<ref>.supabase.co:5432`.
    Direct,
    /// The session pooler, with why.
    SessionPooler { reason: String },
}

/// Chooses the route: the direct host when this machine can reach one of its addresses (it is
/// IPv6-only unless the project bought the IPv4 add-on), else the session pooler when one is
/// recorded (as the Supabase CLI falls back to it). `addresses` are the direct host's; `routable`
/// says whether an IPv6 address has a route here.
pub fn choose_linked_route(
    addresses: &[std::net::IpAddr],
    routable: &dyn Fn(&std::net::IpAddr) -> bool,
    pooler_known: bool,
) -> LinkedRoute {
    if addresses.is_empty() || !pooler_known {
        return LinkedRoute::Direct;
    }
    if addresses.iter().any(|a| a.is_ipv4() || routable(a)) {
        return LinkedRoute::Direct;
    }
    LinkedRoute::SessionPooler {
        reason: "the direct host has only IPv6 addresses and this machine has no IPv6 route".into(),
    }
}

/// Whether the kernel has a route to `addr` (a UDP "connect" sends nothing).
fn has_route(addr: &std::net::IpAddr) -> bool {
    let bind: std::net::SocketAddr = if addr.is_ipv6() {
        "[::]:0".parse().expect("literal")
    } else {
        "0.0.0.0:0".parse().expect("literal")
    };
    std::net::UdpSocket::bind(bind)
        .and_then(|s| s.connect((*addr, 5432)))
        .is_ok()
}

fn linked_target(project: &Project, settings: SessionSettings) -> Result<Target, Error> {
    let project_ref = linked_project_ref(project)?.ok_or_else(|| Error::Setting {
        setting: "--linked".into(),
        message: "no Supabase project is linked".into(),
        hint: Some("run `strata link --project-ref <ref>` first".into()),
    })?;
    let password = project
        .var("SUPABASE_DB_PASSWORD")
        .ok_or_else(|| Error::Setting {
            setting: "SUPABASE_DB_PASSWORD".into(),
            message: "--linked needs the database password in SUPABASE_DB_PASSWORD".into(),
            hint: Some(
                "export SUPABASE_DB_PASSWORD=... (in CI: from a secret) or put it in .env".into(),
            ),
        })?;
    let source = TargetSource::Linked {
        project_ref: project_ref.clone(),
    };
    let pooler = linked_pooler_url(project)?;
    let direct_host = format!("db.{project_ref}.supabase.co");
    let addresses: Vec<std::net::IpAddr> = if pooler.is_some() {
        std::net::ToSocketAddrs::to_socket_addrs(&(direct_host.as_str(), 5432))
            .map(|it| it.map(|a| a.ip()).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let route = choose_linked_route(&addresses, &has_route, pooler.is_some());
    let mut target = match (&route, &pooler) {
        (LinkedRoute::SessionPooler { .. }, Some(url)) => {
            let recorded = pooler_url_for_link(&project_ref, url)?;
            let mut info = ConnInfo::parse(&recorded).map_err(|e| conninfo_error(&source, e))?;
            info.set("password", password);
            let info = info
                .with_defaults(&process_env, home_dir().as_deref())
                .map_err(|e| conninfo_error(&source, e))?;
            Target::from_conninfo(info, source, settings)?
        }
        _ => Target::from_url(&linked_url(&project_ref, &password), source, settings)?,
    };
    target.notes.push(match route {
        LinkedRoute::Direct => format!("--linked: direct connection to {direct_host}"),
        LinkedRoute::SessionPooler { reason } => {
            format!("--linked: through the session pooler, because {reason} ({direct_host})")
        }
    });
    Ok(target)
}

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

/// Replaces what may be a password in free text (a server or tool message): the user-info of
/// anything that looks like a URL — from `scheme://user:` to the last `@` of that word, so that a
/// password holding `@` or `/` is covered whole — and `password=` values.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let word = &tail[..end];
        match word.rfind('@') {
            Some(at) => {
                let userinfo = &word[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":****");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&word[at..]);
            }
            None => out.push_str(word),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("password=") {
        let before = &rest[..i];
        let boundary = before
            .chars()
            .last()
            .is_none_or(|c| c == '?' || c == '&' || c.is_whitespace());
        result.push_str(before);
        result.push_str("password=");
        let tail = &rest[i + 9..];
        if boundary {
            let end = if tail.starts_with('\'') {
                // A quoted key=value password: up to its closing quote.
                let mut j = 1;
                let b = tail.as_bytes();
                while j < b.len() && b[j] != b'\'' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                (j + 1).min(tail.len())
            } else {
                tail.find(|c: char| c == '&' || c.is_whitespace())
                    .unwrap_or(tail.len())
            };
            result.push_str("****");
            rest = &tail[end..];
        } else {
            rest = tail;
        }
    }
    result.push_str(rest);
    result
}

/// Every piece of `raw` (a connection string as given, parsed or not) that may be a password:
/// the user-info after `user:` up to the last `@`, and `password=` values. The CLI scrubs them
/// from its output before anything is parsed, so that even a string that fails to parse cannot
/// leak through a message that quotes it.
pub fn secret_candidates(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let raw = raw.trim();
    if let Some(rest) = raw
        .strip_prefix("postgresql://")
        .or_else(|| raw.strip_prefix("postgres://"))
    {
        if let Some(at) = rest.rfind('@') {
            if let Some((_, pw)) = rest[..at].split_once(':') {
                if !pw.is_empty() {
                    out.push(pw.to_string());
                    if let Ok(decoded) = percent_decode_lossy(pw) {
                        out.push(decoded);
                    }
                }
            }
        }
    }
    let mut rest = raw;
    while let Some(i) = rest.find("password=") {
        let tail = &rest[i + 9..];
        let value: String = if let Some(q) = tail.strip_prefix('\'') {
            let mut v = String::new();
            let mut chars = q.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next()),
                    '\'' => break,
                    c => v.push(c),
                }
            }
            v
        } else {
            tail.split(['&', ' ', '\t', '\n'])
                .next()
                .unwrap_or("")
                .to_string()
        };
        if !value.is_empty() {
            if let Ok(decoded) = percent_decode_lossy(&value) {
                out.push(decoded);
            }
            out.push(value);
        }
        rest = tail;
    }
    out.sort();
    out.dedup();
    out
}

fn percent_decode_lossy(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ())
}

mod tls {
    //! Certificate verifiers for libpq's `require` (encrypt, verify nothing) and `verify-ca`
    //! (verify the chain, not the host name).
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    pub struct NoVerify(pub Arc<CryptoProvider>);

    impl ServerCertVerifier for NoVerify {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    #[derive(Debug)]
    pub struct ChainOnly(pub Arc<rustls::client::WebPkiServerVerifier>);

    impl ServerCertVerifier for ChainOnly {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            match self
                .0
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            {
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName,
                ))
                | Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForNameContext { .. },
                )) => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.0.verify_tls12_signature(message, cert, dss)
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.0.verify_tls13_signature(message, cert, dss)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.supported_verify_schemes()
        }
    }
}

/// Resolves the target and, when it is the local cluster, starts the cluster (creating it on
/// first use). Blocking while the cluster starts.
pub fn resolve_and_start(project: &Project, req: &TargetRequest) -> Result<Target, Error> {
    match Target::resolve(project, req)? {
        Resolved::Remote(t) => Ok(t),
        Resolved::Local { settings } => {
            let info = crate::local::LocalCluster::new(project.state_dir()).start()?;
            Target::local(&info.url(&project.config.local.database), settings)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgresql://app:s3cr%40t@db.example.com:5432/app?sslmode=require"),
            "postgresql://app:****@db.example.com:5432/app?sslmode=require"
        );
        assert_eq!(
            redact("could not connect to postgres://u:p@h/d: refused"),
            "could not connect to postgres://u:****@h/d: refused"
        );
        assert_eq!(
            redact("host=h user=u password=hunter2 dbname=d"),
            "host=h user=u password=**** dbname=d"
        );
        assert_eq!(
            redact("host=h password='a b\\'c' dbname=d"),
            "host=h password=**** dbname=d"
        );
        assert_eq!(
            redact("postgresql://h/d?user=u&password=x&sslmode=require"),
            "postgresql://h/d?user=u&password=****&sslmode=require"
        );
        assert_eq!(redact("postgresql://u@h/d"), "postgresql://u@h/d");
        // A raw @ or / in the password: everything up to the last @ of the word goes.
        assert_eq!(
            redact("postgresql://u:p/q@r@host/db"),
            "postgresql://u:****@host/db"
        );
        assert_eq!(
            redact("postgresql://u:a#b@c:d@host/db"),
            "postgresql://u:****@host/db"
        );
    }

    #[test]
    fn secret_candidates_cover_unparsable_strings() {
        let c = secret_candidates("postgresql://u:p/q@r@host/db");
        assert!(c.contains(&"p/q@r".to_string()), "{c:?}");
        let c = secret_candidates("host=h password='a b\\'c' user=u");
        assert!(c.contains(&"a b'c".to_string()), "{c:?}");
        let c = secret_candidates("postgresql://u:a%40b@h/d");
        assert!(c.contains(&"a@b".to_string()), "{c:?}");
    }

    #[test]
    fn linked_urls_encode_the_password() {
        let url = linked_url("abcdefghijklmnopqrst", "p@ss:w/rd");
        assert_eq!(url, "postgresql://postgres:p%40ss%3Aw%2Frd@db.abcdefghijklmnopqrst.supabase.co:5432/postgres?sslmode=require");
        assert!(!redact(&url).contains("p%40ss"));
        assert!(validate_project_ref("abcdefghijklmnopqrst").is_ok());
        assert!(validate_project_ref("abc").is_err());
    }

    #[test]
    fn malformed_urls_are_errors_without_the_password() {
        for raw in [
            "postgresql://u:secret@h:notaport/d",
            "postgresql://u:se/cret@h/d",
            "postgresql://u:secr@t@h/d",
            "host=h password=secret extra",
        ] {
            let err =
                Target::from_url(raw, TargetSource::DbUrl, SessionSettings::default()).unwrap_err();
            let msg = format!("{err} {}", err.hint().unwrap_or_default());
            assert!(!msg.contains("secret") && !msg.contains("cret"), "{msg}");
            assert!(msg.contains("--db-url"), "{msg}");
        }
    }

    #[test]
    fn the_transaction_pooler_is_refused_with_the_session_pooler_to_use() {
        let err = Target::from_url(
            "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
            TargetSource::DbUrl,
            SessionSettings::default(),
        )
        .unwrap_err();
        let text = format!("{err} {}", err.hint().unwrap_or_default());
        assert!(text.contains("transaction pooler"), "{text}");
        assert!(
            text.contains("aws-0-eu-central-1.pooler.supabase.com:5432"),
            "{text}"
        );
        assert!(!text.contains(":pw@"), "{text}");
        let err = Target::from_url(
            "postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:6543/postgres",
            TargetSource::DbUrl,
            SessionSettings::default(),
        )
        .unwrap_err();
        assert!(err
            .hint()
            .unwrap()
            .contains("db.abcdefghijklmnopqrst.supabase.co:5432"));
        // The session pooler and the direct host are fine.
        for ok in [
            "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
            "postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres",
        ] {
            Target::from_url(ok, TargetSource::DbUrl, SessionSettings::default()).unwrap();
        }
    }

    #[test]
    fn linked_takes_the_session_pooler_only_without_a_route_to_the_direct_host() {
        let v6: std::net::IpAddr = "2600:1f18::1".parse().unwrap();
        let v4: std::net::IpAddr = "3.3.3.3".parse().unwrap();
        let no_route = |_: &std::net::IpAddr| false;
        let route = |_: &std::net::IpAddr| true;
        assert!(matches!(
            choose_linked_route(&[v6], &no_route, true),
            LinkedRoute::SessionPooler { .. }
        ));
        assert_eq!(
            choose_linked_route(&[v6], &route, true),
            LinkedRoute::Direct
        );
        assert_eq!(
            choose_linked_route(&[v6, v4], &no_route, true),
            LinkedRoute::Direct
        );
        // Without a recorded pooler there is nothing else to try.
        assert_eq!(
            choose_linked_route(&[v6], &no_route, false),
            LinkedRoute::Direct
        );
        assert_eq!(
            pooler_url_for_link(
                "abcdefghijklmnopqrst",
                "postgresql://postgres.abcdefghijklmnopqrst:[YOUR-PASSWORD]@aws-1-us-east-2.pooler.supabase.com:6543/postgres"
            )
            .unwrap(),
            "postgresql://postgres.abcdefghijklmnopqrst@aws-1-us-east-2.pooler.supabase.com:5432/postgres?sslmode=require"
        );
        assert!(
            pooler_url_for_link("abcdefghijklmnopqrst", "postgresql://u@example.com/d").is_err()
        );
    }
}
