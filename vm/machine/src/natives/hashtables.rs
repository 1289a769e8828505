//! Hash tables (SRFI 69): the native half. Tables hash by the equivalence they were made with —
//! `eq?`, `eqv?`, `equal?`, `string=?`, `string-ci=?` — and index their entries by hash.
//! Object ids are stable, so hashing by identity survives collections and
//! checkpoints. Tables iterate in an order that depends only on the operations done on them (see
//! [`HashTable`]), so in the same order in every run, before and after a resume; the hash function
//! (SipHash-1-3 with fixed keys) is fixed too, so stored hashes stay valid. The procedures taking Scheme callbacks are in `stdlib-scm/hashtables.scm`.

use std::hash::{Hash, Hasher};

use super::Entries;
use crate::hash_table::{Equivalence, HashTable};
use crate::heap::Object;
use crate::numbers::Num;
use crate::numbers::Numbers;
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("%make-hash-table", 1, Some(1), |rt, a| {
        let equivalence = match equivalence_named(rt, a[0]) {
            Some(e) => e,
            None => {
                return Err(rt.type_error("make-hash-table", "eq?, eqv?, equal?, string=? or string-ci=?", a[0]));
            }
        };
        Ok(rt.heap.alloc(Object::HashTable(Box::new(HashTable::new(equivalence)))))
    }),
    ("hash-table?", 1, Some(1), |rt, a| Ok(Value::boolean(matches!(rt.heap.get(a[0]), Some(Object::HashTable(_)))))),
    ("hash-table-set!", 3, Some(3), |rt, a| {
        let hash = key_hash(rt, table(rt, "hash-table-set!", a[0])?.equivalence, a[1]);
        let position = find(rt, a[0], hash, a[1]);
        let Some(Object::HashTable(t)) = rt.heap.get_mut(a[0]) else { unreachable!("checked above") };
        match position {
            Some(i) => t.set_value(i, a[2]),
            None => t.insert(hash, a[1], a[2]),
        }
        Ok(Value::UNSPECIFIED)
    }),
    ("hash-table-ref/default", 3, Some(3), |rt, a| {
        let hash = key_hash(rt, table(rt, "hash-table-ref/default", a[0])?.equivalence, a[1]);
        Ok(lookup(rt, a[0], hash, a[1]).unwrap_or(a[2]))
    }),
    ("hash-table-delete!", 2, Some(2), |rt, a| {
        let hash = key_hash(rt, table(rt, "hash-table-delete!", a[0])?.equivalence, a[1]);
        if let Some(i) = find(rt, a[0], hash, a[1])
            && let Some(Object::HashTable(t)) = rt.heap.get_mut(a[0])
        {
            t.remove(i);
        }
        Ok(Value::UNSPECIFIED)
    }),
    ("hash-table-exists?", 2, Some(2), contains),
    ("hash-table-contains?", 2, Some(2), contains),
    ("hash-table-count", 1, Some(1), |rt, a| Ok(Value::small(table(rt, "hash-table-count", a[0])?.count()))),
    ("hash-table-size", 1, Some(1), |rt, a| Ok(Value::small(table(rt, "hash-table-size", a[0])?.count()))),
    ("hash-table-keys", 1, Some(1), |rt, a| {
        let keys: Vec<Value> = table(rt, "hash-table-keys", a[0])?.entries().map(|(k, _)| k).collect();
        Ok(rt.heap.list(keys.into_iter()))
    }),
    ("hash-table-values", 1, Some(1), |rt, a| {
        let values: Vec<Value> = table(rt, "hash-table-values", a[0])?.entries().map(|(_, v)| v).collect();
        Ok(rt.heap.list(values.into_iter()))
    }),
    ("hash-table->alist", 1, Some(1), |rt, a| {
        let entries: Vec<(Value, Value)> = table(rt, "hash-table->alist", a[0])?.entries().collect();
        let pairs: Vec<Value> = entries.into_iter().map(|(k, v)| rt.heap.cons(k, v)).collect();
        Ok(rt.heap.list(pairs.into_iter()))
    }),
    ("hash-table-copy", 1, Some(2), |rt, a| {
        let copy = table(rt, "hash-table-copy", a[0])?.clone();
        Ok(rt.heap.alloc(Object::HashTable(Box::new(copy))))
    }),
    ("hash-table-clear!", 1, Some(1), |rt, a| {
        let equivalence = table(rt, "hash-table-clear!", a[0])?.equivalence;
        if let Some(Object::HashTable(t)) = rt.heap.get_mut(a[0]) {
            **t = HashTable::new(equivalence);
        }
        Ok(Value::UNSPECIFIED)
    }),
    ("hash", 1, Some(2), |rt, a| hash_value(rt, Equivalence::Equal, a)),
    ("string-hash", 1, Some(2), |rt, a| {
        rt.string(a[0]).ok_or_else(|| rt.type_error("string-hash", "a string", a[0]))?;
        hash_value(rt, Equivalence::String, a)
    }),
    ("string-ci-hash", 1, Some(2), |rt, a| {
        rt.string(a[0]).ok_or_else(|| rt.type_error("string-ci-hash", "a string", a[0]))?;
        hash_value(rt, Equivalence::StringCi, a)
    }),
    ("hash-by-identity", 1, Some(2), |rt, a| hash_value(rt, Equivalence::Eq, a)),
];

/// The equivalence a predicate stands for: the natives themselves, by name.
fn equivalence_named(rt: &Runtime, predicate: Value) -> Option<Equivalence> {
    let name = super::native_name(predicate.as_native()?);
    let _ = rt;
    Some(match name {
        "eq?" => Equivalence::Eq,
        "eqv?" | "=" | "char=?" => Equivalence::Eqv,
        "equal?" => Equivalence::Equal,
        "string=?" => Equivalence::String,
        "string-ci=?" => Equivalence::StringCi,
        _ => return None,
    })
}

fn table<'r>(rt: &'r Runtime, who: &str, v: Value) -> Result<&'r HashTable, Throw> {
    match rt.heap.get(v) {
        Some(Object::HashTable(t)) => Ok(t),
        _ => Err(rt.type_error(who, "a hash table", v)),
    }
}

fn contains(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let hash = key_hash(rt, table(rt, "hash-table-contains?", a[0])?.equivalence, a[1]);
    Ok(Value::boolean(find(rt, a[0], hash, a[1]).is_some()))
}

fn same_key(rt: &Runtime, equivalence: Equivalence, a: Value, b: Value) -> bool {
    match equivalence {
        Equivalence::Eq => a == b,
        Equivalence::Eqv => super::control::eqv(rt, a, b),
        Equivalence::Equal => super::control::equal(rt, a, b),
        Equivalence::String => rt.string(a).is_some() && rt.string(a) == rt.string(b),
        Equivalence::StringCi => match (rt.string(a), rt.string(b)) {
            (Some(x), Some(y)) => {
                x.len() == y.len() && x.chars().zip(y.chars()).all(|(p, q)| p.to_lowercase().eq(q.to_lowercase()))
            }
            _ => false,
        },
    }
}

/// The position of `key`'s entry in table `t`, if it has one.
fn find(rt: &Runtime, t: Value, hash: u64, key: Value) -> Option<usize> {
    let Some(Object::HashTable(t)) = rt.heap.get(t) else {
        return None;
    };
    t.candidates(hash).iter().copied().find(|&i| same_key(rt, t.equivalence, t.hashed_entries()[i].1, key))
}

fn lookup(rt: &Runtime, t: Value, hash: u64, key: Value) -> Option<Value> {
    let index = find(rt, t, hash, key)?;
    let Some(Object::HashTable(t)) = rt.heap.get(t) else {
        return None;
    };
    Some(t.hashed_entries()[index].2)
}

/// `(hash obj [bound])` and friends.
fn hash_value(rt: &mut Runtime, equivalence: Equivalence, a: &[Value]) -> NativeResult {
    let hash = key_hash(rt, equivalence, a[0]) & 0x0fff_ffff_ffff_ffff;
    match a.get(1) {
        Some(&bound) => {
            let bound = rt.index_arg("hash", bound)?.max(1) as u64;
            Ok(Value::small((hash % bound) as usize))
        }
        None => Ok(Value::small(hash as usize)),
    }
}

/// A hash consistent with the equivalence: equivalent keys hash alike.
pub fn key_hash(rt: &Runtime, equivalence: Equivalence, key: Value) -> u64 {
    let mut hasher = siphasher::sip::SipHasher13::new();
    match equivalence {
        Equivalence::Eq => key.bits().hash(&mut hasher),
        Equivalence::Eqv => eqv_hash(rt, key, &mut hasher),
        Equivalence::Equal => equal_hash(rt, key, &mut hasher, 0),
        Equivalence::String => rt.string(key).hash(&mut hasher),
        Equivalence::StringCi => {
            let folded: Option<String> = rt.string(key).map(|s| s.to_string().to_lowercase());
            folded.hash(&mut hasher);
        }
    }
    hasher.finish()
}

fn eqv_hash(rt: &Runtime, key: Value, hasher: &mut impl Hasher) {
    match (key.as_object(), rt.num(key)) {
        (Some(_), Some(Num::Int(n))) => n.hash(hasher),
        (Some(_), Some(Num::Rat(r))) => r.hash(hasher),
        (Some(_), Some(Num::Real(x))) => x.to_bits().hash(hasher),
        _ => key.bits().hash(hasher),
    }
}

/// Structural hash, looking at most a few levels deep (deeper structure only narrows less).
fn equal_hash(rt: &Runtime, key: Value, hasher: &mut impl Hasher, depth: usize) {
    if depth > 4 {
        return;
    }
    match rt.heap.get(key) {
        Some(Object::String(chars)) => chars.hash(hasher),
        Some(Object::Bytevector(bytes)) => bytes.hash(hasher),
        Some(Object::Pair(car, cdr)) => {
            1u8.hash(hasher);
            equal_hash(rt, *car, hasher, depth + 1);
            equal_hash(rt, *cdr, hasher, depth + 1);
        }
        Some(Object::Vector(items)) => {
            2u8.hash(hasher);
            items.len().hash(hasher);
            for item in items.iter().take(8) {
                equal_hash(rt, *item, hasher, depth + 1);
            }
        }
        _ => eqv_hash(rt, key, hasher),
    }
}
