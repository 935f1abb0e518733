//! Catalog rules: row-level security and security checks run on a database's `pg_catalog`, the
//! way Supabase's splinter advisors do. Exact where the static rules approximate: PostgreSQL has
//! resolved every name, default and dependency already.
//!
//! Each rule here shares its id and documentation ([`RuleInfo`]) with the static rule of the
//! same name (`RuleKind::Both`). Findings point at objects ([`Location::Object`]).
//!
//! Schemas the platform manages (Supabase's `auth`, `storage`, `extensions`, `realtime`, …, and
//! Strata's own) are not the user's and are skipped, except that policies on `storage` tables
//! are the user's and are checked.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use super::rules::{
    ast, auth_function_per_row, duplicate_index, extension_in_public, foreign_key_without_index,
    multiple_permissive_policies, policy_always_true, policy_exists_rls_disabled,
    policy_user_metadata, rls_enabled_no_policy, rls_not_forced, security_definer_search_path,
    table_without_rls, view_without_security_invoker,
};
use super::{Finding, Location, RuleInfo};
use strata::error::Error;
use strata::platform::Platform;
use strata::scratch::ScratchDb;
use strata::source::MigrationSet;

/// Every catalog rule, in documentation order.
pub static RULES: &[&RuleInfo] = &[
    &table_without_rls::INFO,
    &rls_not_forced::INFO,
    &rls_enabled_no_policy::INFO,
    &policy_exists_rls_disabled::INFO,
    &auth_function_per_row::INFO,
    &policy_always_true::INFO,
    &multiple_permissive_policies::INFO,
    &policy_user_metadata::INFO,
    &security_definer_search_path::INFO,
    &view_without_security_invoker::INFO,
    &foreign_key_without_index::INFO,
    &duplicate_index::INFO,
    &extension_in_public::INFO,
];

/// PostgreSQL's own schemas, beside the platform's ([`strata::platform::MANAGED_SCHEMAS`]).
const SYSTEM_SCHEMAS: &[&str] = &["information_schema", "pg_catalog", "pg_toast"];

/// SQL condition: namespace alias `n` is one of the user's schemas.
fn user_schema(n: &str) -> String {
    let list = strata::platform::managed_schema_names()
        .chain(SYSTEM_SCHEMAS.iter().copied())
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("({n}.nspname NOT IN ({list}) AND {n}.nspname NOT LIKE 'pg\\_%')")
}

/// SQL condition: relation `c` is not part of an extension.
fn not_extension_member(c: &str, classid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{classid}'::regclass \
         AND d.objid = {c}.oid AND d.deptype = 'e')"
    )
}

fn object(
    info: &'static RuleInfo,
    kind: &str,
    name: String,
    message: String,
    fix: Option<String>,
) -> Finding {
    Finding {
        rule: info.id,
        level: info.default_level,
        location: Location::Object {
            kind: kind.to_string(),
            name,
            defined_in: None,
        },
        message,
        fix,
        object: None,
    }
}

use strata::quote::ident;

async fn query(
    client: &Client,
    what: &str,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, Error> {
    client
        .query(sql, params)
        .await
        .map_err(|e| Error::db(format!("lint: reading {what} from the catalog"), e))
}

/// Runs every catalog rule on the database `client` is connected to. `schemas` are the schemas
/// the Data API exposes (Supabase's default: `public`); rules about exposure
/// (`table-without-rls`, `view-without-security-invoker`) check those, the others check every
/// schema of the user's. Findings are sorted by rule, then object.
pub async fn check(client: &Client, schemas: &[String]) -> Result<Vec<Finding>, Error> {
    let mut out = Vec::new();
    tables(client, schemas, &mut out).await?;
    policies(client, &mut out).await?;
    functions(client, &mut out).await?;
    views(client, schemas, &mut out).await?;
    indexes(client, &mut out).await?;
    foreign_keys(client, &mut out).await?;
    extensions(client, &mut out).await?;
    Ok(out)
}

/// RLS state of tables: disabled in an exposed schema, enabled without policy, policies with RLS
/// off, not forced.
async fn tables(client: &Client, schemas: &[String], out: &mut Vec<Finding>) -> Result<(), Error> {
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, c.relrowsecurity, c.relforcerowsecurity, \
                (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int8, \
                n.nspname = ANY($1) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') \
           AND ({} OR n.nspname = 'storage') AND {} \
         ORDER BY 1, 2",
        user_schema("n"),
        not_extension_member("c", "pg_class")
    );
    for row in query(client, "tables", &sql, &[&schemas]).await? {
        let schema: String = row.get(0);
        let name = format!("{}.{}", ident(&schema), ident(row.get(1)));
        let (rls, forced, policies, exposed): (bool, bool, i64, bool) =
            (row.get(2), row.get(3), row.get(4), row.get(5));
        let user = schema != "storage";
        if !rls && exposed && user {
            out.push(object(
                &table_without_rls::INFO,
                "table",
                name.clone(),
                format!("table {name} is in exposed schema {schema} and has row-level security disabled: every API user can read and write all its rows"),
                Some(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY; ALTER TABLE {name} FORCE ROW LEVEL SECURITY; then add policies")),
            ));
        }
        if !rls && policies > 0 {
            out.push(object(
                &policy_exists_rls_disabled::INFO,
                "table",
                name.clone(),
                format!("table {name} has {policies} polic{} but row-level security disabled: the policies have no effect", if policies == 1 { "y" } else { "ies" }),
                Some(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY; ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")),
            ));
        }
        if rls && policies == 0 && user {
            out.push(object(
                &rls_enabled_no_policy::INFO,
                "table",
                name.clone(),
                format!("table {name} has row-level security enabled and no policy: the API roles can neither read nor write it"),
                Some(format!("add policies (CREATE POLICY … ON {name} …), or ignore this finding if only the server uses {name}")),
            ));
        }
        if rls && !forced && user {
            out.push(object(
                &rls_not_forced::INFO,
                "table",
                name.clone(),
                format!("row-level security on {name} is not forced: its owner (and views and SECURITY DEFINER functions it owns) bypass every policy"),
                Some(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")),
            ));
        }
    }
    Ok(())
}

/// A policy as the catalog has it.
struct Policy {
    table: String,
    name: String,
    cmd: String,
    roles: Vec<String>,
    permissive: bool,
    qual: Option<String>,
    with_check: Option<String>,
}

/// Parses a policy expression as PostgreSQL deparsed it, with the same helpers as the static
/// rules.
fn parse_expr(text: &str) -> Option<pg_query::protobuf::Node> {
    let tree = super::parse::parse_sql(&format!("SELECT {text}")).ok()?;
    let stmt = tree.stmts.into_iter().next()?.stmt?.node?;
    let pg_query::NodeEnum::SelectStmt(s) = stmt else {
        return None;
    };
    match s.target_list.into_iter().next()?.node? {
        pg_query::NodeEnum::ResTarget(t) => t.val.map(|v| *v),
        _ => None,
    }
}

/// Policy rules: auth function per row, always-true writes, user_metadata, overlapping
/// permissive policies.
async fn policies(client: &Client, out: &mut Vec<Finding>) -> Result<(), Error> {
    let sql = format!(
        "SELECT p.schemaname::text, p.tablename::text, p.policyname::text, lower(p.cmd), \
                p.roles::text[], p.permissive = 'PERMISSIVE', p.qual, p.with_check \
         FROM pg_policies p JOIN pg_namespace n ON n.nspname = p.schemaname \
         WHERE {} OR n.nspname = 'storage' \
         ORDER BY 1, 2, 3",
        user_schema("n")
    );
    let rows = query(client, "policies", &sql, &[]).await?;
    let policies: Vec<Policy> = rows
        .iter()
        .map(|r| Policy {
            table: format!("{}.{}", ident(r.get(0)), ident(r.get(1))),
            name: r.get(2),
            cmd: r.get(3),
            roles: r.get(4),
            permissive: r.get(5),
            qual: r.get(6),
            with_check: r.get(7),
        })
        .collect();
    for p in &policies {
        let label = format!("\"{}\" on {}", p.name, p.table);
        let exprs = [("USING", &p.qual), ("WITH CHECK", &p.with_check)];
        for (clause, text) in exprs {
            let Some(text) = text else { continue };
            let Some(expr) = parse_expr(text) else {
                continue;
            };
            let per_row: Vec<String> = ast::calls(&expr)
                .into_iter()
                .filter(|c| {
                    !c.in_subselect && auth_function_per_row::PER_REQUEST.contains(&c.name.as_str())
                })
                .map(|c| format!("{}()", c.name))
                .collect();
            if !per_row.is_empty() {
                out.push(object(
                    &auth_function_per_row::INFO,
                    "policy",
                    label.clone(),
                    format!(
                        "the {clause} of policy {label} calls {} once per row",
                        per_row.join(", ")
                    ),
                    Some(format!(
                        "wrap each call in a sub-select: (select {}); its {clause} is now: {text}",
                        per_row[0]
                    )),
                ));
            }
            let bypass_only = p
                .roles
                .iter()
                .all(|r| policy_always_true::BYPASS_ROLES.contains(&r.as_str()));
            if p.cmd != "select" && !bypass_only && policy_always_true::always_true(&expr) {
                out.push(object(
                    &policy_always_true::INFO,
                    "policy",
                    label.clone(),
                    format!(
                        "{} policy {label} has {clause} always true: every {} user can write every row",
                        p.cmd.to_uppercase(),
                        p.roles.join(", ")
                    ),
                    Some(format!("restrict {clause} to the user's own rows, e.g. ((select auth.uid()) = user_id)")),
                ));
            }
            if ast::mentions(&expr, policy_user_metadata::USER_METADATA) {
                out.push(object(
                    &policy_user_metadata::INFO,
                    "policy",
                    label.clone(),
                    format!("the {clause} of policy {label} reads user_metadata, which every user can change for themselves"),
                    Some("read it from app_metadata (raw_app_meta_data), or from a table the user cannot write".into()),
                ));
            }
        }
    }
    // Several permissive policies that apply to one role and command of a table.
    let mut groups: BTreeMap<(String, String, String), Vec<&str>> = BTreeMap::new();
    let mut by_table: BTreeMap<&str, Vec<&Policy>> = BTreeMap::new();
    for p in policies.iter().filter(|p| p.permissive) {
        by_table.entry(&p.table).or_default().push(p);
    }
    for (table, ps) in by_table {
        let mut roles: Vec<&str> = ps
            .iter()
            .flat_map(|p| p.roles.iter().map(String::as_str))
            .filter(|r| *r != "public")
            .collect();
        roles.sort_unstable();
        roles.dedup();
        if roles.is_empty() || ps.iter().any(|p| p.roles.iter().any(|r| r == "public")) {
            roles.push("public");
        }
        for role in roles {
            for cmd in ["select", "insert", "update", "delete"] {
                let names: Vec<&str> = ps
                    .iter()
                    .filter(|p| p.cmd == "all" || p.cmd == cmd)
                    .filter(|p| p.roles.iter().any(|r| r == role || r == "public"))
                    .map(|p| p.name.as_str())
                    .collect();
                if names.len() > 1 {
                    groups
                        .entry((table.to_string(), names.join("\", \""), role.to_string()))
                        .or_default()
                        .push(cmd);
                }
            }
        }
    }
    let mut merged: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for ((table, names, role), cmds) in groups {
        merged
            .entry((table, names))
            .or_default()
            .push(format!("{} for {role}", cmds.join("/").to_uppercase()));
    }
    for ((table, names), what) in merged {
        out.push(object(
            &multiple_permissive_policies::INFO,
            "table",
            table.clone(),
            format!(
                "permissive policies \"{names}\" on {table} all apply to {}: each is evaluated for every row",
                what.join(", ")
            ),
            Some("merge them into one policy per role and command (conditions joined with OR), or make the narrowing ones AS RESTRICTIVE".into()),
        ));
    }
    Ok(())
}

/// SECURITY DEFINER functions without a fixed search_path.
async fn functions(client: &Client, out: &mut Vec<Finding>) -> Result<(), Error> {
    let sql = format!(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' \
                || pg_get_function_identity_arguments(p.oid) || ')', CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.prosecdef AND {} AND {} \
           AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\\_path=%') \
         ORDER BY 1",
        user_schema("n"),
        not_extension_member("p", "pg_proc")
    );
    for row in query(client, "functions", &sql, &[]).await? {
        let name: String = row.get(0);
        let kind: String = row.get(1);
        out.push(object(
            &security_definer_search_path::INFO,
            &kind,
            name.clone(),
            format!("SECURITY DEFINER {kind} {name} has no fixed search_path: a caller's search_path can redirect the names it uses, with its owner's privileges"),
            Some(format!("ALTER {} {name} SET search_path = ''; and qualify every name in its body", kind.to_uppercase())),
        ));
    }
    Ok(())
}

/// Views in exposed schemas that read RLS tables with their owner's rights.
async fn views(client: &Client, schemas: &[String], out: &mut Vec<Finding>) -> Result<(), Error> {
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, \
                string_agg(DISTINCT tn.nspname || '.' || t.relname, ', ') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_rewrite r ON r.ev_class = c.oid \
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
              AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid \
         JOIN pg_class t ON t.oid = d.refobjid AND t.relrowsecurity \
         JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         WHERE c.relkind = 'v' AND n.nspname = ANY($1) AND {} \
           AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(c.reloptions, '{{}}')) o \
                           WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on', \
                                              'security_invoker=1', 'security_invoker=yes')) \
         GROUP BY 1, 2 ORDER BY 1, 2",
        not_extension_member("c", "pg_class")
    );
    for row in query(client, "views", &sql, &[&schemas]).await? {
        let name = format!("{}.{}", ident(row.get(0)), ident(row.get(1)));
        let tables: String = row.get(2);
        out.push(object(
            &view_without_security_invoker::INFO,
            "view",
            name.clone(),
            format!("view {name} reads {tables} (row-level security enabled) with its owner's privileges: the policies do not apply to API users querying the view"),
            Some(format!("ALTER VIEW {name} SET (security_invoker = true);")),
        ));
    }
    Ok(())
}

/// Identical indexes on one table (the primary key's included).
async fn indexes(client: &Client, out: &mut Vec<Finding>) -> Result<(), Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.relname::text, \
                array_agg(ic.relname::text ORDER BY i.indisprimary DESC, i.indisunique DESC, ic.relname), \
                array_agg(i.indisprimary OR i.indisunique ORDER BY i.indisprimary DESC, i.indisunique DESC, ic.relname), \
                pg_get_indexdef(min(i.indexrelid::int8)::oid) \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE {} AND {} \
         GROUP BY n.nspname, t.relname, ic.relam, i.indkey::text, i.indclass::text, \
                  i.indcollation::text, i.indoption::text, \
                  coalesce(pg_get_expr(i.indexprs, i.indrelid), ''), \
                  coalesce(pg_get_expr(i.indpred, i.indrelid), '') \
         HAVING count(*) > 1 ORDER BY 1, 2, 3",
        user_schema("n"),
        not_extension_member("t", "pg_class")
    );
    for row in query(client, "indexes", &sql, &[]).await? {
        let table = format!("{}.{}", ident(row.get(0)), ident(row.get(1)));
        let names: Vec<String> = row.get(2);
        let constraint: Vec<bool> = row.get(3);
        let schema = ident(row.get(0));
        let drop: Vec<String> = names
            .iter()
            .zip(&constraint)
            .skip(1)
            .filter(|(_, c)| !**c)
            .map(|(n, _)| format!("DROP INDEX CONCURRENTLY IF EXISTS {schema}.{};", ident(n)))
            .collect();
        out.push(object(
            &duplicate_index::INFO,
            "index",
            format!("{schema}.{}", ident(&names[names.len() - 1])),
            format!(
                "indexes {} on {table} are identical: keep one",
                names.join(", ")
            ),
            Some(if drop.is_empty() {
                format!("keep {} and drop the other constraint's index", names[0])
            } else {
                drop.join(" ")
            }),
        ));
    }
    Ok(())
}

/// Foreign keys no index starts with.
async fn foreign_keys(client: &Client, out: &mut Vec<Finding>) -> Result<(), Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.relname::text, c.conname::text, c.confrelid::regclass::text, \
                (SELECT array_agg(a.attname::text ORDER BY k.ord) \
                 FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE c.contype = 'f' AND {} AND {} \
           AND NOT EXISTS ( \
             SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indpred IS NULL \
               AND (SELECT array_agg(x ORDER BY x) FROM unnest( \
                      (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)]) x) \
                 = (SELECT array_agg(x ORDER BY x) FROM unnest(c.conkey) x)) \
         ORDER BY 1, 2, 3",
        user_schema("n"),
        not_extension_member("t", "pg_class")
    );
    for row in query(client, "foreign keys", &sql, &[]).await? {
        let short: String = row.get(1);
        let table = format!("{}.{}", ident(row.get(0)), ident(&short));
        let conname: String = row.get(2);
        let references: String = row.get(3);
        let cols: Vec<String> = row.get(4);
        let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
        out.push(object(
            &foreign_key_without_index::INFO,
            "constraint",
            format!("{table}.{}", ident(&conname)),
            format!("foreign key {conname} {table}({list}) → {references} has no index starting with its columns: deletes on {references} scan all of {table}"),
            Some(format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {}_{}_idx ON {table} ({list});",
                short,
                cols.join("_")
            )),
        ));
    }
    Ok(())
}

/// Extensions installed in public.
async fn extensions(client: &Client, out: &mut Vec<Finding>) -> Result<(), Error> {
    let sql = "SELECT e.extname::text FROM pg_extension e \
               JOIN pg_namespace n ON n.oid = e.extnamespace \
               WHERE n.nspname = 'public' ORDER BY 1";
    for row in query(client, "extensions", sql, &[]).await? {
        let name: String = row.get(0);
        out.push(object(
            &extension_in_public::INFO,
            "extension",
            name.clone(),
            format!("extension {name} is installed in schema public"),
            Some(format!("ALTER EXTENSION {} SET SCHEMA extensions; (if it is relocatable; else drop and re-create it WITH SCHEMA extensions)", ident(&name))),
        ));
    }
    Ok(())
}

/// Builds a scratch database on `server` from `set` (with the `platform` emulation), runs the
/// catalog rules on it with the platform's exposed schemas ([`super::api_schemas`]), and drops it (also when building or
/// checking fails).
pub async fn lint_schema(
    scratch: &strata::scratch::Scratch,
    set: MigrationSet,
    platform: Platform,
) -> Result<Vec<Finding>, Error> {
    let db = ScratchDb::create(scratch, "lint").await?;
    let result = async {
        db.build(set, platform).await?;
        let client = db.target().connect().await?;
        check(&client, &super::api_schemas(platform)).await
    }
    .await;
    let dropped = db.drop_now().await;
    let findings = result?;
    dropped?;
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::RULES;
    use crate::rules::ALL;
    use crate::RuleKind;

    #[test]
    fn catalog_rules_share_ids_and_docs_with_static_rules() {
        for info in RULES {
            assert_eq!(info.kind, RuleKind::Both, "{}", info.id);
            assert!(ALL.iter().any(|r| r.info.id == info.id), "{}", info.id);
        }
        let mut seen = HashSet::new();
        for r in ALL {
            let i = r.info;
            assert!(seen.insert(i.id), "duplicate rule id {}", i.id);
            assert!(
                i.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                i.id
            );
            for (field, text) in [
                ("summary", i.summary),
                ("why", i.why),
                ("fix", i.fix),
                ("bad", i.bad),
                ("good", i.good),
            ] {
                assert!(!text.trim().is_empty(), "{}: empty {field}", i.id);
            }
        }
    }

    /// Each locking, security and type rule's own `bad` example is flagged by it and its `good`
    /// example is not.
    #[test]
    fn documented_examples_hold() {
        use crate::rules::testing::lint;
        for r in ALL.iter().filter(|r| {
            ["locking", "rls", "security", "performance", "types"].contains(&r.info.category)
        }) {
            let i = r.info;
            assert!(
                !lint(i.bad, i.id).is_empty(),
                "{}: bad example passes",
                i.id
            );
            assert!(
                lint(i.good, i.id).is_empty(),
                "{}: good example flagged",
                i.id
            );
        }
    }
}
