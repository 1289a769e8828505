//! A mailbox costs what changes in it: a send writes one message and a head, a receipt deletes one
//! ref, whatever the number of messages waiting; the file grows with the messages, not with their
//! square. Costs are counted in blobs and bytes here (times are measured by benchmarks).

use chenilles_store::{Batch, RedbStore};
use chenilles_vm::Datum;
use chenilles_vm::host::Host;
use chenilles_vm::mailbox::{self, MailboxChange};

/// A message of about 200 bytes.
fn message(i: usize) -> Datum {
    chenilles_vm::messaging::parse_message(&format!("(payment {i} \"{}\")", "x".repeat(180))).expect("a datum")
}

#[test]
fn a_send_costs_its_message_however_many_wait() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let mut store = RedbStore::open(&path).expect("open");
    let waiting = 4000;
    for i in 0..waiting {
        assert_eq!(mailbox::deliver(&mut store, "bob", "host", &message(i)).expect("deliver"), i as u64);
    }
    // One more send stages two blobs (the message and the head) and two ref changes.
    let mut batch = Batch::default();
    let change = MailboxChange { append: vec![("host".into(), "(one more)".into())], ..MailboxChange::default() };
    let first = mailbox::stage(&store, &mut batch, [("bob".to_string(), change)].into()).expect("stage");
    assert_eq!(first.get("bob"), Some(&(waiting as u64)));
    assert_eq!(batch.blob_count(), 2, "a send writes its message and the head, not the mailbox");
    assert!(batch.blob_bytes() < 1024, "a send of a short message writes {} bytes", batch.blob_bytes());
    drop(store);
    let size = std::fs::metadata(&path).expect("size").len();
    // Each 200-byte message takes a ref and a blob (redb rounds small entries up): about 1 KB.
    assert!(size < 16 << 20, "{waiting} messages of 200 bytes made a file of {size} bytes");
    assert_eq!(mailbox::waiting_count(&RedbStore::open(&path).expect("open"), "bob").expect("count"), waiting);
}

#[test]
fn a_receiver_takes_every_message_once_in_order_and_leaves_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.redb");
    let mut host = Host::new(Box::new(RedbStore::open(&path).expect("open")));
    let count = 1500;
    for i in 0..count {
        host.send("sum", &Datum::from(i as i64)).expect("send");
    }
    let program = format!(
        "(import (scheme base) (scheme write))\n\
         (let loop ((i 0) (sum 0) (in-order #t))\n\
           (if (= i {count}) (begin (write (list sum in-order)) (newline))\n\
               (let ((m (receive))) (loop (+ i 1) (+ sum m) (and in-order (= m i))))))"
    );
    host.spawn_source("sum", "sum.scm", &program, &[]).expect("spawn");
    host.run().expect("run");
    let expected = count * (count - 1) / 2;
    assert_eq!(String::from_utf8(host.output("sum").expect("output")).expect("utf-8"), format!("({expected} #t)\n"));
    assert_eq!(mailbox::waiting_count(host.store(), "sum").expect("count"), 0, "every received message was deleted");
    let refs = host.store().list_refs().expect("refs");
    assert_eq!(
        refs.iter().filter(|(name, _)| name.starts_with("mailbox/")).count(),
        1,
        "only the head is left: {refs:?}"
    );
}
