# DNS and connect suites: a real dnsmasq on 127.0.0.1 (started by each
# suite), misbehaving DNS servers and loopback TCP targets. "valgrind":
# memcheck runs them too (no lookup may leak, cancelled or not).
if(TARGET deferred_dns_static)
  add_library(dft_dns_support STATIC
    support/dft_dnsmasq.c
    support/dft_dns_servers.c
    support/dft_dns.c
    support/dft_loopback.c
    support/dft_http_server.c
    ${PROJECT_SOURCE_DIR}/examples/http_get.c)
  target_include_directories(dft_dns_support PUBLIC
    ${CMAKE_CURRENT_SOURCE_DIR}/support ${PROJECT_SOURCE_DIR}/examples)
  # dft_core_support: the counting allocator, for out-of-memory tests;
  # dft_reactor_support: dft_reactor_new().
  target_link_libraries(dft_dns_support PUBLIC dft_support
                        dft_reactor_support deferred_dns_static)
  df_warnings(dft_dns_support)

  foreach(suite
      test_dns_resolve
      test_dns_cancel
      test_dns_memory
      test_connect
      test_connect_cancel
      test_connect_http)
    df_add_suite(${suite} SOURCES ${suite}.c LIBS dft_dns_support
                 LABELS dns valgrind TIMEOUT 120)
  endforeach()
endif()
