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
        // `main` sends `migration list --fleet` to `cmd_fleet::list` (it fails as a fleet does).
        MigrationCommand::List { fleet: Some(_), .. } => {
            unreachable!("migration list --fleet is dispatched by main")
        }
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
            let set = if dir.is_dir() {
                ctx.migrations()?
            } else {
                strata::MigrationSet::empty(Some(dir.clone()))
            };
            let check = crate::cmd_lint::written_gate(ctx);
            let created = if layout.is_tool() {
                // Named and shaped as the project's tool writes them.
                strata::author::new_in_layout(
                    &set,
                    &dir,
                    layout,
                    name,
                    time::OffsetDateTime::now_utc(),
                    *rollback,
                    "",
                    "",
                    &check,
                )?
            } else {
                strata::author::new_migration(
                    &set,
                    &dir,
                    ctx.rollbacks_dir_for(&dir).as_deref(),
                    name,
                    &strata::author::default_author(),
                    time::OffsetDateTime::now_utc(),
                    *rollback,
                    &check,
                )?
            };
            out.new_migration(&created);
            Ok(Outcome::ok(
                serde_json::to_value(&created).unwrap_or_default(),
            ))
        }
        MigrationCommand::Repair {
            status,
            versions,
            lock_wait,
        } => {
            let set = ctx.migrations()?;
            let status = match status {
                RepairStatusArg::Applied => RepairStatus::Applied,
                RepairStatusArg::Reverted => RepairStatus::Reverted,
            };
            // Every version is checked against the files before anything connects.
            let request = strata::history::RepairRequest::new(&set, status, versions)?;
            let target = ctx.target()?;
            out.target(&target);
            let lock_wait = ctx.lock_wait(lock_wait.as_deref())?;
            let mut client = target.connect().await?;
            let progress = out.progress();
            let changes = request
                .apply(
                    &mut client,
                    &target.display(),
                    lock_wait,
                    &strata::history::applied_by(),
                    |holders| progress.lock_waiting(holders),
                )
                .await?;
            out.repair(&changes);
            Ok(Outcome::ok(
                json!({ "target": target.display(), "changes": changes }),
            ))
        }
        MigrationCommand::Squash {
            to,
            dry_run,
            lock_wait,
        } => squash(ctx, to, *dry_run, lock_wait.as_deref(), out).await,
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

/// `strata migration squash --to VERSION`: `strata::squash::run` (prove, lock, re-read, write),
/// rendered.
async fn squash(
    ctx: &Context,
    to: &str,
    dry_run: bool,
    lock_wait: Option<&str>,
    out: &Renderer,
) -> Result<Outcome, Error> {
    use strata::squash;
    // Inputs first: bad versions, settings and files start nothing.
    let Some(version) = strata::Version::parse(to) else {
        return Err(Error::Setting {
            setting: "--to".into(),
            message: format!("`{to}` is not a version (digits, or digit groups separated by dots)"),
            hint: Some(
                "pass the version of a migration file (`strata migration list` shows them)".into(),
            ),
        });
    };
    let lock_wait = ctx.lock_wait(lock_wait)?;
    let platform = ctx.platform()?;
    ctx.migrations()?;
    let target = match ctx.request.named_by() {
        Some(_) => {
            let t = ctx.target()?;
            out.target(&t);
            Some(t)
        }
        None => None,
    };
    let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
    out.scratch(&scratch);
    let scope = strata::diff::Scope::resolve(platform, &scratch).await?;
    let check = crate::cmd_lint::written_gate(ctx);
    let author = strata::author::default_author();
    let applied_by = strata::history::applied_by();
    let state_dir = ctx.project.state_dir();
    let options = squash::Options {
        platform,
        scratch: &scratch,
        scope: &scope,
        author: &author,
        check: &check,
        state_dir: &state_dir,
        lock_wait,
        applied_by: &applied_by,
    };
    let load = || ctx.migrations();
    let request = squash::Request {
        to: version.clone(),
        dry_run,
        target: target.as_ref(),
        load: &load,
    };
    let progress = out.progress();
    let report = squash::run(&request, &options, &|holders| {
        progress.lock_waiting(holders)
    })
    .await?;
    if report.recovered {
        out.line(
            "Finished an interrupted squash of this project first (its files were put in place).",
        );
    }
    if let Some(plan) = &report.squash {
        out.line(&format!(
            "Proven on scratch databases: the baseline and the later migrations build the same schema (column order included) and rows as the {} original migrations; its rollback undoes it.",
            plan.squashed.len()
        ));
    }
    if dry_run {
        if let Some(plan) = &report.squash {
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
        if let Some(h) = &report.history {
            out.line(&if h.already {
                format!("{}: records the baseline already.", h.target)
            } else {
                format!(
                    "{}: would replace the history rows of {} by the baseline's.",
                    h.target,
                    h.replaced
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
        out.line("Dry run: nothing was written or changed.");
    } else {
        if let (Some(plan), Some(w)) = (&report.squash, &report.written) {
            out.line(&format!(
                "Squashed {} migration(s) into {} (rollback: {}); removed {} file(s).",
                plan.squashed.len(),
                w.path.display(),
                w.rollback
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                plan.replaced.len()
            ));
        }
        match &report.history {
            Some(h) if h.already => out.line(&format!(
                "{}: records the baseline already; nothing to do.",
                h.target
            )),
            Some(h) => out.line(&format!(
                "{}: {} history row(s) replaced by the baseline's; the next push there has nothing to do.",
                h.target,
                h.replaced.len()
            )),
            None if report.squash.is_none() => {
                return Err(Error::Setting {
                    setting: "--to".into(),
                    message: format!(
                        "{to} is a baseline already: the files are squashed"
                    ),
                    hint: Some(
                        "to record it on a database that applied the squashed migrations, name it: --db-url, --env or --linked".into(),
                    ),
                });
            }
            None => {}
        }
    }
    Ok(Outcome::ok(json!({
        "dry_run": dry_run,
        "squash": report.squash,
        "recovered": report.recovered,
        "written": report.written.map(|w| json!({ "path": w.path, "rollback": w.rollback })),
        "history": report.history,
    })))
}
