//! Roots and signed root records: what says which state of the store a replica holds.
//!
//! A **root** block holds the store's header at one commit (its format version; in an encrypted
//! store the clear `encryption` entry, the sealed state record, bundle identities and signing
//! key, and the key slots) and the id of the ref tree's root. A **root record** names a root
//! with its sequence number and the record before it, signed with the store's ed25519 signing
//! key, whose public half is the replicas' **store id**: a replica can neither forge a record
//! nor reorder them, and a client that remembers the highest sequence number it saw notices a
//! replica that serves an older one (a rollback).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::blocks::{self, BlockId, Kind};

/// What a root record's signature covers, after this domain string.
const RECORD_DOMAIN: &[u8] = b"chenilles root record\0";

/// The store's header and ref tree at one commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Root {
    pub(crate) format_version: u32,
    /// The replication sequence number of the commit.
    pub(crate) seq: u64,
    /// The root of the ref tree.
    pub(crate) refs: BlockId,
    /// How many refs.
    pub(crate) ref_count: u64,
    /// The meta entries a restored store needs, as the store keeps them.
    pub(crate) meta: Vec<(String, Vec<u8>)>,
    /// The key slots, as the store keeps them (none for a plain store).
    pub(crate) slots: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Root {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(Kind::Root.tag());
        out.extend_from_slice(&self.format_version.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.refs.0);
        out.extend_from_slice(&self.ref_count.to_le_bytes());
        blocks::put_varint(&mut out, self.meta.len() as u64);
        for (name, value) in &self.meta {
            put_bytes(&mut out, name.as_bytes());
            put_bytes(&mut out, value);
        }
        blocks::put_varint(&mut out, self.slots.len() as u64);
        for (key, value) in &self.slots {
            put_bytes(&mut out, key);
            put_bytes(&mut out, value);
        }
        out
    }

    pub(crate) fn decode(block: &[u8]) -> Option<Root> {
        if Kind::of(block) != Some(Kind::Root) {
            return None;
        }
        let mut at = 4;
        let format_version = u32::from_le_bytes(blocks::take(block, &mut at, 4)?.try_into().ok()?);
        let seq = blocks::take_u64(block, &mut at)?;
        let refs = BlockId(blocks::take_32(block, &mut at)?);
        let ref_count = blocks::take_u64(block, &mut at)?;
        let mut meta = Vec::new();
        for _ in 0..blocks::take_varint(block, &mut at)? {
            let name = String::from_utf8(take_bytes(block, &mut at)?.to_vec()).ok()?;
            meta.push((name, take_bytes(block, &mut at)?.to_vec()));
        }
        let mut slots = Vec::new();
        for _ in 0..blocks::take_varint(block, &mut at)? {
            let key = take_bytes(block, &mut at)?.to_vec();
            slots.push((key, take_bytes(block, &mut at)?.to_vec()));
        }
        (at == block.len()).then_some(Root { format_version, seq, refs, ref_count, meta, slots })
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    blocks::put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn take_bytes<'a>(block: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = usize::try_from(blocks::take_varint(block, at)?).ok()?;
    blocks::take(block, at, len)
}

/// A signed statement that the store `store_id` was at `root` at sequence number `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RootRecord {
    /// The store's public signing key.
    pub(crate) store_id: [u8; 32],
    pub(crate) seq: u64,
    pub(crate) root: BlockId,
    /// The record this replica held before this one (zeros: none).
    pub(crate) previous: BlockId,
    /// When it was made, milliseconds since the Unix epoch (for people; not trusted for order).
    pub(crate) made_at_ms: u64,
}

/// The length of a root record's bytes.
const RECORD_LEN: usize = 4 + 32 + 8 + 32 + 32 + 8 + 64;

/// Why a root record was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadRecord {
    /// Not a root record at all (wrong length or tag).
    Malformed,
    /// Well formed, but its signature does not verify under the key it names.
    BadSignature,
}

impl RootRecord {
    /// The record's bytes, signed with `key` (whose public half must be `store_id`).
    pub(crate) fn sign(&self, key: &SigningKey) -> Vec<u8> {
        let mut out = self.unsigned();
        let signature = key.sign(&[RECORD_DOMAIN, &out].concat());
        out.extend_from_slice(&signature.to_bytes());
        out
    }

    fn unsigned(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RECORD_LEN);
        out.extend_from_slice(Kind::RootRecord.tag());
        out.extend_from_slice(&self.store_id);
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.root.0);
        out.extend_from_slice(&self.previous.0);
        out.extend_from_slice(&self.made_at_ms.to_le_bytes());
        out
    }

    /// The record in `bytes`, if its signature verifies under the store id it names (the caller
    /// checks that this is the store it expects).
    pub(crate) fn verify(bytes: &[u8]) -> Result<RootRecord, BadRecord> {
        if bytes.len() != RECORD_LEN || Kind::of(bytes) != Some(Kind::RootRecord) {
            return Err(BadRecord::Malformed);
        }
        let mut at = 4;
        let field = |at: &mut usize| blocks::take_32(bytes, at).ok_or(BadRecord::Malformed);
        let store_id = field(&mut at)?;
        let seq = blocks::take_u64(bytes, &mut at).ok_or(BadRecord::Malformed)?;
        let root = BlockId(field(&mut at)?);
        let previous = BlockId(field(&mut at)?);
        let made_at_ms = blocks::take_u64(bytes, &mut at).ok_or(BadRecord::Malformed)?;
        let signature = Signature::from_slice(&bytes[at..]).map_err(|_| BadRecord::Malformed)?;
        let key = VerifyingKey::from_bytes(&store_id).map_err(|_| BadRecord::BadSignature)?;
        key.verify(&[RECORD_DOMAIN, &bytes[..at]].concat(), &signature).map_err(|_| BadRecord::BadSignature)?;
        Ok(RootRecord { store_id, seq, root, previous, made_at_ms })
    }

    /// The object name it is kept under: `roots/SEQ-ID.root`, the sequence number padded so that
    /// names sort in its order.
    pub(crate) fn object_name(bytes: &[u8], seq: u64) -> String {
        format!("roots/{seq:020}-{}.root", &BlockId::of(bytes).hex()[..16])
    }
}

/// The sequence number an object name under `roots/` claims (checked against the record).
pub(crate) fn seq_of_name(name: &str) -> Option<u64> {
    name.strip_prefix("roots/")?.split('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[42; 32])
    }

    #[test]
    fn records_verify_and_forgeries_do_not() {
        let key = key();
        let record = RootRecord {
            store_id: key.verifying_key().to_bytes(),
            seq: 7,
            root: BlockId([1; 32]),
            previous: BlockId([0; 32]),
            made_at_ms: 1_000,
        };
        let bytes = record.sign(&key);
        assert_eq!(RootRecord::verify(&bytes), Ok(record));
        for at in [0, 5, 40, 50, 100, bytes.len() - 1] {
            let mut forged = bytes.clone();
            forged[at] ^= 1;
            assert!(RootRecord::verify(&forged).is_err(), "a flip at {at} verified");
        }
        // Signed by another key, claiming this store: refused.
        let other = SigningKey::from_bytes(&[7; 32]);
        let forged = record.sign(&other);
        assert_eq!(RootRecord::verify(&forged), Err(BadRecord::BadSignature));
        assert_eq!(RootRecord::verify(b"short"), Err(BadRecord::Malformed));
    }

    #[test]
    fn roots_round_trip() {
        let root = Root {
            format_version: 2,
            seq: 99,
            refs: BlockId([3; 32]),
            ref_count: 12,
            meta: vec![("encryption".into(), vec![1; 17]), ("state".into(), vec![2; 80])],
            slots: vec![(vec![0, 0, 0, 1], vec![9; 120])],
        };
        assert_eq!(Root::decode(&root.encode()), Some(root.clone()));
        let bytes = root.encode();
        assert_eq!(Root::decode(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn names_sort_by_sequence() {
        let a = RootRecord::object_name(b"x", 9);
        let b = RootRecord::object_name(b"y", 10);
        assert!(a < b);
        assert_eq!(seq_of_name(&b), Some(10));
    }
}
