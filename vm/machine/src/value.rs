//! Values: one 64-bit word each.
//!
//! The low three bits are a tag:
//!
//! | tag | meaning | payload (upper 61 bits) |
//! |-----|---------|-------------------------|
//! | 0   | fixnum  | a 61-bit two's-complement integer (so fixnum addition is word addition) |
//! | 1   | object  | an [`ObjId`] into the process's heap |
//! | 2   | char    | a Unicode scalar value |
//! | 3   | symbol  | an index into the symbol table |
//! | 4   | immediate | one of `()`, `#f`, `#t`, unspecified, eof, default, undefined |
//! | 5   | native  | an index into the table of native procedures |

use std::fmt;

/// A heap object's stable id.
pub type ObjId = u32;

/// A Scheme value in one 64-bit word: a tag in the low 3 bits (fixnum, object id, character, symbol, immediate, native procedure) and the payload above.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Value(u64);

const TAG_BITS: u32 = 3;
const TAG_MASK: u64 = 0b111;
const TAG_FIXNUM: u64 = 0;
const TAG_OBJECT: u64 = 1;
const TAG_CHAR: u64 = 2;
const TAG_SYMBOL: u64 = 3;
const TAG_IMMEDIATE: u64 = 4;
const TAG_NATIVE: u64 = 5;

const fn immediate(n: u64) -> Value {
    Value((n << TAG_BITS) | TAG_IMMEDIATE)
}

/// The smallest and largest fixnums.
pub const FIXNUM_MIN: i64 = -(1 << 60);
/// The largest fixnum.
pub const FIXNUM_MAX: i64 = (1 << 60) - 1;

impl Value {
    /// The empty list.
    pub const NIL: Value = immediate(0);
    /// `#f`.
    pub const FALSE: Value = immediate(1);
    /// `#t`.
    pub const TRUE: Value = immediate(2);
    /// What a procedure without a useful value returns.
    pub const UNSPECIFIED: Value = immediate(3);
    /// The end-of-file object.
    pub const EOF: Value = immediate(4);
    /// The value of a missing `#!optional` argument.
    pub const DEFAULT: Value = immediate(5);
    /// What a variable holds before it is initialised (unbound globals, letrec variables).
    pub const UNDEFINED: Value = immediate(6);

    /// A fixnum, if `n` fits.
    pub fn fixnum(n: i64) -> Option<Value> {
        (FIXNUM_MIN..=FIXNUM_MAX).contains(&n).then_some(Value((n << TAG_BITS) as u64))
    }

    /// A fixnum from a value known to fit (small counts, lengths, indices).
    pub fn small(n: usize) -> Value {
        debug_assert!(n as u64 <= FIXNUM_MAX as u64);
        Value((n as u64) << TAG_BITS)
    }

    /// `#t` or `#f`.
    pub fn boolean(b: bool) -> Value {
        if b { Value::TRUE } else { Value::FALSE }
    }

    /// The value naming heap object `id`.
    pub fn object(id: ObjId) -> Value {
        Value((u64::from(id) << TAG_BITS) | TAG_OBJECT)
    }

    /// Character `c`.
    pub fn character(c: char) -> Value {
        Value((u64::from(u32::from(c)) << TAG_BITS) | TAG_CHAR)
    }

    /// Symbol number `index` of the symbol table.
    pub fn symbol(index: u32) -> Value {
        Value((u64::from(index) << TAG_BITS) | TAG_SYMBOL)
    }

    /// Native procedure number `index` of the natives' table.
    pub fn native(index: u32) -> Value {
        Value((u64::from(index) << TAG_BITS) | TAG_NATIVE)
    }

    fn tag(self) -> u64 {
        self.0 & TAG_MASK
    }

    /// The raw word (fixnum arithmetic works on it directly).
    pub fn bits(self) -> u64 {
        self.0
    }

    /// A value from its raw word, as a snapshot stored it. The word is not checked here; a restored
    /// snapshot checks every word with [`Value::is_well_formed`] and its indices against its tables.
    pub fn from_bits(bits: u64) -> Value {
        Value(bits)
    }

    /// Whether the word is one this VM makes: a known tag, and for characters and immediates a
    /// payload in range. (Object, symbol and native indices are checked against the process.)
    pub fn is_well_formed(self) -> bool {
        match self.tag() {
            TAG_FIXNUM | TAG_OBJECT | TAG_SYMBOL | TAG_NATIVE => {
                self.0 >> TAG_BITS <= u64::from(u32::MAX) || self.tag() == TAG_FIXNUM
            }
            TAG_CHAR => self.as_char().is_some(),
            TAG_IMMEDIATE => self.0 >> TAG_BITS <= 6,
            _ => false,
        }
    }

    /// Rebuilds a fixnum from raw bits produced by word arithmetic on two fixnums.
    pub fn from_fixnum_bits(bits: i64) -> Value {
        Value(bits as u64)
    }

    /// Its integer, if it is a fixnum.
    pub fn as_fixnum(self) -> Option<i64> {
        (self.tag() == TAG_FIXNUM).then_some((self.0 as i64) >> TAG_BITS)
    }

    /// Whether it is a fixnum.
    pub fn is_fixnum(self) -> bool {
        self.tag() == TAG_FIXNUM
    }

    /// The object id, if it names a heap object.
    pub fn as_object(self) -> Option<ObjId> {
        (self.tag() == TAG_OBJECT).then_some((self.0 >> TAG_BITS) as ObjId)
    }

    /// The character, if it is one.
    pub fn as_char(self) -> Option<char> {
        if self.tag() == TAG_CHAR { char::from_u32((self.0 >> TAG_BITS) as u32) } else { None }
    }

    /// The symbol's index, if it is a symbol.
    pub fn as_symbol(self) -> Option<u32> {
        (self.tag() == TAG_SYMBOL).then_some((self.0 >> TAG_BITS) as u32)
    }

    /// The native procedure's index, if it is one.
    pub fn as_native(self) -> Option<u32> {
        (self.tag() == TAG_NATIVE).then_some((self.0 >> TAG_BITS) as u32)
    }

    /// Whether it is `#f`.
    pub fn is_false(self) -> bool {
        self == Value::FALSE
    }

    /// Whether it is anything but `#f` (Scheme's truth).
    pub fn is_true(self) -> bool {
        self != Value::FALSE
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tag() {
            TAG_FIXNUM => write!(f, "{}", (self.0 as i64) >> TAG_BITS),
            TAG_OBJECT => write!(f, "#<object {}>", self.0 >> TAG_BITS),
            TAG_CHAR => write!(f, "#<char {:x}>", self.0 >> TAG_BITS),
            TAG_SYMBOL => write!(f, "#<symbol {}>", self.0 >> TAG_BITS),
            TAG_NATIVE => write!(f, "#<native {}>", self.0 >> TAG_BITS),
            _ => write!(f, "#<immediate {}>", self.0 >> TAG_BITS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixnums_round_trip_at_the_edges() {
        for n in [0, 1, -1, FIXNUM_MIN, FIXNUM_MAX, 42, -42] {
            assert_eq!(Value::fixnum(n).and_then(Value::as_fixnum), Some(n));
        }
        assert_eq!(Value::fixnum(FIXNUM_MAX + 1), None);
        assert_eq!(Value::fixnum(FIXNUM_MIN - 1), None);
    }

    #[test]
    fn fixnum_addition_is_word_addition() {
        let (a, b) = (Value::fixnum(40).unwrap(), Value::fixnum(2).unwrap());
        let sum = (a.bits() as i64).checked_add(b.bits() as i64).map(Value::from_fixnum_bits);
        assert_eq!(sum.and_then(Value::as_fixnum), Some(42));
    }

    #[test]
    fn tags_do_not_collide() {
        let values = [
            Value::NIL,
            Value::FALSE,
            Value::TRUE,
            Value::fixnum(0).unwrap(),
            Value::object(0),
            Value::character('\0'),
            Value::symbol(0),
            Value::native(0),
        ];
        for (i, a) in values.iter().enumerate() {
            for b in &values[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
