//! `strata verify`: proves rollback files right on a throwaway database.
//!
//! For each migration in order: capture the catalog, apply the migration, run its rollback file
//! (and remove its history rows, as a rollback does), capture again and compare with the first
//! capture, then apply the migration again and go on. Every object the rollback leaves behind,
//! fails to recreate or restores differently (a column with another type or default, a grant
//! not given back) is an asymmetry, reported with the migration.
//!
//! A rollback file with a `-- strata:irreversible [reason]` line is not round-tripped: such a
//! migration is reported as irreversible (e.g. it drops data), not as a failure. A migration
//! without a rollback file is reported too. Rollback files run through
//! [`crate::rollback::revert`], exactly as `strata rollback` runs them.

use std::path::PathBuf;

use serde::Serialize;

use crate::apply::{Migrator, PushOptions};
use crate::catalog::Catalog;
use crate::diff::{compare, Difference};
use crate::error::Error;
use crate::platform::Platform;
use crate::rollback::{irreversible_reason, revert};
use crate::scratch::ScratchDb;
use crate::source::MigrationSet;
use crate::target::Target;

/// What verification found for one migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its rollback restores the catalog exactly.
    Reversible,
    /// Its rollback leaves the catalog different (see the differences).
    Asymmetric,
    /// Its rollback file says `-- strata:irreversible`: not round-tripped.
    Irreversible,
    /// It has no rollback file.
    NoRollback,
    /// The migration or its rollback failed to run (see the error).
    Failed,
}

/// One migration's result.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationCheck {
    pub version: String,
    pub name: String,
    pub file: PathBuf,
    pub rollback: Option<PathBuf>,
    pub outcome: Outcome,
    /// For [`Outcome::Asymmetric`]: the catalog before the migration (the "migrations" side)
    /// against the catalog after the migration and its rollback (the "target" side).
    pub differences: Vec<Difference>,
    /// What differs but is no asymmetry: columns a rollback re-added to a table that stayed,
    /// which PostgreSQL puts at its end ([`crate::diff::ColumnOrder::note`]).
    pub notes: Vec<String>,
    /// For [`Outcome::Irreversible`]: the text after the marker, if any.
    pub reason: Option<String>,
    /// For [`Outcome::Failed`]: the error, located (`file:line:column: message`).
    pub error: Option<String>,
    /// For [`Outcome::Failed`]: the error itself, with its facts (file, line, SQLSTATE …).
    /// Shared, so the report stays `Clone`; not serialized (the CLI renders it as
    /// `error_details`, docs/json-output.md).
    #[serde(skip)]
    pub failure: Option<std::sync::Arc<Error>>,
}

/// Options for [`verify`].
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    pub platform: Platform,
    /// A migration without a rollback file fails verification.
    pub require_rollbacks: bool,
}

/// The result of [`verify`].
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub migrations: Vec<MigrationCheck>,
    pub require_rollbacks: bool,
    /// Whether every migration passed (asymmetries and failures fail; a missing rollback fails
    /// with `require_rollbacks`).
    pub passed: bool,
}

/// Verifies every migration of `set` on a scratch database on `server` (dropped afterwards,
/// whatever happens).
pub async fn verify(
    set: MigrationSet,
    scratch: &crate::scratch::Scratch,
    options: VerifyOptions,
) -> Result<VerifyReport, Error> {
    let scratch = ScratchDb::create(scratch, "verify").await?;
    let result = run(&set, scratch.target(), options).await;
    let dropped = scratch.drop_now().await;
    let report = result?;
    dropped?;
    Ok(report)
}

async fn run(
    set: &MigrationSet,
    target: &Target,
    options: VerifyOptions,
) -> Result<VerifyReport, Error> {
    // The platform emulation first, so that it is part of every "before"; then a new session,
    // which sees the search_path the emulation sets.
    let setup = target.connect().await?;
    crate::platform::ensure(&setup, options.platform, false).await?;
    drop(setup);
    let mut client = target.session().await?;
    let push_options = PushOptions {
        platform: options.platform,
        include_all: true,
        ..PushOptions::default()
    };
    let upto = |k: usize| set.with_migrations(set.migrations[..k].to_vec());
    let mut checks = Vec::new();
    for (k, m) in set.migrations.iter().enumerate() {
        let mut check = MigrationCheck {
            version: m.version.to_string(),
            name: m.name.clone(),
            file: m.path.clone(),
            rollback: m.rollback.as_ref().map(|r| r.path.clone()),
            outcome: Outcome::Reversible,
            differences: Vec::new(),
            notes: Vec::new(),
            reason: None,
            error: None,
            failure: None,
        };
        let apply = Migrator::new(upto(k + 1)).with_options(push_options.clone());
        let irreversible = m.rollback.as_ref().and_then(irreversible_reason);
        let before = match (&m.rollback, &irreversible) {
            (Some(_), None) => Some(Catalog::capture(&client).await?),
            _ => None,
        };
        if let Err(e) = apply.push_connected(&mut client, target, None).await {
            checks.push(failed(check, e));
            break;
        }
        let (Some(rollback), Some(before)) = (&m.rollback, before) else {
            check.outcome = match irreversible {
                Some(reason) => {
                    check.reason = reason;
                    Outcome::Irreversible
                }
                None => Outcome::NoRollback,
            };
            checks.push(check);
            continue;
        };
        // Which tables the migration dropped: the rollback creates them anew, and their column
        // order is then its to get right.
        let mid = Catalog::capture(&client).await?;
        if let Err(e) = revert(&mut client, m, rollback).await {
            // A transactional rollback file failed as a whole: the migration is still applied,
            // so the next one can be verified. Otherwise the database is half rolled back.
            let whole = matches!(&e, Error::Migration(f) if f.transactional);
            checks.push(failed(check, e));
            if whole {
                continue;
            }
            break;
        }
        let after = Catalog::capture(&client).await?;
        check.differences = compare(&before, &after);
        for order in crate::diff::column_order(&before, &after) {
            let recreated = !mid.objects.contains_key(&crate::catalog::ObjectId {
                kind: crate::catalog::Kind::Table,
                name: order.table.clone(),
            });
            if recreated {
                check.differences.push(order.difference());
            } else {
                check.notes.push(order.note());
            }
        }
        if !check.differences.is_empty() {
            check.outcome = Outcome::Asymmetric;
        }
        checks.push(check);
        if let Err(e) = apply.push_connected(&mut client, target, None).await {
            // Applied once already, so this is about the rollback: it left something behind
            // that the migration cannot be applied over again.
            // Verification stops here: later migrations build on this one.
            let last = checks.last_mut().expect("pushed above");
            if last.outcome != Outcome::Asymmetric {
                last.outcome = Outcome::Failed;
            }
            last.error = Some(format!(
                "re-applying the migration after its rollback failed: {e}"
            ));
            last.failure = Some(std::sync::Arc::new(e));
            break;
        }
    }
    let passed = checks.iter().all(|c| match c.outcome {
        Outcome::Reversible | Outcome::Irreversible => true,
        Outcome::NoRollback => !options.require_rollbacks,
        Outcome::Asymmetric | Outcome::Failed => false,
    }) && checks.len() == set.migrations.len();
    Ok(VerifyReport {
        migrations: checks,
        require_rollbacks: options.require_rollbacks,
        passed,
    })
}

fn failed(mut check: MigrationCheck, e: Error) -> MigrationCheck {
    check.outcome = Outcome::Failed;
    check.error = Some(e.to_string());
    check.failure = Some(std::sync::Arc::new(e));
    check
}
