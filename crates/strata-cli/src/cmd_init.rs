//! `strata init`: a commented strata.toml, the migrations directory, `.strata/` ignored by git.

use serde_json::json;
use strata::Error;

use crate::args::InitArgs;
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) fn run(ctx: &Context, a: &InitArgs, out: &Renderer) -> Result<Outcome, Error> {
    let created = strata::author::init(&ctx.project.root, &a.migrations_dir)?;
    out.init(&created);
    Ok(Outcome::ok(json!({ "created": created })))
}
