//! What `--changed-since REF` needs from git: the files changed since a revision (to report
//! on) and the files that exist at it (what is deployed as of that revision). Runs the `git`
//! program in the project; errors name the `--changed-since` setting and say what to do.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use strata::Error;

use crate::gate::absolute;

/// Files changed since `reference` (committed on this branch since it forked, uncommitted, or
/// untracked), as absolute paths.
///
/// # Errors
/// [`Error::Setting`] for `--changed-since`: git missing, not a repository, or a revision git
/// does not know (with what to do, e.g. fetch-depth 0 in CI).
pub fn changed_files(root: &Path, reference: &str) -> Result<BTreeSet<PathBuf>, Error> {
    let git = |args: &[&str]| -> Result<String, Error> {
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| Error::Setting {
                setting: "--changed-since".into(),
                message: format!("cannot run git: {e}"),
                hint: Some("install git, or lint without --changed-since".into()),
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let hint = if stderr.contains("not a git repository") {
                "--changed-since needs the project to be in a git repository"
            } else {
                "pass a branch, tag or commit git knows (fetch it first in CI: actions/checkout with fetch-depth: 0)"
            };
            return Err(Error::Setting {
                setting: "--changed-since".into(),
                message: format!("git {}: {}", args.join(" "), stderr.trim()),
                hint: Some(hint.into()),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(top.trim());
    git(&["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")]).map_err(|_| {
        Error::Setting {
            setting: "--changed-since".into(),
            message: format!("git does not know the revision `{reference}`"),
            hint: Some("pass a branch, tag or commit git knows (fetch it first in CI: actions/checkout with fetch-depth: 0)".into()),
        }
    })?;
    let mut names = git(&["diff", "--name-only", &format!("{reference}...HEAD")])?;
    names.push_str(&git(&["diff", "--name-only", "HEAD"])?);
    names.push_str(&git(&["ls-files", "--others", "--exclude-standard"])?);
    Ok(names
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| absolute(&top.join(l)))
        .collect())
}

/// The files that exist at git revision `reference` (absolute paths): the migrations deployed
/// as of that revision, for `--changed-since`.
///
/// # Errors
/// [`Error::Setting`] for `--changed-since` when git fails.
pub fn files_at(root: &Path, reference: &str) -> Result<BTreeSet<PathBuf>, Error> {
    let run = |args: &[&str]| -> Result<String, Error> {
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| Error::Setting {
                setting: "--changed-since".into(),
                message: format!("cannot run git: {e}"),
                hint: Some("install git, or lint without --changed-since".into()),
            })?;
        if !output.status.success() {
            return Err(Error::Setting {
                setting: "--changed-since".into(),
                message: format!(
                    "git {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
                hint: Some("pass a branch, tag or commit git knows".into()),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let top = PathBuf::from(run(&["rev-parse", "--show-toplevel"])?.trim());
    Ok(run(&["ls-tree", "-r", "--name-only", reference])?
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| absolute(&top.join(l)))
        .collect())
}
