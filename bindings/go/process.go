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
		o.link_to = C.uint64_t(opts.LinkTo)
		o.trap_exits = C.bool(opts.TrapExits)
	}
	ptr, locked, err := n.acquire()
	if err != nil {
		return 0, err
	}
	defer n.release(locked)
	cb, b, err := n.newBehavior(factory)
	if err != nil {
		return 0, err
	}
	defer C.actnet_behavior_free(cb)
	var pid C.uint64_t
	var st C.actnet_status
	if name != "" {
		st = C.actnet_process_spawn_register(ptr, mem.str(name), cb, &o, &pid)
	} else {
		st = C.actnet_process_spawn(ptr, cb, &o, &pid)
	}
	if st == C.ACTNET_STATUS_INIT_FAILED {
		return 0, &InitError{Err: b.takeInitErr()}
	}
	if err := check(st); err != nil {
		return 0, err
	}
	return PID(pid), nil
}

// Send sends an opaque message (tag and a copy of data) to a process or a meta-process
// that takes messages (a forwarder). The receiver sees as From the process whose callback
// is running on this goroutine, or 0. Messages from one goroutine arrive in order (as long
// as it does not migrate between threads mid-sequence: from callbacks, always).
func (n *Node) Send(to ID, tag uint64, data []byte) error {
	ptr, locked, err := n.acquire()
	if err != nil {
		return err
	}
	defer n.release(locked)
	p, l := bytesArg(data)
	return check(C.actnet_message_send(ptr, C.uint64_t(to), C.uint64_t(tag), p, l))
}

// SendName is Send to the process registered under name.
func (n *Node) SendName(name string, tag uint64, data []byte) error {
	ptr, locked, err := n.acquire()
	if err != nil {
		return err
	}
	defer n.release(locked)
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	p, l := bytesArg(data)
	return check(C.actnet_message_send_name(ptr, cname, C.uint64_t(tag), p, l))
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
	ptr, locked, err := n.acquire()
	if err != nil {
		return nil, err
	}
	defer n.release(locked)
	p, l := bytesArg(data)
	var reply *C.actnet_buf
	if err := check(C.actnet_process_call(ptr, C.uint64_t(to), C.uint64_t(tag), p, l, ms, &reply)); err != nil {
		return nil, err
	}
	defer C.actnet_buf_free(reply)
	return goBytes(C.actnet_buf_data(reply), C.actnet_buf_len(reply)), nil
}

// Reply answers a CallRequest (a copy of data). Any goroutine, while the caller waits;
// ErrNotFound once answered or given up.
func (n *Node) Reply(ref CallRef, data []byte) error {
	ptr, locked, err := n.acquire()
	if err != nil {
		return err
	}
	defer n.release(locked)
	p, l := bytesArg(data)
	return check(C.actnet_process_reply(ptr, C.uint64_t(ref), p, l))
}

// call1 runs one C call taking the node.
func (n *Node) call1(f func(*C.actnet_node) C.actnet_status) error {
	ptr, locked, err := n.acquire()
	if err != nil {
		return err
	}
	defer n.release(locked)
	return check(f(ptr))
}

// StopProcess stops a process with ExitShutdown after the messages already in its mailbox
// (on itself, from its callback: ExitNormal when the callback returns; see Context.Stop).
func (n *Node) StopProcess(pid PID) error {
	return n.call1(func(p *C.actnet_node) C.actnet_status { return C.actnet_process_stop(p, C.uint64_t(pid)) })
}

// Kill ends a process with ExitKilled as soon as its current callback returns, dropping
// its queued messages.
func (n *Node) Kill(pid PID) error {
	return n.call1(func(p *C.actnet_node) C.actnet_status { return C.actnet_process_kill(p, C.uint64_t(pid)) })
}

// TrapExits sets whether a process receives *Exit from linked processes (true) or ends
// with them when they end abnormally (false, the default).
func (n *Node) TrapExits(pid PID, trap bool) error {
	return n.call1(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_trap_exits(p, C.uint64_t(pid), C.bool(trap))
	})
}

// Link links two processes: when one ends abnormally, the other ends with the same reason,
// or receives *Exit if it traps exits.
func (n *Node) Link(a, b PID) error {
	return n.call1(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_link(p, C.uint64_t(a), C.uint64_t(b))
	})
}

// Unlink removes a link.
func (n *Node) Unlink(a, b PID) error {
	return n.call1(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_unlink(p, C.uint64_t(a), C.uint64_t(b))
	})
}

// Monitor makes watcher receive one *Down when target (a process or meta-process) ends.
// ErrNotFound if either is gone already (no Down will come).
func (n *Node) Monitor(watcher PID, target ID) (MonitorRef, error) {
	var ref C.uint64_t
	err := n.call1(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_monitor(p, C.uint64_t(watcher), C.uint64_t(target), &ref)
	})
	return MonitorRef(ref), err
}

// Demonitor removes a monitor; no Down will come for it.
func (n *Node) Demonitor(watcher PID, ref MonitorRef) error {
	return n.call1(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_process_demonitor(p, C.uint64_t(watcher), C.uint64_t(ref))
	})
}

// Lookup finds the process registered under name.
func (n *Node) Lookup(name string) (PID, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var pid C.uint64_t
	err := n.call1(func(p *C.actnet_node) C.actnet_status { return C.actnet_name_lookup(p, cname, &pid) })
	return PID(pid), err
}

// Register registers name for a live process that has none yet.
func (n *Node) Register(name string, pid PID) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return n.call1(func(p *C.actnet_node) C.actnet_status { return C.actnet_name_register(p, cname, C.uint64_t(pid)) })
}

// Unregister frees a registered name; the process keeps running.
func (n *Node) Unregister(name string) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return n.call1(func(p *C.actnet_node) C.actnet_status { return C.actnet_name_unregister(p, cname) })
}

// Inspect describes a process (kind, pid, name, state, mailbox, messages in/out, ...) or a
// meta-process (kind, alias, owner, and what it reports: a server's listener and
// connections, a connection's addresses, bytes in/out, queued write bytes, TLS, pool).
// It never waits for the target.
func (n *Node) Inspect(id ID) (map[string]string, error) {
	var info *C.actnet_info
	if err := n.call1(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_inspect(p, C.uint64_t(id), &info)
	}); err != nil {
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
// alias is passed on (same tag and bytes, From = the alias) to the process registered as
// targetName (looked up at each message), or to the owner for "". It ends with its owner.
func (n *Node) SpawnForwarder(owner PID, targetName string) (Alias, error) {
	var cname *C.char
	if targetName != "" {
		cname = C.CString(targetName)
		defer C.free(unsafe.Pointer(cname))
	}
	var alias C.uint64_t
	err := n.call1(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_forwarder_spawn(p, C.uint64_t(owner), cname, &alias)
	})
	return Alias(alias), err
}

// Terminate ends a meta-process gracefully: a connection flushes what was queued, then
// closes (Disconnect with DisconnectClosed); a server closes its listener and connections.
// It returns at once; monitors get Down at the end.
func (n *Node) Terminate(alias Alias) error {
	return n.call1(func(p *C.actnet_node) C.actnet_status { return C.actnet_meta_terminate(p, C.uint64_t(alias)) })
}

// Abort ends a meta-process at once: a connection drops its queued writes and resets the
// socket (Disconnect with DisconnectAborted).
func (n *Node) Abort(alias Alias) error {
	return n.call1(func(p *C.actnet_node) C.actnet_status { return C.actnet_meta_abort(p, C.uint64_t(alias)) })
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
