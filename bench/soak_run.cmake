# Runs the soak program for the run-soak target (bench/soak.cmake): makes the TLS test
# certificates, then runs `soak --seconds S --certs DIR ARGS`. The duration is
# $ENV{ACTNET_SOAK_SECONDS} if set, else -DSECONDS (the cache variable ACTNET_SOAK_SECONDS).

set(seconds "${SECONDS}")
if(DEFINED ENV{ACTNET_SOAK_SECONDS} AND NOT "$ENV{ACTNET_SOAK_SECONDS}" STREQUAL "")
  set(seconds "$ENV{ACTNET_SOAK_SECONDS}")
endif()
if(NOT seconds MATCHES "^[0-9]+$")
  message(FATAL_ERROR "soak: the duration must be a whole number of seconds, not '${seconds}'")
endif()

set(certs_args "")
if(OPENSSL)
  set(SCRIPT "${CERTS_SCRIPT}")
  set(DIR "${CERTS_DIR}")
  include("${CERTS_FIXTURE}") # makes them, or keeps a fresh set (returns early)
  set(certs_args --certs "${CERTS_DIR}")
else()
  message(WARNING "openssl not found: the soak runs without TLS")
endif()

separate_arguments(extra UNIX_COMMAND "${ARGS}")
message(STATUS "soak: ${seconds} s")
execute_process(COMMAND "${SOAK}" --seconds ${seconds} ${certs_args} ${extra} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "soak failed (${rc})")
endif()
