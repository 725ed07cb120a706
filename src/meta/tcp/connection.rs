//! The connection meta-process: one per socket, accepted or connected.
//!
//! It delivers to one target process, in order: CONNECT, DATA…, and exactly one DISCONNECT
//! with the reason. Reading waits for readiness before taking a buffer, so an idle
//! connection holds none. When the target's mailbox is full it either pauses reading until
//! there is room (TCP then pushes back on the peer; nothing is lost) or ends the connection
//! (policy TERMINATE). When the peer closes, the connection first waits until the target has
//! handled every DATA it delivered, so replies to the last request still go out, then
//! flushes and closes. A graceful close flushes queued writes within the close timeout; an
//! abort resets the socket at once.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::{sleep_until, Instant, Sleep};

use crate::error::{Error, Result};
use crate::meta::meta_process::{MetaHandle, StopRequest, StopSignal};
use crate::meta::tcp::framing::{Decoder, FrameError, Framing};
use crate::meta::tcp::keepalive::configure_socket;
use crate::meta::tcp::server::ServerCounts;
use crate::meta::tcp::options::{ConnectionConfig, MailboxPolicy};
use crate::meta::tcp::payload::pooled;
use crate::buf::pool::Buf;
use crate::meta::tcp::tls::{self, ServerTlsConfig};
use crate::meta::tcp::transport::Transport;
use crate::meta::tcp::write_queue::{Refused, Source, WriteQueue, Written};
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::message::{DisconnectReason, ExitReason, Message, Payload};
use crate::process::current::{self, Deferred};
use crate::process::behavior::Flow;
use crate::process::frame_source::FrameSource;
use crate::process::process::{Envelope, ProcessShared};

/// Most reads in a row before the task lets others run.
const READS_PER_TURN: usize = 16;
/// Longest a connection waits for its queued writes to flush when the node stops.
const NODE_STOP_FLUSH: std::time::Duration = std::time::Duration::from_secs(1);
/// Most frames delivered in one envelope (see `Envelope::Frames`).
const FRAMES_PER_DELIVERY: usize = 64;
/// Size of the per-thread arena that reads without a pool land in.
const ARENA_SIZE: usize = 256 * 1024;

thread_local! {
    /// Reads land here and are split off as shared chunks, so small reads cost no allocation
    /// of their own and no connection holds a buffer between reads.
    static ARENA: RefCell<BytesMut> = RefCell::new(BytesMut::new());
    /// The connection whose frames the handler running on this thread answers (see
    /// `FrameSource for ConnShared`), or null. A pointer, not an `Option<Arc>` in a
    /// `RefCell`: read on every write, it then costs no borrow flag.
    static REPLYING_TO: Cell<*const ConnShared> = const { Cell::new(std::ptr::null()) };
}

/// The state a connection shares with handler threads (writes, inspect, stop).
///
/// Size matters here: one per connection, beside tokio's two 128-byte-aligned blocks (the
/// task and its ScheduledIo), whose alignment leaves holes in glibc's heap that blocks of
/// this size fill. Today 200 bytes (a 224-byte chunk with the Arc's counts); above that, idle
/// memory per connection jumps by 35–45 bytes. Adding a field: re-measure case g of the
/// benchmarks (bench/README.md).
pub(crate) struct ConnShared {
    alias: Id,
    target: Arc<ProcessShared>,
    /// The target was found by its registered name: inspect shows the name, not the pid.
    target_by_name: bool,
    writes: WriteQueue,
    /// Stop requests; its wake-up is also the task's wake-up for everything else (queued
    /// writes, the target's end): the task looks at every source on each wake.
    stop: StopSignal,
    target_down: AtomicBool,
    paused: AtomicBool,
    bytes_in: AtomicU64,
    /// The write queue's limit, and the read buffer pool whose counters inspect shows.
    config: Arc<ConnectionConfig>,
}

impl ConnShared {
    /// Writes or queues bytes for the socket. A handler whose process has more messages
    /// queued defers the system call to the end of that batch, so the replies to many small
    /// requests leave in one vectored write. `in_batch` says the writer is such a handler;
    /// `this` gives this connection's shared state for the batch-end flush to hold.
    fn write(&self, source: Source<'_>, in_batch: bool, this: impl FnOnce() -> Arc<ConnShared>) -> std::result::Result<(), Refused> {
        match self.writes.write(source, in_batch, self.config.write_queue_limit) {
            Ok(Written::Done) => Ok(()),
            Ok(Written::Deferred { first }) => {
                if first {
                    current::defer(this());
                }
                Ok(())
            }
            Ok(Written::Queued) => {
                self.wake();
                Ok(())
            }
            Err(refused) => {
                if refused.error == Error::Closed {
                    self.wake();
                }
                Err(refused)
            }
        }
    }
}

impl ConnShared {
    /// Wakes the connection task.
    fn wake(&self) {
        self.stop.wakeup().notify();
    }

    /// Flushes queued writes from any thread; true when the socket is full (the connection
    /// task must then wait for it to become writable). Delivers WRITABLE when it is owed.
    fn flush_writes(&self) -> std::result::Result<bool, DisconnectReason> {
        match self.writes.flush(self.config.write_queue_limit) {
            Ok((drained, writable_owed)) => {
                if writable_owed {
                    let message = Message::Writable { conn: self.alias };
                    self.target.push_lifecycle(Envelope::Message(message));
                }
                Ok(!drained)
            }
            Err(e) => Err(io_reason(&e)),
        }
    }
}

impl Deferred for ConnShared {
    /// The batch-end flush of deferred writes, on the writing process's thread. A full socket
    /// or an error is left to the connection task.
    fn run(&self) {
        if !matches!(self.flush_writes(), Ok(false)) {
            self.wake();
        }
    }
}

/// The connection's shared state is its registry handle too (not a separate allocation that
/// points to it).
impl MetaHandle for ConnShared {
    fn kind(&self) -> &'static str {
        "tcp connection"
    }

    fn inspect(&self, out: &mut Vec<(String, String)>) {
        let c = self;
        let mut add = |k: &str, v: String| out.push((k.to_owned(), v));
        // Read from the socket on demand rather than stored per connection.
        let (local, remote) = match c.writes.open_socket().map(|t| t.addresses()) {
            Some(Ok((local, remote))) => (local.to_string(), remote.to_string()),
            _ => (String::new(), String::new()),
        };
        add("local", local);
        add("remote", remote);
        let name = if c.target_by_name { c.target.name.lock().unwrap().clone() } else { None };
        add("process", name.unwrap_or_else(|| c.target.pid.to_string()));
        add("bytes in", c.bytes_in.load(Ordering::Relaxed).to_string());
        add("bytes out", c.writes.bytes_out().to_string());
        add("queued write bytes", c.writes.queued().to_string());
        add("reading paused", c.paused.load(Ordering::Relaxed).to_string());
        if let Some(tls) = c.writes.open_socket().and_then(Transport::tls_info) {
            add("tls version", tls.protocol_version.clone());
            add("tls cipher", tls.cipher_suite.clone());
            add("tls alpn", tls.alpn.clone().unwrap_or_default());
            add("tls server name", tls.server_name.clone().unwrap_or_default());
            add("tls peer subject", tls.peer_subject.clone().unwrap_or_default());
        }
        if let Some(pool) = &c.config.pool {
            pool.inspect("pool ", out);
        }
    }

    /// From the moment a stop is requested, writes are refused (CLOSED): what was queued
    /// before is flushed (or dropped by an abort), nothing written after it goes out.
    fn stop(&self, request: StopRequest) {
        self.writes.stop_accepting();
        self.stop.request(request);
    }

    /// The target ended: the connection closes (TARGET_DOWN).
    fn watched_ended(&self, _reason: ExitReason) {
        self.target_down.store(true, Ordering::Release);
        self.wake();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A connection makes itself the reply target for the handler's pass over its frames: the
/// frames of one read are answered with one write each, and a write to the alias being
/// answered then skips the registry lookup (see `Node::with_connection`).
impl FrameSource for ConnShared {
    fn serve_pass(self: Arc<Self>, pass: &mut dyn FnMut() -> Flow) -> Flow {
        struct Restore(*const ConnShared);
        impl Drop for Restore {
            fn drop(&mut self) {
                REPLYING_TO.with(|r| r.set(self.0));
            }
        }
        // `self` outlives the guard (arguments drop after locals): the pointer stays valid
        // for as long as it is set.
        let _restore = Restore(REPLYING_TO.with(|r| r.replace(Arc::as_ptr(&self))));
        pass()
    }
}

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

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

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
                    let reason = std::task::ready!(connection.poll_serve(cx));
                    let Phase::Serving(connection) = std::mem::replace(&mut job.phase, Phase::Done) else { unreachable!() };
                    job.phase = Phase::Closing(Box::pin(connection.finish(reason)));
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

struct Connection {
    node: Node,
    shared: Arc<ConnShared>,
    config: Arc<ConnectionConfig>,
    /// Boxed: only framed connections have one.
    decoder: Option<Box<Decoder>>,
    /// DATA waiting for room in the target's mailbox (policy PAUSE). Boxed: it is rare, and
    /// inline it would make every connection's task a size class larger.
    pending: Option<Box<Envelope>>,
    /// The target is watched and was sent CONNECT (not before, nor if it was already gone).
    watching: bool,
    /// A client's addresses, known before it starts. The caller holds a client's id already,
    /// so a peer that resets it before it starts (the socket has no peer address then) must
    /// still reach the target, as CONNECT then DISCONNECT with the reason; an accepted
    /// socket that is gone before it starts is never announced at all.
    known_addresses: Option<Box<(SocketAddr, SocketAddr)>>,
    started: bool,
    keepalive: Option<Pin<Box<Sleep>>>,
    /// The peer closed: the reason, and the barrier that resolves once the target has
    /// handled every DATA delivered before.
    draining: Option<(DisconnectReason, oneshot::Receiver<()>)>,
    /// While paused: resolves when the target's mailbox has room.
    room: Option<Boxed<bool>>,
}

/// What the connection is waiting for on a turn of its loop.
#[derive(Clone, Copy)]
struct Wait {
    reading: bool,
    socket_full: bool,
}

/// What woke the connection.
enum Event {
    /// A stop request, a queued write, the target's end.
    Signal,
    Readable,
    Writable,
    /// The target's mailbox has room again.
    Room,
    /// The target has handled every DATA delivered before the peer closed.
    Drained,
    Keepalive,
    Failed(io::Error),
}

/// How reading ended.
enum End {
    /// The peer closed: drain, then close with this reason.
    Eof(DisconnectReason),
    /// Close now with this reason.
    Now(DisconnectReason),
}

impl Connection {
    fn new(node: Node, shared: Arc<ConnShared>, transport: Transport, config: Arc<ConnectionConfig>) -> Connection {
        if let Err(e) = configure_socket(transport.tcp(), config.nodelay, config.os_keepalive) {
            tracing::debug!(error = %e, "could not set socket options");
        }
        shared.writes.attach(transport);
        let decoder = match config.framing {
            Framing::None => None,
            framing => Some(Box::new(Decoder::new(framing))),
        };
        Connection {
            node,
            shared,
            config,
            decoder,
            pending: None,
            watching: false,
            known_addresses: None,
            started: false,
            keepalive: None,
            draining: None,
            room: None,
        }
    }

    /// The socket (attached when the connection was made).
    fn transport(&self) -> &Transport {
        self.shared.writes.socket().expect("a connection's socket is attached")
    }

    /// Watches the target, delivers CONNECT and starts the keepalive timer (on the runtime:
    /// a client connection is built on the caller's thread). TargetDown if the target is gone.
    fn begin(&mut self) -> Option<DisconnectReason> {
        self.keepalive = self.config.keepalive.as_ref().map(|(_, period)| Box::pin(tokio::time::sleep(*period)));
        // An accepted peer already gone (no addresses) never reaches the target: no CONNECT,
        // so no DISCONNECT either.
        let addresses = match self.known_addresses.take() {
            Some(known) => Ok(*known),
            None => self.transport().addresses(),
        };
        let Ok((local, remote)) = addresses else {
            if let Some(server) = &self.config.server {
                server.reset_before_start.fetch_add(1, Ordering::Relaxed);
            }
            return Some(DisconnectReason::PeerClosed);
        };
        let target = &self.shared.target;
        match self.node.watch(target.pid, self.shared.alias) {
            Err(_) => Some(DisconnectReason::TargetDown),
            Ok(()) => {
                self.watching = true;
                let tls = self.transport().tls_info().map(|info| Box::new(info.clone()));
                let connect = Message::Connect { conn: self.shared.alias, local, remote, tls };
                target.push_lifecycle(Envelope::Message(connect));
                None
            }
        }
    }

    /// Closes the socket, then delivers the one DISCONNECT (if CONNECT was delivered).
    async fn finish(mut self, reason: DisconnectReason) -> ExitReason {
        let reason = self.close(reason).await;
        if self.watching {
            let disconnect = Message::Disconnect { conn: self.shared.alias, reason };
            self.shared.target.push_lifecycle(Envelope::Message(disconnect));
            self.node.unwatch(self.shared.target.pid, self.shared.alias);
        }
        ExitReason::of_disconnect(reason)
    }

    /// Reads, delivers and writes until something ends the connection (the reason).
    fn poll_serve(&mut self, cx: &mut std::task::Context<'_>) -> Poll<DisconnectReason> {
        if !self.started {
            self.started = true;
            if let Some(reason) = self.begin() {
                return Poll::Ready(reason);
            }
        }
        loop {
            if let Some(reason) = self.requested_end() {
                return Poll::Ready(reason);
            }
            let socket_full = match self.shared.writes.needs_flush() {
                true => match self.flush() {
                    Ok(full) => full,
                    Err(reason) => return Poll::Ready(reason),
                },
                false => false,
            };
            if let Err(reason) = self.deliver_buffered() {
                return Poll::Ready(reason);
            }
            let paused = self.pending.is_some();
            if self.shared.paused.load(Ordering::Relaxed) != paused {
                self.shared.paused.store(paused, Ordering::Relaxed);
            }
            // Waiting for mailbox room is rare (PAUSE with a full mailbox): only then is that
            // future made.
            if paused && self.room.is_none() {
                self.room = Some(Box::pin(self.shared.target.clone().wait_for_room()));
            }
            let wait = Wait { reading: self.draining.is_none() && !paused, socket_full };
            let event = std::task::ready!(self.poll_event(cx, wait));
            match event {
                Event::Signal | Event::Writable => {}
                Event::Room => self.room = None,
                Event::Drained => {
                    let reason = self.draining.take().map(|(reason, _)| reason);
                    return Poll::Ready(reason.unwrap_or(DisconnectReason::PeerClosed));
                }
                Event::Failed(e) => return Poll::Ready(io_reason(&e)),
                Event::Readable => match self.read() {
                    Some(End::Now(reason)) => return Poll::Ready(reason),
                    Some(End::Eof(reason)) => self.draining = Some((reason, self.shared.target.barrier())),
                    None => {}
                },
                Event::Keepalive => self.keepalive(),
            }
        }
    }

    /// One poll of everything the connection waits for, in priority order. Each source keeps
    /// the task's waker, so the task wakes for whichever comes first.
    fn poll_event(&mut self, cx: &mut std::task::Context<'_>, wait: Wait) -> Poll<Event> {
        // Stop requests ring the same wake-up as everything else: one waker slot covers all.
        if self.shared.stop.get().is_some() || self.shared.stop.wakeup().poll_wait(cx).is_ready() {
            return Poll::Ready(Event::Signal);
        }
        if let Some((_, handled)) = &mut self.draining {
            if Pin::new(handled).poll(cx).is_ready() {
                return Poll::Ready(Event::Drained);
            }
        }
        if wait.reading {
            if let Poll::Ready(ready) = self.transport().poll_readable(cx) {
                return Poll::Ready(ready.map_or_else(Event::Failed, |()| Event::Readable));
            }
        }
        if wait.socket_full {
            if let Poll::Ready(ready) = self.transport().poll_writable(cx) {
                return Poll::Ready(ready.map_or_else(Event::Failed, |()| Event::Writable));
            }
        }
        if let Some(room) = &mut self.room {
            if room.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Room);
            }
        }
        if let Some(timer) = &mut self.keepalive {
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Keepalive);
            }
        }
        Poll::Pending
    }

    /// A stop request, the target's end, or a failed direct write.
    fn requested_end(&self) -> Option<DisconnectReason> {
        if let Some(request) = self.shared.stop.get() {
            return Some(match request {
                StopRequest::Graceful => DisconnectReason::Closed,
                StopRequest::Abort => DisconnectReason::Aborted,
                StopRequest::OwnerDown => DisconnectReason::ParentDown,
                StopRequest::NodeStopping => DisconnectReason::NodeStopping,
            });
        }
        if self.shared.target_down.load(Ordering::Acquire) {
            return Some(DisconnectReason::TargetDown);
        }
        self.shared.writes.error().map(|kind| io_reason(&kind.into()))
    }

    /// Flushes queued writes; Ok(true) when the socket is full and writability must be awaited.
    fn flush(&self) -> std::result::Result<bool, DisconnectReason> {
        self.shared.flush_writes()
    }

    /// Reads what the socket has, delivering as it goes, until it would block, the target's
    /// mailbox fills up, or the turn is over.
    fn read(&mut self) -> Option<End> {
        let end = self.read_turn();
        // A TLS read may have produced records to send (alerts, tickets, key updates).
        if self.transport().has_pending_output() {
            self.shared.writes.mark_pending();
        }
        end
    }

    fn read_turn(&mut self) -> Option<End> {
        for _ in 0..READS_PER_TURN {
            if self.pending.is_some() {
                return None;
            }
            let chunk = match self.read_chunk() {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return None,
                Err(e) => return Some(End::Now(io_reason(&e))),
            };
            let len = chunk.as_slice().len();
            if len == 0 {
                // A peer's reset reads as end of stream when a writer's send took its error
                // first: what that send returned decides (RESET, not PEER_CLOSED).
                if let Some(kind) = self.shared.writes.error_now() {
                    return Some(End::Now(io_reason(&kind.into())));
                }
                let truncated = self.decoder.as_ref().is_some_and(|d| d.has_partial());
                let reason = if truncated { DisconnectReason::FrameTruncated } else { DisconnectReason::PeerClosed };
                return Some(End::Eof(reason));
            }
            self.shared.bytes_in.fetch_add(len as u64, Ordering::Relaxed);
            let result = match (&mut self.decoder, chunk) {
                (None, chunk) => self.deliver(Envelope::Message(Message::Data { conn: self.shared.alias, data: chunk })),
                (Some(decoder), Payload::Bytes(bytes)) => {
                    decoder.push(bytes);
                    self.deliver_buffered()
                }
                (Some(_), Payload::Pooled(_)) => unreachable!("framed reads land in the arena"),
            };
            if let Err(reason) = result {
                return Some(End::Now(reason));
            }
        }
        None
    }

    /// One non-blocking read: into a pool buffer (raw mode with a pool) or the thread's
    /// arena. None when the socket has nothing after all.
    fn read_chunk(&self) -> io::Result<Option<Payload>> {
        let max = self.config.read_buffer_size;
        let outcome = match (&self.config.pool, &self.decoder) {
            (Some(pool), None) => {
                let mut buf = pool.get();
                let limit = max.min(buf.capacity());
                self.transport().try_read(buf.vec_mut(), limit).map(|_| pooled(buf))
            }
            _ => ARENA.with_borrow_mut(|arena| {
                if arena.capacity() < max {
                    *arena = BytesMut::with_capacity(ARENA_SIZE.max(max));
                }
                let n = self.transport().try_read(arena, max)?;
                Ok(Payload::Bytes(arena.split_to(n).freeze()))
            }),
        };
        match outcome {
            Ok(payload) => Ok(Some(payload)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Delivers the pending DATA, then every complete frame the decoder holds (as few
    /// envelopes as possible), until the target's mailbox is full. A bad header ends the
    /// connection once the frames before it are delivered.
    fn deliver_buffered(&mut self) -> std::result::Result<(), DisconnectReason> {
        if let Some(envelope) = self.pending.take() {
            self.deliver(*envelope)?;
        }
        while self.pending.is_none() {
            let Some(frames) = self.next_frames()? else { break };
            let source = self.shared.clone();
            self.deliver(Envelope::Frames { conn: self.shared.alias, frames, source })?;
        }
        Ok(())
    }

    /// Up to `FRAMES_PER_DELIVERY` complete frames from the decoder, None if it holds none
    /// (or there is no decoder). A decoder error stays at the front, so frames before it
    /// are returned first and the error on the next call.
    fn next_frames(&mut self) -> std::result::Result<Option<Vec<Payload>>, DisconnectReason> {
        let Some(decoder) = self.decoder.as_mut() else { return Ok(None) };
        let mut frames = Vec::new();
        while frames.len() < FRAMES_PER_DELIVERY {
            let frame = match decoder.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) if !frames.is_empty() => break,
                Err(FrameError::TooLong { .. }) => return Err(DisconnectReason::MaxLengthExceeded),
                Err(FrameError::InvalidLength { .. }) => return Err(DisconnectReason::InvalidFrameLength),
            };
            if frames.is_empty() {
                // Room for a typical read's frames at once (from 4, it reallocated twice).
                frames.reserve_exact(16);
            }
            frames.push(match &self.config.pool {
                Some(pool) => pooled(pool.copy_from(&frame)),
                None => Payload::Bytes(frame),
            });
        }
        Ok((!frames.is_empty()).then_some(frames))
    }

    /// Queues DATA for the target, applying the mailbox policy when it is full.
    fn deliver(&mut self, envelope: Envelope) -> std::result::Result<(), DisconnectReason> {
        match self.shared.target.push_envelope(envelope) {
            Ok(()) => Ok(()),
            Err((Error::MailboxFull, envelope)) => match self.config.mailbox_policy {
                MailboxPolicy::Pause => {
                    self.pending = Some(Box::new(envelope));
                    Ok(())
                }
                MailboxPolicy::Terminate => Err(DisconnectReason::MailboxFull),
            },
            Err(_) => Err(DisconnectReason::TargetDown),
        }
    }

    /// Writes the keepalive bytes if nothing was written for a full period, and re-arms.
    fn keepalive(&mut self) {
        let (Some((bytes, period)), Some(timer)) = (&self.config.keepalive, self.keepalive.as_mut()) else { return };
        let due = self.shared.writes.last_write() + *period;
        if Instant::now() >= due {
            if self.shared.writes.write_keepalive(bytes, self.config.write_queue_limit) == Written::Queued {
                self.shared.wake();
            }
            timer.as_mut().reset(Instant::now() + *period);
        } else {
            timer.as_mut().reset(due);
        }
    }

    /// Closes the socket: flush what is queued (unless aborting or broken) within the close
    /// timeout, send FIN, release the socket. A flush that times out becomes WriteTimeout.
    async fn close(&mut self, mut reason: DisconnectReason) -> DisconnectReason {
        let writes = &self.shared.writes;
        writes.stop_accepting();
        let graceful = !matches!(reason, DisconnectReason::Aborted | DisconnectReason::Reset | DisconnectReason::IoError);
        let mut flush_timed_out = false;
        if graceful {
            let deadline = Instant::now() + flush_time(reason, self.config.close_timeout);
            loop {
                match writes.flush(self.config.write_queue_limit) {
                    Ok((true, _)) => break,
                    Ok((false, _)) => {}
                    Err(e) => {
                        reason = io_reason(&e);
                        break;
                    }
                }
                // Not `stop.wait()`: a stop request is sticky (every close after a terminate,
                // an owner's end or a node stop has one), so it would be ready on every turn
                // and this loop would spin without ever yielding, starving the worker (with
                // one such close per worker, the timers never fire and the node livelocks).
                // The wake-up rings once per new request, so a later abort still ends the
                // flush at once.
                tokio::select! {
                    _ = self.transport().writable() => {}
                    _ = self.shared.stop.wakeup().wait() => {}
                    _ = sleep_until(deadline) => {
                        reason = timed_out(reason);
                        flush_timed_out = true;
                        break;
                    }
                }
                if self.shared.stop.get() == Some(StopRequest::Abort) {
                    reason = DisconnectReason::Aborted;
                    break;
                }
            }
        }
        match reason {
            _ if flush_timed_out => self.transport().reset_on_close(),
            DisconnectReason::Aborted => self.transport().reset_on_close(),
            _ if graceful => self.transport().shutdown_write(),
            _ => {}
        }
        writes.release();
        self.pending = None;
        reason
    }
}

/// How long a close waits for queued writes: the close timeout, but at most a second when
/// the node is stopping, so a peer that does not read cannot hold up the stop for long.
fn flush_time(reason: DisconnectReason, close_timeout: std::time::Duration) -> std::time::Duration {
    match reason {
        DisconnectReason::NodeStopping => close_timeout.min(NODE_STOP_FLUSH),
        _ => close_timeout,
    }
}

/// The reason for a close whose queued writes did not flush in time: a stop of the node or
/// of the owner keeps its own reason (the cause); any other close reports WriteTimeout, so
/// the process learns that queued bytes were dropped.
fn timed_out(reason: DisconnectReason) -> DisconnectReason {
    match reason {
        DisconnectReason::NodeStopping | DisconnectReason::ParentDown => reason,
        _ => DisconnectReason::WriteTimeout,
    }
}

fn io_reason(e: &io::Error) -> DisconnectReason {
    match e.kind() {
        io::ErrorKind::InvalidData => DisconnectReason::TlsError,
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe => {
            DisconnectReason::Reset
        }
        _ => DisconnectReason::IoError,
    }
}

impl Node {
    /// Runs `f` on a live connection (under the registry's read lock: no reference counts
    /// change hands on this per-write path), with whether the caller is a handler in a batch
    /// (see `ConnShared::write`) and a way to get the state as an Arc.
    fn with_connection<R>(&self, alias: Id, f: impl FnOnce(&ConnShared, bool, &dyn Fn() -> Arc<ConnShared>) -> R) -> Result<R> {
        // The connection whose frames the handler answers (always in a batch) is at hand:
        // no registry lookup.
        let replying_to = REPLYING_TO.with(|r| r.get());
        // Set only while `serve_pass` holds the connection's Arc.
        if let Some(conn) = unsafe { replying_to.as_ref() } {
            if conn.alias == alias {
                let this = || unsafe {
                    Arc::increment_strong_count(replying_to);
                    Arc::from_raw(replying_to)
                };
                return Ok(f(conn, true, &this));
            }
        }
        let in_batch = current::in_batch();
        self.registry().with_meta(alias, |meta| {
            let handle = &meta.handle;
            let conn = handle.as_any().downcast_ref::<ConnShared>().ok_or(Error::Unsupported)?;
            // The handle is this ConnShared (registered as `Arc<ConnShared>`, unsized to the
            // trait object), so its data pointer is the ConnShared's.
            let this = || unsafe { Arc::from_raw(Arc::into_raw(handle.clone()) as *const ConnShared) };
            Ok(f(conn, in_batch, &this))
        })?
    }

    /// Writes `data` (copied if it cannot go out at once) to a connection.
    pub fn tcp_write(&self, alias: Id, data: &[u8]) -> Result<()> {
        self.with_connection(alias, |c, in_batch, this| c.write(Source::Borrowed(data), in_batch, this).map_err(|r| r.error))?
    }

    /// Writes a pool buffer to a connection; it returns to its pool once written. On error
    /// the buffer is handed back.
    pub fn tcp_write_buf(&self, alias: Id, buf: Buf) -> std::result::Result<(), (Error, Buf)> {
        let mut buf = Some(buf);
        let written = self.with_connection(alias, |c, in_batch, this| c.write(Source::Pooled(buf.take().expect("once")), in_batch, this));
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(refused)) => Err((refused.error, refused.buf.expect("a refused pool write returns its buffer"))),
            Err(e) => Err((e, buf.take().expect("not written"))),
        }
    }
}
