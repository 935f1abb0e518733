//! Parsing for lint: Strata's own splitter finds the statements (the same boundaries `push`
//! uses), and PostgreSQL's grammar (libpg_query, through the `pg_query` crate) parses each one
//! into its syntax tree.
//!
//! One statement at a time, so that a syntax error is reported where PostgreSQL reports it and
//! the statements around it are still checked.
//!
//! Why a small FFI here: `pg_query::parse` reports a syntax error as text only, without
//! PostgreSQL's error position, and also walks every tree to collect table names we do not use.
//! The C entry point it wraps, `pg_query_parse_protobuf_opts`, returns both the protobuf tree
//! and the position; it is linked in by the `pg_query` crate already.

use std::ffi::{c_char, c_int, CStr, CString};
use std::ops::Range;
use std::path::{Path, PathBuf};

use pg_query::protobuf;
use pg_query::NodeEnum;
use prost::Message;

use strata::sql::{self, LineIndex};

/// A syntax error from PostgreSQL's parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// PostgreSQL's message, e.g. `syntax error at or near "TABEL"`.
    pub message: String,
    /// Byte offset in the parsed text where PostgreSQL places the error, when it says.
    pub offset: Option<usize>,
}

/// Parses SQL text with PostgreSQL's grammar; the tree as libpg_query's protobuf encoding (a
/// few bytes per node; decoded, a node takes 608 bytes).
pub fn parse_sql_encoded(text: &str) -> Result<Vec<u8>, SyntaxError> {
    let input = CString::new(text).map_err(|e| SyntaxError {
        message: "the text contains a NUL byte".into(),
        offset: Some(e.nul_position()),
    })?;
    // SAFETY: as in `parse_sql`.
    unsafe {
        let result = pg_query_parse_protobuf_opts(input.as_ptr(), 0);
        let parsed = if !result.error.is_null() {
            let e = &*result.error;
            let message = CStr::from_ptr(e.message).to_string_lossy().into_owned();
            let offset = (e.cursorpos > 0).then(|| char_to_byte(text, e.cursorpos as usize - 1));
            Err(SyntaxError { message, offset })
        } else if result.parse_tree.data.is_null() {
            Ok(Vec::new())
        } else {
            Ok(std::slice::from_raw_parts(
                result.parse_tree.data as *const u8,
                result.parse_tree.len,
            )
            .to_vec())
        };
        pg_query_free_protobuf_parse_result(result);
        parsed
    }
}

/// Parses SQL text with PostgreSQL's grammar.
pub fn parse_sql(text: &str) -> Result<protobuf::ParseResult, SyntaxError> {
    decode(&parse_sql_encoded(text)?)
}

fn decode(bytes: &[u8]) -> Result<protobuf::ParseResult, SyntaxError> {
    protobuf::ParseResult::decode(bytes).map_err(|e| SyntaxError {
        message: format!("cannot decode the parse tree: {e}"),
        offset: None,
    })
}

fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map(|(i, _)| i)
        .unwrap_or(text.len())
}

#[repr(C)]
struct PgQueryProtobuf {
    len: usize,
    data: *mut c_char,
}

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobufParseResult {
    parse_tree: PgQueryProtobuf,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

extern "C" {
    fn pg_query_parse_protobuf_opts(
        input: *const c_char,
        parser_options: c_int,
    ) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
}

/// One statement of a file: where it is and what PostgreSQL made of it.
#[derive(Debug, Clone)]
pub struct ParsedStatement {
    /// The statement with its leading comments (as [`sql::Statement::span`]).
    pub span: Range<usize>,
    /// The statement without its leading comments: where findings point.
    pub code: Range<usize>,
    /// The byte offset in the file that the tree's `location` fields count from: 0 when the
    /// whole file was parsed at once, else where the statement's code starts.
    pub base: usize,
    /// What the statement is, when PostgreSQL always refuses it inside a transaction block
    /// (`CREATE INDEX CONCURRENTLY`), as [`strata::sql::transaction::outside_transaction`] says.
    pub no_transaction: Option<&'static str>,
}

impl ParsedStatement {
    /// The leading comments' byte range (where `-- strata-lint:` directives for this statement
    /// are).
    pub fn comments(&self) -> Range<usize> {
        self.span.start..self.code.start
    }
}

/// The encoded syntax trees of a file's statements.
#[derive(Debug, Clone, Default)]
enum Trees {
    /// No statement parsed (none, or none PostgreSQL accepts).
    #[default]
    None,
    /// One parse of the whole file: its statements are the file's, in order.
    Whole(Vec<u8>),
    /// One parse per statement (`None` where PostgreSQL refused it).
    Each(Vec<Option<Vec<u8>>>),
}

/// A migration file, split and parsed.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub path: PathBuf,
    pub text: String,
    pub lines: LineIndex,
    /// Statements that hold code, in order (comment-only chunks are left out).
    pub statements: Vec<ParsedStatement>,
    /// Their syntax trees, encoded ([`ParsedFile::nodes`] decodes them). Kept encoded because a
    /// decoded node takes 608 bytes: a thousand files' trees would take hundreds of megabytes,
    /// and filling that much fresh memory costs more than decoding each file when it is used
    /// (a few milliseconds for a thousand files, memory reused).
    trees: Trees,
    /// Syntax errors: PostgreSQL's message at its position, or the splitter's (an unterminated
    /// quote, a psql meta-command). A file that cannot be split has no statements.
    pub syntax_errors: Vec<(Range<usize>, String)>,
    /// Why `strata push` will run this file statement by statement instead of in one
    /// transaction (`None`: in one transaction).
    pub no_transaction: Option<String>,
}

impl ParsedFile {
    /// Splits and parses `text` (the content of `path`).
    pub fn parse(path: &Path, text: String) -> ParsedFile {
        let lines = LineIndex::new(&text);
        let mut file = ParsedFile {
            path: path.to_path_buf(),
            text: String::new(),
            lines,
            statements: Vec::new(),
            trees: Trees::None,
            syntax_errors: Vec::new(),
            no_transaction: None,
        };
        match sql::split(&text) {
            Err(e) => {
                let end = (e.offset + 1).min(text.len()).max(e.offset);
                file.syntax_errors.push((e.offset..end, e.kind.to_string()));
            }
            Ok(statements) => {
                file.no_transaction =
                    strata::sql::transaction::file_mode(&text, &statements).no_transaction_reason();
                let coded: Vec<&sql::Statement> = statements
                    .iter()
                    .filter(|s| s.code_start.is_some())
                    .collect();
                // One parse for the whole file (most of the cost of a parse is per call); the
                // trees are matched to the splitter's statements by position. When PostgreSQL
                // refuses the file, or sees its statements differently, each statement is parsed
                // on its own, so a syntax error is reported where it is and the statements
                // around it are still checked.
                let whole = parse_sql_encoded(&text).ok().filter(|bytes| {
                    StatementPlaces::decode(bytes.as_slice())
                        .is_ok_and(|p| matches_statements(&text, &coded, &p.stmts))
                });
                let mut each = Vec::new();
                for st in &coded {
                    let code = st.code_start.unwrap_or(st.span.start)..st.span.end;
                    let base = if whole.is_some() {
                        0
                    } else {
                        match parse_sql_encoded(&text[code.clone()]) {
                            Ok(bytes) => each.push(Some(bytes)),
                            Err(e) => {
                                let at = e.offset.map(|o| code.start + o).unwrap_or(code.start);
                                let end = token_end(&text, at, &e.message);
                                file.syntax_errors.push((at..end, e.message));
                                each.push(None);
                            }
                        }
                        code.start
                    };
                    file.statements.push(ParsedStatement {
                        span: st.span.clone(),
                        code: code.clone(),
                        base,
                        no_transaction: strata::sql::transaction::outside_transaction(&text[code])
                            .filter(|o| o.when == strata::sql::transaction::When::Always)
                            .map(|o| o.what),
                    });
                }
                file.trees = match whole {
                    Some(bytes) => Trees::Whole(bytes),
                    None => Trees::Each(each),
                };
            }
        }
        file.text = text;
        file
    }

    /// The syntax tree of each statement (as [`ParsedFile::statements`]), decoded now; `None`
    /// where PostgreSQL could not parse it (see [`ParsedFile::syntax_errors`]).
    pub fn nodes(&self) -> Vec<Option<NodeEnum>> {
        let node = |raw: protobuf::RawStmt| raw.stmt.and_then(|n| n.node);
        match &self.trees {
            Trees::None => vec![None; self.statements.len()],
            Trees::Whole(bytes) => match decode(bytes) {
                Ok(tree) => tree.stmts.into_iter().map(node).collect(),
                Err(_) => vec![None; self.statements.len()],
            },
            Trees::Each(each) => each
                .iter()
                .map(|b| {
                    b.as_deref()
                        .and_then(|b| decode(b).ok())
                        .and_then(|t| t.stmts.into_iter().next())
                        .and_then(node)
                })
                .collect(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.lines.line_col(&self.text, offset)
    }

    /// A [`super::Location`] for a byte range of this file.
    pub fn location(&self, range: Range<usize>) -> super::Location {
        let (line, column) = self.line_col(range.start);
        let (end_line, end_column) = self.line_col(range.end);
        super::Location::File {
            path: self.path.clone(),
            start: range.start,
            end: range.end,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// Where each statement of a parse is, read from libpg_query's protobuf encoding without
/// decoding the trees: the fields of `ParseResult.stmts` (2) and, in each `RawStmt`,
/// `stmt_location` (2) and `stmt_len` (3), as numbered in libpg_query's `pg_query.proto`;
/// the tree (`RawStmt.stmt`, 1) is skipped unread.
#[derive(Clone, PartialEq, prost::Message)]
struct StatementPlaces {
    #[prost(message, repeated, tag = "2")]
    stmts: Vec<StatementPlace>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StatementPlace {
    #[prost(int32, tag = "2")]
    stmt_location: i32,
    #[prost(int32, tag = "3")]
    stmt_len: i32,
}

/// Whether a whole-file parse saw the splitter's statements: as many, each starting in the gap
/// before one's code (`stmt_location` counts from the end of the previous statement, so it
/// includes leading whitespace and comments) and ending at or after its code.
fn matches_statements(text: &str, coded: &[&sql::Statement], raw: &[StatementPlace]) -> bool {
    raw.len() == coded.len()
        && raw.iter().zip(coded).all(|(r, st)| {
            let (Ok(start), Ok(len), Some(code_start)) = (
                usize::try_from(r.stmt_location),
                usize::try_from(r.stmt_len),
                st.code_start,
            ) else {
                return false;
            };
            let end = if len == 0 { text.len() } else { start + len };
            let code_end = text[code_start..st.span.end]
                .trim_end_matches(|c: char| c == ';' || c.is_whitespace())
                .len()
                + code_start;
            start <= code_start && end >= code_end && start >= st.span.start.min(code_start)
        })
}

/// The end of the token PostgreSQL names in `syntax error at or near "TOKEN"` when it is at
/// `at`; else one character.
fn token_end(text: &str, at: usize, message: &str) -> usize {
    let token = message
        .split_once("at or near \"")
        .and_then(|(_, rest)| rest.rsplit_once('"'))
        .map(|(t, _)| t)
        .filter(|t| !t.is_empty());
    match token {
        Some(t) if text[at..].starts_with(t) => at + t.len(),
        _ => next_char_boundary(text, at),
    }
}

fn next_char_boundary(text: &str, at: usize) -> usize {
    let mut end = (at + 1).min(text.len());
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    end.max(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_statement_with_its_span() {
        let text = "-- header\ncreate table a (id int);\n\n/* c */ create index on a (id);\n";
        let f = ParsedFile::parse(Path::new("x.sql"), text.into());
        assert!(f.syntax_errors.is_empty());
        assert_eq!(f.statements.len(), 2);
        assert_eq!(
            &f.text[f.statements[0].code.clone()],
            "create table a (id int)"
        );
        assert_eq!(
            &f.text[f.statements[1].code.clone()],
            "create index on a (id)"
        );
        let nodes = f.nodes();
        assert!(matches!(nodes[0], Some(NodeEnum::CreateStmt(_))));
        assert!(matches!(nodes[1], Some(NodeEnum::IndexStmt(_))));
        // One parse for the file: locations count from its start.
        assert!(f.statements.iter().all(|s| s.base == 0));
        assert_eq!(f.no_transaction, None);
    }

    #[test]
    fn syntax_errors_carry_postgres_message_and_position() {
        let text = "create table ok (id int);\ncreate tabel é (id int);\nselect 1;";
        let f = ParsedFile::parse(Path::new("x.sql"), text.into());
        assert_eq!(f.statements.len(), 3);
        let nodes = f.nodes();
        assert!(nodes[1].is_none());
        assert!(nodes[2].is_some());
        // Parsed statement by statement: locations count from each statement's code.
        assert_eq!(f.statements[2].base, f.statements[2].code.start);
        let (range, message) = &f.syntax_errors[0];
        assert_eq!(message, "syntax error at or near \"tabel\"");
        assert_eq!(f.line_col(range.start), (2, 8));
        assert_eq!(&text[range.clone()], "tabel");
    }

    #[test]
    fn positions_after_multibyte_text_are_bytes() {
        let text = "select 'ééé' frm x";
        let e = parse_sql(text).unwrap_err();
        assert_eq!(&text[e.offset.unwrap()..], "x");
    }

    #[test]
    fn splitter_errors_are_syntax_errors() {
        let f = ParsedFile::parse(Path::new("x.sql"), "select 'open".into());
        assert!(f.statements.is_empty());
        assert_eq!(f.syntax_errors.len(), 1);
    }

    #[test]
    fn knows_how_push_will_run_the_file() {
        let f = ParsedFile::parse(
            Path::new("x.sql"),
            "create index concurrently i on t (a);".into(),
        );
        assert!(f.no_transaction.is_some());
    }
}
