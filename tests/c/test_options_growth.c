/* Options structs that grow: a caller built against an older header passes a smaller
 * struct_size, and the library reads only that much and gives the fields it does not know
 * their defaults (CHANGELOG 0.2, "Options that can grow").
 *
 * The "older" layouts below are today's structs without their last fields, as a caller
 * built before those fields were appended would have them. Each is placed so that it ends
 * exactly at a page the process may not read (a guard page): reading one byte past
 * struct_size crashes the test. For every struct:
 * - the older layout is accepted and the missing fields take their defaults (seen through
 *   inspect, through behaviour, or through what the library writes back);
 * - a struct_size larger than the library's (a newer caller) or too small to hold
 *   struct_size itself is ACTNET_STATUS_STRUCT_SIZE, and nothing is created. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "net.h"

/* An older layout must be a prefix of today's: same fields at the same offsets. */
#define SAME_FIELD(old_t, new_t, field) \
  _Static_assert(offsetof(old_t, field) == offsetof(new_t, field), #old_t "." #field " moved")

/* actnet_node_options before the log callback fields. */
typedef struct old_node_options {
  uint32_t struct_size;
  uint32_t worker_threads;
  const char *name;
  uint32_t log_level;
  uint32_t default_mailbox_size;
} old_node_options;
SAME_FIELD(old_node_options, actnet_node_options, default_mailbox_size);

/* actnet_spawn_options before trap_exits. */
typedef struct old_spawn_options {
  uint32_t struct_size;
  uint32_t mailbox_size;
  const char *name;
  const uint8_t *args;
  size_t args_len;
  actnet_pid link_to;
} old_spawn_options;
SAME_FIELD(old_spawn_options, actnet_spawn_options, link_to);

/* actnet_behavior_callbacks before terminate. */
typedef struct old_behavior_callbacks {
  uint32_t struct_size;
  actnet_init_fn init;
  actnet_handle_fn handle_message;
} old_behavior_callbacks;
SAME_FIELD(old_behavior_callbacks, actnet_behavior_callbacks, handle_message);

/* actnet_child_spec before mailbox_size. */
typedef struct old_child_spec {
  uint32_t struct_size;
  uint32_t restart;
  const char *name;
  const actnet_behavior *behavior;
  const uint8_t *args;
  size_t args_len;
} old_child_spec;
SAME_FIELD(old_child_spec, actnet_child_spec, args_len);

/* actnet_chunk_options before max_length. */
typedef struct old_chunk_options {
  uint32_t struct_size;
  bool enable;
  int32_t fixed_length;
  int32_t header_size;
  int32_t header_length_position;
  int32_t header_length_size;
  bool header_length_includes_header;
} old_chunk_options;
SAME_FIELD(old_chunk_options, actnet_chunk_options, header_length_includes_header);

/* actnet_tcp_connection_options before the keepalive fields. */
typedef struct old_connection_options {
  uint32_t struct_size;
  uint32_t read_buffer_size;
  const actnet_pool *read_buffer_pool;
  const actnet_chunk_options *read_chunk;
} old_connection_options;
SAME_FIELD(old_connection_options, actnet_tcp_connection_options, read_chunk);

/* actnet_tcp_server_options before the TLS fields. */
typedef struct old_server_options {
  uint32_t struct_size;
  uint16_t port;
  const char *host;
  int32_t backlog;
  const char *const *process_pool;
  size_t process_pool_len;
  bool reuse_address;
  bool reuse_port;
  const actnet_tcp_connection_options *connection;
} old_server_options;
SAME_FIELD(old_server_options, actnet_tcp_server_options, connection);

/* actnet_tcp_client_options before the TLS fields. */
typedef struct old_client_options {
  uint32_t struct_size;
  uint16_t port;
  const char *host;
  uint32_t connect_timeout_ms;
  const char *process;
  const actnet_tcp_connection_options *connection;
} old_client_options;
SAME_FIELD(old_client_options, actnet_tcp_client_options, connection);

/* actnet_pool_stats before idle, outstanding and allocations. */
typedef struct old_pool_stats {
  uint32_t struct_size;
  uint64_t buffer_size;
  uint64_t allocated;
} old_pool_stats;
SAME_FIELD(old_pool_stats, actnet_pool_stats, allocated);

/* Memory for `size` bytes that end where an unreadable page begins. */
typedef struct guarded {
  uint8_t *base;
  size_t map_len;
  void *at;
} guarded;

static guarded guarded_new(size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  CHECK(size <= page); /* sizeof keeps the struct's alignment at the page's end */
  guarded g = {0};
  g.map_len = 2 * page;
  g.base = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(g.base != MAP_FAILED);
  CHECK(mprotect(g.base + page, page, PROT_NONE) == 0);
  g.at = g.base + page - size;
  return g;
}

static void guarded_free(guarded *g) {
  CHECK(munmap(g->base, g->map_len) == 0);
}

/* Copies an older struct to the end of a fresh guarded page. */
#define GUARDED_COPY(g, value) (memcpy(((g) = guarded_new(sizeof(value))).at, &(value), sizeof(value)), (g).at)

/* What the test behaviour saw: DATA messages and the length of the last one. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seen_cond = PTHREAD_COND_INITIALIZER;
static int data_messages;
static size_t last_data_len;

static int32_t handle(void *user_data, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)user_data, (void)node, (void)pid, (void)state;
  if (m->kind == ACTNET_MSG_DATA) {
    pthread_mutex_lock(&seen_lock);
    last_data_len = m->len;
    data_messages++;
    pthread_cond_broadcast(&seen_cond);
    pthread_mutex_unlock(&seen_lock);
  }
  return 0;
}

/* Waits for the count-th DATA message; returns the length of the last one, or 0. */
static size_t wait_for_data(int count, int timeout_ms) {
  struct timespec deadline;
  deadline_in(&deadline, timeout_ms);
  pthread_mutex_lock(&seen_lock);
  int waited = 0;
  while (data_messages < count && waited == 0) waited = pthread_cond_timedwait(&seen_cond, &seen_lock, &deadline);
  size_t len = data_messages >= count ? last_data_len : 0;
  pthread_mutex_unlock(&seen_lock);
  return len;
}

static actnet_node *start_node_from_older_options(void) {
  old_node_options old = {sizeof old, 1, "grown", ACTNET_LOG_LEVEL_WARN, 16};
  guarded g;
  actnet_node *node = NULL;
  CHECK_OK(actnet_node_start(GUARDED_COPY(g, old), &node));
  guarded_free(&g);

  actnet_node_options bad;
  CHECK_OK(actnet_node_options_init(&bad));
  bad.struct_size = sizeof bad + 8;
  actnet_node *none = NULL;
  CHECK_STATUS(actnet_node_start(&bad, &none), ACTNET_STATUS_STRUCT_SIZE);
  bad.struct_size = 2;
  CHECK_STATUS(actnet_node_start(&bad, &none), ACTNET_STATUS_STRUCT_SIZE);
  CHECK(none == NULL);
  return node;
}

static actnet_behavior *behavior_from_older_callbacks(void) {
  old_behavior_callbacks old = {sizeof old, NULL, handle};
  guarded g;
  actnet_behavior *behavior = NULL;
  CHECK_OK(actnet_behavior_new(GUARDED_COPY(g, old), NULL, NULL, &behavior));
  guarded_free(&g);

  actnet_behavior_callbacks bad;
  CHECK_OK(actnet_behavior_callbacks_init(&bad));
  bad.handle_message = handle;
  bad.struct_size = sizeof bad + 8;
  actnet_behavior *none = NULL;
  CHECK_STATUS(actnet_behavior_new(&bad, NULL, NULL, &none), ACTNET_STATUS_STRUCT_SIZE);
  CHECK(none == NULL);
  return behavior;
}

/* The node default mailbox (16, from the older node options) and the spawn's own fields. */
static actnet_pid spawn_from_older_options(actnet_node *node, actnet_behavior *behavior) {
  old_spawn_options old = {sizeof old, 7, "old-spawn", NULL, 0, {0}};
  guarded g;
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, behavior, GUARDED_COPY(g, old), &pid));
  guarded_free(&g);
  CHECK(strcmp(inspect_str(node, pid, "name"), "old-spawn") == 0);
  CHECK(strcmp(inspect_str(node, pid, "mailbox capacity"), "7") == 0);
  CHECK(strcmp(inspect_str(node, pid, "trap exits"), "false") == 0);

  actnet_pid defaults = {0};
  CHECK_OK(actnet_process_spawn(node, behavior, NULL, &defaults));
  CHECK(strcmp(inspect_str(node, defaults, "mailbox capacity"), "16") == 0);
  CHECK_OK(actnet_process_stop(node, defaults));

  actnet_spawn_options bad;
  CHECK_OK(actnet_spawn_options_init(&bad));
  bad.struct_size = sizeof bad + 8;
  actnet_pid none = {0};
  CHECK_STATUS(actnet_process_spawn(node, behavior, &bad, &none), ACTNET_STATUS_STRUCT_SIZE);
  CHECK(none.id == 0);
  return pid;
}

/* An array of older child specs is read with the older stride. */
static void supervisor_from_older_child_specs(actnet_node *node, actnet_behavior *behavior) {
  old_child_spec specs[2] = {
      {sizeof(old_child_spec), ACTNET_RESTART_PERMANENT, "old-child-a", behavior, NULL, 0},
      {sizeof(old_child_spec), ACTNET_RESTART_PERMANENT, "old-child-b", behavior, NULL, 0},
  };
  guarded g;
  actnet_supervisor_options options;
  CHECK_OK(actnet_supervisor_options_init(&options));
  options.children = GUARDED_COPY(g, specs);
  options.children_len = 2;
  actnet_pid supervisor = {0};
  CHECK_OK(actnet_supervisor_spawn(node, &options, &supervisor));
  guarded_free(&g);
  actnet_pid a = {0}, b = {0};
  CHECK_OK(actnet_name_lookup(node, "old-child-a", &a));
  CHECK_OK(actnet_name_lookup(node, "old-child-b", &b));
  CHECK(a.id != b.id);
  CHECK(strcmp(inspect_str(node, b, "mailbox capacity"), "16") == 0);
  CHECK_OK(actnet_process_stop(node, supervisor));
}

/* A server and a client from older TCP options, with older connection and chunk options:
 * header framing without max_length (so no limit), plain TCP (the TLS fields default). */
static void tcp_from_older_options(actnet_node *node, actnet_pid owner) {
  old_chunk_options chunk = {sizeof chunk, true, 0, 4, 0, 4, false};
  guarded g_chunk, g_conn, g_server;
  old_connection_options conn = {sizeof conn, 65535, NULL, GUARDED_COPY(g_chunk, chunk)};
  old_server_options server = {sizeof server, 0, "127.0.0.1", 16, NULL, 0, true, false, GUARDED_COPY(g_conn, conn)};
  actnet_alias listener = {0};
  uint16_t port = 0;
  CHECK_OK(actnet_tcp_server_spawn(node, owner, GUARDED_COPY(g_server, server), &listener, &port));
  CHECK(strcmp(inspect_str(node, listener, "tls"), "off") == 0);

  /* A 100,000-byte frame: over no limit, since max_length defaulted to 0. */
  enum { PAYLOAD = 100000 };
  static uint8_t frame[4 + PAYLOAD];
  frame[0] = 0, frame[1] = 0x01, frame[2] = 0x86, frame[3] = 0xA0; /* 100000, big-endian */
  int fd = net_connect(port);
  net_write_all(fd, frame, sizeof frame);
  /* One DATA: the whole frame, header included (as every framed DATA). */
  CHECK(wait_for_data(1, WAIT_MS) == sizeof frame);

  /* A client connection to the same server, from older client options. */
  guarded g_client;
  old_client_options client = {sizeof client, port, "127.0.0.1", 5000, NULL, NULL};
  actnet_alias connection = {0};
  CHECK_OK(actnet_tcp_connect(node, owner, GUARDED_COPY(g_client, client), &connection));
  CHECK(connection.id != 0);
  CHECK_OK(actnet_meta_terminate(node, connection));

  actnet_tcp_server_options bad;
  CHECK_OK(actnet_tcp_server_options_init(&bad));
  bad.host = "127.0.0.1";
  bad.struct_size = sizeof bad + 8;
  actnet_alias none = {0};
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &bad, &none, NULL), ACTNET_STATUS_STRUCT_SIZE);
  actnet_tcp_connection_options bad_conn;
  CHECK_OK(actnet_tcp_connection_options_init(&bad_conn));
  bad_conn.struct_size = sizeof bad_conn + 8;
  CHECK_OK(actnet_tcp_server_options_init(&bad));
  bad.host = "127.0.0.1";
  bad.connection = &bad_conn;
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &bad, &none, NULL), ACTNET_STATUS_STRUCT_SIZE);
  CHECK(none.id == 0);

  close(fd);
  CHECK_OK(actnet_meta_terminate(node, listener));
  guarded_free(&g_client);
  guarded_free(&g_server);
  guarded_free(&g_conn);
  guarded_free(&g_chunk);
}

/* The library writes an output struct only as far as the caller's struct_size. */
static void pool_stats_into_older_struct(void) {
  actnet_pool *pool;
  CHECK_OK(actnet_pool_new(512, 4, &pool));
  actnet_buf *buf;
  CHECK_OK(actnet_pool_get(pool, &buf));
  old_pool_stats old = {sizeof old, 0, 0};
  guarded g;
  old_pool_stats *stats = GUARDED_COPY(g, old);
  CHECK_OK(actnet_pool_stats_get(pool, (actnet_pool_stats *)stats));
  CHECK(stats->struct_size == sizeof old);
  CHECK(stats->buffer_size == 512);
  CHECK(stats->allocated == 1);
  guarded_free(&g);
  CHECK_OK(actnet_buf_free(buf));
  CHECK_OK(actnet_pool_free(pool));
}

int main(void) {
  actnet_node *node = start_node_from_older_options();
  actnet_behavior *behavior = behavior_from_older_callbacks();
  actnet_pid pid = spawn_from_older_options(node, behavior);
  supervisor_from_older_child_specs(node, behavior);
  tcp_from_older_options(node, pid);
  pool_stats_into_older_struct();
  CHECK_OK(actnet_behavior_free(behavior));
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("test_options_growth: ok\n");
  return 0;
}
