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
        MigrationCommand::List { check_drift } => {
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
