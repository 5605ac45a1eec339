# Pool examples, on deferred_pool:
#   adbapi-html  the article's adbapi scenario: a blocking SQLite query runs
#                in the pool, a callback turns its rows into HTML, a wrong
#                query goes down the errback chain (built when SQLite is found)
if(TARGET deferred_pool)
  find_package(SQLite3 QUIET)
  if(SQLite3_FOUND)
    add_executable(adbapi-html ${CMAKE_CURRENT_LIST_DIR}/adbapi_html.c)
    target_link_libraries(adbapi-html PRIVATE deferred_pool SQLite::SQLite3)
    df_warnings(adbapi-html)
    if(DF_BUILD_TESTS)
      # It checks its own outcome (one page, one error) and exits non-zero
      # when it is wrong; tests/test_pool_adbapi.c checks the output itself.
      add_test(NAME example-adbapi-html COMMAND adbapi-html)
      set_tests_properties(example-adbapi-html PROPERTIES
        LABELS "example;pool" TIMEOUT 30)
    endif()
  endif()
endif()
