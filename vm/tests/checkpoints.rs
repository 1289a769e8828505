//! Checkpoints write what changed: after a large heap is checkpointed once, a small mutation costs a
//! small checkpoint, whatever the heap's size — for many small objects and for one large vector,
//! string or bytevector alike. And a restored process is the process that was saved.

use std::sync::Arc;
use std::sync::Mutex;

use chenilles_durable::{Options, Process, Record, SharedBuffer, Status};
use chenilles_machine::Machine;
use chenilles_store::{BlobStore, MemoryStore};

/// Runs `source` as a durable process in a memory store; returns every record committed.
fn checkpoints_of(source: &str) -> (Vec<Record>, String, MemoryStore) {
    let mut store = MemoryStore::default();
    let mut machine = Machine::durable();
    let image = machine.compile("test.scm", source).expect("compiles");
    let records = Arc::new(Mutex::new(Vec::new()));
    let seen = records.clone();
    let echo = SharedBuffer::default();
    let options = Options {
        // Only explicit (checkpoint) calls and the end checkpoint.
        checkpoint_every: std::time::Duration::from_secs(3600),
        echo: Box::new(echo.clone()),
        on_checkpoint: Some(Box::new(move |r: &Record| seen.lock().unwrap().push(r.clone()))),
        ..Options::default()
    };
    let mut process = Process::start(&mut store, machine, "p", "test.scm", &image, options).expect("starts");
    assert_eq!(process.run(&mut store).expect("runs"), Status::Finished);
    let output = String::from_utf8_lossy(&echo.contents()).into_owned();
    drop(process);
    let records = records.lock().unwrap().clone();
    (records, output, store)
}

/// The bytes written by the checkpoint after the `n`th explicit `(checkpoint)`.
fn written(records: &[Record], explicit: usize) -> u64 {
    // Record 0 is the start; explicit checkpoints follow in order.
    records[explicit].bytes_written
}

#[test]
fn a_small_change_in_a_large_heap_writes_a_small_checkpoint() {
    let source = "
        (define cells (let loop ((i 0) (acc '())) (if (= i 200000) acc (loop (+ i 1) (cons (vector i i i) acc)))))
        (checkpoint)
        (vector-set! (car cells) 0 'changed)
        (checkpoint)
        (display (vector-ref (car cells) 0))";
    let (records, output, _) = checkpoints_of(source);
    assert_eq!(output, "changed");
    let (full, small) = (written(&records, 1), written(&records, 2));
    assert!(full > 5_000_000, "the heap's first checkpoint writes it all: {full} bytes");
    assert!(small < 32_000, "one mutation must write a page and its path, not {small} bytes");
}

#[test]
fn a_small_change_in_a_large_object_writes_a_small_checkpoint() {
    let source = "
        (define v (make-vector 1000000 0))
        (define s (make-string 200000 #\\a))
        (define b (make-bytevector 400000 7))
        (checkpoint)
        (vector-set! v 777777 'x)
        (string-set! s 123456 #\\z)
        (bytevector-u8-set! b 300000 9)
        (checkpoint)
        (display (list (vector-ref v 777777) (string-ref s 123456) (bytevector-u8-ref b 300000)))";
    let (records, output, _) = checkpoints_of(source);
    assert_eq!(output, "(x z 9)");
    let (full, small) = (written(&records, 1), written(&records, 2));
    assert!(full > 8_000_000, "{full}");
    assert!(small < 48_000, "three element changes must write three chunks and their paths, not {small} bytes");
}

#[test]
fn nothing_changed_writes_almost_nothing() {
    let source = "
        (define v (make-vector 100000 1))
        (checkpoint)
        (checkpoint)";
    let (records, _, _) = checkpoints_of(source);
    assert!(written(&records, 2) < 8_000, "{}", written(&records, 2));
}

#[test]
fn a_finished_process_leaves_no_state_behind_after_gc() {
    let (_, _, store) = checkpoints_of("(define v (make-vector 100000 1)) (checkpoint) (display 1)");
    // The process ended: its record keeps its journals, and its snapshot was collected.
    let blobs = store.blob_hashes().expect("lists").len();
    assert!(blobs < 10, "{blobs} blobs left");
}

#[test]
fn two_snapshots_are_compared_down_to_the_first_differing_object() {
    use chenilles_durable::{Snapshotter, first_difference};
    use chenilles_machine::heap::Object;
    use chenilles_store::Batch;
    let mut machine = Machine::durable();
    let image = machine.compile("t.scm", "(define p (list 1 2 3)) p").expect("compiles");
    let Ok(Ok(p)) = machine.eval_image(&image) else { panic!("runs") };
    let mut store = MemoryStore::default();
    let mut batch = Batch::default();
    let (a, _) = Snapshotter::new().capture(&mut machine.vm, &mut batch).expect("captures");
    store.commit(batch).expect("commits");
    if let Some(Object::Pair(car, _)) = machine.vm.rt.heap.get_mut(p) {
        *car = chenilles_machine::Value::fixnum(42).expect("fits");
    }
    let mut batch = Batch::default();
    let (b, _) = Snapshotter::new().capture(&mut machine.vm, &mut batch).expect("captures");
    store.commit(batch).expect("commits");
    let id = p.as_object().expect("an object");
    let difference = first_difference(&store, a, b).expect("compares");
    assert!(difference.starts_with(&format!("heap object {id} differs")), "{difference}");
    assert_eq!(first_difference(&store, a, a).expect("compares"), "the snapshots are equal");
}

#[test]
fn symbols_made_between_checkpoints_are_all_restored() {
    use chenilles_durable::{Snapshotter, restore};
    use chenilles_store::Batch;
    let mut machine = Machine::durable();
    let image = machine.compile("t.scm", "'a").expect("compiles");
    let Ok(Ok(_)) = machine.eval_image(&image) else { panic!("runs") };
    let mut store = MemoryStore::default();
    let mut snapshotter = Snapshotter::new();
    // Checkpoints between batches of new symbols: chunks of the table fill up after being
    // written partly full.
    let mut root = None;
    for batch_number in 0..6 {
        for i in 0..150 {
            machine.vm.rt.symbols.intern(&format!("symbol-{batch_number}-{i}"));
        }
        let mut batch = Batch::default();
        let (hash, _) = snapshotter.capture(&mut machine.vm, &mut batch).expect("captures");
        store.commit(batch).expect("commits");
        root = Some(hash);
    }
    let root = root.expect("captured");
    let (restored, _) = restore(&store, root, Box::new(std::io::sink()), Box::new(std::io::sink())).expect("restores");
    let names = |vm: &chenilles_machine::Vm| vm.rt.symbols.names().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(names(&restored), names(&machine.vm));
}

/// A long-lived process keeps a bounded store: its old checkpoints are garbage, collected as it
/// goes, and the file is compacted when the garbage passes its threshold. 5,000 tiny checkpoints
/// once made an 80 MB file for 79 KB of output.
#[test]
fn a_long_lived_process_keeps_a_bounded_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let mut store = chenilles_store::RedbStore::open(&path).expect("open");
    let mut machine = Machine::durable();
    let source = "(import (scheme base) (scheme write))\n\
        (define state (make-vector 64 0))\n\
        (let loop ((i 0))\n\
          (when (< i 5000)\n\
            (vector-set! state (modulo i 64) i)\n\
            (display i) (newline)\n\
            (checkpoint)\n\
            (loop (+ i 1))))\n";
    let image = machine.compile("tiny.scm", source).unwrap_or_else(|e| panic!("{}", e.report()));
    let largest = Arc::new(Mutex::new(0u64));
    let seen = largest.clone();
    let watched = path.clone();
    let options = Options {
        on_checkpoint: Some(Box::new(move |_: &Record| {
            let size = std::fs::metadata(&watched).map(|m| m.len()).unwrap_or_default();
            let mut largest = seen.lock().unwrap();
            *largest = (*largest).max(size);
        })),
        ..Options::silent()
    };
    let mut process = Process::start(&mut store, machine, "p", "tiny.scm", &image, options).expect("starts");
    assert_eq!(process.run(&mut store).expect("runs"), Status::Finished);
    assert_eq!(process.record().checkpoints, 5002);
    drop(process);
    drop(store);
    let size = std::fs::metadata(&path).expect("size").len();
    let largest = *largest.lock().unwrap();
    // Measured: at most about 14 MB, back to 1-2 MB after each compaction (45 MB, never shrinking,
    // before).
    assert!(largest < 24 << 20, "the file grew to {largest} bytes while the process ran");
    assert!(size < 12 << 20, "the file is {size} bytes after the process ended");
}
