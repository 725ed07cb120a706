/* Routing of accepted connections to a process pool.
 *
 * - Pool of 3 registered workers, 7 connections made one at a time: connection k's CONNECT
 *   goes to worker k mod 3; inspect "process" names that worker; every DATA of a connection
 *   (several rounds, interleaved across connections) and its DISCONNECT go to the same worker.
 * - A pool name that is not registered is skipped for the next live name in the ring.
 * - A worker that dies: its connections close promptly (the peer sees EOF without sending
 *   anything), a monitor of the connection sees DOWN with reason DISCONNECTED / TARGET_DOWN,
 *   the server's "connections" count drops, other workers' connections go on, and new
 *   connections skip the dead worker.
 * - No live worker at all: the connection is closed at once (the peer sees EOF), the server
 *   counts it under "no target", and nobody gets a message.
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;

enum { NW = 3 };
static const char *names[NW] = {"w0", "w1", "w2"};
static actnet_pid workers[NW];

static int worker_index(actnet_pid pid) {
  for (int i = 0; i < NW; i++)
    if (workers[i].id == pid.id) return i;
  return -1;
}

/* Connects, waits for CONNECT and checks it reached worker `want` (index). */
static actnet_alias connect_to(tq *q, uint16_t port, actnet_alias server, int want, int *fd_out) {
  int fd = net_connect(port);
  tev e;
  tq_expect(q, ACTNET_MSG_CONNECT, &e);
  if (worker_index(e.pid) != want) {
    fprintf(stderr, "CONNECT went to worker %d, wanted %d\n", worker_index(e.pid), want);
    exit(1);
  }
  actnet_alias conn = e.alias;
  tev_clear(&e);
  check_inspect(node, conn, "process", names[want]);
  char s[32];
  snprintf(s, sizeof s, "%" PRIu64, server.id);
  check_inspect(node, conn, "owner", s);
  *fd_out = fd;
  return conn;
}

static void round_robin(tq *q, actnet_pid owner) {
  actnet_tcp_server_options o;
  server_options(&o);
  o.process_pool = names;
  o.process_pool_len = NW;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  enum { NC = 7 };
  int fds[NC];
  actnet_alias conns[NC];
  for (int k = 0; k < NC; k++) conns[k] = connect_to(q, port, server, k % NW, &fds[k]);
  CHECK(wait_inspect(node, server, "connections", "7", WAIT_MS));
  check_inspect(node, server, "accepted", "7");
  /* DATA is sticky: three rounds over all connections. */
  for (int r = 0; r < 3; r++) {
    for (int k = 0; k < NC; k++) {
      char msg[32];
      int n = snprintf(msg, sizeof msg, "conn %d round %d", k, r);
      net_write_all(fds[k], msg, (size_t)n);
      tev e;
      tq_expect_for(q, ACTNET_MSG_DATA, conns[k], &e);
      CHECK(worker_index(e.pid) == k % NW);
      CHECK(e.len == (size_t)n && memcmp(e.data, msg, e.len) == 0);
      tev_clear(&e);
    }
  }
  for (int k = 0; k < NC; k++) {
    close(fds[k]);
    tev e;
    tq_expect_for(q, ACTNET_MSG_DISCONNECT, conns[k], &e);
    CHECK(worker_index(e.pid) == k % NW);
    CHECK(e.reason == ACTNET_DISCONNECT_REASON_PEER_CLOSED);
    tev_clear(&e);
  }
  CHECK(tq_quiet(q, 100));
  CHECK(wait_inspect(node, server, "connections", "0", WAIT_MS));
  CHECK_OK(actnet_meta_terminate(node, server));
}

static void skips_unregistered_names(tq *q, actnet_pid owner) {
  const char *pool[] = {"w0", "not_registered", "w2"};
  actnet_tcp_server_options o;
  server_options(&o);
  o.process_pool = pool;
  o.process_pool_len = 3;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  /* k mod 3 = 1 names the missing process: the next live name in the ring, w2, takes it. */
  const int want[6] = {0, 2, 2, 0, 2, 2};
  int fds[6];
  actnet_alias conns[6];
  for (int k = 0; k < 6; k++) conns[k] = connect_to(q, port, server, want[k], &fds[k]);
  for (int k = 0; k < 6; k++) {
    close(fds[k]);
    tev e;
    tq_expect_for(q, ACTNET_MSG_DISCONNECT, conns[k], &e);
    CHECK(worker_index(e.pid) == want[k]);
    tev_clear(&e);
  }
  check_inspect(node, server, "no target", "0");
  CHECK_OK(actnet_meta_terminate(node, server));
}

static void dead_worker(tq *q, actnet_pid owner, tq *w, actnet_pid watcher) {
  actnet_tcp_server_options o;
  server_options(&o);
  o.process_pool = names;
  o.process_pool_len = NW;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  /* k = 0..4 go to w0, w1, w2, w0, w1: w1 holds connections 1 and 4. */
  int fds[5];
  actnet_alias conns[5];
  for (int k = 0; k < 5; k++) conns[k] = connect_to(q, port, server, k % NW, &fds[k]);
  CHECK(wait_inspect(node, server, "connections", "5", WAIT_MS));
  tq_monitor(node, watcher, conns[1]);
  tq_monitor(node, watcher, conns[4]);

  int64_t t0 = now_ms();
  CHECK_OK(actnet_process_kill(node, workers[1]));
  /* Both of w1's peers see EOF promptly, without having sent anything. */
  char buf[16];
  size_t got = 0;
  net_end end1 = net_read_to_end(fds[1], buf, sizeof buf, WAIT_MS, &got);
  CHECK(got == 0);
  net_end end4 = net_read_to_end(fds[4], buf, sizeof buf, WAIT_MS, &got);
  CHECK(got == 0);
  if (end1 != NET_EOF || end4 != NET_EOF) {
    fprintf(stderr, "peers of the dead worker saw %s and %s, wanted EOF\n", net_end_str(end1),
            net_end_str(end4));
    exit(1);
  }
  int64_t took = now_ms() - t0;
  CHECK(took < 2000);
  for (int i = 0; i < 2; i++) {
    tev e;
    tq_expect(w, ACTNET_MSG_DOWN, &e);
    CHECK(e.alias.id == conns[1].id || e.alias.id == conns[4].id);
    CHECK(e.reason == ACTNET_EXIT_DISCONNECTED);
    CHECK(e.reason_code == ACTNET_DISCONNECT_REASON_TARGET_DOWN);
    tev_clear(&e);
  }
  CHECK(wait_inspect(node, server, "connections", "3", WAIT_MS));
  CHECK_STATUS(actnet_tcp_write(node, conns[1], (const uint8_t *)"x", 1), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_tcp_write(node, conns[4], (const uint8_t *)"x", 1), ACTNET_STATUS_NOT_FOUND);

  /* The other workers' connections go on. */
  net_write_all(fds[0], "still here", 10);
  tev e;
  tq_expect_for(q, ACTNET_MSG_DATA, conns[0], &e);
  CHECK(worker_index(e.pid) == 0);
  tev_clear(&e);
  net_write_all(fds[2], "me too", 6);
  tq_expect_for(q, ACTNET_MSG_DATA, conns[2], &e);
  CHECK(worker_index(e.pid) == 2);
  tev_clear(&e);

  /* New connections skip the dead worker: k = 5 -> w2, k = 6 -> w0, k = 7 (w1) -> w2. */
  int fdn[3];
  actnet_alias cn[3];
  const int want[3] = {2, 0, 2};
  for (int i = 0; i < 3; i++) cn[i] = connect_to(q, port, server, want[i], &fdn[i]);

  int all[] = {fds[0], fds[2], fds[3], fdn[0], fdn[1], fdn[2]};
  actnet_alias ids[] = {conns[0], conns[2], conns[3], cn[0], cn[1], cn[2]};
  for (int i = 0; i < 6; i++) {
    close(all[i]);
    tq_expect_for(q, ACTNET_MSG_DISCONNECT, ids[i], &e);
    CHECK(e.reason == ACTNET_DISCONNECT_REASON_PEER_CLOSED);
    tev_clear(&e);
  }
  close(fds[1]);
  close(fds[4]);
  CHECK(tq_quiet(q, 100));
  CHECK_OK(actnet_meta_terminate(node, server));
}

static void no_live_worker(tq *q, actnet_pid owner) {
  const char *pool[] = {"nobody", "nobody_either"};
  actnet_tcp_server_options o;
  server_options(&o);
  o.process_pool = pool;
  o.process_pool_len = 2;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  int fd = net_connect(port);
  char buf[8];
  size_t got = 0;
  net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got);
  CHECK(got == 0);
  CHECK(end == NET_EOF || end == NET_RESET);
  CHECK(wait_inspect(node, server, "no target", "1", WAIT_MS));
  check_inspect(node, server, "accepted", "1");
  check_inspect(node, server, "connections", "0");
  CHECK(tq_quiet(q, 100));
  close(fd);
  CHECK_OK(actnet_meta_terminate(node, server));
}

int main(void) {
  node = test_node_start();
  tq *q = tq_new();
  for (int i = 0; i < NW; i++) workers[i] = tq_spawn(node, q, names[i], 0);
  tq *oq = tq_new();
  actnet_pid owner = tq_spawn(node, oq, "owner", 0);
  tq *w = tq_new();
  actnet_pid watcher = tq_spawn(node, w, NULL, 0);

  round_robin(q, owner);
  skips_unregistered_names(q, owner);
  dead_worker(q, owner, w, watcher);
  no_live_worker(q, owner);
  CHECK(tq_quiet(oq, 10)); /* the owner got nothing: everything went to the pool */

  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(q);
  tq_release(oq);
  tq_release(w);
  printf("test_tcp_routing: ok\n");
  return 0;
}
