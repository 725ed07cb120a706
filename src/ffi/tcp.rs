//! TCP servers, client connections and writes.

use std::ffi::c_char;

use bytes::Bytes;

use crate::c_enum::CEnum;
use crate::ffi::args::{self, actnet_node, FfiResult, Options};
use crate::ffi::boundary::guard;
use crate::ffi::ids::{actnet_alias, actnet_pid};
use crate::ffi::buf::{self, actnet_buf, actnet_pool, give, take};
use crate::ffi::status::{actnet_status, actnet_status::*, check};
use crate::meta::tcp::client::ClientOptions;
use crate::meta::tcp::framing::ChunkOptions;
use crate::meta::tcp::keepalive::OsKeepalive;
use crate::meta::tcp::options::{
    ConnectionOptions, MailboxPolicy, DEFAULT_CLOSE_TIMEOUT, DEFAULT_READ_BUFFER_SIZE, DEFAULT_WRITE_QUEUE_LIMIT,
};
use crate::meta::tcp::server::ServerOptions;
use crate::meta::tcp::tls::{ClientAuth, ClientTls, ServerTls, DEFAULT_HANDSHAKE_TIMEOUT};
use crate::ffi::tls::{self, actnet_certmanager};

/// Framing of incoming bytes (all fields are checked when the server or client is created;
/// negative values are refused). Fill with `actnet_chunk_options_init` first.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct actnet_chunk_options {
    /// `sizeof(actnet_chunk_options)`.
    pub struct_size: u32,
    /// false (default): each DATA carries what one read returned.
    pub enable: bool,
    /// > 0: every DATA is exactly this many bytes (header fields ignored).
    pub fixed_length: i32,
    /// Header framing: bytes of header, at least `header_length_position +
    /// header_length_size`.
    pub header_size: i32,
    /// Offset of the length field within the header.
    pub header_length_position: i32,
    /// 1, 2 or 4: size of the big-endian length field.
    pub header_length_size: i32,
    /// The length counts the header too (else only the payload).
    pub header_length_includes_header: bool,
    /// > 0: a frame (header included) longer than this ends the connection with DISCONNECT
    /// reason `MAX_LENGTH_EXCEEDED`, before anything is allocated for it. 0: no limit.
    pub max_length: i32,
}

/// Options of every connection of a server, or of a client connection. Fill with
/// `actnet_tcp_connection_options_init` first.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct actnet_tcp_connection_options {
    /// `sizeof(actnet_tcp_connection_options)`.
    pub struct_size: u32,
    /// Most bytes one read takes (in raw mode the most one DATA carries); default 65535.
    pub read_buffer_size: u32,
    /// If set, DATA carries a buffer from this pool that the handler owns (see
    /// `actnet_message.buf`). Borrowed: the server or connection keeps its own reference.
    pub read_buffer_pool: *const actnet_pool,
    /// Framing of incoming bytes; NULL (default): none, each DATA is what one read returned.
    /// Read during the spawn or connect call.
    pub read_chunk: *const actnet_chunk_options,
    /// Written when nothing was written for `keepalive_period_ms` (copied). NULL/0: off.
    /// Setting bytes with a period of 0 is refused. Keepalive bytes are not counted in the
    /// connection's "bytes out".
    pub keepalive_bytes: *const u8,
    pub keepalive_bytes_len: usize,
    pub keepalive_period_ms: u32,
    /// OS-level TCP keepalive: 0 off (default), -1 the OS default, > 0 idle time and probe
    /// interval in seconds.
    pub tcp_keepalive_s: i32,
    /// TCP_NODELAY; default true.
    pub nodelay: bool,
    /// An `actnet_mailbox_policy`; default PAUSE.
    pub mailbox_policy: u32,
    /// Most bytes queued for writing per connection; a write past it returns
    /// `ACTNET_STATUS_WOULD_BLOCK` and WRITABLE follows. Default 4 MiB.
    pub write_queue_limit: usize,
    /// How long a graceful close waits for queued writes (then DISCONNECT reason
    /// `WRITE_TIMEOUT`); default 5000. A node stop waits at most 1000.
    pub close_timeout_ms: u32,
}

/// How to run a TCP server. Fill with `actnet_tcp_server_options_init` first.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct actnet_tcp_server_options {
    /// `sizeof(actnet_tcp_server_options)`.
    pub struct_size: u32,
    /// Port to listen on; 0 (default) lets the OS pick (see `port_out`).
    pub port: u16,
    /// Address or host name to listen on; NULL or "" (default) means every IPv4 interface.
    pub host: *const c_char,
    /// listen() backlog; default 1024.
    pub backlog: i32,
    /// Registered names of the processes connections are routed to, round-robin (a name
    /// not registered or dead is skipped for the next live one); NULL/0 routes everything to
    /// the owner. Copied.
    pub process_pool: *const *const c_char,
    pub process_pool_len: usize,
    /// SO_REUSEADDR (default true) and SO_REUSEPORT (default false).
    pub reuse_address: bool,
    pub reuse_port: bool,
    /// Options of every accepted connection; NULL (default) for the defaults. Read during
    /// the call.
    pub connection: *const actnet_tcp_connection_options,
    /// TLS on every accepted connection, with certificates chosen per handshake by SNI from
    /// this manager; NULL (default) for plain TCP. Borrowed: the server keeps a reference and
    /// sees later changes (rotation, CA bundle).
    pub tls_certmanager: *const actnet_certmanager,
    /// An `actnet_client_auth`; default NONE. OPTIONAL and REQUIRED need a CA bundle.
    pub tls_client_auth: u32,
    /// A client that has not completed the handshake by then is dropped (counted in the
    /// server's inspect); default 10000.
    pub tls_handshake_timeout_ms: u32,
    /// ALPN protocols offered, most preferred first (copied); NULL/0 for none.
    pub tls_alpn: *const *const c_char,
    pub tls_alpn_len: usize,
}

/// How to connect. Fill with `actnet_tcp_client_options_init` first.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct actnet_tcp_client_options {
    /// `sizeof(actnet_tcp_client_options)`.
    pub struct_size: u32,
    /// Required.
    pub port: u16,
    /// Required: address or host name.
    pub host: *const c_char,
    /// Default 5000.
    pub connect_timeout_ms: u32,
    /// Registered name of the process that receives the connection's messages; NULL
    /// (default) means the owner.
    pub process: *const c_char,
    /// Options of the connection; NULL (default) for the defaults. Read during the call.
    pub connection: *const actnet_tcp_connection_options,
    /// Use TLS (also implied by `tls_certmanager`). The handshake completes before
    /// `actnet_tcp_connect` returns.
    pub tls: bool,
    /// CA bundle to verify the server (default: the system's roots) and the default
    /// certificate to present when the server asks for one; NULL for neither. Borrowed.
    pub tls_certmanager: *const actnet_certmanager,
    /// The name sent as SNI and checked against the server's certificate; NULL (default)
    /// means `host`.
    pub tls_server_name: *const c_char,
    /// Accept any server certificate. For tests only: logged as a warning at every connect.
    pub tls_insecure_skip_verify: bool,
    /// Default 10000.
    pub tls_handshake_timeout_ms: u32,
    /// ALPN protocols offered (copied); NULL/0 for none.
    pub tls_alpn: *const *const c_char,
    pub tls_alpn_len: usize,
}

impl Options for actnet_chunk_options {
    fn defaults() -> Self {
        actnet_chunk_options {
            struct_size: std::mem::size_of::<actnet_chunk_options>() as u32,
            enable: false,
            fixed_length: 0,
            header_size: 0,
            header_length_position: 0,
            header_length_size: 0,
            header_length_includes_header: false,
            max_length: 0,
        }
    }
}

impl Options for actnet_tcp_connection_options {
    fn defaults() -> Self {
        actnet_tcp_connection_options {
            struct_size: std::mem::size_of::<actnet_tcp_connection_options>() as u32,
            read_buffer_size: DEFAULT_READ_BUFFER_SIZE as u32,
            read_buffer_pool: std::ptr::null(),
            read_chunk: std::ptr::null(),
            keepalive_bytes: std::ptr::null(),
            keepalive_bytes_len: 0,
            keepalive_period_ms: 0,
            tcp_keepalive_s: 0,
            nodelay: true,
            mailbox_policy: MailboxPolicy::Pause as u32,
            write_queue_limit: DEFAULT_WRITE_QUEUE_LIMIT,
            close_timeout_ms: DEFAULT_CLOSE_TIMEOUT.as_millis() as u32,
        }
    }
}

impl Options for actnet_tcp_server_options {
    fn defaults() -> Self {
        actnet_tcp_server_options {
            struct_size: std::mem::size_of::<actnet_tcp_server_options>() as u32,
            port: 0,
            host: std::ptr::null(),
            backlog: 1024,
            process_pool: std::ptr::null(),
            process_pool_len: 0,
            reuse_address: true,
            reuse_port: false,
            connection: std::ptr::null(),
            tls_certmanager: std::ptr::null(),
            tls_client_auth: ClientAuth::None as u32,
            tls_handshake_timeout_ms: DEFAULT_HANDSHAKE_TIMEOUT.as_millis() as u32,
            tls_alpn: std::ptr::null(),
            tls_alpn_len: 0,
        }
    }
}

impl Options for actnet_tcp_client_options {
    fn defaults() -> Self {
        actnet_tcp_client_options {
            struct_size: std::mem::size_of::<actnet_tcp_client_options>() as u32,
            port: 0,
            host: std::ptr::null(),
            connect_timeout_ms: 5000,
            process: std::ptr::null(),
            connection: std::ptr::null(),
            tls: false,
            tls_certmanager: std::ptr::null(),
            tls_server_name: std::ptr::null(),
            tls_insecure_skip_verify: false,
            tls_handshake_timeout_ms: DEFAULT_HANDSHAKE_TIMEOUT.as_millis() as u32,
            tls_alpn: std::ptr::null(),
            tls_alpn_len: 0,
        }
    }
}

/// Fills `options` with defaults: no framing.
#[no_mangle]
pub extern "C" fn actnet_chunk_options_init(options: *mut actnet_chunk_options) -> actnet_status {
    guard(|| args::init_options(options))
}

/// Fills `options` with defaults.
#[no_mangle]
pub extern "C" fn actnet_tcp_connection_options_init(options: *mut actnet_tcp_connection_options) -> actnet_status {
    guard(|| args::init_options(options))
}

/// Fills `options` with defaults.
#[no_mangle]
pub extern "C" fn actnet_tcp_server_options_init(options: *mut actnet_tcp_server_options) -> actnet_status {
    guard(|| args::init_options(options))
}

/// Fills `options` with defaults.
#[no_mangle]
pub extern "C" fn actnet_tcp_client_options_init(options: *mut actnet_tcp_client_options) -> actnet_status {
    guard(|| args::init_options(options))
}

fn connection_options(raw: *const actnet_tcp_connection_options) -> FfiResult<ConnectionOptions> {
    let raw = args::options_or_defaults(raw)?;
    let c = args::options_or_defaults(raw.read_chunk)?;
    Ok(ConnectionOptions {
        read_buffer_size: raw.read_buffer_size as usize,
        pool: if raw.read_buffer_pool.is_null() { None } else { Some(buf::pool(raw.read_buffer_pool)?) },
        chunk: ChunkOptions {
            enable: c.enable,
            fixed_length: c.fixed_length as i64,
            header_size: c.header_size as i64,
            length_position: c.header_length_position as i64,
            length_size: c.header_length_size as i64,
            includes_header: c.header_length_includes_header,
            max_length: c.max_length as i64,
        },
        keepalive_bytes: Bytes::copy_from_slice(unsafe { args::bytes(raw.keepalive_bytes, raw.keepalive_bytes_len)? }),
        keepalive_period: args::millis(raw.keepalive_period_ms),
        os_keepalive: OsKeepalive::from_seconds(raw.tcp_keepalive_s as i64),
        nodelay: raw.nodelay,
        mailbox_policy: args::enum_value(raw.mailbox_policy, MailboxPolicy::from_code)?,
        write_queue_limit: raw.write_queue_limit,
        close_timeout: args::millis(raw.close_timeout_ms),
    })
}

fn server_tls(raw: &actnet_tcp_server_options) -> FfiResult<Option<ServerTls>> {
    if raw.tls_certmanager.is_null() {
        return Ok(None);
    }
    Ok(Some(ServerTls {
        manager: tls::manager(raw.tls_certmanager)?,
        client_auth: args::enum_value(raw.tls_client_auth, ClientAuth::from_code)?,
        handshake_timeout: tls::timeout(raw.tls_handshake_timeout_ms),
        alpn: tls::alpn(raw.tls_alpn, raw.tls_alpn_len)?,
    }))
}

fn client_tls(raw: &actnet_tcp_client_options) -> FfiResult<Option<ClientTls>> {
    if !raw.tls && raw.tls_certmanager.is_null() {
        return Ok(None);
    }
    let manager = if raw.tls_certmanager.is_null() { None } else { Some(tls::manager(raw.tls_certmanager)?) };
    Ok(Some(ClientTls {
        manager,
        server_name: unsafe { args::optional_string(raw.tls_server_name)? }.map(str::to_owned),
        insecure_skip_verify: raw.tls_insecure_skip_verify,
        alpn: tls::alpn(raw.tls_alpn, raw.tls_alpn_len)?,
        handshake_timeout: tls::timeout(raw.tls_handshake_timeout_ms),
    }))
}

fn names(list: *const *const c_char, len: usize) -> FfiResult<Vec<String>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if list.is_null() {
        return Err(ACTNET_STATUS_NULL_ARGUMENT);
    }
    let raw = unsafe { std::slice::from_raw_parts(list, len) };
    raw.iter().map(|&name| unsafe { args::string(name) }.map(str::to_owned)).collect()
}

/// Binds, listens and spawns a TCP server meta-process owned by process `owner` (it ends
/// with its owner, closing its listener and connections). The socket is bound before this
/// returns, so binding errors come back here and no listener is ever left behind on error.
/// Each accepted connection becomes a connection meta-process delivering CONNECT, DATA and
/// DISCONNECT to the owner or a pool process. On success `*alias_out` receives the server's
/// alias and, if `port_out` is not NULL, `*port_out` the bound port.
///
/// Errors: `NULL_ARGUMENT`, `STRUCT_SIZE`, `INVALID_ARGUMENT` (framing, keepalive or other
/// options), `NOT_FOUND` (owner), `ADDRESS_IN_USE`, `DNS_FAILURE`, `IO_ERROR`,
/// `NODE_STOPPING`.
#[no_mangle]
pub extern "C" fn actnet_tcp_server_spawn(
    node: *mut actnet_node,
    owner: actnet_pid,
    options: *const actnet_tcp_server_options,
    alias_out: *mut actnet_alias,
    port_out: *mut u16,
) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(alias_out)?;
        let raw = args::options(options)?;
        let options = ServerOptions {
            host: unsafe { args::optional_string(raw.host)? }.unwrap_or("").to_owned(),
            port: raw.port,
            backlog: raw.backlog,
            pool: names(raw.process_pool, raw.process_pool_len)?,
            reuse_address: raw.reuse_address,
            reuse_port: raw.reuse_port,
            connection: connection_options(raw.connection)?,
            tls: server_tls(&raw)?,
        };
        let (alias, address) = check(node.tcp_listen(owner.get()?, options))?;
        *out = actnet_alias::of(alias);
        if let Some(port) = unsafe { port_out.as_mut() } {
            *port = address.port();
        }
        Ok(())
    })
}

/// Connects to `host:port` (waiting up to `connect_timeout_ms`; safe from a handler) and
/// spawns a connection meta-process owned by process `owner`, delivering CONNECT, DATA and
/// DISCONNECT to `process` (or the owner). On success `*alias_out` receives its alias, to
/// which the caller may write at once.
///
/// Errors: `NULL_ARGUMENT`, `STRUCT_SIZE`, `INVALID_ARGUMENT`, `NOT_FOUND` (owner or
/// process), `CONNECTION_REFUSED`, `HOST_UNREACHABLE`, `TIMEOUT` (connecting, or the TLS
/// handshake), `DNS_FAILURE`, `CERTIFICATE_INVALID` (the server's certificate failed
/// verification), `TLS_ERROR`, `IO_ERROR`, `NODE_STOPPING`. With TLS 1.3 a server that
/// refuses the client's certificate does so after the client's handshake completes: the
/// connect succeeds and a DISCONNECT (reason `TLS_ERROR`) follows at once.
#[no_mangle]
pub extern "C" fn actnet_tcp_connect(
    node: *mut actnet_node,
    owner: actnet_pid,
    options: *const actnet_tcp_client_options,
    alias_out: *mut actnet_alias,
) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(alias_out)?;
        let raw = args::options(options)?;
        let options = ClientOptions {
            host: unsafe { args::string(raw.host)? }.to_owned(),
            port: raw.port,
            connect_timeout: args::millis(raw.connect_timeout_ms),
            target: unsafe { args::optional_string(raw.process)? }.map(str::to_owned),
            connection: connection_options(raw.connection)?,
            tls: client_tls(&raw)?,
        };
        let owner = owner.get()?;
        *out = actnet_alias::of(check(node.with_logging(|| node.tcp_connect(owner, options)))?);
        Ok(())
    })
}

/// Writes `len` bytes at `data` to a connection. The bytes are copied before this returns
/// (only if they cannot go to the socket at once). A write that returns before another
/// begins goes out before it.
///
/// Errors: `NULL_ARGUMENT`, `NOT_FOUND` (no such connection), `WRONG_KIND` (a process id),
/// `UNSUPPORTED` (a meta-process that is not a connection), `WOULD_BLOCK` (the write queue is at its limit: nothing was queued; WRITABLE
/// follows when it drains below half), `CLOSED` (the connection is closing).
#[no_mangle]
pub extern "C" fn actnet_tcp_write(node: *mut actnet_node, conn: actnet_alias, data: *const u8, len: usize) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        check(node.tcp_write(conn.get()?, unsafe { args::bytes(data, len)? }))
    })
}

/// Writes the content of a pool buffer the caller holds. On success ownership moves to the
/// runtime, which returns the buffer to its pool once written: the caller must not touch or
/// free it again. On error the caller still holds it.
///
/// Errors: as `actnet_tcp_write`, plus `DOUBLE_FREE` (the caller does not hold `buf`).
#[no_mangle]
pub extern "C" fn actnet_tcp_write_buf(node: *mut actnet_node, conn: actnet_alias, buf: *mut actnet_buf) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let conn = conn.get()?;
        let owned = take(buf)?;
        node.tcp_write_buf(conn, owned).map_err(|(error, owned)| {
            give(owned);
            actnet_status::from(error)
        })
    })
}
