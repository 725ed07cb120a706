#include <stdio.h>
#include <stdlib.h>
#include <actnet.h>

/* Stops the program with a message when a call does not return ACTNET_STATUS_OK. */
static void check(actnet_status status, const char *what) {
  if (status != ACTNET_STATUS_OK) {
    fprintf(stderr, "%s: %s\n", what, actnet_status_str(status));
    exit(1);
  }
}

/* The behaviour: called on a runtime thread, one message at a time per process. */
static int32_t greet(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                     const actnet_message *message) {
  (void)user_data; (void)node; (void)state;
  if (message->kind == ACTNET_MSG_USER)
    printf("process %llu got tag %llu: %.*s\n", (unsigned long long)pid.id,
           (unsigned long long)message->tag, (int)message->len, (const char *)message->data);
  return 0; /* any other value would end the process with that code */
}

int main(void) {
  actnet_node *node;
  check(actnet_node_start(NULL, &node), "start"); /* NULL: default options */

  actnet_behavior_callbacks callbacks;
  check(actnet_behavior_callbacks_init(&callbacks), "callbacks");
  callbacks.handle_message = greet;
  actnet_behavior *behavior;
  check(actnet_behavior_new(&callbacks, NULL, NULL, &behavior), "behavior");

  actnet_pid pid; /* a process id: { uint64_t id; } */
  check(actnet_process_spawn(node, behavior, NULL, &pid), "spawn");
  check(actnet_behavior_free(behavior), "free"); /* the process keeps its own reference */

  const char text[] = "hello";
  check(actnet_message_send(node, pid, 1, (const uint8_t *)text, sizeof text - 1), "send");

  /* Each process handles the messages already in its mailbox before the node stops. */
  check(actnet_node_stop(node), "stop");
  check(actnet_node_free(node), "free node"); /* the handle stays valid until this */
  return 0;
}
