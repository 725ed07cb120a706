package actnet

// #include <stdlib.h>
// #include <actnet.h>
import "C"

import (
	"time"
	"unsafe"
)

// SpawnOptions configures a spawn. The zero value (or a nil pointer) gives the defaults.
type SpawnOptions struct {
	// Name registers the process under this name as part of the spawn ("" for none).
	Name string
	// MailboxSize bounds the mailbox (in messages): 0 takes the node's default,
	// MailboxUnbounded means no bound.
	MailboxSize int
	// Args are handed to Init.
	Args []byte
	// LinkTo links the new process to this one before Init runs (0 for none).
	LinkTo PID
	// TrapExits makes the process receive *Exit from linked processes instead of ending
	// with them.
	TrapExits bool
}

// cmem collects C allocations made for one call, freed together afterwards. Option structs
// handed to C must not hold Go pointers, so their strings and arrays live in C memory.
type cmem []unsafe.Pointer

func (m *cmem) str(s string) *C.char {
	p := C.CString(s)
	*m = append(*m, unsafe.Pointer(p))
	return p
}

// optStr is NULL for "".
func (m *cmem) optStr(s string) *C.char {
	if s == "" {
		return nil
	}
	return m.str(s)
}

func (m *cmem) bytes(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	p := C.CBytes(b)
	*m = append(*m, p)
	return (*C.uint8_t)(p)
}

func (m *cmem) alloc(size uintptr) unsafe.Pointer {
	p := C.calloc(1, C.size_t(size))
	if p == nil {
		panic("actnet: out of C memory")
	}
	*m = append(*m, p)
	return p
}

// strs is a C array of C strings (NULL for none).
func (m *cmem) strs(ss []string) **C.char {
	if len(ss) == 0 {
		return nil
	}
	arr := unsafe.Slice((**C.char)(m.alloc(unsafe.Sizeof((*C.char)(nil))*uintptr(len(ss)))), len(ss))
	for i, s := range ss {
		arr[i] = m.str(s)
	}
	return &arr[0]
}

func (m *cmem) free() {
	for _, p := range *m {
		C.free(p)
	}
	*m = nil
}

// bytesArg passes a Go slice to a C function that copies it before returning.
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

// Spawn starts a process running a fresh Actor from factory; its Init runs on this
// goroutine before Spawn returns (a failure gives an *InitError). opts may be nil.
func (n *Node) Spawn(factory Factory, opts *SpawnOptions) (PID, error) {
	return n.spawn("", factory, opts)
}

// SpawnRegister is Spawn with the process registered under name (opts.Name must be "").
func (n *Node) SpawnRegister(name string, factory Factory, opts *SpawnOptions) (PID, error) {
	if name == "" || (opts != nil && opts.Name != "") {
		return 0, ErrInvalidArgument
	}
	return n.spawn(name, factory, opts)
}

func (n *Node) spawn(name string, factory Factory, opts *SpawnOptions) (PID, error) {
	var mem cmem
	defer mem.free()
	var o C.actnet_spawn_options
	if err := check(C.actnet_spawn_options_init(&o)); err != nil {
		return 0, err
	}
	if opts != nil {
		size, err := mailboxSize(opts.MailboxSize)
		if err != nil {
			return 0, err
		}
		o.mailbox_size = size
		o.name = mem.optStr(opts.Name)
		o.args = mem.bytes(opts.Args)
		o.args_len = C.size_t(len(opts.Args))
		o.link_to = opts.LinkTo.c()
		o.trap_exits = C.bool(opts.TrapExits)
	}
	cb, b, err := n.newBehavior(factory)
	if err != nil {
		return 0, err
	}
	defer C.actnet_behavior_free(cb)
	var cname *C.char
	if name != "" {
		cname = mem.str(name)
	}
	var pid C.actnet_pid
	st := n.status(func(p *C.actnet_node) C.actnet_status {
		if cname != nil {
			return C.actnet_process_spawn_register(p, cname, cb, &o, &pid)
		}
		return C.actnet_process_spawn(p, cb, &o, &pid)
	})
	if st == C.ACTNET_STATUS_INIT_FAILED {
		return 0, &InitError{Err: b.takeInitErr()}
	}
	if err := check(st); err != nil {
		return 0, err
	}
	return pidOf(pid), nil
}

// Send sends an opaque message (tag and a copy of data) to a process. The receiver sees as
// From the process whose callback is running on this goroutine, or 0. A Send that returns
// before another begins is delivered before it.
func (n *Node) Send(to PID, tag uint64, data []byte) error {
	d, l := bytesArg(data)
	return n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_message_send(p, to.c(), C.uint64_t(tag), d, l)
	})
}

// SendMeta sends an opaque message to a meta-process that takes messages: a forwarder
// (SpawnForwarder), which passes it on. A connection takes none (ErrUnsupported): write to
// its peer with Write.
func (n *Node) SendMeta(to Alias, tag uint64, data []byte) error {
	d, l := bytesArg(data)
	return n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_meta_send(p, to.c(), C.uint64_t(tag), d, l)
	})
}

// SendName is Send to the process registered under name.
func (n *Node) SendName(name string, tag uint64, data []byte) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	d, l := bytesArg(data)
	return n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_message_send_name(p, cname, C.uint64_t(tag), d, l)
	})
}

// DefaultCallTimeout is the timeout of a Call given 0.
const DefaultCallTimeout = 5 * time.Second

// Call sends a request (tag and a copy of data) to process to, whose handler gets a
// *CallRequest, and waits up to timeout (0: DefaultCallTimeout) for the answer. Errors:
// ErrTimeout, ErrNotFound (no such process, or it ended before answering), ErrMailboxFull,
// ErrWrongContext (a process calling itself). From a handler, the runtime keeps serving
// other processes while this one waits.
func (n *Node) Call(to PID, tag uint64, data []byte, timeout time.Duration) ([]byte, error) {
	if timeout == 0 {
		timeout = DefaultCallTimeout
	}
	ms, err := millis(timeout)
	if err != nil {
		return nil, err
	}
	d, l := bytesArg(data)
	var reply *C.actnet_buf
	if err := n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_call(p, to.c(), C.uint64_t(tag), d, l, ms, &reply)
	}); err != nil {
		return nil, err
	}
	defer C.actnet_buf_free(reply)
	return goBytes(C.actnet_buf_data(reply), C.actnet_buf_len(reply)), nil
}

// Reply answers a CallRequest (a copy of data). Any goroutine, while the caller waits;
// ErrNotFound once answered or given up.
func (n *Node) Reply(ref CallRef, data []byte) error {
	d, l := bytesArg(data)
	return n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_reply(p, C.uint64_t(ref), d, l)
	})
}

// StopProcess stops a process with ExitShutdown after the messages already in its mailbox
// (on itself, from its callback: ExitNormal when the callback returns; see Context.Stop).
func (n *Node) StopProcess(pid PID) error {
	return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_process_stop(p, pid.c()) })
}

// Kill ends a process with ExitKilled as soon as its current callback returns, dropping
// its queued messages.
func (n *Node) Kill(pid PID) error {
	return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_process_kill(p, pid.c()) })
}

// TrapExits sets whether a process receives *Exit from linked processes (true) or ends
// with them when they end abnormally (false, the default).
func (n *Node) TrapExits(pid PID, trap bool) error {
	return n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_trap_exits(p, pid.c(), C.bool(trap))
	})
}

// Link links two processes: when one ends abnormally, the other ends with the same reason,
// or receives *Exit if it traps exits.
func (n *Node) Link(a, b PID) error {
	return n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_link(p, a.c(), b.c())
	})
}

// Unlink removes a link.
func (n *Node) Unlink(a, b PID) error {
	return n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_unlink(p, a.c(), b.c())
	})
}

// Monitor makes watcher receive one *Down (with Down.PID) when process target ends.
// ErrNotFound if either is gone already (no Down will come).
func (n *Node) Monitor(watcher, target PID) (MonitorRef, error) {
	var ref C.uint64_t
	err := n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_monitor(p, watcher.c(), target.c(), &ref)
	})
	return MonitorRef(ref), err
}

// MonitorMeta makes watcher receive one *Down (with Down.Alias) when meta-process target
// (a server, a connection, a forwarder) ends. Errors as Monitor.
func (n *Node) MonitorMeta(watcher PID, target Alias) (MonitorRef, error) {
	var ref C.uint64_t
	err := n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_meta_monitor(p, watcher.c(), target.c(), &ref)
	})
	return MonitorRef(ref), err
}

// Demonitor removes a monitor (of a process or a meta-process); no Down will come for it.
func (n *Node) Demonitor(watcher PID, ref MonitorRef) error {
	return n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_demonitor(p, watcher.c(), C.uint64_t(ref))
	})
}

// Lookup finds the process registered under name.
func (n *Node) Lookup(name string) (PID, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var pid C.actnet_pid
	err := n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_name_lookup(p, cname, &pid) })
	return pidOf(pid), err
}

// Register registers name for a live process that has none yet.
func (n *Node) Register(name string, pid PID) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_name_register(p, cname, pid.c()) })
}

// Unregister frees a registered name; the process keeps running.
func (n *Node) Unregister(name string) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_name_unregister(p, cname) })
}

// Inspect describes a process (kind, pid, name, state, mailbox, messages in/out, ...). It
// never waits for the process.
func (n *Node) Inspect(pid PID) (map[string]string, error) {
	return n.inspect(func(p *C.actnet_node, info **C.actnet_info) C.actnet_status {
		return C.actnet_process_inspect(p, pid.c(), info)
	})
}

// InspectMeta describes a meta-process (kind, alias, owner, and what it reports: a server's
// listener and connections, a connection's addresses, bytes in/out, queued write bytes,
// TLS, pool). It never waits for the meta-process.
func (n *Node) InspectMeta(alias Alias) (map[string]string, error) {
	return n.inspect(func(p *C.actnet_node, info **C.actnet_info) C.actnet_status {
		return C.actnet_meta_inspect(p, alias.c(), info)
	})
}

func (n *Node) inspect(f func(*C.actnet_node, **C.actnet_info) C.actnet_status) (map[string]string, error) {
	var info *C.actnet_info
	if err := n.call(func(p *C.actnet_node) C.actnet_status { return f(p, &info) }); err != nil {
		return nil, err
	}
	defer C.actnet_info_free(info)
	count := int(C.actnet_info_count(info))
	out := make(map[string]string, count)
	for i := 0; i < count; i++ {
		out[goString(C.actnet_info_key(info, C.size_t(i)))] = goString(C.actnet_info_value(info, C.size_t(i)))
	}
	return out, nil
}

// SpawnForwarder starts a forwarder meta-process owned by owner: every message sent to its
// alias (SendMeta) is passed on (same tag and bytes, UserMessage.Forwarder = the alias) to
// the process registered as targetName (looked up at each message), or to the owner for
// "". It ends with its owner.
func (n *Node) SpawnForwarder(owner PID, targetName string) (Alias, error) {
	var cname *C.char
	if targetName != "" {
		cname = C.CString(targetName)
		defer C.free(unsafe.Pointer(cname))
	}
	var alias C.actnet_alias
	err := n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_forwarder_spawn(p, owner.c(), cname, &alias)
	})
	return aliasOf(alias), err
}

// Terminate ends a meta-process gracefully: a connection flushes what was queued, then
// closes (Disconnect with DisconnectClosed); a server closes its listener and connections.
// It returns at once; monitors get Down at the end.
func (n *Node) Terminate(alias Alias) error {
	return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_meta_terminate(p, alias.c()) })
}

// Abort ends a meta-process at once: a connection drops its queued writes and resets the
// socket (Disconnect with DisconnectAborted).
func (n *Node) Abort(alias Alias) error {
	return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_meta_abort(p, alias.c()) })
}

// millis converts a duration to whole milliseconds for the library (rounded up, so a
// positive duration never becomes 0).
func millis(d time.Duration) (C.uint32_t, error) {
	if d < 0 {
		return 0, ErrInvalidArgument
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > 0xFFFFFFFF {
		return 0, ErrInvalidArgument
	}
	return C.uint32_t(ms), nil
}
