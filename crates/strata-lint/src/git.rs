//! What `--changed-since REF` needs from git: the files changed since a revision (to report
//! on) and the files that exist at it (what is deployed as of that revision). Runs the `git`
//! program in the project; errors name the `--changed-since` setting and say what to do.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use strata::Error;

use crate::gate::absolute;

/// What to do when git cannot be used with `--changed-since`.
const REVISION_HINT: &str = "pass a branch, tag or commit git knows (fetch it first in CI: actions/checkout with fetch-depth: 0)";

/// Runs `git ARGS` in `root`; its stdout. Errors name `--changed-since` and say what to do.
fn git(root: &Path, args: &[&str]) -> Result<String, Error> {
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
            REVISION_HINT
        };
        return Err(Error::Setting {
            setting: "--changed-since".into(),
            message: format!("git {}: {}", args.join(" "), stderr.trim()),
            hint: Some(hint.into()),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The repository's top directory (first, so that "not a git repository" is the error).
fn top(root: &Path) -> Result<PathBuf, Error> {
    Ok(PathBuf::from(
        git(root, &["rev-parse", "--show-toplevel"])?.trim(),
    ))
}

/// `git`'s output lines (paths relative to `top`) as absolute paths.
fn paths(top: &Path, listing: &str) -> BTreeSet<PathBuf> {
    listing
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| absolute(&top.join(l)))
        .collect()
}

/// Files changed since `reference` (committed on this branch since it forked, uncommitted, or
/// untracked), as absolute paths.
///
/// # Errors
/// [`Error::Setting`] for `--changed-since`: git missing, not a repository, or a revision git
/// does not know (with what to do, e.g. fetch-depth 0 in CI).
pub fn changed_files(root: &Path, reference: &str) -> Result<BTreeSet<PathBuf>, Error> {
    let top = top(root)?;
    git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
    )
    .map_err(|_| Error::Setting {
        setting: "--changed-since".into(),
        message: format!("git does not know the revision `{reference}`"),
        hint: Some(REVISION_HINT.into()),
    })?;
    let mut names = git(
        root,
        &["diff", "--name-only", &format!("{reference}...HEAD")],
    )?;
    names.push_str(&git(root, &["diff", "--name-only", "HEAD"])?);
    names.push_str(&git(root, &["ls-files", "--others", "--exclude-standard"])?);
    Ok(paths(&top, &names))
}

/// The files that exist at git revision `reference` (absolute paths): the migrations deployed
/// as of that revision, for `--changed-since`.
///
/// # Errors
/// [`Error::Setting`] for `--changed-since` when git fails.
pub fn files_at(root: &Path, reference: &str) -> Result<BTreeSet<PathBuf>, Error> {
    let top = top(root)?;
    let names = git(root, &["ls-tree", "-r", "--name-only", reference])?;
    Ok(paths(&top, &names))
}
