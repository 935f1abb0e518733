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
//! without a rollback file is reported too.

use std::path::PathBuf;

use serde::Serialize;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

use crate::apply::{cannot_run_in_transaction, no_transaction_reason, Migrator, PushOptions};
use crate::catalog::Catalog;
use crate::diff::{compare, Difference};
use crate::error::{Error, MigrationError};
use crate::platform::Platform;
use crate::scratch::ScratchDb;
use crate::source::{split_file, Migration, MigrationSet, RollbackFile};
use crate::sql::LineIndex;
use crate::target::Target;

/// The marker line of a rollback file that cannot undo its migration exactly.
pub const IRREVERSIBLE_MARKER: &str = "-- strata:irreversible";

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
    /// For [`Outcome::Irreversible`]: the text after the marker, if any.
    pub reason: Option<String>,
    /// For [`Outcome::Failed`]: the error, located (`file:line:column: message`).
    pub error: Option<String>,
    /// For [`Outcome::Failed`]: the error as `Error::to_json` describes it.
    pub error_details: Option<serde_json::Value>,
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
    server: &Target,
    options: VerifyOptions,
) -> Result<VerifyReport, Error> {
    let scratch = ScratchDb::create(server, "verify").await?;
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
    let mut client = target.connect().await?;
    let push_options = PushOptions {
        platform: options.platform,
        include_all: true,
        ..PushOptions::default()
    };
    let upto = |k: usize| MigrationSet {
        dir: set.dir.clone(),
        migrations: set.migrations[..k].to_vec(),
    };
    // The platform emulation first, so that it is part of every "before".
    Migrator::new(upto(0))
        .with_options(push_options.clone())
        .push_connected(&mut client, target, None)
        .await?;
    let mut checks = Vec::new();
    for (k, m) in set.migrations.iter().enumerate() {
        let mut check = MigrationCheck {
            version: m.version.to_string(),
            name: m.name.clone(),
            file: m.path.clone(),
            rollback: m.rollback.as_ref().map(|r| r.path.clone()),
            outcome: Outcome::Reversible,
            differences: Vec::new(),
            reason: None,
            error: None,
            error_details: None,
        };
        let apply = Migrator::new(upto(k + 1)).with_options(push_options.clone());
        let irreversible = m.rollback.as_ref().and_then(irreversible_reason);
        let before = match (&m.rollback, &irreversible) {
            (Some(_), None) => Some(Catalog::capture(&client).await?),
            _ => None,
        };
        if let Err(e) = apply.push_connected(&mut client, target, None).await {
            checks.push(failed(check, &e));
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
        match run_rollback(&client, m, rollback).await {
            Ok(()) => {}
            Err((e, transactional)) => {
                checks.push(failed(check, &e));
                if transactional {
                    // Rolled back as a whole: the migration is still applied; go on.
                    continue;
                }
                break;
            }
        }
        let after = Catalog::capture(&client).await?;
        check.differences = compare(&before, &after);
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
            last.error_details = Some(e.to_json());
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

fn failed(mut check: MigrationCheck, e: &Error) -> MigrationCheck {
    check.outcome = Outcome::Failed;
    check.error = Some(e.to_string());
    check.error_details = Some(e.to_json());
    check
}

/// `Some(reason)` when the rollback file has a `-- strata:irreversible` line.
fn irreversible_reason(rollback: &RollbackFile) -> Option<Option<String>> {
    rollback.sql.lines().find_map(|line| {
        let line = line.trim();
        let rest = line
            .get(..IRREVERSIBLE_MARKER.len())
            .filter(|head| head.eq_ignore_ascii_case(IRREVERSIBLE_MARKER))
            .map(|_| &line[IRREVERSIBLE_MARKER.len()..])?;
        if !(rest.is_empty() || rest.starts_with([' ', '\t', ':'])) {
            return None;
        }
        let reason = rest.trim_start_matches(':').trim();
        Some((!reason.is_empty()).then(|| reason.to_string()))
    })
}

/// Runs a rollback file and removes its migration's history rows: in one transaction unless
/// the file must run outside one (then statement by statement, the history rows last). On
/// failure, the error is located in the rollback file; the flag says whether everything was
/// rolled back.
///
/// A small stand-in for `strata rollback`'s runner (built on another branch), with the same
/// transaction rules as `apply`.
async fn run_rollback(
    client: &Client,
    m: &Migration,
    rollback: &RollbackFile,
) -> Result<(), (Error, bool)> {
    let statements = split_file(&rollback.path, &rollback.sql).map_err(|e| (e, true))?;
    let transactional = no_transaction_reason(&rollback.sql, &statements).is_none();
    let db = |context: &str, e| (Error::db(context.to_string(), e), transactional);
    client
        .batch_execute(if transactional { "BEGIN" } else { "RESET ALL" })
        .await
        .map_err(|e| db("starting the rollback", e))?;
    for s in &statements {
        let Some(start) = s.code_start else { continue };
        let w = |i: usize| s.words.get(i).map(String::as_str);
        // The file's own BEGIN/COMMIT: the transaction is ours.
        if matches!(
            (w(0), w(1)),
            (Some("begin" | "commit" | "end"), _) | (Some("start"), Some("transaction"))
        ) && cannot_run_in_transaction(&s.words).is_none()
        {
            continue;
        }
        let text = &rollback.sql[start..s.span.end];
        if let Err(e) = client.simple_query(text).await {
            if transactional {
                let _ = client.batch_execute("ROLLBACK").await;
            }
            return Err((
                located(rollback, m, start, text, e, transactional),
                transactional,
            ));
        }
    }
    let version = crate::history::quote_literal(m.version.as_str());
    client
        .batch_execute(&format!(
            "DELETE FROM supabase_migrations.schema_migrations WHERE version = {version}; \
             DELETE FROM supabase_migrations.strata_history WHERE version = {version};{}",
            if transactional { " COMMIT;" } else { "" }
        ))
        .await
        .map_err(|e| db("removing the history rows of the rolled-back migration", e))?;
    Ok(())
}

/// A rollback statement's failure at `file:line:column`, as `push` reports a migration's.
fn located(
    rollback: &RollbackFile,
    m: &Migration,
    start: usize,
    text: &str,
    e: tokio_postgres::Error,
    transactional: bool,
) -> Error {
    let db = e.as_db_error();
    let offset = start
        + db.and_then(|d| match d.position() {
            Some(ErrorPosition::Original(p)) => text
                .char_indices()
                .nth((*p as usize).saturating_sub(1))
                .map(|(i, _)| i),
            _ => None,
        })
        .unwrap_or(0);
    let (line, column) = LineIndex::new(&rollback.sql).line_col(&rollback.sql, offset);
    MigrationError {
        file: rollback.path.clone(),
        version: m.version.to_string(),
        line,
        column,
        statement: text.chars().take(300).collect(),
        sqlstate: db.map(|d| d.code().code().to_string()),
        message: db
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string()),
        detail: db.and_then(|d| d.detail().map(str::to_string)),
        hint: db.and_then(|d| d.hint().map(str::to_string)),
        offset,
        source_text: rollback.sql.clone(),
        transactional,
        lock_holders: Vec::new(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sql: &str) -> RollbackFile {
        RollbackFile {
            path: "1_x_rollback.sql".into(),
            sql: sql.into(),
        }
    }

    #[test]
    fn the_irreversible_marker_is_a_comment_line_with_an_optional_reason() {
        assert_eq!(
            irreversible_reason(&file("-- strata:irreversible\nselect 1;")),
            Some(None)
        );
        assert_eq!(
            irreversible_reason(&file("  -- STRATA:irreversible: drops user data\n")),
            Some(Some("drops user data".into()))
        );
        assert_eq!(
            irreversible_reason(&file("-- strata:irreversible deletes rows")),
            Some(Some("deletes rows".into()))
        );
        assert_eq!(
            irreversible_reason(&file("-- strata:irreversibles\n")),
            None
        );
        assert_eq!(
            irreversible_reason(&file("select '-- strata:irreversible';")),
            None
        );
    }
}
