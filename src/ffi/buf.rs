//! Buffers and buffer pools. A buffer is held by exactly one side at a time: foreign code
//! (after `actnet_pool_get`, after a DATA message hands one over, after a call reply) or the
//! runtime (after a successful `actnet_tcp_write_buf`, after `actnet_buf_free`). Passing a
//! buffer the caller does not hold returns `ACTNET_STATUS_DOUBLE_FREE` (see the header notes
//! for what is guaranteed).

use crate::ffi::args::{self, Options};
use crate::ffi::boundary::{guard, guard_or};
use crate::ffi::status::{actnet_status, actnet_status::*};
use crate::buf::pool::{Buf, Header, Pool};

/// A byte buffer (opaque): `len` bytes of content in `capacity` bytes of memory.
pub struct actnet_buf {
    _private: [u8; 0],
}

/// A pool of buffers (opaque), shareable between servers, clients and threads.
pub struct actnet_pool {
    pool: Pool,
}

/// Pool counters, also shown by inspect on connections that use the pool.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct actnet_pool_stats {
    /// `sizeof(actnet_pool_stats)`, set by `actnet_pool_stats_init`.
    pub struct_size: u32,
    pub buffer_size: u64,
    /// Buffers holding memory now: idle + outstanding.
    pub allocated: u64,
    /// Buffers waiting in the pool.
    pub idle: u64,
    /// Buffers handed out and not yet returned (a leak shows here).
    pub outstanding: u64,
    /// Buffer memory allocations since the pool was made.
    pub allocations: u64,
}

impl Options for actnet_pool_stats {
    fn defaults() -> Self {
        actnet_pool_stats {
            struct_size: std::mem::size_of::<actnet_pool_stats>() as u32,
            buffer_size: 0,
            allocated: 0,
            idle: 0,
            outstanding: 0,
            allocations: 0,
        }
    }
}

pub(crate) fn as_header(buf: *mut actnet_buf) -> *mut Header {
    buf as *mut Header
}

/// Takes a buffer back from foreign code (to free or write it).
pub(crate) fn take(buf: *mut actnet_buf) -> Result<Buf, actnet_status> {
    if buf.is_null() {
        return Err(ACTNET_STATUS_NULL_ARGUMENT);
    }
    unsafe { Buf::from_foreign(as_header(buf)) }.map_err(actnet_status::from)
}

/// Hands a runtime buffer to foreign code.
pub(crate) fn give(buf: Buf) -> *mut actnet_buf {
    buf.into_foreign() as *mut actnet_buf
}

/// The pool behind a handle.
pub(crate) fn pool(pool: *const actnet_pool) -> Result<Pool, actnet_status> {
    Ok(args::required(pool)?.pool.clone())
}

/// Creates a pool of buffers of `buffer_size` bytes (> 0) keeping at most `max_idle` idle.
/// Errors: `NULL_ARGUMENT`, `INVALID_ARGUMENT` (size 0).
#[no_mangle]
pub extern "C" fn actnet_pool_new(buffer_size: usize, max_idle: usize, pool_out: *mut *mut actnet_pool) -> actnet_status {
    guard(|| {
        let out = args::out(pool_out)?;
        if buffer_size == 0 {
            return Err(ACTNET_STATUS_INVALID_ARGUMENT);
        }
        *out = Box::into_raw(Box::new(actnet_pool { pool: Pool::new(buffer_size, max_idle) }));
        Ok(())
    })
}

/// Releases the caller's reference to a pool. Servers, clients and outstanding buffers keep
/// it alive until they are done. Freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn actnet_pool_free(pool: *mut actnet_pool) -> actnet_status {
    guard(|| {
        if pool.is_null() {
            return Err(ACTNET_STATUS_NULL_ARGUMENT);
        }
        drop(unsafe { Box::from_raw(pool) });
        Ok(())
    })
}

/// Takes an empty buffer (len 0, capacity >= the pool's buffer size) from the pool; the
/// caller holds it. Any thread.
#[no_mangle]
pub extern "C" fn actnet_pool_get(pool: *mut actnet_pool, buf_out: *mut *mut actnet_buf) -> actnet_status {
    guard(|| {
        let out = args::out(buf_out)?;
        *out = give(self::pool(pool)?.get());
        Ok(())
    })
}

/// Fills `stats` with zeros and the right `struct_size`.
#[no_mangle]
pub extern "C" fn actnet_pool_stats_init(stats: *mut actnet_pool_stats) -> actnet_status {
    guard(|| args::init_options(stats))
}

/// Reads the pool's counters into `*stats` (prepared with `actnet_pool_stats_init`; a
/// caller built against an older header gets the fields it knows).
/// Errors: `NULL_ARGUMENT`, `STRUCT_SIZE`.
#[no_mangle]
pub extern "C" fn actnet_pool_stats_get(pool: *mut actnet_pool, stats: *mut actnet_pool_stats) -> actnet_status {
    guard(|| {
        let pool = self::pool(pool)?;
        let mut out = args::options(stats)?;
        let s = pool.stats();
        out.buffer_size = s.buffer_size as u64;
        out.allocated = s.allocated;
        out.idle = s.idle;
        out.outstanding = s.outstanding;
        out.allocations = s.allocations;
        args::write_options(stats, &out);
        Ok(())
    })
}

/// Returns a buffer the caller holds to its pool. Errors: `NULL_ARGUMENT`, `DOUBLE_FREE`
/// (already freed, or handed to the runtime by a successful write).
#[no_mangle]
pub extern "C" fn actnet_buf_free(buf: *mut actnet_buf) -> actnet_status {
    guard(|| {
        drop(take(buf)?);
        Ok(())
    })
}

/// The buffer's memory (`capacity` bytes, the first `len` of them content); NULL if the
/// caller does not hold `buf`.
#[no_mangle]
pub extern "C" fn actnet_buf_data(buf: *mut actnet_buf) -> *mut u8 {
    guard_or(std::ptr::null_mut(), || {
        unsafe { Buf::foreign_mut(as_header(buf)) }.map(|v| v.as_mut_ptr()).unwrap_or(std::ptr::null_mut())
    })
}

/// The content length; 0 if the caller does not hold `buf`.
#[no_mangle]
pub extern "C" fn actnet_buf_len(buf: *mut actnet_buf) -> usize {
    guard_or(0, || unsafe { Buf::foreign_mut(as_header(buf)) }.map(|v| v.len()).unwrap_or(0))
}

/// The memory size; 0 if the caller does not hold `buf`.
#[no_mangle]
pub extern "C" fn actnet_buf_capacity(buf: *mut actnet_buf) -> usize {
    guard_or(0, || unsafe { Buf::foreign_mut(as_header(buf)) }.map(|v| v.capacity()).unwrap_or(0))
}

/// Sets the content length after writing into `actnet_buf_data`. Errors: `NULL_ARGUMENT`,
/// `INVALID_ARGUMENT` (len > capacity), `DOUBLE_FREE`.
#[no_mangle]
pub extern "C" fn actnet_buf_set_len(buf: *mut actnet_buf, len: usize) -> actnet_status {
    guard(|| {
        if buf.is_null() {
            return Err(ACTNET_STATUS_NULL_ARGUMENT);
        }
        let bytes = unsafe { Buf::foreign_mut(as_header(buf)) }.map_err(actnet_status::from)?;
        if len > bytes.capacity() {
            return Err(ACTNET_STATUS_INVALID_ARGUMENT);
        }
        // Bytes up to capacity count as initialised: the pool zero-fills the memory it
        // allocates, and foreign code wrote anything else through actnet_buf_data.
        unsafe { bytes.set_len(len) };
        Ok(())
    })
}
