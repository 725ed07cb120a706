//! `actnet-bench tokio-echo`: the reference server. Plain tokio, as an application would write
//! it: a task per connection that reads into its buffer and `write_all`s what it read. With
//! `--framing header4` it splits the bytes into frames (4-byte big-endian payload length, then
//! the payload) and echoes the complete frames of each read in one `write_all` (the frames are
//! contiguous in the buffer, so that is each frame, in order, without a copy), keeping a
//! partial frame for the next read. With `--tls-cert/--tls-key` every connection is TLS
//! (tokio-rustls with ring, as the library uses). `--threads 1` (the default) runs tokio's
//! current-thread runtime, the fastest tokio on one pinned core; more threads run the
//! multi-thread runtime with that many workers.
//!
//! It listens with a backlog of 1,024, as actnet's servers do (`TcpListener::bind` would take
//! 128). The first line on stdout is `listening on ADDR:PORT`. A signal ends it.

use std::io::Write as _;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::args::Args;
use crate::util::{raise_nofile, tls_server_config};

pub const USAGE: &str = "\
actnet-bench tokio-echo [--host H] [--port P] [--threads N] [--framing none|header4]
                        [--buffer BYTES] [--backlog N] [--tls-cert PEM --tls-key PEM]
  --host H            address to listen on (default 127.0.0.1)
  --port P            port (default 0: the OS picks; see the first stdout line)
  --threads N         runtime worker threads (default 1: the current-thread runtime)
  --buffer BYTES      each connection's read buffer (default 16384)
  --backlog N         listen() backlog (default 1024, as actnet's servers)";

/// Frames longer than this end the connection (the library's test servers use a limit too).
const MAX_FRAME: usize = 64 << 20;

pub fn main(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &["help"])?;
    if a.flag("help") {
        println!("{USAGE}");
        return Ok(());
    }
    let host = a.str("host").unwrap_or_else(|| "127.0.0.1".into());
    let port: u16 = a.get("port", 0)?;
    let threads: usize = a.get("threads", 1)?;
    let header4 = match a.str("framing").as_deref() {
        None | Some("none") => false,
        Some("header4") => true,
        Some(other) => return Err(format!("--framing: none or header4, not '{other}'")),
    };
    let buffer: usize = a.get("buffer", 16384)?;
    let backlog: u32 = a.get("backlog", 1024)?;
    let tls = match (a.str("tls-cert"), a.str("tls-key")) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls_server_config(
            &cert, &key,
        )?))),
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    a.finish()?;
    if buffer < 16 {
        return Err("--buffer: at least 16".into());
    }
    raise_nofile();

    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .map_err(|e| e.to_string())?;

    rt.block_on(async move {
        let listener = listen(&host, port, backlog)
            .await
            .map_err(|e| format!("listen on {host}:{port}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}:{}", local.ip(), local.port());
            let _ = out.flush();
        }
        loop {
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    // EMFILE and friends: say so and go on after a moment.
                    eprintln!("tokio-echo: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let tls = tls.clone();
            tokio::spawn(async move {
                let _ = serve(stream, tls, header4, buffer).await;
            });
        }
    })
}

/// Binds with SO_REUSEADDR and listens with `backlog` (TcpListener::bind would use 128).
async fn listen(host: &str, port: u16, backlog: u32) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(backlog)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address")))
}

async fn serve(
    stream: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    header4: bool,
    buffer: usize,
) -> std::io::Result<()> {
    match tls {
        None if header4 => echo_frames(stream, buffer).await,
        None => echo(stream, buffer).await,
        Some(acceptor) => {
            let s = acceptor.accept(stream).await?;
            if header4 {
                echo_frames(s, buffer).await
            } else {
                echo(s, buffer).await
            }
        }
    }
}

/// Reads into the buffer and writes back what was read.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, buffer: usize) -> std::io::Result<()> {
    let mut buf = vec![0u8; buffer];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        s.write_all(&buf[..n]).await?;
        s.flush().await?; // a no-op on TCP; TLS may hold records until flushed
    }
}

/// Header framing: echoes each complete frame; keeps a partial one for the next read.
async fn echo_frames<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, buffer: usize) -> std::io::Result<()> {
    let mut buf = vec![0u8; buffer];
    let mut have = 0;
    loop {
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0); // a frame longer than the buffer
        }
        let n = s.read(&mut buf[have..]).await?;
        if n == 0 {
            return Ok(());
        }
        have += n;
        // Split: walk the frames; `off` ends the last complete one.
        let mut off = 0;
        let mut need = 0;
        while have - off >= 4 {
            let len = u32::from_be_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
            if len > MAX_FRAME {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "frame too long"));
            }
            if have - off < 4 + len {
                need = 4 + len;
                break;
            }
            off += 4 + len;
        }
        if off > 0 {
            s.write_all(&buf[..off]).await?;
            s.flush().await?;
            buf.copy_within(off..have, 0);
            have -= off;
        }
        if need > buf.len() {
            buf.resize(need, 0);
        }
    }
}
