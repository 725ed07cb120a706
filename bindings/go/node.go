package actnet

// #include <stdlib.h>
// #include <actnet.h>
// #include "trampolines.h"
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
	"strings"
	"sync"
	"sync/atomic"
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
// line dropped.
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
// Stop, which must not be called from a callback. Once Stop has begun, calls from other
// goroutines return ErrNodeStopping; calls from the node's own callbacks (which the stop
// waits for) go on working until the node has stopped.
type Node struct {
	// mu guards ptr against Stop: methods hold it for reading (without ever waiting for it,
	// see acquire), Stop holds it for writing.
	mu   sync.RWMutex
	ptr  unsafe.Pointer // *C.actnet_node, nil once stopped; read and written atomically
	name string
	log  LogFunc
	// logLevel is the level the binding's own lines are filtered by.
	logLevel LogLevel
	failures failureLog
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
	switch {
	case opts.LogLevel == LogOff:
		o.log_level = C.ACTNET_LOG_LEVEL_OFF
	case opts.LogLevel > 0:
		o.log_level = C.uint32_t(opts.LogLevel)
	case opts.LogLevel < 0:
		return nil, ErrInvalidArgument
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
	atomic.StorePointer(&n.ptr, unsafe.Pointer(ptr))
	return n, nil
}

// Name is the node's name.
func (n *Node) Name() string { return n.name }

// Stop stops the node: meta-processes first (connections flush queued writes for at most a
// second and deliver Disconnect with DisconnectNodeStopping), then every process after the
// messages already in its mailbox (each runs Terminate), then the runtime threads. It blocks
// until done. From a callback it returns ErrWrongContext (the node keeps running); a second
// Stop returns ErrNodeStopping.
func (n *Node) Stop() error {
	// From one of this node's callbacks (or a log function), taking the lock below could
	// wait for the very call that runs this one.
	if ptr := (*C.actnet_node)(atomic.LoadPointer(&n.ptr)); ptr != nil && C.actnetgo_in_callback_of(ptr, 1) != 0 {
		return ErrWrongContext
	}
	n.mu.Lock() // waits for calls in progress on other goroutines; new ones are refused
	defer n.mu.Unlock()
	ptr := (*C.actnet_node)(atomic.LoadPointer(&n.ptr))
	if ptr == nil {
		return ErrNodeStopping
	}
	if err := check(C.actnet_node_stop(ptr)); err != nil {
		return err
	}
	atomic.StorePointer(&n.ptr, nil)
	return nil
}

// acquire returns the C node for one call; release(locked) must follow. It never waits:
// while Stop is under way the lock cannot be taken for reading, and then only the node's
// own callbacks (which the stop waits for, so the node outlives them) may go on.
func (n *Node) acquire() (ptr *C.actnet_node, locked bool, err error) {
	if n.mu.TryRLock() {
		if ptr := (*C.actnet_node)(atomic.LoadPointer(&n.ptr)); ptr != nil {
			return ptr, true, nil
		}
		n.mu.RUnlock()
		return nil, false, ErrNodeStopping
	}
	// Stop is under way: only this node's callbacks may go on (the stop waits for them).
	if ptr := (*C.actnet_node)(atomic.LoadPointer(&n.ptr)); ptr != nil && C.actnetgo_in_callback_of(ptr, 0) != 0 {
		return ptr, false, nil
	}
	return nil, false, ErrNodeStopping
}

func (n *Node) release(locked bool) {
	if locked {
		n.mu.RUnlock()
	}
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

// Version is the library's version, e.g. "0.1.0".
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
