//! `strata rollback`: resolve the selection, call [`strata::rollback::Rollbacker`], render.

use std::sync::Arc;

use strata::rollback::{RollbackOptions, RollbackReport, Rollbacker, Selection};
use strata::{Error, Version};

use crate::args::RollbackArgs;
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) async fn run(ctx: &Context, a: &RollbackArgs, out: &Renderer) -> Result<Outcome, Error> {
    let selection = match (&a.to, a.last) {
        (Some(v), _) => Selection::To(Version::parse(v).ok_or_else(|| Error::Setting {
            setting: "--to".into(),
            message: format!("`{v}` is not a version (digits only)"),
            hint: Some(
                "pass the digits before the first _ of an applied migration's file name; `strata migration list` shows them"
                    .into(),
            ),
        })?),
        (None, n) => Selection::Last(n.unwrap_or(1) as usize),
    };
    let options = RollbackOptions {
        selection,
        dry_run: a.dry_run,
        lock_wait: ctx.lock_wait(a.lock_wait.as_deref())?,
        rollbacks_dir: ctx.rollbacks_dir(),
    };
    let (set, target, mut session, _) = ctx
        .load_and_connect(out, crate::context::Need::Everything)
        .await?;
    let progress = Arc::new(out.progress());
    let report = Rollbacker::new(set)
        .with_options(options)
        .with_observer(progress.clone())
        .rollback_connected(&mut session, &target)
        .await;
    progress.finish();
    let report = report?;
    render(out, &report);
    Ok(Outcome::ok(
        serde_json::to_value(&report).unwrap_or_default(),
    ))
}

fn render(out: &Renderer, report: &RollbackReport) {
    let newest = match &report.newest_applied {
        Some(v) => format!("newest applied version: {v}"),
        None => "no migration is applied".to_string(),
    };
    if report.dry_run {
        if report.planned.is_empty() {
            out.line(&format!("Dry run: nothing to roll back; {newest}."));
            return;
        }
        out.line(&format!(
            "Dry run: {} migration(s) would be rolled back, newest first; nothing was changed.\n",
            report.planned.len()
        ));
        for p in &report.planned {
            let how = match &p.no_transaction_reason {
                None => "in one transaction with the removal of its history rows".to_string(),
                Some(r) => format!(
                    "OUTSIDE a transaction, statement by statement ({r}); history rows removed last"
                ),
            };
            out.line(&format!("-- ==== {} ({how})", p.file.display()));
            for (i, sql) in p.sql.iter().enumerate() {
                if p.sql.len() > 1 {
                    out.line(&format!("-- round trip {}", i + 1));
                }
                out.line(sql.trim_end());
            }
            out.line("");
        }
        out.line(&format!("After it: {newest}."));
        return;
    }
    if report.reverted.is_empty() {
        out.line(&format!("Nothing to roll back: {newest}."));
    } else {
        let ms: u64 = report.reverted.iter().map(|r| r.duration_ms).sum();
        out.line(&format!(
            "Rolled back {} migration(s) in {ms} ms; {newest}.",
            report.reverted.len()
        ));
    }
}
