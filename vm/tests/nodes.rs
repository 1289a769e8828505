//! Two nodes on loopback, each `chenilles-vm serve` over its own store: a process of one sends to a
//! process of the other and gets answers, each message received exactly once, whether the nodes
//! run undisturbed or are killed (SIGKILL) and stopped (SIGSTOP) at random instants and restarted.
//! The reference is the conversation's own arithmetic: every deposit's answer is the running
//! balance, so a message lost or taken twice shows in both parties' output.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{run, text, vm, write_program};

/// How many deposits alice makes.
const DEPOSITS: u64 = 30;

/// Alice deposits 1, 2, … at bob's bank, then reads each answer.
fn alice_program() -> String {
    format!(
        r#"
(let loop ((i 1))
  (when (<= i {DEPOSITS})
    (send '(bob bank) (list 'deposit i))
    (loop (+ i 1))))
(let loop ((i 1))
  (when (<= i {DEPOSITS})
    (let ((answer (receive)))
      (write answer) (newline)
      (loop (+ i 1)))))
"#
    )
}

/// Bob's bank takes each deposit, says who made it and answers the new balance.
fn bank_program() -> String {
    format!(
        r#"
(let loop ((i 0) (balance 0))
  (when (< i {DEPOSITS})
    (let* ((m (receive-with-sender))
           (amount (cadr (cdr m)))
           (balance (+ balance amount)))
      (write (list 'from (car m) 'deposit amount)) (newline)
      (send (car m) (list 'balance balance))
      (loop (+ i 1) balance))))
"#
    )
}

fn expected_alice() -> String {
    (1..=DEPOSITS).map(|i| format!("(balance {})\n", i * (i + 1) / 2)).collect()
}

fn expected_bank() -> String {
    (1..=DEPOSITS).map(|i| format!("(from (alice alice) deposit {i})\n")).collect()
}

fn ok(command: &mut Command) -> String {
    let out = run(command);
    assert!(out.status.success(), "{:?}: {}", command, text(&out.stderr));
    text(&out.stdout)
}

/// A port free now on 127.0.0.1.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// One party: its store, its node's address, the process it runs.
struct Party {
    store: PathBuf,
    port: u16,
    id: String,
}

impl Party {
    fn new(dir: &Path, name: &str) -> Party {
        let store = dir.join(format!("{name}.redb"));
        let id = ok(vm(&store).args(["node", "id"])).trim().to_string();
        Party { store, port: free_port(), id }
    }

    fn address(&self) -> String {
        format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.port, self.id)
    }

    /// Starts its node; what the node says goes to the party's log.
    fn serve(&self) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log()).expect("log");
        vm(&self.store)
            .args(["serve", "--listen", &format!("/ip4/127.0.0.1/tcp/{}", self.port)])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("serve")
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

    fn finished(&self, name: &str) -> bool {
        common::status_of(&self.store, name) == "finished"
    }
}

/// Alice and bob, each knowing the other, with their processes started (and waiting).
fn conversation(dir: &Path) -> (Party, Party) {
    let alice = Party::new(dir, "alice");
    let bob = Party::new(dir, "bob");
    ok(vm(&alice.store).args(["peer", "add", "bob", &bob.address()]));
    ok(vm(&bob.store).args(["peer", "add", "alice", &alice.address()]));
    let bank = write_program(dir, "bank.scm", &bank_program());
    let bank = bank.to_str().expect("path");
    ok(vm(&bob.store).args(["start", "--exit-when-waiting", "--grant", "peer:alice", "--name", "bank", bank]));
    let program = write_program(dir, "alice.scm", &alice_program());
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
    let (alice, bob) = conversation(dir.path());
    let (alice_node, bob_node) = (alice.serve(), bob.serve());
    await_finished(&alice, &bob, Duration::from_secs(60));
    stop(alice_node);
    stop(bob_node);
    assert_eq!(bob.output("bank"), expected_bank(), "{}", bob.said());
    assert_eq!(alice.output("alice"), expected_alice(), "{}", alice.said());
    // Every message was acknowledged: nothing waits in either outbox.
    for party in [&alice, &bob] {
        let list = ok(vm(&party.store).args(["peer", "list"]));
        assert!(list.contains(" 0 queued "), "{list}");
    }
}
