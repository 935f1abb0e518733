//! Authoring: `migration new` (the seed's header template), the naming convention check,
//! `migration adopt` (renaming legacy files to versioned names), and the project files `init`
//! and `link` write.

use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::Error;
use crate::source::legacy_versions;

/// Verbs the seed's `[action]_[subject]` convention starts names with.
pub const ACTIONS: &[&str] = &[
    "create", "add", "update", "drop", "alter", "rename", "remove", "backfill", "delete", "insert",
    "seed", "enable", "disable", "grant", "revoke", "change", "migrate", "move", "split", "merge",
    "fix", "set", "replace", "index", "extend", "restrict", "allow",
];

/// What `migration new` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct NewMigration {
    pub path: PathBuf,
    pub rollback: Option<PathBuf>,
    /// A note when the name does not follow `[action]_[subject]`.
    pub warning: Option<String>,
}

/// A file Strata is about to write for a user (a migration, its rollback), with its whole text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewFile {
    pub path: PathBuf,
    pub text: String,
    /// Whether it is a rollback (down) file or part of one (a dbmate file holds both parts).
    pub kind: NewFileKind,
}

/// What a [`NewFile`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NewFileKind {
    /// A migration (up) file.
    Migration,
    /// A rollback (down) file.
    Rollback,
}

/// The check every file Strata writes for a user passes before anything is written: the
/// migrations `migration new`, `diff --write`, `schema diff --write` and `migration squash`
/// write, and their rollbacks. The command line passes `strata_lint::written::Gate` — no lint
/// finding at the project's `push_fail_on` with every existing migration deployed, so a push
/// never refuses what Strata wrote (ARCHITECTURE.md, "Written files"). [`SplitCheck`] is the
/// least any caller must ask.
pub trait WrittenCheck: Sync {
    /// `set`: the migrations already there, counted as deployed; `files`: what would be written,
    /// in run order. Errors: [`Error::Lint`] naming each finding (nothing written).
    fn check(&self, set: &crate::source::MigrationSet, files: &[NewFile]) -> Result<(), Error>;

    /// The check of files that replace `replaced` (a squash baseline, which runs only where
    /// nothing is applied): what the replaced files had is inherited, not new. Returns the
    /// rules the replaced files silenced with `-- strata-lint: ignore` that the new files
    /// trigger, for the baseline to carry as an `ignore-file` directive. The default checks the
    /// files against no deployed migration.
    fn check_replacing(
        &self,
        replaced: &crate::source::MigrationSet,
        files: &[NewFile],
    ) -> Result<Vec<String>, Error> {
        self.check(&replaced.with_migrations(Vec::new()), files)
            .map(|()| Vec::new())
    }
}

/// The least a written file must pass: it splits into statements as a push splits it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SplitCheck;

impl WrittenCheck for SplitCheck {
    fn check(&self, _set: &crate::source::MigrationSet, files: &[NewFile]) -> Result<(), Error> {
        for f in files {
            crate::sql::split(&f.text).map_err(|e| Error::Lint {
                message: format!(
                    "{} would not split into statements: {e}; nothing was written",
                    f.path.display()
                ),
                findings: Vec::new(),
                hint: None,
            })?;
        }
        Ok(())
    }
}

/// Checks `files` with `check` (against `set`), then writes them, each created new (an
/// existing file is never replaced), with their directories. A failure part-way removes what
/// was written: all of them or none. The one way Strata writes a migration for a user.
pub fn write_files(
    set: &crate::source::MigrationSet,
    files: &[NewFile],
    check: &dyn WrittenCheck,
) -> Result<(), Error> {
    check.check(set, files)?;
    let mut written: Vec<&Path> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| {
        for f in files {
            if let Some(parent) = f.path.parent() {
                if !parent.as_os_str().is_empty() && !parent.exists() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| Error::io("create directory", parent, e))?;
                    created_dirs.push(parent.to_path_buf());
                }
            }
            write_new(&f.path, &f.text)?;
            written.push(&f.path);
        }
        Ok(())
    })();
    if result.is_err() {
        for p in &written {
            let _ = std::fs::remove_file(p);
        }
    }
    result
}

/// Checks a migration name: lower-case letters, digits and `_`; returns a warning when it does
/// not start with a known action (the seed's `[action]_[subject]` convention).
pub fn check_name(name: &str) -> Result<Option<String>, Error> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(Error::Setting {
            setting: "NAME".into(),
            message: format!("`{name}` is not a valid migration name"),
            hint: Some(
                "use lower-case letters, digits and underscores, e.g. add_user_settings".into(),
            ),
        });
    }
    // A file name holds at most 255 bytes (NAME_MAX); the version, `_`, `_rollback.sql` and a
    // tool's `.down.sql` take the rest.
    if name.len() > 200 {
        return Err(Error::Setting {
            setting: "NAME".into(),
            message: format!(
                "the migration name is {} characters long; at most 200 fit in a file name with its version",
                name.len()
            ),
            hint: Some("shorten it: [action]_[subject], e.g. add_user_settings".into()),
        });
    }
    if name.ends_with("_rollback") {
        return Err(Error::Setting {
            setting: "NAME".into(),
            message: "a name ending in _rollback would make the file a rollback file".into(),
            hint: Some("pass --rollback to write the rollback sibling".into()),
        });
    }
    let action = name.split('_').next().unwrap_or("");
    let subject = name.split_once('_').map(|(_, s)| s).unwrap_or("");
    if !ACTIONS.contains(&action) || subject.is_empty() {
        return Ok(Some(format!(
            "`{name}` does not follow the [action]_[subject] convention (e.g. create_user_settings, add_credits_column); actions: {}",
            ACTIONS[..10].join(", ")
        )));
    }
    Ok(None)
}

/// The seed's migration header.
pub fn template(name: &str, author: &str, date: &str, rollback: bool) -> String {
    let description = name.replace('_', " ");
    let banner = if rollback {
        "DOWN MIGRATION"
    } else {
        "UP MIGRATION"
    };
    let body = if rollback {
        "-- Undo the up migration, newest change first, e.g.:\n-- DROP TABLE IF EXISTS new_feature;\n"
    } else {
        "-- Write idempotent SQL: CREATE TABLE IF NOT EXISTS, CREATE OR REPLACE FUNCTION,\n-- DROP ... IF EXISTS. The file runs in one transaction with its history row.\n"
    };
    format!(
        "-- Description: {}{description}\n-- Author: {author}\n-- Date: {date}\n\n\
         -- ============================================\n-- {banner}\n\
         -- ============================================\n\n{body}",
        if rollback { "Roll back: " } else { "" }
    )
}

/// The newest version among `set`'s migrations and the names in `dir` as they are now (a file
/// another run wrote since `set` was read counts): leading digits of each name, after Flyway's
/// `V`/`U`.
pub fn newest_version(
    set: &crate::source::MigrationSet,
    dir: &Path,
) -> Option<crate::source::Version> {
    let on_disk = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let name = name
                .strip_prefix('V')
                .or_else(|| name.strip_prefix('U'))
                .unwrap_or(&name);
            let digits: String = name
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            crate::source::Version::parse(digits.trim_end_matches('.'))
        });
    set.migrations
        .iter()
        .map(|m| m.version.clone())
        .chain(on_disk)
        .max()
}

/// The moment whose version (`yyyymmddHHMMSS`) comes after `newest`: `now`, or, when `newest`
/// is a timestamp at or after `now` (written within the same second, or with a clock ahead of
/// this one), the second after it.
pub fn after(newest: Option<&crate::source::Version>, now: OffsetDateTime) -> OffsetDateTime {
    let Some(newest) = newest else { return now };
    if &version_at(now) > newest {
        return now;
    }
    let digits = newest.as_str();
    let parsed = (digits.len() == 14 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| {
            let n = |a: usize, b: usize| digits[a..b].parse::<u32>().ok();
            let month = time::Month::try_from(n(4, 6)? as u8).ok()?;
            let date =
                time::Date::from_calendar_date(n(0, 4)? as i32, month, n(6, 8)? as u8).ok()?;
            let clock =
                time::Time::from_hms(n(8, 10)? as u8, n(10, 12)? as u8, n(12, 14)? as u8).ok()?;
            Some(time::PrimitiveDateTime::new(date, clock))
        })
        .flatten();
    match parsed {
        Some(t) => t.assume_utc() + time::Duration::seconds(1),
        None => now,
    }
}

/// [`after`] the newest of `set` and of `dir` ([`newest_version`]).
pub fn after_newest(
    set: &crate::source::MigrationSet,
    dir: &Path,
    now: OffsetDateTime,
) -> OffsetDateTime {
    after(newest_version(set, dir).as_ref(), now)
}

/// An exclusive `flock` on the migrations directory itself (no file is created), held while a
/// new migration's version is chosen and its files written: two `migration new` at once never
/// take one version. Released when dropped.
pub fn lock_directory(dir: &Path) -> Result<std::fs::File, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let handle = std::fs::File::open(dir).map_err(|e| Error::io("open", dir, e))?;
    rustix::fs::flock(&handle, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| Error::io("lock", dir, std::io::Error::from(e)))?;
    Ok(handle)
}

/// The version a migration written at `now` gets: `yyyymmddHHMMSS` in UTC.
pub fn version_at(now: OffsetDateTime) -> crate::source::Version {
    crate::source::Version::parse(&stamp(now).0).expect("digits")
}

/// A new migration's version (`yyyymmddHHMMSS`, UTC) and the header's date (`yyyy-mm-dd`).
fn stamp(now: OffsetDateTime) -> (String, String) {
    let now = now.to_offset(time::UtcOffset::UTC);
    let version = now
        .format(time::macros::format_description!(
            "[year][month][day][hour][minute][second]"
        ))
        .expect("valid format");
    let date = now
        .format(time::macros::format_description!("[year]-[month]-[day]"))
        .expect("valid format");
    (version, date)
}

/// Writes `<UTC yyyymmddHHMMSS>_<name>.sql` into `dir` (created if needed), and with
/// `rollback` its `_rollback.sql` into `rollbacks_dir` (`None`: beside it), after `check` (the
/// files of `set` count as deployed). Use
/// [`crate::source::layout::rollbacks_dir`] for the directory: in `supabase/migrations` a
/// rollback file would be taken for a migration by the Supabase CLI.
#[allow(clippy::too_many_arguments)]
pub fn new_migration(
    set: &crate::source::MigrationSet,
    dir: &Path,
    rollbacks_dir: Option<&Path>,
    name: &str,
    author: &str,
    now: OffsetDateTime,
    rollback: bool,
    check: &dyn WrittenCheck,
) -> Result<NewMigration, Error> {
    let warning = check_name(name)?;
    let _lock = lock_directory(dir)?;
    let now = after_newest(set, dir, now);
    let (version, date) = stamp(now);
    let path = dir.join(format!("{version}_{name}.sql"));
    let mut files = vec![NewFile {
        path: path.clone(),
        text: template(name, author, &date, false),
        kind: NewFileKind::Migration,
    }];
    let rollback = rollback.then(|| {
        let r = rollbacks_dir
            .unwrap_or(dir)
            .join(format!("{version}_{name}_rollback.sql"));
        files.push(NewFile {
            path: r.clone(),
            text: template(name, author, &date, true),
            kind: NewFileKind::Rollback,
        });
        r
    });
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    write_files(set, &files, check)?;
    Ok(NewMigration {
        path,
        rollback,
        warning,
    })
}

/// A new migration in another tool's layout, named and shaped as that tool would write it, so
/// that the tool (and Strata) read it: dbmate's and goose's up/down sections, node-pg-migrate's
/// (with a millisecond timestamp), golang-migrate's and sqlx's `.up.sql`/`.down.sql` pair,
/// diesel's directory with `up.sql` and `down.sql`, Flyway's `V…__name.sql` (and
/// `U…__name.sql` with `rollback`). The version continues the directory's own numbering when
/// its versions are short sequence numbers (`0003` after `0002`), else it is the UTC time.
/// `up_sql`/`down_sql` fill the two parts (empty for `migration new`; `diff --write` passes its
/// SQL). Errors: a bad name, a file that exists, I/O.
#[allow(clippy::too_many_arguments)]
pub fn new_in_layout(
    set: &crate::source::MigrationSet,
    dir: &Path,
    layout: crate::source::Layout,
    name: &str,
    now: OffsetDateTime,
    rollback: bool,
    up_sql: &str,
    down_sql: &str,
    check: &dyn WrittenCheck,
) -> Result<NewMigration, Error> {
    let warning = check_name(name)?;
    let _lock = lock_directory(dir)?;
    let files = layout_files(set, dir, layout, name, now, rollback, up_sql, down_sql)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    write_files(set, &files, check)?;
    Ok(written(&files, warning))
}

/// The files of a new migration in another tool's layout ([`new_in_layout`]), not written: the
/// migration first, its down part (when a file of its own) after. A dbmate, goose or
/// node-pg-migrate file holds both parts and is one [`NewFileKind::Migration`].
#[allow(clippy::too_many_arguments)]
pub fn layout_files(
    set: &crate::source::MigrationSet,
    dir: &Path,
    layout: crate::source::Layout,
    name: &str,
    now: OffsetDateTime,
    rollback: bool,
    up_sql: &str,
    down_sql: &str,
) -> Result<Vec<NewFile>, Error> {
    use crate::source::Layout;
    check_name(name)?;
    // After every version there, the files written since `set` was read included.
    let newest = newest_version(set, dir);
    let version = match newest.as_ref().map(|v| v.as_str()) {
        // Sequence numbers stay sequence numbers.
        Some(v) if v.len() < 8 && !v.contains('.') => {
            let next = v.parse::<u64>().unwrap_or(0) + 1;
            format!("{next:0width$}", width = v.len())
        }
        _ if layout == Layout::NodePgMigrate => {
            let ms = (now.unix_timestamp_nanos() / 1_000_000) as u64;
            let after = newest
                .as_ref()
                .and_then(|v| v.as_str().parse::<u64>().ok())
                .map_or(0, |n| n + 1);
            ms.max(after).to_string()
        }
        _ => stamp(after(newest.as_ref(), now)).0,
    };
    let body = |sql: &str| {
        if sql.trim().is_empty() {
            "\n".to_string()
        } else {
            format!("{}\n", sql.trim_end())
        }
    };
    let sections =
        |up: &str, down: &str| format!("{up}\n{}\n{down}\n{}", body(up_sql), body(down_sql));
    let file = |path: &Path, text: String, kind: NewFileKind| NewFile {
        path: path.to_path_buf(),
        text,
        kind,
    };
    let mut files = Vec::new();
    match layout {
        Layout::Dbmate | Layout::Goose | Layout::NodePgMigrate => {
            let path = dir.join(format!("{version}_{name}.sql"));
            let text = match layout {
                Layout::Dbmate => sections("-- migrate:up", "-- migrate:down"),
                Layout::Goose => sections("-- +goose Up", "-- +goose Down"),
                _ => sections("-- Up Migration", "-- Down Migration"),
            };
            files.push(file(&path, text, NewFileKind::Migration));
        }
        Layout::GolangMigrate | Layout::Sqlx => {
            let up = dir.join(format!("{version}_{name}.up.sql"));
            let down = dir.join(format!("{version}_{name}.down.sql"));
            files.push(file(&up, body(up_sql), NewFileKind::Migration));
            if rollback || layout == Layout::GolangMigrate || !down_sql.trim().is_empty() {
                files.push(file(&down, body(down_sql), NewFileKind::Rollback));
            }
        }
        Layout::Diesel => {
            let d = now.to_offset(time::UtcOffset::UTC);
            let dashed = d
                .format(time::macros::format_description!(
                    "[year]-[month]-[day]-[hour][minute][second]"
                ))
                .expect("valid format");
            let mdir = dir.join(format!("{dashed}_{name}"));
            if mdir.exists() {
                return Err(Error::SourceFile {
                    path: mdir,
                    problem: "exists already".into(),
                    hint: Some("wait a second, or choose another name".into()),
                });
            }
            let up = mdir.join("up.sql");
            let down = mdir.join("down.sql");
            let or = |sql: &str, default: &str| {
                if sql.trim().is_empty() {
                    default.to_string()
                } else {
                    body(sql)
                }
            };
            files.push(file(
                &up,
                or(up_sql, "-- Your SQL goes here\n"),
                NewFileKind::Migration,
            ));
            files.push(file(
                &down,
                or(down_sql, "-- This file should undo anything in `up.sql`\n"),
                NewFileKind::Rollback,
            ));
        }
        Layout::Flyway => {
            let up = dir.join(format!("V{version}__{name}.sql"));
            files.push(file(&up, body(up_sql), NewFileKind::Migration));
            if rollback || !down_sql.trim().is_empty() {
                let undo = dir.join(format!("U{version}__{name}.sql"));
                files.push(file(&undo, body(down_sql), NewFileKind::Rollback));
            }
        }
        Layout::Strata | Layout::Supabase => {
            return Err(Error::setting(
                "layout",
                "new_in_layout is for other tools' layouts; use new_migration",
            ))
        }
    }
    Ok(files)
}

/// Writes `<UTC yyyymmddHHMMSS>_<name>.sql` holding `sql` into `dir`, and its
/// `_rollback.sql` holding `rollback_sql` into `rollbacks_dir` (default: `dir`), both under the
/// seed's header, after `check` (the files of `set` count as deployed). Used by
/// `strata diff --write`.
#[allow(clippy::too_many_arguments)]
pub fn write_migration(
    set: &crate::source::MigrationSet,
    dir: &Path,
    rollbacks_dir: Option<&Path>,
    name: &str,
    author: &str,
    now: OffsetDateTime,
    sql: &str,
    rollback_sql: &str,
    check: &dyn WrittenCheck,
) -> Result<NewMigration, Error> {
    let _lock = lock_directory(dir)?;
    let now = after_newest(set, dir, now);
    let version = version_at(now);
    let files = migration_files(
        dir,
        rollbacks_dir,
        &version,
        name,
        author,
        now,
        sql,
        rollback_sql,
    )?;
    write_files(set, &files, check)?;
    Ok(written(&files, check_name(name)?))
}

/// The files of a migration `<version>_<name>.sql` holding `sql` and its `_rollback.sql`
/// holding `rollback_sql` (in `rollbacks_dir`, default `dir`), under the seed's header — not
/// written ([`write_files`] writes them). `strata migration squash` gives its baseline the
/// version of the newest migration it replaces. Errors: the name is invalid.
#[allow(clippy::too_many_arguments)]
pub fn migration_files(
    dir: &Path,
    rollbacks_dir: Option<&Path>,
    version: &crate::source::Version,
    name: &str,
    author: &str,
    now: OffsetDateTime,
    sql: &str,
    rollback_sql: &str,
) -> Result<Vec<NewFile>, Error> {
    check_name(name)?;
    let rdir = rollbacks_dir.unwrap_or(dir);
    Ok(vec![
        NewFile {
            path: dir.join(format!("{version}_{name}.sql")),
            text: format!("{}{sql}", header(name, author, now, false)),
            kind: NewFileKind::Migration,
        },
        NewFile {
            path: rdir.join(format!("{version}_{name}_rollback.sql")),
            text: format!("{}{rollback_sql}", header(name, author, now, true)),
            kind: NewFileKind::Rollback,
        },
    ])
}

/// What [`write_files`] wrote of one migration, as `migration new` reports it: the migration
/// and its rollback (the same file for a tool whose files hold both parts).
pub fn written(files: &[NewFile], warning: Option<String>) -> NewMigration {
    let path = files[0].path.clone();
    let rollback = match files.iter().find(|f| f.kind == NewFileKind::Rollback) {
        Some(f) => Some(f.path.clone()),
        None if files.len() == 1 && has_down_section(&files[0].text) => Some(path.clone()),
        None => None,
    };
    NewMigration {
        path,
        rollback,
        warning,
    }
}

/// Whether a tool's file holds a down section (dbmate, goose, node-pg-migrate).
fn has_down_section(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l == "-- migrate:down" || l == "-- +goose Down" || l == "-- Down Migration"
    })
}

/// The header a written migration (or, `rollback`, its rollback) starts with: the seed's
/// description, author and date lines and the banner, without the example body.
pub fn header(name: &str, author: &str, now: OffsetDateTime, rollback: bool) -> String {
    let (_, date) = stamp(now);
    let t = template(name, author, &date, rollback);
    let end = t
        .find("-- Write idempotent")
        .or_else(|| t.find("-- Undo the up"));
    end.map(|i| t[..i].to_string()).unwrap_or(t)
}

fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    f.write_all(text.as_bytes())
        .map_err(|e| Error::io("write", path, e))
}

/// The author for new migrations: git's `user.name`, else `$USER`.
pub fn default_author() -> String {
    std::process::Command::new("git")
        .args(["config", "user.name"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "Your Name".into())
}

/// `strata init`: writes `strata.toml` (commented, every setting) and `migrations_dir` (relative
/// to `root`) when they do not exist, and adds `.strata/` to `.gitignore`. Returns what it
/// created or changed; existing files are never overwritten.
pub fn init(root: &Path, migrations_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut created = Vec::new();
    let path = root.join(crate::config::CONFIG_FILE);
    if !path.exists() {
        std::fs::write(&path, crate::config::TEMPLATE).map_err(|e| Error::io("write", &path, e))?;
        created.push(path);
    }
    let dir = root.join(migrations_dir);
    if !dir.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        created.push(dir);
    }
    let gitignore = root.join(".gitignore");
    let ignored = std::fs::read_to_string(&gitignore).unwrap_or_default();
    if !ignored
        .lines()
        .any(|l| l.trim() == ".strata/" || l.trim() == ".strata")
    {
        let mut text = ignored;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(".strata/\n");
        std::fs::write(&gitignore, text).map_err(|e| Error::io("write", &gitignore, e))?;
        created.push(gitignore);
    }
    Ok(created)
}

/// What `strata link` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Linked {
    /// `.strata/project-ref`.
    pub file: PathBuf,
    /// The session pooler URL recorded beside it (no password), when one was given.
    pub pooler_url: Option<String>,
}

/// `strata link`: records the Supabase project `--linked` connects to in `state_dir`, and its
/// session pooler URL (already checked, without password) when given.
pub fn link(
    state_dir: &Path,
    project_ref: &str,
    pooler_url: Option<&str>,
) -> Result<Linked, Error> {
    crate::target::validate_project_ref(project_ref)?;
    std::fs::create_dir_all(state_dir).map_err(|e| Error::io("create", state_dir, e))?;
    let file = state_dir.join("project-ref");
    std::fs::write(&file, format!("{project_ref}\n")).map_err(|e| Error::io("write", &file, e))?;
    let pooler_file = state_dir.join(crate::target::POOLER_URL_FILE);
    match pooler_url {
        Some(url) => std::fs::write(&pooler_file, format!("{url}\n"))
            .map_err(|e| Error::io("write", &pooler_file, e))?,
        None => {
            // A pooler of a previously linked project must not stay.
            if pooler_file.exists() {
                std::fs::remove_file(&pooler_file)
                    .map_err(|e| Error::io("remove", &pooler_file, e))?;
            }
        }
    }
    Ok(Linked {
        file,
        pooler_url: pooler_url.map(str::to_string),
    })
}

/// One rename done (or planned) by `migration adopt`.
#[derive(Debug, Clone, Serialize)]
pub struct Rename {
    pub from: PathBuf,
    pub to: PathBuf,
}

/// Renames the files of `legacy_order` (and their `_rollback.sql` siblings) to the versioned
/// names they are recorded under (`001_base_schema.sql`, …), so the directory becomes ordinary
/// and `legacy_order` can be removed. With `dry_run`, only returns the renames.
pub fn adopt(dir: &Path, legacy_order: &[String], dry_run: bool) -> Result<Vec<Rename>, Error> {
    if legacy_order.is_empty() {
        return Err(Error::Setting {
            setting: "legacy_order".into(),
            message: "nothing to adopt: legacy_order is empty".into(),
            hint: Some(
                "list the unversioned files in run order as legacy_order = [...] in strata.toml"
                    .into(),
            ),
        });
    }
    let mut renames = Vec::new();
    for (file, version, name) in legacy_versions(legacy_order) {
        let from = dir.join(&file);
        if !from.is_file() {
            return Err(Error::setting(
                "legacy_order",
                format!(
                    "legacy_order names {file}, which is not in {}",
                    dir.display()
                ),
            ));
        }
        renames.push(Rename {
            from,
            to: dir.join(format!("{version}_{name}.sql")),
        });
        let stem = file.strip_suffix(".sql").unwrap_or(&file);
        let rollback = dir.join(format!("{stem}_rollback.sql"));
        if rollback.is_file() {
            renames.push(Rename {
                from: rollback,
                to: dir.join(format!("{version}_{name}_rollback.sql")),
            });
        }
    }
    for r in &renames {
        if r.to.exists() && r.to != r.from {
            return Err(Error::SourceFile {
                path: r.to.clone(),
                problem: format!("cannot rename {} here: the file exists", r.from.display()),
                hint: Some("move it away first".into()),
            });
        }
    }
    if !dry_run {
        for r in &renames {
            std::fs::rename(&r.from, &r.to).map_err(|e| Error::io("rename", &r.from, e))?;
        }
    }
    Ok(renames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_convention() {
        assert_eq!(check_name("create_user_settings").unwrap(), None);
        assert!(check_name("user_settings").unwrap().is_some());
        assert!(check_name("create").unwrap().is_some());
        assert!(check_name("Create-Table").is_err());
        assert!(check_name("drop_x_rollback").is_err());
    }

    #[test]
    fn template_has_the_seed_header() {
        let t = template("add_user_settings", "Ada", "2024-01-15", false);
        assert!(t.starts_with(
            "-- Description: add user settings\n-- Author: Ada\n-- Date: 2024-01-15\n"
        ));
        assert!(t.contains("-- UP MIGRATION"));
    }

    #[test]
    fn new_writes_timestamped_files() {
        let dir = tempfile::tempdir().unwrap();
        let now = time::macros::datetime!(2024-01-15 09:30:00 UTC);
        let set = crate::source::MigrationSet::empty(None);
        let out = new_migration(
            &set,
            dir.path(),
            None,
            "add_user_settings",
            "Ada",
            now,
            true,
            &SplitCheck,
        )
        .unwrap();
        assert_eq!(
            out.path.file_name().unwrap(),
            "20240115093000_add_user_settings.sql"
        );
        assert_eq!(
            out.rollback.unwrap().file_name().unwrap(),
            "20240115093000_add_user_settings_rollback.sql"
        );
        // Never overwrites: the same name in the same second gets the next second.
        let again = new_migration(
            &set,
            dir.path(),
            None,
            "add_user_settings",
            "Ada",
            now,
            false,
            &SplitCheck,
        )
        .unwrap();
        assert_eq!(
            again.path.file_name().unwrap(),
            "20240115093001_add_user_settings.sql"
        );
    }

    #[test]
    fn a_new_version_comes_after_the_newest_even_far_ahead_and_names_fit_a_file() {
        let now = time::macros::datetime!(2026-12-07 10:00:00 UTC);
        let newest = crate::source::Version::parse("20300101000000").unwrap();
        assert_eq!(
            version_at(after(Some(&newest), now)).as_str(),
            "20300101000001"
        );
        let older = crate::source::Version::parse("20240101000000").unwrap();
        assert_eq!(after(Some(&older), now), now);
        // Two in one second: the second after.
        let same = version_at(now);
        assert_eq!(
            version_at(after(Some(&same), now)).as_str(),
            "20261207100001"
        );
        assert!(check_name(&"a".repeat(201)).is_err());
        assert!(check_name(&format!("add_{}", "x".repeat(190))).is_ok());
    }

    #[test]
    fn concurrent_migration_new_never_share_a_version() {
        let dir = tempfile::tempdir().unwrap();
        let now = time::OffsetDateTime::now_utc();
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let d = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let set = crate::source::MigrationSet::empty(None);
                    new_migration(
                        &set,
                        &d,
                        None,
                        &format!("add_thing{i}"),
                        "t",
                        now,
                        false,
                        &SplitCheck,
                    )
                    .unwrap()
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let set = crate::source::MigrationSet::load_dir(dir.path()).unwrap();
        assert_eq!(set.migrations.len(), 6);
    }

    #[test]
    fn adopt_renames_in_order_with_rollbacks() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "00_base_schema.sql",
            "projects.sql",
            "projects_rollback.sql",
        ] {
            std::fs::write(dir.path().join(f), "select 1;").unwrap();
        }
        let order = vec!["00_base_schema.sql".into(), "projects.sql".into()];
        let renames = adopt(dir.path(), &order, false).unwrap();
        assert_eq!(renames.len(), 3);
        for f in [
            "001_base_schema.sql",
            "002_projects.sql",
            "002_projects_rollback.sql",
        ] {
            assert!(dir.path().join(f).is_file(), "{f}");
        }
    }
}
