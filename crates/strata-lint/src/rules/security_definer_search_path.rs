//! `security-definer-search-path`: a `SECURITY DEFINER` function without a fixed `search_path`.

use pg_query::protobuf;
use pg_query::NodeEnum;

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "security-definer-search-path",
    category: "security",
    kind: RuleKind::Both,
    default_level: Level::Error,
    summary: "SECURITY DEFINER function without SET search_path",
    why: "A SECURITY DEFINER function runs with its owner's privileges but resolves unqualified \
          names through the caller's search_path. A caller who can create objects in any \
          schema on that path (public, often) can put a table, function or operator there that \
          the function then uses with the owner's rights: privilege escalation. PostgreSQL's \
          documentation requires a fixed search_path for such functions (Supabase's \
          function_search_path_mutable advisor).",
    fix: "Add SET search_path = '' to the function and qualify every name in its body \
          (public.profiles, pg_catalog.now()), or at least SET search_path = pg_catalog, public.",
    bad: "CREATE FUNCTION public.add_credits(n int) RETURNS void\nLANGUAGE sql SECURITY DEFINER\nAS $$ UPDATE profiles SET credits = credits + n $$;",
    good: "CREATE FUNCTION public.add_credits(n int) RETURNS void\nLANGUAGE sql SECURITY DEFINER SET search_path = ''\nAS $$ UPDATE public.profiles SET credits = credits + n $$;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

fn has_option(f: &protobuf::CreateFunctionStmt, pred: impl Fn(&protobuf::DefElem) -> bool) -> bool {
    f.options.iter().any(|o| match &o.node {
        Some(NodeEnum::DefElem(d)) => pred(d),
        _ => false,
    })
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, node) in cx.statements() {
        let NodeEnum::CreateFunctionStmt(f) = node else {
            continue;
        };
        let definer = has_option(f, |d| {
            d.defname == "security"
                && matches!(d.arg.as_deref().and_then(|a| a.node.as_ref()), Some(NodeEnum::Boolean(b)) if b.boolval)
        });
        let pinned = has_option(f, |d| {
            d.defname == "set"
                && matches!(d.arg.as_deref().and_then(|a| a.node.as_ref()), Some(NodeEnum::VariableSetStmt(v)) if v.name.eq_ignore_ascii_case("search_path"))
        });
        if !definer || pinned {
            continue;
        }
        let name = ast::qualified(&ast::strings(&f.funcname));
        // Pinned afterwards: `ALTER FUNCTION name(…) SET search_path = …` in the set.
        if cx.set.facts.pinned_functions.contains(&name) {
            continue;
        }
        let what = if f.is_procedure {
            "procedure"
        } else {
            "function"
        };
        out.push(cx.finding(
            &INFO,
            ast::first_line(&cx.file.text, st),
            format!(
                "SECURITY DEFINER {what} {name} has no fixed search_path: a caller's search_path can redirect the names it uses, with its owner's privileges"
            ),
            Some("add SET search_path = '' and qualify every name in the body (public.t, pg_catalog.now())".into()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn a_search_path_pinned_by_alter_function_passes() {
        let create = "CREATE OR REPLACE FUNCTION public.add_credits(n int) RETURNS void\nLANGUAGE sql SECURITY DEFINER\nAS $$ UPDATE public.profiles SET credits = credits + n $$;\n";
        let pin = "ALTER FUNCTION public.add_credits(int) SET search_path = '';\n";
        assert!(lint(&format!("{create}{pin}"), INFO.id).is_empty());
        assert!(lint_set(&[("1_f.sql", create), ("2_pin.sql", pin)], INFO.id).is_empty());
        let other = "ALTER FUNCTION public.other(int) SET search_path = '';\n";
        assert_eq!(lint(&format!("{create}{other}"), INFO.id).len(), 1);
    }

    #[test]
    fn flags_definer_without_search_path() {
        let sql = "CREATE OR REPLACE FUNCTION public.add_credits(n int) RETURNS void\nLANGUAGE sql SECURITY DEFINER\nAS $$ UPDATE profiles SET credits = credits + n $$;\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn pinned_or_invoker_functions_pass() {
        assert!(lint(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$ select 1 $$;",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path TO pg_catalog, public SECURITY DEFINER AS $$ select 1 $$;",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ select 1 $$;",
            INFO.id
        )
        .is_empty());
    }
}
