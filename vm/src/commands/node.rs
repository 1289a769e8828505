//! `chenilles-vm node id`: the store's node identity, the peer id other nodes know it by.

use std::process::ExitCode;

use crate::cli::Listing;
use crate::cli::args::StoreArgs;
use crate::cli::store::{Open, open_for_reading, open_for_writing, store_path};
use crate::{note, say};

#[derive(clap::Args)]
pub struct Node {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Print the store's peer id (12D3KooW…), made on first use from an ed25519 key kept in the
    /// store (encrypted when the store is): what another node's `peer add` takes after /p2p/.
    Id(Id),
}

#[derive(clap::Args)]
struct Id {
    #[command(flatten)]
    store: StoreArgs,
}

impl Node {
    pub fn execute(self) -> ExitCode {
        match self.action {
            Action::Id(id) => id.execute(),
        }
    }
}

impl Id {
    fn execute(self) -> ExitCode {
        // Read-only when the key is there (a running host need not let the store go), else made
        // (with the store, if there is none yet).
        let existing = if store_path(&self.store).exists() {
            match open_for_reading(&self.store) {
                Ok(store) => chenilles_net::read_node_identity(&store),
                Err(code) => return code,
            }
        } else {
            Ok(None)
        };
        let identity = match existing {
            Ok(Some(identity)) => identity,
            Ok(None) => {
                let mut store = match open_for_writing(&self.store, Open::OrCreate) {
                    Ok(store) => store,
                    Err(code) => return code,
                };
                match chenilles_net::node_identity(&mut store) {
                    Ok(identity) => identity,
                    Err(error) => {
                        note!("error: {error}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            Err(error) => {
                note!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        let mut listing = Listing::default();
        say!(listing, "{}", identity.peer_id());
        listing.finish(ExitCode::SUCCESS)
    }
}
