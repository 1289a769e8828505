//! What the fuzz targets share: the limits a fuzzed program runs under, and a real durable
//! process's store for the snapshot target to damage.

use std::time::Duration;

use chenilles_store::{Batch, Hash, MemoryStore};
use chenilles_durable::Options;
use chenilles_durable::{process_ref, read_record, stage_record};
use chenilles_durable::Host;
use chenilles_machine::runtime::Limits;
use chenilles_durable::blob::children_of;

/// Small enough that every fuzzed program stops within a fraction of a second.
pub const LIMITS: Limits = Limits { max_steps: Some(200_000), max_heap: Some(32 << 20), max_depth: Some(10_000) };

/// Text, if the bytes are UTF-8 and not larger than a program worth reading.
pub fn source(bytes: &[u8]) -> Option<&str> {
    if bytes.len() > 64 << 10 {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The blobs and refs of a store holding one waiting durable process named `p` that has built a
/// heap of every kind of object, as (hash, bytes) in the order a child comes before its parents
/// where the envelope says so.
pub struct Seed {
    pub blobs: Vec<(Hash, Vec<u8>)>,
    pub refs: Vec<(String, Hash)>,
}

pub const SEED_PROGRAM: &str = r#"
(import (scheme base) (scheme char) (srfi 69))
(define-record-type point (make-point x y) point? (x point-x) (y point-y))
(define table (make-hash-table equal?))
(hash-table-set! table "key" (list 1 2.5 3/4 (expt 2 100) #\x 'sym))
(define v (vector (make-point 1 2) (make-bytevector 3 7) (string #\a #\b)))
(define k #f)
(define counter (+ 1 (call/cc (lambda (c) (set! k c) 0))))
(define (loop n acc) (if (= n 0) acc (loop (- n 1) (cons n acc))))
(define xs (loop 50 '()))
(define message (receive))
(display (list message counter (vector-length v) (length xs)))
"#;

pub fn seed() -> Seed {
    let mut host = Host::new(Box::new(MemoryStore::default()));
    host.set_options(|_| Options { checkpoint_every: Duration::from_secs(3600), ..Options::silent() });
    host.spawn("p").source("seed.scm", SEED_PROGRAM).start().expect("the seed program starts");
    host.run().expect("the seed program runs until it waits");
    // A message waits in its mailbox: a resumed process goes on and finishes.
    chenilles_durable::deliver(host.store().expect("the host has its store"), "p", "fuzz", &chenilles_machine::Datum::from(7))
        .expect("the message is delivered");
    let store = host.store().expect("the host has its store");
    // The record's clock readings are the only bytes that differ from run to run: fix them, so
    // that an input does the same damage every time it is run.
    let head = store.get_ref(&process_ref("p")).expect("a ref").expect("the process's record");
    let mut record = read_record(store, "p", head).expect("the record");
    (record.started_ms, record.time_ms) = (0, 0);
    let mut batch = Batch::default();
    stage_record(&mut batch, &mut record, Some(head));
    store.commit(batch).expect("the fixed record is committed");
    store.gc(&children_of).expect("the old record is collected");
    let refs = store.list_refs().expect("refs");
    let blobs = store
        .blob_hashes()
        .expect("blobs")
        .into_iter()
        .map(|hash| (hash, store.get(&hash).expect("a blob").expect("a held blob")))
        .collect();
    Seed { blobs, refs }
}

/// Replaces every occurrence of the 32 bytes of `old` in `bytes` by `new`.
pub fn replace_hash(bytes: &mut [u8], old: &Hash, new: &Hash) {
    let (old, new) = (old.0, new.0);
    let mut i = 0;
    while i + 32 <= bytes.len() {
        if bytes[i..i + 32] == old {
            bytes[i..i + 32].copy_from_slice(&new);
            i += 32;
        } else {
            i += 1;
        }
    }
}
