//! Chenilles between machines: each store's node identity (an ed25519 key kept in the store, so
//! encrypted when the store is), the peers it knows by name, the libp2p transport, and the node
//! that runs a store's processes and carries its exactly-once channels (`spec/protocol.md`).
//!
//! Identities and peers are kept in the store under refs of their own (`node/key`, `peer/NAME`),
//! through [`chenilles_store::BlobStore`] alone; outboxes and inboxes are the durable layer's
//! (`chenilles_durable`), which knows nothing of networks. This crate knows nothing of Scheme.

mod identity;
mod node;
mod peers;
mod transport;
mod wire;

pub use identity::{NODE_KEY_REF, NodeIdentity, node_identity, read_node_identity};
pub use node::{IDLE_RELEASE, MOST_MESSAGES_SENT_PER_BATCH, MOST_RETRY_PAUSE, Node, NodeError, Notice, StoreAccess};
pub use peers::{MAX_PEER_NAME_BYTES, Peer, add_peer, check_peer_name, list_peers, read_peer, remove_peer};
pub use transport::{Event, IDLE_CONNECTION, InboundId, PING_INTERVAL, REQUEST_TIMEOUT, RequestId, Transport};
pub use wire::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, PROTOCOL, WireBatch, WireMessage, WireReply};

pub use libp2p::{Multiaddr, PeerId};

/// Why a node or peer operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] chenilles_store::StoreError),
    /// What the store holds under a ref of ours does not read as what it should be.
    #[error("the store's {what} is malformed: {why}")]
    Malformed {
        /// Which ref's blob.
        what: String,
        /// What is wrong with it.
        why: String,
    },
    /// A peer name cannot be used.
    #[error("{0}")]
    BadPeerName(String),
    /// An address is not one a peer can be reached at.
    #[error("{0}")]
    BadAddress(String),
    /// No peer has this name.
    #[error("no peer is named {0:?}")]
    NoSuchPeer(String),
    /// The name is taken by another peer, or the peer is known under another name.
    #[error("{0}")]
    PeerConflict(String),
    /// The network transport could not be started.
    #[error("the network transport failed: {0}")]
    Transport(String),
}
