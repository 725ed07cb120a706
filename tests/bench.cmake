# The benchmark harness's smoke run (issue 5), labelled "bench":
#   bench_smoke   bench/run.py --smoke against this build: every case (a-i) for about a second
#                 per side, one repetition, small connection counts, no figure or ratio
#                 judged. It fails only when the harness does: a wrong echo, a server that
#                 does not start, dies or exits non-zero on SIGTERM, a stall, a tool that is
#                 missing or breaks. So the load generator, the tokio references, pingpong and
#                 the runner cannot rot. Run it alone with: ctest --preset default -L bench -V
# It runs alone (RUN_SERIAL): it pins processes to cores and measures.
# (Included from tests/CMakeLists.txt.)

if(TARGET actnet_bench AND TARGET pingpong AND TARGET echo_server)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    add_test(NAME bench_smoke
      COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/bench/run.py --smoke
              --echo-server $<TARGET_FILE:echo_server>
              --pingpong $<TARGET_FILE:pingpong>
              --bench ${ACTNET_BENCH_BIN}
              --work-dir ${CMAKE_CURRENT_BINARY_DIR}/bench-smoke
              --json-out ${CMAKE_CURRENT_BINARY_DIR}/bench-smoke/results.json)
    set_tests_properties(bench_smoke PROPERTIES LABELS "bench" TIMEOUT 120 RUN_SERIAL TRUE)
  else()
    add_test(NAME bench_smoke
      COMMAND ${CMAKE_COMMAND} -E echo "Python 3 interpreter not found: bench/run.py cannot run")
    set_tests_properties(bench_smoke PROPERTIES LABELS "bench" FAIL_REGULAR_EXPRESSION "not found")
  endif()
endif()
