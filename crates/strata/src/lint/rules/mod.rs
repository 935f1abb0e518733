//! Statement rules: one module per rule, its [`RuleInfo`] documentation, code and tests side by
//! side. A rule is a function over one parsed file with the whole migration set as context; it
//! pushes [`Finding`]s. [`ALL`] is the registry (`strata lint --explain`, docs/lint-rules.md).

use std::collections::HashMap;
use std::ops::Range;

use pg_query::protobuf::RangeVar;
use pg_query::NodeEnum;

use super::parse::{ParsedFile, ParsedStatement};
use super::{Finding, RuleInfo};

/// A statement rule.
pub struct StatementRule {
    pub info: &'static RuleInfo,
    /// Checks one file, pushing findings at `info.default_level` (levels from `[lint]` in
    /// strata.toml are applied afterwards by the engine).
    pub check: fn(&Cx<'_>, &mut Vec<Finding>),
}

pub mod add_column_without_if_not_exists;
pub mod begin_without_commit;
pub mod breaking;
pub mod create_without_if_not_exists;
pub mod create_without_or_replace;
pub mod drop_without_if_exists;
pub mod file_header;
pub mod file_name;
pub mod insert_without_on_conflict;
pub mod nested_begin;
pub mod no_transaction_in_block;
pub mod schema_and_data;
pub mod unguarded_policy_or_trigger;

/// Every statement rule, in documentation order.
pub static ALL: &[StatementRule] = &[
    file_name::RULE,
    file_header::RULE,
    create_without_if_not_exists::RULE,
    create_without_or_replace::RULE,
    drop_without_if_exists::RULE,
    unguarded_policy_or_trigger::RULE,
    add_column_without_if_not_exists::RULE,
    insert_without_on_conflict::RULE,
    begin_without_commit::RULE,
    nested_begin::RULE,
    no_transaction_in_block::RULE,
    schema_and_data::RULE,
    breaking::drop_column::RULE,
    breaking::drop_table::RULE,
    breaking::rename_table::RULE,
    breaking::rename_column::RULE,
    breaking::column_type::RULE,
    breaking::set_not_null::RULE,
    breaking::add_required_column::RULE,
];

/// What the migration set looked like before a file: which tables earlier files created.
#[derive(Debug, Default)]
pub struct SetIndex {
    /// Qualified table name (`public.profiles`) → index of the first file that created it.
    created: HashMap<String, usize>,
}

impl SetIndex {
    /// Indexes the tables each file creates (files in run order).
    pub fn build(files: &[ParsedFile]) -> SetIndex {
        let mut created = HashMap::new();
        for (i, file) in files.iter().enumerate() {
            for st in &file.statements {
                if let Some(NodeEnum::CreateStmt(c)) = &st.node {
                    if let Some(rv) = &c.relation {
                        created.entry(relation_name(rv)).or_insert(i);
                    }
                }
            }
        }
        SetIndex { created }
    }
}

/// The context a rule checks a file in.
pub struct Cx<'a> {
    pub file: &'a ParsedFile,
    /// The file's position in the migration set's run order.
    pub file_index: usize,
    pub set: &'a SetIndex,
}

impl<'a> Cx<'a> {
    /// The file's statements with their syntax trees (statements PostgreSQL could not parse are
    /// skipped: they are reported as `parse-error`).
    pub fn statements(&self) -> impl Iterator<Item = (usize, &'a ParsedStatement, &'a NodeEnum)> {
        self.file
            .statements
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.node.as_ref().map(|n| (i, s, n)))
    }

    /// Whether `table` (qualified, see [`relation_name`]) is new at statement `before` of this
    /// file: created by an earlier file of the set, or earlier in this file. Changes to a new
    /// table hold no lock anyone waits on and break no running code.
    pub fn is_new_table(&self, table: &str, before: usize) -> bool {
        if self
            .set
            .created
            .get(table)
            .is_some_and(|&i| i < self.file_index)
        {
            return true;
        }
        self.file.statements[..before.min(self.file.statements.len())]
            .iter()
            .any(|s| match &s.node {
                Some(NodeEnum::CreateStmt(c)) => {
                    c.relation.as_ref().map(relation_name).as_deref() == Some(table)
                }
                _ => false,
            })
    }

    /// A finding of `info` at a byte range of this file.
    pub fn finding(
        &self,
        info: &'static RuleInfo,
        range: Range<usize>,
        message: impl Into<String>,
        fix: Option<String>,
    ) -> Finding {
        Finding {
            rule: info.id,
            level: info.default_level,
            location: self.file.location(range),
            message: message.into(),
            fix,
        }
    }
}

/// `schema.name` of a relation, `public` when the SQL names no schema (the default
/// `search_path` of migrations).
pub fn relation_name(rv: &RangeVar) -> String {
    let schema = if rv.schemaname.is_empty() {
        "public"
    } else {
        &rv.schemaname
    };
    format!("{schema}.{}", rv.relname)
}

/// Byte range of a node inside a statement, from PostgreSQL's `location` (an offset into the
/// statement's code, -1 when unknown): `len` bytes from there, else the whole statement.
/// (PostgreSQL's locations are byte offsets at token starts, so both ends are char boundaries
/// for names taken from the same text.)
pub fn at(st: &ParsedStatement, location: i32, len: usize) -> Range<usize> {
    if location < 0 {
        return st.code.clone();
    }
    let start = (st.code.start + location as usize).min(st.code.end);
    let end = (start + len).min(st.code.end).max(start);
    start..end
}

/// From the start of a statement to the end of a name PostgreSQL located (`CREATE TABLE
/// profiles`): the part of the statement a finding about it underlines. Without a location,
/// the statement's first line.
pub fn head(st: &ParsedStatement, text: &str, location: i32, name_len: usize) -> Range<usize> {
    if location >= 0 {
        let end = (st.code.start + location as usize + name_len).min(st.code.end);
        if end > st.code.start && text.is_char_boundary(end) {
            return st.code.start..end;
        }
    }
    first_line(st, text)
}

/// The statement's first line (without its leading comments).
pub fn first_line(st: &ParsedStatement, text: &str) -> Range<usize> {
    let code = &text[st.code.clone()];
    let len = code.find('\n').unwrap_or(code.len());
    st.code.start..st.code.start + code[..len].trim_end().len()
}

/// The strings of a list of `String` nodes (qualified names: `["public", "profiles"]`).
pub fn strings(nodes: &[pg_query::protobuf::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// A qualified name from parts, `public` when it has no schema.
pub fn qualified(parts: &[String]) -> String {
    match parts {
        [name] => format!("public.{name}"),
        _ => parts.join("."),
    }
}

/// A name as SQL writes it: quoted when it needs quotes.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.is_empty();
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Tables this file created before statement `before` (qualified names).
pub fn created_in_file(file: &ParsedFile, before: usize) -> Vec<String> {
    file.statements[..before.min(file.statements.len())]
        .iter()
        .filter_map(|s| match &s.node {
            Some(NodeEnum::CreateStmt(c)) => c.relation.as_ref().map(relation_name),
            _ => None,
        })
        .collect()
}

/// Test helpers for rule modules.
#[cfg(test)]
pub mod testing {
    use std::path::PathBuf;

    use crate::lint::{check_statements, format, Finding, Location, SourceText};

    /// Lints files `(name, sql)` as a migration set in this order; returns the findings of
    /// rule `id` only.
    pub fn lint_set(files: &[(&str, &str)], id: &str) -> Vec<Finding> {
        let sources = files
            .iter()
            .map(|(name, sql)| SourceText {
                path: PathBuf::from(name),
                text: sql.to_string(),
            })
            .collect();
        check_statements(sources)
            .into_iter()
            .filter(|f| f.rule == id)
            .collect()
    }

    /// Lints one file `20240101000000_test.sql`; findings of rule `id`.
    pub fn lint(sql: &str, id: &str) -> Vec<Finding> {
        lint_set(&[("20240101000000_test.sql", sql)], id)
    }

    /// The findings rendered as the human output (plain), for snapshots.
    pub fn render(files: &[(&str, &str)], findings: &[Finding]) -> String {
        findings
            .iter()
            .map(|f| {
                let source = match &f.location {
                    Location::File { path, .. } => files
                        .iter()
                        .find(|(n, _)| PathBuf::from(n) == *path)
                        .map(|(_, s)| *s),
                    Location::Object { .. } => None,
                };
                format::human(f, source, false)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;

    #[test]
    fn parse_errors_are_findings_with_postgres_position() {
        let sql = "create table a (id int);\nselect * frm a;\n";
        let found = lint(sql, "parse-error");
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }
}
