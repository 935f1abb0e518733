//! The lint gate of a push: lint the pending migrations (with the whole set as context, the
//! applied versions being what is deployed) and decide, before anything is written, whether the
//! push may go on. A service that pushes at start-up can call it as `strata push` does.
//!
//! The rule (docs/lint-rules.md, "The push gate"):
//! - on a **live** target (migration history from Strata or another tool, or user objects;
//!   [`strata::catalog::freshness`]) a finding in a pending file at or above `push_fail_on`
//!   refuses the push, and nothing is changed;
//! - on a **fresh** target (a `db reset`, a CI service database, a new environment) the push
//!   re-creates history: findings never block; lint runs on another thread while the push
//!   applies, and the findings are reported after it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;
use strata::catalog::Freshness;
use strata::config::Project;
use strata::history::History;
use strata::platform::Platform;
use strata::MigrationSet;

use crate::format::Summary;
use crate::{Deployed, Finding, Level, LintConfig, LintConfigExt, Location, SourceText};

/// What the statement rules need from a project, owned, so that lint can run on another
/// thread (a push to a fresh database lints while it applies).
#[derive(Debug, Clone)]
pub struct Linter {
    /// `[lint]` of strata.toml.
    pub config: LintConfig,
    /// The schemas the platform exposes to its API (`public` on Supabase), where the
    /// row-level-security rules look ([`crate::api_schemas`]).
    pub api_schemas: Vec<String>,
    /// The project root (canonical), against which `[lint] exclude` patterns match.
    pub root: PathBuf,
    /// A `lock_timeout` Strata sets for every migration session satisfies
    /// `missing-lock-timeout`.
    pub session_lock_timeout: bool,
    /// Another tool's layout names files its own way: the seed's file-name convention
    /// (`file-name`) does not apply.
    pub tool_layout: bool,
}

impl Linter {
    /// The linter for `project`: its `[lint]` settings, the platform's API schemas, and whether
    /// the migrations in `migrations_dir` are in another tool's layout. `session_lock_timeout`:
    /// whether the push sets a `lock_timeout` for every migration (a flag or strata.toml).
    pub fn new(
        project: &Project,
        platform: Platform,
        migrations_dir: Option<&Path>,
        session_lock_timeout: bool,
    ) -> Linter {
        Linter {
            config: project.config.lint.clone(),
            api_schemas: crate::api_schemas(platform),
            root: project.root.canonicalize().unwrap_or(project.root.clone()),
            session_lock_timeout: session_lock_timeout || project.config.lock_timeout.is_some(),
            tool_layout: migrations_dir.is_some_and(|dir| project.layout_for(dir).is_tool()),
        }
    }

    /// The statement findings for the files in `report` (absolute paths), with `[lint]` levels
    /// and excludes; `files` is the whole set in run order, for context.
    pub fn findings(
        &self,
        files: Vec<SourceText>,
        report: &BTreeSet<PathBuf>,
        deployed: &Deployed,
    ) -> Vec<Finding> {
        let mut findings = crate::lint_for(files, &self.config, &self.api_schemas, deployed);
        findings.retain(|f| !(self.session_lock_timeout && f.rule == "missing-lock-timeout"));
        findings.retain(|f| !(self.tool_layout && f.rule == "file-name"));
        findings.retain(|f| match &f.location {
            Location::File { path, .. } => {
                let full = absolute(path);
                report.contains(&full)
                    && !self
                        .config
                        .is_excluded(full.strip_prefix(&self.root).unwrap_or(&full))
            }
            Location::Object { .. } => true,
        });
        findings
    }

    /// The findings for migrations not written yet — a generated change, `new` as (path, SQL)
    /// in run order — linted after the files of `set`, which count as deployed (the change runs
    /// against a database that has them). Only the new files are reported on.
    pub fn findings_for_new(
        &self,
        set: &strata::MigrationSet,
        new: &[(PathBuf, String)],
    ) -> Vec<Finding> {
        let mut files: Vec<SourceText> = set
            .migrations
            .iter()
            .map(|m| SourceText {
                path: shown(&absolute(&m.path)),
                text: m.sql.clone(),
            })
            .collect();
        let mut deployed = vec![true; files.len()];
        let mut report = BTreeSet::new();
        for (path, sql) in new {
            let full = absolute(path);
            report.insert(full.clone());
            files.push(SourceText {
                path: shown(&full),
                text: sql.clone(),
            });
            deployed.push(false);
        }
        self.findings(files, &report, &Deployed::Files(deployed))
    }
}

/// An absolute, normalized path (symlinks resolved when the file exists).
pub fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

/// How a path is shown in findings: relative to the current directory when inside it.
pub fn shown(full: &Path) -> PathBuf {
    let cwd = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .unwrap_or_default();
    full.strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| full.to_path_buf())
}

/// The level that makes a push refuse a live target, and the setting it came from:
/// `[environments.NAME] push_fail_on` for environment `env`, else `[lint] push_fail_on`, else
/// `[lint] fail_on`, else `error` (`"default"`).
pub fn push_fail_on(project: &Project, env: Option<&str>) -> (Level, String) {
    let lint = &project.config.lint;
    if let Some(name) = env {
        if let Some(level) = project
            .config
            .environments
            .get(name)
            .and_then(|e| e.push_fail_on)
        {
            return (level, format!("[environments.{name}] push_fail_on"));
        }
    }
    match (lint.push_fail_on, lint.fail_on) {
        (Some(l), _) => (l, "[lint] push_fail_on".into()),
        (None, Some(l)) => (l, "[lint] fail_on".into()),
        (None, None) => (Level::Error, "default".into()),
    }
}

/// The gate, prepared before the push: the pending files, the whole set as context, and the
/// level that blocks.
#[derive(Debug)]
pub struct Gate {
    linter: Linter,
    files: Vec<SourceText>,
    pending: BTreeSet<PathBuf>,
    deployed: Deployed,
    fail_on: Level,
    setting: String,
}

/// What the gate reports about itself (the `lint` object of a push's JSON result).
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// Whether the target was fresh or live, and the evidence.
    pub target: Freshness,
    pub push_fail_on: Level,
    /// Where `push_fail_on` came from (`[lint] push_fail_on`, `default` …).
    pub setting: String,
    /// `2 errors, 1 warning in 3 files`.
    pub summary: String,
    /// How many findings there were in the pending files, at any level.
    pub findings: usize,
    /// Always false in a report: a blocked push is [`Decision::Blocked`].
    pub blocked: bool,
}

/// What the gate decided, before anything was written.
#[derive(Debug)]
pub enum Decision {
    /// A live target, and no finding at or above the level: the push may go on. `below`: the
    /// findings under the level (to mention, not to block).
    Passed {
        report: GateReport,
        below: Vec<Finding>,
        /// How many pending files were linted.
        pending: usize,
    },
    /// A live target and findings at or above `fail_on` in the pending files: refuse the push.
    Blocked {
        findings: Vec<Finding>,
        fail_on: Level,
        /// The pending files' texts by shown path, for rendering findings with their source.
        files: Vec<SourceText>,
    },
    /// A fresh target: lint runs on another thread while the push applies; [`FreshLint::finish`]
    /// after the push gives the findings.
    Fresh(FreshLint),
}

/// Lint of a fresh target's push, running on its own thread.
#[derive(Debug)]
pub struct FreshLint(std::thread::JoinHandle<(Vec<Finding>, Gate)>);

impl FreshLint {
    /// Waits for the lint; its findings, the gate's report, and how many pending files there
    /// were. `None` if the lint thread panicked.
    pub fn finish(self) -> Option<(Vec<Finding>, GateReport, usize)> {
        let (all, gate) = self.0.join().ok()?;
        let report = gate.report(&Freshness::Fresh, &all);
        Some((all, report, gate.pending.len()))
    }
}

impl Gate {
    /// Reads what the gate needs from the set and the target's history; `None` when nothing is
    /// pending (then `linter` is not called: a no-op push reads nothing for lint).
    /// `fail_on` and `setting` come from [`push_fail_on`].
    ///
    /// # Errors
    /// A pending file that cannot be split: the push's own scan error, as without lint.
    pub fn prepare(
        linter: impl FnOnce() -> Linter,
        set: &MigrationSet,
        history: &History,
        (fail_on, setting): (Level, String),
    ) -> Result<Option<Gate>, strata::Error> {
        // Every migration applied unchanged: nothing pending (checked without a map).
        if strata::plan::is_clean_noop(set, history) {
            return Ok(None);
        }
        // Versions compare numerically (as the plan does): `001` is `1`.
        let applied: std::collections::HashSet<String> =
            history.applied.iter().map(|a| a.version.key()).collect();
        let is_applied = |m: &strata::Migration| applied.contains(&m.version.key());
        let pending: BTreeSet<PathBuf> = set
            .migrations
            .iter()
            .filter(|m| !is_applied(m))
            .map(|m| absolute(&m.path))
            .collect();
        if pending.is_empty() {
            return Ok(None);
        }
        for m in &set.migrations {
            if !is_applied(m) {
                m.statements()?;
            }
        }
        Ok(Some(Gate {
            linter: linter(),
            files: set
                .migrations
                .iter()
                .map(|m| SourceText {
                    path: shown(&absolute(&m.path)),
                    text: m.sql.clone(),
                })
                .collect(),
            deployed: Deployed::Files(set.migrations.iter().map(is_applied).collect()),
            pending,
            fail_on,
            setting,
        }))
    }

    fn findings(&self) -> Vec<Finding> {
        self.linter
            .findings(self.files.clone(), &self.pending, &self.deployed)
    }

    fn report(&self, state: &Freshness, all: &[Finding]) -> GateReport {
        GateReport {
            target: state.clone(),
            push_fail_on: self.fail_on,
            setting: self.setting.clone(),
            summary: Summary::new(all, self.pending.len()).to_string(),
            findings: all.len(),
            blocked: false,
        }
    }

    /// Decides before anything is written (one catalog query on `client`, reads only).
    ///
    /// # Errors
    /// The catalog query failing ([`strata::Error::Database`]).
    pub async fn decide(
        self,
        client: &tokio_postgres::Client,
        history: &History,
    ) -> Result<Decision, strata::Error> {
        let state = strata::catalog::freshness(client, history).await?;
        if state == Freshness::Fresh {
            return Ok(Decision::Fresh(FreshLint(std::thread::spawn(move || {
                (self.findings(), self)
            }))));
        }
        let all = self.findings();
        let report = self.report(&state, &all);
        let (findings, below): (Vec<Finding>, Vec<Finding>) =
            all.into_iter().partition(|f| f.level >= self.fail_on);
        if findings.is_empty() {
            return Ok(Decision::Passed {
                report,
                below,
                pending: self.pending.len(),
            });
        }
        Ok(Decision::Blocked {
            findings,
            fail_on: self.fail_on,
            files: self.files,
        })
    }
}

/// The push gate of a fleet ([`strata::fleet::FleetGate`]): each database judged as its own
/// push would judge it — its applied versions are what is deployed, its freshness decides
/// whether findings block — with the findings computed once per distinct applied set (they
/// depend on nothing else).
pub fn fleet_gate(linter: Linter, (fail_on, setting): (Level, String)) -> strata::fleet::FleetGate {
    type Memo = std::collections::HashMap<Vec<bool>, Vec<Finding>>;
    let memo: std::sync::Mutex<Memo> = Default::default();
    strata::fleet::FleetGate(std::sync::Arc::new(
        move |set: &MigrationSet, history: &History, freshness: &Freshness| {
            let Freshness::Live { evidence } = freshness else {
                // A fresh database re-creates history: findings never block (as for one push).
                return Ok(());
            };
            let applied: std::collections::HashSet<String> =
                history.applied.iter().map(|a| a.version.key()).collect();
            let deployed: Vec<bool> = set
                .migrations
                .iter()
                .map(|m| applied.contains(&m.version.key()))
                .collect();
            let cached = memo.lock().ok().and_then(|m| m.get(&deployed).cloned());
            let findings = match cached {
                Some(f) => f,
                None => {
                    let Some(gate) =
                        Gate::prepare(|| linter.clone(), set, history, (fail_on, setting.clone()))?
                    else {
                        return Ok(());
                    };
                    let all = gate.findings();
                    if let Ok(mut m) = memo.lock() {
                        m.insert(deployed, all.clone());
                    }
                    all
                }
            };
            let blocking: Vec<&Finding> = findings.iter().filter(|f| f.level >= fail_on).collect();
            if blocking.is_empty() {
                return Ok(());
            }
            let texts: std::collections::BTreeMap<&std::path::Path, &str> = set
                .migrations
                .iter()
                .map(|m| (m.path.as_path(), m.sql.as_str()))
                .collect();
            Err(strata::Error::Lint {
                message: format!(
                    "held back by the push gate: {} finding(s) at or above {} ({setting}) in its pending migrations, and it is live ({evidence})",
                    blocking.len(),
                    fail_on.as_str()
                ),
                findings: blocking
                    .iter()
                    .map(|f| {
                        let source = match &f.location {
                            crate::Location::File { path, .. } => texts
                                .iter()
                                .find(|(p, _)| absolute(p) == absolute(path))
                                .map(|(_, t)| *t),
                            crate::Location::Object { .. } => None,
                        };
                        crate::format::human(f, source, false)
                    })
                    .collect(),
                hint: Some("fix the migrations (each finding says how) or silence a finding with `-- strata-lint: ignore <rule> <reason>`; with --keep-going the other databases are pushed".into()),
            })
        },
    ))
}
