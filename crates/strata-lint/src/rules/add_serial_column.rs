//! `add-serial-column`: a serial or identity column (typically a new primary key) added to an
//! existing table.

use pg_query::protobuf::{AlterTableType, ConstrType};

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "add-serial-column",
    category: "locking",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "serial/bigserial or identity column (e.g. a new primary key) added to an existing table",
    why: "A serial or identity column is filled from a sequence for every existing row, so \
          ADD COLUMN rewrites the whole table under an ACCESS EXCLUSIVE lock; as a PRIMARY KEY \
          it also builds the unique index under that lock. On a large table that is minutes \
          without reads or writes.",
    fix: "Add a plain bigint column; create a sequence and set the column's default to its \
          nextval (new rows only); backfill old rows in batches; then CREATE UNIQUE INDEX \
          CONCURRENTLY, a NOT VALID CHECK (col IS NOT NULL) validated separately, and ADD \
          CONSTRAINT … PRIMARY KEY USING INDEX.",
    bad: "ALTER TABLE public.legacy_events ADD COLUMN id bigserial PRIMARY KEY;",
    good: "ALTER TABLE public.legacy_events ADD COLUMN id bigint;\nCREATE SEQUENCE public.legacy_events_id_seq OWNED BY public.legacy_events.id;\nALTER TABLE public.legacy_events ALTER COLUMN id SET DEFAULT nextval('public.legacy_events_id_seq');\n-- backfill in batches, then build the unique index concurrently and add the key USING INDEX",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, table, cmd) in cx.existing_table_alters() {
        if cmd.subtype() != AlterTableType::AtAddColumn {
            continue;
        }
        let Some(col) = cmd.def.as_deref().and_then(ast::column_def) else {
            continue;
        };
        let Some(t) = &col.type_name else { continue };
        let ty = ast::type_name(t);
        let serial = ast::SERIAL_TYPES.contains(&ty.as_str());
        let identity = ast::column_constraints(col, ConstrType::ConstrIdentity)
            .next()
            .is_some();
        if !serial && !identity {
            continue;
        }
        let primary = ast::column_constraints(col, ConstrType::ConstrPrimary)
            .next()
            .is_some();
        let key = if primary { " primary key" } else { "" };
        let what = if serial {
            format!("{ty}{key} column")
        } else {
            format!("identity{key} column")
        };
        let column = &col.colname;
        out.push(cx.finding(
            &INFO,
            ast::first_line(&cx.file.text, st),
            format!(
                "{what} {column} added to existing table {table}: every row gets a value in a table rewrite under an ACCESS EXCLUSIVE lock"
            ),
            Some(format!(
                "ALTER TABLE {table} ADD COLUMN {column} bigint;\n  CREATE SEQUENCE {table}_{column}_seq OWNED BY {table}.{column};\n  ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT nextval('{table}_{column}_seq');\n  backfill existing rows in batches{}",
                if primary {
                    ", then CREATE UNIQUE INDEX CONCURRENTLY and ADD CONSTRAINT … PRIMARY KEY USING INDEX"
                } else {
                    ""
                }
            )),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_serial_primary_key_added() {
        let sql = "ALTER TABLE public.legacy_events ADD COLUMN id bigserial PRIMARY KEY;\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint(
                "ALTER TABLE t ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;",
                INFO.id
            )
            .len(),
            1
        );
    }

    #[test]
    fn plain_columns_and_new_tables_pass() {
        assert!(lint("ALTER TABLE t ADD COLUMN n bigint;", INFO.id).is_empty());
        assert!(lint(
            "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN id bigserial PRIMARY KEY;",
            INFO.id
        )
        .is_empty());
    }
}
