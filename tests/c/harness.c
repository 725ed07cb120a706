#include "harness.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

typedef struct node_ev {
  probe_event ev;
  struct node_ev *next;
} node_ev;

struct probe {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  node_ev *head, *tail;
  int refs;
  int terminated;
};

int test_slow(void) {
  static atomic_int factor; /* 0: not read yet */
  int f = atomic_load(&factor);
  if (f == 0) {
    const char *env = getenv("ACTNET_TEST_SLOW");
    f = env != NULL ? atoi(env) : 1;
    if (f < 1) f = 1;
    if (f > 100) f = 100;
    atomic_store(&factor, f);
  }
  return f;
}

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int open_fd_count(void) {
  DIR *d = opendir("/proc/self/fd");
  CHECK(d != NULL);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n - 1; /* the directory stream's own fd */
}

actnet_status inspect_any(actnet_node *node, any_id id, actnet_info **info_out) {
  return id.meta ? actnet_meta_inspect(node, (actnet_alias){id.id}, info_out)
                 : actnet_process_inspect(node, (actnet_pid){id.id}, info_out);
}

actnet_status monitor_any(actnet_node *node, actnet_pid watcher, any_id target, uint64_t *reference_out) {
  return target.meta ? actnet_meta_monitor(node, watcher, (actnet_alias){target.id}, reference_out)
                     : actnet_process_monitor(node, watcher, (actnet_pid){target.id}, reference_out);
}

const actnet_tcp_connection_options *test_conn_options_init(test_conn_options *tc) {
  CHECK_OK(actnet_tcp_connection_options_init(&tc->conn));
  CHECK_OK(actnet_chunk_options_init(&tc->chunk));
  tc->conn.read_chunk = &tc->chunk;
  return &tc->conn;
}

void expect_pid_calls_fail(actnet_node *node, actnet_pid pid, actnet_pid watcher, actnet_behavior *b,
                           actnet_status want) {
  const uint64_t untouched = 0xABCDEF;
  actnet_pid out = {untouched};
  actnet_alias alias_out = {untouched};
  uint64_t ref = untouched;
  uint16_t port = 0;
  actnet_info *info = NULL;
  actnet_buf *buf = NULL;
  CHECK_STATUS(actnet_message_send(node, pid, 1, (const uint8_t *)"x", 1), want);
  CHECK_STATUS(actnet_message_send(node, pid, 1, NULL, 0), want);
  CHECK_STATUS(actnet_process_call(node, pid, 1, (const uint8_t *)"x", 1, 100, &buf), want);
  CHECK(buf == NULL);
  CHECK_STATUS(actnet_process_inspect(node, pid, &info), want);
  CHECK(info == NULL);
  CHECK_STATUS(actnet_process_stop(node, pid), want);
  CHECK_STATUS(actnet_process_kill(node, pid), want);
  CHECK_STATUS(actnet_process_trap_exits(node, pid, true), want);
  CHECK_STATUS(actnet_process_monitor(node, watcher, pid, &ref), want);
  CHECK_STATUS(actnet_process_monitor(node, pid, watcher, &ref), want);
  CHECK_STATUS(actnet_process_demonitor(node, pid, 1), want);
  CHECK_STATUS(actnet_process_link(node, watcher, pid), want);
  CHECK_STATUS(actnet_process_link(node, pid, watcher), want);
  CHECK_STATUS(actnet_process_unlink(node, pid, watcher), want);
  CHECK_STATUS(actnet_forwarder_spawn(node, pid, NULL, &alias_out), want);
  actnet_tcp_server_options server;
  CHECK_OK(actnet_tcp_server_options_init(&server));
  server.host = "127.0.0.1";
  CHECK_STATUS(actnet_tcp_server_spawn(node, pid, &server, &alias_out, &port), want);
  CHECK(port == 0);
  CHECK_STATUS(actnet_name_register(node, "stale-name", pid), want);
  CHECK_STATUS(actnet_name_lookup(node, "stale-name", &out), ACTNET_STATUS_NOT_FOUND);
  if (pid.id != 0) { /* link_to {0} means "no link" */
    actnet_spawn_options so;
    CHECK_OK(actnet_spawn_options_init(&so));
    so.link_to = pid;
    so.name = "linked-to-stale";
    CHECK_STATUS(actnet_process_spawn(node, b, &so, &out), want);
    /* the failed spawn left its name free */
    CHECK_STATUS(actnet_name_lookup(node, "linked-to-stale", &out), ACTNET_STATUS_NOT_FOUND);
  }
  CHECK(out.id == untouched);
  CHECK(alias_out.id == untouched);
  CHECK(ref == untouched);
}

void expect_alias_calls_fail(actnet_node *node, actnet_alias alias, actnet_pid watcher, actnet_status want) {
  const uint64_t untouched = 0xABCDEF;
  uint64_t ref = untouched;
  actnet_info *info = NULL;
  CHECK_STATUS(actnet_meta_send(node, alias, 1, (const uint8_t *)"x", 1), want);
  CHECK_STATUS(actnet_meta_send(node, alias, 1, NULL, 0), want);
  CHECK_STATUS(actnet_meta_inspect(node, alias, &info), want);
  CHECK(info == NULL);
  CHECK_STATUS(actnet_meta_monitor(node, watcher, alias, &ref), want);
  CHECK(ref == untouched);
  CHECK_STATUS(actnet_meta_terminate(node, alias), want);
  CHECK_STATUS(actnet_meta_abort(node, alias), want);
  CHECK_STATUS(actnet_tcp_write(node, alias, (const uint8_t *)"x", 1), want);
  actnet_pool *pool = NULL;
  actnet_buf *buf = NULL;
  CHECK_OK(actnet_pool_new(16, 1, &pool));
  CHECK_OK(actnet_pool_get(pool, &buf));
  CHECK_OK(actnet_buf_set_len(buf, 1));
  CHECK_STATUS(actnet_tcp_write_buf(node, alias, buf), want);
  CHECK_OK(actnet_buf_free(buf)); /* a failed write leaves it with the caller */
  CHECK_OK(actnet_pool_free(pool));
}

probe *probe_new(void) {
  probe *p = calloc(1, sizeof *p);
  CHECK(p != NULL);
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->cond, NULL);
  p->refs = 1;
  return p;
}

static void probe_unref(probe *p) {
  pthread_mutex_lock(&p->lock);
  int left = --p->refs;
  pthread_mutex_unlock(&p->lock);
  if (left > 0) return;
  probe_event e;
  while (p->head) {
    node_ev *n = p->head;
    p->head = n->next;
    e = n->ev;
    probe_event_clear(&e);
    free(n);
  }
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->cond);
  free(p);
}

void probe_release(probe *p) { probe_unref(p); }

static void push(probe *p, const probe_event *e) {
  node_ev *n = calloc(1, sizeof *n);
  CHECK(n != NULL);
  n->ev = *e;
  pthread_mutex_lock(&p->lock);
  if (p->tail) p->tail->next = n; else p->head = n;
  p->tail = n;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
}

static int32_t on_message(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                          const actnet_message *m) {
  (void)state;
  probe *p = user_data;
  probe_event e;
  memset(&e, 0, sizeof e);
  e.kind = m->kind;
  e.pid = pid;
  e.from = m->from;
  e.alias = m->alias;
  e.tag = m->tag;
  e.reference = m->reference;
  e.reason = m->reason;
  e.reason_code = m->reason_code;
  e.len = m->len;
  e.data = malloc(m->len + 1);
  CHECK(e.data != NULL);
  if (m->len) memcpy(e.data, m->data, m->len);
  e.data[m->len] = 0;
  e.had_buf = m->buf != NULL;
  if (m->buf) CHECK_OK(actnet_buf_free(m->buf));
  if (m->local_addr) snprintf(e.local_addr, sizeof e.local_addr, "%s", m->local_addr);
  if (m->remote_addr) snprintf(e.remote_addr, sizeof e.remote_addr, "%s", m->remote_addr);
  push(p, &e);
  if (m->kind == ACTNET_MSG_USER && m->tag == PROBE_CMD_EXIT) {
    int32_t code;
    CHECK(m->len == sizeof code);
    memcpy(&code, m->data, sizeof code);
    return code;
  }
  if (m->kind == ACTNET_MSG_USER && m->tag == PROBE_CMD_STOP_SELF) {
    CHECK_OK(actnet_process_stop(node, pid));
  }
  if (m->kind == ACTNET_MSG_CALL && m->tag == PROBE_CMD_ECHO) {
    CHECK_OK(actnet_process_reply(node, m->reference, m->data, m->len));
  }
  return 0;
}

static void on_terminate(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                         uint32_t reason, int32_t code) {
  (void)node;
  (void)pid;
  (void)state;
  (void)reason;
  (void)code;
  probe *p = user_data;
  pthread_mutex_lock(&p->lock);
  p->terminated++;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
}

static void free_probe(void *user_data) { probe_unref(user_data); }

actnet_behavior *probe_behavior(probe *p) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = on_message;
  cb.terminate = on_terminate;
  pthread_mutex_lock(&p->lock);
  p->refs++;
  pthread_mutex_unlock(&p->lock);
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, p, free_probe, &b));
  return b;
}

void deadline_in(struct timespec *ts, int timeout_ms) {
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_sec += timeout_ms / 1000;
  ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

bool probe_next(probe *p, int timeout_ms, probe_event *out) {
  struct timespec ts;
  deadline_in(&ts, timeout_ms);
  pthread_mutex_lock(&p->lock);
  while (!p->head) {
    if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) != 0 && !p->head) {
      pthread_mutex_unlock(&p->lock);
      return false;
    }
  }
  node_ev *n = p->head;
  p->head = n->next;
  if (!p->head) p->tail = NULL;
  pthread_mutex_unlock(&p->lock);
  *out = n->ev;
  free(n);
  return true;
}

void probe_expect_at(probe *p, uint32_t kind, probe_event *out, const char *file, int line) {
  int64_t end = now_ms() + WAIT_MS;
  for (;;) {
    int left = (int)(end - now_ms());
    if (left <= 0 || !probe_next(p, left, out)) {
      fprintf(stderr, "%s:%d: timed out waiting for a %s message\n", file, line,
              actnet_message_kind_str(kind));
      exit(1);
    }
    if (out->kind == kind) return;
    probe_event_clear(out);
  }
}

bool probe_quiet(probe *p, int timeout_ms) {
  probe_event e;
  if (!probe_next(p, timeout_ms, &e)) return true;
  probe_event_clear(&e);
  return false;
}

int probe_terminated(probe *p) {
  pthread_mutex_lock(&p->lock);
  int n = p->terminated;
  pthread_mutex_unlock(&p->lock);
  return n;
}

void probe_event_clear(probe_event *e) {
  free(e->data);
  e->data = NULL;
}

actnet_node *test_node_start(void) {
  actnet_node_options opts;
  CHECK_OK(actnet_node_options_init(&opts));
  opts.worker_threads = 2;
  opts.name = "test";
  actnet_node *node = NULL;
  CHECK_OK(actnet_node_start(&opts, &node));
  CHECK(node != NULL);
  return node;
}

actnet_pid spawn_behavior(actnet_node *node, actnet_behavior *b, const char *name, uint32_t mailbox_size) {
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.name = name;
  so.mailbox_size = mailbox_size;
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));
  CHECK_OK(actnet_behavior_free(b));
  return pid;
}

void *stop_node(void *stopper_arg) {
  stopper *s = stopper_arg;
  s->status = actnet_node_stop(s->node);
  atomic_store(&s->done, true);
  return NULL;
}

actnet_pid probe_spawn(actnet_node *node, probe *p, const char *name) {
  return spawn_behavior(node, probe_behavior(p), name, 0);
}

actnet_pid probe_spawn_opts(actnet_node *node, probe *p, const actnet_spawn_options *options) {
  actnet_behavior *b = probe_behavior(p);
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, options, &pid));
  CHECK_OK(actnet_behavior_free(b));
  return pid;
}

void probe_cmd_exit(actnet_node *node, actnet_pid pid, int32_t code) {
  CHECK_OK(actnet_message_send(node, pid, PROBE_CMD_EXIT, (const uint8_t *)&code, sizeof code));
}

bool probe_wait_terminated(probe *p, int n, int timeout_ms) {
  struct timespec ts;
  deadline_in(&ts, timeout_ms);
  pthread_mutex_lock(&p->lock);
  while (p->terminated < n) {
    if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) != 0 && p->terminated < n) break;
  }
  bool ok = p->terminated >= n;
  pthread_mutex_unlock(&p->lock);
  return ok;
}

void probe_expect_down_at(probe *p, any_id target, probe_event *out, const char *file, int line) {
  int64_t end = now_ms() + WAIT_MS;
  for (;;) {
    int left = (int)(end - now_ms());
    if (left <= 0 || !probe_next(p, left, out)) {
      fprintf(stderr, "%s:%d: timed out waiting for DOWN of %llu\n", file, line, (unsigned long long)target.id);
      exit(1);
    }
    uint64_t about = target.meta ? out->alias.id : out->from.id;
    if (out->kind == ACTNET_MSG_DOWN && about == target.id) return;
    probe_event_clear(out);
  }
}

bool inspect_value_of(actnet_node *node, any_id id, const char *key, char *out, size_t out_len) {
  actnet_info *info = NULL;
  if (inspect_any(node, id, &info) != ACTNET_STATUS_OK) return false;
  const char *v = actnet_info_get(info, key);
  bool found = v != NULL;
  if (found) snprintf(out, out_len, "%s", v);
  CHECK_OK(actnet_info_free(info));
  return found;
}

const char *inspect_str_of(actnet_node *node, any_id id, const char *key) {
  static char value[256];
  if (!inspect_value_of(node, id, key, value, sizeof value)) {
    fprintf(stderr, "inspect of %llu has no key \"%s\"\n", (unsigned long long)id.id, key);
    exit(1);
  }
  return value;
}

struct gate {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool open;
  int arrivals;
};

gate *gate_new(void) {
  gate *g = calloc(1, sizeof *g);
  CHECK(g != NULL);
  pthread_mutex_init(&g->lock, NULL);
  pthread_cond_init(&g->cond, NULL);
  return g;
}

void gate_free(gate *g) {
  pthread_mutex_destroy(&g->lock);
  pthread_cond_destroy(&g->cond);
  free(g);
}

void gate_open(gate *g) {
  pthread_mutex_lock(&g->lock);
  g->open = true;
  pthread_cond_broadcast(&g->cond);
  pthread_mutex_unlock(&g->lock);
}

bool gate_wait(gate *g, int timeout_ms) {
  struct timespec ts;
  deadline_in(&ts, timeout_ms);
  pthread_mutex_lock(&g->lock);
  g->arrivals++;
  pthread_cond_broadcast(&g->cond);
  while (!g->open) {
    if (pthread_cond_timedwait(&g->cond, &g->lock, &ts) != 0 && !g->open) break;
  }
  bool open = g->open;
  pthread_mutex_unlock(&g->lock);
  return open;
}

bool gate_wait_arrivals(gate *g, int n, int timeout_ms) {
  struct timespec ts;
  deadline_in(&ts, timeout_ms);
  pthread_mutex_lock(&g->lock);
  while (g->arrivals < n) {
    if (pthread_cond_timedwait(&g->cond, &g->lock, &ts) != 0 && g->arrivals < n) break;
  }
  bool ok = g->arrivals >= n;
  pthread_mutex_unlock(&g->lock);
  return ok;
}

struct evlog {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  evrec *recs;
  int count, cap;
};

evlog *evlog_new(void) {
  evlog *l = calloc(1, sizeof *l);
  CHECK(l != NULL);
  pthread_mutex_init(&l->lock, NULL);
  pthread_cond_init(&l->cond, NULL);
  return l;
}

void evlog_free(evlog *l) {
  pthread_mutex_destroy(&l->lock);
  pthread_cond_destroy(&l->cond);
  free(l->recs);
  free(l);
}

void evlog_push(evlog *l, const evrec *r) {
  pthread_mutex_lock(&l->lock);
  if (l->count == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->recs = realloc(l->recs, (size_t)l->cap * sizeof *l->recs);
    CHECK(l->recs != NULL);
  }
  l->recs[l->count++] = *r;
  pthread_cond_broadcast(&l->cond);
  pthread_mutex_unlock(&l->lock);
}

void evlog_add(evlog *l, int what, actnet_pid pid, uint64_t a, uint64_t b, int64_t c, const char *text) {
  evrec r;
  memset(&r, 0, sizeof r);
  r.what = what;
  r.pid = pid;
  r.a = a;
  r.b = b;
  r.c = c;
  if (text) snprintf(r.text, sizeof r.text, "%s", text);
  evlog_push(l, &r);
}

int evlog_count(evlog *l) {
  pthread_mutex_lock(&l->lock);
  int n = l->count;
  pthread_mutex_unlock(&l->lock);
  return n;
}

bool evlog_wait(evlog *l, int n, int timeout_ms) {
  struct timespec ts;
  deadline_in(&ts, timeout_ms);
  pthread_mutex_lock(&l->lock);
  while (l->count < n) {
    if (pthread_cond_timedwait(&l->cond, &l->lock, &ts) != 0 && l->count < n) break;
  }
  bool ok = l->count >= n;
  pthread_mutex_unlock(&l->lock);
  return ok;
}

evrec evlog_at(evlog *l, int i) {
  pthread_mutex_lock(&l->lock);
  CHECK(i >= 0 && i < l->count);
  evrec r = l->recs[i];
  pthread_mutex_unlock(&l->lock);
  return r;
}
