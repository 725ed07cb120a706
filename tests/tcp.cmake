# The C tests of the TCP meta-processes (issue 3), over 127.0.0.1 with OS-picked ports. Each
# is built plain and under ASan+UBSan by actnet_c_test, with the socket helpers and the "tq"
# recording behaviour of c/net.c compiled in.

set(ACTNET_TCP_C_TESTS
  test_tcp_messages
  test_tcp_routing
  test_tcp_framing
  test_tcp_limits
  test_tcp_pool
  test_tcp_keepalive
  test_tcp_client
  test_tcp_cascade
  test_tcp_flow
  test_tcp_disconnect
  # The 0.2 ABI: options from older layouts, ids of the wrong kind.
  test_options_growth
  test_wrong_kind
)

foreach(t IN LISTS ACTNET_TCP_C_TESTS)
  actnet_c_test(${t} LABELS tcp)
  target_sources(${t} PRIVATE c/net.c)
  target_sources(${t}_asan PRIVATE c/net.c)
endforeach()
