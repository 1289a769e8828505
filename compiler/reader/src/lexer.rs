//! The lexer: source text to the tokens the grammar reads.
//!
//! Two layers. A [logos] lexer ([`Raw`]) only cuts the text into pieces: punctuation, whole string and
//! `|symbol|` literals, character literals, `#`-syntax and "atoms" (maximal runs of non-delimiter
//! characters). [`Lexer`] then classifies each piece in plain Rust — an atom is a number, the dot of a
//! dotted list, or a symbol; escapes are decoded; `#!fold-case` directives are obeyed — attaches byte
//! positions, and turns every failure into a [`ReadError`] a person can read.
//!
//! Lexing atoms whole and classifying them afterwards avoids fighting regex priorities over
//! `-42` / `-` / `->x` / `...` / `1+`, which R7RS tells apart by the whole token.

use logos::{FilterResult, Logos};

use crate::datum::{DatumKind, FileId, Span};
use crate::number::{self, NumberSyntax};
use crate::{ReadError, ReadErrorKind};

/// What logos itself can report. Positions are added by [`Lexer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RawError {
    /// No token starts here (e.g. `[` or `{`).
    #[default]
    Unexpected,
    /// `#|` without its `|#`.
    UnclosedBlockComment,
    /// `"` without its closing `"`.
    UnclosedString,
    /// `|` without its closing `|`.
    UnclosedBar,
    /// `#\` at the very end of the text.
    CharacterAtEnd,
}

/// The delimiter characters of the atom regexes below, besides whitespace. R7RS's delimiters are
/// whitespace `|` `(` `)` `"` `;`; the quote characters and the reserved brackets end atoms too.
const DELIMITERS: &str = "()[]{}\";'`,|";

/// Whether `c` ends an atom or a character name.
pub fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || DELIMITERS.contains(c)
}

/// The pieces logos cuts the text into.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(error = RawError)]
#[logos(skip r"\s+")]
#[logos(skip(r";[^\n\r]*", allow_greedy = true))]
pub enum Raw {
    #[token("(")]
    Open,
    #[token(")")]
    Close,
    #[token("#(")]
    VectorOpen,
    #[token("#u8(")]
    #[token("#U8(")]
    BytevectorOpen,
    #[token("'")]
    Quote,
    #[token("`")]
    Quasiquote,
    #[token(",")]
    Unquote,
    #[token(",@")]
    UnquoteSplicing,
    #[token("#;")]
    DatumComment,
    /// Skipped by its callback (or an error when it is never closed).
    #[token("#|", block_comment)]
    BlockComment,
    /// The whole literal, quotes included.
    #[token("\"", |lex| delimited(lex, b'"', RawError::UnclosedString))]
    String,
    /// The whole literal, bars included.
    #[token("|", |lex| delimited(lex, b'|', RawError::UnclosedBar))]
    BarSymbol,
    /// `#\` and the character or name after it.
    #[token("#\\", character)]
    Character,
    /// `#!name`.
    #[regex(r#"#![^\s()\[\]{}";'`,|]*"#)]
    Directive,
    /// Any other `#` syntax: booleans, prefixed numbers, datum labels, unknown ones.
    #[regex(r#"#([^\s()\[\]{}";'`,|\\!][^\s()\[\]{}";'`,|]*)?"#)]
    Hash,
    /// A maximal run of non-delimiter characters not starting with `#`.
    #[regex(r#"[^\s()\[\]{}";'`,|#][^\s()\[\]{}";'`,|]*"#)]
    Atom,
}

/// Skips a (nested) `#| ... |#` comment whose `#|` was just matched.
fn block_comment(lex: &mut logos::Lexer<'_, Raw>) -> FilterResult<(), RawError> {
    let rest = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i + 1 < rest.len() {
        match (rest[i], rest[i + 1]) {
            (b'|', b'#') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    lex.bump(i);
                    return FilterResult::Skip;
                }
            }
            (b'#', b'|') => {
                depth += 1;
                i += 2;
            }
            _ => i += 1,
        }
    }
    FilterResult::Error(RawError::UnclosedBlockComment)
}

/// Extends a `"` or `|` token to its closing delimiter, stepping over backslash escapes.
fn delimited(lex: &mut logos::Lexer<'_, Raw>, close: u8, unclosed: RawError) -> Result<(), RawError> {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'\\' => i += 2,
            c if c == close => {
                // `close` is ASCII, so `i + 1` is a char boundary.
                lex.bump(i + 1);
                return Ok(());
            }
            _ => i += 1,
        }
    }
    Err(unclosed)
}

/// Extends a `#\` token over its character (whatever it is) and the non-delimiters after it.
fn character(lex: &mut logos::Lexer<'_, Raw>) -> Result<(), RawError> {
    let rest = lex.remainder();
    let Some(first) = rest.chars().next() else {
        return Err(RawError::CharacterAtEnd);
    };
    let after_first = first.len_utf8();
    let name_len = rest[after_first..].find(is_delimiter).unwrap_or(rest.len() - after_first);
    lex.bump(after_first + name_len);
    Ok(())
}

/// The tokens the grammar reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Open,
    Close,
    VectorOpen,
    BytevectorOpen,
    Quote,
    Quasiquote,
    Unquote,
    UnquoteSplicing,
    DatumComment,
    /// A lone `.`, as in `(a . b)`.
    Dot,
    /// A complete datum that is not a compound one: number, string, symbol, character, boolean, `#!name`.
    Simple(DatumKind),
}

/// A token's kind without its payload, kept by [`Lexer`] to explain parse errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokClass {
    Open,
    Close,
    VectorOpen,
    BytevectorOpen,
    /// A prefix that needs a datum after it: `'`, `` ` ``, `,`, `,@`, `#;` and `.`.
    Prefix,
    Simple,
}

impl Tok {
    fn class(&self) -> TokClass {
        match self {
            Tok::Open => TokClass::Open,
            Tok::Close => TokClass::Close,
            Tok::VectorOpen => TokClass::VectorOpen,
            Tok::BytevectorOpen => TokClass::BytevectorOpen,
            Tok::Quote | Tok::Quasiquote | Tok::Unquote | Tok::UnquoteSplicing | Tok::DatumComment | Tok::Dot => {
                TokClass::Prefix
            }
            Tok::Simple(_) => TokClass::Simple,
        }
    }
}

/// A token with its byte range, as seen by the parser error handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub start: usize,
    pub end: usize,
    pub class: TokClass,
}

/// Something that still waits for its end: an opener waits for `)`, a prefix for its datum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    pub start: usize,
    pub end: usize,
    pub what: Waiting,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// `(` and how many elements it has so far (datum comments aside).
    List { elements: usize },
    /// `#(`.
    Vector,
    /// `#u8(`: its elements are checked as they come, so `#u8(300` is an error before the text ends.
    Bytevector,
    /// `'`, `` ` ``, `,`, `,@`: the datum they wait for completes a datum.
    Abbreviation,
    /// `#;` and `.`: the datum they wait for is not an element.
    Swallow,
}

/// The token stream the grammar consumes: classified, positioned tokens or a [`ReadError`].
///
/// Besides producing tokens it follows the nesting, to explain parse errors: the last two tokens, and
/// what is still unfinished (openers not yet closed, prefixes still waiting for their datum).
pub struct Lexer<'s> {
    raw: logos::Lexer<'s, Raw>,
    source: &'s str,
    file: FileId,
    fold_case: bool,
    failed: bool,
    /// The unfinished openers and prefixes, innermost last.
    pub pending: Vec<Pending>,
    /// The last token handed to the parser and the one before it.
    pub last: Option<Seen>,
    pub before_last: Option<Seen>,
}

type Spanned = (usize, Tok, usize);

/// A failed escape, and whether it failed only because the text ended inside it.
struct EscapeError {
    error: ReadError,
    ran_out: bool,
}

impl<'s> Lexer<'s> {
    pub fn new(source: &'s str, file: FileId) -> Lexer<'s> {
        let mut raw = Raw::lexer(source);
        // A `#!/...` or `#! ...` first line is a Unix script header, not data.
        if source.starts_with("#!/") || source.starts_with("#! ") {
            raw.bump(source.find('\n').unwrap_or(source.len()));
        }
        Lexer { raw, source, file, fold_case: false, failed: false, pending: Vec::new(), last: None, before_last: None }
    }

    fn error(&self, kind: ReadErrorKind, message: String, start: usize, end: usize) -> ReadError {
        ReadError { kind, message, span: Span::new(self.file, start, end) }
    }

    fn invalid(&self, message: String, start: usize, end: usize) -> ReadError {
        self.error(ReadErrorKind::Invalid, message, start, end)
    }

    /// Turns a logos failure at `start..end` into a [`ReadError`].
    fn raw_error(&self, error: RawError, start: usize, end: usize) -> ReadError {
        let incomplete = |message: &str| self.error(ReadErrorKind::Incomplete, message.to_string(), start, end);
        match error {
            RawError::UnclosedBlockComment => incomplete("unclosed block comment: the text ends before its `|#`"),
            RawError::UnclosedString | RawError::UnclosedBar => {
                // An escape that can never become valid is reported now rather than waiting for more text.
                let rest = self.source.get(start + 1..).unwrap_or("");
                match self.unescape(rest, start + 1) {
                    Err(EscapeError { error, ran_out: false }) => error,
                    _ if error == RawError::UnclosedString => {
                        incomplete("unclosed string: the text ends before its closing `\"`")
                    }
                    _ => incomplete("unclosed `|symbol|`: the text ends before its closing `|`"),
                }
            }
            RawError::CharacterAtEnd => incomplete("the text ends right after `#\\`"),
            RawError::Unexpected => {
                let text = self.source.get(start..end).unwrap_or("");
                let message = match text.chars().next() {
                    Some(c @ ('[' | ']' | '{' | '}')) => {
                        format!("unexpected `{c}`: square and curly brackets are not supported, use `(` and `)`")
                    }
                    Some(c) => format!("unexpected character `{}`", c.escape_debug()),
                    None => "unexpected text".to_string(),
                };
                self.invalid(message, start, end)
            }
        }
    }

    /// Classifies one raw token. `Ok(None)` means it was a directive and produced no token.
    fn classify(&mut self, raw: Raw, start: usize, end: usize) -> Result<Option<Tok>, ReadError> {
        let text = self.source.get(start..end).unwrap_or("");
        let tok = match raw {
            Raw::Open => Tok::Open,
            Raw::Close => Tok::Close,
            Raw::VectorOpen => Tok::VectorOpen,
            Raw::BytevectorOpen => Tok::BytevectorOpen,
            Raw::Quote => Tok::Quote,
            Raw::Quasiquote => Tok::Quasiquote,
            Raw::Unquote => Tok::Unquote,
            Raw::UnquoteSplicing => Tok::UnquoteSplicing,
            Raw::DatumComment => Tok::DatumComment,
            // The callback always skips; never produced.
            Raw::BlockComment => return Ok(None),
            Raw::String => {
                let body = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
                Tok::Simple(DatumKind::String(self.unescape(body, start + 1).map_err(|e| e.error)?))
            }
            Raw::BarSymbol => {
                let body = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
                Tok::Simple(DatumKind::Symbol(self.unescape(body, start + 1).map_err(|e| e.error)?))
            }
            Raw::Character => Tok::Simple(DatumKind::Character(self.character(text, start, end)?)),
            Raw::Directive => {
                let name = text.get(2..).unwrap_or("");
                match name {
                    "fold-case" => {
                        self.fold_case = true;
                        return Ok(None);
                    }
                    "no-fold-case" => {
                        self.fold_case = false;
                        return Ok(None);
                    }
                    "" => {
                        return Err(self.invalid("expected a name after `#!`".to_string(), start, end));
                    }
                    // `#!/…` begins a script header, which is allowed only on the first line.
                    _ if name.starts_with('/') => {
                        return Err(self.invalid(
                            "`#!/` begins a script header, allowed only on the first line".to_string(),
                            start,
                            end,
                        ));
                    }
                    _ => Tok::Simple(DatumKind::Special(name.to_string())),
                }
            }
            Raw::Hash => self.hash(text, start, end)?,
            Raw::Atom => self.atom(text, start, end)?,
        };
        Ok(Some(tok))
    }

    /// An atom: `.`, a number or a symbol.
    fn atom(&self, text: &str, start: usize, end: usize) -> Result<Tok, ReadError> {
        if text == "." {
            return Ok(Tok::Dot);
        }
        match number::parse(text) {
            NumberSyntax::Number(n) => Ok(Tok::Simple(DatumKind::Number(n))),
            NumberSyntax::Invalid(message) => Err(self.invalid(message, start, end)),
            NumberSyntax::NotANumber => {
                let name = if self.fold_case { fold(text) } else { text.to_string() };
                Ok(Tok::Simple(DatumKind::Symbol(name)))
            }
        }
    }

    /// `#` syntax other than `#(`, `#u8(`, `#;`, `#|`, `#\` and `#!`.
    fn hash(&self, text: &str, start: usize, end: usize) -> Result<Tok, ReadError> {
        let rest = text.get(1..).unwrap_or("");
        let boolean = match rest.to_ascii_lowercase().as_str() {
            "t" | "true" => Some(true),
            "f" | "false" => Some(false),
            _ => None,
        };
        if let Some(b) = boolean {
            return Ok(Tok::Simple(DatumKind::Boolean(b)));
        }
        let Some(first) = rest.chars().next() else {
            return Err(self.invalid("unexpected `#`".to_string(), start, end));
        };
        if "xXbBoOdDeEiI".contains(first) {
            return match number::parse(text) {
                NumberSyntax::Number(n) => Ok(Tok::Simple(DatumKind::Number(n))),
                NumberSyntax::Invalid(message) => Err(self.invalid(message, start, end)),
                NumberSyntax::NotANumber => Err(self.invalid(format!("bad number `{}`", shorten(text)), start, end)),
            };
        }
        let digits = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        if digits.len() < rest.len() && (digits.starts_with('=') || digits.starts_with('#')) {
            let label_end = start + 1 + (rest.len() - digits.len()) + 1;
            return Err(self.invalid(
                "datum labels (`#0=` and `#0#`) are not supported".to_string(),
                start,
                label_end.min(end),
            ));
        }
        Err(self.invalid(format!("unknown `#` syntax `{}`", shorten(text)), start, end))
    }

    /// A character literal; `text` starts with `#\`.
    fn character(&self, text: &str, start: usize, end: usize) -> Result<char, ReadError> {
        let body = text.get(2..).unwrap_or("");
        let mut chars = body.chars();
        let Some(first) = chars.next() else {
            return Err(self.error(ReadErrorKind::Incomplete, "the text ends right after `#\\`".into(), start, end));
        };
        let rest = chars.as_str();
        if rest.is_empty() {
            return Ok(first);
        }
        if (first == 'x' || first == 'X') && rest.chars().all(|c| c.is_ascii_hexdigit()) {
            return match u32::from_str_radix(rest, 16).ok().and_then(char::from_u32) {
                Some(c) => Ok(c),
                None => Err(self.invalid(format!("`{}` is not a Unicode scalar value", shorten(text)), start, end)),
            };
        }
        let folded;
        let name = if self.fold_case {
            folded = fold(body);
            folded.as_str()
        } else {
            body
        };
        match char_by_name(name) {
            Some(c) => Ok(c),
            None => Err(self.invalid(format!("unknown character name `{}`", shorten(text)), start, end)),
        }
    }

    /// Decodes the escapes of a string or `|symbol|` body that starts at byte `offset` of the source.
    ///
    /// `body` may also be the unclosed rest of the text; an error then says whether it is only due to
    /// the text ending in the middle of an escape.
    fn unescape(&self, body: &str, offset: usize) -> Result<String, EscapeError> {
        let fail = |message: String, start: usize, end: usize, ran_out: bool| EscapeError {
            error: self.invalid(message, start, end),
            ran_out,
        };
        let mut out = String::with_capacity(body.len());
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((j, e)) = chars.next() else {
                // Only in unclosed text: a closing delimiter would have been escaped.
                return Err(fail("unfinished escape `\\`".to_string(), offset + i, offset + i + 1, true));
            };
            let escape_end = offset + j + e.len_utf8();
            match e {
                'a' => out.push('\u{7}'),
                'b' => out.push('\u{8}'),
                't' => out.push('\t'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '|' => out.push('|'),
                'x' | 'X' => {
                    let digits_start = j + 1;
                    let mut value: Option<u32> = Some(0);
                    let mut terminated = false;
                    let mut last = j + 1;
                    while let Some(&(k, h)) = chars.peek() {
                        if h == ';' {
                            chars.next();
                            last = k + 1;
                            terminated = true;
                            break;
                        }
                        let Some(d) = h.to_digit(16) else { break };
                        chars.next();
                        last = k + h.len_utf8();
                        value = value.and_then(|v| v.checked_mul(16)).and_then(|v| v.checked_add(d));
                    }
                    let escape = body.get(i..last).unwrap_or("\\x");
                    if !terminated || last == digits_start + 1 {
                        return Err(fail(
                            format!(
                                "invalid hex escape `{}`: write `\\x` hex digits and `;`, like `\\x41;`",
                                shorten(escape)
                            ),
                            offset + i,
                            offset + last,
                            !terminated && chars.peek().is_none(),
                        ));
                    }
                    match value.and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => {
                            return Err(fail(
                                format!("hex escape `{}` is not a Unicode scalar value", shorten(escape)),
                                offset + i,
                                offset + last,
                                false,
                            ));
                        }
                    }
                }
                ' ' | '\t' | '\n' | '\r' => {
                    // Line continuation: intraline whitespace, one line ending, intraline whitespace.
                    let mut newline = e == '\n' || e == '\r';
                    if e == '\r' && chars.peek().is_some_and(|&(_, c)| c == '\n') {
                        chars.next();
                    }
                    if !newline {
                        while chars.peek().is_some_and(|&(_, c)| c == ' ' || c == '\t') {
                            chars.next();
                        }
                        match chars.peek() {
                            Some(&(_, '\n')) => {
                                chars.next();
                                newline = true;
                            }
                            Some(&(_, '\r')) => {
                                chars.next();
                                if chars.peek().is_some_and(|&(_, c)| c == '\n') {
                                    chars.next();
                                }
                                newline = true;
                            }
                            _ => {}
                        }
                    }
                    if !newline {
                        return Err(fail(
                            "invalid string escape: a `\\` followed by spaces must end the line".to_string(),
                            offset + i,
                            escape_end,
                            chars.peek().is_none(),
                        ));
                    }
                    while chars.peek().is_some_and(|&(_, c)| c == ' ' || c == '\t') {
                        chars.next();
                    }
                }
                other => {
                    return Err(fail(
                        format!("invalid string escape `\\{}`", other.escape_debug()),
                        offset + i,
                        escape_end,
                        false,
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Follows the nesting for `tok`; refuses a `.` that has no element before it in its list.
    fn follow(&mut self, start: usize, tok: &Tok, end: usize) -> Result<(), ReadError> {
        let wait = |what| Pending { start, end, what };
        if let Some(Pending { what: Waiting::Bytevector, .. }) = self.pending.last() {
            let not = match tok {
                Tok::Simple(DatumKind::Number(crate::datum::Number::Integer(n))) if u8::try_from(n).is_ok() => None,
                Tok::Simple(kind) => Some(format!("`{}`", shorten(&kind.to_string()))),
                Tok::Open => Some("a list".to_string()),
                Tok::VectorOpen => Some("a vector".to_string()),
                Tok::BytevectorOpen => Some("a bytevector".to_string()),
                Tok::Quote | Tok::Quasiquote | Tok::Unquote | Tok::UnquoteSplicing => {
                    Some("a quoted datum".to_string())
                }
                Tok::Close | Tok::Dot | Tok::DatumComment => None,
            };
            if let Some(not) = not {
                return Err(self.invalid(
                    format!("a bytevector element must be an exact integer from 0 to 255, not {not}"),
                    start,
                    end,
                ));
            }
        }
        match tok {
            Tok::Open => self.pending.push(wait(Waiting::List { elements: 0 })),
            Tok::VectorOpen => self.pending.push(wait(Waiting::Vector)),
            Tok::BytevectorOpen => self.pending.push(wait(Waiting::Bytevector)),
            Tok::Quote | Tok::Quasiquote | Tok::Unquote | Tok::UnquoteSplicing => {
                self.pending.push(wait(Waiting::Abbreviation))
            }
            Tok::DatumComment => self.pending.push(wait(Waiting::Swallow)),
            Tok::Dot => {
                if let Some(Pending { what: Waiting::List { elements: 0 }, .. }) = self.pending.last() {
                    return Err(self.invalid(
                        "expected a datum before `.`: a dotted list needs at least one element before the dot".into(),
                        start,
                        end,
                    ));
                }
                self.pending.push(wait(Waiting::Swallow));
            }
            Tok::Close => {
                // Close the innermost opener (anything still waiting inside it is a parse error anyway).
                if let Some(i) = self
                    .pending
                    .iter()
                    .rposition(|p| matches!(p.what, Waiting::List { .. } | Waiting::Vector | Waiting::Bytevector))
                {
                    self.pending.truncate(i);
                    self.complete();
                }
            }
            Tok::Simple(_) => self.complete(),
        }
        self.before_last = self.last.replace(Seen { start, end, class: tok.class() });
        Ok(())
    }

    /// A datum has just been completed: give it to whatever waits for it.
    fn complete(&mut self) {
        while let Some(top) = self.pending.last_mut() {
            match &mut top.what {
                Waiting::List { elements } => {
                    *elements += 1;
                    return;
                }
                Waiting::Vector | Waiting::Bytevector => return,
                Waiting::Abbreviation => {
                    self.pending.pop();
                }
                Waiting::Swallow => {
                    self.pending.pop();
                    return;
                }
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Spanned, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let raw = self.raw.next()?;
            let range = self.raw.span();
            let (start, end) = (range.start, range.end);
            let result = match raw {
                Ok(raw) => self.classify(raw, start, end),
                Err(e) => Err(self.raw_error(e, start, end)),
            };
            match result {
                Ok(None) => continue,
                Ok(Some(tok)) => match self.follow(start, &tok, end) {
                    Ok(()) => return Some(Ok((start, tok, end))),
                    Err(error) => {
                        self.failed = true;
                        return Some(Err(error));
                    }
                },
                Err(error) => {
                    self.failed = true;
                    return Some(Err(error));
                }
            }
        }
    }
}

/// Case folding for `#!fold-case` (identifiers and character names).
fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// At most 40 characters of `text`, for messages.
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The character a `#\name` names (R7RS names and a few traditional extras).
pub fn char_by_name(name: &str) -> Option<char> {
    Some(match name {
        "alarm" => '\u{7}',
        "backspace" => '\u{8}',
        "delete" | "rubout" => '\u{7f}',
        "escape" | "altmode" => '\u{1b}',
        "newline" | "linefeed" => '\n',
        "null" | "nul" => '\0',
        "return" => '\r',
        "space" => ' ',
        "tab" => '\t',
        "page" => '\u{c}',
        _ => return None,
    })
}

/// The R7RS name `write` uses for `c`, if it has one.
pub fn char_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{7}' => "alarm",
        '\u{8}' => "backspace",
        '\u{7f}' => "delete",
        '\u{1b}' => "escape",
        '\n' => "newline",
        '\0' => "null",
        '\r' => "return",
        ' ' => "space",
        '\t' => "tab",
        _ => return None,
    })
}
