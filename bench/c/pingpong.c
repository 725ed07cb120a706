/* pingpong: case i of bench/README.md, local messaging through actnet's C ABI.
 *
 *   pingpong [--pairs N] [--duration-s S] [--warmup-s S] [--threads N] [--label TEXT]
 *
 * Each pair is two processes; one message is in flight per pair: a process that receives a
 * number (8 bytes, a USER message) sends the next one back to the sender with
 * actnet_message_send, from inside its handle_message callback. Messages/s counts every
 * message received, by both processes of every pair (the same count as
 * `actnet-bench mpsc-pingpong`, the tokio reference). --threads sets the node's worker
 * threads (default 0: one per core). Prints a human line starting with '#' and a JSON line.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "actnet.h"

enum { TAG_START = 1, TAG_PING = 2, MAX_PAIRS = 64 };

/* One counter per process, each on its own cache lines, written only by its process. */
typedef struct counter {
  _Alignas(128) _Atomic uint64_t count;
} counter;

static counter counters[2 * MAX_PAIRS];
static atomic_bool stopping;

static void usage(void) {
  fprintf(stderr, "usage: pingpong [--pairs N] [--duration-s S] [--warmup-s S] [--threads N] [--label TEXT]\n");
  exit(2);
}

static void check(actnet_status s, const char *what) {
  if (s != ACTNET_STATUS_OK) {
    fprintf(stderr, "pingpong: %s: %s\n", what, actnet_status_str(s));
    exit(1);
  }
}

static int32_t pp_init(void *user_data, actnet_node *node, actnet_pid pid, const uint8_t *args, size_t len,
                       void **state) {
  (void)user_data, (void)node, (void)pid;
  size_t index;
  if (len != sizeof index) return 1;
  memcpy(&index, args, sizeof index);
  *state = &counters[index];
  return 0;
}

/* Both messages are 8 bytes: TAG_START carries the peer's actnet_pid, TAG_PING a number. */
_Static_assert(sizeof(actnet_pid) == sizeof(uint64_t), "actnet_pid is one uint64_t");

static int32_t pp_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)user_data, (void)pid;
  if (m->kind != ACTNET_MSG_USER || m->len != sizeof(uint64_t)) return 0;
  uint64_t value;
  actnet_pid to;
  if (m->tag == TAG_START) {
    memcpy(&to, m->data, sizeof to); /* the peer */
    value = 0;
  } else {
    memcpy(&value, m->data, sizeof value);
    counter *c = state;
    atomic_store_explicit(&c->count, atomic_load_explicit(&c->count, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    to = m->from;
    value++;
  }
  if (atomic_load_explicit(&stopping, memory_order_relaxed)) return 0;
  actnet_status s = actnet_message_send(node, to, TAG_PING, (const uint8_t *)&value, sizeof value);
  if (s != ACTNET_STATUS_OK && !atomic_load(&stopping)) {
    fprintf(stderr, "pingpong: send to %llu: %s\n", (unsigned long long)to.id, actnet_status_str(s));
    return 1;
  }
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t total(int pairs) {
  uint64_t sum = 0;
  for (int i = 0; i < 2 * pairs; i++) sum += atomic_load_explicit(&counters[i].count, memory_order_relaxed);
  return sum;
}

static double number(const char *text, double min, double max) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end || !(v >= min && v <= max)) {
    fprintf(stderr, "pingpong: bad number '%s'\n", text);
    usage();
  }
  return v;
}

int main(int argc, char **argv) {
  int pairs = 1;
  unsigned threads = 0;
  double duration = 5, warmup = 1;
  const char *label = "";
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    const char *arg = argv[i], *value = argv[++i];
    if (!strcmp(arg, "--pairs")) pairs = (int)number(value, 1, MAX_PAIRS);
    else if (!strcmp(arg, "--duration-s")) duration = number(value, 0.01, 1e6);
    else if (!strcmp(arg, "--warmup-s")) warmup = number(value, 0, 1e6);
    else if (!strcmp(arg, "--threads")) threads = (unsigned)number(value, 0, 1024);
    else if (!strcmp(arg, "--label")) label = value;
    else usage();
  }

  actnet_node_options options;
  check(actnet_node_options_init(&options), "node options");
  options.worker_threads = threads;
  actnet_node *node = NULL;
  check(actnet_node_start(&options, &node), "node start");

  actnet_behavior_callbacks cb;
  check(actnet_behavior_callbacks_init(&cb), "callbacks");
  cb.init = pp_init;
  cb.handle_message = pp_handle;
  actnet_behavior *behavior = NULL;
  check(actnet_behavior_new(&cb, NULL, NULL, &behavior), "behavior");

  for (int p = 0; p < pairs; p++) {
    actnet_pid pid[2];
    for (int k = 0; k < 2; k++) {
      size_t index = (size_t)(2 * p + k);
      actnet_spawn_options so;
      check(actnet_spawn_options_init(&so), "spawn options");
      so.args = (const uint8_t *)&index;
      so.args_len = sizeof index;
      check(actnet_process_spawn(node, behavior, &so, &pid[k]), "spawn");
    }
    /* A gets B's pid and sends the first number; from then on each answers the sender. */
    check(actnet_message_send(node, pid[0], TAG_START, (const uint8_t *)&pid[1], sizeof pid[1]), "start");
  }
  check(actnet_behavior_free(behavior), "behavior free");

  sleep_s(warmup);
  uint64_t m0 = total(pairs);
  double t0 = now_s(), c0 = cpu_s();
  sleep_s(duration);
  uint64_t m1 = total(pairs);
  double elapsed = now_s() - t0, cpu = cpu_s() - c0;
  atomic_store(&stopping, true);
  check(actnet_node_stop(node), "node stop");
  check(actnet_node_free(node), "node free");

  if (m1 == m0) {
    fprintf(stderr, "pingpong: no message was delivered in the measurement window\n");
    return 1;
  }
  double rate = (double)(m1 - m0) / elapsed;
  printf("# actnet ping-pong, %d pair%s, %u worker threads (0 = one per core): %.0f messages/s, CPU %.0f%%\n", pairs,
         pairs == 1 ? "" : "s", threads, rate, cpu / elapsed * 100);
  printf("{\"mode\": \"actnet-pingpong\", \"label\": \"%s\", \"pairs\": %d, \"threads\": %u, \"duration_s\": %.3f, "
         "\"messages\": %llu, \"msgs_per_s\": %.3f, \"cpu_pct\": %.3f}\n",
         label, pairs, threads, elapsed, (unsigned long long)(m1 - m0), rate, cpu / elapsed * 100);
  return 0;
}
