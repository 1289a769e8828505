//! A simulated disk for fault-injection tests: a store over it ([`crate::RedbStore::open_simulated`])
//! can be made to crash at its Nth write or sync, to tear the write it crashes in, or to fail one
//! operation and go on, all deterministically.
//!
//! The disk counts every operation that changes it (write, resize, sync) from 1. Bytes written since
//! the last sync are *unsynced*: a crash ([`SimulatedDisk::after_crash`]) keeps every synced byte
//! and, of the unsynced writes, none or the subset a seeded generator picks (the write the crash
//! came in may be kept in part: torn), as a disk with a volatile cache does. What it does not simulate: a
//! synced byte lost or altered (see the corruption tests for that).
//!
//! ```
//! use chenilles_store::simulated::{Fault, SimulatedDisk};
//! use chenilles_store::{Batch, BlobStore, RedbStore};
//!
//! let disk = SimulatedDisk::new();
//! let mut store = RedbStore::open_simulated(&disk).unwrap();
//! let mut batch = Batch::default();
//! batch.put(b"kept".to_vec());
//! store.commit(batch).unwrap();
//! let operations = disk.operations();
//!
//! disk.inject(Fault::CrashAt(operations + 2));
//! let mut batch = Batch::default();
//! batch.put(b"lost".to_vec());
//! assert!(store.commit(batch).is_err(), "the disk crashed under the commit");
//! drop(store);
//!
//! let store = RedbStore::open_simulated(&disk.after_crash(7)).unwrap();
//! assert_eq!(store.blob_hashes().unwrap().len(), 1, "recovered to the last complete commit");
//! ```

use std::io;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

/// What goes wrong, and at which operation (counted from 1 since the disk was made).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Nothing.
    None,
    /// The disk dies at this operation, which does not happen: it and every later one fail.
    CrashAt(u64),
    /// As `CrashAt`, but if the operation is a write, its first half reaches the disk's cache.
    TearAt(u64),
    /// This one operation fails; the disk goes on working.
    FailAt(u64),
}

#[derive(Debug)]
struct Disk {
    /// What reads see.
    bytes: Vec<u8>,
    /// What a crash cannot take away: the bytes as of the last sync.
    synced: Vec<u8>,
    /// Changes since the last sync, in order: a write's offset and bytes, or a new length.
    unsynced: Vec<Change>,
    operations: u64,
    fault: Fault,
    crashed: bool,
}

#[derive(Clone, Debug)]
enum Change {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

fn apply(bytes: &mut Vec<u8>, change: &Change) {
    match change {
        Change::Write(offset, data) => {
            let end = *offset as usize + data.len();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[*offset as usize..end].copy_from_slice(data);
        }
        Change::SetLen(len) => bytes.resize(*len as usize, 0),
    }
}

/// A disk in memory, shared by its clones (the store holds one, the test another).
#[derive(Clone, Debug)]
pub struct SimulatedDisk(Arc<Mutex<Disk>>);

impl Default for SimulatedDisk {
    fn default() -> SimulatedDisk {
        SimulatedDisk::new()
    }
}

impl SimulatedDisk {
    /// An empty disk that works.
    pub fn new() -> SimulatedDisk {
        SimulatedDisk::holding(Vec::new())
    }

    /// A working disk holding `bytes`, all of them synced (a file as found on a real disk).
    pub fn holding(bytes: Vec<u8>) -> SimulatedDisk {
        SimulatedDisk(Arc::new(Mutex::new(Disk {
            synced: bytes.clone(),
            bytes,
            unsynced: Vec::new(),
            operations: 0,
            fault: Fault::None,
            crashed: false,
        })))
    }

    fn disk(&self) -> MutexGuard<'_, Disk> {
        // A panic while the lock was held leaves plain bytes behind; they are still usable.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Operations (writes, resizes, syncs) performed or attempted so far.
    pub fn operations(&self) -> u64 {
        self.disk().operations
    }

    /// Whether the disk has crashed.
    pub fn crashed(&self) -> bool {
        self.disk().crashed
    }

    /// Arms `fault` (operations are counted from the disk's making, not from now).
    pub fn inject(&self, fault: Fault) {
        self.disk().fault = fault;
    }

    /// A new, working disk holding what survives a crash of this one now: the synced bytes, then
    /// the unsynced changes that the generator seeded with `seed` keeps. One seed in four keeps
    /// none of them (everything not synced is lost).
    pub fn after_crash(&self, seed: u64) -> SimulatedDisk {
        let disk = self.disk();
        let mut rng = seed;
        let mut bytes = disk.synced.clone();
        let kept = if seed.is_multiple_of(4) { &[][..] } else { &disk.unsynced[..] };
        for change in kept {
            // splitmix64: enough to pick subsets reproducibly.
            rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            if (z ^ (z >> 31)) & 1 == 1 {
                apply(&mut bytes, change);
            }
        }
        SimulatedDisk::holding(bytes)
    }

    /// A new, working disk holding exactly what reads see now (as after a clean shutdown).
    pub fn copy(&self) -> SimulatedDisk {
        SimulatedDisk::holding(self.disk().bytes.clone())
    }

    /// Counts one changing operation and decides what the fault makes of it: `Ok(true)` to
    /// perform it, `Ok(false)` for a torn write (half of it), or an error.
    fn operate(&self) -> io::Result<(MutexGuard<'_, Disk>, bool)> {
        let mut disk = self.disk();
        if disk.crashed {
            return Err(io::Error::other("the simulated disk has crashed"));
        }
        disk.operations += 1;
        let n = disk.operations;
        match disk.fault {
            Fault::CrashAt(at) if at == n => {
                disk.crashed = true;
                Err(io::Error::other(format!("the simulated disk crashed at operation {n}")))
            }
            Fault::TearAt(at) if at == n => Ok((disk, false)),
            Fault::FailAt(at) if at == n => Err(io::Error::other(format!("the simulated disk failed operation {n}"))),
            _ => Ok((disk, true)),
        }
    }
}

/// The disk as redb sees it.
#[derive(Debug)]
pub(crate) struct Backend(pub(crate) SimulatedDisk);

/// Locks always succeed and never conflict: a simulated disk is opened by one store at a time.
impl redb::StorageBackend for Backend {
    fn try_lock_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<bool, redb::BackendError> {
        Ok(true)
    }

    fn try_lock_shared_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<bool, redb::BackendError> {
        Ok(true)
    }

    fn lock_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<(), redb::BackendError> {
        Ok(())
    }

    fn lock_shared_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<(), redb::BackendError> {
        Ok(())
    }

    fn unlock_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<(), redb::BackendError> {
        Ok(())
    }

    fn query_lock_range(&self, _: Bound<u64>, _: Bound<u64>) -> Result<bool, redb::BackendError> {
        Ok(false)
    }

    fn len(&self) -> Result<u64, io::Error> {
        Ok(self.0.disk().bytes.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let disk = self.0.disk();
        let end = offset as usize + out.len();
        match disk.bytes.get(offset as usize..end) {
            Some(bytes) => {
                out.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end of the disk")),
        }
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let (mut disk, whole) = self.0.operate()?;
        let change = Change::SetLen(len);
        apply(&mut disk.bytes, &change);
        disk.unsynced.push(change);
        if !whole {
            disk.crashed = true;
            return Err(io::Error::other("the simulated disk crashed while resizing"));
        }
        Ok(())
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        let (mut disk, whole) = self.0.operate()?;
        if !whole {
            disk.crashed = true;
            return Err(io::Error::other("the simulated disk crashed while syncing"));
        }
        let Disk { synced, unsynced, .. } = &mut *disk;
        for change in unsynced.drain(..) {
            apply(synced, &change);
        }
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let (mut disk, whole) = self.0.operate()?;
        let kept = if whole { data } else { &data[..data.len() / 2] };
        let change = Change::Write(offset, kept.to_vec());
        apply(&mut disk.bytes, &change);
        disk.unsynced.push(change);
        if !whole {
            disk.crashed = true;
            return Err(io::Error::other("the simulated disk crashed in the middle of a write"));
        }
        Ok(())
    }
}
