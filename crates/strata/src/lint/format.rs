//! Findings as text: the human form (rustc-style, with the SQL underlined). Machine formats
//! (JSON, SARIF, GitHub annotations) live here too; colour is the CLI's business.

use annotate_snippets::{Level as SnippetLevel, Renderer, Snippet};

use super::{Finding, Level, Location};

/// Renders one finding like rustc does: `level[rule]: message`, `--> file:line:col`, the SQL
/// lines with the span underlined, then the fix. `source` is the text of the finding's file
/// (ignored for catalog findings). `styled` adds ANSI colours.
pub fn human(finding: &Finding, source: Option<&str>, styled: bool) -> String {
    let level = match finding.level {
        Level::Error => SnippetLevel::Error,
        Level::Warning => SnippetLevel::Warning,
        Level::Info => SnippetLevel::Info,
    };
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let fix = finding.fix.as_deref().map(|f| format!("fix: {f}"));
    let origin;
    let mut message = level.title(&finding.message).id(finding.rule);
    match (&finding.location, source) {
        (
            Location::File {
                path, start, end, ..
            },
            Some(src),
        ) => {
            origin = path.display().to_string();
            let end = (*end).max(*start).min(src.len());
            let start = (*start).min(end);
            message = message.snippet(
                Snippet::source(src)
                    .line_start(1)
                    .origin(&origin)
                    .fold(true)
                    .annotation(level.span(start..end)),
            );
        }
        (
            Location::File {
                path, line, column, ..
            },
            None,
        ) => {
            origin = format!("{}:{line}:{column}", path.display());
            message = message.footer(SnippetLevel::Note.title(&origin));
        }
        (Location::Object { kind, name, .. }, _) => {
            origin = format!("{kind} {name}");
            message = message.footer(SnippetLevel::Note.title(&origin));
        }
    }
    if let Some(fix) = &fix {
        message = message.footer(SnippetLevel::Help.title(fix));
    }
    let text = renderer.render(message).to_string();
    text
}
