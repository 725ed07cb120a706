/* Helpers for the TLS C tests (compiled into each test_tls_* program by tests/tls.cmake,
 * together with c/net.c).
 *
 * - Where the test certificates are: the directory in $ACTNET_TLS_CERTS (set by the ctest
 *   fixture in tests/tls.cmake, which runs tests/tls/make_certs.sh), or the program's first
 *   argument when run by hand.
 * - Certificate managers built from those files.
 * - A tq (see net.h) whose CONNECT events also carry the message's TLS fields, and that can
 *   echo DATA back (pool buffers are sent back as they are, with actnet_tcp_write_buf).
 * - Client and server options for TLS over 127.0.0.1, round trips, and the check that a
 *   refused TLS client never got a usable connection.
 * - A raw peer thread (accepts one connection, optionally answers bytes, waits for EOF), for
 *   a client's handshake against something that does not speak TLS. */
#ifndef ACTNET_TEST_TLS_SUPPORT_H
#define ACTNET_TEST_TLS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

/* ---------------------------------------------------------------- certificates */

/* Finds the certificate directory (fails the test if there is none). Call first in main. */
void tls_init(int argc, char **argv);
/* The full path of a file of the certificate directory ("server.pem"). Returns one of 16
 * rotating static buffers: valid for the next 15 calls; main thread only. */
const char *tls_path(const char *name);
/* The content of a file of the certificate directory (malloc'd, NUL-terminated; *len gets
 * its length without the NUL). Fails the test if it cannot be read. */
uint8_t *tls_read(const char *name, size_t *len);
/* Sets the certificate for `sni` (NULL: the default) from two files of the certificate
 * directory, through actnet_certmanager_set_cert_pem (bytes read by the test). */
void tls_set_cert(actnet_certmanager *m, const char *sni, const char *cert, const char *key);
/* As tls_set_cert, through actnet_certmanager_set_cert_files. */
void tls_set_cert_files(actnet_certmanager *m, const char *sni, const char *cert, const char *key);
/* A new manager with `cert`/`key` as its default certificate (both NULL: none) and `ca` as
 * its CA bundle (NULL: none). */
actnet_certmanager *tls_manager(const char *cert, const char *key, const char *ca);

/* ---------------------------------------------------------------- TLS fields of CONNECT */

typedef struct tls_str {
  bool set; /* the field was not NULL */
  char s[256];
} tls_str;

/* The TLS fields of a CONNECT as the process saw them. */
typedef struct tls_seen {
  tls_str version, cipher, alpn, server_name, peer_subject;
} tls_seen;

/* A tq recording TLS fields of CONNECT (see tls_of); with `echo`, every DATA goes back to its
 * connection (the pool buffer itself when DATA has one; the write status is in ev->status). */
tq *tls_tq_new(bool echo);
/* The TLS fields of a CONNECT event of a tls_tq (fails the test for other events). */
const tls_seen *tls_of(const tev *e);
/* Expects CONNECT next (within WAIT_MS), copies its TLS fields into *seen if not NULL, and
 * returns the connection alias. */
actnet_alias tls_expect_connect(tq *q, tls_seen *seen);
/* Fails the test unless s is set and contains `part`. */
#define CHECK_CONTAINS(str, part) tls_check_contains_at(&(str), (part), #str, __FILE__, __LINE__)
void tls_check_contains_at(const tls_str *s, const char *part, const char *what, const char *file, int line);
/* Fails the test unless s is set and equals `want`. */
#define CHECK_TLS_STR(str, want) tls_check_equals_at(&(str), (want), #str, __FILE__, __LINE__)
void tls_check_equals_at(const tls_str *s, const char *want, const char *what, const char *file, int line);

/* ---------------------------------------------------------------- connections */

/* Server options: 127.0.0.1, port 0, TLS with `m` (may be NULL for plain TCP). */
void tls_server_options(actnet_tcp_server_options *o, const actnet_certmanager *m);
/* Client options: 127.0.0.1:port, TLS on, `m` (may be NULL: system roots), SNI name (NULL:
 * the host, i.e. no SNI for an IP address). */
void tls_client_options(actnet_tcp_client_options *c, uint16_t port, const actnet_certmanager *m,
                        const char *server_name);
/* Expects exactly these bytes as the next DATA events of conn on q (possibly split). */
void tls_expect_bytes(tq *q, actnet_alias conn, const void *data, size_t len);
/* Writes `len` bytes to conn and expects exactly them back as DATA on q (raw mode: the
 * DATA may be split), with nothing else in between. */
void tls_roundtrip(actnet_node *node, tq *q, actnet_alias conn, const void *data, size_t len);
/* As tls_roundtrip with a string. */
void tls_roundtrip_str(actnet_node *node, tq *q, actnet_alias conn, const char *text);

/* Closes client connection `conn` (actnet_meta_terminate) and expects DISCONNECT CLOSED for
 * it on cq and DISCONNECT PEER_CLOSED for the server's end `sconn` on sq (skipping nothing:
 * they must be the next events of each queue). Quicker than expect_disconnect_once, which
 * also waits to see that nothing follows. */
void tls_close_pair(actnet_node *node, tq *cq, actnet_alias conn, tq *sq, actnet_alias sconn);

/* A TLS client refused by the server (mutual TLS): either actnet_tcp_connect failed with
 * CERTIFICATE_INVALID or TLS_ERROR (then `q` gets nothing), or (TLS 1.3: the client finishes
 * its handshake before the server has checked its certificate) it succeeded and q gets
 * CONNECT then one DISCONNECT soon after (TLS_ERROR, RESET or PEER_CLOSED), with no DATA, and
 * the alias is gone afterwards. `status`/`conn` are what actnet_tcp_connect returned. Returns
 * a description of what happened. */
const char *tls_expect_refused(actnet_node *node, tq *q, actnet_status status, actnet_alias conn);

/* CHECKs that inspect of `id` shows no value for `key`: the key is absent or empty (a TLS
 * detail that does not apply, e.g. "tls alpn" when none was negotiated). */
void tls_check_inspect_none(actnet_node *node, actnet_alias id, const char *key);

/* Polls the integer inspect key of `id` until it is at least `want`; false on timeout. */
bool tls_wait_count(actnet_node *node, actnet_alias id, const char *key, uint64_t want, int timeout_ms);

/* ---------------------------------------------------------------- raw peers */

/* A thread that accepts one connection on a listener of its own, writes `answer` (if not
 * NULL) and then reads until EOF, reset or its deadline. */
typedef struct raw_peer raw_peer;
raw_peer *raw_peer_start(const char *answer, int deadline_ms);
uint16_t raw_peer_port(raw_peer *p);
/* Joins the thread; returns how its reading ended and frees it. *got_bytes (may be NULL)
 * receives how many bytes it read (the client's hello and whatever followed). */
net_end raw_peer_finish(raw_peer *p, size_t *got_bytes);

#endif
