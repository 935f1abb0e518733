//! Finding PostgreSQL server binaries: `STRATA_PG_BINDIR`, PATH, `pg_config --bindir`, the package directories. `backup` looks for `pg_dump`/`pg_restore` in the same places.

use super::*;

pub(super) const TOOLS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

pub(super) fn env_bin_dir() -> Option<PathBuf> {
    std::env::var_os(BINDIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

pub(super) fn is_script(path: &Path) -> bool {
    let mut head = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| &head == b"#!")
        .unwrap_or(false)
}

/// Names of the tools missing (or unusable) in `dir`.
pub(super) fn missing_tools(dir: &Path) -> Vec<&'static str> {
    TOOLS
        .iter()
        .copied()
        .filter(|tool| {
            let path = dir.join(tool);
            let ok = fs::metadata(&path)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                && !is_script(&path);
            !ok
        })
        .collect()
}

pub(super) fn server_version(bin_dir: &Path) -> Option<String> {
    let postgres = bin_dir.join("postgres");
    let output = pg_command(&postgres, None)
        .arg("--version")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&output.stdout))
}

/// `postgres (PostgreSQL) 15.14 (Debian 15.14-1.pgdg12+1)` → `15.14`.
pub(super) fn parse_version(text: &str) -> Option<String> {
    let after = text
        .split_once("(PostgreSQL)")
        .map(|(_, rest)| rest)
        .unwrap_or(text);
    after
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_string()
        })
}

pub(super) fn major_of(version: &str) -> String {
    let digits: Vec<&str> = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    match digits.as_slice() {
        [first, second, ..] if first.parse::<u32>().is_ok_and(|n| n < 10) => {
            format!("{first}.{second}")
        }
        [first, ..] => first.to_string(),
        [] => version.to_string(),
    }
}

/// Directories of real `pg_ctl` binaries on PATH (symlinks resolved).
pub(super) fn path_candidates() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    std::env::split_paths(&path)
        .filter_map(|dir| {
            let pg_ctl = dir.join("pg_ctl");
            if !pg_ctl.is_file() || is_script(&pg_ctl) {
                return None;
            }
            fs::canonicalize(&pg_ctl)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
        })
        .collect()
}

/// `pg_config --bindir` of the first `pg_config` on `PATH` (none when there is none or it fails).
pub(crate) fn pg_config_candidate() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    let Some(pg_config) = std::env::split_paths(&path)
        .map(|dir| dir.join("pg_config"))
        .find(|p| p.is_file())
    else {
        return Vec::new();
    };
    let Ok(output) = pg_command(&pg_config, None)
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    if !output.status.success() {
        return Vec::new();
    }
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if dir.is_empty() {
        Vec::new()
    } else {
        vec![PathBuf::from(dir)]
    }
}

/// `<parent>/<prefix><version><suffix>` directories, newest version first.
pub(super) fn versioned_dirs(parent: &str, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(prefix)?;
            let key: Vec<u32> = version
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            Some((key, e.path().join(suffix)))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// The places PostgreSQL packages install their binaries, newest version first: Debian/Ubuntu
/// (`/usr/lib/postgresql/<v>/bin`), RHEL/PGDG (`/usr/pgsql-<v>/bin`), source builds
/// (`/usr/local/pgsql/bin`), Homebrew (versioned and not, Apple silicon and Intel) and
/// Postgres.app. The one list: the local cluster's server binaries and `backup`'s
/// `pg_dump`/`pg_restore` are both looked for here.
pub(crate) fn well_known_candidates() -> Vec<PathBuf> {
    let mut dirs = versioned_dirs("/usr/lib/postgresql", "", "bin");
    dirs.extend(versioned_dirs("/usr", "pgsql-", "bin"));
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    for brew in ["/opt/homebrew/opt", "/usr/local/opt"] {
        dirs.extend(versioned_dirs(brew, "postgresql@", "bin"));
        dirs.push(Path::new(brew).join("postgresql/bin"));
    }
    dirs.push(PathBuf::from(
        "/Applications/Postgres.app/Contents/Versions/latest/bin",
    ));
    dirs
}

/// Finds server binaries. `override_dir` is strict. `want_major`: the data
/// directory's major version, if it exists. `recorded`: the directory used
/// last time, tried first.
pub(super) fn discover(
    override_dir: Option<&Path>,
    want_major: Option<&str>,
    recorded: Option<&Path>,
    data_dir: Option<&Path>,
) -> Result<ServerBinaries> {
    let mismatch = |found: String| LocalError::VersionMismatch {
        data_dir: data_dir.map(Path::to_path_buf).unwrap_or_default(),
        data_version: want_major.unwrap_or_default().to_string(),
        found,
    };

    if let Some(dir) = override_dir {
        let missing = missing_tools(dir);
        if !missing.is_empty() {
            return Err(LocalError::BinariesNotFound {
                detail: format!(
                    "{BINDIR_ENV}={} lacks {}",
                    dir.display(),
                    missing.join(", ")
                ),
                override_dir: Some(dir.to_path_buf()),
            });
        }
        let bin_dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let version = server_version(&bin_dir).ok_or_else(|| LocalError::BinariesNotFound {
            detail: format!(
                "`{} --version` did not report a PostgreSQL version",
                bin_dir.join("postgres").display()
            ),
            override_dir: Some(dir.to_path_buf()),
        })?;
        let bins = ServerBinaries { bin_dir, version };
        if let Some(want) = want_major {
            if bins.major() != want {
                return Err(mismatch(format!(
                    "{BINDIR_ENV}={} holds PostgreSQL {}",
                    dir.display(),
                    bins.version
                )));
            }
        }
        return Ok(bins);
    }

    let mut seen: Vec<PathBuf> = Vec::new();
    let mut other_versions: Vec<String> = Vec::new();
    let sources: [&dyn Fn() -> Vec<PathBuf>; 4] = [
        &|| recorded.map(Path::to_path_buf).into_iter().collect(),
        &path_candidates,
        &pg_config_candidate,
        &well_known_candidates,
    ];
    for source in sources {
        for dir in source() {
            let dir = fs::canonicalize(&dir).unwrap_or(dir);
            if seen.contains(&dir) {
                continue;
            }
            seen.push(dir.clone());
            if !missing_tools(&dir).is_empty() {
                continue;
            }
            let Some(version) = server_version(&dir) else {
                continue;
            };
            let bins = ServerBinaries {
                bin_dir: dir,
                version,
            };
            match want_major {
                Some(want) if bins.major() != want => {
                    other_versions.push(format!("{} in {}", bins.version, bins.bin_dir.display()));
                }
                _ => return Ok(bins),
            }
        }
    }
    if !other_versions.is_empty() {
        return Err(mismatch(format!(
            "only PostgreSQL {} is installed",
            other_versions.join(", ")
        )));
    }
    Err(LocalError::BinariesNotFound {
        detail:
            "searched PATH, `pg_config --bindir`, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, \
                 /usr/local/pgsql/bin and Homebrew/Postgres.app locations"
                .to_string(),
        override_dir: None,
    })
}
