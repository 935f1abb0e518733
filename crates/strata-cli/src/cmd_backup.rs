//! `strata backup`, `strata restore`, and the backup `strata push --backup` takes first.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use serde_json::json;
use strata::backup::{self, BackupReport};

use strata::target::Target;
use strata::Error;

use crate::args::{BackupArgs, RestoreArgs};
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

/// The warning the seed gives about point-in-time recovery, said before every restore.
const RESTORE_WARNING: &str =
    "A restore brings back ALL data as it was when the backup was taken, not just the schema: \
rows written since then to the tables in the backup are lost. The migration history goes back too.";

/// Whether the CI convention says no one is there to answer a prompt.
pub(crate) fn under_ci() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
        .unwrap_or(false)
}

pub(crate) async fn run_backup(
    ctx: &Context,
    a: &BackupArgs,
    out: &Renderer,
) -> Result<Outcome, Error> {
    let target = ctx.target()?;
    out.target(&target);
    let file = match &a.output_file {
        Some(p) => p.clone(),
        None => default_path(ctx, &target),
    };
    let report = backup::backup(&target, &file).await?;
    out.line(&describe(&report));
    Ok(Outcome::ok(
        serde_json::to_value(&report).unwrap_or_default(),
    ))
}

pub(crate) async fn run_restore(
    ctx: &Context,
    a: &RestoreArgs,
    out: &Renderer,
) -> Result<Outcome, Error> {
    // Inputs first: a missing file or a bad setting starts and changes nothing.
    let lock_wait = ctx.lock_wait(a.lock_wait.as_deref())?;
    if !a.file.is_file() {
        return Err(Error::Setting {
            setting: "FILE".into(),
            message: format!(
                "backup {} {}",
                a.file.display(),
                if a.file.is_dir() {
                    "is a directory"
                } else {
                    "does not exist"
                }
            ),
            hint: Some(format!(
                "pass a file written by `strata backup` or `strata push --backup`; they are in {}",
                ctx.project.state_dir().join("backups").display()
            )),
        });
    }
    let target = ctx.target()?;
    out.target(&target);
    let database = target.database().unwrap_or_else(|| "postgres".into());
    if !a.yes {
        confirm(&database, &a.file, &target)?;
    } else {
        out.warn(RESTORE_WARNING);
    }
    let report = backup::restore(&target, &a.file, lock_wait).await?;
    out.line(&format!(
        "Restored {} into {} in {} ms.",
        report.file.display(),
        report.database,
        report.duration_ms
    ));
    if let Some(from) = report
        .archive_database
        .as_deref()
        .filter(|d| *d != report.database)
    {
        out.warn(&format!(
            "the backup was taken of database {from}, and was restored into {}: its objects, rows and migration history are {from}'s",
            report.database
        ));
    }
    if !report.unrecorded.is_empty() {
        out.warn(&format!(
            "migration(s) {} were applied after the backup and are no longer recorded; objects they created that the backup does not hold are still there. Drop them (or run their rollback files) before pushing again; next time, `strata rollback` them before restoring.",
            report.unrecorded.join(", ")
        ));
    }
    let mut v = serde_json::to_value(&report).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("warning".into(), json!(RESTORE_WARNING));
    }
    Ok(Outcome::ok(v))
}

/// Asks for the database name on a terminal; refuses when no one can answer.
fn confirm(database: &str, file: &Path, target: &Target) -> Result<(), Error> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if under_ci() || !interactive {
        return Err(Error::ConfirmationRequired {
            message: format!(
                "refusing to restore {} into {} without confirmation ({})",
                file.display(),
                target.display(),
                if under_ci() {
                    "CI is set: Strata never prompts there"
                } else {
                    "no terminal to ask on"
                }
            ),
            hint: Some(format!(
                "{RESTORE_WARNING}\nIf that is what you want, pass --yes."
            )),
        });
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "{RESTORE_WARNING}\n\nRestore {} into {}?\nType the database name ({database}) to confirm: ",
        file.display(),
        target.display()
    );
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Io {
            action: "read",
            path: "stdin".into(),
            source: e,
        })?;
    if answer.trim() == database {
        Ok(())
    } else {
        Err(Error::ConfirmationRequired {
            message: format!(
                "not restored: `{}` is not the database name ({database})",
                answer.trim()
            ),
            hint: Some("run the command again and type the name exactly, or pass --yes".into()),
        })
    }
}

fn default_path(ctx: &Context, target: &Target) -> std::path::PathBuf {
    backup::backup_path(
        &ctx.project.state_dir(),
        target,
        time::OffsetDateTime::now_utc(),
        &backup::run_id(),
        None,
    )
}

/// A backup in one line, with the command that restores it.
pub(crate) fn describe(r: &BackupReport) -> String {
    format!(
        "Backup: {} ({:.1} MB, {} ms, pg_dump {} for PostgreSQL {}); restore it with `strata restore {}`",
        r.file.display(),
        r.bytes as f64 / 1_000_000.0,
        r.duration_ms,
        r.pg_dump.version,
        r.server_version,
        r.file.display()
    )
}
