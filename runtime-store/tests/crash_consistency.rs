//! A store killed at any instant (SIGKILL, mid-commit or mid-open) reopens sound and holds exactly
//! a prefix of the commits that were made: every acknowledged commit, and at most the one that
//! was in flight, never a part of one.
//!
//! The test re-runs its own binary as the writer (`crash_child_writer`, which does nothing unless
//! `CHENILLES_CRASH_STORE` is set), kills it at a random instant, and checks the store; 40 times,
//! on a plain store and on an encrypted one.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chenilles_store::{Batch, BlobStore, Hash, RedbStore};

const STORE_VAR: &str = "CHENILLES_CRASH_STORE";
/// Set for a writer of an encrypted store (opened with the tests' password).
const ENCRYPTED_VAR: &str = "CHENILLES_CRASH_ENCRYPTED";
const KILLS: usize = 40;

/// The blob of commit `i`: 4 KiB naming `i` and the commit before it, so that a store holds a
/// chain that can be checked link by link.
fn commit_blob(i: u64, previous: Option<Hash>) -> Vec<u8> {
    let mut bytes = i.to_le_bytes().to_vec();
    bytes.extend_from_slice(&previous.map_or([0; 32], |h| h.0));
    bytes.resize(4096, (i % 251) as u8);
    bytes
}

/// Reads the chain from `head` back to commit 0; returns the number of the head commit.
fn check_chain(store: &RedbStore) -> Option<u64> {
    let mut at = store.get_ref("head").unwrap()?;
    let head_number = {
        let bytes = store.get(&at).unwrap().expect("the head blob is held");
        u64::from_le_bytes(bytes[..8].try_into().unwrap())
    };
    let mut expected = head_number;
    loop {
        let bytes = store.get(&at).unwrap().expect("every blob of the chain is held");
        let number = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        assert_eq!(number, expected, "the chain skips a commit");
        let previous = Hash::from_slice(&bytes[8..40]).unwrap();
        assert_eq!(bytes, commit_blob(number, (number > 0).then_some(previous)));
        // Each commit also records itself under its own ref: all of them, and none beyond.
        assert_eq!(store.get_ref(&format!("commit/{number}")).unwrap(), Some(at));
        if number == 0 {
            break;
        }
        at = previous;
        expected -= 1;
    }
    assert_eq!(
        store.get_ref(&format!("commit/{}", head_number + 1)).unwrap(),
        None,
        "a commit beyond the head is visible"
    );
    assert_eq!(store.list_refs().unwrap().len() as u64, head_number + 2);
    Some(head_number)
}

/// The writer: commits until killed (or for a minute at most, should its parent be gone), printing
/// `ack N` once commit N has returned.
#[test]
fn crash_child_writer() {
    let Some(path) = std::env::var_os(STORE_VAR) else {
        return;
    };
    let mut store = match std::env::var_os(ENCRYPTED_VAR) {
        Some(_) => common::open_encrypted(Path::new(&path)),
        None => RedbStore::open(Path::new(&path)).unwrap(),
    };
    let mut head = store.get_ref("head").unwrap();
    let mut next = match head {
        Some(h) => u64::from_le_bytes(store.get(&h).unwrap().unwrap()[..8].try_into().unwrap()) + 1,
        None => 0,
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let mut batch = Batch::default();
        let blob = batch.put(commit_blob(next, head));
        batch.set_ref("head", head, blob);
        batch.set_ref(&format!("commit/{next}"), None, blob);
        store.commit(batch).unwrap();
        println!("ack {next}");
        head = Some(blob);
        next += 1;
    }
}

#[test]
fn a_killed_writer_leaves_exactly_a_prefix_of_its_commits() {
    if std::env::var_os(STORE_VAR).is_some() {
        return;
    }
    killed_writer(false);
}

#[test]
fn a_killed_writer_of_an_encrypted_store_leaves_exactly_a_prefix_of_its_commits() {
    if std::env::var_os(STORE_VAR).is_some() {
        return;
    }
    killed_writer(true);
}

fn killed_writer(encrypted: bool) {
    let mut rng = common::Rng::from_env();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    if encrypted {
        common::create_encrypted(&path).close().unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut acknowledged: Option<u64> = None;
    let mut kills_mid_commit = 0;
    let mut kills_before_any_ack = 0;
    for kill in 0..KILLS {
        let mut command = Command::new(&exe);
        if encrypted {
            command.env(ENCRYPTED_VAR, "1");
        }
        let mut child = command
            .args(["--exact", "crash_child_writer", "--nocapture", "--test-threads=1"])
            .env(STORE_VAR, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // From the first instants (killing the open and its recovery) to well into the commits.
        std::thread::sleep(Duration::from_micros(rng.below(120_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        // Only whole lines count; the first ack shares its line with the test harness's banner.
        let acks: Vec<u64> = out
            .split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .filter_map(|l| l.split("ack ").nth(1))
            .filter_map(|n| n.trim_end().parse().ok())
            .collect();
        match acks.last() {
            Some(&last) => acknowledged = Some(last),
            None => kills_before_any_ack += 1,
        }

        let store = if encrypted { common::open_encrypted(&path) } else { RedbStore::open(&path).unwrap() };
        let report = store.verify().unwrap();
        assert!(report.is_clean(), "kill {kill}: {report:?}");
        let head = check_chain(&store);
        // Every acknowledged commit is there; at most the one in flight besides.
        match (acknowledged, head) {
            (None, None) => {}
            (None, Some(h)) => assert_eq!(h, 0, "kill {kill}"),
            (Some(a), Some(h)) => {
                assert!(h == a || h == a + 1, "kill {kill}: acknowledged {a}, found {h}");
                if h == a + 1 {
                    kills_mid_commit += 1;
                }
            }
            (Some(a), None) => panic!("kill {kill}: commit {a} was acknowledged and is lost"),
        }
        acknowledged = head;
        store.close().unwrap();
    }
    println!(
        "{KILLS} kills in {:?}; the store reached commit {acknowledged:?}; \
         {kills_mid_commit} kills found a commit that had not been acknowledged; \
         {kills_before_any_ack} came before the writer's first commit returned",
        started.elapsed()
    );
    assert!(acknowledged.is_some_and(|n| n > 20), "the writer made too little progress");
}
