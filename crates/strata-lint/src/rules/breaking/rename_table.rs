//! `breaking-rename-table`: `ALTER TABLE … RENAME TO` on an existing table.

use super::{report, sql_table, Change};
use crate::rules::{ident, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "breaking-rename-table",
    category: "compatibility",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "RENAME of an existing table",
    why: "Every query of the running application names the old table; they all fail the moment \
          the rename commits, until the new release is everywhere. There is no moment at which \
          old and new code both work, so the change needs the seed's phases.",
    fix: "Create the new table, write both, backfill, switch reads, then drop the old one; or \
          rename and leave a view with the old name until the old code is gone.",
    bad: "ALTER TABLE chats RENAME TO conversations;",
    good: "CREATE TABLE IF NOT EXISTS conversations (LIKE chats INCLUDING ALL);",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    report(cx, &INFO, out, |_, table, change| {
        let Change::RenameTable { new } = change else {
            return None;
        };
        let t = sql_table(table);
        let n = ident(new);
        Some((
            format!("renaming existing table {table} to {new} breaks every query of the running application"),
            [
                format!("`CREATE TABLE IF NOT EXISTS {n} (LIKE {t} INCLUDING ALL);` (with its RLS policies and grants); the application writes both tables"),
                format!("backfill: `INSERT INTO {n} SELECT * FROM {t} ON CONFLICT DO NOTHING;` (in batches), keep dual writes"),
                format!("deploy code that reads {n} only"),
                format!("`DROP TABLE IF EXISTS {t};` in a later migration. (Shortcut: rename and `CREATE VIEW {t} AS SELECT * FROM {n};` in the same migration, drop the view in phase 4.)"),
            ],
        ))
    });
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_rename_of_existing_table() {
        let sql = "ALTER TABLE chats RENAME TO conversations;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_new_tables() {
        assert!(lint("CREATE TABLE a (x int);\nALTER TABLE a RENAME TO b;\n", ID).is_empty());
    }
}
