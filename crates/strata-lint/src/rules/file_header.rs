//! `file-header`: the seed's migration header (Description, Author, Date).

use super::{Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "file-header",
    category: "convention",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "Migration without the seed's header comment (Description, Author, Date)",
    why: "The seed's migration template starts every file with `-- Description:`, `-- Author:` \
          and `-- Date:` lines. They tell a reviewer, and whoever reads the history a year later, \
          why the change was made and whom to ask, without digging through version control.",
    fix: "Start the file with the header (`strata migration new` writes it):\n\
          -- Description: what and why\n-- Author: Your Name\n-- Date: 2024-01-15",
    bad: "CREATE TABLE IF NOT EXISTS user_settings (id uuid PRIMARY KEY);",
    good: "-- Description: Add user settings table for app configuration\n-- Author: Your Name\n-- Date: 2024-01-15\n\nCREATE TABLE IF NOT EXISTS user_settings (id uuid PRIMARY KEY);",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

const FIELDS: [&str; 3] = ["Description", "Author", "Date"];

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let text = &cx.file.text;
    let header_end = cx
        .file
        .statements
        .first()
        .map(|s| s.code.start)
        .unwrap_or(text.len());
    let header = &text[..header_end];
    let missing: Vec<&str> = FIELDS
        .iter()
        .copied()
        .filter(|field| {
            !header.lines().any(|l| {
                let l = l.trim_start();
                let Some(rest) = l.strip_prefix("--") else {
                    return false;
                };
                let rest = rest.trim_start();
                rest.get(..field.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(field))
                    && rest[field.len()..]
                        .strip_prefix(':')
                        .is_some_and(|v| !v.trim().is_empty())
            })
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    let end = text.find('\n').unwrap_or(text.len());
    let lines: Vec<String> = missing.iter().map(|f| format!("-- {f}: …")).collect();
    out.push(cx.finding(
        &INFO,
        0..end,
        format!(
            "the header before the first statement lacks {}",
            missing
                .iter()
                .map(|f| format!("`-- {f}:`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(format!("start the file with:\n{}", lines.join("\n"))),
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_missing_header_fields() {
        let sql =
            "-- Description: add settings\n-- Date:\nCREATE TABLE IF NOT EXISTS s (id int);\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_the_seed_template() {
        let sql = "-- migrations/20240115_add_user_settings.sql\n\n\
                   -- Description: Add user settings table for app configuration\n\
                   -- Author: Your Name\n-- Date: 2024-01-15\n\nSELECT 1;\n";
        assert!(lint(sql, ID).is_empty());
    }
}
