# DNS and connect suites: a real dnsmasq on 127.0.0.1 (started by each
# suite), misbehaving DNS servers and loopback TCP targets. "valgrind":
# memcheck runs them too (no lookup may leak, cancelled or not).
if(TARGET deferred_dns_static)
  add_library(df_dns_test_support STATIC
    support/dnsmasq.c
    support/dns_servers.c
    support/dns_fixture.c
    support/loopback.c
    support/http_server.c
    ${PROJECT_SOURCE_DIR}/examples/http_get.c)
  target_include_directories(df_dns_test_support PUBLIC
    ${CMAKE_CURRENT_SOURCE_DIR}/support ${PROJECT_SOURCE_DIR}/examples)
  # df_core_test_support: the counting allocator, for out-of-memory tests.
  target_link_libraries(df_dns_test_support PUBLIC df_test_support
                        df_core_test_support deferred_dns_static)
  df_warnings(df_dns_test_support)

  foreach(suite
      test_dns_resolve
      test_dns_cancel
      test_dns_memory
      test_connect
      test_connect_cancel
      test_connect_http)
    df_add_suite(${suite} SOURCES ${suite}.c LIBS df_dns_test_support
                 LABELS dns valgrind TIMEOUT 120)
  endforeach()
endif()
