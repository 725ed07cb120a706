//! The bytes a DATA message carries: shared bytes, or a buffer lent by an owner outside the
//! core (a pool of the TCP layer) that gets it back when the message is done with it.
//!
//! The core cannot name the pool's buffer type (it imports nothing from `buf` or `meta`),
//! and boxing one per message would cost the allocation that pools exist to avoid. So a lent
//! buffer travels as a pointer and its owner's table of functions: two words, no
//! allocation, like `bytes::Bytes` with a vtable of its own.

use std::fmt;
use std::ptr::NonNull;

use bytes::Bytes;

/// Bytes carried by a message: shared bytes (borrowed by the handler) or a lent buffer
/// (owned by the handler once delivered).
#[derive(Debug)]
pub enum Payload {
    Bytes(Bytes),
    Pooled(LentBuf),
}

impl Payload {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Bytes(b) => b,
            Payload::Pooled(b) => b.as_slice(),
        }
    }
}

/// What a lent buffer's owner does with its pointer.
pub struct LentVtable {
    /// The buffer's content.
    pub as_slice: unsafe fn(NonNull<()>) -> *const [u8],
    /// Hands the buffer to foreign code; returns the pointer foreign code holds.
    pub into_foreign: unsafe fn(NonNull<()>) -> *mut (),
    /// Gives the buffer back to its owner.
    pub release: unsafe fn(NonNull<()>),
}

/// A buffer lent by an owner outside the core, uniquely owned, returned on drop.
pub struct LentBuf {
    raw: NonNull<()>,
    vtable: &'static LentVtable,
}

// Like a Box: one owner, which may move between threads; the owner's vtable must allow that
// (see `LentBuf::new`).
unsafe impl Send for LentBuf {}
unsafe impl Sync for LentBuf {}

impl LentBuf {
    /// Wraps an owner's buffer.
    ///
    /// # Safety
    /// `raw` must be valid for `vtable`'s functions until one of `into_foreign` and
    /// `release` is called (exactly one is), from any thread, and not used otherwise.
    pub unsafe fn new(raw: NonNull<()>, vtable: &'static LentVtable) -> LentBuf {
        LentBuf { raw, vtable }
    }

    pub fn as_slice(&self) -> &[u8] {
        // Valid until release or into_foreign, which take `self`.
        unsafe { &*(self.vtable.as_slice)(self.raw) }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands the buffer to foreign code, which gives it back to its owner (for a pool
    /// buffer, the `actnet_buf*` freed with `actnet_buf_free`).
    pub fn into_foreign(self) -> *mut () {
        let this = std::mem::ManuallyDrop::new(self);
        unsafe { (this.vtable.into_foreign)(this.raw) }
    }
}

impl Drop for LentBuf {
    fn drop(&mut self) {
        unsafe { (self.vtable.release)(self.raw) }
    }
}

impl fmt::Debug for LentBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LentBuf").field("len", &self.len()).finish()
    }
}
