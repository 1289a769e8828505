//! Sealed bundles: a bundle of an encrypted store is an age file, sealed to the store itself and
//! to any recipient asked for; nothing of it is readable without a key, importing it needs one,
//! and a sealed bundle that was cut short or altered anywhere is refused whole.

mod common;

use age::secrecy::ExposeSecret;
use chenilles_store::{Batch, BlobStore, Credential, Hash, MemoryStore, RedbStore, Rotation, StoreError};
use common::{Fixture, linked, roots_of};

const SECRET: &[u8] = b"counterparty: Mallory Quince, balance 4711";

/// A store holding two refs that share a blob, one of them carrying [`SECRET`].
fn fill(store: &mut dyn BlobStore) -> Vec<Hash> {
    let mut batch = Batch::default();
    let shared = batch.put(linked(SECRET, &[]));
    let one = batch.put(linked(b"one", &[shared]));
    let two = batch.put(linked(b"two", &[shared]));
    batch.set_ref("process/alice", None, one);
    batch.set_ref("process/bob", None, two);
    store.commit(batch).unwrap();
    vec![shared, one, two]
}

fn export(store: &dyn BlobStore, recipients: &[String]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let summary = store.export_bundle_to(&["process/alice", "process/bob"], &roots_of, recipients, &mut bytes).unwrap();
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(summary.blobs, 3);
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An age X25519 identity in a file, and its recipient.
struct AgeKey {
    file: std::path::PathBuf,
    recipient: String,
    _dir: tempfile::TempDir,
}

impl AgeKey {
    fn new() -> AgeKey {
        let identity = age::x25519::Identity::generate();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key.txt");
        std::fs::write(&file, format!("# a test key\n{}\n", identity.to_string().expose_secret())).unwrap();
        AgeKey { file, recipient: identity.to_public().to_string(), _dir: dir }
    }

    fn credential(&self) -> Credential {
        Credential::identity_file(&self.file).unwrap()
    }
}

fn assert_same_content(a: &mut dyn BlobStore, b: &mut dyn BlobStore, blobs: &[Hash]) {
    assert_eq!(a.list_refs().unwrap(), b.list_refs().unwrap());
    for hash in blobs {
        assert_eq!(a.get(hash).unwrap(), b.get(hash).unwrap());
    }
}

#[test]
fn a_bundle_of_an_encrypted_store_is_sealed_and_reveals_nothing() {
    let mut source = common::Encrypted::new();
    let blobs = fill(source.store());
    let bundle = export(source.store(), &[]);
    assert!(bundle.starts_with(b"age-encryption.org/v1\n"), "an age file");
    assert!(!contains(&bundle, SECRET), "no plaintext");
    assert!(!contains(&bundle, b"process/alice"), "no ref name");
    for hash in &blobs {
        assert!(!contains(&bundle, &hash.0), "no plain blob name {hash}");
    }
    // The store opens its own bundle: into itself again (nothing changes), or after a loss.
    let summary = source.store().import_bundle(&mut bundle.as_slice()).unwrap();
    assert_eq!(summary.bytes, bundle.len() as u64);
    let mut batch = Batch::default();
    batch.delete_ref("process/alice", blobs[1]);
    source.store().commit(batch).unwrap();
    source.store().import_bundle(&mut bundle.as_slice()).unwrap();
    assert_eq!(source.store().get_ref("process/alice").unwrap(), Some(blobs[1]));
}

#[test]
fn a_sealed_bundle_is_refused_without_a_key_and_leaves_every_store_as_it_was() {
    let mut source = common::Encrypted::new();
    fill(source.store());
    let bundle = export(source.store(), &[]);
    let stranger_key = AgeKey::new();
    let mut memory = MemoryStore::default();
    let mut plain = common::Redb::new();
    let mut other = common::Encrypted::new();
    let targets: [(&str, &mut dyn Fixture); 2] =
        [("a plain redb store", &mut plain), ("another encrypted store", &mut other)];
    for (what, target) in targets {
        let path = target.path().unwrap();
        let before = std::fs::read(&path).unwrap();
        let error =
            target.store().import_bundle_with(&mut bundle.as_slice(), &[stranger_key.credential()]).unwrap_err();
        assert!(matches!(error, StoreError::BundleLocked { .. }), "{what}: {error}");
        assert!(target.store().list_refs().unwrap().is_empty(), "{what}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "{what}: the file is unchanged, byte for byte");
    }
    let error = memory.import_bundle(&mut bundle.as_slice()).unwrap_err();
    assert!(error.to_string().contains("no key was offered"), "{error}");
    assert!(memory.blob_hashes().unwrap().is_empty());
}

#[test]
fn a_bundle_sealed_to_another_store_imports_there() {
    let mut source = common::Encrypted::new();
    let blobs = fill(source.store());
    let dir = tempfile::tempdir().unwrap();
    let mut target = common::create_encrypted(&dir.path().join("target.redb"));
    let recipient = target.bundle_recipient().unwrap().expect("an encrypted store has a bundle recipient");
    assert!(recipient.starts_with("age1"), "{recipient}");
    let bundle = export(source.store(), &[recipient]);
    target.import_bundle(&mut bundle.as_slice()).unwrap();
    assert_same_content(source.store(), &mut target, &blobs);
    // Sealed to the source too: it can take its own bundle back.
    let mut again = common::Encrypted::new();
    assert!(matches!(again.store().import_bundle(&mut bundle.as_slice()), Err(StoreError::BundleLocked { .. })));
}

#[test]
fn a_bundle_sealed_to_an_age_key_imports_anywhere_with_that_key() {
    let key = AgeKey::new();
    for encrypted_source in [false, true] {
        let mut source: Box<dyn Fixture> =
            if encrypted_source { Box::new(common::Encrypted::new()) } else { Box::new(common::Redb::new()) };
        let blobs = fill(source.store());
        let bundle = export(source.store(), std::slice::from_ref(&key.recipient));
        assert!(!contains(&bundle, SECRET), "sealed when a recipient is given, from any store");
        let mut memory = MemoryStore::default();
        memory.import_bundle_with(&mut bundle.as_slice(), &[key.credential()]).unwrap();
        assert_same_content(source.store(), &mut memory, &blobs);
        let mut plain = common::Redb::new();
        plain.store().import_bundle_with(&mut bundle.as_slice(), &[key.credential()]).unwrap();
        assert_same_content(source.store(), plain.store(), &blobs);
    }
}

#[test]
fn a_plain_store_writes_plain_bundles_unless_asked_to_seal() {
    let mut source = common::Redb::new();
    fill(source.store());
    let bundle = export(source.store(), &[]);
    assert!(bundle.starts_with(b"\0CHNLBDL"));
    let plain_store = RedbStore::open(tempfile::tempdir().unwrap().path().join("s.redb")).unwrap();
    assert_eq!(plain_store.bundle_recipient().unwrap(), None);
}

#[test]
fn a_bad_recipient_or_a_missing_ref_writes_nothing() {
    let mut source = common::Encrypted::new();
    fill(source.store());
    for recipients in [vec!["age1notarecipient".to_string()], vec![AgeKey::new().recipient, "ssh-dss AAAA".to_string()]]
    {
        let mut out = Vec::new();
        let error = source.store().export_bundle_to(&["process/alice"], &roots_of, &recipients, &mut out).unwrap_err();
        assert!(matches!(error, StoreError::BundleIo { .. }), "{error}");
        assert!(out.is_empty());
    }
    let mut out = Vec::new();
    let error = source.store().export_bundle(&["process/carol"], &roots_of, &mut out).unwrap_err();
    assert_eq!(error, StoreError::NoSuchRef { name: "process/carol".into() });
    assert!(out.is_empty(), "nothing of a bundle that cannot be complete is written");
}

fn sealed_sample(key: &AgeKey) -> Vec<u8> {
    let mut source = common::Redb::new();
    let mut batch = Batch::default();
    let blob = batch.put(linked(SECRET, &[]));
    batch.set_ref("head", None, blob);
    source.store().commit(batch).unwrap();
    let mut bytes = Vec::new();
    source.store().export_bundle_to(&["head"], &roots_of, std::slice::from_ref(&key.recipient), &mut bytes).unwrap();
    bytes
}

fn assert_refused(bundle: &[u8], key: &AgeKey, case: &str) {
    let mut store = MemoryStore::default();
    match store.import_bundle_with(&mut &bundle[..], &[key.credential()]) {
        Err(StoreError::BadBundle { .. } | StoreError::BundleLocked { .. }) => {}
        other => panic!("{case}: expected a refusal, got {other:?}"),
    }
    assert!(store.blob_hashes().unwrap().is_empty(), "{case}");
    assert!(store.list_refs().unwrap().is_empty(), "{case}");
}

#[test]
fn a_sealed_bundle_cut_short_altered_or_extended_is_refused_whole() {
    let key = AgeKey::new();
    let bundle = sealed_sample(&key);
    MemoryStore::default().import_bundle_with(&mut bundle.as_slice(), &[key.credential()]).unwrap();
    for len in 0..bundle.len() {
        assert_refused(&bundle[..len], &key, &format!("cut at {len}"));
    }
    for at in 0..bundle.len() {
        let mut altered = bundle.clone();
        altered[at] ^= 0x01;
        assert_refused(&altered, &key, &format!("byte {at} altered"));
    }
    let mut extended = bundle.clone();
    extended.push(0);
    assert_refused(&extended, &key, "one byte more");
}

#[test]
fn bundles_sealed_before_a_rotation_still_import_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = common::create_encrypted(&path);
    let blobs = fill(&mut store);
    let before = store.bundle_recipient().unwrap().unwrap();
    let old_bundle = export(&store, &[]);
    store.close().unwrap();
    RedbStore::rotate(&path, &common::test_unlock(), Rotation::default(), &mut |_, _| {}).unwrap();
    let mut store = common::open_encrypted(&path);
    let after = store.bundle_recipient().unwrap().unwrap();
    assert_ne!(before, after, "a rotation gives the store a new bundle identity");
    let mut batch = Batch::default();
    batch.delete_ref("process/alice", blobs[1]);
    batch.delete_ref("process/bob", blobs[2]);
    store.commit(batch).unwrap();
    store.import_bundle(&mut old_bundle.as_slice()).unwrap();
    assert_eq!(store.get_ref("process/bob").unwrap(), Some(blobs[2]));
}
