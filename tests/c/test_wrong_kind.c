/* Ids of the wrong kind (0.2). Process ids (actnet_pid) and meta-process aliases
 * (actnet_alias) are distinct types, so mixing them does not compile
 * (tests/check_id_kinds.cmake); a value forced from one into the other (a cast, a stored
 * integer) gets ACTNET_STATUS_WRONG_KIND from every function, whether the id is alive or
 * not, and changes nothing. Messages carry each id in the field of its kind.
 * - every alias function given a live process's id, and every process function given a live
 *   server's, connection's or forwarder's alias: WRONG_KIND, and the target lives on;
 * - the same with ids that have ended: still WRONG_KIND (NOT_FOUND is for the right kind);
 * - a user message to a connection (actnet_meta_send) is refused with UNSUPPORTED and never
 *   reaches the peer, whose first bytes are those written with actnet_tcp_write after it;
 * - a forwarder takes actnet_meta_send: the USER arrives with `alias` = the forwarder and
 *   `from` = {0}; a USER sent by a process carries `from` = that process;
 * - DOWN of a process carries it in `from`, DOWN of a meta-process in `alias`. */
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "net.h"

typedef struct world {
  actnet_node *node;
  probe *probe;
  actnet_pid owner;   /* a probe process: owns the server and receives its connections */
  actnet_pid watcher; /* a second probe process */
  actnet_alias server;
  actnet_alias conn; /* the accepted side of a connection from `peer` */
  int peer;
  actnet_alias forwarder;
  actnet_behavior *behavior;
} world;

static world world_start(void) {
  world w = {0};
  w.node = test_node_start();
  w.probe = probe_new();
  w.owner = probe_spawn(w.node, w.probe, "wrong-kind-owner");
  w.watcher = probe_spawn(w.node, w.probe, NULL);
  w.behavior = probe_behavior(w.probe);

  actnet_tcp_server_options options;
  CHECK_OK(actnet_tcp_server_options_init(&options));
  options.host = "127.0.0.1";
  uint16_t port = 0;
  CHECK_OK(actnet_tcp_server_spawn(w.node, w.owner, &options, &w.server, &port));
  w.peer = net_connect(port);
  probe_event e;
  probe_expect(w.probe, ACTNET_MSG_CONNECT, &e);
  w.conn = e.alias;
  CHECK(e.from.id == 0 && w.conn.id != 0);
  probe_event_clear(&e);
  CHECK_OK(actnet_forwarder_spawn(w.node, w.owner, NULL, &w.forwarder));
  return w;
}

static void world_stop(world *w) {
  close(w->peer);
  CHECK_OK(actnet_behavior_free(w->behavior));
  CHECK_OK(actnet_node_stop(w->node));
  CHECK_OK(actnet_node_free(w->node));
  probe_release(w->probe);
}

/* Every function, given the other kind's view of live ids: WRONG_KIND, nothing changes. */
static void live_ids_of_the_wrong_kind(world *w) {
  expect_alias_calls_fail(w->node, alias_of_raw(w->owner.id), w->watcher, ACTNET_STATUS_WRONG_KIND);
  actnet_alias metas[] = {w->server, w->conn, w->forwarder};
  for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++)
    expect_pid_calls_fail(w->node, pid_of_raw(metas[i].id), w->watcher, w->behavior, ACTNET_STATUS_WRONG_KIND);
  /* Everything is still there. */
  actnet_info *info;
  CHECK_OK(actnet_process_inspect(w->node, w->owner, &info));
  CHECK_OK(actnet_info_free(info));
  for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
    CHECK_OK(actnet_meta_inspect(w->node, metas[i], &info));
    CHECK_OK(actnet_info_free(info));
  }
  CHECK(probe_quiet(w->probe, 100));
}

/* A user message to a connection never reaches its peer. */
static void meta_send_to_a_connection(world *w) {
  const char refused[] = "not for the peer";
  CHECK_STATUS(actnet_meta_send(w->node, w->conn, 7, (const uint8_t *)refused, sizeof refused - 1),
               ACTNET_STATUS_UNSUPPORTED);
  const char marker[] = "written";
  CHECK_OK(actnet_tcp_write(w->node, w->conn, (const uint8_t *)marker, sizeof marker - 1));
  char got[sizeof marker - 1];
  CHECK(net_read_exact(w->peer, got, sizeof got, WAIT_MS));
  CHECK(memcmp(got, marker, sizeof got) == 0);
}

/* USER through a forwarder names the forwarder; USER from a process names the process. */
static void senders_in_their_fields(world *w) {
  const char text[] = "via";
  CHECK_OK(actnet_meta_send(w->node, w->forwarder, 11, (const uint8_t *)text, sizeof text - 1));
  probe_event e;
  probe_expect(w->probe, ACTNET_MSG_USER, &e);
  CHECK(e.pid.id == w->owner.id && e.tag == 11);
  CHECK(e.alias.id == w->forwarder.id && e.from.id == 0);
  CHECK(e.len == sizeof text - 1 && memcmp(e.data, text, e.len) == 0);
  probe_event_clear(&e);
  /* A forwarder takes no process message, and a process no meta send. */
  CHECK_STATUS(actnet_message_send(w->node, pid_of_raw(w->forwarder.id), 1, NULL, 0), ACTNET_STATUS_WRONG_KIND);
  CHECK_STATUS(actnet_meta_send(w->node, alias_of_raw(w->owner.id), 1, NULL, 0), ACTNET_STATUS_WRONG_KIND);
}

/* DOWN names what ended in the field of its kind; then the ids are stale, and a stale id
 * of the wrong kind is still WRONG_KIND. */
static void down_and_stale_ids(world *w) {
  uint64_t on_server = 0, on_process = 0;
  CHECK_OK(actnet_meta_monitor(w->node, w->watcher, w->server, &on_server));
  actnet_pid doomed = probe_spawn(w->node, w->probe, NULL);
  CHECK_OK(actnet_process_monitor(w->node, w->watcher, doomed, &on_process));

  CHECK_OK(actnet_meta_terminate(w->node, w->server));
  probe_event e;
  probe_expect_down(w->probe, w->server, &e);
  CHECK(e.pid.id == w->watcher.id && e.reference == on_server);
  CHECK(e.alias.id == w->server.id && e.from.id == 0);
  probe_event_clear(&e);

  CHECK_OK(actnet_process_stop(w->node, doomed));
  probe_expect_down(w->probe, doomed, &e);
  CHECK(e.pid.id == w->watcher.id && e.reference == on_process);
  CHECK(e.from.id == doomed.id && e.alias.id == 0);
  probe_event_clear(&e);

  expect_alias_calls_fail(w->node, w->server, w->watcher, ACTNET_STATUS_NOT_FOUND);
  expect_pid_calls_fail(w->node, pid_of_raw(w->server.id), w->watcher, w->behavior, ACTNET_STATUS_WRONG_KIND);
  expect_pid_calls_fail(w->node, doomed, w->watcher, w->behavior, ACTNET_STATUS_NOT_FOUND);
  expect_alias_calls_fail(w->node, alias_of_raw(doomed.id), w->watcher, ACTNET_STATUS_WRONG_KIND);
}

int main(void) {
  world w = world_start();
  live_ids_of_the_wrong_kind(&w);
  meta_send_to_a_connection(&w);
  senders_in_their_fields(&w);
  down_and_stale_ids(&w);
  world_stop(&w);
  printf("test_wrong_kind: ok\n");
  return 0;
}
