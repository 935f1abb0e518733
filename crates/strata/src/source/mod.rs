//! Migration sources: finding `<version>_<name>.sql` files and their `_rollback.sql`
//! siblings in a directory (or embedded at compile time), ordering them by the numeric value of
//! their version, and checksumming them.
//!
//! Nothing here talks to a database. Statement splitting is lazy: a no-op push over thousands of
//! applied migrations only reads and hashes files.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::sql::{self, LineIndex, Statement};

pub mod cache;
pub mod layout;
pub mod tools;
pub(crate) mod version;

pub use layout::{Layout, VersionOrder};
pub use tools::Repeatable;
pub use version::Version;

/// Versions that differ only by leading zeros (`001` and `1`) are the same migration slot.
fn numerically_equal(a: &Version, b: &Version) -> bool {
    a.groups().eq(b.groups())
}

/// The SHA-256 checksum of a file's text, normalised so that a checkout with other line endings
/// or a BOM added by an editor does not count as a change: the UTF-8 BOM is removed and CRLF/CR
/// line endings become LF. Written `sha256:<hex>`.
pub fn checksum(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut hasher = Sha256::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' {
            hasher.update(&bytes[start..i]);
            hasher.update(b"\n");
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    hasher.update(&bytes[start..]);
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// The name of the checksum algorithm, recorded next to each checksum.
pub const CHECKSUM_ALGORITHM: &str = "sha256 of UTF-8 text, BOM removed, CRLF/CR as LF";

/// A down migration: `<version>_<name>_rollback.sql` beside its migration.
#[derive(Debug, Clone)]
pub struct RollbackFile {
    pub path: PathBuf,
    pub sql: String,
}

/// One migration file.
#[derive(Debug)]
pub struct Migration {
    pub version: Version,
    /// The part of the file name after `<version>_`, without `.sql`.
    pub name: String,
    /// Where the file is (for embedded migrations: its path relative to the embedded directory).
    pub path: PathBuf,
    /// The file's text, without a UTF-8 BOM.
    pub sql: String,
    /// See [`checksum`].
    pub checksum: String,
    pub rollback: Option<RollbackFile>,
    /// Why the migration runs statement by statement, when its tool says so outside the SQL
    /// (diesel's `metadata.toml`, a Flyway `.conf` file); markers in the SQL are read when it
    /// runs.
    pub no_transaction: Option<String>,
    /// Split on first use; only a successful split is kept (a failing one is recomputed).
    statements: OnceLock<Vec<Statement>>,
    /// The text was not read: the checksum came from the checksum cache ([`cache`]), which is
    /// all a no-op push needs. [`MigrationSet::read_deferred`] reads it.
    deferred: bool,
}

impl Clone for Migration {
    fn clone(&self) -> Self {
        Migration {
            version: self.version.clone(),
            name: self.name.clone(),
            path: self.path.clone(),
            sql: self.sql.clone(),
            checksum: self.checksum.clone(),
            rollback: self.rollback.clone(),
            no_transaction: self.no_transaction.clone(),
            statements: OnceLock::new(),
            deferred: self.deferred,
        }
    }
}

impl Migration {
    /// Builds a migration from its file name parts and text.
    pub fn new(version: Version, name: impl Into<String>, path: PathBuf, sql: String) -> Self {
        let source = hashed(String::new(), sql);
        Self::hashed(version, name.into(), path, source.text, source.checksum)
    }

    fn hashed(
        version: Version,
        name: String,
        path: PathBuf,
        sql: String,
        checksum: String,
    ) -> Self {
        Migration {
            version,
            name,
            path,
            sql,
            checksum,
            rollback: None,
            no_transaction: None,
            statements: OnceLock::new(),
            deferred: false,
        }
    }

    /// The file name, e.g. `20240115093000_create_user_settings.sql`.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("{}_{}.sql", self.version, self.name))
    }

    /// Whether the file's text was read ([`Migration::sql`] holds it). Only a set loaded with
    /// a checksum cache ([`SourceOptions::checksum_cache`]) has migrations whose text was not
    /// read; [`MigrationSet::read_deferred`] reads them.
    pub fn is_read(&self) -> bool {
        !self.deferred
    }

    /// The file's statements, split with PostgreSQL's lexical rules (computed once).
    ///
    /// # Errors
    /// [`Error::Scan`] for a file that cannot be split; [`Error::SourceFile`] when the text was
    /// not read ([`Migration::is_read`]), so that nothing ever runs an unread file as empty.
    pub fn statements(&self) -> Result<&[Statement], Error> {
        if let Some(statements) = self.statements.get() {
            return Ok(statements);
        }
        if self.deferred {
            return Err(Error::SourceFile {
                path: self.path.clone(),
                problem: "the file's text was not read (only its checksum, from the checksum cache in .strata/)".into(),
                hint: Some("run the command again; if this repeats, set STRATA_NO_CHECKSUM_CACHE=1 and report it".into()),
            });
        }
        let statements = split_file(&self.path, &self.sql)?;
        Ok(self.statements.get_or_init(|| statements))
    }

    /// The statements as the Supabase CLI records them in `schema_migrations.statements`.
    pub fn statement_texts(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .statements()?
            .iter()
            .map(|s| self.sql[s.span.clone()].to_string())
            .collect())
    }
}

/// Splits a file, turning scanner errors into errors that name the file, line and column. An
/// empty or comment-only file is a migration that does nothing (the Supabase CLI applies it and
/// records `{}` or its comments as statements; `migration new`'s template is comment-only).
pub fn split_file(path: &Path, text: &str) -> Result<Vec<Statement>, Error> {
    let statements = sql::split(text).map_err(|e| {
        let (line, column) = LineIndex::new(text).line_col(text, e.offset);
        Error::Scan {
            path: path.to_path_buf(),
            line,
            column,
            kind: e.kind,
        }
    })?;
    Ok(statements)
}

/// A file compiled into a binary by [`embed_migrations!`](crate::embed_migrations).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedFile {
    /// The file name, e.g. `20240101000000_create_profiles.sql`.
    pub name: &'static str,
    /// Its contents.
    pub contents: &'static str,
}

/// The ordered migrations of a project, with what else was found in the directory.
#[derive(Debug, Clone, Default)]
pub struct MigrationSet {
    /// Where the files came from (`None` for embedded migrations).
    pub dir: Option<PathBuf>,
    /// Migrations in version order.
    pub migrations: Vec<Migration>,
    /// The order of [`MigrationSet::migrations`] (and of applied versions, when compared).
    pub order: VersionOrder,
    /// Files of the directory that are not migrations, skipped (the Supabase layout skips them,
    /// as the Supabase CLI does; never silently: show them).
    pub skipped: Vec<Skipped>,
    /// Things worth saying about files that were read (normalisation, a rollback file where
    /// another tool would take it for a migration).
    pub notes: Vec<FileNote>,
    /// Where rollback files live apart from the migrations, and new ones are written (see
    /// [`layout::rollbacks_dir`]); `None`: beside each migration.
    pub rollbacks_dir: Option<PathBuf>,
    /// The conventions the directory was read with.
    pub layout: Layout,
    /// Repeatable migrations (Flyway's `R__…sql`), run after the versioned ones when changed.
    pub repeatables: Vec<Repeatable>,
    /// The tool's history table when not its default (`history_table` in strata.toml).
    pub tool_history_table: Option<String>,
    /// Also record each migration in the tool's own history table (`record_in_tool_history`).
    pub record_in_tool_history: bool,
}

/// A file skipped while reading a migrations directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// A remark about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileNote {
    pub path: PathBuf,
    pub note: String,
}

/// Options for reading a migrations directory.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// The checksum cache file ([`cache::path_for`] in the project's `.strata/`): migration files whose
    /// stat is unchanged since it was written are not read, only their checksums are taken from
    /// it ([`cache`]); their text is read by [`MigrationSet::read_deferred`]. `None` (the
    /// default): every file is read.
    pub checksum_cache: Option<PathBuf>,
    /// The run order of files that do not follow `<version>_<name>.sql` (`legacy_order` in
    /// strata.toml). Listed files get versions `001`, `002`, … in list order; see
    /// [`legacy_versions`].
    pub legacy_order: Vec<String>,
    /// The directory's conventions (`layout` in strata.toml); `None`: [`Layout::detect`].
    pub layout: Option<Layout>,
    /// How versions are ordered (`version_order` in strata.toml); `None`: numeric, and for the
    /// Supabase layout a refusal when text and numeric order disagree.
    pub version_order: Option<VersionOrder>,
    /// A directory of `<version>_<name>_rollback.sql` files kept apart from the migrations
    /// (default: `rollbacks/` beside the migrations directory, when it exists). Keeping them apart
    /// lets the Supabase CLI push the same migrations directory: it would take a
    /// `_rollback.sql` sibling for a migration of its own.
    pub rollbacks_dir: Option<PathBuf>,
    /// Another tool's history table, when not that tool's default (`history_table`).
    pub tool_history_table: Option<String>,
    /// Also record each migration in the tool's own table (`record_in_tool_history`).
    pub record_in_tool_history: bool,
}

/// A file's name, text (BOM removed) and checksum, computed where the file was read.
struct SourceText {
    name: String,
    text: String,
    checksum: String,
    /// What normalisation did to the text, if anything worth saying.
    note: Option<String>,
    /// The text was not read: `checksum` is the checksum cache's.
    deferred: bool,
    /// The file's stat key when the checksum cache is in use.
    key: Option<cache::StatKey>,
}

fn hashed(name: String, text: String) -> SourceText {
    let (text, note) = normalize(text);
    SourceText {
        checksum: checksum(&text),
        name,
        text,
        note,
        deferred: false,
        key: None,
    }
}

/// Reads a file as UTF-8; the error names the line and column of the first invalid byte.
fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| match checked_entry(path) {
        Err(named) => named,
        Ok(_) => Error::io("read", path, e),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
        let (line, column) = LineIndex::new(&text).line_col(&text, valid);
        Error::SourceFile {
            path: path.to_path_buf(),
            problem: format!("not valid UTF-8 at line {line}, column {column}"),
            hint: Some("save the file as UTF-8".into()),
        }
    })
}

/// `f` over `items`, on up to four threads when there are many (reading and checksumming
/// thousands of files is most of a no-op push), in order; the first error wins.
fn par_map<T: Sync, U: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<U, Error> + Sync,
) -> Result<Vec<U>, Error> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1);
    if threads < 2 || items.len() < 256 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Result<Vec<_>, _>>()))
            .collect();
        let mut all = Vec::with_capacity(items.len());
        for h in handles {
            all.extend(h.join().expect("reader thread panicked")?);
        }
        Ok(all)
    })
}

/// A file's text as Strata runs it: without a UTF-8 BOM, and without the `\restrict KEY` /
/// `\unrestrict KEY` lines that pg_dump writes since its 2025 minor releases (17.6, 16.10, 15.14,
/// 14.19, 13.22) to guard psql against a hostile dump. They are psql meta-commands, not SQL; the
/// lines are blanked (so line numbers stay) whatever the key, and the note says so.
pub fn normalize(text: String) -> (String, Option<String>) {
    let text = match text.strip_prefix('\u{feff}') {
        Some(s) => s.to_string(),
        None => text,
    };
    if !text.contains("restrict") {
        return (text, None);
    }
    let is_guard = |line: &str| {
        let t = line.trim_end_matches(['\r', '\n']).trim();
        let mut words = t.split_whitespace();
        matches!(words.next(), Some("\\restrict" | "\\unrestrict"))
            && words.next().is_some()
            && words.next().is_none()
    };
    if !text.lines().any(is_guard) {
        return (text, None);
    }
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    for line in text.split_inclusive('\n') {
        if is_guard(line) {
            count += 1;
            let ending = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            out.push_str(ending);
        } else {
            out.push_str(line);
        }
    }
    (
        out,
        Some(format!(
            "ignored {count} \\restrict/\\unrestrict line(s) written by pg_dump (psql meta-commands, not SQL)"
        )),
    )
}

/// One `.sql` file name, classified.
enum FileKind {
    Migration { version: Version, name: String },
    Rollback { version: Version, name: String },
    Other,
}

fn classify(file_name: &str) -> FileKind {
    let Some(stem) = file_name.strip_suffix(".sql") else {
        return FileKind::Other;
    };
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || stem.as_bytes().get(digits) != Some(&b'_') {
        return FileKind::Other;
    }
    let version = Version(stem[..digits].to_string());
    let name = &stem[digits + 1..];
    match name.strip_suffix("_rollback") {
        Some(base) => FileKind::Rollback {
            version,
            name: base.to_string(),
        },
        None => FileKind::Migration {
            version,
            name: name.to_string(),
        },
    }
}

/// `0001-name.sql`: a version, a dash, a name.
fn dashed(file_name: &str) -> Option<(Version, String)> {
    let stem = file_name.strip_suffix(".sql")?;
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || stem.as_bytes().get(digits) != Some(&b'-') {
        return None;
    }
    Some((
        Version(stem[..digits].to_string()),
        stem[digits + 1..].to_string(),
    ))
}

/// Why the Supabase layout skips a file (the Supabase CLI's own words).
const SUPABASE_PATTERN_REASON: &str =
    "file name must match pattern \"<timestamp>_name.sql\" (skipped, as the Supabase CLI skips it)";

/// In `supabase/migrations`, the Supabase CLI orders versions as text and Strata, by default,
/// numerically. The two agree on versions of one length; where they disagree, Strata refuses to
/// pick and names the first pair that disagrees.
fn refuse_order_disagreement(migrations: &[Migration]) -> Result<(), Error> {
    let mut by_number: Vec<&Migration> = migrations.iter().collect();
    by_number.sort_by(|a, b| a.version.cmp(&b.version));
    let mut by_text = by_number.clone();
    by_text.sort_by(|a, b| VersionOrder::Text.cmp(&a.version, &b.version));
    let Some(i) = by_number
        .iter()
        .zip(&by_text)
        .position(|(a, b)| a.version != b.version)
    else {
        return Ok(());
    };
    let (numeric_first, text_first) = (by_number[i], by_text[i]);
    Err(Error::Setting {
        setting: "version_order".into(),
        message: format!(
            "{} and {} run in a different order by number (Strata) and as text (the Supabase CLI): {} comes first by number, {} as text",
            numeric_first.file_name(),
            text_first.file_name(),
            numeric_first.version,
            text_first.version
        ),
        hint: Some(
            "choose one in strata.toml: version_order = \"text\" (the Supabase CLI's order, so both tools agree) or version_order = \"numeric\"; or rename the files to versions of one length (14-digit timestamps)".into(),
        ),
    })
}

/// What a directory entry Strata looked at is, symbolic links followed. Errors, naming it: a
/// dangling symbolic link, or an entry that cannot be read — never skipped, as a file that is
/// silently skipped is a migration never applied, or a schema object a change would drop.
pub fn checked_entry(path: &Path) -> Result<std::fs::Metadata, Error> {
    std::fs::metadata(path).map_err(|e| {
        let problem = match std::fs::read_link(path) {
            Ok(to) => format!(
                "is a symbolic link to {}, which cannot be reached ({e})",
                to.display()
            ),
            Err(_) => format!("cannot be read: {e}"),
        };
        Error::SourceFile {
            path: path.to_path_buf(),
            problem,
            hint: Some(
                "fix the link or the permissions, or remove the entry; Strata does not skip a file it cannot read".into(),
            ),
        }
    })
}

/// Keeps the entries of `paths` (from a glob or a directory walk) that are files; an entry that
/// cannot be read is an error naming it ([`checked_entry`]).
pub fn checked_files(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if checked_entry(&p)?.is_file() {
            out.push(p);
        }
    }
    Ok(out)
}

/// The versions and names given to the files of `legacy_order`: position `i` (1-based) gets
/// version `i` zero-padded to at least three digits (so the Supabase CLI, which compares versions
/// as strings, orders them the same way). A listed file whose name already starts with
/// `<digits>_` keeps the rest as its name (`00_base_schema.sql` → `001`, `base_schema`).
pub fn legacy_versions(order: &[String]) -> Vec<(String, Version, String)> {
    let width = order.len().to_string().len().max(3);
    order
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let stem = file.strip_suffix(".sql").unwrap_or(file);
            let name = match classify(file) {
                FileKind::Migration { name, .. } => name,
                _ => stem.to_string(),
            };
            (
                file.clone(),
                Version(format!("{:0width$}", i + 1, width = width)),
                name,
            )
        })
        .collect()
}

impl MigrationSet {
    /// A set of no migration, in `dir` if given (Strata's layout, numeric order): what a new
    /// migrations directory holds.
    pub fn empty(dir: Option<PathBuf>) -> MigrationSet {
        MigrationSet {
            dir,
            migrations: Vec::new(),
            order: VersionOrder::Numeric,
            skipped: Vec::new(),
            notes: Vec::new(),
            rollbacks_dir: None,
            layout: Layout::Strata,
            repeatables: Vec::new(),
            tool_history_table: None,
            record_in_tool_history: false,
        }
    }

    /// The same directory and order with other migrations (a prefix, or the applied ones).
    pub fn with_migrations(&self, migrations: Vec<Migration>) -> MigrationSet {
        MigrationSet {
            dir: self.dir.clone(),
            migrations,
            order: self.order,
            skipped: Vec::new(),
            notes: Vec::new(),
            rollbacks_dir: self.rollbacks_dir.clone(),
            layout: self.layout,
            repeatables: self.repeatables.clone(),
            tool_history_table: self.tool_history_table.clone(),
            record_in_tool_history: self.record_in_tool_history,
        }
    }

    /// Reads the text of every migration whose text was not read ([`Migration::is_read`]; a
    /// set loaded with a checksum cache). The checksum becomes the text's own: if the file
    /// changed since its stat was taken, what is now in it is what the set holds.
    ///
    /// # Errors
    /// A file that cannot be read, or is not UTF-8, names the file.
    pub fn read_deferred(&mut self) -> Result<(), Error> {
        let deferred: Vec<usize> = (0..self.migrations.len())
            .filter(|&i| self.migrations[i].deferred)
            .collect();
        let paths: Vec<PathBuf> = deferred
            .iter()
            .map(|&i| self.migrations[i].path.clone())
            .collect();
        let texts = par_map(&paths, |p| read_text(p).map(|t| hashed(String::new(), t)))?;
        for (i, source) in deferred.into_iter().zip(texts) {
            let m = &mut self.migrations[i];
            m.sql = source.text;
            m.checksum = source.checksum;
            m.deferred = false;
            if let Some(note) = source.note {
                self.notes.push(FileNote {
                    path: m.path.clone(),
                    note,
                });
            }
        }
        Ok(())
    }

    /// Whether every migration's text was read ([`Migration::is_read`]).
    pub fn is_read(&self) -> bool {
        self.migrations.iter().all(Migration::is_read)
    }

    /// Reads a migrations directory with default options.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<MigrationSet, Error> {
        Self::load(dir.as_ref(), &SourceOptions::default())
    }

    /// Reads a migrations directory: every `<version>_<name>.sql`, their `_rollback.sql`
    /// siblings, and (with `legacy_order`) files without a version.
    pub fn load(dir: &Path, options: &SourceOptions) -> Result<MigrationSet, Error> {
        // One listing serves both detecting the layout and finding the files; the checksum
        // cache is read meanwhile. Off (STRATA_NO_CHECKSUM_CACHE): every file read, nothing
        // written.
        let (listing, cache) = std::thread::scope(|scope| {
            let cache = options
                .checksum_cache
                .as_deref()
                .filter(|_| !cache::disabled())
                .map(|path| scope.spawn(|| cache::ChecksumCache::read(path)));
            let listing = layout::Listing::read(dir);
            let cache = cache.map(|h| h.join().unwrap_or_default());
            (listing, cache)
        });
        let listing = listing.map_err(|e| Error::io("read directory", dir, e))?;
        let layout = options
            .layout
            .unwrap_or_else(|| Layout::detect_listed(dir, &listing));
        if layout.is_tool() {
            let mut set = tools::load(dir, layout, options)?;
            set.tool_history_table = options.tool_history_table.clone();
            set.record_in_tool_history = options.record_in_tool_history;
            return Ok(set);
        }
        let mut files = Vec::new();
        let mut others = Vec::new();
        for entry in listing.entries {
            let Some(name) = entry.name.to_str() else {
                if entry.name.to_string_lossy().ends_with(".sql") {
                    return Err(Error::SourceFile {
                        path: dir.join(&entry.name),
                        problem: "the file name is not valid UTF-8".into(),
                        hint: Some("rename the file to <version>_<name>.sql in UTF-8".into()),
                    });
                }
                continue;
            };
            let is_file = entry
                .file_type
                .is_some_and(|t| t.is_file() || t.is_symlink());
            if !is_file {
                // A directory named like a migration is not one: said, never skipped.
                if name.ends_with(".sql") {
                    return Err(Error::SourceFile {
                        path: dir.join(name),
                        problem: "is a directory, not a migration file".into(),
                        hint: Some(
                            "move what it holds into a file of that name, or rename the directory"
                                .into(),
                        ),
                    });
                }
                continue;
            }
            if name.ends_with(".sql") {
                files.push(name.to_string());
            } else if layout.skips_other_files() {
                others.push(name.to_string());
            }
        }
        // In name order: migrations then usually come in version order already, and the cache
        // is written (and looked up) in this order.
        files.sort_unstable();
        // The files are stat'ed relative to the directory: one path component to resolve each.
        let dir_handle = cache.as_ref().and_then(|_| cache::DirHandle::open(dir));
        let read_at = std::time::SystemTime::now();
        let read = |name: &String| -> Result<SourceText, Error> {
            let path = || dir.join(name);
            let Some(cache) = &cache else {
                return read_text(&path()).map(|text| hashed(name.clone(), text));
            };
            if !matches!(classify(name), FileKind::Migration { .. }) {
                return read_text(&path()).map(|text| hashed(name.clone(), text));
            }
            let key = match &dir_handle {
                Some(d) => d.stat(name),
                None => std::fs::metadata(path())
                    .ok()
                    .and_then(|md| cache::StatKey::of(&md)),
            };
            if let Some(checksum) = key.as_ref().and_then(|k| cache.get(name, k)) {
                return Ok(SourceText {
                    name: name.clone(),
                    text: String::new(),
                    checksum: checksum.to_string(),
                    note: None,
                    deferred: true,
                    key,
                });
            }
            let mut source = hashed(name.clone(), read_text(&path())?);
            // A file whose text normalisation changed (a note) is always read, so its note is
            // always reported.
            source.key = key.filter(|_| source.note.is_none());
            Ok(source)
        };
        let named = par_map(&files, read)?;
        if let (Some(path), Some(cache)) = (&options.checksum_cache, &cache) {
            let entries: Vec<cache::Entry> = named
                .iter()
                .filter_map(|s| {
                    Some(cache::Entry {
                        name: s.name.clone(),
                        key: s.key?,
                        checksum: s.checksum.clone(),
                    })
                })
                .collect();
            // Rewritten only when something was read that the cache did not have.
            let all_hits = named.iter().all(|s| s.deferred || s.key.is_none());
            if !(all_hits && cache.len() == entries.len()) {
                cache::write(path, &entries, read_at);
            }
        }
        let mut set = Self::assemble(Some(dir), named, options, layout)?;
        for other in others {
            set.skipped.push(Skipped {
                path: dir.join(other),
                reason: SUPABASE_PATTERN_REASON.into(),
            });
        }
        set.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        set.rollbacks_dir = layout::rollbacks_dir(dir, options.rollbacks_dir.as_deref(), layout);
        if let Some(rdir) = set.rollbacks_dir.clone().filter(|d| d.is_dir()) {
            set.attach_rollbacks_from(&rdir)?;
        }
        Ok(set)
    }

    /// Pairs the `_rollback.sql` files of a separate directory with their migrations.
    fn attach_rollbacks_from(&mut self, rdir: &Path) -> Result<(), Error> {
        let entries = std::fs::read_dir(rdir).map_err(|e| Error::io("read directory", rdir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read directory", rdir, e))?;
            let path = entry.path();
            let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let FileKind::Rollback { version, name } = classify(file) else {
                continue;
            };
            let expected = format!("{version}_{name}.sql");
            let Some(m) = self
                .migrations
                .iter_mut()
                .find(|m| m.version == version && m.name == name)
            else {
                return Err(Error::OrphanRollback {
                    rollback: path.clone(),
                    expected: self.dir.clone().unwrap_or_default().join(expected),
                });
            };
            if let Some(existing) = &m.rollback {
                return Err(Error::SourceFile {
                    path: path.clone(),
                    problem: format!(
                        "{} has a rollback file already: {}",
                        m.file_name(),
                        existing.path.display()
                    ),
                    hint: Some("keep one of the two rollback files".into()),
                });
            }
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
            let sql = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
            m.rollback = Some(RollbackFile { path, sql });
        }
        Ok(())
    }

    /// Builds a set from files embedded at compile time.
    pub fn from_embedded(files: &[EmbeddedFile]) -> Result<MigrationSet, Error> {
        let named = files
            .iter()
            .map(|f| hashed(f.name.to_string(), f.contents.to_string()))
            .collect();
        Self::assemble(None, named, &SourceOptions::default(), Layout::Strata)
    }

    fn assemble(
        dir: Option<&Path>,
        files: Vec<SourceText>,
        options: &SourceOptions,
        layout: Layout,
    ) -> Result<MigrationSet, Error> {
        let path_of = |name: &str| match dir {
            Some(d) => d.join(name),
            None => PathBuf::from(name),
        };
        let legacy: BTreeMap<String, (Version, String)> = legacy_versions(&options.legacy_order)
            .into_iter()
            .map(|(file, v, n)| (file, (v, n)))
            .collect();
        // The files' names, for `legacy_order` and `<stem>_rollback.sql` siblings only.
        let present: std::collections::HashSet<String> = if options.legacy_order.is_empty()
            && !files.iter().any(|f| f.name.ends_with("_rollback.sql"))
        {
            Default::default()
        } else {
            files.iter().map(|f| f.name.clone()).collect()
        };
        if let Some(missing) = options.legacy_order.iter().find(|f| !present.contains(*f)) {
            return Err(Error::setting(
                "legacy_order",
                format!(
                    "legacy_order names {missing}, which is not in {}",
                    dir.map(|d| d.display().to_string()).unwrap_or_default()
                ),
            ));
        }

        let mut migrations: Vec<Migration> = Vec::with_capacity(files.len());
        let mut rollbacks: Vec<(String, String, String)> = Vec::new(); // (key, file, text)
        let mut unversioned = Vec::new();
        let mut notes = Vec::new();
        for SourceText {
            name: file,
            text,
            checksum,
            note,
            deferred,
            ..
        } in files
        {
            if let Some(note) = note {
                notes.push(FileNote {
                    path: path_of(&file),
                    note,
                });
            }
            if let Some((version, name)) = legacy.get(&file) {
                let mut m = Migration::hashed(
                    version.clone(),
                    name.clone(),
                    path_of(&file),
                    text,
                    checksum,
                );
                m.deferred = deferred;
                migrations.push(m);
                continue;
            }
            match classify(&file) {
                FileKind::Migration { version, name } => {
                    let mut m = Migration::hashed(version, name, path_of(&file), text, checksum);
                    m.deferred = deferred;
                    migrations.push(m);
                }
                FileKind::Rollback { version, name } => {
                    if layout == Layout::Supabase {
                        notes.push(FileNote {
                            path: path_of(&file),
                            note: "a rollback file in supabase/migrations: the Supabase CLI takes it for a migration and runs it; move it to supabase/rollbacks/, where Strata finds it and the Supabase CLI does not look".into(),
                        });
                    }
                    rollbacks.push((format!("{version}_{name}.sql"), file, text))
                }
                FileKind::Other if layout == Layout::Strata && dashed(&file).is_some() => {
                    // `0001-name.sql`: numbered sets with a dash.
                    let (version, name) = dashed(&file).expect("checked");
                    match name
                        .strip_suffix("_rollback")
                        .or(name.strip_suffix("-rollback"))
                    {
                        Some(base) => rollbacks.push((format!("{version}_{base}.sql"), file, text)),
                        None => migrations.push(Migration::hashed(
                            version,
                            name,
                            path_of(&file),
                            text,
                            checksum,
                        )),
                    }
                }
                FileKind::Other => {
                    // A legacy file's rollback sibling: `<stem>_rollback.sql` of a listed file.
                    let base = file
                        .strip_suffix("_rollback.sql")
                        .map(|stem| format!("{stem}.sql"));
                    match base {
                        Some(base) if legacy.contains_key(&base) => {
                            rollbacks.push((base, file, text))
                        }
                        Some(base) if present.contains(&base) => rollbacks.push((base, file, text)),
                        _ => unversioned.push(file),
                    }
                }
            }
        }
        let mut skipped = Vec::new();
        if !unversioned.is_empty() {
            unversioned.sort();
            if layout.skips_other_files() {
                skipped = unversioned
                    .into_iter()
                    .map(|f| Skipped {
                        path: path_of(&f),
                        reason: SUPABASE_PATTERN_REASON.into(),
                    })
                    .collect();
            } else {
                return Err(Error::Unversioned {
                    dir: dir.map(Path::to_path_buf).unwrap_or_default(),
                    files: unversioned,
                });
            }
        }
        let order = match options.version_order {
            Some(o) => o,
            None => {
                if layout == Layout::Supabase {
                    refuse_order_disagreement(&migrations)?;
                }
                VersionOrder::Numeric
            }
        };
        let in_order = |a: &Migration, b: &Migration| {
            order
                .cmp(&a.version, &b.version)
                .then_with(|| a.path.cmp(&b.path))
        };
        // Usually in order already (the files were listed in name order).
        if !migrations.is_sorted_by(|a, b| in_order(a, b) != Ordering::Greater) {
            migrations.sort_by(in_order);
        }
        for pair in migrations.windows(2) {
            if numerically_equal(&pair[0].version, &pair[1].version) {
                return Err(Error::DuplicateVersion {
                    version: pair[1].version.to_string(),
                    first: pair[0].path.clone(),
                    second: pair[1].path.clone(),
                });
            }
        }
        let mut by_file: BTreeMap<String, usize> = BTreeMap::new();
        for (i, m) in migrations
            .iter()
            .enumerate()
            .filter(|_| !rollbacks.is_empty())
        {
            by_file.insert(m.file_name(), i);
            by_file.insert(format!("{}_{}.sql", m.version, m.name), i);
        }
        for (key, file, text) in rollbacks {
            let Some(&i) = by_file.get(&key) else {
                return Err(Error::OrphanRollback {
                    rollback: path_of(&file),
                    expected: path_of(&key),
                });
            };
            let sql = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
            migrations[i].rollback = Some(RollbackFile {
                path: path_of(&file),
                sql,
            });
        }
        Ok(MigrationSet {
            dir: dir.map(Path::to_path_buf),
            migrations,
            order,
            skipped,
            notes,
            rollbacks_dir: None,
            layout,
            repeatables: Vec::new(),
            tool_history_table: None,
            record_in_tool_history: false,
        })
    }

    /// The migration with this version, if any (numeric comparison).
    pub fn get(&self, version: &Version) -> Option<&Migration> {
        self.migrations
            .binary_search_by(|m| {
                if numerically_equal(&m.version, version) {
                    Ordering::Equal
                } else {
                    m.version.cmp(version)
                }
            })
            .ok()
            .map(|i| &self.migrations[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_order_numerically() {
        let mut vs = [
            v("100"),
            v("10"),
            v("2"),
            v("20240115"),
            v("20240101000000"),
        ];
        vs.sort();
        let got: Vec<_> = vs.iter().map(Version::as_str).collect();
        assert_eq!(got, ["2", "10", "100", "20240115", "20240101000000"]);
        assert!(numerically_equal(&v("001"), &v("1")));
        assert!(!numerically_equal(&v("10"), &v("1")));
        assert_eq!(Version::parse("12a"), None);
        assert_eq!(Version::parse(""), None);
    }

    #[test]
    fn checksum_ignores_bom_and_line_endings() {
        let lf = checksum("create table a ();\nselect 1;\n");
        assert_eq!(lf, checksum("\u{feff}create table a ();\r\nselect 1;\r\n"));
        assert_eq!(lf, checksum("create table a ();\rselect 1;\r"));
        assert_ne!(lf, checksum("create table a ();\nselect 2;\n"));
        assert!(lf.starts_with("sha256:"));
    }

    #[test]
    fn classifies_file_names_like_the_supabase_cli() {
        assert!(matches!(classify("20240115_add_user_settings.sql"),
            FileKind::Migration { version, name } if version.as_str() == "20240115" && name == "add_user_settings"));
        assert!(matches!(classify("1_x_rollback.sql"),
            FileKind::Rollback { version, name } if version.as_str() == "1" && name == "x"));
        assert!(matches!(classify("projects.sql"), FileKind::Other));
        assert!(matches!(classify("12.sql"), FileKind::Other));
        assert!(matches!(classify("12_.sql"), FileKind::Migration { name, .. } if name.is_empty()));
    }

    #[test]
    fn rollbacks_may_live_in_their_own_directory() {
        let root = tempfile::tempdir().unwrap();
        let migrations = root.path().join("supabase/migrations");
        let rollbacks = root.path().join("supabase/rollbacks");
        std::fs::create_dir_all(&migrations).unwrap();
        std::fs::create_dir_all(&rollbacks).unwrap();
        std::fs::write(migrations.join("1_create_a.sql"), "create table a ();").unwrap();
        std::fs::write(rollbacks.join("1_create_a_rollback.sql"), "drop table a;").unwrap();
        let set = MigrationSet::load_dir(&migrations).unwrap();
        let rollback = set.migrations[0].rollback.as_ref().expect("rollback found");
        assert_eq!(rollback.path, rollbacks.join("1_create_a_rollback.sql"));

        // One rollback per migration; a rollback without its migration is an error.
        std::fs::write(migrations.join("1_create_a_rollback.sql"), "drop table a;").unwrap();
        assert!(MigrationSet::load_dir(&migrations).is_err());
        std::fs::remove_file(migrations.join("1_create_a_rollback.sql")).unwrap();
        std::fs::write(rollbacks.join("2_create_b_rollback.sql"), "drop table b;").unwrap();
        assert!(matches!(
            MigrationSet::load_dir(&migrations),
            Err(Error::OrphanRollback { .. })
        ));
    }

    #[test]
    fn legacy_versions_follow_the_list() {
        let order = vec!["00_base_schema.sql".to_string(), "projects.sql".to_string()];
        let got = legacy_versions(&order);
        assert_eq!(got[0].1.as_str(), "001");
        assert_eq!(got[0].2, "base_schema");
        assert_eq!(got[1].1.as_str(), "002");
        assert_eq!(got[1].2, "projects");
    }
}
