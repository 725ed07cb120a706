# Checks the installed library: the file names, the symlink chain
#   libactnet.so -> libactnet.so.SOVERSION -> libactnet.so.MAJOR.MINOR.PATCH
# and the SONAME recorded in the library, plus the other installed files. SONAME is the
# name CMake expects (cmake/Cargo.cmake: MAJOR from 1.0, 0.MINOR before); build.rs writes
# the one in the library by the same rule, so this checks that the two agree.
#   cmake -DPREFIX=<prefix> -DLIBDIR=lib -DINCLUDEDIR=include -DVERSION=0.2.0
#         -DSONAME=libactnet.so.0.2 -DREADELF=readelf -P check_installed_layout.cmake
set(lib "${PREFIX}/${LIBDIR}")
set(real "libactnet.so.${VERSION}")
set(soname "${SONAME}")
set(errors "")

if(NOT EXISTS "${lib}/${real}" OR IS_SYMLINK "${lib}/${real}")
  string(APPEND errors "  ${lib}/${real} is missing or not a regular file\n")
endif()
foreach(pair "${soname}|${real}" "libactnet.so|${soname}")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 link)
  list(GET pair 1 want)
  if(NOT IS_SYMLINK "${lib}/${link}")
    string(APPEND errors "  ${lib}/${link} is missing or not a symlink (want -> ${want})\n")
    continue()
  endif()
  file(READ_SYMLINK "${lib}/${link}" target)
  if(NOT target STREQUAL want)
    string(APPEND errors "  ${lib}/${link} -> ${target}, want -> ${want}\n")
  endif()
endforeach()
foreach(file "${LIBDIR}/libactnet.a" "${INCLUDEDIR}/actnet.h" "${LIBDIR}/cmake/actnet/actnetConfig.cmake"
             "${LIBDIR}/cmake/actnet/actnetConfigVersion.cmake" "${LIBDIR}/pkgconfig/actnet.pc")
  if(NOT EXISTS "${PREFIX}/${file}")
    string(APPEND errors "  ${PREFIX}/${file} is missing\n")
  endif()
endforeach()

if(EXISTS "${lib}/${real}")
  execute_process(COMMAND "${READELF}" -d "${lib}/${real}"
    RESULT_VARIABLE result OUTPUT_VARIABLE dynamic ERROR_VARIABLE dynamic)
  if(NOT result EQUAL 0)
    string(APPEND errors "  ${READELF} -d ${lib}/${real} failed:\n${dynamic}\n")
  elseif(dynamic MATCHES "\\(SONAME\\)[^\n]*\\[([^]\n]*)\\]")
    set(found "${CMAKE_MATCH_1}")
    message(STATUS "SONAME: ${found}")
    if(NOT found STREQUAL soname)
      string(APPEND errors "  SONAME of ${real} is ${found}, want ${soname}\n")
    endif()
  else()
    string(APPEND errors "  ${real} has no SONAME (readelf -d shows none)\n")
  endif()
endif()

if(errors)
  message(FATAL_ERROR "the installed library is laid out wrongly:\n${errors}")
endif()
message(STATUS "${lib}: libactnet.so -> ${soname} -> ${real}, SONAME ${soname}")
