// Command echo is a TCP echo server built on the Go binding of actnet: the Go twin of
// c-examples/echo_server.c, with the same command line.
//
//	echo [--host H] [--port P] [--workers N] [--greet] [--report-lengths]
//	     [--fixed N | --header SIZE,POS,LENSIZE[,incl]] [--max-length N]
//	     [--read-buffer N] [--buffer-pool]
//	     [--keepalive-bytes HEX --keepalive-period-ms MS] [--tcp-keepalive-s S]
//	     [--mailbox-policy pause|terminate]
//	     [--tls-cert PEM --tls-key PEM [--tls-sni NAME=CERT,KEY]... [--tls-client-ca PEM]]
//	     [--threads N]
//
// The first line on stdout is "listening on ADDR:PORT". Every DATA is echoed unchanged to
// the connection it came from (or, with --report-lengths, answered with its length in
// decimal and "\n"). The process that owns the server is registered as "echo"; with
// --workers N, N workers registered as tcp_worker_0..N-1 run under a supervisor and
// connections are routed to them round-robin. --greet makes the handling process write
// "welcome NAME\n" on CONNECT. --buffer-pool reads into pool buffers and echoes them without
// a copy. With --tls-cert and --tls-key the server speaks TLS (more certificates by SNI with
// --tls-sni; client certificates required with --tls-client-ca). SIGINT or SIGTERM stops
// the node cleanly (exit 0). Bad arguments exit 2 with a usage message.
package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"actnet.dev/actnet"
)

const usageText = `usage: echo [--host H] [--port P] [--workers N] [--greet] [--report-lengths]
            [--fixed N | --header SIZE,POS,LENSIZE[,incl]] [--max-length N]
            [--read-buffer N] [--buffer-pool]
            [--keepalive-bytes HEX --keepalive-period-ms MS] [--tcp-keepalive-s S]
            [--mailbox-policy pause|terminate]
            [--tls-cert PEM --tls-key PEM [--tls-sni NAME=CERT,KEY]... [--tls-client-ca PEM]]
            [--threads N]
`

func usage() {
	fmt.Fprint(os.Stderr, usageText)
	os.Exit(2)
}

func badArg(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "echo: "+format+"\n", args...)
	usage()
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "echo: %s: %v\n", what, err)
	os.Exit(1)
}

// config is the parsed command line.
type config struct {
	host          string
	port          int
	workers       int
	threads       int
	greet         bool
	reportLengths bool
	bufferPool    bool
	conn          actnet.ConnOptions
	tlsCert       string
	tlsKey        string
	tlsClientCA   string
	tlsSNI        []string // NAME=CERT,KEY
}

// ranged is an int flag checked against [min, max] (a bad value is a usage error).
type ranged struct {
	value    *int
	min, max int
	set      bool
}

func (r *ranged) String() string {
	if r.value == nil {
		return "0"
	}
	return strconv.Itoa(*r.value)
}

func (r *ranged) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil || v < r.min || v > r.max {
		return fmt.Errorf("bad number %q", s)
	}
	*r.value = v
	r.set = true
	return nil
}

func intFlag(fs *flag.FlagSet, name string, value *int, min, max int, help string) *ranged {
	r := &ranged{value: value, min: min, max: max}
	fs.Var(r, name, help)
	return r
}

func parse(args []string) *config {
	c := &config{host: "127.0.0.1"}
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {} // the error is printed by fs, then usage() below
	var fixed, maxLength, readBuffer, keepalivePeriodMs, tcpKeepaliveS int
	var header, keepaliveHex, mailboxPolicy string
	fs.StringVar(&c.host, "host", c.host, "address to listen on")
	intFlag(fs, "port", &c.port, 0, 65535, "port (0: the OS picks)")
	intFlag(fs, "workers", &c.workers, 0, 1000, "workers tcp_worker_0..N-1 under a supervisor")
	intFlag(fs, "threads", &c.threads, 0, 1024, "runtime threads (0: one per core)")
	fs.BoolVar(&c.greet, "greet", false, `write "welcome NAME\n" on connect`)
	fs.BoolVar(&c.reportLengths, "report-lengths", false, "answer each DATA's length instead of echoing")
	fs.BoolVar(&c.bufferPool, "buffer-pool", false, "read into pool buffers, echo them without copying")
	fixedFlag := intFlag(fs, "fixed", &fixed, 1, 1<<31-1, "fixed-length frames of N bytes")
	fs.StringVar(&header, "header", "", "header framing SIZE,POS,LENSIZE[,incl]")
	maxFlag := intFlag(fs, "max-length", &maxLength, 0, 1<<31-1, "longest frame, header included")
	readFlag := intFlag(fs, "read-buffer", &readBuffer, 1, 1<<31-1, "most bytes per read")
	fs.StringVar(&keepaliveHex, "keepalive-bytes", "", "keepalive bytes, in hex")
	intFlag(fs, "keepalive-period-ms", &keepalivePeriodMs, 0, 1<<31-1, "keepalive period")
	intFlag(fs, "tcp-keepalive-s", &tcpKeepaliveS, -1, 1<<31-1, "OS TCP keepalive (-1: OS default)")
	fs.StringVar(&mailboxPolicy, "mailbox-policy", "pause", "pause|terminate")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "certificate chain (PEM)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "private key (PEM)")
	fs.StringVar(&c.tlsClientCA, "tls-client-ca", "", "require client certificates from this CA (PEM)")
	fs.Func("tls-sni", "NAME=CERT,KEY: another certificate, chosen by SNI (repeatable)", func(s string) error {
		c.tlsSNI = append(c.tlsSNI, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		usage()
	}
	if fs.NArg() > 0 {
		badArg("unexpected argument %q", fs.Arg(0))
	}

	var framing *actnet.Framing
	if fixedFlag.set {
		framing = actnet.FixedFraming(fixed)
	}
	if header != "" {
		parts := strings.Split(header, ",")
		if len(parts) < 3 || len(parts) > 4 || (len(parts) == 4 && parts[3] != "incl") {
			badArg("--header wants SIZE,POS,LENSIZE[,incl], got %q", header)
		}
		var v [3]int
		for i := range v {
			n, err := strconv.Atoi(parts[i])
			if err != nil || n < 0 {
				badArg("bad number %q in --header", parts[i])
			}
			v[i] = n
		}
		framing = actnet.HeaderFraming(v[0], v[1], v[2], len(parts) == 4)
	}
	if maxFlag.set {
		if framing == nil {
			framing = &actnet.Framing{}
		}
		framing.MaxLength = maxLength
	}
	c.conn.Framing = framing
	if readFlag.set {
		c.conn.ReadBufferSize = readBuffer
	}
	if keepaliveHex != "" {
		b, err := hex.DecodeString(keepaliveHex)
		if err != nil || len(b) > 256 {
			badArg("bad --keepalive-bytes %q", keepaliveHex)
		}
		c.conn.KeepaliveBytes = b
	}
	c.conn.KeepalivePeriod = time.Duration(keepalivePeriodMs) * time.Millisecond
	switch {
	case tcpKeepaliveS < 0:
		c.conn.OSKeepalive = -1
	case tcpKeepaliveS > 0:
		c.conn.OSKeepalive = time.Duration(tcpKeepaliveS) * time.Second
	}
	switch mailboxPolicy {
	case "pause":
		c.conn.MailboxPolicy = actnet.Pause
	case "terminate":
		c.conn.MailboxPolicy = actnet.TerminateConnection
	default:
		badArg("bad --mailbox-policy %q", mailboxPolicy)
	}
	if c.workers > 64 {
		c.workers = 64
	}
	return c
}

// handler is the actor of the owner ("echo") and of every worker: its name (Init's args)
// is what --greet says.
type handler struct {
	cfg  *config
	name string
}

func (h *handler) Init(ctx *actnet.Context, args []byte) error {
	h.name = string(args)
	return nil
}

func (h *handler) Terminate(*actnet.Context, actnet.ExitReason) {}

func (h *handler) HandleMessage(ctx *actnet.Context, msg actnet.Message) error {
	node := ctx.Node()
	switch m := msg.(type) {
	case *actnet.Connect:
		if h.cfg.greet {
			reply(node, m.Conn, []byte("welcome "+h.name+"\n"))
		}
	case *actnet.Data:
		switch {
		case h.cfg.reportLengths:
			reply(node, m.Conn, []byte(strconv.Itoa(len(m.Bytes))+"\n"))
		default:
			if buf := m.TakeBuffer(); buf != nil {
				// Zero copy: the received pool buffer goes back out as the write.
				if err := node.WriteBuffer(m.Conn, buf); err != nil {
					_ = buf.Release()
					if errors.Is(err, actnet.ErrWouldBlock) {
						dropStalled(node, m.Conn)
					}
				}
				return nil
			}
			reply(node, m.Conn, m.Bytes)
		}
	}
	return nil
}

// reply writes to a connection; a peer that stopped reading until its write queue filled up
// is reset (what is queued could never be flushed).
func reply(node *actnet.Node, conn actnet.Alias, data []byte) {
	if errors.Is(node.Write(conn, data), actnet.ErrWouldBlock) {
		dropStalled(node, conn)
	}
}

func dropStalled(node *actnet.Node, conn actnet.Alias) {
	fmt.Fprintf(os.Stderr, "echo: connection %d is not reading; dropping it\n", conn)
	_ = node.Abort(conn)
}

// certManager builds the certificate manager of the --tls-* flags, or nil without TLS.
func certManager(c *config) *actnet.CertManager {
	if c.tlsCert == "" && c.tlsKey == "" && len(c.tlsSNI) == 0 && c.tlsClientCA == "" {
		return nil
	}
	if c.tlsCert == "" || c.tlsKey == "" {
		fmt.Fprintln(os.Stderr, "echo: --tls-cert and --tls-key go together")
		os.Exit(2)
	}
	m, err := actnet.NewCertManager()
	if err != nil {
		fail("certificate manager", err)
	}
	if err := m.SetCertFiles("", c.tlsCert, c.tlsKey); err != nil {
		fail(c.tlsCert, err)
	}
	for _, sni := range c.tlsSNI {
		name, files, ok1 := strings.Cut(sni, "=")
		cert, key, ok2 := strings.Cut(files, ",")
		if !ok1 || !ok2 || name == "" || cert == "" || key == "" {
			fmt.Fprintf(os.Stderr, "echo: --tls-sni wants NAME=CERT,KEY, got '%s'\n", sni)
			os.Exit(2)
		}
		if err := m.SetCertFiles(name, cert, key); err != nil {
			fail(sni, err)
		}
	}
	if c.tlsClientCA != "" {
		if err := m.SetCAFile(c.tlsClientCA); err != nil {
			fail(c.tlsClientCA, err)
		}
	}
	return m
}

func main() {
	cfg := parse(os.Args[1:])

	// Ask for the signals before the node starts: they may arrive on any thread, Go's
	// handler takes them.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)

	node, err := actnet.Start(&actnet.NodeOptions{WorkerThreads: cfg.threads})
	if err != nil {
		fail("node start", err)
	}
	factory := func() actnet.Actor { return &handler{cfg: cfg} }

	// Workers first, under a supervisor, so the pool names exist when connections arrive.
	var pool []string
	if cfg.workers > 0 {
		spec := &actnet.SupervisorSpec{}
		for i := 0; i < cfg.workers; i++ {
			name := fmt.Sprintf("tcp_worker_%d", i)
			pool = append(pool, name)
			spec.Children = append(spec.Children, actnet.ChildSpec{Name: name, Factory: factory, Args: []byte(name)})
		}
		if _, err := node.SpawnSupervisor(spec); err != nil {
			fail("supervisor", err)
		}
	}
	owner, err := node.SpawnRegister("echo", factory, &actnet.SpawnOptions{Args: []byte("echo")})
	if err != nil {
		fail("spawn echo", err)
	}

	opts := &actnet.TCPServerOptions{Host: cfg.host, Port: cfg.port, ProcessPool: pool, Conn: cfg.conn}
	if cfg.bufferPool {
		size := cfg.conn.ReadBufferSize
		if size == 0 {
			size = 65535 // the library's default read size
		}
		p, err := actnet.NewPool(size, 1024)
		if err != nil {
			fail("buffer pool", err)
		}
		defer p.Close() // the server keeps its own reference
		opts.Conn.ReadBufferPool = p
	}
	if m := certManager(cfg); m != nil {
		defer m.Close()
		opts.TLS = &actnet.ServerTLS{Certs: m}
		if cfg.tlsClientCA != "" {
			opts.TLS.ClientAuth = actnet.RequireClientCert
		}
	}
	_, port, err := node.SpawnTCPServer(owner, opts)
	if err != nil {
		fail("listen", err)
	}
	fmt.Printf("listening on %s:%d\n", cfg.host, port) // os.Stdout is not buffered

	<-stop
	if err := node.Stop(); err != nil {
		fail("node stop", err)
	}
}
