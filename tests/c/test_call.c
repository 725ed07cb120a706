/* Calls: a handler answers with actnet_process_reply; a call times out with TIMEOUT (and a
 * late reply is then NOT_FOUND); a reply may come later from another thread; a handler calls
 * another process; a process that dies (or is killed) before answering gives NOT_FOUND
 * promptly; calling itself is WRONG_CONTEXT; concurrent callers each get their own answer. */
#include <string.h>

#include "harness.h"

enum {
  T_REVERSE = 1, /* CALL: reply with the bytes reversed */
  T_HOLD = 2,    /* CALL: keep the reference, do not answer */
  T_NESTED = 3,  /* CALL: call `back` with T_REVERSE, answer "outer(<its answer>)" */
  T_DIE = 4,     /* CALL: return 5 without answering */
  T_SELF = 5,    /* CALL: call itself, answer with the status (4 bytes) */
  T_NESTED_TIMEOUT = 6, /* CALL: call `back` with T_HOLD and 100 ms, answer with the status */
  U_REPLY_HELD = 10,    /* USER: answer the held reference, log the status */
  U_BLOCK = 11,         /* USER: block on the gate */
};

enum { EV_CALL = 1, EV_HELD = 2, EV_LATE_REPLY = 3 };

typedef struct server_ctx {
  evlog *log;
  gate *gate;
  actnet_pid back; /* the process T_NESTED calls */
  pthread_mutex_t lock;
  uint64_t held;
} server_ctx;

static int32_t server_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                             const actnet_message *m) {
  (void)state;
  server_ctx *ctx = user_data;
  if (m->kind == ACTNET_MSG_USER && m->tag == U_REPLY_HELD) {
    pthread_mutex_lock(&ctx->lock);
    uint64_t ref = ctx->held;
    pthread_mutex_unlock(&ctx->lock);
    actnet_status st = actnet_process_reply(node, ref, (const uint8_t *)"too late", 8);
    evlog_add(ctx->log, EV_LATE_REPLY, pid, ref, 0, st, NULL);
    return 0;
  }
  if (m->kind == ACTNET_MSG_USER && m->tag == U_BLOCK) {
    CHECK(gate_wait(ctx->gate, 10000));
    return 0;
  }
  if (m->kind != ACTNET_MSG_CALL) return 0;
  CHECK(m->reference != 0);
  evlog_add(ctx->log, EV_CALL, pid, m->from.id, m->tag, 0, NULL);
  switch (m->tag) {
    case T_REVERSE: {
      uint8_t out[256];
      CHECK(m->len <= sizeof out);
      for (size_t i = 0; i < m->len; i++) out[i] = m->data[m->len - 1 - i];
      CHECK_OK(actnet_process_reply(node, m->reference, out, m->len));
      return 0;
    }
    case T_HOLD:
      pthread_mutex_lock(&ctx->lock);
      ctx->held = m->reference;
      pthread_mutex_unlock(&ctx->lock);
      evlog_add(ctx->log, EV_HELD, pid, m->reference, 0, 0, NULL);
      return 0;
    case T_NESTED: {
      actnet_buf *inner = NULL;
      CHECK_OK(actnet_process_call(node, ctx->back, T_REVERSE, m->data, m->len, 5000, &inner));
      char out[300];
      int n = snprintf(out, sizeof out, "outer(%.*s)", (int)actnet_buf_len(inner),
                       (const char *)actnet_buf_data(inner));
      CHECK_OK(actnet_buf_free(inner));
      CHECK_OK(actnet_process_reply(node, m->reference, (const uint8_t *)out, (size_t)n));
      return 0;
    }
    case T_DIE:
      return 5;
    case T_SELF: {
      actnet_buf *r = (actnet_buf *)0x1;
      uint32_t st = actnet_process_call(node, pid, T_REVERSE, NULL, 0, 1000, &r);
      CHECK(r == (actnet_buf *)0x1); /* not written on failure */
      CHECK_OK(actnet_process_reply(node, m->reference, (const uint8_t *)&st, sizeof st));
      return 0;
    }
    case T_NESTED_TIMEOUT: {
      actnet_buf *r = NULL;
      int64_t t0 = now_ms();
      uint32_t st = actnet_process_call(node, ctx->back, T_HOLD, NULL, 0, 100, &r);
      uint32_t out[2] = {st, (uint32_t)(now_ms() - t0)};
      CHECK_OK(actnet_process_reply(node, m->reference, (const uint8_t *)out, sizeof out));
      return 0;
    }
  }
  return 0;
}

static actnet_pid spawn_server(actnet_node *node, server_ctx *ctx) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = server_handle;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, ctx, NULL, &b));
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, NULL, &pid));
  CHECK_OK(actnet_behavior_free(b));
  return pid;
}

static void check_reply(actnet_buf *r, const char *want) {
  CHECK(r != NULL);
  size_t n = strlen(want);
  CHECK(actnet_buf_len(r) == n);
  CHECK(actnet_buf_capacity(r) >= n);
  CHECK(n == 0 || memcmp(actnet_buf_data(r), want, n) == 0);
  CHECK_OK(actnet_buf_free(r));
}

static server_ctx *ctx_new(void) {
  server_ctx *c = calloc(1, sizeof *c);
  CHECK(c != NULL);
  c->log = evlog_new();
  c->gate = gate_new();
  pthread_mutex_init(&c->lock, NULL);
  return c;
}

static void ctx_free(server_ctx *c) {
  evlog_free(c->log);
  gate_free(c->gate);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

typedef struct caller_arg {
  actnet_node *node;
  actnet_pid to;
  uint64_t tag;
  const char *data;
  uint32_t timeout_ms;
  actnet_status status;
  actnet_buf *reply;
  int64_t elapsed_ms;
  int index; /* for the concurrent callers */
} caller_arg;

static void *caller(void *arg) {
  caller_arg *a = arg;
  int64_t t0 = now_ms();
  a->status = actnet_process_call(a->node, a->to, a->tag, (const uint8_t *)a->data,
                                  a->data ? strlen(a->data) : 0, a->timeout_ms, &a->reply);
  a->elapsed_ms = now_ms() - t0;
  return NULL;
}

static void *many_calls(void *arg) {
  caller_arg *a = arg;
  for (int i = 0; i < 200; i++) {
    char req[32], want[32];
    int n = snprintf(req, sizeof req, "t%d-call-%d", a->index, i);
    for (int k = 0; k < n; k++) want[k] = req[n - 1 - k];
    want[n] = 0;
    actnet_buf *r = NULL;
    CHECK_OK(actnet_process_call(a->node, a->to, T_REVERSE, (const uint8_t *)req, (size_t)n, 5000, &r));
    check_reply(r, want);
  }
  return NULL;
}

int main(void) {
  actnet_node *node = test_node_start();
  probe *w = probe_new();
  actnet_pid watcher = probe_spawn(node, w, NULL);
  server_ctx *back_ctx = ctx_new();
  server_ctx *ctx = ctx_new();
  actnet_pid back = spawn_server(node, back_ctx);
  ctx->back = back;
  actnet_pid server = spawn_server(node, ctx);

  /* a plain call and its reply buffer */
  actnet_buf *r = NULL;
  CHECK_OK(actnet_process_call(node, server, T_REVERSE, (const uint8_t *)"abc", 3, 2000, &r));
  check_reply(r, "cba");
  CHECK(evlog_wait(ctx->log, 1, WAIT_MS));
  evrec rec = evlog_at(ctx->log, 0);
  CHECK(rec.what == EV_CALL && rec.a == 0 /* from a foreign thread */ && rec.b == T_REVERSE);
  /* an empty request and an empty answer */
  CHECK_OK(actnet_process_call(node, server, T_REVERSE, NULL, 0, 2000, &r));
  check_reply(r, "");
  /* the probe's echo command */
  actnet_pid echo = probe_spawn(node, w, NULL);
  CHECK_OK(actnet_process_call(node, echo, PROBE_CMD_ECHO, (const uint8_t *)"echo me", 7, 2000, &r));
  check_reply(r, "echo me");
  probe_event e;
  probe_expect(w, ACTNET_MSG_CALL, &e);
  CHECK(e.pid.id == echo.id && e.from.id == 0 && e.reference != 0 && e.len == 7);
  probe_event_clear(&e);

  /* timeout; the late answer is then refused */
  int base = evlog_count(ctx->log);
  int64_t t0 = now_ms();
  r = (actnet_buf *)0x1;
  CHECK_STATUS(actnet_process_call(node, server, T_HOLD, (const uint8_t *)"x", 1, 200, &r),
               ACTNET_STATUS_TIMEOUT);
  int64_t took = now_ms() - t0;
  CHECK(took >= 190 && took < 3000);
  CHECK(r == (actnet_buf *)0x1);
  CHECK(evlog_wait(ctx->log, base + 2, WAIT_MS)); /* CALL, HELD */
  CHECK(evlog_at(ctx->log, base + 1).what == EV_HELD);
  CHECK_OK(actnet_message_send(node, server, U_REPLY_HELD, NULL, 0));
  CHECK(evlog_wait(ctx->log, base + 3, WAIT_MS));
  rec = evlog_at(ctx->log, base + 2);
  CHECK(rec.what == EV_LATE_REPLY && rec.c == ACTNET_STATUS_NOT_FOUND);

  /* a reply given later, from another (foreign) thread, while the caller waits */
  base = evlog_count(ctx->log);
  caller_arg late = {.node = node, .to = server, .tag = T_HOLD, .data = "y", .timeout_ms = 5000};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, caller, &late) == 0);
  CHECK(evlog_wait(ctx->log, base + 2, WAIT_MS));
  rec = evlog_at(ctx->log, base + 1);
  CHECK(rec.what == EV_HELD);
  CHECK_OK(actnet_process_reply(node, rec.a, (const uint8_t *)"late", 4));
  CHECK_STATUS(actnet_process_reply(node, rec.a, (const uint8_t *)"again", 5), ACTNET_STATUS_NOT_FOUND);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK_OK(late.status);
  check_reply(late.reply, "late");
  CHECK(late.elapsed_ms < 4000);
  CHECK_STATUS(actnet_process_reply(node, 987654321, NULL, 0), ACTNET_STATUS_NOT_FOUND);

  /* a handler calling another process */
  int back_base = evlog_count(back_ctx->log);
  CHECK_OK(actnet_process_call(node, server, T_NESTED, (const uint8_t *)"xyz", 3, 5000, &r));
  check_reply(r, "outer(zyx)");
  CHECK(evlog_wait(back_ctx->log, back_base + 1, WAIT_MS));
  rec = evlog_at(back_ctx->log, back_base);
  CHECK(rec.what == EV_CALL && rec.a == server.id && rec.b == T_REVERSE && rec.pid.id == back.id);
  /* ... whose nested call times out */
  CHECK_OK(actnet_process_call(node, server, T_NESTED_TIMEOUT, NULL, 0, 5000, &r));
  CHECK(actnet_buf_len(r) == 8);
  uint32_t nested[2];
  memcpy(nested, actnet_buf_data(r), sizeof nested);
  CHECK_OK(actnet_buf_free(r));
  CHECK(nested[0] == ACTNET_STATUS_TIMEOUT);
  CHECK(nested[1] >= 90 && nested[1] < 3000);

  /* calling itself from its handler */
  CHECK_OK(actnet_process_call(node, server, T_SELF, NULL, 0, 5000, &r));
  CHECK(actnet_buf_len(r) == 4);
  uint32_t self_status;
  memcpy(&self_status, actnet_buf_data(r), 4);
  CHECK_OK(actnet_buf_free(r));
  CHECK(self_status == ACTNET_STATUS_WRONG_CONTEXT);

  /* concurrent callers from four threads each get their own answer */
  {
    pthread_t ths[4];
    caller_arg args[4];
    for (int i = 0; i < 4; i++) {
      args[i] = (caller_arg){.node = node, .to = server, .index = i};
      CHECK(pthread_create(&ths[i], NULL, many_calls, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) CHECK(pthread_join(ths[i], NULL) == 0);
  }

  /* a process that dies before answering: NOT_FOUND long before the timeout */
  server_ctx *dying_ctx = ctx_new();
  actnet_pid dying = spawn_server(node, dying_ctx);
  uint64_t ref = 0;
  CHECK_OK(actnet_process_monitor(node, watcher, dying, &ref));
  t0 = now_ms();
  r = (actnet_buf *)0x1;
  CHECK_STATUS(actnet_process_call(node, dying, T_DIE, NULL, 0, 20000, &r), ACTNET_STATUS_NOT_FOUND);
  took = now_ms() - t0;
  CHECK(took < 3000);
  CHECK(r == (actnet_buf *)0x1);
  probe_expect_down(w, dying, &e);
  CHECK(e.reason == ACTNET_EXIT_ERROR && e.reason_code == 5 && e.reference == ref);
  probe_event_clear(&e);
  CHECK_STATUS(actnet_process_call(node, dying, T_REVERSE, NULL, 0, 1000, &r), ACTNET_STATUS_NOT_FOUND);

  /* a process killed while the call waits in its mailbox */
  server_ctx *blocked_ctx = ctx_new();
  actnet_pid blocked = spawn_server(node, blocked_ctx);
  CHECK_OK(actnet_message_send(node, blocked, U_BLOCK, NULL, 0));
  CHECK(gate_wait_arrivals(blocked_ctx->gate, 1, WAIT_MS));
  caller_arg queued = {.node = node, .to = blocked, .tag = T_REVERSE, .data = "q", .timeout_ms = 20000};
  CHECK(pthread_create(&th, NULL, caller, &queued) == 0);
  /* wait until the call is queued: the blocked process has received 2 messages */
  int64_t end = now_ms() + WAIT_MS;
  char v[64];
  while (!(inspect_value(node, blocked, "messages in", v, sizeof v) && strcmp(v, "2") == 0)) {
    CHECK(now_ms() < end);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  CHECK(strcmp(inspect_str(node, blocked, "mailbox"), "1") == 0);
  CHECK_OK(actnet_process_kill(node, blocked));
  gate_open(blocked_ctx->gate);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK_STATUS(queued.status, ACTNET_STATUS_NOT_FOUND);
  CHECK(queued.elapsed_ms < 5000);
  CHECK(evlog_count(blocked_ctx->log) == 0); /* the queued call was never handled */

  /* no such process; a meta-process */
  CHECK_STATUS(actnet_process_call(node, (actnet_pid){0}, T_REVERSE, NULL, 0, 100, &r), ACTNET_STATUS_NOT_FOUND);
  /* the largest process id (UINT64_MAX itself is of the alias kind) */
  CHECK_STATUS(actnet_process_call(node, (actnet_pid){UINT64_MAX - 1}, T_REVERSE, NULL, 0, 100, &r),
               ACTNET_STATUS_NOT_FOUND);
  actnet_alias alias = {0};
  CHECK_OK(actnet_forwarder_spawn(node, server, NULL, &alias));
  /* 0.2: an alias passed as a process id is the wrong kind (0.1: UNSUPPORTED) */
  CHECK_STATUS(actnet_process_call(node, pid_of_raw(alias.id), T_REVERSE, NULL, 0, 100, &r),
               ACTNET_STATUS_WRONG_KIND);

  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  ctx_free(ctx);
  ctx_free(back_ctx);
  ctx_free(dying_ctx);
  ctx_free(blocked_ctx);
  probe_release(w);
  printf("ok\n");
  return 0;
}
