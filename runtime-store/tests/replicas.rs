//! Replicas: sync to directories and CAR archives, damage them, restore from several.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chenilles_store::replica::{
    self, CarArchive, DirectoryTarget, ReplicaTarget, RestoreError, RestoreOptions, SyncMemory, SyncOutcome,
};
use chenilles_store::{Batch, BlobStore, Hash, RedbStore, Unlock};
use common::{create_encrypted, open_encrypted, test_unlock};

/// The tests' blobs: `tree`, a count, that many child hashes, then a payload.
fn tree_blob(children: &[Hash], payload: &[u8]) -> Vec<u8> {
    let mut blob = b"tree".to_vec();
    blob.extend_from_slice(&(children.len() as u32).to_le_bytes());
    for child in children {
        blob.extend_from_slice(&child.0);
    }
    blob.extend_from_slice(payload);
    blob
}

fn roots_of(bytes: &[u8]) -> Vec<Hash> {
    let Some(rest) = bytes.strip_prefix(b"tree") else { return Vec::new() };
    let count = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
    (0..count).map(|i| Hash::from_slice(&rest[4 + 32 * i..4 + 32 * (i + 1)]).unwrap()).collect()
}

/// Commits a process-like tree under `process/NAME/head`: `leaves` pages and a root.
fn commit_tree(store: &mut RedbStore, name: &str, generation: u32, leaves: usize) -> Hash {
    let mut batch = Batch::default();
    let children: Vec<Hash> = (0..leaves)
        .map(|i| batch.put(format!("{name} page {i} of generation {generation} {}", "x".repeat(2000)).into_bytes()))
        .collect();
    let root = batch.put(tree_blob(&children, format!("{name} root {generation}").as_bytes()));
    let head = format!("process/{name}/head");
    let old = store.get_ref(&head).unwrap();
    match old {
        Some(old) => batch.set_ref(&head, Some(old), root),
        None => batch.set_ref(&head, None, root),
    }
    store.commit(batch).unwrap();
    root
}

/// Everything a store holds that its refs reach: ref → every reachable blob's bytes.
fn contents(store: &RedbStore) -> BTreeMap<String, BTreeMap<Hash, Vec<u8>>> {
    let mut all = BTreeMap::new();
    for (name, target) in store.list_refs().unwrap() {
        let mut blobs = BTreeMap::new();
        let mut queue = vec![target];
        while let Some(hash) = queue.pop() {
            let bytes = store.get(&hash).unwrap().expect("a reachable blob is held");
            queue.extend(roots_of(&bytes));
            blobs.insert(hash, bytes);
        }
        all.insert(name, blobs);
    }
    all
}

fn sync(store: &RedbStore, name: &str, target: &dyn ReplicaTarget) -> SyncOutcome {
    let replica = store.replicas().unwrap().into_iter().find(|r| r.name == name).unwrap();
    replica::sync(store, &replica, target, &mut SyncMemory::default()).unwrap()
}

fn restore_from(
    targets: &[&dyn ReplicaTarget],
    to: &Path,
    unlock: &Unlock,
) -> Result<replica::RestoreReport, RestoreError> {
    replica::restore(targets, to, &RestoreOptions { roots_of: &roots_of, unlock, store_id: None })
}

fn files_under(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(prefix))
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn a_store_restores_from_a_directory_replica() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RedbStore::open(dir.path().join("store.redb")).unwrap();
    commit_tree(&mut store, "alice", 1, 30);
    let target = DirectoryTarget::new(dir.path().join("replica"));
    target.init().unwrap();
    store.add_replica("usb", "dir:replica").unwrap();
    commit_tree(&mut store, "bob", 1, 10);
    let SyncOutcome::Synced(report) = sync(&store, "usb", &target) else { panic!("a first sync sends everything") };
    assert!(report.compared_whole);
    assert_eq!(report.blobs_sent, 42);
    assert_eq!(sync(&store, "usb", &target), SyncOutcome::UpToDate { seq: report.seq });

    let restored_path = dir.path().join("restored.redb");
    let restored = restore_from(&[&target], &restored_path, &Unlock::none()).unwrap();
    assert_eq!(restored.seq, report.seq);
    assert_eq!(restored.blobs, 42);
    let restored_store = RedbStore::open(&restored_path).unwrap();
    assert_eq!(contents(&restored_store), contents(&store));
    assert!(restored_store.verify().unwrap().is_clean());
}

#[test]
fn a_commit_sends_only_what_it_added() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RedbStore::open(dir.path().join("store.redb")).unwrap();
    store.add_replica("usb", "dir:replica").unwrap();
    let target = DirectoryTarget::new(dir.path().join("replica"));
    target.init().unwrap();
    for process in 0..50 {
        commit_tree(&mut store, &format!("p{process}"), 1, 20);
    }
    let mut memory = SyncMemory::default();
    let replica = store.replicas().unwrap().remove(0);
    let SyncOutcome::Synced(first) = replica::sync(&store, &replica, &target, &mut memory).unwrap() else { panic!() };
    assert_eq!(first.blobs_sent, 50 * 21);
    // One process moves: 3 new pages and a root; the 49 others' blobs are not sent again.
    commit_tree(&mut store, "p7", 2, 3);
    let SyncOutcome::Synced(next) = replica::sync(&store, &replica, &target, &mut memory).unwrap() else { panic!() };
    assert!(!next.compared_whole);
    assert_eq!(next.blobs_sent, 4);
    assert!(
        next.bytes_sent < first.bytes_sent / 50,
        "{} bytes for one process, {} for fifty",
        next.bytes_sent,
        first.bytes_sent
    );
}

#[test]
fn three_damaged_replicas_restore_the_newest_root_together() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&store_path).unwrap();
    let a = DirectoryTarget::new(dir.path().join("a"));
    let b = DirectoryTarget::new(dir.path().join("b"));
    let c = CarArchive::new(dir.path().join("c.car"));
    a.init().unwrap();
    b.init().unwrap();
    store.add_replica("a", "dir:a").unwrap();
    store.add_replica("b", "dir:b").unwrap();
    store.add_replica("c", "car:c.car").unwrap();
    commit_tree(&mut store, "alice", 1, 40);
    commit_tree(&mut store, "bob", 1, 40);
    for (name, target) in [("a", &a as &dyn ReplicaTarget), ("b", &b), ("c", &c)] {
        sync(&store, name, target);
    }
    // c stops here: it will serve an old (but genuine) root.
    commit_tree(&mut store, "alice", 2, 5);
    sync(&store, "a", &a);
    sync(&store, "b", &b);
    let newest = replica::status(&store).unwrap()[0].store_seq;
    let expected = contents(&store);
    drop(store);
    std::fs::remove_file(&store_path).unwrap();

    // a: bits flipped in every pack (some blobs of each are damaged).
    for pack in files_under(&dir.path().join("a"), "packs") {
        let mut bytes = std::fs::read(&pack).unwrap();
        for at in (bytes.len() / 3..bytes.len()).step_by(5000) {
            bytes[at] ^= 0x40;
        }
        std::fs::write(&pack, bytes).unwrap();
    }
    // b: the pack of its first pass (the largest) deleted, and a forged record claiming a
    // newer root. What the first pass sent survives on c, what the second sent on b.
    let b_packs = files_under(&dir.path().join("b"), "packs");
    let largest = b_packs.iter().max_by_key(|p| std::fs::metadata(p).unwrap().len()).unwrap();
    std::fs::remove_file(largest).unwrap();
    let records = files_under(&dir.path().join("b"), "roots");
    let mut forged = std::fs::read(records.last().unwrap()).unwrap();
    forged[40] ^= 1; // the sequence number, under the signature
    std::fs::write(dir.path().join("b/roots/00000000000000009999-0000000000000000.root"), forged).unwrap();

    let to = dir.path().join("restored.redb");
    let report = restore_from(&[&a, &b, &c], &to, &Unlock::none()).unwrap();
    assert_eq!(report.seq, newest, "{report:#?}");
    let restored = RedbStore::open(&to).unwrap();
    assert_eq!(contents(&restored), expected);
    let [ra, rb, rc] = &report.sources[..] else { panic!() };
    assert!(ra.corrupt_blocks > 0, "{ra:?}");
    assert!(rb.forged.iter().any(|f| f.contains("9999")), "{rb:?}");
    assert!(rb.missing > 0, "{rb:?}");
    assert!(rc.stale, "{rc:?}");
    assert!(!ra.stale && !rb.stale);
}

#[test]
fn with_too_little_left_the_newest_complete_root_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&store_path).unwrap();
    let a = DirectoryTarget::new(dir.path().join("a"));
    a.init().unwrap();
    store.add_replica("a", "dir:a").unwrap();
    commit_tree(&mut store, "alice", 1, 10);
    let SyncOutcome::Synced(old) = sync(&store, "a", &a) else { panic!() };
    let old_contents = contents(&store);
    commit_tree(&mut store, "alice", 2, 10);
    let SyncOutcome::Synced(new) = sync(&store, "a", &a) else { panic!() };
    drop(store);
    // The newest pass's pack is gone: its root cannot be rebuilt, the one before can.
    let packs = files_under(&dir.path().join("a"), "packs");
    let newest_pack = packs.iter().max_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap()).unwrap();
    std::fs::remove_file(newest_pack).unwrap();
    let to = dir.path().join("restored.redb");
    let report = restore_from(&[&a], &to, &Unlock::none()).unwrap();
    assert_eq!(report.seq, old.seq);
    assert_eq!(report.newest_seq, new.seq);
    assert_eq!(report.skipped.len(), 1, "{report:#?}");
    assert_eq!(contents(&RedbStore::open(&to).unwrap()), old_contents);
}

#[test]
fn nothing_usable_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = DirectoryTarget::new(dir.path().join("empty"));
    std::fs::create_dir_all(empty.root()).unwrap();
    let gone = DirectoryTarget::new(dir.path().join("not-there"));
    let to = dir.path().join("restored.redb");
    let error = restore_from(&[&empty, &gone], &to, &Unlock::none()).unwrap_err();
    assert!(matches!(error, RestoreError::NothingUsable { .. }), "{error}");
    assert!(!to.exists());
    // A destination that exists is refused before anything is read.
    std::fs::write(&to, b"precious").unwrap();
    let error = restore_from(&[&empty], &to, &Unlock::none()).unwrap_err();
    assert!(matches!(error, RestoreError::DestinationExists { .. }));
    assert_eq!(std::fs::read(&to).unwrap(), b"precious");
}

#[test]
fn an_encrypted_store_replicates_only_ciphertext_and_restores_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.redb");
    let mut store = create_encrypted(&store_path);
    store.add_replica("usb", "dir:replica").unwrap();
    let secret = b"counterparty: Mallory Q. Secretname";
    let mut batch = Batch::default();
    let blob = batch.put(tree_blob(&[], secret));
    batch.set_ref("process/escrow-with-mallory/head", None, blob);
    store.commit(batch).unwrap();
    let target = DirectoryTarget::new(dir.path().join("replica"));
    target.init().unwrap();
    sync(&store, "usb", &target);
    let expected = contents(&store);
    drop(store);
    for file in files_under(&dir.path().join("replica"), "packs")
        .iter()
        .chain(&files_under(&dir.path().join("replica"), "roots"))
    {
        let bytes = std::fs::read(file).unwrap();
        for needle in [&secret[..], b"Mallory", b"escrow-with-mallory", b"process/"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds {:?}",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    let to = dir.path().join("restored.redb");
    let wrong = Unlock::password("not the password".to_string().into());
    let error = restore_from(&[&target], &to, &wrong).unwrap_err();
    assert!(matches!(error, RestoreError::Store(chenilles_store::StoreError::WrongKey { .. })), "{error}");
    assert!(!to.exists());
    restore_from(&[&target], &to, &test_unlock()).unwrap();
    let restored = open_encrypted(&to);
    assert_eq!(contents(&restored), expected);
    assert!(restored.verify().unwrap().is_clean());
    // The restored store lists the replica still, and goes on with sequence numbers above it.
    assert_eq!(restored.replicas().unwrap().len(), 1);
}

#[test]
fn a_replica_that_went_back_is_noticed_and_brought_forward() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RedbStore::open(dir.path().join("store.redb")).unwrap();
    store.add_replica("a", "dir:a").unwrap();
    let a = DirectoryTarget::new(dir.path().join("a"));
    a.init().unwrap();
    commit_tree(&mut store, "alice", 1, 5);
    sync(&store, "a", &a);
    let old_copy = dir.path().join("a-old");
    copy_dir(&dir.path().join("a"), &old_copy);
    commit_tree(&mut store, "alice", 2, 5);
    sync(&store, "a", &a);
    // The replica is replaced by its older copy: a rollback.
    std::fs::remove_dir_all(dir.path().join("a")).unwrap();
    copy_dir(&old_copy, &dir.path().join("a"));
    commit_tree(&mut store, "alice", 3, 5);
    let SyncOutcome::Synced(report) = sync(&store, "a", &a) else { panic!() };
    assert!(report.went_back.is_some(), "{report:?}");
    assert!(report.compared_whole);
    let to = dir.path().join("restored.redb");
    let restored = restore_from(&[&a], &to, &Unlock::none()).unwrap();
    assert_eq!(restored.seq, report.seq);
    assert_eq!(contents(&RedbStore::open(&to).unwrap()), contents(&store));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn after_a_rotation_every_replica_is_compared_whole_and_restores_under_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.redb");
    let mut store = create_encrypted(&store_path);
    store.add_replica("usb", "dir:replica").unwrap();
    let target = DirectoryTarget::new(dir.path().join("replica"));
    target.init().unwrap();
    commit_tree(&mut store, "alice", 1, 8);
    sync(&store, "usb", &target);
    drop(store);
    RedbStore::rotate(&store_path, &test_unlock(), chenilles_store::Rotation::default(), &mut |_, _| {}).unwrap();
    let mut store = open_encrypted(&store_path);
    assert_eq!(store.replicas().unwrap().len(), 1, "the rotated store lists its replicas still");
    commit_tree(&mut store, "alice", 2, 3);
    let SyncOutcome::Synced(report) = sync(&store, "usb", &target) else { panic!() };
    assert!(report.compared_whole, "{report:?}");
    assert_eq!(report.blobs_sent, 8 + 1 + 3 + 1, "every blob again, sealed under the new key");
    let expected = contents(&store);
    drop(store);
    let to = dir.path().join("restored.redb");
    let restored = restore_from(&[&target], &to, &test_unlock()).unwrap();
    assert_eq!(restored.seq, report.seq);
    assert_eq!(contents(&open_encrypted(&to)), expected);
}

#[test]
fn a_scrub_with_read_data_finds_flipped_bits_and_sends_those_blobs_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RedbStore::open(dir.path().join("store.redb")).unwrap();
    store.add_replica("a", "dir:a").unwrap();
    let a = DirectoryTarget::new(dir.path().join("a"));
    a.init().unwrap();
    commit_tree(&mut store, "alice", 1, 30);
    sync(&store, "a", &a);
    // Bits flipped in the middle of the one pack: a blob or two damaged, the index intact.
    let pack = files_under(&dir.path().join("a"), "packs").remove(0);
    let mut bytes = std::fs::read(&pack).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x80;
    std::fs::write(&pack, bytes).unwrap();
    let replica = store.replicas().unwrap().remove(0);
    let trusting = replica::check(&store, &replica, &a, false).unwrap().unwrap();
    assert!(!trusting.read_data);
    assert_eq!(trusting.corrupt_blocks, 0, "the index alone does not see flipped bits");
    let scrub = replica::check(&store, &replica, &a, true).unwrap().unwrap();
    assert_eq!(scrub.corrupt_blocks, 1, "{scrub:?}");
    assert_eq!(scrub.sync.as_ref().map(|s| s.blobs_sent), Some(1), "{scrub:?}");
    // The replica alone restores the store now.
    let to = dir.path().join("restored.redb");
    restore_from(&[&a], &to, &Unlock::none()).unwrap();
    assert_eq!(contents(&RedbStore::open(&to).unwrap()), contents(&store));
}

#[test]
fn records_of_two_stores_on_one_replica_need_a_store_id() {
    let dir = tempfile::tempdir().unwrap();
    let shared = DirectoryTarget::new(dir.path().join("shared"));
    shared.init().unwrap();
    let mut ids = Vec::new();
    let mut expected = Vec::new();
    for name in ["first", "second"] {
        let mut store = RedbStore::open(dir.path().join(format!("{name}.redb"))).unwrap();
        store.add_replica("shared", "dir:shared").unwrap();
        commit_tree(&mut store, name, 1, 4);
        sync(&store, "shared", &shared);
        ids.push(replica::store_id(&store).unwrap().unwrap());
        expected.push(contents(&store));
    }
    let to = dir.path().join("restored.redb");
    let error = restore_from(&[&shared], &to, &Unlock::none()).unwrap_err();
    assert!(matches!(&error, RestoreError::WhichStore { ids: listed, .. } if listed.len() == 2), "{error}");
    assert!(!to.exists());
    let id = replica::parse_store_id(&ids[1]).unwrap();
    let options = RestoreOptions { roots_of: &roots_of, unlock: &Unlock::none(), store_id: Some(id) };
    let report = replica::restore(&[&shared], &to, &options).unwrap();
    assert_eq!(report.store_id, ids[1]);
    assert_eq!(contents(&RedbStore::open(&to).unwrap()), expected[1]);
    // The first store's records were not forged: they are another store's, and said so.
    assert!(report.sources[0].forged.iter().all(|f| f.contains("another store")), "{report:?}");
}
