/* Foreign misuse, handlers (issue 6). Handlers that do what they should not; the node goes
 * on serving a well-behaved echo client throughout:
 *
 * - actnet_node_stop from callbacks (test_node_stop.c has USER handlers, init and
 *   terminate): from the CONNECT, DATA and DISCONNECT handlers of a server's connection, a
 *   CALL handler, a supervisor child's init and handler, and a terminate: WRONG_CONTEXT every
 *   time, and the node keeps working (echoes, spawns, calls); actnet_node_free from a
 *   handler or a terminate is refused the same way (0.2).
 * - Handlers that return an error on every message:
 *   - five processes, each ending with ACTNET_EXIT_ERROR and its own code (DOWN to a monitor,
 *     and the reason and code in its terminate);
 *   - the worker of a server's process_pool, under a supervisor (intensity 3): every
 *     connection routed to it makes it fail (the connection ends, the peer sees its socket
 *     closed), the supervisor restarts it, and the fourth failure ends the supervisor with
 *     MAX_RESTARTS; later connections find no target and are closed; the server lives on;
 *   - a supervisor of two such workers fed by send_name gives up the same way.
 * - A slow handler (it sleeps 200 ms per message; three such processes, more than the node's
 *   two worker threads): the well-behaved client's round trips keep their latency (median
 *   and 90th percentile far below 200 ms, compared with a baseline taken before); the slow
 *   processes' mailboxes (4 messages) fill and their senders, foreign threads and handlers,
 *   get MAILBOX_FULL (nothing queued: what was accepted is exactly what is handled); a
 *   connection whose target is slow (mailbox policy PAUSE) stops reading ("reading paused"),
 *   so a peer writing as fast as it can is pushed back by TCP within a bounded number of
 *   bytes; once the handler is fast again, every byte arrives, in order.
 * Every wait is bounded; the only sleeps are the slow handler's (the behaviour under test).
 * Times are multiplied by $ACTNET_TEST_SLOW (harness.h) under valgrind; the 200 ms are not.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "misuse.h"
#include "tls_support.h"

static actnet_node *node;
static tq *wq; /* the watcher's queue */
static actnet_pid watcher;
static mis_echo good;

static void expect_down(actnet_pid id, uint32_t reason, int32_t code, const char *what) {
  tev e;
  tq_expect_for(wq, ACTNET_MSG_DOWN, id, &e);
  if (e.reason != reason || (reason == ACTNET_EXIT_ERROR && e.reason_code != code)) {
    fprintf(stderr, "%s: DOWN %s code %d, wanted %s code %d\n", what, actnet_exit_reason_str(e.reason),
            e.reason_code, actnet_exit_reason_str(reason), code);
    exit(1);
  }
  tev_clear(&e);
}

static actnet_behavior *behavior(actnet_init_fn init, actnet_handle_fn handle, actnet_terminate_fn term,
                                 void *user_data) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.init = init;
  cb.handle_message = handle;
  cb.terminate = term;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, user_data, NULL, &b));
  return b;
}

static actnet_pid spawn(actnet_behavior *b, const char *name, uint32_t mailbox, const char *args) {
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.name = name;
  so.mailbox_size = mailbox;
  so.args = (const uint8_t *)args;
  so.args_len = args ? strlen(args) : 0;
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));
  return pid;
}

/* Expects n DOWN messages, in any order, one for each ids[i] with reasons[i] (and, for
 * ERROR, codes[i]). */
static void expect_downs(int n, const actnet_pid *ids, const uint32_t *reasons, const int32_t *codes, const char *what) {
  bool seen[16] = {false};
  CHECK(n <= 16);
  for (int k = 0; k < n; k++) {
    tev e;
    tq_expect(wq, ACTNET_MSG_DOWN, &e);
    int i = 0;
    while (i < n && (ids[i].id != e.from.id || seen[i])) i++;
    if (i == n || e.reason != reasons[i] || (reasons[i] == ACTNET_EXIT_ERROR && e.reason_code != codes[i])) {
      fprintf(stderr, "%s: unexpected DOWN of %llu: %s code %d\n", what, (unsigned long long)e.from.id,
              actnet_exit_reason_str(e.reason), e.reason_code);
      exit(1);
    }
    seen[i] = true;
    tev_clear(&e);
  }
}

/* Polls the registry until `name` belongs to a process other than `not`; returns it. */
static actnet_pid wait_name(const char *name, actnet_pid not) {
  int64_t end = now_ms() + WAIT_MS;
  for (;;) {
    actnet_pid pid = {0};
    if (actnet_name_lookup(node, name, &pid) == ACTNET_STATUS_OK && pid.id != not.id) return pid;
    CHECK(now_ms() < end);
    sleep_ms(1);
  }
}

/* ------------------------------------------------------------------ stopping from handlers */

enum { EV_STOP = 1 };

static int32_t stopper_init(void *u, actnet_node *n, actnet_pid pid, const uint8_t *args, size_t len, void **s) {
  (void)s;
  if (len == 4 && memcmp(args, "stop", 4) == 0) evlog_add(u, EV_STOP, pid, 0, 0, actnet_node_stop(n), "init");
  return 0;
}

static int32_t stopper_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)s;
  actnet_status st = actnet_node_stop(n);
  CHECK_STATUS(actnet_node_free(n), ACTNET_STATUS_WRONG_CONTEXT); /* nor can it free the node */
  evlog_add(u, EV_STOP, pid, m->kind, 0, st, actnet_message_kind_str(m->kind));
  if (m->kind == ACTNET_MSG_DATA) CHECK_OK(actnet_tcp_write(n, m->alias, m->data, m->len)); /* still works */
  if (m->kind == ACTNET_MSG_CALL) CHECK_OK(actnet_process_reply(n, m->reference, (const uint8_t *)&st, sizeof st));
  return 0;
}

static void stopper_terminate(void *u, actnet_node *n, actnet_pid pid, void *s, uint32_t reason, int32_t code) {
  (void)s, (void)reason, (void)code;
  CHECK_STATUS(actnet_node_free(n), ACTNET_STATUS_WRONG_CONTEXT);
  evlog_add(u, EV_STOP, pid, 0, 0, actnet_node_stop(n), "terminate");
}

static void stop_from_handlers(void) {
  evlog *log = evlog_new();
  actnet_behavior *b = behavior(stopper_init, stopper_handle, stopper_terminate, log);
  int want = 0;

  /* a plain process: USER and CALL */
  actnet_pid p = spawn(b, NULL, 0, NULL);
  CHECK_OK(actnet_message_send(node, p, 1, NULL, 0));
  want++;
  actnet_buf *reply = NULL;
  CHECK_OK(actnet_process_call(node, p, 2, NULL, 0, WAIT_MS, &reply));
  want++;
  actnet_status in_call = 0;
  CHECK(actnet_buf_len(reply) == sizeof in_call);
  memcpy(&in_call, actnet_buf_data(reply), sizeof in_call);
  CHECK(in_call == ACTNET_STATUS_WRONG_CONTEXT);
  CHECK_OK(actnet_buf_free(reply));

  /* a server's owner: CONNECT, DATA (echoed after the attempt), DISCONNECT */
  actnet_pid owner = spawn(b, NULL, 0, NULL);
  actnet_tcp_server_options so;
  server_options(&so);
  uint16_t port = 0;
  server_spawn(node, owner, &so, &port);
  int fd = net_connect(port);
  net_write_all(fd, "still echoing", 13);
  char back[13];
  CHECK(net_read_exact(fd, back, 13, WAIT_MS) && memcmp(back, "still echoing", 13) == 0);
  close(fd);
  want += 3; /* at least: DATA may come in pieces */
  int64_t end = now_ms() + WAIT_MS;
  for (bool disconnected = false; !disconnected;) {
    CHECK(now_ms() < end);
    for (int i = 0; i < evlog_count(log) && !disconnected; i++) {
      disconnected = evlog_at(log, i).a == ACTNET_MSG_DISCONNECT;
    }
    if (!disconnected) sleep_ms(1);
  }

  /* a supervisor child: init and handler */
  actnet_child_spec spec;
  CHECK_OK(actnet_child_spec_init(&spec));
  spec.name = "misuse-stopper-child";
  spec.behavior = b;
  spec.args = (const uint8_t *)"stop";
  spec.args_len = 4;
  actnet_supervisor_options sup;
  CHECK_OK(actnet_supervisor_options_init(&sup));
  sup.children = &spec;
  sup.children_len = 1;
  actnet_pid sv = {0};
  CHECK_OK(actnet_supervisor_spawn(node, &sup, &sv));
  want++;
  CHECK_OK(actnet_message_send_name(node, "misuse-stopper-child", 3, NULL, 0));
  want++;

  /* terminates */
  CHECK(evlog_wait(log, want, WAIT_MS));
  tq_monitor(node, watcher, p);
  tq_monitor(node, watcher, owner);
  tq_monitor(node, watcher, sv);
  CHECK_OK(actnet_process_stop(node, p));
  CHECK_OK(actnet_process_stop(node, owner));
  CHECK_OK(actnet_process_stop(node, sv));
  const actnet_pid ids[3] = {p, owner, sv};
  const uint32_t reasons[3] = {ACTNET_EXIT_SHUTDOWN, ACTNET_EXIT_SHUTDOWN, ACTNET_EXIT_SHUTDOWN};
  const int32_t codes[3] = {0, 0, 0};
  expect_downs(3, ids, reasons, codes, "stoppers");
  want += 3;
  CHECK(evlog_wait(log, want, WAIT_MS));

  int kinds[16] = {0};
  int n = evlog_count(log);
  for (int i = 0; i < n; i++) {
    evrec r = evlog_at(log, i);
    if (r.c != ACTNET_STATUS_WRONG_CONTEXT) {
      fprintf(stderr, "actnet_node_stop from %s returned %s\n", r.text, actnet_status_str((uint32_t)r.c));
      exit(1);
    }
    if (r.a < 16) kinds[r.a]++;
  }
  CHECK(kinds[ACTNET_MSG_USER] == 2 && kinds[ACTNET_MSG_CALL] == 1 && kinds[ACTNET_MSG_CONNECT] == 1 &&
        kinds[ACTNET_MSG_DATA] >= 1 && kinds[ACTNET_MSG_DISCONNECT] == 1);

  /* the node works: echo, spawn, call */
  mis_echo_roundtrip(&good, "after stopping from handlers");
  probe *pr = probe_new();
  actnet_pid fresh = probe_spawn(node, pr, NULL);
  CHECK_OK(actnet_process_call(node, fresh, PROBE_CMD_ECHO, (const uint8_t *)"ok", 2, WAIT_MS, &reply));
  CHECK(actnet_buf_len(reply) == 2);
  CHECK_OK(actnet_buf_free(reply));
  CHECK_OK(actnet_process_stop(node, fresh));
  CHECK(probe_wait_terminated(pr, 1, WAIT_MS));
  probe_release(pr);
  CHECK_OK(actnet_behavior_free(b));
  printf("stop from handlers: %d attempts (USER, CALL, CONNECT, DATA, DISCONNECT, child init, "
         "terminate): all WRONG_CONTEXT, the node goes on\n", n);
  evlog_free(log);
}

/* ------------------------------------------------------------------ failing handlers */

typedef struct fail_ctx {
  evlog *terms; /* terminate: reason, code */
  atomic_int handled;
} fail_ctx;

/* Fails on every message: with the int32 in a 4-byte USER payload, else 42. */
static int32_t failer_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)n, (void)pid, (void)s;
  fail_ctx *c = u;
  atomic_fetch_add(&c->handled, 1);
  if (m->buf) CHECK_OK(actnet_buf_free(m->buf));
  int32_t code = 42;
  if (m->kind == ACTNET_MSG_USER && m->len == 4) memcpy(&code, m->data, 4);
  return code;
}

static void failer_terminate(void *u, actnet_node *n, actnet_pid pid, void *s, uint32_t reason, int32_t code) {
  (void)n, (void)s;
  fail_ctx *c = u;
  evlog_add(c->terms, 0, pid, reason, 0, code, NULL);
}

static void failing_handlers(void) {
  fail_ctx c;
  c.terms = evlog_new();
  atomic_init(&c.handled, 0);
  actnet_behavior *b = behavior(NULL, failer_handle, failer_terminate, &c);

  /* five processes, five codes */
  actnet_pid pids[5];
  for (int i = 0; i < 5; i++) {
    pids[i] = spawn(b, NULL, 0, NULL);
    tq_monitor(node, watcher, pids[i]);
  }
  for (int i = 0; i < 5; i++) {
    int32_t code = 100 + i;
    CHECK_OK(actnet_message_send(node, pids[i], 1, (const uint8_t *)&code, 4));
  }
  uint32_t errors[5];
  int32_t codes[5];
  for (int i = 0; i < 5; i++) {
    errors[i] = ACTNET_EXIT_ERROR;
    codes[i] = 100 + i;
  }
  expect_downs(5, pids, errors, codes, "failing processes");
  CHECK(evlog_wait(c.terms, 5, WAIT_MS));
  for (int i = 0; i < 5; i++) {
    evrec r = evlog_at(c.terms, i);
    int k = -1;
    for (int j = 0; j < 5; j++) {
      if (pids[j].id == r.pid.id) k = j;
    }
    CHECK(k >= 0 && r.a == ACTNET_EXIT_ERROR && r.c == 100 + k);
  }
  mis_echo_roundtrip(&good, "after failing processes");

  /* the pool worker of a server, under a supervisor */
  actnet_child_spec spec;
  CHECK_OK(actnet_child_spec_init(&spec));
  spec.name = "misuse-failing-worker";
  spec.behavior = b;
  actnet_supervisor_options sup;
  CHECK_OK(actnet_supervisor_options_init(&sup));
  sup.intensity = 3;
  sup.period_ms = 600000; /* every failure of this test counts */
  sup.children = &spec;
  sup.children_len = 1;
  actnet_pid sv = {0};
  CHECK_OK(actnet_supervisor_spawn(node, &sup, &sv));
  tq_monitor(node, watcher, sv);
  tq *oq = tq_new();
  actnet_pid owner = tq_spawn(node, oq, NULL, 0);
  actnet_tcp_server_options so;
  server_options(&so);
  static const char *pool[] = {"misuse-failing-worker"};
  so.process_pool = pool;
  so.process_pool_len = 1;
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, owner, &so, &port);
  actnet_pid worker = {0};
  int rounds = 0;
  for (;;) {
    actnet_pid prev = worker;
    worker = wait_name("misuse-failing-worker", prev);
    tq_monitor(node, watcher, worker);
    int fd = net_connect(port);
    net_write_all(fd, "hello?", 6); /* may or may not be read before it fails */
    uint8_t buf[64];
    size_t got = 0;
    net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got);
    CHECK((end == NET_EOF || end == NET_RESET) && got == 0); /* closed, nothing echoed */
    close(fd);
    rounds++;
    if (rounds == (int)sup.intensity + 1) break;
    expect_down(worker, ACTNET_EXIT_ERROR, 42, "the pool worker");
  }
  /* its supervisor gave up */
  const actnet_pid last_ids[2] = {worker, sv};
  const uint32_t last_reasons[2] = {ACTNET_EXIT_ERROR, ACTNET_EXIT_MAX_RESTARTS};
  const int32_t last_codes[2] = {42, 0};
  expect_downs(2, last_ids, last_reasons, last_codes, "the pool worker's supervisor");
  actnet_pid none = {0};
  CHECK_STATUS(actnet_name_lookup(node, "misuse-failing-worker", &none), ACTNET_STATUS_NOT_FOUND);
  /* no target: later connections are closed at once, the server lives on */
  for (int i = 0; i < 3; i++) {
    int fd = net_connect(port);
    uint8_t buf[8];
    size_t got = 0;
    net_end end = net_read_to_end(fd, buf, sizeof buf, WAIT_MS, &got);
    CHECK((end == NET_EOF || end == NET_RESET) && got == 0);
    close(fd);
  }
  CHECK(wait_inspect(node, server, "connections", "0", WAIT_MS));
  CHECK(tq_quiet(oq, 10)); /* the owner saw nothing of it */
  mis_echo_roundtrip(&good, "after a failing pool worker");

  /* two workers fed by name */
  actnet_child_spec specs[2];
  specs[0] = spec;
  specs[1] = spec;
  specs[0].name = "misuse-failing-a";
  specs[1].name = "misuse-failing-b";
  sup.children = specs;
  sup.children_len = 2;
  CHECK_OK(actnet_supervisor_spawn(node, &sup, &sv));
  tq_monitor(node, watcher, sv);
  /* a and b alternately; each failure restarts the one that failed */
  actnet_pid last[2] = {{0}, {0}};
  for (int i = 0; i < (int)sup.intensity + 1; i++) {
    const char *name = i % 2 ? "misuse-failing-b" : "misuse-failing-a";
    actnet_pid w = wait_name(name, last[i % 2]);
    last[i % 2] = w;
    tq_monitor(node, watcher, w);
    int32_t code = 7;
    CHECK_OK(actnet_message_send(node, w, 1, (const uint8_t *)&code, 4));
    if (i < (int)sup.intensity) expect_down(w, ACTNET_EXIT_ERROR, 7, "a failing worker");
    if (i == (int)sup.intensity - 1) { /* a's next incarnation, which the supervisor will stop */
      last[0] = wait_name("misuse-failing-a", last[0]);
      tq_monitor(node, watcher, last[0]);
    }
  }
  /* the last failure (b), its supervisor giving up, and a's third incarnation stopped */
  const actnet_pid two_ids[3] = {last[1], sv, last[0]};
  const uint32_t two_reasons[3] = {ACTNET_EXIT_ERROR, ACTNET_EXIT_MAX_RESTARTS, ACTNET_EXIT_SHUTDOWN};
  const int32_t two_codes[3] = {7, 0, 0};
  expect_downs(3, two_ids, two_reasons, two_codes, "two failing workers");
  CHECK_STATUS(actnet_name_lookup(node, "misuse-failing-a", &none), ACTNET_STATUS_NOT_FOUND);
  mis_echo_roundtrip(&good, "after failing workers");

  CHECK_OK(actnet_process_stop(node, owner));
  tq_release(oq);
  CHECK_OK(actnet_behavior_free(b));
  printf("failing handlers: 5 processes ended ERROR with their codes; a pool worker failed on %d "
         "connections and its supervisor gave up (MAX_RESTARTS); two workers' supervisor too; "
         "%d messages handled in all\n", rounds, atomic_load(&c.handled));
  evlog_free(c.terms);
}

/* ------------------------------------------------------------------ slow handlers */

enum { SLOW_DELAY_MS = 200, SLOW_MAILBOX = 4, SLOW_SEED = 11 };
#define TAG_RELAY UINT64_C(0x51)

typedef struct slow_ctx {
  atomic_int delay_ms;
  atomic_int handled;
  atomic_llong data_bytes; /* DATA bytes, checked against the pattern in order */
  atomic_int pattern_errors;
  atomic_int relay_ok, relay_full, relay_other; /* sends made by the relay's handler */
  atomic_ullong conn; /* the connection (alias id) of the last CONNECT */
} slow_ctx;

static int32_t slow_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)n, (void)pid, (void)s;
  slow_ctx *c = u;
  int d = atomic_load(&c->delay_ms);
  if (d > 0) sleep_ms(d); /* the behaviour under test */
  if (m->kind == ACTNET_MSG_CONNECT) atomic_store(&c->conn, m->alias.id);
  if (m->kind == ACTNET_MSG_DATA) {
    long long off = atomic_load(&c->data_bytes);
    if (net_pattern_check(m->data, m->len, (uint64_t)off, SLOW_SEED) != (size_t)-1) {
      atomic_fetch_add(&c->pattern_errors, 1);
    }
    atomic_store(&c->data_bytes, off + (long long)m->len);
    if (m->buf) CHECK_OK(actnet_buf_free(m->buf));
  }
  atomic_fetch_add(&c->handled, 1);
  return 0;
}

/* A fast process that, on TAG_RELAY (payload: pid id, count), sends `count` messages to pid. */
static int32_t relay_handle(void *u, actnet_node *n, actnet_pid pid, void *s, const actnet_message *m) {
  (void)pid, (void)s;
  slow_ctx *c = u;
  if (m->kind != ACTNET_MSG_USER || m->tag != TAG_RELAY) return 0;
  uint64_t args[2];
  CHECK(m->len == sizeof args);
  memcpy(args, m->data, sizeof args);
  for (uint64_t i = 0; i < args[1]; i++) {
    actnet_status st = actnet_message_send(n, (actnet_pid){args[0]}, 1, NULL, 0);
    if (st == ACTNET_STATUS_OK) atomic_fetch_add(&c->relay_ok, 1);
    else if (st == ACTNET_STATUS_MAILBOX_FULL) atomic_fetch_add(&c->relay_full, 1);
    else atomic_fetch_add(&c->relay_other, 1);
  }
  return 0;
}

static void rtt_round(int64_t *samples, int n, const char *what) {
  for (int i = 0; i < n; i++) samples[i] = mis_echo_roundtrip(&good, what);
}

static void slow_handlers(void) {
  enum { N = 100 };
  int64_t samples[N];

  /* the baseline, before anything is slow */
  rtt_round(samples, N, "baseline");
  mis_rtt base = mis_rtt_of(samples, N);

  slow_ctx a, b, cc; /* a: USER from here and from a handler; b: a TCP connection; cc: USER */
  slow_ctx *ctxs[3] = {&a, &b, &cc};
  for (int i = 0; i < 3; i++) {
    slow_ctx *c = ctxs[i];
    atomic_init(&c->delay_ms, SLOW_DELAY_MS);
    atomic_init(&c->handled, 0);
    atomic_init(&c->data_bytes, 0);
    atomic_init(&c->pattern_errors, 0);
    atomic_init(&c->relay_ok, 0);
    atomic_init(&c->relay_full, 0);
    atomic_init(&c->relay_other, 0);
    atomic_init(&c->conn, 0);
  }
  actnet_behavior *ba = behavior(NULL, slow_handle, NULL, &a);
  actnet_behavior *bb = behavior(NULL, slow_handle, NULL, &b);
  actnet_behavior *bc = behavior(NULL, slow_handle, NULL, &cc);
  actnet_behavior *br = behavior(NULL, relay_handle, NULL, &a);
  actnet_pid pa = spawn(ba, NULL, SLOW_MAILBOX, NULL);
  actnet_pid pb = spawn(bb, NULL, SLOW_MAILBOX, NULL);
  actnet_pid pc = spawn(bc, NULL, SLOW_MAILBOX, NULL);
  actnet_pid relay = spawn(br, NULL, 0, NULL);
  const actnet_pid slow_ids[4] = {pa, pb, pc, relay};
  for (int i = 0; i < 4; i++) tq_monitor(node, watcher, slow_ids[i]);
  int64_t end;

  /* a's mailbox fills: a foreign thread's sends become MAILBOX_FULL (at most one message is
   * being handled and SLOW_MAILBOX wait) */
  int sent_a = 0, full = 0;
  int64_t t_send = now_ms();
  for (int i = 0; i < 3 * SLOW_MAILBOX && full == 0; i++) {
    actnet_status st = actnet_message_send(node, pa, 1, NULL, 0);
    if (st == ACTNET_STATUS_OK) sent_a++;
    else {
      CHECK_STATUS(st, ACTNET_STATUS_MAILBOX_FULL);
      full++;
    }
  }
  /* one more if a took its first message meanwhile, and one per 200 ms the loop took (on a
   * loaded machine) */
  int freed = 1 + (int)((now_ms() - t_send) / SLOW_DELAY_MS);
  CHECK(full == 1 && sent_a >= SLOW_MAILBOX && sent_a <= SLOW_MAILBOX + freed);
  /* ... and so do a handler's */
  uint64_t relay_args[2] = {pa.id, 5};
  int64_t t_relay = now_ms();
  CHECK_OK(actnet_message_send(node, relay, TAG_RELAY, (const uint8_t *)relay_args, sizeof relay_args));
  end = now_ms() + WAIT_MS;
  while (atomic_load(&a.relay_ok) + atomic_load(&a.relay_full) + atomic_load(&a.relay_other) < 5) {
    CHECK(now_ms() < end);
    sleep_ms(1);
  }
  freed = 1 + (int)((now_ms() - t_relay) / SLOW_DELAY_MS);
  CHECK(atomic_load(&a.relay_full) >= 1 && atomic_load(&a.relay_ok) <= freed && atomic_load(&a.relay_other) == 0);
  sent_a += atomic_load(&a.relay_ok);
  for (int i = 0; i < SLOW_MAILBOX + 1; i++) (void)actnet_message_send(node, pc, 1, NULL, 0);

  /* b owns a server: its connection pauses, and TCP pushes back on a peer that writes as
   * fast as it can */
  actnet_tcp_server_options so;
  server_options(&so);
  test_conn_options tc_so;
  so.connection = test_conn_options_init(&tc_so);
  tc_so.conn.read_buffer_size = 4096;
  CHECK(tc_so.conn.mailbox_policy == ACTNET_MAILBOX_POLICY_PAUSE); /* the default */
  uint16_t port = 0;
  actnet_alias server = server_spawn(node, pb, &so, &port);
  int fd = net_connect_bufs(port, 0, 16384);
  CHECK(wait_inspect(node, server, "connections", "1", WAIT_MS));
  int fl = fcntl(fd, F_GETFL);
  CHECK(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
  static uint8_t chunk[16384];
  uint64_t written = 0;
  const uint64_t cap = UINT64_C(64) << 20;
  for (;;) {
    net_pattern(chunk, sizeof chunk, written, SLOW_SEED);
    ssize_t w = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
    if (w > 0) { /* (the next chunk goes on from the new offset) */
      written += (uint64_t)w;
      if (written > cap) {
        fprintf(stderr, "no push back: the peer wrote %llu bytes to a paused connection\n",
                (unsigned long long)written);
        exit(1);
      }
      continue;
    }
    CHECK(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, SLOW_MS(300)) == 0) break; /* no room for 300 ms: pushed back */
  }
  /* the connection stopped reading: b's mailbox holds at most SLOW_MAILBOX DATA */
  end = now_ms() + WAIT_MS;
  while (atomic_load(&b.conn) == 0) { /* its CONNECT takes one slow turn */
    CHECK(now_ms() < end);
    sleep_ms(1);
  }
  actnet_alias conn = {atomic_load(&b.conn)};
  CHECK(wait_inspect(node, conn, "reading paused", "true", WAIT_MS));
  uint64_t in_mailbox = inspect_u64(node, pb, "mailbox");
  CHECK(in_mailbox <= SLOW_MAILBOX);
  uint64_t bytes_in = inspect_u64(node, conn, "bytes in");

  /* meanwhile the well-behaved client's latency */
  rtt_round(samples, N, "while handlers are slow");
  mis_rtt slow = mis_rtt_of(samples, N);
  CHECK((uint64_t)atomic_load(&b.data_bytes) < written); /* b was still busy throughout */
  /* a, b and cc sleep 200 ms per message: a round trip that waited for one would take that
   * long. Allow for the machine's noise, but not for queueing behind a slow handler. */
  if (slow.p50 > SLOW_MS(50) * 1000 || slow.p90 > SLOW_MS(150) * 1000) {
    fprintf(stderr, "round trips while handlers are slow: median %lld us, p90 %lld us (baseline %lld / %lld)\n",
            (long long)slow.p50, (long long)slow.p90, (long long)base.p50, (long long)base.p90);
    exit(1);
  }

  /* fast again: everything b's connection read arrives, in order, and reading resumes */
  for (int i = 0; i < 3; i++) atomic_store(&ctxs[i]->delay_ms, 0);
  int fl2 = fcntl(fd, F_GETFL);
  CHECK(fcntl(fd, F_SETFL, fl2 & ~O_NONBLOCK) == 0);
  end = now_ms() + WAIT_MS;
  while ((uint64_t)atomic_load(&b.data_bytes) < written) {
    if (now_ms() > end) {
      fprintf(stderr, "the slow connection delivered %lld of %llu bytes\n", (long long)atomic_load(&b.data_bytes),
              (unsigned long long)written);
      exit(1);
    }
    sleep_ms(1);
  }
  CHECK((uint64_t)atomic_load(&b.data_bytes) == written && atomic_load(&b.pattern_errors) == 0);
  close(fd);
  CHECK(wait_inspect(node, server, "connections", "0", WAIT_MS));
  /* a handled exactly what was accepted */
  end = now_ms() + WAIT_MS;
  while (atomic_load(&a.handled) < sent_a) {
    CHECK(now_ms() < end);
    sleep_ms(1);
  }
  CHECK(atomic_load(&a.handled) == sent_a);

  printf("slow handlers (%d ms per message, 3 processes, 2 worker threads): echo round trips "
         "median %lld us, p90 %lld us, p99 %lld us, max %lld us (before: %lld / %lld / %lld / %lld); "
         "%d sends accepted, then MAILBOX_FULL (foreign thread and handler); a paused connection "
         "(%llu bytes read, %llu in the mailbox) pushed back its peer after %llu bytes, all of them delivered "
         "in order once fast again\n",
         SLOW_DELAY_MS, (long long)slow.p50, (long long)slow.p90, (long long)slow.p99, (long long)slow.max,
         (long long)base.p50, (long long)base.p90, (long long)base.p99, (long long)base.max, sent_a,
         (unsigned long long)bytes_in, (unsigned long long)in_mailbox, (unsigned long long)written);

  /* the contexts live on this stack: wait until every process using them has ended */
  const uint32_t shut[4] = {ACTNET_EXIT_SHUTDOWN, ACTNET_EXIT_SHUTDOWN, ACTNET_EXIT_SHUTDOWN, ACTNET_EXIT_SHUTDOWN};
  const int32_t zero[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; i++) CHECK_OK(actnet_process_stop(node, slow_ids[i]));
  expect_downs(4, slow_ids, shut, zero, "slow processes");
  CHECK_OK(actnet_behavior_free(ba));
  CHECK_OK(actnet_behavior_free(bb));
  CHECK_OK(actnet_behavior_free(bc));
  CHECK_OK(actnet_behavior_free(br));
}

int main(int argc, char **argv) {
  tls_init(argc, argv);
  node = test_node_start(); /* 2 worker threads */
  wq = tq_new();
  watcher = tq_spawn(node, wq, NULL, 0);
  mis_echo_start(node, &good);
  int fds = open_fd_count();

  stop_from_handlers();
  failing_handlers();
  slow_handlers();

  mis_wait_fds(fds, "at the end");
  mis_echo_roundtrip(&good, "at the end");
  mis_echo_stop(node, &good);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  tq_release(wq);
  printf("test_misuse_handlers: ok\n");
  return 0;
}
