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

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use bytes::{Buf as _, Bytes};
use tokio::time::Instant;

use crate::error::Error;
use crate::meta::tcp::pool::Buf;
use crate::meta::tcp::transport::Transport;

/// Most buffers handed to one vectored write.
const MAX_IOVECS: usize = 64;
/// Largest write a handler's batch defers (larger ones go out at once, with what waits).
const DEFER_MAX: usize = 2048;
/// The largest drained copy buffer a thread keeps for its next connection.
const SPARE_COPY_BUFFER_MAX: usize = 4096;
/// Replies a new copy buffer makes room for, times the first one's size: a read of
/// pipelined requests is often answered by a dozen or more replies of one size.
const COPY_BATCH_GUESS: usize = 16;

thread_local! {
    /// One drained copy buffer per thread, for the next connection that copies on it: a
    /// drained connection holds none, yet a busy thread's batches of small replies do not
    /// grow a buffer from nothing each time (five reallocations per batch of sixteen 64-byte
    /// replies, a tenth of the server's instructions on such frames). New buffers are sized
    /// from their first write, not at the maximum: a burst of new connections each deferring
    /// a small reply scattered 4 KiB blocks through the heap (+35 bytes of RSS per idle
    /// connection in case g of the benchmarks).
    static SPARE_COPY_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

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

struct Chunk {
    bytes: Bytes,
    /// Keepalive bytes do not count in "bytes out".
    counted: bool,
}

/// The chunk queue, boxed: most connections never queue a chunk (small replies wait in
/// `State::copied`), and an empty VecDeque inline would cost each of them 32 bytes.
#[derive(Default)]
struct Chunks(Option<Box<VecDeque<Chunk>>>);

impl Chunks {
    fn push_back(&mut self, chunk: Chunk) {
        self.0.get_or_insert_with(Box::default).push_back(chunk);
    }

    fn front_mut(&mut self) -> Option<&mut Chunk> {
        self.0.as_mut()?.front_mut()
    }

    fn pop_front(&mut self) {
        if let Some(queue) = &mut self.0 {
            queue.pop_front();
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Chunk> {
        self.0.iter().flat_map(|queue| queue.iter())
    }

    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |queue| queue.len())
    }

    /// Empties the queue and frees its memory.
    fn clear(&mut self) {
        self.0 = None;
    }
}

struct State {
    /// The socket was released (the connection closed): nothing more goes out.
    released: bool,
    /// Pool buffers, and copies of uncounted or sealed bytes. Empty (unallocated) in the
    /// common case, where only `copied` holds bytes.
    chunks: Chunks,
    /// Borrowed bytes copied to wait, after the last chunk: consecutive small writes share
    /// one buffer, written from directly (no allocation per write).
    copied: Vec<u8>,
    queued: usize,
    refused: bool,
    accepting: bool,
    /// A batch-end flush is arranged (see `Written::Deferred`).
    deferred: bool,
    error: Option<io::ErrorKind>,
    /// Record when bytes last went out (keepalive needs it; reading the clock on every write
    /// costs otherwise). Here, not beside the lock, where it would take a word of its own.
    track_time: bool,
}

/// The queue and the socket it writes to. The socket is kept inline, not in an allocation
/// of its own: one allocation fewer per connection. The reading side reaches it through
/// `socket` as well; it closes when the connection's shared state is dropped.
pub(crate) struct WriteQueue {
    /// Set once: at once for a plain socket, after the handshake for TLS.
    socket: OnceLock<Transport>,
    state: Mutex<State>,
    /// Something waits to be flushed (queued chunks, TLS records) or an error to report:
    /// the connection task checks this on every turn without taking the lock.
    needs_flush: AtomicBool,
    bytes_out: AtomicU64,
    last_write_ms: AtomicU64,
}

impl WriteQueue {
    /// A queue whose socket is attached later (after a TLS handshake); writes made before
    /// that wait in the queue. `track_time` records when bytes last went out.
    pub(crate) fn new(track_time: bool) -> Self {
        WriteQueue {
            socket: OnceLock::new(),
            state: Mutex::new(State {
                released: false,
                chunks: Chunks::default(),
                copied: Vec::new(),
                queued: 0,
                refused: false,
                accepting: true,
                deferred: false,
                error: None,
                track_time,
            }),
            needs_flush: AtomicBool::new(false),
            bytes_out: AtomicU64::new(0),
            last_write_ms: AtomicU64::new(0),
        }
    }

    /// The socket, once attached (released or not).
    pub(crate) fn socket(&self) -> Option<&Transport> {
        self.socket.get()
    }

    /// The socket, while attached and not released.
    pub(crate) fn open_socket(&self) -> Option<&Transport> {
        self.socket.get().filter(|_| !self.state.lock().unwrap().released)
    }

    pub(crate) fn attach(&self, transport: Transport) {
        if self.socket.set(transport).is_err() {
            unreachable!("a connection's socket is attached once");
        }
    }

    pub(crate) fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    pub(crate) fn queued(&self) -> usize {
        self.state.lock().unwrap().queued
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
        self.state.lock().unwrap().error
    }

    pub(crate) fn error(&self) -> Option<io::ErrorKind> {
        if !self.needs_flush() {
            return None;
        }
        self.state.lock().unwrap().error
    }

    fn wrote(&self, state: &State, counted: usize) {
        self.bytes_out.fetch_add(counted as u64, Ordering::Relaxed);
        if state.track_time {
            self.last_write_ms.store(epoch().elapsed().as_millis() as u64, Ordering::Relaxed);
        }
    }

    /// Writes what the socket takes now and queues the rest; with `defer`, queues it all to
    /// go out with the writes that follow in the same batch. `limit` bounds the queue.
    pub(crate) fn write(&self, source: Source<'_>, defer: bool, limit: usize) -> std::result::Result<Written, Refused> {
        self.push(source, true, defer, limit)
    }

    /// Queues keepalive bytes (written like data, not counted as data).
    pub(crate) fn write_keepalive(&self, bytes: &[u8], limit: usize) -> Written {
        self.push(Source::Borrowed(bytes), false, false, limit).unwrap_or(Written::Done)
    }

    /// The attached socket, unless released; the lock (`state`) must be held.
    fn live_socket(&self, state: &State) -> Option<&Transport> {
        self.socket.get().filter(|_| !state.released)
    }

    fn push(&self, source: Source<'_>, counted: bool, defer: bool, limit: usize) -> std::result::Result<Written, Refused> {
        let len = source.bytes().len();
        let mut state = self.state.lock().unwrap();
        let refuse = |error, source: Source<'_>| {
            let buf = match source {
                Source::Pooled(b) => Some(b),
                Source::Borrowed(_) => None,
            };
            Err(Refused { error, buf })
        };
        if !state.accepting {
            return refuse(Error::Closed, source);
        }
        if state.queued > 0 && state.queued + len > limit {
            state.refused = true;
            return refuse(Error::WouldBlock, source);
        }
        if len == 0 {
            return Ok(Written::Done);
        }
        // Only small writes wait for the batch's end: coalescing pays for many small replies,
        // while a large one would only be copied.
        let defer = defer && len <= DEFER_MAX;
        let mut written = 0;
        // Not deferring: send now, behind what waits in the queue, in one vectored write. (A
        // queue that is not deferred waits for a full socket: leave it to the task.)
        let send_now = !defer && (state.queued == 0 || state.deferred);
        if let (true, Some(transport)) = (send_now, self.live_socket(&state)) {
            match self.write_queue_then(&mut state, transport, source.bytes()) {
                Ok(n) => written = n,
                Err(e) => {
                    // The connection task sees the error and ends the connection with it.
                    state.error = Some(e.kind());
                    state.accepting = false;
                    self.needs_flush.store(true, Ordering::Release);
                    return refuse(Error::Closed, source);
                }
            }
            if written > 0 {
                self.wrote(&state, if counted { written } else { 0 });
            }
            if written == len {
                // TLS records the socket did not take yet still need the task to flush them.
                if !transport.has_pending_output() {
                    return Ok(Written::Done);
                }
                self.needs_flush.store(true, Ordering::Release);
                return Ok(Written::Queued);
            }
        }
        state.queued += len - written;
        match source {
            Source::Borrowed(bytes) if counted => state.copy(&bytes[written..]),
            Source::Borrowed(bytes) => {
                state.seal_copied();
                state.chunks.push_back(Chunk { bytes: Bytes::copy_from_slice(&bytes[written..]), counted });
            }
            Source::Pooled(buf) => {
                state.seal_copied();
                state.chunks.push_back(Chunk { bytes: Bytes::from_owner(buf).slice(written..), counted });
            }
        }
        self.needs_flush.store(true, Ordering::Release);
        if defer || state.deferred {
            let first = !state.deferred;
            state.deferred = true;
            return Ok(Written::Deferred { first });
        }
        Ok(Written::Queued)
    }

    /// Writes queued chunks until the queue is empty (Ok(true)) or the socket is full
    /// (Ok(false)). The second value says a WRITABLE message is now owed (the queue drained
    /// below half of `limit` after a refusal).
    pub(crate) fn flush(&self, limit: usize) -> io::Result<(bool, bool)> {
        let mut state = self.state.lock().unwrap();
        state.deferred = false;
        let Some(transport) = self.live_socket(&state) else { return Ok((true, false)) };
        if !transport.flush_pending()? {
            return Ok((false, false));
        }
        let mut drained = true;
        while state.queued > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let count = state.gather(&mut slices);
            match transport.try_write_vectored(&slices[..count]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.consume(&mut state, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    drained = false;
                    break;
                }
                Err(e) => {
                    state.error = Some(e.kind());
                    return Err(e);
                }
            }
        }
        if drained && !transport.flush_pending()? {
            drained = false;
        }
        if drained && state.error.is_none() {
            self.needs_flush.store(false, Ordering::Release);
        }
        if drained {
            // An idle connection holds no write buffer either.
            state.give_back_copy_buffer();
            state.chunks.clear();
        }
        let owed = state.refused && state.queued <= limit / 2;
        if owed {
            state.refused = false;
        }
        Ok((drained, owed))
    }

    /// Writes the queued chunks and then `extra` in one vectored call, if the queue fits in
    /// one (else nothing: `extra` must not overtake queued bytes). Returns how many bytes of
    /// `extra` went out; queued bytes written are consumed.
    fn write_queue_then(&self, state: &mut State, transport: &Transport, extra: &[u8]) -> io::Result<usize> {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS + 1];
        let count = state.gather(&mut slices[..MAX_IOVECS]);
        if !state.gathered_all(count) {
            return Ok(0);
        }
        slices[count] = IoSlice::new(extra);
        let queued = state.queued;
        match transport.try_write_vectored(&slices[..=count]) {
            Ok(n) => {
                let from_queue = n.min(queued);
                if from_queue > 0 {
                    self.consume(state, from_queue);
                }
                if state.queued == 0 {
                    state.deferred = false;
                }
                Ok(n - from_queue)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn consume(&self, state: &mut State, mut n: usize) {
        state.queued -= n;
        let mut counted = 0;
        while n > 0 {
            let Some(front) = state.chunks.front_mut() else {
                // The chunks are written: the rest came from the copy buffer. If the socket
                // took only part of it, what is left becomes a chunk (no copy) rather than
                // being moved to the buffer's front.
                if n < state.copied.len() {
                    state.seal_copied();
                    continue;
                }
                state.copied.clear();
                counted += n;
                break;
            };
            let take = n.min(front.bytes.len());
            if front.counted {
                counted += take;
            }
            front.bytes.advance(take);
            n -= take;
            if front.bytes.is_empty() {
                state.chunks.pop_front();
            }
        }
        self.wrote(state, counted);
    }

    /// Refuses further writes (the connection is closing); queued bytes may still flush.
    pub(crate) fn stop_accepting(&self) {
        self.state.lock().unwrap().accepting = false;
    }

    /// Ends all output to the socket (which closes when the connection's shared state is
    /// dropped, a moment later), and drops what was still queued.
    pub(crate) fn release(&self) {
        let mut state = self.state.lock().unwrap();
        state.accepting = false;
        state.released = true;
        state.chunks.clear();
        state.copied = Vec::new();
        state.queued = 0;
    }
}

impl State {
    /// Appends borrowed bytes to the copy buffer.
    fn copy(&mut self, bytes: &[u8]) {
        if self.copied.capacity() == 0 {
            self.copied = SPARE_COPY_BUFFER.take();
            // Room for a batch of replies like this one (several connections defer in one
            // batch, and only one gets the spare).
            self.copied.reserve((bytes.len() * COPY_BATCH_GUESS).clamp(256, SPARE_COPY_BUFFER_MAX));
        }
        self.copied.extend_from_slice(bytes);
    }

    /// Leaves the drained copy buffer to the thread's next connection if it is not too large
    /// and larger than the one the thread keeps already (else it is freed).
    fn give_back_copy_buffer(&mut self) {
        let mut buffer = std::mem::take(&mut self.copied);
        if buffer.capacity() == 0 || buffer.capacity() > SPARE_COPY_BUFFER_MAX {
            return;
        }
        buffer.clear();
        SPARE_COPY_BUFFER.with(|spare| {
            let kept = spare.take();
            spare.set(if kept.capacity() >= buffer.capacity() { kept } else { buffer });
        });
    }

    /// Fills `slices` with what waits, in order (chunks, then the copy buffer); returns how
    /// many it filled.
    fn gather<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut count = 0;
        for (slot, chunk) in slices.iter_mut().zip(self.chunks.iter()) {
            *slot = IoSlice::new(&chunk.bytes);
            count += 1;
        }
        if count < slices.len() && !self.copied.is_empty() {
            slices[count] = IoSlice::new(&self.copied);
            count += 1;
        }
        count
    }

    /// Whether `gather` took everything queued in `count` slices.
    fn gathered_all(&self, count: usize) -> bool {
        count == self.chunks.len() + usize::from(!self.copied.is_empty())
    }

    /// Turns the copied bytes into a chunk (without copying them).
    fn seal_copied(&mut self) {
        if !self.copied.is_empty() {
            let bytes = Bytes::from(std::mem::take(&mut self.copied));
            self.chunks.push_back(Chunk { bytes, counted: true });
        }
    }
}
