//! A replica in one CARv1 file: every block of every pack and every root record, appended, for
//! `ipfs dag import` or a disk that should hold one file. Its header names one constant block
//! (written first), since CAR readers want a root; the store's roots are found by their tags.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::blocks::{self, BlockId, Kind};
use super::records::RootRecord;
use super::{ReplicaError, ReplicaTarget};

/// The block an archive's header names.
const ARCHIVE_BLOCK: &[u8] = b"chenilles replica archive, CARv1\n";
/// The one pack name an archive answers to: the whole file.
const ARCHIVE_PACK: &str = "packs/archive.car";

/// A replica that is one CAR file. See the module documentation.
#[derive(Debug)]
pub struct CarArchive {
    path: PathBuf,
    state: Mutex<Option<Scanned>>,
}

/// What a scan of the file found.
#[derive(Debug, Default)]
struct Scanned {
    /// Where the last whole section ends: appends go there.
    len: u64,
    /// Every block held.
    ids: HashSet<BlockId>,
    /// The root records: their object names and blocks.
    records: Vec<(String, Vec<u8>)>,
}

impl CarArchive {
    /// The archive at `path` (made at the first put).
    pub fn new(path: impl Into<PathBuf>) -> CarArchive {
        CarArchive { path: path.into(), state: Mutex::new(None) }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn unavailable(&self, cause: impl std::fmt::Display) -> ReplicaError {
        ReplicaError::Unavailable { target: self.describe(), cause: cause.to_string() }
    }

    fn read_file(&self) -> Result<Option<Vec<u8>>, ReplicaError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.unavailable(format!("cannot read it: {error}"))),
        }
    }

    /// Scans the file (once per handle), making it if there is none.
    fn with_state<T>(&self, f: impl FnOnce(&mut Scanned) -> Result<T, ReplicaError>) -> Result<T, ReplicaError> {
        let mut guard = self.state.lock().map_err(|_| self.unavailable("an earlier failure poisoned the handle"))?;
        if guard.is_none() {
            *guard = Some(self.scan()?);
        }
        match guard.as_mut() {
            Some(state) => f(state),
            None => Err(self.unavailable("the archive could not be scanned")),
        }
    }

    fn scan(&self) -> Result<Scanned, ReplicaError> {
        let Some(bytes) = self.read_file()? else {
            return Ok(Scanned::default());
        };
        let contents = blocks::read_car(&bytes);
        if contents.bad_header {
            return Err(self.unavailable("it is not a CAR file, or its header is damaged"));
        }
        let mut scanned = Scanned { len: contents.sound_len as u64, ..Scanned::default() };
        for (id, range) in contents.blocks {
            let block = &bytes[range];
            if Kind::of(block) == Some(Kind::RootRecord) {
                scanned.records.push((record_name(block), block.to_vec()));
            }
            scanned.ids.insert(id);
        }
        if contents.sound_len < bytes.len() && !torn_tail(&bytes, contents.sound_len) {
            // Damage inside the file, not a cut-off last section: readers stop there, so
            // nothing appended after it would be seen.
            return Err(self.unavailable(format!(
                "the archive is damaged at byte {}: it can still be restored from, but not added to (make a new one)",
                contents.sound_len
            )));
        }
        Ok(scanned)
    }

    /// Appends `sections` (blocks not held yet) and syncs; the first append makes the file.
    fn append(&self, state: &mut Scanned, new_blocks: Vec<Vec<u8>>) -> Result<(), ReplicaError> {
        let fresh = state.len == 0;
        let mut out = Vec::new();
        if fresh {
            out = blocks::car_file(&[BlockId::of(ARCHIVE_BLOCK)], &[ARCHIVE_BLOCK.to_vec()]);
        }
        let mut added = Vec::new();
        for block in new_blocks {
            let id = BlockId::of(&block);
            if state.ids.contains(&id) || added.iter().any(|(added_id, _)| *added_id == id) {
                continue;
            }
            blocks::put_section(&mut out, &id, &block);
            added.push((id, block));
        }
        if out.is_empty() {
            return Ok(());
        }
        let written = (|| {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&self.path)?;
            // A section cut off by a crash is dropped before anything is appended.
            file.set_len(state.len)?;
            file.seek(SeekFrom::Start(state.len))?;
            file.write_all(&out)?;
            file.sync_all()
        })();
        written.map_err(|e| self.unavailable(format!("cannot append to it: {e}")))?;
        state.len += out.len() as u64;
        if fresh {
            state.ids.insert(BlockId::of(ARCHIVE_BLOCK));
        }
        for (id, block) in added {
            if Kind::of(&block) == Some(Kind::RootRecord) {
                state.records.push((record_name(&block), block));
            }
            state.ids.insert(id);
        }
        Ok(())
    }
}

/// The object name of a root record block, by the sequence number it claims.
fn record_name(block: &[u8]) -> String {
    let seq = block.get(36..44).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).unwrap_or(0);
    RootRecord::object_name(block, seq)
}

/// Whether the file's bytes after `sound` are one section cut short (a crash during an append).
fn torn_tail(bytes: &[u8], sound: usize) -> bool {
    let mut at = sound;
    match blocks::take_varint(bytes, &mut at) {
        Some(len) => at as u64 + len > bytes.len() as u64,
        None => bytes.len() - sound < 10,
    }
}

impl ReplicaTarget for CarArchive {
    fn describe(&self) -> String {
        format!("CAR archive {}", self.path.display())
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), ReplicaError> {
        let new_blocks: Vec<Vec<u8>> = if name.starts_with("packs/") {
            let contents = blocks::read_car(bytes);
            contents
                .blocks
                .into_iter()
                .map(|(_, range)| bytes[range].to_vec())
                .filter(|block| Kind::of(block) != Some(Kind::PackIndex))
                .collect()
        } else if name.starts_with("roots/") {
            vec![bytes.to_vec()]
        } else {
            return Err(ReplicaError::BadTarget {
                target: self.describe(),
                cause: format!("{name:?} is not an object name"),
            });
        };
        self.with_state(|state| self.append(state, new_blocks))
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, ReplicaError> {
        if name == ARCHIVE_PACK {
            return self.read_file();
        }
        if name.starts_with("roots/") {
            // Reading needs no append: a damaged archive still answers.
            let bytes = match self.read_file()? {
                Some(bytes) => bytes,
                None => return Ok(None),
            };
            let contents = blocks::read_car(&bytes);
            return Ok(contents
                .blocks
                .into_iter()
                .map(|(_, range)| &bytes[range])
                .find(|block| Kind::of(block) == Some(Kind::RootRecord) && record_name(block) == name)
                .map(<[u8]>::to_vec));
        }
        Ok(None)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, ReplicaError> {
        let Some(bytes) = self.read_file()? else { return Ok(Vec::new()) };
        let mut names = vec![ARCHIVE_PACK.to_string()];
        let contents = blocks::read_car(&bytes);
        for (_, range) in contents.blocks {
            let block = &bytes[range];
            if Kind::of(block) == Some(Kind::RootRecord) {
                names.push(record_name(block));
            }
        }
        names.retain(|name| name.starts_with(prefix));
        names.sort();
        names.dedup();
        Ok(names)
    }
}
