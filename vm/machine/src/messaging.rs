//! Messages as the machine sees them: what may be sent (data only, stored in `write` syntax), and a
//! process's messaging state in memory (its name, its inbox, what it has received, what it has sent
//! since its last checkpoint, whether it waits). Where messages are kept and how a checkpoint
//! commits them is the durable layer's (`mailbox.rs`).

use std::collections::VecDeque;

use chenilles_reader::{Datum, DatumKind};

/// One message of a mailbox (the durable layer stores it: `mailbox.rs`).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Its place in the receiver's mailbox: 0 for the first message ever sent to it, then 1, …
    pub seq: u64,
    /// The sending process's name, or `host` for a message from the host or the command line.
    pub from: String,
    /// For a message from a process at another node: the name this store knows that node by (the
    /// connection proved its identity); `from` is then the process's name there.
    pub peer: Option<String>,
    /// The datum, in `write` syntax.
    pub text: String,
}

impl Message {
    /// Who sent it, as `receive-with-sender` gives it: the sending process's name (a symbol;
    /// `host` for the host), or `(peer process)` for a process at a peer, which `send` takes
    /// as it is to answer.
    pub fn sender(&self) -> Datum {
        let symbol = |name: &str| Datum::new(DatumKind::Symbol(name.to_string()), Default::default());
        match &self.peer {
            None => symbol(&self.from),
            Some(peer) => Datum::new(
                DatumKind::List { items: vec![symbol(peer), symbol(&self.from)], tail: None },
                Default::default(),
            ),
        }
    }
}

/// The longest message to a process at another node, in bytes of its `write` text: what a peer
/// takes in one message (a longer one would wait in the outbox forever, so `send` refuses it).
pub const MAX_REMOTE_MESSAGE_BYTES: usize = 1 << 20;

/// Why a datum cannot be a message.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MessageError {
    /// The datum holds what is not data (a procedure, a port, a record).
    #[error("messages are data (numbers, strings, symbols, lists, vectors, bytevectors, characters, booleans)")]
    NotData,
    /// The text does not read as exactly one datum.
    #[error("the message text is not one datum: {0}")]
    Unreadable(String),
}

/// The stored text of a message: `datum` in `write` syntax, once it is checked to be plain data.
pub fn message_text(datum: &Datum) -> Result<String, MessageError> {
    fn plain(datum: &Datum) -> bool {
        match &datum.kind {
            DatumKind::Special(_) => false,
            DatumKind::List { items, tail } => items.iter().all(plain) && tail.as_deref().is_none_or(plain),
            DatumKind::Vector(items) => items.iter().all(plain),
            _ => true,
        }
    }
    if plain(datum) { Ok(datum.to_string()) } else { Err(MessageError::NotData) }
}

/// Reads the text of a message (from the command line or a mailbox) back into its datum (without
/// source spans).
pub fn parse_message(text: &str) -> Result<Datum, MessageError> {
    let data = chenilles_reader::read_all(text, 0).map_err(|e| MessageError::Unreadable(e.message))?;
    match <[Datum; 1]>::try_from(data) {
        Ok([datum]) => {
            message_text(&datum)?;
            Ok(datum.without_spans())
        }
        Err(data) => Err(MessageError::Unreadable(format!("{} data where one was expected", data.len()))),
    }
}

/// Who a message is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Recipient {
    /// A process of the same store, by name (`(send 'name datum)`).
    Process(String),
    /// A process at another node, the peer the store knows by that name (`(send '(peer name)
    /// datum)`, granted `peer:PEER`).
    Remote {
        /// The peer's name in the sender's store.
        peer: String,
        /// The process's name at that peer.
        process: String,
    },
}

/// A process's messaging state in memory: its name, what it has received, what it has sent since its
/// last checkpoint, and whether it waits for a message.
#[derive(Debug, Default)]
pub struct Messaging {
    /// The process's name; `None` for a program run without a store, which has no mailbox.
    pub name: Option<String>,
    /// Messages received so far: the sequence number of the next one to take.
    pub received: u64,
    /// Messages of the mailbox not received yet, as last read from the store.
    pub inbox: VecDeque<Message>,
    /// Messages sent since the last checkpoint: receiver and text.
    pub outbox: Vec<(Recipient, String)>,
    /// Set by `(receive)` when the inbox is empty: the process waits for a message, until this
    /// deadline (in `current-second` seconds) if there is one.
    pub waiting: Option<Option<f64>>,
}

impl Messaging {
    /// The sequence number of the first message the inbox does not hold yet.
    pub fn next_unheld(&self) -> u64 {
        self.inbox.back().map_or(self.received, |m| m.seq + 1).max(self.received)
    }

    /// The next message, if there is one, counted as received.
    pub fn take(&mut self) -> Option<Message> {
        while let Some(message) = self.inbox.pop_front() {
            if message.seq == self.received {
                self.received += 1;
                return Some(message);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_can_be_sent() {
        assert!(parse_message("(a #u8(1 2) #(x 1.5) #\\a \"s\")").is_ok());
        assert_eq!(parse_message("#!eof").unwrap_err(), MessageError::NotData);
        assert!(matches!(parse_message("(unclosed"), Err(MessageError::Unreadable(_))));
        assert!(matches!(parse_message("1 2"), Err(MessageError::Unreadable(_))));
        assert!(matches!(parse_message(""), Err(MessageError::Unreadable(_))));
    }
}
