//! docs/lint-rules.md is generated from the rule registry; this test fails when it is stale.
//! Update it with `STRATA_UPDATE_DOCS=1 cargo test -p strata-lint --test lint_docs`.

#[test]
fn lint_rules_doc_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lint-rules.md");
    let generated = strata_lint::engine::docs_markdown();
    if std::env::var_os("STRATA_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/lint-rules.md is out of date with the rule registry: run \
         `STRATA_UPDATE_DOCS=1 cargo test -p strata-lint --test lint_docs` and commit the result"
    );
}
