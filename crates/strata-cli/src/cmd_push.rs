//! `strata push`: the lint check, optional drift check and backup, then the library's push.

use std::sync::Arc;

use serde_json::json;
use strata::apply::PushOptions;
use strata::Migrator;

use crate::args::PushArgs;
use crate::context::Context;
use crate::failure::Failure;
use crate::render::Renderer;
use crate::{cmd_diff, cmd_lint, Outcome};

pub(crate) async fn run(ctx: &Context, a: &PushArgs, out: &Renderer) -> Result<Outcome, Failure> {
    if let Some(fleet) = &a.fleet {
        return crate::cmd_fleet::push(ctx, a, fleet, out).await;
    }
    // Settings are read before anything connects or starts: a bad one changes nothing.
    let (options, mut warnings) = options(ctx, a, out)?;
    let migrations_enabled = options.migrations_enabled;
    let (mut set, target, mut session, history) = ctx
        .load_and_connect(out, crate::context::Need::Plan)
        .await?;
    if a.check_drift {
        // The drift check builds the migrations on a scratch database.
        set.read_deferred()?;
    }
    let gate = if !a.no_lint && migrations_enabled {
        cmd_lint::gate(ctx, &set, &history)?
    } else {
        None
    };
    let verdict = match gate {
        Some(gate) => cmd_lint::decide(gate, &session, &history, out).await?,
        None => cmd_lint::Verdict::Nothing,
    };
    if a.check_drift {
        warnings.extend(cmd_diff::check_drift(ctx, &set, &history, &target, out).await?);
    }
    let progress = Arc::new(out.progress());
    let migrator = Migrator::new(set)
        .with_options(options)
        .with_observer(progress.clone());
    let report = migrator
        .push_connected(&mut session, &target, Some(history))
        .await;
    progress.finish();
    if matches!(report, Err(strata::Error::Refused { .. }))
        && strata::squash::interrupted(&ctx.project.state_dir())
    {
        out.warn("an interrupted `strata migration squash` left the migrations half-switched: run that squash again to finish it, before repairing any history");
    }
    let report = report?;
    let lint = verdict.finish(out);
    out.push(&report, migrator.migrations().migrations.len());
    let mut value = crate::context::with_source_facts(
        serde_json::to_value(&report).unwrap_or_default(),
        migrator.migrations(),
    );
    value["warnings"] = json!(warnings);
    value["lint"] = lint;
    Ok(Outcome::ok(value))
}

/// What the flags and settings say every push does (a fleet's too), read before anything
/// connects, and the warnings reading them gave (seed patterns, migrations turned off).
pub(crate) fn options(
    ctx: &Context,
    a: &PushArgs,
    out: &Renderer,
) -> Result<(PushOptions, Vec<String>), strata::Error> {
    let lock_wait = ctx.lock_wait(a.lock_wait.as_deref())?;
    let platform = ctx.platform()?;
    let (seeds, mut warnings) = if a.include_seed || a.reseed {
        ctx.seeds(true, out)?
    } else {
        Default::default()
    };
    let (migrations_enabled, skipped) = ctx.migrations_enabled(out)?;
    warnings.extend(skipped);
    // A backup before the first write, when asked for by the flag or by the fleet's or the
    // environment's `backup = true`; never in a dry run.
    let config = &ctx.project.config;
    let configured = match &a.fleet {
        Some(name) => config.fleets.get(name).is_some_and(|f| f.backup),
        None => ctx
            .request
            .env
            .as_ref()
            .and_then(|name| config.environments.get(name))
            .is_some_and(|e| e.backup),
    };
    let backup = ((a.backup || configured) && !a.dry_run).then(|| strata::apply::BackupRequest {
        state_dir: ctx.project.state_dir(),
        run_id: strata::backup::run_id(),
    });
    let options = PushOptions {
        dry_run: a.dry_run,
        include_all: a.include_all,
        lock_wait,
        seeds,
        platform,
        migrations_enabled,
        reseed: a.reseed,
        backup,
    };
    Ok((options, warnings))
}
