//! `policy-exists-rls-disabled`: policies on a table whose row-level security is off.

use pg_query::NodeEnum;

use super::{ast, relation_name, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

/// Why a finding is only a warning when the set switches RLS in dynamic SQL.
const DYNAMIC: &str = "the set also changes row-level security in dynamic SQL (a DO block or function), which lint cannot follow; `strata lint --schema` checks the built database exactly";

pub const INFO: RuleInfo = RuleInfo {
    id: "policy-exists-rls-disabled",
    category: "rls",
    kind: RuleKind::Both,
    default_level: Level::Error,
    summary: "Policy on a table whose row-level security is disabled",
    why: "Policies do nothing until row-level security is enabled on their table: the table is \
          open to every role with privileges on it, while the policies suggest it is protected. \
          Usually the ENABLE ROW LEVEL SECURITY was forgotten, or lost when the table was \
          re-created. Statically, a policy on a table the migrations create and never enable RLS \
          on is flagged; on a database, every table with policies and RLS off.",
    fix: "ALTER TABLE t ENABLE ROW LEVEL SECURITY; (and FORCE).",
    bad: "CREATE TABLE public.notes (id int, user_id uuid);\nCREATE POLICY own ON public.notes USING ((select auth.uid()) = user_id);",
    good: "CREATE TABLE public.notes (id int, user_id uuid);\nALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;\nCREATE POLICY own ON public.notes USING ((select auth.uid()) = user_id);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let facts = &cx.set.facts;
    for (_, st, node) in cx.statements() {
        let NodeEnum::CreatePolicyStmt(p) = node else {
            continue;
        };
        let Some(rv) = &p.table else { continue };
        let table = relation_name(rv);
        if !facts.tables.contains_key(&table) || facts.rls.get(&table).is_some_and(|r| r.enabled) {
            continue;
        }
        let finding = cx.finding(
            &INFO,
            ast::first_line(&cx.file.text, st),
            format!(
                "policy \"{}\" is on {table}, whose row-level security the migrations never enable: the policy has no effect",
                p.policy_name
            ),
            Some(format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n  ALTER TABLE {table} FORCE ROW LEVEL SECURITY;"
            )),
        );
        out.push(if facts.dynamic_rls {
            Cx::uncertain(finding, DYNAMIC)
        } else {
            finding
        });
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_policy_on_table_without_rls() {
        let sql = "CREATE TABLE private.notes (id int, user_id uuid);\nCREATE POLICY own ON private.notes USING ((select auth.uid()) = user_id);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn enabled_table_or_platform_table_passes() {
        assert!(lint(
            "CREATE TABLE n (id int);\nCREATE POLICY p ON n USING (true);\nALTER TABLE n ENABLE ROW LEVEL SECURITY;",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE POLICY p ON storage.objects FOR SELECT USING (bucket_id = 'x');",
            INFO.id
        )
        .is_empty());
    }
}
