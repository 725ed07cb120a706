package main

import (
	"fmt"

	"actnet.dev/actnet"
)

type greeter struct{ actnet.BaseActor }

func (greeter) HandleMessage(ctx *actnet.Context, msg actnet.Message) error {
	if m, ok := msg.(*actnet.UserMessage); ok {
		fmt.Printf("got tag %d: %s\n", m.Tag, m.Data)
	}
	return nil
}

func main() {
	node, err := actnet.Start(nil)
	if err != nil {
		panic(err)
	}
	pid, _ := node.Spawn(func() actnet.Actor { return greeter{} }, nil)
	_ = node.Send(pid, 1, []byte("hello"))
	_ = node.Stop() // after "hello" is handled
}
