/* soak: mixed traffic against an in-process actnet node for a given time, watching for
 * anything that grows without bound (issue 6, point 3; bench/README.md, "Soak").
 *
 *   soak [--seconds S] [--certs DIR] [--idle N] [--churn-threads N] [--threads N] [--arenas N]
 *
 * The node serves, over 127.0.0.1:
 *   raw      echo, raw mode (the owner echoes every DATA)
 *   framed   echo, 4-byte length header, a pool of two workers under a supervisor; a frame
 *            whose payload starts with "FAIL" makes its worker fail (the supervisor restarts
 *            it; connections routed to the failed worker are closed)
 *   pooled   echo, 2-byte length header, DATA in pool buffers written back as they are
 *   tls      echo over TLS (certificates of tests/tls/make_certs.sh in --certs; without
 *            --certs there is no TLS traffic), pool buffers
 * and runs, until the time is up:
 *   - churn threads (raw sockets): connect to raw, framed or pooled, exchange 1-20 messages
 *     (every echo checked byte for byte), then close; one connection in 10 is reset after its
 *     echoes, one in 10 reset in the middle of a frame; now and then a FAIL frame;
 *   - --idle connections held open to raw, one replaced every 100 ms;
 *   - two TLS client threads: actnet TLS client connections (handshake, echoes, terminate or
 *     abort) owned by processes of the same node;
 *   - local messaging: tokens circling a ring of 8 processes, and a thread making calls;
 *   - a supervisor whose two children are told to fail 4 times a second (and restarted).
 * Every second it prints elapsed time, RSS (VmRSS), the heap in use (glibc's mallinfo2: with
 * RSS, it tells growth from fragmentation; it counts the main malloc arena only, so the soak
 * limits glibc to one arena unless --arenas says otherwise, 0 meaning glibc's default), open fds, live connections (the servers'
 * "connections"), outstanding pool buffers, live processes and meta-processes, and messages,
 * bytes and connections per second.
 *
 * Verdict (exit 1 on failure): no echo may be wrong or missing and no unexpected error may
 * occur; the average RSS and fd count of the last 10% of the traffic may not exceed those of a
 * reference window after warm-up (the 10% after the first 10%, at least 10 s) by more than
 * 10% + 4 MiB and 20% + 16 fds; and once traffic stops, connections, pool buffers, processes,
 * meta-processes and fds must return to their values before the traffic (bounded wait).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "actnet.h"

#define IO_TIMEOUT_MS 10000 /* every wait of a client is bounded by this */
#define SETTLE_MS 15000     /* after the traffic, for the counts to return to their baseline */

enum { K_RAW = 0, K_FRAMED = 1, K_POOLED = 2, K_TLS = 3, NSERVERS = 4 };
static const char *kind_names[NSERVERS] = {"raw", "framed", "pooled", "tls"};

/* ---------------------------------------------------------------- counters */

static atomic_bool stopping;
static atomic_ullong c_msgs, c_bytes, c_conns, c_restarts, c_errors, c_server_closes, c_mailbox_full, c_calls;
static atomic_int live_procs;

static void fail_now(const char *what, actnet_status s) {
  fprintf(stderr, "soak: %s: %s\n", what, actnet_status_str(s));
  exit(1);
}
#define CHECK_OK(expr)                                   \
  do {                                                   \
    actnet_status s_ = (expr);                           \
    if (s_ != ACTNET_STATUS_OK) fail_now(#expr, s_);     \
  } while (0)

static void soak_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void soak_error(const char *fmt, ...) {
  unsigned long long n = atomic_fetch_add(&c_errors, 1);
  if (n < 20) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "soak: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
  }
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static uint64_t rnd(uint64_t *s) { /* xorshift64* */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* ---------------------------------------------------------------- process accounting */

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  }
  fclose(f);
  return kb;
}

/* Bytes the C allocator (also Rust's) has handed out and not taken back, in KiB: glibc's
 * mallinfo2, which counts the main arena only. -1 where unknown. */
static long heap_kb(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return (long)((mi.uordblks + mi.hblkhd) / 1024);
#else
  return -1;
#endif
}

static int fd_count(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n - 1;
}

/* ---------------------------------------------------------------- the node's side */

static actnet_node *node;
static actnet_pool *pool_plain, *pool_tls;

static int32_t counted_init(void *u, actnet_node *n, actnet_pid pid, const uint8_t *a, size_t l, void **s) {
  (void)u, (void)n, (void)pid, (void)a, (void)l, (void)s;
  atomic_fetch_add(&live_procs, 1);
  return 0;
}

static void counted_terminate(void *u, actnet_node *n, actnet_pid pid, void *s, uint32_t reason, int32_t code) {
  (void)u, (void)n, (void)pid, (void)s, (void)code;
  atomic_fetch_sub(&live_procs, 1);
  if (reason == ACTNET_EXIT_ERROR) atomic_fetch_add(&c_restarts, 1);
}

/* Echo: every DATA back to its connection (a pool buffer as it is). A framed worker fails on
 * a "FAIL" frame. Also answers CALLs with their bytes. */
static int32_t echo_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)pid, (void)s;
  bool framed = u != NULL;
  if (m->kind == ACTNET_MSG_DATA) {
    atomic_fetch_add(&c_msgs, 1);
    atomic_fetch_add(&c_bytes, m->len);
    if (framed && m->len >= 8 && memcmp(m->data + 4, "FAIL", 4) == 0) return 13;
    actnet_status st;
    if (m->buf) {
      st = actnet_tcp_write_buf(n, m->alias, m->buf);
      if (st != ACTNET_STATUS_OK) CHECK_OK(actnet_buf_free(m->buf));
    } else {
      st = actnet_tcp_write(n, m->alias, m->data, m->len);
    }
    /* the peer may have reset meanwhile; a full write queue would be a bug here (the clients
     * read every echo before they send again) */
    if (st != ACTNET_STATUS_OK && st != ACTNET_STATUS_CLOSED && st != ACTNET_STATUS_NOT_FOUND) {
      soak_error("echo write: %s", actnet_status_str(st));
    }
  } else if (m->kind == ACTNET_MSG_CALL) {
    atomic_fetch_add(&c_msgs, 1);
    actnet_status st = actnet_process_reply(n, m->reference, m->data, m->len);
    if (st != ACTNET_STATUS_OK) soak_error("reply: %s", actnet_status_str(st));
  }
  return 0;
}

/* The ring: a USER token with a hop count goes on to the next process until it is 0. */
#define RING 8
static actnet_pid ring[RING];
static int32_t ring_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)u, (void)pid, (void)s;
  if (m->kind != ACTNET_MSG_USER || m->len != 8) return 0;
  atomic_fetch_add(&c_msgs, 1);
  uint64_t token[1];
  memcpy(token, m->data, 8);
  uint32_t hops = (uint32_t)token[0], at = (uint32_t)(token[0] >> 32);
  if (hops == 0) return 0;
  uint64_t next = ((uint64_t)((at + 1) % RING) << 32) | (hops - 1);
  actnet_status st = actnet_message_send(n, ring[(at + 1) % RING], 1, (const uint8_t *)&next, 8);
  if (st == ACTNET_STATUS_MAILBOX_FULL) atomic_fetch_add(&c_mailbox_full, 1);
  else if (st != ACTNET_STATUS_OK && !atomic_load(&stopping)) soak_error("ring send: %s", actnet_status_str(st));
  return 0;
}

/* A crash child: fails on every USER message. */
static int32_t crash_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)u, (void)n, (void)pid, (void)s;
  if (m->kind == ACTNET_MSG_USER) {
    atomic_fetch_add(&c_msgs, 1);
    return 99;
  }
  return 0;
}

/* A TLS client slot: the owner process of one TLS client thread's connections. */
typedef struct tls_slot {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint8_t *data;
  size_t have, cap;
  bool connected, disconnected;
  uint32_t reason;
  actnet_pid owner;
} tls_slot;

static int32_t tls_client_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)n, (void)pid, (void)s;
  tls_slot *t = u;
  pthread_mutex_lock(&t->lock);
  if (m->kind == ACTNET_MSG_CONNECT) t->connected = true;
  if (m->kind == ACTNET_MSG_DATA) {
    size_t take = m->len;
    if (t->have + take > t->cap) take = t->cap - t->have;
    memcpy(t->data + t->have, m->data, take);
    t->have += take;
    if (m->buf) actnet_buf_free(m->buf);
  }
  if (m->kind == ACTNET_MSG_DISCONNECT) {
    t->disconnected = true;
    t->reason = m->reason;
  }
  pthread_cond_broadcast(&t->cond);
  pthread_mutex_unlock(&t->lock);
  return 0;
}

static actnet_behavior *behavior(actnet_handle_fn handle, void *user_data) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.init = counted_init;
  cb.handle_message = handle;
  cb.terminate = counted_terminate;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, user_data, NULL, &b));
  return b;
}

static actnet_pid spawn(actnet_behavior *b, const char *name) {
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.name = name;
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));
  return pid;
}

/* ---------------------------------------------------------------- sockets */

static uint16_t ports[NSERVERS];
static actnet_alias servers[NSERVERS]; /* {0} for a server not started (tls without --certs) */
static actnet_pid owners[NSERVERS];

static int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static bool write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Reads exactly n bytes within IO_TIMEOUT_MS: 0 ok, 1 EOF or reset, 2 timeout or error. */
static int read_exact(int fd, uint8_t *p, size_t n) {
  int64_t end = now_ms() + IO_TIMEOUT_MS;
  while (n > 0) {
    int left = (int)(end - now_ms());
    if (left <= 0) return 2;
    struct pollfd pf = {fd, POLLIN, 0};
    int r = poll(&pf, 1, left);
    if (r == 0) return 2;
    if (r < 0) {
      if (errno == EINTR) continue;
      return 2;
    }
    ssize_t got = recv(fd, p, n, 0);
    if (got == 0) return 1;
    if (got < 0) return (errno == ECONNRESET) ? 1 : 2;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

static void close_reset(int fd) {
  struct linger l = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

/* One message of a server's framing, with `payload` random bytes: its size. */
static size_t build(int kind, uint8_t *out, size_t payload, uint64_t *rng) {
  size_t h = kind == K_FRAMED ? 4 : kind == K_POOLED ? 2 : 0;
  if (kind == K_FRAMED) {
    out[0] = 0;
    out[1] = (uint8_t)(payload >> 16);
    out[2] = (uint8_t)(payload >> 8);
    out[3] = (uint8_t)payload;
  } else if (kind == K_POOLED) {
    out[0] = (uint8_t)(payload >> 8);
    out[1] = (uint8_t)payload;
  }
  for (size_t i = 0; i < payload; i++) out[h + i] = (uint8_t)rnd(rng);
  if (kind == K_FRAMED && payload >= 4 && memcmp(out + h, "FAIL", 4) == 0) out[h] = 'f';
  return h + payload;
}

/* ---------------------------------------------------------------- churn clients */

static void *churn_thread(void *arg) {
  uint64_t rng = (uint64_t)(uintptr_t)arg * UINT64_C(0x9E3779B97F4A7C15) + 1;
  uint8_t *out = malloc(16384), *in = malloc(16384);
  while (!atomic_load(&stopping)) {
    int kind = (int)(rnd(&rng) % 3);
    int fd = connect_to(ports[kind]);
    if (fd < 0) {
      soak_error("connect to %s: %s", kind_names[kind], strerror(errno));
      sleep_ms(10);
      continue;
    }
    atomic_fetch_add(&c_conns, 1);
    int n = 1 + (int)(rnd(&rng) % 20);
    int ending = (int)(rnd(&rng) % 10);
    bool fail_frame = kind == K_FRAMED && rnd(&rng) % 150 == 0;
    bool closed_by_server = false;
    for (int i = 0; i < n && !closed_by_server; i++) {
      size_t payload = kind == K_RAW ? 1 + rnd(&rng) % 4096 : rnd(&rng) % (kind == K_FRAMED ? 8192 : 2000);
      size_t len = build(kind, out, payload, &rng);
      if (fail_frame && i == n - 1) { /* the last frame fails its worker: no echo */
        len = build(kind, out, 16, &rng);
        memcpy(out + 4, "FAIL", 4);
        if (!write_all(fd, out, len)) break;
        int r = read_exact(fd, in, 1);
        if (r != 1) soak_error("a FAIL frame: the connection was not closed (%d)", r);
        closed_by_server = true;
        break;
      }
      if (!write_all(fd, out, len)) {
        if (kind == K_FRAMED) { /* its worker failed (another client's FAIL frame) */
          closed_by_server = true;
          atomic_fetch_add(&c_server_closes, 1);
          break;
        }
        soak_error("write to %s: %s", kind_names[kind], strerror(errno));
        break;
      }
      int r = read_exact(fd, in, len);
      if (r == 1 && kind == K_FRAMED) {
        closed_by_server = true;
        atomic_fetch_add(&c_server_closes, 1);
      } else if (r != 0) {
        soak_error("echo from %s: %s", kind_names[kind], r == 1 ? "closed" : "timed out");
        break;
      } else if (memcmp(in, out, len) != 0) {
        soak_error("echo from %s: wrong bytes", kind_names[kind]);
        break;
      }
    }
    if (closed_by_server) close(fd);
    else if (ending == 0) close_reset(fd);
    else if (ending == 1) { /* reset in the middle of a frame */
      size_t len = build(kind, out, 100 + rnd(&rng) % 1000, &rng);
      write_all(fd, out, len / 2);
      close_reset(fd);
    } else {
      close(fd);
    }
  }
  free(out);
  free(in);
  return NULL;
}

/* ---------------------------------------------------------------- idle connections */

static int idle_count = 200;

static void *idle_thread(void *arg) {
  (void)arg;
  uint64_t rng = 77;
  int *fds = calloc((size_t)idle_count, sizeof *fds);
  for (int i = 0; i < idle_count; i++) {
    fds[i] = connect_to(ports[K_RAW]);
    if (fds[i] < 0) soak_error("idle connect: %s", strerror(errno));
    else atomic_fetch_add(&c_conns, 1);
  }
  while (!atomic_load(&stopping)) {
    sleep_ms(100);
    int i = (int)(rnd(&rng) % (uint64_t)idle_count);
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = connect_to(ports[K_RAW]);
    if (fds[i] < 0) soak_error("idle connect: %s", strerror(errno));
    else atomic_fetch_add(&c_conns, 1);
  }
  for (int i = 0; i < idle_count; i++) {
    if (fds[i] >= 0) close(fds[i]);
  }
  free(fds);
  return NULL;
}

/* ---------------------------------------------------------------- TLS clients */

static actnet_certmanager *client_cm;

static bool tls_wait(tls_slot *t, size_t have, bool disconnect) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += IO_TIMEOUT_MS / 1000;
  pthread_mutex_lock(&t->lock);
  bool ok = true;
  while (disconnect ? !t->disconnected : (t->have < have && !t->disconnected)) {
    if (pthread_cond_timedwait(&t->cond, &t->lock, &ts) != 0) {
      ok = false;
      break;
    }
  }
  if (!disconnect && t->have < have) ok = false;
  pthread_mutex_unlock(&t->lock);
  return ok;
}

static void *tls_thread(void *arg) {
  tls_slot *t = arg;
  uint64_t rng = t->owner.id * 31 + 7;
  uint8_t *out = malloc(t->cap);
  while (!atomic_load(&stopping)) {
    pthread_mutex_lock(&t->lock);
    t->have = 0;
    t->connected = t->disconnected = false;
    pthread_mutex_unlock(&t->lock);
    actnet_tcp_client_options co;
    CHECK_OK(actnet_tcp_client_options_init(&co));
    co.host = "127.0.0.1";
    co.port = ports[K_TLS];
    co.tls = true;
    co.tls_certmanager = client_cm;
    co.tls_server_name = "localhost";
    co.connect_timeout_ms = IO_TIMEOUT_MS;
    co.tls_handshake_timeout_ms = IO_TIMEOUT_MS;
    actnet_alias conn = {0};
    actnet_status st = actnet_tcp_connect(node, t->owner, &co, &conn);
    if (st != ACTNET_STATUS_OK) {
      if (!atomic_load(&stopping)) soak_error("TLS connect: %s", actnet_status_str(st));
      sleep_ms(10);
      continue;
    }
    atomic_fetch_add(&c_conns, 1);
    int n = 1 + (int)(rnd(&rng) % 10);
    size_t total = 0;
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
      size_t len = 1 + rnd(&rng) % 4000;
      for (size_t k = 0; k < len; k++) out[total + k] = (uint8_t)rnd(&rng);
      st = actnet_tcp_write(node, conn, out + total, len);
      if (st != ACTNET_STATUS_OK) {
        soak_error("TLS write: %s", actnet_status_str(st));
        ok = false;
        break;
      }
      total += len;
      if (!tls_wait(t, total, false)) {
        soak_error("TLS echo: missing (%zu of %zu bytes)", t->have, total);
        ok = false;
      }
    }
    pthread_mutex_lock(&t->lock);
    if (ok && memcmp(t->data, out, total) != 0) soak_error("TLS echo: wrong bytes");
    pthread_mutex_unlock(&t->lock);
    CHECK_OK(rnd(&rng) % 5 == 0 ? actnet_meta_abort(node, conn) : actnet_meta_terminate(node, conn));
    if (!tls_wait(t, 0, true)) soak_error("TLS: no DISCONNECT after closing");
  }
  free(out);
  return NULL;
}

/* ---------------------------------------------------------------- local messaging */

static actnet_pid answer_pid;

static void *ring_thread(void *arg) {
  (void)arg;
  uint32_t at = 0;
  while (!atomic_load(&stopping)) {
    for (int i = 0; i < 4; i++) {
      uint64_t token = ((uint64_t)at << 32) | 50;
      actnet_status st = actnet_message_send(node, ring[at], 1, (const uint8_t *)&token, 8);
      if (st == ACTNET_STATUS_MAILBOX_FULL) atomic_fetch_add(&c_mailbox_full, 1);
      else if (st != ACTNET_STATUS_OK) soak_error("ring inject: %s", actnet_status_str(st));
      at = (at + 1) % RING;
    }
    sleep_ms(10);
  }
  return NULL;
}

static void *call_thread(void *arg) {
  (void)arg;
  uint64_t rng = 5;
  uint8_t req[64];
  while (!atomic_load(&stopping)) {
    for (size_t i = 0; i < sizeof req; i++) req[i] = (uint8_t)rnd(&rng);
    actnet_buf *reply = NULL;
    actnet_status st = actnet_process_call(node, answer_pid, 1, req, sizeof req, IO_TIMEOUT_MS, &reply);
    if (st != ACTNET_STATUS_OK) {
      soak_error("call: %s", actnet_status_str(st));
    } else {
      if (actnet_buf_len(reply) != sizeof req || memcmp(actnet_buf_data(reply), req, sizeof req) != 0) {
        soak_error("call: wrong reply");
      }
      CHECK_OK(actnet_buf_free(reply));
      atomic_fetch_add(&c_calls, 1);
    }
    sleep_ms(1);
  }
  return NULL;
}

static void *crash_thread(void *arg) {
  (void)arg;
  int k = 0;
  while (!atomic_load(&stopping)) {
    sleep_ms(250);
    const char *name = k++ % 2 ? "soak_crash_1" : "soak_crash_0";
    actnet_status st = actnet_message_send_name(node, name, 1, NULL, 0);
    /* NOT_FOUND: between the failure and the restart */
    if (st != ACTNET_STATUS_OK && st != ACTNET_STATUS_NOT_FOUND) soak_error("crash send: %s", actnet_status_str(st));
  }
  return NULL;
}

/* ---------------------------------------------------------------- figures */

/* The number under `key` in an inspect result, which it frees; UINT64_MAX if absent. */
static uint64_t info_u64(actnet_info *info, const char *key) {
  const char *v = actnet_info_get(info, key);
  uint64_t x = v ? strtoull(v, NULL, 10) : UINT64_MAX;
  actnet_info_free(info);
  return x;
}

static uint64_t meta_u64(actnet_alias alias, const char *key) {
  actnet_info *info = NULL;
  if (actnet_meta_inspect(node, alias, &info) != ACTNET_STATUS_OK) return UINT64_MAX;
  return info_u64(info, key);
}

static uint64_t process_u64(actnet_pid pid, const char *key) {
  actnet_info *info = NULL;
  if (actnet_process_inspect(node, pid, &info) != ACTNET_STATUS_OK) return UINT64_MAX;
  return info_u64(info, key);
}

static actnet_pid tls_owner_pids[2];
static int nsupervisors;

/* A supervisor of two children of behaviour `b`, registered as names[0] and names[1]. */
static void spawn_supervisor(actnet_behavior *b, const char *const names[2]) {
  actnet_child_spec specs[2];
  for (int i = 0; i < 2; i++) {
    CHECK_OK(actnet_child_spec_init(&specs[i]));
    specs[i].name = names[i];
    specs[i].behavior = b;
  }
  actnet_supervisor_options sup;
  CHECK_OK(actnet_supervisor_options_init(&sup));
  sup.intensity = 1000000; /* never gives up: failures are part of the traffic */
  sup.period_ms = 1000;
  sup.children = specs;
  sup.children_len = 2;
  actnet_pid sv = {0};
  CHECK_OK(actnet_supervisor_spawn(node, &sup, &sv));
  nsupervisors++;
}

typedef struct sample {
  int t;
  long rss, heap;
  int fds;
  uint64_t conns, bufs, metas;
  int procs;
} sample;

static sample take(int t) {
  sample s;
  memset(&s, 0, sizeof s);
  s.t = t;
  s.rss = rss_kb();
  s.heap = heap_kb();
  s.fds = fd_count();
  for (int k = 0; k < NSERVERS; k++) {
    if (!servers[k].id) continue;
    uint64_t c = meta_u64(servers[k], "connections");
    if (c != UINT64_MAX) s.conns += c;
  }
  actnet_pool_stats st;
  CHECK_OK(actnet_pool_stats_init(&st));
  CHECK_OK(actnet_pool_stats_get(pool_plain, &st));
  s.bufs = st.outstanding;
  CHECK_OK(actnet_pool_stats_get(pool_tls, &st));
  s.bufs += st.outstanding;
  s.metas = s.conns;
  for (int k = 0; k < NSERVERS; k++) {
    if (!owners[k].id) continue;
    uint64_t m = process_u64(owners[k], "meta-processes");
    if (m != UINT64_MAX) s.metas += m;
  }
  for (int i = 0; i < 2; i++) {
    if (!tls_owner_pids[i].id) continue;
    uint64_t m = process_u64(tls_owner_pids[i], "meta-processes");
    if (m != UINT64_MAX) s.metas += m;
  }
  s.procs = atomic_load(&live_procs) + nsupervisors;
  return s;
}

enum { F_RSS, F_HEAP, F_FDS };
static double avg_of(const sample *v, int from, int to, int field) {
  double sum = 0;
  int n = 0;
  for (int i = from; i < to; i++, n++) sum += field == F_RSS ? (double)v[i].rss : field == F_HEAP ? (double)v[i].heap : (double)v[i].fds;
  return n ? sum / n : 0;
}

static void usage(void) {
  fprintf(stderr, "usage: soak [--seconds S] [--certs DIR] [--idle N] [--churn-threads N] [--threads N] [--arenas N]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int seconds = 600, churn_threads = 4, worker_threads = 0, arenas = 1;
  const char *certs = NULL;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "--seconds") == 0) seconds = atoi(argv[++i]);
    else if (strcmp(argv[i], "--certs") == 0) certs = argv[++i];
    else if (strcmp(argv[i], "--idle") == 0) idle_count = atoi(argv[++i]);
    else if (strcmp(argv[i], "--churn-threads") == 0) churn_threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0) worker_threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--arenas") == 0) arenas = atoi(argv[++i]);
    else usage();
  }
  if (seconds < 20 || idle_count < 1 || churn_threads < 1 || churn_threads > 64 || arenas < 0) usage();
#ifdef __GLIBC__
  if (arenas > 0) mallopt(M_ARENA_MAX, arenas); /* before any thread allocates */
#endif
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  actnet_node_options no;
  CHECK_OK(actnet_node_options_init(&no));
  no.worker_threads = (uint32_t)worker_threads;
  no.name = "soak";
  CHECK_OK(actnet_node_start(&no, &node));
  CHECK_OK(actnet_pool_new(4096, 64, &pool_plain));
  CHECK_OK(actnet_pool_new(16384, 16, &pool_tls));

  actnet_behavior *echo = behavior(echo_handle, NULL);
  actnet_behavior *framed_echo = behavior(echo_handle, (void *)1);
  actnet_behavior *ringb = behavior(ring_handle, NULL);
  actnet_behavior *crash = behavior(crash_handle, NULL);

  /* servers */
  for (int k = 0; k < NSERVERS; k++) {
    if (k == K_TLS && !certs) continue;
    actnet_tcp_server_options o;
    actnet_tcp_connection_options conn;
    actnet_chunk_options chunk; /* framing off unless enabled below */
    CHECK_OK(actnet_tcp_server_options_init(&o));
    CHECK_OK(actnet_tcp_connection_options_init(&conn));
    CHECK_OK(actnet_chunk_options_init(&chunk));
    conn.read_chunk = &chunk;
    o.connection = &conn;
    o.host = "127.0.0.1";
    owners[k] = spawn(echo, NULL);
    static const char *workers[] = {"soak_framed_0", "soak_framed_1"};
    if (k == K_FRAMED) {
      spawn_supervisor(framed_echo, workers);
      o.process_pool = workers;
      o.process_pool_len = 2;
      chunk.enable = true;
      chunk.header_size = 4;
      chunk.header_length_size = 4;
      chunk.max_length = 1 << 20;
    }
    if (k == K_POOLED) {
      conn.read_buffer_pool = pool_plain;
      chunk.enable = true;
      chunk.header_size = 2;
      chunk.header_length_size = 2;
    }
    actnet_certmanager *m = NULL;
    if (k == K_TLS) {
      char cert[4096], key[4096], ca[4096];
      snprintf(cert, sizeof cert, "%s/server.pem", certs);
      snprintf(key, sizeof key, "%s/server.key", certs);
      snprintf(ca, sizeof ca, "%s/ca.pem", certs);
      CHECK_OK(actnet_certmanager_new(&m));
      CHECK_OK(actnet_certmanager_set_cert_files(m, NULL, cert, key));
      CHECK_OK(actnet_certmanager_new(&client_cm));
      CHECK_OK(actnet_certmanager_set_ca_file(client_cm, ca));
      o.tls_certmanager = m;
      conn.read_buffer_pool = pool_tls;
    }
    CHECK_OK(actnet_tcp_server_spawn(node, owners[k], &o, &servers[k], &ports[k]));
    if (m) CHECK_OK(actnet_certmanager_free(m));
  }

  /* local messaging and crashing children */
  for (int i = 0; i < RING; i++) ring[i] = spawn(ringb, NULL);
  answer_pid = spawn(echo, NULL);
  static const char *crashers[] = {"soak_crash_0", "soak_crash_1"};
  spawn_supervisor(crash, crashers);

  /* TLS client owners */
  tls_slot slots[2];
  actnet_behavior *tlsb[2] = {NULL, NULL};
  int ntls = certs ? 2 : 0;
  for (int i = 0; i < ntls; i++) {
    memset(&slots[i], 0, sizeof slots[i]);
    pthread_mutex_init(&slots[i].lock, NULL);
    pthread_cond_init(&slots[i].cond, NULL);
    slots[i].cap = 64 * 1024;
    slots[i].data = malloc(slots[i].cap);
    tlsb[i] = behavior(tls_client_handle, &slots[i]);
    slots[i].owner = tls_owner_pids[i] = spawn(tlsb[i], NULL);
  }

  sample base = take(0);
  printf("[soak] %d s of traffic: servers raw :%u, framed :%u (2 workers), pooled :%u, tls %s; %d churn threads, "
         "%d idle connections, %d TLS client threads, a ring of %d processes, calls, 2 crashing children\n",
         seconds, ports[K_RAW], ports[K_FRAMED], ports[K_POOLED], certs ? "on" : "off (no --certs)", churn_threads,
         idle_count, ntls, RING);
  printf("[soak] malloc arenas: %s\n", arenas > 0 ? (arenas == 1 ? "1 (the heap figure counts every allocation)" : "limited (the heap figure counts the main arena only)") : "glibc's default (the heap figure counts the main arena only)");
  printf("[soak] baseline: rss %ld KiB, fds %d, connections %llu, pool buffers %llu, processes %d, meta-processes %llu\n",
         base.rss, base.fds, (unsigned long long)base.conns, (unsigned long long)base.bufs, base.procs,
         (unsigned long long)base.metas);
  fflush(stdout);

  pthread_t th[80];
  int nth = 0;
  for (int i = 0; i < churn_threads; i++) pthread_create(&th[nth++], NULL, churn_thread, (void *)(uintptr_t)(i + 1));
  pthread_create(&th[nth++], NULL, idle_thread, NULL);
  for (int i = 0; i < ntls; i++) pthread_create(&th[nth++], NULL, tls_thread, &slots[i]);
  pthread_create(&th[nth++], NULL, ring_thread, NULL);
  pthread_create(&th[nth++], NULL, call_thread, NULL);
  pthread_create(&th[nth++], NULL, crash_thread, NULL);

  sample *samples = calloc((size_t)seconds + 1, sizeof *samples);
  int64_t t0 = now_ms();
  unsigned long long last_msgs = 0, last_bytes = 0, last_conns = 0;
  for (int t = 1; t <= seconds; t++) {
    int64_t wake = t0 + (int64_t)t * 1000;
    while (now_ms() < wake) sleep_ms((int)(wake - now_ms()));
    sample s = take(t);
    samples[t - 1] = s;
    unsigned long long msgs = atomic_load(&c_msgs), bytes = atomic_load(&c_bytes), conns = atomic_load(&c_conns);
    printf("[soak] t=%4ds rss=%7ld KiB heap=%7ld KiB fds=%5d conns=%5llu bufs=%4llu procs=%3d metas=%5llu msgs/s=%7llu "
           "MB/s=%6.2f conns/s=%5llu restarts=%llu errors=%llu\n",
           t, s.rss, s.heap, s.fds, (unsigned long long)s.conns, (unsigned long long)s.bufs, s.procs,
           (unsigned long long)s.metas, msgs - last_msgs, (double)(bytes - last_bytes) / 1e6, conns - last_conns,
           (unsigned long long)atomic_load(&c_restarts), (unsigned long long)atomic_load(&c_errors));
    fflush(stdout);
    last_msgs = msgs;
    last_bytes = bytes;
    last_conns = conns;
  }

  /* stop the traffic */
  atomic_store(&stopping, true);
  for (int i = 0; i < nth; i++) pthread_join(th[i], NULL);
  int64_t settle_start = now_ms();
  sample end = take(seconds + 1);
  while (now_ms() - settle_start < SETTLE_MS) {
    end = take(seconds + 1);
    if (end.fds == base.fds && end.conns == base.conns && end.bufs == base.bufs && end.procs == base.procs &&
        end.metas == base.metas)
      break;
    sleep_ms(10);
  }
  int64_t settled_ms = now_ms() - settle_start;

  /* the verdict */
  int failures = 0;
  unsigned long long errors = atomic_load(&c_errors);
  if (errors) {
    printf("[soak] FAIL: %llu errors (the first ones are on stderr)\n", errors);
    failures++;
  }
  int n = seconds;
  int warm = n / 10 < 10 ? 10 : n / 10;
  int win = n / 10 < 5 ? 5 : n / 10;
  double rss_ref = avg_of(samples, warm, warm + win, F_RSS), rss_end = avg_of(samples, n - win, n, F_RSS);
  double heap_ref = avg_of(samples, warm, warm + win, F_HEAP), heap_end = avg_of(samples, n - win, n, F_HEAP);
  double fds_ref = avg_of(samples, warm, warm + win, F_FDS), fds_end = avg_of(samples, n - win, n, F_FDS);
  printf("[soak] RSS: %.0f KiB on average in seconds %d-%d, %.0f KiB in the last %d s (%+.1f%%)\n", rss_ref, warm + 1,
         warm + win, rss_end, win, 100.0 * (rss_end - rss_ref) / rss_ref);
  if (heap_ref > 0) {
    printf("[soak] heap in use (malloc): %.0f KiB on average in seconds %d-%d, %.0f KiB in the last %d s (%+.1f%%)\n",
           heap_ref, warm + 1, warm + win, heap_end, win, 100.0 * (heap_end - heap_ref) / heap_ref);
  }
  printf("[soak] fds: %.1f on average in seconds %d-%d, %.1f in the last %d s\n", fds_ref, warm + 1, warm + win,
         fds_end, win);
  if (rss_end > rss_ref * 1.10 + 4096) {
    printf("[soak] FAIL: RSS grew by more than 10%% + 4 MiB\n");
    failures++;
  }
  if (fds_end > fds_ref * 1.20 + 16) {
    printf("[soak] FAIL: the fd count grew by more than 20%% + 16\n");
    failures++;
  }
  printf("[soak] after the traffic (%lld ms): fds %d (baseline %d), connections %llu (%llu), pool buffers %llu "
         "(%llu), processes %d (%d), meta-processes %llu (%llu), rss %ld KiB\n",
         (long long)settled_ms, end.fds, base.fds, (unsigned long long)end.conns, (unsigned long long)base.conns,
         (unsigned long long)end.bufs, (unsigned long long)base.bufs, end.procs, base.procs,
         (unsigned long long)end.metas, (unsigned long long)base.metas, end.rss);
  if (end.fds != base.fds || end.conns != base.conns || end.bufs != base.bufs || end.procs != base.procs ||
      end.metas != base.metas) {
    printf("[soak] FAIL: not back to the baseline within %d ms\n", SETTLE_MS);
    failures++;
  }
  printf("[soak] totals: %llu connections, %llu messages, %.1f MB echoed, %llu calls, %llu restarts, %llu connections "
         "closed by a failing worker, %llu ring sends refused (mailbox full)\n",
         (unsigned long long)atomic_load(&c_conns), (unsigned long long)atomic_load(&c_msgs),
         (double)atomic_load(&c_bytes) / 1e6, (unsigned long long)atomic_load(&c_calls),
         (unsigned long long)atomic_load(&c_restarts), (unsigned long long)atomic_load(&c_server_closes),
         (unsigned long long)atomic_load(&c_mailbox_full));

  int64_t stop0 = now_ms();
  CHECK_OK(actnet_node_stop(node));
  printf("[soak] node stopped in %lld ms\n", (long long)(now_ms() - stop0));
  CHECK_OK(actnet_node_free(node));
  for (int i = 0; i < ntls; i++) {
    CHECK_OK(actnet_behavior_free(tlsb[i]));
    free(slots[i].data);
  }
  CHECK_OK(actnet_behavior_free(echo));
  CHECK_OK(actnet_behavior_free(framed_echo));
  CHECK_OK(actnet_behavior_free(ringb));
  CHECK_OK(actnet_behavior_free(crash));
  if (client_cm) CHECK_OK(actnet_certmanager_free(client_cm));
  CHECK_OK(actnet_pool_free(pool_plain));
  CHECK_OK(actnet_pool_free(pool_tls));
  free(samples);
  printf("[soak] %s\n", failures ? "FAIL" : "ok");
  return failures ? 1 : 0;
}
