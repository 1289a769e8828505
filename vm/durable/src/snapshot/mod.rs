//! Snapshots: the whole state of a process as a Merkle tree of content-addressed blobs, written
//! incrementally and read back into an identical process.
//!
//! A snapshot's root names, by hash:
//! - the heap, as a [`MerkleList`] of pages of [`OBJECTS_PER_PAGE`] objects (free slots included,
//!   so object ids and the free list survive);
//! - the value stack and the frames, the globals and their names, and the symbol table, as
//!   Merkle lists of chunks;
//! - every loaded code image (stored under its own hash, verified again when restored) with its
//!   constants and the global slots it links to;
//! - the runtime's own values: the console ports, the command line, the limits, the step count.
//!
//! The dynamic state (winders, handlers, parameterizations) lives in Scheme globals and the heap,
//! so it is part of the snapshot without special cases. A [`Snapshotter`] remembers the hashes it
//! wrote last; the next capture writes only the heap pages the write barrier marked dirty, the
//! chunks whose bytes changed, and the inner nodes above them. The format is in `spec/snapshot.md`.

pub mod blob;
pub mod stored;
pub mod tree;

use chenilles_compiler::bytecode::{Image, verify};
use chenilles_store::{Batch, BlobStore, Hash, HashedBlob, StoreError};
use rkyv::{Archive, Deserialize, Serialize};

use blob::Kind;
use chenilles_machine::heap::Heap;
use chenilles_machine::heap::{Frame, HeapCounters, OBJECTS_PER_PAGE};
use chenilles_machine::interp::{LoadedImage, Vm};
use chenilles_machine::ports::FileAccess;
use chenilles_machine::runtime::Limits;
use chenilles_machine::state::{ConsolePorts, HeapBuilder, ImageParts, StateError, StateParts, StateView};
use chenilles_machine::symbols::Symbols;
use chenilles_machine::value::Value;
use stored::StoredObject;
pub use tree::MerkleList;

/// The version of the snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 2;
/// Values per chunk of the stack, the globals and the constants (4000 bytes).
const WORDS_PER_CHUNK: usize = 500;
/// Frames per chunk of the frame stack.
const FRAMES_PER_CHUNK: usize = 330;
/// Symbols per chunk of the symbol table.
const SYMBOLS_PER_CHUNK: usize = 256;

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A blob the snapshot names is not in the store.
    #[error("snapshot blob {0} is missing from the store")]
    Missing(Hash),
    /// A blob does not decode as what it should be.
    #[error("snapshot blob {blob} is malformed: {what}")]
    Malformed {
        /// The blob.
        blob: Hash,
        /// What is wrong with it.
        what: String,
    },
    /// A blob has a format version this build does not read.
    #[error("snapshot blob {blob} has format version {found}; this build reads version {expected}")]
    UnsupportedVersion {
        /// The blob.
        blob: Hash,
        /// Its version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The snapshot was made by a build whose table of native procedures differs from this one's.
    #[error(
        "the snapshot was made by a VM with other native procedures (a different build); it cannot be resumed by this one"
    )]
    OtherNatives,
    /// A code image of the snapshot does not load (or fails verification).
    #[error("code image {hash} of the snapshot does not load: {error}")]
    Image {
        /// The image.
        hash: Hash,
        /// Why it does not load.
        error: String,
    },
    /// A heap object of the snapshot cannot be rebuilt.
    #[error("object {id} of the snapshot cannot be restored: {what}")]
    BadObject {
        /// The object's id.
        id: u32,
        /// Why.
        what: String,
    },
    /// A stored value points at an object, symbol or native that the snapshot does not have.
    #[error("the snapshot's {what} refers to something that does not exist ({value:?})")]
    Dangling {
        /// Where the value is.
        what: String,
        /// The value.
        value: Value,
    },
    /// An open file port's position could not be read.
    #[error("a file port could not be saved: {0}")]
    FilePort(std::io::Error),
    /// An image was loaded without keeping its bytes, so it cannot be stored.
    #[error("image {0} of the process was loaded without its bytes, so it cannot be stored")]
    ImageBytesLost(u32),
}

/// A Merkle list's root and how many items it holds.
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct ListRef {
    pub root: [u8; 32],
    pub items: u64,
}

/// A loaded image: its hash, its constants (values), and the global slot of each of its globals.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StoredImage {
    pub hash: [u8; 32],
    pub constants: ListRef,
    pub globals: ListRef,
}

/// The payload of a snapshot root blob.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SnapshotRoot {
    pub version: u32,
    /// The hash of the native procedure table (names and arities, in order).
    pub natives: [u8; 32],
    pub heap: ListRef,
    pub arena_len: u64,
    pub live_objects: u64,
    pub allocated: u64,
    pub live_bytes: u64,
    pub collections: u64,
    pub symbols: ListRef,
    pub globals: ListRef,
    pub global_names: ListRef,
    pub stack: ListRef,
    pub frames: ListRef,
    pub images: Vec<StoredImage>,
    pub boot: Vec<u32>,
    pub stdout_port: u64,
    pub stderr_port: u64,
    pub stdin_port: Option<u64>,
    pub command_line: Vec<String>,
    pub max_steps: Option<u64>,
    pub max_heap: Option<u64>,
    pub max_depth: Option<u64>,
    pub steps: u64,
    pub peak_frames: u64,
}

impl SnapshotRoot {
    fn children(&self) -> Vec<Hash> {
        let lists = [self.heap, self.symbols, self.globals, self.global_names, self.stack, self.frames];
        let mut children: Vec<Hash> = lists.iter().map(|l| Hash(l.root)).collect();
        for image in &self.images {
            children.extend([Hash(image.hash), Hash(image.constants.root), Hash(image.globals.root)]);
        }
        children
    }
}

/// What one capture wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Heap pages serialized (the dirty ones).
    pub pages_written: usize,
    /// Heap pages in the snapshot.
    pub pages: usize,
}

/// The hashes of the last snapshot written or read, so that the next capture writes only what
/// changed.
#[derive(Default)]
pub struct Snapshotter {
    heap: MerkleList,
    symbols: MerkleList,
    /// How many symbols `symbols` holds: chunks that were full then cannot have changed.
    symbols_written: usize,
    globals: MerkleList,
    global_names: MerkleList,
    stack: MerkleList,
    frames: MerkleList,
    images: Vec<StoredImage>,
    /// The chunk lists of the large objects last written, by object id.
    large: std::collections::HashMap<u32, MerkleList>,
    /// The hash of a full page of free slots, and how many pages of the last snapshot are that page
    /// (while there is one, the store holds it).
    free_page: Option<Hash>,
    free_pages: usize,
    /// Whether every heap page must be written (nothing was captured or read yet).
    all_pages_dirty: bool,
}

/// The leaves of a list of words, putting those that changed. The first `clean` words are known
/// unchanged since `old` was written: their chunks are not serialized again.
fn word_chunks(words: impl Iterator<Item = u64>, batch: &mut Batch, old: &[Hash], clean: usize) -> Vec<Hash> {
    let words: Vec<u64> = words.collect();
    words
        .chunks(WORDS_PER_CHUNK)
        .enumerate()
        .map(|(i, chunk)| match old.get(i) {
            Some(hash) if (i + 1) * WORDS_PER_CHUNK <= clean => *hash,
            old => {
                let payload: Vec<u8> = chunk.iter().flat_map(|w| w.to_le_bytes()).collect();
                leaf(batch, old, &payload)
            }
        })
        .collect()
}

/// Updates `list` to hold `values` in chunks, writing the chunks not wholly below index `clean`
/// (unchanged since `list` was last updated) to `batch`; returns the list.
fn capture_values(list: &mut MerkleList, values: &[Value], clean: usize, batch: &mut Batch) -> ListRef {
    capture_words(list, values.iter().map(|v| v.bits()), clean, batch)
}

/// [`capture_values`] for any words.
fn capture_words(
    list: &mut MerkleList,
    words: impl ExactSizeIterator<Item = u64>,
    clean: usize,
    batch: &mut Batch,
) -> ListRef {
    let len = words.len();
    let old = list.leaves().to_vec();
    let leaves = word_chunks(words, batch, &old, clean);
    list_ref(list.update(leaves, batch), len)
}

/// The hash of a heap page of free slots only.
fn free_page_hash() -> Hash {
    let free: Vec<StoredObject> = (0..OBJECTS_PER_PAGE).map(|_| StoredObject::Free).collect();
    Hash::of(&blob::encode(Kind::Leaf, &[], &to_rkyv(&free)))
}

/// Puts a leaf unless it is the one already stored at this position.
fn leaf(batch: &mut Batch, old: Option<&Hash>, payload: &[u8]) -> Hash {
    let blob = HashedBlob::new(blob::encode(Kind::Leaf, &[], payload));
    let hash = blob.hash();
    if old != Some(&hash) {
        batch.put_hashed(blob);
    }
    hash
}

fn list_ref(root: Hash, items: usize) -> ListRef {
    ListRef { root: root.0, items: items as u64 }
}

/// The rkyv bytes of a stored value (a page, a root, a record, a journal segment, a mailbox).
pub(crate) fn to_rkyv<T>(value: &T) -> Vec<u8>
where
    T: for<'a> rkyv::Serialize<
            rkyv::api::high::HighSerializer<
                rkyv::util::AlignedVec,
                rkyv::ser::allocator::ArenaHandle<'a>,
                rkyv::rancor::Error,
            >,
        >,
{
    match rkyv::to_bytes::<rkyv::rancor::Error>(value) {
        Ok(bytes) => bytes.to_vec(),
        // Serializing into memory fails only when memory does.
        Err(error) => panic!("serializing a stored value failed: {error}"),
    }
}

impl Snapshotter {
    /// A snapshotter that has written nothing yet: its first capture writes every page.
    pub fn new() -> Snapshotter {
        Snapshotter { all_pages_dirty: true, ..Snapshotter::default() }
    }

    /// Whether the next capture writes every heap page (nothing was captured or read yet).
    pub fn writes_every_page(&self) -> bool {
        self.all_pages_dirty
    }

    /// A snapshotter that serializes everything again, except the code images (already stored):
    /// for checking that a restored process serializes to the root it was restored from.
    pub fn forgetful_copy(&self) -> Snapshotter {
        Snapshotter { images: self.images.clone(), ..Snapshotter::new() }
    }

    /// Forgets the chunk lists of large objects that no longer exist (after a collection freed
    /// them, their pages are rewritten and the entries removed; this also drops ids past the end).
    fn forget_large_beyond(&mut self, arena_len: usize) {
        self.large.retain(|id, _| (*id as usize) < arena_len);
    }

    /// Adds to `batch` every blob of `vm`'s state that the store does not have from the previous
    /// capture, and returns the new root's hash. The caller commits the batch; if the commit
    /// fails, this snapshotter must not be used again (its memory of what is stored is wrong).
    pub fn capture(&mut self, vm: &mut Vm, batch: &mut Batch) -> Result<(Hash, CaptureStats), SnapshotError> {
        let mut stats = CaptureStats::default();
        let state = StateView::of(vm);
        // Work charged but not yet counted is not part of the state: a process restored from this
        // snapshot has none, so the one that goes on from here drops it too (at a yield there is
        // none; before the first slice, loading the program's images has charged some).
        state.heap.take_work();
        let heap_root = self.capture_heap(state.heap, batch, &mut stats)?;
        let symbols = self.capture_symbols(state.symbols, batch);
        let globals = capture_values(&mut self.globals, state.globals, 0, batch);
        let global_names = capture_values(&mut self.global_names, state.global_names, 0, batch);
        // The stacks: chunks wholly below the interpreter's clean marks are as last written.
        let stack = capture_values(&mut self.stack, state.stack, state.clean_stack, batch);
        let frames = self.capture_frames(state.frames, state.clean_frames, batch);
        self.capture_images(state.images, batch)?;
        let counters = state.heap.counters();
        let root = SnapshotRoot {
            version: SNAPSHOT_VERSION,
            natives: chenilles_machine::natives_fingerprint(),
            heap: heap_root,
            arena_len: state.heap.arena_len() as u64,
            live_objects: counters.live_objects as u64,
            allocated: counters.allocated as u64,
            live_bytes: counters.live_bytes as u64,
            collections: counters.collections,
            symbols,
            globals,
            global_names,
            stack,
            frames,
            images: self.images.clone(),
            boot: state.boot.iter().copied().collect(),
            stdout_port: state.ports.stdout.bits(),
            stderr_port: state.ports.stderr.bits(),
            stdin_port: state.ports.stdin.map(Value::bits),
            command_line: state.command_line.to_vec(),
            max_steps: state.limits.max_steps,
            max_heap: state.limits.max_heap.map(|n| n as u64),
            max_depth: state.limits.max_depth.map(|n| n as u64),
            steps: state.steps,
            peak_frames: state.peak_frames as u64,
        };
        vm.mark_stacks_clean();
        let hash = blob::put(batch, Kind::Root, &root.children(), &to_rkyv(&root));
        Ok((hash, stats))
    }

    /// Adds the heap's dirty pages (and the chunk lists of large objects on them) to `batch`;
    /// returns the heap's list, with the pages counted in `stats`. Clears the dirty marks.
    fn capture_heap(
        &mut self,
        heap: &mut Heap,
        batch: &mut Batch,
        stats: &mut CaptureStats,
    ) -> Result<ListRef, SnapshotError> {
        // Only dirty pages are serialized.
        let old_leaves = self.heap.leaves().to_vec();
        let mut leaves = Vec::with_capacity(heap.page_count());
        // Pages past the new end of the arena leave the snapshot.
        if let Some(free_page) = self.free_page {
            let dropped = old_leaves.iter().skip(heap.page_count()).filter(|h| **h == free_page).count();
            self.free_pages -= dropped;
        }
        // The last committed snapshot holds a page of free slots: the store has it.
        let mut free_page_stored = self.free_pages > 0;
        for page in 0..heap.page_count() {
            match old_leaves.get(page) {
                // The last page is always written again: it is short, and its length may
                // have changed without any of its objects changing.
                Some(hash) if !self.all_pages_dirty && !heap.page_is_dirty(page) && page + 1 < heap.page_count() => {
                    leaves.push(*hash)
                }
                old => {
                    let mut stored = Vec::with_capacity(OBJECTS_PER_PAGE);
                    let mut children = Vec::new();
                    for (slot, object) in heap.page_mut(page).iter_mut().enumerate() {
                        let id = (page * OBJECTS_PER_PAGE + slot) as u32;
                        match stored::chunks_of(object) {
                            Some((kind, chunks, len)) => {
                                let list = self.large.entry(id).or_default();
                                let chunk_leaves: Vec<Hash> = chunks
                                    .iter()
                                    .enumerate()
                                    .map(|(i, chunk)| leaf(batch, list.leaves().get(i), chunk))
                                    .collect();
                                let root = list.update(chunk_leaves, batch);
                                children.push(root);
                                stored.push(StoredObject::Chunked { kind, list: list_ref(root, len) });
                            }
                            None => {
                                self.large.remove(&id);
                                stored.push(stored::store_object(object).map_err(SnapshotError::FilePort)?);
                            }
                        }
                    }
                    let page = HashedBlob::new(blob::encode(Kind::Leaf, &children, &to_rkyv(&stored)));
                    let hash = page.hash();
                    // A page equal to the one stored at this position, or a page of free slots
                    // (stored once), is not written again.
                    let free_page = *self.free_page.get_or_insert_with(free_page_hash);
                    let stored_already = old == Some(&hash) || (hash == free_page && free_page_stored);
                    if old == Some(&free_page) {
                        self.free_pages -= 1;
                    }
                    if hash == free_page {
                        self.free_pages += 1;
                        free_page_stored = true;
                    }
                    if !stored_already {
                        batch.put_hashed(page);
                    }
                    leaves.push(hash);
                    stats.pages_written += 1;
                }
            }
        }
        stats.pages = leaves.len();
        let arena_len = heap.arena_len();
        self.forget_large_beyond(arena_len);
        heap.clear_dirty();
        self.all_pages_dirty = false;
        Ok(list_ref(self.heap.update(leaves, batch), heap.page_count()))
    }

    /// Adds the symbol table's new chunks to `batch`; returns its list. Symbols only grow: a chunk
    /// that was full when last written never changes; the rest (the last chunk written, if it was
    /// partly full, and new ones) are written again.
    fn capture_symbols(&mut self, table: &Symbols, batch: &mut Batch) -> ListRef {
        let old = self.symbols.leaves();
        let unchanged = (self.symbols_written / SYMBOLS_PER_CHUNK).min(old.len());
        let mut symbol_leaves: Vec<Hash> = old[..unchanged].to_vec();
        let names: Vec<&str> = table.names_from(unchanged * SYMBOLS_PER_CHUNK).collect();
        for (i, chunk) in names.chunks(SYMBOLS_PER_CHUNK).enumerate() {
            let chunk: Vec<String> = chunk.iter().map(|s| s.to_string()).collect();
            symbol_leaves.push(leaf(batch, old.get(unchanged + i), &to_rkyv(&chunk)));
        }
        self.symbols_written = table.len();
        list_ref(self.symbols.update(symbol_leaves, batch), table.len())
    }

    /// Adds the frame stack's changed chunks to `batch`; returns its list. Chunks wholly below
    /// the interpreter's clean mark are as last written.
    fn capture_frames(&mut self, frames: &[Frame], clean_frames: usize, batch: &mut Batch) -> ListRef {
        let old = self.frames.leaves().to_vec();
        let frame_leaves: Vec<Hash> = frames
            .chunks(FRAMES_PER_CHUNK)
            .enumerate()
            .map(|(i, chunk)| match old.get(i) {
                Some(hash) if (i + 1) * FRAMES_PER_CHUNK <= clean_frames => *hash,
                old => {
                    let payload: Vec<u8> =
                        chunk.iter().flat_map(|f| [f.function, f.pc, f.base]).flat_map(u32::to_le_bytes).collect();
                    leaf(batch, old, &payload)
                }
            })
            .collect();
        list_ref(self.frames.update(frame_leaves, batch), frames.len())
    }

    /// Adds to `batch` the images loaded since the last capture (images are immutable once loaded:
    /// each is stored once).
    fn capture_images(&mut self, images: &[LoadedImage], batch: &mut Batch) -> Result<(), SnapshotError> {
        for (index, image) in images.iter().enumerate().skip(self.images.len()) {
            let bytes = image.bytes.clone().ok_or(SnapshotError::ImageBytesLost(index as u32))?;
            let hash = batch.put(bytes);
            let constants = capture_values(&mut MerkleList::default(), &image.constants, 0, batch);
            let globals =
                capture_words(&mut MerkleList::default(), image.globals.iter().map(|g| u64::from(*g)), 0, batch);
            self.images.push(StoredImage { hash: hash.0, constants, globals });
        }
        Ok(())
    }
}

/// Reads blob `hash`, which must be there.
pub(crate) fn fetch(store: &dyn BlobStore, hash: &Hash) -> Result<Vec<u8>, SnapshotError> {
    store.get(hash)?.ok_or(SnapshotError::Missing(*hash))
}

/// Reads back a value that [`to_rkyv`] wrote, checking it first; `blob` names it in the error.
pub(crate) fn from_rkyv<T>(blob: &Hash, payload: &[u8]) -> Result<T, SnapshotError>
where
    T: rkyv::Archive,
    T::Archived: for<'a> rkyv::bytecheck::CheckBytes<rkyv::api::high::HighValidator<'a, rkyv::rancor::BoxedError>>
        + rkyv::Deserialize<T, rkyv::api::high::HighDeserializer<rkyv::rancor::BoxedError>>,
{
    let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(payload.len());
    aligned.extend_from_slice(payload);
    rkyv::from_bytes::<T, rkyv::rancor::BoxedError>(&aligned)
        .map_err(|error| SnapshotError::Malformed { blob: *blob, what: error.to_string() })
}

/// Checks a value that [`to_rkyv`] wrote and gives access to it in place, without deserializing
/// it; `blob` names it in the error. The payload is copied into `buffer` (reused from one call to
/// the next) for alignment.
fn access_rkyv<'b, T>(
    blob: &Hash,
    payload: &[u8],
    buffer: &'b mut rkyv::util::AlignedVec<16>,
) -> Result<&'b T, SnapshotError>
where
    T: rkyv::Portable
        + for<'a> rkyv::bytecheck::CheckBytes<rkyv::api::high::HighValidator<'a, rkyv::rancor::BoxedError>>,
{
    buffer.clear();
    buffer.extend_from_slice(payload);
    rkyv::access::<T, rkyv::rancor::BoxedError>(buffer)
        .map_err(|error| SnapshotError::Malformed { blob: *blob, what: error.to_string() })
}

/// A leaf's hash and payload.
type Leaf = (Hash, Vec<u8>);

/// Reads the leaves of `tree` in order, each checked to be a leaf (referring to other blobs only
/// if `children_allowed`), and gives `visit` each one's hash and payload as it is read.
///
/// A long list's blobs are read on a second thread, in runs of [`LEAVES_PER_RUN`], up to
/// [`RUNS_AHEAD`] runs ahead of `visit`: reading a blob (redb, the re-hash, and an encrypted
/// store's decryption) and building objects from it each take a good share of a restore, and
/// overlap where a second core is free. (Runs, not single blobs: a thread woken per blob would
/// spend more on waking than it saves.)
fn for_each_leaf(
    store: &dyn BlobStore,
    tree: &MerkleList,
    children_allowed: bool,
    mut visit: impl FnMut(&Hash, &[u8]) -> Result<(), SnapshotError>,
) -> Result<(), SnapshotError> {
    let mut visit_leaf = |hash: &Hash, bytes: Vec<u8>| {
        let decoded = blob::decode(hash, &bytes)?;
        if decoded.kind != Kind::Leaf || (!children_allowed && !decoded.children.is_empty()) {
            return Err(SnapshotError::Malformed { blob: *hash, what: "not a leaf".into() });
        }
        visit(hash, decoded.payload)
    };
    let leaves = tree.leaves();
    if leaves.len() < 2 * LEAVES_PER_RUN || !second_core() {
        return leaves.iter().try_for_each(|hash| visit_leaf(hash, fetch(store, hash)?));
    }
    std::thread::scope(|scope| {
        let (ahead, read) = std::sync::mpsc::sync_channel::<Vec<Result<Vec<u8>, SnapshotError>>>(RUNS_AHEAD);
        scope.spawn(move || {
            for run in leaves.chunks(LEAVES_PER_RUN) {
                let mut blobs = Vec::with_capacity(run.len());
                for hash in run {
                    let blob = fetch(store, hash);
                    let failed = blob.is_err();
                    blobs.push(blob);
                    if failed {
                        let _ = ahead.send(blobs);
                        return;
                    }
                }
                // The receiver is gone once a visit failed: nothing more to read.
                if ahead.send(blobs).is_err() {
                    return;
                }
            }
        });
        for (hash, blob) in leaves.iter().zip(read.into_iter().flatten()) {
            visit_leaf(hash, blob?)?;
        }
        Ok(())
    })
}

/// Blobs read together by the reading thread (heap pages of a few KB each).
const LEAVES_PER_RUN: usize = 32;

/// How many runs the reading thread may hold ahead of the visits.
const RUNS_AHEAD: usize = 2;

/// Whether this process may run on more than one core (asked once).
fn second_core() -> bool {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// The payloads of a Merkle list's leaves, in order.
fn read_leaves(store: &dyn BlobStore, list: &ListRef) -> Result<(MerkleList, Vec<Leaf>), SnapshotError> {
    read_leaves_of(store, list, false)
}

/// [`read_leaves`], where leaves may refer to other blobs if `children_allowed` (heap pages).
fn read_leaves_of(
    store: &dyn BlobStore,
    list: &ListRef,
    children_allowed: bool,
) -> Result<(MerkleList, Vec<Leaf>), SnapshotError> {
    let tree = MerkleList::read(store, Hash(list.root))?;
    let mut payloads = Vec::with_capacity(tree.leaves().len());
    for_each_leaf(store, &tree, children_allowed, |hash, payload| {
        payloads.push((*hash, payload.to_vec()));
        Ok(())
    })?;
    Ok((tree, payloads))
}

fn read_words(store: &dyn BlobStore, list: &ListRef) -> Result<(MerkleList, Vec<u64>), SnapshotError> {
    let (tree, leaves) = read_leaves(store, list)?;
    let mut words = Vec::new();
    for (hash, payload) in leaves {
        if payload.len() % 8 != 0 || payload.len() > WORDS_PER_CHUNK * 8 {
            return Err(SnapshotError::Malformed { blob: hash, what: "a chunk of words of a wrong length".into() });
        }
        words.extend(
            payload.chunks_exact(8).map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
        );
    }
    if words.len() as u64 != list.items {
        return Err(SnapshotError::Malformed {
            blob: Hash(list.root),
            what: "the list does not hold its count of words".into(),
        });
    }
    Ok((tree, words))
}

/// Rebuilds the process whose snapshot root is `root`, to run it on. Its output goes to `out` and
/// `err`; the files it was writing are reopened, checked to hold exactly what it wrote, and cut
/// back to what the checkpoint recorded. Every blob is re-hashed as it is read, every image
/// verified again, and every value checked against the tables it indexes, so a damaged snapshot
/// is an error, never a process that misbehaves.
pub fn restore(
    store: &dyn BlobStore,
    root_hash: Hash,
    out: Box<dyn std::io::Write + Send>,
    err: Box<dyn std::io::Write + Send>,
) -> Result<(Vm, Snapshotter), SnapshotError> {
    restore_with(store, root_hash, out, err, FileAccess::Reopen)
}

/// Rebuilds the process whose snapshot root is `root` to look at it or replay it, as [`restore`]
/// does but leaving every file alone: its file ports write nowhere. Its output goes to `out`, its
/// error output nowhere.
pub fn restore_detached(
    store: &dyn BlobStore,
    root_hash: Hash,
    out: Box<dyn std::io::Write + Send>,
) -> Result<(Vm, Snapshotter), SnapshotError> {
    restore_with(store, root_hash, out, Box::new(std::io::sink()), FileAccess::Detached)
}

fn restore_with(
    store: &dyn BlobStore,
    root_hash: Hash,
    out: Box<dyn std::io::Write + Send>,
    err: Box<dyn std::io::Write + Send>,
    files: FileAccess,
) -> Result<(Vm, Snapshotter), SnapshotError> {
    let root = read_root(store, root_hash)?;
    if root.version != SNAPSHOT_VERSION {
        return Err(SnapshotError::UnsupportedVersion {
            blob: root_hash,
            found: root.version,
            expected: SNAPSHOT_VERSION,
        });
    }
    if root.natives != chenilles_machine::natives_fingerprint() {
        return Err(SnapshotError::OtherNatives);
    }
    let root = &root;
    let mut snapshotter = Snapshotter::default();
    let symbols = snapshotter.restore_symbols(store, root_hash, root)?;
    let heap = snapshotter.restore_heap(store, root_hash, root, symbols.len(), files)?;
    let (tree, global_names) = read_values(store, &root.global_names)?;
    snapshotter.global_names = tree;
    let (tree, globals) = read_values(store, &root.globals)?;
    snapshotter.globals = tree;
    let images = read_images(store, &root.images)?;
    snapshotter.images = root.images.clone();
    let (tree, stack) = read_values(store, &root.stack)?;
    snapshotter.stack = tree;
    let (tree, frames) = read_frames(store, &root.frames)?;
    snapshotter.frames = tree;
    if frames.len() as u64 != root.frames.items {
        let what = "the frame stack does not hold its count of frames".to_string();
        return Err(SnapshotError::Malformed { blob: root_hash, what });
    }
    let parts = StateParts {
        symbols,
        heap,
        ports: ConsolePorts {
            stdout: Value::from_bits(root.stdout_port),
            stderr: Value::from_bits(root.stderr_port),
            stdin: root.stdin_port.map(Value::from_bits),
        },
        command_line: root.command_line.clone(),
        limits: Limits {
            max_steps: root.max_steps,
            max_heap: root.max_heap.map(|n| n as usize),
            max_depth: root.max_depth.map(|n| n as usize),
        },
        global_names,
        globals,
        images,
        stack,
        frames,
        boot: root.boot.clone(),
        steps: root.steps,
        peak_frames: root.peak_frames as usize,
    };
    // The machine checks that the parts fit: every value, link and frame.
    let vm = parts.into_vm(out, err).map_err(|e| state_error(root_hash, root, e))?;
    Ok((vm, snapshotter))
}

/// What the machine finds wrong with a snapshot's parts, in the snapshot's words.
fn state_error(root_hash: Hash, root: &SnapshotRoot, error: StateError) -> SnapshotError {
    let malformed = |what: String| SnapshotError::Malformed { blob: root_hash, what };
    match error {
        StateError::Dangling { what, value } => SnapshotError::Dangling { what, value },
        StateError::BadObject { id, what } => SnapshotError::BadObject { id, what },
        StateError::Image { index, what } => match root.images.get(index) {
            Some(image) => SnapshotError::Image { hash: Hash(image.hash), error: what },
            None => malformed(what),
        },
        StateError::Inconsistent(what) => malformed(what),
    }
}

impl Snapshotter {
    /// Reads the symbol table of snapshot `root`, remembering its list for the next capture.
    fn restore_symbols(
        &mut self,
        store: &dyn BlobStore,
        root_hash: Hash,
        root: &SnapshotRoot,
    ) -> Result<Symbols, SnapshotError> {
        let malformed = |what: &str| SnapshotError::Malformed { blob: root_hash, what: what.to_string() };
        let (tree, leaves) = read_leaves(store, &root.symbols)?;
        self.symbols = tree;
        let mut names = Vec::new();
        let chunks = leaves.len();
        for (i, (hash, payload)) in leaves.into_iter().enumerate() {
            let chunk = from_rkyv::<Vec<String>>(&hash, &payload)?;
            // Every chunk but the last is full: the next capture relies on it.
            if chunk.len() > SYMBOLS_PER_CHUNK || (chunk.len() < SYMBOLS_PER_CHUNK && i + 1 < chunks) {
                return Err(malformed("a chunk of the symbol table holds the wrong number of symbols"));
            }
            names.extend(chunk);
        }
        if names.len() as u64 != root.symbols.items {
            return Err(malformed("the symbol table does not hold its count of symbols"));
        }
        self.symbols_written = names.len();
        Symbols::from_names(names).ok_or_else(|| malformed("a symbol appears twice in the symbol table"))
    }

    /// Reads the heap of snapshot `root` (whose values may name `symbols` symbols), remembering its
    /// lists for the next capture. Each page is checked and read in place as it comes, and its
    /// objects built straight from it.
    fn restore_heap(
        &mut self,
        store: &dyn BlobStore,
        root_hash: Hash,
        root: &SnapshotRoot,
        symbols: usize,
        files: FileAccess,
    ) -> Result<Heap, SnapshotError> {
        let tree = MerkleList::read(store, Hash(root.heap.root))?;
        let free_page = free_page_hash();
        self.free_pages = tree.leaves().iter().filter(|h| **h == free_page).count();
        self.free_page = Some(free_page);
        let arena_len = usize::try_from(root.arena_len).unwrap_or(usize::MAX);
        // Each object's values are checked as it is built, while it is in the cache. (A wrong
        // `arena_len` is caught too: the heap must hold exactly that many objects.)
        let mut objects = HeapBuilder::new(arena_len, symbols, tree.leaves().len() * OBJECTS_PER_PAGE);
        let mut buffer = rkyv::util::AlignedVec::<16>::new();
        let mut page = 0;
        for_each_leaf(store, &tree, true, |hash, payload| {
            let stored =
                access_rkyv::<rkyv::vec::ArchivedVec<stored::ArchivedStoredObject>>(hash, payload, &mut buffer)?;
            let last_page = (page + 1) * OBJECTS_PER_PAGE >= arena_len;
            if stored.len() > OBJECTS_PER_PAGE || (stored.len() < OBJECTS_PER_PAGE && !last_page) {
                return Err(SnapshotError::Malformed { blob: *hash, what: "a heap page of the wrong size".into() });
            }
            page += 1;
            for object in stored.iter() {
                let id = objects.len() as u32;
                let object =
                    match stored::load_archived(object, files).map_err(|what| SnapshotError::BadObject { id, what })? {
                        stored::Loaded::Object(object) => object,
                        stored::Loaded::Chunked(kind, list) => {
                            let (tree, chunks) = read_leaves(store, &list)?;
                            self.large.insert(id, tree);
                            let len = usize::try_from(list.items).unwrap_or(usize::MAX);
                            let chunks = chunks.into_iter().map(|(_, payload)| payload).collect();
                            stored::from_chunks(kind, chunks, len).ok_or_else(|| SnapshotError::BadObject {
                                id,
                                what: "its chunks do not make an object of its length".into(),
                            })?
                        }
                    };
                objects.push(object).map_err(|e| state_error(root_hash, root, e))?;
            }
            Ok(())
        })?;
        self.heap = tree;
        objects
            .finish(HeapCounters {
                live_objects: root.live_objects as usize,
                allocated: root.allocated as usize,
                live_bytes: root.live_bytes as usize,
                collections: root.collections,
            })
            .map_err(|e| state_error(root_hash, root, e))
    }
}

/// Reads a list of values.
fn read_values(store: &dyn BlobStore, list: &ListRef) -> Result<(MerkleList, Vec<Value>), SnapshotError> {
    let (tree, words) = read_words(store, list)?;
    Ok((tree, words.into_iter().map(Value::from_bits).collect()))
}

/// Reads the loaded images: each image verified again, with its constants and global links.
fn read_images(store: &dyn BlobStore, stored_images: &[StoredImage]) -> Result<Vec<ImageParts>, SnapshotError> {
    let mut images = Vec::with_capacity(stored_images.len());
    for stored in stored_images {
        let hash = Hash(stored.hash);
        let image_bytes = fetch(store, &hash)?;
        let image_error = |error: String| SnapshotError::Image { hash, error };
        let image = Image::from_bytes(&image_bytes).map_err(|e| image_error(e.to_string()))?;
        let functions = verify(&image).map_err(|e| image_error(e.to_string()))?;
        let (_, constants) = read_words(store, &stored.constants)?;
        let (_, globals) = read_words(store, &stored.globals)?;
        let globals = globals.into_iter().map(|g| u32::try_from(g).unwrap_or(u32::MAX)).collect();
        let constants = constants.into_iter().map(Value::from_bits).collect();
        images.push(ImageParts { image, functions, constants, globals });
    }
    Ok(images)
}

/// Reads the frame stack (its count is the caller's to check).
fn read_frames(store: &dyn BlobStore, list: &ListRef) -> Result<(MerkleList, Vec<Frame>), SnapshotError> {
    let (tree, leaves) = read_leaves(store, list)?;
    let mut frames = Vec::new();
    for (hash, payload) in leaves {
        if payload.len() % 12 != 0 {
            return Err(SnapshotError::Malformed { blob: hash, what: "a chunk of frames of a wrong length".into() });
        }
        let word = |c: &[u8], i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
        frames.extend(payload.chunks_exact(12).map(|c| Frame {
            function: word(c, 0),
            pc: word(c, 4),
            base: word(c, 8),
        }));
    }
    Ok((tree, frames))
}

/// Reads the root payload of snapshot `hash` (for inspection).
pub fn read_root(store: &dyn BlobStore, hash: Hash) -> Result<SnapshotRoot, SnapshotError> {
    read_stored(store, &hash, Kind::Root, "a snapshot root")
}

/// Reads blob `hash`, which must be an envelope of `kind` (`what` names it in the error), and the
/// value its rkyv payload holds.
pub(crate) fn read_stored<T>(store: &dyn BlobStore, hash: &Hash, kind: Kind, what: &str) -> Result<T, SnapshotError>
where
    T: rkyv::Archive,
    T::Archived: for<'a> rkyv::bytecheck::CheckBytes<rkyv::api::high::HighValidator<'a, rkyv::rancor::BoxedError>>
        + rkyv::Deserialize<T, rkyv::api::high::HighDeserializer<rkyv::rancor::BoxedError>>,
{
    let bytes = fetch(store, hash)?;
    let decoded = blob::decode(hash, &bytes)?;
    if decoded.kind != kind {
        return Err(SnapshotError::Malformed { blob: *hash, what: format!("not {what}") });
    }
    from_rkyv(hash, decoded.payload)
}

/// Two stores read as one: blobs are looked for in `first`, then in `then` (for comparing a
/// snapshot serialized in memory with one committed to a store).
pub struct Overlay<'a> {
    pub first: &'a dyn BlobStore,
    pub then: &'a dyn BlobStore,
}

impl BlobStore for Overlay<'_> {
    fn get(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        match self.first.get(hash)? {
            Some(bytes) => Ok(Some(bytes)),
            None => self.then.get(hash),
        }
    }
    fn has(&self, hash: &Hash) -> Result<bool, StoreError> {
        Ok(self.first.has(hash)? || self.then.has(hash)?)
    }
    fn get_ref(&self, name: &str) -> Result<Option<Hash>, StoreError> {
        self.then.get_ref(name)
    }
    fn commit(&mut self, _: Batch) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly { path: "overlay".into() })
    }
    fn list_refs(&self) -> Result<Vec<(String, Hash)>, StoreError> {
        self.then.list_refs()
    }
    fn blob_hashes(&self) -> Result<std::collections::BTreeSet<Hash>, StoreError> {
        let mut all = self.first.blob_hashes()?;
        all.extend(self.then.blob_hashes()?);
        Ok(all)
    }
    fn verify(&self) -> Result<chenilles_store::VerifyReport, StoreError> {
        self.then.verify()
    }
    fn gc(&mut self, _: chenilles_store::RootsOf<'_>) -> Result<chenilles_store::GcReport, StoreError> {
        Err(StoreError::ReadOnly { path: "overlay".into() })
    }
}

/// Where snapshot `b`, serialized into `batch` but not committed, differs from snapshot `a` of
/// `store`, in words (or why the two could not be compared): the batch is put beside the store.
pub(crate) fn difference_from_uncommitted(store: &dyn BlobStore, batch: Batch, a: Hash, b: Hash) -> String {
    let mut overlay = chenilles_store::MemoryStore::default();
    overlay
        .commit(batch)
        .map_err(SnapshotError::from)
        .and_then(|()| first_difference(&Overlay { first: &overlay, then: store }, a, b))
        .unwrap_or_else(|e| format!("(the states could not be compared: {e})"))
}

/// Where two snapshots differ, in words: the first differing part of the root, and for the heap
/// the first differing object (its id and both stored forms).
pub fn first_difference(store: &dyn BlobStore, a: Hash, b: Hash) -> Result<String, SnapshotError> {
    if a == b {
        return Ok("the snapshots are equal".into());
    }
    let (ra, rb) = (read_root(store, a)?, read_root(store, b)?);
    if ra.heap != rb.heap {
        let (_, pages_a) = read_leaves_of(store, &ra.heap, true)?;
        let (_, pages_b) = read_leaves_of(store, &rb.heap, true)?;
        for (page, ((ha, pa), (hb, pb))) in pages_a.iter().zip(&pages_b).enumerate() {
            if ha == hb {
                continue;
            }
            let oa: Vec<StoredObject> = from_rkyv(ha, pa)?;
            let ob: Vec<StoredObject> = from_rkyv(hb, pb)?;
            for (slot, (x, y)) in oa.iter().zip(&ob).enumerate() {
                if x != y {
                    let id = page * OBJECTS_PER_PAGE + slot;
                    return Ok(format!("heap object {id} differs: {x:?} / {y:?}"));
                }
            }
            return Ok(format!("heap page {page} differs in length or in a large object's chunks"));
        }
        return Ok(format!("the heap differs in length: {} / {} objects", ra.arena_len, rb.arena_len));
    }
    let parts: [(&str, bool); 9] = [
        ("symbol table", ra.symbols != rb.symbols),
        ("globals", ra.globals != rb.globals),
        ("global names", ra.global_names != rb.global_names),
        ("value stack", ra.stack != rb.stack),
        ("frames", ra.frames != rb.frames),
        ("images", ra.images != rb.images),
        ("boot list", ra.boot != rb.boot),
        (
            "heap counters",
            (ra.live_objects, ra.allocated, ra.live_bytes) != (rb.live_objects, rb.allocated, rb.live_bytes),
        ),
        ("runtime fields", (ra.steps, &ra.command_line) != (rb.steps, &rb.command_line)),
    ];
    Ok(parts
        .iter()
        .find(|(_, differs)| *differs)
        .map_or("the roots differ in another field".into(), |(name, _)| format!("the {name} differ")))
}
