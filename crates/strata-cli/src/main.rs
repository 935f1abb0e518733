//! `strata`: the thin command line over the `strata` library. It parses arguments, resolves
//! them once into a project, migrations and a target, calls the library, and renders the result
//! (human text or JSON). It holds no migration logic.

mod args;
mod cmd_backup;
mod cmd_diff;
mod cmd_lint;
mod cmd_rollback;
mod cmd_verify;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use serde_json::{json, Value};
use strata::act::Actor;
use strata::apply::{PushOptions, SeedFile};
use strata::config::{parse_duration, Project};
use strata::error::exit_code;
use strata::history::{History, RepairStatus};
use strata::local::{ClusterStatus, LocalCluster};
use strata::platform::Platform;
use strata::source::SourceOptions;
use strata::target::{self, Target, TargetRequest};
use strata::{Error, MigrationSet, Migrator};

use args::{Cli, Command, DbCommand, MigrationCommand, RepairStatusArg};
use render::Renderer;

fn main() -> ExitCode {
    // Behave like other Unix tools when stdout is closed early (`strata push --dry-run | head`).
    // SAFETY: resetting a signal disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    if let Command::Lint(a) = &cli.command {
        return cmd_lint::main(&cli, a);
    }
    let out = Renderer::new(cli.global.output, cli.global.quiet);
    let command = command_name(&cli.command);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit_code::FAILURE as u8);
        }
    };
    match runtime.block_on(run(cli, &out)) {
        Ok(result) => {
            // A command that ran but found something (drift) sets its own exit code.
            let code = EXIT_CODE.load(std::sync::atomic::Ordering::Relaxed);
            out.json(&json!({ "command": command, "ok": code == 0, "result": result }));
            ExitCode::from(code)
        }
        Err(e) => {
            out.error(command, &e);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// The exit code of a command that completed but found a problem to report (drift: 4).
static EXIT_CODE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Sets the exit code of a command that completes (see `docs/exit-codes.md`).
fn set_exit_code(code: i32) {
    EXIT_CODE.store(code as u8, std::sync::atomic::Ordering::Relaxed);
}

/// Clap's errors and `--help`/`--version`: as clap prints them, except that under
/// `--output json` a usage error is a JSON document too.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args().collect();
    let json = args
        .windows(2)
        .any(|w| (w[0] == "--output" || w[0] == "-o") && w[1] == "json")
        || args.iter().any(|a| a == "--output=json" || a == "-ojson");
    if json && !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let message = e
            .kind()
            .as_str()
            .unwrap_or("invalid command line")
            .to_string();
        let detail = e.to_string();
        let v = json!({ "command": null, "ok": false, "error": {
            "kind": "usage", "message": message, "hint": "see `strata --help`",
            "details": { "clap": detail.trim() } } });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return ExitCode::from(exit_code::USAGE as u8);
    }
    e.exit()
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Push(_) => "push",
        Command::Rollback(_) => "rollback",
        Command::Backup(_) => "backup",
        Command::Restore(_) => "restore",
        Command::Lint(_) => "lint",
        Command::Migration(MigrationCommand::New { .. }) => "migration new",
        Command::Migration(MigrationCommand::List { .. }) => "migration list",
        Command::Migration(MigrationCommand::Repair { .. }) => "migration repair",
        Command::Migration(MigrationCommand::Adopt { .. }) => "migration adopt",
        Command::Db(DbCommand::Start) => "db start",
        Command::Db(DbCommand::Stop) => "db stop",
        Command::Db(DbCommand::Status) => "db status",
        Command::Db(DbCommand::Url) => "db url",
        Command::Db(DbCommand::Reset) => "db reset",
        Command::Init(_) => "init",
        Command::Sql(_) => "sql",
        Command::Link(_) => "link",
        Command::Diff(_) => "diff",
        Command::Verify(_) => "verify",
    }
}

/// Everything resolved once from flags, strata.toml and the environment.
pub(crate) struct Context {
    pub(crate) project: Project,
    dir_flag: Option<PathBuf>,
    platform_flag: Option<String>,
    pub(crate) request: TargetRequest,
}

impl Context {
    fn new(cli: &Cli) -> Result<Context, Error> {
        let cwd = std::env::current_dir().map_err(|e| Error::Io {
            action: "read",
            path: ".".into(),
            source: e,
        })?;
        let project = Project::discover(&cwd, cli.global.config.as_deref())?;
        let g = &cli.global;
        Ok(Context {
            project,
            dir_flag: g.dir.clone(),
            platform_flag: g.platform.clone(),
            request: TargetRequest {
                db_url: g.db_url.clone(),
                env: g.env.clone(),
                linked: g.linked,
                lock_timeout: g.lock_timeout.clone(),
                statement_timeout: g.statement_timeout.clone(),
            },
        })
    }

    pub(crate) fn migrations_dir(&self) -> Result<PathBuf, Error> {
        self.project.migrations_dir(self.dir_flag.as_deref())
    }

    pub(crate) fn migrations(&self) -> Result<MigrationSet, Error> {
        let dir = self.migrations_dir()?;
        MigrationSet::load(
            &dir,
            &SourceOptions {
                legacy_order: self.project.config.legacy_order.clone(),
                rollbacks_dir: self.rollbacks_dir(),
            },
        )
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

    pub(crate) fn target(&self) -> Result<Target, Error> {
        target::resolve_and_start(&self.project, &self.request)
    }

    pub(crate) fn lock_wait(&self, flag: Option<&str>) -> Result<Duration, Error> {
        match (flag, &self.project.config.lock_wait) {
            (Some(v), _) => parse_duration("--lock-wait", v),
            (None, Some(v)) => parse_duration("lock_wait", v),
            (None, None) => Ok(Duration::from_secs(60)),
        }
    }

    pub(crate) fn seeds(&self) -> Result<Vec<SeedFile>, Error> {
        let dir = self.migrations_dir()?;
        self.project
            .seed_files(&dir)?
            .iter()
            .map(|p| SeedFile::read(&self.project.root, p))
            .collect()
    }

    pub(crate) fn cluster(&self) -> LocalCluster {
        LocalCluster::new(self.project.state_dir())
    }
}

async fn run(cli: Cli, out: &Renderer) -> Result<Value, Error> {
    let ctx = Context::new(&cli)?;
    match &cli.command {
        Command::Push(a) => {
            let target = ctx.target()?;
            let (set, (mut client, history)) = load_and_connect(&ctx, &target).await?;
            if !a.no_lint {
                cmd_lint::check_pending(
                    &ctx,
                    &set,
                    &history,
                    out,
                    cli.global.output == args::Output::Json,
                )?;
            }
            let warnings = if a.check_drift {
                cmd_diff::check_drift(&ctx, &set, &history, &target, out).await?
            } else {
                Vec::new()
            };
            let options = PushOptions {
                dry_run: a.dry_run,
                include_all: a.include_all,
                lock_wait: ctx.lock_wait(a.lock_wait.as_deref())?,
                seeds: if a.include_seed {
                    ctx.seeds()?
                } else {
                    Vec::new()
                },
                platform: ctx.platform()?,
            };
            out.target(&target);
            let progress = Arc::new(out.progress());
            let migrator = Migrator::new(set)
                .with_options(options)
                .with_observer(progress.clone());
            let backup =
                cmd_backup::before_push(&ctx, a, &target, &migrator, &client, &history, out)
                    .await?;
            let report = migrator
                .push_connected(&mut client, &target, Some(history))
                .await;
            progress.finish();
            let report = report?;
            out.push(&report, migrator.migrations().migrations.len());
            let mut value = serde_json::to_value(&report).unwrap_or_default();
            if a.check_drift {
                value["warnings"] = json!(warnings);
            }
            if let Some(o) = value.as_object_mut() {
                o.insert(
                    "backup".into(),
                    serde_json::to_value(&backup).unwrap_or_default(),
                );
            }
            Ok(value)
        }
        Command::Rollback(a) => cmd_rollback::run(&ctx, a, out).await,
        Command::Backup(a) => cmd_backup::run_backup(&ctx, a, out).await,
        Command::Restore(a) => cmd_backup::run_restore(&ctx, a, out).await,
        Command::Migration(MigrationCommand::List { check_drift }) => {
            let target = ctx.target()?;
            let (set, (client, history)) = load_and_connect(&ctx, &target).await?;
            let warnings = if *check_drift {
                cmd_diff::check_drift(&ctx, &set, &history, &target, out).await?
            } else {
                Vec::new()
            };
            let migrator = Migrator::new(set);
            let (_, plan) = migrator.plan_from(&client, history).await?;
            out.list(&target, &plan);
            let mut value = json!({ "target": target.display(), "migrations": plan.rows, "problems": plan.problems });
            if *check_drift {
                value["warnings"] = json!(warnings);
            }
            Ok(value)
        }
        Command::Diff(a) => cmd_diff::diff(&ctx, a, out).await,
        Command::Verify(a) => cmd_verify::verify(&ctx, a, out).await,
        Command::Migration(MigrationCommand::New { name, rollback }) => {
            let dir = match ctx.migrations_dir() {
                Ok(d) => d,
                Err(Error::NoMigrationsDir { .. }) => ctx.project.root.join("supabase/migrations"),
                Err(e) => return Err(e),
            };
            let created = strata::author::new_migration(
                &dir,
                name,
                &strata::author::default_author(),
                time::OffsetDateTime::now_utc(),
                *rollback,
            )?;
            out.new_migration(&created);
            Ok(serde_json::to_value(&created).unwrap_or_default())
        }
        Command::Migration(MigrationCommand::Repair { status, versions }) => {
            let set = ctx.migrations()?;
            let parsed = versions
                .iter()
                .map(|v| {
                    strata::Version::parse(v).ok_or_else(|| Error::Setting {
                        setting: "VERSION".into(),
                        message: format!("`{v}` is not a version (digits only)"),
                        hint: Some("pass the digits before the first _ of the file name".into()),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let status = match status {
                RepairStatusArg::Applied => RepairStatus::Applied,
                RepairStatusArg::Reverted => RepairStatus::Reverted,
            };
            let mut local = Vec::new();
            if status == RepairStatus::Applied {
                for v in &parsed {
                    let m = set.get(v).ok_or_else(|| Error::Setting {
                        setting: "VERSION".into(),
                        message: format!("no local migration has version {v}"),
                        hint: Some("`--status applied` records a local file; check the version with `strata migration list`".into()),
                    })?;
                    m.statements()?;
                    local.push(m);
                }
            }
            let target = ctx.target()?;
            let mut client = target.connect().await?;
            let changes = strata::history::repair(
                &mut client,
                status,
                &local,
                &parsed,
                &strata::history::applied_by(),
            )
            .await?;
            out.repair(&changes);
            Ok(json!({ "target": target.display(), "changes": changes }))
        }
        Command::Migration(MigrationCommand::Adopt { dry_run }) => {
            let dir = ctx.migrations_dir()?;
            let renames = strata::author::adopt(&dir, &ctx.project.config.legacy_order, *dry_run)?;
            out.adopt(&renames, *dry_run);
            Ok(json!({ "dry_run": dry_run, "renames": renames }))
        }
        Command::Db(cmd) => db(&ctx, cmd, out).await,
        Command::Lint(_) => unreachable!("`strata lint` is handled by cmd_lint::main"),
        Command::Sql(a) => {
            let actor = match (&a.as_user, a.as_role.as_deref()) {
                (Some(uuid), _) => Some(Actor::User(uuid.clone())),
                (None, Some("anon")) => Some(Actor::Anon),
                (None, Some(_)) => Some(Actor::ServiceRole),
                (None, None) => None,
            };
            let target = ctx.target()?;
            let client = target.connect().await?;
            let result = match &actor {
                Some(actor) => strata::act::run_as(&client, actor, &a.sql, a.rollback).await?,
                None => strata::act::run_as_connection_user(&client, &a.sql, a.rollback).await?,
            };
            out.sql(&result);
            Ok(serde_json::to_value(&result).unwrap_or_default())
        }
        Command::Init(a) => {
            let path = ctx.project.root.join(strata::config::CONFIG_FILE);
            let mut created = Vec::new();
            if !path.exists() {
                std::fs::write(&path, strata::config::TEMPLATE).map_err(|e| Error::Io {
                    action: "write",
                    path: path.clone(),
                    source: e,
                })?;
                created.push(path.clone());
            }
            let dir = ctx.project.root.join(&a.migrations_dir);
            if !dir.exists() {
                std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
                    action: "create",
                    path: dir.clone(),
                    source: e,
                })?;
                created.push(dir.clone());
            }
            let gitignore = ctx.project.root.join(".gitignore");
            let ignored = std::fs::read_to_string(&gitignore).unwrap_or_default();
            if !ignored
                .lines()
                .any(|l| l.trim() == ".strata/" || l.trim() == ".strata")
            {
                let mut text = ignored;
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(".strata/\n");
                std::fs::write(&gitignore, text).map_err(|e| Error::Io {
                    action: "write",
                    path: gitignore.clone(),
                    source: e,
                })?;
                created.push(gitignore);
            }
            out.init(&created);
            Ok(json!({ "created": created }))
        }
        Command::Link(a) => {
            target::validate_project_ref(&a.project_ref)?;
            let state = ctx.project.state_dir();
            std::fs::create_dir_all(&state).map_err(|e| Error::Io {
                action: "create",
                path: state.clone(),
                source: e,
            })?;
            let path = state.join("project-ref");
            std::fs::write(&path, format!("{}\n", a.project_ref)).map_err(|e| Error::Io {
                action: "write",
                path: path.clone(),
                source: e,
            })?;
            out.line(&format!(
                "Linked Supabase project {} (recorded in {}). Use --linked with SUPABASE_DB_PASSWORD set.",
                a.project_ref,
                path.display()
            ));
            Ok(json!({ "project_ref": a.project_ref, "file": path }))
        }
    }
}

/// Reads the migrations directory on a blocking thread while connecting and reading the
/// history: on a no-op push over thousands of files the two take about as long as each other.
pub(crate) async fn load_and_connect(
    ctx: &Context,
    target: &Target,
) -> Result<(MigrationSet, (tokio_postgres::Client, History)), Error> {
    let dir = ctx.migrations_dir()?;
    let options = SourceOptions {
        legacy_order: ctx.project.config.legacy_order.clone(),
        rollbacks_dir: ctx.rollbacks_dir(),
    };
    let load = tokio::task::spawn_blocking(move || MigrationSet::load(&dir, &options));
    let remote = async {
        let client = target.connect().await?;
        let history = History::read(&client).await?;
        Ok::<_, Error>((client, history))
    };
    let (set, remote) = tokio::join!(load, remote);
    let set = set.map_err(|e| Error::Setting {
        setting: "migrations".into(),
        message: format!("reading migrations failed: {e}"),
        hint: None,
    })??;
    Ok((set, remote?))
}

async fn db(ctx: &Context, cmd: &DbCommand, out: &Renderer) -> Result<Value, Error> {
    let cluster = ctx.cluster();
    let database = &ctx.project.config.local.database;
    match cmd {
        DbCommand::Start => {
            let started = std::time::Instant::now();
            let info = cluster.start()?;
            out.line(&format!(
                "Local PostgreSQL {} running on port {} (pid {}) in {} ms\n{}",
                info.version,
                info.port,
                info.pid,
                started.elapsed().as_millis(),
                info.url(database)
            ));
            Ok(json!({ "status": ClusterStatus::Running(info.clone()), "url": info.url(database) }))
        }
        DbCommand::Stop => {
            let stopped = cluster.stop()?;
            out.line(if stopped {
                "Local PostgreSQL stopped."
            } else {
                "Local PostgreSQL was not running."
            });
            Ok(json!({ "stopped": stopped }))
        }
        DbCommand::Status => {
            let status = cluster.status()?;
            out.db_status(&status, database);
            Ok(serde_json::to_value(&status).unwrap_or_default())
        }
        DbCommand::Url => {
            let info = cluster.start()?;
            let url = info.url(database);
            out.url(&url);
            Ok(json!({ "url": url }))
        }
        DbCommand::Reset => {
            if ctx.request.db_url.is_some() || ctx.request.env.is_some() || ctx.request.linked {
                return Err(Error::Setting {
                    setting: "db reset".into(),
                    message: "db reset only recreates the local database".into(),
                    hint: Some("it drops all data; for remote targets use `strata push` (and `strata rollback`)".into()),
                });
            }
            let started = std::time::Instant::now();
            let set = ctx.migrations()?;
            let seeds = ctx.seeds()?;
            let info = cluster.start()?;
            let admin = Target::local(&info.url("template1"), Default::default())?;
            let client = admin.connect().await?;
            let quoted = format!("\"{}\"", database.replace('"', "\"\""));
            for statement in [
                format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"),
                format!("CREATE DATABASE {quoted}"),
            ] {
                // Separate queries: neither may run inside a (multi-statement) transaction block.
                client
                    .batch_execute(&statement)
                    .await
                    .map_err(|e| Error::db(format!("recreating database {database}"), e))?;
            }
            drop(client);
            let target = ctx.target()?;
            out.target(&target);
            let progress = Arc::new(out.progress());
            let migrator = Migrator::new(set)
                .with_options(PushOptions {
                    seeds,
                    platform: ctx.platform()?,
                    ..PushOptions::default()
                })
                .with_observer(progress.clone());
            let report = migrator.push(&target).await;
            progress.finish();
            let report = report?;
            out.push(&report, migrator.migrations().migrations.len());
            out.line(&format!(
                "Reset {database} in {} ms.",
                started.elapsed().as_millis()
            ));
            Ok(serde_json::to_value(&report).unwrap_or_default())
        }
    }
}
