# Checks that building left the committed include/actnet.h unchanged: build.rs regenerates it
# from the Rust doc comments, so a difference means the Rust API changed without the header
# being regenerated and committed (or staged).
#
#   cmake -DGIT=git -DSOURCE_DIR=<repository> -P check_header_unchanged.cmake
#
# Prints "SKIP: ..." (ctest's SKIP_REGULAR_EXPRESSION reports the test as skipped) when
# SOURCE_DIR is not a git checkout.

set(header include/actnet.h)
if(NOT GIT)
  message("SKIP: git not found; cannot compare ${header} with the committed one")
  return()
endif()
execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" rev-parse --show-toplevel
  RESULT_VARIABLE not_git OUTPUT_VARIABLE toplevel ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
file(REAL_PATH "${SOURCE_DIR}" source_dir)
if(NOT not_git)
  file(REAL_PATH "${toplevel}" toplevel)
endif()
if(not_git OR NOT toplevel STREQUAL source_dir)
  message("SKIP: ${SOURCE_DIR} is not a git checkout; cannot compare ${header} with the committed one")
  return()
endif()

execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" ls-files --error-unmatch -- ${header}
  RESULT_VARIABLE untracked OUTPUT_QUIET ERROR_QUIET)
if(untracked)
  message(FATAL_ERROR "${header} is not tracked by git: it must be committed")
endif()

# git prints the difference itself (to the test's output), unformatted.
execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" --no-pager diff --exit-code --stat --patch -- ${header}
  RESULT_VARIABLE changed)
if(changed)
  message(FATAL_ERROR
    "building changed ${header} (diff above): the C API in src/ffi/ differs from the "
    "committed header. If the change is intended, commit the regenerated header (or stage "
    "it: git diff compares with the index); otherwise fix the Rust side.")
endif()
message(STATUS "${header} is unchanged by the build")
