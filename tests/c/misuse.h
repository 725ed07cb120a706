/* Helpers of the foreign-misuse tests (tests/misuse.cmake), compiled into each of them
 * together with c/net.c and c/tls_support.c:
 * - fd accounting (/proc/self/fd), to show that refused calls leave no socket behind;
 * - an echo server with one connected client socket, to show that the node goes on serving
 *   a well-behaved client after each misuse, and to measure its round-trip latency. */
#ifndef ACTNET_TEST_MISUSE_H
#define ACTNET_TEST_MISUSE_H

#include <stdint.h>

#include "net.h"

/* Polls (every ms) until the fd count is `want`; fails the test with both figures after
 * WAIT_MS. */
void mis_wait_fds(int want, const char *what);
/* Microseconds from a monotonic clock. */
int64_t mis_now_us(void);

/* An echo server (its own "tq" owner process, raw mode, DATA echoed) and one client socket
 * connected to it. */
typedef struct mis_echo {
  tq *q;
  actnet_pid owner;
  actnet_alias server, conn;
  uint16_t port;
  int fd;
  uint32_t n; /* round trips made */
} mis_echo;
void mis_echo_start(actnet_node *node, mis_echo *e);
/* Sends a 32-byte message that differs each time and reads exactly it back (within
 * WAIT_MS; fails the test otherwise, naming `what`). Returns the round-trip time in us. */
int64_t mis_echo_roundtrip(mis_echo *e, const char *what);
/* Closes the client, stops the owner (and so the server), releases the tq. */
void mis_echo_stop(actnet_node *node, mis_echo *e);

/* Round-trip statistics of n samples (sorted in place), in us. */
typedef struct mis_rtt {
  int64_t p50, p90, p99, max;
} mis_rtt;
mis_rtt mis_rtt_of(int64_t *samples, int n);

#endif
