# Installs the library (SONAME libactnet.so.MAJOR, libactnet.so.0.MINOR before 1.0), the header, a CMake package config
# (find_package(actnet) gives actnet::actnet and actnet::actnet_static) and actnet.pc.
#
# Installed layout, for version X.Y.Z:
#   lib/libactnet.so.X.Y.Z                  the shared library (SONAME libactnet.so.X, or .0.Y before 1.0)
#   lib/libactnet.so.X -> libactnet.so.X.Y.Z  what executables load
#   lib/libactnet.so   -> libactnet.so.X      what the linker finds with -lactnet
#   lib/libactnet.a, include/actnet.h, lib/cmake/actnet/, lib/pkgconfig/actnet.pc
# tests/checks.cmake installs into a prefix in the build tree and checks all of this.

include(CMakePackageConfigHelpers)

set(ACTNET_REAL_NAME "libactnet.so.${PROJECT_VERSION}")

# The shared library and its two symlinks, staged in the build tree so that they are
# installed (and listed in install_manifest.txt) like any other file; file(INSTALL) copies
# symlinks as symlinks.
set(ACTNET_STAGE_DIR "${CMAKE_BINARY_DIR}/install-stage")
add_custom_command(
  OUTPUT "${ACTNET_STAGE_DIR}/${ACTNET_REAL_NAME}"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${ACTNET_STAGE_DIR}"
  COMMAND ${CMAKE_COMMAND} -E copy "${ACTNET_SHARED_LIB}" "${ACTNET_STAGE_DIR}/${ACTNET_REAL_NAME}"
  COMMAND ${CMAKE_COMMAND} -E create_symlink ${ACTNET_REAL_NAME} "${ACTNET_STAGE_DIR}/${ACTNET_SONAME}"
  COMMAND ${CMAKE_COMMAND} -E create_symlink ${ACTNET_SONAME} "${ACTNET_STAGE_DIR}/libactnet.so"
  DEPENDS "${ACTNET_SHARED_LIB}"
  COMMENT "Staging ${ACTNET_REAL_NAME} and its symlinks for install")
add_custom_target(actnet_install_stage ALL DEPENDS "${ACTNET_STAGE_DIR}/${ACTNET_REAL_NAME}")
add_dependencies(actnet_install_stage actnet_cargo)
install(FILES
    "${ACTNET_STAGE_DIR}/${ACTNET_REAL_NAME}"
    "${ACTNET_STAGE_DIR}/${ACTNET_SONAME}"
    "${ACTNET_STAGE_DIR}/libactnet.so"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES "${ACTNET_STATIC_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES "${ACTNET_INCLUDE_DIR}/actnet.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

# CMake package: relocatable (paths relative to the installed config file).
set(ACTNET_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/actnet")
configure_package_config_file(cmake/actnetConfig.cmake.in
  "${CMAKE_BINARY_DIR}/actnetConfig.cmake"
  INSTALL_DESTINATION "${ACTNET_CMAKE_DIR}"
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
# Compatible releases are those with the same SONAME (cmake/Cargo.cmake): the same major
# version from 1.0, the same minor before.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(ACTNET_PACKAGE_COMPATIBILITY SameMinorVersion)
else()
  set(ACTNET_PACKAGE_COMPATIBILITY SameMajorVersion)
endif()
write_basic_package_version_file("${CMAKE_BINARY_DIR}/actnetConfigVersion.cmake"
  COMPATIBILITY ${ACTNET_PACKAGE_COMPATIBILITY})
install(FILES "${CMAKE_BINARY_DIR}/actnetConfig.cmake" "${CMAKE_BINARY_DIR}/actnetConfigVersion.cmake"
  DESTINATION "${ACTNET_CMAKE_DIR}")

# pkg-config file: written at install time, so that its prefix is the one installed into
# (cmake --install --prefix ... may differ from the configured CMAKE_INSTALL_PREFIX).
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(ACTNET_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(ACTNET_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
set(ACTNET_PC_FILE "${CMAKE_BINARY_DIR}/pkgconfig/actnet.pc")
install(CODE "
  set(ACTNET_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(ACTNET_PC_LIBDIR [[${ACTNET_PC_LIBDIR}]])
  set(ACTNET_PC_INCLUDEDIR [[${ACTNET_PC_INCLUDEDIR}]])
  set(PROJECT_VERSION ${PROJECT_VERSION})
  configure_file([[${PROJECT_SOURCE_DIR}/cmake/actnet.pc.in]] [[${ACTNET_PC_FILE}]] @ONLY)
")
install(FILES "${ACTNET_PC_FILE}" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
