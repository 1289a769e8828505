//! A node under attack: a peer the store knows (mallory) speaks the protocol and sends garbage,
//! a forged sender name, replays, gaps, oversized and overfull batches and a flood; a peer it does
//! not know and a raw TCP client try too. The node refuses each, says so, keeps serving the honest
//! peer (alice), delivers each of her messages once, and holds no more of mallory's flood than
//! its quota in the flooded mailbox, where alice's messages still get in.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use chenilles_net::{Event, NodeIdentity, PeerId, RequestId, Transport, WireBatch, WireMessage, WireReply};
use chenilles_store::MemoryStore;
use common::{ok, vm, write_program};

/// A client node with a fresh identity (kept in a store of its own, in memory).
fn client() -> (NodeIdentity, Transport) {
    let identity = chenilles_net::node_identity(&mut MemoryStore::default()).expect("an identity");
    let transport = Transport::start(identity.keypair().clone(), &[]).expect("a transport");
    (identity, transport)
}

fn message(seq: u64, from: &str, to: &str, text: &str) -> WireMessage {
    WireMessage { seq, from: from.into(), to: to.into(), text: text.into() }
}

/// Sends `messages` to the node and waits for its answer: `Ok(reply)`, or `Err(why)` when the
/// request failed (the node did not answer it).
fn ask(
    client: &Transport,
    node: (PeerId, &chenilles_net::Multiaddr),
    messages: Vec<WireMessage>,
) -> Result<WireReply, String> {
    let request: RequestId = client.send(node.0, vec![node.1.clone()], WireBatch { messages });
    loop {
        match client.events().recv_timeout(Duration::from_secs(30)).expect("an answer within 30 s") {
            Event::Replied { request: r, reply, .. } if r == request => return Ok(reply),
            Event::Failed { request: r, error, .. } if r == request => return Err(error),
            _ => {}
        }
    }
}

/// How many messages wait in process `name`'s mailbox, as `ps --json` says.
fn mail_of(store: &Path, name: &str) -> u64 {
    let ps: serde_json::Value = serde_json::from_str(&ok(vm(store).args(["ps", "--json"]))).expect("JSON");
    let process = ps.as_array().and_then(|all| all.iter().find(|p| p["name"] == name)).expect("listed");
    process["messages_waiting"].as_u64().expect("a count")
}

#[test]
fn a_node_refuses_a_hostile_peer_and_keeps_serving_the_honest_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("bob.redb");
    let bank =
        "(let loop () (let ((m (receive-with-sender))) (unless (eq? (cdr m) 'stop) (write m) (newline) (loop))))";
    let bank = write_program(dir.path(), "bank.scm", bank);
    ok(vm(&store).args(["start", "--exit-when-waiting", "--name", "bank", bank.to_str().unwrap()]));
    let done = write_program(dir.path(), "done.scm", "(display 'done)");
    ok(vm(&store).args(["start", "--name", "done", done.to_str().unwrap()]));
    let (alice_id, alice) = client();
    let (mallory_id, mallory) = client();
    let (_, stranger) = client();
    for (name, id) in [("alice", alice_id.peer_id()), ("mallory", mallory_id.peer_id())] {
        ok(vm(&store).args(["peer", "add", name, &format!("/ip4/127.0.0.1/tcp/9/p2p/{id}")]));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.path().join("node.log");
    let node: Child = vm(&store)
        .args(["serve", "--listen", &format!("/ip4/127.0.0.1/tcp/{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let bob_id: PeerId = ok(vm(&store).args(["node", "id"])).trim().parse().unwrap();
    let address: chenilles_net::Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap();
    let bob = (bob_id, &address);
    // The node may not listen yet: alice's first batch is sent again until it is answered.
    let first = vec![message(0, "alice", "bank", "(deposit 1)"), message(1, "alice", "bank", "(deposit 2)")];
    let mut answer = ask(&alice, bob, first.clone());
    for _ in 0..100 {
        if answer.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        answer = ask(&alice, bob, first.clone());
    }
    assert_eq!(answer, Ok(WireReply::Ack { mark: 2 }));

    // A stranger is refused, whatever it sends.
    let refused = ask(&stranger, bob, vec![message(0, "alice", "bank", "(deposit 100)")]);
    assert!(
        matches!(&refused, Ok(WireReply::Refused { reason, .. }) if reason.contains("does not know")),
        "{refused:?}"
    );
    // Garbage on a raw TCP connection.
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = raw.write_all(b"GET / HTTP/1.1\r\n\r\n\x00\xff garbage");
    drop(raw);

    // Mallory: a text that is not one datum, names that cannot be processes, too many messages
    // in one batch, numbers that do not increase: refused whole.
    let too_many: Vec<WireMessage> = (0..1025).map(|s| message(s, "m", "bank", "1")).collect();
    for batch in [
        vec![message(0, "m", "bank", "(unclosed")],
        vec![message(0, "m", "a/b", "1")],
        vec![message(0, "m\n", "bank", "1")],
        too_many,
        vec![message(0, "m", "bank", "1"), message(0, "m", "bank", "2")],
    ] {
        let reply = ask(&mallory, bob, batch);
        assert!(matches!(reply, Ok(WireReply::Refused { mark: 0, .. })), "{reply:?}");
    }
    // A batch beyond the transport's limit is not even answered.
    let huge = vec![message(0, "m", "bank", &format!("\"{}\"", "x".repeat(5 << 20)))];
    assert!(ask(&mallory, bob, huge).is_err());
    // A forged sender name: the message is mallory's, whatever it says.
    assert_eq!(ask(&mallory, bob, vec![message(0, "alice", "bank", "(deposit 1000)")]), Ok(WireReply::Ack { mark: 1 }));
    // A replay and a gap change nothing.
    assert_eq!(ask(&mallory, bob, vec![message(0, "alice", "bank", "(deposit 1000)")]), Ok(WireReply::Ack { mark: 1 }));
    assert_eq!(ask(&mallory, bob, vec![message(7, "alice", "bank", "(deposit 7)")]), Ok(WireReply::Ack { mark: 1 }));
    // A flood into a mailbox nobody reads: taken up to mallory's quota there, then held back.
    let quota = chenilles_durable::PEER_QUOTA;
    let mut mark = 1;
    loop {
        let batch: Vec<WireMessage> = (mark..mark + 300).map(|s| message(s, "m", "done", "(spam)")).collect();
        let Ok(WireReply::Ack { mark: next }) = ask(&mallory, bob, batch) else { panic!("the flood is answered") };
        if next == mark {
            break;
        }
        mark = next;
        assert!(mark <= 1 + quota, "took {mark} messages, beyond the quota");
    }
    assert_eq!(mark, 1 + quota, "the flood fills mallory's share of the mailbox, no further");
    assert_eq!(mail_of(&store, "done"), quota);

    // Alice is served as before, in the flooded mailbox too.
    let more = vec![message(2, "alice", "bank", "(deposit 3)"), message(3, "alice", "done", "(hello)")];
    assert_eq!(ask(&alice, bob, more), Ok(WireReply::Ack { mark: 4 }));
    assert_eq!(mail_of(&store, "done"), quota + 1);
    ok(vm(&store).args(["send", "bank", "stop"]));
    let began = std::time::Instant::now();
    while common::status_of(&store, "bank") != "finished" {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "bank did not finish: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        ok(vm(&store).args(["output", "bank"])),
        "((alice alice) deposit 1)\n((alice alice) deposit 2)\n((mallory alice) deposit 1000)\n((alice alice) deposit 3)\n"
    );
    // Each refusal was said, and the node is still running.
    let said = std::fs::read_to_string(&log).unwrap();
    for needle in
        ["does not know", "not one datum", "in one batch", "do not increase", "was expected", "holds this peer's quota"]
    {
        assert!(said.contains(needle), "the node's log does not say {needle:?}:\n{said}");
    }
    common::signal(&node, "TERM");
    let out = common::finish_within(node, Duration::from_secs(30), "serve");
    assert!(out.status.success(), "the node survived everything and stopped cleanly: {}", out.status);
}
