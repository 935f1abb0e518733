//! Strata: PostgreSQL and Supabase migrations as plain SQL files.
//!
//! The library holds all of Strata's migration logic; the `strata` binary is a thin command line
//! over it. Data flows one way: **sources → plan → apply → report**.
//!
//! - [`source`] finds migration files (`supabase/migrations/`, `migrations/`, or configured) and
//!   their `_rollback.sql` siblings, or takes them embedded at compile time ([`embed_migrations!`]).
//! - [`history`] reads and writes the applied-migration history, compatible with the Supabase CLI
//!   (`supabase_migrations.schema_migrations`) plus Strata's own side table.
//! - [`plan`] compares the two and decides what to apply or refuse.
//! - [`apply`] pushes a plan: one advisory lock per run, each migration in one transaction
//!   with its history rows, failures reported at file, line and column.
//! - [`rollback`] undoes applied migrations with their rollback files, like push in reverse.
//! - [`backup`] takes `pg_dump` archives before a push and restores them.
//! - [`target`] and [`config`] resolve where to connect (`strata.toml`, environments, URLs, TLS).
//! - [`local`] runs a private PostgreSQL cluster under `.strata/` when nothing else is configured.
//! - [`catalog`], [`diff`] and [`verify`] compare schemas: drift between the migrations and a
//!   target (with the SQL that fixes it), and rollback files proven on a scratch database.
//!
//! # Example
//!
//! Apply a directory of migrations at start-up of a service:
//!
//! ```no_run
//! # async fn run() -> Result<(), strata::Error> {
//! let migrations = strata::MigrationSet::load_dir("supabase/migrations")?;
//! let report = strata::Migrator::new(migrations)
//!     .push_url("postgresql://app@db.internal/app")
//!     .await?;
//! println!("applied {} migration(s)", report.applied.len());
//! # Ok(()) }
//! ```
//!
//! Or embed them in the binary at compile time (the path is relative to your crate's
//! `Cargo.toml`; add `println!("cargo:rerun-if-changed=supabase/migrations");` to `build.rs` so a
//! new file triggers a rebuild):
//!
//! ```no_run
//! # async fn run(client: &mut tokio_postgres::Client) -> Result<(), strata::Error> {
//! static MIGRATIONS: &[strata::EmbeddedFile] =
//!     strata::embed_migrations!("../../examples/chat-app/supabase/migrations");
//! let set = strata::MigrationSet::from_embedded(MIGRATIONS)?;
//! strata::Migrator::new(set).push_client(client).await?;
//! # Ok(()) }
//! ```

pub mod act;
pub mod adopt;
pub mod apply;
pub mod author;
pub mod backup;
pub mod catalog;
pub mod config;
pub mod conninfo;
pub mod diff;
pub mod error;
mod failpoint;
pub mod fleet;
pub mod history;
pub mod local;
pub mod lock;
pub mod plan;
pub mod platform;
pub mod problem;
pub mod quote;
pub mod rollback;
pub mod schema;
pub mod scratch;
pub mod session;
pub mod source;
pub mod sql;
pub mod squash;
pub mod target;
pub mod verify;

// The types a service needs, at the crate root: load migrations, resolve a target, push, roll
// back, verify. The modules stay public for the rest (catalog, diff, local clusters …).
pub use apply::{Migrator, PushOptions, PushReport};
pub use config::Project;
pub use error::Error;
pub use history::History;
pub use plan::Plan;
pub use platform::Platform;
pub use rollback::{RollbackOptions, RollbackReport, Rollbacker};
pub use source::{
    EmbeddedFile, Layout, Migration, MigrationSet, RollbackFile, SourceOptions, Version,
};
pub use strata_macros::embed_migrations;
pub use target::Target;
pub use verify::{verify, VerifyReport};

/// Strata's own version, recorded with every migration it applies.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
