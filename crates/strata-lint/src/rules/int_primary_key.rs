//! `int-primary-key`: a primary key of type `integer` or `smallint`.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "int-primary-key",
    category: "types",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "Primary key of type integer/smallint (serial) instead of bigint or uuid",
    why: "An integer key runs out at 2,147,483,647 (smallint at 32,767); when it does, inserts \
          fail, and widening the column then rewrites the table and every referencing table \
          under ACCESS EXCLUSIVE locks, at the moment the table is largest. bigint costs 4 more \
          bytes per row and will not run out; uuid suits keys made by clients or across \
          databases.",
    fix: "Use bigint GENERATED ALWAYS AS IDENTITY (or uuid DEFAULT gen_random_uuid()).",
    bad: "CREATE TABLE public.orders (id serial PRIMARY KEY);",
    good: "CREATE TABLE public.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

const SMALL: &[&str] = &[
    "int4",
    "int",
    "integer",
    "int2",
    "smallint",
    "serial",
    "serial4",
    "smallserial",
    "serial2",
];

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let text = &cx.file.text;
    for (_, st, node) in cx.statements() {
        // Single-column primary keys written as a table constraint: PRIMARY KEY (id).
        let table_keys: Vec<String> = match node {
            NodeEnum::CreateStmt(c) => c
                .table_elts
                .iter()
                .chain(&c.constraints)
                .filter_map(ast::constraint)
                .filter(|k| k.contype() == ConstrType::ConstrPrimary && k.keys.len() == 1)
                .flat_map(|k| ast::strings(&k.keys))
                .collect(),
            _ => Vec::new(),
        };
        for (table, col) in ast::typed_columns(node) {
            let Some(t) = &col.type_name else { continue };
            let ty = ast::type_name(t);
            if !SMALL.contains(&ty.as_str()) || ast::is_array(t) {
                continue;
            }
            let primary = ast::column_constraints(col, ConstrType::ConstrPrimary)
                .next()
                .is_some()
                || table_keys.contains(&col.colname);
            if !primary {
                continue;
            }
            let range = ast::ident_at(text, st, t.location);
            let written = ast::snippet(text, range.clone()).to_string();
            out.push(cx.finding(
                &INFO,
                range,
                format!(
                    "primary key {}.{} is {written}: it runs out at {}",
                    table,
                    col.colname,
                    if ty.contains('2') || ty.starts_with("small") {
                        "32,767"
                    } else {
                        "2,147,483,647"
                    }
                ),
                Some(format!(
                    "declare {} as bigint GENERATED ALWAYS AS IDENTITY (or uuid DEFAULT gen_random_uuid())",
                    col.colname
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
    fn flags_integer_primary_keys() {
        let sql = "CREATE TABLE public.orders (id serial PRIMARY KEY, total numeric);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint("CREATE TABLE t (n smallint, PRIMARY KEY (n));", INFO.id).len(),
            1
        );
    }

    #[test]
    fn bigint_uuid_and_composite_keys_pass() {
        assert!(lint(
            "CREATE TABLE a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\nCREATE TABLE b (id uuid PRIMARY KEY, n int);\nCREATE TABLE c (x int, y int, PRIMARY KEY (x, y));",
            INFO.id
        )
        .is_empty());
    }
}
