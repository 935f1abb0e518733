//! `strata db start|stop|status|url|reset`: the local cluster. These commands concern the local
//! cluster only; `DATABASE_URL` and the other target settings never change what they act on.

use std::sync::Arc;

use serde_json::json;
use strata::apply::PushOptions;
use strata::local::ClusterStatus;
use strata::{Error, Migrator};

use crate::args::DbCommand;
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) async fn run(ctx: &Context, cmd: &DbCommand, out: &Renderer) -> Result<Outcome, Error> {
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
            Ok(Outcome::ok(
                json!({ "status": ClusterStatus::Running(info.clone()), "url": info.url(database) }),
            ))
        }
        DbCommand::Stop => {
            let stopped = cluster.stop()?;
            out.line(if stopped {
                "Local PostgreSQL stopped."
            } else {
                "Local PostgreSQL was not running."
            });
            // The private clusters scratch builds use (.strata/scratch) stop with it.
            let scratch = strata::scratch::stop_pool(&ctx.project.state_dir())?;
            if scratch > 0 {
                out.line(&format!("Stopped {scratch} scratch cluster(s) too."));
            }
            Ok(Outcome::ok(
                json!({ "stopped": stopped, "scratch_clusters_stopped": scratch }),
            ))
        }
        DbCommand::Status => {
            let status = cluster.status()?;
            out.db_status(&status, database);
            Ok(Outcome::ok(
                serde_json::to_value(&status).unwrap_or_default(),
            ))
        }
        DbCommand::Url => {
            let info = cluster.start()?;
            let url = info.url(database);
            out.url(&url);
            Ok(Outcome::ok(json!({ "url": url })))
        }
        DbCommand::Reset(a) => reset(ctx, a.from_schemas, out).await,
    }
}

/// Drops and recreates the local database, then applies every migration (or, `from_schemas`,
/// every schema file, recording no migration as applied) and the seed.
async fn reset(ctx: &Context, from_schemas: bool, out: &Renderer) -> Result<Outcome, Error> {
    if let Some(flag) = ctx.request.named_by() {
        return Err(Error::Setting {
            setting: flag.into(),
            message: format!("db reset only recreates the local database; it does not take {flag}"),
            hint: Some(
                "it drops all data; for other databases use `strata push` (and `strata rollback`)"
                    .into(),
            ),
        });
    }
    // An application's DATABASE_URL (environment or .env) is not db reset's target.
    let ignored = ctx.project.var("DATABASE_URL").map(|url| {
        let shown = strata::conninfo::ConnInfo::parse(url.trim())
            .map(|c| c.display())
            .unwrap_or_else(|_| "(a connection string)".into());
        let from = if std::env::var_os("DATABASE_URL").is_some() {
            "the environment"
        } else {
            ".env"
        };
        format!("DATABASE_URL from {from} ({shown}) is not db reset's target and was not touched")
    });
    let started = std::time::Instant::now();
    // Inputs first: nothing is started or dropped when the files or settings are wrong.
    let mut set = ctx.migrations()?;
    out.source_facts(&set.skipped, &set.notes);
    let schema_files = if from_schemas {
        let sources = ctx.project.schema_files(&ctx.migrations_dir()?)?;
        for w in &sources.warnings {
            out.warn(w);
        }
        if sources.files.is_empty() {
            return Err(Error::Setting {
                setting: "--from-schemas".into(),
                message: format!(
                    "no schema files: {} names none ({} holds no .sql file)",
                    sources.source,
                    sources.dir.display()
                ),
                hint: Some(
                    "`strata schema dump` writes them from the migrations; or reset from the migrations without --from-schemas".into(),
                ),
            });
        }
        set = strata::schema::SchemaFiles::read(&sources.files)?.as_set();
        Some(sources.files)
    } else {
        None
    };
    let (seeds, mut warnings) = ctx.seeds(false, out)?;
    let (migrations_enabled, skipped) = ctx.migrations_enabled(out)?;
    warnings.extend(skipped);
    let platform = ctx.platform()?;
    let database = ctx.project.config.local.database.clone();
    let info = ctx.cluster().start()?;
    if let Some(note) = &ignored {
        out.warn(note);
        warnings.push(note.clone());
    }
    strata::scratch::recreate_database(&info, &database).await?;
    let target = ctx.local_target()?;
    out.target(&target);
    let progress = Arc::new(out.progress());
    let migrator = Migrator::new(set)
        .with_options(PushOptions {
            seeds,
            platform,
            migrations_enabled,
            ..PushOptions::default()
        })
        .with_observer(progress.clone());
    let report = migrator.push(&target).await;
    progress.finish();
    let report = report?;
    out.push(&report, migrator.migrations().migrations.len());
    if let Some(files) = &schema_files {
        // The schema files are not migrations: the database holds their state, and no
        // migration is recorded as applied.
        let client = target.connect().await?;
        strata::history::clear(&client).await?;
        out.line(&format!(
            "Reset {database} from {} schema file(s) in {} ms. No migration is recorded as applied: `strata db reset` builds from the migrations again.",
            files.len(),
            started.elapsed().as_millis()
        ));
    } else {
        out.line(&format!(
            "Reset {database} in {} ms.",
            started.elapsed().as_millis()
        ));
    }
    let mut value = crate::context::with_source_facts(
        serde_json::to_value(&report).unwrap_or_default(),
        migrator.migrations(),
    );
    value["warnings"] = json!(warnings);
    value["from_schemas"] = json!(schema_files);
    Ok(Outcome::ok(value))
}
