//! How far each replica is: a small file per replica beside the store
//! (`STORE.replicas/NUMBER.progress`, sealed in an encrypted store), rewritten whole after each
//! pass, and a lock file that keeps two passes from working on one replica at once. Losing a
//! progress file loses nothing: the next pass compares the replica whole.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::ReplicaConfig;
use super::blocks::BlockId;
use crate::{RedbStore, StoreError};

/// What a replica was last brought to, and how it went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// The sequence number of the last root record this replica took from the store (0: none).
    pub(crate) acked: u64,
    /// That record's id: the next one names it as its previous.
    pub(crate) last_record: Option<BlockId>,
    /// The highest sequence number this replica was seen to hold: a replica that later shows a
    /// lower one lost records or serves an old copy (a rollback).
    pub(crate) high_water: u64,
    /// When a pass last finished, milliseconds since the Unix epoch.
    pub(crate) last_success_ms: Option<u64>,
    /// The last failure, when it happened, if no pass finished since.
    pub(crate) last_error: Option<(u64, String)>,
    /// Bytes and packs sent, in all.
    pub(crate) bytes_sent: u64,
    pub(crate) packs_sent: u64,
    /// What the last pass noticed of a replica that went back (a rollback or a loss).
    pub(crate) went_back: Option<String>,
}

impl Progress {
    fn encode(&self) -> String {
        let mut out = format!("acked {}\nhigh_water {}\n", self.acked, self.high_water);
        if let Some(record) = self.last_record {
            out.push_str(&format!("last_record {}\n", record.hex()));
        }
        if let Some(ms) = self.last_success_ms {
            out.push_str(&format!("last_success {ms}\n"));
        }
        if let Some((ms, error)) = &self.last_error {
            out.push_str(&format!("last_error {ms} {}\n", one_line(error)));
        }
        out.push_str(&format!("bytes_sent {}\npacks_sent {}\n", self.bytes_sent, self.packs_sent));
        if let Some(note) = &self.went_back {
            out.push_str(&format!("went_back {}\n", one_line(note)));
        }
        out
    }

    fn decode(text: &str) -> Progress {
        let mut progress = Progress::default();
        for line in text.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "acked" => progress.acked = value.parse().unwrap_or(0),
                "high_water" => progress.high_water = value.parse().unwrap_or(0),
                "last_record" => progress.last_record = parse_block_id(value),
                "last_success" => progress.last_success_ms = value.parse().ok(),
                "last_error" => {
                    let (ms, error) = value.split_once(' ').unwrap_or((value, ""));
                    progress.last_error = ms.parse().ok().map(|ms| (ms, error.to_string()));
                }
                "bytes_sent" => progress.bytes_sent = value.parse().unwrap_or(0),
                "packs_sent" => progress.packs_sent = value.parse().unwrap_or(0),
                "went_back" => progress.went_back = Some(value.to_string()),
                _ => {}
            }
        }
        progress
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn parse_block_id(hex: &str) -> Option<BlockId> {
    super::parse_hex32(hex).map(BlockId)
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The directory of progress files beside the store at `store`.
fn directory(store: &Path) -> PathBuf {
    let mut name = store.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".replicas");
    store.with_file_name(name)
}

fn progress_file(store: &Path, id: u32) -> PathBuf {
    directory(store).join(format!("{id}.progress"))
}

fn io(path: &Path, error: &std::io::Error) -> StoreError {
    StoreError::Io { path: path.to_path_buf(), cause: error.to_string() }
}

/// A replica's progress as its file says (nothing yet, or a file that does not open: none).
pub(crate) fn read(store: &RedbStore, id: u32) -> Progress {
    let Ok(bytes) = std::fs::read(progress_file(store.path(), id)) else { return Progress::default() };
    let Some(plain) = store.open_progress(id, &bytes) else { return Progress::default() };
    Progress::decode(&String::from_utf8_lossy(&plain))
}

/// Writes a replica's progress file whole (a temporary file, synced, renamed over it).
pub(crate) fn write(store: &RedbStore, id: u32, progress: &Progress) -> Result<(), StoreError> {
    let dir = directory(store.path());
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, &e))?;
    let file = progress_file(store.path(), id);
    let temporary = dir.join(format!(".{id}.progress.{}", std::process::id()));
    let sealed = store.seal_progress(id, progress.encode().as_bytes())?;
    let written = (|| {
        let mut out = File::create(&temporary)?;
        out.write_all(&sealed)?;
        out.sync_all()?;
        std::fs::rename(&temporary, &file)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io(&file, &e)
    })
}

/// The lock that one pass over a replica holds: `None` if another pass holds it now.
pub(crate) fn try_lock(store: &Path, id: u32) -> Result<Option<File>, StoreError> {
    let dir = directory(store);
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, &e))?;
    let path = dir.join(format!("{id}.lock"));
    let file =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| io(&path, &e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&path, &e)),
    }
}

/// How far one replica is, for `replica status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// The replica.
    pub replica: ReplicaConfig,
    /// The sequence number of the store's last commit.
    pub store_seq: u64,
    /// The sequence number of the last root the replica took (0: none yet).
    pub acked: u64,
    /// Commits not yet on the replica.
    pub lag_commits: u64,
    /// Bytes of blobs those commits put (as stored), not yet sent; `None` when the log no longer
    /// reaches back to the replica's last root and the next pass compares it whole.
    pub lag_bytes: Option<u64>,
    /// When a pass last finished (milliseconds since the Unix epoch).
    pub last_success_ms: Option<u64>,
    /// The last failure since, and when.
    pub last_error: Option<(u64, String)>,
    /// What the last pass noticed of a replica that went back (a rollback or a loss).
    pub went_back: Option<String>,
    /// Bytes sent to it in all.
    pub bytes_sent: u64,
}

/// Every replica's status, read from the store and the progress files (no target is asked).
pub fn status(store: &RedbStore) -> Result<Vec<ReplicaStatus>, StoreError> {
    let store_seq = store.replication_seq()?;
    let mut statuses = Vec::new();
    for replica in store.replicas()? {
        let progress = read(store, replica.id);
        let lag_commits = store_seq.saturating_sub(progress.acked);
        let lag_bytes = if lag_commits == 0 {
            Some(0)
        } else {
            match store.logged_since(progress.acked)? {
                Some(keys) => Some(store.raw_blob_bytes(&keys)?),
                None => None,
            }
        };
        statuses.push(ReplicaStatus {
            replica,
            store_seq,
            acked: progress.acked,
            lag_commits,
            lag_bytes,
            last_success_ms: progress.last_success_ms,
            last_error: progress.last_error,
            went_back: progress.went_back,
            bytes_sent: progress.bytes_sent,
        });
    }
    Ok(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_round_trips() {
        let progress = Progress {
            acked: 12,
            last_record: Some(BlockId([0xab; 32])),
            high_water: 14,
            last_success_ms: Some(99),
            last_error: Some((100, "the server\nwent away".into())),
            bytes_sent: 1 << 40,
            packs_sent: 3,
            went_back: Some("it showed 3".into()),
        };
        let back = Progress::decode(&progress.encode());
        assert_eq!(back.acked, 12);
        assert_eq!(back.last_record, progress.last_record);
        assert_eq!(back.last_error, Some((100, "the server went away".into())));
        assert_eq!(back.bytes_sent, 1 << 40);
        assert_eq!(Progress::decode("garbage\n\0\0"), Progress::default());
    }
}
