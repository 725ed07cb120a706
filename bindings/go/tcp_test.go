package actnet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// echoActor writes every Data back to its connection (taking the pool buffer when there is
// one), and reports connects and disconnects.
type echoActor struct {
	name   string
	events chan<- event
}

func (e *echoActor) Init(ctx *Context, args []byte) error {
	e.name = string(args)
	return nil
}

func (e *echoActor) HandleMessage(ctx *Context, msg Message) error {
	switch m := msg.(type) {
	case *Data:
		if buf := m.TakeBuffer(); buf != nil {
			if err := ctx.Node().WriteBuffer(m.Conn, buf); err != nil {
				_ = buf.Release()
				return err
			}
			return nil
		}
		return ctx.Node().Write(m.Conn, m.Bytes)
	case *Connect, *Disconnect:
		if e.events != nil {
			e.events <- event{ctx.Self(), msg}
		}
	}
	return nil
}

func (e *echoActor) Terminate(*Context, ExitReason) {}

func frame(payload []byte) []byte {
	out := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint32(out, uint32(len(payload)))
	copy(out[4:], payload)
	return out
}

// dial connects a Go client, with a deadline on everything it does.
func dial(t *testing.T, port int) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), wait)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_ = c.SetDeadline(time.Now().Add(2 * wait))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// exchange writes frames from one goroutine and reads the echo on this one, checking every
// byte.
func exchange(c net.Conn, frames [][]byte) error {
	var want []byte
	for _, f := range frames {
		want = append(want, f...)
	}
	werr := make(chan error, 1)
	go func() {
		for _, f := range frames {
			if _, err := c.Write(f); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("reading the echo: %w", err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("echo differs from what was sent (%d bytes)", len(want))
	}
	return nil
}

func TestEchoServerWorkerPoolFraming(t *testing.T) {
	n := startNode(t, nil)
	events := newEvents()
	names := []string{"tcp_worker_0", "tcp_worker_1", "tcp_worker_2"}
	var children []ChildSpec
	for _, name := range names {
		children = append(children, ChildSpec{Name: name, Args: []byte(name),
			Factory: func() Actor { return &echoActor{events: events} }})
	}
	must(n.SpawnSupervisor(&SupervisorSpec{Children: children}))
	owner := must(n.Spawn(probeOf(newEvents()), nil))
	alias, port, err := n.SpawnTCPServer(owner, &TCPServerOptions{
		Host:        "127.0.0.1",
		ProcessPool: names,
		Conn:        ConnOptions{Framing: &Framing{HeaderSize: 4, LengthSize: 4, MaxLength: 1 << 20}},
	})
	ok(t, err)
	if port == 0 {
		t.Fatal("no port")
	}
	info := must(n.InspectMeta(alias))
	if info["kind"] != "tcp server" || info["listener"] != "127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("Inspect(server): %v", info)
	}

	// Routing: connection k goes to tcp_worker_(k mod 3), and stays there.
	workers := map[string]PID{}
	for _, name := range names {
		workers[name] = must(n.Lookup(name))
	}
	var conns []net.Conn
	for k := 0; k < 6; k++ {
		c := dial(t, port)
		conns = append(conns, c)
		connect, to := expect[*Connect](t, events)
		if want := workers[names[k%3]]; to != want {
			t.Fatalf("connection %d went to %d, want %s (%d)", k, to, names[k%3], want)
		}
		local := c.LocalAddr().(*net.TCPAddr)
		if ra, isTCP := connect.RemoteAddr.(*net.TCPAddr); !isTCP || ra.Port != local.Port || !ra.IP.Equal(local.IP) {
			t.Fatalf("Connect.RemoteAddr %v, the client is %v", connect.RemoteAddr, local)
		}
		if la, isTCP := connect.LocalAddr.(*net.TCPAddr); !isTCP || la.Port != port {
			t.Fatalf("Connect.LocalAddr %v, the server is on port %d", connect.LocalAddr, port)
		}
		if connect.TLS != nil {
			t.Fatal("TLS info on a plain connection")
		}
		ci := must(n.InspectMeta(connect.Conn))
		if ci["kind"] != "tcp connection" || ci["process"] != names[k%3] ||
			ci["remote"] != local.String() {
			t.Fatalf("Inspect(connection) = %v", ci)
		}
	}

	// Load: every connection, many frames of many sizes, concurrently, every byte checked.
	var wg sync.WaitGroup
	errs := make(chan error, len(conns))
	for k, c := range conns {
		wg.Add(1)
		go func(k int, c net.Conn) {
			defer wg.Done()
			var frames [][]byte
			for i := 0; i < 300; i++ {
				frames = append(frames, frame(payload((i*131+k*17)%3000, k*1000+i)))
			}
			frames = append(frames, frame(payload(200000, k))) // larger than one read
			if err := exchange(c, frames); err != nil {
				errs <- fmt.Errorf("connection %d: %w", k, err)
			}
		}(k, c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// A header declaring more than MaxLength ends that connection only.
	bad := conns[0]
	var header [4]byte
	binary.BigEndian.PutUint32(header[:], 2<<20)
	_, err = bad.Write(header[:])
	ok(t, err)
	if _, err := bad.Read(make([]byte, 1)); err == nil {
		t.Fatal("the server did not close a connection over max length")
	}
	if d, _ := expect[*Disconnect](t, events); d.Reason != DisconnectMaxLengthExceeded {
		t.Fatalf("Disconnect reason %v", d.Reason)
	}
	ok(t, exchange(conns[1], [][]byte{frame([]byte("still echoing"))}))

	// A client closing: PeerClosed.
	ok(t, conns[2].Close())
	if d, _ := expect[*Disconnect](t, events); d.Reason != DisconnectPeerClosed || d.Reason.Clean() != true {
		t.Fatalf("Disconnect reason %v", d.Reason)
	}

	// Terminating the server closes its connections.
	ok(t, n.Terminate(alias))
	for i := 0; i < 4; i++ {
		if d, _ := expect[*Disconnect](t, events); d.Reason == DisconnectMaxLengthExceeded {
			t.Fatalf("unexpected Disconnect %v", d.Reason)
		}
	}
}

func TestClientConnection(t *testing.T) {
	n := startNode(t, nil)
	ch := newEvents()
	owner := must(n.Spawn(probeOf(ch), nil))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ok(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(wait))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil {
			served <- err
			return
		}
		_, err = c.Write(append([]byte("got "), buf...))
		served <- err
	}()

	alias := must(n.ConnectTCP(owner, &TCPClientOptions{Host: "127.0.0.1", Port: port, ConnectTimeout: wait}))
	ok(t, n.Write(alias, []byte("hello")))
	connect, _ := expect[*Connect](t, ch)
	if connect.Conn != alias {
		t.Fatalf("Connect for %d, connected %d", connect.Conn, alias)
	}
	if ra, isTCP := connect.RemoteAddr.(*net.TCPAddr); !isTCP || ra.Port != port || ra.String() != ln.Addr().String() {
		t.Fatalf("Connect.RemoteAddr %v, want %v", connect.RemoteAddr, ln.Addr())
	}
	var got []byte
	for len(got) < len("got hello") {
		d, _ := expect[*Data](t, ch)
		if d.Conn != alias {
			t.Fatalf("Data for %d", d.Conn)
		}
		got = append(got, d.Bytes...)
	}
	if string(got) != "got hello" {
		t.Fatalf("got %q", got)
	}
	ok(t, recv(t, served, "the Go server"))
	if d, _ := expect[*Disconnect](t, ch); d.Conn != alias || d.Reason != DisconnectPeerClosed {
		t.Fatalf("Disconnect %+v", d)
	}
	if err := n.Write(alias, []byte("late")); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("write after Disconnect: %v", err)
	}

	// Connection refused: the status comes back from ConnectTCP.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	ok(t, err)
	closedPort := ln2.Addr().(*net.TCPAddr).Port
	ok(t, ln2.Close())
	_, err = n.ConnectTCP(owner, &TCPClientOptions{Host: "127.0.0.1", Port: closedPort})
	wantErr(t, err, ErrConnectionRefused)
	_, err = n.ConnectTCP(owner, &TCPClientOptions{Host: "127.0.0.1"})
	wantErr(t, err, ErrInvalidArgument)

	// Routed to a named process; Terminate gives CLOSED and a Down to monitors.
	ln3, err := net.Listen("tcp", "127.0.0.1:0")
	ok(t, err)
	defer ln3.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln3.Accept(); err == nil {
			accepted <- c
		}
	}()
	other := newEvents()
	must(n.SpawnRegister("client_handler", probeOf(other), nil))
	alias3 := must(n.ConnectTCP(owner, &TCPClientOptions{Host: "127.0.0.1", Port: ln3.Addr().(*net.TCPAddr).Port,
		Process: "client_handler"}))
	peer := recv(t, accepted, "accept")
	defer peer.Close()
	expect[*Connect](t, other)
	ref := must(n.MonitorMeta(owner, alias3))
	ok(t, n.Write(alias3, []byte("bye")))
	ok(t, n.Terminate(alias3))
	if d, _ := expect[*Disconnect](t, other); d.Reason != DisconnectClosed {
		t.Fatalf("Disconnect after Terminate: %v", d.Reason)
	}
	if down, _ := expect[*Down](t, ch); down.Alias != alias3 || down.PID != 0 || down.Ref != ref {
		t.Fatalf("Down of the connection: %+v", down)
	}
	_ = peer.SetDeadline(time.Now().Add(wait))
	if b, err := io.ReadAll(peer); err != nil || string(b) != "bye" {
		t.Fatalf("the peer read %q, %v (queued bytes are flushed before the close)", b, err)
	}
}

func TestWouldBlockAndWritable(t *testing.T) {
	n := startNode(t, nil)
	ch := newEvents()
	owner := must(n.Spawn(probeOf(ch), nil))
	_, port := must2(n.SpawnTCPServer(owner, &TCPServerOptions{Host: "127.0.0.1",
		Conn: ConnOptions{WriteQueueLimit: 64 << 10}}))
	c := dial(t, port)
	connect, _ := expect[*Connect](t, ch)

	// The peer does not read: the socket buffers fill, then the queue, then WouldBlock.
	chunk := payload(16<<10, 1)
	written := 0
	for {
		err := n.Write(connect.Conn, chunk)
		if errors.Is(err, ErrWouldBlock) {
			break
		}
		ok(t, err)
		written += len(chunk)
		if written > 256<<20 {
			t.Fatal("no ErrWouldBlock after 256 MiB")
		}
	}
	// Reading drains the queue: Writable.
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, c, int64(written))
		done <- err
	}()
	if w, _ := expect[*Writable](t, ch); w.Conn != connect.Conn {
		t.Fatalf("Writable for %d", w.Conn)
	}
	ok(t, recv(t, done, "reading everything written"))
}

func TestInspectAndForwarder(t *testing.T) {
	n := startNode(t, nil)
	ch := newEvents()
	owner := must(n.SpawnRegister("owner", probeOf(ch), nil))
	fwd := must(n.SpawnForwarder(owner, ""))
	ok(t, n.SendMeta(fwd, 5, []byte("via forwarder")))
	if m, _ := expect[*UserMessage](t, ch); m.Forwarder != fwd || m.From != 0 || m.Tag != 5 ||
		string(m.Data) != "via forwarder" {
		t.Fatalf("forwarded: %+v", m)
	}
	info := must(n.InspectMeta(fwd))
	if info["kind"] == "process" || info["kind"] == "" {
		t.Fatalf("InspectMeta(forwarder) = %v", info)
	}
	// The kind is part of the id: a forwarder is no process, and a process no forwarder.
	wantErr(t, n.Send(PID(fwd), 6, nil), ErrWrongKind)
	wantErr(t, n.SendMeta(Alias(owner), 6, nil), ErrWrongKind)
	_, err := n.Inspect(PID(fwd))
	wantErr(t, err, ErrWrongKind)
	_, err = n.Monitor(owner, PID(fwd))
	wantErr(t, err, ErrWrongKind)
	_, err = n.SpawnForwarder(PID(1<<60), "")
	wantErr(t, err, ErrNotFound)
	// A monitored forwarder ends with its owner: Down names it by its alias.
	watcher := must(n.Spawn(probeOf(ch), nil))
	ref := must(n.MonitorMeta(watcher, fwd))
	ok(t, n.StopProcess(owner))
	if down, _ := expect[*Down](t, ch); down.Alias != fwd || down.PID != 0 || down.Ref != ref {
		t.Fatalf("Down of the forwarder: %+v", down)
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	current.Helper()
	if err != nil {
		current.Fatalf("%v", err)
	}
	return a, b
}
