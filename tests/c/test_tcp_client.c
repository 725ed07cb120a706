/* Client connections (actnet_tcp_connect).
 *
 * - Success to a plain listening socket the test owns: the alias can be written at once
 *   (before the peer even accepts), CONNECT reaches the owner with local/remote addresses
 *   matching the accepted socket's getpeername/getsockname, bytes go both ways exactly,
 *   inspect shows remote = the listener, process = the owner's pid, byte counts; the peer's
 *   close gives exactly one DISCONNECT (peer closed).
 * - The `process` option: CONNECT/DATA/DISCONNECT go to the named process, not the owner;
 *   inspect "process" is the name; when the owner ends the connection closes (the peer sees
 *   EOF) with DISCONNECT reason PARENT_DOWN to the named process. An unregistered name is
 *   NOT_FOUND and no connection is made.
 * - Connecting from inside a handler works (the handler waits, the runtime goes on).
 * - A peer that resets the moment it accepts, 50 times: every connection tcp_connect returned
 *   is announced, CONNECT then one DISCONNECT (reset), even when the reset came before the
 *   connection began (it used to vanish unannounced then: no peer address to put in CONNECT).
 * - Refusal: CONNECTION_REFUSED on a closed port. Timeout: TIMEOUT, after about
 *   connect_timeout_ms, against a listener whose backlog is full. DNS failure. Argument
 *   errors. Out-parameters untouched on every error.
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

static actnet_node *node;

#define TAG_CONNECT UINT64_C(0x436F6E6E)

static void client_options(actnet_tcp_client_options *c, uint16_t port) {
  CHECK_OK(actnet_tcp_client_options_init(c));
  c->host = "127.0.0.1";
  c->port = port;
}

/* USER TAG_CONNECT with a uint16_t port: connect to it from the handler; status and alias
 * are recorded in the event (status, reference). */
static int32_t connect_from_handler(void *ctx, actnet_node *n, actnet_pid pid, const actnet_message *m, tev *ev,
                                    bool *taken) {
  (void)ctx;
  (void)taken;
  if (m->kind != ACTNET_MSG_USER || m->tag != TAG_CONNECT) return 0;
  uint16_t port;
  CHECK(m->len == sizeof port);
  memcpy(&port, m->data, sizeof port);
  actnet_tcp_client_options c;
  client_options(&c, port);
  actnet_alias alias = {0};
  ev->status = (int32_t)actnet_tcp_connect(n, pid, &c, &alias);
  ev->reference = alias.id; /* the test thread's copy of the alias */
  return 0;
}

static void success(void) {
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  uint16_t port = 0;
  int lfd = net_listen(4, &port);
  actnet_tcp_client_options c;
  client_options(&c, port);
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, owner, &c, &conn));
  CHECK(conn.id != 0 && conn.id != owner.id);
  CHECK_OK(actnet_tcp_write(node, conn, (const uint8_t *)"early ", 6)); /* at once */
  int fd = net_accept(lfd, WAIT_MS);
  CHECK(fd >= 0);
  tev e;
  tq_expect(q, ACTNET_MSG_CONNECT, &e);
  CHECK(e.alias.id == conn.id && e.pid.id == owner.id);
  char mine[64], theirs[64], listener[64];
  net_sockname(fd, mine, sizeof mine);
  net_peername(fd, theirs, sizeof theirs);
  snprintf(listener, sizeof listener, "127.0.0.1:%u", port);
  CHECK(strcmp(mine, listener) == 0);
  if (strcmp(e.local_addr, theirs) != 0 || strcmp(e.remote_addr, mine) != 0) {
    fprintf(stderr, "CONNECT local %s remote %s, wanted local %s remote %s\n", e.local_addr, e.remote_addr,
            theirs, mine);
    exit(1);
  }
  tev_clear(&e);
  CHECK_OK(actnet_tcp_write(node, conn, (const uint8_t *)"ping", 4));
  char buf[16];
  CHECK(net_read_exact(fd, buf, 10, WAIT_MS));
  CHECK(memcmp(buf, "early ping", 10) == 0);
  net_write_all(fd, "pong!", 5);
  tq_expect_for(q, ACTNET_MSG_DATA, conn, &e);
  CHECK(e.len == 5 && memcmp(e.data, "pong!", 5) == 0);
  tev_clear(&e);
  char s[32];
  snprintf(s, sizeof s, "%" PRIu64, owner.id);
  check_inspect(node, conn, "kind", "tcp connection");
  check_inspect(node, conn, "process", s);
  check_inspect(node, conn, "owner", s);
  check_inspect(node, conn, "local", theirs);
  check_inspect(node, conn, "remote", listener);
  check_inspect(node, conn, "bytes in", "5");
  check_inspect(node, conn, "bytes out", "10");
  check_inspect(node, owner, "meta-processes", "1");
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  CHECK(wait_inspect(node, owner, "meta-processes", "0", WAIT_MS));

  /* Refused: nothing listens any more. */
  close(lfd);
  actnet_alias alias = {0xDEAD};
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, &alias), ACTNET_STATUS_CONNECTION_REFUSED);
  CHECK(alias.id == 0xDEAD);
  CHECK(tq_quiet(q, 50));
  tq_release(q);
}

static void reset_at_once(void) {
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  uint16_t port = 0;
  int lfd = net_listen(4, &port);
  actnet_tcp_client_options c;
  client_options(&c, port);
  for (int i = 0; i < 50; i++) {
    actnet_alias conn = {0};
    CHECK_OK(actnet_tcp_connect(node, owner, &c, &conn));
    int fd = net_accept(lfd, WAIT_MS);
    CHECK(fd >= 0);
    net_close_reset(fd); /* on loopback the reset lands before close returns */
    tev e;
    tq_expect(q, ACTNET_MSG_CONNECT, &e);
    CHECK(e.alias.id == conn.id && e.remote_addr[0] != '\0' && e.local_addr[0] != '\0');
    tev_clear(&e);
    tq_expect(q, ACTNET_MSG_DISCONNECT, &e);
    CHECK(e.alias.id == conn.id && e.reason == ACTNET_DISCONNECT_REASON_RESET);
    tev_clear(&e);
  }
  CHECK(tq_quiet(q, 200)); /* one DISCONNECT each, nothing more */
  close(lfd);
  tq_release(q);
}

static void target_process(void) {
  tq *oq = tq_new(), *hq = tq_new();
  actnet_pid owner = tq_spawn(node, oq, NULL, 0);
  actnet_pid handler = tq_spawn(node, hq, "handler", 0);
  uint16_t port = 0;
  int lfd = net_listen(4, &port);
  actnet_tcp_client_options c;
  client_options(&c, port);

  c.process = "nobody_by_this_name";
  actnet_alias alias = {0xDEAD};
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, &alias), ACTNET_STATUS_NOT_FOUND);
  CHECK(alias.id == 0xDEAD);
  CHECK(net_accept(lfd, 50) == -1); /* no connection was made */

  c.process = "handler";
  actnet_alias conn = {0};
  CHECK_OK(actnet_tcp_connect(node, owner, &c, &conn));
  int fd = net_accept(lfd, WAIT_MS);
  CHECK(fd >= 0);
  tev e;
  tq_expect(hq, ACTNET_MSG_CONNECT, &e);
  CHECK(e.alias.id == conn.id && e.pid.id == handler.id);
  tev_clear(&e);
  check_inspect(node, conn, "process", "handler");
  char s[32];
  snprintf(s, sizeof s, "%" PRIu64, owner.id);
  check_inspect(node, conn, "owner", s);
  net_write_all(fd, "to the handler", 14);
  tq_expect_for(hq, ACTNET_MSG_DATA, conn, &e);
  CHECK(e.pid.id == handler.id && e.len == 14 && memcmp(e.data, "to the handler", 14) == 0);
  tev_clear(&e);
  CHECK(tq_quiet(oq, 50));

  /* The owner ends: the connection closes with PARENT_DOWN, the peer sees EOF. */
  CHECK_OK(actnet_process_stop(node, owner));
  expect_disconnect_once(node, hq, NULL, conn, ACTNET_DISCONNECT_REASON_PARENT_DOWN, 0);
  char buf[16];
  size_t got = 0;
  CHECK(net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got) == NET_EOF && got == 0);
  close(fd);
  close(lfd);
  CHECK(tq_quiet(oq, 10));
  tq_release(oq);
  tq_release(hq);
}

static void from_a_handler(void) {
  tq *q = tq_new();
  tq_set_action(q, connect_from_handler, NULL);
  actnet_pid pid = tq_spawn(node, q, NULL, 0);
  uint16_t port = 0;
  int lfd = net_listen(4, &port);
  CHECK_OK(actnet_message_send(node, pid, TAG_CONNECT, (const uint8_t *)&port, sizeof port));
  tev e;
  tq_expect(q, ACTNET_MSG_USER, &e);
  CHECK_STATUS(e.status, ACTNET_STATUS_OK);
  actnet_alias conn = {e.reference};
  tev_clear(&e);
  int fd = net_accept(lfd, WAIT_MS);
  CHECK(fd >= 0);
  tq_expect_for(q, ACTNET_MSG_CONNECT, conn, &e);
  tev_clear(&e);
  close(fd);
  expect_disconnect_once(node, q, NULL, conn, ACTNET_DISCONNECT_REASON_PEER_CLOSED, 0);
  /* refused, from the handler */
  close(lfd);
  CHECK_OK(actnet_message_send(node, pid, TAG_CONNECT, (const uint8_t *)&port, sizeof port));
  tq_expect(q, ACTNET_MSG_USER, &e);
  CHECK_STATUS(e.status, ACTNET_STATUS_CONNECTION_REFUSED);
  tev_clear(&e);
  tq_release(q);
}

static void timeout_and_errors(void) {
  tq *q = tq_new();
  actnet_pid owner = tq_spawn(node, q, NULL, 0);
  net_full_listener full;
  net_full_listener_open(&full);
  actnet_tcp_client_options c;
  client_options(&c, full.port);
  c.connect_timeout_ms = 300;
  actnet_alias alias = {0xDEAD};
  int64_t t0 = now_ms();
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, &alias), ACTNET_STATUS_TIMEOUT);
  int64_t took = now_ms() - t0;
  if (took < 250 || took > 3000) {
    fprintf(stderr, "connect timed out after %lld ms, wanted about 300\n", (long long)took);
    exit(1);
  }
  CHECK(alias.id == 0xDEAD);
  net_full_listener_close(&full);

  client_options(&c, 80);
  c.host = "no-such-host.invalid";
  c.connect_timeout_ms = 3000;
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, &alias), ACTNET_STATUS_DNS_FAILURE);
  client_options(&c, 80);
  c.host = NULL;
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, &alias), ACTNET_STATUS_NULL_ARGUMENT);
  client_options(&c, 0);
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, &alias), ACTNET_STATUS_INVALID_ARGUMENT);
  client_options(&c, 80);
  CHECK_STATUS(actnet_tcp_connect(node, owner, &c, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_tcp_connect(node, owner, NULL, &alias), ACTNET_STATUS_NULL_ARGUMENT);
  uint16_t port = 0;
  int lfd = net_listen(4, &port);
  client_options(&c, port);
  CHECK_STATUS(actnet_tcp_connect(node, (actnet_pid){999998}, &c, &alias), ACTNET_STATUS_NOT_FOUND); /* no such owner */
  CHECK(net_accept(lfd, 50) == -1);
  close(lfd);
  CHECK(alias.id == 0xDEAD);
  CHECK(tq_quiet(q, 10));
  tq_release(q);
}

int main(void) {
  node = test_node_start();
  success();
  reset_at_once();
  target_process();
  from_a_handler();
  timeout_and_errors();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  printf("test_tcp_client: ok\n");
  return 0;
}
