# Finds the pinned Zig, or installs it from PyPI (the `ziglang` package) into the build tree.
#
# As a script (the zig_toolchain test, a fixture of the other Zig tests):
#   cmake -DPYTHON=<python3> -DZIG_VERSION=<x.y.z> -DTOOLCHAIN_DIR=<dir> [-DINSTALL=ON]
#         -P zig_toolchain.cmake
# Included by the other Zig scripts, it defines actnet_find_zig(<out-var>), which sets the
# variable to the zig executable of the pinned version, or fails.
#
# Where the pinned Zig is looked for, in order:
#   1. the environment's `python3 -m ziglang` (pip install ziglang==<version>),
#   2. TOOLCHAIN_DIR, where step 3 puts it (a pip --target directory in the build tree),
#   3. only with INSTALL=ON: `python3 -m pip install --target TOOLCHAIN_DIR ziglang==<version>`.
# The environment itself is never changed.

cmake_minimum_required(VERSION 3.25)

foreach(var PYTHON ZIG_VERSION TOOLCHAIN_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "zig_toolchain.cmake: -D${var}=... is required")
  endif()
endforeach()

# Sets <out> to the zig executable inside the `ziglang` package that `python -m ziglang`
# runs with PYTHONPATH=<pythonpath> (empty: the environment's), if its version is the
# pinned one; to "" otherwise.
function(_actnet_zig_from_python out pythonpath)
  set(${out} "" PARENT_SCOPE)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env "PYTHONPATH=${pythonpath}"
            ${PYTHON} -c "import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))"
    RESULT_VARIABLE result OUTPUT_VARIABLE zig OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT result EQUAL 0 OR NOT EXISTS "${zig}")
    return()
  endif()
  execute_process(COMMAND "${zig}" version
    RESULT_VARIABLE result OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(result EQUAL 0 AND version STREQUAL ZIG_VERSION)
    set(${out} "${zig}" PARENT_SCOPE)
  else()
    message(STATUS "Zig at ${zig} is version '${version}', not the pinned ${ZIG_VERSION}")
  endif()
endfunction()

function(actnet_find_zig out)
  _actnet_zig_from_python(zig "$ENV{PYTHONPATH}")
  if(NOT zig)
    _actnet_zig_from_python(zig "${TOOLCHAIN_DIR}")
  endif()
  if(NOT zig AND INSTALL)
    message(STATUS "Installing Zig ${ZIG_VERSION} from PyPI (ziglang) into ${TOOLCHAIN_DIR}")
    file(REMOVE_RECURSE "${TOOLCHAIN_DIR}")
    execute_process(
      COMMAND ${PYTHON} -m pip install --disable-pip-version-check --no-input --no-deps
              --target "${TOOLCHAIN_DIR}" "ziglang==${ZIG_VERSION}"
      RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "pip could not install ziglang==${ZIG_VERSION} (exit ${result}); "
                          "install it with `${PYTHON} -m pip install ziglang==${ZIG_VERSION}`")
    endif()
    _actnet_zig_from_python(zig "${TOOLCHAIN_DIR}")
  endif()
  if(NOT zig)
    message(FATAL_ERROR "Zig ${ZIG_VERSION} not found (run the zig_toolchain test first, "
                        "or `${PYTHON} -m pip install ziglang==${ZIG_VERSION}`)")
  endif()
  set(${out} "${zig}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  actnet_find_zig(zig)
  message("zig ${ZIG_VERSION}: ${zig}")
endif()
