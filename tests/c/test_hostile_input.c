/* Hostile peers sending bad or slow input to actnet servers in this process, over 127.0.0.1.
 *
 * Every case runs against a fresh server (with a read buffer pool, DATA echoed back by a
 * "rec" process that counts what each connection delivered) while a well-behaved client
 * sends valid frames of the same framing to the same server from a thread, for the whole
 * case, and checks every byte of every echo. Each case ends with: the well-behaved client's
 * connection ends with exactly one DISCONNECT PEER_CLOSED and no failed echo; every
 * connection saw exactly one CONNECT and one DISCONNECT, nothing out of order; and the
 * process's open fds, the pool's outstanding buffers and the server's "connections" are back
 * at their baseline (a bounded poll).
 *
 * - A header claiming 4 GiB (4-byte length 0xFFFFFFFF): with max_length 1 MiB, the server
 *   closes the socket at once (EOF or reset within 1 s), DISCONNECT MAX_LENGTH_EXCEEDED, no
 *   DATA, RSS up by less than 32 MiB and VmSize by less than 1 GiB; with max_length 0, after
 *   the header and 1 MiB of payload (all read by the server: "bytes in"), RSS is up by less
 *   than 64 MiB and VmSize by less than 1 GiB (nothing sized by the claim), the connection
 *   lives on, and the peer's FIN ends it with FRAME_TRUNCATED, no DATA.
 * - Random garbage under every framing mode (none, fixed, header with 1-, 2- and 4-byte
 *   lengths, lengths including the header): streams mixing valid frames and random bytes,
 *   ended by FIN, by a reset, or left open. A reference model of the decoder (c/reliability.c)
 *   says what must happen: the DATA delivered are exactly the model's complete frames (their
 *   hash), the reason is the model's typed error (MAX_LENGTH_EXCEEDED, INVALID_FRAME_LENGTH)
 *   or else FRAME_TRUNCATED / PEER_CLOSED after a FIN (RESET, or the error, after a reset:
 *   then a prefix of the frames); the peer reads back exactly the echo of the complete frames
 *   (a prefix when the server closed on an error). A stream left open without an error is
 *   completed to a frame boundary and must go on working: its echo comes back whole.
 * - Slowloris: 20 peers each send a 26-byte frame one byte per 100 ms (2.6 s). Until the
 *   last byte no DATA is delivered (the server has read all but one byte of each: "bytes
 *   in"); then each frame is delivered once, whole, and echoed; the well-behaved client kept
 *   getting its echoes meanwhile.
 * - Reset mid-frame, fixed and header framing: 3 complete frames (echoed), then part of a
 *   frame (part of the header, or header and part of the payload) that the server has read,
 *   then a reset: DISCONNECT RESET, exactly the 3 frames delivered, never the partial one.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reliability.h"

static actnet_node *node;
static actnet_pool *pool;

/* Reads until EOF or reset (a timeout fails the test); returns the bytes read (into buf, up
 * to cap) and how it ended. */
static net_end read_until_closed(int fd, uint8_t *buf, size_t cap, size_t *got, const char *what) {
  net_end e = net_read_to_end(fd, buf, cap, WAIT_MS, got);
  if (e != NET_EOF && e != NET_RESET) {
    fprintf(stderr, "%s: the server did not close the socket (%s after %zu bytes)\n", what, net_end_str(e), *got);
    exit(1);
  }
  return e;
}

/* ---------------------------------------------------------------- 4 GiB header */

static void header_claims_4gib(void) {
  static const uint8_t claim[4 + 16] = {0xFF, 0xFF, 0xFF, 0xFF, 'n', 'o', 't', ' ', '4', ' ', 'G', 'i', 'B', '.', '.', '.'};
  rel_framing limited = {.name = "4-byte header, max 1 MiB", .kind = REL_HEADER, .header_size = 4, .length_size = 4,
                         .max_length = 1 << 20};
  rel_case k = rel_case_start(node, pool, "4 GiB header, max_length 1 MiB", &limited, NULL, true);
  long rss0 = rel_rss_kb(), vm0 = rel_vm_kb();
  int64_t slowest = 0;
  for (int i = 0; i < 5; i++) {
    int fd = net_connect(k.port);
    char local[64];
    net_sockname(fd, local, sizeof local);
    actnet_alias alias = rec_claim_remote(k.r, local, WAIT_MS);
    int64_t t0 = now_ms();
    (void)net_try_write_all(fd, claim, sizeof claim);
    uint8_t buf[256];
    size_t got = 0;
    read_until_closed(fd, buf, sizeof buf, &got, "4 GiB header");
    int64_t took = now_ms() - t0;
    if (took > slowest) slowest = took;
    CHECK(got == 0);
    CHECK(took < 1000);
    CHECK(close(fd) == 0);
    rec_wait_disconnect(k.r, alias, WAIT_MS);
    rec_check_one_disconnect(k.r, alias, ACTNET_DISCONNECT_REASON_MAX_LENGTH_EXCEEDED, false, k.name);
    CHECK(rec_get(k.r, alias).datas == 0);
  }
  long drss = rel_rss_kb() - rss0, dvm = rel_vm_kb() - vm0;
  REL_REPORT("[%s] closed within %lld ms; RSS %+ld KiB, VmSize %+ld KiB", k.name, (long long)slowest, drss, dvm);
  CHECK(drss < 32 * 1024);
  CHECK(dvm < 1024 * 1024);
  rel_case_finish(&k, 3);

  rel_framing unlimited = {.name = "4-byte header, no max", .kind = REL_HEADER, .header_size = 4, .length_size = 4};
  k = rel_case_start(node, pool, "4 GiB header, max_length 0", &unlimited, NULL, true);
  rss0 = rel_rss_kb();
  vm0 = rel_vm_kb();
  int fd = net_connect(k.port);
  char local[64];
  net_sockname(fd, local, sizeof local);
  actnet_alias alias = rec_claim_remote(k.r, local, WAIT_MS);
  net_write_all(fd, claim, 4);
  enum { PAYLOAD = 1 << 20 };
  uint8_t *chunk = malloc(65536);
  CHECK(chunk != NULL);
  for (size_t off = 0; off < PAYLOAD; off += 65536) {
    net_pattern(chunk, 65536, off, 3);
    net_write_all(fd, chunk, 65536);
  }
  free(chunk);
  rel_wait_bytes_in(node, alias, 4 + PAYLOAD);
  drss = rel_rss_kb() - rss0;
  dvm = rel_vm_kb() - vm0;
  REL_REPORT("[%s] after the header and %d bytes of payload: RSS %+ld KiB, VmSize %+ld KiB", k.name, PAYLOAD, drss,
             dvm);
  CHECK(drss < 64 * 1024);
  CHECK(dvm < 1024 * 1024);
  rec_conn c = rec_get(k.r, alias);
  CHECK(c.disconnects == 0 && c.datas == 0); /* alive, waiting for the rest of its frame */
  net_shutdown_write(fd);
  uint8_t buf[256];
  size_t got = 0;
  CHECK(read_until_closed(fd, buf, sizeof buf, &got, "4 GiB header, FIN") == NET_EOF);
  CHECK(got == 0);
  CHECK(close(fd) == 0);
  rec_wait_disconnect(k.r, alias, WAIT_MS);
  rec_check_one_disconnect(k.r, alias, ACTNET_DISCONNECT_REASON_FRAME_TRUNCATED, false, k.name);
  CHECK(rec_get(k.r, alias).datas == 0);
  rel_case_finish(&k, 3);
}

/* ---------------------------------------------------------------- garbage */

static const rel_framing framings[] = {
    {.name = "none", .kind = REL_RAW},
    {.name = "fixed 7", .kind = REL_FIXED, .fixed = 7},
    {.name = "header 1-byte length", .kind = REL_HEADER, .header_size = 1, .length_size = 1},
    {.name = "header 2-byte length at 1, max 1000", .kind = REL_HEADER, .header_size = 3, .position = 1,
     .length_size = 2, .max_length = 1000},
    {.name = "header 4-byte length, max 64 KiB", .kind = REL_HEADER, .header_size = 4, .length_size = 4,
     .max_length = 65536},
    {.name = "header 2-byte length includes header", .kind = REL_HEADER, .header_size = 4, .position = 2,
     .length_size = 2, .includes_header = true},
    {.name = "header 1-byte length includes header, max 200", .kind = REL_HEADER, .header_size = 2, .position = 1,
     .length_size = 1, .includes_header = true, .max_length = 200},
};

enum { GARBAGE_MAX = 24 * 1024, COMPLETION_ROOM = 70 * 1024 };
enum { END_FIN = 0, END_RESET = 1, END_OPEN = 2 };
static const char *end_names[] = {"FIN", "reset", "left open"};

/* A stream of random bytes (style 0), of valid frames and random blobs (style 1), of valid
 * frames ending in a few random bytes (style 2), or of valid frames ending in a header whose
 * length is below the header's size or above max_length (style 3; style 2 when the framing
 * has neither error). */
static size_t make_garbage(const rel_framing *f, uint64_t *rng, uint8_t *s, int style) {
  size_t target = rel_rand_range(rng, 1, GARBAGE_MAX - 600);
  size_t n = 0;
  if (style == 0 || f->kind == REL_RAW) {
    rel_rand_fill(rng, s, target);
    return target;
  }
  while (n < target) {
    if (style >= 2 || rel_rand(rng) % 10 < 6) {
      size_t payload = rel_rand_range(rng, 0, rel_max_payload(f, 300));
      n += rel_frame_build(f, s + n, payload, rng);
    } else {
      size_t blob = rel_rand_range(rng, 1, 40);
      rel_rand_fill(rng, s + n, blob);
      n += blob;
    }
  }
  bool bad_header_possible = f->kind == REL_HEADER && (f->includes_header || f->max_length > 0);
  if (style == 3 && bad_header_possible) {
    size_t hs = (size_t)f->header_size;
    rel_rand_fill(rng, s + n, hs);
    uint64_t field_max = f->length_size == 4 ? UINT64_C(0xFFFFFFFF) : (UINT64_C(1) << (8 * f->length_size)) - 1;
    uint64_t v;
    if (f->includes_header && (f->max_length == 0 || rel_rand(rng) % 2)) {
      v = rel_rand_range(rng, 0, hs - 1); /* shorter than the header */
    } else {
      uint64_t over = (uint64_t)f->max_length + 1 - (f->includes_header ? 0 : hs);
      v = over + rel_rand(rng) % (field_max - over + 1); /* longer than max_length */
    }
    for (int i = 0; i < f->length_size; i++) s[n + (size_t)f->position + (size_t)i] = (uint8_t)(v >> (8 * (f->length_size - 1 - i)));
    n += hs;
  } else if (style >= 2) {
    size_t tail = rel_rand_range(rng, 1, 10);
    rel_rand_fill(rng, s + n, tail);
    n += tail;
  }
  return n;
}

/* Appends bytes until the stream ends on a frame boundary or an error shows. */
static size_t complete_stream(const rel_framing *f, uint8_t *s, size_t n, uint64_t *rng) {
  for (;;) {
    rel_model m;
    rel_model_run(f, s, n, &m);
    bool done = m.error != 0 || m.need == 0;
    size_t need = m.need;
    rel_model_free(&m);
    if (done) return n;
    CHECK(n + need <= GARBAGE_MAX + COMPLETION_ROOM);
    rel_rand_fill(rng, s + n, need);
    n += need;
  }
}

typedef struct garbage_stats {
  int by_reason[32];
  int frames;
  uint64_t bytes;
} garbage_stats;

static void garbage_peer(rel_case *k, int idx, uint64_t *rng, garbage_stats *st) {
  const rel_framing *f = &k->f;
  int ending = idx % 3;
  uint8_t *s = malloc(GARBAGE_MAX + COMPLETION_ROOM);
  uint8_t *echo = malloc(GARBAGE_MAX + COMPLETION_ROOM);
  CHECK(s != NULL && echo != NULL);
  size_t n = make_garbage(f, rng, s, (idx / 3) % 4);
  if (ending == END_OPEN) n = complete_stream(f, s, n, rng);
  rel_model m;
  rel_model_run(f, s, n, &m);

  int fd = net_connect(k->port);
  char local[64];
  net_sockname(fd, local, sizeof local);
  actnet_alias alias = rec_claim_remote(k->r, local, WAIT_MS);
  bool wrote_all = true;
  for (size_t off = 0; off < n && wrote_all;) {
    size_t step = rel_rand_range(rng, 1, 4096);
    if (step > n - off) step = n - off;
    wrote_all = net_try_write_all(fd, s + off, step);
    off += step;
  }
  if (!wrote_all) CHECK(m.error != 0); /* only a server that found an error closes early */

  /* What must happen. */
  uint32_t want = m.error;
  if (!want) {
    if (ending == END_RESET) want = ACTNET_DISCONNECT_REASON_RESET;
    else if (f->kind != REL_RAW && m.need > 0) want = ACTNET_DISCONNECT_REASON_FRAME_TRUNCATED;
    else want = ACTNET_DISCONNECT_REASON_PEER_CLOSED;
  }
  size_t got = 0;
  char what[160];
  snprintf(what, sizeof what, "garbage (%s framing) peer %d, %zu bytes, %s", f->name, idx, n, end_names[ending]);
  switch (ending) {
    case END_FIN:
      (void)shutdown(fd, SHUT_WR);
      if (read_until_closed(fd, echo, GARBAGE_MAX + COMPLETION_ROOM, &got, what) == NET_RESET) CHECK(m.error != 0);
      break;
    case END_RESET:
      net_close_reset(fd);
      fd = -1;
      break;
    case END_OPEN:
      if (m.error) {
        read_until_closed(fd, echo, GARBAGE_MAX + COMPLETION_ROOM, &got, what);
      } else {
        /* completed to a frame boundary: everything comes back, and the connection goes on */
        CHECK(m.consumed == n);
        if (!net_read_exact(fd, echo, n, WAIT_MS)) {
          fprintf(stderr, "%s: no whole echo\n", what);
          exit(1);
        }
        got = n;
        net_shutdown_write(fd);
        size_t more = 0;
        uint8_t tail[64];
        CHECK(read_until_closed(fd, tail, sizeof tail, &more, what) == NET_EOF && more == 0);
      }
      break;
  }
  if (fd >= 0) CHECK(close(fd) == 0);
  /* The echo: exactly the complete frames, or a prefix of them when the server closed on an
   * error (echoes of the last frames may come after it closed). */
  if (ending != END_RESET) {
    if (got > m.consumed || memcmp(echo, s, got) != 0 || (!m.error && got != m.consumed)) {
      fprintf(stderr, "%s: echo of %zu bytes, the complete frames are %zu bytes (error %u)\n", what, got, m.consumed,
              m.error);
      exit(1);
    }
  }

  rec_conn c = rec_wait_disconnect(k->r, alias, WAIT_MS);
  bool reason_ok = c.reason == want || (ending == END_RESET && c.reason == ACTNET_DISCONNECT_REASON_RESET);
  if (!reason_ok || c.connects != 1 || c.disconnects != 1 || c.out_of_order) {
    fprintf(stderr, "%s: DISCONNECT %u (%s), wanted %u (%s)%s; %d CONNECT, %d DISCONNECT, %d out of order\n", what,
            c.reason, actnet_disconnect_reason_str(c.reason), want, actnet_disconnect_reason_str(want),
            ending == END_RESET ? " or reset" : "", c.connects, c.disconnects, c.out_of_order);
    exit(1);
  }
  /* What was delivered: all the complete frames (a prefix if the reset came first). */
  bool all_expected = !(ending == END_RESET && c.reason == ACTNET_DISCONNECT_REASON_RESET);
  if (f->kind == REL_RAW) {
    bool ok = c.bytes <= n && (all_expected ? c.bytes == n : true) &&
              (c.bytes == 0 || c.byte_hash == rel_hash_bytes(REL_HASH_INIT, s, (size_t)c.bytes));
    if (!ok) {
      fprintf(stderr, "%s: %llu bytes delivered (of %zu), or not the bytes sent\n", what,
              (unsigned long long)c.bytes, n);
      exit(1);
    }
    st->bytes += c.bytes;
  } else {
    size_t kf = (size_t)c.datas;
    bool ok = kf <= m.nframes && (all_expected ? kf == m.nframes : true) &&
              (kf == 0 || c.frame_hash == rel_model_hash(&m, s, kf));
    if (!ok) {
      fprintf(stderr, "%s: %zu frames delivered, the model has %zu complete frames (or they differ)\n", what, kf,
              m.nframes);
      exit(1);
    }
    st->frames += (int)kf;
  }
  if (!m.error && ending != END_RESET && c.echo_failures) {
    fprintf(stderr, "%s: %d failed echoes (%s)\n", what, c.echo_failures, actnet_status_str(c.echo_status));
    exit(1);
  }
  st->by_reason[c.reason < 32 ? c.reason : 0]++;
  rel_model_free(&m);
  free(s);
  free(echo);
}

static void garbage(void) {
  enum { PEERS = 24 };
  for (size_t i = 0; i < sizeof framings / sizeof framings[0]; i++) {
    char name[128];
    snprintf(name, sizeof name, "garbage, %s", framings[i].name);
    rel_case k = rel_case_start(node, pool, name, &framings[i], NULL, true);
    uint64_t rng = UINT64_C(0xA5A5F00D) + i * 7919;
    garbage_stats st;
    memset(&st, 0, sizeof st);
    for (int p = 0; p < PEERS; p++) garbage_peer(&k, p, &rng, &st);
    char reasons[512] = "";
    for (int r = 1; r < 32; r++) {
      if (!st.by_reason[r]) continue;
      size_t len = strlen(reasons);
      snprintf(reasons + len, sizeof reasons - len, "%s%s %d", len ? ", " : "", actnet_disconnect_reason_str((uint32_t)r),
               st.by_reason[r]);
    }
    if (framings[i].kind == REL_RAW)
      REL_REPORT("[%s] %d peers: %s; %llu bytes delivered as sent", name, PEERS, reasons, (unsigned long long)st.bytes);
    else
      REL_REPORT("[%s] %d peers: %s; %d frames delivered as the model said", name, PEERS, reasons, st.frames);
    rel_case_finish(&k, 3);
  }
}

/* ---------------------------------------------------------------- slowloris */

static void slowloris(void) {
  rel_framing f = {.name = "header 2-byte length", .kind = REL_HEADER, .header_size = 2, .length_size = 2};
  rel_case k = rel_case_start(node, pool, "slowloris", &f, NULL, true);
  enum { SLOW = 20, FRAME = 26, PACE_MS = 100 };
  int fds[SLOW];
  actnet_alias aliases[SLOW];
  uint8_t frames[SLOW][FRAME];
  uint64_t rng = 99;
  for (int i = 0; i < SLOW; i++) {
    CHECK(rel_frame_build(&f, frames[i], FRAME - 2, &rng) == FRAME);
    fds[i] = net_connect(k.port);
    char local[64];
    net_sockname(fds[i], local, sizeof local);
    aliases[i] = rec_claim_remote(k.r, local, WAIT_MS);
  }
  int rt0 = rel_good_roundtrips(k.good);
  int64_t t0 = now_ms();
  for (int b = 0; b < FRAME; b++) {
    if (b == FRAME - 1) {
      /* Everything but the last byte has been read, and nothing delivered. */
      for (int i = 0; i < SLOW; i++) {
        rel_wait_bytes_in(node, aliases[i], FRAME - 1);
        rec_conn c = rec_get(k.r, aliases[i]);
        CHECK(c.datas == 0 && c.disconnects == 0);
      }
    }
    for (int i = 0; i < SLOW; i++) net_write_all(fds[i], &frames[i][b], 1);
    if (b < FRAME - 1) sleep_ms(PACE_MS); /* the pacing is what is tested */
  }
  int64_t took = now_ms() - t0;
  int during = rel_good_roundtrips(k.good) - rt0;
  for (int i = 0; i < SLOW; i++) {
    uint8_t echo[FRAME];
    CHECK(net_read_exact(fds[i], echo, FRAME, WAIT_MS));
    CHECK(memcmp(echo, frames[i], FRAME) == 0);
    rec_conn c = rec_get(k.r, aliases[i]);
    CHECK(c.datas == 1 && c.bytes == FRAME);
    CHECK(c.frame_hash == rel_hash_frame(REL_HASH_INIT, frames[i], FRAME));
    net_shutdown_write(fds[i]);
    size_t got = 0;
    CHECK(read_until_closed(fds[i], echo, sizeof echo, &got, "slowloris") == NET_EOF && got == 0);
    CHECK(close(fds[i]) == 0);
    rec_wait_disconnect(k.r, aliases[i], WAIT_MS);
    rec_check_one_disconnect(k.r, aliases[i], ACTNET_DISCONNECT_REASON_PEER_CLOSED, false, "slowloris");
  }
  REL_REPORT("[slowloris] %d peers, one byte each per %d ms for %lld ms; each %d-byte frame delivered once, whole; "
             "the well-behaved client made %d round trips meanwhile",
             SLOW, PACE_MS, (long long)took, FRAME, during);
  CHECK(during >= 100);
  rel_case_finish(&k, 100);
}

/* ---------------------------------------------------------------- reset mid-frame */

static void reset_mid_frame(void) {
  static const rel_framing fr[] = {
      {.name = "fixed 100", .kind = REL_FIXED, .fixed = 100},
      {.name = "header 4-byte length, max 1 MiB", .kind = REL_HEADER, .header_size = 4, .length_size = 4,
       .max_length = 1 << 20},
  };
  for (size_t j = 0; j < sizeof fr / sizeof fr[0]; j++) {
    char name[128];
    snprintf(name, sizeof name, "reset mid-frame, %s", fr[j].name);
    rel_case k = rel_case_start(node, pool, name, &fr[j], NULL, true);
    const rel_framing *f = &fr[j];
    uint64_t rng = 4242 + j;
    for (int i = 0; i < 10; i++) {
      uint8_t s[2048];
      size_t n = 0;
      for (int q = 0; q < 3; q++) n += rel_frame_build(f, s + n, rel_rand_range(&rng, 10, 200), &rng);
      size_t whole = n;
      uint8_t partial[512];
      size_t plen = rel_frame_build(f, partial, 300, &rng);
      /* part of the header (header framing, every other peer), or header and half a payload */
      size_t cut = (f->kind == REL_HEADER && i % 2 == 0) ? 2 : plen / 2;
      memcpy(s + n, partial, cut);
      n += cut;
      rel_model m;
      rel_model_run(f, s, n, &m);
      CHECK(m.nframes == 3 && m.error == 0 && m.need > 0);

      int fd = net_connect(k.port);
      char local[64];
      net_sockname(fd, local, sizeof local);
      actnet_alias alias = rec_claim_remote(k.r, local, WAIT_MS);
      net_write_all(fd, s, whole);
      uint8_t echo[2048];
      CHECK(net_read_exact(fd, echo, whole, WAIT_MS));
      CHECK(memcmp(echo, s, whole) == 0);
      net_write_all(fd, s + whole, n - whole);
      rel_wait_bytes_in(node, alias, n); /* the partial frame is in the server's hands */
      net_close_reset(fd);
      rec_conn c = rec_wait_disconnect(k.r, alias, WAIT_MS);
      rec_check_one_disconnect(k.r, alias, ACTNET_DISCONNECT_REASON_RESET, false, name);
      CHECK(c.datas == 3);
      CHECK(c.frame_hash == rel_model_hash(&m, s, 3));
      rel_model_free(&m);
    }
    REL_REPORT("[%s] 10 peers: DISCONNECT reset, 3 frames each, the partial one never", name);
    rel_case_finish(&k, 3);
  }
}

int main(void) {
  node = test_node_start();
  CHECK_OK(actnet_pool_new(4096, 64, &pool));
  int fds0 = open_fd_count();
  header_claims_4gib();
  garbage();
  slowloris();
  reset_mid_frame();
  /* Every server is gone: its listener closed too. */
  int64_t end = now_ms() + WAIT_MS;
  while (open_fd_count() != fds0) {
    if (now_ms() > end) {
      fprintf(stderr, "%d fds open at the end, %d at the start\n", open_fd_count(), fds0);
      exit(1);
    }
    sleep_ms(1);
  }
  CHECK(rel_pool_outstanding(pool) == 0);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  CHECK_OK(actnet_pool_free(pool));
  printf("test_hostile_input: ok\n");
  return 0;
}
