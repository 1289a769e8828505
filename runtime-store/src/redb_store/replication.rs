//! What a store file keeps for its replicas (`spec/replicas.md`): the list of replicas (the meta
//! entry `replicas`), the key that signs root records (`replication_key`), and the replication
//! log, which says what each commit added, so that a replica is brought up to date with what is
//! new and nothing else. The log is bounded: past its bounds the oldest entries go, and a
//! replica that had not taken them yet is compared whole (see `replica/push.rs`).
//!
//! Also: reading one consistent snapshot for a replication pass, and writing a restored store.

use std::path::Path;

use ed25519_dalek::SigningKey;
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use zeroize::Zeroizing;

use super::{At, BLOBS, KEY_SLOTS, META, REFS, RedbStore, SEALED_REFS, begin_write, finish, sealed};
use crate::replica::{RawRef, ReplicaConfig};
use crate::sealing::ReplicationRecord;
use crate::{Hash, StoreError};

/// The replication log: a commit's sequence number → the keys (32 bytes each) of the blobs it
/// put. Key 0 holds the log's summary.
pub(super) const REPLICATION_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("replication_log");
/// The meta entry listing the replicas.
pub(super) const META_REPLICAS: &str = "replicas";
/// The meta entry holding the root records' signing key.
pub(super) const META_REPLICATION_KEY: &str = "replication_key";

/// The log keeps at most this many commits…
const LOG_MOST_ENTRIES: u64 = 100_000;
/// … and at most this many blob keys (128 MiB of them).
const LOG_MOST_KEYS: u64 = 4 << 20;

/// The log's summary (its key 0): the first sequence number it still holds, the last one made,
/// and how many blob keys it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Summary {
    first: u64,
    last: u64,
    keys: u64,
}

impl Summary {
    fn encode(&self) -> [u8; 24] {
        let mut out = [0u8; 24];
        out[..8].copy_from_slice(&self.first.to_le_bytes());
        out[8..16].copy_from_slice(&self.last.to_le_bytes());
        out[16..].copy_from_slice(&self.keys.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Summary> {
        let field = |at: usize| bytes.get(at..at + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes);
        (bytes.len() == 24).then_some(())?;
        Some(Summary { first: field(0)?, last: field(8)?, keys: field(16)? })
    }
}

fn read_summary(path: &Path, log: &impl ReadableTable<u64, &'static [u8]>) -> Result<Summary, StoreError> {
    match log.get(0).at(path)? {
        None => Ok(Summary { first: 1, last: 0, keys: 0 }),
        Some(value) => Summary::decode(value.value()).ok_or_else(|| StoreError::Corrupt {
            path: path.to_path_buf(),
            cause: "the replication log's summary is malformed".to_string(),
        }),
    }
}

/// Appends one commit to the log (in the commit's own transaction) and drops what is past the
/// log's bounds. Returns the commit's sequence number.
pub(super) fn log_commit(path: &Path, txn: &WriteTransaction, keys: &[[u8; 32]]) -> Result<u64, StoreError> {
    let mut log = txn.open_table(REPLICATION_LOG).at(path)?;
    let mut summary = read_summary(path, &log)?;
    summary.last += 1;
    log.insert(summary.last, keys.concat().as_slice()).at(path)?;
    summary.keys += keys.len() as u64;
    while summary.first < summary.last
        && (summary.last - summary.first + 1 > LOG_MOST_ENTRIES || summary.keys > LOG_MOST_KEYS)
    {
        if let Some(dropped) = log.remove(summary.first).at(path)? {
            summary.keys = summary.keys.saturating_sub((dropped.value().len() / 32) as u64);
        }
        summary.first += 1;
    }
    log.insert(0, &summary.encode()[..]).at(path)?;
    Ok(summary.last)
}

/// One snapshot of the store, held open for a pass: the blobs it reads are those of the refs it
/// read, whatever the store's writer commits or collects meanwhile.
pub(crate) struct Snapshot {
    txn: ReadTransaction,
    path: std::path::PathBuf,
    /// An encrypted store's keys, to check each blob as it is read.
    sealed: Option<std::sync::Arc<sealed::Sealed>>,
}

impl Snapshot {
    /// The stored bytes of the blobs with these keys in the snapshot (`None` for one it does not
    /// hold: collected before it, so none of its refs reaches it), each checked as every read
    /// from a file is (its hash; in an encrypted store, its authentication): a damaged blob is
    /// [`StoreError::CorruptBlob`], never sent.
    pub(crate) fn raw_blobs(&self, keys: &[[u8; 32]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        super::refuse_panics(&self.path, || {
            let blobs = self.txn.open_table(BLOBS).at(&self.path)?;
            let mut scratch = Vec::new();
            let mut read = Vec::with_capacity(keys.len());
            for key in keys {
                let Some(value) = blobs.get(&key[..]).at(&self.path)? else {
                    read.push(None);
                    continue;
                };
                let stored = value.value();
                let sound = match &self.sealed {
                    None => Hash::of(stored).0 == *key,
                    Some(sealed) => sealed.sealer.blob_opens(key, stored, &mut scratch),
                };
                if !sound {
                    return Err(StoreError::CorruptBlob { hash: Hash(*key) });
                }
                read.push(Some(stored.to_vec()));
            }
            Ok(read)
        })
    }

    /// Whether a writer that was stopped when the snapshot was taken ran since (see
    /// `reading_file.rs`): what was read may not be one state, and the pass must not stand.
    pub(crate) fn disturbed(&self) -> bool {
        crate::reading_file::disturbed()
    }
}

/// What a replication pass reads from one snapshot of the store.
pub(crate) struct PassStart {
    /// The snapshot, for the blobs' bytes.
    pub(crate) snapshot: Snapshot,
    /// The sequence number of the snapshot's last commit.
    pub(crate) seq: u64,
    /// The keys of the blobs put since the sequence number asked for; `None` when the log no
    /// longer reaches back that far (or it was 0): the replica must be compared whole.
    pub(crate) new_keys: Option<Vec<[u8; 32]>>,
    /// Every blob's key, when `new_keys` is `None`.
    pub(crate) all_keys: Vec<[u8; 32]>,
    /// The ref table as it is kept, sorted by key.
    pub(crate) refs: Vec<RawRef>,
    pub(crate) format_version: u32,
    /// The meta entries a restored store needs.
    pub(crate) meta: Vec<(String, Vec<u8>)>,
    /// The key slots (an encrypted store's).
    pub(crate) slots: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The replicas listed in `encoded` (lines `NUMBER\tNAME\tTARGET`).
fn decode_replicas(path: &Path, encoded: &[u8]) -> Result<Vec<ReplicaConfig>, StoreError> {
    let malformed =
        || StoreError::Corrupt { path: path.to_path_buf(), cause: "the list of replicas is malformed".into() };
    let text = std::str::from_utf8(encoded).map_err(|_| malformed())?;
    let mut replicas = Vec::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        let mut fields = line.splitn(3, '\t');
        let (Some(id), Some(name), Some(target)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(malformed());
        };
        let id = id.parse().map_err(|_| malformed())?;
        replicas.push(ReplicaConfig { id, name: name.to_string(), target: target.to_string() });
    }
    Ok(replicas)
}

fn encode_replicas(replicas: &[ReplicaConfig]) -> Vec<u8> {
    let mut out = String::new();
    for replica in replicas {
        out.push_str(&format!("{}\t{}\t{}\n", replica.id, replica.name, replica.target));
    }
    out.into_bytes()
}

impl RedbStore {
    pub(super) fn meta_record(
        &self,
        meta: &impl ReadableTable<&'static str, &'static [u8]>,
        name: &str,
        record: ReplicationRecord,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let Some(value) = meta.get(name).at(&self.path)? else { return Ok(None) };
        match &self.sealed {
            None => Ok(Some(Zeroizing::new(value.value().to_vec()))),
            Some(sealed) => sealed
                .sealer
                .open_replication(record, value.value())
                .map(Some)
                .map_err(|_| sealed::tampered(&self.path, format!("the meta entry {name}"))),
        }
    }

    fn seal_record(&self, record: ReplicationRecord, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        match &self.sealed {
            None => Ok(plain.to_vec()),
            Some(sealed) => {
                sealed.sealer.seal_replication(record, plain).map_err(|e| sealed::seal_error(&self.path, e))
            }
        }
    }

    fn replicas_in(&self, txn: &ReadTransaction) -> Result<Vec<ReplicaConfig>, StoreError> {
        self.replicas_in_meta(&txn.open_table(META).at(&self.path)?)
    }

    /// The replicas the meta table `meta` lists.
    fn replicas_in_meta(
        &self,
        meta: &impl ReadableTable<&'static str, &'static [u8]>,
    ) -> Result<Vec<ReplicaConfig>, StoreError> {
        match self.meta_record(meta, META_REPLICAS, ReplicationRecord::Replicas)? {
            None => Ok(Vec::new()),
            Some(encoded) => decode_replicas(&self.path, &encoded),
        }
    }

    /// The replicas this store copies itself to, in the order they were added.
    pub fn replicas(&self) -> Result<Vec<ReplicaConfig>, StoreError> {
        super::redo_if_disturbed(&self.path, || self.replicas_in(&self.read_txn()?))
    }

    /// Adds the replica `name` at `target` (an address the caller understands: the store only
    /// keeps it), and from this commit on logs what each commit adds. The first replica also
    /// makes the store's signing key. A name already used is refused ([`StoreError::BadReplica`]).
    pub fn add_replica(&mut self, name: &str, target: &str) -> Result<ReplicaConfig, StoreError> {
        crate::replica::check_replica_name(name).map_err(|cause| StoreError::BadReplica { cause })?;
        if target.contains(['\t', '\n', '\r']) || target.is_empty() {
            return Err(StoreError::BadReplica { cause: format!("{target:?} is not a replica target") });
        }
        let path = self.path.clone();
        super::refuse_panics(&path, || {
            let txn = begin_write(self.writable()?, &self.path)?;
            let work = (|| {
                let mut replicas = self.replicas_in_meta(&txn.open_table(META).at(&self.path)?)?;
                if replicas.iter().any(|r| r.name == name) {
                    return Err(StoreError::BadReplica { cause: format!("there is a replica named {name:?} already") });
                }
                let id = replicas.iter().map(|r| r.id).max().unwrap_or(0) + 1;
                let added = ReplicaConfig { id, name: name.to_string(), target: target.to_string() };
                replicas.push(added.clone());
                let sealed_list = self.seal_record(ReplicationRecord::Replicas, &encode_replicas(&replicas))?;
                let key = {
                    let meta = txn.open_table(META).at(&self.path)?;
                    self.meta_record(&meta, META_REPLICATION_KEY, ReplicationRecord::SigningKey)?
                };
                let mut meta = txn.open_table(META).at(&self.path)?;
                if key.is_none() {
                    let mut seed = Zeroizing::new([0u8; 32]);
                    getrandom::fill(&mut seed[..]).map_err(|e| StoreError::Io {
                        path: self.path.clone(),
                        cause: format!("no random bytes: {e}"),
                    })?;
                    let sealed_key = self.seal_record(ReplicationRecord::SigningKey, &seed[..])?;
                    meta.insert(META_REPLICATION_KEY, sealed_key.as_slice()).at(&self.path)?;
                }
                meta.insert(META_REPLICAS, sealed_list.as_slice()).at(&self.path)?;
                drop(meta);
                log_commit(&self.path, &txn, &[])?;
                Ok((added, true))
            })();
            let added = finish(txn, &self.path, work)?;
            self.replicating = true;
            Ok(added)
        })
    }

    /// Removes the replica `name` from the list (its objects stay where they are). With none
    /// left, commits are no longer logged.
    pub fn remove_replica(&mut self, name: &str) -> Result<ReplicaConfig, StoreError> {
        let path = self.path.clone();
        super::refuse_panics(&path, || {
            let txn = begin_write(self.writable()?, &self.path)?;
            let work = (|| {
                let mut replicas = self.replicas_in_meta(&txn.open_table(META).at(&self.path)?)?;
                let Some(at) = replicas.iter().position(|r| r.name == name) else {
                    return Err(StoreError::BadReplica { cause: format!("there is no replica named {name:?}") });
                };
                let removed = replicas.remove(at);
                let mut meta = txn.open_table(META).at(&self.path)?;
                if replicas.is_empty() {
                    meta.remove(META_REPLICAS).at(&self.path)?;
                } else {
                    let sealed_list = self.seal_record(ReplicationRecord::Replicas, &encode_replicas(&replicas))?;
                    meta.insert(META_REPLICAS, sealed_list.as_slice()).at(&self.path)?;
                }
                Ok(((removed, replicas.is_empty()), true))
            })();
            let (removed, none_left) = finish(txn, &self.path, work)?;
            if none_left {
                self.replicating = false;
            }
            Ok(removed)
        })
    }

    /// Whether the store lists replicas (read when it is opened).
    pub(super) fn lists_replicas(&self) -> Result<bool, StoreError> {
        Ok(!self.replicas_in(&self.read_txn()?)?.is_empty())
    }

    /// The key that signs this store's root records; `None` before a replica was ever added.
    pub(crate) fn signing_key(&self) -> Result<Option<SigningKey>, StoreError> {
        super::redo_if_disturbed(&self.path, || {
            let txn = self.read_txn()?;
            let meta = txn.open_table(META).at(&self.path)?;
            let Some(seed) = self.meta_record(&meta, META_REPLICATION_KEY, ReplicationRecord::SigningKey)? else {
                return Ok(None);
            };
            let seed = <[u8; 32]>::try_from(seed.as_slice()).map_err(|_| StoreError::Corrupt {
                path: self.path.clone(),
                cause: "the replication key is malformed".to_string(),
            })?;
            Ok(Some(SigningKey::from_bytes(&seed)))
        })
    }

    /// The replication sequence number of the store's last commit (0: none logged): what a
    /// replica must hold to hold that commit.
    pub fn replication_seq(&self) -> Result<u64, StoreError> {
        super::redo_if_disturbed(&self.path, || {
            let txn = self.read_txn()?;
            match txn.open_table(REPLICATION_LOG) {
                Ok(log) => Ok(read_summary(&self.path, &log)?.last),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
                Err(e) => Err(super::from_redb(&self.path, e.into())),
            }
        })
    }

    /// The blob keys the log holds for commits after `after`; `None` if the log no longer
    /// reaches back there.
    pub(crate) fn logged_since(&self, after: u64) -> Result<Option<Vec<[u8; 32]>>, StoreError> {
        super::redo_if_disturbed(&self.path, || {
            let txn = self.read_txn()?;
            let log = match txn.open_table(REPLICATION_LOG) {
                Ok(log) => log,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Some(Vec::new())),
                Err(e) => return Err(super::from_redb(&self.path, e.into())),
            };
            let summary = read_summary(&self.path, &log)?;
            self.keys_logged(&log, &summary, after)
        })
    }

    fn keys_logged(
        &self,
        log: &impl ReadableTable<u64, &'static [u8]>,
        summary: &Summary,
        after: u64,
    ) -> Result<Option<Vec<[u8; 32]>>, StoreError> {
        if after == 0 || after + 1 < summary.first {
            return Ok(None);
        }
        let mut keys = Vec::new();
        if after >= summary.last {
            return Ok(Some(keys));
        }
        for entry in log.range(after + 1..=summary.last).at(&self.path)? {
            let (_, value) = entry.at(&self.path)?;
            for key in value.value().chunks_exact(32) {
                keys.push(key.try_into().unwrap_or([0; 32]));
            }
        }
        Ok(Some(keys))
    }

    /// One consistent snapshot for a replication pass that last brought a replica to `after`,
    /// held open (see [`Snapshot`]).
    pub(crate) fn pass_start(&self, after: u64) -> Result<PassStart, StoreError> {
        crate::reading_file::begin();
        super::refuse_panics(&self.path, || self.pass_start_unguarded(after))
    }

    fn pass_start_unguarded(&self, after: u64) -> Result<PassStart, StoreError> {
        let path = &self.path;
        let txn = self.read_txn()?;
        let (seq, new_keys) = match txn.open_table(REPLICATION_LOG) {
            Ok(log) => {
                let summary = read_summary(path, &log)?;
                (summary.last, self.keys_logged(&log, &summary, after)?)
            }
            Err(redb::TableError::TableDoesNotExist(_)) => (0, None),
            Err(e) => return Err(super::from_redb(path, e.into())),
        };
        let mut all_keys = Vec::new();
        if new_keys.is_none() {
            let blobs = txn.open_table(BLOBS).at(path)?;
            for entry in blobs.iter().at(path)? {
                let (key, _) = entry.at(path)?;
                if let Ok(key) = <[u8; 32]>::try_from(key.value()) {
                    all_keys.push(key);
                }
            }
        }
        let mut refs = Vec::new();
        let mut meta_entries = Vec::new();
        let mut slots = Vec::new();
        let format_version;
        match &self.sealed {
            None => {
                format_version = super::FORMAT_VERSION;
                for entry in txn.open_table(REFS).at(path)?.iter().at(path)? {
                    let (name, value) = entry.at(path)?;
                    refs.push((name.value().as_bytes().to_vec(), value.value().to_vec()));
                }
            }
            Some(_) => {
                format_version = super::ENCRYPTED_FORMAT_VERSION;
                for entry in txn.open_table(SEALED_REFS).at(path)?.iter().at(path)? {
                    let (key, value) = entry.at(path)?;
                    refs.push((key.value().to_vec(), value.value().to_vec()));
                }
                let meta = txn.open_table(META).at(path)?;
                for name in [
                    super::META_ENCRYPTION,
                    super::META_STATE,
                    super::META_BUNDLE_KEYS,
                    META_REPLICATION_KEY,
                    META_REPLICAS,
                ] {
                    if let Some(value) = meta.get(name).at(path)? {
                        meta_entries.push((name.to_string(), value.value().to_vec()));
                    }
                }
                for entry in txn.open_table(KEY_SLOTS).at(path)?.iter().at(path)? {
                    let (key, value) = entry.at(path)?;
                    slots.push((key.value().to_vec(), value.value().to_vec()));
                }
            }
        }
        let snapshot = Snapshot { txn, path: path.clone(), sealed: self.sealed.clone() };
        Ok(PassStart { snapshot, seq, new_keys, all_keys, refs, format_version, meta: meta_entries, slots })
    }

    /// The total length of the stored blobs with these keys (those no longer held count 0),
    /// without copying them.
    pub(crate) fn raw_blob_bytes(&self, keys: &[[u8; 32]]) -> Result<u64, StoreError> {
        super::redo_if_disturbed(&self.path, || {
            let txn = self.read_txn()?;
            let blobs = txn.open_table(BLOBS).at(&self.path)?;
            let mut total = 0u64;
            for key in keys {
                if let Some(value) = blobs.get(&key[..]).at(&self.path)? {
                    total += value.value().len() as u64;
                }
            }
            Ok(total)
        })
    }

    /// The key the blob `hash` is kept under.
    pub(crate) fn raw_blob_key(&self, hash: &Hash) -> [u8; 32] {
        match &self.sealed {
            None => hash.0,
            Some(sealed) => sealed.sealer.blob_key(hash),
        }
    }

    /// The blob `hash`'s bytes from its stored form `stored`, if they are genuine (they hash to
    /// `hash`; in an encrypted store, they open under the store's key as that blob).
    pub(crate) fn open_raw_blob(&self, hash: &Hash, stored: &[u8]) -> Option<Vec<u8>> {
        let bytes = match &self.sealed {
            None => stored.to_vec(),
            Some(sealed) => sealed.sealer.open_blob(&sealed.sealer.blob_key(hash), stored).ok()?,
        };
        (Hash::of(&bytes) == *hash).then_some(bytes)
    }

    /// The target of a ref entry as it is kept.
    pub(crate) fn open_raw_ref(&self, key: &[u8], value: &[u8]) -> Option<(String, Hash)> {
        match &self.sealed {
            None => Some((String::from_utf8(key.to_vec()).ok()?, Hash::from_slice(value)?)),
            Some(sealed) => sealed.sealer.open_ref(key, value).ok().filter(|_| true),
        }
    }

    /// Seals a replica's progress record for the file beside the store (as is, in a plain store).
    pub(crate) fn seal_progress(&self, id: u32, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.seal_record(ReplicationRecord::Progress(id), plain)
    }

    /// The progress record sealed by [`RedbStore::seal_progress`], or `None` if it does not open.
    pub(crate) fn open_progress(&self, id: u32, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        match &self.sealed {
            None => Some(Zeroizing::new(sealed.to_vec())),
            Some(keys) => keys.sealer.open_replication(ReplicationRecord::Progress(id), sealed).ok(),
        }
    }

    /// Writes blobs as they are kept (checked by the caller), in one durable commit: for a
    /// restore, which writes them in large batches.
    pub(crate) fn put_raw_blobs(&mut self, blobs: &[([u8; 32], Vec<u8>)]) -> Result<(), StoreError> {
        let path = self.path.clone();
        super::refuse_panics(&path, || {
            let txn = begin_write(self.writable()?, &self.path)?;
            let work = (|| {
                let mut table = txn.open_table(BLOBS).at(&self.path)?;
                for (key, bytes) in blobs {
                    table.insert(&key[..], bytes.as_slice()).at(&self.path)?;
                }
                Ok(((), true))
            })();
            finish(txn, &self.path, work)
        })
    }
}

/// Carries a store's replication records into the copy `store rotate` makes (in the copy's
/// transaction `txn`), sealed under the copy's key: the same replicas and signing key, and a log
/// that starts after the store's, empty, so that every replica is compared whole (the blobs'
/// keyed ids change with the key).
pub(super) fn carry_into_rotated_copy(
    source: &RedbStore,
    txn: &WriteTransaction,
    copy_at: &Path,
    new: &crate::sealing::Sealer,
) -> Result<(), StoreError> {
    let source_txn = source.read_txn()?;
    let source_meta = source_txn.open_table(META).at(&source.path)?;
    let mut meta = txn.open_table(META).at(copy_at)?;
    for (name, record) in
        [(META_REPLICAS, ReplicationRecord::Replicas), (META_REPLICATION_KEY, ReplicationRecord::SigningKey)]
    {
        if let Some(plain) = source.meta_record(&source_meta, name, record)? {
            let sealed = new.seal_replication(record, &plain).map_err(|e| sealed::seal_error(copy_at, e))?;
            meta.insert(name, sealed.as_slice()).at(copy_at)?;
        }
    }
    let last = match source_txn.open_table(REPLICATION_LOG) {
        Ok(log) => read_summary(&source.path, &log)?.last,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(super::from_redb(&source.path, e.into())),
    };
    let mut log = txn.open_table(REPLICATION_LOG).at(copy_at)?;
    log.retain(|seq, _| seq == 0).at(copy_at)?;
    let summary = Summary { first: last + 2, last: last + 1, keys: 0 };
    log.insert(0, &summary.encode()[..]).at(copy_at)?;
    Ok(())
}

/// What a restored store starts as: the header and refs of the root it is restored from.
pub(crate) struct RestoredHeader<'a> {
    pub(crate) format_version: u32,
    pub(crate) meta: &'a [(String, Vec<u8>)],
    pub(crate) slots: &'a [(Vec<u8>, Vec<u8>)],
    pub(crate) refs: &'a [RawRef],
    /// The replication sequence number it goes on from (the highest any replica showed).
    pub(crate) seq: u64,
}

/// Writes a new store file at `path` (which must not exist) holding `header`, its blobs to come.
pub(crate) fn write_restored(path: &Path, header: &RestoredHeader<'_>) -> Result<(), StoreError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| super::io_error(path, &e))?;
    let backend = redb::backends::FileBackend::new(file)
        .map_err(|e| StoreError::Backend { path: path.to_path_buf(), cause: e.to_string() })?;
    let db = super::builder(false)
        .create_with_backend(backend)
        .map_err(|e| StoreError::Backend { path: path.to_path_buf(), cause: e.to_string() })?;
    let txn = begin_write(&db, path)?;
    let work = (|| {
        let mut meta = txn.open_table(META).at(path)?;
        meta.insert(super::META_MAGIC, super::MAGIC).at(path)?;
        meta.insert(super::META_VERSION, &header.format_version.to_le_bytes()[..]).at(path)?;
        for (name, value) in header.meta {
            meta.insert(name.as_str(), value.as_slice()).at(path)?;
        }
        drop(meta);
        txn.open_table(BLOBS).at(path)?;
        if header.format_version == super::FORMAT_VERSION {
            let mut refs = txn.open_table(REFS).at(path)?;
            for (name, target) in header.refs {
                let name = std::str::from_utf8(name).map_err(|_| StoreError::Corrupt {
                    path: path.to_path_buf(),
                    cause: "a replicated ref name is not UTF-8".to_string(),
                })?;
                refs.insert(name, target.as_slice()).at(path)?;
            }
        } else {
            let mut refs = txn.open_table(SEALED_REFS).at(path)?;
            for (key, value) in header.refs {
                refs.insert(key.as_slice(), value.as_slice()).at(path)?;
            }
            let mut slots = txn.open_table(KEY_SLOTS).at(path)?;
            for (key, value) in header.slots {
                slots.insert(key.as_slice(), value.as_slice()).at(path)?;
            }
        }
        if header.seq > 0 {
            let mut log = txn.open_table(REPLICATION_LOG).at(path)?;
            let summary = Summary { first: header.seq + 1, last: header.seq, keys: 0 };
            log.insert(0, &summary.encode()[..]).at(path)?;
        }
        Ok(((), true))
    })();
    finish(txn, path, work)?;
    drop(db);
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(|e| super::io_error(path, &e))
}
