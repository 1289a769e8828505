//! Printing data in `write` syntax: [`std::fmt::Display`] for [`Datum`], [`DatumKind`] and [`Number`].
//!
//! The output reads back as an equal datum (spans aside): strings and symbols are escaped, symbols that
//! would read as something else are written `|like this|`, characters without a visible glyph use their
//! R7RS name or `#\xHH`, and reals print as the shortest decimal that reads back to the same `f64`.
//! `(quote x)` and its kin print as `'x`.

use std::fmt::{self, Display, Formatter, Write};

use crate::datum::{Datum, DatumKind, Number};
use crate::lexer::{char_name, is_delimiter};
use crate::number::{self, MAX_DECIMAL_BITS, NumberSyntax};

impl Display for Datum {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl Display for DatumKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DatumKind::Boolean(true) => f.write_str("#t"),
            DatumKind::Boolean(false) => f.write_str("#f"),
            DatumKind::Number(n) => n.fmt(f),
            DatumKind::Character(c) => write_char(f, *c),
            DatumKind::String(s) => write_string(f, s),
            DatumKind::Symbol(s) => write_symbol(f, s),
            DatumKind::Bytevector(bytes) => {
                f.write_str("#u8(")?;
                for (i, b) in bytes.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    write!(f, "{b}")?;
                }
                f.write_char(')')
            }
            DatumKind::List { items, tail } => {
                if let (Some(abbreviation), [_, datum], None) = (abbreviation(items), items.as_slice(), tail) {
                    // `,` before a bare symbol starting with `@` would read back as `,@`.
                    let at_sign = matches!(&datum.kind,
                        DatumKind::Symbol(s) if s.starts_with('@') && !symbol_needs_bars(s));
                    if !(abbreviation == "," && at_sign) {
                        f.write_str(abbreviation)?;
                        return datum.fmt(f);
                    }
                }
                f.write_char('(')?;
                write_items(f, items)?;
                if let Some(tail) = tail {
                    f.write_str(" . ")?;
                    tail.fmt(f)?;
                }
                f.write_char(')')
            }
            DatumKind::Vector(items) => {
                f.write_str("#(")?;
                write_items(f, items)?;
                f.write_char(')')
            }
            DatumKind::Special(name) => write!(f, "#!{name}"),
        }
    }
}

impl Display for Number {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            // Past the reader's limit on decimal digits, in hexadecimal (see MAX_DECIMAL_DIGITS).
            Number::Integer(n) if n.bits() > MAX_DECIMAL_BITS => write!(f, "#x{}", n.to_str_radix(16)),
            Number::Rational(n, d) if n.bits().max(d.bits()) > MAX_DECIMAL_BITS => {
                write!(f, "#x{}/{}", n.to_str_radix(16), d.to_str_radix(16))
            }
            Number::Integer(n) => write!(f, "{n}"),
            Number::Rational(n, d) => write!(f, "{n}/{d}"),
            Number::Real(x) => write_real(f, *x),
        }
    }
}

fn write_items(f: &mut Formatter<'_>, items: &[Datum]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_char(' ')?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

/// The prefix that abbreviates a two-element list headed by `quote` and the like.
fn abbreviation(items: &[Datum]) -> Option<&'static str> {
    Some(match items.first()?.as_symbol()? {
        "quote" => "'",
        "quasiquote" => "`",
        "unquote" => ",",
        "unquote-splicing" => ",@",
        _ => return None,
    })
}

/// A real in a form the reader reads back to the same `f64`.
fn write_real(f: &mut Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_nan() {
        f.write_str("+nan.0")
    } else if x == f64::INFINITY {
        f.write_str("+inf.0")
    } else if x == f64::NEG_INFINITY {
        f.write_str("-inf.0")
    } else {
        // Rust's `Debug` is the shortest round-trip form and always shows it is not an integer:
        // `1.0`, `0.1`, `1e20`, `1.5e-7`, `-0.0`. All of these are R7RS decimals.
        write!(f, "{x:?}")
    }
}

/// Whether `c` should be written as an escape or a name rather than itself.
fn invisible(c: char) -> bool {
    c.is_control() || c.is_whitespace()
}

fn write_char(f: &mut Formatter<'_>, c: char) -> fmt::Result {
    if let Some(name) = char_name(c) {
        write!(f, "#\\{name}")
    } else if invisible(c) {
        write!(f, "#\\x{:x}", c as u32)
    } else {
        write!(f, "#\\{c}")
    }
}

/// Writes the body of a string or `|symbol|` with escapes; `quote` is the delimiter to escape.
fn write_escaped(f: &mut Formatter<'_>, s: &str, quote: char) -> fmt::Result {
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            '\u{7}' => f.write_str("\\a")?,
            '\u{8}' => f.write_str("\\b")?,
            c if c == quote => write!(f, "\\{c}")?,
            c if c.is_control() => write!(f, "\\x{:x};", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

fn write_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    write_escaped(f, s, '"')?;
    f.write_char('"')
}

fn write_symbol(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    if symbol_needs_bars(s) {
        f.write_char('|')?;
        write_escaped(f, s, '|')?;
        f.write_char('|')
    } else {
        f.write_str(s)
    }
}

/// Whether the symbol `s`, written bare, would read as something else than itself.
pub fn symbol_needs_bars(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return true;
    };
    first == '#'
        || s == "."
        || s.chars().any(|c| is_delimiter(c) || invisible(c) || c == '\\')
        || number::parse(s) != NumberSyntax::NotANumber
}
