//! The transport: a libp2p endpoint (TCP, Noise, yamux; circuit relay v2) carrying the channel
//! protocol ([`crate::wire`]) for a caller that is not async. A thread of its own runs a tokio
//! runtime and the swarm; the caller gives it commands through [`Transport`]'s methods and takes
//! what happens from [`Transport::events`], blocking on it as it likes.
//!
//! Who sent a request is the peer id the connection's Noise handshake proved, over a relay as
//! directly (Noise runs end to end through the circuit): nothing in a payload is trusted for it.
//! What the network does wrong (a connection that fails its handshake, a request that does not
//! decode or is too big, a stream that breaks) is reported as [`Event::Refused`] and the endpoint
//! goes on serving. An idle endpoint sleeps: nothing wakes it but the network, a command, a ping
//! every [`PING_INTERVAL`] on each connection, and idle connections closing after
//! [`IDLE_CONNECTION`].

use std::collections::{HashMap, HashSet};
use std::future::poll_fn;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::Duration;

use libp2p::core::transport::ListenerId;
use libp2p::futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use libp2p::futures::io::Cursor;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, StreamExt};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{
    self, InboundRequestId, OutboundFailure, OutboundRequestId, ProtocolSupport, ResponseChannel, cbor,
};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{DialError, NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, SwarmBuilder, noise, ping, relay, tcp, yamux};

use crate::NetError;
use crate::wire::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, PROTOCOL, WireBatch, WireReply};

/// How long a request may wait for its response, and an inbound request for the caller's reply.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection with nothing going on is kept.
pub const IDLE_CONNECTION: Duration = Duration::from_secs(60);
/// How often each connection is pinged; one that does not answer is closed.
pub const PING_INTERVAL: Duration = Duration::from_secs(30);
/// How long a ping may take.
const PING_TIMEOUT: Duration = Duration::from_secs(20);
/// The first pause before listening again on an address whose listener closed (a relay that went
/// away, a reservation refused); it doubles up to [`MOST_LISTEN_PAUSE`].
const FIRST_LISTEN_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause before listening again.
const MOST_LISTEN_PAUSE: Duration = Duration::from_secs(60);
/// How long a relay keeps one circuit, and how many bytes it carries over it (libp2p's defaults,
/// 2 minutes and 128 KiB, are less than one batch).
const RELAY_CIRCUIT_DURATION: Duration = Duration::from_secs(10 * 60);
const RELAY_CIRCUIT_BYTES: u64 = 1 << 28;
/// How many circuits a relay carries at once.
const RELAY_CIRCUITS: usize = 256;

/// The number the transport gives a request it sends, to match the [`Event::Replied`] or
/// [`Event::Failed`] that ends it. Numbers count up from 1 over the transport's life.
pub type RequestId = u64;

/// An inbound request, to [`Transport::reply`] to (once).
#[derive(Debug)]
pub struct InboundId(InboundRequestId);

/// What happens on the network.
#[derive(Debug)]
pub enum Event {
    /// The endpoint listens on this address: a bound TCP address (with the real port when port 0
    /// was asked for), or a relayed one (`…/p2p/RELAY/p2p-circuit/p2p/SELF`) once the relay took
    /// the reservation.
    Listening(Multiaddr),
    /// A peer sent a batch; [`Transport::reply`] with `id` answers it (within
    /// [`REQUEST_TIMEOUT`]).
    Inbound {
        /// The peer, as its connection's handshake proved it.
        from: PeerId,
        /// What to reply to.
        id: InboundId,
        /// What it sent.
        batch: WireBatch,
    },
    /// A peer answered a request.
    Replied {
        /// The peer.
        to: PeerId,
        /// The request.
        request: RequestId,
        /// Its answer.
        reply: WireReply,
    },
    /// A request got no answer: the peer could not be dialled, did not answer in time, closed the
    /// connection, does not speak the protocol, or answered with what does not decode. It may or
    /// may not have received the request.
    Failed {
        /// The peer.
        to: PeerId,
        /// The request.
        request: RequestId,
        /// Why, for a log.
        error: String,
    },
    /// Something the network did was refused or lost, for a log and nothing else: a connection
    /// that failed its handshake, an inbound request that did not decode, was too big or broke
    /// off, a listen address lost (it is listened on again after a pause).
    Refused {
        /// The peer, when the connection had proved who it is.
        from: Option<PeerId>,
        /// What happened.
        why: String,
    },
    /// A first connection to this peer is up.
    Connected(PeerId),
    /// The last connection to this peer closed.
    Disconnected(PeerId),
}

/// A libp2p endpoint run by a thread of its own: see the module's documentation. Dropping it
/// stops the thread (as [`Transport::shutdown`] does).
pub struct Transport {
    peer_id: PeerId,
    commands: UnboundedSender<Command>,
    events: Receiver<Event>,
    next_request: AtomicU64,
    thread: Option<JoinHandle<()>>,
}

impl Transport {
    /// Starts an endpoint with this identity, listening on `listen`: TCP addresses
    /// (`/ip4/0.0.0.0/tcp/4001`; port 0 picks one) and relayed ones
    /// (`/ip4/…/tcp/…/p2p/RELAY/p2p-circuit`, which make a reservation at that relay). A TCP
    /// address that cannot be bound is an error; a relay that cannot be reached is tried again
    /// and again, each failure an [`Event::Refused`].
    pub fn start(keypair: Keypair, listen: &[Multiaddr]) -> Result<Transport, NetError> {
        launch(keypair, listen, false)
    }

    /// Starts an endpoint as [`Transport::start`] does that is also a circuit relay for other
    /// nodes. It offers its bound TCP addresses (each interface's, for an unspecified address) as
    /// where it is reached, in the reservations it gives.
    pub fn start_relay(keypair: Keypair, listen: &[Multiaddr]) -> Result<Transport, NetError> {
        launch(keypair, listen, true)
    }

    /// This endpoint's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Sends `batch` to peer `to`, adding `addrs` (each ending with `/p2p/TO`, or not) to where
    /// `to` is known to be, and dialling it if it is not connected. An [`Event::Replied`] or an
    /// [`Event::Failed`] with the number returned ends the request (none if the thread stopped:
    /// then [`Transport::events`] is disconnected).
    pub fn send(&self, to: PeerId, addrs: Vec<Multiaddr>, batch: WireBatch) -> RequestId {
        let request = self.next_request.fetch_add(1, Ordering::Relaxed);
        let _ = self.commands.unbounded_send(Command::Send { request, to, addrs, batch });
        request
    }

    /// Answers an inbound request. A reply once its connection closed, or once it timed out, is
    /// dropped.
    pub fn reply(&self, id: InboundId, reply: WireReply) {
        let _ = self.commands.unbounded_send(Command::Reply { id: id.0, reply });
    }

    /// What happens, in order. It is disconnected once the endpoint's thread stopped, which it
    /// does only when shut down, or if it failed.
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// Stops the endpoint: closes its connections and listeners and joins its thread.
    pub fn shutdown(self) {}
}

impl Drop for Transport {
    fn drop(&mut self) {
        let _ = self.commands.unbounded_send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("peer_id", &self.peer_id).finish_non_exhaustive()
    }
}

/// What the caller's side asks of the thread.
enum Command {
    Send {
        request: RequestId,
        to: PeerId,
        addrs: Vec<Multiaddr>,
        batch: WireBatch,
    },
    Reply {
        id: InboundRequestId,
        reply: WireReply,
    },
    /// Listen on an address again (after a pause), the `failures`th time in a row.
    Listen {
        address: Multiaddr,
        failures: u32,
    },
    Shutdown,
}

fn launch(keypair: Keypair, listen: &[Multiaddr], relay: bool) -> Result<Transport, NetError> {
    let peer_id = keypair.public().to_peer_id();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| NetError::Transport(format!("cannot start its runtime: {e}")))?;
    let (commands, received) = unbounded();
    let again = commands.clone();
    let (events_sender, events) = std::sync::mpsc::channel();
    let (started_sender, started) = std::sync::mpsc::sync_channel(1);
    let listen = listen.to_vec();
    let thread = std::thread::Builder::new()
        .name("chenilles-net".into())
        .spawn(move || {
            runtime.block_on(async move {
                match Driver::new(keypair, relay, &listen, events_sender, again) {
                    Ok(driver) => {
                        let _ = started_sender.send(Ok(()));
                        driver.run(received).await;
                    }
                    Err(error) => {
                        let _ = started_sender.send(Err(error));
                    }
                }
            });
        })
        .map_err(|e| NetError::Transport(format!("cannot start its thread: {e}")))?;
    let outcome = started.recv();
    let mut transport = Transport { peer_id, commands, events, next_request: AtomicU64::new(1), thread: Some(thread) };
    match outcome {
        Ok(Ok(())) => Ok(transport),
        Ok(Err(error)) => Err(error),
        Err(_) => {
            transport.thread.take().map(JoinHandle::join);
            Err(NetError::Transport("its thread stopped as it started".into()))
        }
    }
}

/// The protocols every endpoint speaks.
#[derive(NetworkBehaviour)]
struct Behaviour {
    channel: request_response::Behaviour<ChannelCodec>,
    relay_client: relay::client::Behaviour,
    relay: Toggle<relay::Behaviour>,
    ping: ping::Behaviour,
}

/// A listen address and how many times in a row listening on it failed.
struct Listener {
    address: Multiaddr,
    failures: u32,
}

/// The thread's side: the swarm and what it must remember between events.
struct Driver {
    swarm: Swarm<Behaviour>,
    relay: bool,
    events: Sender<Event>,
    /// For commands the thread gives itself (listening again after a pause).
    again: UnboundedSender<Command>,
    /// Requests sent and not yet answered, by libp2p's number for them.
    outbound: HashMap<OutboundRequestId, RequestId>,
    /// Inbound requests the caller has not replied to yet.
    inbound: HashMap<InboundRequestId, ResponseChannel<WireReply>>,
    /// Inbound requests refused unanswered, whose failure (to be answered) is no news.
    unanswered: HashSet<InboundRequestId>,
    /// The last dial error for each peer, to say why a request to it failed to be dialled.
    dial_errors: HashMap<PeerId, String>,
    listeners: HashMap<ListenerId, Listener>,
}

impl Driver {
    fn new(
        keypair: Keypair,
        relay: bool,
        listen: &[Multiaddr],
        events: Sender<Event>,
        again: UnboundedSender<Command>,
    ) -> Result<Driver, NetError> {
        let failed = |e: &dyn std::fmt::Display| NetError::Transport(e.to_string());
        let swarm = SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
            .map_err(|e| failed(&e))?
            .with_relay_client(noise::Config::new, yamux::Config::default)
            .map_err(|e| failed(&e))?
            .with_behaviour(|key, relay_client| behaviour(key.public().to_peer_id(), relay, relay_client))
            .map_err(|e| failed(&e))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION))
            .build();
        let mut driver = Driver {
            swarm,
            relay,
            events,
            again,
            outbound: HashMap::new(),
            inbound: HashMap::new(),
            unanswered: HashSet::new(),
            dial_errors: HashMap::new(),
            listeners: HashMap::new(),
        };
        for address in listen {
            driver
                .listen(address.clone(), 0)
                .map_err(|e| NetError::Transport(format!("cannot listen on {address}: {e}")))?;
        }
        Ok(driver)
    }

    /// Takes commands and swarm events until told to stop.
    async fn run(mut self, mut commands: UnboundedReceiver<Command>) {
        loop {
            // Both are polled each time, so that neither can starve the other.
            let (command, event) = poll_fn(|cx| {
                let command = commands.poll_next_unpin(cx);
                let event = self.swarm.poll_next_unpin(cx);
                match (command, event) {
                    (Poll::Pending, Poll::Pending) => Poll::Pending,
                    (command, event) => Poll::Ready((command, event)),
                }
            })
            .await;
            if let Poll::Ready(command) = command {
                match command {
                    None | Some(Command::Shutdown) => return,
                    Some(command) => self.command(command),
                }
            }
            if let Poll::Ready(event) = event {
                match event {
                    Some(event) => self.swarm_event(event),
                    None => return,
                }
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Send { request, to, addrs, batch } => {
                for address in addrs {
                    self.swarm.add_peer_address(to, address);
                }
                let id = self.swarm.behaviour_mut().channel.send_request(&to, Request::Batch(batch));
                self.outbound.insert(id, request);
            }
            Command::Reply { id, reply } => {
                if let Some(channel) = self.inbound.remove(&id) {
                    // Err: the connection closed or the request timed out meanwhile.
                    let _ = self.swarm.behaviour_mut().channel.send_response(channel, reply);
                }
            }
            Command::Listen { address, failures } => {
                if let Err(error) = self.listen(address.clone(), failures) {
                    self.listen_later(address, failures + 1, &error.to_string());
                }
            }
            Command::Shutdown => {}
        }
    }

    fn listen(&mut self, address: Multiaddr, failures: u32) -> Result<(), NetError> {
        let id = self.swarm.listen_on(address.clone()).map_err(|e| NetError::Transport(e.to_string()))?;
        self.listeners.insert(id, Listener { address, failures });
        Ok(())
    }

    /// Listens on `address` again after a pause that doubles with each failure in a row.
    fn listen_later(&mut self, address: Multiaddr, failures: u32, why: &str) {
        let doublings = failures.saturating_sub(1).min(16);
        let pause = FIRST_LISTEN_PAUSE.saturating_mul(1 << doublings).min(MOST_LISTEN_PAUSE);
        self.tell(Event::Refused {
            from: None,
            why: format!("listening on {address} stopped ({why}); trying again in {}s", pause.as_secs()),
        });
        let again = self.again.clone();
        tokio::spawn(async move {
            tokio::time::sleep(pause).await;
            let _ = again.unbounded_send(Command::Listen { address, failures });
        });
    }

    fn tell(&self, event: Event) {
        // Err: the caller dropped the transport; the thread is being stopped.
        let _ = self.events.send(event);
    }

    fn swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Channel(event)) => self.channel_event(event),
            // A peer that does not speak ping is no reason to drop it; one that stopped answering
            // is gone.
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event { connection, result: Err(failure), .. }))
                if !matches!(failure, ping::Failure::Unsupported) =>
            {
                self.swarm.close_connection(connection);
            }
            SwarmEvent::Behaviour(_) => {}
            SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
                self.dial_errors.remove(&peer_id);
                if num_established.get() == 1 {
                    self.tell(Event::Connected(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                self.tell(Event::Disconnected(peer_id));
            }
            SwarmEvent::IncomingConnectionError { send_back_addr, error, peer_id, .. } => {
                self.tell(Event::Refused {
                    from: peer_id,
                    why: format!("a connection from {send_back_addr} failed: {error}"),
                });
            }
            // Another dial to the peer was under way: not what a request failed of.
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. }
                if !matches!(error, DialError::DialPeerConditionFalse(_)) =>
            {
                self.dial_errors.insert(peer, error.to_string());
            }
            SwarmEvent::NewListenAddr { listener_id, address } => {
                if let Some(listener) = self.listeners.get_mut(&listener_id) {
                    listener.failures = 0;
                }
                if self.relay && !is_relayed(&address) {
                    self.swarm.add_external_address(address.clone());
                }
                self.tell(Event::Listening(address));
            }
            SwarmEvent::ExpiredListenAddr { address, .. } if self.relay => {
                self.swarm.remove_external_address(&address);
            }
            SwarmEvent::ListenerClosed { listener_id, reason, .. } => {
                if let Some(Listener { address, failures }) = self.listeners.remove(&listener_id) {
                    let why = match reason {
                        Ok(()) => "closed".to_string(),
                        Err(error) => error.to_string(),
                    };
                    self.listen_later(address, failures + 1, &why);
                }
            }
            SwarmEvent::ListenerError { error, .. } => {
                self.tell(Event::Refused { from: None, why: format!("a listener failed: {error}") });
            }
            _ => {}
        }
    }

    fn channel_event(&mut self, event: request_response::Event<Request, WireReply>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request_id, request: Request::Batch(batch), channel } => {
                    self.inbound.insert(request_id, channel);
                    self.tell(Event::Inbound { from: peer, id: InboundId(request_id), batch });
                }
                request_response::Message::Request { request_id, request: Request::Unreadable(why), channel } => {
                    // Unanswered: the stream is closed, and the sender's request fails.
                    drop(channel);
                    self.unanswered.insert(request_id);
                    self.tell(Event::Refused { from: Some(peer), why });
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(request) = self.outbound.remove(&request_id) {
                        self.tell(Event::Replied { to: peer, request, reply: response });
                    }
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                if let Some(request) = self.outbound.remove(&request_id) {
                    let error = match (error, self.dial_errors.remove(&peer)) {
                        (OutboundFailure::DialFailure, Some(why)) => format!("cannot dial {peer}: {why}"),
                        (error, _) => error.to_string(),
                    };
                    self.tell(Event::Failed { to: peer, request, error });
                }
            }
            request_response::Event::InboundFailure { peer, request_id, error, .. } => {
                self.inbound.remove(&request_id);
                if self.unanswered.remove(&request_id) {
                    return;
                }
                self.tell(Event::Refused { from: Some(peer), why: format!("a request failed: {error}") });
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

fn behaviour(local: PeerId, relay: bool, relay_client: relay::client::Behaviour) -> Behaviour {
    let codec = cbor::codec::Codec::default()
        .set_request_size_maximum(MAX_REQUEST_BYTES)
        .set_response_size_maximum(MAX_RESPONSE_BYTES);
    let channel = request_response::Behaviour::with_codec(
        ChannelCodec { cbor: codec },
        [(StreamProtocol::new(PROTOCOL), ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
    );
    let relay = relay.then(|| {
        let config = relay::Config {
            max_circuits: RELAY_CIRCUITS,
            max_circuit_duration: RELAY_CIRCUIT_DURATION,
            max_circuit_bytes: RELAY_CIRCUIT_BYTES,
            ..relay::Config::default()
        };
        relay::Behaviour::new(local, config)
    });
    let ping = ping::Behaviour::new(ping::Config::new().with_interval(PING_INTERVAL).with_timeout(PING_TIMEOUT));
    Behaviour { channel, relay_client, relay: relay.into(), ping }
}

fn is_relayed(address: &Multiaddr) -> bool {
    address.iter().any(|protocol| matches!(protocol, Protocol::P2pCircuit))
}

/// An inbound request as it was read: a batch, or why it is none.
#[derive(Debug)]
enum Request {
    Batch(WireBatch),
    Unreadable(String),
}

/// libp2p's CBOR codec, but for a request that cannot be read (too big, does not decode, broke
/// off): that is read as a [`Request::Unreadable`], so that it is reported with the peer that
/// sent it rather than dropped unseen.
#[derive(Clone)]
struct ChannelCodec {
    cbor: cbor::codec::Codec<WireBatch, WireReply>,
}

impl request_response::Codec for ChannelCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = WireReply;

    async fn read_request<T>(&mut self, protocol: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut bytes = Vec::new();
        if let Err(error) = io.take(MAX_REQUEST_BYTES + 1).read_to_end(&mut bytes).await {
            return Ok(Request::Unreadable(format!("a request broke off: {error}")));
        }
        if bytes.len() as u64 > MAX_REQUEST_BYTES {
            return Ok(Request::Unreadable(format!("a request is longer than {MAX_REQUEST_BYTES} bytes")));
        }
        Ok(match self.cbor.read_request(protocol, &mut Cursor::new(bytes)).await {
            Ok(batch) => Request::Batch(batch),
            Err(error) => Request::Unreadable(format!("a request does not decode: {error}")),
        })
    }

    async fn read_response<T>(&mut self, protocol: &StreamProtocol, io: &mut T) -> io::Result<WireReply>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.cbor.read_response(protocol, io).await
    }

    async fn write_request<T>(&mut self, protocol: &StreamProtocol, io: &mut T, request: Request) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match request {
            Request::Batch(batch) => self.cbor.write_request(protocol, io, batch).await,
            Request::Unreadable(_) => Err(io::Error::other("an unreadable request is not sent")),
        }
    }

    async fn write_response<T>(&mut self, protocol: &StreamProtocol, io: &mut T, reply: WireReply) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.cbor.write_response(protocol, io, reply).await
    }
}
