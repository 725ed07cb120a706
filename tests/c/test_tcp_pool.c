/* Buffer pools: pool-owned DATA and pool-owned writes.
 *
 * - With a read_buffer_pool, every DATA carries msg->buf holding exactly msg->data/len
 *   (raw mode, and framed mode).
 * - Writes arrive byte-exact: handing the received buffer back (actnet_tcp_write_buf), a
 *   borrowed write of the bytes (actnet_tcp_write), and a buffer from actnet_pool_get filled
 *   through actnet_buf_data + actnet_buf_set_len; also 300 KB echoed through write_buf.
 * - actnet_tcp_write_buf then actnet_buf_free of the same buffer gives DOUBLE_FREE; so does a
 *   second actnet_buf_free; a failed write_buf (dead alias) leaves the buffer with the caller.
 * - Buffers a handler keeps are counted as outstanding (and an idle connection holds none);
 *   once every buffer is freed or written and the clients left, actnet_pool_stats_get shows
 *   outstanding 0, and so does inspect of the server ("pool outstanding").
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;
static actnet_pool *pool;

enum mode { ECHO_BUF, BORROWED, NEW_BUF, WRITE_THEN_FREE, KEEP };
static volatile int mode; /* set by the test thread between connections */

enum { MAX_KEPT = 16 };
static actnet_buf *kept[MAX_KEPT];
static int nkept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static int32_t act(void *ctx, actnet_node *n, actnet_pid pid, const actnet_message *m, tev *ev, bool *taken) {
  (void)ctx;
  (void)pid;
  if (m->kind != ACTNET_MSG_DATA || !m->buf) return 0;
  switch (mode) {
    case ECHO_BUF:
      ev->status = (int32_t)actnet_tcp_write_buf(n, m->alias, m->buf);
      *taken = ev->status == ACTNET_STATUS_OK;
      break;
    case BORROWED:
      ev->status = (int32_t)actnet_tcp_write(n, m->alias, m->data, m->len);
      break;
    case NEW_BUF: {
      actnet_buf *b = NULL;
      CHECK_OK(actnet_pool_get(pool, &b));
      CHECK(actnet_buf_len(b) == 0 && actnet_buf_capacity(b) >= 4096);
      uint8_t *d = actnet_buf_data(b);
      memcpy(d, "re:", 3);
      memcpy(d + 3, m->data, m->len);
      CHECK_OK(actnet_buf_set_len(b, 3 + m->len));
      ev->status = (int32_t)actnet_tcp_write_buf(n, m->alias, b);
      if (ev->status != ACTNET_STATUS_OK) CHECK_OK(actnet_buf_free(b));
      break;
    }
    case WRITE_THEN_FREE:
      CHECK_OK(actnet_tcp_write_buf(n, m->alias, m->buf));
      ev->status = (int32_t)actnet_buf_free(m->buf);
      *taken = true;
      break;
    case KEEP:
      pthread_mutex_lock(&kept_lock);
      CHECK(nkept < MAX_KEPT);
      kept[nkept++] = m->buf;
      pthread_mutex_unlock(&kept_lock);
      *taken = true;
      break;
  }
  return 0;
}

static actnet_pool_stats stats(void) {
  actnet_pool_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  CHECK_OK(actnet_pool_stats_get(pool, &s));
  return s;
}

static bool wait_outstanding(uint64_t n) {
  int64_t end = now_ms() + WAIT_MS;
  while (stats().outstanding != n) {
    if (now_ms() > end) {
      fprintf(stderr, "pool outstanding is %llu, waited for %llu\n", (unsigned long long)stats().outstanding,
              (unsigned long long)n);
      return false;
    }
    sleep_ms(1);
  }
  return true;
}

static void expect_pool_data(tq *q, actnet_alias conn, const char *text, actnet_status status) {
  tev e;
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  CHECK(e.had_buf && e.data_in_buf);
  CHECK(e.len == strlen(text) && memcmp(e.data, text, e.len) == 0);
  CHECK_STATUS(e.status, status);
  tev_clear(&e);
}

static void exchange(int fd, const char *send, const char *want) {
  char buf[128];
  size_t n = strlen(want);
  net_write_all(fd, send, strlen(send));
  CHECK(net_read_exact(fd, buf, n, WAIT_MS));
  if (memcmp(buf, want, n) != 0) {
    fprintf(stderr, "read \"%.*s\", wanted \"%s\"\n", (int)n, buf, want);
    exit(1);
  }
}

typedef struct writer {
  int fd;
  size_t len;
} writer;

static void *write_pattern(void *arg) {
  writer *w = arg;
  uint8_t chunk[8192];
  for (size_t off = 0; off < w->len; off += sizeof chunk) {
    size_t n = w->len - off < sizeof chunk ? w->len - off : sizeof chunk;
    net_pattern(chunk, n, off, 42);
    net_write_all(w->fd, chunk, n);
  }
  return NULL;
}

int main(void) {
  node = test_node_start();
  CHECK_STATUS(actnet_pool_new(0, 4, &pool), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_OK(actnet_pool_new(4096, 4, &pool));
  actnet_pool_stats s0 = stats();
  CHECK(s0.buffer_size == 4096 && s0.outstanding == 0 && s0.allocated == 0 && s0.idle == 0);
  /* 0.2: an older caller's smaller struct is filled as far as it goes; larger is refused */
  actnet_pool_stats bad;
  memset(&bad, 0xAA, sizeof bad);
  bad.struct_size = sizeof bad + 8;
  CHECK_STATUS(actnet_pool_stats_get(pool, &bad), ACTNET_STATUS_STRUCT_SIZE);
  bad.struct_size = 3;
  CHECK_STATUS(actnet_pool_stats_get(pool, &bad), ACTNET_STATUS_STRUCT_SIZE);
  bad.struct_size = (uint32_t)offsetof(actnet_pool_stats, allocated);
  CHECK_OK(actnet_pool_stats_get(pool, &bad));
  CHECK(bad.buffer_size == 4096);
  CHECK(bad.allocated == UINT64_C(0xAAAAAAAAAAAAAAAA)); /* past its struct_size: untouched */

  tq *q = tq_new();
  tq_set_action(q, act, NULL);
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.read_buffer_pool = pool;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);

  /* Handing the received buffer back as a write. */
  mode = ECHO_BUF;
  int fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  const char *msgs[] = {"first", "second message", "3"};
  for (int i = 0; i < 3; i++) {
    exchange(fd, msgs[i], msgs[i]);
    expect_pool_data(q, conn, msgs[i], ACTNET_STATUS_OK);
  }
  /* 300 KB through write_buf echoes. */
  writer wr = {fd, 300 * 1024};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, write_pattern, &wr) == 0);
  uint8_t *back = malloc(wr.len);
  CHECK(back != NULL);
  CHECK(net_read_exact(fd, back, wr.len, 2 * WAIT_MS));
  CHECK(pthread_join(th, NULL) == 0);
  size_t bad_at = net_pattern_check(back, wr.len, 0, 42);
  if (bad_at != (size_t)-1) {
    fprintf(stderr, "echoed stream differs at %zu\n", bad_at);
    exit(1);
  }
  free(back);
  size_t seen = 0;
  while (seen < wr.len) {
    tev e;
    tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
    CHECK(e.had_buf && e.data_in_buf && e.len <= 4096);
    CHECK_STATUS(e.status, ACTNET_STATUS_OK);
    seen += e.len;
    tev_clear(&e);
  }
  CHECK(seen == wr.len);
  CHECK(wait_outstanding(0)); /* every echoed buffer went back once written */
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);

  /* A borrowed write of the bytes (the tq frees the buffer). */
  mode = BORROWED;
  fd = net_connect(port);
  conn = tq_expect_connect(q);
  exchange(fd, "borrowed bytes", "borrowed bytes");
  expect_pool_data(q, conn, "borrowed bytes", ACTNET_STATUS_OK);
  /* A buffer of our own, filled and written. */
  mode = NEW_BUF;
  exchange(fd, "abc", "re:abc");
  expect_pool_data(q, conn, "abc", ACTNET_STATUS_OK);
  /* write_buf then free: the free is refused (the runtime holds it). */
  mode = WRITE_THEN_FREE;
  exchange(fd, "mine?", "mine?");
  expect_pool_data(q, conn, "mine?", ACTNET_STATUS_DOUBLE_FREE);

  /* Kept buffers are outstanding; an idle connection holds none of its own. */
  mode = KEEP;
  for (int i = 0; i < 3; i++) {
    net_write_all(fd, "keep", 4);
    expect_pool_data(q, conn, "keep", ACTNET_STATUS_OK);
  }
  CHECK(wait_outstanding(3));
  check_inspect(node, conn, "pool outstanding", "3");
  check_inspect(node, server, "pool outstanding", "3");
  /* From the test thread: write one kept buffer, free the others. */
  pthread_mutex_lock(&kept_lock);
  CHECK(nkept == 3);
  actnet_buf *k0 = kept[0], *k1 = kept[1], *k2 = kept[2];
  nkept = 0;
  pthread_mutex_unlock(&kept_lock);
  CHECK(actnet_buf_len(k0) == 4 && memcmp(actnet_buf_data(k0), "keep", 4) == 0);
  CHECK_OK(actnet_tcp_write_buf(node, conn, k0));
  char buf[16];
  CHECK(net_read_exact(fd, buf, 4, WAIT_MS));
  CHECK(memcmp(buf, "keep", 4) == 0);
  CHECK_STATUS(actnet_buf_free(k0), ACTNET_STATUS_DOUBLE_FREE);
  CHECK_OK(actnet_buf_free(k1));
  CHECK_STATUS(actnet_buf_free(k1), ACTNET_STATUS_DOUBLE_FREE);
  CHECK(actnet_buf_data(k1) == NULL && actnet_buf_len(k1) == 0 && actnet_buf_capacity(k1) == 0);
  CHECK_OK(actnet_buf_free(k2));
  CHECK(wait_outstanding(0));

  /* A buffer from actnet_pool_get on the test thread. */
  actnet_buf *b = NULL;
  CHECK_OK(actnet_pool_get(pool, &b));
  CHECK(actnet_buf_len(b) == 0);
  size_t cap = actnet_buf_capacity(b);
  CHECK(cap >= 4096);
  CHECK_STATUS(actnet_buf_set_len(b, cap + 1), ACTNET_STATUS_INVALID_ARGUMENT);
  net_pattern(actnet_buf_data(b), cap, 0, 9);
  CHECK_OK(actnet_buf_set_len(b, cap));
  CHECK(wait_outstanding(1));
  CHECK_OK(actnet_tcp_write_buf(node, conn, b));
  uint8_t *whole = malloc(cap);
  CHECK(whole != NULL);
  CHECK(net_read_exact(fd, whole, cap, WAIT_MS));
  CHECK(net_pattern_check(whole, cap, 0, 9) == (size_t)-1);
  free(whole);
  CHECK_STATUS(actnet_buf_free(b), ACTNET_STATUS_DOUBLE_FREE);
  CHECK_STATUS(actnet_buf_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_write_buf(node, conn, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(wait_outstanding(0));

  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);

  /* A failed write_buf leaves the buffer with the caller. */
  CHECK_OK(actnet_pool_get(pool, &b));
  memcpy(actnet_buf_data(b), "orphan", 6);
  CHECK_OK(actnet_buf_set_len(b, 6));
  CHECK(wait_inspect(node, server, "connections", "0", WAIT_MS));
  actnet_status st = actnet_tcp_write_buf(node, conn, b);
  CHECK(st == ACTNET_STATUS_NOT_FOUND || st == ACTNET_STATUS_CLOSED);
  CHECK(actnet_buf_len(b) == 6);
  CHECK_OK(actnet_buf_free(b));

  /* Framed DATA with a pool carries a buffer too. */
  actnet_tcp_server_options fo;
  server_options(&fo);
  test_conn_options tc_fo;
  fo.connection = test_conn_options_init(&tc_fo);
  tc_fo.conn.read_buffer_pool = pool;
  tc_fo.chunk.enable = true;
  tc_fo.chunk.fixed_length = 6;
  uint16_t fport = 0;
  actnet_alias fserver = server_spawn(node, owner, &fo, &fport);
  mode = BORROWED;
  fd = net_connect(fport);
  conn = tq_expect_connect(q);
  net_write_all(fd, "framedframed", 12);
  CHECK(net_read_exact(fd, buf, 12, WAIT_MS));
  CHECK(memcmp(buf, "framedframed", 12) == 0);
  expect_pool_data(q, conn, "framed", ACTNET_STATUS_OK);
  expect_pool_data(q, conn, "framed", ACTNET_STATUS_OK);
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);

  /* Everything went back, as the pool and inspect both show. */
  CHECK(wait_outstanding(0));
  actnet_pool_stats s = stats();
  CHECK(s.idle <= 4 && s.allocated == s.idle);
  CHECK(s.allocations >= 1);
  check_inspect(node, server, "pool outstanding", "0");
  check_inspect(node, fserver, "pool outstanding", "0");

  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  CHECK(stats().outstanding == 0);
  CHECK_OK(actnet_pool_free(pool));
  tq_release(q);
  printf("test_tcp_pool: ok\n");
  return 0;
}
