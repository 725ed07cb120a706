//! Status codes. 0 is success; values are never reused or renumbered.

use std::ffi::c_char;

use crate::error::Error;
use crate::ffi::boundary::guard_or;

/// The result of every fallible function. Out-parameters are written only when the result is
/// `ACTNET_STATUS_OK`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum actnet_status {
    /// Success.
    ACTNET_STATUS_OK = 0,
    /// A required pointer argument was NULL.
    ACTNET_STATUS_NULL_ARGUMENT = 1,
    /// An argument or option is out of range or inconsistent, or a string is not UTF-8.
    ACTNET_STATUS_INVALID_ARGUMENT = 2,
    /// An options struct's `struct_size` does not match this library.
    ACTNET_STATUS_STRUCT_SIZE = 3,
    /// No live process or meta-process has that id or name (ids are never reused).
    ACTNET_STATUS_NOT_FOUND = 4,
    /// The target's mailbox is full; nothing was queued.
    ACTNET_STATUS_MAILBOX_FULL = 5,
    /// The operation did not complete within its timeout.
    ACTNET_STATUS_TIMEOUT = 6,
    /// The name is already registered (or the process already has one).
    ACTNET_STATUS_NAME_TAKEN = 7,
    /// The node is stopping; nothing new can start.
    ACTNET_STATUS_NODE_STOPPING = 8,
    /// Not allowed from this thread, e.g. stopping the node from one of its callbacks.
    ACTNET_STATUS_WRONG_CONTEXT = 9,
    /// The process's init callback returned an error; nothing was left running.
    ACTNET_STATUS_INIT_FAILED = 10,
    /// The target does not support this operation.
    ACTNET_STATUS_UNSUPPORTED = 11,
    /// A connection's write queue is at its limit; nothing was queued. WRITABLE follows.
    ACTNET_STATUS_WOULD_BLOCK = 12,
    /// The address is already in use.
    ACTNET_STATUS_ADDRESS_IN_USE = 13,
    /// The peer refused the connection.
    ACTNET_STATUS_CONNECTION_REFUSED = 14,
    /// The host or network is unreachable, or the address is not available.
    ACTNET_STATUS_HOST_UNREACHABLE = 15,
    /// The host name could not be resolved.
    ACTNET_STATUS_DNS_FAILURE = 16,
    /// Another I/O error.
    ACTNET_STATUS_IO_ERROR = 17,
    /// The buffer is not held by the caller: already freed, or already handed to the runtime.
    ACTNET_STATUS_DOUBLE_FREE = 18,
    /// The target is closed or closing.
    ACTNET_STATUS_CLOSED = 19,
    /// The TLS handshake or session failed.
    ACTNET_STATUS_TLS_ERROR = 20,
    /// The peer's certificate failed verification (unknown issuer, expired, wrong name, …).
    ACTNET_STATUS_CERTIFICATE_INVALID = 21,
    /// A certificate or key could not be loaded (bad PEM, mismatched key, unsupported type).
    ACTNET_STATUS_BAD_CERTIFICATE = 22,
    /// The library caught an internal panic; the operation did not complete.
    ACTNET_STATUS_PANIC = 23,
    /// The id names a process where a meta-process was expected, or the reverse.
    ACTNET_STATUS_WRONG_KIND = 24,
}

impl From<Error> for actnet_status {
    fn from(e: Error) -> Self {
        use actnet_status::*;
        match e {
            Error::InvalidArgument => ACTNET_STATUS_INVALID_ARGUMENT,
            Error::NotFound => ACTNET_STATUS_NOT_FOUND,
            Error::MailboxFull => ACTNET_STATUS_MAILBOX_FULL,
            Error::Timeout => ACTNET_STATUS_TIMEOUT,
            Error::NameTaken => ACTNET_STATUS_NAME_TAKEN,
            Error::NodeStopping => ACTNET_STATUS_NODE_STOPPING,
            Error::WrongContext => ACTNET_STATUS_WRONG_CONTEXT,
            Error::InitFailed => ACTNET_STATUS_INIT_FAILED,
            Error::Unsupported => ACTNET_STATUS_UNSUPPORTED,
            Error::WouldBlock => ACTNET_STATUS_WOULD_BLOCK,
            Error::AddressInUse => ACTNET_STATUS_ADDRESS_IN_USE,
            Error::ConnectionRefused => ACTNET_STATUS_CONNECTION_REFUSED,
            Error::HostUnreachable => ACTNET_STATUS_HOST_UNREACHABLE,
            Error::DnsFailure => ACTNET_STATUS_DNS_FAILURE,
            Error::Io => ACTNET_STATUS_IO_ERROR,
            Error::DoubleFree => ACTNET_STATUS_DOUBLE_FREE,
            Error::Closed => ACTNET_STATUS_CLOSED,
            Error::Tls => ACTNET_STATUS_TLS_ERROR,
            Error::CertificateInvalid => ACTNET_STATUS_CERTIFICATE_INVALID,
            Error::BadCertificate => ACTNET_STATUS_BAD_CERTIFICATE,
            Error::WrongKind => ACTNET_STATUS_WRONG_KIND,
        }
    }
}

fn describe(status: u32) -> &'static str {
    use actnet_status::*;
    const ALL: [(actnet_status, &str); 25] = [
        (ACTNET_STATUS_OK, "ok\0"),
        (ACTNET_STATUS_NULL_ARGUMENT, "a required pointer argument was NULL\0"),
        (ACTNET_STATUS_INVALID_ARGUMENT, "invalid argument\0"),
        (ACTNET_STATUS_STRUCT_SIZE, "struct_size does not match this library\0"),
        (ACTNET_STATUS_NOT_FOUND, "no such process or meta-process\0"),
        (ACTNET_STATUS_MAILBOX_FULL, "mailbox full\0"),
        (ACTNET_STATUS_TIMEOUT, "timed out\0"),
        (ACTNET_STATUS_NAME_TAKEN, "name already registered\0"),
        (ACTNET_STATUS_NODE_STOPPING, "node is stopping\0"),
        (ACTNET_STATUS_WRONG_CONTEXT, "not allowed from this thread or callback\0"),
        (ACTNET_STATUS_INIT_FAILED, "init callback failed\0"),
        (ACTNET_STATUS_UNSUPPORTED, "not supported by this target\0"),
        (ACTNET_STATUS_WOULD_BLOCK, "write queue full, wait for WRITABLE\0"),
        (ACTNET_STATUS_ADDRESS_IN_USE, "address already in use\0"),
        (ACTNET_STATUS_CONNECTION_REFUSED, "connection refused\0"),
        (ACTNET_STATUS_HOST_UNREACHABLE, "host unreachable\0"),
        (ACTNET_STATUS_DNS_FAILURE, "name resolution failed\0"),
        (ACTNET_STATUS_IO_ERROR, "I/O error\0"),
        (ACTNET_STATUS_DOUBLE_FREE, "buffer not held by the caller (double free?)\0"),
        (ACTNET_STATUS_CLOSED, "closed\0"),
        (ACTNET_STATUS_TLS_ERROR, "TLS error\0"),
        (ACTNET_STATUS_CERTIFICATE_INVALID, "certificate verification failed\0"),
        (ACTNET_STATUS_BAD_CERTIFICATE, "certificate or key could not be loaded\0"),
        (ACTNET_STATUS_PANIC, "internal panic caught at the library boundary\0"),
        (ACTNET_STATUS_WRONG_KIND, "id is of the wrong kind (process vs meta-process)\0"),
    ];
    ALL.iter().find(|(s, _)| *s as u32 == status).map(|(_, text)| *text).unwrap_or("unknown status\0")
}

/// A static, NUL-terminated description of a status code (also of unknown codes).
/// Never NULL; never freed by the caller. Any thread.
#[no_mangle]
pub extern "C" fn actnet_status_str(status: u32) -> *const c_char {
    guard_or(c"unknown status".as_ptr(), || describe(status).as_ptr() as *const c_char)
}

/// Converts a core result into a status.
pub(crate) fn check<T>(result: crate::error::Result<T>) -> Result<T, actnet_status> {
    result.map_err(actnet_status::from)
}
