//! Messages between two nodes on loopback, each over its own redb store (every commit durable,
//! fsync'd): how many per second go one way, how long a round trip between two processes takes,
//! and what a node holding 1,000 idle peers' channels costs while nothing happens.
//! `cargo bench -p chenilles-benches --bench network`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chenilles_durable::{Host, Limits, Options};
use chenilles_net::{Multiaddr, Node, NodeError, NodeIdentity, StoreAccess};
use chenilles_store::{BlobStore, RedbStore, StoreError, StoreWatch};
use criterion::{Criterion, criterion_group, criterion_main};

/// How many messages the one-way benchmark sends.
const ONE_WAY: u64 = 5000;
/// How many round trips the round-trip benchmark makes.
const ROUND_TRIPS: u64 = 50;

/// A node's store as a program beside it reaches it: opened again when the node takes it back.
struct Reopen {
    path: PathBuf,
    watch: StoreWatch,
}

impl StoreAccess for Reopen {
    fn open(&mut self, _runs: &[String]) -> Result<Box<dyn BlobStore>, NodeError> {
        loop {
            match RedbStore::open_existing(&self.path) {
                Ok(store) => return Ok(Box::new(store)),
                Err(StoreError::Locked { .. }) => std::thread::sleep(Duration::from_millis(1)),
                Err(error) => return Err(NodeError::Store(error.to_string())),
            }
        }
    }

    fn let_go(&mut self) {
        self.watch.changed();
    }

    fn changed(&mut self) -> bool {
        self.watch.changed()
    }
}

/// One party's store, made with its node identity and a free port.
struct Party {
    path: PathBuf,
    identity: NodeIdentity,
    port: u16,
}

impl Party {
    fn new(dir: &Path, name: &str) -> Party {
        let path = dir.join(format!("{name}.redb"));
        let mut store = RedbStore::open(&path).expect("store");
        let identity = chenilles_net::node_identity(&mut store).expect("identity");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
        Party { path, identity, port }
    }

    fn address(&self) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.port, self.identity.peer_id()).parse().expect("multiaddr")
    }

    fn know(&self, name: &str, other: &Party) {
        let mut store = RedbStore::open_existing(&self.path).expect("store");
        chenilles_net::add_peer(&mut store, name, &other.address()).expect("peer add");
    }

    /// A host over this store with `processes` (name, source, grants) spawned.
    fn host(&self, processes: &[(&str, String, &[&str])]) -> Host {
        let mut host = Host::new(Box::new(RedbStore::open_existing(&self.path).expect("store")));
        host.set_options(|_| Options::silent());
        for (name, source, grants) in processes {
            host.spawn(name)
                .source(format!("{name}.scm"), source.clone())
                .grant(grants.iter().copied())
                .start()
                .expect("spawn");
        }
        host
    }

    /// Serves `host` on a thread of its own until `stop`.
    fn serve(&self, host: Host, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        let listen: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", self.port).parse().expect("multiaddr");
        let mut node = Node::start(host, &self.identity, &[listen]).expect("node");
        node.set_limits(Limits { mailbox: u64::MAX, per_peer: u64::MAX });
        let mut access = Reopen { path: self.path.clone(), watch: StoreWatch::new(&self.path) };
        std::thread::spawn(move || node.serve(&mut access, &|| stop.load(Ordering::Relaxed)).expect("serve"))
    }

    fn finished(&self, name: &str) -> bool {
        let store = RedbStore::open_read_only(&self.path).expect("store");
        let Some(hash) = store.get_ref(&chenilles_durable::process_ref(name)).expect("ref") else { return false };
        !chenilles_durable::read_record(&store, name, hash).expect("record").status.is_running()
    }

    fn inbox_mark(&self, from: &Party) -> u64 {
        let store = RedbStore::open_read_only(&self.path).expect("store");
        chenilles_durable::inbox_mark(&store, &from.identity.peer_id().to_base58()).expect("mark")
    }
}

/// Alice and bob, knowing each other, in a fresh directory.
fn pair() -> (tempfile::TempDir, Party, Party) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (alice, bob) = (Party::new(dir.path(), "alice"), Party::new(dir.path(), "bob"));
    alice.know("bob", &bob);
    bob.know("alice", &alice);
    (dir, alice, bob)
}

/// Runs both nodes until `done` says so; returns how long that took.
fn converse(alice: (&Party, Host), bob: (&Party, Host), done: impl Fn() -> bool) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let began = Instant::now();
    let nodes = [bob.0.serve(bob.1, stop.clone()), alice.0.serve(alice.1, stop.clone())];
    while !done() {
        std::thread::sleep(Duration::from_micros(500));
    }
    let took = began.elapsed();
    stop.store(true, Ordering::Relaxed);
    for node in nodes {
        node.join().expect("node thread");
    }
    took
}

fn network(c: &mut Criterion) {
    let mut group = c.benchmark_group("network");
    group.sample_size(10);
    group.bench_function(format!("{ONE_WAY} messages one way, durable at the receiver"), |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (_dir, alice, bob) = pair();
                let source = format!(
                    "(let loop ((i 0)) (when (< i {ONE_WAY}) (send '(bob sink) (list 'payment i)) (loop (+ i 1))))"
                );
                let alice_host = alice.host(&[("source", source, &["peer:bob"])]);
                // The sink takes one message and ends: the rest wait in its mailbox, as committed.
                let bob_host = bob.host(&[("sink", "(receive)".to_string(), &[])]);
                total += converse((&alice, alice_host), (&bob, bob_host), || bob.inbox_mark(&alice) == ONE_WAY);
            }
            total
        });
    });
    group.bench_function(format!("{ROUND_TRIPS} round trips between two processes"), |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (_dir, alice, bob) = pair();
                let pinger = format!("(let loop ((i 0)) (when (< i {ROUND_TRIPS}) (send '(bob echo) i) (receive) (loop (+ i 1))))");
                let echo = format!(
                    "(let loop ((i 0)) (when (< i {ROUND_TRIPS}) (let ((m (receive-with-sender))) (send (car m) (cdr m))) (loop (+ i 1))))"
                );
                let alice_host = alice.host(&[("pinger", pinger, &["peer:bob"])]);
                let bob_host = bob.host(&[("echo", echo, &["peer:alice"])]);
                let took = converse((&alice, alice_host), (&bob, bob_host), || alice.finished("pinger"));
                total += took / ROUND_TRIPS as u32;
            }
            total
        });
    });
    group.finish();
    // Five seconds of idleness measured: only when benchmarking (`cargo bench` passes --bench),
    // not in the test mode CI runs.
    if std::env::args().any(|a| a == "--bench") {
        idle_peers();
    }
}

/// A node with 1,000 peers, each channel used once and idle since: the share of a core it takes
/// over five seconds of nothing happening (printed; criterion does not time idleness).
fn idle_peers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = Party::new(dir.path(), "hub");
    {
        let mut store = RedbStore::open_existing(&node.path).expect("store");
        for i in 0..1000 {
            let other = chenilles_net::node_identity(&mut chenilles_store::MemoryStore::default()).expect("identity");
            let address: Multiaddr =
                format!("/ip4/127.0.0.1/tcp/9/p2p/{}", other.peer_id()).parse().expect("multiaddr");
            chenilles_net::add_peer(&mut store, &format!("peer-{i}"), &address).expect("peer add");
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let served = node.serve(node.host(&[]), stop.clone());
    std::thread::sleep(Duration::from_secs(1));
    let before = cpu_seconds();
    let began = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    let share = (cpu_seconds() - before) / began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    served.join().expect("node thread");
    eprintln!("network/a node holding 1,000 idle peers: {:.3}% of a core", share * 100.0);
}

/// The CPU time this process has used (user and system), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum());
    ticks / 100.0
}

criterion_group!(benches, network);
criterion_main!(benches);
