//! The assembler: an image as lossless text, and that text back as the same image.
//!
//! [`write_assembly`] prints everything an [`Image`] holds — name, files, library references, globals,
//! every constant in full, the entry, and each function's header, instructions and source positions —
//! and [`assemble`] parses it back, so that `assemble(&write_assembly(&image))` is `image` again, bit for
//! bit: reals are written as their bits and anything that has no canonical text (an integer whose bytes
//! are not minimal, code that does not decode) is written as raw bytes. Unlike [`super::disasm`], which
//! shows a verified image to a person, this works on any image; [`assemble`] does not verify what it
//! builds (run [`super::verify`] on the result). Mnemonics and operand counts come from the instruction
//! table ([`Insn::name`], [`Insn::from_name_and_operands`]). The format is described in
//! `spec/bytecode.md`, section "Assembly text".

use std::fmt::Write;
use std::iter::Peekable;
use std::str::Chars;

use num_bigint::BigInt;

use super::disasm::constant_text;
use super::image::{Constant, Function, Image, LibraryRef, Position};
use super::instructions::{Insn, OperandKind, decode_all};

/// The column where the comments after instructions and directives start.
const COMMENT_COLUMN: usize = 40;
/// Comments (and quoted text in error messages) longer than this many characters are cut short.
const COMMENT_LIMIT: usize = 60;

/// Why a text is not assembly. Lines are numbered from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AsmError {
    /// A line does not parse.
    #[error("line {line}: {message}")]
    Syntax {
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Something else was expected.
    #[error("line {line}: expected {expected}, found {found}")]
    Expected {
        /// The line.
        line: usize,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A directive this format does not have.
    #[error("line {line}: unknown directive `{directive}`")]
    UnknownDirective {
        /// The line.
        line: usize,
        /// The directive.
        directive: String,
    },
    /// A constant of a kind this format does not have.
    #[error("line {line}: unknown constant kind `{kind}`")]
    UnknownConstantKind {
        /// The line.
        line: usize,
        /// The kind.
        kind: String,
    },
    /// A mnemonic no instruction has.
    #[error("line {line}: unknown instruction `{mnemonic}`")]
    UnknownInstruction {
        /// The line.
        line: usize,
        /// The mnemonic.
        mnemonic: String,
    },
    /// An instruction with the wrong number of operands.
    #[error("line {line}: `{mnemonic}` takes {expected} operand(s) ({names}), not {found}")]
    OperandCount {
        /// The line.
        line: usize,
        /// The mnemonic.
        mnemonic: String,
        /// The operands' names.
        names: String,
        /// What was expected.
        expected: usize,
        /// What was found.
        found: usize,
    },
    /// An index out of order.
    #[error("line {line}: expected `{directive} {expected}`, found `{directive} {found}`: indices count up from 0")]
    OutOfSequence {
        /// The line.
        line: usize,
        /// The directive.
        directive: &'static str,
        /// What was expected.
        expected: usize,
        /// What was found.
        found: u32,
    },
    /// A directive given twice.
    #[error("line {line}: a second `{directive}` (the first is on line {first_line})")]
    Duplicate {
        /// The line.
        line: usize,
        /// The directive.
        directive: &'static str,
        /// The line of the first.
        first_line: usize,
    },
    /// Code before the first function.
    #[error("line {line}: {what} before the first `.function`")]
    OutsideFunction {
        /// The line.
        line: usize,
        /// What came.
        what: &'static str,
    },
    /// An instruction whose label is not its index.
    #[error("line {line}: instruction {pc} of its function is labelled {label}")]
    WrongLabel {
        /// The line.
        line: usize,
        /// The label.
        label: u32,
        /// The instruction's index.
        pc: usize,
    },
    /// A function with both instruction lines and a `.code` line.
    #[error("line {line}: a function's code is either instructions or one `.code` line, not both")]
    MixedCode {
        /// The line.
        line: usize,
    },
    /// A directive every image needs is missing.
    #[error("the text has no `{directive}` directive")]
    Missing {
        /// The directive.
        directive: &'static str,
    },
}

impl AsmError {
    /// The line the error is about, if it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            AsmError::Syntax { line, .. }
            | AsmError::Expected { line, .. }
            | AsmError::UnknownDirective { line, .. }
            | AsmError::UnknownConstantKind { line, .. }
            | AsmError::UnknownInstruction { line, .. }
            | AsmError::OperandCount { line, .. }
            | AsmError::OutOfSequence { line, .. }
            | AsmError::Duplicate { line, .. }
            | AsmError::OutsideFunction { line, .. }
            | AsmError::WrongLabel { line, .. }
            | AsmError::MixedCode { line } => Some(*line),
            AsmError::Missing { .. } => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Writing

/// The lossless assembly text of `image`, which need not verify.
pub fn write_assembly(image: &Image) -> String {
    let mut out =
        String::from("; Chenilles assembly: the lossless text of an image (spec/bytecode.md, \"Assembly text\").\n");
    emit(&mut out, format!(".image {}", quoted(&image.name)), None);
    emit(&mut out, format!(".entry {}", image.entry), None);
    for (index, file) in image.files.iter().enumerate() {
        emit(&mut out, format!(".file {index} {}", quoted(file)), None);
    }
    for (index, library) in image.libraries.iter().enumerate() {
        let hash: String = library.hash.iter().map(|byte| format!("{byte:02x}")).collect();
        emit(&mut out, format!(".library {index} {} {hash}", quoted(&library.name)), None);
    }
    for (index, global) in image.globals.iter().enumerate() {
        emit(&mut out, format!(".global {index} {}", quoted(global)), None);
    }
    for (index, constant) in image.constants.iter().enumerate() {
        let comment = match constant {
            Constant::Real(_) | Constant::Character(_) | Constant::List { .. } | Constant::Vector(_) => {
                u32::try_from(index).ok().map(|index| constant_comment(image, index))
            }
            _ => None,
        };
        emit(&mut out, format!(".const {index} {}", constant_body(constant)), comment);
    }
    for (index, function) in image.functions.iter().enumerate() {
        out.push('\n');
        emit(
            &mut out,
            format!(
                ".function {index} {} required {} optional {} rest {} locals {} free {}",
                quoted(&function.name),
                function.required,
                function.optional,
                if function.rest { "yes" } else { "no" },
                function.locals,
                function.free
            ),
            None,
        );
        write_body(&mut out, image, function);
    }
    out
}

/// A function's instructions with its positions before the instructions they start at, or, when the
/// code does not decode or the positions are not sorted and in range, the code and then the positions.
fn write_body(out: &mut String, image: &Image, function: &Function) {
    let insns = match decode_all(&function.code) {
        Ok(insns) => insns,
        Err(error) => {
            emit(out, format!(".code {}", number_list(&function.code)), Some(format!("does not decode: {error}")));
            for position in &function.positions {
                write_position(out, image, position);
            }
            return;
        }
    };
    let sorted = function.positions.windows(2).all(|pair| matches!(pair, [a, b] if a.pc <= b.pc));
    let interleave = sorted && function.positions.iter().all(|p| (p.pc as usize) < insns.len());
    let mut positions = function.positions.iter().peekable();
    for (pc, insn) in insns.iter().enumerate() {
        while interleave && let Some(position) = positions.next_if(|p| p.pc as usize == pc) {
            write_position(out, image, position);
        }
        let notes: Vec<String> =
            insn.operands().iter().filter_map(|&(kind, value)| operand_note(image, kind, value)).collect();
        emit(out, format!("{pc:>6}: {insn}"), (!notes.is_empty()).then(|| notes.join(", ")));
    }
    for position in positions {
        write_position(out, image, position);
    }
}

fn write_position(out: &mut String, image: &Image, p: &Position) {
    let file = image.files.get(p.file as usize).map_or("?", |name| prefix(name));
    emit(
        out,
        format!(".pos {} file {} line {} column {}", p.pc, p.file, p.line, p.column),
        Some(format!("{file}:{}:{}", p.line, p.column)),
    );
}

/// What an operand names, for a comment: a constant's text, a global's name, a function's name.
fn operand_note(image: &Image, kind: OperandKind, value: u32) -> Option<String> {
    match kind {
        OperandKind::Const => Some(constant_comment(image, value)),
        OperandKind::Global => image.globals.get(value as usize).map(|name| prefix(name).to_string()),
        OperandKind::Func => image.functions.get(value as usize).map(|f| format!("<{}>", prefix(&f.name))),
        _ => None,
    }
}

/// The `write`-style text of constant `index`, as the disassembler shows it, but cut short after about
/// [`COMMENT_LIMIT`] characters however large, deep or shared the constant is (the writer takes any
/// image, and one whose constants share structure could otherwise take exponential time).
fn constant_comment(image: &Image, index: u32) -> String {
    let mut out = String::new();
    comment_text(image, index, 0, &mut out);
    out
}

fn comment_text(image: &Image, index: u32, depth: usize, out: &mut String) {
    let Some(constant) = image.constants.get(index as usize) else {
        out.push('?');
        return;
    };
    let full = |out: &String| out.chars().count() > COMMENT_LIMIT;
    let items = |open: &str, items: &[u32], out: &mut String| {
        out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if full(out) {
                out.push_str(" ...");
                return;
            }
            if i > 0 {
                out.push(' ');
            }
            comment_text(image, *item, depth + 1, out);
        }
    };
    match constant {
        _ if depth > 4 || full(out) => out.push_str("..."),
        Constant::List { items: elements, tail } => {
            items("(", elements, out);
            if !matches!(image.constants.get(*tail as usize), Some(Constant::Nil)) && !full(out) {
                out.push_str(" . ");
                comment_text(image, *tail, depth + 1, out);
            }
            out.push(')');
        }
        Constant::Vector(elements) => {
            items("#(", elements, out);
            out.push(')');
        }
        Constant::String(s) => {
            let _ = write!(out, "{:?}", prefix(s));
        }
        Constant::Symbol(s) => {
            out.push('\'');
            out.push_str(prefix(s));
        }
        Constant::Bytevector(bytes) if bytes.len() > COMMENT_LIMIT => {
            let _ = write!(out, "#<bytevector of {} bytes>", bytes.len());
        }
        Constant::Integer(bytes) | Constant::Rational { numerator: bytes, .. } if bytes.len() > COMMENT_LIMIT => {
            let _ = write!(out, "#<number of {} bytes>", bytes.len());
        }
        Constant::Rational { denominator, .. } if denominator.len() > COMMENT_LIMIT => {
            let _ = write!(out, "#<number of {} bytes>", denominator.len());
        }
        _ => out.push_str(&constant_text(image, index, depth)),
    }
}

/// The first [`COMMENT_LIMIT`] characters of `text`.
fn prefix(text: &str) -> &str {
    text.char_indices().nth(COMMENT_LIMIT).map_or(text, |(end, _)| &text[..end])
}

/// What follows `.const N`.
fn constant_body(constant: &Constant) -> String {
    match constant {
        Constant::Unspecified => "unspecified".into(),
        Constant::Eof => "eof".into(),
        Constant::Default => "default".into(),
        Constant::Nil => "nil".into(),
        Constant::Boolean(b) => format!("boolean {b}"),
        Constant::Fixnum(n) => format!("fixnum {n}"),
        Constant::Integer(bytes) => match canonical_integer(bytes) {
            Some(n) => format!("integer {n}"),
            None => format!("integer bytes {}", number_list(bytes)),
        },
        Constant::Rational { numerator, denominator } => {
            match (canonical_integer(numerator), canonical_integer(denominator)) {
                (Some(n), Some(d)) => format!("rational {n}/{d}"),
                _ => format!("rational bytes {} {}", number_list(numerator), number_list(denominator)),
            }
        }
        Constant::Real(x) => format!("real 0x{:016x}", x.to_bits()),
        Constant::Character(c) => format!("char 0x{c:x}"),
        Constant::String(s) => format!("string {}", quoted(s)),
        Constant::Symbol(s) => format!("symbol {}", quoted(s)),
        Constant::Bytevector(bytes) => format!("bytevector {}", number_list(bytes)),
        Constant::List { items, tail } => format!("list {} tail {tail}", number_list(items)),
        Constant::Vector(items) => format!("vector {}", number_list(items)),
    }
}

/// The integer two's-complement little-endian `bytes` hold, if they are the minimal form of it (the
/// form the decimal text assembles back to).
fn canonical_integer(bytes: &[u8]) -> Option<BigInt> {
    let n = BigInt::from_signed_bytes_le(bytes);
    (n.to_signed_bytes_le() == bytes).then_some(n)
}

/// `[a b c]`.
fn number_list<T: std::fmt::Display>(items: &[T]) -> String {
    let mut text = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        let _ = write!(text, "{item}");
    }
    text.push(']');
    text
}

/// Appends one line: `text`, then, if any, `comment` after a `;` at [`COMMENT_COLUMN`].
fn emit(out: &mut String, text: String, comment: Option<String>) {
    out.push_str(&text);
    if let Some(comment) = comment {
        let width = text.chars().count();
        out.extend(std::iter::repeat_n(' ', COMMENT_COLUMN.saturating_sub(width).max(1)));
        out.push_str("; ");
        out.push_str(&one_line(&comment));
    }
    out.push('\n');
}

/// `text` as a quoted string: `"` and `\` escaped, and every character one could not see or that would
/// end the line written `\n`, `\r`, `\t` or `\u{HEX}`.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => push_visible(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// `text` on one visible line, cut short after [`COMMENT_LIMIT`] characters.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == COMMENT_LIMIT {
            out.push_str("...");
            break;
        }
        push_visible(&mut out, c);
    }
    out
}

fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_invisible(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// Control characters, whitespace other than the space, and the zero-width and direction-changing
/// format characters.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(c,
            '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e0fff}')
}

// ---------------------------------------------------------------------------------------------------
// Reading

/// Parses assembly text (as [`write_assembly`] writes it) into an image. Checks the syntax, that
/// indices count up, and that every operand is a `u32`; leaves the rest to [`super::verify`]. Never
/// panics, whatever `text` holds.
pub fn assemble(text: &str) -> Result<Image, AsmError> {
    let mut assembler = Assembler::default();
    for (index, source) in text.lines().enumerate() {
        let line = index + 1;
        let mut cursor = Cursor { line, tokens: tokenize(source, line)?, at: 0 };
        if !cursor.tokens.is_empty() {
            assembler.line(&mut cursor)?;
            cursor.end()?;
        }
    }
    assembler.finish()
}

/// One piece of a line.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A run of characters other than whitespace, `"`, `;`, `[` and `]`.
    Word(String),
    /// A quoted string, escapes decoded.
    Quoted(String),
    Open,
    Close,
}

fn tokenize(text: &str, line: usize) -> Result<Vec<Token>, AsmError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => break,
            '[' => tokens.push(Token::Open),
            ']' => tokens.push(Token::Close),
            '"' => tokens.push(Token::Quoted(read_string(&mut chars, line)?)),
            c if c.is_whitespace() => {}
            c => {
                let mut word = String::from(c);
                while let Some(c) = chars.next_if(|&c| !(c.is_whitespace() || matches!(c, ';' | '[' | ']' | '"'))) {
                    word.push(c);
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// The rest of a quoted string whose opening `"` was just read.
fn read_string(chars: &mut Peekable<Chars<'_>>, line: usize) -> Result<String, AsmError> {
    let syntax = |message: String| AsmError::Syntax { line, message };
    let unclosed = || syntax("a string is not closed before the end of the line".into());
    let mut text = String::new();
    loop {
        match chars.next().ok_or_else(unclosed)? {
            '"' => return Ok(text),
            '\\' => match chars.next().ok_or_else(unclosed)? {
                'n' => text.push('\n'),
                'r' => text.push('\r'),
                't' => text.push('\t'),
                '"' => text.push('"'),
                '\\' => text.push('\\'),
                'u' => {
                    let bad =
                        || syntax("expected `\\u{HEX}` with 1 to 6 hex digits naming a Unicode scalar value".into());
                    if chars.next() != Some('{') {
                        return Err(bad());
                    }
                    let mut digits = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) if c.is_ascii_hexdigit() && digits.len() < 6 => digits.push(c),
                            _ => return Err(bad()),
                        }
                    }
                    let c = u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32).ok_or_else(bad)?;
                    text.push(c);
                }
                other => {
                    return Err(syntax(format!(
                        "unknown escape `\\{}` in a string (known: \\\" \\\\ \\n \\r \\t \\u{{HEX}})",
                        one_line(&other.to_string())
                    )));
                }
            },
            c => text.push(c),
        }
    }
}

/// The tokens of one line, read from left to right.
struct Cursor {
    line: usize,
    tokens: Vec<Token>,
    at: usize,
}

impl Cursor {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn expected(&self, expected: impl Into<String>, found: Option<&Token>) -> AsmError {
        let found = match found {
            None => "the end of the line".to_string(),
            Some(Token::Word(word)) => format!("`{}`", one_line(word)),
            Some(Token::Quoted(text)) => one_line(&quoted(text)),
            Some(Token::Open) => "`[`".to_string(),
            Some(Token::Close) => "`]`".to_string(),
        };
        AsmError::Expected { line: self.line, expected: expected.into(), found }
    }

    fn word(&mut self, what: &str) -> Result<String, AsmError> {
        match self.next() {
            Some(Token::Word(word)) => Ok(word),
            other => Err(self.expected(what, other.as_ref())),
        }
    }

    fn string(&mut self, what: &str) -> Result<String, AsmError> {
        match self.next() {
            Some(Token::Quoted(text)) => Ok(text),
            other => Err(self.expected(format!("{what} (a quoted string)"), other.as_ref())),
        }
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), AsmError> {
        match self.next() {
            Some(Token::Word(word)) if word == keyword => Ok(()),
            other => Err(self.expected(format!("`{keyword}`"), other.as_ref())),
        }
    }

    /// Whether the next token is the word `keyword`; if it is, it is read.
    fn take_keyword(&mut self, keyword: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Word(word)) if word == keyword);
        if found {
            self.at += 1;
        }
        found
    }

    /// A word that `parse` accepts, described as `what` when it does not.
    fn parsed<T>(&mut self, what: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, AsmError> {
        match self.next() {
            Some(Token::Word(word)) => match parse(&word) {
                Some(value) => Ok(value),
                None => Err(self.expected(what, Some(&Token::Word(word)))),
            },
            other => Err(self.expected(what, other.as_ref())),
        }
    }

    fn u32(&mut self, what: &str) -> Result<u32, AsmError> {
        self.parsed(&format!("{what} (a number from 0 to 4294967295)"), parse_u32)
    }

    /// `[item ...]`, each item a word that `parse` accepts.
    fn list<T>(&mut self, what: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, AsmError> {
        match self.next() {
            Some(Token::Open) => {}
            other => return Err(self.expected(format!("`[` opening {what}"), other.as_ref())),
        }
        let mut items = Vec::new();
        loop {
            match self.next() {
                Some(Token::Close) => return Ok(items),
                Some(Token::Word(word)) => match parse(&word) {
                    Some(item) => items.push(item),
                    None => return Err(self.expected(format!("an element of {what} or `]`"), Some(&Token::Word(word)))),
                },
                other => return Err(self.expected(format!("an element of {what} or `]`"), other.as_ref())),
            }
        }
    }

    fn bytes(&mut self, what: &str) -> Result<Vec<u8>, AsmError> {
        self.list(&format!("{what} (numbers from 0 to 255)"), |word| parse_u32(word).and_then(|n| u8::try_from(n).ok()))
    }

    /// Checks that the line has no more tokens.
    fn end(&self) -> Result<(), AsmError> {
        match self.peek() {
            None => Ok(()),
            found => Err(self.expected("the end of the line", found)),
        }
    }
}

/// A decimal number, or `0x` and hex digits.
fn parse_u32(word: &str) -> Option<u32> {
    match word.strip_prefix("0x") {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => u32::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) => word.parse().ok(),
        None => None,
    }
}

/// A decimal integer, `-` allowed.
fn parse_integer(word: &str) -> Option<BigInt> {
    let digits = word.strip_prefix('-').unwrap_or(word);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    BigInt::parse_bytes(word.as_bytes(), 10)
}

fn parse_i64(word: &str) -> Option<i64> {
    parse_integer(word).and_then(|n| i64::try_from(n).ok())
}

/// `0x` and up to 16 hex digits: the bits of the real; or a decimal like `1.5`, `-inf` or `NaN`.
fn parse_real(word: &str) -> Option<f64> {
    match word.strip_prefix("0x") {
        Some(hex) if (1..=16).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok().map(f64::from_bits)
        }
        Some(_) => None,
        None => word.parse().ok(),
    }
}

/// 64 hex digits.
fn parse_hash(word: &str) -> Option<[u8; 32]> {
    let digits: Vec<u8> =
        word.chars().map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok())).collect::<Option<_>>()?;
    if digits.len() != 64 {
        return None;
    }
    let mut hash = [0; 32];
    for (byte, pair) in hash.iter_mut().zip(digits.chunks_exact(2)) {
        if let [high, low] = pair {
            *byte = (high << 4) | low;
        }
    }
    Some(hash)
}

/// A value set by a directive that may appear once, with the line that set it.
type Once<T> = Option<(usize, T)>;

/// A function being assembled.
struct FunctionState {
    function: Function,
    /// Instructions so far.
    insns: usize,
    /// The line of the `.code` directive, if the code is raw bytes.
    raw_code: Option<usize>,
}

/// The image being assembled, line by line.
#[derive(Default)]
struct Assembler {
    name: Once<String>,
    entry: Once<u32>,
    files: Vec<String>,
    libraries: Vec<LibraryRef>,
    globals: Vec<String>,
    constants: Vec<Constant>,
    functions: Vec<FunctionState>,
}

impl Assembler {
    fn line(&mut self, cursor: &mut Cursor) -> Result<(), AsmError> {
        match cursor.next() {
            Some(Token::Word(word)) if word.starts_with('.') => self.directive(&word, cursor),
            Some(Token::Word(word)) => self.instruction(word, cursor),
            other => Err(cursor.expected("a directive or an instruction", other.as_ref())),
        }
    }

    fn directive(&mut self, directive: &str, cursor: &mut Cursor) -> Result<(), AsmError> {
        let line = cursor.line;
        match directive {
            ".image" => {
                let name = cursor.string("the image's name")?;
                set_once(&mut self.name, ".image", line, name)
            }
            ".entry" => {
                let entry = cursor.u32("the entry function")?;
                set_once(&mut self.entry, ".entry", line, entry)
            }
            ".file" => {
                sequence(cursor, ".file", self.files.len())?;
                self.files.push(cursor.string("the file's name")?);
                Ok(())
            }
            ".library" => {
                sequence(cursor, ".library", self.libraries.len())?;
                let name = cursor.string("the library's name")?;
                let hash = cursor.parsed("the library image's blake3 hash (64 hex digits)", parse_hash)?;
                self.libraries.push(LibraryRef { name, hash });
                Ok(())
            }
            ".global" => {
                sequence(cursor, ".global", self.globals.len())?;
                self.globals.push(cursor.string("the global's name")?);
                Ok(())
            }
            ".const" => {
                sequence(cursor, ".const", self.constants.len())?;
                let constant = constant(cursor)?;
                self.constants.push(constant);
                Ok(())
            }
            ".function" => {
                sequence(cursor, ".function", self.functions.len())?;
                let name = cursor.string("the function's name")?;
                cursor.keyword("required")?;
                let required = cursor.u32("the required parameter count")?;
                cursor.keyword("optional")?;
                let optional = cursor.u32("the optional parameter count")?;
                cursor.keyword("rest")?;
                let rest = cursor.parsed("`yes` or `no`", |word| match word {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                })?;
                cursor.keyword("locals")?;
                let locals = cursor.u32("the local slot count")?;
                cursor.keyword("free")?;
                let free = cursor.u32("the free variable count")?;
                let function =
                    Function { name, required, optional, rest, locals, free, code: Vec::new(), positions: Vec::new() };
                self.functions.push(FunctionState { function, insns: 0, raw_code: None });
                Ok(())
            }
            ".pos" => {
                let pc = cursor.u32("the instruction index")?;
                cursor.keyword("file")?;
                let file = cursor.u32("the file index")?;
                cursor.keyword("line")?;
                let source_line = cursor.u32("the line")?;
                cursor.keyword("column")?;
                let column = cursor.u32("the column")?;
                let state = self.current(line, "`.pos`")?;
                state.function.positions.push(Position { pc, file, line: source_line, column });
                Ok(())
            }
            ".code" => {
                let bytes = cursor.bytes("the code's bytes")?;
                let state = self.current(line, "`.code`")?;
                if state.insns > 0 || state.raw_code.is_some() {
                    return Err(AsmError::MixedCode { line });
                }
                state.raw_code = Some(line);
                state.function.code = bytes;
                Ok(())
            }
            _ => Err(AsmError::UnknownDirective { line, directive: one_line(directive) }),
        }
    }

    /// `[PC:] Mnemonic operand ...`, where `word` is the first word.
    fn instruction(&mut self, word: String, cursor: &mut Cursor) -> Result<(), AsmError> {
        let line = cursor.line;
        let (label, mnemonic) = match word.strip_suffix(':') {
            Some(label) => {
                let label = parse_u32(label)
                    .ok_or_else(|| cursor.expected("an instruction label (`PC:`)", Some(&Token::Word(word.clone()))))?;
                (Some(label), cursor.word("an instruction")?)
            }
            None => (None, word),
        };
        let mut operands = Vec::new();
        while cursor.peek().is_some() {
            operands.push(cursor.u32("an operand")?);
        }
        let state = self.current(line, "an instruction")?;
        if state.raw_code.is_some() {
            return Err(AsmError::MixedCode { line });
        }
        if let Some(label) = label
            && label as usize != state.insns
        {
            return Err(AsmError::WrongLabel { line, label, pc: state.insns });
        }
        let Some(insn) = Insn::from_name_and_operands(&mnemonic, &operands) else {
            return Err(match Insn::all().into_iter().find(|insn| insn.name() == mnemonic) {
                Some(known) => AsmError::OperandCount {
                    line,
                    mnemonic,
                    names: known.operand_names().join(", "),
                    expected: known.operand_names().len(),
                    found: operands.len(),
                },
                None => AsmError::UnknownInstruction { line, mnemonic: one_line(&mnemonic) },
            });
        };
        insn.encode(&mut state.function.code);
        state.insns += 1;
        Ok(())
    }

    /// The function that the lines since the last `.function` belong to.
    fn current(&mut self, line: usize, what: &'static str) -> Result<&mut FunctionState, AsmError> {
        self.functions.last_mut().ok_or(AsmError::OutsideFunction { line, what })
    }

    fn finish(self) -> Result<Image, AsmError> {
        let (_, name) = self.name.ok_or(AsmError::Missing { directive: ".image" })?;
        let (_, entry) = self.entry.ok_or(AsmError::Missing { directive: ".entry" })?;
        Ok(Image {
            name,
            files: self.files,
            constants: self.constants,
            globals: self.globals,
            functions: self.functions.into_iter().map(|state| state.function).collect(),
            entry,
            libraries: self.libraries,
        })
    }
}

fn set_once<T>(slot: &mut Once<T>, directive: &'static str, line: usize, value: T) -> Result<(), AsmError> {
    if let Some((first_line, _)) = slot {
        return Err(AsmError::Duplicate { line, directive, first_line: *first_line });
    }
    *slot = Some((line, value));
    Ok(())
}

/// Reads the index after `directive` and checks that it is `expected`.
fn sequence(cursor: &mut Cursor, directive: &'static str, expected: usize) -> Result<(), AsmError> {
    let found = cursor.u32("an index")?;
    if found as usize != expected {
        return Err(AsmError::OutOfSequence { line: cursor.line, directive, expected, found });
    }
    Ok(())
}

/// What follows `.const N`.
fn constant(cursor: &mut Cursor) -> Result<Constant, AsmError> {
    let kind = cursor.word("a constant kind")?;
    Ok(match kind.as_str() {
        "unspecified" => Constant::Unspecified,
        "eof" => Constant::Eof,
        "default" => Constant::Default,
        "nil" => Constant::Nil,
        "boolean" => Constant::Boolean(cursor.parsed("`true` or `false`", |word| match word {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })?),
        "fixnum" => Constant::Fixnum(cursor.parsed("a decimal integer of 64 bits", parse_i64)?),
        "integer" if cursor.take_keyword("bytes") => Constant::Integer(cursor.bytes("the integer's bytes")?),
        "integer" => Constant::Integer(cursor.parsed("a decimal integer", parse_integer)?.to_signed_bytes_le()),
        "rational" if cursor.take_keyword("bytes") => Constant::Rational {
            numerator: cursor.bytes("the numerator's bytes")?,
            denominator: cursor.bytes("the denominator's bytes")?,
        },
        "rational" => {
            let (numerator, denominator) = cursor.parsed("a ratio `N/D` of decimal integers", |word| {
                let (n, d) = word.split_once('/')?;
                Some((parse_integer(n)?, parse_integer(d)?))
            })?;
            Constant::Rational {
                numerator: numerator.to_signed_bytes_le(),
                denominator: denominator.to_signed_bytes_le(),
            }
        }
        "real" => {
            Constant::Real(cursor.parsed("a real: `0x` and the hex digits of its bits, or a decimal", parse_real)?)
        }
        "char" => Constant::Character(cursor.u32("the character's code point")?),
        "string" => Constant::String(cursor.string("the string")?),
        "symbol" => Constant::Symbol(cursor.string("the symbol's name")?),
        "bytevector" => Constant::Bytevector(cursor.bytes("the bytevector")?),
        "list" => {
            let items = cursor.list("the list's constant indices", parse_u32)?;
            cursor.keyword("tail")?;
            let tail = cursor.u32("the index of the list's tail constant")?;
            Constant::List { items, tail }
        }
        "vector" => Constant::Vector(cursor.list("the vector's constant indices", parse_u32)?),
        _ => return Err(AsmError::UnknownConstantKind { line: cursor.line, kind: one_line(&kind) }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Image {
        let code = crate::bytecode::instructions::encode_all(&[
            Insn::Const { k: 9 },
            Insn::JumpIfFalse { t: 3 },
            Insn::Global { g: 0 },
            Insn::Return {},
        ]);
        Image {
            name: "odd \"name\"\n\u{202e}é".into(),
            files: vec!["a.scm".into(), "b;c.scm".into()],
            constants: vec![
                Constant::Unspecified,
                Constant::Eof,
                Constant::Default,
                Constant::Nil,
                Constant::Boolean(true),
                Constant::Fixnum(-42),
                Constant::Integer(vec![0, 0, 0, 0, 0, 0, 0, 0, 0x10]),
                Constant::Integer(vec![0xff, 0xff]),
                Constant::Integer(vec![]),
                Constant::Rational { numerator: vec![0xff], denominator: vec![3] },
                Constant::Rational { numerator: vec![1, 0], denominator: vec![3] },
                Constant::Real(f64::from_bits(0xfff8_0000_0000_0001)),
                Constant::Real(-0.0),
                Constant::Character(0x3bb),
                Constant::Character(0xd800),
                Constant::String("a\"b\\c\n\t\r\0 ; [x] λ \u{2028}".into()),
                Constant::Symbol("|odd sym|\n".into()),
                Constant::Bytevector(vec![0, 255, 7]),
                Constant::List { items: vec![5, 13], tail: 3 },
                Constant::List { items: vec![], tail: 42 },
                Constant::Vector(vec![18, 16]),
            ],
            globals: vec!["display".into(), "".into()],
            functions: vec![
                Function {
                    name: "top".into(),
                    required: 0,
                    optional: 0,
                    rest: false,
                    locals: 1,
                    free: 0,
                    code,
                    positions: vec![
                        Position { pc: 0, file: 0, line: 1, column: 1 },
                        Position { pc: 0, file: 1, line: 2, column: 3 },
                        Position { pc: 2, file: 0, line: 4, column: 5 },
                    ],
                },
                Function {
                    name: "raw".into(),
                    required: 1,
                    optional: 2,
                    rest: true,
                    locals: 7,
                    free: 3,
                    code: vec![0x01, 0, 0],
                    positions: vec![Position { pc: 9, file: 7, line: 0, column: 0 }],
                },
                Function {
                    name: "unsorted".into(),
                    required: 0,
                    optional: 0,
                    rest: false,
                    locals: 0,
                    free: 0,
                    code: vec![0x16],
                    positions: vec![
                        Position { pc: 0, file: 0, line: 1, column: 1 },
                        Position { pc: 5, file: 0, line: 1, column: 1 },
                    ],
                },
                Function {
                    name: "empty".into(),
                    required: 0,
                    optional: 0,
                    rest: false,
                    locals: 0,
                    free: 0,
                    code: vec![],
                    positions: vec![],
                },
            ],
            entry: 77,
            libraries: vec![LibraryRef { name: "(a b)".into(), hash: [0xab; 32] }],
        }
    }

    #[test]
    fn an_unusual_image_round_trips_bit_for_bit() {
        let image = image();
        let text = write_assembly(&image);
        let again = assemble(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
        assert_eq!(again.to_bytes(), image.to_bytes(), "{text}");
        assert_eq!(write_assembly(&again), text);
    }

    #[test]
    fn comments_stay_short_however_large_and_shared_the_constants() {
        // Each vector holds the one before it a thousand times: written out in full, the last would
        // be 1000^10 elements long.
        let mut constants = vec![Constant::String("x".repeat(100_000))];
        for index in 0..10 {
            constants.push(Constant::Vector(vec![index; 1000]));
        }
        let code = crate::bytecode::instructions::encode_all(&[Insn::Const { k: 10 }, Insn::Return {}]);
        let function = Function {
            name: "f".repeat(100_000),
            required: 0,
            optional: 0,
            rest: false,
            locals: 0,
            free: 0,
            code,
            positions: vec![],
        };
        let image = Image {
            name: "shared".into(),
            files: vec![],
            constants,
            globals: vec![],
            functions: vec![function],
            entry: 0,
            libraries: vec![],
        };
        let text = write_assembly(&image);
        assert!(text.lines().all(|line| line.len() < 150_000), "a line is too long");
        assert!(text.contains("; #(#(#(#(#(... ... ..."), "{}", &text[text.len() - 400..]);
        assert_eq!(assemble(&text).unwrap(), image);
    }

    #[test]
    fn hand_written_text_assembles() {
        let text = "
            ; a comment
            .image \"hand\"   ; trailing comment
            .const 0 real 1.5
            .const 1 integer -123456789012345678901234567890
            .const 2 rational -1/3
            .const 3 char 65
            .function 0 \"main\" required 0 optional 0 rest no locals 0 free 0
            Const 0
            1: Return
            .entry 0
        ";
        let image = assemble(text).unwrap();
        assert_eq!(image.name, "hand");
        assert_eq!(image.constants[0], Constant::Real(1.5));
        assert_eq!(image.constants[3], Constant::Character(65));
        assert_eq!(decode_all(&image.functions[0].code).unwrap(), vec![Insn::Const { k: 0 }, Insn::Return {}]);
        assert!(crate::bytecode::verify(&image).is_ok());
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let head = ".image \"x\"\n.entry 0\n";
        let cases = [
            (".const 1 nil", 3, "expected `.const 0`, found `.const 1`"),
            (".const 0 fixnum 99999999999999999999", 3, "a decimal integer of 64 bits"),
            (".const 0 string \"abc", 3, "not closed"),
            (".const 0 string \"\\q\"", 3, "unknown escape"),
            (".const 0 string \"\\u{d800}\"", 3, "Unicode scalar value"),
            (".const 0 wat", 3, "unknown constant kind `wat`"),
            (".const 0 list [1 2", 3, "the end of the line"),
            (".frobnicate", 3, "unknown directive"),
            ("Return", 3, "before the first `.function`"),
            (".function 0 \"f\" required 0 optional 0 rest maybe locals 0 free 0", 3, "`yes` or `no`"),
            (
                ".function 0 \"f\" required 0 optional 0 rest no locals 0 free 0\nConst",
                4,
                "takes 1 operand(s) (k), not 0",
            ),
            (".function 0 \"f\" required 0 optional 0 rest no locals 0 free 0\nFly 1", 4, "unknown instruction `Fly`"),
            (".function 0 \"f\" required 0 optional 0 rest no locals 0 free 0\n3: Return", 4, "labelled 3"),
            (".function 0 \"f\" required 0 optional 0 rest no locals 0 free 0\nReturn\n.code [22]", 5, "not both"),
            (".function 0 \"f\" required 0 optional 0 rest no locals 0 free 0\nReturn 1 2", 4, "takes 0 operand(s)"),
            (".image \"y\"", 3, "a second `.image` (the first is on line 1)"),
            (".library 0 \"(a)\" abc", 3, "64 hex digits"),
            (".global 0 \"g\" extra", 3, "expected the end of the line, found `extra`"),
        ];
        for (tail, line, message) in cases {
            let error = assemble(&format!("{head}{tail}")).expect_err(tail);
            assert_eq!(error.line(), Some(line), "{tail}: {error}");
            assert!(error.to_string().contains(message), "{tail}: {error}");
        }
        assert_eq!(assemble(".entry 0"), Err(AsmError::Missing { directive: ".image" }));
        assert_eq!(assemble(".image \"\""), Err(AsmError::Missing { directive: ".entry" }));
    }
}
