package actnet

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// peekActor reads Data.Bytes without taking the buffer (the binding then releases it) and
// reports a copy.
type peekActor struct {
	BaseActor
	got chan<- []byte
}

func (p *peekActor) HandleMessage(ctx *Context, msg Message) error {
	if d, isData := msg.(*Data); isData {
		p.got <- append([]byte(nil), d.Bytes...)
	}
	return nil
}

func TestZeroCopyBuffers(t *testing.T) {
	n := startNode(t, nil)
	pool := must(NewPool(4096, 8))
	defer pool.Close()

	// Echo through the pool buffers themselves (TakeBuffer + WriteBuffer).
	owner := must(n.Spawn(func() Actor { return &echoActor{} }, nil))
	_, port := must2(n.SpawnTCPServer(owner, &TCPServerOptions{Host: "127.0.0.1",
		Conn: ConnOptions{ReadBufferPool: pool, ReadBufferSize: 4096}}))
	c := dial(t, port)
	var frames [][]byte
	for i := 0; i < 200; i++ {
		frames = append(frames, payload(1+i*37%5000, i))
	}
	frames = append(frames, payload(300000, 7))
	ok(t, exchange(c, frames))
	ok(t, c.Close())
	eventually(t, "every pool buffer back", func() bool {
		s, err := pool.Stats()
		return err == nil && s.Outstanding == 0 && s.Allocations > 0
	})

	// Buffers not taken go back to the pool when the handler returns.
	got := make(chan []byte, 100)
	peek := must(n.Spawn(func() Actor { return &peekActor{got: got} }, nil))
	_, port2 := must2(n.SpawnTCPServer(peek, &TCPServerOptions{Host: "127.0.0.1",
		Conn: ConnOptions{ReadBufferPool: pool, Framing: FixedFraming(10)}}))
	c2 := dial(t, port2)
	_, err := c2.Write([]byte("0123456789abcdefghij"))
	ok(t, err)
	if a, b := recv(t, got, "first frame"), recv(t, got, "second frame"); string(a) != "0123456789" || string(b) != "abcdefghij" {
		t.Fatalf("frames %q %q", a, b)
	}
	eventually(t, "untaken buffers back", func() bool {
		s, err := pool.Stats()
		return err == nil && s.Outstanding == 0
	})

	// A buffer from Pool.Get, filled and written; Release rules.
	conns := newEvents()
	writer := must(n.Spawn(probeOf(conns), nil))
	_, port3 := must2(n.SpawnTCPServer(writer, &TCPServerOptions{Host: "127.0.0.1"}))
	c3 := dial(t, port3)
	connect, _ := expect[*Connect](t, conns)
	buf := must(pool.Get())
	if buf.Len() != 0 || buf.Cap() < 4096 || len(buf.Memory()) != buf.Cap() {
		t.Fatalf("a new buffer: len %d cap %d", buf.Len(), buf.Cap())
	}
	msg := []byte("from a pool buffer")
	copy(buf.Memory(), msg)
	ok(t, buf.SetLen(len(msg)))
	if !bytes.Equal(buf.Bytes(), msg) {
		t.Fatalf("Bytes %q", buf.Bytes())
	}
	wantErr(t, buf.SetLen(buf.Cap()+1), ErrInvalidArgument)
	ok(t, n.WriteBuffer(connect.Conn, buf))
	wantErr(t, buf.Release(), ErrDoubleFree) // the runtime holds it now
	wantErr(t, n.WriteBuffer(connect.Conn, buf), ErrDoubleFree)
	if buf.Bytes() != nil || buf.Len() != 0 {
		t.Fatal("a written buffer still shows its memory")
	}
	echo := make([]byte, len(msg))
	_, err = io.ReadFull(c3, echo)
	ok(t, err)
	if !bytes.Equal(echo, msg) {
		t.Fatalf("the peer read %q", echo)
	}
	b2 := must(pool.Get())
	ok(t, b2.Release())
	wantErr(t, b2.Release(), ErrDoubleFree)
	// A refused write leaves the buffer with the caller.
	b3 := must(pool.Get())
	if err := n.WriteBuffer(Alias(1<<61|1), b3); !errors.Is(err, ErrNotFound) { // aliases are odd
		t.Fatalf("WriteBuffer to nothing: %v", err)
	}
	ok(t, b3.Release())
	eventually(t, "every buffer back", func() bool {
		s, err := pool.Stats()
		return err == nil && s.Outstanding == 0
	})

	_, err = NewPool(0, 1)
	wantErr(t, err, ErrInvalidArgument)
	ok(t, pool.Close())
	_, err = pool.Get()
	wantErr(t, err, ErrClosed)
}
