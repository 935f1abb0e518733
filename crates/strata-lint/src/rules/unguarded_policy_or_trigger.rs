//! `unguarded-policy-or-trigger`: `CREATE POLICY` / `CREATE TRIGGER` that fails when it exists.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::{qualified, relation_name, strings, Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "unguarded-policy-or-trigger",
    category: "idempotency",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "CREATE POLICY or CREATE TRIGGER not guarded by a DROP … IF EXISTS of the same name",
    why: "PostgreSQL has no CREATE POLICY IF NOT EXISTS, and CREATE TRIGGER has no IF NOT \
          EXISTS either: running the migration again fails on the first policy or trigger that \
          exists. The seed's templates create them bare, which makes the whole file \
          non-idempotent.",
    fix: "Put DROP POLICY IF EXISTS \"name\" ON table; (or DROP TRIGGER IF EXISTS name ON table;) \
          right before it, use CREATE OR REPLACE TRIGGER (PostgreSQL 14+), or create it in a DO \
          block that checks pg_policies / pg_trigger first.",
    bad: "CREATE POLICY \"own rows\" ON notes FOR SELECT USING (user_id = auth.uid());",
    good: "DROP POLICY IF EXISTS \"own rows\" ON notes;\nCREATE POLICY \"own rows\" ON notes FOR SELECT USING (user_id = auth.uid());",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    // (object type, table, name) dropped with IF EXISTS earlier in the file.
    let mut dropped: Vec<(ObjectType, String, String)> = Vec::new();
    for (_, st, node) in cx.statements() {
        let (kind, table, name, replace) = match node {
            NodeEnum::DropStmt(d) => {
                let t = ObjectType::try_from(d.remove_type).unwrap_or(ObjectType::Undefined);
                if d.missing_ok && matches!(t, ObjectType::ObjectPolicy | ObjectType::ObjectTrigger)
                {
                    for o in &d.objects {
                        if let Some(NodeEnum::List(l)) = &o.node {
                            let mut parts = strings(&l.items);
                            if let Some(name) = parts.pop() {
                                dropped.push((t, qualified(&parts), name));
                            }
                        }
                    }
                }
                continue;
            }
            NodeEnum::CreatePolicyStmt(p) => (
                ObjectType::ObjectPolicy,
                p.table.as_ref().map(relation_name).unwrap_or_default(),
                p.policy_name.clone(),
                false,
            ),
            NodeEnum::CreateTrigStmt(t) => (
                ObjectType::ObjectTrigger,
                t.relation.as_ref().map(relation_name).unwrap_or_default(),
                t.trigname.clone(),
                t.replace,
            ),
            _ => continue,
        };
        if replace || dropped.contains(&(kind, table.clone(), name.clone())) {
            continue;
        }
        let word = if kind == ObjectType::ObjectPolicy {
            "POLICY"
        } else {
            "TRIGGER"
        };
        let quoted = super::ident(&name);
        out.push(cx.finding(
            &INFO,
            super::ast::first_line(&cx.file.text, st),
            format!(
                "CREATE {word} {quoted} on {table} fails if it already exists (no DROP {word} IF EXISTS before it)"
            ),
            Some(format!("add `DROP {word} IF EXISTS {quoted} ON {table};` before it")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_bare_policy_and_trigger() {
        let sql = "CREATE POLICY \"Users can view own settings\" ON user_settings FOR SELECT USING (true);\n\
                   DROP TRIGGER IF EXISTS other ON user_settings;\n\
                   CREATE TRIGGER t BEFORE UPDATE ON user_settings FOR EACH ROW EXECUTE FUNCTION f();\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 2);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_when_dropped_first_or_replaced() {
        let sql = "DROP POLICY IF EXISTS \"Own\" ON public.user_settings;\n\
                   CREATE POLICY \"Own\" ON user_settings FOR SELECT USING (true);\n\
                   DROP TRIGGER IF EXISTS t ON user_settings;\n\
                   CREATE TRIGGER t BEFORE UPDATE ON user_settings FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE OR REPLACE TRIGGER u BEFORE UPDATE ON user_settings FOR EACH ROW EXECUTE FUNCTION f();\n\
                   DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE policyname = 'x') THEN \
                   CREATE POLICY x ON user_settings USING (true); END IF; END $$;\n";
        assert!(lint(sql, ID).is_empty());
    }
}
