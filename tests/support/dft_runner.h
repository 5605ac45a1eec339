/* The CUnit runner every suite's main() calls. */
#ifndef DFT_RUNNER_H
#define DFT_RUNNER_H

#include <CUnit/CUnit.h>

/* Registers one suite with \p tests (a CU_TEST_INFO_NULL-terminated table),
 * runs it verbosely and returns the process exit status: 0 when every test
 * passed, 1 otherwise (or when CUnit itself failed).
 * \p init and \p cleanup run once, around the suite; \p setup and
 * \p teardown (CUnit's per-test frame) around every test: teardown runs
 * even after a fatal assertion ended the test, and what it asserts counts
 * against that test, so it must not use the _FATAL assertions. Any of them
 * may be NULL. */
int dft_run(const char *suite, CU_TestInfo *tests, CU_InitializeFunc init,
            CU_CleanupFunc cleanup, CU_SetUpFunc setup,
            CU_TearDownFunc teardown);

#endif
