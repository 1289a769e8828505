//! The durable backend: a store in one redb file, plain or encrypted. `spec/store.md` describes
//! the file.
//!
//! redb appears only in this module, in `sealed.rs` (the tables of an encrypted store) and in
//! `staged.rs`; the rest of the crate and its users see
//! [`RedbStore`] and [`StoreError`], so that a change of redb's API (5.0 is announced) stays here.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{
    Builder, ConcurrencyMode, Database, Durability, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, TableHandle, WriteTransaction,
};

use crate::bundle::{Bundle, BundleKeys, BundleRefs};
use crate::keys::{self, Credential, KeySlot, NewSlot, SlotInfo, StoreKey, Unlock};
use crate::memory::apply_ref_update;
use crate::reach::{self, Fetched};
use crate::reading_file::{self, ReadingFile};
use crate::{Batch, BlobStore, BundleSummary, GcReport, Hash, RootsOf, StoreError, VerifyReport, bundle, staged};

/// The value of the meta table's `magic` entry: what says a redb file is a Chenilles store.
pub const MAGIC: &[u8] = b"chenilles-store";
/// The format of a plain store (the meta table's `format_version`), which this build reads and
/// writes. A store of a version other than this one and [`ENCRYPTED_FORMAT_VERSION`] is refused
/// with [`StoreError::UnsupportedVersion`].
pub const FORMAT_VERSION: u32 = 1;
/// The format of an encrypted store, which this build reads and writes too.
pub const ENCRYPTED_FORMAT_VERSION: u32 = 2;

const BLOBS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blobs");
const REFS: TableDefinition<&str, &[u8]> = TableDefinition::new("refs");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// An encrypted store's refs: keyed path pieces → sealed name and target.
const SEALED_REFS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("sealed_refs");
/// An encrypted store's key slots: slot number (u32 big-endian) → slot.
const KEY_SLOTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("key_slots");
const META_MAGIC: &str = "magic";
const META_VERSION: &str = "format_version";
const META_ENCRYPTION: &str = "encryption";
const META_STATE: &str = "state";
/// An unfinished `store rotate` copy's sealed progress record (see `rotation.rs`).
const META_ROTATION: &str = "rotation";
/// The meta entry of an encrypted store that holds its sealed bundle identities.
const META_BUNDLE_KEYS: &str = "bundle_keys";

mod replication;
mod rotation;
mod sealed;

pub(crate) use replication::{RestoredHeader, write_restored};

pub use rotation::{Rotation, RotationReport};

/// How a store file lays its tables out, as its meta table says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Format version 1: blobs and refs as they are.
    Plain,
    /// Format version 2: everything sealed under the keys of the store `store_id`.
    Encrypted { store_id: [u8; 16] },
}

/// What a new store file is made as.
#[derive(Clone, Copy)]
enum Init<'a> {
    Plain,
    /// Encrypted under `key`, unlocked by `slots`; with `rotation`, the file is `store rotate`'s
    /// unfinished copy, and this is its first progress record (see `rotation.rs`).
    Encrypted {
        slots: &'a [(u32, KeySlot)],
        key: &'a StoreKey,
        rotation: Option<&'a [u8]>,
        bundle_keys: &'a BundleKeys,
    },
}

/// How [`RedbStore::open_with`] opens a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// For writing, made (plain) if there is none: [`RedbStore::open`].
    OrCreate,
    /// For writing; it must exist: [`RedbStore::open_existing`].
    Existing,
    /// For writing, every page checked first: [`RedbStore::open_checked`].
    Checked,
    /// For reading, beside any writer: [`RedbStore::open_read_only`].
    ReadOnly,
}

/// What the clear header of a store file says, read without any key: [`RedbStore::header`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The store's format version: [`FORMAT_VERSION`] (plain) or [`ENCRYPTED_FORMAT_VERSION`].
    pub format_version: u32,
    /// An encrypted store's key slots (none for a plain store).
    pub slots: Vec<SlotInfo>,
}

impl Header {
    /// Whether the store is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.format_version == ENCRYPTED_FORMAT_VERSION
    }
}

enum Db {
    Writable(Database),
    ReadOnly(ReadOnlyDatabase),
}

/// A content-addressed store in one redb file: fsync-durable commits, refusals instead of
/// misreads. See the crate documentation for an example and `spec/store.md` for the format.
///
/// One process at a time may open a store for writing ([`RedbStore::open`]); any number may open
/// it read-only beside it ([`RedbStore::open_read_only`]) and see its commits.
pub struct RedbStore {
    path: PathBuf,
    /// The file the handle holds (`None` on a simulated disk).
    identity: Option<FileIdentity>,
    /// While `Some`, what redb writes is held back in memory (see `staged.rs`): a file opened
    /// without checking every page is first written by the first commit or gc.
    unpublished: std::sync::Mutex<Option<staged::Stage>>,
    db: Db,
    /// An encrypted store's keys (`None`: a plain store).
    sealed: Option<Arc<sealed::Sealed>>,
    /// Whether the store lists replicas, so that each commit is logged for them (see
    /// `replication.rs`).
    replicating: bool,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .field("read_only", &self.is_read_only())
            .field("encrypted", &self.sealed.is_some())
            .finish()
    }
}

/// Turns any redb error into a [`StoreError`] about `path`.
trait At<T> {
    fn at(self, path: &Path) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> At<T> for Result<T, E> {
    fn at(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|e| from_redb(path, e.into()))
    }
}

fn from_redb(path: &Path, err: redb::Error) -> StoreError {
    let path = path.to_path_buf();
    match err {
        redb::Error::Corrupted(cause) => StoreError::Corrupt { path, cause },
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => StoreError::Locked { path },
        redb::Error::RepairAborted => StoreError::NeedsRecovery { path },
        redb::Error::UpgradeRequired(version) => {
            StoreError::NotAStore { path, cause: format!("the file is in redb's old file format {version}") }
        }
        redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TableIsNotMultimap(_) => StoreError::NotAStore { path, cause: err.to_string() },
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            StoreError::NotAStore { path, cause: io.to_string() }
        }
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => StoreError::Corrupt {
            path,
            cause: format!("the file is shorter than its own structure says (truncated?): {io}"),
        },
        redb::Error::Io(io) => StoreError::Io { path, cause: io.to_string() },
        other => StoreError::Backend { path, cause: other.to_string() },
    }
}

fn io_error(path: &Path, err: &std::io::Error) -> StoreError {
    StoreError::Io { path: path.to_path_buf(), cause: err.to_string() }
}

thread_local! {
    /// How many [`refuse_panics`] calls this thread is inside.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether this thread is inside a store operation whose panics become errors: a program's panic
/// hook can stay silent for those (the error that follows says what happened).
pub fn in_guarded_operation() -> bool {
    GUARDED.with(|g| g.get() > 0)
}

/// Runs `f`, turning a panic inside redb into a refusal: a file damaged in a way redb's reads do
/// not check (an open trusts a cleanly closed file) must give an error, never a panic.
fn refuse_panics<T>(path: &Path, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    GUARDED.with(|g| g.set(g.get() + 1));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    match outcome {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                cause: format!("redb failed while reading the file: {message}"),
            })
        }
    }
}

/// The most times a read is redone because a stopped writer it passed over ran meanwhile.
const MOST_REDOS: u32 = 1000;

/// Runs the read `f` under [`refuse_panics`], again while a stopped writer it went past without
/// waiting (see `reading_file.rs`) ran before it ended: what it read may have changed under it.
/// Reads of a writable handle never go past a writer, so this costs them one check.
fn redo_if_disturbed<T>(path: &Path, f: impl Fn() -> Result<T, StoreError>) -> Result<T, StoreError> {
    for _ in 0..MOST_REDOS {
        reading_file::begin();
        let outcome = refuse_panics(path, &f);
        if !reading_file::disturbed() {
            return outcome;
        }
    }
    Err(StoreError::Backend {
        path: path.to_path_buf(),
        cause: format!(
            "a writer was stopped and continued {MOST_REDOS} times while this read went on beside it; try again"
        ),
    })
}

/// How much of the file an open checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// The header and the meta table; every page only if the file was not closed cleanly (redb's
    /// recovery verifies the checksums of every committed page before it trusts them). Costs what
    /// the open reads, not the file's size.
    Header,
    /// The checksum of every page of the committed trees, whatever the last shutdown: reads the
    /// whole file.
    EveryPage,
}

/// Opens the database on `backend`, checking the meta table (and, with [`Check::EveryPage`], every
/// page), and initializes it if it is empty.
///
/// Returns whether every page was checked (asked for, or done by the recovery of a file that was
/// not closed cleanly: redb calls its repair callback then), or the file was new: then what the open
/// wrote can reach the file at once.
fn open_database(
    path: &Path,
    backend: impl redb::StorageBackend,
    check: Check,
    init: Init<'_>,
) -> Result<(Database, bool, Layout), StoreError> {
    refuse_panics(path, || {
        let repaired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut builder = builder(check == Check::EveryPage);
        let noted = repaired.clone();
        builder.set_repair_callback(move |_| noted.store(true, std::sync::atomic::Ordering::Relaxed));
        let db = builder.create_with_backend(backend).at(path)?;
        let (fresh, layout) = {
            let txn = db.begin_read().at(path)?;
            let empty =
                txn.list_tables().at(path)?.next().is_none() && txn.list_multimap_tables().at(path)?.next().is_none();
            (empty, if empty { None } else { Some(check_meta(path, &txn)?) })
        };
        let layout = match layout {
            Some(layout) => layout,
            None => initialize(path, &db, init)?,
        };
        let whole = check == Check::EveryPage || fresh || repaired.load(std::sync::atomic::Ordering::Relaxed);
        Ok((db, whole, layout))
    })
}

fn builder(check_integrity: bool) -> Builder {
    let mut builder = Builder::new();
    // SingleWriter lets read-only handles in other processes follow the writer's commits (and
    // makes every commit two-phase, which we ask for anyway).
    builder.set_concurrency_mode(ConcurrencyMode::SingleWriter);
    builder.set_check_integrity_on_open(check_integrity);
    builder
}

fn blob_from(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    hash: &Hash,
    path: &Path,
) -> Result<Option<Vec<u8>>, StoreError> {
    match table.get(&hash.0[..]).at(path)? {
        None => Ok(None),
        Some(guard) => {
            let bytes = guard.value();
            if Hash::of(bytes) != *hash {
                return Err(StoreError::CorruptBlob { hash: *hash });
            }
            Ok(Some(bytes.to_vec()))
        }
    }
}

fn ref_value(name: &str, value: &[u8], path: &Path) -> Result<Hash, StoreError> {
    Hash::from_slice(value).ok_or_else(|| StoreError::Corrupt {
        path: path.to_path_buf(),
        cause: format!("ref {name:?} holds {} bytes, not a 32-byte hash", value.len()),
    })
}

/// The refs of a plain store's `table` whose names start with `prefix` (after `after`, if given),
/// sorted by name.
fn plain_refs_with_prefix(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
    after: Option<&str>,
    path: &Path,
) -> Result<Vec<(String, Hash)>, StoreError> {
    let start = crate::prefix_start(prefix, after);
    let mut refs = Vec::new();
    for entry in table.range::<&str>((start, std::ops::Bound::Unbounded)).at(path)? {
        let (name, value) = entry.at(path)?;
        let name = name.value();
        if !name.starts_with(prefix) {
            break;
        }
        refs.push((name.to_string(), ref_value(name, value.value(), path)?));
    }
    Ok(refs)
}

fn ref_from(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &str,
    path: &Path,
) -> Result<Option<Hash>, StoreError> {
    match table.get(name).at(path)? {
        None => Ok(None),
        Some(guard) => ref_value(name, guard.value(), path).map(Some),
    }
}

fn all_refs(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    path: &Path,
) -> Result<Vec<(String, Hash)>, StoreError> {
    let mut refs = Vec::new();
    for entry in table.iter().at(path)? {
        let (name, value) = entry.at(path)?;
        let name = name.value();
        refs.push((name.to_string(), ref_value(name, value.value(), path)?));
    }
    Ok(refs)
}

/// Checks that the file holds a store of a format this build reads (magic, version, tables), and
/// says which.
fn check_meta(path: &Path, txn: &ReadTransaction) -> Result<Layout, StoreError> {
    let not_a_store = |cause: String| StoreError::NotAStore { path: path.to_path_buf(), cause };
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            let tables: Vec<String> = txn.list_tables().at(path)?.map(|t| t.name().to_string()).collect();
            return Err(not_a_store(format!("a redb database without a meta table (its tables: {tables:?})")));
        }
        Err(e) => return Err(from_redb(path, e.into())),
    };
    match meta.get(META_MAGIC).at(path)? {
        Some(magic) if magic.value() == MAGIC => {}
        Some(magic) => {
            return Err(not_a_store(format!(
                "its magic is {:?}, not {:?}",
                String::from_utf8_lossy(magic.value()),
                String::from_utf8_lossy(MAGIC)
            )));
        }
        None => return Err(not_a_store("its meta table has no magic".to_string())),
    }
    let version = meta.get(META_VERSION).at(path)?.ok_or_else(|| StoreError::Corrupt {
        path: path.to_path_buf(),
        cause: "the meta table has no format_version".to_string(),
    })?;
    let found = <[u8; 4]>::try_from(version.value()).map(u32::from_le_bytes).map_err(|_| StoreError::Corrupt {
        path: path.to_path_buf(),
        cause: format!("format_version holds {} bytes, not a 4-byte integer", version.value().len()),
    })?;
    let layout = match found {
        FORMAT_VERSION => Layout::Plain,
        ENCRYPTED_FORMAT_VERSION => {
            let encryption = meta.get(META_ENCRYPTION).at(path)?.ok_or_else(|| StoreError::Corrupt {
                path: path.to_path_buf(),
                cause: "the meta table of this encrypted store has no encryption entry".to_string(),
            })?;
            Layout::Encrypted { store_id: sealed::store_id_of(path, encryption.value())? }
        }
        _ => {
            return Err(StoreError::UnsupportedVersion {
                path: path.to_path_buf(),
                found,
                expected: ENCRYPTED_FORMAT_VERSION,
            });
        }
    };
    let blobs = txn.open_table(BLOBS).map(drop);
    let tables = match layout {
        Layout::Plain => [(REFS.name(), txn.open_table(REFS).map(drop)), (BLOBS.name(), blobs)],
        Layout::Encrypted { .. } => [
            (SEALED_REFS.name(), txn.open_table(SEALED_REFS).map(drop)),
            (KEY_SLOTS.name(), txn.open_table(KEY_SLOTS).map(drop)),
        ],
    };
    for (name, opened) in tables {
        match opened {
            Ok(()) => {}
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    cause: format!("the {name} table is missing"),
                });
            }
            Err(e) => return Err(from_redb(path, e.into())),
        }
    }
    if matches!(layout, Layout::Encrypted { .. }) {
        match txn.open_table(BLOBS) {
            Ok(_) => {}
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    cause: format!("the {} table is missing", BLOBS.name()),
                });
            }
            Err(e) => return Err(from_redb(path, e.into())),
        }
    }
    Ok(layout)
}

/// Starts a write transaction that commits durably, in two phases.
fn begin_write(db: &Database, path: &Path) -> Result<WriteTransaction, StoreError> {
    let mut txn = db.begin_write().at(path)?;
    txn.set_durability(Durability::Immediate).at(path)?;
    txn.set_two_phase_commit(true);
    Ok(txn)
}

/// Commits `txn` if `work` succeeded and changed something, aborts it otherwise.
fn finish<T>(txn: WriteTransaction, path: &Path, work: Result<(T, bool), StoreError>) -> Result<T, StoreError> {
    match work {
        Ok((value, true)) => {
            txn.commit().at(path)?;
            Ok(value)
        }
        Ok((value, false)) => {
            txn.abort().at(path)?;
            Ok(value)
        }
        Err(e) => {
            // The error to report is `e`; a failure to abort adds nothing the caller can act on.
            let _ = txn.abort();
            Err(e)
        }
    }
}

/// Makes a new, empty store in `db`, which has no tables yet.
fn initialize(path: &Path, db: &Database, init: Init<'_>) -> Result<Layout, StoreError> {
    let txn = begin_write(db, path)?;
    let work = (|| {
        let mut meta = txn.open_table(META).at(path)?;
        meta.insert(META_MAGIC, MAGIC).at(path)?;
        match init {
            Init::Plain => {
                meta.insert(META_VERSION, &FORMAT_VERSION.to_le_bytes()[..]).at(path)?;
                drop(meta);
                txn.open_table(BLOBS).at(path)?;
                txn.open_table(REFS).at(path)?;
                Ok((Layout::Plain, true))
            }
            Init::Encrypted { slots, key, rotation, bundle_keys } => {
                meta.insert(META_VERSION, &ENCRYPTED_FORMAT_VERSION.to_le_bytes()[..]).at(path)?;
                drop(meta);
                sealed::initialize(path, &txn, slots, key, rotation, bundle_keys)?;
                Ok((Layout::Encrypted { store_id: key.store_id }, true))
            }
        }
    })();
    finish(txn, path, work)
}

/// Which file a store handle holds: the device and inode it was opened at. A handle compares it
/// with what its path names now, so that it never goes on writing into a file that was replaced
/// or deleted under it (an unlinked "ghost" nobody will ever open again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    fn of(metadata: &std::fs::Metadata) -> FileIdentity {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileIdentity { device: metadata.dev(), inode: metadata.ino() }
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            FileIdentity { device: 0, inode: 0 }
        }
    }

    /// The identity of the file `path` names now (`None`: nothing there).
    fn at(path: &Path) -> Option<FileIdentity> {
        std::fs::metadata(path).ok().map(|m| FileIdentity::of(&m))
    }
}

/// What `stat` says of a store file: the file, its length and its modification and change times.
/// Any commit writes the file, so a stamp that has not changed, taken once the file's times have
/// settled, says that nothing was committed, without opening the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    identity: FileIdentity,
    len: u64,
    modified: Option<std::time::SystemTime>,
    changed: (i64, i64),
}

impl FileStamp {
    fn at(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let changed = {
            use std::os::unix::fs::MetadataExt;
            (metadata.ctime(), metadata.ctime_nsec())
        };
        #[cfg(not(unix))]
        let changed = (0, 0);
        Some(FileStamp {
            identity: FileIdentity::of(&metadata),
            len: metadata.len(),
            modified: metadata.modified().ok(),
            changed,
        })
    }

    /// Whether the file was modified long enough ago that a write now would show in its times
    /// (file systems keep them at a coarse clock's granularity, a few milliseconds).
    fn settled(&self) -> bool {
        const SETTLED: std::time::Duration = std::time::Duration::from_secs(1);
        self.modified.and_then(|m| m.elapsed().ok()).is_some_and(|age| age >= SETTLED)
    }
}

/// Watches a store file for commits without opening it, for a host that let go of the store while
/// its processes wait: [`StoreWatch::changed`] is one `stat` of the file. It may say "changed" when
/// nothing was committed (in the second after any write, the file's times cannot tell), never the
/// other way round.
#[derive(Debug)]
pub struct StoreWatch {
    path: PathBuf,
    last: Option<FileStamp>,
}

impl StoreWatch {
    /// Starts watching `path` (the first [`StoreWatch::changed`] says "changed").
    pub fn new(path: impl AsRef<Path>) -> StoreWatch {
        StoreWatch { path: path.as_ref().to_path_buf(), last: None }
    }

    /// Whether the file may have been committed to since the last call: its stamp differs, or its
    /// times have not settled yet. A file that is gone or replaced counts as changed.
    pub fn changed(&mut self) -> bool {
        let now = FileStamp::at(&self.path);
        let same = now.is_some() && now == self.last && now.is_some_and(|stamp| stamp.settled());
        self.last = now;
        !same
    }
}

/// Garbage a store file may hold beyond twice its kept bytes before a gc compacts it.
const COMPACTION_SLACK: u64 = 8 << 20;

/// How many times an open tries again when the file at its path changes under it.
const OPEN_ATTEMPTS: usize = 64;

/// What an open makes of an empty file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Empty {
    /// A new store ([`RedbStore::open`]).
    NewStore,
    /// A truncated store, refused ([`RedbStore::open_existing`], [`RedbStore::open_checked`]).
    Refused,
}

/// Why one attempt at opening an existing file did not give a store.
enum Attempt {
    /// No file at the path.
    Missing,
    /// The file that was opened and locked is no longer the one at the path.
    Replaced,
    Refused(StoreError),
}

impl From<StoreError> for Attempt {
    fn from(error: StoreError) -> Attempt {
        Attempt::Refused(error)
    }
}

impl RedbStore {
    /// Opens the store at `path` for reading and writing, creating it (plain) if the file does
    /// not exist or is empty. An encrypted store is [`StoreError::KeyNeeded`]: open it with
    /// [`RedbStore::open_with`].
    ///
    /// The file is judged before anything is written to it: the meta table must hold the magic and
    /// a format version this build reads, and a file that was not closed cleanly has the checksum
    /// of every committed page verified by redb's recovery, which brings it back to its last
    /// complete commit. A file that fails is refused with [`StoreError::NotAStore`],
    /// [`StoreError::UnsupportedVersion`] or [`StoreError::Corrupt`] and is not written to. A
    /// cleanly closed file is not read whole: opening costs what it reads, whatever the store's
    /// size; damage elsewhere in it is found by the reads that meet it (blobs are re-hashed, a
    /// failure inside redb is [`StoreError::Corrupt`]) or by [`RedbStore::open_checked`].
    ///
    /// Creation is exclusive: of several processes creating the same store at once, one store
    /// results and every one of them opens it (see `spec/store.md`, *Opening*).
    pub fn open(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        RedbStore::open_with(path, Mode::OrCreate, &Unlock::none())
    }

    /// Opens the existing store at `path` for reading and writing, as [`RedbStore::open`] does, but
    /// never creates one: a missing file is [`StoreError::NotFound`], an empty one
    /// [`StoreError::Corrupt`] (left as it is).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        RedbStore::open_with(path, Mode::Existing, &Unlock::none())
    }

    /// Opens the existing store at `path` for reading and writing after checking the checksum of
    /// every page of the file, as [`BlobStore::verify`] and `gc` want: costs a read of the whole
    /// file. A file that fails is refused with [`StoreError::Corrupt`] and left as it was.
    pub fn open_checked(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        RedbStore::open_with(path, Mode::Checked, &Unlock::none())
    }

    /// Opens the store at `path` read-only, for inspection; it may be open for writing in another
    /// process at the same time, and each read sees that writer's latest commit.
    ///
    /// Never writes to the file. Unlike [`RedbStore::open`], it does not verify redb's page
    /// checksums (that needs the writer's lock); blobs are still re-hashed on every read. A store
    /// left by a crash, with no writer open, is refused with [`StoreError::NeedsRecovery`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        RedbStore::open_with(path, Mode::ReadOnly, &Unlock::none())
    }

    /// Opens the store at `path` as `mode` says, plain or encrypted: an encrypted store is opened
    /// with what `unlock` offers (a wrong or missing key is [`StoreError::WrongKey`] or
    /// [`StoreError::KeyNeeded`], and nothing is written). Opening an encrypted store checks its
    /// ref table against its sealed state record ([`StoreError::Tampered`] if a ref was removed,
    /// added or replaced by an older value): a keyed hash of each ref entry.
    pub fn open_with(path: impl AsRef<Path>, mode: Mode, unlock: &Unlock) -> Result<RedbStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let (check, empty) = match mode {
            Mode::ReadOnly => return RedbStore::open_read_only_with(path, unlock),
            Mode::OrCreate => (Check::Header, Empty::NewStore),
            Mode::Existing => (Check::Header, Empty::Refused),
            Mode::Checked => (Check::EveryPage, Empty::Refused),
        };
        for _ in 0..OPEN_ATTEMPTS {
            match RedbStore::open_file(&path, check, empty, unlock) {
                Ok(store) => return store.refuse_unfinished_copy(),
                Err(Attempt::Missing) if mode == Mode::OrCreate => {
                    create_exclusively(&path, Init::Plain)?;
                }
                Err(Attempt::Missing) => return Err(StoreError::NotFound { path }),
                Err(Attempt::Replaced) => {}
                Err(Attempt::Refused(error)) => return Err(error),
            }
        }
        Err(StoreError::Io { path, cause: "the file kept being replaced while it was being opened".to_string() })
    }

    /// Makes a new encrypted store at `path`, under a fresh random master key that `first`
    /// unlocks (its key slot 1), and opens it for writing. A file already at `path` is
    /// [`StoreError::AlreadyExists`] and is left as it is. Like [`RedbStore::open`]'s, the
    /// creation is exclusive and whole: a crash leaves no store or the complete new one.
    pub fn create_encrypted(path: impl AsRef<Path>, first: &NewSlot) -> Result<RedbStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let key = new_store_key(&path)?;
        let slots = [(1, first_slot(&path, first, &key)?)];
        let bundle_keys = BundleKeys::generate();
        let init = Init::Encrypted { slots: &slots, key: &key, rotation: None, bundle_keys: &bundle_keys };
        if std::fs::symlink_metadata(&path).is_ok() || !create_exclusively(&path, init)? {
            return Err(StoreError::AlreadyExists { path });
        }
        RedbStore::open_with(&path, Mode::Existing, &Unlock::key(key))
    }

    /// What the clear header of the store at `path` says (its format, its key slots), read
    /// without a key and without writing anything.
    pub fn header(path: impl AsRef<Path>) -> Result<Header, StoreError> {
        let path = path.as_ref().to_path_buf();
        redo_if_disturbed(&path, || {
            let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => StoreError::NotFound { path: path.clone() },
                _ => io_error(&path, &e),
            })?;
            let backend = ReadingFile::new(file).map_err(|e| io_error(&path, &e))?;
            let db = builder(false).open_read_only_with_backend(backend).at(&path)?;
            let txn = db.begin_read().at(&path)?;
            Ok(match check_meta(&path, &txn)? {
                Layout::Plain => Header { format_version: FORMAT_VERSION, slots: Vec::new() },
                Layout::Encrypted { .. } => {
                    Header { format_version: ENCRYPTED_FORMAT_VERSION, slots: sealed::slot_infos(&path, &txn)? }
                }
            })
        })
    }

    /// One attempt: open the file at `path`, lock and judge it, and check that the path still
    /// names the file that was locked (another process may have renamed a file over it between
    /// the open and the lock). Nothing is written to a file that is refused or was replaced.
    fn open_file(path: &Path, check: Check, empty: Empty, unlock: &Unlock) -> Result<RedbStore, Attempt> {
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(Attempt::Missing),
            Err(error) => return Err(io_error(path, &error).into()),
        };
        let metadata = file.metadata().map_err(|e| io_error(path, &e))?;
        if metadata.len() == 0 && empty == Empty::Refused {
            // A store is never empty once made (it is created whole under another name).
            return Err(Attempt::Refused(StoreError::Corrupt {
                path: path.to_path_buf(),
                cause: "the file is empty, not a store (truncated?)".to_string(),
            }));
        }
        let identity = FileIdentity::of(&metadata);
        let (backend, stage) = staged::staged(file).map_err(|e| io_error(path, &e))?;
        let (db, judged_whole, layout) = open_database(path, backend, check, Init::Plain)?;
        if FileIdentity::at(path) != Some(identity) {
            // Dropped unpublished: whatever redb wrote while opening never reaches the file.
            drop(db);
            return Err(Attempt::Replaced);
        }
        // Unlocked before anything reaches the file: a wrong key leaves it as it was.
        let sealed = unlock_layout(path, &db.begin_read().at(path)?, layout, unlock)?;
        // Judged sound (every page checked): let what redb wrote while opening (recovery,
        // initialization) reach the file, and everything from now on go straight to it. A file
        // trusted without reading it whole is not written until the first commit: a command
        // that only reads, and fails on damage it meets, leaves the file as it was.
        let unpublished = if judged_whole {
            stage.publish().map_err(|e| io_error(path, &e))?;
            None
        } else {
            Some(stage)
        };
        let mut store = RedbStore {
            path: path.to_path_buf(),
            identity: Some(identity),
            unpublished: std::sync::Mutex::new(unpublished),
            db: Db::Writable(db),
            sealed,
            replicating: false,
        };
        store.replicating = store.lists_replicas()?;
        Ok(store)
    }

    /// Opens a store on a simulated disk, creating it if the disk is empty (for fault-injection
    /// tests: see [`crate::simulated`]). Unlike [`RedbStore::open`], a disk refused here may have
    /// been written to by redb's recovery.
    pub fn open_simulated(disk: &crate::simulated::SimulatedDisk) -> Result<RedbStore, StoreError> {
        RedbStore::open_simulated_with(disk, None, &Unlock::none())
    }

    /// [`RedbStore::open_simulated`] for encrypted stores too: an empty disk is made an
    /// encrypted store unlocked by `create` if it is given (plain otherwise); an existing store
    /// is opened with `unlock`.
    pub fn open_simulated_with(
        disk: &crate::simulated::SimulatedDisk,
        create: Option<&NewSlot>,
        unlock: &Unlock,
    ) -> Result<RedbStore, StoreError> {
        let path = PathBuf::from("<simulated disk>");
        let key = match create {
            Some(_) => Some(new_store_key(&path)?),
            None => None,
        };
        let slots = match (create, &key) {
            (Some(first), Some(key)) => vec![(1, first_slot(&path, first, key)?)],
            _ => Vec::new(),
        };
        let bundle_keys = BundleKeys::generate();
        let init = match &key {
            Some(key) => Init::Encrypted { slots: &slots, key, rotation: None, bundle_keys: &bundle_keys },
            None => Init::Plain,
        };
        let (db, _, layout) = open_database(&path, crate::simulated::Backend(disk.clone()), Check::EveryPage, init)?;
        let mut unlock = unlock.clone();
        if let Some(key) = key {
            unlock.known = Some(key);
        }
        let sealed = unlock_layout(&path, &db.begin_read().at(&path)?, layout, &unlock)?;
        let mut store = RedbStore {
            path,
            identity: None,
            unpublished: std::sync::Mutex::new(None),
            db: Db::Writable(db),
            sealed,
            replicating: false,
        };
        store.replicating = store.lists_replicas()?;
        Ok(store)
    }

    fn open_read_only_with(path: PathBuf, unlock: &Unlock) -> Result<RedbStore, StoreError> {
        let identity = FileIdentity::at(&path);
        let (db, sealed) = redo_if_disturbed(&path, || {
            let file = std::fs::File::open(&path).map_err(|e| io_error(&path, &e))?;
            let backend = ReadingFile::new(file).map_err(|e| io_error(&path, &e))?;
            let db = builder(false).open_read_only_with_backend(backend).at(&path)?;
            let txn = db.begin_read().at(&path)?;
            let layout = check_meta(&path, &txn)?;
            let sealed = unlock_layout(&path, &txn, layout, unlock)?;
            drop(txn);
            Ok((db, sealed))
        })?;
        RedbStore {
            path,
            identity,
            unpublished: std::sync::Mutex::new(None),
            db: Db::ReadOnly(db),
            sealed,
            replicating: false,
        }
        .refuse_unfinished_copy()
    }

    /// This store, unless it is the unfinished copy of a `store rotate` (only the rotation
    /// opens that; it holds no refs yet).
    fn refuse_unfinished_copy(self) -> Result<RedbStore, StoreError> {
        if let Some(sealed) = &self.sealed {
            let txn = self.read_txn()?;
            if rotation::is_unfinished_copy(&self.path, &txn.open_table(META).at(&self.path)?, &sealed.sealer)? {
                return Err(StoreError::Corrupt {
                    path: self.path.clone(),
                    cause: "this file is the unfinished copy of a `store rotate`, not a store: \
                            run the rotation again on the store beside it"
                        .to_string(),
                });
            }
        }
        Ok(self)
    }

    /// Whether the store is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.sealed.is_some()
    }

    /// The key of this encrypted store, to open it again without asking for its credentials
    /// ([`Unlock::key`]); `None` for a plain store.
    pub fn key(&self) -> Option<StoreKey> {
        self.sealed.as_ref().map(|sealed| sealed.key.clone())
    }

    /// The key slots of this encrypted store (none for a plain one).
    pub fn key_slots(&self) -> Result<Vec<SlotInfo>, StoreError> {
        if self.sealed.is_none() {
            return Ok(Vec::new());
        }
        redo_if_disturbed(&self.path, || sealed::slot_infos(&self.path, &self.read_txn()?))
    }

    /// Adds a key slot that unlocks this encrypted store with `new`, in one durable commit.
    pub fn add_key_slot(&mut self, new: &NewSlot) -> Result<SlotInfo, StoreError> {
        self.change_slots(|path, txn, key| sealed::add_slot(path, txn, key, new))
    }

    /// The key slot that opened this encrypted store (`None`: a plain store, or one opened with
    /// a known key).
    pub fn unlocked_slot(&self) -> Option<u32> {
        self.sealed.as_ref().and_then(|sealed| sealed.unlocked_by)
    }

    /// Replaces key slot `id` of this encrypted store by a new one for `new`, in one durable
    /// commit: a password changes with no instant at which neither the old nor the new one
    /// opens the store.
    pub fn replace_key_slot(&mut self, id: u32, new: &NewSlot) -> Result<SlotInfo, StoreError> {
        self.change_slots(|path, txn, key| sealed::replace_slot(path, txn, key, id, new))
    }

    /// Removes key slot `id` of this encrypted store, in one durable commit; the last slot is
    /// refused ([`StoreError::KeySlot`]).
    pub fn remove_key_slot(&mut self, id: u32) -> Result<SlotInfo, StoreError> {
        self.change_slots(|path, txn, _| sealed::remove_slot(path, txn, id))
    }

    /// Runs `change` on the key slots in one durable commit: refused for a plain store, and while
    /// a rotation's copy is unfinished (its slots would no longer match).
    fn change_slots(
        &mut self,
        change: impl FnOnce(&Path, &WriteTransaction, &StoreKey) -> Result<SlotInfo, StoreError>,
    ) -> Result<SlotInfo, StoreError> {
        let path = self.path.clone();
        let Some(sealed) = self.sealed.clone() else {
            return Err(not_encrypted(&path));
        };
        rotation::refuse_slot_change_while_rotating(&path)?;
        refuse_panics(&path, || {
            let txn = begin_write(self.writable()?, &path)?;
            let work = change(&path, &txn, &sealed.key).map(|info| (info, true));
            finish(txn, &path, work)
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this handle was opened with [`RedbStore::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        matches!(self.db, Db::ReadOnly(_))
    }

    /// Closes the store, reporting any error that dropping it would ignore.
    pub fn close(self) -> Result<(), StoreError> {
        match self.db {
            Db::Writable(db) => db.close().at(&self.path),
            Db::ReadOnly(db) => db.close().at(&self.path),
        }
    }

    fn read_txn(&self) -> Result<ReadTransaction, StoreError> {
        match &self.db {
            Db::Writable(db) => db.begin_read(),
            Db::ReadOnly(db) => db.begin_read(),
        }
        .at(&self.path)
    }

    /// The file this handle holds, to compare with the one a later open finds at the same path.
    pub fn identity(&self) -> Option<FileIdentity> {
        self.identity
    }

    /// The database, to write to: refused on a read-only handle, and when the path no longer
    /// names the file this handle holds (moved, replaced or deleted: what is written there now
    /// would be lost or go where nobody looks).
    fn writable(&self) -> Result<&Database, StoreError> {
        let db = match &self.db {
            Db::Writable(db) => db,
            Db::ReadOnly(_) => return Err(StoreError::ReadOnly { path: self.path.clone() }),
        };
        if let Some(identity) = self.identity
            && FileIdentity::at(&self.path) != Some(identity)
        {
            return Err(StoreError::Replaced { path: self.path.clone() });
        }
        let mut unpublished = self.unpublished.lock().map_err(|_| StoreError::Backend {
            path: self.path.clone(),
            cause: "the store handle was poisoned by an earlier failure".to_string(),
        })?;
        if let Some(stage) = unpublished.take() {
            stage.publish().map_err(|e| io_error(&self.path, &e))?;
        }
        Ok(db)
    }
}

/// The keys of a store of `layout`, opened with what `unlock` offers (none for a plain store).
fn unlock_layout(
    path: &Path,
    txn: &ReadTransaction,
    layout: Layout,
    unlock: &Unlock,
) -> Result<Option<Arc<sealed::Sealed>>, StoreError> {
    match layout {
        Layout::Plain => Ok(None),
        Layout::Encrypted { store_id } => sealed::unlock(path, txn, store_id, unlock).map(|s| Some(Arc::new(s))),
    }
}

/// A fresh master key and store id, for a new encrypted store.
fn new_store_key(path: &Path) -> Result<StoreKey, StoreError> {
    let no_random =
        |e: getrandom::Error| StoreError::Io { path: path.to_path_buf(), cause: format!("no random bytes: {e}") };
    let master = crate::sealing::MasterKey::generate().map_err(no_random)?;
    let mut store_id = [0u8; 16];
    getrandom::fill(&mut store_id).map_err(no_random)?;
    Ok(StoreKey { master, store_id })
}

/// Key slot 1 of a new encrypted store under `key`, for `first`.
fn first_slot(path: &Path, first: &NewSlot, key: &StoreKey) -> Result<KeySlot, StoreError> {
    KeySlot::new(first, &key.master, &key.store_id, 1)
        .map_err(|e| StoreError::KeySlot { path: path.to_path_buf(), cause: e.to_string() })
}

fn not_encrypted(path: &Path) -> StoreError {
    StoreError::KeySlot {
        path: path.to_path_buf(),
        cause: "the store is not encrypted: it has no key slots".to_string(),
    }
}

fn apply_batch(path: &Path, txn: &WriteTransaction, batch: &Batch) -> Result<bool, StoreError> {
    let mut blobs = txn.open_table(BLOBS).at(path)?;
    let mut refs = txn.open_table(REFS).at(path)?;
    for blob in &batch.puts {
        let (hash, bytes) = (blob.hash, &blob.bytes);
        // An identical blob is left alone; a damaged copy is replaced by the good bytes.
        let intact = blobs.get(&hash.0[..]).at(path)?.is_some_and(|held| held.value() == bytes.as_slice());
        if !intact {
            blobs.insert(&hash.0[..], bytes.as_slice()).at(path)?;
        }
    }
    for update in &batch.ref_updates {
        let actual = ref_from(&refs, &update.name, path)?;
        apply_ref_update(update, actual, |target| Ok(blobs.get(&target.0[..]).at(path)?.is_some()))?;
        match update.target {
            Some(target) => refs.insert(update.name.as_str(), &target.0[..]).at(path)?,
            None => refs.remove(update.name.as_str()).at(path)?,
        };
    }
    Ok(!batch.is_empty())
}

/// The store's operations, unguarded: [`BlobStore for RedbStore`] runs each under
/// [`refuse_panics`].
impl RedbStore {
    fn get_unguarded(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.read_txn()?;
        let blobs = txn.open_table(BLOBS).at(&self.path)?;
        match &self.sealed {
            None => blob_from(&blobs, hash, &self.path),
            Some(sealed) => sealed::get_blob(&self.path, &blobs, &sealed.sealer, hash),
        }
    }

    fn has_unguarded(&self, hash: &Hash) -> Result<bool, StoreError> {
        let txn = self.read_txn()?;
        let blobs = txn.open_table(BLOBS).at(&self.path)?;
        match &self.sealed {
            None => Ok(blobs.get(&hash.0[..]).at(&self.path)?.is_some()),
            Some(sealed) => sealed::has_blob(&self.path, &blobs, &sealed.sealer, hash),
        }
    }

    fn get_ref_unguarded(&self, name: &str) -> Result<Option<Hash>, StoreError> {
        let txn = self.read_txn()?;
        match &self.sealed {
            None => ref_from(&txn.open_table(REFS).at(&self.path)?, name, &self.path),
            Some(sealed) => {
                sealed::get_ref(&self.path, &txn.open_table(SEALED_REFS).at(&self.path)?, &sealed.sealer, name)
            }
        }
    }

    /// One redb write transaction, committed with `Durability::Immediate` and two-phase commit:
    /// on disk when this returns. On any error nothing is written.
    fn commit_unguarded(&mut self, batch: Batch) -> Result<(), StoreError> {
        let txn = begin_write(self.writable()?, &self.path)?;
        let work = match &self.sealed {
            None => apply_batch(&self.path, &txn, &batch),
            Some(sealed) => sealed::apply_batch(&self.path, &txn, &sealed.sealer, &batch),
        };
        let work = match work {
            Ok(true) if self.replicating => {
                let keys: Vec<[u8; 32]> = batch.puts.iter().map(|blob| self.raw_blob_key(&blob.hash)).collect();
                replication::log_commit(&self.path, &txn, &keys).map(|_| true)
            }
            other => other,
        };
        finish(txn, &self.path, work.map(|changed| ((), changed)))
    }

    fn list_refs_unguarded(&self) -> Result<Vec<(String, Hash)>, StoreError> {
        let txn = self.read_txn()?;
        match &self.sealed {
            None => all_refs(&txn.open_table(REFS).at(&self.path)?, &self.path),
            Some(sealed) => sealed::all_refs(&self.path, &txn.open_table(SEALED_REFS).at(&self.path)?, &sealed.sealer),
        }
    }

    fn list_refs_with_prefix_unguarded(
        &self,
        prefix: &str,
        after: Option<&str>,
    ) -> Result<Vec<(String, Hash)>, StoreError> {
        let path = &self.path;
        let txn = self.read_txn()?;
        if let Some(sealed) = &self.sealed {
            let table = txn.open_table(SEALED_REFS).at(path)?;
            return sealed::refs_with_prefix(path, &table, &sealed.sealer, prefix, after);
        }
        plain_refs_with_prefix(&txn.open_table(REFS).at(path)?, prefix, after, path)
    }

    fn blob_hashes_unguarded(&self) -> Result<BTreeSet<Hash>, StoreError> {
        let txn = self.read_txn()?;
        let blobs = txn.open_table(BLOBS).at(&self.path)?;
        if let Some(sealed) = &self.sealed {
            return sealed::blob_hashes(&self.path, &blobs, &sealed.sealer);
        }
        let mut hashes = BTreeSet::new();
        for entry in blobs.iter().at(&self.path)? {
            let (key, _) = entry.at(&self.path)?;
            let hash = Hash::from_slice(key.value()).ok_or_else(|| StoreError::Corrupt {
                path: self.path.clone(),
                cause: format!("a blob key holds {} bytes, not 32", key.value().len()),
            })?;
            hashes.insert(hash);
        }
        Ok(hashes)
    }

    fn verify_unguarded(&self) -> Result<VerifyReport, StoreError> {
        let path = &self.path;
        let txn = self.read_txn()?;
        if let Some(sealed) = &self.sealed {
            return sealed::verify(path, &txn, &sealed.sealer);
        }
        let blobs = txn.open_table(BLOBS).at(path)?;
        let refs = txn.open_table(REFS).at(path)?;
        let mut report = VerifyReport::default();
        for entry in blobs.iter().at(path)? {
            let (key, value) = entry.at(path)?;
            report.blobs_checked += 1;
            match Hash::from_slice(key.value()) {
                Some(hash) if Hash::of(value.value()) == hash => {}
                Some(hash) => report.corrupt_blobs.push(hash),
                None => {
                    report.malformed.push(format!("a blob key of {} bytes ({:02x?})", key.value().len(), key.value()))
                }
            }
        }
        for entry in refs.iter().at(path)? {
            let (name, value) = entry.at(path)?;
            report.refs_checked += 1;
            match Hash::from_slice(value.value()) {
                Some(target) => {
                    if blobs.get(&target.0[..]).at(path)?.is_none() {
                        report.dangling_refs.push((name.value().to_string(), target));
                    }
                }
                None => report.malformed.push(format!("ref {:?} holding {} bytes", name.value(), value.value().len())),
            }
        }
        Ok(report)
    }

    /// One redb write transaction (committed only if something is removed).
    fn gc_unguarded(&mut self, roots_of: RootsOf<'_>) -> Result<GcReport, StoreError> {
        let path = self.path.clone();
        let path = path.as_path();
        let txn = begin_write(self.writable()?, path)?;
        let sealed = self.sealed.clone();
        let work = (|| {
            if let Some(sealed) = &sealed {
                return sealed::gc(path, &txn, &sealed.sealer, roots_of);
            }
            let mut blobs = txn.open_table(BLOBS).at(path)?;
            let refs = txn.open_table(REFS).at(path)?;
            let starts = all_refs(&refs, path)?.into_iter().map(|(_, t)| t);
            let reached = reach::walk(starts, roots_of, |hash, roots_of| {
                Ok(match blobs.get(&hash.0[..]).at(path)? {
                    None => Fetched::Missing,
                    Some(held) if Hash::of(held.value()) != *hash => Fetched::Corrupt,
                    Some(held) => Fetched::Found(roots_of(held.value())),
                })
            })?;
            let mut report =
                GcReport { blobs_kept: reached.found.len() as u64, missing: reached.missing, ..GcReport::default() };
            let mut doomed = Vec::new();
            for entry in blobs.iter().at(path)? {
                let (key, value) = entry.at(path)?;
                let reachable = Hash::from_slice(key.value()).is_some_and(|h| reached.found.contains(&h));
                if reachable {
                    report.bytes_kept += value.value().len() as u64;
                } else {
                    doomed.push(key.value().to_vec());
                    report.blobs_removed += 1;
                    report.bytes_removed += value.value().len() as u64;
                }
            }
            for key in &doomed {
                blobs.remove(key.as_slice()).at(path)?;
            }
            Ok((report, !doomed.is_empty()))
        })();
        let mut report = finish(txn, path, work)?;
        report.compacted = self.compact_if_worthwhile(report.bytes_kept)?;
        Ok(report)
    }

    /// Compacts the file when it is much larger than what it keeps: more than twice the kept
    /// blobs' bytes plus [`COMPACTION_SLACK`] (redb reuses freed pages, but never gives them back
    /// to the file system on its own). Returns the file's length before and after, or `None` when
    /// it was not worth it or not possible now (a reader in another process holds an old
    /// snapshot: the next gc tries again).
    fn compact_if_worthwhile(&mut self, kept: u64) -> Result<Option<(u64, u64)>, StoreError> {
        let Some(before) = std::fs::metadata(&self.path).ok().map(|m| m.len()) else {
            return Ok(None);
        };
        if self.identity.is_none() || before <= kept.saturating_mul(2).saturating_add(COMPACTION_SLACK) {
            return Ok(None);
        }
        self.writable()?;
        let Db::Writable(db) = &mut self.db else {
            return Ok(None);
        };
        match db.compact() {
            Ok(_) => {}
            Err(redb::CompactionError::TransactionInProgress) => return Ok(None),
            Err(error) => {
                return Err(StoreError::Backend {
                    path: self.path.clone(),
                    cause: format!("compaction failed: {error}"),
                });
            }
        }
        let after = std::fs::metadata(&self.path).map_err(|e| io_error(&self.path, &e))?.len();
        Ok(Some((before, after)))
    }

    /// Reads refs and blobs from one snapshot, so a writer in another process cannot make the
    /// bundle inconsistent. An encrypted store seals it, to its own bundle recipient too.
    fn export_bundle_unguarded(
        &self,
        refs: &BundleRefs<'_>,
        roots_of: RootsOf<'_>,
        recipients: &[String],
        writer: &mut dyn Write,
    ) -> Result<BundleSummary, StoreError> {
        let path = &self.path;
        let mut recipients = bundle::parse_recipients(recipients)?;
        let txn = self.read_txn()?;
        let blob_table = txn.open_table(BLOBS).at(path)?;
        let Some(sealed) = &self.sealed else {
            let ref_table = txn.open_table(REFS).at(path)?;
            let source = bundle::Source {
                get_ref: &|name| ref_from(&ref_table, name, path),
                refs_under: &|prefix| plain_refs_with_prefix(&ref_table, prefix, None, path),
                get: &|hash| blob_from(&blob_table, hash, path),
            };
            return bundle::export_to(&source, refs, roots_of, &recipients, writer);
        };
        let own = sealed::read_bundle_keys(path, &txn.open_table(META).at(path)?, &sealed.sealer)?
            .ok_or_else(|| StoreError::BundleIo { cause: no_bundle_keys(path) })?;
        recipients.extend(bundle::parse_recipients(&[own.recipient()])?);
        let ref_table = txn.open_table(SEALED_REFS).at(path)?;
        let source = bundle::Source {
            get_ref: &|name| sealed::get_ref(path, &ref_table, &sealed.sealer, name),
            refs_under: &|prefix| sealed::refs_with_prefix(path, &ref_table, &sealed.sealer, prefix, None),
            get: &|hash| sealed::get_blob(path, &blob_table, &sealed.sealer, hash),
        };
        bundle::export_to(&source, refs, roots_of, &recipients, writer)
    }

    /// The identities this store opens bundles sealed to it with (none for a plain store).
    fn own_bundle_keys(&self) -> Result<Option<BundleKeys>, StoreError> {
        let Some(sealed) = &self.sealed else {
            return Ok(None);
        };
        let txn = self.read_txn()?;
        sealed::read_bundle_keys(&self.path, &txn.open_table(META).at(&self.path)?, &sealed.sealer)
    }

    /// The age recipient that bundles sealed to this store are encrypted to (`age1...`), for
    /// another store's `export_bundle_to`; `None` for a plain store, which keeps no keys.
    pub fn bundle_recipient(&self) -> Result<Option<String>, StoreError> {
        redo_if_disturbed(&self.path, || match self.own_bundle_keys()? {
            Some(keys) => Ok(Some(keys.recipient())),
            None if self.sealed.is_some() => Err(StoreError::BundleIo { cause: no_bundle_keys(&self.path) }),
            None => Ok(None),
        })
    }
}

fn no_bundle_keys(path: &Path) -> String {
    format!(
        "{} keeps no bundle identity (it was made by a build before sealed bundles): `store rotate` gives it one",
        path.display()
    )
}

/// Every operation runs under `refuse_panics`: an open trusts a cleanly closed file without
/// reading it whole, so damage redb meets later must still be an error, never a panic. Reads run
/// under `redo_if_disturbed` too.
impl BlobStore for RedbStore {
    fn get(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        redo_if_disturbed(&self.path, || self.get_unguarded(hash))
    }

    fn has(&self, hash: &Hash) -> Result<bool, StoreError> {
        redo_if_disturbed(&self.path, || self.has_unguarded(hash))
    }

    fn get_ref(&self, name: &str) -> Result<Option<Hash>, StoreError> {
        redo_if_disturbed(&self.path, || self.get_ref_unguarded(name))
    }

    /// One redb write transaction, committed with `Durability::Immediate` and two-phase commit:
    /// on disk when this returns. On any error nothing is written.
    fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        let path = self.path.clone();
        refuse_panics(&path, || self.commit_unguarded(batch))
    }

    fn list_refs(&self) -> Result<Vec<(String, Hash)>, StoreError> {
        redo_if_disturbed(&self.path, || self.list_refs_unguarded())
    }

    fn list_refs_with_prefix(&self, prefix: &str, after: Option<&str>) -> Result<Vec<(String, Hash)>, StoreError> {
        redo_if_disturbed(&self.path, || self.list_refs_with_prefix_unguarded(prefix, after))
    }

    fn blob_hashes(&self) -> Result<BTreeSet<Hash>, StoreError> {
        redo_if_disturbed(&self.path, || self.blob_hashes_unguarded())
    }

    fn verify(&self) -> Result<VerifyReport, StoreError> {
        redo_if_disturbed(&self.path, || self.verify_unguarded())
    }

    /// One redb write transaction (committed only if something is removed).
    fn gc(&mut self, roots_of: RootsOf<'_>) -> Result<GcReport, StoreError> {
        let path = self.path.clone();
        refuse_panics(&path, || self.gc_unguarded(roots_of))
    }

    /// Reads refs and blobs from one snapshot, so a writer in another process cannot make the
    /// bundle inconsistent; an encrypted store seals it, to its own bundle recipient too.
    fn export_bundle_of(
        &self,
        refs: &BundleRefs<'_>,
        roots_of: RootsOf<'_>,
        recipients: &[String],
        writer: &mut dyn Write,
    ) -> Result<BundleSummary, StoreError> {
        // Written as it is read, so it cannot be redone: refused instead.
        reading_file::begin();
        let summary = refuse_panics(&self.path, || self.export_bundle_unguarded(refs, roots_of, recipients, writer))?;
        if reading_file::disturbed() {
            return Err(StoreError::Backend {
                path: self.path.clone(),
                cause: "a stopped writer this export went past without waiting ran before it ended: \
                        the bundle may mix two states; export it again"
                    .to_string(),
            });
        }
        Ok(summary)
    }

    /// An encrypted store offers its own bundle identities (current and from before rotations)
    /// besides those of `keys`.
    fn open_bundle(&self, reader: &mut dyn Read, keys: &[Credential]) -> Result<Bundle, StoreError> {
        let own = redo_if_disturbed(&self.path, || self.own_bundle_keys())?;
        let own_keys = own.as_ref().map(BundleKeys::identities).unwrap_or_default();
        bundle::read_any(reader, &keys::identity_files(keys), own_keys)
    }
}

/// Creates a new, initialised store at `path` unless a file is already there, so that a crash at
/// any instant leaves either no file at `path` or a complete store there, and so that of several
/// processes creating the same store at once exactly one succeeds and the others find its store:
/// the store is built in a fresh temporary file beside `path` (created exclusively, so nothing
/// planted under that name is followed or overwritten), made durable, then linked to `path`,
/// which fails if a file appeared there meanwhile (never replacing it), and the directory entry
/// made durable. Returns whether this call made the store at `path`.
fn create_exclusively(path: &Path, init: Init<'_>) -> Result<bool, StoreError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "store".into());
    let prefix = format!("{file_name}.creating");
    remove_abandoned_creations(path, &prefix);
    let (temporary, file) = fresh_file_beside(path, &prefix)?;
    let built = (|| {
        let identity = FileIdentity::of(&file.metadata().map_err(|e| io_error(&temporary, &e))?);
        let (backend, stage) = staged::staged(file.try_clone().map_err(|e| io_error(&temporary, &e))?)
            .map_err(|e| io_error(&temporary, &e))?;
        let (db, _, _) = open_database(&temporary, backend, Check::Header, init)?;
        stage.publish().map_err(|e| io_error(&temporary, &e))?;
        let store = RedbStore {
            path: temporary.clone(),
            identity: Some(identity),
            unpublished: std::sync::Mutex::new(None),
            db: Db::Writable(db),
            sealed: None,
            replicating: false,
        };
        store.close()?;
        file.sync_all().map_err(|e| io_error(&temporary, &e))
    })();
    let linked = built.and_then(|()| match std::fs::hard_link(&temporary, path) {
        Ok(()) => Ok(true),
        // Another process created the store first: open that one.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        // A file system without hard links (FAT, some network shares): rename, which is
        // exclusive only against creators that are not racing this one.
        Err(error)
            if matches!(error.kind(), std::io::ErrorKind::Unsupported | std::io::ErrorKind::PermissionDenied) =>
        {
            if path.exists() {
                Ok(false)
            } else {
                std::fs::rename(&temporary, path).map(|()| true).map_err(|e| io_error(path, &e))
            }
        }
        Err(error) => Err(io_error(path, &error)),
    });
    let _ = std::fs::remove_file(&temporary);
    let created = linked?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(created)
}

/// How old a `NAME.creating-…` file must be before a creation of `NAME` removes it: one left by a
/// creator that crashed (building a store takes milliseconds; one that is still being built is
/// never this old).
const ABANDONED_CREATION_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes the regular files beside `path` named `PREFIX-…` (a creator's temporary files, see
/// [`fresh_file_beside`]) last changed over [`ABANDONED_CREATION_AGE`] ago, so that crashes while
/// creating a store do not pile files up beside it. Anything it cannot read or remove stays.
fn remove_abandoned_creations(path: &Path, prefix: &str) {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{prefix}-");
    for entry in entries.flatten() {
        if !entry.file_name().to_str().is_some_and(|name| name.starts_with(&prefix)) {
            continue;
        }
        // The entry itself, never what a link points at.
        let Ok(metadata) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let abandoned = metadata
            .modified()
            .ok()
            .and_then(|time| time.elapsed().ok())
            .is_some_and(|age| age > ABANDONED_CREATION_AGE);
        if metadata.file_type().is_file() && abandoned {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A new file beside `path`, named `PREFIX-PID-N`, created exclusively (`O_CREAT | O_EXCL`, which
/// never follows a symlink): a name that is taken, by a file or a planted link, is skipped.
pub(crate) fn fresh_file_beside(path: &Path, prefix: &str) -> Result<(PathBuf, std::fs::File), StoreError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut last_error = None;
    for _ in 0..OPEN_ATTEMPTS {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let candidate = path.with_file_name(format!("{prefix}-{}-{nanos:x}{n}", std::process::id()));
        match OpenOptions::new().read(true).write(true).create_new(true).open(&candidate) {
            Ok(file) => return Ok((candidate, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(error),
            Err(error) => return Err(io_error(&candidate, &error)),
        }
    }
    let error = last_error.unwrap_or_else(|| std::io::Error::other("no free temporary name"));
    Err(io_error(path, &error))
}
