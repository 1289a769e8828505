//! The ref table of one commit as a tree of blocks, so that a new root adds only the nodes a
//! commit changed (as a prolly tree does): entries sorted by key are cut into nodes where a
//! hash of the key says so, not at fixed counts, so that one change moves no boundary but its
//! own and every other node keeps its bytes and its id.

use super::blocks::{self, BlockId, Kind};

/// One entry of the store's ref table as it is kept (the name and target in a plain store, the
/// keyed name and sealed value in an encrypted one).
pub(crate) type RawRef = (Vec<u8>, Vec<u8>);

/// About one entry in this many ends a node.
const FANOUT: u16 = 64;
/// No node holds more entries than this, whatever the hashes say.
const MOST_ENTRIES: usize = 1024;

/// Whether `key` ends a node at `level`.
fn ends_node(level: u8, key: &[u8]) -> bool {
    let mut hasher = blake3::Hasher::new_derive_key("chenilles-replica 2026-12 ref tree boundary");
    hasher.update(&[level]);
    hasher.update(key);
    let hash = hasher.finalize();
    u16::from_le_bytes([hash.as_bytes()[0], hash.as_bytes()[1]]) < u16::MAX / FANOUT
}

/// The tree of `refs` (sorted by key): its root's id and every node block.
pub(crate) fn build(refs: &[RawRef]) -> (BlockId, Vec<Vec<u8>>) {
    let mut nodes = Vec::new();
    // Level 0: the entries; each node is (first key, node bytes).
    let mut level = 0u8;
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = refs.to_vec();
    loop {
        let mut made: Vec<(Vec<u8>, BlockId)> = Vec::new();
        let mut start = 0;
        for i in 0..entries.len() {
            let last = i + 1 == entries.len();
            if last || ends_node(level, &entries[i].0) || i + 1 - start >= MOST_ENTRIES {
                let node = encode(level, &entries[start..=i]);
                let id = BlockId::of(&node);
                made.push((entries[start].0.clone(), id));
                nodes.push(node);
                start = i + 1;
            }
        }
        if made.is_empty() {
            let node = encode(level, &[]);
            let id = BlockId::of(&node);
            nodes.push(node);
            return (id, nodes);
        }
        if made.len() == 1 {
            return (made[0].1, nodes);
        }
        entries = made.into_iter().map(|(key, id)| (key, id.0.to_vec())).collect();
        level += 1;
    }
}

fn encode(level: u8, entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(Kind::RefNode.tag());
    out.push(level);
    blocks::put_varint(&mut out, entries.len() as u64);
    for (key, value) in entries {
        blocks::put_varint(&mut out, key.len() as u64);
        out.extend_from_slice(key);
        blocks::put_varint(&mut out, value.len() as u64);
        out.extend_from_slice(value);
    }
    out
}

/// A decoded node: its level and entries (refs at level 0, first keys and child ids above).
pub(crate) struct Node {
    pub(crate) level: u8,
    pub(crate) entries: Vec<RawRef>,
}

pub(crate) fn decode(block: &[u8]) -> Option<Node> {
    if Kind::of(block) != Some(Kind::RefNode) {
        return None;
    }
    let mut at = 4;
    let level = *block.get(at)?;
    at += 1;
    let count = usize::try_from(blocks::take_varint(block, &mut at)?).ok()?;
    if count > block.len() {
        return None;
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let key_len = usize::try_from(blocks::take_varint(block, &mut at)?).ok()?;
        let key = blocks::take(block, &mut at, key_len)?.to_vec();
        let value_len = usize::try_from(blocks::take_varint(block, &mut at)?).ok()?;
        let value = blocks::take(block, &mut at, value_len)?.to_vec();
        if level > 0 && value.len() != 32 {
            return None;
        }
        entries.push((key, value));
    }
    (at == block.len()).then_some(Node { level, entries })
}

/// Every ref under the tree rooted at `root`, sorted, fetching nodes with `fetch`; `None` if a
/// node cannot be had or is malformed (the ids it names are what it was missing).
pub(crate) fn read(root: BlockId, fetch: &mut dyn FnMut(&BlockId) -> Option<Vec<u8>>) -> Result<Vec<RawRef>, BlockId> {
    let mut refs = Vec::new();
    let mut stack = vec![(root, u8::MAX)];
    while let Some((id, parent_level)) = stack.pop() {
        let node = fetch(&id).and_then(|block| decode(&block)).ok_or(id)?;
        if parent_level != u8::MAX && node.level + 1 != parent_level {
            return Err(id);
        }
        if node.level == 0 {
            refs.extend(node.entries);
        } else {
            for (_, child) in node.entries.into_iter().rev() {
                let child = <[u8; 32]>::try_from(child.as_slice()).map_err(|_| id)?;
                stack.push((BlockId(child), node.level));
            }
        }
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn refs(n: usize) -> Vec<RawRef> {
        let mut refs: Vec<RawRef> = (0..n)
            .map(|i| (format!("mailbox/p/{i:06}").into_bytes(), blake3::hash(&i.to_le_bytes()).as_bytes().to_vec()))
            .collect();
        refs.sort();
        refs
    }

    fn round_trip(refs: &[RawRef]) {
        let (root, nodes) = build(refs);
        let by_id: HashMap<BlockId, Vec<u8>> = nodes.into_iter().map(|n| (BlockId::of(&n), n)).collect();
        let back = read(root, &mut |id| by_id.get(id).cloned()).unwrap();
        assert_eq!(back, refs);
    }

    #[test]
    fn trees_read_back() {
        for n in [0, 1, 2, 63, 64, 65, 1000, 20_000] {
            round_trip(&refs(n));
        }
    }

    #[test]
    fn one_change_adds_a_few_nodes() {
        let before = refs(20_000);
        let mut after = before.clone();
        after[12_345].1 = vec![9; 32];
        let (_, old) = build(&before);
        let (_, new) = build(&after);
        let old: std::collections::HashSet<BlockId> = old.iter().map(|n| BlockId::of(n)).collect();
        let added = new.iter().filter(|n| !old.contains(&BlockId::of(n))).count();
        assert!(added <= 4, "{added} new nodes for one changed ref");
    }

    #[test]
    fn a_missing_node_is_named() {
        let (root, nodes) = build(&refs(5000));
        let missing = BlockId::of(&nodes[3]);
        let by_id: HashMap<BlockId, Vec<u8>> =
            nodes.into_iter().map(|n| (BlockId::of(&n), n)).filter(|(id, _)| *id != missing).collect();
        assert_eq!(read(root, &mut |id| by_id.get(id).cloned()), Err(missing));
    }
}
