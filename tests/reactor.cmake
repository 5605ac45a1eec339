# The reactor suites (lib/reactor*.c, wakeup.c, timeout.c). They use the core
# suites' frame (counting allocator, captured reports) and the reactor
# fixture. "core" and "valgrind": valgrind runs them; "threaded": TSan
# runs them.
add_library(df_reactor_test_support STATIC support/reactor_fixture.c)
target_link_libraries(df_reactor_test_support PUBLIC df_core_test_support)
df_warnings(df_reactor_test_support)

foreach(suite test_reactor test_timers test_timeout)
  df_add_suite(${suite} SOURCES ${suite}.c
               LIBS df_reactor_test_support Threads::Threads
               LABELS core reactor)
endforeach()

df_add_suite(test_wakeup SOURCES test_wakeup.c
             LIBS df_reactor_test_support Threads::Threads
             LABELS threaded reactor valgrind TIMEOUT 300)
