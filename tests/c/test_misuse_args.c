/* Foreign misuse, arguments (issue 6; the rest of the NULL and struct_size cases are in
 * test_bad_args.c, test_tcp_limits.c and test_tls_load.c). Every bad call returns a status,
 * never crashes, leaves its out-parameters untouched, runs no callback and leaves nothing
 * behind (no listener, no connection, no process, no open fd), and the node goes on serving a
 * well-behaved client:
 *
 * - NULL wherever a pointer can be passed to the TCP, TLS, pool, buffer, certificate manager
 *   and inspect functions: the node, options, out-parameters, the client's host, byte ranges
 *   with a length, name lists (process_pool, tls_alpn) and their entries, buffers, managers,
 *   file paths; and NULL where it is allowed (port_out, a zero-length write, host "" or NULL
 *   for a server, info getters returning NULL / 0).
 * - A wrong struct_size (0, 1, 3: too small to hold struct_size; size + 1, size + 8,
 *   UINT32_MAX: a newer caller's) on every options struct: node, behaviour callbacks, spawn,
 *   supervisor, child spec (first and second child), TCP server, TCP client, their
 *   connection and framing options, pool stats: STRUCT_SIZE; every _init function sets the
 *   right size. (0.2 accepts a smaller size from 4 on, an older caller's: see
 *   CHANGELOG.md.)
 * - Strings that are not UTF-8 (host, process name, SNI name, paths): INVALID_ARGUMENT.
 */
#include <string.h>
#include <unistd.h>

#include "misuse.h"
#include "tls_support.h"

#define UNTOUCHED UINT64_C(0xABCDEF12)

static actnet_node *node;
static tq *q;
static actnet_pid owner;
static mis_echo good;

static int callbacks_run; /* init, handle, terminate, free_user_data of the test behaviours */

static int32_t counting_init(void *u, actnet_node *n, actnet_pid pid, const uint8_t *a, size_t l, void **s) {
  (void)u, (void)n, (void)pid, (void)a, (void)l, (void)s;
  __atomic_add_fetch(&callbacks_run, 1, __ATOMIC_SEQ_CST);
  return 0;
}
static int32_t counting_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)u, (void)n, (void)pid, (void)s, (void)m;
  __atomic_add_fetch(&callbacks_run, 1, __ATOMIC_SEQ_CST);
  return 0;
}
static void counting_free(void *u) {
  (void)u;
  __atomic_add_fetch(&callbacks_run, 1, __ATOMIC_SEQ_CST);
}
static void counting_log(void *u, uint32_t level, const char *line) {
  (void)u, (void)level, (void)line;
}

/* The node still serves: the well-behaved client gets its echo, nothing new exists. */
static void still_serving(const char *what, int fds) {
  mis_echo_roundtrip(&good, what);
  check_inspect(node, owner, "meta-processes", "0");
  mis_wait_fds(fds, what);
}

/* ------------------------------------------------------------------ struct_size */

static uint32_t bad_sizes_of(uint32_t size, int i) {
  const uint32_t bad[] = {0, 1, 3, size + 1, size + 8, UINT32_MAX};
  return bad[i];
}
#define NBAD 6

static void struct_sizes(void) {
  int fds = open_fd_count();
  int before = callbacks_run;
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  CHECK(cb.struct_size == sizeof cb && cb.init == NULL && cb.handle_message == NULL && cb.terminate == NULL);
  cb.init = counting_init;
  cb.handle_message = counting_handle;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, NULL, NULL, &b));

  /* a listener the client options would connect to, if they were read */
  uint16_t lport = 0;
  int lfd = net_listen(8, &lport);
  int fds_with_listener = open_fd_count();

  for (int i = 0; i < NBAD; i++) {
    /* node */
    actnet_node_options no;
    CHECK_OK(actnet_node_options_init(&no));
    CHECK(no.struct_size == sizeof no);
    no.log = counting_log;
    no.free_log_user_data = counting_free;
    no.struct_size = bad_sizes_of(sizeof no, i);
    actnet_node *n2 = (actnet_node *)0x1;
    CHECK_STATUS(actnet_node_start(&no, &n2), ACTNET_STATUS_STRUCT_SIZE);
    CHECK(n2 == (actnet_node *)0x1);

    /* behaviour callbacks */
    actnet_behavior_callbacks c2 = cb;
    c2.struct_size = bad_sizes_of(sizeof c2, i);
    actnet_behavior *b2 = (actnet_behavior *)0x1;
    CHECK_STATUS(actnet_behavior_new(&c2, NULL, counting_free, &b2), ACTNET_STATUS_STRUCT_SIZE);
    CHECK(b2 == (actnet_behavior *)0x1);

    /* spawn options */
    actnet_spawn_options so;
    CHECK_OK(actnet_spawn_options_init(&so));
    CHECK(so.struct_size == sizeof so);
    so.struct_size = bad_sizes_of(sizeof so, i);
    actnet_pid pid = {UNTOUCHED};
    CHECK_STATUS(actnet_process_spawn(node, b, &so, &pid), ACTNET_STATUS_STRUCT_SIZE);
    CHECK_STATUS(actnet_process_spawn_register(node, "misuse-sized", b, &so, &pid), ACTNET_STATUS_STRUCT_SIZE);
    CHECK(pid.id == UNTOUCHED);
    CHECK_STATUS(actnet_name_lookup(node, "misuse-sized", &pid), ACTNET_STATUS_NOT_FOUND);

    /* supervisor options, and a bad child spec first or second */
    actnet_child_spec specs[2];
    for (int k = 0; k < 2; k++) {
      CHECK_OK(actnet_child_spec_init(&specs[k]));
      CHECK(specs[k].struct_size == sizeof specs[k]);
      specs[k].name = k == 0 ? "misuse-child-0" : "misuse-child-1";
      specs[k].behavior = b;
    }
    actnet_supervisor_options sup;
    CHECK_OK(actnet_supervisor_options_init(&sup));
    CHECK(sup.struct_size == sizeof sup);
    sup.children = specs;
    sup.children_len = 2;
    sup.struct_size = bad_sizes_of(sizeof sup, i);
    CHECK_STATUS(actnet_supervisor_spawn(node, &sup, &pid), ACTNET_STATUS_STRUCT_SIZE);
    sup.struct_size = sizeof sup;
    for (int k = 0; k < 2; k++) {
      specs[k].struct_size = bad_sizes_of(sizeof specs[k], i);
      CHECK_STATUS(actnet_supervisor_spawn(node, &sup, &pid), ACTNET_STATUS_STRUCT_SIZE);
      specs[k].struct_size = sizeof specs[k];
    }
    CHECK(pid.id == UNTOUCHED);
    CHECK_STATUS(actnet_name_lookup(node, "misuse-child-0", &pid), ACTNET_STATUS_NOT_FOUND);

    /* TCP server */
    actnet_tcp_server_options sv;
    server_options(&sv);
    CHECK(sv.struct_size == sizeof sv);
    sv.struct_size = bad_sizes_of(sizeof sv, i);
    actnet_alias alias = {UNTOUCHED};
    uint16_t port = 0xBEEF;
    CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &sv, &alias, &port), ACTNET_STATUS_STRUCT_SIZE);
    CHECK(alias.id == UNTOUCHED && port == 0xBEEF);
    /* ... and its connection and framing options */
    server_options(&sv);
    test_conn_options tc;
    sv.connection = test_conn_options_init(&tc);
    tc.conn.struct_size = bad_sizes_of(sizeof tc.conn, i);
    CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &sv, &alias, &port), ACTNET_STATUS_STRUCT_SIZE);
    sv.connection = test_conn_options_init(&tc);
    tc.chunk.struct_size = bad_sizes_of(sizeof tc.chunk, i);
    CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &sv, &alias, &port), ACTNET_STATUS_STRUCT_SIZE);
    CHECK(alias.id == UNTOUCHED && port == 0xBEEF);

    /* TCP client: nothing connects to the listener */
    actnet_tcp_client_options cl;
    CHECK_OK(actnet_tcp_client_options_init(&cl));
    CHECK(cl.struct_size == sizeof cl);
    cl.host = "127.0.0.1";
    cl.port = lport;
    cl.struct_size = bad_sizes_of(sizeof cl, i);
    CHECK_STATUS(actnet_tcp_connect(node, owner, &cl, &alias), ACTNET_STATUS_STRUCT_SIZE);
    cl.struct_size = sizeof cl;
    cl.connection = test_conn_options_init(&tc);
    tc.conn.struct_size = bad_sizes_of(sizeof tc.conn, i);
    CHECK_STATUS(actnet_tcp_connect(node, owner, &cl, &alias), ACTNET_STATUS_STRUCT_SIZE);
    cl.connection = test_conn_options_init(&tc);
    tc.chunk.struct_size = bad_sizes_of(sizeof tc.chunk, i);
    CHECK_STATUS(actnet_tcp_connect(node, owner, &cl, &alias), ACTNET_STATUS_STRUCT_SIZE);
    CHECK(alias.id == UNTOUCHED);

    /* pool stats: untouched */
    actnet_pool *pool = NULL;
    CHECK_OK(actnet_pool_new(64, 2, &pool));
    actnet_pool_stats st;
    CHECK_OK(actnet_pool_stats_init(&st));
    CHECK(st.struct_size == sizeof st);
    memset(&st, 0x5A, sizeof st);
    st.struct_size = bad_sizes_of(sizeof st, i);
    CHECK_STATUS(actnet_pool_stats_get(pool, &st), ACTNET_STATUS_STRUCT_SIZE);
    CHECK(st.outstanding == UINT64_C(0x5A5A5A5A5A5A5A5A) && st.buffer_size == UINT64_C(0x5A5A5A5A5A5A5A5A));
    CHECK_OK(actnet_pool_free(pool));
  }
  CHECK(net_accept(lfd, 50) == -1); /* no client connection was made */
  CHECK(open_fd_count() == fds_with_listener);
  close(lfd);
  CHECK(callbacks_run == before); /* no init, handler, or free_user_data ran */
  CHECK_OK(actnet_behavior_free(b));
  still_serving("after wrong struct sizes", fds);
  printf("struct_size: %d wrong sizes on 8 options structs refused\n", NBAD);
}

/* ------------------------------------------------------------------ NULL: TCP */

static void spawn_refused(const actnet_tcp_server_options *o, actnet_status want) {
  actnet_alias alias = {UNTOUCHED};
  uint16_t port = 0xBEEF;
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, o, &alias, &port), want);
  CHECK(alias.id == UNTOUCHED && port == 0xBEEF);
}

static void connect_refused(const actnet_tcp_client_options *o, actnet_status want) {
  actnet_alias alias = {UNTOUCHED};
  CHECK_STATUS(actnet_tcp_connect(node, owner, o, &alias), want);
  CHECK(alias.id == UNTOUCHED);
}

static void tcp_nulls(void) {
  int fds = open_fd_count();
  CHECK_STATUS(actnet_tcp_server_options_init(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_client_options_init(NULL), ACTNET_STATUS_NULL_ARGUMENT);

  /* server */
  actnet_tcp_server_options o;
  server_options(&o);
  actnet_alias alias = {UNTOUCHED};
  uint16_t port = 0xBEEF;
  CHECK_STATUS(actnet_tcp_server_spawn(NULL, owner, &o, &alias, &port), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, NULL, &alias, &port), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_server_spawn(node, owner, &o, NULL, &port), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(alias.id == UNTOUCHED && port == 0xBEEF);
  o.process_pool_len = 2; /* with no list */
  spawn_refused(&o, ACTNET_STATUS_NULL_ARGUMENT);
  static const char *pool_with_null[] = {"misuse-w0", NULL};
  o.process_pool = pool_with_null;
  spawn_refused(&o, ACTNET_STATUS_NULL_ARGUMENT);
  static const char *pool_not_utf8[] = {"misuse-w0", "\xc3\x28"};
  o.process_pool = pool_not_utf8;
  spawn_refused(&o, ACTNET_STATUS_INVALID_ARGUMENT);
  server_options(&o);
  test_conn_options tc_o;
  o.connection = test_conn_options_init(&tc_o);
  tc_o.conn.keepalive_bytes_len = 3; /* with no bytes */
  tc_o.conn.keepalive_period_ms = 100;
  spawn_refused(&o, ACTNET_STATUS_NULL_ARGUMENT);
  server_options(&o);
  o.host = "\xff";
  spawn_refused(&o, ACTNET_STATUS_INVALID_ARGUMENT);
  actnet_certmanager *m = tls_manager("server.pem", "server.key", NULL);
  tls_server_options(&o, m);
  o.tls_alpn_len = 1; /* with no list */
  spawn_refused(&o, ACTNET_STATUS_NULL_ARGUMENT);
  static const char *alpn_with_null[] = {"echo/1", NULL};
  o.tls_alpn = alpn_with_null;
  o.tls_alpn_len = 2;
  spawn_refused(&o, ACTNET_STATUS_NULL_ARGUMENT);
  check_inspect(node, owner, "meta-processes", "0");
  CHECK(open_fd_count() == fds); /* no listener left behind */

  /* allowed NULLs: port_out, host (every IPv4 interface) */
  server_options(&o);
  o.host = NULL;
  alias.id = 0;
  CHECK_OK(actnet_tcp_server_spawn(node, owner, &o, &alias, NULL));
  CHECK(alias.id != 0);
  CHECK_OK(actnet_meta_terminate(node, alias));
  CHECK(wait_inspect(node, owner, "meta-processes", "0", WAIT_MS));

  /* client: nothing connects */
  uint16_t lport = 0;
  int lfd = net_listen(8, &lport);
  int fds_with_listener = open_fd_count();
  actnet_tcp_client_options c;
  CHECK_OK(actnet_tcp_client_options_init(&c));
  c.host = "127.0.0.1";
  c.port = lport;
  alias.id = UNTOUCHED;
  CHECK_STATUS(actnet_tcp_connect(NULL, owner, &c, &alias), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_connect(node, owner, NULL, &alias), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(alias.id == UNTOUCHED);
  c.host = NULL;
  connect_refused(&c, ACTNET_STATUS_NULL_ARGUMENT);
  c.host = "\xff";
  connect_refused(&c, ACTNET_STATUS_INVALID_ARGUMENT);
  c.host = "127.0.0.1";
  c.process = "\xc3\x28";
  connect_refused(&c, ACTNET_STATUS_INVALID_ARGUMENT);
  c.process = NULL;
  test_conn_options tc_c;
  c.connection = test_conn_options_init(&tc_c);
  tc_c.conn.keepalive_bytes_len = 1;
  tc_c.conn.keepalive_period_ms = 100;
  connect_refused(&c, ACTNET_STATUS_NULL_ARGUMENT);
  tc_c.conn.keepalive_bytes_len = 0;
  tc_c.conn.keepalive_period_ms = 0;
  c.tls = true;
  c.tls_insecure_skip_verify = true;
  c.tls_alpn_len = 1;
  connect_refused(&c, ACTNET_STATUS_NULL_ARGUMENT);
  c.tls_alpn = alpn_with_null;
  c.tls_alpn_len = 2;
  connect_refused(&c, ACTNET_STATUS_NULL_ARGUMENT);
  c.tls_alpn = NULL;
  c.tls_alpn_len = 0;
  c.tls_server_name = "\xff";
  connect_refused(&c, ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK(net_accept(lfd, 50) == -1);
  CHECK(open_fd_count() == fds_with_listener);
  close(lfd);

  /* writes */
  CHECK_STATUS(actnet_tcp_write(NULL, good.conn, (const uint8_t *)"x", 1), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_write(node, good.conn, NULL, 5), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_OK(actnet_tcp_write(node, good.conn, NULL, 0)); /* nothing to write */
  CHECK_OK(actnet_tcp_write(node, good.conn, (const uint8_t *)"never read", 0));
  actnet_pool *pool = NULL;
  CHECK_OK(actnet_pool_new(64, 2, &pool));
  actnet_buf *b = NULL;
  CHECK_OK(actnet_pool_get(pool, &b));
  memcpy(actnet_buf_data(b), "abc", 3);
  CHECK_OK(actnet_buf_set_len(b, 3));
  CHECK_STATUS(actnet_tcp_write_buf(NULL, good.conn, b), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_write_buf(node, good.conn, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(actnet_buf_len(b) == 3); /* still the caller's */
  CHECK_OK(actnet_buf_free(b));
  CHECK_OK(actnet_pool_free(pool));
  /* nothing of the above reached the peer: the next bytes it reads are its echo */
  CHECK(!net_readable(good.fd, 20));
  CHECK_OK(actnet_certmanager_free(m));
  still_serving("after NULL TCP arguments", fds);
  printf("TCP: NULL node, options, out-parameters, host, lists and entries, bytes refused\n");
}

/* ------------------------------------------------------------------ NULL: pools, buffers */

static void pool_nulls(void) {
  actnet_pool *pool = (actnet_pool *)0x1;
  CHECK_STATUS(actnet_pool_new(64, 2, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_pool_new(0, 2, &pool), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK(pool == (actnet_pool *)0x1);
  CHECK_STATUS(actnet_pool_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_buf *b = (actnet_buf *)0x1;
  CHECK_STATUS(actnet_pool_get(NULL, &b), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(b == (actnet_buf *)0x1);
  CHECK_STATUS(actnet_pool_stats_init(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_pool_stats st;
  CHECK_OK(actnet_pool_stats_init(&st));
  CHECK_STATUS(actnet_pool_stats_get(NULL, &st), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_OK(actnet_pool_new(64, 2, &pool));
  CHECK_STATUS(actnet_pool_get(pool, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_pool_stats_get(pool, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_buf_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_buf_set_len(NULL, 0), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(actnet_buf_data(NULL) == NULL && actnet_buf_len(NULL) == 0 && actnet_buf_capacity(NULL) == 0);
  CHECK_OK(actnet_pool_stats_get(pool, &st));
  CHECK(st.outstanding == 0 && st.allocated == 0); /* no failed call took a buffer */

  /* a call's reply out-parameter */
  actnet_buf *reply = (actnet_buf *)0x1;
  CHECK_STATUS(actnet_process_call(NULL, owner, 1, NULL, 0, 10, &reply), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_call(node, owner, 1, NULL, 0, 10, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(reply == (actnet_buf *)0x1);
  CHECK_OK(actnet_pool_free(pool));
  printf("pools and buffers: NULL refused\n");
}

/* ------------------------------------------------------------------ NULL: certificate manager */

static void certmanager_nulls(void) {
  size_t clen = 0, klen = 0, calen = 0;
  uint8_t *cert = tls_read("server.pem", &clen);
  uint8_t *key = tls_read("server.key", &klen);
  uint8_t *ca = tls_read("ca.pem", &calen);
  CHECK_STATUS(actnet_certmanager_new(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  actnet_certmanager *m = NULL;
  CHECK_OK(actnet_certmanager_new(&m));

  CHECK_STATUS(actnet_certmanager_set_cert_pem(NULL, NULL, cert, clen, key, klen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, NULL, clen, key, klen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, NULL, klen), ACTNET_STATUS_NULL_ARGUMENT);
  /* NULL with length 0 is an empty PEM: nothing to load */
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, NULL, 0, key, klen), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, NULL, 0), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, "\xff", cert, clen, key, klen), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_pem(m, "", cert, clen, key, klen), ACTNET_STATUS_INVALID_ARGUMENT);

  const char *cert_path = tls_path("server.pem");
  const char *key_path = tls_path("server.key");
  CHECK_STATUS(actnet_certmanager_set_cert_files(NULL, NULL, cert_path, key_path), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, NULL, key_path), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, cert_path, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, "\xff", cert_path, key_path), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_cert_files(m, NULL, "\xff", key_path), ACTNET_STATUS_INVALID_ARGUMENT);

  CHECK_STATUS(actnet_certmanager_remove_cert(NULL, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_remove_cert(NULL, "x"), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_remove_cert(m, "\xff"), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_remove_cert(m, NULL), ACTNET_STATUS_NOT_FOUND); /* none set */

  CHECK_STATUS(actnet_certmanager_set_ca_pem(NULL, ca, calen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_ca_pem(m, NULL, calen), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_ca_pem(m, NULL, 0), ACTNET_STATUS_BAD_CERTIFICATE);
  CHECK_STATUS(actnet_certmanager_set_ca_file(NULL, tls_path("ca.pem")), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_ca_file(m, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_certmanager_set_ca_file(m, "\xff"), ACTNET_STATUS_INVALID_ARGUMENT);

  /* after every failure the manager is still empty (a server refuses it), then usable */
  actnet_tcp_server_options o;
  tls_server_options(&o, m);
  spawn_refused(&o, ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_OK(actnet_certmanager_set_cert_pem(m, NULL, cert, clen, key, klen));
  CHECK_OK(actnet_certmanager_set_ca_pem(m, ca, calen));
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &o, &port);
  actnet_tcp_client_options c;
  tls_client_options(&c, port, m, "localhost");
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, owner, &c, &conn));
  actnet_alias a = tq_expect_connect(q), b = tq_expect_connect(q);
  CHECK(a.id == conn.id || b.id == conn.id);
  CHECK_OK(actnet_meta_terminate(node, server)); /* closes the server's end too */
  CHECK(wait_inspect(node, owner, "meta-processes", "0", WAIT_MS));
  tev e;
  for (int i = 0; i < 2; i++) {
    tq_expect(q, ACTNET_MSG_DISCONNECT, &e);
    tev_clear(&e);
  }
  CHECK_OK(actnet_certmanager_free(m));
  free(cert);
  free(key);
  free(ca);
  printf("certificate manager: NULL and non-UTF-8 refused, the manager stays usable\n");
}

/* ------------------------------------------------------------------ NULL: inspect */

static void inspect_nulls(void) {
  actnet_info *info = (actnet_info *)0x1;
  CHECK_STATUS(actnet_meta_inspect(NULL, good.conn, &info), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_meta_inspect(node, good.conn, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_inspect(NULL, good.owner, &info), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_inspect(node, good.owner, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(info == (actnet_info *)0x1);
  CHECK_STATUS(actnet_info_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK(actnet_info_count(NULL) == 0);
  CHECK(actnet_info_key(NULL, 0) == NULL && actnet_info_value(NULL, 0) == NULL);
  CHECK(actnet_info_get(NULL, "remote") == NULL);
  CHECK_OK(actnet_meta_inspect(node, good.conn, &info));
  size_t n = actnet_info_count(info);
  CHECK(n > 0);
  CHECK(actnet_info_get(info, NULL) == NULL);
  CHECK(actnet_info_get(info, "\xff") == NULL);
  CHECK(actnet_info_get(info, "remote") != NULL);
  CHECK(actnet_info_key(info, n) == NULL && actnet_info_value(info, n) == NULL);
  CHECK(actnet_info_key(info, SIZE_MAX) == NULL && actnet_info_value(info, SIZE_MAX) == NULL);
  CHECK_OK(actnet_info_free(info));
  printf("inspect: NULL refused, getters give NULL or 0\n");
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  node = test_node_start();
  q = tq_new();
  owner = tq_spawn(node, q, NULL, 0);
  mis_echo_start(node, &good);
  int fds = open_fd_count();

  struct_sizes();
  tcp_nulls();
  pool_nulls();
  certmanager_nulls();
  inspect_nulls();
  still_serving("at the end", fds);
  CHECK(tq_quiet(q, 10));

  mis_echo_stop(node, &good);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(q);
  printf("test_misuse_args: ok\n");
  return 0;
}
