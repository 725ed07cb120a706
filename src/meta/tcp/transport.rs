//! The socket under a connection, plain or TLS, used through readiness and non-blocking
//! calls only, so that the connection task (reading, flushing) and handler threads (writing
//! directly when nothing is queued) share it without blocking each other.
//!
//! TLS keeps the same model: records are read from and written to the non-blocking socket
//! under a lock on the rustls session. Encrypted records the socket could not take yet stay
//! in the session (at most one write's worth: nothing new is encrypted while they wait) and
//! `flush_pending` pushes them out when the socket is writable again.

use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::{BufMut, BytesMut};
use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::process::message::TlsInfo;

pub(crate) enum Transport {
    Plain(TcpStream),
    /// Boxed: a rustls session is over a kilobyte, which plain sockets should not pay for.
    Tls(Box<TlsTransport>),
}

pub(crate) struct TlsTransport {
    tcp: TcpStream,
    session: Mutex<rustls::Connection>,
    /// Decrypted bytes are waiting in the session: readable without the socket.
    buffered: AtomicBool,
    info: TlsInfo,
}

/// Where a read lands: the thread's arena or a pool buffer.
pub(crate) trait ReadBuffer: BufMut {
    /// Room for at least `max` more bytes, uninitialised.
    fn spare(&mut self, max: usize) -> &mut [MaybeUninit<u8>];
    /// Marks `n` bytes of `spare` as written.
    ///
    /// # Safety
    /// Those bytes must have been initialised.
    unsafe fn filled(&mut self, n: usize);

    /// Appends up to `max` bytes written by `fill` into an initialised slice.
    fn append_with(&mut self, max: usize, fill: impl FnOnce(&mut [u8]) -> io::Result<usize>) -> io::Result<usize> {
        let spare = &mut self.spare(max)[..max];
        spare.fill(MaybeUninit::new(0));
        // Initialised just above.
        let slice = unsafe { &mut *(spare as *mut [MaybeUninit<u8>] as *mut [u8]) };
        let n = fill(slice)?;
        unsafe { self.filled(n) };
        Ok(n)
    }
}

impl ReadBuffer for BytesMut {
    fn spare(&mut self, max: usize) -> &mut [MaybeUninit<u8>] {
        self.reserve(max);
        self.spare_capacity_mut()
    }

    unsafe fn filled(&mut self, n: usize) {
        self.set_len(self.len() + n);
    }
}

impl ReadBuffer for Vec<u8> {
    fn spare(&mut self, max: usize) -> &mut [MaybeUninit<u8>] {
        self.reserve(max);
        self.spare_capacity_mut()
    }

    unsafe fn filled(&mut self, n: usize) {
        self.set_len(self.len() + n);
    }
}

/// A non-blocking read of at most `max` bytes into `dst`. A read shorter than asked for has
/// drained the socket (epoll, edge-triggered), so readiness is cleared then, as tokio's own
/// reads do: the next read waits for readiness instead of costing a system call that would
/// only say EAGAIN.
fn receive(tcp: &TcpStream, dst: &mut impl ReadBuffer, max: usize) -> io::Result<usize> {
    let mut drained_after = None;
    let result = tcp.try_io(Interest::READABLE, || {
        let n = SockRef::from(tcp).recv(&mut dst.spare(max)[..max])?;
        if n > 0 && n < max {
            // Reported as WouldBlock so that tokio clears readiness; the bytes are kept.
            drained_after = Some(n);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    });
    let n = match drained_after {
        Some(n) => n,
        None => result?,
    };
    // recv initialised these bytes.
    unsafe { dst.filled(n) };
    Ok(n)
}

/// A non-blocking vectored send. sendmsg with MSG_NOSIGNAL rather than writev, so that
/// writing to a socket the peer reset returns EPIPE instead of raising SIGPIPE, which would
/// kill a host program that keeps SIGPIPE's default action.
fn send(tcp: &TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    tcp.try_io(Interest::WRITABLE, || match bufs {
        // One buffer (the usual batch of copied replies): send(2) spares the kernel the
        // message header and iovec it copies in and checks for sendmsg(2).
        [one] => SockRef::from(tcp).send_with_flags(one, libc::MSG_NOSIGNAL),
        _ => SockRef::from(tcp).send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL),
    })
}

/// The socket as blocking-style Read/Write for rustls, returning WouldBlock instead of waiting.
struct Socket<'a>(&'a TcpStream);

impl Read for Socket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        send(self.0, &[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        send(self.0, bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A TLS protocol error as an I/O error the connection reports as a TLS failure.
fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl Transport {
    pub(crate) fn plain(tcp: TcpStream) -> Transport {
        Transport::Plain(tcp)
    }

    pub(crate) fn tls(tcp: TcpStream, session: rustls::Connection) -> Transport {
        let info = crate::meta::tcp::tls::session_info(&session);
        let buffered = AtomicBool::new(true);
        Transport::Tls(Box::new(TlsTransport { tcp, session: Mutex::new(session), buffered, info }))
    }

    /// Records the server name a client sent (the session only knows it on servers).
    pub(crate) fn with_server_name(mut self, name: String) -> Transport {
        if let Transport::Tls(t) = &mut self {
            t.info.server_name.get_or_insert(name);
        }
        self
    }

    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            Transport::Tls(t) => &t.tcp,
        }
    }

    pub(crate) fn tls_info(&self) -> Option<&TlsInfo> {
        match self {
            Transport::Plain(_) => None,
            Transport::Tls(t) => Some(&t.info),
        }
    }

    pub(crate) fn addresses(&self) -> io::Result<(SocketAddr, SocketAddr)> {
        Ok((self.tcp().local_addr()?, self.tcp().peer_addr()?))
    }

    /// Ready when a read may make progress (TLS: also when decrypted bytes are waiting).
    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Transport::Tls(t) if t.buffered.load(Ordering::Acquire) => Poll::Ready(Ok(())),
            _ => self.tcp().poll_read_ready(cx),
        }
    }

    pub(crate) fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_write_ready(cx)
    }

    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.tcp().writable().await
    }

    /// Reads at most `max` bytes into `dst`; 0 means end of stream.
    pub(crate) fn try_read(&self, dst: &mut impl ReadBuffer, max: usize) -> io::Result<usize> {
        match self {
            Transport::Plain(tcp) => receive(tcp, dst, max),
            Transport::Tls(t) => t.read(dst, max),
        }
    }

    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Transport::Plain(tcp) => send(tcp, bufs),
            Transport::Tls(t) => t.write(bufs),
        }
    }

    /// Pushes out encrypted bytes waiting in the TLS session; true when none are left.
    pub(crate) fn flush_pending(&self) -> io::Result<bool> {
        match self {
            Transport::Plain(_) => Ok(true),
            Transport::Tls(t) => t.write_records(&mut t.session.lock().unwrap()),
        }
    }

    /// Whether encrypted bytes wait in the TLS session for the socket.
    pub(crate) fn has_pending_output(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            Transport::Tls(t) => t.session.lock().unwrap().wants_write(),
        }
    }

    /// Sends FIN (after a TLS close_notify) following the last write.
    pub(crate) fn shutdown_write(&self) {
        if let Transport::Tls(t) = self {
            let mut session = t.session.lock().unwrap();
            session.send_close_notify();
            let _ = t.write_records(&mut session);
        }
        let _ = SockRef::from(self.tcp()).shutdown(Shutdown::Write);
    }

    /// Makes the close send RST instead of FIN.
    pub(crate) fn reset_on_close(&self) {
        let _ = SockRef::from(self.tcp()).set_linger(Some(std::time::Duration::ZERO));
    }
}

impl TlsTransport {
    fn read(&self, dst: &mut impl ReadBuffer, max: usize) -> io::Result<usize> {
        let mut session = self.session.lock().unwrap();
        loop {
            let state = session.process_new_packets();
            // Whatever the session wants to say (alerts, tickets, key updates) goes out now,
            // or with the next flush if the socket is full.
            let _ = self.write_records(&mut session);
            let state = state.map_err(tls_error)?;
            let available = state.plaintext_bytes_to_read();
            if available > 0 {
                let n = dst.append_with(available.min(max), |buf| session.reader().read(buf))?;
                self.buffered.store(available > n, Ordering::Release);
                return Ok(n);
            }
            self.buffered.store(false, Ordering::Release);
            if state.peer_has_closed() {
                return Ok(0);
            }
            match session.read_tls(&mut Socket(&self.tcp)) {
                // End of the TCP stream, with or without close_notify: the peer closed.
                Ok(0) => return Ok(0),
                Ok(_) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn write(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut session = self.session.lock().unwrap();
        if !self.write_records(&mut session)? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let accepted = session.writer().write_vectored(bufs)?;
        match self.write_records(&mut session) {
            Ok(_) => Ok(accepted),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(accepted),
            Err(e) => Err(e),
        }
    }

    /// Writes queued TLS records; true when none are left, false when the socket is full.
    fn write_records(&self, session: &mut rustls::Connection) -> io::Result<bool> {
        while session.wants_write() {
            match session.write_tls(&mut Socket(&self.tcp)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}
