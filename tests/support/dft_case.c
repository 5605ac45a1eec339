/* The frame of every core test: baselines at the start, a leak and report
 * check at the end. */
#include "dft.h"
#include "dft_private.h"
#include "dft_runner.h"

/* Baselines, so that one leaking test does not fail every later one. */
static long alloc_base, str_base, shared_base, arg_base;

static int suite_init(void) { return dft_alloc_install() == 0 ? 0 : -1; }

static int suite_cleanup(void) {
  df_set_unhandled_hook(NULL, NULL);
  df_set_already_called_hook(NULL, NULL);
  dft_alloc_uninstall();
  return 0;
}

int dft_main(const char *suite, CU_TestInfo *tests) {
  return dft_run(suite, tests, suite_init, suite_cleanup, NULL, NULL);
}

int dft_main_framed(const char *suite, CU_TestInfo *tests) {
  return dft_run(suite, tests, suite_init, suite_cleanup, dft_begin, dft_end);
}

void dft_begin(void) {
  dft_alloc_fail_none();
  dft_capture_reset();
  dft_values_rebase();
  dft_hooks_install();
  alloc_base = dft_alloc_outstanding();
  str_base = dft_str_live();
  shared_base = dft_shared_live();
  arg_base = dft_arg_live();
}

void dft_end(void) {
  dft_alloc_fail_none();
  CU_ASSERT_EQUAL(dft_str_live(), str_base);
  CU_ASSERT_EQUAL(dft_shared_live(), shared_base);
  CU_ASSERT_EQUAL(dft_arg_live(), arg_base);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), alloc_base);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  CU_ASSERT_EQUAL(dft_take_already(), 0);
  df_set_debugging(false);
  dft_hooks_install();
}
