//! A store on a simulated disk that crashes at each of its writes and syncs in turn (keeping a
//! seeded random subset of the unsynced writes, the last one possibly torn) reopens to exactly the
//! commits acknowledged before the crash, and at most the one in flight; a failed operation that
//! is not a crash leaves a store that reopens the same way. Plain and encrypted stores alike.

mod common;

use chenilles_store::simulated::{Fault, SimulatedDisk};
use chenilles_store::{Batch, BlobStore, Hash, RedbStore, StoreError, Unlock};

const COMMITS: u64 = 6;
const LARGE_COMMIT: u64 = 3;

/// Commit `i` puts one blob and moves `head` to it; commit [`LARGE_COMMIT`] also puts 1.25 MiB
/// of other blobs (an encrypted store seals a batch that large on a second thread).
fn commit(store: &mut RedbStore, i: u64, previous: Option<Hash>) -> Result<Hash, chenilles_store::StoreError> {
    let mut batch = Batch::default();
    if i == LARGE_COMMIT {
        for j in 0..40u8 {
            batch.put([j].repeat(32 << 10));
        }
    }
    let blob = batch.put(format!("commit {i};").repeat(200).into_bytes());
    batch.set_ref("head", previous, blob);
    store.commit(batch)?;
    Ok(blob)
}

/// A disk holding a new, empty store, its operations counted from zero. (Creating a store on a
/// real disk is atomic — `RedbStore::open` builds it beside and renames it — so the crashes that
/// matter come after.)
fn disk_with_store(encrypted: bool) -> SimulatedDisk {
    let disk = SimulatedDisk::new();
    let slot = common::test_slot();
    let create = encrypted.then_some(&slot);
    drop(RedbStore::open_simulated_with(&disk, create, &Unlock::none()).expect("a new store"));
    disk.copy()
}

/// Opens the store on `disk`, with the tests' password.
fn open(disk: &SimulatedDisk) -> Result<RedbStore, StoreError> {
    RedbStore::open_simulated_with(disk, None, &common::test_unlock())
}

/// Runs the commits on `disk` until one fails; returns how many were acknowledged.
fn run(disk: &SimulatedDisk) -> u64 {
    let Ok(mut store) = open(disk) else { return 0 };
    let mut head = None;
    for i in 0..COMMITS {
        match commit(&mut store, i, head) {
            Ok(blob) => head = Some(blob),
            Err(_) => return i,
        }
    }
    COMMITS
}

/// The number of the commit `head` names, if any.
fn head_commit(store: &RedbStore) -> Option<u64> {
    let head = store.get_ref("head").unwrap()?;
    let bytes = store.get(&head).unwrap().expect("head's blob is held");
    let text = String::from_utf8(bytes).unwrap();
    let number = text.strip_prefix("commit ").and_then(|rest| rest.split(';').next()).expect("a commit blob");
    Some(number.parse().unwrap())
}

#[test]
fn a_crash_at_any_operation_recovers_to_a_prefix_of_the_commits() {
    crash_at_any_operation(false);
}

#[test]
fn a_crash_at_any_operation_of_an_encrypted_store_recovers_to_a_prefix_of_the_commits() {
    crash_at_any_operation(true);
}

fn crash_at_any_operation(encrypted: bool) {
    let clean = disk_with_store(encrypted);
    assert_eq!(run(&clean), COMMITS);
    let operations = clean.operations();
    assert!(operations > 10, "{operations} operations");
    for at in 1..=operations {
        for fault in [Fault::CrashAt(at), Fault::TearAt(at)] {
            let disk = disk_with_store(encrypted);
            disk.inject(fault);
            let acknowledged = run(&disk);
            for seed in 0..4 {
                let recovered = disk.after_crash(seed);
                let store = open(&recovered)
                    .unwrap_or_else(|e| panic!("{fault:?}, seed {seed}: the store does not reopen: {e}"));
                let head = head_commit(&store).map_or(0, |n| n + 1);
                assert!(
                    head == acknowledged || head == acknowledged + 1,
                    "{fault:?}, seed {seed}: {acknowledged} commits acknowledged, {head} recovered"
                );
                assert!(store.verify().unwrap().is_clean(), "{fault:?}, seed {seed}");
            }
        }
    }
}

#[test]
fn a_failed_operation_leaves_a_store_that_reopens() {
    failed_operation(false);
}

#[test]
fn a_failed_operation_of_an_encrypted_store_leaves_a_store_that_reopens() {
    failed_operation(true);
}

fn failed_operation(encrypted: bool) {
    let clean = disk_with_store(encrypted);
    run(&clean);
    for at in 1..=clean.operations() {
        let disk = disk_with_store(encrypted);
        disk.inject(Fault::FailAt(at));
        let acknowledged = run(&disk);
        let store = open(&disk.copy()).unwrap_or_else(|e| panic!("failure at {at}: the store does not reopen: {e}"));
        let head = head_commit(&store).map_or(0, |n| n + 1);
        assert!(
            head == acknowledged || head == acknowledged + 1,
            "failure at {at}: {acknowledged} acknowledged, {head} held"
        );
    }
}
