# Reliability: every allocation site of representative programs failed in
# turn (plain and ASan/LSan phases of CI).
if(TARGET deferred_dns_static AND TARGET deferred_pool_static)
  # Each program runs in forked children, once per allocation it makes.
  df_add_suite(test_alloc_every_site SOURCES test_alloc_every_site.c
    LIBS dft_dns_support deferred_pool_static Threads::Threads
    LABELS reliability TIMEOUT 900)
endif()

