//! The socket under a connection, used through readiness and non-blocking calls only, so
//! that the connection task and handler threads (writing directly when nothing is queued)
//! share it without blocking each other.

use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};

use bytes::BufMut;
use socket2::SockRef;
use tokio::net::TcpStream;

pub(crate) struct Transport {
    tcp: TcpStream,
}

impl Transport {
    pub(crate) fn plain(tcp: TcpStream) -> Transport {
        Transport { tcp }
    }

    pub(crate) fn addresses(&self) -> io::Result<(SocketAddr, SocketAddr)> {
        Ok((self.tcp.local_addr()?, self.tcp.peer_addr()?))
    }

    pub(crate) async fn readable(&self) -> io::Result<()> {
        self.tcp.readable().await
    }

    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.tcp.writable().await
    }

    /// Reads at most `max` bytes into the spare capacity of `dst`; 0 means end of stream.
    pub(crate) fn try_read(&self, dst: &mut impl BufMut, max: usize) -> io::Result<usize> {
        self.tcp.try_read_buf(&mut dst.limit(max))
    }

    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.tcp.try_write_vectored(bufs)
    }

    /// Sends FIN after the last write.
    pub(crate) fn shutdown_write(&self) {
        let _ = SockRef::from(&self.tcp).shutdown(Shutdown::Write);
    }

    /// Makes the close send RST instead of FIN.
    pub(crate) fn reset_on_close(&self) {
        let _ = SockRef::from(&self.tcp).set_linger(Some(std::time::Duration::ZERO));
    }
}
