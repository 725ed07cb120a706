# Reliability tests (issue 6): hostile peers and graceful stop, all labelled "reliability":
#   ctest --preset default -L reliability
#
# C programs over 127.0.0.1 against actnet servers in the same process, each built plain and
# under ASan+UBSan (with LeakSanitizer) by actnet_c_test, with c/reliability.c (process
# accounting, the "rec" recording echo behaviour, framing and its reference model, the
# well-behaved client thread) and c/net.c compiled in. Every case runs a well-behaved client
# concurrently, counts every DISCONNECT and its reason, and waits (bounded polls) for the
# process's fds, the pool's outstanding buffers and the server's live connections to return
# to their baseline. Each program prints its figures (times, RSS, counts) on stdout:
#   ctest --preset default -L reliability -V
#
#   test_hostile_input   a header claiming 4 GiB (with and without max_length), random
#                        garbage under every framing mode checked against a reference model,
#                        slowloris (one byte per 100 ms), resets mid-frame
#   test_hostile_flow    peers that never read while the server writes: write queue limit,
#                        WOULD_BLOCK, WRITABLE only once the peer reads, bounded RSS, resets
#                        and terminates with full queues (WRITE_TIMEOUT)
#   test_hostile_churn   2,000 connect+close and 2,000 connect+RST as fast as possible
#   test_hostile_tls     TLS clients sending garbage or stopping mid-handshake: no CONNECT,
#                        counted as handshake failures, closed within the handshake timeout
#                        (needs the tls_certs fixture of tls.cmake)
#   test_graceful_stop   actnet_node_stop while 500 connections transfer data (and, in a
#                        second run, with 4 peers that never read): one DISCONNECT
#                        NODE_STOPPING each, every socket closed, bounded stop time
# (Included from tests/CMakeLists.txt, after tls.cmake.)

set(ACTNET_RELIABILITY_C_TESTS
  test_hostile_input
  test_hostile_flow
  test_hostile_churn
  test_graceful_stop
)

foreach(t IN LISTS ACTNET_RELIABILITY_C_TESTS)
  actnet_c_test(${t} LABELS reliability)
  foreach(v ${t} ${t}_asan)
    target_sources(${v} PRIVATE c/reliability.c c/net.c)
    set_tests_properties(${v} PROPERTIES TIMEOUT 120)
  endforeach()
endforeach()

actnet_c_test(test_hostile_tls LABELS reliability)
foreach(v test_hostile_tls test_hostile_tls_asan)
  target_sources(${v} PRIVATE c/reliability.c c/tls_support.c c/net.c)
  set_property(TEST ${v} APPEND PROPERTY ENVIRONMENT "ACTNET_TLS_CERTS=${ACTNET_TLS_CERTS_DIR}")
  set_tests_properties(${v} PROPERTIES FIXTURES_REQUIRED tls_certs TIMEOUT 120)
endforeach()
