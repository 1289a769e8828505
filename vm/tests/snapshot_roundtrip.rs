//! Property: a snapshot restores to an equal heap. Random data — nested lists and vectors,
//! strings, characters, symbols, exact integers of every size, ratios, flonums, bytevectors — is
//! built by a program that also shares it, mutates it, closes over it and keys a hash table with
//! it. The program runs as a durable process that checkpoints at every slice and, after each
//! checkpoint, is thrown away and restored from the store; the restored heap must serialize to
//! the same root (checked by the reload itself), and the process must print exactly what an
//! in-memory run prints.

use chenilles_durable::Host;
use chenilles_durable::{Options, Status};
use chenilles_machine::Datum;
use chenilles_store::MemoryStore;
use proptest::prelude::*;

fn leaf() -> impl Strategy<Value = Datum> {
    prop_oneof![
        any::<i64>().prop_map(Datum::from),
        (any::<i64>(), any::<u64>()).prop_map(|(a, b)| {
            Datum::from(num_bigint::BigInt::from(a) * num_bigint::BigInt::from(b) * num_bigint::BigInt::from(b))
        }),
        any::<f64>().prop_filter("NaN prints differently across its payloads", |x| !x.is_nan()).prop_map(Datum::from),
        any::<char>().prop_map(Datum::from),
        "[a-z][a-z0-9-]{0,8}".prop_map(|s| Datum::symbol(&s)),
        any::<String>().prop_map(Datum::from),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Datum::from),
        any::<bool>().prop_map(Datum::from),
    ]
}

fn datum() -> impl Strategy<Value = Datum> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Datum::list),
            proptest::collection::vec(inner, 0..6).prop_map(Datum::vector),
        ]
    })
}

/// Builds, shares, mutates and prints `data`; about as much work as a few slices.
fn program(data: &Datum) -> String {
    format!(
        r#"
(import (scheme base) (scheme write) (srfi 69))
(define original '{data})
(define (deep-copy x)
  (cond ((pair? x) (cons (deep-copy (car x)) (deep-copy (cdr x))))
        ((vector? x) (vector-map deep-copy x))
        ((string? x) (string-copy x))
        (else x)))
(define copy (deep-copy original))
(define shared (list copy copy (vector copy original)))
(define table (make-hash-table equal?))
(hash-table-set! table copy 'copy)
(hash-table-set! table (list 1/3 (expt 7 40) 2.5) 'numbers)
(define counter (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
(define (walk x)
  (counter)
  (cond ((pair? x) (walk (car x)) (walk (cdr x)))
        ((vector? x) (vector-for-each walk x))
        ((string? x) (when (> (string-length x) 0) (string-set! x 0 #\Z)))))
(let loop ((i 0))
  (when (< i 30000)
    (walk copy)
    (when (vector? copy) (vector-fill! copy i))
    (loop (+ i 1))))
(write (list (counter) copy (equal? copy original) (hash-table-ref/default table copy 'gone)
             (hash-table-ref/default table (list 1/3 (expt 7 40) 2.5) 'gone)
             (eq? (car shared) (cadr shared)) original))
"#
    )
}

fn in_memory(source: &str) -> String {
    let output = chenilles_durable::SharedBuffer::default();
    let mut machine = chenilles_machine::Machine::with_output(Box::new(output.clone()));
    machine.run_source("data.scm", source).map_err(|e| e.report()).expect("the program runs in memory");
    machine.vm.rt.flush();
    String::from_utf8(output.contents()).expect("UTF-8 output")
}

fn durably(source: &str) -> String {
    let mut host = Host::new(Box::new(MemoryStore::default()));
    host.set_options(|_| Options {
        checkpoint_every: std::time::Duration::ZERO,
        checkpoint_share: 100,
        reload_each_checkpoint: true,
        ..Options::silent()
    });
    host.spawn("data").source("data.scm", source).start().expect("the program starts");
    host.run().expect("every restored state serializes to the root it was restored from");
    let record = host.status("data").expect("a record");
    assert_eq!(record.status, Status::Finished);
    assert!(record.checkpoints >= 3, "only {} checkpoints: nothing was restored mid-run", record.checkpoints);
    String::from_utf8(host.output("data").expect("the output journal")).expect("UTF-8 output")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_restored_heap_is_the_heap_that_was_saved(data in datum()) {
        let source = program(&data);
        let expected = in_memory(&source);
        prop_assert!(!expected.is_empty());
        prop_assert_eq!(durably(&source), expected);
    }
}
