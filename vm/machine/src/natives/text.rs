//! Characters, strings and symbols.

use std::cmp::Ordering;

use super::Entries;
use crate::heap::Object;
use crate::numbers::Numbers;
use crate::runtime::Runtime;
use crate::scheme_string::SchemeString;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("char?", 1, Some(1), |_, a| Ok(Value::boolean(a[0].as_char().is_some()))),
    ("char->integer", 1, Some(1), |rt, a| Ok(Value::small(u32::from(char_arg(rt, "char->integer", a[0])?) as usize))),
    ("integer->char", 1, Some(1), integer_to_char),
    ("char=?", 1, None, |rt, a| char_compare(rt, "char=?", a, false, |o| o == Ordering::Equal)),
    ("char<?", 1, None, |rt, a| char_compare(rt, "char<?", a, false, |o| o == Ordering::Less)),
    ("char>?", 1, None, |rt, a| char_compare(rt, "char>?", a, false, |o| o == Ordering::Greater)),
    ("char<=?", 1, None, |rt, a| char_compare(rt, "char<=?", a, false, |o| o != Ordering::Greater)),
    ("char>=?", 1, None, |rt, a| char_compare(rt, "char>=?", a, false, |o| o != Ordering::Less)),
    ("char-ci=?", 1, None, |rt, a| char_compare(rt, "char-ci=?", a, true, |o| o == Ordering::Equal)),
    ("char-ci<?", 1, None, |rt, a| char_compare(rt, "char-ci<?", a, true, |o| o == Ordering::Less)),
    ("char-ci>?", 1, None, |rt, a| char_compare(rt, "char-ci>?", a, true, |o| o == Ordering::Greater)),
    ("char-ci<=?", 1, None, |rt, a| char_compare(rt, "char-ci<=?", a, true, |o| o != Ordering::Greater)),
    ("char-ci>=?", 1, None, |rt, a| char_compare(rt, "char-ci>=?", a, true, |o| o != Ordering::Less)),
    ("char-alphabetic?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(char_arg(rt, "char-alphabetic?", a[0])?.is_alphabetic()))
    }),
    ("char-numeric?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(digit_value(char_arg(rt, "char-numeric?", a[0])?).is_some()))
    }),
    ("char-whitespace?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(char_arg(rt, "char-whitespace?", a[0])?.is_whitespace()))
    }),
    ("char-upper-case?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(char_arg(rt, "char-upper-case?", a[0])?.is_uppercase()))
    }),
    ("char-lower-case?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(char_arg(rt, "char-lower-case?", a[0])?.is_lowercase()))
    }),
    ("digit-value", 1, Some(1), |rt, a| {
        let c = char_arg(rt, "digit-value", a[0])?;
        Ok(digit_value(c).map_or(Value::FALSE, |d| Value::small(d as usize)))
    }),
    ("char-upcase", 1, Some(1), |rt, a| Ok(Value::character(upcase(char_arg(rt, "char-upcase", a[0])?)))),
    ("char-downcase", 1, Some(1), |rt, a| Ok(Value::character(downcase(char_arg(rt, "char-downcase", a[0])?)))),
    ("char-foldcase", 1, Some(1), |rt, a| Ok(Value::character(fold_char(char_arg(rt, "char-foldcase", a[0])?)))),
    ("string?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.string(a[0]).is_some()))),
    ("make-string", 1, Some(2), make_string),
    ("string", 0, None, |rt, a| {
        let chars = a.iter().map(|&c| char_arg(rt, "string", c)).collect::<Result<Vec<_>, _>>()?;
        Ok(rt.heap.alloc(Object::String(SchemeString::from_chars(chars))))
    }),
    ("string-length", 1, Some(1), |rt, a| Ok(Value::small(string_arg(rt, "string-length", a[0])?.len()))),
    ("string-ref", 2, Some(2), string_ref),
    ("string-set!", 3, Some(3), string_set),
    ("substring", 2, Some(3), |rt, a| string_copy(rt, "substring", a)),
    ("string-copy", 1, Some(3), |rt, a| string_copy(rt, "string-copy", a)),
    ("string-copy!", 3, Some(5), string_copy_into),
    ("string-fill!", 2, Some(4), string_fill),
    ("string-append", 0, None, string_append),
    ("string->list", 1, Some(3), string_to_list),
    ("list->string", 1, Some(1), list_to_string),
    ("string->vector", 1, Some(3), string_to_vector),
    ("vector->string", 1, Some(3), vector_to_string),
    ("string-upcase", 1, Some(1), |rt, a| {
        let s = rt.string_arg("string-upcase", a[0])?.to_uppercase();
        Ok(rt.new_string(&s))
    }),
    ("string-downcase", 1, Some(1), |rt, a| {
        let s = rt.string_arg("string-downcase", a[0])?.to_lowercase();
        Ok(rt.new_string(&s))
    }),
    ("string-foldcase", 1, Some(1), |rt, a| {
        let s = fold_string(&rt.string_arg("string-foldcase", a[0])?);
        Ok(rt.new_string(&s))
    }),
    ("string=?", 1, None, |rt, a| string_compare(rt, "string=?", a, false, |o| o == Ordering::Equal)),
    ("string<?", 1, None, |rt, a| string_compare(rt, "string<?", a, false, |o| o == Ordering::Less)),
    ("string>?", 1, None, |rt, a| string_compare(rt, "string>?", a, false, |o| o == Ordering::Greater)),
    ("string<=?", 1, None, |rt, a| string_compare(rt, "string<=?", a, false, |o| o != Ordering::Greater)),
    ("string>=?", 1, None, |rt, a| string_compare(rt, "string>=?", a, false, |o| o != Ordering::Less)),
    ("string-ci=?", 1, None, |rt, a| string_compare(rt, "string-ci=?", a, true, |o| o == Ordering::Equal)),
    ("string-ci<?", 1, None, |rt, a| string_compare(rt, "string-ci<?", a, true, |o| o == Ordering::Less)),
    ("string-ci>?", 1, None, |rt, a| string_compare(rt, "string-ci>?", a, true, |o| o == Ordering::Greater)),
    ("string-ci<=?", 1, None, |rt, a| string_compare(rt, "string-ci<=?", a, true, |o| o != Ordering::Greater)),
    ("string-ci>=?", 1, None, |rt, a| string_compare(rt, "string-ci>=?", a, true, |o| o != Ordering::Less)),
    ("symbol?", 1, Some(1), |_, a| Ok(Value::boolean(a[0].as_symbol().is_some()))),
    ("symbol->string", 1, Some(1), symbol_to_string),
    ("string->symbol", 1, Some(1), |rt, a| {
        let s = rt.string_arg("string->symbol", a[0])?;
        Ok(rt.symbols.intern(&s))
    }),
    ("symbol=?", 1, None, |rt, a| {
        for &s in a {
            if s.as_symbol().is_none() {
                return Err(rt.type_error("symbol=?", "a symbol", s));
            }
        }
        Ok(Value::boolean(a.windows(2).all(|w| w[0] == w[1])))
    }),
];

/// The first code point (digit zero) of each run of ten Unicode decimal digits (category Nd).
/// Unicode encodes every decimal digit set as such a contiguous run, 0 to 9.
const DECIMAL_DIGIT_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0,
    0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0,
    0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60,
    0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// R7RS `digit-value`: the value of a decimal digit of any script.
fn digit_value(c: char) -> Option<u32> {
    let code = u32::from(c);
    if !c.is_numeric() {
        return None;
    }
    DECIMAL_DIGIT_ZEROS.iter().find(|&&zero| (zero..zero + 10).contains(&code)).map(|zero| code - zero)
}

fn upcase(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Simple case folding of one character (Unicode CaseFolding status C and S): its lower case when
/// that is one character, with the few characters whose folding differs from their lower case.
fn fold_char(c: char) -> char {
    match c {
        'ς' => 'σ',
        'ſ' => 's',
        'ϐ' => 'β',
        'ϑ' => 'θ',
        'ϕ' => 'φ',
        'ϖ' => 'π',
        'ϰ' => 'κ',
        'ϱ' => 'ρ',
        'ϵ' => 'ε',
        'ẛ' => 'ṡ',
        _ => downcase(c),
    }
}

/// Full case folding of a string (Unicode CaseFolding status C and F): `"Straße"` folds to
/// `"strasse"`, as `string-foldcase` and the `-ci` comparisons require.
fn fold_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'ﬀ' => out.push_str("ff"),
            'ﬁ' => out.push_str("fi"),
            'ﬂ' => out.push_str("fl"),
            'ﬃ' => out.push_str("ffi"),
            'ﬄ' => out.push_str("ffl"),
            'ﬅ' | 'ﬆ' => out.push_str("st"),
            'İ' => out.push_str("i\u{307}"),
            'ŉ' => out.push_str("\u{2bc}n"),
            c => match fold_char(c) {
                folded if folded != c => out.push(folded),
                _ => out.extend(c.to_lowercase()),
            },
        }
    }
    out
}

fn downcase(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

pub fn char_arg(rt: &Runtime, who: &str, v: Value) -> Result<char, Throw> {
    v.as_char().ok_or_else(|| rt.type_error(who, "a character", v))
}

fn string_arg<'r>(rt: &'r Runtime, who: &str, v: Value) -> Result<&'r SchemeString, Throw> {
    rt.string(v).ok_or_else(|| rt.type_error(who, "a string", v))
}

/// The `[start, end)` range of optional arguments `args[at]` and `args[at + 1]` over a length.
pub fn range_args(rt: &Runtime, who: &str, args: &[Value], at: usize, len: usize) -> Result<(usize, usize), Throw> {
    let start = match args.get(at) {
        Some(&v) => rt.index_arg(who, v)?,
        None => 0,
    };
    let end = match args.get(at + 1) {
        Some(&v) => rt.index_arg(who, v)?,
        None => len,
    };
    if start > end || end > len {
        return Err(Throw::error(format!("{who}: range out of bounds"), args[at.min(args.len() - 1)..].to_vec()));
    }
    // Every procedure taking a range walks it (fills, copies, substrings): charge the walk.
    rt.heap.charge(((end - start) / 8) as u64);
    Ok((start, end))
}

fn integer_to_char(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    args[0]
        .as_fixnum()
        .and_then(|n| u32::try_from(n).ok())
        .and_then(char::from_u32)
        .map(Value::character)
        .ok_or_else(|| rt.type_error("integer->char", "a Unicode scalar value", args[0]))
}

fn char_compare(rt: &mut Runtime, who: &str, args: &[Value], fold: bool, holds: fn(Ordering) -> bool) -> NativeResult {
    let chars = args
        .iter()
        .map(|&c| char_arg(rt, who, c).map(|c| if fold { fold_char(c) } else { c }))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::boolean(chars.windows(2).all(|w| holds(w[0].cmp(&w[1])))))
}

fn string_compare(
    rt: &mut Runtime,
    who: &str,
    args: &[Value],
    fold: bool,
    holds: fn(Ordering) -> bool,
) -> NativeResult {
    let strings = args
        .iter()
        .map(|&s| rt.string_arg(who, s).map(|s| if fold { fold_string(&s) } else { s }))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::boolean(strings.windows(2).all(|w| holds(w[0].cmp(&w[1])))))
}

fn make_string(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let n = rt.size_arg("make-string", args[0])?;
    let fill = match args.get(1) {
        Some(&c) => char_arg(rt, "make-string", c)?,
        None => ' ',
    };
    Ok(rt.heap.alloc(Object::String(SchemeString::filled(n, fill))))
}

fn string_ref(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let k = rt.index_arg("string-ref", args[1])?;
    string_arg(rt, "string-ref", args[0])?
        .get(k)
        .map(Value::character)
        .ok_or_else(|| Throw::error("string-ref: index out of range", vec![args[0], args[1]]))
}

fn string_set(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let k = rt.index_arg("string-set!", args[1])?;
    let c = char_arg(rt, "string-set!", args[2])?;
    match rt.heap.get_mut(args[0]) {
        Some(Object::String(string)) => match string.set(k, c) {
            Some(scanned) => {
                rt.heap.charge((scanned / 16) as u64);
                Ok(Value::UNSPECIFIED)
            }
            None => Err(Throw::error("string-set!: index out of range", vec![args[0], args[1]])),
        },
        _ => Err(rt.type_error("string-set!", "a string", args[0])),
    }
}

fn string_copy(rt: &mut Runtime, who: &str, args: &[Value]) -> NativeResult {
    let string = string_arg(rt, who, args[0])?;
    let (start, end) = range_args(rt, who, args, 1, string.len())?;
    let copy = string.substring(start, end);
    Ok(rt.heap.alloc(Object::String(copy)))
}

fn string_copy_into(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let at = rt.index_arg("string-copy!", args[1])?;
    let length = string_arg(rt, "string-copy!", args[2])?.len();
    let (start, end) = range_args(rt, "string-copy!", args, 3, length)?;
    // Only the range is copied (source and target may be the same string).
    let source: Vec<char> = string_arg(rt, "string-copy!", args[2])?.chars_in(start, end).collect();
    match rt.heap.get_mut(args[0]) {
        Some(Object::String(target)) if at + (end - start) <= target.len() => {
            let scanned = target.replace(at, source.iter().copied());
            rt.heap.charge((scanned / 16) as u64);
            Ok(Value::UNSPECIFIED)
        }
        Some(Object::String(_)) => Err(Throw::error("string-copy!: range out of bounds", args.to_vec())),
        _ => Err(rt.type_error("string-copy!", "a string", args[0])),
    }
}

fn string_fill(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let fill = char_arg(rt, "string-fill!", args[1])?;
    let len = string_arg(rt, "string-fill!", args[0])?.len();
    let (start, end) = range_args(rt, "string-fill!", args, 2, len)?;
    if let Some(Object::String(string)) = rt.heap.get_mut(args[0]) {
        let scanned = string.replace(start, std::iter::repeat_n(fill, end - start));
        rt.heap.charge((scanned / 16) as u64);
    }
    Ok(Value::UNSPECIFIED)
}

fn string_append(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let mut parts = Vec::with_capacity(args.len());
    for &s in args {
        parts.push(string_arg(rt, "string-append", s)?);
    }
    let joined = SchemeString::concat(&parts);
    Ok(rt.heap.alloc(Object::String(joined)))
}

fn string_to_list(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let string = string_arg(rt, "string->list", args[0])?;
    let (start, end) = range_args(rt, "string->list", args, 1, string.len())?;
    let items: Vec<Value> = string.chars_in(start, end).map(Value::character).collect();
    Ok(rt.heap.list(items.into_iter()))
}

fn list_to_string(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let items = rt.heap.list_items(args[0]).ok_or_else(|| rt.type_error("list->string", "a list", args[0]))?;
    let chars = items.iter().map(|&c| char_arg(rt, "list->string", c)).collect::<Result<Vec<_>, _>>()?;
    Ok(rt.heap.alloc(Object::String(SchemeString::from_chars(chars))))
}

fn string_to_vector(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let string = string_arg(rt, "string->vector", args[0])?;
    let (start, end) = range_args(rt, "string->vector", args, 1, string.len())?;
    let items = string.chars_in(start, end).map(Value::character).collect();
    Ok(rt.heap.alloc(Object::Vector(items)))
}

fn vector_to_string(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let items = match rt.heap.get(args[0]) {
        Some(Object::Vector(items)) => items.clone(),
        _ => return Err(rt.type_error("vector->string", "a vector", args[0])),
    };
    let (start, end) = range_args(rt, "vector->string", args, 1, items.len())?;
    let chars = items[start..end].iter().map(|&c| char_arg(rt, "vector->string", c)).collect::<Result<Vec<_>, _>>()?;
    Ok(rt.heap.alloc(Object::String(SchemeString::from_chars(chars))))
}

fn symbol_to_string(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let name = rt.symbols.name(args[0]).map(str::to_string);
    match name {
        Some(name) => Ok(rt.new_string(&name)),
        None => Err(rt.type_error("symbol->string", "a symbol", args[0])),
    }
}
