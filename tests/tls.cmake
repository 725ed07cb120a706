# TLS tests (issue 4), all labelled "tls": run them with  ctest --preset default -L tls
#
#   tls_certs                the fixture: tests/tls/make_certs.sh makes the throwaway test
#                            certificates in <build>/tests/tls-certs (tls/certs_fixture.cmake);
#                            every other TLS test requires it and finds the directory in
#                            $ACTNET_TLS_CERTS. Nothing private is committed.
#   test_tls_* (+ _asan)     C tests of the ABI over 127.0.0.1, plain and under ASan+UBSan,
#                            with c/tls_support.c and c/net.c compiled in:
#     test_tls_echo          echo with header framing and pool buffers, ALPN, CONNECT/inspect
#     test_tls_sni           SNI picks the certificate; removing one
#     test_tls_rotation      certificate rotation and CA bundle replacement on live servers
#     test_tls_mtls          mutual TLS, required and optional
#     test_tls_verify        client-side verification, insecure_skip_verify, client timeouts
#     test_tls_handshake     server-side handshake timeout, plaintext and garbage clients
#     test_tls_load          bad certificates, keys and options refused at load/spawn time
#   tls_interop_<group>      tests/tls/test_interop.py (Python 3 standard library + the
#                            openssl command): Python ssl and openssl s_client against
#                            echo_server, openssl s_server and a Python ssl server against
#                            tcp_client.
# (Included from tests/CMakeLists.txt.)

set(ACTNET_TLS_CERTS_DIR ${CMAKE_CURRENT_BINARY_DIR}/tls-certs)
find_program(ACTNET_OPENSSL openssl)

if(ACTNET_OPENSSL)
  add_test(NAME tls_certs
    COMMAND ${CMAKE_COMMAND} -DSCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/tls/make_certs.sh
            -DDIR=${ACTNET_TLS_CERTS_DIR} -DOPENSSL=${ACTNET_OPENSSL}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/tls/certs_fixture.cmake)
else()
  # Never skip silently: without openssl the fixture fails, and so every TLS test.
  add_test(NAME tls_certs
    COMMAND ${CMAKE_COMMAND} -E false)
  message(WARNING "openssl not found: the TLS tests cannot make their certificates")
endif()
set_tests_properties(tls_certs PROPERTIES FIXTURES_SETUP tls_certs LABELS "tls" TIMEOUT 120)

set(ACTNET_TLS_C_TESTS
  test_tls_echo
  test_tls_sni
  test_tls_rotation
  test_tls_mtls
  test_tls_verify
  test_tls_handshake
  test_tls_load
)

foreach(t IN LISTS ACTNET_TLS_C_TESTS)
  actnet_c_test(${t} LABELS tls)
  foreach(v ${t} ${t}_asan)
    target_sources(${v} PRIVATE c/tls_support.c c/net.c)
    set_property(TEST ${v} APPEND PROPERTY ENVIRONMENT "ACTNET_TLS_CERTS=${ACTNET_TLS_CERTS_DIR}")
    set_tests_properties(${v} PROPERTIES FIXTURES_REQUIRED tls_certs TIMEOUT 60)
  endforeach()
endforeach()

# Interoperability with peers that are not ours, through the example programs.
if(TARGET echo_server AND TARGET tcp_client)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    foreach(group python_client s_client mtls tcp_client)
      add_test(NAME tls_interop_${group}
        COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/tls/test_interop.py
                --echo-server $<TARGET_FILE:echo_server>
                --tcp-client $<TARGET_FILE:tcp_client>
                --certs ${ACTNET_TLS_CERTS_DIR}
                --openssl ${ACTNET_OPENSSL}
                --group ${group})
      set_tests_properties(tls_interop_${group} PROPERTIES
        LABELS "tls;interop" FIXTURES_REQUIRED tls_certs TIMEOUT 60)
    endforeach()
  else()
    add_test(NAME tls_interop_python_missing
      COMMAND ${CMAKE_COMMAND} -E echo "Python 3 interpreter not found: tests/tls/test_interop.py cannot run")
    set_tests_properties(tls_interop_python_missing PROPERTIES LABELS "tls;interop" FAIL_REGULAR_EXPRESSION "not found")
  endif()
endif()
