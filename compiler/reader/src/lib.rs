//! The reader: Scheme source text to spanned [`Datum`]s.
//!
//! A logos lexer turns the text into tokens and a lalrpop grammar builds data from them; every datum
//! keeps the byte span it was read from, so later stages can name `file:line:col`.
//!
//! The syntax is R7RS-small's external representation (section 7.1.2), with these choices:
//! - an atom that starts like a number but is not one (`1+`, `1a`, `1/-2`) reads as a symbol, as in most
//!   Schemes; complex literals (`1+2i`, `+i`) are an error, since [`Number`] has no complex numbers;
//! - `[ ] { }` are errors, and so are datum labels (`#0=`, `#0#`);
//! - `'`, `` ` `` and `,` end an atom (`a'b` is `a` then `'b`);
//! - a `#!/...` or `#! ...` first line (a Unix script header) is skipped;
//! - `(a . (b c))` reads as `(a b c)`: a list's `tail` is never itself a list;
//! - data may nest at most [`MAX_NESTING_DEPTH`] levels, so dropping or printing them cannot exhaust
//!   the stack.
//!
//! [`Datum`] implements [`std::fmt::Display`] in `write` syntax; what it prints reads back as an equal
//! datum (see [`Datum::eq_ignoring_spans`]).
#![deny(missing_docs)]

mod convert;
mod datum;
mod lexer;
mod number;
mod parser;
mod print;

pub use datum::{Datum, DatumKind, FileId, Number, Span};
pub use lexer::char_name;
pub use number::{MAX_DECIMAL_BITS, MAX_DECIMAL_DIGITS};
pub use print::symbol_needs_bars;

/// How deeply lists, vectors and quote forms may nest; deeper text is an [`ReadErrorKind::Invalid`] error.
pub const MAX_NESTING_DEPTH: u32 = 1000;

/// Why the text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// The text ended inside a datum (an open list, string or block comment). A REPL asks for more input.
    Incomplete,
    /// The text is not valid datum syntax.
    Invalid,
}

/// A read error with the span it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReadError {
    /// What kind of error.
    pub kind: ReadErrorKind,
    /// The message, for people.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// Reads every datum of `source`, which is the text of file `file`.
///
/// Stops at the first error. Its kind is [`ReadErrorKind::Incomplete`] exactly when the text ends inside
/// an unfinished datum (an open list, string, `|symbol|` or `#|` comment, a trailing `'` or `#;`), so a
/// REPL can read another line and try again.
pub fn read_all(source: &str, file: FileId) -> Result<Vec<Datum>, ReadError> {
    parser::read_all(source, file)
}

#[cfg(test)]
mod tests;
