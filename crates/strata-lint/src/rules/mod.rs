//! Statement rules: one module per rule, its [`RuleInfo`] documentation, code and tests side by
//! side. A rule is a function over one parsed file with the whole migration set as context; it
//! pushes [`Finding`]s. [`ALL`] is the registry (`strata lint --explain`, docs/lint-rules.md).

use std::collections::HashMap;
use std::ops::Range;

use pg_query::protobuf::RangeVar;
use pg_query::NodeEnum;

use super::parse::{ParsedFile, ParsedStatement};
use super::{Finding, RuleInfo};

pub mod ast;
pub mod facts;

// Locking, security and type rules (one contiguous block).
pub mod add_column_volatile_default;
pub mod add_serial_column;
pub mod alter_column_type_rewrite;
pub mod auth_function_per_row;
pub mod char_type;
pub mod constraint_without_not_valid;
pub mod drop_index_without_concurrently;
pub mod duplicate_index;
pub mod extension_in_public;
pub mod foreign_key_without_index;
pub mod index_without_concurrently;
pub mod int_primary_key;
pub mod missing_lock_timeout;
pub mod multiple_permissive_policies;
pub mod policy_always_true;
pub mod policy_exists_rls_disabled;
pub mod policy_user_metadata;
pub mod rls_enabled_no_policy;
pub mod rls_not_forced;
pub mod security_definer_search_path;
pub mod serial_instead_of_identity;
pub mod table_without_rls;
pub mod timestamp_without_time_zone;
pub mod unique_constraint_without_index;
pub mod view_without_security_invoker;

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
pub mod rollback_in_migration;
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
    rollback_in_migration::RULE,
    no_transaction_in_block::RULE,
    schema_and_data::RULE,
    breaking::drop_column::RULE,
    breaking::drop_table::RULE,
    breaking::rename_table::RULE,
    breaking::rename_column::RULE,
    breaking::column_type::RULE,
    breaking::set_not_null::RULE,
    breaking::add_required_column::RULE,
    // Locking, security and type rules (one contiguous block).
    index_without_concurrently::RULE,
    drop_index_without_concurrently::RULE,
    constraint_without_not_valid::RULE,
    add_column_volatile_default::RULE,
    alter_column_type_rewrite::RULE,
    unique_constraint_without_index::RULE,
    add_serial_column::RULE,
    missing_lock_timeout::RULE,
    table_without_rls::RULE,
    rls_not_forced::RULE,
    rls_enabled_no_policy::RULE,
    policy_exists_rls_disabled::RULE,
    auth_function_per_row::RULE,
    policy_always_true::RULE,
    multiple_permissive_policies::RULE,
    policy_user_metadata::RULE,
    security_definer_search_path::RULE,
    view_without_security_invoker::RULE,
    foreign_key_without_index::RULE,
    duplicate_index::RULE,
    extension_in_public::RULE,
    timestamp_without_time_zone::RULE,
    char_type::RULE,
    int_primary_key::RULE,
    serial_instead_of_identity::RULE,
];

/// What the migration set looked like before a file: which tables earlier files created, and
/// which files are deployed.
#[derive(Debug, Default)]
pub struct SetIndex {
    /// Qualified table name (`public.profiles`) → indexes of the files that create it.
    created: HashMap<String, Vec<usize>>,
    /// Which files are applied where the migrations go.
    deployed: crate::Deployed,
    /// RLS, policies, indexes and foreign keys across the set (security rules).
    pub facts: facts::SetFacts,
}

impl SetIndex {
    /// Reads the set (files in run order): the tables each file creates and the facts the
    /// security rules need, decoding each file's trees once and dropping them after.
    pub fn build(
        files: &[ParsedFile],
        api_schemas: &[String],
        deployed: crate::Deployed,
    ) -> SetIndex {
        let mut created: HashMap<String, Vec<usize>> = HashMap::new();
        let mut facts = facts::SetFacts::new(api_schemas);
        // The facts are read in run order on this thread while another decodes the next files'
        // trees (a few files ahead, so the memory stays small).
        std::thread::scope(|s| {
            let (send, receive) = std::sync::mpsc::sync_channel(8);
            s.spawn(move || {
                for file in files {
                    if send.send(file.nodes()).is_err() {
                        break;
                    }
                }
            });
            for (i, (file, nodes)) in files.iter().zip(receive).enumerate() {
                for node in nodes.iter().flatten() {
                    if let Some(table) = created_table(node) {
                        let files = created.entry(table).or_default();
                        if files.last() != Some(&i) {
                            files.push(i);
                        }
                    }
                }
                facts.add_file(i, file, &nodes);
            }
        });
        SetIndex {
            created,
            deployed,
            facts: facts.finish(),
        }
    }
}

/// The context a rule checks a file in.
pub struct Cx<'a> {
    pub file: &'a ParsedFile,
    /// The syntax tree of each of the file's statements ([`ParsedFile::nodes`]).
    pub nodes: &'a [Option<NodeEnum>],
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
            .zip(self.nodes)
            .enumerate()
            .filter_map(|(i, (s, n))| n.as_ref().map(|n| (i, s, n)))
    }

    /// Whether `table` (qualified, see [`relation_name`]) is new at statement `before` of this
    /// file: created earlier in this file, or by an earlier file of the set that is not deployed
    /// ([`crate::Deployed`]). Changes to a new table hold no lock anyone waits on and
    /// break no running code; a table a deployed file created is live.
    pub fn is_new_table(&self, table: &str, before: usize) -> bool {
        let earlier_undeployed = self.set.created.get(table).is_some_and(|files| {
            files
                .iter()
                .any(|&f| f < self.file_index && !self.set.deployed.is_deployed(f, self.file_index))
        });
        if earlier_undeployed {
            return true;
        }
        created_in_file(self.nodes, before)
            .iter()
            .any(|t| t == table)
    }

    /// The subcommands of every `ALTER TABLE` on a table that exists before it (not created
    /// earlier in the set or in this file): `(statement index, statement, table, subcommand)`.
    /// Where the lock and rewrite hazards are.
    pub fn existing_table_alters(
        &self,
    ) -> impl Iterator<
        Item = (
            usize,
            &'a ParsedStatement,
            String,
            &'a pg_query::protobuf::AlterTableCmd,
        ),
    > + '_ {
        self.statements().flat_map(move |(i, st, node)| {
            let alter = match node {
                NodeEnum::AlterTableStmt(a) if ast::is_table(a) => {
                    a.relation.as_ref().and_then(|rv| {
                        let table = relation_name(rv);
                        (!self.is_new_table(&table, i)).then_some((a, table))
                    })
                }
                _ => None,
            };
            alter.into_iter().flat_map(move |(a, table)| {
                ast::alter_cmds(a).map(move |cmd| (i, st, table.clone(), cmd))
            })
        })
    }

    /// Every `ALTER TABLE … ENABLE ROW LEVEL SECURITY` of this file: `(statement, table)`.
    pub fn rls_enables(&self) -> impl Iterator<Item = (&'a ParsedStatement, String)> + '_ {
        self.statements().filter_map(|(_, st, node)| match node {
            NodeEnum::AlterTableStmt(a)
                if ast::alter_cmds(a).any(|c| {
                    c.subtype() == pg_query::protobuf::AlterTableType::AtEnableRowSecurity
                }) =>
            {
                a.relation.as_ref().map(|rv| (st, relation_name(rv)))
            }
            _ => None,
        })
    }

    /// A finding lowered to a warning (at most) because the files alone cannot settle it —
    /// `why` says what is unknown (e.g. a column's old type, for a table the set did not
    /// create). `strata lint --schema` or a target can be exact where a catalog rule exists.
    pub fn uncertain(mut f: Finding, why: &str) -> Finding {
        f.level = f.level.min(crate::Level::Warning);
        f.message = format!("{} ({why})", f.message);
        f
    }

    /// The position of statement `stmt` of this file in the set.
    pub fn pos(&self, stmt: usize) -> facts::Pos {
        facts::Pos {
            file: self.file_index,
            stmt,
        }
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
            object: None,
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
    let start = (st.base + location as usize).clamp(st.code.start, st.code.end);
    let end = (start + len).min(st.code.end).max(start);
    start..end
}

/// From the start of a statement to the end of a name PostgreSQL located (`CREATE TABLE
/// profiles`): the part of the statement a finding about it underlines. Without a location,
/// the statement's first line.
pub fn head(st: &ParsedStatement, text: &str, location: i32, name_len: usize) -> Range<usize> {
    if location >= 0 {
        let end = (st.base + location as usize + name_len).min(st.code.end);
        if end > st.code.start && text.is_char_boundary(end) {
            return st.code.start..end;
        }
    }
    ast::first_line(text, st)
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

pub use strata::quote::ident;

/// The table a statement creates: `CREATE TABLE`, `CREATE TABLE … AS`, `SELECT … INTO` (a
/// materialized view is not a table the lock rules look at).
pub fn created_table(node: &NodeEnum) -> Option<String> {
    match node {
        NodeEnum::CreateStmt(c) => c.relation.as_ref().map(relation_name),
        NodeEnum::CreateTableAsStmt(c)
            if pg_query::protobuf::ObjectType::try_from(c.objtype)
                == Ok(pg_query::protobuf::ObjectType::ObjectTable) =>
        {
            c.into.as_ref()?.rel.as_ref().map(relation_name)
        }
        NodeEnum::SelectStmt(s) => s.into_clause.as_ref()?.rel.as_ref().map(relation_name),
        _ => None,
    }
}

/// Tables this file created before statement `before` (qualified names).
pub fn created_in_file(nodes: &[Option<NodeEnum>], before: usize) -> Vec<String> {
    nodes[..before.min(nodes.len())]
        .iter()
        .flatten()
        .filter_map(created_table)
        .collect()
}

/// Test helpers for rule modules.
#[cfg(test)]
pub mod testing {
    use std::path::PathBuf;

    use crate::{check_statements, format, Deployed, Finding, Location, SourceText};

    /// Lints files `(name, sql)` as a migration set in this order, every file before the one
    /// checked deployed (plain `strata lint`); returns the findings of rule `id` only.
    pub fn lint_set(files: &[(&str, &str)], id: &str) -> Vec<Finding> {
        lint_set_deployed(files, id, &Deployed::EarlierFiles)
    }

    /// [`lint_set`] with no file deployed: a table an earlier file creates is new.
    pub fn lint_set_undeployed(files: &[(&str, &str)], id: &str) -> Vec<Finding> {
        lint_set_deployed(files, id, &Deployed::Nothing)
    }

    /// [`lint_set`] with `deployed` saying which files are applied.
    pub fn lint_set_deployed(
        files: &[(&str, &str)],
        id: &str,
        deployed: &Deployed,
    ) -> Vec<Finding> {
        let sources = files
            .iter()
            .map(|(name, sql)| SourceText {
                path: PathBuf::from(name),
                text: sql.to_string(),
            })
            .collect();
        check_statements(sources, deployed)
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

/// The shipped example app, linted as a set by the locking, security and type rules.
#[cfg(test)]
mod example_app {
    use std::path::PathBuf;

    use crate::{check_statements, Deployed, Level, SourceText};

    #[test]
    fn chat_app_has_no_error_finding_and_its_warnings_are_known() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/chat-app/supabase/migrations");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().to_string();
                n.ends_with(".sql") && !n.ends_with("_rollback.sql")
            })
            .collect();
        paths.sort();
        let files = paths
            .iter()
            .map(|p| SourceText {
                path: PathBuf::from(p.file_name().unwrap()),
                text: std::fs::read_to_string(p).unwrap(),
            })
            .collect();
        let found = check_statements(files, &Deployed::EarlierFiles);
        let summary: Vec<String> = found
            .iter()
            .map(|f| {
                let at = match &f.location {
                    crate::Location::File { path, line, .. } => {
                        format!("{}:{line}", path.display())
                    }
                    crate::Location::Object { name, .. } => name.clone(),
                };
                format!("{} {} {at}", f.level.as_str(), f.rule)
            })
            .collect();
        assert!(found.iter().all(|f| f.level < Level::Error), "{summary:#?}");
        // What it does report, and why it stays: the DROP TRIGGER … ON auth.users and the
        // policies on storage.objects lock platform tables that exist before the set (no
        // lock_timeout in those files), and each bucket has its own permissive policies on
        // storage.objects for authenticated.
        let rules: std::collections::BTreeSet<&str> = found.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            ["missing-lock-timeout", "multiple-permissive-policies"].into(),
            "{summary:#?}"
        );
    }
}
