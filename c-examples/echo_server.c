/* echo_server: a TCP echo server built on actnet.
 *
 *   echo_server [--host H] [--port P] [--workers N] [--greet] [--report-lengths]
 *               [--fixed N | --header SIZE,POS,LENSIZE[,incl]] [--max-length N]
 *               [--read-buffer N] [--buffer-pool]
 *               [--keepalive-bytes HEX --keepalive-period-ms MS] [--tcp-keepalive-s S]
 *               [--mailbox-policy pause|terminate]
 *               [--tls-cert PEM --tls-key PEM [--tls-sni NAME=CERT,KEY]... [--tls-client-ca PEM]]
 *               [--threads N]
 *
 * The first line on stdout is "listening on ADDR:PORT". Every DATA is echoed unchanged to
 * the connection it came from (or, with --report-lengths, answered with its length in
 * decimal and "\n"). The process that owns the server is registered as "echo"; with
 * --workers N, N workers registered as tcp_worker_0..N-1 run under a supervisor and
 * connections are routed to them round-robin. --greet makes the handling process write
 * "welcome NAME\n" on CONNECT. With --tls-cert and --tls-key the server speaks TLS, with
 * extra certificates chosen by SNI (--tls-sni, repeatable) and, with --tls-client-ca,
 * requires client certificates signed by that CA (mutual TLS). --threads sets the runtime's
 * worker threads (default: one per core). SIGINT or SIGTERM stops the node cleanly (exit 0).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actnet.h"

typedef struct config {
  const char *host;
  unsigned port;
  unsigned workers;
  unsigned threads;
  bool greet;
  bool report_lengths;
  bool buffer_pool;
  actnet_tcp_server_options server;
  actnet_tcp_connection_options connection; /* server.connection points here */
  actnet_chunk_options chunk;               /* connection.read_chunk points here */
  uint8_t keepalive[256];
  const char *tls_cert, *tls_key, *tls_client_ca;
  const char *tls_sni[16]; /* "NAME=CERT,KEY" */
  int tls_sni_count;
} config;

static void usage(void) {
  fprintf(stderr,
          "usage: echo_server [--host H] [--port P] [--workers N] [--greet] [--report-lengths]\n"
          "                   [--fixed N | --header SIZE,POS,LENSIZE[,incl]] [--max-length N]\n"
          "                   [--read-buffer N] [--buffer-pool]\n"
          "                   [--keepalive-bytes HEX --keepalive-period-ms MS] [--tcp-keepalive-s S]\n"
          "                   [--mailbox-policy pause|terminate]\n"
          "                   [--tls-cert PEM --tls-key PEM [--tls-sni NAME=CERT,KEY]... [--tls-client-ca PEM]]\n"
          "                   [--threads N]\n");
  exit(2);
}

static long number(const char *text, long min, long max) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < min || v > max) {
    fprintf(stderr, "echo_server: bad number '%s'\n", text);
    usage(); /* exits 2 */
  }
  return v;
}

/* "SIZE,POS,LENSIZE[,incl]" */
static void parse_header(const char *text, actnet_chunk_options *chunk) {
  char copy[64];
  snprintf(copy, sizeof copy, "%s", text);
  char *parts[4] = {0};
  int n = 0;
  for (char *tok = strtok(copy, ","); tok && n < 4; tok = strtok(NULL, ",")) parts[n++] = tok;
  if (n < 3 || (n == 4 && strcmp(parts[3], "incl") != 0)) usage();
  chunk->enable = true;
  chunk->header_size = (int32_t)number(parts[0], 0, INT32_MAX);
  chunk->header_length_position = (int32_t)number(parts[1], 0, INT32_MAX);
  chunk->header_length_size = (int32_t)number(parts[2], 0, INT32_MAX);
  chunk->header_length_includes_header = n == 4;
}

static size_t parse_hex(const char *hex, uint8_t *out, size_t cap) {
  size_t len = strlen(hex);
  if (len == 0 || len % 2 || len / 2 > cap) usage();
  for (size_t i = 0; i < len / 2; i++) {
    unsigned byte;
    if (sscanf(hex + 2 * i, "%2x", &byte) != 1) usage();
    out[i] = (uint8_t)byte;
  }
  return len / 2;
}

static void parse(int argc, char **argv, config *c) {
  actnet_tcp_connection_options *conn = &c->connection;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes_value = true;
    if (!strcmp(arg, "--greet")) c->greet = true, takes_value = false;
    else if (!strcmp(arg, "--report-lengths")) c->report_lengths = true, takes_value = false;
    else if (!strcmp(arg, "--buffer-pool")) c->buffer_pool = true, takes_value = false;
    else if (!value) usage();
    else if (!strcmp(arg, "--host")) c->host = value;
    else if (!strcmp(arg, "--port")) c->port = (unsigned)number(value, 0, 65535);
    else if (!strcmp(arg, "--workers")) c->workers = (unsigned)number(value, 0, 1000);
    else if (!strcmp(arg, "--threads")) c->threads = (unsigned)number(value, 0, 1024);
    else if (!strcmp(arg, "--fixed")) {
      c->chunk.enable = true;
      c->chunk.fixed_length = (int32_t)number(value, 1, INT32_MAX);
    } else if (!strcmp(arg, "--header")) parse_header(value, &c->chunk);
    else if (!strcmp(arg, "--max-length")) c->chunk.max_length = (int32_t)number(value, 0, INT32_MAX);
    else if (!strcmp(arg, "--read-buffer")) conn->read_buffer_size = (uint32_t)number(value, 1, INT32_MAX);
    else if (!strcmp(arg, "--keepalive-bytes")) {
      conn->keepalive_bytes_len = parse_hex(value, c->keepalive, sizeof c->keepalive);
      conn->keepalive_bytes = c->keepalive;
    } else if (!strcmp(arg, "--keepalive-period-ms")) conn->keepalive_period_ms = (uint32_t)number(value, 0, INT32_MAX);
    else if (!strcmp(arg, "--tcp-keepalive-s")) conn->tcp_keepalive_s = (int32_t)number(value, -1, INT32_MAX);
    else if (!strcmp(arg, "--mailbox-policy")) {
      if (!strcmp(value, "pause")) conn->mailbox_policy = ACTNET_MAILBOX_POLICY_PAUSE;
      else if (!strcmp(value, "terminate")) conn->mailbox_policy = ACTNET_MAILBOX_POLICY_TERMINATE;
      else usage();
    } else if (!strcmp(arg, "--tls-cert")) c->tls_cert = value;
    else if (!strcmp(arg, "--tls-key")) c->tls_key = value;
    else if (!strcmp(arg, "--tls-client-ca")) c->tls_client_ca = value;
    else if (!strcmp(arg, "--tls-sni")) {
      if (c->tls_sni_count == 16) usage();
      c->tls_sni[c->tls_sni_count++] = value;
    } else usage();
    if (takes_value) i++;
  }
}

static config cfg;

/* Each process's state: its registered name (for --greet). */
typedef struct handler_state {
  char name[64];
} handler_state;

static int32_t handler_init(void *user_data, actnet_node *node, actnet_pid pid, const uint8_t *args, size_t len,
                            void **state) {
  (void)user_data, (void)node, (void)pid;
  handler_state *s = calloc(1, sizeof *s);
  if (!s) return 1;
  snprintf(s->name, sizeof s->name, "%.*s", (int)len, (const char *)args);
  *state = s;
  return 0;
}

static void handler_terminate(void *user_data, actnet_node *node, actnet_pid pid, void *state, uint32_t reason,
                              int32_t code) {
  (void)user_data, (void)node, (void)pid, (void)reason, (void)code;
  free(state);
}

/* Drops a peer that stopped reading until its write queue filled up: what is queued could
 * never be flushed, so the connection is reset rather than closed gracefully. */
static void drop_stalled(actnet_node *node, actnet_alias conn) {
  fprintf(stderr, "echo_server: connection %llu is not reading; dropping it\n", (unsigned long long)conn.id);
  actnet_meta_abort(node, conn);
}

static void reply(actnet_node *node, actnet_alias conn, const void *data, size_t len) {
  if (actnet_tcp_write(node, conn, data, len) == ACTNET_STATUS_WOULD_BLOCK) drop_stalled(node, conn);
}

static int32_t handle_message(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                              const actnet_message *m) {
  (void)user_data, (void)pid;
  handler_state *s = state;
  switch (m->kind) {
    case ACTNET_MSG_CONNECT:
      if (cfg.greet) {
        char line[96];
        int n = snprintf(line, sizeof line, "welcome %s\n", s->name);
        reply(node, m->alias, line, (size_t)n);
      }
      break;
    case ACTNET_MSG_DATA:
      if (cfg.report_lengths) {
        char line[32];
        int n = snprintf(line, sizeof line, "%zu\n", m->len);
        reply(node, m->alias, line, (size_t)n);
        if (m->buf) actnet_buf_free(m->buf);
      } else if (m->buf) {
        /* Zero copy: the received pool buffer goes back out as the write. */
        actnet_status st = actnet_tcp_write_buf(node, m->alias, m->buf);
        if (st != ACTNET_STATUS_OK) {
          actnet_buf_free(m->buf);
          if (st == ACTNET_STATUS_WOULD_BLOCK) drop_stalled(node, m->alias);
        }
      } else {
        reply(node, m->alias, m->data, m->len);
      }
      break;
    default:
      break;
  }
  return 0;
}

static void fail(const char *what, actnet_status s) {
  fprintf(stderr, "echo_server: %s: %s\n", what, actnet_status_str(s));
  exit(1);
}

/* The certificate manager for --tls-*, or NULL without TLS. */
static actnet_certmanager *tls_manager(void) {
  if (!cfg.tls_cert && !cfg.tls_key && !cfg.tls_sni_count && !cfg.tls_client_ca) return NULL;
  if (!cfg.tls_cert || !cfg.tls_key) {
    fprintf(stderr, "echo_server: --tls-cert and --tls-key go together\n");
    exit(2);
  }
  actnet_certmanager *m = NULL;
  actnet_status s = actnet_certmanager_new(&m);
  if (s) fail("certificate manager", s);
  if ((s = actnet_certmanager_set_cert_files(m, NULL, cfg.tls_cert, cfg.tls_key))) fail(cfg.tls_cert, s);
  for (int i = 0; i < cfg.tls_sni_count; i++) {
    char name[256], cert[1024], key[1024];
    if (sscanf(cfg.tls_sni[i], "%255[^=]=%1023[^,],%1023s", name, cert, key) != 3) {
      fprintf(stderr, "echo_server: --tls-sni wants NAME=CERT,KEY, got '%s'\n", cfg.tls_sni[i]);
      exit(2);
    }
    if ((s = actnet_certmanager_set_cert_files(m, name, cert, key))) fail(cfg.tls_sni[i], s);
  }
  if (cfg.tls_client_ca) {
    if ((s = actnet_certmanager_set_ca_file(m, cfg.tls_client_ca))) fail(cfg.tls_client_ca, s);
    cfg.server.tls_client_auth = ACTNET_CLIENT_AUTH_REQUIRED;
  }
  return m;
}

int main(int argc, char **argv) {
  cfg.host = "127.0.0.1";
  if (actnet_tcp_server_options_init(&cfg.server) != ACTNET_STATUS_OK ||
      actnet_tcp_connection_options_init(&cfg.connection) != ACTNET_STATUS_OK ||
      actnet_chunk_options_init(&cfg.chunk) != ACTNET_STATUS_OK)
    return 1;
  /* Framing stays off (enable false) unless --fixed or --header turns it on. */
  cfg.connection.read_chunk = &cfg.chunk;
  cfg.server.connection = &cfg.connection;
  parse(argc, argv, &cfg);

  /* Block SIGINT/SIGTERM before the runtime's threads start, so they inherit the mask and
   * only the main thread takes the signal (with sigwait). */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

  actnet_node_options node_options;
  actnet_node_options_init(&node_options);
  node_options.worker_threads = cfg.threads;
  actnet_node *node = NULL;
  actnet_status s = actnet_node_start(&node_options, &node);
  if (s) fail("node start", s);

  actnet_behavior_callbacks cb;
  actnet_behavior_callbacks_init(&cb);
  cb.init = handler_init;
  cb.handle_message = handle_message;
  cb.terminate = handler_terminate;
  actnet_behavior *behavior = NULL;
  if ((s = actnet_behavior_new(&cb, NULL, NULL, &behavior))) fail("behavior", s);

  /* Workers first, under a supervisor, so the pool names exist when connections arrive. */
  char names[64][32];
  const char *pool[64];
  if (cfg.workers > 64) cfg.workers = 64;
  actnet_child_spec specs[64];
  for (unsigned i = 0; i < cfg.workers; i++) {
    snprintf(names[i], sizeof names[i], "tcp_worker_%u", i);
    pool[i] = names[i];
    actnet_child_spec_init(&specs[i]);
    specs[i].name = names[i];
    specs[i].behavior = behavior;
    specs[i].args = (const uint8_t *)names[i];
    specs[i].args_len = strlen(names[i]);
  }
  if (cfg.workers) {
    actnet_supervisor_options sup;
    actnet_supervisor_options_init(&sup);
    sup.children = specs;
    sup.children_len = cfg.workers;
    actnet_pid sup_pid;
    if ((s = actnet_supervisor_spawn(node, &sup, &sup_pid))) fail("supervisor", s);
  }

  actnet_spawn_options so;
  actnet_spawn_options_init(&so);
  so.args = (const uint8_t *)"echo";
  so.args_len = 4;
  actnet_pid echo_pid;
  if ((s = actnet_process_spawn_register(node, "echo", behavior, &so, &echo_pid))) fail("spawn echo", s);
  actnet_behavior_free(behavior);

  actnet_pool *pool_handle = NULL;
  if (cfg.buffer_pool) {
    size_t size = cfg.connection.read_buffer_size;
    if ((s = actnet_pool_new(size, 1024, &pool_handle))) fail("buffer pool", s);
    cfg.connection.read_buffer_pool = pool_handle;
  }
  cfg.server.host = cfg.host;
  cfg.server.port = (uint16_t)cfg.port;
  cfg.server.process_pool = cfg.workers ? pool : NULL;
  cfg.server.process_pool_len = cfg.workers;
  actnet_certmanager *tls = tls_manager();
  cfg.server.tls_certmanager = tls;
  actnet_alias server;
  uint16_t port = 0;
  if ((s = actnet_tcp_server_spawn(node, echo_pid, &cfg.server, &server, &port))) fail("listen", s);
  if (pool_handle) actnet_pool_free(pool_handle);
  if (tls) actnet_certmanager_free(tls);

  printf("listening on %s:%u\n", cfg.host, (unsigned)port);
  fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  s = actnet_node_free(node); /* stops the node first */
  if (s) fail("node stop", s);
  return 0;
}
