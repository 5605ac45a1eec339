# Remote-job suites: a real nats-server -js on 127.0.0.1 (started by each
# suite with a temporary store), workers in the test process and in worker
# processes (remote_test_worker). "threaded": TSan runs them (the library
# has threads of its own and the NATS client's).
if(TARGET deferred_remote_static)
  add_executable(remote_test_worker support/remote_worker_main.c support/remote_jobs.c)
  target_link_libraries(remote_test_worker PRIVATE deferred_remote_static)
  df_warnings(remote_test_worker)

  add_library(df_remote_test_support STATIC
    support/nats_server.c
    support/remote_fixture.c
    support/remote_jobs.c)
  target_include_directories(df_remote_test_support PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(df_remote_test_support PUBLIC df_test_support deferred_remote_static)
  target_compile_definitions(df_remote_test_support PRIVATE
    REMOTE_TEST_WORKER="$<TARGET_FILE:remote_test_worker>")
  add_dependencies(df_remote_test_support remote_test_worker)
  df_warnings(df_remote_test_support)

  file(GLOB DF_REMOTE_SUITES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_remote*.c)
  foreach(source ${DF_REMOTE_SUITES})
    get_filename_component(suite ${source} NAME_WE)
    df_add_suite(${suite} SOURCES ${source} LIBS df_remote_test_support
                 LABELS remote threaded TIMEOUT 120)
  endforeach()
endif()
