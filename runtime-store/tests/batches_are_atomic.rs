//! A batch commits whole or not at all: a conflicting compare-and-swap or a ref to a blob the store
//! does not hold anywhere in the batch leaves every blob and every ref as it was, on disk too.

mod common;

use chenilles_store::{Batch, BlobStore, Hash, RedbStore, StoreError};
use common::Fixture;

fn setup(f: &mut dyn Fixture) -> Hash {
    let mut batch = Batch::default();
    let a = batch.put(b"a".to_vec());
    batch.set_ref("head", None, a);
    batch.set_ref("other", None, a);
    f.store().commit(batch).unwrap();
    a
}

fn assert_unchanged(f: &mut dyn Fixture, a: Hash) {
    assert_eq!(f.store().blob_hashes().unwrap().into_iter().collect::<Vec<_>>(), [a]);
    assert_eq!(f.store().list_refs().unwrap(), [("head".to_string(), a), ("other".to_string(), a)]);
}

fn a_conflicting_compare_and_swap_writes_nothing(f: &mut dyn Fixture) {
    let a = setup(f);
    let mut batch = Batch::default();
    let b = batch.put(b"b".to_vec());
    batch.put(vec![7; 10_000]);
    batch.set_ref("other", Some(a), b); // fine on its own
    batch.set_ref("new", None, b); // fine on its own
    batch.set_ref("head", None, b); // conflicts: head exists
    assert_eq!(
        f.store().commit(batch),
        Err(StoreError::RefConflict { name: "head".into(), expected: None, actual: Some(a) })
    );
    assert_unchanged(f, a);
    f.reopen();
    assert_unchanged(f, a);
}

fn a_ref_to_a_missing_blob_writes_nothing(f: &mut dyn Fixture) {
    let a = setup(f);
    let mut batch = Batch::default();
    let b = batch.put(b"b".to_vec());
    batch.set_ref("other", Some(a), b);
    let nowhere = Hash::of(b"nowhere");
    batch.set_ref("head", Some(a), nowhere);
    assert_eq!(f.store().commit(batch), Err(StoreError::DanglingRef { name: "head".into(), target: nowhere }));
    assert_unchanged(f, a);
    f.reopen();
    assert_unchanged(f, a);
}

fn updates_in_a_batch_apply_in_order(f: &mut dyn Fixture) {
    let a = setup(f);
    let mut batch = Batch::default();
    let b = batch.put(b"b".to_vec());
    let c = batch.put(b"c".to_vec());
    batch.set_ref("head", Some(a), b);
    batch.set_ref("head", Some(b), c); // sees the update before it
    batch.delete_ref("other", a);
    batch.set_ref("other", None, c); // sees the deletion
    f.store().commit(batch).unwrap();
    f.reopen();
    assert_eq!(f.store().get_ref("head").unwrap(), Some(c));
    assert_eq!(f.store().get_ref("other").unwrap(), Some(c));
}

fn a_batch_after_a_refused_one_commits_normally(f: &mut dyn Fixture) {
    let a = setup(f);
    let mut refused = Batch::default();
    refused.set_ref("head", None, a);
    assert!(f.store().commit(refused).is_err());
    let mut batch = Batch::default();
    let b = batch.put(b"b".to_vec());
    batch.set_ref("head", Some(a), b);
    f.store().commit(batch).unwrap();
    f.reopen();
    assert_eq!(f.store().get_ref("head").unwrap(), Some(b));
}

for_each_backend!(
    a_conflicting_compare_and_swap_writes_nothing,
    a_ref_to_a_missing_blob_writes_nothing,
    updates_in_a_batch_apply_in_order,
    a_batch_after_a_refused_one_commits_normally,
);

#[test]
fn a_refused_batch_leaves_the_file_byte_for_byte_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&path).unwrap();
    let mut batch = Batch::default();
    let a = batch.put(b"a".to_vec());
    batch.set_ref("head", None, a);
    store.commit(batch).unwrap();
    let before = std::fs::read(&path).unwrap();
    for _ in 0..5 {
        let mut batch = Batch::default();
        batch.put(vec![1; 50_000]);
        batch.set_ref("head", None, a);
        assert!(store.commit(batch).is_err());
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
