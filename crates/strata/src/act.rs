//! Acting as a Supabase user: running SQL the way the Supabase API runs a request.
//!
//! PostgREST (the Data API behind `supabase.from(...)`) and the Storage API do not connect as
//! the user. For every request they open a transaction on their own connection, put the caller's
//! verified JWT claims in the transaction setting `request.jwt.claims`, switch to the role named
//! by the `role` claim with `SET LOCAL ROLE` (`anon`, `authenticated` or `service_role`), run the
//! request's SQL and commit. Row-level security then sees `current_user` = that role and
//! `auth.uid()` = the `sub` claim. [`run_as`] does exactly that on a connection of the database
//! owner, so policies can be checked from a test, a script or `strata` itself without an auth
//! service or real tokens: the rows a user would see, and the writes a user would be refused.
//!
//! The connecting role must be allowed to `SET ROLE` to the API roles (a superuser, or
//! `postgres` on Supabase, which is a member of them). Because the settings and the role are
//! transaction-local, the connection returns to its own role and settings when [`run_as`]
//! returns, whether the SQL succeeded or failed.

use std::fmt;

use serde::Serialize;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::Error;

/// Who a request runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user (role `authenticated`), by their `auth.users.id`.
    User(String),
    /// A visitor without a session (role `anon`): the anon key alone.
    Anon,
    /// The service role key (role `service_role`, which bypasses RLS).
    ServiceRole,
}

impl Actor {
    /// Reads the usual spellings: `anon`, `service_role` (or `service-role`), or a user id
    /// (optionally written `user:<uuid>`).
    pub fn parse(s: &str) -> Result<Actor, Error> {
        let actor = match s.trim() {
            "anon" => Actor::Anon,
            "service_role" | "service-role" => Actor::ServiceRole,
            other => Actor::User(other.strip_prefix("user:").unwrap_or(other).to_string()),
        };
        actor.validate()?;
        Ok(actor)
    }

    /// The database role the request switches to.
    pub fn role(&self) -> &'static str {
        match self {
            Actor::User(_) => "authenticated",
            Actor::Anon => "anon",
            Actor::ServiceRole => "service_role",
        }
    }

    /// The user id, for a signed-in user.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User(id) => Some(id),
            _ => None,
        }
    }

    /// The JWT claims document put in `request.jwt.claims`: `sub` (users only) and `role`.
    pub fn claims(&self) -> String {
        let claims = match self {
            Actor::User(id) => serde_json::json!({ "sub": id, "role": self.role() }),
            _ => serde_json::json!({ "role": self.role() }),
        };
        claims.to_string()
    }

    /// Checks that a user id is a UUID in its text form (36 characters: hex digits and dashes
    /// at positions 9, 14, 19 and 24), the only form `auth.uid()` can read.
    fn validate(&self) -> Result<(), Error> {
        let Actor::User(id) = self else {
            return Ok(());
        };
        let well_formed = id.len() == 36
            && id.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        if well_formed {
            Ok(())
        } else {
            Err(Error::Setting {
                setting: "actor".into(),
                message: format!(
                    "`{id}` is not a user id: expected a UUID such as \
                     aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa (36 characters, hex digits and dashes)"
                ),
                hint: Some(
                    "use the user's id from auth.users, `anon` for a visitor, or `service_role`"
                        .into(),
                ),
            })
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user {id}"),
            Actor::Anon => f.write_str("anon"),
            Actor::ServiceRole => f.write_str("service_role"),
        }
    }
}

/// What a request returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActResult {
    /// Who it ran as, e.g. `user aaaaaaaa-…`, `anon`, `service_role`.
    pub actor: String,
    /// The database role it ran under.
    pub role: &'static str,
    /// The column names of the last statement that returned rows (empty if none did).
    pub columns: Vec<String>,
    /// That statement's rows, every value in PostgreSQL's text form (`None` for NULL).
    pub rows: Vec<Vec<Option<String>>>,
    /// The row count PostgreSQL reported for the last statement (rows selected, inserted,
    /// updated or deleted); `None` when no statement ran.
    pub rows_affected: Option<u64>,
    /// Whether the transaction was committed (`false`: rolled back as asked).
    pub committed: bool,
}

/// Runs `sql` (one or more statements) in one transaction as `actor`, the way the Supabase API
/// runs a request, then commits it, or rolls it back when `rollback` is true.
///
/// `client` must not be inside a transaction. On failure the transaction is rolled back, so the
/// connection is left as it was, and the error carries PostgreSQL's SQLSTATE (`42501` for a
/// refused privilege or a row-level security violation). If the returned future is dropped
/// before it completes, the connection may be left inside the transaction: discard it.
pub async fn run_as(
    client: &Client,
    actor: &Actor,
    sql: &str,
    rollback: bool,
) -> Result<ActResult, Error> {
    run(client, Some(actor), sql, rollback).await
}

/// Runs `sql` in one transaction as the connection's own user (no claims, no role switch).
pub async fn run_as_connection_user(
    client: &Client,
    sql: &str,
    rollback: bool,
) -> Result<ActResult, Error> {
    run(client, None, sql, rollback).await
}

async fn run(
    client: &Client,
    actor: Option<&Actor>,
    sql: &str,
    rollback: bool,
) -> Result<ActResult, Error> {
    let (context, begin, actor_name, role) = match actor {
        Some(actor) => {
            actor.validate()?;
            // The claims are built from a validated UUID and fixed role names, so quoting them
            // as a literal is safe; one round trip instead of three.
            (
                format!("running as {actor}"),
                format!(
                    "BEGIN; SELECT pg_catalog.set_config('request.jwt.claims', {}, true); SET LOCAL ROLE {};",
                    quote_literal(&actor.claims()),
                    actor.role()
                ),
                actor.to_string(),
                actor.role(),
            )
        }
        None => (
            "running SQL".to_string(),
            "BEGIN;".to_string(),
            "connection user".to_string(),
            "session_user",
        ),
    };
    if let Err(e) = client.batch_execute(&begin).await {
        abort(client).await;
        return Err(Error::db(context, e));
    }

    let messages = match client.simple_query(sql).await {
        Ok(messages) => messages,
        Err(e) => {
            abort(client).await;
            return Err(Error::db(context, e));
        }
    };

    let finish = if rollback { "ROLLBACK" } else { "COMMIT" };
    if let Err(e) = client.batch_execute(finish).await {
        abort(client).await;
        return Err(Error::db(format!("{context}: {finish}"), e));
    }

    let mut result = ActResult {
        actor: actor_name,
        role,
        columns: Vec::new(),
        rows: Vec::new(),
        rows_affected: None,
        committed: !rollback,
    };
    // Per statement: an optional RowDescription, its rows, then CommandComplete. The rows of a
    // statement replace the previous result only once that statement has completed.
    let mut columns: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(cols) => {
                columns = Some(cols.iter().map(|c| c.name().to_string()).collect());
                rows.clear();
            }
            SimpleQueryMessage::Row(row) => {
                rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                );
            }
            SimpleQueryMessage::CommandComplete(n) => {
                result.rows_affected = Some(n);
                if let Some(cols) = columns.take() {
                    result.columns = cols;
                    result.rows = std::mem::take(&mut rows);
                }
            }
            _ => {}
        }
    }
    Ok(result)
}

/// Ends a failed transaction. A second error here (the connection is gone) adds nothing to the
/// first, which is the one reported.
async fn abort(client: &Client) {
    let _ = client.batch_execute("ROLLBACK").await;
}

use crate::quote::literal as quote_literal;
