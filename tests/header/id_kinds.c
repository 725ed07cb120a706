/* Compiled by tests/check_id_kinds.cmake, as C and as C++: as is, it must compile; with
 * -DMIX_KINDS, where a process id stands where a meta-process alias is expected (or the
 * reverse), it must not. Never run. */
#include <actnet.h>

actnet_status end_connection(actnet_node *node, actnet_pid process, actnet_alias connection);

actnet_status end_connection(actnet_node *node, actnet_pid process, actnet_alias connection) {
#ifndef MIX_KINDS
  (void)process;
  return actnet_meta_terminate(node, connection);
#elif MIX_KINDS == 1
  (void)connection;
  return actnet_meta_terminate(node, process); /* a process where an alias is expected */
#else
  (void)process;
  return actnet_process_stop(node, connection); /* an alias where a process is expected */
#endif
}
