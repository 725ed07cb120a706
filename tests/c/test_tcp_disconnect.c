/* Exactly one DISCONNECT per connection, in every termination path (the others — max
 * length, invalid length, truncated frame, mailbox full, parent down, node stopping, target
 * down — are in test_tcp_limits, test_tcp_flow, test_tcp_cascade, test_tcp_routing). After
 * each: nothing more for the target, a monitor's DOWN with the matching exit reason, and
 * NOT_FOUND for writes, inspect, terminate and abort on the alias.
 *
 * - Peer close: PEER_CLOSED (DOWN normal).
 * - Peer reset (SO_LINGER 0): RESET (DOWN disconnected/reset); writes racing with the reset
 *   fail cleanly (no SIGPIPE kills the program: SIGPIPE keeps its default action here).
 * - Peers that reset while two foreign threads keep writing to their connection (200 times):
 *   the program survives (writing to a reset socket must not raise SIGPIPE) and each
 *   connection still ends with exactly one DISCONNECT.
 * - actnet_meta_terminate with writes queued behind a peer that does not read yet: CLOSED
 *   after the flush; the peer reads every queued byte, then EOF; writes after the terminate
 *   are refused (CLOSED) or NOT_FOUND, never accepted.
 * - actnet_meta_terminate from the handler right after writing a reply: the peer gets the
 *   reply, then EOF.
 * - actnet_meta_abort with writes queued: ABORTED (DOWN disconnected/aborted); the peer sees a
 *   reset, not a clean EOF, after at most part of the queued bytes.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;
static tq *q, *w;
static actnet_pid owner, watcher;
static uint16_t port;

/* DATA "quit": reply "bye" and terminate the connection from the handler. */
static int32_t quit_action(void *ctx, actnet_node *n, actnet_pid pid, const actnet_message *m, tev *ev, bool *taken) {
  (void)ctx;
  (void)pid;
  (void)taken;
  if (m->kind == ACTNET_MSG_DATA && m->len == 4 && memcmp(m->data, "quit", 4) == 0) {
    CHECK_OK(actnet_tcp_write(n, m->alias, (const uint8_t *)"bye", 3));
    ev->status = (int32_t)actnet_meta_terminate(n, m->alias);
  }
  return 0;
}

static actnet_alias open_conn(int *fd, int rcvbuf) {
  *fd = net_connect_bufs(port, rcvbuf, 0);
  actnet_alias conn = tq_expect_connect(q);
  tq_monitor(node, watcher, conn);
  return conn;
}

static void peer_close(void) {
  int fd;
  actnet_alias conn = open_conn(&fd, 0);
  net_write_all(fd, "hi", 2);
  tev e;
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  tev_clear(&e);
  close(fd);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, ACTNET_EXIT_NORMAL);
}

static void peer_reset(void) {
  int fd;
  actnet_alias conn = open_conn(&fd, 0);
  net_write_all(fd, "hi", 2);
  tev e;
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  tev_clear(&e);
  net_close_reset(fd);
  /* Writes racing with the reset: accepted, CLOSED or NOT_FOUND, and no SIGPIPE. */
  for (int i = 0; i < 200; i++) {
    actnet_status st = actnet_tcp_write(node, conn, (const uint8_t *)"racing", 6);
    if (st == ACTNET_STATUS_NOT_FOUND) break;
    CHECK(st == ACTNET_STATUS_OK || st == ACTNET_STATUS_CLOSED);
    sleep_ms(1);
  }
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_RESET, ACTNET_EXIT_DISCONNECTED);
}

/* Queues writes until the connection reports queued bytes; returns how many were written. */
static size_t fill_queue(actnet_alias conn, uint32_t seed) {
  static uint8_t chunk[64 * 1024];
  size_t total = 0;
  while (inspect_u64(node, conn, "queued write bytes") == 0) {
    CHECK(total < (size_t)32 << 20);
    net_pattern(chunk, sizeof chunk, total, seed);
    CHECK_OK(actnet_tcp_write(node, conn, chunk, sizeof chunk));
    total += sizeof chunk;
  }
  return total;
}

static void terminate_flushes(void) {
  int fd;
  actnet_alias conn = open_conn(&fd, 4096);
  size_t total = fill_queue(conn, 5);
  CHECK_OK(actnet_meta_terminate(node, conn));
  actnet_status st = actnet_meta_terminate(node, conn); /* again: idempotent while closing */
  CHECK(st == ACTNET_STATUS_OK || st == ACTNET_STATUS_NOT_FOUND);
  st = actnet_tcp_write(node, conn, (const uint8_t *)"after", 5);
  if (st != ACTNET_STATUS_CLOSED && st != ACTNET_STATUS_NOT_FOUND) {
    fprintf(stderr, "a write after terminate/abort returned %s, wanted closed or not found\n", actnet_status_str(st));
    exit(1);
  }
  /* The peer reads everything that was queued, then EOF. */
  uint8_t *got = malloc(total + 64);
  CHECK(got != NULL);
  size_t n = 0;
  net_end end = net_read_to_end(fd, got, total + 64, 2 * WAIT_MS, &n);
  if (end != NET_EOF || n != total) {
    fprintf(stderr, "terminate: the peer read %zu of %zu bytes, then %s (wanted EOF)\n", n, total,
            net_end_str(end));
    exit(1);
  }
  CHECK(net_pattern_check(got, total, 0, 5) == (size_t)-1);
  free(got);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_CLOSED, ACTNET_EXIT_NORMAL);
  close(fd);
}

static void terminate_from_handler(void) {
  int fd;
  actnet_alias conn = open_conn(&fd, 0);
  net_write_all(fd, "quit", 4);
  char buf[16];
  size_t n = 0;
  net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &n);
  CHECK(end == NET_EOF && n == 3 && memcmp(buf, "bye", 3) == 0);
  tev e;
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  CHECK_STATUS(e.status, ACTNET_STATUS_OK);
  tev_clear(&e);
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_CLOSED, ACTNET_EXIT_NORMAL);
  close(fd);
}

static void abort_resets(void) {
  int fd;
  actnet_alias conn = open_conn(&fd, 4096);
  size_t total = fill_queue(conn, 6);
  CHECK_OK(actnet_meta_abort(node, conn));
  actnet_status st = actnet_tcp_write(node, conn, (const uint8_t *)"after", 5);
  if (st != ACTNET_STATUS_CLOSED && st != ACTNET_STATUS_NOT_FOUND) {
    fprintf(stderr, "a write after terminate/abort returned %s, wanted closed or not found\n", actnet_status_str(st));
    exit(1);
  }
  expect_disconnect_once(node, q, w, conn, ACTNET_DISCONNECT_REASON_ABORTED, ACTNET_EXIT_DISCONNECTED);
  /* The peer sees a reset, never a clean end of the stream. */
  uint8_t *got = malloc(total);
  CHECK(got != NULL);
  size_t n = 0;
  net_end end = net_read_to_end(fd, got, total, WAIT_MS, &n);
  if (end != NET_RESET || n >= total) {
    fprintf(stderr, "abort: the peer read %zu of %zu queued bytes, then %s (wanted a reset)\n", n, total,
            net_end_str(end));
    exit(1);
  }
  CHECK(net_pattern_check(got, n, 0, 6) == (size_t)-1);
  free(got);
  close(fd);
}

static atomic_ullong hammered;
static atomic_bool hammer_stop;

static void *hammer(void *arg) {
  (void)arg;
  uint8_t bytes[64] = {0};
  while (!atomic_load(&hammer_stop)) {
    actnet_alias conn = {atomic_load(&hammered)};
    if (conn.id) {
      actnet_status st = actnet_tcp_write(node, conn, bytes, sizeof bytes);
      CHECK(st == ACTNET_STATUS_OK || st == ACTNET_STATUS_CLOSED || st == ACTNET_STATUS_NOT_FOUND ||
            st == ACTNET_STATUS_WOULD_BLOCK);
    }
  }
  return NULL;
}

static void resets_under_concurrent_writes(void) {
  pthread_t th[2];
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, hammer, NULL) == 0);
  int resets = 0;
  for (int i = 0; i < 200; i++) {
    int fd = net_connect(port);
    actnet_alias conn = tq_expect_connect(q);
    atomic_store(&hammered, conn.id);
    uint8_t buf[4096];
    size_t got = 0;
    CHECK(net_read_some(fd, buf, sizeof buf, WAIT_MS, &got) == NET_DATA); /* the writes flow */
    net_close_reset(fd);
    tev e;
    tq_expect_for(q, ACTNET_MSG_DISCONNECT, conn, &e);
    /* RESET, or PEER_CLOSED when a writer consumed the reset error before the reader saw it */
    CHECK(e.reason == ACTNET_DISCONNECT_REASON_RESET || e.reason == ACTNET_DISCONNECT_REASON_PEER_CLOSED);
    resets += e.reason == ACTNET_DISCONNECT_REASON_RESET;
    tev_clear(&e);
    atomic_store(&hammered, 0);
  }
  atomic_store(&hammer_stop, true);
  for (int i = 0; i < 2; i++) CHECK(pthread_join(th[i], NULL) == 0);
  CHECK(tq_quiet(q, 100)); /* one DISCONNECT each, nothing else */
  fprintf(stderr, "resets under writes: %d of 200 reported RESET\n", resets);
}

int main(void) {
  CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR); /* a C program's default: SIGPIPE kills */
  node = test_node_start();
  q = tq_new();
  tq_set_action(q, quit_action, NULL);
  owner = tq_spawn(node, q, NULL, 0);
  w = tq_new();
  watcher = tq_spawn(node, w, NULL, 0);
  actnet_tcp_server_options o;
  server_options(&o);
  server_spawn(node, owner, &o, &port);

  peer_close();
  peer_reset();
  resets_under_concurrent_writes();
  terminate_flushes();
  terminate_from_handler();
  abort_resets();

  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(q);
  tq_release(w);
  printf("test_tcp_disconnect: ok\n");
  return 0;
}
