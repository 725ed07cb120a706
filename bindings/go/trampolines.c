// The trampolines between actnet's callbacks and the Go functions exported from
// callbacks.go (a file with //export may only declare C in its preamble, so the definitions
// live here). See trampolines.h.
#include <stddef.h>
#include <stdint.h>

#include <actnet.h>

#include "_cgo_export.h"
#include "trampolines.h"

static int32_t init_trampoline(void *user_data, actnet_node *node, actnet_pid pid, const uint8_t *args,
                               size_t args_len, void **state) {
  (void)node;
  uintptr_t handle = 0;
  int32_t rc = actnetgoInit((uintptr_t)user_data, pid.id, (uint8_t *)args, args_len, &handle);
  if (rc == 0) *state = (void *)handle;
  return rc;
}

static int32_t handle_trampoline(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                                 const actnet_message *message) {
  (void)user_data, (void)node, (void)pid;
  return actnetgoHandleMessage((uintptr_t)state, (actnet_message *)message);
}

static void terminate_trampoline(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                                 uint32_t reason, int32_t reason_code) {
  (void)user_data, (void)node, (void)pid;
  actnetgoTerminate((uintptr_t)state, reason, reason_code);
}

static void free_behavior_trampoline(void *user_data) { actnetgoFreeBehavior((uintptr_t)user_data); }

static void log_trampoline(void *user_data, uint32_t level, const char *line) {
  actnetgoLog((uintptr_t)user_data, level, (char *)line);
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
