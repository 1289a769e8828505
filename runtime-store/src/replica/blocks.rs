//! Blocks and packs: what a replica holds, in the CARv1 format that every IPFS tool reads.
//!
//! A block is named by a CIDv1 with the `raw` codec (0x55) and a blake3 multihash (0x1e): the
//! blake3 of its bytes. Every block begins with a four-byte tag saying what it is (a blob, a
//! node of the ref tree, a root, a signed root record, a pack's index). A pack is a CARv1 file
//! whose header names one root, the pack's index block, which comes first and lists every other
//! block with its offset, so that a reader can check the index alone or read one block.

use cid::Cid;
use cid::multihash::Multihash;
use serde::{Deserialize, Serialize};

/// The multicodec of blocks: `raw`, bytes opaque to IPLD.
const RAW_CODEC: u64 = 0x55;
/// The multihash code of blake3 (256 bits).
const BLAKE3_CODE: u64 = 0x1e;

/// A block's name: the blake3 of its bytes (what its CID carries).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) struct BlockId(pub(crate) [u8; 32]);

impl BlockId {
    pub(crate) fn of(bytes: &[u8]) -> BlockId {
        BlockId(*blake3::hash(bytes).as_bytes())
    }

    pub(crate) fn cid(&self) -> Cid {
        // A 32-byte digest always fits a 64-byte multihash: `wrap` cannot fail here.
        let hash = Multihash::<64>::wrap(BLAKE3_CODE, &self.0).unwrap_or_default();
        Cid::new_v1(RAW_CODEC, hash)
    }

    /// The block a CID names, if it is one of ours (CIDv1, raw, blake3-256).
    pub(crate) fn from_cid(cid: &Cid) -> Option<BlockId> {
        if cid.version() != cid::Version::V1 || cid.codec() != RAW_CODEC || cid.hash().code() != BLAKE3_CODE {
            return None;
        }
        <[u8; 32]>::try_from(cid.hash().digest()).ok().map(BlockId)
    }

    pub(crate) fn hex(&self) -> String {
        crate::Hash(self.0).to_string()
    }
}

impl std::fmt::Display for BlockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.cid())
    }
}

/// What a block is, by its first four bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// A blob of the store as the store keeps it: its key (32 bytes) and its stored bytes.
    Blob,
    /// A node of the ref tree.
    RefNode,
    /// A root: the store's header and the ref tree's root at one commit.
    Root,
    /// A signed root record.
    RootRecord,
    /// A pack's index.
    PackIndex,
}

impl Kind {
    pub(crate) const fn tag(self) -> &'static [u8; 4] {
        match self {
            Kind::Blob => b"CHB1",
            Kind::RefNode => b"CHN1",
            Kind::Root => b"CHO1",
            Kind::RootRecord => b"CHR1",
            Kind::PackIndex => b"CHI1",
        }
    }

    pub(crate) fn of(block: &[u8]) -> Option<Kind> {
        [Kind::Blob, Kind::RefNode, Kind::Root, Kind::RootRecord, Kind::PackIndex]
            .into_iter()
            .find(|kind| block.starts_with(kind.tag()))
    }
}

/// A blob block: the blob's key in the store's `blobs` table and its stored bytes (sealed, in an
/// encrypted store).
pub(crate) fn blob_block(key: &[u8; 32], stored: &[u8]) -> Vec<u8> {
    let mut block = Vec::with_capacity(4 + 32 + stored.len());
    block.extend_from_slice(Kind::Blob.tag());
    block.extend_from_slice(key);
    block.extend_from_slice(stored);
    block
}

/// The key and stored bytes of a blob block.
pub(crate) fn split_blob_block(block: &[u8]) -> Option<([u8; 32], &[u8])> {
    let rest = block.strip_prefix(Kind::Blob.tag())?;
    let key = <[u8; 32]>::try_from(rest.get(..32)?).ok()?;
    Some((key, &rest[32..]))
}

#[derive(Serialize, Deserialize)]
struct CarHeader {
    roots: Vec<Cid>,
    version: u64,
}

/// Appends `value` as an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, value: u64) {
    let mut buffer = unsigned_varint::encode::u64_buffer();
    out.extend_from_slice(unsigned_varint::encode::u64(value, &mut buffer));
}

/// Reads a varint at `*at`, moving past it.
pub(crate) fn take_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let (value, rest) = unsigned_varint::decode::u64(bytes.get(*at..)?).ok()?;
    *at = bytes.len() - rest.len();
    Some(value)
}

/// Reads `len` bytes at `*at`, moving past them.
pub(crate) fn take<'a>(bytes: &'a [u8], at: &mut usize, len: usize) -> Option<&'a [u8]> {
    let piece = bytes.get(*at..at.checked_add(len)?)?;
    *at += len;
    Some(piece)
}

pub(crate) fn take_u64(bytes: &[u8], at: &mut usize) -> Option<u64> {
    take(bytes, at, 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes)
}

pub(crate) fn take_32(bytes: &[u8], at: &mut usize) -> Option<[u8; 32]> {
    take(bytes, at, 32).and_then(|b| b.try_into().ok())
}

/// The CARv1 header naming `roots`.
fn car_header(roots: &[BlockId]) -> Vec<u8> {
    let header = CarHeader { roots: roots.iter().map(BlockId::cid).collect(), version: 1 };
    // Serializing a struct of CIDs and an integer into memory cannot fail.
    let encoded = serde_ipld_dagcbor::to_vec(&header).unwrap_or_default();
    let mut out = Vec::with_capacity(encoded.len() + 2);
    put_varint(&mut out, encoded.len() as u64);
    out.extend_from_slice(&encoded);
    out
}

/// Appends one CARv1 section: the block's length with its CID, the CID, the block.
pub(crate) fn put_section(out: &mut Vec<u8>, id: &BlockId, block: &[u8]) {
    let cid = id.cid().to_bytes();
    put_varint(out, (cid.len() + block.len()) as u64);
    out.extend_from_slice(&cid);
    out.extend_from_slice(block);
}

/// A CARv1 file of `roots` and `blocks`, as an archive starts (`car_archive.rs` appends
/// sections after it).
pub(crate) fn car_file(roots: &[BlockId], blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = car_header(roots);
    for block in blocks {
        put_section(&mut out, &BlockId::of(block), block);
    }
    out
}

/// A pack of `blocks`: a CARv1 file whose root and first block is the index of the others.
/// Returns the pack's bytes; its name is [`pack_name`] of them.
pub(crate) fn pack(blocks: &[Vec<u8>]) -> Vec<u8> {
    // The index gives each block's offset in the file, which depends on the index's own length:
    // entries are fixed-size, so that length is known before the offsets are.
    let ids: Vec<BlockId> = blocks.iter().map(|b| BlockId::of(b)).collect();
    let index_len = 4 + 8 + blocks.len() * (32 + 8 + 8);
    let cid_len = BlockId([0; 32]).cid().to_bytes().len();
    let placeholder = vec![0u8; index_len];
    let header_len = car_header(&[BlockId::of(&placeholder)]).len();
    let mut offset = header_len + section_prefix_len(cid_len + index_len) + cid_len + index_len;
    let mut index = Vec::with_capacity(index_len);
    index.extend_from_slice(Kind::PackIndex.tag());
    index.extend_from_slice(&(blocks.len() as u64).to_le_bytes());
    for (id, block) in ids.iter().zip(blocks) {
        offset += section_prefix_len(cid_len + block.len()) + cid_len;
        index.extend_from_slice(&id.0);
        index.extend_from_slice(&(offset as u64).to_le_bytes());
        index.extend_from_slice(&(block.len() as u64).to_le_bytes());
        offset += block.len();
    }
    let index_id = BlockId::of(&index);
    let mut out = car_header(&[index_id]);
    put_section(&mut out, &index_id, &index);
    for (id, block) in ids.iter().zip(blocks) {
        put_section(&mut out, id, block);
    }
    out
}

fn section_prefix_len(len: usize) -> usize {
    let mut buffer = unsigned_varint::encode::u64_buffer();
    unsigned_varint::encode::u64(len as u64, &mut buffer).len()
}

/// The object name of a pack: `packs/BLAKE3.car`.
pub(crate) fn pack_name(pack: &[u8]) -> String {
    format!("packs/{}.car", BlockId::of(pack).hex())
}

/// What reading a CAR file found: every block whose bytes match its CID, the CIDs of those that
/// do not, and whether the file ended inside a section (a torn or cut file).
#[derive(Default, Debug)]
pub(crate) struct CarContents {
    /// The header's roots (ours only).
    pub(crate) roots: Vec<BlockId>,
    /// Each sound block: its id and where its bytes are in the file.
    pub(crate) blocks: Vec<(BlockId, std::ops::Range<usize>)>,
    /// Blocks whose bytes do not hash to their CID.
    pub(crate) corrupt: Vec<BlockId>,
    /// Where the last whole section ends: a file longer than this ended in a torn section, or
    /// damage made the rest unreadable.
    pub(crate) sound_len: usize,
    /// Whether the header itself could not be read.
    pub(crate) bad_header: bool,
}

/// Reads a CARv1 file, checking every block against its CID. Damage never stops the reading of
/// what is before it; a pack's index lets the reading go on past a damaged section.
pub(crate) fn read_car(bytes: &[u8]) -> CarContents {
    let mut contents = CarContents::default();
    let mut at = 0;
    let header = take_varint(bytes, &mut at)
        .and_then(|len| take(bytes, &mut at, usize::try_from(len).ok()?))
        .and_then(|header| serde_ipld_dagcbor::from_slice::<CarHeader>(header).ok())
        .filter(|header| header.version == 1);
    let Some(header) = header else {
        contents.bad_header = true;
        return contents;
    };
    contents.roots = header.roots.iter().filter_map(BlockId::from_cid).collect();
    contents.sound_len = at;
    while at < bytes.len() {
        let start = at;
        let Some(section) = take_varint(bytes, &mut at)
            .and_then(|len| usize::try_from(len).ok())
            .and_then(|len| take(bytes, &mut at, len))
        else {
            break;
        };
        let section_start = at - section.len();
        let Ok(cid) = Cid::read_bytes(section) else { break };
        let cid_len = cid.to_bytes().len();
        let range = section_start + cid_len..at;
        match BlockId::from_cid(&cid) {
            Some(id) if BlockId::of(&bytes[range.clone()]) == id => contents.blocks.push((id, range)),
            Some(id) => contents.corrupt.push(id),
            None => {}
        }
        contents.sound_len = at;
        let _ = start;
    }
    if contents.sound_len < bytes.len() {
        recover_from_index(bytes, &mut contents);
    }
    contents
}

/// The blocks a pack's index lists, taken at its word (only the index is checked against its
/// CID): `None` for a file that has no sound index (a CAR archive, a damaged pack).
pub(crate) fn indexed_blocks(bytes: &[u8]) -> Option<Vec<(BlockId, std::ops::Range<usize>)>> {
    let mut at = 0;
    let header_len = usize::try_from(take_varint(bytes, &mut at)?).ok()?;
    let header: CarHeader = serde_ipld_dagcbor::from_slice(take(bytes, &mut at, header_len)?).ok()?;
    let index_id = header.roots.first().and_then(BlockId::from_cid)?;
    let section_len = usize::try_from(take_varint(bytes, &mut at)?).ok()?;
    let section = take(bytes, &mut at, section_len)?;
    let cid = Cid::read_bytes(section).ok()?;
    let index = &section[cid.to_bytes().len()..];
    if BlockId::from_cid(&cid) != Some(index_id) || BlockId::of(index) != index_id {
        return None;
    }
    let entries = index_entries(index)?;
    let mut blocks = vec![(index_id, at - index.len()..at)];
    for (id, offset, len) in entries {
        let end = offset.checked_add(len)?;
        if end > bytes.len() {
            return None;
        }
        blocks.push((id, offset..end));
    }
    Some(blocks)
}

/// After damage stopped a sequential read, the blocks the pack's index places beyond it.
fn recover_from_index(bytes: &[u8], contents: &mut CarContents) {
    let Some(index_id) = contents.roots.first().copied() else { return };
    let Some(index) = contents.blocks.iter().find(|(id, _)| *id == index_id).map(|(_, r)| &bytes[r.clone()]) else {
        return;
    };
    let Some(entries) = index_entries(index) else { return };
    let known: std::collections::HashSet<BlockId> =
        contents.blocks.iter().map(|(id, _)| *id).chain(contents.corrupt.iter().copied()).collect();
    for (id, offset, len) in entries {
        if known.contains(&id) {
            continue;
        }
        let range = offset..offset.saturating_add(len);
        match bytes.get(range.clone()) {
            Some(block) if BlockId::of(block) == id => contents.blocks.push((id, range)),
            _ => contents.corrupt.push(id),
        }
    }
}

/// The entries of a pack index: each block's id, offset and length.
pub(crate) fn index_entries(index: &[u8]) -> Option<Vec<(BlockId, usize, usize)>> {
    let mut at = 4;
    if Kind::of(index) != Some(Kind::PackIndex) {
        return None;
    }
    let count = usize::try_from(take_u64(index, &mut at)?).ok()?;
    if count > index.len() / 48 {
        return None;
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let id = BlockId(take_32(index, &mut at)?);
        let offset = usize::try_from(take_u64(index, &mut at)?).ok()?;
        let len = usize::try_from(take_u64(index, &mut at)?).ok()?;
        entries.push((id, offset, len));
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_reads_back_and_its_index_places_every_block() {
        let blocks = vec![blob_block(&[7; 32], b"page one"), blob_block(&[8; 32], &[0xab; 300])];
        let pack = pack(&blocks);
        let contents = read_car(&pack);
        assert!(!contents.bad_header);
        assert_eq!(contents.sound_len, pack.len());
        assert!(contents.corrupt.is_empty());
        let ids: Vec<_> = contents.blocks.iter().map(|(id, _)| *id).collect();
        let index_id = contents.roots[0];
        assert_eq!(ids[0], index_id);
        let entries = index_entries(&pack[contents.blocks[0].1.clone()]).unwrap();
        for ((id, offset, len), block) in entries.iter().zip(&blocks) {
            assert_eq!(*id, BlockId::of(block));
            assert_eq!(&pack[*offset..offset + len], block.as_slice());
        }
    }

    #[test]
    fn a_flipped_bit_loses_one_block_not_the_pack() {
        let blocks: Vec<Vec<u8>> = (0..5u8).map(|i| blob_block(&[i; 32], &vec![i; 1000])).collect();
        let mut pack = pack(&blocks);
        let contents = read_car(&pack);
        let (_, third) = contents.blocks[3].clone();
        pack[third.start + 500] ^= 0x10;
        let damaged = read_car(&pack);
        assert_eq!(damaged.blocks.len(), contents.blocks.len() - 1);
        assert_eq!(damaged.corrupt.len(), 1);
    }

    #[test]
    fn a_damaged_length_is_passed_by_the_index() {
        let blocks: Vec<Vec<u8>> = (0..4u8).map(|i| blob_block(&[i; 32], &[i; 200])).collect();
        let mut pack = pack(&blocks);
        let contents = read_car(&pack);
        let (_, second) = contents.blocks[2].clone();
        // The section's length varint sits just before its CID (36 bytes).
        let length_at = second.start - 36 - 2;
        pack[length_at] = 0xff;
        pack[length_at + 1] = 0xff;
        let damaged = read_car(&pack);
        assert!(damaged.sound_len < pack.len());
        let found: std::collections::HashSet<_> = damaged.blocks.iter().map(|(id, _)| *id).collect();
        for block in &blocks {
            assert!(found.contains(&BlockId::of(block)) || damaged.corrupt.contains(&BlockId::of(block)));
        }
        assert!(found.len() >= 4, "the index recovers the blocks after the damage: {damaged:?}");
    }

    #[test]
    fn cids_are_cidv1_raw_blake3() {
        let id = BlockId::of(b"hello");
        let text = id.cid().to_string();
        assert!(text.starts_with("bafkr4i"), "{text}");
        assert_eq!(BlockId::from_cid(&id.cid()), Some(id));
    }

    #[test]
    fn garbage_is_a_bad_header_not_a_panic() {
        for bytes in [&b""[..], b"\xff\xff\xff", b"\x05hello", b"\x01\xa0"] {
            let contents = read_car(bytes);
            assert!(contents.bad_header || contents.blocks.is_empty());
        }
    }
}
