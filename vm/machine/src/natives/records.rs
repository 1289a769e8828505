//! Records, multiple values and procedure introspection: the primitives under `define-record-type`,
//! `values` and `case-lambda` (whose Scheme halves are in `stdlib-scm/`).

use super::Entries;
use crate::heap::{Object, RecordType};
use crate::numbers::Numbers;
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("values", 0, None, |rt, a| Ok(make_values(rt, a))),
    ("%multiple-values?", 1, Some(1), |rt, a| Ok(Value::boolean(matches!(rt.heap.get(a[0]), Some(Object::Values(_)))))),
    ("%values->list", 1, Some(1), |rt, a| {
        let items = match rt.heap.get(a[0]) {
            Some(Object::Values(values)) => values.to_vec(),
            _ => vec![a[0]],
        };
        Ok(rt.heap.list(items.into_iter()))
    }),
    ("%make-record-type", 2, Some(2), |rt, a| {
        let name = rt
            .symbols
            .name(a[0])
            .map(str::to_string)
            .ok_or_else(|| rt.type_error("define-record-type", "a symbol", a[0]))?;
        let fields = rt
            .heap
            .list_items(a[1])
            .ok_or_else(|| rt.type_error("define-record-type", "a list of field names", a[1]))?;
        Ok(rt.heap.alloc(Object::RecordType(Box::new(RecordType { name, fields }))))
    }),
    ("%record-field-index", 2, Some(2), |rt, a| {
        let fields = record_type(rt, a[0])?.fields.clone();
        fields
            .iter()
            .position(|&f| f == a[1])
            .map(Value::small)
            .ok_or_else(|| Throw::error("define-record-type: no such field", vec![a[1]]))
    }),
    ("%make-record", 2, Some(2), |rt, a| {
        let size = record_type(rt, a[0])?.fields.len();
        let _ = a[1];
        let id = a[0].as_object().ok_or_else(|| rt.type_error("define-record-type", "a record type", a[0]))?;
        Ok(rt.heap.alloc(Object::Record { record_type: id, fields: vec![Value::FALSE; size].into() }))
    }),
    ("%record?", 2, Some(2), |rt, a| {
        Ok(Value::boolean(
            matches!(rt.heap.get(a[0]), Some(Object::Record { record_type, .. }) if Value::object(*record_type) == a[1]),
        ))
    }),
    ("%record-ref", 4, Some(4), |rt, a| record_ref(rt, a[0], a[1], a[2], a[3])),
    ("%record-set!", 5, Some(5), |rt, a| record_set(rt, a[0], a[1], a[2], a[3], a[4])),
    ("%procedure-arity", 1, Some(1), |rt, a| {
        // (required . accepts-more?) of a closure; natives report (0 . #t).
        match rt.heap.get(a[0]) {
            Some(Object::Closure { function, .. }) => {
                let (required, optional, rest) =
                    rt.function_arities.get(*function as usize).copied().unwrap_or((0, 0, true));
                let max = if rest { Value::FALSE } else { Value::small(required + optional) };
                Ok(rt.heap.cons(Value::small(required), max))
            }
            _ if rt.is_procedure(a[0]) => Ok(rt.heap.cons(Value::small(0), Value::FALSE)),
            _ => Err(rt.type_error("procedure-arity", "a procedure", a[0])),
        }
    }),
];

fn record_type(rt: &Runtime, v: Value) -> Result<&RecordType, Throw> {
    match rt.heap.get(v) {
        Some(Object::RecordType(t)) => Ok(t),
        _ => Err(rt.type_error("define-record-type", "a record type", v)),
    }
}

/// `(%record-ref record type index who)`: field `index` of `record`, which must be of `type`
/// (the `RecordRef` instruction, in every accessor `define-record-type` makes).
pub fn record_ref(rt: &mut Runtime, record: Value, record_type: Value, index: Value, who: Value) -> NativeResult {
    let index = rt.index_arg("record accessor", index)?;
    match rt.heap.get(record) {
        Some(Object::Record { record_type: of, fields })
            if Value::object(*of) == record_type && index < fields.len() =>
        {
            Ok(fields[index])
        }
        _ => Err(record_error(rt, who, record_type, record)),
    }
}

/// `(%record-set! record type index value who)`: sets field `index` of `record`, which must be
/// of `type` (the `RecordSet` instruction, in every modifier).
pub fn record_set(
    rt: &mut Runtime,
    record: Value,
    record_type: Value,
    index: Value,
    value: Value,
    who: Value,
) -> NativeResult {
    let index = rt.index_arg("record modifier", index)?;
    match rt.heap.get_mut(record) {
        Some(Object::Record { record_type: of, fields })
            if Value::object(*of) == record_type && index < fields.len() =>
        {
            fields[index] = value;
            Ok(Value::UNSPECIFIED)
        }
        _ => Err(record_error(rt, who, record_type, record)),
    }
}

fn record_error(rt: &Runtime, who: Value, record_type: Value, got: Value) -> Throw {
    let who = rt.symbols.name(who).unwrap_or("record accessor").to_string();
    let name = match rt.heap.get(record_type) {
        Some(Object::RecordType(t)) => t.name.clone(),
        _ => "record".into(),
    };
    Throw::error(format!("{who}: not a record of type {name}"), vec![got])
}

/// `(values v ...)`: one value is itself; any other count is wrapped.
pub fn make_values(rt: &mut Runtime, values: &[Value]) -> Value {
    match values {
        [one] => *one,
        _ => rt.heap.alloc(Object::Values(values.into())),
    }
}
