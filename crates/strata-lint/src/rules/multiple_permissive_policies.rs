//! `multiple-permissive-policies`: several permissive policies for the same table, role and
//! command.

use pg_query::NodeEnum;

use super::facts::Pos;
use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "multiple-permissive-policies",
    category: "rls",
    kind: RuleKind::Both,
    default_level: Level::Warning,
    summary: "Several permissive policies for the same table, role and command",
    why: "PostgreSQL evaluates every permissive policy that applies to a query and ORs the \
          results: two SELECT policies for authenticated on one table cost two evaluations per \
          row, on every query (Supabase's multiple_permissive_policies advisor). They are also \
          easy to misread: a row hidden by one policy is shown by the other. One policy with \
          the conditions joined by OR says the same thing once.",
    fix: "Merge the policies into one per role and command (USING (a) OR (b)), or make the \
          additional ones AS RESTRICTIVE when they are meant to narrow access.",
    bad: "CREATE POLICY own ON public.notes FOR SELECT TO authenticated USING ((select auth.uid()) = user_id);\nCREATE POLICY shared ON public.notes FOR SELECT TO authenticated USING (is_shared);",
    good: "CREATE POLICY visible ON public.notes FOR SELECT TO authenticated\n  USING ((select auth.uid()) = user_id OR is_shared);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let facts = &cx.set.facts;
    for (i, st, node) in cx.statements() {
        if !matches!(node, NodeEnum::CreatePolicyStmt(_)) {
            continue;
        }
        let here = Pos {
            file: cx.file_index,
            stmt: i,
        };
        let Some(new) = facts.policy_created_at(here) else {
            continue;
        };
        if !new.permissive || new.dropped.is_some() {
            continue;
        }
        let mut overlaps = Vec::new();
        for old in facts
            .policies_on(&new.table)
            .filter(|p| p.permissive && p.live_at(here) && p.dropped.is_none())
        {
            let cmds: Vec<&str> = new
                .commands()
                .into_iter()
                .filter(|c| old.commands().contains(c))
                .collect();
            let roles: Vec<&str> = new
                .roles
                .iter()
                .filter(|r| old.roles.contains(r) || old.roles.iter().any(|o| o == "public"))
                .chain(
                    new.roles
                        .iter()
                        .any(|r| r == "public")
                        .then_some(&old.roles)
                        .into_iter()
                        .flatten(),
                )
                .map(String::as_str)
                .collect();
            if cmds.is_empty() || roles.is_empty() {
                continue;
            }
            let mut roles = roles;
            roles.sort_unstable();
            roles.dedup();
            overlaps.push(format!(
                "\"{}\" ({} for {})",
                old.name,
                cmds.join("/").to_uppercase(),
                roles.join(", ")
            ));
        }
        if overlaps.is_empty() {
            continue;
        }
        out.push(cx.finding(
            &INFO,
            ast::first_line(&cx.file.text, st),
            format!(
                "permissive policy \"{}\" on {} applies to the same role and command as {}: both are evaluated for every row",
                new.name,
                new.table,
                overlaps.join(", ")
            ),
            Some("merge them into one policy (conditions joined with OR), or make this one AS RESTRICTIVE if it is meant to narrow access".into()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_overlapping_permissive_policies() {
        let sql = "CREATE POLICY own ON public.notes FOR SELECT TO authenticated USING ((select auth.uid()) = user_id);\nCREATE POLICY shared ON public.notes FOR ALL USING (is_shared);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn different_commands_roles_restrictive_or_replaced_pass() {
        assert!(lint(
            "CREATE POLICY a ON t FOR SELECT TO authenticated USING (x);\nCREATE POLICY b ON t FOR INSERT TO authenticated WITH CHECK (x);\nCREATE POLICY c ON t FOR SELECT TO anon USING (y);\nCREATE POLICY d ON t AS RESTRICTIVE FOR SELECT TO authenticated USING (z);",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE POLICY a ON t FOR SELECT USING (x);\nDROP POLICY IF EXISTS a ON t;\nCREATE POLICY a ON t FOR SELECT USING (y);",
            INFO.id
        )
        .is_empty());
    }
}
