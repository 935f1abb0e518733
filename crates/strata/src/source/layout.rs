//! Layouts: how a tool names its migration files, orders their versions, and what it does with
//! a file that is not a migration. `layout` in strata.toml names one; otherwise it is read off
//! the directory.

use std::cmp::Ordering;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Version;

/// A migrations directory's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `<digits>_<name>.sql` with `_rollback.sql` siblings (or a `rollbacks/` directory),
    /// numeric version order; a file that is not a migration is refused until `legacy_order`
    /// places it.
    Strata,
    /// The Supabase CLI's `supabase/migrations/`: `^([0-9]+)_(.*)\.sql$`, versions compared as
    /// text by the CLI; any other file is skipped with a warning, as the CLI skips it.
    Supabase,
}

impl Layout {
    /// The layout of `dir` when strata.toml does not name one: `supabase` for a
    /// `…/supabase/migrations` directory, else `strata`.
    pub fn detect(dir: &Path) -> Layout {
        let is_supabase = dir.file_name().is_some_and(|n| n == "migrations")
            && dir
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "supabase");
        if is_supabase {
            Layout::Supabase
        } else {
            Layout::Strata
        }
    }

    /// The name used in strata.toml (`layout = "…"`).
    pub fn name(self) -> &'static str {
        match self {
            Layout::Strata => "strata",
            Layout::Supabase => "supabase",
        }
    }

    /// Whether a file that is not a migration is skipped with a warning (the Supabase CLI's
    /// behaviour) rather than refused.
    pub fn skips_other_files(self) -> bool {
        self == Layout::Supabase
    }
}

/// Where the rollback files of `migrations_dir` live, and where new ones are written:
/// `configured` (`rollbacks_dir` in strata.toml), else `rollbacks/` beside the migrations
/// directory when it exists, else — for the Supabase layout — `supabase/rollbacks/` (to be
/// created): the Supabase CLI would take a rollback file in `supabase/migrations` for a
/// migration. `None`: beside each migration.
pub fn rollbacks_dir(
    migrations_dir: &Path,
    configured: Option<&Path>,
    layout: Layout,
) -> Option<std::path::PathBuf> {
    if let Some(c) = configured {
        return Some(c.to_path_buf());
    }
    let beside = migrations_dir.parent()?.join("rollbacks");
    (beside.is_dir() || layout == Layout::Supabase).then_some(beside)
}

/// How versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum VersionOrder {
    /// By numeric value: `2` < `10`, `20240115` (a date) < `20240101000000` (a timestamp).
    #[default]
    Numeric,
    /// As text, as the Supabase CLI compares them: `20240101000000` < `20240115`.
    Text,
}

impl VersionOrder {
    /// Compares two versions in this order.
    pub fn cmp(self, a: &Version, b: &Version) -> Ordering {
        match self {
            VersionOrder::Numeric => a.cmp(b),
            VersionOrder::Text => a.as_str().cmp(b.as_str()).then_with(|| a.cmp(b)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            VersionOrder::Numeric => "numeric",
            VersionOrder::Text => "text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supabase_migrations_is_the_supabase_layout() {
        assert_eq!(
            Layout::detect(Path::new("/p/supabase/migrations")),
            Layout::Supabase
        );
        assert_eq!(Layout::detect(Path::new("/p/migrations")), Layout::Strata);
        assert_eq!(
            Layout::detect(Path::new("/p/supabase/other")),
            Layout::Strata
        );
    }

    #[test]
    fn orders_differ_only_across_lengths() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(
            VersionOrder::Numeric.cmp(&v("20240115"), &v("20240101000000")),
            Ordering::Less
        );
        assert_eq!(
            VersionOrder::Text.cmp(&v("20240115"), &v("20240101000000")),
            Ordering::Greater
        );
        assert_eq!(
            VersionOrder::Text.cmp(&v("20240102000000"), &v("20240101000000")),
            Ordering::Greater
        );
    }
}
