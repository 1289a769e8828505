//! Durable programs on a disk that crashes on purpose (`chenilles_store::simulated`): for each
//! program, a clean run counts the disk operations (writes, resizes, syncs) it makes; then, for each
//! operation in turn, a run crashes there (or tears that write, or sees that one operation fail),
//! the disk keeps what a crash would keep (a seeded random subset of its unsynced writes), and the
//! process is recovered from the store and run to its end. Its output journal and how it ended
//! must equal the clean run's.
//!
//! CI covers every `CHENILLES_FAULT_STRIDE`th operation (default 15, from a seeded offset); the
//! campaign (`scripts/fault-campaign.sh`) sets it to 1: every operation of every program. `CHENILLES_FAULT_SEED`
//! replays a run; the seed is printed.

mod common;

use std::path::Path;

use chenilles_durable::Host;
use chenilles_durable::{DurableError, Options, Status};
use chenilles_store::simulated::{Fault, SimulatedDisk};
use chenilles_store::{KdfParams, NewSlot, RedbStore, Unlock};

/// Small programs of the data-driven suite, chosen to cover continuations, deep stacks, bignums,
/// dynamic state, hash tables, records, ports and mutation; plus a conversation between two
/// processes (messages committed under faults).
const PROGRAMS: &[&str] = &[
    "callcc/generator.scm",
    "callcc/reentry.scm",
    "dynamic-wind/reentry.scm",
    "exceptions/nested-guards.scm",
    "hash-tables/many-keys.scm",
    "lists/mutation.scm",
    "numbers/bignum-factorial.scm",
    "parameterize/parameterize.scm",
    "promises/delay-force.scm",
    "records/record-types.scm",
    "string-ports/input-ports.scm",
    "strings/string-mutation.scm",
    "vectors/vector-copy-append.scm",
    "write-cycles/vector-cycles.scm",
];

const PING: &str = r#"
    (let loop ((n 0))
      (send 'pong (list 'ping n (make-string 300 #\x)))
      (let ((reply (receive)))
        (display reply) (newline)
        (if (< n 6) (loop (+ n 1)) (send 'pong 'stop))))"#;
const PONG: &str = r#"
    (let loop ((count 0))
      (let ((message (receive)))
        (if (eq? message 'stop)
            count
            (begin (send 'ping (list 'pong (cadr message))) (loop (+ count 1))))))"#;

/// Plain stores, or encrypted ones unlocked by a password.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Plain,
    Encrypted,
}

impl Kind {
    /// A disk holding a new, empty store, its operations counted from zero (creating a store on
    /// a real disk is atomic: `RedbStore::open` builds it beside and renames it).
    fn disk_with_store(self) -> SimulatedDisk {
        let disk = SimulatedDisk::new();
        let slot = NewSlot::Password {
            password: common::PASSWORD.to_string().into(),
            params: KdfParams { memory_kib: 64, passes: 1, lanes: 1 },
        };
        let create = (self == Kind::Encrypted).then_some(&slot);
        drop(RedbStore::open_simulated_with(&disk, create, &Unlock::none()).expect("a new store"));
        disk.copy()
    }

    fn open(self, disk: &SimulatedDisk) -> Result<RedbStore, chenilles_store::StoreError> {
        let unlock = match self {
            Kind::Plain => Unlock::none(),
            Kind::Encrypted => Unlock::password(common::PASSWORD.to_string().into()),
        };
        RedbStore::open_simulated_with(disk, None, &unlock)
    }
}

fn host_on(store: RedbStore) -> Host {
    let mut host = Host::new(Box::new(store));
    host.set_options(|_| Options {
        checkpoint_every: std::time::Duration::ZERO,
        checkpoint_share: 100,
        ..Options::silent()
    });
    host
}

/// The processes of one case: names and sources.
type Case = Vec<(String, String)>;

/// Spawns what is not in the store yet, resumes what is unfinished, and runs it all.
fn run_case(host: &mut Host, case: &Case) -> Result<(), DurableError> {
    host.resume_all()?;
    for (name, source) in case {
        if matches!(host.status(name), Err(DurableError::NoSuchProcess(_))) {
            host.spawn(name).source(format!("{name}.scm"), source).start()?;
        }
    }
    host.run()?;
    Ok(())
}

/// Each process's status word and output journal.
fn outcome(host: &mut Host, case: &Case) -> Vec<(String, Vec<u8>)> {
    case.iter()
        .map(|(name, _)| {
            let record = host.status(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let status = match &record.status {
                Status::Failed { report } => format!("failed: {}", report.lines().next().unwrap_or("")),
                other => other.word(),
            };
            (status, host.output(name).expect("the output journal"))
        })
        .collect()
}

fn seed() -> u64 {
    common::seed("CHENILLES_FAULT_SEED", "fault campaign")
}

#[test]
fn a_crash_at_any_disk_operation_changes_nothing_a_program_ends_with() {
    crash_at_disk_operations(Kind::Plain, 1);
}

/// The same on encrypted stores, at a third of the points (CI's short version: the campaign
/// runs every point of both).
#[test]
fn a_crash_at_any_disk_operation_of_an_encrypted_store_changes_nothing_a_program_ends_with() {
    crash_at_disk_operations(Kind::Encrypted, 3);
}

fn crash_at_disk_operations(kind: Kind, sparser: u64) {
    let mut rng = fastrand::Rng::with_seed(seed());
    let stride: u64 = std::env::var("CHENILLES_FAULT_STRIDE").ok().and_then(|s| s.parse().ok()).unwrap_or(15).max(1);
    let stride = if stride == 1 { 1 } else { stride * sparser };
    let programs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs");
    let mut cases: Vec<(String, Case)> = PROGRAMS
        .iter()
        .map(|file| {
            let source = std::fs::read_to_string(programs.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            (file.to_string(), vec![("p".to_string(), source)])
        })
        .collect();
    cases.push(("ping-pong".into(), vec![("ping".into(), PING.into()), ("pong".into(), PONG.into())]));
    let (mut points, mut runs, mut beyond) = (0, 0, 0);
    for (label, case) in &cases {
        let clean = kind.disk_with_store();
        let mut host = host_on(kind.open(&clean).expect("opens"));
        run_case(&mut host, case).unwrap_or_else(|e| panic!("{label}: the clean run failed: {e}"));
        let expected = outcome(&mut host, case);
        let operations = clean.operations();
        let offset = rng.u64(0..stride);
        for at in (1 + offset..=operations).step_by(stride as usize) {
            points += 1;
            for fault in [Fault::CrashAt(at), Fault::TearAt(at), Fault::FailAt(at)] {
                runs += 1;
                let disk = kind.disk_with_store();
                disk.inject(fault);
                if let Ok(store) = kind.open(&disk) {
                    // The run fails, or the fault comes as the store is closed (redb's last writes).
                    let _ = run_case(&mut host_on(store), case);
                }
                // redb's write pattern varies a little from run to run (the order it flushes pages
                // in), so a fault near the end may come after this run's last operation.
                if disk.operations() < at {
                    beyond += 1;
                }
                let seed = rng.u64(..);
                let recovered = if disk.crashed() { disk.after_crash(seed) } else { disk.copy() };
                let store = kind
                    .open(&recovered)
                    .unwrap_or_else(|e| panic!("{label}: {fault:?}, disk seed {seed}: the store does not reopen: {e}"));
                let mut host = host_on(store);
                run_case(&mut host, case)
                    .unwrap_or_else(|e| panic!("{label}: {fault:?}, disk seed {seed}: the recovery failed: {e}"));
                let got = outcome(&mut host, case);
                assert!(
                    got == expected,
                    "{label}: {fault:?}, disk seed {seed}: the recovered run ended differently:\n{:?}\nnot\n{:?}",
                    got.iter().map(|(s, o)| (s, String::from_utf8_lossy(o))).collect::<Vec<_>>(),
                    expected.iter().map(|(s, o)| (s, String::from_utf8_lossy(o))).collect::<Vec<_>>(),
                );
                let report = host.store().expect("the host has its store").verify().expect("verify");
                assert!(report.is_clean(), "{label}: {fault:?}: {report:?}");
            }
        }
        eprintln!("{label}: {operations} disk operations");
    }
    eprintln!(
        "{kind:?} stores: {points} crash points (every {stride}th operation) of {} cases, {runs} faulted runs \
         ({beyond} faults past the run's end), no divergence",
        cases.len()
    );
    assert!(beyond * 10 < runs, "{beyond} of {runs} faults were never reached");
}
