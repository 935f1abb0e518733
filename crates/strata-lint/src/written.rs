//! The check every file Strata writes for a user passes ([`strata::author::WrittenCheck`]):
//! the migrations of `migration new`, `diff --write`, `schema diff --write` and `migration
//! squash`, in Strata's layout or another tool's.
//!
//! The rule is the push gate's, judged as on a live database: a written migration has no
//! finding at the project's `push_fail_on` with every existing migration deployed
//! ([`Linter::findings_for_new`]). Otherwise the next push (or CI's `strata lint`) would refuse
//! a file Strata wrote. Consent to a step lint flags is explicit and written in the file: a
//! `-- strata-lint: ignore RULE -- reason` directive before the statement (a schema file's
//! directive is copied into the migration it becomes). Every written file, rollbacks included,
//! must also split into statements as a push splits it.

use std::path::PathBuf;

use strata::author::{NewFile, NewFileKind, WrittenCheck};
use strata::MigrationSet;

use crate::gate::Linter;
use crate::Level;

/// The written-file check of a project: its linter and the level that refuses.
#[derive(Debug, Clone)]
pub struct Gate {
    pub linter: Linter,
    /// `push_fail_on` of the project (or the named environment).
    pub fail_on: Level,
    /// Where `fail_on` came from (`[lint] push_fail_on`, `default` …), for the message.
    pub setting: String,
}

impl Gate {
    /// The findings at or above `fail_on` of the migration files among `files`, linted after
    /// `set` (deployed).
    fn findings(
        &self,
        set: &MigrationSet,
        files: &[NewFile],
    ) -> Result<Vec<crate::Finding>, strata::Error> {
        let new: Vec<(PathBuf, String)> = files
            .iter()
            .filter(|f| f.kind == NewFileKind::Migration)
            .map(|f| (f.path.clone(), f.text.clone()))
            .collect();
        let mut set = set.clone();
        set.read_deferred()?;
        Ok(self
            .linter
            .findings_for_new(&set, &new)
            .into_iter()
            .filter(|f| f.level >= self.fail_on)
            .collect())
    }

    fn refuse(&self, files: &[NewFile], findings: &[crate::Finding]) -> strata::Error {
        let sources: std::collections::BTreeMap<PathBuf, &str> = files
            .iter()
            .map(|f| {
                (
                    crate::gate::shown(&crate::gate::absolute(&f.path)),
                    f.text.as_str(),
                )
            })
            .collect();
        let rules: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.rule).collect();
        strata::Error::Lint {
            message: format!(
                "the file Strata would write does not pass the push gate: {} finding(s) at or above {} ({}); nothing was written",
                findings.len(),
                self.fail_on.as_str(),
                self.setting
            ),
            findings: findings
                .iter()
                .map(|f| {
                    let source = match &f.location {
                        crate::Location::File { path, .. } => sources.get(path).copied(),
                        crate::Location::Object { .. } => None,
                    };
                    crate::format::human(f, source, false)
                })
                .collect(),
            hint: Some(format!(
                "each finding says the lock-safe or phased way to make this change; to take the step as it is, say so where the object is declared: `-- strata-lint: ignore {} -- <reason>` on the line before it in the schema file (it is copied into the migration){}",
                rules.into_iter().collect::<Vec<_>>().join(","),
                if findings.iter().any(|f| f.rule == "index-without-concurrently") {
                    ", or `[schema] transaction_only = true` in strata.toml to build indexes in the transaction, blocking writes while they build"
                } else {
                    ""
                }
            )),
        }
    }
}

impl WrittenCheck for Gate {
    fn check_replacing(
        &self,
        replaced: &MigrationSet,
        files: &[NewFile],
    ) -> Result<Vec<String>, strata::Error> {
        strata::author::SplitCheck.check(replaced, files)?;
        let findings = self.findings(&replaced.with_migrations(Vec::new()), files)?;
        if findings.is_empty() {
            return Ok(Vec::new());
        }
        // What the replaced files were told (directives applied) and what they would be told
        // without their `strata-lint: ignore` directives.
        let mut replaced = replaced.clone();
        replaced.read_deferred()?;
        let sources: Vec<crate::SourceText> = replaced
            .migrations
            .iter()
            .map(|m| crate::SourceText {
                path: m.path.clone(),
                text: m.sql.clone(),
            })
            .collect();
        let deployed = crate::Deployed::Files(vec![false; sources.len()]);
        let key = |f: &crate::Finding| (f.rule, f.message.clone());
        let told: std::collections::BTreeSet<_> = crate::lint_for(
            sources.clone(),
            &self.linter.config,
            &self.linter.api_schemas,
            &deployed,
        )
        .iter()
        .map(key)
        .collect();
        let raw: std::collections::BTreeSet<_> = crate::check_parsed(
            &crate::parse_all(sources),
            &self.linter.api_schemas,
            &deployed,
        )
        .iter()
        .map(key)
        .collect();
        let mut carried = std::collections::BTreeSet::new();
        let mut new = Vec::new();
        for f in findings {
            if told.contains(&key(&f)) {
                continue;
            }
            if raw.contains(&key(&f)) {
                carried.insert(f.rule.to_string());
                continue;
            }
            new.push(f);
        }
        if !new.is_empty() {
            return Err(self.refuse(files, &new));
        }
        Ok(carried.into_iter().collect())
    }

    fn check(&self, set: &MigrationSet, files: &[NewFile]) -> Result<(), strata::Error> {
        strata::author::SplitCheck.check(set, files)?;
        let findings = self.findings(set, files)?;
        if findings.is_empty() {
            return Ok(());
        }
        Err(self.refuse(files, &findings))
    }
}
