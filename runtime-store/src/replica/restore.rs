//! Restore: a new store from several replicas, none trusted alone. Root records that do not
//! verify are dropped; the newest root whose ref tree and every reachable blob some replica holds
//! intact is written out; each replica's part is reported (what it lacked, what was corrupt,
//! whether it was behind, which records were forged).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::blocks::{self, BlockId, Kind};
use super::records::{BadRecord, Root, RootRecord, seq_of_name};
use super::{ReplicaTarget, ref_tree, store_id_text};
use crate::redb_store::{RestoredHeader, write_restored};
use crate::{Hash, Mode, RedbStore, RootsOf, StoreError, Unlock};

/// At most this many root records are read from each replica, newest first by name.
const MOST_RECORDS_READ: usize = 256;
/// Blobs written to the new store at a time.
const WRITE_AT_ONCE: usize = 4096;

/// What a restore needs besides its replicas.
pub struct RestoreOptions<'a> {
    /// The blobs a blob refers to (the layer above knows the blobs' format).
    pub roots_of: RootsOf<'a>,
    /// What unlocks an encrypted store's root (its key slots are restored with it).
    pub unlock: &'a Unlock,
    /// The store whose roots to restore, as `replica list` shows its id (64 hex digits). Without
    /// it, the id that most replicas' verified records carry, if one does.
    pub store_id: Option<[u8; 32]>,
}

/// What one replica held, as the restore found it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// The target, for people.
    pub target: String,
    /// Why it could not be read, if it could not.
    pub unreachable: Option<String>,
    /// Its newest verified root record of the store restored.
    pub newest_seq: Option<u64>,
    /// Verified root records of the store restored.
    pub records: u64,
    /// Records that did not verify, or were of another store: their names and why.
    pub forged: Vec<String>,
    /// Blocks whose bytes do not match their CID (flipped bits), and packs cut short or unreadable.
    pub corrupt_blocks: u64,
    /// Of the restored root's blobs: how many this replica did not hold at all…
    pub missing: u64,
    /// … and how many it held damaged (failing their hash or their authentication).
    pub corrupt: u64,
    /// Whether its newest root is older than the newest any replica holds.
    pub stale: bool,
}

/// What a restore did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// The store id (hex) of the roots restored.
    pub store_id: String,
    /// The sequence number of the root restored.
    pub seq: u64,
    /// The newest sequence number any replica holds a verified record of.
    pub newest_seq: u64,
    /// Newer roots that could not be rebuilt, and why: what was lost.
    pub skipped: Vec<(u64, String)>,
    /// Refs, blobs and bytes (as stored) in the new store.
    pub refs: u64,
    /// Blobs written.
    pub blobs: u64,
    /// Their bytes, as stored.
    pub bytes: u64,
    /// Each replica's part.
    pub sources: Vec<SourceReport>,
}

/// Why nothing was restored. The destination was not written.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A file is where the new store would go.
    #[error("{path}: a file is there already; restore writes only a new store", path = .path.display())]
    DestinationExists {
        /// The destination.
        path: PathBuf,
    },
    /// No replica holds a complete root of the store.
    #[error("nothing usable: {why}")]
    NothingUsable {
        /// Why, for people.
        why: String,
        /// Each replica's part.
        sources: Vec<SourceReport>,
    },
    /// Replicas hold verified records of several stores and none was named.
    #[error("the replicas hold root records of {} stores ({}): name the one to restore with its store id", .ids.len(), .ids.join(", "))]
    WhichStore {
        /// The store ids, with how many replicas hold each.
        ids: Vec<String>,
        /// Each replica's part.
        sources: Vec<SourceReport>,
    },
    /// The new store could not be written, or an encrypted root could not be unlocked.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One replica's verified records and packs.
struct Source<'a> {
    target: &'a dyn ReplicaTarget,
    report: SourceReport,
    records: Vec<RootRecord>,
    /// Its packs' names.
    packs: Vec<String>,
}

/// Where a copy of a block is: which source, which pack, which bytes, and the block's id (a pack
/// read again is checked again).
#[derive(Clone, Copy)]
struct Copy {
    id: BlockId,
    source: usize,
    pack: usize,
    start: usize,
    end: usize,
}

/// The packs read lately, within a budget of bytes: a restore holds an index of every block in
/// memory, not every pack, and reads a pack again if it was let go.
struct PackCache {
    budget: usize,
    held: HashMap<(usize, usize), std::sync::Arc<Vec<u8>>>,
    /// Least recently used first.
    order: std::collections::VecDeque<(usize, usize)>,
    bytes: usize,
}

/// The most bytes of packs a restore keeps in memory at once.
const PACK_CACHE_BYTES: usize = 512 << 20;

impl PackCache {
    fn new(budget: usize) -> PackCache {
        PackCache { budget, held: HashMap::new(), order: std::collections::VecDeque::new(), bytes: 0 }
    }

    /// Pack `pack` of source `source`, read (again) if it is not held; `None` if it cannot be.
    fn get(&mut self, sources: &mut [Source<'_>], source: usize, pack: usize) -> Option<std::sync::Arc<Vec<u8>>> {
        let slot = (source, pack);
        if let Some(bytes) = self.held.get(&slot).cloned() {
            self.order.retain(|s| *s != slot);
            self.order.push_back(slot);
            return Some(bytes);
        }
        let from = &mut sources[source];
        let name = from.packs.get(pack)?;
        let bytes = match from.target.get(name) {
            Ok(Some(bytes)) => std::sync::Arc::new(bytes),
            Ok(None) => return None,
            Err(error) => {
                from.report.unreachable.get_or_insert(error.to_string());
                return None;
            }
        };
        self.bytes += bytes.len();
        self.held.insert(slot, bytes.clone());
        self.order.push_back(slot);
        while self.bytes > self.budget && self.order.len() > 1 {
            let Some(oldest) = self.order.pop_front() else { break };
            if let Some(dropped) = self.held.remove(&oldest) {
                self.bytes -= dropped.len();
            }
        }
        Some(bytes)
    }

    /// The bytes of `copy`, if its pack can be read and they still match the block's id.
    fn block(&mut self, sources: &mut [Source<'_>], copy: &Copy) -> Option<Vec<u8>> {
        let pack = self.get(sources, copy.source, copy.pack)?;
        let block = pack.get(copy.start..copy.end)?;
        (BlockId::of(block) == copy.id).then(|| block.to_vec())
    }
}

/// Every copy of every block the replicas hold.
#[derive(Default)]
struct Index {
    blocks: HashMap<BlockId, Vec<Copy>>,
    blobs: HashMap<[u8; 32], Vec<Copy>>,
}

/// Restores the store the replicas in `targets` hold into a new store at `to`. See the module
/// documentation.
pub fn restore(
    targets: &[&dyn ReplicaTarget],
    to: &Path,
    options: &RestoreOptions<'_>,
) -> Result<RestoreReport, RestoreError> {
    if to.exists() {
        return Err(RestoreError::DestinationExists { path: to.to_path_buf() });
    }
    let mut sources: Vec<Source<'_>> = targets.iter().map(|target| read_source(*target)).collect();
    let store_id = match choose_store(&mut sources, options.store_id) {
        Ok(id) => id,
        Err(ids) => return Err(RestoreError::WhichStore { ids, sources: reports(&sources) }),
    };
    for source in &mut sources {
        let mut forged = Vec::new();
        source.records.retain(|record| {
            if record.store_id == store_id {
                true
            } else {
                forged.push(format!("a record of another store ({})", store_id_text(&record.store_id)));
                false
            }
        });
        source.report.forged.extend(forged);
        source.report.records = source.records.len() as u64;
        source.report.newest_seq = source.records.iter().map(|r| r.seq).max();
    }
    let newest_seq = sources.iter().filter_map(|s| s.report.newest_seq).max().unwrap_or(0);
    for source in &mut sources {
        source.report.stale = source.report.newest_seq.is_some_and(|seq| seq < newest_seq);
    }
    let mut candidates: BTreeMap<std::cmp::Reverse<u64>, Vec<BlockId>> = BTreeMap::new();
    for record in sources.iter().flat_map(|s| &s.records) {
        let roots = candidates.entry(std::cmp::Reverse(record.seq)).or_default();
        if !roots.contains(&record.root) {
            roots.push(record.root);
        }
    }
    if candidates.is_empty() {
        let why = if sources.iter().all(|s| s.report.unreachable.is_some()) {
            "no replica could be read".to_string()
        } else {
            "no replica holds a root record that verifies".to_string()
        };
        return Err(RestoreError::NothingUsable { why, sources: reports(&sources) });
    }
    read_packs(&mut sources);
    let mut cache = PackCache::new(PACK_CACHE_BYTES);
    let index = index(&mut sources, &mut cache);
    let mut skipped = Vec::new();
    for (std::cmp::Reverse(seq), roots) in candidates {
        for root_id in roots {
            match rebuild(&mut sources, &mut cache, &index, root_id, seq, newest_seq, store_id, to, options)? {
                Ok(mut report) => {
                    report.store_id = store_id_text(&store_id);
                    report.newest_seq = newest_seq;
                    report.skipped = skipped;
                    report.sources = reports(&sources);
                    return Ok(report);
                }
                Err(why) => skipped.push((seq, why)),
            }
        }
    }
    let why = format!(
        "no root can be rebuilt from what the replicas hold intact ({})",
        skipped.iter().map(|(seq, why)| format!("{seq}: {why}")).collect::<Vec<_>>().join("; ")
    );
    Err(RestoreError::NothingUsable { why, sources: reports(&sources) })
}

fn reports(sources: &[Source<'_>]) -> Vec<SourceReport> {
    sources.iter().map(|s| s.report.clone()).collect()
}

/// A replica's root records, verified (the newest [`MOST_RECORDS_READ`] by name).
fn read_source(target: &dyn ReplicaTarget) -> Source<'_> {
    let mut source = Source {
        target,
        report: SourceReport { target: target.describe(), ..SourceReport::default() },
        records: Vec::new(),
        packs: Vec::new(),
    };
    let names = match target.list("roots/") {
        Ok(names) => names,
        Err(error) => {
            source.report.unreachable = Some(error.to_string());
            return source;
        }
    };
    let mut names: Vec<String> = names;
    names.sort_by_key(|name| std::cmp::Reverse(seq_of_name(name)));
    for name in names.into_iter().take(MOST_RECORDS_READ) {
        let bytes = match target.get(&name) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(error) => {
                source.report.unreachable.get_or_insert(error.to_string());
                continue;
            }
        };
        match RootRecord::verify(&bytes) {
            Ok(record) if seq_of_name(&name) == Some(record.seq) => source.records.push(record),
            Ok(record) => source.report.forged.push(format!(
                "{name}: its name says sequence {}, its record {}",
                seq_of_name(&name).map_or("none".to_string(), |s| s.to_string()),
                record.seq
            )),
            Err(BadRecord::BadSignature) => source.report.forged.push(format!("{name}: the signature does not verify")),
            Err(BadRecord::Malformed) => source.report.forged.push(format!("{name}: not a root record")),
        }
    }
    source
}

/// The store whose roots to restore: the one named, or the one most replicas hold records of.
fn choose_store(sources: &mut [Source<'_>], named: Option<[u8; 32]>) -> Result<[u8; 32], Vec<String>> {
    if let Some(id) = named {
        return Ok(id);
    }
    let mut holders: BTreeMap<[u8; 32], usize> = BTreeMap::new();
    for source in sources.iter() {
        let ids: HashSet<[u8; 32]> = source.records.iter().map(|r| r.store_id).collect();
        for id in ids {
            *holders.entry(id).or_default() += 1;
        }
    }
    let most = holders.values().copied().max().unwrap_or(0);
    let leaders: Vec<[u8; 32]> = holders.iter().filter(|(_, n)| **n == most).map(|(id, _)| *id).collect();
    match leaders.as_slice() {
        [] => Ok([0; 32]),
        [one] => Ok(*one),
        _ => Err(holders.iter().map(|(id, n)| format!("{} on {n}", store_id_text(id))).collect()),
    }
}

fn read_packs(sources: &mut [Source<'_>]) {
    for source in sources.iter_mut() {
        if source.report.unreachable.is_some() && source.records.is_empty() {
            continue;
        }
        let names = match source.target.list("packs/") {
            Ok(names) => names,
            Err(error) => {
                source.report.unreachable.get_or_insert(error.to_string());
                continue;
            }
        };
        source.packs = names;
    }
}

/// Reads every pack once (through `cache`, which keeps the last ones), checks every block against
/// its CID, and notes where each sound one is.
fn index(sources: &mut [Source<'_>], cache: &mut PackCache) -> Index {
    let mut index = Index::default();
    for source_at in 0..sources.len() {
        for pack_at in 0..sources[source_at].packs.len() {
            let Some(pack) = cache.get(sources, source_at, pack_at) else { continue };
            let contents = blocks::read_car(&pack);
            let report = &mut sources[source_at].report;
            report.corrupt_blocks += contents.corrupt.len() as u64;
            if contents.bad_header || (contents.sound_len < pack.len() && contents.blocks.is_empty()) {
                report.corrupt_blocks += 1;
            }
            for (id, range) in contents.blocks {
                let copy = Copy { id, source: source_at, pack: pack_at, start: range.start, end: range.end };
                let block = &pack[range];
                if Kind::of(block) == Some(Kind::Blob)
                    && let Some((key, _)) = blocks::split_blob_block(block)
                {
                    index.blobs.entry(key).or_default().push(copy);
                }
                index.blocks.entry(id).or_default().push(copy);
            }
        }
    }
    index
}

/// A sound copy of block `id`, from whichever replica can still give it.
fn block(sources: &mut [Source<'_>], cache: &mut PackCache, index: &Index, id: &BlockId) -> Option<Vec<u8>> {
    index.blocks.get(id)?.iter().find_map(|copy| cache.block(sources, copy))
}

/// Rebuilds the root `root_id` into a new store at `to`: `Ok(Err(why))` if the replicas do not
/// hold all of it (nothing is left at `to`).
#[allow(clippy::too_many_arguments)]
fn rebuild(
    sources: &mut [Source<'_>],
    cache: &mut PackCache,
    index: &Index,
    root_id: BlockId,
    seq: u64,
    newest_seq: u64,
    store_id: [u8; 32],
    to: &Path,
    options: &RestoreOptions<'_>,
) -> Result<Result<RestoreReport, String>, RestoreError> {
    let Some(root) = block(sources, cache, index, &root_id).and_then(|b| Root::decode(&b)) else {
        return Ok(Err("its root block is held intact by no replica".to_string()));
    };
    if root.seq != seq {
        return Ok(Err("its root block names another sequence number".to_string()));
    }
    let refs = match ref_tree::read(root.refs, &mut |id| block(sources, cache, index, id)) {
        Ok(refs) => refs,
        Err(missing) => return Ok(Err(format!("a node of its ref tree ({missing}) is held intact by no replica"))),
    };
    let temporary = temporary_beside(to);
    let _ = std::fs::remove_file(&temporary);
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io { path: dir.to_path_buf(), cause: e.to_string() })?;
    }
    let header = RestoredHeader {
        format_version: root.format_version,
        meta: &root.meta,
        slots: &root.slots,
        refs: &refs,
        seq: newest_seq.max(seq),
    };
    write_restored(&temporary, &header)?;
    let outcome = fill(sources, cache, index, &temporary, &refs, store_id, options);
    match outcome {
        Ok(Ok((store, blobs, bytes))) => {
            store.close()?;
            let placed = std::fs::hard_link(&temporary, to);
            let _ = std::fs::remove_file(&temporary);
            match placed {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(RestoreError::DestinationExists { path: to.to_path_buf() });
                }
                Err(error) => {
                    return Err(StoreError::Io { path: to.to_path_buf(), cause: error.to_string() }.into());
                }
            }
            if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(Ok(RestoreReport { seq, refs: refs.len() as u64, blobs, bytes, ..RestoreReport::default() }))
        }
        Ok(Err(why)) => {
            let _ = std::fs::remove_file(&temporary);
            Ok(Err(why))
        }
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

fn temporary_beside(to: &Path) -> PathBuf {
    let mut name = to.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".restoring-{}", std::process::id()));
    to.with_file_name(name)
}

type Filled = (RedbStore, u64, u64);

/// Opens the new store at `path` (unlocking it, if encrypted) and writes every blob its refs
/// reach, each checked; `Ok(Err(why))` if some are held intact by no replica.
fn fill(
    sources: &mut [Source<'_>],
    cache: &mut PackCache,
    index: &Index,
    path: &Path,
    refs: &[ref_tree::RawRef],
    store_id: [u8; 32],
    options: &RestoreOptions<'_>,
) -> Result<Result<Filled, String>, RestoreError> {
    let mut store = RedbStore::open_with(path, Mode::Existing, options.unlock)?;
    if store.is_encrypted() {
        // The root's own signing key must be the store's: a root sealed under another key
        // (with the user's password) is not this store's.
        let own = store.signing_key()?.map(|key| key.verifying_key().to_bytes());
        if own != Some(store_id) {
            return Ok(Err("its header holds another store's signing key".to_string()));
        }
    }
    let mut queue: Vec<Hash> = Vec::new();
    for (key, value) in refs {
        match store.open_raw_ref(key, value) {
            Some((_, target)) => queue.push(target),
            None => return Ok(Err("a ref entry does not open".to_string())),
        }
    }
    let mut seen: HashSet<Hash> = queue.iter().copied().collect();
    let mut missing = 0u64;
    for source in sources.iter_mut() {
        source.report.missing = 0;
        source.report.corrupt = 0;
    }
    let (mut blobs, mut bytes) = (0u64, 0u64);
    let mut batch: Vec<([u8; 32], Vec<u8>)> = Vec::new();
    while let Some(hash) = queue.pop() {
        let key = store.raw_blob_key(&hash);
        let copies = index.blobs.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let mut found = None;
        let mut had: HashSet<usize> = HashSet::new();
        for copy in copies {
            had.insert(copy.source);
            let Some(block) = cache.block(sources, copy) else { continue };
            let Some((_, stored)) = blocks::split_blob_block(&block) else { continue };
            match store.open_raw_blob(&hash, stored) {
                Some(plain) => {
                    found = Some((stored.to_vec(), plain));
                    break;
                }
                None => sources[copy.source].report.corrupt += 1,
            }
        }
        for (at, source) in sources.iter_mut().enumerate() {
            if !had.contains(&at) {
                source.report.missing += 1;
            }
        }
        let Some((stored, plain)) = found else {
            missing += 1;
            continue;
        };
        for child in (options.roots_of)(&plain) {
            if seen.insert(child) {
                queue.push(child);
            }
        }
        blobs += 1;
        bytes += stored.len() as u64;
        batch.push((key, stored));
        if batch.len() >= WRITE_AT_ONCE {
            store.put_raw_blobs(&batch)?;
            batch.clear();
        }
    }
    if missing > 0 {
        return Ok(Err(format!("{missing} of its blobs are held intact by no replica")));
    }
    store.put_raw_blobs(&batch)?;
    Ok(Ok((store, blobs, bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replica::DirectoryTarget;

    #[test]
    fn the_pack_cache_lets_old_packs_go_and_reads_them_again_checked() {
        let dir = tempfile::tempdir().unwrap();
        let target = DirectoryTarget::new(dir.path());
        target.init().unwrap();
        let mut names = Vec::new();
        let mut copies = Vec::new();
        for i in 0..3u8 {
            let pack = blocks::pack(&[blocks::blob_block(&[i; 32], &vec![i; 1000])]);
            let name = blocks::pack_name(&pack);
            target.put(&name, &pack).unwrap();
            let contents = blocks::read_car(&pack);
            let (id, range) = contents.blocks[1].clone();
            copies.push(Copy { id, source: 0, pack: i as usize, start: range.start, end: range.end });
            names.push(name);
        }
        let mut sources = vec![Source {
            target: &target,
            report: SourceReport::default(),
            records: Vec::new(),
            packs: names.clone(),
        }];
        // Room for one pack at a time: each read lets the one before go.
        let mut cache = PackCache::new(1500);
        for copy in &copies {
            assert!(cache.block(&mut sources, copy).is_some());
        }
        assert_eq!(cache.held.len(), 1);
        assert!(cache.block(&mut sources, &copies[0]).is_some(), "read again");
        // A pack changed since it was indexed is checked again, and refused.
        let file = dir.path().join(&names[1]);
        let mut bytes = std::fs::read(&file).unwrap();
        let at = copies[1].start + 100;
        bytes[at] ^= 1;
        std::fs::write(&file, bytes).unwrap();
        assert!(cache.block(&mut sources, &copies[1]).is_none());
    }
}
