# Installs headers, libraries, a CMake package (find_package(deferred)) and
# deferred.pc.
include(CMakePackageConfigHelpers)

set(DF_INSTALL_TARGETS deferred deferred_static)
set(DF_PC_LIBS "-ldeferred")
set(DF_PC_PRIVATE "")
if(TARGET deferred_pool)
  list(APPEND DF_INSTALL_TARGETS deferred_pool deferred_pool_static)
  set(DF_PC_LIBS "-ldeferred_pool ${DF_PC_LIBS}") # static links: users first
  string(APPEND DF_PC_PRIVATE " -pthread")
endif()
if(TARGET deferred_dns)
  list(APPEND DF_INSTALL_TARGETS deferred_dns deferred_dns_static)
  set(DF_PC_LIBS "-ldeferred_dns ${DF_PC_LIBS}")
  set(DF_PC_REQUIRES_PRIVATE "libcares")
endif()
if(TARGET deferred_remote)
  list(APPEND DF_INSTALL_TARGETS deferred_remote deferred_remote_static)
  set(DF_PC_LIBS "-ldeferred_remote ${DF_PC_LIBS}")
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
# With link-time optimisation the static libraries carry GCC's bytecode
# beside their machine code (DeferredLto.cmake). Bytecode links only with the
# GCC that wrote it, so the installed copies keep the machine code alone, as
# Debian's dh_strip does with static libraries.
if(DF_LTO_ACTIVE AND CMAKE_OBJCOPY)
  foreach(target IN LISTS DF_INSTALL_TARGETS)
    if(target MATCHES "_static$")
      install(CODE "
        set(lib \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/$<TARGET_FILE_NAME:${target}>\")
        execute_process(COMMAND \"${CMAKE_OBJCOPY}\" -w -R .gnu.lto_* -R .gnu.debuglto_*
                                -N __gnu_lto_v1 -N __gnu_lto_slim \"\${lib}\"
                        RESULT_VARIABLE rc)
        if(NOT rc EQUAL 0)
          message(FATAL_ERROR \"could not drop the LTO bytecode of \${lib}\")
        endif()")
    endif()
  endforeach()
endif()

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
