//! The transport over real sockets on 127.0.0.1: requests answered, failures reported, garbage
//! and oversized requests survived, and a relay's circuit.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chenilles_net::{Event, Multiaddr, PeerId, Transport, WireBatch, WireMessage, WireReply};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;

/// How long a test waits for what it expects before failing.
const PATIENCE: Duration = Duration::from_secs(20);

fn any_port() -> Vec<Multiaddr> {
    vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()]
}

fn batch(seq: u64) -> WireBatch {
    WireBatch {
        messages: vec![WireMessage { seq, from: "alice".into(), to: "bob".into(), text: format!("(hello {seq})") }],
    }
}

/// The first event `wanted` gives a value for, failing after [`PATIENCE`]; the others are skipped.
fn wait_for<T>(transport: &Transport, what: &str, mut wanted: impl FnMut(Event) -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match transport.events().recv_timeout(left) {
            Ok(event) => {
                if let Some(value) = wanted(event) {
                    return value;
                }
            }
            Err(error) => panic!("waiting for {what}: {error}"),
        }
    }
}

/// A transport listening on 127.0.0.1 (or through a relay), and the first address it listens on.
fn listening(transport: Transport) -> (Transport, Multiaddr) {
    let address = wait_for(&transport, "a listen address", |event| match event {
        Event::Listening(address) => Some(address),
        _ => None,
    });
    (transport, address)
}

/// Answers every batch `transport` receives with the ack of its last message, on a thread,
/// passing on who sent each; stops when `stop` is set.
struct Server {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Transport>,
    received: Receiver<(PeerId, WireBatch)>,
    refused: Receiver<(Option<PeerId>, String)>,
}

impl Server {
    fn new(transport: Transport) -> Server {
        let stop = Arc::new(AtomicBool::new(false));
        let (received_sender, received) = channel();
        let (refused_sender, refused) = channel();
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match transport.events().recv_timeout(Duration::from_millis(50)) {
                    Ok(Event::Inbound { from, id, batch }) => {
                        let mark = batch.messages.last().map_or(0, |m| m.seq + 1);
                        transport.reply(id, WireReply::Ack { mark });
                        let _ = received_sender.send((from, batch));
                    }
                    Ok(Event::Refused { from, why }) => {
                        let _ = refused_sender.send((from, why));
                    }
                    Ok(_) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(error) => panic!("the served transport: {error}"),
                }
            }
            transport
        });
        Server { stop, thread, received, refused }
    }

    fn stop(self) -> Transport {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// The reply to `request` (failing on a failure of it).
fn reply_to(transport: &Transport, request: u64) -> WireReply {
    wait_for(transport, "a reply", |event| match event {
        Event::Replied { request: r, reply, .. } if r == request => Some(reply),
        Event::Failed { request: r, error, .. } if r == request => panic!("request {request} failed: {error}"),
        _ => None,
    })
}

#[test]
fn a_batch_is_received_from_its_sender_and_acknowledged() {
    let a = Transport::start(Keypair::generate_ed25519(), &[]).unwrap();
    let (b, b_address) = listening(Transport::start(Keypair::generate_ed25519(), &any_port()).unwrap());
    assert!(matches!(b_address.iter().nth(1), Some(Protocol::Tcp(port)) if port != 0), "{b_address}");
    let b_id = b.peer_id();
    let request = a.send(b_id, vec![b_address.with(Protocol::P2p(b_id))], batch(7));
    let (from, id, received) = wait_for(&b, "the batch", |event| match event {
        Event::Inbound { from, id, batch } => Some((from, id, batch)),
        _ => None,
    });
    assert_eq!(from, a.peer_id());
    assert_eq!(received, batch(7));
    b.reply(id, WireReply::Ack { mark: 8 });
    let (to, reply) = wait_for(&a, "the reply", |event| match event {
        Event::Replied { to, request: r, reply } if r == request => Some((to, reply)),
        Event::Failed { error, .. } => panic!("{error}"),
        _ => None,
    });
    assert_eq!((to, reply), (b_id, WireReply::Ack { mark: 8 }));
    a.shutdown();
    b.shutdown();
}

#[test]
fn many_batches_are_each_answered() {
    const BATCHES: u64 = 200;
    /// How many requests are in flight at once at most (the node keeps one per peer; libp2p
    /// refuses more than 100 streams at once on a connection).
    const WINDOW: u64 = 32;
    let a = Transport::start(Keypair::generate_ed25519(), &[]).unwrap();
    let (b, b_address) = listening(Transport::start(Keypair::generate_ed25519(), &any_port()).unwrap());
    let b_id = b.peer_id();
    let server = Server::new(b);
    let mut expected = std::collections::BTreeMap::new();
    let mut sent = 0;
    let mut ids = Vec::new();
    while sent < BATCHES || !expected.is_empty() {
        while sent < BATCHES && (expected.len() as u64) < WINDOW {
            let request = a.send(b_id, vec![b_address.clone()], batch(sent));
            expected.insert(request, sent + 1);
            ids.push(request);
            sent += 1;
        }
        let (request, mark) = wait_for(&a, "a reply", |event| match event {
            Event::Replied { request, reply: WireReply::Ack { mark }, .. } => Some((request, mark)),
            Event::Failed { request, error, .. } => panic!("request {request} failed: {error}"),
            _ => None,
        });
        assert_eq!(expected.remove(&request), Some(mark), "request {request}'s reply");
    }
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "request numbers count up by one");
    let mut seqs: Vec<u64> = server
        .received
        .try_iter()
        .map(|(from, b)| {
            assert_eq!(from, a.peer_id());
            b.messages[0].seq
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..BATCHES).collect::<Vec<_>>(), "each batch received once");
    server.stop();
}

#[test]
fn a_send_to_a_closed_port_fails() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let a = Transport::start(Keypair::generate_ed25519(), &[]).unwrap();
    let nobody = Keypair::generate_ed25519().public().to_peer_id();
    let address: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{nobody}").parse().unwrap();
    let started = Instant::now();
    let request = a.send(nobody, vec![address], batch(0));
    let (to, error) = wait_for(&a, "the failure", |event| match event {
        Event::Failed { to, request: r, error } if r == request => Some((to, error)),
        Event::Replied { .. } => panic!("nobody replied"),
        _ => None,
    });
    assert_eq!(to, nobody);
    assert!(error.contains("dial"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(11), "within the timeout: {:?}", started.elapsed());
    // And with no address at all.
    let request = a.send(nobody, vec![], batch(0));
    wait_for(&a, "the failure", |event| match event {
        Event::Failed { request: r, .. } if r == request => Some(()),
        _ => None,
    });
}

#[test]
fn garbage_and_oversized_requests_do_not_stop_a_node_serving() {
    let a = Transport::start(Keypair::generate_ed25519(), &[]).unwrap();
    let (b, b_address) = listening(Transport::start(Keypair::generate_ed25519(), &any_port()).unwrap());
    let b_id = b.peer_id();
    let server = Server::new(b);
    let Some(Protocol::Tcp(port)) = b_address.iter().nth(1) else { panic!("{b_address}") };
    // Bytes that are no handshake, from connections that close, or stay open.
    let mut open = Vec::new();
    for garbage in [&b"GET / HTTP/1.1\r\n\r\n"[..], &[0xff; 4096][..], b"\x13/multistream/1.0.0\n\x10/noise\n\xff\xff"]
    {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _ = stream.write_all(garbage);
        open.push(stream);
    }
    drop(open.pop());
    let (from, why) = server.refused.recv_timeout(PATIENCE).expect("a refused connection is reported");
    assert_eq!(from, None, "{why}");
    // An authenticated peer sending more than MAX_REQUEST_BYTES: refused, and only its request fails.
    let huge = WireBatch {
        messages: vec![WireMessage {
            seq: 0,
            from: "alice".into(),
            to: "bob".into(),
            text: "x".repeat((chenilles_net::MAX_REQUEST_BYTES + 1) as usize),
        }],
    };
    let request = a.send(b_id, vec![b_address.clone()], huge);
    wait_for(&a, "the oversized request's failure", |event| match event {
        Event::Failed { request: r, .. } if r == request => Some(()),
        Event::Replied { request: r, .. } if r == request => panic!("an oversized request was taken"),
        _ => None,
    });
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (from, why) = server.refused.recv_timeout(left).expect("the oversized request is reported");
        if from == Some(a.peer_id()) {
            assert!(why.contains("request"), "{why}");
            break;
        }
    }
    // B still serves A.
    let request = a.send(b_id, vec![b_address], batch(41));
    assert_eq!(reply_to(&a, request), WireReply::Ack { mark: 42 });
    assert_eq!(server.received.recv_timeout(PATIENCE).unwrap(), (a.peer_id(), batch(41)));
    drop(open);
    server.stop();
}

#[test]
fn a_batch_goes_through_a_relay() {
    let (r, r_address) = listening(Transport::start_relay(Keypair::generate_ed25519(), &any_port()).unwrap());
    let r_id = r.peer_id();
    let relay = Server::new(r);
    let circuit = r_address.with(Protocol::P2p(r_id)).with(Protocol::P2pCircuit);
    let (b, b_address) =
        listening(Transport::start(Keypair::generate_ed25519(), std::slice::from_ref(&circuit)).unwrap());
    let b_id = b.peer_id();
    assert_eq!(b_address, circuit.with(Protocol::P2p(b_id)), "B is reached through R");
    let server = Server::new(b);
    let a = Transport::start(Keypair::generate_ed25519(), &[]).unwrap();
    let request = a.send(b_id, vec![b_address], batch(3));
    assert_eq!(reply_to(&a, request), WireReply::Ack { mark: 4 });
    let (from, received) = server.received.recv_timeout(PATIENCE).unwrap();
    assert_eq!((from, received), (a.peer_id(), batch(3)), "B knows A by A's own key, through R");
    assert!(relay.received.try_recv().is_err(), "R only relays");
    server.stop();
    relay.stop();
}

#[test]
fn a_request_that_does_not_decode_is_refused_naming_its_authenticated_sender() {
    use libp2p::futures::StreamExt;
    use libp2p::request_response::{self, ProtocolSupport, cbor};
    use libp2p::swarm::SwarmEvent;
    use libp2p::{StreamProtocol, noise, tcp, yamux};

    let (b, b_address) = listening(Transport::start(Keypair::generate_ed25519(), &any_port()).unwrap());
    let b_id = b.peer_id();
    let server = Server::new(b);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let evil = runtime.block_on(async {
        // A peer that speaks the protocol with requests of another shape.
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
            .unwrap()
            .with_behaviour(|_| {
                cbor::Behaviour::<Vec<String>, WireReply>::new(
                    [(StreamProtocol::new(chenilles_net::PROTOCOL), ProtocolSupport::Full)],
                    request_response::Config::default(),
                )
            })
            .unwrap()
            .build();
        swarm.add_peer_address(b_id, b_address.clone());
        swarm.behaviour_mut().send_request(&b_id, vec!["not".into(), "a batch".into()]);
        let evil = *swarm.local_peer_id();
        let outcome = tokio::time::timeout(PATIENCE, async {
            loop {
                if let SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. }) =
                    swarm.select_next_some().await
                {
                    return;
                }
            }
        });
        outcome.await.expect("the request is not answered");
        evil
    });
    let (from, why) = server.refused.recv_timeout(PATIENCE).expect("the request is reported");
    assert_eq!(from, Some(evil));
    assert!(why.contains("does not decode"), "{why}");
    let a = Transport::start(Keypair::generate_ed25519(), &[]).unwrap();
    let request = a.send(b_id, vec![b_address], batch(1));
    assert_eq!(reply_to(&a, request), WireReply::Ack { mark: 2 });
    server.stop();
}
