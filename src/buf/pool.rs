//! Buffer pool: byte buffers handed out as owned [`Buf`]s and returned when dropped.
//!
//! Buffers cross the C ABI as raw pointers, so each one carries an ownership state: held by
//! foreign code, held by the runtime, or free in its pool. The C entry points accept only a
//! buffer held by foreign code, which turns a double free, or a free after ownership moved to
//! the runtime, into an error instead of memory corruption. A buffer's header is never
//! deallocated while its pool lives (trimmed buffers give their bytes back but keep the
//! header for reuse, oldest first), so that check reads valid memory for as long as it can.

use std::collections::VecDeque;
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

const FREE: u32 = 0x4652_4545; // "FREE"
const RUNTIME: u32 = 0x5255_4e54; // "RUNT"
const FOREIGN: u32 = 0x464f_5247; // "FORG"

/// A buffer grown past this many times the pool's size is shrunk back when returned.
const MAX_GROWTH: usize = 4;

/// A pool of byte buffers of `buffer_size` capacity, keeping at most `max_idle` idle.
#[derive(Clone)]
pub struct Pool {
    shared: Arc<PoolShared>,
}

struct PoolShared {
    buffer_size: usize,
    max_idle: usize,
    lists: Mutex<Lists>,
    outstanding: AtomicU64,
    allocations: AtomicU64,
}

#[derive(Default)]
struct Lists {
    /// Free buffers that still hold their bytes, ready for reuse.
    idle: Vec<Box<Header>>,
    /// Free headers whose bytes were released; reused oldest first.
    spare: VecDeque<Box<Header>>,
}

/// What a buffer handed over the C ABI points to.
pub struct Header {
    state: AtomicU32,
    bytes: Vec<u8>,
    pool: Option<Arc<PoolShared>>,
}

/// Counters shown by inspect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub buffer_size: usize,
    /// Buffers that currently hold memory (idle + outstanding).
    pub allocated: u64,
    pub idle: u64,
    pub outstanding: u64,
    /// How many times a buffer's bytes were allocated since the pool was made.
    pub allocations: u64,
}

impl Pool {
    pub fn new(buffer_size: usize, max_idle: usize) -> Pool {
        Pool {
            shared: Arc::new(PoolShared {
                buffer_size,
                max_idle,
                lists: Mutex::new(Lists::default()),
                outstanding: AtomicU64::new(0),
                allocations: AtomicU64::new(0),
            }),
        }
    }

    pub fn buffer_size(&self) -> usize {
        self.shared.buffer_size
    }

    /// An empty buffer with at least `buffer_size` bytes of capacity.
    pub fn get(&self) -> Buf {
        self.get_with_capacity(self.shared.buffer_size)
    }

    /// An empty buffer with at least `capacity` bytes of capacity.
    pub fn get_with_capacity(&self, capacity: usize) -> Buf {
        let shared = &self.shared;
        let mut header = {
            let mut lists = shared.lists.lock().unwrap();
            match lists.idle.pop() {
                Some(h) => h,
                None => lists.spare.pop_front().unwrap_or_else(|| {
                    Box::new(Header { state: AtomicU32::new(FREE), bytes: Vec::new(), pool: None })
                }),
            }
        };
        let wanted = capacity.max(shared.buffer_size);
        if header.bytes.capacity() < wanted {
            shared.allocations.fetch_add(1, Ordering::Relaxed);
            header.bytes = zeroed(wanted);
        }
        header.state.store(RUNTIME, Ordering::Release);
        header.pool = Some(shared.clone());
        shared.outstanding.fetch_add(1, Ordering::Relaxed);
        Buf { header: NonNull::from(Box::leak(header)) }
    }

    /// A buffer holding a copy of `bytes`.
    pub fn copy_from(&self, bytes: &[u8]) -> Buf {
        let mut buf = self.get_with_capacity(bytes.len());
        buf.vec_mut().extend_from_slice(bytes);
        buf
    }

    pub fn stats(&self) -> PoolStats {
        let shared = &self.shared;
        let idle = shared.lists.lock().unwrap().idle.len() as u64;
        let outstanding = shared.outstanding.load(Ordering::Relaxed);
        PoolStats {
            buffer_size: shared.buffer_size,
            allocated: idle + outstanding,
            idle,
            outstanding,
            allocations: shared.allocations.load(Ordering::Relaxed),
        }
    }

    pub fn inspect(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        let s = self.stats();
        out.push((format!("{prefix}buffer size"), s.buffer_size.to_string()));
        out.push((format!("{prefix}allocated"), s.allocated.to_string()));
        out.push((format!("{prefix}idle"), s.idle.to_string()));
        out.push((format!("{prefix}outstanding"), s.outstanding.to_string()));
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool").field("stats", &self.stats()).finish()
    }
}

impl PoolShared {
    fn give_back(&self, mut header: Box<Header>) {
        header.state.store(FREE, Ordering::Release);
        header.pool = None;
        header.bytes.clear();
        if header.bytes.capacity() > self.buffer_size.saturating_mul(MAX_GROWTH).max(4096) {
            header.bytes = zeroed(self.buffer_size);
            self.allocations.fetch_add(1, Ordering::Relaxed);
        }
        let mut lists = self.lists.lock().unwrap();
        if lists.idle.len() < self.max_idle {
            lists.idle.push(header);
        } else {
            header.bytes = Vec::new();
            lists.spare.push_back(header);
        }
        drop(lists);
        self.outstanding.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An empty Vec whose whole capacity is initialised (zeros), so foreign code may set any
/// length up to the capacity.
fn zeroed(capacity: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; capacity];
    bytes.clear();
    bytes
}

/// An owned pool buffer: `len` bytes of content within a larger capacity. Dropping it
/// returns it to its pool.
pub struct Buf {
    header: NonNull<Header>,
}

// A Buf is uniquely owned, like a Box.
unsafe impl Send for Buf {}
unsafe impl Sync for Buf {}

impl Buf {
    fn header(&self) -> &Header {
        unsafe { self.header.as_ref() }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.header().bytes
    }

    pub fn len(&self) -> usize {
        self.header().bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.header().bytes.capacity()
    }

    /// The content as a Vec: extend it, read into its spare capacity, truncate it.
    pub fn vec_mut(&mut self) -> &mut Vec<u8> {
        unsafe { &mut self.header.as_mut().bytes }
    }

    /// The buffer as a bare pointer, for a holder that keeps it without knowing its type (a
    /// message's payload: see `meta::tcp::payload`). Its ownership state does not change;
    /// [`Buf::from_raw`] takes it back.
    pub fn into_raw(self) -> NonNull<()> {
        let raw = self.header.cast();
        std::mem::forget(self);
        raw
    }

    /// Takes back a buffer from [`Buf::into_raw`].
    ///
    /// # Safety
    /// `raw` must come from `into_raw` and not have been taken back already.
    pub unsafe fn from_raw(raw: NonNull<()>) -> Buf {
        Buf { header: raw.cast() }
    }

    /// Hands the buffer to foreign code, which must give it back through
    /// [`Buf::from_foreign`] (to free or to write it).
    pub fn into_foreign(self) -> *mut Header {
        let ptr = self.header.as_ptr();
        self.header().state.store(FOREIGN, Ordering::Release);
        std::mem::forget(self);
        ptr
    }

    /// Takes back a buffer that foreign code holds.
    ///
    /// # Safety
    /// `ptr` must be NULL or a pointer obtained from [`Buf::into_foreign`] whose pool is
    /// still alive. A buffer already given back is detected (`DoubleFree`) as long as its
    /// header has not been handed out again since.
    pub unsafe fn from_foreign(ptr: *mut Header) -> Result<Buf> {
        let header = NonNull::new(ptr).ok_or(Error::InvalidArgument)?;
        let state = &header.as_ref().state;
        match state.compare_exchange(FOREIGN, RUNTIME, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Ok(Buf { header }),
            Err(FREE) | Err(RUNTIME) => Err(Error::DoubleFree),
            Err(_) => Err(Error::InvalidArgument),
        }
    }

    /// Reads a buffer foreign code holds without taking it.
    ///
    /// # Safety
    /// As for [`Buf::from_foreign`]; the caller must not keep the reference past the call.
    pub unsafe fn foreign_mut<'a>(ptr: *mut Header) -> Result<&'a mut Vec<u8>> {
        let mut header = NonNull::new(ptr).ok_or(Error::InvalidArgument)?;
        match header.as_ref().state.load(Ordering::Acquire) {
            FOREIGN => Ok(&mut header.as_mut().bytes),
            FREE | RUNTIME => Err(Error::DoubleFree),
            _ => Err(Error::InvalidArgument),
        }
    }
}

impl AsRef<[u8]> for Buf {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        let header = unsafe { Box::from_raw(self.header.as_ptr()) };
        match header.pool.clone() {
            Some(pool) => pool.give_back(header),
            None => drop(header),
        }
    }
}

impl fmt::Debug for Buf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buf").field("len", &self.len()).field("capacity", &self.capacity()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_counted() {
        let pool = Pool::new(1024, 2);
        let mut a = pool.get();
        a.vec_mut().extend_from_slice(b"hello");
        assert_eq!(a.as_slice(), b"hello");
        assert_eq!(pool.stats().outstanding, 1);
        drop(a);
        let s = pool.stats();
        assert_eq!((s.outstanding, s.idle, s.allocations), (0, 1, 1));
        let b = pool.get();
        assert!(b.is_empty() && b.capacity() >= 1024);
        assert_eq!(pool.stats().allocations, 1, "the idle buffer was reused");
    }

    #[test]
    fn idle_list_is_bounded() {
        let pool = Pool::new(64, 1);
        let bufs: Vec<Buf> = (0..5).map(|_| pool.get()).collect();
        drop(bufs);
        let s = pool.stats();
        assert_eq!((s.idle, s.outstanding, s.allocated), (1, 0, 1));
    }

    #[test]
    fn grown_buffers_go_back_at_pool_size() {
        let pool = Pool::new(64, 4);
        let mut a = pool.get_with_capacity(1 << 20);
        a.vec_mut().resize(1 << 20, 7);
        drop(a);
        assert!(pool.get().capacity() < 4096);
    }

    #[test]
    fn double_free_is_detected() {
        let pool = Pool::new(64, 4);
        let ptr = pool.get().into_foreign();
        let buf = unsafe { Buf::from_foreign(ptr) }.unwrap();
        drop(buf);
        assert_eq!(unsafe { Buf::from_foreign(ptr) }.unwrap_err(), Error::DoubleFree);
    }

    #[test]
    fn runtime_owned_buffer_is_refused() {
        let pool = Pool::new(64, 4);
        let ptr = pool.get().into_foreign();
        let held = unsafe { Buf::from_foreign(ptr) }.unwrap();
        assert_eq!(unsafe { Buf::from_foreign(ptr) }.unwrap_err(), Error::DoubleFree);
        drop(held);
    }
}
