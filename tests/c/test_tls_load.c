/* Bad certificates, keys and TLS options are refused when they are loaded or when the server
 * is spawned, with a status that says so, never later as a failed handshake.
 *
 * - set_cert_pem / set_cert_files: garbage instead of PEM, a truncated certificate, a
 *   certificate whose base64 was corrupted, a key that is not a key, certificate and key
 *   swapped, a key that does not match its certificate (server.pem with alt.key), an
 *   unsupported key type (Ed448), empty bytes, an empty file: BAD_CERTIFICATE; a missing
 *   file or a directory: IO_ERROR; an empty server name: INVALID_ARGUMENT; NULL pointers:
 *   NULL_ARGUMENT. remove_cert of a name never set: NOT_FOUND.
 * - set_ca_pem / set_ca_file: garbage, empty, a private key only: BAD_CERTIFICATE; a
 *   missing file: IO_ERROR; a bundle of two CAs: OK.
 * - A manager left with no certificate by all that: the server spawn is refused
 *   (INVALID_ARGUMENT), nothing is left listening on the port.
 * - A failed replacement keeps the certificate in place: after server.pem was loaded, the
 *   failed loads above change nothing: a server using the manager completes handshakes with
 *   CN=localhost, "tls handshake failures" stays 0.
 * - Server options: tls_client_auth REQUIRED or OPTIONAL with no CA bundle, an unknown
 *   tls_client_auth, tls_alpn_len > 0 with a NULL list, an empty ALPN name: the spawn fails
 *   (INVALID_ARGUMENT / NULL_ARGUMENT), the alias out-parameter is untouched, the port is
 *   not left bound, the owner has no meta-process.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls_support.h"

static actnet_node *node;

static const uint8_t garbage[] = "this is not PEM at all\n";

/* Every way to fail loading a certificate into m; m's content must not change. */
static void bad_certificates(actnet_certmanager *m, const char *empty_file) {
  size_t clen = 0, klen = 0, alen = 0, ulen = 0, ukeylen = 0;
  uint8_t *cert = tls_read("server.pem", &clen);
  uint8_t *key = tls_read("server.key", &klen);
  uint8_t *alt_key = tls_read("alt.key", &alen);
  uint8_t *ucert = tls_read("unsupported.pem", &ulen);
  uint8_t *ukey = tls_read("unsupported.key", &ukeylen);

  /* NULLs */
  CHECK_STATUS(actnet_certmanager_set_cert_pem(NULL, NULL, cert, clen, key, klen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, NULL, clen, key, klen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, NULL, klen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, NULL, tls_path("server.key")), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, tls_path("server.pem"), NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_files(NULL, NULL, tls_path("server.pem"), tls_path("server.key")),
               ACTNET_STATUS_NULL_ARGUMENT);
  /* An empty name: the default is NULL, not "". */
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, "", cert, clen, key, klen), ACTNET_STATUS_INVALID_ARGUMENT);

  /* Not PEM, or not the right PEM. */
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, garbage, sizeof garbage - 1, key, klen),
               ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, garbage, sizeof garbage - 1),
               ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, cert, clen), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, key, klen, cert, clen), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen / 2, key, klen), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, key, klen / 2), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, NULL, 0, key, klen), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, NULL, 0), ACTNET_STATUS_BAD_CERTIFICATE);
  /* Valid PEM around a corrupted certificate: flip base64 characters in its middle. */
  uint8_t *bent = malloc(clen);
  CHECK(bent != NULL);
  memcpy(bent, cert, clen);
  for (size_t i = clen / 3; i < clen / 3 + 24; i++)
    if (bent[i] != '\n' && bent[i] != '-') bent[i] = bent[i] == 'A' ? 'B' : 'A';
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, bent, clen, key, klen), ACTNET_STATUS_BAD_CERTIFICATE);
  free(bent);

  /* A key that does not match its certificate. */
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, alt_key, alen), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, "localhost", cert, clen, alt_key, alen),
               ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, tls_path("server.pem"), tls_path("alt.key")),
               ACTNET_STATUS_BAD_CERTIFICATE);
  /* An unsupported key type. */
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, ucert, ulen, ukey, ukeylen), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, tls_path("unsupported.pem"), tls_path("unsupported.key")),
               ACTNET_STATUS_BAD_CERTIFICATE);

  /* Files: empty, missing, a directory. */
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, empty_file, tls_path("server.key")),
               ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, tls_path("server.pem"), empty_file),
               ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, tls_path("no-such.pem"), tls_path("server.key")),
               ACTNET_STATUS_IO_ERROR);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, tls_path("server.pem"), tls_path("no-such.key")),
               ACTNET_STATUS_IO_ERROR);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, "alt.test", tls_path("no-such.pem"), tls_path("alt.key")),
               ACTNET_STATUS_IO_ERROR);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, tls_path("."), tls_path("server.key")),
               ACTNET_STATUS_IO_ERROR);

  /* CA bundles */
  size_t calen = 0, oclen = 0;
  uint8_t *ca = tls_read("ca.pem", &calen);
  uint8_t *other = tls_read("other-ca.pem", &oclen);
  CHECK_STATUS(actnet_certmanager_set_ca_pem(NULL, ca, calen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_ca_pem(m, NULL, calen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_ca_file(m, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_ca_pem(m, garbage, sizeof garbage - 1), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_ca_pem(m, NULL, 0), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_ca_pem(m, key, klen), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_ca_file(m, empty_file), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_ca_file(m, tls_path("ca.key")), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_ca_file(m, tls_path("no-such-ca.pem")), ACTNET_STATUS_IO_ERROR);

  /* Removing what is not there. */
  CHECK_STATUS(actnet_certmanager_remove_cert(NULL, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_remove_cert(m, "never.set"), ACTNET_STATUS_NOT_FOUND);

  free(ca);
  free(other);
  free(cert);
  free(key);
  free(alt_key);
  free(ucert);
  free(ukey);
}

/* Spawning a server with these options fails with `want`, leaving nothing behind. */
static void spawn_refused(actnet_pid owner, actnet_tcp_server_options *so, actnet_status want) {
  uint16_t port = net_free_port();
  so->port = port;
  actnet_alias alias = {0xDEAD};
  uint16_t port_out = 0xBEEF;
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, so, &alias, &port_out), want);
  CHECK(alias.id == 0xDEAD && port_out == 0xBEEF);
  if (!net_port_bindable(port)) {
    fprintf(stderr, "port %u left bound after a refused spawn\n", port);
    exit(1);
  }
  check_inspect(node, owner, "meta-processes", "0");
  so->port = 0;
}

static void server_options_refused(actnet_pid owner) {
  actnet_tcp_server_options so;
  actnet_certmanager *no_ca = tls_manager("server.pem", "server.key", NULL);
  tls_server_options(&so, no_ca);
  so.tls_client_auth = ACTNET_CLIENT_AUTH_REQUIRED;
  spawn_refused(owner, &so, ACTNET_STATUS_INVALID_ARGUMENT);
  so.tls_client_auth = ACTNET_CLIENT_AUTH_OPTIONAL;
  spawn_refused(owner, &so, ACTNET_STATUS_INVALID_ARGUMENT);
  so.tls_client_auth = 7;
  spawn_refused(owner, &so, ACTNET_STATUS_INVALID_ARGUMENT);
  so.tls_client_auth = ACTNET_CLIENT_AUTH_NONE;
  so.tls_alpn_len = 1;
  spawn_refused(owner, &so, ACTNET_STATUS_NULL_ARGUMENT);
  static const char *empty_alpn[] = {"echo/1", ""};
  so.tls_alpn = empty_alpn;
  so.tls_alpn_len = 2;
  spawn_refused(owner, &so, ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_OK(actnet_certmanager_free(no_ca));

  /* Once it has a CA bundle, REQUIRED is fine. */
  actnet_certmanager *with_ca = tls_manager("server.pem", "server.key", "ca.pem");
  tls_server_options(&so, with_ca);
  so.tls_client_auth = ACTNET_CLIENT_AUTH_REQUIRED;
  actnet_alias alias = server_spawn(node, owner, &so, NULL);
  CHECK_OK(actnet_meta_terminate(node, alias));
  CHECK(wait_inspect(node, owner, "meta-processes", "0", WAIT_MS));
  CHECK_OK(actnet_certmanager_free(with_ca));
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  node = test_node_start();
  tq *sq = tls_tq_new(true), *cq = tls_tq_new(false);
  actnet_pid owner = tq_spawn(node, sq, NULL, 0);
  actnet_pid client = tq_spawn(node, cq, NULL, 0);

  char empty_file[] = "/tmp/actnet-tls-empty-XXXXXX";
  int efd = mkstemp(empty_file);
  CHECK(efd >= 0);
  close(efd);

  CHECK_STATUS(actnet_certmanager_new(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);

  /* An empty manager after every failure: the server refuses it. */
  actnet_certmanager *m = NULL;
  CHECK_OK(actnet_certmanager_new(&m));
  bad_certificates(m, empty_file);
  CHECK_STATUS(actnet_certmanager_remove_cert(m, NULL), ACTNET_STATUS_NOT_FOUND);
  actnet_tcp_server_options so;
  tls_server_options(&so, m);
  spawn_refused(owner, &so, ACTNET_STATUS_INVALID_ARGUMENT);

  /* With a good certificate first, the failures replace nothing. */
  tls_set_cert(m, NULL, "server.pem", "server.key");
  bad_certificates(m, empty_file);
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &so, &port);
  actnet_certmanager *cm = tls_manager(NULL, NULL, "ca.pem");
  actnet_tcp_client_options co;
  tls_client_options(&co, port, cm, "localhost");
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, client, &co, &conn));
  tls_seen seen;
  CHECK(tls_expect_connect(cq, &seen).id == conn.id);
  CHECK_CONTAINS(seen.peer_subject, "CN=localhost");
  actnet_alias sconn = tls_expect_connect(sq, NULL);
  tls_roundtrip_str(node, cq, conn, "loaded");
  tls_expect_bytes(sq, sconn, "loaded", 6);
  /* ... also while the server runs */
  bad_certificates(m, empty_file);
  actnet_alias conn2 = {0};
  CHECK_OK(actnet_tcp_connect(node, client, &co, &conn2));
  CHECK(tls_expect_connect(cq, &seen).id == conn2.id);
  CHECK_CONTAINS(seen.peer_subject, "CN=localhost");
  CHECK(!strstr(seen.peer_subject.s, "rotated"));
  tls_expect_connect(sq, NULL);
  check_inspect(node, server, "tls handshake failures", "0");
  /* A CA bundle of two certificates loads. */
  size_t calen = 0, oclen = 0;
  uint8_t *ca = tls_read("ca.pem", &calen);
  uint8_t *other = tls_read("other-ca.pem", &oclen);
  uint8_t *both = malloc(calen + oclen);
  CHECK(both != NULL);
  memcpy(both, other, oclen);
  memcpy(both + oclen, ca, calen);
  CHECK_OK(actnet_certmanager_set_ca_pem(cm, both, calen + oclen));
  actnet_alias conn3 = {0};
  CHECK_OK(actnet_tcp_connect(node, client, &co, &conn3));
  CHECK(tls_expect_connect(cq, NULL).id == conn3.id);
  tls_expect_connect(sq, NULL);
  free(both);
  free(ca);
  free(other);
  CHECK_OK(actnet_process_stop(node, owner)); /* the server and its connections end */
  CHECK(wait_inspect(node, client, "meta-processes", "0", WAIT_MS));
  CHECK_OK(actnet_certmanager_free(cm));
  CHECK_OK(actnet_certmanager_free(m));
  tq_release(sq);
  sq = tls_tq_new(true);
  owner = tq_spawn(node, sq, NULL, 0);

  server_options_refused(owner);

  unlink(empty_file);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(sq);
  tq_release(cq);
  printf("test_tls_load: ok\n");
  return 0;
}
