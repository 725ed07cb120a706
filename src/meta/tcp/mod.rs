//! TCP meta-processes.
mod api;
pub mod framing;
pub mod connection;
pub mod keepalive;
pub mod options;
pub(crate) mod payload;
pub(crate) mod transport;
pub(crate) mod write_queue;
pub mod certmanager;
pub mod client;
pub(crate) mod routing;
pub mod server;
pub mod tls;

/// The buffer pool's old path, for `write_queue.rs` (being rewritten elsewhere); new code
/// uses `crate::buf::pool`. Remove once that file's `use` line follows.
pub(crate) use crate::buf::pool;
