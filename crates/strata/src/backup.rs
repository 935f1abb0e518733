//! Backups with PostgreSQL's own tools: `pg_dump --format=custom` before a push (or on demand)
//! and `pg_restore` of such an archive.
//!
//! - The tools are found in `STRATA_PG_BINDIR` when it is set, else among the server binaries
//!   the local cluster would use, the usual package directories and `PATH`; the newest major
//!   version wins. A `pg_dump` older than the target server refuses to dump it, so that case is
//!   a clear error naming both versions, before anything runs.
//! - Connection parameters travel in the environment (`PGHOST`, `PGUSER`, `PGPASSWORD`,
//!   `PGSSLMODE`, `PGSSLROOTCERT` …), never on the command line where `ps` shows them; the tools'
//!   messages are shown with the password redacted.
//! - A restore runs under the migration lock (no push or rollback in between) as one
//!   transaction (`--single-transaction --exit-on-error`): it restores everything or nothing.
//!   `--clean --if-exists` drops each object of the archive before recreating it, so restoring
//!   over the same database gives back its schema, data and history as they were at the dump.
//!   `--no-owner` recreates objects as the connecting user (the usual case: the same user that
//!   owned them; a hosted platform's other owners cannot be assumed anyway).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Error;
use crate::lock;
use crate::source::Version;
use crate::target::{redact, Target, TlsMode};

/// A PostgreSQL version as `server_version_num` spells it: 150014 for 15.14, 90624 for 9.6.24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PgVersion(pub u32);

impl PgVersion {
    /// Parses `15.14`, `16beta2`, `9.6.24`, or a tool's `--version` line such as
    /// `pg_dump (PostgreSQL) 15.14 (Ubuntu 15.14-1.pgdg22.04+1)`.
    pub fn parse(text: &str) -> Option<PgVersion> {
        let token = match text.find(')') {
            Some(i) if text.contains("(PostgreSQL)") => text[i + 1..].split_whitespace().next()?,
            _ => text.split_whitespace().next()?,
        };
        let mut parts = token.split('.').map(|p| {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let major = parts.next()??;
        let second = parts.next().flatten().unwrap_or(0);
        if major >= 10 {
            Some(PgVersion(major * 10000 + second))
        } else {
            let third = parts.next().flatten().unwrap_or(0);
            Some(PgVersion(major * 10000 + second * 100 + third))
        }
    }

    /// The major version: `15`, or `9.6` before PostgreSQL 10.
    pub fn major(&self) -> String {
        if self.0 >= 100000 {
            (self.0 / 10000).to_string()
        } else {
            format!("{}.{}", self.0 / 10000, self.0 / 100 % 100)
        }
    }

    fn major_num(&self) -> u32 {
        if self.0 >= 100000 {
            self.0 / 10000 * 10000
        } else {
            self.0 / 100 * 100
        }
    }
}

impl std::fmt::Display for PgVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 >= 100000 {
            write!(f, "{}.{}", self.0 / 10000, self.0 % 10000)
        } else {
            write!(
                f,
                "{}.{}.{}",
                self.0 / 10000,
                self.0 / 100 % 100,
                self.0 % 100
            )
        }
    }
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`) and its version.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub path: PathBuf,
    pub version: PgVersion,
}

/// `pg_dump` refuses servers of a newer major version than its own: say so before running it.
pub fn check_dump_version(tool: &Tool, server: PgVersion) -> Result<(), Error> {
    if tool.version.major_num() >= server.major_num() {
        return Ok(());
    }
    Err(Error::Tool {
        tool: tool.path.display().to_string(),
        message: format!(
            "{} is version {}, older than the target server (PostgreSQL {}): it cannot dump a newer server",
            tool.path.display(),
            tool.version,
            server
        ),
        hint: Some(format!(
            "install the PostgreSQL {m} client tools (e.g. apt-get install postgresql-client-{m}, brew install postgresql@{m}), or set STRATA_PG_BINDIR to a directory holding pg_dump {m} or newer",
            m = server.major()
        )),
    })
}

/// Finds `name` (`pg_dump`, `pg_restore`): in `STRATA_PG_BINDIR` alone when set, else the newest
/// of the local cluster's server binaries, `pg_config --bindir`, the package directories
/// ([`crate::local::well_known_candidates`], shared with the local cluster) and `PATH`.
pub fn find_tool(name: &str) -> Result<Tool, Error> {
    if let Some(dir) = std::env::var_os(crate::local::BINDIR_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(dir).join(name);
        return match tool_version(&path) {
            Some(version) => Ok(Tool { path, version }),
            None => Err(Error::Tool {
                tool: name.into(),
                message: format!(
                    "{}={} holds no working {name}",
                    crate::local::BINDIR_ENV,
                    path.parent().unwrap_or(Path::new("")).display()
                ),
                hint: Some(format!(
                    "point {} at a PostgreSQL bin directory (one holding {name}), or unset it",
                    crate::local::BINDIR_ENV
                )),
            }),
        };
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(b) = crate::local::find_server_binaries() {
        dirs.push(b.bin_dir);
    }
    // The package directories the local cluster's binaries are looked for in (one list).
    dirs.extend(crate::local::pg_config_candidate());
    dirs.extend(crate::local::well_known_candidates());
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let mut best: Option<Tool> = None;
    let mut seen = Vec::new();
    for dir in dirs {
        let path = dir.join(name);
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !path.is_file() || seen.contains(&canonical) {
            continue;
        }
        seen.push(canonical);
        if let Some(version) = tool_version(&path) {
            if best.as_ref().is_none_or(|b| version > b.version) {
                best = Some(Tool { path, version });
            }
        }
    }
    best.ok_or_else(|| Error::Tool {
        tool: name.into(),
        message: format!("{name} was not found (looked in the local cluster's binaries, `pg_config --bindir`, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, /usr/local/pgsql/bin, Homebrew and Postgres.app locations, and PATH)"),
        hint: Some(format!(
            "install the PostgreSQL client tools (e.g. apt-get install postgresql-client), or set {} to the directory holding {name}",
            crate::local::BINDIR_ENV
        )),
    })
}

fn tool_version(path: &Path) -> Option<PgVersion> {
    let out = Command::new(path).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    PgVersion::parse(String::from_utf8_lossy(&out.stdout).trim())
}

/// A backup that was written.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// The archive (`pg_dump --format=custom`).
    pub file: PathBuf,
    /// The target, password redacted.
    pub target: String,
    pub database: String,
    pub bytes: u64,
    pub duration_ms: u64,
    pub pg_dump: Tool,
    pub server_version: PgVersion,
}

/// A restore that completed.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub file: PathBuf,
    /// The target, password redacted.
    pub target: String,
    pub database: String,
    pub duration_ms: u64,
    pub lock_waited_ms: u64,
    pub pg_restore: Tool,
    /// Versions recorded as applied before the restore that the backup's history does not hold
    /// (applied after the backup). Objects they created that are not in the backup remain.
    pub unrecorded: Vec<String>,
    /// The database the archive was dumped from (its `dbname`), when the archive says.
    pub archive_database: Option<String>,
}

/// `text` as a part of a file name that no other text maps to: ASCII letters, digits, `.`, `-`
/// and `_` kept, every other byte percent-encoded (`%20` for a space, `%2B` for `+`, which
/// separates the parts of a backup's name).
pub fn file_safe(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.starts_with('.') {
        out.replace_range(0..1, "%2E");
    }
    out
}

/// A run's id: what tells apart two backups of one database taken in the same second by two
/// runs (12 hex digits from the process id and the clock).
pub fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed = (nanos as u64) ^ ((std::process::id() as u64) << 40);
    format!("{:012x}", mixed & 0xffff_ffff_ffff)
}

/// Where a backup goes — the one naming rule of `strata backup`, `push --backup` and fleet
/// backups: `<state_dir>/backups/<host>+<port>+<database>+<UTC yyyymmddTHHMMSSZ>+<run id>
/// [+before-<version>].dump`, each part [`file_safe`] (so `+` only ever separates parts):
/// databases whose names differ only in characters a file name cannot hold, or two databases of
/// one name on two servers, never share a file.
pub fn backup_path(
    state_dir: &Path,
    target: &Target,
    now: time::OffsetDateTime,
    run_id: &str,
    before: Option<&Version>,
) -> PathBuf {
    let db = file_safe(&target.database().unwrap_or_default());
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let server = target.server_label();
    let tail = match before {
        Some(v) => format!("+{stamp}+{run_id}+before-{v}.dump"),
        None => format!("+{stamp}+{run_id}.dump"),
    };
    // A file name holds at most 255 bytes: a long (or non-ASCII, three bytes a character once
    // encoded) server or database name is cut, and a hash of the whole name keeps it apart.
    let room = MAX_NAME.saturating_sub(tail.len() + 1);
    let (server, db) = if server.len() + db.len() <= room {
        (server, db)
    } else {
        let server = shorten(&server, room / 2);
        let db = shorten(&db, room.saturating_sub(server.len()));
        (server, db)
    };
    state_dir
        .join("backups")
        .join(format!("{server}+{db}{tail}"))
}

/// The longest file name a backup gets (filesystems allow 255 bytes).
const MAX_NAME: usize = 240;

/// `part` cut to at most `max` bytes — never inside a `%XX` — with `~` and 12 hex digits of its
/// SHA-256 after the cut; as it is when it fits.
fn shorten(part: &str, max: usize) -> String {
    if part.len() <= max {
        return part.to_string();
    }
    use sha2::{Digest, Sha256};
    let hash = hex::encode(Sha256::digest(part.as_bytes()));
    let keep = max.saturating_sub(13);
    let mut cut = keep.min(part.len());
    // Back off to the start of a `%XX` the cut would split.
    if let Some(p) = part[..cut].rfind('%') {
        if cut - p < 3 {
            cut = p;
        }
    }
    format!("{}~{}", &part[..cut], &hash[..12])
}

/// Dumps `target` with `pg_dump --format=custom` into `file` (its directory is created). A
/// failed dump leaves no file behind.
pub async fn backup(target: &Target, file: &Path) -> Result<BackupReport, Error> {
    let start = Instant::now();
    let client = target.connect().await?;
    let server = server_version(&client).await?;
    drop(client);
    let tool = find_tool("pg_dump")?;
    check_dump_version(&tool, server)?;
    let conn = Connection::of(target)?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    // The file is created here, new: an existing backup is never replaced.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Setting {
                setting: "--file".into(),
                message: format!("{} exists; a backup never replaces a file", file.display()),
                hint: Some("name another file, or move that one away".into()),
            },
            _ => Error::io("create", file, e),
        })?;
    let mut cmd = Command::new(&tool.path);
    cmd.arg("--format=custom")
        .arg("--no-password")
        .arg("--file")
        .arg(file)
        .arg("--dbname")
        .arg(&conn.dbname_conninfo);
    conn.apply(&mut cmd, tool.version);
    let partial = file.to_path_buf();
    if let Err(e) = run(cmd, &tool, &conn).await {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    // Only a backup that is there is reported.
    let bytes = std::fs::metadata(file)
        .map(|m| m.len())
        .map_err(|e| Error::io("read", file, e))?;
    if bytes == 0 {
        let _ = std::fs::remove_file(file);
        return Err(Error::Tool {
            tool: "pg_dump".into(),
            message: format!("pg_dump wrote nothing into {}", file.display()),
            hint: None,
        });
    }
    Ok(BackupReport {
        file: file.to_path_buf(),
        target: target.display(),
        database: conn.database,
        bytes,
        duration_ms: start.elapsed().as_millis() as u64,
        pg_dump: tool,
        server_version: server,
    })
}

/// Restores the archive `file` into `target`: every object in it is dropped and recreated with
/// its data, in one transaction, under the migration lock. Objects created after the dump are
/// left alone (a restore fails, changing nothing, when one depends on an object of the dump).
pub async fn restore(
    target: &Target,
    file: &Path,
    lock_wait: Duration,
) -> Result<RestoreReport, Error> {
    let start = Instant::now();
    if !file.is_file() {
        return Err(Error::Setting {
            setting: "FILE".into(),
            message: format!(
                "backup {} {}",
                file.display(),
                if file.is_dir() { "is a directory" } else { "does not exist" }
            ),
            hint: Some(
                "pass a file written by `strata backup` or `strata push --backup` (they are in .strata/backups/)"
                    .into(),
            ),
        });
    }
    let tool = find_tool("pg_restore")?;
    // Read the archive's table of contents first: a file that is not an archive (or is from a
    // newer pg_dump) fails here, before the lock and before the database is touched.
    let mut list = Command::new(&tool.path);
    list.arg("--list").arg(file);
    let listing = run_plain(list, &tool).await?;
    if !listing.contains("Archive created at") {
        return Err(Error::Tool {
            tool: tool.path.display().to_string(),
            message: format!("{} is not a pg_dump custom-format archive", file.display()),
            hint: Some("restore files written by `strata backup` or `strata push --backup`".into()),
        });
    }
    let archive_database = listing
        .lines()
        .find_map(|l| l.trim_start_matches(';').trim().strip_prefix("dbname:"))
        .map(|d| d.trim().to_string());
    let conn = Connection::of(target)?;
    let client = target.connect().await?;
    let display = target.display();
    let waited = lock::acquire(&client, lock_wait, &display, |_| {}).await?;
    let before = crate::history::History::read(&client).await;
    // pg_dump writes each object's grants against the built-in defaults; the restoring role's
    // own default privileges (`ALTER DEFAULT PRIVILEGES`, which the Supabase platform sets for
    // the API roles) would add to every object pg_restore creates — `anon` could then execute a
    // function the backup kept from it. They are reset first; the archive brings back its own.
    let defaults = match own_default_privileges(&client).await {
        Ok(d) => d,
        Err(e) => {
            let _ = lock::release(&client).await;
            return Err(e);
        }
    };
    if let Err(e) = client.batch_execute(&defaults.reset).await {
        let _ = lock::release(&client).await;
        return Err(Error::db(
            "resetting the default privileges before the restore",
            e,
        ));
    }
    let mut cmd = Command::new(&tool.path);
    cmd.args([
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
    ])
    .arg("--dbname")
    .arg(&conn.dbname_conninfo)
    .arg(file);
    conn.apply(&mut cmd, tool.version);
    let result = run(cmd, &tool, &conn).await;
    if result.is_err() {
        // Nothing was restored: the default privileges go back as they were.
        let _ = client.batch_execute(&defaults.put_back).await;
    }
    let released = lock::release(&client).await;
    result.map_err(|e| match e {
        Error::Tool { tool, message, .. } => Error::Tool {
            tool,
            message: format!("restore failed; it ran in one transaction, so nothing was changed: {message}"),
            hint: Some(
                "if an object created after the backup depends on one in it, drop that object (or roll back the migrations applied since) and restore again; or restore into a new, empty database"
                    .into(),
            ),
        },
        other => other,
    })?;
    released?;
    let after = crate::history::History::read(&client).await?;
    let unrecorded = before?
        .applied
        .iter()
        .filter(|b| !after.applied.iter().any(|a| a.version == b.version))
        .map(|b| b.version.to_string())
        .collect();
    Ok(RestoreReport {
        file: file.to_path_buf(),
        target: display,
        database: conn.database,
        duration_ms: start.elapsed().as_millis() as u64,
        lock_waited_ms: waited.waited.as_millis() as u64,
        pg_restore: tool,
        unrecorded,
        archive_database,
    })
}

/// The connected role's default privileges as two scripts: one that resets them to PostgreSQL's
/// built-in defaults, one that puts them back.
struct DefaultPrivileges {
    reset: String,
    put_back: String,
}

async fn own_default_privileges(
    client: &tokio_postgres::Client,
) -> Result<DefaultPrivileges, Error> {
    let rows = client
        .query(
            "SELECT d.defaclnamespace <> 0, coalesce(n.nspname::text, ''), d.defaclobjtype::text, \
                    CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END, \
                    x.privilege_type, x.is_grantable \
               FROM pg_catalog.pg_default_acl d \
               LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace \
               CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) x \
              WHERE d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) \
              ORDER BY 1, 2, 3, 4, 5",
            &[],
        )
        .await
        .map_err(|e| Error::db("reading the default privileges before the restore", e))?;
    let me: String = client
        .query_one("SELECT pg_catalog.quote_ident(current_user)", &[])
        .await
        .map_err(|e| Error::db("reading the current role", e))?
        .get(0);
    let mut reset = String::from("BEGIN;\n");
    let mut put_back = String::from("BEGIN;\n");
    let mut globals = std::collections::BTreeSet::new();
    for r in &rows {
        let (in_schema, schema, objtype, grantee, privilege, grantable): (
            bool,
            String,
            String,
            String,
            String,
            bool,
        ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        let objects = match objtype.as_str() {
            "r" => "TABLES",
            "S" => "SEQUENCES",
            "f" => "FUNCTIONS",
            "T" => "TYPES",
            "n" => "SCHEMAS",
            _ => continue,
        };
        let scope = if in_schema {
            format!(" IN SCHEMA {}", crate::quote::ident(&schema))
        } else {
            String::new()
        };
        if !in_schema && globals.insert(objects) {
            // A global entry replaces the built-in default: put back means clearing that first.
            put_back.push_str(&format!(
                "ALTER DEFAULT PRIVILEGES REVOKE ALL ON {objects} FROM PUBLIC, {me};\n"
            ));
        }
        reset.push_str(&format!(
            "ALTER DEFAULT PRIVILEGES{scope} REVOKE ALL ON {objects} FROM {grantee};\n"
        ));
        put_back.push_str(&format!(
            "ALTER DEFAULT PRIVILEGES{scope} GRANT {privilege} ON {objects} TO {grantee}{};\n",
            if grantable { " WITH GRANT OPTION" } else { "" }
        ));
    }
    // The built-in defaults where a global entry had replaced them.
    for objects in &globals {
        reset.push_str(&format!(
            "ALTER DEFAULT PRIVILEGES GRANT ALL ON {objects} TO {me};\n"
        ));
        match *objects {
            "FUNCTIONS" => {
                reset.push_str("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;\n")
            }
            "TYPES" => reset.push_str("ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO PUBLIC;\n"),
            _ => {}
        }
    }
    reset.push_str("COMMIT;");
    put_back.push_str("COMMIT;");
    Ok(DefaultPrivileges { reset, put_back })
}

async fn server_version(client: &tokio_postgres::Client) -> Result<PgVersion, Error> {
    let row = client
        .query_one("select current_setting('server_version_num')", &[])
        .await
        .map_err(|e| Error::db("reading the server version", e))?;
    let num: String = row.get(0);
    num.trim()
        .parse()
        .map(PgVersion)
        .map_err(|_| Error::setting("server_version_num", format!("unexpected value {num}")))
}

/// How a client program connects: everything in the environment but the database name.
struct Connection {
    env: Vec<(&'static str, String)>,
    password: Option<String>,
    database: String,
    /// `dbname='…'` (a conninfo string, so a database name can never be taken for an option).
    dbname_conninfo: String,
    tls: TlsMode,
    root_cert: Option<PathBuf>,
}

impl Connection {
    fn of(target: &Target) -> Result<Connection, Error> {
        let mut env = Vec::new();
        let mut password = None;
        for (var, value) in target.libpq_env() {
            match var {
                "PGPASSWORD" => password = Some(value),
                // Set below from the target's resolved TLS mode and root certificate.
                "PGSSLMODE" | "PGSSLROOTCERT" => {}
                _ => env.push((var, value)),
            }
        }
        let database = target.database().unwrap_or_else(|| target.user());
        let quoted = database.replace('\\', "\\\\").replace('\'', "\\'");
        Ok(Connection {
            env,
            password,
            dbname_conninfo: format!("dbname='{quoted}'"),
            database,
            tls: target.tls,
            root_cert: target.root_cert().map(Path::to_path_buf),
        })
    }

    fn apply(&self, cmd: &mut Command, tool: PgVersion) {
        // Settings of the calling shell must not redirect the tool elsewhere.
        // Every libpq variable is the target's or none: the target already holds what the
        // environment contributed.
        for (var, _) in std::env::vars_os() {
            if var.to_str().is_some_and(|v| v.starts_with("PG")) {
                cmd.env_remove(var);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.env("PGSSLMODE", self.tls.as_str());
        match &self.root_cert {
            Some(p) => {
                cmd.env("PGSSLROOTCERT", p);
            }
            // Strata verifies against the system's roots by default; libpq 16+ can too.
            None if matches!(self.tls, TlsMode::VerifyCa | TlsMode::VerifyFull)
                && tool.0 >= 160000 =>
            {
                cmd.env("PGSSLROOTCERT", "system");
            }
            None => {}
        }
    }

    fn redact(&self, text: &str) -> String {
        let mut out = redact(text);
        if let Some(p) = self.password.as_deref().filter(|p| !p.is_empty()) {
            out = out.replace(p, "****");
        }
        out
    }
}

/// Runs a tool to completion off the async runtime; a failure carries its redacted stderr.
/// `pg_dump`/`pg_restore` die with Strata: a Strata run killed (even with `kill -9`) while
/// restoring must not leave a `pg_restore` committing outside the migration lock it held.
fn dies_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before prctl: then nothing would send the signal.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

async fn run(mut cmd: Command, tool: &Tool, conn: &Connection) -> Result<(), Error> {
    dies_with_parent(&mut cmd);
    let name = tool.path.display().to_string();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(|e| Error::setting("backup", format!("{name} did not finish: {e}")))?
        .map_err(|e| Error::io("run", &tool.path, e))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = conn.redact(String::from_utf8_lossy(&out.stderr).trim());
    Err(Error::Tool {
        tool: tool.path.display().to_string(),
        message: format!(
            "{} failed ({}): {stderr}",
            tool.path.file_name().unwrap_or_default().to_string_lossy(),
            out.status
        ),
        hint: None,
    })
}

async fn run_plain(mut cmd: Command, tool: &Tool) -> Result<String, Error> {
    let path = tool.path.clone();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(|e| Error::setting("restore", format!("pg_restore did not finish: {e}")))?
        .map_err(|e| Error::io("run", &path, e))?;
    if !out.status.success() {
        return Err(Error::Tool {
            tool: tool.path.display().to_string(),
            message: format!(
                "cannot read the archive: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            hint: Some(
                "restore files written by `strata backup` or `strata push --backup`, with a pg_restore at least as new as the pg_dump that wrote them"
                    .into(),
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tool_and_server_versions() {
        let v = |s: &str| PgVersion::parse(s).unwrap();
        assert_eq!(
            v("pg_dump (PostgreSQL) 15.14 (Ubuntu 15.14-1.pgdg22.04+1)").0,
            150014
        );
        assert_eq!(v("pg_dump (PostgreSQL) 17.2").0, 170002);
        assert_eq!(v("pg_restore (PostgreSQL) 16beta2").0, 160000);
        assert_eq!(v("pg_dump (PostgreSQL) 9.6.24").0, 90624);
        assert_eq!(v("15.4").major(), "15");
        assert_eq!(v("9.6.24").major(), "9.6");
        assert_eq!(v("9.6.24").to_string(), "9.6.24");
        assert_eq!(v("15.14").to_string(), "15.14");
        assert!(PgVersion::parse("pg_dump (PostgreSQL) unknown").is_none());
        assert!(PgVersion::parse("").is_none());
    }

    #[test]
    fn pg_dump_must_be_at_least_the_server_major() {
        let tool = |s: &str| Tool {
            path: PathBuf::from("/usr/lib/postgresql/15/bin/pg_dump"),
            version: PgVersion::parse(s).unwrap(),
        };
        // Same major (any minor either way) and newer majors dump fine.
        assert!(check_dump_version(&tool("15.2"), PgVersion(150014)).is_ok());
        assert!(check_dump_version(&tool("15.14"), PgVersion(150002)).is_ok());
        assert!(check_dump_version(&tool("17.0"), PgVersion(150014)).is_ok());
        assert!(check_dump_version(&tool("10.1"), PgVersion(90624)).is_ok());
        // Older majors cannot.
        let e = check_dump_version(&tool("15.14"), PgVersion(170002)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("version 15.14") && text.contains("PostgreSQL 17.2"),
            "{text}"
        );
        let hint = e.hint().unwrap();
        assert!(
            hint.contains("postgresql-client-17") && hint.contains("STRATA_PG_BINDIR"),
            "{hint}"
        );
        assert!(check_dump_version(&tool("9.5.3"), PgVersion(90624)).is_err());
    }

    #[test]
    fn backup_names_say_server_database_time_run_and_version() {
        let t = time::macros::datetime!(2026-11-24 21:05:09 UTC);
        let target = |url: &str| {
            Target::from_url(url, crate::target::TargetSource::DbUrl, Default::default()).unwrap()
        };
        let p = backup_path(
            Path::new("/p/.strata"),
            &target("postgresql://u@db.example.com:6432/app%20db"),
            t,
            "0123456789ab",
            Some(&Version::parse("20240115000000").unwrap()),
        );
        assert_eq!(
            p,
            Path::new("/p/.strata/backups/db.example.com+6432+app%20db+20261124T210509Z+0123456789ab+before-20240115000000.dump")
        );
        // Names that differ only in characters a file name would lose stay apart; so do two
        // databases of one name on two servers.
        let names: std::collections::BTreeSet<PathBuf> = [
            "postgresql://h1/a b",
            "postgresql://h1/a#b",
            "postgresql://h1/a$b",
            "postgresql://h1/a_b",
            "postgresql://h1/a%25b",
            "postgresql://h2/a b",
            "postgresql://h1:5433/a b",
        ]
        .iter()
        .map(|u| {
            backup_path(
                Path::new("s"),
                &target(&u.replace(' ', "%20").replace('#', "%23")),
                t,
                "r",
                None,
            )
        })
        .collect();
        assert_eq!(names.len(), 7, "{names:?}");
        // A name PostgreSQL allows (63 bytes, 21 of them three-byte characters) on a long host,
        // with a long version: still a file name, still its own.
        let long = format!(
            "postgresql://db.abcdefghijklmnopqrst.supabase.co/{}",
            "%E2%82%AC".repeat(21)
        );
        let other = format!(
            "postgresql://db.abcdefghijklmnopqrst.supabase.co/{}x",
            "%E2%82%AC".repeat(20)
        );
        let v = Version::parse(&"9".repeat(26)).unwrap();
        let a = backup_path(Path::new("s"), &target(&long), t, "r", Some(&v));
        let b = backup_path(Path::new("s"), &target(&other), t, "r", Some(&v));
        assert!(a.file_name().unwrap().len() <= 240, "{a:?}");
        assert_ne!(a, b);
    }
}
