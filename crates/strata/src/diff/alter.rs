//! ALTER statements for objects both sides have, property by property; default privileges.

use std::collections::BTreeSet;

use super::*;
use crate::catalog::{Kind, Object, ObjectId};
use crate::quote::ident;

impl Gen<'_> {
    /// An enum whose labels were removed or reordered, rebuilt (PostgreSQL cannot drop a label):
    /// the old type renamed aside, the new one created, every column of the type (or an array
    /// of it) converted through its text — which fails, changing nothing, when a row holds a
    /// removed label — with its default detached and set again, the old type dropped.
    fn enum_rebuild(&self, id: &ObjectId, b: &Object) -> Vec<String> {
        let name = &id.name;
        let schema = b.schema.as_deref().unwrap_or("public");
        let old_local = format!("{}__strata_old", unquote(&b.local));
        let mut out = vec![
            format!(
                "-- enum {name}: labels removed or reordered; PostgreSQL cannot drop a label, so the type is rebuilt."
            ),
            format!("ALTER TYPE {name} RENAME TO {};", ident(&old_local)),
            format!(
                "CREATE TYPE {name} AS ENUM ({});",
                b.prop("labels").unwrap_or("")
            ),
        ];
        for (cid, c) in self.from.objects.iter() {
            if cid.kind != Kind::Column {
                continue;
            }
            let ty = c.prop("type").unwrap_or("");
            let array = ty.strip_suffix("[]") == Some(name.as_str());
            if ty != name && !array {
                continue;
            }
            let table = c.parent.as_deref().unwrap_or("");
            let col = &c.local;
            let via = if array { "text[]" } else { "text" };
            let target = if array {
                format!("{name}[]")
            } else {
                name.clone()
            };
            if c.prop("default").is_some() {
                out.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT;"
                ));
            }
            out.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {col} TYPE {target} USING {col}::{via}::{target};"
            ));
            let after = self.to.objects.get(cid).unwrap_or(c);
            if let Some(d) = after.prop("default") {
                out.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} SET DEFAULT {d};"
                ));
            }
        }
        out.push(format!(
            "DROP TYPE {}.{};",
            ident(schema),
            ident(&old_local)
        ));
        out
    }

    pub(super) fn alter(&mut self, id: &ObjectId, a: &Object, b: &Object) {
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
                    let added_in_place = enum_changes(name, a.prop("labels"), b.prop("labels"));
                    if added_in_place.iter().any(|s| s.starts_with("--")) {
                        out.extend(self.enum_rebuild(id, b));
                    } else {
                        out.extend(added_in_place);
                    }
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
                if changed("persistence") {
                    out.push(format!(
                        "ALTER TABLE {name} SET {};",
                        if b.prop("persistence") == Some("unlogged") {
                            "UNLOGGED"
                        } else {
                            "LOGGED"
                        }
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
                    if changed("populated") && !(changed("definition") || changed("kind")) {
                        out.push(format!(
                            "REFRESH MATERIALIZED VIEW {name}{};",
                            if b.prop("populated") == Some("false") {
                                " WITH NO DATA"
                            } else {
                                ""
                            }
                        ));
                    }
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

    pub(super) fn default_privileges(
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
