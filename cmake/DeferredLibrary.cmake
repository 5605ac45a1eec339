# df_add_library(name SOURCES ... [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# Builds <name> (shared, with a SONAME) and <name>_static (static, same output
# name), both exporting only DF_EXTERN symbols, with deferred::<name> and
# deferred::<name>_static aliases.
function(df_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  foreach(kind SHARED STATIC)
    if(kind STREQUAL "SHARED")
      set(target ${name})
    else()
      set(target ${name}_static)
    endif()
    add_library(${target} ${kind} ${ARG_SOURCES})
    add_library(deferred::${target} ALIAS ${target})
    target_include_directories(${target}
      PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
             $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
      PRIVATE ${PROJECT_SOURCE_DIR}/lib)
    target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_PRIVATE_LIBS})
    df_warnings(${target})
    df_lto(${target} ${kind})
    # Before 1.0 every minor version may break the ABI (0.2 renamed calls
    # and changed how they report errors), so the SONAME carries it:
    # libdeferred.so.0.2.
    set_target_properties(${target} PROPERTIES
      OUTPUT_NAME ${name}
      VERSION ${PROJECT_VERSION}
      SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  endforeach()
endfunction()
