# Link-time optimisation of the libraries and deferred-bench in optimised
# builds: the pool's hot path crosses files (pool/job.c, lib/deferred.c, the
# allocator) and, in a static link, libraries; inlined across them a pool
# job costs about a tenth fewer instructions. Off for sanitizer, fuzzing and
# Debug builds, where inlining only hides frames.
#
# Static libraries keep their machine code next to the LTO bytecode (GCC's
# fat objects), so a program built without LTO, or by another compiler,
# links them as before; with Clang, whose bitcode archives only Clang links,
# they are left without LTO.
include(CheckIPOSupported)

option(DF_LTO "Link-time optimisation in Release and RelWithDebInfo builds" ON)

set(DF_LTO_ACTIVE OFF)
if(DF_LTO AND DF_SANITIZER STREQUAL "none" AND NOT DF_LIBFUZZER AND
   CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
  check_ipo_supported(RESULT df_ipo_ok OUTPUT df_ipo_why LANGUAGES C)
  if(df_ipo_ok)
    set(DF_LTO_ACTIVE ON)
  else()
    message(STATUS "DF_LTO: link-time optimisation unavailable: ${df_ipo_why}")
  endif()
endif()

# df_lto(target [STATIC]): link-time optimisation for \p target when active.
function(df_lto target)
  if(NOT DF_LTO_ACTIVE)
    return()
  endif()
  if("${ARGN}" STREQUAL "STATIC")
    if(NOT CMAKE_C_COMPILER_ID STREQUAL "GNU")
      return()
    endif()
    target_compile_options(${target} PRIVATE -ffat-lto-objects)
  endif()
  set_property(TARGET ${target} PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)
endfunction()
