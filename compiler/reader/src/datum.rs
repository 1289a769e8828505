//! The data the reader produces: every datum of R7RS's external syntax, each with its source span.

use num_bigint::BigInt;

/// Which source file a span points into. The meaning of the number belongs to whoever called the reader
/// (the compiler keeps a table of file names and texts).
pub type FileId = u32;

/// A half-open byte range `start..end` in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The source file.
    pub file: FileId,
    /// The first byte.
    pub start: u32,
    /// The byte after the last.
    pub end: u32,
}

impl Span {
    /// The span `start..end` of `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start: start as u32, end: end as u32 }
    }

    /// The smallest span covering both `self` and `other` (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A number literal as written. The reader keeps exactness as the text says; which of these the
/// compiler and the VM accept is their business.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    /// An exact integer of any size.
    Integer(BigInt),
    /// An exact ratio `numerator/denominator`, already reduced, denominator > 1.
    Rational(BigInt, BigInt),
    /// An inexact real (includes `+inf.0`, `-inf.0`, `+nan.0`).
    Real(f64),
}

/// One datum without its span.
#[derive(Clone, Debug, PartialEq)]
pub enum DatumKind {
    /// `#t` or `#f`.
    Boolean(bool),
    /// A number.
    Number(Number),
    /// A character.
    Character(char),
    /// A string.
    String(String),
    /// A symbol, by name.
    Symbol(String),
    /// A bytevector.
    Bytevector(Vec<u8>),
    /// `(a b c)` has `tail: None`; `(a b . c)` has `tail: Some(c)`. `items` is never empty when a tail
    /// is present. `()` is `List { items: [], tail: None }`. The reader never makes a `tail` that is itself
    /// a list: `(a . (b))` reads as `(a b)`.
    List {
        /// The elements.
        items: Vec<Datum>,
        /// What follows the dot, if anything.
        tail: Option<Box<Datum>>,
    },
    /// A vector.
    Vector(Vec<Datum>),
    /// `#!name` other than the `#!fold-case` / `#!no-fold-case` directives, e.g. `#!optional`, `#!eof`.
    Special(String),
}

/// A datum and where it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    /// The datum.
    pub kind: DatumKind,
    /// Where it was read from.
    pub span: Span,
}

impl Datum {
    /// `kind`, read at `span`.
    pub fn new(kind: DatumKind, span: Span) -> Datum {
        Datum { kind, span }
    }

    /// The symbol's name, if it is a symbol.
    pub fn as_symbol(&self) -> Option<&str> {
        match &self.kind {
            DatumKind::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// The proper-list items of this datum, or `None` when it is not a proper list.
    pub fn as_list(&self) -> Option<&[Datum]> {
        match &self.kind {
            DatumKind::List { items, tail: None } => Some(items),
            _ => None,
        }
    }

    /// Whether `self` and `other` are the same data, ignoring spans (see [`DatumKind::eq_ignoring_spans`]).
    pub fn eq_ignoring_spans(&self, other: &Datum) -> bool {
        self.kind.eq_ignoring_spans(&other.kind)
    }
}

impl DatumKind {
    /// Whether `self` and `other` are the same data, ignoring spans. Reals compare like `eqv?`: unlike
    /// `==`, NaN equals NaN and `0.0` differs from `-0.0`.
    pub fn eq_ignoring_spans(&self, other: &DatumKind) -> bool {
        fn all(a: &[Datum], b: &[Datum]) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignoring_spans(y))
        }
        match (self, other) {
            (DatumKind::Number(Number::Real(x)), DatumKind::Number(Number::Real(y))) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            (DatumKind::List { items: a, tail: s }, DatumKind::List { items: b, tail: t }) => {
                all(a, b)
                    && match (s, t) {
                        (None, None) => true,
                        (Some(s), Some(t)) => s.eq_ignoring_spans(t),
                        _ => false,
                    }
            }
            (DatumKind::Vector(a), DatumKind::Vector(b)) => all(a, b),
            _ => self == other,
        }
    }
}
