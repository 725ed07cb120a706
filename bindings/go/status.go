package actnet

// #include <actnet.h>
import "C"

import "fmt"

// Status is an actnet status code (actnet_status) returned as a Go error. Every function of
// this package that fails because the C library refused the call returns a Status (or an
// error wrapping one), so errors.Is(err, ErrNotFound) and friends work.
type Status uint32

// The statuses of include/actnet.h. They are constants (a Status is an error), so
// errors.Is(err, actnet.ErrTimeout) compares codes, and nothing can reassign them.
const (
	// ErrNullArgument: a required pointer was NULL (a bug in this binding if you see it).
	ErrNullArgument Status = C.ACTNET_STATUS_NULL_ARGUMENT
	// ErrInvalidArgument: an argument or option is out of range or inconsistent.
	ErrInvalidArgument Status = C.ACTNET_STATUS_INVALID_ARGUMENT
	// ErrStructSize: the library is older than this binding and does not know an options
	// struct's size.
	ErrStructSize Status = C.ACTNET_STATUS_STRUCT_SIZE
	// ErrNotFound: no live process or meta-process has that id or name.
	ErrNotFound Status = C.ACTNET_STATUS_NOT_FOUND
	// ErrMailboxFull: the target's mailbox is full; nothing was queued.
	ErrMailboxFull Status = C.ACTNET_STATUS_MAILBOX_FULL
	// ErrTimeout: the operation did not complete within its timeout.
	ErrTimeout Status = C.ACTNET_STATUS_TIMEOUT
	// ErrNameTaken: the name is registered already (or the process has one).
	ErrNameTaken Status = C.ACTNET_STATUS_NAME_TAKEN
	// ErrNodeStopping: the node is stopping (nothing new can start) or stopped (every call
	// on it returns this).
	ErrNodeStopping Status = C.ACTNET_STATUS_NODE_STOPPING
	// ErrWrongContext: not allowed from here, e.g. Node.Stop from a handler.
	ErrWrongContext Status = C.ACTNET_STATUS_WRONG_CONTEXT
	// ErrInitFailed: the actor's Init failed; nothing was left running.
	ErrInitFailed Status = C.ACTNET_STATUS_INIT_FAILED
	// ErrUnsupported: the target does not support this operation.
	ErrUnsupported Status = C.ACTNET_STATUS_UNSUPPORTED
	// ErrWouldBlock: the connection's write queue is at its limit; nothing was queued. A
	// Writable message follows when it drains.
	ErrWouldBlock Status = C.ACTNET_STATUS_WOULD_BLOCK
	// ErrAddressInUse: the address is already in use.
	ErrAddressInUse Status = C.ACTNET_STATUS_ADDRESS_IN_USE
	// ErrConnectionRefused: the peer refused the connection.
	ErrConnectionRefused Status = C.ACTNET_STATUS_CONNECTION_REFUSED
	// ErrHostUnreachable: the host or network is unreachable.
	ErrHostUnreachable Status = C.ACTNET_STATUS_HOST_UNREACHABLE
	// ErrDNSFailure: the host name could not be resolved.
	ErrDNSFailure Status = C.ACTNET_STATUS_DNS_FAILURE
	// ErrIO: another I/O error.
	ErrIO Status = C.ACTNET_STATUS_IO_ERROR
	// ErrDoubleFree: the buffer is not held by the caller (released or written already).
	ErrDoubleFree Status = C.ACTNET_STATUS_DOUBLE_FREE
	// ErrClosed: the target is closed or closing.
	ErrClosed Status = C.ACTNET_STATUS_CLOSED
	// ErrTLS: the TLS handshake or session failed.
	ErrTLS Status = C.ACTNET_STATUS_TLS_ERROR
	// ErrCertificateInvalid: the peer's certificate failed verification.
	ErrCertificateInvalid Status = C.ACTNET_STATUS_CERTIFICATE_INVALID
	// ErrBadCertificate: a certificate or key could not be loaded.
	ErrBadCertificate Status = C.ACTNET_STATUS_BAD_CERTIFICATE
	// ErrPanic: the library caught an internal panic; the operation did not complete.
	ErrPanic Status = C.ACTNET_STATUS_PANIC
	// ErrWrongKind: a process id where a meta-process alias is expected, or the reverse
	// (only possible with an explicit conversion between PID and Alias).
	ErrWrongKind Status = C.ACTNET_STATUS_WRONG_KIND
)

// statusOK is the status of success, which check turns into a nil error.
const statusOK = C.ACTNET_STATUS_OK

// Error returns the library's description of the code (actnet_status_str).
func (s Status) Error() string { return s.String() }

// String returns the library's description of the code (actnet_status_str).
func (s Status) String() string {
	return "actnet: " + C.GoString(C.actnet_status_str(C.uint32_t(s)))
}

// GoString shows the numeric code too, for %#v.
func (s Status) GoString() string { return fmt.Sprintf("actnet.Status(%d)", uint32(s)) }

// check turns a C status into a Go error: nil for OK.
func check(s C.actnet_status) error {
	if s == statusOK {
		return nil
	}
	return Status(s)
}
