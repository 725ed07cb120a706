# Checks that the shared library exports only actnet_* functions, exactly those listed in
# tests/exported_symbols.txt (sorted, one per line), and shows the difference if not.
#
#   cmake -DNM=nm -DLIBRARY=libactnet.so -DLIST=tests/exported_symbols.txt -P check_exported_symbols.cmake
#
# With -DUPDATE=ON it rewrites LIST from the library instead (after a deliberate ABI change;
# the build target update-exported-symbols does this).

foreach(var NM LIBRARY LIST)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_exported_symbols.cmake: -D${var}=... is required")
  endif()
endforeach()

execute_process(COMMAND "${NM}" -D --defined-only "${LIBRARY}"
  OUTPUT_VARIABLE nm_output ERROR_VARIABLE nm_error RESULT_VARIABLE nm_result)
if(NOT nm_result EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${LIBRARY} failed (${nm_result}):\n${nm_error}")
endif()

# Lines look like "000000000001a2b0 T actnet_version" (or "actnet_version@@VER").
string(REPLACE "\n" ";" nm_lines "${nm_output}")
set(exported "")
set(strays "")
foreach(line IN LISTS nm_lines)
  if(line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) ([^@ ]+)")
    set(type "${CMAKE_MATCH_1}")
    set(name "${CMAKE_MATCH_2}")
    if(name MATCHES "^actnet_" AND type STREQUAL "T")
      list(APPEND exported "${name}")
    else()
      list(APPEND strays "${type} ${name}")
    endif()
  elseif(NOT line STREQUAL "")
    list(APPEND strays "? ${line}")
  endif()
endforeach()
list(SORT exported)
list(LENGTH exported count)

if(UPDATE)
  list(JOIN exported "\n" text)
  file(WRITE "${LIST}" "${text}\n")
  message(STATUS "wrote ${count} symbols to ${LIST}")
  if(strays)
    list(JOIN strays "\n  " text)
    message(WARNING "not listed: these exports are not actnet_* functions:\n  ${text}")
  endif()
  return()
endif()

file(STRINGS "${LIST}" listed REGEX "^[^#]")
list(SORT listed)

set(report "")
if(strays)
  list(JOIN strays "\n  " text)
  string(APPEND report "exported symbols that are not actnet_* functions (type and name from nm):\n  ${text}\n")
endif()
set(missing ${listed})
if(exported)
  list(REMOVE_ITEM missing ${exported})
endif()
set(extra ${exported})
if(listed)
  list(REMOVE_ITEM extra ${listed})
endif()
if(missing)
  list(JOIN missing "\n  - " text)
  string(APPEND report "in ${LIST} but not exported by the library:\n  - ${text}\n")
endif()
if(extra)
  list(JOIN extra "\n  + " text)
  string(APPEND report "exported by the library but not in ${LIST}:\n  + ${text}\n")
endif()

if(report)
  message(FATAL_ERROR "${LIBRARY}: the exported symbols are wrong.\n${report}"
    "After a deliberate ABI change, regenerate the list with\n"
    "  cmake --build --preset default --target update-exported-symbols\n"
    "and review the diff of tests/exported_symbols.txt.")
endif()
message(STATUS "${LIBRARY}: exports exactly the ${count} actnet_* functions of ${LIST}")
