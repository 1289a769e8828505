//! The peers a store knows, by name: each is a peer id and the addresses it may be reached at,
//! kept under the ref `peer/NAME`. A name is what processes and people use (`(send '(bob
//! channel) …)`, `chenilles-vm peer add bob …`); the peer id is what the transport verifies, so a
//! peer id has at most one name and a name one peer id.

use chenilles_store::{Batch, BlobStore, Hash, StoreError};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

use crate::{NetError, read_node_identity};

/// The longest peer name, in bytes.
pub const MAX_PEER_NAME_BYTES: usize = 200;

/// The prefix of the refs of known peers.
const PEER_PREFIX: &str = "peer/";

/// The first line of a peer blob (a text: this line, `id PEER_ID`, then one `addr MULTIADDR` line
/// per address).
const PEER_MAGIC: &str = "chenilles peer 1";

/// A known peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its name in this store.
    pub name: String,
    /// Its peer id, which the transport checks.
    pub id: PeerId,
    /// Where it may be reached, without the trailing `/p2p/PEER_ID`, in the order they were added.
    pub addresses: Vec<Multiaddr>,
}

impl Peer {
    /// Its addresses with `/p2p/PEER_ID` appended, as they are given to `peer add`.
    pub fn full_addresses(&self) -> Vec<Multiaddr> {
        self.addresses.iter().map(|address| address.clone().with(Protocol::P2p(self.id))).collect()
    }
}

/// Checks that `name` can name a peer: not empty, at most [`MAX_PEER_NAME_BYTES`], no control
/// characters (they would forge lines in listings), no `/` (it separates the parts of ref names)
/// and no whitespace (a listing's columns, a command's arguments).
pub fn check_peer_name(name: &str) -> Result<(), NetError> {
    let refuse = |why: &str| Err(NetError::BadPeerName(format!("the peer name {name:?} {why}")));
    if name.is_empty() {
        refuse("is empty")
    } else if name.len() > MAX_PEER_NAME_BYTES {
        refuse(&format!("is longer than {MAX_PEER_NAME_BYTES} bytes"))
    } else if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        refuse("holds a control character or a space")
    } else if name.contains('/') {
        refuse("holds a `/`")
    } else {
        Ok(())
    }
}

fn peer_ref(name: &str) -> String {
    format!("{PEER_PREFIX}{name}")
}

/// Peer `name`, if the store knows one by that name.
pub fn read_peer(store: &dyn BlobStore, name: &str) -> Result<Option<Peer>, NetError> {
    Ok(held_peer(store, name)?.map(|(_, peer)| peer))
}

/// Peer `name` and the blob its ref names (for a compare-and-swap of that ref), if it is known.
fn held_peer(store: &dyn BlobStore, name: &str) -> Result<Option<(Hash, Peer)>, NetError> {
    check_peer_name(name)?;
    match store.get_ref(&peer_ref(name))? {
        None => Ok(None),
        Some(hash) => {
            let bytes = store.get(&hash)?.ok_or(StoreError::MissingBlob { hash })?;
            Ok(Some((hash, decode(name, &bytes)?)))
        }
    }
}

/// Every peer the store knows, by name.
pub fn list_peers(store: &dyn BlobStore) -> Result<Vec<Peer>, NetError> {
    let mut peers = Vec::new();
    for (ref_name, hash) in store.list_refs_with_prefix(PEER_PREFIX, None)? {
        let name = &ref_name[PEER_PREFIX.len()..];
        let bytes = store.get(&hash)?.ok_or(StoreError::MissingBlob { hash })?;
        peers.push(decode(name, &bytes)?);
    }
    Ok(peers)
}

/// Adds peer `name` at `address`, which must end with `/p2p/PEER_ID`: a new peer, or a new
/// address of the peer already known by that name with that id (an address it has is no
/// change). A name that is another peer's, a peer id known under another name, and this store's
/// own id are refused, and nothing is written. Returns the peer as it now is.
pub fn add_peer(store: &mut dyn BlobStore, name: &str, address: &Multiaddr) -> Result<Peer, NetError> {
    check_peer_name(name)?;
    let (id, transport) = split_address(address)?;
    if read_node_identity(store)?.is_some_and(|own| own.peer_id() == id) {
        return Err(NetError::PeerConflict(format!("{id} is this store's own node")));
    }
    if let Some(other) = list_peers(store)?.into_iter().find(|peer| peer.id == id && peer.name != name) {
        return Err(NetError::PeerConflict(format!("{id} is already the peer {:?}", other.name)));
    }
    let held = held_peer(store, name)?;
    let held_hash = held.as_ref().map(|(hash, _)| *hash);
    let mut peer = match held.map(|(_, peer)| peer) {
        Some(peer) if peer.id != id => {
            return Err(NetError::PeerConflict(format!(
                "the peer {name:?} is {}, not {id}: remove it first to name another peer so",
                peer.id
            )));
        }
        Some(peer) => peer,
        None => Peer { name: name.to_string(), id, addresses: Vec::new() },
    };
    if peer.addresses.contains(&transport) {
        return Ok(peer);
    }
    peer.addresses.push(transport);
    let mut batch = Batch::default();
    let hash = batch.put(encode(&peer).into_bytes());
    batch.set_ref(&peer_ref(name), held_hash, hash);
    store.commit(batch)?;
    Ok(peer)
}

/// Forgets peer `name` (its addresses and id).
pub fn remove_peer(store: &mut dyn BlobStore, name: &str) -> Result<Peer, NetError> {
    let (hash, peer) = held_peer(store, name)?.ok_or_else(|| NetError::NoSuchPeer(name.to_string()))?;
    let mut batch = Batch::default();
    batch.delete_ref(&peer_ref(name), hash);
    store.commit(batch)?;
    Ok(peer)
}

/// The peer id an address ends with, and the address without it.
fn split_address(address: &Multiaddr) -> Result<(PeerId, Multiaddr), NetError> {
    let mut transport = address.clone();
    let Some(Protocol::P2p(id)) = transport.pop() else {
        return Err(NetError::BadAddress(format!(
            "{address} does not end with /p2p/PEER_ID: the peer's id is what proves who answers"
        )));
    };
    if transport.is_empty() {
        return Err(NetError::BadAddress(format!("{address} says who the peer is but not where (/ip4/…/tcp/…)")));
    }
    if transport.iter().any(|protocol| matches!(protocol, Protocol::P2p(_)))
        && !transport.iter().any(|protocol| matches!(protocol, Protocol::P2pCircuit))
    {
        return Err(NetError::BadAddress(format!("{address} names two peers but no relay circuit (/p2p-circuit)")));
    }
    Ok((id, transport))
}

fn encode(peer: &Peer) -> String {
    let mut text = format!("{PEER_MAGIC}\nid {}\n", peer.id);
    for address in &peer.addresses {
        text.push_str(&format!("addr {address}\n"));
    }
    text
}

fn decode(name: &str, bytes: &[u8]) -> Result<Peer, NetError> {
    let malformed = |why: String| NetError::Malformed { what: format!("peer {name:?}"), why };
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("it is not UTF-8".into()))?;
    let mut lines = text.lines();
    if lines.next() != Some(PEER_MAGIC) {
        return Err(malformed(format!("it does not start with {PEER_MAGIC:?}")));
    }
    let id =
        lines.next().and_then(|line| line.strip_prefix("id ")).ok_or_else(|| malformed("it has no id line".into()))?;
    let id: PeerId = id.parse().map_err(|e| malformed(format!("its id {id:?}: {e}")))?;
    let mut addresses = Vec::new();
    for line in lines {
        let address = line.strip_prefix("addr ").ok_or_else(|| malformed(format!("the line {line:?}")))?;
        addresses.push(address.parse().map_err(|e| malformed(format!("its address {address:?}: {e}")))?);
    }
    Ok(Peer { name: name.to_string(), id, addresses })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chenilles_store::MemoryStore;
    use libp2p::identity::Keypair;

    fn some_id() -> PeerId {
        Keypair::generate_ed25519().public().to_peer_id()
    }

    fn at(port: u16, id: PeerId) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}/p2p/{id}").parse().unwrap()
    }

    #[test]
    fn peers_are_added_listed_given_addresses_and_removed() {
        let mut store = MemoryStore::default();
        let (bob, carol) = (some_id(), some_id());
        let added = add_peer(&mut store, "bob", &at(4001, bob)).unwrap();
        assert_eq!(added.addresses, ["/ip4/127.0.0.1/tcp/4001".parse::<Multiaddr>().unwrap()]);
        assert_eq!(added.full_addresses(), [at(4001, bob)]);
        add_peer(&mut store, "bob", &at(4002, bob)).unwrap();
        let again = add_peer(&mut store, "bob", &at(4002, bob)).unwrap();
        assert_eq!(again.addresses.len(), 2, "an address it has is no change");
        add_peer(&mut store, "carol", &at(5000, carol)).unwrap();
        let names: Vec<String> = list_peers(&store).unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["bob", "carol"]);
        assert_eq!(read_peer(&store, "bob").unwrap().unwrap().full_addresses(), [at(4001, bob), at(4002, bob)]);
        assert_eq!(remove_peer(&mut store, "bob").unwrap().id, bob);
        assert!(read_peer(&store, "bob").unwrap().is_none());
        assert!(matches!(remove_peer(&mut store, "bob"), Err(NetError::NoSuchPeer(_))));
    }

    #[test]
    fn conflicts_and_bad_input_are_refused_and_change_nothing() {
        let mut store = MemoryStore::default();
        let own = crate::node_identity(&mut store).unwrap().peer_id();
        let (bob, other) = (some_id(), some_id());
        add_peer(&mut store, "bob", &at(4001, bob)).unwrap();
        let before = store.list_refs().unwrap();
        let cases: Vec<(&str, Multiaddr, &str)> = vec![
            ("bob", at(4001, other), "the peer \"bob\" is"),
            ("robert", at(4001, bob), "is already the peer \"bob\""),
            ("me", at(4001, own), "this store's own node"),
            ("dave", "/ip4/127.0.0.1/tcp/4001".parse().unwrap(), "does not end with /p2p/"),
            ("dave", format!("/p2p/{other}").parse().unwrap(), "but not where"),
            ("", at(1, other), "is empty"),
            ("a/b", at(1, other), "holds a `/`"),
            ("a b", at(1, other), "a space"),
        ];
        for (name, address, expected) in cases {
            let error = add_peer(&mut store, name, &address).unwrap_err();
            assert!(error.to_string().contains(expected), "{name} {address}: {error}");
            assert_eq!(store.list_refs().unwrap(), before, "{name} {address}: nothing written");
        }
    }

    #[test]
    fn a_malformed_peer_is_a_clear_error() {
        let mut store = MemoryStore::default();
        let mut batch = Batch::default();
        let hash = batch.put(b"chenilles peer 1\nid nonsense\n".to_vec());
        batch.set_ref("peer/bob", None, hash);
        store.commit(batch).unwrap();
        let error = read_peer(&store, "bob").unwrap_err();
        assert!(error.to_string().starts_with("the store's peer \"bob\" is malformed: its id"), "{error}");
        assert!(list_peers(&store).is_err());
    }
}
