/* Foreign threads: 4 pthreads send 20000 messages each, at once, to one process with an
 * unbounded mailbox; every message carries (thread, seq): none is lost, none duplicated,
 * each thread's order is kept. The same with a bounded mailbox (64) and senders retrying on
 * MAILBOX_FULL shows that a refused send queued nothing. Concurrent spawns from 4 threads
 * get distinct ids. */
#include <sched.h>
#include <string.h>

#include "harness.h"

enum { THREADS = 4 };

typedef struct payload {
  uint32_t thread;
  uint32_t seq;
} payload;

typedef struct receiver {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint32_t next[THREADS];
  uint64_t total;
  uint64_t bad; /* wrong order, gap, duplicate, bad tag/size/sender */
  char first_error[128];
  bool in_handler; /* catches concurrent handler calls for one process */
} receiver;

static int32_t receiver_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                               const actnet_message *m) {
  (void)node;
  (void)pid;
  (void)state;
  receiver *r = user_data;
  pthread_mutex_lock(&r->lock);
  bool overlap = r->in_handler;
  r->in_handler = true;
  pthread_mutex_unlock(&r->lock);

  char err[128] = "";
  payload pl = {0, 0};
  if (overlap) {
    snprintf(err, sizeof err, "handler called concurrently");
  } else if (m->kind != ACTNET_MSG_USER || m->len != sizeof pl || m->from.id != 0) {
    snprintf(err, sizeof err, "kind %u len %zu from %llu", (unsigned)m->kind, m->len,
             (unsigned long long)m->from.id);
  } else {
    memcpy(&pl, m->data, sizeof pl);
    if (pl.thread >= THREADS || m->tag != pl.thread) {
      snprintf(err, sizeof err, "thread %u tag %llu", pl.thread, (unsigned long long)m->tag);
    } else if (pl.seq != r->next[pl.thread]) {
      snprintf(err, sizeof err, "thread %u: seq %u, expected %u", pl.thread, pl.seq, r->next[pl.thread]);
    }
  }
  pthread_mutex_lock(&r->lock);
  if (err[0]) {
    if (r->bad++ == 0) snprintf(r->first_error, sizeof r->first_error, "%s", err);
  }
  if (pl.thread < THREADS && pl.seq >= r->next[pl.thread]) r->next[pl.thread] = pl.seq + 1;
  r->total++;
  r->in_handler = false;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  return 0;
}

static bool wait_total(receiver *r, uint64_t n, int timeout_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&r->lock);
  while (r->total < n) {
    if (pthread_cond_timedwait(&r->cond, &r->lock, &ts) != 0 && r->total < n) break;
  }
  bool ok = r->total >= n;
  pthread_mutex_unlock(&r->lock);
  return ok;
}

typedef struct sender {
  actnet_node *node;
  actnet_pid to;
  uint32_t thread;
  uint32_t count;
  bool retry_full;
  pthread_barrier_t *start;
  uint64_t full; /* MAILBOX_FULL answers seen */
} sender;

static void *send_all(void *arg) {
  sender *s = arg;
  pthread_barrier_wait(s->start);
  for (uint32_t i = 0; i < s->count; i++) {
    payload pl = {s->thread, i};
    int64_t end = now_ms() + WAIT_MS;
    for (;;) {
      actnet_status st = actnet_message_send(s->node, s->to, s->thread, (const uint8_t *)&pl, sizeof pl);
      if (st == ACTNET_STATUS_OK) break;
      if (!(s->retry_full && st == ACTNET_STATUS_MAILBOX_FULL)) {
        fprintf(stderr, "thread %u message %u: %s\n", s->thread, i, actnet_status_str(st));
        exit(1);
      }
      s->full++;
      CHECK(now_ms() < end);
      sched_yield();
    }
  }
  return NULL;
}

static receiver *receiver_new(void) {
  receiver *r = calloc(1, sizeof *r);
  CHECK(r != NULL);
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->cond, NULL);
  return r;
}

static receiver *run(actnet_node *node, uint32_t mailbox_size, uint32_t per_thread, bool retry_full) {
  receiver *r = receiver_new();
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = receiver_handle;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, r, NULL, &b));
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.mailbox_size = mailbox_size;
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));
  CHECK_OK(actnet_behavior_free(b));

  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, THREADS);
  pthread_t th[THREADS];
  sender s[THREADS];
  for (uint32_t t = 0; t < THREADS; t++) {
    s[t] = (sender){node, pid, t, per_thread, retry_full, &start, 0};
    CHECK(pthread_create(&th[t], NULL, send_all, &s[t]) == 0);
  }
  for (int t = 0; t < THREADS; t++) CHECK(pthread_join(th[t], NULL) == 0);
  pthread_barrier_destroy(&start);

  uint64_t want = (uint64_t)THREADS * per_thread;
  CHECK(wait_total(r, want, 20000));
  /* every message was handled once: nothing lost, nothing duplicated, order kept */
  pthread_mutex_lock(&r->lock);
  if (r->bad) {
    fprintf(stderr, "%llu bad messages; first: %s\n", (unsigned long long)r->bad, r->first_error);
    exit(1);
  }
  CHECK(r->total == want);
  for (int t = 0; t < THREADS; t++) CHECK(r->next[t] == per_thread);
  pthread_mutex_unlock(&r->lock);
  char v[32];
  snprintf(v, sizeof v, "%llu", (unsigned long long)want);
  CHECK(strcmp(inspect_str(node, pid, "messages in"), v) == 0);
  uint64_t full = 0;
  for (int t = 0; t < THREADS; t++) full += s[t].full;
  printf("mailbox %u: %llu messages, %llu MAILBOX_FULL retries\n", mailbox_size,
         (unsigned long long)want, (unsigned long long)full);
  if (mailbox_size == ACTNET_MAILBOX_UNBOUNDED) CHECK(full == 0);

  /* it stops cleanly, and nothing more arrived */
  probe *w = probe_new();
  actnet_pid watcher = probe_spawn(node, w, NULL);
  uint64_t ref;
  CHECK_OK(actnet_process_monitor(node, watcher, pid, &ref));
  CHECK_OK(actnet_process_stop(node, pid));
  probe_event e;
  probe_expect_down(w, pid, &e);
  CHECK(e.reason == ACTNET_EXIT_SHUTDOWN && e.reference == ref);
  probe_event_clear(&e);
  pthread_mutex_lock(&r->lock);
  CHECK(r->total == want);
  pthread_mutex_unlock(&r->lock);
  CHECK_OK(actnet_process_stop(node, watcher));
  CHECK(probe_wait_terminated(w, 1, WAIT_MS));
  probe_release(w);
  return r; /* freed by the caller once the node has stopped */
}

typedef struct spawner {
  actnet_node *node;
  actnet_behavior *b;
  pthread_barrier_t *start;
  actnet_pid pids[100];
} spawner;

static void *spawn_many(void *arg) {
  spawner *s = arg;
  pthread_barrier_wait(s->start);
  for (int i = 0; i < 100; i++) {
    CHECK_OK(actnet_process_spawn(s->node, s->b, NULL, &s->pids[i]));
    if (i > 0) CHECK(s->pids[i].id > s->pids[i - 1].id);
    CHECK_OK(actnet_message_send(s->node, s->pids[i], 1, NULL, 0));
  }
  return NULL;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
  actnet_node *node = test_node_start();
  receiver *r1 = run(node, ACTNET_MAILBOX_UNBOUNDED, 20000, false);
  receiver *r2 = run(node, 64, 5000, true);

  /* concurrent spawns */
  probe *p = probe_new();
  actnet_behavior *b = probe_behavior(p);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, THREADS);
  spawner *sp = calloc(THREADS, sizeof *sp);
  CHECK(sp != NULL);
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++) {
    sp[t].node = node;
    sp[t].b = b;
    sp[t].start = &start;
    CHECK(pthread_create(&th[t], NULL, spawn_many, &sp[t]) == 0);
  }
  for (int t = 0; t < THREADS; t++) CHECK(pthread_join(th[t], NULL) == 0);
  pthread_barrier_destroy(&start);
  uint64_t all[THREADS * 100];
  for (int t = 0; t < THREADS; t++) memcpy(&all[t * 100], sp[t].pids, sizeof sp[t].pids);
  qsort(all, THREADS * 100, sizeof all[0], cmp_u64);
  for (int i = 1; i < THREADS * 100; i++) CHECK(all[i] != all[i - 1]);
  /* each got its message, once */
  bool seen[THREADS * 100] = {false};
  for (int i = 0; i < THREADS * 100; i++) {
    probe_event e;
    probe_expect(p, ACTNET_MSG_USER, &e);
    uint64_t *hit = bsearch(&e.pid, all, THREADS * 100, sizeof all[0], cmp_u64);
    CHECK(hit != NULL && !seen[hit - all]);
    seen[hit - all] = true;
    probe_event_clear(&e);
  }
  CHECK(probe_quiet(p, 50));
  CHECK_OK(actnet_behavior_free(b));
  free(sp);

  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  probe_release(p);
  receiver *rs[2] = {r1, r2};
  for (int i = 0; i < 2; i++) {
    pthread_mutex_destroy(&rs[i]->lock);
    pthread_cond_destroy(&rs[i]->cond);
    free(rs[i]);
  }
  printf("ok\n");
  return 0;
}
