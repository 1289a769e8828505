//! The disassembler: a verified image as readable text, one instruction a line, with the constants,
//! globals and functions its operands name and the source position each instruction came from.

use std::fmt::Write;

use super::image::{Constant, Image};
use super::instructions::OperandKind;
use super::verify::VerifiedFunction;

/// Renders `image` (whose functions `functions` came from [`super::verify`]).
pub fn disassemble(image: &Image, functions: &[VerifiedFunction]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "image {} ({} functions, {} constants, {} globals), entry function {}",
        image.name,
        functions.len(),
        image.constants.len(),
        image.globals.len(),
        image.entry
    );
    for (index, function) in functions.iter().enumerate() {
        let _ = writeln!(
            out,
            "\nfunction {index} {}: required {}, optional {}, rest {}, locals {}, free {}, max stack {}",
            function.name,
            function.required,
            function.optional,
            if function.rest { "yes" } else { "no" },
            function.locals,
            function.free,
            function.max_stack
        );
        let mut last_position = None;
        for (pc, insn) in function.insns.iter().enumerate() {
            let mut line = format!("  {pc:5}  {insn}");
            let notes: Vec<String> =
                insn.operands().iter().filter_map(|&(kind, value)| describe_operand(image, kind, value)).collect();
            if !notes.is_empty() {
                pad_to(&mut line, 32);
                line.push_str("; ");
                line.push_str(&notes.join(", "));
            }
            let position = function.position_at(pc);
            if position != last_position
                && let Some(p) = position
            {
                pad_to(&mut line, 64);
                let file = image.files.get(p.file as usize).map_or("?", String::as_str);
                let _ = write!(line, "  @ {file}:{}:{}", p.line, p.column);
            }
            last_position = position;
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

fn pad_to(line: &mut String, width: usize) {
    let len = line.chars().count();
    if len < width {
        line.extend(std::iter::repeat_n(' ', width - len));
    } else {
        line.push(' ');
    }
}

fn describe_operand(image: &Image, kind: OperandKind, value: u32) -> Option<String> {
    match kind {
        OperandKind::Const => Some(constant_text(image, value, 0)),
        OperandKind::Global => image.globals.get(value as usize).cloned(),
        OperandKind::Func => image.functions.get(value as usize).map(|f| format!("<{}>", f.name)),
        _ => None,
    }
}

/// `write`-style text of constant `index`, abbreviated past a few levels.
pub fn constant_text(image: &Image, index: u32, depth: usize) -> String {
    let Some(constant) = image.constants.get(index as usize) else {
        return "?".into();
    };
    if depth > 4 {
        return "...".into();
    }
    let element = |i: &u32| constant_text(image, *i, depth + 1);
    match constant {
        Constant::Unspecified => "#<unspecified>".into(),
        Constant::Eof => "#<eof>".into(),
        Constant::Default => "#<default>".into(),
        Constant::Nil => "()".into(),
        Constant::Boolean(b) => if *b { "#t" } else { "#f" }.into(),
        Constant::Fixnum(n) => n.to_string(),
        Constant::Integer(bytes) => num_bigint::BigInt::from_signed_bytes_le(bytes).to_string(),
        Constant::Rational { numerator, denominator } => format!(
            "{}/{}",
            num_bigint::BigInt::from_signed_bytes_le(numerator),
            num_bigint::BigInt::from_signed_bytes_le(denominator)
        ),
        Constant::Real(x) => format!("{x:?}"),
        Constant::Character(c) => match char::from_u32(*c) {
            Some(c) if c.is_alphanumeric() || c.is_ascii_punctuation() => format!("#\\{c}"),
            _ => format!("#\\x{c:x}"),
        },
        Constant::String(s) => format!("{s:?}"),
        Constant::Symbol(s) => format!("'{s}"),
        Constant::Bytevector(b) => {
            format!("#u8({})", b.iter().map(u8::to_string).collect::<Vec<_>>().join(" "))
        }
        Constant::List { items, tail } => {
            let mut text = format!("({}", items.iter().map(element).collect::<Vec<_>>().join(" "));
            if !matches!(image.constants.get(*tail as usize), Some(Constant::Nil)) {
                let _ = write!(text, " . {}", element(tail));
            }
            text.push(')');
            text
        }
        Constant::Vector(items) => format!("#({})", items.iter().map(element).collect::<Vec<_>>().join(" ")),
    }
}
