/* Connection churn: 2,000 connections opened and closed as fast as one thread can (connect,
 * close), then 2,000 opened and reset (connect, close with SO_LINGER 0), against a server
 * (raw framing, read buffer pool, DATA echoed) that a well-behaved client uses for the whole
 * case, every byte of every echo checked.
 *
 * After each phase (bounded polls, no sleeps): the server accepted all 2,000; the process's
 * open fds, the pool's outstanding buffers and the server's "connections" are back at their
 * baseline (the well-behaved client's connection aside); then (once the process handled a
 * message sent after that) every connection that reached the process got exactly one
 * CONNECT and one DISCONNECT, PEER_CLOSED after a close (all 2,000 reach it) and RESET after
 * a reset (a connection reset while still in the accept queue cannot be started by the
 * library: it never reaches the process, so it has neither CONNECT nor DISCONNECT, and the
 * server's inspect counts it under "reset before start": the two add up to 2,000), nothing
 * out of order; no accept error. The figures (connections per second,
 * time to settle, warnings the node logged) are printed.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "reliability.h"

static actnet_node *node;
static actnet_pool *pool;

enum { CHURN = 2000 };

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int warnings;
static char last_warning[512];

static void on_log(void *user_data, uint32_t level, const char *line) {
  (void)user_data;
  if (level > ACTNET_LOG_LEVEL_WARN) return;
  pthread_mutex_lock(&log_lock);
  warnings++;
  snprintf(last_warning, sizeof last_warning, "%s", line);
  pthread_mutex_unlock(&log_lock);
}

static int take_warnings(char *last, size_t len) {
  pthread_mutex_lock(&log_lock);
  int n = warnings;
  warnings = 0;
  snprintf(last, len, "%s", last_warning);
  last_warning[0] = 0;
  pthread_mutex_unlock(&log_lock);
  return n;
}

static void churn(rel_case *k, bool reset) {
  const char *what = reset ? "connect+RST" : "connect+close";
  uint32_t want_reason = reset ? ACTNET_DISCONNECT_REASON_RESET : ACTNET_DISCONNECT_REASON_PEER_CLOSED;
  uint64_t accepted0 = inspect_u64(node, k->server, "accepted");
  uint64_t unstarted0 = inspect_u64(node, k->server, "reset before start");
  rec_totals t0 = rec_get_totals(k->r);
  char last[512];
  take_warnings(last, sizeof last);
  int64_t start = now_ms();
  for (int i = 0; i < CHURN; i++) {
    int fd = net_try_connect(k->port);
    if (fd < 0) {
      fprintf(stderr, "%s %d: connect failed: %s\n", what, i, strerror(errno));
      exit(1);
    }
    if (reset) net_close_reset(fd);
    else CHECK(close(fd) == 0);
  }
  int64_t opened = now_ms() - start;
  /* The server accepts every one of them (each was established before it was dropped). */
  int64_t end = now_ms() + 4 * WAIT_MS;
  uint64_t accepted = 0;
  while ((accepted = inspect_u64(node, k->server, "accepted") - accepted0) < CHURN) {
    if (now_ms() > end) {
      fprintf(stderr, "%s: %llu of %d accepted\n", what, (unsigned long long)accepted, CHURN);
      exit(1);
    }
    sleep_ms(1);
  }
  CHECK(accepted == CHURN);
  /* Every connection that started has ended: fds, buffers and live connections are back
   * (the well-behaved client's aside); then every message they sent has been handled. */
  rel_baseline mid = k->base;
  mid.fds += 2;         /* the well-behaved client's socket and the server's end of it */
  mid.connections += 1; /* its connection */
  rel_wait_baseline(node, k->server, pool, &mid, 4 * WAIT_MS, what);
  rec_sync(node, k->r, k->owner, WAIT_MS);
  int64_t took = now_ms() - start;
  rec_totals t = rec_get_totals(k->r);
  int connects = t.connects - t0.connects, disconnects = t.disconnects - t0.disconnects;
  int right = t.by_reason[want_reason] - t0.by_reason[want_reason];
  int unstarted = (int)(inspect_u64(node, k->server, "reset before start") - unstarted0);
  /* One CONNECT and one DISCONNECT, with the right reason, for every connection that reached
   * the process. A connection reset while it waited in the accept queue may never reach it
   * (the library cannot start it: no CONNECT, so no DISCONNECT either), but the server counts
   * it; a closed one always reaches it. */
  bool ok = connects == disconnects && right == connects && t.multi_connect == 0 && t.multi_disconnect == 0 &&
            t.out_of_order == 0 && connects + unstarted == CHURN && (reset || unstarted == 0);
  if (!ok) {
    fprintf(stderr, "%s: %d CONNECT, %d DISCONNECT, %d of them %s, %d reset before start (of %d accepted); %d with "
                    "several CONNECT, %d with several DISCONNECT, %d out of order\n",
            what, connects, disconnects, right, actnet_disconnect_reason_str(want_reason), unstarted, CHURN,
            t.multi_connect, t.multi_disconnect, t.out_of_order);
    for (int r = 1; r < 32; r++)
      if (t.by_reason[r] - t0.by_reason[r])
        fprintf(stderr, "  %s: %d\n", actnet_disconnect_reason_str((uint32_t)r), t.by_reason[r] - t0.by_reason[r]);
    exit(1);
  }
  CHECK(inspect_u64(node, k->server, "accept errors") == 0);
  int warned = take_warnings(last, sizeof last);
  REL_REPORT("[churn] %d x %s in %lld ms (%.0f per second); all accepted; %d reached the process, each with one "
             "CONNECT and one DISCONNECT %s, %d reset before they started (counted by the server); settled (fds, buffers, connections back, every "
             "message handled) after %lld ms; %d warnings logged%s%s",
             CHURN, what, (long long)opened, opened > 0 ? CHURN * 1000.0 / (double)opened : 0.0, connects,
             actnet_disconnect_reason_str(want_reason), unstarted, (long long)took, warned,
             warned ? ", the last: " : "", warned ? last : "");
}

int main(void) {
  rel_raise_nofile(4096);
  actnet_node_options opts;
  CHECK_OK(actnet_node_options_init(&opts));
  opts.worker_threads = 2;
  opts.log = on_log;
  CHECK_OK(actnet_node_start(&opts, &node));
  CHECK_OK(actnet_pool_new(4096, 64, &pool));
  int fds0 = open_fd_count();
  rel_framing raw = {.name = "none", .kind = REL_RAW};
  rel_case k = rel_case_start(node, pool, "churn", &raw, NULL, true);
  churn(&k, false);
  churn(&k, true);
  rel_case_finish(&k, 10);
  int64_t end = now_ms() + WAIT_MS;
  while (open_fd_count() != fds0) {
    CHECK(now_ms() < end);
    sleep_ms(1);
  }
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  CHECK_OK(actnet_pool_free(pool));
  printf("test_hostile_churn: ok\n");
  return 0;
}
