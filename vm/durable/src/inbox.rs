//! Inboxes: messages from processes at other nodes, taken into their addressees' mailboxes exactly
//! once (`spec/protocol.md`, Channels).
//!
//! In the store, the inbox from the node with peer id PEER is its *head* under the ref
//! `inbox/PEER`: the sequence number the next message from that node must have (its high-water
//! mark). Receiving a batch commits, in one transaction, each message numbered exactly the next
//! expected into its addressee's mailbox (through `mailbox.rs`, recorded with the name the store
//! knows the peer by) and the head moved by compare-and-swap. The node acknowledges the new mark
//! once that commit is durable; a crash before it loses nothing the peer was told it has, and a
//! crash after it only loses the acknowledgement: the peer sends again, and what is below the
//! mark is dropped as a duplicate.
//!
//! Inboxes are keyed by peer id, not by the peer's name: the channel belongs to the two nodes'
//! identities, and renaming a peer must not make its old messages new.
//!
//! What a peer sends is not trusted: a batch that does not read as messages is refused whole; a
//! message to a process that does not exist, whose mailbox already holds [`Limits::mailbox`]
//! messages, or [`Limits::per_peer`] from this peer, is held back (not taken, not acknowledged:
//! the peer keeps it and sends it again later). So a flooding peer can make the store hold at most
//! its quota in each process's mailbox, and leaves room there for the others.
//!
//! To count a peer's messages in a mailbox without reading them, the inbox keeps, per peer and
//! addressee, the runs of mailbox numbers its batches got (`inbox/PEER_ID/NAME`, kind `J`): the
//! messages waiting in a mailbox are always a suffix of its numbers (they are received in order),
//! so a run whose last message is gone was received whole, and one lookup per run, and a binary
//! search in the oldest run still waiting, count what waits.

use std::collections::BTreeMap;

use chenilles_machine::messaging::parse_message;
use chenilles_store::{Batch, BlobStore, Hash};
use rkyv::{Archive, Deserialize, Serialize};

use crate::mailbox::{self, Arrival, MailboxChange};
use crate::snapshot::blob::{self, Kind};
use crate::snapshot::{SnapshotError, read_stored, to_rkyv};

/// The version of inbox heads this build writes and reads.
pub const INBOX_VERSION: u32 = 1;

/// The most messages a mailbox holds before messages from peers to it are held back.
pub const MAILBOX_QUOTA: u64 = 10_000;

/// The most messages from one peer a mailbox holds before that peer's messages to it are held
/// back.
pub const PEER_QUOTA: u64 = 1_000;

/// How much peers may make the store hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most messages a mailbox holds before messages from peers to it are held back.
    pub mailbox: u64,
    /// The most messages from one peer a mailbox holds before its messages to it are held back.
    pub per_peer: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { mailbox: MAILBOX_QUOTA, per_peer: PEER_QUOTA }
    }
}

/// The mailbox numbers a peer's messages got in one process's mailbox (the payload of a
/// [`Kind::InboxRuns`] blob): half-open ranges, oldest first, those possibly still waiting.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
struct Runs {
    runs: Vec<(u64, u64)>,
}

/// The most messages one batch from a peer may carry.
pub const MOST_MESSAGES_PER_BATCH: usize = 1024;

/// The longest message text (its datum in `write` syntax) a peer may send, in bytes: what a
/// process's `send` to a peer allows.
pub const MAX_MESSAGE_BYTES: usize = chenilles_machine::messaging::MAX_REMOTE_MESSAGE_BYTES;

/// An inbox's head (the payload of a [`Kind::InboxHead`] blob).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Head {
    version: u32,
    /// The sequence number the next message from the peer must have.
    mark: u64,
}

/// One message of a batch from a peer, as the peer says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    /// Its place in the channel from the peer.
    pub seq: u64,
    /// The sending process, at the peer.
    pub from: String,
    /// The process it is for, in this store.
    pub to: String,
    /// The datum, in `write` syntax.
    pub text: String,
}

/// What receiving a batch did.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Received {
    /// The inbox's mark after it: the peer holds a durable acknowledgement of every message
    /// numbered below it.
    pub mark: u64,
    /// How many messages were taken into mailboxes.
    pub delivered: u64,
    /// The processes that got messages.
    pub addressees: Vec<String>,
    /// How many messages were below the mark already (sent again after a lost acknowledgement).
    pub duplicates: u64,
    /// Why the batch was not taken to its end, if it was not.
    pub stopped: Option<Stop>,
}

/// Why a batch was not taken to its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The batch is not what an honest peer sends: none of it was taken.
    Refused(String),
    /// A message is numbered beyond the next expected: the messages between are missing.
    Gap {
        /// The number expected.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// The addressee is not a process of this store (yet): the message is held back.
    NoSuchProcess(String),
    /// The addressee's mailbox holds [`Limits::mailbox`] messages: the message is held back.
    MailboxFull(String),
    /// The addressee's mailbox holds [`Limits::per_peer`] messages from this peer: the message
    /// is held back.
    PeerQuota(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Refused(why) => write!(f, "refused: {why}"),
            Stop::Gap { expected, found } => write!(f, "message {found} came where {expected} was expected"),
            Stop::NoSuchProcess(name) => write!(f, "no process is named {name:?} here (yet)"),
            Stop::MailboxFull(name) => write!(f, "the mailbox of {name:?} is full"),
            Stop::PeerQuota(name) => write!(f, "the mailbox of {name:?} holds this peer's quota of messages"),
        }
    }
}

/// The ref naming the head of the inbox from the node with peer id `peer_id`.
pub fn inbox_ref(peer_id: &str) -> String {
    format!("inbox/{peer_id}")
}

/// The head of the inbox from `peer_id`, with its blob's hash (mark 0 if nothing came from it).
fn read_head(store: &dyn BlobStore, peer_id: &str) -> Result<(Option<Hash>, u64), SnapshotError> {
    let Some(hash) = store.get_ref(&inbox_ref(peer_id))? else {
        return Ok((None, 0));
    };
    let head: Head = read_stored(store, &hash, Kind::InboxHead, "an inbox head")?;
    if head.version != INBOX_VERSION {
        return Err(SnapshotError::UnsupportedVersion { blob: hash, found: head.version, expected: INBOX_VERSION });
    }
    Ok((Some(hash), head.mark))
}

/// The ref of the runs of `peer_id`'s messages in process `name`'s mailbox.
fn runs_ref(peer_id: &str, name: &str) -> String {
    format!("inbox/{peer_id}/{name}")
}

/// The runs of `peer_id`'s messages in `name`'s mailbox, with their blob's hash.
fn read_runs(store: &dyn BlobStore, peer_id: &str, name: &str) -> Result<(Option<Hash>, Runs), SnapshotError> {
    let Some(hash) = store.get_ref(&runs_ref(peer_id, name))? else {
        return Ok((None, Runs::default()));
    };
    Ok((Some(hash), read_stored(store, &hash, Kind::InboxRuns, "an inbox's runs")?))
}

/// Drops from `runs` what was received from `name`'s mailbox, whose next number is `next_seq`;
/// returns how many of the peer's messages still wait there.
fn trim_runs(store: &dyn BlobStore, name: &str, next_seq: u64, runs: &mut Runs) -> Result<u64, SnapshotError> {
    let waiting =
        |seq: u64| -> Result<bool, SnapshotError> { Ok(store.get_ref(&mailbox::message_ref(name, seq))?.is_some()) };
    if runs.runs.iter().any(|&(start, end)| start >= end || end > next_seq) {
        // The mailbox was removed (and made again) since: none of these wait any more.
        runs.runs.clear();
    }
    while let Some(&(_, end)) = runs.runs.first() {
        if waiting(end - 1)? {
            break;
        }
        runs.runs.remove(0);
    }
    let Some(first) = runs.runs.first_mut() else {
        return Ok(0);
    };
    // The first waiting number of the oldest run: messages wait from some number on.
    let (mut low, mut high) = (first.0, first.1 - 1);
    while low < high {
        let middle = low + (high - low) / 2;
        if waiting(middle)? { high = middle } else { low = middle + 1 }
    }
    first.0 = low;
    Ok(runs.runs.iter().map(|(start, end)| end - start).sum())
}

/// The mark of the inbox from `peer_id`: the number the next message from it must have.
pub fn inbox_mark(store: &dyn BlobStore, peer_id: &str) -> Result<u64, SnapshotError> {
    Ok(read_head(store, peer_id)?.1)
}

/// Why `batch` is not what an honest peer sends, if it is not.
fn malformed(batch: &[Incoming]) -> Option<String> {
    if batch.len() > MOST_MESSAGES_PER_BATCH {
        return Some(format!("{} messages in one batch (at most {MOST_MESSAGES_PER_BATCH})", batch.len()));
    }
    if batch.windows(2).any(|pair| pair[1].seq <= pair[0].seq) {
        return Some("sequence numbers that do not increase".into());
    }
    for message in batch {
        for name in [&message.from, &message.to] {
            if let Err(error) = chenilles_machine::process_name::check(name) {
                return Some(format!("message {}: {error}", message.seq));
            }
        }
        if message.text.len() > MAX_MESSAGE_BYTES {
            return Some(format!(
                "message {}: {} bytes (at most {MAX_MESSAGE_BYTES})",
                message.seq,
                message.text.len()
            ));
        }
        if let Err(error) = parse_message(&message.text) {
            return Some(format!("message {}: {error}", message.seq));
        }
    }
    None
}

/// Receives `batch` from the node with peer id `peer_id`, which this store names `peer_name`:
/// takes each message numbered exactly the next expected into its addressee's mailbox, and
/// moves the inbox's mark, in one commit. Stops at the first message it cannot take (a gap, an
/// addressee that does not exist, a mailbox at one of its `limits`); refuses the whole batch if
/// it is malformed. A batch that takes nothing commits nothing.
pub fn receive_from_peer(
    store: &mut dyn BlobStore,
    peer_id: &str,
    peer_name: &str,
    batch: &[Incoming],
    limits: Limits,
) -> Result<Received, SnapshotError> {
    let (held, mark) = read_head(store, peer_id)?;
    let mut received = Received { mark, ..Received::default() };
    if let Some(why) = malformed(batch) {
        received.stopped = Some(Stop::Refused(why));
        return Ok(received);
    }
    let mut changes: BTreeMap<String, MailboxChange> = BTreeMap::new();
    // Per addressee: its runs as read (and trimmed), its mailbox's next number, how many of the
    // peer's messages wait there.
    let mut addressees: BTreeMap<String, (Option<Hash>, Runs, u64, u64)> = BTreeMap::new();
    for message in batch {
        if message.seq < received.mark {
            received.duplicates += 1;
            continue;
        }
        if message.seq > received.mark {
            received.stopped = Some(Stop::Gap { expected: received.mark, found: message.seq });
            break;
        }
        let to = &message.to;
        if !addressees.contains_key(to) {
            if store.get_ref(&crate::process::process_ref(to))?.is_none() {
                received.stopped = Some(Stop::NoSuchProcess(to.clone()));
                break;
            }
            let next_seq = mailbox::next_seq(store, to)?;
            let (hash, mut runs) = read_runs(store, peer_id, to)?;
            let from_peer = trim_runs(store, to, next_seq, &mut runs)?;
            addressees.insert(to.clone(), (hash, runs, next_seq, from_peer));
        }
        let Some((_, _, next_seq, from_peer)) = addressees.get(to) else { break };
        let pending = changes.get(to).map_or(0, |c| c.append.len() as u64);
        if from_peer + pending >= limits.per_peer {
            received.stopped = Some(Stop::PeerQuota(to.clone()));
            break;
        }
        if mailbox_is_full(store, to, *next_seq, pending, limits.mailbox)? {
            received.stopped = Some(Stop::MailboxFull(to.clone()));
            break;
        }
        let arrival =
            Arrival { from: message.from.clone(), peer: Some(peer_name.to_string()), text: message.text.clone() };
        changes.entry(to.clone()).or_default().append.push(arrival);
        received.mark += 1;
        received.delivered += 1;
    }
    if received.delivered == 0 {
        return Ok(received);
    }
    received.addressees = changes.keys().cloned().collect();
    let mut commit = Batch::default();
    let counts: Vec<(String, u64)> = changes.iter().map(|(name, c)| (name.clone(), c.append.len() as u64)).collect();
    let first_seqs = mailbox::stage(store, &mut commit, changes)?;
    for (name, count) in counts {
        let (Some((hash, runs, _, _)), Some(first)) = (addressees.get_mut(&name), first_seqs.get(&name)) else {
            continue;
        };
        runs.runs.push((*first, first + count));
        let blob = blob::put(&mut commit, Kind::InboxRuns, &[], &to_rkyv(runs));
        commit.set_ref(&runs_ref(peer_id, &name), *hash, blob);
    }
    let head =
        blob::put(&mut commit, Kind::InboxHead, &[], &to_rkyv(&Head { version: INBOX_VERSION, mark: received.mark }));
    commit.set_ref(&inbox_ref(peer_id), held, head);
    store.commit(commit)?;
    Ok(received)
}

/// Whether process `name`'s mailbox, whose head's next number is `next_seq`, holds `quota`
/// messages with the batch's `pending` ones. The messages waiting in a mailbox are always the
/// numbers from the first not received to the head's, so this is one look at the message that
/// would be the quota's-th from the end.
fn mailbox_is_full(
    store: &dyn BlobStore,
    name: &str,
    next_seq: u64,
    pending: u64,
    quota: u64,
) -> Result<bool, SnapshotError> {
    if pending >= quota {
        return Ok(true);
    }
    match (next_seq + pending).checked_sub(quota) {
        None => Ok(false),
        Some(oldest_allowed) => Ok(store.get_ref(&mailbox::message_ref(name, oldest_allowed))?.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chenilles_store::MemoryStore;

    const PEER: &str = "12D3KooWPeer";

    fn message(seq: u64, to: &str, text: &str) -> Incoming {
        Incoming { seq, from: "alice".into(), to: to.into(), text: text.into() }
    }

    /// A store in which process `name` exists (its record's content does not matter here).
    fn with_process(store: &mut MemoryStore, name: &str) {
        let mut batch = Batch::default();
        let hash = batch.put(b"a record".to_vec());
        batch.set_ref(&crate::process::process_ref(name), None, hash);
        store.commit(batch).unwrap();
    }

    fn texts(store: &MemoryStore, name: &str) -> Vec<(u64, Option<String>, String)> {
        let (_, mailbox) = mailbox::read_mailbox(store, name).unwrap();
        mailbox.messages.into_iter().map(|m| (m.seq, m.peer, m.text)).collect()
    }

    #[test]
    fn messages_are_taken_once_in_order_with_the_peer_they_came_from() {
        let mut store = MemoryStore::default();
        with_process(&mut store, "bob");
        let batch = [message(0, "bob", "(pay 1)"), message(1, "bob", "(pay 2)")];
        let received = receive_from_peer(&mut store, PEER, "alice-node", &batch, Limits::default()).unwrap();
        assert_eq!((received.mark, received.delivered, received.duplicates), (2, 2, 0));
        assert_eq!(received.addressees, ["bob"]);
        // The same batch again (its acknowledgement was lost) is only duplicates, and changes nothing.
        let refs = store.list_refs().unwrap();
        let again = receive_from_peer(&mut store, PEER, "alice-node", &batch, Limits::default()).unwrap();
        assert_eq!((again.mark, again.delivered, again.duplicates, again.stopped), (2, 0, 2, None));
        assert_eq!(store.list_refs().unwrap(), refs);
        // Overlapping: the known one dropped, the new one taken.
        let next = receive_from_peer(
            &mut store,
            PEER,
            "alice-node",
            &[batch[1].clone(), message(2, "bob", "x")],
            Limits::default(),
        );
        assert_eq!(next.unwrap().mark, 3);
        let peer = Some("alice-node".to_string());
        assert_eq!(
            texts(&store, "bob"),
            [(0, peer.clone(), "(pay 1)".into()), (1, peer.clone(), "(pay 2)".into()), (2, peer, "x".into())]
        );
        assert_eq!(inbox_mark(&store, PEER).unwrap(), 3);
        assert_eq!(inbox_mark(&store, "another").unwrap(), 0);
    }

    #[test]
    fn gaps_missing_addressees_and_full_mailboxes_hold_the_rest_back() {
        let mut store = MemoryStore::default();
        with_process(&mut store, "bob");
        let gap = receive_from_peer(&mut store, PEER, "p", &[message(1, "bob", "1")], Limits::default()).unwrap();
        assert_eq!((gap.mark, gap.stopped), (0, Some(Stop::Gap { expected: 0, found: 1 })));
        assert!(store.list_refs().unwrap().iter().all(|(name, _)| !name.starts_with("inbox/")), "nothing committed");
        let batch = [message(0, "bob", "1"), message(1, "carol", "2"), message(2, "bob", "3")];
        let held = receive_from_peer(&mut store, PEER, "p", &batch, Limits::default()).unwrap();
        assert_eq!((held.mark, held.stopped), (1, Some(Stop::NoSuchProcess("carol".into()))));
        with_process(&mut store, "carol");
        assert_eq!(receive_from_peer(&mut store, PEER, "p", &batch, Limits::default()).unwrap().mark, 3);
    }

    #[test]
    fn a_mailbox_takes_from_each_peer_up_to_its_quota_and_from_all_up_to_its_own() {
        let mut store = MemoryStore::default();
        with_process(&mut store, "bob");
        let limits = Limits { mailbox: 30, per_peer: 20 };
        let batch = |from: u64, to: u64| (from..to).map(|s| message(s, "bob", "1")).collect::<Vec<_>>();
        let mut take =
            |peer: &str, batch: &[Incoming]| receive_from_peer(&mut store, peer, "p", batch, limits).unwrap();
        let a = take("A", &batch(0, 25));
        assert_eq!((a.delivered, a.stopped), (20, Some(Stop::PeerQuota("bob".into()))));
        let b = take("B", &batch(0, 15));
        assert_eq!((b.delivered, b.stopped), (10, Some(Stop::MailboxFull("bob".into()))));
        // Bob receives five messages (his checkpoint deletes them): they were A's.
        let mut commit = Batch::default();
        let change = MailboxChange { received_from: 0, received_before: 5, ..MailboxChange::default() };
        mailbox::stage(&store, &mut commit, BTreeMap::from([("bob".to_string(), change)])).unwrap();
        store.commit(commit).unwrap();
        let mut take =
            |peer: &str, batch: &[Incoming]| receive_from_peer(&mut store, peer, "p", batch, limits).unwrap();
        let a = take("A", &batch(20, 25));
        assert_eq!((a.delivered, a.stopped), (5, None), "A has room for five again");
        let b = take("B", &batch(10, 15));
        assert_eq!((b.delivered, b.stopped), (0, Some(Stop::MailboxFull("bob".into()))));
        assert_eq!(mailbox::waiting_count(&store, "bob").unwrap(), 30);
    }

    #[test]
    fn the_default_quotas_hold_a_flood_at_a_thousand() {
        let mut store = MemoryStore::default();
        with_process(&mut store, "bob");
        let mut seq = 0;
        loop {
            let batch: Vec<Incoming> = (seq..seq + 300).map(|s| message(s, "bob", "1")).collect();
            let received = receive_from_peer(&mut store, PEER, "p", &batch, Limits::default()).unwrap();
            seq = received.mark;
            if received.stopped.is_some() {
                assert_eq!(received.stopped, Some(Stop::PeerQuota("bob".into())));
                break;
            }
        }
        assert_eq!(seq, PEER_QUOTA);
    }

    #[test]
    fn malformed_batches_are_refused_whole() {
        let mut store = MemoryStore::default();
        with_process(&mut store, "bob");
        let refs = store.list_refs().unwrap();
        let too_many: Vec<Incoming> = (0..=MOST_MESSAGES_PER_BATCH as u64).map(|s| message(s, "bob", "1")).collect();
        let cases: Vec<(Vec<Incoming>, &str)> = vec![
            (vec![message(0, "bob", "1"), message(0, "bob", "2")], "do not increase"),
            (vec![message(0, "bob", "1"), message(1, "a/b", "2")], "holds a `/`"),
            (vec![message(0, "", "1")], "cannot be empty"),
            (vec![message(0, "bob", "(unclosed")], "not one datum"),
            (vec![message(0, "bob", "1 2")], "not one datum"),
            (vec![message(0, "bob", &"x".repeat(MAX_MESSAGE_BYTES + 1))], "at most"),
            (too_many, "in one batch"),
        ];
        for (batch, why) in cases {
            let received = receive_from_peer(&mut store, PEER, "p", &batch, Limits::default()).unwrap();
            assert_eq!(received.delivered, 0);
            match received.stopped {
                Some(Stop::Refused(reason)) => assert!(reason.contains(why), "{reason:?} should say {why:?}"),
                other => panic!("{why}: {other:?}"),
            }
        }
        assert_eq!(store.list_refs().unwrap(), refs, "refusals write nothing");
    }
}
