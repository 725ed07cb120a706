/* Supervisors. Children log START (init), STOP (terminate, with the reason) and PING (a
 * message, with the receiving pid) into an ordered log, so the test checks exactly which
 * children restarted, in which order, with new pids and their names back, and that sends by
 * name reach the new process.
 * - one_for_one: only the crashed child restarts.
 * - all_for_one: the others are stopped (SHUTDOWN), then all start again in spec order.
 * - rest_for_one: the crashed child and the later ones restart, in order; earlier ones stay.
 * - restart types: temporary never, transient only after an abnormal end, permanent always.
 * - intensity exhaustion: the supervisor ends with MAX_RESTARTS (seen by a monitor), its
 *   other children are stopped with SHUTDOWN, every name is freed.
 * - a child whose init fails fails the spawn with INIT_FAILED and stops the started ones.
 * - stopping the supervisor stops every child and restarts none. */
#include <sched.h>
#include <string.h>

#include "harness.h"

enum { EV_START = 1, EV_STOP = 2, EV_PING = 3, EV_INIT_FAILED = 4 };
enum { TAG_CRASH = 1, TAG_STOP_SELF = 2, TAG_PING = 3 };

static actnet_node *node;
static probe *w;
static actnet_pid watcher;

static int32_t child_init(void *user_data, actnet_node *n, actnet_pid pid, const uint8_t *args,
                          size_t args_len, void **state) {
  (void)n;
  evlog *log = user_data;
  CHECK(*state == NULL);
  CHECK(args != NULL && args_len > 0 && args_len < 40);
  char name[40];
  memcpy(name, args, args_len);
  name[args_len] = 0;
  if (strncmp(name, "fail", 4) == 0) {
    evlog_add(log, EV_INIT_FAILED, pid, 0, 0, 0, name);
    return 3;
  }
  char *copy = malloc(args_len + 1);
  CHECK(copy != NULL);
  memcpy(copy, name, args_len + 1);
  *state = copy;
  evlog_add(log, EV_START, pid, 0, 0, 0, name);
  return 0;
}

static int32_t child_handle(void *user_data, actnet_node *n, actnet_pid pid, void *state,
                            const actnet_message *m) {
  evlog *log = user_data;
  if (m->kind != ACTNET_MSG_USER) return 0;
  switch (m->tag) {
    case TAG_CRASH:
      return 1;
    case TAG_STOP_SELF:
      CHECK_OK(actnet_process_stop(n, pid));
      return 0;
    case TAG_PING:
      evlog_add(log, EV_PING, pid, m->from.id, m->tag, 0, state);
      return 0;
  }
  return 0;
}

static void child_terminate(void *user_data, actnet_node *n, actnet_pid pid, void *state,
                            uint32_t reason, int32_t code) {
  (void)n;
  evlog *log = user_data;
  evlog_add(log, EV_STOP, pid, reason, 0, code, state);
  free(state);
}

static actnet_behavior *child_behavior(evlog *log) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.init = child_init;
  cb.handle_message = child_handle;
  cb.terminate = child_terminate;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, log, NULL, &b));
  return b;
}

static uint32_t restart_of(const char *name) {
  if (strncmp(name, "tr", 2) == 0) return ACTNET_RESTART_TRANSIENT;
  if (strncmp(name, "tp", 2) == 0) return ACTNET_RESTART_TEMPORARY;
  return ACTNET_RESTART_PERMANENT;
}

/* Starts a supervisor over children named names[0..n) (each child's args are its name).
 * The behaviour is freed right away: the supervisor keeps its own reference. */
static actnet_pid start_sup(evlog *log, uint32_t strategy, uint32_t intensity, const char *sup_name,
                          const char **names, int n, actnet_status want) {
  actnet_behavior *b = child_behavior(log);
  actnet_child_spec specs[8];
  for (int i = 0; i < n; i++) {
    CHECK_OK(actnet_child_spec_init(&specs[i]));
    CHECK(specs[i].restart == ACTNET_RESTART_PERMANENT);
    specs[i].name = names[i];
    specs[i].behavior = b;
    specs[i].args = (const uint8_t *)names[i];
    specs[i].args_len = strlen(names[i]);
    specs[i].restart = restart_of(names[i]);
  }
  actnet_supervisor_options so;
  CHECK_OK(actnet_supervisor_options_init(&so));
  CHECK(so.strategy == ACTNET_STRATEGY_ONE_FOR_ONE && so.intensity == 3 && so.period_ms == 5000);
  so.strategy = strategy;
  so.intensity = intensity;
  so.period_ms = 10000;
  so.children = specs;
  so.children_len = (size_t)n;
  so.name = sup_name;
  actnet_pid sup = {0xABCD};
  CHECK_STATUS(actnet_supervisor_spawn(node, &so, &sup), want);
  CHECK_OK(actnet_behavior_free(b));
  if (want != ACTNET_STATUS_OK) {
    CHECK(sup.id == 0xABCD);
    return sup;
  }
  /* every child started, in order, during the spawn */
  CHECK(evlog_count(log) == n);
  for (int i = 0; i < n; i++) {
    evrec r = evlog_at(log, i);
    CHECK(r.what == EV_START && strcmp(r.text, names[i]) == 0 && r.pid.id > sup.id);
    if (i > 0) CHECK(r.pid.id > evlog_at(log, i - 1).pid.id);
  }
  return sup;
}

static actnet_pid lookup(const char *name) {
  actnet_pid pid = {0};
  CHECK_OK(actnet_name_lookup(node, name, &pid));
  return pid;
}

static void crash(const char *name) {
  CHECK_OK(actnet_message_send_name(node, name, TAG_CRASH, NULL, 0));
}

/* Pings `name` by name and checks the ping reached `pid`. */
static void ping(evlog *log, const char *name, actnet_pid pid) {
  int at = evlog_count(log);
  CHECK_OK(actnet_message_send_name(node, name, TAG_PING, NULL, 0));
  CHECK(evlog_wait(log, at + 1, WAIT_MS));
  evrec r = evlog_at(log, at);
  if (r.what != EV_PING || r.pid.id != pid.id || strcmp(r.text, name) != 0) {
    fprintf(stderr, "ping of %s: record %d is %d pid %llu \"%s\", wanted PING pid %llu\n", name, at,
            r.what, (unsigned long long)r.pid.id, r.text, (unsigned long long)pid.id);
    exit(1);
  }
  CHECK(r.a == 0); /* from a foreign thread */
}

static evrec expect_rec(evlog *log, int index, int what, const char *name) {
  CHECK(evlog_wait(log, index + 1, WAIT_MS));
  evrec r = evlog_at(log, index);
  if (r.what != what || strcmp(r.text, name) != 0) {
    fprintf(stderr, "record %d is %d \"%s\", wanted %d \"%s\"\n", index, r.what, r.text, what, name);
    exit(1);
  }
  return r;
}

/* Waits until `pid` is gone, names and all. A monitor's DOWN says so; but a monitor refused
 * with NOT_FOUND only says the process is ending: it may still be in the registry for a
 * moment (see the report), and no event tells when it leaves, so then poll inspect. */
static void wait_gone(actnet_pid pid) {
  uint64_t ref;
  actnet_status st = actnet_process_monitor(node, watcher, pid, &ref);
  if (st == ACTNET_STATUS_NOT_FOUND) {
    int64_t end = now_ms() + WAIT_MS;
    actnet_info *info = NULL;
    while ((st = actnet_process_inspect(node, pid, &info)) == ACTNET_STATUS_OK) {
      CHECK_OK(actnet_info_free(info));
      CHECK(now_ms() < end);
      sched_yield();
    }
    CHECK_STATUS(st, ACTNET_STATUS_NOT_FOUND);
    return;
  }
  CHECK_OK(st);
  probe_event e;
  probe_expect_down(w, pid, &e);
  probe_event_clear(&e);
}

/* Stops a supervisor and checks that its children end with SHUTDOWN and none restarts. */
static void stop_sup(evlog *log, actnet_pid sup, const char **names, int n) {
  /* monitor the supervisor and every child first: a DOWN comes after the name is freed */
  actnet_pid ids[9];
  uint64_t refs[9];
  ids[0] = sup;
  CHECK_OK(actnet_process_monitor(node, watcher, sup, &refs[0]));
  for (int i = 0; i < n; i++) {
    ids[i + 1] = lookup(names[i]);
    CHECK_OK(actnet_process_monitor(node, watcher, ids[i + 1], &refs[i + 1]));
  }
  int at = evlog_count(log);
  CHECK_OK(actnet_process_stop(node, sup));
  bool seen[9] = {false};
  for (int k = 0; k <= n; k++) {
    probe_event e;
    probe_expect(w, ACTNET_MSG_DOWN, &e);
    int i;
    for (i = 0; i <= n; i++)
      if (ids[i].id == e.from.id) break;
    CHECK(i <= n && !seen[i]);
    seen[i] = true;
    CHECK(e.reference == refs[i] && e.reason == ACTNET_EXIT_SHUTDOWN);
    probe_event_clear(&e);
  }
  /* each child's terminate ran once, with SHUTDOWN */
  CHECK(evlog_count(log) == at + n);
  for (int i = 0; i < n; i++) {
    evrec r = evlog_at(log, at + i);
    CHECK(r.what == EV_STOP && r.a == ACTNET_EXIT_SHUTDOWN);
    int k;
    for (k = 0; k < n; k++)
      if (ids[k + 1].id == r.pid.id) break;
    CHECK(k < n && strcmp(names[k], r.text) == 0);
  }
  for (int i = 0; i < n; i++) {
    actnet_pid pid;
    CHECK_STATUS(actnet_name_lookup(node, names[i], &pid), ACTNET_STATUS_NOT_FOUND);
  }
}

static void one_for_one(void) {
  evlog *log = evlog_new();
  const char *names[] = {"o1", "o2", "o3"};
  actnet_pid sup = start_sup(log, ACTNET_STRATEGY_ONE_FOR_ONE, 10, "sup_o", names, 3, ACTNET_STATUS_OK);
  CHECK(lookup("sup_o").id == sup.id);
  CHECK(strcmp(inspect_str(node, sup, "kind"), "supervisor") == 0);
  CHECK(strcmp(inspect_str(node, sup, "links"), "3") == 0);
  CHECK(strcmp(inspect_str(node, sup, "trap exits"), "true") == 0);
  actnet_pid o1 = lookup("o1"), o2 = lookup("o2"), o3 = lookup("o3");
  CHECK(o1.id == evlog_at(log, 0).pid.id && o2.id == evlog_at(log, 1).pid.id && o3.id == evlog_at(log, 2).pid.id);
  ping(log, "o2", o2); /* record 3 */

  crash("o2");
  evrec s = expect_rec(log, 4, EV_STOP, "o2");
  CHECK(s.pid.id == o2.id && s.a == ACTNET_EXIT_ERROR && s.c == 1);
  evrec st = expect_rec(log, 5, EV_START, "o2");
  CHECK(st.pid.id > o3.id);
  CHECK(lookup("o2").id == st.pid.id);
  CHECK(lookup("o1").id == o1.id && lookup("o3").id == o3.id);
  ping(log, "o2", st.pid);
  ping(log, "o1", o1);
  ping(log, "o3", o3);
  CHECK(evlog_count(log) == 9); /* nothing else restarted */

  /* a child stopped from outside (SHUTDOWN) is permanent: restarted too */
  actnet_pid o2b = st.pid;
  CHECK_OK(actnet_process_stop(node, o2b));
  s = expect_rec(log, 9, EV_STOP, "o2");
  CHECK(s.pid.id == o2b.id && s.a == ACTNET_EXIT_SHUTDOWN);
  st = expect_rec(log, 10, EV_START, "o2");
  CHECK(st.pid.id > o2b.id);
  ping(log, "o2", st.pid);

  stop_sup(log, sup, names, 3);
  actnet_pid pid;
  CHECK_STATUS(actnet_name_lookup(node, "sup_o", &pid), ACTNET_STATUS_NOT_FOUND);
  evlog_free(log);
}

static void all_for_one(void) {
  evlog *log = evlog_new();
  const char *names[] = {"a1", "a2", "a3"};
  actnet_pid sup = start_sup(log, ACTNET_STRATEGY_ALL_FOR_ONE, 10, NULL, names, 3, ACTNET_STATUS_OK);
  actnet_pid old[3] = {lookup("a1"), lookup("a2"), lookup("a3")};

  crash("a2");
  evrec s = expect_rec(log, 3, EV_STOP, "a2");
  CHECK(s.pid.id == old[1].id && s.a == ACTNET_EXIT_ERROR && s.c == 1);
  /* the two others are stopped (any order), before anything starts again */
  CHECK(evlog_wait(log, 9, WAIT_MS));
  evrec x = evlog_at(log, 4), y = evlog_at(log, 5);
  CHECK(x.what == EV_STOP && y.what == EV_STOP);
  CHECK(x.a == ACTNET_EXIT_SHUTDOWN && y.a == ACTNET_EXIT_SHUTDOWN);
  CHECK((strcmp(x.text, "a1") == 0 && strcmp(y.text, "a3") == 0) ||
        (strcmp(x.text, "a3") == 0 && strcmp(y.text, "a1") == 0));
  /* then all three start again, in spec order, with new pids */
  actnet_pid prev = old[2];
  for (int i = 0; i < 3; i++) {
    evrec r = expect_rec(log, 6 + i, EV_START, names[i]);
    CHECK(r.pid.id > prev.id);
    prev = r.pid;
    CHECK(lookup(names[i]).id == r.pid.id);
  }
  for (int i = 0; i < 3; i++) ping(log, names[i], evlog_at(log, 6 + i).pid);
  CHECK(evlog_count(log) == 12);
  stop_sup(log, sup, names, 3);
  evlog_free(log);
}

static void rest_for_one(void) {
  evlog *log = evlog_new();
  const char *names[] = {"r1", "r2", "r3"};
  actnet_pid sup = start_sup(log, ACTNET_STRATEGY_REST_FOR_ONE, 10, NULL, names, 3, ACTNET_STATUS_OK);
  actnet_pid r1 = lookup("r1"), r2 = lookup("r2"), r3 = lookup("r3");

  /* the middle one: it and the later one restart, in order; r1 stays */
  crash("r2");
  evrec s = expect_rec(log, 3, EV_STOP, "r2");
  CHECK(s.pid.id == r2.id && s.a == ACTNET_EXIT_ERROR);
  s = expect_rec(log, 4, EV_STOP, "r3");
  CHECK(s.pid.id == r3.id && s.a == ACTNET_EXIT_SHUTDOWN);
  evrec n2 = expect_rec(log, 5, EV_START, "r2");
  evrec n3 = expect_rec(log, 6, EV_START, "r3");
  CHECK(n2.pid.id > r3.id && n3.pid.id > n2.pid.id);
  CHECK(lookup("r1").id == r1.id && lookup("r2").id == n2.pid.id && lookup("r3").id == n3.pid.id);
  ping(log, "r1", r1);
  ping(log, "r2", n2.pid);
  ping(log, "r3", n3.pid); /* records 7..9 */

  /* the last one: only it restarts */
  crash("r3");
  s = expect_rec(log, 10, EV_STOP, "r3");
  CHECK(s.pid.id == n3.pid.id && s.a == ACTNET_EXIT_ERROR);
  evrec m3 = expect_rec(log, 11, EV_START, "r3");
  CHECK(m3.pid.id > n3.pid.id);
  ping(log, "r3", m3.pid);
  ping(log, "r2", n2.pid);
  ping(log, "r1", r1); /* records 12..14 */

  /* the first one: all restart, in order */
  crash("r1");
  s = expect_rec(log, 15, EV_STOP, "r1");
  CHECK(s.pid.id == r1.id && s.a == ACTNET_EXIT_ERROR);
  CHECK(evlog_wait(log, 20, WAIT_MS));
  evrec x = evlog_at(log, 16), y = evlog_at(log, 17);
  CHECK(x.what == EV_STOP && y.what == EV_STOP && x.a == ACTNET_EXIT_SHUTDOWN && y.a == ACTNET_EXIT_SHUTDOWN);
  CHECK((x.pid.id == n2.pid.id && y.pid.id == m3.pid.id) || (x.pid.id == m3.pid.id && y.pid.id == n2.pid.id));
  actnet_pid prev = m3.pid;
  for (int i = 0; i < 3; i++) {
    evrec r = expect_rec(log, 18 + i, EV_START, names[i]);
    CHECK(r.pid.id > prev.id);
    prev = r.pid;
    CHECK(lookup(names[i]).id == r.pid.id);
  }
  for (int i = 0; i < 3; i++) ping(log, names[i], evlog_at(log, 18 + i).pid);
  stop_sup(log, sup, names, 3);
  evlog_free(log);
}

/* Trap-exits sentinel: linked to a child after the supervisor, it hears of the child's end
 * after the supervisor's EXIT was queued. */
static probe *sp;
static actnet_pid sentinel;

static void sentinel_sees_end_of(actnet_pid child) {
  probe_event e;
  probe_expect(sp, ACTNET_MSG_EXIT, &e);
  CHECK(e.from.id == child.id);
  probe_event_clear(&e);
}

static void restart_types(void) {
  evlog *log = evlog_new();
  const char *names[] = {"tr1", "tp1", "pm1", "tr2"};
  actnet_pid sup = start_sup(log, ACTNET_STRATEGY_ONE_FOR_ONE, 10, NULL, names, 4, ACTNET_STATUS_OK);
  actnet_pid tr1 = lookup("tr1"), tp1 = lookup("tp1"), pm1 = lookup("pm1"), tr2 = lookup("tr2");
  CHECK_OK(actnet_process_link(node, sentinel, tr1));
  CHECK_OK(actnet_process_link(node, sentinel, tp1));

  /* transient, normal end: not restarted */
  CHECK_OK(actnet_message_send(node, tr1, TAG_STOP_SELF, NULL, 0));
  evrec s = expect_rec(log, 4, EV_STOP, "tr1");
  CHECK(s.a == ACTNET_EXIT_NORMAL);
  sentinel_sees_end_of(tr1);
  /* temporary, crash: not restarted */
  crash("tp1");
  s = expect_rec(log, 5, EV_STOP, "tp1");
  CHECK(s.a == ACTNET_EXIT_ERROR);
  sentinel_sees_end_of(tp1);
  /* permanent, normal end: restarted. The supervisor handled the two ends above first, so
   * the next START being pm1's shows they restarted nothing. */
  CHECK_OK(actnet_message_send(node, pm1, TAG_STOP_SELF, NULL, 0));
  s = expect_rec(log, 6, EV_STOP, "pm1");
  CHECK(s.a == ACTNET_EXIT_NORMAL);
  evrec st = expect_rec(log, 7, EV_START, "pm1");
  CHECK(st.pid.id > tr2.id);
  /* transient, crash: restarted */
  crash("tr2");
  s = expect_rec(log, 8, EV_STOP, "tr2");
  CHECK(s.a == ACTNET_EXIT_ERROR);
  evrec st2 = expect_rec(log, 9, EV_START, "tr2");
  CHECK(st2.pid.id > st.pid.id);
  actnet_pid pid;
  CHECK_STATUS(actnet_name_lookup(node, "tr1", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_lookup(node, "tp1", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_message_send_name(node, "tp1", TAG_PING, NULL, 0), ACTNET_STATUS_NOT_FOUND);
  ping(log, "pm1", st.pid);
  ping(log, "tr2", st2.pid);
  CHECK(evlog_count(log) == 12);
  const char *alive[] = {"pm1", "tr2"};
  stop_sup(log, sup, alive, 2);
  evlog_free(log);
}

static void intensity(void) {
  evlog *log = evlog_new();
  const char *names[] = {"i1", "i2", "i3"};
  actnet_pid sup = start_sup(log, ACTNET_STRATEGY_ONE_FOR_ONE, 2, "sup_i", names, 3, ACTNET_STATUS_OK);
  uint64_t sref, i2ref, i3ref;
  actnet_pid i2 = lookup("i2"), i3 = lookup("i3");
  CHECK_OK(actnet_process_monitor(node, watcher, sup, &sref));
  CHECK_OK(actnet_process_monitor(node, watcher, i2, &i2ref));
  CHECK_OK(actnet_process_monitor(node, watcher, i3, &i3ref));

  /* two restarts are allowed */
  int at = 3;
  for (int round = 0; round < 2; round++) {
    actnet_pid before = lookup("i1");
    crash("i1");
    evrec s = expect_rec(log, at, EV_STOP, "i1");
    CHECK(s.pid.id == before.id && s.a == ACTNET_EXIT_ERROR);
    evrec st = expect_rec(log, at + 1, EV_START, "i1");
    CHECK(st.pid.id > before.id);
    ping(log, "i1", st.pid);
    at += 3;
  }
  /* the third within the period is one too many */
  crash("i1");
  expect_rec(log, at, EV_STOP, "i1");
  /* the supervisor ends with MAX_RESTARTS; its other children are stopped (their DOWNs may
   * come before the supervisor's: it stops them before it ends) */
  actnet_pid ids[3] = {sup, i2, i3};
  uint64_t refs[3] = {sref, i2ref, i3ref};
  uint32_t reasons[3] = {ACTNET_EXIT_MAX_RESTARTS, ACTNET_EXIT_SHUTDOWN, ACTNET_EXIT_SHUTDOWN};
  bool seen[3] = {false, false, false};
  for (int k = 0; k < 3; k++) {
    probe_event e;
    probe_expect(w, ACTNET_MSG_DOWN, &e);
    int i;
    for (i = 0; i < 3; i++)
      if (ids[i].id == e.from.id) break;
    CHECK(i < 3 && !seen[i]);
    seen[i] = true;
    CHECK(e.reference == refs[i] && e.reason == reasons[i] && e.reason_code == 0);
    probe_event_clear(&e);
  }
  CHECK(evlog_wait(log, at + 3, WAIT_MS));
  int starts = 0, stops = 0;
  for (int i = 0; i < evlog_count(log); i++) {
    evrec r = evlog_at(log, i);
    if (r.what == EV_START) starts++;
    if (r.what == EV_STOP) stops++;
  }
  CHECK(starts == 5 && stops == 5);
  for (int i = at + 1; i < at + 3; i++) {
    evrec r = evlog_at(log, i);
    CHECK(r.what == EV_STOP && r.a == ACTNET_EXIT_SHUTDOWN && r.text[0] == 'i' && r.text[1] != '1');
  }
  actnet_pid pid;
  for (int i = 0; i < 3; i++) CHECK_STATUS(actnet_name_lookup(node, names[i], &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_lookup(node, "sup_i", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_message_send_name(node, "i2", TAG_PING, NULL, 0), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_process_inspect(node, sup, &(actnet_info *){NULL}), ACTNET_STATUS_NOT_FOUND);
  CHECK(evlog_count(log) == at + 3);
  evlog_free(log);
}

static void init_failure(void) {
  evlog *log = evlog_new();
  const char *names[] = {"f_ok", "fail_2", "f_never"};
  start_sup(log, ACTNET_STRATEGY_ONE_FOR_ONE, 10, "sup_f", names, 3, ACTNET_STATUS_INIT_FAILED);
  evrec ok = expect_rec(log, 0, EV_START, "f_ok");
  expect_rec(log, 1, EV_INIT_FAILED, "fail_2");
  evrec s = expect_rec(log, 2, EV_STOP, "f_ok");
  CHECK(s.pid.id == ok.pid.id && s.a == ACTNET_EXIT_SHUTDOWN);
  wait_gone(ok.pid);
  actnet_pid pid;
  CHECK_STATUS(actnet_name_lookup(node, "f_ok", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_lookup(node, "fail_2", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_lookup(node, "sup_f", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK(evlog_count(log) == 3); /* f_never never started */
  evlog_free(log);
}

int main(void) {
  node = test_node_start();
  w = probe_new();
  watcher = probe_spawn(node, w, NULL);
  sp = probe_new();
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.trap_exits = true;
  sentinel = probe_spawn_opts(node, sp, &so);

  one_for_one();
  all_for_one();
  rest_for_one();
  restart_types();
  intensity();
  init_failure();

  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  probe_release(w);
  probe_release(sp);
  printf("ok\n");
  return 0;
}
