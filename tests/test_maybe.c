/* maybeDeferred (S12, R10) and succeed/fail (S13, R1.2). */
#include "dft.h"

static int calls;

static df_result fn_value(void *arg) {
  calls++;
  return df_ok(dft_str(arg), dft_str_free);
}

static df_result fn_none(void *arg) {
  (void)arg;
  calls++;
  return df_ok(NULL, NULL);
}

static df_result fn_failure(void *arg) {
  calls++;
  return df_fail((df_failure *)arg);
}

static df_result fn_deferred(void *arg) {
  calls++;
  return df_wait((df_deferred *)arg);
}

static void test_s12_value_gives_fired_deferred(void) {
  calls = 0;
  df_deferred *d = df_maybe(fn_value, DFT_S("plus five"));
  /* R10.1: the function ran synchronously, inside df_maybe. */
  CU_ASSERT_EQUAL(calls, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT(df_called(d));
  df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb='plus five'");
  df_unref(d);
}

static void test_s12_nothing_gives_fired_deferred_with_null(void) {
  df_deferred *d = df_maybe(fn_none, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("cb"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb=None");
  df_unref(d);
}

static void test_s12_failure_gives_failed_deferred(void) {
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 0, "sync failure");
  df_deferred *d = df_maybe(fn_failure, f);
  CU_ASSERT(df_called(d));
  df_result r;
  CU_ASSERT(df_peek(d, &r));
  /* R10.3: the same failure, as a failure (not a value carrying one). */
  CU_ASSERT_EQUAL(df_result_kind(r), DF_FAILURE);
  CU_ASSERT_PTR_EQUAL(r.ptr, f);
  df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), dft_cb_none, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_unref(d);
}

static void test_s12_deferred_is_returned_as_it_is(void) {
  /* R10.4: test_maybeDeferredAsync. */
  df_deferred *d1 = df_deferred_new(NULL, NULL);
  df_deferred *d2 = df_maybe(fn_deferred, d1);
  CU_ASSERT_PTR_EQUAL(d2, d1);
  CU_ASSERT_FALSE(df_called(d2));
  df_callback(d1, dft_str("Success"), dft_str_free);
  df_add_callback(d2, dft_cb_trace, DFT_S("d2"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "d2='Success'");
  df_unref(d2); /* the reference df_maybe gave us */
  df_unref(d1); /* our own */
}

static void test_s12_deferred_failure_is_shared(void) {
  /* R10.4: test_maybeDeferredAsyncError. */
  df_deferred *d1 = df_deferred_new(NULL, NULL);
  df_deferred *d2 = df_maybe(fn_deferred, d1);
  df_errback(d1, df_failure_new(&DFT_RUNTIME_ERROR, 0, "async"));
  dft_release_failed(d2, &DFT_RUNTIME_ERROR);
  df_unref(d1);
}

static void test_s12_cancelling_either_reference_cancels_the_same(void) {
  df_deferred *d1 = df_deferred_new(NULL, NULL);
  df_deferred *d2 = df_maybe(fn_deferred, d1);
  df_cancel(d2);
  CU_ASSERT(dft_peek_is_failure(d1, &DF_CANCELLED));
  df_add_errback(d1, dft_cb_none, NULL);
  df_unref(d2);
  df_unref(d1);
}

static void test_s12_already_fired_deferred_is_returned_as_it_is(void) {
  df_deferred *d1 = df_succeed(dft_str("ready"), dft_str_free);
  df_deferred *d2 = df_maybe(fn_deferred, d1);
  CU_ASSERT_PTR_EQUAL(d2, d1);
  CU_ASSERT(dft_peek_is_value(d2, "ready"));
  df_unref(d2);
  df_unref(d1);
}

static df_result fn_handover(void *arg) {
  (void)arg;
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_result r = df_wait(d);
  df_unref(d); /* the result's reference is the only one left */
  return r;
}

static void test_s12_deferred_reference_in_result_becomes_callers(void) {
  df_deferred *d = df_maybe(fn_handover, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT_FALSE(df_called(d));
  df_callback(d, NULL, NULL);
  df_unref(d);
}

static void test_s12_null_function_gives_invalid_argument(void) {
  df_deferred *d = df_maybe(NULL, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  dft_release_failed(d, &DF_INVALID_ARGUMENT);
}

static void test_s13_succeed_is_already_fired(void) {
  /* R1.2: testImmediateSuccess. */
  df_deferred *d = df_succeed(dft_str("now"), dft_str_free);
  CU_ASSERT(df_called(d));
  CU_ASSERT(dft_peek_is_value(d, "now"));
  df_add_callback(d, dft_cb_trace, DFT_S("cb"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb='now'");
  CU_ASSERT_EQUAL(df_callback(d, NULL, NULL), DF_EALREADY);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_s13_succeed_with_null_value(void) {
  df_deferred *d = df_succeed(NULL, NULL);
  CU_ASSERT(dft_peek_is_none(d));
  df_unref(d);
}

static void test_s13_fail_now_is_already_failed(void) {
  /* R1.2: testImmediateFailure. */
  df_deferred *d = df_fail_now(df_failure_new(&DFT_VALUE_ERROR, 0, "now"));
  CU_ASSERT(df_called(d));
  df_add_callback(d, dft_cb_trace, DFT_S("cb"));
  df_add_errback(d, dft_cb_trace, DFT_S("eb"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<ValueError: now>");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_s13_fail_now_null_gives_invalid_argument(void) {
  df_deferred *d = df_fail_now(NULL);
  dft_release_failed(d, &DF_INVALID_ARGUMENT);
}

static CU_TestInfo tests[] = {
    {"s12_value_gives_fired_deferred", test_s12_value_gives_fired_deferred},
    {"s12_nothing_gives_fired_deferred_with_null",
     test_s12_nothing_gives_fired_deferred_with_null},
    {"s12_failure_gives_failed_deferred",
     test_s12_failure_gives_failed_deferred},
    {"s12_deferred_is_returned_as_it_is",
     test_s12_deferred_is_returned_as_it_is},
    {"s12_deferred_failure_is_shared", test_s12_deferred_failure_is_shared},
    {"s12_cancelling_either_reference_cancels_the_same",
     test_s12_cancelling_either_reference_cancels_the_same},
    {"s12_already_fired_deferred_is_returned_as_it_is",
     test_s12_already_fired_deferred_is_returned_as_it_is},
    {"s12_deferred_reference_in_result_becomes_callers",
     test_s12_deferred_reference_in_result_becomes_callers},
    {"s12_null_function_gives_invalid_argument",
     test_s12_null_function_gives_invalid_argument},
    {"s13_succeed_is_already_fired", test_s13_succeed_is_already_fired},
    {"s13_succeed_with_null_value", test_s13_succeed_with_null_value},
    {"s13_fail_now_is_already_failed", test_s13_fail_now_is_already_failed},
    {"s13_fail_now_null_gives_invalid_argument",
     test_s13_fail_now_null_gives_invalid_argument},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("maybe", tests); }
