//! What the commands that touch a large store cost: opening it, `ps`, `send`, and the poll a
//! waiting `start` makes, on a store of `CHENILLES_SCALE_MB` megabytes (default 1024) holding a
//! waiting process and that much of other blobs. Each must cost what it reads, not the file's
//! size. `cargo bench -p chenilles-benches --bench store_scale` (building the store takes a while:
//! `CHENILLES_SCALE_MB=64` for a quick run; CI runs it so in test mode).

use std::path::Path;
use std::time::Instant;

use chenilles_durable::Host;
use chenilles_machine::Datum;
use chenilles_store::{Batch, BlobStore, RedbStore, StoreWatch};
use criterion::{Criterion, criterion_group, criterion_main};

/// Fills the store at `path` with `megabytes` of 4 KiB blobs (in commits of 4 MB) and one waiting
/// process, `waiter`.
fn build(path: &Path, megabytes: usize) {
    let started = Instant::now();
    let mut store = RedbStore::open(path).expect("open");
    let mut n: u64 = 0;
    for commit in 0..megabytes / 4 {
        let mut batch = Batch::default();
        let mut last = None;
        for _ in 0..1024 {
            let mut bytes = vec![0u8; 4000];
            bytes[..8].copy_from_slice(&n.to_le_bytes());
            n += 1;
            last = Some(batch.put(bytes));
        }
        if let Some(last) = last {
            batch.set_ref(&format!("filler/{commit}"), None, last);
        }
        store.commit(batch).expect("commit");
    }
    let mut host = Host::new(Box::new(store));
    host.spawn("waiter").source("waiter.scm", "(display (receive))").start().expect("spawn");
    host.run().expect("run");
    drop(host);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or_default();
    eprintln!("store_scale: a store of {} MB built in {:.1} s", size >> 20, started.elapsed().as_secs_f64());
}

fn scale(c: &mut Criterion) {
    let megabytes: usize = std::env::var("CHENILLES_SCALE_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    build(&path, megabytes);
    let mut group = c.benchmark_group(format!("store of {megabytes} MB"));
    group.sample_size(20);
    group.bench_function("open for writing", |b| {
        b.iter(|| drop(RedbStore::open_existing(&path).expect("open")));
    });
    group.bench_function("open read-only", |b| {
        b.iter(|| drop(RedbStore::open_read_only(&path).expect("open")));
    });
    group.bench_function("ps (open read-only, list processes and mailboxes)", |b| {
        b.iter(|| {
            let store = RedbStore::open_read_only(&path).expect("open");
            let processes = chenilles_durable::list_processes(&store).expect("list");
            assert_eq!(processes.len(), 1);
            for (name, _) in &processes {
                chenilles_durable::waiting_count(&store, name).expect("mailbox");
            }
        });
    });
    let mut sent = 0;
    group.bench_function("send (open, deliver, close)", |b| {
        b.iter(|| {
            let mut store = RedbStore::open_existing(&path).expect("open");
            chenilles_durable::deliver(&mut store, "other", "host", &Datum::from(sent)).expect("deliver");
            sent += 1;
        });
    });
    group.bench_function("waiting poll (nothing changed)", |b| {
        let mut watch = StoreWatch::new(&path);
        // The file's times settle a second after the last write.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        watch.changed();
        b.iter(|| assert!(!watch.changed()));
    });
    group.finish();
    let store = RedbStore::open_read_only(&path).expect("open");
    assert_eq!(
        chenilles_durable::waiting_count(&store, "other").expect("count"),
        sent as usize,
        "every send was delivered"
    );
    let _ = store.list_refs().expect("refs");
}

criterion_group!(benches, scale);
criterion_main!(benches);
