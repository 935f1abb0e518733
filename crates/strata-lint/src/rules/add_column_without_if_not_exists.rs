//! `add-column-without-if-not-exists`: `ALTER TABLE … ADD COLUMN` that fails when the column
//! exists.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{relation_name, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "add-column-without-if-not-exists",
    category: "idempotency",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "ALTER TABLE … ADD COLUMN without IF NOT EXISTS",
    why: "Running the migration again fails with \"column already exists\". ADD COLUMN IF NOT \
          EXISTS makes the change safe to replay, as the seed asks of every migration.",
    fix: "Write ALTER TABLE t ADD COLUMN IF NOT EXISTS c type.",
    bad: "ALTER TABLE users ADD COLUMN display_name TEXT;",
    good: "ALTER TABLE users ADD COLUMN IF NOT EXISTS display_name TEXT;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, node) in cx.statements() {
        let NodeEnum::AlterTableStmt(a) = node else {
            continue;
        };
        let table = a.relation.as_ref().map(relation_name).unwrap_or_default();
        for cmd in &a.cmds {
            let Some(NodeEnum::AlterTableCmd(c)) = &cmd.node else {
                continue;
            };
            if c.subtype != AlterTableType::AtAddColumn as i32 || c.missing_ok {
                continue;
            }
            let (column, range) = match c.def.as_deref().and_then(|d| d.node.as_ref()) {
                Some(NodeEnum::ColumnDef(d)) => (
                    d.colname.clone(),
                    super::at(st, d.location, d.colname.len()),
                ),
                _ => (String::new(), super::ast::first_line(&cx.file.text, st)),
            };
            out.push(cx.finding(
                &INFO,
                range,
                format!("ADD COLUMN {column} fails if {table} already has the column"),
                Some(format!("write ADD COLUMN IF NOT EXISTS {column} …")),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_add_column() {
        let sql =
            "ALTER TABLE users ADD COLUMN display_name TEXT, ADD COLUMN IF NOT EXISTS b int;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_if_not_exists() {
        assert!(lint(
            "ALTER TABLE users ADD COLUMN IF NOT EXISTS display_name TEXT;",
            ID
        )
        .is_empty());
    }
}
