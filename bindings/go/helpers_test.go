package actnet

import (
	"errors"
	"testing"
	"time"
)

// wait bounds every wait of the tests: a hang fails the test instead of stalling CI.
const wait = 10 * time.Second

func startNode(t *testing.T, opts *NodeOptions) *Node {
	t.Helper()
	current = t
	if opts == nil {
		opts = &NodeOptions{}
	}
	if opts.WorkerThreads == 0 {
		opts.WorkerThreads = 2
	}
	if opts.Log == nil {
		// The node's lines (and the panics the tests provoke) go to the test's log, shown
		// with -v or on failure. The node stops in a cleanup, before the test completes.
		opts.Log = func(level LogLevel, line string) { t.Logf("log %s: %s", level, line) }
	}
	n, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil && !errors.Is(err, ErrNodeStopping) {
			t.Errorf("Stop: %v", err)
		}
	})
	return n
}

// event is a message a probe received.
type event struct {
	pid PID
	msg Message
}

// probe is an actor that reports every message (and its end) on a channel.
type probe struct {
	ch chan<- event
}

// terminated is what a probe reports when it ends.
type terminated struct{ reason ExitReason }

func (*terminated) isMessage() {}

func (p *probe) Init(*Context, []byte) error { return nil }

func (p *probe) HandleMessage(ctx *Context, msg Message) error {
	if d, ok := msg.(*Data); ok {
		// With a pool, Bytes is only valid during the call: report a copy.
		msg = &Data{Conn: d.Conn, Bytes: append([]byte(nil), d.Bytes...)}
	}
	select {
	case p.ch <- event{ctx.Self(), msg}:
	case <-time.After(wait):
		return errors.New("probe: nobody reads the events")
	}
	return nil
}

func (p *probe) Terminate(ctx *Context, reason ExitReason) {
	select {
	case p.ch <- event{ctx.Self(), &terminated{reason}}:
	default:
	}
}

func probeOf(ch chan event) Factory {
	return func() Actor { return &probe{ch: ch} }
}

func newEvents() chan event { return make(chan event, 4096) }

// next waits for the next event.
func next(t *testing.T, ch <-chan event) event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(wait):
		t.Fatalf("no event within %v", wait)
	}
	panic("unreachable")
}

// expect waits for the next event carrying a T, skipping others.
func expect[T Message](t *testing.T, ch <-chan event) (T, PID) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e := <-ch:
			if m, ok := e.msg.(T); ok {
				return m, e.pid
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T within %v", zero, wait)
			return zero, 0
		}
	}
}

// recv waits for a value on a channel.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("%s: nothing within %v", what, wait)
	}
	panic("unreachable")
}

// current is the running test (tests do not run in parallel), for must.
var current *testing.T

// must returns v, failing the current test if err is not nil (call it from the test's
// goroutine only).
func must[T any](v T, err error) T {
	current.Helper()
	if err != nil {
		current.Fatalf("%v", err)
	}
	return v
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%v", err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// eventually polls cond (for states no message reports, like pool counters), bounded.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func payload(n, seed int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
