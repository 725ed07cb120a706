/* Names: spawn_register, lookup, register/unregister, NAME_TAKEN, sending by name (from a
 * foreign thread and from a handler), and names freed when their process ends. */
#include <string.h>

#include "harness.h"

/* A relay: every USER message it gets is sent on, by name, to the name in the bytes. */
static int32_t relay_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                            const actnet_message *m) {
  (void)user_data;
  (void)pid;
  (void)state;
  if (m->kind != ACTNET_MSG_USER) return 0;
  char name[64];
  CHECK(m->len < sizeof name);
  memcpy(name, m->data, m->len);
  name[m->len] = 0;
  CHECK_OK(actnet_message_send_name(node, name, m->tag + 1, (const uint8_t *)"relayed", 7));
  return 0;
}

static void expect_user(probe *p, actnet_pid from, uint64_t tag, const char *text) {
  probe_event e;
  probe_expect(p, ACTNET_MSG_USER, &e);
  CHECK(e.from.id == from.id);
  CHECK(e.tag == tag);
  CHECK(e.len == strlen(text) && memcmp(e.data, text, e.len) == 0);
  probe_event_clear(&e);
}

int main(void) {
  actnet_node *node = test_node_start();
  probe *p = probe_new();
  probe *w = probe_new(); /* watcher, for DOWN */
  actnet_pid watcher = probe_spawn(node, w, NULL);
  actnet_behavior *b = probe_behavior(p);

  /* spawn_register + lookup */
  actnet_pid alpha = {0}, pid = {0};
  CHECK_OK(actnet_process_spawn_register(node, "alpha", b, NULL, &alpha));
  CHECK(alpha.id != 0);
  CHECK_OK(actnet_name_lookup(node, "alpha", &pid));
  CHECK(pid.id == alpha.id);

  /* a second spawn under a taken name fails and starts nothing */
  actnet_pid untouched = {0xDEADBEEF};
  CHECK_STATUS(actnet_process_spawn_register(node, "alpha", b, NULL, &untouched),
               ACTNET_STATUS_NAME_TAKEN);
  CHECK(untouched.id == 0xDEADBEEF);
  actnet_spawn_options so;
  CHECK_OK(actnet_spawn_options_init(&so));
  so.name = "alpha";
  CHECK_STATUS(actnet_process_spawn(node, b, &so, &untouched), ACTNET_STATUS_NAME_TAKEN);
  CHECK(untouched.id == 0xDEADBEEF);
  /* a name in the options and in the call at once is refused */
  so.name = "other";
  CHECK_STATUS(actnet_process_spawn_register(node, "another", b, &so, &untouched),
               ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_name_lookup(node, "other", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_lookup(node, "another", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK(untouched.id == 0xDEADBEEF);

  /* spawn with options.name registers too */
  actnet_pid gamma = {0};
  so.name = "gamma";
  CHECK_OK(actnet_process_spawn(node, b, &so, &gamma));
  CHECK_OK(actnet_name_lookup(node, "gamma", &pid));
  CHECK(pid.id == gamma.id && gamma.id > alpha.id);

  /* sending by name from a foreign thread */
  CHECK_OK(actnet_message_send_name(node, "alpha", 42, (const uint8_t *)"by name", 7));
  probe_event e;
  probe_expect(p, ACTNET_MSG_USER, &e);
  CHECK(e.pid.id == alpha.id && e.from.id == 0 && e.tag == 42);
  CHECK(e.len == 7 && memcmp(e.data, "by name", 7) == 0);
  probe_event_clear(&e);
  CHECK_STATUS(actnet_message_send_name(node, "nobody", 1, NULL, 0), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_lookup(node, "nobody", &pid), ACTNET_STATUS_NOT_FOUND);

  /* register / unregister on a live process without a name */
  actnet_pid beta = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_name_register(node, "beta", beta));
  CHECK_OK(actnet_name_lookup(node, "beta", &pid));
  CHECK(pid.id == beta.id);
  CHECK_STATUS(actnet_name_register(node, "beta2", beta), ACTNET_STATUS_NAME_TAKEN); /* has one */
  CHECK_STATUS(actnet_name_register(node, "beta", gamma), ACTNET_STATUS_NAME_TAKEN); /* taken */
  CHECK_STATUS(actnet_name_register(node, "beta", beta), ACTNET_STATUS_NAME_TAKEN);
  CHECK_STATUS(actnet_name_register(node, "", beta), ACTNET_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(actnet_name_register(node, "ghost", (actnet_pid){beta.id + 100000}), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_lookup(node, "ghost", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_OK(actnet_message_send_name(node, "beta", 7, (const uint8_t *)"b", 1));
  expect_user(p, (actnet_pid){0}, 7, "b");

  CHECK_OK(actnet_name_unregister(node, "beta"));
  CHECK_STATUS(actnet_name_lookup(node, "beta", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_message_send_name(node, "beta", 7, NULL, 0), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_unregister(node, "beta"), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_unregister(node, "never"), ACTNET_STATUS_NOT_FOUND);
  /* the process keeps running without its name, and can take another one */
  CHECK_OK(actnet_message_send(node, beta, 8, (const uint8_t *)"c", 1));
  expect_user(p, (actnet_pid){0}, 8, "c");
  CHECK_OK(actnet_name_register(node, "beta-again", beta));
  CHECK_OK(actnet_name_lookup(node, "beta-again", &pid));
  CHECK(pid.id == beta.id);
  {
    char v[64];
    CHECK(inspect_value(node, beta, "name", v, sizeof v));
    CHECK(strcmp(v, "beta-again") == 0);
  }
  /* the freed name can be taken by another process */
  actnet_pid delta = probe_spawn(node, p, NULL);
  CHECK_OK(actnet_name_register(node, "beta", delta));
  CHECK_OK(actnet_name_lookup(node, "beta", &pid));
  CHECK(pid.id == delta.id);
  CHECK_OK(actnet_name_unregister(node, "beta"));

  /* sending by name from inside a handler: `from` is the relay */
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = relay_handle;
  actnet_behavior *rb = NULL;
  CHECK_OK(actnet_behavior_new(&cb, NULL, NULL, &rb));
  actnet_pid relay = {0};
  CHECK_OK(actnet_process_spawn_register(node, "relay", rb, NULL, &relay));
  CHECK_OK(actnet_behavior_free(rb));
  CHECK_OK(actnet_message_send_name(node, "relay", 100, (const uint8_t *)"alpha", 5));
  expect_user(p, relay, 101, "relayed");
  CHECK_OK(actnet_message_send(node, relay, 200, (const uint8_t *)"gamma", 5));
  probe_expect(p, ACTNET_MSG_USER, &e);
  CHECK(e.pid.id == gamma.id && e.from.id == relay.id && e.tag == 201);
  probe_event_clear(&e);

  /* a name is freed when its process ends, and can be registered again (new pid) */
  uint64_t ref = 0;
  CHECK_OK(actnet_process_monitor(node, watcher, alpha, &ref));
  CHECK_OK(actnet_process_stop(node, alpha));
  probe_expect_down(w, alpha, &e);
  CHECK(e.reference == ref && e.reason == ACTNET_EXIT_SHUTDOWN);
  probe_event_clear(&e);
  CHECK_STATUS(actnet_name_lookup(node, "alpha", &pid), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_message_send_name(node, "alpha", 1, NULL, 0), ACTNET_STATUS_NOT_FOUND);
  CHECK_STATUS(actnet_name_unregister(node, "alpha"), ACTNET_STATUS_NOT_FOUND);
  actnet_pid alpha2 = {0};
  CHECK_OK(actnet_process_spawn_register(node, "alpha", b, NULL, &alpha2));
  CHECK(alpha2.id > alpha.id && alpha2.id > relay.id);
  CHECK_OK(actnet_name_lookup(node, "alpha", &pid));
  CHECK(pid.id == alpha2.id);
  CHECK_OK(actnet_message_send_name(node, "alpha", 9, (const uint8_t *)"new", 3));
  probe_expect(p, ACTNET_MSG_USER, &e);
  CHECK(e.pid.id == alpha2.id && e.tag == 9);
  probe_event_clear(&e);

  /* a name registered with actnet_name_register is freed at the end too */
  CHECK_OK(actnet_process_monitor(node, watcher, beta, &ref));
  CHECK_OK(actnet_process_kill(node, beta));
  probe_expect_down(w, beta, &e);
  CHECK(e.reason == ACTNET_EXIT_KILLED);
  probe_event_clear(&e);
  CHECK_STATUS(actnet_name_lookup(node, "beta-again", &pid), ACTNET_STATUS_NOT_FOUND);

  CHECK_OK(actnet_behavior_free(b));
  CHECK_OK(actnet_node_stop(node));
  CHECK_OK(actnet_node_free(node));
  probe_release(p);
  probe_release(w);
  printf("ok\n");
  return 0;
}
