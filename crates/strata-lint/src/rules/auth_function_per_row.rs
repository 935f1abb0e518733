//! `auth-function-per-row`: `auth.uid()`, `auth.jwt()`, `auth.role()` or `current_setting()`
//! called directly in a policy, once per row.

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "auth-function-per-row",
    category: "rls",
    kind: RuleKind::Both,
    default_level: Level::Warning,
    summary: "auth.uid()/auth.jwt()/current_setting() in a policy evaluated for every row",
    why: "A function call in a policy's USING or WITH CHECK is evaluated for each row the query \
          touches; auth.uid() and its kin read and parse the request's JWT settings each time. \
          Written as a sub-select, (select auth.uid()), PostgreSQL evaluates it once per \
          statement (an InitPlan) and compares a constant: on large tables the difference is \
          orders of magnitude (Supabase's auth_rls_initplan advisor). The result is the same, \
          since the value cannot change during a statement.",
    fix: "Wrap the call: (select auth.uid()) = user_id.",
    bad: "CREATE POLICY own ON public.notes FOR SELECT USING (auth.uid() = user_id);",
    good: "CREATE POLICY own ON public.notes FOR SELECT USING ((select auth.uid()) = user_id);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

/// The functions whose value is fixed for a statement but that PostgreSQL calls per row.
pub const PER_REQUEST: &[&str] = &[
    "auth.uid",
    "auth.jwt",
    "auth.role",
    "auth.email",
    "current_setting",
    "pg_catalog.current_setting",
];

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let text = &cx.file.text;
    for (_, st, node) in cx.statements() {
        if !ast::text_contains(text, st, "auth") && !ast::text_contains(text, st, "current_setting")
        {
            continue;
        }
        let Some(p) = ast::policy(node) else { continue };
        for (clause, expr) in &p.exprs {
            for call in ast::calls(expr) {
                if call.in_subselect || !PER_REQUEST.contains(&call.name.as_str()) {
                    continue;
                }
                let range = ast::call_at(text, st, call.location);
                let written = ast::snippet(text, range.clone()).to_string();
                out.push(cx.finding(
                    &INFO,
                    range,
                    format!(
                        "{written} in the {clause} of policy \"{}\" on {} is evaluated once per row",
                        p.name, p.table
                    ),
                    Some(format!("write (select {written}) to evaluate it once per statement")),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_direct_calls() {
        let sql = "CREATE POLICY own ON public.notes FOR UPDATE\n  USING (auth.uid() = user_id)\n  WITH CHECK (current_setting('app.tenant')::uuid = tenant_id);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 2);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint(
                "ALTER POLICY p ON t USING ((auth.jwt() ->> 'role') = 'admin');",
                INFO.id
            )
            .len(),
            1
        );
    }

    #[test]
    fn sub_selects_pass() {
        assert!(lint(
            "CREATE POLICY own ON notes USING ((select auth.uid()) = user_id AND tenant_id = (SELECT current_setting('app.tenant')::uuid));",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE POLICY p ON t USING (EXISTS (SELECT 1 FROM members m WHERE m.user_id = auth.uid()));",
            INFO.id
        )
        .is_empty());
    }
}
