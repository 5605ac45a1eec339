# The connection examples of the article, on deferred_dns:
#   connecting  startConnecting / cancelClicked; `connecting --demo` plays a
#               cancel in the DNS stage, one in the connect stage, one after
#               the connection was made, and a timeout, all on loopback
#   http-get    the HTTP client whose canceller aborts the connection
#               (tests/test_connect_http.c runs it against a real server)
if(TARGET deferred_dns)
  add_executable(connecting ${CMAKE_CURRENT_LIST_DIR}/connecting.c)
  target_link_libraries(connecting PRIVATE deferred_dns)
  df_warnings(connecting)

  add_executable(http-get ${CMAKE_CURRENT_LIST_DIR}/http_get_main.c
                          ${CMAKE_CURRENT_LIST_DIR}/http_get.c)
  target_include_directories(http-get PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(http-get PRIVATE deferred_dns)
  df_warnings(http-get)

  if(DF_BUILD_TESTS)
    # The demo checks its own outcomes and exits non-zero when one is wrong.
    add_test(NAME example-connecting COMMAND connecting --demo)
    set_tests_properties(example-connecting PROPERTIES
      LABELS "example;dns" TIMEOUT 30)
  endif()
endif()
