//! `schema-and-data-change`: one migration both alters an existing table and changes its rows.

use std::collections::HashMap;

use pg_query::NodeEnum;

use super::{created_in_file, relation_name, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "schema-and-data-change",
    category: "data",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "Schema change and data change (INSERT/UPDATE/DELETE) to the same existing table in one migration",
    why: "The seed separates schema migrations from data migrations. A backfill in the same \
          transaction as an ALTER TABLE keeps the ALTER's ACCESS EXCLUSIVE lock for the whole \
          UPDATE, blocking every read and write of the table; it also makes the change \
          impossible to re-run or roll back in parts. Rows inserted into a table created in the \
          same file (a configuration row) are fine and not reported.",
    fix: "Move the INSERT/UPDATE/DELETE into a migration of its own, after the schema change (and \
          batch large backfills).",
    bad: "ALTER TABLE users ADD COLUMN IF NOT EXISTS display_name TEXT;\nUPDATE users SET display_name = email WHERE display_name IS NULL;",
    good: "-- 20240120000000_add_display_name.sql\nALTER TABLE users ADD COLUMN IF NOT EXISTS display_name TEXT;\n-- 20240120000100_backfill_display_name.sql\nUPDATE users SET display_name = email WHERE display_name IS NULL;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let mut altered: HashMap<String, usize> = HashMap::new();
    let mut changed: Vec<(String, usize, &'static str)> = Vec::new();
    for (i, st, node) in cx.statements() {
        match node {
            NodeEnum::AlterTableStmt(a) => {
                if let Some(rv) = &a.relation {
                    altered.entry(relation_name(rv)).or_insert(st.code.start);
                }
            }
            NodeEnum::RenameStmt(r) => {
                if let Some(rv) = &r.relation {
                    altered.entry(relation_name(rv)).or_insert(st.code.start);
                }
            }
            NodeEnum::InsertStmt(s) => {
                if let Some(rv) = &s.relation {
                    changed.push((relation_name(rv), i, "INSERT"));
                }
            }
            NodeEnum::UpdateStmt(s) => {
                if let Some(rv) = &s.relation {
                    changed.push((relation_name(rv), i, "UPDATE"));
                }
            }
            NodeEnum::DeleteStmt(s) => {
                if let Some(rv) = &s.relation {
                    changed.push((relation_name(rv), i, "DELETE"));
                }
            }
            _ => {}
        }
    }
    let created = created_in_file(cx.nodes, cx.nodes.len());
    for (table, i, what) in changed {
        let Some(&at) = altered.get(&table) else {
            continue;
        };
        if created.contains(&table) {
            continue;
        }
        let (line, _) = cx.file.line_col(at);
        let st = &cx.file.statements[i];
        out.push(cx.finding(
            &INFO,
            super::ast::first_line(&cx.file.text, st),
            format!("{what} on {table}, whose schema this migration changes (line {line}): schema and data changes to the same table belong in separate migrations"),
            Some(format!("move this {what} into its own migration that runs after this one")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_backfill_next_to_alter() {
        let sql = "ALTER TABLE users ADD COLUMN IF NOT EXISTS display_name TEXT;\n\
                   UPDATE users SET display_name = email WHERE display_name IS NULL;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_new_tables_and_separate_tables() {
        let sql = "CREATE TABLE IF NOT EXISTS config (id int PRIMARY KEY);\n\
                   ALTER TABLE config ENABLE ROW LEVEL SECURITY;\n\
                   INSERT INTO config VALUES (1) ON CONFLICT DO NOTHING;\n\
                   ALTER TABLE a ADD COLUMN IF NOT EXISTS x int;\nUPDATE b SET y = 1;\n";
        assert!(lint(sql, ID).is_empty());
    }
}
