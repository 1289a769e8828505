//! gc removes exactly the blobs that no ref reaches, directly or through the blobs that
//! `roots_of` finds inside reachable blobs, and never one that is reachable.

mod common;

use chenilles_store::{Batch, BlobStore, GcReport, Hash, RedbStore, StoreError};
use common::{Fixture, linked, roots_of};

/// A tree: root → {left, right}, left → {shared}, right → {shared, leaf}; plus garbage.
struct Tree {
    root: Hash,
    reachable: Vec<Hash>,
    garbage: Vec<Hash>,
}

fn build(f: &mut dyn Fixture) -> Tree {
    let mut batch = Batch::default();
    let shared = batch.put(linked(b"shared", &[]));
    let leaf = batch.put(linked(b"leaf", &[]));
    let left = batch.put(linked(b"left", &[shared]));
    let right = batch.put(linked(b"right", &[shared, leaf]));
    let root = batch.put(linked(b"root", &[left, right]));
    let old_leaf = batch.put(linked(b"old leaf", &[]));
    let old_root = batch.put(linked(b"old root", &[old_leaf, shared]));
    let stray = batch.put(vec![9; 1000]);
    batch.set_ref("head", None, old_root);
    f.store().commit(batch).unwrap();
    let mut batch = Batch::default();
    batch.set_ref("head", Some(old_root), root);
    f.store().commit(batch).unwrap();
    Tree { root, reachable: vec![root, left, right, shared, leaf], garbage: vec![old_root, old_leaf, stray] }
}

fn gc_removes_exactly_the_unreachable_blobs(f: &mut dyn Fixture) {
    let tree = build(f);
    let garbage_bytes: u64 = tree.garbage.iter().map(|h| f.store().get(h).unwrap().unwrap().len() as u64).sum();
    let kept_bytes: u64 = tree.reachable.iter().map(|h| f.store().get(h).unwrap().unwrap().len() as u64).sum();
    let report = f.store().gc(&roots_of).unwrap();
    assert_eq!(
        report,
        GcReport {
            blobs_kept: 5,
            bytes_kept: kept_bytes,
            blobs_removed: 3,
            bytes_removed: garbage_bytes,
            missing: vec![],
            compacted: None
        }
    );
    f.reopen();
    let held = f.store().blob_hashes().unwrap();
    for hash in &tree.reachable {
        assert!(held.contains(hash), "reachable blob {hash} was removed");
    }
    assert_eq!(held.len(), 5);
    assert!(f.store().verify().unwrap().is_clean());
}

fn a_second_gc_finds_nothing_to_remove(f: &mut dyn Fixture) {
    build(f);
    f.store().gc(&roots_of).unwrap();
    let again = f.store().gc(&roots_of).unwrap();
    assert_eq!((again.blobs_kept, again.blobs_removed), (5, 0));
}

fn every_ref_is_a_root(f: &mut dyn Fixture) {
    let tree = build(f);
    let mut batch = Batch::default();
    batch.set_ref("backup", None, tree.garbage[0]);
    f.store().commit(batch).unwrap();
    let report = f.store().gc(&roots_of).unwrap();
    assert_eq!((report.blobs_kept, report.blobs_removed), (7, 1));
    assert!(!f.store().has(&tree.garbage[2]).unwrap());
}

fn with_no_refs_everything_goes(f: &mut dyn Fixture) {
    let tree = build(f);
    let mut batch = Batch::default();
    batch.delete_ref("head", tree.root);
    f.store().commit(batch).unwrap();
    let report = f.store().gc(&roots_of).unwrap();
    assert_eq!((report.blobs_kept, report.blobs_removed), (0, 8));
    assert!(f.store().blob_hashes().unwrap().is_empty());
}

fn a_reference_to_an_absent_blob_is_reported_not_fatal(f: &mut dyn Fixture) {
    let lost = Hash::of(b"never stored");
    let mut batch = Batch::default();
    let root = batch.put(linked(b"root", &[lost]));
    batch.set_ref("head", None, root);
    f.store().commit(batch).unwrap();
    let report = f.store().gc(&roots_of).unwrap();
    assert_eq!(report.missing, vec![lost]);
    assert_eq!(report.blobs_kept, 1);
}

for_each_backend!(
    gc_removes_exactly_the_unreachable_blobs,
    a_second_gc_finds_nothing_to_remove,
    every_ref_is_a_root,
    with_no_refs_everything_goes,
    a_reference_to_an_absent_blob_is_reported_not_fatal,
);

#[test]
fn a_corrupt_reachable_blob_stops_gc_before_it_removes_anything() {
    let mut f = common::Redb::new();
    let tree = build(&mut f);
    let left = tree.reachable[1];
    // The damaged blob no longer lists `shared`: a gc that trusted it would drop a live blob.
    f.with_file_closed(|path| common::damage_blob(path, left, &linked(b"left", &[])));
    let before = f.store().blob_hashes().unwrap();
    assert_eq!(f.store().gc(&roots_of), Err(StoreError::CorruptBlob { hash: left }));
    assert_eq!(f.store().blob_hashes().unwrap(), before);
}

#[test]
fn gc_on_a_read_only_store_is_refused() {
    let mut f = common::Redb::new();
    build(&mut f);
    let path = f.path().unwrap();
    let mut reader = RedbStore::open_read_only(&path).unwrap();
    assert!(matches!(reader.gc(&roots_of), Err(StoreError::ReadOnly { .. })));
}

/// A file whose garbage passes the threshold is compacted by the gc, and keeps what it kept.
#[test]
fn a_gc_compacts_a_file_mostly_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&path).unwrap();
    let mut batch = Batch::default();
    let live = batch.put(linked(b"live", &[]));
    batch.set_ref("head", None, live);
    store.commit(batch).unwrap();
    for round in 0..10u32 {
        let mut batch = Batch::default();
        for i in 0..1000u32 {
            let mut bytes = vec![7u8; 4000];
            bytes[..8].copy_from_slice(&((u64::from(round) << 32) | u64::from(i)).to_le_bytes());
            batch.put(bytes);
        }
        store.commit(batch).unwrap();
    }
    let report = store.gc(&roots_of).unwrap();
    assert_eq!(report.blobs_removed, 10_000);
    let (before, after) = report.compacted.expect("40 MB of garbage is worth compacting");
    assert!(before > 40 << 20 && after < 4 << 20, "compacted from {before} to {after} bytes");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), after);
    // Nothing more to win: the next gc leaves the file alone.
    assert_eq!(store.gc(&roots_of).unwrap().compacted, None);
    drop(store);
    let store = RedbStore::open(&path).unwrap();
    assert_eq!(store.get_ref("head").unwrap(), Some(live));
    assert!(store.get(&live).unwrap().is_some());
    assert!(store.verify().unwrap().is_clean());
}
