//! The cryptography of an encrypted store, on bytes: the master key, the subkeys derived from
//! it, and the sealing and opening of blobs, refs and the store's state record. No redb here:
//! `redb_store.rs` decides where the sealed bytes go. `spec/store.md` (*Encrypted stores*) draws
//! every sealed value byte by byte.
//!
//! - Every value is sealed with XChaCha20-Poly1305 under a random 24-byte nonce, and its table
//!   key (with a domain string per kind of entry) is the associated data: a value moved to
//!   another entry, or another kind of entry, fails to open.
//! - Blob ids on disk are `blake3::keyed_hash` of the blob's name under a key derived from the
//!   master key: equal blobs still share one entry, and an id says nothing to whoever lacks it.
//! - Ref names become one keyed hash per path segment (`process/17/head` → three 16-byte
//!   pieces), so that listing the refs under a `…/` prefix stays a range scan.
//! - The ref table as a whole is authenticated by a digest kept inside the sealed state record:
//!   the XOR of a keyed hash of every ref entry, updated entry by entry as commits change them
//!   (an XOR-MAC, as Bellare, Guérin and Rogaway's). The digest is never seen in clear, so a
//!   table whose entries were deleted, added or replaced by older ones does not match it.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

use crate::Hash;

/// The length of a nonce, which opens every sealed value.
pub(crate) const NONCE_LEN: usize = 24;
/// The length of the authentication tag, which ends every sealed value.
pub(crate) const TAG_LEN: usize = 16;
/// What sealing adds to a value's length.
pub(crate) const OVERHEAD: usize = NONCE_LEN + TAG_LEN;
/// The length of one path segment's piece of a sealed ref's key.
pub(crate) const SEGMENT_ID_LEN: usize = 16;

/// The cipher suite of this build: XChaCha20-Poly1305 for values, blake3 (keyed hash and key
/// derivation) for ids and subkeys. The number is stored in the file's header.
pub(crate) const SUITE_XCHACHA20POLY1305_BLAKE3: u8 = 1;

/// The context strings of `blake3::derive_key`, one per subkey: changing one changes the format.
const BLOB_ID_CONTEXT: &str = "chenilles-store 2026-12 blob id";
const BLOB_SEAL_CONTEXT: &str = "chenilles-store 2026-12 blob seal";
const REF_NAME_CONTEXT: &str = "chenilles-store 2026-12 ref name";
const REF_SEAL_CONTEXT: &str = "chenilles-store 2026-12 ref seal";
const REF_DIGEST_CONTEXT: &str = "chenilles-store 2026-12 ref digest";
const STATE_SEAL_CONTEXT: &str = "chenilles-store 2026-12 state seal";

/// The associated data's domain strings: which kind of entry a sealed value belongs to.
const BLOB_DOMAIN: &[u8] = b"chenilles blob\0";
const REF_DOMAIN: &[u8] = b"chenilles ref\0";
const STATE_DOMAIN: &[u8] = b"chenilles state\0";
const ROTATION_DOMAIN: &[u8] = b"chenilles rotation\0";
const BUNDLE_KEYS_DOMAIN: &[u8] = b"chenilles bundle keys\0";
const REPLICAS_DOMAIN: &[u8] = b"chenilles replicas\0";
const REPLICATION_KEY_DOMAIN: &[u8] = b"chenilles replication key\0";
const REPLICA_PROGRESS_DOMAIN: &[u8] = b"chenilles replica progress\0";

/// The records of an encrypted store that replication keeps, each sealed under its own domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplicationRecord {
    /// The list of replicas (the meta entry `replicas`).
    Replicas,
    /// The signing key of root records (the meta entry `replication_key`).
    SigningKey,
    /// One replica's progress (a file beside the store), by the replica's number.
    Progress(u32),
}

/// The random 32-byte key every other key of an encrypted store derives from. Zeroed when
/// dropped; never printed.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// A fresh key from the operating system's random source.
    pub(crate) fn generate() -> Result<MasterKey, getrandom::Error> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut())?;
        Ok(MasterKey(key))
    }

    /// The key held in `bytes` (an unwrapped key slot), if they are 32 bytes long.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<MasterKey> {
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != key.len() {
            return None;
        }
        key.copy_from_slice(bytes);
        Some(MasterKey(key))
    }

    /// The key's bytes, to be wrapped into a key slot.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A sealed value could not be opened: altered, moved from another entry, or sealed under
/// another key. Says nothing more, on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unauthentic;

/// Sealing failed: the operating system gave no randomness for the nonce, or the value is
/// longer than the cipher can seal (256 GiB).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SealFailure {
    #[error("the operating system gave no random bytes: {0}")]
    NoRandomness(getrandom::Error),
    #[error("a value of {0} bytes is too long to seal")]
    TooLong(usize),
}

/// The sealed state record: the store's commit count and the digest of its ref table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SealedState {
    /// How many commits have changed the store since it was made.
    pub(crate) commits: u64,
    /// The XOR of [`Sealer::ref_entry_digest`] over every entry of the ref table.
    pub(crate) ref_digest: [u8; 32],
}

/// The length of a [`SealedState`]'s plaintext.
const STATE_LEN: usize = 8 + 32;

/// The subkeys of one store, derived from its master key, and the operations that use them.
pub(crate) struct Sealer {
    blob_id: Zeroizing<[u8; 32]>,
    blob_seal: XChaCha20Poly1305,
    ref_name: Zeroizing<[u8; 32]>,
    ref_seal: XChaCha20Poly1305,
    ref_digest: Zeroizing<[u8; 32]>,
    state_seal: XChaCha20Poly1305,
    /// The store's id, from the header: bound into the state record.
    store_id: [u8; 16],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

fn cipher(context: &str, master: &MasterKey) -> XChaCha20Poly1305 {
    let mut key = blake3::derive_key(context, master.bytes());
    let cipher = XChaCha20Poly1305::new((&key).into());
    key.zeroize();
    cipher
}

impl Sealer {
    /// The subkeys of the store `store_id` whose master key is `master`.
    pub(crate) fn new(master: &MasterKey, store_id: [u8; 16]) -> Sealer {
        let derive = |context| Zeroizing::new(blake3::derive_key(context, master.bytes()));
        Sealer {
            blob_id: derive(BLOB_ID_CONTEXT),
            blob_seal: cipher(BLOB_SEAL_CONTEXT, master),
            ref_name: derive(REF_NAME_CONTEXT),
            ref_seal: cipher(REF_SEAL_CONTEXT, master),
            ref_digest: derive(REF_DIGEST_CONTEXT),
            state_seal: cipher(STATE_SEAL_CONTEXT, master),
            store_id,
        }
    }

    /// The key a blob named `hash` is filed under.
    pub(crate) fn blob_key(&self, hash: &Hash) -> [u8; 32] {
        *blake3::keyed_hash(&self.blob_id, &hash.0).as_bytes()
    }

    /// `bytes` sealed for the blob entry `key`.
    pub(crate) fn seal_blob(&self, key: &[u8], bytes: &[u8]) -> Result<Vec<u8>, SealFailure> {
        seal(&self.blob_seal, &[BLOB_DOMAIN, key], bytes)
    }

    /// [`Sealer::seal_blob`] into `sealed` (emptied first), whose allocation is reused.
    pub(crate) fn seal_blob_into(&self, key: &[u8], bytes: &[u8], sealed: &mut Vec<u8>) -> Result<(), SealFailure> {
        seal_into(&self.blob_seal, &[BLOB_DOMAIN, key], bytes, sealed)
    }

    /// Whether `sealed` opens as the blob entry `key`; `scratch` receives the plaintext.
    pub(crate) fn blob_opens(&self, key: &[u8], sealed: &[u8], scratch: &mut Vec<u8>) -> bool {
        open_into(&self.blob_seal, &[BLOB_DOMAIN, key], sealed, scratch).is_ok()
    }

    /// The bytes of the blob entry `key`, whose sealed value is `sealed`.
    pub(crate) fn open_blob(&self, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unauthentic> {
        open(&self.blob_seal, &[BLOB_DOMAIN, key], sealed)
    }

    /// The key of ref `name`: one piece per segment of the name split at `/`, each a keyed hash
    /// of the name up to the end of that segment.
    pub(crate) fn ref_key(&self, name: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(SEGMENT_ID_LEN * (1 + name.matches('/').count()));
        let ends = name.match_indices('/').map(|(at, _)| at).chain([name.len()]);
        for end in ends {
            key.extend_from_slice(&self.segment_id(&name[..end]));
        }
        key
    }

    /// The key prefix that every ref whose name begins with `prefix` has: the pieces of the
    /// segments `prefix` holds whole (those it ends with a `/`). A scan from it finds every such
    /// ref, and maybe others, which the caller filters out by name.
    pub(crate) fn ref_scan_prefix(&self, prefix: &str) -> Vec<u8> {
        let mut key = Vec::new();
        for (end, _) in prefix.match_indices('/') {
            key.extend_from_slice(&self.segment_id(&prefix[..end]));
        }
        key
    }

    fn segment_id(&self, path: &str) -> [u8; SEGMENT_ID_LEN] {
        let hash = blake3::keyed_hash(&self.ref_name, path.as_bytes());
        let mut id = [0u8; SEGMENT_ID_LEN];
        id.copy_from_slice(&hash.as_bytes()[..SEGMENT_ID_LEN]);
        id
    }

    /// Ref `name` pointing at `target`, sealed for the ref entry `key`.
    pub(crate) fn seal_ref(&self, key: &[u8], name: &str, target: &Hash) -> Result<Vec<u8>, SealFailure> {
        let mut plain = Zeroizing::new(Vec::with_capacity(32 + name.len()));
        plain.extend_from_slice(&target.0);
        plain.extend_from_slice(name.as_bytes());
        seal(&self.ref_seal, &[REF_DOMAIN, key], &plain)
    }

    /// The name and target of the ref entry `key`, whose sealed value is `sealed`.
    pub(crate) fn open_ref(&self, key: &[u8], sealed: &[u8]) -> Result<(String, Hash), Unauthentic> {
        let plain = Zeroizing::new(open(&self.ref_seal, &[REF_DOMAIN, key], sealed)?);
        let target = Hash::from_slice(plain.get(..32).ok_or(Unauthentic)?).ok_or(Unauthentic)?;
        let name = std::str::from_utf8(&plain[32..]).map_err(|_| Unauthentic)?.to_string();
        Ok((name, target))
    }

    /// The keyed hash of one ref entry, as its key and sealed value stand in the table: what the
    /// state record's digest XORs together.
    pub(crate) fn ref_entry_digest(&self, key: &[u8], sealed: &[u8]) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new_keyed(&self.ref_digest);
        hasher.update(&(key.len() as u64).to_le_bytes());
        hasher.update(key);
        hasher.update(sealed);
        *hasher.finalize().as_bytes()
    }

    /// The state record, sealed.
    pub(crate) fn seal_state(&self, state: &SealedState) -> Result<Vec<u8>, SealFailure> {
        let mut plain = [0u8; STATE_LEN];
        plain[..8].copy_from_slice(&state.commits.to_le_bytes());
        plain[8..].copy_from_slice(&state.ref_digest);
        seal(&self.state_seal, &[STATE_DOMAIN, &self.store_id], &plain)
    }

    /// The state record sealed in `sealed`: what tells that a master key is this store's.
    pub(crate) fn open_state(&self, sealed: &[u8]) -> Result<SealedState, Unauthentic> {
        let plain = open(&self.state_seal, &[STATE_DOMAIN, &self.store_id], sealed)?;
        let plain = <[u8; STATE_LEN]>::try_from(plain.as_slice()).map_err(|_| Unauthentic)?;
        let mut commits = [0u8; 8];
        commits.copy_from_slice(&plain[..8]);
        let mut ref_digest = [0u8; 32];
        ref_digest.copy_from_slice(&plain[8..]);
        Ok(SealedState { commits: u64::from_le_bytes(commits), ref_digest })
    }
}

impl Sealer {
    /// Any record of the meta table other than the state (`store rotate`'s progress), sealed
    /// with the state's subkey under its own domain.
    pub(crate) fn seal_rotation(&self, plain: &[u8]) -> Result<Vec<u8>, SealFailure> {
        seal(&self.state_seal, &[ROTATION_DOMAIN, &self.store_id], plain)
    }

    /// The record sealed by [`Sealer::seal_rotation`].
    pub(crate) fn open_rotation(&self, sealed: &[u8]) -> Result<Vec<u8>, Unauthentic> {
        open(&self.state_seal, &[ROTATION_DOMAIN, &self.store_id], sealed)
    }

    /// The store's bundle identities (age X25519 secret keys, one per line), sealed with the
    /// state's subkey under their own domain.
    pub(crate) fn seal_bundle_keys(&self, plain: &[u8]) -> Result<Vec<u8>, SealFailure> {
        seal(&self.state_seal, &[BUNDLE_KEYS_DOMAIN, &self.store_id], plain)
    }

    /// The record sealed by [`Sealer::seal_bundle_keys`]; zeroed when dropped.
    pub(crate) fn open_bundle_keys(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unauthentic> {
        open(&self.state_seal, &[BUNDLE_KEYS_DOMAIN, &self.store_id], sealed).map(Zeroizing::new)
    }
}

impl Sealer {
    /// A record of replication, sealed with the state's subkey under its own domain.
    pub(crate) fn seal_replication(&self, record: ReplicationRecord, plain: &[u8]) -> Result<Vec<u8>, SealFailure> {
        let number = replication_number(record);
        seal(&self.state_seal, &[replication_domain(record), &self.store_id, &number], plain)
    }

    /// The record sealed by [`Sealer::seal_replication`]; zeroed when dropped.
    pub(crate) fn open_replication(
        &self,
        record: ReplicationRecord,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Unauthentic> {
        let number = replication_number(record);
        open(&self.state_seal, &[replication_domain(record), &self.store_id, &number], sealed).map(Zeroizing::new)
    }
}

fn replication_domain(record: ReplicationRecord) -> &'static [u8] {
    match record {
        ReplicationRecord::Replicas => REPLICAS_DOMAIN,
        ReplicationRecord::SigningKey => REPLICATION_KEY_DOMAIN,
        ReplicationRecord::Progress(_) => REPLICA_PROGRESS_DOMAIN,
    }
}

fn replication_number(record: ReplicationRecord) -> [u8; 4] {
    match record {
        ReplicationRecord::Progress(id) => id.to_be_bytes(),
        _ => [0; 4],
    }
}

/// XORs `other` into `digest`.
pub(crate) fn xor_into(digest: &mut [u8; 32], other: &[u8; 32]) {
    for (byte, other) in digest.iter_mut().zip(other) {
        *byte ^= other;
    }
}

/// The longest associated data put together on the stack (a domain string and a blob's 32-byte
/// key, or a ref key of a few segments); longer data is concatenated on the heap.
const AAD_ON_STACK: usize = 128;

/// Calls `f` with the pieces of `aad` concatenated, without allocating for the usual lengths:
/// sealing a blob must cost the cipher and nothing else.
fn with_aad<R>(aad: &[&[u8]], f: impl FnOnce(&[u8]) -> R) -> R {
    let len = aad.iter().map(|piece| piece.len()).sum::<usize>();
    if len > AAD_ON_STACK {
        return f(&aad.concat());
    }
    let mut joined = [0u8; AAD_ON_STACK];
    let mut at = 0;
    for piece in aad {
        joined[at..at + piece.len()].copy_from_slice(piece);
        at += piece.len();
    }
    f(&joined[..len])
}

/// `plain` sealed under `cipher` with the associated data `aad` (its pieces, concatenated):
/// nonce ‖ ciphertext ‖ tag.
pub(crate) fn seal(cipher: &XChaCha20Poly1305, aad: &[&[u8]], plain: &[u8]) -> Result<Vec<u8>, SealFailure> {
    let mut sealed = Vec::with_capacity(OVERHEAD + plain.len());
    seal_into(cipher, aad, plain, &mut sealed)?;
    Ok(sealed)
}

/// [`seal`], into `sealed` (emptied first), whose allocation is reused.
fn seal_into(cipher: &XChaCha20Poly1305, aad: &[&[u8]], plain: &[u8], sealed: &mut Vec<u8>) -> Result<(), SealFailure> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(SealFailure::NoRandomness)?;
    sealed.clear();
    sealed.reserve(OVERHEAD + plain.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(plain);
    let tag = with_aad(aad, |aad| {
        cipher.encrypt_in_place_detached(XNonce::from_slice(&nonce), aad, &mut sealed[NONCE_LEN..])
    })
    .map_err(|_| {
        sealed.zeroize();
        SealFailure::TooLong(plain.len())
    })?;
    sealed.extend_from_slice(&tag);
    Ok(())
}

/// The plaintext of `sealed` (nonce ‖ ciphertext ‖ tag) under `cipher` and `aad`.
pub(crate) fn open(cipher: &XChaCha20Poly1305, aad: &[&[u8]], sealed: &[u8]) -> Result<Vec<u8>, Unauthentic> {
    let mut plain = Vec::with_capacity(sealed.len().saturating_sub(OVERHEAD));
    open_into(cipher, aad, sealed, &mut plain)?;
    Ok(plain)
}

/// [`open`], into `plain` (emptied first), whose allocation is reused.
fn open_into(cipher: &XChaCha20Poly1305, aad: &[&[u8]], sealed: &[u8], plain: &mut Vec<u8>) -> Result<(), Unauthentic> {
    plain.clear();
    if sealed.len() < OVERHEAD {
        return Err(Unauthentic);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    plain.extend_from_slice(ciphertext);
    with_aad(aad, |aad| cipher.decrypt_in_place_detached(XNonce::from_slice(nonce), aad, plain, tag.into())).map_err(
        |_| {
            plain.zeroize();
            Unauthentic
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&MasterKey::generate().unwrap(), [7; 16])
    }

    #[test]
    fn a_blob_opens_only_under_its_own_key_and_entry() {
        let store = sealer();
        let key = store.blob_key(&Hash::of(b"page"));
        let sealed = store.seal_blob(&key, b"page").unwrap();
        assert_eq!(store.open_blob(&key, &sealed).unwrap(), b"page");
        assert!(!sealed.windows(4).any(|w| w == b"page"), "no plaintext in the sealed bytes");
        let other = store.blob_key(&Hash::of(b"other"));
        assert_eq!(store.open_blob(&other, &sealed), Err(Unauthentic), "moved to another entry");
        assert_eq!(sealer().open_blob(&key, &sealed), Err(Unauthentic), "another store's key");
        for at in 0..sealed.len() {
            let mut damaged = sealed.clone();
            damaged[at] ^= 0x20;
            assert_eq!(store.open_blob(&key, &damaged), Err(Unauthentic), "byte {at} flipped");
        }
        assert_eq!(store.open_blob(&key, &sealed[..OVERHEAD - 1]), Err(Unauthentic), "too short");
    }

    #[test]
    fn equal_blobs_share_an_id_that_is_not_their_hash() {
        let (a, b) = (sealer(), sealer());
        let hash = Hash::of(b"same");
        assert_eq!(a.blob_key(&hash), a.blob_key(&hash));
        assert_ne!(a.blob_key(&hash), b.blob_key(&hash), "ids differ between stores");
        assert_ne!(a.blob_key(&hash), hash.0);
    }

    #[test]
    fn ref_keys_keep_prefixes_at_slashes() {
        let sealer = sealer();
        let key = sealer.ref_key("mailbox/alice/messages/0000000007");
        assert_eq!(key.len(), 4 * SEGMENT_ID_LEN);
        assert!(key.starts_with(&sealer.ref_scan_prefix("mailbox/alice/messages/")));
        assert!(key.starts_with(&sealer.ref_scan_prefix("mailbox/al")));
        assert_eq!(sealer.ref_scan_prefix("mailbox/al").len(), SEGMENT_ID_LEN);
        assert!(sealer.ref_scan_prefix("").is_empty());
        assert!(!sealer.ref_key("mailbox/bob/messages/1").starts_with(&sealer.ref_scan_prefix("mailbox/alice/")));
        assert_eq!(sealer.ref_key("").len(), SEGMENT_ID_LEN);
    }

    #[test]
    fn a_ref_opens_to_its_name_and_target_only_at_its_key() {
        let sealer = sealer();
        let key = sealer.ref_key("process/alice/head");
        let target = Hash::of(b"record");
        let sealed = sealer.seal_ref(&key, "process/alice/head", &target).unwrap();
        assert_eq!(sealer.open_ref(&key, &sealed).unwrap(), ("process/alice/head".to_string(), target));
        assert!(!sealed.windows(5).any(|w| w == b"alice"));
        let other = sealer.ref_key("process/bob/head");
        assert_eq!(sealer.open_ref(&other, &sealed), Err(Unauthentic), "swapped with another ref");
    }

    #[test]
    fn the_state_record_tells_the_right_key() {
        let master = MasterKey::generate().unwrap();
        let sealer = Sealer::new(&master, [1; 16]);
        let state = SealedState { commits: 12, ref_digest: [9; 32] };
        let sealed = sealer.seal_state(&state).unwrap();
        assert_eq!(Sealer::new(&master, [1; 16]).open_state(&sealed), Ok(state));
        assert_eq!(Sealer::new(&master, [2; 16]).open_state(&sealed), Err(Unauthentic), "another store's record");
        assert_eq!(sealer_with_other_key().open_state(&sealed), Err(Unauthentic));
    }

    fn sealer_with_other_key() -> Sealer {
        Sealer::new(&MasterKey::generate().unwrap(), [1; 16])
    }
}
