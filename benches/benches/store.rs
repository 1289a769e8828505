//! The content-addressed store on its own, for both backends: `MemoryStore` and `RedbStore` (a
//! file in a temporary directory, on whatever disk holds it). Blobs are 4 KiB, the size of a page.
//!
//! - hashing: blake3 of one 4 KiB blob (`Hash::of`), which `Batch::put` runs once and
//!   `commit` once more for every blob.
//! - put: committing a batch of 256 fresh 4 KiB blobs (1 MiB). The batch is built outside the
//!   measurement; a `RedbStore` commit includes its fsync (`Durability::Immediate`, two-phase).
//!   Every blob is new, and the stores are emptied by a gc outside the measurement every 64
//!   batches, so that they stay small. Then the same batch again: blobs the store already holds.
//! - get: reading one 4 KiB blob by its hash (a hit, re-hashed by `RedbStore` on the way out), and
//!   asking for a hash the store does not hold (a miss).
//!
//! - unlock: opening an encrypted store with its password, the argon2id slot at RFC 9106's second
//!   recommended parameters (the default: 64 MiB, 3 passes, 4 lanes): what every command that
//!   opens an encrypted store pays once.
//! - open with many refs: opening a store that holds 100,000 refs (one blob each), plain and
//!   encrypted; the encrypted one is opened with its key already known (no argon2id), so that
//!   what is measured is the check of the ref table against the sealed state record, one keyed
//!   hash per ref entry.
//!
//! Throughput is in bytes of blob. `cargo bench -p chenilles-benches --bench store`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chenilles_store::{Batch, BlobStore, Hash, MemoryStore, Mode, NewSlot, RedbStore, Unlock};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const BLOB_BYTES: usize = 4096;
const BLOBS_PER_BATCH: u64 = 256;
/// How many batches a store takes before it is emptied (outside the measurement).
const BATCHES_BEFORE_GC: u64 = 64;

/// A 4 KiB blob whose bytes are a pseudo-random stream seeded by `n`: distinct for distinct `n`.
fn blob(n: u64) -> Vec<u8> {
    let mut state = n;
    let mut bytes = Vec::with_capacity(BLOB_BYTES);
    while bytes.len() < BLOB_BYTES {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        bytes.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    bytes
}

/// The batch putting blobs `first .. first + BLOBS_PER_BATCH`, and their hashes.
fn batch_from(first: u64) -> (Batch, Vec<Hash>) {
    let mut batch = Batch::default();
    let hashes = (first..first + BLOBS_PER_BATCH).map(|n| batch.put(blob(n))).collect();
    (batch, hashes)
}

fn temporary_redb(dir: &tempfile::TempDir, name: &str) -> RedbStore {
    let path = dir.path().join(name);
    RedbStore::open(&path).unwrap_or_else(|e| panic!("cannot open a store at {}: {e}", path.display()))
}

fn hashing(c: &mut Criterion) {
    let bytes = blob(0);
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Bytes(BLOB_BYTES as u64));
    group.bench_function("hash 4 KiB (blake3)", |b| b.iter(|| Hash::of(black_box(&bytes))));
    group.finish();
}

/// Times the commit of fresh batches into `store`, emptying it every [`BATCHES_BEFORE_GC`]
/// batches outside the measurement.
fn commit_fresh(store: &mut dyn BlobStore, iters: u64, next_blob: &mut u64) -> Duration {
    let mut measured = Duration::ZERO;
    for _ in 0..iters {
        let (batch, _) = batch_from(*next_blob);
        *next_blob += BLOBS_PER_BATCH;
        let started = Instant::now();
        store.commit(batch).expect("a batch of fresh blobs commits");
        measured += started.elapsed();
        if (*next_blob / BLOBS_PER_BATCH).is_multiple_of(BATCHES_BEFORE_GC) {
            store.gc(&|_: &[u8]| Vec::new()).expect("a store without refs can be emptied by gc");
        }
    }
    measured
}

fn put(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory for the redb store");
    let mut memory = MemoryStore::default();
    let mut redb = temporary_redb(&dir, "put.redb");
    let mut next_blob = 0;

    let mut group = c.benchmark_group("store put");
    group.throughput(Throughput::Bytes(BLOBS_PER_BATCH * BLOB_BYTES as u64));
    group.bench_function("commit 256 new 4 KiB blobs to memory", |b| {
        b.iter_custom(|iters| commit_fresh(&mut memory, iters, &mut next_blob))
    });
    // Each iteration is an fsync or more: few, long samples.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    group.bench_function("commit 256 new 4 KiB blobs to redb (fsync)", |b| {
        b.iter_custom(|iters| commit_fresh(&mut redb, iters, &mut next_blob))
    });

    // Blobs already held: the memory store re-hashes and replaces them; redb re-hashes, reads
    // and compares each, writes nothing, and still commits the transaction.
    let (batch, _) = batch_from(u64::MAX - BLOBS_PER_BATCH);
    memory.commit(batch).expect("the held blobs commit to memory");
    let (batch, _) = batch_from(u64::MAX - BLOBS_PER_BATCH);
    redb.commit(batch).expect("the held blobs commit to redb");
    // The set-up (building and hashing the batch) takes longer than the commit: flat sampling.
    group.sample_size(50);
    group.bench_function("commit 256 held 4 KiB blobs to memory", |b| {
        b.iter_batched(
            || batch_from(u64::MAX - BLOBS_PER_BATCH).0,
            |batch| memory.commit(batch).expect("a batch of held blobs commits to memory"),
            criterion::BatchSize::PerIteration,
        )
    });
    group.sample_size(20);
    group.bench_function("commit 256 held 4 KiB blobs to redb (fsync)", |b| {
        b.iter_batched(
            || batch_from(u64::MAX - BLOBS_PER_BATCH).0,
            |batch| redb.commit(batch).expect("a batch of held blobs commits to redb"),
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
    redb.close().expect("the redb store closes cleanly");
}

fn get(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory for the redb store");
    let mut memory = MemoryStore::default();
    let mut redb = temporary_redb(&dir, "get.redb");
    let (batch, hashes) = batch_from(0);
    memory.commit(batch).expect("the blobs to read commit to memory");
    let (batch, _) = batch_from(0);
    redb.commit(batch).expect("the blobs to read commit to redb");
    let absent = Hash::of(b"a blob that was never put");

    let stores: [(&str, &dyn BlobStore); 2] = [("memory", &memory), ("redb", &redb)];
    let mut group = c.benchmark_group("store get");
    for (name, store) in stores {
        group.throughput(Throughput::Bytes(BLOB_BYTES as u64));
        let mut next = 0;
        group.bench_function(format!("get a 4 KiB blob from {name} (hit)"), |b| {
            b.iter(|| {
                next = (next + 1) % hashes.len();
                store.get(&hashes[next]).expect("the blob reads back").expect("the blob is held")
            })
        });
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("get an absent hash from {name} (miss)"), |b| {
            b.iter(|| store.get(black_box(&absent)).expect("a miss is not an error"))
        });
    }
    group.finish();
    redb.close().expect("the redb store closes cleanly");
}

fn unlock(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sealed.redb");
    let password = || "a benchmark password".to_string().into();
    RedbStore::create_encrypted(&path, &NewSlot::password(password())).expect("creates").close().expect("closes");
    let mut group = c.benchmark_group("unlock");
    group.sample_size(10);
    group.bench_function("open an encrypted store with its password (argon2id, 64 MiB, 3 passes, 4 lanes)", |b| {
        b.iter(|| {
            let store = RedbStore::open_with(&path, Mode::Existing, &Unlock::password(password())).expect("opens");
            assert!(store.is_encrypted());
            store
        })
    });
    group.finish();
}

/// How many refs the stores of `open with many refs` hold.
const MANY_REFS: u64 = 100_000;

fn open_with_many_refs(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain_path = dir.path().join("plain.redb");
    let sealed_path = dir.path().join("sealed.redb");
    let slot = NewSlot::Password {
        password: "a benchmark password".to_string().into(),
        params: chenilles_store::KdfParams { memory_kib: 64, passes: 1, lanes: 1 },
    };
    let mut plain = RedbStore::open(&plain_path).expect("opens");
    let mut sealed = RedbStore::create_encrypted(&sealed_path, &slot).expect("creates");
    let key = sealed.key().expect("an encrypted store has a key");
    for store in [&mut plain, &mut sealed] {
        for chunk in 0..MANY_REFS / 10_000 {
            let mut batch = Batch::default();
            for i in chunk * 10_000..(chunk + 1) * 10_000 {
                let target = batch.put(i.to_le_bytes().to_vec());
                batch.set_ref(&format!("process/p{i}"), None, target);
            }
            store.commit(batch).expect("commits");
        }
    }
    plain.close().expect("closes");
    sealed.close().expect("closes");
    let mut group = c.benchmark_group("open with many refs");
    group.sample_size(10);
    group.bench_function("open a plain store holding 100,000 refs", |b| {
        b.iter(|| RedbStore::open_with(&plain_path, Mode::Existing, &Unlock::none()).expect("opens"))
    });
    group.bench_function("open an encrypted store holding 100,000 refs (key known)", |b| {
        b.iter(|| RedbStore::open_with(&sealed_path, Mode::Existing, &Unlock::key(key.clone())).expect("opens"))
    });
    group.finish();
}

criterion_group!(benches, hashing, put, get, unlock, open_with_many_refs);
criterion_main!(benches);
