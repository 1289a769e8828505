//! Benchmark figures, printed rather than asserted (run with `--ignored --nocapture`): how long
//! durable commits take on this machine.

use std::time::{Duration, Instant};

use chenilles_store::{Batch, BlobStore, Hash, RedbStore};

fn blob(i: u64, salt: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; 4096];
    for (k, chunk) in bytes.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&(i ^ (salt << 40) ^ (k as u64) << 20).to_le_bytes());
    }
    bytes
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn commit_throughput() {
    const RUNS: u64 = 3;
    let mut small = Vec::new();
    let mut large = Vec::new();
    let mut reopen = Vec::new();
    for run in 0..RUNS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.redb");
        let mut store = RedbStore::open(&path).unwrap();

        // 1,000 commits of one 4 KiB blob and one ref each.
        let started = Instant::now();
        let mut head: Option<Hash> = None;
        for i in 0..1_000 {
            let mut batch = Batch::default();
            let page = batch.put(blob(i, run * 2));
            batch.set_ref("head", head, page);
            store.commit(batch).unwrap();
            head = Some(page);
        }
        small.push(started.elapsed());

        // One commit of 10,000 such blobs.
        let mut batch = Batch::default();
        let mut last = Hash([0; 32]);
        for i in 0..10_000 {
            last = batch.put(blob(i, run * 2 + 1));
        }
        batch.set_ref("big", None, last);
        let started = Instant::now();
        store.commit(batch).unwrap();
        large.push(started.elapsed());

        // Reopening (the whole-file integrity check) of the ~45 MB result.
        store.close().unwrap();
        let started = Instant::now();
        let store = RedbStore::open(&path).unwrap();
        reopen.push(started.elapsed());
        assert!(store.verify().unwrap().is_clean());
        let size = std::fs::metadata(&path).unwrap().len();
        println!(
            "run {run}: 1,000 small commits {:?}, one 10,000-blob commit {:?}, reopen of {} MB {:?}",
            small.last().unwrap(),
            large.last().unwrap(),
            size / 1_000_000,
            reopen.last().unwrap()
        );
    }
    let small = median(small);
    println!(
        "median of {RUNS}: 1,000 commits of one 4 KiB blob + one ref: {small:?} ({:.2} ms per commit, {:.0} commits/s)",
        small.as_secs_f64(),
        1_000.0 / small.as_secs_f64()
    );
    let large = median(large);
    println!("median of {RUNS}: one commit of 10,000 4 KiB blobs: {large:?} ({:.1} MB/s)", 40.96 / large.as_secs_f64());
    println!("median of {RUNS}: reopen (integrity check): {:?}", median(reopen));
}
