# Installs the library (SONAME libactnet.so.MAJOR), the header, a CMake package config
# (find_package(actnet) gives actnet::actnet and actnet::actnet_static) and actnet.pc.

include(CMakePackageConfigHelpers)

set(ACTNET_REAL_NAME "libactnet.so.${PROJECT_VERSION}")
install(FILES "${ACTNET_SHARED_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}" RENAME "${ACTNET_REAL_NAME}")
install(CODE "
  set(libdir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
  execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink ${ACTNET_REAL_NAME} \"\${libdir}/${ACTNET_SONAME}\")
  execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink ${ACTNET_SONAME} \"\${libdir}/libactnet.so\")
")
install(FILES "${ACTNET_STATIC_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES "${ACTNET_INCLUDE_DIR}/actnet.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

set(ACTNET_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/actnet")
configure_package_config_file(cmake/actnetConfig.cmake.in
  "${CMAKE_BINARY_DIR}/actnetConfig.cmake"
  INSTALL_DESTINATION "${ACTNET_CMAKE_DIR}"
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file("${CMAKE_BINARY_DIR}/actnetConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES "${CMAKE_BINARY_DIR}/actnetConfig.cmake" "${CMAKE_BINARY_DIR}/actnetConfigVersion.cmake"
  DESTINATION "${ACTNET_CMAKE_DIR}")

configure_file(cmake/actnet.pc.in "${CMAKE_BINARY_DIR}/actnet.pc" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/actnet.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
