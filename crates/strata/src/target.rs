//! Targets: which database a command works on, and connecting to it.
//!
//! Precedence: `--db-url` > `--env NAME` > `--linked` > `DATABASE_URL` > the local cluster.
//! TLS follows libpq's `sslmode` (disable, allow/prefer, require, verify-ca, verify-full) and
//! `sslrootcert`, implemented with rustls. Passwords never leave this module unredacted:
//! [`Target::display`] and every error use [`redact`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config as PgConfig};

use crate::config::{parse_duration, Project};
use crate::error::Error;

/// Where a target came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetSource {
    /// `--db-url`.
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
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
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

/// A database to work on.
#[derive(Clone)]
pub struct Target {
    pub source: TargetSource,
    url: String,
    pub tls: TlsMode,
    root_cert: Option<PathBuf>,
    pub settings: SessionSettings,
    /// Connect to this database instead of the URL's (scratch databases on the same server).
    database: Option<String>,
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

/// How [`Target::resolve`] found the target, before connecting.
#[derive(Debug)]
pub enum Resolved {
    /// A URL to connect to.
    Remote(Target),
    /// The local cluster: start it, then [`Target::local`].
    Local { settings: SessionSettings },
}

impl Target {
    /// Builds a target from a connection string (URL or `key=value` form).
    pub fn from_url(
        url: &str,
        source: TargetSource,
        settings: SessionSettings,
    ) -> Result<Target, Error> {
        let (url, tls, root_cert) = split_tls_params(url)?;
        // Validate now so that a malformed URL is an error before anything runs.
        url.parse::<PgConfig>().map_err(|e| Error::Setting {
            setting: setting_name(&source),
            message: format!("malformed connection string {}: {e}", redact(&url)),
            hint: Some(
                "write it as postgresql://user:password@host:5432/database?sslmode=require".into(),
            ),
        })?;
        Ok(Target {
            source,
            url,
            tls,
            root_cert,
            settings,
            database: None,
        })
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
                        "export SUPABASE_DB_PASSWORD=... (in CI: from a secret) or put it in .env"
                            .into(),
                    ),
                })?;
            let url = linked_url(&project_ref, &password);
            return Target::from_url(&url, TargetSource::Linked { project_ref }, settings)
                .map(Resolved::Remote);
        }
        if let Some(url) = project.var("DATABASE_URL") {
            return Target::from_url(&url, TargetSource::DatabaseUrl, settings)
                .map(Resolved::Remote);
        }
        Ok(Resolved::Local { settings })
    }

    /// The connection string with its password replaced by `****`.
    pub fn display(&self) -> String {
        match &self.database {
            Some(db) => format!("{} (database {db})", redact(&self.url)),
            None => redact(&self.url),
        }
    }

    /// The `sslrootcert` given in the connection string, if any.
    pub fn root_cert(&self) -> Option<&Path> {
        self.root_cert.as_deref()
    }

    /// The database name the target connects to.
    pub fn database(&self) -> Option<String> {
        if let Some(db) = &self.database {
            return Some(db.clone());
        }
        self.url
            .parse::<PgConfig>()
            .ok()
            .and_then(|c| c.get_dbname().map(str::to_string))
    }

    /// The connection parameters for tokio-postgres, with Strata's application name and the
    /// session settings as startup options (so `RESET ALL` returns to them).
    pub fn pg_config(&self) -> Result<PgConfig, Error> {
        let mut config: PgConfig = self.url.parse().map_err(|e| Error::Setting {
            setting: setting_name(&self.source),
            message: format!("malformed connection string {}: {e}", self.display()),
            hint: None,
        })?;
        if let Some(db) = &self.database {
            config.dbname(db);
        }
        if config.get_application_name().is_none() {
            config.application_name("strata");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let mut options = config.get_options().unwrap_or_default().to_string();
        if let Some(d) = self.settings.lock_timeout {
            options.push_str(&format!(" -c lock_timeout={}", d.as_millis()));
        }
        if let Some(d) = self.settings.statement_timeout {
            options.push_str(&format!(" -c statement_timeout={}", d.as_millis()));
        }
        if !options.trim().is_empty() {
            config.options(options.trim());
        }
        config.ssl_mode(match self.tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        Ok(config)
    }

    /// Connects, returning the client; the connection is driven on a spawned task.
    pub async fn connect(&self) -> Result<Client, Error> {
        let config = self.pg_config()?;
        let result = if self.tls == TlsMode::Disable {
            match config.connect(tokio_postgres::NoTls).await {
                Ok((client, conn)) => {
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    Ok(client)
                }
                Err(e) => Err(e),
            }
        } else {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.rustls_config()?);
            match config.connect(tls).await {
                Ok((client, conn)) => {
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    Ok(client)
                }
                Err(e) => Err(e),
            }
        };
        result.map_err(|e| self.connect_error(e))
    }

    fn connect_error(&self, e: tokio_postgres::Error) -> Error {
        let target = self.display();
        if let Some(db) = e.as_db_error() {
            let (message, hint) = match db.code().code() {
                "28P01" => (
                    "password authentication failed".to_string(),
                    Some("check the password in the URL or the variable it comes from".to_string()),
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
        let hint = if message.contains("refused") {
            Some("is the server running and listening on that host and port?".into())
        } else if message.contains("failed to lookup") || message.contains("resolve") {
            Some("check the host name in the URL".into())
        } else if message.contains("timed out") {
            Some("the host did not answer: check the address, port and firewall".into())
        } else if message.contains("certificate") || message.contains("tls") {
            Some("check sslmode and sslrootcert; sslmode=require encrypts without verifying the certificate".into())
        } else if message.contains("server does not support TLS") {
            Some("use sslmode=prefer or sslmode=disable for this server".into())
        } else {
            None
        };
        Error::Connect {
            target,
            message: redact(&message),
            hint,
        }
    }

    fn rustls_config(&self) -> Result<rustls::ClientConfig, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::setting("sslmode", e.to_string()))?;
        // libpq: with sslmode=require and a root certificate given, behave like verify-ca.
        let mode = match (self.tls, &self.root_cert) {
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
        Ok(config)
    }

    fn root_store(&self) -> Result<rustls::RootCertStore, Error> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::CertificateDer;
        let mut store = rustls::RootCertStore::empty();
        let default_file = std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(".postgresql/root.crt"))
            .filter(|p| p.is_file());
        let file = match &self.root_cert {
            Some(p) if p.as_os_str() == "system" => None,
            Some(p) => Some(p.clone()),
            None => default_file,
        };
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

fn setting_name(source: &TargetSource) -> String {
    match source {
        TargetSource::DbUrl => "--db-url".into(),
        TargetSource::Environment { name } => format!("environments.{name}.url"),
        TargetSource::Linked { .. } => "--linked".into(),
        TargetSource::DatabaseUrl => "DATABASE_URL".into(),
        TargetSource::Local => "local cluster".into(),
        TargetSource::Scratch => crate::scratch::SCRATCH_URL_VAR.into(),
    }
}

/// The Supabase project recorded by `strata link` (or by the Supabase CLI's `supabase link`).
pub fn linked_project_ref(project: &Project) -> Result<Option<String>, Error> {
    for path in [
        project.state_dir().join("project-ref"),
        project.root.join("supabase/.temp/project-ref"),
    ] {
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
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
        percent_encode(password)
    )
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (tokio-postgres knows only
/// disable/prefer/require), returning the rest and the TLS settings.
fn split_tls_params(url: &str) -> Result<(String, TlsMode, Option<PathBuf>), Error> {
    let mut mode = None;
    let mut root = None;
    let mut take = |key: &str, value: &str| -> Result<bool, Error> {
        match key {
            "sslmode" => {
                mode = Some(TlsMode::parse(value).ok_or_else(|| Error::Setting {
                    setting: "sslmode".into(),
                    message: format!("unknown sslmode `{value}`"),
                    hint: Some("use disable, prefer, require, verify-ca or verify-full".into()),
                })?);
                Ok(true)
            }
            "sslrootcert" => {
                root = Some(PathBuf::from(value));
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    if !take(k, &percent_decode(v))? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_string(),
        }
    } else {
        let mut kept = Vec::new();
        for part in url.split_whitespace() {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            if !take(k.trim(), v.trim_matches('\''))? {
                kept.push(part);
            }
        }
        kept.join(" ")
    };
    Ok((rest, mode.unwrap_or(TlsMode::Prefer), root))
}

/// Replaces the password in anything that may hold a connection string: the `user:password@`
/// part of URLs and `password=` parameters.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // URLs: scheme://user:password@host
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '/' || c == '?' || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":****");
                        out.push_str(&authority[at..]);
                    }
                    None => out.push_str(authority),
                }
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    // password=... in query strings and key/value strings.
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
            let end = tail
                .find(|c: char| c == '&' || c.is_whitespace())
                .unwrap_or(tail.len());
            result.push_str("****");
            rest = &tail[end..];
        } else {
            rest = tail;
        }
    }
    result.push_str(rest);
    result
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
            redact("postgresql://h/d?user=u&password=x&sslmode=require"),
            "postgresql://h/d?user=u&password=****&sslmode=require"
        );
        assert_eq!(redact("postgresql://u@h/d"), "postgresql://u@h/d");
    }

    #[test]
    fn takes_tls_params_out_of_urls() {
        let (rest, mode, root) = split_tls_params(
            "postgresql://u@h/d?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x",
        )
        .unwrap();
        assert_eq!(rest, "postgresql://u@h/d?application_name=x");
        assert_eq!(mode, TlsMode::VerifyFull);
        assert_eq!(root, Some(PathBuf::from("/tmp/ca.pem")));
        let (rest, mode, _) = split_tls_params("host=h sslmode=require user=u").unwrap();
        assert_eq!(rest, "host=h user=u");
        assert_eq!(mode, TlsMode::Require);
        assert!(split_tls_params("postgresql://h/d?sslmode=sometimes").is_err());
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
        let err = Target::from_url(
            "postgresql://u:secret@h:notaport/d",
            TargetSource::DbUrl,
            SessionSettings::default(),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("secret"), "{msg}");
        assert!(msg.contains("--db-url") || err.to_json()["details"]["setting"] == "--db-url");
    }
}
