#include "harness.h"

#include <pthread.h>
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

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static int32_t on_message(void *user_data, actnet_node *node, uint64_t pid, void *state,
                          const actnet_message *m) {
  (void)node;
  (void)state;
  probe *p = user_data;
  probe_event e;
  memset(&e, 0, sizeof e);
  e.kind = m->kind;
  e.pid = pid;
  e.id = m->id;
  e.from = m->from;
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
  return 0;
}

static void on_terminate(void *user_data, actnet_node *node, uint64_t pid, void *state,
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

static void deadline(struct timespec *ts, int timeout_ms) {
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
  deadline(&ts, timeout_ms);
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

void probe_expect(probe *p, uint32_t kind, probe_event *out) {
  int64_t end = now_ms() + WAIT_MS;
  for (;;) {
    int left = (int)(end - now_ms());
    if (left <= 0 || !probe_next(p, left, out)) {
      fprintf(stderr, "timed out waiting for a %s message\n", actnet_message_kind_str(kind));
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

uint64_t probe_spawn(actnet_node *node, probe *p, const char *name) {
  actnet_behavior *b = probe_behavior(p);
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.name = name;
  uint64_t pid = 0;
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));
  CHECK_OK(actnet_behavior_free(b));
  return pid;
}
