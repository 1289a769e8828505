//! A mailbox costs what changes in it: a receipt deletes one ref, whatever the number of messages
//! waiting (what a send costs is tested beside `stage`, in the durable crate). Costs are counted
//! in blobs and refs here (times are measured by benchmarks).

use chenilles_durable::{Host, waiting_count};
use chenilles_machine::Datum;
use chenilles_store::RedbStore;

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
    host.spawn("sum").source("sum.scm", &program).start().expect("spawn");
    host.run().expect("run");
    let expected = count * (count - 1) / 2;
    assert_eq!(String::from_utf8(host.output("sum").expect("output")).expect("utf-8"), format!("({expected} #t)\n"));
    assert_eq!(
        waiting_count(host.store().expect("store"), "sum").expect("count"),
        0,
        "every received message was deleted"
    );
    let refs = host.store().expect("store").list_refs().expect("refs");
    assert_eq!(
        refs.iter().filter(|(name, _)| name.starts_with("mailbox/")).count(),
        1,
        "only the head is left: {refs:?}"
    );
}
