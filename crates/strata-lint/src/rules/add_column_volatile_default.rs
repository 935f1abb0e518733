//! `add-column-volatile-default`: `ADD COLUMN` on an existing table whose value must be computed
//! for every row (a volatile default, a stored generated column), which rewrites the table.

use pg_query::protobuf::{AlterTableType, ConstrType};

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "add-column-volatile-default",
    category: "locking",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "ADD COLUMN with a volatile default (or stored generated value) on an existing table",
    why: "Since PostgreSQL 11, ADD COLUMN with a constant or stable default (0, 'x', now()) only \
          records the default in the catalog. A volatile default (random(), clock_timestamp(), \
          gen_random_uuid(), nextval()) or a STORED generated column has a different value per \
          row, so PostgreSQL rewrites the whole table and its indexes under an ACCESS EXCLUSIVE \
          lock: no reads, no writes until it is done.",
    fix: "Add the column without the default, set the default in a second statement (it then \
          applies to new rows only), and backfill existing rows in batches.",
    bad: "ALTER TABLE public.profiles ADD COLUMN api_key uuid DEFAULT gen_random_uuid();",
    good: "ALTER TABLE public.profiles ADD COLUMN api_key uuid;\nALTER TABLE public.profiles ALTER COLUMN api_key SET DEFAULT gen_random_uuid();\n-- then backfill in batches: UPDATE … SET api_key = gen_random_uuid() WHERE api_key IS NULL AND id IN (…);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

/// Functions PostgreSQL (13 to 18: random_normal from 16, uuidv4/uuidv7 from 18) and the usual
/// extensions (pgcrypto, uuid-ossp) mark VOLATILE, as defaults are written.
const VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "gen_random_bytes",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
];

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, table, cmd) in cx.existing_table_alters() {
        if cmd.subtype() != AlterTableType::AtAddColumn {
            continue;
        }
        let Some(col) = cmd.def.as_deref().and_then(ast::column_def) else {
            continue;
        };
        let text = &cx.file.text;
        let column = &col.colname;
        let ty = col
            .type_name
            .as_ref()
            .map(|t| {
                let at = ast::ident_at(text, st, t.location);
                ast::snippet(text, at).to_string()
            })
            .unwrap_or_default();
        for con in ast::column_constraints(col, ConstrType::ConstrDefault) {
            let Some(expr) = con.raw_expr.as_deref() else {
                continue;
            };
            let Some(call) = ast::calls(expr)
                .into_iter()
                .find(|c| VOLATILE.contains(&c.name.rsplit('.').next().unwrap_or_default()))
            else {
                continue;
            };
            let range = ast::call_at(text, st, call.location);
            let default = ast::snippet(text, range.clone()).to_string();
            out.push(cx.finding(
                &INFO,
                range,
                format!(
                    "column {column} is added to existing table {table} with volatile default {default}: the table is rewritten under an ACCESS EXCLUSIVE lock"
                ),
                Some(format!(
                    "ALTER TABLE {table} ADD COLUMN {column} {ty};\n  ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default};\n  then backfill existing rows in batches"
                )),
            ));
        }
        for con in ast::column_constraints(col, ConstrType::ConstrGenerated) {
            out.push(cx.finding(
                &INFO,
                super::at(st, con.location, "generated".len()),
                format!(
                    "stored generated column {column} is added to existing table {table}: the table is rewritten under an ACCESS EXCLUSIVE lock"
                ),
                Some(
                    "add a plain column, fill it in batches and keep it current with a trigger; or accept the rewrite in a maintenance window".into(),
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_volatile_default() {
        let sql =
            "ALTER TABLE public.profiles ADD COLUMN api_key uuid DEFAULT gen_random_uuid();\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint(
                "ALTER TABLE t ADD COLUMN r float8 DEFAULT (random() * 10);\nALTER TABLE t ADD COLUMN s text GENERATED ALWAYS AS (upper(x)) STORED;",
                INFO.id
            )
            .len(),
            2
        );
    }

    #[test]
    fn stable_defaults_and_new_tables_pass() {
        assert!(lint(
            "ALTER TABLE t ADD COLUMN created_at timestamptz DEFAULT now();\nALTER TABLE t ADD COLUMN n int DEFAULT 0;",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN k uuid DEFAULT gen_random_uuid();",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "ALTER TABLE t ALTER COLUMN k SET DEFAULT gen_random_uuid();",
            INFO.id
        )
        .is_empty());
    }
}
