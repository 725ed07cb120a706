//! Core tests of the TCP meta-processes over 127.0.0.1.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use actnet::meta::tcp::client::ClientOptions;
use actnet::meta::tcp::framing::ChunkOptions;
use actnet::meta::tcp::options::{ConnectionOptions, MailboxPolicy};
use actnet::meta::tcp::server::ServerOptions;
use actnet::process::behavior::{Behavior, Context, Flow};
use actnet::process::message::{DisconnectReason, Message};
use actnet::process::process::SpawnOptions;
use actnet::{Error, Id, Node, NodeOptions};

const WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, PartialEq)]
enum Event {
    Connect(Id),
    Data(Id, Vec<u8>),
    Disconnect(Id, DisconnectReason),
    Writable(Id),
}

/// Echoes every DATA (when `echo`) and reports what it sees.
struct Echo {
    echo: bool,
    out: Sender<Event>,
    delay: Duration,
}

impl Behavior for Echo {
    fn handle(&mut self, ctx: &Context<'_>, message: Message) -> Flow {
        let event = match message {
            Message::Connect { conn, .. } => Event::Connect(conn),
            Message::Data { conn, data } => {
                std::thread::sleep(self.delay);
                if self.echo {
                    ctx.node.tcp_write(conn, data.as_slice()).unwrap();
                }
                Event::Data(conn, data.as_slice().to_vec())
            }
            Message::Disconnect { conn, reason } => Event::Disconnect(conn, reason),
            Message::Writable { conn } => Event::Writable(conn),
            _ => return Flow::Continue,
        };
        self.out.send(event).ok();
        Flow::Continue
    }
}

fn node() -> Node {
    Node::start(NodeOptions { worker_threads: 2, ..Default::default() }).unwrap()
}

fn echo_process(node: &Node, echo: bool, mailbox: Option<usize>, delay: Duration) -> (Id, Receiver<Event>) {
    let (tx, rx) = channel();
    let pid = node
        .spawn(Box::new(Echo { echo, out: tx, delay }), SpawnOptions { mailbox_size: mailbox, ..Default::default() })
        .unwrap();
    (pid, rx)
}

fn server(node: &Node, owner: Id, connection: ConnectionOptions) -> (Id, SocketAddr) {
    let options = ServerOptions { host: "127.0.0.1".into(), connection, ..Default::default() };
    node.tcp_listen(owner, options).unwrap()
}

fn next(rx: &Receiver<Event>) -> Event {
    rx.recv_timeout(WAIT).expect("an event within the timeout")
}

fn client(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s
}

#[test]
fn echo_with_connect_data_disconnect_in_order() {
    let node = node();
    let (pid, rx) = echo_process(&node, true, None, Duration::ZERO);
    let (_server, addr) = server(&node, pid, ConnectionOptions::default());
    let mut c = client(addr);
    let Event::Connect(conn) = next(&rx) else { panic!("CONNECT first") };
    c.write_all(b"hello").unwrap();
    let mut buf = [0u8; 5];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    assert_eq!(next(&rx), Event::Data(conn, b"hello".to_vec()));
    drop(c);
    assert_eq!(next(&rx), Event::Disconnect(conn, DisconnectReason::PeerClosed));
    node.stop().unwrap();
}

#[test]
fn replies_to_the_last_request_survive_a_half_close() {
    let node = node();
    let (pid, rx) = echo_process(&node, true, None, Duration::from_millis(50));
    let (_server, addr) = server(&node, pid, ConnectionOptions::default());
    let mut c = client(addr);
    c.write_all(b"last words").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"last words");
    let Event::Connect(conn) = next(&rx) else { panic!() };
    assert_eq!(next(&rx), Event::Data(conn, b"last words".to_vec()));
    assert_eq!(next(&rx), Event::Disconnect(conn, DisconnectReason::PeerClosed));
    node.stop().unwrap();
}

#[test]
fn header_framing_splits_and_assembles() {
    let node = node();
    let (pid, rx) = echo_process(&node, false, None, Duration::ZERO);
    let chunk = ChunkOptions { enable: true, header_size: 4, length_size: 4, max_length: 1 << 20, ..Default::default() };
    let (_server, addr) = server(&node, pid, ConnectionOptions { chunk, ..Default::default() });
    let mut c = client(addr);
    let Event::Connect(conn) = next(&rx) else { panic!() };
    let mut stream = Vec::new();
    for payload in [&b"one"[..], b"two!", b"three"] {
        stream.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        stream.extend_from_slice(payload);
    }
    for byte in &stream {
        c.write_all(&[*byte]).unwrap();
    }
    for payload in [&b"one"[..], b"two!", b"three"] {
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        assert_eq!(next(&rx), Event::Data(conn, frame));
    }
    c.write_all(&u32::MAX.to_be_bytes()).unwrap();
    assert_eq!(next(&rx), Event::Disconnect(conn, DisconnectReason::MaxLengthExceeded));
    node.stop().unwrap();
}

#[test]
fn pause_loses_nothing_through_a_small_mailbox() {
    let node = node();
    let (pid, rx) = echo_process(&node, false, Some(4), Duration::from_micros(200));
    let options = ConnectionOptions { read_buffer_size: 4096, ..Default::default() };
    let (_server, addr) = server(&node, pid, options);
    let c = client(addr);
    let Event::Connect(conn) = next(&rx) else { panic!() };
    let sent: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    let writer = {
        let sent = sent.clone();
        let mut c = c.try_clone().unwrap();
        std::thread::spawn(move || c.write_all(&sent).unwrap())
    };
    let mut received = Vec::new();
    while received.len() < sent.len() {
        match next(&rx) {
            Event::Data(id, bytes) => {
                assert_eq!(id, conn);
                received.extend_from_slice(&bytes);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    writer.join().unwrap();
    assert_eq!(received, sent);
    c.shutdown(Shutdown::Both).unwrap();
    assert_eq!(next(&rx), Event::Disconnect(conn, DisconnectReason::PeerClosed));
    node.stop().unwrap();
}

#[test]
fn terminate_policy_ends_with_mailbox_full() {
    let node = node();
    let (pid, rx) = echo_process(&node, false, Some(1), Duration::from_millis(100));
    let options = ConnectionOptions { mailbox_policy: MailboxPolicy::Terminate, read_buffer_size: 16, ..Default::default() };
    let (_server, addr) = server(&node, pid, options);
    let mut c = client(addr);
    let Event::Connect(conn) = next(&rx) else { panic!() };
    for _ in 0..64 {
        if c.write_all(&[7u8; 16]).is_err() {
            break;
        }
    }
    loop {
        match next(&rx) {
            Event::Data(..) => continue,
            event => {
                assert_eq!(event, Event::Disconnect(conn, DisconnectReason::MailboxFull));
                break;
            }
        }
    }
    node.stop().unwrap();
}

#[test]
fn would_block_then_writable_with_a_peer_that_does_not_read() {
    let node = node();
    let (pid, rx) = echo_process(&node, false, None, Duration::ZERO);
    let options = ConnectionOptions { write_queue_limit: 64 * 1024, ..Default::default() };
    let (_server, addr) = server(&node, pid, options);
    let mut c = client(addr);
    let Event::Connect(conn) = next(&rx) else { panic!() };
    let chunk = vec![1u8; 16 * 1024];
    let mut written = 0usize;
    loop {
        match node.tcp_write(conn, &chunk) {
            Ok(()) => written += chunk.len(),
            Err(Error::WouldBlock) => break,
            Err(e) => panic!("{e:?}"),
        }
        assert!(written < 64 << 20, "the queue never filled");
    }
    let info = node.inspect(conn).unwrap();
    let queued: usize = info.iter().find(|(k, _)| k == "queued write bytes").unwrap().1.parse().unwrap();
    assert!(queued > 0 && queued <= 64 * 1024);
    // Draining the socket lets the queue flush below half its limit: WRITABLE follows.
    let mut sink = vec![0u8; 1 << 16];
    let mut read = 0;
    while read < written {
        read += c.read(&mut sink).unwrap();
    }
    assert_eq!(next(&rx), Event::Writable(conn));
    node.stop().unwrap();
}

#[test]
fn client_connects_refused_and_times_out() {
    let node = node();
    let (pid, rx) = echo_process(&node, false, None, Duration::ZERO);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = ClientOptions { host: "127.0.0.1".into(), port, ..Default::default() };
    let conn = node.tcp_connect(pid, options.clone()).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    assert_eq!(next(&rx), Event::Connect(conn));
    node.tcp_write(conn, b"ping").unwrap();
    let mut buf = [0u8; 4];
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    drop(listener);
    drop(peer);
    assert_eq!(next(&rx), Event::Disconnect(conn, DisconnectReason::PeerClosed));
    assert_eq!(node.tcp_connect(pid, options), Err(Error::ConnectionRefused));
    // A listener that never accepts, with its backlog full: the kernel drops further SYNs,
    // so the connect cannot finish within the timeout.
    let (full, port) = full_backlog_listener();
    let slow = ClientOptions {
        host: "127.0.0.1".into(),
        port,
        connect_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    assert_eq!(node.tcp_connect(pid, slow), Err(Error::Timeout));
    drop(full);
    node.stop().unwrap();
}

/// A listening socket with backlog 0, filled until a connect no longer completes.
fn full_backlog_listener() -> (Vec<socket2::Socket>, u16) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into()).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut held = vec![listener];
    for _ in 0..16 {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        match s.connect_timeout(&addr.into(), Duration::from_millis(100)) {
            Ok(()) => held.push(s),
            Err(_) => return (held, addr.port()),
        }
    }
    panic!("the backlog never filled");
}

#[test]
fn owner_end_closes_server_and_connections() {
    let node = node();
    let (owner, _orx) = echo_process(&node, false, None, Duration::ZERO);
    let (worker, wrx) = echo_process(&node, false, None, Duration::ZERO);
    node.register("w", worker).unwrap();
    let options = ServerOptions { host: "127.0.0.1".into(), pool: vec!["w".into()], ..Default::default() };
    let (_server, addr) = node.tcp_listen(owner, options).unwrap();
    let mut c = client(addr);
    let Event::Connect(conn) = next(&wrx) else { panic!() };
    node.stop_process(owner).unwrap();
    assert_eq!(next(&wrx), Event::Disconnect(conn, DisconnectReason::ParentDown));
    let mut buf = [0u8; 1];
    assert_eq!(c.read(&mut buf).unwrap(), 0, "the peer sees EOF");
    assert!(TcpStream::connect(addr).is_err(), "the listener is closed");
    node.stop().unwrap();
}

#[test]
fn node_stop_delivers_node_stopping() {
    let node = node();
    let (pid, rx) = echo_process(&node, false, None, Duration::ZERO);
    let (_server, addr) = server(&node, pid, ConnectionOptions::default());
    let _c = client(addr);
    let Event::Connect(conn) = next(&rx) else { panic!() };
    node.stop().unwrap();
    assert_eq!(next(&rx), Event::Disconnect(conn, DisconnectReason::NodeStopping));
}

/// `payloads` as 4-byte-header frames, one stream.
fn frames(payloads: &[&[u8]]) -> Vec<u8> {
    let mut stream = Vec::new();
    for payload in payloads {
        stream.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        stream.extend_from_slice(payload);
    }
    stream
}

fn header4() -> ConnectionOptions {
    let chunk = ChunkOptions { enable: true, header_size: 4, length_size: 4, max_length: 1 << 16, ..Default::default() };
    ConnectionOptions { chunk, ..Default::default() }
}

/// A process behind a header4 server (mailbox and per-message delay as given), one client
/// connected: the process, its events, the connection's alias and the client.
fn framed_client(node: &Node, mailbox: usize, delay: Duration) -> (Id, Receiver<Event>, Id, TcpStream) {
    let (pid, rx) = echo_process(node, false, Some(mailbox), delay);
    let (_server, addr) = server(node, pid, header4());
    let c = client(addr);
    let Event::Connect(conn) = next(&rx) else { panic!("CONNECT first") };
    (pid, rx, conn, c)
}

#[test]
fn many_frames_through_a_small_mailbox_arrive_whole_in_order_and_counted() {
    let node = node();
    let (pid, rx, conn, mut c) = framed_client(&node, 2, Duration::from_micros(50));
    let payloads: Vec<Vec<u8>> = (0..3000u32).map(|i| i.to_be_bytes().repeat(1 + (i % 7) as usize)).collect();
    let refs: Vec<&[u8]> = payloads.iter().map(|p| &p[..]).collect();
    c.write_all(&frames(&refs)).unwrap();
    for payload in &refs {
        assert_eq!(next(&rx), Event::Data(conn, frames(&[payload])));
    }
    // Frames travel in envelopes of up to 64, but each counts as a message.
    let info = node.inspect(pid).unwrap();
    let messages_in = info.iter().find(|(k, _)| k == "messages in").map(|(_, v)| v.parse::<u64>().unwrap());
    assert_eq!(messages_in, Some(1 + payloads.len() as u64), "CONNECT and every frame");
    node.stop().unwrap();
}

#[test]
fn frames_before_a_bad_header_are_delivered_then_the_reason() {
    let node = node();
    let (_pid, rx, conn, mut c) = framed_client(&node, 1, Duration::from_millis(5));
    let mut stream = frames(&[&b"one"[..], b"two", b"three"]);
    stream.extend_from_slice(&u32::MAX.to_be_bytes());
    c.write_all(&stream).unwrap();
    for frame in [frames(&[&b"one"[..]]), frames(&[&b"two"[..]]), frames(&[&b"three"[..]])] {
        assert_eq!(next(&rx), Event::Data(conn, frame));
    }
    assert_eq!(next(&rx), Event::Disconnect(conn, DisconnectReason::MaxLengthExceeded));
    node.stop().unwrap();
}

/// Kills itself on the first DATA it sees and reports every DATA.
struct KillOnData(Sender<Vec<u8>>);

impl Behavior for KillOnData {
    fn handle(&mut self, ctx: &Context<'_>, message: Message) -> Flow {
        if let Message::Data { data, .. } = message {
            self.0.send(data.as_slice().to_vec()).ok();
            ctx.node.kill(ctx.pid).unwrap();
        }
        Flow::Continue
    }
}

#[test]
fn a_kill_takes_effect_between_the_frames_of_one_read() {
    let node = node();
    let (tx, rx) = channel();
    let pid = node.spawn(Box::new(KillOnData(tx)), SpawnOptions::default()).unwrap();
    let (_server, addr) = server(&node, pid, header4());
    let mut c = client(addr);
    c.write_all(&frames(&[&b"a"[..]; 32])).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), frames(&[&b"a"[..]]));
    // The process ended after the first frame: nothing more was handled.
    let deadline = std::time::Instant::now() + WAIT;
    while node.inspect(pid).is_ok() {
        assert!(std::time::Instant::now() < deadline, "the killed process still lives");
        std::thread::yield_now();
    }
    assert!(rx.try_recv().is_err(), "a frame was handled after the kill");
    node.stop().unwrap();
}
