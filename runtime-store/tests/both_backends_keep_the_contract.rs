//! The behaviour every backend promises, run against each: blobs are named by their hash, refs
//! move only from the value the caller expects, and what a commit returned from is kept.

mod common;

use chenilles_store::{Batch, Hash, StoreError};
use common::{Fixture, no_roots};

fn put(f: &mut dyn Fixture, bytes: &[u8]) -> Hash {
    let mut batch = Batch::default();
    let hash = batch.put(bytes.to_vec());
    f.store().commit(batch).unwrap();
    hash
}

fn blobs_are_named_by_their_hash(f: &mut dyn Fixture) {
    let hash = put(f, b"hello");
    assert_eq!(hash, Hash::of(b"hello"));
    assert_eq!(f.store().get(&hash).unwrap().as_deref(), Some(&b"hello"[..]));
    assert!(f.store().has(&hash).unwrap());
    assert!(!f.store().has(&Hash::of(b"other")).unwrap());
    assert_eq!(f.store().get(&Hash::of(b"other")).unwrap(), None);
}

fn the_empty_blob_and_large_blobs_are_blobs_too(f: &mut dyn Fixture) {
    let large: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let empty = put(f, b"");
    let big = put(f, &large);
    f.reopen();
    assert_eq!(f.store().get(&empty).unwrap(), Some(Vec::new()));
    assert_eq!(f.store().get(&big).unwrap(), Some(large));
}

fn putting_a_blob_twice_keeps_one_copy(f: &mut dyn Fixture) {
    let a = put(f, b"same");
    let b = put(f, b"same");
    assert_eq!(a, b);
    assert_eq!(f.store().blob_hashes().unwrap().len(), 1);
}

fn refs_move_only_from_their_expected_value(f: &mut dyn Fixture) {
    let a = put(f, b"a");
    let b = put(f, b"b");
    let mut batch = Batch::default();
    batch.set_ref("head", None, a);
    f.store().commit(batch).unwrap();

    let mut stale = Batch::default();
    stale.set_ref("head", Some(b), b);
    assert_eq!(
        f.store().commit(stale),
        Err(StoreError::RefConflict { name: "head".into(), expected: Some(b), actual: Some(a) })
    );
    let mut fresh = Batch::default();
    fresh.set_ref("head", Some(a), b);
    f.store().commit(fresh).unwrap();
    assert_eq!(f.store().get_ref("head").unwrap(), Some(b));
}

fn a_ref_may_point_at_a_blob_put_in_the_same_batch(f: &mut dyn Fixture) {
    let mut batch = Batch::default();
    let page = batch.put(b"page".to_vec());
    batch.set_ref("head", None, page);
    f.store().commit(batch).unwrap();
    assert_eq!(f.store().get_ref("head").unwrap(), Some(page));
}

fn deleted_refs_are_gone_and_deletion_is_compare_and_swap(f: &mut dyn Fixture) {
    let a = put(f, b"a");
    let mut batch = Batch::default();
    batch.set_ref("head", None, a);
    f.store().commit(batch).unwrap();

    let mut wrong = Batch::default();
    wrong.delete_ref("head", Hash::of(b"b"));
    assert!(matches!(f.store().commit(wrong), Err(StoreError::RefConflict { .. })));
    let mut right = Batch::default();
    right.delete_ref("head", a);
    f.store().commit(right).unwrap();
    f.reopen();
    assert_eq!(f.store().get_ref("head").unwrap(), None);
    assert!(f.store().has(&a).unwrap(), "deleting a ref keeps its blob");
}

fn refs_are_listed_sorted_by_name(f: &mut dyn Fixture) {
    let a = put(f, b"a");
    let mut batch = Batch::default();
    for name in ["zeta", "alpha", "process/2/head", "", "process/10/head"] {
        batch.set_ref(name, None, a);
    }
    f.store().commit(batch).unwrap();
    let names: Vec<String> = f.store().list_refs().unwrap().into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["", "alpha", "process/10/head", "process/2/head", "zeta"]);
}

fn refs_are_listed_by_prefix_and_after_a_name(f: &mut dyn Fixture) {
    let a = put(f, b"a");
    let mut batch = Batch::default();
    for name in ["mailbox/bob", "mailbox/bob/01", "mailbox/bob/02", "mailbox/bob/03", "mailbox/bobby/01", "mailbox/bo"]
    {
        batch.set_ref(name, None, a);
    }
    f.store().commit(batch).unwrap();
    f.reopen();
    let names = |f: &mut dyn Fixture, prefix: &str, after: Option<&str>| -> Vec<String> {
        f.store().list_refs_with_prefix(prefix, after).unwrap().into_iter().map(|r| r.0).collect()
    };
    assert_eq!(names(f, "mailbox/bob/", None), ["mailbox/bob/01", "mailbox/bob/02", "mailbox/bob/03"]);
    assert_eq!(names(f, "mailbox/bob/", Some("mailbox/bob/01")), ["mailbox/bob/02", "mailbox/bob/03"]);
    assert_eq!(names(f, "mailbox/bob/", Some("mailbox/bob/03")), Vec::<String>::new());
    assert_eq!(names(f, "mailbox/bob", None).len(), 5);
    assert_eq!(names(f, "nothing/", None), Vec::<String>::new());
    assert_eq!(names(f, "", None).len(), 6);
}

fn what_a_commit_returned_from_survives_reopening(f: &mut dyn Fixture) {
    let mut batch = Batch::default();
    let pages: Vec<Hash> = (0..50u32).map(|i| batch.put(format!("page {i}").into_bytes())).collect();
    batch.set_ref("head", None, pages[49]);
    f.store().commit(batch).unwrap();
    f.reopen();
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(f.store().get(page).unwrap(), Some(format!("page {i}").into_bytes()));
    }
    assert_eq!(f.store().get_ref("head").unwrap(), Some(pages[49]));
}

fn an_empty_batch_changes_nothing(f: &mut dyn Fixture) {
    f.store().commit(Batch::default()).unwrap();
    assert!(f.store().blob_hashes().unwrap().is_empty());
    assert!(f.store().list_refs().unwrap().is_empty());
}

fn a_sound_store_verifies_clean(f: &mut dyn Fixture) {
    let mut batch = Batch::default();
    let a = batch.put(b"a".to_vec());
    batch.put(b"b".to_vec());
    batch.set_ref("head", None, a);
    f.store().commit(batch).unwrap();
    let report = f.store().verify().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!((report.blobs_checked, report.refs_checked), (2, 1));
    assert_eq!(f.store().gc(&no_roots).unwrap().blobs_removed, 1);
}

for_each_backend!(
    blobs_are_named_by_their_hash,
    the_empty_blob_and_large_blobs_are_blobs_too,
    putting_a_blob_twice_keeps_one_copy,
    refs_move_only_from_their_expected_value,
    a_ref_may_point_at_a_blob_put_in_the_same_batch,
    deleted_refs_are_gone_and_deletion_is_compare_and_swap,
    refs_are_listed_sorted_by_name,
    refs_are_listed_by_prefix_and_after_a_name,
    what_a_commit_returned_from_survives_reopening,
    an_empty_batch_changes_nothing,
    a_sound_store_verifies_clean,
);
