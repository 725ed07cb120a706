/* Node lifetime (0.2): actnet_node_stop stops the node and keeps the handle; every call on
 * a stopped node returns ACTNET_STATUS_NODE_STOPPING; actnet_node_free releases the handle.
 *
 * Each round starts a node with an echo process (answers CALLs, echoes TCP data), a TCP
 * server and a pool, then runs CALLERS threads that call every kind of function in a loop
 * (sends, calls, spawns, links, monitors, names, inspect, TCP servers, connects, writes,
 * forwarders, meta sends, terminate and abort) while the main thread stops the node; one
 * caller also calls actnet_node_stop itself (a stop while another is under way waits for it
 * and returns OK). Whatever a call returns while the node stops, once a caller sees
 * NODE_STOPPING from the stopped node, one more pass over every function must return
 * NODE_STOPPING from each (actnet_node_stop: OK). Then the callers end, the main thread
 * joins them and frees the node: the handle is used by no one after the free, as the
 * header requires. Run plain, under ASan+UBSan and under valgrind: no report, no leak, and
 * no call ever returned ACTNET_STATUS_PANIC.
 * Also: a stop or free from a log callback, here one the stop itself writes, is
 * WRONG_CONTEXT (it used to hang), and freeing a running node stops it. */
#include <string.h>
#include <unistd.h>

#include "harness.h"

enum { CALLERS = 3, ROUNDS = 12, PASSES_BEFORE_STOP = 3 };

typedef struct round_state {
  actnet_node *node;
  actnet_behavior *behavior;
  actnet_pid echo;
  actnet_alias server;
  uint16_t port;
  actnet_pool *pool;
  pthread_mutex_t lock;
  pthread_cond_t progressed;
  int passes; /* every caller's passes before the stop, together */
} round_state;

typedef struct caller {
  round_state *round;
  int index;
  bool also_stops;  /* this caller calls actnet_node_stop too, once the node is stopping */
  int panics;       /* calls that returned ACTNET_STATUS_PANIC: must stay 0 */
  int final_wrong;  /* calls on the stopped node that did not return NODE_STOPPING */
} caller;

static int32_t echo(void *user_data, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)user_data, (void)pid, (void)state;
  if (m->kind == ACTNET_MSG_CALL) actnet_process_reply(node, m->reference, m->data, m->len);
  if (m->kind == ACTNET_MSG_DATA) actnet_tcp_write(node, m->alias, m->data, m->len);
  return 0;
}

/* Counts a status: PANIC is a failure whenever it comes. */
static actnet_status seen(caller *c, actnet_status status) {
  if (status == ACTNET_STATUS_PANIC) c->panics++;
  return status;
}

/* A stopped node: the call must have returned NODE_STOPPING. */
static void stopped(caller *c, actnet_status status, const char *what) {
  if (status != ACTNET_STATUS_NODE_STOPPING) {
    fprintf(stderr, "caller %d: %s on a stopped node returned %s\n", c->index, what, actnet_status_str(status));
    c->final_wrong++;
  }
}

/* One call of every kind. With `final`, the node has stopped and each must say so. */
static void every_call(caller *c, bool final) {
  round_state *r = c->round;
  actnet_node *node = r->node;
  const uint8_t bytes[] = "ping";
#define CALL(what, expr) (final ? (stopped(c, (expr), what), ACTNET_STATUS_NODE_STOPPING) : seen(c, (expr)))

  actnet_pid found = {0};
  CALL("name_lookup", actnet_name_lookup(node, "lifetime-echo", &found));
  CALL("message_send", actnet_message_send(node, r->echo, 1, bytes, sizeof bytes));
  CALL("message_send_name", actnet_message_send_name(node, "lifetime-echo", 1, bytes, sizeof bytes));

  actnet_buf *reply = NULL;
  if (CALL("process_call", actnet_process_call(node, r->echo, 2, bytes, sizeof bytes, 200, &reply)) == ACTNET_STATUS_OK)
    actnet_buf_free(reply);
  CALL("process_reply", actnet_process_reply(node, 12345, bytes, sizeof bytes));

  actnet_pid child = {0};
  if (CALL("process_spawn", actnet_process_spawn(node, r->behavior, NULL, &child)) == ACTNET_STATUS_OK) {
    seen(c, actnet_process_link(node, r->echo, child));
    seen(c, actnet_process_unlink(node, r->echo, child));
    seen(c, actnet_name_register(node, c->index == 0 ? "lifetime-child-0" : "lifetime-child-n", child));
    seen(c, actnet_process_stop(node, child));
  } else if (final) {
    child.id = 2; /* any id: a stopped node answers before looking */
    stopped(c, actnet_process_link(node, r->echo, child), "process_link");
    stopped(c, actnet_process_unlink(node, r->echo, child), "process_unlink");
    stopped(c, actnet_name_register(node, "lifetime-child", child), "name_register");
    stopped(c, actnet_process_stop(node, child), "process_stop");
  }
  CALL("name_unregister", actnet_name_unregister(node, "lifetime-child-0"));
  CALL("process_spawn_register", actnet_process_spawn_register(node, "lifetime-gone", r->behavior, NULL, &child));
  CALL("process_kill", actnet_process_kill(node, child));
  CALL("process_trap_exits", actnet_process_trap_exits(node, r->echo, false));

  actnet_info *info = NULL;
  if (CALL("process_inspect", actnet_process_inspect(node, r->echo, &info)) == ACTNET_STATUS_OK) actnet_info_free(info);
  if (CALL("meta_inspect", actnet_meta_inspect(node, r->server, &info)) == ACTNET_STATUS_OK) actnet_info_free(info);

  uint64_t reference = 0;
  if (CALL("process_monitor", actnet_process_monitor(node, r->echo, r->echo, &reference)) == ACTNET_STATUS_OK)
    seen(c, actnet_process_demonitor(node, r->echo, reference));
  if (CALL("meta_monitor", actnet_meta_monitor(node, r->echo, r->server, &reference)) == ACTNET_STATUS_OK)
    seen(c, actnet_process_demonitor(node, r->echo, reference));
  CALL("process_demonitor", actnet_process_demonitor(node, r->echo, 777));

  actnet_tcp_client_options client;
  CHECK_OK(actnet_tcp_client_options_init(&client));
  client.host = "127.0.0.1";
  client.port = r->port;
  client.connect_timeout_ms = 1000;
  actnet_alias conn = {0};
  if (CALL("tcp_connect", actnet_tcp_connect(node, r->echo, &client, &conn)) == ACTNET_STATUS_OK) {
    seen(c, actnet_tcp_write(node, conn, bytes, sizeof bytes));
    actnet_buf *buf = NULL;
    CHECK_OK(actnet_pool_get(r->pool, &buf));
    if (seen(c, actnet_tcp_write_buf(node, conn, buf)) != ACTNET_STATUS_OK) CHECK_OK(actnet_buf_free(buf));
    seen(c, actnet_meta_terminate(node, conn));
  } else if (final) {
    conn.id = 1;
    stopped(c, actnet_tcp_write(node, conn, bytes, sizeof bytes), "tcp_write");
    actnet_buf *buf = NULL;
    CHECK_OK(actnet_pool_get(r->pool, &buf));
    stopped(c, actnet_tcp_write_buf(node, conn, buf), "tcp_write_buf");
    CHECK_OK(actnet_buf_free(buf)); /* refused: still the caller's */
  }

  actnet_tcp_server_options server;
  CHECK_OK(actnet_tcp_server_options_init(&server));
  server.host = "127.0.0.1";
  actnet_alias listener = {0};
  if (CALL("tcp_server_spawn", actnet_tcp_server_spawn(node, r->echo, &server, &listener, NULL)) == ACTNET_STATUS_OK)
    seen(c, actnet_meta_abort(node, listener));
  CALL("meta_abort", actnet_meta_abort(node, listener));

  actnet_alias forwarder = {0};
  if (CALL("forwarder_spawn", actnet_forwarder_spawn(node, r->echo, NULL, &forwarder)) == ACTNET_STATUS_OK) {
    seen(c, actnet_meta_send(node, forwarder, 3, bytes, sizeof bytes));
    seen(c, actnet_meta_terminate(node, forwarder));
  }
  CALL("meta_send", actnet_meta_send(node, forwarder, 3, bytes, sizeof bytes));
  CALL("meta_terminate", actnet_meta_terminate(node, forwarder));

  actnet_supervisor_options supervisor;
  CHECK_OK(actnet_supervisor_options_init(&supervisor));
  actnet_pid sup = {0};
  if (CALL("supervisor_spawn", actnet_supervisor_spawn(node, &supervisor, &sup)) == ACTNET_STATUS_OK)
    seen(c, actnet_process_stop(node, sup));
#undef CALL
}

static void count_pass(round_state *r) {
  pthread_mutex_lock(&r->lock);
  r->passes++;
  pthread_cond_broadcast(&r->progressed);
  pthread_mutex_unlock(&r->lock);
}

static void *call_until_stopped(void *arg) {
  caller *c = arg;
  actnet_pid canary = {0};
  int64_t deadline = now_ms() + 10 * WAIT_MS;
  /* The canary: the echo process's name resolves until the stop ends it, then NOT_FOUND
   * while the node winds down, then NODE_STOPPING once the node has stopped. */
  while (seen(c, actnet_name_lookup(c->round->node, "lifetime-echo", &canary)) != ACTNET_STATUS_NODE_STOPPING) {
    every_call(c, false);
    count_pass(c->round);
    if (c->also_stops && actnet_name_lookup(c->round->node, "lifetime-echo", &canary) != ACTNET_STATUS_OK)
      CHECK_OK(actnet_node_stop(c->round->node)); /* the node is stopping: this one waits for it */
    CHECK(now_ms() < deadline);
  }
  every_call(c, true);
  CHECK_OK(actnet_node_stop(c->round->node)); /* idempotent */
  return NULL;
}

static void wait_for_passes(round_state *r, int passes) {
  struct timespec deadline;
  deadline_in(&deadline, WAIT_MS);
  pthread_mutex_lock(&r->lock);
  while (r->passes < passes) CHECK(pthread_cond_timedwait(&r->progressed, &r->lock, &deadline) == 0);
  pthread_mutex_unlock(&r->lock);
}

static void one_round(int index) {
  round_state r = {0};
  pthread_mutex_init(&r.lock, NULL);
  pthread_cond_init(&r.progressed, NULL);
  r.node = test_node_start();

  actnet_behavior_callbacks callbacks;
  CHECK_OK(actnet_behavior_callbacks_init(&callbacks));
  callbacks.handle_message = echo;
  CHECK_OK(actnet_behavior_new(&callbacks, NULL, NULL, &r.behavior));
  CHECK_OK(actnet_process_spawn_register(r.node, "lifetime-echo", r.behavior, NULL, &r.echo));
  actnet_tcp_server_options server;
  CHECK_OK(actnet_tcp_server_options_init(&server));
  server.host = "127.0.0.1";
  CHECK_OK(actnet_tcp_server_spawn(r.node, r.echo, &server, &r.server, &r.port));
  CHECK_OK(actnet_pool_new(64, 8, &r.pool));

  pthread_t threads[CALLERS];
  caller callers[CALLERS];
  for (int i = 0; i < CALLERS; i++) {
    callers[i] = (caller){.round = &r, .index = i, .also_stops = i == 0 && index % 2 == 1};
    CHECK(pthread_create(&threads[i], NULL, call_until_stopped, &callers[i]) == 0);
  }
  wait_for_passes(&r, CALLERS * PASSES_BEFORE_STOP);
  CHECK_OK(actnet_node_stop(r.node));
  for (int i = 0; i < CALLERS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(callers[i].panics == 0);
    CHECK(callers[i].final_wrong == 0);
  }
  /* Stopped, and nobody uses the handle any more: release it. */
  CHECK_OK(actnet_node_stop(r.node));
  CHECK_OK(actnet_node_free(r.node));
  CHECK_OK(actnet_behavior_free(r.behavior));
  actnet_pool_stats stats;
  CHECK_OK(actnet_pool_stats_init(&stats));
  CHECK_OK(actnet_pool_stats_get(r.pool, &stats));
  CHECK(stats.outstanding == 0); /* every buffer written or refused came back */
  CHECK_OK(actnet_pool_free(r.pool));
  pthread_cond_destroy(&r.progressed);
  pthread_mutex_destroy(&r.lock);
}

/* Log callback: when the stop says it is stopping, try to stop (and free) from here. */
typedef struct log_probe {
  actnet_node *node;
  atomic_int tries;
  atomic_uint stop_status, free_status;
} log_probe;

static void stop_from_log(void *user_data, uint32_t level, const char *line) {
  (void)level;
  log_probe *lp = user_data;
  if (strstr(line, "stopping") != NULL && atomic_fetch_add(&lp->tries, 1) == 0) {
    atomic_store(&lp->stop_status, actnet_node_stop(lp->node));
    atomic_store(&lp->free_status, actnet_node_free(lp->node));
  }
}

static void stop_from_a_log_callback(void) {
  log_probe lp = {0};
  actnet_node_options options;
  CHECK_OK(actnet_node_options_init(&options));
  options.worker_threads = 1;
  options.log_level = ACTNET_LOG_LEVEL_DEBUG;
  options.log = stop_from_log;
  options.log_user_data = &lp;
  CHECK_OK(actnet_node_start(&options, &lp.node));
  CHECK_OK(actnet_node_stop(lp.node));
  CHECK(atomic_load(&lp.tries) >= 1);
  CHECK_STATUS(atomic_load(&lp.stop_status), ACTNET_STATUS_WRONG_CONTEXT);
  CHECK_STATUS(atomic_load(&lp.free_status), ACTNET_STATUS_WRONG_CONTEXT);
  CHECK_OK(actnet_node_free(lp.node));
}

int main(void) {
  /* Fewer rounds where everything runs many times slower (valgrind). */
  int rounds = ROUNDS / test_slow() > 2 ? ROUNDS / test_slow() : 2;
  for (int i = 0; i < rounds; i++) one_round(i);

  stop_from_a_log_callback();

  /* Freeing a running node stops it first; NULL is refused. */
  actnet_node *node = test_node_start();
  CHECK_OK(actnet_node_free(node));
  CHECK_STATUS(actnet_node_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_node_stop(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  printf("test_node_lifetime: %d rounds ok\n", rounds);
  return 0;
}
