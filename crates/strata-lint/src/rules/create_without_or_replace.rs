//! `create-without-or-replace`: `CREATE FUNCTION/PROCEDURE/VIEW` that fails when it exists.

use pg_query::NodeEnum;

use super::{relation_name, strings, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "create-without-or-replace",
    category: "idempotency",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "CREATE FUNCTION/PROCEDURE/VIEW without OR REPLACE",
    why: "The seed's idempotency rule: use CREATE OR REPLACE for functions (and views) so the \
          migration can run again, and so a later migration can redefine them the same way.",
    fix: "Write CREATE OR REPLACE FUNCTION / CREATE OR REPLACE VIEW.",
    bad: "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
    good: "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, node) in cx.statements() {
        let (what, name) = match node {
            NodeEnum::CreateFunctionStmt(f) if !f.replace => (
                if f.is_procedure {
                    "PROCEDURE"
                } else {
                    "FUNCTION"
                },
                strings(&f.funcname).join("."),
            ),
            NodeEnum::ViewStmt(v) if !v.replace => (
                "VIEW",
                v.view.as_ref().map(relation_name).unwrap_or_default(),
            ),
            _ => continue,
        };
        out.push(cx.finding(
            &INFO,
            super::ast::first_line(&cx.file.text, st),
            format!("CREATE {what} {name} fails if it already exists"),
            Some(format!("write CREATE OR REPLACE {what} {name} …")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_function_and_view_without_or_replace() {
        let sql = "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'select 1';\n\
                   CREATE VIEW v AS SELECT 1;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 2);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_or_replace() {
        let sql = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';\n\
                   CREATE OR REPLACE VIEW v AS SELECT 1;\n";
        assert!(lint(sql, ID).is_empty());
    }
}
