//! The TCP server meta-process. Creating it binds and listens at once, in the caller's
//! thread, so "address in use" and bad options are reported synchronously; creation and
//! spawn are one call, so a listening socket can never be left behind. The accept loop spawns
//! a connection meta-process per socket, owned by the server: when the server ends (with its
//! owner, or terminated on its own) its listener and every connection it spawned close.
//! Accept errors never end the server: they are logged and retried with backoff.

use std::any::Any;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

use crate::error::{Error, Result};
use crate::meta::meta_process::{MetaHandle, StopRequest, StopSignal};
use crate::meta::tcp::connection::{spawn_connection, Setup};
use crate::meta::tcp::options::{ConnectionConfig, ConnectionOptions};
use crate::buf::pool::Pool;
use crate::meta::tcp::routing::Router;
use crate::meta::tcp::tls::{ServerTls, ServerTlsConfig};
use crate::meta::tcp::transport::Transport;
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::message::ExitReason;

const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address or name to listen on; empty means every IPv4 interface.
    pub host: String,
    /// 0 lets the OS pick; the bound address is returned.
    pub port: u16,
    pub backlog: i32,
    /// Registered names to route connections to (round-robin); empty routes to the owner.
    pub pool: Vec<String>,
    pub reuse_address: bool,
    pub reuse_port: bool,
    pub connection: ConnectionOptions,
    /// TLS on every accepted connection; None for plain TCP.
    pub tls: Option<ServerTls>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            host: String::new(),
            port: 0,
            backlog: 1024,
            pool: Vec::new(),
            reuse_address: true,
            reuse_port: false,
            connection: ConnectionOptions::default(),
            tls: None,
        }
    }
}

/// What a server's connections count themselves.
#[derive(Debug, Default)]
pub(crate) struct ServerCounts {
    /// Live connections: each takes itself off when it ends.
    pub(crate) live: AtomicU64,
    /// Accepted sockets the peer reset before their connection began: never announced (no
    /// CONNECT, so no DISCONNECT).
    pub(crate) reset_before_start: AtomicU64,
}

struct ServerShared {
    listener_addr: SocketAddr,
    stop: StopSignal,
    accepted: AtomicU64,
    counts: Arc<ServerCounts>,
    no_target: AtomicU64,
    accept_errors: AtomicU64,
    /// The read buffer pool of its connections, if any: its counters are shown by inspect.
    pool: Option<Pool>,
    tls: Option<Arc<ServerTlsConfig>>,
    handshake_failures: Arc<AtomicU64>,
}

struct ServerHandle(Arc<ServerShared>);

impl MetaHandle for ServerHandle {
    fn kind(&self) -> &'static str {
        "tcp server"
    }

    fn inspect(&self, out: &mut Vec<(String, String)>) {
        let s = &self.0;
        let mut add = |k: &str, v: String| out.push((k.to_owned(), v));
        add("listener", s.listener_addr.to_string());
        add("connections", s.counts.live.load(Ordering::Relaxed).to_string());
        add("accepted", s.accepted.load(Ordering::Relaxed).to_string());
        add("reset before start", s.counts.reset_before_start.load(Ordering::Relaxed).to_string());
        add("no target", s.no_target.load(Ordering::Relaxed).to_string());
        add("accept errors", s.accept_errors.load(Ordering::Relaxed).to_string());
        add("tls", if s.tls.is_some() { "on" } else { "off" }.to_owned());
        if s.tls.is_some() {
            add("tls handshake failures", s.handshake_failures.load(Ordering::Relaxed).to_string());
        }
        if let Some(pool) = &s.pool {
            pool.inspect("pool ", out);
        }
    }

    fn stop(&self, request: StopRequest) {
        self.0.stop.request(request);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Resolves `host:port` to the first address.
pub(crate) fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    (host, port).to_socket_addrs().map_err(|_| Error::DnsFailure)?.next().ok_or(Error::DnsFailure)
}

fn bind(options: &ServerOptions) -> Result<std::net::TcpListener> {
    let addr = resolve(&options.host, options.port)?;
    let io = |e: std::io::Error| Error::from_io(&e);
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(io)?;
    socket.set_reuse_address(options.reuse_address).map_err(io)?;
    if options.reuse_port {
        socket.set_reuse_port(true).map_err(io)?;
    }
    socket.set_nonblocking(true).map_err(io)?;
    socket.bind(&addr.into()).map_err(io)?;
    socket.listen(options.backlog.max(1)).map_err(io)?;
    Ok(socket.into())
}

/// Binds, listens and spawns a TCP server (see `Node::tcp_listen`).
pub(crate) fn listen(node: &Node, owner: Id, options: ServerOptions) -> Result<(Id, SocketAddr)> {
    let counts = Arc::new(ServerCounts::default());
    let config = Arc::new(ConnectionConfig { server: Some(counts.clone()), ..options.connection.validate()? });
    let tls = node.with_logging(|| options.tls.clone().map(ServerTlsConfig::new).transpose())?.map(Arc::new);
    node.process_ref(owner)?;
    let std_listener = node.with_logging(|| bind(&options))?;
    let listener_addr = std_listener.local_addr().map_err(|e| Error::from_io(&e))?;
    let listener = {
        let _runtime = node.runtime_handle().enter();
        TcpListener::from_std(std_listener).map_err(|e| Error::from_io(&e))?
    };
    let alias = node.spawn_meta(owner, |ctx| {
        let shared = Arc::new(ServerShared {
            listener_addr,
            stop: StopSignal::default(),
            accepted: AtomicU64::new(0),
            counts,
            no_target: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            pool: config.pool.clone(),
            tls,
            handshake_failures: Arc::new(AtomicU64::new(0)),
        });
        let router = Router::new(ctx.owner, options.pool);
        let job = accept_loop(ctx.node, ctx.alias, listener, shared.clone(), router, config);
        Ok((Arc::new(ServerHandle(shared)) as Arc<dyn MetaHandle>, job))
    })?;
    tracing::debug!(alias, %listener_addr, "tcp server listening");
    Ok((alias, listener_addr))
}

async fn accept_loop(
    node: Node,
    alias: Id,
    listener: TcpListener,
    shared: Arc<ServerShared>,
    router: Router,
    config: Arc<ConnectionConfig>,
) -> ExitReason {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let accepted = tokio::select! {
            biased;
            request = shared.stop.wait() => return request.exit_reason(),
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = FIRST_BACKOFF;
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                start_connection(&node, alias, stream, peer, &shared, &router, &config);
            }
            Err(e) => {
                // EMFILE, ENFILE, ECONNABORTED and the like: the server lives on.
                shared.accept_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(alias, error = %e, retry_in = ?backoff, "accept failed");
                tokio::select! {
                    request = shared.stop.wait() => return request.exit_reason(),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn start_connection(
    node: &Node,
    server: Id,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: &ServerShared,
    router: &Router,
    config: &Arc<ConnectionConfig>,
) {
    let Some(target) = router.pick(node) else {
        shared.no_target.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(server, %peer, "no live process in the pool; closing the connection");
        return;
    };
    let setup = match &shared.tls {
        None => Setup::Ready(Transport::plain(stream)),
        Some(tls) => Setup::Accept { tcp: stream, tls: tls.clone(), failures: shared.handshake_failures.clone() },
    };
    // Counted before the spawn: the connection takes itself off when it ends.
    shared.counts.live.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = spawn_connection(node, server, setup, target, config.clone()) {
        shared.counts.live.fetch_sub(1, Ordering::Relaxed);
        tracing::warn!(server, %peer, error = %e, "could not start a connection");
    }
}
