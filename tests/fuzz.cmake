# Fuzzing. The core driver runs a fixed list of seeds (1..DF_FUZZ_SEEDS),
# then the next seeds in order until DF_FUZZ_SECONDS have passed, so that a
# CI run always covers the same seeds and, within its time, more. Longer:
#   DF_FUZZ_SECONDS=3600 ./build/asan/tests/test_fuzz_core
if(DF_SANITIZER STREQUAL "address")
  set(DF_FUZZ_CORE_SECONDS 30)
else()
  set(DF_FUZZ_CORE_SECONDS 10)
endif()
df_add_suite(test_fuzz_core SOURCES test_fuzz_core.c
  LIBS dft_core_support LABELS fuzz TIMEOUT 300)
set_tests_properties(test_fuzz_core PROPERTIES ENVIRONMENT
  "DF_FUZZ_SEEDS=300;DF_FUZZ_SECONDS=${DF_FUZZ_CORE_SECONDS}")

# DNS fuzz targets (tests/fuzz/): server lists, host names given to
# df_resolve(), and c-ares answers from a loopback responder that sends
# arbitrary bytes. Every build runs each one as test_fuzz_<target>: the
# committed corpus (tests/fuzz/corpus/<target>/), then DF_FUZZ_RUNS random
# inputs made from it by a seeded PRNG. With DF_LIBFUZZER (clang), each is
# also built as the libFuzzer program fuzz_<target>; scripts/run-tests.sh
# runs those for a bounded time.
if(TARGET deferred_dns_static)
  find_path(DF_FUZZ_CARES_INCLUDE NAMES ares.h)
  add_library(df_dns_fuzz_support STATIC fuzz/dns_fuzz.c)
  target_include_directories(df_dns_fuzz_support PUBLIC
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz ${PROJECT_SOURCE_DIR}/dns)
  target_include_directories(df_dns_fuzz_support SYSTEM PUBLIC ${DF_FUZZ_CARES_INCLUDE})
  target_link_libraries(df_dns_fuzz_support PUBLIC deferred_dns_static Threads::Threads)
  df_warnings(df_dns_fuzz_support)
  set(DF_FUZZ_DNS_RUNS 20000)
  foreach(target dns_servers dns_names dns_answers)
    add_executable(test_fuzz_${target} fuzz/fuzz_${target}.c fuzz/replay_main.c)
    target_link_libraries(test_fuzz_${target} PRIVATE df_dns_fuzz_support dft_fuzz_driver)
    df_warnings(test_fuzz_${target})
    add_test(NAME test_fuzz_${target}
      COMMAND test_fuzz_${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${target})
    set_tests_properties(test_fuzz_${target} PROPERTIES LABELS "fuzz;dns"
      TIMEOUT 300 ENVIRONMENT "DF_FUZZ_SEED=1;DF_FUZZ_RUNS=${DF_FUZZ_DNS_RUNS}")
    if(DF_LIBFUZZER)
      add_executable(fuzz_${target} fuzz/fuzz_${target}.c)
      target_link_libraries(fuzz_${target} PRIVATE df_dns_fuzz_support)
      target_link_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
      df_warnings(fuzz_${target})
    endif()
  endforeach()
endif()
