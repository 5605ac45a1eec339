/* Error codes and the allocator hook (deferred/error.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dft.h"

static void test_every_code_has_a_name_and_a_sentence(void) {
#define CHECK_CODE(name, value, msg)                                           \
  CU_ASSERT_EQUAL(DF_##name, value);                                           \
  CU_ASSERT_STRING_EQUAL(df_strerror(DF_##name), msg);                         \
  CU_ASSERT_STRING_EQUAL(df_err_name(DF_##name), "DF_" #name);
  DF_ERRNO_MAP(CHECK_CODE)
#undef CHECK_CODE
  CU_ASSERT_STRING_EQUAL(df_err_name(DF_OK), "DF_OK");
}

static void test_codes_are_negative_errno_values(void) {
  CU_ASSERT_EQUAL(DF_EINVAL, -EINVAL);
  CU_ASSERT_EQUAL(DF_ENOMEM, -ENOMEM);
  CU_ASSERT_EQUAL(DF_EALREADY, -EALREADY);
  CU_ASSERT_EQUAL(DF_EBUSY, -EBUSY);
  CU_ASSERT_EQUAL(DF_EAGAIN, -EAGAIN);
}

static void test_other_negative_errno_falls_back_to_libc_text(void) {
  char expected[256];
  snprintf(expected, sizeof expected, "%s", strerror(ENOENT));
  CU_ASSERT_STRING_EQUAL(df_strerror(-ENOENT), expected);
  CU_ASSERT_STRING_EQUAL(df_err_name(-ENOENT), "unknown");
}

static void test_positive_code_is_unknown(void) {
  CU_ASSERT_PTR_NOT_NULL(df_strerror(1));
  CU_ASSERT_STRING_EQUAL(df_strerror(1), "unknown error");
  CU_ASSERT_STRING_EQUAL(df_err_name(1), "unknown");
  CU_ASSERT_PTR_NOT_NULL(df_strerror(0));
}

static void *never_malloc(size_t n) {
  (void)n;
  return NULL;
}

static void test_replace_allocator_with_some_null_is_einval(void) {
  CU_ASSERT_EQUAL(df_replace_allocator(never_malloc, NULL, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_replace_allocator(NULL, NULL, free), DF_EINVAL);
  /* Nothing changed: the counting allocator still serves the library. */
  long before = dft_alloc_outstanding();
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_NOT_NULL(d);
  CU_ASSERT(dft_alloc_outstanding() > before);
  df_unref(d);
}

static void test_replaced_allocator_serves_every_allocation(void) {
  long before = dft_alloc_outstanding();
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 0, "x");
  CU_ASSERT(dft_alloc_outstanding() > before);
  df_failure_unref(f);
  df_callback(d, NULL, NULL);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static CU_TestInfo tests[] = {
    {"every_code_has_a_name_and_a_sentence",
     test_every_code_has_a_name_and_a_sentence},
    {"codes_are_negative_errno_values", test_codes_are_negative_errno_values},
    {"other_negative_errno_falls_back_to_libc_text",
     test_other_negative_errno_falls_back_to_libc_text},
    {"positive_code_is_unknown", test_positive_code_is_unknown},
    {"replace_allocator_with_some_null_is_einval",
     test_replace_allocator_with_some_null_is_einval},
    {"replaced_allocator_serves_every_allocation",
     test_replaced_allocator_serves_every_allocation},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("error", tests); }
