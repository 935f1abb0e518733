//! What to do when a migration fails on something the platform provides: an extension the server
//! does not have, or a platform object the emulation does not include.
//!
//! Both are recognised from PostgreSQL's error alone (SQLSTATE, message and detail), so they work
//! whatever ran the statement. The messages matched are those of PostgreSQL 13–18:
//! `src/backend/commands/extension.c` (`parse_extension_control_file`: "could not open extension
//! control file" with 58P01 up to 15; "extension \"%s\" is not available" with 0A000 and the file
//! in the detail from 16) and the parser's "relation/function/schema/type … does not exist" errors
//! (42P01, 42883, 3F000, 42704).

use crate::error::MigrationError;

use super::Platform;

/// How a Supabase extension is installed on a plain PostgreSQL server.
struct Extension {
    name: &'static str,
    /// `Some("cron")` for Debian's and apt.postgresql.org's `postgresql-<major>-cron`; `None`
    /// when no such package exists.
    package: Option<&'static str>,
    /// Where to get it when there is no package (or a note that applies either way).
    note: &'static str,
    /// The server must load it at start (`shared_preload_libraries`).
    preload: bool,
}

/// The extensions the Supabase platform offers beyond PostgreSQL's contrib, from
/// supabase/postgres (ansible/vars.yml, 7db7e1a9), with their Debian / apt.postgresql.org packages.
const EXTENSIONS: &[Extension] = &[
    Extension { name: "pg_cron", package: Some("cron"), note: "", preload: true },
    Extension { name: "vector", package: Some("pgvector"), note: "", preload: false },
    Extension { name: "postgis", package: Some("postgis-3"), note: "", preload: false },
    Extension { name: "postgis_raster", package: Some("postgis-3"), note: "", preload: false },
    Extension { name: "postgis_topology", package: Some("postgis-3"), note: "", preload: false },
    Extension { name: "postgis_tiger_geocoder", package: Some("postgis-3"), note: "", preload: false },
    Extension { name: "address_standardizer", package: Some("postgis-3"), note: "", preload: false },
    Extension { name: "pgrouting", package: Some("pgrouting"), note: "", preload: false },
    Extension { name: "http", package: Some("http"), note: "", preload: false },
    Extension { name: "pgtap", package: Some("pgtap"), note: "", preload: false },
    Extension { name: "plpgsql_check", package: Some("plpgsql-check"), note: "", preload: false },
    Extension { name: "pgaudit", package: Some("pgaudit"), note: "", preload: true },
    Extension { name: "hypopg", package: Some("hypopg"), note: "", preload: false },
    Extension { name: "pg_repack", package: Some("repack"), note: "", preload: false },
    Extension { name: "rum", package: Some("rum"), note: "", preload: false },
    Extension { name: "pg_partman", package: Some("partman"), note: "", preload: false },
    Extension {
        name: "pg_net",
        package: None,
        note: "build it from github.com/supabase/pg_net; without it, Strata's Supabase emulation provides pg_net's SQL interface (net.http_get, net.http_post, net.http_delete) as a recording stand-in, so migrations that only call those functions run without `CREATE EXTENSION pg_net`",
        preload: true,
    },
    Extension {
        name: "pg_graphql",
        package: None,
        note: "build it from github.com/supabase/pg_graphql (a pgrx extension); Strata does not emulate the graphql schema",
        preload: false,
    },
    Extension {
        name: "pgsodium",
        package: None,
        note: "build it from github.com/michelp/pgsodium; Strata does not emulate it (vault is emulated without it)",
        preload: false,
    },
    Extension {
        name: "supabase_vault",
        package: None,
        note: "Strata's Supabase emulation creates the vault schema (vault.secrets, vault.create_secret …) without the extension; on a plain server leave `CREATE EXTENSION supabase_vault` to Supabase, or build it from github.com/supabase/vault",
        preload: false,
    },
    Extension {
        name: "pg_jsonschema",
        package: None,
        note: "build it from github.com/supabase/pg_jsonschema (a pgrx extension)",
        preload: false,
    },
    Extension {
        name: "wrappers",
        package: None,
        note: "build it from github.com/supabase/wrappers (a pgrx extension)",
        preload: false,
    },
    Extension {
        name: "index_advisor",
        package: None,
        note: "install it from github.com/supabase/index_advisor (it needs hypopg: postgresql-<major>-hypopg)",
        preload: false,
    },
    Extension {
        name: "pgjwt",
        package: None,
        note: "install it from github.com/michelp/pgjwt (plain SQL: `make install`)",
        preload: false,
    },
    Extension {
        name: "pg_hashids",
        package: None,
        note: "build it from github.com/iCyberon/pg_hashids",
        preload: false,
    },
    Extension {
        name: "pgroonga",
        package: None,
        note: "install it from the PGroonga project's apt repository (packages.groonga.org)",
        preload: false,
    },
    Extension {
        name: "timescaledb",
        package: None,
        note: "install it from Timescale's apt repository (packagecloud.io/timescale)",
        preload: true,
    },
    Extension {
        name: "plv8",
        package: None,
        note: "build it from github.com/plv8/plv8",
        preload: false,
    },
    Extension {
        name: "pgmq",
        package: None,
        note: "install it from github.com/pgmq/pgmq (plain SQL from 1.5)",
        preload: false,
    },
];

/// PostgreSQL's contrib modules that Supabase projects enable, shipped in the server package.
const CONTRIB: &[&str] = &[
    "pgcrypto",
    "uuid-ossp",
    "pg_stat_statements",
    "pg_trgm",
    "citext",
    "hstore",
    "ltree",
    "unaccent",
    "fuzzystrmatch",
    "btree_gin",
    "btree_gist",
    "intarray",
    "cube",
    "earthdistance",
    "tablefunc",
    "pg_buffercache",
    "pg_walinspect",
    "pgrowlocks",
    "pgstattuple",
    "postgres_fdw",
    "dblink",
    "isn",
    "seg",
    "tcn",
    "moddatetime",
    "insert_username",
    "autoinc",
    "refint",
    "lo",
    "dict_int",
    "dict_xsyn",
    "sslinfo",
    "bloom",
    "amcheck",
    "pg_prewarm",
    "pg_surgery",
    "pg_visibility",
    "pg_freespacemap",
    "file_fdw",
    "tsm_system_rows",
    "tsm_system_time",
    "plpgsql",
];

/// Adds what to do to a migration error about a missing extension or platform object; leaves
/// other errors as they are. `platform` is what the push expected (`--platform`).
pub fn annotate(e: &mut MigrationError, platform: Platform) {
    let extra = missing_extension(e).or_else(|| missing_platform_object(e, platform));
    if let Some(extra) = extra {
        e.hint = Some(match e.hint.take() {
            Some(server) => format!("{server}\n{extra}"),
            None => extra,
        });
    }
}

/// The extension a "not available" error names, and the server's major version when the control
/// file's path shows it (`/usr/share/postgresql/15/extension/vector.control`).
fn unavailable_extension(e: &MigrationError) -> Option<(String, Option<String>)> {
    let text = format!("{}\n{}", e.message, e.detail.as_deref().unwrap_or(""));
    let path_name = || {
        let start = text.find("extension control file \"")? + "extension control file \"".len();
        let path = &text[start..];
        let path = &path[..path.find('"')?];
        let file = path.rsplit('/').next()?;
        Some((file.strip_suffix(".control")?.to_string(), path.to_string()))
    };
    let (name, path) = match e.sqlstate.as_deref() {
        // PostgreSQL 13–15.
        Some("58P01") => path_name()?,
        // PostgreSQL 16+: `extension "x" is not available`, the file in the detail.
        Some("0A000") => {
            let rest = e.message.strip_prefix("extension \"")?;
            let name = rest[..rest.find("\" is not available")?].to_string();
            let path = path_name().map(|(_, p)| p).unwrap_or_default();
            (name, path)
        }
        _ => return None,
    };
    let major = path
        .split('/')
        .collect::<Vec<_>>()
        .windows(3)
        .find_map(|w| {
            (w[0] == "postgresql"
                && w[2] == "extension"
                && w[1].chars().all(|c| c.is_ascii_digit()))
            .then(|| w[1].to_string())
        });
    Some((name, major))
}

fn missing_extension(e: &MigrationError) -> Option<String> {
    let (name, major) = unavailable_extension(e)?;
    let major = major.unwrap_or_else(|| "<major>".into());
    if CONTRIB.contains(&name.as_str()) {
        return Some(format!(
            "extension {name} is part of PostgreSQL's contrib, shipped with the server: on Debian/Ubuntu in postgresql-{major} (older releases: postgresql-contrib); install it where the server runs"
        ));
    }
    let Some(ext) = EXTENSIONS.iter().find(|x| x.name == name) else {
        return Some(format!(
            "extension {name} is not installed where the server runs: install its package there (Debian/Ubuntu packages are usually named postgresql-{major}-<name>, from apt.postgresql.org), or drop the CREATE EXTENSION if the project does not need it"
        ));
    };
    let mut text = match ext.package {
        Some(p) => format!(
            "extension {name} is a Supabase extension this server lacks: on Debian/Ubuntu install postgresql-{major}-{p} (apt.postgresql.org; `sudo apt-get install postgresql-{major}-{p}`) where the server runs"
        ),
        None => format!(
            "extension {name} is a Supabase extension this server lacks, and it has no Debian package: {}",
            ext.note.replace("<major>", &major)
        ),
    };
    if ext.package.is_some() && !ext.note.is_empty() {
        text.push_str(&format!("; {}", ext.note));
    }
    if ext.preload {
        let lib = if name == "pg_cron" {
            "shared_preload_libraries = 'pg_cron' and cron.database_name = '<database>'".to_string()
        } else {
            format!("shared_preload_libraries = '{name}'")
        };
        text.push_str(&format!(
            "; it must also be loaded at server start: set {lib} in postgresql.conf and restart the server"
        ));
    }
    Some(text)
}

/// `relation "auth.foo" does not exist` and its kin: the schema-qualified name, when the error
/// gives one.
fn missing_name(e: &MigrationError) -> Option<(String, String)> {
    let m = &e.message;
    let quoted = |m: &str| -> Option<String> {
        let start = m.find('"')? + 1;
        let end = start + m[start..].find('"')?;
        Some(m[start..end].to_string())
    };
    match e.sqlstate.as_deref()? {
        // relation / type / function … does not exist
        "42P01" | "42704" | "42883" => {
            let name = if m.starts_with("function ") && !m.contains('"') {
                // `function auth.foo(uuid) does not exist`: the name is unquoted.
                m.strip_prefix("function ")?.split('(').next()?.to_string()
            } else {
                quoted(m)?
            };
            let (schema, _) = name.split_once('.')?;
            Some((schema.to_string(), name))
        }
        "3F000" => {
            let schema = quoted(m)?;
            Some((schema.clone(), schema))
        }
        _ => None,
    }
}

fn missing_platform_object(e: &MigrationError, platform: Platform) -> Option<String> {
    let (schema, name) = missing_name(e)?;
    let managed = super::MANAGED_SCHEMAS
        .iter()
        .find(|s| s.name == schema && s.name != "strata_platform")?;
    let (emulated, creator) = (&managed.emulated, &managed.created_by);
    let what = if name == schema {
        format!("schema {schema}")
    } else {
        name.clone()
    };
    Some(match (platform, emulated) {
        (Platform::None, _) => format!(
            "{what} belongs to the Supabase platform (schema {schema} is created by {creator}), and this push does not emulate it: push with --platform supabase (or `platform = \"supabase\"` in strata.toml) to install Strata's emulation on a plain PostgreSQL server"
        ),
        (Platform::Supabase, true) => format!(
            "{what} is a Supabase platform object (schema {schema}, created by {creator}) that Strata's emulation (version {}) does not include; create it in an earlier migration for plain servers, or report it so the emulation gains it",
            super::SUPABASE_VERSION
        ),
        (Platform::Supabase, false) => format!(
            "{what} is a Supabase platform object Strata does not emulate: schema {schema} is created by {creator}, which this server lacks; install it where the server runs, or create what the migration needs in an earlier migration"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, message: &str, detail: Option<&str>) -> MigrationError {
        MigrationError {
            file: "m.sql".into(),
            version: "1".into(),
            line: 1,
            column: 1,
            statement: String::new(),
            sqlstate: Some(code.into()),
            message: message.into(),
            detail: detail.map(str::to_string),
            hint: None,
            offset: 0,
            source_text: String::new(),
            transactional: true,
            lock_holders: Vec::new(),
            notices: Vec::new(),
        }
    }

    #[test]
    fn extension_messages_of_15_and_16() {
        let pg15 = err(
            "58P01",
            "could not open extension control file \"/usr/share/postgresql/15/extension/pg_cron.control\": No such file or directory",
            None,
        );
        assert_eq!(
            unavailable_extension(&pg15),
            Some(("pg_cron".into(), Some("15".into())))
        );
        let pg16 = err(
            "0A000",
            "extension \"vector\" is not available",
            Some("Could not open extension control file \"/usr/share/postgresql/16/extension/vector.control\": No such file or directory."),
        );
        assert_eq!(
            unavailable_extension(&pg16),
            Some(("vector".into(), Some("16".into())))
        );
        let mut e = pg16;
        annotate(&mut e, Platform::Supabase);
        assert!(e.hint.unwrap().contains("postgresql-16-pgvector"));
    }

    #[test]
    fn platform_objects_named() {
        let mut e = err(
            "42P01",
            "relation \"auth.mfa_widgets\" does not exist",
            None,
        );
        annotate(&mut e, Platform::Supabase);
        assert!(e
            .hint
            .unwrap()
            .contains("auth.mfa_widgets is a Supabase platform object"));
        let mut e = err("3F000", "schema \"graphql\" does not exist", None);
        annotate(&mut e, Platform::Supabase);
        assert!(e.hint.unwrap().contains("pg_graphql"));
        let mut e = err("42883", "function auth.uid() does not exist", None);
        annotate(&mut e, Platform::None);
        assert!(e.hint.unwrap().contains("--platform supabase"));
        let mut e = err("42P01", "relation \"public.x\" does not exist", None);
        annotate(&mut e, Platform::Supabase);
        assert!(e.hint.is_none());
    }
}
