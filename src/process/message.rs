//! What a process receives. One enum covers user messages, calls, the TCP lifecycle of a
//! connection and the lifecycle signals of monitors and links.

use std::net::SocketAddr;

pub use crate::process::body::Body;
pub use crate::process::disconnect_reason::DisconnectReason;
pub use crate::process::payload::{LentBuf, Payload};
use crate::node::ids::Id;

/// Why a process or meta-process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// It stopped by itself, on purpose.
    Normal,
    /// It was stopped: by `stop`, by its supervisor, by its parent or by the node stopping.
    Shutdown,
    /// It was killed (`kill`): not trappable.
    Killed,
    /// A handler returned this non-zero code.
    Error(i32),
    /// A callback panicked (a Rust panic caught by the runtime, or a foreign one reported).
    Panic,
    /// Its init callback returned this non-zero code.
    InitFailed(i32),
    /// A supervisor gave up: more restarts than its intensity allows within its period.
    MaxRestarts,
    /// A connection meta-process ended for this reason (other than a normal close).
    Disconnected(DisconnectReason),
}

impl ExitReason {
    /// Normal and Shutdown are the expected ends; the others propagate through links.
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, ExitReason::Normal | ExitReason::Shutdown)
    }

    /// How a connection meta-process that ended for `reason` exits: a close by either side
    /// is Normal, the end of its owner or node Shutdown, anything else an error.
    pub fn of_disconnect(reason: DisconnectReason) -> ExitReason {
        match reason {
            DisconnectReason::PeerClosed | DisconnectReason::Closed => ExitReason::Normal,
            DisconnectReason::NodeStopping | DisconnectReason::ParentDown => ExitReason::Shutdown,
            other => ExitReason::Disconnected(other),
        }
    }
}

/// Details of a TLS session, shown in CONNECT.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    pub protocol_version: String,
    pub cipher_suite: String,
    pub alpn: Option<String>,
    pub server_name: Option<String>,
    pub peer_subject: Option<String>,
}

/// A message as a process's handler sees it.
#[derive(Debug)]
pub enum Message {
    /// An opaque message from another process or a foreign thread (`from` = 0).
    User { from: Id, tag: u64, data: Body },
    /// A request expecting an answer through `Node::reply(reference, …)`.
    Call { from: Id, reference: u64, tag: u64, data: Body },
    /// A connection is established; `conn` is its alias.
    Connect { conn: Id, local: SocketAddr, remote: SocketAddr, tls: Option<Box<TlsInfo>> },
    /// Bytes read from a connection (one frame when framing is on).
    Data { conn: Id, data: Payload },
    /// The connection ended; always the last message for `conn`, always exactly one.
    Disconnect { conn: Id, reason: DisconnectReason },
    /// The connection's write queue drained below half of its limit after a WOULD_BLOCK.
    Writable { conn: Id },
    /// A monitored process or meta-process ended.
    Down { id: Id, reference: u64, reason: ExitReason },
    /// A linked process ended (delivered only while trapping exits).
    Exit { from: Id, reason: ExitReason },
}
