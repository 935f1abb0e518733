//! `create-without-if-not-exists`: `CREATE TABLE/INDEX/SCHEMA/EXTENSION/SEQUENCE` that fails
//! when the object already exists.

use pg_query::NodeEnum;

use super::{head, relation_name, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "create-without-if-not-exists",
    category: "idempotency",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "CREATE TABLE/INDEX/SCHEMA/EXTENSION/SEQUENCE without IF NOT EXISTS",
    why: "The seed's first best practice: a migration must be safe to run again. A migration \
          replayed by hand after a partial failure, applied to a database restored from a dump, \
          or run by a second tool fails on the first object that already exists.",
    fix: "Add IF NOT EXISTS (CREATE TABLE IF NOT EXISTS …, CREATE INDEX IF NOT EXISTS name ON …).",
    bad: "CREATE TABLE profiles (id uuid PRIMARY KEY);",
    good: "CREATE TABLE IF NOT EXISTS profiles (id uuid PRIMARY KEY);",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let text = &cx.file.text;
    for (_, st, node) in cx.statements() {
        let (what, name, range) = match node {
            NodeEnum::CreateStmt(c) if !c.if_not_exists => {
                let Some(rv) = &c.relation else { continue };
                (
                    "table",
                    relation_name(rv),
                    head(st, text, rv.location, rv.relname.len()),
                )
            }
            NodeEnum::IndexStmt(i) if !i.if_not_exists => {
                if i.idxname.is_empty() {
                    // IF NOT EXISTS needs a name; an unnamed index gets a fresh one each run.
                    let table = i.relation.as_ref().map(relation_name).unwrap_or_default();
                    out.push(cx.finding(
                        &INFO,
                        super::ast::first_line(text, st),
                        format!("unnamed index on {table}: running the migration again creates a second, identical index"),
                        Some("name the index and add IF NOT EXISTS: CREATE INDEX IF NOT EXISTS idx_<table>_<columns> ON …".into()),
                    ));
                    continue;
                }
                ("index", i.idxname.clone(), super::ast::first_line(text, st))
            }
            NodeEnum::CreateSchemaStmt(s) if !s.if_not_exists => (
                "schema",
                s.schemaname.clone(),
                super::ast::first_line(text, st),
            ),
            NodeEnum::CreateExtensionStmt(e) if !e.if_not_exists => (
                "extension",
                e.extname.clone(),
                super::ast::first_line(text, st),
            ),
            NodeEnum::CreateSeqStmt(s) if !s.if_not_exists => {
                let Some(rv) = &s.sequence else { continue };
                (
                    "sequence",
                    relation_name(rv),
                    head(st, text, rv.location, rv.relname.len()),
                )
            }
            _ => continue,
        };
        let upper = what.to_uppercase();
        out.push(cx.finding(
            &INFO,
            range,
            format!("CREATE {upper} {name} fails if the {what} already exists"),
            Some(format!("write CREATE {upper} IF NOT EXISTS {name} …")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_creates_that_fail_when_run_twice() {
        let sql = "CREATE TABLE profiles (id uuid);\nCREATE INDEX idx_p ON profiles (id);\n\
                   CREATE SCHEMA app;\nCREATE EXTENSION pgcrypto;\nCREATE SEQUENCE s;\n\
                   CREATE INDEX ON profiles (id);\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 6);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_guarded_creates() {
        let sql = "CREATE TABLE IF NOT EXISTS profiles (id uuid);\n\
                   CREATE INDEX IF NOT EXISTS idx_p ON profiles (id);\n\
                   CREATE SCHEMA IF NOT EXISTS app;\nCREATE EXTENSION IF NOT EXISTS pgcrypto;\n\
                   CREATE SEQUENCE IF NOT EXISTS s;\n";
        assert!(lint(sql, ID).is_empty());
    }
}
