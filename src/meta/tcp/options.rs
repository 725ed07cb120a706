//! Options shared by TCP servers (for every accepted connection) and clients.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::meta::tcp::framing::{ChunkOptions, Framing};
use crate::meta::tcp::keepalive::OsKeepalive;
use crate::buf::pool::Pool;
use crate::meta::tcp::server::ServerCounts;

/// The reference's default read buffer size.
pub(crate) const DEFAULT_READ_BUFFER_SIZE: usize = 65535;
pub(crate) const DEFAULT_WRITE_QUEUE_LIMIT: usize = 4 * 1024 * 1024;
pub(crate) const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a connection does when its target process's mailbox is full.
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u32)]
pub enum MailboxPolicy {
    /// Stop reading the socket until the mailbox has room; TCP pushes back on the peer and
    /// nothing is lost (the default).
    #[default]
    Pause = 0,
    /// End the connection with DISCONNECT reason `MAILBOX_FULL` (the reference's behaviour).
    Terminate = 1,
}

crate::c_enum::c_enum!(MailboxPolicy { Pause, Terminate });

#[derive(Debug, Clone)]
pub struct ConnectionOptions {
    /// Most bytes one read takes (in raw mode, the most one DATA carries).
    pub read_buffer_size: usize,
    /// DATA arrives in buffers from this pool, owned by the handler.
    pub pool: Option<Pool>,
    pub chunk: ChunkOptions,
    /// Written when nothing was written for `keepalive_period`; empty means off.
    pub keepalive_bytes: Bytes,
    pub keepalive_period: Duration,
    pub os_keepalive: OsKeepalive,
    pub nodelay: bool,
    pub mailbox_policy: MailboxPolicy,
    /// Most bytes queued for writing; a write past it is refused with WouldBlock.
    pub write_queue_limit: usize,
    /// How long a graceful close waits for queued writes to flush.
    pub close_timeout: Duration,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            read_buffer_size: DEFAULT_READ_BUFFER_SIZE,
            pool: None,
            chunk: ChunkOptions::default(),
            keepalive_bytes: Bytes::new(),
            keepalive_period: Duration::ZERO,
            os_keepalive: OsKeepalive::Off,
            nodelay: true,
            mailbox_policy: MailboxPolicy::Pause,
            write_queue_limit: DEFAULT_WRITE_QUEUE_LIMIT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
        }
    }
}

/// Connection options after validation, shared by every connection of a server.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionConfig {
    pub(crate) read_buffer_size: usize,
    pub(crate) pool: Option<Pool>,
    pub(crate) framing: Framing,
    pub(crate) keepalive: Option<(Bytes, Duration)>,
    pub(crate) os_keepalive: OsKeepalive,
    pub(crate) nodelay: bool,
    pub(crate) mailbox_policy: MailboxPolicy,
    pub(crate) write_queue_limit: usize,
    pub(crate) close_timeout: Duration,
    /// The accepting server's counts (None for clients).
    pub(crate) server: Option<Arc<ServerCounts>>,
}

impl ConnectionOptions {
    /// Checks the options once, when the server or client is created.
    pub(crate) fn validate(&self) -> Result<ConnectionConfig> {
        let framing = self.chunk.framing()?;
        let keepalive = match (self.keepalive_bytes.is_empty(), self.keepalive_period.is_zero()) {
            (true, _) => None,
            (false, true) => return Err(Error::InvalidArgument),
            (false, false) => Some((self.keepalive_bytes.clone(), self.keepalive_period)),
        };
        if self.read_buffer_size == 0 || self.write_queue_limit == 0 {
            return Err(Error::InvalidArgument);
        }
        Ok(ConnectionConfig {
            read_buffer_size: self.read_buffer_size,
            pool: self.pool.clone(),
            framing,
            keepalive,
            os_keepalive: self.os_keepalive,
            nodelay: self.nodelay,
            mailbox_policy: self.mailbox_policy,
            write_queue_limit: self.write_queue_limit,
            close_timeout: self.close_timeout,
            server: None,
        })
    }
}
