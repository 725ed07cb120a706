# Foreign misuse (issue 6, point 4), labelled "reliability;misuse":
#   ctest --preset default -L misuse
#
# C programs that misuse the ABI the way foreign code can, over 127.0.0.1 against actnet in
# the same process; each built plain and under ASan+UBSan by actnet_c_test (and run under
# valgrind by valgrind.cmake), with c/net.c (and c/tls_support.c) compiled in. Every misuse
# must give a status, never a crash, and the node must go on serving a well-behaved client.
#
#   test_misuse_args      NULL wherever a pointer can be passed to the TCP, TLS, pool, buffer,
#                         certificate manager and inspect functions; a wrong struct_size on
#                         every options struct; out-parameters untouched on error
#   test_misuse_ids       stale and wrong ids on every id-taking function (connections,
#                         servers, client connections, processes, monitor and call
#                         references); writing to closed connections; buffers freed twice or
#                         after actnet_tcp_write_buf (DOUBLE_FREE) and the limit of that check
#   test_misuse_handlers  actnet_node_stop from handlers (WRONG_CONTEXT, the node goes on);
#                         handlers that return an error on every message (ERROR and its code,
#                         a supervisor giving up with MAX_RESTARTS, connections routed to them);
#                         a handler that sleeps 200 ms per message (others keep their latency,
#                         its senders get MAILBOX_FULL, PAUSE pushes back on its connection)
# (Included from tests/CMakeLists.txt.)

set(ACTNET_MISUSE_C_TESTS
  test_misuse_args
  test_misuse_ids
  test_misuse_handlers
)

foreach(t IN LISTS ACTNET_MISUSE_C_TESTS)
  actnet_c_test(${t} LABELS "reliability;misuse")
  foreach(v ${t} ${t}_asan)
    target_sources(${v} PRIVATE c/misuse.c c/tls_support.c c/net.c)
    set_property(TEST ${v} APPEND PROPERTY ENVIRONMENT "ACTNET_TLS_CERTS=${ACTNET_TLS_CERTS_DIR}")
    set_tests_properties(${v} PROPERTIES FIXTURES_REQUIRED tls_certs TIMEOUT 120)
  endforeach()
endforeach()
