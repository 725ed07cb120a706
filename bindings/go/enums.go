package actnet

// #include <actnet.h>
import "C"

import "fmt"

// cEnumValues maps the name of every value of the C enums this binding covers to the value
// of its Go counterpart (see enums_test.go, which checks it against include/actnet.h, so
// that a value added to the header without a Go constant fails the tests). A Go test file
// cannot use cgo, hence this table and messageKindName here.
func cEnumValues() map[string]int64 {
	logOff, _ := LogOff.c()
	return map[string]int64{
		"ACTNET_STATUS_OK":                  int64(statusOK),
		"ACTNET_STATUS_NULL_ARGUMENT":       int64(ErrNullArgument),
		"ACTNET_STATUS_INVALID_ARGUMENT":    int64(ErrInvalidArgument),
		"ACTNET_STATUS_STRUCT_SIZE":         int64(ErrStructSize),
		"ACTNET_STATUS_NOT_FOUND":           int64(ErrNotFound),
		"ACTNET_STATUS_MAILBOX_FULL":        int64(ErrMailboxFull),
		"ACTNET_STATUS_TIMEOUT":             int64(ErrTimeout),
		"ACTNET_STATUS_NAME_TAKEN":          int64(ErrNameTaken),
		"ACTNET_STATUS_NODE_STOPPING":       int64(ErrNodeStopping),
		"ACTNET_STATUS_WRONG_CONTEXT":       int64(ErrWrongContext),
		"ACTNET_STATUS_INIT_FAILED":         int64(ErrInitFailed),
		"ACTNET_STATUS_UNSUPPORTED":         int64(ErrUnsupported),
		"ACTNET_STATUS_WOULD_BLOCK":         int64(ErrWouldBlock),
		"ACTNET_STATUS_ADDRESS_IN_USE":      int64(ErrAddressInUse),
		"ACTNET_STATUS_CONNECTION_REFUSED":  int64(ErrConnectionRefused),
		"ACTNET_STATUS_HOST_UNREACHABLE":    int64(ErrHostUnreachable),
		"ACTNET_STATUS_DNS_FAILURE":         int64(ErrDNSFailure),
		"ACTNET_STATUS_IO_ERROR":            int64(ErrIO),
		"ACTNET_STATUS_DOUBLE_FREE":         int64(ErrDoubleFree),
		"ACTNET_STATUS_CLOSED":              int64(ErrClosed),
		"ACTNET_STATUS_TLS_ERROR":           int64(ErrTLS),
		"ACTNET_STATUS_CERTIFICATE_INVALID": int64(ErrCertificateInvalid),
		"ACTNET_STATUS_BAD_CERTIFICATE":     int64(ErrBadCertificate),
		"ACTNET_STATUS_PANIC":               int64(ErrPanic),
		"ACTNET_STATUS_WRONG_KIND":          int64(ErrWrongKind),

		"ACTNET_EXIT_NORMAL":       int64(ExitNormal),
		"ACTNET_EXIT_SHUTDOWN":     int64(ExitShutdown),
		"ACTNET_EXIT_KILLED":       int64(ExitKilled),
		"ACTNET_EXIT_ERROR":        int64(ExitError),
		"ACTNET_EXIT_PANIC":        int64(ExitPanic),
		"ACTNET_EXIT_INIT_FAILED":  int64(ExitInitFailed),
		"ACTNET_EXIT_MAX_RESTARTS": int64(ExitMaxRestarts),
		"ACTNET_EXIT_DISCONNECTED": int64(ExitDisconnected),

		"ACTNET_DISCONNECT_REASON_PEER_CLOSED":          int64(DisconnectPeerClosed),
		"ACTNET_DISCONNECT_REASON_RESET":                int64(DisconnectReset),
		"ACTNET_DISCONNECT_REASON_CLOSED":               int64(DisconnectClosed),
		"ACTNET_DISCONNECT_REASON_ABORTED":              int64(DisconnectAborted),
		"ACTNET_DISCONNECT_REASON_MAX_LENGTH_EXCEEDED":  int64(DisconnectMaxLengthExceeded),
		"ACTNET_DISCONNECT_REASON_TARGET_DOWN":          int64(DisconnectTargetDown),
		"ACTNET_DISCONNECT_REASON_MAILBOX_FULL":         int64(DisconnectMailboxFull),
		"ACTNET_DISCONNECT_REASON_IO_ERROR":             int64(DisconnectIOError),
		"ACTNET_DISCONNECT_REASON_NODE_STOPPING":        int64(DisconnectNodeStopping),
		"ACTNET_DISCONNECT_REASON_FRAME_TRUNCATED":      int64(DisconnectFrameTruncated),
		"ACTNET_DISCONNECT_REASON_INVALID_FRAME_LENGTH": int64(DisconnectInvalidFrameLength),
		"ACTNET_DISCONNECT_REASON_PARENT_DOWN":          int64(DisconnectParentDown),
		"ACTNET_DISCONNECT_REASON_NO_TARGET":            int64(DisconnectNoTarget),
		"ACTNET_DISCONNECT_REASON_WRITE_TIMEOUT":        int64(DisconnectWriteTimeout),
		"ACTNET_DISCONNECT_REASON_TLS_HANDSHAKE_FAILED": int64(DisconnectTLSHandshakeFailed),
		"ACTNET_DISCONNECT_REASON_TLS_ERROR":            int64(DisconnectTLSError),

		// LogOff is -1 in Go (0 means "the default" in NodeOptions): Start converts it.
		"ACTNET_LOG_LEVEL_OFF":   int64(logOff),
		"ACTNET_LOG_LEVEL_ERROR": int64(LogError),
		"ACTNET_LOG_LEVEL_WARN":  int64(LogWarn),
		"ACTNET_LOG_LEVEL_INFO":  int64(LogInfo),
		"ACTNET_LOG_LEVEL_DEBUG": int64(LogDebug),
		"ACTNET_LOG_LEVEL_TRACE": int64(LogTrace),

		"ACTNET_RESTART_PERMANENT": int64(Permanent),
		"ACTNET_RESTART_TRANSIENT": int64(Transient),
		"ACTNET_RESTART_TEMPORARY": int64(Temporary),

		"ACTNET_STRATEGY_ONE_FOR_ONE":  int64(OneForOne),
		"ACTNET_STRATEGY_ALL_FOR_ONE":  int64(AllForOne),
		"ACTNET_STRATEGY_REST_FOR_ONE": int64(RestForOne),

		"ACTNET_MAILBOX_POLICY_PAUSE":     int64(Pause),
		"ACTNET_MAILBOX_POLICY_TERMINATE": int64(TerminateConnection),

		"ACTNET_CLIENT_AUTH_NONE":     int64(NoClientCert),
		"ACTNET_CLIENT_AUTH_OPTIONAL": int64(VerifyClientCertIfGiven),
		"ACTNET_CLIENT_AUTH_REQUIRED": int64(RequireClientCert),
	}
}

// messageTypeOf is the Go type ("*actnet.Data") a message of C kind `kind` is delivered as,
// or "" if the binding does not deliver that kind: the message kinds' Go counterparts are
// types, not constants.
func messageTypeOf(kind uint32) string {
	var m C.actnet_message // zero: no pointers, no bytes
	m.struct_size = C.sizeof_actnet_message
	m.kind = C.uint32_t(kind)
	msg := (&Node{}).message(&m)
	if msg == nil {
		return ""
	}
	return fmt.Sprintf("%T", msg)
}
