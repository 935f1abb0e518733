//! The engine around the rules: the registry of every rule, `[lint]` configuration (levels,
//! rules off, excluded paths), and inline directives:
//!
//! - `-- strata-lint: ignore <rule>[,<rule>…] [reason]` in the leading comments of a statement
//!   silences those rules for that statement;
//! - `-- strata-lint: ignore-file <rule>[,<rule>…] [reason]` anywhere in a comment silences
//!   them for the whole file.
//!
//! An ignore that silences nothing is itself a finding (`unused-ignore`), and so is one naming
//! a rule that does not exist (`invalid-ignore`).

use std::ops::Range;
use std::path::Path;

use super::parse::ParsedFile;
use super::{
    rules, AssumeDeployed, Finding, Level, LintConfig, Location, RuleInfo, RuleKind, RuleSetting,
    SourceText, PARSE_ERROR,
};

/// The meta rule for ignores that silence nothing.
pub const UNUSED_IGNORE: RuleInfo = RuleInfo {
    id: "unused-ignore",
    category: "lint",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "A `strata-lint: ignore` directive that silences no finding",
    why: "An ignore outlives the problem it excused: the SQL was fixed, or the directive sits \
          before the wrong statement. Left in place it would silence the rule for whatever is \
          written there next.",
    fix: "Remove the directive, or move it into the leading comments of the statement it is \
          meant for.",
    bad: "-- strata-lint: ignore drop-without-if-exists\nDROP TABLE IF EXISTS t;",
    good: "DROP TABLE IF EXISTS t;",
};

/// The meta rule for malformed directives and unknown rule ids in them.
pub const INVALID_IGNORE: RuleInfo = RuleInfo {
    id: "invalid-ignore",
    category: "lint",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "A `strata-lint:` directive that names an unknown rule or is malformed",
    why: "A typo in a rule id would otherwise silently ignore nothing while looking like it \
          does. `strata lint --rules` lists the ids, `strata lint --explain <id>` explains one.",
    fix: "Write `-- strata-lint: ignore <rule-id> [reason]` or `-- strata-lint: ignore-file \
          <rule-id> [reason]` with an id from `strata lint --rules`.",
    bad: "-- strata-lint: ignore drop-without-if-exist\nDROP TABLE t;",
    good: "-- strata-lint: ignore drop-without-if-exists the table is created above\nDROP TABLE t;",
};

/// Every rule there is, in documentation order: the parse error, the meta rules, the
/// statement rules. Catalog rules join here (one place: `--explain`, docs/lint-rules.md, SARIF,
/// config validation all read this list).
pub fn registry() -> Vec<&'static RuleInfo> {
    let mut all: Vec<&'static RuleInfo> = vec![&PARSE_ERROR, &UNUSED_IGNORE, &INVALID_IGNORE];
    all.extend(rules::ALL.iter().map(|r| r.info));
    // The catalog rules (`lint::catalog::RULES`) are the statement rules of kind `Both`:
    // already listed. A catalog-only rule would be appended here.
    all
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    registry().into_iter().find(|r| r.id == id)
}

/// Rule ids close to `id` (for "did you mean"), best first.
pub fn close_ids(id: &str) -> Vec<&'static str> {
    let mut scored: Vec<(f64, &'static str)> = registry()
        .into_iter()
        .map(|r| (strsim::jaro_winkler(id, r.id), r.id))
        .filter(|(s, rid)| *s > 0.8 || rid.contains(id) && id.len() >= 3)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(3).map(|(_, id)| id).collect()
}

/// A rule's documentation as text (`strata lint --explain`), Markdown-friendly.
pub fn explain(r: &RuleInfo) -> String {
    let kind = match r.kind {
        RuleKind::Statement => "statement rule (migration files)",
        RuleKind::Catalog => "catalog rule (a database built from the migrations)",
        RuleKind::Both => "statement and catalog rule",
    };
    format!(
        "{id} ({category}, default level {level}, {kind})\n\n{summary}.\n\nWhy: {why}\n\nFix: {fix}\n\nFlagged:\n\n    {bad}\n\nPasses:\n\n    {good}\n",
        id = r.id,
        category = r.category,
        level = r.default_level.as_str(),
        summary = r.summary,
        why = r.why,
        fix = r.fix,
        bad = r.bad.replace('\n', "\n    "),
        good = r.good.replace('\n', "\n    "),
    )
}

/// docs/lint-rules.md: every rule of the [`registry`], grouped by category.
pub fn docs_markdown() -> String {
    let rules = registry();
    let mut out = String::from(
        "# Lint rules\n\n\
         <!-- Generated from the rule registry (crates/strata-lint/src). Do not edit: run \
         `STRATA_UPDATE_DOCS=1 cargo test -p strata-lint --test lint_docs` after changing a rule. -->\n\n\
         `strata lint` checks migration files with PostgreSQL's own grammar. Each rule has a \
         stable id, a default level (change it, or turn the rule off, in `[lint] rules` of \
         strata.toml), and the fix. Silence one finding with `-- strata-lint: ignore <id> \
         <reason>` in the comments right before the statement, or a whole file with \
         `-- strata-lint: ignore-file <id>`. `strata lint --rules` lists the rules with their \
         levels, `strata lint --explain <id>` prints a rule's entry.\n\n\
         **New or existing.** The locking and compatibility rules judge changes to *existing* \
         tables: a live table has rows and code that uses it. A table is *new* (no such finding) \
         only when it is created earlier in the same file, or in a file that is not deployed. \
         Deployed means: in `strata push` and in `strata lint --db-url/--env/--linked`, the \
         versions applied on that database; with `strata lint --changed-since REF`, the files \
         that exist at REF; in plain `strata lint`, every file before the one checked (as squawk \
         assumes), unless `[lint] assume_deployed = \"none\"`.\n\n\
         **The push gate.** `strata push` lints the pending files. On a live target (migration \
         history from any tool, or any user object) a finding at or above `push_fail_on` \
         (`[environments.NAME]`, else `[lint]`, else `[lint] fail_on`, else `error`) refuses the \
         push before anything changes (exit 3). On a fresh target the push re-creates history \
         and only reports the findings.\n\n\
         | id | category | default | finds |\n|---|---|---|---|\n",
    );
    for r in &rules {
        out.push_str(&format!(
            "| [`{id}`](#{id}) | {cat} | {level} | {summary} |\n",
            id = r.id,
            cat = r.category,
            level = r.default_level.as_str(),
            summary = r.summary.replace('|', "\\|"),
        ));
    }
    for r in &rules {
        out.push_str(&format!(
            "\n## {id}\n\n*{cat}*, default level **{level}**, {kind}.\n\n{summary}.\n\n\
             **Why.** {why}\n\n**Fix.** {fix}\n\nFlagged:\n\n```sql\n{bad}\n```\n\n\
             Passes:\n\n```sql\n{good}\n```\n",
            id = r.id,
            cat = r.category,
            level = r.default_level.as_str(),
            kind = match r.kind {
                RuleKind::Statement => "checks migration files",
                RuleKind::Catalog => "checks the catalog of a database built from the migrations",
                RuleKind::Both => "checks migration files and the catalog",
            },
            summary = r.summary,
            why = r.why,
            fix = r.fix,
            bad = r.bad,
            good = r.good,
        ));
    }
    out
}

/// What the linter adds to `[lint]` (the settings, [`LintConfig`], live in the core library as
/// data): what they mean for rules and files.
pub trait LintConfigExt {
    /// What `assume_deployed` means for plain `strata lint`.
    fn deployed(&self) -> super::Deployed;
    /// Checks rule ids and exclude patterns; the error is the offending value and a message
    /// naming it.
    fn validate(&self) -> Result<(), (String, String)>;
    /// Whether `relative` (a path relative to the project root) matches an `exclude` pattern.
    fn is_excluded(&self, relative: &Path) -> bool;
    /// The level a rule's findings get (`None`: off).
    fn level(&self, info: &RuleInfo) -> Option<Level>;
}

/// Checks `[lint]` of a project's strata.toml against the rules (unknown rule ids, with the
/// closest ones; exclude patterns that are not globs).
///
/// # Errors
/// [`strata::Error::Config`] at the line of strata.toml that holds the bad value.
pub fn check_settings(project: &strata::config::Project) -> Result<(), strata::Error> {
    let Err((value, message)) = project.config.lint.validate() else {
        return Ok(());
    };
    let hint = Some(
        "`strata lint --rules` lists the rule ids, `strata lint --explain <rule>` explains one"
            .to_string(),
    );
    Err(match &project.config_path {
        Some(path) => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            strata::config::error_at_value(path, &text, &value, message, hint)
        }
        None => strata::Error::Setting {
            setting: "[lint]".into(),
            message,
            hint,
        },
    })
}

impl LintConfigExt for LintConfig {
    fn deployed(&self) -> super::Deployed {
        match self.assume_deployed {
            Some(AssumeDeployed::None) => super::Deployed::Nothing,
            _ => super::Deployed::EarlierFiles,
        }
    }

    fn validate(&self) -> Result<(), (String, String)> {
        for id in self.rules.keys() {
            if rule(id).is_none() {
                let close = close_ids(id);
                let hint = if close.is_empty() {
                    "`strata lint --rules` lists the rules, `strata lint --explain <id>` explains one".to_string()
                } else {
                    format!("did you mean {}?", close.join(", "))
                };
                return Err((
                    id.clone(),
                    format!("[lint] rules: unknown rule `{id}`; {hint}"),
                ));
            }
        }
        for p in &self.exclude {
            if let Err(e) = glob::Pattern::new(p) {
                return Err((
                    p.clone(),
                    format!("[lint] exclude: `{p}` is not a glob pattern: {e}"),
                ));
            }
        }
        Ok(())
    }

    fn is_excluded(&self, relative: &Path) -> bool {
        self.exclude.iter().any(|p| {
            glob::Pattern::new(p).is_ok_and(|g| {
                g.matches_path_with(
                    relative,
                    glob::MatchOptions {
                        require_literal_separator: false,
                        ..Default::default()
                    },
                )
            })
        })
    }

    fn level(&self, info: &RuleInfo) -> Option<Level> {
        match self.rules.get(info.id) {
            None => Some(info.default_level),
            Some(setting) => setting.level(),
        }
    }
}

/// Lints `files` (a migration set in run order): statement rules, inline directives, then the
/// levels of `config` (rules set `off` are dropped). Excluded paths are the caller's filter
/// ([`LintConfig::is_excluded`]), since paths are relative to the project.
pub fn lint(files: Vec<SourceText>, config: &LintConfig) -> Vec<Finding> {
    lint_for(
        files,
        config,
        &super::api_schemas(strata::platform::Platform::Supabase),
        &config.deployed(),
    )
}

/// [`lint`] for a platform's exposed schemas ([`super::api_schemas`]) and the files deployed
/// where the migrations go ([`super::Deployed`]).
pub fn lint_for(
    files: Vec<SourceText>,
    config: &LintConfig,
    api_schemas: &[String],
    deployed: &super::Deployed,
) -> Vec<Finding> {
    let parsed = super::parse_all(files);
    let mut findings = super::check_parsed(&parsed, api_schemas, deployed);
    findings = apply_directives(&parsed, findings);
    // A level set in [lint] rules replaces the finding's; otherwise the finding keeps its own
    // (the rule's default, or lower where the files alone cannot settle it).
    findings.retain_mut(|f| match config.rules.get(f.rule) {
        Some(RuleSetting::Off) => false,
        Some(setting) => {
            f.level = match setting {
                RuleSetting::Info => Level::Info,
                RuleSetting::Warning => Level::Warning,
                _ => Level::Error,
            };
            true
        }
        None => true,
    });
    findings
}

/// One `strata-lint:` directive.
#[derive(Debug)]
struct Directive {
    /// Where it is written (for its own findings).
    at: Range<usize>,
    rule: String,
    /// `None`: the whole file; else the statement span it covers.
    scope: Option<Range<usize>>,
    used: bool,
}

/// Applies the directives of every file to its findings; adds the directives' own findings.
fn apply_directives(files: &[ParsedFile], findings: Vec<Finding>) -> Vec<Finding> {
    let mut out = Vec::with_capacity(findings.len());
    let mut by_file: Vec<Vec<Finding>> = vec![Vec::new(); files.len()];
    let mut other = Vec::new();
    let index_of: std::collections::HashMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_path(), i))
        .collect();
    for f in findings {
        let index = match &f.location {
            Location::File { path, .. } => index_of.get(path.as_path()).copied(),
            Location::Object { .. } => None,
        };
        match index {
            Some(i) => by_file[i].push(f),
            None => other.push(f),
        }
    }
    for (file, findings) in files.iter().zip(by_file) {
        if !file.text.contains("strata-lint:") {
            out.extend(findings);
            continue;
        }
        let first = out.len();
        let (mut directives, mut problems) = directives(file);
        for f in findings {
            let Location::File { start, .. } = f.location else {
                continue;
            };
            let mut silenced = false;
            for d in directives.iter_mut() {
                if d.rule == f.rule && d.scope.as_ref().is_none_or(|s| s.contains(&start)) {
                    d.used = true;
                    silenced = true;
                }
            }
            if !silenced {
                out.push(f);
            }
        }
        for d in directives.iter().filter(|d| !d.used) {
            let what = if d.scope.is_some() {
                "the statement after it"
            } else {
                "this file"
            };
            problems.push(Finding {
                rule: UNUSED_IGNORE.id,
                level: UNUSED_IGNORE.default_level,
                location: file.location(d.at.clone()),
                message: format!("this ignore of `{}` silences nothing: {what} has no `{}` finding", d.rule, d.rule),
                fix: Some("remove the directive (or move it into the leading comments of the statement it is meant for)".into()),
                object: None,
            });
        }
        out.extend(problems);
        out[first..].sort_by_key(|f| match &f.location {
            Location::File { start, end, .. } => (*start, *end),
            Location::Object { .. } => (usize::MAX, usize::MAX),
        });
    }
    out.extend(other);
    out
}

/// The directives written in a file's comments, and findings for the malformed ones.
fn directives(file: &ParsedFile) -> (Vec<Directive>, Vec<Finding>) {
    // Comment regions: each statement's leading comments (scope: that statement), then the text
    // after the last statement (scope: none, only ignore-file makes sense there).
    let mut regions: Vec<(Range<usize>, Option<Range<usize>>)> = file
        .statements
        .iter()
        .map(|s| (s.comments(), Some(s.span.clone())))
        .collect();
    let tail = file.statements.last().map(|s| s.span.end).unwrap_or(0);
    if file.statements.is_empty() {
        regions.push((0..file.text.len(), None));
    } else {
        regions.push((tail..file.text.len(), None));
    }
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (region, scope) in regions {
        let text = &file.text[region.clone()];
        let mut search = 0;
        while let Some(pos) = text[search..].find("strata-lint:") {
            let start = search + pos;
            let line_end = text[start..]
                .find('\n')
                .map(|e| start + e)
                .unwrap_or(text.len());
            search = line_end;
            let at = region.start + start..region.start + line_end;
            let body = text[start + "strata-lint:".len()..line_end]
                .trim()
                .trim_end_matches("*/")
                .trim();
            let mut words = body.split_whitespace();
            let verb = words.next().unwrap_or("");
            let ids = words.next().unwrap_or("");
            let file_wide = match verb {
                "ignore" => false,
                "ignore-file" => true,
                _ => {
                    problems.push(invalid(file, at.clone(), format!("unknown directive `strata-lint: {verb}`: write `strata-lint: ignore <rule> [reason]` or `strata-lint: ignore-file <rule> [reason]`")));
                    continue;
                }
            };
            if ids.is_empty() {
                problems.push(invalid(
                    file,
                    at.clone(),
                    format!("`strata-lint: {verb}` names no rule"),
                ));
                continue;
            }
            for id in ids.split(',').filter(|s| !s.is_empty()) {
                if rule(id).is_none() {
                    let close = close_ids(id);
                    let hint = if close.is_empty() {
                        String::new()
                    } else {
                        format!("; did you mean {}?", close.join(", "))
                    };
                    problems.push(invalid(
                        file,
                        at.clone(),
                        format!("unknown rule `{id}` in `strata-lint: {verb}`{hint}"),
                    ));
                    continue;
                }
                let scope = if file_wide { None } else { scope.clone() };
                if !file_wide && scope.is_none() {
                    problems.push(Finding {
                        rule: UNUSED_IGNORE.id,
                        level: UNUSED_IGNORE.default_level,
                        location: file.location(at.clone()),
                        message: format!("this ignore of `{id}` is followed by no statement"),
                        fix: Some("put it in the comments right before the statement it is for, or write `ignore-file`".into()),
                        object: None,
                    });
                    continue;
                }
                found.push(Directive {
                    at: at.clone(),
                    rule: id.to_string(),
                    scope,
                    used: false,
                });
            }
        }
    }
    (found, problems)
}

fn invalid(file: &ParsedFile, at: Range<usize>, message: String) -> Finding {
    Finding {
        rule: INVALID_IGNORE.id,
        level: INVALID_IGNORE.default_level,
        location: file.location(at),
        message,
        fix: Some("see `strata lint --explain <rule>` for the rule ids".into()),
        object: None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The rules these tests are about; other rules' findings on the same SQL are left out.
    const UNDER_TEST: &[&str] = &[
        "drop-without-if-exists",
        "create-without-if-not-exists",
        "file-name",
        "file-header",
        "unused-ignore",
        "invalid-ignore",
    ];

    fn run(sql: &str, config: &LintConfig) -> Vec<(&'static str, Level, usize)> {
        lint(
            vec![SourceText {
                path: PathBuf::from("20240101000000_create_things.sql"),
                text: format!("-- Description: d\n-- Author: a\n-- Date: 2024-01-01\n{sql}"),
            }],
            config,
        )
        .into_iter()
        .filter(|f| UNDER_TEST.contains(&f.rule))
        .map(|f| match f.location {
            Location::File { line, .. } => (f.rule, f.level, line),
            Location::Object { .. } => (f.rule, f.level, 0),
        })
        .collect()
    }

    #[test]
    fn ignore_silences_the_next_statement_only() {
        let sql = "-- strata-lint: ignore drop-without-if-exists the table is ours\nDROP INDEX a;\nDROP INDEX b;\n";
        let found = run(sql, &LintConfig::default());
        assert_eq!(found, vec![("drop-without-if-exists", Level::Warning, 6)]);
    }

    #[test]
    fn ignore_file_silences_the_whole_file() {
        let sql = "DROP INDEX a;\n-- strata-lint: ignore-file drop-without-if-exists,file-header\nDROP INDEX b;\n";
        assert_eq!(
            run(sql, &LintConfig::default()),
            vec![("unused-ignore", Level::Warning, 5)]
        );
    }

    #[test]
    fn unused_and_unknown_ignores_are_findings() {
        let sql = "-- strata-lint: ignore drop-without-if-exists\nDROP INDEX IF EXISTS a;\n\
                   -- strata-lint: ignore drop-without-if-exist\nDROP INDEX IF EXISTS b;\n\
                   -- strata-lint: silence x\nSELECT 1;\n-- strata-lint: ignore file-name\n";
        let found = run(sql, &LintConfig::default());
        assert_eq!(
            found,
            vec![
                ("unused-ignore", Level::Warning, 4),
                ("invalid-ignore", Level::Error, 6),
                ("invalid-ignore", Level::Error, 8),
                ("unused-ignore", Level::Warning, 10),
            ]
        );
    }

    #[test]
    fn config_sets_levels_and_turns_rules_off() {
        let mut config = LintConfig::default();
        config
            .rules
            .insert("drop-without-if-exists".into(), RuleSetting::Error);
        config
            .rules
            .insert("create-without-if-not-exists".into(), RuleSetting::Off);
        let found = run("DROP INDEX a;\nCREATE TABLE b (id int);\n", &config);
        assert_eq!(found, vec![("drop-without-if-exists", Level::Error, 4)]);
    }

    #[test]
    fn config_validation_names_unknown_rules_and_bad_globs() {
        let mut config = LintConfig::default();
        config
            .rules
            .insert("drop-without-if-exist".into(), RuleSetting::Off);
        let (value, message) = config.validate().unwrap_err();
        assert_eq!(value, "drop-without-if-exist");
        assert!(
            message.contains("did you mean drop-without-if-exists"),
            "{message}"
        );
        let config = LintConfig {
            exclude: vec!["a/[".into()],
            ..Default::default()
        };
        assert!(config.validate().is_err());
        let config = LintConfig {
            exclude: vec!["supabase/migrations/2023*".into()],
            ..Default::default()
        };
        assert!(config.is_excluded(Path::new("supabase/migrations/20230101_x.sql")));
        assert!(!config.is_excluded(Path::new("supabase/migrations/20240101_x.sql")));
    }

    #[test]
    fn registry_ids_are_unique_kebab_case_and_documented() {
        let all = registry();
        let mut ids: Vec<_> = all.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for r in all {
            assert!(
                r.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                r.id
            );
            assert!(
                !r.why.is_empty() && !r.fix.is_empty() && !r.bad.is_empty(),
                "{}",
                r.id
            );
        }
    }
}
