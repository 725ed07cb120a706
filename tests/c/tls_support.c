#include "tls_support.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- certificates */

static char cert_dir[1024];

void tls_init(int argc, char **argv) {
  const char *dir = getenv("ACTNET_TLS_CERTS");
  if (argc > 1) dir = argv[1];
  if (!dir || !*dir) {
    fprintf(stderr, "no certificate directory: set ACTNET_TLS_CERTS or pass it as the first argument\n"
                    "(make one with: sh tests/tls/make_certs.sh DIR)\n");
    exit(1);
  }
  snprintf(cert_dir, sizeof cert_dir, "%s", dir);
  struct stat st;
  if (stat(tls_path("ca.pem"), &st) != 0) {
    fprintf(stderr, "%s: %s\n", tls_path("ca.pem"), strerror(errno));
    exit(1);
  }
}

const char *tls_path(const char *name) {
  static char ring[16][1200];
  static int next;
  char *out = ring[next++ % 16];
  snprintf(out, sizeof ring[0], "%s/%s", cert_dir, name);
  return out;
}

uint8_t *tls_read(const char *name, size_t *len) {
  const char *path = tls_path(name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    exit(1);
  }
  size_t cap = 4096, n = 0;
  uint8_t *data = malloc(cap);
  CHECK(data != NULL);
  for (;;) {
    if (n + 1 >= cap) {
      cap *= 2;
      data = realloc(data, cap);
      CHECK(data != NULL);
    }
    size_t got = fread(data + n, 1, cap - n - 1, f);
    if (got == 0) break;
    n += got;
  }
  CHECK(!ferror(f));
  fclose(f);
  data[n] = 0;
  *len = n;
  return data;
}

void tls_set_cert(actnet_certmanager *m, const char *sni, const char *cert, const char *key) {
  size_t clen = 0, klen = 0;
  uint8_t *c = tls_read(cert, &clen);
  uint8_t *k = tls_read(key, &klen);
  CHECK_OK(actnet_certmanager_set_cert_pem(m, sni, c, clen, k, klen));
  free(c);
  free(k);
}

void tls_set_cert_files(actnet_certmanager *m, const char *sni, const char *cert, const char *key) {
  CHECK_OK(actnet_certmanager_set_cert_files(m, sni, tls_path(cert), tls_path(key)));
}

actnet_certmanager *tls_manager(const char *cert, const char *key, const char *ca) {
  actnet_certmanager *m = NULL;
  CHECK_OK(actnet_certmanager_new(&m));
  CHECK(m != NULL);
  if (cert) tls_set_cert(m, NULL, cert, key);
  if (ca) CHECK_OK(actnet_certmanager_set_ca_file(m, tls_path(ca)));
  return m;
}

/* ---------------------------------------------------------------- TLS fields of CONNECT */

static void copy_field(tls_str *dst, const char *src) {
  dst->set = src != NULL;
  snprintf(dst->s, sizeof dst->s, "%s", src ? src : "");
}

static int32_t tls_action(void *ctx, actnet_node *node, actnet_pid pid, const actnet_message *m, tev *ev,
                          bool *buf_taken) {
  (void)pid;
  bool echo = ctx != NULL;
  if (m->kind == ACTNET_MSG_CONNECT) {
    /* CONNECT has no bytes: the event's data carries the TLS fields instead. */
    tls_seen *seen = calloc(1, sizeof *seen);
    CHECK(seen != NULL);
    copy_field(&seen->version, m->tls_version);
    copy_field(&seen->cipher, m->tls_cipher);
    copy_field(&seen->alpn, m->tls_alpn);
    copy_field(&seen->server_name, m->tls_server_name);
    copy_field(&seen->peer_subject, m->tls_peer_subject);
    free(ev->data);
    ev->data = (uint8_t *)seen;
    ev->len = sizeof *seen;
  } else if (m->kind == ACTNET_MSG_DATA && echo) {
    if (m->buf) {
      actnet_status s = actnet_tcp_write_buf(node, m->alias, m->buf);
      if (s == ACTNET_STATUS_OK) *buf_taken = true;
      ev->status = (int32_t)s;
    } else {
      ev->status = (int32_t)actnet_tcp_write(node, m->alias, m->data, m->len);
    }
  }
  return 0;
}

tq *tls_tq_new(bool echo) {
  static int echo_marker;
  tq *q = tq_new();
  tq_set_action(q, tls_action, echo ? (void *)&echo_marker : NULL);
  return q;
}

const tls_seen *tls_of(const tev *e) {
  CHECK(e->kind == ACTNET_MSG_CONNECT && e->len == sizeof(tls_seen));
  return (const tls_seen *)e->data;
}

actnet_alias tls_expect_connect(tq *q, tls_seen *seen) {
  tev e;
  tq_expect(q, ACTNET_MSG_CONNECT, &e);
  CHECK(e.alias.id != 0);
  CHECK(e.local_addr[0] != 0 && e.remote_addr[0] != 0);
  if (seen) *seen = *tls_of(&e);
  actnet_alias alias = e.alias;
  tev_clear(&e);
  return alias;
}

void tls_check_contains_at(const tls_str *s, const char *part, const char *what, const char *file, int line) {
  if (!s->set || !strstr(s->s, part)) {
    fprintf(stderr, "%s:%d: %s is %s%s%s, wanted it to contain \"%s\"\n", file, line, what, s->set ? "\"" : "",
            s->set ? s->s : "NULL", s->set ? "\"" : "", part);
    exit(1);
  }
}

void tls_check_equals_at(const tls_str *s, const char *want, const char *what, const char *file, int line) {
  if (!s->set || strcmp(s->s, want) != 0) {
    fprintf(stderr, "%s:%d: %s is %s%s%s, wanted \"%s\"\n", file, line, what, s->set ? "\"" : "",
            s->set ? s->s : "NULL", s->set ? "\"" : "", want);
    exit(1);
  }
}

/* ---------------------------------------------------------------- connections */

void tls_server_options(actnet_tcp_server_options *o, const actnet_certmanager *m) {
  server_options(o);
  o->tls_certmanager = m;
}

void tls_client_options(actnet_tcp_client_options *c, uint16_t port, const actnet_certmanager *m,
                        const char *server_name) {
  CHECK_OK(actnet_tcp_client_options_init(c));
  c->host = "127.0.0.1";
  c->port = port;
  c->connect_timeout_ms = WAIT_MS;
  c->tls = true;
  c->tls_certmanager = m;
  c->tls_server_name = server_name;
}

void tls_expect_bytes(tq *q, actnet_alias conn, const void *data, size_t len) {
  uint8_t *got = malloc(len ? len : 1);
  CHECK(got != NULL);
  size_t have = 0;
  while (have < len) {
    tev e;
    tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
    if (have + e.len > len) {
      fprintf(stderr, "expected %zu bytes: got %zu\n", len, have + e.len);
      exit(1);
    }
    memcpy(got + have, e.data, e.len);
    have += e.len;
    tev_clear(&e);
  }
  if (memcmp(got, data, len) != 0) {
    fprintf(stderr, "expected %zu bytes: the bytes differ\n", len);
    exit(1);
  }
  free(got);
}

void tls_roundtrip(actnet_node *node, tq *q, actnet_alias conn, const void *data, size_t len) {
  CHECK_OK(actnet_tcp_write(node, conn, data, len));
  tls_expect_bytes(q, conn, data, len);
}

void tls_roundtrip_str(actnet_node *node, tq *q, actnet_alias conn, const char *text) {
  tls_roundtrip(node, q, conn, text, strlen(text));
}

static void expect_reason(tq *q, actnet_alias conn, uint32_t reason) {
  tev e;
  tq_expect_for(q, ACTNET_MSG_DISCONNECT, conn, &e);
  if (e.reason != reason) {
    fprintf(stderr, "DISCONNECT of %llu with reason %u (%s), wanted %u (%s)\n", (unsigned long long)conn.id, e.reason,
            actnet_disconnect_reason_str(e.reason), reason, actnet_disconnect_reason_str(reason));
    exit(1);
  }
  tev_clear(&e);
}

void tls_close_pair(actnet_node *node, tq *cq, actnet_alias conn, tq *sq, actnet_alias sconn) {
  CHECK_OK(actnet_meta_terminate(node, conn));
  expect_reason(cq, conn, ACTNET_DISCONNECT_REASON_CLOSED);
  expect_reason(sq, sconn, ACTNET_DISCONNECT_REASON_PEER_CLOSED);
}

const char *tls_expect_refused(actnet_node *node, tq *q, actnet_status status, actnet_alias conn) {
  if (status != ACTNET_STATUS_OK) {
    if (status != ACTNET_STATUS_CERTIFICATE_INVALID && status != ACTNET_STATUS_TLS_ERROR) {
      fprintf(stderr, "a refused TLS client: actnet_tcp_connect returned %u (%s)\n", (unsigned)status,
              actnet_status_str(status));
      exit(1);
    }
    CHECK(tq_quiet(q, 100));
    return status == ACTNET_STATUS_TLS_ERROR ? "connect: TLS error" : "connect: certificate invalid";
  }
  tev e;
  tq_expect_for(q, ACTNET_MSG_CONNECT, conn, &e);
  tev_clear(&e);
  tq_expect_for(q, ACTNET_MSG_DISCONNECT, conn, &e);
  uint32_t reason = e.reason;
  tev_clear(&e);
  if (reason != ACTNET_DISCONNECT_REASON_TLS_ERROR && reason != ACTNET_DISCONNECT_REASON_RESET &&
      reason != ACTNET_DISCONNECT_REASON_PEER_CLOSED) {
    fprintf(stderr, "a refused TLS client: DISCONNECT reason %u (%s)\n", reason, actnet_disconnect_reason_str(reason));
    exit(1);
  }
  CHECK(tq_quiet(q, 100));
  /* The alias goes away: writes are refused from now on, never accepted. */
  int64_t end = now_ms() + WAIT_MS;
  for (;;) {
    actnet_status s = actnet_tcp_write(node, conn, (const uint8_t *)"x", 1);
    if (s == ACTNET_STATUS_NOT_FOUND) break;
    if (s != ACTNET_STATUS_CLOSED || now_ms() > end) {
      fprintf(stderr, "a write after DISCONNECT of a refused TLS client returned %u (%s)\n", (unsigned)s,
              actnet_status_str(s));
      exit(1);
    }
    sleep_ms(1);
  }
  switch (reason) {
    case ACTNET_DISCONNECT_REASON_TLS_ERROR: return "CONNECT, then DISCONNECT (TLS error)";
    case ACTNET_DISCONNECT_REASON_RESET: return "CONNECT, then DISCONNECT (reset)";
    default: return "CONNECT, then DISCONNECT (peer closed)";
  }
}

void tls_check_inspect_none(actnet_node *node, actnet_alias id, const char *key) {
  char v[256] = "";
  if (inspect_value(node, id, key, v, sizeof v) && v[0] != 0) {
    fprintf(stderr, "inspect %llu: \"%s\" is \"%s\", wanted it empty or absent\n", (unsigned long long)id.id, key, v);
    exit(1);
  }
}

bool tls_wait_count(actnet_node *node, actnet_alias id, const char *key, uint64_t want, int timeout_ms) {
  int64_t end = now_ms() + timeout_ms;
  uint64_t v = 0;
  for (;;) {
    v = inspect_u64(node, id, key);
    if (v >= want) return true;
    if (now_ms() >= end) break;
    sleep_ms(1);
  }
  fprintf(stderr, "inspect %llu: \"%s\" is %llu, waited for %llu\n", (unsigned long long)id.id, key,
          (unsigned long long)v, (unsigned long long)want);
  return false;
}

/* ---------------------------------------------------------------- raw peers */

struct raw_peer {
  pthread_t thread;
  int listen_fd;
  uint16_t port;
  const char *answer;
  int deadline_ms;
  net_end end;
  size_t got;
};

static void *raw_peer_main(void *arg) {
  raw_peer *p = arg;
  int64_t end = now_ms() + p->deadline_ms;
  int fd = net_accept(p->listen_fd, p->deadline_ms);
  if (fd < 0) {
    p->end = NET_TIMEOUT;
    return NULL;
  }
  if (p->answer) (void)net_try_write_all(fd, p->answer, strlen(p->answer));
  uint8_t buf[4096];
  int left = (int)(end - now_ms());
  p->end = net_read_to_end(fd, buf, sizeof buf, left > 0 ? left : 0, &p->got);
  close(fd);
  return NULL;
}

raw_peer *raw_peer_start(const char *answer, int deadline_ms) {
  raw_peer *p = calloc(1, sizeof *p);
  CHECK(p != NULL);
  p->listen_fd = net_listen(4, &p->port);
  p->answer = answer;
  p->deadline_ms = deadline_ms;
  CHECK(pthread_create(&p->thread, NULL, raw_peer_main, p) == 0);
  return p;
}

uint16_t raw_peer_port(raw_peer *p) { return p->port; }

net_end raw_peer_finish(raw_peer *p, size_t *got_bytes) {
  CHECK(pthread_join(p->thread, NULL) == 0);
  close(p->listen_fd);
  net_end e = p->end;
  if (got_bytes) *got_bytes = p->got;
  free(p);
  return e;
}
