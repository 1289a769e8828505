//! The envelope of every blob the VM writes to the store: a header that names the blob's kind and
//! lists the blobs it refers to, then a kind-specific payload.
//!
//! ```text
//!   0..4   "CHNS"
//!   4      kind (a `Kind` byte)
//!   5      envelope version (1)
//!   6..8   zero
//!   8..12  n, the number of children (u32, little-endian)
//!   12..   n blob hashes of 32 bytes
//!   ...    payload
//! ```
//!
//! Listing the children in the header is what lets the store collect garbage and export bundles
//! without knowing any payload format: [`children_of`] is the `roots_of` function it is given.

use chenilles_store::{Batch, Hash};

use super::SnapshotError;

/// The first four bytes of every blob the VM writes.
pub const MAGIC: [u8; 4] = *b"CHNS";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 12;

/// What a blob holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// An inner node of a Merkle list; the payload is its height (1: its children are leaves).
    Node = b'N',
    /// A leaf of a Merkle list: a page of heap objects, or a chunk of words, frames or symbols.
    Leaf = b'L',
    /// A snapshot root: the whole state of a process.
    Root = b'R',
    /// A checkpoint record: a process's status, its snapshot and its journals.
    Record = b'C',
    /// A segment of a process's output journal.
    Output = b'O',
    /// A segment of a process's effect journal.
    Effects = b'E',
    /// A process's mailbox head: the sequence number its next message gets.
    Mailbox = b'M',
    /// One message waiting in a mailbox, from this store.
    Message = b'G',
    /// One message waiting in a mailbox, from a process at a peer.
    PeerMessage = b'P',
    /// An inbox's head: the sequence number the next message from a peer must have.
    InboxHead = b'I',
    /// The mailbox numbers a peer's messages got in one mailbox, for its quota.
    InboxRuns = b'J',
    /// An outbox's head: the next sequence number to a peer, and the first not acknowledged.
    OutboxHead = b'B',
    /// One message to a process at a peer, waiting for the peer's acknowledgement.
    Outgoing = b'S',
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Kind> {
        [
            Kind::Node,
            Kind::Leaf,
            Kind::Root,
            Kind::Record,
            Kind::Output,
            Kind::Effects,
            Kind::Mailbox,
            Kind::Message,
            Kind::PeerMessage,
            Kind::InboxHead,
            Kind::InboxRuns,
            Kind::OutboxHead,
            Kind::Outgoing,
        ]
        .into_iter()
        .find(|k| *k as u8 == byte)
    }
}

/// The bytes of a blob of `kind` referring to `children`, with `payload`.
pub fn encode(kind: Kind, children: &[Hash], payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + children.len() * 32 + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&[kind as u8, VERSION, 0, 0]);
    bytes.extend_from_slice(&(children.len() as u32).to_le_bytes());
    for child in children {
        bytes.extend_from_slice(&child.0);
    }
    bytes.extend_from_slice(payload);
    bytes
}

/// Encodes a blob and adds it to `batch`; returns its hash.
pub fn put(batch: &mut Batch, kind: Kind, children: &[Hash], payload: &[u8]) -> Hash {
    batch.put(encode(kind, children, payload))
}

/// A decoded envelope, borrowing the blob's bytes.
pub struct Decoded<'a> {
    /// What the blob holds.
    pub kind: Kind,
    /// The blobs it points to.
    pub children: Vec<Hash>,
    /// Its own bytes.
    pub payload: &'a [u8],
}

/// Reads a blob's envelope; `hash` names the blob in the error.
pub fn decode<'a>(hash: &Hash, bytes: &'a [u8]) -> Result<Decoded<'a>, SnapshotError> {
    let malformed = |what: &str| SnapshotError::Malformed { blob: *hash, what: what.to_string() };
    if bytes.len() < HEADER_LEN || bytes[..4] != MAGIC {
        return Err(malformed("not a Chenilles snapshot blob (bad magic)"));
    }
    let kind = Kind::from_byte(bytes[4]).ok_or_else(|| malformed("unknown blob kind"))?;
    if bytes[5] != VERSION {
        return Err(SnapshotError::UnsupportedVersion { blob: *hash, found: u32::from(bytes[5]), expected: 1 });
    }
    let count = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let end = count.checked_mul(32).and_then(|n| n.checked_add(HEADER_LEN)).filter(|end| *end <= bytes.len());
    let end = end.ok_or_else(|| malformed("the child list runs past the end of the blob"))?;
    let children = bytes[HEADER_LEN..end].chunks_exact(32).filter_map(Hash::from_slice).collect();
    Ok(Decoded { kind, children, payload: &bytes[end..] })
}

/// The blobs a stored blob refers to, for the store's garbage collector and bundles. Blobs that
/// are not in the envelope (code images) refer to nothing.
pub fn children_of(bytes: &[u8]) -> Vec<Hash> {
    decode(&Hash([0; 32]), bytes).map(|d| d.children).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_name_their_children() {
        let children = [Hash::of(b"a"), Hash::of(b"b")];
        let bytes = encode(Kind::Node, &children, b"\x01");
        let decoded = decode(&Hash::of(&bytes), &bytes).unwrap();
        assert_eq!(decoded.kind, Kind::Node);
        assert_eq!(decoded.children, children);
        assert_eq!(decoded.payload, b"\x01");
        assert_eq!(children_of(&bytes), children);
    }

    #[test]
    fn damaged_envelopes_are_refused() {
        let bytes = encode(Kind::Leaf, &[Hash::of(b"a")], b"");
        assert!(decode(&Hash([0; 32]), &bytes[..20]).is_err(), "truncated child list");
        assert!(decode(&Hash([0; 32]), b"\0CHNLIMG and the rest").is_err(), "an image is not an envelope");
        assert!(children_of(b"\0CHNLIMG").is_empty());
        let mut wrong_kind = bytes.clone();
        wrong_kind[4] = b'?';
        assert!(decode(&Hash([0; 32]), &wrong_kind).is_err());
    }
}
