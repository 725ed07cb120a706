/* Framing (chunking) of incoming bytes.
 *
 * For fixed-length framing and several header layouts (4-byte length at 0; 2-byte length at
 * offset 2 of a 4-byte header; the same with the length including the header; a 1-byte
 * length at offset 1 of a 3-byte header including the header; a 2-byte length with a max
 * length), a stream of frames (including empty payloads) is sent:
 * - one byte per write, each byte confirmed read by the server ("bytes in") before the next,
 *   so the decoder sees every boundary; each frame's DATA must arrive as soon as its last
 *   byte is in, exact (header + payload);
 * - cut at every position i into two writes (the first confirmed read before the second);
 * - hundreds of frames in one write: every frame exact, in order, nothing else.
 * - A frame larger than read_buffer_size (header and fixed framing) is delivered whole.
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;

typedef struct layout {
  const char *name;
  int fixed;       /* > 0: fixed framing */
  int header_size; /* else header framing */
  int position;
  int length_size;
  bool includes_header;
  int max_length;
} layout;

static actnet_chunk_options chunk_of(const layout *l) {
  actnet_chunk_options c;
  CHECK_OK(actnet_chunk_options_init(&c));
  c.enable = true;
  c.fixed_length = l->fixed;
  c.header_size = l->header_size;
  c.header_length_position = l->position;
  c.header_length_size = l->length_size;
  c.header_length_includes_header = l->includes_header;
  c.max_length = l->max_length;
  return c;
}

/* Appends one frame with `plen` payload bytes (pattern from `seed`) to out; returns its size. */
static size_t make_frame(const layout *l, size_t plen, uint32_t seed, uint8_t *out) {
  if (l->fixed > 0) {
    net_pattern(out, (size_t)l->fixed, 0, seed);
    return (size_t)l->fixed;
  }
  size_t h = (size_t)l->header_size;
  for (size_t i = 0; i < h; i++) out[i] = (uint8_t)(0xA0 + i + seed);
  uint64_t declared = plen + (l->includes_header ? h : 0);
  for (int i = 0; i < l->length_size; i++)
    out[l->position + i] = (uint8_t)(declared >> (8 * (l->length_size - 1 - i)));
  net_pattern(out + h, plen, 0, seed);
  return h + plen;
}

typedef struct stream {
  uint8_t *bytes;
  size_t len;
  size_t nframes;
  size_t *ends; /* end offset of each frame */
} stream;

static void stream_build(stream *s, const layout *l, size_t nframes, size_t (*plen)(size_t k)) {
  size_t cap = 0;
  for (size_t k = 0; k < nframes; k++) cap += (l->fixed > 0 ? (size_t)l->fixed : (size_t)l->header_size + plen(k));
  s->bytes = malloc(cap ? cap : 1);
  s->ends = malloc(nframes * sizeof *s->ends);
  CHECK(s->bytes && s->ends);
  s->len = 0;
  s->nframes = nframes;
  for (size_t k = 0; k < nframes; k++) {
    s->len += make_frame(l, plen(k), (uint32_t)k, s->bytes + s->len);
    s->ends[k] = s->len;
  }
  CHECK(s->len == cap);
}

static void stream_free(stream *s) {
  free(s->bytes);
  free(s->ends);
}

static void expect_frame(tq *q, actnet_alias conn, const stream *s, size_t k) {
  size_t start = k ? s->ends[k - 1] : 0;
  size_t len = s->ends[k] - start;
  tev e;
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  if (e.len != len || memcmp(e.data, s->bytes + start, len) != 0) {
    fprintf(stderr, "frame %zu: DATA of %zu bytes, wanted %zu (or different bytes)\n", k, e.len, len);
    exit(1);
  }
  tev_clear(&e);
}

static uint64_t bytes_in_base;

static void confirm_read(actnet_alias conn, size_t total) {
  char want[32];
  snprintf(want, sizeof want, "%" PRIu64, bytes_in_base + total);
  CHECK(wait_inspect(node, conn, "bytes in", want, WAIT_MS));
}

static size_t small_payloads(size_t k) {
  static const size_t lens[] = {5, 0, 1, 12, 3, 0, 7};
  return lens[k % 7];
}

static size_t varied_payloads(size_t k) { return (k * 7) % 23; }

static void run_layout(const layout *l) {
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, ACTNET_MAILBOX_UNBOUNDED);
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.chunk = chunk_of(l);
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  int fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  bytes_in_base = 0;

  stream s;
  stream_build(&s, l, 7, small_payloads);

  /* One byte per write, each read by the server before the next. */
  size_t next_frame = 0;
  for (size_t i = 0; i < s.len; i++) {
    net_write_all(fd, s.bytes + i, 1);
    confirm_read(conn, i + 1);
    if (i + 1 == s.ends[next_frame]) expect_frame(q, conn, &s, next_frame++);
  }
  CHECK(next_frame == s.nframes);
  CHECK(tq_quiet(q, 20));
  bytes_in_base += s.len;

  /* The whole stream cut at every position into two writes. */
  for (size_t cut = 0; cut <= s.len; cut++) {
    if (cut > 0) {
      net_write_all(fd, s.bytes, cut);
      confirm_read(conn, cut);
    }
    if (cut < s.len) net_write_all(fd, s.bytes + cut, s.len - cut);
    for (size_t k = 0; k < s.nframes; k++) expect_frame(q, conn, &s, k);
    bytes_in_base += s.len;
  }
  CHECK(tq_quiet(q, 20));
  stream_free(&s);

  /* Hundreds of frames in one write. */
  stream many;
  stream_build(&many, l, 600, varied_payloads);
  net_write_all(fd, many.bytes, many.len);
  for (size_t k = 0; k < many.nframes; k++) expect_frame(q, conn, &many, k);
  CHECK(tq_quiet(q, 20));
  bytes_in_base += many.len;
  confirm_read(conn, 0);
  stream_free(&many);

  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
  tq_release(q);
}

static size_t huge_payload(size_t k) { return k == 0 ? 100000 : 10; }

static void larger_than_the_read_buffer(const layout *l) {
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.chunk = chunk_of(l);
  tc_o.conn.read_buffer_size = 1024;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  int fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  stream s;
  stream_build(&s, l, 2, huge_payload);
  CHECK(s.ends[0] > 1024);
  net_write_all(fd, s.bytes, s.len);
  expect_frame(q, conn, &s, 0);
  expect_frame(q, conn, &s, 1);
  CHECK(tq_quiet(q, 20));
  stream_free(&s);
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
  tq_release(q);
}

int main(void) {
  node = test_node_start();
  const layout layouts[] = {
      {"fixed 8", 8, 0, 0, 0, false, 0},
      {"4-byte length at 0", 0, 4, 0, 4, false, 0},
      {"2-byte length at 2 of 4", 0, 4, 2, 2, false, 0},
      {"2-byte length at 2 of 4, including the header", 0, 4, 2, 2, true, 0},
      {"1-byte length at 1 of 3, including the header", 0, 3, 1, 1, true, 0},
      {"2-byte length at 0 of 2, max length 64", 0, 2, 0, 2, false, 64},
  };
  for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
    fprintf(stderr, "layout: %s\n", layouts[i].name);
    run_layout(&layouts[i]);
  }
  const layout big_header = {"4-byte length at 0", 0, 4, 0, 4, false, 1 << 20};
  larger_than_the_read_buffer(&big_header);
  const layout big_fixed = {"fixed 5000", 5000, 0, 0, 0, false, 0};
  larger_than_the_read_buffer(&big_fixed);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("test_tcp_framing: ok\n");
  return 0;
}
