// Command hello is the first program of bindings/go/README.md: a process that prints the
// messages it receives.
package main

import (
	"fmt"
	"log"

	"actnet.dev/actnet"
)

// greeter is an actor. The runtime calls HandleMessage on its own threads, one message at a
// time per process; BaseActor gives it no-op Init and Terminate.
type greeter struct{ actnet.BaseActor }

func (greeter) HandleMessage(ctx *actnet.Context, msg actnet.Message) error {
	if m, ok := msg.(*actnet.UserMessage); ok {
		fmt.Printf("got tag %d: %s\n", m.Tag, m.Data)
	}
	return nil // an error (or a panic) would end this process, not the program
}

func main() {
	node, err := actnet.Start(nil) // nil: default options
	if err != nil {
		log.Fatal(err)
	}
	// The factory makes each process's actor (again on every restart by a supervisor).
	pid, err := node.Spawn(func() actnet.Actor { return greeter{} }, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := node.Send(pid, 1, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	// Each process handles the messages already in its mailbox before the node stops.
	if err := node.Stop(); err != nil {
		log.Fatal(err)
	}
}
