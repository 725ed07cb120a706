/* Graceful stop: actnet_node_stop while 500 connections are transferring data.
 *
 * An echo server (raw framing, a read buffer pool: DATA buffers are written back as they
 * are) routes its connections round-robin to a worker pool of 4 "rec" processes. The test
 * opens 500 client sockets, driven by 2 threads in poll loops: each keeps writing a pattern
 * of its own and reading the echo back (at most 8 KiB in flight per socket), checking every
 * byte. It runs twice, on two nodes one after the other: the second time, 4 more peers never
 * read while a worker floods them (their write queues are full: the stop must not wait for
 * them beyond its one-second flush bound, nor spin).
 *
 * Once every connection has echoed at least 16 KiB, the main thread calls actnet_node_stop
 * while the traffic goes on, and measures it:
 * - it returns OK within 5 s (the time is printed);
 * - every connection's process got exactly one DISCONNECT, all with reason NODE_STOPPING:
 *   500 (504) across the 4 workers (each worker's count is printed), one CONNECT each,
 *   nothing out of order; every worker's terminate ran;
 * - every client socket ends with EOF or a reset (none left hanging), after an echo that
 *   matched the pattern up to the end;
 * - the process's fd count is back to its value before the node started, plus the client
 *   sockets the test still holds; then, once they are closed, exactly that value;
 * - nothing leaks (the _asan variant runs LeakSanitizer at exit; the pool's outstanding
 *   buffers are 0).
 * RLIMIT_NOFILE is raised to 4096 (500 sockets on each side).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reliability.h"

enum { CONNS = 500, THREADS = 2, MAX_SINKS = 4, WORKERS = 4, WINDOW = 8192, CHUNK = 2048, WARM = 16384 };

typedef struct client {
  int fd;
  uint32_t seed;
  uint64_t sent, received;
  bool write_failed;
  net_end end; /* NET_TIMEOUT while open */
  int64_t ended_ms;
} client;

static client clients[CONNS];
static atomic_bool go_stop_reading; /* the test gives up (deadline) */
static int64_t deadline_ms;

static void *pump(void *arg) {
  int t = (int)(intptr_t)arg;
  int first = t * (CONNS / THREADS), last = (t + 1) * (CONNS / THREADS);
  struct pollfd *pf = calloc((size_t)(last - first), sizeof *pf);
  int *idx = calloc((size_t)(last - first), sizeof *idx);
  uint8_t buf[16384];
  CHECK(pf != NULL && idx != NULL);
  for (;;) {
    int n = 0;
    for (int i = first; i < last; i++) {
      client *c = &clients[i];
      if (c->end != NET_TIMEOUT) continue;
      pf[n].fd = c->fd;
      pf[n].events = POLLIN;
      if (!c->write_failed && c->sent - c->received < WINDOW) pf[n].events |= POLLOUT;
      pf[n].revents = 0;
      idx[n++] = i;
    }
    if (n == 0) break;
    if (atomic_load(&go_stop_reading) || now_ms() > deadline_ms) break;
    int r = poll(pf, (nfds_t)n, 100);
    if (r < 0 && errno == EINTR) continue;
    CHECK(r >= 0);
    for (int j = 0; j < n; j++) {
      client *c = &clients[idx[j]];
      short ev = pf[j].revents;
      if (!ev) continue;
      if (ev & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t got = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (got > 0) {
          size_t bad = net_pattern_check(buf, (size_t)got, c->received, c->seed);
          if (bad != (size_t)-1 || c->received + (uint64_t)got > c->sent) {
            fprintf(stderr, "client %d: wrong echo at offset %llu\n", idx[j], (unsigned long long)(c->received + bad));
            exit(1);
          }
          c->received += (uint64_t)got;
        } else if (got == 0) {
          c->end = NET_EOF;
          c->ended_ms = now_ms();
          continue;
        } else if (errno == ECONNRESET) {
          c->end = NET_RESET;
          c->ended_ms = now_ms();
          continue;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          fprintf(stderr, "client %d: recv: %s\n", idx[j], strerror(errno));
          exit(1);
        }
      }
      if ((ev & POLLOUT) && !c->write_failed && c->sent - c->received < WINDOW) {
        uint8_t out[CHUNK];
        net_pattern(out, CHUNK, c->sent, c->seed);
        ssize_t put = send(c->fd, out, CHUNK, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (put > 0) c->sent += (uint64_t)put;
        else if (put < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
          c->write_failed = true; /* EPIPE or ECONNRESET: the server is gone; keep reading */
      }
    }
  }
  free(pf);
  free(idx);
  return NULL;
}

static bool warmed_up(void) {
  for (int i = 0; i < CONNS; i++)
    if (clients[i].received < WARM) return false;
  return true;
}

static bool blocked(const rec_conn *c, void *ctx) {
  (void)ctx;
  return c->would_blocks > 0 || c->flood_errors > 0;
}

static void run(int nsinks) {
  memset(clients, 0, sizeof clients);
  int fds_before = open_fd_count();
  actnet_node *node = test_node_start();
  actnet_pool *pool = NULL;
  CHECK_OK(actnet_pool_new(4096, 256, &pool));

  rec *r = rec_new();
  rec_set_dump_node(node);
  const char *names[WORKERS] = {"worker0", "worker1", "worker2", "worker3"};
  actnet_pid workers[WORKERS];
  for (int i = 0; i < WORKERS; i++) workers[i] = rec_spawn(node, r, names[i], 0);
  actnet_pid owner = rec_spawn(node, r, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  o.process_pool = names;
  o.process_pool_len = WORKERS;
  test_conn_options tc;
  o.connection = test_conn_options_init(&tc);
  tc.conn.read_buffer_pool = pool;
  tc.conn.write_queue_limit = 256 * 1024;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);

  /* Peers that never read, their queues full. */
  int sinks[MAX_SINKS];
  actnet_alias sink_alias[MAX_SINKS];
  for (int i = 0; i < nsinks; i++) {
    sinks[i] = net_connect_bufs(port, 4096, 0);
    char local[64];
    net_sockname(sinks[i], local, sizeof local);
    sink_alias[i] = rec_claim_remote(r, local, WAIT_MS);
    rec_conn c = rec_get(r, sink_alias[i]);
    rel_flood_cmd cmd = {sink_alias[i], 64 << 20, 32768};
    CHECK_OK(actnet_message_send(node, c.pid, REL_CMD_FLOOD, (const uint8_t *)&cmd, sizeof cmd));
  }
  for (int i = 0; i < nsinks; i++) CHECK(rec_wait_pred(r, sink_alias[i], blocked, NULL, WAIT_MS));

  for (int i = 0; i < CONNS; i++) {
    clients[i].fd = net_connect(port);
    clients[i].seed = 1000u + (uint32_t)i;
    clients[i].end = NET_TIMEOUT;
  }
  CHECK(rec_wait_connects(r, CONNS + nsinks, 2 * WAIT_MS));
  CHECK(inspect_u64(node, server, "connections") == (uint64_t)(CONNS + nsinks));

  atomic_init(&go_stop_reading, false);
  deadline_ms = now_ms() + 12 * WAIT_MS;
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&th[t], NULL, pump, (void *)(intptr_t)t) == 0);
  int64_t warm_end = now_ms() + 4 * WAIT_MS;
  while (!warmed_up()) {
    if (now_ms() > warm_end) {
      int slow = 0;
      for (int i = 0; i < CONNS; i++) slow += clients[i].received < WARM;
      fprintf(stderr, "%d connections did not echo %d bytes in %d ms\n", slow, WARM, 4 * WAIT_MS);
      exit(1);
    }
    sleep_ms(1); /* the pumps are busy; this thread only watches */
  }
  uint64_t before_stop = 0;
  for (int i = 0; i < CONNS; i++) before_stop += clients[i].received;

  /* Stopped from another thread, so that a stop that never returns fails the test here
   * (after 15 s) rather than at the ctest timeout. */
  stopper st;
  st.node = node;
  st.status = ACTNET_STATUS_OK;
  atomic_init(&st.done, false);
  pthread_t sth;
  int64_t t0 = now_ms();
  CHECK(pthread_create(&sth, NULL, stop_node, &st) == 0);
  while (!atomic_load(&st.done)) {
    if (now_ms() - t0 > 3 * WAIT_MS) {
      fprintf(stderr, "actnet_node_stop has not returned after %d ms (%d peers not reading)\n", 3 * WAIT_MS, nsinks);
      exit(1);
    }
    sleep_ms(1);
  }
  int64_t took = now_ms() - t0;
  CHECK(pthread_join(sth, NULL) == 0);
  CHECK_OK(st.status);
  CHECK_OK(actnet_node_free(node));

  /* The clients see every socket end. */
  for (int t = 0; t < THREADS; t++) CHECK(pthread_join(th[t], NULL) == 0);
  int eofs = 0, resets = 0;
  int64_t last_end = 0;
  uint64_t total = 0;
  for (int i = 0; i < CONNS; i++) {
    client *c = &clients[i];
    if (c->end != NET_EOF && c->end != NET_RESET) {
      fprintf(stderr, "client %d: its socket did not end (%s) after the node stopped\n", i, net_end_str(c->end));
      exit(1);
    }
    eofs += c->end == NET_EOF;
    resets += c->end == NET_RESET;
    if (c->ended_ms - t0 > last_end) last_end = c->ended_ms - t0;
    total += c->received;
  }
  for (int i = 0; i < nsinks; i++) {
    uint8_t buf[65536];
    size_t got = 0;
    net_end e = net_read_to_end(sinks[i], buf, sizeof buf, WAIT_MS, &got);
    CHECK(e == NET_EOF || e == NET_RESET);
  }

  /* Exactly one DISCONNECT NODE_STOPPING per connection, across the workers. */
  rec_totals t = rec_get_totals(r);
  int per_worker[WORKERS], sum = 0;
  for (int i = 0; i < WORKERS; i++) {
    per_worker[i] = rec_disconnects_of(r, workers[i]);
    sum += per_worker[i];
  }
  bool ok = t.conns == CONNS + nsinks && t.connects == CONNS + nsinks && t.disconnects == CONNS + nsinks &&
            t.by_reason[ACTNET_DISCONNECT_REASON_NODE_STOPPING] == CONNS + nsinks && t.multi_connect == 0 &&
            t.multi_disconnect == 0 && t.out_of_order == 0 && sum == CONNS + nsinks && t.terminated == WORKERS + 1;
  if (!ok) {
    fprintf(stderr, "%d connections: %d CONNECT, %d DISCONNECT, %d of them node stopping, %d across the workers; %d "
                    "with several CONNECT, %d with several DISCONNECT, %d out of order; %d terminated\n",
            t.conns, t.connects, t.disconnects, t.by_reason[ACTNET_DISCONNECT_REASON_NODE_STOPPING], sum, t.multi_connect,
            t.multi_disconnect, t.out_of_order, t.terminated);
    for (int i = 1; i < 32; i++)
      if (t.by_reason[i]) fprintf(stderr, "  %s: %d\n", actnet_disconnect_reason_str((uint32_t)i), t.by_reason[i]);
    exit(1);
  }

  /* Every socket of the library is closed: only ours remain. */
  int fds_after = open_fd_count();
  if (fds_after != fds_before + CONNS + nsinks) {
    fprintf(stderr, "%d fds open after the stop: %d before the node started + %d client sockets = %d wanted\n",
            fds_after, fds_before, CONNS + nsinks, fds_before + CONNS + nsinks);
    exit(1);
  }
  for (int i = 0; i < CONNS; i++) CHECK(close(clients[i].fd) == 0);
  for (int i = 0; i < nsinks; i++) CHECK(close(sinks[i]) == 0);
  CHECK(open_fd_count() == fds_before);
  CHECK(rel_pool_outstanding(pool) == 0);
  CHECK_OK(actnet_pool_free(pool));
  rec_release(r);

  REL_REPORT("[graceful stop] actnet_node_stop with %d connections transferring (and %d peers not reading) took %lld "
             "ms; DISCONNECT node stopping: %d (workers %d/%d/%d/%d), none other; client sockets: %d EOF, %d reset, the "
             "last %lld ms after the stop began; %.1f MiB echoed before the stop, %.1f MiB in all; fds %d before the "
             "node, %d after the stop with the %d client sockets, %d once closed",
             CONNS, nsinks, (long long)took, t.by_reason[ACTNET_DISCONNECT_REASON_NODE_STOPPING], per_worker[0], per_worker[1],
             per_worker[2], per_worker[3], eofs, resets, (long long)last_end, (double)before_stop / 1048576.0,
             (double)total / 1048576.0, fds_before, fds_after, CONNS + nsinks, open_fd_count());
  CHECK(took < 5000);
}

int main(void) {
  long nofile = rel_raise_nofile(4096);
  CHECK(nofile < 0 || nofile >= 2 * (CONNS + MAX_SINKS) + 100);
  run(0);
  run(MAX_SINKS);
  printf("test_graceful_stop: ok\n");
  return 0;
}
