# The pool suites (pool/). All labelled "threaded" (TSan runs them); all but
# the example's also "core", so valgrind runs them too. They link the static
# pool, which brings the static core, so that one core is linked.
if(TARGET deferred_pool_static)
  add_library(dft_pool_support STATIC support/dft_pool.c)
  target_link_libraries(dft_pool_support PUBLIC dft_support deferred_pool_static)
  # dft_pool_queue_empty() and dft_pool_claim_pair() look into the pool's queue
  # (pool/jobqueue.h, whose links are lib/queue.h's).
  target_include_directories(dft_pool_support PRIVATE ${PROJECT_SOURCE_DIR}/pool
                                                      ${PROJECT_SOURCE_DIR}/lib)
  df_warnings(dft_pool_support)

  foreach(suite
      test_pool
      test_pool_concurrency
      test_pool_sizing
      test_pool_priority
      test_pool_cancel
      test_pool_close
      test_pool_wakeup
      test_pool_stress)
    df_add_suite(${suite} SOURCES ${suite}.c LIBS dft_pool_support
                 LABELS threaded core TIMEOUT 180)
    # White-box tests reach the pool's internal header (hooks, lists).
    target_include_directories(${suite} PRIVATE ${PROJECT_SOURCE_DIR}/pool)
  endforeach()

  # The queue's mutex on its own (pool/mutex.c, linked through the static
  # pool).
  df_add_suite(test_pool_mutex SOURCES test_pool_mutex.c
               LIBS deferred_pool_static Threads::Threads
               LABELS threaded core TIMEOUT 180)
  target_include_directories(test_pool_mutex PRIVATE ${PROJECT_SOURCE_DIR}/pool)

  # Allocation failures injected at every site: the counting allocator.
  df_add_suite(test_pool_alloc SOURCES test_pool_alloc.c support/dft_alloc.c
               LIBS dft_pool_support LABELS threaded core TIMEOUT 180)
  target_include_directories(test_pool_alloc PRIVATE ${PROJECT_SOURCE_DIR}/pool)

  # The article's adbapi example, built here from its source so that its
  # test does not depend on DF_BUILD_EXAMPLES; the suite runs it as a child
  # and checks what it prints.
  find_package(SQLite3 QUIET)
  if(SQLite3_FOUND)
    add_executable(test_pool_adbapi_program
                   ${PROJECT_SOURCE_DIR}/examples/adbapi_html.c)
    target_link_libraries(test_pool_adbapi_program PRIVATE deferred_pool_static
                          SQLite::SQLite3)
    df_warnings(test_pool_adbapi_program)
    df_add_suite(test_pool_adbapi SOURCES test_pool_adbapi.c
                 LIBS dft_support LABELS threaded TIMEOUT 60)
    target_compile_definitions(test_pool_adbapi PRIVATE
      ADBAPI_PROGRAM="$<TARGET_FILE:test_pool_adbapi_program>")
    add_dependencies(test_pool_adbapi test_pool_adbapi_program)
  endif()
endif()
