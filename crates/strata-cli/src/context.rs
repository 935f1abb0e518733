//! Everything a command needs, resolved once from flags, `strata.toml` and the environment:
//! the project, the migrations directory, the platform, and the target. Commands never re-read
//! configuration; the target is resolved (and the local cluster started) at most once.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use strata::apply::SeedFile;
use strata::config::{parse_duration, Project};
use strata::history::History;
use strata::local::LocalCluster;
use strata::platform::Platform;
use strata::session::Session;
use strata::source::SourceOptions;
use strata::target::{self, Resolved, Target, TargetRequest};
use strata::{Error, MigrationSet};

use crate::args::Cli;
use crate::render;

/// The resolved command line.
pub(crate) struct Context {
    pub(crate) project: Project,
    dir_flag: Option<PathBuf>,
    config_flag: Option<PathBuf>,
    platform_flag: Option<String>,
    pub(crate) request: TargetRequest,
    target: OnceLock<Target>,
}

impl Context {
    pub(crate) fn new(cli: &Cli) -> Result<Context, Error> {
        let cwd = std::env::current_dir().map_err(|e| Error::Io {
            action: "read",
            path: ".".into(),
            source: e,
        })?;
        let project = Project::discover(&cwd, cli.global.config.as_deref())?;
        // `[lint]` is checked against the rules for every command, as the rest of strata.toml
        // is: a typo in a rule id fails before anything connects.
        strata_lint::check_settings(&project)?;
        register_project_secrets(&project);
        let g = &cli.global;
        Ok(Context {
            project,
            dir_flag: g.dir.clone(),
            config_flag: g.config.clone(),
            platform_flag: g.platform.clone(),
            request: TargetRequest {
                db_url: g.db_url.clone(),
                env: g.env.clone(),
                linked: g.linked,
                lock_timeout: g.lock_timeout.clone(),
                statement_timeout: g.statement_timeout.clone(),
            },
            target: OnceLock::new(),
        })
    }

    pub(crate) fn migrations_dir(&self) -> Result<PathBuf, Error> {
        self.project.migrations_dir(self.dir_flag.as_deref())
    }

    pub(crate) fn source_options(&self) -> SourceOptions {
        SourceOptions {
            checksum_cache: None,
            legacy_order: self.project.config.legacy_order.clone(),
            rollbacks_dir: self.rollbacks_dir(),
            layout: self.project.config.layout,
            version_order: self.project.config.version_order,
            tool_history_table: self.project.config.history_table.clone(),
            record_in_tool_history: self.project.config.record_in_tool_history,
        }
    }

    pub(crate) fn migrations(&self) -> Result<MigrationSet, Error> {
        MigrationSet::load(&self.migrations_dir()?, &self.source_options())
    }

    pub(crate) fn platform(&self) -> Result<Platform, Error> {
        if let Some(p) = self.platform_flag.as_deref().and_then(Platform::parse) {
            return Ok(p);
        }
        if let Some(p) = self.project.config.platform {
            return Ok(p);
        }
        Ok(Platform::default_for(&self.migrations_dir()?))
    }

    pub(crate) fn rollbacks_dir(&self) -> Option<PathBuf> {
        self.project
            .config
            .rollbacks_dir
            .as_ref()
            .map(|d| self.project.root.join(d))
    }

    /// Where rollback files of migrations in `dir` live and new ones go (see
    /// [`strata::source::layout::rollbacks_dir`]).
    pub(crate) fn rollbacks_dir_for(&self, dir: &std::path::Path) -> Option<PathBuf> {
        let layout = self.project.layout_for(dir);
        strata::source::layout::rollbacks_dir(dir, self.rollbacks_dir().as_deref(), layout)
    }

    /// Which target the flags, strata.toml and the environment name, without starting anything.
    pub(crate) fn resolve(&self) -> Result<Resolved, Error> {
        Target::resolve(&self.project, &self.request)
    }

    /// The target, resolved once (the local cluster is started, created on first use).
    pub(crate) fn target(&self) -> Result<Target, Error> {
        if let Some(t) = self.target.get() {
            return Ok(t.clone());
        }
        let t = target::resolve_and_start(&self.project, &self.request)?;
        render::register_secrets(t.secrets());
        Ok(self.target.get_or_init(|| t).clone())
    }

    /// The local cluster's database, whatever `DATABASE_URL` says: for `db reset`, which only
    /// ever works on the local database.
    pub(crate) fn local_target(&self) -> Result<Target, Error> {
        let settings = match self.resolve() {
            Ok(Resolved::Local { settings }) => settings,
            Ok(Resolved::Remote(t)) => t.settings.clone(),
            Err(e) => return Err(e),
        };
        let info = self.cluster().start()?;
        Target::local(&info.url(&self.project.config.local.database), settings)
    }

    pub(crate) fn lock_wait(&self, flag: Option<&str>) -> Result<Duration, Error> {
        match (flag, &self.project.config.lock_wait) {
            (Some(v), _) => parse_duration("--lock-wait", v),
            (None, Some(v)) => parse_duration("lock_wait", v),
            (None, None) => Ok(Duration::from_secs(60)),
        }
    }

    /// The seed files to run, read, and the warnings about them (printed here; JSON output
    /// carries them in `warnings`). `explicit`: asked for by a flag (`push --include-seed`), so
    /// `[seed] enabled = false` (which is about `db reset`) does not turn them off — as with the
    /// Supabase CLI.
    pub(crate) fn seeds(
        &self,
        explicit: bool,
        out: &crate::render::Renderer,
    ) -> Result<(Vec<SeedFile>, Vec<String>), Error> {
        let dir = self.migrations_dir()?;
        let seeds = self.project.seed_files(&dir)?;
        let mut warnings = seeds.warnings.clone();
        let files: Vec<SeedFile> = if seeds.enabled || explicit {
            seeds
                .files
                .iter()
                .map(|p| SeedFile::read(&self.project.root, p))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        warnings.extend(
            files
                .iter()
                .filter_map(|s| Some(format!("{}: {}", s.path.display(), s.note.as_ref()?))),
        );
        for w in &warnings {
            out.warn(w);
        }
        Ok((files, warnings))
    }

    /// Whether migrations are applied (`migrations_enabled`, `[db.migrations] enabled`); when
    /// not, the warning that says which setting skipped them (printed here).
    pub(crate) fn migrations_enabled(
        &self,
        out: &crate::render::Renderer,
    ) -> Result<(bool, Option<String>), Error> {
        let dir = self.migrations_dir()?;
        let (enabled, setting) = self.project.migrations_enabled(&dir)?;
        if enabled {
            return Ok((true, None));
        }
        let warning =
            format!("migrations are skipped ({setting}): only seeds run, as with the Supabase CLI");
        out.warn(&warning);
        Ok((false, Some(warning)))
    }

    pub(crate) fn cluster(&self) -> LocalCluster {
        LocalCluster::new(self.project.state_dir())
    }

    /// The flags a printed command needs to reach the same project and target as this run
    /// (`--dir`, `--config`, `--db-url '<URL without password>'`, `--env NAME`, `--linked`):
    /// appended to every `strata …` command a hint names (see [`render::with_target_flags`]).
    pub(crate) fn hint_flags(&self) -> String {
        let mut flags = Vec::new();
        if let Some(c) = &self.config_flag {
            flags.push(format!(
                "--config {}",
                shell_quote(&c.display().to_string())
            ));
        }
        if let Some(d) = &self.dir_flag {
            flags.push(format!("--dir {}", shell_quote(&d.display().to_string())));
        }
        if let Some(url) = &self.request.db_url {
            let shown = strata::conninfo::ConnInfo::parse(url.trim())
                .map(|c| c.display())
                .unwrap_or_else(|_| "<your connection string>".into());
            flags.push(format!("--db-url {}", shell_quote(&shown)));
        } else if let Some(env) = &self.request.env {
            flags.push(format!("--env {}", shell_quote(env)));
        } else if self.request.linked {
            flags.push("--linked".into());
        }
        flags.join(" ")
    }

    /// Reads the migrations directory while connecting and reading the history: on a no-op push
    /// over thousands of files the two take about as long as each other. Inputs are checked
    /// before anything starts: the directory must exist, and for the local cluster the files are
    /// read before the cluster is created or started.
    /// The `Target:` line is printed as soon as the target is known, before connecting. For
    /// another tool's layout, the history includes that tool's ([`strata::adopt`]).
    ///
    /// Unless `need` is [`Need::Everything`], files unchanged since the last run are not read:
    /// their checksums come from `.strata/checksums-*` ([`strata::source::cache`]), and their
    /// text is read only when the plan has something to do (a pending, modified or missing
    /// migration) — a no-op push and `migration list` read no file they have seen before. With
    /// [`Need::Plan`], the history is first read as a digest ([`History::digest`]); the rows are
    /// read only when it does not prove that every migration is applied unchanged.
    pub(crate) async fn load_and_connect(
        &self,
        out: &render::Renderer,
        need: Need,
    ) -> Result<(MigrationSet, Target, Session, History), Error> {
        let dir = self.migrations_dir()?;
        let mut options = self.source_options();
        if need != Need::Everything {
            options.checksum_cache = Some(strata::source::cache::path_for(
                &self.project.state_dir(),
                &dir,
            ));
        }
        let (set, target, session, digest) =
            if matches!(self.resolve()?, Resolved::Local { .. }) && self.target.get().is_none() {
                let set = MigrationSet::load(&dir, &options)?;
                out.source_facts(&set.skipped, &set.notes);
                let target = self.target()?;
                out.target(&target);
                let session = target.session().await?;
                let remote = Remote::read(&session, need).await?;
                (set, target, session, remote)
            } else {
                let target = self.target()?;
                out.target(&target);
                let load = tokio::task::spawn_blocking(move || MigrationSet::load(&dir, &options));
                let remote = async {
                    let session = target.session().await?;
                    let remote = Remote::read(&session, need).await?;
                    Ok::<_, Error>((session, remote))
                };
                let (set, remote) = tokio::join!(load, remote);
                let set = set.map_err(|e| Error::Setting {
                    setting: "migrations".into(),
                    message: format!("reading migrations failed: {e}"),
                    hint: None,
                })??;
                let (session, remote) = remote?;
                out.source_facts(&set.skipped, &set.notes);
                (set, target, session, remote)
            };
        let mut history = match digest {
            Remote::History(h) => h,
            Remote::Digest(d) => match d.and_then(|d| History::proven_by(&d, &set)) {
                Some(h) if !set.layout.is_tool() => h,
                _ => History::read(&*session).await?,
            },
        };
        // Another tool's history counts as applied (its versions, from its table).
        strata::adopt::adopt_into(&*session, &set, &mut history).await?;
        let set = read_if_needed(set, &history)?;
        Ok((set, target, session, history))
    }
}

/// How much of the migrations and the history a command needs ([`Context::load_and_connect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Every file read and the whole history (rollback runs the files' rollbacks).
    Everything,
    /// Files through the checksum cache, and the whole history (list shows when each version
    /// was applied).
    History,
    /// Files through the checksum cache, and the history only as far as a push's plan needs
    /// it: a digest that proves a no-op push reads one row instead of every row.
    Plan,
}

/// What was read of the history while the directory was read.
enum Remote {
    History(History),
    Digest(Option<strata::history::HistoryDigest>),
}

impl Remote {
    async fn read(client: &tokio_postgres::Client, need: Need) -> Result<Remote, Error> {
        Ok(match need {
            Need::Plan => Remote::Digest(History::digest(client).await?),
            Need::Everything | Need::History => Remote::History(History::read(client).await?),
        })
    }
}

/// Reads the files a checksum cache left unread unless the plan is a clean no-op (every file
/// applied with its checksum, no applied version without its file): anything else — applying,
/// linting, showing what changed — needs the text.
fn read_if_needed(mut set: MigrationSet, history: &History) -> Result<MigrationSet, Error> {
    if set.is_read() {
        return Ok(set);
    }
    if !strata::plan::is_clean_noop(&set, history) {
        set.read_deferred()?;
    }
    Ok(set)
}

/// Adds what reading the directory skipped and noticed to a command's JSON result.
pub(crate) fn with_source_facts(
    mut value: serde_json::Value,
    set: &MigrationSet,
) -> serde_json::Value {
    if let Some(o) = value.as_object_mut() {
        o.insert(
            "skipped".into(),
            serde_json::to_value(&set.skipped).unwrap_or_default(),
        );
        o.insert(
            "notes".into(),
            serde_json::to_value(&set.notes).unwrap_or_default(),
        );
    }
    value
}

/// Single-quotes a word for a POSIX shell when it needs it.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@%+,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Registers what may be a password in the raw command line and environment, before anything
/// is parsed: `--db-url`/`STRATA_DB_URL`, `DATABASE_URL`, `PGPASSWORD`, `SUPABASE_DB_PASSWORD`.
pub(crate) fn register_raw_secrets(cli: &Cli) {
    let mut secrets = Vec::new();
    if let Some(url) = &cli.global.db_url {
        secrets.extend(target::secret_candidates(url));
    }
    for var in ["DATABASE_URL", "STRATA_DB_URL", "STRATA_SCRATCH_URL"] {
        if let Ok(url) = std::env::var(var) {
            secrets.extend(target::secret_candidates(&url));
        }
    }
    for var in ["PGPASSWORD", "SUPABASE_DB_PASSWORD"] {
        if let Ok(pw) = std::env::var(var) {
            secrets.push(strata::conninfo::encode_userinfo(&pw));
            secrets.push(pw);
        }
    }
    render::register_secrets(secrets);
}

/// The same for what the project adds: `.env` values and every environment's URL.
fn register_project_secrets(project: &Project) {
    let mut secrets = Vec::new();
    for var in ["DATABASE_URL", "STRATA_DB_URL"] {
        if let Some(url) = project.dotenv.get(var) {
            secrets.extend(target::secret_candidates(url));
        }
    }
    for var in ["PGPASSWORD", "SUPABASE_DB_PASSWORD"] {
        if let Some(pw) = project.dotenv.get(var) {
            secrets.push(strata::conninfo::encode_userinfo(pw));
            secrets.push(pw.clone());
        }
    }
    for (name, env) in &project.config.environments {
        if let Some(raw) = &env.url {
            if let Ok(url) = project.interpolate(&format!("environments.{name}.url"), raw) {
                secrets.extend(target::secret_candidates(&url));
            }
        }
    }
    render::register_secrets(secrets);
}
