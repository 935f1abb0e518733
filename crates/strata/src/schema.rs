//! Schema as code: declarative schema files (`supabase/schemas/*.sql`, or `schema_paths`) hold
//! the state the database should have; the migrations stay the history of how it got there.
//!
//! [`diff`] builds the migrations on one scratch database and the schema files on another,
//! captures both catalogs ([`crate::catalog`]) and writes the SQL that turns the first into the
//! second, and its rollback ([`crate::diff::sql`]). Renames are never guessed: a
//! `-- strata:renamed-from OLD` comment in a schema file says that a table or column was renamed
//! ([`SchemaFiles::renames`]), and the rename runs before the rest of the change, so the data
//! stays. A table or column the change would drop is listed in [`SchemaDiff::data_loss`].
//!
//! [`prove`] checks a change before anything is written: on a third scratch database it applies
//! the migrations and the change as a push would, and the catalog must equal the one the schema
//! files build (a second diff is empty); then it applies the rollback, and the catalog must
//! equal the one the migrations build. Every scratch database is dropped whatever happens.
//!
//! Column order is not compared: PostgreSQL cannot move a column, so a column a schema file adds
//! in the middle of a table is added at its end by any migration.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{Catalog, Kind};
use crate::diff::{compare, Difference, Scope, Sides, Status};
use crate::error::Error;
use crate::history::quote_literal;
use crate::platform::Platform;
use crate::quote::ident;
use crate::scratch::ScratchDb;
use crate::source::{Migration, MigrationSet, Version};

/// The marker of a rename hint in a schema file: `-- strata:renamed-from OLD`.
pub const RENAMED_FROM: &str = "strata:renamed-from";

/// The sides of a schema diff, for messages.
pub const SCHEMA_SIDES: Sides<'static> = Sides {
    left: "migrations",
    right: "schema files",
    only_left: "only in the migrations",
    only_right: "only in the schema files",
};

/// One schema file and its text.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub path: PathBuf,
    pub sql: String,
}

/// The schema files, in the order they apply.
#[derive(Debug, Clone, Default)]
pub struct SchemaFiles {
    pub files: Vec<SchemaFile>,
}

/// A rename a schema file declares with `-- strata:renamed-from OLD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    /// `table` or `column`.
    pub kind: Kind,
    /// The table, schema-qualified, as the schema files name it (after any table rename).
    pub table: String,
    /// The old name: a table's (unqualified, same schema) or a column's.
    pub from: String,
    /// The new name.
    pub to: String,
    /// Where the hint is.
    pub file: PathBuf,
    pub line: usize,
}

impl Rename {
    /// The statement that performs it.
    pub fn sql(&self) -> String {
        let (schema, table) = split_qualified(&self.table);
        match self.kind {
            Kind::Table => format!(
                "ALTER TABLE {}.{} RENAME TO {};",
                ident(schema),
                ident(&self.from),
                ident(table)
            ),
            _ => format!(
                "ALTER TABLE {}.{} RENAME COLUMN {} TO {};",
                ident(schema),
                ident(table),
                ident(&self.from),
                ident(&self.to)
            ),
        }
    }

    /// The statement that undoes it.
    pub fn undo_sql(&self) -> String {
        let (schema, table) = split_qualified(&self.table);
        match self.kind {
            Kind::Table => format!(
                "ALTER TABLE {}.{} RENAME TO {};",
                ident(schema),
                ident(table),
                ident(&self.from)
            ),
            _ => format!(
                "ALTER TABLE {}.{} RENAME COLUMN {} TO {};",
                ident(schema),
                ident(table),
                ident(&self.to),
                ident(&self.from)
            ),
        }
    }
}

/// Whether the migrations still have to carry out a rename.
enum RenameState {
    /// The old name exists and the new one does not.
    Pending,
    /// The new name exists and the old one does not: the migrations did it already.
    Done,
    /// Neither, or both.
    Unknown,
}

impl Rename {
    /// The catalog name of the object before the rename.
    fn old_id(&self) -> String {
        let (schema, table) = split_qualified(&self.table);
        match self.kind {
            Kind::Table => format!("{}.{}", ident(schema), ident(&self.from)),
            _ => format!("{}.{}.{}", ident(schema), ident(table), ident(&self.from)),
        }
    }

    /// The catalog name of the object after the rename.
    fn new_id(&self) -> String {
        let (schema, table) = split_qualified(&self.table);
        match self.kind {
            Kind::Table => format!("{}.{}", ident(schema), ident(table)),
            _ => format!("{}.{}.{}", ident(schema), ident(table), ident(&self.to)),
        }
    }

    /// Where the rename stands in what the migrations build; a column of a table that
    /// `table_renames` renames too is looked up under the table's old name.
    fn state_in(&self, catalog: &Catalog, table_renames: &[Rename]) -> RenameState {
        let has = |name: String| {
            catalog.objects.contains_key(&crate::catalog::ObjectId {
                kind: self.kind,
                name,
            })
        };
        let old_id = match table_renames
            .iter()
            .find(|t| self.kind == Kind::Column && t.table == self.table)
        {
            Some(t) => {
                let (schema, _) = split_qualified(&self.table);
                format!("{}.{}.{}", ident(schema), ident(&t.from), ident(&self.from))
            }
            None => self.old_id(),
        };
        match (has(old_id), has(self.new_id())) {
            (true, false) => RenameState::Pending,
            (false, true) => RenameState::Done,
            _ => RenameState::Unknown,
        }
    }
}

impl SchemaFiles {
    /// Reads `paths`, in order. Errors: a file that cannot be read.
    pub fn read(paths: &[PathBuf]) -> Result<SchemaFiles, Error> {
        let files = paths
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).map_err(|e| Error::io("read", p, e))?;
                let (sql, _) = crate::source::normalize(text);
                Ok(SchemaFile {
                    path: p.clone(),
                    sql,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(SchemaFiles { files })
    }

    /// The files as a migration set (versions 1, 2, … in their order), to build them on a
    /// scratch database as a push would: statement by statement where a statement cannot run
    /// in a transaction, errors located in the schema file.
    pub fn as_set(&self) -> MigrationSet {
        let width = self.files.len().to_string().len();
        let migrations = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let stem = f
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Migration::new(
                    Version::parse(&format!("{:0width$}", i + 1)).expect("digits"),
                    stem,
                    f.path.clone(),
                    f.sql.clone(),
                )
            })
            .collect();
        set_of(migrations, None)
    }

    /// The roles the files create (`CREATE ROLE|USER|GROUP name`), as written.
    pub fn created_roles(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.files {
            let Ok(statements) = crate::sql::split(&f.sql) else {
                continue;
            };
            for st in statements {
                if st.words.len() >= 3
                    && st.words[0] == "create"
                    && matches!(st.words[1].as_str(), "role" | "user" | "group")
                {
                    out.push(st.words[2].clone());
                }
            }
        }
        out
    }

    /// The consents to steps the lint gate flags ([`Consent`]), in file order. Errors: a
    /// directive with nothing to apply to, named at its line.
    pub fn consents(&self) -> Result<Vec<Consent>, Error> {
        let mut out = Vec::new();
        for f in &self.files {
            out.extend(consents_in(&f.path, &f.sql)?);
        }
        Ok(out)
    }

    /// The rename hints, in file order. A hint inside a `CREATE TABLE`'s parentheses renames the
    /// column defined on its line (a trailing comment) or on the next line that defines one; a
    /// hint outside renames the table created on its line or by the next `CREATE TABLE`.
    /// Errors: a hint without a name, or with nothing after it to rename.
    pub fn renames(&self) -> Result<Vec<Rename>, Error> {
        let mut out = Vec::new();
        for f in &self.files {
            out.extend(renames_in(&f.path, &f.sql)?);
        }
        Ok(out)
    }
}

/// A user's consent, written in a schema file, to a step the lint gate flags: a
/// `-- strata-lint: ignore RULE[,RULE…] [-- reason]` line before a table (or an index, policy
/// or `ALTER TABLE` of it) or inside a `CREATE TABLE` before a column. The change's statements
/// that touch that table (or column) carry the directive into the written migration, so the
/// push gate lets them pass; nothing else does (ARCHITECTURE.md, "Written files").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    /// The table, schema-qualified as the catalog names it (`public.notes`).
    pub table: String,
    /// The column, when the directive is inside the table's body.
    pub column: Option<String>,
    /// The directive's text after `strata-lint:` (`ignore breaking-rename-column -- …`).
    pub directive: String,
    pub file: PathBuf,
    pub line: usize,
}

/// The consents of one schema file ([`Consent`]). Errors: a directive with nothing after it
/// that it could apply to, or another verb than `ignore`, named at its line.
fn consents_in(path: &Path, sql: &str) -> Result<Vec<Consent>, Error> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let mut table: Option<String> = None;
    let mut depth: i32 = 0;
    let bad = |line: usize, problem: &str| {
        Error::SourceFile {
        path: path.to_path_buf(),
        problem: format!("line {line}: {problem}"),
        hint: Some("write `-- strata-lint: ignore RULE -- reason` on the line before the table's CREATE TABLE (or its index, policy or ALTER TABLE), or inside it on the line before the column".into()),
    }
    };
    for (i, line) in sql.lines().enumerate() {
        let n = i + 1;
        let (code, comment) = match line.find("--") {
            Some(at) => (&line[..at], Some(&line[at + 2..])),
            None => (line, None),
        };
        if let Some(d) = comment.and_then(|c| c.trim().strip_prefix("strata-lint:")) {
            let d = d.trim();
            if !d.starts_with("ignore ") {
                return Err(bad(n, "a schema file's strata-lint directive is `ignore RULE`: it is copied into the migration before the statements of the object it precedes"));
            }
            if pending.is_some() {
                return Err(bad(
                    n,
                    "a second strata-lint directive before the object of the first",
                ));
            }
            pending = Some((n, d.to_string()));
            continue;
        }
        if depth == 0 {
            if let Some(t) = created_table(code).or_else(|| statement_table(code)) {
                if let Some((at, directive)) = pending.take() {
                    out.push(Consent {
                        table: t.clone(),
                        column: None,
                        directive,
                        file: path.to_path_buf(),
                        line: at,
                    });
                }
                if created_table(code).is_some() {
                    table = Some(t);
                }
            } else if !code.trim().is_empty() && pending.is_some() {
                let (at, _) = pending.take().expect("some");
                return Err(bad(at, "this strata-lint directive is not followed by a table, a column, an index, a policy or an ALTER TABLE"));
            }
        } else if let (Some(t), Some(column)) = (&table, defined_column(code)) {
            if depth == 1 {
                if let Some((at, directive)) = pending.take() {
                    out.push(Consent {
                        table: t.clone(),
                        column: Some(column),
                        directive,
                        file: path.to_path_buf(),
                        line: at,
                    });
                }
            }
        }
        let before = depth;
        for c in code.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
        }
        if before > 0 && depth <= 0 {
            depth = 0;
            table = None;
        }
    }
    if let Some((at, _)) = pending {
        return Err(bad(at, "nothing follows this strata-lint directive"));
    }
    Ok(out)
}

/// The table an `ALTER TABLE t`, `CREATE [UNIQUE] INDEX … ON t` or `CREATE POLICY … ON t` line
/// names, schema-qualified.
fn statement_table(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let name = if lower.first().map(String::as_str) == Some("alter")
        && lower.get(1).map(String::as_str) == Some("table")
    {
        let mut i = 2;
        while matches!(
            lower.get(i).map(String::as_str),
            Some("if" | "exists" | "only")
        ) {
            i += 1;
        }
        words.get(i)?
    } else if lower.first().map(String::as_str) == Some("create")
        && lower.iter().any(|w| w == "index" || w == "policy")
    {
        let on = lower.iter().position(|w| w == "on")?;
        let mut i = on + 1;
        if lower.get(i).map(String::as_str) == Some("only") {
            i += 1;
        }
        words.get(i)?
    } else {
        return None;
    };
    let name: String = name.chars().take_while(|c| *c != '(').collect();
    let mut parts = name.splitn(2, '.').map(normalize_ident);
    let first = parts.next()?;
    Some(match parts.next() {
        Some(t) => format!("{first}.{t}"),
        None => format!("public.{first}"),
    })
}

/// `steps` with each consent's directive before every statement that touches its table (and
/// column): the one way a written migration carries a step the lint gate flags.
fn with_consents(steps: Vec<Step>, consents: &[Consent]) -> Vec<Step> {
    if consents.is_empty() {
        return steps;
    }
    let touches = |st: &str, c: &Consent| {
        let (schema, table) = split_qualified(&c.table);
        let qualified = format!("{}.{}", ident(schema), ident(table));
        let code = code_of(st);
        mentions(code, &qualified)
            && c.column
                .as_ref()
                .is_none_or(|col| mentions(code, &ident(col)))
    };
    steps
        .into_iter()
        .map(|mut step| {
            let Ok(split) = crate::sql::split(&step.sql) else {
                return step;
            };
            let mut out = String::new();
            let mut at = 0;
            for st in &split {
                let text = st.text(&step.sql);
                let start = step.sql[at..].find(text).map_or(at, |i| at + i);
                out.push_str(&step.sql[at..start]);
                for c in consents.iter().filter(|c| touches(text, c)) {
                    // Named relative to where Strata runs (the project), not by machine path.
                    let file = std::env::current_dir()
                        .ok()
                        .and_then(|d| c.file.strip_prefix(d).ok().map(Path::to_path_buf))
                        .unwrap_or_else(|| c.file.clone());
                    out.push_str(&format!(
                        "-- strata-lint: {} (from {}:{})\n",
                        c.directive,
                        file.display(),
                        c.line
                    ));
                }
                out.push_str(text);
                at = start + text.len();
            }
            out.push_str(&step.sql[at..]);
            step.sql = out;
            step
        })
        .collect()
}

/// What `strata schema diff` finds.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaDiff {
    /// How the schema files differ from what the migrations build (after the declared renames).
    pub differences: Vec<Difference>,
    /// The renames declared in the schema files, performed first.
    pub renames: Vec<Rename>,
    /// The SQL that turns the migrations' database into the schema files' (renames first).
    pub sql: String,
    /// Its rollback.
    pub rollback_sql: String,
    /// Tables and columns the change drops (their rows or values are lost).
    pub data_loss: Vec<String>,
    /// The change as migrations, in order: one in a transaction, then (for indexes on tables
    /// that exist) one that runs outside any ([`lock_safe`]). `sql`/`rollback_sql` are these
    /// joined.
    pub steps: Vec<Step>,
    /// Objects on either side that the comparison leaves out, by name: kinds the catalog does
    /// not model ([`Catalog::unmodelled`]) and roles the schema files create (cluster-wide:
    /// the scratch databases share them).
    pub unmodelled: Vec<String>,
    #[serde(skip)]
    before: Catalog,
    #[serde(skip)]
    after: Catalog,
    /// The role a scratch build captures as (`postgres`) and the one the catalogs name instead
    /// (the target's), for a change from a drift.
    #[serde(skip)]
    role: Option<(String, String)>,
}

impl SchemaDiff {
    /// Whether the schema files describe what the migrations build.
    pub fn is_empty(&self) -> bool {
        self.sql.trim().is_empty()
    }
}

/// Builds `set` and `files` on two scratch databases on `server` and compares them within
/// `scope`; runs the declared renames on the migrations' database first. Errors: either side
/// fails to build ([`Error::ScratchBuild`], located in its file); a rename hint names a table or
/// column the migrations do not have ([`Error::Unproven`]).
pub async fn diff(
    set: &MigrationSet,
    files: &SchemaFiles,
    platform: Platform,
    scratch: &crate::scratch::Scratch,
    scope: &Scope,
    safety: &Safety,
) -> Result<SchemaDiff, Error> {
    let renames = files.renames()?;
    // The schema files' side: built, captured and dropped on its own.
    let side_b = async {
        let to = ScratchDb::create(scratch, "schemato").await?;
        let built = async {
            let after =
                build_and_capture(&to, files.as_set(), platform, "the schema files").await?;
            let unmodelled = Catalog::unmodelled(&to.target().connect().await?).await?;
            Ok::<_, Error>((after, unmodelled))
        }
        .await;
        let dropped = to.drop_now().await;
        let out = built?;
        dropped?;
        Ok::<_, Error>(out)
    };
    // The migrations' side: built and captured; kept for the renames, which need both sides.
    let side_a = async {
        let from = ScratchDb::create(scratch, "schemafrom").await?;
        let built = async {
            let before = build_and_capture(&from, set.clone(), platform, "the migrations").await?;
            let unmodelled = Catalog::unmodelled(&from.target().connect().await?).await?;
            Ok::<_, Error>((before, unmodelled))
        }
        .await;
        match built {
            Ok(b) => Ok((from, b)),
            Err(e) => {
                let _ = from.drop_now().await;
                Err(e)
            }
        }
    };
    // On a shared scratch server builds take turns: one side after the other.
    let (b, a) = if scratch.takes_turns() {
        let b = side_b.await;
        (b, side_a.await)
    } else {
        tokio::join!(side_b, side_a)
    };
    let ((from, (before, unmodelled_a)), (after, unmodelled_b)) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (Ok((from, _)), Err(e)) => {
            let _ = from.drop_now().await;
            return Err(e);
        }
        (Err(e), _) => return Err(e),
    };
    let built = async {
        let mut unmodelled = unmodelled_a;
        unmodelled.extend(unmodelled_b);
        unmodelled.sort();
        unmodelled.dedup();
        // A hint the migrations already carried out (the old name gone, the new one there) is
        // done; one that names nothing the migrations have is an error.
        let mut renames = renames.clone();
        let mut stale = Vec::new();
        let table_renames: Vec<Rename> = renames
            .iter()
            .filter(|r| {
                r.kind == Kind::Table && matches!(r.state_in(&before, &[]), RenameState::Pending)
            })
            .cloned()
            .collect();
        renames.retain(|r| match r.state_in(&before, &table_renames) {
            RenameState::Pending => true,
            RenameState::Done => false,
            RenameState::Unknown => {
                stale.push(r.clone());
                false
            }
        });
        if let Some(r) = stale.first() {
            return Err(Error::Unproven {
                message: format!(
                    "{}:{}: the {RENAMED_FROM} hint renames {} {}, which the migrations do not build (nor {})",
                    r.file.display(),
                    r.line,
                    r.kind,
                    r.old_id(),
                    r.new_id()
                ),
                details: stale
                    .iter()
                    .map(|r| format!("{}:{}: {}", r.file.display(), r.line, r.sql()))
                    .collect(),
                hint: Some("the hint names the table's or column's old name, as the migrations create it; fix or remove it".into()),
            });
        }
        let mut extra: Vec<(String, String)> = Vec::new();
        let renamed = if renames.is_empty() {
            before.clone()
        } else {
            let client = from.target().connect().await?;
            let sql: String = renames.iter().map(|r| r.sql() + "\n").collect();
            if let Err(e) = client.batch_execute(&sql).await {
                let r = renames.first().expect("not empty");
                return Err(Error::Unproven {
                    message: format!(
                        "a {RENAMED_FROM} hint does not apply to what the migrations build: {}",
                        e.as_db_error()
                            .map(|d| d.message().to_string())
                            .unwrap_or_else(|| e.to_string())
                    ),
                    details: renames
                        .iter()
                        .map(|r| format!("{}:{}: {}", r.file.display(), r.line, r.sql()))
                        .collect(),
                    hint: Some(format!(
                        "a hint names the old name of a table or column the migrations create (e.g. {}:{}); fix or remove it",
                        r.file.display(),
                        r.line
                    )),
                });
            }
            let renamed = Catalog::capture(&client).await?;
            // The names PostgreSQL derived from a renamed table's name (`notes_pkey`) follow it
            // where the schema files use the new table's derived name (`memos_pkey`).
            let derived = derived_renames(&renames, &renamed, &after);
            if derived.is_empty() {
                renamed
            } else {
                let sql: String = derived.iter().map(|(s, _)| format!("{s}\n")).collect();
                client
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| Error::db("renaming what a renamed table's name named", e))?;
                extra = derived;
                Catalog::capture(&client).await?
            }
        };
        Ok::<_, Error>((before, renamed, after, renames, extra, unmodelled))
    }
    .await;
    let dropped = from.drop_now().await;
    let (mut before, mut renamed, mut after, renames, derived, mut unmodelled) = built?;
    // Roles are cluster-wide: scratch databases share them, so they are not compared.
    unmodelled.extend(
        files
            .created_roles()
            .into_iter()
            .map(|r| format!("role {r}")),
    );
    dropped?;
    scope.apply_all(&mut [&mut before, &mut renamed, &mut after]);
    for c in [&mut before, &mut renamed, &mut after] {
        forget_column_order(c);
    }
    let consents = files.consents()?;
    change(
        before, renamed, after, renames, derived, unmodelled, &consents, safety,
    )
}

/// The change from `before` (as `renamed` after the renames and the names they derive) to
/// `after`, in lock-safe steps.
#[allow(clippy::too_many_arguments)]
fn change(
    before: Catalog,
    renamed: Catalog,
    after: Catalog,
    renames: Vec<Rename>,
    derived: Vec<(String, String)>,
    unmodelled: Vec<String>,
    consents: &[Consent],
    safety: &Safety,
) -> Result<SchemaDiff, Error> {
    let differences = compare(&renamed, &after);
    let renames_sql: String = renames
        .iter()
        .map(|r| r.sql() + "\n")
        .chain(derived.iter().map(|(sql, _)| format!("{sql}\n")))
        .collect();
    let undo_sql: String = derived
        .iter()
        .rev()
        .map(|(_, undo)| format!("{undo}\n"))
        .chain(renames.iter().rev().map(|r| r.undo_sql() + "\n"))
        .collect();
    let forward = crate::diff::sql(&renamed, &after);
    let backward = crate::diff::sql(&after, &renamed);
    let join = |a: &str, b: &str| match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{}\n{}", a.trim_end(), b),
    };
    let dropped_tables: Vec<&str> = differences
        .iter()
        .filter(|d| d.kind == Kind::Table && d.status == Status::OnlyInMigrations)
        .map(|d| d.name.as_str())
        .collect();
    let data_loss = differences
        .iter()
        .filter(|d| d.status == Status::OnlyInMigrations)
        .filter(|d| match d.kind {
            Kind::Table => true,
            Kind::Column => !dropped_tables
                .iter()
                .any(|t| d.name.starts_with(&format!("{t}."))),
            _ => false,
        })
        .map(|d| format!("{} {}", d.kind, d.name))
        .collect();
    let sql = join(&renames_sql, &forward);
    let rollback_sql = join(&backward, &undo_sql);
    let steps = with_consents(lock_safe(&sql, &rollback_sql, &before, safety)?, consents);
    Ok(SchemaDiff {
        differences,
        sql: steps
            .iter()
            .map(|s| s.sql.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        rollback_sql: steps
            .iter()
            .rev()
            .map(|s| s.rollback_sql.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        renames,
        data_loss,
        steps,
        unmodelled,
        before,
        after,
        role: None,
    })
}

/// The change that brings what the migrations build up to what a database has (`strata diff
/// --write`): `drift`'s two catalogs (scoped, the migrations' role renamed to the target's),
/// in lock-safe steps, to be proven and written as [`write_proven`] does for schema files.
pub fn from_drift(drift: &crate::diff::Drift, safety: &Safety) -> Result<SchemaDiff, Error> {
    let (mut before, mut after) = (drift.expected.clone(), drift.actual.clone());
    forget_column_order(&mut before);
    forget_column_order(&mut after);
    let scratch_role = drift.scratch_role.clone();
    let target_role = before.role.clone();
    let mut change = change(
        before.clone(),
        before,
        after,
        Vec::new(),
        Vec::new(),
        Vec::new(),
        &[],
        safety,
    )?;
    change.role = Some((scratch_role, target_role));
    Ok(change)
}

/// How [`diff`] makes a change safe to run on a live database.
#[derive(Debug, Clone, Default)]
pub struct Safety {
    /// `SET LOCAL lock_timeout` at the top of the change (PostgreSQL syntax, e.g. `5s`); `None`:
    /// none is set.
    pub lock_timeout: Option<String>,
    /// Keep every step in one transaction: no `CREATE INDEX CONCURRENTLY` (for projects that
    /// also push with the Supabase CLI, which runs every file in a transaction).
    pub transaction_only: bool,
}

/// One migration of a change: its SQL, its rollback, and whether it runs in a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub sql: String,
    pub rollback_sql: String,
    pub transactional: bool,
}

/// The change in lock-safe steps, for tables that exist before it (new tables are empty, so
/// nothing waits on them):
///
/// - an index is built (or dropped) `CONCURRENTLY`, in a second migration that runs outside a
///   transaction (its rollback drops or builds it `CONCURRENTLY`), unless
///   [`Safety::transaction_only`];
/// - a foreign key or check is added `NOT VALID`, then validated (`VALIDATE CONSTRAINT` takes a
///   lock that lets reads and writes go on);
/// - `SET NOT NULL` follows PostgreSQL's documented path: a `CHECK (col IS NOT NULL) NOT VALID`,
///   validated, makes `SET NOT NULL` skip its full-table scan; the check is dropped after;
/// - `lock_timeout` is set first ([`Safety::lock_timeout`]), so a step that cannot get its lock
///   fails instead of queueing every query behind it.
///
/// These rules are the linter's (`strata lint`: require-concurrent-index-creation,
/// constraint-without-not-valid, set-not-null, lock-timeout).
pub fn lock_safe(
    sql: &str,
    rollback_sql: &str,
    before: &Catalog,
    safety: &Safety,
) -> Result<Vec<Step>, Error> {
    if sql.trim().is_empty() {
        return Ok(Vec::new());
    }
    let existing: std::collections::BTreeSet<String> = tables_of(before).into_iter().collect();
    let statements = |text: &str| -> Result<Vec<String>, Error> {
        let split = crate::sql::split(text).map_err(|e| Error::Unproven {
            message: format!("the generated SQL does not split into statements: {e}"),
            details: Vec::new(),
            hint: Some("report this with the schema files".into()),
        })?;
        Ok(split
            .iter()
            .filter(|st| st.code_start.is_some())
            .map(|st| format!("{};", st.text(text)))
            .collect())
    };
    let mut transactional = Vec::new();
    let mut concurrent = Vec::new();
    let mut concurrent_indexes = Vec::new();
    let forward = statements(sql)?;
    // Tables that lose a column: their indexes go with the column, in the transaction (the
    // rollback must add the column back before it rebuilds an index on it).
    let losing_columns: std::collections::BTreeSet<&str> = forward
        .iter()
        .filter_map(|st| {
            let body = code_of(st).strip_prefix("ALTER TABLE ")?;
            let (table, rest) = body.split_once(' ')?;
            rest.starts_with("DROP COLUMN").then_some(table)
        })
        .collect();
    // Indexes of tables that exist (and keep their columns): dropped concurrently too; their
    // rollback builds them again, concurrently.
    let existing_indexes: std::collections::BTreeSet<String> = before
        .objects
        .iter()
        .filter(|(id, o)| {
            id.kind == Kind::Index
                && o.parent
                    .as_ref()
                    .is_some_and(|p| existing.contains(p) && !losing_columns.contains(p.as_str()))
        })
        .map(|(id, _)| id.name.clone())
        .collect();
    let mut recreated_indexes = Vec::new();
    for st in forward.clone() {
        if let Some(index) = dropped_index(&st) {
            if existing_indexes.contains(&index) && !safety.transaction_only {
                concurrent.push(st.replacen("DROP INDEX ", "DROP INDEX CONCURRENTLY ", 1));
                recreated_indexes.push(index);
                continue;
            }
        }
        if let Some((index, table)) = created_index(&st) {
            if existing.contains(&table) && !safety.transaction_only {
                concurrent.push(st.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1));
                concurrent_indexes.push(index);
                continue;
            }
            if existing.contains(&table) {
                // The project's consent, in strata.toml, to a blocking build.
                transactional.push(format!(
                    "-- strata-lint: ignore index-without-concurrently -- [schema] transaction_only = true: built in the transaction, writes to {table} wait while it builds\n{st}"
                ));
                continue;
            }
        }
        if let Some((table, column)) = set_not_null(&st) {
            if existing.contains(&table) {
                let check = ident(&format!("{}_not_null_check", column.trim_matches('"')));
                transactional.push(format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID;"
                ));
                transactional.push(format!("ALTER TABLE {table} VALIDATE CONSTRAINT {check};"));
                transactional.push(st);
                transactional.push(format!("ALTER TABLE {table} DROP CONSTRAINT {check};"));
                continue;
            }
        }
        if let Some((table, constraint, at)) = added_constraint(&st) {
            if existing.contains(&table) {
                let mut not_valid = st.clone();
                not_valid.insert_str(at, " NOT VALID");
                transactional.push(not_valid);
                transactional.push(format!(
                    "ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};"
                ));
                continue;
            }
        }
        transactional.push(st);
    }
    let mut rollback = Vec::new();
    let mut concurrent_rollback = Vec::new();
    for st in statements(rollback_sql)? {
        match (dropped_index(&st), created_index(&st)) {
            (Some(index), _) if concurrent_indexes.contains(&index) => {
                concurrent_rollback.push(st.replacen("DROP INDEX ", "DROP INDEX CONCURRENTLY ", 1))
            }
            (_, Some((index, _))) if recreated_indexes.contains(&index) => {
                concurrent_rollback.push(st.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1))
            }
            _ => rollback.push(st),
        }
    }
    let timeout = |local: bool| {
        safety.lock_timeout.as_ref().map(|t| {
            format!(
                "SET {}lock_timeout = {};\n",
                if local { "LOCAL " } else { "" },
                quote_literal(t)
            )
        })
    };
    let mut steps = Vec::new();
    if !transactional.is_empty() || concurrent.is_empty() {
        steps.push(Step {
            sql: format!(
                "{}{}\n",
                timeout(true).unwrap_or_default(),
                transactional.join("\n")
            ),
            rollback_sql: format!("{}\n", rollback.join("\n")),
            transactional: true,
        });
    }
    if !concurrent.is_empty() {
        steps.push(Step {
            sql: format!(
                "-- Indexes on tables in use, built without blocking writes: this file runs outside a\n-- transaction (CREATE INDEX CONCURRENTLY cannot run in one).\n{}{}\n",
                timeout(false).unwrap_or_default(),
                concurrent.join("\n")
            ),
            rollback_sql: format!("{}\n", concurrent_rollback.join("\n")),
            transactional: false,
        });
    }
    Ok(steps)
}

/// A statement without the comment lines before it (the differ explains some statements).
fn code_of(st: &str) -> &str {
    let mut rest = st.trim_start();
    while rest.starts_with("--") {
        rest = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    rest
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON [ONLY] table …` → (index, table), both
/// qualified as the catalog names them (the index in the table's schema).
fn created_index(st: &str) -> Option<(String, String)> {
    let words: Vec<&str> = words_outside_quotes(code_of(st));
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let mut i = 0;
    if upper.get(i)? != "CREATE" {
        return None;
    }
    i += 1;
    if upper.get(i)? == "UNIQUE" {
        i += 1;
    }
    if upper.get(i)? != "INDEX" {
        return None;
    }
    i += 1;
    if upper.get(i)? == "IF" {
        i += 3;
    }
    let index = words.get(i)?.to_string();
    i += 1;
    if upper.get(i)? != "ON" {
        return None;
    }
    i += 1;
    if upper.get(i)? == "ONLY" {
        return None; // a partitioned table's parent index: no CONCURRENTLY
    }
    let table = words.get(i)?.to_string();
    let schema = table.split('.').next()?;
    Some((format!("{schema}.{index}"), table))
}

/// The whitespace-separated words of `text`, a `"quoted identifier"` holding spaces kept whole.
fn words_outside_quotes(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        if c.is_whitespace() && !quoted {
            if let Some(s) = start.take() {
                out.push(&text[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// `DROP INDEX [IF EXISTS] name` → the index.
fn dropped_index(st: &str) -> Option<String> {
    let body = code_of(st).trim_end_matches(';');
    let rest = body
        .strip_prefix("DROP INDEX IF EXISTS ")
        .or_else(|| body.strip_prefix("DROP INDEX "))?;
    Some(rest.trim().to_string())
}

/// `ALTER TABLE t ALTER COLUMN c SET NOT NULL` → (t, c).
fn set_not_null(st: &str) -> Option<(String, String)> {
    let body = code_of(st)
        .trim_end_matches(';')
        .strip_prefix("ALTER TABLE ")?;
    let (table, rest) = body.split_once(" ALTER COLUMN ")?;
    let column = rest.strip_suffix(" SET NOT NULL")?;
    Some((table.to_string(), column.to_string()))
}

/// The guarded `ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY|CHECK …;` the differ writes →
/// (t, c, where ` NOT VALID` goes); `None` for other constraints or one already `NOT VALID`.
fn added_constraint(st: &str) -> Option<(String, String, usize)> {
    let at = st.find("ALTER TABLE ")?;
    let body = &st[at + "ALTER TABLE ".len()..];
    let (table, rest) = body.split_once(" ADD CONSTRAINT ")?;
    let (constraint, definition) = rest.split_once(' ')?;
    if !(definition.starts_with("FOREIGN KEY") || definition.starts_with("CHECK")) {
        return None;
    }
    let end = definition.find(";\n")?;
    let definition = &definition[..end];
    if definition.ends_with("NOT VALID") {
        return None;
    }
    let semicolon =
        st.len() - body.len() + table.len() + " ADD CONSTRAINT ".len() + constraint.len() + 1 + end;
    Some((table.to_string(), constraint.to_string(), semicolon))
}

/// How much a database holds of what `change` drops: per entry of
/// [`SchemaDiff::data_loss`], the rows of a dropped table or the non-null values of a dropped
/// column there; `None` where it does not exist on that database. Read-only.
pub async fn data_at_risk(
    client: &tokio_postgres::Client,
    change: &SchemaDiff,
) -> Result<Vec<(String, Option<i64>)>, Error> {
    let mut out = Vec::new();
    for item in &change.data_loss {
        let query = if let Some(table) = item.strip_prefix("table ") {
            Some((table.to_string(), format!("select count(*) from {table}")))
        } else if let Some(column) = item.strip_prefix("column ") {
            column.rsplit_once('.').map(|(table, col)| {
                (
                    table.to_string(),
                    format!("select count({col}) from {table}"),
                )
            })
        } else {
            None
        };
        let Some((table, query)) = query else {
            out.push((item.clone(), None));
            continue;
        };
        let exists: bool = client
            .query_one("select to_regclass($1) is not null", &[&table])
            .await
            .map_err(|e| Error::db("checking what the change drops", e))?
            .get(0);
        let n = if exists {
            match client.query_one(&query, &[]).await {
                Ok(row) => Some(row.get::<_, i64>(0)),
                // The column is not there (a database behind the migrations).
                Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN) => {
                    None
                }
                Err(e) => return Err(Error::db("counting what the change drops", e)),
            }
        } else {
            None
        };
        out.push((item.clone(), n));
    }
    Ok(out)
}

/// What [`prove`] checked.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    /// The migrations plus the change build what the schema files build.
    pub converges: bool,
    /// The rollback brings back what the migrations build.
    pub rolls_back: bool,
    /// The tables whose rows (from the seed and the migrations) the change kept.
    pub rows: Vec<TableRows>,
    /// Tables the change alters that had no rows to prove it on.
    pub unproven_tables: Vec<String>,
}

/// Proves `change` on a scratch database on `server`: the migrations of `set` and the `seeds`,
/// then the change as migration `version` (applied as a push applies it), must build what the
/// schema files build, and keep the rows: every table that had rows has as many after the change
/// (a table or column the change drops aside), with the same content where the table's columns
/// did not change. Then its rollback must bring back what the migrations build. Errors: a step
/// fails ([`Error::ScratchBuild`]) or a check fails ([`Error::Unproven`], listing the
/// differences); the scratch database is dropped either way.
pub async fn prove(
    set: &MigrationSet,
    change: &SchemaDiff,
    versions: &[Version],
    platform: Platform,
    scratch: &crate::scratch::Scratch,
    scope: &Scope,
    seeds: &[crate::apply::SeedFile],
) -> Result<Proof, Error> {
    let scratch = ScratchDb::create(scratch, "schemaproof").await?;
    let result = async {
        // The migrations and the seed: the rows the change must keep.
        scratch
            .build_seeded(set.clone(), platform, seeds.to_vec())
            .await
            .map_err(|e| rename_purpose(e, "the migrations and the seed"))?;
        let client = scratch.target().connect().await?;
        let tables_before: Vec<String> = tables_of(&change.before);
        let rows_before = crate::scratch::table_rows(&client, &tables_before).await?;
        drop(client);
        let mut with_change = set.clone();
        for (i, (step, version)) in change.steps.iter().zip(versions).enumerate() {
            with_change.migrations.push(Migration::new(
                version.clone(),
                "generated_change",
                PathBuf::from(format!(
                    "<generated change{}, not written>",
                    if change.steps.len() > 1 {
                        format!(" {} of {}", i + 1, change.steps.len())
                    } else {
                        String::new()
                    }
                )),
                step.sql.clone(),
            ));
        }
        // The migrations and the seed are in already: what fails now is the generated change.
        let mut applied =
            build_and_capture(&scratch, with_change, platform, "the migrations and the change")
                .await
                .map_err(|e| match e {
                    Error::ScratchBuild { error, .. } => Error::Unproven {
                        message: format!(
                            "the generated change fails on the rows of the migrations and the seed: {error}; nothing was written"
                        ),
                        details: Vec::new(),
                        hint: Some("a step the data does not allow (SET NOT NULL on rows that are NULL, a new unique key they repeat): write this change by hand (`strata migration new`), moving the data first".into()),
                    },
                    other => other,
                })?;
        if let Some((from, to)) = &change.role {
            applied.rename_role(from, to);
        }
        scope.apply(&mut applied);
        forget_column_order(&mut applied);
        same_catalog(&change.after, &applied, "the generated migration does not build what the schema files describe; nothing was written", Sides {
                    left: "schema files",
                    right: "migrations + change",
                    only_left: "only in the schema files",
                    only_right: "only after the change",
                })?;
        let client = scratch.target().connect().await?;
        let rows_after = crate::scratch::table_rows(&client, &tables_of(&change.after)).await?;
        let rows = check_rows(change, &rows_before, &rows_after)?;
        for step in change.steps.iter().rev() {
            if step.transactional {
                run_rollback(
                    &client,
                    &step.rollback_sql,
                    "the generated rollback",
                    Some("report this with the schema files: the rollback should undo the change"),
                )
                .await?;
            } else {
                // Outside a transaction, one statement at a time (as a push runs such a file).
                for st in crate::sql::split(&step.rollback_sql).unwrap_or_default() {
                    if st.code_start.is_none() {
                        continue;
                    }
                    client
                        .batch_execute(st.text(&step.rollback_sql))
                        .await
                        .map_err(|e| Error::db("running the generated rollback", e))?;
                }
            }
        }
        let mut rolled_back = Catalog::capture(&client).await?;
        if let Some((from, to)) = &change.role {
            rolled_back.rename_role(from, to);
        }
        scope.apply(&mut rolled_back);
        forget_column_order(&mut rolled_back);
        same_catalog(&change.before, &rolled_back, "the generated rollback does not bring back what the migrations build; nothing was written", Sides {
                    left: "migrations",
                    right: "after the rollback",
                    only_left: "only before the change",
                    only_right: "only after the rollback",
                })?;
        // Tables the change alters that had no rows to prove it on.
        let changed = changed_tables(change);
        let unproven_tables = changed
            .into_iter()
            .filter(|t| !rows_before.contains_key(t) && change.before.objects.keys().any(|id| id.kind == Kind::Table && &id.name == t))
            .collect();
        Ok::<_, Error>(Proof {
            converges: true,
            rolls_back: true,
            rows,
            unproven_tables,
        })
    }
    .await;
    let dropped = scratch.drop_now().await;
    let proof = result?;
    dropped?;
    Ok(proof)
}

/// The tables of `catalog` (qualified names as the catalog writes them).
fn tables_of(catalog: &Catalog) -> Vec<String> {
    catalog
        .objects
        .keys()
        .filter(|id| id.kind == Kind::Table)
        .map(|id| id.name.clone())
        .collect()
}

/// The tables (as named before the change) whose columns the change alters: a column added,
/// dropped, renamed or changed.
fn changed_tables(change: &SchemaDiff) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for d in &change.differences {
        if d.kind == Kind::Column {
            if let Some((table, _)) = d.name.rsplit_once('.') {
                out.insert(before_name(change, table));
            }
        }
    }
    for r in &change.renames {
        let (schema, table) = split_qualified(&r.table);
        out.insert(match r.kind {
            Kind::Table => r.old_id(),
            _ => before_name(change, &format!("{}.{}", ident(schema), ident(table))),
        });
    }
    out
}

/// A table's name before the change's table renames.
fn before_name(change: &SchemaDiff, table: &str) -> String {
    table_renamed(change, table, Rename::new_id, Rename::old_id)
}

/// A table's name after the change's table renames.
fn after_name(change: &SchemaDiff, table: &str) -> String {
    table_renamed(change, table, Rename::old_id, Rename::new_id)
}

/// `table` mapped through the change's table renames: the rename whose `from` name is `table`
/// gives its `to` name; any other table keeps its name.
fn table_renamed(
    change: &SchemaDiff,
    table: &str,
    from: fn(&Rename) -> String,
    to: fn(&Rename) -> String,
) -> String {
    change
        .renames
        .iter()
        .filter(|r| r.kind == Kind::Table)
        .find(|r| from(r) == table)
        .map_or_else(|| table.to_string(), to)
}

/// Checks that the change kept every table's rows: as many, and the same content where the
/// table's columns did not change. Tables the change drops are its declared data loss.
fn check_rows(
    change: &SchemaDiff,
    before: &crate::scratch::Rows,
    after: &crate::scratch::Rows,
) -> Result<Vec<TableRows>, Error> {
    let changed = changed_tables(change);
    let dropped: Vec<String> = change
        .data_loss
        .iter()
        .filter_map(|d| d.strip_prefix("table ").map(str::to_string))
        .collect();
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for (table, rows) in before {
        if dropped.contains(table) {
            continue;
        }
        let now = after_name(change, table);
        let kept = after.get(&now).cloned().unwrap_or_default();
        let content = !changed.contains(table);
        if kept.len() != rows.len() {
            problems.push(format!(
                "table {table}: {} row(s) before the change, {} after",
                rows.len(),
                kept.len()
            ));
        } else if content && &kept != rows {
            problems.push(format!(
                "table {table}: the rows' content changed though its columns did not"
            ));
        }
        checked.push(TableRows {
            table: now,
            rows: rows.len(),
            content,
        });
    }
    if !problems.is_empty() {
        return Err(Error::Unproven {
            message: "the generated migration does not keep the rows of the seed and the migrations; nothing was written".into(),
            details: problems,
            hint: Some("write this change by hand (`strata migration new`), moving the rows as it needs".into()),
        });
    }
    Ok(checked)
}

/// A table whose rows [`prove`] checked.
#[derive(Debug, Clone, Serialize)]
pub struct TableRows {
    /// The table, as named after the change.
    pub table: String,
    /// How many rows it had (and has).
    pub rows: usize,
    /// Whether their content was compared too (its columns did not change).
    pub content: bool,
}

/// The error of a failed build, naming what was built.
fn rename_purpose(e: Error, what: &str) -> Error {
    match e {
        Error::ScratchBuild {
            database, error, ..
        } => Error::ScratchBuild {
            purpose: format!("strata schema ({what})"),
            database,
            error,
        },
        other => other,
    }
}

/// Where and how [`write_proven`] writes the change.
#[derive(Clone)]
pub struct WriteOptions<'a> {
    /// The migrations directory.
    pub dir: &'a Path,
    /// Where the rollback file goes (`None`: beside the migration).
    pub rollbacks_dir: Option<&'a Path>,
    /// The migration's name (`[action]_[subject]`).
    pub name: &'a str,
    /// The header's author line.
    pub author: &'a str,
    /// The moment that gives the version.
    pub now: time::OffsetDateTime,
    /// Whether a change that drops tables or columns may be written.
    pub allow_data_loss: bool,
    /// The seed files loaded before the change, whose rows it must keep.
    pub seeds: &'a [crate::apply::SeedFile],
    /// The check the written files pass first ([`crate::author::WrittenCheck`]).
    pub check: &'a dyn crate::author::WrittenCheck,
    /// The directory's layout: another tool's gets the change in that tool's shape
    /// ([`crate::author::layout_files`]).
    pub layout: crate::source::Layout,
}

/// Writes `change` as `<timestamp>_<name>.sql` and its rollback — and, when it has a step that
/// runs outside a transaction, `<timestamp + 1 s>_<name>_concurrently.sql` and its rollback —
/// after refusing data loss
/// without [`WriteOptions::allow_data_loss`] and proving it ([`prove`]). Nothing is written
/// when either fails. Errors: [`Error::Unproven`] (data loss, or a proof that fails), an
/// invalid name ([`crate::author::check_name`]), the files cannot be written.
pub async fn write_proven(
    set: &MigrationSet,
    change: &SchemaDiff,
    platform: Platform,
    scratch: &crate::scratch::Scratch,
    scope: &Scope,
    options: &WriteOptions<'_>,
) -> Result<(Proof, Vec<crate::author::NewMigration>), Error> {
    crate::author::check_name(options.name)?;
    if !change.data_loss.is_empty() && !options.allow_data_loss {
        return Err(Error::Unproven {
            message: format!(
                "the change drops {} table(s) or column(s) and their data; nothing was written",
                change.data_loss.len()
            ),
            details: change.data_loss.clone(),
            hint: Some(format!(
                "if it is a rename, say so (in a schema file: `-- {RENAMED_FROM} OLD_NAME`); if the data may go, run again with --allow-data-loss"
            )),
        });
    }
    // After the newest migration (the files written since `set` was read included): a change
    // written within a second of the last one starts a second later.
    let start = crate::author::after_newest(set, options.dir, options.now);
    let moments: Vec<time::OffsetDateTime> = (0..change.steps.len().max(1))
        .map(|i| start + time::Duration::seconds(i as i64))
        .collect();
    let versions: Vec<Version> = moments
        .iter()
        .map(|m| crate::author::version_at(*m))
        .collect();
    let version = versions[0].clone();
    if let Some(newest) = set.migrations.last().filter(|m| m.version >= version) {
        return Err(Error::setting(
            "--write",
            format!(
                "the new migration's version {version} would not come after {} ({}): is the clock behind?",
                newest.version,
                newest.path.display()
            ),
        ));
    }
    let proof = prove(
        set,
        change,
        &versions,
        platform,
        scratch,
        scope,
        options.seeds,
    )
    .await?;
    let mut files = Vec::new();
    let mut written = Vec::new();
    for (i, step) in change.steps.iter().enumerate() {
        let name = if step.transactional {
            options.name.to_string()
        } else {
            format!("{}_concurrently", options.name)
        };
        let step_files = if options.layout.is_tool() {
            if !step.transactional {
                return Err(Error::Setting {
                    setting: "[schema] transaction_only".into(),
                    message: format!(
                        "the change builds or drops indexes on tables in use CONCURRENTLY, which needs a migration outside a transaction; in {}'s layout Strata writes the change as one file, which that tool runs in a transaction; nothing was written",
                        options.layout.name()
                    ),
                    hint: Some("set [schema] transaction_only = true in strata.toml to build them in the transaction (writes to the table wait while each builds; the lint gate asks for `-- strata-lint: ignore index-without-concurrently -- <reason>` in the schema file), or write that part by hand".into()),
                });
            }
            // The only step: a tool's layout gets no second, non-transactional one (above).
            crate::author::layout_files(
                set,
                options.dir,
                options.layout,
                &name,
                moments[i],
                true,
                &step.sql,
                &step.rollback_sql,
            )?
        } else {
            crate::author::migration_files(
                options.dir,
                options.rollbacks_dir,
                &versions[i],
                &name,
                options.author,
                moments[i],
                &step.sql,
                &step.rollback_sql,
            )?
        };
        written.push(crate::author::written(&step_files, None));
        files.extend(step_files);
    }
    // Not some steps without the others: all files or none; and, under the directory's lock,
    // still after every migration there (another may have been written during the proof).
    let _lock = crate::author::lock_directory(options.dir)?;
    if let Some(newest) =
        crate::author::newest_version(set, options.dir).filter(|n| *n >= versions[0])
    {
        return Err(Error::Setting {
            setting: "--write".into(),
            message: format!(
                "a migration with version {newest} appeared in {} while the change was proven; nothing was written",
                options.dir.display()
            ),
            hint: Some("run the same command again: the change is proven after it".into()),
        });
    }
    crate::author::write_files(set, &files, options.check)?;
    Ok((proof, written))
}

/// Runs `sql` (a rollback) in one transaction on `client`; a failure is [`Error::Unproven`]
/// naming `what` ("the generated rollback"): nothing is written when a rollback does not run.
pub(crate) async fn run_rollback(
    client: &tokio_postgres::Client,
    sql: &str,
    what: &str,
    hint: Option<&str>,
) -> Result<(), Error> {
    client
        .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
        .await
        .map_err(|e| Error::Unproven {
            message: format!(
                "{what} fails on a scratch database: {}; nothing was written",
                e.as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| e.to_string())
            ),
            details: Vec::new(),
            hint: hint.map(str::to_string),
        })
}

/// `Ok` when `actual` equals `expected`; else [`Error::Unproven`] with `message` and the
/// differences, the sides named by `sides`.
fn same_catalog(
    expected: &Catalog,
    actual: &Catalog,
    message: &str,
    sides: Sides<'_>,
) -> Result<(), Error> {
    let differences = compare(expected, actual);
    if differences.is_empty() {
        return Ok(());
    }
    Err(unproven(message, &differences, sides))
}

fn unproven(message: &str, differences: &[Difference], sides: Sides<'_>) -> Error {
    Error::Unproven {
        message: message.into(),
        details: differences.iter().map(|d| d.describe(sides)).collect(),
        hint: Some(
            "an object kind the differ does not model, or a change it writes wrongly: write this part of the migration by hand (`strata migration new`)"
                .into(),
        ),
    }
}

async fn build_and_capture(
    scratch: &ScratchDb,
    set: MigrationSet,
    platform: Platform,
    what: &str,
) -> Result<Catalog, Error> {
    scratch
        .build(set, platform)
        .await
        .map_err(|e| rename_purpose(e, what))?;
    let client = scratch.target().connect().await?;
    Catalog::capture(&client).await
}

/// One schema file [`dump_files`] writes: its name (no directory) and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpFile {
    pub name: String,
    pub sql: String,
}

/// The header of every dumped file.
const DUMP_HEADER: &str = "-- Written by `strata schema dump`: the state the database should have. Edit it, then\n-- `strata schema diff --write NAME` writes (and proves) the migration that gets there.\n";

/// `catalog` as schema files that apply with plain `psql -f` in the lexical order of their
/// names, foreign-key cycles included:
///
/// - `00_schemas.sql` (schemas, extensions, default privileges: in place before the objects
///   they apply to), `01_types.sql` (types, sequences),
///   `02_functions.sql` (functions and procedures, with `check_function_bodies` off as
///   `pg_dump` does, so a function may name tables created later);
/// - `10_<schema>.<table>.sql`, one per table: its columns, constraints other than foreign
///   keys, indexes, triggers, grants, comments, and the policies that read only that table —
///   also for a platform table (`storage.objects`, `auth.users`) that only has the project's
///   policies or triggers;
/// - `30_views.sql`, then `40_references.sql`: foreign keys, sequence ownership, and policies
///   that read other tables, once every table exists;
/// - `50_other.sql` (publications, event triggers, other comments),
///   `60_storage_buckets.sql` (Supabase storage buckets).
///
/// Files are left out when they would be empty.
pub fn dump_files(catalog: &Catalog) -> Vec<DumpFile> {
    let tables: std::collections::BTreeSet<&str> = catalog
        .objects
        .iter()
        .filter(|(id, _)| id.kind == Kind::Table)
        .map(|(id, _)| id.name.as_str())
        .collect();
    let relations: Vec<(&str, String)> = catalog
        .objects
        .iter()
        .filter(|(id, _)| matches!(id.kind, Kind::Table | Kind::View))
        .map(|(id, o)| (id.name.as_str(), normalize_ident(&o.local)))
        .collect();
    let mut files: std::collections::BTreeMap<String, String> = Default::default();
    for (id, sql) in crate::diff::create_statements(catalog) {
        let o = catalog.objects.get(&id);
        let parent = o.and_then(|o| o.parent.as_deref());
        let table_file = |t: &str| format!("10_{}.sql", file_safe(t));
        let file = match id.kind {
            Kind::Schema | Kind::Extension => "00_schemas.sql".to_string(),
            Kind::Type => "01_types.sql".to_string(),
            Kind::Sequence if sql.contains(" OWNED BY ") => "40_references.sql".to_string(),
            Kind::Sequence => "01_types.sql".to_string(),
            Kind::Function => "02_functions.sql".to_string(),
            Kind::Table | Kind::Column => table_file(
                parent
                    .filter(|_| id.kind == Kind::Column)
                    .unwrap_or(&id.name),
            ),
            Kind::Constraint if o.and_then(|o| o.prop("type")) == Some("f") => {
                "40_references.sql".to_string()
            }
            Kind::Policy => {
                let own = parent.unwrap_or("");
                let reads_others = o.is_some_and(|o| {
                    [o.prop("using"), o.prop("with_check")]
                        .into_iter()
                        .flatten()
                        .any(|expr| {
                            relations
                                .iter()
                                .any(|(q, local)| *q != own && mentions(expr, local))
                        })
                });
                if reads_others {
                    "40_references.sql".to_string()
                } else {
                    table_file(own)
                }
            }
            Kind::Constraint | Kind::Index | Kind::Trigger | Kind::Comment => match parent {
                Some(t) if tables.contains(t) || !relations.iter().any(|(q, _)| *q == t) => {
                    if id.kind == Kind::Comment && !tables.contains(t) {
                        "50_other.sql".to_string()
                    } else {
                        table_file(t)
                    }
                }
                Some(_) => "30_views.sql".to_string(),
                None if id.kind == Kind::Comment && is_early_comment(&id.name) => {
                    "00_schemas.sql".to_string()
                }
                None => "50_other.sql".to_string(),
            },
            Kind::View => "30_views.sql".to_string(),
            Kind::Bucket => "60_storage_buckets.sql".to_string(),
            // Before anything they apply to is created, as the catalog's grants assume.
            Kind::DefaultPrivileges => "00_schemas.sql".to_string(),
            Kind::Publication | Kind::EventTrigger => "50_other.sql".to_string(),
        };
        let text = files.entry(file.clone()).or_insert_with(|| {
            let mut t = DUMP_HEADER.to_string();
            if file == "02_functions.sql" {
                t.push_str("-- Bodies are checked when they run: a function may name a table created later.\nSET check_function_bodies = off;\n");
            }
            t
        });
        text.push('\n');
        text.push_str(&sql);
        text.push('\n');
    }
    files
        .into_iter()
        .map(|(name, sql)| DumpFile { name, sql })
        .collect()
}

/// Whether a comment belongs with the schemas and extensions (`SCHEMA x`, `EXTENSION x`).
fn is_early_comment(name: &str) -> bool {
    name.starts_with("SCHEMA ") || name.starts_with("EXTENSION ")
}

/// A qualified name as a file name: quotes dropped, anything but letters, digits, `_`, `-` and
/// `.` as `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '"')
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether `expr` names `word` as an identifier (not as part of a longer one).
fn mentions(expr: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    expr.match_indices(word).any(|(at, _)| {
        let before = expr[..at].chars().next_back();
        let after = expr[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Writes [`dump_files`] of `catalog` into `dir` after proving them: built on a scratch
/// database in lexical order (as `psql -f` would apply them, with the platform emulation the
/// migrations expect), they must give `catalog` again. With `replace`, the `.sql` files already
/// in `dir` are removed first; without it, a `dir` that holds any is refused. Nothing is
/// written when the proof fails ([`Error::Unproven`], listing the differences).
pub async fn dump(
    catalog: &Catalog,
    unmodelled: &[String],
    dir: &Path,
    replace: bool,
    platform: Platform,
    scratch: &crate::scratch::Scratch,
    scope: &Scope,
) -> Result<Vec<PathBuf>, Error> {
    // What the files could not hold is refused by name, before anything is written.
    let lost: Vec<String> = unmodelled
        .iter()
        .filter(|u| {
            !(scope.exclude_platform
                && crate::platform::managed_schema_names()
                    .any(|m| u.contains(&format!(" {m}.")) || u.contains(&format!(" \"{m}\"."))))
        })
        .cloned()
        .collect();
    if !lost.is_empty() {
        return Err(Error::Unproven {
            message: format!(
                "{} object(s) of kinds Strata does not model yet would be missing from the schema files; nothing was written",
                lost.len()
            ),
            details: lost,
            hint: Some("keep these objects in a migration (schema files describe the rest), or drop them first".into()),
        });
    }
    let existing: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect()
        })
        .unwrap_or_default();
    if !existing.is_empty() && !replace {
        return Err(Error::Setting {
            setting: "schema_paths".into(),
            message: format!(
                "{} already holds {} schema file(s); dumping would replace them",
                dir.display(),
                existing.len()
            ),
            hint: Some(
                "`strata schema diff` compares them with the migrations; pass --force to replace them with a fresh dump".into(),
            ),
        });
    }
    let files = dump_files(catalog);
    let as_schema = SchemaFiles {
        files: files
            .iter()
            .map(|f| SchemaFile {
                path: dir.join(&f.name),
                sql: f.sql.clone(),
            })
            .collect(),
    };
    let scratch = ScratchDb::create(scratch, "schemadump").await?;
    let built = build_and_capture(
        &scratch,
        as_schema.as_set(),
        platform,
        "the dumped schema files",
    )
    .await;
    let dropped = scratch.drop_now().await;
    let mut built = built?;
    dropped?;
    // The scratch build runs as its own role; a dump of a database another role migrated
    // names that role (as `strata diff` compares them).
    let (from, to) = (built.role.clone(), catalog.role.clone());
    built.rename_role(&from, &to);
    let mut expected = catalog.clone();
    scope.apply_all(&mut [&mut expected, &mut built]);
    for c in [&mut expected, &mut built] {
        forget_column_order(c);
    }
    same_catalog(
        &expected,
        &built,
        "the dumped schema files do not build the same schema; nothing was written",
        Sides {
            left: "source",
            right: "dumped files",
            only_left: "only in the source",
            only_right: "only in the dumped files",
        },
    )?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    for p in &existing {
        std::fs::remove_file(p).map_err(|e| Error::io("remove", p, e))?;
    }
    let mut written = Vec::new();
    for f in &files {
        let path = dir.join(&f.name);
        std::fs::write(&path, &f.sql).map_err(|e| Error::io("write", &path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// What the migrations of `set` build, captured on a scratch database (within `scope`), and the
/// objects there of kinds the catalog does not model ([`Catalog::unmodelled`]): the source of
/// `strata schema dump`.
pub async fn built_catalog(
    set: &MigrationSet,
    platform: Platform,
    scratch: &crate::scratch::Scratch,
    scope: &Scope,
) -> Result<(Catalog, Vec<String>), Error> {
    let scratch = ScratchDb::create(scratch, "schemasource").await?;
    let built = async {
        let catalog = build_and_capture(&scratch, set.clone(), platform, "the migrations").await?;
        let unmodelled = Catalog::unmodelled(&scratch.target().connect().await?).await?;
        Ok::<_, Error>((catalog, unmodelled))
    }
    .await;
    let dropped = scratch.drop_now().await;
    let (mut catalog, unmodelled) = built?;
    dropped?;
    scope.apply(&mut catalog);
    Ok((catalog, unmodelled))
}

/// For each table `renames` renames: its constraints and indexes named after the old table
/// (`notes_pkey`, `notes_heading_idx`) that the schema files (`after`) name after the new one
/// (`memos_pkey`), as (rename, undo) statements. Other names are left as they are.
fn derived_renames(
    renames: &[Rename],
    renamed: &Catalog,
    after: &Catalog,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in renames.iter().filter(|r| r.kind == Kind::Table) {
        let (schema, _) = split_qualified(&t.table);
        let table = format!("{}.{}", ident(schema), ident(&t.to));
        let prefix = format!("{}_", t.from);
        for (id, o) in &renamed.objects {
            if o.parent.as_deref() != Some(table.as_str())
                || !matches!(id.kind, Kind::Constraint | Kind::Index)
            {
                continue;
            }
            let local = normalize_ident(&o.local);
            let Some(suffix) = local.strip_prefix(&prefix) else {
                continue;
            };
            let wanted = format!("{}_{suffix}", t.to);
            let wanted_id = crate::catalog::ObjectId {
                kind: id.kind,
                name: match id.kind {
                    Kind::Constraint => format!("{table}.{}", ident(&wanted)),
                    _ => format!("{}.{}", ident(schema), ident(&wanted)),
                },
            };
            if !after.objects.contains_key(&wanted_id) || renamed.objects.contains_key(&wanted_id) {
                continue;
            }
            out.push(match id.kind {
                Kind::Constraint => (
                    format!(
                        "ALTER TABLE {table} RENAME CONSTRAINT {} TO {};",
                        ident(&local),
                        ident(&wanted)
                    ),
                    format!(
                        "ALTER TABLE {table} RENAME CONSTRAINT {} TO {};",
                        ident(&wanted),
                        ident(&local)
                    ),
                ),
                _ => (
                    format!(
                        "ALTER INDEX {}.{} RENAME TO {};",
                        ident(schema),
                        ident(&local),
                        ident(&wanted)
                    ),
                    format!(
                        "ALTER INDEX {}.{} RENAME TO {};",
                        ident(schema),
                        ident(&wanted),
                        ident(&local)
                    ),
                ),
            });
        }
    }
    out
}

/// Leaves columns' positions out of `catalog`: PostgreSQL cannot move a column, so a column
/// added in the middle of a table in a schema file is added at the end by any migration; schema
/// files describe columns, not their order.
pub(crate) fn forget_column_order(catalog: &mut Catalog) {
    for (id, o) in catalog.objects.iter_mut() {
        if id.kind == Kind::Column {
            o.props.remove("position");
        }
    }
}

/// A migration set of `migrations` (in order), as [`MigrationSet::load`] would build one.
fn set_of(migrations: Vec<Migration>, dir: Option<&Path>) -> MigrationSet {
    MigrationSet::empty(dir.map(Path::to_path_buf)).with_migrations(migrations)
}

/// `schema.table` → (`schema`, `table`); a bare name is in `public`.
fn split_qualified(name: &str) -> (&str, &str) {
    name.split_once('.').unwrap_or(("public", name))
}

/// An identifier as PostgreSQL stores it: unquoted → lower case; `"Quoted"` → as written.
fn normalize_ident(word: &str) -> String {
    match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => word.to_ascii_lowercase(),
    }
}

/// The table a `CREATE TABLE` line creates, schema-qualified, if the line starts one.
fn created_table(line: &str) -> Option<String> {
    let lower = line.trim_start().to_ascii_lowercase();
    let mut rest = lower.strip_prefix("create")?.trim_start();
    for prefix in ["unlogged", "temporary", "temp"] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r.trim_start();
        }
    }
    rest = rest.strip_prefix("table")?.trim_start();
    if let Some(r) = rest.strip_prefix("if not exists") {
        rest = r.trim_start();
    }
    // The name, as written in the original line (quoted parts keep their case).
    let start = line.len() - rest.len();
    let original = &line[start..];
    let name: String = original
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '(')
        .collect();
    if name.is_empty() {
        return None;
    }
    let mut parts = name.splitn(2, '.').map(normalize_ident);
    let first = parts.next()?;
    Some(match parts.next() {
        Some(table) => format!("{first}.{table}"),
        None => format!("public.{first}"),
    })
}

/// The column a line of a `CREATE TABLE` body defines (its first word), unless the line starts
/// a table constraint.
fn defined_column(line: &str) -> Option<String> {
    let t = line.trim_start().trim_start_matches(',').trim_start();
    let word: String = if let Some(quoted) = t.strip_prefix('"') {
        let end = quoted.find('"')? + 2;
        t[..end].to_string()
    } else {
        t.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    if word.is_empty() || word.starts_with("--") {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "constraint" | "primary" | "unique" | "check" | "foreign" | "exclude" | "like"
    ) {
        return None;
    }
    Some(normalize_ident(&word))
}

fn renames_in(path: &Path, sql: &str) -> Result<Vec<Rename>, Error> {
    let mut out = Vec::new();
    // (line number, old name) of a hint waiting for what it renames.
    let mut pending: Option<(usize, String)> = None;
    let mut table: Option<String> = None;
    let mut depth: i32 = 0;
    let bad = |line: usize, problem: &str| {
        Error::SourceFile {
        path: path.to_path_buf(),
        problem: format!("line {line}: {problem}"),
        hint: Some(format!(
            "write `-- {RENAMED_FROM} OLD_NAME` on the line of the renamed column (or the line before it), or on the line before the renamed table's CREATE TABLE"
        )),
    }
    };
    for (i, line) in sql.lines().enumerate() {
        let n = i + 1;
        let (code, comment) = match line.find("--") {
            Some(at) => (&line[..at], Some(&line[at + 2..])),
            None => (line, None),
        };
        let hint = comment
            .and_then(|c| c.trim().strip_prefix(RENAMED_FROM))
            .map(|old| {
                old.split_whitespace()
                    .next()
                    .map(normalize_ident)
                    .unwrap_or_default()
            });
        if let Some(old) = &hint {
            if old.is_empty() {
                return Err(bad(n, "the rename hint names no old name"));
            }
            if let Some((at, _)) = &pending {
                return Err(bad(
                    *at,
                    "this rename hint is followed by another before what it renames",
                ));
            }
            pending = Some((n, old.clone()));
        }
        if depth == 0 {
            if let Some(t) = created_table(code) {
                table = Some(t.clone());
                if let Some((at, old)) = pending.take() {
                    let old = old.rsplit('.').next().unwrap_or(&old).to_string();
                    let (_, new) = split_qualified(&t);
                    out.push(Rename {
                        kind: Kind::Table,
                        table: t.clone(),
                        from: old,
                        to: new.to_string(),
                        file: path.to_path_buf(),
                        line: at,
                    });
                }
            }
        } else if let (Some(t), Some(column)) = (&table, defined_column(code)) {
            if depth == 1 {
                if let Some((at, old)) = pending.take() {
                    out.push(Rename {
                        kind: Kind::Column,
                        table: t.clone(),
                        from: old,
                        to: column,
                        file: path.to_path_buf(),
                        line: at,
                    });
                }
            }
        }
        let before = depth;
        for c in code.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
        }
        // A hint on the line that opens a CREATE TABLE renames the table (handled above); a
        // table's body ends when its parentheses close.
        if before > 0 && depth <= 0 {
            depth = 0;
            table = None;
        }
    }
    if let Some((at, _)) = pending {
        return Err(bad(at, "nothing follows this rename hint to rename"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_hints_name_tables_and_columns() {
        let sql = "-- strata:renamed-from notes\ncreate table public.memos (\n  id bigint primary key,\n  -- strata:renamed-from body\n  content text not null,\n  title text -- strata:renamed-from heading\n);\n";
        let r = renames_in(Path::new("s.sql"), sql).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            (
                r[0].kind,
                r[0].table.as_str(),
                r[0].from.as_str(),
                r[0].to.as_str()
            ),
            (Kind::Table, "public.memos", "notes", "memos")
        );
        assert_eq!(
            (r[1].kind, r[1].from.as_str(), r[1].to.as_str(), r[1].line),
            (Kind::Column, "body", "content", 4)
        );
        assert_eq!((r[2].from.as_str(), r[2].to.as_str()), ("heading", "title"));
        assert_eq!(r[0].sql(), "ALTER TABLE public.notes RENAME TO memos;");
        assert_eq!(
            r[1].undo_sql(),
            "ALTER TABLE public.memos RENAME COLUMN content TO body;"
        );
    }

    #[test]
    fn a_hint_without_a_target_is_an_error_at_its_line() {
        let e = renames_in(
            Path::new("s.sql"),
            "select 1;\n-- strata:renamed-from old\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = renames_in(
            Path::new("s.sql"),
            "-- strata:renamed-from\ncreate table t (a int);\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn an_index_named_with_spaces_is_still_an_index() {
        assert_eq!(
            created_index("CREATE INDEX \"my idx\" ON public.\"my tab\" USING btree (id);"),
            Some((
                "public.\"my idx\"".to_string(),
                "public.\"my tab\"".to_string()
            ))
        );
    }

    #[test]
    fn quoted_and_qualified_names() {
        let sql = "-- strata:renamed-from \"Old\"\nCREATE TABLE IF NOT EXISTS app.\"New\" (\n  \"Col\" int -- strata:renamed-from \"OldCol\"\n);\n";
        let r = renames_in(Path::new("s.sql"), sql).unwrap();
        assert_eq!(r[0].table, "app.New");
        assert_eq!(r[0].from, "Old");
        assert_eq!((r[1].from.as_str(), r[1].to.as_str()), ("OldCol", "Col"));
        assert_eq!(r[0].sql(), "ALTER TABLE app.\"Old\" RENAME TO \"New\";");
    }
}
