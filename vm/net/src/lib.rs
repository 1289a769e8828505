//! Chenilles between machines: each store's node identity (an ed25519 key kept in the store, so
//! encrypted when the store is) and the peers it knows by name. The exactly-once channels between
//! nodes and their libp2p transport build on these (`spec/protocol.md`).
//!
//! Everything here is kept in the store under refs of its own (`node/key`, `peer/NAME`), through
//! [`chenilles_store::BlobStore`] alone: the store knows nothing of nodes, and this crate nothing
//! of Scheme.

mod identity;
mod peers;

pub use identity::{NODE_KEY_REF, NodeIdentity, node_identity, read_node_identity};
pub use peers::{MAX_PEER_NAME_BYTES, Peer, add_peer, check_peer_name, list_peers, read_peer, remove_peer};

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
}
