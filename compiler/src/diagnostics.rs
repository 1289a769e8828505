//! Compile errors and warnings and the source files they point into, rendered rustc-style by
//! codespan-reporting, in colour when asked.

use chenilles_reader::{FileId, ReadError, Span};
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;

use crate::warnings::Warning;

/// An error found while reading, expanding or compiling, with the span it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    /// What is wrong, for people.
    pub message: String,
    /// Where.
    pub span: Span,
    /// True when the source ended inside a datum (a REPL asks for more input).
    pub incomplete: bool,
}

impl CompileError {
    /// The error `message` at `span`.
    pub fn new(message: impl Into<String>, span: Span) -> CompileError {
        CompileError { message: message.into(), span, incomplete: false }
    }
}

impl From<ReadError> for CompileError {
    fn from(error: ReadError) -> CompileError {
        CompileError {
            incomplete: error.kind == chenilles_reader::ReadErrorKind::Incomplete,
            message: error.message,
            span: error.span,
        }
    }
}

/// The source texts a compiler has seen, for positions and diagnostics.
#[derive(Default)]
pub struct SourceFiles {
    files: SimpleFiles<String, String>,
    line_starts: Vec<Vec<usize>>,
    /// Whether diagnostics are rendered with ANSI colours (for a terminal).
    colour: bool,
}

impl SourceFiles {
    /// Adds source file `name` holding `text`; returns its id.
    pub fn add(&mut self, name: &str, text: &str) -> FileId {
        let id = self.files.add(name.to_string(), text.to_string());
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        self.line_starts.push(starts);
        id as FileId
    }

    /// The name of file `file` (`?` if there is none).
    pub fn name(&self, file: FileId) -> &str {
        self.files.get(file as usize).map_or("?", |f| f.name().as_str())
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, file: FileId, offset: u32) -> (u32, u32) {
        let (Some(starts), Ok(source)) = (self.line_starts.get(file as usize), self.files.get(file as usize)) else {
            return (0, 0);
        };
        let offset = (offset as usize).min(source.source().len());
        let line = starts.partition_point(|&start| start <= offset).max(1) - 1;
        let text = source.source();
        let column = text.get(starts[line]..offset).map_or(offset - starts[line], |s| s.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }

    /// `file:line:col` of a span's start.
    pub fn describe(&self, span: Span) -> String {
        let (line, column) = self.line_column(span.file, span.start);
        format!("{}:{line}:{column}", self.name(span.file))
    }

    /// Makes diagnostics render with ANSI colours (`true`, for a terminal) or as plain text.
    pub fn set_colour(&mut self, colour: bool) {
        self.colour = colour;
    }

    /// The error as rustc-style text: `error: message`, ` --> file:line:col`, the line and a caret.
    pub fn render(&self, error: &CompileError) -> String {
        let diagnostic = Diagnostic::error()
            .with_message(&error.message)
            .with_labels(vec![Label::primary(error.span.file as usize, self.range(error.span))]);
        self.emit(&diagnostic)
            .unwrap_or_else(|| format!("error: {}\n  --> {}\n", error.message, self.describe(error.span)))
    }

    /// The warning as rustc-style text: `warning: message`, ` --> file:line:col`, the line with
    /// the span underlined and labelled, and `= help: ...` when there is a suggestion.
    pub fn render_warning(&self, warning: &Warning) -> String {
        let label = Label::primary(warning.span.file as usize, self.range(warning.span)).with_message(&warning.label);
        let diagnostic = Diagnostic::warning()
            .with_message(&warning.message)
            .with_labels(vec![label])
            .with_notes(warning.help.iter().map(|help| format!("help: {help}")).collect());
        self.emit(&diagnostic)
            .unwrap_or_else(|| format!("warning: {}\n  --> {}\n", warning.message, self.describe(warning.span)))
    }

    /// A span's byte range, within its file.
    fn range(&self, span: Span) -> std::ops::Range<usize> {
        let len = self.files.get(span.file as usize).map_or(0, |f| f.source().len());
        let start = (span.start as usize).min(len);
        start..(span.end as usize).clamp(start, len)
    }

    fn emit(&self, diagnostic: &Diagnostic<usize>) -> Option<String> {
        let config = term::Config::default();
        if !self.colour {
            return term::emit_into_string(&config, &self.files, diagnostic).ok();
        }
        let mut ansi = term::termcolor::Ansi::new(Vec::new());
        term::emit_to_write_style(&mut ansi, &config, &self.files, diagnostic).ok()?;
        String::from_utf8(ansi.into_inner()).ok()
    }
}
