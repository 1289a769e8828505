//! Replication and restore (`spec/replicas.md`), to a directory and to a real S3 server
//! (SeaweedFS on loopback, started here): a first pass of a store of `CHENILLES_SCALE_MB`
//! megabytes (default 100) of new 4 KiB pages, which is the replication throughput; one pass
//! after a checkpoint-sized commit, which is the latency `--replicas-required 1` adds to such a
//! checkpoint; a restore of the whole store from each. `cargo bench -p chenilles-benches --bench
//! replicas`.

#[path = "../../runtime-store/s3/tests/common/mod.rs"]
mod s3;

use std::path::Path;
use std::time::{Duration, Instant};

use chenilles_store::replica::{
    self, DirectoryTarget, ReplicaConfig, ReplicaTarget, RestoreOptions, SyncMemory, SyncOutcome,
};
use chenilles_store::{Batch, BlobStore, Hash, RedbStore, Unlock};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// Pages a commit of the store's building puts, under one index blob.
const PAGES_PER_COMMIT: usize = 1024;
/// A page's bytes.
const PAGE: usize = 4096;

/// An index blob: `tree`, a count, the hashes of its pages.
fn index_blob(children: &[Hash]) -> Vec<u8> {
    let mut blob = b"tree".to_vec();
    blob.extend_from_slice(&(children.len() as u32).to_le_bytes());
    for child in children {
        blob.extend_from_slice(&child.0);
    }
    blob
}

fn roots_of(bytes: &[u8]) -> Vec<Hash> {
    let Some(rest) = bytes.strip_prefix(b"tree") else { return Vec::new() };
    let Some(count) = rest.get(..4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes) else {
        return Vec::new();
    };
    (0..count as usize).filter_map(|i| rest.get(4 + 32 * i..4 + 32 * (i + 1)).and_then(Hash::from_slice)).collect()
}

/// Pages of bytes no two of which are alike (a page's first bytes are its number).
fn page(n: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; PAGE];
    let mut state = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for chunk in bytes.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    bytes
}

/// Commits `pages` new pages under ref `name`; `next` numbers them.
fn commit_pages(store: &mut RedbStore, name: &str, pages: usize, next: &mut u64) {
    let mut batch = Batch::default();
    let children: Vec<Hash> = (0..pages)
        .map(|_| {
            *next += 1;
            batch.put(page(*next))
        })
        .collect();
    let index = batch.put(index_blob(&children));
    match store.get_ref(name).expect("ref") {
        Some(old) => batch.set_ref(name, Some(old), index),
        None => batch.set_ref(name, None, index),
    }
    store.commit(batch).expect("commit");
}

/// A store of `megabytes` of pages, listing one replica (`bench`, whose target each benchmark
/// gives itself).
fn build(path: &Path, megabytes: usize, next: &mut u64) -> RedbStore {
    let started = Instant::now();
    let mut store = RedbStore::open(path).expect("open");
    store.add_replica("bench", "dir:unused").expect("add replica");
    for commit in 0..(megabytes << 20) / (PAGES_PER_COMMIT * PAGE) {
        commit_pages(&mut store, &format!("process/p{commit}/head"), PAGES_PER_COMMIT, next);
    }
    eprintln!("replicas: a store of {megabytes} MB built in {:.1} s", started.elapsed().as_secs_f64());
    store
}

/// The replica's progress beside the store forgotten: its next pass is a whole first pass.
fn forget_progress(store: &Path) {
    let mut name = store.file_name().expect("a file name").to_os_string();
    name.push(".replicas");
    let _ = std::fs::remove_dir_all(store.with_file_name(name));
}

fn synced(store: &RedbStore, replica: &ReplicaConfig, target: &dyn ReplicaTarget, memory: &mut SyncMemory) -> u64 {
    match replica::sync(store, replica, target, memory).expect("sync") {
        SyncOutcome::Synced(report) => report.bytes_sent,
        other => panic!("a pass that sent nothing: {other:?}"),
    }
}

fn replicas(c: &mut Criterion) {
    let megabytes: usize = std::env::var("CHENILLES_SCALE_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let mut next = 0;
    let mut store = build(&path, megabytes, &mut next);
    let replica = store.replicas().expect("replicas").remove(0);
    let server = s3::S3Server::start();
    let mut fresh = 0u32;
    let mut fresh_target = |kind: &str| -> Box<dyn ReplicaTarget> {
        fresh += 1;
        match kind {
            "dir" => {
                let target = DirectoryTarget::new(dir.path().join(format!("replica-{fresh}")));
                target.init().expect("init");
                Box::new(target)
            }
            _ => Box::new(server.target(&format!("bench-{fresh}"))),
        }
    };

    let mut group = c.benchmark_group(format!("replicate {megabytes} MB"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    for kind in ["dir", "s3"] {
        let what = if kind == "dir" { "a directory" } else { "the S3 server" };
        group.bench_function(format!("a first pass to {what}"), |b| {
            b.iter_batched(
                || {
                    forget_progress(&path);
                    fresh_target(kind)
                },
                |target| synced(&store, &replica, target.as_ref(), &mut SyncMemory::default()),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();

    // One pass after each checkpoint-sized commit (16 new pages, one ref moved), the replica up to
    // date before it: what a checkpoint under --replicas-required 1 waits for.
    let mut group = c.benchmark_group("one checkpoint's pass");
    group.sample_size(20);
    for kind in ["dir", "s3"] {
        let what = if kind == "dir" { "to a directory" } else { "to the S3 server" };
        forget_progress(&path);
        let target = fresh_target(kind);
        let mut memory = SyncMemory::default();
        synced(&store, &replica, target.as_ref(), &mut memory);
        group.bench_function(format!("16 pages {what}"), |b| {
            b.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    commit_pages(&mut store, "process/ticker/head", 16, &mut next);
                    let began = Instant::now();
                    synced(&store, &replica, target.as_ref(), &mut memory);
                    spent += began.elapsed();
                }
                spent
            });
        });
    }
    group.finish();

    // Restore the store whole, from each.
    let mut group = c.benchmark_group(format!("restore {megabytes} MB"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    for kind in ["dir", "s3"] {
        let what = if kind == "dir" { "a directory" } else { "the S3 server" };
        forget_progress(&path);
        let target = fresh_target(kind);
        synced(&store, &replica, target.as_ref(), &mut SyncMemory::default());
        let mut n = 0;
        group.bench_function(format!("from {what}"), |b| {
            b.iter_batched(
                || {
                    n += 1;
                    dir.path().join(format!("restored-{kind}-{n}.redb"))
                },
                |to| {
                    let options = RestoreOptions { roots_of: &roots_of, unlock: &Unlock::none(), store_id: None };
                    let report = replica::restore(&[target.as_ref()], &to, &options).expect("restore");
                    assert!(report.blobs as usize >= (megabytes << 20) / PAGE);
                    let _ = std::fs::remove_file(&to);
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, replicas);
criterion_main!(benches);
