//! The project: where it is (the directory holding `strata.toml`, or the current directory),
//! what `strata.toml` says, and `.env`. Read once; commands never re-read configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;

pub mod lint;
mod supabase;
pub use supabase::{SupabaseConfig, SUPABASE_CONFIG_FILE};

/// The configuration file's name.
pub const CONFIG_FILE: &str = "strata.toml";

/// Where migrations are looked for when neither `--dir` nor `migrations_dir` says: Strata's and
/// the Supabase CLI's, then the defaults of the tools whose layouts Strata reads (dbmate's
/// `db/migrations`, Flyway's `db/migration` and the Maven convention
/// `src/main/resources/db/migration`); diesel, golang-migrate, goose, sqlx and node-pg-migrate
/// default to `migrations/` too.
pub const DEFAULT_DIRS: [&str; 5] = [
    "supabase/migrations",
    "migrations",
    "db/migrations",
    "db/migration",
    "src/main/resources/db/migration",
];

/// `strata.toml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The migrations directory, relative to the project root.
    pub migrations_dir: Option<PathBuf>,
    /// Run order of files without a `<version>_` prefix (the seed's `projects.sql` …).
    #[serde(default)]
    pub legacy_order: Vec<String>,
    /// The declarative schema files (`strata schema`): files, directories (every `.sql` file
    /// under them) or glob patterns, relative to the project root, applied in this order.
    /// Default: `[db.migrations] schema_paths` in supabase/config.toml, else `schemas/` beside
    /// the migrations directory (`supabase/schemas/`).
    #[serde(default)]
    pub schema_paths: Vec<String>,
    /// Where `_rollback.sql` files live when not beside their migrations (default:
    /// `rollbacks/` beside the migrations directory, when it exists).
    pub rollbacks_dir: Option<PathBuf>,
    /// The migrations directory's conventions and history: `strata`, `supabase`, or another
    /// tool's (`dbmate`, `diesel`, `golang-migrate`, `goose`, `sqlx`, `flyway`,
    /// `node-pg-migrate`), whose files are read as they are and whose history table is adopted.
    /// Default: read off the directory ([`crate::source::Layout::detect`]).
    pub layout: Option<crate::source::Layout>,
    /// Another tool's history table, when not that tool's default (`public.schema_migrations`
    /// for dbmate …): `schema.table`.
    pub history_table: Option<String>,
    /// Also record each migration (and each rollback) in the other tool's own history table, in
    /// the same transaction, so the team can go back to that tool. Off by default: Strata never
    /// writes another tool's table unless asked.
    #[serde(default)]
    pub record_in_tool_history: bool,
    /// How versions are ordered: `numeric` (Strata's default) or `text` (the Supabase CLI's).
    /// They differ only for versions of different lengths; in `supabase/migrations` Strata
    /// refuses to pick when they do, until this says which.
    pub version_order: Option<crate::source::VersionOrder>,
    /// Whether push and `db reset` apply migrations (default: `[db.migrations] enabled` of
    /// `supabase/config.toml`, else true). `false` is the Supabase CLI's way to run seeds only.
    pub migrations_enabled: Option<bool>,
    /// Default `lock_timeout` for every target (PostgreSQL syntax or `5s`, `500ms`, `2min`).
    pub lock_timeout: Option<String>,
    /// Default `statement_timeout` for every target.
    pub statement_timeout: Option<String>,
    /// How long to wait for another run's migration lock (default 60s).
    pub lock_wait: Option<String>,
    /// `supabase` or `none`: whether to install Supabase platform emulation on targets that
    /// lack it. Default: `supabase` for a `supabase/migrations` directory, else `none`.
    pub platform: Option<crate::platform::Platform>,
    #[serde(default)]
    pub seed: SeedConfig,
    #[serde(default)]
    pub local: LocalConfig,
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
    /// `[fleets.NAME]`: groups of databases pushed together (`strata push --fleet NAME`).
    #[serde(default)]
    pub fleets: BTreeMap<String, Fleet>,
    /// `[lint]`: rule levels, excluded paths, the failing level.
    #[serde(default)]
    pub lint: lint::LintConfig,
    #[serde(default)]
    pub schema: SchemaConfig,
}

/// `[schema]`: how `strata schema diff --write` writes a change.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaConfig {
    /// Keep every generated step in one transaction: no `CREATE INDEX CONCURRENTLY` file. For
    /// projects that also push with the Supabase CLI, which runs every file in a transaction.
    #[serde(default)]
    pub transaction_only: bool,
}

/// `[seed]`: SQL files run after migrations by `db reset` and by `push --include-seed`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedConfig {
    /// Seed files relative to the project root, run in order. Default: `[db.seed] sql_paths` of
    /// `supabase/config.toml`, else `seed.sql` beside the migrations directory, when it exists.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Whether `db reset` seeds (default: `[db.seed] enabled` of `supabase/config.toml`, else
    /// true). `push --include-seed` asks for the seeds explicitly and runs them either way, as
    /// the Supabase CLI's `db push --include-seed` does.
    pub enabled: Option<bool>,
}

/// The seed files a command runs, and what the user should hear about them.
#[derive(Debug, Clone, Default)]
pub struct Seeds {
    /// Existing files, in run order.
    pub files: Vec<PathBuf>,
    /// Whether `db reset` runs them (`[seed] enabled`, else `[db.seed] enabled`, else true).
    pub enabled: bool,
    /// Where the list came from: `strata.toml [seed] paths`, `supabase/config.toml [db.seed]
    /// sql_paths`, or `default` (`seed.sql` beside the migrations directory).
    pub source: String,
    /// Patterns that matched nothing, and the like.
    pub warnings: Vec<String>,
}

/// The declarative schema files and where their list came from ([`Project::schema_files`]).
#[derive(Debug, Clone, Default)]
pub struct SchemaSources {
    /// Existing files, in the order they apply.
    pub files: Vec<PathBuf>,
    /// Where the files are written when there are none yet (`strata schema dump`).
    pub dir: PathBuf,
    /// `schema_paths in strata.toml`, `[db.migrations] schema_paths in …/config.toml`, or
    /// `default`.
    pub source: String,
    /// Patterns that matched nothing.
    pub warnings: Vec<String>,
}

/// `[local]`: the private cluster under `.strata/`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// The database migrations go to (default `postgres`, as on Supabase).
    #[serde(default = "default_database")]
    pub database: String,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            database: default_database(),
        }
    }
}

fn default_database() -> String {
    "postgres".into()
}

/// `[environments.NAME]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Connection URL; `${VAR}` is replaced from the environment or `.env`.
    pub url: Option<String>,
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
    /// Take a `pg_dump` backup before every push that applies something (as `push --backup`).
    #[serde(default)]
    pub backup: bool,
    /// The lowest lint level that makes `strata push --env NAME` refuse (a live target only);
    /// overrides `[lint] push_fail_on`, so production can be stricter.
    pub push_fail_on: Option<lint::Level>,
}

/// `[fleets.NAME]`: the databases of a fleet, given one of three ways — every database of
/// `server` whose name matches the LIKE pattern `databases`; the list `urls`; or the URLs the
/// `query` returns (one per row, first column) on the `registry` database. `${VAR}` is replaced
/// in every URL. A fleet carries the settings an environment carries.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// A server URL (any database on it: the one to list the others from).
    pub server: Option<String>,
    /// A LIKE pattern on `pg_database.datname` (`_` and `%` are wildcards; `\` escapes them).
    pub databases: Option<String>,
    /// An explicit list of database URLs.
    #[serde(default)]
    pub urls: Vec<String>,
    /// The URL of a registry database, with `query`.
    pub registry: Option<String>,
    /// The query on `registry` that returns one database URL per row.
    pub query: Option<String>,
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
    /// Take a `pg_dump` backup of each database before a push applies something to it (as
    /// `push --fleet NAME --backup`).
    #[serde(default)]
    pub backup: bool,
    /// The lowest lint level that makes `strata push --fleet NAME` refuse.
    pub push_fail_on: Option<lint::Level>,
}

/// A resolved project: its root, configuration and state directory.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `strata.toml` (or the start directory when there is none).
    pub root: PathBuf,
    /// `strata.toml`, when there is one.
    pub config_path: Option<PathBuf>,
    pub config: Config,
    /// Variables from `.env` in the project root (never written to the process environment).
    pub dotenv: BTreeMap<String, String>,
}

impl Project {
    /// Finds the project from `start`: the nearest ancestor holding `strata.toml`, else `start`.
    /// `config` names the configuration file explicitly.
    pub fn discover(start: &Path, config: Option<&Path>) -> Result<Project, Error> {
        let (root, config_path) = match config {
            Some(path) => {
                if !path.is_file() {
                    return Err(Error::setting(
                        "--config",
                        format!("configuration file {} does not exist", path.display()),
                    ));
                }
                let root = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf();
                (root, Some(path.to_path_buf()))
            }
            None => match start.ancestors().find(|d| d.join(CONFIG_FILE).is_file()) {
                Some(dir) => (dir.to_path_buf(), Some(dir.join(CONFIG_FILE))),
                None => (start.to_path_buf(), None),
            },
        };
        let config = match &config_path {
            Some(path) => Config::read(path)?,
            None => Config::default(),
        };
        let dotenv = read_dotenv(&root.join(".env"))?;
        Ok(Project {
            root,
            config_path,
            config,
            dotenv,
        })
    }

    /// The layout of migrations directory `dir`: `layout` in strata.toml, else read off the
    /// directory ([`crate::source::Layout::detect`]).
    pub fn layout_for(&self, dir: &Path) -> crate::source::Layout {
        self.config
            .layout
            .unwrap_or_else(|| crate::source::Layout::detect(dir))
    }

    /// `.strata/` in the project root: the local cluster, backups, link state.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".strata")
    }

    /// The migrations directory: `--dir`, else `migrations_dir`, else the first that exists of
    /// `supabase/migrations/` and `migrations/`.
    pub fn migrations_dir(&self, flag: Option<&Path>) -> Result<PathBuf, Error> {
        if let Some(dir) = flag {
            return if dir.is_dir() {
                Ok(dir.to_path_buf())
            } else {
                Err(Error::setting(
                    "--dir",
                    format!("migrations directory {} does not exist", dir.display()),
                ))
            };
        }
        if let Some(dir) = &self.config.migrations_dir {
            let dir = self.root.join(dir);
            return if dir.is_dir() {
                Ok(dir)
            } else {
                Err(Error::setting(
                    "migrations_dir",
                    format!(
                        "migrations_dir in {} names {}, which does not exist",
                        self.config_display(),
                        dir.display()
                    ),
                ))
            };
        }
        DEFAULT_DIRS
            .iter()
            .map(|d| self.root.join(d))
            .find(|d| d.is_dir())
            .ok_or_else(|| Error::NoMigrationsDir {
                candidates: DEFAULT_DIRS.iter().map(|d| format!("{d}/")).collect(),
            })
    }

    /// `supabase/config.toml` for this migrations directory (see [`SupabaseConfig::locate`]),
    /// when there is one. Errors: it is not valid TOML, or a setting Strata reads has the wrong
    /// type.
    pub fn supabase_config(&self, migrations_dir: &Path) -> Result<Option<SupabaseConfig>, Error> {
        SupabaseConfig::locate(&self.root, migrations_dir)
            .map(|p| SupabaseConfig::read(&p))
            .transpose()
    }

    /// Whether migrations are applied, and the setting that says they are not: `migrations_enabled`
    /// in strata.toml, else `[db.migrations] enabled` in `supabase/config.toml`, else true.
    pub fn migrations_enabled(&self, migrations_dir: &Path) -> Result<(bool, String), Error> {
        if let Some(on) = self.config.migrations_enabled {
            return Ok((
                on,
                format!("migrations_enabled in {}", self.config_display()),
            ));
        }
        Ok(match self.supabase_config(migrations_dir)? {
            Some(c) if c.migrations_enabled == Some(false) => (
                false,
                format!("[db.migrations] enabled = false in {}", c.path.display()),
            ),
            _ => (true, String::new()),
        })
    }

    /// The seed files, in run order: `[seed] paths` in strata.toml (each must exist), else
    /// `[db.seed] sql_paths` in `supabase/config.toml` (globs; a pattern that matches nothing is
    /// a warning, as in the Supabase CLI), else `seed.sql` beside the migrations directory.
    pub fn seed_files(&self, migrations_dir: &Path) -> Result<Seeds, Error> {
        let supabase = self.supabase_config(migrations_dir)?;
        let enabled = self
            .config
            .seed
            .enabled
            .or_else(|| supabase.as_ref().and_then(|c| c.seed_enabled))
            .unwrap_or(true);
        if !self.config.seed.paths.is_empty() {
            let mut files = Vec::new();
            for p in &self.config.seed.paths {
                let path = self.root.join(p);
                if !path.is_file() {
                    return Err(Error::setting(
                        "seed.paths",
                        format!(
                            "seed.paths in {} names {}, which does not exist",
                            self.config_display(),
                            path.display()
                        ),
                    ));
                }
                files.push(path);
            }
            return Ok(Seeds {
                files,
                enabled,
                source: format!("[seed] paths in {}", self.config_display()),
                warnings: Vec::new(),
            });
        }
        if let Some(c) = supabase.filter(|c| c.seed_sql_paths.is_some()) {
            let (files, warnings) = c.seed_files()?;
            return Ok(Seeds {
                files,
                enabled,
                source: format!("[db.seed] sql_paths in {}", c.path.display()),
                warnings,
            });
        }
        let beside = migrations_dir.parent().map(|p| p.join("seed.sql"));
        Ok(Seeds {
            files: beside.into_iter().filter(|p| p.is_file()).collect(),
            enabled,
            source: "default".into(),
            warnings: Vec::new(),
        })
    }

    /// The declarative schema files, in the order they apply: `schema_paths` in strata.toml,
    /// else `[db.migrations] schema_paths` in supabase/config.toml, else every `.sql` file under
    /// `schemas/` beside the migrations directory. A directory stands for every `.sql` file
    /// under it, in the lexical order of their paths; a pattern that matches nothing is a
    /// warning. Errors: a pattern that is not a glob.
    pub fn schema_files(&self, migrations_dir: &Path) -> Result<SchemaSources, Error> {
        let default_dir = migrations_dir
            .parent()
            .unwrap_or(&self.root)
            .join("schemas");
        if !self.config.schema_paths.is_empty() {
            let mut files = Vec::new();
            let mut warnings = Vec::new();
            let mut dir = None;
            for p in &self.config.schema_paths {
                let full = self.root.join(p.strip_prefix("./").unwrap_or(p));
                let found = if full.is_dir() {
                    dir.get_or_insert(full.clone());
                    sql_files_under(&full)?
                } else {
                    let text = full.to_string_lossy();
                    let mut found: Vec<PathBuf> = glob::glob(&text)
                        .map_err(|e| {
                            Error::setting(
                                "schema_paths",
                                format!(
                                    "schema_paths in {} holds {p:?}, which is not a file, a directory or a valid glob pattern: {}",
                                    self.config_display(),
                                    e.msg
                                ),
                            )
                        })?
                        .map(|m| m.map_err(|e| crate::source::checked_entry(e.path()).err().unwrap_or_else(|| Error::io("read", e.path(), std::io::Error::other(e.to_string())))))
                        .collect::<Result<Vec<_>, Error>>()?;
                    found = crate::source::checked_files(found)?;
                    found.sort();
                    found
                };
                if found.is_empty() {
                    warnings.push(format!(
                        "schema_paths in {}: {p:?} matches no file",
                        self.config_display()
                    ));
                }
                for f in found {
                    if !files.contains(&f) {
                        files.push(f);
                    }
                }
            }
            let dir = dir
                .or_else(|| {
                    files
                        .first()
                        .and_then(|f| f.parent().map(Path::to_path_buf))
                })
                .unwrap_or(default_dir);
            return Ok(SchemaSources {
                files,
                dir,
                source: format!("schema_paths in {}", self.config_display()),
                warnings,
            });
        }
        if let Some(c) = self
            .supabase_config(migrations_dir)?
            .filter(|c| !c.schema_paths.is_empty())
        {
            let (files, warnings) = c.schema_files()?;
            let dir = files
                .first()
                .and_then(|f| f.parent().map(Path::to_path_buf))
                .unwrap_or(default_dir);
            return Ok(SchemaSources {
                files,
                dir,
                source: format!("[db.migrations] schema_paths in {}", c.path.display()),
                warnings,
            });
        }
        Ok(SchemaSources {
            files: sql_files_under(&default_dir)?,
            dir: default_dir,
            source: "default".into(),
            warnings: Vec::new(),
        })
    }

    /// A variable from the process environment, else from `.env`.
    pub fn var(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.dotenv.get(name).cloned())
    }

    /// Replaces `${VAR}` in `value` (from the environment or `.env`); `setting` names where the
    /// value came from, for the error when a variable is unset.
    pub fn interpolate(&self, setting: &str, value: &str) -> Result<String, Error> {
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(Error::setting(
                    setting,
                    format!("{setting}: `${{` without a closing `}}`"),
                ));
            };
            let name = &after[..end];
            match self.var(name) {
                Some(v) => out.push_str(&v),
                None => {
                    return Err(Error::Setting {
                        setting: setting.to_string(),
                        message: format!("{setting} uses ${{{name}}}, which is not set"),
                        hint: Some(format!(
                            "export {name}=... or add it to {}",
                            self.root.join(".env").display()
                        )),
                    })
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn config_display(&self) -> String {
        self.config_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| CONFIG_FILE.into())
    }
}

impl Config {
    /// Reads and validates `strata.toml`; errors carry the line and column at fault.
    pub fn read(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        Self::parse(path, &text)
    }

    /// Parses `strata.toml` text; `path` is used in errors only.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Error> {
        let config: Config = toml::from_str(text).map_err(|e| {
            toml_error(
                path,
                text,
                &e,
                "see `strata init` for a commented example of every setting",
            )
        })?;
        for (setting, value) in [
            ("lock_timeout", &config.lock_timeout),
            ("statement_timeout", &config.statement_timeout),
            ("lock_wait", &config.lock_wait),
        ] {
            if let Some(v) = value {
                parse_duration(setting, v).map_err(|e| locate(path, text, setting, e))?;
            }
        }
        for (name, env) in &config.environments {
            for (key, value) in [
                ("lock_timeout", &env.lock_timeout),
                ("statement_timeout", &env.statement_timeout),
            ] {
                if let Some(v) = value {
                    let setting = format!("environments.{name}.{key}");
                    parse_duration(&setting, v).map_err(|e| locate(path, text, key, e))?;
                }
            }
        }
        for (name, fleet) in &config.fleets {
            for (key, value) in [
                ("lock_timeout", &fleet.lock_timeout),
                ("statement_timeout", &fleet.statement_timeout),
            ] {
                if let Some(v) = value {
                    let setting = format!("fleets.{name}.{key}");
                    parse_duration(&setting, v).map_err(|e| locate(path, text, key, e))?;
                }
            }
            let shapes = [
                fleet.server.is_some() || fleet.databases.is_some(),
                !fleet.urls.is_empty(),
                fleet.registry.is_some() || fleet.query.is_some(),
            ];
            let complete = (fleet.server.is_some() && fleet.databases.is_some())
                || !fleet.urls.is_empty()
                || (fleet.registry.is_some() && fleet.query.is_some());
            if shapes.iter().filter(|s| **s).count() != 1 || !complete {
                return Err(error_at_value(
                    path,
                    text,
                    &format!("fleets.{name}"),
                    format!(
                        "[fleets.{name}] needs exactly one of: server and databases (a LIKE pattern), urls (a list), or registry and query"
                    ),
                    Some("e.g. server = \"${TENANT_SERVER_URL}\" and databases = \"tenant_%\"".into()),
                ));
            }
        }
        Ok(config)
    }
}

/// Every `.sql` file under `dir` (subdirectories included), in the lexical order of their
/// paths; empty when `dir` does not exist. Errors: an entry that cannot be read (a dangling
/// link, no permission), named ([`crate::source::checked_entry`]).
fn sql_files_under(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| Error::io("read directory", &d, e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| Error::io("read directory", &d, e))?
                .path();
            let meta = crate::source::checked_entry(&path)?;
            if meta.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "sql") && meta.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A TOML parse or type error in `path` (holding `text`) as an [`Error::Config`] at the line and
/// column toml reports, with `hint`.
pub(crate) fn toml_error(path: &Path, text: &str, e: &toml::de::Error, hint: &str) -> Error {
    let offset = e.span().map(|s| s.start).unwrap_or(0);
    let idx = crate::sql::LineIndex::new(text);
    let (line, column) = idx.line_col(text, offset.min(text.len()));
    Error::Config {
        path: path.to_path_buf(),
        line,
        column,
        message: e.message().trim().to_string(),
        hint: Some(hint.into()),
    }
}

/// An error about `value` as written in the configuration file `path` (holding `text`): a
/// [`Error::Config`] at the first line that holds it (quoted or bare; line 1 when none does).
/// For checks made outside this module, e.g. the linter's check of `[lint] rules` ids.
pub fn error_at_value(
    path: &Path,
    text: &str,
    value: &str,
    message: String,
    hint: Option<String>,
) -> Error {
    let line = text
        .lines()
        .position(|l| l.contains(&format!("\"{value}\"")) || l.contains(value))
        .map(|i| i + 1)
        .unwrap_or(1);
    Error::Config {
        path: path.to_path_buf(),
        line,
        column: 1,
        message,
        hint,
    }
}

/// Turns a setting error into a config error at the line where the key is written.
fn locate(path: &Path, text: &str, key: &str, e: Error) -> Error {
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with(key))
        .map(|i| i + 1)
        .unwrap_or(1);
    Error::Config {
        path: path.to_path_buf(),
        line,
        column: 1,
        message: e.to_string(),
        hint: e.hint(),
    }
}

/// Parses a duration as `5s`, `500ms`, `2min`, `1h` or a bare number of milliseconds
/// (PostgreSQL's default unit for timeouts).
pub fn parse_duration(setting: &str, value: &str) -> Result<Duration, Error> {
    let v = value.trim();
    if let Ok(ms) = v.parse::<u64>() {
        return Ok(Duration::from_millis(ms));
    }
    let normalised = v.replace(' ', "");
    humantime::parse_duration(&normalised).map_err(|_| Error::Setting {
        setting: setting.to_string(),
        message: format!("{setting}: `{value}` is not a duration"),
        hint: Some("write it like 500ms, 5s, 2min or 1h (0 disables)".into()),
    })
}

fn read_dotenv(path: &Path) -> Result<BTreeMap<String, String>, Error> {
    if !path.is_file() {
        return Ok(BTreeMap::new());
    }
    let iter = dotenvy::from_path_iter(path).map_err(|e| Error::SourceFile {
        path: path.to_path_buf(),
        problem: e.to_string(),
        hint: None,
    })?;
    let mut vars = BTreeMap::new();
    for item in iter {
        let (k, v) = item.map_err(|e| Error::SourceFile {
            path: path.to_path_buf(),
            problem: match &e {
                dotenvy::Error::LineParse(line, _) => format!("cannot parse line `{line}`"),
                other => other.to_string(),
            },
            hint: Some("write one KEY=value per line".into()),
        })?;
        vars.insert(k, v);
    }
    Ok(vars)
}

/// The commented `strata.toml` written by `strata init`.
pub const TEMPLATE: &str = r#"# strata.toml — Strata's project configuration. Every setting is optional.

# Where migrations live. Default: the first that exists of supabase/migrations/ and migrations/.
# migrations_dir = "supabase/migrations"

# Files without a <version>_ prefix (e.g. projects.sql) are never guessed: list them in run
# order, then `strata migration adopt` renames them to versioned names.
# legacy_order = ["00_base_schema.sql", "projects.sql"]

# The directory's conventions: "strata", "supabase" (the Supabase CLI's: files that are not
# migrations are skipped with a warning), or another tool's, read as they are, with that tool's
# history table adopted on the first push: "dbmate", "diesel", "golang-migrate", "goose", "sqlx",
# "flyway", "node-pg-migrate" (docs/switching/). Default: read off the directory.
# layout = "supabase"
# history_table = "public.schema_migrations"   # the other tool's table, when not its default
# record_in_tool_history = false               # true: also keep the other tool's table up to
#                                              # date, so the team can go back to it

# Declarative schema files (`strata schema dump|diff`): files, directories or glob patterns,
# applied in this order. Default: [db.migrations] schema_paths in supabase/config.toml, else
# every .sql file under schemas/ beside the migrations directory (supabase/schemas/).
# schema_paths = ["supabase/schemas"]

# [schema]
# transaction_only = true   # `schema diff --write`: no CREATE INDEX CONCURRENTLY file (for
#                           # projects that also push with the Supabase CLI)

# Version order: "numeric" (Strata's default) or "text" (the Supabase CLI's). They differ only for
# versions of different lengths (8-digit dates beside 14-digit timestamps).
# version_order = "text"

# Rollback files (<version>_<name>_rollback.sql) live beside their migrations, or in a directory
# of their own; keep them apart if the Supabase CLI also pushes this migrations directory (it
# would take them for migrations). Default: rollbacks/ beside the migrations directory, if any.
# rollbacks_dir = "supabase/rollbacks"

# Fail fast instead of queueing behind production traffic (PostgreSQL settings, per session).
# lock_timeout = "5s"
# statement_timeout = "10min"

# How long a push waits for another push's migration lock before giving up.
# lock_wait = "60s"

# Supabase platform emulation on plain PostgreSQL (roles anon/authenticated/service_role,
# auth.users and auth.uid(), storage.buckets/objects, extensions): "supabase" or "none".
# Default: "supabase" for a supabase/migrations directory. Never installed on real Supabase.
# platform = "supabase"

# Settings that supabase/config.toml also has ([db.migrations] enabled, [db.seed] enabled and
# sql_paths) are read from it; what this file sets takes precedence.
# migrations_enabled = true       # false: push and db reset run seeds only

# [seed]
# paths = ["supabase/seed.sql"]   # run by `strata db reset` and `strata push --include-seed`
# enabled = true                  # false: `db reset` does not seed (--include-seed still does)

# [local]
# database = "postgres"           # the database of the private cluster under .strata/

# `strata lint` (and the check before `strata push`). Rule ids: `strata lint --explain ID`,
# `strata lint --rules`. Levels: "error", "warning", "info", "off".
# [lint]
# rules = { "file-header" = "off", "drop-without-if-exists" = "error" }
# exclude = ["supabase/migrations/2023*"]   # not reported (still read as context)
# fail_on = "error"                         # lowest level that fails `strata lint`
# push_fail_on = "error"                    # lowest level that blocks a push to a live database
#                                           # (default: fail_on); a fresh database is never blocked
# assume_deployed = "earlier-files"         # plain `strata lint`: files before the one checked are
#                                           # live ("none": nothing is deployed yet)

# Named targets for `--env NAME`. Secrets come from the environment or .env, never this file.
# [environments.staging]
# url = "${STAGING_DATABASE_URL}"
#
# [environments.production]
# url = "${PRODUCTION_DATABASE_URL}"
# lock_timeout = "3s"
# backup = true                   # pg_dump into .strata/backups/ before each push that applies
# push_fail_on = "warning"        # stricter lint gate for this environment
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_the_line() {
        let text = "migrations_dir = \"m\"\nlock_timeot = \"5s\"\n";
        let err = Config::parse(Path::new("strata.toml"), text).unwrap_err();
        match err {
            Error::Config { line, message, .. } => {
                assert_eq!(line, 2);
                assert!(message.contains("lock_timeot"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_durations_name_the_setting_and_line() {
        let text = "[environments.prod]\nurl = \"x\"\nlock_timeout = \"soon\"\n";
        let err = Config::parse(Path::new("strata.toml"), text).unwrap_err();
        match err {
            Error::Config { line, message, .. } => {
                assert_eq!(line, 3);
                assert!(
                    message.contains("environments.prod.lock_timeout"),
                    "{message}"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("x", "5s").unwrap(), Duration::from_secs(5));
        assert_eq!(
            parse_duration("x", "250").unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            parse_duration("x", "2min").unwrap(),
            Duration::from_secs(120)
        );
        assert!(parse_duration("x", "forever").is_err());
    }

    #[test]
    fn template_parses() {
        Config::parse(Path::new("strata.toml"), TEMPLATE).unwrap();
    }

    #[test]
    fn lint_section_is_checked_and_located() {
        let text = "lock_wait = \"5s\"\n[lint]\nfail_on = \"warning\"\nrules = { \"file-header\" = \"off\" }\n";
        let c = Config::parse(Path::new("strata.toml"), text).unwrap();
        assert_eq!(c.lint.fail_on, Some(lint::Level::Warning));
        // Rule ids are checked by the linter (strata-lint's `check_settings`), with this
        // module's `error_at_value`.
        let text = "[lint]\nfail_on = \"fatal\"\n";
        assert!(matches!(
            Config::parse(Path::new("strata.toml"), text),
            Err(Error::Config { line: 2, .. })
        ));
    }
}
