//! `RedbStore::rotate` gives an encrypted store a new master key: the same blobs and refs, the
//! same credentials open it, the old master key opens nothing, and it survives SIGKILL at any
//! instant (the test re-runs its own binary as the rotator, `rotation_child`, and kills it).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chenilles_store::{Batch, BlobStore, Hash, Mode, NewSlot, RedbStore, Rotation, StoreError, Unlock};
use common::{quick_kdf, test_unlock};
use redb::ReadableTable;

const STORE_VAR: &str = "CHENILLES_ROTATION_STORE";
const OTHER_PASSWORD: &str = "tr0ub4dor&3";

/// Every ref and the bytes of every blob: what a rotation must keep.
fn contents(store: &RedbStore) -> (BTreeMap<String, Hash>, BTreeMap<Hash, Vec<u8>>) {
    let refs: BTreeMap<String, Hash> = store.list_refs().unwrap().into_iter().collect();
    let blobs =
        store.blob_hashes().unwrap().into_iter().map(|hash| (hash, store.get(&hash).unwrap().unwrap())).collect();
    (refs, blobs)
}

/// Fills `store` with `count` blobs (some shared by several refs), in batches.
fn fill(store: &mut RedbStore, count: usize, tag: &str) {
    for chunk in 0..count.div_ceil(500) {
        let mut batch = Batch::default();
        for i in chunk * 500..(chunk * 500 + 500).min(count) {
            let hash = batch.put(format!("{tag} blob {i} {}", "x".repeat(i % 300)).into_bytes());
            if i % 7 == 0 {
                batch.set_ref(&format!("{tag}/ref/{i}"), None, hash);
            }
        }
        store.commit(batch).unwrap();
    }
}

fn both_passwords() -> Unlock {
    test_unlock().with(chenilles_store::Credential::Password(OTHER_PASSWORD.to_string().into()))
}

fn second_slot() -> NewSlot {
    NewSlot::Password { password: OTHER_PASSWORD.to_string().into(), params: quick_kdf() }
}

fn no_progress(_: u64, _: u64) {}

#[test]
fn a_rotated_store_keeps_everything_and_the_old_key_opens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = common::create_encrypted(&path);
    fill(&mut store, 1500, "a");
    store.add_key_slot(&second_slot()).unwrap();
    let before = contents(&store);
    let old_key = store.key().unwrap();
    store.close().unwrap();
    let old_copy = dir.path().join("before.redb");
    std::fs::copy(&path, &old_copy).unwrap();

    let report = RedbStore::rotate(&path, &both_passwords(), Rotation::default(), &mut no_progress).unwrap();
    assert!(!report.resumed);
    assert_eq!(report.blobs_copied, 1500);
    assert_eq!(report.refs, before.0.len() as u64);
    assert_eq!(report.slots.len(), 2);
    assert!(report.dropped.is_empty());
    assert!(!path.with_file_name("store.redb.rotating").exists());

    for unlock in [test_unlock(), Unlock::password(OTHER_PASSWORD.to_string().into())] {
        let store = RedbStore::open_with(&path, Mode::Existing, &unlock).unwrap();
        assert_eq!(contents(&store), before);
        assert!(store.verify().unwrap().is_clean());
        store.close().unwrap();
    }
    match RedbStore::open_with(&path, Mode::Existing, &Unlock::key(old_key)) {
        Err(StoreError::KeyNeeded { .. }) => {}
        other => panic!("the old master key should open nothing: {other:?}"),
    }
    // Every blob was filed under a new id and sealed afresh: no old id, no old nonce remains.
    let new_bytes = std::fs::read(&path).unwrap();
    let mut old_pieces = Vec::new();
    common::edit_raw(&old_copy, |txn| {
        for entry in txn.open_table(common::BLOBS).unwrap().iter().unwrap() {
            let (key, value) = entry.unwrap();
            old_pieces.push(key.value().to_vec());
            old_pieces.push(value.value()[..24].to_vec());
        }
    });
    assert_eq!(old_pieces.len(), 2 * 1500);
    let found = old_pieces.iter().filter(|piece| new_bytes.windows(piece.len()).any(|w| w == piece.as_slice()));
    assert_eq!(found.count(), 0, "old blob ids or nonces remain in the rotated file");
}

#[test]
fn slots_no_credential_opens_are_refused_or_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = common::create_encrypted(&path);
    fill(&mut store, 10, "a");
    store.add_key_slot(&second_slot()).unwrap();
    store.close().unwrap();
    let before = std::fs::read(&path).unwrap();
    let refused = RedbStore::rotate(&path, &test_unlock(), Rotation::default(), &mut no_progress).unwrap_err();
    assert!(refused.to_string().contains("do not open key slots 2"), "{refused}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "a refused rotation changes the file");
    assert!(!path.with_file_name("store.redb.rotating").exists());

    let options = Rotation { drop_unusable_slots: true, ..Rotation::default() };
    let report = RedbStore::rotate(&path, &test_unlock(), options, &mut no_progress).unwrap();
    assert_eq!(report.dropped.iter().map(|s| s.id).collect::<Vec<_>>(), vec![2]);
    assert!(matches!(
        RedbStore::open_with(&path, Mode::Existing, &Unlock::password(OTHER_PASSWORD.to_string().into())),
        Err(StoreError::WrongKey { .. })
    ));
    assert_eq!(common::open_encrypted(&path).key_slots().unwrap().len(), 1);
}

#[test]
fn a_plain_store_has_no_key_to_rotate_and_a_wrong_password_rotates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.redb");
    RedbStore::open(&plain).unwrap().close().unwrap();
    let refused = RedbStore::rotate(&plain, &test_unlock(), Rotation::default(), &mut no_progress).unwrap_err();
    assert!(refused.to_string().contains("not encrypted"), "{refused}");

    let path = dir.path().join("store.redb");
    common::create_encrypted(&path).close().unwrap();
    let before = std::fs::read(&path).unwrap();
    let wrong = Unlock::password("wrong".to_string().into());
    assert!(matches!(
        RedbStore::rotate(&path, &wrong, Rotation::default(), &mut no_progress),
        Err(StoreError::WrongKey { .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// The rotator: rotates the store, printing `batch N` after each durable batch; with
/// `CHENILLES_ROTATION_WRITE` set, first commits one more blob (the store written between two
/// interrupted rotations).
#[test]
fn rotation_child() {
    let Some(path) = std::env::var_os(STORE_VAR) else {
        return;
    };
    let path = Path::new(&path);
    if let Some(tag) = std::env::var_os("CHENILLES_ROTATION_WRITE") {
        let mut store = common::open_encrypted(path);
        let mut batch = Batch::default();
        let hash = batch.put(format!("written between rotations {}", tag.to_string_lossy()).into_bytes());
        batch.set_ref(&format!("between/{}", tag.to_string_lossy()), None, hash);
        store.commit(batch).unwrap();
        store.close().unwrap();
        println!("wrote");
    }
    let report = RedbStore::rotate(path, &test_unlock(), Rotation::default(), &mut |done, total| {
        println!("batch {done}/{total}")
    })
    .unwrap();
    println!("rotated{}", if report.resumed { ", resumed" } else { "" });
}

#[test]
fn a_rotation_killed_at_random_instants_loses_nothing_and_finishes() {
    if std::env::var_os(STORE_VAR).is_some() {
        return;
    }
    let mut rng = common::Rng::from_env();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = common::create_encrypted(&path);
    fill(&mut store, 12_000, "a");
    let (mut refs, mut blobs) = contents(&store);
    store.close().unwrap();
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let (mut kills, mut finished, mut writes, mut resumed, mut mid_copy) = (0, 0, 0, 0, 0);
    // Rotations are killed at random instants, sometimes with a commit between two of them; a
    // few run to the end; after each, the store holds exactly what was committed.
    for round in 0..24 {
        let write = round % 5 == 3;
        let mut command = Command::new(&exe);
        command
            .args(["--exact", "rotation_child", "--nocapture", "--test-threads=1"])
            .env(STORE_VAR, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if write {
            command.env("CHENILLES_ROTATION_WRITE", round.to_string());
        }
        let mut child = command.spawn().unwrap();
        let finish = round % 6 == 5;
        if !finish {
            std::thread::sleep(Duration::from_micros(rng.below(400_000)));
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let out = child.wait_with_output().unwrap();
        if finish {
            assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stdout));
            finished += 1;
        }
        let out = String::from_utf8_lossy(&out.stdout);
        resumed += usize::from(out.contains("rotated, resumed"));
        mid_copy += usize::from(out.contains("batch ") && !out.contains("rotated"));
        let store = common::open_encrypted(&path);
        let (now_refs, now_blobs) = contents(&store);
        if write && (out.contains("wrote") || now_refs.len() > refs.len()) {
            // The commit between rotations landed (its ack may have been cut off by the kill).
            let name = format!("between/{round}");
            let hash = now_refs[&name];
            refs.insert(name, hash);
            blobs.insert(hash, now_blobs[&hash].clone());
            writes += 1;
        }
        assert_eq!(now_refs, refs, "round {round}: the refs changed");
        assert_eq!(now_blobs.len(), blobs.len(), "round {round}: blobs were lost or added");
        assert!(now_blobs == blobs, "round {round}: a blob's bytes changed");
        assert!(store.verify().unwrap().is_clean(), "round {round}");
        store.close().unwrap();
    }
    // A last, uninterrupted rotation finishes whatever was left.
    let report = RedbStore::rotate(&path, &test_unlock(), Rotation::default(), &mut no_progress).unwrap();
    assert!(!path.with_file_name("store.redb.rotating").exists());
    let store = common::open_encrypted(&path);
    assert_eq!(contents(&store), (refs, blobs));
    println!(
        "{kills} kills ({mid_copy} after a batch and before the end), {finished} runs left to finish, {resumed} runs \
         that finished a copy an earlier run began, {writes} commits between rotations in {:?}; the last rotation resumed: {}",
        started.elapsed(),
        report.resumed
    );
    assert!(mid_copy > 0 && resumed > 0, "no kill fell inside a copy: the test proves nothing");
}

#[test]
fn an_unfinished_copy_is_no_store_and_holds_the_slots_still() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = common::create_encrypted(&path);
    fill(&mut store, 3000, "a");
    store.close().unwrap();
    // Interrupt a rotation after its first batch, from inside: the callback panics.
    let interrupted = std::panic::catch_unwind(|| {
        RedbStore::rotate(&path, &test_unlock(), Rotation::default(), &mut |_, _| panic!("interrupted"))
    });
    assert!(interrupted.is_err());
    let copy = path.with_file_name("store.redb.rotating");
    assert!(copy.exists());
    match RedbStore::open_with(&copy, Mode::Existing, &test_unlock()) {
        Err(StoreError::Corrupt { cause, .. }) => assert!(cause.contains("unfinished copy"), "{cause}"),
        other => panic!("the copy should be refused: {other:?}"),
    }
    let mut store = common::open_encrypted(&path);
    let refused = store.add_key_slot(&second_slot()).unwrap_err();
    assert!(refused.to_string().contains("unfinished"), "{refused}");
    store.close().unwrap();
    assert!(RedbStore::abandon_rotation(&path).unwrap());
    assert!(!copy.exists());
    assert!(!RedbStore::abandon_rotation(&path).unwrap());
}
