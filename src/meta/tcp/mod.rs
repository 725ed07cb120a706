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

