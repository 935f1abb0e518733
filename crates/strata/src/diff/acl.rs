//! Privileges: ACL items as PostgreSQL prints them, and the GRANT/REVOKE that turn one set
//! into another.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Kind, Object, ObjectId};

/// `ON …` part of a GRANT for an object.
pub(super) fn acl_object(id: &ObjectId, o: &Object) -> String {
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
pub(super) fn acl_items(acl: Option<&str>) -> BTreeSet<String> {
    acl.unwrap_or("")
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// REVOKEs then GRANTs turning ACL `from` into `to`, grouped by grantee:
/// `(verb, privileges, grantee, with grant option)`.
pub(super) fn acl_delta(
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
pub(super) fn grant_sql(on: &str, from: &BTreeSet<String>, to: &BTreeSet<String>) -> Vec<String> {
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
