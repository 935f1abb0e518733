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
    if let Some(name) = &args.write {
        strata::author::check_name(name)?;
    }
    let target = ctx.target()?;
    out.target(&target);
    let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
    out.scratch(&scratch);
    let mut scope = Scope::resolve(platform, &scratch).await?;
    scope.schemas = args.schemas.clone();
    let drift = diff::drift(set, platform, &scratch, &target, &scope).await?;
    out.diff(&drift, &target);
    for note in &drift.notes {
        out.line(&format!("note: {note}"));
    }
    let mut written = Vec::new();
    let mut record = None;
    let mut exit = exit_code::SUCCESS;
    let mut proof = None;
    if let (Some(name), false) = (&args.write, drift.differences.is_empty()) {
        let dir = ctx.migrations_dir()?;
        let rollbacks = ctx.rollbacks_dir_for(&dir);
        let set = ctx.migrations()?;
        // The migrations that close the gap, lock-safe for the databases that still lack the
        // change, proven like a schema diff's, and passed through the push gate.
        let safety = strata::schema::Safety {
            lock_timeout: Some(
                ctx.project
                    .config
                    .lock_timeout
                    .clone()
                    .unwrap_or_else(|| "5s".into()),
            ),
            transaction_only: ctx.project.config.schema.transaction_only,
        };
        let change = strata::schema::from_drift(&drift, &safety)?;
        let (seeds, _) = ctx.seeds(true, out)?;
        let author = strata::author::default_author();
        let check = crate::cmd_lint::written_gate(ctx);
        let options = strata::schema::WriteOptions {
            dir: &dir,
            rollbacks_dir: rollbacks.as_deref(),
            name,
            author: &author,
            now: time::OffsetDateTime::now_utc(),
            allow_data_loss: args.allow_data_loss,
            seeds: &seeds,
            check: &check,
            layout: ctx.project.layout_for(&dir),
        };
        let (p, created) =
            strata::schema::write_proven(&set, &change, platform, &scratch, &scope, &options)
                .await?;
        out.line("Proven on a scratch database: the migrations and the new file(s) build what the target has, and the rollback brings back what the migrations build.");
        // The versions as the directory now reads them (a tool's layout numbers its own way).
        let now = ctx.migrations()?;
        let versions: Vec<String> = created
            .iter()
            .filter_map(|c| now.migrations.iter().find(|m| m.path == c.path))
            .map(|m| m.version.to_string())
            .collect();
        for c in &created {
            out.new_migration(c);
            written.push(c.path.clone());
            written.extend(c.rollback.clone().filter(|r| r != &c.path));
        }
        let command = out.hint(&format!(
            "`strata migration repair --status applied {}`",
            versions.join(" ")
        ));
        out.line(&format!(
            "{} already has this change: record the new migration(s) as applied there with {command}, so no push runs them there.",
            target.display()
        ));
        record = Some(command);
        proof = Some(p);
    } else if !drift.differences.is_empty() {
        exit = exit_code::DRIFT;
    }
    let value = json!({
        "target": target.display(),
        "drift": !drift.differences.is_empty(),
        "differences": drift.differences,
        "sql": drift.fix.sql,
        "rollback_sql": drift.fix.rollback_sql,
        "notes": drift.notes,
        "written": written,
        "proof": proof,
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
    out.scratch(&scratch);
    let scope = Scope::resolve(platform, &scratch).await?;
    let drift = diff::drift(built, platform, &scratch, target, &scope).await?;
    let warnings: Vec<String> = drift
        .differences
        .iter()
        .map(|d| format!("drift: {d}"))
        .collect();
    out.drift_warnings(&warnings, target);
    Ok(warnings)
}
