/* Flow control.
 *
 * - Mailbox policy PAUSE: 1 MiB through a target process with mailbox_size 4 whose handler
 *   is slow (1 ms per DATA): every byte arrives, in order (compared with the sent pattern);
 *   inspect of the connection shows "reading paused" = "true" at some point while the writer
 *   is still blocked in send(), and "false" once everything was handled.
 * - Mailbox policy TERMINATE: with the handler held on its first DATA and a mailbox of 1, the
 *   connection ends with DISCONNECT reason MAILBOX_FULL (a monitor sees DOWN DISCONNECTED /
 *   MAILBOX_FULL while the handler is still held); the target then sees the DATA that fit,
 *   in order, and exactly one DISCONNECT.
 * - WOULD_BLOCK then WRITABLE, from a foreign thread: with write_queue_limit 64 KiB and a
 *   peer that does not read, writes succeed until WOULD_BLOCK (nothing queued: a second try
 *   and a pool-buffer write are refused too, the buffer stays with the caller); no WRITABLE
 *   before the peer reads once the kernels' buffers are full (a WRITABLE while bytes in
 *   flight are still absorbed must be followed by accepted writes); the peer then reads exactly the accepted bytes (no loss, no
 *   duplicate, nothing more) and the process gets exactly one WRITABLE.
 * - The same loop driven by the process: it writes 8 MiB, stopping at each WOULD_BLOCK and
 *   resuming at each WRITABLE (every WRITABLE follows a WOULD_BLOCK); the peer reads exactly
 *   the 8 MiB pattern.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;

typedef struct writer {
  int fd;
  size_t len;
  uint32_t seed;
  atomic_bool done;
} writer;

static void *write_pattern(void *arg) {
  writer *w = arg;
  uint8_t chunk[16384];
  for (size_t off = 0; off < w->len; off += sizeof chunk) {
    size_t n = w->len - off < sizeof chunk ? w->len - off : sizeof chunk;
    net_pattern(chunk, n, off, w->seed);
    net_write_all(w->fd, chunk, n);
  }
  atomic_store(&w->done, true);
  return NULL;
}

static void pause_loses_nothing(void) {
  tq *q = tq_new();
  tq_set_delay_us(q, 1000);
  actnet_pid target = tq_spawn(node, q, NULL, 4);
  check_inspect(node, target, "mailbox capacity", "4");
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.read_buffer_size = 4096;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, target, &o, &port);
  int fd = net_connect_bufs(port, 0, 8192);
  actnet_alias conn = tq_expect_connect(q);

  enum { TOTAL = 1 << 20 };
  writer w = {fd, TOTAL, 11, false};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, write_pattern, &w) == 0);
  uint8_t *got = malloc(TOTAL);
  CHECK(got != NULL);
  size_t have = 0;
  int datas = 0;
  bool paused_while_blocked = false;
  while (have < TOTAL) {
    if (!paused_while_blocked) {
      char v[16];
      if (inspect_value(node, conn, "reading paused", v, sizeof v) && strcmp(v, "true") == 0 &&
          !atomic_load(&w.done))
        paused_while_blocked = true;
    }
    tev e;
    tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
    CHECK(e.len > 0 && e.len <= 4096 && have + e.len <= TOTAL);
    memcpy(got + have, e.data, e.len);
    have += e.len;
    datas++;
    tev_clear(&e);
  }
  CHECK(pthread_join(th, NULL) == 0);
  size_t bad = net_pattern_check(got, TOTAL, 0, 11);
  if (bad != (size_t)-1) {
    fprintf(stderr, "PAUSE: the stream differs at byte %zu\n", bad);
    exit(1);
  }
  free(got);
  if (!paused_while_blocked) {
    fprintf(stderr, "PAUSE: \"reading paused\" was never true while the writer was blocked\n");
    exit(1);
  }
  CHECK(datas >= TOTAL / 4096);
  CHECK(wait_inspect(node, conn, "reading paused", "false", WAIT_MS));
  check_inspect(node, conn, "bytes in", "1048576");
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
  tq_release(q);
}

static void terminate_policy(void) {
  tq *q = tq_new();
  gate *g = gate_new();
  tq_set_gate(q, g);
  actnet_pid target = tq_spawn(node, q, NULL, 1);
  tq *w = tq_new();
  actnet_pid watcher = tq_spawn(node, w, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.read_buffer_size = 16;
  tc_o.conn.mailbox_policy = ACTNET_MAILBOX_POLICY_TERMINATE;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, target, &o, &port);
  int fd = net_connect(port);
  actnet_alias conn = tq_expect_connect(q);
  tq_monitor(node, watcher, conn);
  uint8_t sent[1024];
  net_pattern(sent, sizeof sent, 0, 3);
  net_write_all(fd, sent, sizeof sent);
  /* The handler is held on the first DATA; the connection gives up on its own. */
  CHECK(gate_wait_arrivals(g, 1, WAIT_MS));
  tev e;
  tq_expect_for(w, ACTNET_MSG_DOWN, conn, &e);
  CHECK(e.reason == ACTNET_EXIT_DISCONNECTED && e.reason_code == ACTNET_DISCONNECT_REASON_MAILBOX_FULL);
  tev_clear(&e);
  CHECK_STATUS(actnet_tcp_write(node, conn, (const uint8_t *)"x", 1), ACTNET_STATUS_NOT_FOUND);
  gate_open(g);
  /* What fit in the mailbox, in order, then the one DISCONNECT. */
  size_t have = 0;
  int datas = 0;
  tq_expect(q, ACTNET_MSG_DATA, &e); /* the held one first */
  for (;;) {
    CHECK(e.alias.id == conn.id);
    if (e.kind == ACTNET_MSG_DISCONNECT) break;
    CHECK(e.len == 16 && memcmp(e.data, sent + have, 16) == 0);
    have += e.len;
    datas++;
    tev_clear(&e);
    CHECK(tq_next(q, WAIT_MS, &e));
    CHECK(e.kind == ACTNET_MSG_DATA || e.kind == ACTNET_MSG_DISCONNECT);
  }
  CHECK(e.reason == ACTNET_DISCONNECT_REASON_MAILBOX_FULL);
  tev_clear(&e);
  CHECK(datas >= 1 && datas <= 2); /* the held one, and at most one in a mailbox of 1 */
  CHECK(tq_quiet(q, 200));
  /* The peer sees the end (EOF, or a reset since it had unread bytes in flight). */
  char buf[64];
  size_t got = 0;
  net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got);
  CHECK(end == NET_EOF || end == NET_RESET);
  close(fd);
  CHECK_OK(actnet_meta_terminate(node, server));
  gate_free(g);
  tq_release(q);
  tq_release(w);
}

static void would_block_then_writable(actnet_pool *pool) {
  tq *q = tq_new();
  actnet_pid target = tq_spawn(node, q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.write_queue_limit = 64 * 1024;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, target, &o, &port);
  int fd = net_connect_bufs(port, 4096, 0);
  actnet_alias conn = tq_expect_connect(q);

  enum { CHUNK = 16 * 1024 };
  static uint8_t chunk[CHUNK];
  size_t accepted = 0;
  /* Write until WOULD_BLOCK. The kernels may still absorb bytes that were in flight (ACKs
   * arriving late, e.g. under valgrind), and then the queue drains and WRITABLE is owed
   * without the peer reading: that WRITABLE must be true (writes are accepted again), so
   * fill again, until the socket stays full. */
  for (int round = 0;; round++) {
    CHECK(round < 100);
    for (;;) {
      net_pattern(chunk, CHUNK, accepted, 21);
      actnet_status st = actnet_tcp_write(node, conn, chunk, CHUNK);
      if (st == ACTNET_STATUS_WOULD_BLOCK) break;
      CHECK_OK(st);
      accepted += CHUNK;
      CHECK(accepted < (size_t)64 << 20);
    }
    tev early;
    if (!tq_next(q, SLOW_MS(100), &early)) break; /* full, and stays so */
    CHECK(early.kind == ACTNET_MSG_WRITABLE && early.alias.id == conn.id);
    tev_clear(&early);
  }
  uint64_t queued = inspect_u64(node, conn, "queued write bytes");
  CHECK(queued > 0 && queued <= 64 * 1024);
  /* refused again, nothing queued; a pool buffer is refused and handed back */
  CHECK_STATUS(actnet_tcp_write(node, conn, chunk, CHUNK), ACTNET_STATUS_WOULD_BLOCK);
  actnet_buf *b = NULL;
  CHECK_OK(actnet_pool_get(pool, &b));
  size_t cap = actnet_buf_capacity(b);
  CHECK(cap >= CHUNK);
  memset(actnet_buf_data(b), 'X', CHUNK);
  CHECK_OK(actnet_buf_set_len(b, CHUNK));
  CHECK_STATUS(actnet_tcp_write_buf(node, conn, b), ACTNET_STATUS_WOULD_BLOCK);
  CHECK(actnet_buf_len(b) == CHUNK);
  CHECK_OK(actnet_buf_free(b));
  CHECK(inspect_u64(node, conn, "queued write bytes") <= queued); /* the refused writes added nothing */
  CHECK(tq_quiet(q, 100)); /* no WRITABLE while the peer does not read */

  uint8_t *got = malloc(accepted);
  CHECK(got != NULL);
  CHECK(net_read_exact(fd, got, accepted, WAIT_MS));
  size_t bad = net_pattern_check(got, accepted, 0, 21);
  if (bad != (size_t)-1) {
    fprintf(stderr, "WOULD_BLOCK: the stream differs at byte %zu of %zu\n", bad, accepted);
    exit(1);
  }
  free(got);
  tev e;
  tq_expect_for(q, ACTNET_MSG_WRITABLE, conn, &e);
  CHECK(e.pid.id == target.id);
  tev_clear(&e);
  CHECK(!net_readable(fd, 100)); /* nothing more than what was accepted */
  CHECK(tq_quiet(q, 100));       /* exactly one WRITABLE */
  char s[32];
  snprintf(s, sizeof s, "%zu", accepted);
  check_inspect(node, conn, "bytes out", s);
  check_inspect(node, conn, "queued write bytes", "0");
  CHECK_OK(actnet_tcp_write(node, conn, (const uint8_t *)"again", 5));
  char buf[8];
  CHECK(net_read_exact(fd, buf, 5, WAIT_MS));
  CHECK(memcmp(buf, "again", 5) == 0);
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
  tq_release(q);
}

/* The process-driven loop: USER TAG_START {conn, total} starts writing; WRITABLE resumes. */
#define TAG_START UINT64_C(0x5354415254)
typedef struct pump {
  actnet_alias conn;
  uint64_t total, off;
} pump;

static int32_t pump_action(void *ctx, actnet_node *n, actnet_pid pid, const actnet_message *m, tev *ev, bool *taken) {
  (void)pid;
  (void)taken;
  pump *p = ctx;
  if (m->kind == ACTNET_MSG_USER && m->tag == TAG_START) {
    CHECK(m->len == 2 * sizeof(uint64_t));
    memcpy(&p->conn, m->data, 8);
    memcpy(&p->total, m->data + 8, 8);
    p->off = 0;
  } else if (m->kind != ACTNET_MSG_WRITABLE) {
    return 0;
  }
  static uint8_t chunk[16 * 1024];
  ev->status = ACTNET_STATUS_OK;
  while (p->off < p->total) {
    size_t n_ = p->total - p->off < sizeof chunk ? (size_t)(p->total - p->off) : sizeof chunk;
    net_pattern(chunk, n_, p->off, 33);
    actnet_status st = actnet_tcp_write(n, p->conn, chunk, n_);
    if (st == ACTNET_STATUS_WOULD_BLOCK) {
      ev->status = (int32_t)st;
      break;
    }
    CHECK_OK(st);
    p->off += n_;
  }
  ev->reference = p->off;
  return 0;
}

static void process_driven_writes(void) {
  tq *q = tq_new();
  pump p;
  memset(&p, 0, sizeof p);
  tq_set_action(q, pump_action, &p);
  actnet_pid target = tq_spawn(node, q, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.write_queue_limit = 64 * 1024;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, target, &o, &port);
  int fd = net_connect_bufs(port, 4096, 0);
  actnet_alias conn = tq_expect_connect(q);
  const uint64_t total = 8u << 20;
  uint64_t start[2] = {conn.id, total}; /* the alias travels as its id */
  CHECK_OK(actnet_message_send(node, target, TAG_START, (const uint8_t *)start, sizeof start));
  tev e;
  tq_expect(q, ACTNET_MSG_USER, &e);
  CHECK_STATUS(e.status, ACTNET_STATUS_WOULD_BLOCK); /* 8 MiB cannot all go out at once */
  tev_clear(&e);

  /* The peer reads everything while the process keeps resuming on WRITABLE. */
  uint8_t *got = malloc(total);
  CHECK(got != NULL);
  CHECK(net_read_exact(fd, got, total, 4 * WAIT_MS));
  size_t bad = net_pattern_check(got, total, 0, 33);
  if (bad != (size_t)-1) {
    fprintf(stderr, "process-driven writes: the stream differs at byte %zu\n", bad);
    exit(1);
  }
  free(got);
  int writables = 0;
  for (;;) {
    tq_expect_for(q, ACTNET_MSG_WRITABLE, conn, &e);
    writables++;
    uint64_t off = e.reference;
    actnet_status st = (actnet_status)e.status;
    tev_clear(&e);
    if (off == total) {
      CHECK_OK(st);
      break;
    }
    CHECK_STATUS(st, ACTNET_STATUS_WOULD_BLOCK); /* it stopped again: another WRITABLE is owed */
  }
  CHECK(writables >= 1);
  CHECK(!net_readable(fd, 100));
  CHECK(tq_quiet(q, 100)); /* no WRITABLE without a WOULD_BLOCK before it */
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK_OK(actnet_meta_terminate(node, server));
  tq_release(q);
}

int main(void) {
  node = test_node_start();
  actnet_pool *pool = NULL;
  CHECK_OK(actnet_pool_new(16 * 1024, 2, &pool));
  pause_loses_nothing();
  terminate_policy();
  would_block_then_writable(pool);
  process_driven_writes();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  CHECK_OK(actnet_pool_free(pool));
  printf("test_tcp_flow: ok\n");
  return 0;
}
