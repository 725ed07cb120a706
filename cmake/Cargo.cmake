# Builds the Rust library with cargo and exposes it as imported targets.

find_program(CARGO cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)

if(CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
  set(ACTNET_CARGO_PROFILE release)
  set(ACTNET_CARGO_FLAGS --release)
else()
  set(ACTNET_CARGO_PROFILE debug)
  set(ACTNET_CARGO_FLAGS "")
endif()

set(ACTNET_CARGO_TARGET_DIR "${CMAKE_BINARY_DIR}/cargo")
set(ACTNET_LIB_DIR "${ACTNET_CARGO_TARGET_DIR}/${ACTNET_CARGO_PROFILE}")
set(ACTNET_SHARED_LIB "${ACTNET_LIB_DIR}/libactnet.so")
set(ACTNET_STATIC_LIB "${ACTNET_LIB_DIR}/libactnet.a")
# The SONAME names the ABI: from 1.0 the major version alone; before 1.0 a minor release may
# break the ABI (CHANGELOG.md), so the SONAME carries major.minor. build.rs applies the same rule.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(ACTNET_SOVERSION "0.${PROJECT_VERSION_MINOR}")
else()
  set(ACTNET_SOVERSION "${PROJECT_VERSION_MAJOR}")
endif()
set(ACTNET_SONAME "libactnet.so.${ACTNET_SOVERSION}")
set(ACTNET_INCLUDE_DIR "${PROJECT_SOURCE_DIR}/include")

file(GLOB_RECURSE ACTNET_RUST_SOURCES CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/*")
add_custom_command(
  OUTPUT "${ACTNET_SHARED_LIB}" "${ACTNET_STATIC_LIB}" "${ACTNET_LIB_DIR}/${ACTNET_SONAME}"
  COMMAND ${CMAKE_COMMAND} -E env CARGO_TARGET_DIR=${ACTNET_CARGO_TARGET_DIR}
          ${CARGO} build --lib --locked ${ACTNET_CARGO_FLAGS}
          --manifest-path ${PROJECT_SOURCE_DIR}/Cargo.toml
  # Executables record the SONAME; give the build tree a file by that name.
  COMMAND ${CMAKE_COMMAND} -E create_symlink libactnet.so "${ACTNET_LIB_DIR}/${ACTNET_SONAME}"
  DEPENDS ${ACTNET_RUST_SOURCES}
          "${PROJECT_SOURCE_DIR}/Cargo.toml" "${PROJECT_SOURCE_DIR}/Cargo.lock"
          "${PROJECT_SOURCE_DIR}/build.rs" "${PROJECT_SOURCE_DIR}/cbindgen.toml"
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  COMMENT "cargo build ${ACTNET_CARGO_FLAGS} (libactnet)"
  USES_TERMINAL)
add_custom_target(actnet_cargo ALL DEPENDS "${ACTNET_SHARED_LIB}" "${ACTNET_STATIC_LIB}")

find_package(Threads REQUIRED)

add_library(actnet SHARED IMPORTED GLOBAL)
set_target_properties(actnet PROPERTIES
  IMPORTED_LOCATION "${ACTNET_SHARED_LIB}"
  IMPORTED_SONAME "${ACTNET_SONAME}"
  INTERFACE_INCLUDE_DIRECTORIES "${ACTNET_INCLUDE_DIR}")
add_dependencies(actnet actnet_cargo)
add_library(actnet::actnet ALIAS actnet)

add_library(actnet_static STATIC IMPORTED GLOBAL)
set_target_properties(actnet_static PROPERTIES
  IMPORTED_LOCATION "${ACTNET_STATIC_LIB}"
  INTERFACE_INCLUDE_DIRECTORIES "${ACTNET_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m")
add_dependencies(actnet_static actnet_cargo)
add_library(actnet::actnet_static ALIAS actnet_static)

# Imported targets are SYSTEM by default: their include directory would be passed as -isystem,
# hiding every warning in actnet.h from the examples and tests that are meant to catch them.
set_target_properties(actnet actnet_static PROPERTIES SYSTEM OFF)
