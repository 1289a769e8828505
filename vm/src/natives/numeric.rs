//! Numbers: arithmetic, comparison, integer division, conversion to and from text.

use std::cmp::Ordering;

use chenilles_reader::{DatumKind, Number};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::Entries;
use crate::numbers::{Num, Op, integer_to_string, real_to_string, to_f64};
use crate::runtime::{NativeResult, Runtime, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("number?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(rt.is_number(a[0])))
    }),
    ("complex?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(rt.is_number(a[0])))
    }),
    ("real?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(rt.is_number(a[0])))
    }),
    ("rational?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(
            matches!(rt.num(a[0]), Some(Num::Int(_)))
                || matches!(rt.num(a[0]), Some(Num::Real(x)) if x.is_finite()),
        ))
    }),
    ("integer?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(match rt.num(a[0]) {
            Some(Num::Int(_)) => true,
            Some(Num::Real(x)) => x.is_finite() && x.fract() == 0.0,
            None => false,
        }))
    }),
    ("exact?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(matches!(
            rt.num_arg("exact?", a[0])?,
            Num::Int(_)
        )))
    }),
    ("inexact?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(matches!(
            rt.num_arg("inexact?", a[0])?,
            Num::Real(_)
        )))
    }),
    ("exact-integer?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(rt.is_exact_integer(a[0])))
    }),
    ("nan?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(
            matches!(rt.num_arg("nan?", a[0])?, Num::Real(x) if x.is_nan()),
        ))
    }),
    ("infinite?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(
            matches!(rt.num_arg("infinite?", a[0])?, Num::Real(x) if x.is_infinite()),
        ))
    }),
    ("finite?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(match rt.num_arg("finite?", a[0])? {
            Num::Real(x) => x.is_finite(),
            Num::Int(_) => true,
        }))
    }),
    ("+", 0, None, |rt, a| {
        fold(rt, "+", Op::Add, Value::small(0), a)
    }),
    ("*", 0, None, |rt, a| {
        fold(rt, "*", Op::Mul, Value::small(1), a)
    }),
    ("-", 1, None, minus),
    ("/", 1, None, divide),
    ("=", 1, None, |rt, a| {
        compare_chain(rt, "=", a, |o| o == Ordering::Equal)
    }),
    ("<", 1, None, |rt, a| {
        compare_chain(rt, "<", a, |o| o == Ordering::Less)
    }),
    (">", 1, None, |rt, a| {
        compare_chain(rt, ">", a, |o| o == Ordering::Greater)
    }),
    ("<=", 1, None, |rt, a| {
        compare_chain(rt, "<=", a, |o| o != Ordering::Greater)
    }),
    (">=", 1, None, |rt, a| {
        compare_chain(rt, ">=", a, |o| o != Ordering::Less)
    }),
    ("zero?", 1, Some(1), |rt, a| {
        sign_test(rt, "zero?", a[0], |s| s == Ordering::Equal)
    }),
    ("positive?", 1, Some(1), |rt, a| {
        sign_test(rt, "positive?", a[0], |s| s == Ordering::Greater)
    }),
    ("negative?", 1, Some(1), |rt, a| {
        sign_test(rt, "negative?", a[0], |s| s == Ordering::Less)
    }),
    ("odd?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(rt.int_arg("odd?", a[0])?.is_odd()))
    }),
    ("even?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(rt.int_arg("even?", a[0])?.is_even()))
    }),
    ("quotient", 2, Some(2), |rt, a| {
        Ok(rt.divide("quotient", a[0], a[1], false)?.0)
    }),
    ("remainder", 2, Some(2), |rt, a| {
        Ok(rt.divide("remainder", a[0], a[1], false)?.1)
    }),
    ("modulo", 2, Some(2), |rt, a| {
        Ok(rt.divide("modulo", a[0], a[1], true)?.1)
    }),
    ("truncate-quotient", 2, Some(2), |rt, a| {
        Ok(rt.divide("truncate-quotient", a[0], a[1], false)?.0)
    }),
    ("truncate-remainder", 2, Some(2), |rt, a| {
        Ok(rt.divide("truncate-remainder", a[0], a[1], false)?.1)
    }),
    ("floor-quotient", 2, Some(2), |rt, a| {
        Ok(rt.divide("floor-quotient", a[0], a[1], true)?.0)
    }),
    ("floor-remainder", 2, Some(2), |rt, a| {
        Ok(rt.divide("floor-remainder", a[0], a[1], true)?.1)
    }),
    ("abs", 1, Some(1), |rt, a| {
        let n = rt.num_arg("abs", a[0])?;
        Ok(rt.make_num(match n {
            Num::Int(n) => Num::Int(n.abs()),
            Num::Real(x) => Num::Real(x.abs()),
        }))
    }),
    ("min", 1, None, |rt, a| {
        extremum(rt, "min", a, Ordering::Less)
    }),
    ("max", 1, None, |rt, a| {
        extremum(rt, "max", a, Ordering::Greater)
    }),
    ("gcd", 0, None, |rt, a| gcd_lcm(rt, "gcd", a, false)),
    ("lcm", 0, None, |rt, a| gcd_lcm(rt, "lcm", a, true)),
    ("expt", 2, Some(2), expt),
    ("square", 1, Some(1), |rt, a| {
        rt.arith("square", Op::Mul, a[0], a[0])
    }),
    ("%exact-integer-sqrt", 1, Some(1), exact_integer_sqrt_root),
    ("exact", 1, Some(1), exact),
    ("inexact", 1, Some(1), |rt, a| {
        let x = to_f64(&rt.num_arg("inexact", a[0])?);
        Ok(rt.make_real(x))
    }),
    ("exact->inexact", 1, Some(1), |rt, a| {
        let x = to_f64(&rt.num_arg("exact->inexact", a[0])?);
        Ok(rt.make_real(x))
    }),
    ("inexact->exact", 1, Some(1), exact),
    ("floor", 1, Some(1), |rt, a| {
        rounding(rt, "floor", a[0], f64::floor)
    }),
    ("ceiling", 1, Some(1), |rt, a| {
        rounding(rt, "ceiling", a[0], f64::ceil)
    }),
    ("truncate", 1, Some(1), |rt, a| {
        rounding(rt, "truncate", a[0], f64::trunc)
    }),
    ("round", 1, Some(1), |rt, a| {
        rounding(rt, "round", a[0], f64::round_ties_even)
    }),
    ("sqrt", 1, Some(1), sqrt),
    ("exp", 1, Some(1), |rt, a| {
        real_fn(rt, "exp", a[0], f64::exp)
    }),
    ("log", 1, Some(2), |rt, a| match a.get(1) {
        None => real_fn(rt, "log", a[0], f64::ln),
        Some(&base) => {
            let b = to_f64(&rt.num_arg("log", base)?);
            real_fn(rt, "log", a[0], |x| x.ln() / b.ln())
        }
    }),
    ("sin", 1, Some(1), |rt, a| {
        real_fn(rt, "sin", a[0], f64::sin)
    }),
    ("cos", 1, Some(1), |rt, a| {
        real_fn(rt, "cos", a[0], f64::cos)
    }),
    ("tan", 1, Some(1), |rt, a| {
        real_fn(rt, "tan", a[0], f64::tan)
    }),
    ("asin", 1, Some(1), |rt, a| {
        real_fn(rt, "asin", a[0], f64::asin)
    }),
    ("acos", 1, Some(1), |rt, a| {
        real_fn(rt, "acos", a[0], f64::acos)
    }),
    ("atan", 1, Some(2), |rt, a| match a.get(1) {
        None => real_fn(rt, "atan", a[0], f64::atan),
        Some(&x) => {
            let x = to_f64(&rt.num_arg("atan", x)?);
            real_fn(rt, "atan", a[0], |y| y.atan2(x))
        }
    }),
    ("number->string", 1, Some(2), number_to_string),
    ("string->number", 1, Some(2), string_to_number),
];

fn fold(rt: &mut Runtime, who: &str, op: Op, unit: Value, args: &[Value]) -> NativeResult {
    if let [only] = args {
        rt.num_arg(who, *only)?;
        return Ok(*only);
    }
    let mut acc = unit;
    for &arg in args {
        acc = rt.arith(who, op, acc, arg)?;
    }
    Ok(acc)
}

fn minus(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    match args {
        [only] => rt.arith("-", Op::Sub, Value::small(0), *only),
        [first, rest @ ..] => {
            let mut acc = *first;
            for &arg in rest {
                acc = rt.arith("-", Op::Sub, acc, arg)?;
            }
            Ok(acc)
        }
        [] => Ok(Value::small(0)),
    }
}

fn divide(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let (first, rest): (Value, &[Value]) = match args {
        [only] => (Value::small(1), std::slice::from_ref(only)),
        [first, rest @ ..] => (*first, rest),
        [] => return Ok(Value::small(1)),
    };
    let mut acc = rt.num_arg("/", first)?;
    for &arg in rest {
        let divisor = rt.num_arg("/", arg)?;
        acc = match (acc, divisor) {
            (Num::Int(x), Num::Int(y)) => {
                if y.is_zero() {
                    return Err(Throw::error("/: division by zero", vec![first, arg]));
                }
                let (q, r) = x.div_rem(&y);
                if r.is_zero() {
                    Num::Int(q)
                } else {
                    return Err(Throw::error(
                        "/: exact rational results are not supported yet",
                        vec![first, arg],
                    ));
                }
            }
            (x, y) => Num::Real(to_f64(&x) / to_f64(&y)),
        };
    }
    Ok(rt.make_num(acc))
}

fn compare_chain(
    rt: &mut Runtime,
    who: &str,
    args: &[Value],
    holds: fn(Ordering) -> bool,
) -> NativeResult {
    if let [only] = args {
        rt.num_arg(who, *only)?;
        return Ok(Value::TRUE);
    }
    let mut result = true;
    for pair in args.windows(2) {
        match rt.compare(who, pair[0], pair[1])? {
            Some(order) if holds(order) => {}
            _ => result = false,
        }
    }
    Ok(Value::boolean(result))
}

fn sign_test(rt: &mut Runtime, who: &str, v: Value, holds: fn(Ordering) -> bool) -> NativeResult {
    let sign = match rt.num_arg(who, v)? {
        Num::Int(n) => n.sign_ordering(),
        Num::Real(x) => match x.partial_cmp(&0.0) {
            Some(o) => o,
            None => return Ok(Value::FALSE),
        },
    };
    Ok(Value::boolean(holds(sign)))
}

trait SignOrdering {
    fn sign_ordering(&self) -> Ordering;
}

impl SignOrdering for BigInt {
    fn sign_ordering(&self) -> Ordering {
        self.cmp(&BigInt::zero())
    }
}

fn extremum(rt: &mut Runtime, who: &str, args: &[Value], wanted: Ordering) -> NativeResult {
    let mut best = args[0];
    let mut inexact = matches!(rt.num_arg(who, best)?, Num::Real(_));
    for &arg in &args[1..] {
        inexact |= matches!(rt.num_arg(who, arg)?, Num::Real(_));
        if rt.compare(who, arg, best)? == Some(wanted) {
            best = arg;
        }
    }
    if inexact {
        let x = to_f64(&rt.num_arg(who, best)?);
        return Ok(rt.make_real(x));
    }
    Ok(best)
}

fn gcd_lcm(rt: &mut Runtime, who: &str, args: &[Value], lcm: bool) -> NativeResult {
    let mut acc = if lcm { BigInt::one() } else { BigInt::zero() };
    for &arg in args {
        let n = rt.int_arg(who, arg)?;
        acc = if lcm { acc.lcm(&n) } else { acc.gcd(&n) };
    }
    Ok(rt.make_int(acc.abs()))
}

fn expt(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let (base, power) = (rt.num_arg("expt", args[0])?, rt.num_arg("expt", args[1])?);
    match (base, power) {
        (Num::Int(b), Num::Int(p)) if !p.is_negative() => {
            let Some(p) = p.to_u32() else {
                if b.is_zero() || b.is_one() {
                    return Ok(rt.make_int(b));
                }
                return Err(Throw::error("expt: exponent too large", vec![args[1]]));
            };
            Ok(rt.make_int(num_traits::pow(b, p as usize)))
        }
        (Num::Int(b), Num::Int(p)) if b.is_one() => {
            let _ = p;
            Ok(Value::small(1))
        }
        (Num::Int(_), Num::Int(_)) => Err(Throw::error(
            "expt: exact rational results are not supported yet",
            vec![args[0], args[1]],
        )),
        (b, p) => {
            let x = to_f64(&b).powf(to_f64(&p));
            Ok(rt.make_real(x))
        }
    }
}

fn exact_integer_sqrt_root(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let n = rt.int_arg("exact-integer-sqrt", args[0])?;
    if n.is_negative() {
        return Err(rt.type_error("exact-integer-sqrt", "a non-negative integer", args[0]));
    }
    let root = n.sqrt();
    Ok(rt.make_int(root))
}

fn sqrt(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    match rt.num_arg("sqrt", args[0])? {
        Num::Int(n) if !n.is_negative() => {
            let root = n.sqrt();
            if &root * &root == n {
                return Ok(rt.make_int(root));
            }
            let x = to_f64(&Num::Int(n)).sqrt();
            Ok(rt.make_real(x))
        }
        other => {
            let x = to_f64(&other);
            if x < 0.0 {
                return Err(Throw::error(
                    "sqrt: complex results are not supported",
                    vec![args[0]],
                ));
            }
            Ok(rt.make_real(x.sqrt()))
        }
    }
}

/// An inexact function of one real; `(exp 0)` and friends still give flonums, as in most Schemes.
fn real_fn(rt: &mut Runtime, who: &str, v: Value, f: impl Fn(f64) -> f64) -> NativeResult {
    let x = to_f64(&rt.num_arg(who, v)?);
    Ok(rt.make_real(f(x)))
}

fn exact(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    match rt.num_arg("exact", args[0])? {
        Num::Int(_) => Ok(args[0]),
        Num::Real(x) if x.is_finite() && x.fract() == 0.0 => {
            let n = BigInt::from(x as i128);
            Ok(rt.make_int(n))
        }
        Num::Real(_) => Err(Throw::error(
            "exact: no exact integer equals",
            vec![args[0]],
        )),
    }
}

fn rounding(rt: &mut Runtime, who: &str, v: Value, f: fn(f64) -> f64) -> NativeResult {
    match rt.num_arg(who, v)? {
        Num::Int(_) => Ok(v),
        Num::Real(x) => Ok(rt.make_real(f(x))),
    }
}

fn radix_arg(rt: &Runtime, who: &str, args: &[Value]) -> Result<u32, Throw> {
    match args.get(1).map(|v| v.as_fixnum()) {
        None => Ok(10),
        Some(Some(r @ (2 | 8 | 10 | 16))) => Ok(r as u32),
        Some(_) => Err(rt.type_error(who, "a radix of 2, 8, 10 or 16", args[1])),
    }
}

fn number_to_string(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let radix = radix_arg(rt, "number->string", args)?;
    let text = match rt.num_arg("number->string", args[0])? {
        Num::Int(n) => integer_to_string(&n, radix),
        Num::Real(x) => real_to_string(x),
    };
    Ok(rt.new_string(&text))
}

fn string_to_number(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let radix = radix_arg(rt, "string->number", args)?;
    let text = rt.string_arg("string->number", args[0])?;
    let prefix = match radix {
        2 => "#b",
        8 => "#o",
        16 => "#x",
        _ => "",
    };
    let source = if text.starts_with('#') {
        text.clone()
    } else {
        format!("{prefix}{text}")
    };
    let data = match chenilles_reader::read_all(&source, 0) {
        Ok(data) => data,
        Err(_) => return Ok(Value::FALSE),
    };
    match data.as_slice() {
        [datum] if datum.span.start == 0 && datum.span.end as usize == source.len() => {
            match &datum.kind {
                DatumKind::Number(Number::Integer(n)) => Ok(rt.make_int(n.clone())),
                DatumKind::Number(Number::Real(x)) => Ok(rt.make_real(*x)),
                DatumKind::Number(Number::Rational(n, d)) => {
                    let x = n.to_f64().unwrap_or(f64::NAN) / d.to_f64().unwrap_or(f64::NAN);
                    Ok(rt.make_real(x))
                }
                _ => Ok(Value::FALSE),
            }
        }
        _ => Ok(Value::FALSE),
    }
}
