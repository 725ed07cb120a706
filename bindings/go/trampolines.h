/* The C side of the Go binding: trampolines with the exact callback signatures of
 * include/actnet.h, which call the Go functions exported from callbacks.go, and the helpers
 * Go uses to install them. Go never hands C a Go pointer: every user_data and per-process
 * state is a runtime/cgo.Handle, an integer, converted to void* here. */
#ifndef ACTNET_GO_TRAMPOLINES_H
#define ACTNET_GO_TRAMPOLINES_H

#include <stdint.h>
#include <actnet.h>

/* Creates a behaviour whose callbacks call into Go, with `handle` (a cgo.Handle of the Go
 * behaviour) as user_data; actnet frees the handle through actnetgoFreeBehavior. */
actnet_status actnetgo_behavior_new(uintptr_t handle, actnet_behavior **out);

/* Routes a node's log lines to Go: `handle` is a cgo.Handle of the Go logger, deleted
 * (actnetgoFreeLogger) when the node has stopped. */
void actnetgo_node_options_set_log(actnet_node_options *options, uintptr_t handle);

#endif
