//! The content-addressed store of Chenilles VM: the interface every backend implements, and an
//! in-memory backend.
//!
//! Blobs are named by the blake3 hash of their bytes; refs map names to hashes and change only by
//! compare-and-swap; a [`Batch`] of puts and ref updates commits atomically. The durable backend over
//! redb (fsync on commit, `verify`, `gc`, bundles) is the durability milestone's work; the snapshot
//! format that will live in it is described in `spec/`. This crate knows nothing of Scheme values.

use std::collections::HashMap;

/// A blob's name: the blake3 hash of its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub fn of(bytes: &[u8]) -> Hash {
        Hash(*blake3::hash(bytes).as_bytes())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("ref {name:?} is at {actual:?}, not at the expected {expected:?}")]
    RefConflict {
        name: String,
        expected: Option<Hash>,
        actual: Option<Hash>,
    },
    #[error("ref {name:?} would point at blob {target}, which the store does not hold")]
    DanglingRef { name: String, target: Hash },
}

/// Puts and ref updates that commit together or not at all.
#[derive(Default, Debug)]
pub struct Batch {
    puts: Vec<Vec<u8>>,
    ref_updates: Vec<(String, Option<Hash>, Hash)>,
}

impl Batch {
    /// Adds a blob; returns the hash it will be stored under.
    pub fn put(&mut self, bytes: Vec<u8>) -> Hash {
        let hash = Hash::of(&bytes);
        self.puts.push(bytes);
        hash
    }

    /// Moves ref `name` from `expected` (`None`: the ref must not exist) to `target`.
    pub fn set_ref(&mut self, name: &str, expected: Option<Hash>, target: Hash) {
        self.ref_updates.push((name.to_string(), expected, target));
    }
}

/// What every store backend offers.
pub trait BlobStore {
    fn get(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError>;
    fn has(&self, hash: &Hash) -> Result<bool, StoreError>;
    fn get_ref(&self, name: &str) -> Result<Option<Hash>, StoreError>;
    /// Applies a batch atomically: if any ref update conflicts or dangles, nothing changes.
    fn commit(&mut self, batch: Batch) -> Result<(), StoreError>;
}

/// A store in memory, for tests and for runs that need no durability.
#[derive(Default)]
pub struct MemoryStore {
    blobs: HashMap<Hash, Vec<u8>>,
    refs: HashMap<String, Hash>,
}

impl BlobStore for MemoryStore {
    fn get(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.blobs.get(hash).cloned())
    }

    fn has(&self, hash: &Hash) -> Result<bool, StoreError> {
        Ok(self.blobs.contains_key(hash))
    }

    fn get_ref(&self, name: &str) -> Result<Option<Hash>, StoreError> {
        Ok(self.refs.get(name).copied())
    }

    fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        let incoming: HashMap<Hash, Vec<u8>> =
            batch.puts.into_iter().map(|b| (Hash::of(&b), b)).collect();
        let mut refs = self.refs.clone();
        for (name, expected, target) in &batch.ref_updates {
            let actual = refs.get(name).copied();
            if actual != *expected {
                return Err(StoreError::RefConflict {
                    name: name.clone(),
                    expected: *expected,
                    actual,
                });
            }
            if !self.blobs.contains_key(target) && !incoming.contains_key(target) {
                return Err(StoreError::DanglingRef {
                    name: name.clone(),
                    target: *target,
                });
            }
            refs.insert(name.clone(), *target);
        }
        self.blobs.extend(incoming);
        self.refs = refs;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_their_hash() {
        let mut store = MemoryStore::default();
        let mut batch = Batch::default();
        let hash = batch.put(b"hello".to_vec());
        store.commit(batch).unwrap();
        assert_eq!(hash, Hash::of(b"hello"));
        assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&b"hello"[..]));
        assert!(!store.has(&Hash::of(b"other")).unwrap());
    }

    #[test]
    fn a_conflicting_ref_update_commits_nothing() {
        let mut store = MemoryStore::default();
        let mut first = Batch::default();
        let a = first.put(b"a".to_vec());
        first.set_ref("head", None, a);
        store.commit(first).unwrap();

        let mut second = Batch::default();
        let b = second.put(b"b".to_vec());
        second.set_ref("head", None, b); // wrong expectation: head exists
        assert!(matches!(
            store.commit(second),
            Err(StoreError::RefConflict { .. })
        ));
        assert_eq!(store.get_ref("head").unwrap(), Some(a));
        assert!(
            !store.has(&b).unwrap(),
            "the batch's blob was not kept either"
        );
    }

    #[test]
    fn a_ref_to_a_missing_blob_is_refused() {
        let mut store = MemoryStore::default();
        let mut batch = Batch::default();
        batch.set_ref("head", None, Hash::of(b"nowhere"));
        assert!(matches!(
            store.commit(batch),
            Err(StoreError::DanglingRef { .. })
        ));
    }
}
