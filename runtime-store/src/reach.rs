//! Reachability from a set of starting blobs, shared by gc and bundle export.

use std::collections::HashSet;

use crate::{Hash, RootsOf, StoreError};

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
    mut fetch: impl FnMut(&Hash, RootsOf<'_>) -> Result<Fetched, StoreError>,
) -> Result<Reached, StoreError> {
    let mut seen: HashSet<Hash> = HashSet::new();
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
