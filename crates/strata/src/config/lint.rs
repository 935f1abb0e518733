//! `[lint]` in strata.toml, and `push_fail_on` of an environment: the settings as data. The
//! linter itself (rules, their ids, what a level means for a finding) is the `strata-lint`
//! crate, which checks these settings against its rules (unknown rule ids, bad globs) when it
//! runs; the core library only reads and carries them, so it builds without PostgreSQL's parser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How serious a lint finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    #[default]
    Warning,
    Error,
}

impl Level {
    /// The level as strata.toml and `--fail-on` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// A rule's level in `[lint] rules`, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSetting {
    Off,
    Info,
    Warning,
    Error,
}

impl RuleSetting {
    /// The level findings get under this setting; `None` for `off`.
    pub fn level(self) -> Option<Level> {
        match self {
            RuleSetting::Off => None,
            RuleSetting::Info => Some(Level::Info),
            RuleSetting::Warning => Some(Level::Warning),
            RuleSetting::Error => Some(Level::Error),
        }
    }
}

/// `[lint]` in strata.toml.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    /// Per-rule levels: `rules = { "file-header" = "off", "drop-without-if-exists" = "error" }`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleSetting>,
    /// Glob patterns (relative to the project root) of files whose findings are not reported;
    /// they are still read, as context for the files after them.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The lowest level that fails `strata lint` and blocks `strata push` (default `error`).
    pub fail_on: Option<Level>,
    /// The lowest level that makes `strata push` refuse a live target (default: `fail_on`, else
    /// `error`); `[environments.NAME] push_fail_on` overrides it for one environment.
    pub push_fail_on: Option<Level>,
    /// What plain `strata lint` (no target, no `--changed-since`) assumes is deployed:
    /// `earlier-files` (default) or `none`.
    pub assume_deployed: Option<AssumeDeployed>,
}

/// `[lint] assume_deployed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssumeDeployed {
    /// Every file before the one checked is applied where it goes (squawk's assumption).
    EarlierFiles,
    /// Nothing is deployed yet: tables created anywhere in the set are new.
    None,
}
