//! A redb storage backend that can hold back its writes: how an open refuses a file without
//! touching it.
//!
//! Opening a redb file for writing may write to it before anything can be judged: recovery after a
//! crash rewrites the header, and the integrity check that [`crate::RedbStore::open`] asks for ends
//! with a commit. So the open runs over a [`StagedFile`] in *staging* mode: reads see the file as
//! redb has changed it, but every write, resize and sync is recorded in an in-memory log instead of
//! reaching the file. Only when the store has been judged sound (redb's checks passed, the meta
//! table names a known format) does [`Stage::publish`] replay the log to the file, in order, syncs
//! included, and switch to passing every call straight through. A refused file is never written.
//!
//! Replaying the log performs exactly the operations redb asked for, in the order it asked, so a
//! crash during the replay is a crash during redb's own writes, which redb recovers from.
//! Locks are never held back: they go straight to the file, so the open excludes other writers as
//! usual.

use std::fs::File;
use std::io;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

enum Op {
    Write(u64, Vec<u8>),
    SetLen(u64),
    Sync,
}

struct Staging {
    /// The file's length when staging began.
    base_len: u64,
    /// The length redb sees.
    len: u64,
    /// The lowest length the file has been cut to: base bytes at or past it read as zero.
    base_visible: u64,
    log: Vec<Op>,
}

struct Shared {
    file: FileBackend,
    /// `Some` while staging.
    staging: Mutex<Option<Staging>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedFile").field("file", &self.file).finish()
    }
}

impl Shared {
    /// The staging state, `None` once published. While nothing is held back yet, the file's
    /// length is read afresh: the backend is made before redb takes the file's lock, and until it
    /// has, another process may still be growing or shrinking the file.
    fn state(&self) -> io::Result<MutexGuard<'_, Option<Staging>>> {
        let mut state =
            self.staging.lock().map_err(|_| io::Error::other("staging state poisoned by an earlier panic"))?;
        if let Some(staging) = &mut *state
            && staging.log.is_empty()
        {
            let len = self.file.len()?;
            *staging = Staging { base_len: len, len, base_visible: len, log: Vec::new() };
        }
        Ok(state)
    }
}

/// The backend handed to redb.
#[derive(Debug)]
pub(crate) struct StagedFile(Arc<Shared>);

/// The opener's handle on a [`StagedFile`] it gave away.
pub(crate) struct Stage(Arc<Shared>);

/// Wraps `file`, staging all writes from the start.
pub(crate) fn staged(file: File) -> io::Result<(StagedFile, Stage)> {
    let len = file.metadata()?.len();
    let file = FileBackend::new(file).map_err(io::Error::other)?;
    let shared = Arc::new(Shared {
        file,
        staging: Mutex::new(Some(Staging { base_len: len, len, base_visible: len, log: Vec::new() })),
    });
    Ok((StagedFile(shared.clone()), Stage(shared)))
}

impl Stage {
    /// Replays every held-back operation on the file, in order, then passes everything through.
    pub(crate) fn publish(&self) -> io::Result<()> {
        let mut state = self.0.state()?;
        let Some(staging) = state.take() else {
            return Ok(());
        };
        let file = &self.0.file;
        let replayed = staging.log.iter().try_for_each(|op| match op {
            Op::Write(offset, data) => write_through(file, *offset, data),
            Op::SetLen(len) => set_len_through(file, *len),
            Op::Sync => sync_through(file),
        });
        let result = replayed.and_then(|()| sync_through(file));
        if result.is_err() {
            // The open fails; hold back whatever redb writes while it closes, as after a crash.
            let len = file.len().unwrap_or(0);
            *state = Some(Staging { base_len: len, len, base_visible: len, log: Vec::new() });
        }
        result
    }
}

// The operations that reach the file, each counted by the crash point first.

fn write_through(file: &FileBackend, offset: u64, data: &[u8]) -> io::Result<()> {
    crate::crash_point::before_operation(|| {
        let _ = file.write(offset, &data[..data.len() / 2]);
    });
    file.write(offset, data)
}

fn set_len_through(file: &FileBackend, len: u64) -> io::Result<()> {
    crate::crash_point::before_operation(|| ());
    file.set_len(len)
}

fn sync_through(file: &FileBackend) -> io::Result<()> {
    crate::crash_point::before_operation(|| ());
    file.sync_data()
}

fn out_of_range() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end of the staged file")
}

impl StorageBackend for StagedFile {
    fn len(&self) -> Result<u64, io::Error> {
        match &*self.0.state()? {
            Some(staging) => Ok(staging.len),
            None => self.0.file.len(),
        }
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let state = self.0.state()?;
        let Some(staging) = &*state else {
            drop(state);
            return self.0.file.read(offset, out);
        };
        let end = offset.checked_add(out.len() as u64).ok_or_else(out_of_range)?;
        if end > staging.len {
            return Err(out_of_range());
        }
        // The file's own bytes, where no cut has discarded them.
        let visible = staging.base_visible.min(staging.base_len);
        let from_file = visible.saturating_sub(offset).min(out.len() as u64) as usize;
        if from_file > 0 {
            self.0.file.read(offset, &mut out[..from_file])?;
        }
        out[from_file..].fill(0);
        // Then every logged change, in order.
        for op in &staging.log {
            match op {
                Op::Write(at, data) => {
                    let write_end = at + data.len() as u64;
                    let lo = offset.max(*at);
                    let hi = end.min(write_end);
                    if lo < hi {
                        let dst = (lo - offset) as usize..(hi - offset) as usize;
                        let src = (lo - at) as usize..(hi - at) as usize;
                        out[dst].copy_from_slice(&data[src]);
                    }
                }
                Op::SetLen(len) => {
                    if *len < end {
                        let from = len.saturating_sub(offset) as usize;
                        out[from..].fill(0);
                    }
                }
                Op::Sync => {}
            }
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let mut state = self.0.state()?;
        let Some(staging) = &mut *state else {
            drop(state);
            return set_len_through(&self.0.file, len);
        };
        staging.len = len;
        staging.base_visible = staging.base_visible.min(len);
        staging.log.push(Op::SetLen(len));
        Ok(())
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        let mut state = self.0.state()?;
        let Some(staging) = &mut *state else {
            drop(state);
            return sync_through(&self.0.file);
        };
        if !matches!(staging.log.last(), Some(Op::Sync) | None) {
            staging.log.push(Op::Sync);
        }
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let mut state = self.0.state()?;
        let Some(staging) = &mut *state else {
            drop(state);
            return write_through(&self.0.file, offset, data);
        };
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| io::Error::other("write past the largest file offset"))?;
        staging.len = staging.len.max(end);
        staging.log.push(Op::Write(offset, data.to_vec()));
        Ok(())
    }

    fn close(&self) -> Result<(), io::Error> {
        self.0.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.0.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.0.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.0.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.0.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.0.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.0.file.query_lock_range(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn open(path: &std::path::Path) -> File {
        std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap()
    }

    fn read_all(backend: &StagedFile) -> Vec<u8> {
        let mut out = vec![0; backend.len().unwrap() as usize];
        backend.read(0, &mut out).unwrap();
        out
    }

    #[test]
    fn staged_writes_are_seen_by_reads_but_not_by_the_file() {
        let (_dir, path) = scratch(b"0123456789");
        let (backend, _stage) = staged(open(&path)).unwrap();
        backend.write(2, b"ab").unwrap();
        backend.sync_data().unwrap();
        backend.set_len(6).unwrap();
        backend.set_len(12).unwrap();
        backend.write(11, b"z").unwrap();
        assert_eq!(read_all(&backend), b"01ab45\0\0\0\0\0z");
        let mut middle = [0; 3];
        backend.read(4, &mut middle).unwrap();
        assert_eq!(&middle, b"45\0");
        assert!(backend.read(10, &mut [0; 3]).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"0123456789");
    }

    /// The backend is made before the lock is taken: until it holds something back, it sees the
    /// file as it is now, not as it was when it was made.
    #[test]
    fn until_a_write_is_held_back_the_file_is_seen_as_it_is() {
        let (_dir, path) = scratch(b"0123");
        let (backend, _stage) = staged(open(&path)).unwrap();
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_all(&backend), b"0123456789");
        backend.write(0, b"!").unwrap();
        std::fs::write(&path, b"01").unwrap();
        assert_eq!(backend.len().unwrap(), 10, "once a write is held back, the base is the file it changed");
    }

    #[test]
    fn publishing_replays_the_log_then_passes_through() {
        let (_dir, path) = scratch(b"0123456789");
        let (backend, stage) = staged(open(&path)).unwrap();
        backend.write(2, b"ab").unwrap();
        backend.set_len(6).unwrap();
        backend.set_len(8).unwrap();
        backend.write(7, b"z").unwrap();
        let expected = read_all(&backend);
        stage.publish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
        backend.write(0, b"!").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"!1ab45\0z");
    }
}
