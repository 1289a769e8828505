//! Number syntax (R7RS section 7.1.1 `<number>`), real numbers only.
//!
//! [`parse`] decides whether a whole atom is a number. Supported: radix prefixes `#x #b #o #d` and
//! exactness prefixes `#e #i` in either order, integers of any size, ratios, decimals with exponents,
//! and `+inf.0 -inf.0 +nan.0 -nan.0`. Complex numbers are recognised only to say they are unsupported.

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};

use crate::datum::Number;
use crate::lexer::shorten;

/// The largest power of ten an exact decimal (`#e1e400`) may be scaled by.
const MAX_EXACT_EXPONENT: i64 = 100_000;
/// The most digits a decimal number may have; hexadecimal, octal and binary have no such limit
/// (their conversion takes linear time). The printer writes larger integers in hexadecimal.
pub const MAX_DECIMAL_DIGITS: usize = 1_000_000;
/// The most bits an integer written in decimal may have: about [`MAX_DECIMAL_DIGITS`] digits. The
/// printers write larger integers, and ratios with a larger part, in hexadecimal.
pub const MAX_DECIMAL_BITS: u64 = (MAX_DECIMAL_DIGITS as u64) * 3321 / 1000;

/// What a piece of text is, as far as number syntax goes.
#[derive(Debug, PartialEq)]
pub enum NumberSyntax {
    /// Not number syntax at all (for an unprefixed atom: a symbol).
    NotANumber,
    Number(Number),
    /// Number syntax that denotes no number the reader can produce, with the reason.
    Invalid(String),
}

#[derive(Clone, Copy, PartialEq)]
enum Exactness {
    Default,
    Exact,
    Inexact,
}

/// A real as written, before exactness is applied.
enum Real<'a> {
    Integer(BigInt),
    /// The denominator may be zero here.
    Ratio(BigInt, BigInt),
    /// Radix 10 only: `[-]int.frac` times ten to `exponent` (its digits, sign included, unparsed).
    Decimal {
        negative: bool,
        int: &'a str,
        frac: &'a str,
        exponent: &'a str,
    },
    Infinity {
        negative: bool,
    },
    NaN,
}

/// Parses `text` as a number.
pub fn parse(text: &str) -> NumberSyntax {
    // Fast exit for the common case, symbols: a number starts with a digit, a sign, a `.` or a `#`.
    match text.as_bytes().first() {
        Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'#') => {}
        _ => return NumberSyntax::NotANumber,
    }
    let mut radix = None;
    let mut exactness = Exactness::Default;
    let mut body = text;
    while let Some(rest) = body.strip_prefix('#') {
        let Some(&letter) = rest.as_bytes().first() else {
            return NumberSyntax::NotANumber;
        };
        match letter.to_ascii_lowercase() {
            b'x' | b'b' | b'o' | b'd' if radix.is_none() => {
                radix = Some(match letter.to_ascii_lowercase() {
                    b'x' => 16,
                    b'b' => 2,
                    b'o' => 8,
                    _ => 10,
                })
            }
            b'e' if exactness == Exactness::Default => exactness = Exactness::Exact,
            b'i' if exactness == Exactness::Default => exactness = Exactness::Inexact,
            _ => return NumberSyntax::NotANumber,
        }
        // `letter` is ASCII, so byte 1 is a char boundary.
        body = &rest[1..];
    }
    let radix = radix.unwrap_or(10);
    if radix == 10
        && body.len() > MAX_DECIMAL_DIGITS
        && body.bytes().all(|b| b.is_ascii_digit() || b"+-./eE".contains(&b))
    {
        // Converting decimal digits costs time quadratic in their number: a few megabytes of them
        // would keep the reader (or string->number) busy for minutes.
        return NumberSyntax::Invalid(format!(
            "a number of more than {MAX_DECIMAL_DIGITS} decimal digits (write it in hexadecimal, #x…)"
        ));
    }
    let Some(real) = parse_real(body, radix) else {
        if looks_complex(body, radix) {
            return NumberSyntax::Invalid(format!("complex numbers are not supported: `{}`", shorten(text)));
        }
        return NumberSyntax::NotANumber;
    };
    let inexact = match exactness {
        Exactness::Exact => false,
        Exactness::Inexact => true,
        Exactness::Default => matches!(real, Real::Decimal { .. } | Real::Infinity { .. } | Real::NaN),
    };
    if !inexact {
        return to_exact(real, text);
    }
    let x = to_f64(&real);
    // `#i-0` and `-0/5` are negative zero.
    let x = if x == 0.0 && body.starts_with('-') { -0.0 } else { x };
    NumberSyntax::Number(Number::Real(x))
}

/// `[sign] digits`, all of them valid in `radix`, as a signed BigInt.
fn parse_integer(text: &str, radix: u32) -> Option<BigInt> {
    let (negative, digits) = split_sign(text);
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    let magnitude = BigInt::parse_bytes(digits.as_bytes(), radix)?;
    Some(if negative { -magnitude } else { magnitude })
}

fn split_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') { (true, rest) } else { (false, text.strip_prefix('+').unwrap_or(text)) }
}

fn all_digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

/// `<real R>` without prefixes.
fn parse_real(body: &str, radix: u32) -> Option<Real<'_>> {
    if let Some(n) = parse_integer(body, radix) {
        return Some(Real::Integer(n));
    }
    if let Some((numerator, denominator)) = body.split_once('/') {
        let n = parse_integer(numerator, radix)?;
        // Only the numerator carries a sign.
        if denominator.starts_with(['+', '-']) {
            return None;
        }
        let d = parse_integer(denominator, radix)?;
        return Some(Real::Ratio(n, d));
    }
    match body.to_ascii_lowercase().as_str() {
        "+inf.0" => return Some(Real::Infinity { negative: false }),
        "-inf.0" => return Some(Real::Infinity { negative: true }),
        "+nan.0" | "-nan.0" => return Some(Real::NaN),
        _ => {}
    }
    if radix != 10 {
        return None;
    }
    let (negative, unsigned) = split_sign(body);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], &unsigned[i + 1..]),
        None => (unsigned, ""),
    };
    let has_exponent = mantissa.len() < unsigned.len();
    if has_exponent {
        let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if exponent_digits.is_empty() || !all_digits(exponent_digits) {
            return None;
        }
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    Some(Real::Decimal { negative, int, frac, exponent })
}

/// Whether `body` is R7RS complex syntax (`1+2i`, `+i`, `1@2`), which the reader does not support.
fn looks_complex(body: &str, radix: u32) -> bool {
    let lower = body.to_ascii_lowercase();
    if let Some((magnitude, angle)) = lower.split_once('@') {
        return parse_real(magnitude, radix).is_some() && parse_real(angle, radix).is_some();
    }
    let Some(without_i) = lower.strip_suffix('i') else {
        return false;
    };
    let bytes = without_i.as_bytes();
    for (j, &b) in bytes.iter().enumerate() {
        if b != b'+' && b != b'-' {
            continue;
        }
        // In radix 10 a sign right after `e` belongs to an exponent.
        if radix == 10 && j > 0 && bytes[j - 1] == b'e' {
            continue;
        }
        // `b` is ASCII, so `j` is a char boundary.
        let (real, imaginary) = without_i.split_at(j);
        let real_ok = real.is_empty() || parse_real(real, radix).is_some();
        let imaginary_ok = imaginary.len() == 1 || parse_real(imaginary, radix).is_some();
        if real_ok && imaginary_ok {
            return true;
        }
    }
    false
}

/// The exact number `real` denotes; `text` is the whole literal, for messages.
fn to_exact(real: Real<'_>, text: &str) -> NumberSyntax {
    match real {
        Real::Integer(n) => NumberSyntax::Number(Number::Integer(n)),
        Real::Ratio(n, d) => {
            if d.is_zero() {
                return NumberSyntax::Invalid(format!("division by zero in `{}`", shorten(text)));
            }
            NumberSyntax::Number(ratio(n, d))
        }
        Real::Decimal { negative, int, frac, exponent } => {
            let mut digits = String::with_capacity(int.len() + frac.len());
            digits.push_str(int);
            digits.push_str(frac);
            let Some(mut mantissa) = BigInt::parse_bytes(digits.as_bytes(), 10) else {
                return NumberSyntax::Invalid(format!("bad number `{}`", shorten(text)));
            };
            if mantissa.is_zero() {
                return NumberSyntax::Number(Number::Integer(mantissa));
            }
            if negative {
                mantissa = -mantissa;
            }
            let exponent: i64 = if exponent.is_empty() {
                0
            } else {
                match exponent.parse::<i64>() {
                    Ok(e) if e.unsigned_abs() <= MAX_EXACT_EXPONENT.unsigned_abs() => e,
                    _ => {
                        return NumberSyntax::Invalid(format!(
                            "exponent too large for an exact number: `{}`",
                            shorten(text)
                        ));
                    }
                }
            };
            let frac_len = i64::try_from(frac.len()).unwrap_or(i64::MAX);
            let scale = exponent.saturating_sub(frac_len);
            if scale.unsigned_abs() > MAX_EXACT_EXPONENT.unsigned_abs() {
                return NumberSyntax::Invalid(format!("too many digits for an exact number: `{}`", shorten(text)));
            }
            // |scale| <= MAX_EXACT_EXPONENT, so it fits a u32.
            let power = BigInt::from(10u32).pow(scale.unsigned_abs() as u32);
            if scale >= 0 {
                NumberSyntax::Number(Number::Integer(mantissa * power))
            } else {
                NumberSyntax::Number(ratio(mantissa, power))
            }
        }
        Real::Infinity { .. } | Real::NaN => {
            NumberSyntax::Invalid(format!("`{}` has no exact representation", shorten(text)))
        }
    }
}

/// `n/d` reduced; `d` is not zero.
fn ratio(n: BigInt, d: BigInt) -> Number {
    let (n, d) = if d.sign() == Sign::Minus { (-n, -d) } else { (n, d) };
    let g = n.gcd(&d);
    let (n, d) = if g.is_one() { (n, d) } else { (n / &g, d / &g) };
    if d.is_one() { Number::Integer(n) } else { Number::Rational(n, d) }
}

/// The inexact value of `real`.
fn to_f64(real: &Real<'_>) -> f64 {
    match real {
        Real::Integer(n) => integer_to_f64(n),
        Real::Ratio(n, d) => {
            if d.is_zero() {
                return if n.is_zero() {
                    f64::NAN
                } else if n.sign() == Sign::Minus {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                };
            }
            // Keep both within f64 range before dividing.
            let shift = n.bits().max(d.bits()).saturating_sub(1000);
            let (n, d) = (n >> shift, d >> shift);
            if d.is_zero() {
                return if n.sign() == Sign::Minus { f64::NEG_INFINITY } else { f64::INFINITY };
            }
            integer_to_f64(&n) / integer_to_f64(&d)
        }
        Real::Decimal { negative, int, frac, exponent } => {
            let int = if int.is_empty() { "0" } else { int };
            let frac = if frac.is_empty() { "0" } else { frac };
            let exponent = if exponent.is_empty() { "0" } else { exponent };
            let sign = if *negative { "-" } else { "" };
            format!("{sign}{int}.{frac}e{exponent}").parse::<f64>().unwrap_or(f64::NAN)
        }
        Real::Infinity { negative: false } => f64::INFINITY,
        Real::Infinity { negative: true } => f64::NEG_INFINITY,
        Real::NaN => f64::NAN,
    }
}

fn integer_to_f64(n: &BigInt) -> f64 {
    n.to_f64().unwrap_or(if n.sign() == Sign::Minus { f64::NEG_INFINITY } else { f64::INFINITY })
}
