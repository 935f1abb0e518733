//! `strata verify`: resolve the migrations and the scratch server, call `strata::verify`, render.

use serde_json::Value;
use strata::error::exit_code;
use strata::verify::VerifyOptions;
use strata::Error;

use crate::args::VerifyArgs;
use crate::render::Renderer;
use crate::Context;

pub async fn verify(ctx: &Context, args: &VerifyArgs, out: &Renderer) -> Result<Value, Error> {
    let set = ctx.migrations()?;
    let options = VerifyOptions {
        platform: ctx.platform()?,
        require_rollbacks: args.require_rollbacks,
    };
    let server = strata::scratch::server(&ctx.project)?;
    out.line(&format!(
        "Verifying {} migration(s) and their rollbacks on a scratch database on {}:",
        set.migrations.len(),
        server.display()
    ));
    let report = strata::verify::verify(set, &server, options).await?;
    out.verify(&report);
    if !report.passed {
        crate::set_exit_code(exit_code::FAILURE);
    }
    Ok(serde_json::to_value(&report).unwrap_or_default())
}
