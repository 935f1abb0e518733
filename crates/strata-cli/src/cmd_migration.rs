//! `strata migration new|list|repair|adopt`.

use serde_json::json;
use strata::history::RepairStatus;
use strata::{Error, Migrator};

use crate::args::{MigrationCommand, RepairStatusArg};
use crate::cmd_diff;
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) async fn run(
    ctx: &Context,
    cmd: &MigrationCommand,
    out: &Renderer,
) -> Result<Outcome, Error> {
    match cmd {
        MigrationCommand::List {
            fleet: Some(fleet),
            check_drift,
        } => crate::cmd_fleet::list(ctx, fleet, *check_drift, out).await,
        MigrationCommand::List { check_drift, .. } => {
            let (mut set, target, session, history) = ctx
                .load_and_connect(out, crate::context::Need::History)
                .await?;
            let warnings = if *check_drift {
                set.read_deferred()?;
                cmd_diff::check_drift(ctx, &set, &history, &target, out).await?
            } else {
                Vec::new()
            };
            let migrator = Migrator::new(set);
            let (_, plan) = migrator.plan_from(&session, history).await?;
            out.list(&target, &plan);
            let mut value = crate::context::with_source_facts(
                json!({ "target": target.display(), "migrations": plan.rows, "problems": plan.problems }),
                migrator.migrations(),
            );
            if *check_drift {
                value["warnings"] = json!(warnings);
            }
            Ok(Outcome::ok(value))
        }
        MigrationCommand::New { name, rollback } => {
            let dir = match ctx.migrations_dir() {
                Ok(d) => d,
                Err(Error::NoMigrationsDir { .. }) => ctx.project.root.join("supabase/migrations"),
                Err(e) => return Err(e),
            };
            let layout = ctx.project.layout_for(&dir);
            let created = if layout.is_tool() {
                // Named and shaped as the project's tool writes them.
                let set = ctx.migrations()?;
                strata::author::new_in_layout(
                    &set,
                    &dir,
                    layout,
                    name,
                    time::OffsetDateTime::now_utc(),
                    *rollback,
                    "",
                    "",
                )?
            } else {
                strata::author::new_migration(
                    &dir,
                    ctx.rollbacks_dir_for(&dir).as_deref(),
                    name,
                    &strata::author::default_author(),
                    time::OffsetDateTime::now_utc(),
                    *rollback,
                )?
            };
            out.new_migration(&created);
            Ok(Outcome::ok(
                serde_json::to_value(&created).unwrap_or_default(),
            ))
        }
        MigrationCommand::Repair { status, versions } => {
            let set = ctx.migrations()?;
            let status = match status {
                RepairStatusArg::Applied => RepairStatus::Applied,
                RepairStatusArg::Reverted => RepairStatus::Reverted,
            };
            // Every version is checked against the files before anything connects.
            let request = strata::history::RepairRequest::new(&set, status, versions)?;
            let target = ctx.target()?;
            out.target(&target);
            let mut client = target.connect().await?;
            let changes = request
                .apply(
                    &mut client,
                    &target.display(),
                    ctx.lock_wait(None)?,
                    &strata::history::applied_by(),
                )
                .await?;
            out.repair(&changes);
            Ok(Outcome::ok(
                json!({ "target": target.display(), "changes": changes }),
            ))
        }
        MigrationCommand::Squash { to, dry_run } => squash(ctx, to, *dry_run, out).await,
        MigrationCommand::Adopt { dry_run } => {
            let dir = ctx.migrations_dir()?;
            let renames = strata::author::adopt(&dir, &ctx.project.config.legacy_order, *dry_run)?;
            out.adopt(&renames, *dry_run);
            Ok(Outcome::ok(
                json!({ "dry_run": dry_run, "renames": renames }),
            ))
        }
    }
}

/// `strata migration squash --to VERSION`: plan, prove, write, then rewrite the named
/// database's history; with the files squashed already, only the history.
async fn squash(ctx: &Context, to: &str, dry_run: bool, out: &Renderer) -> Result<Outcome, Error> {
    use strata::squash::{self, HistoryFit};
    let set = ctx.migrations()?;
    let Some(version) = strata::Version::parse(to) else {
        return Err(Error::Setting {
            setting: "--to".into(),
            message: format!("`{to}` is not a version (digits, or digit groups separated by dots)"),
            hint: Some(
                "pass the version of a migration file (`strata migration list` shows them)".into(),
            ),
        });
    };
    let r = &ctx.request;
    let live = r.named_by().is_some();
    let already = set
        .migrations
        .first()
        .filter(|m| m.version == version && m.name == squash::BASELINE_NAME)
        .cloned();
    // Inputs first: the named database must fit the squash before anything is written.
    let connection = if live {
        let target = ctx.target()?;
        out.target(&target);
        let client = target.connect().await?;
        let history = strata::History::read(&client).await?;
        Some((target, client, history))
    } else {
        None
    };
    let platform = ctx.platform()?;
    let scope = strata::diff::Scope::for_platform(platform);
    let (baseline, squashed, plan) = match already {
        Some(baseline) => {
            if connection.is_none() {
                return Err(Error::Setting {
                    setting: "--to".into(),
                    message: format!(
                        "{} is a baseline already: the files are squashed",
                        baseline.path.display()
                    ),
                    hint: Some(
                        "to record it on a database that applied the squashed migrations, name it: --db-url, --env or --linked".into(),
                    ),
                });
            }
            (baseline, None, None)
        }
        None => {
            let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
            let plan = squash::plan(&set, &version, platform, &scratch, &scope).await?;
            let baseline = squash::squashed_set(&set, &plan).migrations[0].clone();
            if let Some((_, _, history)) = &connection {
                squash::history_fit(history, &baseline, Some(&plan.versions))?;
            }
            squash::prove(&set, &plan, platform, &scratch, &scope).await?;
            out.line(&format!(
                "Proven on scratch databases: the baseline and the later migrations build the same schema and rows as the {} original migrations; its rollback undoes it.",
                set.migrations.len()
            ));
            (baseline, Some(plan.versions.clone()), Some(plan))
        }
    };
    if dry_run {
        if let Some(plan) = &plan {
            out.line(&format!(
                "Would replace {} file(s) by {}_{}.sql; rows kept: {}",
                plan.replaced.len(),
                plan.version,
                squash::BASELINE_NAME,
                if plan.data.is_empty() {
                    "none".to_string()
                } else {
                    plan.data
                        .iter()
                        .map(|(t, n)| format!("{t} ({n})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
            out.line("-- The baseline:");
            out.line(&plan.sql);
        }
        return Ok(Outcome::ok(json!({ "dry_run": true, "squash": plan })));
    }
    let mut written = None;
    if let Some(plan) = &plan {
        let created = squash::write(
            &set,
            plan,
            &strata::author::default_author(),
            time::OffsetDateTime::now_utc(),
        )?;
        out.line(&format!(
            "Squashed {} migration(s) into {} (rollback: {}); removed {} file(s).",
            plan.versions.len(),
            created.path.display(),
            created
                .rollback
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            plan.replaced.len()
        ));
        written = Some(created);
    }
    // The baseline as written (its header included): the history records that file.
    let baseline = if plan.is_some() {
        ctx.migrations()?
            .migrations
            .into_iter()
            .find(|m| m.version == version)
            .unwrap_or(baseline)
    } else {
        baseline
    };
    let mut history = None;
    if let Some((target, mut client, h)) = connection {
        let replaced = match squash::history_fit(&h, &baseline, squashed.as_deref())? {
            HistoryFit::Done => 0,
            HistoryFit::Replace(versions) => {
                squash::replace_history(
                    &mut client,
                    &target.display(),
                    ctx.lock_wait(None)?,
                    &baseline,
                    &versions,
                    &strata::history::applied_by(),
                )
                .await?
            }
        };
        out.line(&format!(
            "{}: {} history row(s) replaced by the baseline's; the next push there has nothing to do.",
            target.display(),
            replaced
        ));
        history = Some(json!({ "target": target.display(), "replaced": replaced }));
    }
    Ok(Outcome::ok(json!({
        "squash": plan,
        "written": written.map(|w| json!({ "path": w.path, "rollback": w.rollback })),
        "history": history,
    })))
}
