//! Connection strings as libpq reads them: `postgresql://` URLs and `key=value` strings, the
//! `PG*` environment variables that fill in what a string leaves out, service files, and the
//! password file (`~/.pgpass`).
//!
//! The rules follow libpq's `fe-connect.c` (PostgreSQL 17/18: `conninfo_uri_parse_options`,
//! `conninfo_uri_parse_params`, `conninfo_parse`, `conninfo_add_defaults`, `parseServiceInfo`,
//! `passwordFromFile`) and the documentation page "Connection Strings" (libpq-connect.html,
//! section 34.1.1), so that a string that works with `psql` works with Strata and means the same
//! database. Where Strata cannot do what libpq does (GSSAPI, client certificates with a
//! passphrase, replication connections …) the parameter is refused by name rather than ignored.
//!
//! Secrets: no error of this module contains any value taken from the input. A URL whose
//! user-info holds reserved characters (`@`, `/`, `?`, `#` …) that libpq would read differently
//! from what its author meant is refused as ambiguous, so that no part of a password can end up
//! in a host name, a port or a database name that is printed later.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One libpq connection parameter Strata knows.
struct Keyword {
    name: &'static str,
    /// The environment variable that supplies a default (libpq's `envvar`).
    env: Option<&'static str>,
    support: Support,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Support {
    /// Strata honours it.
    Used,
    /// Accepted and has no effect on a Strata connection (libpq accepts and ignores it too, or it
    /// only matters for features Strata does not use).
    Ignored,
    /// Strata cannot do what libpq would do with it: refused by name.
    Unsupported,
}

use Support::{Ignored, Unsupported, Used};

/// libpq's `PQconninfoOptions` (PostgreSQL 18), in its order.
const KEYWORDS: &[Keyword] = &[
    kw("service", Some("PGSERVICE"), Used),
    kw("user", Some("PGUSER"), Used),
    kw("password", Some("PGPASSWORD"), Used),
    kw("passfile", Some("PGPASSFILE"), Used),
    kw("channel_binding", Some("PGCHANNELBINDING"), Used),
    kw("connect_timeout", Some("PGCONNECT_TIMEOUT"), Used),
    kw("dbname", Some("PGDATABASE"), Used),
    kw("host", Some("PGHOST"), Used),
    kw("hostaddr", Some("PGHOSTADDR"), Used),
    kw("port", Some("PGPORT"), Used),
    kw("client_encoding", Some("PGCLIENTENCODING"), Used),
    kw("options", Some("PGOPTIONS"), Used),
    kw("application_name", Some("PGAPPNAME"), Used),
    kw("fallback_application_name", None, Used),
    kw("keepalives", None, Used),
    kw("keepalives_idle", None, Used),
    kw("keepalives_interval", None, Used),
    kw("keepalives_count", None, Used),
    kw("tcp_user_timeout", None, Used),
    kw("sslmode", Some("PGSSLMODE"), Used),
    kw("sslnegotiation", Some("PGSSLNEGOTIATION"), Used),
    kw("sslcompression", Some("PGSSLCOMPRESSION"), Ignored),
    kw("sslcert", Some("PGSSLCERT"), Unsupported),
    kw("sslkey", Some("PGSSLKEY"), Unsupported),
    kw("sslcertmode", Some("PGSSLCERTMODE"), Used),
    kw("sslpassword", None, Unsupported),
    kw("sslkeylogfile", Some("PGSSLKEYLOGFILE"), Unsupported),
    kw("sslrootcert", Some("PGSSLROOTCERT"), Used),
    kw("sslcrl", Some("PGSSLCRL"), Unsupported),
    kw("sslcrldir", Some("PGSSLCRLDIR"), Unsupported),
    kw("sslsni", Some("PGSSLSNI"), Used),
    kw("requirepeer", Some("PGREQUIREPEER"), Unsupported),
    kw("require_auth", Some("PGREQUIREAUTH"), Unsupported),
    kw("min_protocol_version", Some("PGMINPROTOCOLVERSION"), Used),
    kw("max_protocol_version", Some("PGMAXPROTOCOLVERSION"), Used),
    kw(
        "ssl_min_protocol_version",
        Some("PGSSLMINPROTOCOLVERSION"),
        Used,
    ),
    kw(
        "ssl_max_protocol_version",
        Some("PGSSLMAXPROTOCOLVERSION"),
        Used,
    ),
    kw("gssencmode", Some("PGGSSENCMODE"), Used),
    kw("krbsrvname", Some("PGKRBSRVNAME"), Ignored),
    kw("gsslib", Some("PGGSSLIB"), Ignored),
    kw("gssdelegation", Some("PGGSSDELEGATION"), Ignored),
    kw("replication", None, Unsupported),
    kw("target_session_attrs", Some("PGTARGETSESSIONATTRS"), Used),
    kw("load_balance_hosts", Some("PGLOADBALANCEHOSTS"), Used),
    kw("scram_client_key", None, Unsupported),
    kw("scram_server_key", None, Unsupported),
    kw("oauth_issuer", None, Unsupported),
    kw("oauth_client_id", None, Unsupported),
    kw("oauth_client_secret", None, Unsupported),
    kw("oauth_scope", None, Unsupported),
];

const fn kw(name: &'static str, env: Option<&'static str>, support: Support) -> Keyword {
    Keyword { name, env, support }
}

fn keyword(name: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|k| k.name == name)
}

/// Why a connection string was refused. Never holds a value from the input: only parameter
/// names libpq knows and positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnInfoError {
    /// Neither a `postgresql://`/`postgres://` URL nor `key=value` pairs.
    NotAConnectionString,
    /// The user-info part of a URL holds a character libpq reads as the end of it (`/`, or an `@`
    /// before the last one), so the password would be taken for a host, port or database.
    AmbiguousUserInfo,
    /// `[` without `]` in a URL's host list, or `[]`.
    BadIpv6Host,
    /// Something other than `:`, `/`, `?` or `,` after a `[…]` host.
    UnexpectedAfterIpv6Host,
    /// A `%` not followed by two hex digits, or `%00`.
    BadPercentEncoding { parameter: Option<&'static str> },
    /// A URL query parameter without `=`, or with two.
    BadQueryParameter,
    /// `key=value` text with a word that is not followed by `=`.
    MissingEquals { position: usize },
    /// A `'` without its closing `'` in `key=value` text.
    UnterminatedQuote,
    /// A parameter libpq does not know (the name is not repeated: it may be part of a password).
    UnknownParameter { suggestion: Option<&'static str> },
    /// A parameter libpq knows that Strata cannot honour.
    Unsupported { parameter: &'static str },
    /// A value libpq would refuse (a port that is not a number, an unknown `sslmode` …).
    InvalidValue {
        parameter: &'static str,
        expected: &'static str,
    },
    /// `host`/`hostaddr` and `port` lists of different lengths.
    HostPortMismatch { hosts: usize, ports: usize },
    /// A service named by `service=` or `PGSERVICE` is in no service file.
    UnknownService { files: Vec<PathBuf> },
    /// A service file could not be read or has a line that is not `key=value`.
    ServiceFile { path: PathBuf, line: usize },
}

impl fmt::Display for ConnInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnInfoError::NotAConnectionString => write!(
                f,
                "is neither a postgresql:// URL nor key=value connection parameters"
            ),
            ConnInfoError::AmbiguousUserInfo => write!(
                f,
                "is not a valid URL as written: the user name or password holds a character \
                 that ends that part of a URL (such as @ / ? # or :)"
            ),
            ConnInfoError::BadIpv6Host => write!(f, "has an IPv6 host address without its closing ] (or an empty one)"),
            ConnInfoError::UnexpectedAfterIpv6Host => write!(
                f,
                "has an unexpected character after a [IPv6] host address (expected : / ? or ,)"
            ),
            ConnInfoError::BadPercentEncoding { parameter } => match parameter {
                Some(p) => write!(f, "has an invalid percent-encoded value for `{p}`"),
                None => write!(f, "has an invalid percent-encoded character"),
            },
            ConnInfoError::BadQueryParameter => write!(
                f,
                "has a URL query parameter that is not written key=value"
            ),
            ConnInfoError::MissingEquals { position } => write!(
                f,
                "has a word without `=` (at character {position}); values with spaces must be quoted: key='a value'"
            ),
            ConnInfoError::UnterminatedQuote => write!(f, "has a quoted value without its closing '"),
            ConnInfoError::UnknownParameter { suggestion } => match suggestion {
                Some(s) => write!(f, "has a parameter libpq does not know (did you mean `{s}`?)"),
                None => write!(f, "has a parameter libpq does not know"),
            },
            ConnInfoError::Unsupported { parameter } => write!(
                f,
                "uses `{parameter}`, which Strata does not support (it speaks the protocol itself, without libpq)"
            ),
            ConnInfoError::InvalidValue { parameter, expected } => {
                write!(f, "has an invalid `{parameter}`: expected {expected}")
            }
            ConnInfoError::HostPortMismatch { hosts, ports } => write!(
                f,
                "lists {hosts} host(s) but {ports} port(s): give one port, or one per host"
            ),
            ConnInfoError::UnknownService { files } => {
                write!(f, "names a service that is in no service file")?;
                if !files.is_empty() {
                    let list: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                    write!(f, " (looked in {})", list.join(", "))?;
                }
                Ok(())
            }
            ConnInfoError::ServiceFile { path, line } => {
                write!(f, "uses service file {} whose line {line} is not key=value", path.display())
            }
        }
    }
}

impl std::error::Error for ConnInfoError {}

impl ConnInfoError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ConnInfoError::AmbiguousUserInfo | ConnInfoError::BadPercentEncoding { .. } => {
                "percent-encode reserved characters in the user name and password (@ as %40, / as %2F, : as %3A, ? as %3F, # as %23, % as %25), or use key=value form: host=… user=… password='…'"
            }
            ConnInfoError::NotAConnectionString => {
                "write it as postgresql://user:password@host:5432/database?sslmode=require, or as host=… port=… dbname=… user=…"
            }
            ConnInfoError::MissingEquals { .. } | ConnInfoError::UnterminatedQuote => {
                "write key=value pairs separated by spaces; quote a value that holds spaces (password='a b c') and escape ' and \\ inside it with a backslash"
            }
            ConnInfoError::UnknownParameter { .. } => {
                "the parameters libpq knows are listed under \"Parameter Key Words\" in the PostgreSQL documentation (libpq-connect)"
            }
            ConnInfoError::Unsupported { .. } => {
                "remove it, or connect through a server that does not need it"
            }
            _ => "see `strata --help` for the connection string forms Strata accepts",
        }
    }
}

/// Connection parameters by libpq keyword. Built by [`ConnInfo::parse`], completed by
/// [`ConnInfo::with_defaults`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnInfo {
    params: BTreeMap<&'static str, String>,
}

impl fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.params {
            if *k == "password" {
                m.entry(k, &"****");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

/// Where libpq looks when no host is given: the Unix socket directory it was built with.
/// Debian/Ubuntu/Fedora build libpq with `/var/run/postgresql`, upstream with `/tmp`; the first
/// that holds a socket for the port wins, else the first that exists.
pub fn default_socket_dir(port: u16) -> String {
    const DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];
    let socket = format!(".s.PGSQL.{port}");
    DIRS.iter()
        .find(|d| Path::new(d).join(&socket).exists())
        .or_else(|| DIRS.iter().find(|d| Path::new(d).is_dir()))
        .unwrap_or(&DIRS[1])
        .to_string()
}

/// Whether a `host` entry names a Unix socket directory (libpq's `is_unixsock_path`).
pub fn is_socket_path(host: &str) -> bool {
    host.starts_with('/') || host.starts_with('@')
}

impl ConnInfo {
    /// Parses a `postgresql://` (or `postgres://`) URL or `key=value` text as libpq does.
    pub fn parse(raw: &str) -> Result<ConnInfo, ConnInfoError> {
        let mut info = ConnInfo::default();
        if let Some(rest) = strip_uri_prefix(raw) {
            check_userinfo(rest)?;
            parse_uri(rest, &mut info)?;
        } else if raw.contains('=') {
            parse_key_values(raw, &mut info)?;
        } else {
            return Err(ConnInfoError::NotAConnectionString);
        }
        info.validate()?;
        Ok(info)
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Sets a parameter libpq knows (other names are ignored).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        if let Some(k) = keyword(name) {
            self.params.insert(k.name, value.into());
        }
    }

    /// Removes a parameter.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.params.remove(name)
    }

    /// Fills in what the string left out, as libpq's `conninfo_add_defaults` does: first from
    /// the service (`service=` or `PGSERVICE`, looked up in `PGSERVICEFILE` or
    /// `~/.pg_service.conf`, then `PGSYSCONFDIR/pg_service.conf`), then from each parameter's
    /// environment variable (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
    /// `PGSSLMODE` …). `env` reads a variable; `home` is the user's home directory. Values given
    /// in the string always win. Built-in defaults (port 5432, the socket directory, the OS user)
    /// are applied when connecting, not here, so that [`ConnInfo::display`] shows what was given.
    pub fn with_defaults(
        mut self,
        env: &dyn Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<ConnInfo, ConnInfoError> {
        let service = self
            .get("service")
            .map(str::to_string)
            .or_else(|| env("PGSERVICE"));
        if let Some(service) = service.filter(|s| !s.is_empty()) {
            let values = service_values(&service, env, home)?;
            for (k, v) in values {
                self.params.entry(k).or_insert(v);
            }
        }
        for k in KEYWORDS {
            if self.params.contains_key(k.name) {
                continue;
            }
            if let Some(v) = k.env.and_then(env) {
                self.params.insert(k.name, v);
            }
        }
        self.validate()?;
        Ok(self)
    }

    /// Refuses what libpq would refuse and what Strata cannot honour.
    fn validate(&self) -> Result<(), ConnInfoError> {
        for (name, value) in &self.params {
            let k = keyword(name).expect("only known keywords are stored");
            if k.support == Unsupported && !value.is_empty() {
                // An empty value means "not set" to libpq.
                return Err(ConnInfoError::Unsupported { parameter: k.name });
            }
        }
        let one_of = |name: &'static str, values: &[&str], expected: &'static str| match self
            .get(name)
        {
            Some(v) if !v.is_empty() && !values.contains(&v) => Err(ConnInfoError::InvalidValue {
                parameter: name,
                expected,
            }),
            _ => Ok(()),
        };
        one_of(
            "sslmode",
            &[
                "disable",
                "allow",
                "prefer",
                "require",
                "verify-ca",
                "verify-full",
            ],
            "disable, allow, prefer, require, verify-ca or verify-full",
        )?;
        one_of(
            "sslnegotiation",
            &["postgres"],
            "postgres (direct TLS negotiation is not supported)",
        )?;
        one_of(
            "sslcertmode",
            &["disable", "allow"],
            "disable or allow (client certificates are not supported)",
        )?;
        one_of("sslsni", &["0", "1"], "0 or 1")?;
        one_of(
            "channel_binding",
            &["disable", "prefer", "require"],
            "disable, prefer or require",
        )?;
        one_of(
            "gssencmode",
            &["disable", "prefer", "allow"],
            "disable or prefer (GSSAPI encryption is not supported)",
        )?;
        one_of(
            "target_session_attrs",
            &[
                "any",
                "read-write",
                "read-only",
                "primary",
                "standby",
                "prefer-standby",
            ],
            "any, read-write, read-only, primary, standby or prefer-standby",
        )?;
        one_of(
            "load_balance_hosts",
            &["disable", "random"],
            "disable or random",
        )?;
        one_of("keepalives", &["0", "1"], "0 or 1")?;
        one_of(
            "ssl_min_protocol_version",
            &["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
            "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3",
        )?;
        one_of(
            "ssl_max_protocol_version",
            &["TLSv1.2", "TLSv1.3"],
            "TLSv1.2 or TLSv1.3 (the versions Strata's TLS speaks)",
        )?;
        one_of(
            "min_protocol_version",
            &["3.0", "3.2", "latest"],
            "3.0, 3.2 or latest",
        )?;
        one_of(
            "max_protocol_version",
            &["3.0", "3.2", "latest"],
            "3.0, 3.2 or latest",
        )?;
        if let Some(enc) = self.get("client_encoding").filter(|e| !e.is_empty()) {
            let e = enc.to_ascii_lowercase().replace(['-', '_'], "");
            if e != "utf8" && e != "auto" && e != "unicode" {
                return Err(ConnInfoError::InvalidValue {
                    parameter: "client_encoding",
                    expected: "UTF8 or auto (Strata always speaks UTF-8)",
                });
            }
        }
        for name in [
            "connect_timeout",
            "keepalives_idle",
            "keepalives_interval",
            "keepalives_count",
            "tcp_user_timeout",
        ] {
            if let Some(v) = self.get(name).filter(|v| !v.trim().is_empty()) {
                if v.trim().parse::<i64>().is_err() {
                    return Err(ConnInfoError::InvalidValue {
                        parameter: keyword(name).expect("known").name,
                        expected: "a whole number",
                    });
                }
            }
        }
        if let Some(ports) = self.get("port") {
            for p in ports.split(',') {
                if !p.is_empty() && p.trim().parse::<u16>().map_or(true, |n| n == 0) {
                    return Err(ConnInfoError::InvalidValue {
                        parameter: "port",
                        expected: "a port number from 1 to 65535",
                    });
                }
            }
        }
        if let Some(addrs) = self.get("hostaddr") {
            for a in addrs.split(',') {
                if !a.is_empty() && a.parse::<std::net::IpAddr>().is_err() {
                    return Err(ConnInfoError::InvalidValue {
                        parameter: "hostaddr",
                        expected: "a numeric IPv4 or IPv6 address",
                    });
                }
            }
        }
        self.endpoints_unresolved().map(|_| ())
    }

    /// The hosts to try, in order, with their ports (libpq's `connectOptions2`): `host` and
    /// `hostaddr` are comma-separated lists of equal length (or one of them empty), `port` is one
    /// port for all or one per host; an empty entry means the default (the socket directory, port
    /// 5432).
    pub fn endpoints(&self) -> Result<Vec<Endpoint>, ConnInfoError> {
        let mut list = self.endpoints_unresolved()?;
        for e in &mut list {
            if e.host.is_empty() && e.hostaddr.is_none() {
                e.host = default_socket_dir(e.port);
            }
        }
        Ok(list)
    }

    fn endpoints_unresolved(&self) -> Result<Vec<Endpoint>, ConnInfoError> {
        let split = |name: &str| -> Vec<String> {
            match self.get(name) {
                Some(v) if !v.is_empty() => v.split(',').map(|s| s.trim().to_string()).collect(),
                _ => Vec::new(),
            }
        };
        let hosts = split("host");
        let addrs = split("hostaddr");
        let ports = split("port");
        let n = hosts.len().max(addrs.len()).max(1);
        if !hosts.is_empty() && !addrs.is_empty() && hosts.len() != addrs.len() {
            return Err(ConnInfoError::HostPortMismatch {
                hosts: hosts.len(),
                ports: addrs.len(),
            });
        }
        if ports.len() > 1 && ports.len() != n {
            return Err(ConnInfoError::HostPortMismatch {
                hosts: n,
                ports: ports.len(),
            });
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let port_text = match ports.len() {
                0 => "",
                1 => ports[0].as_str(),
                _ => ports[i].as_str(),
            };
            let port = if port_text.is_empty() {
                5432
            } else {
                port_text.parse().map_err(|_| ConnInfoError::InvalidValue {
                    parameter: "port",
                    expected: "a port number from 1 to 65535",
                })?
            };
            out.push(Endpoint {
                host: hosts.get(i).cloned().unwrap_or_default(),
                hostaddr: addrs
                    .get(i)
                    .filter(|a| !a.is_empty())
                    .and_then(|a| a.parse().ok()),
                port,
            });
        }
        Ok(out)
    }

    /// The user name to log in as: `user`, else the operating-system user (libpq's
    /// `pg_fe_getauthname`).
    pub fn user(&self) -> String {
        self.get("user")
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .unwrap_or_else(os_user)
    }

    /// The database: `dbname`, else the user name (libpq's default).
    pub fn dbname(&self) -> String {
        self.get("dbname")
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| self.user())
    }

    /// Whether a password was given (in the string or, after [`ConnInfo::with_defaults`], by
    /// `PGPASSWORD` or a service file).
    pub fn has_password(&self) -> bool {
        self.get("password").is_some_and(|p| !p.is_empty())
    }

    /// The password file to use: `passfile`, else `PGPASSFILE` (already merged by
    /// [`ConnInfo::with_defaults`]), else `~/.pgpass`.
    pub fn passfile(&self, home: Option<&Path>) -> Option<PathBuf> {
        match self.get("passfile").filter(|p| !p.is_empty()) {
            Some(p) => Some(PathBuf::from(p)),
            None => home.map(|h| h.join(".pgpass")),
        }
    }

    /// The parameters as a URL without the password (`user:****@` shows that one was given in
    /// the string): what Strata prints as the target. Defaults are not filled in.
    pub fn display(&self) -> String {
        let mut s = String::from("postgresql://");
        let enc = |v: &str| percent_encode(v, URL_PART);
        if let Some(u) = self.get("user").filter(|u| !u.is_empty()) {
            s.push_str(&enc(u));
            if self.has_password() {
                s.push_str(":****");
            }
            s.push('@');
        } else if self.has_password() {
            s.push_str(":****@");
        }
        let hosts = self.get("host").unwrap_or("");
        let ports = self.get("port").unwrap_or("");
        let host_list: Vec<&str> = if hosts.is_empty() {
            Vec::new()
        } else {
            hosts.split(',').collect()
        };
        let port_list: Vec<&str> = if ports.is_empty() {
            Vec::new()
        } else {
            ports.split(',').collect()
        };
        let mut query: Vec<(String, String)> = Vec::new();
        let sockets = host_list.iter().any(|h| is_socket_path(h));
        if sockets {
            query.push(("host".into(), hosts.to_string()));
            if !ports.is_empty() {
                query.push(("port".into(), ports.to_string()));
            }
        } else {
            let n = host_list.len().max(port_list.len().min(1));
            let mut parts = Vec::new();
            for i in 0..n {
                let h = host_list.get(i).copied().unwrap_or("");
                let mut part = if h.contains(':') {
                    format!("[{h}]")
                } else {
                    enc(h)
                };
                let p = match port_list.len() {
                    0 => "",
                    1 => port_list[0],
                    _ => port_list.get(i).copied().unwrap_or(""),
                };
                if !p.is_empty() {
                    part.push(':');
                    part.push_str(p);
                }
                parts.push(part);
            }
            s.push_str(&parts.join(","));
        }
        if let Some(d) = self.get("dbname").filter(|d| !d.is_empty()) {
            s.push('/');
            s.push_str(&enc(d));
        }
        for (k, v) in &self.params {
            if matches!(*k, "user" | "password" | "dbname") || (matches!(*k, "host" | "port")) {
                continue;
            }
            query.push((k.to_string(), v.clone()));
        }
        if !query.is_empty() {
            s.push('?');
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{k}={}", percent_encode(v, QUERY_VALUE)))
                .collect();
            s.push_str(&q.join("&"));
        }
        s
    }

    /// Every parameter, as `(keyword, value)`, password included: for building a connection
    /// or a client program's environment. Never print these.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.params.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The environment variable libpq reads for a parameter, if there is one.
    pub fn env_var(name: &str) -> Option<&'static str> {
        keyword(name).and_then(|k| k.env)
    }
}

/// One host to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// A host name, a numeric address, or a socket directory (starts with `/`). Empty when only
    /// `hostaddr` is given.
    pub host: String,
    pub hostaddr: Option<std::net::IpAddr>,
    pub port: u16,
}

impl Endpoint {
    /// Whether this is a Unix socket (never TLS, as in libpq).
    pub fn is_socket(&self) -> bool {
        self.hostaddr.is_none() && is_socket_path(&self.host)
    }

    /// The name `.pgpass` entries are matched against: the host, else the address; `localhost`
    /// for a socket (libpq's `passwordFromFile`).
    pub fn passfile_host(&self) -> String {
        if self.is_socket() || (self.host.is_empty() && self.hostaddr.is_none()) {
            "localhost".into()
        } else if !self.host.is_empty() {
            self.host.clone()
        } else {
            self.hostaddr.map(|a| a.to_string()).unwrap_or_default()
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_socket() {
            write!(f, "socket {}/.s.PGSQL.{}", self.host, self.port)
        } else if self.host.is_empty() {
            write!(
                f,
                "{}:{}",
                self.hostaddr.map(|a| a.to_string()).unwrap_or_default(),
                self.port
            )
        } else {
            match self.hostaddr {
                Some(a) => write!(f, "{} ({a}):{}", self.host, self.port),
                None => write!(f, "{}:{}", self.host, self.port),
            }
        }
    }
}

/// The operating-system user name, as libpq takes it for the default `user`.
pub fn os_user() -> String {
    #[cfg(unix)]
    {
        // SAFETY: getpwuid_r writes into our buffer; the result pointer is checked before use.
        unsafe {
            let uid = libc::geteuid();
            let mut pwd: libc::passwd = std::mem::zeroed();
            let mut buf = vec![0 as libc::c_char; 4096];
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            if libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) == 0
                && !result.is_null()
                && !pwd.pw_name.is_null()
            {
                return std::ffi::CStr::from_ptr(pwd.pw_name)
                    .to_string_lossy()
                    .into_owned();
            }
        }
    }
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "postgres".into())
}

fn strip_uri_prefix(raw: &str) -> Option<&str> {
    raw.strip_prefix("postgresql://")
        .or_else(|| raw.strip_prefix("postgres://"))
}

/// Refuses a URL whose user-info libpq would cut short. libpq takes the user-info to end at the
/// first `@` before any `/`; an author who wrote a raw `@`, `/` (or `?`, `#` before the `@`) in a
/// password meant it to end at the last `@`. When the two readings differ, the password would
/// leak into the host, port or database, so the URL is refused without being echoed.
fn check_userinfo(rest: &str) -> Result<(), ConnInfoError> {
    let Some(last_at) = rest.rfind('@') else {
        return Ok(());
    };
    let libpq_end = rest.find(['@', '/']);
    if libpq_end != Some(last_at) {
        return Err(ConnInfoError::AmbiguousUserInfo);
    }
    // `?` and `#` are not special to libpq here, but a URL parser (and the reader) would end the
    // authority at them: a password holding them must be percent-encoded to mean one thing.
    if rest[..last_at].contains(['?', '#']) {
        return Err(ConnInfoError::AmbiguousUserInfo);
    }
    Ok(())
}

/// libpq's `conninfo_uri_parse_options`, after the scheme.
fn parse_uri(rest: &str, info: &mut ConnInfo) -> Result<(), ConnInfoError> {
    let b = rest.as_bytes();
    let mut p = 0;
    while p < b.len() && b[p] != b'@' && b[p] != b'/' {
        p += 1;
    }
    if p < b.len() && b[p] == b'@' {
        let userinfo = &rest[..p];
        let (user, password) = match userinfo.find(':') {
            Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            info.params.insert("user", uri_decode(user, Some("user"))?);
        }
        if let Some(pw) = password.filter(|p| !p.is_empty()) {
            info.params
                .insert("password", uri_decode(pw, Some("password"))?);
        }
        p += 1;
    } else {
        p = 0;
    }
    let mut hosts = String::new();
    let mut ports = String::new();
    let mut terminator: Option<u8>;
    loop {
        let host;
        if p < b.len() && b[p] == b'[' {
            let start = p + 1;
            let mut q = start;
            while q < b.len() && b[q] != b']' {
                q += 1;
            }
            if q >= b.len() || q == start {
                return Err(ConnInfoError::BadIpv6Host);
            }
            host = &rest[start..q];
            p = q + 1;
            if p < b.len() && !matches!(b[p], b':' | b'/' | b'?' | b',') {
                return Err(ConnInfoError::UnexpectedAfterIpv6Host);
            }
        } else {
            let start = p;
            while p < b.len() && !matches!(b[p], b':' | b'/' | b'?' | b',') {
                p += 1;
            }
            host = &rest[start..p];
        }
        hosts.push_str(host);
        terminator = b.get(p).copied();
        if terminator == Some(b':') {
            p += 1;
            let start = p;
            while p < b.len() && !matches!(b[p], b'/' | b'?' | b',') {
                p += 1;
            }
            ports.push_str(&rest[start..p]);
            terminator = b.get(p).copied();
        }
        if terminator != Some(b',') {
            break;
        }
        p += 1;
        hosts.push(',');
        ports.push(',');
    }
    if !hosts.is_empty() {
        info.params
            .insert("host", uri_decode(&hosts, Some("host"))?);
    }
    if !ports.is_empty() {
        info.params
            .insert("port", uri_decode(&ports, Some("port"))?);
    }
    if terminator.is_some() && terminator != Some(b'?') {
        // '/': the database name follows, up to '?'.
        p += 1;
        let start = p;
        while p < b.len() && b[p] != b'?' {
            p += 1;
        }
        let dbname = &rest[start..p];
        if !dbname.is_empty() {
            info.params
                .insert("dbname", uri_decode(dbname, Some("dbname"))?);
        }
        terminator = b.get(p).copied();
    }
    if terminator.is_some() {
        parse_uri_params(&rest[p + 1..], info)?;
    }
    Ok(())
}

/// libpq's `conninfo_uri_parse_params`: `key=value` pairs separated by `&`, percent-decoded;
/// `ssl=true` means `sslmode=require` (for JDBC URLs); unknown keys are errors.
fn parse_uri_params(query: &str, info: &mut ConnInfo) -> Result<(), ConnInfoError> {
    for pair in query.split('&') {
        if pair.is_empty() && query.is_empty() {
            break;
        }
        let mut parts = pair.splitn(3, '=');
        let key = parts.next().unwrap_or("");
        let value = parts.next().ok_or(ConnInfoError::BadQueryParameter)?;
        if parts.next().is_some() {
            return Err(ConnInfoError::BadQueryParameter);
        }
        let key = uri_decode(key, None)?;
        let value = uri_decode(value, None)?;
        let (key, value) = if key == "ssl" && value == "true" {
            ("sslmode".to_string(), "require".to_string())
        } else {
            (key, value)
        };
        store(info, &key, value)?;
    }
    Ok(())
}

/// libpq's `conninfo_parse`: `key = value` pairs separated by white space; values may be
/// single-quoted; a backslash escapes the next character in either form.
fn parse_key_values(text: &str, info: &mut ConnInfo) -> Result<(), ConnInfoError> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut name = String::new();
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            name.push(chars[i]);
            i += 1;
        }
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() || chars[i] != '=' {
            return Err(ConnInfoError::MissingEquals {
                position: start + 1,
            });
        }
        i += 1;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(ConnInfoError::UnterminatedQuote),
                    Some('\\') => {
                        i += 1;
                        if let Some(c) = chars.get(i) {
                            value.push(*c);
                            i += 1;
                        }
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' {
                    i += 1;
                    if let Some(c) = chars.get(i) {
                        value.push(*c);
                        i += 1;
                    }
                } else {
                    value.push(chars[i]);
                    i += 1;
                }
            }
        }
        store(info, &name, value)?;
    }
    Ok(())
}

fn store(info: &mut ConnInfo, name: &str, value: String) -> Result<(), ConnInfoError> {
    match keyword(name) {
        Some(k) => {
            info.params.insert(k.name, value);
            Ok(())
        }
        None => Err(ConnInfoError::UnknownParameter {
            suggestion: suggest(name),
        }),
    }
}

/// A known keyword close to `name` (one or two edits), for the "did you mean" of an unknown
/// parameter; the unknown name itself is never repeated.
fn suggest(name: &str) -> Option<&'static str> {
    if name == "pgbouncer" {
        return None;
    }
    KEYWORDS
        .iter()
        .map(|k| (edit_distance(name, k.name), k.name))
        .filter(|(d, k)| *d <= 2 && *d < k.len() / 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// libpq's `conninfo_uri_decode`: `%XX` to the byte; `%00` and malformed escapes are errors.
fn uri_decode(s: &str, parameter: Option<&'static str>) -> Result<String, ConnInfoError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) else {
                return Err(ConnInfoError::BadPercentEncoding { parameter });
            };
            let byte = (h * 16 + l) as u8;
            if byte == 0 {
                return Err(ConnInfoError::BadPercentEncoding { parameter });
            }
            out.push(byte);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ConnInfoError::BadPercentEncoding { parameter })
}

/// Characters left as they are in the user, host and database parts of a displayed URL.
const URL_PART: &[u8] = b"-._~!$&'()*+;=";
/// …and in query values.
const QUERY_VALUE: &[u8] = b"-._~!$'()*+,;:@/";

/// Percent-encodes everything but ASCII letters, digits and `keep`.
pub fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a password for a URL's user-info.
pub fn encode_userinfo(s: &str) -> String {
    percent_encode(s, b"-._~")
}

// ---------------------------------------------------------------------------------------------
// Service files
// ---------------------------------------------------------------------------------------------

/// The parameters of `service` from the first service file that has it (libpq's
/// `parseServiceInfo`): the user's (`PGSERVICEFILE`, else `~/.pg_service.conf`), then the
/// system's (`PGSYSCONFDIR/pg_service.conf`, else the distribution's directory).
fn service_values(
    service: &str,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Vec<(&'static str, String)>, ConnInfoError> {
    let mut files = Vec::new();
    match env("PGSERVICEFILE") {
        Some(f) => files.push(PathBuf::from(f)),
        None => files.extend(home.map(|h| h.join(".pg_service.conf"))),
    }
    match env("PGSYSCONFDIR") {
        Some(d) => files.push(Path::new(&d).join("pg_service.conf")),
        None => {
            files.push(PathBuf::from("/etc/postgresql-common/pg_service.conf"));
            files.push(PathBuf::from("/etc/pg_service.conf"));
        }
    }
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        if let Some(values) = read_service(file, &text, service)? {
            return Ok(values);
        }
    }
    Err(ConnInfoError::UnknownService { files })
}

/// One service's `key=value` lines from a service file's text, if the file has the service.
fn read_service(
    path: &Path,
    text: &str,
    service: &str,
) -> Result<Option<Vec<(&'static str, String)>>, ConnInfoError> {
    let mut in_service = false;
    let mut found = false;
    let mut values = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if found {
                break;
            }
            in_service = name == service;
            found = in_service;
            continue;
        }
        if !in_service {
            continue;
        }
        let (k, v) = line.split_once('=').ok_or(ConnInfoError::ServiceFile {
            path: path.to_path_buf(),
            line: n + 1,
        })?;
        let k = k.trim();
        // A service cannot name another service (libpq refuses nested services).
        if k == "service" {
            return Err(ConnInfoError::ServiceFile {
                path: path.to_path_buf(),
                line: n + 1,
            });
        }
        match keyword(k) {
            Some(kw) => values.push((kw.name, v.trim().to_string())),
            None => {
                return Err(ConnInfoError::ServiceFile {
                    path: path.to_path_buf(),
                    line: n + 1,
                })
            }
        }
    }
    Ok(found.then_some(values))
}

// ---------------------------------------------------------------------------------------------
// The password file
// ---------------------------------------------------------------------------------------------

/// What reading the password file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passfile {
    /// A matching line's password.
    Password(String),
    /// No file, or no matching line.
    None,
    /// The file is readable by group or others; libpq ignores it then, and so does Strata.
    TooOpen(PathBuf),
}

/// Looks up a password in a `.pgpass` file: lines `hostname:port:database:username:password`,
/// `*` matching anything, `\` escaping `:` and `\`, the first matching line winning (libpq's
/// `passwordFromFile`). `host` is [`Endpoint::passfile_host`].
pub fn passfile_password(path: &Path, host: &str, port: u16, dbname: &str, user: &str) -> Passfile {
    let Ok(meta) = std::fs::metadata(path) else {
        return Passfile::None;
    };
    if !meta.is_file() {
        return Passfile::None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Passfile::TooOpen(path.to_path_buf());
        }
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return Passfile::None;
    };
    let port = port.to_string();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_passfile_line(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if matches(&fields[0], host)
            && matches(&fields[1], &port)
            && matches(&fields[2], dbname)
            && matches(&fields[3], user)
        {
            return Passfile::Password(fields[4..].join(":"));
        }
    }
    Passfile::None
}

/// Splits a `.pgpass` line at unescaped `:`, removing the escapes.
fn split_passfile_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("one field").push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ConnInfo {
        ConnInfo::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn urls_as_libpq_reads_them() {
        let c = p("postgresql://app:s3cr%40t@db.example.com:6432/app_db?sslmode=require&application_name=x");
        assert_eq!(c.get("user"), Some("app"));
        assert_eq!(c.get("password"), Some("s3cr@t"));
        assert_eq!(c.get("host"), Some("db.example.com"));
        assert_eq!(c.get("port"), Some("6432"));
        assert_eq!(c.get("dbname"), Some("app_db"));
        assert_eq!(c.get("sslmode"), Some("require"));
        assert_eq!(c.get("application_name"), Some("x"));

        // No host: the default socket; no user, no database.
        let c = p("postgresql://user@/db");
        assert_eq!(c.get("host"), None);
        assert_eq!(c.get("dbname"), Some("db"));
        let c = p("postgres://");
        assert_eq!(c, ConnInfo::default());
        // A socket directory percent-encoded as the host, or given as a parameter.
        assert_eq!(
            p("postgresql://%2Fvar%2Frun%2Fpostgresql/db").get("host"),
            Some("/var/run/postgresql")
        );
        assert_eq!(p("postgresql:///db?host=/tmp").get("host"), Some("/tmp"));
        // Several hosts, IPv6.
        let c = p("postgresql://h1:5433,[::1]:5434,h3/db");
        assert_eq!(c.get("host"), Some("h1,::1,h3"));
        assert_eq!(c.get("port"), Some("5433,5434,"));
        let e = c.endpoints().unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[2].port, 5432);
        // JDBC's ssl=true.
        assert_eq!(
            p("postgresql://h/d?ssl=true").get("sslmode"),
            Some("require")
        );
        // Password without user.
        let c = p("postgresql://:pw@h/d");
        assert_eq!(c.get("user"), None);
        assert_eq!(c.get("password"), Some("pw"));
        // Empty query parameter value.
        assert_eq!(p("postgresql://h/d?options=").get("options"), Some(""));
    }

    #[test]
    fn key_value_strings_as_libpq_reads_them() {
        let c = p("host=h port = 5433 user=u password='a b\\'c' dbname=d\\ x");
        assert_eq!(c.get("host"), Some("h"));
        assert_eq!(c.get("port"), Some("5433"));
        assert_eq!(c.get("password"), Some("a b'c"));
        assert_eq!(c.get("dbname"), Some("d x"));
        assert_eq!(
            ConnInfo::parse("host=h password='abc").unwrap_err(),
            ConnInfoError::UnterminatedQuote
        );
        assert!(matches!(
            ConnInfo::parse("host=h secret"),
            Err(ConnInfoError::MissingEquals { position: 8 })
        ));
    }

    #[test]
    fn errors_never_repeat_values() {
        for (input, fragment) in [
            ("postgresql://u:p/q@r@host/db", "q@r"),
            ("postgresql://u:a#b@c:d@host/db", "c:d"),
            ("postgresql://u:pa?ss@host/db", "pa?ss"),
            ("postgresql://u:secretword%zz@host/db", "secretword"),
            ("postgresql://u:pw@host:notaport/db", "notaport"),
            ("host=h password=abcd efgh=ij", "efgh"),
            ("host=h password=abcd efgh", "efgh"),
            ("postgresql://u@h/d?passwrod=hunter22", "hunter22"),
            ("justapasswordlikeword", "justapasswordlikeword"),
        ] {
            let e = ConnInfo::parse(input).unwrap_err();
            let text = format!("{e} {}", e.hint());
            assert!(!text.contains(fragment), "{input}: {text}");
        }
        assert_eq!(
            ConnInfo::parse("postgresql://u@h/d?passwrod=x").unwrap_err(),
            ConnInfoError::UnknownParameter {
                suggestion: Some("password")
            }
        );
    }

    #[test]
    fn raw_reserved_characters_in_the_password_are_refused() {
        for url in [
            "postgresql://u:p/q@r/db",
            "postgresql://u:a@b@host/db",
            "postgresql://u:a#b@host/db",
            "postgresql://u:a?b@host/db",
        ] {
            assert_eq!(
                ConnInfo::parse(url).unwrap_err(),
                ConnInfoError::AmbiguousUserInfo,
                "{url}"
            );
        }
        // Percent-encoded, the same passwords are fine.
        let c = p("postgresql://u:a%40b%2Fc%23d%3Fe@host/db");
        assert_eq!(c.get("password"), Some("a@b/c#d?e"));
        // A space and other unreserved-enough characters are taken as libpq takes them.
        assert_eq!(
            p("postgresql://u:a b!$&'()*+,;=@h/d").get("password"),
            Some("a b!$&'()*+,;=")
        );
    }

    #[test]
    fn unsupported_and_invalid_values_are_named() {
        assert_eq!(
            ConnInfo::parse("postgresql://h/d?sslcert=/x.pem").unwrap_err(),
            ConnInfoError::Unsupported {
                parameter: "sslcert"
            }
        );
        assert!(matches!(
            ConnInfo::parse("postgresql://h/d?sslmode=sometimes"),
            Err(ConnInfoError::InvalidValue {
                parameter: "sslmode",
                ..
            })
        ));
        assert!(matches!(
            ConnInfo::parse("host=a,b port=1,2,3"),
            Err(ConnInfoError::HostPortMismatch { hosts: 2, ports: 3 })
        ));
    }

    #[test]
    fn defaults_come_from_the_environment_and_lose_to_the_string() {
        let env = |k: &str| match k {
            "PGHOST" => Some("envhost".to_string()),
            "PGPORT" => Some("6000".to_string()),
            "PGUSER" => Some("envuser".to_string()),
            "PGPASSWORD" => Some("envpw".to_string()),
            "PGSSLMODE" => Some("require".to_string()),
            _ => None,
        };
        let c = p("postgresql://u@/db").with_defaults(&env, None).unwrap();
        assert_eq!(c.get("host"), Some("envhost"));
        assert_eq!(c.get("port"), Some("6000"));
        assert_eq!(c.get("user"), Some("u"));
        assert_eq!(c.get("password"), Some("envpw"));
        assert_eq!(c.get("sslmode"), Some("require"));
        assert_eq!(c.dbname(), "db");
        let c = p("host=h").with_defaults(&|_| None, None).unwrap();
        assert_eq!(c.dbname(), c.user());
    }

    #[test]
    fn services_fill_in_before_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("svc.conf");
        std::fs::write(
            &file,
            "# comment\n[other]\nhost=nope\n[mydb]\nhost=svchost\nport=7000\ndbname=svcdb\n",
        )
        .unwrap();
        let file_s = file.display().to_string();
        let env = move |k: &str| match k {
            "PGSERVICEFILE" => Some(file_s.clone()),
            "PGSYSCONFDIR" => Some("/nonexistent".into()),
            "PGPORT" => Some("6000".into()),
            _ => None,
        };
        let c = p("service=mydb dbname=mine")
            .with_defaults(&env, None)
            .unwrap();
        assert_eq!(c.get("host"), Some("svchost"));
        assert_eq!(c.get("port"), Some("7000"));
        assert_eq!(c.get("dbname"), Some("mine"));
        assert!(matches!(
            p("service=missing").with_defaults(&env, None),
            Err(ConnInfoError::UnknownService { .. })
        ));
    }

    #[test]
    fn pgpass_lines_match_as_libpq_matches_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# c\nother:*:*:*:nope\nlocalhost:5432:app:u:sock\\:pw\n*:*:*:u:any:thing\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            passfile_password(&file, "localhost", 5432, "app", "u"),
            Passfile::Password("sock:pw".into())
        );
        assert_eq!(
            passfile_password(&file, "db.example.com", 6000, "x", "u"),
            Passfile::Password("any:thing".into())
        );
        assert_eq!(passfile_password(&file, "h", 1, "x", "v"), Passfile::None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            passfile_password(&file, "h", 1, "x", "u"),
            Passfile::TooOpen(file.clone())
        );
        let sock = Endpoint {
            host: "/var/run/postgresql".into(),
            hostaddr: None,
            port: 5432,
        };
        assert_eq!(sock.passfile_host(), "localhost");
    }

    #[test]
    fn display_never_shows_the_password() {
        for (input, shown) in [
            (
                "postgresql://app:s3cret@db.example.com:5432/app?sslmode=require",
                "postgresql://app:****@db.example.com:5432/app?sslmode=require",
            ),
            ("host=h user=u password='a b'", "postgresql://u:****@h"),
            ("postgresql://u@/db", "postgresql://u@/db"),
            (
                "host=/var/run/postgresql dbname=d",
                "postgresql:///d?host=/var/run/postgresql",
            ),
            ("postgresql://[::1]:5433/d", "postgresql://[::1]:5433/d"),
        ] {
            assert_eq!(p(input).display(), shown, "{input}");
        }
    }
}
