//! The printer: `display` and `write` text of values, with R7RS escaping for `write`, in full or
//! within [`Bounds`] (what messages show of a value: `#(7 7 7 …)`).

use std::collections::HashMap;
use std::fmt::Write;

use crate::heap::Object;
use crate::numbers::{integer_to_string, ratio_to_string, real_to_string};
use crate::ports::Port;
use crate::runtime::Runtime;
use crate::throw::Throw;
use crate::value::{ObjId, Value};

/// How a value is printed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `display`: strings and characters as their contents.
    Display,
    /// `write`: a datum `read` gives back.
    Write,
}

/// Nesting deeper than this prints as `...` rather than risk the Rust stack.
const MAX_DEPTH: usize = 10_000;

/// How much of a value a message shows: past these bounds the printer writes `…` in place of the
/// rest, as Guile does in its error messages. Only the text is shortened, never the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The most elements printed of one list, vector, bytevector or record.
    pub items: usize,
    /// The deepest nesting printed: a list or vector deeper than this is `…`.
    pub depth: usize,
    /// About the longest text, in bytes: no element starts past it, a string is cut at it, and the
    /// whole text never passes it by more than its closing brackets and one `…`.
    pub length: usize,
}

impl Bounds {
    /// The bounds of values in error messages, backtraces' reports and `chenilles-vm inspect`.
    pub const MESSAGE: Bounds = Bounds { items: 32, depth: 8, length: 400 };
}

/// The text of `v` within `bounds` (circular structure labelled as [`to_text`] does).
pub fn to_text_bounded(rt: &Runtime, v: Value, style: Style, bounds: Bounds) -> String {
    let mut printer = Printer {
        rt,
        labels: find_labels(rt, v, Labels::Cycles),
        next_label: 0,
        limit: usize::MAX,
        bounds: Some(bounds),
    };
    let mut out = String::new();
    printer.print(v, style, &mut out, 0);
    // Only an atom of its own (a huge number) can take the text this far past the bound.
    let hard_limit = bounds.length.saturating_add(4 * bounds.depth + 8);
    if out.len() > hard_limit {
        out.truncate(out.floor_char_boundary(bounds.length));
        out.push('…');
    }
    out
}

/// Text `text` (printed earlier, in full) cut at `length` bytes with a `…`, for a message.
pub fn truncate_text(text: &str, length: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= length {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut cut = text[..text.floor_char_boundary(length)].to_string();
    cut.push('…');
    std::borrow::Cow::Owned(cut)
}

/// The `display` or `write` text of `v`; circular structure is written with datum labels (`#0=`, `#0#`).
pub fn to_text(rt: &Runtime, v: Value, style: Style) -> String {
    to_text_labelled(rt, v, style, Labels::Cycles)
}

/// The text of `v`, labelling what `labels` asks for.
pub fn to_text_labelled(rt: &Runtime, v: Value, style: Style, labels: Labels) -> String {
    text_within(rt, v, style, labels, usize::MAX)
}

/// The text a program prints: like [`to_text_labelled`], but under `--max-heap` a
/// text longer than the limit is a heap-limit error, found as soon as the text passes it. (A
/// structure that shares its parts prints each share in full: a few thousand pairs can stand
/// for more text than memory holds.)
pub fn program_text(rt: &Runtime, v: Value, style: Style, labels: Labels) -> Result<String, Throw> {
    let limit = rt.limits.max_heap.unwrap_or(usize::MAX);
    let text = text_within(rt, v, style, labels, limit);
    if text.len() > limit {
        return Err(Throw::Limit(format!(
            "heap limit exceeded: the text being written is longer than the limit of {limit} bytes"
        )));
    }
    Ok(text)
}

fn text_within(rt: &Runtime, v: Value, style: Style, labels: Labels, limit: usize) -> String {
    let mut printer = Printer { rt, labels: find_labels(rt, v, labels), next_label: 0, limit, bounds: None };
    let mut out = String::new();
    printer.print(v, style, &mut out, 0);
    out
}

/// Which objects get datum labels.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// None (`write-simple`): circular structure prints until a length guard stops it.
    None,
    /// Pairs and vectors that are part of a cycle (`write`, `display`).
    Cycles,
    /// Every pair and vector reached more than once (`write-shared`).
    Shared,
}

/// One printing: the objects to label, and the numbers given out so far.
struct Printer<'r> {
    rt: &'r Runtime,
    /// Objects that need a label, with the label once it has been printed.
    labels: HashMap<ObjId, Option<usize>>,
    next_label: usize,
    /// Printing stops once the text is longer than this.
    limit: usize,
    /// What a bounded printing shows (see [`to_text_bounded`]); `None` prints everything.
    bounds: Option<Bounds>,
}

/// Finds the pairs and vectors to label by a depth-first walk without recursion.
fn find_labels(rt: &Runtime, root: Value, mode: Labels) -> HashMap<ObjId, Option<usize>> {
    let mut labels = HashMap::new();
    if mode == Labels::None || !matches!(rt.heap.get(root), Some(Object::Pair(..) | Object::Vector(_))) {
        return labels;
    }
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state: HashMap<ObjId, u8> = HashMap::new();
    let children = |v: Value| -> Vec<Value> {
        match rt.heap.get(v) {
            Some(Object::Pair(car, cdr)) => vec![*car, *cdr],
            Some(Object::Vector(items)) => items.to_vec(),
            _ => Vec::new(),
        }
    };
    let Some(root_id) = root.as_object() else {
        return labels;
    };
    state.insert(root_id, ON_PATH);
    let mut stack: Vec<(ObjId, Vec<Value>, usize)> = vec![(root_id, children(root), 0)];
    while let Some((id, kids, next)) = stack.last_mut() {
        let Some(&child) = kids.get(*next) else {
            state.insert(*id, DONE);
            stack.pop();
            continue;
        };
        *next += 1;
        let Some(child_id) = child.as_object() else {
            continue;
        };
        if !matches!(rt.heap.get(child), Some(Object::Pair(..) | Object::Vector(_))) {
            continue;
        }
        match state.get(&child_id) {
            Some(&ON_PATH) => {
                labels.insert(child_id, None);
            }
            Some(_) => {
                if mode == Labels::Shared {
                    labels.insert(child_id, None);
                }
            }
            None => {
                state.insert(child_id, ON_PATH);
                stack.push((child_id, children(child), 0));
            }
        }
    }
    labels
}

impl Printer<'_> {
    /// Prints `#n#` for an object already printed under a label, or `#n=` before one about to be.
    /// Returns true when the object was a back reference and nothing more is to be printed.
    fn label(&mut self, v: Value, out: &mut String) -> bool {
        let Some(id) = v.as_object() else {
            return false;
        };
        match self.labels.get_mut(&id) {
            Some(Some(n)) => {
                let _ = write!(out, "#{n}#");
                true
            }
            Some(slot @ None) => {
                *slot = Some(self.next_label);
                let _ = write!(out, "#{}=", self.next_label);
                self.next_label += 1;
                false
            }
            None => false,
        }
    }

    /// In a bounded printing, whether the element `index` of a sequence is past the bounds: then
    /// `…` has been written in its place and the sequence ends there.
    fn elided(&self, index: usize, out: &mut String) -> bool {
        let Some(bounds) = self.bounds else {
            return false;
        };
        if index < bounds.items && out.len() < bounds.length {
            return false;
        }
        if index > 0 {
            out.push(' ');
        }
        out.push('…');
        true
    }

    /// In a bounded printing, whether a compound value at `depth` is too deep to print (then `…`
    /// has been written in its place).
    fn too_deep(&self, depth: usize, out: &mut String) -> bool {
        if self.bounds.is_some_and(|bounds| depth > bounds.depth) {
            out.push('…');
            return true;
        }
        false
    }

    fn print(&mut self, v: Value, style: Style, out: &mut String, depth: usize) {
        if out.len() > self.limit {
            return;
        }
        if depth > MAX_DEPTH {
            out.push_str("...");
            return;
        }
        if let Some(n) = v.as_fixnum() {
            let _ = write!(out, "{n}");
            return;
        }
        if let Some(c) = v.as_char() {
            match style {
                Style::Display => out.push(c),
                Style::Write => write_char_literal(c, out),
            }
            return;
        }
        if v.as_symbol().is_some() {
            let name = self.rt.symbols.name(v).unwrap_or("?");
            match style {
                Style::Display => out.push_str(name),
                Style::Write => write_symbol(name, out),
            }
            return;
        }
        if let Some(i) = v.as_native() {
            let _ = write!(out, "#<procedure {}>", crate::natives::native_name(i));
            return;
        }
        match v {
            Value::NIL => return out.push_str("()"),
            Value::TRUE => return out.push_str("#t"),
            Value::FALSE => return out.push_str("#f"),
            Value::UNSPECIFIED => return,
            Value::EOF => return out.push_str("#<eof>"),
            Value::DEFAULT => return out.push_str("#<default>"),
            Value::UNDEFINED => return out.push_str("#<undefined>"),
            _ => {}
        }
        let Some(object) = self.rt.heap.get(v) else {
            out.push_str("#<invalid>");
            return;
        };
        let compound = matches!(
            object,
            Object::Pair(..)
                | Object::Vector(_)
                | Object::Bytevector(_)
                | Object::Condition(_)
                | Object::Values(_)
                | Object::Record { .. }
        );
        if compound && self.too_deep(depth, out) {
            return;
        }
        match object {
            Object::Pair(..) => {
                if !self.label(v, out) {
                    self.print_list(v, style, out, depth);
                }
            }
            Object::Vector(_) if self.label(v, out) => {}
            Object::Vector(items) => {
                out.push_str("#(");
                for (i, item) in items.iter().enumerate() {
                    if self.elided(i, out) {
                        break;
                    }
                    if i > 0 {
                        out.push(' ');
                    }
                    self.print(*item, style, out, depth + 1);
                }
                out.push(')');
            }
            Object::String(string) => match style {
                Style::Display => {
                    let _ = write!(out, "{string}");
                }
                Style::Write => match self.bounds {
                    Some(bounds) if string.len() > bounds.length.saturating_sub(out.len()) => {
                        let room = bounds.length.saturating_sub(out.len());
                        write_string_literal(string.chars().take(room), out);
                        out.insert(out.len() - 1, '…');
                    }
                    _ => write_string_literal(string.chars(), out),
                },
            },
            Object::Bytevector(bytes) => {
                out.push_str("#u8(");
                for (i, b) in bytes.iter().enumerate() {
                    if self.elided(i, out) {
                        break;
                    }
                    if i > 0 {
                        out.push(' ');
                    }
                    let _ = write!(out, "{b}");
                }
                out.push(')');
            }
            Object::Bignum(n) => out.push_str(&integer_to_string(n, 10)),
            Object::Ratnum(r) => {
                out.push_str(&ratio_to_string(r, 10));
            }
            Object::Flonum(x) => out.push_str(&real_to_string(*x)),
            Object::Closure { function, .. } => {
                let name = self.rt.function_names.get(*function as usize).map_or("?", |n| &**n);
                let _ = write!(out, "#<procedure {name}>");
            }
            Object::Box(_) => out.push_str("#<box>"),
            Object::Condition(c) => {
                let _ = write!(out, "#<error {:?}", c.message);
                for (i, irritant) in self.rt.heap.list_items(c.irritants).unwrap_or_default().into_iter().enumerate() {
                    if self.elided(i + 1, out) {
                        break;
                    }
                    out.push(' ');
                    self.print(irritant, Style::Write, out, depth + 1);
                }
                out.push('>');
            }
            Object::Port(port) => out.push_str(match **port {
                Port::Stdout => "#<output-port stdout>",
                Port::Stderr => "#<output-port stderr>",
                Port::StringOutput(_) => "#<string-output-port>",
                Port::StringInput { .. } => "#<string-input-port>",
                Port::BytesOutput(_) => "#<bytevector-output-port>",
                Port::BytesInput { .. } => "#<bytevector-input-port>",
                Port::FileOutput { .. } => "#<file-output-port>",
                Port::Closed { .. } => "#<closed-port>",
            }),
            Object::Free(_) => out.push_str("#<freed>"),
            Object::Continuation(_) => out.push_str("#<continuation>"),
            Object::HashTable(_) => out.push_str("#<hash-table>"),
            Object::Values(values) => {
                out.push_str("#<values");
                for (i, v) in values.iter().enumerate() {
                    if self.elided(i + 1, out) {
                        break;
                    }
                    out.push(' ');
                    self.print(*v, style, out, depth + 1);
                }
                out.push('>');
            }
            Object::RecordType(t) => {
                let _ = write!(out, "#<record-type {}>", t.name);
            }
            Object::Record { record_type, fields } => {
                let name = match self.rt.heap.get(Value::object(*record_type)) {
                    Some(Object::RecordType(t)) => t.name.trim_start_matches('<').trim_end_matches('>').to_string(),
                    _ => "record".to_string(),
                };
                let _ = write!(out, "#<{name}");
                for (i, v) in fields.iter().enumerate() {
                    if self.elided(i + 1, out) {
                        break;
                    }
                    out.push(' ');
                    self.print(*v, style, out, depth + 1);
                }
                out.push('>');
            }
        }
    }

    fn print_list(&mut self, mut v: Value, style: Style, out: &mut String, depth: usize) {
        out.push('(');
        let mut first = true;
        // A proper list has at most as many pairs as the heap has objects; more means a cycle.
        let mut budget = self.rt.heap.object_count() + 1;
        let mut index = 0;
        while let Some((car, cdr)) = self.rt.heap.pair(v) {
            if self.elided(index, out) {
                out.push(')');
                return;
            }
            index += 1;
            if budget == 0 {
                out.push_str(" ...");
                break;
            }
            budget -= 1;
            if !first && v.as_object().is_some_and(|id| self.labels.contains_key(&id)) {
                // A labelled pair in the spine is written as a dotted tail so its label has a place.
                break;
            }
            if !first {
                out.push(' ');
            }
            first = false;
            self.print(car, style, out, depth + 1);
            v = cdr;
        }
        if v != Value::NIL && budget > 0 {
            out.push_str(" . ");
            self.print(v, style, out, depth + 1);
        }
        out.push(')');
    }
}

fn write_char_literal(c: char, out: &mut String) {
    out.push_str("#\\");
    match chenilles_reader::char_name(c) {
        Some(name) => out.push_str(name),
        None if c.is_control() => {
            let _ = write!(out, "x{:x}", u32::from(c));
        }
        None => out.push(c),
    }
}

fn write_string_literal(chars: impl Iterator<Item = char>, out: &mut String) {
    out.push('"');
    for c in chars {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:x};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_symbol(name: &str, out: &mut String) {
    // The reader decides what would not read back as this symbol.
    let needs_bars = chenilles_reader::symbol_needs_bars(name);
    if !needs_bars {
        out.push_str(name);
        return;
    }
    out.push('|');
    for c in name.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:x};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('|');
}
