//! Ports and output: `display`, `write`, string and bytevector ports, character input.

use chenilles_reader::{Datum, DatumKind};

use super::Entries;
use super::text::{char_arg, range_args};
use crate::capabilities::FILES;
use crate::heap::{ConditionKind, Object};
use crate::numbers::Numbers;
use crate::ports::{OutputFile, Port};
use crate::printer::{Labels, Style};
use crate::runtime::Runtime;
use crate::scheme_string::SchemeString;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("current-input-port", 0, Some(0), |rt, _| Ok(stdin_port(rt))),
    ("read", 0, Some(1), read),
    ("write-bytevector", 1, Some(4), |rt, a| {
        let data = match rt.heap.get(a[0]) {
            Some(Object::Bytevector(b)) => b.clone(),
            _ => return Err(rt.type_error("write-bytevector", "a bytevector", a[0])),
        };
        let (start, end) = range_args(rt, "write-bytevector", a, 2, data.len())?;
        let port = a.get(1).copied().unwrap_or(rt.stdout_port);
        match port_mut(rt, port) {
            Some(Port::BytesOutput(bytes)) => {
                bytes.extend_from_slice(&data[start..end]);
                Ok(Value::UNSPECIFIED)
            }
            Some(Port::FileOutput { file, .. }) => {
                std::io::Write::write_all(file, &data[start..end])
                    .map_err(|e| Throw::error(format!("write error: {e}"), vec![]))?;
                Ok(Value::UNSPECIFIED)
            }
            _ => Err(rt.type_error("write-bytevector", "a binary output port", port)),
        }
    }),
    ("open-input-file", 1, Some(1), |rt, a| {
        rt.host.require("open-input-file", FILES)?;
        let path = rt.string_arg("open-input-file", a[0])?;
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let chars = text.chars().collect();
                Ok(rt.heap.alloc(Object::Port(Box::new(Port::StringInput { chars, position: 0, fold_case: false }))))
            }
            Err(e) => Err(file_error(format!("cannot open {path} for reading: {e}"), a[0])),
        }
    }),
    ("open-output-file", 1, Some(1), |rt, a| open_output_file(rt, "open-output-file", a[0])),
    ("file-exists?", 1, Some(1), |rt, a| {
        rt.host.require("file-exists?", FILES)?;
        let path = rt.string_arg("file-exists?", a[0])?;
        Ok(Value::boolean(std::path::Path::new(&path).exists()))
    }),
    ("delete-file", 1, Some(1), |rt, a| {
        rt.host.require("delete-file", FILES)?;
        let path = rt.string_arg("delete-file", a[0])?;
        if rt.replay.is_some() {
            // A process replayed deletes nothing.
            return Ok(Value::UNSPECIFIED);
        }
        std::fs::remove_file(&path).map_err(|e| file_error(format!("cannot delete {path}: {e}"), a[0]))?;
        Ok(Value::UNSPECIFIED)
    }),
    ("display", 1, Some(2), |rt, a| print(rt, a, Style::Display)),
    ("write", 1, Some(2), |rt, a| print(rt, a, Style::Write)),
    ("write-simple", 1, Some(2), |rt, a| print_labelled(rt, a, Labels::None)),
    ("write-shared", 1, Some(2), |rt, a| print_labelled(rt, a, Labels::Shared)),
    ("newline", 0, Some(1), |rt, a| emit(rt, a.first(), "\n")),
    ("write-char", 1, Some(2), |rt, a| {
        let c = char_arg(rt, "write-char", a[0])?;
        emit(rt, a.get(1), c.encode_utf8(&mut [0; 4]))
    }),
    ("write-string", 1, Some(4), |rt, a| {
        let string = rt.string(a[0]).ok_or_else(|| rt.type_error("write-string", "a string", a[0]))?;
        let (start, end) = range_args(rt, "write-string", a, 2, string.len())?;
        let text: String =
            if (start, end) == (0, string.len()) { string.to_string() } else { string.chars_in(start, end).collect() };
        emit(rt, a.get(1), &text)
    }),
    ("write-u8", 1, Some(2), |rt, a| {
        let b = a[0]
            .as_fixnum()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| rt.type_error("write-u8", "a byte", a[0]))?;
        let port = a.get(1).copied().unwrap_or(rt.stdout_port);
        match port_mut(rt, port) {
            Some(Port::BytesOutput(bytes)) => {
                bytes.push(b);
                Ok(Value::UNSPECIFIED)
            }
            Some(Port::FileOutput { file, .. }) => {
                std::io::Write::write_all(file, &[b]).map_err(|e| Throw::error(format!("write error: {e}"), vec![]))?;
                Ok(Value::UNSPECIFIED)
            }
            _ => Err(rt.type_error("write-u8", "a binary output port", port)),
        }
    }),
    ("current-output-port", 0, Some(0), |rt, _| Ok(rt.stdout_port)),
    ("current-error-port", 0, Some(0), |rt, _| Ok(rt.stderr_port)),
    ("%set-current-output-port!", 1, Some(1), |rt, a| {
        require_port(rt, "current-output-port", a[0], false)?;
        rt.stdout_port = a[0];
        Ok(Value::UNSPECIFIED)
    }),
    ("%set-current-error-port!", 1, Some(1), |rt, a| {
        require_port(rt, "current-error-port", a[0], false)?;
        rt.stderr_port = a[0];
        Ok(Value::UNSPECIFIED)
    }),
    ("%set-current-input-port!", 1, Some(1), |rt, a| {
        require_port(rt, "current-input-port", a[0], true)?;
        rt.stdin_port = Some(a[0]);
        Ok(Value::UNSPECIFIED)
    }),
    ("open-binary-input-file", 1, Some(1), |rt, a| {
        rt.host.require("open-binary-input-file", FILES)?;
        let path = rt.string_arg("open-binary-input-file", a[0])?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(rt.heap.alloc(Object::Port(Box::new(Port::BytesInput { bytes, position: 0 })))),
            Err(e) => Err(file_error(format!("cannot open {path} for reading: {e}"), a[0])),
        }
    }),
    ("open-binary-output-file", 1, Some(1), |rt, a| open_output_file(rt, "open-binary-output-file", a[0])),
    ("flush-output-port", 0, Some(1), |rt, _| {
        rt.flush();
        Ok(Value::UNSPECIFIED)
    }),
    ("open-output-string", 0, Some(0), |rt, _| {
        Ok(rt.heap.alloc(Object::Port(Box::new(Port::StringOutput(String::new())))))
    }),
    ("open-input-string", 1, Some(1), |rt, a| {
        let chars =
            rt.string(a[0]).ok_or_else(|| rt.type_error("open-input-string", "a string", a[0]))?.chars().collect();
        Ok(rt.heap.alloc(Object::Port(Box::new(Port::StringInput { chars, position: 0, fold_case: false }))))
    }),
    ("get-output-string", 1, Some(1), |rt, a| {
        // Read in place (no copy of the text on the way, and the port's page stays clean).
        let Some(Object::Port(port)) = rt.heap.get(a[0]) else {
            return Err(rt.type_error("get-output-string", "a string output port", a[0]));
        };
        let Port::StringOutput(text) = &**port else {
            return Err(rt.type_error("get-output-string", "a string output port", a[0]));
        };
        let string = SchemeString::from_text(text);
        Ok(rt.heap.alloc(Object::String(string)))
    }),
    ("open-input-bytevector", 1, Some(1), |rt, a| {
        let bytes = match rt.heap.get(a[0]) {
            Some(Object::Bytevector(b)) => b.clone(),
            _ => return Err(rt.type_error("open-input-bytevector", "a bytevector", a[0])),
        };
        Ok(rt.heap.alloc(Object::Port(Box::new(Port::BytesInput { bytes: bytes.into_vec(), position: 0 }))))
    }),
    ("open-output-bytevector", 0, Some(0), |rt, _| {
        Ok(rt.heap.alloc(Object::Port(Box::new(Port::BytesOutput(Vec::new())))))
    }),
    ("get-output-bytevector", 1, Some(1), |rt, a| {
        let bytes = match port_mut(rt, a[0]) {
            Some(Port::BytesOutput(bytes)) => bytes.clone(),
            _ => {
                return Err(rt.type_error("get-output-bytevector", "a bytevector output port", a[0]));
            }
        };
        Ok(rt.heap.alloc(Object::Bytevector(bytes.into())))
    }),
    ("read-char", 0, Some(1), |rt, a| read_char(rt, a, true)),
    ("peek-char", 0, Some(1), |rt, a| read_char(rt, a, false)),
    ("char-ready?", 0, Some(1), |_, _| Ok(Value::TRUE)),
    ("read-line", 0, Some(1), read_line),
    ("read-string", 1, Some(2), read_string),
    ("read-u8", 0, Some(1), |rt, a| read_u8(rt, a, true)),
    ("peek-u8", 0, Some(1), |rt, a| read_u8(rt, a, false)),
    ("u8-ready?", 0, Some(1), |_, _| Ok(Value::TRUE)),
    ("read-bytevector", 1, Some(2), read_bytevector),
    ("close-port", 1, Some(1), close_port),
    ("close-input-port", 1, Some(1), close_port),
    ("close-output-port", 1, Some(1), close_port),
    ("port?", 1, Some(1), |rt, a| Ok(Value::boolean(port_ref(rt, a[0]).is_some()))),
    ("input-port?", 1, Some(1), |rt, a| Ok(Value::boolean(port_ref(rt, a[0]).is_some_and(Port::is_input)))),
    ("output-port?", 1, Some(1), |rt, a| Ok(Value::boolean(port_ref(rt, a[0]).is_some_and(Port::is_output)))),
    ("textual-port?", 1, Some(1), |rt, a| Ok(Value::boolean(port_ref(rt, a[0]).is_some_and(Port::is_textual)))),
    ("binary-port?", 1, Some(1), |rt, a| Ok(Value::boolean(port_ref(rt, a[0]).is_some_and(|p| !p.is_textual())))),
    ("input-port-open?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(port_ref(rt, a[0]).is_some_and(|p| p.is_input() && !matches!(p, Port::Closed { .. }))))
    }),
    ("output-port-open?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(port_ref(rt, a[0]).is_some_and(|p| p.is_output() && !matches!(p, Port::Closed { .. }))))
    }),
];

fn port_ref(rt: &Runtime, v: Value) -> Option<&Port> {
    match rt.heap.get(v) {
        Some(Object::Port(port)) => Some(port),
        _ => None,
    }
}

/// Nothing if `v` is an input port (`input`) or an output port (otherwise), else a type error
/// naming `who`.
fn require_port(rt: &Runtime, who: &str, v: Value, input: bool) -> Result<(), Throw> {
    match port_ref(rt, v) {
        Some(port) if if input { port.is_input() } else { port.is_output() } => Ok(()),
        _ => Err(rt.type_error(who, if input { "an input port" } else { "an output port" }, v)),
    }
}

fn port_mut(rt: &mut Runtime, v: Value) -> Option<&mut Port> {
    match rt.heap.get_mut(v) {
        Some(Object::Port(port)) => Some(port),
        _ => None,
    }
}

fn emit(rt: &mut Runtime, port: Option<&Value>, text: &str) -> NativeResult {
    let port = port.copied().unwrap_or(rt.stdout_port);
    rt.write_to_port(port, text)?;
    Ok(Value::UNSPECIFIED)
}

fn print_labelled(rt: &mut Runtime, args: &[Value], labels: Labels) -> NativeResult {
    let text = crate::printer::program_text(rt, args[0], Style::Write, labels)?;
    emit(rt, args.get(1), &text)
}

fn print(rt: &mut Runtime, args: &[Value], style: Style) -> NativeResult {
    let text = crate::printer::program_text(rt, args[0], style, Labels::Cycles)?;
    emit(rt, args.get(1), &text)
}

fn input_port(rt: &mut Runtime, args: &[Value]) -> Value {
    match args.first() {
        Some(&port) => port,
        None => stdin_port(rt),
    }
}

/// The standard input port: all of stdin, read when first asked for.
fn stdin_port(rt: &mut Runtime) -> Value {
    if let Some(port) = rt.stdin_port {
        return port;
    }
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text);
    let chars = text.chars().collect();
    let port = rt.heap.alloc(Object::Port(Box::new(Port::StringInput { chars, position: 0, fold_case: false })));
    rt.stdin_port = Some(port);
    port
}

/// A port writing to a new file; textual and binary output go to the same kind of port.
fn open_output_file(rt: &mut Runtime, who: &str, name: Value) -> NativeResult {
    rt.host.require(who, FILES)?;
    let path = rt.string_arg(who, name)?;
    // A process replayed (`verify --replay`) must not touch the files the real one writes.
    if rt.replay.is_some() {
        let port = Port::FileOutput { path, file: OutputFile::nowhere() };
        return Ok(rt.heap.alloc(Object::Port(Box::new(port))));
    }
    match std::fs::File::create(&path) {
        Ok(file) => {
            let port = Port::FileOutput { path, file: OutputFile::created(file) };
            Ok(rt.heap.alloc(Object::Port(Box::new(port))))
        }
        Err(e) => Err(file_error(format!("cannot open {path} for writing: {e}"), name)),
    }
}

fn file_error(message: String, irritant: Value) -> Throw {
    Throw::Error { kind: ConditionKind::File, message, irritants: vec![irritant] }
}

fn read_error(message: String) -> Throw {
    Throw::Error { kind: ConditionKind::Read, message, irritants: vec![] }
}

/// `(read [port])`: the next datum of a textual input port, or the eof object.
fn read(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let port = input_port(rt, args);
    let (rest, fold_case): (String, bool) = match port_mut(rt, port) {
        Some(Port::StringInput { chars, position, fold_case }) => (chars[*position..].iter().collect(), *fold_case),
        _ => return Err(rt.type_error("read", "a textual input port", port)),
    };
    // A `#!fold-case` met by an earlier `read` of this port still holds: restate it.
    const DIRECTIVE: &str = "#!fold-case\n";
    let offset = if fold_case { DIRECTIVE.len() } else { 0 };
    let text = if fold_case { format!("{DIRECTIVE}{rest}") } else { rest.clone() };
    let datum = match chenilles_reader::read_all(&text, 0) {
        Ok(data) => data.into_iter().next(),
        // A later datum may be malformed while the first is fine: read again up to the error.
        Err(error) => {
            let prefix = text.get(..error.span.start as usize).map(|p| chenilles_reader::read_all(p, 0));
            match prefix {
                Some(Ok(data)) if !data.is_empty() => data.into_iter().next(),
                _ => return Err(read_error(format!("read: {}", error.message))),
            }
        }
    };
    let Some(datum) = datum else {
        if let Some(Port::StringInput { chars, position, .. }) = port_mut(rt, port) {
            *position = chars.len();
        }
        return Ok(Value::EOF);
    };
    let end = (datum.span.end as usize).saturating_sub(offset);
    let consumed_text = rest.get(..end).unwrap_or("");
    let consumed = consumed_text.chars().count();
    let now_folding = match (consumed_text.rfind("#!fold-case"), consumed_text.rfind("#!no-fold-case")) {
        (Some(on), Some(off)) => on > off,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (None, None) => fold_case,
    };
    if let Some(Port::StringInput { position, fold_case, .. }) = port_mut(rt, port) {
        *position += consumed;
        *fold_case = now_folding;
    }
    Ok(datum_value(rt, &datum))
}

/// The datum a value denotes, for `eval`; `None` for procedures, ports and other non-data, and for
/// structure nested deeper than the reader would accept.
pub fn value_datum(rt: &Runtime, v: Value, depth: u32) -> Option<Datum> {
    use chenilles_reader::{Number, Span};
    if depth > chenilles_reader::MAX_NESTING_DEPTH {
        return None;
    }
    let kind = if let Some(c) = v.as_char() {
        DatumKind::Character(c)
    } else if let Some(name) = rt.symbols.name(v) {
        DatumKind::Symbol(name.to_string())
    } else if v == Value::TRUE || v == Value::FALSE {
        DatumKind::Boolean(v == Value::TRUE)
    } else if v == Value::NIL {
        DatumKind::List { items: Vec::new(), tail: None }
    } else if v == Value::EOF {
        DatumKind::Special("eof".into())
    } else if let Some(n) = rt.num(v) {
        DatumKind::Number(match n {
            crate::numbers::Num::Int(n) => Number::Integer(n),
            crate::numbers::Num::Rat(r) => Number::Rational(r.numer().clone(), r.denom().clone()),
            crate::numbers::Num::Real(x) => Number::Real(x),
        })
    } else {
        match rt.heap.get(v)? {
            Object::String(string) => DatumKind::String(string.to_string()),
            Object::Bytevector(bytes) => DatumKind::Bytevector(bytes.to_vec()),
            Object::Vector(items) => {
                DatumKind::Vector(items.iter().map(|item| value_datum(rt, *item, depth + 1)).collect::<Option<_>>()?)
            }
            Object::Pair(..) => {
                let mut items = Vec::new();
                let mut rest = v;
                while let Some((car, cdr)) = rt.heap.pair(rest) {
                    items.push(value_datum(rt, car, depth + 1)?);
                    rest = cdr;
                    if items.len() > rt.heap.object_count() {
                        return None;
                    }
                }
                let tail = if rest == Value::NIL { None } else { Some(Box::new(value_datum(rt, rest, depth + 1)?)) };
                DatumKind::List { items, tail }
            }
            _ => return None,
        }
    };
    Some(Datum::new(kind, Span::default()))
}

/// The value a datum denotes when quoted.
pub fn datum_value(rt: &mut Runtime, datum: &Datum) -> Value {
    match &datum.kind {
        DatumKind::Boolean(b) => Value::boolean(*b),
        DatumKind::Number(number) => super::numeric::number_value(rt, number),
        DatumKind::Character(c) => Value::character(*c),
        DatumKind::String(s) => rt.new_string(s),
        DatumKind::Symbol(s) => rt.symbols.intern(s),
        DatumKind::Bytevector(b) => rt.heap.alloc(Object::Bytevector(b.as_slice().into())),
        DatumKind::List { items, tail } => {
            let tail = tail.as_ref().map_or(Value::NIL, |t| datum_value(rt, t));
            let items: Vec<Value> = items.iter().map(|item| datum_value(rt, item)).collect();
            items.into_iter().rev().fold(tail, |rest, item| rt.heap.cons(item, rest))
        }
        DatumKind::Vector(items) => {
            let items = items.iter().map(|item| datum_value(rt, item)).collect();
            rt.heap.alloc(Object::Vector(items))
        }
        DatumKind::Special(name) => match name.as_str() {
            "eof" => Value::EOF,
            "default" => Value::DEFAULT,
            _ => Value::UNSPECIFIED,
        },
    }
}

fn read_char(rt: &mut Runtime, args: &[Value], consume: bool) -> NativeResult {
    let port = input_port(rt, args);
    match port_mut(rt, port) {
        Some(Port::StringInput { chars, position, .. }) => match chars.get(*position) {
            Some(&c) => {
                if consume {
                    *position += 1;
                }
                Ok(Value::character(c))
            }
            None => Ok(Value::EOF),
        },
        Some(Port::Closed { input: true }) => Err(Throw::error("read-char: the port is closed", vec![port])),
        _ => Err(rt.type_error("read-char", "a textual input port", port)),
    }
}

fn read_line(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let port = input_port(rt, args);
    let line = match port_mut(rt, port) {
        Some(Port::StringInput { chars, position, .. }) => {
            if *position >= chars.len() {
                return Ok(Value::EOF);
            }
            // A line ends at LF, CR or CRLF, as R7RS's read-line says.
            let rest = &chars[*position..];
            let end = rest.iter().position(|&c| c == '\n' || c == '\r').unwrap_or(rest.len());
            let line: String = rest[..end].iter().collect();
            let ending = match rest.get(end..end + 2) {
                Some(['\r', '\n']) => 2,
                _ if end < rest.len() => 1,
                _ => 0,
            };
            *position += end + ending;
            line
        }
        _ => return Err(rt.type_error("read-line", "a textual input port", port)),
    };
    Ok(rt.new_string(&line))
}

fn read_string(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let k = rt.index_arg("read-string", args[0])?;
    let port = input_port(rt, &args[1..]);
    let text = match port_mut(rt, port) {
        Some(Port::StringInput { chars, position, .. }) => {
            if *position >= chars.len() && k > 0 {
                return Ok(Value::EOF);
            }
            let end = (*position + k).min(chars.len());
            let text: String = chars[*position..end].iter().collect();
            *position = end;
            text
        }
        _ => return Err(rt.type_error("read-string", "a textual input port", port)),
    };
    Ok(rt.new_string(&text))
}

fn read_u8(rt: &mut Runtime, args: &[Value], consume: bool) -> NativeResult {
    let port = input_port(rt, args);
    match port_mut(rt, port) {
        Some(Port::BytesInput { bytes, position }) => match bytes.get(*position) {
            Some(&b) => {
                if consume {
                    *position += 1;
                }
                Ok(Value::small(b as usize))
            }
            None => Ok(Value::EOF),
        },
        _ => Err(rt.type_error("read-u8", "a binary input port", port)),
    }
}

fn read_bytevector(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let k = rt.index_arg("read-bytevector", args[0])?;
    let port = input_port(rt, &args[1..]);
    let data = match port_mut(rt, port) {
        Some(Port::BytesInput { bytes, position }) => {
            if *position >= bytes.len() && k > 0 {
                return Ok(Value::EOF);
            }
            let end = (*position + k).min(bytes.len());
            let data = bytes[*position..end].to_vec();
            *position = end;
            data
        }
        _ => return Err(rt.type_error("read-bytevector", "a binary input port", port)),
    };
    Ok(rt.heap.alloc(Object::Bytevector(data.into())))
}

fn close_port(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    match port_mut(rt, args[0]) {
        Some(port @ (Port::StringInput { .. } | Port::BytesInput { .. })) => *port = Port::Closed { input: true },
        Some(port @ (Port::StringOutput(_) | Port::BytesOutput(_) | Port::FileOutput { .. })) => {
            if let Port::FileOutput { file, .. } = port {
                let _ = std::io::Write::flush(file);
            }
            *port = Port::Closed { input: false }
        }
        Some(_) => {}
        None => return Err(rt.type_error("close-port", "a port", args[0])),
    }
    Ok(Value::UNSPECIFIED)
}
