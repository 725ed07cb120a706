/* Test harness for the C tests: checks that abort with a message, and a "probe" process
 * behaviour that copies every message it receives into a queue the test thread reads with a
 * timeout, so tests wait for events instead of sleeping. */
#ifndef ACTNET_TEST_HARNESS_H
#define ACTNET_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

/* Default wait for an expected event; a hang fails the test instead of stalling CI. */
#define WAIT_MS 5000

/* One message as the probe saw it (a deep copy). */
typedef struct probe_event {
  uint32_t kind;
  uint64_t pid; /* the probe process that received it */
  uint64_t id, from, tag, reference;
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
void probe_expect(probe *p, uint32_t kind, probe_event *out);
/* True if no event arrives within timeout_ms. */
bool probe_quiet(probe *p, int timeout_ms);
void probe_event_clear(probe_event *e);
/* Events handled so far / terminates seen. */
int probe_terminated(probe *p);

/* A node with 2 workers and logs at WARN, failing the test if it cannot start. */
actnet_node *test_node_start(void);
/* Spawns one probe process, optionally registered under `name` (NULL for none). */
uint64_t probe_spawn(actnet_node *node, probe *p, const char *name);

/* Milliseconds from a monotonic clock. */
int64_t now_ms(void);

#endif
