//! The message a handler receives, as a flat C struct, and the reason codes it carries.

use std::ffi::{c_char, CStr, CString};

use crate::c_enum::CEnum;

use crate::ffi::boundary::guard_or;
use crate::ffi::buf::actnet_buf;
use crate::ffi::ids::{actnet_alias, actnet_pid};
use crate::node::ids::{kind_of, Id, IdKind};
use crate::process::message::{DisconnectReason, ExitReason, Message, Payload, TlsInfo};

/// What a message is; selects which `actnet_message` fields are meaningful.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum actnet_message_kind {
    /// Opaque bytes from a process or foreign thread: `from`, `tag`, `data`/`len`.
    ACTNET_MSG_USER = 1,
    /// A request: `from`, `tag`, `data`/`len`, `reference` (answer with `actnet_process_reply`).
    ACTNET_MSG_CALL = 2,
    /// A connection is up: `alias`, `local_addr`, `remote_addr`, `tls_*`.
    ACTNET_MSG_CONNECT = 3,
    /// Bytes from a connection: `alias`, `data`/`len`, and `buf` when it has a buffer pool.
    ACTNET_MSG_DATA = 4,
    /// The connection ended: `alias`, `reason` (an `actnet_disconnect_reason`). Always last,
    /// always exactly one per CONNECT. Writes to the alias fail from then on (CLOSED while
    /// it winds down, then NOT_FOUND; a monitor's DOWN marks the very end).
    ACTNET_MSG_DISCONNECT = 5,
    /// The connection's write queue drained below half its limit after a `WOULD_BLOCK`:
    /// `alias`.
    ACTNET_MSG_WRITABLE = 6,
    /// A monitored process (`from`) or meta-process (`alias`) ended: `reference`, `reason` (an
    /// `actnet_exit_reason`), `reason_code`.
    ACTNET_MSG_DOWN = 7,
    /// A linked process ended (only while trapping exits): `from`, `reason`,
    /// `reason_code`.
    ACTNET_MSG_EXIT = 8,
}

/// Why a process or meta-process ended.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum actnet_exit_reason {
    /// It ended by itself (`actnet_process_stop` on itself, or a meta-process closed normally).
    ACTNET_EXIT_NORMAL = 0,
    /// It was stopped: by `actnet_process_stop`, its supervisor, its owner or the node.
    ACTNET_EXIT_SHUTDOWN = 1,
    /// It was killed (`actnet_process_kill`, or a connection was aborted).
    ACTNET_EXIT_KILLED = 2,
    /// Its handler returned a non-zero code, given in `reason_code`.
    ACTNET_EXIT_ERROR = 3,
    /// A callback panicked inside the library.
    ACTNET_EXIT_PANIC = 4,
    /// Its init returned a non-zero code, given in `reason_code`.
    ACTNET_EXIT_INIT_FAILED = 5,
    /// A supervisor exceeded its restart intensity.
    ACTNET_EXIT_MAX_RESTARTS = 6,
    /// A connection ended for a reason other than a clean close; `reason_code` is its
    /// `actnet_disconnect_reason`.
    ACTNET_EXIT_DISCONNECTED = 7,
}

/// A message delivered to `handle_message`. Everything it points to is borrowed for the
/// duration of the call, except `buf`, which the handler owns (see `buf`).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct actnet_message {
    /// `sizeof(actnet_message)` as this library knows it; fields are only ever appended.
    pub struct_size: u32,
    /// An `actnet_message_kind`.
    pub kind: u32,
    /// The process: the sender (USER, CALL; `{0}` when sent from a foreign thread or through a
    /// forwarder), the linked process that ended (EXIT), or the monitored process that ended
    /// (DOWN of a process).
    pub from: actnet_pid,
    /// The meta-process: the connection (CONNECT, DATA, DISCONNECT, WRITABLE), the forwarder
    /// a USER came through, or the monitored meta-process that ended (DOWN of a
    /// meta-process). `{0}` otherwise.
    pub alias: actnet_alias,
    /// The sender's tag (USER, CALL).
    pub tag: u64,
    /// CALL: the reference to answer with `actnet_process_reply`. DOWN: the monitor's
    /// reference.
    pub reference: u64,
    /// The bytes (USER, CALL, DATA); borrowed for the call. May be NULL when `len` is 0.
    pub data: *const u8,
    pub len: usize,
    /// DATA from a connection with a buffer pool: the buffer holding `data`, now owned by the
    /// handler, which must release it (`actnet_buf_free`) or hand it back as a write
    /// (`actnet_tcp_write_buf`), now or later. NULL otherwise.
    pub buf: *mut actnet_buf,
    /// DISCONNECT: an `actnet_disconnect_reason`. DOWN, EXIT: an `actnet_exit_reason`.
    pub reason: u32,
    /// DOWN, EXIT with reason ERROR or INIT_FAILED: the code the callback returned.
    pub reason_code: i32,
    /// CONNECT: local and remote address as "ip:port" ("[ip6]:port"); borrowed.
    pub local_addr: *const c_char,
    pub remote_addr: *const c_char,
    /// CONNECT over TLS: the protocol version ("TLSv1.3"), cipher suite, negotiated ALPN
    /// protocol, server name (the one the client asked for on servers, the one sent on
    /// clients), and the subject of the peer's certificate when it presented one, in RFC 4514
    /// style ("CN=localhost, O=Example"), all borrowed. NULL when not TLS or absent.
    pub tls_version: *const c_char,
    pub tls_cipher: *const c_char,
    pub tls_alpn: *const c_char,
    pub tls_server_name: *const c_char,
    pub tls_peer_subject: *const c_char,
}

pub(crate) fn exit_reason(reason: ExitReason) -> (actnet_exit_reason, i32) {
    use actnet_exit_reason::*;
    match reason {
        ExitReason::Normal => (ACTNET_EXIT_NORMAL, 0),
        ExitReason::Shutdown => (ACTNET_EXIT_SHUTDOWN, 0),
        ExitReason::Killed => (ACTNET_EXIT_KILLED, 0),
        ExitReason::Error(code) => (ACTNET_EXIT_ERROR, code),
        ExitReason::Panic => (ACTNET_EXIT_PANIC, 0),
        ExitReason::InitFailed(code) => (ACTNET_EXIT_INIT_FAILED, code),
        ExitReason::MaxRestarts => (ACTNET_EXIT_MAX_RESTARTS, 0),
        ExitReason::Disconnected(r) => (ACTNET_EXIT_DISCONNECTED, r as i32),
    }
}

fn empty(kind: actnet_message_kind) -> actnet_message {
    actnet_message {
        struct_size: std::mem::size_of::<actnet_message>() as u32,
        kind: kind as u32,
        from: actnet_pid::default(),
        alias: actnet_alias::default(),
        tag: 0,
        reference: 0,
        data: std::ptr::null(),
        len: 0,
        buf: std::ptr::null_mut(),
        reason: 0,
        reason_code: 0,
        local_addr: std::ptr::null(),
        remote_addr: std::ptr::null(),
        tls_version: std::ptr::null(),
        tls_cipher: std::ptr::null(),
        tls_alpn: std::ptr::null(),
        tls_server_name: std::ptr::null(),
        tls_peer_subject: std::ptr::null(),
    }
}

/// C strings for the TLS fields of CONNECT, kept alive for the handler call.
struct TlsStrings([Option<CString>; 5]);

impl TlsStrings {
    fn new(tls: Option<&TlsInfo>) -> TlsStrings {
        let c = |s: &str| CString::new(s.replace('\0', " ")).ok();
        let Some(t) = tls else { return TlsStrings(Default::default()) };
        TlsStrings([
            c(&t.protocol_version),
            c(&t.cipher_suite),
            t.alpn.as_deref().and_then(c),
            t.server_name.as_deref().and_then(c),
            t.peer_subject.as_deref().and_then(c),
        ])
    }

    fn ptr(&self, i: usize) -> *const c_char {
        self.0[i].as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
    }
}

/// A process id as `from`, or a meta-process's alias as `alias`, whichever `id` is.
fn subject(id: Id, view: actnet_message) -> actnet_message {
    match kind_of(id) {
        IdKind::Process => actnet_message { from: actnet_pid::of(id), ..view },
        IdKind::Meta => actnet_message { alias: actnet_alias::of(id), ..view },
    }
}

fn with_bytes(mut view: actnet_message, bytes: &[u8]) -> actnet_message {
    view.data = bytes.as_ptr();
    view.len = bytes.len();
    view
}

/// Builds the C view of `message` and runs `handler` on it. Borrowed storage lives until the
/// handler returns; a pool buffer's ownership moves to the handler.
pub(crate) fn with_view(message: Message, handler: impl FnOnce(&actnet_message) -> i32) -> i32 {
    use actnet_message_kind::*;
    match message {
        Message::User { from, tag, data } => handler(&subject(from, actnet_message { tag, ..with_bytes(empty(ACTNET_MSG_USER), &data) })),
        Message::Call { from, reference, tag, data } => {
            handler(&subject(from, actnet_message { tag, reference, ..with_bytes(empty(ACTNET_MSG_CALL), &data) }))
        }
        Message::Connect { conn, local, remote, tls } => {
            let local = CString::new(local.to_string()).unwrap_or_default();
            let remote = CString::new(remote.to_string()).unwrap_or_default();
            let tls = TlsStrings::new(tls.as_deref());
            handler(&actnet_message {
                alias: actnet_alias::of(conn),
                local_addr: local.as_ptr(),
                remote_addr: remote.as_ptr(),
                tls_version: tls.ptr(0),
                tls_cipher: tls.ptr(1),
                tls_alpn: tls.ptr(2),
                tls_server_name: tls.ptr(3),
                tls_peer_subject: tls.ptr(4),
                ..empty(ACTNET_MSG_CONNECT)
            })
        }
        Message::Data { conn, data: Payload::Bytes(bytes) } => {
            handler(&actnet_message { alias: actnet_alias::of(conn), ..with_bytes(empty(ACTNET_MSG_DATA), &bytes) })
        }
        Message::Data { conn, data: Payload::Pooled(buf) } => {
            let (data, len) = (buf.as_slice().as_ptr(), buf.len());
            let buf = buf.into_foreign() as *mut actnet_buf;
            handler(&actnet_message { alias: actnet_alias::of(conn), data, len, buf, ..empty(ACTNET_MSG_DATA) })
        }
        Message::Disconnect { conn, reason } => {
            handler(&actnet_message { alias: actnet_alias::of(conn), reason: reason as u32, ..empty(ACTNET_MSG_DISCONNECT) })
        }
        Message::Writable { conn } => handler(&actnet_message { alias: actnet_alias::of(conn), ..empty(ACTNET_MSG_WRITABLE) }),
        Message::Down { id, reference, reason } => {
            let (reason, reason_code) = exit_reason(reason);
            handler(&subject(id, actnet_message { reference, reason: reason as u32, reason_code, ..empty(ACTNET_MSG_DOWN) }))
        }
        Message::Exit { from, reason } => {
            let (reason, reason_code) = exit_reason(reason);
            handler(&actnet_message { from: actnet_pid::of(from), reason: reason as u32, reason_code, ..empty(ACTNET_MSG_EXIT) })
        }
    }
}

crate::c_enum::c_enum!(actnet_message_kind {
    ACTNET_MSG_USER, ACTNET_MSG_CALL, ACTNET_MSG_CONNECT, ACTNET_MSG_DATA, ACTNET_MSG_DISCONNECT, ACTNET_MSG_WRITABLE,
    ACTNET_MSG_DOWN, ACTNET_MSG_EXIT,
});

impl actnet_message_kind {
    fn describe(self) -> &'static CStr {
        use actnet_message_kind::*;
        match self {
            ACTNET_MSG_USER => c"USER",
            ACTNET_MSG_CALL => c"CALL",
            ACTNET_MSG_CONNECT => c"CONNECT",
            ACTNET_MSG_DATA => c"DATA",
            ACTNET_MSG_DISCONNECT => c"DISCONNECT",
            ACTNET_MSG_WRITABLE => c"WRITABLE",
            ACTNET_MSG_DOWN => c"DOWN",
            ACTNET_MSG_EXIT => c"EXIT",
        }
    }
}

crate::c_enum::c_enum!(actnet_exit_reason {
    ACTNET_EXIT_NORMAL, ACTNET_EXIT_SHUTDOWN, ACTNET_EXIT_KILLED, ACTNET_EXIT_ERROR, ACTNET_EXIT_PANIC,
    ACTNET_EXIT_INIT_FAILED, ACTNET_EXIT_MAX_RESTARTS, ACTNET_EXIT_DISCONNECTED,
});

impl actnet_exit_reason {
    fn describe(self) -> &'static CStr {
        use actnet_exit_reason::*;
        match self {
            ACTNET_EXIT_NORMAL => c"normal",
            ACTNET_EXIT_SHUTDOWN => c"shutdown",
            ACTNET_EXIT_KILLED => c"killed",
            ACTNET_EXIT_ERROR => c"error",
            ACTNET_EXIT_PANIC => c"panic",
            ACTNET_EXIT_INIT_FAILED => c"init failed",
            ACTNET_EXIT_MAX_RESTARTS => c"max restarts",
            ACTNET_EXIT_DISCONNECTED => c"disconnected",
        }
    }
}

/// The static name of a value, "unknown" for a value with no variant.
fn name_of<T: CEnum>(code: u32, describe: fn(T) -> &'static CStr) -> *const c_char {
    T::from_code(code).map_or(c"unknown", describe).as_ptr()
}

/// A static name for an `actnet_message_kind` ("DATA", …; "unknown" otherwise).
#[no_mangle]
pub extern "C" fn actnet_message_kind_str(kind: u32) -> *const c_char {
    guard_or(c"unknown".as_ptr(), || name_of(kind, actnet_message_kind::describe))
}

/// A static name for an `actnet_exit_reason` ("normal", "killed", …).
#[no_mangle]
pub extern "C" fn actnet_exit_reason_str(reason: u32) -> *const c_char {
    guard_or(c"unknown".as_ptr(), || name_of(reason, actnet_exit_reason::describe))
}

/// A static name for an `actnet_disconnect_reason` ("peer closed", …; "unknown" otherwise).
#[no_mangle]
pub extern "C" fn actnet_disconnect_reason_str(reason: u32) -> *const c_char {
    guard_or(c"unknown".as_ptr(), || name_of(reason, DisconnectReason::describe))
}

/// True when `reason` is a clean end of a connection: a close by either side
/// (`PEER_CLOSED`, `CLOSED`) or the end of its owner or node (`PARENT_DOWN`,
/// `NODE_STOPPING`); false for errors and unknown codes. Any thread.
#[no_mangle]
pub extern "C" fn actnet_disconnect_reason_is_clean(reason: u32) -> bool {
    guard_or(false, || DisconnectReason::from_code(reason).is_some_and(DisconnectReason::is_clean))
}
