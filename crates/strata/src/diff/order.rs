//! The order of generated statements: drops (dependents first), then creations by kind.

use super::*;
use crate::catalog::{Kind, Object, ObjectId};

impl Gen<'_> {
    pub(super) fn push_drop(&mut self, id: &ObjectId, o: &Object, sql: String) {
        let n = self.drops.len();
        self.drops.push(((id.kind, rank(id, o, self.from), n), sql));
    }

    /// A statement that runs with the drops of `kind` (before those of the kinds before it).
    pub(super) fn push_drop_as(&mut self, kind: Kind, sql: String) {
        let n = self.drops.len();
        self.drops.push(((kind, 9, n), sql));
    }

    pub(super) fn push_create(&mut self, id: &ObjectId, o: &Object, sql: String) {
        let n = self.creates.len();
        self.creates
            .push(((id.kind, rank(id, o, self.to), n), id.clone(), sql));
    }

    /// A statement that runs after every creation of `kind` (grants, ownership), belonging to
    /// object `owner`.
    pub(super) fn push_after(&mut self, kind: Kind, owner: &ObjectId, sql: String) {
        let n = self.creates.len();
        self.creates.push(((kind, 9, n), owner.clone(), sql));
    }

    pub(super) fn drop(&mut self, id: &ObjectId, o: &Object) {
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
    pub(super) fn comment_target_dropped(&self, id: &ObjectId) -> bool {
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
}
