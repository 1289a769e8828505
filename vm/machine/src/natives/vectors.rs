//! Vectors and bytevectors.

use super::Entries;
use super::text::range_args;
use crate::heap::Object;
use crate::numbers::Numbers;
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("vector?", 1, Some(1), |rt, a| Ok(Value::boolean(matches!(rt.heap.get(a[0]), Some(Object::Vector(_)))))),
    ("make-vector", 1, Some(2), |rt, a| {
        let n = rt.size_arg("make-vector", a[0])?;
        Ok(rt.heap.alloc(Object::Vector(vec![a.get(1).copied().unwrap_or(Value::FALSE); n].into())))
    }),
    ("vector", 0, None, |rt, a| Ok(rt.heap.alloc(Object::Vector(a.into())))),
    ("vector-length", 1, Some(1), |rt, a| Ok(Value::small(vector(rt, "vector-length", a[0])?.len()))),
    ("vector-ref", 2, Some(2), |rt, a| vector_ref(rt, a[0], a[1])),
    ("vector-set!", 3, Some(3), |rt, a| vector_set(rt, a[0], a[1], a[2])),
    ("vector->list", 1, Some(3), |rt, a| {
        let items = vector(rt, "vector->list", a[0])?;
        let (start, end) = range_args(rt, "vector->list", a, 1, items.len())?;
        let slice = items[start..end].to_vec();
        Ok(rt.heap.list(slice.into_iter()))
    }),
    ("list->vector", 1, Some(1), |rt, a| {
        let items = rt.heap.list_items(a[0]).ok_or_else(|| rt.type_error("list->vector", "a list", a[0]))?;
        Ok(rt.heap.alloc(Object::Vector(items.into())))
    }),
    ("vector-fill!", 2, Some(4), |rt, a| {
        let len = vector(rt, "vector-fill!", a[0])?.len();
        let (start, end) = range_args(rt, "vector-fill!", a, 2, len)?;
        if let Some(Object::Vector(items)) = rt.heap.get_mut(a[0]) {
            items[start..end].fill(a[1]);
        }
        Ok(Value::UNSPECIFIED)
    }),
    ("vector-copy", 1, Some(3), |rt, a| {
        let items = vector(rt, "vector-copy", a[0])?;
        let (start, end) = range_args(rt, "vector-copy", a, 1, items.len())?;
        let copy = items[start..end].to_vec();
        Ok(rt.heap.alloc(Object::Vector(copy.into())))
    }),
    ("vector-copy!", 3, Some(5), |rt, a| {
        let at = rt.index_arg("vector-copy!", a[1])?;
        let length = vector(rt, "vector-copy!", a[2])?.len();
        let (start, end) = range_args(rt, "vector-copy!", a, 3, length)?;
        // Only the range is copied (source and target may be the same object).
        let source = vector(rt, "vector-copy!", a[2])?[start..end].to_vec();
        vector(rt, "vector-copy!", a[0])?;
        match rt.heap.get_mut(a[0]) {
            Some(Object::Vector(target)) if at + (end - start) <= target.len() => {
                target[at..at + source.len()].copy_from_slice(&source);
                Ok(Value::UNSPECIFIED)
            }
            _ => Err(Throw::error("vector-copy!: range out of bounds", a.to_vec())),
        }
    }),
    ("vector-append", 0, None, |rt, a| {
        let mut out = Vec::new();
        for &v in a {
            out.extend_from_slice(vector(rt, "vector-append", v)?);
        }
        Ok(rt.heap.alloc(Object::Vector(out.into())))
    }),
    ("bytevector?", 1, Some(1), |rt, a| Ok(Value::boolean(matches!(rt.heap.get(a[0]), Some(Object::Bytevector(_)))))),
    ("make-bytevector", 1, Some(2), |rt, a| {
        let n = rt.size_arg("make-bytevector", a[0])?;
        let fill = match a.get(1) {
            Some(&b) => byte_arg(rt, "make-bytevector", b)?,
            None => 0,
        };
        Ok(rt.heap.alloc(Object::Bytevector(vec![fill; n].into())))
    }),
    ("bytevector", 0, None, |rt, a| {
        let bytes = a.iter().map(|&b| byte_arg(rt, "bytevector", b)).collect::<Result<Vec<_>, _>>()?;
        Ok(rt.heap.alloc(Object::Bytevector(bytes.into())))
    }),
    ("bytevector-length", 1, Some(1), |rt, a| Ok(Value::small(bytes(rt, "bytevector-length", a[0])?.len()))),
    ("bytevector-u8-ref", 2, Some(2), |rt, a| {
        let k = rt.index_arg("bytevector-u8-ref", a[1])?;
        bytes(rt, "bytevector-u8-ref", a[0])?
            .get(k)
            .map(|&b| Value::small(b as usize))
            .ok_or_else(|| Throw::error("bytevector-u8-ref: index out of range", vec![a[0], a[1]]))
    }),
    ("bytevector-u8-set!", 3, Some(3), |rt, a| {
        let k = rt.index_arg("bytevector-u8-set!", a[1])?;
        let b = byte_arg(rt, "bytevector-u8-set!", a[2])?;
        bytes(rt, "bytevector-u8-set!", a[0])?;
        match rt.heap.get_mut(a[0]) {
            Some(Object::Bytevector(data)) if k < data.len() => {
                data[k] = b;
                Ok(Value::UNSPECIFIED)
            }
            _ => Err(Throw::error("bytevector-u8-set!: index out of range", vec![a[0], a[1]])),
        }
    }),
    ("bytevector-copy", 1, Some(3), |rt, a| {
        let data = bytes(rt, "bytevector-copy", a[0])?;
        let (start, end) = range_args(rt, "bytevector-copy", a, 1, data.len())?;
        let copy = data[start..end].to_vec();
        Ok(rt.heap.alloc(Object::Bytevector(copy.into())))
    }),
    ("bytevector-copy!", 3, Some(5), |rt, a| {
        let at = rt.index_arg("bytevector-copy!", a[1])?;
        let length = bytes(rt, "bytevector-copy!", a[2])?.len();
        let (start, end) = range_args(rt, "bytevector-copy!", a, 3, length)?;
        // Only the range is copied (source and target may be the same object).
        let source = bytes(rt, "bytevector-copy!", a[2])?[start..end].to_vec();
        bytes(rt, "bytevector-copy!", a[0])?;
        match rt.heap.get_mut(a[0]) {
            Some(Object::Bytevector(target)) if at + (end - start) <= target.len() => {
                target[at..at + source.len()].copy_from_slice(&source);
                Ok(Value::UNSPECIFIED)
            }
            _ => Err(Throw::error("bytevector-copy!: range out of bounds", a.to_vec())),
        }
    }),
    ("bytevector-append", 0, None, |rt, a| {
        let mut out = Vec::new();
        for &v in a {
            out.extend_from_slice(bytes(rt, "bytevector-append", v)?);
        }
        Ok(rt.heap.alloc(Object::Bytevector(out.into())))
    }),
    ("utf8->string", 1, Some(3), |rt, a| {
        let data = bytes(rt, "utf8->string", a[0])?;
        let (start, end) = range_args(rt, "utf8->string", a, 1, data.len())?;
        let text = String::from_utf8_lossy(&data[start..end]).into_owned();
        Ok(rt.new_string(&text))
    }),
    ("string->utf8", 1, Some(3), |rt, a| {
        let string = rt.string(a[0]).ok_or_else(|| rt.type_error("string->utf8", "a string", a[0]))?;
        let (start, end) = range_args(rt, "string->utf8", a, 1, string.len())?;
        let text: String = string.chars_in(start, end).collect();
        Ok(rt.heap.alloc(Object::Bytevector(text.into_bytes().into())))
    }),
];

fn vector<'r>(rt: &'r Runtime, who: &str, v: Value) -> Result<&'r [Value], Throw> {
    match rt.heap.get(v) {
        Some(Object::Vector(items)) => Ok(items),
        _ => Err(rt.type_error(who, "a vector", v)),
    }
}

fn bytes<'r>(rt: &'r Runtime, who: &str, v: Value) -> Result<&'r [u8], Throw> {
    match rt.heap.get(v) {
        Some(Object::Bytevector(data)) => Ok(data),
        _ => Err(rt.type_error(who, "a bytevector", v)),
    }
}

fn byte_arg(rt: &Runtime, who: &str, v: Value) -> Result<u8, Throw> {
    v.as_fixnum().and_then(|n| u8::try_from(n).ok()).ok_or_else(|| rt.type_error(who, "a byte", v))
}

pub fn vector_ref(rt: &mut Runtime, v: Value, k: Value) -> NativeResult {
    let index = rt.index_arg("vector-ref", k)?;
    vector(rt, "vector-ref", v)?
        .get(index)
        .copied()
        .ok_or_else(|| Throw::error("vector-ref: index out of range", vec![v, k]))
}

pub fn vector_set(rt: &mut Runtime, v: Value, k: Value, x: Value) -> NativeResult {
    let index = rt.index_arg("vector-set!", k)?;
    vector(rt, "vector-set!", v)?;
    match rt.heap.get_mut(v) {
        Some(Object::Vector(items)) if index < items.len() => {
            items[index] = x;
            Ok(Value::UNSPECIFIED)
        }
        _ => Err(Throw::error("vector-set!: index out of range", vec![v, k])),
    }
}
