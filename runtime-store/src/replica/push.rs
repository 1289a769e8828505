//! One replication pass: bring a replica to the store's last commit. What the log says is new
//! goes in packs, then the ref tree's new nodes and the root, and last the signed root record;
//! only then does the replica's progress move. A pass cut anywhere (a crash, a target that went
//! away) leaves the replica at its previous root, with some objects more that nothing names yet.

use std::collections::{HashMap, HashSet};

use super::blocks::{self, BlockId, Kind};
use super::progress::{self, Progress, now_ms};
use super::records::{Root, RootRecord, seq_of_name};
use super::{ReplicaConfig, ReplicaError, ReplicaTarget, ref_tree};
use crate::{RedbStore, StoreError};

/// A pack is sent when it holds this many bytes…
const PACK_BYTES: usize = 16 << 20;
/// … or this many blocks.
const PACK_BLOCKS: usize = 16_384;
/// Blobs read from the store at a time.
const READ_AT_ONCE: usize = 1024;
/// How many times a pass starts again when a stopped writer beside it ran while it read.
const MOST_STARTS: usize = 4;

/// Why a pass failed. The replica stays at its previous root; the next pass goes on from there.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target could not take the objects.
    #[error(transparent)]
    Target(#[from] ReplicaError),
    /// A writer stopped beside the pass kept running while it read; it is tried again later.
    #[error(
        "the store's writer was stopped and continued while this pass read it, {MOST_STARTS} times over; the next pass tries again"
    )]
    Moved,
}

/// What a pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The sequence number the replica is at now.
    pub seq: u64,
    /// Blobs sent.
    pub blobs_sent: u64,
    /// Bytes sent (packs and the root record).
    pub bytes_sent: u64,
    /// Packs sent.
    pub packs_sent: u64,
    /// Whether the replica was compared whole (a new replica, one behind the log's reach, or one
    /// that went back), rather than sent what the log listed.
    pub compared_whole: bool,
    /// What was noticed of a replica that went back.
    pub went_back: Option<String>,
}

/// How a pass ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The replica was at the store's last commit already.
    UpToDate {
        /// That commit's sequence number.
        seq: u64,
    },
    /// The replica was brought up to date.
    Synced(SyncReport),
    /// Another pass (in this process or another) is working on this replica.
    Busy,
}

/// What a long-running replicator remembers between passes: the ref tree nodes each replica
/// has, so that a pass sends only the nodes its commits changed.
#[derive(Debug, Default)]
pub struct SyncMemory {
    nodes: HashMap<u32, HashSet<BlockId>>,
}

/// Brings `replica` (at `target`) to the store's last commit. Records its progress beside the
/// store, failures included ([`super::status`] shows them).
pub fn sync(
    store: &RedbStore,
    replica: &ReplicaConfig,
    target: &dyn ReplicaTarget,
    memory: &mut SyncMemory,
) -> Result<SyncOutcome, SyncError> {
    let Some(_lock) = progress::try_lock(store.path(), replica.id)? else {
        return Ok(SyncOutcome::Busy);
    };
    let mut progress = progress::read(store, replica.id);
    let before = progress.clone();
    let outcome = pass(store, replica, target, memory, &mut progress, None);
    match &outcome {
        Ok(_) => {
            progress.last_success_ms = Some(now_ms());
            progress.last_error = None;
        }
        Err(error) => progress.last_error = Some((now_ms(), error.to_string())),
    }
    if progress != before {
        progress::write(store, replica.id, &progress)?;
    }
    outcome
}

fn pass(
    store: &RedbStore,
    replica: &ReplicaConfig,
    target: &dyn ReplicaTarget,
    memory: &mut SyncMemory,
    progress: &mut Progress,
    mut scrub: Option<&mut CheckReport>,
) -> Result<SyncOutcome, SyncError> {
    let key = store.signing_key()?.ok_or_else(|| StoreError::BadReplica {
        cause: "the store has no signing key for root records (it lists no replica)".into(),
    })?;
    let store_id = key.verifying_key().to_bytes();
    let mut whole = progress.acked == 0 || scrub.is_some();
    let mut went_back = None;
    let shown = newest_root(target, &store_id)?;
    if shown < progress.high_water || shown < progress.acked {
        let note = format!(
            "the replica shows sequence number {shown}, but held {} before: its records were lost, or it serves an older copy",
            progress.high_water.max(progress.acked)
        );
        went_back = Some(note.clone());
        progress.went_back = Some(note);
        whole = true;
        memory.nodes.remove(&replica.id);
    }
    for _ in 0..MOST_STARTS {
        let start = store.pass_start(if whole { 0 } else { progress.acked })?;
        if !whole && start.seq == progress.acked && start.new_keys.is_some() {
            return Ok(SyncOutcome::UpToDate { seq: start.seq });
        }
        let mut sender = PackSender { target, blocks: Vec::new(), bytes: 0, report: SyncReport::default() };
        let nodes = memory.nodes.entry(replica.id).or_default();
        let keys = match start.new_keys {
            Some(mut keys) => {
                keys.sort_unstable();
                keys.dedup();
                keys
            }
            None => {
                sender.report.compared_whole = true;
                let held = held_blocks(target, scrub.as_deref_mut())?;
                nodes.extend(held.blocks);
                start.all_keys.into_iter().filter(|key| !held.blob_keys.contains(key)).collect()
            }
        };
        for chunk in keys.chunks(READ_AT_ONCE) {
            // A blob the snapshot does not hold was collected before it: none of its refs
            // reaches it, and it is not sent.
            for (key, stored) in chunk.iter().zip(start.snapshot.raw_blobs(chunk)?) {
                if let Some(stored) = stored {
                    sender.add(blocks::blob_block(key, &stored))?;
                    sender.report.blobs_sent += 1;
                }
            }
        }
        let (refs_root, tree) = ref_tree::build(&start.refs);
        let mut new_nodes = Vec::new();
        for node in tree {
            let id = BlockId::of(&node);
            if !nodes.contains(&id) {
                new_nodes.push(id);
                sender.add(node)?;
            }
        }
        let root = Root {
            format_version: start.format_version,
            seq: start.seq,
            refs: refs_root,
            ref_count: start.refs.len() as u64,
            meta: start.meta,
            slots: start.slots,
        };
        let root_block = root.encode();
        let root_id = BlockId::of(&root_block);
        sender.add(root_block)?;
        let record = RootRecord {
            store_id,
            seq: start.seq,
            root: root_id,
            previous: progress.last_record.unwrap_or(BlockId([0; 32])),
            made_at_ms: now_ms(),
        };
        let record_bytes = record.sign(&key);
        // The record goes in the pack too, so that a pack (a CAR file) is whole by itself.
        sender.add(record_bytes.clone())?;
        sender.flush()?;
        if start.snapshot.disturbed() {
            // A writer stopped when the snapshot was taken ran meanwhile: what was read may not
            // be one state. What was sent stays (nothing names it); the record is not sent.
            continue;
        }
        target.put(&RootRecord::object_name(&record_bytes, start.seq), &record_bytes)?;
        nodes.extend(new_nodes);
        let mut report = sender.report;
        report.bytes_sent += record_bytes.len() as u64;
        report.seq = start.seq;
        report.went_back = went_back;
        progress.acked = start.seq;
        progress.last_record = Some(BlockId::of(&record_bytes));
        progress.high_water = progress.high_water.max(start.seq);
        progress.bytes_sent += report.bytes_sent;
        progress.packs_sent += report.packs_sent;
        if !report.compared_whole {
            progress.went_back = None;
        }
        return Ok(SyncOutcome::Synced(report));
    }
    Err(SyncError::Moved)
}

/// Blocks gathered into packs and sent as each fills.
struct PackSender<'a> {
    target: &'a dyn ReplicaTarget,
    blocks: Vec<Vec<u8>>,
    bytes: usize,
    report: SyncReport,
}

impl PackSender<'_> {
    fn add(&mut self, block: Vec<u8>) -> Result<(), ReplicaError> {
        self.bytes += block.len();
        self.blocks.push(block);
        if self.bytes >= PACK_BYTES || self.blocks.len() >= PACK_BLOCKS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ReplicaError> {
        if self.blocks.is_empty() {
            return Ok(());
        }
        let pack = blocks::pack(&self.blocks);
        self.target.put(&blocks::pack_name(&pack), &pack)?;
        self.report.bytes_sent += pack.len() as u64;
        self.report.packs_sent += 1;
        self.blocks.clear();
        self.bytes = 0;
        Ok(())
    }
}

/// The sequence number of the newest root record of `store_id` that `target` holds and that
/// verifies (0: none). Records that do not verify are passed over.
pub(crate) fn newest_root(target: &dyn ReplicaTarget, store_id: &[u8; 32]) -> Result<u64, ReplicaError> {
    let mut names = target.list("roots/")?;
    names.sort_by_key(|name| std::cmp::Reverse(seq_of_name(name)));
    for name in names {
        let Some(bytes) = target.get(&name)? else { continue };
        if let Ok(record) = RootRecord::verify(&bytes)
            && record.store_id == *store_id
            && seq_of_name(&name) == Some(record.seq)
        {
            return Ok(record.seq);
        }
    }
    Ok(0)
}

/// What [`check`] found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Whether every block was read and checked against its CID (`--read-data`); otherwise each
    /// pack was taken at its index's word.
    pub read_data: bool,
    /// Packs read.
    pub packs: u64,
    /// Blocks in them.
    pub blocks: u64,
    /// Blocks whose bytes do not match their CID.
    pub corrupt_blocks: u64,
    /// Packs cut short or unreadable past some point.
    pub damaged_packs: Vec<String>,
    /// The pass that sent what the replica lacked (damaged blocks count as lacking).
    pub sync: Option<SyncReport>,
}

/// Scrubs `replica`: reads the index of every pack it holds (and with `read_data` checks every
/// block against its CID), then sends every blob of the store it does not hold (intact), and a
/// new root record. `None`: another pass is at work on the replica.
pub fn check(
    store: &RedbStore,
    replica: &ReplicaConfig,
    target: &dyn ReplicaTarget,
    read_data: bool,
) -> Result<Option<CheckReport>, SyncError> {
    let Some(_lock) = progress::try_lock(store.path(), replica.id)? else {
        return Ok(None);
    };
    let mut progress = progress::read(store, replica.id);
    let mut report = CheckReport { read_data, ..CheckReport::default() };
    let outcome = pass(store, replica, target, &mut SyncMemory::default(), &mut progress, Some(&mut report));
    match &outcome {
        Ok(_) => {
            progress.last_success_ms = Some(now_ms());
            progress.last_error = None;
        }
        Err(error) => progress.last_error = Some((now_ms(), error.to_string())),
    }
    progress::write(store, replica.id, &progress)?;
    if let SyncOutcome::Synced(sync) = outcome? {
        report.sync = Some(sync);
    }
    Ok(Some(report))
}

/// What a replica's packs hold: every sound block's id and every blob's key.
struct Held {
    blocks: HashSet<BlockId>,
    blob_keys: HashSet<[u8; 32]>,
}

/// With `scrub`, every block is checked against its CID (and counted there); without, a pack
/// whose index is sound is taken at its index's word.
fn held_blocks(target: &dyn ReplicaTarget, mut scrub: Option<&mut CheckReport>) -> Result<Held, ReplicaError> {
    let mut held = Held { blocks: HashSet::new(), blob_keys: HashSet::new() };
    for name in target.list("packs/")? {
        let Some(pack) = target.get(&name)? else { continue };
        let trusting = scrub.as_deref().is_some_and(|report| !report.read_data);
        if trusting && let Some(indexed) = blocks::indexed_blocks(&pack) {
            if let Some(report) = scrub.as_deref_mut() {
                report.packs += 1;
                report.blocks += indexed.len() as u64;
            }
            for (id, range) in indexed {
                if let Some((key, _)) = blocks::split_blob_block(&pack[range]) {
                    held.blob_keys.insert(key);
                }
                held.blocks.insert(id);
            }
            continue;
        }
        let contents = blocks::read_car(&pack);
        if let Some(report) = scrub.as_deref_mut() {
            report.packs += 1;
            report.blocks += (contents.blocks.len() + contents.corrupt.len()) as u64;
            report.corrupt_blocks += contents.corrupt.len() as u64;
            if contents.bad_header || contents.sound_len < pack.len() {
                report.damaged_packs.push(name.clone());
            }
        }
        for (id, range) in contents.blocks {
            let block = &pack[range];
            if Kind::of(block) == Some(Kind::Blob)
                && let Some((key, _)) = blocks::split_blob_block(block)
            {
                held.blob_keys.insert(key);
            }
            held.blocks.insert(id);
        }
    }
    Ok(held)
}
