//! SQL text helpers of the generator: column definitions, options, literals, guards
//! (`IF NOT EXISTS` where PostgreSQL has none), Supabase bucket rows.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::catalog::{Kind, Object, ObjectId};
use crate::quote::ident;

/// Whether every property that differs between `a` and `b` is one of `props`.
pub(super) fn only_changed(a: &Object, b: &Object, props: &[&str]) -> bool {
    a.props
        .keys()
        .chain(b.props.keys())
        .all(|k| props.contains(&k.as_str()) || a.prop(k) == b.prop(k))
}

pub(super) fn view_word(o: &Object) -> &'static str {
    if o.prop("kind") == Some("materialized view") {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

pub(super) fn view_body(o: &Object) -> String {
    o.prop("definition")
        .unwrap_or("")
        .trim_end()
        .trim_end_matches(';')
        .to_string()
}

pub(super) fn owner_word(id: &ObjectId, o: &Object) -> Option<String> {
    Some(match id.kind {
        Kind::Schema => "SCHEMA".into(),
        Kind::Table => "TABLE".into(),
        Kind::Sequence => "SEQUENCE".into(),
        Kind::View => view_word(o).into(),
        Kind::Function => o.prop("kind").unwrap_or("function").to_uppercase(),
        Kind::Type if o.prop("kind") == Some("domain") => "DOMAIN".into(),
        Kind::Type => "TYPE".into(),
        Kind::Publication => "PUBLICATION".into(),
        Kind::EventTrigger => "EVENT TRIGGER".into(),
        _ => return None,
    })
}

pub(super) fn column_def(local: &str, o: &Object) -> String {
    let mut s = format!("{local} {}", o.prop("type").unwrap_or("text"));
    if let Some(c) = o.prop("collation") {
        s.push_str(&format!(" COLLATE {c}"));
    }
    if let Some(g) = o.prop("generated") {
        s.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED"));
    }
    if let Some(d) = o.prop("default") {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if o.prop("not_null") == Some("true") {
        s.push_str(" NOT NULL");
    }
    if let Some(i) = o.prop("identity") {
        s.push_str(&format!(" GENERATED {i} AS IDENTITY"));
    }
    s
}

/// ` AS type INCREMENT BY …` for the options of `o` (only those differing from `old`).
pub(super) fn sequence_options(o: &Object, old: Option<&Object>) -> String {
    let changed = |p: &str| old.is_none_or(|a| a.prop(p) != o.prop(p));
    let mut s = String::new();
    for (prop, word) in [
        ("type", "AS"),
        ("increment", "INCREMENT BY"),
        ("min", "MINVALUE"),
        ("max", "MAXVALUE"),
        ("start", "START WITH"),
        ("cache", "CACHE"),
    ] {
        if let Some(v) = o.prop(prop).filter(|_| changed(prop)) {
            s.push_str(&format!(" {word} {v}"));
        }
    }
    if changed("cycle") {
        s.push_str(if o.prop("cycle") == Some("true") {
            " CYCLE"
        } else {
            " NO CYCLE"
        });
    }
    s
}

pub(super) fn create_policy(local: &str, parent: &str, o: &Object) -> String {
    let mut s = format!(
        "CREATE POLICY {local} ON {parent} AS {} FOR {} TO {}",
        o.prop("permissive").unwrap_or("PERMISSIVE"),
        o.prop("command").unwrap_or("ALL"),
        o.prop("roles")
            .filter(|r| !r.is_empty())
            .unwrap_or("PUBLIC")
    );
    if let Some(u) = o.prop("using") {
        s.push_str(&format!("\n  USING ({u})"));
    }
    if let Some(c) = o.prop("with_check") {
        s.push_str(&format!("\n  WITH CHECK ({c})"));
    }
    s + ";"
}

/// `ALTER VIEW|TABLE x SET (…)` / `RESET (…)` between two option lists (`k=v, k=v`).
pub(super) fn option_changes(
    word: &str,
    name: &str,
    a: Option<&str>,
    b: Option<&str>,
) -> Vec<String> {
    let parse = |s: Option<&str>| -> BTreeMap<String, String> {
        s.unwrap_or("")
            .split(", ")
            .filter(|x| !x.is_empty())
            .map(|x| {
                let (k, v) = x.split_once('=').unwrap_or((x, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    };
    let (a, b) = (parse(a), parse(b));
    let mut out = Vec::new();
    let reset: Vec<&str> = a
        .keys()
        .filter(|k| !b.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !reset.is_empty() {
        out.push(format!("ALTER {word} {name} RESET ({});", reset.join(", ")));
    }
    let set: Vec<String> = b
        .iter()
        .filter(|(k, v)| a.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !set.is_empty() {
        out.push(format!("ALTER {word} {name} SET ({});", set.join(", ")));
    }
    out
}

pub(super) fn list(s: Option<&str>) -> BTreeSet<String> {
    s.unwrap_or("")
        .split(", ")
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits `'a', 'b''c'` (quote_literal output joined by `, `) into the literals as written.
pub(super) fn literals(s: Option<&str>) -> Vec<String> {
    let s = s.unwrap_or("");
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quote {
            cur.push(c);
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    cur.push(chars.next().unwrap_or('\''));
                } else {
                    in_quote = false;
                }
            }
        } else if c == '\'' {
            in_quote = true;
            cur.push(c);
        } else if c == ',' {
            out.push(std::mem::take(&mut cur).trim().to_string());
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `ALTER TYPE … ADD VALUE` for labels added in place; a comment when labels were removed or
/// reordered (PostgreSQL cannot drop an enum label: the type must be rebuilt).
pub(super) fn enum_changes(name: &str, a: Option<&str>, b: Option<&str>) -> Vec<String> {
    let (a, b) = (literals(a), literals(b));
    let kept: Vec<&String> = b.iter().filter(|l| a.contains(l)).collect();
    if kept.len() != a.len() || kept.iter().zip(a.iter()).any(|(x, y)| *x != y) {
        return vec![format!(
            "-- enum {name}: labels were removed or reordered ({} → {}); PostgreSQL cannot drop an enum label: \
             create the new type, ALTER COLUMN … TYPE new USING col::text::new for each column, drop the old type, rename the new one.",
            a.join(", "),
            b.join(", ")
        )];
    }
    let mut out = Vec::new();
    for (i, label) in b.iter().enumerate() {
        if a.contains(label) {
            continue;
        }
        // Place it after the label before it, or before the first one.
        let position = match i.checked_sub(1).and_then(|j| b.get(j)) {
            Some(prev) => format!(" AFTER {prev}"),
            None => b
                .iter()
                .find(|l| a.contains(l))
                .map(|next| format!(" BEFORE {next}"))
                .unwrap_or_default(),
        };
        out.push(format!(
            "ALTER TYPE {name} ADD VALUE IF NOT EXISTS {label}{position};"
        ));
    }
    out
}

/// `stmt` run only when `query` finds nothing: a DO block, for statements PostgreSQL has no
/// `IF NOT EXISTS` for (constraints, publications, event triggers, types), so a written
/// migration also applies where the object is there already.
pub(super) fn unless_exists(query: &str, stmt: &str) -> String {
    format!(
        "DO $strata$ BEGIN\n  IF NOT EXISTS ({query}) THEN\n    {stmt}\n  END IF;\nEND $strata$;"
    )
}

/// A `CREATE TYPE`/`CREATE DOMAIN` that does nothing when the type exists; comments (a type
/// Strata cannot write) pass through.
pub(super) fn unless_type_exists(name: &str, stmt: String) -> String {
    if stmt.starts_with("--") {
        return stmt;
    }
    unless_exists(
        &format!(
            "SELECT 1 WHERE pg_catalog.to_regtype({}) IS NOT NULL",
            quote_literal(name)
        ),
        &stmt,
    )
}

/// An identifier as PostgreSQL stores it (`"Odd"` → `Odd`), for comparing with catalog names.
pub(super) fn unquote(name: &str) -> String {
    let local = name.rsplit_once('.').map_or(name, |(_, l)| l);
    match local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => local.to_string(),
    }
}

/// `pg_get_indexdef`'s `CREATE [UNIQUE] INDEX name ON …` with `IF NOT EXISTS`.
pub(super) fn if_not_exists_index(definition: &str) -> String {
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(prefix) {
            return format!("{prefix}IF NOT EXISTS {rest}");
        }
    }
    definition.to_string()
}

/// A bucket's properties as the JSON object `jsonb_populate_record` reads.
pub(super) fn bucket_json(o: &Object) -> String {
    let mut map = serde_json::Map::new();
    for (k, v) in &o.props {
        let value = v
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or(serde_json::Value::Null);
        map.insert(k.clone(), value);
    }
    serde_json::Value::Object(map).to_string()
}

pub(super) fn bucket_insert(local: &str, o: &Object) -> String {
    let columns: Vec<String> = o.props.keys().map(|k| ident(k)).collect();
    format!(
        "INSERT INTO storage.buckets (id, {cols})\n  SELECT {local}, {cols} FROM jsonb_populate_record(NULL::storage.buckets, {json}::jsonb)\n  ON CONFLICT (id) DO NOTHING;",
        cols = columns.join(", "),
        json = quote_literal(&bucket_json(o))
    )
}

pub(super) fn bucket_update(local: &str, a: &Object, b: &Object) -> String {
    let columns: Vec<String> = b
        .props
        .keys()
        .filter(|k| a.props.get(*k) != b.props.get(*k))
        .map(|k| ident(k))
        .collect();
    format!(
        "UPDATE storage.buckets SET ({cols}) =\n  (SELECT {cols} FROM jsonb_populate_record(NULL::storage.buckets, {json}::jsonb))\n  WHERE id = {local};",
        cols = columns.join(", "),
        json = quote_literal(&bucket_json(b))
    )
}
