//! `breaking-drop-column`: `ALTER TABLE … DROP COLUMN` on an existing table.

use super::{report, sql_table, Change};
use crate::rules::{ident, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "breaking-drop-column",
    category: "compatibility",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "DROP COLUMN on an existing table",
    why: "The application version running while the migration is applied still selects and \
          writes the column: its queries fail from the moment the column is gone until the new \
          version is everywhere. The seed removes a column only in phase 4, after the full \
          rollout of code that no longer uses it. When this migration is that phase 4, say so \
          with `-- strata-lint: ignore breaking-drop-column <reason>`.",
    fix: "Ship code that no longer reads or writes the column first; drop it in a later migration.",
    bad: "ALTER TABLE users DROP COLUMN email;",
    good: "-- strata-lint: ignore breaking-drop-column phase 4: no release reads email since v2.3\nALTER TABLE users DROP COLUMN IF EXISTS email;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    report(cx, &INFO, out, |_, table, change| {
        let Change::DropColumn { column } = change else {
            return None;
        };
        let t = sql_table(table);
        let c = ident(column);
        Some((
            format!("dropping column {column} of existing table {table} breaks the application version that still uses it"),
            [
                format!("if {c} is NOT NULL without a default, `ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;` so new code can stop writing it"),
                format!("deploy code that no longer reads or writes {t}.{c} (copy its data elsewhere first if it still matters, writing both places meanwhile)"),
                format!("verify no running release uses {c} (old instances drained, background jobs updated)"),
                format!("`ALTER TABLE {t} DROP COLUMN IF EXISTS {c};` in a later migration, marked `-- strata-lint: ignore breaking-drop-column <why it is safe now>`"),
            ],
        ))
    });
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_drop_column_on_existing_table() {
        let sql = "ALTER TABLE users DROP COLUMN email;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_tables_created_in_undeployed_files() {
        let files = [
            (
                "20240101000000_create_users.sql",
                "CREATE TABLE users (id int, email text);",
            ),
            (
                "20240102000000_drop_email.sql",
                "ALTER TABLE users DROP COLUMN email;",
            ),
        ];
        assert!(lint_set_undeployed(&files, ID).is_empty());
        // Deployed (plain `strata lint` assumes every earlier file is): the column is live.
        assert_eq!(lint_set(&files, ID).len(), 1);
    }
}
