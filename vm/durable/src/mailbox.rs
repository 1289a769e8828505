//! Mailboxes: messages between the durable processes of one store, and from their host, delivered
//! exactly once across crashes of either side.
//!
//! In the store, a process's mailbox is its *head* under the ref `mailbox/NAME` (the sequence
//! number the next message will get) and one ref per message not received yet,
//! `mailbox/NAME/SEQ` (SEQ in 20 decimal digits, so that the refs sort in sequence order), naming
//! the message's blob. A send adds one message ref and moves the head; a receipt deletes one
//! message ref: each costs what it changes, however many messages wait. Mailboxes exist apart from
//! processes: a message may be sent to a process before it is started, and waits for it.
//! - `(send name datum)` puts the message in the sender's outbox; the sender's next checkpoint (at
//!   once: a send is an effect) adds it to the receiver's mailbox in the same transaction as the
//!   sender's state. A crash before that commit loses the send together with the state that made
//!   it, and the resumed sender makes it again: once.
//! - `(receive)` takes the message whose sequence number is the process's `received` count and
//!   counts it. The count is committed with the receiver's state (in its checkpoint record), and
//!   that checkpoint deletes the received messages from the mailbox. A crash before it loses the
//!   receipt with the state that followed it; the resumed receiver takes the same message again.
//!
//! - A message from a process at another node comes through the node's inbox (`inbox.rs`), which
//!   stages it here, with the name of the peer it came from, in the commit that moves the inbox's
//!   high-water mark.
//!
//! Messages are data only: what `write` prints and `read` reads back (no procedures, ports or
//! records). They are stored in `write` syntax, the form `chenilles-vm send` takes them in.

use std::collections::BTreeMap;

use chenilles_reader::Datum;
use chenilles_store::{Batch, BlobStore, Hash};
use rkyv::{Archive, Deserialize, Serialize};

use crate::snapshot::blob::{self, Kind};
use crate::snapshot::{SnapshotError, fetch, from_rkyv, read_stored, to_rkyv};
use chenilles_machine::messaging::{Message, MessageError, Messaging, Recipient, message_text};

use crate::outbox::Sends;

/// The version of mailbox heads (and of the layout above) this build writes and reads. Version 1
/// kept every waiting message in one blob rewritten by each send.
pub const MAILBOX_VERSION: u32 = 2;

/// A mailbox's head (the payload of a [`Kind::Mailbox`] blob).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Head {
    version: u32,
    /// The sequence number the next message will get.
    next_seq: u64,
}

/// A message from this store (the payload of a [`Kind::Message`] blob).
#[derive(Archive, Serialize, Deserialize)]
struct LocalMessage {
    seq: u64,
    /// The sending process, or `host`.
    from: String,
    text: String,
}

/// A message from a process at a peer (the payload of a [`Kind::PeerMessage`] blob).
#[derive(Archive, Serialize, Deserialize)]
struct PeerMessage {
    seq: u64,
    /// The name the store knew the sending node by when it delivered the message.
    peer: String,
    /// The sending process, at that node.
    from: String,
    text: String,
}

/// A message on its way into a mailbox.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrival {
    /// The sending process, or `host`.
    pub from: String,
    /// The peer it came from, for a message from another node.
    pub peer: Option<String>,
    /// The datum, in `write` syntax.
    pub text: String,
}

impl Arrival {
    /// A message from a process of this store (or from the host).
    pub fn local(from: impl Into<String>, text: impl Into<String>) -> Arrival {
        Arrival { from: from.into(), peer: None, text: text.into() }
    }
}

/// The blob of message `seq` of a mailbox.
fn put_message(batch: &mut Batch, seq: u64, arrival: Arrival) -> Hash {
    let Arrival { from, peer, text } = arrival;
    match peer {
        None => blob::put(batch, Kind::Message, &[], &to_rkyv(&LocalMessage { seq, from, text })),
        Some(peer) => blob::put(batch, Kind::PeerMessage, &[], &to_rkyv(&PeerMessage { seq, peer, from, text })),
    }
}

/// Reads the message blob `hash`, of either kind.
fn read_message(store: &dyn BlobStore, hash: &Hash) -> Result<Message, SnapshotError> {
    let bytes = fetch(store, hash).map_err(not_a_snapshot)?;
    let decoded = blob::decode(hash, &bytes)?;
    match decoded.kind {
        Kind::Message => {
            let m: LocalMessage = from_rkyv(hash, decoded.payload)?;
            Ok(Message { seq: m.seq, from: m.from, peer: None, text: m.text })
        }
        Kind::PeerMessage => {
            let m: PeerMessage = from_rkyv(hash, decoded.payload)?;
            Ok(Message { seq: m.seq, from: m.from, peer: Some(m.peer), text: m.text })
        }
        _ => Err(SnapshotError::Malformed { blob: *hash, what: "not a message".into() }),
    }
}

/// A mailbox as read: the messages not received yet, oldest first.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mailbox {
    /// The sequence number the next message will get.
    pub next_seq: u64,
    /// The messages not received yet, oldest first.
    pub messages: Vec<Message>,
}

/// The ref naming process `name`'s mailbox head.
pub fn mailbox_ref(name: &str) -> String {
    format!("mailbox/{name}")
}

/// The prefix of the refs of process `name`'s waiting messages.
pub(crate) fn messages_prefix(name: &str) -> String {
    format!("mailbox/{name}/")
}

/// The ref naming message `seq` of process `name`'s mailbox.
pub(crate) fn message_ref(name: &str, seq: u64) -> String {
    format!("mailbox/{name}/{seq:020}")
}

/// The head of process `name`'s mailbox (a fresh one if nothing was ever sent to it), with its
/// blob's hash.
fn read_head(store: &dyn BlobStore, name: &str) -> Result<(Option<Hash>, u64), SnapshotError> {
    let Some(hash) = store.get_ref(&mailbox_ref(name))? else {
        return Ok((None, 0));
    };
    let head: Head = read_stored(store, &hash, Kind::Mailbox, "a mailbox head").map_err(not_a_snapshot)?;
    if head.version != MAILBOX_VERSION {
        return Err(SnapshotError::UnsupportedVersion { blob: hash, found: head.version, expected: MAILBOX_VERSION });
    }
    Ok((Some(hash), head.next_seq))
}

/// The sequence number the next message to process `name` gets.
pub(crate) fn next_seq(store: &dyn BlobStore, name: &str) -> Result<u64, SnapshotError> {
    Ok(read_head(store, name)?.1)
}

/// Mailbox blobs are not a snapshot's: a missing one is said as such.
fn not_a_snapshot(error: SnapshotError) -> SnapshotError {
    match error {
        SnapshotError::Missing(hash) => SnapshotError::Store(chenilles_store::StoreError::MissingBlob { hash }),
        other => other,
    }
}

/// The messages of process `name`'s mailbox numbered `from` or more, oldest first (reads only
/// those).
pub fn read_messages(store: &dyn BlobStore, name: &str, from: u64) -> Result<Vec<Message>, SnapshotError> {
    let after = from.checked_sub(1).map(|seq| message_ref(name, seq));
    let refs = store.list_refs_with_prefix(&messages_prefix(name), after.as_deref())?;
    let mut messages = Vec::with_capacity(refs.len());
    for (ref_name, hash) in refs {
        let message = read_message(store, &hash)?;
        if ref_name != message_ref(name, message.seq) {
            return Err(SnapshotError::Malformed { blob: hash, what: format!("a message filed as {ref_name:?}") });
        }
        messages.push(message);
    }
    Ok(messages)
}

/// Whether process `name`'s mailbox holds a message numbered `from` or more (reads only refs).
pub fn has_messages_from(store: &dyn BlobStore, name: &str, from: u64) -> Result<bool, SnapshotError> {
    let after = from.checked_sub(1).map(|seq| message_ref(name, seq));
    Ok(!store.list_refs_with_prefix(&messages_prefix(name), after.as_deref())?.is_empty())
}

/// How many messages wait in process `name`'s mailbox (reads only their refs).
pub fn waiting_count(store: &dyn BlobStore, name: &str) -> Result<usize, SnapshotError> {
    Ok(store.list_refs_with_prefix(&messages_prefix(name), None)?.len())
}

/// Reads the mailbox of process `name` (empty if nothing was ever sent to it), with its head's
/// hash.
pub fn read_mailbox(store: &dyn BlobStore, name: &str) -> Result<(Option<Hash>, Mailbox), SnapshotError> {
    let (head, next_seq) = read_head(store, name)?;
    let messages = read_messages(store, name, 0)?;
    Ok((head, Mailbox { next_seq, messages }))
}

/// What one commit changes in one mailbox.
#[derive(Default, Debug)]
pub struct MailboxChange {
    /// New messages.
    pub append: Vec<Arrival>,
    /// Messages numbered from `received_from` up to (not including) `received_before` were
    /// received: delete them.
    pub received_from: u64,
    pub received_before: u64,
}

/// Stages `changes` (by receiver name) into `batch`: each new message as a ref of its own, the
/// head moved by compare-and-swap, each received message's ref deleted (by compare-and-swap
/// too). Returns, for each mailbox appended to, the sequence number of its first new message.
pub fn stage(
    store: &dyn BlobStore,
    batch: &mut Batch,
    changes: BTreeMap<String, MailboxChange>,
) -> Result<BTreeMap<String, u64>, SnapshotError> {
    let mut first_seqs = BTreeMap::new();
    for (name, change) in changes {
        for seq in change.received_from..change.received_before {
            let name = message_ref(&name, seq);
            if let Some(hash) = store.get_ref(&name)? {
                batch.delete_ref(&name, hash);
            }
        }
        if change.append.is_empty() {
            continue;
        }
        let (head, mut next_seq) = read_head(store, &name)?;
        first_seqs.insert(name.clone(), next_seq);
        for arrival in change.append {
            let hash = put_message(batch, next_seq, arrival);
            batch.set_ref(&message_ref(&name, next_seq), None, hash);
            next_seq += 1;
        }
        let new_head = blob::put(batch, Kind::Mailbox, &[], &to_rkyv(&Head { version: MAILBOX_VERSION, next_seq }));
        batch.set_ref(&mailbox_ref(&name), head, new_head);
    }
    Ok(first_seqs)
}

/// Delivers one message to process `to`'s mailbox, from the host, in a commit of its own. Returns
/// its sequence number.
pub fn deliver(store: &mut dyn BlobStore, to: &str, from: &str, datum: &Datum) -> Result<u64, DeliveryError> {
    chenilles_machine::process_name::check(to)?;
    let text = message_text(datum)?;
    let mut batch = Batch::default();
    let change = MailboxChange { append: vec![Arrival::local(from, text)], ..MailboxChange::default() };
    let first_seqs = stage(store, &mut batch, BTreeMap::from([(to.to_string(), change)]))?;
    store.commit(batch).map_err(SnapshotError::from)?;
    Ok(first_seqs.get(to).copied().unwrap_or_default())
}

/// Stages into `batch` the deletion of process `name`'s whole mailbox: its head and every message
/// still in it, each by compare-and-swap. Returns how many messages it held.
pub(crate) fn stage_removal(store: &dyn BlobStore, batch: &mut Batch, name: &str) -> Result<usize, SnapshotError> {
    if let Some(head) = store.get_ref(&mailbox_ref(name))? {
        batch.delete_ref(&mailbox_ref(name), head);
    }
    let messages = store.list_refs_with_prefix(&messages_prefix(name), None)?;
    for (message, target) in &messages {
        batch.delete_ref(message, *target);
    }
    Ok(messages.len())
}

/// Why a message could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The addressee's name cannot name a process.
    #[error(transparent)]
    Name(#[from] chenilles_machine::process_name::NameError),
    /// The message is not data a message may carry.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The store failed, or holds a malformed mailbox.
    #[error(transparent)]
    Store(#[from] SnapshotError),
}

/// Takes into `messaging`'s inbox the messages of the process's mailbox not received yet that it does
/// not hold already (reading only those from the store).
pub fn refill(messaging: &mut Messaging, store: &dyn BlobStore) -> Result<(), SnapshotError> {
    let Some(name) = &messaging.name else {
        return Ok(());
    };
    let messages = read_messages(store, name, messaging.next_unheld())?;
    messaging.inbox.extend(messages.into_iter().filter(|m| m.seq >= messaging.received));
    Ok(())
}

/// The mailbox changes a checkpoint commits: the outbox (drained), and dropping what was
/// received since the last checkpoint (`committed_received` messages were already dropped; when
/// nothing more was received, the process's own mailbox is not even read).
/// Messages to processes at peers go to the outboxes' [`Sends`] instead.
pub fn drain_changes(messaging: &mut Messaging, committed_received: u64) -> (BTreeMap<String, MailboxChange>, Sends) {
    let mut changes: BTreeMap<String, MailboxChange> = BTreeMap::new();
    let mut sends = Sends::new();
    let Some(name) = &messaging.name else {
        return (changes, sends);
    };
    for (to, text) in messaging.outbox.drain(..) {
        match to {
            Recipient::Process(to) => changes.entry(to).or_default().append.push(Arrival::local(name.clone(), text)),
            Recipient::Remote { peer, process } => sends.entry(peer).or_default().push((name.clone(), process, text)),
        }
    }
    if messaging.received > committed_received {
        let change = changes.entry(name.clone()).or_default();
        change.received_from = committed_received;
        change.received_before = messaging.received;
    }
    (changes, sends)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chenilles_machine::messaging::parse_message;
    use chenilles_store::MemoryStore;

    fn send(store: &mut MemoryStore, to: &str, text: &str) -> u64 {
        deliver(store, to, "host", &parse_message(text).unwrap()).unwrap()
    }

    #[test]
    fn messages_are_numbered_in_order_and_dropped_once_received() {
        let mut store = MemoryStore::default();
        assert_eq!(send(&mut store, "bob", "(deposit 10)"), 0);
        assert_eq!(send(&mut store, "bob", "\"two\""), 1);
        let mut bob = Messaging { name: Some("bob".into()), ..Messaging::default() };
        refill(&mut bob, &store).unwrap();
        assert_eq!(bob.take().map(|m| m.text), Some("(deposit 10)".to_string()));
        // A checkpoint of bob drops what he received and keeps the rest.
        let mut batch = Batch::default();
        stage(&store, &mut batch, drain_changes(&mut bob, 0).0).unwrap();
        store.commit(batch).unwrap();
        let (_, mailbox) = read_mailbox(&store, "bob").unwrap();
        assert_eq!(mailbox.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1]);
        assert_eq!(send(&mut store, "bob", "three"), 2);
        // A resumed bob (received = 1) sees the rest, in order.
        let mut resumed = Messaging { name: Some("bob".into()), received: 1, ..Messaging::default() };
        refill(&mut resumed, &store).unwrap();
        let texts: Vec<String> = std::iter::from_fn(|| resumed.take()).map(|m| m.text).collect();
        assert_eq!(texts, ["\"two\"", "three"]);
    }

    /// A mailbox costs what changes in it: a send writes one message and a head, whatever the
    /// number of messages waiting; the file grows with the messages, not with their square.
    #[test]
    fn a_send_costs_its_message_however_many_wait() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("store.redb");
        let mut store = chenilles_store::RedbStore::open(&path).expect("open");
        let message = |i: usize| parse_message(&format!("(payment {i} \"{}\")", "x".repeat(180))).expect("a datum");
        let waiting = 4000;
        for i in 0..waiting {
            assert_eq!(deliver(&mut store, "bob", "host", &message(i)).expect("deliver"), i as u64);
        }
        // One more send stages two blobs (the message and the head) and two ref changes.
        let mut batch = Batch::default();
        let change = MailboxChange { append: vec![Arrival::local("host", "(one more)")], ..MailboxChange::default() };
        let first = stage(&store, &mut batch, [("bob".to_string(), change)].into()).expect("stage");
        assert_eq!(first.get("bob"), Some(&(waiting as u64)));
        assert_eq!(batch.blob_count(), 2, "a send writes its message and the head, not the mailbox");
        assert!(batch.blob_bytes() < 1024, "a send of a short message writes {} bytes", batch.blob_bytes());
        drop(store);
        let size = std::fs::metadata(&path).expect("size").len();
        // Each 200-byte message takes a ref and a blob (redb rounds small entries up): about 1 KB.
        assert!(size < 16 << 20, "{waiting} messages of 200 bytes made a file of {size} bytes");
        let reopened = chenilles_store::RedbStore::open(&path).expect("open");
        assert_eq!(waiting_count(&reopened, "bob").expect("count"), waiting);
    }
}
