# Checks that every name include/actnet.h defines is in actnet's namespace: macros and enum
# values start with ACTNET_, types and functions with actnet_ (DESIGN.md, C ABI conventions).
# cbindgen exports every public constant and type it sees, so an internal Rust constant made
# `pub` can leak into the header as, say, `#define DEFAULT_READ_BUFFER_SIZE`.
#   cmake -DHEADER=include/actnet.h -P check_header_names.cmake
file(STRINGS "${HEADER}" lines)
set(bad "")
set(count 0)
set(line_number 0)
foreach(line IN LISTS lines)
  math(EXPR line_number "${line_number} + 1")
  set(names "")
  if(line MATCHES "^#define ([A-Za-z_][A-Za-z0-9_]*)")               # macros
    list(APPEND names "${CMAKE_MATCH_1}")
  endif()
  if(line MATCHES "^  ([A-Za-z_][A-Za-z0-9_]*) = ")                    # enum values
    list(APPEND names "${CMAKE_MATCH_1}")
  endif()
  if(line MATCHES "^(typedef )?(struct|enum|union) ([A-Za-z_][A-Za-z0-9_]*)") # tags
    list(APPEND names "${CMAKE_MATCH_3}")
  endif()
  if(line MATCHES "^} ([A-Za-z_][A-Za-z0-9_]*);")                      # typedef'd structs
    list(APPEND names "${CMAKE_MATCH_1}")
  endif()
  if(line MATCHES "^typedef [^(]*\\(\\*([A-Za-z_][A-Za-z0-9_]*)\\)")   # function pointers
    list(APPEND names "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^typedef [^;]* ([A-Za-z_][A-Za-z0-9_]*);")     # other typedefs
    list(APPEND names "${CMAKE_MATCH_1}")
  endif()
  if(line MATCHES "^[A-Za-z_][A-Za-z0-9_ *]*[ *]([A-Za-z_][A-Za-z0-9_]*)\\(") # functions
    list(APPEND names "${CMAKE_MATCH_1}")
  endif()
  foreach(name IN LISTS names)
    math(EXPR count "${count} + 1")
    if(NOT name MATCHES "^(ACTNET_|actnet_)")
      string(APPEND bad "  ${HEADER}:${line_number}: ${name}\n")
    endif()
  endforeach()
endforeach()
if(count LESS 50)
  message(FATAL_ERROR "found only ${count} names in ${HEADER}: this check's patterns are broken")
endif()
if(bad)
  message(FATAL_ERROR "names outside actnet's namespace in the public header (make them "
    "private in Rust, or rename them ACTNET_*/actnet_*):\n${bad}")
endif()
message(STATUS "${HEADER}: all ${count} names start with ACTNET_ or actnet_")
