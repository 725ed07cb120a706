/* Peers that never read while the server writes to them.
 *
 * A server with write_queue_limit 256 KiB and close_timeout_ms 300 (raw framing, a read
 * buffer pool, DATA echoed); a well-behaved client gets its echoes from the same server
 * for the whole case, every byte checked. 12 peers with a 4 KiB receive buffer connect and
 * never read (the send buffer of the server's end is pinned at 64 KiB, so that the kernel
 * cannot take more later by autotuning); the server's process floods each of them with an
 * 8 MiB pattern (32 KiB per
 * actnet_tcp_write, stopping at WOULD_BLOCK and resuming at WRITABLE, c/reliability.c):
 *
 * - Every flood stops at WOULD_BLOCK with its "queued write bytes" at most the limit, and
 *   stays there: for 300 ms (the time is what is tested) no WRITABLE comes, nothing more is
 *   accepted, every queue stays under the limit, and the process's RSS has grown by less
 *   than 32 MiB (12 unbounded floods would queue 96 MiB); then a write from this thread and
 *   a pool-buffer write are refused with WOULD_BLOCK too (nothing queued, the buffer stays
 *   with the caller).
 * - 6 peers then read: each gets exactly the 8 MiB pattern (every byte compared), its
 *   process got WRITABLE (at least once, each one after a WOULD_BLOCK, only once the peer
 *   read), and its FIN ends the connection with one DISCONNECT PEER_CLOSED.
 * - 3 peers reset with their queue full: one DISCONNECT RESET each.
 * - 3 connections are terminated (actnet_meta_terminate) while their peer still does not
 *   read: after the close timeout (300 ms; between 250 ms and 3 s) one DISCONNECT
 *   WRITE_TIMEOUT each, the peer's socket is reset, and what it got is a prefix of the
 *   pattern.
 * - Then the fds, the pool's outstanding buffers and the server's connections are back at
 *   their baseline, and RSS is reported.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reliability.h"

static actnet_node *node;
static actnet_pool *pool;

enum { PEERS = 12, READERS = 6, RESETTERS = 3, LIMIT = 256 * 1024, TOTAL = 8 << 20, CLOSE_TIMEOUT_MS = 300 };

static bool blocked(const rec_conn *c, void *ctx) {
  (void)ctx;
  return c->would_blocks > 0 || c->flood_errors > 0;
}

static bool flood_done(const rec_conn *c, void *ctx) {
  (void)ctx;
  return c->flood_sent == c->flood_total || c->flood_errors > 0;
}

static uint64_t queued(actnet_alias alias) { return inspect_u64(node, alias, "queued write bytes"); }

int main(void) {
  node = test_node_start();
  CHECK_OK(actnet_pool_new(4096, 64, &pool));
  int fds0 = open_fd_count();

  actnet_tcp_server_options o;
  server_options(&o);
  test_conn_options tc;
  o.connection = test_conn_options_init(&tc);
  tc.conn.write_queue_limit = LIMIT;
  tc.conn.close_timeout_ms = CLOSE_TIMEOUT_MS;
  rel_framing raw = {.name = "none", .kind = REL_RAW};
  rel_case k = rel_case_start(node, pool, "never-read peers", &raw, &o, true);

  long rss0 = rel_rss_kb();
  int fds[PEERS];
  actnet_alias alias[PEERS];
  for (int i = 0; i < PEERS; i++) {
    fds[i] = net_connect_bufs(k.port, 4096, 0);
    char local[64];
    net_sockname(fds[i], local, sizeof local);
    alias[i] = rec_claim_remote(k.r, local, WAIT_MS);
    /* Pin the send buffer of the server's end (a socket of this process) so that the kernel
     * cannot take megabytes more later by autotuning, draining the queue into it and owing
     * a WRITABLE although the peer never read. */
    char remote[64];
    net_peername(fds[i], remote, sizeof remote);
    int sfd = net_find_socket(remote, local);
    CHECK(sfd >= 0);
    int sndbuf = 65536;
    CHECK(setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == 0);
  }
  for (int i = 0; i < PEERS; i++) {
    rel_flood_cmd cmd = {alias[i], TOTAL, 32768};
    CHECK_OK(actnet_message_send(node, k.owner, REL_CMD_FLOOD, (const uint8_t *)&cmd, sizeof cmd));
  }
  uint64_t sent_at_block[PEERS], max_queued = 0, min_sent = UINT64_MAX, max_sent = 0;
  for (int i = 0; i < PEERS; i++) {
    CHECK(rec_wait_pred(k.r, alias[i], blocked, NULL, WAIT_MS));
    rec_conn c = rec_get(k.r, alias[i]);
    CHECK(c.flood_errors == 0 && c.would_blocks == 1 && c.writables == 0);
    CHECK(c.flood_sent < TOTAL);
    sent_at_block[i] = c.flood_sent;
    if (c.flood_sent < min_sent) min_sent = c.flood_sent;
    if (c.flood_sent > max_sent) max_sent = c.flood_sent;
    uint64_t q = queued(alias[i]);
    CHECK(q <= LIMIT);
    if (q > max_queued) max_queued = q;
  }
  long rss_blocked = rel_rss_kb() - rss0;
  /* The peers do not read: nothing moves. The time is what is tested here. */
  sleep_ms(300);
  for (int i = 0; i < PEERS; i++) {
    rec_conn c = rec_get(k.r, alias[i]);
    if (!(c.writables == 0 && c.would_blocks == 1 && c.flood_sent == sent_at_block[i] && c.disconnects == 0)) {
      fprintf(stderr, "peer %d that does not read: after 300 ms, %d WRITABLE, %d WOULD_BLOCK, %llu bytes accepted "
                      "(%llu at the block), %d DISCONNECT\n",
              i, c.writables, c.would_blocks, (unsigned long long)c.flood_sent,
              (unsigned long long)sent_at_block[i], c.disconnects);
      rel_dump(node, alias[i]);
      exit(1);
    }
    uint64_t q = queued(alias[i]);
    CHECK(q <= LIMIT);
    if (q > max_queued) max_queued = q;
    /* Still full: more is refused, nothing queued (a pool buffer stays with the caller). */
    static const uint8_t more[32768];
    CHECK_STATUS(actnet_tcp_write(node, alias[i], more, sizeof more), ACTNET_STATUS_WOULD_BLOCK);
    actnet_buf *b = NULL;
    CHECK_OK(actnet_pool_get(pool, &b));
    CHECK_OK(actnet_buf_set_len(b, 4096));
    CHECK_STATUS(actnet_tcp_write_buf(node, alias[i], b), ACTNET_STATUS_WOULD_BLOCK);
    CHECK_OK(actnet_buf_free(b));
    CHECK(queued(alias[i]) == q);
  }
  long rss_quiet = rel_rss_kb() - rss0;
  REL_REPORT("[never-read peers] %d floods blocked at WOULD_BLOCK after %llu..%llu bytes accepted (kernel buffers + "
             "queue); largest \"queued write bytes\" %llu (limit %d); RSS %+ld KiB at the block, %+ld KiB after 300 ms",
             PEERS, (unsigned long long)min_sent, (unsigned long long)max_sent, (unsigned long long)max_queued, LIMIT,
             rss_blocked, rss_quiet);
  CHECK(rss_blocked < 32 * 1024 && rss_quiet < 32 * 1024);

  /* Readers: the whole pattern, WRITABLE only now. */
  uint8_t *buf = malloc(65536);
  CHECK(buf != NULL);
  int writables = 0;
  for (int i = 0; i < READERS; i++) {
    uint32_t seed = rel_flood_seed(alias[i]);
    uint64_t off = 0;
    int64_t end = now_ms() + 10 * WAIT_MS;
    while (off < TOTAL) {
      size_t got = 0;
      net_end e = net_read_some(fds[i], buf, 65536, WAIT_MS, &got);
      if (e != NET_DATA || now_ms() > end) {
        fprintf(stderr, "reader %d: %s after %llu bytes\n", i, net_end_str(e), (unsigned long long)off);
        exit(1);
      }
      CHECK(off + got <= TOTAL);
      size_t bad = net_pattern_check(buf, got, off, seed);
      if (bad != (size_t)-1) {
        fprintf(stderr, "reader %d: wrong byte at offset %llu\n", i, (unsigned long long)(off + bad));
        exit(1);
      }
      off += got;
      /* the other queues stay bounded meanwhile */
      if ((off & ((1 << 20) - 1)) < got) CHECK(queued(alias[PEERS - 1]) <= LIMIT);
    }
    CHECK(rec_wait_pred(k.r, alias[i], flood_done, NULL, WAIT_MS));
    rec_conn c = rec_get(k.r, alias[i]);
    CHECK(c.flood_errors == 0 && c.flood_sent == TOTAL);
    CHECK(c.writables >= 1 && c.writable_unexpected == 0 && c.writables <= c.would_blocks);
    writables += c.writables;
    net_shutdown_write(fds[i]);
    size_t more = 0;
    CHECK(net_read_to_end(fds[i], buf, 65536, WAIT_MS, &more) == NET_EOF && more == 0);
    CHECK(close(fds[i]) == 0);
    rec_wait_disconnect(k.r, alias[i], WAIT_MS);
    rec_check_one_disconnect(k.r, alias[i], ACTNET_DISCONNECT_REASON_PEER_CLOSED, false, "never-read peer that read");
  }
  /* Resetters. */
  for (int i = READERS; i < READERS + RESETTERS; i++) {
    net_close_reset(fds[i]);
    rec_wait_disconnect(k.r, alias[i], WAIT_MS);
    rec_check_one_disconnect(k.r, alias[i], ACTNET_DISCONNECT_REASON_RESET, false, "never-read peer that reset");
    CHECK(rec_get(k.r, alias[i]).writables == 0);
  }
  /* Terminated while the peer still does not read: the flush times out. */
  int64_t t0 = now_ms();
  for (int i = READERS + RESETTERS; i < PEERS; i++) CHECK_OK(actnet_meta_terminate(node, alias[i]));
  int64_t slowest = 0, fastest = INT64_MAX;
  for (int i = READERS + RESETTERS; i < PEERS; i++) {
    rec_conn c = rec_wait_disconnect(k.r, alias[i], WAIT_MS);
    rec_check_one_disconnect(k.r, alias[i], ACTNET_DISCONNECT_REASON_WRITE_TIMEOUT, false, "never-read peer, terminated");
    CHECK(c.writables == 0);
    int64_t took = c.disconnect_ms - t0;
    if (took > slowest) slowest = took;
    if (took < fastest) fastest = took;
    /* the peer's socket is reset; what it got is a prefix of the pattern */
    uint32_t seed = rel_flood_seed(alias[i]);
    uint64_t off = 0;
    net_end e;
    for (;;) {
      size_t got = 0;
      e = net_read_some(fds[i], buf, 65536, WAIT_MS, &got);
      if (e != NET_DATA) break;
      CHECK(net_pattern_check(buf, got, off, seed) == (size_t)-1);
      off += got;
    }
    CHECK(e == NET_RESET || e == NET_EOF);
    CHECK(off <= c.flood_sent);
    CHECK(close(fds[i]) == 0);
  }
  REL_REPORT("[never-read peers] %d readers got their 8 MiB (%d WRITABLE in all); %d resets: RESET; %d terminated: "
             "WRITE_TIMEOUT after %lld..%lld ms (close timeout %d ms)",
             READERS, writables, RESETTERS, PEERS - READERS - RESETTERS, (long long)fastest, (long long)slowest,
             CLOSE_TIMEOUT_MS);
  CHECK(fastest >= CLOSE_TIMEOUT_MS - 50 && slowest < 3000);
  free(buf);
  rel_case_finish(&k, 10);
  REL_REPORT("[never-read peers] RSS at the end %+ld KiB from before the floods", rel_rss_kb() - rss0);

  int64_t end = now_ms() + WAIT_MS;
  while (open_fd_count() != fds0) {
    CHECK(now_ms() < end);
    sleep_ms(1);
  }
  CHECK(rel_pool_outstanding(pool) == 0);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  CHECK_OK(actnet_pool_free(pool));
  printf("test_hostile_flow: ok\n");
  return 0;
}
