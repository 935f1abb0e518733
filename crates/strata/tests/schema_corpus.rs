//! The schema-as-code corpus: two-state scenarios, one family per object kind
//! (`tests/schema_corpus/*.sql`, sections `-- === a`, `-- === b` and an optional `-- === seed`
//! loaded on `a`), each diffed and proven in both directions: with `a` as the migrations and `b`
//! as the schema files, the generated change must build `b` exactly (a second diff is empty),
//! keep the seed's rows, and its rollback must give `a` back — and the same from `b` to `a`.
//!
//! A direction that cannot be proven must be refused (nothing would be written), never wrong:
//! `schema_corpus/KNOWN_UNPROVEN` lists the refusals the differ has today, one per line
//! (`family a->b: why`), and the test fails when the list and the results disagree either way —
//! a new refusal is a regression, a proven one must leave the list.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata::diff::Scope;
use strata::platform::Platform;
use strata::schema::{self, Safety, SchemaFiles};
use strata::{MigrationSet, Version};

struct Scenario {
    family: String,
    a: String,
    b: String,
    seed: Option<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema_corpus")
}

fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        let mut sections: BTreeMap<String, String> = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("-- === ") {
                current = Some(name.trim().to_string());
                continue;
            }
            if let Some(c) = &current {
                let s = sections.entry(c.clone()).or_default();
                s.push_str(line);
                s.push('\n');
            }
        }
        out.push(Scenario {
            family: p.file_stem().unwrap().to_string_lossy().into_owned(),
            a: sections.remove("a").expect("an `-- === a` section"),
            b: sections.remove("b").expect("an `-- === b` section"),
            seed: sections.remove("seed"),
        });
    }
    out
}

/// Diffs `from` (as the only migration) against `to` (as the only schema file) and proves the
/// change; `Err` carries the refusal.
async fn prove_direction(
    from: &str,
    to: &str,
    seed: Option<&str>,
    work: &Path,
) -> Result<(), String> {
    let migrations = work.join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(migrations.join("20240101000000_state.sql"), from).unwrap();
    let schema_file = work.join("schema.sql");
    std::fs::write(&schema_file, to).unwrap();
    let set = MigrationSet::load_dir(&migrations).unwrap();
    let files = SchemaFiles::read(&[schema_file]).unwrap();
    let server = support::scratch_server();
    let scope = Scope::default();
    let safety = Safety {
        lock_timeout: Some("5s".into()),
        transaction_only: false,
    };
    let change = schema::diff(&set, &files, Platform::None, &server, &scope, &safety)
        .await
        .map_err(|e| format!("diff: {e}"))?;
    if change.is_empty() {
        return Err("no difference found between the two states".into());
    }
    let seeds: Vec<strata::apply::SeedFile> = seed
        .map(|sql| strata::apply::SeedFile {
            name: "seed.sql".into(),
            path: PathBuf::from("seed.sql"),
            sql: sql.to_string(),
            note: None,
        })
        .into_iter()
        .collect();
    let versions: Vec<Version> = (0..change.steps.len())
        .map(|i| Version::parse(&format!("2099010100000{i}")).unwrap())
        .collect();
    schema::prove(
        &set,
        &change,
        &versions,
        Platform::None,
        &server,
        &scope,
        &seeds,
    )
    .await
    .map_err(|e| match &e {
        strata::Error::Unproven { details, .. } => format!("{e}: {}", details.join("; ")),
        _ => format!("{e}"),
    })?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_scenario_is_proven_in_both_directions_or_refused_as_known() {
    let limit = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = Vec::new();
    for s in scenarios() {
        for (direction, from, to, seed) in [
            ("a->b", s.a.clone(), s.b.clone(), s.seed.clone()),
            ("b->a", s.b.clone(), s.a.clone(), None),
        ] {
            let limit = limit.clone();
            let key = format!("{} {direction}", s.family);
            tasks.push(tokio::spawn(async move {
                let _permit = limit.acquire().await.unwrap();
                let work = tempfile::tempdir().unwrap();
                let r = prove_direction(&from, &to, seed.as_deref(), work.path()).await;
                (key, r)
            }));
        }
    }
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    let mut proven = Vec::new();
    for t in tasks {
        let (key, r) = t.await.unwrap();
        match r {
            Ok(()) => proven.push(key),
            Err(why) => {
                refused.insert(key, why);
            }
        }
    }
    let known: BTreeMap<String, String> =
        std::fs::read_to_string(corpus_dir().join("KNOWN_UNPROVEN"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (k, why) = l.split_once(':').unwrap_or((l, ""));
                (k.trim().to_string(), why.trim().to_string())
            })
            .collect();
    let new_refusals: Vec<String> = refused
        .iter()
        .filter(|(k, _)| !known.contains_key(*k))
        .map(|(k, why)| format!("{k}: {why}"))
        .collect();
    let now_proven: Vec<&String> = known.keys().filter(|k| proven.contains(k)).collect();
    assert!(
        new_refusals.is_empty() && now_proven.is_empty(),
        "refused, not in KNOWN_UNPROVEN:\n{}\n\nproven now, remove from KNOWN_UNPROVEN: {now_proven:?}",
        new_refusals.join("\n")
    );
    assert!(proven.len() >= 20, "proven: {proven:?}");
}
