//! `breaking-add-required-column`: `ADD COLUMN … NOT NULL` without a default on an existing
//! table.

use super::{report, sql_table, Change};
use crate::rules::{ident, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "breaking-add-required-column",
    category: "compatibility",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "ADD COLUMN … NOT NULL without a DEFAULT on an existing table",
    why: "On a table with rows the statement fails outright (\"column contains null values\"); \
          on an empty one it succeeds and then every insert of the running application, which \
          does not know the column, fails. The seed adds a column nullable in phase 1 and makes \
          it required only after backfilling.",
    fix: "Add the column nullable (or with a constant DEFAULT), backfill, then make it NOT NULL.",
    bad: "ALTER TABLE users ADD COLUMN IF NOT EXISTS new_email TEXT NOT NULL;",
    good: "ALTER TABLE users ADD COLUMN IF NOT EXISTS new_email TEXT;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    report(cx, &INFO, out, |_, table, change| {
        let Change::AddRequiredColumn { column, ty } = change else {
            return None;
        };
        let t = sql_table(table);
        let c = ident(column);
        Some((
            format!("adding NOT NULL column {column} without a default to existing table {table} fails if it has rows, and breaks the running application's inserts"),
            [
                format!("`ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {ty};` (nullable, or with a constant DEFAULT); deploy code that writes {c}"),
                format!("backfill: `UPDATE {t} SET {c} = <value> WHERE {c} IS NULL;` (in batches), in its own migration"),
                format!("deploy code that reads {c}; `ALTER TABLE {t} ADD CONSTRAINT {} CHECK ({c} IS NOT NULL) NOT VALID;` then `VALIDATE CONSTRAINT`", ident(&format!("{}_{column}_not_null", table.rsplit('.').next().unwrap_or(table)))),
                format!("`ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;` (uses the validated check, no scan)"),
            ],
        ))
    });
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_required_column_without_default() {
        let sql = "ALTER TABLE users ADD COLUMN IF NOT EXISTS new_email TEXT NOT NULL;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_defaults_and_nullable_columns() {
        let sql = "ALTER TABLE users ADD COLUMN IF NOT EXISTS a TEXT NOT NULL DEFAULT '';\n\
                   ALTER TABLE users ADD COLUMN IF NOT EXISTS b TEXT;\n\
                   ALTER TABLE users ADD COLUMN IF NOT EXISTS c bigint GENERATED ALWAYS AS IDENTITY;\n";
        assert!(lint(sql, ID).is_empty());
    }
}
