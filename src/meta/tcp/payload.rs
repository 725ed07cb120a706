//! Pool buffers as DATA payloads: a read into a pool buffer reaches the process as a
//! `LentBuf` that returns to the pool when the message is done with it, or moves to foreign
//! code (still a pool buffer, freed with `actnet_buf_free`).

use std::ptr::NonNull;

use crate::buf::pool::Buf;
use crate::process::payload::{LentBuf, LentVtable, Payload};

/// The pool's side of a lent buffer: the pointer is a `Buf` from `Buf::into_raw`.
static POOL_BUF: LentVtable = LentVtable { as_slice, into_foreign, release };

unsafe fn as_slice(raw: NonNull<()>) -> *const [u8] {
    let buf = std::mem::ManuallyDrop::new(Buf::from_raw(raw));
    buf.as_slice() as *const [u8]
}

unsafe fn into_foreign(raw: NonNull<()>) -> *mut () {
    Buf::from_raw(raw).into_foreign() as *mut ()
}

unsafe fn release(raw: NonNull<()>) {
    drop(Buf::from_raw(raw));
}

/// A pool buffer as a payload, lent to the process that receives it.
pub(crate) fn pooled(buf: Buf) -> Payload {
    // The pointer is a Buf, which may move between threads, and each function takes it back.
    Payload::Pooled(unsafe { LentBuf::new(buf.into_raw(), &POOL_BUF) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::pool::Pool;

    #[test]
    fn a_lent_buffer_returns_to_its_pool() {
        let pool = Pool::new(64, 4);
        let payload = pooled(pool.copy_from(b"frame"));
        assert_eq!(payload.as_slice(), b"frame");
        assert_eq!(pool.stats().outstanding, 1);
        drop(payload);
        assert_eq!((pool.stats().outstanding, pool.stats().idle), (0, 1));
    }

    #[test]
    fn a_lent_buffer_handed_to_foreign_code_is_a_pool_buffer() {
        let pool = Pool::new(64, 4);
        let Payload::Pooled(lent) = pooled(pool.copy_from(b"x")) else { unreachable!() };
        let foreign = lent.into_foreign() as *mut crate::buf::pool::Header;
        assert_eq!(pool.stats().outstanding, 1);
        drop(unsafe { Buf::from_foreign(foreign) }.unwrap());
        assert_eq!(pool.stats().outstanding, 0);
    }
}
