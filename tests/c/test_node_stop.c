/* Node stop with running processes: actnet_node_stop returns OK after every process's
 * terminate ran exactly once with SHUTDOWN (plain processes, supervisor children, a process
 * whose handler is blocked: the stop waits for it), after the messages already queued were
 * handled; meanwhile spawning is refused with NODE_STOPPING. actnet_node_stop from inside a
 * handler, an init or a terminate returns WRONG_CONTEXT and the node keeps running. A second
 * stop while the first is under way waits for it and returns OK; once stopped, the handle
 * stays valid until actnet_node_free: stopping again is OK, and every other call returns
 * NODE_STOPPING (0.2; 0.1 freed the node in actnet_node_stop). */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "harness.h"

enum { TAG_STOP_NODE = 1, TAG_COUNT = 2, TAG_BLOCK = 3 };
enum { EV_INIT_STOP = 1, EV_HANDLER_STOP = 2, EV_COUNT = 3, EV_TERM = 4, EV_TERM_TRIES = 5 };

typedef struct ctx {
  evlog *log;
  gate *gate;
  atomic_bool stopping;
  actnet_behavior *spare; /* for spawn attempts from terminate */
} ctx;

static int32_t s_init(void *user_data, actnet_node *node, actnet_pid pid, const uint8_t *args,
                      size_t args_len, void **state) {
  (void)state;
  ctx *c = user_data;
  if (args_len == 4 && memcmp(args, "stop", 4) == 0) {
    evlog_add(c->log, EV_INIT_STOP, pid, 0, 0, actnet_node_stop(node), NULL);
  }
  return 0;
}

static int32_t s_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                        const actnet_message *m) {
  (void)state;
  ctx *c = user_data;
  if (m->kind == ACTNET_MSG_CALL) {
    CHECK_OK(actnet_process_reply(node, m->reference, (const uint8_t *)"alive", 5));
    return 0;
  }
  if (m->kind != ACTNET_MSG_USER) return 0;
  switch (m->tag) {
    case TAG_STOP_NODE:
      evlog_add(c->log, EV_HANDLER_STOP, pid, 0, 0, actnet_node_stop(node), NULL);
      break;
    case TAG_COUNT: {
      uint32_t seq;
      CHECK(m->len == sizeof seq);
      memcpy(&seq, m->data, sizeof seq);
      evlog_add(c->log, EV_COUNT, pid, seq, 0, 0, NULL);
      break;
    }
    case TAG_BLOCK:
      CHECK(gate_wait(c->gate, 10000));
      break;
  }
  return 0;
}

static void s_terminate(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                        uint32_t reason, int32_t code) {
  (void)state;
  ctx *c = user_data;
  evlog_add(c->log, EV_TERM, pid, reason, 0, code, NULL);
  if (atomic_load(&c->stopping)) {
    actnet_pid out = {0};
    actnet_alias alias_out = {0};
    actnet_status spawn = actnet_process_spawn(node, c->spare, NULL, &out);
    actnet_status fwd = actnet_forwarder_spawn(node, pid, NULL, &alias_out);
    actnet_status stop = actnet_node_stop(node);
    evlog_add(c->log, EV_TERM_TRIES, pid, spawn, fwd, stop, NULL);
  }
}

static actnet_pid spawn_with(actnet_node *node, actnet_behavior *b, const char *args, const char *name) {
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.args = (const uint8_t *)args;
  so.args_len = args ? strlen(args) : 0;
  so.name = name;
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));
  return pid;
}

int main(void) {
  actnet_node *node = test_node_start();
  ctx c = {.log = evlog_new(), .gate = gate_new()};
  atomic_init(&c.stopping, false);
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.init = s_init;
  cb.handle_message = s_handle;
  cb.terminate = s_terminate;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, &c, NULL, &b));
  CHECK_OK(actnet_behavior_new(&cb, &c, NULL, &c.spare));

  actnet_pid pids[16];
  int n = 0;
  /* node stop from an init (on this thread, but inside a callback) */
  pids[n++] = spawn_with(node, b, "stop", NULL);
  CHECK(evlog_count(c.log) == 1);
  evrec r = evlog_at(c.log, 0);
  CHECK(r.what == EV_INIT_STOP && r.pid.id == pids[0].id && r.c == ACTNET_STATUS_WRONG_CONTEXT);

  for (int i = 0; i < 4; i++) pids[n++] = spawn_with(node, b, NULL, i == 0 ? "named" : NULL);

  /* node stop from a handler */
  CHECK_OK(actnet_message_send(node, pids[1], TAG_STOP_NODE, NULL, 0));
  CHECK(evlog_wait(c.log, 2, WAIT_MS));
  r = evlog_at(c.log, 1);
  CHECK(r.what == EV_HANDLER_STOP && r.pid.id == pids[1].id && r.c == ACTNET_STATUS_WRONG_CONTEXT);
  /* ... and the node keeps running */
  actnet_buf *reply = NULL;
  CHECK_OK(actnet_process_call(node, pids[1], 0, NULL, 0, 2000, &reply));
  CHECK(actnet_buf_len(reply) == 5 && memcmp(actnet_buf_data(reply), "alive", 5) == 0);
  CHECK_OK(actnet_buf_free(reply));
  pids[n++] = spawn_with(node, b, NULL, NULL);
  CHECK_OK(actnet_message_send_name(node, "named", TAG_STOP_NODE, NULL, 0));
  CHECK(evlog_wait(c.log, 3, WAIT_MS));
  CHECK(evlog_at(c.log, 2).c == ACTNET_STATUS_WRONG_CONTEXT);

  /* a supervisor's children, a forwarder, a probe */
  actnet_child_spec specs[2];
  const char *names[2] = {"child1", "child2"};
  for (int i = 0; i < 2; i++) {
    CHECK_OK(actnet_child_spec_init(&specs[i]));
    specs[i].name = names[i];
    specs[i].behavior = b;
  }
  actnet_supervisor_options so;
  CHECK_OK(actnet_supervisor_options_init(&so));
  so.children = specs;
  so.children_len = 2;
  actnet_pid sup = {0};
  CHECK_OK(actnet_supervisor_spawn(node, &so, &sup));
  for (int i = 0; i < 2; i++) {
    CHECK_OK(actnet_name_lookup(node, names[i], &pids[n]));
    n++;
  }
  actnet_alias alias = {0};
  CHECK_OK(actnet_forwarder_spawn(node, pids[2], NULL, &alias));
  probe *p = probe_new();
  probe_spawn(node, p, NULL);
  probe_spawn(node, p, "probe2");

  /* a process with queued messages: they are handled before it terminates */
  actnet_pid counter = pids[3];
  int base = evlog_count(c.log);
  enum { QUEUED = 200 };
  for (uint32_t i = 0; i < QUEUED; i++) {
    CHECK_OK(actnet_message_send(node, counter, TAG_COUNT, (const uint8_t *)&i, sizeof i));
  }
  CHECK(base == 3);

  /* a process whose handler is blocked: the stop waits for it */
  actnet_pid blocked = spawn_with(node, b, NULL, NULL);
  pids[n++] = blocked;
  CHECK_OK(actnet_message_send(node, blocked, TAG_BLOCK, NULL, 0));
  CHECK(gate_wait_arrivals(c.gate, 1, WAIT_MS));

  atomic_store(&c.stopping, true);
  stopper st = {.node = node};
  atomic_init(&st.done, false);
  pthread_t th;
  CHECK(pthread_create(&th, NULL, stop_node, &st) == 0);
  /* a second stop, while the first is under way, waits for it too */
  stopper st2 = {.node = node};
  atomic_init(&st2.done, false);
  pthread_t th2;
  CHECK(pthread_create(&th2, NULL, stop_node, &st2) == 0);
  /* the stop cannot finish while the handler is blocked (no event says "still stopping",
   * so watch for a while) */
  int64_t t0 = now_ms();
  while (now_ms() - t0 < 300) {
    CHECK(!atomic_load(&st.done));
    CHECK(!atomic_load(&st2.done));
    sched_yield();
  }
  CHECK(evlog_count(c.log) < base + QUEUED + 2 * n); /* the blocked one has not terminated */
  gate_open(c.gate);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK(pthread_join(th2, NULL) == 0);
  CHECK_OK(st.status);
  CHECK_OK(st2.status); /* 0.2: waited for the first stop (0.1: NODE_STOPPING at once) */
  CHECK(probe_terminated(p) == 2);

  /* The stopped node's handle: stopping again is OK; everything else is NODE_STOPPING and
   * writes no out-parameter. */
  CHECK_OK(actnet_node_stop(node));
  actnet_pid pid_out = {0xAB};
  actnet_alias alias_out = {0xAB};
  uint64_t ref = 0xAB;
  actnet_info *info = NULL;
  actnet_buf *call_reply = NULL;
  CHECK_STATUS(actnet_process_spawn(node, b, NULL, &pid_out), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_message_send(node, counter, TAG_COUNT, NULL, 0), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_message_send_name(node, "named", TAG_COUNT, NULL, 0), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_process_call(node, counter, 1, NULL, 0, 100, &call_reply), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_name_lookup(node, "named", &pid_out), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_process_inspect(node, counter, &info), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_meta_inspect(node, alias, &info), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_process_monitor(node, counter, blocked, &ref), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_process_stop(node, counter), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_forwarder_spawn(node, counter, NULL, &alias_out), ACTNET_STATUS_NODE_STOPPING);
  CHECK_STATUS(actnet_meta_terminate(node, alias), ACTNET_STATUS_NODE_STOPPING);
  actnet_tcp_server_options server;
  CHECK_OK(actnet_tcp_server_options_init(&server));
  server.host = "127.0.0.1";
  CHECK_STATUS(actnet_tcp_server_spawn(node, counter, &server, &alias_out, NULL), ACTNET_STATUS_NODE_STOPPING);
  CHECK(pid_out.id == 0xAB && alias_out.id == 0xAB && ref == 0xAB && info == NULL && call_reply == NULL);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));

  /* every process's terminate ran exactly once, with SHUTDOWN; every attempt to start
   * something while stopping was refused, and so was stopping from terminate */
  int total = evlog_count(c.log);
  CHECK(total == base + QUEUED + 2 * n);
  int terms[16] = {0};
  uint32_t next_seq = 0;
  bool counter_ended = false;
  for (int i = base; i < total; i++) {
    evrec e = evlog_at(c.log, i);
    if (e.what == EV_COUNT) {
      CHECK(e.pid.id == counter.id && !counter_ended);
      CHECK(e.a == next_seq);
      next_seq++;
      continue;
    }
    if (e.what == EV_TERM_TRIES) {
      CHECK(e.a == ACTNET_STATUS_NODE_STOPPING);
      CHECK(e.b == ACTNET_STATUS_NODE_STOPPING);
      CHECK(e.c == ACTNET_STATUS_WRONG_CONTEXT);
      continue;
    }
    CHECK(e.what == EV_TERM);
    CHECK(e.a == ACTNET_EXIT_SHUTDOWN && e.c == 0);
    int k;
    for (k = 0; k < n; k++)
      if (pids[k].id == e.pid.id) break;
    CHECK(k < n);
    terms[k]++;
    if (e.pid.id == counter.id) counter_ended = true;
  }
  CHECK(next_seq == QUEUED);
  for (int k = 0; k < n; k++) CHECK(terms[k] == 1);
  (void)sup;
  (void)alias;

  CHECK_OK(actnet_behavior_free(b));
  CHECK_OK(actnet_behavior_free(c.spare));
  evlog_free(c.log);
  gate_free(c.gate);
  probe_release(p);
  printf("ok\n");
  return 0;
}
