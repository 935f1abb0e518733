//! `breaking-column-type`: `ALTER COLUMN … TYPE` on an existing table.

use super::{report, sql_table, Change};
use crate::rules::{ident, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "breaking-column-type",
    category: "compatibility",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "ALTER COLUMN … TYPE on an existing table",
    why: "A new type changes what the running application reads and what it may write (text \
          to integer, integer to bigint in a typed client, varchar length); most type changes \
          also rewrite the table under an ACCESS EXCLUSIVE lock. The seed's compatible path is \
          a new column in four phases.",
    fix: "Add a column of the new type, backfill and write both, switch reads, drop the old one.",
    bad: "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);",
    good: "ALTER TABLE orders ADD COLUMN IF NOT EXISTS total_numeric numeric(12,2);",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    report(cx, &INFO, out, |_, table, change| {
        let Change::ColumnType {
            column,
            new_type,
            kind,
        } = change
        else {
            return None;
        };
        // varchar(50) → text and the like: every value stays what it was.
        if *kind == crate::rules::alter_column_type_rewrite::TypeChange::Widening {
            return None;
        }
        let t = sql_table(table);
        let c = ident(column);
        let n = ident(&format!("{column}_new"));
        Some((
            format!("changing the type of column {column} of existing table {table} to {new_type} breaks the running application (and rewrites the table under an exclusive lock)"),
            [
                format!("`ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {n} {new_type};`; deploy code that writes both {c} and {n}"),
                format!("backfill: `UPDATE {t} SET {n} = {c}::{new_type} WHERE {n} IS NULL;` (in batches on a large table)"),
                format!("deploy code that reads {n} only"),
                format!("`ALTER TABLE {t} DROP COLUMN IF EXISTS {c};` in a later migration (keep the new name: renaming it back breaks running code again)"),
            ],
        ))
    });
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_type_change() {
        let sql = "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_new_tables() {
        assert!(lint(
            "CREATE TABLE o (t int);\nALTER TABLE o ALTER COLUMN t TYPE bigint;\n",
            ID
        )
        .is_empty());
    }
}
