//! Numbers: fixnums, bignums (num-bigint) and flonums, with the generic arithmetic the interpreter falls
//! back to when its fixnum fast paths do not apply. Exact results that fit a fixnum are always fixnums,
//! so two equal exact integers are always represented the same way.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};

use crate::heap::Object;
use crate::runtime::{NativeResult, Runtime, Throw};
use crate::value::Value;

/// A number taken apart.
#[derive(Clone, Debug)]
pub enum Num {
    Int(BigInt),
    Real(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
}

impl Runtime {
    pub fn is_number(&self, v: Value) -> bool {
        v.is_fixnum()
            || matches!(
                self.heap.get(v),
                Some(Object::Bignum(_) | Object::Flonum(_))
            )
    }

    pub fn is_exact_integer(&self, v: Value) -> bool {
        v.is_fixnum() || matches!(self.heap.get(v), Some(Object::Bignum(_)))
    }

    pub fn num(&self, v: Value) -> Option<Num> {
        if let Some(n) = v.as_fixnum() {
            return Some(Num::Int(BigInt::from(n)));
        }
        match self.heap.get(v) {
            Some(Object::Bignum(n)) => Some(Num::Int((**n).clone())),
            Some(Object::Flonum(x)) => Some(Num::Real(*x)),
            _ => None,
        }
    }

    pub fn num_arg(&self, who: &str, v: Value) -> Result<Num, Throw> {
        self.num(v)
            .ok_or_else(|| self.type_error(who, "a number", v))
    }

    pub fn int_arg(&self, who: &str, v: Value) -> Result<BigInt, Throw> {
        match self.num(v) {
            Some(Num::Int(n)) => Ok(n),
            Some(Num::Real(x)) if x.fract() == 0.0 && x.is_finite() => Ok(BigInt::from(x as i128)),
            _ => Err(self.type_error(who, "an integer", v)),
        }
    }

    /// A non-negative fixnum argument usable as an index or count.
    pub fn index_arg(&self, who: &str, v: Value) -> Result<usize, Throw> {
        match v.as_fixnum() {
            Some(n) if n >= 0 => Ok(n as usize),
            _ => Err(self.type_error(who, "an exact non-negative integer", v)),
        }
    }

    pub fn make_int(&mut self, n: BigInt) -> Value {
        match n.to_i64().and_then(Value::fixnum) {
            Some(v) => v,
            None => self.heap.alloc(Object::Bignum(Box::new(n))),
        }
    }

    pub fn make_real(&mut self, x: f64) -> Value {
        self.heap.alloc(Object::Flonum(x))
    }

    pub fn make_num(&mut self, n: Num) -> Value {
        match n {
            Num::Int(n) => self.make_int(n),
            Num::Real(x) => self.make_real(x),
        }
    }

    /// `a op b` for any two numbers.
    pub fn arith(&mut self, who: &str, op: Op, a: Value, b: Value) -> NativeResult {
        let (x, y) = (self.num_arg(who, a)?, self.num_arg(who, b)?);
        let result = match (x, y) {
            (Num::Int(x), Num::Int(y)) => Num::Int(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
            }),
            (x, y) => {
                let (x, y) = (to_f64(&x), to_f64(&y));
                Num::Real(match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                })
            }
        };
        Ok(self.make_num(result))
    }

    /// Numeric comparison of two numbers (`None` when a NaN is involved).
    pub fn compare(&self, who: &str, a: Value, b: Value) -> Result<Option<Ordering>, Throw> {
        if let (Some(x), Some(y)) = (a.as_fixnum(), b.as_fixnum()) {
            return Ok(Some(x.cmp(&y)));
        }
        let (x, y) = (self.num_arg(who, a)?, self.num_arg(who, b)?);
        Ok(match (x, y) {
            (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
            (Num::Real(x), Num::Real(y)) => x.partial_cmp(&y),
            (Num::Int(x), Num::Real(y)) => compare_int_real(&x, y),
            (Num::Real(x), Num::Int(y)) => compare_int_real(&y, x).map(Ordering::reverse),
        })
    }

    /// `eqv?` on numbers: same exactness and equal.
    pub fn numbers_eqv(&self, a: Value, b: Value) -> bool {
        match (self.num(a), self.num(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(Num::Real(x)), Some(Num::Real(y))) => {
                x.to_bits() == y.to_bits() || (x == y && x != 0.0)
            }
            _ => false,
        }
    }

    /// Integer division in the three R7RS flavours; `floor` selects floor/ rather than truncate/.
    pub fn divide(
        &mut self,
        who: &str,
        a: Value,
        b: Value,
        floor: bool,
    ) -> Result<(Value, Value), Throw> {
        let (x, y) = (self.num_arg(who, a)?, self.num_arg(who, b)?);
        match (x, y) {
            (Num::Int(x), Num::Int(y)) => {
                if y.is_zero() {
                    return Err(Throw::error(format!("{who}: division by zero"), vec![a, b]));
                }
                let (q, r) = if floor {
                    x.div_mod_floor(&y)
                } else {
                    x.div_rem(&y)
                };
                Ok((self.make_int(q), self.make_int(r)))
            }
            (x, y) => {
                let (x, y) = (to_f64(&x), to_f64(&y));
                if x.fract() != 0.0 || y.fract() != 0.0 {
                    return Err(Throw::error(format!("{who}: not integers"), vec![a, b]));
                }
                let q = if floor {
                    (x / y).floor()
                } else {
                    (x / y).trunc()
                };
                let r = x - q * y;
                Ok((self.make_real(q), self.make_real(r)))
            }
        }
    }
}

pub fn to_f64(n: &Num) -> f64 {
    match n {
        Num::Int(n) => n.to_f64().unwrap_or(f64::NAN),
        Num::Real(x) => *x,
    }
}

fn compare_int_real(x: &BigInt, y: f64) -> Option<Ordering> {
    if y.is_nan() {
        return None;
    }
    if y.is_infinite() {
        return Some(if y > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    // Compare exactly: the integer against floor(y), then the fraction.
    let floor = BigInt::from(y.floor() as i128);
    match x.cmp(&floor) {
        Ordering::Equal if y.fract() != 0.0 => Some(Ordering::Less),
        other => Some(other),
    }
}

/// R7RS `number->string` of an integer in a radix.
pub fn integer_to_string(n: &BigInt, radix: u32) -> String {
    let digits = n.abs().to_str_radix(radix);
    if n.is_negative() {
        format!("-{digits}")
    } else {
        digits
    }
}

/// Shortest text that reads back as the same flonum, in Scheme syntax.
pub fn real_to_string(x: f64) -> String {
    if x.is_nan() {
        return "+nan.0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+inf.0".into()
        } else {
            "-inf.0".into()
        };
    }
    let text = format!("{x:?}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}
