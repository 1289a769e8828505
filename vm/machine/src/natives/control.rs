//! Equivalence predicates, booleans, procedures, errors and the process context.

use crate::effects::EffectResult;
use crate::numbers::Numbers;
use num_traits::ToPrimitive;

use super::Entries;
use crate::capabilities::ENVIRONMENT;
use crate::heap::{Condition, ConditionKind, Object};
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("eq?", 2, Some(2), |_, a| Ok(Value::boolean(a[0] == a[1]))),
    ("eqv?", 2, Some(2), |rt, a| Ok(Value::boolean(eqv(rt, a[0], a[1])))),
    ("equal?", 2, Some(2), |rt, a| Ok(Value::boolean(equal(rt, a[0], a[1])))),
    ("not", 1, Some(1), |_, a| Ok(Value::boolean(a[0] == Value::FALSE))),
    ("boolean?", 1, Some(1), |_, a| Ok(Value::boolean(a[0] == Value::TRUE || a[0] == Value::FALSE))),
    ("boolean=?", 2, None, boolean_eq),
    ("procedure?", 1, Some(1), |rt, a| Ok(Value::boolean(rt.is_procedure(a[0])))),
    ("error", 0, None, error),
    ("%raise-uncaught", 1, Some(1), |_, a| Err(Throw::Raise(a[0]))),
    ("error-object?", 1, Some(1), |rt, a| Ok(Value::boolean(matches!(rt.heap.get(a[0]), Some(Object::Condition(_)))))),
    ("error-object-message", 1, Some(1), error_object_message),
    ("error-object-irritants", 1, Some(1), error_object_irritants),
    ("file-error?", 1, Some(1), |rt, a| Ok(Value::boolean(condition_kind(rt, a[0]) == Some(ConditionKind::File)))),
    ("read-error?", 1, Some(1), |rt, a| Ok(Value::boolean(condition_kind(rt, a[0]) == Some(ConditionKind::Read)))),
    ("exit", 0, Some(1), exit),
    ("emergency-exit", 0, Some(1), exit),
    ("command-line", 0, Some(0), command_line),
    ("features", 0, Some(0), |rt, _| {
        let features: Vec<Value> = chenilles_compiler::FEATURES.iter().map(|name| rt.symbols.intern(name)).collect();
        Ok(rt.heap.list(features.into_iter()))
    }),
    ("get-environment-variable", 1, Some(1), |rt, a| {
        rt.host.require("get-environment-variable", ENVIRONMENT)?;
        let name = rt.string_arg("get-environment-variable", a[0])?;
        match std::env::var(&name) {
            Ok(value) => Ok(rt.new_string(&value)),
            Err(_) => Ok(Value::FALSE),
        }
    }),
    ("get-environment-variables", 0, Some(0), |rt, _| {
        rt.host.require("get-environment-variables", ENVIRONMENT)?;
        let pairs: Vec<Value> = std::env::vars()
            .map(|(k, v)| {
                let (k, v) = (rt.new_string(&k), rt.new_string(&v));
                rt.heap.cons(k, v)
            })
            .collect();
        Ok(rt.heap.list(pairs.into_iter()))
    }),
    ("current-second", 0, Some(0), |rt, _| {
        let now = rt.effect("current-second", |_| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            Ok(EffectResult::Real(now.as_secs_f64()))
        })?;
        let now = now.real("current-second")?;
        Ok(rt.make_real(now))
    }),
    ("current-jiffy", 0, Some(0), |rt, _| {
        let jiffies = rt.effect("current-jiffy", |rt| Ok(EffectResult::Integer(rt.jiffies())))?;
        let jiffies = jiffies.integer("current-jiffy")?;
        Ok(rt.make_int(jiffies))
    }),
    ("random-integer", 1, Some(1), |rt, a| {
        // SRFI 27: a uniform exact integer in [0, n), from the operating system's generator.
        let n = match rt.num(a[0]) {
            Some(crate::numbers::Num::Int(n)) if n > num_bigint::BigInt::from(0) => n,
            _ => return Err(rt.type_error("random-integer", "a positive exact integer", a[0])),
        };
        let value = rt.effect("random-integer", |_| {
            let value = uniform_below(&n)?;
            Ok(match value.to_i64() {
                Some(small) => EffectResult::Integer(small),
                None => EffectResult::Text(value.to_string()),
            })
        })?;
        let value = value.integer("random-integer")?;
        Ok(rt.make_int(value))
    }),
    ("random-real", 0, Some(0), |rt, _| {
        // SRFI 27: a uniform flonum in the open interval (0, 1).
        let x = rt.effect("random-real", |_| {
            let bits = getrandom::u64().map_err(|e| Throw::error(format!("random-real: {e}"), vec![]))?;
            Ok(EffectResult::Real(((bits >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)))
        })?;
        let x = x.real("random-real")?;
        Ok(rt.make_real(x))
    }),
    ("checkpoint", 0, Some(0), |rt, _| {
        // Stop at the next safepoint; a durable process checkpoints there, others just go on.
        rt.yield_at = 0;
        Ok(Value::UNSPECIFIED)
    }),
    ("jiffies-per-second", 0, Some(0), |_, _| Ok(Value::small(1_000_000_000))),
    ("eof-object", 0, Some(0), |_, _| Ok(Value::EOF)),
    ("eof-object?", 1, Some(1), |_, a| Ok(Value::boolean(a[0] == Value::EOF))),
    ("default-object?", 1, Some(1), |_, a| Ok(Value::boolean(a[0] == Value::DEFAULT))),
];

fn boolean_eq(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    for &a in args {
        if a != Value::TRUE && a != Value::FALSE {
            return Err(rt.type_error("boolean=?", "a boolean", a));
        }
    }
    Ok(Value::boolean(args.windows(2).all(|w| w[0] == w[1])))
}

fn error(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let (message, irritants) = match args.split_first() {
        Some((message, irritants)) => match rt.string(*message) {
            Some(text) => (text.to_string(), irritants.to_vec()),
            None => (crate::printer::to_text(rt, *message, crate::printer::Style::Display), irritants.to_vec()),
        },
        None => (String::from("error"), Vec::new()),
    };
    Err(Throw::Error { kind: ConditionKind::Error, message, irritants })
}

fn condition(rt: &Runtime, v: Value) -> Option<&Condition> {
    match rt.heap.get(v) {
        Some(Object::Condition(c)) => Some(c),
        _ => None,
    }
}

fn condition_kind(rt: &Runtime, v: Value) -> Option<ConditionKind> {
    condition(rt, v).map(|c| c.kind)
}

fn error_object_message(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let message = condition(rt, args[0]).map(|c| c.message.clone());
    match message {
        Some(message) => Ok(rt.new_string(&message)),
        None => Err(rt.type_error("error-object-message", "an error object", args[0])),
    }
}

fn error_object_irritants(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    condition(rt, args[0])
        .map(|c| c.irritants)
        .ok_or_else(|| rt.type_error("error-object-irritants", "an error object", args[0]))
}

fn exit(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let code = match args.first() {
        None => 0,
        Some(&Value::TRUE) => 0,
        Some(&Value::FALSE) => 1,
        Some(v) => match rt.num(*v) {
            Some(crate::numbers::Num::Int(n)) => n.to_i32().unwrap_or(1),
            _ => 1,
        },
    };
    Err(Throw::Exit(code))
}

fn command_line(rt: &mut Runtime, _: &[Value]) -> NativeResult {
    let args: Vec<String> = rt.command_line.clone();
    let items: Vec<Value> = args.iter().map(|a| rt.new_string(a)).collect();
    Ok(rt.heap.list(items.into_iter()))
}

/// Whether `a` and `b` are `eqv?`.
pub fn eqv(rt: &Runtime, a: Value, b: Value) -> bool {
    if a == b {
        return true;
    }
    match (rt.heap.get(a), rt.heap.get(b)) {
        (Some(Object::Bignum(x)), Some(Object::Bignum(y))) => x == y,
        (Some(Object::Ratnum(x)), Some(Object::Ratnum(y))) => x == y,
        (Some(Object::Flonum(_)), Some(Object::Flonum(_))) => rt.numbers_eqv(a, b),
        (Some(Object::String(x)), Some(Object::String(y))) => x.is_empty() && y.is_empty(),
        (Some(Object::Vector(x)), Some(Object::Vector(y))) => x.is_empty() && y.is_empty(),
        (Some(Object::Bytevector(x)), Some(Object::Bytevector(y))) => x.is_empty() && y.is_empty(),
        _ => false,
    }
}

/// `equal?`: structural equality, iterative so that long lists cannot exhaust the Rust stack.
pub fn equal(rt: &Runtime, a: Value, b: Value) -> bool {
    let mut work = vec![(a, b)];
    let mut budget = 4 * rt.heap.object_count() + 16;
    let mut visited = 0;
    let equal = equal_within(rt, &mut work, &mut budget, &mut visited);
    rt.heap.charge(visited);
    equal
}

fn equal_within(rt: &Runtime, work: &mut Vec<(Value, Value)>, budget: &mut usize, visited: &mut u64) -> bool {
    while let Some((a, b)) = work.pop() {
        *visited += 1;
        if eqv(rt, a, b) {
            continue;
        }
        if *budget == 0 {
            // Only circular structure gets here; call it unequal rather than loop forever.
            return false;
        }
        *budget -= 1;
        match (rt.heap.get(a), rt.heap.get(b)) {
            (Some(Object::Pair(a1, a2)), Some(Object::Pair(b1, b2))) => {
                work.push((*a2, *b2));
                work.push((*a1, *b1));
            }
            (Some(Object::Vector(x)), Some(Object::Vector(y))) if x.len() == y.len() => {
                work.extend(x.iter().copied().zip(y.iter().copied()).rev());
            }
            (Some(Object::String(x)), Some(Object::String(y))) if x == y => *visited += x.len() as u64 / 16,
            (Some(Object::Bytevector(x)), Some(Object::Bytevector(y))) if x == y => *visited += x.len() as u64 / 64,
            _ => return false,
        }
    }
    true
}

/// A uniform exact integer in [0, n), from the operating system's generator (by rejection).
fn uniform_below(n: &num_bigint::BigInt) -> Result<num_bigint::BigInt, Throw> {
    let bits = n.bits();
    loop {
        let mut bytes = vec![0u8; bits.div_ceil(8) as usize];
        getrandom::fill(&mut bytes).map_err(|e| Throw::error(format!("random-integer: {e}"), vec![]))?;
        if !bits.is_multiple_of(8)
            && let Some(top) = bytes.last_mut()
        {
            *top &= (1u8 << (bits % 8)) - 1;
        }
        let candidate = num_bigint::BigInt::from_bytes_le(num_bigint::Sign::Plus, &bytes);
        if candidate < *n {
            return Ok(candidate);
        }
    }
}
