/* Mutual TLS: servers that ask clients for a certificate, verified against the manager's CA
 * bundle (ca.pem).
 *
 * tls_client_auth REQUIRED:
 * - a client presenting client.pem (signed by the CA) is accepted: the server's CONNECT shows
 *   tls_peer_subject with CN=test-client (also inspect "tls peer subject"), and bytes flow;
 * - a client without a certificate is refused: no CONNECT reaches the server's process, the
 *   server's "tls handshake failures" goes up by one, and the client either gets
 *   CERTIFICATE_INVALID / TLS_ERROR from actnet_tcp_connect or (TLS 1.3, where the client
 *   finishes first) CONNECT then one DISCONNECT, after which the alias is gone;
 * - a client presenting a certificate the CA did not sign (selfsigned.pem) is refused the
 *   same way;
 * - the accepted connection is unaffected by the refusals.
 * tls_client_auth OPTIONAL:
 * - a client without a certificate is accepted, the server's CONNECT has no peer subject;
 * - a client with client.pem is accepted with CN=test-client;
 * - a client with an unverifiable certificate (selfsigned.pem) is refused.
 */
#include <string.h>

#include "tls_support.h"

static actnet_node *node;

typedef struct env {
  tq *sq, *cq;
  actnet_pid owner, client;
  actnet_alias server;
  uint16_t port;
  actnet_certmanager *sm;
} env;

static void env_start(env *e, uint32_t client_auth) {
  e->sq = tls_tq_new(true);
  e->cq = tls_tq_new(false);
  e->owner = tq_spawn(node, e->sq, NULL, 0);
  e->client = tq_spawn(node, e->cq, NULL, 0);
  e->sm = tls_manager("server.pem", "server.key", "ca.pem");
  actnet_tcp_server_options so;
  tls_server_options(&so, e->sm);
  so.tls_client_auth = client_auth;
  e->server = server_spawn(node, e->owner, &so, &e->port);
}

static void env_stop(env *e) {
  CHECK_OK(actnet_meta_terminate(node, e->server));
  CHECK_OK(actnet_certmanager_free(e->sm));
  CHECK_OK(actnet_process_stop(node, e->owner));
  CHECK_OK(actnet_process_stop(node, e->client));
  tq_release(e->sq);
  tq_release(e->cq);
}

/* A client manager trusting ca.pem, presenting cert/key if not NULL. */
static actnet_certmanager *client_manager(const char *cert, const char *key) {
  return tls_manager(cert, key, "ca.pem");
}

/* Connects and expects both CONNECTs; returns the client alias, *sconn the server's. */
static actnet_alias accepted(env *e, const actnet_certmanager *cm, tls_seen *server_seen, actnet_alias *sconn) {
  actnet_tcp_client_options co;
  tls_client_options(&co, e->port, cm, "localhost");
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, e->client, &co, &conn));
  tls_seen client_seen;
  CHECK(tls_expect_connect(e->cq, &client_seen).id == conn.id);
  CHECK_CONTAINS(client_seen.peer_subject, "CN=localhost");
  *sconn = tls_expect_connect(e->sq, server_seen);
  tls_roundtrip_str(node, e->cq, conn, "mutual");
  tls_expect_bytes(e->sq, *sconn, "mutual", 6);
  return conn;
}

static void close_pair(env *e, actnet_alias conn, actnet_alias sconn) {
  tls_close_pair(node, e->cq, conn, e->sq, sconn);
}

/* A refused client: see tls_expect_refused; the server's process sees nothing, and the
 * failure count reaches `failures`. */
static void refused(env *e, const actnet_certmanager *cm, uint64_t failures, const char *what) {
  actnet_tcp_client_options co;
  tls_client_options(&co, e->port, cm, "localhost");
  actnet_alias conn = {0};
  actnet_status st = actnet_tcp_connect(node, e->client, &co, &conn);
  const char *how = tls_expect_refused(node, e->cq, st, conn);
  CHECK(tq_quiet(e->sq, 300));
  CHECK(tls_wait_count(node, e->server, "tls handshake failures", failures, WAIT_MS));
  char want[32];
  snprintf(want, sizeof want, "%llu", (unsigned long long)failures);
  check_inspect(node, e->server, "tls handshake failures", want);
  fprintf(stderr, "refused %s: %s\n", what, how);
}

static void required(void) {
  env e;
  env_start(&e, ACTNET_CLIENT_AUTH_REQUIRED);
  actnet_certmanager *good = client_manager("client.pem", "client.key");
  actnet_certmanager *none = client_manager(NULL, NULL);
  actnet_certmanager *unknown = client_manager("selfsigned.pem", "selfsigned.key");

  tls_seen s;
  actnet_alias sconn = {0};
  actnet_alias conn = accepted(&e, good, &s, &sconn);
  CHECK_CONTAINS(s.peer_subject, "CN=test-client");
  check_inspect(node, sconn, "tls peer subject", s.peer_subject.s);
  check_inspect(node, e.server, "tls handshake failures", "0");

  refused(&e, none, 1, "without a client certificate");
  refused(&e, unknown, 2, "with a certificate from an unknown issuer");

  /* The accepted connection did not notice. */
  tls_roundtrip_str(node, e.cq, conn, "still here");
  tls_expect_bytes(e.sq, sconn, "still here", 10);
  close_pair(&e, conn, sconn);

  /* And good clients still get in. */
  conn = accepted(&e, good, &s, &sconn);
  CHECK_CONTAINS(s.peer_subject, "CN=test-client");
  close_pair(&e, conn, sconn);

  CHECK_OK(actnet_certmanager_free(good));
  CHECK_OK(actnet_certmanager_free(none));
  CHECK_OK(actnet_certmanager_free(unknown));
  env_stop(&e);
}

static void optional(void) {
  env e;
  env_start(&e, ACTNET_CLIENT_AUTH_OPTIONAL);
  actnet_certmanager *good = client_manager("client.pem", "client.key");
  actnet_certmanager *none = client_manager(NULL, NULL);
  actnet_certmanager *unknown = client_manager("selfsigned.pem", "selfsigned.key");

  tls_seen s;
  actnet_alias sconn = {0};
  actnet_alias conn = accepted(&e, none, &s, &sconn);
  CHECK(!s.peer_subject.set);
  tls_check_inspect_none(node, sconn, "tls peer subject");
  close_pair(&e, conn, sconn);

  conn = accepted(&e, good, &s, &sconn);
  CHECK_CONTAINS(s.peer_subject, "CN=test-client");
  close_pair(&e, conn, sconn);

  refused(&e, unknown, 1, "(optional) with a certificate from an unknown issuer");

  CHECK_OK(actnet_certmanager_free(good));
  CHECK_OK(actnet_certmanager_free(none));
  CHECK_OK(actnet_certmanager_free(unknown));
  env_stop(&e);
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  node = test_node_start();
  required();
  optional();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("test_tls_mtls: ok\n");
  return 0;
}
