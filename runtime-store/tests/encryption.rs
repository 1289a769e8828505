//! Encrypted stores: nothing readable in the file, every alteration of it detected and named,
//! wrong keys refused with the file left as it was, key slots added and removed.

mod common;

use std::path::Path;

use chenilles_store::{Batch, BlobStore, Credential, Hash, KdfParams, Mode, NewSlot, RedbStore, StoreError, Unlock};
use common::{META, create_encrypted, edit_raw, open_encrypted, quick_kdf, test_unlock};

const SEALED_REFS: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("sealed_refs");
const BLOBS: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("blobs");

const SECRET_PAGE: &[u8] = b"balance of alice-the-counterparty: 1000042 sats";
const SECRET_NAME: &str = "process/alice-the-counterparty/head";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// A store with two blobs and two refs; returns the blobs' hashes.
fn filled(path: &Path) -> (Hash, Hash) {
    let mut store = create_encrypted(path);
    let mut batch = Batch::default();
    let page = batch.put(SECRET_PAGE.to_vec());
    let other = batch.put(b"another page, of bob".to_vec());
    batch.set_ref(SECRET_NAME, None, page);
    batch.set_ref("process/bob/head", None, other);
    store.commit(batch).unwrap();
    store.close().unwrap();
    (page, other)
}

fn password(text: &str) -> Unlock {
    Unlock::password(text.to_string().into())
}

fn open_error(path: &Path, unlock: &Unlock) -> StoreError {
    RedbStore::open_with(path, Mode::Existing, unlock).unwrap_err()
}

/// The entries of a raw table, as they are in the file.
fn raw_entries(path: &Path, table: redb::TableDefinition<&[u8], &[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    use redb::{ReadableDatabase, ReadableTable};
    let db = redb::Builder::new().set_concurrency_mode(redb::ConcurrencyMode::SingleWriter).open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let table = txn.open_table(table).unwrap();
    table.iter().unwrap().map(|entry| entry.unwrap()).map(|(k, v)| (k.value().to_vec(), v.value().to_vec())).collect()
}

#[test]
fn the_file_holds_no_plaintext_no_plain_hash_and_no_ref_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (page, _) = filled(&path);
    let raw = std::fs::read(&path).unwrap();
    assert!(!contains(&raw, SECRET_PAGE), "the blob's bytes");
    assert!(!contains(&raw, b"alice-the-counterparty"), "the ref's name");
    assert!(!contains(&raw, &page.0), "the blob's plain blake3 hash");
    let store = open_encrypted(&path);
    assert_eq!(store.get(&page).unwrap().as_deref(), Some(SECRET_PAGE));
    assert_eq!(store.get_ref(SECRET_NAME).unwrap(), Some(page));
}

#[test]
fn no_key_and_a_wrong_password_are_refused_and_the_file_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    filled(&path);
    let before = std::fs::read(&path).unwrap();
    let error = open_error(&path, &Unlock::none());
    assert!(matches!(error, StoreError::KeyNeeded { .. }), "{error}");
    assert!(error.to_string().contains("password (argon2id, 64 KiB, 1 pass, 1 lane)"), "{error}");
    let error = open_error(&path, &password("not the password"));
    assert!(matches!(error, StoreError::WrongKey { .. }), "{error}");
    assert!(error.to_string().contains("the password given opens none of the store's key slots"), "{error}");
    let error = RedbStore::open_with(&path, Mode::ReadOnly, &password("nope")).unwrap_err();
    assert!(matches!(error, StoreError::WrongKey { .. }), "{error}");
    let error = RedbStore::open_with(&path, Mode::Checked, &password("nope")).unwrap_err();
    assert!(matches!(error, StoreError::WrongKey { .. }), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "byte for byte");
}

#[test]
fn an_altered_byte_of_any_blob_or_ref_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (page, _) = filled(&path);
    let blobs = raw_entries(&path, BLOBS);
    for (key, value) in &blobs {
        for at in [0, 24, value.len() / 2, value.len() - 1] {
            let mut damaged = value.clone();
            damaged[at] ^= 1;
            edit_raw(&path, |txn| {
                txn.open_table(BLOBS).unwrap().insert(key.as_slice(), damaged.as_slice()).unwrap();
            });
            let store = open_encrypted(&path);
            let failures: Vec<String> = [page]
                .iter()
                .chain(store.get_ref("process/bob/head").unwrap().iter())
                .filter_map(|hash| store.get(hash).err())
                .map(|error| error.to_string())
                .collect();
            assert_eq!(failures.len(), 1, "byte {at}: {failures:?}");
            assert!(failures[0].contains("fails authentication"), "{}", failures[0]);
            assert!(!store.verify().unwrap().is_clean());
            drop(store);
            edit_raw(&path, |txn| {
                txn.open_table(BLOBS).unwrap().insert(key.as_slice(), value.as_slice()).unwrap();
            });
        }
    }
    for (key, value) in raw_entries(&path, SEALED_REFS) {
        let mut damaged = value.clone();
        damaged[value.len() / 2] ^= 1;
        edit_raw(&path, |txn| {
            txn.open_table(SEALED_REFS).unwrap().insert(key.as_slice(), damaged.as_slice()).unwrap();
        });
        let error = open_error(&path, &test_unlock());
        assert!(matches!(&error, StoreError::Tampered { what, .. } if what.contains("ref table")), "{error}");
        edit_raw(&path, |txn| {
            txn.open_table(SEALED_REFS).unwrap().insert(key.as_slice(), value.as_slice()).unwrap();
        });
    }
    assert!(open_encrypted(&path).verify().unwrap().is_clean(), "restored");
}

#[test]
fn swapped_blobs_and_swapped_refs_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (page, other) = filled(&path);
    let blobs = raw_entries(&path, BLOBS);
    edit_raw(&path, |txn| {
        let mut table = txn.open_table(BLOBS).unwrap();
        table.insert(blobs[0].0.as_slice(), blobs[1].1.as_slice()).unwrap();
        table.insert(blobs[1].0.as_slice(), blobs[0].1.as_slice()).unwrap();
    });
    let store = open_encrypted(&path);
    for hash in [page, other] {
        let error = store.get(&hash).unwrap_err();
        assert_eq!(error, StoreError::Tampered { path: path.clone(), what: format!("blob {hash}") });
    }
    assert_eq!(store.verify().unwrap().tampered.len(), 2);
    drop(store);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    filled(&path);
    let refs = raw_entries(&path, SEALED_REFS);
    edit_raw(&path, |txn| {
        let mut table = txn.open_table(SEALED_REFS).unwrap();
        table.insert(refs[0].0.as_slice(), refs[1].1.as_slice()).unwrap();
        table.insert(refs[1].0.as_slice(), refs[0].1.as_slice()).unwrap();
    });
    let error = open_error(&path, &test_unlock());
    assert!(matches!(&error, StoreError::Tampered { what, .. } if what.contains("ref table")), "{error}");
}

#[test]
fn an_older_ref_value_put_back_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (page, _) = filled(&path);
    let old = raw_entries(&path, SEALED_REFS);
    let mut store = open_encrypted(&path);
    let mut batch = Batch::default();
    let next = batch.put(b"the balance after paying".to_vec());
    batch.set_ref(SECRET_NAME, Some(page), next);
    store.commit(batch).unwrap();
    store.close().unwrap();
    let new = raw_entries(&path, SEALED_REFS);
    let (key, old_value) = old.iter().find(|entry| !new.contains(entry)).unwrap().clone();
    edit_raw(&path, |txn| {
        txn.open_table(SEALED_REFS).unwrap().insert(key.as_slice(), old_value.as_slice()).unwrap();
    });
    let error = open_error(&path, &test_unlock());
    assert!(matches!(&error, StoreError::Tampered { what, .. } if what.contains("older value")), "{error}");
    let error = RedbStore::open_with(&path, Mode::ReadOnly, &test_unlock()).unwrap_err();
    assert!(matches!(error, StoreError::Tampered { .. }), "read-only opens check too: {error}");
}

#[test]
fn a_removed_ref_entry_or_an_altered_state_record_is_detected() {
    use redb::ReadableTable;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    filled(&path);
    let refs = raw_entries(&path, SEALED_REFS);
    edit_raw(&path, |txn| {
        txn.open_table(SEALED_REFS).unwrap().remove(refs[0].0.as_slice()).unwrap();
    });
    let error = open_error(&path, &test_unlock());
    assert!(matches!(&error, StoreError::Tampered { what, .. } if what.contains("ref table")), "{error}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    filled(&path);
    edit_raw(&path, |txn| {
        let mut meta = txn.open_table(META).unwrap();
        let mut state = meta.get("state").unwrap().unwrap().value().to_vec();
        state[30] ^= 4;
        meta.insert("state", state.as_slice()).unwrap();
    });
    let error = open_error(&path, &test_unlock());
    assert!(matches!(&error, StoreError::Tampered { what, .. } if what.contains("state record")), "{error}");
}

#[test]
fn prefix_listings_find_refs_by_segment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = create_encrypted(&path);
    let mut batch = Batch::default();
    let blob = batch.put(b"m".to_vec());
    for name in ["mailbox/a/messages/0002", "mailbox/a/messages/0001", "mailbox/a", "mailbox/ab/messages/1", "x"] {
        batch.set_ref(name, None, blob);
    }
    store.commit(batch).unwrap();
    let names = |prefix: &str, after: Option<&str>| -> Vec<String> {
        store.list_refs_with_prefix(prefix, after).unwrap().into_iter().map(|(name, _)| name).collect()
    };
    assert_eq!(names("mailbox/a/messages/", None), ["mailbox/a/messages/0001", "mailbox/a/messages/0002"]);
    assert_eq!(names("mailbox/a/messages/", Some("mailbox/a/messages/0001")), ["mailbox/a/messages/0002"]);
    assert_eq!(names("mailbox/a", None).len(), 4);
    assert_eq!(names("mailbox/a/", None).len(), 2);
    assert_eq!(names("", None).len(), 5);
}

#[test]
fn key_slots_are_added_listed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (page, _) = filled(&path);
    let mut store = open_encrypted(&path);
    let second = NewSlot::Password { password: "second password".to_string().into(), params: quick_kdf() };
    let added = store.add_key_slot(&second).unwrap();
    assert_eq!(added.id, 2);
    store.close().unwrap();

    let header = RedbStore::header(&path).unwrap();
    assert!(header.is_encrypted());
    assert_eq!(header.slots.iter().map(|slot| slot.id).collect::<Vec<_>>(), [1, 2]);
    let mut store = RedbStore::open_with(&path, Mode::Existing, &password("second password")).unwrap();
    assert_eq!(store.get(&page).unwrap().as_deref(), Some(SECRET_PAGE));
    store.remove_key_slot(1).unwrap();
    let error = store.remove_key_slot(2).unwrap_err();
    assert!(error.to_string().contains("last"), "{error}");
    let error = store.remove_key_slot(7).unwrap_err();
    assert!(error.to_string().contains("no key slot 7"), "{error}");
    store.close().unwrap();
    let error = open_error(&path, &test_unlock());
    assert!(matches!(error, StoreError::WrongKey { .. }), "the removed slot's password: {error}");
}

#[test]
fn several_credentials_are_tried_in_turn_and_a_known_key_needs_no_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    filled(&path);
    let unlock = password("wrong").with(Credential::Password(common::PASSWORD.to_string().into()));
    let store = RedbStore::open_with(&path, Mode::Existing, &unlock).unwrap();
    let key = store.key().unwrap();
    store.close().unwrap();
    RedbStore::open_with(&path, Mode::Existing, &Unlock::key(key)).unwrap();
}

#[test]
fn a_reader_opens_beside_the_writer_and_sees_its_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (page, _) = filled(&path);
    let mut writer = open_encrypted(&path);
    let reader = RedbStore::open_with(&path, Mode::ReadOnly, &test_unlock()).unwrap();
    let mut batch = Batch::default();
    let next = batch.put(b"next".to_vec());
    batch.set_ref(SECRET_NAME, Some(page), next);
    writer.commit(batch).unwrap();
    assert_eq!(reader.get_ref(SECRET_NAME).unwrap(), Some(next));
    assert_eq!(reader.get(&next).unwrap().as_deref(), Some(&b"next"[..]));
}

#[test]
fn a_store_is_not_made_over_a_file_and_plain_stores_have_no_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    std::fs::write(&path, b"precious").unwrap();
    let slot = NewSlot::Password { password: "pw".to_string().into(), params: quick_kdf() };
    assert_eq!(
        RedbStore::create_encrypted(&path, &slot).unwrap_err(),
        StoreError::AlreadyExists { path: path.clone() }
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    let plain_path = dir.path().join("plain.redb");
    let mut plain = RedbStore::open(&plain_path).unwrap();
    assert!(!plain.is_encrypted() && plain.key_slots().unwrap().is_empty());
    assert!(plain.add_key_slot(&slot).is_err());
    drop(plain);
    assert!(!RedbStore::header(&plain_path).unwrap().is_encrypted());
}

#[test]
fn argon2id_parameters_argon2_refuses_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let slot = NewSlot::Password {
        password: "pw".to_string().into(),
        params: KdfParams { memory_kib: 1, passes: 1, lanes: 1 },
    };
    let error = RedbStore::create_encrypted(&path, &slot).unwrap_err();
    assert!(error.to_string().contains("argon2id parameters"), "{error}");
    assert!(!path.exists(), "nothing was made");
}

#[test]
fn a_put_heals_a_damaged_blob_in_small_and_large_batches() {
    // A batch of 2 MiB is sealed on a second thread, one of a page on this one: both read back
    // what was put, leave intact blobs alone when put again, and seal a damaged one again.
    for (count, len) in [(3, 100), (64, 32 << 10)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let blobs: Vec<Vec<u8>> = (0..count).map(|i| vec![i as u8; len]).collect();
        let put_all = |path: &Path| {
            let mut store = open_encrypted(path);
            let mut batch = Batch::default();
            let hashes: Vec<Hash> = blobs.iter().map(|blob| batch.put(blob.clone())).collect();
            store.commit(batch).unwrap();
            for (hash, blob) in hashes.iter().zip(&blobs) {
                assert_eq!(store.get(hash).unwrap().as_deref(), Some(blob.as_slice()), "{count} blobs");
            }
            hashes
        };
        create_encrypted(&path).close().unwrap();
        let hashes = put_all(&path);
        let before = raw_entries(&path, BLOBS);
        assert_eq!(before.len(), count);
        put_all(&path);
        assert_eq!(raw_entries(&path, BLOBS), before, "intact blobs put again are left alone");
        let (key, value) = &before[count / 2];
        let mut damaged = value.clone();
        damaged[value.len() / 2] ^= 1;
        edit_raw(&path, |txn| {
            txn.open_table(BLOBS).unwrap().insert(key.as_slice(), damaged.as_slice()).unwrap();
        });
        assert!(!open_encrypted(&path).verify().unwrap().is_clean());
        assert_eq!(put_all(&path), hashes);
        let after = raw_entries(&path, BLOBS);
        let changed: Vec<&Vec<u8>> =
            after.iter().zip(&before).filter(|(a, b)| a != b).map(|((key, _), _)| key).collect();
        assert_eq!(changed, [key], "only the damaged blob is sealed again");
        assert!(open_encrypted(&path).verify().unwrap().is_clean(), "{count} blobs: healed");
    }
}
