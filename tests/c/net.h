/* Helpers for the TCP C tests (compiled into each test_tcp_* program by tests/tcp.cmake).
 *
 * Two parts:
 * - Plain BSD-socket helpers for the peer side over 127.0.0.1, every wait bounded by a poll()
 *   timeout, every failure fatal (CHECK) unless the function returns a status.
 * - "tq": a process behaviour that records every message it receives into a queue the test
 *   thread reads with timeouts (like the harness probe), and can also act on messages: echo
 *   DATA, run a test-supplied action callback, or be slow (a delay per DATA). */
#ifndef ACTNET_TEST_NET_H
#define ACTNET_TEST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

/* ---------------------------------------------------------------- sockets */

/* Connects a blocking TCP socket to 127.0.0.1:port (must succeed). */
int net_connect(uint16_t port);
/* As net_connect, with SO_RCVBUF / SO_SNDBUF set before connecting (0 = leave). */
int net_connect_bufs(uint16_t port, int rcvbuf, int sndbuf);
/* Tries to connect to 127.0.0.1:port; returns the fd, or -1 with errno set. */
int net_try_connect(uint16_t port);
/* Writes all bytes (must succeed). */
void net_write_all(int fd, const void *data, size_t len);
/* Writes all bytes; false if the write fails (e.g. the peer reset). */
bool net_try_write_all(int fd, const void *data, size_t len);
/* Reads exactly n bytes, waiting up to timeout_ms in total; false on timeout, EOF or error. */
bool net_read_exact(int fd, void *buf, size_t n, int timeout_ms);

/* How a read ended. */
typedef enum net_end { NET_DATA = 0, NET_EOF = 1, NET_RESET = 2, NET_TIMEOUT = 3, NET_ERROR = 4 } net_end;
const char *net_end_str(net_end e);
/* One read of up to cap bytes, waiting up to timeout_ms: NET_DATA (and *got > 0), NET_EOF,
 * NET_RESET (ECONNRESET), NET_TIMEOUT or NET_ERROR. */
net_end net_read_some(int fd, void *buf, size_t cap, int timeout_ms, size_t *got);
/* Reads until EOF, reset, error or timeout (timeout_ms in total), storing up to cap bytes
 * (the rest counted and dropped). *got receives the bytes read. Returns how it ended. */
net_end net_read_to_end(int fd, void *buf, size_t cap, int timeout_ms, size_t *got);
/* Waits up to timeout_ms for the socket to become readable (data, EOF or error). */
bool net_readable(int fd, int timeout_ms);
/* Closes with SO_LINGER 0, so the peer gets a reset. */
void net_close_reset(int fd);
/* shutdown(SHUT_WR): the peer reads EOF, this side can still read. */
void net_shutdown_write(int fd);
/* Formats the socket's local / peer address as "ip:port" into out (at least 64 bytes). */
void net_sockname(int fd, char *out, size_t out_len);
void net_peername(int fd, char *out, size_t out_len);
/* The fd, in this process, of the socket whose local and peer addresses are these "ip:port"
 * strings (e.g. a socket the library opened), or -1. */
int net_find_socket(const char *local, const char *peer);
/* A listening socket on 127.0.0.1:0 (must succeed); *port receives its port. */
int net_listen(int backlog, uint16_t *port);
/* Accepts one connection within timeout_ms; -1 on timeout. */
int net_accept(int listen_fd, int timeout_ms);
/* A port that was free a moment ago (bound and closed). */
uint16_t net_free_port(void);
/* True if 127.0.0.1:port can be bound and listened on right now (the socket is closed again). */
bool net_port_bindable(uint16_t port);

/* A listener with backlog 0 that never accepts, filled with connections until a connect no
 * longer completes, so that further connects time out. Fails the test if it never fills. */
typedef struct net_full_listener {
  int fds[40];
  int count; /* fds[0] is the listener */
  uint16_t port;
} net_full_listener;
void net_full_listener_open(net_full_listener *l);
void net_full_listener_close(net_full_listener *l);

/* Fills buf with a pattern that depends on the absolute stream offset (and a seed), so any
 * loss, duplication or reordering shows when compared with net_pattern_check. */
void net_pattern(uint8_t *buf, size_t len, uint64_t offset, uint32_t seed);
/* The first offset where buf differs from the pattern, or (size_t)-1 if it matches. */
size_t net_pattern_check(const uint8_t *buf, size_t len, uint64_t offset, uint32_t seed);

/* ---------------------------------------------------------------- inspect helpers */

/* Each takes an actnet_pid or an actnet_alias as `id` (see ANY_ID in harness.h). */
/* Polls inspect of `id` until `key` equals `want` (every ~1 ms, up to timeout_ms). Returns
 * true if it did; on false it prints the last value seen. */
#define wait_inspect(node, id, key, want, timeout_ms) wait_inspect_of((node), ANY_ID(id), (key), (want), (timeout_ms))
bool wait_inspect_of(actnet_node *node, any_id id, const char *key, const char *want, int timeout_ms);
/* CHECKs that inspect of `id` has `key` equal to `want`, with a clear message otherwise. */
#define check_inspect(node, id, key, want) check_inspect_of((node), ANY_ID(id), (key), (want))
void check_inspect_of(actnet_node *node, any_id id, const char *key, const char *want);
/* The value of an integer inspect key (the test fails if it is missing). */
#define inspect_u64(node, id, key) inspect_u64_of((node), ANY_ID(id), (key))
uint64_t inspect_u64_of(actnet_node *node, any_id id, const char *key);
/* CHECKs that inspect of `id` fails with NOT_FOUND. */
#define check_inspect_gone(node, id) check_inspect_gone_of((node), ANY_ID(id))
void check_inspect_gone_of(actnet_node *node, any_id id);

/* ---------------------------------------------------------------- the tq behaviour */

/* One message as a tq process saw it (a deep copy). */
typedef struct tev {
  uint32_t kind;
  actnet_pid pid; /* the process that received it */
  actnet_pid from;
  actnet_alias alias;
  uint64_t tag, reference;
  uint32_t reason;
  int32_t reason_code;
  uint8_t *data; /* malloc'd copy of the bytes, NUL-terminated */
  size_t len;
  bool had_buf;     /* DATA carried a pool buffer */
  bool data_in_buf; /* ... and data/len were exactly the buffer's content */
  int32_t status;   /* what the action reported (test-defined), 0 by default */
  char local_addr[80];
  char remote_addr[80];
} tev;

typedef struct tq tq;

/* An action runs in the handler before the message is recorded. It may act (write,
 * terminate, …), set ev->status, and take the DATA buffer by setting *buf_taken (otherwise
 * the tq frees it after the action). Its return value is the handler's. */
typedef int32_t (*tq_action)(void *ctx, actnet_node *node, actnet_pid pid, const actnet_message *m,
                             tev *ev, bool *buf_taken);

tq *tq_new(void);
/* Options; set them before spawning processes from the tq. */
/* Echo every DATA back to its connection (actnet_tcp_write of the bytes); the write status
 * goes in ev->status. Runs before `action`, if both are set. */
void tq_set_echo(tq *q, bool echo);
/* Sleep this long in the handler for every DATA (a slow handler). */
void tq_set_delay_us(tq *q, int delay_us);
/* Block the handler on the first DATA until the gate opens (tq does not own the gate). */
void tq_set_gate(tq *q, gate *g);
void tq_set_action(tq *q, tq_action action, void *ctx);
/* Releases the test's reference; freed when no process uses it any more. */
void tq_release(tq *q);
/* Spawns one process from the tq (name may be NULL; mailbox_size 0 = node default). */
actnet_pid tq_spawn(actnet_node *node, tq *q, const char *name, uint32_t mailbox_size);

/* Waits up to timeout_ms for the next event. */
bool tq_next(tq *q, int timeout_ms, tev *out);
/* The next event, which must come within WAIT_MS and be of `kind` (fails otherwise). */
void tq_expect(tq *q, uint32_t kind, tev *out);
/* As tq_expect, and the event must be about `id`: an actnet_alias (the connection of
 * CONNECT, DATA, DISCONNECT, WRITABLE, the meta-process of DOWN) or an actnet_pid (the
 * sender, the process of DOWN or EXIT). */
#define tq_expect_for(q, kind, id, out) tq_expect_for_id((q), (kind), ANY_ID(id), (out))
void tq_expect_for_id(tq *q, uint32_t kind, any_id id, tev *out);
/* True if nothing arrives within timeout_ms (else the event is printed and dropped). */
bool tq_quiet(tq *q, int timeout_ms);
void tev_clear(tev *e);
/* Waits for CONNECT, checks it, returns the connection alias. */
actnet_alias tq_expect_connect(tq *q);

/* Expects, as the next events of the target's queue, DISCONNECT of conn with `reason` and
 * nothing after it for 200 ms (no second DISCONNECT). If watcher is not NULL, it then waits
 * for the watcher's DOWN about conn with exit reason `exit_reason` (and, for
 * ACTNET_EXIT_DISCONNECTED, reason_code == reason), after which writes, inspect, terminate
 * and abort on the alias must give NOT_FOUND. */
void expect_disconnect_once(actnet_node *node, tq *target, tq *watcher, actnet_alias conn,
                            uint32_t reason, uint32_t exit_reason);
/* Makes the watcher process monitor `target`, an actnet_pid or actnet_alias (must succeed). */
#define tq_monitor(node, watcher_pid, target) tq_monitor_id((node), (watcher_pid), ANY_ID(target))
void tq_monitor_id(actnet_node *node, actnet_pid watcher_pid, any_id target);

/* The exit reason a connection ends with for a disconnect reason (NORMAL for peer closed
 * and closed, SHUTDOWN for parent down and node stopping, DISCONNECTED otherwise). */
uint32_t exit_reason_for(uint32_t disconnect_reason);

/* Server options for 127.0.0.1, port 0, defaults otherwise. */
void server_options(actnet_tcp_server_options *o);
/* Spawns a server owned by `owner` (must succeed); *port receives the bound port. */
actnet_alias server_spawn(actnet_node *node, actnet_pid owner, const actnet_tcp_server_options *o,
                      uint16_t *port);

/* Sleeps (only where the behaviour under test is about time). */
void sleep_ms(int ms);

#endif
