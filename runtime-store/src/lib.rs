//! The content-addressed store of Chenilles VM: blobs named by the blake3 hash of their bytes, refs
//! that name blobs and move only by compare-and-swap, and batches that commit all or nothing.
//!
//! - [`MemoryStore`]: in memory, for tests and for runs that need no durability.
//! - [`RedbStore`]: a file, over redb. A commit is on disk (fsync) when it returns; a crash at any
//!   instant leaves exactly the commits that returned (and perhaps the one in flight).
//! - Every read from a file re-hashes the blob: a blob whose bytes do not match its name is an
//!   error ([`StoreError::CorruptBlob`]), never data. (A [`MemoryStore`] hashed each blob when it
//!   was committed, and its bytes never leave memory: its reads do not hash again.) A file that is not a store, has an unknown format
//!   version, or is damaged is refused with an error naming the path, and is left as it was.
//! - [`BlobStore::verify`] re-hashes everything; [`BlobStore::gc`] drops what the refs cannot reach;
//!   [`BlobStore::export_bundle`] and [`BlobStore::import_bundle`] move refs and what they reach
//!   between stores as one self-checking stream.
//!
//! The on-disk format, the commit protocol and the bundle format are described in `spec/store.md`.
//! This crate knows nothing of Scheme values: where blobs refer to other blobs, the caller says
//! how to find the references (the `roots_of` function given to [`BlobStore::gc`] and
//! [`BlobStore::export_bundle`]).
//!
//! # Example
//!
//! ```
//! use chenilles_store::{Batch, BlobStore, Hash, RedbStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("state.redb");
//! let mut store = RedbStore::open(&path)?;
//!
//! // A blob, and a ref to it, committed together.
//! let mut batch = Batch::default();
//! let page = batch.put(b"a page of heap".to_vec());
//! batch.set_ref("process/1/head", None, page);
//! store.commit(batch)?; // on disk now
//!
//! // Moving the ref needs its current value: a stale writer gets a conflict instead.
//! let mut batch = Batch::default();
//! let next = batch.put(b"the next page".to_vec());
//! batch.set_ref("process/1/head", Some(page), next);
//! store.commit(batch)?;
//!
//! drop(store);
//! let store = RedbStore::open(&path)?;
//! assert_eq!(store.get_ref("process/1/head")?, Some(next));
//! assert_eq!(store.get(&next)?.as_deref(), Some(&b"the next page"[..]));
//! assert_eq!(next, Hash::of(b"the next page"));
//!
//! // These blobs refer to no other blob, so `roots_of` finds nothing in them; the old page is
//! // unreachable and gc drops it.
//! let mut store = store;
//! let report = store.gc(&|_bytes: &[u8]| Vec::new())?;
//! assert_eq!(report.blobs_removed, 1);
//! assert!(store.verify()?.is_clean());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod bundle;
pub mod crash_point;
mod keys;
mod memory;
mod reach;
mod reading_file;
mod redb_store;
pub mod replica;
mod sealing;
pub mod simulated;
mod staged;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::PathBuf;

pub use bundle::{Bundle, BundleRefs};
pub use keys::{
    Credential, CredentialError, IdentityFile, KdfParams, NewSlot, SlotInfo, SlotKind, StoreKey, Unlock,
    recipients_of_identity_file,
};
pub use memory::MemoryStore;
pub use reach::missing_blobs;
pub use reading_file::writers_of;
pub use redb_store::{
    ENCRYPTED_FORMAT_VERSION, FORMAT_VERSION, FileIdentity, Header, MAGIC, Mode, RedbStore, Rotation, RotationReport,
    StoreWatch, in_guarded_operation,
};

/// A blob's name: the blake3 hash of its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The name of a blob of `bytes`.
    pub fn of(bytes: &[u8]) -> Hash {
        Hash(*blake3::hash(bytes).as_bytes())
    }

    /// The hash held in `bytes`, if it is exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong. Errors about a file name its path and say what was found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A compare-and-swap failed: the ref is not where the batch expected it.
    #[error("ref {name:?} is at {actual:?}, not at the expected {expected:?}")]
    RefConflict {
        /// The ref.
        name: String,
        /// Where the batch expected it.
        expected: Option<Hash>,
        /// Where it is.
        actual: Option<Hash>,
    },
    /// A ref would point at a blob the store does not hold.
    #[error("ref {name:?} would point at blob {target}, which the store does not hold")]
    DanglingRef {
        /// The ref.
        name: String,
        /// The blob it would point at.
        target: Hash,
    },
    /// A blob's bytes do not hash to its name.
    #[error("blob {hash} is corrupt: its bytes do not hash to its name")]
    CorruptBlob {
        /// The blob.
        hash: Hash,
    },
    /// A blob is referred to but not held.
    #[error("blob {hash} is referred to but the store does not hold it")]
    MissingBlob {
        /// The blob.
        hash: Hash,
    },
    /// No ref has this name.
    #[error("there is no ref named {name:?}")]
    NoSuchRef {
        /// The name.
        name: String,
    },
    /// The file has a store format this build does not read.
    #[error(
        "{path}: store format version {found} is not supported (this build reads versions 1 to {expected})",
        path = .path.display()
    )]
    UnsupportedVersion {
        /// The store file.
        path: PathBuf,
        /// Its format version.
        found: u32,
        /// The newest version this build reads (it reads every version from 1).
        expected: u32,
    },
    /// The file is not a Chenilles store.
    #[error("{path}: not a Chenilles store: {cause}", path = .path.display())]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// What was found.
        cause: String,
    },
    /// The store is damaged and was refused (nothing was written to it).
    #[error("{path}: the store is damaged and was refused: {cause}", path = .path.display())]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What is damaged.
        cause: String,
    },
    /// The store was not closed cleanly; a writable open recovers it.
    #[error(
        "{path}: the store was not closed cleanly and must be opened for writing once to recover",
        path = .path.display()
    )]
    NeedsRecovery {
        /// The store file.
        path: PathBuf,
    },
    /// Another process or handle has the store open for writing.
    #[error("{path}: the store is open for writing in another process or handle", path = .path.display())]
    Locked {
        /// The store file.
        path: PathBuf,
    },
    /// The store was opened read-only.
    #[error("{path}: the store was opened read-only", path = .path.display())]
    ReadOnly {
        /// The store file.
        path: PathBuf,
    },
    /// There is no store at the path.
    #[error("{path}: there is no store there", path = .path.display())]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The store file was moved, replaced or deleted while open.
    #[error(
        "{path}: the store file was moved, replaced or deleted while it was open; nothing more is written to it",
        path = .path.display()
    )]
    Replaced {
        /// The path it was opened at.
        path: PathBuf,
    },
    /// An operating-system error.
    #[error("{path}: {cause}", path = .path.display())]
    Io {
        /// The store file.
        path: PathBuf,
        /// The error.
        cause: String,
    },
    /// The storage engine failed.
    #[error("{path}: storage failure: {cause}", path = .path.display())]
    Backend {
        /// The store file.
        path: PathBuf,
        /// What it said.
        cause: String,
    },
    /// The store is encrypted and nothing that opens it was offered.
    #[error(
        "{path}: the store is encrypted; unlock it with {methods}",
        path = .path.display()
    )]
    KeyNeeded {
        /// The store file.
        path: PathBuf,
        /// Its unlocking methods, for people ("a password or the ssh-agent key SHA256:…").
        methods: String,
    },
    /// Nothing offered opens any key slot of the store; nothing was written.
    #[error("{path}: {tried} opens none of the store's key slots", path = .path.display())]
    WrongKey {
        /// The store file.
        path: PathBuf,
        /// What was offered, without its secret ("the password given").
        tried: String,
    },
    /// An encrypted store's entry fails authentication: altered, moved from another entry,
    /// replaced by an older one or sealed under another key. Nothing was written.
    #[error("{path}: {what} fails authentication: the file was altered", path = .path.display())]
    Tampered {
        /// The store file.
        path: PathBuf,
        /// Which entry ("blob 1f2e…", "the ref table", "the state record").
        what: String,
    },
    /// A key slot could not be made, read or used.
    #[error("{path}: {cause}", path = .path.display())]
    KeySlot {
        /// The store file.
        path: PathBuf,
        /// Why.
        cause: String,
    },
    /// A store was to be made where a file already is.
    #[error("{path}: a file is already there; nothing was written", path = .path.display())]
    AlreadyExists {
        /// The path.
        path: PathBuf,
    },
    /// A bundle was refused.
    #[error("bundle refused: {cause}")]
    BadBundle {
        /// Why.
        cause: String,
    },
    /// A bundle could not be written.
    #[error("bundle could not be written: {cause}")]
    BundleIo {
        /// Why.
        cause: String,
    },
    /// A replica could not be added or removed (a name taken or unknown, a bad target).
    #[error("{cause}")]
    BadReplica {
        /// Why.
        cause: String,
    },
    /// A sealed bundle that none of the keys offered opens; nothing was imported.
    #[error("the bundle is sealed (age-encrypted) and cannot be opened: {cause}")]
    BundleLocked {
        /// Why.
        cause: String,
    },
}

/// Where a listing of refs by prefix starts: after `after`, or at `prefix` itself (both backends
/// scan from here while names begin with `prefix`).
pub(crate) fn prefix_start<'a>(prefix: &'a str, after: Option<&'a str>) -> std::ops::Bound<&'a str> {
    match after {
        Some(after) => std::ops::Bound::Excluded(after),
        None => std::ops::Bound::Included(prefix),
    }
}

/// One ref update of a [`Batch`]: move `name` from `expected` to `target` (`None`: delete it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RefUpdate {
    pub(crate) name: String,
    pub(crate) expected: Option<Hash>,
    pub(crate) target: Option<Hash>,
}

/// Puts and ref updates that commit together or not at all.
///
/// Ref updates apply in the order they were added, each checked against the state the earlier
/// ones left; a ref may point at a blob put in the same batch.
#[derive(Clone, Default, Debug)]
pub struct Batch {
    puts: Vec<HashedBlob>,
    ref_updates: Vec<RefUpdate>,
}

/// A blob and its hash, computed once: for a writer that looks at the hash before deciding to
/// put the blob, and for the store that files it under that hash (hashing is most of what
/// putting a page costs).
#[derive(Clone, Debug)]
pub struct HashedBlob {
    hash: Hash,
    bytes: Vec<u8>,
}

impl HashedBlob {
    /// `bytes`, hashed once.
    pub fn new(bytes: Vec<u8>) -> HashedBlob {
        HashedBlob { hash: Hash::of(&bytes), bytes }
    }

    /// The blob's name.
    pub fn hash(&self) -> Hash {
        self.hash
    }
}

impl Batch {
    /// Adds a blob; returns the hash it will be stored under.
    pub fn put(&mut self, bytes: Vec<u8>) -> Hash {
        self.put_hashed(HashedBlob::new(bytes))
    }

    /// Adds a blob already hashed; returns its hash.
    pub fn put_hashed(&mut self, blob: HashedBlob) -> Hash {
        let hash = blob.hash;
        self.puts.push(blob);
        hash
    }

    /// Moves ref `name` from `expected` (`None`: the ref must not exist) to `target`.
    pub fn set_ref(&mut self, name: &str, expected: Option<Hash>, target: Hash) {
        self.ref_updates.push(RefUpdate { name: name.to_string(), expected, target: Some(target) });
    }

    /// Deletes ref `name`, which must be at `expected`.
    pub fn delete_ref(&mut self, name: &str, expected: Hash) {
        self.ref_updates.push(RefUpdate { name: name.to_string(), expected: Some(expected), target: None });
    }

    /// How many blobs the batch puts.
    pub fn blob_count(&self) -> usize {
        self.puts.len()
    }

    /// The total length of the blobs the batch puts.
    pub fn blob_bytes(&self) -> usize {
        self.puts.iter().map(|blob| blob.bytes.len()).sum()
    }

    /// Whether the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty() && self.ref_updates.is_empty()
    }
}

/// What [`BlobStore::verify`] found. Every problem is listed, not only the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Blobs re-hashed.
    pub blobs_checked: u64,
    /// Refs checked.
    pub refs_checked: u64,
    /// Blobs whose bytes do not hash to their name, sorted.
    pub corrupt_blobs: Vec<Hash>,
    /// Refs whose target the store does not hold, sorted by name.
    pub dangling_refs: Vec<(String, Hash)>,
    /// Entries that cannot be decoded at all (a key or ref value of the wrong length), described.
    pub malformed: Vec<String>,
    /// In an encrypted store, entries that fail authentication (altered, moved from another
    /// entry, sealed under another key), and a ref table that does not match the sealed state
    /// record (a ref removed, added or replaced by an older value), described.
    pub tampered: Vec<String>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.corrupt_blobs.is_empty()
            && self.dangling_refs.is_empty()
            && self.malformed.is_empty()
            && self.tampered.is_empty()
    }
}

/// What [`BlobStore::gc`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs reachable from the refs, all kept.
    pub blobs_kept: u64,
    /// Blobs removed.
    pub blobs_removed: u64,
    /// Total length of the removed blobs' bytes.
    pub bytes_removed: u64,
    /// Total length of the kept blobs' bytes.
    pub bytes_kept: u64,
    /// For a store in a file that the gc compacted (its garbage had passed the threshold): the
    /// file's length before and after.
    pub compacted: Option<(u64, u64)>,
    /// Hashes that a reachable blob refers to but the store does not hold (sorted): a sign of an
    /// earlier loss, reported rather than hidden.
    pub missing: Vec<Hash>,
}

/// What a bundle held, as written by [`BlobStore::export_bundle`] or read by
/// [`BlobStore::import_bundle`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleSummary {
    /// The refs, in bundle order.
    pub refs: Vec<(String, Hash)>,
    /// How many blobs.
    pub blobs: u64,
    /// The bundle's length in bytes, checksum included (a sealed bundle's: the age file's).
    pub bytes: u64,
    /// Whether it is sealed (an age file).
    pub sealed: bool,
}

/// The function that lists the blobs a blob's bytes refer to. The store does not know the format
/// of its blobs; the layer above does (see `spec/store.md`).
pub type RootsOf<'a> = &'a dyn Fn(&[u8]) -> Vec<Hash>;

/// What every store backend offers. Both backends give the same answers to the same calls;
/// `tests/redb_behaves_like_memory.rs` checks it.
pub trait BlobStore: Send + Sync {
    /// The blob named `hash`. A backend whose bytes may have been damaged since they were
    /// committed (a file) re-hashes them on the way out: [`StoreError::CorruptBlob`] if they no
    /// longer match.
    fn get(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError>;
    /// Whether the store holds a blob named `hash` (without reading or re-hashing it).
    fn has(&self, hash: &Hash) -> Result<bool, StoreError>;
    /// The blob ref `name` points at, if it exists.
    fn get_ref(&self, name: &str) -> Result<Option<Hash>, StoreError>;
    /// Applies a batch atomically: if any ref update conflicts or dangles, nothing changes.
    fn commit(&mut self, batch: Batch) -> Result<(), StoreError>;
    /// Every ref and its target, sorted by name.
    fn list_refs(&self) -> Result<Vec<(String, Hash)>, StoreError>;
    /// The refs whose names begin with `prefix` (and, given `after`, sort after it), sorted by
    /// name: what a caller that files many refs under one prefix lists, at a cost in proportion
    /// to what it finds, not to every ref of the store.
    fn list_refs_with_prefix(&self, prefix: &str, after: Option<&str>) -> Result<Vec<(String, Hash)>, StoreError> {
        Ok(self
            .list_refs()?
            .into_iter()
            .filter(|(name, _)| name.starts_with(prefix) && after.is_none_or(|after| name.as_str() > after))
            .collect())
    }
    /// The names of every blob held, sorted.
    fn blob_hashes(&self) -> Result<BTreeSet<Hash>, StoreError>;
    /// Re-hashes every blob and checks that every ref's target is held.
    fn verify(&self) -> Result<VerifyReport, StoreError>;
    /// Removes every blob not reachable from the refs, in one commit. A blob is reachable if a ref
    /// names it or if `roots_of` lists it in the bytes of a reachable blob. Each reachable blob is
    /// re-hashed before `roots_of` sees it; a corrupt one stops the gc with
    /// [`StoreError::CorruptBlob`] and nothing is removed.
    fn gc(&mut self, roots_of: RootsOf<'_>) -> Result<GcReport, StoreError>;

    /// Writes a bundle of the named refs and every blob reachable from them (see `spec/store.md`).
    /// A ref that does not exist is [`StoreError::NoSuchRef`]; a reachable blob the store does not
    /// hold is [`StoreError::MissingBlob`]; in either case nothing is written. An encrypted store
    /// writes it sealed to itself (as [`BlobStore::export_bundle_to`] with no recipient).
    fn export_bundle(
        &self,
        refs: &[&str],
        roots_of: RootsOf<'_>,
        writer: &mut dyn Write,
    ) -> Result<BundleSummary, StoreError> {
        self.export_bundle_to(refs, roots_of, &[], writer)
    }

    /// [`BlobStore::export_bundle`], sealed (an age file) to every one of `recipients` (age
    /// recipients `age1...`, plugin recipients, ssh public keys) if any is given; an encrypted
    /// store adds its own bundle recipient to them, and seals even when none is given, so that a
    /// bundle of an encrypted store is never in clear. A recipient that cannot be parsed is
    /// [`StoreError::BundleIo`] and nothing is written.
    fn export_bundle_to(
        &self,
        refs: &[&str],
        roots_of: RootsOf<'_>,
        recipients: &[String],
        writer: &mut dyn Write,
    ) -> Result<BundleSummary, StoreError> {
        self.export_bundle_of(&BundleRefs::named(refs), roots_of, recipients, writer)
    }

    /// [`BlobStore::export_bundle_to`] of the refs `refs` selects, by name and by prefix, every
    /// one read from the same snapshot of the store as the blobs.
    fn export_bundle_of(
        &self,
        refs: &BundleRefs<'_>,
        roots_of: RootsOf<'_>,
        recipients: &[String],
        writer: &mut dyn Write,
    ) -> Result<BundleSummary, StoreError> {
        let parsed = bundle::parse_recipients(recipients)?;
        let source = bundle::Source {
            get_ref: &|name| self.get_ref(name),
            refs_under: &|prefix| self.list_refs_with_prefix(prefix, None),
            get: &|hash| self.get(hash),
        };
        bundle::export_to(&source, refs, roots_of, &parsed, writer)
    }

    /// Reads a whole bundle, checks every blob's hash and the bundle's trailing checksum, and only
    /// then commits its blobs and refs in one batch. A truncated or altered bundle is refused whole
    /// ([`StoreError::BadBundle`]). Each bundled ref must be absent from the store (it is created)
    /// or already at the bundled target (left as is); a ref elsewhere is a
    /// [`StoreError::RefConflict`] and nothing is imported. A sealed bundle needs a key
    /// ([`BlobStore::import_bundle_with`]; an encrypted store offers its own).
    fn import_bundle(&mut self, reader: &mut dyn Read) -> Result<BundleSummary, StoreError> {
        self.import_bundle_with(reader, &[])
    }

    /// [`BlobStore::import_bundle`], offering the identity files among `keys` to open a sealed
    /// bundle: [`BlobStore::open_bundle`], then [`BlobStore::commit_bundle`].
    fn import_bundle_with(&mut self, reader: &mut dyn Read, keys: &[Credential]) -> Result<BundleSummary, StoreError> {
        let bundle = self.open_bundle(reader, keys)?;
        self.commit_bundle(bundle)
    }

    /// Reads a whole bundle and checks it, committing nothing: plain, or sealed and opened with
    /// the identity files among `keys` (passwords and ssh-agents cannot open one; an encrypted
    /// store offers its own bundle identities too). A sealed bundle none of them opens is
    /// [`StoreError::BundleLocked`]; a damaged one, [`StoreError::BadBundle`].
    fn open_bundle(&self, reader: &mut dyn Read, keys: &[Credential]) -> Result<Bundle, StoreError> {
        bundle::read_any(reader, &keys::identity_files(keys), &[])
    }

    /// Commits an opened bundle in one batch: every blob, and each ref the store does not have
    /// (one it has at the same target is left as is; one it has elsewhere is a
    /// [`StoreError::RefConflict`] and nothing is committed).
    fn commit_bundle(&mut self, bundle: Bundle) -> Result<BundleSummary, StoreError> {
        bundle::commit(self, bundle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_their_hash() {
        let mut store = MemoryStore::default();
        let mut batch = Batch::default();
        let hash = batch.put(b"hello".to_vec());
        store.commit(batch).unwrap();
        assert_eq!(hash, Hash::of(b"hello"));
        assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&b"hello"[..]));
        assert!(!store.has(&Hash::of(b"other")).unwrap());
    }

    #[test]
    fn a_conflicting_ref_update_commits_nothing() {
        let mut store = MemoryStore::default();
        let mut first = Batch::default();
        let a = first.put(b"a".to_vec());
        first.set_ref("head", None, a);
        store.commit(first).unwrap();

        let mut second = Batch::default();
        let b = second.put(b"b".to_vec());
        second.set_ref("head", None, b); // wrong expectation: head exists
        assert!(matches!(store.commit(second), Err(StoreError::RefConflict { .. })));
        assert_eq!(store.get_ref("head").unwrap(), Some(a));
        assert!(!store.has(&b).unwrap(), "the batch's blob was not kept either");
    }

    #[test]
    fn a_ref_to_a_missing_blob_is_refused() {
        let mut store = MemoryStore::default();
        let mut batch = Batch::default();
        batch.set_ref("head", None, Hash::of(b"nowhere"));
        assert!(matches!(store.commit(batch), Err(StoreError::DanglingRef { .. })));
    }

    #[test]
    fn hashes_are_read_back_only_from_32_bytes() {
        let hash = Hash::of(b"x");
        assert_eq!(Hash::from_slice(&hash.0), Some(hash));
        assert_eq!(Hash::from_slice(&hash.0[..31]), None);
        assert_eq!(Hash::from_slice(&[0; 33]), None);
    }
}
