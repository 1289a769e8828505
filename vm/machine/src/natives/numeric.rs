//! Numbers: arithmetic, comparison, integer division, rounding, conversion to and from text, over
//! the whole tower of fixnums, bignums, exact rationals and flonums.

use std::cmp::Ordering;

use chenilles_reader::{DatumKind, Number};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::Entries;
use crate::numbers::Numbers;
use crate::numbers::{Num, Op, compare_nums, exact_to_string, to_f64};
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("number?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.is_number(a[0])))),
    ("complex?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.is_number(a[0])))),
    ("real?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.is_number(a[0])))),
    ("rational?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(match rt.num(a[0]) {
            Some(Num::Real(x)) => x.is_finite(),
            Some(_) => true,
            None => false,
        }))
    }),
    ("integer?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(match rt.num(a[0]) {
            Some(Num::Int(_)) => true,
            Some(Num::Real(x)) => x.is_finite() && x.fract() == 0.0,
            _ => false,
        }))
    }),
    ("exact?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.num_arg("exact?", a[0])?.is_exact()))),
    ("inexact?", 1, Some(1), |rt, a| Ok(Value::boolean(!rt.num_arg("inexact?", a[0])?.is_exact()))),
    ("exact-integer?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.is_exact_integer(a[0])))),
    ("exact-rational?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.num(a[0]).is_some_and(|n| n.is_exact())))),
    ("nan?", 1, Some(1), |rt, a| Ok(Value::boolean(matches!(rt.num_arg("nan?", a[0])?, Num::Real(x) if x.is_nan())))),
    ("infinite?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(matches!(rt.num_arg("infinite?", a[0])?, Num::Real(x) if x.is_infinite())))
    }),
    ("finite?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(match rt.num_arg("finite?", a[0])? {
            Num::Real(x) => x.is_finite(),
            _ => true,
        }))
    }),
    ("+", 0, None, |rt, a| fold(rt, "+", Op::Add, Value::small(0), a)),
    ("*", 0, None, |rt, a| fold(rt, "*", Op::Mul, Value::small(1), a)),
    ("-", 1, None, |rt, a| inverse_fold(rt, "-", Op::Sub, Value::small(0), a)),
    ("/", 1, None, |rt, a| inverse_fold(rt, "/", Op::Div, Value::small(1), a)),
    ("=", 1, None, |rt, a| compare_chain(rt, "=", a, |o| o == Ordering::Equal)),
    ("<", 1, None, |rt, a| compare_chain(rt, "<", a, |o| o == Ordering::Less)),
    (">", 1, None, |rt, a| compare_chain(rt, ">", a, |o| o == Ordering::Greater)),
    ("<=", 1, None, |rt, a| compare_chain(rt, "<=", a, |o| o != Ordering::Greater)),
    (">=", 1, None, |rt, a| compare_chain(rt, ">=", a, |o| o != Ordering::Less)),
    ("zero?", 1, Some(1), |rt, a| sign_test(rt, "zero?", a[0], |s| s == Ordering::Equal)),
    ("positive?", 1, Some(1), |rt, a| sign_test(rt, "positive?", a[0], |s| s == Ordering::Greater)),
    ("negative?", 1, Some(1), |rt, a| sign_test(rt, "negative?", a[0], |s| s == Ordering::Less)),
    ("odd?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.int_arg("odd?", a[0])?.is_odd()))),
    ("even?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.int_arg("even?", a[0])?.is_even()))),
    ("quotient", 2, Some(2), |rt, a| Ok(rt.divide("quotient", a[0], a[1], false)?.0)),
    ("remainder", 2, Some(2), |rt, a| Ok(rt.divide("remainder", a[0], a[1], false)?.1)),
    ("modulo", 2, Some(2), |rt, a| Ok(rt.divide("modulo", a[0], a[1], true)?.1)),
    ("truncate-quotient", 2, Some(2), |rt, a| Ok(rt.divide("truncate-quotient", a[0], a[1], false)?.0)),
    ("truncate-remainder", 2, Some(2), |rt, a| Ok(rt.divide("truncate-remainder", a[0], a[1], false)?.1)),
    ("floor-quotient", 2, Some(2), |rt, a| Ok(rt.divide("floor-quotient", a[0], a[1], true)?.0)),
    ("floor-remainder", 2, Some(2), |rt, a| Ok(rt.divide("floor-remainder", a[0], a[1], true)?.1)),
    ("abs", 1, Some(1), |rt, a| {
        let n = match rt.num_arg("abs", a[0])? {
            Num::Int(n) => Num::Int(n.abs()),
            Num::Rat(r) => Num::Rat(r.abs()),
            Num::Real(x) => Num::Real(x.abs()),
        };
        Ok(rt.make_num(n))
    }),
    ("min", 1, None, |rt, a| extremum(rt, "min", a, Ordering::Less)),
    ("max", 1, None, |rt, a| extremum(rt, "max", a, Ordering::Greater)),
    ("gcd", 0, None, |rt, a| gcd_lcm(rt, "gcd", a, false)),
    ("lcm", 0, None, |rt, a| gcd_lcm(rt, "lcm", a, true)),
    ("expt", 2, Some(2), expt),
    ("square", 1, Some(1), |rt, a| rt.arith("square", Op::Mul, a[0], a[0])),
    ("%exact-integer-sqrt", 1, Some(1), exact_integer_sqrt_root),
    ("exact", 1, Some(1), exact),
    ("inexact", 1, Some(1), inexact),
    ("exact->inexact", 1, Some(1), inexact),
    ("inexact->exact", 1, Some(1), exact),
    ("numerator", 1, Some(1), |rt, a| match rt.num_arg("numerator", a[0])? {
        Num::Int(_) => Ok(a[0]),
        Num::Rat(r) => Ok(rt.make_int(r.numer().clone())),
        Num::Real(x) => {
            let r = float_ratio(rt, "numerator", a[0], x)?;
            Ok(rt.make_real(to_f64(&Num::Int(r.numer().clone()))))
        }
    }),
    ("denominator", 1, Some(1), |rt, a| match rt.num_arg("denominator", a[0])? {
        Num::Int(_) => Ok(Value::small(1)),
        Num::Rat(r) => Ok(rt.make_int(r.denom().clone())),
        Num::Real(x) => {
            let r = float_ratio(rt, "denominator", a[0], x)?;
            Ok(rt.make_real(to_f64(&Num::Int(r.denom().clone()))))
        }
    }),
    ("floor", 1, Some(1), |rt, a| rounding(rt, "floor", a[0], f64::floor, |r| r.floor())),
    ("ceiling", 1, Some(1), |rt, a| rounding(rt, "ceiling", a[0], f64::ceil, |r| r.ceil())),
    ("truncate", 1, Some(1), |rt, a| rounding(rt, "truncate", a[0], f64::trunc, |r| r.trunc())),
    ("round", 1, Some(1), |rt, a| rounding(rt, "round", a[0], f64::round_ties_even, round_ratio_even)),
    ("sqrt", 1, Some(1), sqrt),
    ("exp", 1, Some(1), |rt, a| real_fn(rt, "exp", a[0], f64::exp)),
    ("log", 1, Some(2), |rt, a| match a.get(1) {
        None => real_fn(rt, "log", a[0], f64::ln),
        Some(&base) => {
            let b = to_f64(&rt.num_arg("log", base)?);
            real_fn(rt, "log", a[0], |x| x.ln() / b.ln())
        }
    }),
    ("sin", 1, Some(1), |rt, a| real_fn(rt, "sin", a[0], f64::sin)),
    ("cos", 1, Some(1), |rt, a| real_fn(rt, "cos", a[0], f64::cos)),
    ("tan", 1, Some(1), |rt, a| real_fn(rt, "tan", a[0], f64::tan)),
    ("asin", 1, Some(1), |rt, a| real_fn(rt, "asin", a[0], f64::asin)),
    ("acos", 1, Some(1), |rt, a| real_fn(rt, "acos", a[0], f64::acos)),
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

/// `-` and `/`: with one argument, the inverse of it; with more, the first combined with the rest.
fn inverse_fold(rt: &mut Runtime, who: &str, op: Op, unit: Value, args: &[Value]) -> NativeResult {
    match args {
        // (- x) is x negated, not 0 - x: (- 0.0) is -0.0.
        [only]
            if op == Op::Sub
                && let Some(minus_one) = Value::fixnum(-1) =>
        {
            rt.arith(who, Op::Mul, minus_one, *only)
        }
        [only] => rt.arith(who, op, unit, *only),
        [first, rest @ ..] => {
            let mut acc = *first;
            for &arg in rest {
                acc = rt.arith(who, op, acc, arg)?;
            }
            Ok(acc)
        }
        [] => Ok(unit),
    }
}

fn compare_chain(rt: &mut Runtime, who: &str, args: &[Value], holds: fn(Ordering) -> bool) -> NativeResult {
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
    let n = rt.num_arg(who, v)?;
    match compare_nums(&n, &Num::Int(BigInt::zero())) {
        Some(sign) => Ok(Value::boolean(holds(sign))),
        None => Ok(Value::FALSE),
    }
}

fn extremum(rt: &mut Runtime, who: &str, args: &[Value], wanted: Ordering) -> NativeResult {
    let mut best = args[0];
    let mut inexact = !rt.num_arg(who, best)?.is_exact();
    for &arg in &args[1..] {
        inexact |= !rt.num_arg(who, arg)?.is_exact();
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
    let mut inexact = false;
    for &arg in args {
        inexact |= !rt.num_arg(who, arg)?.is_exact();
        let n = rt.int_arg(who, arg)?;
        acc = if lcm { acc.lcm(&n) } else { acc.gcd(&n) };
    }
    let result = Num::Int(acc.abs());
    if inexact {
        let x = to_f64(&result);
        return Ok(rt.make_real(x));
    }
    Ok(rt.make_num(result))
}

/// The largest exact result `expt` computes, in bits (512 MiB).
const MAX_RESULT_BITS: u64 = 1 << 32;

fn expt(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let (base, power) = (rt.num_arg("expt", args[0])?, rt.num_arg("expt", args[1])?);
    match (&base, &power) {
        (_, Num::Int(p)) if base.is_exact() => {
            let Some(magnitude) = p.abs().to_u32() else {
                if let Some(r) = base.as_ratio()
                    && (r.is_zero() || r.is_one())
                {
                    return Ok(args[0]);
                }
                return Err(Throw::error("expt: exponent too large", vec![args[1]]));
            };
            let r = base.as_ratio().unwrap_or_default();
            let result_bits = u64::from(magnitude) * r.numer().bits().max(r.denom().bits());
            if result_bits > MAX_RESULT_BITS {
                return Err(Throw::error("expt: result too large", vec![args[0], args[1]]));
            }
            // Refused before it is computed: a power too large for the heap limit would take
            // minutes to compute before the collector could see it.
            if let Some(max) = rt.limits.max_heap
                && result_bits / 8 > max as u64
            {
                return Err(Throw::Limit(format!(
                    "heap limit exceeded: expt would make an integer of {} bytes, more than {max}",
                    result_bits / 8
                )));
            }
            if p.is_negative() && r.is_zero() {
                return Err(Throw::error("expt: division by zero", vec![args[0], args[1]]));
            }
            // Numerator and denominator apart: they stay coprime, so no gcd is needed (raising a
            // ratio by repeated multiplication reduced at every step, which took minutes for
            // (expt 3 4259940)).
            let raised = num_rational::BigRational::new_raw(r.numer().pow(magnitude), r.denom().pow(magnitude));
            let result = if p.is_negative() { raised.recip() } else { raised };
            Ok(rt.make_num(Num::from_ratio(result)))
        }
        (b, p) => {
            let x = to_f64(b).powf(to_f64(p));
            Ok(rt.make_real(x))
        }
    }
}

fn exact_integer_sqrt_root(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let n = match rt.num(args[0]) {
        Some(Num::Int(n)) if !n.is_negative() => n,
        _ => {
            return Err(rt.type_error("exact-integer-sqrt", "an exact non-negative integer", args[0]));
        }
    };
    let root = n.sqrt();
    Ok(rt.make_int(root))
}

fn sqrt(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let n = rt.num_arg("sqrt", args[0])?;
    if let Some(r) = n.as_ratio()
        && !r.is_negative()
    {
        let (num_root, den_root) = (r.numer().sqrt(), r.denom().sqrt());
        if &num_root * &num_root == *r.numer() && &den_root * &den_root == *r.denom() {
            return Ok(rt.make_num(Num::from_ratio(BigRational::new(num_root, den_root))));
        }
    }
    let x = to_f64(&n);
    if x < 0.0 {
        return Err(Throw::error("sqrt: complex results are not supported", vec![args[0]]));
    }
    Ok(rt.make_real(x.sqrt()))
}

fn float_ratio(rt: &Runtime, who: &str, v: Value, x: f64) -> Result<BigRational, Throw> {
    BigRational::from_float(x).ok_or_else(|| rt.type_error(who, "a finite number", v))
}

fn exact(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    match rt.num_arg("exact", args[0])? {
        Num::Real(x) => {
            let r = float_ratio(rt, "exact", args[0], x)?;
            Ok(rt.make_num(Num::from_ratio(r)))
        }
        _ => Ok(args[0]),
    }
}

fn inexact(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    match rt.num_arg("inexact", args[0])? {
        Num::Real(_) => Ok(args[0]),
        n => {
            let x = to_f64(&n);
            Ok(rt.make_real(x))
        }
    }
}

/// An inexact function of one real; `(exp 0)` and friends give flonums, as in most Schemes.
fn real_fn(rt: &mut Runtime, who: &str, v: Value, f: impl Fn(f64) -> f64) -> NativeResult {
    let x = to_f64(&rt.num_arg(who, v)?);
    Ok(rt.make_real(f(x)))
}

/// Rounds to even on ties, as R7RS `round` does.
fn round_ratio_even(r: &BigRational) -> BigRational {
    let floor = r.floor();
    let diff = r - &floor;
    let half = BigRational::new(BigInt::one(), BigInt::from(2));
    match diff.cmp(&half) {
        Ordering::Less => floor,
        Ordering::Greater => floor + BigRational::one(),
        Ordering::Equal if floor.to_integer().is_even() => floor,
        Ordering::Equal => floor + BigRational::one(),
    }
}

fn rounding(
    rt: &mut Runtime,
    who: &str,
    v: Value,
    real: fn(f64) -> f64,
    exact: fn(&BigRational) -> BigRational,
) -> NativeResult {
    match rt.num_arg(who, v)? {
        Num::Int(_) => Ok(v),
        Num::Rat(r) => Ok(rt.make_num(Num::from_ratio(exact(&r)))),
        Num::Real(x) => Ok(rt.make_real(real(x))),
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
    let n = rt.num_arg("number->string", args[0])?;
    let text = exact_to_string(&n, radix);
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
    let source = if text.starts_with('#') { text.clone() } else { format!("{prefix}{text}") };
    let Ok(data) = chenilles_reader::read_all(&source, 0) else {
        return Ok(Value::FALSE);
    };
    match data.as_slice() {
        [datum] if datum.span.start == 0 && datum.span.end as usize == source.len() => match &datum.kind {
            DatumKind::Number(number) => Ok(number_value(rt, number)),
            _ => Ok(Value::FALSE),
        },
        _ => Ok(Value::FALSE),
    }
}

/// The value of a number literal.
pub fn number_value(rt: &mut Runtime, number: &Number) -> Value {
    match number {
        Number::Integer(n) => rt.make_int(n.clone()),
        Number::Rational(n, d) => rt.make_num(Num::from_ratio(BigRational::new(n.clone(), d.clone()))),
        Number::Real(x) => rt.make_real(*x),
    }
}
