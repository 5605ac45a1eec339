# The reactor suites (lib/reactor*.c, wakeup.c, timeout.c). They use the core
# suites' frame (counting allocator, captured reports) and the reactor
# fixture. "core" and "valgrind": valgrind runs them; "threaded": TSan
# runs them.
add_library(dft_reactor_support STATIC support/dft_reactor.c)
target_link_libraries(dft_reactor_support PUBLIC dft_core_support)
df_warnings(dft_reactor_support)

foreach(suite test_reactor test_timers test_timeout)
  df_add_suite(${suite} SOURCES ${suite}.c
               LIBS dft_reactor_support Threads::Threads
               LABELS core reactor)
endforeach()

df_add_suite(test_wakeup SOURCES test_wakeup.c
             LIBS dft_reactor_support Threads::Threads
             LABELS threaded reactor valgrind TIMEOUT 300)
