//! `strata diff` and `--check-drift`: resolve the scope, call `strata::diff::drift`, render.

use crate::failure::exit_code;
use serde_json::json;
use strata::diff::{self, Scope};
use strata::history::History;
use strata::target::Target;
use strata::{Error, MigrationSet};

use crate::args::DiffArgs;
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) async fn diff(ctx: &Context, args: &DiffArgs, out: &Renderer) -> Result<Outcome, Error> {
    // Inputs first: bad files, settings or names start nothing.
    let set = ctx.migrations()?;
    let platform = ctx.platform()?;
    let mut scope = Scope::for_platform(platform);
    scope.schemas = args.schemas.clone();
    if let Some(name) = &args.write {
        strata::author::check_name(name)?;
    }
    let target = ctx.target()?;
    out.target(&target);
    let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
    let drift = diff::drift(set, platform, &scratch, &target, &scope).await?;
    out.diff(&drift, &target);
    let mut written = Vec::new();
    let mut record = None;
    let mut exit = exit_code::SUCCESS;
    if let (Some(name), false) = (&args.write, drift.differences.is_empty()) {
        let dir = ctx.migrations_dir()?;
        let rollbacks = ctx.rollbacks_dir_for(&dir);
        let layout = ctx.project.layout_for(&dir);
        let created = if layout.is_tool() {
            // In the project's tool's own shape (sections, up/down files …).
            strata::author::new_in_layout(
                &ctx.migrations()?,
                &dir,
                layout,
                name,
                time::OffsetDateTime::now_utc(),
                true,
                &drift.fix.sql,
                &drift.fix.rollback_sql,
            )?
        } else {
            strata::author::write_migration(
                &dir,
                rollbacks.as_deref(),
                name,
                &strata::author::default_author(),
                time::OffsetDateTime::now_utc(),
                &drift.fix.sql,
                &drift.fix.rollback_sql,
            )?
        };
        out.new_migration(&created);
        let version = created
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('_').next())
            .unwrap_or("")
            .to_string();
        let command = out.hint(&format!(
            "`strata migration repair --status applied {version}`"
        ));
        let note = format!(
            "{} already has this change: record the new migration as applied there with {command}; a push there also works, as the file only creates what is missing",
            target.display()
        );
        out.line(&note);
        record = Some(command);
        written.push(created.path.clone());
        written.extend(created.rollback.clone());
    } else if !drift.differences.is_empty() {
        exit = exit_code::DRIFT;
    }
    let value = json!({
        "target": target.display(),
        "drift": !drift.differences.is_empty(),
        "differences": drift.differences,
        "sql": drift.fix.sql,
        "rollback_sql": drift.fix.rollback_sql,
        "written": written,
        "record_applied": record,
    });
    Ok(Outcome::with_exit(value, exit))
}

/// `--check-drift`: compares the target with what its applied migrations build and returns one
/// warning per difference (printed to stderr in human mode). Applies nothing.
pub(crate) async fn check_drift(
    ctx: &Context,
    set: &MigrationSet,
    history: &History,
    target: &Target,
    out: &Renderer,
) -> Result<Vec<String>, Error> {
    let applied: std::collections::BTreeSet<&str> =
        history.applied.iter().map(|a| a.version.as_str()).collect();
    if applied.is_empty() {
        // Nothing applied: nothing the target could have drifted from.
        out.drift_warnings(&[], target);
        return Ok(Vec::new());
    }
    let built = set.with_migrations(
        set.migrations
            .iter()
            .filter(|m| applied.contains(m.version.as_str()))
            .cloned()
            .collect(),
    );
    let platform = ctx.platform()?;
    let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
    let drift = diff::drift(
        built,
        platform,
        &scratch,
        target,
        &Scope::for_platform(platform),
    )
    .await?;
    let warnings: Vec<String> = drift
        .differences
        .iter()
        .map(|d| format!("drift: {d}"))
        .collect();
    out.drift_warnings(&warnings, target);
    Ok(warnings)
}
