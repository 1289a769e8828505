//! The symbol table: symbols are interned, so `eq?` on symbols is a word comparison.
//!
//! The table is laid out for programs that make many symbols (`string->symbol` on data): every
//! name is appended to one text buffer, a symbol is the index of where its name ends, and the
//! lookup table holds only symbol indices, hashed by name. A symbol costs its name's bytes plus
//! about 16 bytes, not the three allocations (name, list entry, map entry; ~75 bytes for a short
//! name) that a map from owned names would.
//!
//! Names are hashed with foldhash, seeded at random per table: several times faster than the
//! standard library's SipHash on short names (`string->symbol` in a loop spent a quarter of its
//! time hashing), and a program still cannot predict which names collide.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::value::Value;

#[derive(Default)]
pub struct Symbols {
    /// Every name, one after another, in index order.
    text: String,
    /// Where each symbol's name ends in `text`; it starts where the previous one ends.
    ends: Vec<usize>,
    /// Symbol indices, found by the hash of their names.
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl Symbols {
    pub fn intern(&mut self, name: &str) -> Value {
        if let Some(i) = self.find(name) {
            return Value::symbol(i);
        }
        let i = self.ends.len() as u32;
        self.text.push_str(name);
        self.ends.push(self.text.len());
        let Symbols { text, ends, index, hasher } = self;
        let hash = hasher.hash_one(name);
        index.insert_unique(hash, i, |&j| hasher.hash_one(name_at(text, ends, j)));
        Value::symbol(i)
    }

    /// The index of the symbol named `name`, if it is interned.
    fn find(&self, name: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(name);
        self.index.find(hash, |&i| name_at(&self.text, &self.ends, i) == name).copied()
    }

    /// A table of `names`, in index order; `None` if a name appears twice.
    pub fn from_names(names: Vec<String>) -> Option<Symbols> {
        let mut symbols = Symbols::default();
        symbols.text.reserve(names.iter().map(String::len).sum());
        symbols.ends.reserve(names.len());
        let Symbols { text, ends, index, hasher } = &mut symbols;
        index.reserve(names.len(), |&j| hasher.hash_one(name_at(text, ends, j)));
        for name in names {
            if symbols.find(&name).is_some() {
                return None;
            }
            symbols.intern(&name);
        }
        Some(symbols)
    }

    /// Every symbol's name, in index order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.names_from(0)
    }

    /// The names of the symbols from index `first` on, in index order.
    pub fn names_from(&self, first: usize) -> impl ExactSizeIterator<Item = &str> {
        (first.min(self.ends.len()) as u32..self.ends.len() as u32).map(|i| name_at(&self.text, &self.ends, i))
    }

    /// An estimate of the memory the table holds: the names, and per symbol its end offset and
    /// its index entry. Counted against the heap limit (symbols are never collected).
    pub fn memory(&self) -> usize {
        self.text.len() + self.ends.len() * 16
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The name of a symbol value.
    pub fn name(&self, symbol: Value) -> Option<&str> {
        let i = symbol.as_symbol()?;
        ((i as usize) < self.ends.len()).then(|| name_at(&self.text, &self.ends, i))
    }
}

/// The name of symbol `i`, which must be below `ends.len()`.
fn name_at<'a>(text: &'a str, ends: &[usize], i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &text[start..ends[i]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_returns_the_same_symbol_for_the_same_name() {
        let mut symbols = Symbols::default();
        let names: Vec<String> = (0..5000).map(|i| format!("key-{i:x}")).chain(["".into(), "λ".into()]).collect();
        let interned: Vec<Value> = names.iter().map(|n| symbols.intern(n)).collect();
        for (name, &symbol) in names.iter().zip(&interned) {
            assert_eq!(symbols.intern(name), symbol);
            assert_eq!(symbols.name(symbol), Some(name.as_str()));
        }
        assert_eq!(symbols.len(), names.len());
        assert!(symbols.names().eq(names.iter().map(String::as_str)));
        assert!(symbols.names_from(4990).eq(names[4990..].iter().map(String::as_str)));
        assert_eq!(symbols.names_from(names.len() + 5).len(), 0);
        assert_eq!(symbols.name(Value::symbol(names.len() as u32)), None);
    }

    #[test]
    fn a_table_with_a_name_twice_is_refused() {
        assert!(Symbols::from_names(vec!["a".into(), "b".into(), "a".into()]).is_none());
        let table = Symbols::from_names(vec!["a".into(), "".into(), "b".into()]).expect("distinct names");
        assert!(table.names().eq(["a", "", "b"]));
    }
}
