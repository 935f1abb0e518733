//! Layouts: how a tool names its migration files, orders their versions, and what it does with
//! a file that is not a migration. `layout` in strata.toml names one; otherwise it is read off
//! the directory.

use std::cmp::Ordering;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Version;

/// A migrations directory's conventions: how files are named, where down migrations are, how
/// versions are ordered, and which history table the tool keeps in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `<digits>_<name>.sql` (or `<digits>-<name>.sql`) with `_rollback.sql` siblings (or a
    /// `rollbacks/` directory), numeric version order; a file that is not a migration is refused
    /// until `legacy_order` places it.
    #[default]
    Strata,
    /// The Supabase CLI's `supabase/migrations/`: `^([0-9]+)_(.*)\.sql$`, versions compared as
    /// text by the CLI; any other file is skipped with a warning, as the CLI skips it.
    Supabase,
    /// dbmate: `<version>_<name>.sql` holding `-- migrate:up` and `-- migrate:down` sections;
    /// history in `schema_migrations (version)`.
    Dbmate,
    /// diesel: a directory per migration, `<yyyy-mm-dd-hhmmss>_<name>/up.sql` and `down.sql`
    /// (`metadata.toml`: `run_in_transaction = false`); history in
    /// `__diesel_schema_migrations`.
    Diesel,
    /// golang-migrate: `<version>_<name>.up.sql` and `.down.sql`; history in `schema_migrations
    /// (version bigint, dirty boolean)`, one row: the current version.
    GolangMigrate,
    /// goose: `<version>_<name>.sql` holding `-- +goose Up` and `-- +goose Down` sections;
    /// history in `goose_db_version`.
    Goose,
    /// sqlx: `<version>_<name>.sql`, or `.up.sql` and `.down.sql`; history in
    /// `_sqlx_migrations`.
    Sqlx,
    /// Flyway: `V<version>__<desc>.sql` (versions such as `1.2.3`; `_` separates groups too),
    /// `U<version>__<desc>.sql` undo files, `R__<desc>.sql` repeatables, in subdirectories too;
    /// history in `flyway_schema_history`.
    Flyway,
    /// node-pg-migrate: `<timestamp>_<name>.sql` holding `-- Up Migration` and
    /// `-- Down Migration` sections; history in `pgmigrations (name, run_on)`.
    NodePgMigrate,
}

/// Every layout, for help texts and errors.
pub const LAYOUTS: &[Layout] = &[
    Layout::Strata,
    Layout::Supabase,
    Layout::Dbmate,
    Layout::Diesel,
    Layout::GolangMigrate,
    Layout::Goose,
    Layout::Sqlx,
    Layout::Flyway,
    Layout::NodePgMigrate,
];

/// `…/supabase/migrations`: the Supabase CLI's directory, whatever it holds.
fn is_supabase_dir(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n == "migrations")
        && dir
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "supabase")
}

/// A directory's entries as one `readdir` pass gives them: names and the types the listing
/// reports (no `stat` per entry).
pub(crate) struct Listing {
    pub(crate) entries: Vec<ListedEntry>,
}

/// One entry of a [`Listing`].
pub(crate) struct ListedEntry {
    pub(crate) name: std::ffi::OsString,
    /// `None` when the listing could not say (the entry vanished meanwhile).
    pub(crate) file_type: Option<std::fs::FileType>,
}

impl Listing {
    /// Lists `dir`. Errors: the directory cannot be read, or an entry cannot.
    pub(crate) fn read(dir: &Path) -> std::io::Result<Listing> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            entries.push(ListedEntry {
                file_type: entry.file_type().ok(),
                name: entry.file_name(),
            });
        }
        Ok(Listing { entries })
    }
}

impl Layout {
    /// The layout of `dir` when strata.toml does not name one, read off the directory:
    /// `supabase` for `…/supabase/migrations`; `diesel` when a subdirectory holds `up.sql`;
    /// `flyway` for `V…__…sql`/`R__…sql` files; `golang-migrate` for `….up.sql` files (sqlx's
    /// reversible files look the same: name `sqlx` in strata.toml to adopt sqlx's history);
    /// `dbmate`, `goose` or `node-pg-migrate` when a file holds that tool's section marker; else
    /// `strata`.
    pub fn detect(dir: &Path) -> Layout {
        if is_supabase_dir(dir) {
            return Layout::Supabase;
        }
        match Listing::read(dir) {
            Ok(listing) => Layout::detect_listed(dir, &listing),
            Err(_) => Layout::Strata,
        }
    }

    /// [`Layout::detect`] on a listing of `dir` already read, so that loading a directory lists
    /// it once.
    pub(crate) fn detect_listed(dir: &Path, listing: &Listing) -> Layout {
        if is_supabase_dir(dir) {
            return Layout::Supabase;
        }
        let mut sql_files = Vec::new();
        let mut up_down = false;
        for entry in &listing.entries {
            let name = entry.name.to_string_lossy();
            // The entry's type from the directory listing: no stat per file (a symlink is
            // followed, as `is_dir` would).
            let is_dir = entry
                .file_type
                .is_some_and(|t| t.is_dir() || (t.is_symlink() && dir.join(&entry.name).is_dir()));
            if is_dir {
                if dir.join(&entry.name).join("up.sql").is_file() {
                    return Layout::Diesel;
                }
                continue;
            }
            if super::tools::flyway_name(&name).is_some() {
                return Layout::Flyway;
            }
            if name.ends_with(".up.sql") || name.ends_with(".down.sql") {
                up_down = true;
            } else if name.ends_with(".sql") {
                sql_files.push(name);
            }
        }
        if up_down {
            return Layout::GolangMigrate;
        }
        // The first 20 by name (names compare as strings: cheaper than paths, same order here).
        let first = sql_files.len().min(20);
        if first > 0 && first < sql_files.len() {
            sql_files.select_nth_unstable(first - 1);
        }
        sql_files.truncate(first);
        sql_files.sort_unstable();
        for name in &sql_files {
            let Ok(text) = std::fs::read_to_string(dir.join(name.as_ref())) else {
                continue;
            };
            if let Some(layout) = super::tools::section_layout(&text) {
                return layout;
            }
        }
        Layout::Strata
    }

    /// The name used in strata.toml (`layout = "…"`).
    pub fn name(self) -> &'static str {
        match self {
            Layout::Strata => "strata",
            Layout::Supabase => "supabase",
            Layout::Dbmate => "dbmate",
            Layout::Diesel => "diesel",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Goose => "goose",
            Layout::Sqlx => "sqlx",
            Layout::Flyway => "flyway",
            Layout::NodePgMigrate => "node-pg-migrate",
        }
    }

    /// Whether a file that is not a migration is skipped with a warning (the Supabase CLI's
    /// behaviour) rather than refused.
    pub fn skips_other_files(self) -> bool {
        self == Layout::Supabase
    }

    /// Another tool's layout, whose files are read by `source::tools` and whose history table
    /// Strata adopts.
    pub fn is_tool(self) -> bool {
        !matches!(self, Layout::Strata | Layout::Supabase)
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
    if layout.is_tool() {
        // The tool keeps its down migrations itself (sections, down files).
        return None;
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
