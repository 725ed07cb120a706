//! Why a connection ended: the one definition of the reason codes. The C header's
//! `actnet_disconnect_reason` is this enum (cbindgen exports it under that name), its names
//! come from [`DisconnectReason::describe`], its conversion from `CEnum`, and whether a reason is a clean end from
//! [`DisconnectReason::is_clean`]; the bindings' constants are checked against the header.

use std::ffi::CStr;

use crate::process::message::ExitReason;

/// Why a connection ended, delivered in DISCONNECT (`actnet_message.reason`).
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum DisconnectReason {
    /// The peer closed its side cleanly (EOF between frames).
    PeerClosed = 1,
    /// The peer reset the connection.
    Reset = 2,
    /// A process closed it (`actnet_meta_terminate`), after flushing queued writes.
    Closed = 3,
    /// A process aborted it (`actnet_meta_abort`, RST).
    Aborted = 4,
    /// A frame header declared more than `max_length`.
    MaxLengthExceeded = 5,
    /// The target process ended (seen by other processes monitoring the alias only).
    TargetDown = 6,
    /// The target's mailbox was full and the mailbox policy is TERMINATE.
    MailboxFull = 7,
    /// A read or write failed.
    IoError = 8,
    /// The node is stopping.
    NodeStopping = 9,
    /// The peer closed in the middle of a frame; the partial frame was dropped.
    FrameTruncated = 10,
    /// A frame header declared a length smaller than the header itself.
    InvalidFrameLength = 11,
    /// The connection's owner ended: the process that made the client connection, or the
    /// server that accepted it (because its owner ended, or it was terminated).
    ParentDown = 12,
    /// No process of the pool was alive to take the connection.
    NoTarget = 13,
    /// Queued writes could not be flushed within the close timeout and were dropped (on a
    /// node stop or owner end the reason stays NODE_STOPPING or PARENT_DOWN).
    WriteTimeout = 14,
    /// The TLS handshake failed or timed out. Never in DISCONNECT (no CONNECT was delivered):
    /// such failures are logged and counted in the server's inspect ("tls handshake
    /// failures").
    TlsHandshakeFailed = 15,
    /// The TLS session failed after the handshake (an alert, a bad record).
    TlsError = 16,
}

crate::c_enum::c_enum!(DisconnectReason {
    PeerClosed, Reset, Closed, Aborted, MaxLengthExceeded, TargetDown, MailboxFull, IoError, NodeStopping,
    FrameTruncated, InvalidFrameLength, ParentDown, NoTarget, WriteTimeout, TlsHandshakeFailed, TlsError,
});

impl DisconnectReason {

    /// A short, static name ("peer closed", …).
    pub const fn describe(self) -> &'static CStr {
        use DisconnectReason::*;
        match self {
            PeerClosed => c"peer closed",
            Reset => c"reset",
            Closed => c"closed",
            Aborted => c"aborted",
            MaxLengthExceeded => c"max length exceeded",
            TargetDown => c"target down",
            MailboxFull => c"mailbox full",
            IoError => c"I/O error",
            NodeStopping => c"node stopping",
            FrameTruncated => c"frame truncated",
            InvalidFrameLength => c"invalid frame length",
            ParentDown => c"parent down",
            NoTarget => c"no target",
            WriteTimeout => c"write timeout",
            TlsHandshakeFailed => c"TLS handshake failed",
            TlsError => c"TLS error",
        }
    }

    /// A clean end: a close by either side, or the end of the connection's owner or node;
    /// the connection meta-process then exits Normal or Shutdown rather than with an error.
    pub fn is_clean(self) -> bool {
        !ExitReason::of_disconnect(self).is_abnormal()
    }
}
