//! What Strata reads from `supabase/config.toml`, the Supabase CLI's project configuration: the
//! settings that decide what a push or a reset applies. Everything else in the file (ports, auth,
//! storage, functions …) belongs to the Supabase CLI's local stack and is ignored.
//!
//! Read (as the Supabase CLI 3.1 documents them in the file `supabase init` writes):
//! - `[db.migrations] enabled`: when `false`, `db push` and `db reset` skip migrations;
//! - `[db.migrations] schema_paths`: the declarative schema files (kept for `schema` commands);
//! - `[db.seed] enabled`: whether `db reset` seeds;
//! - `[db.seed] sql_paths`: seed files and glob patterns, relative to the `supabase/` directory,
//!   in order; each pattern's matches in name order, a file matched twice run once, a pattern
//!   that matches nothing a warning (the Supabase CLI's `WARN: no files matched pattern`).
//!
//! `strata.toml` takes precedence wherever it sets the same thing.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// The file name, inside the `supabase/` directory.
pub const SUPABASE_CONFIG_FILE: &str = "config.toml";

/// The settings of `supabase/config.toml` that apply to migrations and seeds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupabaseConfig {
    /// The file read.
    pub path: PathBuf,
    /// `[db.migrations] enabled` (the Supabase CLI's default: true).
    pub migrations_enabled: Option<bool>,
    /// `[db.migrations] schema_paths`, as written (relative to the `supabase/` directory).
    pub schema_paths: Vec<String>,
    /// `[db.seed] enabled` (default: true).
    pub seed_enabled: Option<bool>,
    /// `[db.seed] sql_paths`, as written (default `["./seed.sql"]`).
    pub seed_sql_paths: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct File {
    #[serde(default)]
    db: Db,
}

#[derive(Deserialize, Default)]
struct Db {
    #[serde(default)]
    migrations: Migrations,
    #[serde(default)]
    seed: Seed,
}

#[derive(Deserialize, Default)]
struct Migrations {
    enabled: Option<bool>,
    #[serde(default)]
    schema_paths: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Seed {
    enabled: Option<bool>,
    sql_paths: Option<Vec<String>>,
}

impl SupabaseConfig {
    /// The `supabase/config.toml` that belongs to a migrations directory: beside it when the
    /// directory is `…/supabase/migrations`, else `<root>/supabase/config.toml`; `None` when there
    /// is no such file.
    pub fn locate(root: &Path, migrations_dir: &Path) -> Option<PathBuf> {
        let beside = migrations_dir
            .parent()
            .filter(|p| p.file_name().is_some_and(|n| n == "supabase"))
            .map(|p| p.join(SUPABASE_CONFIG_FILE));
        beside
            .into_iter()
            .chain(std::iter::once(
                root.join("supabase").join(SUPABASE_CONFIG_FILE),
            ))
            .find(|p| p.is_file())
    }

    /// Reads the file. Errors: it cannot be read, is not TOML, or a setting Strata reads has the
    /// wrong type (the Supabase CLI refuses such a file too) — with the line and column at fault.
    pub fn read(path: &Path) -> Result<SupabaseConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        Self::parse(path, &text)
    }

    /// Parses the text of `path` (used in errors only).
    pub fn parse(path: &Path, text: &str) -> Result<SupabaseConfig, Error> {
        let file: File = toml::from_str(text).map_err(|e| {
            super::toml_error(
                path,
                text,
                &e,
                "Strata reads [db.migrations] and [db.seed] from the Supabase CLI's config.toml; fix the value, or set the same thing in strata.toml, which takes precedence",
            )
        })?;
        Ok(SupabaseConfig {
            path: path.to_path_buf(),
            migrations_enabled: file.db.migrations.enabled,
            schema_paths: file.db.migrations.schema_paths,
            seed_enabled: file.db.seed.enabled,
            seed_sql_paths: file.db.seed.sql_paths,
        })
    }

    /// The `supabase/` directory the file's relative paths start from.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// `[db.seed] sql_paths` expanded as the Supabase CLI expands it: patterns in order, each
    /// pattern's matches in name order, a file matched by two patterns once (where first
    /// matched). Returns the files and a warning for each pattern that matched nothing. Errors:
    /// a pattern that is not a valid glob.
    pub fn seed_files(&self) -> Result<(Vec<PathBuf>, Vec<String>), Error> {
        let patterns = self
            .seed_sql_paths
            .clone()
            .unwrap_or_else(|| vec!["./seed.sql".into()]);
        self.matching("db.seed.sql_paths", &patterns)
    }

    /// `[db.migrations] schema_paths` expanded as `sql_paths` is: the declarative schema files
    /// in order. Empty when the setting is.
    pub fn schema_files(&self) -> Result<(Vec<PathBuf>, Vec<String>), Error> {
        self.matching("db.migrations.schema_paths", &self.schema_paths)
    }

    /// The files `patterns` (globs relative to the `supabase/` directory) match: patterns in
    /// order, each one's matches in name order, a file matched twice once; a pattern that
    /// matches nothing is a warning. Errors: a pattern that is not a glob, named by `setting`.
    fn matching(
        &self,
        setting: &str,
        patterns: &[String],
    ) -> Result<(Vec<PathBuf>, Vec<String>), Error> {
        let dir = self.dir();
        let (section, key) = setting
            .strip_prefix("db.")
            .and_then(|s| s.rsplit_once('.'))
            .unwrap_or(("db", setting));
        let mut files: Vec<PathBuf> = Vec::new();
        let mut warnings = Vec::new();
        for pattern in patterns {
            let relative = pattern.strip_prefix("./").unwrap_or(pattern);
            let full = dir.join(relative);
            let full_text = full.to_string_lossy();
            let matches = glob::glob(&full_text).map_err(|e| Error::Setting {
                setting: setting.into(),
                message: format!(
                    "{}: [db.{section}] {key} holds {pattern:?}, which is not a valid glob pattern: {}",
                    self.path.display(),
                    e.msg
                ),
                hint: Some("use * and ? as in \"./seeds/*.sql\"".into()),
            })?;
            let found: Vec<PathBuf> = matches
                .map(|m| {
                    m.map_err(|e| {
                        crate::source::checked_entry(e.path())
                            .err()
                            .unwrap_or_else(|| {
                                Error::io("read", e.path(), std::io::Error::other(e.to_string()))
                            })
                    })
                })
                .collect::<Result<_, Error>>()?;
            let mut found = crate::source::checked_files(found)?;
            found.sort();
            if found.is_empty() {
                warnings.push(format!(
                    "{}: [db.{section}] {key} pattern {pattern:?} matches no file",
                    self.path.display()
                ));
            }
            for f in found {
                if !files.contains(&f) {
                    files.push(f);
                }
            }
        }
        Ok((files, warnings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_applies_and_ignores_the_rest() {
        let c = SupabaseConfig::parse(
            Path::new("supabase/config.toml"),
            "project_id = \"x\"\n[api]\nport = 54321\n[db]\nmajor_version = 15\n[db.migrations]\nenabled = false\nschema_paths = [\"./schemas/*.sql\"]\n[db.seed]\nenabled = true\nsql_paths = [\"./seeds/*.sql\"]\n[auth.email]\nenable_signup = true\n",
        )
        .unwrap();
        assert_eq!(c.migrations_enabled, Some(false));
        assert_eq!(c.schema_paths, vec!["./schemas/*.sql".to_string()]);
        assert_eq!(c.seed_sql_paths, Some(vec!["./seeds/*.sql".to_string()]));
    }

    #[test]
    fn a_wrong_type_names_the_line() {
        let e = SupabaseConfig::parse(
            Path::new("supabase/config.toml"),
            "[db]\nport = 1\n\n[db.seed]\nsql_paths = \"./seed.sql\"\n",
        )
        .unwrap_err();
        match e {
            Error::Config { line, .. } => assert_eq!(line, 5),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn seed_patterns_expand_in_order_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let sb = dir.path().join("supabase");
        std::fs::create_dir_all(sb.join("seeds")).unwrap();
        for f in ["seeds/b.sql", "seeds/a.sql", "seeds/c.sql", "seed.sql"] {
            std::fs::write(sb.join(f), "select 1;").unwrap();
        }
        let mut c = SupabaseConfig {
            path: sb.join("config.toml"),
            ..Default::default()
        };
        c.seed_sql_paths = Some(vec![
            "./seeds/c.sql".into(),
            "./seeds/*.sql".into(),
            "./seed.sql".into(),
            "./missing/*.sql".into(),
        ]);
        let (files, warnings) = c.seed_files().unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.strip_prefix(&sb).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["seeds/c.sql", "seeds/a.sql", "seeds/b.sql", "seed.sql"]
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("./missing/*.sql"));
    }
}
