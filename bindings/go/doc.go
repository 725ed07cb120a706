// Package actnet is the Go binding of actnet, an actor runtime whose TCP servers and
// connections are actor-friendly meta-processes (a Rust core behind a C ABI,
// include/actnet.h). It is a thin layer over that ABI, with cgo; see README.md for building
// and linking (pkg-config, or -tags actnet_nopkgconfig with CGO_CFLAGS/CGO_LDFLAGS).
//
// A Node (Start) runs processes. A process runs an Actor made by a Factory (again for each
// restart by a supervisor): Init, then HandleMessage once per message (*UserMessage,
// *CallRequest, *Connect, *Data, *Disconnect, *Writable, *Down, *Exit), then Terminate.
// SpawnTCPServer and ConnectTCP turn sockets into messages for processes; Write,
// WriteBuffer, Terminate and Abort act on connections.
//
// # Threads
//
// Actor methods run on the node's runtime threads, through cgo callbacks: one message at a
// time for one process, never concurrently; different processes run in parallel. They may
// call every function of this package except Node.Stop (ErrWrongContext). Everything else
// may be called from any goroutine. While Node.Stop runs, calls go on as the library allows
// (nothing new can start: ErrNodeStopping); after it, every call returns ErrNodeStopping,
// also from goroutines that keep the *Node. The C node is freed once the Node is
// unreachable.
//
// # Ids
//
// Processes have a PID and meta-processes (servers, connections, forwarders) an Alias:
// distinct types, so a call that wants one does not compile with the other (Send and
// SendMeta, Inspect and InspectMeta, Monitor and MonitorMeta, StopProcess and Terminate).
//
// # Failures
//
// An error returned by HandleMessage ends that process with ExitError and a code
// (ExitCoder, else ExitCodeError); a panic in any callback is recovered at the boundary,
// logged with its stack, and ends the process with ExitCodePanic (Terminate sees a
// *PanicError). The node and the program go on. Statuses of the C library are Status
// values, usable with errors.Is (ErrNotFound, ErrTimeout, ErrWouldBlock, ...).
//
// # Memory
//
// C never holds a Go pointer: actors, behaviours and log functions are registered as
// runtime/cgo.Handle values, deleted when the library frees them. Bytes passed in are copied
// before the call returns; bytes received are copied into Go memory, except on the opt-in
// zero-copy path (ConnOptions.ReadBufferPool), where Data.Bytes is a view of a pool buffer
// valid until HandleMessage returns, unless taken with Data.TakeBuffer and then released
// (Buffer.Release) or written (Node.WriteBuffer).
package actnet
