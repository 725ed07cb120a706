/* A full mailbox: with mailbox_size 2 and a handler blocked on the first message, the third
 * send is MAILBOX_FULL (also by name, by call, through a forwarder), nothing queued before is
 * lost or reordered, the refused message never arrives, lifecycle messages (DOWN, stop)
 * still get in, and sends succeed again once the handler catches up. An unbounded mailbox
 * takes everything. */
#include <string.h>
#include <time.h>

#include "harness.h"

enum { EV_USER = 1, EV_DOWN = 2, EV_TERMINATE = 3 };
enum { TAG_BLOCK = 1000 };

typedef struct ctx {
  evlog *log;
  gate *gate;
} ctx;

static int32_t blocker_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                              const actnet_message *m) {
  (void)node;
  (void)state;
  ctx *c = user_data;
  if (m->kind == ACTNET_MSG_USER) {
    /* c: the forwarder it came through (0.2 names it in `alias`; the length is not checked) */
    evlog_add(c->log, EV_USER, pid, m->tag, m->from.id, (int64_t)m->alias.id, (const char *)m->data);
    if (m->tag == TAG_BLOCK) CHECK(gate_wait(c->gate, 10000));
  } else if (m->kind == ACTNET_MSG_DOWN) {
    evlog_add(c->log, EV_DOWN, pid, m->from.id, m->reason, m->reason_code, NULL);
  }
  return 0;
}

static void blocker_terminate(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                              uint32_t reason, int32_t code) {
  (void)node;
  (void)state;
  ctx *c = user_data;
  evlog_add(c->log, EV_TERMINATE, pid, reason, 0, code, NULL);
}

static actnet_pid spawn_blocker(actnet_node *node, ctx *c, uint32_t mailbox_size, const char *name) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = blocker_handle;
  cb.terminate = blocker_terminate;
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, c, NULL, &b));
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.mailbox_size = mailbox_size;
  so.name = name;
  actnet_pid pid = {0};
  CHECK_OK(actnet_process_spawn(node, b, &so, &pid));
  CHECK_OK(actnet_behavior_free(b));
  return pid;
}

static void send_text(actnet_node *node, actnet_pid to, uint64_t tag, const char *text, actnet_status want) {
  /* the bytes include the NUL so the handler can log them as a string */
  CHECK_STATUS(actnet_message_send(node, to, tag, (const uint8_t *)text, strlen(text) + 1), want);
}

/* Sends, retrying while the mailbox is full (the slot frees when the handler returns, just
 * after the handler logged the message); fails the test if it never gets in. */
#define send_when_room(node, to, tag, text) send_when_room_to((node), ANY_ID(to), (tag), (text))
static void send_when_room_to(actnet_node *node, any_id to, uint64_t tag, const char *text) {
  int64_t end = now_ms() + WAIT_MS;
  for (;;) {
    const uint8_t *data = (const uint8_t *)text;
    actnet_status st = to.meta ? actnet_meta_send(node, (actnet_alias){to.id}, tag, data, strlen(text) + 1)
                               : actnet_message_send(node, (actnet_pid){to.id}, tag, data, strlen(text) + 1);
    if (st == ACTNET_STATUS_OK) return;
    CHECK_STATUS(st, ACTNET_STATUS_MAILBOX_FULL);
    CHECK(now_ms() < end);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
}

int main(void) {
  actnet_node *node = test_node_start();
  ctx c = {evlog_new(), gate_new()};
  probe *w = probe_new();
  actnet_pid watcher = probe_spawn(node, w, NULL);
  actnet_pid pid = spawn_blocker(node, &c, 2, "full");
  CHECK(strcmp(inspect_str(node, pid, "mailbox capacity"), "2") == 0);

  /* the victim of a monitor whose DOWN must get into the full mailbox */
  actnet_pid victim = probe_spawn(node, w, NULL);
  uint64_t ref = 0;
  CHECK_OK(actnet_process_monitor(node, pid, victim, &ref));

  send_text(node, pid, TAG_BLOCK, "first", ACTNET_STATUS_OK);
  CHECK(gate_wait_arrivals(c.gate, 1, WAIT_MS)); /* the handler holds the first message */
  send_text(node, pid, 2, "second", ACTNET_STATUS_OK);
  /* two slots used: the one being handled and the queued one */
  send_text(node, pid, 3, "third", ACTNET_STATUS_MAILBOX_FULL);
  send_text(node, pid, 3, "third again", ACTNET_STATUS_MAILBOX_FULL);
  CHECK_STATUS(actnet_message_send_name(node, "full", 3, (const uint8_t *)"x", 2), ACTNET_STATUS_MAILBOX_FULL);
  actnet_buf *r = (actnet_buf *)0x1;
  int64_t t0 = now_ms();
  CHECK_STATUS(actnet_process_call(node, pid, 3, NULL, 0, 5000, &r), ACTNET_STATUS_MAILBOX_FULL);
  CHECK(now_ms() - t0 < 1000); /* refused at once, not after the timeout */
  CHECK(r == (actnet_buf *)0x1);
  actnet_alias alias = {0};
  CHECK_OK(actnet_forwarder_spawn(node, watcher, "full", &alias));
  CHECK_STATUS(actnet_meta_send(node, alias, 3, (const uint8_t *)"x", 2), ACTNET_STATUS_MAILBOX_FULL);
  CHECK(strcmp(inspect_str(node, alias, "forwarded"), "0") == 0);

  CHECK(strcmp(inspect_str(node, pid, "mailbox"), "1") == 0);
  CHECK(strcmp(inspect_str(node, pid, "messages in"), "2") == 0);
  CHECK(strcmp(inspect_str(node, pid, "state"), "running") == 0);

  /* lifecycle messages bypass the bound: a DOWN is queued behind "second" */
  CHECK_OK(actnet_process_kill(node, victim));
  CHECK(probe_wait_terminated(w, 1, WAIT_MS));
  CHECK(strcmp(inspect_str(node, pid, "messages in"), "2") == 0 ||
        strcmp(inspect_str(node, pid, "messages in"), "3") == 0);
  /* the only one logged so far is the first message */
  CHECK(evlog_count(c.log) == 1);

  gate_open(c.gate);
  CHECK(evlog_wait(c.log, 3, WAIT_MS));
  evrec e0 = evlog_at(c.log, 0), e1 = evlog_at(c.log, 1), e2 = evlog_at(c.log, 2);
  CHECK(e0.what == EV_USER && e0.a == TAG_BLOCK && strcmp(e0.text, "first") == 0 && e0.b == 0);
  CHECK(e1.what == EV_USER && e1.a == 2 && strcmp(e1.text, "second") == 0);
  CHECK(e2.what == EV_DOWN && e2.a == victim.id && e2.b == ACTNET_EXIT_KILLED);

  /* room again once the handler caught up */
  send_when_room(node, pid, 4, "fourth");
  send_when_room(node, pid, 5, "fifth");
  send_when_room(node, alias, 6, "forwarded");
  CHECK(strcmp(inspect_str(node, alias, "forwarded"), "1") == 0);

  /* a stop request is accepted even when the mailbox is full, and runs after the queue */
  uint64_t ref2 = 0;
  CHECK_OK(actnet_process_monitor(node, watcher, pid, &ref2));
  CHECK_OK(actnet_process_stop(node, pid));
  probe_event ev;
  probe_expect_down(w, pid, &ev);
  CHECK(ev.reason == ACTNET_EXIT_SHUTDOWN && ev.reference == ref2);
  probe_event_clear(&ev);
  /* the forwarder's owner is the watcher, so it lives on; its target is gone */
  CHECK_STATUS(actnet_meta_send(node, alias, 3, NULL, 0), ACTNET_STATUS_NOT_FOUND);

  /* exactly first, second, DOWN, fourth, fifth, forwarded, then terminate: nothing lost,
   * nothing refused slipped in */
  CHECK(evlog_count(c.log) == 7);
  const char *texts[] = {"first", "second", NULL, "fourth", "fifth", "forwarded"};
  uint64_t tags[] = {TAG_BLOCK, 2, 0, 4, 5, 6};
  for (int i = 0; i < 6; i++) {
    evrec e = evlog_at(c.log, i);
    if (i == 2) continue;
    CHECK(e.what == EV_USER && e.a == tags[i] && strcmp(e.text, texts[i]) == 0);
  }
  CHECK(evlog_at(c.log, 5).c == (int64_t)alias.id); /* forwarded: alias = the forwarder */
  CHECK(evlog_at(c.log, 5).b == 0);                  /* and no sending process */
  evrec t = evlog_at(c.log, 6);
  CHECK(t.what == EV_TERMINATE && t.a == ACTNET_EXIT_SHUTDOWN);

  /* an unbounded mailbox behind a blocked handler takes everything */
  ctx u = {evlog_new(), gate_new()};
  actnet_pid unbounded = spawn_blocker(node, &u, ACTNET_MAILBOX_UNBOUNDED, NULL);
  CHECK(strcmp(inspect_str(node, unbounded, "mailbox capacity"), "unbounded") == 0);
  send_text(node, unbounded, TAG_BLOCK, "block", ACTNET_STATUS_OK);
  CHECK(gate_wait_arrivals(u.gate, 1, WAIT_MS));
  enum { N = 5000 };
  for (int i = 0; i < N; i++) {
    char text[16];
    snprintf(text, sizeof text, "%d", i);
    send_text(node, unbounded, (uint64_t)i, text, ACTNET_STATUS_OK);
  }
  char v[32];
  snprintf(v, sizeof v, "%d", N);
  CHECK(strcmp(inspect_str(node, unbounded, "mailbox"), v) == 0);
  gate_open(u.gate);
  CHECK(evlog_wait(u.log, N + 1, WAIT_MS));
  for (int i = 0; i < N; i++) CHECK(evlog_at(u.log, i + 1).a == (uint64_t)i);

  /* a node default mailbox size applies to processes spawned without one */
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  actnet_node_options no;
  CHECK_OK(actnet_node_options_init(&no));
  no.worker_threads = 2;
  no.default_mailbox_size = 1;
  CHECK_OK(actnet_node_start(&no, &node));
  ctx d = {evlog_new(), gate_new()};
  actnet_pid small = spawn_blocker(node, &d, 0, NULL);
  CHECK(strcmp(inspect_str(node, small, "mailbox capacity"), "1") == 0);
  send_text(node, small, TAG_BLOCK, "one", ACTNET_STATUS_OK);
  send_text(node, small, 2, "two", ACTNET_STATUS_MAILBOX_FULL);
  gate_open(d.gate);
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  CHECK(evlog_count(d.log) == 2); /* "one", then terminate */
  CHECK(evlog_at(d.log, 1).what == EV_TERMINATE && evlog_at(d.log, 1).a == ACTNET_EXIT_SHUTDOWN);

  evlog_free(c.log);
  gate_free(c.gate);
  evlog_free(u.log);
  gate_free(u.gate);
  evlog_free(d.log);
  gate_free(d.gate);
  probe_release(w);
  printf("ok\n");
  return 0;
}
