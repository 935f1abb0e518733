//! `breaking-drop-table`: `DROP TABLE` of an existing table.

use super::{report, sql_table, Change};
use crate::rules::{Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "breaking-drop-table",
    category: "compatibility",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "DROP TABLE of an existing table",
    why: "Code still running queries the table and fails from that moment; and the data is \
          gone for good (only a backup brings it back). The seed drops legacy tables \
          (20240130_drop_legacy_table.sql) only after nothing uses them. When that is the case, \
          say so with `-- strata-lint: ignore breaking-drop-table <reason>`.",
    fix: "Stop using the table in a deployed release first (move its data if needed); drop it \
          in a later migration.",
    bad: "DROP TABLE IF EXISTS legacy_orders;",
    good: "-- strata-lint: ignore breaking-drop-table unused since v3.0, data archived in s3://…\nDROP TABLE IF EXISTS legacy_orders;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    report(cx, &INFO, out, |_, table, change| {
        let Change::DropTable = change else {
            return None;
        };
        let t = sql_table(table);
        Some((
            format!("dropping existing table {table} breaks the application version that still uses it, and deletes its data"),
            [
                format!("if {t}'s data moves elsewhere, create the new home and write both places from the application"),
                format!("backfill the new home from {t} and deploy code that no longer reads or writes {t}"),
                format!("verify no running release or job touches {t}; keep a backup (pg_dump -t {t})"),
                format!("`DROP TABLE IF EXISTS {t};` in a later migration, marked `-- strata-lint: ignore breaking-drop-table <why it is safe now>`"),
            ],
        ))
    });
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_drop_of_existing_table() {
        let sql = "DROP TABLE IF EXISTS legacy_orders;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_a_table_created_in_the_same_file() {
        assert!(lint("CREATE TABLE tmp (a int);\nDROP TABLE tmp;\n", ID).is_empty());
    }
}
