# Builds bindings/go/examples/hello with -tags actnet_nopkgconfig, the header and library
# found through CGO_CFLAGS/CGO_LDFLAGS only (PKG_CONFIG is set to `false`, so any use of
# pkg-config would fail the build), then runs it and checks its output.
#   cmake -DGO=<go> -DSOURCE_DIR=<bindings/go> -DPREFIX=<install prefix> -DOUT=<binary> -P this
foreach(var GO SOURCE_DIR PREFIX OUT)
  if(NOT ${var})
    message(FATAL_ERROR "link_without_pkgconfig.cmake: -D${var}=... is required")
  endif()
endforeach()

set(ENV{PKG_CONFIG} false)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{CGO_CFLAGS} "-I${PREFIX}/include")
set(ENV{CGO_LDFLAGS} "-L${PREFIX}/lib -Wl,-rpath,${PREFIX}/lib")
execute_process(COMMAND "${GO}" build -tags actnet_nopkgconfig -o "${OUT}" ./examples/hello
                WORKING_DIRECTORY "${SOURCE_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go build -tags actnet_nopkgconfig failed (${rc})")
endif()
# The rpath, not LD_LIBRARY_PATH, finds the library.
set(ENV{LD_LIBRARY_PATH} "")
execute_process(COMMAND "${OUT}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "got tag 1: hello\n")
  message(FATAL_ERROR "${OUT}: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()
message(STATUS "built without pkg-config and ran: ${out}")
