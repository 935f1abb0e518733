//! Catalog snapshots: what a database's schema is, as comparable values. `strata diff` compares
//! the catalog of a scratch database built from the migrations with a target's; `strata verify`
//! compares the catalog before a migration with the one after the migration and its rollback.
//!
//! Every object is keyed by a stable identity ([`ObjectId`]: its [`Kind`] and schema-qualified
//! name or signature; a column is its table plus its name, not its position) and carries its
//! properties as text, exactly as PostgreSQL prints them (`pg_get_*def`, `format_type`, ACLs
//! exploded into `grantee:PRIVILEGE` items). Captured in one read-only transaction with
//! `search_path = pg_catalog`, so every name is schema-qualified.
//!
//! Left out: system schemas, `supabase_migrations` (history), `strata_platform` (Strata's
//! emulation marker), members of extensions (covered by their extension), roles and data other
//! than Supabase storage buckets.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use tokio_postgres::Client;

use crate::error::Error;

/// The kinds of object, in creation order: a kind may depend on the kinds before it. Drops run in
/// the reverse order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Schema,
    Extension,
    Type,
    Sequence,
    Table,
    Column,
    Function,
    Constraint,
    Index,
    View,
    Trigger,
    Policy,
    Publication,
    EventTrigger,
    DefaultPrivileges,
    Comment,
    Bucket,
}

impl Kind {
    /// The word used in messages and JSON (`default_privileges`, `event_trigger`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::Extension => "extension",
            Kind::Type => "type",
            Kind::Sequence => "sequence",
            Kind::Table => "table",
            Kind::Column => "column",
            Kind::Function => "function",
            Kind::Constraint => "constraint",
            Kind::Index => "index",
            Kind::View => "view",
            Kind::Trigger => "trigger",
            Kind::Policy => "policy",
            Kind::Publication => "publication",
            Kind::EventTrigger => "event_trigger",
            Kind::DefaultPrivileges => "default_privileges",
            Kind::Comment => "comment",
            Kind::Bucket => "bucket",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "schema" => Kind::Schema,
            "extension" => Kind::Extension,
            "type" => Kind::Type,
            "sequence" => Kind::Sequence,
            "table" => Kind::Table,
            "column" => Kind::Column,
            "function" => Kind::Function,
            "constraint" => Kind::Constraint,
            "index" => Kind::Index,
            "view" => Kind::View,
            "trigger" => Kind::Trigger,
            "policy" => Kind::Policy,
            "publication" => Kind::Publication,
            "event_trigger" => Kind::EventTrigger,
            "default_privileges" => Kind::DefaultPrivileges,
            "comment" => Kind::Comment,
            "bucket" => Kind::Bucket,
            _ => return None,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str().replace('_', " ").as_str())
    }
}

/// An object's identity: kind plus qualified name (`public.messages`, `public.messages.body`,
/// `public.send(uuid,text)`, `public.messages.owner_reads` for a policy).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectId {
    pub kind: Kind,
    pub name: String,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// One object: where it lives and its properties (`None`: not set, e.g. no default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Object {
    /// The schema it lives in (`None` for database-wide objects: extensions, publications, …).
    pub schema: Option<String>,
    /// The object it belongs to, quoted and qualified: a column's, constraint's, index's,
    /// trigger's or policy's table, a domain constraint's domain.
    pub parent: Option<String>,
    /// Its own name within the parent or schema, quoted (`"body"`, `owner_reads`).
    pub local: String,
    pub props: BTreeMap<String, Option<String>>,
}

impl Object {
    /// A property's value (`None` when unset or absent).
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props.get(name).and_then(|v| v.as_deref())
    }
}

/// A database's catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub objects: BTreeMap<ObjectId, Object>,
    /// The role that captured it (`current_user`, quoted as in the properties).
    pub role: String,
}

/// Whether a database is a fresh build target or a live one, for the push's lint gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Freshness {
    /// No migration history from Strata or any other tool and no user objects: applying the set
    /// re-creates history (`db reset`, a CI service database, a new environment).
    Fresh,
    /// Something is there; `evidence` says what (`3 migrations applied`, `table public.users`).
    Live { evidence: String },
}

/// Decides [`Freshness`] from the history already read and one catalog query: the first object
/// in a schema that is neither PostgreSQL's nor the platform's ([`crate::platform::MANAGED_SCHEMAS`]) and not
/// an extension's member — a table, view, sequence, function or type. Other tools' history
/// tables (`public.flyway_schema_history`, `public.schema_migrations`, schema `sqitch` …) are
/// such objects. Reads only.
pub async fn freshness(
    client: &Client,
    history: &crate::history::History,
) -> Result<Freshness, Error> {
    if !history.applied.is_empty() {
        return Ok(Freshness::Live {
            evidence: format!(
                "{} migration(s) applied (supabase_migrations.schema_migrations)",
                history.applied.len()
            ),
        });
    }
    let managed: Vec<String> = crate::platform::managed_schema_names()
        .map(str::to_string)
        .collect();
    let row = client
        .query_opt(
            "select o.kind || ' ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(o.name)
               from (select c.relnamespace as ns, c.relname::text as name, c.oid, 'pg_class'::regclass as cls,
                            case c.relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view'
                                 when 'm' then 'materialized view' when 'S' then 'sequence'
                                 else 'foreign table' end as kind
                       from pg_catalog.pg_class c where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
                     union all
                     select p.pronamespace, p.proname::text, p.oid, 'pg_proc'::regclass, 'function'
                       from pg_catalog.pg_proc p
                     union all
                     select t.typnamespace, t.typname::text, t.oid, 'pg_type'::regclass, 'type'
                       from pg_catalog.pg_type t
                      where t.typtype in ('e', 'd', 'r', 'm')
                         or (t.typtype = 'c' and (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c')) o
               join pg_catalog.pg_namespace n on n.oid = o.ns
              where n.nspname <> all ($1::text[])
                and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
                and not exists (select 1 from pg_catalog.pg_depend d
                                 where d.classid = o.cls and d.objid = o.oid and d.deptype = 'e')
              order by n.nspname, o.name
              limit 1",
            &[&managed],
        )
        .await
        .map_err(|e| Error::db("looking for user objects", e))?;
    Ok(match row {
        Some(r) => Freshness::Live {
            evidence: r.get::<_, String>(0),
        },
        None => Freshness::Fresh,
    })
}

impl Catalog {
    /// Objects of the database `client` is connected to whose kind the snapshot does not model
    /// (aggregates, operators, collations, extended statistics, rules, text search
    /// configurations, foreign servers, casts), outside the system schemas and extensions:
    /// `kind name`, sorted. A comparison says it left these out, by name, instead of treating
    /// them as absent.
    pub async fn unmodelled(client: &Client) -> Result<Vec<String>, Error> {
        let rows = client
            .query(include_str!("catalog/unmodelled.sql"), &[])
            .await
            .map_err(|e| Error::db("listing the objects the catalog does not model", e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Reads the catalog of the database `client` is connected to: one read-only transaction,
    /// two queries (three when `storage.buckets` exists).
    pub async fn capture(client: &Client) -> Result<Catalog, Error> {
        let context = "reading the catalog";
        client
            .batch_execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL search_path = pg_catalog",
            )
            .await
            .map_err(|e| Error::db(context, e))?;
        let result = async {
            let rows = client.query(CATALOG_SQL.as_str(), &[]).await?;
            let row = client
                .query_one(
                    "SELECT to_regclass('storage.buckets') IS NOT NULL, quote_ident(current_user)",
                    &[],
                )
                .await?;
            let buckets: bool = row.get(0);
            let role: String = row.get(1);
            let bucket_rows = if buckets {
                client.query(BUCKETS_SQL, &[]).await?
            } else {
                Vec::new()
            };
            Ok::<_, tokio_postgres::Error>((rows, bucket_rows, role))
        }
        .await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let _ = client.batch_execute(end).await;
        let (rows, bucket_rows, role) = result.map_err(|e| Error::db(context, e))?;
        let mut catalog = Catalog {
            objects: BTreeMap::new(),
            role,
        };
        for row in rows.iter().chain(bucket_rows.iter()) {
            let kind: String = row.get(0);
            let kind = Kind::parse(&kind).ok_or_else(|| Error::Database {
                context: context.into(),
                message: format!("unknown object kind {kind}"),
                code: None,
                hint: None,
                source: None,
            })?;
            let props: serde_json::Value =
                serde_json::from_str(row.get::<_, &str>(5)).map_err(|e| Error::Database {
                    context: context.into(),
                    message: format!("unreadable properties: {e}"),
                    code: None,
                    hint: None,
                    source: None,
                })?;
            let props = props
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let v = match v {
                                serde_json::Value::Null => None,
                                serde_json::Value::String(s) => Some(s.clone()),
                                other => Some(other.to_string()),
                            };
                            (k.clone(), v)
                        })
                        .collect()
                })
                .unwrap_or_default();
            catalog.objects.insert(
                ObjectId {
                    kind,
                    name: row.get(1),
                },
                Object {
                    schema: row.get(2),
                    parent: row.get(3),
                    local: row.get(4),
                    props,
                },
            );
        }
        Ok(catalog)
    }

    /// Keeps what migrations own on a Supabase project: drops the objects of
    /// [`crate::platform::MANAGED_SCHEMAS`] except policies, triggers that call functions outside them, and
    /// functions not owned by a `supabase_*` role (the emulation's own functions are left out by
    /// [`crate::diff::Scope`], from a build of the emulation alone); drops the
    /// [`crate::platform::PLATFORM_EXTENSIONS`], default privileges of `supabase_*` roles and event triggers
    /// owned by them or calling platform functions. Storage bucket rows stay.
    pub fn retain_user_objects(&mut self) {
        let platform = crate::platform::is_managed_schema;
        let platform_role = |r: Option<&str>| {
            r.is_some_and(|r| r.starts_with("supabase") || r == "pgsodium_keyholder")
        };
        if let Some(realtime) = self.objects.get_mut(&ObjectId {
            kind: Kind::Publication,
            name: "supabase_realtime".into(),
        }) {
            // Created by the platform (by supabase_admin on Supabase); its tables are the
            // migrations' business, its owner is not.
            realtime.props.remove("owner");
        }
        self.objects.retain(|id, o| {
            match id.kind {
                Kind::Extension => {
                    return !crate::platform::PLATFORM_EXTENSIONS.contains(&o.local.as_str())
                }
                Kind::DefaultPrivileges => return !platform_role(o.prop("role")),
                Kind::EventTrigger => {
                    return !platform_role(o.prop("owner"))
                        && !o.prop("function_schema").is_some_and(platform)
                }
                _ => {}
            }
            let Some(schema) = o.schema.as_deref() else {
                return true;
            };
            if !platform(schema) {
                return true;
            }
            match id.kind {
                Kind::Policy => true,
                Kind::Trigger => !o.prop("function_schema").is_some_and(platform),
                Kind::Function => !platform_role(o.prop("owner")),
                _ => false,
            }
        });
    }

    /// Keeps only objects in `schemas` (database-wide objects go, except extensions installed in
    /// one of them, and storage buckets when `storage` is listed).
    pub fn retain_schemas(&mut self, schemas: &[String]) {
        self.objects.retain(|id, o| match (&o.schema, id.kind) {
            (Some(s), _) => schemas.iter().any(|x| x == s),
            (None, Kind::Extension) => o
                .prop("schema")
                .is_some_and(|s| schemas.iter().any(|x| x == s)),
            (None, Kind::Bucket) => schemas.iter().any(|x| x == "storage"),
            _ => false,
        });
    }

    /// Renames a role (quoted, as in the properties) in owners, grants and default privileges:
    /// a scratch database built by `postgres` compares with a target migrated by `app_owner`.
    pub fn rename_role(&mut self, from: &str, to: &str) {
        if from == to {
            return;
        }
        let grantee = format!("{from}:");
        let objects = std::mem::take(&mut self.objects);
        for (mut id, mut o) in objects {
            for (k, v) in o.props.iter_mut() {
                let Some(value) = v.as_mut() else { continue };
                match k.as_str() {
                    "owner" | "role" if value == from => *value = to.to_string(),
                    "acl" | "builtin" => {
                        *value = value
                            .split(", ")
                            .filter(|i| !i.is_empty())
                            .map(|i| match i.strip_prefix(&grantee) {
                                Some(p) => format!("{to}:{p}"),
                                None => i.to_string(),
                            })
                            .collect::<std::collections::BTreeSet<_>>()
                            .into_iter()
                            .collect::<Vec<_>>()
                            .join(", ");
                    }
                    _ => {}
                }
            }
            if id.kind == Kind::DefaultPrivileges {
                if let Some(rest) = id.name.strip_prefix(&format!("{from} ")) {
                    id.name = format!("{to} {rest}");
                }
            }
            self.objects.insert(id, o);
        }
        self.role = to.to_string();
    }

    /// One text line per object (`kind name prop=value …`), sorted: a compact form for logs and
    /// tests.
    pub fn lines(&self) -> Vec<String> {
        self.objects
            .iter()
            .map(|(id, o)| {
                let mut line = id.to_string();
                for (k, v) in &o.props {
                    line.push_str(&format!(" {k}={}", v.as_deref().unwrap_or("-")));
                }
                line
            })
            .collect()
    }
}

/// The items of an ACL (`NULL` = the built-in default for `objtype` and `owner`), as sorted
/// `grantee:PRIVILEGE` (`*` = with grant option), comma-separated; `PUBLIC` for everyone.
fn acl(column: &str, objtype: &str, owner: &str) -> String {
    // aclexplode rejects an empty array (no dimensions): NULL instead, which it skips.
    let source = if objtype.is_empty() {
        format!("CASE WHEN cardinality({column}) > 0 THEN {column} END")
    } else {
        format!(
            "CASE WHEN {column} IS NULL THEN acldefault({objtype}, {owner}) \
             WHEN cardinality({column}) > 0 THEN {column} END"
        )
    };
    format!(
        "(SELECT coalesce(string_agg(i, ', ' ORDER BY i), '') FROM (SELECT \
         CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END \
         || ':' || x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END AS i \
         FROM aclexplode({source}) x) acl_items)"
    )
}

const BUCKETS_SQL: &str = r#"
SELECT 'bucket', b.id, NULL::text, NULL::text, quote_literal(b.id),
       (SELECT jsonb_object_agg(j.key, j.value::text)
          FROM jsonb_each(to_jsonb(b) - 'id' - 'created_at' - 'updated_at' - 'owner' - 'owner_id') j)::text
  FROM storage.buckets b
"#;

static CATALOG_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(catalog_sql);

/// Columns: kind, name (identity), schema, parent, local name, properties (JSON text).
fn catalog_sql() -> String {
    let mut sql = include_str!("catalog/snapshot.sql").to_string();
    for (placeholder, expression) in [
        ("{nspacl}", acl("ns.nspacl", "'n'", "ns.nspowner")),
        (
            "{relacl}",
            acl(
                "c.relacl",
                "(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::\"char\"",
                "c.relowner",
            ),
        ),
        ("{attacl}", acl("a.attacl", "", "")),
        ("{proacl}", acl("p.proacl", "'f'", "p.proowner")),
        ("{defaclacl}", acl("da.defaclacl", "", "")),
        ("{typacl}", acl("t.typacl", "'T'", "t.typowner")),
        (
            "{builtin}",
            acl(
                "NULL::aclitem[]",
                "(CASE da.defaclobjtype WHEN 'S' THEN 's' ELSE da.defaclobjtype END)::\"char\"",
                "da.defaclrole",
            ),
        ),
    ] {
        sql = sql.replace(placeholder, &expression);
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(props: &[(&str, &str)]) -> Object {
        Object {
            schema: Some("public".into()),
            parent: None,
            local: "t".into(),
            props: props
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect(),
        }
    }

    #[test]
    fn rename_role_rewrites_owners_grants_and_default_privileges() {
        let mut c = Catalog {
            objects: BTreeMap::new(),
            role: "postgres".into(),
        };
        c.objects.insert(
            ObjectId {
                kind: Kind::Table,
                name: "public.t".into(),
            },
            object(&[
                ("owner", "postgres"),
                ("acl", "anon:SELECT, postgres:INSERT, postgres_x:SELECT"),
            ]),
        );
        c.objects.insert(
            ObjectId {
                kind: Kind::DefaultPrivileges,
                name: "postgres in public on TABLES".into(),
            },
            object(&[("role", "postgres"), ("acl", "anon:SELECT")]),
        );
        c.rename_role("postgres", "app");
        let t = &c.objects[&ObjectId {
            kind: Kind::Table,
            name: "public.t".into(),
        }];
        assert_eq!(t.prop("owner"), Some("app"));
        assert_eq!(
            t.prop("acl"),
            Some("anon:SELECT, app:INSERT, postgres_x:SELECT")
        );
        let d = &c.objects[&ObjectId {
            kind: Kind::DefaultPrivileges,
            name: "app in public on TABLES".into(),
        }];
        assert_eq!(d.prop("role"), Some("app"));
        assert_eq!(c.role, "app");
    }
}
