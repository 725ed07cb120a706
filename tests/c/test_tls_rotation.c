/* Changing a live server's certificate manager: rotation of its certificate and replacement
 * of its CA bundle, while connections stay up.
 *
 * - Rotation: connection A is established with server.pem (subject without "rotated"); then
 *   set_cert_pem replaces the default certificate with rotated.pem (another key). A keeps
 *   working, byte-exact, both ways, after the rotation and after B; a new connection B sees
 *   the rotated certificate (O=actnet tests rotated); A's inspect still shows the old
 *   subject; no handshake failed.
 * - Rotation racing handshakes: a thread replaces the default certificate 200 times
 *   (server.pem / rotated.pem) while 20 clients connect: every handshake succeeds with one of
 *   the two subjects (never a failure or a torn certificate).
 * - The CA bundle of a server requiring client certificates, replaced at runtime: a client
 *   presenting client.pem (signed by the test CA) is accepted (the server's CONNECT shows
 *   CN=test-client); after set_ca_file(other-ca.pem) the same client is refused for new
 *   connections (no CONNECT reaches the server's process, the failure is counted) while the
 *   connection accepted before goes on working; after set_ca_pem(ca.pem) it is accepted
 *   again.
 */
#include <pthread.h>
#include <string.h>

#include "tls_support.h"

static actnet_node *node;

typedef struct flipper {
  actnet_certmanager *m;
  uint8_t *pem[2], *key[2];
  size_t pem_len[2], key_len[2];
  int flips;
  actnet_status first_error;
} flipper;

static void *flip(void *arg) {
  flipper *f = arg;
  for (int i = 0; i < f->flips; i++) {
    int k = i % 2;
    actnet_status s = actnet_certmanager_set_cert_pem(f->m, NULL, f->pem[k], f->pem_len[k], f->key[k], f->key_len[k]);
    if (s != ACTNET_STATUS_OK && f->first_error == ACTNET_STATUS_OK) f->first_error = s;
  }
  return NULL;
}

static actnet_alias connect_ok(tq *cq, actnet_pid client, uint16_t port, const actnet_certmanager *cm, tls_seen *seen) {
  actnet_tcp_client_options co;
  tls_client_options(&co, port, cm, "localhost");
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, client, &co, &conn));
  CHECK(tls_expect_connect(cq, seen).id == conn.id);
  return conn;
}

/* Both ways, byte-exact: the client writes, the server's process echoes. */
static void echo_both_ways(tq *cq, tq *sq, actnet_alias conn, actnet_alias sconn, const char *text) {
  tls_roundtrip_str(node, cq, conn, text);
  tls_expect_bytes(sq, sconn, text, strlen(text));
}

static void rotation(void) {
  tq *sq = tls_tq_new(true), *cq = tls_tq_new(false);
  actnet_pid owner = tq_spawn(node, sq, NULL, 0);
  actnet_pid client = tq_spawn(node, cq, NULL, 0);
  actnet_certmanager *sm = tls_manager("server.pem", "server.key", NULL);
  actnet_tcp_server_options so;
  tls_server_options(&so, sm);
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &so, &port);
  actnet_certmanager *cm = tls_manager(NULL, NULL, "ca.pem");

  tls_seen seen, sseen;
  actnet_alias a = connect_ok(cq, client, port, cm, &seen);
  actnet_alias sa = tls_expect_connect(sq, &sseen);
  CHECK_CONTAINS(seen.peer_subject, "CN=localhost");
  CHECK(!strstr(seen.peer_subject.s, "rotated"));
  char old_subject[256];
  snprintf(old_subject, sizeof old_subject, "%s", seen.peer_subject.s);
  echo_both_ways(cq, sq, a, sa, "before rotation");

  tls_set_cert(sm, NULL, "rotated.pem", "rotated.key");
  echo_both_ways(cq, sq, a, sa, "after rotation, on the old connection");

  actnet_alias b = connect_ok(cq, client, port, cm, &seen);
  actnet_alias sb = tls_expect_connect(sq, &sseen);
  CHECK_CONTAINS(seen.peer_subject, "O=actnet tests rotated");
  echo_both_ways(cq, sq, b, sb, "the new connection");
  /* A again, with a larger message (several TLS records) */
  size_t big_len = 100000;
  uint8_t *big = malloc(big_len);
  CHECK(big != NULL);
  net_pattern(big, big_len, 0, 3);
  tls_roundtrip(node, cq, a, big, big_len);
  tls_expect_bytes(sq, sa, big, big_len);
  free(big);
  check_inspect(node, a, "tls peer subject", old_subject);
  check_inspect(node, b, "tls peer subject", seen.peer_subject.s);
  check_inspect(node, server, "tls handshake failures", "0");

  /* Rotation racing handshakes. */
  flipper f;
  memset(&f, 0, sizeof f);
  f.m = sm;
  f.pem[0] = tls_read("server.pem", &f.pem_len[0]);
  f.key[0] = tls_read("server.key", &f.key_len[0]);
  f.pem[1] = tls_read("rotated.pem", &f.pem_len[1]);
  f.key[1] = tls_read("rotated.key", &f.key_len[1]);
  f.flips = 200;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, flip, &f) == 0);
  int rotated = 0;
  for (int i = 0; i < 20; i++) {
    actnet_alias c = connect_ok(cq, client, port, cm, &seen);
    actnet_alias sc = tls_expect_connect(sq, &sseen);
    CHECK_CONTAINS(seen.peer_subject, "CN=localhost");
    if (strstr(seen.peer_subject.s, "rotated")) rotated++;
    tls_close_pair(node, cq, c, sq, sc);
  }
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(f.first_error == ACTNET_STATUS_OK);
  fprintf(stderr, "racing rotation: %d of 20 handshakes saw the rotated certificate\n", rotated);
  for (int k = 0; k < 2; k++) {
    free(f.pem[k]);
    free(f.key[k]);
  }
  check_inspect(node, server, "tls handshake failures", "0");

  echo_both_ways(cq, sq, a, sa, "A is still up");
  tls_close_pair(node, cq, a, sq, sa);
  tls_close_pair(node, cq, b, sq, sb);

  CHECK_OK(actnet_meta_terminate(node, server));
  CHECK_OK(actnet_certmanager_free(cm));
  CHECK_OK(actnet_certmanager_free(sm));
  CHECK_OK(actnet_process_stop(node, owner));
  CHECK_OK(actnet_process_stop(node, client));
  tq_release(sq);
  tq_release(cq);
}

static void ca_replacement(void) {
  tq *sq = tls_tq_new(true), *cq = tls_tq_new(false);
  actnet_pid owner = tq_spawn(node, sq, NULL, 0);
  actnet_pid client = tq_spawn(node, cq, NULL, 0);
  actnet_certmanager *sm = tls_manager("server.pem", "server.key", "ca.pem");
  actnet_tcp_server_options so;
  tls_server_options(&so, sm);
  so.tls_client_auth = ACTNET_CLIENT_AUTH_REQUIRED;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &so, &port);
  actnet_certmanager *cm = tls_manager("client.pem", "client.key", "ca.pem");

  tls_seen seen, sseen;
  actnet_alias c1 = connect_ok(cq, client, port, cm, &seen);
  actnet_alias s1 = tls_expect_connect(sq, &sseen);
  CHECK_CONTAINS(sseen.peer_subject, "CN=test-client");
  check_inspect(node, s1, "tls peer subject", sseen.peer_subject.s);
  echo_both_ways(cq, sq, c1, s1, "accepted");

  CHECK_OK(actnet_certmanager_set_ca_file(sm, tls_path("other-ca.pem")));
  actnet_tcp_client_options co;
  tls_client_options(&co, port, cm, "localhost");
  actnet_alias c2 = {0};
  actnet_status st = actnet_tcp_connect(node, client, &co, &c2);
  const char *how = tls_expect_refused(node, cq, st, c2);
  CHECK(tq_quiet(sq, 300)); /* no CONNECT for the refused client */
  CHECK(tls_wait_count(node, server, "tls handshake failures", 1, WAIT_MS));
  fprintf(stderr, "refused after the CA change: %s\n", how);
  echo_both_ways(cq, sq, c1, s1, "the accepted connection goes on");

  size_t len = 0;
  uint8_t *ca = tls_read("ca.pem", &len);
  CHECK_OK(actnet_certmanager_set_ca_pem(sm, ca, len));
  free(ca);
  actnet_alias c3 = connect_ok(cq, client, port, cm, &seen);
  actnet_alias s3 = tls_expect_connect(sq, &sseen);
  CHECK_CONTAINS(sseen.peer_subject, "CN=test-client");
  echo_both_ways(cq, sq, c3, s3, "accepted again");
  check_inspect(node, server, "tls handshake failures", "1");

  CHECK_OK(actnet_meta_terminate(node, server)); /* ends its connections too */
  CHECK_OK(actnet_certmanager_free(cm));
  CHECK_OK(actnet_certmanager_free(sm));
  CHECK_OK(actnet_process_stop(node, owner));
  CHECK_OK(actnet_process_stop(node, client));
  tq_release(sq);
  tq_release(cq);
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  node = test_node_start();
  rotation();
  ca_replacement();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("test_tls_rotation: ok\n");
  return 0;
}
