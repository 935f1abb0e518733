//! `strata sql`: run SQL on the target, optionally as a Supabase user.

use strata::act::Actor;
use strata::Error;

use crate::args::SqlArgs;
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) async fn run(ctx: &Context, a: &SqlArgs, out: &Renderer) -> Result<Outcome, Error> {
    let actor = match (&a.as_user, a.as_role.as_deref()) {
        (Some(uuid), _) => Some(Actor::User(uuid.clone())),
        (None, Some("anon")) => Some(Actor::Anon),
        (None, Some(_)) => Some(Actor::ServiceRole),
        (None, None) => None,
    };
    let target = ctx.target()?;
    out.target(&target);
    let client = target.connect().await?;
    let result = match &actor {
        Some(actor) => strata::act::run_as(&client, actor, &a.sql, a.rollback).await?,
        None => strata::act::run_as_connection_user(&client, &a.sql, a.rollback).await?,
    };
    out.sql(&result);
    Ok(Outcome::ok(
        serde_json::to_value(&result).unwrap_or_default(),
    ))
}
