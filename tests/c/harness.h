/* Test harness for the C tests: checks that abort with a message, and a "probe" process
 * behaviour that copies every message it receives into a queue the test thread reads with a
 * timeout, so tests wait for events instead of sleeping. */
#ifndef ACTNET_TEST_HARNESS_H
#define ACTNET_TEST_HARNESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "actnet.h"

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)

#define CHECK_STATUS(expr, want)                                                     \
  do {                                                                               \
    actnet_status got_ = (expr);                                                     \
    if (got_ != (actnet_status)(want)) {                                             \
      fprintf(stderr, "%s:%d: %s returned %u (%s), wanted %u (%s)\n", __FILE__,      \
              __LINE__, #expr, (unsigned)got_, actnet_status_str(got_),              \
              (unsigned)(want), actnet_status_str(want));                            \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, ACTNET_STATUS_OK)

/* The tests' time factor: $ACTNET_TEST_SLOW, a whole number from 1 (the default) to 100.
 * The valgrind variants of the tests (tests/valgrind.cmake) set it, since everything runs
 * many times slower there: waits for an expected event, and time limits that depend on how
 * fast the machine is, are multiplied by it (WAIT_MS, SLOW_MS). */
int test_slow(void);
/* `ms` times the time factor. */
#define SLOW_MS(ms) ((ms) * test_slow())

/* Default wait for an expected event; a hang fails the test instead of stalling CI. */
#define WAIT_MS SLOW_MS(5000)

/* An id of either kind, for the helpers that take both (inspect, monitor, DOWN): ANY_ID(x)
 * makes one of an actnet_pid or an actnet_alias, keeping which it was. */
typedef struct any_id {
  uint64_t id;
  bool meta; /* an actnet_alias */
} any_id;
static inline any_id any_id_of_pid(actnet_pid pid) { return (any_id){pid.id, false}; }
static inline any_id any_id_of_alias(actnet_alias alias) { return (any_id){alias.id, true}; }
#define ANY_ID(x) _Generic((x), actnet_pid: any_id_of_pid, actnet_alias: any_id_of_alias)(x)
/* actnet_process_inspect or actnet_meta_inspect, as the id's kind says. */
actnet_status inspect_any(actnet_node *node, any_id id, actnet_info **info_out);
/* actnet_process_monitor or actnet_meta_monitor, as the target's kind says. */
actnet_status monitor_any(actnet_node *node, actnet_pid watcher, any_id target, uint64_t *reference_out);
#define test_inspect(node, id, info_out) inspect_any((node), ANY_ID(id), (info_out))
#define test_monitor(node, watcher, target, ref_out) monitor_any((node), (watcher), ANY_ID(target), (ref_out))

/* Connection options with their framing options, for tests that change a few fields:
 *   test_conn_options tc;
 *   o.connection = test_conn_options_init(&tc);
 *   tc.conn.write_queue_limit = ...; tc.chunk.enable = true; ...
 * Both start with the library's defaults, and conn.read_chunk points to chunk (whose
 * defaults mean no framing, as NULL does). tc must live until the spawn or connect call
 * returns (the options are read during it). */
typedef struct test_conn_options {
  actnet_tcp_connection_options conn;
  actnet_chunk_options chunk;
} test_conn_options;
const actnet_tcp_connection_options *test_conn_options_init(test_conn_options *tc);

/* One message as the probe saw it (a deep copy). */
typedef struct probe_event {
  uint32_t kind;
  actnet_pid pid; /* the probe process that received it */
  actnet_pid from;
  actnet_alias alias;
  uint64_t tag, reference;
  uint32_t reason;
  int32_t reason_code;
  uint8_t *data; /* malloc'd copy of the bytes, NUL-terminated for convenience */
  size_t len;
  bool had_buf; /* DATA carried a pool buffer (the probe frees it unless told to keep it) */
  char local_addr[80];
  char remote_addr[80];
} probe_event;

typedef struct probe probe;

/* A queue of events plus the behaviour that fills it. */
probe *probe_new(void);
/* Frees the queue once no process uses it (the behaviour holds a reference). */
void probe_release(probe *p);
/* The behaviour: every process spawned from it reports to `p`. The caller frees it. */
actnet_behavior *probe_behavior(probe *p);
/* Waits up to timeout_ms for the next event. Returns true and fills *out if one came. */
bool probe_next(probe *p, int timeout_ms, probe_event *out);
/* Waits for the next event of `kind`, skipping others; fails the test on timeout. */
#define probe_expect(p, kind, out) probe_expect_at((p), (kind), (out), __FILE__, __LINE__)
void probe_expect_at(probe *p, uint32_t kind, probe_event *out, const char *file, int line);
/* True if no event arrives within timeout_ms. */
bool probe_quiet(probe *p, int timeout_ms);
void probe_event_clear(probe_event *e);
/* Events handled so far / terminates seen. */
int probe_terminated(probe *p);

/* A node with 2 workers and logs at WARN, failing the test if it cannot start. */
actnet_node *test_node_start(void);
/* Spawns one probe process, optionally registered under `name` (NULL for none). */
actnet_pid probe_spawn(actnet_node *node, probe *p, const char *name);

/* Milliseconds from a monotonic clock. */
int64_t now_ms(void);

/* The process's open file descriptors (entries of /proc/self/fd). */
int open_fd_count(void);

/* The CLOCK_REALTIME time timeout_ms from now, for pthread_cond_timedwait. */
void deadline_in(struct timespec *ts, int timeout_ms);

/* Spawns a process of behaviour `b` (name may be NULL; mailbox_size 0 = node default) and
 * frees the caller's reference to `b`. */
actnet_pid spawn_behavior(actnet_node *node, actnet_behavior *b, const char *name, uint32_t mailbox_size);

/* actnet_node_stop on a thread of its own: pthread_create(&t, NULL, stop_node, &stopper)
 * runs it, then sets `status` and `done`. */
typedef struct stopper {
  actnet_node *node;
  actnet_status status;
  atomic_bool done;
} stopper;
void *stop_node(void *stopper_arg);

/* Stale-id checklists. Every core function taking a process id gives `want` for `pid`,
 * writes no out-parameter and leaves no name behind: send, call, inspect, stop, kill, trap
 * exits, monitor and link either way, demonitor, unlink, forwarder and server spawn (as
 * owner), name register, and (pid.id != 0) a spawn linked to it with behaviour `b`.
 * `watcher` is a live process. `want` is NOT_FOUND for a process id that is gone or was
 * never issued, WRONG_KIND for a meta-process's alias passed as a process id ({0} names
 * nothing of either kind: NOT_FOUND). */
void expect_pid_calls_fail(actnet_node *node, actnet_pid pid, actnet_pid watcher, actnet_behavior *b,
                           actnet_status want);
/* As expect_pid_calls_fail for every core function taking an alias: meta send, inspect,
 * monitor, terminate, abort, TCP write (plain and of a pool buffer, which the caller keeps).
 * `want` is NOT_FOUND for an alias that is gone or never issued, WRONG_KIND for a process
 * id passed as an alias. */
void expect_alias_calls_fail(actnet_node *node, actnet_alias alias, actnet_pid watcher, actnet_status want);
#define expect_pid_calls_not_found(node, pid, watcher, b) \
  expect_pid_calls_fail((node), (pid), (watcher), (b), ACTNET_STATUS_NOT_FOUND)
#define expect_alias_calls_not_found(node, alias, watcher) \
  expect_alias_calls_fail((node), (alias), (watcher), ACTNET_STATUS_NOT_FOUND)
/* The other kind's view of an id, for wrong-kind checks (never needed by correct code). */
static inline actnet_alias alias_of_raw(uint64_t id) { return (actnet_alias){id}; }
static inline actnet_pid pid_of_raw(uint64_t id) { return (actnet_pid){id}; }

/* Probe commands: after recording a message with one of these tags, the probe acts on it. */
/* USER: the handler returns the int32_t in the message's 4 bytes (ends the process if != 0). */
#define PROBE_CMD_EXIT UINT64_C(0xAC7E0000000000E1)
/* USER: the probe stops itself (actnet_process_stop on its own pid: reason NORMAL). */
#define PROBE_CMD_STOP_SELF UINT64_C(0xAC7E0000000000E2)
/* CALL: the probe replies with the request's bytes. */
#define PROBE_CMD_ECHO UINT64_C(0xAC7E0000000000E3)

/* Sends PROBE_CMD_EXIT with `code` to `pid` (must succeed). */
void probe_cmd_exit(actnet_node *node, actnet_pid pid, int32_t code);
/* Spawns one probe process with the given options (must succeed). */
actnet_pid probe_spawn_opts(actnet_node *node, probe *p, const actnet_spawn_options *options);
/* Waits until at least n terminate callbacks ran for processes of this probe. */
bool probe_wait_terminated(probe *p, int n, int timeout_ms);
/* Waits (WAIT_MS) for a DOWN about `target` (an actnet_pid or an actnet_alias), skipping
 * other events; fails the test on timeout. */
#define probe_expect_down(p, target, out) probe_expect_down_at((p), ANY_ID(target), (out), __FILE__, __LINE__)
void probe_expect_down_at(probe *p, any_id target, probe_event *out, const char *file, int line);

/* Looks up `key` in the inspect result for `id` (an actnet_pid or an actnet_alias) and
 * copies its value into out (NUL-terminated). False if the inspect fails or the key is
 * absent. */
#define inspect_value(node, id, key, out, out_len) inspect_value_of((node), ANY_ID(id), (key), (out), (out_len))
bool inspect_value_of(actnet_node *node, any_id id, const char *key, char *out, size_t out_len);
/* As inspect_value, failing the test when the key is missing; returns a static buffer
 * (not thread-safe, valid until the next call). */
#define inspect_str(node, id, key) inspect_str_of((node), ANY_ID(id), (key))
const char *inspect_str_of(actnet_node *node, any_id id, const char *key);

/* A gate: handlers block on it (with a timeout, so a broken test cannot hang forever) until
 * the test opens it. Also counts the waiters that arrived, so the test can wait for them. */
typedef struct gate gate;
gate *gate_new(void);
void gate_free(gate *g);
void gate_open(gate *g);
/* Blocks until the gate is open; false on timeout. */
bool gate_wait(gate *g, int timeout_ms);
/* Waits until at least n callers have entered gate_wait (whether or not they left). */
bool gate_wait_arrivals(gate *g, int n, int timeout_ms);

/* A thread-safe, append-only log of records, for callbacks to report what happened in
 * order, and for the test to wait for a number of them. */
typedef struct evrec {
  int what;      /* test-defined event type */
  actnet_pid pid; /* the process that reported it */
  uint64_t a, b; /* test-defined */
  int64_t c;     /* test-defined */
  char text[48]; /* test-defined, NUL-terminated */
} evrec;
typedef struct evlog evlog;
evlog *evlog_new(void);
void evlog_free(evlog *l);
void evlog_push(evlog *l, const evrec *r);
/* Builds and pushes a record. */
void evlog_add(evlog *l, int what, actnet_pid pid, uint64_t a, uint64_t b, int64_t c, const char *text);
int evlog_count(evlog *l);
/* Waits until the log holds at least n records. */
bool evlog_wait(evlog *l, int n, int timeout_ms);
/* Record i (0-based; must exist). */
evrec evlog_at(evlog *l, int i);

#endif
