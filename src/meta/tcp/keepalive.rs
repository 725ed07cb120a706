//! Keepalive. OS level: SO_KEEPALIVE with the idle time and probe interval set from one
//! period. Application level: bytes written after a full period without any write, and only
//! then (not at connect, not after every write as the reference's implementation does).

use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::net::TcpStream;

/// TCP keepalive as the user chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OsKeepalive {
    #[default]
    Off,
    /// SO_KEEPALIVE with the system's idle time and interval.
    OsDefault,
    /// Probes after this idle time, then at this interval.
    Period(Duration),
}

impl OsKeepalive {
    /// From the reference's convention: 0 = off, negative = OS default, positive = seconds.
    pub fn from_seconds(seconds: i64) -> OsKeepalive {
        match seconds {
            0 => OsKeepalive::Off,
            s if s < 0 => OsKeepalive::OsDefault,
            s => OsKeepalive::Period(Duration::from_secs(s as u64)),
        }
    }
}

/// Applies TCP_NODELAY and SO_KEEPALIVE to a connected socket.
pub(crate) fn configure_socket(stream: &TcpStream, nodelay: bool, keepalive: OsKeepalive) -> std::io::Result<()> {
    stream.set_nodelay(nodelay)?;
    let socket = SockRef::from(stream);
    match keepalive {
        OsKeepalive::Off => {}
        OsKeepalive::OsDefault => socket.set_keepalive(true)?,
        OsKeepalive::Period(period) => {
            socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(period).with_interval(period))?
        }
    }
    Ok(())
}
