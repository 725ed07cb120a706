/* free_user_data runs exactly once, with the right pointer:
 * - a behaviour freed before any spawn: at once;
 * - a behaviour used by several processes (on two nodes) and freed early: when the last of
 *   them ends, not before;
 * - a behaviour in supervisor child specs (children restarted meanwhile): when the
 *   supervisor and its children have ended;
 * - after failed spawns (INIT_FAILED, NAME_TAKEN, STRUCT_SIZE): the failures hold nothing;
 * - never when actnet_behavior_new fails;
 * - the node's log callback user data: once, at stop (never when actnet_node_start fails).
 * Every callback receives the registered user_data. */
#include <string.h>

#include "harness.h"

typedef struct tracker {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int frees;
  int calls;  /* callbacks that received this user_data */
  int lines;  /* log lines */
  uint32_t worst_level;
  uint32_t magic;
} tracker;

#define MAGIC 0x5EED5EEDu

static void tracker_init(tracker *t) {
  memset(t, 0, sizeof *t);
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->cond, NULL);
  t->magic = MAGIC;
}

static void tracker_destroy(tracker *t) {
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->cond);
}

static int frees(tracker *t) {
  pthread_mutex_lock(&t->lock);
  int n = t->frees;
  pthread_mutex_unlock(&t->lock);
  return n;
}

/* Waits until callbacks were called at least n times with this user_data. */
static bool wait_calls(tracker *t, int n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += WAIT_MS / 1000;
  pthread_mutex_lock(&t->lock);
  while (t->calls < n) {
    if (pthread_cond_timedwait(&t->cond, &t->lock, &ts) != 0 && t->calls < n) break;
  }
  bool ok = t->calls >= n;
  pthread_mutex_unlock(&t->lock);
  return ok;
}

static void free_tracker(void *user_data) {
  tracker *t = user_data;
  CHECK(t->magic == MAGIC);
  pthread_mutex_lock(&t->lock);
  t->frees++;
  pthread_cond_broadcast(&t->cond);
  pthread_mutex_unlock(&t->lock);
}

static void touch(void *user_data) {
  tracker *t = user_data;
  CHECK(t->magic == MAGIC);
  pthread_mutex_lock(&t->lock);
  CHECK(t->frees == 0); /* no callback after the free */
  t->calls++;
  pthread_cond_broadcast(&t->cond);
  pthread_mutex_unlock(&t->lock);
}

static int32_t t_init(void *user_data, actnet_node *node, actnet_pid pid, const uint8_t *args,
                      size_t args_len, void **state) {
  (void)node;
  (void)pid;
  (void)state;
  touch(user_data);
  return args_len == 4 && memcmp(args, "fail", 4) == 0 ? 9 : 0;
}

static int32_t t_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                        const actnet_message *m) {
  (void)node;
  (void)pid;
  (void)state;
  touch(user_data);
  return m->kind == ACTNET_MSG_USER && m->tag == 666 ? 1 : 0;
}

static void t_terminate(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                        uint32_t reason, int32_t code) {
  (void)node;
  (void)pid;
  (void)state;
  (void)reason;
  (void)code;
  touch(user_data);
}

static void t_log(void *user_data, uint32_t level, const char *line) {
  tracker *t = user_data;
  CHECK(t->magic == MAGIC);
  CHECK(line != NULL);
  CHECK(level >= ACTNET_LOG_LEVEL_ERROR && level <= ACTNET_LOG_LEVEL_TRACE);
  pthread_mutex_lock(&t->lock);
  CHECK(t->frees == 0);
  t->lines++;
  if (level > t->worst_level) t->worst_level = level;
  pthread_mutex_unlock(&t->lock);
}

static actnet_behavior *new_behavior(tracker *t) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.init = t_init;
  cb.handle_message = t_handle;
  cb.terminate = t_terminate;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, t, free_tracker, &b));
  CHECK(b != NULL);
  return b;
}

static actnet_node *node;
static probe *w;
static actnet_pid watcher;

static void stop_and_wait(actnet_node *n, actnet_pid pid) {
  uint64_t ref;
  CHECK_OK(actnet_process_monitor(node, watcher, pid, &ref));
  CHECK_OK(actnet_process_stop(n, pid));
  probe_event e;
  probe_expect_down(w, pid, &e);
  probe_event_clear(&e);
}

int main(void) {
  actnet_node_options no;
  CHECK_OK(actnet_node_options_init(&no));
  tracker log_t;
  tracker_init(&log_t);
  no.worker_threads = 2;
  no.log_level = ACTNET_LOG_LEVEL_DEBUG;
  no.log = t_log;
  no.log_user_data = &log_t;
  no.free_log_user_data = free_tracker;

  /* a failed node start does not free the log user data */
  actnet_node *bad = (actnet_node *)0x1;
  no.name = "";
  CHECK_STATUS(actnet_node_start(&no, &bad), ACTNET_STATUS_INVALID_ARGUMENT);
  no.name = "\xff\xfe";
  CHECK_STATUS(actnet_node_start(&no, &bad), ACTNET_STATUS_INVALID_ARGUMENT);
  no.name = NULL;
  no.log_level = 42;
  CHECK_STATUS(actnet_node_start(&no, &bad), ACTNET_STATUS_INVALID_ARGUMENT);
  no.log_level = ACTNET_LOG_LEVEL_DEBUG;
  no.struct_size++; /* 0.2: a smaller struct_size is accepted, a larger one refused */
  CHECK_STATUS(actnet_node_start(&no, &bad), ACTNET_STATUS_STRUCT_SIZE);
  no.struct_size--;
  CHECK(bad == (actnet_node *)0x1);
  CHECK(frees(&log_t) == 0 && log_t.lines == 0);

  CHECK_OK(actnet_node_start(&no, &node));
  w = probe_new();
  watcher = probe_spawn(node, w, NULL);

  /* behaviour freed before any spawn: freed at once */
  tracker t0;
  tracker_init(&t0);
  actnet_behavior *b0 = new_behavior(&t0);
  CHECK(frees(&t0) == 0);
  CHECK_OK(actnet_behavior_free(b0));
  CHECK(frees(&t0) == 1 && t0.calls == 0);

  /* actnet_behavior_new failing never calls free */
  tracker tf;
  tracker_init(&tf);
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = t_handle;
  actnet_behavior *bf = (actnet_behavior *)0x1;
  cb.struct_size = 0;
  CHECK_STATUS(actnet_behavior_new(&cb, &tf, free_tracker, &bf), ACTNET_STATUS_STRUCT_SIZE);
  cb.struct_size = sizeof cb + 8;
  CHECK_STATUS(actnet_behavior_new(&cb, &tf, free_tracker, &bf), ACTNET_STATUS_STRUCT_SIZE);
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  CHECK_STATUS(actnet_behavior_new(&cb, &tf, free_tracker, &bf), ACTNET_STATUS_NULL_ARGUMENT); /* no handler */
  cb.handle_message = t_handle;
  CHECK_STATUS(actnet_behavior_new(&cb, &tf, free_tracker, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_behavior_new(NULL, &tf, free_tracker, &bf), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(bf == (actnet_behavior *)0x1);
  CHECK(frees(&tf) == 0 && tf.calls == 0);

  /* several processes, on two nodes, handle freed early */
  tracker t1;
  tracker_init(&t1);
  actnet_behavior *b1 = new_behavior(&t1);
  actnet_pid p[3];
  for (int i = 0; i < 3; i++) CHECK_OK(actnet_process_spawn(node, b1, NULL, &p[i]));
  actnet_node *node2 = test_node_start();
  actnet_pid q = {0};
  CHECK_OK(actnet_process_spawn(node2, b1, NULL, &q));
  CHECK_OK(actnet_behavior_free(b1));
  CHECK(frees(&t1) == 0);
  for (int i = 0; i < 3; i++) CHECK_OK(actnet_message_send(node, p[i], 1, NULL, 0));
  stop_and_wait(node, p[0]);
  stop_and_wait(node, p[1]);
  CHECK(frees(&t1) == 0);
  /* a process ending with an error */
  uint64_t ref;
  CHECK_OK(actnet_process_monitor(node, watcher, p[2], &ref));
  CHECK_OK(actnet_message_send(node, p[2], 666, NULL, 0));
  probe_event e;
  probe_expect_down(w, p[2], &e);
  CHECK(e.reason == ACTNET_EXIT_ERROR && e.reason_code == 1);
  probe_event_clear(&e);
  CHECK(frees(&t1) == 0); /* the process on node2 still uses it */
  CHECK_OK(actnet_node_stop(node2));
  CHECK_OK(actnet_node_free(node2));
  CHECK(frees(&t1) == 1);
  /* 4 inits, 3 messages + 1 error message, 4 terminates */
  CHECK(t1.calls == 4 + 4 + 4);

  /* supervisor child specs */
  tracker t2;
  tracker_init(&t2);
  actnet_behavior *b2 = new_behavior(&t2);
  actnet_child_spec specs[2];
  const char *names[2] = {"k1", "k2"};
  for (int i = 0; i < 2; i++) {
    CHECK_OK(actnet_child_spec_init(&specs[i]));
    specs[i].name = names[i];
    specs[i].behavior = b2;
  }
  actnet_supervisor_options so;
  CHECK_OK(actnet_supervisor_options_init(&so));
  so.children = specs;
  so.children_len = 2;
  actnet_pid sup = {0};
  CHECK_OK(actnet_supervisor_spawn(node, &so, &sup));
  CHECK_OK(actnet_behavior_free(b2));
  actnet_pid k1 = {0}, k2 = {0};
  CHECK_OK(actnet_name_lookup(node, "k1", &k1));
  CHECK_OK(actnet_name_lookup(node, "k2", &k2));
  /* a restart: the supervisor's reference makes the new child */
  CHECK_OK(actnet_process_monitor(node, watcher, k1, &ref));
  CHECK_OK(actnet_message_send(node, k1, 666, NULL, 0));
  probe_expect_down(w, k1, &e);
  probe_event_clear(&e);
  /* 2 inits, the handler, the terminate, then the restarted child's init */
  CHECK(wait_calls(&t2, 5));
  actnet_pid k1b = {0};
  CHECK_OK(actnet_name_lookup(node, "k1", &k1b));
  CHECK(k1b.id > k1.id);
  CHECK(frees(&t2) == 0);
  uint64_t r1, r2;
  CHECK_OK(actnet_process_monitor(node, watcher, k1b, &r1));
  CHECK_OK(actnet_process_monitor(node, watcher, k2, &r2));
  uint64_t rs;
  CHECK_OK(actnet_process_monitor(node, watcher, sup, &rs));
  CHECK(frees(&t2) == 0);
  CHECK_OK(actnet_process_stop(node, sup));
  /* once the supervisor and its children have ended (DOWNs in any order), it is freed */
  for (int i = 0; i < 3; i++) {
    probe_expect(w, ACTNET_MSG_DOWN, &e);
    CHECK((e.from.id == k1b.id && e.reference == r1) || (e.from.id == k2.id && e.reference == r2) ||
          (e.from.id == sup.id && e.reference == rs));
    CHECK(e.reason == ACTNET_EXIT_SHUTDOWN);
    probe_event_clear(&e);
  }
  CHECK(frees(&t2) == 1);
  CHECK(t2.calls == 5 + 2); /* and the two terminates */

  /* failed spawns hold no reference */
  tracker t3;
  tracker_init(&t3);
  actnet_behavior *b3 = new_behavior(&t3);
  actnet_spawn_options sopt;
  CHECK_OK(actnet_spawn_options_init(&sopt));
  sopt.args = (const uint8_t *)"fail";
  sopt.args_len = 4;
  actnet_pid out = {0xABC};
  CHECK_STATUS(actnet_process_spawn(node, b3, &sopt, &out), ACTNET_STATUS_INIT_FAILED);
  CHECK_OK(actnet_spawn_options_init(&sopt));
  CHECK_OK(actnet_process_spawn_register(node, "k3", b3, &sopt, &out));
  CHECK(out.id != 0xABC);
  actnet_pid named = out;
  out.id = 0xABC;
  CHECK_STATUS(actnet_process_spawn_register(node, "k3", b3, &sopt, &out), ACTNET_STATUS_NAME_TAKEN);
  sopt.struct_size = 3;
  CHECK_STATUS(actnet_process_spawn(node, b3, &sopt, &out), ACTNET_STATUS_STRUCT_SIZE);
  CHECK(out.id == 0xABC);
  stop_and_wait(node, named);
  CHECK(frees(&t3) == 0);
  CHECK_OK(actnet_behavior_free(b3));
  CHECK(frees(&t3) == 1);
  /* init ran twice (one failure, one success), terminate once (not after the failed init) */
  CHECK(t3.calls == 3);

  /* the log user data: freed once, at stop */
  CHECK(frees(&log_t) == 0);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  CHECK(frees(&log_t) == 1);
  CHECK(log_t.lines > 0 && log_t.worst_level <= ACTNET_LOG_LEVEL_DEBUG);

  /* nothing ran twice */
  CHECK(frees(&t0) == 1 && frees(&t1) == 1 && frees(&t2) == 1 && frees(&t3) == 1 && frees(&tf) == 0);
  tracker *all[] = {&log_t, &t0, &tf, &t1, &t2, &t3};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tracker_destroy(all[i]);
  probe_release(w);
  printf("ok\n");
  return 0;
}
