//! Helpers shared by the integration tests: both backends behind one fixture, a blob format in
//! which blobs refer to other blobs, and direct access to a store file as `spec/store.md`
//! describes it (to damage it on purpose).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chenilles_store::{BlobStore, Hash, KdfParams, MemoryStore, Mode, NewSlot, RedbStore, Unlock};

/// A store under test, which can be closed and opened again.
pub trait Fixture {
    fn store(&mut self) -> &mut dyn BlobStore;
    /// Closes and reopens a durable store (a no-op in memory): what survives is what was durable.
    fn reopen(&mut self);
    /// The file, for a durable store.
    fn path(&self) -> Option<PathBuf>;
}

pub struct Memory(MemoryStore);

impl Memory {
    pub fn new() -> Memory {
        Memory(MemoryStore::default())
    }
}

impl Fixture for Memory {
    fn store(&mut self) -> &mut dyn BlobStore {
        &mut self.0
    }
    fn reopen(&mut self) {}
    fn path(&self) -> Option<PathBuf> {
        None
    }
}

pub struct Redb {
    // Dropped after the store (fields drop in order).
    store: Option<RedbStore>,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Redb {
    pub fn new() -> Redb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        Redb { store: Some(RedbStore::open(&path).unwrap()), path, _dir: dir }
    }

    /// Closes the store and runs `f` on its file, then reopens it.
    pub fn with_file_closed(&mut self, f: impl FnOnce(&Path)) {
        self.store.take().unwrap().close().unwrap();
        f(&self.path);
        self.store = Some(RedbStore::open(&self.path).unwrap());
    }
}

impl Fixture for Redb {
    fn store(&mut self) -> &mut dyn BlobStore {
        self.store.as_mut().unwrap()
    }
    fn reopen(&mut self) {
        self.store.take().unwrap().close().unwrap();
        self.store = Some(RedbStore::open(&self.path).unwrap());
    }
    fn path(&self) -> Option<PathBuf> {
        Some(self.path.clone())
    }
}

/// The password of the encrypted stores of the tests.
pub const PASSWORD: &str = "correct horse battery staple";

/// Argon2id parameters that cost next to nothing: the tests open many stores.
pub fn quick_kdf() -> KdfParams {
    KdfParams { memory_kib: 64, passes: 1, lanes: 1 }
}

/// The first key slot of the tests' encrypted stores.
pub fn test_slot() -> NewSlot {
    NewSlot::Password { password: PASSWORD.to_string().into(), params: quick_kdf() }
}

/// What opens the tests' encrypted stores.
pub fn test_unlock() -> Unlock {
    Unlock::password(PASSWORD.to_string().into())
}

/// Makes an encrypted store at `path`.
pub fn create_encrypted(path: &Path) -> RedbStore {
    RedbStore::create_encrypted(path, &test_slot()).unwrap()
}

/// Opens the encrypted store at `path` for writing.
pub fn open_encrypted(path: &Path) -> RedbStore {
    RedbStore::open_with(path, Mode::Existing, &test_unlock()).unwrap()
}

/// An encrypted store in a file, unlocked by [`PASSWORD`].
pub struct Encrypted {
    store: Option<RedbStore>,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Encrypted {
    pub fn new() -> Encrypted {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        Encrypted { store: Some(create_encrypted(&path)), path, _dir: dir }
    }

    /// Closes the store and runs `f` on its file, then reopens it.
    pub fn with_file_closed(&mut self, f: impl FnOnce(&Path)) {
        self.store.take().unwrap().close().unwrap();
        f(&self.path);
        self.store = Some(open_encrypted(&self.path));
    }
}

impl Fixture for Encrypted {
    fn store(&mut self) -> &mut dyn BlobStore {
        self.store.as_mut().unwrap()
    }
    fn reopen(&mut self) {
        self.store.take().unwrap().close().unwrap();
        self.store = Some(open_encrypted(&self.path));
    }
    fn path(&self) -> Option<PathBuf> {
        Some(self.path.clone())
    }
}

/// Generates, for each named generic test `fn name(f: &mut dyn Fixture)`, one `#[test]` per backend:
/// `memory::name`, `redb::name` and `encrypted::name`.
#[macro_export]
macro_rules! for_each_backend {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $test() { super::$test(&mut $crate::common::Memory::new()) } )*
        }
        mod redb {
            $( #[test] fn $test() { super::$test(&mut $crate::common::Redb::new()) } )*
        }
        mod encrypted {
            $( #[test] fn $test() { super::$test(&mut $crate::common::Encrypted::new()) } )*
        }
    };
}

/// [`for_each_backend`] without the encrypted store: for what only plain stores do (bundles in
/// clear).
#[macro_export]
macro_rules! for_each_plain_backend {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $test() { super::$test(&mut $crate::common::Memory::new()) } )*
        }
        mod redb {
            $( #[test] fn $test() { super::$test(&mut $crate::common::Redb::new()) } )*
        }
    };
}

/// A test blob that refers to `children`: `[count: u8][count × 32-byte hash][payload]`.
pub fn linked(payload: &[u8], children: &[Hash]) -> Vec<u8> {
    let mut bytes = vec![u8::try_from(children.len()).unwrap()];
    for child in children {
        bytes.extend_from_slice(&child.0);
    }
    bytes.extend_from_slice(payload);
    bytes
}

/// The `roots_of` for [`linked`] blobs; bytes that do not parse refer to nothing.
pub fn roots_of(bytes: &[u8]) -> Vec<Hash> {
    let Some((&count, rest)) = bytes.split_first() else {
        return Vec::new();
    };
    let count = usize::from(count);
    if rest.len() < count * 32 {
        return Vec::new();
    }
    rest[..count * 32].chunks_exact(32).filter_map(Hash::from_slice).collect()
}

/// For stores whose blobs refer to nothing.
pub fn no_roots(_: &[u8]) -> Vec<Hash> {
    Vec::new()
}

// The tables as spec/store.md describes them, for tests that write a store file directly.
pub const BLOBS: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("blobs");
pub const REFS: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("refs");
pub const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");

/// Opens a store file with redb itself (the store must be closed) and runs `f` in a write
/// transaction.
pub fn edit_raw(path: &Path, f: impl FnOnce(&redb::WriteTransaction)) {
    let db = redb::Builder::new().set_concurrency_mode(redb::ConcurrencyMode::SingleWriter).open(path).unwrap();
    let txn = db.begin_write().unwrap();
    f(&txn);
    txn.commit().unwrap();
}

/// Overwrites the bytes of blob `hash` in a closed store file, as on-disk damage that redb's own
/// checksums cannot see would.
pub fn damage_blob(path: &Path, hash: Hash, bytes: &[u8]) {
    edit_raw(path, |txn| {
        txn.open_table(BLOBS).unwrap().insert(&hash.0[..], bytes).unwrap();
    });
}

/// A small xorshift generator for the kill tests: no dependency, and the seed is printed for replay.
pub struct Rng(pub u64);

impl Rng {
    /// Seeded from `CRASH_SEED` if it is set (a replay), else from the clock; prints the seed.
    pub fn from_env() -> Rng {
        let seed = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
        println!("CRASH_SEED={seed}");
        Rng(seed)
    }

    /// The next number, below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}
