package actnet

// #include <actnet.h>
import "C"

import (
	"time"
	"unsafe"
)

// Strategy is which children a supervisor restarts when one ends.
type Strategy uint32

const (
	// OneForOne restarts only that child (the default).
	OneForOne Strategy = C.ACTNET_STRATEGY_ONE_FOR_ONE
	// AllForOne stops the others and starts all again, in order.
	AllForOne Strategy = C.ACTNET_STRATEGY_ALL_FOR_ONE
	// RestForOne restarts that child and those started after it.
	RestForOne Strategy = C.ACTNET_STRATEGY_REST_FOR_ONE
)

// Restart is when a supervisor restarts a child that ended.
type Restart uint32

const (
	// Permanent: always (the default).
	Permanent Restart = C.ACTNET_RESTART_PERMANENT
	// Transient: only after an abnormal end (not ExitNormal or ExitShutdown).
	Transient Restart = C.ACTNET_RESTART_TRANSIENT
	// Temporary: never.
	Temporary Restart = C.ACTNET_RESTART_TEMPORARY
)

// ChildSpec is one child of a supervisor.
type ChildSpec struct {
	// Name (required): the child is registered under it, again after each restart.
	Name string
	// Factory (required) makes the child's Actor, again for each restart: fresh state.
	Factory Factory
	// Args are handed to Init on every start.
	Args []byte
	// Restart says when the child is restarted (default Permanent).
	Restart Restart
	// MailboxSize as in SpawnOptions.
	MailboxSize int
}

// SupervisorSpec describes a supervisor.
type SupervisorSpec struct {
	// Name registers the supervisor ("" for none).
	Name     string
	Strategy Strategy
	// More than Intensity restarts within Period ends the supervisor with ExitMaxRestarts
	// (its children are stopped). 0 means the defaults: 3 restarts in 5 s; NoRestarts (as
	// Intensity) allows none.
	Intensity int
	Period    time.Duration
	// Children are started in order.
	Children []ChildSpec
}

// NoRestarts, as SupervisorSpec.Intensity, allows no restart at all.
const NoRestarts = -1

// SpawnSupervisor starts a supervisor and its children, in order, before returning (each
// child's Init runs on this goroutine). If a child fails to start, the ones started are
// stopped and the error is an *InitError (errors.Is(err, ErrInitFailed)).
func (n *Node) SpawnSupervisor(spec *SupervisorSpec) (PID, error) {
	if spec == nil {
		return 0, ErrInvalidArgument
	}
	var mem cmem
	defer mem.free()
	var o C.actnet_supervisor_options
	if err := check(C.actnet_supervisor_options_init(&o)); err != nil {
		return 0, err
	}
	o.strategy = C.uint32_t(spec.Strategy)
	switch {
	case spec.Intensity == NoRestarts:
		o.intensity = 0
	case spec.Intensity > 0 && int64(spec.Intensity) <= 0xFFFFFFFF:
		o.intensity = C.uint32_t(spec.Intensity)
	case spec.Intensity != 0:
		return 0, ErrInvalidArgument
	}
	if spec.Period != 0 {
		ms, err := millis(spec.Period)
		if err != nil {
			return 0, err
		}
		o.period_ms = ms
	}
	o.name = mem.optStr(spec.Name)

	behaviors := make([]*behavior, len(spec.Children))
	if len(spec.Children) > 0 {
		children := unsafe.Slice((*C.actnet_child_spec)(mem.alloc(unsafe.Sizeof(C.actnet_child_spec{})*uintptr(len(spec.Children)))),
			len(spec.Children))
		for i, child := range spec.Children {
			c := &children[i]
			if err := check(C.actnet_child_spec_init(c)); err != nil {
				return 0, err
			}
			size, err := mailboxSize(child.MailboxSize)
			if err != nil {
				return 0, err
			}
			cb, b, err := n.newBehavior(child.Factory)
			if err != nil {
				return 0, err
			}
			defer C.actnet_behavior_free(cb) // the supervisor keeps its own reference
			behaviors[i] = b
			c.restart = C.uint32_t(child.Restart)
			c.name = mem.optStr(child.Name)
			c.behavior = cb
			c.args = mem.bytes(child.Args)
			c.args_len = C.size_t(len(child.Args))
			c.mailbox_size = size
		}
		o.children = &children[0]
		o.children_len = C.size_t(len(children))
	}
	var pid C.actnet_pid
	st := n.status(func(p *C.actnet_node) C.actnet_status { return C.actnet_supervisor_spawn(p, &o, &pid) })
	if st == C.ACTNET_STATUS_INIT_FAILED {
		var initErr error
		for _, b := range behaviors {
			if e := b.takeInitErr(); e != nil {
				initErr = e
			}
		}
		return 0, &InitError{Err: initErr}
	}
	if err := check(st); err != nil {
		return 0, err
	}
	return pidOf(pid), nil
}
