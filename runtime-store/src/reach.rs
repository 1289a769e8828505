//! Reachability from a set of starting blobs, shared by gc, bundle export and the search for
//! missing blobs that `chenilles-vm verify` makes.

use std::collections::HashSet;

use crate::{BlobStore, Hash, RootsOf, StoreError};

/// What looking a blob up gave.
pub(crate) enum Fetched {
    /// The blob is held and intact; these are the blobs its bytes refer to.
    Found(Vec<Hash>),
    /// The store does not hold it.
    Missing,
    /// The store holds it, but its bytes do not hash to its name.
    Corrupt,
}

pub(crate) struct Reached {
    /// Every reachable blob the store holds.
    pub(crate) found: HashSet<Hash>,
    /// Every reachable hash the store does not hold, sorted.
    pub(crate) missing: Vec<Hash>,
}

/// Walks from `starts`, following what `roots_of` lists in each blob `fetch` finds. `fetch` is
/// given `roots_of` so that it can apply it to bytes it only borrows. Stops at the first corrupt
/// blob: what a corrupt blob refers to cannot be known.
pub(crate) fn walk(
    starts: impl IntoIterator<Item = Hash>,
    roots_of: RootsOf<'_>,
    fetch: impl FnMut(&Hash, RootsOf<'_>) -> Result<Fetched, StoreError>,
) -> Result<Reached, StoreError> {
    walk_past(&mut HashSet::new(), starts, roots_of, fetch)
}

/// [`walk`], skipping the blobs in `seen` (walked already) and adding those it walks.
fn walk_past(
    seen: &mut HashSet<Hash>,
    starts: impl IntoIterator<Item = Hash>,
    roots_of: RootsOf<'_>,
    mut fetch: impl FnMut(&Hash, RootsOf<'_>) -> Result<Fetched, StoreError>,
) -> Result<Reached, StoreError> {
    let mut found = HashSet::new();
    let mut missing = Vec::new();
    let mut stack: Vec<Hash> = Vec::new();
    for start in starts {
        if seen.insert(start) {
            stack.push(start);
        }
    }
    while let Some(hash) = stack.pop() {
        match fetch(&hash, roots_of)? {
            Fetched::Found(children) => {
                found.insert(hash);
                for child in children {
                    if seen.insert(child) {
                        stack.push(child);
                    }
                }
            }
            Fetched::Missing => missing.push(hash),
            Fetched::Corrupt => return Err(StoreError::CorruptBlob { hash }),
        }
    }
    missing.sort();
    Ok(Reached { found, missing })
}

/// Every hash reachable from the refs (through what `roots_of` lists) that `store` does not hold,
/// with the name of the first ref, in name order, it is reached from; sorted. A corrupt blob is
/// passed over — [`BlobStore::verify`] reports it — and what it refers to is not followed.
pub fn missing_blobs(store: &dyn BlobStore, roots_of: RootsOf<'_>) -> Result<Vec<(Hash, String)>, StoreError> {
    let mut seen = HashSet::new();
    let mut missing = Vec::new();
    for (name, target) in store.list_refs()? {
        let reached = walk_past(&mut seen, [target], roots_of, |hash, roots_of| match store.get(hash) {
            Ok(Some(bytes)) => Ok(Fetched::Found(roots_of(&bytes))),
            Ok(None) => Ok(Fetched::Missing),
            Err(StoreError::CorruptBlob { .. }) => Ok(Fetched::Found(Vec::new())),
            Err(error) => Err(error),
        })?;
        missing.extend(reached.missing.into_iter().map(|hash| (hash, name.clone())));
    }
    missing.sort();
    Ok(missing)
}
