/* The server side of handshakes that do not complete: they never reach the actor.
 *
 * - Handshake timeout (tls_handshake_timeout_ms 300): a raw peer that connects and sends
 *   nothing sees its socket closed (EOF or reset) after about 300 ms (between 250 ms and
 *   3 s), no CONNECT reaches the server's process, and the server's "tls handshake failures"
 *   counts it; so does a peer that sends the first 5 bytes of a ClientHello record and
 *   stalls. While a silent peer waits, a real TLS client connects and exchanges bytes (one
 *   pending handshake does not hold up others).
 * - Plaintext to a TLS server (handshake timeout 5 s, so the refusal is not the timeout):
 *   "GET / HTTP/1.0" is refused within 2 s: the socket is closed (EOF or reset), nothing
 *   echoed (at most a TLS alert record comes back), no CONNECT, counted. Binary garbage too.
 * - A bad record after the handshake (bytes written straight into the client's socket, which
 *   the server cannot decrypt): the server's connection ends with DISCONNECT reason
 *   TLS_ERROR (exactly one; a monitor's DOWN has reason_code TLS_ERROR), the client's with
 *   TLS_ERROR or RESET (the server's alert, or its close), and the server goes on.
 * - Every failure is logged (the node's log callback at INFO gets a line about the failed
 *   handshake), and "tls" = "on" in the server's inspect.
 * Times are multiplied by $ACTNET_TEST_SLOW (harness.h) under valgrind.
 */
#include <string.h>
#include <unistd.h>

#include "tls_support.h"

static actnet_node *node;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int handshake_log_lines;

static void on_log(void *user_data, uint32_t level, const char *line) {
  (void)user_data;
  if (level <= ACTNET_LOG_LEVEL_WARN) fprintf(stderr, "log: %s\n", line);
  if (strstr(line, "handshake")) {
    pthread_mutex_lock(&log_lock);
    handshake_log_lines++;
    pthread_mutex_unlock(&log_lock);
  }
}

static int log_lines(void) {
  pthread_mutex_lock(&log_lock);
  int n = handshake_log_lines;
  pthread_mutex_unlock(&log_lock);
  return n;
}

typedef struct server {
  tq *q;
  actnet_pid owner;
  actnet_alias alias;
  uint16_t port;
} server;

static server start_server(uint32_t handshake_timeout_ms) {
  server s;
  s.q = tls_tq_new(true);
  s.owner = tq_spawn(node, s.q, NULL, 0);
  actnet_certmanager *m = tls_manager("server.pem", "server.key", NULL);
  actnet_tcp_server_options so;
  tls_server_options(&so, m);
  so.tls_handshake_timeout_ms = handshake_timeout_ms;
  s.alias = server_spawn(node, s.owner, &so, &s.port);
  CHECK_OK(actnet_certmanager_free(m));
  check_inspect(node, s.alias, "tls", "on");
  check_inspect(node, s.alias, "tls handshake failures", "0");
  return s;
}

static void stop_server(server *s) {
  CHECK_OK(actnet_process_stop(node, s->owner));
  tq_release(s->q);
}

/* Waits for the server to close fd (EOF or reset) within [min_ms, max_ms] from t0. Returns
 * the bytes it sent before closing (into buf, up to cap). */
static size_t expect_closed(int fd, int64_t t0, int min_ms, int max_ms, uint8_t *buf, size_t cap) {
  size_t got = 0;
  net_end e = net_read_to_end(fd, buf, cap, max_ms, &got);
  int64_t took = now_ms() - t0;
  if ((e != NET_EOF && e != NET_RESET) || took < min_ms || took > max_ms) {
    fprintf(stderr, "the server ended the socket with %s after %lld ms, wanted EOF or reset within %d..%d ms\n",
            net_end_str(e), (long long)took, min_ms, max_ms);
    exit(1);
  }
  close(fd);
  return got;
}

static void handshake_timeout(void) {
  server s = start_server(SLOW_MS(300));
  int before = log_lines();

  /* Silent: connects, sends nothing. Meanwhile a real client gets through. */
  int64_t t0 = now_ms();
  int fd = net_connect(s.port);
  actnet_certmanager *cm = tls_manager(NULL, NULL, "ca.pem");
  tq *cq = tls_tq_new(false);
  actnet_pid client = tq_spawn(node, cq, NULL, 0);
  actnet_tcp_client_options co;
  tls_client_options(&co, s.port, cm, "localhost");
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, client, &co, &conn));
  CHECK(tls_expect_connect(cq, NULL).id == conn.id);
  actnet_alias sconn = tls_expect_connect(s.q, NULL);
  tls_roundtrip_str(node, cq, conn, "not held up");
  tls_expect_bytes(s.q, sconn, "not held up", 11);
  uint8_t buf[256];
  CHECK(expect_closed(fd, t0, SLOW_MS(250), SLOW_MS(3000), buf, sizeof buf) == 0);
  CHECK(tls_wait_count(node, s.alias, "tls handshake failures", 1, WAIT_MS));
  CHECK(tq_quiet(s.q, 100)); /* the silent peer never became a CONNECT */

  /* Stalls inside the ClientHello record. */
  t0 = now_ms();
  fd = net_connect(s.port);
  static const uint8_t partial[] = {0x16, 0x03, 0x01, 0x02, 0x00};
  net_write_all(fd, partial, sizeof partial);
  expect_closed(fd, t0, SLOW_MS(250), SLOW_MS(3000), buf, sizeof buf);
  CHECK(tls_wait_count(node, s.alias, "tls handshake failures", 2, WAIT_MS));
  CHECK(tq_quiet(s.q, 100));

  /* The good connection is still fine; the failures were logged. */
  tls_roundtrip_str(node, cq, conn, "still fine");
  tls_expect_bytes(s.q, sconn, "still fine", 10);
  check_inspect(node, s.alias, "tls handshake failures", "2");
  CHECK(log_lines() >= before + 2);

  CHECK_OK(actnet_meta_terminate(node, conn));
  expect_disconnect_once(node, cq, NULL, conn, ACTNET_DISCONNECT_REASON_CLOSED, 0);
  expect_disconnect_once(node, s.q, NULL, sconn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_process_stop(node, client));
  CHECK_OK(actnet_certmanager_free(cm));
  tq_release(cq);
  stop_server(&s);
}

static void not_tls(void) {
  server s = start_server(SLOW_MS(5000));
  int before = log_lines();
  uint8_t buf[4096];

  int64_t t0 = now_ms();
  int fd = net_connect(s.port);
  static const char get[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
  net_write_all(fd, get, sizeof get - 1);
  size_t got = expect_closed(fd, t0, 0, SLOW_MS(2000), buf, sizeof buf);
  if (got > 0 && buf[0] != 0x15) { /* only a TLS alert record may come back */
    fprintf(stderr, "a plaintext client got %zu bytes starting with 0x%02x\n", got, buf[0]);
    exit(1);
  }
  CHECK(tls_wait_count(node, s.alias, "tls handshake failures", 1, WAIT_MS));
  CHECK(tq_quiet(s.q, 100));

  t0 = now_ms();
  fd = net_connect(s.port);
  uint8_t garbage[600];
  net_pattern(garbage, sizeof garbage, 0, 99);
  garbage[0] = 0x00; /* not a TLS content type */
  net_write_all(fd, garbage, sizeof garbage);
  got = expect_closed(fd, t0, 0, SLOW_MS(2000), buf, sizeof buf);
  CHECK(got == 0 || buf[0] == 0x15);
  CHECK(tls_wait_count(node, s.alias, "tls handshake failures", 2, WAIT_MS));
  CHECK(tq_quiet(s.q, 100));
  CHECK(log_lines() >= before + 2);
  stop_server(&s);
}

static void bad_record_after_handshake(void) {
  server s = start_server(5000);
  tq *cq = tls_tq_new(false), *wq = tq_new();
  actnet_pid client = tq_spawn(node, cq, NULL, 0);
  actnet_pid watcher = tq_spawn(node, wq, NULL, 0);
  actnet_certmanager *cm = tls_manager(NULL, NULL, "ca.pem");
  actnet_tcp_client_options co;
  tls_client_options(&co, s.port, cm, "localhost");
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, client, &co, &conn));
  CHECK(tls_expect_connect(cq, NULL).id == conn.id);
  actnet_alias sconn = tls_expect_connect(s.q, NULL);
  tq_monitor(node, watcher, sconn);
  tls_roundtrip_str(node, cq, conn, "before the bad record");
  tls_expect_bytes(s.q, sconn, "before the bad record", 21);

  /* The client connection's socket, in this process. */
  char local[80], remote[80];
  CHECK(inspect_value(node, conn, "local", local, sizeof local));
  CHECK(inspect_value(node, conn, "remote", remote, sizeof remote));
  int fd = net_find_socket(local, remote);
  CHECK(fd >= 0);
  uint8_t record[5 + 48];
  net_pattern(record, sizeof record, 0, 5);
  record[0] = 0x17; /* application data, TLS 1.2 record version, 48 bytes of nonsense */
  record[1] = 0x03;
  record[2] = 0x03;
  record[3] = 0;
  record[4] = 48;
  net_write_all(fd, record, sizeof record);

  expect_disconnect_once(node, s.q, wq, sconn, ACTNET_DISCONNECT_REASON_TLS_ERROR, ACTNET_EXIT_DISCONNECTED);
  tev e;
  tq_expect_for(cq, ACTNET_MSG_DISCONNECT, conn, &e);
  if (e.reason != ACTNET_DISCONNECT_REASON_TLS_ERROR && e.reason != ACTNET_DISCONNECT_REASON_RESET) {
    fprintf(stderr, "the client's DISCONNECT: %s, wanted TLS error or reset\n", actnet_disconnect_reason_str(e.reason));
    exit(1);
  }
  tev_clear(&e);
  check_inspect(node, s.alias, "tls handshake failures", "0"); /* not a handshake failure */

  /* The server goes on. */
  actnet_alias conn2 = {0};
  CHECK_OK(actnet_tcp_connect(node, client, &co, &conn2));
  CHECK(tls_expect_connect(cq, NULL).id == conn2.id);
  actnet_alias sconn2 = tls_expect_connect(s.q, NULL);
  tls_roundtrip_str(node, cq, conn2, "after");
  tls_expect_bytes(s.q, sconn2, "after", 5);
  tls_close_pair(node, cq, conn2, s.q, sconn2);

  CHECK_OK(actnet_process_stop(node, client));
  CHECK_OK(actnet_process_stop(node, watcher));
  CHECK_OK(actnet_certmanager_free(cm));
  tq_release(cq);
  tq_release(wq);
  stop_server(&s);
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  actnet_node_options opts;
  CHECK_OK(actnet_node_options_init(&opts));
  opts.worker_threads = 2;
  opts.log_level = ACTNET_LOG_LEVEL_INFO;
  opts.log = on_log;
  CHECK_OK(actnet_node_start(&opts, &node));
  handshake_timeout();
  not_tls();
  bad_record_after_handshake();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("test_tls_handshake: ok\n");
  return 0;
}
