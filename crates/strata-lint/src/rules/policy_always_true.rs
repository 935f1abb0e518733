//! `policy-always-true`: a write policy whose USING or WITH CHECK is always true.

use pg_query::protobuf::{self, a_const::Val, AExprKind};
use pg_query::NodeEnum;

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "policy-always-true",
    category: "rls",
    kind: RuleKind::Both,
    default_level: Level::Error,
    summary: "INSERT/UPDATE/DELETE/ALL policy whose USING or WITH CHECK is always true",
    why: "A write policy with USING (true) or WITH CHECK (true) (or 1 = 1) lets every role it \
          applies to change or delete every row, or insert rows owned by anyone: row-level \
          security is on, but does not restrict writes at all. A read policy that is always true \
          is how public data is shared and is not flagged; a write policy only for service_role \
          is not flagged either (service_role bypasses RLS anyway).",
    fix: "Restrict the policy to the rows the user owns, e.g. USING ((select auth.uid()) = \
          user_id) WITH CHECK ((select auth.uid()) = user_id), or to the roles that need it.",
    bad: "CREATE POLICY anyone_writes ON public.notes FOR UPDATE TO authenticated USING (true);",
    good: "CREATE POLICY own_writes ON public.notes FOR UPDATE TO authenticated\n  USING ((select auth.uid()) = user_id) WITH CHECK ((select auth.uid()) = user_id);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

/// Roles that bypass row-level security, for which a permissive policy changes nothing.
pub const BYPASS_ROLES: &[&str] = &["service_role", "postgres", "supabase_admin"];

/// Whether an expression is a constant true: `true`, `1 = 1`, `'a' = 'a'`.
pub fn always_true(expr: &protobuf::Node) -> bool {
    match &expr.node {
        Some(NodeEnum::AConst(c)) => matches!(&c.val, Some(Val::Boolval(b)) if b.boolval),
        Some(NodeEnum::TypeCast(t)) => t.arg.as_deref().is_some_and(always_true),
        Some(NodeEnum::AExpr(e)) => {
            e.kind() == AExprKind::AexprOp
                && ast::strings(&e.name) == ["="]
                && matches!(
                    (e.lexpr.as_deref(), e.rexpr.as_deref()),
                    (Some(l), Some(r)) if matches!(l.node, Some(NodeEnum::AConst(_)))
                        && ast::canonical(l) == ast::canonical(r)
                )
        }
        _ => false,
    }
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let text = &cx.file.text;
    for (_, st, node) in cx.statements() {
        let Some(p) = ast::policy(node) else { continue };
        let cmd = match &p.cmd {
            Some(c) if c == "select" => continue,
            Some(c) => c.to_uppercase(),
            // ALTER POLICY keeps the command; judge by the expressions alone.
            None => "write".into(),
        };
        if !p.roles.is_empty() && p.roles.iter().all(|r| BYPASS_ROLES.contains(&r.as_str())) {
            continue;
        }
        for (clause, expr) in &p.exprs {
            if !always_true(expr) {
                continue;
            }
            let loc = match &expr.node {
                Some(NodeEnum::AConst(c)) => c.location,
                Some(NodeEnum::AExpr(e)) => {
                    e.lexpr.as_deref().map_or(e.location, |l| match &l.node {
                        Some(NodeEnum::AConst(c)) => c.location,
                        _ => e.location,
                    })
                }
                _ => -1,
            };
            let range = if loc >= 0 {
                ast::ident_at(text, st, loc)
            } else {
                ast::first_line(text, st)
            };
            let roles = if p.roles.is_empty() {
                "public".to_string()
            } else {
                p.roles.join(", ")
            };
            out.push(cx.finding(
                &INFO,
                range,
                format!(
                    "{cmd} policy \"{}\" on {} has {clause} always true: every {roles} user can write every row",
                    p.name, p.table
                ),
                Some(format!(
                    "restrict {clause} to the user's own rows, e.g. ((select auth.uid()) = user_id)"
                )),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_always_true_write_policies() {
        let sql = "CREATE POLICY anyone_writes ON public.notes FOR UPDATE TO authenticated USING (true);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint(
                "CREATE POLICY p ON t FOR INSERT WITH CHECK (1 = 1);",
                INFO.id
            )
            .len(),
            1
        );
        assert_eq!(
            lint("CREATE POLICY p ON t USING (true::boolean);", INFO.id).len(),
            1
        );
    }

    #[test]
    fn read_policies_service_role_and_real_conditions_pass() {
        assert!(lint("CREATE POLICY p ON t FOR SELECT USING (true);", INFO.id).is_empty());
        assert!(lint(
            "CREATE POLICY p ON t FOR ALL TO service_role USING (true);",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE POLICY p ON t FOR DELETE USING ((select auth.uid()) = user_id);",
            INFO.id
        )
        .is_empty());
        assert!(lint("CREATE POLICY p ON t FOR DELETE USING (1 = 2);", INFO.id).is_empty());
    }
}
