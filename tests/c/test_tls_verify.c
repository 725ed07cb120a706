/* The client side: verification of the server's certificate, insecure_skip_verify, and what
 * actnet_tcp_connect returns when the handshake cannot complete.
 *
 * - A self-signed server (selfsigned.pem): a client trusting ca.pem gets
 *   CERTIFICATE_INVALID from actnet_tcp_connect (the alias out-parameter untouched, no
 *   CONNECT on either side, no connection left: the owner's "meta-processes" is 0); so does
 *   a client with no certificate manager (the system's roots); with tls_insecure_skip_verify
 *   the connection works (CONNECT shows O=self-signed, bytes flow), and every such connect
 *   logs a warning (the node's log callback gets one WARN line about it per connect).
 * - An expired certificate (expired.pem, signed by the CA): CERTIFICATE_INVALID; with
 *   insecure_skip_verify it works.
 * - A certificate for another name ("wrong.test" against server.pem), and a client trusting
 *   only other-ca.pem: CERTIFICATE_INVALID.
 * - The server counts every one of these refusals in "tls handshake failures".
 * - A plain listener that accepts and never answers: with tls_handshake_timeout_ms 300,
 *   actnet_tcp_connect returns TIMEOUT (not CERTIFICATE_INVALID) after about 300 ms, and
 *   the peer sees the socket closed (EOF or reset) after having received a ClientHello.
 * - A plain peer that answers the ClientHello with an HTTP error: TLS_ERROR.
 * - Bad TLS client options: an empty server name, tls_alpn_len > 0 with a NULL list or an
 *   empty protocol name: INVALID_ARGUMENT / NULL_ARGUMENT, nothing connects.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "tls_support.h"

static actnet_node *node;
static tq *cq;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int insecure_warnings;

static void on_log(void *user_data, uint32_t level, const char *line) {
  (void)user_data;
  fprintf(stderr, "log: %s\n", line);
  if (level == ACTNET_LOG_LEVEL_WARN && strstr(line, "insecure_skip_verify")) {
    pthread_mutex_lock(&log_lock);
    insecure_warnings++;
    pthread_mutex_unlock(&log_lock);
  }
}

static int warnings(void) {
  pthread_mutex_lock(&log_lock);
  int n = insecure_warnings;
  pthread_mutex_unlock(&log_lock);
  return n;
}
static actnet_pid client;

typedef struct server {
  tq *q;
  actnet_pid owner;
  actnet_alias alias;
  uint16_t port;
} server;

static server start_server(const char *cert, const char *key) {
  server s;
  s.q = tls_tq_new(true);
  s.owner = tq_spawn(node, s.q, NULL, 0);
  actnet_certmanager *m = tls_manager(cert, key, NULL);
  actnet_tcp_server_options so;
  tls_server_options(&so, m);
  s.alias = server_spawn(node, s.owner, &so, &s.port);
  CHECK_OK(actnet_certmanager_free(m));
  return s;
}

static void stop_server(server *s) {
  CHECK_OK(actnet_process_stop(node, s->owner)); /* the server ends with its owner */
  tq_release(s->q);
}

static void expect_status(server *s, const actnet_certmanager *cm, const char *name, actnet_status want,
                          uint64_t failures) {
  actnet_tcp_client_options co;
  tls_client_options(&co, s->port, cm, name);
  actnet_alias conn = {0xDEAD};
  CHECK_STATUS(actnet_tcp_connect(node, client, &co, &conn), want);
  CHECK(conn.id == 0xDEAD);
  CHECK(tq_quiet(cq, 50));
  CHECK(tq_quiet(s->q, 50));
  check_inspect(node, client, "meta-processes", "0");
  CHECK(tls_wait_count(node, s->alias, "tls handshake failures", failures, WAIT_MS));
}

static void expect_works(server *s, actnet_tcp_client_options *co, const char *subject_part) {
  actnet_alias conn = {0};
  int before = warnings();
  CHECK_OK(actnet_tcp_connect(node, client, co, &conn));
  /* One warning per insecure connect, logged before it returns; none otherwise. */
  CHECK(warnings() == before + (co->tls_insecure_skip_verify ? 1 : 0));
  tls_seen seen;
  CHECK(tls_expect_connect(cq, &seen).id == conn.id);
  CHECK_CONTAINS(seen.peer_subject, subject_part);
  actnet_alias sconn = tls_expect_connect(s->q, NULL);
  tls_roundtrip_str(node, cq, conn, "verified or not");
  tls_expect_bytes(s->q, sconn, "verified or not", 15);
  tls_close_pair(node, cq, conn, s->q, sconn);
}

static void self_signed_and_expired(void) {
  actnet_certmanager *ca = tls_manager(NULL, NULL, "ca.pem");
  actnet_tcp_client_options co;

  server s = start_server("selfsigned.pem", "selfsigned.key");
  expect_status(&s, ca, "localhost", ACTNET_STATUS_CERTIFICATE_INVALID, 1);
  expect_status(&s, NULL, "localhost", ACTNET_STATUS_CERTIFICATE_INVALID, 2); /* system roots */
  tls_client_options(&co, s.port, NULL, "localhost");
  co.tls_insecure_skip_verify = true;
  expect_works(&s, &co, "O=self-signed");
  tls_client_options(&co, s.port, ca, "localhost"); /* a CA is no obstacle to skipping it */
  co.tls_insecure_skip_verify = true;
  expect_works(&s, &co, "O=self-signed");
  check_inspect(node, s.alias, "tls handshake failures", "2");
  stop_server(&s);

  s = start_server("expired.pem", "expired.key");
  expect_status(&s, ca, "localhost", ACTNET_STATUS_CERTIFICATE_INVALID, 1);
  expect_status(&s, ca, NULL, ACTNET_STATUS_CERTIFICATE_INVALID, 2);
  tls_client_options(&co, s.port, ca, "localhost");
  co.tls_insecure_skip_verify = true;
  expect_works(&s, &co, "O=actnet tests expired");
  stop_server(&s);

  s = start_server("server.pem", "server.key");
  expect_status(&s, ca, "wrong.test", ACTNET_STATUS_CERTIFICATE_INVALID, 1);
  actnet_certmanager *other = tls_manager(NULL, NULL, "other-ca.pem");
  expect_status(&s, other, "localhost", ACTNET_STATUS_CERTIFICATE_INVALID, 2);
  tls_client_options(&co, s.port, ca, "localhost");
  expect_works(&s, &co, "CN=localhost");
  check_inspect(node, s.alias, "tls handshake failures", "2");
  stop_server(&s);
  CHECK_OK(actnet_certmanager_free(other));
  CHECK_OK(actnet_certmanager_free(ca));
}

static void not_tls_peers(void) {
  actnet_certmanager *ca = tls_manager(NULL, NULL, "ca.pem");
  actnet_tcp_client_options co;

  /* Accepts, reads, never answers. */
  raw_peer *p = raw_peer_start(NULL, 10000);
  tls_client_options(&co, raw_peer_port(p), ca, "localhost");
  co.tls_handshake_timeout_ms = 300;
  actnet_alias conn = {0xDEAD};
  int64_t t0 = now_ms();
  CHECK_STATUS(actnet_tcp_connect(node, client, &co, &conn), ACTNET_STATUS_TIMEOUT);
  int64_t took = now_ms() - t0;
  if (took < 250 || took > 3000) {
    fprintf(stderr, "the client's handshake timeout of 300 ms took %lld ms\n", (long long)took);
    exit(1);
  }
  CHECK(conn.id == 0xDEAD);
  size_t got = 0;
  net_end end = raw_peer_finish(p, &got);
  if (end != NET_EOF && end != NET_RESET) {
    fprintf(stderr, "the silent peer's socket: %s, wanted EOF or reset\n", net_end_str(end));
    exit(1);
  }
  CHECK(got > 0); /* a ClientHello came */
  CHECK(tq_quiet(cq, 50));
  check_inspect(node, client, "meta-processes", "0");

  /* Answers with something that is not TLS. */
  p = raw_peer_start("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 10000);
  tls_client_options(&co, raw_peer_port(p), ca, "localhost");
  t0 = now_ms();
  CHECK_STATUS(actnet_tcp_connect(node, client, &co, &conn), ACTNET_STATUS_TLS_ERROR);
  CHECK(now_ms() - t0 < 3000);
  CHECK(conn.id == 0xDEAD);
  end = raw_peer_finish(p, &got);
  CHECK(end == NET_EOF || end == NET_RESET);
  CHECK(tq_quiet(cq, 50));
  CHECK_OK(actnet_certmanager_free(ca));
}

static void bad_options(void) {
  uint16_t port = 0;
  int lfd = net_listen(4, &port);
  actnet_tcp_client_options co;
  actnet_alias conn = {0xDEAD};

  tls_client_options(&co, port, NULL, "");
  CHECK_STATUS(actnet_tcp_connect(node, client, &co, &conn), ACTNET_STATUS_INVALID_ARGUMENT);
  tls_client_options(&co, port, NULL, "localhost");
  co.tls_alpn_len = 1;
  CHECK_STATUS(actnet_tcp_connect(node, client, &co, &conn), ACTNET_STATUS_NULL_ARGUMENT);
  static const char *empty_name[] = {""};
  co.tls_alpn = empty_name;
  CHECK_STATUS(actnet_tcp_connect(node, client, &co, &conn), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK(conn.id == 0xDEAD);
  CHECK(tq_quiet(cq, 50));
  check_inspect(node, client, "meta-processes", "0");
  close(lfd);
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  actnet_node_options opts;
  CHECK_OK(actnet_node_options_init(&opts));
  opts.worker_threads = 2;
  opts.log = on_log;
  CHECK_OK(actnet_node_start(&opts, &node));
  cq = tls_tq_new(false);
  client = tq_spawn(node, cq, NULL, 0);
  self_signed_and_expired();
  not_tls_peers();
  bad_options();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(cq);
  printf("test_tls_verify: ok\n");
  return 0;
}
