# Compiles and runs tests/find_package/version_check.c with the flags that
# `pkg-config --cflags --libs actnet` gives for the installed prefix.
#   cmake -DPKG_CONFIG=pkg-config -DCC=cc -DPREFIX=<prefix> -DLIBDIR=lib -DVERSION=0.1.0
#         -DSOURCE=<version_check.c> -DOUT=<executable> -DEXTRA_LIBS=dl -P check_pkg_config.cmake
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")

function(pkg_config out)
  execute_process(COMMAND "${PKG_CONFIG}" ${ARGN} actnet
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE error OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "PKG_CONFIG_PATH=$ENV{PKG_CONFIG_PATH} ${PKG_CONFIG} ${ARGN} actnet failed:\n${error}")
  endif()
  set(${out} "${output}" PARENT_SCOPE)
endfunction()

pkg_config(modversion --modversion)
if(NOT modversion STREQUAL VERSION)
  message(FATAL_ERROR "pkg-config --modversion actnet is '${modversion}', want '${VERSION}'")
endif()
pkg_config(flags --cflags --libs)
message(STATUS "pkg-config --cflags --libs actnet: ${flags}")
string(FIND "${flags}" "-I${PREFIX}/" include_at)
string(FIND "${flags}" "-L${PREFIX}/" lib_at)
if(include_at EQUAL -1 OR lib_at EQUAL -1)
  message(FATAL_ERROR "actnet.pc does not point into the install prefix ${PREFIX}: ${flags}")
endif()

separate_arguments(flags UNIX_COMMAND "${flags}")
set(extra "")
foreach(lib IN LISTS EXTRA_LIBS) # CMAKE_DL_LIBS: "dl" or empty
  list(APPEND extra "-l${lib}")
endforeach()
execute_process(COMMAND "${CC}" -std=c11 -Wall -Wextra -Werror
    "-DEXPECTED_LIBDIR=\"${PREFIX}/${LIBDIR}\"" "${SOURCE}" -o "${OUT}" ${flags} ${extra}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "compiling ${SOURCE} with pkg-config's flags failed:\n${output}")
endif()

# pkg-config gives -L, not an RPATH: the loader finds the library through LD_LIBRARY_PATH.
set(ENV{LD_LIBRARY_PATH} "${PREFIX}/${LIBDIR}")
execute_process(COMMAND "${OUT}" RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
message("${output}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${OUT} failed (${result})")
endif()
