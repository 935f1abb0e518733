//! `missing-lock-timeout`: a file that takes strong locks on existing tables with no
//! `lock_timeout` set before it.

use pg_query::protobuf::{AlterTableType, ObjectType};
use pg_query::NodeEnum;

use super::{ast, relation_name, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "missing-lock-timeout",
    category: "locking",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "Strong lock on an existing table with no lock_timeout set",
    why: "A statement that needs an ACCESS EXCLUSIVE (or SHARE) lock waits for every query \
          running on the table, and every query that arrives after it waits behind it: a \
          migration stuck behind one long transaction stops all traffic to the table for as \
          long as it waits. With lock_timeout set, the migration gives up after a few seconds \
          instead, nothing is changed (the transaction rolls back) and it can be retried.",
    fix: "Put SET lock_timeout = '5s'; at the top of the file (SET LOCAL inside an explicit \
          BEGIN … COMMIT), or have Strata set it for every migration: strata push \
          --lock-timeout 5s, or lock_timeout = \"5s\" in strata.toml (then ignore this rule in \
          the [lint] configuration).",
    bad: "ALTER TABLE public.profiles ADD COLUMN bio text;",
    good: "SET lock_timeout = '5s';\nALTER TABLE public.profiles ADD COLUMN bio text;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

/// The existing table a statement takes a lock on that blocks reads or writes, and what the
/// statement is.
fn strong_lock(cx: &Cx<'_>, i: usize, node: &NodeEnum) -> Option<(String, &'static str)> {
    let existing = |t: String| (!cx.is_new_table(&t, i)).then_some(t);
    match node {
        NodeEnum::AlterTableStmt(a) if ast::is_table(a) => {
            let weak =
                ast::alter_cmds(a).all(|c| c.subtype() == AlterTableType::AtValidateConstraint);
            if weak {
                return None;
            }
            existing(relation_name(a.relation.as_ref()?)).map(|t| (t, "ALTER TABLE"))
        }
        NodeEnum::IndexStmt(s) if !s.concurrent => {
            existing(relation_name(s.relation.as_ref()?)).map(|t| (t, "CREATE INDEX"))
        }
        NodeEnum::CreateTrigStmt(s) => {
            existing(relation_name(s.relation.as_ref()?)).map(|t| (t, "CREATE TRIGGER"))
        }
        NodeEnum::CreatePolicyStmt(s) => {
            existing(relation_name(s.table.as_ref()?)).map(|t| (t, "CREATE POLICY"))
        }
        NodeEnum::AlterPolicyStmt(s) => {
            existing(relation_name(s.table.as_ref()?)).map(|t| (t, "ALTER POLICY"))
        }
        NodeEnum::RenameStmt(s) => {
            existing(relation_name(s.relation.as_ref()?)).map(|t| (t, "RENAME"))
        }
        NodeEnum::TruncateStmt(s) => s.relations.iter().find_map(|r| match &r.node {
            Some(NodeEnum::RangeVar(rv)) => existing(relation_name(rv)).map(|t| (t, "TRUNCATE")),
            _ => None,
        }),
        NodeEnum::DropStmt(d) => {
            let what = match d.remove_type() {
                ObjectType::ObjectTable => "DROP TABLE",
                ObjectType::ObjectIndex if !d.concurrent => "DROP INDEX",
                ObjectType::ObjectTrigger => "DROP TRIGGER",
                ObjectType::ObjectPolicy => "DROP POLICY",
                _ => return None,
            };
            d.objects.iter().find_map(|o| {
                let parts = match &o.node {
                    Some(NodeEnum::List(l)) => ast::strings(&l.items),
                    _ => return None,
                };
                let table = match d.remove_type() {
                    ObjectType::ObjectTable => ast::qualified(&parts),
                    ObjectType::ObjectIndex => cx
                        .set
                        .facts
                        .index_table(&parts)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("the table of index {}", parts.join("."))),
                    _ => ast::qualified(&parts[..parts.len().saturating_sub(1)]),
                };
                existing(table).map(|t| (t, what))
            })
        }
        _ => None,
    }
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (i, st, node) in cx.statements() {
        if let Some((name, zero)) = ast::set_variable(node) {
            if name.eq_ignore_ascii_case("lock_timeout") && !zero {
                return;
            }
            continue;
        }
        if let Some((table, what)) = strong_lock(cx, i, node) {
            out.push(cx.finding(
                &INFO,
                ast::first_line(&cx.file.text, st),
                format!(
                    "{what} locks {table}, which exists before this migration, and no lock_timeout is set before it in this file: if the lock has to wait, all traffic to the table waits behind it"
                ),
                Some(
                    "add SET lock_timeout = '5s'; at the top of the file, or set it for every migration with strata push --lock-timeout 5s / lock_timeout in strata.toml (and turn this rule off in [lint])".into(),
                ),
            ));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_first_strong_lock_once_per_file() {
        let sql = "CREATE TABLE n (a int);\nCREATE INDEX i ON n (a);\nALTER TABLE public.profiles ADD COLUMN bio text;\nDROP TRIGGER x ON public.profiles;\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint(
                "SET lock_timeout = 0;\nCREATE POLICY p ON storage.objects USING (true);",
                INFO.id
            )
            .len(),
            1
        );
    }

    #[test]
    fn lock_timeout_set_before_or_new_tables_pass() {
        assert!(lint(
            "SET lock_timeout = '5s';\nALTER TABLE public.profiles ADD COLUMN bio text;",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "BEGIN;\nSET LOCAL lock_timeout TO '2s';\nDROP TABLE old;\nCOMMIT;",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE TABLE t (a int);\nALTER TABLE t ENABLE ROW LEVEL SECURITY;\nCREATE INDEX CONCURRENTLY i ON x (a);\nALTER TABLE x VALIDATE CONSTRAINT c;",
            INFO.id
        )
        .is_empty());
    }
}
