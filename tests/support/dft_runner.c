#include "dft_runner.h"

#include <CUnit/Basic.h>
#include <stdio.h>

int dft_run(const char *suite, CU_TestInfo *tests, CU_InitializeFunc init,
            CU_CleanupFunc cleanup, CU_SetUpFunc setup,
            CU_TearDownFunc teardown) {
  CU_SuiteInfo suites[] = {
      {suite, init, cleanup, setup, teardown, tests},
      CU_SUITE_INFO_NULL,
  };
  if (CU_initialize_registry() != CUE_SUCCESS) {
    fprintf(stderr, "%s: CUnit: %s\n", suite, CU_get_error_msg());
    return 1;
  }
  if (CU_register_suites(suites) != CUE_SUCCESS) {
    fprintf(stderr, "%s: CUnit: %s\n", suite, CU_get_error_msg());
    CU_cleanup_registry();
    return 1;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed =
      CU_get_number_of_failures() + CU_get_number_of_suites_failed();
  unsigned ran = CU_get_number_of_tests_run();
  CU_cleanup_registry();
  if (ran == 0) {
    fprintf(stderr, "%s: no test ran\n", suite);
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
