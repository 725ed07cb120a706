package actnet

// #include <stdlib.h>
// #include <actnet.h>
// #include "trampolines.h"
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"runtime/cgo"
	"strings"
	"time"
	"unsafe"
)

// LogLevel is the severity of a log line. The zero value in NodeOptions means the library's
// default (LogWarn); LogOff silences the node.
type LogLevel int

const (
	LogOff   LogLevel = -1
	LogError LogLevel = C.ACTNET_LOG_LEVEL_ERROR
	LogWarn  LogLevel = C.ACTNET_LOG_LEVEL_WARN
	LogInfo  LogLevel = C.ACTNET_LOG_LEVEL_INFO
	LogDebug LogLevel = C.ACTNET_LOG_LEVEL_DEBUG
	LogTrace LogLevel = C.ACTNET_LOG_LEVEL_TRACE
)

func (l LogLevel) String() string {
	switch l {
	case LogOff:
		return "off"
	case LogError:
		return "error"
	case LogWarn:
		return "warn"
	case LogInfo:
		return "info"
	case LogDebug:
		return "debug"
	case LogTrace:
		return "trace"
	case 0:
		return "default"
	}
	return fmt.Sprintf("LogLevel(%d)", int(l))
}

// LogFunc receives one log line of the node (without a trailing newline). It is called from
// actnet's runtime threads and from goroutines calling into the library, possibly
// concurrently, so it must be safe for concurrent use. A panic in it is recovered and the
// line dropped. Node.Stop from it returns ErrWrongContext.
type LogFunc func(level LogLevel, line string)

// MailboxUnbounded, as a mailbox size, means "no bound".
const MailboxUnbounded = -1

// NodeOptions configures Start. The zero value (or a nil pointer) gives the defaults.
type NodeOptions struct {
	// Name of the node; "" means "actnet".
	Name string
	// WorkerThreads is the number of runtime threads; 0 means one per core.
	WorkerThreads int
	// LogLevel filters the node's log lines; 0 means LogWarn, LogOff silences it.
	LogLevel LogLevel
	// Log receives the log lines; nil writes them to stderr. The binding's own lines (a
	// handler that panicked or failed) go here too.
	Log LogFunc
	// MailboxSize is the mailbox bound (in messages) of processes spawned without one: 0
	// means the library default (1024), MailboxUnbounded means no bound.
	MailboxSize int
}

// Node is a running actnet node: a runtime with its own threads, a registry of processes and
// names, and the meta-processes (TCP servers and connections) of its processes.
//
// Every method may be called from any goroutine, including from actor callbacks, except
// Stop, which must not be called from a callback. After Stop every call returns
// ErrNodeStopping: a goroutine that still holds the *Node never touches freed memory.
//
// The C node handle is released (actnet_node_free) by a finalizer once the Node is
// unreachable; Stop only stops it. The library keeps a stopped handle valid and answers
// every call on it with NODE_STOPPING, so the binding needs no lock or reference count:
// a call that loaded the handle keeps the Node reachable (runtime.KeepAlive) until the C
// call returns, hence the handle alive too.
type Node struct {
	ptr  *C.actnet_node // set by Start, never changed; freed by the finalizer
	name string
	log  LogFunc
	// logLevel is the level the binding's own lines are filtered by.
	logLevel LogLevel
	failures failureLog
}

// c returns the level for actnet_node_options.log_level (LogOff, whose Go value is not the
// C one because 0 means "default" in NodeOptions, included).
func (l LogLevel) c() (C.uint32_t, error) {
	switch {
	case l == LogOff:
		return C.ACTNET_LOG_LEVEL_OFF, nil
	case l >= 0 && l <= LogTrace:
		return C.uint32_t(l), nil
	}
	return 0, ErrInvalidArgument
}

// Start starts a node. opts may be nil for the defaults.
func Start(opts *NodeOptions) (*Node, error) {
	if opts == nil {
		opts = &NodeOptions{}
	}
	var o C.actnet_node_options
	if err := check(C.actnet_node_options_init(&o)); err != nil {
		return nil, err
	}
	if opts.WorkerThreads < 0 || int64(opts.WorkerThreads) > 1<<16 {
		return nil, ErrInvalidArgument
	}
	o.worker_threads = C.uint32_t(opts.WorkerThreads)
	if opts.LogLevel != 0 {
		level, err := opts.LogLevel.c()
		if err != nil {
			return nil, err
		}
		o.log_level = level
	}
	size, err := mailboxSize(opts.MailboxSize)
	if err != nil {
		return nil, err
	}
	o.default_mailbox_size = size
	name := opts.Name
	if name == "" {
		name = "actnet"
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	o.name = cname

	n := &Node{name: name, log: opts.Log, logLevel: opts.LogLevel}
	if n.logLevel == 0 {
		n.logLevel = LogWarn
	}
	var logHandle cgo.Handle
	if opts.Log != nil {
		logHandle = cgo.NewHandle(&logger{fn: opts.Log})
		C.actnetgo_node_options_set_log(&o, C.uintptr_t(logHandle))
	}
	var ptr *C.actnet_node
	if err := check(C.actnet_node_start(&o, &ptr)); err != nil {
		if opts.Log != nil {
			logHandle.Delete() // not freed by the library on error
		}
		return nil, err
	}
	n.ptr = ptr
	// A Node that is unreachable has no process left (each process's Go state, reachable
	// from its cgo.Handle, refers to the Node), so the free, which stops the node first if
	// Stop was never called, does not wait for long.
	runtime.SetFinalizer(n, func(n *Node) { C.actnet_node_free(n.ptr) })
	return n, nil
}

// Name is the node's name.
func (n *Node) Name() string { return n.name }

// Stop stops the node: meta-processes first (connections flush queued writes for at most a
// second and deliver Disconnect with DisconnectNodeStopping), then every process after the
// messages already in its mailbox (each runs Terminate), then the runtime threads. It blocks
// until done. While it runs, calls from any goroutine or callback go on as the library
// allows (new processes and connections are refused with ErrNodeStopping); once it has
// returned, every call returns ErrNodeStopping. Stopping a stopped node returns nil (a Stop
// during another waits for it). From a callback or a log function it returns
// ErrWrongContext and the node keeps running.
func (n *Node) Stop() error {
	return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_node_stop(p) })
}

// status runs one C call on the node's handle and returns its status. Every use of the
// handle goes through here (or call): the Node, and so the handle, stays alive until the C
// call returns even if the caller drops its last reference meanwhile.
func (n *Node) status(f func(*C.actnet_node) C.actnet_status) C.actnet_status {
	st := f(n.ptr)
	runtime.KeepAlive(n)
	return st
}

// call is status as an error.
func (n *Node) call(f func(*C.actnet_node) C.actnet_status) error {
	return check(n.status(f))
}

// logf writes one of the binding's own lines through the node's log function, or to stderr.
func (n *Node) logf(level LogLevel, format string, args ...any) {
	if n.logLevel == LogOff || level > n.logLevel {
		return
	}
	line := fmt.Sprintf(format, args...)
	if n.log != nil {
		func() {
			defer func() { _ = recover() }()
			n.log(level, "["+n.name+"] "+line) // the library's lines look like this too
		}()
		return
	}
	fmt.Fprintf(os.Stderr, "%s %s [%s] %s\n", time.Now().UTC().Format(time.RFC3339Nano),
		strings.ToUpper(level.String()), n.name, line)
}

// Version is the library's version, e.g. "0.2.0".
func Version() string { return C.GoString(C.actnet_version()) }

type logger struct{ fn LogFunc }

func mailboxSize(size int) (C.uint32_t, error) {
	switch {
	case size == MailboxUnbounded:
		return C.ACTNET_MAILBOX_UNBOUNDED, nil
	case size < 0 || int64(size) >= int64(C.ACTNET_MAILBOX_UNBOUNDED):
		return 0, ErrInvalidArgument
	}
	return C.uint32_t(size), nil
}
