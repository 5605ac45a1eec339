# Remote-job examples, on deferred_remote:
#   deferred-worker  a worker process serving sha256, sleep and an SQLite
#                    query, and a --call mode to run one job on the fleet
#                    (built when SQLite is found)
if(TARGET deferred_remote)
  find_package(SQLite3 QUIET)
  if(SQLite3_FOUND)
    add_executable(deferred-worker ${CMAKE_CURRENT_LIST_DIR}/deferred_worker.c
                                   ${CMAKE_CURRENT_LIST_DIR}/worker_jobs.c)
    target_link_libraries(deferred-worker PRIVATE deferred_remote SQLite::SQLite3)
    df_warnings(deferred-worker)
  endif()
endif()
