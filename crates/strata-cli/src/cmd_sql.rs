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
    let mut session = target.session().await?;
    let result = match &actor {
        Some(actor) => strata::act::run_as(&session, actor, &a.sql, a.rollback).await,
        None => strata::act::run_as_connection_user(&session, &a.sql, a.rollback).await,
    };
    // What the server said, as psql shows it, whether the SQL succeeded or not.
    let notices = session.take_notices();
    out.notices(&notices);
    let result = result?;
    out.sql(&result);
    let mut value = serde_json::to_value(&result).unwrap_or_default();
    if let Some(o) = value.as_object_mut() {
        o.insert(
            "notices".into(),
            serde_json::to_value(&notices).unwrap_or_default(),
        );
    }
    Ok(Outcome::ok(value))
}
