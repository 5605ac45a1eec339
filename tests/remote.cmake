# Remote-job suites: a real nats-server -js on 127.0.0.1 (started by each
# suite with a temporary store), workers in the test process and in worker
# processes (remote_test_worker). "threaded": TSan runs them (the library
# has threads of its own and the NATS client's).
if(TARGET deferred_remote_static)
  add_executable(remote_test_worker support/dft_remote_worker_main.c support/dft_remote_jobs.c)
  target_link_libraries(remote_test_worker PRIVATE deferred_remote_static)
  df_warnings(remote_test_worker)

  add_library(dft_remote_support STATIC
    support/dft_nats_server.c
    support/dft_remote.c
    support/dft_remote_alloc.c
    support/dft_remote_jobs.c)
  target_include_directories(dft_remote_support PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(dft_remote_support PUBLIC dft_support deferred_remote_static)
  target_compile_definitions(dft_remote_support PRIVATE
    DFT_REMOTE_WORKER="$<TARGET_FILE:remote_test_worker>")
  add_dependencies(dft_remote_support remote_test_worker)
  df_warnings(dft_remote_support)

  # The call suite runs its worker in the test process: valgrind checks it
  # too (about 15 s). The guarantee suite's timing rests on worker
  # processes and in-progress marks, so it stays out of valgrind.
  foreach(suite test_remote_call test_remote_guarantees)
    set(labels remote threaded)
    if(suite STREQUAL "test_remote_call")
      list(APPEND labels valgrind)
    endif()
    df_add_suite(${suite} SOURCES ${suite}.c LIBS dft_remote_support
                 LABELS ${labels} TIMEOUT 120)
  endforeach()

  # Out of memory in the library's threads: allocations fail by thread
  # (support/dft_remote_alloc.c), so no result may be lost.
  df_add_suite(test_remote_alloc SOURCES test_remote_alloc.c
               LIBS dft_remote_support LABELS remote threaded TIMEOUT 120)

  # The deferred-worker example's job functions, built here from their
  # source so that the suite does not depend on DF_BUILD_EXAMPLES.
  find_package(SQLite3 QUIET)
  if(SQLite3_FOUND)
    df_add_suite(test_remote_example
                 SOURCES test_remote_example.c ${PROJECT_SOURCE_DIR}/examples/worker_jobs.c
                 LIBS dft_remote_support SQLite::SQLite3
                 LABELS remote threaded valgrind TIMEOUT 120)
    target_include_directories(test_remote_example PRIVATE ${PROJECT_SOURCE_DIR}/examples)
  endif()
endif()
