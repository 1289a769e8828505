//! The tables of an encrypted store (format version 2): blobs filed under keyed ids and sealed,
//! refs under keyed path pieces and sealed, the key slots, and the sealed state record whose
//! digest authenticates the ref table. `sealing.rs` does the cryptography; this module decides
//! what goes in which table, and turns every failure of authentication into
//! [`StoreError::Tampered`] naming the entry.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{OnceLock, mpsc};

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{At, BLOBS, KEY_SLOTS, META, META_BUNDLE_KEYS, META_ENCRYPTION, META_ROTATION, META_STATE, SEALED_REFS};
use crate::bundle::BundleKeys;
use crate::keys::{KeySlot, NewSlot, SlotError, SlotInfo, StoreKey, Unlock};
use crate::memory::apply_ref_update;
use crate::reach::{self, Fetched};
use crate::sealing::{self, MasterKey, SealFailure, SealedState, Sealer};
use crate::{Batch, GcReport, Hash, HashedBlob, RootsOf, StoreError, VerifyReport};

/// The length of the meta table's `encryption` entry: the suite and the store's id.
pub(super) const ENCRYPTION_LEN: usize = 1 + 16;

/// An open encrypted store's keys.
pub(super) struct Sealed {
    pub(super) sealer: Sealer,
    pub(super) key: StoreKey,
    /// The key slot that opened the store (`None`: it was opened with a known key).
    pub(super) unlocked_by: Option<u32>,
}

pub(super) fn tampered(path: &Path, what: impl Into<String>) -> StoreError {
    StoreError::Tampered { path: path.to_path_buf(), what: what.into() }
}

pub(super) fn slot_error(path: &Path, error: impl std::fmt::Display) -> StoreError {
    StoreError::KeySlot { path: path.to_path_buf(), cause: error.to_string() }
}

pub(super) fn seal_error(path: &Path, error: SealFailure) -> StoreError {
    StoreError::Io { path: path.to_path_buf(), cause: format!("cannot seal: {error}") }
}

/// A short, printable name for a table key (the first bytes of its hex).
pub(super) fn key_name(key: &[u8]) -> String {
    key.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>() + "…"
}

/// The store's id held in the meta table's `encryption` entry.
pub(super) fn store_id_of(path: &Path, value: &[u8]) -> Result<[u8; 16], StoreError> {
    let corrupt = |cause: String| StoreError::Corrupt { path: path.to_path_buf(), cause };
    if value.len() != ENCRYPTION_LEN {
        return Err(corrupt(format!("the encryption entry holds {} bytes, not {ENCRYPTION_LEN}", value.len())));
    }
    if value[0] != sealing::SUITE_XCHACHA20POLY1305_BLAKE3 {
        return Err(corrupt(format!("the cipher suite {} is unknown to this build (it knows 1)", value[0])));
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&value[1..]);
    Ok(id)
}

/// Writes the header and the key slots of a new encrypted store into `txn`, whose database has
/// no tables yet; with `rotation`, the first progress record of `store rotate`'s copy.
pub(super) fn initialize(
    path: &Path,
    txn: &WriteTransaction,
    slots: &[(u32, KeySlot)],
    key: &StoreKey,
    rotation: Option<&[u8]>,
    bundle_keys: &BundleKeys,
) -> Result<(), StoreError> {
    let sealer = Sealer::new(&key.master, key.store_id);
    let mut encryption = vec![sealing::SUITE_XCHACHA20POLY1305_BLAKE3];
    encryption.extend_from_slice(&key.store_id);
    let state = sealer.seal_state(&SealedState { commits: 0, ref_digest: [0; 32] }).map_err(|e| seal_error(path, e))?;
    let mut meta = txn.open_table(META).at(path)?;
    meta.insert(META_ENCRYPTION, encryption.as_slice()).at(path)?;
    meta.insert(META_STATE, state.as_slice()).at(path)?;
    let sealed_keys = sealer.seal_bundle_keys(&bundle_keys.encode()).map_err(|e| seal_error(path, e))?;
    meta.insert(META_BUNDLE_KEYS, sealed_keys.as_slice()).at(path)?;
    if let Some(rotation) = rotation {
        let sealed = sealer.seal_rotation(rotation).map_err(|e| seal_error(path, e))?;
        meta.insert(META_ROTATION, sealed.as_slice()).at(path)?;
    }
    let mut table = txn.open_table(KEY_SLOTS).at(path)?;
    for (id, slot) in slots {
        table.insert(&id.to_be_bytes()[..], slot.encode().as_slice()).at(path)?;
    }
    txn.open_table(BLOBS).at(path)?;
    txn.open_table(SEALED_REFS).at(path)?;
    Ok(())
}

/// One key slot of the store: its number, and the slot decoded or the reason it cannot be.
pub(super) type NumberedSlot = (u32, Result<KeySlot, SlotError>);

/// Every key slot of the store.
pub(super) fn read_slots(
    path: &Path,
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
) -> Result<Vec<NumberedSlot>, StoreError> {
    let mut slots = Vec::new();
    for entry in table.iter().at(path)? {
        let (key, value) = entry.at(path)?;
        let id = <[u8; 4]>::try_from(key.value()).map(u32::from_be_bytes).map_err(|_| StoreError::Corrupt {
            path: path.to_path_buf(),
            cause: format!("a key slot's number holds {} bytes, not 4", key.value().len()),
        })?;
        slots.push((id, KeySlot::decode(id, value.value())));
    }
    Ok(slots)
}

/// What the store's slots say of themselves (a malformed slot is listed as such).
pub(super) fn slot_infos(path: &Path, txn: &ReadTransaction) -> Result<Vec<SlotInfo>, StoreError> {
    let table = txn.open_table(KEY_SLOTS).at(path)?;
    Ok(read_slots(path, &table)?
        .into_iter()
        .map(|(id, slot)| match slot {
            Ok(slot) => slot.info(id),
            Err(error) => SlotInfo::unreadable(id, error),
        })
        .collect())
}

/// The methods the slots offer, for the message that asks for one.
fn methods_wanted(infos: &[SlotInfo]) -> String {
    let mut methods: Vec<String> = infos.iter().map(|info| info.method.clone()).collect();
    methods.dedup();
    match methods.len() {
        0 => "no method: it has no key slot left".to_string(),
        _ => format!("one of its key slots: {}", methods.join("; ")),
    }
}

pub(super) fn read_state(
    path: &Path,
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    sealer: &Sealer,
) -> Result<SealedState, StoreError> {
    let sealed = meta.get(META_STATE).at(path)?.ok_or_else(|| StoreError::Corrupt {
        path: path.to_path_buf(),
        cause: "the meta table of this encrypted store has no state record".to_string(),
    })?;
    sealer.open_state(sealed.value()).map_err(|_| tampered(path, "the state record"))
}

/// The store's bundle identities; `None` for a store made before they were kept (a `store rotate`
/// gives it some).
pub(super) fn read_bundle_keys(
    path: &Path,
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    sealer: &Sealer,
) -> Result<Option<BundleKeys>, StoreError> {
    let Some(sealed) = meta.get(META_BUNDLE_KEYS).at(path)? else {
        return Ok(None);
    };
    let plain = sealer.open_bundle_keys(sealed.value()).map_err(|_| tampered(path, "the bundle identities"))?;
    BundleKeys::decode(&plain).map(Some).ok_or_else(|| StoreError::Corrupt {
        path: path.to_path_buf(),
        cause: "the bundle identities are authentic but malformed".to_string(),
    })
}

/// Opens the store's keys with what `unlock` offers, then checks the ref table against the
/// state record. Reads only.
pub(super) fn unlock(
    path: &Path,
    txn: &ReadTransaction,
    store_id: [u8; 16],
    unlock: &Unlock,
) -> Result<Sealed, StoreError> {
    let meta = txn.open_table(META).at(path)?;
    let state_opens = |master: &MasterKey| {
        let sealer = Sealer::new(master, store_id);
        read_state(path, &meta, &sealer).map(|state| (sealer, state))
    };
    if let Some(known) = unlock.known.as_ref().filter(|known| known.store_id == store_id)
        && let Ok((sealer, state)) = state_opens(&known.master)
    {
        let sealed = Sealed { sealer, key: known.clone(), unlocked_by: None };
        check_ref_table(path, txn, &sealed.sealer, &state)?;
        return Ok(sealed);
    }
    let slots_table = txn.open_table(KEY_SLOTS).at(path)?;
    let slots = read_slots(path, &slots_table)?;
    if unlock.credentials.is_empty() {
        return Err(StoreError::KeyNeeded {
            path: path.to_path_buf(),
            methods: methods_wanted(&slot_infos(path, txn)?),
        });
    }
    let mut trouble = None;
    for credential in &unlock.credentials {
        for (id, slot) in &slots {
            let slot = match slot {
                Ok(slot) => slot,
                Err(error) => {
                    trouble.get_or_insert_with(|| error.to_string());
                    continue;
                }
            };
            match slot.unwrap(credential, &store_id, *id) {
                Ok(Some(master)) => {
                    // A slot that gives a key the state record refuses was altered, or the
                    // record was.
                    let (sealer, state) = state_opens(&master)
                        .map_err(|_| tampered(path, format!("key slot {id} or the state record")))?;
                    check_ref_table(path, txn, &sealer, &state)?;
                    return Ok(Sealed { sealer, key: StoreKey { master, store_id }, unlocked_by: Some(*id) });
                }
                Ok(None) => {}
                Err(error) => {
                    trouble.get_or_insert_with(|| format!("key slot {id}: {error}"));
                }
            }
        }
    }
    let tried: Vec<String> = unlock.credentials.iter().map(|c| c.describe()).collect();
    let mut tried = tried.join(" or ");
    if let Some(trouble) = trouble {
        tried = format!("{tried} (and {trouble})");
    }
    Err(StoreError::WrongKey { path: path.to_path_buf(), tried })
}

/// Checks that the ref table's entries XOR to the digest the state record holds: no ref was
/// removed, added, or replaced by another or an older value. Costs a keyed hash of each ref
/// entry (not a decryption).
fn check_ref_table(path: &Path, txn: &ReadTransaction, sealer: &Sealer, state: &SealedState) -> Result<(), StoreError> {
    let refs = txn.open_table(SEALED_REFS).at(path)?;
    if ref_table_digest(path, &refs, sealer)? != state.ref_digest {
        return Err(tampered(
            path,
            "the ref table (a ref was removed, added, or replaced by another or an older value)",
        ));
    }
    Ok(())
}

fn ref_table_digest(
    path: &Path,
    refs: &impl ReadableTable<&'static [u8], &'static [u8]>,
    sealer: &Sealer,
) -> Result<[u8; 32], StoreError> {
    let mut digest = [0u8; 32];
    for entry in refs.iter().at(path)? {
        let (key, value) = entry.at(path)?;
        sealing::xor_into(&mut digest, &sealer.ref_entry_digest(key.value(), value.value()));
    }
    Ok(digest)
}

/// The blob named `hash`, opened.
pub(super) fn get_blob(
    path: &Path,
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    sealer: &Sealer,
    hash: &Hash,
) -> Result<Option<Vec<u8>>, StoreError> {
    let key = sealer.blob_key(hash);
    match table.get(&key[..]).at(path)? {
        None => Ok(None),
        Some(sealed) => {
            sealer.open_blob(&key, sealed.value()).map(Some).map_err(|_| tampered(path, format!("blob {hash}")))
        }
    }
}

/// Whether the store holds the blob named `hash` (without opening it).
pub(super) fn has_blob(
    path: &Path,
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    sealer: &Sealer,
    hash: &Hash,
) -> Result<bool, StoreError> {
    Ok(table.get(&sealer.blob_key(hash)[..]).at(path)?.is_some())
}

/// Ref `name`'s target.
pub(super) fn get_ref(
    path: &Path,
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    sealer: &Sealer,
    name: &str,
) -> Result<Option<Hash>, StoreError> {
    let key = sealer.ref_key(name);
    match table.get(key.as_slice()).at(path)? {
        None => Ok(None),
        Some(sealed) => open_ref_at(path, sealer, &key, sealed.value(), Some(name)).map(|(_, target)| Some(target)),
    }
}

/// The name and target sealed in the ref entry `key`; `expected` is the name looked up, which
/// the entry must hold (two names whose keys collide would otherwise read each other).
fn open_ref_at(
    path: &Path,
    sealer: &Sealer,
    key: &[u8],
    sealed: &[u8],
    expected: Option<&str>,
) -> Result<(String, Hash), StoreError> {
    let (name, target) =
        sealer.open_ref(key, sealed).map_err(|_| tampered(path, format!("ref entry {}", key_name(key))))?;
    if expected.is_some_and(|expected| expected != name) {
        return Err(tampered(path, format!("ref entry {} (it holds another name)", key_name(key))));
    }
    Ok((name, target))
}

/// Every ref, sorted by name.
pub(super) fn all_refs(
    path: &Path,
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    sealer: &Sealer,
) -> Result<Vec<(String, Hash)>, StoreError> {
    let mut refs = BTreeMap::new();
    for entry in table.iter().at(path)? {
        let (key, value) = entry.at(path)?;
        let (name, target) = open_ref_at(path, sealer, key.value(), value.value(), None)?;
        refs.insert(name, target);
    }
    Ok(refs.into_iter().collect())
}

/// The refs whose names begin with `prefix` and sort after `after`, sorted: a range scan over
/// the keys of the segments `prefix` holds whole, then a filter on the names.
pub(super) fn refs_with_prefix(
    path: &Path,
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    sealer: &Sealer,
    prefix: &str,
    after: Option<&str>,
) -> Result<Vec<(String, Hash)>, StoreError> {
    let start = sealer.ref_scan_prefix(prefix);
    let mut refs = BTreeMap::new();
    for entry in table.range::<&[u8]>(start.as_slice()..).at(path)? {
        let (key, value) = entry.at(path)?;
        if !key.value().starts_with(&start) {
            break;
        }
        let (name, target) = open_ref_at(path, sealer, key.value(), value.value(), None)?;
        if name.starts_with(prefix) && after.is_none_or(|after| name.as_str() > after) {
            refs.insert(name, target);
        }
    }
    Ok(refs.into_iter().collect())
}

/// Applies `batch` in `txn`: puts sealed blobs, moves sealed refs (each checked as the plain
/// store checks it), and writes the state record with the ref table's new digest. Returns
/// whether anything was to be written.
pub(super) fn apply_batch(
    path: &Path,
    txn: &WriteTransaction,
    sealer: &Sealer,
    batch: &Batch,
) -> Result<bool, StoreError> {
    if batch.is_empty() {
        return Ok(false);
    }
    let mut meta = txn.open_table(META).at(path)?;
    let mut state = read_state(path, &meta, sealer)?;
    let mut blobs = txn.open_table(BLOBS).at(path)?;
    let mut refs = txn.open_table(SEALED_REFS).at(path)?;
    put_blobs(path, &mut blobs, sealer, &batch.puts)?;
    for update in &batch.ref_updates {
        let key = sealer.ref_key(&update.name);
        let held = refs.get(key.as_slice()).at(path)?.map(|sealed| sealed.value().to_vec());
        let actual = match &held {
            Some(sealed) => Some(open_ref_at(path, sealer, &key, sealed, Some(&update.name))?.1),
            None => None,
        };
        apply_ref_update(update, actual, |target| Ok(blobs.get(&sealer.blob_key(target)[..]).at(path)?.is_some()))?;
        if let Some(sealed) = &held {
            sealing::xor_into(&mut state.ref_digest, &sealer.ref_entry_digest(&key, sealed));
        }
        match update.target {
            Some(target) => {
                let sealed = sealer.seal_ref(&key, &update.name, &target).map_err(|e| seal_error(path, e))?;
                sealing::xor_into(&mut state.ref_digest, &sealer.ref_entry_digest(&key, &sealed));
                refs.insert(key.as_slice(), sealed.as_slice()).at(path)?;
            }
            None => {
                refs.remove(key.as_slice()).at(path)?;
            }
        }
    }
    state.commits += 1;
    let sealed_state = sealer.seal_state(&state).map_err(|e| seal_error(path, e))?;
    meta.insert(META_STATE, sealed_state.as_slice()).at(path)?;
    Ok(true)
}

/// A batch whose blobs hold at least this many bytes is sealed on a second thread while this one
/// writes redb (each alone takes about as long per byte): below, the thread costs more than it
/// saves.
const SEAL_BESIDE_AT: usize = 1 << 20;

/// Blobs handed to the sealing thread together: a thread woken for every blob would spend more on
/// waking than it saves.
const SEALS_PER_RUN: usize = 16;

/// How many runs the sealing thread may be ahead of the writes: enough to keep it busy, few enough
/// that their buffers (reused from one run to the next) stay in the processor's cache.
const RUNS_AHEAD: usize = 2;

/// One blob put, as sealing leaves it for the write: the sealed value to insert under `key`, or
/// nothing (the store holds the blob intact). Carries its buffers back to be reused.
struct PutJob {
    index: usize,
    key: [u8; 32],
    write: bool,
    sealed: Vec<u8>,
    held: Option<Vec<u8>>,
}

/// Puts `puts` into the blob table. A blob held and intact is left alone; a damaged one is sealed
/// again. Every blob costs a seal or, if held, an open; in a large batch these run on a second
/// thread, beside the reads and writes of redb on this one, so that a full checkpoint of an
/// encrypted store takes about as long as a plain one's where a second core is free.
fn put_blobs(
    path: &Path,
    blobs: &mut redb::Table<&'static [u8], &'static [u8]>,
    sealer: &Sealer,
    puts: &[HashedBlob],
) -> Result<(), StoreError> {
    let bytes: usize = puts.iter().map(|blob| blob.bytes.len()).sum();
    if bytes < SEAL_BESIDE_AT || !second_core() {
        let (mut sealed, mut scratch) = (Vec::new(), Vec::new());
        for blob in puts {
            let key = sealer.blob_key(&blob.hash);
            let intact =
                blobs.get(&key[..]).at(path)?.is_some_and(|held| sealer.blob_opens(&key, held.value(), &mut scratch));
            if !intact {
                sealer.seal_blob_into(&key, &blob.bytes, &mut sealed).map_err(|e| seal_error(path, e))?;
                blobs.insert(&key[..], sealed.as_slice()).at(path)?;
            }
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (jobs, to_seal) = mpsc::sync_channel::<Vec<PutJob>>(RUNS_AHEAD);
        let (done, sealed_runs) = mpsc::channel::<Result<Vec<PutJob>, SealFailure>>();
        scope.spawn(move || {
            let mut scratch = Vec::new();
            for mut run in to_seal {
                for job in &mut run {
                    let intact = job.held.as_ref().is_some_and(|held| sealer.blob_opens(&job.key, held, &mut scratch));
                    job.write = !intact;
                    if job.write
                        && let Err(failure) = sealer.seal_blob_into(&job.key, &puts[job.index].bytes, &mut job.sealed)
                    {
                        let _ = done.send(Err(failure));
                        return;
                    }
                }
                if done.send(Ok(run)).is_err() {
                    return;
                }
            }
        });
        // Buffers back from the writes, for the next runs.
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let mut ahead = 0;
        for (first, run) in puts.chunks(SEALS_PER_RUN).enumerate() {
            let mut jobs_of_run = Vec::with_capacity(run.len());
            for (offset, blob) in run.iter().enumerate() {
                let key = sealer.blob_key(&blob.hash);
                let held = match blobs.get(&key[..]).at(path)? {
                    Some(held) => {
                        let mut copy = spare.pop().unwrap_or_default();
                        copy.clear();
                        copy.extend_from_slice(held.value());
                        Some(copy)
                    }
                    None => None,
                };
                let index = first * SEALS_PER_RUN + offset;
                jobs_of_run.push(PutJob { index, key, write: false, sealed: spare.pop().unwrap_or_default(), held });
            }
            if jobs.send(jobs_of_run).is_err() {
                break; // the sealing thread stopped at a failure, received below
            }
            ahead += 1;
            while ahead > RUNS_AHEAD {
                let Ok(outcome) = sealed_runs.recv() else { break };
                write_run(path, blobs, outcome, &mut spare)?;
                ahead -= 1;
            }
        }
        drop(jobs);
        for outcome in sealed_runs {
            write_run(path, blobs, outcome, &mut spare)?;
        }
        Ok(())
    })
}

/// Writes one run of blob puts as the sealing thread left them, and keeps their buffers in
/// `spare`.
fn write_run(
    path: &Path,
    blobs: &mut redb::Table<&'static [u8], &'static [u8]>,
    outcome: Result<Vec<PutJob>, SealFailure>,
    spare: &mut Vec<Vec<u8>>,
) -> Result<(), StoreError> {
    for job in outcome.map_err(|e| seal_error(path, e))? {
        if job.write {
            blobs.insert(&job.key[..], job.sealed.as_slice()).at(path)?;
        }
        spare.push(job.sealed);
        spare.extend(job.held);
    }
    Ok(())
}

/// Whether this process may run on more than one core (asked once).
fn second_core() -> bool {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// Opens every blob and ref, checks that each blob's bytes hash to the name its id was made
/// from, that every ref's target is held, and that the ref table matches the state record.
pub(super) fn verify(path: &Path, txn: &ReadTransaction, sealer: &Sealer) -> Result<VerifyReport, StoreError> {
    let blobs = txn.open_table(BLOBS).at(path)?;
    let refs = txn.open_table(SEALED_REFS).at(path)?;
    let meta = txn.open_table(META).at(path)?;
    let mut report = VerifyReport::default();
    for entry in blobs.iter().at(path)? {
        let (key, value) = entry.at(path)?;
        report.blobs_checked += 1;
        match sealer.open_blob(key.value(), value.value()) {
            Ok(bytes) => {
                let hash = Hash::of(&bytes);
                if sealer.blob_key(&hash)[..] != *key.value() {
                    report.corrupt_blobs.push(hash);
                }
            }
            Err(_) => report.tampered.push(format!("blob entry {}", key_name(key.value()))),
        }
    }
    report.corrupt_blobs.sort();
    let mut dangling = Vec::new();
    for entry in refs.iter().at(path)? {
        let (key, value) = entry.at(path)?;
        report.refs_checked += 1;
        match sealer.open_ref(key.value(), value.value()) {
            Ok((name, target)) => {
                if sealer.ref_key(&name) != key.value() {
                    report.tampered.push(format!("ref entry {} (it holds another name)", key_name(key.value())));
                }
                if blobs.get(&sealer.blob_key(&target)[..]).at(path)?.is_none() {
                    dangling.push((name, target));
                }
            }
            Err(_) => report.tampered.push(format!("ref entry {}", key_name(key.value()))),
        }
    }
    dangling.sort();
    report.dangling_refs = dangling;
    match read_state(path, &meta, sealer) {
        Ok(state) if ref_table_digest(path, &refs, sealer)? == state.ref_digest => {}
        Ok(_) => report
            .tampered
            .push("the ref table (a ref was removed, added, or replaced by another or an older value)".to_string()),
        Err(_) => report.tampered.push("the state record".to_string()),
    }
    Ok(report)
}

/// Every blob's name: each blob is opened and hashed (a sealed id cannot be turned back into
/// the name), so this reads the whole store.
pub(super) fn blob_hashes(
    path: &Path,
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    sealer: &Sealer,
) -> Result<std::collections::BTreeSet<Hash>, StoreError> {
    let mut hashes = std::collections::BTreeSet::new();
    for entry in table.iter().at(path)? {
        let (key, value) = entry.at(path)?;
        let bytes = sealer
            .open_blob(key.value(), value.value())
            .map_err(|_| tampered(path, format!("blob entry {}", key_name(key.value()))))?;
        hashes.insert(Hash::of(&bytes));
    }
    Ok(hashes)
}

/// Removes, in `txn`, every blob the refs cannot reach. Returns the report and whether anything
/// was removed.
pub(super) fn gc(
    path: &Path,
    txn: &WriteTransaction,
    sealer: &Sealer,
    roots_of: RootsOf<'_>,
) -> Result<(GcReport, bool), StoreError> {
    let mut blobs = txn.open_table(BLOBS).at(path)?;
    let refs = txn.open_table(SEALED_REFS).at(path)?;
    let starts = all_refs(path, &refs, sealer)?.into_iter().map(|(_, target)| target);
    let reached = reach::walk(starts, roots_of, |hash, roots_of| {
        let key = sealer.blob_key(hash);
        Ok(match blobs.get(&key[..]).at(path)? {
            None => Fetched::Missing,
            Some(held) => match sealer.open_blob(&key, held.value()) {
                Ok(bytes) => Fetched::Found(roots_of(&bytes)),
                Err(_) => return Err(tampered(path, format!("blob {hash}"))),
            },
        })
    })?;
    let kept: HashSet<[u8; 32]> = reached.found.iter().map(|hash| sealer.blob_key(hash)).collect();
    let mut report =
        GcReport { blobs_kept: reached.found.len() as u64, missing: reached.missing, ..GcReport::default() };
    let mut doomed = Vec::new();
    for entry in blobs.iter().at(path)? {
        let (key, value) = entry.at(path)?;
        let plain_len = value.value().len().saturating_sub(sealing::OVERHEAD) as u64;
        if <[u8; 32]>::try_from(key.value()).is_ok_and(|key| kept.contains(&key)) {
            report.bytes_kept += plain_len;
        } else {
            doomed.push(key.value().to_vec());
            report.blobs_removed += 1;
            report.bytes_removed += plain_len;
        }
    }
    for key in &doomed {
        blobs.remove(key.as_slice()).at(path)?;
    }
    Ok((report, !doomed.is_empty()))
}

/// Replaces key slot `id` by a new slot for `new` (numbered one past the highest), in `txn`.
pub(super) fn replace_slot(
    path: &Path,
    txn: &WriteTransaction,
    key: &StoreKey,
    id: u32,
    new: &NewSlot,
) -> Result<SlotInfo, StoreError> {
    let added = add_slot(path, txn, key, new)?;
    remove_slot(path, txn, id)?;
    Ok(added)
}

/// Adds a key slot for `new`, numbered one past the highest, in `txn`.
pub(super) fn add_slot(
    path: &Path,
    txn: &WriteTransaction,
    key: &StoreKey,
    new: &NewSlot,
) -> Result<SlotInfo, StoreError> {
    let mut table = txn.open_table(KEY_SLOTS).at(path)?;
    let highest = read_slots(path, &table)?.into_iter().map(|(id, _)| id).max().unwrap_or(0);
    let id = highest.checked_add(1).ok_or_else(|| slot_error(path, "the store has no slot number left"))?;
    let slot = KeySlot::new(new, &key.master, &key.store_id, id).map_err(|e| slot_error(path, e))?;
    table.insert(&id.to_be_bytes()[..], slot.encode().as_slice()).at(path)?;
    Ok(slot.info(id))
}

/// Removes key slot `id` in `txn`; the last slot stays (without it nobody could open the store).
pub(super) fn remove_slot(path: &Path, txn: &WriteTransaction, id: u32) -> Result<SlotInfo, StoreError> {
    let mut table = txn.open_table(KEY_SLOTS).at(path)?;
    let slots = read_slots(path, &table)?;
    let Some((_, slot)) = slots.iter().find(|(held, _)| *held == id) else {
        let held: Vec<String> = slots.iter().map(|(id, _)| id.to_string()).collect();
        return Err(slot_error(path, format!("the store has no key slot {id} (it has {})", held.join(", "))));
    };
    if slots.len() == 1 {
        return Err(slot_error(
            path,
            format!("key slot {id} is the store's last: without it nobody could open the store"),
        ));
    }
    let info = match slot {
        Ok(slot) => slot.info(id),
        Err(error) => SlotInfo::unreadable(id, error),
    };
    table.remove(&id.to_be_bytes()[..]).at(path)?;
    Ok(info)
}
