//! Conversions between [`Datum`]s and Rust values, for hosts that exchange data with Scheme (host
//! function arguments and results, messages): `Datum::from(42)`, `Datum::from("text")`,
//! `Datum::symbol("deposit")`, `Datum::list([...])`, and the `as_*` accessors that read them back.
//!
//! ```
//! use chenilles_reader::Datum;
//!
//! let message = Datum::list([Datum::symbol("deposit"), Datum::from(250), Datum::from(vec![1u8, 2])]);
//! assert_eq!(message.to_string(), "(deposit 250 #u8(1 2))");
//! let items = message.as_list().unwrap();
//! assert_eq!(items[0].as_symbol(), Some("deposit"));
//! assert_eq!(items[1].as_i64(), Some(250));
//! assert_eq!(items[2].as_bytes(), Some(&[1u8, 2][..]));
//! ```

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use crate::datum::{Datum, DatumKind, Number, Span};

impl Datum {
    /// A datum made by a host, with no source position.
    pub fn of(kind: DatumKind) -> Datum {
        Datum::new(kind, Span::default())
    }

    /// The symbol `name`.
    pub fn symbol(name: impl Into<String>) -> Datum {
        Datum::of(DatumKind::Symbol(name.into()))
    }

    /// A proper list of `items`.
    pub fn list(items: impl IntoIterator<Item = Datum>) -> Datum {
        Datum::of(DatumKind::List { items: items.into_iter().collect(), tail: None })
    }

    /// A vector of `items`.
    pub fn vector(items: impl IntoIterator<Item = Datum>) -> Datum {
        Datum::of(DatumKind::Vector(items.into_iter().collect()))
    }

    /// This datum with every span (its own and its parts') cleared, as if a host had made it: data
    /// read from text then compare equal to data built in Rust.
    pub fn without_spans(mut self) -> Datum {
        fn clear(datum: &mut Datum) {
            datum.span = Span::default();
            match &mut datum.kind {
                DatumKind::List { items, tail } => {
                    items.iter_mut().for_each(clear);
                    if let Some(tail) = tail {
                        clear(tail);
                    }
                }
                DatumKind::Vector(items) => items.iter_mut().for_each(clear),
                _ => {}
            }
        }
        clear(&mut self);
        self
    }

    /// The exact integer this datum is, of any size.
    pub fn as_integer(&self) -> Option<&BigInt> {
        match &self.kind {
            DatumKind::Number(Number::Integer(n)) => Some(n),
            _ => None,
        }
    }

    /// The exact integer this datum is, if it fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_integer().and_then(ToPrimitive::to_i64)
    }

    /// The text of a string datum.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            DatumKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if it is a bytevector.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            DatumKind::Bytevector(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            DatumKind::Boolean(b) => Some(*b),
            _ => None,
        }
    }
}

impl From<bool> for Datum {
    fn from(b: bool) -> Datum {
        Datum::of(DatumKind::Boolean(b))
    }
}

impl From<BigInt> for Datum {
    fn from(n: BigInt) -> Datum {
        Datum::of(DatumKind::Number(Number::Integer(n)))
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Datum {
            fn from(n: $t) -> Datum {
                Datum::from(BigInt::from(n))
            }
        }
    )*};
}
from_integer!(i32, i64, i128, u32, u64, u128, usize);

impl From<f64> for Datum {
    fn from(x: f64) -> Datum {
        Datum::of(DatumKind::Number(Number::Real(x)))
    }
}

impl From<char> for Datum {
    fn from(c: char) -> Datum {
        Datum::of(DatumKind::Character(c))
    }
}

impl From<&str> for Datum {
    fn from(text: &str) -> Datum {
        Datum::of(DatumKind::String(text.to_string()))
    }
}

impl From<String> for Datum {
    fn from(text: String) -> Datum {
        Datum::of(DatumKind::String(text))
    }
}

impl From<Vec<u8>> for Datum {
    fn from(bytes: Vec<u8>) -> Datum {
        Datum::of(DatumKind::Bytevector(bytes))
    }
}

impl From<&[u8]> for Datum {
    fn from(bytes: &[u8]) -> Datum {
        Datum::of(DatumKind::Bytevector(bytes.to_vec()))
    }
}

impl From<Vec<Datum>> for Datum {
    fn from(items: Vec<Datum>) -> Datum {
        Datum::list(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_of_any_size_survive_a_round_trip_through_text() {
        let big = BigInt::from(u128::MAX) * BigInt::from(u128::MAX);
        let datum = Datum::list([Datum::from(big.clone()), Datum::from(-7i64), Datum::symbol("x y")]);
        let text = datum.to_string();
        let read = crate::read_all(&text, 0).unwrap();
        assert_eq!(read.len(), 1);
        assert!(read[0].eq_ignoring_spans(&datum), "{text}");
        let items = read[0].as_list().unwrap();
        assert_eq!(items[0].as_integer(), Some(&big));
        assert_eq!(items[0].as_i64(), None, "too large for an i64");
        assert_eq!(items[1].as_i64(), Some(-7));
        assert_eq!(items[2].as_symbol(), Some("x y"));
    }
}
