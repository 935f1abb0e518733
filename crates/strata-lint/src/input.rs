//! What `strata lint` lints: the files asked for, read as part of their migration sets (in run
//! order, so a table created by an earlier file is "new" to the ones after it), the files to
//! report on, and which files count as deployed — on a target, at a git reference, or by the
//! `[lint] assume_deployed` setting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use strata::history::History;
use strata::source::{FileNote, Skipped, SourceOptions};
use strata::{Error, MigrationSet, Version};

use crate::gate::{absolute, shown};
use crate::{Deployed, SourceText};

/// The files to lint and what reading them noticed.
#[derive(Debug, Default)]
pub struct Input {
    /// Every file to lint, in run order within its set (the set's other files are context).
    pub sources: Vec<SourceText>,
    /// For each of `sources`: its absolute path and its version (a file outside a set has none).
    pub origins: Vec<(PathBuf, Option<Version>)>,
    /// The files to report findings on (absolute paths).
    pub report: BTreeSet<PathBuf>,
    /// What the directories' sets skipped, and what they noticed about files.
    pub skipped: Vec<Skipped>,
    pub notes: Vec<FileNote>,
}

impl Input {
    /// Reads `paths` — migration files or directories; `default_dir` when there are none. A
    /// directory is read as a migration set; a file is read with its directory's set as context
    /// when the set holds it, else on its own.
    ///
    /// Errors: a path that does not exist ([`Error::Setting`] naming `PATHS`); a directory that
    /// is not a valid migration set when all of it was asked for; a file that cannot be read.
    pub fn gather(
        paths: &[PathBuf],
        default_dir: impl FnOnce() -> Result<PathBuf, Error>,
        options: &SourceOptions,
    ) -> Result<Input, Error> {
        // Directory → files asked for in it (None: all of it).
        let mut wanted: BTreeMap<PathBuf, Option<BTreeSet<PathBuf>>> = BTreeMap::new();
        if paths.is_empty() {
            wanted.insert(absolute(&default_dir()?), None);
        }
        for p in paths {
            if p.is_dir() {
                wanted.insert(absolute(p), None);
            } else if p.is_file() {
                let full = absolute(p);
                let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
                if let Some(files) = wanted.entry(dir).or_insert_with(|| Some(BTreeSet::new())) {
                    files.insert(full);
                }
            } else {
                return Err(Error::Setting {
                    setting: "PATHS".into(),
                    message: format!("{} does not exist", p.display()),
                    hint: Some(
                        "pass migration files or directories (default: the migrations directory)"
                            .into(),
                    ),
                });
            }
        }
        let mut input = Input::default();
        for (dir, only) in wanted {
            input.add_dir(&dir, only.as_ref(), options)?;
        }
        Ok(input)
    }

    fn add_dir(
        &mut self,
        dir: &Path,
        only: Option<&BTreeSet<PathBuf>>,
        options: &SourceOptions,
    ) -> Result<(), Error> {
        let set = MigrationSet::load(dir, options);
        let holds_all = |set: &MigrationSet| {
            let in_set: BTreeSet<PathBuf> =
                set.migrations.iter().map(|m| absolute(&m.path)).collect();
            only.is_none_or(|o| o.iter().all(|f| in_set.contains(f)))
        };
        match set {
            Ok(set) if holds_all(&set) => {
                self.skipped.extend(set.skipped);
                self.notes.extend(set.notes);
                for m in set.migrations {
                    let full = absolute(&m.path);
                    if only.is_none_or(|o| o.contains(&full)) {
                        self.report.insert(full.clone());
                    }
                    self.sources.push(SourceText {
                        path: shown(&full),
                        text: m.sql,
                    });
                    self.origins.push((full, Some(m.version)));
                }
                Ok(())
            }
            Err(e) if only.is_none() => Err(e),
            // Files outside a migration set (or that it does not hold): linted on their own.
            _ => {
                for f in only.into_iter().flatten() {
                    let text = std::fs::read_to_string(f).map_err(|e| Error::Io {
                        action: "read",
                        path: f.clone(),
                        source: e,
                    })?;
                    self.report.insert(f.clone());
                    self.sources.push(SourceText {
                        path: shown(f),
                        text,
                    });
                    self.origins.push((f.clone(), None));
                }
                Ok(())
            }
        }
    }

    /// `--changed-since REF`: reports only on files changed since `reference` (committed,
    /// staged, unstaged or untracked), and returns the files that existed at `reference` as
    /// deployed. Errors: not a git work tree, or `reference` unknown ([`crate::git`]).
    pub fn since(&mut self, root: &Path, reference: &str) -> Result<Deployed, Error> {
        let changed = crate::git::changed_files(root, reference)?;
        self.report.retain(|p| changed.contains(p));
        let existing = crate::git::files_at(root, reference)?;
        Ok(Deployed::Files(
            self.origins
                .iter()
                .map(|(p, _)| existing.contains(p))
                .collect(),
        ))
    }

    /// The files a target has applied, read from its history on `client` (another tool's history
    /// included when `set` is in that tool's layout): a file is deployed when its version is.
    pub async fn deployed_on(
        &self,
        client: &tokio_postgres::Client,
        set: Option<&MigrationSet>,
    ) -> Result<Deployed, Error> {
        let mut history = History::read(client).await?;
        if let Some(set) = set {
            strata::adopt::adopt_into(client, set, &mut history).await?;
        }
        let applied: BTreeSet<&Version> = history.applied.iter().map(|a| &a.version).collect();
        Ok(Deployed::Files(
            self.origins
                .iter()
                .map(|(_, v)| v.as_ref().is_some_and(|v| applied.contains(v)))
                .collect(),
        ))
    }
}
