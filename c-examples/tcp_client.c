/* tcp_client: connects through actnet, sends a message, prints what comes back.
 *
 *   tcp_client --host H --port P [--message TEXT] [--timeout-ms MS]
 *              [--tls [--ca PEM] [--server-name NAME] [--insecure] [--cert PEM --key PEM]]
 *
 * Prints everything received to stdout until the peer closes the connection or nothing
 * arrives for the timeout (default 1000 ms), then exits 0. When the connection cannot be
 * made, or ends for a reason other than a close (a reset, a TLS error such as a refused
 * client certificate), prints the error to stderr and exits 1. With --tls it speaks TLS, verifying the server
 * against --ca (default: the system's roots) for --server-name (default: the host), or not
 * at all with --insecure; --cert/--key present a client certificate (mutual TLS).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actnet.h"

/* What the receiving process shares with the main thread. */
typedef struct session {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  bool closed;
  uint32_t reason;        /* the DISCONNECT reason, once closed */
  unsigned long activity; /* bumped on every DATA, so the main thread can tell idle time */
} session;

static int32_t on_message(void *user_data, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)node, (void)pid, (void)state;
  session *s = user_data;
  if (m->kind != ACTNET_MSG_DATA && m->kind != ACTNET_MSG_DISCONNECT) return 0;
  if (m->kind == ACTNET_MSG_DATA) {
    fwrite(m->data, 1, m->len, stdout);
    fflush(stdout);
  }
  pthread_mutex_lock(&s->lock);
  if (m->kind == ACTNET_MSG_DISCONNECT) {
    s->closed = true;
    s->reason = m->reason;
  }
  s->activity++;
  pthread_cond_signal(&s->changed);
  pthread_mutex_unlock(&s->lock);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: tcp_client --host H --port P [--message TEXT] [--timeout-ms MS]\n"
          "                  [--tls [--ca PEM] [--server-name NAME] [--insecure] [--cert PEM --key PEM]]\n");
  exit(2);
}

static long number(const char *text, long max) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < 0 || v > max) usage();
  return v;
}

/* Waits until the peer closes, or `timeout_ms` pass without any data. */
static void wait_until_quiet(session *s, long timeout_ms) {
  pthread_mutex_lock(&s->lock);
  while (!s->closed) {
    unsigned long seen = s->activity;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    while (!s->closed && s->activity == seen) {
      if (pthread_cond_timedwait(&s->changed, &s->lock, &deadline) == ETIMEDOUT) break;
    }
    if (s->activity == seen) break; /* quiet for the whole timeout */
  }
  pthread_mutex_unlock(&s->lock);
}

int main(int argc, char **argv) {
  const char *host = NULL, *message = NULL;
  const char *ca = NULL, *server_name = NULL, *cert = NULL, *key = NULL;
  bool tls = false, insecure = false;
  long port = -1, timeout_ms = 1000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--tls")) {
      tls = true;
      continue;
    }
    if (!strcmp(argv[i], "--insecure")) {
      insecure = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    if (!strcmp(argv[i], "--host")) host = argv[++i];
    else if (!strcmp(argv[i], "--ca")) ca = argv[++i];
    else if (!strcmp(argv[i], "--server-name")) server_name = argv[++i];
    else if (!strcmp(argv[i], "--cert")) cert = argv[++i];
    else if (!strcmp(argv[i], "--key")) key = argv[++i];
    else if (!strcmp(argv[i], "--port")) port = number(argv[++i], 65535);
    else if (!strcmp(argv[i], "--message")) message = argv[++i];
    else if (!strcmp(argv[i], "--timeout-ms")) timeout_ms = number(argv[++i], 3600000);
    else usage();
  }
  if (!host || port < 0 || (!cert != !key)) usage();
  if ((ca || server_name || insecure || cert) && !tls) usage();

  session s = {.closed = false, .activity = 0};
  pthread_mutex_init(&s.lock, NULL);
  pthread_cond_init(&s.changed, NULL);

  actnet_node_options node_options;
  actnet_node_options_init(&node_options);
  node_options.log_level = ACTNET_LOG_LEVEL_WARN; /* shows the warning --insecure must give */
  actnet_node *node = NULL;
  actnet_behavior_callbacks cb;
  actnet_behavior_callbacks_init(&cb);
  cb.handle_message = on_message;
  actnet_behavior *behavior = NULL;
  actnet_pid receiver = {0};
  if (actnet_node_start(&node_options, &node) || actnet_behavior_new(&cb, &s, NULL, &behavior) ||
      actnet_process_spawn(node, behavior, NULL, &receiver)) {
    fprintf(stderr, "tcp_client: cannot start the node\n");
    if (behavior) actnet_behavior_free(behavior);
    if (node) actnet_node_free(node);
    return 1;
  }
  actnet_behavior_free(behavior);

  actnet_tcp_client_options options;
  actnet_tcp_client_options_init(&options);
  options.host = host;
  options.port = (uint16_t)port;
  actnet_certmanager *manager = NULL;
  actnet_status status = ACTNET_STATUS_OK;
  if (tls) {
    options.tls = true;
    options.tls_server_name = server_name;
    options.tls_insecure_skip_verify = insecure;
    if (ca || cert) {
      actnet_certmanager_new(&manager);
      if (ca && (status = actnet_certmanager_set_ca_file(manager, ca)))
        fprintf(stderr, "tcp_client: %s: %s\n", ca, actnet_status_str(status));
      else if (cert && (status = actnet_certmanager_set_cert_files(manager, NULL, cert, key)))
        fprintf(stderr, "tcp_client: %s: %s\n", cert, actnet_status_str(status));
      options.tls_certmanager = manager;
    }
  }
  actnet_alias conn = {0};
  if (status == ACTNET_STATUS_OK) status = actnet_tcp_connect(node, receiver, &options, &conn);
  if (manager) actnet_certmanager_free(manager);
  if (status != ACTNET_STATUS_OK) {
    fprintf(stderr, "tcp_client: cannot connect to %s:%ld: %s\n", host, port, actnet_status_str(status));
    actnet_node_free(node);
    return 1;
  }
  if (message) {
    status = actnet_tcp_write(node, conn, (const uint8_t *)message, strlen(message));
    if (status != ACTNET_STATUS_OK) fprintf(stderr, "tcp_client: write failed: %s\n", actnet_status_str(status));
  }
  wait_until_quiet(&s, timeout_ms);
  int exit_code = 0;
  pthread_mutex_lock(&s.lock);
  if (s.closed && s.reason != ACTNET_DISCONNECT_REASON_PEER_CLOSED && s.reason != ACTNET_DISCONNECT_REASON_CLOSED) {
    fprintf(stderr, "tcp_client: connection to %s:%ld ended: %s\n", host, port, actnet_disconnect_reason_str(s.reason));
    exit_code = 1;
  }
  pthread_mutex_unlock(&s.lock);
  actnet_node_free(node); /* stops the node first: no callback touches `s` after this */
  pthread_mutex_destroy(&s.lock);
  pthread_cond_destroy(&s.changed);
  return exit_code;
}
