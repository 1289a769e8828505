//! Bundles: refs and every blob they reach, as one self-checking byte stream.
//!
//! ```text
//! magic     8   "\0CHNLBDL"
//! version   4   u32 LE, 1
//! refs      4   u32 LE, count; then per ref: name length (u32 LE), name (UTF-8), target (32)
//! blobs     8   u64 LE, count; then per blob, by increasing hash: hash (32), length (u64 LE), bytes
//! checksum  32  blake3 of every byte before it
//! ```
//! `spec/store.md` is the authority; this module implements it. A sealed bundle is this stream
//! inside an age file (`sealed.rs`).

mod sealed;

pub(crate) use sealed::{BundleKeys, export_sealed, parse_recipients};

use std::collections::{BTreeSet, HashSet};
use std::io::{self, Read, Write};

use crate::keys::recipient::{Identities, ParsedRecipient};
use crate::reach::{self, Fetched};
use crate::{Batch, BlobStore, BundleSummary, Hash, RootsOf, StoreError};

pub(crate) const BUNDLE_MAGIC: &[u8; 8] = b"\0CHNLBDL";
pub(crate) const BUNDLE_VERSION: u32 = 1;
/// Longest ref name a bundle may carry.
pub(crate) const MAX_NAME_LEN: u32 = 64 * 1024;
/// Longest blob a bundle may carry.
pub(crate) const MAX_BLOB_LEN: u64 = u32::MAX as u64;

type GetRef<'a> = &'a dyn Fn(&str) -> Result<Option<Hash>, StoreError>;
type GetBlob<'a> = &'a dyn Fn(&Hash) -> Result<Option<Vec<u8>>, StoreError>;
type RefsUnder<'a> = &'a dyn Fn(&str) -> Result<Vec<(String, Hash)>, StoreError>;

/// Which refs a bundle carries, all read from one snapshot of the store (so that a writer beside
/// the export cannot make it carry a process without the message it has just been sent): every
/// `required` ref (one that does not exist is [`StoreError::NoSuchRef`]), each `optional` ref
/// that exists, and every ref whose name starts with one of `prefixes`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BundleRefs<'a> {
    /// Refs that must exist.
    pub required: &'a [&'a str],
    /// Refs carried if they exist.
    pub optional: &'a [&'a str],
    /// Prefixes of ref names: every ref under each is carried.
    pub prefixes: &'a [&'a str],
}

impl<'a> BundleRefs<'a> {
    /// Exactly the refs `required`, each of which must exist.
    pub fn named(required: &'a [&'a str]) -> BundleRefs<'a> {
        BundleRefs { required, ..BundleRefs::default() }
    }
}

/// How an export reads the store it bundles: refs by name and by prefix, and blobs (re-hashed),
/// all from one snapshot.
pub(crate) struct Source<'a> {
    pub(crate) get_ref: GetRef<'a>,
    pub(crate) refs_under: RefsUnder<'a>,
    pub(crate) get: GetBlob<'a>,
}

/// A writer that hashes and counts what passes through it.
struct Hashing<'w> {
    inner: &'w mut dyn Write,
    hasher: blake3::Hasher,
    written: u64,
}

impl Hashing<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner.write_all(bytes).map_err(|e| StoreError::BundleIo { cause: e.to_string() })?;
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        Ok(())
    }
}

/// What a bundle of some refs holds: the refs with their targets, and every blob they reach.
pub(crate) struct Plan {
    targets: Vec<(String, Hash)>,
    blobs: BTreeSet<Hash>,
}

/// Finds what a bundle of `refs` (duplicates dropped) holds, reading the store through `source`
/// (whose `get` must re-hash); nothing is written, so a bundle that cannot be complete is not
/// begun.
pub(crate) fn plan(source: &Source<'_>, refs: &BundleRefs<'_>, roots_of: RootsOf<'_>) -> Result<Plan, StoreError> {
    let mut names = HashSet::new();
    let mut targets = Vec::new();
    for name in refs.required {
        if names.insert(name.to_string()) {
            let target = (source.get_ref)(name)?.ok_or_else(|| StoreError::NoSuchRef { name: (*name).to_string() })?;
            targets.push(((*name).to_string(), target));
        }
    }
    for name in refs.optional {
        if !names.contains(*name)
            && let Some(target) = (source.get_ref)(name)?
        {
            names.insert(name.to_string());
            targets.push(((*name).to_string(), target));
        }
    }
    for prefix in refs.prefixes {
        for (name, target) in (source.refs_under)(prefix)? {
            if names.insert(name.clone()) {
                targets.push((name, target));
            }
        }
    }
    let get = source.get;
    let reached = reach::walk(targets.iter().map(|(_, t)| *t), roots_of, |hash, roots_of| match get(hash) {
        Ok(Some(bytes)) => Ok(Fetched::Found(roots_of(&bytes))),
        Ok(None) => Ok(Fetched::Missing),
        Err(StoreError::CorruptBlob { .. }) => Ok(Fetched::Corrupt),
        Err(e) => Err(e),
    })?;
    if let Some(hash) = reached.missing.first() {
        return Err(StoreError::MissingBlob { hash: *hash });
    }
    Ok(Plan { targets, blobs: reached.found.into_iter().collect() })
}

/// Writes a bundle of `refs` and everything they reach: plain if `recipients` is empty, else
/// sealed to them. Nothing is written if the bundle cannot be complete.
pub(crate) fn export_to(
    source: &Source<'_>,
    refs: &BundleRefs<'_>,
    roots_of: RootsOf<'_>,
    recipients: &[ParsedRecipient],
    writer: &mut dyn Write,
) -> Result<BundleSummary, StoreError> {
    let plan = plan(source, refs, roots_of)?;
    let get = source.get;
    if recipients.is_empty() { write(plan, get, writer) } else { export_sealed(plan, get, recipients, writer) }
}

/// Writes the bundle `plan` describes.
pub(crate) fn write(plan: Plan, get: GetBlob<'_>, writer: &mut dyn Write) -> Result<BundleSummary, StoreError> {
    let Plan { targets, blobs } = plan;
    let mut out = Hashing { inner: writer, hasher: blake3::Hasher::new(), written: 0 };
    out.put(BUNDLE_MAGIC)?;
    out.put(&BUNDLE_VERSION.to_le_bytes())?;
    let ref_count =
        u32::try_from(targets.len()).map_err(|_| StoreError::BundleIo { cause: "more than 2^32 refs".to_string() })?;
    out.put(&ref_count.to_le_bytes())?;
    for (name, target) in &targets {
        let len = u32::try_from(name.len())
            .ok()
            .filter(|len| *len <= MAX_NAME_LEN)
            .ok_or_else(|| StoreError::BundleIo { cause: format!("ref name longer than {MAX_NAME_LEN} bytes") })?;
        out.put(&len.to_le_bytes())?;
        out.put(name.as_bytes())?;
        out.put(&target.0)?;
    }
    out.put(&(blobs.len() as u64).to_le_bytes())?;
    for hash in &blobs {
        // Read again rather than kept from the walk: the bundle is streamed, not held.
        let bytes = get(hash)?.ok_or(StoreError::MissingBlob { hash: *hash })?;
        if bytes.len() as u64 > MAX_BLOB_LEN {
            return Err(StoreError::BundleIo { cause: format!("blob {hash} is longer than {MAX_BLOB_LEN} bytes") });
        }
        out.put(&hash.0)?;
        out.put(&(bytes.len() as u64).to_le_bytes())?;
        out.put(&bytes)?;
    }
    let checksum = *out.hasher.finalize().as_bytes();
    out.put(&checksum)?;
    out.inner.flush().map_err(|e| StoreError::BundleIo { cause: e.to_string() })?;
    Ok(BundleSummary { refs: targets, blobs: blobs.len() as u64, bytes: out.written, sealed: false })
}

/// A bundle read and checked whole, not yet committed: what [`BlobStore::open_bundle`] gives, for
/// a caller to look into before [`BlobStore::commit_bundle`] adds it to a store.
pub struct Bundle {
    pub(crate) summary: BundleSummary,
    /// The blobs, by strictly increasing name.
    pub(crate) blobs: Vec<(Hash, Vec<u8>)>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle").field("summary", &self.summary).finish()
    }
}

impl Bundle {
    /// Its refs (each target among its blobs), how many blobs and how many bytes.
    pub fn summary(&self) -> &BundleSummary {
        &self.summary
    }

    /// Every blob, by increasing name.
    pub fn blobs(&self) -> impl Iterator<Item = (&Hash, &[u8])> {
        self.blobs.iter().map(|(hash, bytes)| (hash, bytes.as_slice()))
    }

    /// The blob named `hash`, if the bundle holds it (its bytes hash to `hash`).
    pub fn get(&self, hash: &Hash) -> Option<&[u8]> {
        let at = self.blobs.binary_search_by(|(held, _)| held.cmp(hash)).ok()?;
        Some(&self.blobs[at].1)
    }
}

/// A reader that hashes and counts what it hands out.
struct Checked<'r> {
    inner: &'r mut dyn Read,
    hasher: blake3::Hasher,
    offset: u64,
}

fn bad(cause: String) -> StoreError {
    StoreError::BadBundle { cause }
}

impl Checked<'_> {
    /// Reads exactly `len` bytes (growing the buffer only as they arrive, so a forged length
    /// cannot make it allocate ahead of the data).
    fn take(&mut self, len: u64, what: &str) -> Result<Vec<u8>, StoreError> {
        let start = self.offset;
        let mut bytes = Vec::new();
        let got = (&mut *self.inner)
            .take(len)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("reading {what} at byte {start}: {e}")))?;
        if (got as u64) < len {
            return Err(bad(format!(
                "the bundle ends at byte {} in the middle of {what} (which starts at byte {start})",
                start + got as u64
            )));
        }
        self.hasher.update(&bytes);
        self.offset += len;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], StoreError> {
        let bytes = self.take(N as u64, what)?;
        <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| bad(format!("short read of {what}")))
    }

    fn u32(&mut self, what: &str) -> Result<u32, StoreError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, StoreError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
}

/// Reads and checks a whole bundle; nothing is trusted until the checksum at its end matches.
pub(crate) fn read(reader: &mut dyn Read) -> Result<Bundle, StoreError> {
    let mut input = Checked { inner: reader, hasher: blake3::Hasher::new(), offset: 0 };
    let magic: [u8; 8] = input.array("the magic")?;
    if &magic != BUNDLE_MAGIC {
        return Err(bad(format!("not a Chenilles bundle (magic {magic:02x?}, expected {BUNDLE_MAGIC:02x?})")));
    }
    let version = input.u32("the version")?;
    if version != BUNDLE_VERSION {
        return Err(bad(format!(
            "bundle format version {version} is not supported (this build reads {BUNDLE_VERSION})"
        )));
    }
    let ref_count = input.u32("the ref count")?;
    let mut refs = Vec::new();
    let mut names = HashSet::new();
    for i in 0..ref_count {
        let at = input.offset;
        let len = input.u32("a ref name's length")?;
        if len > MAX_NAME_LEN {
            return Err(bad(format!("ref {i} at byte {at} has a {len}-byte name; the limit is {MAX_NAME_LEN}")));
        }
        let name = String::from_utf8(input.take(u64::from(len), "a ref name")?)
            .map_err(|_| bad(format!("ref {i} at byte {at} has a name that is not UTF-8")))?;
        let target = Hash(input.array("a ref target")?);
        if !names.insert(name.clone()) {
            return Err(bad(format!("ref {name:?} appears twice")));
        }
        refs.push((name, target));
    }
    let blob_count = input.u64("the blob count")?;
    let mut blobs = Vec::new();
    let mut hashes = HashSet::new();
    let mut previous: Option<Hash> = None;
    for _ in 0..blob_count {
        let at = input.offset;
        let hash = Hash(input.array("a blob's hash")?);
        if previous.is_some_and(|p| p >= hash) {
            return Err(bad(format!("blob {hash} at byte {at} is out of order (blobs are sorted by hash, once each)")));
        }
        previous = Some(hash);
        let len = input.u64("a blob's length")?;
        if len > MAX_BLOB_LEN {
            return Err(bad(format!("blob {hash} at byte {at} claims {len} bytes; the limit is {MAX_BLOB_LEN}")));
        }
        let bytes = input.take(len, "a blob's bytes")?;
        if Hash::of(&bytes) != hash {
            return Err(bad(format!("blob at byte {at} does not hash to its recorded name {hash}")));
        }
        hashes.insert(hash);
        blobs.push((hash, bytes));
    }
    let expected = *input.hasher.finalize().as_bytes();
    let at = input.offset;
    let found: [u8; 32] = input.array("the checksum")?;
    if found != expected {
        return Err(bad(format!("the checksum at byte {at} does not match the bundle's contents")));
    }
    let mut extra = [0u8; 1];
    loop {
        match input.inner.read(&mut extra) {
            Ok(0) => break,
            Ok(_) => {
                return Err(bad(format!("bytes follow the checksum at byte {}", at + 32)));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(bad(format!("reading past the checksum: {e}"))),
        }
    }
    for (name, target) in &refs {
        if !hashes.contains(target) {
            return Err(bad(format!("ref {name:?} points at blob {target}, which the bundle does not hold")));
        }
    }
    Ok(Bundle { summary: BundleSummary { refs, blobs: blobs.len() as u64, bytes: at + 32, sealed: false }, blobs })
}

/// Reads a bundle, plain or sealed (an age file, binary or armored, opened with the first of
/// `files`' identities or of `keys` that it was sealed to), and checks it whole.
pub(crate) fn read_any(
    reader: &mut dyn Read,
    files: &[&Identities],
    keys: &[age::x25519::Identity],
) -> Result<Bundle, StoreError> {
    let mut prefix = Vec::new();
    (&mut *reader)
        .take(BUNDLE_MAGIC.len() as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| bad(format!("reading the magic: {e}")))?;
    let mut whole = prefix.as_slice().chain(reader);
    if sealed::looks_sealed(&prefix) { sealed::read(&mut whole, files, keys) } else { read(&mut whole) }
}

/// Commits a checked bundle into `store` in one batch: every blob, and each ref the store does
/// not have; a ref the store has at another target refuses the whole import.
pub(crate) fn commit<S: BlobStore + ?Sized>(store: &mut S, bundle: Bundle) -> Result<BundleSummary, StoreError> {
    let mut batch = Batch::default();
    for (name, target) in &bundle.summary.refs {
        match store.get_ref(name)? {
            Some(current) if current == *target => {}
            Some(current) => {
                return Err(StoreError::RefConflict { name: name.clone(), expected: None, actual: Some(current) });
            }
            None => batch.set_ref(name, None, *target),
        }
    }
    for (_, blob) in bundle.blobs {
        batch.put(blob);
    }
    store.commit(batch)?;
    Ok(bundle.summary)
}
