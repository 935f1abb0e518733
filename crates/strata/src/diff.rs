//! Drift: how a target's catalog differs from the one its migrations build, and the SQL that
//! closes the gap.
//!
//! [`compare`] lists the [`Difference`]s between two [`Catalog`]s. [`sql`] writes the statements
//! that turn one catalog into the other; [`fix`] gives both directions at once: the SQL that,
//! appended as a new migration, makes the migrations build what the target has, and its
//! rollback. Statements are ordered by dependency: every drop first (dependents before what they
//! depend on), then creations and alterations in [`Kind`] order (schemas and types before
//! tables, columns, constraints, indexes, views, triggers and policies). What cannot be undone
//! exactly (dropped data, enum labels removed) is said in an SQL comment.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::catalog::{Catalog, Kind, Object, ObjectId};
use crate::error::Error;
use crate::history::quote_literal;
use crate::platform::Platform;
use crate::scratch::ScratchDb;
use crate::source::MigrationSet;
use crate::target::Target;

/// Which objects a comparison covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Leave out what the Supabase platform owns ([`Catalog::retain_user_objects`]); set for
    /// Supabase projects, whose scratch database has Strata's emulation and whose target has the
    /// real platform.
    pub exclude_platform: bool,
    /// Only these schemas (all when empty).
    pub schemas: Vec<String>,
}

impl Scope {
    /// The default scope for migrations written for `platform`.
    pub fn for_platform(platform: Platform) -> Scope {
        Scope {
            exclude_platform: platform == Platform::Supabase,
            schemas: Vec::new(),
        }
    }

    /// Removes what is out of scope from `catalog`.
    pub fn apply(&self, catalog: &mut Catalog) {
        if self.exclude_platform {
            catalog.retain_user_objects();
        }
        if !self.schemas.is_empty() {
            catalog.retain_schemas(&self.schemas);
        }
    }
}

/// What `strata diff` finds.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub differences: Vec<Difference>,
    #[serde(flatten)]
    pub fix: Fix,
}

/// Builds `set` on a scratch database on `server`, captures its catalog and `target`'s, and
/// compares them within `scope`. The scratch database is dropped whatever happens. Roles: the
/// scratch database's migrating role is renamed to the target's in owners and grants.
pub async fn drift(
    set: MigrationSet,
    platform: Platform,
    server: &Target,
    target: &Target,
    scope: &Scope,
) -> Result<Drift, Error> {
    let scratch = ScratchDb::create(server, "diff").await?;
    let built = async {
        scratch.build(set, platform).await?;
        let client = scratch.target().connect().await?;
        Catalog::capture(&client).await
    };
    let actual = async {
        let client = target.connect().await?;
        Catalog::capture(&client).await
    };
    let (built, actual) = tokio::join!(built, actual);
    let dropped = scratch.drop_now().await;
    let (mut expected, mut actual) = (built?, actual?);
    dropped?;
    for schema in &scope.schemas {
        let exists = |c: &Catalog| {
            c.objects
                .iter()
                .any(|(id, o)| id.kind == Kind::Schema && o.schema.as_deref() == Some(schema))
        };
        if !exists(&expected) && !exists(&actual) {
            return Err(Error::Setting {
                setting: "--schema".into(),
                message: format!(
                    "schema `{schema}` exists neither in what the migrations build nor in {}",
                    target.display()
                ),
                hint: Some("pass a schema's name as PostgreSQL stores it (unquoted, usually lower case), e.g. --schema public".into()),
            });
        }
    }
    let role = actual.role.clone();
    expected.rename_role(&expected.role.clone(), &role);
    scope.apply(&mut expected);
    scope.apply(&mut actual);
    Ok(Drift {
        differences: compare(&expected, &actual),
        fix: fix(&expected, &actual),
    })
}

/// Where an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The migrations create it; the target does not have it.
    OnlyInMigrations,
    /// The target has it; the migrations do not create it.
    OnlyInTarget,
    /// Both have it, with different properties.
    Changed,
}

/// One property's two values (`None`: unset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyChange {
    pub property: String,
    pub migrations: Option<String>,
    pub target: Option<String>,
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub kind: Kind,
    pub name: String,
    pub status: Status,
    /// For [`Status::Changed`]: the properties that differ.
    pub changes: Vec<PropertyChange>,
}

/// How to name the two sides of a comparison in messages.
#[derive(Debug, Clone, Copy)]
pub struct Sides<'a> {
    /// The left side (`migrations`; `before` for verify).
    pub left: &'a str,
    /// The right side (`target`; `after the rollback`).
    pub right: &'a str,
    /// Said of an object only on the left (`only in the migrations`).
    pub only_left: &'a str,
    /// Said of an object only on the right (`only in the target`).
    pub only_right: &'a str,
}

/// The sides of `strata diff`.
pub const DIFF_SIDES: Sides<'static> = Sides {
    left: "migrations",
    right: "target",
    only_left: "only in the migrations",
    only_right: "only in the target",
};

impl Difference {
    /// The difference in words, with the sides named by `sides`; several lines when
    /// properties changed.
    pub fn describe(&self, sides: Sides<'_>) -> String {
        struct D<'a>(&'a Difference, Sides<'a>);
        impl fmt::Display for D<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, self.1)
            }
        }
        D(self, sides).to_string()
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, DIFF_SIDES)
    }
}

impl Difference {
    fn write(&self, f: &mut fmt::Formatter<'_>, sides: Sides<'_>) -> fmt::Result {
        let what = format!("{} {}", self.kind, self.name);
        let Sides {
            left,
            right,
            only_left,
            only_right,
        } = sides;
        match self.status {
            Status::OnlyInMigrations => write!(f, "- {what} ({only_left})"),
            Status::OnlyInTarget => write!(f, "+ {what} ({only_right})"),
            Status::Changed => {
                write!(f, "~ {what}")?;
                for c in &self.changes {
                    let a = c.migrations.as_deref().unwrap_or("(none)");
                    let b = c.target.as_deref().unwrap_or("(none)");
                    if c.property == "acl" {
                        let (ia, ib) = (
                            acl_items(c.migrations.as_deref()),
                            acl_items(c.target.as_deref()),
                        );
                        let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| {
                            x.difference(y).cloned().collect::<Vec<_>>().join(", ")
                        };
                        write!(f, "\n    grants:")?;
                        let (gone, new) = (only(&ia, &ib), only(&ib, &ia));
                        if !gone.is_empty() {
                            write!(f, " {only_left}: {gone};")?;
                        }
                        if !new.is_empty() {
                            write!(f, " {only_right}: {new};")?;
                        }
                    } else if a.contains('\n') || b.contains('\n') {
                        write!(f, "\n    {} (- {left}, + {right}):", c.property)?;
                        let diff = similar::TextDiff::from_lines(a, b);
                        for change in diff.iter_all_changes() {
                            let sign = match change.tag() {
                                similar::ChangeTag::Delete => '-',
                                similar::ChangeTag::Insert => '+',
                                similar::ChangeTag::Equal => continue,
                            };
                            write!(f, "\n      {sign} {}", change.value().trim_end())?;
                        }
                    } else {
                        write!(f, "\n    {}: {a} ({left}) → {b} ({right})", c.property)?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// The differences between what the migrations build (`expected`) and what a database has
/// (`actual`), in [`Kind`] order.
pub fn compare(expected: &Catalog, actual: &Catalog) -> Vec<Difference> {
    let mut out = Vec::new();
    let ids: BTreeSet<&ObjectId> = expected
        .objects
        .keys()
        .chain(actual.objects.keys())
        .collect();
    // A table on one side only is one difference, not one per column as well.
    let whole_table = |o: &Object| {
        o.parent.as_ref().is_some_and(|p| {
            let table = ObjectId {
                kind: Kind::Table,
                name: p.clone(),
            };
            expected.objects.contains_key(&table) != actual.objects.contains_key(&table)
        })
    };
    for id in ids {
        if id.kind == Kind::Column
            && expected
                .objects
                .get(id)
                .or(actual.objects.get(id))
                .is_some_and(whole_table)
        {
            continue;
        }
        let diff = match (expected.objects.get(id), actual.objects.get(id)) {
            (Some(_), None) => Difference {
                kind: id.kind,
                name: id.name.clone(),
                status: Status::OnlyInMigrations,
                changes: Vec::new(),
            },
            (None, Some(_)) => Difference {
                kind: id.kind,
                name: id.name.clone(),
                status: Status::OnlyInTarget,
                changes: Vec::new(),
            },
            (Some(a), Some(b)) => {
                let keys: BTreeSet<&String> = a.props.keys().chain(b.props.keys()).collect();
                let changes: Vec<PropertyChange> = keys
                    .into_iter()
                    .filter_map(|k| {
                        let va = a.props.get(k).cloned().flatten();
                        let vb = b.props.get(k).cloned().flatten();
                        (va != vb).then(|| PropertyChange {
                            property: k.clone(),
                            migrations: va,
                            target: vb,
                        })
                    })
                    .collect();
                if changes.is_empty() {
                    continue;
                }
                Difference {
                    kind: id.kind,
                    name: id.name.clone(),
                    status: Status::Changed,
                    changes,
                }
            }
            (None, None) => continue,
        };
        out.push(diff);
    }
    out
}

/// The SQL in both directions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fix {
    /// Brings the migrations up to the target: appended as a new migration, the migrations
    /// build what the target has.
    pub sql: String,
    /// Its rollback: back to what the migrations built before.
    pub rollback_sql: String,
}

/// [`sql`] in both directions between what the migrations build and what the target has.
pub fn fix(expected: &Catalog, actual: &Catalog) -> Fix {
    Fix {
        sql: sql(expected, actual),
        rollback_sql: sql(actual, expected),
    }
}

/// The statements that turn a database with catalog `from` into one with catalog `to`, one
/// per line group, ending in `;`; empty when they are equal.
pub fn sql(from: &Catalog, to: &Catalog) -> String {
    let mut g = Gen {
        from,
        to,
        drops: Vec::new(),
        creates: Vec::new(),
        dropped_parents: BTreeSet::new(),
        inlined: BTreeSet::new(),
    };
    // Tables and views that go: their columns, constraints, indexes, triggers, policies and
    // comments go with them.
    for (id, _) in from.objects.iter() {
        if matches!(id.kind, Kind::Table | Kind::View) && !to.objects.contains_key(id) {
            g.dropped_parents.insert(id.name.clone());
        }
    }
    for (id, o) in from.objects.iter() {
        if o.parent
            .as_ref()
            .is_some_and(|p| g.dropped_parents.contains(p))
        {
            continue;
        }
        match to.objects.get(id) {
            None => g.drop(id, o),
            Some(t) if t != o => g.alter(id, o, t),
            Some(_) => {}
        }
    }
    for (id, o) in to.objects.iter() {
        if !from.objects.contains_key(id) && !g.inlined.contains(id) {
            g.create(id, o);
        }
    }
    let mut drops = g.drops;
    drops.sort_by_key(|d| std::cmp::Reverse(d.0));
    let mut creates = g.creates;
    creates.sort_by_key(|c| c.0);
    let mut out = String::new();
    for (_, s) in drops.into_iter().chain(creates) {
        out.push_str(&s);
        out.push('\n');
    }
    out
}

/// Sort key: kind, a rank within the kind (foreign keys after other constraints), order of
/// generation.
type Key = (Kind, u8, usize);

struct Gen<'a> {
    from: &'a Catalog,
    to: &'a Catalog,
    drops: Vec<(Key, String)>,
    creates: Vec<(Key, String)>,
    dropped_parents: BTreeSet<String>,
    inlined: BTreeSet<ObjectId>,
}

fn rank(id: &ObjectId, o: &Object) -> u8 {
    match id.kind {
        Kind::Constraint if o.prop("type") == Some("f") => 1,
        Kind::View if o.prop("kind") == Some("materialized view") => 1,
        _ => 0,
    }
}

impl Gen<'_> {
    fn push_drop(&mut self, id: &ObjectId, o: &Object, sql: String) {
        let n = self.drops.len();
        self.drops.push(((id.kind, rank(id, o), n), sql));
    }

    fn push_create(&mut self, id: &ObjectId, o: &Object, sql: String) {
        let n = self.creates.len();
        self.creates.push(((id.kind, rank(id, o), n), sql));
    }

    fn push_after(&mut self, kind: Kind, sql: String) {
        let n = self.creates.len();
        self.creates.push(((kind, 9, n), sql));
    }

    fn drop(&mut self, id: &ObjectId, o: &Object) {
        let name = &id.name;
        let parent = o.parent.as_deref().unwrap_or("");
        let local = &o.local;
        let sql = match id.kind {
            Kind::Schema => format!("DROP SCHEMA IF EXISTS {name};"),
            Kind::Extension => format!("DROP EXTENSION IF EXISTS {name};"),
            Kind::Type => match o.prop("kind") {
                Some("domain") => format!("DROP DOMAIN IF EXISTS {name};"),
                _ => format!("DROP TYPE IF EXISTS {name};"),
            },
            Kind::Sequence => format!("DROP SEQUENCE IF EXISTS {name};"),
            Kind::Table => format!(
                "-- Drops {name} with its rows: recreating the table brings it back empty.\nDROP TABLE IF EXISTS {name};"
            ),
            Kind::Column => format!(
                "-- Drops column {name} with its data: re-adding the column brings it back empty.\nALTER TABLE {parent} DROP COLUMN IF EXISTS {local};"
            ),
            Kind::Function => format!(
                "DROP {} IF EXISTS {name};",
                o.prop("kind").unwrap_or("function").to_uppercase()
            ),
            Kind::Constraint => match o.prop("on") {
                Some("domain") => {
                    format!("ALTER DOMAIN {parent} DROP CONSTRAINT IF EXISTS {local};")
                }
                _ => format!("ALTER TABLE {parent} DROP CONSTRAINT IF EXISTS {local};"),
            },
            Kind::Index => format!("DROP INDEX IF EXISTS {name};"),
            Kind::View => format!("DROP {} IF EXISTS {name};", view_word(o)),
            Kind::Trigger => format!("DROP TRIGGER IF EXISTS {local} ON {parent};"),
            Kind::Policy => format!("DROP POLICY IF EXISTS {local} ON {parent};"),
            Kind::Publication => format!("DROP PUBLICATION IF EXISTS {name};"),
            Kind::EventTrigger => format!("DROP EVENT TRIGGER IF EXISTS {name};"),
            Kind::DefaultPrivileges => {
                let mut out = Vec::new();
                // A database-wide entry goes back to the built-in privileges, a per-schema one
                // to none.
                self.default_privileges(o, &acl_items(o.prop("acl")), &acl_items(o.prop("builtin")), &mut out);
                out.join("\n")
            }
            Kind::Comment => {
                if self.comment_target_dropped(id) {
                    return;
                }
                format!("COMMENT ON {name} IS NULL;")
            }
            Kind::Bucket => format!(
                "-- Deletes the bucket row; its objects must be gone first. Supabase refuses direct\n\
                 -- deletes from its storage tables unless the transaction allows them.\n\
                 SELECT set_config('storage.allow_delete_query', 'true', true);\n\
                 DELETE FROM storage.buckets WHERE id = {local};"
            ),
        };
        if !sql.is_empty() {
            self.push_drop(id, o, sql);
        }
    }

    /// Whether the object a comment is on is dropped anyway.
    fn comment_target_dropped(&self, id: &ObjectId) -> bool {
        let target = id.name.split_once(' ').map(|(_, n)| n).unwrap_or("");
        let target = target.strip_prefix("VIEW ").unwrap_or(target);
        [
            Kind::Function,
            Kind::Schema,
            Kind::Type,
            Kind::Sequence,
            Kind::Index,
            Kind::Column,
            Kind::Table,
            Kind::View,
        ]
        .iter()
        .any(|k| {
            let oid = ObjectId {
                kind: *k,
                name: target.to_string(),
            };
            self.from.objects.contains_key(&oid) && !self.to.objects.contains_key(&oid)
        })
    }

    fn create(&mut self, id: &ObjectId, o: &Object) {
        let name = &id.name;
        let parent = o.parent.as_deref().unwrap_or("");
        let local = &o.local;
        let mut after: Vec<String> = Vec::new();
        let sql = match id.kind {
            Kind::Schema => format!("CREATE SCHEMA IF NOT EXISTS {name};"),
            Kind::Extension => format!(
                "CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA {} VERSION {};",
                o.prop("schema").unwrap_or("public"),
                quote_literal(o.prop("version").unwrap_or(""))
            ),
            Kind::Type => unless_type_exists(name, match o.prop("kind") {
                Some("enum") => format!(
                    "CREATE TYPE {name} AS ENUM ({});",
                    o.prop("labels").unwrap_or("")
                ),
                Some("domain") => {
                    let mut s = format!("CREATE DOMAIN {name} AS {}", o.prop("base").unwrap_or(""));
                    if let Some(d) = o.prop("default") {
                        s.push_str(&format!(" DEFAULT {d}"));
                    }
                    if o.prop("not_null") == Some("true") {
                        s.push_str(" NOT NULL");
                    }
                    s + ";"
                }
                Some("composite") => format!(
                    "CREATE TYPE {name} AS ({});",
                    o.prop("attributes").unwrap_or("")
                ),
                Some("range") => format!(
                    "CREATE TYPE {name} AS RANGE (subtype = {});",
                    o.prop("subtype").unwrap_or("")
                ),
                other => format!(
                    "-- type {name} ({}) cannot be created from its catalog entry; write its CREATE TYPE by hand.",
                    other.unwrap_or("?")
                ),
            }),
            Kind::Sequence => {
                if let Some(owner) = o.prop("owned_by") {
                    after.push(format!("ALTER SEQUENCE {name} OWNED BY {owner};"));
                }
                format!("CREATE SEQUENCE IF NOT EXISTS {name}{};", sequence_options(o, None))
            }
            Kind::Table => self.create_table(id, o),
            Kind::Column => {
                let columns = self
                    .to
                    .objects
                    .iter()
                    .filter(|(cid, c)| cid.kind == Kind::Column && c.parent.as_deref() == Some(parent))
                    .count();
                let position = o.prop("position").unwrap_or("?");
                let note = if position.parse::<usize>().is_ok_and(|p| p < columns) {
                    format!("-- column {name}: added at the end of the table, not at position {position} (PostgreSQL cannot move a column).\n")
                } else {
                    String::new()
                };
                format!(
                    "{note}ALTER TABLE {parent} ADD COLUMN IF NOT EXISTS {};",
                    column_def(local, o)
                )
            }
            Kind::Function => format!("{};", o.prop("definition").unwrap_or("").trim_end()),
            Kind::Constraint => match o.prop("on") {
                Some("domain") => unless_exists(
                    &format!(
                        "SELECT 1 FROM pg_catalog.pg_constraint WHERE contypid = {}::regtype AND conname = {}",
                        quote_literal(parent),
                        quote_literal(&unquote(local))
                    ),
                    &format!(
                        "ALTER DOMAIN {parent} ADD CONSTRAINT {local} {};",
                        o.prop("definition").unwrap_or("")
                    ),
                ),
                _ => unless_exists(
                    &format!(
                        "SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = {}::regclass AND conname = {}",
                        quote_literal(parent),
                        quote_literal(&unquote(local))
                    ),
                    &format!(
                        "ALTER TABLE {parent} ADD CONSTRAINT {local} {};",
                        o.prop("definition").unwrap_or("")
                    ),
                ),
            },
            Kind::Index => format!("{};", if_not_exists_index(o.prop("definition").unwrap_or(""))),
            Kind::View => {
                let options = o
                    .prop("options")
                    .filter(|s| !s.is_empty())
                    .map(|s| format!(" WITH ({s})"))
                    .unwrap_or_default();
                let create = match view_word(o) {
                    "VIEW" => "CREATE OR REPLACE VIEW".to_string(),
                    word => format!("CREATE {word} IF NOT EXISTS"),
                };
                format!("{create} {name}{options} AS\n{};", view_body(o))
            }
            Kind::Trigger => {
                if let Some(e) = o.prop("enabled").filter(|e| *e != "ENABLE") {
                    after.push(format!("ALTER TABLE {parent} {e} TRIGGER {local};"));
                }
                format!(
                    "DROP TRIGGER IF EXISTS {local} ON {parent};\n{};",
                    o.prop("definition").unwrap_or("")
                )
            }
            Kind::Policy => format!(
                "DROP POLICY IF EXISTS {local} ON {parent};\n{}",
                create_policy(local, parent, o)
            ),
            Kind::Publication => {
                let target = if o.prop("all_tables") == Some("true") {
                    " FOR ALL TABLES".to_string()
                } else {
                    o.prop("tables")
                        .filter(|t| !t.is_empty())
                        .map(|t| format!(" FOR TABLE {t}"))
                        .unwrap_or_default()
                };
                unless_exists(
                    &format!(
                        "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = {}",
                        quote_literal(&unquote(name))
                    ),
                    &format!(
                        "CREATE PUBLICATION {name}{target} WITH (publish = {});",
                        quote_literal(o.prop("publish").unwrap_or(""))
                    ),
                )
            }
            Kind::EventTrigger => {
                if let Some(e) = o.prop("enabled").filter(|e| *e != "ENABLE") {
                    after.push(format!("ALTER EVENT TRIGGER {name} {e};"));
                }
                let tags = o
                    .prop("tags")
                    .filter(|t| !t.is_empty())
                    .map(|t| format!(" WHEN TAG IN ({t})"))
                    .unwrap_or_default();
                unless_exists(
                    &format!(
                        "SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = {}",
                        quote_literal(&unquote(name))
                    ),
                    &format!(
                        "CREATE EVENT TRIGGER {name} ON {}{tags} EXECUTE FUNCTION {}();",
                        o.prop("event").unwrap_or(""),
                        o.prop("function").unwrap_or("")
                    ),
                )
            }
            Kind::DefaultPrivileges => {
                let mut out = Vec::new();
                self.default_privileges(o, &acl_items(o.prop("builtin")), &acl_items(o.prop("acl")), &mut out);
                out.join("\n")
            }
            Kind::Comment => format!(
                "COMMENT ON {name} IS {};",
                quote_literal(o.prop("text").unwrap_or(""))
            ),
            Kind::Bucket => bucket_insert(local, o),
        };
        self.push_create(id, o, sql);
        // Grants of a new object: the difference between what it has and what creating it
        // gives (the built-in privileges and the default privileges of its owner). The owner's
        // own privileges follow ownership.
        if let Some(acl) = o.prop("acl") {
            if !matches!(id.kind, Kind::DefaultPrivileges) {
                let owner = o.prop("owner").map(|s| format!("{s}:"));
                let not_owner =
                    |i: &String| owner.as_ref().is_none_or(|p| !i.starts_with(p.as_str()));
                let baseline: BTreeSet<String> = self
                    .creation_privileges(id, o)
                    .into_iter()
                    .filter(not_owner)
                    .collect();
                let want: BTreeSet<String> =
                    acl_items(Some(acl)).into_iter().filter(not_owner).collect();
                after.extend(grant_sql(&acl_object(id, o), &baseline, &want));
            }
        }
        for s in after {
            self.push_after(id.kind, s);
        }
    }

    /// The privileges a new object gets when its owner creates it: the database-wide default
    /// privileges of the owner (else PostgreSQL's built-in ones) plus those for its schema, as
    /// the target has them.
    fn creation_privileges(&self, id: &ObjectId, o: &Object) -> BTreeSet<String> {
        let objects = match id.kind {
            Kind::Table | Kind::View => "TABLES",
            Kind::Sequence => "SEQUENCES",
            Kind::Function => "FUNCTIONS",
            Kind::Type => "TYPES",
            Kind::Schema => "SCHEMAS",
            _ => return BTreeSet::new(),
        };
        let Some(owner) = o.prop("owner") else {
            return BTreeSet::new();
        };
        let entry = |name: String| {
            self.to.objects.get(&ObjectId {
                kind: Kind::DefaultPrivileges,
                name,
            })
        };
        let mut privileges = match entry(format!("{owner} on {objects}")) {
            Some(d) => acl_items(d.prop("acl")),
            None => match id.kind {
                Kind::Function => acl_items(Some("PUBLIC:EXECUTE")),
                Kind::Type => acl_items(Some("PUBLIC:USAGE")),
                _ => BTreeSet::new(),
            },
        };
        if let (Some(schema), false) = (&o.schema, id.kind == Kind::Schema) {
            if let Some(d) = entry(format!("{owner} in {} on {objects}", ident(schema))) {
                privileges.extend(acl_items(d.prop("acl")));
            }
        }
        privileges
    }

    fn create_table(&mut self, id: &ObjectId, o: &Object) -> String {
        let name = &id.name;
        let mut s = if let Some(parent) = o.prop("partition_of") {
            format!(
                "CREATE TABLE IF NOT EXISTS {name} PARTITION OF {parent} {}",
                o.prop("partition_bound").unwrap_or("DEFAULT")
            )
        } else if o.prop("kind") == Some("foreign table") {
            return format!(
                "-- foreign table {name}: write its CREATE FOREIGN TABLE (server, options) by hand."
            );
        } else {
            let mut columns: Vec<(&ObjectId, &Object)> = self
                .to
                .objects
                .iter()
                .filter(|(cid, c)| cid.kind == Kind::Column && c.parent.as_deref() == Some(name))
                .collect();
            columns.sort_by_key(|(_, c)| {
                c.prop("position")
                    .and_then(|p| p.parse::<u32>().ok())
                    .unwrap_or(0)
            });
            let mut defs = Vec::new();
            let mut grants = Vec::new();
            for (cid, c) in columns {
                defs.push(format!("  {}", column_def(&c.local, c)));
                self.inlined.insert(cid.clone());
                grants.extend(grant_sql(
                    &format!("({}) ON TABLE {name}", c.local),
                    &BTreeSet::new(),
                    &acl_items(c.prop("acl")),
                ));
            }
            for g in grants {
                self.push_after(Kind::Column, g);
            }
            let mut s = format!(
                "CREATE TABLE IF NOT EXISTS {name} (\n{}\n)",
                defs.join(",\n")
            );
            if let Some(key) = o.prop("partition_by") {
                s.push_str(&format!(" PARTITION BY {key}"));
            }
            s
        };
        if let Some(opts) = o.prop("options").filter(|x| !x.is_empty()) {
            s.push_str(&format!(" WITH ({opts})"));
        }
        s.push(';');
        if o.prop("rls") == Some("true") {
            s.push_str(&format!("\nALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"));
        }
        if o.prop("force_rls") == Some("true") {
            s.push_str(&format!("\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;"));
        }
        match o.prop("replica_identity") {
            Some("DEFAULT") | None => {}
            Some(r) => self.push_after(
                Kind::Index,
                format!("ALTER TABLE {name} REPLICA IDENTITY {r};"),
            ),
        }
        s
    }

    fn alter(&mut self, id: &ObjectId, a: &Object, b: &Object) {
        let name = &id.name;
        let parent = b.parent.as_deref().unwrap_or("");
        let local = &b.local;
        let changed = |p: &str| a.prop(p) != b.prop(p);
        let mut out: Vec<String> = Vec::new();
        let recreate = match id.kind {
            Kind::Schema | Kind::DefaultPrivileges | Kind::Comment => false,
            Kind::Extension => {
                if changed("version") {
                    out.push(format!(
                        "ALTER EXTENSION {name} UPDATE TO {};",
                        quote_literal(b.prop("version").unwrap_or(""))
                    ));
                }
                if changed("schema") {
                    out.push(format!(
                        "ALTER EXTENSION {name} SET SCHEMA {};",
                        b.prop("schema").unwrap_or("public")
                    ));
                }
                false
            }
            Kind::Type => match b.prop("kind") {
                _ if changed("kind") => true,
                Some("enum") if changed("labels") => {
                    out.extend(enum_changes(name, a.prop("labels"), b.prop("labels")));
                    false
                }
                Some("domain") => {
                    if changed("base") {
                        out.push(format!("-- domain {name}: its base type changed ({} → {}); rebuild it (a new domain, ALTER COLUMN … TYPE, drop the old one).", a.prop("base").unwrap_or(""), b.prop("base").unwrap_or("")));
                    }
                    if changed("default") {
                        out.push(match b.prop("default") {
                            Some(d) => format!("ALTER DOMAIN {name} SET DEFAULT {d};"),
                            None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
                        });
                    }
                    if changed("not_null") {
                        let verb = if b.prop("not_null") == Some("true") {
                            "SET"
                        } else {
                            "DROP"
                        };
                        out.push(format!("ALTER DOMAIN {name} {verb} NOT NULL;"));
                    }
                    false
                }
                Some("composite") if changed("attributes") => {
                    out.push(format!("-- type {name}: its attributes changed; ALTER TYPE … ADD/DROP/ALTER ATTRIBUTE by hand:\n--   migrations: {}\n--   target:     {}", a.prop("attributes").unwrap_or(""), b.prop("attributes").unwrap_or("")));
                    false
                }
                Some("range") if changed("subtype") => true,
                _ => false,
            },
            Kind::Sequence => {
                let opts = sequence_options(b, Some(a));
                if !opts.is_empty() {
                    out.push(format!("ALTER SEQUENCE {name}{opts};"));
                }
                if changed("owned_by") {
                    out.push(format!(
                        "ALTER SEQUENCE {name} OWNED BY {};",
                        b.prop("owned_by").unwrap_or("NONE")
                    ));
                }
                false
            }
            Kind::Table => {
                if changed("kind")
                    || changed("partition_by")
                    || changed("partition_of")
                    || changed("partition_bound")
                {
                    out.push(format!("-- table {name}: its kind or partitioning changed ({} → {}); recreate it and move its rows by hand.", a.prop("kind").unwrap_or(""), b.prop("kind").unwrap_or("")));
                }
                if changed("rls") {
                    let verb = if b.prop("rls") == Some("true") {
                        "ENABLE"
                    } else {
                        "DISABLE"
                    };
                    out.push(format!("ALTER TABLE {name} {verb} ROW LEVEL SECURITY;"));
                }
                if changed("force_rls") {
                    let verb = if b.prop("force_rls") == Some("true") {
                        "FORCE"
                    } else {
                        "NO FORCE"
                    };
                    out.push(format!("ALTER TABLE {name} {verb} ROW LEVEL SECURITY;"));
                }
                out.extend(option_changes(
                    "TABLE",
                    name,
                    a.prop("options"),
                    b.prop("options"),
                ));
                if changed("replica_identity") {
                    out.push(format!(
                        "ALTER TABLE {name} REPLICA IDENTITY {};",
                        b.prop("replica_identity").unwrap_or("DEFAULT")
                    ));
                }
                false
            }
            Kind::Column => {
                if changed("generated") {
                    self.drop(id, a);
                    true
                } else {
                    let col = format!("ALTER TABLE {parent} ALTER COLUMN {local}");
                    let retype = changed("type") || changed("collation");
                    if a.prop("default").is_some() && (changed("default") || retype) {
                        out.push(format!("{col} DROP DEFAULT;"));
                    }
                    if retype {
                        let ty = b.prop("type").unwrap_or("");
                        let collate = b
                            .prop("collation")
                            .map(|c| format!(" COLLATE {c}"))
                            .unwrap_or_default();
                        out.push(format!("{col} TYPE {ty}{collate} USING {local}::{ty};"));
                    }
                    if let Some(d) = b.prop("default") {
                        if changed("default") || retype {
                            out.push(format!("{col} SET DEFAULT {d};"));
                        }
                    }
                    if changed("not_null") {
                        let verb = if b.prop("not_null") == Some("true") {
                            "SET"
                        } else {
                            "DROP"
                        };
                        out.push(format!("{col} {verb} NOT NULL;"));
                    }
                    if changed("identity") {
                        out.push(match (a.prop("identity"), b.prop("identity")) {
                            (None, Some(i)) => unless_exists(
                                &format!(
                                    "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = {}::regclass AND attname = {} AND attidentity <> ''",
                                    quote_literal(parent),
                                    quote_literal(&unquote(local))
                                ),
                                &format!("{col} ADD GENERATED {i} AS IDENTITY;"),
                            ),
                            (Some(_), None) => format!("{col} DROP IDENTITY IF EXISTS;"),
                            (_, i) => format!("{col} SET GENERATED {};", i.unwrap_or("BY DEFAULT")),
                        });
                    }
                    if changed("position") && !retype {
                        out.push(format!("-- column {name}: position {} → {} is not reproduced (PostgreSQL cannot move a column; recreate the table to change the order).", a.prop("position").unwrap_or("?"), b.prop("position").unwrap_or("?")));
                    }
                    if changed("acl") {
                        out.extend(grant_sql(
                            &format!("({local}) ON TABLE {parent}"),
                            &acl_items(a.prop("acl")),
                            &acl_items(b.prop("acl")),
                        ));
                    }
                    false
                }
            }
            Kind::Function => {
                if changed("returns") || changed("kind") {
                    true
                } else {
                    if changed("definition") {
                        out.push(format!(
                            "{};",
                            b.prop("definition").unwrap_or("").trim_end()
                        ));
                    }
                    false
                }
            }
            Kind::Bucket => {
                out.push(bucket_update(local, a, b));
                false
            }
            Kind::Trigger | Kind::EventTrigger if only_changed(a, b, &["enabled", "owner"]) => {
                if changed("enabled") {
                    let enabled = b.prop("enabled").unwrap_or("ENABLE");
                    out.push(if id.kind == Kind::Trigger {
                        format!("ALTER TABLE {parent} {enabled} TRIGGER {local};")
                    } else {
                        format!("ALTER EVENT TRIGGER {name} {enabled};")
                    });
                }
                false
            }
            Kind::Constraint | Kind::Index | Kind::Trigger | Kind::EventTrigger => true,
            Kind::View => {
                if b.prop("kind") == Some("materialized view") || changed("kind") {
                    changed("definition") || changed("kind") || changed("options")
                } else if !b
                    .prop("columns")
                    .unwrap_or("")
                    .starts_with(a.prop("columns").unwrap_or(""))
                {
                    // CREATE OR REPLACE VIEW can only add columns at the end.
                    true
                } else {
                    if changed("definition") {
                        out.push(format!(
                            "CREATE OR REPLACE VIEW {name} AS\n{};",
                            view_body(b)
                        ));
                    }
                    out.extend(option_changes(
                        "VIEW",
                        name,
                        a.prop("options"),
                        b.prop("options"),
                    ));
                    false
                }
            }
            Kind::Policy => {
                if changed("permissive")
                    || changed("command")
                    || (changed("using") && b.prop("using").is_none())
                    || (changed("with_check") && b.prop("with_check").is_none())
                {
                    true
                } else {
                    let mut s = format!("ALTER POLICY {local} ON {parent}");
                    if changed("roles") {
                        s.push_str(&format!(" TO {}", b.prop("roles").unwrap_or("PUBLIC")));
                    }
                    if let Some(u) = b.prop("using").filter(|_| changed("using")) {
                        s.push_str(&format!(" USING ({u})"));
                    }
                    if let Some(c) = b.prop("with_check").filter(|_| changed("with_check")) {
                        s.push_str(&format!(" WITH CHECK ({c})"));
                    }
                    out.push(s + ";");
                    false
                }
            }
            Kind::Publication => {
                if changed("all_tables") {
                    true
                } else {
                    if changed("publish") {
                        out.push(format!(
                            "ALTER PUBLICATION {name} SET (publish = {});",
                            quote_literal(b.prop("publish").unwrap_or(""))
                        ));
                    }
                    let ta = list(a.prop("tables"));
                    let tb = list(b.prop("tables"));
                    let added: Vec<&str> = tb.difference(&ta).map(String::as_str).collect();
                    let removed: Vec<&str> = ta.difference(&tb).map(String::as_str).collect();
                    // One table at a time, each only when needed: the statement then also runs
                    // where the publication has its tables already.
                    let member = |table: &str| {
                        format!(
                            "SELECT 1 FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = {} AND pr.prrelid = {}::regclass",
                            quote_literal(&unquote(name)),
                            quote_literal(table)
                        )
                    };
                    for t in removed {
                        out.push(format!(
                            "DO $strata$ BEGIN\n  IF EXISTS ({}) THEN\n    ALTER PUBLICATION {name} DROP TABLE {t};\n  END IF;\nEND $strata$;",
                            member(t)
                        ));
                    }
                    for t in added {
                        out.push(unless_exists(
                            &member(t),
                            &format!("ALTER PUBLICATION {name} ADD TABLE {t};"),
                        ));
                    }
                    false
                }
            }
        };
        if recreate {
            if id.kind != Kind::Column {
                self.drop(id, a);
            }
            self.create(id, b);
            return;
        }
        // Properties every kind shares.
        match id.kind {
            Kind::DefaultPrivileges => self.default_privileges(
                b,
                &acl_items(a.prop("acl")),
                &acl_items(b.prop("acl")),
                &mut out,
            ),
            Kind::Comment => out.push(format!(
                "COMMENT ON {name} IS {};",
                quote_literal(b.prop("text").unwrap_or(""))
            )),
            _ => {
                if changed("owner") {
                    if let (Some(word), Some(owner)) = (owner_word(id, b), b.prop("owner")) {
                        out.push(format!("ALTER {word} {name} OWNER TO {owner};"));
                    }
                }
                if changed("acl") && id.kind != Kind::Column {
                    out.extend(grant_sql(
                        &acl_object(id, b),
                        &acl_items(a.prop("acl")),
                        &acl_items(b.prop("acl")),
                    ));
                }
            }
        }
        for s in out {
            self.push_create(id, b, s);
        }
    }

    fn default_privileges(
        &self,
        o: &Object,
        from: &BTreeSet<String>,
        to: &BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        let mut prefix = format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {}",
            o.prop("role").unwrap_or("CURRENT_ROLE")
        );
        if let Some(s) = o.prop("in_schema") {
            prefix.push_str(&format!(" IN SCHEMA {s}"));
        }
        for (verb, privileges, grantee, grantable) in acl_delta(from, to) {
            let on = &o.local;
            out.push(if verb == "GRANT" {
                format!(
                    "{prefix} GRANT {privileges} ON {on} TO {grantee}{};",
                    if grantable { " WITH GRANT OPTION" } else { "" }
                )
            } else {
                format!("{prefix} REVOKE {privileges} ON {on} FROM {grantee};")
            });
        }
    }
}

/// Whether every property that differs between `a` and `b` is one of `props`.
fn only_changed(a: &Object, b: &Object, props: &[&str]) -> bool {
    a.props
        .keys()
        .chain(b.props.keys())
        .all(|k| props.contains(&k.as_str()) || a.prop(k) == b.prop(k))
}

fn view_word(o: &Object) -> &'static str {
    if o.prop("kind") == Some("materialized view") {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

fn view_body(o: &Object) -> String {
    o.prop("definition")
        .unwrap_or("")
        .trim_end()
        .trim_end_matches(';')
        .to_string()
}

fn owner_word(id: &ObjectId, o: &Object) -> Option<String> {
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

/// `ON …` part of a GRANT for an object.
fn acl_object(id: &ObjectId, o: &Object) -> String {
    let word = match id.kind {
        Kind::Schema => "SCHEMA".to_string(),
        Kind::Table | Kind::View => "TABLE".into(),
        Kind::Sequence => "SEQUENCE".into(),
        Kind::Function => o.prop("kind").unwrap_or("function").to_uppercase(),
        Kind::Type if o.prop("kind") == Some("domain") => "DOMAIN".into(),
        _ => "TYPE".into(),
    };
    format!("ON {word} {}", id.name)
}

/// The items of an ACL property (`grantee:PRIVILEGE[*]`).
fn acl_items(acl: Option<&str>) -> BTreeSet<String> {
    acl.unwrap_or("")
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// REVOKEs then GRANTs turning ACL `from` into `to`, grouped by grantee:
/// `(verb, privileges, grantee, with grant option)`.
fn acl_delta(
    from: &BTreeSet<String>,
    to: &BTreeSet<String>,
) -> Vec<(&'static str, String, String, bool)> {
    let mut revoke: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut grant: BTreeMap<(String, bool), Vec<String>> = BTreeMap::new();
    let split = |item: &str| -> (String, String, bool) {
        let (grantee, privilege) = item.rsplit_once(':').unwrap_or(("PUBLIC", item));
        let grantable = privilege.ends_with('*');
        (
            grantee.to_string(),
            privilege.trim_end_matches('*').to_string(),
            grantable,
        )
    };
    for item in from.difference(to) {
        let (g, p, _) = split(item);
        // Losing only the grant option: revoke the option, not the privilege.
        let keep = to.contains(&format!("{g}:{p}"));
        let p = if keep {
            format!("GRANT OPTION FOR {p}")
        } else {
            p
        };
        revoke.entry(g).or_default().push(p);
    }
    for item in to.difference(from) {
        if from.contains(&format!("{item}*")) {
            continue; // kept without its grant option: handled by the revoke above
        }
        let (g, p, grantable) = split(item);
        grant.entry((g, grantable)).or_default().push(p);
    }
    let mut out = Vec::new();
    for (g, ps) in revoke {
        let (options, plain): (Vec<String>, Vec<String>) = ps
            .into_iter()
            .partition(|p| p.starts_with("GRANT OPTION FOR "));
        if !plain.is_empty() {
            out.push(("REVOKE", plain.join(", "), g.clone(), false));
        }
        if !options.is_empty() {
            let ps: Vec<&str> = options
                .iter()
                .map(|p| p.trim_start_matches("GRANT OPTION FOR "))
                .collect();
            out.push((
                "REVOKE",
                format!("GRANT OPTION FOR {}", ps.join(", ")),
                g,
                false,
            ));
        }
    }
    for ((g, grantable), ps) in grant {
        out.push(("GRANT", ps.join(", "), g, grantable));
    }
    out
}

/// GRANT/REVOKE statements for an object (`on` = `ON TABLE x`, or `(col) ON TABLE x` for a
/// column).
fn grant_sql(on: &str, from: &BTreeSet<String>, to: &BTreeSet<String>) -> Vec<String> {
    let (columns, on) = match on.strip_prefix('(') {
        Some(rest) => {
            let (cols, on) = rest.split_once(") ").unwrap_or((rest, ""));
            (Some(cols.to_string()), on.to_string())
        }
        None => (None, on.to_string()),
    };
    acl_delta(from, to)
        .into_iter()
        .map(|(verb, privileges, grantee, grantable)| {
            let privileges = match &columns {
                Some(c) => privileges
                    .split(", ")
                    .map(|p| format!("{p} ({c})"))
                    .collect::<Vec<_>>()
                    .join(", "),
                None => privileges,
            };
            if verb == "GRANT" {
                format!(
                    "GRANT {privileges} {on} TO {grantee}{};",
                    if grantable { " WITH GRANT OPTION" } else { "" }
                )
            } else {
                format!("REVOKE {privileges} {on} FROM {grantee};")
            }
        })
        .collect()
}

fn column_def(local: &str, o: &Object) -> String {
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
fn sequence_options(o: &Object, old: Option<&Object>) -> String {
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

fn create_policy(local: &str, parent: &str, o: &Object) -> String {
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
fn option_changes(word: &str, name: &str, a: Option<&str>, b: Option<&str>) -> Vec<String> {
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

fn list(s: Option<&str>) -> BTreeSet<String> {
    s.unwrap_or("")
        .split(", ")
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits `'a', 'b''c'` (quote_literal output joined by `, `) into the literals as written.
fn literals(s: Option<&str>) -> Vec<String> {
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
fn enum_changes(name: &str, a: Option<&str>, b: Option<&str>) -> Vec<String> {
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

use crate::quote::ident;

/// `stmt` run only when `query` finds nothing: a DO block, for statements PostgreSQL has no
/// `IF NOT EXISTS` for (constraints, publications, event triggers, types), so a written
/// migration also applies where the object is there already.
fn unless_exists(query: &str, stmt: &str) -> String {
    format!(
        "DO $strata$ BEGIN\n  IF NOT EXISTS ({query}) THEN\n    {stmt}\n  END IF;\nEND $strata$;"
    )
}

/// A `CREATE TYPE`/`CREATE DOMAIN` that does nothing when the type exists; comments (a type
/// Strata cannot write) pass through.
fn unless_type_exists(name: &str, stmt: String) -> String {
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
fn unquote(name: &str) -> String {
    let local = name.rsplit_once('.').map_or(name, |(_, l)| l);
    match local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => local.to_string(),
    }
}

/// `pg_get_indexdef`'s `CREATE [UNIQUE] INDEX name ON …` with `IF NOT EXISTS`.
fn if_not_exists_index(definition: &str) -> String {
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(prefix) {
            return format!("{prefix}IF NOT EXISTS {rest}");
        }
    }
    definition.to_string()
}

/// A bucket's properties as the JSON object `jsonb_populate_record` reads.
fn bucket_json(o: &Object) -> String {
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

fn bucket_insert(local: &str, o: &Object) -> String {
    let columns: Vec<String> = o.props.keys().map(|k| ident(k)).collect();
    format!(
        "INSERT INTO storage.buckets (id, {cols})\n  SELECT {local}, {cols} FROM jsonb_populate_record(NULL::storage.buckets, {json}::jsonb)\n  ON CONFLICT (id) DO NOTHING;",
        cols = columns.join(", "),
        json = quote_literal(&bucket_json(o))
    )
}

fn bucket_update(local: &str, a: &Object, b: &Object) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_delta_groups_by_grantee_and_keeps_privileges_when_only_the_option_goes() {
        let from = acl_items(Some("anon:SELECT, bob:INSERT*, bob:SELECT"));
        let to = acl_items(Some("anon:SELECT, anon:UPDATE, bob:INSERT"));
        let d = grant_sql("ON TABLE t", &from, &to);
        assert_eq!(
            d,
            vec![
                "REVOKE SELECT ON TABLE t FROM bob;",
                "REVOKE GRANT OPTION FOR INSERT ON TABLE t FROM bob;",
                "GRANT UPDATE ON TABLE t TO anon;",
            ]
        );
    }

    #[test]
    fn enum_labels_are_added_in_place_and_removals_explained() {
        assert_eq!(
            enum_changes("s", Some("'a', 'c'"), Some("'a', 'b', 'c', 'it''s'")),
            vec![
                "ALTER TYPE s ADD VALUE IF NOT EXISTS 'b' AFTER 'a';",
                "ALTER TYPE s ADD VALUE IF NOT EXISTS 'it''s' AFTER 'c';"
            ]
        );
        assert!(enum_changes("s", Some("'a', 'b'"), Some("'a'"))[0].starts_with("-- enum s"));
    }
}
