//! Findings as text: the human form (rustc-style, with the SQL underlined). Machine formats
//! (JSON, SARIF, GitHub annotations) live here too; colour is the CLI's business.

use std::fmt;

use annotate_snippets::{Level as SnippetLevel, Renderer, Snippet};
use serde::Serialize;
use serde_json::{json, Value};

use super::{Finding, Level, Location, RuleInfo};

/// Renders one finding like rustc does: `level[rule]: message`, `--> file:line:col`, the SQL
/// lines with the span underlined, then the fix. `source` is the text of the finding's file
/// (ignored for catalog findings). `styled` adds ANSI colours.
pub fn human(finding: &Finding, source: Option<&str>, styled: bool) -> String {
    human_with_why(finding, source, styled, None)
}

/// [`human`], with the rule's `why` as a note before the fix (the CLI shows it with the first
/// finding of each rule).
pub fn human_with_why(
    finding: &Finding,
    source: Option<&str>,
    styled: bool,
    why: Option<&str>,
) -> String {
    let level = match finding.level {
        Level::Error => SnippetLevel::Error,
        Level::Warning => SnippetLevel::Warning,
        Level::Info => SnippetLevel::Info,
    };
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let fix = finding.fix.clone();
    let origin;
    let mut message = level.title(&finding.message).id(finding.rule);
    match (&finding.location, source) {
        (
            Location::File {
                path, start, end, ..
            },
            Some(src),
        ) => {
            origin = path.display().to_string();
            let end = (*end).max(*start).min(src.len());
            let start = (*start).min(end);
            message = message.snippet(
                Snippet::source(src)
                    .line_start(1)
                    .origin(&origin)
                    .fold(true)
                    .annotation(level.span(start..end)),
            );
        }
        (
            Location::File {
                path, line, column, ..
            },
            None,
        ) => {
            origin = format!("{}:{line}:{column}", path.display());
            message = message.footer(SnippetLevel::Note.title(&origin));
        }
        (Location::Object { kind, name, .. }, _) => {
            origin = format!("{kind} {name}");
            message = message.footer(SnippetLevel::Note.title(&origin));
        }
    }
    let also = finding
        .object
        .as_ref()
        .map(|o| format!("also found on the database: {} {}", o.kind, o.name));
    if let Some(also) = &also {
        message = message.footer(SnippetLevel::Note.title(also));
    }
    if let Some(why) = why {
        message = message.footer(SnippetLevel::Note.title(why));
    }
    if let Some(fix) = &fix {
        message = message.footer(SnippetLevel::Help.title(fix));
    }
    let text = renderer.render(message).to_string();
    text
}

/// Counts of findings per level, and of files linted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub files: usize,
}

impl Summary {
    pub fn new(findings: &[Finding], files: usize) -> Summary {
        let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
        Summary {
            errors: count(Level::Error),
            warnings: count(Level::Warning),
            infos: count(Level::Info),
            files,
        }
    }
}

impl fmt::Display for Summary {
    /// `3 errors, 5 warnings in 12 files` (`no problems in 12 files`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if self.errors > 0 {
            parts.push(plural(self.errors, "error"));
        }
        if self.warnings > 0 {
            parts.push(plural(self.warnings, "warning"));
        }
        if self.infos > 0 {
            parts.push(plural(self.infos, "info"));
        }
        if parts.is_empty() {
            parts.push("no problems".into());
        }
        write!(f, "{} in {}", parts.join(", "), plural(self.files, "file"))
    }
}

/// The JSON document of `strata lint --format json` (docs/json-output.md): findings as
/// [`Finding`] serializes them, the summary, and whether the run passed `fail_on`.
pub fn json(findings: &[Finding], summary: &Summary, fail_on: Level) -> Value {
    let ok = !findings.iter().any(|f| f.level >= fail_on);
    json!({
        "command": "lint",
        "ok": ok,
        "result": { "fail_on": fail_on, "summary": summary, "findings": findings },
    })
}

/// A SARIF 2.1.0 log of the findings: `tool.driver.rules` from `rules` (with their help text),
/// one result per finding with its physical location (or logical location for catalog
/// findings). Paths are written as given (relative paths become relative URIs).
pub fn sarif(findings: &[Finding], rules: &[&RuleInfo]) -> Value {
    let driver_rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.why },
                "help": {
                    "text": format!("{}\n\nFix: {}\n\nFlagged:\n{}\n\nPasses:\n{}", r.why, r.fix, r.bad, r.good),
                    "markdown": format!("{}\n\n**Fix:** {}\n\nFlagged:\n```sql\n{}\n```\n\nPasses:\n```sql\n{}\n```", r.why, r.fix, r.bad, r.good),
                },
                "defaultConfiguration": { "level": sarif_level(r.default_level) },
                "properties": { "category": r.category },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut message = f.message.clone();
            if let Some(fix) = &f.fix {
                message.push_str("\nFix: ");
                message.push_str(fix);
            }
            let mut result = json!({
                "ruleId": f.rule,
                "level": sarif_level(f.level),
                "message": { "text": message },
            });
            if let Some(index) = rules.iter().position(|r| r.id == f.rule) {
                result["ruleIndex"] = json!(index);
            }
            result["locations"] = match &f.location {
                Location::File {
                    path,
                    line,
                    column,
                    end_line,
                    end_column,
                    ..
                } => json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(path) },
                        "region": {
                            "startLine": line,
                            "startColumn": column,
                            "endLine": end_line,
                            "endColumn": end_column,
                        },
                    },
                }]),
                Location::Object {
                    kind,
                    name,
                    defined_in,
                } => {
                    let mut loc = json!({
                        "logicalLocations": [{ "fullyQualifiedName": name, "kind": kind }],
                    });
                    if let Some(p) = defined_in {
                        loc["physicalLocation"] = json!({ "artifactLocation": { "uri": uri(p) } });
                    }
                    json!([loc])
                }
            };
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "strata",
                "informationUri": "https://example.invalid/strata/docs/lint-rules.md",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": driver_rules,
            } },
            "results": results,
        }],
    })
}

fn sarif_level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "note",
    }
}

fn uri(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// A GitHub Actions workflow command that annotates the finding in a pull request:
/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.
pub fn github(f: &Finding) -> String {
    let command = match f.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "notice",
    };
    let mut message = f.message.clone();
    if let Some(fix) = &f.fix {
        message.push_str("\nfix: ");
        message.push_str(fix);
    }
    let title = format!("strata lint: {}", f.rule);
    let props = match &f.location {
        Location::File {
            path,
            line,
            column,
            end_line,
            end_column,
            ..
        } => format!(
            "file={},line={line},col={column},endLine={end_line},endColumn={end_column},title={}",
            escape_property(&uri(path)),
            escape_property(&title)
        ),
        Location::Object {
            kind,
            name,
            defined_in,
        } => {
            message = format!("{kind} {name}: {message}");
            match defined_in {
                Some(p) => format!(
                    "file={},title={}",
                    escape_property(&uri(p)),
                    escape_property(&title)
                ),
                None => format!("title={}", escape_property(&title)),
            }
        }
    };
    format!("::{command} {props}::{}", escape_data(&message))
}

/// GitHub's escaping of a workflow command's message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::{engine, SourceText};

    fn sample() -> Vec<Finding> {
        engine::lint(
            vec![SourceText {
                path: PathBuf::from("supabase/migrations/20240101000000_drop_x.sql"),
                text: "DROP TABLE a;\nselect * frm a;\n".into(),
            }],
            &Default::default(),
        )
    }

    #[test]
    fn summary_reads_like_a_sentence() {
        let s = Summary {
            errors: 3,
            warnings: 5,
            infos: 0,
            files: 12,
        };
        assert_eq!(s.to_string(), "3 errors, 5 warnings in 12 files");
        assert_eq!(
            Summary {
                files: 1,
                ..Default::default()
            }
            .to_string(),
            "no problems in 1 file"
        );
    }

    #[test]
    fn sarif_has_the_2_1_0_structure() {
        let findings = sample();
        let rules = engine::registry();
        let log = sarif(&findings, &rules);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let driver_rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(driver_rules.len(), rules.len());
        for r in driver_rules {
            assert!(r["id"].is_string() && r["shortDescription"]["text"].is_string());
            assert!(r["help"]["text"].as_str().unwrap().contains("Fix:"));
        }
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), findings.len());
        for r in results {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(driver_rules[index]["id"], r["ruleId"]);
            assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
            let region = &r["locations"][0]["physicalLocation"]["region"];
            for key in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(region[key].as_u64().unwrap() >= 1, "{key}");
            }
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                "supabase/migrations/20240101000000_drop_x.sql"
            );
        }
        let parse = results
            .iter()
            .find(|r| r["ruleId"] == "parse-error")
            .unwrap();
        assert_eq!(
            parse["locations"][0]["physicalLocation"]["region"]["startLine"],
            2
        );
    }

    #[test]
    fn github_commands_escape_data_and_properties() {
        let f = Finding {
            rule: "file-name",
            level: Level::Warning,
            location: Location::File {
                path: PathBuf::from("a,b:c.sql"),
                start: 0,
                end: 1,
                line: 1,
                column: 2,
                end_line: 3,
                end_column: 4,
            },
            message: "100% wrong\r\nnext".into(),
            fix: None,
            object: None,
        };
        assert_eq!(
            github(&f),
            "::warning file=a%2Cb%3Ac.sql,line=1,col=2,endLine=3,endColumn=4,title=strata lint%3A file-name::100%25 wrong%0D%0Anext"
        );
    }

    #[test]
    fn json_document_is_stable() {
        let findings = sample();
        let doc = json(&findings, &Summary::new(&findings, 1), Level::Error);
        assert_eq!(doc["ok"], false);
        let first = &doc["result"]["findings"][0];
        for key in ["rule", "level", "location", "message", "fix"] {
            assert!(first.get(key).is_some(), "{key}");
        }
        assert_eq!(first["location"]["type"], "file");
        assert_eq!(doc["result"]["summary"]["files"], 1);
    }
}
