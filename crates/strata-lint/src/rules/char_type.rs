//! `char-type`: a column of type `char(n)` / `character(n)`.

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "char-type",
    category: "types",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "Column of type char(n)",
    why: "char(n) pads values with spaces to n characters, ignores trailing spaces when \
          comparing, keeps them when converting to text, and is no faster or smaller than text \
          in PostgreSQL (the PostgreSQL wiki's \"Don't do this\"). Codes that look fixed-length \
          grow, and the padding leaks into the application.",
    fix: "Use text (with a CHECK (char_length(col) = n) if the length matters) or varchar(n).",
    bad: "CREATE TABLE public.countries (code char(2) PRIMARY KEY);",
    good: "CREATE TABLE public.countries (code text PRIMARY KEY CHECK (char_length(code) = 2));",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let text = &cx.file.text;
    for (_, st, node) in cx.statements() {
        for (table, col) in ast::typed_columns(node) {
            let Some(t) = &col.type_name else { continue };
            if ast::type_name(t) != "bpchar" {
                continue;
            }
            out.push(cx.finding(
                &INFO,
                ast::call_at(text, st, t.location),
                format!(
                    "column {}.{} is char(n): values are blank-padded to the full length",
                    table, col.colname
                ),
                Some(format!(
                    "declare {} as text (add CHECK (char_length({}) = n) if the length matters)",
                    col.colname, col.colname
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
    fn flags_char_columns() {
        let sql = "CREATE TABLE public.countries (code char(2) PRIMARY KEY);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint("ALTER TABLE t ADD COLUMN c character(3);", INFO.id).len(),
            1
        );
    }

    #[test]
    fn text_varchar_and_internal_char_pass() {
        assert!(lint(
            "CREATE TABLE t (a text, b varchar(3), c \"char\", d character varying);",
            INFO.id
        )
        .is_empty());
    }
}
