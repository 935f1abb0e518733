//! `strata verify`: resolve the migrations and the scratch server, call `strata::verify`, render.

use crate::failure::exit_code;
use strata::verify::VerifyOptions;
use strata::Error;

use crate::args::VerifyArgs;
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) async fn verify(
    ctx: &Context,
    args: &VerifyArgs,
    out: &Renderer,
) -> Result<Outcome, Error> {
    let set = ctx.migrations()?;
    let options = VerifyOptions {
        platform: ctx.platform()?,
        require_rollbacks: args.require_rollbacks,
    };
    let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
    out.scratch(&scratch);
    out.line(&format!(
        "Verifying {} migration(s) and their rollbacks on a scratch database:",
        set.migrations.len(),
    ));
    let report = strata::verify::verify(set, &scratch, options).await?;
    out.verify(&report);
    let exit = if report.passed {
        exit_code::SUCCESS
    } else {
        exit_code::FAILURE
    };
    let mut value = serde_json::to_value(&report).unwrap_or_default();
    // Each failed migration's error as the envelope's `error` describes one.
    if let Some(checks) = value["migrations"].as_array_mut() {
        for (json, check) in checks.iter_mut().zip(&report.migrations) {
            json["error_details"] = check
                .failure
                .as_deref()
                .map(crate::failure::error_json)
                .unwrap_or_default();
        }
    }
    Ok(Outcome::with_exit(value, exit))
}
