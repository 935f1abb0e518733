//! Backwards-incompatible changes to tables that already exist (created before this migration
//! set, or by an earlier file of it and so possibly in production): each breaks the application
//! version still running while the migration is applied. One rule per kind of change; every
//! finding's fix writes out the seed's four-phase expand/contract plan for the table and column
//! at hand.

pub mod add_required_column;
pub mod column_type;
pub mod drop_column;
pub mod drop_table;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null;

use std::ops::Range;

use pg_query::protobuf::{AlterTableType, ConstrType, ObjectType};
use pg_query::NodeEnum;

use super::{ident, qualified, relation_name, strings, Cx};
use crate::{Finding, RuleInfo};

/// What a statement does to an existing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    DropColumn {
        column: String,
    },
    DropTable,
    RenameTable {
        new: String,
    },
    RenameColumn {
        column: String,
        new: String,
    },
    ColumnType {
        column: String,
        new_type: String,
        kind: crate::rules::alter_column_type_rewrite::TypeChange,
    },
    SetNotNull {
        column: String,
    },
    AddRequiredColumn {
        column: String,
        ty: String,
    },
}

/// Every change to an existing table in the file: (statement index, table, change, range).
pub fn changes(cx: &Cx<'_>) -> Vec<(usize, String, Change, Range<usize>)> {
    let text = &cx.file.text;
    let mut out = Vec::new();
    for (i, st, node) in cx.statements() {
        let line = crate::rules::ast::first_line(text, st);
        match node {
            NodeEnum::AlterTableStmt(a) => {
                if ObjectType::try_from(a.objtype) != Ok(ObjectType::ObjectTable) {
                    continue;
                }
                let Some(rv) = &a.relation else { continue };
                let table = relation_name(rv);
                for cmd in &a.cmds {
                    let Some(NodeEnum::AlterTableCmd(c)) = &cmd.node else {
                        continue;
                    };
                    let change = match AlterTableType::try_from(c.subtype) {
                        Ok(AlterTableType::AtDropColumn) => Change::DropColumn {
                            column: c.name.clone(),
                        },
                        Ok(AlterTableType::AtAlterColumnType) => {
                            let ty = match c.def.as_deref().and_then(|d| d.node.as_ref()) {
                                Some(NodeEnum::ColumnDef(d)) => type_text(d.type_name.as_ref()),
                                _ => String::new(),
                            };
                            Change::ColumnType {
                                column: c.name.clone(),
                                new_type: ty,
                                kind: crate::rules::alter_column_type_rewrite::type_change(
                                    cx, i, &table, c,
                                ),
                            }
                        }
                        Ok(AlterTableType::AtSetNotNull) => Change::SetNotNull {
                            column: c.name.clone(),
                        },
                        Ok(AlterTableType::AtAddColumn) => {
                            let Some(NodeEnum::ColumnDef(d)) =
                                c.def.as_deref().and_then(|d| d.node.as_ref())
                            else {
                                continue;
                            };
                            let kinds: Vec<i32> = d
                                .constraints
                                .iter()
                                .filter_map(|n| match &n.node {
                                    Some(NodeEnum::Constraint(c)) => Some(c.contype),
                                    _ => None,
                                })
                                .collect();
                            let has = |k: ConstrType| kinds.contains(&(k as i32));
                            let required =
                                has(ConstrType::ConstrNotnull) || has(ConstrType::ConstrPrimary);
                            let filled = has(ConstrType::ConstrDefault)
                                || has(ConstrType::ConstrIdentity)
                                || has(ConstrType::ConstrGenerated)
                                || d.raw_default.is_some();
                            if !required || filled {
                                continue;
                            }
                            Change::AddRequiredColumn {
                                column: d.colname.clone(),
                                ty: type_text(d.type_name.as_ref()),
                            }
                        }
                        _ => continue,
                    };
                    if !cx.is_new_table(&table, i) {
                        out.push((i, table.clone(), change, line.clone()));
                    }
                }
            }
            NodeEnum::DropStmt(d) => {
                if ObjectType::try_from(d.remove_type) != Ok(ObjectType::ObjectTable) {
                    continue;
                }
                for o in &d.objects {
                    if let Some(NodeEnum::List(l)) = &o.node {
                        let table = qualified(&strings(&l.items));
                        if !cx.is_new_table(&table, i) {
                            out.push((i, table, Change::DropTable, line.clone()));
                        }
                    }
                }
            }
            NodeEnum::RenameStmt(r) => {
                let Some(rv) = &r.relation else { continue };
                let table = relation_name(rv);
                let change = match ObjectType::try_from(r.rename_type) {
                    Ok(ObjectType::ObjectTable) => Change::RenameTable {
                        new: r.newname.clone(),
                    },
                    Ok(ObjectType::ObjectColumn)
                        if ObjectType::try_from(r.relation_type) == Ok(ObjectType::ObjectTable) =>
                    {
                        Change::RenameColumn {
                            column: r.subname.clone(),
                            new: r.newname.clone(),
                        }
                    }
                    _ => continue,
                };
                if !cx.is_new_table(&table, i) {
                    out.push((i, table, change, line));
                }
            }
            _ => {}
        }
    }
    out
}

/// A type as SQL writes it, from its parsed name (`pg_catalog.int4` → `int4`).
fn type_text(t: Option<&pg_query::protobuf::TypeName>) -> String {
    let Some(t) = t else {
        return "<type>".into();
    };
    let names = strings(&t.names);
    let mut s = match names.as_slice() {
        [schema, name] if schema == "pg_catalog" => name.clone(),
        _ => names.join("."),
    };
    let mods: Vec<String> = t
        .typmods
        .iter()
        .filter_map(|m| match &m.node {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i.ival.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if !mods.is_empty() {
        s.push_str(&format!("({})", mods.join(",")));
    }
    if !t.array_bounds.is_empty() {
        s.push_str("[]");
    }
    s
}

/// Pushes a finding of `info` for each change `pick` accepts, with its plan.
pub fn report(
    cx: &Cx<'_>,
    info: &'static RuleInfo,
    out: &mut Vec<Finding>,
    pick: impl Fn(usize, &str, &Change) -> Option<(String, [String; 4])>,
) {
    for (at, table, change, range) in changes(cx) {
        if let Some((message, phases)) = pick(at, &table, &change) {
            let finding = cx.finding(info, range, message, Some(plan(&phases)));
            let why = match &change {
                Change::ColumnType { kind, .. } => kind.uncertainty(),
                _ => None,
            };
            out.push(match why {
                Some(why) => Cx::uncertain(finding, why),
                None => finding,
            });
        }
    }
}

/// The seed's four phases, written out.
pub fn plan(phases: &[String; 4]) -> String {
    let mut s = String::from("expand/contract in four steps, each deployed before the next:");
    for (i, p) in phases.iter().enumerate() {
        s.push_str(&format!("\n  phase {}: {p}", i + 1));
    }
    s
}

/// `table` as SQL writes it (without `public.`).
pub fn sql_table(table: &str) -> String {
    match table.split_once('.') {
        Some(("public", t)) => ident(t),
        Some((s, t)) => format!("{}.{}", ident(s), ident(t)),
        None => ident(table),
    }
}
