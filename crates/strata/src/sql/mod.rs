//! PostgreSQL lexical splitting of migration files into statements.
//!
//! [`split`] is a hand-written, single-pass byte scanner that follows the lexical rules of the
//! PostgreSQL backend scanner (`src/backend/parser/scan.l`, PostgreSQL 18) and of psql's
//! statement splitter (`src/fe_utils/psqlscan.l`):
//!
//! * `'…'` strings with `''` escapes (standard_conforming_strings on: a backslash is an ordinary
//!   character), `E'…'` strings with backslash escapes (also in the segments of a string
//!   continued on the next line, `E'a'` newline `'\';'`), `U&'…'`, `B'…'`, `X'…'`, `N'…'`;
//! * `"…"` and `U&"…"` quoted identifiers with `""` escapes;
//! * dollar quotes `$tag$…$tag$` (the tag follows identifier rules without `$` and may not start
//!   with a digit; `$1` is a parameter; a `$` inside an identifier such as `a$b` belongs to it);
//! * `--` line comments and nested `/* /* */ */` block comments;
//! * numbers, including PostgreSQL 15+ "trailing junk" (`1e5$x$` is one token, so its `$` does
//!   not open a dollar quote);
//! * psql's statement-termination rule: a `;` ends a statement only outside parentheses and
//!   outside the `BEGIN … END` body of a `CREATE [OR REPLACE] FUNCTION/PROCEDURE` (psql's
//!   `begin_depth` heuristic, including `CASE … END` nesting).
//!
//! Statements are delimited the way the Supabase CLI stores them: the file is cut at top-level
//! semicolons, each chunk is trimmed of whitespace, empty chunks are dropped, and a chunk that
//! holds only comments is still a statement (with [`Statement::code_start`] `None`).
//!
//! Deliberate choices:
//!
//! * Trimming uses Unicode whitespace (Go's `strings.TrimSpace`, as the Supabase CLI does), while
//!   PostgreSQL reads a non-ASCII space such as U+00A0 as an identifier character; tokens are
//!   clipped to the trimmed text.
//! * Every backslash outside literals and comments is a psql meta-command error, including psql's
//!   `\;` (which psql turns into a non-terminating `;`); psql variables (`:name`, `:'name'`) are
//!   not interpolated: they are scanned as SQL, where they cannot hide a `;`.
//! * The `BEGIN … END` tracking is psql's heuristic, not PostgreSQL's grammar: like psql, an
//!   unquoted `begin` outside parentheses in the header of a `CREATE FUNCTION` (a function
//!   named `begin`) makes it run past the statement's `;`.

pub mod transaction;

use std::fmt;
use std::ops::Range;

/// One statement of a file, delimited the way the Supabase CLI delimits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Byte range in the source: from the first non-whitespace byte after the previous top-level
    /// `;` (or the start of the file) to just after the last non-whitespace byte before the next
    /// top-level `;` (or the end of the file). Leading comments are included; the `;` is not.
    pub span: Range<usize>,
    /// Byte offset of the first token that is not a comment; `None` when the chunk holds only
    /// comments (the Supabase CLI still records such a chunk as a statement).
    pub code_start: Option<usize>,
    /// Lower-cased text of the first (up to 8) tokens that are not comments, e.g.
    /// `["create", "index", "concurrently", "if", "not", "exists", "idx", "on"]`.
    /// Quoted identifiers and literals appear as written (with their quotes).
    pub words: Vec<String>,
}

impl Statement {
    /// The statement's text as the Supabase CLI stores it (`&source[span]`).
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.span.clone()]
    }

    /// The statement's text without its leading comments (`&source[code_start..span.end]`), or
    /// `None` for a comment-only chunk.
    pub fn code<'a>(&self, source: &'a str) -> Option<&'a str> {
        self.code_start.map(|start| &source[start..self.span.end])
    }

    /// Whether the chunk holds only comments.
    pub fn is_comment_only(&self) -> bool {
        self.code_start.is_none()
    }

    /// Whether [`Statement::words`] begins with `prefix` (compare with lower-case words), e.g.
    /// `stmt.starts_with_words(&["create", "index", "concurrently"])`.
    pub fn starts_with_words(&self, prefix: &[&str]) -> bool {
        prefix.len() <= self.words.len() && prefix.iter().zip(&self.words).all(|(p, w)| *p == w)
    }
}

/// Why a file could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanErrorKind {
    UnterminatedString,
    UnterminatedQuotedIdentifier,
    UnterminatedDollarQuote { tag: String },
    UnterminatedComment,
    MetaCommand { command: String },
    CopyFromStdin,
}

impl fmt::Display for ScanErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanErrorKind::UnterminatedString => f.write_str("unterminated quoted string"),
            ScanErrorKind::UnterminatedQuotedIdentifier => {
                f.write_str("unterminated quoted identifier")
            }
            ScanErrorKind::UnterminatedDollarQuote { tag } => {
                write!(f, "unterminated dollar-quoted string (opened by ${tag}$)")
            }
            ScanErrorKind::UnterminatedComment => f.write_str("unterminated /* comment"),
            ScanErrorKind::MetaCommand { command } => write!(
                f,
                "psql meta-command `{command}` is not SQL and cannot be run from a migration file"
            ),
            ScanErrorKind::CopyFromStdin => f.write_str(
                "COPY ... FROM STDIN cannot be run from a migration file (its data is not SQL); \
                 use INSERT statements or COPY FROM a server-side file instead",
            ),
        }
    }
}

/// A split failure at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub kind: ScanErrorKind,
    pub offset: usize,
}

impl ScanError {
    /// 1-based (line, column) of the error in `source` (the column counts characters).
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        LineIndex::new(source).line_col(source, self.offset)
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.kind, self.offset)
    }
}

impl std::error::Error for ScanError {}

/// Splits `source` into statements.
///
/// Errors (at the byte offset where the offending construct starts): an unterminated string,
/// quoted identifier, dollar quote or block comment; a psql meta-command (a backslash outside
/// any literal or comment); a `COPY … FROM STDIN` statement.
pub fn split(source: &str) -> Result<Vec<Statement>, ScanError> {
    let mut out = Vec::new();
    let mut chunk = Chunk::new(0);
    for item in Lexer::new(source) {
        match item? {
            Lexeme::Semicolon(i) => {
                if chunk.paren_depth == 0 && chunk.begin_depth == 0 {
                    chunk.finish(source, i, &mut out);
                    chunk = Chunk::new(i + 1);
                } else {
                    chunk.token(source, i, i + 1, Kind::Other)?;
                }
            }
            Lexeme::Token(start, end, kind) => chunk.token(source, start, end, kind)?,
        }
    }
    chunk.finish(source, source.len(), &mut out);
    Ok(out)
}

/// What the lexer found: a `;` (which may or may not end a statement), or another token.
enum Lexeme {
    Semicolon(usize),
    Token(usize, usize, Kind),
}

/// PostgreSQL's lexical rules over a text: tokens with their byte ranges, comments and white
/// space skipped.
struct Lexer<'a> {
    source: &'a str,
    i: usize,
}

impl<'a> Lexer<'a> {
    fn new(source: &'a str) -> Self {
        Lexer { source, i: 0 }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Lexeme, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.source.as_bytes();
        let n = s.len();
        while self.i < n {
            let i = self.i;
            let b = s[i];
            let scanned = match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => {
                    self.i += 1;
                    continue;
                }
                b'-' if at(s, i + 1) == b'-' => {
                    self.i = line_comment_end(s, i + 2);
                    continue;
                }
                b'/' if at(s, i + 1) == b'*' => {
                    match block_comment_end(s, i) {
                        Ok(end) => self.i = end,
                        Err(e) => {
                            self.i = n;
                            return Some(Err(e));
                        }
                    }
                    continue;
                }
                b';' => {
                    self.i = i + 1;
                    return Some(Ok(Lexeme::Semicolon(i)));
                }
                b'\'' => plain_string_end(s, i, i).map(|e| (e, Kind::Verbatim)),
                b'"' => quoted_ident_end(s, i, i).map(|e| (e, Kind::Verbatim)),
                b'$' => dollar(s, i),
                b'\\' => Err(meta_command(self.source, i)),
                b'0'..=b'9' => Ok((number_end(s, i), Kind::Other)),
                b'.' if at(s, i + 1).is_ascii_digit() => Ok((number_end(s, i), Kind::Other)),
                b'(' => Ok((i + 1, Kind::OpenParen)),
                b')' => Ok((i + 1, Kind::CloseParen)),
                b':' if matches!(at(s, i + 1), b':' | b'=') => Ok((i + 2, Kind::Other)),
                b'.' if at(s, i + 1) == b'.' => Ok((i + 2, Kind::Other)),
                _ if is_op_char(b) => Ok((operator_end(s, i), Kind::Other)),
                _ if is_ident_start(b) => word(s, i),
                _ => Ok((i + 1, Kind::Other)),
            };
            return Some(match scanned {
                Ok((end, kind)) => {
                    self.i = end;
                    Ok(Lexeme::Token(i, end, kind))
                }
                Err(e) => {
                    self.i = n;
                    Err(e)
                }
            });
        }
        None
    }
}

/// A token of SQL text, for the rules that look past a statement's first words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token as written.
    pub text: &'a str,
    /// Byte range in the text given to [`tokens`].
    pub span: Range<usize>,
    /// An unquoted identifier or keyword (compare it lower-cased).
    pub ident: bool,
    /// A string literal, a quoted identifier or a dollar-quoted string, as written.
    pub verbatim: bool,
}

impl Token<'_> {
    /// Whether this is the unquoted word `word` (ASCII case-insensitive).
    pub fn is(&self, word: &str) -> bool {
        self.ident && self.text.eq_ignore_ascii_case(word)
    }

    /// The body of a dollar-quoted (`$tag$body$tag$`) or single-quoted (`'body'`, quotes
    /// doubled) string token.
    pub fn string_body(&self) -> Option<std::borrow::Cow<'_, str>> {
        let t = self.text;
        if t.starts_with('$') && t.len() >= 2 {
            let tag_end = t[1..].find('$')? + 2;
            return Some(t.get(tag_end..t.len() - tag_end)?.into());
        }
        if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
            return Some(t[1..t.len() - 1].replace("''", "'").into());
        }
        None
    }
}

/// The tokens of `text` (a statement, or the body of a function), by PostgreSQL's lexical rules;
/// `;` is a token too. Stops at the first lexical error (the text was split already, so there
/// is none in a statement [`split`] returned).
pub fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    for item in Lexer::new(text) {
        match item {
            Ok(Lexeme::Semicolon(i)) => out.push(Token {
                text: &text[i..i + 1],
                span: i..i + 1,
                ident: false,
                verbatim: false,
            }),
            Ok(Lexeme::Token(start, end, kind)) => out.push(Token {
                text: &text[start..end],
                span: start..end,
                ident: kind == Kind::Ident,
                verbatim: kind == Kind::Verbatim,
            }),
            Err(_) => break,
        }
    }
    out
}

/// How many leading tokens are recorded as [`Statement::words`].
const MAX_WORDS: usize = 8;

/// What the statement-level logic needs to know about a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An unquoted identifier or keyword (psql's `{identifier}` rule).
    Ident,
    /// A literal or quoted identifier, recorded as written.
    Verbatim,
    OpenParen,
    CloseParen,
    /// Anything else: numbers, operators, punctuation, parameters, a lone `$`, `U&`'s `U`, …
    Other,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tok {
    start: usize,
    end: usize,
    verbatim: bool,
}

/// Per-statement scanner state.
struct Chunk {
    /// Where the chunk starts (just after the previous top-level `;`).
    start: usize,
    toks: [Tok; MAX_WORDS],
    ntoks: usize,
    /// Whether the first token of the chunk is the keyword `copy`.
    first_is_copy: bool,
    /// Whether the previous token was the keyword `from`.
    prev_is_from: bool,
    /// psql's `paren_depth`.
    paren_depth: u32,
    /// psql's `begin_depth`: depth of `BEGIN`/`CASE` … `END` in a function definition.
    begin_depth: u32,
    /// psql's `identifier_count`: unquoted identifiers since the start of the statement.
    ident_count: usize,
    /// psql's `identifiers`: first letters of the first identifiers when they are one of
    /// create/or/replace/function/procedure.
    idents: [u8; 4],
}

impl Chunk {
    fn new(start: usize) -> Self {
        Chunk {
            start,
            toks: [Tok::default(); MAX_WORDS],
            ntoks: 0,
            first_is_copy: false,
            prev_is_from: false,
            paren_depth: 0,
            begin_depth: 0,
            ident_count: 0,
            idents: [0; 4],
        }
    }

    fn token(&mut self, src: &str, start: usize, end: usize, kind: Kind) -> Result<(), ScanError> {
        match kind {
            Kind::OpenParen => self.paren_depth += 1,
            Kind::CloseParen => self.paren_depth = self.paren_depth.saturating_sub(1),
            Kind::Ident => self.psql_identifier(&src.as_bytes()[start..end]),
            Kind::Verbatim | Kind::Other => {}
        }
        let (mut start, mut end) = (start, end);
        if kind == Kind::Ident && (src.as_bytes()[start] >= 0x80 || src.as_bytes()[end - 1] >= 0x80)
        {
            // PostgreSQL takes every non-ASCII character, including Unicode spaces such as
            // U+00A0, as an identifier character, while the Supabase CLI trims Unicode
            // whitespace off a statement. Keep the token boundaries consistent with the trimmed
            // statement text; a token of Unicode spaces only is no word at all.
            let text = &src[start..end];
            let trimmed = text.trim();
            if trimmed.is_empty() {
                return Ok(());
            }
            start += text.len() - text.trim_start().len();
            end = start + trimmed.len();
        }
        let is_ident = kind == Kind::Ident;
        let text = &src.as_bytes()[start..end];
        if self.ntoks == 0 {
            self.first_is_copy = is_ident && text.eq_ignore_ascii_case(b"copy");
        } else if self.first_is_copy
            && self.prev_is_from
            && is_ident
            && text.eq_ignore_ascii_case(b"stdin")
        {
            return Err(ScanError {
                kind: ScanErrorKind::CopyFromStdin,
                offset: self.toks[0].start,
            });
        }
        self.prev_is_from = is_ident && text.eq_ignore_ascii_case(b"from");
        if self.ntoks < MAX_WORDS {
            self.toks[self.ntoks] = Tok {
                start,
                end,
                verbatim: kind == Kind::Verbatim,
            };
        }
        self.ntoks += 1;
        Ok(())
    }

    /// psql's `{identifier}` rule: track `BEGIN … END` in `CREATE [OR REPLACE]
    /// FUNCTION/PROCEDURE` so that the semicolons of a SQL-standard body do not end it.
    fn psql_identifier(&mut self, text: &[u8]) {
        if self.ident_count == 0 {
            self.idents = [0; 4];
        }
        let tracked = ["create", "function", "procedure", "or", "replace"];
        if self.ident_count < self.idents.len()
            && tracked
                .iter()
                .any(|k| text.eq_ignore_ascii_case(k.as_bytes()))
        {
            self.idents[self.ident_count] = text[0].to_ascii_lowercase();
        }
        self.ident_count += 1;
        let ids = self.idents;
        let in_function = ids[0] == b'c'
            && (ids[1] == b'f'
                || ids[1] == b'p'
                || (ids[1] == b'o' && ids[2] == b'r' && (ids[3] == b'f' || ids[3] == b'p')));
        if in_function && self.paren_depth == 0 {
            if text.eq_ignore_ascii_case(b"begin") {
                self.begin_depth += 1;
            } else if text.eq_ignore_ascii_case(b"case") {
                // CASE also ends with END; it only matters inside a BEGIN.
                if self.begin_depth >= 1 {
                    self.begin_depth += 1;
                }
            } else if text.eq_ignore_ascii_case(b"end") {
                self.begin_depth = self.begin_depth.saturating_sub(1);
            }
        }
    }

    /// Ends the chunk at `end` (the top-level `;` or the end of the file) and records it when it
    /// is not empty, trimmed the way the Supabase CLI trims it (`TrimRight(";")`, then
    /// `TrimSpace`).
    fn finish(&self, src: &str, end: usize, out: &mut Vec<Statement>) {
        let trimmed = src[self.start..end].trim_end_matches(';').trim();
        if trimmed.is_empty() {
            return;
        }
        let span_start = trimmed.as_ptr() as usize - src.as_ptr() as usize;
        let span = span_start..span_start + trimmed.len();
        let mut code_start = None;
        let mut words = Vec::with_capacity(self.ntoks.min(MAX_WORDS));
        for tok in &self.toks[..self.ntoks.min(MAX_WORDS)] {
            // Tokens lie within the span except for a trailing `;` the trim removed (only
            // possible at the end of a file, inside unbalanced parentheses or BEGIN).
            let (start, end) = (tok.start.max(span.start), tok.end.min(span.end));
            if start >= end {
                continue;
            }
            code_start.get_or_insert(start);
            let text = &src[start..end];
            words.push(if tok.verbatim {
                text.to_owned()
            } else {
                text.to_ascii_lowercase()
            });
        }
        out.push(Statement {
            span,
            code_start,
            words,
        });
    }
}

/// The byte at `i`, or 0 past the end (0 matches no rule that looks ahead).
#[inline]
fn at(s: &[u8], i: usize) -> u8 {
    if i < s.len() {
        s[i]
    } else {
        0
    }
}

/// `ident_start`: `[A-Za-z\200-\377_]` (also `dolq_start`).
#[inline]
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// `ident_cont`: `[A-Za-z\200-\377_0-9\$]`.
#[inline]
fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// `dolq_cont`: `[A-Za-z\200-\377_0-9]`.
#[inline]
fn is_dolq_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

/// `op_chars`: `[\~\!\@\#\^\&\|\`\?\+\-\*\/\%\<\>\=]`.
#[inline]
fn is_op_char(b: u8) -> bool {
    matches!(
        b,
        b'~' | b'!'
            | b'@'
            | b'#'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'<'
            | b'>'
            | b'='
    )
}

/// End of the run of `ident_cont` bytes starting at `i`.
#[inline]
fn ident_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_ident_cont(s[i]) {
        i += 1;
    }
    i
}

/// A `--` comment runs to the next newline (`\n` or `\r`), which is not part of it.
fn line_comment_end(s: &[u8], from: usize) -> usize {
    s[from..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(s.len(), |p| from + p)
}

/// End of the (nested) block comment whose `/*` is at `start`.
fn block_comment_end(s: &[u8], start: usize) -> Result<usize, ScanError> {
    let mut depth = 0usize;
    let mut i = start + 2;
    loop {
        match s[i..].iter().position(|&b| b == b'*' || b == b'/') {
            None => {
                return Err(ScanError {
                    kind: ScanErrorKind::UnterminatedComment,
                    offset: start,
                })
            }
            Some(p) => i += p,
        }
        if s[i] == b'/' && at(s, i + 1) == b'*' {
            depth += 1;
            i += 2;
        } else if s[i] == b'*' && at(s, i + 1) == b'/' {
            if depth == 0 {
                return Ok(i + 2);
            }
            depth -= 1;
            i += 2;
        } else {
            i += 1;
        }
    }
}

/// End of a string without backslash escapes whose opening quote is at `quote` (`'…'`, and
/// the bodies of `B'…'`, `X'…'`, `N'…'`, `U&'…'`); `token_start` is where the error points.
/// A doubled quote `''` stays inside (for `B`/`X` strings PostgreSQL reads it as the end of one
/// literal and the start of the next, which covers the same bytes).
fn plain_string_end(s: &[u8], token_start: usize, quote: usize) -> Result<usize, ScanError> {
    let mut i = quote + 1;
    loop {
        match s[i..].iter().position(|&b| b == b'\'') {
            None => {
                return Err(ScanError {
                    kind: ScanErrorKind::UnterminatedString,
                    offset: token_start,
                })
            }
            Some(p) => i += p,
        }
        if at(s, i + 1) == b'\'' {
            i += 2;
        } else {
            return Ok(i + 1);
        }
    }
}

/// End of an `E'…'` string whose opening quote is at `quote`: a backslash escapes the next byte.
///
/// Unlike the other kinds of strings, a continuation matters here: `E'a'` followed by a newline
/// and `'\';b'` is one literal whose second segment still takes backslash escapes (PostgreSQL's
/// `xqs` state returns to `xe`), so its `\'` does not end it.
fn escape_string_end(s: &[u8], token_start: usize, quote: usize) -> Result<usize, ScanError> {
    let unterminated = || ScanError {
        kind: ScanErrorKind::UnterminatedString,
        offset: token_start,
    };
    let mut i = quote + 1;
    loop {
        match s[i..].iter().position(|&b| b == b'\'' || b == b'\\') {
            None => return Err(unterminated()),
            Some(p) => i += p,
        }
        if s[i] == b'\\' || at(s, i + 1) == b'\'' {
            // `\x` (any x, including `'` and `\`) or `''`
            i += 2;
            if i > s.len() {
                return Err(unterminated());
            }
        } else {
            match string_continuation(s, i + 1) {
                Some(next_quote) => i = next_quote + 1,
                None => return Ok(i + 1),
            }
        }
    }
}

/// Where a string literal continues after its closing quote (the index of the next segment's
/// opening quote), if it does: `{whitespace_with_newline}{quote}`, i.e. spaces, tabs, form
/// feeds and `--` comments, at least one newline, then whitespace and `--` comments ended by a
/// newline, then `'`. A `/* */` comment breaks the continuation.
fn string_continuation(s: &[u8], mut i: usize) -> Option<usize> {
    let mut newline = false;
    loop {
        match at(s, i) {
            b' ' | b'\t' | 0x0c => i += 1,
            b'\n' | b'\r' => {
                newline = true;
                i += 1;
            }
            b'-' if at(s, i + 1) == b'-' => i = line_comment_end(s, i + 2),
            b'\'' if newline => return Some(i),
            _ => return None,
        }
    }
}

/// End of a `"…"` identifier whose opening quote is at `quote`; `""` stays inside.
fn quoted_ident_end(s: &[u8], token_start: usize, quote: usize) -> Result<usize, ScanError> {
    let mut i = quote + 1;
    loop {
        match s[i..].iter().position(|&b| b == b'"') {
            None => {
                return Err(ScanError {
                    kind: ScanErrorKind::UnterminatedQuotedIdentifier,
                    offset: token_start,
                })
            }
            Some(p) => i += p,
        }
        if at(s, i + 1) == b'"' {
            i += 2;
        } else {
            return Ok(i + 1);
        }
    }
}

/// A token starting with `$`: a parameter `$1` (with trailing junk `$1abc`), a dollar-quoted
/// string `$tag$…$tag$`, or a lone `$`.
fn dollar(s: &[u8], i: usize) -> Result<(usize, Kind), ScanError> {
    let next = at(s, i + 1);
    if next.is_ascii_digit() {
        // `param` is `\${decdigit}+`; `param_junk` (psql, PostgreSQL 15+) adds a following
        // identifier. (libpg_query 18 reads `$1a$` as `$1` and the identifier `a$` instead; the
        // `$` belongs to an identifier either way.)
        let mut j = i + 1;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j < s.len() && is_ident_start(s[j]) {
            j = ident_end(s, j);
        }
        return Ok((j, Kind::Other));
    }
    // `dolqdelim`: \$({dolq_start}{dolq_cont}*)?\$
    let mut j = i + 1;
    if is_ident_start(next) {
        j += 1;
        while j < s.len() && is_dolq_cont(s[j]) {
            j += 1;
        }
    }
    if at(s, j) != b'$' {
        // `dolqfailed` or a bare `$`: only the `$` is consumed (a following tag-like word is
        // then scanned as an identifier, as psql does).
        return Ok((i + 1, Kind::Other));
    }
    let delim = &s[i..=j];
    let body = j + 1;
    let mut k = body;
    // Every `$` of the body starts a token in PostgreSQL's <xdolq> state, so the quote ends at
    // the first occurrence of the delimiter.
    while let Some(p) = s[k..].iter().position(|&b| b == b'$') {
        k += p;
        if s[k..].starts_with(delim) {
            return Ok((k + delim.len(), Kind::Verbatim));
        }
        k += 1;
    }
    let tag = String::from_utf8_lossy(&delim[1..delim.len() - 1]).into_owned();
    Err(ScanError {
        kind: ScanErrorKind::UnterminatedDollarQuote { tag },
        offset: i,
    })
}

/// End of the number starting at `i` (a digit, or a `.` followed by a digit), following
/// PostgreSQL 16+'s rules: the longest of the `decinteger`/`hexinteger`/…, `numeric`, `real`
/// patterns and their "junk" variants (`{number}{identifier}`, which PostgreSQL rejects but
/// which decides where the token ends, e.g. whether a following `$` opens a dollar quote).
fn number_end(s: &[u8], i: usize) -> usize {
    let n = s.len();
    let digits = |mut j: usize| {
        // decinteger: {decdigit}(_?{decdigit})*
        while j < n && (s[j].is_ascii_digit() || (s[j] == b'_' && at(s, j + 1).is_ascii_digit())) {
            j += 1;
        }
        j
    };
    // Junk after the leading digits (`integer_junk`, also covering hex/octal/binary integers and
    // underscores, which it matches at least as far).
    let mut a = i;
    while a < n && s[a].is_ascii_digit() {
        a += 1;
    }
    if a > i && a < n && is_ident_start(s[a]) {
        a = ident_end(s, a);
    }
    // decinteger / numeric / real, then junk.
    let mut b = if s[i] == b'.' { i } else { digits(i) };
    if at(s, b) == b'.' && at(s, b + 1) != b'.' {
        b += 1;
        if at(s, b).is_ascii_digit() {
            b = digits(b);
        }
    }
    let c = at(s, b);
    if c == b'e' || c == b'E' {
        let sign = at(s, b + 1);
        if (sign == b'+' || sign == b'-') && at(s, b + 2).is_ascii_digit() {
            b = digits(b + 2);
            if b < n && is_ident_start(s[b]) {
                b = ident_end(s, b);
            }
        } else if sign == b'+' || sign == b'-' {
            // `realfail` ({numeric}[Ee][-+] without digits) is the longest match (the junk
            // identifier cannot cross the sign); its action throws back the `e` and the sign,
            // and the `e` is then scanned as an identifier.
            return b;
        } else {
            b = ident_end(s, b);
        }
    } else if b < n && is_ident_start(c) {
        b = ident_end(s, b);
    }
    a.max(b)
}

/// End of the operator starting at `i`: a run of `op_chars` that stops before an embedded
/// `--` or `/*`, without trailing `+`/`-` unless it holds one of `~!@#^&|`?%`.
fn operator_end(s: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < s.len() && is_op_char(s[j]) {
        if (s[j] == b'-' && at(s, j + 1) == b'-') || (s[j] == b'/' && at(s, j + 1) == b'*') {
            break;
        }
        j += 1;
    }
    if j - i > 1 && matches!(s[j - 1], b'+' | b'-') {
        let special = s[i..j].iter().any(|b| b"~!@#^&|`?%".contains(b));
        if !special {
            while j - i > 1 && matches!(s[j - 1], b'+' | b'-') {
                j -= 1;
            }
        }
    }
    j
}

/// A token starting with an identifier character: a prefixed literal (`E'…'`, `B'…'`, `X'…'`,
/// `N'…'`, `U&'…'`, `U&"…"`) or an identifier/keyword.
fn word(s: &[u8], i: usize) -> Result<(usize, Kind), ScanError> {
    let b = s[i];
    let next = at(s, i + 1);
    if next == b'\'' {
        match b {
            b'e' | b'E' => return Ok((escape_string_end(s, i, i + 1)?, Kind::Verbatim)),
            b'b' | b'B' | b'x' | b'X' | b'n' | b'N' => {
                return Ok((plain_string_end(s, i, i + 1)?, Kind::Verbatim))
            }
            _ => {}
        }
    }
    if (b == b'u' || b == b'U') && next == b'&' {
        return match at(s, i + 2) {
            b'\'' => Ok((plain_string_end(s, i, i + 2)?, Kind::Verbatim)),
            b'"' => Ok((quoted_ident_end(s, i, i + 2)?, Kind::Verbatim)),
            // `xufailed`: only the `u` is consumed, and psql does not count it as an identifier.
            _ => Ok((i + 1, Kind::Other)),
        };
    }
    Ok((ident_end(s, i + 1), Kind::Ident))
}

/// The error for a psql meta-command: a backslash outside literals and comments.
fn meta_command(src: &str, i: usize) -> ScanError {
    let s = src.as_bytes();
    let mut j = i + 1;
    while j < s.len() && !matches!(s[j], b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'\\') && j - i < 32
    {
        j += 1;
    }
    if j == i + 1 && at(s, j) == b'\\' {
        j += 1; // `\\`, psql's command separator
    }
    while !src.is_char_boundary(j) {
        j -= 1;
    }
    ScanError {
        kind: ScanErrorKind::MetaCommand {
            command: src[i..j].to_owned(),
        },
        offset: i,
    }
}

/// Maps byte offsets of a text to 1-based line and column (columns count characters).
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { line_starts }
    }

    /// 1-based (line, column) of `offset`; the column counts characters.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let end = offset.min(text.len()).max(start);
        // Count characters as the bytes that are not UTF-8 continuation bytes (never panics,
        // even for an offset inside a character).
        let col = text.as_bytes()[start..end]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count()
            + 1;
        (line + 1, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statements' texts.
    fn texts(src: &str) -> Vec<&str> {
        split(src).unwrap().iter().map(|s| s.text(src)).collect()
    }

    /// The code-bearing statements' code (without leading comments).
    fn codes(src: &str) -> Vec<&str> {
        split(src)
            .unwrap()
            .iter()
            .filter_map(|s| s.code(src))
            .collect()
    }

    fn words(src: &str) -> Vec<Vec<String>> {
        split(src).unwrap().into_iter().map(|s| s.words).collect()
    }

    fn err(src: &str) -> ScanError {
        split(src).unwrap_err()
    }

    fn err_at(kind: ScanErrorKind, offset: usize) -> ScanError {
        ScanError { kind, offset }
    }

    // ---- Supabase CLI examples ----

    #[test]
    fn supabase_example_comments_and_dollar_quotes() {
        let src = "-- header comment\n\n-- note\nCREATE TABLE c (id int); -- trailing same line\n/* block */ select 1;\nBEGIN;\ncreate table d(x text default $$a;b$$);\nCOMMIT;\n-- final comment\n";
        assert_eq!(
            texts(src),
            [
                "-- header comment\n\n-- note\nCREATE TABLE c (id int)",
                "-- trailing same line\n/* block */ select 1",
                "BEGIN",
                "create table d(x text default $$a;b$$)",
                "COMMIT",
                "-- final comment",
            ]
        );
        let stmts = split(src).unwrap();
        assert_eq!(stmts[0].code(src), Some("CREATE TABLE c (id int)"));
        assert_eq!(stmts[1].code(src), Some("select 1"));
        assert_eq!(stmts[5].code_start, None);
        assert!(stmts[5].is_comment_only());
        assert_eq!(stmts[2].words, ["begin"]);
        assert_eq!(stmts[4].words, ["commit"]);
        assert_eq!(
            stmts[0].words,
            ["create", "table", "c", "(", "id", "int", ")"]
        );
    }

    #[test]
    fn supabase_example_empty_statements() {
        assert_eq!(
            texts("select 1;;\n  ;select 2; \n\n"),
            ["select 1", "select 2"]
        );
    }

    #[test]
    fn supabase_example_begin_atomic_and_escape_string() {
        let src = "create function f() returns int language sql begin atomic select 1; select 2; end;\nselect E'a\\';b';\n";
        assert_eq!(
            texts(src),
            [
                "create function f() returns int language sql begin atomic select 1; select 2; end",
                "select E'a\\';b'",
            ]
        );
    }

    #[test]
    fn supabase_example_no_final_semicolon() {
        assert_eq!(texts("select 1"), ["select 1"]);
        let stmts = split("select 1").unwrap();
        assert_eq!(stmts[0].span, 0..8);
        assert_eq!(stmts[0].code_start, Some(0));
    }

    #[test]
    fn empty_and_blank_files() {
        assert_eq!(split("").unwrap(), []);
        assert_eq!(split(" \n\t\r\n\x0c").unwrap(), []);
        assert_eq!(split(";;; ;\n;").unwrap(), []);
    }

    #[test]
    fn spans_are_trimmed_byte_ranges() {
        let src = "  select 1  ;\n\n  select 2\n";
        let stmts = split(src).unwrap();
        assert_eq!(stmts[0].span, 2..10);
        assert_eq!(stmts[1].span, 17..25);
        assert_eq!(stmts[1].code_start, Some(17));
    }

    #[test]
    fn comment_after_semicolon_belongs_to_next_statement() {
        let src = "select 1; -- about two\nselect 2; /* about three */ select 3;";
        assert_eq!(
            texts(src),
            [
                "select 1",
                "-- about two\nselect 2",
                "/* about three */ select 3"
            ]
        );
        assert_eq!(codes(src), ["select 1", "select 2", "select 3"]);
    }

    #[test]
    fn trailing_comment_stays_in_statement() {
        let src = "select 1 -- one\n;select 2 /* two */";
        assert_eq!(texts(src), ["select 1 -- one", "select 2 /* two */"]);
    }

    #[test]
    fn comment_only_chunks_between_statements() {
        let src = "select 1;\n-- just a note\n;\nselect 2;";
        let stmts = split(src).unwrap();
        assert_eq!(stmts.len(), 3);
        assert_eq!(stmts[1].text(src), "-- just a note");
        assert_eq!(stmts[1].code_start, None);
        assert!(stmts[1].words.is_empty());
    }

    // ---- strings ----

    #[test]
    fn single_quoted_strings() {
        assert_eq!(
            texts("select 'a;b'; select 'it''s;'; select '';"),
            ["select 'a;b'", "select 'it''s;'", "select ''"]
        );
        // standard_conforming_strings: a backslash does not escape
        assert_eq!(
            texts(r"select 'a\'; select 2;"),
            [r"select 'a\'", "select 2"]
        );
        assert_eq!(texts("select 'a' 'b;c';"), ["select 'a' 'b;c'"]);
        assert_eq!(texts("select 'x'\n'y;z';"), ["select 'x'\n'y;z'"]);
    }

    #[test]
    fn escape_strings() {
        assert_eq!(
            texts(r"select E'a\';b'; select 2"),
            [r"select E'a\';b'", "select 2"]
        );
        assert_eq!(
            texts(r"select e'\\'; select 2"),
            [r"select e'\\'", "select 2"]
        );
        assert_eq!(
            texts(r"select E'it''s\\;'; x"),
            [r"select E'it''s\\;'", "x"]
        );
        assert_eq!(
            texts(r"select E'\x41\101\u0041;'; x"),
            [r"select E'\x41\101\u0041;'", "x"]
        );
        // `e` inside an identifier is no prefix: `somee'…'` is an identifier and a plain string
        assert_eq!(texts(r"select somee'a\'; x"), [r"select somee'a\'", "x"]);
        // a continued E-string keeps its backslash escapes in the next segment
        assert_eq!(
            texts("select E'a'\n'\\';b'; x"),
            ["select E'a'\n'\\';b'", "x"]
        );
        assert_eq!(
            texts("select e'a' -- c'\r\n\x0c -- d\n\t'\\';b'\n'\\'x'; x"),
            ["select e'a' -- c'\r\n\x0c -- d\n\t'\\';b'\n'\\'x'", "x"]
        );
        // no continuation without a newline, or across a block comment
        assert_eq!(texts("select E'a' '\\'; x"), ["select E'a' '\\'", "x"]);
        assert_eq!(
            texts("select E'a' /* c */\n'\\'; x"),
            ["select E'a' /* c */\n'\\'", "x"]
        );
        assert_eq!(
            texts("select E'a'\n/* c */'\\'; x"),
            ["select E'a'\n/* c */'\\'", "x"]
        );
        // a continuation of a plain string takes no backslash escapes
        assert_eq!(texts("select 'a'\n'\\'; x"), ["select 'a'\n'\\'", "x"]);
        assert_eq!(
            err("select E'a'\n  '\\';"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(texts("select E'a'\n-- c"), ["select E'a'\n-- c"]);
        assert_eq!(texts("select E'a' -- c"), ["select E'a' -- c"]);
        // after a string, `e'` starts a new escape string
        assert_eq!(texts(r"select 'a'e'\'';x"), [r"select 'a'e'\''", "x"]);
    }

    #[test]
    fn prefixed_strings() {
        assert_eq!(
            texts(r"select U&'d\0061t\+000061;', B'10;1', b'', X'1F;', x'', N'na;me', n'';x"),
            [
                r"select U&'d\0061t\+000061;', B'10;1', b'', X'1F;', x'', N'na;me', n''",
                "x"
            ]
        );
        assert_eq!(texts(r"select u&'a\';x"), [r"select u&'a\'", "x"]);
        assert_eq!(
            words(r"select U&'a' UESCAPE '!', N'x', B'1'"),
            [vec![
                "select", "U&'a'", "uescape", "'!'", ",", "N'x'", ",", "B'1'"
            ]]
        );
        // `U&` not followed by a quote: `U`, `&`, …
        assert_eq!(words("select u&v"), [vec!["select", "u", "&", "v"]]);
    }

    #[test]
    fn unterminated_strings() {
        assert_eq!(
            err("select 'abc"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(
            err("select 'it''"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(
            err(r"select 1; select E'a\'"),
            err_at(ScanErrorKind::UnterminatedString, 17)
        );
        assert_eq!(
            err(r"select E'a\"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(
            err("select U&'abc"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(
            err("select b'101"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(
            err("select X'1f"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(
            err("select n'x"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(err("'"), err_at(ScanErrorKind::UnterminatedString, 0));
    }

    // ---- quoted identifiers ----

    #[test]
    fn quoted_identifiers() {
        assert_eq!(
            texts(r#"create table "a;b""c" (x int); select U&"d\0061;" from t;"#),
            [
                r#"create table "a;b""c" (x int)"#,
                r#"select U&"d\0061;" from t"#
            ]
        );
        assert_eq!(
            words(r#"select "MixedCase", 'Lit', Ident from "T""x""#),
            [vec![
                "select",
                "\"MixedCase\"",
                ",",
                "'Lit'",
                ",",
                "ident",
                "from",
                "\"T\"\"x\""
            ]]
        );
    }

    #[test]
    fn unterminated_quoted_identifiers() {
        assert_eq!(
            err(r#"select "abc"#),
            err_at(ScanErrorKind::UnterminatedQuotedIdentifier, 7)
        );
        assert_eq!(
            err(r#"select "a"""#),
            err_at(ScanErrorKind::UnterminatedQuotedIdentifier, 7)
        );
        assert_eq!(
            err(r#"select U&"abc"#),
            err_at(ScanErrorKind::UnterminatedQuotedIdentifier, 7)
        );
    }

    // ---- dollar quotes ----

    #[test]
    fn dollar_quotes() {
        assert_eq!(texts("select $$a;b$$; x"), ["select $$a;b$$", "x"]);
        assert_eq!(
            texts("select $tag$ ; $$ ; $tag$; x"),
            ["select $tag$ ; $$ ; $tag$", "x"]
        );
        assert_eq!(
            texts("select $a$ $b$ ; $b$ $a$; x"),
            ["select $a$ $b$ ; $b$ $a$", "x"]
        );
        // tags are case-sensitive
        assert_eq!(
            texts("select $T$ $t$ ; $T$; x"),
            ["select $T$ $t$ ; $T$", "x"]
        );
        // the quote ends at the first occurrence of its delimiter
        assert_eq!(texts("select $a$x$b$a$; x"), ["select $a$x$b$a$", "x"]);
        assert_eq!(texts("select $$x$abc$$; x"), ["select $$x$abc$$", "x"]);
        assert_eq!(texts("select $$$$; x"), ["select $$$$", "x"]);
        // tags may hold digits (not first), underscores and non-ASCII letters
        assert_eq!(
            texts("select $_1$;$_1$; select $é$;$é$; x"),
            ["select $_1$;$_1$", "select $é$;$é$", "x"]
        );
        // quotes and comments inside are plain text
        assert_eq!(
            texts("select $$ ' \" -- /* $$; x"),
            ["select $$ ' \" -- /* $$", "x"]
        );
        assert_eq!(words("select $q$a$q$"), [vec!["select", "$q$a$q$"]]);
    }

    #[test]
    fn dollar_signs_that_are_no_quotes() {
        // `$1` is a parameter
        assert_eq!(
            texts("select $1; select $2$;x"),
            ["select $1", "select $2$", "x"]
        );
        // `$` inside an identifier belongs to it
        assert_eq!(texts("select a$b$ ; select 2"), ["select a$b$", "select 2"]);
        assert_eq!(texts("select a$$ ; select 2"), ["select a$$", "select 2"]);
        // a tag cannot start with a digit: `$1a$` is a parameter with trailing junk
        assert_eq!(texts("select $1a$;x"), ["select $1a$", "x"]);
        // `$a` without a closing `$` is `$` and an identifier
        assert_eq!(texts("select $a ; x"), ["select $a", "x"]);
        assert_eq!(words("select $a"), [vec!["select", "$", "a"]]);
        // numbers with trailing junk swallow the `$` (PostgreSQL 15+ `integer_junk`)
        assert_eq!(texts("select 1e5$a$;x"), ["select 1e5$a$", "x"]);
        assert_eq!(texts("select 0x1F$a$;x"), ["select 0x1F$a$", "x"]);
        assert_eq!(texts("select 1_000$a$;x"), ["select 1_000$a$", "x"]);
        // … but not after a complete real/numeric without junk
        assert_eq!(texts("select 1e+5$a$;$a$;x"), ["select 1e+5$a$;$a$", "x"]);
        assert_eq!(texts("select 1.$a$;$a$;x"), ["select 1.$a$;$a$", "x"]);
        assert_eq!(texts("select 1.5$a$;$a$;x"), ["select 1.5$a$;$a$", "x"]);
    }

    #[test]
    fn unterminated_dollar_quotes() {
        assert_eq!(
            err("select 1;\nselect $$abc"),
            err_at(
                ScanErrorKind::UnterminatedDollarQuote { tag: String::new() },
                17
            )
        );
        assert_eq!(
            err("do $body$ begin end $bod$;"),
            err_at(
                ScanErrorKind::UnterminatedDollarQuote { tag: "body".into() },
                3
            )
        );
        assert_eq!(
            err("select $é$ x"),
            err_at(
                ScanErrorKind::UnterminatedDollarQuote { tag: "é".into() },
                7
            )
        );
    }

    // ---- comments ----

    #[test]
    fn line_comments() {
        assert_eq!(
            texts("select 1 -- a;b\n, 2; x"),
            ["select 1 -- a;b\n, 2", "x"]
        );
        assert_eq!(
            texts("select 1 -- a;b\r, 2; x"),
            ["select 1 -- a;b\r, 2", "x"]
        );
        assert_eq!(texts("select 1 -- a;b"), ["select 1 -- a;b"]);
        assert_eq!(texts("-- only ; comment"), ["-- only ; comment"]);
        // `--` inside an operator starts a comment
        assert_eq!(words("select 1 +-- c\n2"), [vec!["select", "1", "+", "2"]]);
        // a lone `-` is an operator
        assert_eq!(
            words("select -1, 2-3"),
            [vec!["select", "-", "1", ",", "2", "-", "3"]]
        );
    }

    #[test]
    fn block_comments() {
        assert_eq!(
            texts("select /* a; /* b; */ c; */ 1; x"),
            ["select /* a; /* b; */ c; */ 1", "x"]
        );
        assert_eq!(texts("select /**/ 1; x"), ["select /**/ 1", "x"]);
        assert_eq!(texts("select /*/ ; */ 1; x"), ["select /*/ ; */ 1", "x"]);
        assert_eq!(
            texts("select /* ** ; **/ 1; x"),
            ["select /* ** ; **/ 1", "x"]
        );
        assert_eq!(texts("select 1 */ 2; x"), ["select 1 */ 2", "x"]);
        // `/*` inside an operator starts a comment
        assert_eq!(
            words("select 1 +/* c */ 2"),
            [vec!["select", "1", "+", "2"]]
        );
        let src = "/* header; */ /* more */ select 1";
        let stmts = split(src).unwrap();
        assert_eq!(stmts[0].code(src), Some("select 1"));
        assert_eq!(stmts[0].span.start, 0);
    }

    #[test]
    fn unterminated_block_comments() {
        assert_eq!(
            err("select 1; /* abc"),
            err_at(ScanErrorKind::UnterminatedComment, 10)
        );
        assert_eq!(
            err("/* a /* b */"),
            err_at(ScanErrorKind::UnterminatedComment, 0)
        );
        assert_eq!(
            err("select /*/"),
            err_at(ScanErrorKind::UnterminatedComment, 7)
        );
        assert_eq!(err("/*"), err_at(ScanErrorKind::UnterminatedComment, 0));
    }

    // ---- psql statement termination: parentheses and BEGIN ATOMIC ----

    #[test]
    fn parentheses_hold_semicolons() {
        let src = "create rule r as on insert to t do also (insert into a values (1); insert into b values (2)); select 1";
        assert_eq!(
            texts(src),
            [
                "create rule r as on insert to t do also (insert into a values (1); insert into b values (2))",
                "select 1"
            ]
        );
        // psql ignores a `)` without a `(`
        assert_eq!(texts("select 1); select 2"), ["select 1)", "select 2"]);
        // an unclosed `(` holds the rest of the file (psql waits for more input)
        assert_eq!(texts("select (1; select 2;"), ["select (1; select 2"]);
    }

    #[test]
    fn begin_atomic_bodies() {
        let src = "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n  SELECT case a when 1 then 2 end;\nEND;\nselect f(1);";
        assert_eq!(
            texts(src),
            [
                "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n  SELECT case a when 1 then 2 end;\nEND",
                "select f(1)"
            ]
        );
        let src = "create procedure p() language sql begin atomic insert into t values (1); end; call p();";
        assert_eq!(
            texts(src),
            [
                "create procedure p() language sql begin atomic insert into t values (1); end",
                "call p()"
            ]
        );
        let src = "create or replace procedure p() begin atomic select 1; end; x";
        assert_eq!(
            texts(src),
            [
                "create or replace procedure p() begin atomic select 1; end",
                "x"
            ]
        );
        // an empty body
        assert_eq!(
            texts("create function f() returns int begin atomic end; x"),
            ["create function f() returns int begin atomic end", "x"]
        );
        // CASE inside parentheses is not counted (nor its END)
        let src = "create function f() returns int begin atomic select (case when true then 1 end); end; x";
        assert_eq!(
            texts(src),
            ["create function f() returns int begin atomic select (case when true then 1 end); end", "x"]
        );
        // transaction BEGIN/END outside functions do not nest
        assert_eq!(
            texts("begin; select 1; end; commit;"),
            ["begin", "select 1", "end", "commit"]
        );
        // a CASE outside BEGIN is not counted
        assert_eq!(
            texts("create function f() returns int return case when true then 1 end; x"),
            [
                "create function f() returns int return case when true then 1 end",
                "x"
            ]
        );
        // only `create [or replace] function|procedure` counts
        assert_eq!(
            texts("create table begin (x int); select 1;"),
            ["create table begin (x int)", "select 1"]
        );
        // a plpgsql body in dollar quotes: BEGIN/END inside the quote are text
        let src =
            "create function g() returns void language plpgsql as $$ begin perform 1; end $$; x";
        assert_eq!(
            texts(src),
            [
                "create function g() returns void language plpgsql as $$ begin perform 1; end $$",
                "x"
            ]
        );
        // the counting resets at each statement
        let src = "select 1; create function f() returns int begin atomic select 1; end; x";
        assert_eq!(
            texts(src),
            [
                "select 1",
                "create function f() returns int begin atomic select 1; end",
                "x"
            ]
        );
    }

    #[test]
    fn begin_atomic_unterminated_holds_rest_of_file() {
        // psql would wait for END; the Supabase CLI trims the final `;`
        assert_eq!(
            texts("create function f() returns int begin atomic select 1; select 2;"),
            ["create function f() returns int begin atomic select 1; select 2"]
        );
    }

    // ---- psql meta-commands and COPY FROM STDIN ----

    #[test]
    fn meta_commands() {
        let meta =
            |c: &str, offset| err_at(ScanErrorKind::MetaCommand { command: c.into() }, offset);
        assert_eq!(err("select 1;\n\\i other.sql\n"), meta("\\i", 10));
        assert_eq!(err("\\set x 1"), meta("\\set", 0));
        assert_eq!(err("\\connect db"), meta("\\connect", 0));
        assert_eq!(err("\\c db"), meta("\\c", 0));
        assert_eq!(err("select 1 \\gset"), meta("\\gset", 9));
        assert_eq!(err("select 1\\;select 2"), meta("\\;select", 8));
        assert_eq!(err("select 1 \\\\ x"), meta("\\\\", 9));
        assert_eq!(err("x \\"), meta("\\", 2));
        assert_eq!(err("\\dt+ foo"), meta("\\dt+", 0));
        // backslashes inside literals and comments are text
        assert_eq!(
            texts(r"select '\i', $$\i$$, E'\\' -- \i"),
            [r"select '\i', $$\i$$, E'\\' -- \i"]
        );
        assert_eq!(
            texts("/* \\i */ select \"\\i\""),
            ["/* \\i */ select \"\\i\""]
        );
    }

    #[test]
    fn copy_from_stdin() {
        let copy = |offset| err_at(ScanErrorKind::CopyFromStdin, offset);
        assert_eq!(
            err("select 1;\nCOPY t (a, b) FROM STDIN;\n1\t2\n\\.\n"),
            copy(10)
        );
        assert_eq!(
            err("-- load\ncopy t from stdin with (format csv);"),
            copy(8)
        );
        assert_eq!(err("copy t from /* c */ stdin"), copy(0));
        assert_eq!(err("copy public.t (a,b,c,d,e,f,g,h) from stdin"), copy(0));
        // not COPY FROM STDIN
        assert_eq!(
            texts("copy t to stdout; copy t from '/tmp/x'"),
            ["copy t to stdout", "copy t from '/tmp/x'"]
        );
        assert_eq!(
            texts("select stdin from t; copy t from \"stdin\""),
            ["select stdin from t", "copy t from \"stdin\""]
        );
        assert_eq!(texts("select 1 from stdin"), ["select 1 from stdin"]);
    }

    #[test]
    fn first_error_in_the_file_wins() {
        assert_eq!(
            err("select 'a; \\i x"),
            err_at(ScanErrorKind::UnterminatedString, 7)
        );
        assert_eq!(
            err("\\i x; select 'a"),
            err_at(
                ScanErrorKind::MetaCommand {
                    command: "\\i".into()
                },
                0
            )
        );
    }

    // ---- words ----

    #[test]
    fn words_classify_statements() {
        let src = "-- idx\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx ON t (a, b);\nVACUUM (ANALYZE) t;\nAlter Table T Add Column \"X\" Int Default 'v';";
        let w = words(src);
        assert_eq!(
            w[0],
            [
                "create",
                "index",
                "concurrently",
                "if",
                "not",
                "exists",
                "idx",
                "on"
            ]
        );
        assert_eq!(w[1], ["vacuum", "(", "analyze", ")", "t"]);
        assert_eq!(
            w[2],
            ["alter", "table", "t", "add", "column", "\"X\"", "int", "default"]
        );
        let stmts = split(src).unwrap();
        assert!(stmts[0].starts_with_words(&["create", "index", "concurrently"]));
        assert!(!stmts[1].starts_with_words(&["vacuum", "full"]));
        assert!(stmts[1].starts_with_words(&[]));
    }

    #[test]
    fn words_tokens() {
        assert_eq!(
            words("select a::int, b.c, 1.5e+3, .5, 1..2, x := 3"),
            [vec!["select", "a", "::", "int", ",", "b", ".", "c"]]
        );
        assert_eq!(
            words("select 1.5e+3, .5, 0x1F, 1_000"),
            [vec![
                "select", "1.5e+3", ",", ".5", ",", "0x1f", ",", "1_000"
            ]]
        );
        assert_eq!(
            words("select a<=b, c =- d, e @- f"),
            [vec!["select", "a", "<=", "b", ",", "c", "=", "-"]]
        );
        assert_eq!(words("select $1, $23"), [vec!["select", "$1", ",", "$23"]]);
        assert_eq!(
            words("select x[1:2]"),
            [vec!["select", "x", "[", "1", ":", "2", "]"]]
        );
        assert_eq!(words("/* a */ select -- b\n 1"), [vec!["select", "1"]]);
    }

    // ---- line endings and non-ASCII text ----

    #[test]
    fn crlf_files() {
        let src = "-- header\r\nCREATE TABLE a (x int);\r\n\r\n-- note ; here\r\ninsert into a values (1);\r\n";
        assert_eq!(
            texts(src),
            [
                "-- header\r\nCREATE TABLE a (x int)",
                "-- note ; here\r\ninsert into a values (1)"
            ]
        );
        assert_eq!(
            codes(src),
            ["CREATE TABLE a (x int)", "insert into a values (1)"]
        );
        let idx = LineIndex::new(src);
        let second = &split(src).unwrap()[1];
        assert_eq!(idx.line_col(src, second.code_start.unwrap()), (5, 1));
    }

    #[test]
    fn utf8_text() {
        let src = "-- café ☕\ncreate table \"naïve;表\" (nom text default 'été;ü', ñ int);\nselect $€$ ; $€$ as größe, x→y from 表;\n";
        let stmts = split(src).unwrap();
        assert_eq!(
            stmts.iter().map(|s| s.text(src)).collect::<Vec<_>>(),
            [
                "-- café ☕\ncreate table \"naïve;表\" (nom text default 'été;ü', ñ int)",
                "select $€$ ; $€$ as größe, x→y from 表"
            ]
        );
        assert_eq!(
            stmts[1].words,
            [
                "select",
                "$€$ ; $€$",
                "as",
                "größe",
                ",",
                "x→y",
                "from",
                "表"
            ]
        );
        // non-ASCII letters are not lower-cased (PostgreSQL downcases ASCII only)
        assert_eq!(words("SELECT ÉTÉ")[0], ["select", "ÉtÉ"]);
        let idx = LineIndex::new(src);
        assert_eq!(idx.line_col(src, stmts[0].code_start.unwrap()), (2, 1));
        let e = src.find("été").unwrap();
        assert_eq!(idx.line_col(src, e), (2, 43));
        let bad = "select 'ü';\nselect ☕, 'éx";
        let err = split(bad).unwrap_err();
        assert_eq!(
            err,
            err_at(ScanErrorKind::UnterminatedString, bad.rfind('\'').unwrap())
        );
        assert_eq!(err.offset, 25);
        assert_eq!(err.line_col(bad), (2, 11));
    }

    #[test]
    fn unicode_whitespace_is_trimmed_like_the_supabase_cli() {
        // Go's strings.TrimSpace (and Rust's str::trim) remove U+00A0; PostgreSQL would read it
        // as an identifier character.
        let src = "\u{a0}select 1\u{a0};\u{3000};select 2";
        let stmts = split(src).unwrap();
        assert_eq!(
            stmts.iter().map(|s| s.text(src)).collect::<Vec<_>>(),
            ["select 1", "select 2"]
        );
        assert_eq!(stmts[0].words, ["select", "1"]);
        assert_eq!(stmts[0].code(src), Some("select 1"));
    }

    #[test]
    fn line_index() {
        let text = "ab\ncdé\n\nf";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 2), (1, 3));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        assert_eq!(idx.line_col(text, 5), (2, 3));
        assert_eq!(idx.line_col(text, 7), (2, 4)); // the newline after é (2 bytes)
        assert_eq!(idx.line_col(text, 8), (3, 1));
        assert_eq!(idx.line_col(text, 9), (4, 1));
        assert_eq!(idx.line_col(text, 10), (4, 2)); // end of text
        assert_eq!(idx.line_col(text, 99), (4, 2)); // past the end
        assert_eq!(idx.line_col(text, 6), (2, 4)); // inside é: no panic
    }

    #[test]
    fn error_messages() {
        let e = err("select $x$");
        assert_eq!(
            e.to_string(),
            "unterminated dollar-quoted string (opened by $x$) (at byte 7)"
        );
        assert_eq!(
            ScanErrorKind::MetaCommand {
                command: "\\i".into()
            }
            .to_string(),
            "psql meta-command `\\i` is not SQL and cannot be run from a migration file"
        );
        assert_eq!(
            ScanErrorKind::UnterminatedComment.to_string(),
            "unterminated /* comment"
        );
        let _: &dyn std::error::Error = &e;
    }

    #[test]
    fn large_input_is_linear() {
        let mut src = String::new();
        for i in 0..20_000 {
            src.push_str(&format!(
                "insert into t values ({i}, 'a;''b', E'c\\';d', $q$e;f$q$, \"g;h\"); -- c;\n/* d; /* e; */ */\n"
            ));
        }
        let start = std::time::Instant::now();
        let stmts = split(&src).unwrap();
        assert_eq!(stmts.len(), 20_001);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
