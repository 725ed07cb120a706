/* SNI: the server presents the certificate registered for the name the client asks for.
 *
 * A server whose manager has server.pem (CN=localhost) as the default and alt.pem
 * (CN=alt.test) for "alt.test"; clients verify against ca.pem. The peer subject each client
 * sees in CONNECT (and inspect "tls peer subject"), and the server name the server's CONNECT
 * shows:
 * - no server name (host 127.0.0.1: no SNI is sent for an IP address): the default,
 *   CN=localhost, verified against the certificate's IP address; the server sees no name;
 * - "localhost": CN=localhost; the server sees "localhost";
 * - "alt.test": CN=alt.test; the server sees "alt.test"; "ALT.Test" (names are
 *   case-insensitive): CN=alt.test too;
 * - "nobody.test": the default certificate, which is not valid for that name:
 *   actnet_tcp_connect returns CERTIFICATE_INVALID, no CONNECT anywhere, and the server's
 *   "tls handshake failures" counts it.
 * - remove_cert("alt.test"): later "alt.test" clients get the default certificate and are
 *   refused (CERTIFICATE_INVALID); removing it again is NOT_FOUND; setting it again (now from
 *   files) makes "alt.test" work again, on the same server.
 * - remove_cert(NULL) with only "alt.test" left: "localhost" clients get no certificate at
 *   all (TLS_ERROR), "alt.test" clients still work.
 */
#include <string.h>

#include "tls_support.h"

static actnet_node *node;

/* Connects with `name` and returns what the client and the server saw (both CONNECTs). */
static void connect_and_see(tq *cq, tq *sq, actnet_pid client, uint16_t port, const actnet_certmanager *cm,
                            const char *name, tls_seen *client_seen, tls_seen *server_seen) {
  actnet_tcp_client_options co;
  tls_client_options(&co, port, cm, name);
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, client, &co, &conn));
  CHECK(tls_expect_connect(cq, client_seen).id == conn.id);
  actnet_alias sconn = tls_expect_connect(sq, server_seen);
  char subject[256];
  CHECK(inspect_value(node, conn, "tls peer subject", subject, sizeof subject));
  CHECK(strcmp(subject, client_seen->peer_subject.s) == 0);
  tls_roundtrip_str(node, cq, conn, "sni");
  tls_expect_bytes(sq, sconn, "sni", 3); /* what the server's process echoed */
  tls_close_pair(node, cq, conn, sq, sconn);
}

static void expect_refused(tq *cq, tq *sq, actnet_pid client, uint16_t port, const actnet_certmanager *cm,
                           const char *name, actnet_status want) {
  actnet_tcp_client_options co;
  tls_client_options(&co, port, cm, name);
  actnet_alias conn = {0xDEAD};
  CHECK_STATUS(actnet_tcp_connect(node, client, &co, &conn), want);
  CHECK(conn.id == 0xDEAD);
  CHECK(tq_quiet(cq, 50));
  CHECK(tq_quiet(sq, 50));
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  node = test_node_start();
  tq *sq = tls_tq_new(true), *cq = tls_tq_new(false);
  actnet_pid owner = tq_spawn(node, sq, NULL, 0);
  actnet_pid client = tq_spawn(node, cq, NULL, 0);

  actnet_certmanager *sm = tls_manager("server.pem", "server.key", NULL);
  tls_set_cert(sm, "alt.test", "alt.pem", "alt.key");
  actnet_tcp_server_options so;
  tls_server_options(&so, sm);
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &so, &port);
  actnet_certmanager *cm = tls_manager(NULL, NULL, "ca.pem");
  tls_seen c, s;

  connect_and_see(cq, sq, client, port, cm, NULL, &c, &s);
  CHECK_CONTAINS(c.peer_subject, "CN=localhost");
  CHECK(!strstr(c.peer_subject.s, "alt.test"));
  CHECK(!s.server_name.set);

  connect_and_see(cq, sq, client, port, cm, "localhost", &c, &s);
  CHECK_CONTAINS(c.peer_subject, "CN=localhost");
  CHECK(!strstr(c.peer_subject.s, "alt.test"));
  CHECK_TLS_STR(s.server_name, "localhost");

  connect_and_see(cq, sq, client, port, cm, "alt.test", &c, &s);
  CHECK_CONTAINS(c.peer_subject, "CN=alt.test");
  CHECK_TLS_STR(s.server_name, "alt.test");

  connect_and_see(cq, sq, client, port, cm, "ALT.Test", &c, &s);
  CHECK_CONTAINS(c.peer_subject, "CN=alt.test");

  check_inspect(node, server, "tls handshake failures", "0");
  expect_refused(cq, sq, client, port, cm, "nobody.test", ACTNET_STATUS_CERTIFICATE_INVALID);
  CHECK(tls_wait_count(node, server, "tls handshake failures", 1, WAIT_MS));

  /* Removing the alt.test certificate: its clients now get the default one. */
  CHECK_OK(actnet_certmanager_remove_cert(sm, "alt.test"));
  CHECK_STATUS(actnet_certmanager_remove_cert(sm, "alt.test"), ACTNET_STATUS_NOT_FOUND);
  expect_refused(cq, sq, client, port, cm, "alt.test", ACTNET_STATUS_CERTIFICATE_INVALID);
  CHECK(tls_wait_count(node, server, "tls handshake failures", 2, WAIT_MS));
  connect_and_see(cq, sq, client, port, cm, "localhost", &c, &s);
  CHECK_CONTAINS(c.peer_subject, "CN=localhost");

  /* ... and back, from files this time. */
  tls_set_cert_files(sm, "alt.test", "alt.pem", "alt.key");
  connect_and_see(cq, sq, client, port, cm, "alt.test", &c, &s);
  CHECK_CONTAINS(c.peer_subject, "CN=alt.test");

  /* Without a default: unnamed clients get no certificate at all. */
  CHECK_OK(actnet_certmanager_remove_cert(sm, NULL));
  CHECK_STATUS(actnet_certmanager_remove_cert(sm, NULL), ACTNET_STATUS_NOT_FOUND);
  expect_refused(cq, sq, client, port, cm, "localhost", ACTNET_STATUS_TLS_ERROR);
  CHECK(tls_wait_count(node, server, "tls handshake failures", 3, WAIT_MS));
  connect_and_see(cq, sq, client, port, cm, "alt.test", &c, &s);
  CHECK_CONTAINS(c.peer_subject, "CN=alt.test");
  check_inspect(node, server, "tls handshake failures", "3");

  CHECK_OK(actnet_certmanager_free(cm));
  CHECK_OK(actnet_certmanager_free(sm));
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(sq);
  tq_release(cq);
  printf("test_tls_sni: ok\n");
  return 0;
}
