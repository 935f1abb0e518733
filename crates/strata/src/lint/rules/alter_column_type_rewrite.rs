//! `alter-column-type-rewrite`: `ALTER COLUMN … TYPE` on an existing table (the lock and the
//! rewrite; the compatibility side is `alter-column-type`).

use pg_query::protobuf::AlterTableType;

use super::{ast, Cx};
use crate::lint::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "alter-column-type-rewrite",
    category: "locking",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "Column type change on an existing table (table rewrite under ACCESS EXCLUSIVE)",
    why: "ALTER COLUMN … TYPE takes an ACCESS EXCLUSIVE lock and, unless the old type converts \
          to the new one without looking at the data (varchar(n) to text or to a longer \
          varchar, numeric(p,s) to a wider precision), rewrites the whole table and rebuilds \
          every index on it: the table is unreadable and unwritable until that ends, minutes \
          on a large table.",
    fix: "Add a column of the new type, backfill it in batches, keep it in sync with a trigger, \
          switch the application to it, then drop the old column (the expand/contract plan of \
          `alter-column-type`). When the change is one of the binary-coercible ones, ignore \
          this finding with a reason.",
    bad: "ALTER TABLE public.profiles ALTER COLUMN credits TYPE numeric(12,4);",
    good: "ALTER TABLE public.profiles ADD COLUMN credits_v2 numeric(12,4);\n-- backfill in batches, switch the application, then drop credits",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, table, cmd) in cx.existing_table_alters() {
        if cmd.subtype() != AlterTableType::AtAlterColumnType {
            continue;
        }
        let text = &cx.file.text;
        let (range, ty) = match cmd.def.as_deref().and_then(ast::column_def) {
            Some(col) => match &col.type_name {
                Some(t) => {
                    let r = ast::ident_at(text, st, t.location);
                    // The type as written (`numeric(12,4)`): to a comma, semicolon or line
                    // end outside parentheses, without a USING clause.
                    let mut depth = 0i32;
                    let mut end = st.code.end;
                    for (k, ch) in text[r.start..st.code.end].char_indices() {
                        match ch {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            ',' | ';' | '\n' if depth <= 0 => {
                                end = r.start + k;
                                break;
                            }
                            _ => {}
                        }
                    }
                    let written = &text[r.start..end];
                    let cut = written
                        .to_ascii_lowercase()
                        .find(" using ")
                        .unwrap_or(written.len());
                    let ty = written[..cut].trim().to_string();
                    (ast::first_line(text, st), ty)
                }
                None => (ast::first_line(text, st), String::new()),
            },
            None => (ast::first_line(text, st), String::new()),
        };
        let column = &cmd.name;
        out.push(cx.finding(
            &INFO,
            range,
            format!(
                "changing column {column} of existing table {table} to {ty} rewrites the table and its indexes under an ACCESS EXCLUSIVE lock"
            ),
            Some(format!(
                "add a new column ({column}_new {ty}), backfill it in batches, switch the application to it, then drop {column}; if this change is binary-coercible (e.g. varchar(n) to text), ignore this finding with that reason"
            )),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::lint::rules::testing::*;

    #[test]
    fn flags_type_change_on_existing_table() {
        let sql = "ALTER TABLE public.profiles ALTER COLUMN credits TYPE numeric(12,4);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn new_tables_and_other_alters_pass() {
        assert!(lint(
            "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint;",
            INFO.id
        )
        .is_empty());
        assert!(lint("ALTER TABLE t ALTER COLUMN a SET DEFAULT 1;", INFO.id).is_empty());
    }
}
