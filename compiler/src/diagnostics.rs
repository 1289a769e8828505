//! Compile errors and the source files they point into, rendered rustc-style by codespan-reporting.

use chenilles_reader::{FileId, ReadError, Span};
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;

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

    /// The error as rustc-style text: `error: message`, ` --> file:line:col`, the line and a caret.
    pub fn render(&self, error: &CompileError) -> String {
        let file = error.span.file as usize;
        let len = self.files.get(file).map_or(0, |f| f.source().len());
        let start = (error.span.start as usize).min(len);
        let end = (error.span.end as usize).clamp(start, len);
        let diagnostic =
            Diagnostic::error().with_message(&error.message).with_labels(vec![Label::primary(file, start..end)]);
        term::emit_into_string(&term::Config::default(), &self.files, &diagnostic)
            .unwrap_or_else(|_| format!("error: {}\n  --> {}\n", error.message, self.describe(error.span)))
    }
}
