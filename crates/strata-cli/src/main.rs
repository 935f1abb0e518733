//! `strata`: the thin command line over the `strata` library. It parses arguments, resolves
//! them once into a [`context::Context`] (project, migrations, target), calls the library, and
//! renders the result (human text or JSON). It holds no migration logic. One file per command.

// Every line this binary prints goes through these: they scrub known secrets (the target's
// password, raw or percent-encoded, and anything that looked like one in a connection string
// that did not parse) before writing. They shadow the standard macros in every module below.
macro_rules! println {
    () => { $crate::render::write_stdout("\n") };
    ($($arg:tt)*) => { $crate::render::write_stdout(&format!("{}\n", format_args!($($arg)*))) };
}
macro_rules! print {
    ($($arg:tt)*) => { $crate::render::write_stdout(&format!($($arg)*)) };
}
macro_rules! eprintln {
    () => { $crate::render::write_stderr("\n") };
    ($($arg:tt)*) => { $crate::render::write_stderr(&format!("{}\n", format_args!($($arg)*))) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::render::write_stderr(&format!($($arg)*)) };
}

mod args;
mod cmd_backup;
mod cmd_db;
mod cmd_diff;
mod cmd_fleet;
mod cmd_init;
mod cmd_link;
mod cmd_lint;
mod cmd_migration;
mod cmd_push;
mod cmd_rollback;
mod cmd_schema;
mod cmd_sql;
mod cmd_verify;
mod context;
mod failure;
mod render;

/// mimalloc: lint parses tens of thousands of statements into many small allocations, which
/// glibc's allocator serves markedly slower (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use crate::failure::exit_code;
use clap::Parser;
use serde_json::{json, Value};

use args::{Cli, Command, DbCommand, MigrationCommand, SchemaCommand};
use context::Context;
use failure::Failure;
use render::Renderer;

/// What a command that ran to its end returns: the JSON `result` (`None` when the command
/// printed its own document, as `lint --format json|sarif` does) and the exit code (0, or 4
/// for drift, 1 for a failed verification …; see docs/exit-codes.md).
pub(crate) struct Outcome {
    pub result: Option<Value>,
    pub exit: i32,
}

impl Outcome {
    pub fn ok(result: Value) -> Outcome {
        Outcome {
            result: Some(result),
            exit: exit_code::SUCCESS,
        }
    }

    pub fn with_exit(result: Value, exit: i32) -> Outcome {
        Outcome {
            result: Some(result),
            exit,
        }
    }
}

fn main() -> ExitCode {
    // Behave like other Unix tools when stdout is closed early (`strata push --dry-run | head`).
    // SAFETY: resetting a signal disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // No transparent huge pages: mimalloc asks for them on its arenas, and the kernel then
    // zeroes 2 MiB at each first touch — for a short-lived command touching tens of MiB here
    // and there that was half of a no-op push's time (docs/BENCHMARKS.md).
    // SAFETY: PR_SET_THP_DISABLE only sets this process's memory policy; no pointers involved.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    // Secrets given on the command line or in the environment are scrubbed from every output
    // from the start, before anything is parsed.
    context::register_raw_secrets(&cli);
    let out = Renderer::new(cmd_lint::output(&cli), cli.global.quiet);
    let command = command_name(&cli.command);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit_code::FAILURE as u8);
        }
    };
    match runtime.block_on(run(&cli, &out)) {
        Ok(outcome) => {
            if let Some(result) = outcome.result {
                out.json(&json!({ "command": command, "ok": outcome.exit == 0, "result": result }));
            }
            ExitCode::from(outcome.exit as u8)
        }
        Err(e) => {
            out.error(command, &e);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

async fn run(cli: &Cli, out: &Renderer) -> Result<Outcome, Failure> {
    if let Command::Lint(a) = &cli.command {
        if let Some(id) = &a.explain {
            return Ok(cmd_lint::explain(a, cli, id)?);
        }
    }
    let ctx = Context::new(cli)?;
    out.set_hint_flags(ctx.hint_flags());
    Ok(match &cli.command {
        Command::Push(a) => cmd_push::run(&ctx, a, out).await?,
        Command::Rollback(a) => cmd_rollback::run(&ctx, a, out).await?,
        Command::Backup(a) => cmd_backup::run_backup(&ctx, a, out).await?,
        Command::Restore(a) => cmd_backup::run_restore(&ctx, a, out).await?,
        Command::Lint(a) => cmd_lint::run(&ctx, a, out).await?,
        Command::Migration(args::MigrationCommand::List {
            fleet: Some(fleet),
            check_drift,
        }) => cmd_fleet::list(&ctx, fleet, *check_drift, out).await?,
        Command::Migration(m) => cmd_migration::run(&ctx, m, out).await?,
        Command::Db(d) => cmd_db::run(&ctx, d, out).await?,
        Command::Init(a) => cmd_init::run(&ctx, a, out)?,
        Command::Sql(a) => cmd_sql::run(&ctx, a, out).await?,
        Command::Link(a) => cmd_link::run(&ctx, a, out)?,
        Command::Diff(a) => cmd_diff::diff(&ctx, a, out).await?,
        Command::Schema(SchemaCommand::Diff(a)) => cmd_schema::diff(&ctx, a, out).await?,
        Command::Schema(SchemaCommand::Dump(a)) => cmd_schema::dump(&ctx, a, out).await?,
        Command::Verify(a) => cmd_verify::verify(&ctx, a, out).await?,
    })
}

/// Clap's errors and `--help`/`--version`: as clap prints them, except that under
/// `--output json` a usage error is a JSON document too.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args().collect();
    let json = args
        .windows(2)
        .any(|w| (w[0] == "--output" || w[0] == "-o") && w[1] == "json")
        || args.iter().any(|a| a == "--output=json" || a == "-ojson");
    if json && !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let message = e
            .kind()
            .as_str()
            .unwrap_or("invalid command line")
            .to_string();
        let detail = e.to_string();
        let v = json!({ "command": null, "ok": false, "error": {
            "kind": "usage", "message": message, "hint": "see `strata --help`",
            "details": { "clap": detail.trim() } } });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return ExitCode::from(exit_code::USAGE as u8);
    }
    e.exit()
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Push(_) => "push",
        Command::Rollback(_) => "rollback",
        Command::Backup(_) => "backup",
        Command::Restore(_) => "restore",
        Command::Lint(_) => "lint",
        Command::Migration(MigrationCommand::New { .. }) => "migration new",
        Command::Migration(MigrationCommand::List { .. }) => "migration list",
        Command::Migration(MigrationCommand::Repair { .. }) => "migration repair",
        Command::Migration(MigrationCommand::Adopt { .. }) => "migration adopt",
        Command::Migration(MigrationCommand::Squash { .. }) => "migration squash",
        Command::Db(DbCommand::Start) => "db start",
        Command::Db(DbCommand::Stop) => "db stop",
        Command::Db(DbCommand::Status) => "db status",
        Command::Db(DbCommand::Url) => "db url",
        Command::Db(DbCommand::Reset(_)) => "db reset",
        Command::Init(_) => "init",
        Command::Sql(_) => "sql",
        Command::Link(_) => "link",
        Command::Diff(_) => "diff",
        Command::Schema(SchemaCommand::Diff(_)) => "schema diff",
        Command::Schema(SchemaCommand::Dump(_)) => "schema dump",
        Command::Verify(_) => "verify",
    }
}
