// include/actnet.h as a C++17 translation unit: built with -std=c++17 -Wall -Wextra
// -Wpedantic -Werror (tests/checks.cmake). It also checks that the declarations have C
// linkage (this links against the C library) and that the enums are 32-bit.
#include "actnet.h"
#include "actnet.h"

#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_same<std::underlying_type<actnet_status>::type, uint32_t>::value,
              "actnet_status is a uint32_t enum in C++");
static_assert(sizeof(actnet_message_kind) == 4, "enums are 32-bit");
static_assert(std::is_standard_layout<actnet_message>::value, "actnet_message is a C struct");
// Ids are passed by value, and one kind where the other is expected does not compile.
static_assert(sizeof(actnet_pid) == sizeof(uint64_t) && sizeof(actnet_alias) == sizeof(uint64_t),
              "ids are one uint64_t");
static_assert(!std::is_same<actnet_pid, actnet_alias>::value &&
                  !std::is_convertible<actnet_pid, actnet_alias>::value,
              "a pid is not an alias");

int main() {
  actnet_spawn_options options;
  if (actnet_spawn_options_init(&options) != ACTNET_STATUS_OK) return 1;
  if (options.struct_size != sizeof options) return 1;
  const char *version = actnet_version();
  std::printf("C++17: actnet %s, header %s\n", version, ACTNET_VERSION_STRING);
  return std::strcmp(version, ACTNET_VERSION_STRING) == 0 ? 0 : 1;
}
