//! What a value is, for people: its type and the essentials of it (a procedure's name, arity and
//! where it is defined; a record's type and fields; a sequence's length; a number's exactness),
//! as the REPL's `,describe` prints it. Values are shown within bounds, never in full.

use std::fmt;

use crate::heap::Object;
use crate::interp::Vm;
use crate::natives::natives;
use crate::printer::{Bounds, Style, to_text_bounded};
use crate::value::Value;

/// How much of a value a description shows (the value itself, a field, an irritant).
const SHOWN: Bounds = Bounds { items: 16, depth: 4, length: 200 };

/// A value described: its text, its type and facts about it, one a line when displayed:
///
/// ```text
/// #<procedure add>
///   type: procedure
///   name: add
///   arity: 1 required, 1 optional, a rest list
///   defined at: repl-1:1
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// The value as `write` prints it, within bounds (`#<unspecified>` for the unspecified value,
    /// which `write` prints as nothing).
    pub text: String,
    /// What type of value it is: `procedure`, `exact integer`, `list`, `record`…
    pub kind: String,
    /// What more there is to say, as labels and their values, in order.
    pub facts: Vec<(String, String)>,
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.text)?;
        writeln!(f, "  type: {}", self.kind)?;
        for (label, value) in &self.facts {
            writeln!(f, "  {label}: {value}")?;
        }
        Ok(())
    }
}

/// Describes `value`, a value of `vm`'s process.
pub fn describe(vm: &Vm, value: Value) -> Description {
    let rt = &vm.rt;
    let text = match value {
        Value::UNSPECIFIED => "#<unspecified>".to_string(),
        _ => to_text_bounded(rt, value, Style::Write, SHOWN),
    };
    let shown = |v: Value| to_text_bounded(rt, v, Style::Write, SHOWN);
    let fact = |label: &str, value: String| (label.to_string(), value);
    let (kind, facts): (&str, Vec<(String, String)>) = if value.as_fixnum().is_some() {
        ("exact integer", vec![fact("representation", "fixnum".to_string())])
    } else if let Some(c) = value.as_char() {
        ("character", vec![fact("code point", format!("U+{:04X}", u32::from(c)))])
    } else if value.as_symbol().is_some() {
        ("symbol", Vec::new())
    } else if let Some(index) = value.as_native() {
        match natives().get(index as usize) {
            Some(def) => {
                let optional = def.max_args.map_or(0, |max| max.saturating_sub(def.min_args));
                let arity = arity_text(def.min_args, optional, def.max_args.is_none());
                (
                    "procedure",
                    vec![
                        fact("name", def.name.to_string()),
                        fact("arity", arity),
                        fact("defined in", "Rust (a native procedure)".to_string()),
                    ],
                )
            }
            None => ("procedure", Vec::new()),
        }
    } else {
        match value {
            Value::NIL => ("empty list", vec![fact("length", "0".to_string())]),
            Value::TRUE | Value::FALSE => ("boolean", Vec::new()),
            Value::UNSPECIFIED => ("unspecified value", Vec::new()),
            Value::EOF => ("end-of-file object", Vec::new()),
            Value::DEFAULT => ("default object (what a missing #!optional argument holds)", Vec::new()),
            Value::UNDEFINED => ("undefined value", Vec::new()),
            _ => describe_object(vm, value, &shown),
        }
    };
    Description { text, kind: kind.to_string(), facts }
}

/// The type and facts of a value on the heap.
fn describe_object(vm: &Vm, value: Value, shown: &dyn Fn(Value) -> String) -> (&'static str, Vec<(String, String)>) {
    let rt = &vm.rt;
    let fact = |label: &str, value: String| (label.to_string(), value);
    let Some(object) = rt.heap.get(value) else {
        return ("invalid value", Vec::new());
    };
    match object {
        Object::Free(_) => ("freed object", Vec::new()),
        Object::Pair(..) => describe_pairs(vm, value, shown),
        Object::Box(inner) => ("box", vec![fact("holds", shown(*inner))]),
        Object::Closure { function, free } => {
            let Some(loaded) = vm.functions.get(*function as usize) else {
                return ("procedure", Vec::new());
            };
            let code = &loaded.code;
            let mut facts = vec![
                fact("name", code.name.clone()),
                fact("arity", arity_text(code.required as usize, code.optional as usize, code.rest)),
            ];
            let image = vm.images.get(loaded.image as usize);
            // Where its code begins: its earliest line (the `lambda`'s own, or its body's first).
            if let (Some(image), Some(position)) = (image, code.positions.iter().min_by_key(|p| (p.line, p.column))) {
                let file = image.files.get(position.file as usize).map_or("?", String::as_str);
                facts.push(fact("defined at", format!("{file}:{}", position.line)));
            } else if let Some(image) = image {
                facts.push(fact("defined in", image.name.clone()));
            }
            if !free.is_empty() {
                facts.push(fact("closes over", plural(free.len(), "value")));
            }
            ("procedure", facts)
        }
        Object::String(string) => ("string", vec![fact("length", plural(string.len(), "character"))]),
        Object::Vector(items) => ("vector", vec![fact("length", items.len().to_string())]),
        Object::Bytevector(bytes) => ("bytevector", vec![fact("length", plural(bytes.len(), "byte"))]),
        Object::Bignum(n) => ("exact integer", vec![fact("representation", format!("bignum of {} bits", n.bits()))]),
        Object::Ratnum(_) => ("exact rational number", Vec::new()),
        Object::Flonum(x) => {
            let note = if x.is_nan() {
                "not a number"
            } else if x.is_infinite() {
                "infinite"
            } else if x.fract() == 0.0 {
                "an integer value"
            } else {
                "a double-precision float"
            };
            ("inexact real number", vec![fact("value", note.to_string())])
        }
        Object::Condition(condition) => {
            let irritants = rt.heap.list_items(condition.irritants).unwrap_or_default();
            let mut facts = vec![fact("message", format!("{:?}", condition.message))];
            for irritant in irritants.into_iter().take(SHOWN.items) {
                facts.push(fact("irritant", shown(irritant)));
            }
            ("error object", facts)
        }
        Object::Port(_) => ("port", Vec::new()),
        Object::Continuation(_) => ("continuation (a procedure of any number of arguments)", Vec::new()),
        Object::Values(values) => ("multiple values", vec![fact("count", values.len().to_string())]),
        Object::HashTable(table) => ("hash table", vec![fact("entries", table.count().to_string())]),
        Object::RecordType(record_type) => {
            let fields: Vec<&str> =
                record_type.fields.iter().map(|field| rt.symbols.name(*field).unwrap_or("?")).collect();
            ("record type", vec![fact("name", record_type.name.clone()), fact("fields", fields.join(" "))])
        }
        Object::Record { record_type, fields } => {
            let record_type = match rt.heap.get(Value::object(*record_type)) {
                Some(Object::RecordType(record_type)) => Some(record_type),
                _ => None,
            };
            let mut facts = vec![fact("record type", record_type.map_or_else(|| "?".to_string(), |t| t.name.clone()))];
            for (index, field) in fields.iter().enumerate().take(SHOWN.items) {
                let name = record_type
                    .and_then(|t| t.fields.get(index))
                    .and_then(|name| rt.symbols.name(*name))
                    .map_or_else(|| format!("#{index}"), str::to_string);
                facts.push((format!("field {name}"), shown(*field)));
            }
            if fields.len() > SHOWN.items {
                facts.push(fact("fields not shown", (fields.len() - SHOWN.items).to_string()));
            }
            ("record", facts)
        }
    }
}

/// A chain of pairs: a proper list and its length, an improper one and its tail, or a cycle.
fn describe_pairs(vm: &Vm, value: Value, shown: &dyn Fn(Value) -> String) -> (&'static str, Vec<(String, String)>) {
    let heap = &vm.rt.heap;
    let mut seen = std::collections::HashSet::new();
    let mut pairs = 0usize;
    let mut rest = value;
    while let Some((_, cdr)) = heap.pair(rest) {
        if !seen.insert(rest) {
            return ("circular list", vec![("distinct pairs".to_string(), pairs.to_string())]);
        }
        pairs += 1;
        rest = cdr;
    }
    if rest == Value::NIL {
        ("list", vec![("length".to_string(), pairs.to_string())])
    } else if pairs == 1 {
        ("pair", vec![("cdr".to_string(), shown(rest))])
    } else {
        ("improper list", vec![("pairs".to_string(), pairs.to_string()), ("tail".to_string(), shown(rest))])
    }
}

/// `2 arguments`, or `1 required, 2 optional, a rest list`.
fn arity_text(required: usize, optional: usize, rest: bool) -> String {
    if optional == 0 && !rest {
        return plural(required, "argument");
    }
    let mut parts = vec![format!("{required} required")];
    if optional > 0 {
        parts.push(format!("{optional} optional"));
    }
    if rest {
        parts.push("a rest list".to_string());
    }
    parts.join(", ")
}

fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use crate::Machine;

    /// The description of the value of `text`'s last expression, after the forms before it.
    fn described(text: &str) -> String {
        let mut machine = Machine::with_output(Box::new(std::io::sink()));
        let image = machine.compile("describe.scm", text).expect("it compiles");
        let value = machine.eval_image(&image).expect("it runs").expect("it does not exit");
        machine.describe(value).to_string()
    }

    #[test]
    fn procedures_say_their_name_arity_and_where_they_are_defined() {
        assert_eq!(
            described("car"),
            "#<procedure car>\n  type: procedure\n  name: car\n  arity: 1 argument\n  defined in: Rust (a native procedure)\n"
        );
        let text = described("(define (add a #!optional b . more)\n  a)\nadd");
        assert!(text.starts_with("#<procedure add>\n  type: procedure\n  name: add\n"), "{text}");
        assert!(text.contains("  arity: 1 required, 1 optional, a rest list\n"), "{text}");
        assert!(text.contains("  defined at: describe.scm:1\n"), "{text}");
        let text = described("\n(define (plain x)\n  (car x))\nplain");
        assert!(text.contains("  defined at: describe.scm:2\n"), "the line of its `define`: {text}");
        assert!(described("(lambda (x y) x)").contains("arity: 2 arguments"));
    }

    #[test]
    fn records_say_their_type_and_fields() {
        let text =
            described("(define-record-type point (make-point x y) point? (x point-x) (y point-y)) (make-point 1 '(2))");
        assert!(text.contains("  type: record\n  record type: point\n  field x: 1\n  field y: (2)\n"), "{text}");
    }

    #[test]
    fn sequences_say_their_length_and_numbers_their_kind() {
        assert!(
            described("(make-vector 100 7)")
                .starts_with("#(7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 …)\n  type: vector\n  length: 100\n")
        );
        assert!(described("'(1 2 3)").contains("type: list\n  length: 3\n"));
        assert!(described("'(1 2 . 3)").contains("type: improper list\n  pairs: 2\n  tail: 3\n"));
        assert!(described("(let ((l (list 1 2))) (set-cdr! (cdr l) l) l)").contains("type: circular list"));
        assert!(described("\"héllo\"").contains("type: string\n  length: 5 characters\n"));
        assert!(described("(bytevector 1 2)").contains("length: 2 bytes"));
        assert!(described("1/3").contains("type: exact rational number"));
        assert!(described("(expt 2 100)").contains("bignum of 101 bits"));
        assert!(described("1.5").contains("type: inexact real number"));
        assert!(described("#\\A").contains("type: character\n  code point: U+0041\n"));
        assert!(described("'sym").contains("type: symbol"));
        assert!(described("#t").contains("type: boolean"));
        assert!(described("(if #f #f)").starts_with("#<unspecified>\n"));
    }
}
