# The Zig binding (bindings/zig, issue 7), driven by its own build system. Zig comes from
# PyPI: the zig_toolchain test (a fixture) finds the pinned Zig (ACTNET_ZIG_VERSION below) as
# `python3 -m ziglang`, or installs it with pip into build/<preset>/zig/toolchain (see
# tests/zig/zig_toolchain.cmake). Zig's caches and outputs stay in build/<preset>/zig.
#   zig_toolchain        find or install the pinned Zig
#   zig_build_test       `zig build test`: wrapper unit tests (statuses and enums against
#                        the header), spawn/send/call, node stop and free, typed ids (a Pid
#                        for an Alias must not compile; WrongKind), echo over 127.0.0.1
#                        with header framing and a worker pool, connect failure, and the
#                        examples compile (the README's one also runs)
#   zig_echo_example     the example echo server, built by `zig build`, driven by a Python
#                        client (tests/zig/test_echo_example.py)
#   zig_readme_example   the READMEs show bindings/zig/examples/hello.zig verbatim
# Run them alone with: ctest --preset default -L zig -V
# (Included from tests/CMakeLists.txt.)

set(ACTNET_ZIG_VERSION 0.15.2)
find_package(Python3 COMPONENTS Interpreter)

if(NOT Python3_Interpreter_FOUND)
  # Never drop the tests silently: without Python 3 they show up as one failing test.
  add_test(NAME zig_python_missing
    COMMAND ${CMAKE_COMMAND} -E echo "Python 3 interpreter not found: Zig cannot be found or installed")
  set_tests_properties(zig_python_missing PROPERTIES LABELS "zig" FAIL_REGULAR_EXPRESSION "not found")
  return()
endif()

set(ACTNET_ZIG_DIR ${CMAKE_BINARY_DIR}/zig)
set(ACTNET_ZIG_SOURCE_DIR ${PROJECT_SOURCE_DIR}/bindings/zig)
set(ACTNET_ZIG_ARGS
  -DPYTHON=${Python3_EXECUTABLE}
  -DZIG_VERSION=${ACTNET_ZIG_VERSION}
  -DTOOLCHAIN_DIR=${ACTNET_ZIG_DIR}/toolchain)
set(ACTNET_ZIG_BUILD_ARGS ${ACTNET_ZIG_ARGS}
  -DBUILD_FILE=${ACTNET_ZIG_SOURCE_DIR}/build.zig
  -DWORK_DIR=${ACTNET_ZIG_DIR}
  -DACTNET_LIB=${ACTNET_LIB_DIR}
  -DACTNET_INCLUDE=${ACTNET_INCLUDE_DIR})

add_test(NAME zig_toolchain
  COMMAND ${CMAKE_COMMAND} ${ACTNET_ZIG_ARGS} -DINSTALL=ON
          -P ${CMAKE_CURRENT_SOURCE_DIR}/zig/zig_toolchain.cmake)
# The first run downloads Zig (about 90 MB).
set_tests_properties(zig_toolchain PROPERTIES FIXTURES_SETUP actnet_zig TIMEOUT 900)

add_test(NAME zig_build_test
  COMMAND ${CMAKE_COMMAND} ${ACTNET_ZIG_BUILD_ARGS} -DSTEP=test
          -P ${CMAKE_CURRENT_SOURCE_DIR}/zig/zig_build.cmake)

add_test(NAME zig_echo_example
  COMMAND ${CMAKE_COMMAND} ${ACTNET_ZIG_BUILD_ARGS} -DSTEP=install
          -DECHO_CLIENT=${CMAKE_CURRENT_SOURCE_DIR}/zig/test_echo_example.py
          -P ${CMAKE_CURRENT_SOURCE_DIR}/zig/zig_build.cmake)

# Compiling the Zig standard library's test runner takes a while on a busy 2-core machine.
set_tests_properties(zig_build_test zig_echo_example PROPERTIES
  FIXTURES_REQUIRED actnet_zig TIMEOUT 900)

add_test(NAME zig_readme_example
  COMMAND ${CMAKE_COMMAND} -DEXAMPLE=${ACTNET_ZIG_SOURCE_DIR}/examples/hello.zig
          -DREADME=${ACTNET_ZIG_SOURCE_DIR}/README.md -DTOP_README=${PROJECT_SOURCE_DIR}/README.md
          -P ${CMAKE_CURRENT_SOURCE_DIR}/zig/check_readme_example.cmake)
set_tests_properties(zig_readme_example PROPERTIES TIMEOUT 30)

set_tests_properties(zig_toolchain zig_build_test zig_echo_example zig_readme_example
  PROPERTIES LABELS "zig")
