//! The hash table type (SRFI 69 tables): entries kept in an order that depends only on the
//! operations done on the table, indexed by hash. A heap object holds one; the procedures that hash
//! keys and work on tables are in `natives/hashtables.rs`.

use std::collections::HashMap;

use crate::value::Value;

/// Which equivalence a table uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Equivalence {
    /// `eq?` keys.
    Eq,
    /// `eqv?` keys.
    Eqv,
    /// `equal?` keys.
    Equal,
    /// Keys compared as strings (`string=?`).
    String,
    /// Keys compared as strings, ignoring case (`string-ci=?`).
    StringCi,
}

/// A hash table's contents: its entries in iteration order, indexed by hash.
#[derive(Clone, Debug)]
pub struct HashTable {
    /// How keys are compared.
    pub equivalence: Equivalence,
    /// The entries as `(hash, key, value)`, in the order every iteration uses: insertion order,
    /// where a deletion moves the last entry into the hole. The order depends only on the program's
    /// operations, never on object ids or collection timing, so it is the same in every run and
    /// after a resume.
    entries: Vec<(u64, Value, Value)>,
    /// For each hash, the positions of its entries in `entries`.
    index: HashMap<u64, Vec<usize>>,
}

impl HashTable {
    /// An empty table comparing keys by `equivalence`.
    pub fn new(equivalence: Equivalence) -> HashTable {
        HashTable { equivalence, entries: Vec::new(), index: HashMap::new() }
    }

    /// A table of `entries` (hash, key, value), in that order.
    pub fn from_entries(equivalence: Equivalence, entries: Vec<(u64, Value, Value)>) -> HashTable {
        let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
        for (position, (hash, _, _)) in entries.iter().enumerate() {
            index.entry(*hash).or_default().push(position);
        }
        HashTable { equivalence, entries, index }
    }

    /// The entries, in the order that depends only on the operations done on the table.
    pub fn entries(&self) -> impl Iterator<Item = (Value, Value)> + '_ {
        self.entries.iter().map(|(_, k, v)| (*k, *v))
    }

    /// The entries with their hashes, in iteration order.
    pub fn hashed_entries(&self) -> &[(u64, Value, Value)] {
        &self.entries
    }

    /// How many entries the table holds.
    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// The positions of the entries whose key hashes to `hash`.
    pub(crate) fn candidates(&self, hash: u64) -> &[usize] {
        self.index.get(&hash).map_or(&[], Vec::as_slice)
    }

    /// Replaces the value of the entry at `position`.
    pub(crate) fn set_value(&mut self, position: usize, value: Value) {
        self.entries[position].2 = value;
    }

    pub(crate) fn insert(&mut self, hash: u64, key: Value, value: Value) {
        self.index.entry(hash).or_default().push(self.entries.len());
        self.entries.push((hash, key, value));
    }

    pub(crate) fn remove(&mut self, position: usize) {
        let (hash, _, _) = self.entries.swap_remove(position);
        let moved_from = self.entries.len();
        if let Some(positions) = self.index.get_mut(&hash) {
            positions.retain(|p| *p != position);
            if positions.is_empty() {
                self.index.remove(&hash);
            }
        }
        if position < moved_from {
            let moved_hash = self.entries[position].0;
            if let Some(positions) = self.index.get_mut(&moved_hash) {
                for p in positions.iter_mut().filter(|p| **p == moved_from) {
                    *p = position;
                }
            }
        }
    }
}
