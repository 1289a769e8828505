//! Parsing: runs the generated grammar (`grammar.lalrpop`) over the [`Lexer`], builds compound data
//! for the grammar's actions, and turns lalrpop's errors into [`ReadError`]s with readable messages.

use lalrpop_util::{ParseError, lalrpop_mod};

use crate::datum::{Datum, DatumKind, FileId, Number, Span};
use crate::lexer::{Lexer, Pending, Seen, Tok, TokClass, Waiting, shorten};
use crate::{MAX_NESTING_DEPTH, ReadError, ReadErrorKind};

lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_qualifications, unused_parens, dead_code)]
    #[rustfmt::skip]
    grammar
);

/// A datum and how deeply it nests (0 for a simple datum).
pub type Nested = (Datum, u32);

type Error = ParseError<usize, Tok, ReadError>;

/// The abbreviation prefixes `'` `` ` `` `,` `,@`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefix {
    Quote,
    Quasiquote,
    Unquote,
    UnquoteSplicing,
}

impl Prefix {
    /// The symbol the prefix stands for.
    pub fn symbol(self) -> &'static str {
        match self {
            Prefix::Quote => "quote",
            Prefix::Quasiquote => "quasiquote",
            Prefix::Unquote => "unquote",
            Prefix::UnquoteSplicing => "unquote-splicing",
        }
    }
}

/// Reads every datum of `source` (see [`crate::read_all`]).
pub fn read_all(source: &str, file: FileId) -> Result<Vec<Datum>, ReadError> {
    if u32::try_from(source.len()).is_err() {
        return Err(ReadError {
            kind: ReadErrorKind::Invalid,
            message: "the text is too large to read (4 GiB at most)".to_string(),
            span: Span::new(file, 0, 0),
        });
    }
    let mut lexer = Lexer::new(source, file);
    grammar::DataParser::new().parse(file, &mut lexer).map_err(|e| explain(e, &lexer, source, file))
}

fn invalid(file: FileId, message: String, start: usize, end: usize) -> Error {
    ParseError::User { error: ReadError { kind: ReadErrorKind::Invalid, message, span: Span::new(file, start, end) } }
}

/// The depth of a compound datum whose deepest child has depth `children`, or an error past the limit.
fn nest(file: FileId, start: usize, end: usize, children: u32) -> Result<u32, Error> {
    let depth = children.saturating_add(1);
    if depth > MAX_NESTING_DEPTH {
        return Err(invalid(file, format!("data nested more than {MAX_NESTING_DEPTH} levels deep"), start, end));
    }
    Ok(depth)
}

/// The data of a sequence of elements (datum comments dropped) and the largest depth among them.
pub type Elements = (Vec<Datum>, u32);

/// `( items )` or `( items . tail )`; `tail` comes with the span of its `.`.
///
/// A tail that is itself a list is spliced in, so `(a . (b c))` reads as `(a b c)` and `(a . ())` as `(a)`.
pub fn list(
    file: FileId,
    start: usize,
    end: usize,
    elements: Elements,
    tail: Option<(usize, usize, Nested)>,
) -> Result<Nested, Error> {
    let (mut items, mut depth) = elements;
    let tail = match tail {
        None => None,
        Some((dot_start, dot_end, (tail, tail_depth))) => {
            if items.is_empty() {
                return Err(invalid(
                    file,
                    "expected a datum before `.`: a dotted list needs at least one element before the dot".into(),
                    dot_start,
                    dot_end,
                ));
            }
            depth = depth.max(tail_depth);
            match tail.kind {
                DatumKind::List { items: more, tail: rest } => {
                    items.extend(more);
                    rest
                }
                _ => Some(Box::new(tail)),
            }
        }
    };
    let depth = nest(file, start, end, depth)?;
    Ok((Datum::new(DatumKind::List { items, tail }, Span::new(file, start, end)), depth))
}

/// `#( items )`.
pub fn vector(file: FileId, start: usize, end: usize, elements: Elements) -> Result<Nested, Error> {
    let (items, depth) = elements;
    let depth = nest(file, start, end, depth)?;
    Ok((Datum::new(DatumKind::Vector(items), Span::new(file, start, end)), depth))
}

/// `#u8( bytes )`: every element an exact integer from 0 to 255.
pub fn bytevector(file: FileId, start: usize, end: usize, elements: Elements) -> Result<Nested, Error> {
    let (items, _) = elements;
    let mut bytes = Vec::with_capacity(items.len());
    for item in &items {
        let byte = match &item.kind {
            DatumKind::Number(Number::Integer(n)) => u8::try_from(n).ok(),
            _ => None,
        };
        match byte {
            Some(b) => bytes.push(b),
            None => {
                return Err(invalid(
                    file,
                    format!(
                        "a bytevector element must be an exact integer from 0 to 255, not `{}`",
                        shorten(&item.to_string())
                    ),
                    item.span.start as usize,
                    item.span.end as usize,
                ));
            }
        }
    }
    Ok((Datum::new(DatumKind::Bytevector(bytes), Span::new(file, start, end)), 1))
}

/// `'datum` and the like: the list `(quote datum)` spanning both, the symbol spanning the prefix.
pub fn prefixed(
    file: FileId,
    start: usize,
    prefix_end: usize,
    end: usize,
    prefix: Prefix,
    (datum, depth): Nested,
) -> Result<Nested, Error> {
    let depth = nest(file, start, end, depth)?;
    let symbol = Datum::new(DatumKind::Symbol(prefix.symbol().to_string()), Span::new(file, start, prefix_end));
    let list = DatumKind::List { items: vec![symbol, datum], tail: None };
    Ok((Datum::new(list, Span::new(file, start, end)), depth))
}

/// The source text of `start..end`, shortened, for messages.
fn text_of(source: &str, start: usize, end: usize) -> String {
    shorten(source.get(start..end).unwrap_or("?"))
}

/// What the grammar's terminal names in an "expected" list mean to a person.
fn expected_words(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
    let mut words = Vec::new();
    if names.iter().any(|n| matches!(*n, "datum" | "(" | "#(" | "#u8(" | "'" | "`" | "," | ",@")) {
        words.push("a datum".to_string());
    }
    for name in [")", "."] {
        if names.contains(&name) {
            words.push(format!("`{name}`"));
        }
    }
    words.join(" or ")
}

/// A readable [`ReadError`] for a parse failure; `lexer` is the token stream the parser stopped in.
fn explain(error: Error, lexer: &Lexer<'_>, source: &str, file: FileId) -> ReadError {
    let make = |kind, message: String, start: usize, end: usize| ReadError {
        kind,
        message,
        span: Span::new(file, start, end),
    };
    let prefix_text = |seen: &Seen| text_of(source, seen.start, seen.end);
    match error {
        ParseError::User { error } => error,
        ParseError::UnrecognizedEof { location, .. } => match lexer.pending.last() {
            Some(p @ Pending { what: Waiting::List { .. } | Waiting::Vector | Waiting::Bytevector, .. }) => {
                let message = format!("unclosed `{}`: the text ends before its `)`", text_of(source, p.start, p.end));
                make(ReadErrorKind::Incomplete, message, p.start, p.end)
            }
            Some(p) => {
                let message =
                    format!("expected a datum after `{}`, but the text ends", text_of(source, p.start, p.end));
                make(ReadErrorKind::Incomplete, message, p.start, p.end)
            }
            None => make(ReadErrorKind::Incomplete, "unexpected end of text".into(), location, location),
        },
        ParseError::UnrecognizedToken { token: (start, token, end), expected } => {
            let found = text_of(source, start, end);
            let names: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
            let message = match (lexer.before_last, &token) {
                (Some(before), Tok::Close | Tok::Dot) if before.class == TokClass::Prefix => {
                    format!("expected a datum after `{}`, found `{found}`", prefix_text(&before))
                }
                _ if names.iter().all(|n| matches!(*n, ")" | "#;")) && names.contains(&")") => {
                    format!(
                        "expected `)` after the datum that follows `.`, found `{found}`: only one datum may follow the dot"
                    )
                }
                (_, Tok::Close) => "unexpected `)`".to_string(),
                (_, Tok::Dot) => {
                    "unexpected `.`: a dot may only stand in a list, between its elements and its last datum"
                        .to_string()
                }
                _ => format!("unexpected `{found}`; expected {}", expected_words(&expected)),
            };
            make(ReadErrorKind::Invalid, message, start, end)
        }
        ParseError::ExtraToken { token: (start, _, end) } => {
            make(ReadErrorKind::Invalid, format!("unexpected `{}`", text_of(source, start, end)), start, end)
        }
        ParseError::InvalidToken { location } => {
            make(ReadErrorKind::Invalid, "invalid token".into(), location, location)
        }
    }
}
