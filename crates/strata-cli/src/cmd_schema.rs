//! `strata schema diff` and `strata schema dump`: resolve the schema files, call
//! `strata::schema`, render.

use crate::failure::exit_code;
use serde_json::json;
use strata::diff::Scope;
use strata::schema::{self, SchemaFiles, WriteOptions};
use strata::Error;

use crate::args::{SchemaDiffArgs, SchemaDumpArgs};
use crate::context::Context;
use crate::render::Renderer;
use crate::Outcome;

pub(crate) async fn diff(
    ctx: &Context,
    args: &SchemaDiffArgs,
    out: &Renderer,
) -> Result<Outcome, Error> {
    // Inputs first: bad files, settings or names start nothing.
    let dir = ctx.migrations_dir()?;
    let set = ctx.migrations()?;
    if let Some(name) = &args.write {
        strata::author::check_name(name)?;
    }
    let sources = ctx.project.schema_files(&dir)?;
    for w in &sources.warnings {
        out.warn(w);
    }
    if sources.files.is_empty() {
        return Err(Error::Setting {
            setting: "schema_paths".into(),
            message: format!(
                "no schema files: {} names none ({} holds no .sql file)",
                sources.source,
                sources.dir.display()
            ),
            hint: Some(format!(
                "write the state the database should have as .sql files in {} (applied in lexical order), or name them with schema_paths in strata.toml",
                sources.dir.display()
            )),
        });
    }
    let files = SchemaFiles::read(&sources.files)?;
    files.renames()?;
    let platform = ctx.platform()?;
    let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
    out.scratch(&scratch);
    let mut scope = Scope::resolve(platform, &scratch).await?;
    scope.schemas = args.schemas.clone();
    let safety = schema::Safety {
        lock_timeout: Some(
            ctx.project
                .config
                .lock_timeout
                .clone()
                .unwrap_or_else(|| "5s".into()),
        ),
        transaction_only: ctx.project.config.schema.transaction_only,
    };
    let change = schema::diff(&set, &files, platform, &scratch, &scope, &safety).await?;
    // With a database named, say how much of what the change drops is there.
    let r = &ctx.request;
    let mut at_risk = Vec::new();
    if !change.data_loss.is_empty() && r.named_by().is_some() {
        let target = ctx.target()?;
        out.target(&target);
        let client = target.connect().await?;
        at_risk = schema::data_at_risk(&client, &change).await?;
        for (item, n) in &at_risk {
            out.warn(&match n {
                Some(n) => format!(
                    "{item}: {n} {} on {}",
                    if item.starts_with("table ") {
                        "row(s)"
                    } else {
                        "non-null value(s)"
                    },
                    target.display()
                ),
                None => format!("{item}: not on {}", target.display()),
            });
        }
    }
    if !change.unmodelled.is_empty() {
        out.warn(&format!(
            "not compared (kinds Strata does not model, or cluster-wide roles): {}",
            change.unmodelled.join(", ")
        ));
    }
    // The change as the files it would be, linted against the migrations (deployed), as the
    // push gate judges them. Without --write, the findings name the file that would be written.
    let now = time::OffsetDateTime::now_utc();
    let author = strata::author::default_author();
    let name = args.write.as_deref().unwrap_or("alter_schema");
    let start = strata::author::after_newest(&set, &dir, now);
    let proposed: Vec<(std::path::PathBuf, String)> = change
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let version = strata::author::version_at(start + time::Duration::seconds(i as i64));
            let suffix = if step.transactional {
                ""
            } else {
                "_concurrently"
            };
            let header = strata::author::header(name, &author, now, false);
            (
                dir.join(format!("{version}_{name}{suffix}.sql")),
                format!("{header}{}", step.sql),
            )
        })
        .collect();
    let findings = crate::cmd_lint::linter(ctx).findings_for_new(&set, &proposed);
    let unwritten = args.write.is_none() && !findings.is_empty();
    if unwritten {
        out.warn(&format!(
            "lint of the migration `--write {name}` would write ({}; not written):",
            proposed
                .iter()
                .map(|(p, _)| p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for f in &findings {
        out.warn(&format!(
            "lint: {}",
            strata_lint::format::human(f, None, false)
        ));
    }
    if safety.transaction_only && change.steps.len() == 1 && !change.is_empty() {
        out.line("[schema] transaction_only: every step runs in one transaction (indexes are built without CONCURRENTLY, blocking writes to their table while they build).");
    }
    out.schema_diff(&change, args.write.is_none());
    let mut written = Vec::new();
    let mut proof = None;
    let mut exit = exit_code::SUCCESS;
    match (&args.write, change.is_empty()) {
        (_, true) => {}
        (None, false) => exit = exit_code::DRIFT,
        (Some(name), false) => {
            let rollbacks = ctx.rollbacks_dir_for(&dir);
            // The seed's rows are loaded before the change: it must keep them.
            let (seeds, _) = ctx.seeds(true, out)?;
            let check = crate::cmd_lint::written_gate(ctx);
            let options = WriteOptions {
                dir: &dir,
                rollbacks_dir: rollbacks.as_deref(),
                name,
                author: &author,
                now,
                allow_data_loss: args.allow_data_loss,
                seeds: &seeds,
                check: &check,
                layout: ctx.project.layout_for(&dir),
            };
            let (p, created) =
                schema::write_proven(&set, &change, platform, &scratch, &scope, &options).await?;
            let created_paths: Vec<_> = created
                .iter()
                .flat_map(|c| std::iter::once(c.path.clone()).chain(c.rollback.clone()))
                .collect();
            out.line(
                "Proven on a scratch database: the migrations and the new file build what the schema files describe, and the rollback brings back what the migrations build.",
            );
            if !p.rows.is_empty() {
                out.line(&format!(
                    "Rows kept (seed and migrations): {}.",
                    p.rows
                        .iter()
                        .map(|t| format!(
                            "{} ({} row(s){})",
                            t.table,
                            t.rows,
                            if t.content {
                                ", same content"
                            } else {
                                ", counted"
                            }
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !p.unproven_tables.is_empty() {
                out.warn(&format!(
                    "no rows to prove the change on in {}: add rows to the seed (supabase/seed.sql) to have them checked",
                    p.unproven_tables.join(", ")
                ));
            }
            for c in &created {
                out.new_migration(c);
            }
            if created.len() > 1 {
                out.line("The second file builds indexes on tables in use with CREATE INDEX CONCURRENTLY: it runs outside a transaction (set [schema] transaction_only = true if the Supabase CLI also pushes this project).");
            }
            proof = Some(p);
            written.extend(created_paths);
        }
    }
    let value = json!({
        "schema_files": sources.files,
        "schema_files_from": sources.source,
        "changed": !change.is_empty(),
        "differences": change.differences,
        "renames": change.renames,
        "data_loss": change.data_loss,
        "sql": change.sql,
        "rollback_sql": change.rollback_sql,
        "steps": change.steps,
        "lint": findings,
        "unmodelled": change.unmodelled,
        "data_at_risk": at_risk
            .iter()
            .map(|(item, n)| json!({ "object": item, "count": n }))
            .collect::<Vec<_>>(),
        "proof": proof,
        "written": written,
    });
    Ok(Outcome::with_exit(value, exit))
}

pub(crate) async fn dump(
    ctx: &Context,
    args: &SchemaDumpArgs,
    out: &Renderer,
) -> Result<Outcome, Error> {
    let dir = ctx.migrations_dir()?;
    let sources = ctx.project.schema_files(&dir)?;
    let platform = ctx.platform()?;
    let r = &ctx.request;
    let from_target = r.named_by().is_some();
    // Inputs first: a directory that would be overwritten is refused before anything starts.
    if !args.force && !sources.files.is_empty() {
        return Err(Error::Setting {
            setting: "schema_paths".into(),
            message: format!(
                "{} already names {} schema file(s) ({}); dumping would replace them",
                sources.source,
                sources.files.len(),
                sources.dir.display()
            ),
            hint: Some(
                "`strata schema diff` compares them with the migrations; pass --force to replace them with a fresh dump".into(),
            ),
        });
    }
    let scratch = strata::scratch::Scratch::for_project(&ctx.project)?;
    let scope = Scope::resolve(platform, &scratch).await?;
    let (catalog, unmodelled, source) = if from_target {
        let target = ctx.target()?;
        out.target(&target);
        let client = target.connect().await?;
        let mut catalog = strata::catalog::Catalog::capture(&client).await?;
        scope.apply(&mut catalog);
        let unmodelled = strata::catalog::Catalog::unmodelled(&client).await?;
        (catalog, unmodelled, target.display())
    } else {
        let set = ctx.migrations()?;
        out.scratch(&scratch);
        let (catalog, unmodelled) = schema::built_catalog(&set, platform, &scratch, &scope).await?;
        (catalog, unmodelled, "the migrations".to_string())
    };
    let written = schema::dump(
        &catalog,
        &unmodelled,
        &sources.dir,
        args.force,
        platform,
        &scratch,
        &scope,
    )
    .await?;
    out.line(&format!(
        "Wrote {} schema file(s) to {} from {source}; proven: built on a scratch database in lexical order, they give the same catalog.",
        written.len(),
        sources.dir.display()
    ));
    for w in &written {
        out.line(&format!("  {}", w.display()));
    }
    Ok(Outcome::ok(json!({
        "source": source,
        "dir": sources.dir,
        "written": written,
    })))
}
