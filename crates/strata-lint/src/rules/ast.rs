//! Syntax-tree helpers shared by the locking, security and type rules: names, types, column
//! definitions, and a generic walk over expressions.
//!
//! Expressions are walked through their serde form (`pg_query`'s protobuf types implement
//! `Serialize`): one walker then sees every node type PostgreSQL's grammar can put in a policy,
//! default or index expression, without a match arm per node type that could silently miss one.

use std::ops::Range;

use pg_query::protobuf::{self, ColumnDef, ConstrType, Constraint, TypeName};
use pg_query::NodeEnum;
use serde_json::Value;

use crate::parse::ParsedStatement;

/// The text of a `String` node.
pub fn str_val(node: &protobuf::Node) -> Option<&str> {
    match &node.node {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

/// The strings of a list of `String` nodes (a qualified name, a column list), lowercase as
/// PostgreSQL folds unquoted names already.
pub fn strings(nodes: &[protobuf::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(str_val)
        .map(str::to_string)
        .collect()
}

/// `schema.name` from a qualified name list (`public` when unqualified).
pub fn qualified(parts: &[String]) -> String {
    match parts {
        [name] => format!("public.{name}"),
        [.., schema, name] => format!("{schema}.{name}"),
        [] => String::new(),
    }
}

/// The type's own name, without `pg_catalog.` (`int4`, `timestamp`, `bpchar`, `serial`).
pub fn type_name(t: &TypeName) -> String {
    t.names
        .last()
        .and_then(str_val)
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Whether a type is an array (`int[]`), which no type rule is about.
pub fn is_array(t: &TypeName) -> bool {
    !t.array_bounds.is_empty()
}

pub const SERIAL_TYPES: &[&str] = &[
    "serial",
    "serial4",
    "bigserial",
    "serial8",
    "smallserial",
    "serial2",
];

/// A column's constraints of one type.
pub fn column_constraints(col: &ColumnDef, ty: ConstrType) -> impl Iterator<Item = &Constraint> {
    col.constraints.iter().filter_map(move |n| match &n.node {
        Some(NodeEnum::Constraint(c)) if c.contype() == ty => Some(&**c),
        _ => None,
    })
}

/// A constraint node.
pub fn constraint(node: &protobuf::Node) -> Option<&Constraint> {
    match &node.node {
        Some(NodeEnum::Constraint(c)) => Some(c),
        _ => None,
    }
}

/// The constraints an `ALTER TABLE` subcommand adds (`ADD CONSTRAINT`, or constraints written
/// on an `ADD COLUMN`), with the added column's name in the second case. `None` for other
/// subcommands.
pub fn added_constraints(
    cmd: &protobuf::AlterTableCmd,
) -> Option<(Vec<&Constraint>, Option<&str>)> {
    match cmd.subtype() {
        protobuf::AlterTableType::AtAddConstraint => Some((
            cmd.def
                .as_deref()
                .and_then(constraint)
                .into_iter()
                .collect(),
            None,
        )),
        protobuf::AlterTableType::AtAddColumn => {
            let col = cmd.def.as_deref().and_then(column_def)?;
            Some((
                col.constraints.iter().filter_map(constraint).collect(),
                Some(col.colname.as_str()),
            ))
        }
        _ => None,
    }
}

/// A column definition node.
pub fn column_def(node: &protobuf::Node) -> Option<&ColumnDef> {
    match &node.node {
        Some(NodeEnum::ColumnDef(c)) => Some(c),
        _ => None,
    }
}

/// Every column definition a statement writes a type for: `CREATE TABLE` columns, `ALTER TABLE
/// … ADD COLUMN` and `ALTER COLUMN … TYPE`, with the table they belong to.
pub fn typed_columns(node: &NodeEnum) -> Vec<(String, &ColumnDef)> {
    let mut out = Vec::new();
    match node {
        NodeEnum::CreateStmt(c) => {
            let table = c
                .relation
                .as_ref()
                .map(super::relation_name)
                .unwrap_or_default();
            for elt in &c.table_elts {
                if let Some(col) = column_def(elt) {
                    out.push((table.clone(), col));
                }
            }
        }
        NodeEnum::AlterTableStmt(a) => {
            let table = a
                .relation
                .as_ref()
                .map(super::relation_name)
                .unwrap_or_default();
            for cmd in alter_cmds(a) {
                use protobuf::AlterTableType as T;
                if matches!(cmd.subtype(), T::AtAddColumn | T::AtAlterColumnType) {
                    if let Some(col) = cmd.def.as_deref().and_then(column_def) {
                        out.push((table.clone(), col));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// The subcommands of an `ALTER TABLE`.
pub fn alter_cmds(a: &protobuf::AlterTableStmt) -> impl Iterator<Item = &protobuf::AlterTableCmd> {
    a.cmds.iter().filter_map(|n| match &n.node {
        Some(NodeEnum::AlterTableCmd(c)) => Some(&**c),
        _ => None,
    })
}

/// Whether an `ALTER TABLE` is on a table (not an index, view or sequence).
pub fn is_table(a: &protobuf::AlterTableStmt) -> bool {
    a.objtype() == protobuf::ObjectType::ObjectTable
}

/// Column names of an index or constraint key list (`IndexElem`s or `String`s); an expression
/// is written as its canonical serde form in parentheses, so two identical expressions compare
/// equal.
pub fn key_columns(nodes: &[protobuf::Node]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| match &n.node {
            Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => e.name.clone(),
            Some(NodeEnum::IndexElem(e)) => {
                format!("({})", e.expr.as_deref().map(canonical).unwrap_or_default())
            }
            Some(NodeEnum::String(s)) => s.sval.clone(),
            _ => canonical(n),
        })
        .collect()
}

/// A node as JSON with every `location` removed: equal for equal SQL wherever it is written.
pub fn canonical(node: &protobuf::Node) -> String {
    let mut v = serde_json::to_value(node).unwrap_or(Value::Null);
    strip_locations(&mut v);
    v.to_string()
}

fn strip_locations(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.ends_with("location"));
            map.values_mut().for_each(strip_locations);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_locations),
        _ => {}
    }
}

/// A function call found in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Lowercase, qualified as written (`auth.uid`, `random`).
    pub name: String,
    /// Offset in the statement's code (`-1` when unknown).
    pub location: i32,
    /// Inside a sub-select (`(select auth.uid())`): evaluated once per statement, not per row.
    pub in_subselect: bool,
}

/// Every function call in an expression, in order.
pub fn calls(expr: &protobuf::Node) -> Vec<Call> {
    let v = serde_json::to_value(expr).unwrap_or(Value::Null);
    let mut out = Vec::new();
    walk_calls(&v, false, &mut out);
    out
}

fn walk_calls(v: &Value, in_sub: bool, out: &mut Vec<Call>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match k.as_str() {
                    "FuncCall" => {
                        let name = child
                            .get("funcname")
                            .and_then(Value::as_array)
                            .map(|parts| {
                                parts
                                    .iter()
                                    .filter_map(|p| p.pointer("/node/String/sval"))
                                    .filter_map(Value::as_str)
                                    .collect::<Vec<_>>()
                                    .join(".")
                            })
                            .unwrap_or_default();
                        out.push(Call {
                            name: name.to_ascii_lowercase(),
                            location: child.get("location").and_then(Value::as_i64).unwrap_or(-1)
                                as i32,
                            in_subselect: in_sub,
                        });
                        walk_calls(child, in_sub, out);
                    }
                    "SubLink" | "SelectStmt" => walk_calls(child, true, out),
                    _ => walk_calls(child, in_sub, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk_calls(i, in_sub, out)),
        _ => {}
    }
}

/// Whether any name or string constant in the expression contains one of `needles`
/// (lowercase).
pub fn mentions(expr: &protobuf::Node, needles: &[&str]) -> bool {
    fn walk(v: &Value, needles: &[&str]) -> bool {
        match v {
            Value::Object(map) => map.iter().any(|(k, child)| {
                (k == "sval"
                    && child.as_str().is_some_and(|s| {
                        let s = s.to_lowercase();
                        needles.iter().any(|n| s.contains(n))
                    }))
                    || walk(child, needles)
            }),
            Value::Array(items) => items.iter().any(|i| walk(i, needles)),
            _ => false,
        }
    }
    walk(&serde_json::to_value(expr).unwrap_or(Value::Null), needles)
}

/// Whether a statement's text contains `needle` (ASCII case-insensitive): a cheap test before
/// walking its tree.
pub fn text_contains(text: &str, st: &ParsedStatement, needle: &str) -> bool {
    text.get(st.code.clone()).is_some_and(|code| {
        code.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    })
}

/// The byte offset of a statement-relative `location`, kept inside the statement and on a
/// character boundary whatever PostgreSQL reports.
pub fn offset(text: &str, st: &ParsedStatement, location: i32) -> usize {
    let mut at = (st.base + location.max(0) as usize).clamp(st.code.start, st.code.end);
    while at > st.code.start && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The byte range of an identifier (possibly qualified or quoted) starting at `location` in the
/// statement's code, e.g. a table name; the whole statement when the location is unknown.
pub fn ident_at(text: &str, st: &ParsedStatement, location: i32) -> Range<usize> {
    if location < 0 {
        return st.code.clone();
    }
    let start = offset(text, st, location);
    let mut end = start;
    let mut quoted = false;
    for (i, ch) in text[start..st.code.end].char_indices() {
        match ch {
            '"' => quoted = !quoted,
            c if quoted || c.is_alphanumeric() || c == '_' || c == '.' || c == '$' => {}
            _ => break,
        }
        end = start + i + ch.len_utf8();
    }
    if end == start {
        end = text[start..st.code.end]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8());
    }
    start..end
}

/// The byte range of a call (`auth.uid()`) starting at `location`: through its closing
/// parenthesis.
pub fn call_at(text: &str, st: &ParsedStatement, location: i32) -> Range<usize> {
    if location < 0 {
        return st.code.clone();
    }
    let start = offset(text, st, location);
    let mut depth = 0usize;
    for (i, ch) in text[start..st.code.end].char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return start..start + i + 1;
                }
            }
            _ => {}
        }
    }
    ident_at(text, st, location)
}

/// The first line of a statement (for findings about a whole multi-line statement).
pub fn first_line(text: &str, st: &ParsedStatement) -> Range<usize> {
    let code = &text[st.code.clone()];
    let len = code.find('\n').unwrap_or(code.len());
    st.code.start..st.code.start + code[..len].trim_end().len()
}

/// The text of a statement's range, for messages.
pub fn snippet(text: &str, range: Range<usize>) -> &str {
    text.get(range).unwrap_or_default()
}

/// The name written in `SET name = value` (`lock_timeout`), if the statement is a plain SET,
/// and whether its value is zero (disabled).
pub fn set_variable(node: &NodeEnum) -> Option<(&str, bool)> {
    let NodeEnum::VariableSetStmt(s) = node else {
        return None;
    };
    if s.kind() != protobuf::VariableSetKind::VarSetValue {
        return None;
    }
    let zero = s.args.iter().any(|a| match &a.node {
        Some(NodeEnum::AConst(c)) => match &c.val {
            Some(protobuf::a_const::Val::Ival(i)) => i.ival == 0,
            Some(protobuf::a_const::Val::Sval(s)) => {
                let t = s.sval.trim();
                t.trim_start_matches('0').is_empty()
                    || t.trim_end_matches(|c: char| c.is_alphabetic()).trim() == "0"
            }
            _ => false,
        },
        _ => false,
    });
    Some((s.name.as_str(), zero))
}

/// The boolean value of option `name` in a `WITH (…)` list (`security_invoker = true`, `on`,
/// `1`, or no value), `None` when the option is absent.
pub fn option_true(options: &[protobuf::Node], name: &str) -> Option<bool> {
    options.iter().find_map(|o| match &o.node {
        Some(NodeEnum::DefElem(d)) if d.defname.eq_ignore_ascii_case(name) => {
            Some(match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
                None => true,
                Some(NodeEnum::Boolean(b)) => b.boolval,
                Some(NodeEnum::Integer(i)) => i.ival != 0,
                Some(NodeEnum::String(s)) => matches!(
                    s.sval.to_ascii_lowercase().as_str(),
                    "true" | "on" | "yes" | "1" | "t" | "y"
                ),
                Some(_) => false,
            })
        }
        _ => None,
    })
}

/// A policy statement (`CREATE POLICY` or `ALTER POLICY`): table, name, and its `USING` /
/// `WITH CHECK` expressions labelled.
pub struct PolicyExprs<'a> {
    pub table: String,
    pub name: &'a str,
    /// `all`, `select`, … (`CREATE POLICY` only; `None` for `ALTER POLICY`).
    pub cmd: Option<String>,
    pub roles: Vec<String>,
    pub exprs: Vec<(&'static str, &'a protobuf::Node)>,
}

pub fn policy(node: &NodeEnum) -> Option<PolicyExprs<'_>> {
    let (table, name, cmd, roles, qual, check) = match node {
        NodeEnum::CreatePolicyStmt(p) => (
            p.table.as_ref()?,
            &p.policy_name,
            Some(if p.cmd_name.is_empty() {
                "all".to_string()
            } else {
                p.cmd_name.to_ascii_lowercase()
            }),
            &p.roles,
            &p.qual,
            &p.with_check,
        ),
        NodeEnum::AlterPolicyStmt(p) => (
            p.table.as_ref()?,
            &p.policy_name,
            None,
            &p.roles,
            &p.qual,
            &p.with_check,
        ),
        _ => return None,
    };
    let mut exprs = Vec::new();
    if let Some(q) = qual.as_deref() {
        exprs.push(("USING", q));
    }
    if let Some(c) = check.as_deref() {
        exprs.push(("WITH CHECK", c));
    }
    let roles = roles
        .iter()
        .filter_map(|r| match &r.node {
            Some(NodeEnum::RoleSpec(r)) if r.rolename.is_empty() => Some("public".to_string()),
            Some(NodeEnum::RoleSpec(r)) => Some(r.rolename.clone()),
            _ => None,
        })
        .collect();
    Some(PolicyExprs {
        table: super::relation_name(table),
        name,
        cmd,
        roles,
        exprs,
    })
}
