//! `timestamp-without-time-zone`: a column of type `timestamp` (without time zone).

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "timestamp-without-time-zone",
    category: "types",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "Column of type timestamp (without time zone)",
    why: "timestamp stores a wall-clock reading without saying in which zone it was taken: \
          now() is silently converted to the session's TimeZone on the way in, so values \
          written by servers or sessions in different zones do not compare, and daylight-saving \
          changes make some readings ambiguous. timestamptz stores an absolute instant (in UTC) \
          and shows it in the reader's zone; it takes the same 8 bytes.",
    fix: "Use timestamptz (timestamp with time zone).",
    bad: "CREATE TABLE public.events (id bigint, happened_at timestamp);",
    good: "CREATE TABLE public.events (id bigint, happened_at timestamptz);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let text = &cx.file.text;
    for (_, st, node) in cx.statements() {
        for (table, col) in ast::typed_columns(node) {
            let Some(t) = &col.type_name else { continue };
            if ast::type_name(t) != "timestamp" {
                continue;
            }
            let range = ast::ident_at(text, st, t.location);
            out.push(cx.finding(
                &INFO,
                range,
                format!(
                    "column {}.{} is timestamp without time zone: the instant it stands for depends on the writer's TimeZone",
                    table, col.colname
                ),
                Some(format!("declare {} as timestamptz", col.colname)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_timestamp_columns() {
        let sql = "CREATE TABLE public.events (\n  id bigint,\n  happened_at timestamp DEFAULT now()\n);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint(
                "ALTER TABLE t ADD COLUMN a timestamp without time zone, ALTER COLUMN b TYPE timestamp(3);",
                INFO.id
            )
            .len(),
            2
        );
    }

    #[test]
    fn timestamptz_passes() {
        assert!(lint(
            "CREATE TABLE t (a timestamptz, b timestamp with time zone, c date, d time);",
            INFO.id
        )
        .is_empty());
    }
}
