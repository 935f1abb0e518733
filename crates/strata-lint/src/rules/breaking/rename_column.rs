//! `breaking-rename-column`: `ALTER TABLE … RENAME COLUMN` on an existing table.

use super::{report, sql_table, Change};
use crate::rules::{ident, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "breaking-rename-column",
    category: "compatibility",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "RENAME COLUMN on an existing table",
    why: "The running application reads and writes the old column name; every such query fails \
          from the moment the rename commits until the new release is everywhere. The seed's \
          backwards-compatibility section replaces a column in four phases instead.",
    fix: "Add the new column, backfill and write both, switch reads, drop the old column later.",
    bad: "ALTER TABLE users RENAME COLUMN email TO new_email;",
    good: "ALTER TABLE users ADD COLUMN IF NOT EXISTS new_email TEXT;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    report(cx, &INFO, out, |_, table, change| {
        let Change::RenameColumn { column, new } = change else {
            return None;
        };
        let t = sql_table(table);
        let (c, n) = (ident(column), ident(new));
        Some((
            format!("renaming column {column} of existing table {table} to {new} breaks the running application's queries"),
            [
                format!("`ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {n} <type of {c}>;` (nullable); deploy code that writes both {c} and {n}"),
                format!("backfill: `UPDATE {t} SET {n} = {c} WHERE {n} IS NULL;` (in batches on a large table)"),
                format!("deploy code that reads {n} only (and stops writing {c})"),
                format!("`ALTER TABLE {t} DROP COLUMN IF EXISTS {c};` in a later migration"),
            ],
        ))
    });
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_rename_column_with_the_plan() {
        let sql = "ALTER TABLE users RENAME COLUMN email TO new_email;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .fix
            .as_ref()
            .unwrap()
            .contains("UPDATE users SET new_email = email"));
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_new_tables() {
        assert!(lint(
            "CREATE TABLE a (x int);\nALTER TABLE a RENAME x TO y;\n",
            ID
        )
        .is_empty());
    }
}
