//! The node: a store's processes, run by its [`Host`], and its channels to other nodes, carried by
//! the [`Transport`] (`spec/protocol.md`, Channels).
//!
//! One loop does everything that touches the store, so that each commit has one writer: it runs
//! the processes a round at a time, sends each peer what its outbox holds beyond what the peer
//! acknowledged (one batch in flight per peer), takes the batches peers send into the inboxes and
//! acknowledges them once committed, and prunes outboxes by the acknowledgements it gets. A batch
//! that failed, or that the peer did not take to its end, is sent again after a pause that
//! doubles up to [`MOST_RETRY_PAUSE`]; a new connection to a peer sends again at once.
//!
//! When it has nothing to do, the node lets go of its store (after [`IDLE_RELEASE`]) so that other
//! commands can use it, and takes it back when a peer sends something, a process's deadline or a
//! retry comes, or another program changed the store ([`StoreAccess::changed`]).

use std::collections::BTreeMap;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use chenilles_durable::{Host, Incoming, Stop};
use chenilles_store::BlobStore;
use libp2p::{Multiaddr, PeerId};

use crate::transport::{Event, InboundId, RequestId, Transport};
use crate::wire::{WireBatch, WireMessage, WireReply};
use crate::{NetError, NodeIdentity, Peer, list_peers, read_peer};

/// The most messages the node sends a peer in one batch.
pub const MOST_MESSAGES_SENT_PER_BATCH: usize = 512;
/// The most bytes of message text the node puts in one batch (the transport takes 4 MiB).
const MOST_BATCH_TEXT_BYTES: usize = 3 << 20;
/// The first pause before a batch is sent again.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(100);
/// The longest pause before a batch is sent again.
pub const MOST_RETRY_PAUSE: Duration = Duration::from_secs(5);
/// How long the node keeps its store with nothing to do before letting it go.
pub const IDLE_RELEASE: Duration = Duration::from_millis(100);
/// How often a node that let its store go looks whether another program changed it.
const STORE_LOOK: Duration = Duration::from_millis(100);
/// The most events taken in one go before the processes get a round again.
const EVENTS_PER_TURN: usize = 256;

/// How the node takes its store and watches it while it has let it go.
pub trait StoreAccess {
    /// Opens the store for writing, waiting while another program holds it; `runs` are the
    /// processes the node has in memory (to say so to other programs).
    fn open(&mut self, runs: &[String]) -> Result<Box<dyn BlobStore>, NodeError>;
    /// Called once the node has let the store go.
    fn let_go(&mut self) {}
    /// Whether another program may have changed the store since the last call, or since
    /// [`StoreAccess::let_go`] (a cheap look).
    fn changed(&mut self) -> bool;
}

/// Why the node stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Reading peers or the node's key failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Running processes, or committing messages, failed.
    #[error(transparent)]
    Durable(#[from] chenilles_durable::DurableError),
    /// Reading or writing a channel failed.
    #[error(transparent)]
    Snapshot(#[from] chenilles_durable::SnapshotError),
    /// The store could not be taken back.
    #[error("{0}")]
    Store(String),
    /// The transport's thread stopped.
    #[error("the network transport stopped")]
    TransportGone,
}

/// What the node says as it works: for a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The transport listens on this address.
    Listening(Multiaddr),
    /// A process ended.
    Ended {
        /// The process.
        name: String,
        /// How ([`chenilles_durable::Status::word`]).
        status: String,
    },
    /// A peer's batch was not taken to its end.
    Stopped {
        /// The peer.
        peer: String,
        /// Why.
        why: String,
    },
    /// Something from the network was refused.
    Refused {
        /// Who sent it (a peer's name, or its id when the store does not know it).
        from: String,
        /// Why.
        why: String,
    },
    /// A batch to a peer failed, and will be sent again.
    SendFailed {
        /// The peer.
        peer: String,
        /// Why.
        why: String,
    },
}

/// One peer's outgoing channel, as the node carries it.
#[derive(Debug, Default)]
struct Channel {
    /// The peer, if the store knows it (messages to an unknown peer wait in its outbox).
    peer: Option<Peer>,
    /// The sequence number the next message to the peer gets.
    next_seq: u64,
    /// The first one the peer has not acknowledged.
    acked: u64,
    /// The batch sent and not answered yet: its request, and the number after its last message.
    in_flight: Option<(RequestId, u64)>,
    /// Not before this is a batch sent again.
    retry_at: Option<Instant>,
    /// The pause after the next failure.
    pause: Duration,
}

impl Channel {
    /// When a batch may go next: `None` with nothing to send (nothing waits, the peer is
    /// unknown, or a batch is in flight), else the retry time, or `now`.
    fn next_send(&self, now: Instant) -> Option<Instant> {
        let waits = self.peer.is_some() && self.in_flight.is_none() && self.next_seq > self.acked;
        waits.then(|| self.retry_at.unwrap_or(now))
    }

    fn has_work(&self, now: Instant) -> bool {
        self.next_send(now).is_some_and(|at| at <= now)
    }

    /// After a failure, or a batch not taken to its end: wait before sending again.
    fn back_off(&mut self) {
        self.in_flight = None;
        self.pause = if self.pause.is_zero() { FIRST_RETRY_PAUSE } else { (self.pause * 2).min(MOST_RETRY_PAUSE) };
        self.retry_at = Some(Instant::now() + self.pause);
    }
}

/// A store's node: its host, its transport and its channels.
pub struct Node {
    host: Host,
    transport: Transport,
    /// Outgoing channels by peer name.
    channels: BTreeMap<String, Channel>,
    /// Known peers by id, for naming what comes in.
    names: BTreeMap<PeerId, String>,
    notices: Box<dyn FnMut(Notice) + Send>,
    /// What peers may make the store hold.
    limits: chenilles_durable::Limits,
    /// When the node last did something.
    last_work: Instant,
}

impl Node {
    /// A node running `host`'s processes (the host holds the store), listening on `listen`.
    pub fn start(host: Host, identity: &NodeIdentity, listen: &[Multiaddr]) -> Result<Node, NodeError> {
        Node::launch(host, identity, listen, false)
    }

    /// A node as [`Node::start`] makes, that is also a circuit relay: other nodes may listen
    /// through it (`ADDRESS/p2p/ID/p2p-circuit`) and be reached there. It sees only their
    /// encrypted streams.
    pub fn start_relaying(host: Host, identity: &NodeIdentity, listen: &[Multiaddr]) -> Result<Node, NodeError> {
        Node::launch(host, identity, listen, true)
    }

    fn launch(mut host: Host, identity: &NodeIdentity, listen: &[Multiaddr], relay: bool) -> Result<Node, NodeError> {
        host.resume_all()?;
        let keypair = identity.keypair().clone();
        let transport =
            if relay { Transport::start_relay(keypair, listen)? } else { Transport::start(keypair, listen)? };
        let mut node = Node {
            host,
            transport,
            channels: BTreeMap::new(),
            names: BTreeMap::new(),
            notices: Box::new(|_| {}),
            limits: chenilles_durable::Limits::default(),
            last_work: Instant::now(),
        };
        node.refresh_all()?;
        Ok(node)
    }

    /// Where notices go (by default, nowhere).
    pub fn on_notice(&mut self, notices: impl FnMut(Notice) + Send + 'static) {
        self.notices = Box::new(notices);
    }

    /// Sets what peers may make the store hold (by default, [`chenilles_durable::Limits::default`]).
    pub fn set_limits(&mut self, limits: chenilles_durable::Limits) {
        self.limits = limits;
    }

    /// The node's host (to spawn processes, send them messages, read their output).
    pub fn host(&mut self) -> &mut Host {
        &mut self.host
    }

    /// The node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.transport.peer_id()
    }

    /// Runs until `stop` says so (looked at least every [`STORE_LOOK`]) or a fatal error.
    pub fn serve(&mut self, access: &mut dyn StoreAccess, stop: &dyn Fn() -> bool) -> Result<(), NodeError> {
        while !stop() {
            self.turn(access)?;
        }
        Ok(())
    }

    /// One turn: a round of the processes, the batches due, then the network's events (waiting
    /// for one only when there is nothing else to do).
    pub fn turn(&mut self, access: &mut dyn StoreAccess) -> Result<(), NodeError> {
        let mut busy = false;
        if self.holds_store() {
            let round = self.host.run_round()?;
            for (name, status) in round.ended {
                (self.notices)(Notice::Ended { name, status: status.word().to_string() });
            }
            busy |= round.more;
            for peer in self.host.take_peers_sent_to() {
                self.refresh_channel(&peer)?;
            }
            busy |= self.carry()?;
        } else if self.due(Instant::now()) || access.changed() {
            self.take_store(access)?;
            return Ok(());
        }
        let wait = if busy { Duration::ZERO } else { self.nap() };
        match self.transport.events().recv_timeout(wait) {
            Ok(event) => {
                self.take_store(access)?;
                self.handle(event)?;
                for _ in 1..EVENTS_PER_TURN {
                    match self.transport.events().try_recv() {
                        Ok(event) => self.handle(event)?,
                        Err(_) => break,
                    }
                }
                self.last_work = Instant::now();
            }
            Err(RecvTimeoutError::Timeout) => {
                if busy {
                    self.last_work = Instant::now();
                } else if self.holds_store() && self.last_work.elapsed() >= IDLE_RELEASE {
                    drop(self.host.release_store());
                    access.let_go();
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(NodeError::TransportGone),
        }
        Ok(())
    }

    fn holds_store(&self) -> bool {
        self.host.has_store()
    }

    /// Takes the store back if it was let go: processes moved by other programs reloaded, new
    /// ones resumed, peers and outboxes read again (`peer add` or a process run elsewhere may have
    /// changed them).
    fn take_store(&mut self, access: &mut dyn StoreAccess) -> Result<(), NodeError> {
        if self.holds_store() {
            return Ok(());
        }
        let store = access.open(&self.host.names())?;
        for (name, status) in self.host.attach_store(store)? {
            (self.notices)(Notice::Ended { name, status: status.word().to_string() });
        }
        self.host.resume_all()?;
        self.refresh_all()?;
        self.last_work = Instant::now();
        Ok(())
    }

    /// Whether something needs the store now: a process's deadline, or a batch to send again.
    fn due(&self, now: Instant) -> bool {
        let deadline = self.host.next_deadline().is_some_and(|t| t <= std::time::SystemTime::now());
        deadline || self.channels.values().any(|c| c.has_work(now))
    }

    /// How long to wait for the network when there is nothing else to do.
    fn nap(&self) -> Duration {
        let now = Instant::now();
        let mut nap = if self.host.has_store() { IDLE_RELEASE } else { STORE_LOOK };
        if let Some(deadline) = self.host.next_deadline() {
            nap = nap.min(deadline.duration_since(std::time::SystemTime::now()).unwrap_or_default());
        }
        for at in self.channels.values().filter_map(|c| c.next_send(now)) {
            nap = nap.min(at.saturating_duration_since(now));
        }
        nap
    }

    fn store(&mut self) -> Result<&mut dyn BlobStore, NodeError> {
        Ok(self.host.store()?)
    }

    /// Reads every peer and the outbox to each again.
    fn refresh_all(&mut self) -> Result<(), NodeError> {
        let peers = list_peers(self.store()?)?;
        self.names = peers.iter().map(|p| (p.id, p.name.clone())).collect();
        let mut names: Vec<String> = peers.iter().map(|p| p.name.clone()).collect();
        names.extend(self.channels.keys().cloned());
        names.sort();
        names.dedup();
        for name in names {
            self.refresh_channel(&name)?;
        }
        Ok(())
    }

    /// Reads the peer `name` and its outbox's marks again.
    fn refresh_channel(&mut self, name: &str) -> Result<(), NodeError> {
        let peer = read_peer(self.store()?, name)?;
        let (next_seq, acked) = chenilles_durable::outbox_marks(self.store()?, name)?;
        let channel = self.channels.entry(name.to_string()).or_default();
        if let Some(peer) = &peer {
            self.names.insert(peer.id, name.to_string());
        }
        channel.peer = peer;
        channel.next_seq = next_seq;
        channel.acked = channel.acked.max(acked);
        Ok(())
    }

    /// Sends a batch to each peer that has messages waiting and none in flight. Returns whether
    /// it sent any.
    fn carry(&mut self) -> Result<bool, NodeError> {
        let now = Instant::now();
        let due: Vec<String> = self.channels.iter().filter(|(_, c)| c.has_work(now)).map(|(n, _)| n.clone()).collect();
        for name in &due {
            let acked = self.channels.get(name).map_or(0, |c| c.acked);
            let outgoing = chenilles_durable::read_outgoing(self.store()?, name, acked, MOST_MESSAGES_SENT_PER_BATCH)?;
            let mut messages = Vec::with_capacity(outgoing.len());
            let mut bytes = 0;
            for message in outgoing {
                bytes += message.text.len();
                if bytes > MOST_BATCH_TEXT_BYTES && !messages.is_empty() {
                    break;
                }
                messages.push(WireMessage { seq: message.seq, from: message.from, to: message.to, text: message.text });
            }
            let Some(channel) = self.channels.get_mut(name) else { continue };
            let (Some(peer), Some(last)) = (&channel.peer, messages.last()) else { continue };
            let up_to = last.seq + 1;
            let request = self.transport.send(peer.id, peer.full_addresses(), WireBatch { messages });
            channel.in_flight = Some((request, up_to));
            channel.retry_at = None;
        }
        Ok(!due.is_empty())
    }

    fn handle(&mut self, event: Event) -> Result<(), NodeError> {
        match event {
            Event::Listening(address) => (self.notices)(Notice::Listening(address)),
            Event::Inbound { from, id, batch } => self.receive(from, id, batch)?,
            Event::Replied { to, request, reply } => self.replied(to, request, reply)?,
            Event::Failed { request, error, .. } => {
                if let Some((name, channel)) = self.channel_of(request) {
                    channel.back_off();
                    let peer = name.clone();
                    (self.notices)(Notice::SendFailed { peer, why: error });
                }
            }
            Event::Refused { from, why } => {
                let from = from.map_or_else(|| "an unidentified connection".to_string(), |id| self.name_of(&id));
                (self.notices)(Notice::Refused { from, why });
            }
            Event::Connected(id) => {
                // A new connection: what waits for this peer goes at once.
                for channel in self.channels.values_mut() {
                    if channel.peer.as_ref().is_some_and(|p| p.id == id) && channel.in_flight.is_none() {
                        channel.retry_at = None;
                        channel.pause = Duration::ZERO;
                    }
                }
            }
            Event::Disconnected(_) => {}
        }
        Ok(())
    }

    fn name_of(&self, id: &PeerId) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_base58())
    }

    fn channel_of(&mut self, request: RequestId) -> Option<(&String, &mut Channel)> {
        self.channels.iter_mut().find(|(_, c)| c.in_flight.is_some_and(|(r, _)| r == request))
    }

    /// A batch from `from`: taken into the inbox (committed), then acknowledged.
    fn receive(&mut self, from: PeerId, id: InboundId, batch: WireBatch) -> Result<(), NodeError> {
        let Some(name) = self.names.get(&from).cloned() else {
            (self.notices)(Notice::Refused {
                from: from.to_base58(),
                why: "a batch from a peer this store does not know".into(),
            });
            let reply = WireReply::Refused { mark: 0, reason: "this node does not know you".into() };
            self.transport.reply(id, reply);
            return Ok(());
        };
        let incoming: Vec<Incoming> =
            batch.messages.into_iter().map(|m| Incoming { seq: m.seq, from: m.from, to: m.to, text: m.text }).collect();
        let received = self.host.receive_from_peer(&from.to_base58(), &name, &incoming, self.limits)?;
        let reply = match &received.stopped {
            Some(Stop::Refused(why)) => {
                (self.notices)(Notice::Refused { from: name.clone(), why: why.clone() });
                WireReply::Refused { mark: received.mark, reason: why.clone() }
            }
            Some(stop) => {
                (self.notices)(Notice::Stopped { peer: name.clone(), why: stop.to_string() });
                WireReply::Ack { mark: received.mark }
            }
            None => WireReply::Ack { mark: received.mark },
        };
        self.transport.reply(id, reply);
        Ok(())
    }

    /// A peer's answer to a batch: its acknowledgement prunes the outbox.
    fn replied(&mut self, to: PeerId, request: RequestId, reply: WireReply) -> Result<(), NodeError> {
        let Some((name, channel)) = self.channel_of(request) else {
            return Ok(());
        };
        let name = name.clone();
        let Some((_, up_to)) = channel.in_flight.take() else { return Ok(()) };
        let (mark, refusal) = match reply {
            WireReply::Ack { mark } => (mark, None),
            WireReply::Refused { mark, reason } => (mark, Some(reason)),
        };
        if channel.peer.as_ref().is_none_or(|p| p.id != to) {
            return Ok(());
        }
        match chenilles_durable::acknowledge(self.store()?, &name, mark) {
            Ok(_) => {}
            Err(chenilles_durable::AckError::BeyondSent { mark, sent }) => {
                let why = format!("it acknowledged messages up to {mark}, but only {sent} were sent to it");
                (self.notices)(Notice::Refused { from: name.clone(), why });
            }
            Err(chenilles_durable::AckError::Store(error)) => return Err(error.into()),
        }
        let Some(channel) = self.channels.get_mut(&name) else { return Ok(()) };
        if mark > channel.acked && mark <= channel.next_seq {
            channel.acked = mark;
        }
        if let Some(reason) = refusal {
            channel.back_off();
            (self.notices)(Notice::SendFailed { peer: name, why: format!("the peer refused the batch: {reason}") });
        } else if mark < up_to {
            // The peer held some back (a process it does not have yet, a full mailbox): later.
            channel.back_off();
        } else {
            channel.pause = Duration::ZERO;
            channel.retry_at = None;
        }
        Ok(())
    }
}
