/* chat_server: every line a client sends is broadcast to every connected client.
 *
 *   chat_server [--host H] [--port P]
 *
 * The first line on stdout is "listening on ADDR:PORT". One process owns the server and
 * keeps a registry of live connections (added on CONNECT, removed on DISCONNECT), with each
 * connection's unfinished line; complete lines go out to every connection. This is the
 * reference's "connection registry" and "broadcast" patterns. SIGINT/SIGTERM stop it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actnet.h"

typedef struct client {
  actnet_alias conn;
  char *partial; /* bytes after the last newline */
  size_t partial_len;
} client;

/* The registry: only the owning process touches it, one message at a time. */
typedef struct room {
  client *clients;
  size_t count, capacity;
} room;

static client *find(room *r, actnet_alias conn) {
  for (size_t i = 0; i < r->count; i++)
    if (r->clients[i].conn.id == conn.id) return &r->clients[i];
  return NULL;
}

static void join(room *r, actnet_alias conn) {
  if (r->count == r->capacity) {
    size_t capacity = r->capacity ? r->capacity * 2 : 16;
    client *grown = realloc(r->clients, capacity * sizeof *grown);
    if (!grown) return;
    r->clients = grown;
    r->capacity = capacity;
  }
  r->clients[r->count++] = (client){.conn = conn};
}

static void leave(room *r, actnet_alias conn) {
  client *c = find(r, conn);
  if (!c) return;
  free(c->partial);
  *c = r->clients[--r->count];
}

static void broadcast(actnet_node *node, room *r, const char *line, size_t len) {
  for (size_t i = 0; i < r->count; i++) {
    /* A client too slow to keep up is dropped rather than buffered without bound. */
    if (actnet_tcp_write(node, r->clients[i].conn, (const uint8_t *)line, len) == ACTNET_STATUS_WOULD_BLOCK)
      actnet_meta_terminate(node, r->clients[i].conn);
  }
}

/* Appends data to the client's partial line and broadcasts every complete line. */
static void receive(actnet_node *node, room *r, client *c, const uint8_t *data, size_t len) {
  char *joined = realloc(c->partial, c->partial_len + len);
  if (!joined) return;
  memcpy(joined + c->partial_len, data, len);
  size_t total = c->partial_len + len, start = 0;
  for (size_t i = 0; i < total; i++) {
    if (joined[i] == '\n') {
      broadcast(node, r, joined + start, i + 1 - start);
      start = i + 1;
    }
  }
  memmove(joined, joined + start, total - start);
  c->partial = joined;
  c->partial_len = total - start;
}

static int32_t on_message(void *user_data, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)user_data, (void)pid;
  room *r = state;
  switch (m->kind) {
    case ACTNET_MSG_CONNECT:
      join(r, m->alias);
      break;
    case ACTNET_MSG_DATA: {
      client *c = find(r, m->alias);
      if (c) receive(node, r, c, m->data, m->len);
      break;
    }
    case ACTNET_MSG_DISCONNECT:
      leave(r, m->alias);
      break;
    default:
      break;
  }
  return 0;
}

static int32_t on_init(void *user_data, actnet_node *node, actnet_pid pid, const uint8_t *args, size_t len,
                       void **state) {
  (void)user_data, (void)node, (void)pid, (void)args, (void)len;
  *state = calloc(1, sizeof(room));
  return *state ? 0 : 1;
}

static void on_terminate(void *user_data, actnet_node *node, actnet_pid pid, void *state, uint32_t reason,
                         int32_t code) {
  (void)user_data, (void)node, (void)pid, (void)reason, (void)code;
  room *r = state;
  for (size_t i = 0; i < r->count; i++) free(r->clients[i].partial);
  free(r->clients);
  free(r);
}

static void fail(const char *what, actnet_status s) {
  fprintf(stderr, "chat_server: %s: %s\n", what, actnet_status_str(s));
  exit(1);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  unsigned long port = 0;
  for (int i = 1; i < argc; i++) {
    char *end = NULL;
    if (i + 1 < argc && !strcmp(argv[i], "--host")) host = argv[++i];
    else if (i + 1 < argc && !strcmp(argv[i], "--port") && (port = strtoul(argv[i + 1], &end, 10)) <= 65535 &&
             end != argv[i + 1] && !*end)
      i++;
    else {
      fprintf(stderr, "usage: chat_server [--host H] [--port P]\n");
      return 2;
    }
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  actnet_node *node = NULL;
  actnet_status s = actnet_node_start(NULL, &node);
  if (s) fail("node start", s);
  actnet_behavior_callbacks cb;
  actnet_behavior_callbacks_init(&cb);
  cb.init = on_init;
  cb.handle_message = on_message;
  cb.terminate = on_terminate;
  actnet_behavior *behavior = NULL;
  actnet_pid owner;
  if ((s = actnet_behavior_new(&cb, NULL, NULL, &behavior))) fail("behavior", s);
  if ((s = actnet_process_spawn_register(node, "chat", behavior, NULL, &owner))) fail("spawn", s);
  actnet_behavior_free(behavior);

  actnet_tcp_server_options options;
  actnet_tcp_server_options_init(&options);
  options.host = host;
  options.port = (uint16_t)port;
  actnet_alias server;
  uint16_t bound = 0;
  if ((s = actnet_tcp_server_spawn(node, owner, &options, &server, &bound))) fail("listen", s);
  printf("listening on %s:%u\n", host, (unsigned)bound);
  fflush(stdout);

  int sig;
  sigwait(&stop, &sig);
  return actnet_node_free(node) == ACTNET_STATUS_OK ? 0 : 1; /* stops the node first */
}
