# The Go binding (bindings/go, issue 7), all labelled "go": ctest --preset default -L go
#
#   go_install               the fixture: `cmake --install` of this build tree into
#                            <build>/tests/go/install (its own prefix, so that it never races
#                            with the package_* tests' prefix)
#   go_fmt                   gofmt -l lists nothing
#   go_vet, go_test          `go vet ./...` and `go test -race -count=1 ./...` in bindings/go,
#                            linked through pkg-config (PKG_CONFIG_PATH and LD_LIBRARY_PATH
#                            point at the prefix); the TLS tests use the tls_certs fixture's
#                            certificates when it exists (else they run make_certs.sh); the
#                            enum test compares the Go constants with the installed header
#                            (ACTNET_HEADER), and one test builds testdata/typedids, which
#                            must fail to compile (a PID where an Alias is expected)
#   go_link_without_pkgconfig  -tags actnet_nopkgconfig with CGO_CFLAGS/CGO_LDFLAGS instead
#                            (go/link_without_pkgconfig.cmake): builds and runs examples/hello
#   go_echo_build            builds examples/echo into <build>/tests/go/bin/echo (a fixture)
#   go_echo_load             go/echo_load.py: 16 connections x 2000 messages at once against
#                            the Go echo server (worker pool and header framing, then pool
#                            buffers), every byte checked, greetings, SIGTERM/SIGINT exit 0
#   go_echo_contract         tests/examples/test_examples.py --group echo_server against the
#                            Go echo server: the C echo_server's command-line contract
#   go_echo_tls_<group>      tests/tls/test_interop.py (python_client, s_client, mtls) against
#                            it, when the TLS tests are part of this tree
# Go runs hermetically: GOCACHE and GOPATH under <build>/tests/go, GOENV=off, GOWORK=off,
# GOTOOLCHAIN=local, GOFLAGS=-mod=mod (the module needs nothing but the standard library);
# GORACE=atexit_sleep_ms=0 saves the race detector's second at the exit of each test binary.
# The first go_test compiles the standard library for the race detector (about a minute on
# two cores); later runs take seconds. Without Go the tests fail (never a silent skip);
# configure with -DACTNET_GO_TESTS=OFF to leave them out.
# (Included from tests/CMakeLists.txt.)

option(ACTNET_GO_TESTS "Test the Go binding (bindings/go) with ctest" ON)
if(NOT ACTNET_GO_TESTS)
  return()
endif()

find_program(ACTNET_GO go HINTS /usr/local/go/bin $ENV{HOME}/go/bin $ENV{HOME}/sdk/go/bin)
if(NOT ACTNET_GO)
  add_test(NAME go_missing
    COMMAND ${CMAKE_COMMAND} -E echo "Go not found: install it (go.dev/dl) or configure with -DACTNET_GO_TESTS=OFF")
  set_tests_properties(go_missing PROPERTIES LABELS "go" FAIL_REGULAR_EXPRESSION "not found")
  return()
endif()

set(ACTNET_GO_SOURCE ${PROJECT_SOURCE_DIR}/bindings/go)
set(ACTNET_GO_WORK ${CMAKE_CURRENT_BINARY_DIR}/go)
set(ACTNET_GO_PREFIX ${ACTNET_GO_WORK}/install)
set(ACTNET_GO_LIBDIR ${ACTNET_GO_PREFIX}/${CMAKE_INSTALL_LIBDIR})
set(ACTNET_GO_ECHO ${ACTNET_GO_WORK}/bin/echo)
find_program(ACTNET_GO_PKG_CONFIG NAMES pkg-config pkgconf)

set(ACTNET_GO_ENV
  GOCACHE=${ACTNET_GO_WORK}/cache
  GOPATH=${ACTNET_GO_WORK}/gopath
  GOENV=off
  GOWORK=off
  GOTOOLCHAIN=local
  GOFLAGS=-mod=mod
  GORACE=atexit_sleep_ms=0
  CGO_ENABLED=1
  CC=${CMAKE_C_COMPILER}
  PKG_CONFIG_PATH=${ACTNET_GO_LIBDIR}/pkgconfig
  LD_LIBRARY_PATH=${ACTNET_GO_LIBDIR}
  ACTNET_HEADER=${ACTNET_GO_PREFIX}/${CMAKE_INSTALL_INCLUDEDIR}/actnet.h)
if(ACTNET_GO_PKG_CONFIG)
  list(APPEND ACTNET_GO_ENV PKG_CONFIG=${ACTNET_GO_PKG_CONFIG})
endif()
if(TEST tls_certs AND DEFINED ACTNET_TLS_CERTS_DIR)
  set(ACTNET_GO_TLS ON)
  list(APPEND ACTNET_GO_ENV ACTNET_TLS_CERTS=${ACTNET_TLS_CERTS_DIR})
else()
  set(ACTNET_GO_TLS OFF)
endif()

add_test(NAME go_install
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DPREFIX=${ACTNET_GO_PREFIX}
          -DCONFIG=$<CONFIG> -P ${CMAKE_CURRENT_SOURCE_DIR}/install_into_prefix.cmake)
set_tests_properties(go_install PROPERTIES FIXTURES_SETUP actnet_go_installed LABELS "go" TIMEOUT 120)

add_test(NAME go_vet COMMAND ${ACTNET_GO} vet ./... WORKING_DIRECTORY ${ACTNET_GO_SOURCE})
get_filename_component(ACTNET_GO_BIN ${ACTNET_GO} DIRECTORY)
find_program(ACTNET_GOFMT gofmt HINTS ${ACTNET_GO_BIN} NO_DEFAULT_PATH)
find_program(ACTNET_GOFMT gofmt)
if(ACTNET_GOFMT)
  # gofmt -l lists the files it would change (and exits 0): any listed file fails the test.
  add_test(NAME go_fmt COMMAND ${ACTNET_GOFMT} -l . WORKING_DIRECTORY ${ACTNET_GO_SOURCE})
  set_tests_properties(go_fmt PROPERTIES LABELS "go" FAIL_REGULAR_EXPRESSION "[.]go" TIMEOUT 60)
endif()
add_test(NAME go_test COMMAND ${ACTNET_GO} test -race -count=1 ./... WORKING_DIRECTORY ${ACTNET_GO_SOURCE})
add_test(NAME go_link_without_pkgconfig
  COMMAND ${CMAKE_COMMAND} -DGO=${ACTNET_GO} -DSOURCE_DIR=${ACTNET_GO_SOURCE} -DPREFIX=${ACTNET_GO_PREFIX}
          -DOUT=${ACTNET_GO_WORK}/bin/hello-nopkgconfig
          -P ${CMAKE_CURRENT_SOURCE_DIR}/go/link_without_pkgconfig.cmake)
add_test(NAME go_echo_build
  COMMAND ${ACTNET_GO} build -o ${ACTNET_GO_ECHO} ./examples/echo WORKING_DIRECTORY ${ACTNET_GO_SOURCE})
set_tests_properties(go_echo_build PROPERTIES FIXTURES_SETUP actnet_go_echo)

set(ACTNET_GO_TESTS_ALL go_vet go_test go_link_without_pkgconfig go_echo_build)
# go_test's first run builds the race runtime and the standard library: give it room.
set_tests_properties(go_test PROPERTIES TIMEOUT 600)
if(ACTNET_GO_TLS)
  set_tests_properties(go_test PROPERTIES FIXTURES_REQUIRED "actnet_go_installed;tls_certs")
endif()

find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME go_echo_load
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/go/echo_load.py --echo ${ACTNET_GO_ECHO})
  # The C contract tests want three programs; the echo_server group runs only the first.
  add_test(NAME go_echo_contract
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/examples/test_examples.py
            --echo-server ${ACTNET_GO_ECHO} --tcp-client ${ACTNET_GO_ECHO} --chat-server ${ACTNET_GO_ECHO}
            --group echo_server)
  list(APPEND ACTNET_GO_TESTS_ALL go_echo_load go_echo_contract)
  set(ACTNET_GO_ECHO_TESTS go_echo_load go_echo_contract)
  if(ACTNET_GO_TLS AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/tls/test_interop.py AND ACTNET_OPENSSL)
    foreach(group python_client s_client mtls)
      add_test(NAME go_echo_tls_${group}
        COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/tls/test_interop.py
                --echo-server ${ACTNET_GO_ECHO} --tcp-client ${ACTNET_GO_ECHO}
                --certs ${ACTNET_TLS_CERTS_DIR} --openssl ${ACTNET_OPENSSL} --group ${group})
      set_tests_properties(go_echo_tls_${group} PROPERTIES FIXTURES_REQUIRED "actnet_go_installed;actnet_go_echo;tls_certs")
      list(APPEND ACTNET_GO_TESTS_ALL go_echo_tls_${group})
    endforeach()
  endif()
  set_tests_properties(${ACTNET_GO_ECHO_TESTS} PROPERTIES FIXTURES_REQUIRED "actnet_go_installed;actnet_go_echo")
else()
  add_test(NAME go_python_missing
    COMMAND ${CMAKE_COMMAND} -E echo "Python 3 interpreter not found: the Go echo example cannot be driven")
  set_tests_properties(go_python_missing PROPERTIES LABELS "go" FAIL_REGULAR_EXPRESSION "not found")
endif()

set_tests_properties(${ACTNET_GO_TESTS_ALL} PROPERTIES LABELS "go" ENVIRONMENT "${ACTNET_GO_ENV}")
foreach(t IN LISTS ACTNET_GO_TESTS_ALL)
  get_test_property(${t} FIXTURES_REQUIRED required)
  if(NOT required)
    set_tests_properties(${t} PROPERTIES FIXTURES_REQUIRED actnet_go_installed)
  endif()
  get_test_property(${t} TIMEOUT timeout)
  if(NOT timeout)
    set_tests_properties(${t} PROPERTIES TIMEOUT 120)
  endif()
endforeach()
