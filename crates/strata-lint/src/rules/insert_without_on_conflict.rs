//! `insert-without-on-conflict`: setup rows inserted with `VALUES` and no `ON CONFLICT`.

use pg_query::NodeEnum;

use super::{head, relation_name, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "insert-without-on-conflict",
    category: "idempotency",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "INSERT … VALUES of setup rows without ON CONFLICT",
    why: "Setup rows (a storage bucket, a configuration row, lookup values) inserted by a \
          migration fail on a unique key, or are silently duplicated, when the migration runs \
          again. The seed's storage example inserts its bucket with ON CONFLICT DO NOTHING. \
          INSERT … SELECT (a data migration) is not checked: it usually carries its own WHERE \
          NOT EXISTS.",
    fix: "Add ON CONFLICT (key) DO NOTHING, or ON CONFLICT (key) DO UPDATE SET … to keep the \
          row current.",
    bad: "INSERT INTO storage.buckets (id, name) VALUES ('images', 'images');",
    good: "INSERT INTO storage.buckets (id, name) VALUES ('images', 'images') ON CONFLICT (id) DO NOTHING;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, node) in cx.statements() {
        let NodeEnum::InsertStmt(i) = node else {
            continue;
        };
        if i.on_conflict_clause.is_some() {
            continue;
        }
        let values = matches!(
            i.select_stmt.as_deref().and_then(|s| s.node.as_ref()),
            Some(NodeEnum::SelectStmt(s)) if !s.values_lists.is_empty()
        );
        let Some(rv) = &i.relation else { continue };
        if !values {
            continue;
        }
        let table = relation_name(rv);
        out.push(cx.finding(
            &INFO,
            head(st, &cx.file.text, rv.location, rv.relname.len()),
            format!("INSERT INTO {table} without ON CONFLICT duplicates or fails when the migration runs again"),
            Some(format!("add ON CONFLICT (<key of {table}>) DO NOTHING (or DO UPDATE SET …)")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_values_insert_without_on_conflict() {
        let sql = "INSERT INTO storage.buckets (id, name)\nVALUES ('images', 'images');\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_on_conflict_and_insert_select() {
        let sql = "INSERT INTO storage.buckets (id, name) VALUES ('a', 'a') ON CONFLICT (id) DO NOTHING;\n\
                   INSERT INTO t (a) SELECT a FROM s WHERE NOT EXISTS (SELECT 1 FROM t);\n";
        assert!(lint(sql, ID).is_empty());
    }
}
