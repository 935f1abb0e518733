//! Rendering: every human-readable line and every JSON document the CLI prints comes from here.
//! Results go to stdout; progress and errors to stderr. In JSON mode stdout holds exactly one
//! JSON document and nothing else.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use strata::apply::{Event, Observer, PushReport};
use strata::author::{NewMigration, Rename};
use strata::error::MigrationError;
use strata::history::{RepairChange, RepairStatus};
use strata::local::ClusterStatus;
use strata::plan::{Plan, State};
use strata::target::Target;
use strata::Error;

use crate::failure::Failure;

use crate::args::Output;

// ---------------------------------------------------------------------------------------------
// Secrets: scrubbed from every byte this binary writes
// ---------------------------------------------------------------------------------------------

/// Text never to print. Filled before anything is parsed (raw flags and variables) and again
/// once the target is resolved.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shorter secrets are not scrubbed: replacing every "post" or "1234" in the output would mangle
/// it without protecting anything a 4-character guess would not.
const MIN_SECRET_LEN: usize = 6;

/// Adds text that must never be printed (longest first, so that a secret containing another is
/// replaced whole).
pub fn register_secrets(secrets: Vec<String>) {
    if let Ok(mut list) = SECRETS.lock() {
        for s in secrets {
            if s.chars().count() >= MIN_SECRET_LEN && !list.contains(&s) {
                list.push(s);
            }
        }
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret replaced by `****`.
pub fn scrub(text: &str) -> std::borrow::Cow<'_, str> {
    let Ok(list) = SECRETS.lock() else {
        return text.into();
    };
    if !list.iter().any(|s| text.contains(s.as_str())) {
        return text.into();
    }
    let mut out = text.to_string();
    for s in list.iter() {
        out = out.replace(s.as_str(), "****");
    }
    out.into()
}

/// Writes to stdout, scrubbed (the crate's `print!`/`println!`).
pub fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(scrub(text).as_bytes());
    let _ = out.flush();
}

/// Writes to stderr, scrubbed (the crate's `eprint!`/`eprintln!`).
pub fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(scrub(text).as_bytes());
}

/// Appends `flags` to every `strata …` command quoted in backticks in `text` whose command works
/// on a database, so that a hint run as written reaches the same target (and project) as the
/// run that printed it. The library names commands; only the CLI knows the flags.
pub fn with_target_flags(text: &str, flags: &str) -> String {
    if flags.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + flags.len());
    let mut rest = text;
    while let Some(start) = rest.find("`strata ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(len) = after.find('`') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let command = &after[..len];
        out.push('`');
        out.push_str(command);
        let words: Vec<&str> = command.split_whitespace().collect();
        let touches_database = match words.get(1).copied() {
            Some("push" | "rollback" | "backup" | "restore" | "diff" | "sql") => true,
            Some("migration") => matches!(words.get(2).copied(), Some("list" | "repair")),
            _ => false,
        };
        let has_target = words
            .iter()
            .any(|w| matches!(*w, "--db-url" | "--env" | "--linked" | "--dir" | "--config"));
        if touches_database && !has_target {
            out.push(' ');
            out.push_str(flags);
        }
        out.push('`');
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    out
}

pub struct Renderer {
    json: bool,
    quiet: bool,
    hint_flags: Mutex<String>,
}

impl Renderer {
    pub fn new(output: Output, quiet: bool) -> Self {
        Renderer {
            json: output == Output::Json,
            quiet,
            hint_flags: Mutex::new(String::new()),
        }
    }

    /// The flags hints append to the commands they name (see [`with_target_flags`]).
    pub fn set_hint_flags(&self, flags: String) {
        if let Ok(mut f) = self.hint_flags.lock() {
            *f = flags;
        }
    }

    /// A hint or fix with the target's flags added to the commands it names.
    pub fn hint(&self, text: &str) -> String {
        let flags = self
            .hint_flags
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default();
        with_target_flags(text, &flags)
    }

    /// The same for every `hint` and `fix` string inside a JSON document.
    fn hints_in(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    match v {
                        Value::String(s) if k == "hint" || k == "fix" => *s = self.hint(s),
                        other => self.hints_in(other),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.hints_in(v)),
            _ => {}
        }
    }

    /// Whether the output is one JSON document.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Whether only warnings and errors are printed (`-q`).
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    fn human(&self) -> bool {
        !self.json && !self.quiet
    }

    /// Prints a line of human output.
    pub fn line(&self, text: &str) {
        if self.human() {
            println!("{text}");
        }
    }

    /// A warning on stderr, also under `-q` (in JSON mode the document carries it instead).
    pub fn warn(&self, text: &str) {
        if !self.json {
            eprintln!("warning: {text}");
        }
    }

    /// Prints the JSON document (JSON mode only), hints with the target's flags.
    pub fn json(&self, value: &Value) {
        if self.json {
            let mut value = value.clone();
            self.hints_in(&mut value);
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
    }

    /// The `Target:` line every command that works on a database prints (stderr), with what is
    /// worth knowing about how it is reached.
    pub fn target(&self, target: &Target) {
        if !self.human() {
            return;
        }
        eprintln!(
            "Target: {} ({})",
            target.display(),
            source_label(&target.source)
        );
        for note in target.notes() {
            eprintln!("  {note}");
        }
    }

    /// The `Scratch:` line of a command that builds scratch databases (stderr): where builds
    /// go, and, on a shared server, that they take turns and drop the roles they create.
    pub fn scratch(&self, scratch: &strata::scratch::Scratch) {
        if !self.human() {
            return;
        }
        eprintln!("Scratch: {}", scratch.display());
        if let Some(note) = scratch.note() {
            eprintln!("  {note}");
        }
    }

    pub fn progress(&self) -> Progress {
        Progress {
            show: self.human(),
            bar: Mutex::new(None),
        }
    }

    pub fn push(&self, report: &PushReport, total_local: usize) {
        if !self.human() {
            return;
        }
        if let Some(b) = &report.backup {
            println!("{}", crate::cmd_backup::describe(b));
        }
        if let Some(p) = &report.platform {
            if p.status == "would_install" {
                println!("Would install Supabase platform emulation v{} first (roles, auth, storage, extensions).", p.version);
            }
        }
        if report.dry_run {
            if report.planned.is_empty() {
                println!(
                    "Dry run: nothing to push; all {} migration(s) are applied.",
                    report.already_applied
                );
            } else {
                println!(
                    "Dry run: {} migration(s) would be applied; nothing was changed.\n",
                    report.planned.len()
                );
                for p in &report.planned {
                    let how = match &p.no_transaction_reason {
                        None => "in one transaction with its history rows".to_string(),
                        Some(r) => format!(
                            "OUTSIDE a transaction, statement by statement ({r}); history row last"
                        ),
                    };
                    println!("-- ==== {} ({how})", p.file.display());
                    for (i, sql) in p.sql.iter().enumerate() {
                        if p.sql.len() > 1 {
                            println!("-- round trip {}", i + 1);
                        }
                        println!("{}", sql.trim_end());
                    }
                    println!();
                }
            }
            for s in &report.seeds {
                println!("Seed {} would run (unless already recorded).", s.path);
            }
            for r in &report.repeatables {
                println!("Repeatable {r} would run (new or changed).");
            }
            let (gone, adopted): (Vec<_>, Vec<_>) =
                report.adopted.iter().partition(|a| a.rolled_back);
            if let Some(a) = adopted.first() {
                println!(
                    "Would copy {} version(s) applied by {} into Strata's history.",
                    adopted.len(),
                    a.source
                );
            }
            for a in gone {
                println!(
                    "Would remove {} from Strata's history: rolled back with the other tool since ({}).",
                    a.version, a.source
                );
            }
            return;
        }
        let (gone, adopted): (Vec<_>, Vec<_>) = report.adopted.iter().partition(|a| a.rolled_back);
        if let Some(a) = adopted.first() {
            println!(
                "Adopted {} version(s) applied by {}: copied into Strata's history, not run again.",
                adopted.len(),
                a.source
            );
        }
        for a in gone {
            println!(
                "Removed {} from Strata's history: rolled back with the other tool since ({}).",
                a.version, a.source
            );
        }
        for s in &report.seeds {
            let what = match s.status {
                "applied" => format!("ran in {} ms", s.duration_ms),
                "reapplied" => format!("ran again in {} ms", s.duration_ms),
                "unchanged" => "already ran".to_string(),
                "hash_updated" => {
                    "changed since it ran: hash updated, not run again (push --reseed runs it)"
                        .to_string()
                }
                other => other.to_string(),
            };
            println!("Seed {}: {what}", s.path);
        }
        for r in &report.repeatables {
            println!("Repeatable {r}: ran (new or changed).");
        }
        if !report.migrations_enabled {
            println!("Migrations skipped: disabled by setting.");
        } else if report.applied.is_empty() {
            println!(
                "Nothing to push: all {} migration(s) are applied.",
                report.already_applied.max(total_local)
            );
        } else {
            let ms: u64 = report.applied.iter().map(|a| a.duration_ms).sum();
            println!(
                "Applied {} migration(s) in {} ms{}.",
                report.applied.len(),
                ms,
                if report.already_applied > 0 {
                    format!("; {} were already applied", report.already_applied)
                } else {
                    String::new()
                }
            );
        }
    }

    pub fn list(&self, target: &Target, plan: &Plan) {
        if !self.human() {
            return;
        }
        // One write at the end: thousands of rows through line-buffered stdout cost a syscall each.
        use std::fmt::Write as _;
        let mut o = String::new();
        let _ = writeln!(o, "Migrations on {}:\n", target.display());
        if plan.rows.is_empty() {
            let _ = writeln!(o, "  (no migrations, local or remote)");
        }
        let _ = writeln!(
            o,
            "  {:<16} {:<16} {:<21} NAME",
            "STATE", "VERSION", "APPLIED AT"
        );
        for r in &plan.rows {
            let state = match (r.state, r.verified) {
                (State::Applied, false) => "applied (unverified)".to_string(),
                (s, _) => s.as_str().to_string(),
            };
            // Applied by another tool: which one, and whether Strata's history has it yet.
            let from = match (&r.source, r.adopted) {
                (Some(s), true) => format!("  [from {s}; copied on the next push]"),
                (Some(s), false) => format!("  [from {s}]"),
                (None, _) => String::new(),
            };
            let _ = writeln!(
                o,
                "  {:<16} {:<16} {:<21} {}{}{from}",
                state,
                r.version.as_str(),
                r.applied_at.map_or_else(
                    || match r.state {
                        State::Applied | State::Modified | State::MissingLocally => {
                            "(by another tool)".to_string()
                        }
                        _ => "-".to_string(),
                    },
                    |t| t.to_string()
                ),
                r.name.as_deref().unwrap_or(""),
                if r.has_rollback { "  [rollback]" } else { "" }
            );
        }
        let count = |s: State| plan.rows.iter().filter(|r| r.state == s).count();
        let _ = writeln!(
            o,
            "\n{} applied, {} pending, {} modified, {} missing locally, {} out of order.",
            count(State::Applied),
            count(State::Pending),
            count(State::Modified),
            count(State::MissingLocally),
            count(State::OutOfOrder)
        );
        for p in &plan.problems {
            let _ = writeln!(o, "\n{}", p.message);
            if let Some(d) = &p.diff {
                let _ = writeln!(o, "{}", indent(d, "    "));
            }
            if let Some(f) = &p.fix {
                let _ = writeln!(o, "  fix: {f}");
            }
        }
        print!("{o}");
    }

    pub fn new_migration(&self, m: &NewMigration) {
        if let Some(w) = &m.warning {
            if !self.json {
                eprintln!("warning: {w}");
            }
        }
        self.line(&format!("Created {}", m.path.display()));
        if let Some(r) = &m.rollback {
            self.line(&format!("Created {}", r.display()));
        }
    }

    pub fn repair(&self, changes: &[RepairChange]) {
        for c in changes {
            let what = match (c.status, c.changed) {
                (RepairStatus::Applied, true) => "recorded as applied",
                (RepairStatus::Applied, false) => {
                    "re-recorded as applied (checksum and statements refreshed)"
                }
                (RepairStatus::Reverted, true) => "removed from the history",
                (RepairStatus::Reverted, false) => "was not in the history; nothing changed",
            };
            self.line(&format!(
                "{} {}: {what}",
                c.version,
                c.name.as_deref().unwrap_or("")
            ));
        }
    }

    pub fn adopt(&self, renames: &[Rename], dry_run: bool) {
        for r in renames {
            self.line(&format!(
                "{} {} -> {}",
                if dry_run { "would rename" } else { "renamed" },
                r.from.display(),
                r.to.display()
            ));
        }
        if !dry_run {
            self.line("Now remove legacy_order from strata.toml: the directory is ordinary.");
        }
    }

    pub fn init(&self, created: &[std::path::PathBuf]) {
        if created.is_empty() {
            self.line("Nothing to do: strata.toml and the migrations directory exist.");
        }
        for c in created {
            self.line(&format!("Wrote {}", c.display()));
        }
    }

    pub fn db_status(&self, status: &ClusterStatus, database: &str) {
        match status {
            ClusterStatus::NotCreated => {
                self.line("Local PostgreSQL: not created yet (`strata db start` creates it).")
            }
            ClusterStatus::Stopped { port, data_dir } => self.line(&format!(
                "Local PostgreSQL: stopped (port {port}, data in {})",
                data_dir.display()
            )),
            ClusterStatus::Running(info) => self.line(&format!(
                "Local PostgreSQL {}: running on port {} (pid {}), data in {}\n{}",
                info.version,
                info.port,
                info.pid,
                info.data_dir.display(),
                info.url(database)
            )),
        }
    }

    /// `db url` prints the URL even with --quiet: it is the command's output.
    pub fn url(&self, url: &str) {
        if !self.json {
            println!("{url}");
        }
    }

    /// What reading the migrations directory skipped or noticed, as warnings on stderr (in JSON
    /// mode the document's `skipped` and `notes` carry them).
    pub fn source_facts(
        &self,
        skipped: &[strata::source::Skipped],
        notes: &[strata::source::FileNote],
    ) {
        if self.json {
            return;
        }
        for s in skipped {
            eprintln!("warning: skipping {}: {}", s.path.display(), s.reason);
        }
        for n in notes {
            eprintln!("warning: {}: {}", n.path.display(), n.note);
        }
    }

    /// Server notices of a command that is not a migration (`strata sql`), on stderr as psql
    /// prints them.
    pub fn notices(&self, notices: &[strata::session::Notice]) {
        if !self.human() {
            return;
        }
        for n in notices {
            eprintln!("{n}");
        }
    }

    /// A result set as an aligned table (psql-like), then the row count.
    pub fn sql(&self, r: &strata::act::ActResult) {
        if !self.human() {
            return;
        }
        eprintln!("As {} (role {}):", r.actor, r.role);
        if !r.columns.is_empty() {
            let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
            let widths: Vec<usize> = r
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    r.rows
                        .iter()
                        .map(|row| row.get(i).map(|v| cell(v).chars().count()).unwrap_or(0))
                        .chain([c.chars().count()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |vals: Vec<String>| {
                vals.iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v:<w$}"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            println!(" {}", line(r.columns.clone()));
            println!(
                "-{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("-+-")
            );
            for row in &r.rows {
                println!(" {}", line(row.iter().map(cell).collect()));
            }
            println!(
                "({} row{})",
                r.rows.len(),
                if r.rows.len() == 1 { "" } else { "s" }
            );
        } else if let Some(n) = r.rows_affected {
            println!("{n} row(s) affected");
        }
        if !r.committed {
            println!("(rolled back)");
        }
    }

    pub fn error(&self, command: &str, failure: &Failure) {
        if self.json {
            self.json_error(command, failure);
            return;
        }
        let e = match failure {
            Failure::Strata(e) => e,
            other @ (Failure::Lint { .. }
            | Failure::Fleet { .. }
            | Failure::FleetHeldBack { .. }) => {
                eprintln!("error: {other}");
                if let Some(h) = other.hint() {
                    eprintln!("hint: {}", self.hint(&h));
                }
                return;
            }
        };
        let mut err = String::new();
        use std::fmt::Write as _;
        match e {
            Error::Migration(m) => {
                err.push_str(&migration_error(m, &|h| self.hint(h), true));
            }
            Error::ScratchBuild {
                purpose,
                database,
                error,
            } => {
                // `strata schema` builds the schema files too: name what failed.
                let what = if purpose.contains("schema files") {
                    "the schema files"
                } else {
                    "the migrations"
                };
                let _ = writeln!(
                    err,
                    "error: {what} failed on a scratch database built for {purpose} ({database}, dropped); the target was not touched"
                );
                match error.as_ref() {
                    Error::Migration(m) => {
                        err.push_str(&migration_error(m, &|h| self.hint(h), false));
                    }
                    other => {
                        let _ = writeln!(err, "error: {other}");
                        if let Some(h) = other.hint() {
                            let _ =
                                writeln!(err, "hint: {}", self.hint(&h).replace('\n', "\n      "));
                        }
                    }
                }
                let _ = writeln!(
                    err,
                    "{} do not apply to a new, empty database{}: fix that file and run again.",
                    if what == "the schema files" {
                        "The schema files"
                    } else {
                        "The migrations"
                    },
                    if what == "the schema files" {
                        " in the lexical order of their names"
                    } else {
                        " (as `strata db reset` would show)"
                    }
                );
            }
            Error::Refused { .. } | Error::SquashRefused { .. } => {
                let (problems, what) = match e {
                    Error::SquashRefused { problems, target } => (
                        problems,
                        format!("refusing to squash the history of {target}"),
                    ),
                    Error::Refused { problems } => (problems, "refusing to push".to_string()),
                    _ => unreachable!("matched above"),
                };
                let _ = writeln!(err, "error: {what}; nothing was changed:");
                for p in problems {
                    let _ = writeln!(err, "\n  {}", p.message);
                    if let Some(d) = &p.diff {
                        let _ = writeln!(err, "{}", indent(d, "    "));
                    }
                    if let Some(f) = &p.fix {
                        let _ = writeln!(err, "  fix: {}", self.hint(f));
                    }
                }
            }
            Error::RollbackRefused { problems } => {
                let _ = writeln!(err, "error: refusing to roll back; nothing was changed:");
                for p in problems {
                    let _ = writeln!(err, "\n  {}", p.message);
                    if let Some(f) = &p.fix {
                        let _ = writeln!(err, "  fix: {}", self.hint(f));
                    }
                }
            }
            Error::Unproven { details, .. }
            | Error::Lint {
                findings: details, ..
            } => {
                let _ = writeln!(err, "error: {e}");
                for d in details {
                    let _ = writeln!(err, "  {d}");
                }
                if let Some(h) = e.hint() {
                    let _ = writeln!(err, "hint: {}", self.hint(&h).replace('\n', "\n      "));
                }
            }
            Error::LockWait { holders, .. } => {
                let _ = writeln!(err, "error: {e}");
                for h in holders {
                    let _ = writeln!(err, "  held by {h}");
                }
                if let Some(h) = e.hint() {
                    let _ = writeln!(err, "hint: {}", self.hint(&h));
                }
            }
            _ => {
                let _ = writeln!(err, "error: {e}");
                if let Some(h) = e.hint() {
                    let _ = writeln!(err, "hint: {}", self.hint(&h).replace('\n', "\n      "));
                }
            }
        }
        eprint!("{err}");
    }

    /// An error as the JSON document (`ok: false`).
    pub fn json_error(&self, command: &str, e: &Failure) {
        let mut v = json!({ "command": command, "ok": false, "error": e.to_json() });
        self.hints_in(&mut v);
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
}

/// A failed statement, rustc-style: the file position, the line with a caret, then the
/// server's detail and hint (`hint` adds the target's flags to commands it names).
/// `on_target`: it failed on the command's target, so say what stays applied there (not for a
/// scratch database's build).
fn migration_error(m: &MigrationError, hint: &dyn Fn(&str) -> String, on_target: bool) -> String {
    let mut s = String::new();
    for n in &m.notices {
        s.push_str(&format!("{}\n", notice_line(&m.file, n)));
    }
    s.push_str(&format!("error: {}", m.message));
    if let Some(code) = &m.sqlstate {
        s.push_str(&format!(" [SQLSTATE {code}]"));
    }
    s.push_str(&format!(
        "\n  --> {}:{}:{}\n",
        m.file.display(),
        m.line,
        m.column
    ));
    let line_text = m
        .source_text
        .lines()
        .nth(m.line.saturating_sub(1))
        .unwrap_or("");
    let gutter = m.line.to_string().len();
    s.push_str(&format!("{:gutter$} |\n", ""));
    s.push_str(&format!("{} | {}\n", m.line, line_text.trim_end()));
    s.push_str(&format!(
        "{:gutter$} | {}^\n",
        "",
        " ".repeat(m.column.saturating_sub(1))
    ));
    if !m.statement.contains('\n') && m.statement.len() > line_text.trim().len() {
        s.push_str(&format!("  statement: {}\n", m.statement));
    }
    if let Some(d) = &m.detail {
        s.push_str(&format!("  detail: {d}\n"));
    }
    for h in &m.lock_holders {
        s.push_str(&format!("  lock held by {h}\n"));
    }
    if let Some(h) = &m.hint {
        s.push_str(&format!("hint: {}\n", hint(h).replace('\n', "\n      ")));
    }
    let rollback_file = m.file.to_string_lossy().ends_with("_rollback.sql");
    if on_target && m.transactional && rollback_file {
        s.push_str(&format!(
            "The rollback of {} was undone: migration {} stays applied and recorded. Rollbacks before it (newer migrations) stay done.\n",
            m.version, m.version
        ));
    } else if on_target && m.transactional {
        s.push_str(&format!(
            "Migration {} was rolled back: nothing of it was applied or recorded. Migrations before it stay applied.\n",
            m.version
        ));
    }
    s
}

/// A notice as psql prints it, with the file that caused it.
fn notice_line(file: &std::path::Path, n: &strata::session::Notice) -> String {
    let name = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut line = format!("{}: {} ({name})", n.severity, n.message);
    if let Some(d) = &n.detail {
        line.push_str(&format!("\nDETAIL:  {d}"));
    }
    if let Some(h) = &n.hint {
        line.push_str(&format!("\nHINT:  {h}"));
    }
    line
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prints one line per migration; on a terminal, with a progress bar for longer runs.
pub struct Progress {
    show: bool,
    bar: Mutex<Option<ProgressBar>>,
}

/// Runs shorter than this print lines only.
const BAR_THRESHOLD: usize = 10;

impl Progress {
    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }

    fn print(&self, text: &str) {
        match self.bar.lock().ok().and_then(|b| b.clone()) {
            Some(bar) => bar.println(scrub(text)),
            None => eprintln!("{text}"),
        }
    }
}

impl Progress {
    /// The lines a push prints when it finds the migration lock taken (`holders`: the
    /// sessions holding it; none for another squash of the project, a local file lock).
    pub fn lock_waiting(&self, holders: &[strata::lock::LockHolder]) {
        self.event(&Event::LockWaiting { holders });
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event<'_>) {
        if !self.show {
            return;
        }
        match event {
            // Said with the push's summary (stdout), as `strata backup` says it.
            Event::BackedUp { .. } => {}
            Event::LockWaiting { holders } => {
                self.print("Waiting for another strata run to release the migration lock…");
                for h in *holders {
                    self.print(&format!("  held by {h}"));
                }
            }
            Event::LockAcquired { waited } if *waited > Duration::from_millis(100) => {
                self.print(&format!(
                    "Got the migration lock after {} ms.",
                    waited.as_millis()
                ));
            }
            Event::LockAcquired { .. } => {}
            Event::Applying {
                index,
                total,
                migration,
                transactional,
            } => {
                if *index == 0 {
                    self.print(&format!("Applying {total} migration(s)"));
                    if *total >= BAR_THRESHOLD && std::io::stderr().is_terminal() {
                        let bar = ProgressBar::new(*total as u64);
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{bar:40.cyan/blue} {pos}/{len} {elapsed_precise} {wide_msg}",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                        );
                        if let Ok(mut b) = self.bar.lock() {
                            *b = Some(bar);
                        }
                    }
                }
                if !transactional {
                    self.print(&format!(
                        "  {} runs outside a transaction, statement by statement",
                        migration.file_name()
                    ));
                }
                if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
                    bar.set_message(migration.file_name());
                }
            }
            Event::Applied {
                migration,
                duration,
                transactional,
                no_transaction_reason,
                ..
            } => {
                if let Some(r) = no_transaction_reason.filter(|r| r.contains("ran again")) {
                    self.print(&format!("  {}: {r}", migration.file_name()));
                }
                self.print(&format!(
                    "  applied {} ({} ms{})",
                    migration.file_name(),
                    duration.as_millis(),
                    if *transactional {
                        ""
                    } else {
                        ", no transaction"
                    }
                ));
                if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
                    bar.inc(1);
                }
            }
            Event::Reverting {
                index,
                total,
                migration,
                transactional,
            } => {
                if *index == 0 {
                    self.print(&format!("Rolling back {total} migration(s), newest first"));
                }
                if !transactional {
                    self.print(&format!(
                        "  the rollback of {} runs outside a transaction, statement by statement",
                        migration.file_name()
                    ));
                }
            }
            Event::Reverted {
                migration,
                duration,
                transactional,
                ..
            } => {
                self.print(&format!(
                    "  rolled back {} ({} ms{})",
                    migration.file_name(),
                    duration.as_millis(),
                    if *transactional {
                        ""
                    } else {
                        ", no transaction"
                    }
                ));
            }
            Event::Seeded { .. } => {}
            Event::Blocked {
                migration,
                waiting_for,
                holders,
                waited,
            } => {
                self.print(&format!(
                    "  {} has waited {} s for a lock: {waiting_for}",
                    migration.file_name(),
                    waited.as_secs()
                ));
                for h in *holders {
                    self.print(&format!("    held by {h}"));
                }
                if holders.is_empty() {
                    self.print("    (the holder finished; the lock is being granted)");
                }
            }
            Event::Notices { migration, notices } => {
                for n in *notices {
                    self.print(&format!(
                        "    {}",
                        notice_line(&migration.path, n).replace('\n', "\n    ")
                    ));
                }
            }
            Event::Platform { report } => {
                // The emulation's statements are idempotent (the upstream projects' own
                // `IF NOT EXISTS` steps): their "…, skipping" notices say nothing to the user.
                let (skipping, shown): (Vec<_>, Vec<_>) = report
                    .notices
                    .iter()
                    .partition(|n| n.severity == "NOTICE" && n.message.ends_with(", skipping"));
                for n in shown {
                    self.print(&format!(
                        "{}: {} (Supabase platform emulation)",
                        n.severity, n.message
                    ));
                }
                if !skipping.is_empty() {
                    self.print(&format!(
                        "({} \"already exists, skipping\" notices of the emulation's idempotent steps not shown)",
                        skipping.len()
                    ));
                }
                match report.status {
                    "installed" | "upgraded" => self.print(&format!(
                        "Supabase platform emulation {} (v{}): roles anon/authenticated/service_role, auth.users + auth.uid(), storage, extensions",
                        report.status, report.version
                    )),
                    "real_supabase" => self.print(&format!(
                        "Supabase platform: this is a real Supabase database ({}); no emulation needed",
                        report.evidence.as_deref().unwrap_or("its auth schema belongs to Supabase")
                    )),
                    _ => {}
                }
            }
        }
    }
}

impl Renderer {
    /// `strata diff`: the differences, then the SQL in both directions.
    pub fn diff(&self, drift: &strata::diff::Drift, target: &Target) {
        if !self.human() {
            return;
        }
        if drift.differences.is_empty() {
            println!(
                "No drift: {} has exactly what the migrations build.",
                target.display()
            );
            return;
        }
        let mut o = format!(
            "Drift: {} difference(s) between the migrations (-) and {} (+):\n\n",
            drift.differences.len(),
            target.display()
        );
        for d in &drift.differences {
            for line in d.to_string().lines() {
                o.push_str("  ");
                o.push_str(line);
                o.push('\n');
            }
        }
        o.push_str(
            "\n-- SQL that brings the migrations up to the target (save it with --write NAME):\n",
        );
        o.push_str(&drift.fix.sql);
        o.push_str("\n-- Its rollback:\n");
        o.push_str(&drift.fix.rollback_sql);
        print!("{o}");
    }

    /// `strata schema diff`: the differences, the renames and the SQL both ways (human mode).
    pub fn schema_diff(&self, change: &strata::schema::SchemaDiff, suggest_write: bool) {
        if !self.human() {
            return;
        }
        if change.is_empty() {
            println!("No difference: the schema files describe exactly what the migrations build.");
            return;
        }
        // Counted as listed: each difference and each rename is one line here.
        let mut o = format!(
            "{} difference(s) between the migrations (-) and the schema files (+):\n\n",
            change.differences.len() + change.renames.len()
        );
        for d in &change.differences {
            for line in d.describe(strata::schema::SCHEMA_SIDES).lines() {
                o.push_str("  ");
                o.push_str(line);
                o.push('\n');
            }
        }
        for r in &change.renames {
            o.push_str(&format!(
                "  renamed ({}:{}): {} {} → {}\n",
                r.file.display(),
                r.line,
                r.kind,
                r.from,
                r.to
            ));
        }
        if !change.data_loss.is_empty() {
            o.push_str(&format!(
                "\nData loss: the change drops {} (rename instead with `-- {} OLD_NAME`, or accept with --allow-data-loss)\n",
                change.data_loss.join(", "),
                strata::schema::RENAMED_FROM
            ));
        }
        o.push_str(if suggest_write {
            "\n-- SQL that turns the migrations' database into the schema files' (prove and save it with --write NAME):\n"
        } else {
            "\n-- SQL that turns the migrations' database into the schema files':\n"
        });
        if change.steps.len() > 1 {
            let n = change.steps.len();
            for (i, step) in change.steps.iter().enumerate() {
                o.push_str(&format!(
                    "\n-- Migration {} of {n} ({}):\n{}",
                    i + 1,
                    if step.transactional {
                        "in one transaction"
                    } else {
                        "outside a transaction, statement by statement"
                    },
                    step.sql
                ));
            }
            o.push_str("\n-- Their rollbacks, newest first:\n");
            for (i, step) in change.steps.iter().enumerate().rev() {
                o.push_str(&format!(
                    "-- of migration {}:\n{}",
                    i + 1,
                    step.rollback_sql
                ));
            }
        } else {
            o.push_str(&change.sql);
            o.push_str("\n-- Its rollback:\n");
            o.push_str(&change.rollback_sql);
        }
        print!("{o}");
    }

    /// `push --fleet` as it goes (stderr): each canary as it starts, each database as it ends.
    pub fn fleet_event(&self, event: &strata::fleet::Event<'_>) {
        if !self.human() {
            return;
        }
        match event {
            strata::fleet::Event::Started {
                target,
                canary: true,
            } => eprintln!("{}", scrub(&format!("canary: {target}"))),
            strata::fleet::Event::Started { .. } => {}
            strata::fleet::Event::Finished {
                outcome,
                done,
                total,
                dry_run,
            } => {
                let what = match outcome.status {
                    strata::fleet::Status::Ok if *dry_run => format!(
                        "ok      {} (would apply {}; {} ms)",
                        outcome.target,
                        if outcome.applied.is_empty() {
                            "nothing".to_string()
                        } else {
                            outcome.applied.join(", ")
                        },
                        outcome.duration_ms
                    ),
                    strata::fleet::Status::Ok => format!(
                        "ok      {} ({} applied, {} ms)",
                        outcome.target,
                        outcome.applied.len(),
                        outcome.duration_ms
                    ),
                    strata::fleet::Status::Failed => format!(
                        "FAILED  {} ({} ms): {}",
                        outcome.target,
                        outcome.duration_ms,
                        outcome
                            .error
                            .as_ref()
                            .map(|e| e.to_string())
                            .unwrap_or_default()
                    ),
                    strata::fleet::Status::Skipped => format!("skipped {}", outcome.target),
                };
                eprintln!("{}", scrub(&format!("[{done}/{total}] {what}")));
            }
        }
    }

    /// `push --fleet`: the report (stdout).
    pub fn fleet_report(&self, r: &strata::fleet::Report) {
        use strata::fleet::Status;
        if !self.human() {
            return;
        }
        let applied: usize = r.targets.iter().map(|t| t.applied.len()).sum();
        let mut o = format!(
            "Fleet {}: {} ok, {} failed, {} skipped of {} database(s); {applied} migration(s) {} in {:.1} s ({} canary, then up to {} at a time).\n",
            r.fleet,
            r.count(Status::Ok),
            r.count(Status::Failed),
            r.count(Status::Skipped),
            r.targets.len(),
            if r.dry_run {
                "would be applied (dry run: nothing changed)"
            } else {
                "applied"
            },
            r.duration_ms as f64 / 1000.0,
            r.canaries,
            r.parallel
        );
        for t in r.targets.iter().filter(|t| t.status == Status::Failed) {
            o.push_str(&format!(
                "  failed: {}: {}\n",
                t.target,
                t.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
            ));
            // What the push gate decided on, shown whenever it decides.
            if let Some(Error::Lint { findings, .. }) = t.error.as_deref() {
                for f in findings {
                    o.push_str(&indent(f, "      "));
                    o.push('\n');
                }
            }
        }
        print!("{}", scrub(&o));
    }

    /// `migration list --fleet`: one line per database, then how many are at each version.
    pub fn fleet_states(&self, fleet: &str, states: &[strata::fleet::MemberState]) {
        if !self.human() {
            return;
        }
        let mut o = format!("Fleet {fleet}: {} database(s)\n", states.len());
        let mut at: std::collections::BTreeMap<String, usize> = Default::default();
        for s in states {
            match &s.error {
                Some(e) => o.push_str(&format!("  {:<60} unreadable: {e}\n", s.target)),
                None => {
                    let latest = s
                        .latest
                        .clone()
                        .unwrap_or_else(|| "(nothing applied)".into());
                    *at.entry(latest.clone()).or_default() += 1;
                    let mut extra = String::new();
                    if !s.modified.is_empty() {
                        extra.push_str(&format!(", modified: {}", s.modified.join(" ")));
                    }
                    if !s.missing_locally.is_empty() {
                        extra.push_str(&format!(
                            ", missing locally: {}",
                            s.missing_locally.join(" ")
                        ));
                    }
                    o.push_str(&format!(
                        "  {:<60} at {latest}, {} pending{extra}\n",
                        s.target, s.pending
                    ));
                }
            }
        }
        o.push_str("\nDatabases per newest applied version:\n");
        for (v, n) in at.iter().rev() {
            o.push_str(&format!("  {v:<20} {n}\n"));
        }
        print!("{}", scrub(&o));
    }

    /// `--check-drift`: warnings on stderr (JSON mode: in the document's `warnings`).
    pub fn drift_warnings(&self, warnings: &[String], target: &Target) {
        if !self.human() {
            return;
        }
        if warnings.is_empty() {
            eprintln!("No drift: the target has what its applied migrations build.");
            return;
        }
        eprintln!(
            "warning: {} was changed outside the migrations ({} difference(s)); `strata diff` shows the SQL:",
            target.display(),
            warnings.len()
        );
        for w in warnings {
            for line in w.lines() {
                eprintln!("  {line}");
            }
        }
    }
}

impl Renderer {
    /// `strata verify`: one line per migration, the asymmetries under it, a summary.
    pub fn verify(&self, report: &strata::verify::VerifyReport) {
        use strata::verify::Outcome;
        if !self.human() {
            return;
        }
        let sides = strata::diff::Sides {
            left: "before the migration",
            right: "after its rollback",
            only_left: "missing after the rollback",
            only_right: "left behind by the rollback",
        };
        let mut o = String::new();
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for m in &report.migrations {
            let file = m.file.display();
            let (word, detail) = match m.outcome {
                Outcome::Reversible => ("ok", String::new()),
                Outcome::Asymmetric => (
                    "ASYMMETRIC",
                    format!(
                        ": {} does not restore the catalog",
                        m.rollback
                            .as_ref()
                            .map(|r| r.display().to_string())
                            .unwrap_or_default()
                    ),
                ),
                Outcome::Irreversible => (
                    "irreversible",
                    m.reason
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                ),
                Outcome::NoRollback if report.require_rollbacks => {
                    ("NO ROLLBACK", " (--require-rollbacks)".to_string())
                }
                Outcome::NoRollback => ("no rollback", String::new()),
                Outcome::Failed => ("FAILED", String::new()),
            };
            *counts.entry(word).or_default() += 1;
            o.push_str(&format!("  {word:<13} {file}{detail}\n"));
            for d in &m.differences {
                for line in d.describe(sides).lines() {
                    o.push_str(&format!("      {line}\n"));
                }
            }
            for n in &m.notes {
                o.push_str(&format!("      note: {n}\n"));
            }
            if let Some(e) = &m.error {
                o.push_str(&format!("      {e}\n"));
                if let Some(hint) = m.failure.as_deref().and_then(Error::hint) {
                    o.push_str(&format!("      hint: {hint}\n"));
                }
            }
        }
        let summary: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
        o.push_str(&format!(
            "\n{}: {}.\n",
            if report.passed {
                "Verified"
            } else {
                "Verification failed"
            },
            summary.join(", ")
        ));
        if !report.passed {
            o.push_str("hint: fix the rollback files named above so each undoes its migration exactly, or mark one `-- strata:irreversible <reason>` if it cannot\n");
        }
        print!("{o}");
    }
}

/// How the `Target:` line names where a target came from.
fn source_label(source: &strata::target::TargetSource) -> String {
    use strata::target::TargetSource;
    match source {
        TargetSource::DbUrl => "--db-url".to_string(),
        TargetSource::Environment { name } => format!("environment {name}"),
        TargetSource::Linked { project_ref } => format!("linked project {project_ref}"),
        TargetSource::DatabaseUrl => "DATABASE_URL".to_string(),
        TargetSource::Local => "local database".to_string(),
        TargetSource::Scratch => "scratch database server".to_string(),
        TargetSource::Fleet { name } => format!("fleet {name}"),
    }
}
