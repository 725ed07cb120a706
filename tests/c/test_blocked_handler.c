/* Different processes run in parallel (header): while one process's handler blocks its
 * worker thread, other processes keep running on the other workers.
 * 1. A handler sends a message to an idle process, then blocks: the receiver must still
 *    handle the message.
 * 2. A busy process (many queued messages, so it yields to the scheduler now and then) must
 *    finish its queue while another process's handler blocks.
 * Each waits up to 1 s; the blocked handlers are released at the end of each round. */
#include <string.h>

#include "harness.h"

enum { TAG_SEND_THEN_BLOCK = 1, TAG_BLOCK = 2, TAG_COUNT = 3 };

typedef struct ctx {
  gate *gate;
  evlog *log;
  actnet_pid peer;
} ctx;

static int32_t handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                      const actnet_message *m) {
  (void)state;
  ctx *c = user_data;
  if (m->kind != ACTNET_MSG_USER) return 0;
  switch (m->tag) {
    case TAG_SEND_THEN_BLOCK:
      CHECK_OK(actnet_message_send(node, c->peer, TAG_COUNT, NULL, 0));
      CHECK(gate_wait(c->gate, 10000));
      break;
    case TAG_BLOCK:
      CHECK(gate_wait(c->gate, 10000));
      break;
    case TAG_COUNT:
      evlog_add(c->log, TAG_COUNT, pid, 0, 0, 0, NULL);
      break;
  }
  return 0;
}

static actnet_pid spawn(actnet_node *node, ctx *c) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = handle;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, c, NULL, &b));
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.mailbox_size = ACTNET_MAILBOX_UNBOUNDED;
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));
  CHECK_OK(actnet_behavior_free(b));
  return pid;
}

int main(void) {
  actnet_node *node = test_node_start(); /* 2 workers: one may block, one is free */
  int failures = 0;
  /* contexts live until the node has stopped: a released handler may still be returning */
  ctx keep[16];
  int kept = 0;

  for (int round = 0; round < 3; round++) {
    ctx *rc = &keep[kept++], *sc = &keep[kept++];
    *rc = (ctx){gate_new(), evlog_new(), {0}};
    *sc = (ctx){gate_new(), evlog_new(), {0}};
    actnet_pid receiver = spawn(node, rc);
    sc->peer = receiver;
    actnet_pid sender = spawn(node, sc);
    CHECK_OK(actnet_message_send(node, sender, TAG_SEND_THEN_BLOCK, NULL, 0));
    CHECK(gate_wait_arrivals(sc->gate, 1, WAIT_MS));
    if (!evlog_wait(rc->log, 1, 1000)) {
      fprintf(stderr, "round %d: a message sent by a handler that then blocks was not handled "
                      "within 1 s (the receiver's task is stuck behind the blocked worker)\n", round);
      failures++;
    }
    gate_open(sc->gate);
    CHECK(evlog_wait(rc->log, 1, WAIT_MS)); /* it comes once the handler returns */
  }

  enum { N = 2000 };
  for (int round = 0; round < 4; round++) {
    ctx *busy = &keep[kept++], *blocker = &keep[kept++];
    *busy = (ctx){gate_new(), evlog_new(), {0}};
    *blocker = (ctx){gate_new(), evlog_new(), {0}};
    actnet_pid b = spawn(node, busy);
    actnet_pid a = spawn(node, blocker);
    for (int i = 0; i < N; i++) CHECK_OK(actnet_message_send(node, b, TAG_COUNT, NULL, 0));
    CHECK_OK(actnet_message_send(node, a, TAG_BLOCK, NULL, 0));
    CHECK(gate_wait_arrivals(blocker->gate, 1, WAIT_MS));
    if (!evlog_wait(busy->log, N, 1000)) {
      fprintf(stderr, "round %d: a busy process stalled at %d of %d messages while another "
                      "process's handler blocked\n", round, evlog_count(busy->log), N);
      failures++;
    }
    gate_open(blocker->gate);
    CHECK(evlog_wait(busy->log, N, WAIT_MS));
  }

  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  for (int i = 0; i < kept; i++) {
    gate_free(keep[i].gate);
    evlog_free(keep[i].log);
  }
  if (failures) {
    fprintf(stderr, "%d rounds failed\n", failures);
    return 1;
  }
  printf("ok\n");
  return 0;
}
