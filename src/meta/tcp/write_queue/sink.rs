//! What the write queue writes to: the connection's socket, or a scripted fake in tests.
//!
//! A trait so the queue's state machine can be tested against a socket that takes exactly
//! what a test says (part of a write, nothing, an error). The queue is generic over it, so
//! the real socket's calls are static and inlined as before: no dynamic dispatch on the
//! write path.

use std::io::{self, IoSlice};

use crate::meta::tcp::transport::Transport;

pub(crate) trait WriteSink {
    /// A non-blocking vectored write: how many bytes the socket took, or WouldBlock.
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;

    /// Pushes out bytes the sink holds itself (TLS records); true when none are left.
    fn flush_pending(&self) -> io::Result<bool>;

    /// Whether the sink holds bytes of its own still to push out (TLS records).
    fn has_pending_output(&self) -> bool;
}

impl WriteSink for Transport {
    #[inline]
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Transport::try_write_vectored(self, bufs)
    }

    #[inline]
    fn flush_pending(&self) -> io::Result<bool> {
        Transport::flush_pending(self)
    }

    #[inline]
    fn has_pending_output(&self) -> bool {
        Transport::has_pending_output(self)
    }
}
