//! `table-without-rls`: a table in an exposed schema without row-level security.

use pg_query::NodeEnum;

use super::facts::Pos;
use super::{ast, relation_name, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

/// Why a finding is only a warning when the set switches RLS in dynamic SQL.
const DYNAMIC: &str = "the set also changes row-level security in dynamic SQL (a DO block or function), which lint cannot follow; `strata lint --schema` checks the built database exactly";

pub const INFO: RuleInfo = RuleInfo {
    id: "table-without-rls",
    category: "rls",
    kind: RuleKind::Both,
    default_level: Level::Error,
    summary: "Table in an exposed schema without row-level security enabled",
    why: "On Supabase (and any PostgREST setup) the API roles anon and authenticated get \
          privileges on every table in public by default; the Data API then serves the table to \
          anyone holding the public anon key. Row-level security is what limits each user to \
          their rows: a table without it is readable and writable by everybody. Statically, a \
          table created in public (or in a schema the migrations grant to anon/authenticated) is \
          flagged unless ENABLE ROW LEVEL SECURITY follows somewhere in the set; on a database, \
          every table in the exposed schemas is checked (Supabase's rls_disabled_in_public).",
    fix: "ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY; then \
          write the policies the application needs (none: only service_role can use it).",
    bad: "CREATE TABLE public.notes (id uuid PRIMARY KEY, user_id uuid, body text);",
    good: "CREATE TABLE public.notes (id uuid PRIMARY KEY, user_id uuid, body text);\nALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;\nALTER TABLE public.notes FORCE ROW LEVEL SECURITY;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let facts = &cx.set.facts;
    for (i, st, node) in cx.statements() {
        let NodeEnum::CreateStmt(c) = node else {
            continue;
        };
        let Some(rv) = &c.relation else { continue };
        if rv.relpersistence == "t" {
            continue;
        }
        let table = relation_name(rv);
        let here = Pos {
            file: cx.file_index,
            stmt: i,
        };
        if facts.tables.get(&table) != Some(&here)
            || !facts.is_exposed(&table)
            || facts.rls.get(&table).is_some_and(|r| r.enabled)
        {
            continue;
        }
        let schema = table.split_once('.').map(|(s, _)| s).unwrap_or("public");
        let finding = cx.finding(
            &INFO,
            ast::ident_at(&cx.file.text, st, rv.location),
            format!(
                "table {table} is in exposed schema {schema} and the migrations never enable row-level security on it: every API user can read and write all its rows"
            ),
            Some(format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n  ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n  then add the policies the application needs"
            )),
        );
        out.push(if facts.dynamic_rls {
            Cx::uncertain(finding, DYNAMIC)
        } else {
            finding
        });
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn rls_switched_in_dynamic_sql_makes_it_a_warning() {
        let create = "CREATE TABLE public.notes (id uuid PRIMARY KEY);\n";
        let loop_ = "DO $$\nDECLARE t text;\nBEGIN\n  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP\n    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);\n  END LOOP;\nEND $$;\n";
        let found = lint_set(&[("1_notes.sql", create), ("2_rls.sql", loop_)], INFO.id);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].level, crate::Level::Warning);
        assert!(
            found[0].message.contains("dynamic SQL"),
            "{}",
            found[0].message
        );
        let found = lint(create, INFO.id);
        assert_eq!(found[0].level, crate::Level::Error);
    }

    #[test]
    fn flags_public_table_never_secured() {
        let sql = "CREATE TABLE public.notes (\n  id uuid PRIMARY KEY,\n  body text\n);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
        // A schema granted to the API roles is exposed too.
        assert_eq!(
            lint(
                "CREATE SCHEMA api;\nGRANT USAGE ON SCHEMA api TO anon, authenticated;\nCREATE TABLE api.t (a int);",
                INFO.id
            )
            .len(),
            1
        );
    }

    #[test]
    fn rls_enabled_later_in_the_set_or_private_schema_passes() {
        assert!(lint_set(
            &[
                ("1_a.sql", "CREATE TABLE notes (id int);"),
                (
                    "2_b.sql",
                    "ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;"
                )
            ],
            INFO.id
        )
        .is_empty());
        assert!(lint(
            "CREATE SCHEMA private;\nCREATE TABLE private.t (a int);\nCREATE TEMP TABLE x (a int);",
            INFO.id
        )
        .is_empty());
    }

    #[test]
    fn plain_postgresql_exposes_public_only_when_granted_to_api_roles() {
        use crate::{api_schemas, check_parsed, parse::ParsedFile};
        use strata::platform::Platform;
        let run = |sql: &str| {
            let parsed = [ParsedFile::parse(
                std::path::Path::new("1_a.sql"),
                sql.to_string(),
            )];
            check_parsed(&parsed, &api_schemas(Platform::None), &Default::default())
                .into_iter()
                .filter(|f| f.rule == INFO.id)
                .count()
        };
        assert_eq!(run("CREATE TABLE public.notes (id int);"), 0);
        assert_eq!(
            run("GRANT USAGE ON SCHEMA public TO anon;\nCREATE TABLE public.notes (id int);"),
            1
        );
    }
}
