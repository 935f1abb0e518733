//! `strata push --fleet NAME` and `strata migration list --fleet NAME`: resolve the fleet, call
//! `strata::fleet`, render.

use serde_json::json;
use strata::fleet::{self, FleetOptions, Status};
use strata::Error;

use crate::args::PushArgs;
use crate::context::Context;
use crate::failure::{error_json, Failure};
use crate::render::Renderer;
use crate::{cmd_lint, Outcome};

/// `--fleet` names the databases itself: the single-target flags cannot come with it.
fn refuse_single_target(ctx: &Context) -> Result<(), Error> {
    match ctx.request.named_by() {
        None => Ok(()),
        Some(flag) => Err(Error::Setting {
            setting: "--fleet".into(),
            message: format!(
                "--fleet and {flag} cannot be used together: the fleet names its databases"
            ),
            hint: Some("drop one of them".into()),
        }),
    }
}

async fn members(ctx: &Context, name: &str, out: &Renderer) -> Result<Vec<fleet::Member>, Error> {
    refuse_single_target(ctx)?;
    let (members, warnings) = fleet::members(&ctx.project, name, &ctx.request).await?;
    for w in &warnings {
        out.warn(w);
    }
    for m in &members {
        crate::render::register_secrets(m.target.secrets());
    }
    Ok(members)
}

pub(crate) async fn push(
    ctx: &Context,
    a: &PushArgs,
    name: &str,
    out: &Renderer,
) -> Result<Outcome, Failure> {
    // Settings and files first: nothing connects when they are wrong.
    let (push, _) = crate::cmd_push::options(ctx, a, out)?;
    let migrations_enabled = push.migrations_enabled;
    if a.check_drift {
        return Err(Error::Setting {
            setting: "--fleet".into(),
            message: "--check-drift works on one database; a fleet push does not take it yet"
                .into(),
            hint: Some(
                "check the database you suspect on its own (`strata diff --db-url …`) first".into(),
            ),
        }
        .into());
    }
    refuse_single_target(ctx)?;
    let set = ctx.migrations()?;
    out.source_facts(&set.skipped, &set.notes);
    let members = members(ctx, name, out).await?;
    out.line(&format!(
        "Fleet {name}: {} database(s), from {} to {}",
        members.len(),
        members.first().map(|m| m.name.as_str()).unwrap_or(""),
        members.last().map(|m| m.name.as_str()).unwrap_or("")
    ));
    // The lint gate, per database, before any database is pushed (fleet::push asks it).
    let gate = (!a.no_lint && migrations_enabled).then(|| {
        let config = &ctx.project.config;
        let level = config
            .fleets
            .get(name)
            .and_then(|f| f.push_fail_on)
            .map(|l| (l, format!("fleets.{name}.push_fail_on")))
            .unwrap_or_else(|| strata_lint::gate::push_fail_on(&ctx.project, None));
        strata_lint::gate::fleet_gate(cmd_lint::linter(ctx), level)
    });
    let options = FleetOptions {
        parallel: a.parallel.map_or(8, |n| n as usize),
        canary: a.canary.map_or(1, |k| k as usize),
        keep_going: a.keep_going,
        push,
        gate,
    };
    let report = fleet::push(name, &set, members, &options, &|e| out.fleet_event(&e)).await;
    out.fleet_report(&report);
    let targets: Vec<serde_json::Value> = report
        .targets
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(t).unwrap_or_default();
            v["error"] = t.error.as_ref().map_or(json!(null), |e| error_json(e));
            v
        })
        .collect();
    let value = json!({
        "fleet": report.fleet,
        "dry_run": a.dry_run,
        "parallel": report.parallel,
        "canaries": report.canaries,
        "duration_ms": report.duration_ms,
        "summary": {
            "ok": report.count(Status::Ok),
            "failed": report.count(Status::Failed),
            "skipped": report.count(Status::Skipped),
        },
        "targets": targets,
    });
    if report.count(Status::Ok) == report.targets.len() {
        return Ok(Outcome::ok(value));
    }
    let held_back: Vec<&fleet::Outcome> = report
        .targets
        .iter()
        .filter(|t| {
            t.status == Status::Failed && matches!(t.error.as_deref(), Some(Error::Lint { .. }))
        })
        .collect();
    let pushed = report.targets.iter().any(|t| t.status == Status::Ok);
    if !a.keep_going && !held_back.is_empty() && !pushed {
        return Err(Failure::FleetHeldBack {
            message: format!(
                "the push gate holds back {} live database(s) of fleet {name}; nothing was pushed",
                held_back.len()
            ),
            details: value,
        });
    }
    let canary_failed = report
        .targets
        .iter()
        .any(|t| t.canary && t.status == Status::Failed);
    Err(Failure::Fleet {
        message: if canary_failed {
            format!("a canary of fleet {name} failed; no other database was touched")
        } else {
            format!(
                "fleet {name}: {} of {} database(s) failed, {} skipped; the others are pushed",
                report.count(Status::Failed),
                report.targets.len(),
                report.count(Status::Skipped)
            )
        },
        details: value,
    })
}

pub(crate) async fn list(
    ctx: &Context,
    name: &str,
    check_drift: bool,
    out: &Renderer,
) -> Result<Outcome, Failure> {
    let set = ctx.migrations()?;
    out.source_facts(&set.skipped, &set.notes);
    let platform = ctx.platform()?;
    let members = members(ctx, name, out).await?;
    let states = fleet::states(&set, &members, 8).await;
    out.fleet_states(name, &states);
    let drift = if check_drift {
        let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
        let scope = strata::diff::Scope::resolve(platform, &scratch).await?;
        let drift = fleet::drift(&set, &members, &states, platform, &scratch, &scope).await;
        for (m, d) in members.iter().zip(&drift) {
            match d {
                Ok(d) if d.is_empty() => {}
                Ok(d) => out.warn(&format!(
                    "drift on {}: {} difference(s) from what its applied migrations build: {}",
                    m.name,
                    d.len(),
                    d.join("; ")
                )),
                Err(e) => out.warn(&format!("drift on {}: not checked: {e}", m.name)),
            }
        }
        Some(drift)
    } else {
        None
    };
    let mut at: std::collections::BTreeMap<String, usize> = Default::default();
    for s in states.iter().filter(|s| s.error.is_none()) {
        *at.entry(s.latest.clone().unwrap_or_default()).or_default() += 1;
    }
    let targets: Vec<serde_json::Value> = states
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            v["error"] = s.error.as_ref().map_or(json!(null), |e| error_json(e));
            if let Some(drift) = &drift {
                v["drift"] = match &drift[i] {
                    Ok(d) => json!(d),
                    Err(e) => json!({ "error": error_json(e) }),
                };
            }
            v
        })
        .collect();
    let value = json!({
        "fleet": name,
        "targets": targets,
        "versions": at,
    });
    // A database that could not be read fails the listing, as a fleet push fails (exit 9).
    let unreadable = states.iter().filter(|s| s.error.is_some()).count();
    if unreadable > 0 {
        return Err(Failure::Fleet {
            message: format!(
                "fleet {name}: {unreadable} of {} database(s) could not be read",
                states.len()
            ),
            details: value,
        });
    }
    Ok(Outcome::ok(value))
}
