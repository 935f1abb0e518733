//! `strata verify`: resolve the migrations and the scratch server, call `strata::verify`, render.

use strata::error::exit_code;
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
    let server = strata::scratch::server(&ctx.project)?;
    out.target(&server);
    out.line(&format!(
        "Verifying {} migration(s) and their rollbacks on a scratch database on {}:",
        set.migrations.len(),
        server.display()
    ));
    let report = strata::verify::verify(set, &server, options).await?;
    out.verify(&report);
    let exit = if report.passed {
        exit_code::SUCCESS
    } else {
        exit_code::FAILURE
    };
    Ok(Outcome::with_exit(
        serde_json::to_value(&report).unwrap_or_default(),
        exit,
    ))
}
