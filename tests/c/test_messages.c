/* Spawn, send, order: messages from one sender arrive in the order sent, with their tag,
 * bytes and sender; sending to a stale id is NOT_FOUND. */
#include <string.h>

#include "harness.h"

int main(void) {
  actnet_node *node = test_node_start();
  probe *p = probe_new();
  actnet_pid pid = probe_spawn(node, p, NULL);

  char text[32];
  for (int i = 0; i < 500; i++) {
    int n = snprintf(text, sizeof text, "message %d", i);
    CHECK_OK(actnet_message_send(node, pid, (uint64_t)i, (const uint8_t *)text, (size_t)n));
  }
  for (int i = 0; i < 500; i++) {
    probe_event e;
    probe_expect(p, ACTNET_MSG_USER, &e);
    snprintf(text, sizeof text, "message %d", i);
    CHECK(e.tag == (uint64_t)i);
    CHECK(e.from.id == 0);
    CHECK(e.len == strlen(text) && memcmp(e.data, text, e.len) == 0);
    probe_event_clear(&e);
  }

  CHECK_OK(actnet_process_stop(node, pid));
  int64_t end = now_ms() + WAIT_MS;
  while (probe_terminated(p) < 1 && now_ms() < end) probe_quiet(p, 10);
  CHECK(probe_terminated(p) == 1);
  CHECK_STATUS(actnet_message_send(node, pid, 0, NULL, 0), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_message_send(node, (actnet_pid){pid.id + 1000}, 0, NULL, 0), ACTNET_STATUS_NOT_FOUND);

  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  probe_release(p);
  printf("ok\n");
  return 0;
}
