package actnet

// The Go functions actnet calls, through the trampolines of trampolines.c. Each one recovers
// from panics: a Go panic must never unwind into the library (or crash the node). C holds
// only cgo.Handles (integers), never Go pointers.

// #include <actnet.h>
// #include "trampolines.h"
import "C"

import (
	"fmt"
	"runtime/cgo"
	"runtime/debug"
	"sync"
)

// behavior is the Go side of one actnet behaviour (user_data of its callbacks).
type behavior struct {
	node    *Node
	factory Factory

	mu      sync.Mutex
	initErr error // the last Init failure, for Spawn's error
}

func (b *behavior) setInitErr(err error) {
	b.mu.Lock()
	b.initErr = err
	b.mu.Unlock()
}

func (b *behavior) takeInitErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.initErr
	b.initErr = nil
	return err
}

// process is the Go side of one process (its per-process state).
type process struct {
	ctx   Context
	actor Actor
	err   error // what ended it, if its handler failed
}

// newBehavior creates a C behaviour calling into factory's actors. The caller frees it with
// actnet_behavior_free; the library deletes the handle when the last process using it ends.
func (n *Node) newBehavior(factory Factory) (*C.actnet_behavior, *behavior, error) {
	if factory == nil {
		return nil, nil, ErrInvalidArgument
	}
	b := &behavior{node: n, factory: factory}
	h := cgo.NewHandle(b)
	var cb *C.actnet_behavior
	if err := check(C.actnetgo_behavior_new(C.uintptr_t(h), &cb)); err != nil {
		h.Delete() // free_user_data is not called when the call fails
		return nil, nil, err
	}
	return cb, b, nil
}

func recovered(r any) *PanicError { return &PanicError{Value: r, Stack: debug.Stack()} }

//export actnetgoInit
func actnetgoInit(userData C.uintptr_t, pid C.uint64_t, args *C.uint8_t, argsLen C.size_t, state *C.uintptr_t) (rc C.int32_t) {
	b := cgo.Handle(userData).Value().(*behavior)
	p := &process{ctx: Context{node: b.node, self: PID(pid)}}
	defer func() {
		if r := recover(); r != nil {
			pe := recovered(r)
			b.setInitErr(pe)
			b.node.failures.add(PID(pid), pe)
			b.node.logf(LogError, "process %d: Init panicked: %v\n%s", uint64(pid), r, pe.Stack)
			rc = C.int32_t(ExitCodePanic)
		}
	}()
	p.actor = b.factory()
	if p.actor == nil {
		err := fmt.Errorf("actnet: the factory returned a nil Actor")
		b.setInitErr(err)
		return C.int32_t(ExitCodeError)
	}
	if err := p.actor.Init(&p.ctx, goBytes(args, argsLen)); err != nil {
		b.setInitErr(err)
		b.node.failures.add(PID(pid), err)
		return C.int32_t(exitCode(err))
	}
	*state = C.uintptr_t(cgo.NewHandle(p))
	return 0
}

//export actnetgoHandleMessage
func actnetgoHandleMessage(state C.uintptr_t, m *C.actnet_message) (rc C.int32_t) {
	p := cgo.Handle(state).Value().(*process)
	msg := p.ctx.node.message(m)
	if msg == nil {
		return 0
	}
	defer func() {
		if d, ok := msg.(*Data); ok {
			d.releaseUntaken()
		}
		if r := recover(); r != nil {
			pe := recovered(r)
			p.fail(pe)
			p.ctx.node.logf(LogError, "process %d: HandleMessage panicked: %v\n%s", uint64(p.ctx.self), r, pe.Stack)
			rc = C.int32_t(ExitCodePanic)
		}
	}()
	if err := p.actor.HandleMessage(&p.ctx, msg); err != nil {
		p.fail(err)
		p.ctx.node.logf(LogInfo, "process %d: HandleMessage returned an error: %v", uint64(p.ctx.self), err)
		return C.int32_t(exitCode(err))
	}
	return 0
}

func (p *process) fail(err error) {
	p.err = err
	p.ctx.node.failures.add(p.ctx.self, err)
}

//export actnetgoTerminate
func actnetgoTerminate(state C.uintptr_t, reason C.uint32_t, code C.int32_t) {
	h := cgo.Handle(state)
	p := h.Value().(*process)
	defer h.Delete()
	defer func() {
		if r := recover(); r != nil {
			p.ctx.node.logf(LogError, "process %d: Terminate panicked: %v\n%s", uint64(p.ctx.self), r, debug.Stack())
		}
	}()
	r := ExitReason{Kind: ExitKind(reason), Code: int32(code)}
	if r.Kind == ExitError {
		r.Err = p.err
	}
	p.actor.Terminate(&p.ctx, r)
}

//export actnetgoFreeBehavior
func actnetgoFreeBehavior(userData C.uintptr_t) {
	cgo.Handle(userData).Delete()
}

//export actnetgoLog
func actnetgoLog(userData C.uintptr_t, level C.uint32_t, line *C.char) {
	defer func() { _ = recover() }()
	l := cgo.Handle(userData).Value().(*logger)
	l.fn(LogLevel(level), C.GoString(line))
}

//export actnetgoFreeLogger
func actnetgoFreeLogger(userData C.uintptr_t) {
	cgo.Handle(userData).Delete()
}
