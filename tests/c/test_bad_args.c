/* Bad arguments from foreign code get a status, never a crash, and out-parameters stay
 * untouched: NULL wherever a pointer can be passed, wrong struct_size (STRUCT_SIZE),
 * invalid enum values and strings (INVALID_ARGUMENT), buffers freed twice (DOUBLE_FREE),
 * a call's reply buffer freed once (fine) and twice (DOUBLE_FREE). The *_str functions
 * describe unknown values without returning NULL. */
#include <string.h>

#include "harness.h"

static int32_t handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)u;
  (void)n;
  (void)pid;
  (void)s;
  (void)m;
  return 0;
}

static int init_calls;
static int32_t counting_init(void *u, actnet_node *n, actnet_pid pid, const uint8_t *a, size_t l, void **s) {
  (void)u;
  (void)n;
  (void)pid;
  (void)a;
  (void)l;
  (void)s;
  init_calls++;
  return 0;
}

#define UNTOUCHED 0xABCDEF12u

static void node_and_options(void) {
  CHECK_STATUS(actnet_node_options_init(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_node_options no;
  CHECK_OK(actnet_node_options_init(&no));
  CHECK(no.struct_size == sizeof no);
  CHECK(no.log_level == ACTNET_LOG_LEVEL_WARN && no.worker_threads == 0 && no.name == NULL);
  actnet_node *node = (actnet_node *)0x1;
  CHECK_STATUS(actnet_node_start(&no, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_node_start(NULL, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  no.struct_size = 0;
  CHECK_STATUS(actnet_node_start(&no, &node), ACTNET_STATUS_STRUCT_SIZE);
  no.struct_size = 3; /* too small to hold struct_size (0.2 accepts any smaller size from 4) */
  CHECK_STATUS(actnet_node_start(&no, &node), ACTNET_STATUS_STRUCT_SIZE);
  no.struct_size = sizeof no + 8;
  CHECK_STATUS(actnet_node_start(&no, &node), ACTNET_STATUS_STRUCT_SIZE);
  CHECK_OK(actnet_node_options_init(&no));
  no.log_level = ACTNET_LOG_LEVEL_TRACE + 1;
  CHECK_STATUS(actnet_node_start(&no, &node), ACTNET_STATUS_INVALID_ARGUMENT);
  no.log_level = UINT32_MAX;
  CHECK_STATUS(actnet_node_start(&no, &node), ACTNET_STATUS_INVALID_ARGUMENT);
  no.log_level = ACTNET_LOG_LEVEL_OFF;
  no.name = "";
  CHECK_STATUS(actnet_node_start(&no, &node), ACTNET_STATUS_INVALID_ARGUMENT);
  no.name = "bad\xc3\x28utf8";
  CHECK_STATUS(actnet_node_start(&no, &node), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK(node == (actnet_node *)0x1);
  CHECK_STATUS(actnet_node_stop(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_node_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  /* NULL options: defaults */
  CHECK_OK(actnet_node_start(NULL, &node));
  CHECK(node != NULL && node != (actnet_node *)0x1);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
}

static void behaviors(void) {
  CHECK_STATUS(actnet_behavior_callbacks_init(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_behavior_callbacks cb;
  memset(&cb, 0xAA, sizeof cb);
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  CHECK(cb.struct_size == sizeof cb && cb.init == NULL && cb.handle_message == NULL && cb.terminate == NULL);
  actnet_behavior *b = (actnet_behavior *)0x1;
  CHECK_STATUS(actnet_behavior_new(&cb, NULL, NULL, &b), ACTNET_STATUS_NULL_ARGUMENT);
  cb.handle_message = handle;
  /* 0.2: a smaller struct_size is an older caller's: the fields past it take their
   * defaults, so with 4 bytes handle_message is missing (was STRUCT_SIZE) */
  cb.struct_size = 4;
  CHECK_STATUS(actnet_behavior_new(&cb, NULL, NULL, &b), ACTNET_STATUS_NULL_ARGUMENT);
  cb.struct_size = 3;
  CHECK_STATUS(actnet_behavior_new(&cb, NULL, NULL, &b), ACTNET_STATUS_STRUCT_SIZE);
  cb.struct_size = sizeof cb + 8;
  CHECK_STATUS(actnet_behavior_new(&cb, NULL, NULL, &b), ACTNET_STATUS_STRUCT_SIZE);
  CHECK_STATUS(actnet_behavior_new(NULL, NULL, NULL, &b), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(b == (actnet_behavior *)0x1);
  CHECK_STATUS(actnet_behavior_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
}

static void processes(actnet_node *node) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.init = counting_init;
  cb.handle_message = handle;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, NULL, NULL, &b));
  actnet_pid pid = {UNTOUCHED};
  uint64_t ref = UNTOUCHED;
  CHECK_STATUS(actnet_spawn_options_init(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  CHECK(so.struct_size == sizeof so && so.mailbox_size == 0 && so.name == NULL && so.link_to.id == 0 && !so.trap_exits);

  CHECK_STATUS(actnet_process_spawn(NULL, b, NULL, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_spawn(node, NULL, NULL, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_spawn(node, b, NULL, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  so.struct_size = 0;
  CHECK_STATUS(actnet_process_spawn(node, b, &so, &pid), ACTNET_STATUS_STRUCT_SIZE);
  so.struct_size = sizeof so + 4;
  CHECK_STATUS(actnet_process_spawn(node, b, &so, &pid), ACTNET_STATUS_STRUCT_SIZE);
  CHECK_OK(actnet_spawn_options_init(&so));
  so.args = NULL;
  so.args_len = 3;
  CHECK_STATUS(actnet_process_spawn(node, b, &so, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_OK(actnet_spawn_options_init(&so));
  so.name = "";
  CHECK_STATUS(actnet_process_spawn(node, b, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  so.name = "\xff";
  CHECK_STATUS(actnet_process_spawn(node, b, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  so.name = "dup";
  CHECK_STATUS(actnet_process_spawn_register(node, "dup2", b, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_process_spawn_register(node, NULL, b, NULL, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_spawn_register(NULL, "x", b, NULL, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_spawn_register(node, "x", NULL, NULL, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_spawn_register(node, "x", b, NULL, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(pid.id == UNTOUCHED);
  CHECK(init_calls == 0); /* no failed spawn ran a callback */
  actnet_pid x = {0};
  CHECK_STATUS(actnet_name_lookup(node, "x", &x), ACTNET_STATUS_NOT_FOUND);

  actnet_pid live = {0};
  CHECK_OK(actnet_process_spawn(node, b, NULL, &live));
  CHECK(init_calls == 1);

  /* names */
  CHECK_STATUS(actnet_name_lookup(NULL, "x", &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_name_lookup(node, NULL, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_name_lookup(node, "x", NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_name_lookup(node, "\xff", &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_name_register(NULL, "x", live), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_name_register(node, NULL, live), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_name_register(node, "", live), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_name_register(node, "\xc3", live), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_name_unregister(NULL, "x"), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_name_unregister(node, NULL), ACTNET_STATUS_NULL_ARGUMENT);

  /* sending */
  CHECK_STATUS(actnet_message_send(NULL, live, 0, NULL, 0), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_message_send(node, live, 0, NULL, 1), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_OK(actnet_message_send(node, live, 0, NULL, 0));
  CHECK_OK(actnet_message_send(node, live, 0, (const uint8_t *)"", 0));
  CHECK_STATUS(actnet_message_send_name(NULL, "x", 0, NULL, 0), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_message_send_name(node, NULL, 0, NULL, 0), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_message_send_name(node, "x", 0, NULL, 5), ACTNET_STATUS_NULL_ARGUMENT);

  /* lifecycle */
  CHECK_STATUS(actnet_process_stop(NULL, live), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_kill(NULL, live), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_trap_exits(NULL, live, true), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_link(NULL, live, live), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_unlink(NULL, live, live), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_monitor(NULL, live, live, &ref), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_pid other = {0};
  CHECK_OK(actnet_process_spawn(node, b, NULL, &other));
  CHECK_STATUS(actnet_process_monitor(node, live, other, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(strcmp(inspect_str(node, other, "monitored by"), "0") == 0); /* nothing was set up */
  CHECK_STATUS(actnet_process_demonitor(NULL, live, 1), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(ref == UNTOUCHED);

  /* calls */
  actnet_buf *r = (actnet_buf *)0x1;
  CHECK_STATUS(actnet_process_call(NULL, live, 0, NULL, 0, 10, &r), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_call(node, live, 0, NULL, 0, 10, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_call(node, live, 0, NULL, 4, 10, &r), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(r == (actnet_buf *)0x1);
  CHECK_STATUS(actnet_process_reply(NULL, 1, NULL, 0), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_reply(node, 1, NULL, 4), ACTNET_STATUS_NULL_ARGUMENT);

  /* meta */
  actnet_alias alias = {UNTOUCHED};
  CHECK_STATUS(actnet_forwarder_spawn(NULL, live, NULL, &alias), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_forwarder_spawn(node, live, NULL, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_forwarder_spawn(node, live, "\xff", &alias), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK(alias.id == UNTOUCHED);
  CHECK(strcmp(inspect_str(node, live, "meta-processes"), "0") == 0);
  CHECK_STATUS(actnet_meta_terminate(NULL, (actnet_alias){1}), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_meta_abort(NULL, (actnet_alias){1}), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_meta_send(NULL, (actnet_alias){1}, 0, NULL, 0), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_meta_monitor(NULL, live, (actnet_alias){1}, &ref), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(ref == UNTOUCHED);

  /* inspect */
  actnet_info *info = (actnet_info *)0x1;
  CHECK_STATUS(actnet_process_inspect(NULL, live, &info), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_inspect(node, live, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_meta_inspect(NULL, (actnet_alias){1}, &info), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_meta_inspect(node, (actnet_alias){1}, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(info == (actnet_info *)0x1);
  CHECK_STATUS(actnet_info_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);

  CHECK_OK(actnet_behavior_free(b));
}

static void supervisors(actnet_node *node) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.init = counting_init;
  cb.handle_message = handle;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, NULL, NULL, &b));
  int inits = init_calls;

  CHECK_STATUS(actnet_child_spec_init(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_supervisor_options_init(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_child_spec spec;
  CHECK_OK(actnet_child_spec_init(&spec));
  CHECK(spec.struct_size == sizeof spec && spec.name == NULL && spec.behavior == NULL);
  spec.name = "c";
  spec.behavior = b;
  actnet_supervisor_options so;
  CHECK_OK(actnet_supervisor_options_init(&so));
  CHECK(so.struct_size == sizeof so && so.children == NULL && so.children_len == 0);
  so.children = &spec;
  so.children_len = 1;
  actnet_pid pid = {UNTOUCHED};

  CHECK_STATUS(actnet_supervisor_spawn(NULL, &so, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_supervisor_spawn(node, NULL, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  so.struct_size = 1;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_STRUCT_SIZE);
  so.struct_size = sizeof so;
  so.children = NULL;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  so.children = &spec;
  so.strategy = ACTNET_STRATEGY_REST_FOR_ONE + 1;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  so.strategy = UINT32_MAX;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  so.strategy = ACTNET_STRATEGY_ONE_FOR_ONE;
  so.name = "";
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  so.name = NULL;
  spec.restart = ACTNET_RESTART_TEMPORARY + 1;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  spec.restart = ACTNET_RESTART_PERMANENT;
  spec.struct_size = sizeof spec + 1; /* 0.2: a smaller one is accepted (an older caller) */
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_STRUCT_SIZE);
  spec.struct_size = sizeof spec;
  spec.name = NULL;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  spec.name = "";
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  spec.name = "\xff";
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  spec.name = "c";
  spec.behavior = NULL;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  spec.behavior = b;
  spec.args = NULL;
  spec.args_len = 2;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_NULL_ARGUMENT);
  spec.args_len = 0;
  CHECK(pid.id == UNTOUCHED);
  CHECK(init_calls == inits); /* no child started */
  /* two children with one name: refused before anything starts */
  actnet_child_spec twins[2] = {spec, spec};
  so.children = twins;
  so.children_len = 2;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK(init_calls == inits);
  /* a child name another process holds: the child cannot start */
  actnet_pid holder = {0};
  CHECK_OK(actnet_process_spawn_register(node, "c", b, NULL, &holder));
  inits = init_calls;
  so.children = &spec;
  so.children_len = 1;
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_INIT_FAILED);
  CHECK(init_calls == inits);
  /* the supervisor's own name taken */
  spec.name = "c2";
  so.name = "c";
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &pid), ACTNET_STATUS_NAME_TAKEN);
  CHECK(init_calls == inits);
  CHECK(pid.id == UNTOUCHED);
  CHECK_OK(actnet_behavior_free(b));
}

static void buffers(actnet_node *node) {
  actnet_pool *pool = (actnet_pool *)0x1;
  CHECK_STATUS(actnet_pool_new(64, 4, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_pool_new(0, 4, &pool), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK(pool == (actnet_pool *)0x1);
  CHECK_OK(actnet_pool_new(64, 4, &pool));
  CHECK_STATUS(actnet_pool_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_buf *buf = (actnet_buf *)0x1;
  CHECK_STATUS(actnet_pool_get(NULL, &buf), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_pool_get(pool, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(buf == (actnet_buf *)0x1);

  actnet_pool_stats st;
  memset(&st, 0, sizeof st);
  CHECK_STATUS(actnet_pool_stats_get(pool, &st), ACTNET_STATUS_STRUCT_SIZE); /* struct_size 0 */
  st.struct_size = sizeof st;
  CHECK_STATUS(actnet_pool_stats_get(NULL, &st), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_pool_stats_get(pool, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_OK(actnet_pool_stats_get(pool, &st));
  CHECK(st.buffer_size == 64 && st.outstanding == 0);

  /* get, use, free, free again */
  CHECK_OK(actnet_pool_get(pool, &buf));
  CHECK(actnet_buf_len(buf) == 0 && actnet_buf_capacity(buf) >= 64);
  memcpy(actnet_buf_data(buf), "hello", 5);
  CHECK_OK(actnet_buf_set_len(buf, 5));
  CHECK(actnet_buf_len(buf) == 5 && memcmp(actnet_buf_data(buf), "hello", 5) == 0);
  CHECK_STATUS(actnet_buf_set_len(buf, actnet_buf_capacity(buf) + 1), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK(actnet_buf_len(buf) == 5);
  CHECK_OK(actnet_pool_stats_get(pool, &st));
  CHECK(st.outstanding == 1);
  CHECK_OK(actnet_buf_free(buf));
  CHECK_STATUS(actnet_buf_free(buf), ACTNET_STATUS_DOUBLE_FREE);
  CHECK_STATUS(actnet_buf_set_len(buf, 1), ACTNET_STATUS_DOUBLE_FREE);
  CHECK(actnet_buf_data(buf) == NULL);
  CHECK(actnet_buf_len(buf) == 0);
  CHECK(actnet_buf_capacity(buf) == 0);
  CHECK_OK(actnet_pool_stats_get(pool, &st));
  CHECK(st.outstanding == 0 && st.idle == 1);
  /* NULL buffers */
  CHECK_STATUS(actnet_buf_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_buf_set_len(NULL, 0), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(actnet_buf_data(NULL) == NULL && actnet_buf_len(NULL) == 0 && actnet_buf_capacity(NULL) == 0);
  /* the pool's reference goes, an outstanding buffer keeps it alive */
  actnet_buf *kept = NULL;
  CHECK_OK(actnet_pool_get(pool, &kept));
  CHECK_OK(actnet_pool_free(pool));
  CHECK(actnet_buf_capacity(kept) >= 64);
  CHECK_OK(actnet_buf_free(kept)); /* (a second free would be undefined: the pool is gone) */

  /* a call's reply buffer: freed once is fine, twice is DOUBLE_FREE */
  probe *p = probe_new();
  actnet_pid echo = probe_spawn(node, p, NULL);
  actnet_buf *reply = NULL;
  CHECK_OK(actnet_process_call(node, echo, PROBE_CMD_ECHO, (const uint8_t *)"abc", 3, 2000, &reply));
  CHECK(actnet_buf_len(reply) == 3 && memcmp(actnet_buf_data(reply), "abc", 3) == 0);
  CHECK_OK(actnet_buf_free(reply));
  CHECK_STATUS(actnet_buf_free(reply), ACTNET_STATUS_DOUBLE_FREE);
  CHECK(actnet_buf_data(reply) == NULL);
  /* ... and an empty reply */
  CHECK_OK(actnet_process_call(node, echo, PROBE_CMD_ECHO, NULL, 0, 2000, &reply));
  CHECK(actnet_buf_len(reply) == 0);
  CHECK_OK(actnet_buf_free(reply));
  CHECK_STATUS(actnet_buf_free(reply), ACTNET_STATUS_DOUBLE_FREE);
  CHECK_OK(actnet_process_stop(node, echo));
  CHECK(probe_wait_terminated(p, 1, WAIT_MS));
  probe_release(p);
}

static void strings(void) {
  const char *s = actnet_status_str(ACTNET_STATUS_OK);
  CHECK(s != NULL && s[0] != 0);
  for (uint32_t i = 0; i <= ACTNET_STATUS_PANIC; i++) {
    s = actnet_status_str(i);
    CHECK(s != NULL && s[0] != 0);
    CHECK(strcmp(s, actnet_status_str(9999)) != 0); /* every known code has its own text */
  }
  CHECK(actnet_status_str(9999) != NULL);
  CHECK(actnet_status_str(UINT32_MAX) != NULL);
  CHECK(strcmp(actnet_message_kind_str(ACTNET_MSG_DOWN), "DOWN") == 0);
  CHECK(strcmp(actnet_message_kind_str(0), "unknown") == 0);
  CHECK(strcmp(actnet_message_kind_str(UINT32_MAX), "unknown") == 0);
  CHECK(strcmp(actnet_exit_reason_str(ACTNET_EXIT_MAX_RESTARTS), "max restarts") == 0);
  CHECK(strcmp(actnet_exit_reason_str(UINT32_MAX), "unknown") == 0);
  CHECK(strcmp(actnet_disconnect_reason_str(ACTNET_DISCONNECT_REASON_PEER_CLOSED), "peer closed") == 0);
  CHECK(strcmp(actnet_disconnect_reason_str(0), "unknown") == 0);
  CHECK(strcmp(actnet_version(), ACTNET_VERSION_STRING) == 0);
}

int main(void) {
  node_and_options();
  behaviors();
  strings();
  actnet_node *node = test_node_start();
  processes(node);
  supervisors(node);
  buffers(node);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("ok\n");
  return 0;
}
