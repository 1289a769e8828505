//! Pairs and lists.

use super::Entries;
use crate::heap::Object;
use crate::numbers::Numbers;
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("cons", 2, Some(2), |rt, a| Ok(rt.heap.cons(a[0], a[1]))),
    ("car", 1, Some(1), |rt, a| car(rt, a[0])),
    ("cdr", 1, Some(1), |rt, a| cdr(rt, a[0])),
    ("set-car!", 2, Some(2), |rt, a| set_car(rt, a[0], a[1])),
    ("set-cdr!", 2, Some(2), |rt, a| set_cdr(rt, a[0], a[1])),
    ("caar", 1, Some(1), |rt, a| cxr(rt, "caar", a[0], "aa")),
    ("cadr", 1, Some(1), |rt, a| cxr(rt, "cadr", a[0], "ad")),
    ("cdar", 1, Some(1), |rt, a| cxr(rt, "cdar", a[0], "da")),
    ("cddr", 1, Some(1), |rt, a| cxr(rt, "cddr", a[0], "dd")),
    ("pair?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.heap.pair(a[0]).is_some()))),
    ("null?", 1, Some(1), |_, a| Ok(Value::boolean(a[0] == Value::NIL))),
    ("list?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.heap.list_items(a[0]).is_some()))),
    ("list", 0, None, |rt, a| Ok(rt.heap.list(a.iter().copied()))),
    ("length", 1, Some(1), length),
    ("append", 0, None, append),
    ("reverse", 1, Some(1), reverse),
    ("list-tail", 2, Some(2), list_tail),
    ("list-ref", 2, Some(2), list_ref),
    ("memq", 2, Some(2), |rt, a| member_by(rt, "memq", a[0], a[1], |_, x, y| x == y)),
    ("memv", 2, Some(2), |rt, a| member_by(rt, "memv", a[0], a[1], super::control::eqv)),
    ("assq", 2, Some(2), |rt, a| assoc_by(rt, "assq", a[0], a[1], |_, x, y| x == y)),
    ("assv", 2, Some(2), |rt, a| assoc_by(rt, "assv", a[0], a[1], super::control::eqv)),
    ("make-list", 1, Some(2), make_list),
    ("list-copy", 1, Some(1), list_copy),
    ("last-pair", 1, Some(1), last_pair),
];

pub fn car(rt: &mut Runtime, v: Value) -> NativeResult {
    rt.heap.pair(v).map(|p| p.0).ok_or_else(|| rt.type_error("car", "a pair", v))
}

pub fn cdr(rt: &mut Runtime, v: Value) -> NativeResult {
    rt.heap.pair(v).map(|p| p.1).ok_or_else(|| rt.type_error("cdr", "a pair", v))
}

pub fn set_car(rt: &mut Runtime, pair: Value, value: Value) -> NativeResult {
    match rt.heap.get_mut(pair) {
        Some(Object::Pair(car, _)) => {
            *car = value;
            Ok(Value::UNSPECIFIED)
        }
        _ => Err(rt.type_error("set-car!", "a pair", pair)),
    }
}

pub fn set_cdr(rt: &mut Runtime, pair: Value, value: Value) -> NativeResult {
    match rt.heap.get_mut(pair) {
        Some(Object::Pair(_, cdr)) => {
            *cdr = value;
            Ok(Value::UNSPECIFIED)
        }
        _ => Err(rt.type_error("set-cdr!", "a pair", pair)),
    }
}

/// `c[ad]+r`: `path` lists the operations innermost last, as in the name.
fn cxr(rt: &mut Runtime, who: &str, v: Value, path: &str) -> NativeResult {
    let mut current = v;
    for op in path.chars().rev() {
        let (car, cdr) = rt.heap.pair(current).ok_or_else(|| rt.type_error(who, "a suitable list", v))?;
        current = if op == 'a' { car } else { cdr };
    }
    Ok(current)
}

fn proper_list(rt: &Runtime, who: &str, v: Value) -> Result<Vec<Value>, Throw> {
    rt.heap.list_items(v).ok_or_else(|| rt.type_error(who, "a proper list", v))
}

fn length(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    Ok(Value::small(proper_list(rt, "length", a[0])?.len()))
}

fn append(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let Some((&last, init)) = a.split_last() else {
        return Ok(Value::NIL);
    };
    let mut result = last;
    for &list in init.iter().rev() {
        let items = proper_list(rt, "append", list)?;
        for &item in items.iter().rev() {
            result = rt.heap.cons(item, result);
        }
    }
    Ok(result)
}

fn reverse(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let items = proper_list(rt, "reverse", a[0])?;
    Ok(items.into_iter().fold(Value::NIL, |tail, item| rt.heap.cons(item, tail)))
}

fn list_tail(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let k = rt.index_arg("list-tail", a[1])?;
    if k == 0 {
        return Ok(a[0]);
    }
    match rt.heap.spine(a[0]).nth(k - 1) {
        Some((_, _, cdr)) => Ok(cdr),
        None => Err(Throw::error("list-tail: list too short", vec![a[0], a[1]])),
    }
}

fn list_ref(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let k = rt.index_arg("list-ref", a[1])?;
    match rt.heap.spine(a[0]).nth(k) {
        Some((_, car, _)) => Ok(car),
        None => Err(Throw::error("list-ref: index out of range", vec![a[0], a[1]])),
    }
}

/// `same`, or plain identity when `x` is no heap object (a fixnum, a character, a symbol…): then
/// eq?, eqv? and equal? all are identity, and the walk needs no call per element.
/// The first tail of `list` whose car is `same` as `x`, or #f. A circular list is an error.
fn member_by(rt: &Runtime, who: &str, x: Value, list: Value, same: fn(&Runtime, Value, Value) -> bool) -> NativeResult {
    // An immediate is `same` as exactly the values identical to it, whatever the predicate: the
    // loop is then a word comparison (compiled apart, with no call per element).
    if x.as_object().is_none() {
        find_tail(rt, who, list, |_, car| car == x)
    } else {
        find_tail(rt, who, list, |rt, car| same(rt, x, car))
    }
}

fn find_tail(rt: &Runtime, who: &str, list: Value, found: impl Fn(&Runtime, Value) -> bool) -> NativeResult {
    let mut end = list;
    for (pair, car, cdr) in rt.heap.spine(list) {
        if found(rt, car) {
            return Ok(pair);
        }
        end = cdr;
    }
    if rt.heap.pair(end).is_some() {
        return Err(rt.type_error(who, "a finite list", list));
    }
    Ok(Value::FALSE)
}

/// The first entry of association list `list` whose key is `same` as `x`, or #f.
fn assoc_by(
    rt: &mut Runtime,
    who: &str,
    x: Value,
    list: Value,
    same: fn(&Runtime, Value, Value) -> bool,
) -> NativeResult {
    if x.as_object().is_none() {
        find_entry(rt, who, list, |_, key| key == x)
    } else {
        find_entry(rt, who, list, |rt, key| same(rt, x, key))
    }
}

fn find_entry(rt: &Runtime, who: &str, list: Value, found: impl Fn(&Runtime, Value) -> bool) -> NativeResult {
    let mut end = list;
    for (pair, entry, cdr) in rt.heap.spine(list) {
        let (key, _) = rt.heap.pair(entry).ok_or_else(|| rt.type_error(who, "an association list", pair))?;
        if found(rt, key) {
            return Ok(entry);
        }
        end = cdr;
    }
    if rt.heap.pair(end).is_some() {
        return Err(rt.type_error(who, "a finite list", list));
    }
    Ok(Value::FALSE)
}

fn make_list(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let n = rt.size_arg("make-list", a[0])?;
    let fill = a.get(1).copied().unwrap_or(Value::UNSPECIFIED);
    Ok((0..n).fold(Value::NIL, |tail, _| rt.heap.cons(fill, tail)))
}

fn list_copy(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    // Copies the spine of a possibly improper list; a non-pair is returned as is.
    let mut items = Vec::new();
    let mut list = a[0];
    while let Some((car, cdr)) = rt.heap.pair(list) {
        items.push(car);
        list = cdr;
        if items.len() > rt.heap.object_count() {
            return Err(rt.type_error("list-copy", "a finite list", a[0]));
        }
    }
    Ok(items.into_iter().rev().fold(list, |tail, item| rt.heap.cons(item, tail)))
}

fn last_pair(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    rt.heap.pair(a[0]).ok_or_else(|| rt.type_error("last-pair", "a pair", a[0]))?;
    match rt.heap.spine(a[0]).find(|&(_, _, cdr)| rt.heap.pair(cdr).is_none()) {
        Some((pair, _, _)) => Ok(pair),
        None => Err(rt.type_error("last-pair", "a finite list", a[0])),
    }
}
