//! Numbers: fixnums, bignums (num-bigint), exact rationals (num-rational) and flonums, with the
//! generic arithmetic the interpreter falls back to when its fixnum fast paths do not apply.
//!
//! Every exact result is normalised: a ratio whose denominator is 1 is an integer, and an integer that
//! fits a fixnum is a fixnum, so equal exact numbers always have the same representation.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};

use crate::heap::Object;
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

/// The longest vector, string, bytevector or list a single call may make.
pub const MAX_OBJECT_LENGTH: usize = 1 << 28;

/// A number taken apart.
#[derive(Clone, Debug)]
pub enum Num {
    Int(BigInt),
    /// Never has denominator 1.
    Rat(BigRational),
    Real(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Num {
    pub fn is_exact(&self) -> bool {
        !matches!(self, Num::Real(_))
    }

    /// The exact value as a ratio (integers have denominator 1); `None` for flonums.
    pub fn as_ratio(&self) -> Option<BigRational> {
        match self {
            Num::Int(n) => Some(BigRational::from_integer(n.clone())),
            Num::Rat(r) => Some(r.clone()),
            Num::Real(_) => None,
        }
    }

    /// An exact number from a ratio, normalised.
    pub fn from_ratio(r: BigRational) -> Num {
        if r.denom().is_one() { Num::Int(r.to_integer()) } else { Num::Rat(r) }
    }
}

/// The numbers of a runtime's heap: taking them and the arguments of natives apart, making them,
/// and the generic arithmetic. (An extension trait: these are `Runtime` methods that belong with
/// the numeric tower rather than in `runtime.rs`.)
pub(crate) trait Numbers {
    /// Whether `v` is a number.
    fn is_number(&self, v: Value) -> bool;
    /// Whether `v` is an exact integer.
    fn is_exact_integer(&self, v: Value) -> bool;
    /// `v` as a number of the tower, if it is one.
    fn num(&self, v: Value) -> Option<Num>;
    /// Argument `v` of `who` as a number, or the error saying it is not one.
    fn num_arg(&self, who: &str, v: Value) -> Result<Num, Throw>;
    /// An integer argument: an exact integer, or a flonum with an integral value.
    fn int_arg(&self, who: &str, v: Value) -> Result<BigInt, Throw>;
    /// A non-negative fixnum argument usable as an index or count.
    fn index_arg(&self, who: &str, v: Value) -> Result<usize, Throw>;
    /// The length of a new vector, string, bytevector or list: at most [`MAX_OBJECT_LENGTH`], so
    /// that a request no machine could satisfy is an error rather than an abort.
    fn size_arg(&self, who: &str, v: Value) -> Result<usize, Throw>;
    /// The value of exact integer `n`: a fixnum if it fits, else a bignum.
    fn make_int(&mut self, n: BigInt) -> Value;
    /// The value of real `x` (a flonum).
    fn make_real(&mut self, x: f64) -> Value;
    /// The value of number `n`, in its canonical representation.
    fn make_num(&mut self, n: Num) -> Value;
    /// `a op b` for any two numbers.
    fn arith(&mut self, who: &str, op: Op, a: Value, b: Value) -> NativeResult;
    /// Numeric comparison of two numbers (`None` when a NaN is involved). Exact and inexact numbers
    /// compare exactly, as the report asks for transitivity.
    fn compare(&self, who: &str, a: Value, b: Value) -> Result<Option<Ordering>, Throw>;
    /// `eqv?` on numbers: same exactness and equal.
    fn numbers_eqv(&self, a: Value, b: Value) -> bool;
    /// Integer division in the R7RS flavours; `floor` selects floor/ rather than truncate/.
    fn divide(&mut self, who: &str, a: Value, b: Value, floor: bool) -> Result<(Value, Value), Throw>;
}

impl Numbers for Runtime {
    fn is_number(&self, v: Value) -> bool {
        v.is_fixnum() || matches!(self.heap.get(v), Some(Object::Bignum(_) | Object::Ratnum(_) | Object::Flonum(_)))
    }

    fn is_exact_integer(&self, v: Value) -> bool {
        v.is_fixnum() || matches!(self.heap.get(v), Some(Object::Bignum(_)))
    }

    fn num(&self, v: Value) -> Option<Num> {
        if let Some(n) = v.as_fixnum() {
            return Some(Num::Int(BigInt::from(n)));
        }
        match self.heap.get(v) {
            Some(Object::Bignum(n)) => Some(Num::Int((**n).clone())),
            Some(Object::Ratnum(r)) => Some(Num::Rat((**r).clone())),
            Some(Object::Flonum(x)) => Some(Num::Real(*x)),
            _ => None,
        }
    }

    fn num_arg(&self, who: &str, v: Value) -> Result<Num, Throw> {
        self.num(v).ok_or_else(|| self.type_error(who, "a number", v))
    }

    fn int_arg(&self, who: &str, v: Value) -> Result<BigInt, Throw> {
        match self.num(v) {
            Some(Num::Int(n)) => Ok(n),
            Some(Num::Real(x)) if x.fract() == 0.0 && x.is_finite() => {
                Ok(BigRational::from_float(x).map(|r| r.to_integer()).unwrap_or_default())
            }
            _ => Err(self.type_error(who, "an integer", v)),
        }
    }

    fn index_arg(&self, who: &str, v: Value) -> Result<usize, Throw> {
        match v.as_fixnum() {
            Some(n) if n >= 0 => Ok(n as usize),
            _ => Err(self.type_error(who, "an exact non-negative integer", v)),
        }
    }

    fn size_arg(&self, who: &str, v: Value) -> Result<usize, Throw> {
        let n = self.index_arg(who, v)?;
        if n > MAX_OBJECT_LENGTH {
            return Err(Throw::error(format!("{who}: length too large (the limit is {MAX_OBJECT_LENGTH})"), vec![v]));
        }
        if let Some(max) = self.limits.max_heap
            && n.saturating_mul(8) > max
        {
            return Err(Throw::Limit(format!("heap limit exceeded: {who} of length {n} would not fit in {max} bytes")));
        }
        Ok(n)
    }

    fn make_int(&mut self, n: BigInt) -> Value {
        match n.to_i64().and_then(Value::fixnum) {
            Some(v) => v,
            None => {
                // Making a big integer of w words took work growing up to about w² (a product, a
                // quotient, a conversion), which the step limit must see (its allocation is charged
                // too): a program squaring a number over and over would otherwise spend minutes in
                // a few steps.
                let words = n.bits().div_ceil(64);
                self.heap.charge(words.saturating_mul(words) / 1024);
                self.heap.alloc(Object::Bignum(Box::new(n)))
            }
        }
    }

    fn make_real(&mut self, x: f64) -> Value {
        self.heap.alloc(Object::Flonum(x))
    }

    fn make_num(&mut self, n: Num) -> Value {
        match n {
            Num::Int(n) => self.make_int(n),
            Num::Rat(r) if r.denom().is_one() => self.make_int(r.to_integer()),
            Num::Rat(r) => self.heap.alloc(Object::Ratnum(Box::new(r))),
            Num::Real(x) => self.make_real(x),
        }
    }

    fn arith(&mut self, who: &str, op: Op, a: Value, b: Value) -> NativeResult {
        let (x, y) = (self.num_arg(who, a)?, self.num_arg(who, b)?);
        let result = match (&x, &y) {
            (Num::Int(x), Num::Int(y)) if op != Op::Div => Num::Int(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                _ => x * y,
            }),
            _ if x.is_exact() && y.is_exact() => {
                let (x, y) = (x.as_ratio().unwrap_or_default(), y.as_ratio().unwrap_or_default());
                Num::from_ratio(match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => {
                        if y.is_zero() {
                            return Err(Throw::error(format!("{who}: division by zero"), vec![a, b]));
                        }
                        x / y
                    }
                })
            }
            _ => {
                let (x, y) = (to_f64(&x), to_f64(&y));
                Num::Real(match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => x / y,
                })
            }
        };
        Ok(self.make_num(result))
    }

    fn compare(&self, who: &str, a: Value, b: Value) -> Result<Option<Ordering>, Throw> {
        if let (Some(x), Some(y)) = (a.as_fixnum(), b.as_fixnum()) {
            return Ok(Some(x.cmp(&y)));
        }
        let (x, y) = (self.num_arg(who, a)?, self.num_arg(who, b)?);
        Ok(compare_nums(&x, &y))
    }

    fn numbers_eqv(&self, a: Value, b: Value) -> bool {
        match (self.num(a), self.num(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(Num::Rat(x)), Some(Num::Rat(y))) => x == y,
            (Some(Num::Real(x)), Some(Num::Real(y))) => x.to_bits() == y.to_bits() || (x == y && x != 0.0),
            _ => false,
        }
    }

    fn divide(&mut self, who: &str, a: Value, b: Value, floor: bool) -> Result<(Value, Value), Throw> {
        // Fixnums, the common case, without big integers.
        if let (Some(x), Some(y)) = (a.as_fixnum(), b.as_fixnum())
            && y != 0
        {
            let (q, r) = if floor { x.div_mod_floor(&y) } else { x.div_rem(&y) };
            // Only the most negative fixnum divided by -1 leaves the fixnums.
            let q = Value::fixnum(q).unwrap_or_else(|| self.make_int(BigInt::from(q)));
            return Ok((q, Value::fixnum(r).unwrap_or_else(|| self.make_int(BigInt::from(r)))));
        }
        let (x, y) = (self.num_arg(who, a)?, self.num_arg(who, b)?);
        match (x, y) {
            (Num::Int(x), Num::Int(y)) => {
                if y.is_zero() {
                    return Err(Throw::error(format!("{who}: division by zero"), vec![a, b]));
                }
                let (q, r) = if floor { x.div_mod_floor(&y) } else { x.div_rem(&y) };
                Ok((self.make_int(q), self.make_int(r)))
            }
            (Num::Rat(_), _) | (_, Num::Rat(_)) => Err(Throw::error(format!("{who}: not integers"), vec![a, b])),
            (x, y) => {
                let (x, y) = (to_f64(&x), to_f64(&y));
                if x.fract() != 0.0 || y.fract() != 0.0 {
                    return Err(Throw::error(format!("{who}: not integers"), vec![a, b]));
                }
                if y == 0.0 {
                    return Err(Throw::error(format!("{who}: division by zero"), vec![a, b]));
                }
                let q = if floor { (x / y).floor() } else { (x / y).trunc() };
                let r = x - q * y;
                Ok((self.make_real(q), self.make_real(r)))
            }
        }
    }
}

pub fn compare_nums(x: &Num, y: &Num) -> Option<Ordering> {
    match (x, y) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(y)),
        (Num::Real(x), Num::Real(y)) => x.partial_cmp(y),
        (Num::Real(x), exact) => compare_exact_real(exact, *x).map(Ordering::reverse),
        (exact, Num::Real(y)) => compare_exact_real(exact, *y),
        (x, y) => Some(x.as_ratio().unwrap_or_default().cmp(&y.as_ratio().unwrap_or_default())),
    }
}

fn compare_exact_real(exact: &Num, y: f64) -> Option<Ordering> {
    if y.is_nan() {
        return None;
    }
    if y.is_infinite() {
        return Some(if y > 0.0 { Ordering::Less } else { Ordering::Greater });
    }
    let y = BigRational::from_float(y)?;
    Some(exact.as_ratio().unwrap_or_default().cmp(&y))
}

pub fn to_f64(n: &Num) -> f64 {
    match n {
        Num::Int(n) => n.to_f64().unwrap_or(f64::NAN),
        Num::Rat(r) => ratio_to_f64(r),
        Num::Real(x) => *x,
    }
}

/// The flonum nearest a ratio, also when numerator and denominator overflow f64 on their own.
pub fn ratio_to_f64(r: &BigRational) -> f64 {
    match (r.numer().to_f64(), r.denom().to_f64()) {
        (Some(n), Some(d)) if n.is_finite() && d.is_finite() => n / d,
        _ => {
            // Scale both down so the quotient survives.
            let shift = r.numer().bits().max(r.denom().bits()).saturating_sub(1000);
            let n = (r.numer() >> shift).to_f64().unwrap_or(f64::NAN);
            let d = (r.denom() >> shift).to_f64().unwrap_or(f64::NAN);
            n / d
        }
    }
}

/// R7RS `number->string` of an exact number in a radix.
pub fn exact_to_string(n: &Num, radix: u32) -> String {
    match n {
        Num::Int(n) => integer_to_string(n, radix),
        Num::Rat(r) => ratio_to_string(r, radix),
        Num::Real(x) => real_to_string(*x),
    }
}

pub fn integer_to_string(n: &BigInt, radix: u32) -> String {
    let (radix, prefix) = readable_radix(radix, n.bits());
    format!("{prefix}{}", n.to_str_radix(radix))
}

pub fn ratio_to_string(r: &BigRational, radix: u32) -> String {
    let (radix, prefix) = readable_radix(radix, r.numer().bits().max(r.denom().bits()));
    format!("{prefix}{}/{}", r.numer().to_str_radix(radix), r.denom().to_str_radix(radix))
}

/// The radix a number of `bits` is written in when `radix` is asked for, and the prefix that says
/// so: past the reader's limit on decimal digits, hexadecimal, `#x…`, which reads back as the same
/// number (decimal conversion takes time quadratic in the digits).
fn readable_radix(radix: u32, bits: u64) -> (u32, &'static str) {
    if !radix.is_power_of_two() && bits > chenilles_reader::MAX_DECIMAL_BITS { (16, "#x") } else { (radix, "") }
}

/// Shortest text that reads back as the same flonum, in Scheme syntax.
pub fn real_to_string(x: f64) -> String {
    if x.is_nan() {
        return "+nan.0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+inf.0".into() } else { "-inf.0".into() };
    }
    let text = format!("{x:?}");
    if text.contains(['.', 'e', 'E']) { text } else { format!("{text}.0") }
}
