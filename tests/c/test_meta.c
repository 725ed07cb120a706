/* Meta-processes (the forwarder): messages sent to the alias reach the owner, or the process
 * registered under a name (looked up at each message, so it follows re-registration), with
 * the tag and bytes and alias = the forwarder (from = none); the forwarder ends when its
 * owner ends (every one the owner spawned; monitors get DOWN with SHUTDOWN; send/inspect/
 * terminate/monitor on the alias are then NOT_FOUND); actnet_meta_terminate ends it (NORMAL),
 * actnet_meta_abort too (KILLED); an alias given where a process is expected (call, link,
 * monitor watcher) and a pid where an alias is expected are WRONG_KIND (0.2; 0.1 said
 * UNSUPPORTED or NOT_FOUND); a dead owner cannot spawn one. */
#include <string.h>

#include "harness.h"

static actnet_node *node;
static probe *w;
static actnet_pid watcher;

/* A USER to `to` through forwarder `alias` ({0}: sent to the process itself). */
static void expect_forwarded(probe *p, actnet_pid to, actnet_alias alias, uint64_t tag, const char *text) {
  probe_event e;
  probe_expect(p, ACTNET_MSG_USER, &e);
  if (e.pid.id != to.id || e.alias.id != alias.id || e.tag != tag) {
    fprintf(stderr, "USER to %llu through %llu tag %llu, wanted to %llu through %llu tag %llu\n",
            (unsigned long long)e.pid.id, (unsigned long long)e.alias.id, (unsigned long long)e.tag,
            (unsigned long long)to.id, (unsigned long long)alias.id, (unsigned long long)tag);
    exit(1);
  }
  CHECK(e.from.id == 0); /* sent from the test thread */
  CHECK(e.tag == tag);
  CHECK(e.len == strlen(text) && memcmp(e.data, text, e.len) == 0);
  probe_event_clear(&e);
}

static void expect_gone(actnet_alias alias) {
  actnet_info *info = NULL;
  uint64_t ref = 0;
  CHECK_STATUS(actnet_meta_send(node, alias, 1, (const uint8_t *)"x", 1), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_meta_inspect(node, alias, &info), ACTNET_STATUS_NOT_FOUND);
  CHECK(info == NULL);
  CHECK_STATUS(actnet_meta_terminate(node, alias), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_meta_abort(node, alias), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_meta_monitor(node, watcher, alias, &ref), ACTNET_STATUS_NOT_FOUND);
  actnet_alias child = {0};
  /* an alias, even a stale one, is never an owner */
  CHECK_STATUS(actnet_forwarder_spawn(node, pid_of_raw(alias.id), NULL, &child), ACTNET_STATUS_WRONG_KIND);
}

/* monitor and expect_down take an actnet_pid or an actnet_alias. */
#define monitor(target) monitor_of(ANY_ID(target))
static uint64_t monitor_of(any_id target) {
  uint64_t ref = 0;
  CHECK_OK(monitor_any(node, watcher, target, &ref));
  return ref;
}

/* The id a DOWN is about: the process (from) or the meta-process (alias). */
static uint64_t down_of(const probe_event *e) { return e->alias.id ? e->alias.id : e->from.id; }

#define expect_down(id, ref, reason) expect_down_of(ANY_ID(id), (ref), (reason))
static void expect_down_of(any_id id, uint64_t ref, uint32_t reason) {
  probe_event e;
  probe_expect(w, ACTNET_MSG_DOWN, &e);
  uint64_t about = id.meta ? e.alias.id : e.from.id;
  if (about != id.id || e.reference != ref || e.reason != reason) {
    fprintf(stderr, "DOWN of %llu (%s), wanted %llu (%s)\n", (unsigned long long)down_of(&e),
            actnet_exit_reason_str(e.reason), (unsigned long long)id.id, actnet_exit_reason_str(reason));
    exit(1);
  }
  probe_event_clear(&e);
}

int main(void) {
  node = test_node_start();
  w = probe_new();
  watcher = probe_spawn(node, w, NULL);
  probe *op = probe_new();

  /* to the owner */
  actnet_pid owner = probe_spawn(node, op, NULL);
  actnet_alias alias = {0};
  CHECK_OK(actnet_forwarder_spawn(node, owner, NULL, &alias));
  CHECK(alias.id > owner.id);
  CHECK_OK(actnet_meta_send(node, alias, 5, (const uint8_t *)"hi", 2));
  CHECK_OK(actnet_meta_send(node, alias, 6, NULL, 0));
  expect_forwarded(op, owner, alias, 5, "hi");
  expect_forwarded(op, owner, alias, 6, "");
  CHECK(strcmp(inspect_str(node, alias, "kind"), "forwarder") == 0);
  CHECK(strcmp(inspect_str(node, owner, "meta-processes"), "1") == 0);
  /* calls are not for meta-processes */
  actnet_buf *r = NULL;
  CHECK_STATUS(actnet_process_call(node, pid_of_raw(alias.id), 1, NULL, 0, 100, &r), ACTNET_STATUS_WRONG_KIND);
  /* links are between processes only; monitors may watch an alias but not be one */
  CHECK_STATUS(actnet_process_link(node, owner, pid_of_raw(alias.id)), ACTNET_STATUS_WRONG_KIND);
  uint64_t ref = 0;
  CHECK_STATUS(actnet_process_monitor(node, pid_of_raw(alias.id), owner, &ref), ACTNET_STATUS_WRONG_KIND);
  CHECK_STATUS(actnet_meta_monitor(node, pid_of_raw(alias.id), alias, &ref), ACTNET_STATUS_WRONG_KIND);
  /* nor is a process sent to as a meta-process, or the reverse */
  CHECK_STATUS(actnet_meta_send(node, alias_of_raw(owner.id), 1, NULL, 0), ACTNET_STATUS_WRONG_KIND);
  CHECK_STATUS(actnet_message_send(node, pid_of_raw(alias.id), 1, NULL, 0), ACTNET_STATUS_WRONG_KIND);
  CHECK(ref == 0);

  /* to a name, looked up at each message */
  actnet_alias named = {0};
  CHECK_OK(actnet_forwarder_spawn(node, owner, "target", &named));
  CHECK(strcmp(inspect_str(node, owner, "meta-processes"), "2") == 0);
  CHECK_STATUS(actnet_meta_send(node, named, 1, (const uint8_t *)"nobody", 6), ACTNET_STATUS_NOT_FOUND);
  probe *tp = probe_new();
  actnet_pid t1 = probe_spawn(node, tp, "target");
  CHECK_OK(actnet_meta_send(node, named, 7, (const uint8_t *)"to t1", 5));
  expect_forwarded(tp, t1, named, 7, "to t1");
  uint64_t t1ref = monitor(t1);
  CHECK_OK(actnet_process_stop(node, t1));
  expect_down(t1, t1ref, ACTNET_EXIT_SHUTDOWN);
  CHECK_STATUS(actnet_meta_send(node, named, 1, NULL, 0), ACTNET_STATUS_NOT_FOUND);
  actnet_pid t2 = probe_spawn(node, tp, "target");
  CHECK_OK(actnet_meta_send(node, named, 8, (const uint8_t *)"to t2", 5));
  expect_forwarded(tp, t2, named, 8, "to t2");
  /* with a target name, the owner gets none of it */
  CHECK(probe_quiet(op, 50));

  /* the owner ends: every forwarder it spawned ends with it */
  actnet_alias third = {0};
  CHECK_OK(actnet_forwarder_spawn(node, owner, "target", &third));
  uint64_t aref = monitor(alias), nref = monitor(named), tref = monitor(third), oref = monitor(owner);
  CHECK(strcmp(inspect_str(node, alias, "monitored by"), "1") == 0);
  CHECK_OK(actnet_process_stop(node, owner));
  {
    uint64_t ids[4] = {owner.id, alias.id, named.id, third.id}, refs[4] = {oref, aref, nref, tref};
    bool seen[4] = {false};
    for (int k = 0; k < 4; k++) {
      probe_event e;
      probe_expect(w, ACTNET_MSG_DOWN, &e);
      int i;
      for (i = 0; i < 4; i++)
        if (ids[i] == down_of(&e)) break;
      CHECK(i < 4 && !seen[i]);
      seen[i] = true;
      CHECK(e.reference == refs[i]);
      CHECK(e.reason == ACTNET_EXIT_SHUTDOWN);
      probe_event_clear(&e);
    }
  }
  expect_gone(alias);
  expect_gone(named);
  expect_gone(third);
  /* t2 is not the owner: it lives on */
  CHECK_OK(actnet_message_send(node, t2, 10, NULL, 0));
  expect_forwarded(tp, t2, (actnet_alias){0}, 10, "");

  /* owner killed, or ending with an error: same cascade */
  actnet_pid owner2 = probe_spawn(node, op, NULL);
  actnet_alias a2 = {0};
  CHECK_OK(actnet_forwarder_spawn(node, owner2, NULL, &a2));
  uint64_t a2ref = monitor(a2);
  probe_cmd_exit(node, owner2, 4);
  expect_down(a2, a2ref, ACTNET_EXIT_SHUTDOWN);
  {
    probe_event e;
    probe_expect(op, ACTNET_MSG_USER, &e); /* the exit command itself */
    CHECK(e.pid.id == owner2.id && e.tag == PROBE_CMD_EXIT);
    probe_event_clear(&e);
  }
  expect_gone(a2);

  /* actnet_meta_terminate: a graceful end (NORMAL), the owner lives on */
  actnet_pid owner3 = probe_spawn(node, op, NULL);
  actnet_alias a3 = {0}, a4 = {0};
  CHECK_OK(actnet_forwarder_spawn(node, owner3, NULL, &a3));
  CHECK_OK(actnet_forwarder_spawn(node, owner3, NULL, &a4));
  CHECK(a4.id > a3.id);
  uint64_t a3ref = monitor(a3);
  CHECK_OK(actnet_meta_terminate(node, a3));
  expect_down(a3, a3ref, ACTNET_EXIT_NORMAL);
  expect_gone(a3);
  CHECK(strcmp(inspect_str(node, owner3, "meta-processes"), "1") == 0);
  CHECK_OK(actnet_meta_send(node, a4, 11, (const uint8_t *)"still", 5));
  expect_forwarded(op, owner3, a4, 11, "still");
  /* actnet_meta_abort: KILLED */
  uint64_t a4ref = monitor(a4);
  CHECK_OK(actnet_meta_abort(node, a4));
  expect_down(a4, a4ref, ACTNET_EXIT_KILLED);
  expect_gone(a4);
  CHECK(strcmp(inspect_str(node, owner3, "meta-processes"), "0") == 0);
  CHECK_OK(actnet_message_send(node, owner3, 12, NULL, 0));
  expect_forwarded(op, owner3, (actnet_alias){0}, 12, "");

  /* meta_terminate / meta_abort on a process id: not a meta-process (0.2: WRONG_KIND,
   * was NOT_FOUND) */
  CHECK_STATUS(actnet_meta_terminate(node, alias_of_raw(owner3.id)), ACTNET_STATUS_WRONG_KIND);
  CHECK_STATUS(actnet_meta_abort(node, alias_of_raw(owner3.id)), ACTNET_STATUS_WRONG_KIND);

  /* a dead owner, a never-issued owner */
  actnet_alias out = {0xABCD};
  CHECK_STATUS(actnet_forwarder_spawn(node, owner, NULL, &out), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_forwarder_spawn(node, (actnet_pid){UINT64_MAX - 1}, NULL, &out), ACTNET_STATUS_NOT_FOUND);
  CHECK(out.id == 0xABCD);

  /* a forwarder alive at node stop is stopped with it */
  actnet_alias a5 = {0};
  CHECK_OK(actnet_forwarder_spawn(node, owner3, NULL, &a5));
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  probe_release(w);
  probe_release(op);
  probe_release(tp);
  printf("ok\n");
  return 0;
}
