//! `rls-enabled-no-policy`: row-level security enabled on a table that has no policy.

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "rls-enabled-no-policy",
    category: "rls",
    kind: RuleKind::Both,
    default_level: Level::Info,
    summary: "Row-level security enabled on a table with no policy",
    why: "With RLS on and no policy, every query of the API roles sees no rows and every write \
          fails: only the owner (unless forced) and BYPASSRLS roles such as service_role can use \
          the table. That is right for a server-only table, and a bug for a table the \
          application reads: the queries return nothing, without an error.",
    fix: "Add the policies the application needs, or, for a table only the server uses, ignore \
          this finding with that reason.",
    bad: "ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;",
    good: "ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;\nCREATE POLICY notes_select ON public.notes FOR SELECT TO authenticated\n  USING ((select auth.uid()) = user_id);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let facts = &cx.set.facts;
    for (st, table) in cx.rls_enables() {
        if !facts.rls.get(&table).is_some_and(|r| r.enabled)
            || facts.policies_on(&table).any(|p| p.dropped.is_none())
        {
            continue;
        }
        out.push(cx.finding(
            &INFO,
            ast::first_line(&cx.file.text, st),
            format!(
                "{table} has row-level security enabled and no policy: the API roles can neither read nor write it"
            ),
            Some(format!(
                "add policies (CREATE POLICY … ON {table} …), or ignore this finding if only the server uses {table}"
            )),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_table_without_policies() {
        let sql = "CREATE TABLE public.notes (id int);\nALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn a_policy_anywhere_in_the_set_passes() {
        assert!(lint_set(
            &[
                ("1_a.sql", "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;"),
                (
                    "2_b.sql",
                    "CREATE POLICY p ON public.notes FOR SELECT USING (true);"
                )
            ],
            INFO.id
        )
        .is_empty());
    }
}
