package actnet

// #include <actnet.h>
import "C"

import (
	"net"
	"net/netip"
	"sync"
	"unsafe"
)

// Message is what HandleMessage receives: one of *UserMessage, *CallRequest, *Connect,
// *Data, *Disconnect, *Writable, *Down, *Exit. Use a type switch.
type Message interface {
	isMessage()
}

// UserMessage is an opaque message sent with Node.Send or Node.SendName.
type UserMessage struct {
	// From is the sending process, 0 when sent from outside any process (a goroutine) or
	// through a forwarder.
	From PID
	// Forwarder is the forwarder the message came through (Node.SendMeta), else 0.
	Forwarder Alias
	Tag       uint64
	// Data is a copy the handler may keep.
	Data []byte
}

// CallRequest is a request sent with Node.Call: answer it with Reply (now or later, from
// any goroutine, while the caller still waits).
type CallRequest struct {
	// From is the calling process, 0 when called from outside any process.
	From PID
	Tag  uint64
	// Data is a copy the handler may keep.
	Data []byte
	Ref  CallRef
	node *Node
}

// Reply answers the request (Node.Reply with its Ref).
func (r *CallRequest) Reply(data []byte) error { return r.node.Reply(r.Ref, data) }

// TLSInfo describes the TLS session of a connection.
type TLSInfo struct {
	Version    string // "TLSv1.3"
	Cipher     string
	ALPN       string // the negotiated protocol, "" for none
	ServerName string // SNI asked by the client (servers only)
	// PeerSubject is the subject of the peer's certificate, "" if it presented none.
	PeerSubject string
}

// Connect says a connection is up (after the TLS handshake, if any). Every later message
// of the connection goes to the same process, ending with exactly one Disconnect.
type Connect struct {
	Conn       Alias
	LocalAddr  net.Addr // a *net.TCPAddr
	RemoteAddr net.Addr // a *net.TCPAddr
	TLS        *TLSInfo // nil without TLS
}

// Data carries bytes from a connection: one frame when framing is on.
//
// Without a buffer pool, Bytes is a copy the handler may keep. With a buffer pool (the
// opt-in zero-copy path, ConnOptions.ReadBufferPool), Bytes is a view of the pool buffer,
// valid only until HandleMessage returns, unless the handler takes the buffer with
// TakeBuffer: then until it releases it (Buffer.Release) or hands it to Node.WriteBuffer.
// A buffer not taken goes back to its pool when HandleMessage returns.
type Data struct {
	Conn  Alias
	Bytes []byte

	mu  sync.Mutex
	buf *C.actnet_buf // owned by the binding until taken; nil once taken or given back
}

// TakeBuffer takes the pool buffer holding Bytes (nil without a pool, after a first
// TakeBuffer, or once HandleMessage has returned). The caller owns it and must Release it
// or write it with Node.WriteBuffer, from any goroutine, now or later.
func (d *Data) TakeBuffer() *Buffer {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.buf == nil {
		return nil
	}
	b := &Buffer{ptr: d.buf}
	d.buf = nil
	return b
}

// releaseUntaken gives an untaken buffer back to its pool when the handler returns.
func (d *Data) releaseUntaken() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.buf != nil {
		C.actnet_buf_free(d.buf)
		d.buf = nil
		d.Bytes = nil
	}
}

// Disconnect says the connection ended; always its last message. Writes to it fail from
// now on.
type Disconnect struct {
	Conn   Alias
	Reason DisconnectReason
}

// Writable says the connection's write queue drained below half its limit after a write
// returned ErrWouldBlock.
type Writable struct {
	Conn Alias
}

// Down says a monitored process (Node.Monitor) or meta-process (Node.MonitorMeta) ended:
// exactly one of PID and Alias is set.
type Down struct {
	PID    PID
	Alias  Alias
	Ref    MonitorRef
	Reason ExitReason
}

// Exit says a linked process ended; only delivered while trapping exits (Node.TrapExits or
// SpawnOptions.TrapExits), else an abnormal end of a linked process ends this one too.
type Exit struct {
	From   PID
	Reason ExitReason
}

func (*UserMessage) isMessage() {}
func (*CallRequest) isMessage() {}
func (*Connect) isMessage()     {}
func (*Data) isMessage()        {}
func (*Disconnect) isMessage()  {}
func (*Writable) isMessage()    {}
func (*Down) isMessage()        {}
func (*Exit) isMessage()        {}

func pidOf(p C.actnet_pid) PID       { return PID(p.id) }
func aliasOf(a C.actnet_alias) Alias { return Alias(a.id) }

// goBytes copies C bytes into Go memory (nil for none).
func goBytes(p *C.uint8_t, n C.size_t) []byte {
	if n == 0 || p == nil {
		return nil
	}
	out := make([]byte, int(n))
	copy(out, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
	return out
}

func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// tcpAddr parses "ip:port" / "[ip6]:port" into a *net.TCPAddr (an unparsable string stays
// a string address, which does not happen with this library).
func tcpAddr(p *C.char) net.Addr {
	s := goString(p)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return stringAddr(s)
}

type stringAddr string

func (stringAddr) Network() string  { return "tcp" }
func (a stringAddr) String() string { return string(a) }

// message converts a message for the Go handler (nil for a kind this binding does not
// know). For DATA with a pool buffer, the returned *Data owns the buffer (releaseUntaken).
func (n *Node) message(m *C.actnet_message) Message {
	switch m.kind {
	case C.ACTNET_MSG_USER:
		return &UserMessage{From: pidOf(m.from), Forwarder: aliasOf(m.alias), Tag: uint64(m.tag),
			Data: goBytes(m.data, m.len)}
	case C.ACTNET_MSG_CALL:
		return &CallRequest{From: pidOf(m.from), Tag: uint64(m.tag), Data: goBytes(m.data, m.len),
			Ref: CallRef(m.reference), node: n}
	case C.ACTNET_MSG_CONNECT:
		c := &Connect{Conn: aliasOf(m.alias), LocalAddr: tcpAddr(m.local_addr), RemoteAddr: tcpAddr(m.remote_addr)}
		if m.tls_version != nil {
			c.TLS = &TLSInfo{Version: goString(m.tls_version), Cipher: goString(m.tls_cipher),
				ALPN: goString(m.tls_alpn), ServerName: goString(m.tls_server_name),
				PeerSubject: goString(m.tls_peer_subject)}
		}
		return c
	case C.ACTNET_MSG_DATA:
		d := &Data{Conn: aliasOf(m.alias)}
		if m.buf != nil {
			d.buf = m.buf
			if m.len > 0 {
				d.Bytes = unsafe.Slice((*byte)(unsafe.Pointer(m.data)), int(m.len))
			}
		} else {
			d.Bytes = goBytes(m.data, m.len)
		}
		return d
	case C.ACTNET_MSG_DISCONNECT:
		return &Disconnect{Conn: aliasOf(m.alias), Reason: DisconnectReason(m.reason)}
	case C.ACTNET_MSG_WRITABLE:
		return &Writable{Conn: aliasOf(m.alias)}
	case C.ACTNET_MSG_DOWN:
		pid := pidOf(m.from)
		return &Down{PID: pid, Alias: aliasOf(m.alias), Ref: MonitorRef(m.reference),
			Reason: n.exitReason(pid, m.reason, m.reason_code)}
	case C.ACTNET_MSG_EXIT:
		pid := pidOf(m.from)
		return &Exit{From: pid, Reason: n.exitReason(pid, m.reason, m.reason_code)}
	}
	return nil // a kind this binding does not know (a newer library): not delivered
}

// exitReason is the reason of a process or meta-process that ended, with the Go error of a
// failed Go process (pid 0 for a meta-process: none).
func (n *Node) exitReason(pid PID, reason C.uint32_t, code C.int32_t) ExitReason {
	r := ExitReason{Kind: ExitKind(reason), Code: int32(code)}
	if pid != 0 && (r.Kind == ExitError || r.Kind == ExitInitFailed) {
		r.Err = n.failures.get(pid)
	}
	return r
}
