//! The node identity: one ed25519 key per store, made the first time it is asked for and kept in
//! the store (under [`NODE_KEY_REF`]), so that a store has the same peer id on every machine it
//! is copied to and the key is encrypted exactly when the store is.

use chenilles_store::{Batch, BlobStore, StoreError};
use libp2p::PeerId;
use libp2p::identity::{Keypair, ed25519};
use zeroize::Zeroizing;

use crate::NetError;

/// The ref naming the blob that holds the store's node key.
pub const NODE_KEY_REF: &str = "node/key";

/// What a node key blob starts with; the 32 bytes of the ed25519 secret key follow.
const NODE_KEY_MAGIC: &[u8] = b"chenilles node key 1\n";

/// A store's node identity: its key pair and the peer id derived from it. The secret key is
/// zeroized when this is dropped (libp2p's ed25519 keys zeroize themselves).
#[derive(Clone)]
pub struct NodeIdentity {
    keypair: Keypair,
}

impl NodeIdentity {
    /// The key pair, for the transport.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// The peer id other nodes know this one by (`12D3KooW…`).
    pub fn peer_id(&self) -> PeerId {
        self.keypair.public().to_peer_id()
    }
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeIdentity").field("peer_id", &self.peer_id()).finish_non_exhaustive()
    }
}

/// The store's node identity, if it has one yet (reads only).
pub fn read_node_identity(store: &dyn BlobStore) -> Result<Option<NodeIdentity>, NetError> {
    let Some(hash) = store.get_ref(NODE_KEY_REF)? else {
        return Ok(None);
    };
    let bytes = Zeroizing::new(store.get(&hash)?.ok_or(StoreError::MissingBlob { hash })?);
    decode(&bytes).map(Some)
}

/// The store's node identity, made and committed now if it has none: every later call, on this
/// machine or on any the store is copied to, gives the same one. Two callers racing to make it
/// both end with the one that was committed first.
pub fn node_identity(store: &mut dyn BlobStore) -> Result<NodeIdentity, NetError> {
    if let Some(identity) = read_node_identity(store)? {
        return Ok(identity);
    }
    let secret = ed25519::SecretKey::generate();
    let mut bytes = Zeroizing::new(NODE_KEY_MAGIC.to_vec());
    bytes.extend_from_slice(secret.as_ref());
    let mut batch = Batch::default();
    let hash = batch.put(bytes.to_vec());
    batch.set_ref(NODE_KEY_REF, None, hash);
    match store.commit(batch) {
        Ok(()) => {}
        // Another writer made one first: use it.
        Err(StoreError::RefConflict { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    read_node_identity(store)?.ok_or_else(|| malformed("it was committed but does not read back"))
}

fn decode(bytes: &[u8]) -> Result<NodeIdentity, NetError> {
    let secret = bytes
        .strip_prefix(NODE_KEY_MAGIC)
        .ok_or_else(|| malformed("it does not start as a node key does (version 1)"))?;
    let mut secret = Zeroizing::new(<[u8; 32]>::try_from(secret).map_err(|_| malformed("its key is not 32 bytes"))?);
    let secret = ed25519::SecretKey::try_from_bytes(&mut secret[..]).map_err(|e| malformed(&e.to_string()))?;
    Ok(NodeIdentity { keypair: ed25519::Keypair::from(secret).into() })
}

fn malformed(why: &str) -> NetError {
    NetError::Malformed { what: format!("node key ({NODE_KEY_REF})"), why: why.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chenilles_store::MemoryStore;

    #[test]
    fn the_identity_is_made_once_and_read_back_alike() {
        let mut store = MemoryStore::default();
        assert!(read_node_identity(&store).unwrap().is_none());
        let first = node_identity(&mut store).unwrap();
        let again = node_identity(&mut store).unwrap();
        assert_eq!(first.peer_id(), again.peer_id());
        assert_eq!(read_node_identity(&store).unwrap().unwrap().peer_id(), first.peer_id());
        assert!(first.peer_id().to_string().starts_with("12D3KooW"), "{}", first.peer_id());
        assert_eq!(store.list_refs().unwrap().len(), 1);
    }

    #[test]
    fn a_malformed_key_is_a_clear_error() {
        for bytes in [b"nonsense".to_vec(), [NODE_KEY_MAGIC, &[1u8; 31]].concat()] {
            let mut store = MemoryStore::default();
            let mut batch = Batch::default();
            let hash = batch.put(bytes);
            batch.set_ref(NODE_KEY_REF, None, hash);
            store.commit(batch).unwrap();
            let error = read_node_identity(&store).unwrap_err();
            assert!(error.to_string().starts_with("the store's node key (node/key) is malformed"), "{error}");
            assert!(node_identity(&mut store).is_err(), "a malformed key is not replaced");
        }
    }
}
