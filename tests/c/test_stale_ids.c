/* Stale ids: every operation on a process or meta-process that has ended (and on ids never
 * issued) is NOT_FOUND, never a crash, with out-parameters untouched (0.2: and the other
 * kind's functions say WRONG_KIND for it, stale or not); ids (pids, aliases,
 * monitor references) are never reused: spawning and stopping many gives strictly
 * increasing ids. */
#include <string.h>

#include "harness.h"

static actnet_node *node;
static probe *w;
static actnet_pid watcher;

#define wait_down(id) wait_down_of(ANY_ID(id))
static void wait_down_of(any_id id) {
  probe_event e;
  probe_expect_down_at(w, id, &e, __FILE__, __LINE__);
  probe_event_clear(&e);
}

int main(void) {
  node = test_node_start();
  w = probe_new();
  watcher = probe_spawn(node, w, NULL);
  probe *p = probe_new();
  actnet_behavior *b = probe_behavior(p);

  /* a stopped process */
  actnet_pid pid = probe_spawn(node, p, "stale");
  uint64_t ref;
  CHECK_OK(actnet_process_monitor(node, watcher, pid, &ref));
  CHECK_OK(actnet_process_stop(node, pid));
  wait_down(pid);
  CHECK_STATUS(actnet_message_send_name(node, "stale", 1, NULL, 0), ACTNET_STATUS_NOT_FOUND);
  expect_pid_calls_not_found(node, pid, watcher, b);
  CHECK_STATUS(actnet_process_demonitor(node, watcher, ref), ACTNET_STATUS_NOT_FOUND);

  /* a killed process, a process that ended with an error */
  pid = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_monitor(node, watcher, pid, &ref));
  CHECK_OK(actnet_process_kill(node, pid));
  wait_down(pid);
  expect_pid_calls_not_found(node, pid, watcher, b);
  pid = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_monitor(node, watcher, pid, &ref));
  probe_cmd_exit(node, pid, 3);
  wait_down(pid);
  expect_pid_calls_not_found(node, pid, watcher, b);

  /* a terminated forwarder */
  actnet_alias alias = {0};
  CHECK_OK(actnet_forwarder_spawn(node, watcher, NULL, &alias));
  CHECK_OK(actnet_meta_monitor(node, watcher, alias, &ref));
  CHECK_OK(actnet_meta_terminate(node, alias));
  wait_down(alias);
  expect_alias_calls_not_found(node, alias, watcher);
  /* 0.2: an alias is never a process id, not even a stale one (0.1: NOT_FOUND) */
  expect_pid_calls_fail(node, pid_of_raw(alias.id), watcher, b, ACTNET_STATUS_WRONG_KIND);

  /* ids never issued: none, the largest of each kind (process ids are even, aliases odd),
   * and one far past the last alias */
  expect_pid_calls_not_found(node, (actnet_pid){0}, watcher, b);
  expect_alias_calls_not_found(node, (actnet_alias){0}, watcher);
  expect_pid_calls_not_found(node, (actnet_pid){UINT64_MAX - 1}, watcher, b);
  expect_alias_calls_not_found(node, (actnet_alias){UINT64_MAX}, watcher);
  expect_alias_calls_not_found(node, (actnet_alias){alias.id + 1000000}, watcher);

  /* ids are never reused: spawn and stop many; every new id is larger than all before */
  enum { N = 300 };
  uint64_t last = alias.id;
  int terminated_before = probe_terminated(p);
  actnet_pid first = {0};
  for (int i = 0; i < N; i++) {
    actnet_pid id = {0};
    CHECK_OK(actnet_process_spawn(node, b, NULL, &id));
    CHECK(id.id > last);
    if (i == 0) first = id;
    last = id.id;
    if (i % 3 == 0) {
      actnet_alias a = {0};
      CHECK_OK(actnet_forwarder_spawn(node, id, NULL, &a));
      CHECK(a.id > last);
      last = a.id;
      uint64_t r = 0;
      CHECK_OK(actnet_process_monitor(node, watcher, id, &r));
      CHECK(r > last);
      last = r;
    }
    CHECK_OK(i % 2 ? actnet_process_stop(node, id) : actnet_process_kill(node, id));
  }
  CHECK(probe_wait_terminated(p, terminated_before + N, WAIT_MS));
  /* after they are all gone, still larger */
  actnet_pid id = probe_spawn(node, p, NULL);
  CHECK(id.id > last);
  /* and a stale id from the batch is not found, whatever was spawned since */
  wait_down(first);
  CHECK_STATUS(actnet_process_monitor(node, watcher, first, &ref), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_message_send(node, first, 1, NULL, 0), ACTNET_STATUS_NOT_FOUND);

  CHECK_OK(actnet_behavior_free(b));
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  probe_release(w);
  probe_release(p);
  printf("ok\n");
  return 0;
}
