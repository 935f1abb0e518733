//! `strata lint`, and the lint check `strata push` runs on pending migrations.
//!
//! Files are linted as a migration set in run order (a table created by an earlier file is
//! "new" to the ones after it), and findings are reported only for the files asked about.
//! Catalog findings (`--schema`/`--db-url`, run on a database) join the statement findings in
//! [`collect_findings`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use crate::failure::exit_code;
use serde_json::json;
use strata::history::History;
use strata::{Error, MigrationSet};
use strata_lint::format::{self, Summary};
use strata_lint::gate::{self, Decision, FreshLint, Gate, Linter};
use strata_lint::input::Input;
use strata_lint::{
    self as lint, Deployed, Finding, Level, LintConfig, LintConfigExt, Location, SourceText,
};

use crate::args::{Cli, LintArgs, LintFormat, Output};
use crate::context::Context;
use crate::failure::Failure;
use crate::render::Renderer;
use crate::Outcome;

/// The output mode for `strata lint`'s errors and documents: `--format json|sarif` means JSON.
pub(crate) fn output(cli: &Cli) -> Output {
    match &cli.command {
        crate::args::Command::Lint(a)
            if matches!(a.format, Some(LintFormat::Json | LintFormat::Sarif)) =>
        {
            Output::Json
        }
        _ => cli.global.output,
    }
}

fn format_of(cli_output: Output, args: &LintArgs) -> LintFormat {
    match (args.format, cli_output) {
        (Some(f), _) => f,
        (None, Output::Json) => LintFormat::Json,
        (None, Output::Human) if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") => {
            LintFormat::Github
        }
        (None, Output::Human) => LintFormat::Human,
    }
}

/// `strata lint --explain RULE` (needs no project).
pub(crate) fn explain(args: &LintArgs, cli: &Cli, id: &str) -> Result<Outcome, Error> {
    explain_rule(id, format_of(cli.global.output, args))?;
    Ok(Outcome {
        result: None,
        exit: exit_code::SUCCESS,
    })
}

/// `strata lint --rules`: every rule with its level under this project's `[lint] rules`.
fn list_rules(ctx: &Context, out: &Renderer) -> Result<Outcome, Error> {
    let config = &ctx.project.config.lint;
    let rules: Vec<serde_json::Value> = lint::registry()
        .into_iter()
        .map(|r| {
            let level = config.level(r).map(Level::as_str).unwrap_or("off");
            json!({
                "id": r.id,
                "level": level,
                "default_level": r.default_level.as_str(),
                "category": r.category,
                "kind": r.kind,
                "summary": r.summary,
            })
        })
        .collect();
    if !out.is_json() {
        let width = rules
            .iter()
            .map(|r| r["id"].as_str().unwrap_or("").len())
            .max()
            .unwrap_or(0);
        for r in &rules {
            let level = r["level"].as_str().unwrap_or("");
            let changed = if r["level"] != r["default_level"] {
                " (set in strata.toml)"
            } else {
                ""
            };
            println!(
                "{:width$}  {:7}  {:13}  {}{changed}",
                r["id"].as_str().unwrap_or(""),
                level,
                r["category"].as_str().unwrap_or(""),
                r["summary"].as_str().unwrap_or(""),
            );
        }
        println!(
            "\n{} rules. `strata lint --explain <id>` explains one; levels change in [lint] rules of strata.toml.",
            rules.len()
        );
    }
    Ok(Outcome::ok(json!({ "rules": rules })))
}

/// Runs `strata lint`; its exit code is 3 when a finding is at or above the failing level.
pub(crate) async fn run(ctx: &Context, args: &LintArgs, out: &Renderer) -> Result<Outcome, Error> {
    if args.rules {
        return list_rules(ctx, out);
    }
    let format = format_of(
        if out.is_json() {
            Output::Json
        } else {
            Output::Human
        },
        args,
    );
    let config = &ctx.project.config.lint;
    let fail_on = args
        .fail_on
        .map(Level::from)
        .or(config.fail_on)
        .unwrap_or(Level::Error);
    let mut input = Input::gather(&args.paths, || ctx.migrations_dir(), &ctx.source_options())?;
    out.source_facts(&input.skipped, &input.notes);
    let texts: BTreeMap<PathBuf, String> = input
        .sources
        .iter()
        .map(|f| (f.path.clone(), f.text.clone()))
        .collect();
    // What is deployed: the versions applied on the target, else the files at --changed-since,
    // else what [lint] assume_deployed says (every earlier file).
    let r = &ctx.request;
    let live = r.named_by().is_some();
    let mut deployed = config.deployed();
    if let Some(reference) = &args.changed_since {
        deployed = input.since(&ctx.project.root, reference)?;
    }
    let target = if live {
        let target = ctx.target()?;
        out.target(&target);
        let client = target.connect().await?;
        deployed = input
            .deployed_on(&client, ctx.migrations().ok().as_ref())
            .await?;
        Some((target, client))
    } else {
        None
    };
    let Input {
        sources: files,
        report,
        skipped,
        notes,
        ..
    } = input;
    let mut findings = collect_findings(ctx, files, &report, &deployed);
    lint::merge_catalog(
        &mut findings,
        catalog_findings(args, ctx, config, out, target.as_ref()).await?,
    );
    let summary = Summary::new(&findings, report.len());
    let failed = findings.iter().any(|f| f.level >= fail_on);
    let mut stdout = String::new();
    match format {
        LintFormat::Human => {
            let styled = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            // The rule's "why" with its first finding only: the explanation once, not 50 times.
            let mut explained = BTreeSet::new();
            for f in &findings {
                let source = match &f.location {
                    Location::File { path, .. } => texts.get(path).map(String::as_str),
                    Location::Object { .. } => None,
                };
                let why = explained
                    .insert(f.rule)
                    .then(|| lint::rule(f.rule).map(|r| r.why))
                    .flatten();
                let _ = writeln!(
                    stdout,
                    "{}\n",
                    format::human_with_why(f, source, styled, why)
                );
            }
            if !out.is_quiet() || failed {
                let _ = writeln!(stdout, "{summary}");
            }
        }
        LintFormat::Json => {
            let mut doc = format::json(&findings, &summary, fail_on);
            doc["result"]["skipped"] = json!(skipped);
            doc["result"]["notes"] = json!(notes);
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
        }
        LintFormat::Sarif => {
            let doc = format::sarif(&findings, &lint::registry());
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
        }
        LintFormat::Github => {
            for f in &findings {
                let _ = writeln!(stdout, "{}", format::github(f));
            }
            let _ = writeln!(stdout, "strata lint: {summary}");
        }
    }
    print!("{stdout}");
    Ok(Outcome {
        result: None,
        exit: if failed {
            exit_code::LINT
        } else {
            exit_code::SUCCESS
        },
    })
}

/// Every finding for the files in `report`: statement rules over `files` (the whole set, for
/// context), with `[lint]` levels and excludes applied. (Catalog findings are added here.)
pub fn collect_findings(
    ctx: &Context,
    files: Vec<SourceText>,
    report: &BTreeSet<PathBuf>,
    deployed: &Deployed,
) -> Vec<Finding> {
    linter(ctx).findings(files, report, deployed)
}

/// Catalog findings (the RLS and security rules, exact, on `pg_catalog`): on a scratch database
/// built from the migrations (`--schema`), or on the target given with `--db-url`, `--env` or
/// `--linked`. None otherwise: plain `strata lint` stays offline. `[lint]` levels apply.
async fn catalog_findings(
    args: &LintArgs,
    ctx: &Context,
    config: &LintConfig,
    out: &Renderer,
    target: Option<&(strata::target::Target, tokio_postgres::Client)>,
) -> Result<Vec<Finding>, Error> {
    let findings = if args.schema {
        let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
        out.scratch(&scratch);
        lint::catalog::lint_schema(&scratch, ctx.migrations()?, ctx.platform()?).await?
    } else if let Some((_, client)) = target {
        lint::catalog::check(client, &lint::api_schemas(ctx.platform()?)).await?
    } else {
        return Ok(Vec::new());
    };
    Ok(findings
        .into_iter()
        .filter_map(|mut f| {
            let info = lint::rule(f.rule)?;
            f.level = config.level(info)?;
            Some(f)
        })
        .collect())
}

/// `--explain RULE`.
fn explain_rule(id: &str, format: LintFormat) -> Result<(), Error> {
    let Some(rule) = lint::rule(id) else {
        let close = lint::engine::close_ids(id);
        return Err(Error::Setting {
            setting: "--explain".into(),
            message: format!("no lint rule is called `{id}`"),
            hint: Some(if close.is_empty() {
                "`strata lint --rules` lists every rule".into()
            } else {
                format!("did you mean {}?", close.join(", "))
            }),
        });
    };
    if format == LintFormat::Json {
        let doc = json!({ "command": "lint", "ok": true, "result": { "rule": rule } });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(());
    }
    println!("{}", lint::engine::explain(rule));
    Ok(())
}

/// The linter with this command line's settings ([`strata_lint::gate::Linter`]).
pub(crate) fn linter(ctx: &Context) -> Linter {
    // Row-level-security rules look at the schemas the platform exposes (public on Supabase);
    // an unreadable platform setting is reported by the commands that use it.
    let platform = ctx.platform().unwrap_or(strata::platform::Platform::None);
    Linter::new(
        &ctx.project,
        platform,
        ctx.migrations_dir().ok().as_deref(),
        ctx.request.lock_timeout.is_some(),
    )
}

/// The check every file Strata writes passes (`migration new`, `diff --write`, `schema diff
/// --write`, `migration squash`): the push gate's level for the named environment, if any.
pub(crate) fn written_gate(ctx: &Context) -> strata_lint::written::Gate {
    let (fail_on, setting) = gate::push_fail_on(&ctx.project, ctx.request.env.as_deref());
    strata_lint::written::Gate {
        linter: linter(ctx),
        fail_on,
        setting,
    }
}

/// The lint gate of `strata push` for these settings; `None` when nothing is pending.
pub(crate) fn gate(
    ctx: &Context,
    set: &MigrationSet,
    history: &History,
) -> Result<Option<Gate>, Error> {
    let level = gate::push_fail_on(&ctx.project, ctx.request.env.as_deref());
    Gate::prepare(|| linter(ctx), set, history, level)
}

/// What the gate decided before the push, as far as the command line is concerned.
pub(crate) enum Verdict {
    /// Nothing was linted (nothing pending).
    Nothing,
    /// A live target: linted, and nothing at or above the level; the JSON for the push's `lint`.
    Passed(serde_json::Value),
    /// A fresh target: findings do not block, so lint runs while the push applies;
    /// [`Verdict::finish`] reports them.
    Fresh(FreshLint),
}

/// Runs the gate ([`Gate::decide`]): on a live target with findings at or above the level,
/// prints them (human mode) and refuses with exit 3, nothing changed.
pub(crate) async fn decide(
    gate: Gate,
    client: &tokio_postgres::Client,
    history: &History,
    out: &Renderer,
) -> Result<Verdict, Failure> {
    match gate.decide(client, history).await? {
        Decision::Passed {
            report,
            below,
            pending,
        } => {
            if !below.is_empty() {
                out.warn(&format!(
                    "lint: {} (pending migrations), below push_fail_on = {} ({}); `strata lint` shows them",
                    Summary::new(&below, pending),
                    report.push_fail_on.as_str(),
                    report.setting
                ));
            }
            Ok(Verdict::Passed(
                serde_json::to_value(&report).unwrap_or_default(),
            ))
        }
        Decision::Fresh(lint) => Ok(Verdict::Fresh(lint)),
        Decision::Blocked {
            findings,
            fail_on,
            files,
        } => {
            if !out.is_json() {
                let texts: BTreeMap<&PathBuf, &str> =
                    files.iter().map(|f| (&f.path, f.text.as_str())).collect();
                let styled =
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                for f in &findings {
                    let source = match &f.location {
                        Location::File { path, .. } => texts.get(path).copied(),
                        Location::Object { .. } => None,
                    };
                    eprintln!("{}\n", format::human(f, source, styled));
                }
            }
            Err(Failure::Lint { findings, fail_on })
        }
    }
}

impl Verdict {
    /// After the push: the findings of a fresh target's lint, reported (a summary line that
    /// says `strata lint` shows them); the JSON for the push's `lint`.
    pub(crate) fn finish(self, out: &Renderer) -> serde_json::Value {
        match self {
            Verdict::Nothing => serde_json::Value::Null,
            Verdict::Passed(report) => report,
            Verdict::Fresh(lint) => {
                let Some((all, report, pending)) = lint.finish() else {
                    return serde_json::Value::Null;
                };
                if !all.is_empty() {
                    out.warn(&format!(
                        "lint: {} (pending migrations); not blocking: the target was fresh (no migration history, no user objects), so this push re-created history rather than changing a live database; `strata lint` shows them",
                        Summary::new(&all, pending)
                    ));
                }
                serde_json::to_value(&report).unwrap_or_default()
            }
        }
    }
}

impl From<crate::args::FailOn> for Level {
    fn from(f: crate::args::FailOn) -> Level {
        match f {
            crate::args::FailOn::Error => Level::Error,
            crate::args::FailOn::Warning => Level::Warning,
            crate::args::FailOn::Info => Level::Info,
        }
    }
}
