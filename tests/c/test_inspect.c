/* Inspect: the keys and values for a process (kind, pid, name, state, mailbox, mailbox
 * capacity, messages in/out, trap exits, links, monitored by, meta-processes) and for a
 * forwarder (kind, alias, owner, target, forwarded, monitored by); inspect from inside a
 * handler (of itself, of others, of a dead id); the accessors' edge cases; NOT_FOUND for a
 * dead or never-issued id, with the out-parameter untouched. */
#include <inttypes.h>
#include <string.h>

#include "harness.h"

enum { TAG_SEND2 = 1, TAG_INSPECT_DEAD = 2 };
enum { EV_SELF = 1, EV_TARGET = 2, EV_DEAD = 3 };

typedef struct ctx {
  evlog *log;
  actnet_pid target; /* where TAG_SEND2 sends */
} ctx;

static void record_info(evlog *log, int what, actnet_pid pid, actnet_node *node, actnet_pid id) {
  actnet_info *info = NULL;
  CHECK_OK(actnet_process_inspect(node, id, &info));
  char text[48];
  snprintf(text, sizeof text, "%s|%s|%s|%s", actnet_info_get(info, "state"),
           actnet_info_get(info, "messages in"), actnet_info_get(info, "messages out"),
           actnet_info_get(info, "name"));
  CHECK(strcmp(actnet_info_get(info, "kind"), "process") == 0);
  evlog_add(log, what, pid, strtoull(actnet_info_get(info, "pid"), NULL, 10), 0, 0, text);
  CHECK_OK(actnet_info_free(info));
}

static int32_t handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                      const actnet_message *m) {
  (void)state;
  ctx *c = user_data;
  if (m->kind != ACTNET_MSG_USER) return 0;
  if (m->tag == TAG_SEND2) {
    CHECK_OK(actnet_message_send(node, c->target, 100, (const uint8_t *)"one", 3));
    CHECK_OK(actnet_message_send(node, c->target, 101, (const uint8_t *)"two", 3));
    record_info(c->log, EV_SELF, pid, node, pid);
    record_info(c->log, EV_TARGET, pid, node, c->target);
  } else if (m->tag == TAG_INSPECT_DEAD) {
    actnet_pid dead;
    memcpy(&dead, m->data, sizeof dead);
    actnet_info *info = (actnet_info *)0x1;
    actnet_status st = actnet_process_inspect(node, dead, &info);
    CHECK(info == (actnet_info *)0x1);
    evlog_add(c->log, EV_DEAD, pid, dead.id, 0, st, NULL);
  }
  return 0;
}

/* expect_value, expect_id and check_pairs take an actnet_pid or an actnet_alias. */
#define expect_value(node, id, key, want) expect_value_of((node), ANY_ID(id), (key), (want))
static void expect_value_of(actnet_node *node, any_id id, const char *key, const char *want) {
  char v[128];
  if (!inspect_value_of(node, id, key, v, sizeof v)) {
    fprintf(stderr, "inspect %" PRIu64 ": no key \"%s\"\n", id.id, key);
    exit(1);
  }
  if (strcmp(v, want) != 0) {
    fprintf(stderr, "inspect %" PRIu64 ": \"%s\" is \"%s\", wanted \"%s\"\n", id.id, key, v, want);
    exit(1);
  }
}

#define expect_id(node, of, key, want) expect_id_of((node), ANY_ID(of), (key), (want).id)
static void expect_id_of(actnet_node *node, any_id id, const char *key, uint64_t want) {
  char text[32];
  snprintf(text, sizeof text, "%" PRIu64, want);
  expect_value_of(node, id, key, text);
}

/* The pairs are consistent: key(i)/value(i) agree with get(key), no key repeats, and
 * out-of-range indices give NULL. */
#define check_pairs(node, id, first_key) check_pairs_of((node), ANY_ID(id), (first_key))
static void check_pairs_of(actnet_node *node, any_id id, const char *first_key) {
  actnet_info *info = NULL;
  CHECK_OK(inspect_any(node, id, &info));
  size_t n = actnet_info_count(info);
  CHECK(n >= 4);
  CHECK(strcmp(actnet_info_key(info, 0), first_key) == 0);
  for (size_t i = 0; i < n; i++) {
    const char *k = actnet_info_key(info, i), *v = actnet_info_value(info, i);
    CHECK(k != NULL && v != NULL && k[0] != 0);
    CHECK(actnet_info_get(info, k) == v);
    for (size_t j = 0; j < i; j++) CHECK(strcmp(actnet_info_key(info, j), k) != 0);
  }
  CHECK(actnet_info_key(info, n) == NULL);
  CHECK(actnet_info_value(info, n) == NULL);
  CHECK(actnet_info_key(info, SIZE_MAX) == NULL);
  CHECK(actnet_info_get(info, "no such key") == NULL);
  CHECK(actnet_info_get(info, "") == NULL);
  CHECK(actnet_info_get(info, NULL) == NULL);
  CHECK_OK(actnet_info_free(info));
}

int main(void) {
  actnet_node *node = test_node_start();
  probe *w = probe_new();
  actnet_pid watcher = probe_spawn(node, w, NULL);
  probe *tp = probe_new();
  actnet_pid target = probe_spawn(node, tp, NULL);

  ctx c = {evlog_new(), target};
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = handle;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, &c, NULL, &b));
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.mailbox_size = 16;
  so.name = "insp";
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));

  /* a fresh process */
  check_pairs(node, pid, "kind");
  expect_value(node, pid, "kind", "process");
  expect_id(node, pid, "pid", pid);
  expect_value(node, pid, "name", "insp");
  expect_value(node, pid, "state", "waiting");
  expect_value(node, pid, "mailbox", "0");
  expect_value(node, pid, "mailbox capacity", "16");
  expect_value(node, pid, "messages in", "0");
  expect_value(node, pid, "messages out", "0");
  expect_value(node, pid, "trap exits", "false");
  expect_value(node, pid, "links", "0");
  expect_value(node, pid, "monitored by", "0");
  expect_value(node, pid, "meta-processes", "0");

  /* from inside its handler, after sending two messages */
  CHECK_OK(actnet_message_send(node, pid, TAG_SEND2, NULL, 0));
  CHECK(evlog_wait(c.log, 2, WAIT_MS));
  evrec self = evlog_at(c.log, 0), other = evlog_at(c.log, 1);
  CHECK(self.what == EV_SELF && self.a == pid.id);
  if (strcmp(self.text, "running|1|2|insp") != 0) {
    fprintf(stderr, "self inspect from the handler: %s\n", self.text);
    exit(1);
  }
  CHECK(other.what == EV_TARGET && other.a == target.id); /* inspecting another process */
  /* the target got both, from the inspected process */
  for (int i = 0; i < 2; i++) {
    probe_event e;
    probe_expect(tp, ACTNET_MSG_USER, &e);
    CHECK(e.from.id == pid.id && e.tag == (uint64_t)(100 + i));
    probe_event_clear(&e);
  }
  expect_value(node, pid, "messages out", "2");
  expect_value(node, target, "messages in", "2");
  expect_value(node, target, "messages out", "0");
  expect_value(node, target, "name", "");
  /* default mailbox capacity of the node (1024) */
  expect_value(node, target, "mailbox capacity", "1024");

  /* links, monitors, meta-processes, trap exits */
  CHECK_OK(actnet_process_link(node, pid, target));
  uint64_t ref = 0;
  CHECK_OK(actnet_process_monitor(node, watcher, pid, &ref));
  actnet_alias alias = {0}, named = {0};
  CHECK_OK(actnet_forwarder_spawn(node, pid, NULL, &alias));
  CHECK_OK(actnet_forwarder_spawn(node, pid, "insp", &named));
  CHECK_OK(actnet_process_trap_exits(node, pid, true));
  expect_value(node, pid, "links", "1");
  expect_value(node, target, "links", "1");
  expect_value(node, pid, "monitored by", "1");
  expect_value(node, pid, "meta-processes", "2");
  expect_value(node, pid, "trap exits", "true");
  CHECK_OK(actnet_process_demonitor(node, watcher, ref));
  CHECK_OK(actnet_process_unlink(node, pid, target));
  expect_value(node, pid, "monitored by", "0");
  expect_value(node, pid, "links", "0");
  expect_value(node, target, "links", "0");

  /* a forwarder */
  check_pairs(node, alias, "kind");
  expect_value(node, alias, "kind", "forwarder");
  expect_id(node, alias, "alias", alias);
  expect_id(node, alias, "owner", pid);
  expect_id(node, alias, "target", pid);
  expect_value(node, alias, "forwarded", "0");
  expect_value(node, alias, "monitored by", "0");
  expect_value(node, named, "target", "insp");
  expect_id(node, named, "owner", pid);
  CHECK_OK(actnet_meta_monitor(node, watcher, alias, &ref));
  expect_value(node, alias, "monitored by", "1");
  for (int i = 0; i < 3; i++) CHECK_OK(actnet_meta_send(node, alias, 0, NULL, 0));
  expect_value(node, alias, "forwarded", "3");
  expect_value(node, named, "forwarded", "0");
  CHECK_OK(actnet_meta_send(node, named, 0, NULL, 0)); /* to "insp", which ignores tag 0 */
  expect_value(node, named, "forwarded", "1");

  /* a supervisor */
  actnet_supervisor_options sup_opts;
  CHECK_OK(actnet_supervisor_options_init(&sup_opts));
  actnet_pid sup = {0};
  CHECK_OK(actnet_supervisor_spawn(node, &sup_opts, &sup));
  expect_value(node, sup, "kind", "supervisor");
  expect_value(node, sup, "trap exits", "true");

  /* dead ids */
  actnet_pid dead = probe_spawn(node, tp, NULL);
  CHECK_OK(actnet_process_monitor(node, watcher, dead, &ref));
  CHECK_OK(actnet_process_stop(node, dead));
  probe_event e;
  probe_expect_down(w, dead, &e);
  probe_event_clear(&e);
  actnet_info *info = (actnet_info *)0x1;
  CHECK_STATUS(actnet_process_inspect(node, dead, &info), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_inspect(node, (actnet_pid){0}, &info), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_meta_inspect(node, (actnet_alias){0}, &info), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_inspect(node, (actnet_pid){UINT64_MAX - 1}, &info), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_meta_inspect(node, (actnet_alias){UINT64_MAX}, &info), ACTNET_STATUS_NOT_FOUND);
  CHECK(info == (actnet_info *)0x1);
  CHECK_OK(actnet_message_send(node, pid, TAG_INSPECT_DEAD, (const uint8_t *)&dead, sizeof dead));
  CHECK(evlog_wait(c.log, 3, WAIT_MS));
  evrec r = evlog_at(c.log, 2);
  CHECK(r.what == EV_DEAD && r.a == dead.id && r.c == ACTNET_STATUS_NOT_FOUND);
  /* a terminated forwarder */
  CHECK_OK(actnet_meta_terminate(node, alias));
  probe_expect_down(w, alias, &e);
  probe_event_clear(&e);
  CHECK_STATUS(actnet_meta_inspect(node, alias, &info), ACTNET_STATUS_NOT_FOUND);
  /* 0.2: ids of one kind are never looked up as the other (0.1: NOT_FOUND) */
  CHECK_STATUS(actnet_process_inspect(node, pid_of_raw(alias.id), &info), ACTNET_STATUS_WRONG_KIND);
  CHECK_STATUS(actnet_meta_inspect(node, alias_of_raw(pid.id), &info), ACTNET_STATUS_WRONG_KIND);
  CHECK(info == (actnet_info *)0x1);
  expect_value(node, pid, "meta-processes", "1");

  /* accessors on NULL */
  CHECK(actnet_info_count(NULL) == 0);
  CHECK(actnet_info_key(NULL, 0) == NULL);
  CHECK(actnet_info_value(NULL, 0) == NULL);
  CHECK(actnet_info_get(NULL, "kind") == NULL);
  CHECK_STATUS(actnet_info_free(NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_inspect(node, pid, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_process_inspect(NULL, pid, &info), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_meta_inspect(node, alias, NULL), ACTNET_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(actnet_meta_inspect(NULL, alias, &info), ACTNET_STATUS_NULL_ARGUMENT);

  CHECK_OK(actnet_behavior_free(b));
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  evlog_free(c.log);
  probe_release(w);
  probe_release(tp);
  printf("ok\n");
  return 0;
}
