//! Differential tests: `strata::sql::split` against the real PostgreSQL parser.
//!
//! `pg_query::split_with_parser` (libpg_query, PostgreSQL 18 grammar) parses the whole input and
//! returns, for every `RawStmt`, `&query[stmt_location..stmt_location + stmt_len]`. With
//! PostgreSQL 18's grammar that slice:
//!
//! * starts at the statement's **first token** (`makeRawStmt(stmt, @first)`): leading
//!   whitespace and comments are *not* included;
//! * ends just **before the terminating `;`** (`updateRawStmtEnd(stmt, @semicolon)`), so
//!   whitespace and comments between the last token and the `;` *are* included; the last
//!   statement without a `;` runs to the end of the input (trailing whitespace and comments
//!   included);
//! * exists only for non-empty statements (`;;` and comment-only stretches yield nothing).
//!
//! Our statements are Supabase CLI chunks: `span` is trimmed of whitespace on both sides and
//! keeps leading comments; `code_start` is the first non-comment token. Hence the exact
//! correspondence, asserted below for generated files:
//!
//! ```text
//! ours.filter(code_start.is_some()).map(|s| &src[s.code_start..s.span.end])
//!     == pg_query.map(|slice| slice.trim_end())
//! ```
//!
//! (same count, same order, same text), and conversely every stretch of the file outside our
//! spans consists of whitespace and `;` only.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::select;
use strata::sql::{split, ScanErrorKind, Statement};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Our code-bearing statements' code, the way they must match pg_query's slices.
fn our_code(src: &str, stmts: &[Statement]) -> Vec<String> {
    stmts
        .iter()
        .filter_map(|s| s.code(src))
        .map(str::to_owned)
        .collect()
}

/// pg_query's statements, trimmed of the trailing whitespace they include.
fn pg_code(src: &str) -> Result<Vec<String>, String> {
    pg_query::split_with_parser(src)
        .map(|v| v.into_iter().map(|s| s.trim_end().to_owned()).collect())
        .map_err(|e| e.to_string())
}

/// Structural invariants of any successful split.
fn check_invariants(src: &str, stmts: &[Statement]) -> Result<(), TestCaseError> {
    let mut prev_end = 0;
    for st in stmts {
        let span = st.span.clone();
        prop_assert!(prev_end <= span.start && span.start < span.end && span.end <= src.len());
        prop_assert!(src.is_char_boundary(span.start) && src.is_char_boundary(span.end));
        // between chunks: whitespace and `;` only
        let gap = &src[prev_end..span.start];
        prop_assert!(
            gap.chars().all(|c| c == ';' || c.is_whitespace()),
            "gap {:?} before {:?}",
            gap,
            st.text(src)
        );
        let text = st.text(src);
        prop_assert_eq!(text, text.trim());
        prop_assert!(st.words.len() <= 8);
        match st.code_start {
            Some(c) => {
                prop_assert!(span.contains(&c) && src.is_char_boundary(c));
                prop_assert!(!st.words.is_empty());
            }
            None => {
                prop_assert!(
                    text.starts_with("--") || text.starts_with("/*"),
                    "{:?}",
                    text
                );
                prop_assert!(st.words.is_empty());
            }
        }
        prev_end = span.end;
    }
    let tail = &src[prev_end..];
    prop_assert!(
        tail.chars().all(|c| c == ';' || c.is_whitespace()),
        "tail {:?}",
        tail
    );
    Ok(())
}

/// `cases` cases, unless `PROPTEST_CASES` asks for another count; no regression files are
/// written (minimal failing inputs are printed instead).
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

fn concat(parts: Vec<&'static str>) -> String {
    parts.concat()
}

// ---------------------------------------------------------------------------------------------
// Generators of valid SQL full of lexical traps

/// Whitespace, including odd kinds PostgreSQL accepts (form feed, CR, CRLF).
fn ws() -> impl Strategy<Value = String> {
    select(vec![" ", "  ", "\n", "\t", "\r\n", "\r", "\x0c", " \n\t "]).prop_map(str::to_owned)
}

/// Text for inside comments: semicolons, quotes, dollar signs, backslashes, non-ASCII.
fn comment_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        select(vec![
            "a",
            " ",
            ";",
            "'",
            "\"",
            "$$",
            "$a$",
            "\\",
            "\\i x",
            "é",
            "表",
            "-",
            "--",
            "begin",
            "end",
            "(",
            ")",
            "e'",
            "copy t from stdin",
        ]),
        0..6,
    )
    .prop_map(concat)
}

/// A (possibly nested) block comment.
fn block_comment() -> impl Strategy<Value = String> {
    let leaf = comment_text().prop_map(|t| format!("/*{t}*/"));
    leaf.prop_recursive(3, 8, 3, |inner| {
        (comment_text(), inner, comment_text()).prop_map(|(a, c, b)| format!("/*{a}{c}{b}*/"))
    })
}

fn line_comment() -> impl Strategy<Value = String> {
    (comment_text(), select(vec!["\n", "\r\n", "\r"])).prop_map(|(t, nl)| format!("--{t}{nl}"))
}

/// A non-empty separator between two tokens: whitespace and comments.
fn sep() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![6 => ws(), 1 => block_comment(), 1 => line_comment()],
        1..3,
    )
    .prop_map(|v| v.concat())
}

/// A possibly empty separator.
fn sep_opt() -> impl Strategy<Value = String> {
    prop_oneof![2 => Just(String::new()), 3 => sep()]
}

/// `'…'` with `''` escapes; a backslash is an ordinary character.
fn plain_string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        select(vec![
            "a", ";", "''", "\"", "$$", "$a$", "\\", "\\''", "--", "/*", "*/", "é", "表", " ", "\n",
        ]),
        0..6,
    )
    .prop_map(|v| format!("'{}'", v.concat()))
}

/// `E'…'` with backslash escapes, including `\'` which does not end it.
fn escape_string() -> impl Strategy<Value = String> {
    (
        select(vec!["E", "e"]),
        prop::collection::vec(
            select(vec![
                "a", ";", "\\'", "''", "\\\\", "\\n", "\\t", "\"", "$$", "--", "/*", "é", " ",
                "\\x41", "\\;",
            ]),
            0..6,
        ),
    )
        .prop_map(|(e, v)| format!("{e}'{}'", v.concat()))
}

/// `U&'…'`, `B'…'`, `X'…'`, `N'…'`.
fn prefixed_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(
            select(vec!["a", ";", "''", "\"", "$$", "é", " ", "--"]),
            0..5
        )
        .prop_map(|v| format!("U&'{}'", v.concat())),
        prop::collection::vec(select(vec!["0", "1"]), 0..6)
            .prop_map(|v| format!("B'{}'", v.concat())),
        prop::collection::vec(select(vec!["0", "f", "A", "9"]), 0..6)
            .prop_map(|v| format!("x'{}'", v.concat())),
        prop::collection::vec(select(vec!["a", ";", "''", "é", "\\"]), 0..5)
            .prop_map(|v| format!("N'{}'", v.concat())),
    ]
}

/// `$tag$…$tag$` with and without tags, bodies full of `;`, quotes and other dollar signs.
fn dollar_string() -> impl Strategy<Value = String> {
    (
        select(vec!["", "", "a", "tag", "x_1", "é", "T", "_"]),
        prop::collection::vec(
            select(vec![
                "a", ";", "'", "\"", "$", "$a", "$x$", "$T$", "$1", "\\", "--", "/*", "\n", "é",
                " begin ", " end; ",
            ]),
            0..8,
        ),
    )
        .prop_map(|(tag, body)| (format!("${tag}$"), body.concat()))
        // the body must not contain the closing delimiter (nor complete it with its last `$`)
        .prop_filter("body closes the quote early", |(delim, body)| {
            format!("{body}{delim}").find(delim.as_str()) == Some(body.len())
        })
        .prop_map(|(delim, body)| format!("{delim}{body}{delim}"))
}

/// `"…"` with `""` escapes (and `U&"…"`); never empty.
fn quoted_ident() -> impl Strategy<Value = String> {
    (
        select(vec!["", "", "", "U&"]),
        prop::collection::vec(
            select(vec!["a", ";", "\"\"", "'", "$$", "é", " ", "--", "/*"]),
            1..5,
        ),
    )
        .prop_map(|(u, v)| format!("{u}\"{}\"", v.concat()))
}

/// A string continued on the next line(s): `E'…'` keeps its backslash escapes in the later
/// segments (`E'a'` newline `'\';'` is one literal).
fn continued_string() -> impl Strategy<Value = String> {
    let cont = select(vec![
        "\n",
        " \n ",
        "\t-- c;'\\\n",
        "\r\n\x0c",
        "\n-- x\n  ",
        "\r",
    ]);
    prop_oneof![
        (
            escape_string(),
            prop::collection::vec((cont.clone(), escape_string()), 1..3)
        )
            .prop_map(|(first, rest)| {
                let mut out = first;
                for (ws, seg) in rest {
                    out.push_str(ws);
                    out.push_str(seg.trim_start_matches(['e', 'E']));
                }
                out
            }),
        (plain_string(), cont, plain_string()).prop_map(|(a, ws, b)| format!("{a}{ws}{b}")),
    ]
}

/// A scalar expression token (no separators needed inside).
fn expr() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => plain_string(),
        3 => escape_string(),
        2 => continued_string(),
        2 => prefixed_string(),
        3 => dollar_string(),
        2 => quoted_ident(),
        2 => select(vec![
            "1", "42", "1.5", ".5", "1.5e+3", "2E-2", "0x1F", "0o17", "0b101", "1_000", "$1",
            "$2", "a$b", "x$$", "abc", "t.c", "'x'::text", "(1)", "-1", "array[1,2]",
            "1+-2", "a<->b", "x||'y;'", "1*/2", "a-/* c; */b", "a+-- c;\nb", "a/-1",
            "case when true then case when false then 1 end end", "(case a when 1 then 2 end)",
        ])
        .prop_map(str::to_owned),
    ]
}

fn exprs(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(expr(), 1..max)
}

/// Joins tokens with the given separators (cycled).
fn join(parts: Vec<String>, seps: &[String]) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(&seps[i % seps.len()]);
        }
        out.push_str(p);
    }
    out
}

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_owned).collect()
}

/// Token lists of one valid statement.
fn statement_parts() -> impl Strategy<Value = Vec<String>> {
    let body_stmt = prop_oneof![
        expr().prop_map(|e| {
            let mut w = words("select");
            w.push(e);
            w
        }),
        (expr(), expr()).prop_map(|(a, b)| {
            let mut w = words("select case when true then");
            w.push(a);
            w.push("else".into());
            w.push(b);
            w.push("end".into());
            w
        }),
        expr().prop_map(|e| {
            let mut w = words("insert into t values (");
            w.push(e);
            w.push(")".into());
            w
        }),
    ];
    let list = |v: Vec<String>| {
        let mut w = Vec::new();
        for (i, e) in v.into_iter().enumerate() {
            if i > 0 {
                w.push(",".to_owned());
            }
            w.push(e);
        }
        w
    };
    prop_oneof![
        // select e1, e2, …
        exprs(4).prop_map(move |v| {
            let mut w = words("select");
            w.extend(list(v));
            w
        }),
        // select e as "ident" from t where x = e
        (expr(), quoted_ident(), expr()).prop_map(|(a, q, b)| {
            let mut w = words("select");
            w.extend([a, "as".into(), q]);
            w.extend(words("from t where x ="));
            w.push(b);
            w
        }),
        // create table "ident" (a text default '…', b int)
        (quoted_ident(), plain_string()).prop_map(|(q, s)| {
            let mut w = words("create table");
            w.push(q);
            w.extend(words("( a text default"));
            w.push(s);
            w.extend(words(", b int )"));
            w
        }),
        // insert into t values (e1, e2, …)
        exprs(4).prop_map(move |v| {
            let mut w = words("insert into t values (");
            w.extend(list(v));
            w.push(")".into());
            w
        }),
        // CREATE [OR REPLACE] FUNCTION … BEGIN ATOMIC …; …; END
        (
            select(vec![
                "create function",
                "create or replace function",
                "CREATE FUNCTION"
            ]),
            select(vec!["f", "\"f;\"", "s.f", "\"Begin\""]),
            prop::collection::vec(body_stmt.clone(), 0..4),
        )
            .prop_map(|(head, name, body)| {
                let mut w = words(head);
                w.push(name.to_owned());
                w.extend(words("( ) returns int language sql begin atomic"));
                for s in body {
                    w.extend(s);
                    w.push(";".into());
                }
                w.push("end".into());
                w
            }),
        // CREATE [OR REPLACE] PROCEDURE … BEGIN ATOMIC … END
        (
            select(vec!["create procedure", "create or replace procedure"]),
            prop::collection::vec(body_stmt, 0..3),
        )
            .prop_map(|(head, body)| {
                let mut w = words(head);
                w.extend(words("p ( a int ) language sql begin atomic"));
                for s in body {
                    w.extend(s);
                    w.push(";".into());
                }
                w.extend(words("END"));
                w
            }),
        // a function with a dollar-quoted body
        dollar_string().prop_map(|d| {
            let mut w = words("create function g ( ) returns text language plpgsql as");
            w.push(d);
            w
        }),
        dollar_string().prop_map(|d| vec!["do".to_owned(), d]),
        // a rule with several actions in parentheses (psql does not split inside them)
        (expr(), expr()).prop_map(|(a, b)| {
            let mut w = words("create rule r as on insert to t do also ( insert into a values (");
            w.push(a);
            w.extend(words(") ; insert into b values ("));
            w.push(b);
            w.extend(words(") )"));
            w
        }),
        select(vec![
            "begin",
            "commit",
            "vacuum",
            "analyze t",
            "end",
            "rollback"
        ])
        .prop_map(words),
        // CREATE INDEX CONCURRENTLY … (words classification)
        Just(words(
            "create index concurrently if not exists i on t ( a )"
        )),
    ]
}

fn statement() -> impl Strategy<Value = String> {
    (statement_parts(), prop::collection::vec(sep(), 1..6)).prop_map(|(p, s)| join(p, &s))
}

/// A file: statements separated by `;`, with empty statements, comments and odd whitespace
/// around them, and sometimes no final `;`.
fn sql_file() -> impl Strategy<Value = String> {
    (
        sep_opt(),
        prop::collection::vec((statement(), sep_opt(), 0..3usize, sep_opt()), 1..6),
        any::<bool>(),
        sep_opt(),
    )
        .prop_map(|(lead, stmts, final_semicolon, trail)| {
            let mut out = lead;
            let n = stmts.len();
            for (i, (st, before, extra, after)) in stmts.into_iter().enumerate() {
                out.push_str(&st);
                if i + 1 < n || final_semicolon {
                    out.push_str(&before);
                    out.push(';');
                    for _ in 0..extra {
                        out.push_str(&after);
                        out.push(';');
                    }
                }
                out.push_str(&after);
            }
            out.push_str(&trail);
            out
        })
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config(512))]

    /// Our code-bearing statements are exactly PostgreSQL's statements.
    #[test]
    fn split_matches_postgres_parser(src in sql_file()) {
        let theirs = match pg_code(&src) {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("generator made invalid SQL: {e}\n{src}"))),
        };
        let stmts = split(&src).map_err(|e| TestCaseError::fail(format!("{e:?}\n{src}")))?;
        check_invariants(&src, &stmts)?;
        prop_assert_eq!(our_code(&src, &stmts), theirs, "source: {:?}", src);
    }
}

/// An unterminated construct and its expected kind (all start at the returned offset).
fn unterminated() -> impl Strategy<Value = (String, ScanErrorKind)> {
    prop_oneof![
        plain_string().prop_map(|s| (
            s[..s.len() - 1].to_owned(),
            ScanErrorKind::UnterminatedString
        )),
        escape_string().prop_map(|s| (
            format!("{}\\'", &s[..s.len() - 1]),
            ScanErrorKind::UnterminatedString
        )),
        Just(("U&'a;b".to_owned(), ScanErrorKind::UnterminatedString)),
        Just(("B'01".to_owned(), ScanErrorKind::UnterminatedString)),
        quoted_ident().prop_map(|s| (
            s[..s.len() - 1].to_owned(),
            ScanErrorKind::UnterminatedQuotedIdentifier
        )),
        Just((
            "$t$ a; $T$ $t ".to_owned(),
            ScanErrorKind::UnterminatedDollarQuote { tag: "t".into() }
        )),
        Just((
            "$$ a; $ $".to_owned(),
            ScanErrorKind::UnterminatedDollarQuote { tag: String::new() }
        )),
        block_comment().prop_map(|c| (format!("/* {c} ;"), ScanErrorKind::UnterminatedComment)),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    /// A valid file followed by an unterminated construct: PostgreSQL rejects it as
    /// unterminated, and we report the construct's kind at the byte where it starts.
    #[test]
    fn unterminated_constructs_match_postgres(
        file in sql_file(),
        glue in sep(),
        (construct, kind) in unterminated(),
    ) {
        let mut src = file;
        src.push_str(";\nselect");
        src.push_str(&glue);
        let offset = src.len();
        src.push_str(&construct);
        let pg = pg_code(&src);
        prop_assert!(
            matches!(&pg, Err(e) if e.contains("unterminated")),
            "pg_query: {:?}\n{}", pg, src
        );
        let err = split(&src).unwrap_err();
        prop_assert_eq!(err.kind, kind);
        prop_assert_eq!(err.offset, offset);
    }
}

/// Arbitrary text biased towards the characters that matter to the scanner.
fn tricky_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => select(vec![
                "'", "\"", "$", "$$", "$a$", ";", "\\", "-", "--", "/", "*", "/*", "*/", "(", ")",
                "e'", "E'", "U&", "u&'", "b'", "x'", "n'", " ", "\n", "\r", "\t", "1", "1e", ".",
                "begin", "atomic", "end", "case", "create", "function", "or replace ",
                "procedure", "copy", "from", "stdin", "a", "é", "\u{a0}", "\u{3000}", "表", "\0",
            ])
            .prop_map(str::to_owned),
            1 => any::<char>().prop_map(String::from),
        ],
        0..120,
    )
    .prop_map(|v| v.concat())
}

fn check_any(src: &str) -> Result<(), TestCaseError> {
    let start = Instant::now();
    let result = split(src);
    prop_assert!(
        start.elapsed() < Duration::from_secs(1),
        "slow on {:?}",
        src
    );
    match result {
        Ok(stmts) => check_invariants(src, &stmts)?,
        Err(e) => {
            prop_assert!(e.offset < src.len() && src.is_char_boundary(e.offset));
            let at = &src[e.offset..];
            let ok = match &e.kind {
                ScanErrorKind::UnterminatedString => {
                    at.starts_with(['\'', 'e', 'E', 'b', 'B', 'x', 'X', 'n', 'N', 'u', 'U'])
                }
                ScanErrorKind::UnterminatedQuotedIdentifier => at.starts_with(['"', 'u', 'U']),
                ScanErrorKind::UnterminatedDollarQuote { tag } => {
                    at.starts_with(&format!("${tag}$"))
                }
                ScanErrorKind::UnterminatedComment => at.starts_with("/*"),
                ScanErrorKind::MetaCommand { command } => at.starts_with(command.as_str()),
                ScanErrorKind::CopyFromStdin => {
                    at.as_bytes()[..4.min(at.len())].eq_ignore_ascii_case(b"copy")
                }
            };
            prop_assert!(ok, "{:?} at {:?}", e, at);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    /// `split` never panics, returns well-formed statements or an error pointing at the
    /// construct, and takes bounded time.
    #[test]
    fn never_panics_on_tricky_text(src in tricky_text()) {
        check_any(&src)?;
    }

    #[test]
    fn never_panics_on_arbitrary_strings(src in any::<String>()) {
        check_any(&src)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed cases

/// Documents the shape of pg_query's slices (see the module comment).
#[test]
fn pg_query_slices_start_at_first_token_and_end_before_semicolon() {
    let src = "  -- lead\nselect 1 /* t */ ; /* c */ select 2 -- tail\n";
    assert_eq!(
        pg_query::split_with_parser(src).unwrap(),
        ["select 1 /* t */ ", "select 2 -- tail\n"]
    );
    let ours = split(src).unwrap();
    assert_eq!(
        ours.iter().map(|s| s.text(src)).collect::<Vec<_>>(),
        ["-- lead\nselect 1 /* t */", "/* c */ select 2 -- tail"]
    );
    assert_eq!(our_code(src, &ours), pg_code(src).unwrap());

    // empty statements and comment-only stretches give pg_query nothing
    let src = "select 1;\n;\n-- comment\nSELECT 2;\n; -- end";
    assert_eq!(
        pg_query::split_with_parser(src).unwrap(),
        ["select 1", "SELECT 2"]
    );
    let ours = split(src).unwrap();
    assert_eq!(
        ours.iter().map(|s| s.text(src)).collect::<Vec<_>>(),
        ["select 1", "-- comment\nSELECT 2", "-- end"]
    );
    assert_eq!(our_code(src, &ours), pg_code(src).unwrap());
}

#[test]
fn supabase_examples_match_postgres() {
    for src in [
        "-- header comment\n\n-- note\nCREATE TABLE c (id int); -- trailing same line\n/* block */ select 1;\nBEGIN;\ncreate table d(x text default $$a;b$$);\nCOMMIT;\n-- final comment\n",
        "select 1;;\n  ;select 2; \n\n",
        "create function f() returns int language sql begin atomic select 1; select 2; end;\nselect E'a\\';b';\n",
        "select 1",
    ] {
        let ours = split(src).unwrap();
        assert_eq!(our_code(src, &ours), pg_code(src).unwrap(), "{src:?}");
    }
}

/// Lexical corners where a `$` is or is not the start of a dollar quote, checked against
/// PostgreSQL: the files are valid exactly when the `$` was read the way we read it.
#[test]
fn dollar_corners_match_postgres() {
    for src in [
        "select a$b$ from t; select $b$;$b$",
        "select $1; select $2",
        "select x$$ from t; select $$;$$",
        "select $_$ $$ $_$; select 1",
        "select $é$;$é$",
        "select $a$ $b$a$;select 1",
        "select 1 from t where a = $a$x$b$ ; $a$; select 2",
        // libpg_query reads `$1a$` as the parameter `$1` and the identifier `a$` (alias)
        "select $1a$; select 2",
    ] {
        let ours = split(src).unwrap();
        assert_eq!(our_code(src, &ours), pg_code(src).unwrap(), "{src:?}");
    }
    // a complete number followed by a dollar quote: PostgreSQL's syntax error names the whole
    // dollar-quoted string as the offending token, and we do not split inside it either
    for src in [
        "select 1.5e+3$a$;$a$",
        "select .5$a$;$a$",
        "select 1.$a$;$a$",
        "select 1e-2$a$;$a$",
    ] {
        let err = pg_code(src).unwrap_err();
        assert!(err.contains("at or near \"$a$;$a$\""), "{src:?}: {err}");
        assert_eq!(split(src).unwrap().len(), 1, "{src:?}");
    }
    // trailing junk (PostgreSQL 15+): the number and the identifier after it, `$` included,
    // are one token ("trailing junk after numeric literal at or near \"1e5$a$\""), so the
    // `$` opens no dollar quote and the `;` ends the statement
    for junk in ["1e5$a$", "0x1F$a$", "1_000$a$", "1.5e5$a$"] {
        let src = format!("select {junk}; select 2");
        let err = pg_code(&src).unwrap_err();
        let expected = format!("trailing junk after numeric literal at or near \"{junk}\"");
        assert!(err.contains(&expected), "{src:?}: {err}");
        let ours = split(&src).unwrap();
        assert_eq!(
            our_code(&src, &ours),
            [format!("select {junk}"), "select 2".to_owned()]
        );
    }
}

#[test]
fn pathological_inputs_are_fast() {
    let cases = [
        "$a$".repeat(50_000),
        "/*".repeat(50_000),
        "'".repeat(100_001),
        "(".repeat(100_000) + ";",
        "create function f() begin ".to_owned() + &"case ".repeat(50_000),
        format!("$$ {}", "$".repeat(100_000)),
        format!("$abcdefgh$ {}", "$abcdefg".repeat(20_000)),
    ];
    for src in &cases {
        let start = Instant::now();
        let _ = split(src);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "slow on {:?}…",
            &src[..20]
        );
    }
}
