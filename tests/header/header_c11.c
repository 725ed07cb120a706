/* include/actnet.h as a C11 translation unit: built with -std=c11 -Wall -Wextra -Wpedantic
 * -Werror (tests/checks.cmake), so a header that does not compile cleanly fails the build.
 * The header comes first and twice, to show it is self-contained and guarded. Run as a
 * test, it checks the library agrees with the header's version. */
#include "actnet.h"
#include "actnet.h"

#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(actnet_status) == 4, "actnet_status is a uint32_t in C");
_Static_assert(ACTNET_STATUS_OK == 0, "OK is 0");
_Static_assert(ACTNET_VERSION_MAJOR == 0 || ACTNET_VERSION_MAJOR > 0, "version macros are integers");
/* Ids are passed by value: their size is ABI. */
_Static_assert(sizeof(actnet_pid) == sizeof(uint64_t), "actnet_pid is one uint64_t");
_Static_assert(sizeof(actnet_alias) == sizeof(uint64_t), "actnet_alias is one uint64_t");

int main(void) {
  actnet_node_options options;
  if (actnet_node_options_init(&options) != ACTNET_STATUS_OK) return 1;
  if (options.struct_size != sizeof options) return 1;
  const char *version = actnet_version();
  printf("C11: actnet %s, header %s\n", version, ACTNET_VERSION_STRING);
  return strcmp(version, ACTNET_VERSION_STRING) == 0 ? 0 : 1;
}
