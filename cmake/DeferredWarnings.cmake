# The warning list, after c-ares' EnableWarnings.cmake, probed so that an
# older compiler silently skips what it does not know.
include(CheckCCompilerFlag)

set(DF_WARNING_FLAGS "")
foreach(flag
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wmissing-declarations -Wcast-align -Wvla -Wundef -Wwrite-strings
    -Wpointer-arith -Wformat=2 -Werror=implicit-function-declaration)
  string(MAKE_C_IDENTIFIER "DF_HAS${flag}" var)
  check_c_compiler_flag("${flag}" ${var})
  if(${var})
    list(APPEND DF_WARNING_FLAGS "${flag}")
  endif()
endforeach()
if(DF_WERROR)
  list(APPEND DF_WARNING_FLAGS -Werror)
endif()

# df_warnings(target): PRIVATE warnings for code of this project.
function(df_warnings target)
  target_compile_options(${target} PRIVATE ${DF_WARNING_FLAGS})
endfunction()
