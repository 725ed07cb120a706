/* supervisor_demo: a supervisor keeps three workers alive. Run it with
 *     cmake --workflow --preset demo
 *
 * What happens, in order:
 *   1. A node starts. A supervisor (strategy one_for_one) starts three workers, registered
 *      under the names worker_0, worker_1 and worker_2.
 *   2. The main thread asks each worker, by name, to square a number. Each request is a
 *      call: the worker's handler answers with actnet_process_reply, the caller waits for the
 *      answer with a timeout.
 *   3. A watcher process monitors worker_1. worker_1 is then told to fail: its handler
 *      returns a non-zero code, which ends that process.
 *   4. The watcher receives DOWN with the reason and code. The supervisor starts a new
 *      worker_1: a new pid under the same name, with fresh state (its job counter is 0).
 *   5. The same calls by name work again; the old pid is now simply NOT_FOUND.
 *   6. The node stops, which ends every process, and its handle is freed.
 *
 * Callbacks run on the node's threads. What they see that the main thread must know is put
 * in `events`, under a mutex; the main thread waits for it with a timeout. So the demo never
 * sleeps to "let things happen", and anything unexpected makes it exit non-zero.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actnet.h"

enum { WORKERS = 3, WAIT_SECONDS = 2, CALL_TIMEOUT_MS = 2000, FAILURE_CODE = 42 };

/* Message tags: the tag is a number the sender chooses; the receiver switches on it. */
enum { TAG_SQUARE = 1, TAG_FAIL = 2 };

/* A worker's answer to TAG_SQUARE. Message bytes are opaque to actnet: both sides of this
 * demo are in one program, so a struct will do. */
typedef struct answer {
  int32_t square;
  int32_t jobs; /* calls this worker has answered, this one included */
  actnet_pid pid; /* the worker that answered */
} answer;

/* Shared between the callbacks (on runtime threads) and the main thread. */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int starts;               /* worker inits so far: 3 at first, one more per restart */
  actnet_pid pid_of[WORKERS]; /* each worker's latest pid, set by its init */
  int downs;                /* DOWN messages the watcher received */
  actnet_pid down_pid;
  uint32_t down_reason;
  int32_t down_code;
} events = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static void fail(const char *what) {
  fprintf(stderr, "supervisor_demo: FAILED: %s\n", what);
  exit(1);
}

static void check(actnet_status status, const char *what) {
  if (status != ACTNET_STATUS_OK) {
    fprintf(stderr, "supervisor_demo: FAILED: %s: %s\n", what, actnet_status_str(status));
    exit(1);
  }
}

/* Waits until *counter reaches target (counters only grow), for at most WAIT_SECONDS. */
static void wait_for(const int *counter, int target, const char *what) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += WAIT_SECONDS;
  pthread_mutex_lock(&events.lock);
  while (*counter < target) {
    if (pthread_cond_timedwait(&events.changed, &events.lock, &deadline) == ETIMEDOUT) {
      pthread_mutex_unlock(&events.lock);
      fail(what);
    }
  }
  pthread_mutex_unlock(&events.lock);
}

/* ---- The worker behaviour. Every start (first start or restart) runs worker_init, which
 * ---- creates fresh per-process state; worker_terminate frees it when the process ends. */

typedef struct worker {
  int index; /* 0, 1 or 2: from the child spec's args */
  int jobs;
} worker;

static int32_t worker_init(void *user_data, actnet_node *node, actnet_pid pid, const uint8_t *args,
                           size_t args_len, void **state) {
  (void)user_data; (void)node;
  worker *w = calloc(1, sizeof *w);
  if (w == NULL || args_len != 1) {
    free(w);
    return 1; /* the spawn fails with ACTNET_STATUS_INIT_FAILED */
  }
  w->index = args[0];
  *state = w;
  pthread_mutex_lock(&events.lock);
  events.pid_of[w->index] = pid;
  events.starts++;
  pthread_cond_broadcast(&events.changed);
  pthread_mutex_unlock(&events.lock);
  return 0;
}

static int32_t worker_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                             const actnet_message *message) {
  (void)user_data;
  worker *w = state;
  if (message->kind == ACTNET_MSG_CALL && message->tag == TAG_SQUARE &&
      message->len == sizeof(int32_t)) {
    int32_t n;
    memcpy(&n, message->data, sizeof n);
    answer a = {.square = n * n, .jobs = ++w->jobs, .pid = pid};
    /* The reply is copied; the caller gets it as a buffer of its own. */
    actnet_status status = actnet_process_reply(node, message->reference, (const uint8_t *)&a, sizeof a);
    return status == ACTNET_STATUS_OK ? 0 : 1; /* NOT_FOUND: the caller gave up waiting */
  }
  if (message->kind == ACTNET_MSG_USER && message->tag == TAG_FAIL) {
    return FAILURE_CODE; /* non-zero: this process ends with reason ERROR, code 42 */
  }
  return 0; /* ignore anything else */
}

static void worker_terminate(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                             uint32_t reason, int32_t reason_code) {
  (void)user_data; (void)node; (void)pid; (void)reason; (void)reason_code;
  free(state);
}

/* ---- The watcher behaviour: reports each DOWN message to the main thread. */

static int32_t watcher_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                              const actnet_message *message) {
  (void)user_data; (void)node; (void)pid; (void)state;
  if (message->kind == ACTNET_MSG_DOWN) {
    pthread_mutex_lock(&events.lock);
    events.down_pid = message->from; /* DOWN of a process: `from` is the process that ended */
    events.down_reason = message->reason;
    events.down_code = message->reason_code;
    events.downs++;
    pthread_cond_broadcast(&events.changed);
    pthread_mutex_unlock(&events.lock);
  }
  return 0;
}

/* ---- The main thread. */

static actnet_behavior *new_behavior(actnet_init_fn init, actnet_handle_fn handle,
                                     actnet_terminate_fn terminate) {
  actnet_behavior_callbacks callbacks;
  check(actnet_behavior_callbacks_init(&callbacks), "behavior callbacks");
  callbacks.init = init;
  callbacks.handle_message = handle;
  callbacks.terminate = terminate;
  actnet_behavior *behavior;
  check(actnet_behavior_new(&callbacks, NULL, NULL, &behavior), "new behavior");
  return behavior;
}

/* Asks the worker registered as `name` to square n, and checks the answer. */
static answer square_by_name(actnet_node *node, const char *name, int32_t n) {
  actnet_pid pid;
  check(actnet_name_lookup(node, name, &pid), name);
  actnet_buf *reply;
  check(actnet_process_call(node, pid, TAG_SQUARE, (const uint8_t *)&n, sizeof n,
                            CALL_TIMEOUT_MS, &reply),
        "call");
  answer a;
  if (actnet_buf_len(reply) != sizeof a) fail("reply has the wrong size");
  memcpy(&a, actnet_buf_data(reply), sizeof a);
  check(actnet_buf_free(reply), "free reply"); /* replies belong to the caller */
  if (a.square != n * n || a.pid.id != pid.id) fail("wrong answer");
  printf("  %s (pid %llu): %d squared is %d  [job %d of this process]\n", name,
         (unsigned long long)a.pid.id, n, a.square, a.jobs);
  return a;
}

static void round_of_calls(actnet_node *node, int round) {
  printf("Round %d: the main thread calls each worker by name\n", round);
  for (int i = 0; i < WORKERS; i++) {
    char name[16];
    snprintf(name, sizeof name, "worker_%d", i);
    answer a = square_by_name(node, name, 2 + i);
    /* After the restart, worker_1 starts counting again from 1: its state is new. */
    int expected_jobs = (round == 2 && i == 1) ? 1 : round;
    if (a.jobs != expected_jobs) fail("unexpected job count");
  }
}

int main(void) {
  printf("actnet %s: supervisor demo\n\n", actnet_version());

  actnet_node_options options;
  check(actnet_node_options_init(&options), "node options");
  options.name = "demo";
  options.worker_threads = 2;
  actnet_node *node;
  check(actnet_node_start(&options, &node), "start node");
  printf("Node \"demo\" started\n");

  /* A supervisor with three permanent children, worker_0..2, all from one behaviour. The
   * child spec's args (the worker's index) are handed to init on every start. */
  actnet_behavior *workers = new_behavior(worker_init, worker_handle, worker_terminate);
  actnet_child_spec children[WORKERS];
  char names[WORKERS][16];
  uint8_t indices[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    check(actnet_child_spec_init(&children[i]), "child spec");
    snprintf(names[i], sizeof names[i], "worker_%d", i);
    indices[i] = (uint8_t)i;
    children[i].name = names[i];
    children[i].behavior = workers;
    children[i].args = &indices[i];
    children[i].args_len = 1;
  }
  actnet_supervisor_options sup;
  check(actnet_supervisor_options_init(&sup), "supervisor options");
  sup.strategy = ACTNET_STRATEGY_ONE_FOR_ONE;
  sup.children = children;
  sup.children_len = WORKERS;
  actnet_pid supervisor;
  check(actnet_supervisor_spawn(node, &sup, &supervisor), "spawn supervisor");
  check(actnet_behavior_free(workers), "free behavior"); /* the supervisor keeps its own */
  wait_for(&events.starts, WORKERS, "the workers did not start");
  printf("Supervisor (pid %llu) started worker_0 (pid %llu), worker_1 (pid %llu), "
         "worker_2 (pid %llu)\n\n",
         (unsigned long long)supervisor.id, (unsigned long long)events.pid_of[0].id,
         (unsigned long long)events.pid_of[1].id, (unsigned long long)events.pid_of[2].id);

  round_of_calls(node, 1);

  /* A watcher process monitors worker_1: it will get one DOWN message when worker_1 ends. */
  actnet_behavior *watching = new_behavior(NULL, watcher_handle, NULL);
  actnet_pid watcher, old_pid;
  uint64_t reference; /* monitor references stay plain numbers */
  check(actnet_process_spawn(node, watching, NULL, &watcher), "spawn watcher");
  check(actnet_behavior_free(watching), "free behavior");
  check(actnet_name_lookup(node, "worker_1", &old_pid), "worker_1");
  check(actnet_process_monitor(node, watcher, old_pid, &reference), "monitor");
  printf("\nWatcher (pid %llu) monitors worker_1 (pid %llu)\n", (unsigned long long)watcher.id,
         (unsigned long long)old_pid.id);

  printf("Telling worker_1 to fail: its handler will return %d\n", FAILURE_CODE);
  check(actnet_message_send_name(node, "worker_1", TAG_FAIL, NULL, 0), "send TAG_FAIL");

  wait_for(&events.downs, 1, "no DOWN message for worker_1");
  if (events.down_pid.id != old_pid.id || events.down_reason != ACTNET_EXIT_ERROR ||
      events.down_code != FAILURE_CODE)
    fail("unexpected DOWN message");
  printf("Watcher got DOWN: pid %llu ended, reason \"%s\", code %d\n",
         (unsigned long long)events.down_pid.id, actnet_exit_reason_str(events.down_reason),
         events.down_code);

  /* The supervisor restarts worker_1; its init runs again (the 4th worker start), and the
   * name is registered for the new process before init runs. */
  wait_for(&events.starts, WORKERS + 1, "worker_1 was not restarted");
  actnet_pid new_pid;
  check(actnet_name_lookup(node, "worker_1", &new_pid), "worker_1 after the restart");
  if (new_pid.id == old_pid.id || new_pid.id != events.pid_of[1].id) fail("worker_1 has a wrong pid");
  printf("Supervisor restarted worker_1: same name, new pid %llu (was %llu)\n",
         (unsigned long long)new_pid.id, (unsigned long long)old_pid.id);
  actnet_status stale = actnet_message_send(node, old_pid, TAG_SQUARE, NULL, 0);
  if (stale != ACTNET_STATUS_NOT_FOUND) fail("the old pid is still reachable");
  printf("Sending to the old pid %llu: %s (pids are never reused)\n\n",
         (unsigned long long)old_pid.id, actnet_status_str(stale));

  round_of_calls(node, 2);

  /* Stopping the node stops every process (the supervisor, its workers, the watcher) and
   * runs their terminate callbacks; the handle stays valid (any call on it now returns
   * NODE_STOPPING) until it is freed. */
  check(actnet_node_stop(node), "stop node");
  check(actnet_node_free(node), "free node");
  printf("\nNode stopped. Bye.\n");
  return 0;
}
