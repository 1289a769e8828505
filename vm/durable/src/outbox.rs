//! Outboxes: messages to processes at other nodes, committed with the sender's checkpoint and
//! kept until the peer acknowledges them (`spec/protocol.md`, Channels).
//!
//! In the store, the outbox to peer PEER is its *head* under the ref `outbox/PEER` (the sequence
//! number the next message gets, and the first one the peer has not acknowledged) and one ref per
//! message not acknowledged yet, `outbox/PEER/SEQ` (SEQ in 20 decimal digits, so that the refs
//! sort in sequence order). A send adds one ref and moves the head, in the sending process's
//! checkpoint: a crash before it loses the send with the state that made it, and the resumed
//! process sends again with the same number. The node carries what is there to the peer.
//! Sequence numbers count per peer, over every process of the store that sends to it.

use std::collections::BTreeMap;

use chenilles_store::{Batch, BlobStore, Hash};
use rkyv::{Archive, Deserialize, Serialize};

use crate::snapshot::blob::{self, Kind};
use crate::snapshot::{SnapshotError, read_stored, to_rkyv};

/// The version of outbox heads (and of the layout above) this build writes and reads.
pub const OUTBOX_VERSION: u32 = 1;

/// An outbox's head (the payload of a [`Kind::OutboxHead`] blob).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Head {
    version: u32,
    /// The sequence number the next message gets.
    next_seq: u64,
    /// The first sequence number the peer has not acknowledged.
    acked: u64,
}

/// One message waiting for its peer (the payload of a [`Kind::Outgoing`] blob).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Its place in the channel to the peer: 0 for the first message the store ever sent it.
    pub seq: u64,
    /// The sending process.
    pub from: String,
    /// The process it is for, at the peer.
    pub to: String,
    /// The datum, in `write` syntax.
    pub text: String,
}

/// An outbox as read: the messages the peer has not acknowledged, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Outbox {
    /// The sequence number the next message gets.
    pub next_seq: u64,
    /// The first sequence number the peer has not acknowledged.
    pub acked: u64,
    /// The messages not acknowledged yet, oldest first.
    pub messages: Vec<Outgoing>,
}

/// The ref naming the head of the outbox to peer `peer`.
pub fn outbox_ref(peer: &str) -> String {
    format!("outbox/{peer}")
}

fn entries_prefix(peer: &str) -> String {
    format!("outbox/{peer}/")
}

fn entry_ref(peer: &str, seq: u64) -> String {
    format!("outbox/{peer}/{seq:020}")
}

/// The head of the outbox to `peer` (a fresh one if nothing was ever sent to it), with its
/// blob's hash.
fn read_head(store: &dyn BlobStore, peer: &str) -> Result<(Option<Hash>, Head), SnapshotError> {
    let Some(hash) = store.get_ref(&outbox_ref(peer))? else {
        return Ok((None, Head { version: OUTBOX_VERSION, next_seq: 0, acked: 0 }));
    };
    let head: Head = read_stored(store, &hash, Kind::OutboxHead, "an outbox head")?;
    if head.version != OUTBOX_VERSION {
        return Err(SnapshotError::UnsupportedVersion { blob: hash, found: head.version, expected: OUTBOX_VERSION });
    }
    if head.acked > head.next_seq {
        let what = format!("an outbox head acknowledged up to {} of {} sent", head.acked, head.next_seq);
        return Err(SnapshotError::Malformed { blob: hash, what });
    }
    Ok((Some(hash), head))
}

/// Reads the outbox to peer `peer` (empty if nothing was ever sent to it).
pub fn read_outbox(store: &dyn BlobStore, peer: &str) -> Result<Outbox, SnapshotError> {
    let (_, head) = read_head(store, peer)?;
    let mut messages = Vec::new();
    for (ref_name, hash) in store.list_refs_with_prefix(&entries_prefix(peer), None)? {
        let message: Outgoing = read_stored(store, &hash, Kind::Outgoing, "an outgoing message")?;
        if ref_name != entry_ref(peer, message.seq) || message.seq < head.acked || message.seq >= head.next_seq {
            return Err(SnapshotError::Malformed {
                blob: hash,
                what: format!("an outgoing message filed as {ref_name:?}"),
            });
        }
        messages.push(message);
    }
    Ok(Outbox { next_seq: head.next_seq, acked: head.acked, messages })
}

/// Where the outbox to `peer` stands: the sequence number the next message gets, and the first
/// one the peer has not acknowledged (reads only the head).
pub fn outbox_marks(store: &dyn BlobStore, peer: &str) -> Result<(u64, u64), SnapshotError> {
    let (_, head) = read_head(store, peer)?;
    Ok((head.next_seq, head.acked))
}

/// At most `limit` of the messages to `peer` numbered `from` or more, oldest first: what a node
/// sends in one batch. Reads those entries only, however many wait.
pub fn read_outgoing(
    store: &dyn BlobStore,
    peer: &str,
    from: u64,
    limit: usize,
) -> Result<Vec<Outgoing>, SnapshotError> {
    let (held, head) = read_head(store, peer)?;
    let mut messages = Vec::new();
    for seq in from.max(head.acked)..head.next_seq {
        if messages.len() >= limit {
            break;
        }
        let Some(hash) = store.get_ref(&entry_ref(peer, seq))? else {
            let what = format!("an outbox head whose message {seq}, not acknowledged, is missing");
            return Err(SnapshotError::Malformed { blob: held.unwrap_or(Hash([0; 32])), what });
        };
        let message: Outgoing = read_stored(store, &hash, Kind::Outgoing, "an outgoing message")?;
        if message.seq != seq {
            return Err(SnapshotError::Malformed {
                blob: hash,
                what: format!("message {} filed as {seq}", message.seq),
            });
        }
        messages.push(message);
    }
    Ok(messages)
}

/// Messages to send, by peer: the sending process, the process they are for, the text.
pub type Sends = BTreeMap<String, Vec<(String, String, String)>>;

/// Stages `sends` into `batch`: each message as a ref of its own, numbered on from its outbox's
/// head, and the head moved by compare-and-swap (two writers cannot both take a number).
pub fn stage(store: &dyn BlobStore, batch: &mut Batch, sends: Sends) -> Result<(), SnapshotError> {
    for (peer, messages) in sends {
        if messages.is_empty() {
            continue;
        }
        let (held, mut head) = read_head(store, &peer)?;
        for (from, to, text) in messages {
            let message = Outgoing { seq: head.next_seq, from, to, text };
            let hash = blob::put(batch, Kind::Outgoing, &[], &to_rkyv(&message));
            batch.set_ref(&entry_ref(&peer, head.next_seq), None, hash);
            head.next_seq += 1;
        }
        let new_head = blob::put(batch, Kind::OutboxHead, &[], &to_rkyv(&head));
        batch.set_ref(&outbox_ref(&peer), held, new_head);
    }
    Ok(())
}

/// Why an acknowledgement was refused.
#[derive(Debug, thiserror::Error)]
pub enum AckError {
    /// The peer acknowledged messages that were never sent to it: a confused or hostile peer.
    #[error("the peer acknowledged messages up to {mark}, but only {sent} were sent to it")]
    BeyondSent {
        /// The first sequence number the acknowledgement says is not received.
        mark: u64,
        /// How many messages were ever sent to the peer.
        sent: u64,
    },
    /// The store failed, or holds a malformed outbox.
    #[error(transparent)]
    Store(#[from] SnapshotError),
}

/// Takes the peer's word that it holds every message numbered below `mark`: deletes them from
/// the outbox to `peer` and moves its head, in one commit (each ref by compare-and-swap). An
/// acknowledgement at or below what was already acknowledged changes nothing (a late or repeated
/// one); one beyond what was sent is refused and changes nothing. Returns how many messages were
/// dropped.
pub fn acknowledge(store: &mut dyn BlobStore, peer: &str, mark: u64) -> Result<u64, AckError> {
    let (held, mut head) = read_head(store, peer)?;
    if mark > head.next_seq {
        return Err(AckError::BeyondSent { mark, sent: head.next_seq });
    }
    if mark <= head.acked {
        return Ok(0);
    }
    let mut batch = Batch::default();
    let mut dropped = 0;
    for seq in head.acked..mark {
        if let Some(hash) = store.get_ref(&entry_ref(peer, seq)).map_err(SnapshotError::from)? {
            batch.delete_ref(&entry_ref(peer, seq), hash);
            dropped += 1;
        }
    }
    head.acked = mark;
    let new_head = blob::put(&mut batch, Kind::OutboxHead, &[], &to_rkyv(&head));
    batch.set_ref(&outbox_ref(peer), held, new_head);
    store.commit(batch).map_err(SnapshotError::from)?;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chenilles_store::MemoryStore;

    fn send(store: &mut MemoryStore, peer: &str, texts: &[&str]) {
        let mut batch = Batch::default();
        let messages = texts.iter().map(|t| ("alice".to_string(), "channel".to_string(), t.to_string())).collect();
        stage(store, &mut batch, Sends::from([(peer.to_string(), messages)])).unwrap();
        store.commit(batch).unwrap();
    }

    fn seqs(store: &MemoryStore, peer: &str) -> Vec<u64> {
        read_outbox(store, peer).unwrap().messages.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn messages_are_numbered_per_peer_and_dropped_once_acknowledged() {
        let mut store = MemoryStore::default();
        send(&mut store, "bob", &["1", "2"]);
        send(&mut store, "carol", &["x"]);
        send(&mut store, "bob", &["3"]);
        assert_eq!(seqs(&store, "bob"), [0, 1, 2]);
        assert_eq!(seqs(&store, "carol"), [0]);
        let window =
            |from, limit| read_outgoing(&store, "bob", from, limit).unwrap().iter().map(|m| m.seq).collect::<Vec<_>>();
        assert_eq!((window(0, 2), window(1, 5), window(3, 5)), (vec![0, 1], vec![1, 2], vec![]));
        assert_eq!(outbox_marks(&store, "bob").unwrap(), (3, 0));
        assert_eq!(acknowledge(&mut store, "bob", 2).unwrap(), 2);
        assert_eq!(seqs(&store, "bob"), [2]);
        assert_eq!(read_outgoing(&store, "bob", 0, 5).unwrap().len(), 1, "from the first not acknowledged");
        let outbox = read_outbox(&store, "bob").unwrap();
        assert_eq!((outbox.next_seq, outbox.acked, outbox.messages[0].text.as_str()), (3, 2, "3"));
        // Late and repeated acknowledgements change nothing.
        let refs = store.list_refs().unwrap();
        assert_eq!(acknowledge(&mut store, "bob", 1).unwrap(), 0);
        assert_eq!(acknowledge(&mut store, "bob", 2).unwrap(), 0);
        assert_eq!(store.list_refs().unwrap(), refs);
        // Numbers go on after an acknowledgement.
        send(&mut store, "bob", &["4"]);
        assert_eq!(seqs(&store, "bob"), [2, 3]);
        assert_eq!(acknowledge(&mut store, "bob", 4).unwrap(), 2);
        assert!(read_outbox(&store, "bob").unwrap().messages.is_empty());
    }

    #[test]
    fn an_acknowledgement_of_what_was_never_sent_is_refused_and_changes_nothing() {
        let mut store = MemoryStore::default();
        send(&mut store, "bob", &["1"]);
        let refs = store.list_refs().unwrap();
        let error = acknowledge(&mut store, "bob", 2).unwrap_err();
        assert_eq!(error.to_string(), "the peer acknowledged messages up to 2, but only 1 were sent to it");
        assert!(matches!(acknowledge(&mut store, "nobody", 1), Err(AckError::BeyondSent { mark: 1, sent: 0 })));
        assert_eq!(store.list_refs().unwrap(), refs);
    }
}
