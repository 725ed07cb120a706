# The example programs driven from outside (issue 3, "Example programs": the command lines of
# echo_server and tcp_client are a contract other tools rely on). tests/examples/test_examples.py
# (Python 3, standard library only) starts the built programs on OS-picked ports, talks to them
# over 127.0.0.1 and checks every flag, the "listening on ADDR:PORT" line, exit statuses and
# signal handling. One test per program:
#   examples_echo_server   echo, --workers/--greet, --report-lengths with framing, --max-length,
#                          --buffer-pool, --read-buffer, keepalives, bad arguments, SIGINT/SIGTERM
#   examples_tcp_client    against echo_server, a plain socket that closes, and a closed port
#   examples_chat_server   line broadcast between two clients
# Run them alone with: ctest --preset default -L examples -V
# (Included from tests/CMakeLists.txt; only when the examples are built.)

if(TARGET echo_server AND TARGET tcp_client AND TARGET chat_server)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    foreach(program echo_server tcp_client chat_server)
      add_test(NAME examples_${program}
        COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/examples/test_examples.py
                --echo-server $<TARGET_FILE:echo_server>
                --tcp-client $<TARGET_FILE:tcp_client>
                --chat-server $<TARGET_FILE:chat_server>
                --group ${program})
      # A passing run takes a few seconds; the timeout only bounds a broken build, where
      # each failing case still ends by itself on its own deadlines.
      set_tests_properties(examples_${program} PROPERTIES LABELS "examples" TIMEOUT 120)
    endforeach()
  else()
    # Never drop the tests silently: without Python 3 they show up as one failing test.
    add_test(NAME examples_python_missing
      COMMAND ${CMAKE_COMMAND} -E echo "Python 3 interpreter not found: tests/examples/test_examples.py cannot run")
    set_tests_properties(examples_python_missing PROPERTIES LABELS "examples" FAIL_REGULAR_EXPRESSION "not found")
  endif()
endif()
