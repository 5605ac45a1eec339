/* Debug mode switched on by DF_DEBUG=1 in the environment (CTest sets it for
 * this suite), without any call to df_set_debugging(). */
#include <stdlib.h>
#include <string.h>

#include "dft.h"

static void test_debug_env_turns_debugging_on(void) {
  const char *env = getenv("DF_DEBUG");
  CU_ASSERT_PTR_NOT_NULL_FATAL(env);
  CU_ASSERT_STRING_EQUAL(env, "1");
  CU_ASSERT(df_get_debugging());
}

/* The first two tests do without dft_begin()/dft_end(): dft_end() turns
 * debug mode off, and these must see it on as the environment set it. */
static void test_debug_env_reports_name_creation_and_first_fire(void) {
  long before = dft_alloc_outstanding();
  dft_hooks_install();
  int created = __LINE__ + 1;
  df_deferred *d = df_deferred_new(NULL, NULL);
  int fired = __LINE__ + 1;
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "env"));
  CU_ASSERT_EQUAL(df_callback(d, NULL, NULL), DF_EALREADY);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_already(), 1);
  CU_ASSERT(dft_last_already()->where.has_where);
  CU_ASSERT_EQUAL(dft_last_already()->where.created_line, created);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  const dft_unhandled_report *r = dft_last_unhandled();
  dft_assert_where(&r->where, "test_debug_env.c", created, fired);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static void test_debug_env_can_still_be_turned_off(void) {
  dft_begin();
  df_set_debugging(false);
  CU_ASSERT_FALSE(df_get_debugging());
  df_deferred *d = df_fail_now(df_failure_new(&DFT_RUNTIME_ERROR, 0, "off"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_FALSE(dft_last_unhandled()->where.has_where);
  dft_end();
}

static CU_TestInfo tests[] = {
    {"debug_env_turns_debugging_on", test_debug_env_turns_debugging_on},
    {"debug_env_reports_name_creation_and_first_fire",
     test_debug_env_reports_name_creation_and_first_fire},
    {"debug_env_can_still_be_turned_off",
     test_debug_env_can_still_be_turned_off},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main("debug_env", tests); }
