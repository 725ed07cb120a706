# The soak program (issue 6, point 3; bench/README.md, "Soak"): bench/c/soak.c runs mixed
# traffic against an in-process node for a given time, prints RSS, fds, connections, pool
# buffers, processes and rates every second, and fails if anything grows without bound or
# does not return to its baseline. Not part of the test run:
#
#   cmake --workflow --preset soak                        # release build, 10 minutes
#   ACTNET_SOAK_SECONDS=60 cmake --workflow --preset soak # or any other duration
#   cmake --preset release -DACTNET_SOAK_SECONDS=60       # the same, kept in the cache
#
# run-soak makes the TLS test certificates (tests/tls/make_certs.sh) in <build>/bench/soak-certs
# first (openssl is needed; without it the soak runs without TLS and says so).
# (Included from bench/CMakeLists.txt.)

add_executable(soak c/soak.c)
target_link_libraries(soak PRIVATE actnet::actnet Threads::Threads)
set_target_properties(soak PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS ON)
target_compile_options(soak PRIVATE -Wall -Wextra -Werror)

set(ACTNET_SOAK_SECONDS 600 CACHE STRING "Duration of the soak run (run-soak), in seconds; ACTNET_SOAK_SECONDS in the environment overrides it")
set(ACTNET_SOAK_ARGS "" CACHE STRING "Extra arguments for the soak program in the run-soak target")
find_program(ACTNET_SOAK_OPENSSL openssl)

add_custom_target(run-soak
  COMMAND ${CMAKE_COMMAND}
          -DSOAK=$<TARGET_FILE:soak>
          -DSECONDS=${ACTNET_SOAK_SECONDS}
          "-DARGS=${ACTNET_SOAK_ARGS}"
          -DCERTS_SCRIPT=${PROJECT_SOURCE_DIR}/tests/tls/make_certs.sh
          -DCERTS_FIXTURE=${PROJECT_SOURCE_DIR}/tests/tls/certs_fixture.cmake
          -DCERTS_DIR=${CMAKE_CURRENT_BINARY_DIR}/soak-certs
          -DOPENSSL=${ACTNET_SOAK_OPENSSL}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/soak_run.cmake
  DEPENDS soak
  WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
  USES_TERMINAL
  COMMENT "Soak: mixed traffic against an in-process node (bench/c/soak.c)")
