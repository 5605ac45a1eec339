# Installs headers, libraries, a CMake package (find_package(deferred)) and
# deferred.pc.
include(CMakePackageConfigHelpers)

set(DF_INSTALL_TARGETS deferred deferred_static)
set(DF_PC_LIBS "-ldeferred")
set(DF_PC_PRIVATE "")
if(TARGET deferred_pool)
  list(APPEND DF_INSTALL_TARGETS deferred_pool deferred_pool_static)
  string(APPEND DF_PC_LIBS " -ldeferred_pool")
  string(APPEND DF_PC_PRIVATE " -pthread")
endif()
if(TARGET deferred_dns)
  list(APPEND DF_INSTALL_TARGETS deferred_dns deferred_dns_static)
  string(APPEND DF_PC_LIBS " -ldeferred_dns")
  set(DF_PC_REQUIRES_PRIVATE "libcares")
endif()
if(TARGET deferred_remote)
  list(APPEND DF_INSTALL_TARGETS deferred_remote deferred_remote_static)
  string(APPEND DF_PC_LIBS " -ldeferred_remote")
  if(DF_PC_REQUIRES_PRIVATE)
    string(APPEND DF_PC_REQUIRES_PRIVATE ", libnats")
  else()
    set(DF_PC_REQUIRES_PRIVATE "libnats")
  endif()
endif()

install(TARGETS ${DF_INSTALL_TARGETS}
  EXPORT deferredTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

set(DF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/deferred)
install(EXPORT deferredTargets NAMESPACE deferred:: DESTINATION ${DF_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/deferredConfig.cmake.in
  ${PROJECT_BINARY_DIR}/deferredConfig.cmake INSTALL_DESTINATION ${DF_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/deferredConfigVersion.cmake
  COMPATIBILITY SameMinorVersion) # 0.x: a minor version may break the API
install(FILES ${PROJECT_BINARY_DIR}/deferredConfig.cmake
              ${PROJECT_BINARY_DIR}/deferredConfigVersion.cmake
        DESTINATION ${DF_CMAKE_DIR})

# deferred.pc finds the prefix relative to its own folder.
file(RELATIVE_PATH DF_PC_UP "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/deferred.pc.in ${PROJECT_BINARY_DIR}/deferred.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/deferred.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
