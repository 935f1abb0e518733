//! `rls-not-forced`: row-level security enabled but not forced.

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "rls-not-forced",
    category: "rls",
    kind: RuleKind::Both,
    default_level: Level::Warning,
    summary: "Row-level security enabled without FORCE ROW LEVEL SECURITY",
    why: "ENABLE ROW LEVEL SECURITY does not apply to the table's owner: views (which run as \
          their owner unless security_invoker is set), SECURITY DEFINER functions and anything \
          else running as the owning role see and change every row. FORCE ROW LEVEL SECURITY \
          applies the policies to the owner too, as the seed's migrations do for every table; \
          only roles with BYPASSRLS (service_role, superusers) still bypass them.",
    fix: "Add ALTER TABLE t FORCE ROW LEVEL SECURITY; after the ENABLE (a function that must \
          bypass the policies then needs an owner with BYPASSRLS, and says so).",
    bad: "ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;",
    good: "ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;\nALTER TABLE public.notes FORCE ROW LEVEL SECURITY;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (st, table) in cx.rls_enables() {
        let rls = cx.set.facts.rls.get(&table).copied().unwrap_or_default();
        if !rls.enabled || rls.forced {
            continue;
        }
        out.push(cx.finding(
            &INFO,
            ast::first_line(&cx.file.text, st),
            format!(
                "row-level security on {table} is enabled but never forced: its owner (and views and SECURITY DEFINER functions it owns) bypass every policy"
            ),
            Some(format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY;")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_enable_without_force() {
        let sql = "ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn forced_anywhere_in_the_set_passes() {
        assert!(lint_set(
            &[
                ("1_a.sql", "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;"),
                (
                    "2_b.sql",
                    "ALTER TABLE public.notes FORCE ROW LEVEL SECURITY;"
                )
            ],
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "ALTER TABLE n ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;",
            INFO.id
        )
        .is_empty());
    }
}
