/* TCP messages, their order, and inspect.
 *
 * - A server bound to 127.0.0.1 port 0 reports its port; inspect of the server: kind "tcp
 *   server", "listener" = 127.0.0.1:PORT, "owner", "connections" and "accepted" counts.
 * - A connection delivers CONNECT (alias, local/remote address equal to the peer socket's
 *   getpeername/getsockname), then DATA (the exact bytes, in order, nothing in between), then
 *   exactly one DISCONNECT (peer closed); a monitor sees DOWN (normal), after which writes,
 *   inspect, terminate and abort on the alias are NOT_FOUND.
 * - Inspect of a connection: kind, owner (the server), local, remote, process (the owner's
 *   pid without a pool), "bytes in"/"bytes out" exact after a known exchange (including a
 *   write from a foreign thread), "queued write bytes" 0, "reading paused" false.
 * - A peer that half-closes right after its request still gets the (slow) reply before EOF:
 *   the connection waits until the target handled every DATA before closing.
 * - Raw mode: no DATA is longer than read_buffer_size and the concatenation is the stream.
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;

static void u64str(uint64_t v, char *out, size_t len) { snprintf(out, len, "%" PRIu64, v); }

static void expect_data(tq *q, actnet_alias conn, const char *text) {
  tev e;
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  if (e.len != strlen(text) || memcmp(e.data, text, e.len) != 0) {
    fprintf(stderr, "DATA \"%s\", wanted \"%s\"\n", (const char *)e.data, text);
    exit(1);
  }
  CHECK(!e.had_buf);
  CHECK_STATUS(e.status, ACTNET_STATUS_OK); /* the echo write */
  tev_clear(&e);
}

static void order_addresses_and_inspect(void) {
  tq *q = tq_new();
  tq_set_echo(q, true);
  actnet_pid owner = tq_spawn(node, q, "owner", 0);
  tq *w = tq_new();
  actnet_pid watcher = tq_spawn(node, w, NULL, 0);

  actnet_tcp_server_options o;
  server_options(&o);
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  char s[128], listener[64];
  snprintf(listener, sizeof listener, "127.0.0.1:%u", port);
  check_inspect(node, server, "kind", "tcp server");
  check_inspect(node, server, "listener", listener);
  u64str(owner.id, s, sizeof s);
  check_inspect(node, server, "owner", s);
  check_inspect(node, server, "connections", "0");
  check_inspect(node, server, "accepted", "0");
  check_inspect(node, owner, "meta-processes", "1");

  int fd = net_connect(port);
  tev e;
  tq_expect(q, ACTNET_MSG_CONNECT, &e);
  actnet_alias conn = e.alias;
  CHECK(e.pid.id == owner.id);
  CHECK(conn.id != 0 && conn.id != server.id && conn.id != owner.id);
  char mine[64], theirs[64];
  net_sockname(fd, mine, sizeof mine);
  net_peername(fd, theirs, sizeof theirs);
  CHECK(strcmp(theirs, listener) == 0);
  if (strcmp(e.local_addr, theirs) != 0 || strcmp(e.remote_addr, mine) != 0) {
    fprintf(stderr, "CONNECT local %s remote %s, wanted local %s remote %s\n", e.local_addr, e.remote_addr,
            theirs, mine);
    exit(1);
  }
  CHECK(e.len == 0);
  tev_clear(&e);
  tq_monitor(node, watcher, conn);

  CHECK(wait_inspect(node, server, "connections", "1", WAIT_MS));
  check_inspect(node, server, "accepted", "1");
  check_inspect(node, conn, "kind", "tcp connection");
  u64str(server.id, s, sizeof s);
  check_inspect(node, conn, "owner", s);
  check_inspect(node, conn, "local", theirs);
  check_inspect(node, conn, "remote", mine);
  u64str(owner.id, s, sizeof s);
  check_inspect(node, conn, "process", s);
  check_inspect(node, conn, "bytes in", "0");
  check_inspect(node, conn, "bytes out", "0");
  check_inspect(node, conn, "queued write bytes", "0");
  check_inspect(node, conn, "reading paused", "false");

  /* DATA in order, one exchange at a time (each echoed back by the owner). */
  char buf[64];
  net_write_all(fd, "hello", 5);
  CHECK(net_read_exact(fd, buf, 5, WAIT_MS));
  CHECK(memcmp(buf, "hello", 5) == 0);
  expect_data(q, conn, "hello");
  net_write_all(fd, "world!!", 7);
  CHECK(net_read_exact(fd, buf, 7, WAIT_MS));
  CHECK(memcmp(buf, "world!!", 7) == 0);
  expect_data(q, conn, "world!!");
  /* A write from a foreign thread (the test's). */
  CHECK_OK(actnet_tcp_write(node, conn, (const uint8_t *)"xyz", 3));
  CHECK(net_read_exact(fd, buf, 3, WAIT_MS));
  CHECK(memcmp(buf, "xyz", 3) == 0);
  CHECK_OK(actnet_tcp_write(node, conn, NULL, 0)); /* an empty write is fine and sends nothing */
  check_inspect(node, conn, "bytes in", "12");
  check_inspect(node, conn, "bytes out", "15");
  check_inspect(node, conn, "queued write bytes", "0");
  check_inspect(node, conn, "reading paused", "false");
  CHECK(tq_quiet(q, 50));

  /* Wrong targets for a write. */
  CHECK_STATUS(actnet_tcp_write(node, server, (const uint8_t *)"x", 1), ACTNET_STATUS_UNSUPPORTED);
  /* 0.2: a process id is the wrong kind (0.1: UNSUPPORTED) */
  CHECK_STATUS(actnet_tcp_write(node, alias_of_raw(owner.id), (const uint8_t *)"x", 1), ACTNET_STATUS_WRONG_KIND);
  CHECK_STATUS(actnet_tcp_write(node, conn, NULL, 1), ACTNET_STATUS_NULL_ARGUMENT);

  CHECK(close(fd) == 0);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, ACTNET_EXIT_NORMAL);
  CHECK(wait_inspect(node, server, "connections", "0", WAIT_MS));
  check_inspect(node, server, "accepted", "1");
  CHECK(tq_quiet(w, 50));

  CHECK_OK(actnet_meta_terminate(node, server));
  tq_release(q);
  tq_release(w);
}

static void reply_survives_half_close(void) {
  tq *q = tq_new();
  tq_set_echo(q, true);
  tq_set_delay_us(q, 100 * 1000); /* the reply takes 100 ms */
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  int fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  net_write_all(fd, "last words", 10);
  net_shutdown_write(fd);
  char buf[64];
  size_t got = 0;
  net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got);
  if (end != NET_EOF || got != 10 || memcmp(buf, "last words", 10) != 0) {
    fprintf(stderr, "half close: read %zu bytes then %s, wanted the 10-byte reply then EOF\n", got,
            net_end_str(end));
    exit(1);
  }
  expect_data(q, conn, "last words");
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  close(fd);
  CHECK_OK(actnet_meta_terminate(node, server));
  tq_release(q);
}

static void raw_reads_are_bounded_by_the_read_buffer(void) {
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.read_buffer_size = 16;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  int fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  enum { N = 1000 };
  uint8_t sent[N], got[N];
  net_pattern(sent, N, 0, 7);
  net_write_all(fd, sent, N);
  size_t have = 0;
  int datas = 0;
  while (have < N) {
    tev e;
    tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
    CHECK(e.len > 0 && e.len <= 16);
    CHECK(have + e.len <= N);
    memcpy(got + have, e.data, e.len);
    have += e.len;
    datas++;
    tev_clear(&e);
  }
  CHECK(datas >= N / 16);
  CHECK(memcmp(sent, got, N) == 0);
  check_inspect(node, conn, "bytes in", "1000");
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
  tq_release(q);
}

int main(void) {
  node = test_node_start();
  order_addresses_and_inspect();
  reply_survives_half_close();
  raw_reads_are_bounded_by_the_read_buffer();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("test_tcp_messages: ok\n");
  return 0;
}
