//! `chenilles-vm peer add | list | remove`: the peers a store knows by name, each a peer id and
//! the addresses it may be reached at.

use std::process::ExitCode;

use chenilles_net::{Multiaddr, NetError};

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::store::{Open, open_for_reading, open_for_writing};
use crate::{note, say};

#[derive(clap::Args)]
pub struct Peer {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Name a peer, e.g. `peer add bob /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…` (the address ends
    /// with the peer id its `node id` prints); again with another address of the same peer adds
    /// that address.
    Add(Add),
    /// List the peers: name, peer id, messages queued for it (sent, not yet acknowledged),
    /// addresses.
    List(List),
    /// Forget a peer.
    Remove(Remove),
}

#[derive(clap::Args)]
struct Add {
    #[command(flatten)]
    store: StoreArgs,
    /// The name processes and commands use for the peer.
    name: String,
    /// A multiaddr ending with /p2p/PEER_ID.
    address: String,
}

#[derive(clap::Args)]
struct List {
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
struct Remove {
    #[command(flatten)]
    store: StoreArgs,
    /// The peer's name.
    name: String,
}

impl Peer {
    pub fn execute(self) -> ExitCode {
        match self.action {
            Action::Add(add) => add.execute(),
            Action::List(list) => list.execute(),
            Action::Remove(remove) => remove.execute(),
        }
    }
}

fn failed(error: NetError) -> ExitCode {
    note!("error: {error}");
    ExitCode::FAILURE
}

impl Add {
    fn execute(self) -> ExitCode {
        let address: Multiaddr = match self.address.parse() {
            Ok(address) => address,
            Err(error) => {
                note!("error: {:?} is not a multiaddr (/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…): {error}", self.address);
                return ExitCode::FAILURE;
            }
        };
        if let Err(error) = chenilles_net::check_peer_name(&self.name) {
            return failed(error);
        }
        let mut store = match open_for_writing(&self.store, Open::OrCreate) {
            Ok(store) => store,
            Err(code) => return code,
        };
        match chenilles_net::add_peer(&mut store, &self.name, &address) {
            Ok(peer) => {
                let count = peer.addresses.len();
                note!(
                    "chenilles-vm: peer {} is {} ({count} address{})",
                    peer.name,
                    peer.id,
                    if count == 1 { "" } else { "es" }
                );
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        }
    }
}

impl List {
    fn execute(self) -> ExitCode {
        let store = match open_for_reading(&self.store) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let peers = match chenilles_net::list_peers(&store) {
            Ok(peers) => peers,
            Err(error) => return failed(error),
        };
        let mut listing = Listing::default();
        for peer in peers {
            // What the store's processes sent it that it has not acknowledged yet.
            let queued = match chenilles_durable::read_outbox(&store, &peer.name) {
                Ok(outbox) => outbox.messages.len(),
                Err(error) => {
                    note!("error: the outbox to {}: {error}", peer.name);
                    return listing.finish(ExitCode::FAILURE);
                }
            };
            let addresses: Vec<String> = peer.addresses.iter().map(ToString::to_string).collect();
            say!(listing, "{}  {}  {queued} queued  {}", peer.name, peer.id, addresses.join(" "));
        }
        listing.finish(ExitCode::SUCCESS)
    }
}

impl Remove {
    fn execute(self) -> ExitCode {
        let mut store = match open_for_writing(&self.store, Open::Existing) {
            Ok(store) => store,
            Err(code) => return code,
        };
        match chenilles_net::remove_peer(&mut store, &self.name) {
            Ok(peer) => {
                note!("chenilles-vm: forgot peer {} ({})", peer.name, peer.id);
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        }
    }
}
