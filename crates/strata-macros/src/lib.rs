//! `embed_migrations!`: compiles a migrations directory into a binary, for the `strata` library.
//!
//! The macro lists the `.sql` files of a directory (relative to the crate's `CARGO_MANIFEST_DIR`),
//! and the `_rollback.sql` files of a `rollbacks/` directory beside it (where Supabase projects
//! keep them, out of the Supabase CLI's sight), at compile time and expands to a `&'static [strata::EmbeddedFile]` whose contents come from
//! `include_str!`, so rustc rebuilds the crate when a listed file changes. A *new* file is seen
//! on the next build of the crate; add `println!("cargo:rerun-if-changed=migrations");` to the
//! crate's `build.rs` so that adding a file triggers that build (as with sqlx's `migrate!`).
//!
//! Hand-written (no `syn`/`quote`): the input is one string literal, the output a slice
//! expression; pulling in a parser crate for that would cost more build time than it saves.

use proc_macro::TokenStream;
use std::path::PathBuf;

/// Embeds every `.sql` file of a directory: `embed_migrations!("supabase/migrations")`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(ts) => ts,
        Err(message) => format!("compile_error!({message:?})")
            .parse()
            .expect("compile_error tokens"),
    }
}

fn expand(input: TokenStream) -> Result<TokenStream, String> {
    let literal = input.to_string();
    let literal = literal.trim();
    let relative = parse_string_literal(literal).ok_or_else(|| {
        format!("embed_migrations! takes one string literal (a directory), got `{literal}`")
    })?;
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .map_err(|_| "CARGO_MANIFEST_DIR is not set".to_string())?;
    let dir = root.join(&relative);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| format!("embed_migrations!: cannot read {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("embed_migrations!: {e}"))?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".sql") && path.is_file() {
            files.push((name.to_string(), path.clone()));
        }
    }
    // Rollback files kept apart, in `../rollbacks/`, belong to the set too.
    if let Some(rollbacks) = dir.parent().map(|p| p.join("rollbacks")) {
        if let Ok(entries) = std::fs::read_dir(&rollbacks) {
            for entry in entries {
                let entry = entry.map_err(|e| format!("embed_migrations!: {e}"))?;
                let path = entry.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if name.ends_with("_rollback.sql") && path.is_file() {
                    files.push((name.to_string(), path.clone()));
                }
            }
        }
    }
    files.sort();
    let mut out = String::from("&[");
    for (name, path) in files {
        let path = path
            .to_str()
            .ok_or_else(|| format!("embed_migrations!: non-UTF-8 path {}", path.display()))?;
        out.push_str(&format!(
            "::strata::EmbeddedFile {{ name: {name:?}, contents: include_str!({path:?}) }},"
        ));
    }
    out.push(']');
    out.parse()
        .map_err(|e| format!("embed_migrations!: internal error: {e:?}"))
}

/// Parses `"..."` or `r"..."`/`r#"..."#` (no escapes beyond `\\` and `\"` are expected in paths).
fn parse_string_literal(s: &str) -> Option<String> {
    if let Some(rest) = s.strip_prefix('r') {
        let hashes = rest.bytes().take_while(|&b| b == b'#').count();
        let inner = rest[hashes..].strip_prefix('"')?;
        let inner = inner.strip_suffix(&"#".repeat(hashes))?.strip_suffix('"')?;
        return Some(inner.to_string());
    }
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.replace("\\\\", "\\").replace("\\\"", "\""))
}
