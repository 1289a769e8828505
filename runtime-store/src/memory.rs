//! The in-memory backend: the reference semantics that the durable backend must match.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::reach::{self, Fetched};
use crate::{Batch, BlobStore, GcReport, Hash, RefUpdate, RootsOf, StoreError, VerifyReport};

/// A store in memory, for tests and for runs that need no durability.
#[derive(Default, Clone, Debug)]
pub struct MemoryStore {
    blobs: HashMap<Hash, Vec<u8>>,
    refs: BTreeMap<String, Hash>,
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
        // The batch's ref changes, checked in order against what the earlier ones left; applied
        // only once all pass (a commit costs what it changes, not the number of refs).
        let mut changed: HashMap<&str, Option<Hash>> = HashMap::new();
        for update in &batch.ref_updates {
            let actual = match changed.get(update.name.as_str()) {
                Some(value) => *value,
                None => self.refs.get(&update.name).copied(),
            };
            apply_ref_update(update, actual, |target| {
                Ok(self.blobs.contains_key(target) || incoming.contains_key(target))
            })?;
            changed.insert(update.name.as_str(), update.target);
        }
        self.blobs.extend(incoming);
        for (name, target) in changed {
            match target {
                Some(target) => self.refs.insert(name.to_string(), target),
                None => self.refs.remove(name),
            };
        }
        Ok(())
    }

    fn list_refs(&self) -> Result<Vec<(String, Hash)>, StoreError> {
        Ok(self.refs.iter().map(|(n, h)| (n.clone(), *h)).collect())
    }

    fn list_refs_with_prefix(&self, prefix: &str, after: Option<&str>) -> Result<Vec<(String, Hash)>, StoreError> {
        let start = crate::prefix_start(prefix, after);
        Ok(self
            .refs
            .range::<str, _>((start, std::ops::Bound::Unbounded))
            .take_while(|(name, _)| name.starts_with(prefix))
            .map(|(n, h)| (n.clone(), *h))
            .collect())
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
            if keep {
                report.bytes_kept += bytes.len() as u64;
            } else {
                report.blobs_removed += 1;
                report.bytes_removed += bytes.len() as u64;
            }
            keep
        });
        Ok(report)
    }
}
