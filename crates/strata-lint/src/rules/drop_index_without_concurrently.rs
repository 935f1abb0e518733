//! `drop-index-without-concurrently`: `DROP INDEX` of an index on an existing table without
//! `CONCURRENTLY`.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "drop-index-without-concurrently",
    category: "locking",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "DROP INDEX on an existing table without CONCURRENTLY",
    why: "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself is \
          quick, but the lock request waits behind any running query on the table, and every \
          query that arrives meanwhile (reads included) waits behind it: one slow report can \
          stall the whole table. DROP INDEX CONCURRENTLY waits for those queries without \
          blocking others.",
    fix: "Write DROP INDEX CONCURRENTLY IF EXISTS (it cannot run inside a transaction: Strata \
          runs such a file statement by statement).",
    bad: "DROP INDEX idx_profiles_user_id;",
    good: "DROP INDEX CONCURRENTLY IF EXISTS idx_profiles_user_id;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (i, st, node) in cx.statements() {
        let NodeEnum::DropStmt(d) = node else {
            continue;
        };
        if d.remove_type() != ObjectType::ObjectIndex || d.concurrent {
            continue;
        }
        let names: Vec<Vec<String>> = d
            .objects
            .iter()
            .filter_map(|o| match &o.node {
                Some(NodeEnum::List(l)) => Some(ast::strings(&l.items)),
                _ => None,
            })
            .collect();
        let existing: Vec<String> = names
            .iter()
            .filter(|n| {
                cx.set
                    .facts
                    .index_table(n)
                    .is_none_or(|t| !cx.is_new_table(t, i))
            })
            .map(|n| n.join("."))
            .collect();
        if existing.is_empty() {
            continue;
        }
        let text = &cx.file.text;
        out.push(cx.finding(
            &INFO,
            ast::first_line(text, st),
            format!(
                "DROP INDEX {} without CONCURRENTLY locks its table against reads and writes while it waits",
                existing.join(", ")
            ),
            Some(format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {};",
                existing.join(", ")
            )),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_plain_drop_index() {
        let sql = "DROP INDEX IF EXISTS public.idx_profiles_user_id;\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn concurrently_or_index_of_new_table_passes() {
        assert!(lint("DROP INDEX CONCURRENTLY IF EXISTS i;", INFO.id).is_empty());
        assert!(lint(
            "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\nDROP INDEX i;",
            INFO.id
        )
        .is_empty());
    }
}
