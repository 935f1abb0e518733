//! Other tools' migration directories, read as they are: dbmate's, goose's and
//! node-pg-migrate's up/down sections in one file, golang-migrate's and sqlx's `.up.sql` /
//! `.down.sql` pairs, diesel's directory per migration, Flyway's `V…__…sql` files with their undo
//! and repeatable siblings. Each becomes a [`Migration`] whose down part is its rollback, so
//! `strata push` runs the up part only and `strata rollback` the down part.
//!
//! A file with both parts is kept whole in each: the lines of the other part are blanked (their
//! line breaks kept), so every error and lint finding names the file's own line. The checksum is
//! the up part's, so fixing a down part does not count as changing an applied migration.
//!
//! The formats, as each tool documents them:
//! - dbmate: `-- migrate:up` / `-- migrate:down` lines (options after them, e.g.
//!   `transaction:false`); a file without an up section is an error in dbmate too.
//! - goose: `-- +goose Up` / `-- +goose Down` (any case), `-- +goose StatementBegin`/`End` (a
//!   comment to Strata: its splitter already knows where statements end),
//!   `-- +goose NO TRANSACTION`.
//! - node-pg-migrate's SQL migrations: `-- Up Migration` / `-- Down Migration`.
//! - golang-migrate and sqlx: `{version}_{title}.up.sql` and `.down.sql`; sqlx also plain
//!   `{version}_{description}.sql`; `-- no-transaction` (sqlx) as the first line.
//! - diesel: `{yyyy-mm-dd-hhmmss}_{name}/up.sql`, `down.sql`, and `metadata.toml` with
//!   `run_in_transaction = false`; the version is the date with the dashes removed, as diesel
//!   records it.
//! - Flyway: `V{version}__{description}.sql` (version groups separated by `.` or `_`),
//!   `U{version}__…` undo files (Flyway Teams), `R__{description}.sql` repeatables, found in
//!   subdirectories too; `{file}.conf` with `executeInTransaction=false`.

use std::path::{Path, PathBuf};

use super::{
    hashed, FileNote, Layout, Migration, MigrationSet, RollbackFile, SourceOptions, Version,
    VersionOrder,
};
use crate::error::Error;

/// A Flyway file name, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FlywayFile {
    /// `V1.2__desc.sql`.
    Versioned { version: Version, name: String },
    /// `U1.2__desc.sql`: the undo of `V1.2`.
    Undo { version: Version, name: String },
    /// `R__desc.sql`.
    Repeatable { name: String },
}

/// Parses `V1_2__x.sql`, `U1.2__x.sql`, `R__x.sql`.
pub(crate) fn flyway_name(file: &str) -> Option<FlywayFile> {
    let stem = file.strip_suffix(".sql")?;
    if let Some(name) = stem.strip_prefix("R__") {
        return (!name.is_empty()).then(|| FlywayFile::Repeatable {
            name: name.to_string(),
        });
    }
    let (kind, rest) = stem.split_at_checked(1)?;
    let (version, name) = rest.split_once("__")?;
    let version = Version::parse(&version.replace('_', "."))?;
    let name = name.to_string();
    match kind {
        "V" => Some(FlywayFile::Versioned { version, name }),
        "U" => Some(FlywayFile::Undo { version, name }),
        _ => None,
    }
}

/// The tool whose up/down section markers a file holds, if any.
pub(crate) fn section_layout(text: &str) -> Option<Layout> {
    text.lines().find_map(|line| {
        marker(line).map(|m| match m.tool {
            Tool::Dbmate => Layout::Dbmate,
            Tool::Goose => Layout::Goose,
            Tool::NodePgMigrate => Layout::NodePgMigrate,
        })
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Dbmate,
    Goose,
    NodePgMigrate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Up,
    Down,
}

struct Marker {
    tool: Tool,
    part: Part,
}

/// A section marker line: `-- migrate:up`, `-- +goose Down`, `-- Up Migration` …
fn marker(line: &str) -> Option<Marker> {
    let rest = line.trim_start().strip_prefix("--")?.trim();
    let lower = rest.to_ascii_lowercase();
    let (tool, part) = if let Some(r) = lower.strip_prefix("migrate:") {
        let word = r.split_whitespace().next().unwrap_or("");
        match word {
            "up" => (Tool::Dbmate, Part::Up),
            "down" => (Tool::Dbmate, Part::Down),
            _ => return None,
        }
    } else if let Some(r) = lower.strip_prefix("+goose") {
        match r.trim() {
            "up" => (Tool::Goose, Part::Up),
            "down" => (Tool::Goose, Part::Down),
            _ => return None,
        }
    } else {
        // Exactly as node-pg-migrate writes them: the seed's own template has `-- UP MIGRATION`
        // headings, which are comments.
        match rest {
            "Up Migration" => (Tool::NodePgMigrate, Part::Up),
            "Down Migration" => (Tool::NodePgMigrate, Part::Down),
            _ => return None,
        }
    };
    Some(Marker { tool, part })
}

/// A file with sections split into its up and down parts, each the whole file with the other
/// part's lines blanked. Lines before the first marker (comments, goose's `NO TRANSACTION`)
/// belong to the up part. `None` for the down part when it holds no code.
fn split_sections(tool: Tool, text: &str) -> Result<(String, Option<String>), String> {
    let mut up = String::with_capacity(text.len());
    let mut down = String::with_capacity(text.len());
    let mut part: Option<Part> = None;
    let mut saw_up = false;
    for line in text.split_inclusive('\n') {
        if let Some(m) = marker(line).filter(|m| m.tool == tool) {
            part = Some(m.part);
            saw_up |= m.part == Part::Up;
        }
        let ending = &line[line.trim_end_matches(['\r', '\n']).len()..];
        let (keep, blank) = match part {
            None | Some(Part::Up) => (&mut up, &mut down),
            Some(Part::Down) => (&mut down, &mut up),
        };
        keep.push_str(line);
        blank.push_str(ending);
    }
    if !saw_up {
        return Err(match tool {
            Tool::Dbmate => "no `-- migrate:up` section (dbmate requires one)".into(),
            Tool::Goose => "no `-- +goose Up` section (goose requires one)".into(),
            Tool::NodePgMigrate => "no `-- Up Migration` section".into(),
        });
    }
    let has_code = crate::sql::split(&down)
        .map(|st| st.iter().any(|s| s.code_start.is_some()))
        .unwrap_or(true);
    Ok((up, has_code.then_some(down)))
}

/// One migration read from a tool's directory, before it is assembled into a set.
struct Found {
    version: Version,
    name: String,
    path: PathBuf,
    up: String,
    down: Option<(PathBuf, String)>,
    no_transaction: Option<String>,
}

fn read(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    String::from_utf8(bytes).map_err(|e| Error::SourceFile {
        path: path.to_path_buf(),
        problem: format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
        hint: Some("save the file as UTF-8".into()),
    })
}

fn bad_file(path: &Path, problem: String, layout: Layout) -> Error {
    Error::SourceFile {
        path: path.to_path_buf(),
        problem,
        hint: Some(format!(
            "this directory is read as a {} project (layout = \"{}\" in strata.toml, or detected); fix the file, or set layout in strata.toml",
            layout.name(),
            layout.name()
        )),
    }
}

/// `<digits>_<name>` of a file stem.
fn versioned(stem: &str) -> Option<(Version, String)> {
    let (v, name) = stem.split_once('_')?;
    Some((
        Version::parse(v).filter(|_| !v.contains('.'))?,
        name.to_string(),
    ))
}

/// The `.sql` files directly in `dir`, sorted by name.
fn sql_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(".sql") {
            continue;
        }
        if super::checked_entry(&path)?.is_dir() {
            return Err(Error::SourceFile {
                path,
                problem: "is a directory, not a migration file".into(),
                hint: Some(
                    "move what it holds into a file of that name, or rename the directory".into(),
                ),
            });
        }
        out.push((name.to_string(), path.clone()));
    }
    out.sort();
    Ok(out)
}

/// A repeatable migration (Flyway's `R__desc.sql`): run after the versioned ones whenever its
/// checksum differs from the last run's.
#[derive(Debug, Clone)]
pub struct Repeatable {
    /// The description part of the name (`R__refresh_views.sql` → `refresh_views`).
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    pub checksum: String,
}

/// Reads `dir` in `layout` (a tool's, see [`Layout::is_tool`]).
pub(crate) fn load(
    dir: &Path,
    layout: Layout,
    options: &SourceOptions,
) -> Result<MigrationSet, Error> {
    let mut found = Vec::new();
    let mut repeatables = Vec::new();
    let mut notes = Vec::new();
    match layout {
        Layout::Dbmate | Layout::Goose | Layout::NodePgMigrate => {
            let tool = match layout {
                Layout::Dbmate => Tool::Dbmate,
                Layout::Goose => Tool::Goose,
                _ => Tool::NodePgMigrate,
            };
            for (file, path) in sql_files(dir)? {
                let stem = file.strip_suffix(".sql").unwrap_or(&file);
                let Some((version, name)) = versioned(stem) else {
                    return Err(bad_file(
                        &path,
                        format!(
                            "not named <version>_<name>.sql, as {} names migrations",
                            layout.name()
                        ),
                        layout,
                    ));
                };
                let text = read(&path)?;
                let (up, down) =
                    split_sections(tool, &text).map_err(|p| bad_file(&path, p, layout))?;
                found.push(Found {
                    version,
                    name,
                    down: down.map(|d| (path.clone(), d)),
                    path,
                    up,
                    no_transaction: None,
                });
            }
        }
        Layout::GolangMigrate | Layout::Sqlx => {
            let files = sql_files(dir)?;
            let downs: std::collections::HashMap<String, PathBuf> = files
                .iter()
                .filter_map(|(f, p)| Some((f.strip_suffix(".down.sql")?.to_string(), p.clone())))
                .collect();
            let mut used_downs = std::collections::HashSet::new();
            for (file, path) in &files {
                if file.ends_with(".down.sql") {
                    continue;
                }
                let stem = file
                    .strip_suffix(".up.sql")
                    .or_else(|| file.strip_suffix(".sql"))
                    .unwrap_or(file);
                let Some((version, name)) = versioned(stem) else {
                    return Err(bad_file(
                        path,
                        "not named <version>_<name>.up.sql (or .sql)".into(),
                        layout,
                    ));
                };
                let down = match downs.get(stem) {
                    Some(p) => {
                        used_downs.insert(stem.to_string());
                        Some((p.clone(), read(p)?))
                    }
                    None => None,
                };
                found.push(Found {
                    version,
                    name,
                    path: path.clone(),
                    up: read(path)?,
                    down,
                    no_transaction: None,
                });
            }
            for (stem, p) in &downs {
                if !used_downs.contains(stem) {
                    return Err(Error::OrphanRollback {
                        rollback: p.clone(),
                        expected: dir.join(format!("{stem}.up.sql")),
                    });
                }
            }
        }
        Layout::Diesel => {
            let mut dirs: Vec<PathBuf> = Vec::new();
            for e in std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))? {
                let p = e.map_err(|e| Error::io("read directory", dir, e))?.path();
                if super::checked_entry(&p)?.is_dir() {
                    dirs.push(p);
                }
            }
            dirs.sort();
            for d in dirs {
                let dname = d
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let up_path = d.join("up.sql");
                if !up_path.is_file() {
                    // diesel ignores directories without up.sql; say so.
                    notes.push(FileNote {
                        path: d.clone(),
                        note: "no up.sql: not a diesel migration, skipped".into(),
                    });
                    continue;
                }
                let (raw_version, name) = dname.split_once('_').unwrap_or((&dname, ""));
                let Some(version) = Version::parse(&raw_version.replace('-', "")) else {
                    return Err(bad_file(
                        &d,
                        "not named <yyyy-mm-dd-hhmmss>_<name> (or <digits>_<name>), as diesel names migration directories".into(),
                        layout,
                    ));
                };
                let down_path = d.join("down.sql");
                let down = if down_path.is_file() {
                    Some((down_path.clone(), read(&down_path)?))
                } else {
                    None
                };
                let metadata = d.join("metadata.toml");
                let no_transaction = if metadata.is_file() {
                    let text = read(&metadata)?;
                    let value: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                        bad_file(
                            &metadata,
                            format!("not valid TOML: {}", e.message()),
                            layout,
                        )
                    })?;
                    (value.get("run_in_transaction") == Some(&toml::Value::Boolean(false)))
                        .then(|| "metadata.toml says run_in_transaction = false".to_string())
                } else {
                    None
                };
                found.push(Found {
                    version,
                    name: name.to_string(),
                    path: up_path.clone(),
                    up: read(&up_path)?,
                    down,
                    no_transaction,
                });
            }
        }
        Layout::Flyway => {
            let mut undos = std::collections::HashMap::new();
            let mut files = Vec::new();
            walk(dir, &mut files)?;
            files.sort();
            for path in files {
                let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let Some(kind) = flyway_name(file) else {
                    if file.ends_with(".sql") {
                        return Err(bad_file(
                            &path,
                            "not named V<version>__<description>.sql, U<version>__….sql or R__<description>.sql, as Flyway names migrations".into(),
                            layout,
                        ));
                    }
                    continue;
                };
                let conf = path.with_file_name(format!("{file}.conf"));
                let no_transaction = if conf.is_file() {
                    read(&conf)?
                        .lines()
                        .any(|l| l.replace(' ', "") == "executeInTransaction=false")
                        .then(|| format!("{} says executeInTransaction=false", conf.display()))
                } else {
                    None
                };
                match kind {
                    FlywayFile::Versioned { version, name } => found.push(Found {
                        version,
                        name,
                        up: read(&path)?,
                        path,
                        down: None,
                        no_transaction,
                    }),
                    FlywayFile::Undo { version, .. } => {
                        undos.insert(version.key(), path);
                    }
                    FlywayFile::Repeatable { name } => {
                        let source = hashed(String::new(), read(&path)?);
                        repeatables.push(Repeatable {
                            name,
                            path,
                            sql: source.text,
                            checksum: source.checksum,
                        });
                    }
                }
            }
            for f in &mut found {
                if let Some(p) = undos.remove(&f.version.key()) {
                    f.down = Some((p.clone(), read(&p)?));
                }
            }
            if let Some(p) = undos.into_values().next() {
                return Err(Error::OrphanRollback {
                    expected: p.with_file_name("V<same version>__<description>.sql"),
                    rollback: p,
                });
            }
        }
        Layout::Strata | Layout::Supabase => unreachable!("read by MigrationSet::load"),
    }
    let mut migrations = Vec::with_capacity(found.len());
    for f in found {
        let source = hashed(String::new(), f.up);
        if let Some(note) = source.note {
            notes.push(FileNote {
                path: f.path.clone(),
                note,
            });
        }
        // The up part's checksum, without the blanked lines of a down part: fixing a down part
        // is not a change to an applied migration.
        let checksum = super::checksum(source.text.trim_matches(['\n', '\r']));
        let mut m = Migration::hashed(f.version, f.name, f.path, source.text, checksum);
        m.no_transaction = f.no_transaction;
        m.rollback = f.down.map(|(path, sql)| RollbackFile {
            path,
            sql: sql.strip_prefix('\u{feff}').unwrap_or(&sql).to_string(),
        });
        migrations.push(m);
    }
    let order = options.version_order.unwrap_or(VersionOrder::Numeric);
    migrations.sort_by(|a, b| {
        order
            .cmp(&a.version, &b.version)
            .then_with(|| a.path.cmp(&b.path))
    });
    for pair in migrations.windows(2) {
        if super::numerically_equal(&pair[0].version, &pair[1].version) {
            return Err(Error::DuplicateVersion {
                version: pair[1].version.to_string(),
                first: pair[0].path.clone(),
                second: pair[1].path.clone(),
            });
        }
    }
    repeatables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(MigrationSet {
        dir: Some(dir.to_path_buf()),
        migrations,
        order,
        skipped: Vec::new(),
        notes,
        rollbacks_dir: None,
        layout,
        repeatables,
        tool_history_table: None,
        record_in_tool_history: false,
    })
}

/// Every file under `dir`, recursively (Flyway scans its locations recursively).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))? {
        let path = entry
            .map_err(|e| Error::io("read directory", dir, e))?
            .path();
        let meta = super::checked_entry(&path)?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if meta.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flyway_names() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(
            flyway_name("V1.2.3__add_x.sql"),
            Some(FlywayFile::Versioned {
                version: v("1.2.3"),
                name: "add_x".into()
            })
        );
        assert_eq!(
            flyway_name("V2_1__Add_people.sql"),
            Some(FlywayFile::Versioned {
                version: v("2.1"),
                name: "Add_people".into()
            })
        );
        assert!(matches!(
            flyway_name("U2__x.sql"),
            Some(FlywayFile::Undo { .. })
        ));
        assert!(matches!(
            flyway_name("R__views.sql"),
            Some(FlywayFile::Repeatable { .. })
        ));
        assert_eq!(flyway_name("1_x.sql"), None);
        assert_eq!(flyway_name("V1_x.sql"), None);
        assert!(v("1.2") < v("1.10") && v("1.10") < v("2") && v("1") < v("1.1"));
    }

    #[test]
    fn sections_keep_their_lines() {
        let text = "-- migrate:up\ncreate table t (id int);\n\n-- migrate:down\ndrop table t;\n";
        let (up, down) = split_sections(Tool::Dbmate, text).unwrap();
        assert_eq!(up, "-- migrate:up\ncreate table t (id int);\n\n\n\n");
        assert_eq!(down.unwrap(), "\n\n\n-- migrate:down\ndrop table t;\n");
        let goose = "-- +goose NO TRANSACTION\n-- +goose Up\nselect 1;\n-- +goose Down\n";
        let (up, down) = split_sections(Tool::Goose, goose).unwrap();
        assert!(up.starts_with("-- +goose NO TRANSACTION\n-- +goose Up\nselect 1;"));
        assert!(down.is_none(), "an empty down section is no rollback");
        assert!(split_sections(Tool::Dbmate, "select 1;\n").is_err());
        assert_eq!(
            section_layout("-- Up Migration\nselect 1;\n-- Down Migration\n"),
            Some(Layout::NodePgMigrate)
        );
        assert_eq!(section_layout("-- UP MIGRATION\nselect 1;\n"), None);
    }
}
