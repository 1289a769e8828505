//! The symbol table: symbols are interned, so `eq?` on symbols is a word comparison.

use std::collections::HashMap;
use std::rc::Rc;

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

    /// The name of a symbol value.
    pub fn name(&self, symbol: Value) -> Option<&str> {
        symbol.as_symbol().and_then(|i| self.names.get(i as usize)).map(|n| &**n)
    }
}
