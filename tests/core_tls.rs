//! Core tests of TLS servers and clients over 127.0.0.1. Certificates come from
//! tests/tls/make_certs.sh, run once per test binary into a temporary directory.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::OnceLock;
use std::time::Duration;

use actnet::meta::tcp::certmanager::CertManager;
use actnet::meta::tcp::client::ClientOptions;
use actnet::meta::tcp::framing::ChunkOptions;
use actnet::meta::tcp::options::ConnectionOptions;
use actnet::meta::tcp::server::ServerOptions;
use actnet::meta::tcp::tls::{ClientAuth, ClientTls, ServerTls};
use actnet::process::behavior::{Behavior, Context, Flow};
use actnet::process::message::{DisconnectReason, Message, TlsInfo};
use actnet::process::process::SpawnOptions;
use actnet::{Error, Id, Node, NodeOptions};

const WAIT: Duration = Duration::from_secs(10);

fn certs() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("actnet-core-tls-{}", std::process::id()));
        let status = std::process::Command::new("sh")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls/make_certs.sh"))
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("sh");
        assert!(status.success(), "make_certs.sh failed");
        dir
    })
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(certs().join(name)).unwrap()
}

#[derive(Debug)]
enum Event {
    Connect(Id, Option<TlsInfo>),
    Data(Id, Vec<u8>),
    Disconnect(Id, DisconnectReason),
}

struct Echo(Sender<Event>, bool);

impl Behavior for Echo {
    fn handle(&mut self, ctx: &Context<'_>, message: Message) -> Flow {
        let event = match message {
            Message::Connect { conn, tls, .. } => Event::Connect(conn, tls.map(|t| *t)),
            Message::Data { conn, data } => {
                if self.1 {
                    ctx.node.tcp_write(conn, data.as_slice()).unwrap();
                }
                Event::Data(conn, data.as_slice().to_vec())
            }
            Message::Disconnect { conn, reason } => Event::Disconnect(conn, reason),
            _ => return Flow::Continue,
        };
        self.0.send(event).ok();
        Flow::Continue
    }
}

fn process(node: &Node, echo: bool) -> (Id, Receiver<Event>) {
    let (tx, rx) = channel();
    (node.spawn(Box::new(Echo(tx, echo)), SpawnOptions::default()).unwrap(), rx)
}

fn next(rx: &Receiver<Event>) -> Event {
    rx.recv_timeout(WAIT).expect("an event")
}

fn server_manager() -> CertManager {
    let m = CertManager::new();
    m.set_certificate_pem(None, &pem("server.pem"), &pem("server.key")).unwrap();
    m.set_certificate_pem(Some("alt.test"), &pem("alt.pem"), &pem("alt.key")).unwrap();
    m.set_ca_pem(&pem("ca.pem")).unwrap();
    m
}

fn client_manager(with_client_cert: bool) -> CertManager {
    let m = CertManager::new();
    m.set_ca_pem(&pem("ca.pem")).unwrap();
    if with_client_cert {
        m.set_certificate_pem(None, &pem("client.pem"), &pem("client.key")).unwrap();
    }
    m
}

fn tls_server(node: &Node, owner: Id, manager: CertManager, client_auth: ClientAuth, chunk: ChunkOptions) -> u16 {
    let tls = ServerTls { manager, client_auth, handshake_timeout: Duration::from_millis(500), alpn: vec![b"echo/1".to_vec()] };
    let options = ServerOptions {
        host: "127.0.0.1".into(),
        tls: Some(tls),
        connection: ConnectionOptions { chunk, ..Default::default() },
        ..Default::default()
    };
    node.tcp_listen(owner, options).unwrap().1.port()
}

fn client_options(port: u16, tls: ClientTls) -> ClientOptions {
    ClientOptions { host: "127.0.0.1".into(), port, tls: Some(tls), ..Default::default() }
}

fn verified(name: Option<&str>) -> ClientTls {
    ClientTls { manager: Some(client_manager(false)), server_name: name.map(str::to_owned), ..Default::default() }
}

#[test]
fn echo_over_tls_with_framing_and_session_details() {
    let node = Node::start(NodeOptions::default()).unwrap();
    let (server_owner, srx) = process(&node, true);
    let chunk = ChunkOptions { enable: true, header_size: 4, length_size: 4, ..Default::default() };
    let port = tls_server(&node, server_owner, server_manager(), ClientAuth::None, chunk);
    let (client, crx) = process(&node, false);
    let mut tls = verified(Some("localhost"));
    tls.alpn = vec![b"echo/1".to_vec()];
    let opts = ClientOptions { connection: ConnectionOptions { chunk, ..Default::default() }, ..client_options(port, tls) };
    let conn = node.tcp_connect(client, opts).unwrap();
    let Event::Connect(_, Some(info)) = next(&crx) else { panic!("client CONNECT with TLS details") };
    assert_eq!(info.alpn.as_deref(), Some("echo/1"));
    assert!(info.peer_subject.unwrap().contains("CN=localhost"));
    let Event::Connect(_, Some(server_info)) = next(&srx) else { panic!("server CONNECT") };
    assert_eq!(server_info.server_name.as_deref(), Some("localhost"));
    assert_eq!(server_info.protocol_version, "TLSv1.3");
    let mut frames = Vec::new();
    for i in 0..200u32 {
        let payload = format!("frame {i}").into_bytes();
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&payload);
        frames.push(frame);
    }
    node.tcp_write(conn, &frames.concat()).unwrap();
    for frame in &frames {
        match next(&crx) {
            Event::Data(id, bytes) => assert_eq!((id, &bytes), (conn, frame)),
            other => panic!("{other:?}"),
        }
    }
    let big = vec![7u8; 3 << 20];
    let mut frame = (big.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&big);
    node.tcp_write(conn, &frame).unwrap();
    loop {
        match next(&crx) {
            Event::Data(_, bytes) => {
                assert_eq!(bytes, frame);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    node.stop().unwrap();
}

#[test]
fn sni_picks_the_certificate() {
    let node = Node::start(NodeOptions::default()).unwrap();
    let (owner, _srx) = process(&node, true);
    let port = tls_server(&node, owner, server_manager(), ClientAuth::None, ChunkOptions::default());
    let (client, crx) = process(&node, false);
    node.tcp_connect(client, client_options(port, verified(Some("alt.test")))).unwrap();
    let Event::Connect(_, Some(info)) = next(&crx) else { panic!() };
    assert!(info.peer_subject.unwrap().contains("CN=alt.test"));
    node.stop().unwrap();
}

#[test]
fn verification_failures_are_returned_by_connect() {
    let node = Node::start(NodeOptions::default()).unwrap();
    let (owner, _srx) = process(&node, true);
    let selfsigned = CertManager::new();
    selfsigned.set_certificate_pem(None, &pem("selfsigned.pem"), &pem("selfsigned.key")).unwrap();
    let port = tls_server(&node, owner, selfsigned, ClientAuth::None, ChunkOptions::default());
    let (client, crx) = process(&node, false);
    assert_eq!(node.tcp_connect(client, client_options(port, verified(None))), Err(Error::CertificateInvalid));
    let insecure = ClientTls { insecure_skip_verify: true, ..Default::default() };
    node.tcp_connect(client, client_options(port, insecure)).unwrap();
    assert!(matches!(next(&crx), Event::Connect(_, Some(_))));

    let expired = CertManager::new();
    expired.set_certificate_pem(None, &pem("expired.pem"), &pem("expired.key")).unwrap();
    let port = tls_server(&node, owner, expired, ClientAuth::None, ChunkOptions::default());
    assert_eq!(node.tcp_connect(client, client_options(port, verified(Some("localhost")))), Err(Error::CertificateInvalid));
    node.stop().unwrap();
}

#[test]
fn mutual_tls_accepts_a_good_client_and_refuses_one_without_a_certificate() {
    let node = Node::start(NodeOptions::default()).unwrap();
    let (owner, srx) = process(&node, true);
    let port = tls_server(&node, owner, server_manager(), ClientAuth::Required, ChunkOptions::default());
    let (client, crx) = process(&node, false);
    let good = ClientTls { manager: Some(client_manager(true)), server_name: Some("localhost".into()), ..Default::default() };
    node.tcp_connect(client, client_options(port, good)).unwrap();
    let Event::Connect(_, Some(info)) = next(&srx) else { panic!() };
    assert!(info.peer_subject.unwrap().contains("CN=test-client"));
    assert!(matches!(next(&crx), Event::Connect(..)));
    // Without a certificate: TLS 1.3 lets the client finish first; the server's alert ends
    // the connection right after, and the server's process never sees it.
    match node.tcp_connect(client, client_options(port, verified(Some("localhost")))) {
        Err(Error::CertificateInvalid) => {}
        Ok(conn) => {
            let _ = next(&crx);
            loop {
                match next(&crx) {
                    Event::Disconnect(id, reason) => {
                        assert_eq!(id, conn);
                        assert!(matches!(reason, DisconnectReason::TlsError | DisconnectReason::Reset | DisconnectReason::PeerClosed), "{reason:?}");
                        break;
                    }
                    Event::Data(..) | Event::Connect(..) => {}
                }
            }
        }
        Err(e) => panic!("{e:?}"),
    }
    assert!(srx.recv_timeout(Duration::from_millis(300)).is_err(), "no CONNECT for the refused client");
    node.stop().unwrap();
}

#[test]
fn handshake_timeout_drops_a_silent_peer() {
    let node = Node::start(NodeOptions::default()).unwrap();
    let (owner, srx) = process(&node, true);
    let port = tls_server(&node, owner, server_manager(), ClientAuth::None, ChunkOptions::default());
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    silent.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 16];
    use std::io::Read;
    let n = silent.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the server closed the silent connection");
    assert!(srx.try_recv().is_err());
    node.stop().unwrap();
}
