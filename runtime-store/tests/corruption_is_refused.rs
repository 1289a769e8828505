//! A damaged store is refused with an error naming the file and the cause, or opens with the
//! damage reported by `verify` and by `get`; it is never misread, nothing panics, and a refused
//! file is left exactly as it was. That is the promise of `RedbStore::open_checked`, which checks
//! every page. `RedbStore::open`, which trusts a cleanly closed file without reading it whole,
//! promises less and is held to it on the same copies: no panic escapes, no blob is ever misread,
//! and whatever damage it does not see, the checked open does.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use chenilles_store::{Batch, BlobStore, ENCRYPTED_FORMAT_VERSION, Hash, RedbStore, StoreError};
use common::{META, edit_raw, linked, roots_of};

/// What a store held after one of its commits: refs, and every blob's bytes.
#[derive(Clone, Debug, PartialEq)]
struct State {
    refs: Vec<(String, Hash)>,
    blobs: BTreeMap<Hash, Vec<u8>>,
}

fn state(store: &RedbStore) -> State {
    State {
        refs: store.list_refs().unwrap(),
        blobs: store.blob_hashes().unwrap().into_iter().map(|h| (h, store.get(&h).unwrap().unwrap())).collect(),
    }
}

/// A real store built by several commits and a gc; returns its file's bytes and the state after
/// each commit (a damaged header may make redb fall back to an earlier commit, which is a
/// rollback, not a misread).
fn real_store(dir: &Path) -> (Vec<u8>, Vec<State>) {
    let path = dir.join("original.redb");
    let mut store = RedbStore::open(&path).unwrap();
    let mut states = vec![state(&store)];
    let mut head = None;
    for round in 0..4u8 {
        let mut batch = Batch::default();
        let big = batch.put(distinct(round, 9000));
        let small: Vec<Hash> = (0..20u8).map(|i| batch.put(linked(&[round, i], &[]))).collect();
        let root = batch.put(linked(&[round], &[big, small[3], small[7]]));
        batch.set_ref("head", head, root);
        batch.set_ref(&format!("round/{round}"), None, small[0]);
        store.commit(batch).unwrap();
        head = Some(root);
        states.push(state(&store));
        if round == 2 {
            store.gc(&roots_of).unwrap();
            states.push(state(&store));
        }
    }
    store.close().unwrap();
    (std::fs::read(&path).unwrap(), states)
}

/// `len` bytes that occur nowhere else in the file.
fn distinct(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len);
    let mut block = *blake3::hash(&[seed]).as_bytes();
    while bytes.len() < len {
        bytes.extend_from_slice(&block);
        block = *blake3::hash(&block).as_bytes();
    }
    bytes.truncate(len);
    bytes
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
}

#[derive(Default, Debug)]
struct Outcomes {
    refused: BTreeMap<String, usize>,
    opened_and_verified_clean: usize,
    opened_with_damage_reported: usize,
    opened_at_an_earlier_commit: usize,
}

/// Opens a damaged copy both ways and checks each promise; records how the checked open went.
fn check_case(dir: &Path, bytes: &[u8], states: &[State], case: &str, outcomes: &mut Outcomes) {
    let damage_found = check_checked_open(dir, bytes, states, case, outcomes);
    check_fast_open(dir, bytes, states, case, damage_found);
}

/// The fast open on a damaged copy: it may refuse or open; opened, every read is exact data or an
/// error, and a state it reads that was never committed must be damage the checked open found.
/// A panic inside redb is turned into an error by the store (the hook still counts it: those are
/// taken back here), and none may escape.
fn check_fast_open(dir: &Path, bytes: &[u8], states: &[State], case: &str, damage_found: bool) {
    let path = dir.join("damaged-fast.redb");
    std::fs::write(&path, bytes).unwrap();
    let panics_before = PANICS.load(Ordering::SeqCst);
    let outcome = std::panic::catch_unwind(|| {
        let Ok(store) = RedbStore::open(&path) else { return };
        let final_state = states.last().unwrap();
        for (hash, bytes) in &final_state.blobs {
            if let Ok(Some(read)) = store.get(hash) {
                assert_eq!(&read, bytes, "{case}: the fast open misread blob {hash}");
            }
        }
        let refs = store.list_refs();
        let blobs = store.blob_hashes();
        if let (Ok(refs), Ok(hashes)) = (refs, blobs) {
            let blobs: Option<BTreeMap<Hash, Vec<u8>>> =
                hashes.into_iter().map(|h| store.get(&h).ok().flatten().map(|b| (h, b))).collect();
            if let Some(blobs) = blobs {
                let now = State { refs, blobs };
                assert!(
                    states.contains(&now) || damage_found,
                    "{case}: the fast open reads a state never committed, and the checked open saw no damage"
                );
            }
        }
    });
    assert!(outcome.is_ok(), "{case}: a panic escaped the fast open");
    PANICS.store(panics_before, Ordering::SeqCst);
}

/// The checked open on a damaged copy; returns whether it found damage.
fn check_checked_open(dir: &Path, bytes: &[u8], states: &[State], case: &str, outcomes: &mut Outcomes) -> bool {
    let path = dir.join("damaged.redb");
    std::fs::write(&path, bytes).unwrap();
    match RedbStore::open_checked(&path) {
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains(&path.display().to_string()),
                "{case}: the error does not name the file: {message}"
            );
            assert!(
                matches!(
                    error,
                    StoreError::Corrupt { .. } | StoreError::NotAStore { .. } | StoreError::UnsupportedVersion { .. }
                ),
                "{case}: unexpected refusal {error:?}"
            );
            assert!(std::fs::read(&path).unwrap() == bytes, "{case}: a refused file was modified");
            let kind = format!("{error:?}");
            let kind = kind.split(['{', ' ']).next().unwrap().to_string();
            *outcomes.refused.entry(kind).or_default() += 1;
            true
        }
        Ok(store) => {
            let report = store.verify();
            let final_state = states.last().unwrap();
            // Every blob still readable reads back exactly; a damaged one is an error, never data.
            let mut damage_seen = !matches!(&report, Ok(r) if r.is_clean());
            for (hash, bytes) in &final_state.blobs {
                match store.get(hash) {
                    Ok(Some(read)) => assert_eq!(&read, bytes, "{case}: blob {hash} misread"),
                    Ok(None) => damage_seen = true,
                    Err(StoreError::CorruptBlob { hash: h }) => {
                        assert_eq!(h, *hash);
                        damage_seen = true;
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        damage_seen = true;
                    }
                }
            }
            if damage_seen {
                outcomes.opened_with_damage_reported += 1;
                true
            } else if state(&store) == *final_state {
                outcomes.opened_and_verified_clean += 1;
                false
            } else {
                let now = state(&store);
                assert!(states.contains(&now), "{case}: opened, verified clean, and holds a state never committed");
                outcomes.opened_at_an_earlier_commit += 1;
                false
            }
        }
    }
}

#[test]
fn flipped_bytes_anywhere_are_refused_or_reported() {
    count_panics();
    let dir = tempfile::tempdir().unwrap();
    let (original, states) = real_store(dir.path());
    // Every byte of redb's header (its first 320 bytes hold the magic, the god byte, the layout
    // and both commit slots; the rest of the first page is unused), then a spread of the other
    // bytes that hold anything: live pages, and pages freed by earlier commits and by the gc.
    let header: Vec<usize> = (0..512).collect();
    let used: Vec<usize> = (4096..original.len()).filter(|&i| original[i] != 0).collect();
    let body: Vec<usize> = used.iter().copied().step_by((used.len() / 600).max(1)).collect();
    for (region, offsets) in [("header", header), ("body", body)] {
        let mut outcomes = Outcomes::default();
        for &at in &offsets {
            let mut bytes = original.clone();
            bytes[at] ^= 0x55;
            check_case(dir.path(), &bytes, &states, &format!("byte {at} flipped"), &mut outcomes);
        }
        println!("{} flips in the {region}: {outcomes:?}", offsets.len());
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
}

#[test]
fn damage_inside_a_live_blob_is_never_missed() {
    count_panics();
    let dir = tempfile::tempdir().unwrap();
    let (original, states) = real_store(dir.path());
    let blob = distinct(3, 9000); // put by the last commit, written once, live
    let start = original.windows(blob.len()).position(|w| w == blob).expect("the blob is stored whole in the file");
    let mut outcomes = Outcomes::default();
    for at in (start..start + blob.len()).step_by(90) {
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        check_case(dir.path(), &bytes, &states, &format!("byte {at} flipped"), &mut outcomes);
    }
    println!("flips inside a live blob: {outcomes:?}");
    assert_eq!(outcomes.opened_and_verified_clean, 0, "damage went unnoticed");
    assert_eq!(outcomes.opened_at_an_earlier_commit, 0);
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
}

#[test]
fn truncated_copies_are_refused() {
    count_panics();
    let dir = tempfile::tempdir().unwrap();
    let (original, states) = real_store(dir.path());
    let mut lengths: Vec<usize> = (0..original.len()).step_by(4096).collect();
    lengths.extend([1, 7, 100, 320, 512, 4095, 4097, original.len() - 1, original.len() - 4096 + 17]);
    let mut outcomes = Outcomes::default();
    for len in lengths {
        if len == 0 {
            continue; // an empty file is a new store, by definition
        }
        check_case(dir.path(), &original[..len], &states, &format!("cut to {len} bytes"), &mut outcomes);
    }
    println!("truncations: {outcomes:?}");
    assert_eq!(outcomes.opened_and_verified_clean, 0);
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
}

#[test]
fn an_unknown_format_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    RedbStore::open(&path).unwrap().close().unwrap();
    edit_raw(&path, |txn| {
        txn.open_table(META)
            .unwrap()
            .insert("format_version", &(ENCRYPTED_FORMAT_VERSION + 1).to_le_bytes()[..])
            .unwrap();
    });
    let before = std::fs::read(&path).unwrap();
    let error = RedbStore::open(&path).unwrap_err();
    assert_eq!(
        error,
        StoreError::UnsupportedVersion {
            path: path.clone(),
            found: ENCRYPTED_FORMAT_VERSION + 1,
            expected: ENCRYPTED_FORMAT_VERSION
        }
    );
    assert!(error.to_string().contains("version 3"), "{error}");
    assert_eq!(RedbStore::open_read_only(&path).unwrap_err(), error, "read-only opens refuse it too");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn files_that_are_not_stores_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all\n".repeat(1000)).unwrap();
    let other_redb = dir.path().join("other.redb");
    {
        let db = redb::Database::create(&other_redb).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<u64, u64>::new("numbers")).unwrap().insert(1, 2).unwrap();
        txn.commit().unwrap();
    }
    let wrong_magic = dir.path().join("wrong-magic.redb");
    RedbStore::open(&wrong_magic).unwrap().close().unwrap();
    edit_raw(&wrong_magic, |txn| {
        txn.open_table(META).unwrap().insert("magic", &b"something-else"[..]).unwrap();
    });
    for path in [&text, &other_redb, &wrong_magic] {
        let before = std::fs::read(path).unwrap();
        let error = RedbStore::open(path).unwrap_err();
        assert!(matches!(error, StoreError::NotAStore { .. }), "{}: {error:?}", path.display());
        assert!(error.to_string().contains(&path.display().to_string()));
        assert_eq!(std::fs::read(path).unwrap(), before);
    }
}

#[test]
fn a_blob_whose_bytes_do_not_match_its_name_is_never_returned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&path).unwrap();
    let mut batch = Batch::default();
    let hashes: Vec<Hash> = (0..10u8).map(|i| batch.put(vec![i; 100])).collect();
    batch.set_ref("head", None, hashes[0]);
    batch.set_ref("gone", None, hashes[9]);
    store.commit(batch).unwrap();
    store.close().unwrap();
    // Damage that redb's page checksums cannot see: the entries themselves are rewritten.
    common::damage_blob(&path, hashes[2], b"not what was stored");
    common::damage_blob(&path, hashes[5], &[5; 99]);
    edit_raw(&path, |txn| {
        txn.open_table(common::BLOBS).unwrap().remove(&hashes[9].0[..]).unwrap();
        txn.open_table(common::REFS).unwrap().insert("short", &[1u8; 5][..]).unwrap();
    });
    let store = RedbStore::open(&path).unwrap();
    for (i, hash) in hashes.iter().enumerate() {
        match i {
            2 | 5 => assert_eq!(store.get(hash), Err(StoreError::CorruptBlob { hash: *hash })),
            9 => assert_eq!(store.get(hash), Ok(None)),
            _ => assert_eq!(store.get(hash), Ok(Some(vec![i as u8; 100]))),
        }
    }
    let report = store.verify().unwrap();
    let mut corrupt = vec![hashes[2], hashes[5]];
    corrupt.sort();
    assert_eq!(report.corrupt_blobs, corrupt, "every corrupt blob, not the first");
    assert_eq!(report.dangling_refs, vec![("gone".to_string(), hashes[9])]);
    assert_eq!(report.malformed.len(), 1, "{:?}", report.malformed);
    assert!(matches!(store.get_ref("short"), Err(StoreError::Corrupt { .. })));
}

#[test]
fn a_store_missing_a_table_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    RedbStore::open(&path).unwrap().close().unwrap();
    edit_raw(&path, |txn| {
        assert!(txn.delete_table(common::REFS).unwrap());
    });
    let before = std::fs::read(&path).unwrap();
    let error = RedbStore::open(&path).unwrap_err();
    assert!(matches!(&error, StoreError::Corrupt { cause, .. } if cause.contains("refs")), "{error:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
