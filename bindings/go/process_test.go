package actnet

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSpawnSendOrderAndNames(t *testing.T) {
	n := startNode(t, nil)
	ch := newEvents()
	pid := must(n.SpawnRegister("collector", probeOf(ch), &SpawnOptions{MailboxSize: MailboxUnbounded}))

	const count = 2000
	for i := 0; i < count; i++ {
		ok(t, n.Send(pid, uint64(i), []byte(strconv.Itoa(i))))
	}
	for i := 0; i < count; i++ {
		m, to := expect[*UserMessage](t, ch)
		if to != pid || m.Tag != uint64(i) || string(m.Data) != strconv.Itoa(i) || m.From != 0 {
			t.Fatalf("message %d: got tag %d data %q from %d to %d", i, m.Tag, m.Data, m.From, to)
		}
	}

	// From a process: From is the sender, order is kept.
	sender := must(n.Spawn(func() Actor {
		return HandlerFunc(func(ctx *Context, msg Message) error {
			for i := 0; i < 100; i++ {
				if err := ctx.Node().SendName("collector", uint64(i), nil); err != nil {
					return err
				}
			}
			return nil
		})
	}, nil))
	ok(t, n.Send(sender, 0, nil))
	for i := 0; i < 100; i++ {
		m, _ := expect[*UserMessage](t, ch)
		if m.From != sender || m.Tag != uint64(i) {
			t.Fatalf("from a process: got tag %d from %d, want %d from %d", m.Tag, m.From, i, sender)
		}
	}

	// Names.
	if got := must(n.Lookup("collector")); got != pid {
		t.Fatalf("Lookup: %d, want %d", got, pid)
	}
	_, err := n.SpawnRegister("collector", probeOf(ch), nil)
	wantErr(t, err, ErrNameTaken)
	wantErr(t, n.Register("second-name", pid), ErrNameTaken)
	ok(t, n.Unregister("collector"))
	_, err = n.Lookup("collector")
	wantErr(t, err, ErrNotFound)
	wantErr(t, n.SendName("collector", 1, nil), ErrNotFound)
	ok(t, n.Register("renamed", pid))
	ok(t, n.SendName("renamed", 42, []byte("by name")))
	if m, _ := expect[*UserMessage](t, ch); m.Tag != 42 || string(m.Data) != "by name" {
		t.Fatalf("SendName: got %d %q", m.Tag, m.Data)
	}
	info := must(n.Inspect(pid))
	if info["kind"] != "process" || info["name"] != "renamed" || info["pid"] != strconv.FormatUint(uint64(pid), 10) {
		t.Fatalf("Inspect: %v", info)
	}

	// Stale ids: once a monitor has its Down, the process is gone for good.
	downs := newEvents()
	watcher := must(n.Spawn(probeOf(downs), nil))
	ref := must(n.Monitor(watcher, pid))
	ok(t, n.Kill(pid))
	if r, _ := expect[*terminated](t, ch); r.reason.Kind != ExitKilled {
		t.Fatalf("killed: reason %v", r.reason)
	}
	if d, _ := expect[*Down](t, downs); d.Ref != ref || d.PID != pid || d.Alias != 0 || d.Reason.Kind != ExitKilled {
		t.Fatalf("Down: %+v", d)
	}
	wantErr(t, n.Send(pid, 0, nil), ErrNotFound)
	_, err = n.Inspect(pid)
	wantErr(t, err, ErrNotFound)
	wantErr(t, n.Send(PID(1<<62), 0, nil), ErrNotFound) // process ids are even
	// An alias converted to a PID (or the reverse) is refused for its kind, alive or not.
	wantErr(t, n.Send(PID(1<<62|1), 0, nil), ErrWrongKind)
	wantErr(t, n.StopProcess(PID(1<<62|1)), ErrWrongKind)
	wantErr(t, n.Terminate(Alias(watcher)), ErrWrongKind)
	_, err = n.InspectMeta(Alias(watcher))
	wantErr(t, err, ErrWrongKind)
}

// initActor records its Init args and fails on demand.
type initActor struct {
	BaseActor
	got chan<- string
}

func (a *initActor) Init(ctx *Context, args []byte) error {
	switch string(args) {
	case "fail":
		return coded{errors.New("init says no"), 9}
	case "panic":
		panic("init exploded")
	}
	a.got <- string(args)
	return nil
}

func (a *initActor) HandleMessage(*Context, Message) error { return nil }

type coded struct {
	error
	code int32
}

func (c coded) ExitCode() int32 { return c.code }
func (c coded) Unwrap() error   { return c.error }

func TestInitArgsAndFailures(t *testing.T) {
	n := startNode(t, nil)
	got := make(chan string, 1)
	factory := func() Actor { return &initActor{got: got} }
	must(n.Spawn(factory, &SpawnOptions{Args: []byte("hello args")}))
	if s := recv(t, got, "Init"); s != "hello args" {
		t.Fatalf("Init args %q", s)
	}

	_, err := n.Spawn(factory, &SpawnOptions{Args: []byte("fail"), Name: "never"})
	wantErr(t, err, ErrInitFailed)
	var ie *InitError
	if !errors.As(err, &ie) || ie.Err == nil || !strings.Contains(err.Error(), "init says no") {
		t.Fatalf("Init error: %v", err)
	}
	_, err = n.Lookup("never")
	wantErr(t, err, ErrNotFound)

	_, err = n.Spawn(factory, &SpawnOptions{Args: []byte("panic")})
	wantErr(t, err, ErrInitFailed)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "init exploded" {
		t.Fatalf("Init panic: %v", err)
	}

	_, err = n.Spawn(nil, nil)
	wantErr(t, err, ErrInvalidArgument)
	_, err = n.Spawn(func() Actor { return nil }, nil)
	wantErr(t, err, ErrInitFailed)
}

// server answers calls: tag 1 at once (upper case), tag 2 never, tag 3 later from a
// goroutine, tag 4 by calling another process from the handler.
type server struct {
	BaseActor
	other PID
}

func (s *server) HandleMessage(ctx *Context, msg Message) error {
	req, isCall := msg.(*CallRequest)
	if !isCall {
		return nil
	}
	switch req.Tag {
	case 1:
		return req.Reply(bytes.ToUpper(req.Data))
	case 3:
		go func() { _ = req.Reply([]byte("later")) }()
	case 4:
		inner, err := ctx.Node().Call(s.other, 1, req.Data, wait)
		if err != nil {
			return err
		}
		return ctx.Node().Reply(req.Ref, append([]byte("via other: "), inner...))
	}
	return nil
}

func TestCallReplyTimeout(t *testing.T) {
	n := startNode(t, nil)
	other := must(n.Spawn(func() Actor { return &server{} }, nil))
	pid := must(n.Spawn(func() Actor { return &server{other: other} }, nil))

	if r := must(n.Call(pid, 1, []byte("hello"), wait)); string(r) != "HELLO" {
		t.Fatalf("reply %q", r)
	}
	if r := must(n.Call(pid, 1, nil, 0)); len(r) != 0 {
		t.Fatalf("empty reply %q", r)
	}
	started := time.Now()
	_, err := n.Call(pid, 2, nil, 100*time.Millisecond)
	wantErr(t, err, ErrTimeout)
	if took := time.Since(started); took < 90*time.Millisecond || took > 5*time.Second {
		t.Fatalf("a 100 ms call timed out after %v", took)
	}
	if r := must(n.Call(pid, 3, nil, wait)); string(r) != "later" {
		t.Fatalf("deferred reply %q", r)
	}
	if r := must(n.Call(pid, 4, []byte("x"), wait)); string(r) != "via other: X" {
		t.Fatalf("nested call reply %q", r)
	}

	// Concurrent callers.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				want := fmt.Sprintf("G%dI%d", g, i)
				r, err := n.Call(pid, 1, []byte(strings.ToLower(want)), wait)
				if err != nil || string(r) != want {
					errs <- fmt.Errorf("call %s: %q, %v", want, r, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	downs := newEvents()
	watcher := must(n.Spawn(probeOf(downs), nil))
	must(n.Monitor(watcher, other))
	ok(t, n.StopProcess(other))
	expect[*Down](t, downs)
	_, err = n.Call(other, 1, nil, wait)
	wantErr(t, err, ErrNotFound)
	wantErr(t, n.Reply(CallRef(12345), nil), ErrNotFound)
}

// victim panics on tag 666, fails with code 42 on tag 42, and reports how it ended.
type victim struct {
	ends chan<- ExitReason
}

func (v *victim) Init(*Context, []byte) error { return nil }

func (v *victim) HandleMessage(ctx *Context, msg Message) error {
	if m, isUser := msg.(*UserMessage); isUser {
		switch m.Tag {
		case 666:
			panic("boom")
		case 42:
			return coded{errors.New("failed on purpose"), 42}
		case 1:
			return errors.New("plain error")
		}
	}
	return nil
}

func (v *victim) Terminate(ctx *Context, reason ExitReason) { v.ends <- reason }

func TestHandlerPanicAndErrors(t *testing.T) {
	logs := make(chan string, 100)
	n := startNode(t, &NodeOptions{Log: func(level LogLevel, line string) {
		select {
		case logs <- line:
		default:
		}
	}})
	ch := newEvents()
	watcher := must(n.Spawn(probeOf(ch), nil))
	ends := make(chan ExitReason, 4)
	vf := func() Actor { return &victim{ends: ends} }

	pid := must(n.Spawn(vf, nil))
	ref := must(n.Monitor(watcher, pid))
	ok(t, n.Send(pid, 666, nil))

	end := recv(t, ends, "Terminate after a panic")
	var pe *PanicError
	if !end.Panicked() || end.Kind != ExitError || end.Code != ExitCodePanic || !errors.As(end.Err, &pe) || pe.Value != "boom" {
		t.Fatalf("Terminate reason after a panic: %v", end)
	}
	if !strings.Contains(string(pe.Stack), "victim") {
		t.Fatalf("panic stack does not show the handler:\n%s", pe.Stack)
	}
	down, _ := expect[*Down](t, ch)
	if down.PID != pid || down.Ref != ref || !down.Reason.Panicked() || !errors.As(down.Reason.Err, &pe) {
		t.Fatalf("Down after a panic: %+v", down)
	}
	if !strings.Contains(down.Reason.String(), "boom") {
		t.Fatalf("Down reason text %q", down.Reason.String())
	}
	deadline := time.After(wait)
	for found := false; !found; {
		select {
		case line := <-logs:
			found = strings.Contains(line, "panicked: boom")
		case <-deadline:
			t.Fatal("the panic was not logged")
		}
	}

	// An error with an exit code, and a plain one.
	pid2 := must(n.Spawn(vf, nil))
	must(n.Monitor(watcher, pid2))
	ok(t, n.Send(pid2, 42, nil))
	if end := recv(t, ends, "Terminate after an error"); end.Kind != ExitError || end.Code != 42 || end.Err == nil {
		t.Fatalf("reason after an error: %v", end)
	}
	if down, _ := expect[*Down](t, ch); down.PID != pid2 || down.Reason.Code != 42 || down.Reason.Err == nil ||
		!strings.Contains(down.Reason.Err.Error(), "failed on purpose") {
		t.Fatalf("Down after an error: %+v", down)
	}
	pid3 := must(n.Spawn(vf, nil))
	ok(t, n.Send(pid3, 1, nil))
	if end := recv(t, ends, "Terminate after a plain error"); end.Code != ExitCodeError {
		t.Fatalf("reason after a plain error: %v", end)
	}

	// The node keeps working.
	pid4 := must(n.Spawn(func() Actor { return &server{} }, nil))
	if r := must(n.Call(pid4, 1, []byte("still alive"), wait)); string(r) != "STILL ALIVE" {
		t.Fatalf("after the panics: %q", r)
	}
}

func TestMonitorsLinksTrapExits(t *testing.T) {
	n := startNode(t, nil)
	ch := newEvents()
	ends := make(chan ExitReason, 16)
	vf := func() Actor { return &victim{ends: ends} }

	trapper := must(n.Spawn(probeOf(ch), &SpawnOptions{TrapExits: true}))
	linked := must(n.Spawn(vf, &SpawnOptions{LinkTo: trapper}))
	ok(t, n.Send(linked, 42, nil))
	exit, to := expect[*Exit](t, ch)
	if to != trapper || exit.From != linked || exit.Reason.Kind != ExitError || exit.Reason.Code != 42 {
		t.Fatalf("Exit: %+v", exit)
	}

	killed := must(n.Spawn(vf, nil))
	ok(t, n.Link(trapper, killed))
	ok(t, n.Kill(killed))
	if exit, _ := expect[*Exit](t, ch); exit.From != killed || exit.Reason.Kind != ExitKilled {
		t.Fatalf("Exit after Kill: %+v", exit)
	}

	// Without trapping, an abnormal end of a linked process ends this one too.
	watcher := must(n.Spawn(probeOf(ch), nil))
	a := must(n.Spawn(vf, nil))
	b := must(n.Spawn(vf, &SpawnOptions{LinkTo: a}))
	refA := must(n.Monitor(watcher, a))
	ok(t, n.Send(b, 42, nil))
	down, _ := expect[*Down](t, ch)
	if down.PID != a || down.Ref != refA || !down.Reason.Abnormal() {
		t.Fatalf("linked process: %+v", down)
	}

	// Unlink, TrapExits off.
	c := must(n.Spawn(vf, nil))
	ok(t, n.Link(trapper, c))
	ok(t, n.Unlink(trapper, c))
	ok(t, n.TrapExits(trapper, false))

	// Demonitor: no Down for the removed monitor. The sentinel is sent after the Down of
	// the remaining monitor arrived, so a Down of the removed one would come before it.
	d := must(n.Spawn(vf, nil))
	ref1 := must(n.Monitor(watcher, d))
	ref2 := must(n.Monitor(watcher, d))
	ok(t, n.Demonitor(watcher, ref1))
	ok(t, n.StopProcess(d))
	down, _ = expect[*Down](t, ch)
	if down.Ref != ref2 || down.Reason.Kind != ExitShutdown || down.Reason.Abnormal() {
		t.Fatalf("Down of the remaining monitor: %+v", down)
	}
	ok(t, n.Send(watcher, 77, nil))
	for {
		e := next(t, ch)
		if d, isDown := e.msg.(*Down); isDown && d.Ref == ref1 {
			t.Fatal("Down came for a removed monitor")
		}
		if m, isUser := e.msg.(*UserMessage); isUser && m.Tag == 77 {
			break
		}
	}
	_, err := n.Monitor(watcher, d)
	wantErr(t, err, ErrNotFound)
	wantErr(t, n.Link(a, watcher), ErrNotFound) // a is gone
}

// counter counts calls (tag 1), panics on tag 2, and announces each start on a channel.
type counter struct {
	BaseActor
	starts chan<- PID
	count  int
}

func (c *counter) Init(ctx *Context, args []byte) error {
	if string(args) != "counter args" {
		return fmt.Errorf("args %q", args)
	}
	c.starts <- ctx.Self()
	return nil
}

func (c *counter) HandleMessage(ctx *Context, msg Message) error {
	if req, isCall := msg.(*CallRequest); isCall {
		if req.Tag == 2 {
			panic("counter crashed")
		}
		c.count++
		return req.Reply([]byte(strconv.Itoa(c.count)))
	}
	return nil
}

func TestSupervisorRestart(t *testing.T) {
	n := startNode(t, nil)
	ch := newEvents()
	watcher := must(n.Spawn(probeOf(ch), nil))
	starts := make(chan PID, 16)
	newCounter := func() Actor { return &counter{starts: starts} }

	sup := must(n.SpawnSupervisor(&SupervisorSpec{
		Name:      "sup",
		Strategy:  OneForOne,
		Intensity: 5,
		Period:    5 * time.Second,
		Children: []ChildSpec{
			{Name: "counter", Factory: newCounter, Args: []byte("counter args")},
			{Name: "temp", Factory: newCounter, Args: []byte("counter args"), Restart: Temporary},
		},
	}))
	first := recv(t, starts, "first start")
	recv(t, starts, "temp start")
	if got := must(n.Lookup("counter")); got != first {
		t.Fatalf("counter is %d, started %d", got, first)
	}
	if got := must(n.Lookup("sup")); got != sup {
		t.Fatalf("sup is %d, spawned %d", got, sup)
	}
	for i := 1; i <= 3; i++ {
		if r := must(n.Call(first, 1, nil, wait)); string(r) != strconv.Itoa(i) {
			t.Fatalf("count %q, want %d", r, i)
		}
	}
	must(n.Monitor(watcher, first))
	_, err := n.Call(first, 2, nil, wait) // it panics instead of answering
	wantErr(t, err, ErrNotFound)
	if down, _ := expect[*Down](t, ch); down.PID != first || !down.Reason.Panicked() {
		t.Fatalf("Down of the crashed child: %+v", down)
	}
	second := recv(t, starts, "restart")
	if second == first {
		t.Fatal("restarted under the same pid")
	}
	eventually(t, "the name to follow the restart", func() bool {
		pid, err := n.Lookup("counter")
		return err == nil && pid == second
	})
	if r := must(callName(n, "counter")); r != "1" {
		t.Fatalf("the restarted child has old state: count %q", r)
	}

	// Too many restarts end the supervisor.
	sup2 := must(n.SpawnSupervisor(&SupervisorSpec{
		Intensity: NoRestarts,
		Children:  []ChildSpec{{Name: "fragile", Factory: newCounter, Args: []byte("counter args")}},
	}))
	fragile := recv(t, starts, "fragile start")
	must(n.Monitor(watcher, sup2))
	_, _ = n.Call(fragile, 2, nil, wait)
	if down, _ := expect[*Down](t, ch); down.PID != sup2 || down.Reason.Kind != ExitMaxRestarts {
		t.Fatalf("Down of the supervisor: %+v", down)
	}

	// A child whose Init fails fails the spawn.
	_, err = n.SpawnSupervisor(&SupervisorSpec{
		Children: []ChildSpec{{Name: "bad", Factory: newCounter, Args: []byte("wrong")}},
	})
	wantErr(t, err, ErrInitFailed)
	if !strings.Contains(err.Error(), "wrong") {
		t.Fatalf("supervisor Init error: %v", err)
	}
	_, err = n.SpawnSupervisor(&SupervisorSpec{Children: []ChildSpec{{Name: "nofactory"}}})
	wantErr(t, err, ErrInvalidArgument)
}

// callName calls the process registered as name with tag 1.
func callName(n *Node, name string) (string, error) {
	pid, err := n.Lookup(name)
	if err != nil {
		return "", err
	}
	r, err := n.Call(pid, 1, nil, wait)
	return string(r), err
}
