//! `policy-user-metadata`: a policy that trusts `user_metadata`, which users can edit.

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "policy-user-metadata",
    category: "rls",
    kind: RuleKind::Both,
    default_level: Level::Error,
    summary: "Policy that trusts user_metadata (editable by the user)",
    why: "On Supabase, user_metadata (auth.users.raw_user_meta_data, the JWT's user_metadata \
          claim) is set by the user: any signed-in user can call auth.updateUser({ data: { role: \
          'admin' } }). A policy that grants access based on it lets users grant themselves that \
          access. app_metadata (raw_app_meta_data) can only be changed with the service key.",
    fix: "Read roles and permissions from app_metadata, or from a table the user cannot write.",
    bad: "CREATE POLICY admins ON public.reports FOR SELECT\n  USING ((select auth.jwt()) -> 'user_metadata' ->> 'role' = 'admin');",
    good: "CREATE POLICY admins ON public.reports FOR SELECT\n  USING ((select auth.jwt()) -> 'app_metadata' ->> 'role' = 'admin');",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

/// How user-editable metadata is spelled: the JWT claim and the auth.users column.
pub const USER_METADATA: &[&str] = &["user_metadata", "raw_user_meta_data"];

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, node) in cx.statements() {
        // Both spellings contain "user_meta", and a name or string must be written out.
        if !ast::text_contains(&cx.file.text, st, "user_meta") {
            continue;
        }
        let Some(p) = ast::policy(node) else { continue };
        for (clause, expr) in &p.exprs {
            if !ast::mentions(expr, USER_METADATA) {
                continue;
            }
            out.push(cx.finding(
                &INFO,
                ast::first_line(&cx.file.text, st),
                format!(
                    "the {clause} of policy \"{}\" on {} reads user_metadata, which every user can change for themselves",
                    p.name, p.table
                ),
                Some("read it from app_metadata (raw_app_meta_data), or from a table the user cannot write".into()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_user_metadata_in_policies() {
        let sql = "CREATE POLICY admins ON public.reports FOR SELECT\n  USING ((select auth.jwt()) -> 'user_metadata' ->> 'role' = 'admin');\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint(
                "CREATE POLICY p ON t USING (EXISTS (SELECT 1 FROM auth.users u WHERE u.id = (select auth.uid()) AND u.raw_user_meta_data ->> 'admin' = 'yes'));",
                INFO.id
            )
            .len(),
            1
        );
    }

    #[test]
    fn app_metadata_passes() {
        assert!(lint(
            "CREATE POLICY admins ON r USING ((select auth.jwt()) -> 'app_metadata' ->> 'role' = 'admin');",
            INFO.id
        )
        .is_empty());
    }
}
