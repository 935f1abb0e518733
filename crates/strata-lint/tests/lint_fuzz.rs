//! No panic and no hang on any input: arbitrary text, arbitrary bytes, and the example app's
//! real migrations cut up (chunks deleted, duplicated, swapped) go through the whole linter.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use strata_lint::{self as lint, LintConfig, SourceText};

fn example_files() -> Vec<String> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chat-app/supabase/migrations");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn lint_texts(texts: Vec<String>) {
    let files: Vec<SourceText> = texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| SourceText {
            path: PathBuf::from(format!("2024010100000{i}_fuzz_case.sql")),
            text,
        })
        .collect();
    let findings = lint::lint(files.clone(), &LintConfig::default());
    for f in &findings {
        if let lint::Location::File {
            path,
            start,
            end,
            line,
            column,
            ..
        } = &f.location
        {
            assert!(start <= end && *line >= 1 && *column >= 1);
            let text = &files.iter().find(|s| &s.path == path).unwrap().text;
            assert!(text.is_char_boundary(*start) && text.is_char_boundary(*end));
            let shown = lint::format::human(f, Some(text), false);
            assert!(shown.contains(f.rule));
        }
        lint::format::github(f);
    }
}

/// One edit of a text: delete, duplicate or swap byte chunks (cut at char boundaries).
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Swap(usize, usize, usize),
}

fn apply(text: &str, edit: &Edit) -> String {
    let boundary = |i: usize| {
        let mut i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match *edit {
        Edit::Delete(a, len) => {
            let a = boundary(a % (text.len() + 1));
            let b = boundary(a + len % 400);
            format!("{}{}", &text[..a], &text[b.max(a)..])
        }
        Edit::Duplicate(a, len) => {
            let a = boundary(a % (text.len() + 1));
            let b = boundary(a + len % 400).max(a);
            format!("{}{}{}", &text[..b], &text[a..b], &text[b..])
        }
        Edit::Swap(a, b, len) => {
            let (a, b) = (a % (text.len() + 1), b % (text.len() + 1));
            let (a, b) = (boundary(a.min(b)), boundary(a.max(b)));
            let a_end = boundary(a + len % 200).min(b);
            let b_end = boundary(b + len % 200).max(b);
            format!(
                "{}{}{}{}{}",
                &text[..a],
                &text[b..b_end],
                &text[a_end..b],
                &text[a..a_end],
                &text[b_end..]
            )
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, l)| Edit::Delete(a, l)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, l)| Edit::Duplicate(a, l)),
        (any::<usize>(), any::<usize>(), any::<usize>()).prop_map(|(a, b, l)| Edit::Swap(a, b, l)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        lint_texts(vec![text]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        lint_texts(vec![String::from_utf8_lossy(&bytes).into_owned()]);
    }

    #[test]
    fn sql_like_text_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("create table "), Just("alter table t "), Just("add column "),
                Just("drop "), Just("if exists "), Just("begin;"), Just("commit;"), Just("$$"),
                Just("$x$"), Just("'"), Just("\""), Just("--"), Just("/*"), Just("*/"),
                Just(";"), Just("("), Just(")"), Just("\n"), Just("-- strata-lint: ignore "),
                Just("-- strata-lint: ignore-file "), Just("drop-without-if-exists"),
                Just("create policy p on t "), Just("rename column a to b"), Just("é"),
                Just("create index concurrently "), Just("do $$ begin end $$"), Just("\\"),
            ],
            0..60,
        )
    ) {
        lint_texts(vec![parts.concat()]);
    }

    #[test]
    fn mutated_example_migrations_never_panic(
        edits in proptest::collection::vec((0usize..16, edit()), 1..6)
    ) {
        let mut files = example_files();
        for (file, e) in &edits {
            let i = file % files.len();
            files[i] = apply(&files[i], e);
        }
        lint_texts(files);
    }
}

#[test]
fn deep_nesting_and_huge_statements_do_not_crash() {
    lint_texts(vec![format!(
        "select {}1{};",
        "(".repeat(5000),
        ")".repeat(5000)
    )]);
    lint_texts(vec![format!("select {};", vec!["1"; 20000].join(" + "))]);
    lint_texts(vec![
        "\0create table a (id int);".into(),
        "select '\0';".into(),
    ]);
}
