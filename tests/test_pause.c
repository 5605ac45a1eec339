/* pause/unpause: R4 and a pause made inside a run (R3.4), with the
 * documented differences (unbalanced unpause, R4.3; a waiting Deferred
 * cannot be unpaused early, R4.5). */
#include "dft.h"

static void test_r4_1_paused_deferred_keeps_result_and_runs_nothing(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_EQUAL(df_pause(d), 0);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "paused failure"));
  df_add_errback(d, dft_cb_trace, DFT_S("eb"));
  df_add_errback(d, dft_cb_none, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  CU_ASSERT(df_called(d));
  CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<RuntimeError: paused failure>");
  CU_ASSERT(dft_peek_is_none(d));
  df_unref(d);
}

static void test_r4_1_callbacks_added_while_paused_wait_for_unpause(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_callback(d, dft_str("v"), dft_str_free);
  df_pause(d);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  df_add_callback(d, dft_cb_append, DFT_S("!"));
  df_add_callback(d, dft_cb_trace, DFT_S("b"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_unpause(d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v' b='v!'");
  df_unref(d);
}

static void test_r4_2_pause_is_a_counter(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  df_pause(d);
  df_pause(d);
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v'");
  df_unref(d);
}

static void test_r4_4_unpause_of_unfired_deferred_only_counts(void) {
  /* Twisted testUnpauseBeforeCallback. */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_pause(d);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v'");
  df_unref(d);
}

static void test_r4_3_unbalanced_unpause_is_refused_unfired(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  CU_ASSERT_EQUAL(df_unpause(d), DF_ENOTPAUSED);
  /* Nothing changed: the Deferred is not stalled (Twisted's counter would
   * have gone negative and blocked every callback). */
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v'");
  df_unref(d);
}

static void test_r4_3_unbalanced_unpause_is_refused_fired(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_callback(d, dft_str("v"), dft_str_free);
  df_pause(d);
  CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_EQUAL(df_unpause(d), DF_ENOTPAUSED);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v'");
  /* A later pause still needs its own unpause. */
  df_pause(d);
  df_add_callback(d, dft_cb_trace, DFT_S("b"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v'");
  CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v' b='v'");
  df_unref(d);
}

static void test_r4_5_waiting_deferred_cannot_be_unpaused_early(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_callback(a, dft_cb_trace, DFT_S("a2"));
  df_callback(a, NULL, NULL);
  CU_ASSERT(df_waiting(a));
  CU_ASSERT_EQUAL(df_unpause(a), DF_ENOTPAUSED);
  CU_ASSERT(df_waiting(a));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_callback(b, dft_str("inner"), dft_str_free);
  CU_ASSERT_FALSE(df_waiting(a));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a2='inner'");
  df_unref(a);
  df_unref(b);
}

static void
test_r4_1_explicit_pause_of_waiting_deferred_holds_inner_result(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_callback(a, dft_cb_trace, DFT_S("a2"));
  df_callback(a, NULL, NULL);
  CU_ASSERT_EQUAL(df_pause(a), 0);
  df_callback(b, dft_str("inner"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  CU_ASSERT_EQUAL(df_unpause(a), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a2='inner'");
  df_unref(a);
  df_unref(b);
}

static df_result cb_pause_self(df_result in, void *arg) {
  df_pause((df_deferred *)arg);
  return in;
}

static void test_r4_1_pause_from_callback_holds_later_steps(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_pause_self, d);
  df_callback(d, dft_str("v"), dft_str_free);
  df_add_callback(d, dft_cb_trace, DFT_S("later"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_unpause(d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "later='v'");
  df_unref(d);
}

/* A step that pauses its own Deferred does not stop the run it is made in
 * (R3.4), but the Deferred stays paused: a Deferred that then waits on it
 * (S26, R5.3) stays waiting, cancel cannot end that wait (the inner has
 * fired, S18/S19), and the pair holds each other until the unpause, which
 * runs the waiter's rest and lets both go. Found by the core fuzz driver
 * (seed 96620), which let go of such a Deferred without undoing the pause;
 * Twisted keeps the same pair alive, only its garbage collector frees it. */
static void
test_r3_4_s26_waiter_of_deferred_paused_by_own_step_runs_on_unpause(void) {
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_add_callback(inner, cb_pause_self, inner);
  df_add_callback(inner, dft_cb_trace, DFT_S("inner"));
  df_callback(inner, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "inner='v'");
  df_deferred *outer = df_deferred_new(NULL, NULL);
  df_add_callback(outer, dft_cb_wait, inner);
  df_add_callback(outer, dft_cb_trace, DFT_S("outer"));
  df_callback(outer, NULL, NULL);
  CU_ASSERT(df_waiting(outer));
  df_cancel(outer);
  CU_ASSERT(df_waiting(outer));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "inner='v'");
  df_unref(outer); /* the inner's chain holds the waiter now */
  CU_ASSERT_EQUAL(df_unpause(inner), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "inner='v' outer='v'");
  CU_ASSERT(dft_peek_is_none(inner)); /* handed to the waiter (R5.2) */
  df_unref(inner);
}

static CU_TestInfo tests[] = {
    {"r3_4_s26_waiter_of_deferred_paused_by_own_step_runs_on_unpause",
     test_r3_4_s26_waiter_of_deferred_paused_by_own_step_runs_on_unpause},
    {"r4_1_paused_deferred_keeps_result_and_runs_nothing",
     test_r4_1_paused_deferred_keeps_result_and_runs_nothing},
    {"r4_1_callbacks_added_while_paused_wait_for_unpause",
     test_r4_1_callbacks_added_while_paused_wait_for_unpause},
    {"r4_1_explicit_pause_of_waiting_deferred_holds_inner_result",
     test_r4_1_explicit_pause_of_waiting_deferred_holds_inner_result},
    {"r4_1_pause_from_callback_holds_later_steps",
     test_r4_1_pause_from_callback_holds_later_steps},
    {"r4_2_pause_is_a_counter", test_r4_2_pause_is_a_counter},
    {"r4_3_unbalanced_unpause_is_refused_unfired",
     test_r4_3_unbalanced_unpause_is_refused_unfired},
    {"r4_3_unbalanced_unpause_is_refused_fired",
     test_r4_3_unbalanced_unpause_is_refused_fired},
    {"r4_4_unpause_of_unfired_deferred_only_counts",
     test_r4_4_unpause_of_unfired_deferred_only_counts},
    {"r4_5_waiting_deferred_cannot_be_unpaused_early",
     test_r4_5_waiting_deferred_cannot_be_unpaused_early},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("pause", tests); }
