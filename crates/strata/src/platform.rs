//! Supabase platform emulation for vanilla PostgreSQL.
//!
//! Supabase migrations rely on objects the platform creates before any migration runs: the API
//! roles, `auth.users` and `auth.uid()`, the storage tables, the `extensions` schema, the
//! `supabase_realtime` publication. On a target that lacks them, Strata installs them from
//! `platform/supabase.sql` (versioned in `strata_platform.emulation`, idempotent) so the same
//! migrations and their RLS policies run — and are tested — anywhere. Never on a real Supabase
//! database (detected by its platform roles), and never silently: the report says what happened.

use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::error::Error;

/// The emulation script.
pub const SUPABASE_SQL: &str = include_str!("platform/supabase.sql");

/// The version of [`SUPABASE_SQL`]; bump it when the script changes so targets are upgraded.
pub const SUPABASE_VERSION: i32 = 1;

/// Which platform the migrations expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Supabase: install the emulation where the target is not a Supabase database.
    Supabase,
    /// Plain PostgreSQL: install nothing.
    None,
}

impl Platform {
    /// The default for a migrations directory: Supabase for `…/supabase/migrations`.
    pub fn default_for(dir: &std::path::Path) -> Platform {
        let is_supabase = dir
            .components()
            .rev()
            .nth(1)
            .is_some_and(|c| c.as_os_str() == "supabase");
        if is_supabase {
            Platform::Supabase
        } else {
            Platform::None
        }
    }

    pub fn parse(s: &str) -> Option<Platform> {
        match s {
            "supabase" => Some(Platform::Supabase),
            "none" => Some(Platform::None),
            _ => None,
        }
    }
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformReport {
    pub platform: Platform,
    /// `installed`, `upgraded`, `current` (already there), `real_supabase` (the target is a
    /// Supabase database: nothing to do), `would_install` (dry run).
    pub status: &'static str,
    pub version: i32,
}

/// Installs or upgrades the Supabase emulation if `platform` asks for it and the target needs
/// it. With `dry_run`, only reports what it would do.
pub async fn ensure(
    client: &Client,
    platform: Platform,
    dry_run: bool,
) -> Result<Option<PlatformReport>, Error> {
    if platform == Platform::None {
        return Ok(None);
    }
    let row = client
        .query_one(
            "select exists (select 1 from pg_roles where rolname in ('supabase_admin', 'supabase_auth_admin')), \
             to_regclass('strata_platform.emulation') is not null",
            &[],
        )
        .await
        .map_err(|e| Error::db("checking for the Supabase platform", e))?;
    let report = |status| {
        Ok(Some(PlatformReport {
            platform,
            status,
            version: SUPABASE_VERSION,
        }))
    };
    if row.get::<_, bool>(0) {
        return report("real_supabase");
    }
    let installed: Option<i32> = if row.get::<_, bool>(1) {
        client
            .query_opt(
                "select version from strata_platform.emulation where component = 'supabase'",
                &[],
            )
            .await
            .map_err(|e| Error::db("reading the platform emulation version", e))?
            .map(|r| r.get(0))
    } else {
        None
    };
    match installed {
        Some(v) if v >= SUPABASE_VERSION => return report("current"),
        _ if dry_run => return report("would_install"),
        _ => {}
    }
    let script = format!("BEGIN;\n{SUPABASE_SQL}\nCOMMIT;");
    // Roles are cluster-wide: another database of the same cluster may create them at the same
    // moment (parallel tests); the loser sees a duplicate and simply runs the script again.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match client.batch_execute(&script).await {
            Ok(()) => break,
            Err(e)
                if attempts < 3
                    && (e.code() == Some(&SqlState::UNIQUE_VIOLATION)
                        || e.code() == Some(&SqlState::DUPLICATE_OBJECT)) =>
            {
                let _ = client.batch_execute("ROLLBACK").await;
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(Error::db("installing the Supabase platform emulation", e));
            }
        }
    }
    report(if installed.is_some() {
        "upgraded"
    } else {
        "installed"
    })
}
