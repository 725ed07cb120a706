//! Status codes. 0 is success; values are never reused or renumbered.

use std::ffi::{c_char, CStr};

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
    /// An options struct's `struct_size` is larger than this library's struct (a newer
    /// caller) or too small to hold `struct_size` itself.
    ACTNET_STATUS_STRUCT_SIZE = 3,
    /// No live process or meta-process has that id or name (ids are never reused).
    ACTNET_STATUS_NOT_FOUND = 4,
    /// The target's mailbox is full; nothing was queued.
    ACTNET_STATUS_MAILBOX_FULL = 5,
    /// The operation did not complete within its timeout.
    ACTNET_STATUS_TIMEOUT = 6,
    /// The name is already registered (or the process already has one).
    ACTNET_STATUS_NAME_TAKEN = 7,
    /// The node is stopping (nothing new can start) or has stopped (every call on its handle
    /// returns this until `actnet_node_free`).
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

impl actnet_status {
    /// Every status, in code order.
    const ALL: [actnet_status; 25] = {
        use actnet_status::*;
        [
            ACTNET_STATUS_OK, ACTNET_STATUS_NULL_ARGUMENT, ACTNET_STATUS_INVALID_ARGUMENT, ACTNET_STATUS_STRUCT_SIZE,
            ACTNET_STATUS_NOT_FOUND, ACTNET_STATUS_MAILBOX_FULL, ACTNET_STATUS_TIMEOUT, ACTNET_STATUS_NAME_TAKEN,
            ACTNET_STATUS_NODE_STOPPING, ACTNET_STATUS_WRONG_CONTEXT, ACTNET_STATUS_INIT_FAILED, ACTNET_STATUS_UNSUPPORTED,
            ACTNET_STATUS_WOULD_BLOCK, ACTNET_STATUS_ADDRESS_IN_USE, ACTNET_STATUS_CONNECTION_REFUSED,
            ACTNET_STATUS_HOST_UNREACHABLE, ACTNET_STATUS_DNS_FAILURE, ACTNET_STATUS_IO_ERROR, ACTNET_STATUS_DOUBLE_FREE,
            ACTNET_STATUS_CLOSED, ACTNET_STATUS_TLS_ERROR, ACTNET_STATUS_CERTIFICATE_INVALID,
            ACTNET_STATUS_BAD_CERTIFICATE, ACTNET_STATUS_PANIC, ACTNET_STATUS_WRONG_KIND,
        ]
    };

    fn from_code(code: u32) -> Option<actnet_status> {
        Self::ALL.iter().copied().find(|s| *s as u32 == code)
    }

    fn describe(self) -> &'static CStr {
        use actnet_status::*;
        match self {
            ACTNET_STATUS_OK => c"ok",
            ACTNET_STATUS_NULL_ARGUMENT => c"a required pointer argument was NULL",
            ACTNET_STATUS_INVALID_ARGUMENT => c"invalid argument",
            ACTNET_STATUS_STRUCT_SIZE => c"struct_size is not one this library accepts",
            ACTNET_STATUS_NOT_FOUND => c"no such process or meta-process",
            ACTNET_STATUS_MAILBOX_FULL => c"mailbox full",
            ACTNET_STATUS_TIMEOUT => c"timed out",
            ACTNET_STATUS_NAME_TAKEN => c"name already registered",
            ACTNET_STATUS_NODE_STOPPING => c"node is stopping or stopped",
            ACTNET_STATUS_WRONG_CONTEXT => c"not allowed from this thread or callback",
            ACTNET_STATUS_INIT_FAILED => c"init callback failed",
            ACTNET_STATUS_UNSUPPORTED => c"not supported by this target",
            ACTNET_STATUS_WOULD_BLOCK => c"write queue full, wait for WRITABLE",
            ACTNET_STATUS_ADDRESS_IN_USE => c"address already in use",
            ACTNET_STATUS_CONNECTION_REFUSED => c"connection refused",
            ACTNET_STATUS_HOST_UNREACHABLE => c"host unreachable",
            ACTNET_STATUS_DNS_FAILURE => c"name resolution failed",
            ACTNET_STATUS_IO_ERROR => c"I/O error",
            ACTNET_STATUS_DOUBLE_FREE => c"buffer not held by the caller (double free?)",
            ACTNET_STATUS_CLOSED => c"closed",
            ACTNET_STATUS_TLS_ERROR => c"TLS error",
            ACTNET_STATUS_CERTIFICATE_INVALID => c"certificate verification failed",
            ACTNET_STATUS_BAD_CERTIFICATE => c"certificate or key could not be loaded",
            ACTNET_STATUS_PANIC => c"internal panic caught at the library boundary",
            ACTNET_STATUS_WRONG_KIND => c"id is of the wrong kind (process vs meta-process)",
        }
    }
}

/// A static, NUL-terminated description of a status code (also of unknown codes).
/// Never NULL; never freed by the caller. Any thread.
#[no_mangle]
pub extern "C" fn actnet_status_str(status: u32) -> *const c_char {
    guard_or(c"unknown status".as_ptr(), || actnet_status::from_code(status).map_or(c"unknown status", actnet_status::describe).as_ptr())
}

/// Converts a core result into a status.
pub(crate) fn check<T>(result: crate::error::Result<T>) -> Result<T, actnet_status> {
    result.map_err(actnet_status::from)
}
