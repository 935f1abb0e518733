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

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::catalog::{Catalog, Kind, Object, ObjectId};
use crate::error::Error;
use crate::history::quote_literal;
use crate::platform::Platform;
use crate::scratch::{Scratch, ScratchDb};
use crate::source::MigrationSet;
use crate::target::Target;

mod acl;
mod alter;
mod create;
mod order;
mod text;
use acl::*;
use text::*;

/// Which objects a comparison covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Leave out what the Supabase platform owns ([`Catalog::retain_user_objects`]); set for
    /// Supabase projects, whose scratch database has Strata's emulation and whose target has the
    /// real platform.
    pub exclude_platform: bool,
    /// Only these schemas (all when empty).
    pub schemas: Vec<String>,
    /// What the platform emulation alone builds (captured on a scratch database holding nothing
    /// else, [`Scope::resolve`]): an object with the same identity and properties is the
    /// emulation's, never the migrations' — whatever way the emulation created it (`EXECUTE`
    /// included), and whether optional parts (the pg_net stand-ins) were installed or not.
    pub platform: Option<std::sync::Arc<Catalog>>,
}

impl Scope {
    /// The scope for migrations written for `platform`: for Supabase, the platform's objects
    /// left out, the emulation's identified by building it alone on a scratch database of
    /// `scratch` (dropped after). Errors: the scratch database cannot be built.
    pub async fn resolve(platform: Platform, scratch: &Scratch) -> Result<Scope, Error> {
        if platform != Platform::Supabase {
            return Ok(Scope::default());
        }
        // Compared as the project's catalogs will be: after the same rules.
        let mut emulation = platform_catalog(scratch).await?;
        emulation.retain_user_objects();
        Ok(Scope {
            exclude_platform: true,
            schemas: Vec::new(),
            platform: Some(std::sync::Arc::new(emulation)),
        })
    }

    /// Removes what is out of scope from `catalog`, as [`Scope::apply_all`] does for one.
    pub fn apply(&self, catalog: &mut Catalog) {
        self.apply_all(&mut [catalog]);
    }

    /// Removes what is out of scope from catalogs that are compared with each other: the
    /// platform's objects ([`Catalog::retain_user_objects`]), other schemas; and every object
    /// of the emulation ([`Scope::platform`]) that each of them has exactly as the emulation
    /// alone builds it, or lacks — one that a migration changed on either side stays on both,
    /// so the change shows as a change. Default privileges are never removed this way.
    pub fn apply_all(&self, catalogs: &mut [&mut Catalog]) {
        for catalog in catalogs.iter_mut() {
            if self.exclude_platform {
                catalog.retain_user_objects();
            }
            if !self.schemas.is_empty() {
                catalog.retain_schemas(&self.schemas);
            }
        }
        let Some(platform) = self.platform.as_ref().filter(|_| self.exclude_platform) else {
            return;
        };
        for (id, o) in &platform.objects {
            // Default privileges stay: they decide the grants of what the migrations create
            // (the generated SQL computes grants against them), and a project owns its own.
            if id.kind == Kind::DefaultPrivileges {
                continue;
            }
            let untouched = catalogs
                .iter()
                .all(|c| c.objects.get(id).is_none_or(|mine| mine == o));
            if untouched {
                for c in catalogs.iter_mut() {
                    c.objects.remove(id);
                }
            }
        }
    }
}

/// The catalog of a scratch database holding only the Supabase platform emulation.
pub async fn platform_catalog(scratch: &Scratch) -> Result<Catalog, Error> {
    let db = ScratchDb::create(scratch, "platform").await?;
    let captured = async {
        let client = db.target().connect().await?;
        crate::platform::ensure(&client, Platform::Supabase, false).await?;
        drop(client);
        // A new session: the one that installed it does not see its search_path.
        let client = db.target().connect().await?;
        Catalog::capture(&client).await
    }
    .await;
    let dropped = db.drop_now().await;
    let catalog = captured?;
    dropped?;
    Ok(catalog)
}

/// What `strata diff` finds.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub differences: Vec<Difference>,
    /// What is worth knowing but is not a difference: tables whose columns are in another
    /// order ([`ColumnOrder::note`]; a column re-added to an existing table goes at its end).
    pub notes: Vec<String>,
    #[serde(flatten)]
    pub fix: Fix,
    /// What the migrations build (scoped, its role renamed to the target's).
    #[serde(skip)]
    pub expected: Catalog,
    /// What the target has (scoped).
    #[serde(skip)]
    pub actual: Catalog,
    /// The role the scratch build ran as (renamed to the target's in `expected`).
    #[serde(skip)]
    pub scratch_role: String,
}

/// Builds `set` on a scratch database on `server`, captures its catalog and `target`'s, and
/// compares them within `scope`. The scratch database is dropped whatever happens. Roles: the
/// scratch database's migrating role is renamed to the target's in owners and grants.
pub async fn drift(
    set: MigrationSet,
    platform: Platform,
    scratch: &Scratch,
    target: &Target,
    scope: &Scope,
) -> Result<Drift, Error> {
    let scratch = ScratchDb::create(scratch, "diff").await?;
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
    let scratch_role = expected.role.clone();
    expected.rename_role(&scratch_role, &role);
    scope.apply_all(&mut [&mut expected, &mut actual]);
    Ok(Drift {
        differences: compare(&expected, &actual),
        notes: column_order(&expected, &actual)
            .iter()
            .map(ColumnOrder::note)
            .collect(),
        fix: fix(&expected, &actual),
        expected,
        actual,
        scratch_role,
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
                    // A column's position is compared per table, by [`column_order`].
                    .filter(|k| !(id.kind == Kind::Column && k.as_str() == "position"))
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

/// A table whose columns (those both sides have) come in another order on each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnOrder {
    pub table: String,
    /// The columns in their order on the left side (`expected`: the migrations, before).
    pub expected: Vec<String>,
    /// … and on the right side.
    pub actual: Vec<String>,
}

impl ColumnOrder {
    /// The order as a note: what differs, and why it may (a column re-added to an existing
    /// table goes at its end; PostgreSQL cannot move a column).
    pub fn note(&self) -> String {
        format!(
            "table {}: columns in another order ({} / {}); a column added to an existing table goes at its end, and PostgreSQL cannot move a column",
            self.table,
            self.expected.join(", "),
            self.actual.join(", ")
        )
    }

    /// The order as a difference (for a table the compared change created, where the order is
    /// the change's to get right).
    pub fn difference(&self) -> Difference {
        Difference {
            kind: Kind::Table,
            name: self.table.clone(),
            status: Status::Changed,
            changes: vec![PropertyChange {
                property: "column order".into(),
                migrations: Some(self.expected.join(", ")),
                target: Some(self.actual.join(", ")),
            }],
        }
    }
}

/// The tables both catalogs have whose shared columns are in another order. [`compare`] never
/// reports a column's position: the caller decides whether an order is a difference (a table
/// the change created) or a note (a column re-added to a table that existed), as each
/// comparison knows which tables were created.
pub fn column_order(expected: &Catalog, actual: &Catalog) -> Vec<ColumnOrder> {
    fn columns(c: &Catalog) -> std::collections::BTreeMap<&str, Vec<(usize, &str)>> {
        let mut by_table: std::collections::BTreeMap<&str, Vec<(usize, &str)>> = Default::default();
        for (id, o) in &c.objects {
            if id.kind != Kind::Column {
                continue;
            }
            if let (Some(t), Some(p)) = (
                o.parent.as_deref(),
                o.prop("position").and_then(|p| p.parse::<usize>().ok()),
            ) {
                by_table.entry(t).or_default().push((p, o.local.as_str()));
            }
        }
        by_table
    }
    let (a, b) = (columns(expected), columns(actual));
    let mut out = Vec::new();
    for (table, cols) in &a {
        let Some(other) = b.get(table) else { continue };
        let order = |cols: &[(usize, &str)], keep: &[(usize, &str)]| {
            let mut cols: Vec<(usize, &str)> = cols
                .iter()
                .filter(|(_, n)| keep.iter().any(|(_, k)| k == n))
                .copied()
                .collect();
            cols.sort();
            cols.into_iter()
                .map(|(_, n)| n.to_string())
                .collect::<Vec<_>>()
        };
        let (x, y) = (order(cols, other), order(other, cols));
        if x != y {
            out.push(ColumnOrder {
                table: table.to_string(),
                expected: x,
                actual: y,
            });
        }
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
    // Tables and views that go: their columns, constraints, indexes and comments go with them.
    // Their triggers and policies are dropped first all the same: they may use a function that
    // goes too, and functions are dropped before tables (a function may return a table's rows);
    // so are their foreign keys, which would hold another dropped table back.
    for (id, _) in from.objects.iter() {
        if matches!(id.kind, Kind::Table | Kind::View) && !to.objects.contains_key(id) {
            g.dropped_parents.insert(id.name.clone());
        }
    }
    // Functions that go (dropped, or replaced under a new signature): the views and policies
    // that call them are dropped first and created again after them, and column defaults that
    // call them are detached first and set again after them; PostgreSQL refuses to drop a
    // function something still uses.
    let gone: Vec<String> = from
        .objects
        .iter()
        .filter(|(id, _)| id.kind == Kind::Function && !to.objects.contains_key(id))
        .map(|(_, o)| format!("{}(", unquote(&o.local)))
        .collect();
    let calls_gone = |text: Option<&str>| text.is_some_and(|t| gone.iter().any(|f| calls(t, f)));
    for (id, o) in from.objects.iter() {
        if o.parent
            .as_ref()
            .is_some_and(|p| g.dropped_parents.contains(p))
            && !matches!(id.kind, Kind::Trigger | Kind::Policy)
            && !(id.kind == Kind::Constraint && o.prop("type") == Some("f"))
        {
            continue;
        }
        let uses_gone = !gone.is_empty()
            && match id.kind {
                Kind::View => calls_gone(o.prop("definition")),
                Kind::Policy => calls_gone(o.prop("using")) || calls_gone(o.prop("with_check")),
                _ => false,
            };
        match to.objects.get(id) {
            Some(t) if uses_gone => {
                g.drop(id, o);
                g.create(id, t);
            }
            Some(t)
                if id.kind == Kind::Column && !gone.is_empty() && calls_gone(o.prop("default")) =>
            {
                let (table, column) = (o.parent.as_deref().unwrap_or(""), &o.local);
                g.push_drop_as(
                    Kind::View,
                    format!("ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT;"),
                );
                if t != o {
                    g.alter(id, o, t);
                }
                if let Some(d) = t.prop("default") {
                    g.push_after(
                        Kind::Function,
                        id,
                        format!("ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {d};"),
                    );
                }
            }
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
    for s in drops
        .into_iter()
        .map(|(_, s)| s)
        .chain(creates.into_iter().map(|(_, _, s)| s))
    {
        out.push_str(&s);
        out.push('\n');
    }
    out
}

/// The statements that create every object of `catalog` on an empty database, in the order
/// [`sql`] writes them, each with the object it belongs to (a table's column grants and
/// replica identity belong to the table). For `strata schema dump`, which files them by object.
pub fn create_statements(catalog: &Catalog) -> Vec<(ObjectId, String)> {
    let empty = Catalog {
        objects: Default::default(),
        role: catalog.role.clone(),
    };
    let mut g = Gen {
        from: &empty,
        to: catalog,
        drops: Vec::new(),
        creates: Vec::new(),
        dropped_parents: BTreeSet::new(),
        inlined: BTreeSet::new(),
    };
    for (id, o) in catalog.objects.iter() {
        if !g.inlined.contains(id) {
            g.create(id, o);
        }
    }
    let mut creates = g.creates;
    creates.sort_by_key(|c| c.0);
    creates.into_iter().map(|(_, id, s)| (id, s)).collect()
}

/// Whether SQL text `text` calls `function` (`name(`), not as the end of a longer name.
fn calls(text: &str, function: &str) -> bool {
    text.match_indices(function).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Sort key: kind, a rank within the kind (foreign keys after other constraints), order of
/// generation.
type Key = (Kind, u8, usize);

struct Gen<'a> {
    from: &'a Catalog,
    to: &'a Catalog,
    drops: Vec<(Key, String)>,
    /// Each statement with the object it creates (or grants on).
    creates: Vec<(Key, ObjectId, String)>,
    dropped_parents: BTreeSet<String>,
    inlined: BTreeSet<ObjectId>,
}

fn rank(id: &ObjectId, o: &Object, catalog: &Catalog) -> u8 {
    match id.kind {
        Kind::Constraint if o.prop("type") == Some("f") => 1,
        Kind::View if o.prop("kind") == Some("materialized view") => 1,
        // A partition or an inheriting table after its parents: its depth in the hierarchy.
        Kind::Table => {
            let mut depth = 0u8;
            let mut current = o;
            while depth < 8 {
                let parent = current
                    .prop("partition_of")
                    .or_else(|| current.prop("inherits").and_then(|p| p.split(", ").next()));
                let Some(parent) = parent.and_then(|p| {
                    catalog.objects.get(&ObjectId {
                        kind: Kind::Table,
                        name: p.to_string(),
                    })
                }) else {
                    break;
                };
                depth += 1;
                current = parent;
            }
            depth
        }
        _ => 0,
    }
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
