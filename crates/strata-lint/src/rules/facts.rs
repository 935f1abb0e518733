//! What the whole migration set does to tables, row-level security, policies, indexes and
//! foreign keys, read once in run order. The security rules judge a statement against it: a
//! table created in one file may get its RLS enabled, its policies or its indexes in later
//! files.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use pg_query::protobuf::{self, AlterTableType as T, ConstrType, ObjectType};
use pg_query::NodeEnum;

use super::ast;
use super::relation_name;
use crate::parse::ParsedFile;

/// A statement's place in the set: file index (run order), then statement index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub file: usize,
    pub stmt: usize,
}

/// Row-level security of a table at the end of the set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rls {
    pub enabled: bool,
    pub forced: bool,
}

/// A policy created in the set.
#[derive(Debug, Clone)]
pub struct PolicyFact {
    pub table: String,
    pub name: String,
    /// `all`, `select`, `insert`, `update` or `delete`.
    pub cmd: String,
    /// Role names; `public` for `TO PUBLIC` or no `TO`.
    pub roles: Vec<String>,
    pub permissive: bool,
    pub created: Pos,
    pub dropped: Option<Pos>,
}

impl PolicyFact {
    /// Whether the policy exists just before `at`.
    pub fn live_at(&self, at: Pos) -> bool {
        self.created < at && self.dropped.is_none_or(|d| d >= at)
    }

    /// The commands it applies to.
    pub fn commands(&self) -> Vec<&str> {
        if self.cmd == "all" {
            vec!["select", "insert", "update", "delete"]
        } else {
            vec![self.cmd.as_str()]
        }
    }
}

/// An index (or the index behind a primary key or unique constraint) created in the set.
#[derive(Debug, Clone)]
pub struct IndexFact {
    pub table: String,
    /// The name written (or PostgreSQL's default for a constraint), `None` when left to
    /// PostgreSQL.
    pub name: Option<String>,
    /// Key columns in order (an expression as its canonical form in parentheses).
    pub columns: Vec<String>,
    /// Access method, predicate and expression details: two indexes with equal `columns` and
    /// `shape` are the same index.
    pub shape: String,
    pub primary: bool,
    pub unique: bool,
    pub created: Pos,
    /// Where it is written in its file.
    pub range: Range<usize>,
    pub dropped: Option<Pos>,
}

impl IndexFact {
    /// What it is, for messages: `primary key public.t(id)` / `index idx on public.t(id)`.
    pub fn describe(&self) -> String {
        let cols = self.columns.join(", ");
        match (&self.name, self.primary) {
            (_, true) => format!("primary key of {}({cols})", self.table),
            (Some(n), false) => format!("index {n} on {}({cols})", self.table),
            (None, false) => format!("an index on {}({cols})", self.table),
        }
    }
}

/// A foreign key created in the set.
#[derive(Debug, Clone)]
pub struct ForeignKeyFact {
    pub table: String,
    pub columns: Vec<String>,
    pub references: String,
    pub created: Pos,
    pub range: Range<usize>,
}

/// A `CHECK (col IS NOT NULL)` constraint created in the set: once valid, it proves the column
/// has no NULL, so a later `SET NOT NULL` skips its scan (PostgreSQL 12+) and changes nothing for
/// the application that already writes the column.
#[derive(Debug, Clone)]
pub struct NotNullCheck {
    pub table: String,
    pub column: String,
    /// The constraint's name (empty when left to PostgreSQL).
    pub name: String,
    pub created: Pos,
    /// Where it became valid: where it was created (without NOT VALID) or validated.
    pub valid_from: Option<Pos>,
    pub dropped: Option<Pos>,
}

/// A column type as the set writes it: the type's own name (`varchar`, `numeric`, `text`;
/// PostgreSQL's parser has already turned SQL's spellings into these), its modifiers
/// (`varchar(50)` → `[50]`) and whether it is an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColType {
    pub name: String,
    pub mods: Vec<i64>,
    pub array: bool,
}

impl ColType {
    /// From a parsed type name.
    pub fn of(t: &protobuf::TypeName) -> ColType {
        let name = ast::strings(&t.names)
            .pop()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mods = t
            .typmods
            .iter()
            .filter_map(|m| match &m.node {
                Some(NodeEnum::AConst(c)) => match &c.val {
                    Some(protobuf::a_const::Val::Ival(i)) => Some(i.ival as i64),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        ColType {
            name,
            mods,
            array: !t.array_bounds.is_empty(),
        }
    }

    /// Whether changing a column from `self` to `new` (without USING) keeps every value and
    /// needs no table rewrite: the new type is the same, or `self` is binary coercible to it
    /// with no narrower limit. From PostgreSQL's ALTER TABLE documentation ("if the old type is
    /// binary coercible to the new type … a table rewrite is not needed") and `pg_cast`'s
    /// binary-coercible entries (`castmethod = 'b'`): varchar(n) → varchar(m ≥ n), varchar,
    /// text; text → varchar; numeric(p,s) → numeric(q ≥ p, s) or numeric; varbit(n) →
    /// varbit(m ≥ n); cidr → inet; xml → text. `None` when it depends on a setting
    /// (timestamp → timestamptz needs no rewrite only when TimeZone is UTC).
    pub fn widens_to(&self, new: &ColType) -> Option<bool> {
        if self.array != new.array {
            return Some(false);
        }
        let wider = |old: &[i64], new: &[i64]| match (old.first(), new.first()) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(o), Some(n)) => n >= o,
        };
        let (o, n) = (self.name.as_str(), new.name.as_str());
        Some(match (o, n) {
            _ if self == new => true,
            ("varchar", "varchar") | ("varbit", "varbit") => wider(&self.mods, &new.mods),
            ("varchar", "text") | ("text", "varchar") if new.mods.is_empty() => true,
            ("varchar", "text") => true,
            ("numeric", "numeric") => {
                new.mods.is_empty()
                    || (wider(&self.mods, &new.mods)
                        && self.mods.get(1).copied().unwrap_or(0)
                            == new.mods.get(1).copied().unwrap_or(0))
            }
            ("cidr", "inet") | ("xml", "text") => true,
            ("timestamp", "timestamptz") => return None,
            _ => false,
        })
    }
}

/// Set-wide facts for the security rules.
#[derive(Debug, Default)]
pub struct SetFacts {
    /// Tables created in the set and not dropped, with where they were created.
    pub tables: HashMap<String, Pos>,
    /// RLS state at the end of the set, for every table an `ALTER TABLE … ROW LEVEL SECURITY`
    /// touched.
    pub rls: HashMap<String, Rls>,
    pub policies: Vec<PolicyFact>,
    pub indexes: Vec<IndexFact>,
    pub foreign_keys: Vec<ForeignKeyFact>,
    /// Schemas the API roles can reach: the platform's ([`crate::api_schemas`]: `public`
    /// on Supabase), and any schema the set grants USAGE on to `anon`, `authenticated` or
    /// `PUBLIC`.
    pub exposed_schemas: HashSet<String>,
    /// Views whose `security_invoker` is on at the end of the set.
    pub invoker_views: HashSet<String>,
    /// `CHECK (col IS NOT NULL)` constraints, in creation order.
    pub not_null_checks: Vec<NotNullCheck>,
    /// Each column's type over the set: `(table, column)` → where it was set, and to what.
    column_types: HashMap<(String, String), Vec<(Pos, ColType)>>,
    /// Whether some DO block or function body of the set mentions `ROW LEVEL SECURITY`: RLS may
    /// be switched in dynamic SQL (`EXECUTE format('ALTER TABLE %I ENABLE …')`), which the
    /// files alone cannot follow.
    pub dynamic_rls: bool,
    /// Functions whose `search_path` an `ALTER FUNCTION … SET search_path` of the set pins
    /// (qualified names).
    pub pinned_functions: HashSet<String>,
    /// Lookups, so that rules stay linear in the size of the set.
    policies_by_table: HashMap<String, Vec<usize>>,
    policy_at: HashMap<Pos, usize>,
    indexes_by_file: HashMap<usize, Vec<usize>>,
    indexes_by_table: HashMap<String, Vec<usize>>,
    indexes_by_name: HashMap<String, Vec<usize>>,
    foreign_keys_by_file: HashMap<usize, Vec<usize>>,
    /// First live index of each (table, columns, shape), by position in `indexes`.
    first_index: HashMap<(String, Vec<String>, String), usize>,
}

/// Roles whose grants expose a schema to the Data API (Supabase's, or PostgREST's).
const API_ROLES: &[&str] = &["anon", "authenticated", "public"];

impl SetFacts {
    /// Facts from nothing yet: the platform's exposed schemas ([`crate::api_schemas`]).
    pub fn new(api_schemas: &[String]) -> SetFacts {
        let mut f = SetFacts::default();
        f.exposed_schemas.extend(api_schemas.iter().cloned());
        f
    }

    /// Reads file `fi` of the set (files in run order), with its statements' trees.
    pub fn add_file(&mut self, fi: usize, file: &ParsedFile, nodes: &[Option<NodeEnum>]) {
        for (si, (st, node)) in file.statements.iter().zip(nodes).enumerate() {
            let Some(node) = node else { continue };
            let pos = Pos { file: fi, stmt: si };
            self.statement(node, pos, &file.text, st);
        }
    }

    /// The facts of files read one by one ([`SetFacts::add_file`]), with their lookups built.
    pub fn finish(mut self) -> SetFacts {
        let f = &mut self;
        for (i, p) in f.policies.iter().enumerate() {
            f.policy_at.insert(p.created, i);
        }
        for (i, x) in f.indexes.iter().enumerate() {
            f.indexes_by_file.entry(x.created.file).or_default().push(i);
            if x.dropped.is_none() {
                f.first_index
                    .entry((x.table.clone(), x.columns.clone(), x.shape.clone()))
                    .or_insert(i);
            }
        }
        for (i, k) in f.foreign_keys.iter().enumerate() {
            f.foreign_keys_by_file
                .entry(k.created.file)
                .or_default()
                .push(i);
        }
        self
    }

    fn column_type(&mut self, table: &str, column: &str, t: Option<&protobuf::TypeName>, pos: Pos) {
        if let Some(t) = t {
            self.column_types
                .entry((table.to_string(), column.to_string()))
                .or_default()
                .push((pos, ColType::of(t)));
        }
    }

    /// The type of `table.column` just before `at`, when the set says (it created the table or
    /// added the column).
    pub fn column_type_before(&self, table: &str, column: &str, at: Pos) -> Option<&ColType> {
        self.column_types
            .get(&(table.to_string(), column.to_string()))?
            .iter()
            .rev()
            .find(|(p, _)| *p < at)
            .map(|(_, t)| t)
    }

    /// Whether a valid `CHECK (column IS NOT NULL)` on `table` exists just before `at`.
    pub fn not_null_proven(&self, table: &str, column: &str, at: Pos) -> bool {
        self.not_null_checks.iter().any(|c| {
            c.table == table
                && c.column == column
                && c.valid_from.is_some_and(|v| v < at)
                && c.dropped.is_none_or(|d| d >= at)
        })
    }

    /// Policies on `table` (live or dropped), in creation order.
    pub fn policies_on<'a>(&'a self, table: &str) -> impl Iterator<Item = &'a PolicyFact> {
        self.policies_by_table
            .get(table)
            .into_iter()
            .flatten()
            .map(|&i| &self.policies[i])
    }

    /// The policy created by the statement at `pos`.
    pub fn policy_created_at(&self, pos: Pos) -> Option<&PolicyFact> {
        self.policy_at.get(&pos).map(|&i| &self.policies[i])
    }

    /// Indexes created in file `file`, with their position in `indexes`.
    pub fn indexes_in_file(&self, file: usize) -> impl Iterator<Item = (usize, &IndexFact)> {
        self.indexes_by_file
            .get(&file)
            .into_iter()
            .flatten()
            .map(|&i| (i, &self.indexes[i]))
    }

    /// The first live index identical to `index` (same table, columns and shape).
    pub fn first_identical(&self, index: &IndexFact) -> Option<(usize, &IndexFact)> {
        let key = (
            index.table.clone(),
            index.columns.clone(),
            index.shape.clone(),
        );
        self.first_index.get(&key).map(|&i| (i, &self.indexes[i]))
    }

    /// Foreign keys created in file `file`.
    pub fn foreign_keys_in_file(&self, file: usize) -> impl Iterator<Item = &ForeignKeyFact> {
        self.foreign_keys_by_file
            .get(&file)
            .into_iter()
            .flatten()
            .map(|&i| &self.foreign_keys[i])
    }

    fn statement(
        &mut self,
        node: &NodeEnum,
        pos: Pos,
        text: &str,
        st: &crate::parse::ParsedStatement,
    ) {
        match node {
            NodeEnum::CreateStmt(c) => {
                let Some(rv) = &c.relation else { return };
                let table = relation_name(rv);
                if c.if_not_exists && self.tables.contains_key(&table) {
                    return;
                }
                self.tables.insert(table.clone(), pos);
                for elt in &c.table_elts {
                    if let Some(col) = ast::column_def(elt) {
                        self.column_type(&table, &col.colname, col.type_name.as_ref(), pos);
                        for con in col.constraints.iter().filter_map(ast::constraint) {
                            self.constraint(
                                &table,
                                con,
                                std::slice::from_ref(&col.colname),
                                pos,
                                text,
                                st,
                            );
                        }
                    } else if let Some(con) = ast::constraint(elt) {
                        self.constraint(&table, con, &[], pos, text, st);
                    }
                }
                for con in c.constraints.iter().filter_map(ast::constraint) {
                    self.constraint(&table, con, &[], pos, text, st);
                }
            }
            NodeEnum::AlterTableStmt(a) if ast::is_table(a) => {
                let Some(rv) = &a.relation else { return };
                let table = relation_name(rv);
                for cmd in ast::alter_cmds(a) {
                    match cmd.subtype() {
                        T::AtEnableRowSecurity => self.rls_mut(&table).enabled = true,
                        T::AtDisableRowSecurity => self.rls_mut(&table).enabled = false,
                        T::AtForceRowSecurity => self.rls_mut(&table).forced = true,
                        T::AtNoForceRowSecurity => self.rls_mut(&table).forced = false,
                        T::AtAlterColumnType => {
                            if let Some(col) = cmd.def.as_deref().and_then(ast::column_def) {
                                self.column_type(&table, &cmd.name, col.type_name.as_ref(), pos);
                            }
                        }
                        T::AtAddColumn => {
                            if let Some(col) = cmd.def.as_deref().and_then(ast::column_def) {
                                self.column_type(&table, &col.colname, col.type_name.as_ref(), pos);
                                for con in col.constraints.iter().filter_map(ast::constraint) {
                                    self.constraint(
                                        &table,
                                        con,
                                        std::slice::from_ref(&col.colname),
                                        pos,
                                        text,
                                        st,
                                    );
                                }
                            }
                        }
                        T::AtAddConstraint => {
                            if let Some(con) = cmd.def.as_deref().and_then(ast::constraint) {
                                self.constraint(&table, con, &[], pos, text, st);
                            }
                        }
                        T::AtValidateConstraint => {
                            for c in self.not_null_checks.iter_mut().filter(|c| {
                                c.table == table && c.name == cmd.name && c.dropped.is_none()
                            }) {
                                c.valid_from.get_or_insert(pos);
                            }
                        }
                        T::AtDropConstraint => {
                            for c in self.not_null_checks.iter_mut().filter(|c| {
                                c.table == table && c.name == cmd.name && c.dropped.is_none()
                            }) {
                                c.dropped = Some(pos);
                            }
                        }
                        _ => {}
                    }
                }
            }
            NodeEnum::IndexStmt(i) => {
                let Some(rv) = &i.relation else { return };
                let table = relation_name(rv);
                if i.if_not_exists
                    && !i.idxname.is_empty()
                    && self
                        .indexes_by_name
                        .get(&i.idxname)
                        .into_iter()
                        .flatten()
                        .any(|&x| self.indexes[x].dropped.is_none())
                {
                    return;
                }
                let shape = format!(
                    "{}|{}|{}",
                    if i.access_method.is_empty() {
                        "btree"
                    } else {
                        &i.access_method
                    },
                    i.where_clause
                        .as_deref()
                        .map(ast::canonical)
                        .unwrap_or_default(),
                    i.index_params
                        .iter()
                        .map(|p| match &p.node {
                            Some(NodeEnum::IndexElem(e)) => format!(
                                "{:?}{:?}{}{}",
                                ast::strings(&e.opclass),
                                ast::strings(&e.collation),
                                e.ordering,
                                e.nulls_ordering
                            ),
                            _ => String::new(),
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                );
                self.push_index(IndexFact {
                    table,
                    name: (!i.idxname.is_empty()).then(|| i.idxname.clone()),
                    columns: ast::key_columns(&i.index_params),
                    shape,
                    primary: i.primary,
                    unique: i.unique,
                    created: pos,
                    range: ast::first_line(text, st),
                    dropped: None,
                });
            }
            NodeEnum::DoStmt(_) | NodeEnum::CreateFunctionStmt(_) => {
                let body = text[st.code.clone()].to_ascii_lowercase();
                if body.contains("row level security") {
                    self.dynamic_rls = true;
                }
            }
            NodeEnum::AlterFunctionStmt(a) => {
                let pins = a.actions.iter().any(|o| match &o.node {
                    Some(NodeEnum::DefElem(d)) => {
                        d.defname == "set"
                            && matches!(d.arg.as_deref().and_then(|a| a.node.as_ref()),
                                Some(NodeEnum::VariableSetStmt(v)) if v.name.eq_ignore_ascii_case("search_path"))
                    }
                    _ => false,
                });
                if let (true, Some(f)) = (pins, &a.func) {
                    self.pinned_functions
                        .insert(ast::qualified(&ast::strings(&f.objname)));
                }
            }
            NodeEnum::CreatePolicyStmt(p) => {
                let Some(rv) = &p.table else { return };
                let roles = p
                    .roles
                    .iter()
                    .filter_map(|r| match &r.node {
                        Some(NodeEnum::RoleSpec(r)) if r.rolename.is_empty() => {
                            Some("public".to_string())
                        }
                        Some(NodeEnum::RoleSpec(r)) => Some(r.rolename.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>();
                let table = relation_name(rv);
                self.policies_by_table
                    .entry(table.clone())
                    .or_default()
                    .push(self.policies.len());
                self.policies.push(PolicyFact {
                    table,
                    name: p.policy_name.clone(),
                    cmd: if p.cmd_name.is_empty() {
                        "all".into()
                    } else {
                        p.cmd_name.to_ascii_lowercase()
                    },
                    roles: if roles.is_empty() {
                        vec!["public".into()]
                    } else {
                        roles
                    },
                    permissive: p.permissive,
                    created: pos,
                    dropped: None,
                });
            }
            NodeEnum::DropStmt(d) => {
                let names: Vec<Vec<String>> = d
                    .objects
                    .iter()
                    .map(|o| match &o.node {
                        Some(NodeEnum::List(l)) => ast::strings(&l.items),
                        Some(NodeEnum::String(s)) => vec![s.sval.clone()],
                        _ => Vec::new(),
                    })
                    .collect();
                match d.remove_type() {
                    ObjectType::ObjectTable => {
                        for n in names {
                            let table = ast::qualified(&n);
                            self.tables.remove(&table);
                            self.rls.remove(&table);
                            for &p in self.policies_by_table.get(&table).into_iter().flatten() {
                                self.policies[p].dropped.get_or_insert(pos);
                            }
                            for &i in self.indexes_by_table.get(&table).into_iter().flatten() {
                                self.indexes[i].dropped.get_or_insert(pos);
                            }
                            self.foreign_keys.retain(|k| k.table != table);
                        }
                    }
                    ObjectType::ObjectIndex => {
                        for n in names {
                            let Some(name) = n.last() else { continue };
                            let schema = (n.len() > 1).then(|| n[n.len() - 2].clone());
                            for &k in self.indexes_by_name.get(name).into_iter().flatten() {
                                let i = &mut self.indexes[k];
                                if i.dropped.is_none()
                                    && schema
                                        .as_ref()
                                        .is_none_or(|s| i.table.starts_with(&format!("{s}.")))
                                {
                                    i.dropped = Some(pos);
                                }
                            }
                        }
                    }
                    ObjectType::ObjectPolicy => {
                        for n in names {
                            let [table @ .., name] = n.as_slice() else {
                                continue;
                            };
                            let table = ast::qualified(table);
                            for &k in self.policies_by_table.get(&table).into_iter().flatten() {
                                let p = &mut self.policies[k];
                                if p.dropped.is_none() && &p.name == name {
                                    p.dropped = Some(pos);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            NodeEnum::ViewStmt(v) => {
                let Some(rv) = &v.view else { return };
                let view = relation_name(rv);
                if ast::option_true(&v.options, "security_invoker") == Some(true) {
                    self.invoker_views.insert(view);
                } else {
                    self.invoker_views.remove(&view);
                }
            }
            NodeEnum::AlterTableStmt(a) if a.objtype() == ObjectType::ObjectView => {
                let Some(rv) = &a.relation else { return };
                let view = relation_name(rv);
                for cmd in ast::alter_cmds(a) {
                    let options = match cmd.def.as_deref().map(|d| &d.node) {
                        Some(Some(NodeEnum::List(l))) => &l.items,
                        _ => continue,
                    };
                    match (cmd.subtype(), ast::option_true(options, "security_invoker")) {
                        (T::AtSetRelOptions, Some(true)) => {
                            self.invoker_views.insert(view.clone());
                        }
                        (T::AtSetRelOptions, Some(false)) => {
                            self.invoker_views.remove(&view);
                        }
                        (T::AtResetRelOptions, _)
                            if options.iter().any(|o| {
                                matches!(&o.node, Some(NodeEnum::DefElem(d)) if d.defname == "security_invoker")
                            }) =>
                        {
                            self.invoker_views.remove(&view);
                        }
                        _ => {}
                    }
                }
            }
            NodeEnum::GrantStmt(g) if g.is_grant && g.objtype() == ObjectType::ObjectSchema => {
                let to_api = g.grantees.iter().any(|r| match &r.node {
                    Some(NodeEnum::RoleSpec(r)) => {
                        r.rolename.is_empty() || API_ROLES.contains(&r.rolename.as_str())
                    }
                    _ => false,
                });
                if to_api {
                    for s in ast::strings(&g.objects) {
                        self.exposed_schemas.insert(s);
                    }
                }
            }
            _ => {}
        }
    }

    /// Records the index a primary key or unique constraint builds, and a foreign key.
    /// `columns` are the column's own name for a column constraint.
    fn constraint(
        &mut self,
        table: &str,
        con: &protobuf::Constraint,
        columns: &[String],
        pos: Pos,
        text: &str,
        st: &crate::parse::ParsedStatement,
    ) {
        let range = if con.location >= 0 {
            let start = ast::offset(text, st, con.location);
            let line_end = text[start..st.code.end]
                .find(['\n', ','])
                .map(|e| start + e)
                .unwrap_or(st.code.end);
            start..text[start..line_end].trim_end().len() + start
        } else {
            ast::first_line(text, st)
        };
        match con.contype() {
            ConstrType::ConstrCheck => {
                // `CHECK (col IS NOT NULL)`, on a column or the table.
                let tested = match con.raw_expr.as_deref().and_then(|e| e.node.as_ref()) {
                    Some(NodeEnum::NullTest(t))
                        if t.nulltesttype() == protobuf::NullTestType::IsNotNull =>
                    {
                        match t.arg.as_deref().and_then(|a| a.node.as_ref()) {
                            Some(NodeEnum::ColumnRef(c)) => ast::strings(&c.fields).pop(),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if let Some(column) = tested {
                    self.not_null_checks.push(NotNullCheck {
                        table: table.to_string(),
                        column,
                        name: con.conname.clone(),
                        created: pos,
                        valid_from: (!con.skip_validation).then_some(pos),
                        dropped: None,
                    });
                }
            }
            ConstrType::ConstrPrimary | ConstrType::ConstrUnique => {
                let primary = con.contype() == ConstrType::ConstrPrimary;
                if !con.indexname.is_empty() {
                    // ADD CONSTRAINT … USING INDEX: the index exists already and becomes the
                    // constraint's.
                    let named = self.indexes_by_name.get(&con.indexname);
                    let live = named
                        .into_iter()
                        .flatten()
                        .copied()
                        .find(|&k| self.indexes[k].dropped.is_none());
                    if let Some(i) = live.map(|k| &mut self.indexes[k]) {
                        i.primary |= primary;
                        i.unique = true;
                    }
                    return;
                }
                let cols = if con.keys.is_empty() {
                    columns.to_vec()
                } else {
                    ast::strings(&con.keys)
                };
                let short = table.split_once('.').map(|(_, t)| t).unwrap_or(table);
                let name = if !con.conname.is_empty() {
                    con.conname.clone()
                } else if primary {
                    format!("{short}_pkey")
                } else {
                    format!("{short}_{}_key", cols.join("_"))
                };
                self.push_index(IndexFact {
                    table: table.to_string(),
                    name: Some(name),
                    // As a plain CREATE INDEX records it: default opclass, collation, ordering.
                    shape: format!("btree||{}", vec!["[][]11"; cols.len()].join(",")),
                    columns: cols,
                    primary,
                    unique: true,
                    created: pos,
                    range,
                    dropped: None,
                });
            }
            ConstrType::ConstrForeign => {
                let cols = if con.fk_attrs.is_empty() {
                    columns.to_vec()
                } else {
                    ast::strings(&con.fk_attrs)
                };
                self.foreign_keys.push(ForeignKeyFact {
                    table: table.to_string(),
                    columns: cols,
                    references: con.pktable.as_ref().map(relation_name).unwrap_or_default(),
                    created: pos,
                    range,
                });
            }
            _ => {}
        }
    }

    fn rls_mut(&mut self, table: &str) -> &mut Rls {
        self.rls.entry(table.to_string()).or_default()
    }

    fn push_index(&mut self, x: IndexFact) {
        let k = self.indexes.len();
        self.indexes_by_table
            .entry(x.table.clone())
            .or_default()
            .push(k);
        if let Some(name) = &x.name {
            self.indexes_by_name
                .entry(name.clone())
                .or_default()
                .push(k);
        }
        self.indexes.push(x);
    }

    /// Live indexes (not dropped by the end of the set) on `table`.
    pub fn live_indexes<'a>(&'a self, table: &str) -> impl Iterator<Item = &'a IndexFact> {
        self.indexes_by_table
            .get(table)
            .into_iter()
            .flatten()
            .map(|&i| &self.indexes[i])
            .filter(|i| i.dropped.is_none())
    }

    /// The table an index named `name` (optionally `schema.name`) was created on, if the set
    /// created it.
    pub fn index_table(&self, parts: &[String]) -> Option<&str> {
        let name = parts.last()?;
        let last = *self.indexes_by_name.get(name)?.last()?;
        Some(self.indexes[last].table.as_str())
    }

    /// Whether `table` is in a schema the API roles can reach.
    pub fn is_exposed(&self, table: &str) -> bool {
        table
            .split_once('.')
            .is_some_and(|(s, _)| self.exposed_schemas.contains(s))
    }
}
