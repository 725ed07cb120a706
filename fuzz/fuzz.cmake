# The `fuzz` preset (cmake --workflow --preset fuzz): a separate, non-default build tree
# (build/fuzz) whose only job is the run-fuzz target below, which runs fuzz/run.sh: install
# cargo-fuzz into the build tree if missing, build the `framing` fuzz target on the stable
# toolchain (RUSTC_BOOTSTRAP=1) and run it for ACTNET_FUZZ_TIME seconds, failing on a crash.
# See fuzz/README.md.
#
# The preset includes this file through CMAKE_PROJECT_INCLUDE (run at the end of the
# project() call), so the default build and the test workflow never see it.

find_program(CARGO cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)
set(ACTNET_FUZZ_TIME 60 CACHE STRING "Seconds the run-fuzz target fuzzes (-max_total_time)")
set(ACTNET_FUZZ_TARGET framing CACHE STRING "The cargo-fuzz target run-fuzz runs")
set(ACTNET_FUZZ_ARGS "" CACHE STRING "Extra libFuzzer options for run-fuzz (e.g. -jobs=2)")
separate_arguments(_actnet_fuzz_args UNIX_COMMAND "${ACTNET_FUZZ_ARGS}")

add_custom_target(run-fuzz
  COMMAND ${CMAKE_COMMAND} -E env CARGO=${CARGO} ACTNET_FUZZ_DIR=${CMAKE_BINARY_DIR}
          sh ${CMAKE_CURRENT_LIST_DIR}/run.sh ${ACTNET_FUZZ_TIME} ${ACTNET_FUZZ_TARGET} ${_actnet_fuzz_args}
  WORKING_DIRECTORY "${CMAKE_CURRENT_LIST_DIR}/.."
  COMMENT "cargo fuzz run ${ACTNET_FUZZ_TARGET} for ${ACTNET_FUZZ_TIME} s (fuzz/README.md)"
  USES_TERMINAL
  VERBATIM)
