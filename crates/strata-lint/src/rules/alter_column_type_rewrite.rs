//! `alter-column-type-rewrite`: `ALTER COLUMN … TYPE` on an existing table (the lock and the
//! rewrite; the compatibility side is `alter-column-type`).

use pg_query::protobuf::AlterTableType;

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

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

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (i, st, table, cmd) in cx.existing_table_alters() {
        if cmd.subtype() != AlterTableType::AtAlterColumnType {
            continue;
        }
        let change = type_change(cx, i, &table, cmd);
        if change == TypeChange::Widening {
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
        let finding = cx.finding(
            &INFO,
            range,
            format!(
                "changing column {column} of existing table {table} to {ty} rewrites the table and its indexes under an ACCESS EXCLUSIVE lock"
            ),
            Some(format!(
                "add a new column ({column}_new {ty}), backfill it in batches, switch the application to it, then drop {column}; if this change is binary-coercible (e.g. varchar(n) to text), ignore this finding with that reason"
            )),
        );
        out.push(match change.uncertainty() {
            Some(why) => Cx::uncertain(finding, why),
            None => finding,
        });
    }
}

/// What a column type change is, as far as the set knows the column's old type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeChange {
    /// Binary coercible and no narrower (varchar(50) → text): no rewrite, nothing breaks.
    Widening,
    /// A real conversion: rewrite, and values the application sees change.
    Converting,
    /// The set does not say what the column was (the table came from elsewhere).
    OldTypeUnknown,
    /// No rewrite only under a setting (timestamp → timestamptz with TimeZone UTC).
    DependsOnSetting,
}

impl TypeChange {
    /// Why a finding about it cannot be exact, if it cannot.
    pub fn uncertainty(self) -> Option<&'static str> {
        match self {
            TypeChange::OldTypeUnknown => Some("the column's old type is not in the migration set: if the change is binary-coercible, e.g. varchar(n) to text, nothing is rewritten"),
            TypeChange::DependsOnSetting => Some("timestamp to timestamptz rewrites nothing only when the session's TimeZone is UTC"),
            _ => None,
        }
    }
}

/// Classifies `ALTER COLUMN … TYPE` at statement `i` of `cx`'s file from the column's type in
/// the set ([`crate::rules::facts::ColType::widens_to`]); a `USING` clause always converts.
pub fn type_change(
    cx: &Cx<'_>,
    i: usize,
    table: &str,
    cmd: &pg_query::protobuf::AlterTableCmd,
) -> TypeChange {
    let Some(col) = cmd.def.as_deref().and_then(ast::column_def) else {
        return TypeChange::Converting;
    };
    let Some(new) = col.type_name.as_ref() else {
        return TypeChange::Converting;
    };
    if col.raw_default.is_some() {
        return TypeChange::Converting;
    }
    let new = crate::rules::facts::ColType::of(new);
    match cx.set.facts.column_type_before(table, &cmd.name, cx.pos(i)) {
        None => TypeChange::OldTypeUnknown,
        Some(old) => match old.widens_to(&new) {
            Some(true) => TypeChange::Widening,
            Some(false) => TypeChange::Converting,
            None => TypeChange::DependsOnSetting,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

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

#[cfg(test)]
mod widening {
    use super::INFO;
    use crate::rules::testing::*;
    use crate::Level;

    const CREATE: &str = "CREATE TABLE public.items (name varchar(50), price numeric(8,2), note text, at timestamp);\n";

    fn levels(change: &str, id: &str) -> Vec<Level> {
        lint_set(&[("1_create.sql", CREATE), ("2_change.sql", change)], id)
            .iter()
            .map(|f| f.level)
            .collect()
    }

    #[test]
    fn binary_coercible_widenings_are_not_findings() {
        for change in [
            "ALTER TABLE public.items ALTER COLUMN name TYPE varchar(100);",
            "ALTER TABLE public.items ALTER COLUMN name TYPE text;",
            "ALTER TABLE public.items ALTER COLUMN name TYPE character varying;",
            "ALTER TABLE public.items ALTER COLUMN price TYPE numeric(12,2);",
            "ALTER TABLE public.items ALTER COLUMN price TYPE numeric;",
            "ALTER TABLE public.items ALTER COLUMN note TYPE varchar;",
        ] {
            for id in [INFO.id, "breaking-column-type"] {
                assert!(levels(change, id).is_empty(), "{id}: {change}");
            }
        }
    }

    #[test]
    fn narrowing_converting_and_unknown_changes_are() {
        for change in [
            "ALTER TABLE public.items ALTER COLUMN name TYPE varchar(20);",
            "ALTER TABLE public.items ALTER COLUMN price TYPE numeric(8,3);",
            "ALTER TABLE public.items ALTER COLUMN note TYPE varchar(10);",
            "ALTER TABLE public.items ALTER COLUMN price TYPE bigint;",
            "ALTER TABLE public.items ALTER COLUMN name TYPE text USING upper(name);",
        ] {
            assert_eq!(levels(change, INFO.id), [Level::Error], "{change}");
        }
        // What the set cannot know is a warning: the old type, or TimeZone.
        assert_eq!(
            levels(
                "ALTER TABLE public.other ALTER COLUMN x TYPE text;",
                INFO.id
            ),
            [Level::Warning]
        );
        assert_eq!(
            levels(
                "ALTER TABLE public.items ALTER COLUMN at TYPE timestamptz;",
                INFO.id
            ),
            [Level::Warning]
        );
        // A widening after an earlier change is judged from the latest type.
        let found = lint_set(
            &[
                ("1_create.sql", CREATE),
                (
                    "2_narrow.sql",
                    "ALTER TABLE public.items ALTER COLUMN name TYPE varchar(20);",
                ),
                (
                    "3_widen.sql",
                    "ALTER TABLE public.items ALTER COLUMN name TYPE varchar(30);",
                ),
            ],
            INFO.id,
        );
        assert_eq!(found.len(), 1);
        assert!(matches!(&found[0].location,
            crate::Location::File { path, .. } if path.ends_with("2_narrow.sql")));
    }
}
