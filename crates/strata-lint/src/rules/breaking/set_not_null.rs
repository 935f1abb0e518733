//! `breaking-set-not-null`: `ALTER COLUMN … SET NOT NULL` on an existing table.

use super::{report, sql_table, Change};
use crate::rules::{ident, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "breaking-set-not-null",
    category: "compatibility",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "SET NOT NULL on a column of an existing table",
    why: "Inserts from the running application that leave the column out now fail; and SET NOT \
          NULL scans the whole table under an ACCESS EXCLUSIVE lock, blocking reads and writes, \
          unless a validated CHECK (col IS NOT NULL) constraint already proves it. The seed makes \
          a column required only in phase 3, after the code always writes it and the data is \
          backfilled.",
    fix: "Add CHECK (col IS NOT NULL) NOT VALID, backfill, VALIDATE CONSTRAINT, then SET NOT NULL.",
    bad: "ALTER TABLE users ALTER COLUMN new_email SET NOT NULL;",
    good: "ALTER TABLE users ADD CONSTRAINT users_new_email_not_null CHECK (new_email IS NOT NULL) NOT VALID;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    report(cx, &INFO, out, |at, table, change| {
        let Change::SetNotNull { column } = change else {
            return None;
        };
        // The sequence this rule recommends: a validated CHECK (col IS NOT NULL), here or in an
        // earlier file, already proves it — no scan, nothing changes for the application.
        let pos = crate::rules::facts::Pos {
            file: cx.file_index,
            stmt: at,
        };
        if cx.set.facts.not_null_proven(table, column, pos) {
            return None;
        }
        let t = sql_table(table);
        let c = ident(column);
        let bare = table.rsplit('.').next().unwrap_or(table);
        let k = ident(&format!("{bare}_{column}_not_null"));
        Some((
            format!("SET NOT NULL on {table}.{column} fails inserts of the running application that omit it, and scans the table under an exclusive lock"),
            [
                format!("deploy code that always writes {c}; `ALTER TABLE {t} ADD CONSTRAINT {k} CHECK ({c} IS NOT NULL) NOT VALID;`"),
                format!("backfill: `UPDATE {t} SET {c} = <value> WHERE {c} IS NULL;` (in batches), in its own migration"),
                format!("`ALTER TABLE {t} VALIDATE CONSTRAINT {k};` (no exclusive lock)"),
                format!("`ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;` (PostgreSQL 12+ uses the validated check and skips the scan), then `ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {k};`"),
            ],
        ))
    });
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_set_not_null() {
        let sql = "ALTER TABLE users ALTER COLUMN new_email SET NOT NULL;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_after_a_validated_check_as_its_help_recommends() {
        let phases = "ALTER TABLE public.orders ADD CONSTRAINT orders_region_not_null CHECK (region IS NOT NULL) NOT VALID;\n\
                      ALTER TABLE public.orders VALIDATE CONSTRAINT orders_region_not_null;\n";
        let set_not_null = "ALTER TABLE public.orders ALTER COLUMN region SET NOT NULL;\n";
        // Same file.
        assert!(lint(&format!("{phases}{set_not_null}"), ID).is_empty());
        // Earlier files.
        assert!(lint_set(
            &[("1_check.sql", phases), ("2_not_null.sql", set_not_null)],
            ID
        )
        .is_empty());
        // A CHECK added valid at once proves it too.
        assert!(lint(
            "ALTER TABLE orders ADD CONSTRAINT k CHECK (region IS NOT NULL);\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;\n",
            ID
        )
        .is_empty());
        // NOT VALID alone does not; nor a check on another column, nor one dropped since.
        assert_eq!(
            lint(&format!("ALTER TABLE public.orders ADD CONSTRAINT k CHECK (region IS NOT NULL) NOT VALID;\n{set_not_null}"), ID).len(),
            1
        );
        assert_eq!(
            lint(&format!("ALTER TABLE public.orders ADD CONSTRAINT k CHECK (city IS NOT NULL);\n{set_not_null}"), ID).len(),
            1
        );
        assert_eq!(
            lint(&format!("{phases}ALTER TABLE public.orders DROP CONSTRAINT orders_region_not_null;\n{set_not_null}"), ID).len(),
            1
        );
    }

    #[test]
    fn passes_new_tables() {
        assert!(lint(
            "CREATE TABLE u (e text);\nALTER TABLE u ALTER COLUMN e SET NOT NULL;\n",
            ID
        )
        .is_empty());
    }
}
