//! The write side of a connection.
//!
//! A write from a handler thread goes straight to the socket (non-blocking) when nothing is
//! queued, so the common echo path wakes no task; whatever the socket does not take is
//! queued (borrowed bytes copied, pool buffers kept without copying) and the connection task
//! flushes the queue with vectored writes, many queued messages per system call. Every socket
//! write happens under the queue's lock, so bytes never interleave.
//!
//! The queue is bounded in bytes: a write that would pass the limit is refused with
//! WouldBlock and nothing is queued (a single write larger than the limit is accepted into an
//! empty queue, or it could never be written), and once the queue drains below half the
//! limit the process is owed a WRITABLE message.
//!
//! The state is two small machines under one lock: the `Phase` of the connection's output
//! (open, closing, failed, released) and who will send the bytes that are `Waiting` (nobody
//! needs to, the batch's end, the connection task). Every write and flush says what it did
//! with a `Written` or a `Flushed` and a `Writable`.

mod queued;
mod sink;
#[cfg(test)]
mod tests;

use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use tokio::time::Instant;

use crate::error::Error;
use crate::buf::pool::Buf;
use crate::meta::tcp::transport::Transport;

use queued::Queued;
pub(crate) use sink::WriteSink;

/// Most buffers handed to one vectored write.
const MAX_IOVECS: usize = 64;
/// Largest write a handler's batch defers (larger ones go out at once, with what waits).
const DEFER_MAX: usize = 2048;

/// The instant write times are measured from: one for the whole process, rather than one
/// per connection.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Bytes to write: borrowed from the caller (copied only if they must wait) or a pool
/// buffer (returned to its pool once written).
pub(crate) enum Source<'a> {
    Borrowed(&'a [u8]),
    Pooled(Buf),
}

impl Source<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Source::Borrowed(b) => b,
            Source::Pooled(b) => b.as_slice(),
        }
    }

    /// Refuses this write, handing a pool buffer back to the caller.
    fn refuse(self, error: Error) -> Refused {
        let buf = match self {
            Source::Pooled(b) => Some(b),
            Source::Borrowed(_) => None,
        };
        Refused { error, buf }
    }
}

/// A write refused, with the pool buffer handed back to the caller.
pub(crate) struct Refused {
    pub(crate) error: Error,
    pub(crate) buf: Option<Buf>,
}

/// What became of a write.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Written {
    /// On the socket.
    Done,
    /// Queued: the connection task must be woken to flush.
    Queued,
    /// Queued until the writing process's batch ends; `first` when the caller must arrange
    /// that flush (no earlier write of the batch did).
    Deferred { first: bool },
}

/// What a flush left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flushed {
    /// Nothing waits any more (or nothing can go out: no socket, or it was released).
    Drained,
    /// The socket is full: bytes still wait, and the connection task must wait for it to be
    /// writable.
    Pending,
}

/// Whether the writing process is owed a WRITABLE message: a write was refused with
/// WouldBlock and the queue has since drained to half the limit. Reported once per refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writable {
    Owed,
    NotOwed,
}

/// The output's life. Moves only forward: Open, then Closing or Failed, then Released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Writes are accepted.
    Open,
    /// The connection is closing: writes are refused (Closed), queued bytes may still flush.
    Closing,
    /// A send failed: writes are refused (Closed) and flushes report this error, which the
    /// connection task ends the connection with.
    Failed(io::ErrorKind),
    /// The socket was released: nothing more goes out and nothing is queued.
    Released,
}

/// Who will send the queued bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Nothing is queued: a write goes straight to the socket.
    Nothing,
    /// Small writes of a handler's batch, for the flush at the batch's end (which the first
    /// of them arranged). A write that is not deferred goes out at once behind them, in one
    /// vectored call.
    ForBatchEnd,
    /// Bytes the socket did not take (or that came before it was attached), for the
    /// connection task: it flushes once the socket is writable. A write queues behind them.
    ForTask,
}

struct State {
    phase: Phase,
    waiting: Waiting,
    /// A write was refused with WouldBlock since the last WRITABLE: one is owed once the
    /// queue drains to half the limit.
    refused: bool,
    /// Record when bytes last went out (keepalive needs it; reading the clock on every write
    /// costs otherwise). Here, not beside the lock, where it would take a word of its own.
    track_time: bool,
    queued: Queued,
}

impl State {
    /// Notes that `queued` lost bytes: an empty queue waits for nobody.
    fn settle(&mut self) {
        if self.queued.is_empty() {
            self.waiting = Waiting::Nothing;
        }
    }
}

/// The queue and the socket it writes to. The socket is kept inline, not in an allocation
/// of its own: one allocation fewer per connection. The reading side reaches it through
/// `socket` as well; it closes when the connection's shared state is dropped.
///
/// Generic over the socket only so that tests can script one; connections use `Transport`.
pub(crate) struct WriteQueue<S = Transport> {
    /// Set once: at once for a plain socket, after the handshake for TLS.
    socket: OnceLock<S>,
    state: Mutex<State>,
    /// Something waits to be flushed (queued bytes, TLS records) or a failure to report:
    /// the connection task checks this on every turn without taking the lock. Set whenever
    /// bytes are queued or the phase becomes Failed; cleared only by a flush that drained
    /// everything while not Failed.
    needs_flush: AtomicBool,
    bytes_out: AtomicU64,
    last_write_ms: AtomicU64,
}

impl<S: WriteSink> WriteQueue<S> {
    /// A queue whose socket is attached later (after a TLS handshake); writes made before
    /// that wait in the queue. `track_time` records when bytes last went out.
    pub(crate) fn new(track_time: bool) -> Self {
        WriteQueue {
            socket: OnceLock::new(),
            state: Mutex::new(State {
                phase: Phase::Open,
                waiting: Waiting::Nothing,
                refused: false,
                track_time,
                queued: Queued::default(),
            }),
            needs_flush: AtomicBool::new(false),
            bytes_out: AtomicU64::new(0),
            last_write_ms: AtomicU64::new(0),
        }
    }

    /// The socket, once attached (released or not).
    pub(crate) fn socket(&self) -> Option<&S> {
        self.socket.get()
    }

    /// The socket, while attached and not released.
    pub(crate) fn open_socket(&self) -> Option<&S> {
        self.live_socket(&self.state.lock().unwrap())
    }

    pub(crate) fn attach(&self, socket: S) {
        if self.socket.set(socket).is_err() {
            unreachable!("a connection's socket is attached once");
        }
    }

    pub(crate) fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    pub(crate) fn queued(&self) -> usize {
        self.state.lock().unwrap().queued.len()
    }

    /// When the last bytes went out (the start of the process before any write).
    pub(crate) fn last_write(&self) -> Instant {
        epoch() + std::time::Duration::from_millis(self.last_write_ms.load(Ordering::Relaxed))
    }

    /// Records that the transport holds output to flush (TLS records a read produced).
    pub(crate) fn mark_pending(&self) {
        self.needs_flush.store(true, Ordering::Release);
    }

    /// Whether the connection task has anything to flush (or an error to see).
    pub(crate) fn needs_flush(&self) -> bool {
        self.needs_flush.load(Ordering::Acquire)
    }

    /// The error a write met, without the lock-free shortcut of `error`: a writer holds the
    /// lock from its send to recording what the send returned, so this waits for one that
    /// is in between.
    pub(crate) fn error_now(&self) -> Option<io::ErrorKind> {
        match self.state.lock().unwrap().phase {
            Phase::Failed(kind) => Some(kind),
            _ => None,
        }
    }

    pub(crate) fn error(&self) -> Option<io::ErrorKind> {
        if !self.needs_flush() {
            return None;
        }
        self.error_now()
    }

    /// Writes what the socket takes now and queues the rest; with `defer`, queues it all to
    /// go out with the writes that follow in the same batch. `limit` bounds the queue.
    pub(crate) fn write(&self, source: Source<'_>, defer: bool, limit: usize) -> Result<Written, Refused> {
        self.push(source, true, defer, limit)
    }

    /// Queues keepalive bytes (written like data, not counted as data).
    pub(crate) fn write_keepalive(&self, bytes: &[u8], limit: usize) -> Written {
        self.push(Source::Borrowed(bytes), false, false, limit).unwrap_or(Written::Done)
    }

    /// Refuses further writes (the connection is closing); queued bytes may still flush.
    pub(crate) fn stop_accepting(&self) {
        let mut state = self.state.lock().unwrap();
        if state.phase == Phase::Open {
            state.phase = Phase::Closing;
        }
    }

    /// Ends all output to the socket (which closes when the connection's shared state is
    /// dropped, a moment later), and drops what was still queued.
    pub(crate) fn release(&self) {
        let mut state = self.state.lock().unwrap();
        state.phase = Phase::Released;
        state.queued.clear();
        state.waiting = Waiting::Nothing;
    }

    /// The attached socket, unless released; the lock (`state`) must be held.
    fn live_socket(&self, state: &State) -> Option<&S> {
        self.socket.get().filter(|_| state.phase != Phase::Released)
    }

    /// Counts bytes that went out (`counted` of them data) and when.
    fn wrote(&self, state: &State, counted: usize) {
        self.bytes_out.fetch_add(counted as u64, Ordering::Relaxed);
        if state.track_time {
            self.last_write_ms.store(epoch().elapsed().as_millis() as u64, Ordering::Relaxed);
        }
    }

    /// A send failed: the phase records it and the connection task is to see it.
    fn fail(&self, state: &mut State, error: &io::Error) {
        state.phase = Phase::Failed(error.kind());
        self.needs_flush.store(true, Ordering::Release);
    }

    fn push(&self, source: Source<'_>, counted: bool, defer: bool, limit: usize) -> Result<Written, Refused> {
        let len = source.bytes().len();
        let mut state = self.state.lock().unwrap();
        debug_assert_eq!(state.queued.is_empty(), state.waiting == Waiting::Nothing);
        if state.phase != Phase::Open {
            return Err(source.refuse(Error::Closed));
        }
        let queued = state.queued.len();
        if queued > 0 && queued + len > limit {
            state.refused = true;
            return Err(source.refuse(Error::WouldBlock));
        }
        if len == 0 {
            return Ok(Written::Done);
        }
        // Only small writes wait for the batch's end: coalescing pays for many small replies,
        // while a large one would only be copied.
        let defer = defer && len <= DEFER_MAX;
        let mut written = 0;
        // Not deferring: send now, behind what waits for the batch's end, in one vectored
        // write. (What waits for the connection task waits for a full socket: leave it be.)
        let send_now = !defer && state.waiting != Waiting::ForTask;
        if let (true, Some(socket)) = (send_now, self.live_socket(&state)) {
            match self.write_queue_then(&mut state, socket, source.bytes()) {
                Ok(n) => written = n,
                Err(e) => {
                    // The connection task sees the error and ends the connection with it.
                    self.fail(&mut state, &e);
                    return Err(source.refuse(Error::Closed));
                }
            }
            if written > 0 {
                self.wrote(&state, if counted { written } else { 0 });
            }
            if written == len {
                // TLS records the socket did not take yet still need the task to flush them.
                if !socket.has_pending_output() {
                    return Ok(Written::Done);
                }
                self.needs_flush.store(true, Ordering::Release);
                return Ok(Written::Queued);
            }
        }
        match source {
            Source::Borrowed(bytes) if counted => state.queued.push_copy(&bytes[written..]),
            Source::Borrowed(bytes) => state.queued.push_chunk(Bytes::copy_from_slice(&bytes[written..]), counted),
            Source::Pooled(buf) => state.queued.push_chunk(Bytes::from_owner(buf).slice(written..), counted),
        }
        self.needs_flush.store(true, Ordering::Release);
        if defer || state.waiting == Waiting::ForBatchEnd {
            let first = state.waiting != Waiting::ForBatchEnd;
            state.waiting = Waiting::ForBatchEnd;
            return Ok(Written::Deferred { first });
        }
        state.waiting = Waiting::ForTask;
        Ok(Written::Queued)
    }

    /// Writes queued bytes until none wait (Drained) or the socket is full (Pending), and
    /// says whether a WRITABLE is now owed. An error is the failure the connection ends with.
    pub(crate) fn flush(&self, limit: usize) -> io::Result<(Flushed, Writable)> {
        let mut state = self.state.lock().unwrap();
        debug_assert_eq!(state.queued.is_empty(), state.waiting == Waiting::Nothing);
        // This is the batch-end flush, or the task's: either way what waits is the task's now.
        if state.waiting == Waiting::ForBatchEnd {
            state.waiting = Waiting::ForTask;
        }
        let Some(socket) = self.live_socket(&state) else { return Ok((Flushed::Drained, Writable::NotOwed)) };
        if let Phase::Failed(kind) = state.phase {
            return Err(kind.into());
        }
        let flushed = match self.write_queued(&mut state, socket) {
            Ok(flushed) => flushed,
            Err(e) => {
                self.fail(&mut state, &e);
                return Err(e);
            }
        };
        if flushed == Flushed::Drained {
            self.needs_flush.store(false, Ordering::Release);
            // An idle connection holds no write buffer either.
            state.queued.shrink_drained();
        }
        let owed = state.refused && state.queued.len() <= limit / 2;
        if owed {
            state.refused = false;
        }
        Ok((flushed, if owed { Writable::Owed } else { Writable::NotOwed }))
    }

    /// The sending part of `flush`: TLS records first, then the queue, then the records its
    /// bytes made. WouldBlock is Pending, not an error.
    fn write_queued(&self, state: &mut State, socket: &S) -> io::Result<Flushed> {
        if !socket.flush_pending()? {
            return Ok(Flushed::Pending);
        }
        while !state.queued.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let count = state.queued.gather(&mut slices);
            match socket.try_write_vectored(&slices[..count]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.consume(state, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Pending),
                Err(e) => return Err(e),
            }
        }
        Ok(if socket.flush_pending()? { Flushed::Drained } else { Flushed::Pending })
    }

    /// Writes the queued bytes and then `extra` in one vectored call, if the queue fits in
    /// one (else nothing: `extra` must not overtake queued bytes). Returns how many bytes of
    /// `extra` went out; queued bytes written are consumed.
    fn write_queue_then(&self, state: &mut State, socket: &S, extra: &[u8]) -> io::Result<usize> {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS + 1];
        let count = state.queued.gather(&mut slices[..MAX_IOVECS]);
        if !state.queued.gathered_all(count) {
            return Ok(0);
        }
        slices[count] = IoSlice::new(extra);
        let queued = state.queued.len();
        match socket.try_write_vectored(&slices[..=count]) {
            Ok(n) => {
                let from_queue = n.min(queued);
                if from_queue > 0 {
                    self.consume(state, from_queue);
                }
                Ok(n - from_queue)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Drops `n` written bytes from the queue, counting them.
    fn consume(&self, state: &mut State, n: usize) {
        let counted = state.queued.consume(n);
        self.wrote(state, counted);
        state.settle();
    }
}
