//! `foreign-key-without-index`: a foreign key whose columns no index starts with.

use std::collections::BTreeSet;

use super::Cx;
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "foreign-key-without-index",
    category: "performance",
    kind: RuleKind::Both,
    default_level: Level::Warning,
    summary: "Foreign key without an index on its columns",
    why: "PostgreSQL indexes the referenced key, not the referencing columns. Without an index \
          starting with the foreign key's columns, every DELETE or key UPDATE on the referenced \
          table scans the whole referencing table (under lock) to check or cascade, and joins \
          along the key scan too (Supabase's unindexed_foreign_keys advisor). Statically, an \
          index created anywhere in the migration set counts.",
    fix: "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_col_idx ON t (col); (a primary key or unique \
          constraint starting with the columns counts too).",
    bad: "CREATE TABLE public.projects (id uuid PRIMARY KEY, owner_id uuid REFERENCES auth.users (id));",
    good: "CREATE TABLE public.projects (id uuid PRIMARY KEY, owner_id uuid REFERENCES auth.users (id));\nCREATE INDEX IF NOT EXISTS projects_owner_id_idx ON public.projects (owner_id);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let facts = &cx.set.facts;
    for fk in facts.foreign_keys_in_file(cx.file_index) {
        let wanted: BTreeSet<&str> = fk.columns.iter().map(String::as_str).collect();
        if wanted.is_empty() {
            continue;
        }
        let covered = facts.live_indexes(&fk.table).any(|i| {
            i.columns.len() >= wanted.len()
                && i.columns[..wanted.len()]
                    .iter()
                    .map(String::as_str)
                    .collect::<BTreeSet<_>>()
                    == wanted
        });
        if covered {
            continue;
        }
        let cols = fk.columns.join(", ");
        let short = fk
            .table
            .split_once('.')
            .map(|(_, t)| t)
            .unwrap_or(&fk.table);
        out.push(cx.finding(
            &INFO,
            fk.range.clone(),
            format!(
                "foreign key {}({cols}) → {} has no index starting with its columns: deletes on {} scan all of {}",
                fk.table, fk.references, fk.references, fk.table
            ),
            Some(format!(
                "CREATE INDEX IF NOT EXISTS {short}_{}_idx ON {} ({cols});",
                fk.columns.join("_"),
                fk.table
            )),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_unindexed_foreign_keys() {
        let sql = "CREATE TABLE public.projects (\n  id uuid PRIMARY KEY,\n  owner_id uuid REFERENCES auth.users (id)\n);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint(
                "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a, b) REFERENCES u (x, y);\nCREATE INDEX i ON t (b, c, a);",
                INFO.id
            )
            .len(),
            1
        );
    }

    #[test]
    fn indexed_foreign_keys_pass() {
        assert!(lint_set(
            &[
                ("1_a.sql", "CREATE TABLE p (id uuid PRIMARY KEY REFERENCES auth.users (id), o uuid REFERENCES auth.users);"),
                ("2_b.sql", "CREATE INDEX IF NOT EXISTS p_o ON public.p (o, id);")
            ],
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE TABLE m (a int, b int, FOREIGN KEY (b, a) REFERENCES x, PRIMARY KEY (a, b));",
            INFO.id
        )
        .is_empty());
    }
}
