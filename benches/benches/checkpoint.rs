//! What durability costs: a checkpoint after a small mutation in a large heap, and the resume of a
//! large snapshot. The heap is a list of a million 8-element vectors (about 100 MB by the heap's
//! own estimate, printed at start). Each measured checkpoint follows a mutation of 1 KB: 128 pairs
//! set, either adjacent (as a program updating one structure does) or scattered over the whole
//! heap (the worst case for page-sized writes). Bytes written per checkpoint are printed, since
//! criterion only measures time. Last, the collector's pause on that heap.
//! `cargo bench -p chenilles-benches --bench checkpoint`.

use chenilles_durable::{self as snapshot, Snapshotter};
use chenilles_machine::heap::Object;
use chenilles_machine::{Machine, Value};
use chenilles_store::{Batch, BlobStore, KdfParams, MemoryStore, NewSlot, RedbStore};
use criterion::{Criterion, criterion_group, criterion_main};

const BUILD: &str = "
    (define cells
      (let loop ((i 0) (acc '()))
        (if (= i 1000000) acc (loop (+ i 1) (cons (make-vector 8 i) acc)))))
    cells";

/// A durable machine holding the large heap, and the pairs of the list in order.
fn large_heap() -> (Machine, Vec<Value>) {
    let mut machine = Machine::durable();
    let image = machine.compile("build.scm", BUILD).unwrap_or_else(|e| panic!("{}", e.report()));
    let list = match machine.eval_image(&image) {
        Ok(Ok(list)) => list,
        _ => panic!("building the heap failed"),
    };
    let mut pairs = Vec::new();
    let mut cursor = list;
    while let Some((_, cdr)) = machine.vm.rt.heap.pair(cursor) {
        pairs.push(cursor);
        cursor = cdr;
    }
    machine.vm.collect_garbage();
    eprintln!(
        "heap: {} objects, {} MB live by the collector's estimate",
        machine.vm.rt.heap.object_count(),
        machine.vm.rt.heap.live_bytes() >> 20
    );
    (machine, pairs)
}

/// Sets the car of each pair to `n`: 128 pairs, 8 bytes each, is 1 KB of mutation.
fn mutate(machine: &mut Machine, pairs: &[Value], n: i64) {
    for pair in pairs {
        if let Some(Object::Pair(car, _)) = machine.vm.rt.heap.get_mut(*pair) {
            *car = Value::fixnum(n).unwrap_or(Value::NIL);
        }
    }
}

fn checkpoint(c: &mut Criterion) {
    let (mut machine, pairs) = large_heap();
    let adjacent: Vec<Value> = pairs[500_000..500_128].to_vec();
    let scattered: Vec<Value> = pairs.iter().step_by(pairs.len() / 128).take(128).copied().collect();
    let mut store = MemoryStore::default();
    let mut snapshotter = Snapshotter::new();
    let mut batch = Batch::default();
    let started = std::time::Instant::now();
    let (_, stats) = snapshotter.capture(&mut machine.vm, &mut batch).expect("captures");
    eprintln!(
        "first checkpoint: {} pages, {} MB in {} blobs, {:?}",
        stats.pages,
        batch.blob_bytes() >> 20,
        batch.blob_count(),
        started.elapsed()
    );
    store.commit(batch).expect("commits");

    let mut n = 0;
    for (name, targets) in [("adjacent", &adjacent), ("scattered", &scattered)] {
        // One measured by hand, for the bytes.
        n += 1;
        mutate(&mut machine, targets, n);
        let mut batch = Batch::default();
        let (_, stats) = snapshotter.capture(&mut machine.vm, &mut batch).expect("captures");
        eprintln!(
            "checkpoint after 1 KB {name}: {} bytes in {} blobs ({} pages)",
            batch.blob_bytes(),
            batch.blob_count(),
            stats.pages_written
        );
        store.commit(batch).expect("commits");
        c.bench_function(&format!("checkpoint after 1 KB changed ({name}) in a 100 MB heap"), |b| {
            b.iter(|| {
                n += 1;
                mutate(&mut machine, targets, n);
                let mut batch = Batch::default();
                let (root, _) = snapshotter.capture(&mut machine.vm, &mut batch).expect("captures");
                store.commit(batch).expect("commits");
                root
            })
        });
    }

    // The same on disk, with the process's ref moved as a durable checkpoint moves it: the commit
    // includes redb's fsync; on a plain and on an encrypted store. Both stores take every
    // checkpoint, one measured, the other not, so that each bench does the same disk work and
    // neither store is measured on a disk the other's writes left busier.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut disk = RedbStore::open(dir.path().join("store.redb")).expect("opens");
    let mut sealed = encrypted_store(&dir.path().join("sealed.redb"));
    let mut disk_snapshotter = Snapshotter::new();
    let mut batch = Batch::default();
    let (mut root, _) = disk_snapshotter.capture(&mut machine.vm, &mut batch).expect("captures");
    batch.set_ref("process", None, root);
    disk.commit(batch.clone()).expect("commits");
    sealed.commit(batch).expect("commits");
    for (kind, measured) in [("redb", 0), ("an encrypted redb", 1)] {
        let name =
            format!("checkpoint after 1 KB changed (adjacent) and its ref moved, committed to {kind} with fsync");
        c.bench_function(&name, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let started = std::time::Instant::now();
                    n += 1;
                    mutate(&mut machine, &adjacent, n);
                    let mut batch = Batch::default();
                    let (next, _) = disk_snapshotter.capture(&mut machine.vm, &mut batch).expect("captures");
                    batch.set_ref("process", Some(root), next);
                    root = next;
                    let other = batch.clone();
                    let (this_store, other_store) =
                        if measured == 0 { (&mut disk, &mut sealed) } else { (&mut sealed, &mut disk) };
                    this_store.commit(batch).expect("commits");
                    elapsed += started.elapsed();
                    other_store.commit(other).expect("commits");
                }
                elapsed
            })
        });
    }

    // A full checkpoint (the first of a process: every page) into a new store, plain and
    // encrypted: what sealing costs when everything is written.
    let mut group = c.benchmark_group("full checkpoint");
    group.sample_size(10);
    for encrypted in [false, true] {
        let kind = if encrypted { "encrypted redb" } else { "redb" };
        group.bench_function(format!("a 100 MB heap, committed to a new {kind} with fsync"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let path = dir.path().join("store.redb");
                    let store = if encrypted { encrypted_store(&path) } else { RedbStore::open(&path).expect("opens") };
                    (dir, store)
                },
                |(dir, mut store)| {
                    let mut batch = Batch::default();
                    let (root, _) = Snapshotter::new().capture(&mut machine.vm, &mut batch).expect("captures");
                    store.commit(batch).expect("commits");
                    (dir, store, root)
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let mut batch = Batch::default();
    let (root, _) = Snapshotter::new().capture(&mut machine.vm, &mut batch).expect("captures");
    store.commit(batch).expect("commits");
    let mut group = c.benchmark_group("resume");
    group.sample_size(10);
    // Each restore is checked: a failing one would be measured as a fast one.
    let restores = |store: &dyn BlobStore, root| {
        let (vm, _) = snapshot::restore(store, root, Box::new(std::io::sink()), Box::new(std::io::sink()))
            .unwrap_or_else(|e| panic!("the snapshot does not restore: {e}"));
        assert!(vm.rt.heap.object_count() > 1_000_000, "the restored heap is whole");
        vm
    };
    group.bench_function("restore a 100 MB heap from memory", |b| b.iter(|| restores(&store, root)));
    let mut batch = Batch::default();
    let (disk_root, _) = Snapshotter::new().capture(&mut machine.vm, &mut batch).expect("captures");
    disk.commit(batch).expect("commits");
    group.bench_function("restore a 100 MB heap from redb", |b| b.iter(|| restores(&disk, disk_root)));
    let mut batch = Batch::default();
    let (sealed_root, _) = Snapshotter::new().capture(&mut machine.vm, &mut batch).expect("captures");
    sealed.commit(batch).expect("commits");
    group.bench_function("restore a 100 MB heap from an encrypted redb", |b| b.iter(|| restores(&sealed, sealed_root)));
    group.finish();

    // The collector's pause on the same heap: a full mark and sweep where everything is live
    // (the collector is not incremental: this is the longest pause a program of this size sees).
    let mut group = c.benchmark_group("gc");
    group.sample_size(10);
    group.bench_function("full collection of a 100 MB heap (2 million live objects)", |b| {
        b.iter(|| machine.vm.collect_garbage())
    });
    group.finish();
}

/// A new encrypted store at `path`, its password slot cheap to open (the argon2id cost is paid
/// once per open, never per checkpoint: it is measured apart, in `store.rs`).
fn encrypted_store(path: &std::path::Path) -> RedbStore {
    let slot = NewSlot::Password {
        password: "benchmark".to_string().into(),
        params: KdfParams { memory_kib: 64, passes: 1, lanes: 1 },
    };
    RedbStore::create_encrypted(path, &slot).expect("an encrypted store")
}

criterion_group!(benches, checkpoint);
criterion_main!(benches);
