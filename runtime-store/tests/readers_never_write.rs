//! A store can be inspected read-only while another process writes to it: the reader sees each of
//! the writer's commits as it lands, cannot change anything, and never writes to the file.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use chenilles_store::{Batch, BlobStore, Hash, RedbStore, StoreError};

const WRITER_VAR: &str = "CHENILLES_READER_TEST_STORE";

/// The writer: moves ref `counter` to blob `i` for i = 0, 1, 2… and prints `ack i`; stops at 2,000
/// or when killed.
#[test]
fn reader_test_child_writer() {
    let Some(path) = std::env::var_os(WRITER_VAR) else {
        return;
    };
    let mut store = RedbStore::open(Path::new(&path)).unwrap();
    let mut at = None;
    for i in 0..2_000u64 {
        let mut batch = Batch::default();
        let blob = batch.put(i.to_le_bytes().to_vec());
        batch.set_ref("counter", at, blob);
        store.commit(batch).unwrap();
        println!("\nack {i}");
        at = Some(blob);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn spawn_writer(path: &Path) -> (Child, impl Iterator<Item = u64>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "reader_test_child_writer", "--nocapture", "--test-threads=1"])
        .env(WRITER_VAR, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let acks = lines.map_while(Result::ok).filter_map(|l| l.strip_prefix("ack ").and_then(|n| n.parse().ok()));
    (child, acks)
}

fn counter(store: &RedbStore) -> u64 {
    let hash = store.get_ref("counter").unwrap().unwrap();
    u64::from_le_bytes(store.get(&hash).unwrap().unwrap().try_into().unwrap())
}

#[test]
fn a_reader_follows_a_writer_in_another_process_and_cannot_write() {
    if std::env::var_os(WRITER_VAR).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.redb");
    let (mut child, mut acks) = spawn_writer(&path);
    let first = acks.next().unwrap();
    let mut reader = RedbStore::open_read_only(&path).unwrap();
    assert!(reader.is_read_only());
    let seen = counter(&reader);
    assert!(seen >= first);
    // Later commits become visible to the same handle.
    let later = acks.nth(20).unwrap();
    assert!(counter(&reader) >= later);
    assert!(later > seen);
    assert!(reader.verify().unwrap().is_clean());

    let mut batch = Batch::default();
    batch.put(b"x".to_vec());
    assert!(matches!(reader.commit(batch), Err(StoreError::ReadOnly { .. })));
    assert!(matches!(RedbStore::open(&path), Err(StoreError::Locked { .. })));

    // Killed mid-run, the writer leaves a store that needs recovery: readers refuse it, a writer
    // recovers it, and then readers are welcome again.
    child.kill().unwrap();
    child.wait().unwrap();
    drop(reader);
    assert_eq!(RedbStore::open_read_only(&path).unwrap_err(), StoreError::NeedsRecovery { path: path.clone() });
    let last = {
        let store = RedbStore::open(&path).unwrap();
        let last = counter(&store);
        store.close().unwrap();
        last
    };
    assert!(last >= later);
    assert_eq!(counter(&RedbStore::open_read_only(&path).unwrap()), last);
}

#[test]
fn a_read_only_handle_leaves_the_file_byte_for_byte_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&path).unwrap();
    let mut batch = Batch::default();
    let a = batch.put(vec![1; 10_000]);
    batch.set_ref("head", None, a);
    store.commit(batch).unwrap();
    store.close().unwrap();
    let before = std::fs::read(&path).unwrap();

    let reader = RedbStore::open_read_only(&path).unwrap();
    assert_eq!(reader.get(&a).unwrap(), Some(vec![1; 10_000]));
    assert!(reader.verify().unwrap().is_clean());
    let mut bundle = Vec::new();
    reader.export_bundle(&["head"], &common::no_roots, &mut bundle).unwrap();
    assert_eq!(reader.list_refs().unwrap(), vec![("head".to_string(), a)]);
    assert!(!reader.has(&Hash::of(b"other")).unwrap());
    reader.close().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_missing_file_is_not_created_by_a_read_only_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.redb");
    assert!(matches!(RedbStore::open_read_only(&path), Err(StoreError::Io { .. })));
    assert!(!path.exists());
}

#[test]
fn a_second_writer_is_refused_even_in_the_same_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let first = RedbStore::open(&path).unwrap();
    assert_eq!(RedbStore::open(&path).unwrap_err(), StoreError::Locked { path: path.clone() });
    first.close().unwrap();
    RedbStore::open(&path).unwrap();
}
