//! Merkle lists: a long sequence of leaves (pages of the heap, chunks of the stack) under one root
//! hash, with inner nodes of up to [`FANOUT`] children. Updating a few leaves rewrites only them and
//! the nodes on their paths to the root, so a checkpoint's cost follows what changed.

use chenilles_store::{Batch, BlobStore, Hash};

use super::SnapshotError;
use super::blob::{self, Kind};

/// Children per inner node: 64 hashes make a 2 KiB node.
pub const FANOUT: usize = 64;

/// The hashes of a Merkle list as last written or read: `levels[0]` are the leaves, the last level
/// is the root alone.
#[derive(Clone, Debug, Default)]
pub struct MerkleList {
    levels: Vec<Vec<Hash>>,
}

impl MerkleList {
    /// The leaf hashes.
    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// Replaces the leaves with `leaves`; adds every inner node that changed to `batch` and returns
    /// the root. Leaves themselves are the caller's to put.
    pub fn update(&mut self, leaves: Vec<Hash>, batch: &mut Batch) -> Hash {
        let mut levels = vec![leaves];
        let mut height = 1u8;
        loop {
            let children = &levels[levels.len() - 1];
            let old_children = self.levels.get(levels.len() - 1);
            let old_parents = self.levels.get(levels.len());
            let groups: Vec<&[Hash]> =
                if children.len() <= FANOUT { vec![children.as_slice()] } else { children.chunks(FANOUT).collect() };
            let single = groups.len() == 1;
            let parents: Vec<Hash> = groups
                .iter()
                .enumerate()
                .map(|(i, group)| {
                    // The old parent can be kept only if it had exactly these children: the same
                    // group, of the same length (a shrinking list shortens its last group).
                    let old_group = old_children.and_then(|old| {
                        if old.len() <= FANOUT { (i == 0).then_some(old.as_slice()) } else { old.chunks(FANOUT).nth(i) }
                    });
                    let unchanged = old_group == Some(*group);
                    match old_parents.and_then(|p| p.get(i)) {
                        Some(parent) if unchanged => *parent,
                        _ => blob::put(batch, Kind::Node, group, &[height]),
                    }
                })
                .collect();
            levels.push(parents);
            if single {
                break;
            }
            height += 1;
        }
        let root = levels[levels.len() - 1][0];
        self.levels = levels;
        root
    }

    /// Reads the list named `root`: its leaves' hashes, and the list as a cache for later updates.
    pub fn read(store: &dyn BlobStore, root: Hash) -> Result<MerkleList, SnapshotError> {
        let mut levels_top_down: Vec<Vec<Hash>> = vec![vec![root]];
        let mut expected_height: Option<u8> = None;
        loop {
            let level = &levels_top_down[levels_top_down.len() - 1];
            let mut below = Vec::with_capacity(level.len() * FANOUT);
            let mut height = None;
            for hash in level {
                let bytes = super::fetch(store, hash)?;
                let node = blob::decode(hash, &bytes)?;
                let malformed = |what: &str| SnapshotError::Malformed { blob: *hash, what: what.to_string() };
                if node.kind != Kind::Node || node.payload.len() != 1 || node.children.len() > FANOUT {
                    return Err(malformed("not an inner node of a Merkle list"));
                }
                let h = node.payload[0];
                if h == 0 || height.is_some_and(|x| x != h) || expected_height.is_some_and(|x| x != h) {
                    return Err(malformed("inner nodes of unequal height"));
                }
                height = Some(h);
                below.extend(node.children);
            }
            levels_top_down.push(below);
            match height {
                Some(1) | None => break,
                Some(h) => expected_height = Some(h - 1),
            }
        }
        levels_top_down.reverse();
        Ok(MerkleList { levels: levels_top_down })
    }
}

#[cfg(test)]
mod tests {
    use chenilles_store::MemoryStore;

    use super::*;

    fn leaves(n: usize, salt: u8) -> Vec<Hash> {
        (0..n).map(|i| Hash::of(&[(i % 251) as u8, (i / 251) as u8, salt])).collect()
    }

    fn commit_nodes(store: &mut MemoryStore, batch: Batch) -> usize {
        let count = batch.blob_count();
        store.commit(batch).unwrap();
        count
    }

    #[test]
    fn lists_of_every_shape_read_back() {
        for n in [0, 1, 63, 64, 65, 4096, 4097, 300_000] {
            let mut store = MemoryStore::default();
            let mut list = MerkleList::default();
            let mut batch = Batch::default();
            let root = list.update(leaves(n, 0), &mut batch);
            store.commit(batch).unwrap();
            let read = MerkleList::read(&store, root).unwrap();
            assert_eq!(read.leaves(), leaves(n, 0).as_slice(), "{n} leaves");
        }
    }

    #[test]
    fn changing_one_leaf_rewrites_only_its_path() {
        let mut store = MemoryStore::default();
        let mut list = MerkleList::default();
        let mut batch = Batch::default();
        let n = 64 * 64 * 10;
        list.update(leaves(n, 0), &mut batch);
        store.commit(batch).unwrap();

        let mut changed = leaves(n, 0);
        changed[12345] = Hash::of(b"new");
        let mut batch = Batch::default();
        let root = list.update(changed.clone(), &mut batch);
        let nodes = commit_nodes(&mut store, batch);
        assert_eq!(nodes, 3, "one node per level: 40960 leaves are 3 levels deep");
        assert_eq!(MerkleList::read(&store, root).unwrap().leaves(), changed.as_slice());

        // The same leaves again: nothing to write, same root.
        let mut batch = Batch::default();
        assert_eq!(list.update(changed, &mut batch), root);
        assert!(batch.is_empty());
    }

    #[test]
    fn a_shrinking_list_does_not_keep_a_node_of_its_longer_self() {
        for (before, after) in [(130, 129), (65, 64), (64 * 64 + 3, 64 * 64 + 1), (200, 3), (3, 0)] {
            let mut store = MemoryStore::default();
            let mut list = MerkleList::default();
            let mut batch = Batch::default();
            list.update(leaves(before, 0), &mut batch);
            store.commit(batch).unwrap();
            let mut batch = Batch::default();
            let root = list.update(leaves(after, 0), &mut batch);
            store.commit(batch).unwrap();
            assert_eq!(
                MerkleList::read(&store, root).unwrap().leaves(),
                leaves(after, 0).as_slice(),
                "{before} -> {after}"
            );
            // And the same list written from scratch has the same root.
            assert_eq!(MerkleList::default().update(leaves(after, 0), &mut Batch::default()), root);
        }
    }

    #[test]
    fn a_read_list_updates_like_the_written_one() {
        let mut store = MemoryStore::default();
        let mut written = MerkleList::default();
        let mut batch = Batch::default();
        let root = written.update(leaves(5000, 0), &mut batch);
        store.commit(batch).unwrap();
        let mut read = MerkleList::read(&store, root).unwrap();
        let mut next = leaves(5000, 0);
        next.truncate(4000);
        next[7] = Hash::of(b"x");
        let (mut a, mut b) = (Batch::default(), Batch::default());
        assert_eq!(written.update(next.clone(), &mut a), read.update(next, &mut b));
    }
}
