//! `constraint-without-not-valid`: a foreign key or CHECK constraint added to an existing table
//! without `NOT VALID`.

use pg_query::protobuf::ConstrType;

use super::{ast, at, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "constraint-without-not-valid",
    category: "locking",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "Foreign key or CHECK constraint added to an existing table without NOT VALID",
    why: "Adding a CHECK constraint or a foreign key checks every existing row while holding a \
          lock that blocks writes (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE on both tables \
          for a foreign key): a full scan of a large table is write downtime. Added NOT VALID, \
          the constraint applies to new rows at once and needs no scan; VALIDATE CONSTRAINT then \
          checks the old rows under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes \
          go on.",
    fix: "Add the constraint NOT VALID, then validate it in a separate statement (ideally a \
          separate migration): ALTER TABLE t VALIDATE CONSTRAINT name;",
    bad: "ALTER TABLE public.projects ADD CONSTRAINT projects_owner_fk\n  FOREIGN KEY (owner_id) REFERENCES auth.users (id);",
    good: "ALTER TABLE public.projects ADD CONSTRAINT projects_owner_fk\n  FOREIGN KEY (owner_id) REFERENCES auth.users (id) NOT VALID;\nALTER TABLE public.projects VALIDATE CONSTRAINT projects_owner_fk;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, table, cmd) in cx.existing_table_alters() {
        // The constraints the subcommand adds, and the new column's name when they are
        // written on an added column (where NOT VALID cannot be written).
        let Some((cons, column)) = ast::added_constraints(cmd) else {
            continue;
        };
        for con in cons {
            let kind = match con.contype() {
                ConstrType::ConstrForeign => "foreign key",
                ConstrType::ConstrCheck => "CHECK constraint",
                _ => continue,
            };
            if con.skip_validation {
                continue;
            }
            let (named, name) = if con.conname.is_empty() {
                (format!("an unnamed {kind}"), "<name>")
            } else {
                (format!("{kind} {}", con.conname), con.conname.as_str())
            };
            let range = at(st, con.location, st.code.len());
            let (message, fix) = match column {
                None => (
                    format!(
                        "{named} is added to existing table {table} without NOT VALID: every row is checked while writes are blocked"
                    ),
                    format!(
                        "add it with NOT VALID (new rows are checked at once; name it, to validate it by name), then in a separate statement:\n  ALTER TABLE {table} VALIDATE CONSTRAINT {name};"
                    ),
                ),
                Some(col) => (
                    format!(
                        "{named} on new column {col} of existing table {table} is checked against every row while writes are blocked"
                    ),
                    format!(
                        "add the column without it, then ALTER TABLE {table} ADD CONSTRAINT {name} … NOT VALID; and, separately, ALTER TABLE {table} VALIDATE CONSTRAINT {name};"
                    ),
                ),
            };
            out.push(cx.finding(&INFO, range, message, Some(fix)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_foreign_key_and_check_without_not_valid() {
        let sql = "ALTER TABLE public.projects\n  ADD CONSTRAINT projects_owner_fk FOREIGN KEY (owner_id) REFERENCES auth.users (id);\nALTER TABLE t ADD CHECK (a > 0);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 2);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        // On an added column, where NOT VALID cannot be written.
        assert_eq!(
            lint(
                "ALTER TABLE public.projects ADD COLUMN owner_id uuid REFERENCES auth.users (id);",
                INFO.id
            )
            .len(),
            1
        );
    }

    #[test]
    fn not_valid_new_table_and_other_constraints_pass() {
        assert!(lint(
            "ALTER TABLE p ADD CONSTRAINT fk FOREIGN KEY (o) REFERENCES u (id) NOT VALID;\nALTER TABLE p VALIDATE CONSTRAINT fk;",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE TABLE p (o int);\nALTER TABLE p ADD CONSTRAINT c CHECK (o > 0);",
            INFO.id
        )
        .is_empty());
        assert!(lint("ALTER TABLE p ALTER COLUMN o SET DEFAULT 1;", INFO.id).is_empty());
        assert!(lint(
            "ALTER TABLE p ADD COLUMN o int NOT NULL DEFAULT 0;",
            INFO.id
        )
        .is_empty());
    }
}
