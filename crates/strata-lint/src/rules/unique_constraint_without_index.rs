//! `unique-constraint-without-index`: a UNIQUE or PRIMARY KEY constraint added to an existing
//! table that builds its index under the table lock instead of adopting a prebuilt one.

use pg_query::protobuf::ConstrType;

use super::{ast, at, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "unique-constraint-without-index",
    category: "locking",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "UNIQUE or PRIMARY KEY added to an existing table without a prebuilt unique index",
    why: "ADD CONSTRAINT … UNIQUE (or PRIMARY KEY) builds its unique index while holding an \
          ACCESS EXCLUSIVE lock on the table: no reads and no writes for the whole build. \
          Building the index first with CREATE UNIQUE INDEX CONCURRENTLY blocks nothing, and \
          ADD CONSTRAINT … USING INDEX then only records the constraint.",
    fix: "CREATE UNIQUE INDEX CONCURRENTLY name_idx ON t (cols); then ALTER TABLE t ADD \
          CONSTRAINT name UNIQUE USING INDEX name_idx; (PRIMARY KEY USING INDEX likewise, after \
          the columns are NOT NULL).",
    bad: "ALTER TABLE public.profiles ADD CONSTRAINT profiles_handle_key UNIQUE (handle);",
    good: "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS profiles_handle_idx ON public.profiles (handle);\nALTER TABLE public.profiles ADD CONSTRAINT profiles_handle_key UNIQUE USING INDEX profiles_handle_idx;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, table, cmd) in cx.existing_table_alters() {
        let Some((cons, own_column)) = ast::added_constraints(cmd) else {
            continue;
        };
        for con in cons {
            let kind = match con.contype() {
                ConstrType::ConstrUnique => "UNIQUE",
                ConstrType::ConstrPrimary => "PRIMARY KEY",
                _ => continue,
            };
            if !con.indexname.is_empty() {
                continue;
            }
            let cols = if con.keys.is_empty() {
                own_column.map(str::to_string).unwrap_or_default()
            } else {
                ast::strings(&con.keys).join(", ")
            };
            let short = table.split_once('.').map(|(_, t)| t).unwrap_or(&table);
            let name = if con.conname.is_empty() {
                if kind == "UNIQUE" {
                    format!("{short}_{}_key", cols.replace(", ", "_"))
                } else {
                    format!("{short}_pkey")
                }
            } else {
                con.conname.clone()
            };
            let fix = match own_column {
                None => format!(
                    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {name}_idx ON {table} ({cols});\n  ALTER TABLE {table} ADD CONSTRAINT {name} {kind} USING INDEX {name}_idx;"
                ),
                Some(_) => format!(
                    "add the column without {kind}, then CREATE UNIQUE INDEX CONCURRENTLY {name}_idx ON {table} ({cols}); and ALTER TABLE {table} ADD CONSTRAINT {name} {kind} USING INDEX {name}_idx;"
                ),
            };
            out.push(cx.finding(
                &INFO,
                at(st, con.location, st.code.len()),
                format!(
                    "{kind} on {table}({cols}) builds its index while holding an ACCESS EXCLUSIVE lock on the existing table"
                ),
                Some(fix),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_unique_and_primary_key_built_under_lock() {
        let sql =
            "ALTER TABLE public.profiles ADD CONSTRAINT profiles_handle_key UNIQUE (handle);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint("ALTER TABLE t ADD PRIMARY KEY (id);", INFO.id).len(),
            1
        );
        assert_eq!(
            lint("ALTER TABLE t ADD COLUMN c text UNIQUE;", INFO.id).len(),
            1
        );
    }

    #[test]
    fn using_index_and_new_tables_pass() {
        assert!(lint(
            "CREATE UNIQUE INDEX CONCURRENTLY i ON t (h);\nALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX i;",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE TABLE t (h text);\nALTER TABLE t ADD CONSTRAINT k UNIQUE (h);",
            INFO.id
        )
        .is_empty());
    }
}
