/* Helpers for the reliability C tests (issue 6: hostile peers and graceful stop), compiled
 * into each of them by tests/reliability.cmake together with c/net.c.
 *
 * - Process accounting: open file descriptors (/proc/self/fd), resident and virtual size, and
 *   a bounded poll until fds, a pool's outstanding buffers and a server's live "connections"
 *   are back at their baseline.
 * - "rec": a process behaviour that echoes DATA back (the pool buffer itself when there is
 *   one) and keeps, per connection alias, what its processes saw: CONNECTs, DATA (count,
 *   bytes, hashes of the frames and of the byte stream), exactly how many DISCONNECTs and
 *   their reason, WRITABLEs, echo failures, and messages out of order (DATA before CONNECT,
 *   anything after DISCONNECT). It can also flood a connection: write a pattern until
 *   WOULD_BLOCK, resuming at each WRITABLE. The table is shared by every process spawned from
 *   the rec (a server's worker pool), so the test counts across workers.
 * - Framing: a description of each framing mode, valid frames for it, and a reference model
 *   (deliberately simple) of what the library's decoder must make of a byte stream: the
 *   complete frames, then the typed error or the trailing partial frame.
 * - A well-behaved client thread that sends valid frames and checks every byte of every
 *   echo, for as long as a case runs. */
#ifndef ACTNET_TEST_RELIABILITY_H
#define ACTNET_TEST_RELIABILITY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

/* ---------------------------------------------------------------- process accounting */

/* VmRSS and VmSize of this process in KiB (/proc/self/status). */
long rel_rss_kb(void);
long rel_vm_kb(void);
/* Raises the soft RLIMIT_NOFILE to at least `want` (up to the hard limit); returns the new
 * soft limit. */
long rel_raise_nofile(long want);

/* What a case must return to. */
typedef struct rel_baseline {
  int fds;
  uint64_t outstanding; /* of `pool` (when not NULL) */
  uint64_t connections; /* the server's "connections" (when server.id != 0) */
} rel_baseline;
rel_baseline rel_baseline_take(actnet_node *node, actnet_alias server, actnet_pool *pool);
/* Polls (every ms) until fds, pool outstanding and server connections equal the baseline;
 * fails the test with all three figures after timeout_ms. Returns how long it took. */
int64_t rel_wait_baseline(actnet_node *node, actnet_alias server, actnet_pool *pool, const rel_baseline *base,
                          int timeout_ms, const char *what);
uint64_t rel_pool_outstanding(actnet_pool *pool);

/* ---------------------------------------------------------------- hashing */

uint64_t rel_hash_bytes(uint64_t h, const uint8_t *p, size_t n);
/* Folds one frame (its length, then its bytes) into h. */
uint64_t rel_hash_frame(uint64_t h, const uint8_t *p, size_t n);
#define REL_HASH_INIT UINT64_C(0xcbf29ce484222325)

/* ---------------------------------------------------------------- the rec behaviour */

/* USER message tag: flood a connection. Payload: rel_flood_cmd. */
#define REL_CMD_FLOOD UINT64_C(0x5E1F000000000F10)
typedef struct rel_flood_cmd {
  actnet_alias alias;
  uint64_t total; /* bytes of the pattern (seed rel_flood_seed(alias)) to write in all */
  uint32_t chunk; /* bytes per actnet_tcp_write */
} rel_flood_cmd;
uint32_t rel_flood_seed(actnet_alias alias);
/* USER message tag: the process counts it (see rec_sync). */
#define REL_CMD_SYNC UINT64_C(0x5E1F000000000F11)

typedef struct rec_conn {
  actnet_alias alias;
  actnet_pid pid; /* the process that got CONNECT */
  char remote[64];
  bool claimed; /* returned by rec_claim_remote already */
  int connects, disconnects;
  uint32_t reason; /* of the first DISCONNECT */
  int datas;
  uint64_t bytes;
  uint64_t frame_hash; /* rel_hash_frame over every DATA, in order */
  uint64_t byte_hash;  /* rel_hash_bytes over the concatenated DATA */
  int out_of_order;    /* DATA/WRITABLE/DISCONNECT before CONNECT, anything after DISCONNECT */
  int echo_failures;
  uint32_t echo_status; /* of the last failed echo */
  int writables, would_blocks;
  int writable_unexpected; /* WRITABLE with no WOULD_BLOCK before it */
  uint64_t flood_total, flood_sent;
  bool flood_blocked;
  int flood_errors; /* a flood write failing with something else than WOULD_BLOCK */
  int64_t connect_ms, disconnect_ms;
} rec_conn;

typedef struct rec rec;

rec *rec_new(void);
/* Echo DATA (default true). Set before spawning. */
void rec_set_echo(rec *r, bool echo);
/* Releases the test's reference (the processes hold their own). */
void rec_release(rec *r);
/* Spawns a process from the rec (name may be NULL; mailbox 0 = the node's default). */
actnet_pid rec_spawn(actnet_node *node, rec *r, const char *name, uint32_t mailbox_size);

/* Totals over every connection. */
typedef struct rec_totals {
  int conns; /* entries (aliases seen) */
  int connects, disconnects, datas;
  int by_reason[32]; /* DISCONNECTs per reason */
  int out_of_order, multi_connect, multi_disconnect;
  int terminated; /* processes that ended */
} rec_totals;
rec_totals rec_get_totals(rec *r);
/* Waits until at least n DISCONNECTs were seen in total; false on timeout. */
bool rec_wait_disconnects(rec *r, int n, int timeout_ms);
/* Waits until at least n CONNECTs were seen in total; false on timeout. */
bool rec_wait_connects(rec *r, int n, int timeout_ms);
/* Waits until every CONNECT seen has its DISCONNECT and there are at least min_connects;
 * false on timeout. */
bool rec_wait_settled(rec *r, int min_connects, int timeout_ms);
/* The connection whose remote address is `remote` ("ip:port") and that was not claimed yet;
 * waits for its CONNECT up to timeout_ms (fails the test on timeout). Marks it claimed. */
actnet_alias rec_claim_remote(rec *r, const char *remote, int timeout_ms);
/* Sends REL_CMD_SYNC to pid and waits until it was handled: every message the process had
 * before it was handled too (fails after timeout_ms). */
void rec_sync(actnet_node *node, rec *r, actnet_pid pid, int timeout_ms);
/* Copies the entry of `alias` (fails the test if it is unknown). */
rec_conn rec_get(rec *r, actnet_alias alias);
/* Waits for the DISCONNECT of `alias` and returns its entry (fails on timeout). */
rec_conn rec_wait_disconnect(rec *r, actnet_alias alias, int timeout_ms);
/* Waits until pred(entry, ctx) holds for `alias`; false on timeout. */
bool rec_wait_pred(rec *r, actnet_alias alias, bool (*pred)(const rec_conn *, void *), void *ctx, int timeout_ms);
/* Fails the test unless `alias` saw exactly one CONNECT and one DISCONNECT with `reason`,
 * nothing out of order, and (for echoing recs) no failed echo unless allow_echo_failures. */
void rec_check_one_disconnect(rec *r, actnet_alias alias, uint32_t reason, bool allow_echo_failures, const char *what);
/* Prints every inspect pair of id to stderr (for failure reports). */
#define rel_dump(node, id) rel_dump_of((node), ANY_ID(id))
void rel_dump_of(actnet_node *node, any_id id);
/* rec_wait_disconnect dumps the connection's inspect when it times out, with this node. */
void rec_set_dump_node(actnet_node *node);
/* Counts of DISCONNECT per process, for `pid`. */
int rec_disconnects_of(rec *r, actnet_pid pid);

/* ---------------------------------------------------------------- framing */

enum { REL_RAW = 0, REL_FIXED = 1, REL_HEADER = 2 };

typedef struct rel_framing {
  const char *name;
  int kind;
  int fixed;
  int header_size, position, length_size;
  bool includes_header;
  int max_length; /* 0: no limit */
} rel_framing;

void rel_chunk_options(const rel_framing *f, actnet_chunk_options *o);
/* The largest payload a valid frame of this framing can carry (capped at `cap`). */
size_t rel_max_payload(const rel_framing *f, size_t cap);
/* Writes one valid frame with `payload` bytes of payload into out (header bytes other than
 * the length are random from *rng); returns its size. For REL_RAW the frame is the payload;
 * for REL_FIXED the payload length is ignored (a frame is `fixed` bytes). */
size_t rel_frame_build(const rel_framing *f, uint8_t *out, size_t payload, uint64_t *rng);

/* What the decoder must make of a byte stream. */
typedef struct rel_model {
  size_t nframes;
  size_t *ends;     /* ends[i]: stream offset where frame i ends (malloc'd) */
  size_t consumed;  /* bytes in complete frames */
  uint32_t error;   /* MAX_LENGTH_EXCEEDED or INVALID_FRAME_LENGTH at the front of the rest, or 0 */
  size_t need;      /* no error: bytes still missing to complete the partial frame (0: none) */
  bool header_incomplete; /* no error: the partial frame's header is not complete yet */
} rel_model;
void rel_model_run(const rel_framing *f, const uint8_t *s, size_t n, rel_model *m);
void rel_model_free(rel_model *m);
/* rel_hash_frame over the first k frames. */
uint64_t rel_model_hash(const rel_model *m, const uint8_t *s, size_t k);

/* xorshift64* */
uint64_t rel_rand(uint64_t *state);
/* Uniform in [lo, hi]. */
size_t rel_rand_range(uint64_t *state, size_t lo, size_t hi);
void rel_rand_fill(uint64_t *state, uint8_t *p, size_t n);

/* ---------------------------------------------------------------- well-behaved client */

/* A thread that connects to 127.0.0.1:port (before rel_good_start returns), then sends valid
 * frames (random payloads up to max_payload bytes) one at a time and reads each echo back
 * whole, comparing every byte, until rel_good_stop. A missing or wrong echo (5 s) fails the
 * test. Between round trips it pauses pause_us (0: none) so as not to starve the 2 cores. */
typedef struct rel_good rel_good;
rel_good *rel_good_start(uint16_t port, const rel_framing *f, size_t max_payload, uint32_t seed, int pause_us);
/* Its socket's local address (the server sees it as the remote address). */
const char *rel_good_local(const rel_good *g);
int rel_good_roundtrips(const rel_good *g);
/* Waits until it completed at least n round trips (fails after timeout_ms). */
void rel_good_wait(rel_good *g, int n, int timeout_ms);
/* Stops after the current round trip, closes its side (FIN), expects EOF from the server
 * (the echo stream ended exactly), joins and frees. Fails unless it made at least
 * min_roundtrips. Returns the round trips made; *max_rtt_ms gets the slowest. */
int rel_good_stop(rel_good *g, int min_roundtrips, int64_t *max_rtt_ms);

/* ---------------------------------------------------------------- a case */

/* A fresh "rec" owner process and server (127.0.0.1, port 0, the pool as read buffer pool,
 * DATA echoed), its baseline taken before any client, and (with `good`) a well-behaved
 * client of the same framing already served 3 round trips. */
typedef struct rel_case {
  actnet_node *node;
  actnet_pool *pool;
  const char *name;
  rel_framing f;
  rec *r;
  actnet_pid owner;
  actnet_alias server;
  uint16_t port;
  rel_baseline base;
  rel_good *good;
  actnet_alias good_alias;
} rel_case;
/* `o` may be NULL (defaults); its framing and pool are set from f and pool. */
rel_case rel_case_start(actnet_node *node, actnet_pool *pool, const char *name, const rel_framing *f,
                        const actnet_tcp_server_options *o, bool good);
/* Stops the well-behaved client (at least min_roundtrips made; its connection ends with one
 * DISCONNECT PEER_CLOSED and no failed echo), waits for the baseline (fds, pool outstanding,
 * server connections), then, once the owner has handled everything (rec_sync), checks that
 * every connection saw exactly one CONNECT and one DISCONNECT and nothing out of order,
 * reports, stops the owner and waits until the server is gone. */
void rel_case_finish(rel_case *k, int min_roundtrips);
/* Polls until the connection's "bytes in" reaches want (fails after WAIT_MS). */
void rel_wait_bytes_in(actnet_node *node, actnet_alias alias, uint64_t want);

/* ---------------------------------------------------------------- misc */

/* Prints a figure for the report: "[name] key: value". */
#define REL_REPORT(...)            \
  do {                             \
    printf(__VA_ARGS__);           \
    printf("\n");                  \
    fflush(stdout);                \
  } while (0)

#endif
