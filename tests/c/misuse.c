#include "misuse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void mis_wait_fds(int want, const char *what) {
  int64_t end = now_ms() + WAIT_MS;
  int have = open_fd_count();
  while (have != want && now_ms() < end) {
    sleep_ms(1);
    have = open_fd_count();
  }
  if (have != want) {
    fprintf(stderr, "%s: %d open fds, wanted %d\n", what, have, want);
    exit(1);
  }
}

int64_t mis_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void mis_echo_start(actnet_node *node, mis_echo *e) {
  memset(e, 0, sizeof *e);
  e->q = tq_new();
  tq_set_echo(e->q, true);
  e->owner = tq_spawn(node, e->q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  e->server = server_spawn(node, e->owner, &o, &e->port);
  e->fd = net_connect(e->port);
  e->conn = tq_expect_connect(e->q);
}

int64_t mis_echo_roundtrip(mis_echo *e, const char *what) {
  char msg[33], back[32];
  snprintf(msg, sizeof msg, "echo %026u", e->n++);
  int64_t t0 = mis_now_us();
  net_write_all(e->fd, msg, 32);
  if (!net_read_exact(e->fd, back, 32, WAIT_MS) || memcmp(back, msg, 32) != 0) {
    fprintf(stderr, "%s: the well-behaved client's echo %u did not come back\n", what, e->n - 1);
    exit(1);
  }
  int64_t rtt = mis_now_us() - t0;
  /* Take what the echo process recorded: the DATA of these 32 bytes (the process records
   * them after echoing, so they may come after the echo), and nothing else. The queue is
   * then empty for whoever expects the next event. */
  size_t seen = 0;
  while (seen < 32) {
    tev ev;
    CHECK(tq_next(e->q, WAIT_MS, &ev));
    CHECK(ev.kind == ACTNET_MSG_DATA && ev.alias.id == e->conn.id && ev.status == ACTNET_STATUS_OK);
    seen += ev.len;
    tev_clear(&ev);
  }
  CHECK(seen == 32);
  return rtt;
}

void mis_echo_stop(actnet_node *node, mis_echo *e) {
  close(e->fd);
  tev ev;
  CHECK(tq_next(e->q, WAIT_MS, &ev));
  CHECK(ev.kind == ACTNET_MSG_DISCONNECT && ev.alias.id == e->conn.id && ev.reason == ACTNET_DISCONNECT_REASON_PEER_CLOSED);
  tev_clear(&ev);
  CHECK_OK(actnet_process_stop(node, e->owner));
  actnet_alias gone = e->server;
  int64_t end = now_ms() + WAIT_MS;
  actnet_info *info = NULL;
  actnet_status st;
  while ((st = actnet_meta_inspect(node, gone, &info)) == ACTNET_STATUS_OK && now_ms() < end) {
    actnet_info_free(info);
    sleep_ms(1);
  }
  CHECK_STATUS(st, ACTNET_STATUS_NOT_FOUND);
  tq_release(e->q);
  memset(e, 0, sizeof *e);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

mis_rtt mis_rtt_of(int64_t *samples, int n) {
  CHECK(n > 0);
  qsort(samples, (size_t)n, sizeof *samples, cmp_i64);
  mis_rtt r;
  r.p50 = samples[n / 2];
  r.p90 = samples[(n * 9) / 10];
  r.p99 = samples[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
  r.max = samples[n - 1];
  return r;
}
