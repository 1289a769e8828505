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
