// The trampolines between actnet's callbacks and the Go functions exported from
// callbacks.go (a file with //export may only declare C in its preamble, so the definitions
// live here). See trampolines.h.
#include <stddef.h>
#include <stdint.h>

#include <actnet.h>

#include "_cgo_export.h"
#include "trampolines.h"

/* The callbacks running on this thread, innermost first: a linked list of frames on the
 * stack, each naming its node (NULL for a log callback, which is not told its node). Go asks
 * it (actnetgo_in_callback_of) to tell calls made from a node's callbacks, which may go on
 * while that node stops, from calls made by other goroutines. A Go callback runs on the
 * thread that called it, and so do the C calls it makes, so a thread-local list answers
 * for the calling goroutine. */
typedef struct callback_frame {
  actnet_node *node;
  struct callback_frame *outer;
} callback_frame;

static _Thread_local callback_frame *innermost;

#define ENTER(n) callback_frame frame_ = {(n), innermost}; innermost = &frame_
#define LEAVE() innermost = frame_.outer

int actnetgo_in_callback_of(actnet_node *node, int log_counts) {
  for (callback_frame *f = innermost; f; f = f->outer)
    if (f->node == node || (log_counts && f->node == NULL)) return 1;
  return 0;
}

static int32_t init_trampoline(void *user_data, actnet_node *node, uint64_t pid, const uint8_t *args,
                               size_t args_len, void **state) {
  uintptr_t handle = 0;
  ENTER(node);
  int32_t rc = actnetgoInit((uintptr_t)user_data, pid, (uint8_t *)args, args_len, &handle);
  LEAVE();
  if (rc == 0) *state = (void *)handle;
  return rc;
}

static int32_t handle_trampoline(void *user_data, actnet_node *node, uint64_t pid, void *state,
                                 const actnet_message *message) {
  (void)user_data, (void)pid;
  ENTER(node);
  int32_t rc = actnetgoHandleMessage((uintptr_t)state, (actnet_message *)message);
  LEAVE();
  return rc;
}

static void terminate_trampoline(void *user_data, actnet_node *node, uint64_t pid, void *state, uint32_t reason,
                                 int32_t reason_code) {
  (void)user_data, (void)pid;
  ENTER(node);
  actnetgoTerminate((uintptr_t)state, reason, reason_code);
  LEAVE();
}

static void free_behavior_trampoline(void *user_data) { actnetgoFreeBehavior((uintptr_t)user_data); }

static void log_trampoline(void *user_data, uint32_t level, const char *line) {
  ENTER(NULL);
  actnetgoLog((uintptr_t)user_data, level, (char *)line);
  LEAVE();
}

static void free_logger_trampoline(void *user_data) { actnetgoFreeLogger((uintptr_t)user_data); }

actnet_status actnetgo_behavior_new(uintptr_t handle, actnet_behavior **out) {
  actnet_behavior_callbacks callbacks;
  actnet_status status = actnet_behavior_callbacks_init(&callbacks);
  if (status != ACTNET_STATUS_OK) return status;
  callbacks.init = init_trampoline;
  callbacks.handle_message = handle_trampoline;
  callbacks.terminate = terminate_trampoline;
  return actnet_behavior_new(&callbacks, (void *)handle, free_behavior_trampoline, out);
}

void actnetgo_node_options_set_log(actnet_node_options *options, uintptr_t handle) {
  options->log = log_trampoline;
  options->log_user_data = (void *)handle;
  options->free_log_user_data = free_logger_trampoline;
}
