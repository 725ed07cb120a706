/* Uses the installed library: prints actnet_version(), checks that it equals the header's
 * ACTNET_VERSION_STRING and that a node starts, stops and is freed. Linked dynamically, it
 * also checks that the library was loaded from EXPECTED_LIBDIR (the install prefix, not the
 * build tree). Built by tests/find_package/CMakeLists.txt and by the pkg-config check. */
#define _GNU_SOURCE /* dladdr */
#include <actnet.h>

#include <stdio.h>
#include <string.h>
#ifndef ACTNET_STATIC_LINK
#include <dlfcn.h>
#endif

int main(void) {
  const char *version = actnet_version();
  printf("actnet_version() = %s, ACTNET_VERSION_STRING = %s\n", version, ACTNET_VERSION_STRING);
  if (strcmp(version, ACTNET_VERSION_STRING) != 0) {
    fprintf(stderr, "FAIL: the library and the header disagree\n");
    return 1;
  }

  actnet_node *node = NULL;
  actnet_status status = actnet_node_start(NULL, &node);
  if (status == ACTNET_STATUS_OK) status = actnet_node_stop(node);
  if (status == ACTNET_STATUS_OK) status = actnet_node_free(node);
  if (status != ACTNET_STATUS_OK) {
    fprintf(stderr, "FAIL: node start/stop/free: %s\n", actnet_status_str(status));
    return 1;
  }

#ifndef ACTNET_STATIC_LINK
  Dl_info info;
  if (!dladdr((void *)actnet_version, &info) || !info.dli_fname) {
    fprintf(stderr, "FAIL: dladdr cannot tell where actnet_version comes from\n");
    return 1;
  }
  printf("loaded from %s\n", info.dli_fname);
#ifdef EXPECTED_LIBDIR
  size_t n = strlen(EXPECTED_LIBDIR);
  if (n > 0 && (strncmp(info.dli_fname, EXPECTED_LIBDIR, n) != 0 || info.dli_fname[n] != '/')) {
    fprintf(stderr, "FAIL: expected the library from %s\n", EXPECTED_LIBDIR);
    return 1;
  }
#endif
#endif
  printf("ok\n");
  return 0;
}
