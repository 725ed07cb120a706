# The "tls_certs" ctest fixture (tests/tls.cmake): makes the TLS test certificates in DIR by
# running tests/tls/make_certs.sh (cmake -DSCRIPT=... -DDIR=... -DOPENSSL=... -P this file).
#
# The set is made in DIR.tmp and moved into place only when complete, under a lock, so that
# concurrent ctest runs in the same build tree never see a half-written set. A set already in
# DIR is kept when it was made by this same script (and this file) and none of its
# certificates expires within two days; otherwise (first run, an edited script, an old set)
# it is made again. Besides make_certs.sh's files, this adds one the script does not make:
#   unsupported.pem / unsupported.key   a self-signed Ed448 certificate (a key type rustls
#                                       does not support: refused at load time)

foreach(var SCRIPT DIR OPENSSL)
  if(NOT ${var})
    message(FATAL_ERROR "certs_fixture.cmake: -D${var}=... is required")
  endif()
endforeach()

file(LOCK "${DIR}.lock" GUARD PROCESS TIMEOUT 120 RESULT_VARIABLE locked)
if(NOT locked EQUAL 0)
  message(FATAL_ERROR "cannot lock ${DIR}.lock: ${locked}")
endif()

file(READ "${SCRIPT}" script_text)
file(READ "${CMAKE_CURRENT_LIST_FILE}" fixture_text)
string(SHA256 want "${script_text}${fixture_text}")
set(stamp "${DIR}/.made-by")
set(fresh FALSE)
if(EXISTS "${stamp}")
  file(READ "${stamp}" have)
  if(have STREQUAL want)
    set(fresh TRUE)
    foreach(cert ca other-ca server alt rotated client selfsigned unsupported)
      execute_process(COMMAND "${OPENSSL}" x509 -checkend 172800 -noout -in "${DIR}/${cert}.pem"
                      RESULT_VARIABLE valid OUTPUT_QUIET ERROR_QUIET)
      if(NOT valid EQUAL 0)
        set(fresh FALSE)
      endif()
    endforeach()
  endif()
endif()
if(fresh)
  message(STATUS "TLS test certificates in ${DIR} are up to date")
  return()
endif()

set(tmp "${DIR}.tmp")
file(REMOVE_RECURSE "${tmp}")
execute_process(COMMAND sh "${SCRIPT}" "${tmp}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "make_certs.sh failed (${rc})")
endif()
execute_process(COMMAND "${OPENSSL}" genpkey -algorithm ED448 -out "${tmp}/unsupported.key"
                RESULT_VARIABLE rc1 ERROR_QUIET)
execute_process(COMMAND "${OPENSSL}" req -x509 -new -key "${tmp}/unsupported.key" -subj "/CN=localhost/O=ed448"
                        -days 30 -out "${tmp}/unsupported.pem"
                RESULT_VARIABLE rc2 ERROR_QUIET)
if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0)
  message(FATAL_ERROR "cannot make the Ed448 certificate (${rc1}, ${rc2})")
endif()
file(WRITE "${tmp}/.made-by" "${want}")
file(REMOVE_RECURSE "${DIR}")
file(RENAME "${tmp}" "${DIR}")
message(STATUS "TLS test certificates made in ${DIR}")
