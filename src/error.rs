//! The core's error type. Every variant maps to exactly one C status code in `ffi::status`.

use thiserror::Error;

/// Why a core operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Error {
    #[error("invalid argument")]
    InvalidArgument,
    #[error("no process or meta-process with that id or name")]
    NotFound,
    #[error("the target's mailbox is full")]
    MailboxFull,
    #[error("timed out")]
    Timeout,
    #[error("the id names a process where a meta-process was expected, or the reverse")]
    WrongKind,
    #[error("the name is already registered")]
    NameTaken,
    #[error("the node is stopping")]
    NodeStopping,
    #[error("not allowed from this thread or context")]
    WrongContext,
    #[error("the process's init callback failed")]
    InitFailed,
    #[error("the operation is not supported by this target")]
    Unsupported,
    #[error("the write queue is full; wait for WRITABLE")]
    WouldBlock,
    #[error("address already in use")]
    AddressInUse,
    #[error("connection refused")]
    ConnectionRefused,
    #[error("host unreachable")]
    HostUnreachable,
    #[error("name resolution failed")]
    DnsFailure,
    #[error("I/O error")]
    Io,
    #[error("the buffer was already released")]
    DoubleFree,
    #[error("the target is closed")]
    Closed,
    #[error("TLS error")]
    Tls,
    #[error("certificate verification failed")]
    CertificateInvalid,
    #[error("certificate or key could not be loaded")]
    BadCertificate,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Classifies an OS error from a socket call into the closest variant.
    pub fn from_io(err: &std::io::Error) -> Error {
        use std::io::ErrorKind::*;
        match err.kind() {
            AddrInUse => Error::AddressInUse,
            ConnectionRefused => Error::ConnectionRefused,
            HostUnreachable | NetworkUnreachable | AddrNotAvailable => Error::HostUnreachable,
            TimedOut => Error::Timeout,
            InvalidInput => Error::InvalidArgument,
            _ => Error::Io,
        }
    }
}
