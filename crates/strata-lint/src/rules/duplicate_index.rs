//! `duplicate-index`: two indexes on the same columns of a table (a primary key counts).

use super::Cx;
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "duplicate-index",
    category: "performance",
    kind: RuleKind::Both,
    default_level: Level::Warning,
    summary: "Index identical to another index (or to the primary key) of the same table",
    why: "Two indexes with the same columns, expressions, predicate and method serve exactly \
          the same queries; the second one only costs: every insert and update writes both, \
          both take space and cache, and the planner has one more plan to weigh (Supabase's \
          duplicate_index advisor). The seed's idx_profiles_user_id ON profiles(id) is one: \
          profiles.id is the primary key, already indexed by profiles_pkey.",
    fix: "Drop the redundant index (DROP INDEX CONCURRENTLY IF EXISTS name;), or do not create \
          it; keep the one behind a constraint.",
    bad: "CREATE TABLE public.profiles (id uuid PRIMARY KEY);\nCREATE INDEX idx_profiles_user_id ON public.profiles (id);",
    good: "CREATE TABLE public.profiles (id uuid PRIMARY KEY);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let facts = &cx.set.facts;
    for (n, new) in facts.indexes_in_file(cx.file_index) {
        if new.dropped.is_some() {
            continue;
        }
        let Some((first, old)) = facts.first_identical(new) else {
            continue;
        };
        if first >= n {
            continue;
        }
        let redundant = if new.primary || (new.unique && !old.unique) {
            old
        } else {
            new
        };
        let fix = match &redundant.name {
            Some(name) if !redundant.primary && !redundant.unique => {
                format!("DROP INDEX CONCURRENTLY IF EXISTS {name}; (or do not create it)")
            }
            Some(name) => format!(
                "keep one of the two: {name} belongs to a constraint (ALTER TABLE {} DROP CONSTRAINT {name}; if it is the redundant one)",
                redundant.table
            ),
            None => "do not create the second index".to_string(),
        };
        out.push(cx.finding(
            &INFO,
            new.range.clone(),
            format!("{} duplicates the {}", new.describe(), old.describe()),
            Some(fix),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    /// The seed's base schema creates `idx_profiles_user_id ON profiles(id)` on the primary key.
    #[test]
    fn flags_the_seeds_index_on_the_primary_key() {
        let sql = "CREATE TABLE IF NOT EXISTS profiles (\n  id UUID PRIMARY KEY REFERENCES auth.users(id),\n  display_name TEXT\n);\nCREATE INDEX idx_profiles_user_id ON profiles(id);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        assert_eq!(
            lint_set(
                &[
                    ("1_a.sql", "CREATE INDEX a ON t (x) WHERE y;"),
                    ("2_b.sql", "CREATE INDEX b ON public.t (x) WHERE y;")
                ],
                INFO.id
            )
            .len(),
            1
        );
    }

    #[test]
    fn different_or_dropped_indexes_pass() {
        assert!(lint(
            "CREATE TABLE t (id int PRIMARY KEY, a int);\nCREATE INDEX i1 ON t (a, id);\nCREATE INDEX i2 ON t (id, a);\nCREATE INDEX i3 ON t USING hash (id);\nCREATE INDEX i4 ON t (a) WHERE a > 0;\nCREATE INDEX i5 ON t (lower(a::text));\nCREATE INDEX i6 ON t (upper(a::text));",
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE INDEX a ON t (x);\nDROP INDEX a;\nCREATE INDEX b ON t (x);",
            INFO.id
        )
        .is_empty());
    }
}
