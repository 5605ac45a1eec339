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
  LIBS df_core_test_support LABELS fuzz TIMEOUT 300)
set_tests_properties(test_fuzz_core PROPERTIES ENVIRONMENT
  "DF_FUZZ_SEEDS=300;DF_FUZZ_SECONDS=${DF_FUZZ_CORE_SECONDS}")
