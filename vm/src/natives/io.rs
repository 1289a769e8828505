//! Ports and output: `display`, `write`, string and bytevector ports, character input.

use super::Entries;
use super::text::{char_arg, range_args};
use crate::heap::Object;
use crate::ports::Port;
use crate::printer::Style;
use crate::runtime::{NativeResult, Runtime, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("display", 1, Some(2), |rt, a| print(rt, a, Style::Display)),
    ("write", 1, Some(2), |rt, a| print(rt, a, Style::Write)),
    ("write-simple", 1, Some(2), |rt, a| {
        print(rt, a, Style::Write)
    }),
    ("write-shared", 1, Some(2), |rt, a| {
        print(rt, a, Style::Write)
    }),
    ("newline", 0, Some(1), |rt, a| emit(rt, a.first(), "\n")),
    ("write-char", 1, Some(2), |rt, a| {
        let c = char_arg(rt, "write-char", a[0])?;
        emit(rt, a.get(1), c.encode_utf8(&mut [0; 4]))
    }),
    ("write-string", 1, Some(4), |rt, a| {
        let chars = rt
            .string_chars(a[0])
            .ok_or_else(|| rt.type_error("write-string", "a string", a[0]))?;
        let (start, end) = range_args(rt, "write-string", a, 2, chars.len())?;
        let text: String = chars[start..end].iter().collect();
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
            _ => Err(rt.type_error("write-u8", "a binary output port", port)),
        }
    }),
    (
        "current-output-port",
        0,
        Some(0),
        |rt, _| Ok(rt.stdout_port),
    ),
    ("current-error-port", 0, Some(0), |rt, _| Ok(rt.stderr_port)),
    ("flush-output-port", 0, Some(1), |rt, _| {
        rt.flush();
        Ok(Value::UNSPECIFIED)
    }),
    ("open-output-string", 0, Some(0), |rt, _| {
        Ok(rt
            .heap
            .alloc(Object::Port(Box::new(Port::StringOutput(String::new())))))
    }),
    ("open-input-string", 1, Some(1), |rt, a| {
        let chars = rt
            .string_chars(a[0])
            .ok_or_else(|| rt.type_error("open-input-string", "a string", a[0]))?
            .clone();
        Ok(rt.heap.alloc(Object::Port(Box::new(Port::StringInput {
            chars,
            position: 0,
        }))))
    }),
    ("get-output-string", 1, Some(1), |rt, a| {
        let text = match port_mut(rt, a[0]) {
            Some(Port::StringOutput(text)) => text.clone(),
            _ => return Err(rt.type_error("get-output-string", "a string output port", a[0])),
        };
        Ok(rt.new_string(&text))
    }),
    ("open-input-bytevector", 1, Some(1), |rt, a| {
        let bytes = match rt.heap.get(a[0]) {
            Some(Object::Bytevector(b)) => b.clone(),
            _ => return Err(rt.type_error("open-input-bytevector", "a bytevector", a[0])),
        };
        Ok(rt.heap.alloc(Object::Port(Box::new(Port::BytesInput {
            bytes,
            position: 0,
        }))))
    }),
    ("open-output-bytevector", 0, Some(0), |rt, _| {
        Ok(rt
            .heap
            .alloc(Object::Port(Box::new(Port::BytesOutput(Vec::new())))))
    }),
    ("get-output-bytevector", 1, Some(1), |rt, a| {
        let bytes = match port_mut(rt, a[0]) {
            Some(Port::BytesOutput(bytes)) => bytes.clone(),
            _ => {
                return Err(rt.type_error(
                    "get-output-bytevector",
                    "a bytevector output port",
                    a[0],
                ));
            }
        };
        Ok(rt.heap.alloc(Object::Bytevector(bytes)))
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
    ("port?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(port_ref(rt, a[0]).is_some()))
    }),
    ("input-port?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(
            port_ref(rt, a[0]).is_some_and(Port::is_input),
        ))
    }),
    ("output-port?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(
            port_ref(rt, a[0]).is_some_and(Port::is_output),
        ))
    }),
    ("textual-port?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(
            port_ref(rt, a[0]).is_some_and(Port::is_textual),
        ))
    }),
    ("binary-port?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(
            port_ref(rt, a[0]).is_some_and(|p| !p.is_textual()),
        ))
    }),
    ("input-port-open?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(port_ref(rt, a[0]).is_some_and(|p| {
            p.is_input() && !matches!(p, Port::Closed { .. })
        })))
    }),
    ("output-port-open?", 1, Some(1), |rt, a| {
        Ok(Value::boolean(port_ref(rt, a[0]).is_some_and(|p| {
            p.is_output() && !matches!(p, Port::Closed { .. })
        })))
    }),
];

fn port_ref(rt: &Runtime, v: Value) -> Option<&Port> {
    match rt.heap.get(v) {
        Some(Object::Port(port)) => Some(port),
        _ => None,
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

fn print(rt: &mut Runtime, args: &[Value], style: Style) -> NativeResult {
    let text = rt.to_text(args[0], style);
    emit(rt, args.get(1), &text)
}

fn input_port(_rt: &Runtime, who: &str, args: &[Value]) -> Result<Value, Throw> {
    match args.first() {
        Some(&port) => Ok(port),
        None => Err(Throw::error(
            format!("{who}: there is no current input port; pass a port"),
            vec![],
        )),
    }
}

fn read_char(rt: &mut Runtime, args: &[Value], consume: bool) -> NativeResult {
    let port = input_port(rt, "read-char", args)?;
    match port_mut(rt, port) {
        Some(Port::StringInput { chars, position }) => match chars.get(*position) {
            Some(&c) => {
                if consume {
                    *position += 1;
                }
                Ok(Value::character(c))
            }
            None => Ok(Value::EOF),
        },
        Some(Port::Closed { input: true }) => {
            Err(Throw::error("read-char: the port is closed", vec![port]))
        }
        _ => Err(rt.type_error("read-char", "a textual input port", port)),
    }
}

fn read_line(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let port = input_port(rt, "read-line", args)?;
    let line = match port_mut(rt, port) {
        Some(Port::StringInput { chars, position }) => {
            if *position >= chars.len() {
                return Ok(Value::EOF);
            }
            let rest = &chars[*position..];
            let end = rest.iter().position(|&c| c == '\n').unwrap_or(rest.len());
            let line: String = rest[..end].iter().collect();
            *position += (end + 1).min(rest.len());
            line
        }
        _ => return Err(rt.type_error("read-line", "a textual input port", port)),
    };
    Ok(rt.new_string(&line))
}

fn read_string(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    let k = rt.index_arg("read-string", args[0])?;
    let port = input_port(rt, "read-string", &args[1..])?;
    let text = match port_mut(rt, port) {
        Some(Port::StringInput { chars, position }) => {
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
    let port = input_port(rt, "read-u8", args)?;
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
    let port = input_port(rt, "read-bytevector", &args[1..])?;
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
    Ok(rt.heap.alloc(Object::Bytevector(data)))
}

fn close_port(rt: &mut Runtime, args: &[Value]) -> NativeResult {
    match port_mut(rt, args[0]) {
        Some(port @ (Port::StringInput { .. } | Port::BytesInput { .. })) => {
            *port = Port::Closed { input: true }
        }
        Some(port @ (Port::StringOutput(_) | Port::BytesOutput(_))) => {
            *port = Port::Closed { input: false }
        }
        Some(_) => {}
        None => return Err(rt.type_error("close-port", "a port", args[0])),
    }
    Ok(Value::UNSPECIFIED)
}
