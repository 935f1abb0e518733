//! `view-without-security-invoker`: a view in an exposed schema that runs with its owner's
//! rights, bypassing the row-level security of the tables it reads.

use pg_query::NodeEnum;

use super::{ast, relation_name, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "view-without-security-invoker",
    category: "security",
    kind: RuleKind::Both,
    default_level: Level::Error,
    summary: "View in an exposed schema without security_invoker = true",
    why: "A view reads its tables with the privileges of the view's owner, not of the user \
          querying it; when the owner is the migrating role (postgres), the row-level security \
          of those tables does not apply, and the view serves every row to every API user \
          (Supabase's security_definer_view advisor). Since PostgreSQL 15, WITH \
          (security_invoker = true) makes the view check its tables as the querying user. \
          Statically every view in an exposed schema is flagged unless the option is set; on a \
          database, views that read a table with RLS enabled.",
    fix: "CREATE VIEW v WITH (security_invoker = true) AS …; or ALTER VIEW v SET \
          (security_invoker = true); on PostgreSQL 14 and older, move the view out of the \
          exposed schemas.",
    bad: "CREATE VIEW public.my_chats AS SELECT id, title FROM public.encrypted_chats;",
    good: "CREATE VIEW public.my_chats WITH (security_invoker = true) AS\n  SELECT id, title FROM public.encrypted_chats;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let facts = &cx.set.facts;
    for (_, st, node) in cx.statements() {
        let NodeEnum::ViewStmt(v) = node else {
            continue;
        };
        let Some(rv) = &v.view else { continue };
        let view = relation_name(rv);
        if rv.relpersistence == "t"
            || !facts.is_exposed(&view)
            || ast::option_true(&v.options, "security_invoker") == Some(true)
            || facts.invoker_views.contains(&view)
        {
            continue;
        }
        out.push(cx.finding(
            &INFO,
            ast::ident_at(&cx.file.text, st, rv.location),
            format!(
                "view {view} runs with its owner's privileges: the row-level security of the tables it reads does not apply to API users querying it"
            ),
            Some(format!(
                "CREATE VIEW {view} WITH (security_invoker = true) AS …; (or ALTER VIEW {view} SET (security_invoker = true);)"
            )),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_definer_view_in_public() {
        let sql = "CREATE VIEW public.my_chats AS SELECT id, title FROM public.encrypted_chats;\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn invoker_views_and_private_schemas_pass() {
        assert!(lint(
            "CREATE OR REPLACE VIEW v WITH (security_invoker = true) AS SELECT 1;",
            INFO.id
        )
        .is_empty());
        assert!(lint_set(
            &[
                ("1_a.sql", "CREATE VIEW v AS SELECT 1;"),
                (
                    "2_b.sql",
                    "ALTER VIEW public.v SET (security_invoker = on);"
                )
            ],
            INFO.id
        )
        .is_empty());
        assert!(lint("CREATE VIEW private.v AS SELECT 1;", INFO.id).is_empty());
    }
}
