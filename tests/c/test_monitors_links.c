/* Monitors and links.
 * Monitors: DOWN carries the id, the monitor's reference, the reason and the code (ERROR/7
 * for a handler returning 7, SHUTDOWN, KILLED, NORMAL); two monitors give two DOWNs;
 * demonitor means no DOWN; monitoring a dead id (or from a dead watcher) is NOT_FOUND.
 * Links: an abnormal end propagates (both ways, also through spawn's link_to) with the same
 * reason; a process trapping exits gets ACTNET_MSG_EXIT instead and lives on; a normal or
 * shutdown end does not propagate; unlink removes the link. */
#include <string.h>

#include "harness.h"

static actnet_node *node;
static actnet_pid watcher;
static probe *w;

/* Waits for DOWNs about each of ids[0..n) (any order); fills reasons/codes. */
static void expect_downs(int n, const actnet_pid *ids, uint32_t *reasons, int32_t *codes) {
  int found = 0;
  bool seen[8] = {false};
  while (found < n) {
    probe_event e;
    probe_expect(w, ACTNET_MSG_DOWN, &e);
    int i;
    for (i = 0; i < n; i++)
      if (ids[i].id == e.from.id && !seen[i]) break;
    if (i == n) {
      fprintf(stderr, "unexpected DOWN of %llu\n", (unsigned long long)e.from.id);
      exit(1);
    }
    seen[i] = true;
    reasons[i] = e.reason;
    codes[i] = e.reason_code;
    found++;
    probe_event_clear(&e);
  }
}

static void expect_one_down(actnet_pid id, uint64_t ref, uint32_t reason, int32_t code) {
  probe_event e;
  probe_expect(w, ACTNET_MSG_DOWN, &e);
  if (e.from.id != id.id || e.reason != reason || e.reason_code != code || (ref && e.reference != ref)) {
    fprintf(stderr, "DOWN id %llu ref %llu reason %s/%d, wanted id %llu ref %llu reason %s/%d\n",
            (unsigned long long)e.from.id, (unsigned long long)e.reference,
            actnet_exit_reason_str(e.reason), e.reason_code, (unsigned long long)id.id,
            (unsigned long long)ref, actnet_exit_reason_str(reason), code);
    exit(1);
  }
  CHECK(e.alias.id == 0 && e.len == 0); /* a process's DOWN names it in from only */
  probe_event_clear(&e);
}

static uint64_t monitor(actnet_pid target) {
  uint64_t ref = 0;
  CHECK_OK(actnet_process_monitor(node, watcher, target, &ref));
  CHECK(ref != 0);
  return ref;
}

/* True if `pid` answers a call (so it handled everything queued before). */
static bool answers(actnet_pid pid) {
  actnet_buf *r = NULL;
  actnet_status st = actnet_process_call(node, pid, PROBE_CMD_ECHO, (const uint8_t *)"ping", 4, 2000, &r);
  if (st != ACTNET_STATUS_OK) return false;
  CHECK(actnet_buf_len(r) == 4 && memcmp(actnet_buf_data(r), "ping", 4) == 0);
  CHECK_OK(actnet_buf_free(r));
  return true;
}

static actnet_pid spawn_trapping(probe *p) {
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.trap_exits = true;
  return probe_spawn_opts(node, p, &so);
}

/* Expects the next event of `p` (skipping CALLs, which `answers` causes) to be an EXIT. */
static void expect_exit(probe *p, actnet_pid to, actnet_pid from, uint32_t reason, int32_t code) {
  probe_event e;
  probe_expect(p, ACTNET_MSG_EXIT, &e);
  CHECK(e.pid.id == to.id);
  CHECK(e.from.id == from.id && e.alias.id == 0);
  CHECK(e.reason == reason && e.reason_code == code);
  probe_event_clear(&e);
}

static void monitors(void) {
  probe *p = probe_new();

  /* a handler returning 7: ERROR/7 */
  actnet_pid x = probe_spawn(node, p, NULL);
  uint64_t ref = monitor(x);
  CHECK(strcmp(inspect_str(node, x, "monitored by"), "1") == 0);
  probe_cmd_exit(node, x, 7);
  expect_one_down(x, ref, ACTNET_EXIT_ERROR, 7);
  /* negative codes too */
  x = probe_spawn(node, p, NULL);
  ref = monitor(x);
  probe_cmd_exit(node, x, -3);
  expect_one_down(x, ref, ACTNET_EXIT_ERROR, -3);
  /* stop: SHUTDOWN; kill: KILLED; stopping itself: NORMAL */
  x = probe_spawn(node, p, NULL);
  ref = monitor(x);
  CHECK_OK(actnet_process_stop(node, x));
  expect_one_down(x, ref, ACTNET_EXIT_SHUTDOWN, 0);
  x = probe_spawn(node, p, NULL);
  ref = monitor(x);
  CHECK_OK(actnet_process_kill(node, x));
  expect_one_down(x, ref, ACTNET_EXIT_KILLED, 0);
  x = probe_spawn(node, p, NULL);
  ref = monitor(x);
  CHECK_OK(actnet_message_send(node, x, PROBE_CMD_STOP_SELF, NULL, 0));
  expect_one_down(x, ref, ACTNET_EXIT_NORMAL, 0);
  /* after the DOWN the monitor is gone */
  CHECK_STATUS(actnet_process_demonitor(node, watcher, ref), ACTNET_STATUS_NOT_FOUND);

  /* two monitors from one watcher: two DOWNs with their own references */
  x = probe_spawn(node, p, NULL);
  uint64_t r1 = monitor(x), r2 = monitor(x);
  CHECK(r1 != r2);
  CHECK(strcmp(inspect_str(node, x, "monitored by"), "2") == 0);
  probe_cmd_exit(node, x, 1);
  probe_event e1, e2;
  probe_expect(w, ACTNET_MSG_DOWN, &e1);
  probe_expect(w, ACTNET_MSG_DOWN, &e2);
  CHECK(e1.from.id == x.id && e2.from.id == x.id);
  CHECK((e1.reference == r1 && e2.reference == r2) || (e1.reference == r2 && e2.reference == r1));
  probe_event_clear(&e1);
  probe_event_clear(&e2);

  /* demonitor: no DOWN for that reference; the other monitor still fires */
  x = probe_spawn(node, p, NULL);
  r1 = monitor(x);
  r2 = monitor(x);
  CHECK_OK(actnet_process_demonitor(node, watcher, r1));
  CHECK_STATUS(actnet_process_demonitor(node, watcher, r1), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_demonitor(node, x, r2), ACTNET_STATUS_NOT_FOUND); /* not x's */
  CHECK_STATUS(actnet_process_demonitor(node, watcher, 123456789), ACTNET_STATUS_NOT_FOUND);
  CHECK(strcmp(inspect_str(node, x, "monitored by"), "1") == 0);
  CHECK_OK(actnet_process_stop(node, x));
  expect_one_down(x, r2, ACTNET_EXIT_SHUTDOWN, 0);
  CHECK(probe_quiet(w, 200)); /* nothing for r1 */

  /* a monitor removed before the end: nothing for this watcher (another watcher, w2, tells
   * when the end is complete) */
  probe *w2p = probe_new();
  actnet_pid w2 = probe_spawn(node, w2p, NULL);
  x = probe_spawn(node, p, NULL);
  r1 = monitor(x);
  CHECK_OK(actnet_process_monitor(node, w2, x, &r2));
  CHECK_OK(actnet_process_demonitor(node, watcher, r1));
  probe_cmd_exit(node, x, 2);
  probe_event e;
  probe_expect(w2p, ACTNET_MSG_DOWN, &e);
  CHECK(e.pid.id == w2.id && e.from.id == x.id && e.reference == r2 && e.reason == ACTNET_EXIT_ERROR && e.reason_code == 2);
  probe_event_clear(&e);
  CHECK(probe_quiet(w, 200));

  /* monitoring a dead id, or from a dead watcher: NOT_FOUND, and no DOWN ever */
  uint64_t out = 0xABCD;
  CHECK_STATUS(actnet_process_monitor(node, watcher, x, &out), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_monitor(node, x, watcher, &out), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_monitor(node, watcher, (actnet_pid){UINT64_MAX - 1}, &out), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_monitor(node, watcher, (actnet_pid){0}, &out), ACTNET_STATUS_NOT_FOUND);
  CHECK(out == 0xABCD);
  CHECK(probe_quiet(w, 100));

  /* a process can be monitored by several watchers; each gets its DOWN */
  x = probe_spawn(node, p, NULL);
  r1 = monitor(x);
  CHECK_OK(actnet_process_monitor(node, w2, x, &r2));
  CHECK_OK(actnet_process_kill(node, x));
  expect_one_down(x, r1, ACTNET_EXIT_KILLED, 0);
  probe_expect(w2p, ACTNET_MSG_DOWN, &e);
  CHECK(e.pid.id == w2.id && e.from.id == x.id && e.reference == r2 && e.reason == ACTNET_EXIT_KILLED);
  probe_event_clear(&e);
  CHECK_OK(actnet_process_stop(node, w2));
  CHECK(probe_wait_terminated(w2p, 1, WAIT_MS));

  probe_release(w2p);
  probe_release(p);
}

static void links(void) {
  probe *p = probe_new();
  uint32_t reasons[4];
  int32_t codes[4];

  /* an abnormal end propagates, with the same reason and code */
  actnet_pid a = probe_spawn(node, p, NULL), b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, a, b));
  CHECK_OK(actnet_process_link(node, b, a)); /* linking twice is harmless */
  CHECK(strcmp(inspect_str(node, a, "links"), "1") == 0);
  CHECK(strcmp(inspect_str(node, b, "links"), "1") == 0);
  monitor(a);
  monitor(b);
  probe_cmd_exit(node, b, 7);
  actnet_pid ab[2] = {a, b};
  expect_downs(2, ab, reasons, codes);
  CHECK(reasons[0] == ACTNET_EXIT_ERROR && codes[0] == 7);
  CHECK(reasons[1] == ACTNET_EXIT_ERROR && codes[1] == 7);

  /* ... in both directions, and for a kill (KILLED) */
  a = probe_spawn(node, p, NULL);
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, a, b));
  monitor(a);
  monitor(b);
  CHECK_OK(actnet_process_kill(node, a));
  ab[0] = a;
  ab[1] = b;
  expect_downs(2, ab, reasons, codes);
  CHECK(reasons[0] == ACTNET_EXIT_KILLED && reasons[1] == ACTNET_EXIT_KILLED);

  /* link_to at spawn; a chain c - d - e ends together */
  actnet_pid c = probe_spawn(node, p, NULL);
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.link_to = c;
  actnet_pid d = probe_spawn_opts(node, p, &so);
  so.link_to = d;
  actnet_pid e = probe_spawn_opts(node, p, &so);
  CHECK(strcmp(inspect_str(node, d, "links"), "2") == 0);
  monitor(c);
  monitor(d);
  monitor(e);
  probe_cmd_exit(node, e, 3);
  actnet_pid cde[3] = {c, d, e};
  expect_downs(3, cde, reasons, codes);
  for (int i = 0; i < 3; i++) CHECK(reasons[i] == ACTNET_EXIT_ERROR && codes[i] == 3);

  /* trap_exits (spawn option): EXIT instead of ending */
  probe *tp = probe_new();
  actnet_pid t = spawn_trapping(tp);
  CHECK(strcmp(inspect_str(node, t, "trap exits"), "true") == 0);
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, t, b));
  monitor(t);
  monitor(b);
  probe_cmd_exit(node, b, 9);
  expect_one_down(b, 0, ACTNET_EXIT_ERROR, 9);
  expect_exit(tp, t, b, ACTNET_EXIT_ERROR, 9);
  CHECK(answers(t));
  CHECK(strcmp(inspect_str(node, t, "links"), "0") == 0);
  /* a killed linked process: EXIT with KILLED */
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, b, t));
  CHECK_OK(actnet_process_kill(node, b));
  expect_exit(tp, t, b, ACTNET_EXIT_KILLED, 0);
  CHECK(answers(t));
  /* a trapping process also hears of normal and shutdown ends */
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, t, b));
  CHECK_OK(actnet_process_stop(node, b));
  expect_exit(tp, t, b, ACTNET_EXIT_SHUTDOWN, 0);
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, t, b));
  CHECK_OK(actnet_message_send(node, b, PROBE_CMD_STOP_SELF, NULL, 0));
  expect_exit(tp, t, b, ACTNET_EXIT_NORMAL, 0);

  /* trap_exits set later with actnet_process_trap_exits, and cleared again */
  actnet_pid t2 = probe_spawn(node, tp, NULL);
  CHECK(strcmp(inspect_str(node, t2, "trap exits"), "false") == 0);
  CHECK_OK(actnet_process_trap_exits(node, t2, true));
  CHECK(strcmp(inspect_str(node, t2, "trap exits"), "true") == 0);
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, t2, b));
  probe_cmd_exit(node, b, 11);
  expect_exit(tp, t2, b, ACTNET_EXIT_ERROR, 11);
  CHECK(answers(t2));
  CHECK_OK(actnet_process_trap_exits(node, t2, false));
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, t2, b));
  uint64_t t2ref = monitor(t2);
  probe_cmd_exit(node, b, 12);
  expect_one_down(t2, t2ref, ACTNET_EXIT_ERROR, 12);

  /* normal and shutdown ends do not propagate. A trapping sentinel linked to b after a
   * hears of b's end after a's exit signal was queued, so a call to a then proves it
   * handled the signal and lived. */
  a = probe_spawn(node, p, NULL);
  uint64_t aref = monitor(a);
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, a, b));
  CHECK_OK(actnet_process_link(node, t, b));
  CHECK_OK(actnet_process_stop(node, b));
  expect_exit(tp, t, b, ACTNET_EXIT_SHUTDOWN, 0);
  CHECK(answers(a));
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, b, a));
  CHECK_OK(actnet_process_link(node, b, t));
  CHECK_OK(actnet_message_send(node, b, PROBE_CMD_STOP_SELF, NULL, 0));
  expect_exit(tp, t, b, ACTNET_EXIT_NORMAL, 0);
  CHECK(answers(a));
  CHECK(strcmp(inspect_str(node, a, "links"), "0") == 0);

  /* unlink: no propagation */
  b = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_process_link(node, a, b));
  CHECK_OK(actnet_process_link(node, t, b));
  CHECK_OK(actnet_process_unlink(node, b, a));
  CHECK_OK(actnet_process_unlink(node, b, a)); /* not linked any more: still fine */
  CHECK(strcmp(inspect_str(node, a, "links"), "0") == 0);
  probe_cmd_exit(node, b, 13);
  expect_exit(tp, t, b, ACTNET_EXIT_ERROR, 13);
  CHECK(answers(a));

  /* bad links */
  CHECK_STATUS(actnet_process_link(node, a, a), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_process_link(node, a, b), ACTNET_STATUS_NOT_FOUND); /* b is gone */
  CHECK_STATUS(actnet_process_link(node, b, a), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_unlink(node, b, a), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_trap_exits(node, b, true), ACTNET_STATUS_NOT_FOUND);
  so.link_to = b;
  actnet_behavior *pb = probe_behavior(p);
  actnet_pid out = {0xABCD};
  CHECK_STATUS(actnet_process_spawn(node, pb, &so, &out), ACTNET_STATUS_NOT_FOUND);
  CHECK(out.id == 0xABCD);
  CHECK_OK(actnet_behavior_free(pb));

  /* a still lives: nothing of the above killed it */
  CHECK(answers(a));
  CHECK_OK(actnet_process_stop(node, a));
  expect_one_down(a, aref, ACTNET_EXIT_SHUTDOWN, 0);
  CHECK(probe_quiet(w, 100));

  probe_release(tp);
  probe_release(p);
}

int main(void) {
  node = test_node_start();
  w = probe_new();
  watcher = probe_spawn(node, w, NULL);
  monitors();
  links();
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  probe_release(w);
  printf("ok\n");
  return 0;
}
