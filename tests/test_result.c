/* df_result: values, failures and Deferreds with their owner; shared values
 * (deferred/result.h). */
#include <string.h>

#include "dft.h"

static void test_fail_result_takes_the_reference(void) {
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 0, "x");
  df_result r = df_fail(f);
  CU_ASSERT(df_result_is_failure(r));
  CU_ASSERT_PTR_EQUAL(df_result_failure(r), f);
  df_result_free(r); /* the only reference: freed (checked by dft_end) */
}

static void test_fail_null_names_the_argument(void) {
  df_result r = df_fail(NULL);
  CU_ASSERT(df_result_is_failure(r));
  CU_ASSERT_PTR_EQUAL(df_failure_type(df_result_failure(r)),
                      &DF_INVALID_ARGUMENT);
  CU_ASSERT(strlen(df_failure_message(df_result_failure(r))) > 0);
  df_result_free(r);
}

static void test_result_free_of_each_kind(void) {
  df_result_free(df_ok(dft_str("owned"), dft_str_free));
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  char borrowed[] = "borrowed";
  df_result_free(df_ok(borrowed, NULL));
  dft_shared *s = dft_shared_new("s");
  df_result_free(df_ok_shared(s, dft_shared_retain, dft_shared_release));
  CU_ASSERT_EQUAL(dft_shared_live(), 0);
  CU_ASSERT_FALSE(df_result_is_failure(df_ok(borrowed, NULL)));
  CU_ASSERT_PTR_NULL(df_result_failure(df_ok(borrowed, NULL)));
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_result w = df_wait(d);
  CU_ASSERT_EQUAL(df_result_kind(w), DF_DEFERRED);
  CU_ASSERT_PTR_EQUAL(w.ptr, d);
  df_unref(d);       /* the result's own reference keeps it alive */
  df_result_free(w); /* drops the last one */
}

static void test_result_kind_follows_the_release_function(void) {
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 0, "x");
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_result v = df_ok(DFT_S("v"), NULL);
  df_result fr = df_fail(f);
  df_result w = df_wait(d);
  CU_ASSERT_EQUAL(df_result_kind(v), DF_VALUE);
  CU_ASSERT_EQUAL(df_result_kind(df_ok(NULL, NULL)), DF_VALUE);
  CU_ASSERT_EQUAL(df_result_kind(fr), DF_FAILURE);
  CU_ASSERT_PTR_EQUAL(fr.free, df_failure_release);
  CU_ASSERT_EQUAL(df_result_kind(w), DF_DEFERRED);
  CU_ASSERT_PTR_EQUAL(w.free, df_deferred_release);
  CU_ASSERT_PTR_NULL(df_result_failure(w));
  CU_ASSERT_PTR_EQUAL(df_result_failure(fr), f);
  df_result_free(fr);
  df_result_free(w);
  df_unref(d);
}

static void test_s23_shared_value_knows_its_retain_function(void) {
  dft_shared *s = dft_shared_new("s");
  df_result r = df_ok_shared(s, dft_shared_retain, dft_shared_release);
  CU_ASSERT_EQUAL(df_result_kind(r), DF_VALUE);
  CU_ASSERT_PTR_EQUAL(r.ptr, s); /* read in one step, as any value */
  CU_ASSERT_PTR_EQUAL(df_result_release_fn(r), dft_shared_release);
  df_retain_fn retain = df_result_retain(r);
  CU_ASSERT_PTR_NOT_NULL_FATAL(retain);
  retain(r.ptr); /* one more holder: the value's own count follows */
  CU_ASSERT_EQUAL(s->refs, 2);
  CU_ASSERT_EQUAL(dft_shared_retains(), 1);
  /* Nothing is remembered per function: another value released by the same
   * function is plain until it is made shared. */
  CU_ASSERT_PTR_NULL(df_result_retain(df_ok(s, dft_shared_release)));
  CU_ASSERT_PTR_NULL(df_result_retain(df_ok(s, NULL)));
  char *plain = dft_str("plain");
  CU_ASSERT_PTR_NULL(df_result_retain(df_ok(plain, dft_str_free)));
  CU_ASSERT_PTR_EQUAL(df_result_release_fn(df_ok(plain, dft_str_free)),
                      dft_str_free);
  dft_str_free(plain);
  df_result_free(r);
  CU_ASSERT_EQUAL(s->refs, 1);
  df_result_free(r);
  CU_ASSERT_EQUAL(dft_shared_live(), 0);
}

/* Any number of distinct free functions: each shared value is counted
 * beside itself, not in a table of functions. */
static void shared_free_a(void *v) { dft_shared_release(v); }
static void shared_free_b(void *v) { dft_shared_release(v); }

static void test_s23_shared_values_need_no_table_of_functions(void) {
  enum { N = 200 };
  df_result rs[N];
  for (int i = 0; i < N; i++) {
    dft_shared *s = dft_shared_new("v");
    rs[i] = df_ok_shared(s, dft_shared_retain,
                         i % 2 ? shared_free_a : shared_free_b);
    CU_ASSERT_PTR_NOT_NULL(df_result_retain(rs[i]));
  }
  for (int i = 0; i < N; i++) {
    df_result_retain(rs[i])(rs[i].ptr);
    CU_ASSERT_EQUAL(((dft_shared *)rs[i].ptr)->refs, 2);
    CU_ASSERT_PTR_EQUAL(df_result_release_fn(rs[i]),
                        i % 2 ? shared_free_a : shared_free_b);
  }
  for (int i = 0; i < N; i++) {
    df_result_free(rs[i]);
    df_result_free(rs[i]);
  }
  CU_ASSERT_EQUAL(dft_shared_live(), 0);
}

static void test_s23_shared_without_retain_is_a_plain_value(void) {
  char *text = dft_str("plain");
  df_result r = df_ok_shared(text, NULL, dft_str_free);
  CU_ASSERT_PTR_EQUAL(r.ptr, text);
  CU_ASSERT_PTR_EQUAL(r.free, dft_str_free);
  CU_ASSERT_PTR_NULL(df_result_retain(r));
  df_result_free(r);
}

static CU_TestInfo tests[] = {
    {"fail_result_takes_the_reference", test_fail_result_takes_the_reference},
    {"fail_null_names_the_argument", test_fail_null_names_the_argument},
    {"result_free_of_each_kind", test_result_free_of_each_kind},
    {"result_kind_follows_the_release_function",
     test_result_kind_follows_the_release_function},
    {"s23_shared_value_knows_its_retain_function",
     test_s23_shared_value_knows_its_retain_function},
    {"s23_shared_values_need_no_table_of_functions",
     test_s23_shared_values_need_no_table_of_functions},
    {"s23_shared_without_retain_is_a_plain_value",
     test_s23_shared_without_retain_is_a_plain_value},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("result", tests); }
