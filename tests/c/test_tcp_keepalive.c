/* Keepalive (the behaviour is about time, so this test sleeps, with generous margins).
 *
 * - Application keepalive on an idle server connection (period 100 ms): the peer receives
 *   the keepalive bytes repeatedly, the first only after a full period (not at connect), only
 *   whole copies of the bytes, at most one per period; they do not count in "bytes out" and
 *   nothing reaches the process.
 * - On a busy connection (the process writes every 20 ms, period 250 ms) no keepalive byte
 *   appears in the stream; once the writes stop, keepalive resumes after a full period.
 * - A client connection (actnet_tcp_connect) with keepalive bytes sends them too.
 * - OS keepalive and TCP_NODELAY options reach the socket (found in this process by its
 *   addresses): tcp_keepalive_s 0 = off, 7 = SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL 7,
 *   -1 = SO_KEEPALIVE with the OS defaults; nodelay default on, off when asked.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;
static tq *q;
static actnet_pid owner;

static const uint8_t KA[] = {'<', 'K', 'A', '>'};

static actnet_alias keepalive_server(uint32_t period_ms, uint16_t *port) {
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.keepalive_bytes = KA;
  tc_o.conn.keepalive_bytes_len = sizeof KA;
  tc_o.conn.keepalive_period_ms = period_ms;
  return server_spawn(node, owner, &o, port);
}

/* Checks that buf holds only whole copies of KA; returns how many. */
static size_t count_keepalives(const uint8_t *buf, size_t len) {
  if (len % sizeof KA != 0) {
    fprintf(stderr, "%zu keepalive bytes: not whole copies\n", len);
    exit(1);
  }
  for (size_t i = 0; i < len; i++) {
    if (buf[i] != KA[i % sizeof KA]) {
      fprintf(stderr, "unexpected byte 0x%02x at %zu of the keepalive stream\n", buf[i], i);
      exit(1);
    }
  }
  return len / sizeof KA;
}

/* Reads for `ms` milliseconds; returns the bytes read into buf (cap bytes at most). */
static size_t read_for(int fd, uint8_t *buf, size_t cap, int ms) {
  size_t have = 0;
  int64_t end = now_ms() + ms;
  for (;;) {
    int left = (int)(end - now_ms());
    if (left <= 0) break;
    size_t got = 0;
    net_end e = net_read_some(fd, buf + have, cap - have, left, &got);
    if (e == NET_TIMEOUT) break;
    CHECK(e == NET_DATA);
    have += got;
    CHECK(have < cap);
  }
  return have;
}

/* Ends the peer's side without a reset: half-close, read to EOF (only keepalive bytes may
 * still come), then close; a plain close with keepalive bytes unread would send RST. */
static void finish(int fd) {
  net_shutdown_write(fd);
  uint8_t buf[256];
  size_t got = 0;
  net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got);
  if (end != NET_EOF) {
    fprintf(stderr, "closing: %s after %zu bytes, wanted EOF\n", net_end_str(end), got);
    exit(1);
  }
  count_keepalives(buf, got);
  close(fd);
}

static void idle_connection(void) {
  uint16_t port = 0;
  actnet_alias server = keepalive_server(100, &port);
  int64_t t0 = now_ms();
  int fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  uint8_t buf[1024];
  size_t got = 0;
  CHECK(net_read_some(fd, buf, sizeof KA, 2000, &got) == NET_DATA);
  int64_t first = now_ms() - t0;
  if (first < 90) {
    fprintf(stderr, "first keepalive after %lld ms: sent before a full period\n", (long long)first);
    exit(1);
  }
  CHECK(first < 1500);
  CHECK(net_read_exact(fd, buf + got, sizeof KA - got, 1000));
  size_t more = read_for(fd, buf + sizeof KA, sizeof buf - sizeof KA, 1000);
  size_t n = count_keepalives(buf, sizeof KA + more);
  /* about 10 in one second; repeatedly, and never more than one per period */
  if (n < 4 || n > 13) {
    fprintf(stderr, "%zu keepalives in about 1.1 s with a 100 ms period\n", n);
    exit(1);
  }
  check_inspect(node, conn, "bytes out", "0");
  CHECK(tq_quiet(q, 10));
  finish(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
}

static void busy_connection(void) {
  uint16_t port = 0;
  actnet_alias server = keepalive_server(250, &port);
  int fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  enum { WRITES = 75 };
  for (int i = 0; i < WRITES; i++) {
    CHECK_OK(actnet_tcp_write(node, conn, (const uint8_t *)"d", 1));
    sleep_ms(20);
  }
  int64_t last_write = now_ms();
  uint8_t buf[1024];
  CHECK(net_read_exact(fd, buf, WRITES, 1000));
  for (int i = 0; i < WRITES; i++) {
    if (buf[i] != 'd') {
      fprintf(stderr, "byte %d of a busy stream is 0x%02x: a keepalive was written\n", i, buf[i]);
      exit(1);
    }
  }
  check_inspect(node, conn, "bytes out", "75");
  /* idle again: keepalive resumes, a full period after the last write */
  size_t got = 0;
  CHECK(net_read_some(fd, buf, sizeof KA, 2000, &got) == NET_DATA);
  int64_t gap = now_ms() - last_write;
  CHECK(gap >= 200);
  CHECK(net_read_exact(fd, buf + got, sizeof KA - got, 1000));
  CHECK(count_keepalives(buf, sizeof KA) == 1);
  check_inspect(node, conn, "bytes out", "75");
  finish(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
}

static void client_keepalive(void) {
  uint16_t port = 0;
  int lfd = net_listen(4, &port);
  actnet_tcp_client_options c;
  CHECK_OK(actnet_tcp_client_options_init(&c));
  c.host = "127.0.0.1";
  c.port = port;
  test_conn_options tc_c;
  c.connection = test_conn_options_init(&tc_c);
  tc_c.conn.keepalive_bytes = KA;
  tc_c.conn.keepalive_bytes_len = sizeof KA;
  tc_c.conn.keepalive_period_ms = 100;
  int64_t t0 = now_ms();
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, owner, &c, &conn));
  int fd = net_accept(lfd, WAIT_MS);
  CHECK(fd >= 0);
  CHECK(tq_expect_connect(q).id == conn.id);
  uint8_t buf[256];
  size_t got = 0;
  CHECK(net_read_some(fd, buf, sizeof KA, 2000, &got) == NET_DATA);
  CHECK(now_ms() - t0 >= 90);
  CHECK(net_read_exact(fd, buf + got, sizeof KA - got, 1000));
  size_t more = read_for(fd, buf + sizeof KA, sizeof buf - sizeof KA, 350);
  CHECK(count_keepalives(buf, sizeof KA + more) >= 2);
  finish(fd);
  close(lfd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
}

static int getopt_int(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  CHECK(getsockopt(fd, level, name, &v, &len) == 0);
  return v;
}

/* Connects to a server with these socket options and checks what its socket has. */
static void socket_options(int32_t tcp_keepalive_s, bool nodelay) {
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.tcp_keepalive_s = tcp_keepalive_s;
  tc_o.conn.nodelay = nodelay;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  int fd = net_connect(port);
  tev e;
  tq_expect(q, ACTNET_MSG_CONNECT, &e);
  actnet_alias conn = e.alias;
  int theirs = net_find_socket(e.local_addr, e.remote_addr);
  tev_clear(&e);
  CHECK(theirs >= 0 && theirs != fd);
  CHECK(getopt_int(theirs, SOL_SOCKET, SO_KEEPALIVE) == (tcp_keepalive_s != 0));
  if (tcp_keepalive_s > 0) {
    CHECK(getopt_int(theirs, IPPROTO_TCP, TCP_KEEPIDLE) == tcp_keepalive_s);
    CHECK(getopt_int(theirs, IPPROTO_TCP, TCP_KEEPINTVL) == tcp_keepalive_s);
  }
  CHECK(getopt_int(theirs, IPPROTO_TCP, TCP_NODELAY) == (nodelay ? 1 : 0));
  net_write_all(fd, "ok", 2);
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  tev_clear(&e);
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
}

int main(void) {
  node = test_node_start();
  q = tq_new();
  owner = tq_spawn(node, q, NULL, 0);
  idle_connection();
  busy_connection();
  client_keepalive();
  socket_options(0, true);
  socket_options(7, true);
  socket_options(-1, false);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(q);
  printf("test_tcp_keepalive: ok\n");
  return 0;
}
