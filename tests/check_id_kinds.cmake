# Process ids and meta-process aliases are distinct C types: tests/header/id_kinds.c compiles
# as is, and fails to compile when one kind stands where the other is expected (both ways),
# as C11 and as C++17.
# Arguments: -DCC=... -DCXX=... -DINCLUDE=<include dir> -DSOURCE=<id_kinds.c>
function(compile compiler language standard defines result_var)
  execute_process(
    COMMAND ${compiler} -x ${language} -std=${standard} -Wall -Wextra -Werror -fsyntax-only
            -I${INCLUDE} ${defines} ${SOURCE}
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(${result_var} ${result} PARENT_SCOPE)
  set(compile_output "${out}" PARENT_SCOPE)
endfunction()

foreach(pair "${CC};c;c11" "${CXX};c++;c++17")
  list(GET pair 0 compiler)
  list(GET pair 1 language)
  list(GET pair 2 standard)
  compile(${compiler} ${language} ${standard} "" result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "id_kinds.c does not compile as ${language}:\n${compile_output}")
  endif()
  foreach(mix 1 2)
    compile(${compiler} ${language} ${standard} "-DMIX_KINDS=${mix}" result)
    if(result EQUAL 0)
      message(FATAL_ERROR "id_kinds.c with MIX_KINDS=${mix} compiled as ${language}: the id kinds mix")
    endif()
    if(NOT compile_output MATCHES "actnet_(pid|alias)")
      message(FATAL_ERROR "id_kinds.c with MIX_KINDS=${mix} failed as ${language} for another reason:\n${compile_output}")
    endif()
  endforeach()
  message(STATUS "${language}: ids of the wrong kind do not compile")
endforeach()
