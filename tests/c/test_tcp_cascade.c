/* Cascading termination closes sockets.
 *
 * - The owner of a pooled server ends: each pool worker gets exactly one DISCONNECT with
 *   reason PARENT_DOWN per connection, every peer sees EOF, monitors see DOWN (SHUTDOWN) for
 *   the server and the connections, and once the server is down new connects are refused and
 *   the aliases are NOT_FOUND.
 * - actnet_meta_terminate on a server alias closes its listener and its connections
 *   (PARENT_DOWN to the owner, which lives on; the server's DOWN is NORMAL).
 * - actnet_node_stop: every connection (accepted and client) delivers exactly one DISCONNECT
 *   with reason NODE_STOPPING, peers see EOF, the port is closed; a connection whose peer
 *   does not read (with queued writes) does not hold the stop beyond its close timeout.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static void expect_eof(int fd) {
  char buf[64];
  size_t got = 0;
  net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got);
  if (end != NET_EOF || got != 0) {
    fprintf(stderr, "the peer read %zu bytes then %s, wanted EOF\n", got, net_end_str(end));
    exit(1);
  }
}

static void expect_refused(uint16_t port) {
  int fd = net_try_connect(port);
  if (fd >= 0 || errno != ECONNREFUSED) {
    fprintf(stderr, "connect to a closed server: fd %d, %s\n", fd, strerror(errno));
    exit(1);
  }
}

/* Expects n DISCONNECTs with `reason`, one for each of conns (any order), then quiet. */
static void expect_disconnects(tq *q, const actnet_alias *conns, int n, uint32_t reason) {
  bool seen[8] = {false};
  for (int i = 0; i < n; i++) {
    tev e;
    tq_expect(q, ACTNET_MSG_DISCONNECT, &e);
    int k = -1;
    for (int j = 0; j < n; j++)
      if (conns[j].id == e.alias.id) k = j;
    CHECK(k >= 0 && !seen[k]);
    seen[k] = true;
    if (e.reason != reason) {
      fprintf(stderr, "DISCONNECT reason %s, wanted %s\n", actnet_disconnect_reason_str(e.reason),
              actnet_disconnect_reason_str(reason));
      exit(1);
    }
    tev_clear(&e);
  }
  CHECK(tq_quiet(q, 200));
}

static void owner_ends(actnet_node *node, tq *w, actnet_pid watcher) {
  tq *oq = tq_new(), *wq = tq_new();
  actnet_pid owner = tq_spawn(node, oq, NULL, 0);
  tq_spawn(node, wq, "cascade_worker", 0);
  const char *pool[] = {"cascade_worker"};
  actnet_tcp_server_options o;
  server_options(&o);
  o.process_pool = pool;
  o.process_pool_len = 1;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  tq_monitor(node, watcher, server);
  int fds[2];
  actnet_alias conns[2];
  for (int i = 0; i < 2; i++) {
    fds[i] = net_connect(port);
    conns[i] = tq_expect_connect(wq);
    tq_monitor(node, watcher, conns[i]);
  }
  CHECK_OK(actnet_process_stop(node, owner));
  expect_disconnects(wq, conns, 2, ACTNET_DISCONNECT_REASON_PARENT_DOWN);
  for (int i = 0; i < 2; i++) expect_eof(fds[i]);
  /* DOWN for the two connections and the server, all SHUTDOWN */
  for (int i = 0; i < 3; i++) {
    tev e;
    tq_expect(w, ACTNET_MSG_DOWN, &e);
    CHECK(e.alias.id == server.id || e.alias.id == conns[0].id || e.alias.id == conns[1].id);
    CHECK(e.reason == ACTNET_EXIT_SHUTDOWN);
    tev_clear(&e);
  }
  expect_refused(port);
  check_inspect_gone(node, server);
  for (int i = 0; i < 2; i++) {
    CHECK_STATUS(actnet_tcp_write(node, conns[i], (const uint8_t *)"x", 1), ACTNET_STATUS_NOT_FOUND);
    close(fds[i]);
  }
  CHECK(tq_quiet(oq, 10));
  tq_release(oq);
  tq_release(wq);
}

static void terminate_server(actnet_node *node, tq *w, actnet_pid watcher) {
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  tq_monitor(node, watcher, server);
  int fds[2];
  actnet_alias conns[2];
  for (int i = 0; i < 2; i++) {
    fds[i] = net_connect(port);
    conns[i] = tq_expect_connect(q);
  }
  CHECK_OK(actnet_meta_terminate(node, server));
  expect_disconnects(q, conns, 2, ACTNET_DISCONNECT_REASON_PARENT_DOWN);
  for (int i = 0; i < 2; i++) {
    expect_eof(fds[i]);
    close(fds[i]);
  }
  tev e;
  tq_expect_for(w, ACTNET_MSG_DOWN, server, &e);
  CHECK(e.reason == ACTNET_EXIT_NORMAL);
  tev_clear(&e);
  expect_refused(port);
  CHECK_STATUS(actnet_meta_terminate(node, server), ACTNET_STATUS_NOT_FOUND);
  check_inspect(node, owner, "meta-processes", "0");
  check_inspect(node, owner, "kind", "process"); /* the owner lives on */
  tq_release(q);
}

static void node_stop(void) {
  actnet_node *node = test_node_start();
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.close_timeout_ms = 500;
  uint16_t port = 0;
  server_spawn(node, owner, &o, &port);
  int fds[3];
  actnet_alias conns[4];
  for (int i = 0; i < 2; i++) {
    fds[i] = net_connect(port);
    conns[i] = tq_expect_connect(q);
  }
  /* a third connection whose peer does not read, with writes queued */
  fds[2] = net_connect_bufs(port, 4096, 0);
  conns[2] = tq_expect_connect(q);
  static uint8_t chunk[64 * 1024];
  for (int i = 0; inspect_u64(node, conns[2], "queued write bytes") == 0; i++) {
    CHECK(i < 512); /* 32 MiB: the socket buffers cannot take that much */
    CHECK_OK(actnet_tcp_write(node, conns[2], chunk, sizeof chunk));
  }
  /* a client connection */
  uint16_t lport = 0;
  int lfd = net_listen(4, &lport);
  actnet_tcp_client_options c;
  CHECK_OK(actnet_tcp_client_options_init(&c));
  c.host = "127.0.0.1";
  c.port = lport;
  CHECK_OK(actnet_tcp_connect(node, owner, &c, &conns[3]));
  int cfd = net_accept(lfd, WAIT_MS);
  CHECK(cfd >= 0);
  CHECK(tq_expect_connect(q).id == conns[3].id);

  int64_t t0 = now_ms();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  int64_t took = now_ms() - t0;
  if (took > 2500) {
    fprintf(stderr, "node stop took %lld ms with a peer that does not read\n", (long long)took);
    exit(1);
  }
  /* The queue outlives the node: exactly one DISCONNECT each, NODE_STOPPING, also for the
   * connection whose queued writes could not be flushed within its close timeout (the cause
   * of the close wins over WRITE_TIMEOUT). */
  bool seen[4] = {false};
  for (int i = 0; i < 4; i++) {
    tev e;
    tq_expect(q, ACTNET_MSG_DISCONNECT, &e);
    int k = -1;
    for (int j = 0; j < 4; j++)
      if (conns[j].id == e.alias.id) k = j;
    CHECK(k >= 0 && !seen[k]);
    seen[k] = true;
    bool ok = e.reason == ACTNET_DISCONNECT_REASON_NODE_STOPPING;
    if (!ok) {
      fprintf(stderr, "connection %d: DISCONNECT reason %s, wanted node stopping\n", k,
              actnet_disconnect_reason_str(e.reason));
      exit(1);
    }
    tev_clear(&e);
  }
  CHECK(tq_quiet(q, 200));
  for (int i = 0; i < 2; i++) {
    expect_eof(fds[i]);
    close(fds[i]);
  }
  expect_eof(cfd);
  close(cfd);
  close(lfd);
  close(fds[2]);
  expect_refused(port);
  tq_release(q);
}

int main(void) {
  actnet_node *node = test_node_start();
  tq *w = tq_new();
  actnet_pid watcher = tq_spawn(node, w, NULL, 0);
  owner_ends(node, w, watcher);
  terminate_server(node, w, watcher);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(w);
  node_stop();
  printf("test_tcp_cascade: ok\n");
  return 0;
}
