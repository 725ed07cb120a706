/* Hostile TLS clients against an actnet TLS server (handshake timeout 500 ms, read buffer
 * pool, DATA echoed), while a well-behaved actnet TLS client of the same node exchanges
 * echoes with it from a thread for the whole case (random sizes, every byte checked).
 *
 * 4 clients of each kind, all at once, over raw sockets:
 *   garbage      random bytes (not a TLS record)
 *   http         a plaintext HTTP request
 *   bad record   a handshake record header followed by random bytes
 *   silent       connects and sends nothing
 *   partial      the first 40 bytes of a real ClientHello, then nothing
 *   stalled      a whole real ClientHello (captured from an actnet client), then nothing
 *                (the server's flight is read and ignored: the handshake stops midway)
 *   reset        a whole ClientHello, then (once the server's first flight came) a reset
 *   fin          a whole ClientHello, then (once the server's first flight came) a FIN
 * - None of them ever becomes a CONNECT (the server's process sees only the good client).
 * - The server counts each one in "tls handshake failures" (exactly 32 more, none later).
 * - Garbage, http and bad record sockets are closed by the server (EOF or reset) within
 *   1 s; silent, partial and stalled ones within the handshake timeout (between 400 ms and
 *   2 s after connecting).
 * - The good client made round trips throughout; its connection ends with one DISCONNECT
 *   PEER_CLOSED on the server's side; then the fds, the pool's outstanding buffers and the
 *   server's "connections" are back at their baseline.
 */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reliability.h"
#include "tls_support.h"

static actnet_node *node;
static actnet_pool *pool;
static actnet_certmanager *client_cm;

/* Times scale with $ACTNET_TEST_SLOW (harness.h), so the valgrind variant holds too. */
#define HANDSHAKE_MS SLOW_MS(500)

/* ---------------------------------------------------------------- a real ClientHello */

typedef struct capture {
  int listen_fd;
  uint8_t hello[16384];
  size_t len;
} capture;

static void *capture_main(void *arg) {
  capture *c = arg;
  int fd = net_accept(c->listen_fd, WAIT_MS);
  CHECK(fd >= 0);
  CHECK(net_read_exact(fd, c->hello, 5, WAIT_MS));
  CHECK(c->hello[0] == 0x16);
  size_t body = ((size_t)c->hello[3] << 8) | c->hello[4];
  CHECK(5 + body <= sizeof c->hello);
  CHECK(net_read_exact(fd, c->hello + 5, body, WAIT_MS));
  c->len = 5 + body;
  close(fd);
  return NULL;
}

/* The first record an actnet TLS client sends: its ClientHello. */
static void capture_client_hello(capture *c) {
  uint16_t port = 0;
  c->listen_fd = net_listen(4, &port);
  pthread_t th;
  CHECK(pthread_create(&th, NULL, capture_main, c) == 0);
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  actnet_tcp_client_options co;
  tls_client_options(&co, port, client_cm, "localhost");
  co.tls_handshake_timeout_ms = SLOW_MS(2000);
  actnet_alias conn = {0};
  actnet_status s = actnet_tcp_connect(node, owner, &co, &conn);
  CHECK(s != ACTNET_STATUS_OK); /* the fake server closed after the hello */
  CHECK(pthread_join(th, NULL) == 0);
  close(c->listen_fd);
  CHECK(c->len > 100);
  CHECK_OK(actnet_process_stop(node, owner));
  tq_release(q);
}

/* ---------------------------------------------------------------- the well-behaved client */

typedef struct good_tls {
  pthread_t thread;
  tq *q;
  actnet_pid owner;
  actnet_alias conn;
  char local[64];
  atomic_bool stop;
  atomic_int roundtrips;
  int64_t max_rtt;
} good_tls;

static void *good_tls_main(void *arg) {
  good_tls *g = arg;
  uint64_t rng = 77;
  uint8_t out[512], in[512];
  while (!atomic_load(&g->stop)) {
    size_t n = rel_rand_range(&rng, 1, sizeof out);
    rel_rand_fill(&rng, out, n);
    int64_t t0 = now_ms();
    CHECK_OK(actnet_tcp_write(node, g->conn, out, n));
    size_t have = 0;
    while (have < n) {
      tev e;
      tq_expect_for(g->q, ACTNET_MSG_DATA, g->conn, &e);
      CHECK(have + e.len <= n);
      memcpy(in + have, e.data, e.len);
      have += e.len;
      tev_clear(&e);
    }
    if (memcmp(in, out, n) != 0) {
      fprintf(stderr, "well-behaved TLS client: wrong echo of %zu bytes\n", n);
      exit(1);
    }
    int64_t rtt = now_ms() - t0;
    if (rtt > g->max_rtt) g->max_rtt = rtt;
    atomic_fetch_add(&g->roundtrips, 1);
    sleep_ms(1); /* pacing, so as not to starve the 2 cores */
  }
  return NULL;
}

static good_tls *good_tls_start(uint16_t port) {
  good_tls *g = calloc(1, sizeof *g);
  CHECK(g != NULL);
  atomic_init(&g->stop, false);
  atomic_init(&g->roundtrips, 0);
  g->q = tls_tq_new(false);
  g->owner = tq_spawn(node, g->q, NULL, 0);
  actnet_tcp_client_options co;
  tls_client_options(&co, port, client_cm, "localhost");
  CHECK_OK(actnet_tcp_connect(node, g->owner, &co, &g->conn));
  CHECK(tls_expect_connect(g->q, NULL).id == g->conn.id);
  CHECK(inspect_value(node, g->conn, "local", g->local, sizeof g->local));
  CHECK(pthread_create(&g->thread, NULL, good_tls_main, g) == 0);
  return g;
}

static int good_tls_stop(good_tls *g, int64_t *max_rtt) {
  atomic_store(&g->stop, true);
  CHECK(pthread_join(g->thread, NULL) == 0);
  int n = atomic_load(&g->roundtrips);
  *max_rtt = g->max_rtt;
  CHECK_OK(actnet_meta_terminate(node, g->conn));
  tev e;
  tq_expect_for(g->q, ACTNET_MSG_DISCONNECT, g->conn, &e);
  CHECK(e.reason == ACTNET_DISCONNECT_REASON_CLOSED);
  tev_clear(&e);
  CHECK_OK(actnet_process_stop(node, g->owner));
  tq_release(g->q);
  free(g);
  return n;
}

/* ---------------------------------------------------------------- hostile clients */

enum { K_GARBAGE, K_HTTP, K_BAD_RECORD, K_SILENT, K_PARTIAL, K_STALLED, K_RESET, K_FIN, KINDS };
static const char *kind_names[KINDS] = {"garbage", "http",    "bad record", "silent",
                                        "partial", "stalled", "reset",      "fin"};
enum { PER_KIND = 4, HOSTILE = KINDS * PER_KIND };

typedef struct hostile {
  int kind;
  int fd;
  int64_t t_connect, t_sent, t_closed;
  net_end end;
} hostile;

int main(int argc, char **argv) {
  tls_init(argc, argv);
  node = test_node_start();
  CHECK_OK(actnet_pool_new(4096, 64, &pool));
  client_cm = tls_manager(NULL, NULL, "ca.pem");
  int fds0 = open_fd_count();

  capture cap;
  memset(&cap, 0, sizeof cap);
  capture_client_hello(&cap);

  actnet_certmanager *server_cm = tls_manager("server.pem", "server.key", NULL);
  actnet_tcp_server_options o;
  tls_server_options(&o, server_cm);
  o.tls_handshake_timeout_ms = HANDSHAKE_MS;
  rel_framing raw = {.name = "none", .kind = REL_RAW};
  rel_case k = rel_case_start(node, pool, "hostile TLS clients", &raw, &o, false);
  uint64_t failures0 = inspect_u64(node, k.server, "tls handshake failures");

  good_tls *g = good_tls_start(k.port);
  actnet_alias good_alias = rec_claim_remote(k.r, g->local, WAIT_MS);
  while (atomic_load(&g->roundtrips) < 3) sleep_ms(1);
  int rt0 = atomic_load(&g->roundtrips);

  hostile h[HOSTILE];
  uint64_t rng = 31337;
  for (int i = 0; i < HOSTILE; i++) {
    hostile *c = &h[i];
    c->kind = i % KINDS;
    c->end = NET_TIMEOUT;
    c->t_connect = now_ms();
    c->fd = net_connect(k.port);
    uint8_t junk[700];
    switch (c->kind) {
      case K_GARBAGE:
        rel_rand_fill(&rng, junk, sizeof junk);
        junk[0] = 0x00;
        net_write_all(c->fd, junk, sizeof junk);
        break;
      case K_HTTP: {
        static const char get[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        net_write_all(c->fd, get, sizeof get - 1);
        break;
      }
      case K_BAD_RECORD:
        rel_rand_fill(&rng, junk, sizeof junk);
        junk[0] = 0x16;
        junk[1] = 0x03;
        junk[2] = 0x01;
        junk[3] = 0x02;
        junk[4] = 0x00; /* 512 bytes of handshake that is not one */
        net_write_all(c->fd, junk, 5 + 512);
        break;
      case K_SILENT:
        break;
      case K_PARTIAL:
        net_write_all(c->fd, cap.hello, 40);
        break;
      case K_STALLED:
      case K_RESET:
      case K_FIN:
        net_write_all(c->fd, cap.hello, cap.len);
        break;
    }
    if (c->kind == K_RESET || c->kind == K_FIN) {
      /* The server's first flight shows the handshake is under way; then stop midway. */
      uint8_t flight[16384];
      size_t got = 0;
      CHECK(net_read_some(c->fd, flight, sizeof flight, WAIT_MS, &got) == NET_DATA && flight[0] == 0x16);
    }
    c->t_sent = now_ms();
    if (c->kind == K_RESET) {
      net_close_reset(c->fd);
      c->fd = -1;
    } else if (c->kind == K_FIN) {
      net_shutdown_write(c->fd);
    }
  }
  /* Watch the sockets until the server has closed every one (EOF or reset). */
  int64_t deadline = now_ms() + 4 * WAIT_MS;
  for (;;) {
    struct pollfd pf[HOSTILE];
    int idx[HOSTILE], n = 0;
    for (int i = 0; i < HOSTILE; i++) {
      if (h[i].fd < 0 || h[i].end != NET_TIMEOUT) continue;
      pf[n].fd = h[i].fd;
      pf[n].events = POLLIN;
      pf[n].revents = 0;
      idx[n++] = i;
    }
    if (n == 0) break;
    CHECK(now_ms() < deadline);
    int r = poll(pf, (nfds_t)n, 100);
    CHECK(r >= 0);
    for (int j = 0; j < n; j++) {
      if (!pf[j].revents) continue;
      hostile *c = &h[idx[j]];
      uint8_t buf[16384];
      size_t got = 0;
      net_end e = net_read_some(c->fd, buf, sizeof buf, 0, &got);
      if (e == NET_DATA || e == NET_TIMEOUT) continue; /* the server's flight or alert */
      c->end = e;
      c->t_closed = now_ms();
    }
  }
  int64_t slowest[KINDS] = {0}, fastest[KINDS];
  for (int i = 0; i < KINDS; i++) fastest[i] = INT64_MAX;
  for (int i = 0; i < HOSTILE; i++) {
    hostile *c = &h[i];
    if (c->fd < 0) continue;
    if (c->end != NET_EOF && c->end != NET_RESET) {
      fprintf(stderr, "%s client %d: %s\n", kind_names[c->kind], i, net_end_str(c->end));
      exit(1);
    }
    bool stalls = c->kind == K_SILENT || c->kind == K_PARTIAL || c->kind == K_STALLED;
    int64_t took = stalls ? c->t_closed - c->t_connect : c->t_closed - c->t_sent;
    if (took > slowest[c->kind]) slowest[c->kind] = took;
    if (took < fastest[c->kind]) fastest[c->kind] = took;
    bool ok = stalls ? (took >= HANDSHAKE_MS - 100 && took <= HANDSHAKE_MS + SLOW_MS(1500)) : took <= SLOW_MS(1000);
    if (!ok) {
      fprintf(stderr, "%s client %d: closed by the server after %lld ms\n", kind_names[c->kind], i, (long long)took);
      exit(1);
    }
    CHECK(close(c->fd) == 0);
  }
  /* Every one of them is a handshake failure, and none more. */
  CHECK(tls_wait_count(node, k.server, "tls handshake failures", failures0 + HOSTILE, WAIT_MS));
  CHECK(inspect_u64(node, k.server, "tls handshake failures") == failures0 + HOSTILE);
  int during = atomic_load(&g->roundtrips) - rt0;

  int64_t max_rtt = 0;
  int rt = good_tls_stop(g, &max_rtt);
  rec_wait_disconnect(k.r, good_alias, WAIT_MS);
  rec_check_one_disconnect(k.r, good_alias, ACTNET_DISCONNECT_REASON_PEER_CLOSED, false, "well-behaved TLS client");
  /* No hostile client ever became a CONNECT. */
  rec_totals t = rec_get_totals(k.r);
  CHECK(t.conns == 1 && t.connects == 1);
  CHECK(inspect_u64(node, k.server, "tls handshake failures") == failures0 + HOSTILE);
  char line[1024] = "";
  for (int i = 0; i < KINDS; i++) {
    size_t len = strlen(line);
    if (i == K_RESET || i == K_FIN)
      snprintf(line + len, sizeof line - len, "%s%s: counted", len ? "; " : "", kind_names[i]);
    else
      snprintf(line + len, sizeof line - len, "%s%s: closed after %lld..%lld ms", len ? "; " : "", kind_names[i],
               (long long)fastest[i], (long long)slowest[i]);
  }
  REL_REPORT("[hostile TLS clients] %d clients, no CONNECT, %d handshake failures counted; %s", HOSTILE, HOSTILE, line);
  REL_REPORT("[hostile TLS clients] well-behaved TLS client: %d round trips (%d while the hostile ones ran), slowest "
             "%lld ms",
             rt, during, (long long)max_rtt);
  CHECK(during >= 20);
  rel_case_finish(&k, 0);

  CHECK_OK(actnet_certmanager_free(server_cm));
  int64_t end = now_ms() + WAIT_MS;
  while (open_fd_count() != fds0) {
    CHECK(now_ms() < end);
    sleep_ms(1);
  }
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  CHECK_OK(actnet_certmanager_free(client_cm));
  CHECK_OK(actnet_pool_free(pool));
  printf("test_hostile_tls: ok\n");
  return 0;
}
