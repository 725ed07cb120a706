//! A connection's job, the task behind its meta-process: setup (the server side of a TLS
//! handshake, when there is one), then serving, then closing.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;

use tokio::net::TcpStream;

use crate::error::Result;
use crate::meta::meta_process::{MetaHandle, StopSignal};
use crate::meta::tcp::connection::serve::Connection;
use crate::meta::tcp::connection::Boxed;
use crate::meta::tcp::connection::shared::ConnShared;
use crate::meta::tcp::options::ConnectionConfig;
use crate::meta::tcp::server::ServerCounts;
use crate::meta::tcp::tls::{self, ServerTlsConfig};
use crate::meta::tcp::transport::Transport;
use crate::meta::tcp::write_queue::WriteQueue;
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::message::{DisconnectReason, ExitReason};
use crate::process::process::ProcessShared;

/// Where a connection delivers: a process, and the registered name it was found by (shown
/// by inspect; otherwise inspect shows the pid).
pub(crate) struct Target {
    pub(crate) process: Arc<ProcessShared>,
    /// Found by its registered name (a pool worker, a client's `process` option).
    pub(crate) by_name: bool,
}

/// How a connection's socket becomes ready.
pub(crate) enum Setup {
    /// Accepted, without TLS.
    Ready(Transport),
    /// A client's connection, connected (and handshaken) already, with its (local, remote)
    /// addresses read right after connecting.
    Connected(Transport, (SocketAddr, SocketAddr)),
    /// Accepted by a TLS server: handshake first; failures are counted in `failures`.
    Accept { tcp: TcpStream, tls: Arc<ServerTlsConfig>, failures: Arc<AtomicU64> },
}

/// Spawns a connection meta-process for a connected socket, owned by `owner`.
pub(crate) fn spawn_connection(
    node: &Node,
    owner: Id,
    setup: Setup,
    target: Target,
    config: Arc<ConnectionConfig>,
) -> Result<Id> {
    node.spawn_meta(owner, |ctx| {
        let shared = Arc::new(ConnShared {
            alias: ctx.alias,
            target: target.process,
            target_by_name: target.by_name,
            writes: WriteQueue::new(config.keepalive.is_some()),
            stop: StopSignal::default(),
            target_down: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            bytes_in: AtomicU64::new(0),
            config: config.clone(),
        });
        let job = Job::new(ctx.node, shared.clone(), setup, config);
        Ok((shared as Arc<dyn MetaHandle>, job))
    })
}

/// A connection's job: the server side of a TLS handshake if any, then serving, then
/// closing. Written as a state machine by hand: as nested async fns it kept its arguments in
/// every state and `self` twice per level, some 670 bytes per idle connection; here each
/// field is stored once, and the phases that run once (handshake, close) are boxed.
struct Job {
    phase: Phase,
    /// The accepting server's counts: the job takes itself off the live count when it ends.
    server: Option<Arc<ServerCounts>>,
}

enum Phase {
    /// Resolves to the connection, or None when the handshake failed (counted and logged).
    Handshake(Boxed<Option<Connection>>),
    Serving(Connection),
    Closing(Boxed<ExitReason>),
    Done,
}

impl Job {
    fn new(node: Node, shared: Arc<ConnShared>, setup: Setup, config: Arc<ConnectionConfig>) -> Job {
        let server = config.server.clone();
        let phase = match setup {
            Setup::Ready(transport) => Phase::Serving(Connection::new(node, shared, transport, config)),
            Setup::Connected(transport, addresses) => {
                let mut connection = Connection::new(node, shared, transport, config);
                connection.known_addresses = Some(Box::new(addresses));
                Phase::Serving(connection)
            }
            Setup::Accept { tcp, tls, failures } => {
                Phase::Handshake(Box::pin(handshake(node, shared, tcp, tls, failures, config)))
            }
        };
        Job { phase, server }
    }

    fn end(&mut self, reason: ExitReason) -> Poll<ExitReason> {
        self.phase = Phase::Done;
        if let Some(server) = self.server.take() {
            server.live.fetch_sub(1, Ordering::Relaxed);
        }
        Poll::Ready(reason)
    }
}

impl Future for Job {
    type Output = ExitReason;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<ExitReason> {
        let job = self.get_mut();
        loop {
            match &mut job.phase {
                Phase::Handshake(handshake) => match handshake.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(connection)) => job.phase = Phase::Serving(connection),
                    Poll::Ready(None) => return job.end(ExitReason::Disconnected(DisconnectReason::TlsHandshakeFailed)),
                },
                Phase::Serving(connection) => {
                    let cause = std::task::ready!(connection.poll_serve(cx));
                    let Phase::Serving(connection) = std::mem::replace(&mut job.phase, Phase::Done) else { unreachable!() };
                    job.phase = Phase::Closing(Box::pin(connection.finish(cause)));
                }
                Phase::Closing(closing) => {
                    let reason = std::task::ready!(closing.as_mut().poll(cx));
                    return job.end(reason);
                }
                Phase::Done => panic!("a finished connection job was polled"),
            }
        }
    }
}

/// The server side of a TLS handshake, within its timeout; a stop request cancels it. A
/// failed handshake ends the connection before CONNECT: the target never hears of it.
async fn handshake(
    node: Node,
    shared: Arc<ConnShared>,
    tcp: TcpStream,
    tls: Arc<ServerTlsConfig>,
    failures: Arc<AtomicU64>,
    config: Arc<ConnectionConfig>,
) -> Option<Connection> {
    let handshake = tokio::select! {
        biased;
        request = shared.stop.wait() => Err(std::io::Error::other(format!("stopped: {request:?}"))),
        handshake = tls::accept(tcp, &tls) => handshake,
    };
    match handshake {
        Ok((tcp, session)) => {
            // The wait above may have taken a wake-up meant for writes queued meanwhile.
            shared.wake();
            Some(Connection::new(node, shared, Transport::tls(tcp, session), config))
        }
        Err(e) => {
            failures.fetch_add(1, Ordering::Relaxed);
            tracing::info!(alias = shared.alias, error = %e, "TLS handshake failed");
            None
        }
    }
}
