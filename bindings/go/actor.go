package actnet

// #include <actnet.h>
import "C"

import (
	"errors"
	"fmt"
	"sync"
)

// PID identifies a process of a node (actnet_pid). Process ids and meta-process aliases
// are distinct types, so passing one where the other is expected does not compile (an
// explicit conversion does, and the library answers ErrWrongKind). Ids are never reused
// during a node's life, so a stale one gives ErrNotFound. 0 names no process.
type PID uint64

// Alias identifies a meta-process of a node: a TCP server, a TCP connection, a forwarder
// (actnet_alias). 0 names none. See PID.
type Alias uint64

func (p PID) c() C.actnet_pid     { return C.actnet_pid{id: C.uint64_t(p)} }
func (a Alias) c() C.actnet_alias { return C.actnet_alias{id: C.uint64_t(a)} }

// MonitorRef identifies a monitor (Node.Monitor); it comes back in Down.Ref.
type MonitorRef uint64

// CallRef identifies a call to answer with Node.Reply (CallRequest.Ref).
type CallRef uint64

// Actor is what a process runs. The runtime calls its methods on its own threads (through
// cgo callbacks), one at a time for one process, never concurrently; different processes
// run in parallel. The methods may call any function of this package except Node.Stop.
// They should not block for long: a process that waits holds a runtime thread.
type Actor interface {
	// Init runs once, before the process receives anything, with the spawn's Args. For
	// Node.Spawn it runs on the spawning goroutine before Spawn returns; an error (or a
	// panic) fails the spawn with an *InitError (errors.Is(err, ErrInitFailed)), and
	// Terminate is not called.
	Init(ctx *Context, args []byte) error
	// HandleMessage handles one message: a *UserMessage, *CallRequest, *Connect, *Data,
	// *Disconnect, *Writable, *Down or *Exit. Returning an error ends the process with
	// ExitError and the error's exit code (ExitCoder, else ExitCodeError); a panic is
	// recovered and ends it with ExitCodePanic. The node goes on either way.
	HandleMessage(ctx *Context, msg Message) error
	// Terminate runs once when the process ends (if Init succeeded), with the reason.
	Terminate(ctx *Context, reason ExitReason)
}

// Factory makes a fresh Actor for each process: every spawn and every restart by a
// supervisor calls it, so a restarted process starts with fresh state.
type Factory func() Actor

// BaseActor gives an Actor no-op Init and Terminate methods: embed it and write
// HandleMessage.
type BaseActor struct{}

// Init does nothing.
func (BaseActor) Init(*Context, []byte) error { return nil }

// Terminate does nothing.
func (BaseActor) Terminate(*Context, ExitReason) {}

// HandlerFunc is an Actor made of one function (no Init or Terminate work):
//
//	node.Spawn(func() actnet.Actor { return actnet.HandlerFunc(handle) }, nil)
type HandlerFunc func(ctx *Context, msg Message) error

// Init does nothing.
func (HandlerFunc) Init(*Context, []byte) error { return nil }

// HandleMessage calls f.
func (f HandlerFunc) HandleMessage(ctx *Context, msg Message) error { return f(ctx, msg) }

// Terminate does nothing.
func (HandlerFunc) Terminate(*Context, ExitReason) {}

// Context is what an Actor's callbacks receive: the process's node and its id. It stays
// valid for the life of the process (goroutines may keep it); see Node for what may be
// called while the node stops.
type Context struct {
	node *Node
	self PID
}

// Node is the node the process runs on.
func (c *Context) Node() *Node { return c.node }

// Self is the process's id.
func (c *Context) Self() PID { return c.self }

// Stop ends the process with ExitNormal as soon as the current callback returns (called
// from one of its callbacks; from elsewhere it is Node.StopProcess, reason ExitShutdown).
func (c *Context) Stop() error { return c.node.StopProcess(c.self) }

// Exit codes this binding gives the library when a Go handler fails.
const (
	// ExitCodeError: HandleMessage or Init returned an error that is not an ExitCoder.
	ExitCodeError int32 = 1
	// ExitCodePanic: HandleMessage or Init panicked. Do not use it in an ExitCoder.
	ExitCodePanic int32 = -2
)

// ExitCoder is an error that chooses the exit code of the process that returns it.
type ExitCoder interface {
	error
	ExitCode() int32
}

// exitCode is the non-zero code a failing handler returns to the library.
func exitCode(err error) int32 {
	var ec ExitCoder
	if errors.As(err, &ec) {
		if code := ec.ExitCode(); code != 0 {
			return code
		}
	}
	return ExitCodeError
}

// PanicError is a panic recovered from a Go handler: the process ended (or its Init failed)
// with ExitCodePanic. It is logged with its stack, and seen by Terminate and, while the
// binding remembers it, by monitors and linked processes in ExitReason.Err.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// ExitCode is ExitCodePanic.
func (p *PanicError) ExitCode() int32 { return ExitCodePanic }

// InitError is the error of a spawn whose Init failed: errors.Is(err, ErrInitFailed), and
// Err is what Init returned (a *PanicError if it panicked).
type InitError struct {
	Err error
}

func (e *InitError) Error() string {
	if e.Err == nil {
		return ErrInitFailed.Error()
	}
	return ErrInitFailed.Error() + ": " + e.Err.Error()
}

// Unwrap gives both ErrInitFailed and Init's error to errors.Is and errors.As.
func (e *InitError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInitFailed}
	}
	return []error{ErrInitFailed, e.Err}
}

// ExitKind is why a process or meta-process ended (actnet_exit_reason).
type ExitKind uint32

const (
	// ExitNormal: it ended by itself (Context.Stop, or a meta-process closed normally).
	ExitNormal ExitKind = C.ACTNET_EXIT_NORMAL
	// ExitShutdown: it was stopped by StopProcess, its supervisor, its owner or the node.
	ExitShutdown ExitKind = C.ACTNET_EXIT_SHUTDOWN
	// ExitKilled: it was killed (Kill, or a connection was aborted).
	ExitKilled ExitKind = C.ACTNET_EXIT_KILLED
	// ExitError: its handler failed; ExitReason.Code is the code.
	ExitError ExitKind = C.ACTNET_EXIT_ERROR
	// ExitPanic: a callback panicked inside the library (not a Go panic: see ExitCodePanic).
	ExitPanic ExitKind = C.ACTNET_EXIT_PANIC
	// ExitInitFailed: its init failed; ExitReason.Code is the code.
	ExitInitFailed ExitKind = C.ACTNET_EXIT_INIT_FAILED
	// ExitMaxRestarts: a supervisor exceeded its restart intensity.
	ExitMaxRestarts ExitKind = C.ACTNET_EXIT_MAX_RESTARTS
	// ExitDisconnected: a connection ended other than by a clean close; ExitReason.Code is
	// its DisconnectReason.
	ExitDisconnected ExitKind = C.ACTNET_EXIT_DISCONNECTED
)

func (k ExitKind) String() string { return C.GoString(C.actnet_exit_reason_str(C.uint32_t(k))) }

// ExitReason is why a process or meta-process ended, as Terminate, Down and Exit see it. It
// is an error (so it can be returned, wrapped and logged); Abnormal tells whether it counts
// as a failure for links and transient restarts.
type ExitReason struct {
	Kind ExitKind
	// Code is the handler's code (ExitError, ExitInitFailed), or the DisconnectReason
	// (ExitDisconnected).
	Code int32
	// Err is the Go error or *PanicError that ended a Go process of this node, when known:
	// always in its own Terminate, in Down and Exit while the binding remembers it (the
	// last 1024 failures). Nil otherwise.
	Err error
}

// Abnormal is true for every kind but ExitNormal and ExitShutdown.
func (r ExitReason) Abnormal() bool { return r.Kind != ExitNormal && r.Kind != ExitShutdown }

// Panicked tells whether a Go handler's panic ended the process.
func (r ExitReason) Panicked() bool { return r.Kind == ExitError && r.Code == ExitCodePanic }

// Disconnect is the connection's reason for ExitDisconnected, else 0.
func (r ExitReason) Disconnect() DisconnectReason {
	if r.Kind == ExitDisconnected {
		return DisconnectReason(r.Code)
	}
	return 0
}

func (r ExitReason) String() string {
	s := r.Kind.String()
	switch r.Kind {
	case ExitError, ExitInitFailed:
		if r.Code == ExitCodePanic {
			s += " (Go panic)"
		} else {
			s += fmt.Sprintf(" (code %d)", r.Code)
		}
	case ExitDisconnected:
		s += " (" + DisconnectReason(r.Code).String() + ")"
	}
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

func (r ExitReason) Error() string { return "actnet: exit: " + r.String() }

// Unwrap returns Err.
func (r ExitReason) Unwrap() error { return r.Err }

// DisconnectReason is why a connection ended (actnet_disconnect_reason), in Disconnect. It
// is an error.
type DisconnectReason uint32

const (
	DisconnectPeerClosed         DisconnectReason = C.ACTNET_DISCONNECT_REASON_PEER_CLOSED
	DisconnectReset              DisconnectReason = C.ACTNET_DISCONNECT_REASON_RESET
	DisconnectClosed             DisconnectReason = C.ACTNET_DISCONNECT_REASON_CLOSED
	DisconnectAborted            DisconnectReason = C.ACTNET_DISCONNECT_REASON_ABORTED
	DisconnectMaxLengthExceeded  DisconnectReason = C.ACTNET_DISCONNECT_REASON_MAX_LENGTH_EXCEEDED
	DisconnectTargetDown         DisconnectReason = C.ACTNET_DISCONNECT_REASON_TARGET_DOWN
	DisconnectMailboxFull        DisconnectReason = C.ACTNET_DISCONNECT_REASON_MAILBOX_FULL
	DisconnectIOError            DisconnectReason = C.ACTNET_DISCONNECT_REASON_IO_ERROR
	DisconnectNodeStopping       DisconnectReason = C.ACTNET_DISCONNECT_REASON_NODE_STOPPING
	DisconnectFrameTruncated     DisconnectReason = C.ACTNET_DISCONNECT_REASON_FRAME_TRUNCATED
	DisconnectInvalidFrameLength DisconnectReason = C.ACTNET_DISCONNECT_REASON_INVALID_FRAME_LENGTH
	DisconnectParentDown         DisconnectReason = C.ACTNET_DISCONNECT_REASON_PARENT_DOWN
	DisconnectNoTarget           DisconnectReason = C.ACTNET_DISCONNECT_REASON_NO_TARGET
	DisconnectWriteTimeout       DisconnectReason = C.ACTNET_DISCONNECT_REASON_WRITE_TIMEOUT
	DisconnectTLSHandshakeFailed DisconnectReason = C.ACTNET_DISCONNECT_REASON_TLS_HANDSHAKE_FAILED
	DisconnectTLSError           DisconnectReason = C.ACTNET_DISCONNECT_REASON_TLS_ERROR
)

// String is the library's name for the reason ("peer closed", ...).
func (r DisconnectReason) String() string {
	return C.GoString(C.actnet_disconnect_reason_str(C.uint32_t(r)))
}

func (r DisconnectReason) Error() string { return "actnet: disconnected: " + r.String() }

// Clean tells whether the connection ended by a close rather than an error: PeerClosed,
// Closed, ParentDown or NodeStopping (the library's actnet_disconnect_reason_is_clean).
func (r DisconnectReason) Clean() bool {
	return bool(C.actnet_disconnect_reason_is_clean(C.uint32_t(r)))
}

// failureLog remembers the Go errors of the last processes of a node that failed, so that
// Down and Exit can carry them. Bounded: the oldest are forgotten.
type failureLog struct {
	mu    sync.Mutex
	byPID map[PID]error
	order []PID
}

const failureLogSize = 1024

func (f *failureLog) add(pid PID, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byPID == nil {
		f.byPID = make(map[PID]error)
	}
	if _, ok := f.byPID[pid]; !ok {
		if len(f.order) == failureLogSize {
			delete(f.byPID, f.order[0])
			f.order = f.order[1:]
		}
		f.order = append(f.order, pid)
	}
	f.byPID[pid] = err
}

func (f *failureLog) get(pid PID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byPID[pid]
}
