//! Opening a store races with other openers, and with people moving files: of several handles
//! creating the same new store at once, one store results and every commit made through any of
//! them is in it; a handle never writes into a file that is no longer at its path.

use std::sync::{Arc, Barrier};

use chenilles_store::{Batch, BlobStore, RedbStore, StoreError};

/// Opens `path`, trying again while another handle holds it.
fn open_when_free(path: &std::path::Path) -> RedbStore {
    loop {
        match RedbStore::open(path) {
            Ok(store) => return store,
            Err(StoreError::Locked { .. }) => std::thread::sleep(std::time::Duration::from_millis(1)),
            Err(error) => panic!("open: {error}"),
        }
    }
}

#[test]
fn concurrent_creation_loses_nothing() {
    for round in 0..20 {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = Arc::new(dir.path().join("store.redb"));
        let openers = 6;
        let barrier = Arc::new(Barrier::new(openers));
        let threads: Vec<_> = (0..openers)
            .map(|i| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut store = open_when_free(&path);
                    let mut batch = Batch::default();
                    let blob = batch.put(format!("opener {i}").into_bytes());
                    batch.set_ref(&format!("opener/{i}"), None, blob);
                    store.commit(batch).expect("commit");
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("opener");
        }
        let store = RedbStore::open(&*path).expect("reopen");
        let refs = store.list_refs().expect("refs");
        assert_eq!(refs.len(), openers, "round {round}: every acknowledged commit is in the one store: {refs:?}");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["store.redb"], "round {round}: nothing but the store is left");
    }
}

#[test]
fn a_handle_whose_file_was_replaced_refuses_to_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&path).expect("open");
    let mut batch = Batch::default();
    let first = batch.put(b"first".to_vec());
    batch.set_ref("head", None, first);
    store.commit(batch).expect("commit");
    let moved = dir.path().join("moved.redb");
    std::fs::rename(&path, &moved).expect("move");
    let mut batch = Batch::default();
    let second = batch.put(b"second".to_vec());
    batch.set_ref("head", Some(first), second);
    assert!(matches!(store.commit(batch), Err(StoreError::Replaced { .. })));
    drop(store);
    // The moved store holds exactly what was acknowledged, and no store appeared at the path.
    assert!(!path.exists());
    let store = RedbStore::open(&moved).expect("open moved");
    assert_eq!(store.get_ref("head").expect("ref"), Some(first));
    assert!(matches!(RedbStore::open_existing(&path), Err(StoreError::NotFound { .. })));
}

/// A creator killed while it built the store leaves its temporary file (`NAME.creating-…`); the
/// next creation of that store removes such files once they are old enough that no creator can
/// still be writing them, and leaves a recent one and other names alone.
#[test]
fn temporaries_of_crashed_creators_do_not_pile_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let plant = |name: &str, age: Option<std::time::SystemTime>| {
        let file = std::fs::File::create(dir.path().join(name)).expect("plant");
        if let Some(time) = age {
            file.set_modified(time).expect("age it");
        }
    };
    plant("store.redb.creating-4242-abc0", Some(old));
    plant("store.redb.creating-4243-abc1", None);
    plant("other.redb.creating-4244-abc2", Some(old));
    plant("notes.txt", Some(old));
    drop(RedbStore::open(&path).expect("create"));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["notes.txt", "other.redb.creating-4244-abc2", "store.redb", "store.redb.creating-4243-abc1"]);
}
