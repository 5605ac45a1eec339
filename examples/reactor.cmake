# Reactor examples, on the core library alone:
#   get-dummy-data  the article's getDummyData program (callLater(2, ...),
#                   callLater(4, stop), real time: it takes 4 seconds)
#   reactor-poll    the reactor driven from a plain poll() loop
#   reactor-libuv   the reactor driven from a libuv loop (built when
#                   pkg-config finds libuv)
add_executable(get-dummy-data ${CMAKE_CURRENT_LIST_DIR}/get_dummy_data.c)
target_link_libraries(get-dummy-data PRIVATE deferred)
df_warnings(get-dummy-data)

add_executable(reactor-poll ${CMAKE_CURRENT_LIST_DIR}/reactor_poll.c)
target_link_libraries(reactor-poll PRIVATE deferred Threads::Threads)
df_warnings(reactor-poll)

# Each example checks its own outcome and exits non-zero when it is wrong.
set(DF_EXAMPLE_TESTS get-dummy-data reactor-poll)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(LIBUV QUIET IMPORTED_TARGET libuv)
endif()
if(LIBUV_FOUND)
  add_executable(reactor-libuv ${CMAKE_CURRENT_LIST_DIR}/reactor_libuv.c)
  target_link_libraries(reactor-libuv PRIVATE deferred PkgConfig::LIBUV)
  df_warnings(reactor-libuv)
  list(APPEND DF_EXAMPLE_TESTS reactor-libuv)
endif()

if(DF_BUILD_TESTS)
  foreach(example ${DF_EXAMPLE_TESTS})
    add_test(NAME example-${example} COMMAND ${example})
    set_tests_properties(example-${example} PROPERTIES
      LABELS "example;reactor" TIMEOUT 30)
  endforeach()
endif()
