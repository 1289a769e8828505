//! Replicas: copies of a store elsewhere (a directory, an S3 bucket, a CAR archive that IPFS
//! tools read), brought up to date after commits and restored from several at once.
//! `spec/replicas.md` describes the objects byte by byte.
//!
//! - [`ReplicaTarget`]: where a replica lives; [`DirectoryTarget`] and [`CarArchive`] are here,
//!   S3 in the crate `chenilles-store-s3`.
//! - [`RedbStore::add_replica`](crate::RedbStore::add_replica) lists a replica in the store; from
//!   then on every commit is logged, so that [`sync`] sends each replica what is new and a
//!   signed root record, and knows after a crash what was not sent yet ([`status`]).
//! - [`restore`] rebuilds a store from the newest root whose every blob some replica still holds
//!   intact, and reports what each replica lacked.
//!
//! Replicas hold the store's entries as the store keeps them: an encrypted store's replicas see
//! only sealed bytes and keyed ids.

mod blocks;
mod car_archive;
mod progress;
mod push;
mod records;
mod ref_tree;
mod restore;
mod target;

pub use car_archive::CarArchive;
pub use progress::{ReplicaStatus, status};
pub use push::{CheckReport, SyncError, SyncMemory, SyncOutcome, SyncReport, check, sync};
pub use restore::{RestoreError, RestoreOptions, RestoreReport, SourceReport, restore};
pub use target::{DirectoryTarget, ReplicaError, ReplicaTarget};

pub(crate) use ref_tree::RawRef;

/// One replica a store lists: its number (which names its progress file), its name, and the
/// address of its target as it was given (`dir:/media/usb/backup`, `s3://bucket/prefix?…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// A number the store gave it, never reused.
    pub id: u32,
    /// Its name, for people and commands.
    pub name: String,
    /// Where it is.
    pub target: String,
}

/// Whether `name` may name a replica: 1 to 64 letters, digits, `-` and `_`.
pub fn check_replica_name(name: &str) -> Result<(), String> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if fine { Ok(()) } else { Err(format!("{name:?} cannot name a replica: use 1 to 64 letters, digits, '-' and '_'")) }
}

/// The store's id as its replicas' root records carry it (the public half of its signing key,
/// 64 hex digits), for `restore --store-id`; `None` before a replica was ever added.
pub fn store_id(store: &crate::RedbStore) -> Result<Option<String>, crate::StoreError> {
    Ok(store.signing_key()?.map(|key| store_id_text(&key.verifying_key().to_bytes())))
}

/// The store id in `text` (64 hex digits), as [`store_id`] writes it.
pub fn parse_store_id(text: &str) -> Option<[u8; 32]> {
    parse_hex32(text)
}

/// The 32 bytes written as 64 hex digits in `text` (a store id, a block id).
pub(crate) fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(bytes)
}

/// The store id of a signing key: the hex of its public key, as replicas' root records carry it.
pub(crate) fn store_id_text(id: &[u8; 32]) -> String {
    crate::Hash(*id).to_string()
}
