# Checks of what actnet ships, beyond its behaviour (included from tests/CMakeLists.txt):
#   header_c11, header_cxx17   include/actnet.h compiles as C11 and C++17 with strict warnings
#                              (built as targets: a warning fails the build), and runs
#   header_unchanged           building did not change the committed include/actnet.h
#   header_names               every name in the header is ACTNET_* or actnet_*
#   header_id_kinds            a process id where an alias is expected (or the reverse) does not compile
#   exported_symbols           libactnet.so exports exactly tests/exported_symbols.txt
#   package_*                  cmake --install into a prefix, then find_package, pkg-config,
#                              SONAME and symlinks
#   readme_example, readme_in_sync   README.md's C example compiles, runs, and is the file tested
#   supervisor_demo            the demo of `cmake --workflow --preset demo` runs and says so
# The Rust test tests/ffi_boundary.rs (run by rust_tests) checks the exports in the source.

set(ACTNET_STRICT_WARNINGS -Wall -Wextra -Wpedantic -Werror)

# ---- The header, as C11 and as C++17 -------------------------------------------------------
add_executable(header_c11 header/header_c11.c)
set_target_properties(header_c11 PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(header_c11 PRIVATE ${ACTNET_STRICT_WARNINGS} -Wstrict-prototypes)
target_link_libraries(header_c11 PRIVATE actnet::actnet)

add_executable(header_cxx17 header/header_cxx17.cpp)
set_target_properties(header_cxx17 PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
target_compile_options(header_cxx17 PRIVATE ${ACTNET_STRICT_WARNINGS})
target_link_libraries(header_cxx17 PRIVATE actnet::actnet)

foreach(name header_c11 header_cxx17)
  # Imported targets' include directories are -isystem by default, which would silence
  # every warning coming from the header: include it as an ordinary -I here.
  set_target_properties(${name} PROPERTIES NO_SYSTEM_FROM_IMPORTED ON)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "check;header" TIMEOUT 30)
endforeach()

# ---- The committed header is what the build generates ---------------------------------------
find_package(Git QUIET)
add_test(NAME header_unchanged
  COMMAND ${CMAKE_COMMAND} -DGIT=${GIT_EXECUTABLE} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/check_header_unchanged.cmake)
set_tests_properties(header_unchanged PROPERTIES LABELS "check;header" TIMEOUT 30
  SKIP_REGULAR_EXPRESSION "SKIP:")

# ---- Every name the header defines is ACTNET_* or actnet_* ------------------------------------
add_test(NAME header_names
  COMMAND ${CMAKE_COMMAND} -DHEADER=${PROJECT_SOURCE_DIR}/include/actnet.h
          -P ${CMAKE_CURRENT_SOURCE_DIR}/check_header_names.cmake)
set_tests_properties(header_names PROPERTIES LABELS "check;header" TIMEOUT 30)

# ---- Exported symbols -----------------------------------------------------------------------
if(NOT CMAKE_NM)
  find_program(CMAKE_NM nm REQUIRED)
endif()
set(ACTNET_SYMBOLS_ARGS -DNM=${CMAKE_NM} -DLIBRARY=${ACTNET_SHARED_LIB}
    -DLIST=${CMAKE_CURRENT_SOURCE_DIR}/exported_symbols.txt)
set(ACTNET_SYMBOLS_SCRIPT -P ${CMAKE_CURRENT_SOURCE_DIR}/check_exported_symbols.cmake)
add_test(NAME exported_symbols COMMAND ${CMAKE_COMMAND} ${ACTNET_SYMBOLS_ARGS} ${ACTNET_SYMBOLS_SCRIPT})
set_tests_properties(exported_symbols PROPERTIES LABELS "check;abi" TIMEOUT 30)
# After a deliberate ABI change: cmake --build --preset default --target update-exported-symbols
# (-D options must come before -P.)
add_custom_target(update-exported-symbols
  COMMAND ${CMAKE_COMMAND} ${ACTNET_SYMBOLS_ARGS} -DUPDATE=ON ${ACTNET_SYMBOLS_SCRIPT}
  DEPENDS actnet_cargo COMMENT "Rewriting tests/exported_symbols.txt from libactnet.so" VERBATIM)

# ---- Install, then use the installed package ------------------------------------------------
# The fixture installs the build tree into a fresh prefix; the other package_* tests use it.
# Executables built against the prefix find the library through their RPATH (CMake) or
# LD_LIBRARY_PATH (pkg-config), and check that they loaded it from the prefix.
set(ACTNET_TEST_PREFIX ${CMAKE_BINARY_DIR}/test-install)
set(ACTNET_TEST_LIBDIR ${ACTNET_TEST_PREFIX}/${CMAKE_INSTALL_LIBDIR})
add_test(NAME package_install
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DPREFIX=${ACTNET_TEST_PREFIX}
          -DCONFIG=$<CONFIG> -P ${CMAKE_CURRENT_SOURCE_DIR}/install_into_prefix.cmake)
set_tests_properties(package_install PROPERTIES FIXTURES_SETUP actnet_installed)

if(CMAKE_READELF)
  set(READELF ${CMAKE_READELF})
else()
  find_program(READELF readelf REQUIRED)
endif()
add_test(NAME package_layout
  COMMAND ${CMAKE_COMMAND} -DPREFIX=${ACTNET_TEST_PREFIX} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
          -DINCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR} -DVERSION=${PROJECT_VERSION} -DSONAME=${ACTNET_SONAME}
          -DREADELF=${READELF}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/check_installed_layout.cmake)

add_test(NAME package_find_package
  COMMAND ${CMAKE_CTEST_COMMAND} --build-and-test
          ${CMAKE_CURRENT_SOURCE_DIR}/find_package ${CMAKE_CURRENT_BINARY_DIR}/find_package
          --build-generator ${CMAKE_GENERATOR}
          --build-makeprogram ${CMAKE_MAKE_PROGRAM}
          --build-options -DCMAKE_PREFIX_PATH=${ACTNET_TEST_PREFIX}
                          -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
                          -DCMAKE_BUILD_TYPE=$<CONFIG>
                          -DEXPECTED_LIBDIR=${ACTNET_TEST_LIBDIR}
          --test-command ${CMAKE_CTEST_COMMAND} --output-on-failure -V)

find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(PKG_CONFIG_EXECUTABLE)
  add_test(NAME package_pkg_config
    COMMAND ${CMAKE_COMMAND} -DPKG_CONFIG=${PKG_CONFIG_EXECUTABLE} -DCC=${CMAKE_C_COMPILER}
            -DPREFIX=${ACTNET_TEST_PREFIX} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
            -DVERSION=${PROJECT_VERSION} -DEXTRA_LIBS=${CMAKE_DL_LIBS}
            -DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/find_package/version_check.c
            -DOUT=${CMAKE_CURRENT_BINARY_DIR}/pkg_config_version_check
            -P ${CMAKE_CURRENT_SOURCE_DIR}/check_pkg_config.cmake)
else()
  message(WARNING "pkg-config not found: the package_pkg_config test is not registered")
endif()

foreach(name package_install package_layout package_find_package package_pkg_config)
  if(TEST ${name})
    set_tests_properties(${name} PROPERTIES LABELS "check;package" TIMEOUT 300)
  endif()
endforeach()
set_tests_properties(package_layout package_find_package PROPERTIES FIXTURES_REQUIRED actnet_installed)
if(TEST package_pkg_config)
  set_tests_properties(package_pkg_config PROPERTIES FIXTURES_REQUIRED actnet_installed)
endif()

# ---- README.md's example ---------------------------------------------------------------------
add_executable(readme_example readme_example.c)
set_target_properties(readme_example PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(readme_example PRIVATE ${ACTNET_STRICT_WARNINGS})
target_link_libraries(readme_example PRIVATE actnet::actnet)
add_test(NAME readme_example
  COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:readme_example>
          "-DEXPECT_1=process [0-9]+ got tag 1: hello"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/run_and_expect.cmake)
add_test(NAME readme_in_sync
  COMMAND ${CMAKE_COMMAND} -DREADME=${PROJECT_SOURCE_DIR}/README.md
          -DEXAMPLE=${CMAKE_CURRENT_SOURCE_DIR}/readme_example.c
          -P ${CMAKE_CURRENT_SOURCE_DIR}/check_readme_example.cmake)
set_tests_properties(readme_example readme_in_sync PROPERTIES LABELS "check;readme" TIMEOUT 30)

# ---- The demo -------------------------------------------------------------------------------
if(TARGET supervisor_demo)
  add_test(NAME supervisor_demo
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:supervisor_demo>
            "-DEXPECT_1=Watcher got DOWN: pid [0-9]+ ended, reason \"error\", code 42"
            "-DEXPECT_2=Supervisor restarted worker_1: same name, new pid"
            "-DEXPECT_3=Node stopped"
            -P ${CMAKE_CURRENT_SOURCE_DIR}/run_and_expect.cmake)
  set_tests_properties(supervisor_demo PROPERTIES LABELS "check;demo" TIMEOUT 30)
endif()

# ---- Process ids and aliases do not mix -----------------------------------------------------
add_test(NAME header_id_kinds
  COMMAND ${CMAKE_COMMAND} -DCC=${CMAKE_C_COMPILER} -DCXX=${CMAKE_CXX_COMPILER}
          -DINCLUDE=${PROJECT_SOURCE_DIR}/include -DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/header/id_kinds.c
          -P ${CMAKE_CURRENT_SOURCE_DIR}/check_id_kinds.cmake)
set_tests_properties(header_id_kinds PROPERTIES LABELS "check;header" TIMEOUT 60)
