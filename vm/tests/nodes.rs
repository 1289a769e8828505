//! Two nodes on loopback, each `chenilles-vm serve` over its own store: a process of one sends to a
//! process of the other and gets answers, each message received exactly once, whether the nodes
//! run undisturbed or are killed (SIGKILL) and stopped (SIGSTOP) at random instants and restarted.
//! The reference is the conversation's own arithmetic: every deposit's answer is the running
//! balance, so a message lost or taken twice shows in both parties' output. The examples of
//! `examples-scm/channel/` (two nodes) and `examples-scm/escrow/` (three) run the same way, their
//! disturbed outputs compared with undisturbed runs'.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{ok, vm, write_program};

/// How many deposits alice makes in an undisturbed conversation.
const DEPOSITS: u64 = 30;
/// How many while the nodes are killed and stopped: enough round trips for many disturbances.
const DISTURBED_DEPOSITS: u64 = 150;

/// Alice deposits 1, 2, … at bob's bank: all at once, then reads each answer; or
/// (`in_turn`) each deposit after the answer to the one before, a round trip each.
fn alice_program(in_turn: bool, deposits: u64) -> String {
    if in_turn {
        return format!(
            r#"
(let loop ((i 1))
  (when (<= i {deposits})
    (send '(bob bank) (list 'deposit i))
    (write (receive)) (newline)
    (loop (+ i 1))))
"#
        );
    }
    format!(
        r#"
(let loop ((i 1))
  (when (<= i {deposits})
    (send '(bob bank) (list 'deposit i))
    (loop (+ i 1))))
(let loop ((i 1))
  (when (<= i {deposits})
    (let ((answer (receive)))
      (write answer) (newline)
      (loop (+ i 1)))))
"#
    )
}

/// Bob's bank takes each deposit, says who made it and answers the new balance.
fn bank_program(deposits: u64) -> String {
    format!(
        r#"
(let loop ((i 0) (balance 0))
  (when (< i {deposits})
    (let* ((m (receive-with-sender))
           (amount (cadr (cdr m)))
           (balance (+ balance amount)))
      (write (list 'from (car m) 'deposit amount)) (newline)
      (send (car m) (list 'balance balance))
      (loop (+ i 1) balance))))
"#
    )
}

fn expected_alice(deposits: u64) -> String {
    (1..=deposits).map(|i| format!("(balance {})\n", i * (i + 1) / 2)).collect()
}

fn expected_bank(deposits: u64) -> String {
    (1..=deposits).map(|i| format!("(from (alice alice) deposit {i})\n")).collect()
}

/// A port free now on 127.0.0.1.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// One party: its store, its node's address, the process it runs.
#[derive(Clone)]
struct Party {
    store: PathBuf,
    port: u16,
    id: String,
    /// The relay it listens through, if it is reached only there (its peer id and port).
    behind: Option<(String, u16)>,
    /// Whether it relays for others.
    relays: bool,
}

impl Party {
    fn new(dir: &Path, name: &str) -> Party {
        let store = dir.join(format!("{name}.redb"));
        let id = ok(vm(&store).args(["node", "id"])).trim().to_string();
        Party { store, port: free_port(), id, behind: None, relays: false }
    }

    /// Where it listens: its own port, or a circuit at its relay.
    fn listen(&self) -> String {
        match &self.behind {
            None => format!("/ip4/127.0.0.1/tcp/{}", self.port),
            Some((relay, port)) => format!("/ip4/127.0.0.1/tcp/{port}/p2p/{relay}/p2p-circuit"),
        }
    }

    fn address(&self) -> String {
        format!("{}/p2p/{}", self.listen(), self.id)
    }

    /// Starts its node; what the node says goes to the party's log.
    fn serve(&self) -> Child {
        self.serve_crashing_at(None)
    }

    /// Starts its node, to kill itself at a disk operation (`CHENILLES_CRASH_AT_DISK_OP`) if one
    /// is given: mid-commit, with that write torn if it says `:torn`.
    fn serve_crashing_at(&self, disk_op: Option<&str>) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log()).expect("log");
        let mut command = vm(&self.store);
        if let Some(disk_op) = disk_op {
            command.env("CHENILLES_CRASH_AT_DISK_OP", disk_op);
        }
        command.args(["serve", "--listen", &self.listen()]);
        if self.relays {
            command.arg("--relay");
        }
        command.stdout(Stdio::null()).stderr(log).spawn().expect("serve")
    }

    fn log(&self) -> PathBuf {
        self.store.with_extension("log")
    }

    fn said(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    fn output(&self, name: &str) -> String {
        ok(vm(&self.store).args(["output", name]))
    }

    /// Whether process `name` has finished, as `ps --wait` says (a node killed mid-commit leaves
    /// a store that the next open recovers, holding it meanwhile: `ps` waits for that).
    fn finished(&self, name: &str) -> bool {
        let ps = ok(vm(&self.store).args(["ps", "--wait"]));
        ps.lines().any(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some(name) && words.next() == Some("finished")
        })
    }
}

/// Alice and bob, each knowing the other, with their processes started (and waiting).
fn conversation(dir: &Path, in_turn: bool, deposits: u64) -> (Party, Party) {
    conversation_between(dir, in_turn, deposits, Party::new(dir, "alice"), Party::new(dir, "bob"))
}

fn conversation_between(dir: &Path, in_turn: bool, deposits: u64, alice: Party, bob: Party) -> (Party, Party) {
    ok(vm(&alice.store).args(["peer", "add", "bob", &bob.address()]));
    ok(vm(&bob.store).args(["peer", "add", "alice", &alice.address()]));
    let bank = write_program(dir, "bank.scm", &bank_program(deposits));
    let bank = bank.to_str().expect("path");
    ok(vm(&bob.store).args(["start", "--exit-when-waiting", "--grant", "peer:alice", "--name", "bank", bank]));
    let program = write_program(dir, "alice.scm", &alice_program(in_turn, deposits));
    let program = program.to_str().expect("path");
    ok(vm(&alice.store).args(["start", "--exit-when-waiting", "--grant", "peer:bob", "--name", "alice", program]));
    (alice, bob)
}

/// Stops a node as a person would (SIGTERM) and waits for it.
fn stop(child: Child) {
    common::signal(&child, "TERM");
    let out = common::finish_within(child, Duration::from_secs(30), "serve");
    assert!(out.status.success(), "serve stopped by SIGTERM: {}", out.status);
}

/// Waits until both processes finished; panics after `limit`, with what each node said.
fn await_finished(alice: &Party, bob: &Party, limit: Duration) {
    let began = Instant::now();
    while !(alice.finished("alice") && bob.finished("bank")) {
        assert!(
            began.elapsed() < limit,
            "not finished after {limit:?}: alice {}, bank {}\nalice's node:\n{}\nbob's node:\n{}",
            common::status_of(&alice.store, "alice"),
            common::status_of(&bob.store, "bank"),
            alice.said(),
            bob.said()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_nodes_carry_a_conversation_each_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = conversation(dir.path(), false, DEPOSITS);
    let (alice_node, bob_node) = (alice.serve(), bob.serve());
    await_finished(&alice, &bob, Duration::from_secs(60));
    stop(alice_node);
    stop(bob_node);
    assert_eq!(bob.output("bank"), expected_bank(DEPOSITS), "{}", bob.said());
    assert_eq!(alice.output("alice"), expected_alice(DEPOSITS), "{}", alice.said());
    // Every message was acknowledged: nothing waits in either outbox.
    for party in [&alice, &bob] {
        let list = ok(vm(&party.store).args(["peer", "list"]));
        assert!(list.contains(" 0 queued "), "{list}");
    }
}

/// A node the chaos below kills, stops and restarts.
struct Served {
    party: Party,
    node: Option<Child>,
}

impl Served {
    fn kill(&mut self) {
        if let Some(mut node) = self.node.take() {
            let _ = node.kill();
            let _ = node.wait();
        }
    }

    fn restart(&mut self) {
        self.kill();
        self.node = Some(self.party.serve());
    }

    /// How its node ended, if it ended by itself (armed to crash at a disk operation, it kills
    /// itself: anything else is a failure).
    fn ended(&mut self) -> Option<std::process::ExitStatus> {
        self.node.as_mut().and_then(|node| node.try_wait().ok().flatten())
    }
}

/// Serves `parties` on a thread that, until `done`, SIGKILLs and restarts a random one (2 times in
/// 3) or SIGSTOPs it for up to a second, every 5 to 120 ms; one restart in four arms the node to
/// kill itself at one of its next 300 disk operations (mid-commit; half of them with that write
/// torn), and a node that did is started again.
fn disturb(
    parties: Vec<Party>,
    seed: u64,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Chaos> {
    let mut nodes: Vec<Served> = parties.into_iter().map(|party| Served { party, node: None }).collect();
    std::thread::spawn(move || {
        let mut rng = fastrand::Rng::with_seed(seed);
        for node in &mut nodes {
            node.restart();
        }
        let (mut kills, mut stops, mut at_disk_ops) = (0, 0, 0);
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(rng.u64(5..120)));
            for node in &mut nodes {
                if let Some(status) = node.ended() {
                    use std::os::unix::process::ExitStatusExt;
                    assert_eq!(
                        status.signal(),
                        Some(9),
                        "seed {seed}: a node ended by itself: {status}\n{}",
                        node.party.said()
                    );
                    at_disk_ops += 1;
                    node.restart();
                }
            }
            let count = nodes.len();
            let node = &mut nodes[rng.usize(0..count)];
            if rng.u8(0..3) < 2 {
                node.kill();
                kills += 1;
                std::thread::sleep(Duration::from_millis(rng.u64(0..100)));
                if rng.u8(0..4) == 0 {
                    let torn = if rng.bool() { ":torn" } else { "" };
                    node.node = Some(node.party.serve_crashing_at(Some(&format!("{}{torn}", rng.u64(1..300)))));
                } else {
                    node.restart();
                }
            } else if let Some(child) = &node.node {
                common::signal(child, "STOP");
                stops += 1;
                std::thread::sleep(Duration::from_millis(rng.u64(50..1000)));
                common::signal(child, "CONT");
            }
        }
        for node in &mut nodes {
            node.kill();
        }
        Chaos { kills, stops, at_disk_ops }
    })
}

/// What the disturbing thread did.
#[derive(Debug, Default, Clone, Copy)]
struct Chaos {
    /// Nodes killed at random instants.
    kills: u32,
    /// Nodes stopped for a while.
    stops: u32,
    /// Nodes that killed themselves at a disk operation, as armed.
    at_disk_ops: u32,
}

/// Both nodes are SIGKILLed and restarted, or SIGSTOPped for a while (the link cut: the other
/// side's batches fail and are sent again), at random instants, start-up and commits included,
/// until the conversation ends; then it must be what an undisturbed run says, each message
/// received once.
#[test]
fn nodes_killed_and_stopped_at_random_instants_lose_and_repeat_nothing() {
    let seed = common::seed("CHENILLES_NODES_SEED", "nodes");
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = conversation(dir.path(), true, DISTURBED_DEPOSITS);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let chaos = disturb(vec![alice.clone(), bob.clone()], seed, done.clone());
    let began = Instant::now();
    let limit = Duration::from_secs(150);
    while !(alice.finished("alice") && bob.finished("bank")) && began.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(100));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let Chaos { kills, stops, at_disk_ops } = chaos.join().expect("the chaos thread");
    assert!(
        alice.finished("alice") && bob.finished("bank"),
        "seed {seed}: not finished after {limit:?} ({kills} kills, {stops} stops, {at_disk_ops} at disk operations): alice {}, bank {}\n\
         alice's node:\n{}\nbob's node:\n{}",
        common::status_of(&alice.store, "alice"),
        common::status_of(&bob.store, "bank"),
        alice.said(),
        bob.said()
    );
    eprintln!(
        "seed {seed}: finished after {kills} kills, {at_disk_ops} at disk operations (mid-commit) and {stops} stops in {:?}",
        began.elapsed()
    );
    assert_eq!(bob.output("bank"), expected_bank(DISTURBED_DEPOSITS), "seed {seed}\n{}", bob.said());
    assert_eq!(alice.output("alice"), expected_alice(DISTURBED_DEPOSITS), "seed {seed}\n{}", alice.said());
    assert!(kills + stops > 0, "seed {seed}: the conversation ended before any disturbance");
    assert!(at_disk_ops > 0, "seed {seed}: no node was killed at a disk operation");
}

/// One party of an example: its node's name, its process, its program under `examples-scm/`, and
/// the peers it knows.
struct Role {
    node: &'static str,
    process: &'static str,
    program: &'static str,
    knows: &'static [&'static str],
}

const CHANNEL: &[Role] = &[
    Role { node: "alice", process: "alice", program: "channel/alice.scm", knows: &["bob"] },
    Role { node: "bob", process: "bob", program: "channel/bob.scm", knows: &["alice"] },
];

const ESCROW: &[Role] = &[
    Role { node: "alice", process: "buyer", program: "escrow/buyer.scm", knows: &["carol"] },
    Role { node: "bob", process: "seller", program: "escrow/seller.scm", knows: &["carol"] },
    Role { node: "carol", process: "escrow", program: "escrow/escrow.scm", knows: &["alice", "bob"] },
];

/// The example's parties, each knowing its peers, their processes started (and waiting).
fn example_parties(dir: &Path, roles: &[Role]) -> Vec<Party> {
    let parties: Vec<Party> = roles.iter().map(|role| Party::new(dir, role.node)).collect();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-scm");
    for (role, party) in roles.iter().zip(&parties) {
        let mut start = vm(&party.store);
        start.args(["start", "--exit-when-waiting", "--name", role.process]);
        for peer in role.knows {
            let other = roles.iter().position(|r| r.node == *peer).map(|i| &parties[i]).expect("a party");
            ok(vm(&party.store).args(["peer", "add", peer, &other.address()]));
            start.args(["--grant", &format!("peer:{peer}")]);
        }
        ok(start.arg(examples.join(role.program)));
    }
    parties
}

/// Runs the example until each process has finished, the nodes disturbed (`seed`) or not;
/// returns each process's output, and what disturbed them.
fn run_example(roles: &[Role], seed: Option<u64>) -> (Vec<String>, Chaos) {
    let dir = tempfile::tempdir().unwrap();
    let parties = example_parties(dir.path(), roles);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (chaos, quiet) = match seed {
        Some(seed) => (Some(disturb(parties.clone(), seed, done.clone())), Vec::new()),
        None => (None, parties.iter().map(Party::serve).collect::<Vec<_>>()),
    };
    let finished = || roles.iter().zip(&parties).all(|(role, party)| party.finished(role.process));
    let began = Instant::now();
    while !finished() && began.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(100));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let disturbed = chaos.map(|chaos| chaos.join().expect("the chaos thread"));
    quiet.into_iter().for_each(stop);
    let said: Vec<String> = parties.iter().map(|p| format!("{}'s node:\n{}", p.store.display(), p.said())).collect();
    assert!(finished(), "seed {seed:?}: not finished after 120 s ({disturbed:?})\n{}", said.join("\n"));
    let outputs = roles.iter().zip(&parties).map(|(role, party)| party.output(role.process)).collect();
    (outputs, disturbed.unwrap_or_default())
}

/// Each example is short: it is run disturbed again (each time with the next seed) until its
/// nodes were killed at least 10 times in all.
#[test]
fn the_examples_between_nodes_survive_kills_and_stops() {
    let seed = common::seed("CHENILLES_NODES_SEED", "examples between nodes");
    for (roles, what) in [(CHANNEL, "payment channel"), (ESCROW, "escrow")] {
        let (undisturbed, _) = run_example(roles, None);
        assert!(undisturbed.iter().all(|output| !output.is_empty()), "{what}: {undisturbed:?}");
        assert!(undisturbed.iter().all(|output| !output.contains("refused")), "{what}: {undisturbed:?}");
        let (mut kills, mut stops, mut runs) = (0, 0, 0);
        while kills < 10 && runs < 30 {
            let (outputs, chaos) = run_example(roles, Some(seed.wrapping_add(runs)));
            assert_eq!(outputs, undisturbed, "{what}, seed {}: disturbed vs undisturbed", seed.wrapping_add(runs));
            (kills, stops, runs) = (kills + chaos.kills + chaos.at_disk_ops, stops + chaos.stops, runs + 1);
        }
        eprintln!(
            "{what}: {runs} disturbed runs from seed {seed}, {kills} kills and {stops} stops, outputs as undisturbed"
        );
        assert!(kills >= 10, "{what}: only {kills} kills in {runs} runs");
    }
}

/// Alice and bob reach each other only through a relay, which is stopped for a while and then
/// killed and restarted mid-conversation: the conversation waits, and goes on, each message once.
#[test]
fn a_conversation_through_a_relay_survives_the_relay_stopping_and_restarting() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = Party::new(dir.path(), "relay");
    relay.relays = true;
    let behind = |name: &str| Party { behind: Some((relay.id.clone(), relay.port)), ..Party::new(dir.path(), name) };
    let (alice, bob) = conversation_between(dir.path(), true, 40, behind("alice"), behind("bob"));
    let mut relay_node = relay.serve();
    let (alice_node, bob_node) = (alice.serve(), bob.serve());
    let progress = || ok(vm(&alice.store).args(["output", "alice"])).lines().count();
    let began = Instant::now();
    while progress() < 10 {
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "no progress through the relay:\n{}\n{}",
            alice.said(),
            relay.said()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    common::signal(&relay_node, "STOP");
    std::thread::sleep(Duration::from_millis(1500));
    common::signal(&relay_node, "CONT");
    let resumed = progress();
    let _ = relay_node.kill();
    let _ = relay_node.wait();
    std::thread::sleep(Duration::from_millis(300));
    relay_node = relay.serve();
    await_finished(&alice, &bob, Duration::from_secs(120));
    eprintln!("through the relay: {resumed} answers before its kill, all 40 once it was back");
    for node in [alice_node, bob_node, relay_node] {
        stop(node);
    }
    assert_eq!(bob.output("bank"), expected_bank(40), "{}", bob.said());
    assert_eq!(alice.output("alice"), expected_alice(40), "{}", alice.said());
}

/// While a node serves a store, the other commands still work on it: `send` delivers to a
/// process the node runs, `start` adds a process the node then runs, `ps` lists them.
#[test]
fn commands_work_on_a_store_a_node_serves() {
    let dir = tempfile::tempdir().unwrap();
    let party = Party::new(dir.path(), "solo");
    let echo = write_program(
        dir.path(),
        "echo.scm",
        "(let loop () (let ((m (receive))) (write m) (newline) (unless (eq? m 'stop) (loop))))",
    );
    ok(vm(&party.store).args(["start", "--exit-when-waiting", "--name", "echo", echo.to_str().unwrap()]));
    let node = party.serve();
    for word in ["one", "two"] {
        ok(vm(&party.store).args(["send", "echo", word]));
        std::thread::sleep(Duration::from_millis(150));
    }
    let late = write_program(dir.path(), "late.scm", "(send 'echo (list 'from 'late (receive)))");
    ok(vm(&party.store).args(["start", "--exit-when-waiting", "--name", "late", late.to_str().unwrap()]));
    ok(vm(&party.store).args(["send", "late", "hello"]));
    let began = Instant::now();
    while !ok(vm(&party.store).args(["output", "echo"])).contains("(from late hello)") {
        assert!(began.elapsed() < Duration::from_secs(30), "the node did not run late:\n{}", party.said());
        std::thread::sleep(Duration::from_millis(50));
    }
    ok(vm(&party.store).args(["send", "echo", "stop"]));
    while !party.finished("echo") {
        assert!(began.elapsed() < Duration::from_secs(30), "echo did not finish:\n{}", party.said());
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(node);
    assert_eq!(party.output("echo"), "one\ntwo\n(from late hello)\nstop\n");
    assert!(party.finished("late"));
}
