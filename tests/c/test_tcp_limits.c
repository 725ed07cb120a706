/* Bad input from the network and bad options.
 *
 * - max_length: a frame of exactly max_length is delivered; a header declaring one byte more
 *   (sent alone, without payload) ends the connection promptly with DISCONNECT reason
 *   MAX_LENGTH_EXCEEDED, and so does a header of 0xFFFFFFFF; the peer sees EOF; a monitor
 *   sees DOWN (DISCONNECTED, MAX_LENGTH_EXCEEDED); exactly one DISCONNECT.
 * - A length smaller than the header (length includes header) gives INVALID_FRAME_LENGTH.
 * - EOF in the middle of a frame (payload, header, fixed frame) gives FRAME_TRUNCATED after
 *   the complete frames before it; EOF exactly between frames gives PEER_CLOSED.
 * - Invalid options (negative sizes, length size 3 or 0, length field past the header, fixed
 *   length above max length, max length below the header, keepalive bytes with period 0, an
 *   unknown mailbox policy, read buffer or write queue limit 0, wrong struct_size) are
 *   refused by actnet_tcp_server_spawn (INVALID_ARGUMENT / STRUCT_SIZE) with the
 *   out-parameters untouched, nothing spawned, and the port still free; the same options are
 *   refused by actnet_tcp_connect before any connection is made. A port in use gives
 *   ADDRESS_IN_USE.
 */
#include <string.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;
static tq *q, *w;
static actnet_pid owner, watcher;

static actnet_chunk_options header_chunk(int size, int pos, int lsize, bool incl, int max) {
  actnet_chunk_options c;
  CHECK_OK(actnet_chunk_options_init(&c));
  c.enable = true;
  c.header_size = size;
  c.header_length_position = pos;
  c.header_length_size = lsize;
  c.header_length_includes_header = incl;
  c.max_length = max;
  return c;
}

static actnet_alias start_server(actnet_chunk_options chunk, uint16_t *port) {
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.chunk = chunk;
  return server_spawn(node, owner, &o, port);
}

static actnet_alias connect_and_watch(uint16_t port, int *fd) {
  *fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  tq_monitor(node, watcher, conn);
  return conn;
}

static void expect_data_len(actnet_alias conn, size_t len, const uint8_t *bytes) {
  tev e;
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  CHECK(e.len == len);
  CHECK(memcmp(e.data, bytes, len) == 0);
  tev_clear(&e);
}

static void expect_peer_eof(int fd) {
  char buf[64];
  size_t got = 0;
  net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got);
  if (end != NET_EOF || got != 0) {
    fprintf(stderr, "the peer read %zu bytes then %s, wanted EOF\n", got, net_end_str(end));
    exit(1);
  }
}

static void max_length(void) {
  uint16_t port = 0;
  actnet_alias server = start_server(header_chunk(4, 0, 4, false, 1024), &port);
  int fd;
  actnet_alias conn = connect_and_watch(port, &fd);
  /* exactly max_length (header included): delivered */
  static uint8_t frame[1024];
  frame[0] = 0, frame[1] = 0, frame[2] = 0x03, frame[3] = 0xFC; /* 1020 */
  net_pattern(frame + 4, 1020, 0, 1);
  net_write_all(fd, frame, sizeof frame);
  expect_data_len(conn, sizeof frame, frame);
  /* one byte more, header only: refused before any payload arrives */
  const uint8_t over[4] = {0, 0, 0x03, 0xFD};
  int64_t t0 = now_ms();
  net_write_all(fd, over, 4);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_MAX_LENGTH_EXCEEDED, ACTNET_EXIT_DISCONNECTED);
  CHECK(now_ms() - t0 < 1000 + 200 /* the quiet period of expect_disconnect_once */);
  expect_peer_eof(fd);
  close(fd);

  /* 0xFFFFFFFF */
  conn = connect_and_watch(port, &fd);
  const uint8_t huge[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  t0 = now_ms();
  net_write_all(fd, huge, 4);
  tev e;
  tq_expect_for(q, ACTNET_MSG_DISCONNECT, conn, &e);
  CHECK(e.reason == ACTNET_DISCONNECT_REASON_MAX_LENGTH_EXCEEDED);
  CHECK(now_ms() - t0 < 1000);
  tev_clear(&e);
  CHECK(tq_quiet(q, 100));
  tq_expect_for(w, ACTNET_MSG_DOWN, conn, &e);
  CHECK(e.reason == ACTNET_EXIT_DISCONNECTED && e.reason_code == ACTNET_DISCONNECT_REASON_MAX_LENGTH_EXCEEDED);
  tev_clear(&e);
  expect_peer_eof(fd);
  close(fd);
  /* the server and other connections are unaffected */
  check_inspect(node, server, "kind", "tcp server");
  CHECK_OK(actnet_meta_terminate(node, server));
}

static void invalid_frame_length(void) {
  uint16_t port = 0;
  actnet_alias server = start_server(header_chunk(4, 0, 4, true, 0), &port);
  int fd;
  actnet_alias conn = connect_and_watch(port, &fd);
  const uint8_t ok[6] = {0, 0, 0, 6, 'h', 'i'}; /* 6 = header + 2 */
  net_write_all(fd, ok, 6);
  expect_data_len(conn, 6, ok);
  const uint8_t empty[4] = {0, 0, 0, 4}; /* just the header: an empty frame */
  net_write_all(fd, empty, 4);
  expect_data_len(conn, 4, empty);
  const uint8_t bad[4] = {0, 0, 0, 3}; /* shorter than its own header */
  net_write_all(fd, bad, 4);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_INVALID_FRAME_LENGTH, ACTNET_EXIT_DISCONNECTED);
  close(fd);
  CHECK_OK(actnet_meta_terminate(node, server));

  /* 2-byte length at offset 2, declaring 0 */
  server = start_server(header_chunk(4, 2, 2, true, 0), &port);
  conn = connect_and_watch(port, &fd);
  const uint8_t zero[4] = {7, 7, 0, 0};
  net_write_all(fd, zero, 4);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_INVALID_FRAME_LENGTH, ACTNET_EXIT_DISCONNECTED);
  close(fd);
  CHECK_OK(actnet_meta_terminate(node, server));
}

static void truncated(void) {
  uint16_t port = 0;
  actnet_alias server = start_server(header_chunk(4, 0, 4, false, 0), &port);
  int fd;
  /* in the payload */
  actnet_alias conn = connect_and_watch(port, &fd);
  const uint8_t whole[7] = {0, 0, 0, 3, 'a', 'b', 'c'};
  const uint8_t part[8] = {0, 0, 0, 10, '1', '2', '3', '4'};
  net_write_all(fd, whole, 7);
  net_write_all(fd, part, 8);
  net_shutdown_write(fd);
  expect_data_len(conn, 7, whole);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_FRAME_TRUNCATED, ACTNET_EXIT_DISCONNECTED);
  close(fd);
  /* in the header */
  conn = connect_and_watch(port, &fd);
  net_write_all(fd, whole, 7);
  net_write_all(fd, part, 2);
  net_shutdown_write(fd);
  expect_data_len(conn, 7, whole);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_FRAME_TRUNCATED, ACTNET_EXIT_DISCONNECTED);
  close(fd);
  /* between frames: a clean close */
  conn = connect_and_watch(port, &fd);
  net_write_all(fd, whole, 7);
  net_shutdown_write(fd);
  expect_data_len(conn, 7, whole);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, ACTNET_EXIT_NORMAL);
  close(fd);
  CHECK_OK(actnet_meta_terminate(node, server));

  /* fixed framing: 12 bytes of 8-byte frames */
  actnet_chunk_options fixed;
  CHECK_OK(actnet_chunk_options_init(&fixed));
  fixed.enable = true;
  fixed.fixed_length = 8;
  server = start_server(fixed, &port);
  conn = connect_and_watch(port, &fd);
  net_write_all(fd, "abcdefghijkl", 12);
  net_shutdown_write(fd);
  expect_data_len(conn, 8, (const uint8_t *)"abcdefgh");
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_FRAME_TRUNCATED, ACTNET_EXIT_DISCONNECTED);
  close(fd);
  CHECK_OK(actnet_meta_terminate(node, server));
}

typedef struct bad_case {
  const char *what;
  void (*apply)(test_conn_options *t);
  actnet_status want;
} bad_case;

static void hdr(test_conn_options *t) { t->chunk = header_chunk(4, 0, 4, false, 0); }
static void neg_fixed(test_conn_options *t) { hdr(t), t->chunk.fixed_length = -1; }
static void neg_header(test_conn_options *t) { hdr(t), t->chunk.header_size = -4; }
static void neg_position(test_conn_options *t) { hdr(t), t->chunk.header_length_position = -1; }
static void neg_size(test_conn_options *t) { hdr(t), t->chunk.header_length_size = -4; }
static void neg_max(test_conn_options *t) { hdr(t), t->chunk.max_length = -1; }
static void size3(test_conn_options *t) { hdr(t), t->chunk.header_length_size = 3; }
static void size0(test_conn_options *t) { hdr(t), t->chunk.header_length_size = 0; }
static void header0(test_conn_options *t) { hdr(t), t->chunk.header_size = 0; }
static void past_header(test_conn_options *t) { hdr(t), t->chunk.header_length_position = 2; }
static void at_end(test_conn_options *t) {
  hdr(t), t->chunk.header_length_position = 4, t->chunk.header_length_size = 1;
}
static void fixed_over_max(test_conn_options *t) {
  CHECK_OK(actnet_chunk_options_init(&t->chunk));
  t->chunk.enable = true;
  t->chunk.fixed_length = 100;
  t->chunk.max_length = 10;
}
static void max_below_header(test_conn_options *t) { hdr(t), t->chunk.max_length = 2; }
static const uint8_t ka[] = {0x4B, 0x41};
static void keepalive_period0(test_conn_options *t) {
  t->conn.keepalive_bytes = ka;
  t->conn.keepalive_bytes_len = sizeof ka;
  t->conn.keepalive_period_ms = 0;
}
static void bad_policy(test_conn_options *t) { t->conn.mailbox_policy = 9; }
static void read_buffer0(test_conn_options *t) { t->conn.read_buffer_size = 0; }
static void queue_limit0(test_conn_options *t) { t->conn.write_queue_limit = 0; }
static void keepalive_null_bytes(test_conn_options *t) {
  t->conn.keepalive_bytes = NULL;
  t->conn.keepalive_bytes_len = 2;
  t->conn.keepalive_period_ms = 100;
}

static const bad_case bad_cases[] = {
    {"negative fixed length", neg_fixed, ACTNET_STATUS_INVALID_ARGUMENT},
    {"negative header size", neg_header, ACTNET_STATUS_INVALID_ARGUMENT},
    {"negative length position", neg_position, ACTNET_STATUS_INVALID_ARGUMENT},
    {"negative length size", neg_size, ACTNET_STATUS_INVALID_ARGUMENT},
    {"negative max length", neg_max, ACTNET_STATUS_INVALID_ARGUMENT},
    {"length size 3", size3, ACTNET_STATUS_INVALID_ARGUMENT},
    {"length size 0", size0, ACTNET_STATUS_INVALID_ARGUMENT},
    {"header size 0", header0, ACTNET_STATUS_INVALID_ARGUMENT},
    {"length field past the header", past_header, ACTNET_STATUS_INVALID_ARGUMENT},
    {"length position at the end of the header", at_end, ACTNET_STATUS_INVALID_ARGUMENT},
    {"fixed length above max length", fixed_over_max, ACTNET_STATUS_INVALID_ARGUMENT},
    {"max length below the header size", max_below_header, ACTNET_STATUS_INVALID_ARGUMENT},
    {"keepalive bytes with period 0", keepalive_period0, ACTNET_STATUS_INVALID_ARGUMENT},
    {"unknown mailbox policy", bad_policy, ACTNET_STATUS_INVALID_ARGUMENT},
    {"read buffer size 0", read_buffer0, ACTNET_STATUS_INVALID_ARGUMENT},
    {"write queue limit 0", queue_limit0, ACTNET_STATUS_INVALID_ARGUMENT},
    {"keepalive bytes NULL with a length", keepalive_null_bytes, ACTNET_STATUS_NULL_ARGUMENT},
};

static void invalid_options(void) {
  CHECK(wait_inspect(node, owner, "meta-processes", "0", WAIT_MS)); /* earlier servers are gone */
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case *b = &bad_cases[i];
    uint16_t port = net_free_port();
    actnet_tcp_server_options o;
    server_options(&o);
    o.port = port;
    test_conn_options tc;
    o.connection = test_conn_options_init(&tc);
    b->apply(&tc);
    actnet_alias alias = {0xDEAD};
    uint16_t port_out = 0xBEEF;
    actnet_status st = actnet_tcp_server_spawn(node, owner, &o, &alias, &port_out);
    if (st != b->want) {
      fprintf(stderr, "server with %s: %s, wanted %s\n", b->what, actnet_status_str(st), actnet_status_str(b->want));
      exit(1);
    }
    CHECK(alias.id == 0xDEAD && port_out == 0xBEEF);
    CHECK(net_port_bindable(port));
    check_inspect(node, owner, "meta-processes", "0");

    /* the same connection options on a client: refused before connecting */
    uint16_t lport = 0;
    int lfd = net_listen(4, &lport);
    actnet_tcp_client_options c;
    CHECK_OK(actnet_tcp_client_options_init(&c));
    c.host = "127.0.0.1";
    c.port = lport;
    c.connection = test_conn_options_init(&tc);
    b->apply(&tc);
    st = actnet_tcp_connect(node, owner, &c, &alias);
    if (st != b->want) {
      fprintf(stderr, "client with %s: %s, wanted %s\n", b->what, actnet_status_str(st), actnet_status_str(b->want));
      exit(1);
    }
    CHECK(alias.id == 0xDEAD);
    CHECK(net_accept(lfd, 50) == -1); /* no connection was made */
    close(lfd);

    /* the port can be used: a valid server binds it */
    server_options(&o);
    o.port = port;
    actnet_alias good = server_spawn(node, owner, &o, &port_out);
    CHECK(port_out == port);
    CHECK_OK(actnet_meta_terminate(node, good));
    CHECK(wait_inspect(node, owner, "meta-processes", "0", WAIT_MS));
  }
  CHECK(tq_quiet(q, 10));

  /* wrong struct_size: larger than the library's (a smaller one is an older caller's, which
   * 0.2 accepts), on the options and on the nested connection and framing options */
  actnet_tcp_server_options o;
  server_options(&o);
  o.struct_size = sizeof o + 8;
  actnet_alias alias = {0xDEAD};
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &o, &alias, NULL), ACTNET_STATUS_STRUCT_SIZE);
  CHECK(alias.id == 0xDEAD);
  server_options(&o);
  test_conn_options tc;
  o.connection = test_conn_options_init(&tc);
  tc.conn.struct_size = sizeof tc.conn + 8;
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &o, &alias, NULL), ACTNET_STATUS_STRUCT_SIZE);
  o.connection = test_conn_options_init(&tc);
  tc.chunk.struct_size = 3;
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &o, &alias, NULL), ACTNET_STATUS_STRUCT_SIZE);
  CHECK(alias.id == 0xDEAD);
  actnet_tcp_client_options c;
  CHECK_OK(actnet_tcp_client_options_init(&c));
  c.host = "127.0.0.1";
  c.port = 1;
  c.struct_size = sizeof c + 8;
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, &alias), ACTNET_STATUS_STRUCT_SIZE);
  c.struct_size = sizeof c;
  c.connection = test_conn_options_init(&tc);
  tc.chunk.struct_size = sizeof tc.chunk + 8;
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, &alias), ACTNET_STATUS_STRUCT_SIZE);
  CHECK(alias.id == 0xDEAD);

  /* a port in use */
  uint16_t used = 0;
  int lfd = net_listen(4, &used);
  server_options(&o);
  o.port = used;
  uint16_t port_out = 0xBEEF;
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &o, &alias, &port_out), ACTNET_STATUS_ADDRESS_IN_USE);
  CHECK(alias.id == 0xDEAD && port_out == 0xBEEF);
  close(lfd);
  check_inspect(node, owner, "meta-processes", "0");
}

int main(void) {
  node = test_node_start();
  q = tq_new();
  owner = tq_spawn(node, q, NULL, 0);
  w = tq_new();
  watcher = tq_spawn(node, w, NULL, 0);
  max_length();
  invalid_frame_length();
  truncated();
  invalid_options();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(q);
  tq_release(w);
  printf("test_tcp_limits: ok\n");
  return 0;
}
