#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- sockets */

static struct sockaddr_in loopback(uint16_t port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int new_socket(int rcvbuf, int sndbuf) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  if (rcvbuf > 0) CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == 0);
  if (sndbuf > 0) CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == 0);
  return fd;
}

int net_try_connect(uint16_t port) {
  int fd = new_socket(0, 0);
  struct sockaddr_in a = loopback(port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int net_connect_bufs(uint16_t port, int rcvbuf, int sndbuf) {
  int fd = new_socket(rcvbuf, sndbuf);
  struct sockaddr_in a = loopback(port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    fprintf(stderr, "connect to 127.0.0.1:%u failed: %s\n", port, strerror(errno));
    exit(1);
  }
  int one = 1;
  CHECK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
  return fd;
}

int net_connect(uint16_t port) { return net_connect_bufs(port, 0, 0); }

bool net_try_write_all(int fd, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

void net_write_all(int fd, const void *data, size_t len) {
  if (!net_try_write_all(fd, data, len)) {
    fprintf(stderr, "write of %zu bytes failed: %s\n", len, strerror(errno));
    exit(1);
  }
}

bool net_readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int64_t end = now_ms() + timeout_ms;
  for (;;) {
    int left = (int)(end - now_ms());
    if (left < 0) left = 0;
    int r = poll(&p, 1, left);
    if (r > 0) return true;
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
}

net_end net_read_some(int fd, void *buf, size_t cap, int timeout_ms, size_t *got) {
  *got = 0;
  if (!net_readable(fd, timeout_ms)) return NET_TIMEOUT;
  for (;;) {
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    if (n > 0) {
      *got = (size_t)n;
      return NET_DATA;
    }
    if (n == 0) return NET_EOF;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return NET_RESET;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      /* spurious readiness: wait again within the same budget */
      if (!net_readable(fd, timeout_ms)) return NET_TIMEOUT;
      continue;
    }
    return NET_ERROR;
  }
}

const char *net_end_str(net_end e) {
  switch (e) {
    case NET_DATA: return "data";
    case NET_EOF: return "EOF";
    case NET_RESET: return "reset";
    case NET_TIMEOUT: return "timeout";
    default: return "error";
  }
}

bool net_read_exact(int fd, void *buf, size_t n, int timeout_ms) {
  uint8_t *p = buf;
  size_t have = 0;
  int64_t end = now_ms() + timeout_ms;
  while (have < n) {
    int left = (int)(end - now_ms());
    if (left < 0) left = 0;
    size_t got = 0;
    net_end e = net_read_some(fd, p + have, n - have, left, &got);
    if (e != NET_DATA) {
      fprintf(stderr, "read_exact: %s after %zu of %zu bytes\n", net_end_str(e), have, n);
      return false;
    }
    have += got;
  }
  return true;
}

net_end net_read_to_end(int fd, void *buf, size_t cap, int timeout_ms, size_t *got) {
  uint8_t *p = buf;
  uint8_t scratch[4096];
  *got = 0;
  int64_t end = now_ms() + timeout_ms;
  for (;;) {
    int left = (int)(end - now_ms());
    if (left < 0) left = 0;
    size_t n = 0;
    bool into_buf = *got < cap;
    net_end e = into_buf ? net_read_some(fd, p + *got, cap - *got, left, &n)
                         : net_read_some(fd, scratch, sizeof scratch, left, &n);
    if (e != NET_DATA) return e;
    *got += n;
  }
}

void net_close_reset(int fd) {
  struct linger l = {1, 0};
  CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0);
  CHECK(close(fd) == 0);
}

void net_shutdown_write(int fd) { CHECK(shutdown(fd, SHUT_WR) == 0); }

static void format_addr(const struct sockaddr_in *a, char *out, size_t out_len) {
  char ip[INET_ADDRSTRLEN];
  CHECK(inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip) != NULL);
  snprintf(out, out_len, "%s:%u", ip, ntohs(a->sin_port));
}

void net_sockname(int fd, char *out, size_t out_len) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  format_addr(&a, out, out_len);
}

void net_peername(int fd, char *out, size_t out_len) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  CHECK(getpeername(fd, (struct sockaddr *)&a, &len) == 0);
  format_addr(&a, out, out_len);
}

int net_find_socket(const char *local, const char *peer) {
  for (int fd = 3; fd < 4096; fd++) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (fcntl(fd, F_GETFD) < 0) continue;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0 || a.sin_family != AF_INET) continue;
    char l[64], p[64];
    format_addr(&a, l, sizeof l);
    len = sizeof a;
    if (getpeername(fd, (struct sockaddr *)&a, &len) != 0) continue;
    format_addr(&a, p, sizeof p);
    if (strcmp(l, local) == 0 && strcmp(p, peer) == 0) return fd;
  }
  return -1;
}

int net_listen(int backlog, uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in a = loopback(0);
  CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(listen(fd, backlog) == 0);
  socklen_t len = sizeof a;
  CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  *port = ntohs(a.sin_port);
  return fd;
}

int net_accept(int listen_fd, int timeout_ms) {
  if (!net_readable(listen_fd, timeout_ms)) return -1;
  int fd = accept(listen_fd, NULL, NULL);
  CHECK(fd >= 0);
  return fd;
}

uint16_t net_free_port(void) {
  uint16_t port = 0;
  int fd = net_listen(1, &port);
  CHECK(close(fd) == 0);
  return port;
}

bool net_port_bindable(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  int one = 1;
  CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
  struct sockaddr_in a = loopback(port);
  bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0;
  CHECK(close(fd) == 0);
  return ok;
}

void net_full_listener_open(net_full_listener *l) {
  memset(l, 0, sizeof *l);
  l->fds[0] = net_listen(0, &l->port);
  l->count = 1;
  struct sockaddr_in a = loopback(l->port);
  while (l->count < (int)(sizeof l->fds / sizeof l->fds[0])) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    int r = connect(fd, (struct sockaddr *)&a, sizeof a);
    bool done = r == 0;
    if (!done) {
      CHECK(errno == EINPROGRESS);
      struct pollfd p = {fd, POLLOUT, 0};
      if (poll(&p, 1, 100) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0);
        done = err == 0;
      }
    }
    if (!done) {
      close(fd);
      return; /* the backlog is full: connects no longer complete */
    }
    l->fds[l->count++] = fd;
  }
  fprintf(stderr, "the backlog of a listen(0) socket never filled\n");
  exit(1);
}

void net_full_listener_close(net_full_listener *l) {
  for (int i = 0; i < l->count; i++) close(l->fds[i]);
  l->count = 0;
}

static uint8_t pattern_byte(uint64_t off, uint32_t seed) {
  uint64_t x = off * UINT64_C(0x9E3779B97F4A7C15) + seed;
  x ^= x >> 29;
  x *= UINT64_C(0xBF58476D1CE4E5B9);
  x ^= x >> 32;
  return (uint8_t)x;
}

void net_pattern(uint8_t *buf, size_t len, uint64_t offset, uint32_t seed) {
  for (size_t i = 0; i < len; i++) buf[i] = pattern_byte(offset + i, seed);
}

size_t net_pattern_check(const uint8_t *buf, size_t len, uint64_t offset, uint32_t seed) {
  for (size_t i = 0; i < len; i++)
    if (buf[i] != pattern_byte(offset + i, seed)) return i;
  return (size_t)-1;
}

/* ---------------------------------------------------------------- inspect helpers */

bool wait_inspect_of(actnet_node *node, any_id id, const char *key, const char *want, int timeout_ms) {
  char v[256] = "";
  int64_t end = now_ms() + timeout_ms;
  for (;;) {
    if (inspect_value_of(node, id, key, v, sizeof v) && strcmp(v, want) == 0) return true;
    if (now_ms() >= end) break;
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "inspect %llu: \"%s\" is \"%s\", waited for \"%s\"\n", (unsigned long long)id.id, key, v,
          want);
  return false;
}

void check_inspect_of(actnet_node *node, any_id id, const char *key, const char *want) {
  char v[256];
  if (!inspect_value_of(node, id, key, v, sizeof v)) {
    fprintf(stderr, "inspect %llu: no key \"%s\"\n", (unsigned long long)id.id, key);
    exit(1);
  }
  if (strcmp(v, want) != 0) {
    fprintf(stderr, "inspect %llu: \"%s\" is \"%s\", wanted \"%s\"\n", (unsigned long long)id.id, key, v,
            want);
    exit(1);
  }
}

uint64_t inspect_u64_of(actnet_node *node, any_id id, const char *key) {
  char v[256];
  if (!inspect_value_of(node, id, key, v, sizeof v)) {
    fprintf(stderr, "inspect %llu: no key \"%s\"\n", (unsigned long long)id.id, key);
    exit(1);
  }
  char *end = NULL;
  unsigned long long n = strtoull(v, &end, 10);
  CHECK(end != v && *end == 0);
  return n;
}

void check_inspect_gone_of(actnet_node *node, any_id id) {
  actnet_info *info = NULL;
  CHECK_STATUS(inspect_any(node, id, &info), ACTNET_STATUS_NOT_FOUND);
  CHECK(info == NULL);
}

/* ---------------------------------------------------------------- the tq behaviour */

typedef struct tq_node {
  tev ev;
  struct tq_node *next;
} tq_node;

struct tq {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  tq_node *head, *tail;
  int refs;
  bool echo;
  int delay_us;
  gate *first_data_gate;
  bool gate_passed;
  tq_action action;
  void *action_ctx;
};

tq *tq_new(void) {
  tq *q = calloc(1, sizeof *q);
  CHECK(q != NULL);
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->cond, NULL);
  q->refs = 1;
  return q;
}

void tq_set_echo(tq *q, bool echo) { q->echo = echo; }
void tq_set_delay_us(tq *q, int delay_us) { q->delay_us = delay_us; }
void tq_set_gate(tq *q, gate *g) { q->first_data_gate = g; }
void tq_set_action(tq *q, tq_action action, void *ctx) {
  q->action = action;
  q->action_ctx = ctx;
}

void tev_clear(tev *e) {
  free(e->data);
  e->data = NULL;
}

static void tq_unref(void *user_data) {
  tq *q = user_data;
  pthread_mutex_lock(&q->lock);
  int left = --q->refs;
  pthread_mutex_unlock(&q->lock);
  if (left > 0) return;
  while (q->head) {
    tq_node *n = q->head;
    q->head = n->next;
    tev_clear(&n->ev);
    free(n);
  }
  pthread_mutex_destroy(&q->lock);
  pthread_cond_destroy(&q->cond);
  free(q);
}

void tq_release(tq *q) { tq_unref(q); }

static void tq_push(tq *q, const tev *e) {
  tq_node *n = calloc(1, sizeof *n);
  CHECK(n != NULL);
  n->ev = *e;
  pthread_mutex_lock(&q->lock);
  if (q->tail) q->tail->next = n;
  else q->head = n;
  q->tail = n;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
}

static int32_t tq_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                         const actnet_message *m) {
  (void)state;
  tq *q = user_data;
  tev e;
  memset(&e, 0, sizeof e);
  e.kind = m->kind;
  e.pid = pid;
  e.from = m->from;
  e.alias = m->alias;
  e.tag = m->tag;
  e.reference = m->reference;
  e.reason = m->reason;
  e.reason_code = m->reason_code;
  e.len = m->len;
  e.data = malloc(m->len + 1);
  CHECK(e.data != NULL);
  if (m->len) memcpy(e.data, m->data, m->len);
  e.data[m->len] = 0;
  e.had_buf = m->buf != NULL;
  if (m->buf) {
    e.data_in_buf = actnet_buf_data(m->buf) == m->data && actnet_buf_len(m->buf) == m->len;
  }
  if (m->local_addr) snprintf(e.local_addr, sizeof e.local_addr, "%s", m->local_addr);
  if (m->remote_addr) snprintf(e.remote_addr, sizeof e.remote_addr, "%s", m->remote_addr);

  if (m->kind == ACTNET_MSG_DATA) {
    if (q->first_data_gate) {
      pthread_mutex_lock(&q->lock);
      bool first = !q->gate_passed;
      q->gate_passed = true;
      pthread_mutex_unlock(&q->lock);
      if (first) CHECK(gate_wait(q->first_data_gate, 10 * WAIT_MS));
    }
    if (q->delay_us > 0) {
      struct timespec ts = {q->delay_us / 1000000, (long)(q->delay_us % 1000000) * 1000L};
      nanosleep(&ts, NULL);
    }
    if (q->echo) e.status = (int32_t)actnet_tcp_write(node, m->alias, m->data, m->len);
  }
  int32_t rc = 0;
  bool buf_taken = false;
  if (q->action) rc = q->action(q->action_ctx, node, pid, m, &e, &buf_taken);
  if (m->buf && !buf_taken) CHECK_OK(actnet_buf_free(m->buf));
  tq_push(q, &e);
  return rc;
}

actnet_pid tq_spawn(actnet_node *node, tq *q, const char *name, uint32_t mailbox_size) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = tq_handle;
  pthread_mutex_lock(&q->lock);
  q->refs++;
  pthread_mutex_unlock(&q->lock);
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, q, tq_unref, &b));
  return spawn_behavior(node, b, name, mailbox_size);
}

bool tq_next(tq *q, int timeout_ms, tev *out) {
  struct timespec ts;
  deadline_in(&ts, timeout_ms);
  pthread_mutex_lock(&q->lock);
  while (!q->head) {
    if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) != 0 && !q->head) {
      pthread_mutex_unlock(&q->lock);
      return false;
    }
  }
  tq_node *n = q->head;
  q->head = n->next;
  if (!q->head) q->tail = NULL;
  pthread_mutex_unlock(&q->lock);
  *out = n->ev;
  free(n);
  return true;
}

static void describe(const tev *e) {
  fprintf(stderr, "  got %s alias=%llu from=%llu pid=%llu reason=%u", actnet_message_kind_str(e->kind),
          (unsigned long long)e->alias.id, (unsigned long long)e->from.id, (unsigned long long)e->pid.id,
          e->reason);
  if (e->kind == ACTNET_MSG_DISCONNECT) fprintf(stderr, " (%s)", actnet_disconnect_reason_str(e->reason));
  if (e->kind == ACTNET_MSG_DOWN) fprintf(stderr, " (%s, code %d)", actnet_exit_reason_str(e->reason), e->reason_code);
  fprintf(stderr, " len=%zu\n", e->len);
}

void tq_expect(tq *q, uint32_t kind, tev *out) {
  if (!tq_next(q, WAIT_MS, out)) {
    fprintf(stderr, "timed out waiting for a %s message\n", actnet_message_kind_str(kind));
    exit(1);
  }
  if (out->kind != kind) {
    fprintf(stderr, "wanted a %s message next\n", actnet_message_kind_str(kind));
    describe(out);
    exit(1);
  }
}

void tq_expect_for_id(tq *q, uint32_t kind, any_id id, tev *out) {
  tq_expect(q, kind, out);
  uint64_t about = id.meta ? out->alias.id : out->from.id;
  if (about != id.id) {
    fprintf(stderr, "wanted a %s message about %s %llu\n", actnet_message_kind_str(kind),
            id.meta ? "alias" : "pid", (unsigned long long)id.id);
    describe(out);
    exit(1);
  }
}

bool tq_quiet(tq *q, int timeout_ms) {
  tev e;
  if (!tq_next(q, timeout_ms, &e)) return true;
  fprintf(stderr, "unexpected message:\n");
  describe(&e);
  tev_clear(&e);
  return false;
}

actnet_alias tq_expect_connect(tq *q) {
  tev e;
  tq_expect(q, ACTNET_MSG_CONNECT, &e);
  CHECK(e.alias.id != 0);
  CHECK(e.local_addr[0] != 0 && e.remote_addr[0] != 0);
  actnet_alias alias = e.alias;
  tev_clear(&e);
  return alias;
}

void tq_monitor_id(actnet_node *node, actnet_pid watcher_pid, any_id target) {
  uint64_t ref = 0;
  CHECK_OK(monitor_any(node, watcher_pid, target, &ref));
}

uint32_t exit_reason_for(uint32_t r) {
  switch (r) {
    case ACTNET_DISCONNECT_REASON_PEER_CLOSED:
    case ACTNET_DISCONNECT_REASON_CLOSED: return ACTNET_EXIT_NORMAL;
    case ACTNET_DISCONNECT_REASON_PARENT_DOWN:
    case ACTNET_DISCONNECT_REASON_NODE_STOPPING: return ACTNET_EXIT_SHUTDOWN;
    default: return ACTNET_EXIT_DISCONNECTED;
  }
}

void expect_disconnect_once(actnet_node *node, tq *target, tq *watcher, actnet_alias conn, uint32_t reason,
                            uint32_t exit_reason) {
  tev e;
  tq_expect_for(target, ACTNET_MSG_DISCONNECT, conn, &e);
  if (e.reason != reason) {
    fprintf(stderr, "DISCONNECT of %llu with reason %u (%s), wanted %u (%s)\n", (unsigned long long)conn.id,
            e.reason, actnet_disconnect_reason_str(e.reason), reason, actnet_disconnect_reason_str(reason));
    exit(1);
  }
  tev_clear(&e);
  CHECK(tq_quiet(target, 200)); /* exactly one DISCONNECT, nothing after it */
  if (!watcher) return;
  tq_expect_for(watcher, ACTNET_MSG_DOWN, conn, &e);
  if (e.reason != exit_reason ||
      (exit_reason == ACTNET_EXIT_DISCONNECTED && e.reason_code != (int32_t)reason)) {
    fprintf(stderr, "DOWN of %llu: %s code %d, wanted %s code %u\n", (unsigned long long)conn.id,
            actnet_exit_reason_str(e.reason), e.reason_code, actnet_exit_reason_str(exit_reason), reason);
    exit(1);
  }
  tev_clear(&e);
  CHECK_STATUS(actnet_tcp_write(node, conn, (const uint8_t *)"late", 4), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_meta_terminate(node, conn), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_meta_abort(node, conn), ACTNET_STATUS_NOT_FOUND);
  check_inspect_gone(node, conn);
}

void server_options(actnet_tcp_server_options *o) {
  CHECK_OK(actnet_tcp_server_options_init(o));
  o->host = "127.0.0.1";
  o->port = 0;
}

actnet_alias server_spawn(actnet_node *node, actnet_pid owner, const actnet_tcp_server_options *o, uint16_t *port) {
  actnet_alias alias = {0};
  uint16_t p = 0;
  CHECK_OK(actnet_tcp_server_spawn(node, owner, o, &alias, &p));
  CHECK(alias.id != 0 && p != 0);
  if (port) *port = p;
  return alias;
}
