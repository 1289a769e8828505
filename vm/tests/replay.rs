//! The determinism check (`chenilles_durable::replay`): a process that kept its history, replayed from
//! its first checkpoint with its journaled effects, reaches every later recorded root hash and
//! ends as it did; a journal that no longer matches the run is found at the checkpoint that first
//! depends on it, naming what differs.

use chenilles_durable::Host;
use chenilles_durable::blob::{self, Kind};
use chenilles_durable::{self, Options, Record, Status, process_ref};
use chenilles_durable::{Replay, replay};
use chenilles_machine::effects::{Effect, EffectResult};
use chenilles_store::{Batch, BlobStore, Hash, MemoryStore};

/// Random numbers (effects) kept in a growing vector, printed as they come, over many checkpoints.
const RANDOM: &str = r#"
    (define seen (make-vector 40 0))
    (let loop ((i 0))
      (when (< i 40)
        (vector-set! seen i (random-integer 1000000))
        (display (vector-ref seen i)) (newline)
        (let spin ((k 0)) (when (< k 3000) (spin (+ k 1))))
        (loop (+ i 1))))
    (vector->list seen)"#;

fn history_host() -> Host {
    let mut host = Host::new(Box::new(MemoryStore::default()));
    host.set_options(|_| Options {
        checkpoint_every: std::time::Duration::ZERO,
        checkpoint_share: 100,
        keep_history: true,
        ..Options::silent()
    });
    host
}

#[test]
fn replays_reach_every_recorded_state() {
    let mut host = history_host();
    let counter =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/durable/counter.scm")).unwrap();
    host.spawn("counter").source("counter.scm", &counter).start().unwrap();
    host.spawn("random").source("random.scm", RANDOM).start().unwrap();
    // Messages and a receive with a timeout: the receipts and the clock are journaled too.
    host.spawn("listener").source("listener.scm", "(list (receive) (receive) (receive 0.01 'none))").start().unwrap();
    host.run().unwrap();
    host.send("listener", &chenilles_machine::Datum::symbol("hello")).unwrap();
    host.send("listener", &chenilles_machine::Datum::from(42)).unwrap();
    host.run().unwrap();
    while !host.waiting().is_empty() {
        std::thread::sleep(std::time::Duration::from_millis(5));
        host.run().unwrap();
    }
    for name in ["counter", "random", "listener"] {
        assert_eq!(host.status(name).unwrap().status, Status::Finished, "{name}");
        match replay(host.store().unwrap(), name).unwrap() {
            Replay::Same { checkpoints, .. } => assert!(checkpoints >= 2, "{name}: {checkpoints} checkpoints"),
            diverged => panic!("{name}: {diverged:?}"),
        }
    }
    assert_eq!(host.result("listener").unwrap().unwrap().to_string(), "(hello 42 none)");
}

/// Replaces the `index`th random number of process `name`'s effect journal by another, and makes
/// the newest record name the changed journal.
fn tamper(store: &mut dyn BlobStore, name: &str, index: usize) -> Record {
    let head = store.get_ref(&process_ref(name)).unwrap().unwrap();
    let mut record = chenilles_durable::read_record(store, name, head).unwrap();
    let mut effects = chenilles_durable::read_effects(store, &record).unwrap();
    let Effect { result: EffectResult::Integer(n), .. } = &mut effects[index] else { panic!("{:?}", effects[index]) };
    *n += 1;
    let mut batch = Batch::default();
    let payload = rkyv::to_bytes::<rkyv::rancor::Error>(&effects).unwrap();
    record.effects = Some(blob::put(&mut batch, Kind::Effects, &[], &payload).0);
    let children: Vec<Hash> =
        [record.snapshot, record.output, record.effects, record.previous].into_iter().flatten().map(Hash).collect();
    let payload = rkyv::to_bytes::<rkyv::rancor::Error>(&record).unwrap();
    let new_head = blob::put(&mut batch, Kind::Record, &children, &payload);
    batch.set_ref(&process_ref(name), Some(head), new_head);
    store.commit(batch).unwrap();
    record
}

#[test]
fn a_journal_that_no_longer_matches_the_run_is_found() {
    let mut host = history_host();
    host.spawn("random").source("random.scm", RANDOM).start().unwrap();
    host.run().unwrap();
    tamper(host.store().unwrap(), "random", 20);
    match replay(host.store().unwrap(), "random").unwrap() {
        Replay::Diverged { checkpoint, what } => {
            assert!(checkpoint > 1, "found at checkpoint {checkpoint}");
            assert!(what.contains("the replayed state is"), "{what}");
        }
        same => panic!("the changed journal went unnoticed: {same:?}"),
    }
}
