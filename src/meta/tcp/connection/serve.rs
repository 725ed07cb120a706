//! The serve loop: read what the socket has and deliver it (DATA, or a read's frames in
//! one envelope), flush queued writes, keep the connection alive, and watch for the end.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use bytes::BytesMut;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use crate::error::Error;
use crate::meta::tcp::connection::close::Cause;
use crate::meta::tcp::connection::Boxed;
use crate::meta::tcp::connection::shared::ConnShared;
use crate::meta::tcp::framing::{Decoder, FrameError, Framing};
use crate::meta::tcp::keepalive::configure_socket;
use crate::meta::tcp::options::{ConnectionConfig, MailboxPolicy};
use crate::meta::tcp::payload::pooled;
use crate::meta::tcp::transport::Transport;
use crate::meta::tcp::write_queue::Written;
use crate::node::node::Node;
use crate::process::message::{Message, Payload};
use crate::process::process::Envelope;

/// Most reads in a row before the task lets others run.
const READS_PER_TURN: usize = 16;
/// Longest a connection waits for its queued writes to flush when the node stops.
/// Most frames delivered in one envelope (see `Envelope::Frames`).
const FRAMES_PER_DELIVERY: usize = 64;
/// Size of the per-thread arena that reads without a pool land in.
const ARENA_SIZE: usize = 256 * 1024;

thread_local! {
    /// Reads land here and are split off as shared chunks, so small reads cost no allocation
    /// of their own and no connection holds a buffer between reads.
    static ARENA: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

pub(super) struct Connection {
    pub(super) node: Node,
    pub(super) shared: Arc<ConnShared>,
    pub(super) config: Arc<ConnectionConfig>,
    /// Boxed: only framed connections have one.
    decoder: Option<Box<Decoder>>,
    /// DATA waiting for room in the target's mailbox (policy PAUSE). Boxed: it is rare, and
    /// inline it would make every connection's task a size class larger.
    pub(super) pending: Option<Box<Envelope>>,
    /// The target is watched and was sent CONNECT (not before, nor if it was already gone).
    pub(super) watching: bool,
    /// A client's addresses, known before it starts. The caller holds a client's id already,
    /// so a peer that resets it before it starts (the socket has no peer address then) must
    /// still reach the target, as CONNECT then DISCONNECT with the reason; an accepted
    /// socket that is gone before it starts is never announced at all.
    pub(super) known_addresses: Option<Box<(SocketAddr, SocketAddr)>>,
    started: bool,
    keepalive: Option<Pin<Box<Sleep>>>,
    /// The peer closed: the cause, and the barrier that resolves once the target has
    /// handled every DATA delivered before.
    draining: Option<(Cause, oneshot::Receiver<()>)>,
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
    /// The peer closed: drain, then close for this cause.
    Eof(Cause),
    /// Close now for this cause.
    Now(Cause),
}

impl Connection {
    pub(super) fn new(node: Node, shared: Arc<ConnShared>, transport: Transport, config: Arc<ConnectionConfig>) -> Connection {
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
    pub(super) fn transport(&self) -> &Transport {
        self.shared.writes.socket().expect("a connection's socket is attached")
    }

    /// Watches the target, delivers CONNECT and starts the keepalive timer (on the runtime:
    /// a client connection is built on the caller's thread). TargetDown if the target is gone.
    fn begin(&mut self) -> Option<Cause> {
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
            return Some(Cause::PeerClosed);
        };
        let target = &self.shared.target;
        match self.node.watch(target.pid, self.shared.alias) {
            Err(_) => Some(Cause::TargetDown),
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
    /// Reads, delivers and writes until something ends the connection (its cause).
    pub(super) fn poll_serve(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Cause> {
        if !self.started {
            self.started = true;
            if let Some(cause) = self.begin() {
                return Poll::Ready(cause);
            }
        }
        loop {
            if let Some(cause) = self.requested_end() {
                return Poll::Ready(cause);
            }
            let socket_full = match self.shared.writes.needs_flush() {
                true => match self.flush() {
                    Ok(full) => full,
                    Err(cause) => return Poll::Ready(cause),
                },
                false => false,
            };
            if let Err(cause) = self.deliver_buffered() {
                return Poll::Ready(cause);
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
                    let cause = self.draining.take().map(|(cause, _)| cause);
                    return Poll::Ready(cause.unwrap_or(Cause::PeerClosed));
                }
                Event::Failed(e) => return Poll::Ready(Cause::Io(e.kind())),
                Event::Readable => match self.read() {
                    Some(End::Now(cause)) => return Poll::Ready(cause),
                    Some(End::Eof(cause)) => self.draining = Some((cause, self.shared.target.barrier())),
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
    fn requested_end(&self) -> Option<Cause> {
        if let Some(request) = self.shared.stop.get() {
            return Some(Cause::Stop(request));
        }
        if self.shared.target_down.load(Ordering::Acquire) {
            return Some(Cause::TargetDown);
        }
        self.shared.writes.error().map(Cause::Io)
    }

    /// Flushes queued writes; Ok(true) when the socket is full and writability must be awaited.
    fn flush(&self) -> std::result::Result<bool, Cause> {
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
                Err(e) => return Some(End::Now(Cause::Io(e.kind()))),
            };
            let len = chunk.as_slice().len();
            if len == 0 {
                // A peer's reset reads as end of stream when a writer's send took its error
                // first: what that send returned decides (RESET, not PEER_CLOSED).
                if let Some(kind) = self.shared.writes.error_now() {
                    return Some(End::Now(Cause::Io(kind)));
                }
                let truncated = self.decoder.as_ref().is_some_and(|d| d.has_partial());
                let cause = if truncated { Cause::PeerClosedInFrame } else { Cause::PeerClosed };
                return Some(End::Eof(cause));
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
            if let Err(cause) = result {
                return Some(End::Now(cause));
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
    fn deliver_buffered(&mut self) -> std::result::Result<(), Cause> {
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
    fn next_frames(&mut self) -> std::result::Result<Option<Vec<Payload>>, Cause> {
        let Some(decoder) = self.decoder.as_mut() else { return Ok(None) };
        let mut frames = Vec::new();
        while frames.len() < FRAMES_PER_DELIVERY {
            let frame = match decoder.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) if !frames.is_empty() => break,
                Err(FrameError::TooLong { .. }) => return Err(Cause::FrameTooLong),
                Err(FrameError::InvalidLength { .. }) => return Err(Cause::BadFrameLength),
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
    fn deliver(&mut self, envelope: Envelope) -> std::result::Result<(), Cause> {
        match self.shared.target.push_envelope(envelope) {
            Ok(()) => Ok(()),
            Err((Error::MailboxFull, envelope)) => match self.config.mailbox_policy {
                MailboxPolicy::Pause => {
                    self.pending = Some(Box::new(envelope));
                    Ok(())
                }
                MailboxPolicy::Terminate => Err(Cause::MailboxFull),
            },
            Err(_) => Err(Cause::TargetDown),
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
}
