# Reliability: every allocation site failed in turn, and the fuzzers (a
# seeded random-operation driver of the core; coverage-guided targets of the
# DNS layer's parsers, replayed from their corpus by every build).
if(TARGET deferred_dns_static AND TARGET deferred_pool_static)
  # Each program runs in forked children, once per allocation it makes.
  df_add_suite(test_alloc_every_site SOURCES test_alloc_every_site.c
    LIBS df_dns_test_support deferred_pool_static Threads::Threads
    LABELS reliability TIMEOUT 900)
endif()
