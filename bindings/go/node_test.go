package actnet

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stopper tries to stop the node from a handler, and records what its callbacks could do
// while the node stops.
type stopper struct {
	results chan<- error
}

func (s *stopper) Init(ctx *Context, args []byte) error {
	if string(args) == "stop in init" {
		// Init runs inside Spawn (which holds the node for reading): Stop must not wait.
		s.results <- ctx.Node().Stop()
	}
	return nil
}

func (s *stopper) HandleMessage(ctx *Context, msg Message) error {
	if m, isUser := msg.(*UserMessage); isUser && m.Tag == 1 {
		s.results <- ctx.Node().Stop()
	}
	return nil
}

func (s *stopper) Terminate(ctx *Context, reason ExitReason) {
	// Calls from callbacks keep working while the node stops (here: not ErrNodeStopping).
	_, err := ctx.Node().Inspect(ctx.Self())
	if errors.Is(err, ErrNodeStopping) {
		s.results <- err
		return
	}
	s.results <- reason
}

func TestNodeStop(t *testing.T) {
	logged := make(chan string, 1000)
	n, err := Start(&NodeOptions{Name: "stopping", WorkerThreads: 2, LogLevel: LogInfo,
		Log: func(level LogLevel, line string) {
			select {
			case logged <- line:
			default:
			}
		}})
	ok(t, err)
	current = t
	if n.Name() != "stopping" {
		t.Fatalf("Name %q", n.Name())
	}

	results := make(chan error, 16)
	pid := must(n.Spawn(func() Actor { return &stopper{results: results} }, nil))
	ok(t, n.Send(pid, 1, nil))
	wantErr(t, recv(t, results, "Stop from a handler"), ErrWrongContext)
	must(n.Spawn(func() Actor { return &stopper{results: results} }, &SpawnOptions{Args: []byte("stop in init")}))
	wantErr(t, recv(t, results, "Stop from Init"), ErrWrongContext)

	// A connection: its process gets Disconnect (node stopping) before the node is gone.
	events := newEvents()
	owner := must(n.Spawn(func() Actor { return &echoActor{events: events} }, nil))
	_, port := must2(n.SpawnTCPServer(owner, &TCPServerOptions{Host: "127.0.0.1"}))
	c := dial(t, port)
	expect[*Connect](t, events)

	// Goroutines calling the node while it stops: no crash, and ErrNodeStopping after.
	var stop atomic.Bool
	var wg sync.WaitGroup
	hammerErr := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if err := n.Send(pid, 2, nil); err != nil && !errors.Is(err, ErrNodeStopping) &&
					!errors.Is(err, ErrNotFound) && !errors.Is(err, ErrMailboxFull) {
					hammerErr <- err
					return
				}
				if _, err := n.Inspect(pid); errors.Is(err, ErrNodeStopping) {
					return
				}
			}
		}()
	}

	ok(t, n.Stop())
	stop.Store(true)
	wg.Wait()
	close(hammerErr)
	for err := range hammerErr {
		t.Fatalf("a goroutine calling during Stop: %v", err)
	}

	r := recv(t, results, "Terminate of the stopper")
	var reason ExitReason
	if !errors.As(r, &reason) || reason.Kind != ExitShutdown {
		t.Fatalf("Terminate during Stop: %v", r)
	}
	if d, _ := expect[*Disconnect](t, events); d.Reason != DisconnectNodeStopping {
		t.Fatalf("Disconnect reason %v", d.Reason)
	}
	if _, err := io.ReadAll(c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("the client after Stop: %v", err)
	}

	ok(t, n.Stop()) // idempotent
	wantErr(t, n.Send(pid, 1, nil), ErrNodeStopping)
	_, err = n.Spawn(func() Actor { return &stopper{} }, nil)
	wantErr(t, err, ErrNodeStopping)
	_, err = n.Lookup("x")
	wantErr(t, err, ErrNodeStopping)
	_, _, err = n.SpawnTCPServer(owner, nil)
	wantErr(t, err, ErrNodeStopping)
}

func TestStatusAndReasons(t *testing.T) {
	if !strings.HasPrefix(Version(), "0.") {
		t.Fatalf("Version %q", Version())
	}
	var err error = ErrNotFound
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrTimeout) || err.Error() == "" {
		t.Fatalf("Status error %q", err)
	}
	wrapped := errors.Join(errors.New("context"), ErrWouldBlock)
	if !errors.Is(wrapped, ErrWouldBlock) {
		t.Fatal("a wrapped status is not found by errors.Is")
	}
	var s Status
	if !errors.As(wrapped, &s) || s != ErrWouldBlock {
		t.Fatal("errors.As(Status)")
	}
	for code := Status(1); code <= ErrWrongKind; code++ {
		if text := code.Error(); !strings.HasPrefix(text, "actnet: ") || len(text) < 12 {
			t.Fatalf("status %d: %q", code, text)
		}
	}
	if DisconnectPeerClosed.String() != "peer closed" || !strings.Contains(DisconnectMaxLengthExceeded.Error(), "max") {
		t.Fatalf("disconnect reasons %q %q", DisconnectPeerClosed, DisconnectMaxLengthExceeded.Error())
	}
	var derr error = DisconnectReset
	if derr.Error() == "" || DisconnectReset.Clean() {
		t.Fatal("DisconnectReason as an error")
	}
	// Clean is the library's: a close by either side, or the end of the owner or node.
	for r := DisconnectReason(0); r <= DisconnectTLSError+1; r++ {
		want := r == DisconnectPeerClosed || r == DisconnectClosed || r == DisconnectParentDown ||
			r == DisconnectNodeStopping
		if r.Clean() != want {
			t.Errorf("%v.Clean() = %v", r, r.Clean())
		}
	}
	r := ExitReason{Kind: ExitDisconnected, Code: int32(DisconnectReset)}
	if r.Disconnect() != DisconnectReset || !r.Abnormal() || !strings.Contains(r.Error(), DisconnectReset.String()) {
		t.Fatalf("ExitReason %q", r.Error())
	}
	if (ExitReason{Kind: ExitShutdown}).Abnormal() || ExitNormal.String() != "normal" {
		t.Fatalf("exit kinds: %q", ExitNormal.String())
	}
	if _, err := Start(&NodeOptions{WorkerThreads: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Start with bad options: %v", err)
	}
}

// Stop from a log function returns ErrWrongContext: the log line may be written by a stop
// under way on this very thread (which a second stop would wait for, forever).
func TestStopFromLogFunction(t *testing.T) {
	var node atomic.Pointer[Node]
	results := make(chan error, 1)
	n, err := Start(&NodeOptions{WorkerThreads: 1, LogLevel: LogDebug, Log: func(level LogLevel, line string) {
		if n := node.Load(); n != nil && strings.Contains(line, "stopping") {
			select {
			case results <- n.Stop():
			default:
			}
		}
	}})
	ok(t, err)
	node.Store(n)
	ok(t, n.Stop())
	wantErr(t, recv(t, results, "Stop from the log function"), ErrWrongContext)
}

// A Node that becomes unreachable is freed by its finalizer, which stops it first if Stop
// was never called (seen here by the stop's debug line).
func TestUnreachableNodeIsStoppedAndFreed(t *testing.T) {
	lines := make(chan string, 1000)
	func() {
		n, err := Start(&NodeOptions{WorkerThreads: 1, LogLevel: LogDebug, Log: func(level LogLevel, line string) {
			select {
			case lines <- line:
			default:
			}
		}})
		ok(t, err)
		_ = n.Name()
	}()
	deadline := time.After(wait)
	for {
		runtime.GC()
		select {
		case line := <-lines:
			if strings.Contains(line, "stopping") {
				return
			}
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatal("the unreachable node was not stopped by its finalizer")
		}
	}
}
