//! `drop-without-if-exists`: `DROP …` that fails when the object is already gone.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::{Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "drop-without-if-exists",
    category: "idempotency",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "DROP without IF EXISTS",
    why: "The seed: \"check before dropping\". A DROP of an object that is already gone (a \
          replayed migration, a hand fix in production) fails the whole migration.",
    fix: "Write DROP … IF EXISTS.",
    bad: "DROP TABLE old_table;",
    good: "DROP TABLE IF EXISTS old_table;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, node) in cx.statements() {
        let NodeEnum::DropStmt(d) = node else {
            continue;
        };
        if d.missing_ok {
            continue;
        }
        let what = match ObjectType::try_from(d.remove_type) {
            Ok(t) => object_word(t),
            Err(_) => "object",
        };
        let upper = what.to_uppercase();
        let names: Vec<String> = d
            .objects
            .iter()
            .filter_map(|o| match &o.node {
                Some(NodeEnum::List(l)) => Some(super::strings(&l.items).join(".")),
                Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                _ => None,
            })
            .collect();
        let names = names.join(", ");
        out.push(cx.finding(
            &INFO,
            super::ast::first_line(&cx.file.text, st),
            format!("DROP {upper} {names} fails if the {what} does not exist"),
            Some(format!("write DROP {upper} IF EXISTS {names} …")),
        ));
    }
}

/// The SQL word for an object type (`table`, `materialized view`, …).
pub fn object_word(t: ObjectType) -> &'static str {
    match t {
        ObjectType::ObjectTable => "table",
        ObjectType::ObjectIndex => "index",
        ObjectType::ObjectView => "view",
        ObjectType::ObjectMatview => "materialized view",
        ObjectType::ObjectSequence => "sequence",
        ObjectType::ObjectSchema => "schema",
        ObjectType::ObjectFunction => "function",
        ObjectType::ObjectProcedure => "procedure",
        ObjectType::ObjectPolicy => "policy",
        ObjectType::ObjectTrigger => "trigger",
        ObjectType::ObjectType => "type",
        ObjectType::ObjectDomain => "domain",
        ObjectType::ObjectExtension => "extension",
        ObjectType::ObjectRule => "rule",
        ObjectType::ObjectForeignTable => "foreign table",
        _ => "object",
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_drops_without_if_exists() {
        let sql = "DROP TABLE old_table;\nDROP INDEX old_index;\nDROP POLICY p ON t;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 3);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_if_exists() {
        let sql = "DROP TABLE IF EXISTS old_table;\nDROP INDEX IF EXISTS old_index;\n\
                   DROP POLICY IF EXISTS p ON t;\nDROP FUNCTION IF EXISTS f();\n";
        assert!(lint(sql, ID).is_empty());
    }
}
