//! `chenilles-vm serve`: the store's node — every process of the store run, and its channels to
//! other nodes carried — until stopped by SIGINT or SIGTERM.

use std::process::ExitCode;

use chenilles_net::{Multiaddr, Node, NodeError, Notice, StoreAccess};
use chenilles_store::{BlobStore, FileIdentity, StoreWatch};

use crate::cli::args::{DurableArgs, StoreArgs};
use crate::cli::driving::{Echo, fail, finish_replicating, host_for};
use crate::cli::signals::StopSignals;
use crate::cli::store::{Open, announce_runs, announce_serving, open_for_writing, reopen, store_path};
use crate::note;

/// Where a node listens when no --listen is given.
const DEFAULT_LISTEN: &str = "/ip4/0.0.0.0/tcp/4001";

#[derive(clap::Args)]
pub struct Serve {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    durable: DurableArgs,
    /// Where other nodes reach this one: a multiaddr such as /ip4/0.0.0.0/tcp/4001 (the
    /// default), /ip4/127.0.0.1/tcp/0 for a free port, or RELAY_ADDRESS/p2p-circuit to be
    /// reachable through a relay. May be given several times.
    #[arg(long, value_name = "MULTIADDR")]
    listen: Vec<Multiaddr>,
    /// Also be a circuit relay for nodes that cannot be reached directly: they listen through
    /// this one (ITS_ADDRESS/p2p/ITS_ID/p2p-circuit) and are reached there; it sees only their
    /// encrypted streams.
    #[arg(long)]
    relay: bool,
}

impl Serve {
    pub fn execute(self) -> ExitCode {
        let Serve { store: store_args, durable: durable_args, mut listen, relay } = self;
        if durable_args.exit_when_waiting {
            note!("error: a node serves until it is stopped: --exit-when-waiting is for start and resume");
            return ExitCode::FAILURE;
        }
        if listen.is_empty() {
            listen.push(DEFAULT_LISTEN.parse().expect("the default address is a multiaddr"));
        }
        let signals = StopSignals::install();
        announce_serving();
        let mut store = match open_for_writing(&store_args, Open::ForNode) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let identity = match chenilles_net::node_identity(&mut store) {
            Ok(identity) => identity,
            Err(error) => {
                note!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        let file = store.identity();
        let (host, replicator) = match host_for(store, &durable_args, &signals, Echo::Prefixed) {
            Ok(hosted) => hosted,
            Err(code) => return code,
        };
        let started =
            if relay { Node::start_relaying(host, &identity, &listen) } else { Node::start(host, &identity, &listen) };
        let mut node = match started {
            Ok(node) => node,
            Err(error) => return node_failed(error),
        };
        announce_runs(&store_args, &node.host().names());
        let peer_id = node.peer_id();
        node.on_notice(move |notice| match notice {
            Notice::Listening(address) => note!("chenilles-vm: node listening on {address}/p2p/{peer_id}"),
            Notice::Ended { name, status } => note!("chenilles-vm: process {name} ended: {status}"),
            Notice::Stopped { peer, why } => note!("chenilles-vm: from peer {peer}: {why}; the rest waits"),
            Notice::Refused { from, why } => note!("chenilles-vm: refused from {from}: {why}"),
            Notice::SendFailed { peer, why } => note!("chenilles-vm: to peer {peer}: {why}; will try again"),
        });
        let mut access = CliStore { args: store_args.clone(), file, watch: StoreWatch::new(store_path(&store_args)) };
        let served = node.serve(&mut access, &|| signals.received().is_some());
        finish_replicating(replicator);
        match served {
            Ok(()) => {
                note!("chenilles-vm: node stopped; every process is at its last checkpoint");
                ExitCode::SUCCESS
            }
            Err(error) => node_failed(error),
        }
    }
}

fn node_failed(error: NodeError) -> ExitCode {
    match error {
        NodeError::Durable(error) => fail(error),
        error => {
            note!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The node's store as the command line reaches it: taken back by [`reopen`] (waiting while
/// another command holds it), watched by a `stat` while let go.
struct CliStore {
    args: StoreArgs,
    file: Option<FileIdentity>,
    watch: StoreWatch,
}

impl StoreAccess for CliStore {
    fn open(&mut self, runs: &[String]) -> Result<Box<dyn BlobStore>, NodeError> {
        let store = reopen(&self.args, self.file, runs)
            .map_err(|_| NodeError::Store("the store could not be taken back".into()))?;
        Ok(Box::new(store))
    }

    fn let_go(&mut self) {
        // What this node committed itself is no news to it.
        self.watch.changed();
    }

    fn changed(&mut self) -> bool {
        self.watch.changed()
    }
}
