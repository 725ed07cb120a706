/* tcp_demo: actnet doing real TCP work, end to end, in one process.
 *
 * A server process listens on 127.0.0.1 with 4-byte length-header framing and routes
 * connections round-robin to two echo workers kept alive by a supervisor. Four client
 * processes connect through the same library, each sending framed messages one after
 * another and checking every echo byte for byte. The demo prints what happened and a
 * summary, stops the node and exits 0 (1 if anything went wrong).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actnet.h"

#define CLIENTS 4
#define MESSAGES 2000
#define WAIT_SECONDS 20

static uint16_t server_port;

/* What the clients report to the main thread. */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int finished, failed;
  unsigned long echoed, bytes;
} results = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};

static void report(bool ok, unsigned long echoed, unsigned long bytes) {
  pthread_mutex_lock(&results.lock);
  results.finished++;
  results.failed += !ok;
  results.echoed += echoed;
  results.bytes += bytes;
  pthread_cond_signal(&results.changed);
  pthread_mutex_unlock(&results.lock);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The framing both sides use: [4-byte big-endian payload length][payload]. Filled once by
 * main before anything connects; the server and every client connection read it. */
static actnet_chunk_options length_header;
static actnet_tcp_connection_options framed;

static void init_framing(void) {
  actnet_chunk_options_init(&length_header);
  length_header.enable = true;
  length_header.header_size = 4;
  length_header.header_length_size = 4;
  length_header.max_length = 64 * 1024;
  actnet_tcp_connection_options_init(&framed);
  framed.read_chunk = &length_header;
}

/* ---- echo workers: send every frame back to the connection it came from ---- */
static int32_t echo_message(void *ud, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)ud, (void)pid, (void)state;
  if (m->kind == ACTNET_MSG_DATA) return actnet_tcp_write(node, m->alias, m->data, m->len) == ACTNET_STATUS_OK ? 0 : 1;
  return 0;
}

/* ---- clients: one frame in flight at a time, each echo checked ---- */
typedef struct client {
  int index;
  actnet_alias conn;
  int sent;
  unsigned long bytes;
  uint8_t frame[4 + 64];
  size_t frame_len;
} client;

/* Builds frame number i of this client: "client C message I" with its header. */
static void build_frame(client *c, int i) {
  int n = snprintf((char *)c->frame + 4, sizeof c->frame - 4, "client %d message %d", c->index, i);
  c->frame[0] = 0, c->frame[1] = 0, c->frame[2] = (uint8_t)(n >> 8), c->frame[3] = (uint8_t)n;
  c->frame_len = 4 + (size_t)n;
}

static void send_next(actnet_node *node, client *c) {
  build_frame(c, c->sent++);
  actnet_tcp_write(node, c->conn, c->frame, c->frame_len);
}

static int32_t client_init(void *ud, actnet_node *node, actnet_pid pid, const uint8_t *args, size_t len, void **state) {
  (void)ud, (void)len;
  client *c = calloc(1, sizeof *c);
  if (!c) return 1;
  c->index = args[0];
  actnet_tcp_client_options options;
  actnet_tcp_client_options_init(&options);
  options.host = "127.0.0.1";
  options.port = server_port;
  options.connection = &framed;
  actnet_status s = actnet_tcp_connect(node, pid, &options, &c->conn);
  if (s != ACTNET_STATUS_OK) {
    fprintf(stderr, "client %d: connect failed: %s\n", c->index, actnet_status_str(s));
    free(c);
    return 1;
  }
  *state = c;
  return 0;
}

static int32_t client_message(void *ud, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)ud, (void)pid;
  client *c = state;
  switch (m->kind) {
    case ACTNET_MSG_CONNECT:
      printf("client %d connected from %s to %s\n", c->index, m->local_addr, m->remote_addr);
      send_next(node, c);
      break;
    case ACTNET_MSG_DATA:
      if (m->len != c->frame_len || memcmp(m->data, c->frame, m->len) != 0) {
        fprintf(stderr, "client %d: echo %d does not match what was sent\n", c->index, c->sent - 1);
        report(false, 0, 0);
        return 1;
      }
      c->bytes += m->len;
      if (c->sent < MESSAGES) {
        send_next(node, c);
      } else {
        actnet_meta_terminate(node, c->conn); /* close: DISCONNECT follows */
      }
      break;
    case ACTNET_MSG_DISCONNECT:
      printf("client %d: %d messages echoed, connection closed (%s)\n", c->index, c->sent,
             actnet_disconnect_reason_str(m->reason));
      report(c->sent == MESSAGES && m->reason == ACTNET_DISCONNECT_REASON_CLOSED, (unsigned long)c->sent, c->bytes);
      break;
    default:
      break;
  }
  return 0;
}

static void client_terminate(void *ud, actnet_node *node, actnet_pid pid, void *state, uint32_t reason, int32_t code) {
  (void)ud, (void)node, (void)pid, (void)reason, (void)code;
  free(state);
}

/* ---- the server's owner only owns it; connections go to the workers ---- */
static int32_t ignore(void *ud, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)ud, (void)node, (void)pid, (void)state, (void)m;
  return 0;
}

static actnet_behavior *behavior(actnet_init_fn init, actnet_handle_fn handle, actnet_terminate_fn terminate) {
  actnet_behavior_callbacks cb;
  actnet_behavior_callbacks_init(&cb);
  cb.init = init;
  cb.handle_message = handle;
  cb.terminate = terminate;
  actnet_behavior *b = NULL;
  if (actnet_behavior_new(&cb, NULL, NULL, &b) != ACTNET_STATUS_OK) exit(1);
  return b;
}

static void check(actnet_status s, const char *what) {
  if (s != ACTNET_STATUS_OK) {
    fprintf(stderr, "tcp_demo: %s: %s\n", what, actnet_status_str(s));
    exit(1);
  }
}

/* Prints the values of `keys` from an inspect result, and frees it. */
static void print_info(actnet_info *info, const char *title, const char *const *keys) {
  printf("%s:", title);
  for (const char *const *k = keys; *k; k++) {
    const char *v = actnet_info_get(info, *k);
    printf(" %s=%s", *k, v ? v : "?");
  }
  printf("\n");
  actnet_info_free(info);
}

int main(void) {
  printf("actnet %s TCP demo\n", actnet_version());
  actnet_node *node = NULL;
  check(actnet_node_start(NULL, &node), "node start");
  init_framing();

  /* Two echo workers under a supervisor, registered as tcp_worker_0 and tcp_worker_1. */
  actnet_behavior *echo = behavior(NULL, echo_message, NULL);
  const char *pool[] = {"tcp_worker_0", "tcp_worker_1"};
  actnet_child_spec children[2];
  for (int i = 0; i < 2; i++) {
    actnet_child_spec_init(&children[i]);
    children[i].name = pool[i];
    children[i].behavior = echo;
  }
  actnet_supervisor_options sup;
  actnet_supervisor_options_init(&sup);
  sup.children = children;
  sup.children_len = 2;
  actnet_pid supervisor;
  check(actnet_supervisor_spawn(node, &sup, &supervisor), "supervisor");

  /* The server, owned by an "echo" process, framing with a 4-byte length header. */
  actnet_behavior *owner_behavior = behavior(NULL, ignore, NULL);
  actnet_pid owner;
  actnet_alias server;
  check(actnet_process_spawn_register(node, "echo", owner_behavior, NULL, &owner), "spawn echo");
  actnet_tcp_server_options options;
  actnet_tcp_server_options_init(&options);
  options.host = "127.0.0.1";
  options.process_pool = pool;
  options.process_pool_len = 2;
  options.connection = &framed;
  check(actnet_tcp_server_spawn(node, owner, &options, &server, &server_port), "listen");
  printf("server listening on 127.0.0.1:%u, 4-byte length framing, round-robin over %s and %s\n",
         (unsigned)server_port, pool[0], pool[1]);

  /* Four clients; each connects in its init and talks until done. */
  double start = now();
  actnet_behavior *client_behavior = behavior(client_init, client_message, client_terminate);
  for (uint8_t i = 0; i < CLIENTS; i++) {
    actnet_spawn_options so;
    actnet_spawn_options_init(&so);
    so.args = &i;
    so.args_len = 1;
    actnet_pid pid;
    check(actnet_process_spawn(node, client_behavior, &so, &pid), "spawn client");
  }

  /* Wait (bounded) for every client to report. */
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += WAIT_SECONDS;
  pthread_mutex_lock(&results.lock);
  while (results.finished < CLIENTS && pthread_cond_timedwait(&results.changed, &results.lock, &deadline) == 0) {
  }
  bool ok = results.finished == CLIENTS && results.failed == 0;
  double seconds = now() - start;
  pthread_mutex_unlock(&results.lock);

  const char *server_keys[] = {"listener", "accepted", NULL};
  const char *worker_keys[] = {"name", "messages in", NULL};
  actnet_info *info = NULL;
  if (actnet_meta_inspect(node, server, &info) == ACTNET_STATUS_OK) print_info(info, "server", server_keys);
  for (int i = 0; i < 2; i++) {
    actnet_pid pid;
    if (actnet_name_lookup(node, pool[i], &pid) == ACTNET_STATUS_OK &&
        actnet_process_inspect(node, pid, &info) == ACTNET_STATUS_OK)
      print_info(info, "worker", worker_keys);
  }
  printf("summary: %d/%d clients finished, %lu framed messages echoed (%lu bytes each way) in %.3f s, %.0f round trips/s\n",
         results.finished, CLIENTS, results.echoed, results.bytes, seconds, (double)results.echoed / seconds);

  actnet_behavior_free(echo);
  actnet_behavior_free(owner_behavior);
  actnet_behavior_free(client_behavior);
  check(actnet_node_stop(node), "node stop");
  check(actnet_node_free(node), "node free");
  printf(ok ? "node stopped; demo OK\n" : "node stopped; demo FAILED\n");
  return ok ? 0 : 1;
}
