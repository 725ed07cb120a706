package actnet

// #include <actnet.h>
import "C"

import (
	"math"
	"time"
	"unsafe"
)

// Framing cuts incoming bytes into frames: each Data then carries exactly one frame (header
// included). Make one with FixedFraming or HeaderFraming. Everything is checked when the
// server or client is created (ErrInvalidArgument).
type Framing struct {
	// FixedLength > 0: every frame is exactly this many bytes (the header fields are
	// ignored).
	FixedLength int
	// HeaderSize bytes of header hold a big-endian length of LengthSize (1, 2 or 4) bytes
	// at LengthPosition, counting the payload only, or the header too with
	// LengthIncludesHeader.
	HeaderSize           int
	LengthPosition       int
	LengthSize           int
	LengthIncludesHeader bool
	// MaxLength > 0: a frame (header included) declared longer ends the connection with
	// DisconnectMaxLengthExceeded, before anything is allocated for it. 0: no limit.
	MaxLength int
}

// FixedFraming is framing into frames of n bytes.
func FixedFraming(n int) *Framing { return &Framing{FixedLength: n} }

// HeaderFraming is framing by a length header: headerSize bytes, with a big-endian length
// of lengthSize (1, 2 or 4) bytes at position, counting the header too if includesHeader.
func HeaderFraming(headerSize, position, lengthSize int, includesHeader bool) *Framing {
	return &Framing{HeaderSize: headerSize, LengthPosition: position, LengthSize: lengthSize,
		LengthIncludesHeader: includesHeader}
}

// MailboxPolicy is what a connection does when its process's mailbox is full.
type MailboxPolicy uint32

const (
	// Pause stops reading the socket until the mailbox has room: TCP pushes back on the
	// peer and nothing is lost (the default).
	Pause MailboxPolicy = C.ACTNET_MAILBOX_POLICY_PAUSE
	// TerminateConnection ends the connection with DisconnectMailboxFull.
	TerminateConnection MailboxPolicy = C.ACTNET_MAILBOX_POLICY_TERMINATE
)

// ConnOptions are the options of every connection of a server, or of a client connection.
// Zero values mean the library's defaults.
type ConnOptions struct {
	// ReadBufferSize is the most bytes one read takes (in raw mode the most one Data
	// carries); 0 means 65535.
	ReadBufferSize int
	// ReadBufferPool turns on the zero-copy read path: each Data holds a buffer from this
	// pool (Data.TakeBuffer). The server or connection keeps its own reference.
	ReadBufferPool *Pool
	// Framing of incoming bytes; nil: each Data carries what one read returned.
	Framing *Framing
	// KeepaliveBytes are written after KeepalivePeriod without any write (both or neither).
	KeepaliveBytes  []byte
	KeepalivePeriod time.Duration
	// OSKeepalive is the OS-level TCP keepalive: 0 off, > 0 idle time and probe interval
	// (whole seconds, rounded up), < 0 the OS's defaults.
	OSKeepalive time.Duration
	// DisableNoDelay turns off TCP_NODELAY (on by default).
	DisableNoDelay bool
	// MailboxPolicy when the process's mailbox is full: Pause (default) or
	// TerminateConnection.
	MailboxPolicy MailboxPolicy
	// WriteQueueLimit is the most bytes queued for writing; past it Write returns
	// ErrWouldBlock and Writable follows. 0 means 4 MiB.
	WriteQueueLimit int
	// CloseTimeout is how long a graceful close waits for queued writes (then
	// DisconnectWriteTimeout); 0 means 5 s.
	CloseTimeout time.Duration
}

// ClientAuth is whether a TLS server asks clients for a certificate.
type ClientAuth uint32

const (
	// NoClientCert: never (the default).
	NoClientCert ClientAuth = C.ACTNET_CLIENT_AUTH_NONE
	// VerifyClientCertIfGiven: verify a certificate if the client presents one.
	VerifyClientCertIfGiven ClientAuth = C.ACTNET_CLIENT_AUTH_OPTIONAL
	// RequireClientCert: refuse clients without a valid certificate (mutual TLS).
	RequireClientCert ClientAuth = C.ACTNET_CLIENT_AUTH_REQUIRED
)

// ServerTLS turns on TLS for every accepted connection.
type ServerTLS struct {
	// Certs (required) holds the certificates, chosen per handshake by SNI, and the CA
	// bundle for client certificates. The server keeps a reference and sees later changes.
	Certs *CertManager
	// ClientAuth: whether to ask clients for a certificate (needs a CA bundle).
	ClientAuth ClientAuth
	// HandshakeTimeout drops clients that have not completed the handshake; 0 means 10 s.
	HandshakeTimeout time.Duration
	// ALPN protocols offered, most preferred first.
	ALPN []string
}

// TCPServerOptions configures SpawnTCPServer.
type TCPServerOptions struct {
	// Host is the address or host name to listen on; "" means every IPv4 interface.
	Host string
	// Port to listen on; 0 lets the OS pick (SpawnTCPServer returns it).
	Port int
	// Backlog of listen(); 0 means 1024.
	Backlog int
	// ProcessPool: registered names of the processes connections are routed to,
	// round-robin (connection k to name k mod N, skipping names not registered or dead);
	// empty routes everything to the owner.
	ProcessPool []string
	// DisableReuseAddress turns off SO_REUSEADDR (on by default); ReusePort sets
	// SO_REUSEPORT.
	DisableReuseAddress bool
	ReusePort           bool
	// Conn are the options of every accepted connection.
	Conn ConnOptions
	// TLS, or nil for plain TCP.
	TLS *ServerTLS
}

// ClientTLS turns on TLS for a client connection.
type ClientTLS struct {
	// Certs holds the CA bundle that verifies the server (nil: the system's roots) and the
	// certificate presented when the server asks for one.
	Certs *CertManager
	// ServerName is sent as SNI and checked against the certificate; "" means Host.
	ServerName string
	// InsecureSkipVerify accepts any server certificate. For tests only: logged as a
	// warning at every connect.
	InsecureSkipVerify bool
	// HandshakeTimeout; 0 means 10 s.
	HandshakeTimeout time.Duration
	// ALPN protocols offered.
	ALPN []string
}

// TCPClientOptions configures ConnectTCP.
type TCPClientOptions struct {
	// Host (required): address or host name.
	Host string
	// Port (required).
	Port int
	// ConnectTimeout; 0 means 5 s.
	ConnectTimeout time.Duration
	// Process is the registered name of the process that receives the connection's
	// messages; "" means the owner.
	Process string
	Conn    ConnOptions
	// TLS, or nil for plain TCP.
	TLS *ClientTLS
}

// int32Opt converts a non-negative option to int32.
func int32Opt(v int) (C.int32_t, error) {
	if v < 0 || v > math.MaxInt32 {
		return 0, ErrInvalidArgument
	}
	return C.int32_t(v), nil
}

func uint32Opt(v int) (C.uint32_t, error) {
	if v < 0 || int64(v) > math.MaxUint32 {
		return 0, ErrInvalidArgument
	}
	return C.uint32_t(v), nil
}

// msOpt converts a duration option; 0 keeps the default already in *dst.
func msOpt(d time.Duration, dst *C.uint32_t) error {
	if d == 0 {
		return nil
	}
	ms, err := millis(d)
	if err == nil {
		*dst = ms
	}
	return err
}

// cOptions makes the C connection options, in C memory from mem (the server and client
// options that point to them are passed to C, so they must not point to Go memory), with
// the pool locked by h until the C call is done.
func (o *ConnOptions) cOptions(mem *cmem, h *holds) (c *C.actnet_tcp_connection_options, err error) {
	c = (*C.actnet_tcp_connection_options)(mem.alloc(unsafe.Sizeof(*c)))
	if err := check(C.actnet_tcp_connection_options_init(c)); err != nil {
		return nil, err
	}
	if err := o.fill(c, mem); err != nil {
		return nil, err
	}
	if c.read_buffer_pool, err = h.pool(o.ReadBufferPool); err != nil {
		return nil, err
	}
	return c, nil
}

// fill writes the options into c (prepared by the library's _init), with C memory from mem.
func (o *ConnOptions) fill(c *C.actnet_tcp_connection_options, mem *cmem) (err error) {
	if o.ReadBufferSize != 0 {
		if c.read_buffer_size, err = uint32Opt(o.ReadBufferSize); err != nil {
			return err
		}
	}
	if f := o.Framing; f != nil {
		ch := (*C.actnet_chunk_options)(mem.alloc(unsafe.Sizeof(C.actnet_chunk_options{})))
		if err := check(C.actnet_chunk_options_init(ch)); err != nil {
			return err
		}
		c.read_chunk = ch
		ch.enable = true
		for _, v := range []struct {
			dst *C.int32_t
			src int
		}{{&ch.fixed_length, f.FixedLength}, {&ch.header_size, f.HeaderSize},
			{&ch.header_length_position, f.LengthPosition}, {&ch.header_length_size, f.LengthSize},
			{&ch.max_length, f.MaxLength}} {
			if *v.dst, err = int32Opt(v.src); err != nil {
				return err
			}
		}
		ch.header_length_includes_header = C.bool(f.LengthIncludesHeader)
	}
	c.keepalive_bytes = mem.bytes(o.KeepaliveBytes)
	c.keepalive_bytes_len = C.size_t(len(o.KeepaliveBytes))
	if err := msOpt(o.KeepalivePeriod, &c.keepalive_period_ms); err != nil {
		return err
	}
	switch {
	case o.OSKeepalive < 0:
		c.tcp_keepalive_s = -1
	case o.OSKeepalive > 0:
		s := (o.OSKeepalive + time.Second - 1) / time.Second
		if s > math.MaxInt32 {
			return ErrInvalidArgument
		}
		c.tcp_keepalive_s = C.int32_t(s)
	}
	c.nodelay = C.bool(!o.DisableNoDelay)
	c.mailbox_policy = C.uint32_t(o.MailboxPolicy)
	if o.WriteQueueLimit < 0 {
		return ErrInvalidArgument
	}
	if o.WriteQueueLimit > 0 {
		c.write_queue_limit = C.size_t(o.WriteQueueLimit)
	}
	return msOpt(o.CloseTimeout, &c.close_timeout_ms)
}

// holds locks the pool and certificate manager an options struct refers to for the
// duration of a call (so that a concurrent Close cannot free them in between).
type holds []func()

func (h *holds) pool(p *Pool) (*C.actnet_pool, error) {
	if p == nil {
		return nil, nil
	}
	p.mu.RLock()
	*h = append(*h, p.mu.RUnlock)
	if p.ptr == nil {
		return nil, ErrClosed
	}
	return p.ptr, nil
}

func (h *holds) certs(m *CertManager) (*C.actnet_certmanager, error) {
	if m == nil {
		return nil, nil
	}
	m.mu.RLock()
	*h = append(*h, m.mu.RUnlock)
	if m.ptr == nil {
		return nil, ErrClosed
	}
	return m.ptr, nil
}

func (h *holds) release() {
	for _, f := range *h {
		f()
	}
}

// SpawnTCPServer binds, listens and starts a TCP server meta-process owned by process owner
// (it ends with its owner, closing its listener and connections). Binding errors come back
// here (ErrAddressInUse, ErrDNSFailure, ...), and no listener is left behind on error. Each
// accepted connection delivers *Connect, *Data... and one *Disconnect to the owner or a
// process of opts.ProcessPool. It returns the server's alias and the bound port.
func (n *Node) SpawnTCPServer(owner PID, opts *TCPServerOptions) (Alias, int, error) {
	if opts == nil {
		opts = &TCPServerOptions{}
	}
	var mem cmem
	defer mem.free()
	var h holds
	defer h.release()
	var o C.actnet_tcp_server_options
	if err := check(C.actnet_tcp_server_options_init(&o)); err != nil {
		return 0, 0, err
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return 0, 0, ErrInvalidArgument
	}
	o.port = C.uint16_t(opts.Port)
	o.host = mem.optStr(opts.Host)
	if opts.Backlog != 0 {
		b, err := int32Opt(opts.Backlog)
		if err != nil {
			return 0, 0, err
		}
		o.backlog = b
	}
	o.process_pool = mem.strs(opts.ProcessPool)
	o.process_pool_len = C.size_t(len(opts.ProcessPool))
	o.reuse_address = C.bool(!opts.DisableReuseAddress)
	o.reuse_port = C.bool(opts.ReusePort)
	conn, err := opts.Conn.cOptions(&mem, &h)
	if err != nil {
		return 0, 0, err
	}
	o.connection = conn
	if t := opts.TLS; t != nil {
		if t.Certs == nil {
			return 0, 0, ErrInvalidArgument
		}
		certs, err := h.certs(t.Certs)
		if err != nil {
			return 0, 0, err
		}
		o.tls_certmanager = certs
		o.tls_client_auth = C.uint32_t(t.ClientAuth)
		if err := msOpt(t.HandshakeTimeout, &o.tls_handshake_timeout_ms); err != nil {
			return 0, 0, err
		}
		o.tls_alpn = mem.strs(t.ALPN)
		o.tls_alpn_len = C.size_t(len(t.ALPN))
	}
	var alias C.actnet_alias
	var port C.uint16_t
	err = n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_tcp_server_spawn(p, owner.c(), &o, &alias, &port)
	})
	if err != nil {
		return 0, 0, err
	}
	return aliasOf(alias), int(port), nil
}

// ConnectTCP connects (and completes the TLS handshake, with opts.TLS) before it returns,
// so ErrConnectionRefused, ErrHostUnreachable, ErrTimeout, ErrDNSFailure,
// ErrCertificateInvalid, ErrTLS come back here; then starts a connection meta-process owned
// by process owner, delivering *Connect, *Data... and one *Disconnect to opts.Process (or the
// owner). The returned alias may be written to at once. Safe from a handler (the runtime
// serves other processes while this one waits).
func (n *Node) ConnectTCP(owner PID, opts *TCPClientOptions) (Alias, error) {
	if opts == nil || opts.Host == "" || opts.Port <= 0 || opts.Port > 65535 {
		return 0, ErrInvalidArgument
	}
	var mem cmem
	defer mem.free()
	var h holds
	defer h.release()
	var o C.actnet_tcp_client_options
	if err := check(C.actnet_tcp_client_options_init(&o)); err != nil {
		return 0, err
	}
	o.port = C.uint16_t(opts.Port)
	o.host = mem.str(opts.Host)
	if err := msOpt(opts.ConnectTimeout, &o.connect_timeout_ms); err != nil {
		return 0, err
	}
	o.process = mem.optStr(opts.Process)
	conn, err := opts.Conn.cOptions(&mem, &h)
	if err != nil {
		return 0, err
	}
	o.connection = conn
	if t := opts.TLS; t != nil {
		o.tls = true
		certs, err := h.certs(t.Certs)
		if err != nil {
			return 0, err
		}
		o.tls_certmanager = certs
		o.tls_server_name = mem.optStr(t.ServerName)
		o.tls_insecure_skip_verify = C.bool(t.InsecureSkipVerify)
		if err := msOpt(t.HandshakeTimeout, &o.tls_handshake_timeout_ms); err != nil {
			return 0, err
		}
		o.tls_alpn = mem.strs(t.ALPN)
		o.tls_alpn_len = C.size_t(len(t.ALPN))
	}
	var alias C.actnet_alias
	err = n.call(func(p *C.actnet_node) C.actnet_status {
		return C.actnet_tcp_connect(p, owner.c(), &o, &alias)
	})
	if err != nil {
		return 0, err
	}
	return aliasOf(alias), nil
}

// Write writes data to a connection. It is copied before Write returns (only if it cannot
// go to the socket at once). Writes made one after another go out in order. Errors:
// ErrWouldBlock (the write queue is at its limit: nothing was queued, and a *Writable
// follows when it drains below half), ErrClosed (closing), ErrNotFound (gone),
// ErrUnsupported (not a connection).
func (n *Node) Write(conn Alias, data []byte) error {
	d, l := bytesArg(data)
	return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_tcp_write(p, conn.c(), d, l) })
}

// WriteBuffer writes the content of a pool buffer (Data.TakeBuffer, Pool.Get) without
// copying it. On success the buffer belongs to the runtime, which returns it to its pool
// once written: do not use or release it again. On error the caller still holds it (and
// must release it).
func (n *Node) WriteBuffer(conn Alias, buf *Buffer) error {
	if buf == nil {
		return ErrNullArgument
	}
	return buf.take(func(b *C.actnet_buf) error {
		return n.call(func(p *C.actnet_node) C.actnet_status { return C.actnet_tcp_write_buf(p, conn.c(), b) })
	})
}
