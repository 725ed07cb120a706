//! The bytes a connection's write queue holds, in order: pool buffers and sealed copies as
//! chunks, then a copy buffer that consecutive small borrowed writes share (no allocation
//! per write).
//!
//! The copy buffer's sizing and reuse were measured (commits c83f1ba, 7436d47, 04a9fce):
//! growing it by doubling from the first reply's size cost a batch of sixteen 64-byte
//! replies five reallocations; a fixed 4 KiB start scattered 4 KiB blocks through the heap
//! when many new connections each deferred one small reply. So a new buffer is sized from
//! its first write, and a drained one is kept per thread for that thread's next connection.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf as _, Bytes};

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

struct Chunk {
    bytes: Bytes,
    /// Keepalive bytes do not count in "bytes out".
    counted: bool,
}

/// The chunk queue, boxed: most connections never queue a chunk (small replies wait in
/// `Queued::copied`), and an empty VecDeque inline would cost each of them 32 bytes.
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

/// The queued bytes. Empty (and holding no memory) in the common case between batches.
#[derive(Default)]
pub(super) struct Queued {
    /// Pool buffers, and copies of uncounted or sealed bytes. Empty (unallocated) in the
    /// common case, where only `copied` holds bytes.
    chunks: Chunks,
    /// Borrowed bytes copied to wait, after the last chunk.
    copied: Vec<u8>,
    /// Bytes in `chunks` and `copied` together.
    len: usize,
}

impl Queued {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends borrowed bytes that count as data, copying them into the copy buffer.
    pub(super) fn push_copy(&mut self, bytes: &[u8]) {
        if self.copied.capacity() == 0 {
            self.copied = SPARE_COPY_BUFFER.take();
            // Room for a batch of replies like this one (several connections defer in one
            // batch, and only one gets the spare).
            self.copied.reserve((bytes.len() * COPY_BATCH_GUESS).clamp(256, SPARE_COPY_BUFFER_MAX));
        }
        self.copied.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Appends bytes held on their own (a pool buffer, or a copy of keepalive bytes).
    pub(super) fn push_chunk(&mut self, bytes: Bytes, counted: bool) {
        self.seal_copied();
        self.len += bytes.len();
        self.chunks.push_back(Chunk { bytes, counted });
    }

    /// Fills `slices` with what waits, in order (chunks, then the copy buffer); returns how
    /// many it filled.
    pub(super) fn gather<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
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
    pub(super) fn gathered_all(&self, count: usize) -> bool {
        count == self.chunks.len() + usize::from(!self.copied.is_empty())
    }

    /// Drops the first `n` bytes (written); returns how many of them count as data.
    pub(super) fn consume(&mut self, mut n: usize) -> usize {
        self.len -= n;
        let mut counted = 0;
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                // The chunks are written: the rest came from the copy buffer. If the socket
                // took only part of it, what is left becomes a chunk (no copy) rather than
                // being moved to the buffer's front.
                if n < self.copied.len() {
                    self.seal_copied();
                    continue;
                }
                self.copied.clear();
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
                self.chunks.pop_front();
            }
        }
        counted
    }

    /// Frees the memory of an empty queue (an idle connection holds no write buffer), leaving
    /// the copy buffer to the thread's next connection if it is not too large and larger
    /// than the one the thread keeps already.
    pub(super) fn shrink_drained(&mut self) {
        debug_assert!(self.is_empty());
        self.chunks.clear();
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

    /// Drops everything queued and frees it (the socket was released).
    pub(super) fn clear(&mut self) {
        self.chunks.clear();
        self.copied = Vec::new();
        self.len = 0;
    }

    /// Turns the copied bytes into a chunk (without copying them).
    fn seal_copied(&mut self) {
        if !self.copied.is_empty() {
            let bytes = Bytes::from(std::mem::take(&mut self.copied));
            self.chunks.push_back(Chunk { bytes, counted: true });
        }
    }
}

/// The capacity of this thread's spare copy buffer (tests check its reuse).
#[cfg(test)]
pub(super) fn spare_copy_buffer_capacity() -> usize {
    SPARE_COPY_BUFFER.with(|spare| {
        let kept = spare.take();
        let capacity = kept.capacity();
        spare.set(kept);
        capacity
    })
}

/// The capacity of the copy buffer (tests check its sizing).
#[cfg(test)]
impl Queued {
    pub(super) fn copy_buffer_capacity(&self) -> usize {
        self.copied.capacity()
    }
}
