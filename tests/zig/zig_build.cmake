# Runs `zig build <STEP>` for bindings/zig with every cache and output inside the build tree,
# then optionally the Python client of the example echo server on what it installed.
#   cmake -DPYTHON=... -DZIG_VERSION=... -DTOOLCHAIN_DIR=...      (see zig_toolchain.cmake)
#         -DBUILD_FILE=<bindings/zig/build.zig> -DWORK_DIR=<dir in the build tree>
#         -DACTNET_LIB=<dir of libactnet.so> -DACTNET_INCLUDE=<dir of actnet.h>
#         [-DSTEP=test] [-DECHO_CLIENT=<test_echo_example.py> (then run it on the installed
#         echo_server; use with STEP=install)]
#         -P zig_build.cmake

include(${CMAKE_CURRENT_LIST_DIR}/zig_toolchain.cmake)
actnet_find_zig(ZIG)

if(NOT DEFINED STEP)
  set(STEP test)
endif()
set(prefix "${WORK_DIR}/out")

# Zig's caches live in the build tree (the environment variables cover anything that
# does not take the command-line options).
set(ENV{ZIG_GLOBAL_CACHE_DIR} "${WORK_DIR}/global-cache")
set(ENV{ZIG_LOCAL_CACHE_DIR} "${WORK_DIR}/local-cache")
set(command "${ZIG}" build ${STEP}
    --build-file "${BUILD_FILE}"
    --cache-dir "${WORK_DIR}/local-cache"
    --global-cache-dir "${WORK_DIR}/global-cache"
    --prefix "${prefix}"
    "-Dactnet-lib=${ACTNET_LIB}"
    "-Dactnet-include=${ACTNET_INCLUDE}"
    --summary all)
list(JOIN command " " shown)
message("${shown}")
execute_process(COMMAND ${command} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "zig build ${STEP} failed (exit ${result})")
endif()

if(DEFINED ECHO_CLIENT)
  set(then ${PYTHON} "${ECHO_CLIENT}" --echo-server "${prefix}/bin/echo_server")
  list(JOIN then " " shown)
  message("${shown}")
  execute_process(COMMAND ${then} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${shown} failed (exit ${result})")
  endif()
endif()
