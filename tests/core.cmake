# The core suites (lib/): chains, firing, cancellation, lists, waiting,
# ownership, debug mode, misuse and allocation failure. All labelled "core"
# so that valgrind runs them.
add_library(df_core_test_support STATIC
  support/dft_alloc.c
  support/dft_capture.c
  support/dft_case.c
  support/dft_steps.c
  support/dft_values.c)
target_link_libraries(df_core_test_support PUBLIC df_test_support)
df_warnings(df_core_test_support)

foreach(suite
    test_error
    test_result
    test_chain
    test_pause
    test_unhandled
    test_fire
    test_maybe
    test_cancel
    test_list
    test_waiting
    test_ownership
    test_article
    test_misuse
    test_alloc)
  df_add_suite(${suite} SOURCES ${suite}.c LIBS df_core_test_support LABELS core)
endforeach()

# Failure references cross threads (atomic counts): TSan runs it too.
df_add_suite(test_failure SOURCES test_failure.c
  LIBS df_core_test_support Threads::Threads LABELS core threaded)

# Deep chains on a thread with a 256 KiB stack (S26, R5.9, R7.9).
df_add_suite(test_stack SOURCES test_stack.c
  LIBS df_core_test_support Threads::Threads LABELS core TIMEOUT 600)

# Debug mode switched on by the environment rather than df_set_debugging().
df_add_suite(test_debug_env SOURCES test_debug_env.c
  LIBS df_core_test_support LABELS core)
set_tests_properties(test_debug_env PROPERTIES ENVIRONMENT DF_DEBUG=1)
