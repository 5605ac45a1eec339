/* Firing once (S10, R2.1) and re-entrant use by the code that fires (S11). */
#include <stdio.h>

#include "dft.h"

/* Fires \p d with a value (first) or a failure, by name. */
static int fire(df_deferred *d, char kind, const char *text) {
  if (kind == 'C')
    return df_callback(d, dft_str(text), dft_str_free);
  return df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "%s", text));
}

/* R2.1: testAlreadyCalled_CC, _CE, _EC, _EE. */
static void already_called(char first, char second) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_both(d, dft_cb_trace, DFT_S("step"));
  long before = dft_alloc_outstanding();
  CU_ASSERT_EQUAL(fire(d, first, "first"), 0);
  long after_first = dft_alloc_outstanding();
  CU_ASSERT_EQUAL(fire(d, second, "second"), DF_EALREADY);
  /* The refused value or failure was freed at once. */
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), after_first);
  CU_ASSERT_EQUAL(dft_str_frees(), second == 'C' ? 1 : 0);
  CU_ASSERT(before <= after_first);
  if (first == 'C') {
    CU_ASSERT_STRING_EQUAL(dft_trace_text(), "step='first'");
    CU_ASSERT(dft_peek_is_value(d, "first"));
  } else {
    CU_ASSERT_STRING_EQUAL(dft_trace_text(), "step=<RuntimeError: first>");
    CU_ASSERT(dft_peek_is_failure(d, &DFT_RUNTIME_ERROR));
    df_add_errback(d, dft_cb_none, NULL);
  }
  df_unref(d);
}

static void test_s10_already_called_cc(void) { already_called('C', 'C'); }
static void test_s10_already_called_ce(void) { already_called('C', 'E'); }
static void test_s10_already_called_ec(void) { already_called('E', 'C'); }
static void test_s10_already_called_ee(void) { already_called('E', 'E'); }

static void test_s10_many_refused_fires_leave_the_first_result(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_callback(d, dft_str("first"), dft_str_free);
  for (int i = 0; i < 100; i++) {
    CU_ASSERT_EQUAL(fire(d, i % 2 ? 'C' : 'E', "again"), DF_EALREADY);
    CU_ASSERT_EQUAL(df_fire(d, df_ok(NULL, NULL)), DF_EALREADY);
  }
  CU_ASSERT(dft_peek_is_value(d, "first"));
  CU_ASSERT_EQUAL(dft_str_frees(), 50);
  df_unref(d);
}

static void test_s10_refused_shared_value_is_released(void) {
  df_deferred *d = df_succeed(dft_str("first"), dft_str_free);
  dft_shared *s = dft_shared_new("second");
  CU_ASSERT_EQUAL(
      df_fire(d, df_ok_shared(s, dft_shared_retain, dft_shared_release)),
      DF_EALREADY);
  CU_ASSERT_EQUAL(dft_shared_live(), 0);
  df_unref(d);
}

static void test_s10_second_fire_never_reruns_callbacks(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("once"));
  df_callback(d, NULL, NULL);
  df_callback(d, NULL, NULL);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "late"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "once=None");
  df_unref(d);
}

/* ------------------------------------------------------------ S11 */

/* The article's Getter: gotResults drops its reference (self.d = None)
 * before firing, so a callback may start the next operation. */
typedef struct getter {
  df_deferred *d;
  int started;
} getter;

static df_result to_html(df_result in, void *arg) {
  char buf[128];
  (void)arg;
  snprintf(buf, sizeof buf, "Result: %s", (const char *)in.ptr);
  df_result_free(in);
  return df_ok(dft_str(buf), dft_str_free);
}

static df_deferred *get_dummy_data(getter *g) {
  g->d = df_deferred_new(NULL, NULL);
  g->started++;
  df_add_both(g->d, dft_cb_trace, DFT_S("fired"));
  return g->d;
}

static void got_results(getter *g, int x) {
  if (g->d == NULL) {
    dft_trace("nowhere");
    return;
  }
  df_deferred *d = g->d;
  g->d = NULL;
  int status;
  if (x % 2 == 0)
    status = df_callback(d, dft_str("even"), dft_str_free);
  else
    status = df_errback(d, df_failure_new(&DFT_VALUE_ERROR, 0, "odd"));
  CU_ASSERT_EQUAL(status, 0);
  df_unref(d);
}

/* A callback that starts the next operation on the same getter. */
static df_result start_next(df_result in, void *arg) {
  getter *g = arg;
  get_dummy_data(g);
  return in;
}

static void test_s11_firer_drops_reference_so_callback_can_start_next(void) {
  getter g = {NULL, 0};
  df_deferred *first = df_ref(get_dummy_data(&g));
  df_add_callback(first, start_next, &g);
  got_results(&g, 2);
  /* The callback started a second operation: a new Deferred, not the one
   * that just fired. */
  CU_ASSERT_EQUAL(g.started, 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(g.d);
  CU_ASSERT_PTR_NOT_EQUAL(g.d, first);
  CU_ASSERT_FALSE(df_called(g.d));
  got_results(&g, 3);
  CU_ASSERT_PTR_NULL(g.d);
  got_results(&g, 4); /* nothing left to fire */
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "fired='even' fired=<ValueError: odd> nowhere");
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1); /* the odd one, never handled */
  df_unref(first);
}

static df_result cb_drop_last_reference(df_result in, void *arg) {
  df_unref((df_deferred *)arg);
  dft_trace("dropped");
  return in;
}

static void test_s11_callback_may_drop_the_last_outside_reference(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_drop_last_reference, d); /* hands over our reference */
  df_add_callback(d, dft_cb_append, DFT_S("!"));
  df_add_callback(d, dft_cb_trace, DFT_S("after"));
  /* The chain keeps its Deferred alive until the fire returns. */
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dropped after='v!'");
}

static void test_s11_errback_may_drop_the_last_outside_reference(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, cb_drop_last_reference, d);
  df_add_errback(d, dft_cb_none, NULL);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dropped");
}

static df_result cb_refire_getter(df_result in, void *arg) {
  got_results(arg, 6);
  return in;
}

static void test_s11_callback_may_fire_the_next_operation_at_once(void) {
  getter g = {NULL, 0};
  df_deferred *first = df_ref(get_dummy_data(&g));
  df_add_callback(first, start_next, &g);
  df_add_callback(first, cb_refire_getter, &g);
  got_results(&g, 2);
  CU_ASSERT_EQUAL(g.started, 2);
  CU_ASSERT_PTR_NULL(g.d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "fired='even' fired='even'");
  df_unref(first);
}

static void test_s11_to_html_then_print(void) {
  getter g = {NULL, 0};
  df_deferred *d = df_ref(get_dummy_data(&g));
  df_add_callback(d, to_html, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("printed"));
  got_results(&g, 4);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "fired='even' printed='Result: even'");
  df_unref(d);
}

static CU_TestInfo tests[] = {
    {"s10_already_called_cc", test_s10_already_called_cc},
    {"s10_already_called_ce", test_s10_already_called_ce},
    {"s10_already_called_ec", test_s10_already_called_ec},
    {"s10_already_called_ee", test_s10_already_called_ee},
    {"s10_many_refused_fires_leave_the_first_result",
     test_s10_many_refused_fires_leave_the_first_result},
    {"s10_refused_shared_value_is_released",
     test_s10_refused_shared_value_is_released},
    {"s10_second_fire_never_reruns_callbacks",
     test_s10_second_fire_never_reruns_callbacks},
    {"s11_firer_drops_reference_so_callback_can_start_next",
     test_s11_firer_drops_reference_so_callback_can_start_next},
    {"s11_callback_may_drop_the_last_outside_reference",
     test_s11_callback_may_drop_the_last_outside_reference},
    {"s11_errback_may_drop_the_last_outside_reference",
     test_s11_errback_may_drop_the_last_outside_reference},
    {"s11_callback_may_fire_the_next_operation_at_once",
     test_s11_callback_may_fire_the_next_operation_at_once},
    {"s11_to_html_then_print", test_s11_to_html_then_print},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("fire", tests); }
