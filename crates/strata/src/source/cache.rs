//! The checksum cache: `.strata/checksums-<dir hash>` ([`path_for`]), so that proving "no applied file changed" costs a
//! `stat` per file instead of reading and hashing every file, as git's index does for
//! `git status`.
//!
//! An entry is the file's name, what `stat` says of it — device, inode, size, modification and
//! status-change times to the nanosecond — and the checksum of its text. A file is taken from the
//! cache only when all of that is unchanged. The guarantee, and its limits:
//!
//! - Any write to a file changes its `ctime`, and no user call can set `ctime` back (`touch -d`
//!   and `utimensat` set `mtime` and `atime` only, and themselves change `ctime`). So an edit
//!   that keeps the size and restores the old `mtime` is still seen.
//! - "Racy" entries (git's term): a file changed twice within one tick of the filesystem's clock
//!   could keep every stat field. So an entry is stored only when the file's `mtime` and `ctime`
//!   are at least [`RACY_WINDOW`] older than the moment it was read — longer than the coarsest
//!   timestamp granularity of the filesystems in use (FAT's 2 s) — and a file changed more
//!   recently is read and hashed every time until it is that old.
//! - What is not covered: a clock set backwards past a file's times, or a filesystem that does
//!   not keep `ctime` (some network and FUSE filesystems): set `STRATA_NO_CHECKSUM_CACHE=1`.
//!
//! The cache is an optimisation only: a missing, unreadable, foreign or corrupt file is an empty
//! cache, and failing to write it is not an error. It records Strata's version and the checksum
//! algorithm, and is ignored when either differs. Only the migration files of Strata's and the
//! Supabase CLI's layouts use it; rollback files and other tools' layouts are always read.

use std::fs::Metadata;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How much older than the moment it was read a file's last change must be for its entry to be
/// stored (see the module documentation).
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// The environment variable that turns the cache off: neither read nor written (any value but
/// empty, `0` or `false`).
pub const DISABLE_VAR: &str = "STRATA_NO_CHECKSUM_CACHE";

/// Whether [`DISABLE_VAR`] turns the cache off.
pub fn disabled() -> bool {
    std::env::var(DISABLE_VAR).is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// The cache file for the migrations directory `dir` in the state directory `state_dir`
/// (`.strata/`): `checksums-<16 hex digits of the SHA-256 of the directory's absolute path>`, so
/// that projects with several migration directories keep one cache each.
pub fn path_for(state_dir: &Path, dir: &Path) -> std::path::PathBuf {
    use sha2::{Digest, Sha256};
    let absolute = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let digest = Sha256::digest(absolute.to_string_lossy().as_bytes());
    state_dir.join(format!("checksums-{}", &hex::encode(digest)[..16]))
}

/// What `stat` says of a file, as far as the cache compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatKey {
    dev: u64,
    ino: u64,
    size: u64,
    /// Nanoseconds since the Unix epoch (a file outside 1677–2262 gets no key).
    mtime_ns: i64,
    ctime_ns: i64,
}

impl StatKey {
    /// The key of a file's metadata; `None` where the platform does not give inode and ctime.
    #[cfg(unix)]
    pub fn of(md: &Metadata) -> Option<StatKey> {
        use std::os::unix::fs::MetadataExt;
        Some(StatKey {
            dev: md.dev(),
            ino: md.ino(),
            size: md.size(),
            mtime_ns: nanos(md.mtime(), md.mtime_nsec())?,
            ctime_ns: nanos(md.ctime(), md.ctime_nsec())?,
        })
    }

    /// The key of a file's metadata; `None` where the platform does not give inode and ctime.
    #[cfg(not(unix))]
    pub fn of(_md: &Metadata) -> Option<StatKey> {
        None
    }

    /// The key's fields as a cache line holds them: `dev\tino\tsize\tmtime_ns\tctime_ns`.
    fn write_fields(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        write!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns
        )
    }

    /// Whether the file last changed at least [`RACY_WINDOW`] before `read_at`.
    fn settled(&self, read_at: SystemTime) -> bool {
        let Ok(since_epoch) = read_at.duration_since(UNIX_EPOCH) else {
            return false;
        };
        let limit = since_epoch.as_nanos() as i128 - RACY_WINDOW.as_nanos() as i128;
        let (mtime_ns, ctime_ns) = (i128::from(self.mtime_ns), i128::from(self.ctime_ns));
        mtime_ns < limit && ctime_ns < limit
    }
}

/// Seconds and nanoseconds as `stat` gives them, as nanoseconds since the epoch; `None` past
/// what an `i64` holds.
#[cfg(unix)]
fn nanos(seconds: i64, nanoseconds: i64) -> Option<i64> {
    seconds.checked_mul(1_000_000_000)?.checked_add(nanoseconds)
}

/// The header line: format, Strata's version, the checksum algorithm.
fn header() -> String {
    format!(
        "strata-checksums 1\t{}\t{}",
        crate::VERSION,
        super::CHECKSUM_ALGORITHM
    )
}

/// The cache as read from disk. Lines are located, not parsed: a lookup compares the file's
/// fresh key, written as the cache writes it, with the line's text, so that reading a cache of
/// 10,000 entries costs one pass over its bytes.
#[derive(Debug, Default)]
pub struct ChecksumCache {
    text: String,
    /// Per entry, sorted by name: byte offsets of the line's start, the tab after the name, the
    /// tab before the checksum, and the line's end.
    lines: Vec<[usize; 4]>,
}

impl ChecksumCache {
    /// Reads the cache at `path`; empty when it is absent, unreadable, from another version of
    /// Strata, or corrupt, or when [`DISABLE_VAR`] is set.
    pub fn read(path: &Path) -> ChecksumCache {
        if disabled() {
            return ChecksumCache::default();
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            return ChecksumCache::default();
        };
        Self::parse(text).unwrap_or_default()
    }

    /// Locates the entries of a cache file's text; `None` when it is from another version or
    /// corrupt (a line without its seven tab-separated fields).
    fn parse(text: String) -> Option<ChecksumCache> {
        let header = header();
        let body_start = text
            .strip_prefix(header.as_str())
            .and_then(|rest| rest.strip_prefix('\n'))
            .map(|_| header.len() + 1)?;
        let mut lines = Vec::with_capacity(text.len() / 160);
        let mut start = body_start;
        for line in text[body_start..].split_terminator('\n') {
            let end = start + line.len();
            if line.bytes().filter(|&b| b == b'\t').count() != 6 {
                return None;
            }
            let name_end = start + line.find('\t')?;
            let checksum_tab = start + line.rfind('\t')?;
            lines.push([start, name_end, checksum_tab, end]);
            start = end + 1;
        }
        let name = |l: &[usize; 4]| &text[l[0]..l[1]];
        // Written in name order; sorted here in case another writer did not.
        if !lines.is_sorted_by(|a, b| name(a) < name(b)) {
            lines.sort_by(|a, b| name(a).cmp(name(b)));
            lines.dedup_by(|a, b| name(a) == name(b));
        }
        Some(ChecksumCache { text, lines })
    }

    /// The cached checksum of file `name`, if its key is unchanged.
    pub fn get(&self, name: &str, key: &StatKey) -> Option<&str> {
        let i = self
            .lines
            .binary_search_by(|l| self.text[l[0]..l[1]].cmp(name))
            .ok()?;
        let [_, name_end, checksum_tab, end] = self.lines[i];
        let mut buf = [0u8; 160];
        let written = {
            let mut cursor = std::io::Cursor::new(&mut buf[..]);
            key.write_fields(&mut cursor).ok()?;
            cursor.position() as usize
        };
        (self.text.as_bytes()[name_end + 1..checksum_tab] == buf[..written])
            .then(|| &self.text[checksum_tab + 1..end])
    }

    /// How many entries the cache holds.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// An open migrations directory, to `stat` its files relative to it (`fstatat(2)`): one path
/// component to resolve per file instead of the whole path, and no path to build.
pub(crate) struct DirHandle {
    #[cfg(unix)]
    dir: std::fs::File,
}

impl DirHandle {
    /// Opens `dir`; `None` where it cannot be opened or the platform has no `fstatat`.
    #[cfg(unix)]
    pub(crate) fn open(dir: &Path) -> Option<DirHandle> {
        std::fs::File::open(dir).ok().map(|dir| DirHandle { dir })
    }

    /// Opens `dir`; `None` where it cannot be opened or the platform has no `fstatat`.
    #[cfg(not(unix))]
    pub(crate) fn open(_dir: &Path) -> Option<DirHandle> {
        None
    }

    /// The key of file `name` in the directory, following a symbolic link as `stat` does;
    /// `None` when it cannot be stat'ed.
    #[cfg(unix)]
    pub(crate) fn stat(&self, name: &str) -> Option<StatKey> {
        let st = rustix::fs::statat(&self.dir, name, rustix::fs::AtFlags::empty()).ok()?;
        Some(StatKey {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            size: st.st_size as u64,
            mtime_ns: nanos(st.st_mtime as i64, st.st_mtime_nsec as i64)?,
            ctime_ns: nanos(st.st_ctime as i64, st.st_ctime_nsec as i64)?,
        })
    }

    /// Never called: [`DirHandle::open`] gives none off Unix.
    #[cfg(not(unix))]
    pub(crate) fn stat(&self, _name: &str) -> Option<StatKey> {
        None
    }
}

/// One file's entry to write: its name, key, and the checksum of the text that was read.
pub(crate) struct Entry {
    pub name: String,
    pub key: StatKey,
    pub checksum: String,
}

/// Writes the entries of files that had settled when they were read (`read_at`) to `path`,
/// replacing it atomically (a temporary file renamed over it); creates `path`'s directory with a
/// `.gitignore` of `*` when it does not exist. Best effort: returns whether it was written.
pub(crate) fn write(path: &Path, entries: &[Entry], read_at: SystemTime) -> bool {
    let Some(dir) = path.parent() else {
        return false;
    };
    let settled: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.key.settled(read_at) && !e.name.contains(['\t', '\n', '\r']))
        .collect();
    // Nothing to remember and nothing to replace: create nothing (no `.strata/` in a project
    // that has none, e.g. right after its files were written).
    if settled.is_empty() && !path.exists() {
        return false;
    }
    if !dir.is_dir() {
        if std::fs::create_dir_all(dir).is_err() {
            return false;
        }
        let _ = std::fs::write(dir.join(".gitignore"), "*\n");
    }
    let mut text = header();
    text.push('\n');
    let mut text = text.into_bytes();
    for e in settled {
        let line = write!(text, "{}\t", e.name)
            .and_then(|()| e.key.write_fields(&mut text))
            .and_then(|()| writeln!(text, "\t{}", e.checksum));
        if line.is_err() {
            return false;
        }
    }
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&text))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.is_ok()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn key_of(path: &Path) -> StatKey {
        StatKey::of(&std::fs::metadata(path).unwrap()).unwrap()
    }

    #[test]
    fn round_trip_and_racy_entries_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("1_a.sql");
        std::fs::write(&file, "select 1;\n").unwrap();
        let cache_path = dir.path().join(".strata/checksums");
        let key = key_of(&file);
        let entry = || Entry {
            name: "1_a.sql".into(),
            key,
            checksum: "sha256:x".into(),
        };
        // Read just now: racy, not stored (and no `.strata/` created for nothing).
        assert!(!write(&cache_path, &[entry()], SystemTime::now()));
        assert!(!cache_path.exists());
        // Read well after its last change: stored, and found while the key is the same.
        let later = SystemTime::now() + Duration::from_secs(3);
        assert!(write(&cache_path, &[entry()], later));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".strata/.gitignore")).unwrap(),
            "*\n"
        );
        let cache = ChecksumCache::read(&cache_path);
        assert_eq!(cache.get("1_a.sql", &key), Some("sha256:x"));
        // Same size, mtime set back to the old value: ctime moved (one clock tick later at
        // most), so it is a miss.
        std::thread::sleep(Duration::from_millis(50));
        std::fs::write(&file, "select 2;\n").unwrap();
        let old = std::fs::FileTimes::new()
            .set_modified(UNIX_EPOCH + Duration::from_nanos(key.mtime_ns as u64));
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_times(old)
            .unwrap();
        let new_key = key_of(&file);
        assert_eq!(new_key.mtime_ns, key.mtime_ns);
        assert_eq!(new_key.size, key.size);
        assert_eq!(cache.get("1_a.sql", &new_key), None);
    }

    #[test]
    fn foreign_or_corrupt_files_are_an_empty_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checksums");
        std::fs::write(&path, "something else\n").unwrap();
        assert!(ChecksumCache::read(&path).is_empty());
        std::fs::write(&path, format!("{}\n1_a.sql\tnot a number\n", header())).unwrap();
        assert!(ChecksumCache::read(&path).is_empty());
        assert!(ChecksumCache::read(&dir.path().join("absent")).is_empty());
    }
}
