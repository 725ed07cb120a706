// Command typedids must not compile: process ids (PID) and meta-process aliases (Alias) are
// distinct types. TestTypedIDsDoNotMix builds it and expects exactly the lines marked
// "want error" to fail.
package main

import "actnet.dev/actnet"

func mix(node *actnet.Node, pid actnet.PID, alias actnet.Alias, conn *actnet.Connect, down *actnet.Down) {
	_ = node.StopProcess(alias)          // want error
	_ = node.Kill(conn.Conn)             // want error
	_ = node.Send(alias, 1, nil)         // want error
	_ = node.SendMeta(pid, 1, nil)       // want error
	_ = node.Terminate(pid)              // want error
	_ = node.Write(pid, nil)             // want error
	_, _ = node.Inspect(alias)           // want error
	_, _ = node.Monitor(pid, down.Alias) // want error
	var _ actnet.PID = alias             // want error
	// The same calls with the right kinds compile.
	_ = node.StopProcess(pid)
	_ = node.Terminate(alias)
	_, _ = node.MonitorMeta(pid, conn.Conn)
}

func main() {}
