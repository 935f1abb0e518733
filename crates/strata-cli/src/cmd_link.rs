//! `strata link`: record the Supabase project (and its session pooler) that --linked uses.

use serde_json::json;
use strata::Error;

use crate::args::LinkArgs;
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) fn run(ctx: &Context, a: &LinkArgs, out: &Renderer) -> Result<Outcome, Error> {
    let pooler = a
        .pooler_url
        .as_deref()
        .map(|url| strata::target::pooler_url_for_link(&a.project_ref, url))
        .transpose()?;
    let linked = strata::author::link(&ctx.project.state_dir(), &a.project_ref, pooler.as_deref())?;
    let via = match &linked.pooler_url {
        Some(p) => format!(
            " When db.{}.supabase.co cannot be reached (it has only IPv6 addresses), --linked uses the session pooler {p}.",
            a.project_ref
        ),
        None => String::new(),
    };
    out.line(&format!(
        "Linked Supabase project {} (recorded in {}). Use --linked with SUPABASE_DB_PASSWORD set.{via}",
        a.project_ref,
        linked.file.display()
    ));
    Ok(Outcome::ok(json!({
        "project_ref": a.project_ref,
        "file": linked.file,
        "pooler_url": linked.pooler_url,
    })))
}
