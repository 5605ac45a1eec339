# The reactor suites (lib/reactor*.c, wakeup.c, timeout.c). They use the core
# suites' frame (counting allocator, captured reports). "core": valgrind runs
# them; "threaded": TSan runs them.
foreach(suite test_reactor test_timers test_timeout)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${suite}.c)
    df_add_suite(${suite} SOURCES ${suite}.c LIBS df_core_test_support Threads::Threads
                 LABELS core reactor)
  endif()
endforeach()

if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/test_wakeup.c)
  df_add_suite(test_wakeup SOURCES test_wakeup.c
               LIBS df_core_test_support Threads::Threads
               LABELS threaded reactor TIMEOUT 300)
endif()
