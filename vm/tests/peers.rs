//! `node id` and `peer add | list | remove` through the command line: a store's peer id is made
//! once and kept (encrypted when the store is); peers are named, listed and forgotten; whatever a
//! command refuses leaves the store byte for byte as it was.

mod common;

use std::path::Path;

use common::{init_encrypted, ok, run, text, vm};

fn node_id(store: &Path) -> String {
    ok(vm(store).args(["node", "id"])).trim().to_string()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[test]
fn a_store_keeps_one_peer_id_through_copies_and_gc() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("a.redb");
    let id = node_id(&store);
    assert!(id.starts_with("12D3KooW"), "{id}");
    assert_eq!(node_id(&store), id, "asked again, the same");
    ok(vm(&store).arg("gc"));
    assert_eq!(node_id(&store), id, "gc keeps the key");
    let copy = dir.path().join("copy.redb");
    std::fs::copy(&store, &copy).unwrap();
    assert_eq!(node_id(&copy), id, "a copy of the store is the same node");
    assert_ne!(node_id(&dir.path().join("other.redb")), id, "another store is another node");
}

#[test]
fn peers_are_named_listed_and_forgotten_and_refusals_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bob_store) = (dir.path().join("alice.redb"), dir.path().join("bob.redb"));
    let own = node_id(&store);
    let bob = node_id(&bob_store);
    let at = |port: u16, id: &str| format!("/ip4/127.0.0.1/tcp/{port}/p2p/{id}");
    let out = ok(vm(&store).args(["peer", "add", "bob", &at(4001, &bob)]));
    assert!(out.is_empty());
    ok(vm(&store).args(["peer", "add", "bob", &at(4002, &bob)]));
    assert_eq!(
        ok(vm(&store).args(["peer", "list"])),
        format!("bob  {bob}  0 queued  /ip4/127.0.0.1/tcp/4001 /ip4/127.0.0.1/tcp/4002\n")
    );
    let before = std::fs::read(&store).unwrap();
    let refused: [(&[&str], &str); 7] = [
        (&["peer", "add", "robert", &at(4001, &bob)], "is already the peer \"bob\""),
        (&["peer", "add", "bob", &at(4001, &own)], "this store's own node"),
        (&["peer", "add", "me", &at(4001, &own)], "this store's own node"),
        (&["peer", "add", "carol", "/ip4/127.0.0.1/tcp/4001"], "does not end with /p2p/"),
        (&["peer", "add", "carol", "not an address"], "is not a multiaddr"),
        (&["peer", "add", "a/b", &at(4001, &bob)], "holds a `/`"),
        (&["peer", "remove", "carol"], "no peer is named \"carol\""),
    ];
    for (args, expected) in refused {
        let out = run(vm(&store).args(args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).starts_with("error: ") && text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(std::fs::read(&store).unwrap(), before, "{args:?}: the store is unchanged");
    }
    let out = run(vm(&store).args(["peer", "remove", "bob"]));
    assert!(text(&out.stderr).contains(&format!("forgot peer bob ({bob})")), "{}", text(&out.stderr));
    assert_eq!(ok(vm(&store).args(["peer", "list"])), "");
}

#[test]
fn an_encrypted_store_keeps_its_node_key_and_peers_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sealed.redb");
    init_encrypted(&store);
    let own = node_id(&store);
    let bob = node_id(&dir.path().join("bob.redb"));
    ok(vm(&store).args(["peer", "add", "bobby-tables", &format!("/ip4/127.0.0.1/tcp/4917/p2p/{bob}")]));
    assert_eq!(node_id(&store), own);
    let raw = std::fs::read(&store).unwrap();
    for needle in ["chenilles node key", "node/key", "peer/", "bobby-tables", "4917", &bob, &own] {
        assert!(!contains(&raw, needle.as_bytes()), "the file holds {needle:?} in clear");
    }
    // Without the password, nothing of it is told.
    let out = run(vm(&store).args(["node", "id"]).env_remove("CHENILLES_PASSWORD"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(&own));
}

/// Sends 12 messages to process `ledger` at peer `bob`, each after some work, printing as it goes.
const SENDER: &str = r#"
(import (scheme base) (scheme write))
(define (work n) (let loop ((i 0) (acc 0)) (if (= i 200000) acc (loop (+ i 1) (+ acc (* i n))))))
(let loop ((n 0))
  (when (< n 12)
    (let ((result (work n)))
      (send '(bob ledger) (list 'entry n result))
      (display n) (newline)
      (loop (+ n 1)))))
"#;

fn expected_outbox() -> Vec<(u64, String, String, String)> {
    (0..12u64)
        .map(|n| {
            let result: u64 = (0..200_000u64).map(|i| i * n).sum();
            (n, "sender".to_string(), "ledger".to_string(), format!("(entry {n} {result})"))
        })
        .collect()
}

fn outbox_of(store: &Path, peer: &str) -> chenilles_durable::Outbox {
    let store = chenilles_store::RedbStore::open_with(
        store,
        chenilles_store::Mode::ReadOnly,
        &chenilles_store::Unlock::password(common::PASSWORD.to_string().into()),
    )
    .unwrap();
    chenilles_durable::read_outbox(&store, peer).unwrap()
}

fn as_tuples(outbox: &chenilles_durable::Outbox) -> Vec<(u64, String, String, String)> {
    outbox.messages.iter().map(|m| (m.seq, m.from.clone(), m.to.clone(), m.text.clone())).collect()
}

#[test]
fn a_send_to_a_peer_needs_its_grant_and_waits_in_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("alice.redb");
    let program = common::write_program(dir.path(), "sender.scm", SENDER);
    let out = run(vm(&store).args(["start", "--name", "sender"]).arg(&program));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("capability peer:bob was not granted"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--grant peer:bob"), "{}", text(&out.stderr));
    assert!(outbox_of(&store, "bob").messages.is_empty());
    ok(vm(&store).args(["rm", "sender"]));
    ok(vm(&store).args(["start", "--name", "sender", "--grant", "peer:bob"]).arg(&program));
    let outbox = outbox_of(&store, "bob");
    assert_eq!(as_tuples(&outbox), expected_outbox());
    assert_eq!((outbox.next_seq, outbox.acked), (12, 0));
    // Named later, the peer is listed with what waits for it.
    let bob = node_id(&dir.path().join("bob.redb"));
    ok(vm(&store).args(["peer", "add", "bob", &format!("/ip4/127.0.0.1/tcp/4001/p2p/{bob}")]));
    assert_eq!(ok(vm(&store).args(["peer", "list"])), format!("bob  {bob}  12 queued  /ip4/127.0.0.1/tcp/4001\n"));
    let out = run(vm(&store).args(["start", "--grant", "peer:a b"]).arg(&program));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn sends_to_a_peer_killed_at_random_instants_are_each_queued_once() {
    let dir = tempfile::tempdir().unwrap();
    let program = common::write_program(dir.path(), "sender.scm", SENDER);
    let mut rng = fastrand::Rng::with_seed(common::seed("CHENILLES_CRASH_SEED", "peer sends"));
    let rounds: usize = std::env::var("CHENILLES_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let reference = dir.path().join("reference.redb");
    let started = std::time::Instant::now();
    // Sends to peers are grouped into the process's checkpoints: commit every 5 ms, so that most
    // kills below come after some progress.
    let every = ["--checkpoint-every", "5"];
    ok(vm(&reference).args(["start", "--name", "sender", "--grant", "peer:bob"]).args(every).arg(&program));
    let span = started.elapsed();
    let expected_output = ok(vm(&reference).args(["output", "sender"]));
    let mut kills = 0;
    for round in 0..2 * rounds {
        let store = dir.path().join(format!("killed-{round}.redb"));
        if round % 2 == 1 {
            init_encrypted(&store);
        }
        let mut first = true;
        loop {
            let mut command = vm(&store);
            if first {
                command.args(["start", "--name", "sender", "--grant", "peer:bob"]).args(every).arg(&program);
            } else {
                command.args(["resume", "sender"]).args(every);
            }
            let child = command.spawn().unwrap();
            std::thread::sleep(span.mul_f64(rng.f64() * 0.6));
            common::signal(&child, "KILL");
            let out = child.wait_with_output().unwrap();
            if out.status.success() {
                break;
            }
            kills += 1;
            // Killed before its first commit, the process is not there yet: start it again.
            first = common::status_of(&store, "sender") == "absent";
            assert!(kills < 400, "the sender never finished");
        }
        assert_eq!(ok(vm(&store).args(["output", "sender"])), expected_output, "round {round}");
        assert_eq!(as_tuples(&outbox_of(&store, "bob")), expected_outbox(), "round {round}: each message once");
    }
    eprintln!("{kills} kills, every message queued once, in order");
}
