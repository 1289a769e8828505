//! A store can be inspected read-only while another process writes to it: the reader sees each of
//! the writer's commits as it lands, cannot change anything, never writes to the file, and never
//! waits for a writer that is stopped (SIGSTOP), wherever it stopped.

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

const STOPPING_VAR: &str = "CHENILLES_STOPPING_WRITER";

/// Stops this process with SIGSTOP; returns once it is continued.
fn stop_here() {
    let _ = Command::new("kill").arg("-STOP").arg(std::process::id().to_string()).status();
}

/// The stopping writer: `PATH:N` opens the store at PATH, moves ref `counter` to one more, and
/// closes it, stopping itself just before its Nth disk operation.
#[test]
fn reader_test_child_stopping_writer() {
    let Some(task) = std::env::var(STOPPING_VAR).ok() else {
        return;
    };
    let (path, operation) = task.rsplit_once(':').unwrap();
    chenilles_store::crash_point::arm(chenilles_store::crash_point::CrashPoint {
        operation: operation.parse().unwrap(),
        torn: false,
        act: stop_here,
    });
    let mut store = RedbStore::open(Path::new(path)).unwrap();
    let at = store.get_ref("counter").unwrap();
    let next = match at {
        Some(hash) => u64::from_le_bytes(store.get(&hash).unwrap().unwrap().try_into().unwrap()) + 1,
        None => 0,
    };
    let mut batch = Batch::default();
    let blob = batch.put(next.to_le_bytes().to_vec());
    batch.set_ref("counter", at, blob);
    store.commit(batch).unwrap();
    store.close().unwrap();
}

/// Whether process `pid` is stopped.
fn is_stopped(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
}

/// Whether process `pid` holds an exclusive lock on the start of a file (a store's header).
fn holds_the_header_exclusively(pid: u32) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else { return false };
    fds.filter_map(Result::ok).filter_map(|fd| std::fs::read_to_string(fd.path()).ok()).any(|info| {
        info.lines().any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            line.starts_with("lock:")
                && !line.contains("->")
                && fields.contains(&"WRITE")
                && fields.len() > 2
                && fields[fields.len() - 2] == "0"
        })
    })
}

/// A writer stopped just before each of its disk operations in turn (opening a store, one commit,
/// closing it), the locks it holds there held: a reader opened beside it answers at once with the
/// commit before or the one it is making, never waiting for it to be continued.
#[cfg(target_os = "linux")]
#[test]
fn a_reader_never_waits_for_a_stopped_writer() {
    if std::env::var_os(STOPPING_VAR).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let writer = |operation: u64| {
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "reader_test_child_stopping_writer", "--nocapture", "--test-threads=1"])
            .env(STOPPING_VAR, format!("{}:{operation}", path.display()))
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    // The first commit makes the store, which a reader beside it might not find yet.
    assert!(writer(0).wait().unwrap().success());
    let (mut commits, mut stops, mut holding) = (1u64, 0, 0);
    for operation in 1.. {
        let mut child = writer(operation);
        let stopped = loop {
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            if is_stopped(child.id()) {
                break true;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        if stopped {
            stops += 1;
            holding += usize::from(holds_the_header_exclusively(child.id()));
            let (tx, rx) = std::sync::mpsc::channel();
            let reading = path.clone();
            std::thread::spawn(move || {
                let seen = RedbStore::open_read_only(&reading).map(|reader| counter(&reader));
                let _ = tx.send(seen);
            });
            let seen = rx.recv_timeout(std::time::Duration::from_secs(20));
            let _ = Command::new("kill").arg("-CONT").arg(child.id().to_string()).status();
            let seen =
                seen.unwrap_or_else(|_| panic!("a reader waited for the writer stopped at operation {operation}"));
            let seen =
                seen.unwrap_or_else(|e| panic!("a reader beside the writer stopped at operation {operation}: {e}"));
            assert!(
                seen + 1 == commits || seen == commits,
                "operation {operation}: read {seen} after {commits} commits"
            );
        }
        assert!(child.wait().unwrap().success(), "the writer stopped at operation {operation}");
        commits += 1;
        if !stopped {
            break;
        }
    }
    let store = RedbStore::open_read_only(&path).unwrap();
    assert_eq!(counter(&store), commits - 1);
    assert!(holding > 0, "none of the {stops} stops came while the writer held the header");
    eprintln!("{stops} stops, {holding} holding the header: no reader waited");
}
