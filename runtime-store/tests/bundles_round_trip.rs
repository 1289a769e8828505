//! A bundle carries refs and everything they reach from one store to another, and a bundle that
//! was cut short or altered anywhere is refused whole: nothing of it is imported.

mod common;

use chenilles_store::{Batch, BlobStore, BundleRefs, Hash, MemoryStore, RedbStore, StoreError};
use common::{Fixture, linked, roots_of};

/// Two processes' heads sharing a page, plus a blob nothing reaches.
fn fill(f: &mut dyn Fixture) -> Vec<Hash> {
    let mut batch = Batch::default();
    let shared = batch.put(linked(&[5; 5000], &[]));
    let one = batch.put(linked(b"one", &[shared]));
    let two_leaf = batch.put(linked(b"", &[]));
    let two = batch.put(linked(b"two", &[shared, two_leaf]));
    batch.put(b"unreachable".to_vec());
    batch.set_ref("process/1/head", None, one);
    batch.set_ref("process/2/head", None, two);
    f.store().commit(batch).unwrap();
    vec![shared, one, two_leaf, two]
}

fn export(f: &mut dyn Fixture, refs: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let summary = f.store().export_bundle(refs, &roots_of, &mut bytes).unwrap();
    assert_eq!(summary.bytes, bytes.len() as u64);
    bytes
}

fn a_bundle_carries_its_refs_and_all_they_reach(f: &mut dyn Fixture) {
    let blobs = fill(f);
    let bundle = export(f, &["process/1/head", "process/2/head"]);
    for target in [&mut common::Memory::new() as &mut dyn Fixture, &mut common::Redb::new()] {
        let summary = target.store().import_bundle(&mut bundle.as_slice()).unwrap();
        assert_eq!(summary.blobs, 4);
        target.reopen();
        assert_eq!(target.store().list_refs().unwrap(), f.store().list_refs().unwrap());
        let held: Vec<Hash> = target.store().blob_hashes().unwrap().into_iter().collect();
        let mut expected = blobs.clone();
        expected.sort();
        assert_eq!(held, expected, "exactly the reachable blobs, not the unreachable one");
        for hash in &blobs {
            assert_eq!(target.store().get(hash).unwrap(), f.store().get(hash).unwrap());
        }
    }
}

fn a_bundle_of_one_ref_carries_only_what_it_reaches(f: &mut dyn Fixture) {
    let blobs = fill(f);
    let bundle = export(f, &["process/1/head"]);
    let mut target = MemoryStore::default();
    target.import_bundle(&mut bundle.as_slice()).unwrap();
    assert_eq!(target.list_refs().unwrap().len(), 1);
    assert_eq!(target.blob_hashes().unwrap(), [blobs[0], blobs[1]].into_iter().collect());
}

fn the_same_state_gives_the_same_bundle_bytes(f: &mut dyn Fixture) {
    fill(f);
    let first = export(f, &["process/2/head", "process/1/head", "process/2/head"]);
    f.reopen();
    let second = export(f, &["process/2/head", "process/1/head"]);
    assert_eq!(first, second);
    let mut memory = common::Memory::new();
    fill(&mut memory);
    assert_eq!(export(&mut memory, &["process/2/head", "process/1/head"]), first);
}

fn importing_twice_changes_nothing_the_second_time(f: &mut dyn Fixture) {
    fill(f);
    let bundle = export(f, &["process/1/head"]);
    let mut target = common::Redb::new();
    target.store().import_bundle(&mut bundle.as_slice()).unwrap();
    target.store().import_bundle(&mut bundle.as_slice()).unwrap();
    assert_eq!(target.store().list_refs().unwrap().len(), 1);
}

fn a_ref_that_exists_elsewhere_refuses_the_whole_import(f: &mut dyn Fixture) {
    fill(f);
    let bundle = export(f, &["process/1/head", "process/2/head"]);
    let mut target = common::Redb::new();
    let mut batch = Batch::default();
    let mine = batch.put(b"mine".to_vec());
    batch.set_ref("process/2/head", None, mine);
    target.store().commit(batch).unwrap();
    assert!(matches!(target.store().import_bundle(&mut bundle.as_slice()), Err(StoreError::RefConflict { .. })));
    assert_eq!(target.store().list_refs().unwrap().len(), 1);
    assert_eq!(target.store().blob_hashes().unwrap().len(), 1);
}

fn exporting_a_missing_ref_or_a_store_missing_a_blob_is_refused(f: &mut dyn Fixture) {
    fill(f);
    let mut sink = Vec::new();
    assert_eq!(
        f.store().export_bundle(&["nope"], &roots_of, &mut sink),
        Err(StoreError::NoSuchRef { name: "nope".into() })
    );
    let lost = Hash::of(b"lost");
    let mut batch = Batch::default();
    let root = batch.put(linked(b"root", &[lost]));
    batch.set_ref("broken", None, root);
    f.store().commit(batch).unwrap();
    assert_eq!(f.store().export_bundle(&["broken"], &roots_of, &mut sink), Err(StoreError::MissingBlob { hash: lost }));
}

for_each_plain_backend!(
    a_bundle_carries_its_refs_and_all_they_reach,
    a_bundle_of_one_ref_carries_only_what_it_reaches,
    the_same_state_gives_the_same_bundle_bytes,
    importing_twice_changes_nothing_the_second_time,
    a_ref_that_exists_elsewhere_refuses_the_whole_import,
    exporting_a_missing_ref_or_a_store_missing_a_blob_is_refused,
);

#[test]
fn a_selection_carries_required_optional_and_prefixed_refs_of_one_snapshot() {
    let fixtures: [&mut dyn Fixture; 3] =
        [&mut common::Memory::new(), &mut common::Redb::new(), &mut common::Encrypted::new()];
    for f in fixtures {
        fill(f);
        let mut batch = Batch::default();
        let mail = batch.put(linked(b"mail", &[]));
        for name in ["mailbox/1/a", "mailbox/1/b", "mailbox/10/c", "mailbox/1"] {
            batch.set_ref(name, None, mail);
        }
        f.store().commit(batch).unwrap();
        let selected = BundleRefs {
            required: &["process/1/head"],
            optional: &["mailbox/1", "mailbox/2", "process/1/head"],
            prefixes: &["mailbox/1/", "mailbox/2/"],
        };
        let mut bytes = Vec::new();
        let summary = f.store().export_bundle_of(&selected, &roots_of, &[], &mut bytes).unwrap();
        let names: Vec<&str> = summary.refs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["process/1/head", "mailbox/1", "mailbox/1/a", "mailbox/1/b"]);
        let bundle = f.store().open_bundle(&mut bytes.as_slice(), &[]).unwrap();
        assert_eq!(bundle.summary().refs, summary.refs, "what the bundle holds is what was said");
        assert_eq!(summary.blobs, 3, "the head, the page it shares and the mail");
        let missing = BundleRefs { required: &["process/3/head"], ..selected };
        assert_eq!(
            f.store().export_bundle_of(&missing, &roots_of, &[], &mut Vec::new()),
            Err(StoreError::NoSuchRef { name: "process/3/head".into() })
        );
    }
}

fn sample_bundle() -> Vec<u8> {
    let mut f = common::Memory::new();
    fill(&mut f);
    export(&mut f, &["process/1/head", "process/2/head"])
}

fn assert_refused_and_nothing_imported(bundle: &[u8], store: &mut dyn BlobStore, case: &str) {
    match store.import_bundle(&mut &bundle[..]) {
        Err(StoreError::BadBundle { cause }) => assert!(!cause.is_empty()),
        other => panic!("{case}: expected a refusal, got {other:?}"),
    }
    assert!(store.blob_hashes().unwrap().is_empty(), "{case}");
    assert!(store.list_refs().unwrap().is_empty(), "{case}");
}

#[test]
fn a_bundle_cut_short_anywhere_is_refused_whole() {
    let bundle = sample_bundle();
    let mut store = MemoryStore::default();
    for len in 0..bundle.len() {
        assert_refused_and_nothing_imported(&bundle[..len], &mut store, &format!("cut at {len}"));
    }
}

#[test]
fn a_bundle_altered_anywhere_is_refused_whole() {
    let bundle = sample_bundle();
    let mut store = MemoryStore::default();
    for at in 0..bundle.len() {
        for flip in [0x01, 0x80] {
            let mut altered = bundle.clone();
            altered[at] ^= flip;
            assert_refused_and_nothing_imported(&altered, &mut store, &format!("byte {at} ^ {flip:#x}"));
        }
    }
}

#[test]
fn a_bundle_with_bytes_after_its_checksum_is_refused() {
    let mut bundle = sample_bundle();
    bundle.push(0);
    assert_refused_and_nothing_imported(&bundle, &mut MemoryStore::default(), "one extra byte");
}

#[test]
fn a_refused_bundle_leaves_a_durable_store_untouched() {
    let bundle = sample_bundle();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let cut = &bundle[..bundle.len() - 1];
    assert_refused_and_nothing_imported(cut, &mut store, "last byte missing");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_forged_length_does_not_allocate_ahead_of_the_data() {
    // A bundle claiming a 4 GiB blob and then ending: refused at once, without a 4 GiB buffer.
    let mut bundle = b"\0CHNLBDL".to_vec();
    bundle.extend_from_slice(&1u32.to_le_bytes());
    bundle.extend_from_slice(&0u32.to_le_bytes());
    bundle.extend_from_slice(&1u64.to_le_bytes());
    bundle.extend_from_slice(&[0; 32]);
    bundle.extend_from_slice(&u64::from(u32::MAX).to_le_bytes());
    assert_refused_and_nothing_imported(&bundle, &mut MemoryStore::default(), "forged length");
}
