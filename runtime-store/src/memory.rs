//! The in-memory backend: the reference semantics that the durable backend must match.

use std::collections::{BTreeSet, HashMap};

use crate::reach::{self, Fetched};
use crate::{Batch, BlobStore, GcReport, Hash, RefUpdate, RootsOf, StoreError, VerifyReport};

/// A store in memory, for tests and for runs that need no durability.
#[derive(Default, Clone, Debug)]
pub struct MemoryStore {
    blobs: HashMap<Hash, Vec<u8>>,
    refs: HashMap<String, Hash>,
}

/// Checks one ref update against the ref's current value `actual`; `held` says whether a blob is
/// available (already stored, or put by the same batch). Both backends decide with this.
pub(crate) fn apply_ref_update(
    update: &RefUpdate,
    actual: Option<Hash>,
    held: impl FnOnce(&Hash) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    if actual != update.expected {
        return Err(StoreError::RefConflict { name: update.name.clone(), expected: update.expected, actual });
    }
    if let Some(target) = update.target
        && !held(&target)?
    {
        return Err(StoreError::DanglingRef { name: update.name.clone(), target });
    }
    Ok(())
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
        let incoming: HashMap<Hash, Vec<u8>> = batch.puts.into_iter().map(|blob| (blob.hash, blob.bytes)).collect();
        let mut refs = self.refs.clone();
        for update in &batch.ref_updates {
            apply_ref_update(update, refs.get(&update.name).copied(), |target| {
                Ok(self.blobs.contains_key(target) || incoming.contains_key(target))
            })?;
            match update.target {
                Some(target) => refs.insert(update.name.clone(), target),
                None => refs.remove(&update.name),
            };
        }
        self.blobs.extend(incoming);
        self.refs = refs;
        Ok(())
    }

    fn list_refs(&self) -> Result<Vec<(String, Hash)>, StoreError> {
        let mut refs: Vec<(String, Hash)> = self.refs.iter().map(|(n, h)| (n.clone(), *h)).collect();
        refs.sort();
        Ok(refs)
    }

    fn blob_hashes(&self) -> Result<BTreeSet<Hash>, StoreError> {
        Ok(self.blobs.keys().copied().collect())
    }

    fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport {
            blobs_checked: self.blobs.len() as u64,
            refs_checked: self.refs.len() as u64,
            ..VerifyReport::default()
        };
        for (hash, bytes) in &self.blobs {
            if Hash::of(bytes) != *hash {
                report.corrupt_blobs.push(*hash);
            }
        }
        report.corrupt_blobs.sort();
        for (name, target) in self.list_refs()? {
            if !self.blobs.contains_key(&target) {
                report.dangling_refs.push((name, target));
            }
        }
        Ok(report)
    }

    fn gc(&mut self, roots_of: RootsOf<'_>) -> Result<GcReport, StoreError> {
        let starts: Vec<Hash> = self.refs.values().copied().collect();
        let reached = reach::walk(starts, roots_of, |hash, roots_of| {
            Ok(match self.blobs.get(hash) {
                None => Fetched::Missing,
                Some(bytes) if Hash::of(bytes) != *hash => Fetched::Corrupt,
                Some(bytes) => Fetched::Found(roots_of(bytes)),
            })
        })?;
        let mut report =
            GcReport { blobs_kept: reached.found.len() as u64, missing: reached.missing, ..GcReport::default() };
        self.blobs.retain(|hash, bytes| {
            let keep = reached.found.contains(hash);
            if !keep {
                report.blobs_removed += 1;
                report.bytes_removed += bytes.len() as u64;
            }
            keep
        });
        Ok(report)
    }
}
