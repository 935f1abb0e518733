//! `extension-in-public`: an extension installed into schema `public`.

use pg_query::NodeEnum;

use super::{ast, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "extension-in-public",
    category: "security",
    kind: RuleKind::Both,
    default_level: Level::Warning,
    summary: "Extension installed in schema public",
    why: "An extension's functions, types and tables land in the schema it is created in; in \
          public they are exposed through the Data API, mixed with the application's objects \
          in dumps and diffs, and can clash with them (Supabase's extension_in_public advisor). \
          CREATE EXTENSION without WITH SCHEMA installs into the first schema of search_path, \
          which is public for migrations. Supabase keeps extensions in schema extensions, \
          which is on everyone's search_path.",
    fix: "CREATE EXTENSION IF NOT EXISTS name WITH SCHEMA extensions; (ALTER EXTENSION name SET \
          SCHEMA extensions; for one already installed, if it is relocatable).",
    bad: "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
    good: "CREATE SCHEMA IF NOT EXISTS extensions;\nCREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

/// Extensions that live in pg_catalog whatever is asked.
const CATALOG_EXTENSIONS: &[&str] = &["plpgsql"];

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (_, st, node) in cx.statements() {
        let NodeEnum::CreateExtensionStmt(e) = node else {
            continue;
        };
        if CATALOG_EXTENSIONS.contains(&e.extname.as_str()) {
            continue;
        }
        let schema = e.options.iter().find_map(|o| match &o.node {
            Some(NodeEnum::DefElem(d)) if d.defname == "schema" => {
                d.arg.as_deref().and_then(ast::str_val)
            }
            _ => None,
        });
        let how = match schema {
            Some("public") => "WITH SCHEMA public",
            Some(_) => continue,
            None => "without WITH SCHEMA (so into public, the first schema of search_path)",
        };
        out.push(cx.finding(
            &INFO,
            ast::first_line(&cx.file.text, st),
            format!("extension {} is installed {how}", e.extname),
            Some(format!(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA extensions;",
                e.extname
            )),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_extensions_in_public() {
        let sql =
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE EXTENSION vector SCHEMA public;\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 2);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn other_schemas_pass() {
        assert!(lint(
            "CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;\nCREATE EXTENSION plpgsql;",
            INFO.id
        )
        .is_empty());
    }
}
