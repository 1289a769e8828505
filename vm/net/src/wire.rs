//! The channel protocol's messages as they cross the network (`spec/protocol.md`, Channels): a
//! request is a batch of sequence-numbered messages, its response what the receiver holds of the
//! channel. Both are CBOR, through libp2p's `request_response::cbor` codec, on [`PROTOCOL`].
//!
//! Nothing here says who sent a batch: that is the peer id the connection's Noise handshake
//! proved, which the transport reports beside it.

use serde::{Deserialize, Serialize};

/// The protocol name the channel's requests and responses are carried on.
pub const PROTOCOL: &str = "/chenilles/channel/1";

/// The largest request (an encoded [`WireBatch`]) a node reads, in bytes; one that is larger is
/// refused.
pub const MAX_REQUEST_BYTES: u64 = 4 << 20;

/// The largest response (an encoded [`WireReply`]) a node reads, in bytes.
pub const MAX_RESPONSE_BYTES: u64 = 64 << 10;

/// One message of a channel.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WireMessage {
    /// Its sequence number in the channel from the sending node to the receiving one.
    pub seq: u64,
    /// The process that sent it, at the sending node.
    pub from: String,
    /// The process it is for, at the receiving node.
    pub to: String,
    /// The datum, in `write` syntax.
    pub text: String,
}

/// A request: messages of one channel, in the order of their sequence numbers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WireBatch {
    /// The messages.
    pub messages: Vec<WireMessage>,
}

/// The response to a [`WireBatch`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum WireReply {
    /// The receiver holds, durably, every message numbered below `mark`.
    Ack {
        /// The first sequence number the receiver does not hold.
        mark: u64,
    },
    /// The receiver refused the batch, or took it only up to `mark`, for `reason`.
    Refused {
        /// The first sequence number the receiver does not hold.
        mark: u64,
        /// Why, for a log.
        reason: String,
    },
}
