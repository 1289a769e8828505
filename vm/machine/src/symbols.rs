//! The symbol table: symbols are interned, so `eq?` on symbols is a word comparison.
//!
//! The table is laid out for programs that make many symbols (`string->symbol` on data): every
//! name is appended to one text buffer, a symbol is the index of where its name ends, and the
//! lookup table holds only symbol indices, hashed by name. A symbol costs its name's bytes plus
//! about 12 bytes (a 4-byte end offset and its index entry), not the three allocations (name, list
//! entry, map entry; ~75 bytes for a short name) that a map from owned names would.
//!
//! Names are hashed with foldhash, seeded at random per table: several times faster than the
//! standard library's SipHash on short names (`string->symbol` in a loop spent a quarter of its
//! time hashing), and a program still cannot predict which names collide.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::value::Value;

/// The symbol table: every symbol's name, by index.
#[derive(Default)]
pub struct Symbols {
    /// Every name, one after another, in index order.
    text: String,
    /// Where each symbol's name ends in `text`; it starts where the previous one ends.
    ends: Ends,
    /// Symbol indices, found by the hash of their names.
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl Symbols {
    /// The symbol named `name`, made if new.
    pub fn intern(&mut self, name: &str) -> Value {
        if let Some(i) = self.find(name) {
            return Value::symbol(i);
        }
        let i = self.ends.len() as u32;
        let start = self.text.len();
        self.text.push_str(name);
        self.ends.push(start, self.text.len());
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
        symbols.ends.low.reserve(names.len());
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
        self.text.len() + self.ends.len() * 12
    }

    /// How many symbols there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no symbol.
    pub fn is_empty(&self) -> bool {
        self.ends.len() == 0
    }

    /// The name of a symbol value.
    pub fn name(&self, symbol: Value) -> Option<&str> {
        let i = symbol.as_symbol()?;
        ((i as usize) < self.ends.len()).then(|| name_at(&self.text, &self.ends, i))
    }
}

/// The name of symbol `i`, which must be below `ends.len()`.
fn name_at<'a>(text: &'a str, ends: &Ends, i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends.end(i - 1) };
    &text[start..ends.end(i)]
}

/// Bits of an end offset kept per symbol. The tests use tiny spans, so that they cross many.
#[cfg(not(test))]
const SPAN_BITS: u32 = 32;
#[cfg(test)]
const SPAN_BITS: u32 = 6;

/// The end offsets of the names in 4 bytes each: the low bits of every end, and the indices of
/// the (rare: one per 4 GiB of names) symbols whose name reaches past a multiple of the span.
#[derive(Default)]
struct Ends {
    low: Vec<u32>,
    /// For each multiple of the span the text has passed, the first symbol whose end is past it.
    crossings: Vec<u32>,
}

impl Ends {
    fn len(&self) -> usize {
        self.low.len()
    }

    /// Appends the end of a name that occupies `start..end`.
    fn push(&mut self, start: usize, end: usize) {
        let i = self.low.len() as u32;
        let (start, end) = (start as u64, end as u64);
        for _ in (start >> SPAN_BITS)..(end >> SPAN_BITS) {
            self.crossings.push(i);
        }
        self.low.push((end & ((1 << SPAN_BITS) - 1)) as u32);
    }

    /// Where the name of symbol `i` ends.
    #[inline]
    fn end(&self, i: usize) -> usize {
        let spans = if self.crossings.is_empty() { 0 } else { self.crossings.partition_point(|&c| c as usize <= i) };
        ((spans as u64) << SPAN_BITS | u64::from(self.low[i])) as usize
    }
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
    fn names_longer_than_a_span_and_ends_past_many_spans_are_kept_whole() {
        // The tests' span is 64 bytes: these names cross it often, once several times in one.
        let mut symbols = Symbols::default();
        let names: Vec<String> =
            (0..300).map(|i| "x".repeat(i % 70) + &i.to_string()).chain(["y".repeat(200), "".into()]).collect();
        let interned: Vec<Value> = names.iter().map(|n| symbols.intern(n)).collect();
        assert!(symbols.ends.crossings.len() > 100);
        for (name, &symbol) in names.iter().zip(&interned) {
            assert_eq!(symbols.name(symbol), Some(name.as_str()));
            assert_eq!(symbols.intern(name), symbol);
        }
        assert!(symbols.names().eq(names.iter().map(String::as_str)));
    }

    #[test]
    fn a_table_with_a_name_twice_is_refused() {
        assert!(Symbols::from_names(vec!["a".into(), "b".into(), "a".into()]).is_none());
        let table = Symbols::from_names(vec!["a".into(), "".into(), "b".into()]).expect("distinct names");
        assert!(table.names().eq(["a", "", "b"]));
    }
}
