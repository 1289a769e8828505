//! The symbol table: symbols are interned, so `eq?` on symbols is a word comparison.
//!
//! Names are looked up with foldhash, seeded at random per table: several times faster than the
//! standard library's SipHash on short names (`string->symbol` in a loop spent a quarter of its
//! time hashing), and a program still cannot predict which names collide.

use std::rc::Rc;

use foldhash::HashMap;

use crate::value::Value;

#[derive(Default)]
pub struct Symbols {
    names: Vec<Rc<str>>,
    index: HashMap<Rc<str>, u32>,
}

impl Symbols {
    pub fn intern(&mut self, name: &str) -> Value {
        if let Some(&i) = self.index.get(name) {
            return Value::symbol(i);
        }
        let name: Rc<str> = name.into();
        let i = self.names.len() as u32;
        self.names.push(name.clone());
        self.index.insert(name, i);
        Value::symbol(i)
    }

    /// A table of `names`, in index order; `None` if a name appears twice.
    pub fn from_names(names: Vec<String>) -> Option<Symbols> {
        let mut symbols = Symbols::default();
        for name in names {
            if symbols.index.contains_key(name.as_str()) {
                return None;
            }
            symbols.intern(&name);
        }
        Some(symbols)
    }

    /// Every symbol's name, in index order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.names.iter().map(|n| &**n)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of a symbol value.
    pub fn name(&self, symbol: Value) -> Option<&str> {
        symbol.as_symbol().and_then(|i| self.names.get(i as usize)).map(|n| &**n)
    }
}
