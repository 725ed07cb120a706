/* Echo over TLS with header framing and pool buffers, ALPN, and what CONNECT and inspect show.
 *
 * - A TLS server (default certificate server.pem, ALPN "echo/1", 4-byte big-endian length
 *   header framing, read buffers of 1 KiB from a pool) whose process echoes every DATA by
 *   handing its pool buffer back (actnet_tcp_write_buf); a TLS client made with
 *   actnet_tcp_connect with the same framing, verifying the server against ca.pem for
 *   "localhost", offering ALPN "x-unknown", "echo/1". The certificate managers are freed
 *   right after the spawn and the connect (the server and connection keep their own).
 * - 400 frames of 0..1500 bytes and one of 256 KiB (larger than the read buffer and than a
 *   TLS record), written in pieces that cut frames (and headers) anywhere: the server gets
 *   each frame as one DATA in a pool buffer, byte-exact and in order; the client gets the
 *   same frames back, byte-exact and in order.
 * - CONNECT on both sides: tls_version "TLSv1.3", the same non-empty tls_cipher, tls_alpn
 *   "echo/1"; the server sees tls_server_name "localhost" and no peer subject (no client
 *   certificate); the client sees the server's subject (CN=localhost) and no server name.
 * - inspect: the connections show "tls version", "tls cipher", "tls alpn", "tls server
 *   name" (server side), "tls peer subject" (client side; none on the server side without a
 *   client certificate); the server shows "tls" = "on" and "tls handshake failures" = "0";
 *   a plain server shows "tls" = "off" and no TLS keys, and
 *   its connections no TLS keys and no TLS fields in CONNECT.
 * - A client offering no ALPN: CONNECT's tls_alpn is NULL on both sides, inspect "tls alpn"
 *   is empty or absent.
 * - Closing: the client's graceful close reaches the server as DISCONNECT (peer closed), and
 *   every pool buffer is back in the pool (outstanding 0).
 */
#include <string.h>
#include <unistd.h>

#include "tls_support.h"

static actnet_node *node;

#define READ_BUF 1024
#define SMALL_FRAMES 400
#define BIG_FRAME (256 * 1024)

static const char *server_alpn[] = {"echo/1"};
static const char *client_alpn[] = {"x-unknown", "echo/1"};

static actnet_chunk_options header_framing(void) {
  actnet_chunk_options c;
  CHECK_OK(actnet_chunk_options_init(&c));
  c.enable = true;
  c.header_size = 4;
  c.header_length_position = 0;
  c.header_length_size = 4;
  c.header_length_includes_header = false;
  c.max_length = 1 << 20;
  return c;
}

/* The stream of frames: frame i has a payload of payload_len(i) pattern bytes. */
typedef struct frames {
  size_t count;
  size_t *offset; /* of each frame in stream */
  size_t *len;    /* of each frame, header included */
  uint8_t *stream;
  size_t total;
} frames;

static size_t payload_len(size_t i) {
  if (i == SMALL_FRAMES / 2) return BIG_FRAME;
  return (i * 37 + (i % 7) * 211) % 1501; /* 0..1500, some empty */
}

static frames make_frames(void) {
  frames f;
  f.count = SMALL_FRAMES + 1;
  f.offset = calloc(f.count, sizeof *f.offset);
  f.len = calloc(f.count, sizeof *f.len);
  CHECK(f.offset && f.len);
  f.total = 0;
  for (size_t i = 0; i < f.count; i++) f.total += 4 + payload_len(i);
  f.stream = malloc(f.total);
  CHECK(f.stream != NULL);
  size_t at = 0;
  for (size_t i = 0; i < f.count; i++) {
    size_t n = payload_len(i);
    f.offset[i] = at;
    f.len[i] = 4 + n;
    f.stream[at] = (uint8_t)(n >> 24);
    f.stream[at + 1] = (uint8_t)(n >> 16);
    f.stream[at + 2] = (uint8_t)(n >> 8);
    f.stream[at + 3] = (uint8_t)n;
    net_pattern(f.stream + at + 4, n, at, 7);
    at += 4 + n;
  }
  CHECK(at == f.total);
  return f;
}

static void free_frames(frames *f) {
  free(f->offset);
  free(f->len);
  free(f->stream);
}

/* Expects the frames, in order, as DATA of conn on q; `pooled`: each in a pool buffer. */
static void expect_frames(tq *q, actnet_alias conn, const frames *f, bool pooled) {
  for (size_t i = 0; i < f->count; i++) {
    tev e;
    tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
    if (e.len != f->len[i] || memcmp(e.data, f->stream + f->offset[i], e.len) != 0) {
      fprintf(stderr, "frame %zu: got %zu bytes, wanted %zu (%s)\n", i, e.len, f->len[i],
              e.len == f->len[i] ? "content differs" : "length differs");
      exit(1);
    }
    if (pooled) {
      CHECK(e.had_buf && e.data_in_buf);
      CHECK(e.status == ACTNET_STATUS_OK); /* the echo (write_buf) was accepted */
    } else {
      CHECK(!e.had_buf);
    }
    tev_clear(&e);
  }
}

static void check_tls_connect_pair(const tls_seen *server, const tls_seen *client, const char *alpn) {
  CHECK_TLS_STR(server->version, "TLSv1.3");
  CHECK_TLS_STR(client->version, "TLSv1.3");
  CHECK(server->cipher.set && server->cipher.s[0] != 0);
  CHECK_TLS_STR(client->cipher, server->cipher.s);
  if (alpn) {
    CHECK_TLS_STR(server->alpn, alpn);
    CHECK_TLS_STR(client->alpn, alpn);
  } else {
    CHECK(!server->alpn.set && !client->alpn.set);
  }
  CHECK_TLS_STR(server->server_name, "localhost");
  CHECK(!server->peer_subject.set); /* no client certificate */
  CHECK_CONTAINS(client->peer_subject, "CN=localhost");
  CHECK_TLS_STR(client->server_name, "localhost"); /* the name the client sent and verified */
}

static void echo_with_framing_and_pool(void) {
  actnet_pool *pool = NULL;
  CHECK_OK(actnet_pool_new(READ_BUF, 64, &pool));
  actnet_certmanager *sm = tls_manager("server.pem", "server.key", NULL);

  tq *sq = tls_tq_new(true), *cq = tls_tq_new(false);
  actnet_pid server_owner = tq_spawn(node, sq, NULL, ACTNET_MAILBOX_UNBOUNDED);
  actnet_pid client_owner = tq_spawn(node, cq, NULL, ACTNET_MAILBOX_UNBOUNDED);

  actnet_tcp_server_options so;
  tls_server_options(&so, sm);
  test_conn_options tc_so;
  so.connection = test_conn_options_init(&tc_so);
  tc_so.conn.read_buffer_size = READ_BUF;
  tc_so.conn.read_buffer_pool = pool;
  tc_so.chunk = header_framing();
  so.tls_alpn = server_alpn;
  so.tls_alpn_len = 1;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, server_owner, &so, &port);
  CHECK_OK(actnet_certmanager_free(sm)); /* the server keeps its own reference */
  check_inspect(node, server, "tls", "on");
  check_inspect(node, server, "tls handshake failures", "0");

  actnet_certmanager *cm = tls_manager(NULL, NULL, "ca.pem");
  actnet_tcp_client_options co;
  tls_client_options(&co, port, cm, "localhost");
  test_conn_options tc_co;
  co.connection = test_conn_options_init(&tc_co);
  tc_co.chunk = header_framing();
  co.tls_alpn = client_alpn;
  co.tls_alpn_len = 2;
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, client_owner, &co, &conn));
  CHECK_OK(actnet_certmanager_free(cm));

  tls_seen client_seen, server_seen;
  CHECK(tls_expect_connect(cq, &client_seen).id == conn.id);
  actnet_alias sconn = tls_expect_connect(sq, &server_seen);
  check_tls_connect_pair(&server_seen, &client_seen, "echo/1");

  /* inspect, both ends */
  check_inspect(node, sconn, "tls version", "TLSv1.3");
  check_inspect(node, sconn, "tls cipher", server_seen.cipher.s);
  check_inspect(node, sconn, "tls alpn", "echo/1");
  check_inspect(node, sconn, "tls server name", "localhost");
  tls_check_inspect_none(node, sconn, "tls peer subject");
  check_inspect(node, conn, "tls version", "TLSv1.3");
  check_inspect(node, conn, "tls cipher", client_seen.cipher.s);
  check_inspect(node, conn, "tls alpn", "echo/1");
  check_inspect(node, conn, "tls peer subject", client_seen.peer_subject.s);

  /* The frames, written in pieces that cut them anywhere. */
  frames f = make_frames();
  static const size_t pieces[] = {1, 2, 3, 5, 4096, 7, 65536, 333, 17000, 1};
  size_t at = 0, k = 0;
  while (at < f.total) {
    size_t n = pieces[k++ % (sizeof pieces / sizeof pieces[0])];
    if (n > f.total - at) n = f.total - at;
    CHECK_OK(actnet_tcp_write(node, conn, f.stream + at, n));
    at += n;
  }
  expect_frames(sq, sconn, &f, true);
  expect_frames(cq, conn, &f, false);
  char total[32];
  snprintf(total, sizeof total, "%zu", f.total);
  CHECK(wait_inspect(node, sconn, "bytes in", total, WAIT_MS));
  CHECK(wait_inspect(node, conn, "bytes in", total, WAIT_MS));
  free_frames(&f);

  /* A second client offering no ALPN. */
  cm = tls_manager(NULL, NULL, "ca.pem");
  tls_client_options(&co, port, cm, "localhost");
  actnet_alias conn2 = {0};
  CHECK_OK(actnet_tcp_connect(node, client_owner, &co, &conn2));
  CHECK_OK(actnet_certmanager_free(cm));
  CHECK(tls_expect_connect(cq, &client_seen).id == conn2.id);
  actnet_alias sconn2 = tls_expect_connect(sq, &server_seen);
  check_tls_connect_pair(&server_seen, &client_seen, NULL);
  tls_check_inspect_none(node, sconn2, "tls alpn");
  tls_check_inspect_none(node, conn2, "tls alpn");

  /* Graceful closes: DISCONNECT (closed) here, (peer closed) there. */
  CHECK_OK(actnet_meta_terminate(node, conn));
  expect_disconnect_once(node, cq, NULL, conn, ACTNET_DISCONNECT_REASON_CLOSED, 0);
  expect_disconnect_once(node, sq, NULL, sconn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  tls_close_pair(node, cq, conn2, sq, sconn2);
  check_inspect(node, server, "tls handshake failures", "0");

  /* Every pool buffer came back. */
  actnet_pool_stats st;
  int64_t end = now_ms() + WAIT_MS;
  for (;;) {
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_OK(actnet_pool_stats_get(pool, &st));
    if (st.outstanding == 0 || now_ms() > end) break;
    sleep_ms(1);
  }
  if (st.outstanding != 0) {
    fprintf(stderr, "%llu pool buffers still outstanding\n", (unsigned long long)st.outstanding);
    exit(1);
  }
  CHECK(st.allocations > 0);

  CHECK_OK(actnet_meta_terminate(node, server));
  CHECK_OK(actnet_process_stop(node, server_owner));
  CHECK_OK(actnet_process_stop(node, client_owner));
  CHECK_OK(actnet_pool_free(pool));
  tq_release(sq);
  tq_release(cq);
}

/* A plain server and connection show no TLS details. */
static void plain_has_no_tls_details(void) {
  tq *sq = tls_tq_new(true);
  actnet_pid owner = tq_spawn(node, sq, NULL, 0);
  actnet_tcp_server_options so;
  tls_server_options(&so, NULL);
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &so, &port);
  check_inspect(node, server, "tls", "off");
  char v[64];
  CHECK(!inspect_value(node, server, "tls handshake failures", v, sizeof v));
  int fd = net_connect(port);
  tls_seen seen;
  actnet_alias sconn = tls_expect_connect(sq, &seen);
  CHECK(!seen.version.set && !seen.cipher.set && !seen.alpn.set && !seen.server_name.set &&
        !seen.peer_subject.set);
  CHECK(!inspect_value(node, sconn, "tls version", v, sizeof v));
  CHECK(!inspect_value(node, sconn, "tls peer subject", v, sizeof v));
  net_write_all(fd, "plain", 5);
  char buf[5];
  CHECK(net_read_exact(fd, buf, 5, WAIT_MS) && memcmp(buf, "plain", 5) == 0);
  tls_expect_bytes(sq, sconn, "plain", 5);
  close(fd);
  expect_disconnect_once(node, sq, NULL, sconn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_process_stop(node, owner));
  tq_release(sq);
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  node = test_node_start();
  echo_with_framing_and_pool();
  plain_has_no_tls_details();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("test_tls_echo: ok\n");
  return 0;
}
