# The core suites (lib/): chains, firing, cancellation, lists, waiting,
# ownership, debug mode, misuse and allocation failure. All labelled "core"
# so that valgrind runs them.
add_library(dft_core_support STATIC
  support/dft_alloc.c
  support/dft_capture.c
  support/dft_case.c
  support/dft_steps.c
  support/dft_values.c)
target_link_libraries(dft_core_support PUBLIC dft_support)
df_warnings(dft_core_support)

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
  df_add_suite(${suite} SOURCES ${suite}.c LIBS dft_core_support LABELS core)
endforeach()

# Failure references cross threads (atomic counts): TSan runs it too.
df_add_suite(test_failure SOURCES test_failure.c
  LIBS dft_core_support Threads::Threads LABELS core threaded)

# Deep chains on a thread with a 256 KiB stack (S26, R5.9, R7.9).
df_add_suite(test_stack SOURCES test_stack.c
  LIBS dft_core_support Threads::Threads LABELS core TIMEOUT 600)

# Debug mode switched on by the environment rather than df_set_debugging().
df_add_suite(test_debug_env SOURCES test_debug_env.c
  LIBS dft_core_support LABELS core)
set_tests_properties(test_debug_env PROPERTIES ENVIRONMENT DF_DEBUG=1)

# docs/semantics.md defines every rule id a test name or a comment cites
# (S, R and C ids); the second test makes sure the check can fail.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
set(DF_RULE_ID_DIRS tests lib include pool dns remote bench examples)
set(df_rule_id_paths)
foreach(dir IN LISTS DF_RULE_ID_DIRS)
  list(APPEND df_rule_id_paths ${PROJECT_SOURCE_DIR}/${dir})
endforeach()
add_test(NAME rule_ids_are_defined
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_rule_ids.py
    ${PROJECT_SOURCE_DIR}/docs/semantics.md ${df_rule_id_paths})
# The fixture cites a rule number no document defines (spelled in pieces here
# so that this file does not cite it).
set(df_undefined_rule 99)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/rule_ids_fixture.c
  "/* Cites R${df_undefined_rule}.1. */\nstatic void test_s26_r${df_undefined_rule}_1_x(void) {}\n")
add_test(NAME rule_ids_check_reports_an_undefined_id
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_rule_ids.py
    ${PROJECT_SOURCE_DIR}/docs/semantics.md
    ${CMAKE_CURRENT_BINARY_DIR}/rule_ids_fixture.c)
set_tests_properties(rule_ids_are_defined rule_ids_check_reports_an_undefined_id
  PROPERTIES LABELS "core;docs" TIMEOUT 60)
set_tests_properties(rule_ids_check_reports_an_undefined_id PROPERTIES
  WILL_FAIL TRUE)
