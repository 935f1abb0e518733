//! CREATE statements for objects the target lacks (tables with their columns inlined).

use std::collections::BTreeSet;

use crate::quote::ident;

use super::*;
use crate::catalog::{Kind, Object, ObjectId};

impl Gen<'_> {
    pub(super) fn create(&mut self, id: &ObjectId, o: &Object) {
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
                let data = if o.prop("populated") == Some("false") {
                    "\nWITH NO DATA"
                } else {
                    ""
                };
                format!("{create} {name}{options} AS\n{}{data};", view_body(o))
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
        // A sequence's ownership (`OWNED BY table.column`) needs the table: after the columns.
        let after_kind = if id.kind == Kind::Sequence {
            Kind::Column
        } else {
            id.kind
        };
        for s in after {
            self.push_after(after_kind, id, s);
        }
    }

    /// The privileges a new object gets when its owner creates it: the database-wide default
    /// privileges of the owner (else PostgreSQL's built-in ones) plus those for its schema, as
    /// the target has them.
    pub(super) fn creation_privileges(&self, id: &ObjectId, o: &Object) -> BTreeSet<String> {
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

    pub(super) fn create_table(&mut self, id: &ObjectId, o: &Object) -> String {
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
            // Columns only inherited come with INHERITS, from the parent.
            let inherits = o.prop("inherits").filter(|p| !p.is_empty());
            if inherits.is_some() {
                for (cid, c) in &columns {
                    if c.prop("inherited") == Some("true") {
                        self.inlined.insert((*cid).clone());
                    }
                }
                columns.retain(|(_, c)| c.prop("inherited") != Some("true"));
            }
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
                self.push_after(Kind::Column, id, g);
            }
            let mut s = format!(
                "CREATE {}TABLE IF NOT EXISTS {name} (\n{}\n)",
                if o.prop("persistence") == Some("unlogged") {
                    "UNLOGGED "
                } else {
                    ""
                },
                defs.join(",\n")
            );
            if let Some(parents) = inherits {
                s.push_str(&format!(" INHERITS ({parents})"));
            }
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
                id,
                format!("ALTER TABLE {name} REPLICA IDENTITY {r};"),
            ),
        }
        s
    }
}
