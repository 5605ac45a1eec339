/* Cancellation: S14-S19, the core part of S20, R7. */
#include "dft.h"

static int canceller_calls;
static df_deferred *canceller_saw;
static void *canceller_arg;

static void canceller_record(df_deferred *d, void *arg) {
  canceller_calls++;
  canceller_saw = d;
  canceller_arg = arg;
  dft_trace("canceller:%s", arg != NULL ? (const char *)arg : "-");
}

static void canceller_callbacks(df_deferred *d, void *arg) {
  (void)arg;
  canceller_calls++;
  CU_ASSERT_EQUAL(df_callback(d, dft_str("Callback Result"), dft_str_free), 0);
}

static void canceller_errbacks(df_deferred *d, void *arg) {
  (void)arg;
  canceller_calls++;
  CU_ASSERT_EQUAL(df_errback(d, df_failure_new(&DFT_VALUE_ERROR, 0, "generic")),
                  0);
}

static void reset(void) {
  canceller_calls = 0;
  canceller_saw = NULL;
  canceller_arg = NULL;
}

static void test_s14_cancel_many_times_before_and_after_firing(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_trace, DFT_S("eb"));
  df_add_errback(d, dft_cb_none, NULL);
  df_cancel(d);
  df_cancel(d);
  df_cancel(d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<Cancelled>");
  CU_ASSERT(dft_peek_is_none(d));
  df_unref(d);
}

static void test_s14_cancel_null_is_a_no_op(void) { df_cancel(NULL); }

static df_result cb_cancel_self(df_result in, void *arg) {
  df_cancel((df_deferred *)arg);
  return in;
}

static void test_s14_cancel_from_own_callback_changes_nothing(void) {
  reset();
  df_deferred *d = df_deferred_new(canceller_record, NULL);
  df_add_callback(d, cb_cancel_self, d);
  df_add_both(d, dft_cb_trace, DFT_S("d"));
  df_callback(d, dft_str("x"), dft_str_free);
  CU_ASSERT_EQUAL(canceller_calls, 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "d='x'");
  df_unref(d);
}

static void test_s15_canceller_gets_the_deferred_and_its_arg(void) {
  reset();
  df_deferred *d = df_deferred_new(canceller_record, DFT_S("conn"));
  df_add_errback(d, dft_cb_none, NULL);
  df_cancel(d);
  CU_ASSERT_EQUAL(canceller_calls, 1);
  CU_ASSERT_PTR_EQUAL(canceller_saw, d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "canceller:conn");
  df_unref(d);
}

static void test_s15_canceller_is_called_once_for_many_cancels(void) {
  reset();
  /* test_cancellerMultipleCancel. */
  df_deferred *d = df_deferred_new(canceller_record, NULL);
  df_add_errback(d, dft_cb_none, NULL);
  df_cancel(d);
  df_cancel(d);
  CU_ASSERT_EQUAL(canceller_calls, 1);
  df_unref(d);
}

static void test_s16_cancel_without_canceller_errbacks_cancelled(void) {
  /* test_noCanceller (R7.1). */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  df_cancel(d);
  CU_ASSERT(df_called(d));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<Cancelled>");
  dft_release_failed(d, &DF_CANCELLED);
}

static void test_s16_canceller_that_does_not_fire_gives_cancelled(void) {
  reset();
  /* test_simpleCanceller (R7.3): no swallow is armed with a canceller. */
  df_deferred *d = df_deferred_new(canceller_record, NULL);
  df_add_errback(d, dft_cb_trace, DFT_S("eb"));
  df_cancel(d);
  CU_ASSERT_EQUAL(canceller_calls, 1);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "canceller:- eb=<Cancelled>");
  CU_ASSERT_EQUAL(df_callback(d, dft_str("late"), dft_str_free), DF_EALREADY);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

/* A canceller that fires the Deferred itself decides the outcome. */
static const struct deciding_canceller {
  df_canceller_fn canceller;
  const char *trace;
  const df_error_type *failed; /* the outcome's failure type; NULL: a value */
} deciding_cancellers[] = {
    /* test_cancellerThatCallbacks. */
    {canceller_callbacks, "cb='Callback Result'", NULL},
    /* test_cancellerThatErrbacks. */
    {canceller_errbacks, "eb=<ValueError: generic>", &DFT_VALUE_ERROR},
};

static void test_s16_r7_4_canceller_that_fires_decides_the_outcome(void) {
  for (size_t i = 0;
       i < sizeof deciding_cancellers / sizeof deciding_cancellers[0]; i++) {
    const struct deciding_canceller *c = &deciding_cancellers[i];
    dft_begin();
    reset();
    df_deferred *d = df_deferred_new(c->canceller, NULL);
    df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
    df_cancel(d);
    CU_ASSERT_EQUAL(canceller_calls, 1);
    CU_ASSERT_STRING_EQUAL(dft_trace_text(), c->trace);
    if (c->failed != NULL)
      dft_release_failed(d, c->failed);
    else
      df_unref(d);
    dft_end();
  }
}

static void test_s17_late_callback_after_cancel_is_swallowed_and_freed(void) {
  /* test_raisesAfterCancelAndCallback (R7.2). */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  df_cancel(d);
  CU_ASSERT_EQUAL(df_callback(d, dft_str("late"), dft_str_free), 0);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  CU_ASSERT_EQUAL(df_callback(d, dft_str("later"), dft_str_free), DF_EALREADY);
  CU_ASSERT_EQUAL(dft_str_frees(), 2);
  CU_ASSERT_EQUAL(df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x")),
                  DF_EALREADY);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<Cancelled>");
  dft_release_failed(d, &DF_CANCELLED);
}

static void test_s17_late_errback_after_cancel_is_swallowed_and_freed(void) {
  /* test_raisesAfterCancelAndErrback. */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_none, NULL);
  df_cancel(d);
  long before = dft_alloc_outstanding();
  CU_ASSERT_EQUAL(df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "late")),
                  0);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
  CU_ASSERT_EQUAL(df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x")),
                  DF_EALREADY);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
  df_unref(d);
}

static void test_s17_repeated_cancels_do_not_rearm_the_swallow(void) {
  /* test_noCancellerMultipleCancelsAfterCancelAndCallback. */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_trace, DFT_S("eb"));
  df_cancel(d);
  df_cancel(d);
  CU_ASSERT_EQUAL(df_callback(d, NULL, NULL), 0);
  df_cancel(d);
  CU_ASSERT_EQUAL(df_callback(d, NULL, NULL), DF_EALREADY);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<Cancelled>");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_s18_cancel_after_callback_changes_nothing(void) {
  reset();
  /* test_cancelAfterCallback. */
  df_deferred *d = df_deferred_new(canceller_errbacks, NULL);
  df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  df_callback(d, dft_str("biff!"), dft_str_free);
  df_cancel(d);
  CU_ASSERT_EQUAL(canceller_calls, 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb='biff!'");
  CU_ASSERT(dft_peek_is_value(d, "biff!"));
  df_unref(d);
}

static void test_s18_cancel_after_errback_changes_nothing(void) {
  reset();
  /* test_cancelAfterErrback. */
  df_deferred *d = df_deferred_new(canceller_errbacks, NULL);
  df_add_errback(d, dft_cb_trace, DFT_S("eb"));
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "first"));
  df_cancel(d);
  CU_ASSERT_EQUAL(canceller_calls, 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<RuntimeError: first>");
  dft_release_failed(d, &DFT_RUNTIME_ERROR);
}

static void test_s18_cancel_after_callback_without_canceller_no_swallow(void) {
  /* test_noCancellerMultipleCancel: cancel after firing arms nothing. */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_callback(d, NULL, NULL);
  df_cancel(d);
  df_cancel(d);
  CU_ASSERT_EQUAL(df_callback(d, NULL, NULL), DF_EALREADY);
  CU_ASSERT(dft_peek_is_none(d));
  df_unref(d);
}

static void test_s19_cancel_is_forwarded_to_the_inner_deferred(void) {
  reset();
  /* test_cancelNestedDeferred (R7.6). */
  df_deferred *b = df_deferred_new(canceller_record, DFT_S("inner"));
  df_deferred *a = df_deferred_new(canceller_record, DFT_S("outer"));
  df_callback(a, NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  CU_ASSERT(df_waiting(a));
  df_cancel(a);
  df_add_callbacks(a, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  CU_ASSERT_EQUAL(canceller_calls, 1);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "canceller:inner eb=<Cancelled>");
  df_add_errback(a, dft_cb_none, NULL);
  df_unref(a);
  df_unref(b);
}

static void test_s19_inner_canceller_value_flows_to_outer(void) {
  reset();
  df_deferred *b = df_deferred_new(canceller_callbacks, NULL);
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_callbacks(a, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  df_callback(a, NULL, NULL);
  df_cancel(a);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb='Callback Result'");
  df_unref(a);
  df_unref(b);
}

static void test_s19_canceller_less_inner_swallows_one_late_fire(void) {
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_both(a, dft_cb_trace, DFT_S("a"));
  df_callback(a, NULL, NULL);
  df_cancel(a);
  CU_ASSERT_EQUAL(df_callback(b, dft_str("late"), dft_str_free), 0);
  CU_ASSERT_EQUAL(df_callback(b, dft_str("later"), dft_str_free), DF_EALREADY);
  CU_ASSERT_EQUAL(dft_str_frees(), 2);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a=<Cancelled>");
  df_add_errback(a, dft_cb_none, NULL);
  df_unref(a);
  df_unref(b);
}

static void test_s19_cancelling_the_inner_directly_fails_the_outer(void) {
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_both(a, dft_cb_trace, DFT_S("a"));
  df_callback(a, NULL, NULL);
  df_cancel(b);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a=<Cancelled>");
  df_add_errback(a, dft_cb_none, NULL);
  df_unref(a);
  df_unref(b);
}

static void test_s19_fired_but_paused_inner_ignores_the_cancel(void) {
  reset();
  /* R7.6, third case: nothing at all happens. */
  df_deferred *b = df_succeed(dft_str("bv"), dft_str_free);
  df_pause(b);
  df_deferred *a = df_deferred_new(canceller_record, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_both(a, dft_cb_trace, DFT_S("a"));
  df_callback(a, NULL, NULL);
  CU_ASSERT(df_waiting(a));
  df_cancel(a);
  dft_trace("after-cancel");
  df_unpause(b);
  CU_ASSERT_EQUAL(canceller_calls, 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "after-cancel a='bv'");
  df_unref(a);
  df_unref(b);
}

static void test_s19_r7_9_cancel_reaches_the_innermost_deferred(void) {
  reset();
  df_deferred *c = df_deferred_new(canceller_record, DFT_S("c"));
  df_deferred *b = df_deferred_new(canceller_record, DFT_S("b"));
  df_deferred *a = df_deferred_new(canceller_record, DFT_S("a"));
  df_add_callback(b, dft_cb_wait, c);
  df_add_both(b, dft_cb_trace, DFT_S("b"));
  df_add_callback(a, dft_cb_wait, b);
  df_add_both(a, dft_cb_trace, DFT_S("a"));
  df_callback(b, NULL, NULL);
  df_callback(a, NULL, NULL);
  df_cancel(a);
  CU_ASSERT_EQUAL(canceller_calls, 1);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "canceller:c b=<Cancelled> a=<Cancelled>");
  df_add_errback(a, dft_cb_none, NULL);
  df_unref(a);
  df_unref(b);
  df_unref(c);
}

static void test_r7_8_cancel_of_paused_unfired_waits_for_unpause(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_pause(d);
  df_add_both(d, dft_cb_trace, DFT_S("d"));
  df_cancel(d);
  dft_trace("cancelled");
  CU_ASSERT(df_called(d));
  df_unpause(d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cancelled d=<Cancelled>");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_r7_8_cancel_of_paused_fired_changes_nothing(void) {
  df_deferred *d = df_succeed(dft_str("v"), dft_str_free);
  df_pause(d);
  df_cancel(d);
  df_add_both(d, dft_cb_trace, DFT_S("d"));
  df_unpause(d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "d='v'");
  df_unref(d);
}

static void test_r7_8_paused_cancel_still_swallows_the_late_fire(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_pause(d);
  df_cancel(d);
  CU_ASSERT_EQUAL(df_callback(d, dft_str("late"), dft_str_free), 0);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  df_add_both(d, dft_cb_trace, DFT_S("d"));
  df_unpause(d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "d=<Cancelled>");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

/* An operation that owns the only reference to its Deferred and drops it
 * when it is aborted (a connection that closes). */
typedef struct operation {
  df_deferred *d;
} operation;

static void canceller_drops_reference(df_deferred *d, void *arg) {
  operation *op = arg;
  CU_ASSERT_PTR_EQUAL(d, op->d);
  op->d = NULL;
  df_unref(d);
  dft_trace("aborted");
}

static void test_s15_canceller_may_drop_the_last_reference(void) {
  operation op;
  op.d = df_deferred_new(canceller_drops_reference, &op);
  df_add_errback(op.d, dft_cb_trace, DFT_S("eb"));
  df_add_errback(op.d, dft_cb_none, NULL);
  /* The caller cancels through the operation's own reference. */
  df_cancel(op.d);
  CU_ASSERT_PTR_NULL(op.d);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "aborted eb=<Cancelled>");
}

static void
test_s20_uninterruptible_stage_fails_at_once_and_frees_late_value(void) {
  /* The core part of S20: a stage without canceller (like the DNS lookup)
   * fails with Cancelled at once; its late answer is swallowed and freed. */
  df_deferred *lookup = df_deferred_new(NULL, NULL);
  df_add_callbacks(lookup, dft_cb_trace, DFT_S("connected"), dft_cb_trace,
                   DFT_S("failed"));
  df_add_errback(lookup, dft_cb_none, NULL);
  df_cancel(lookup);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "failed=<Cancelled>");
  dft_shared *answer = dft_shared_new("127.0.0.1");
  CU_ASSERT_EQUAL(df_fire(lookup, df_ok_shared(answer, dft_shared_retain,
                                               dft_shared_release)),
                  0);
  CU_ASSERT_EQUAL(dft_shared_live(), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "failed=<Cancelled>");
  df_unref(lookup);
}

static void test_s20_cancel_of_unfired_deferred_then_release_frees_steps(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks_full(d, dft_cb_trace, dft_arg_new("cb"), dft_cb_none,
                        dft_arg_new("eb"), dft_arg_free);
  df_cancel(d);
  CU_ASSERT_EQUAL(dft_arg_frees(), 2);
  df_unref(d);
}

/* A list whose member waits on the list: cancelling the list comes back to
 * the list through the member (S19) and must not recurse for ever. As in
 * Twisted 22.4 (where the recursion ends in a RecursionError that
 * DeferredList.cancel swallows), the cancel returns with the list unfired
 * and the member still waiting on it. */
static df_deferred *cycle_list;

static df_result wait_on_cycle_list(df_result in, void *arg) {
  (void)arg;
  df_result_free(in);
  return df_wait(cycle_list);
}

static void test_s19_cancel_of_a_list_its_member_waits_on_returns(void) {
  df_deferred *m = df_deferred_new(NULL, NULL);
  df_add_callback(m, wait_on_cycle_list, NULL);
  cycle_list = df_list(&m, 1, DF_CONSUME_ERRORS);
  CU_ASSERT_EQUAL(df_callback(m, NULL, NULL), 0);
  CU_ASSERT(df_waiting(m));
  df_cancel(cycle_list);
  CU_ASSERT_FALSE(df_called(cycle_list));
  CU_ASSERT(df_waiting(m));
  /* The cycle never fires by itself; firing the list ends it. */
  CU_ASSERT_EQUAL(df_callback(cycle_list, NULL, NULL), 0);
  CU_ASSERT_FALSE(df_waiting(m));
  df_unref(m);
  df_unref(cycle_list);
}

static CU_TestInfo tests[] = {
    {"s14_cancel_many_times_before_and_after_firing",
     test_s14_cancel_many_times_before_and_after_firing},
    {"s14_cancel_null_is_a_no_op", test_s14_cancel_null_is_a_no_op},
    {"s14_cancel_from_own_callback_changes_nothing",
     test_s14_cancel_from_own_callback_changes_nothing},
    {"s15_canceller_gets_the_deferred_and_its_arg",
     test_s15_canceller_gets_the_deferred_and_its_arg},
    {"s15_canceller_is_called_once_for_many_cancels",
     test_s15_canceller_is_called_once_for_many_cancels},
    {"s15_canceller_may_drop_the_last_reference",
     test_s15_canceller_may_drop_the_last_reference},
    {"s16_cancel_without_canceller_errbacks_cancelled",
     test_s16_cancel_without_canceller_errbacks_cancelled},
    {"s16_canceller_that_does_not_fire_gives_cancelled",
     test_s16_canceller_that_does_not_fire_gives_cancelled},
    {"s16_r7_4_canceller_that_fires_decides_the_outcome",
     test_s16_r7_4_canceller_that_fires_decides_the_outcome},
    {"s17_late_callback_after_cancel_is_swallowed_and_freed",
     test_s17_late_callback_after_cancel_is_swallowed_and_freed},
    {"s17_late_errback_after_cancel_is_swallowed_and_freed",
     test_s17_late_errback_after_cancel_is_swallowed_and_freed},
    {"s17_repeated_cancels_do_not_rearm_the_swallow",
     test_s17_repeated_cancels_do_not_rearm_the_swallow},
    {"s18_cancel_after_callback_changes_nothing",
     test_s18_cancel_after_callback_changes_nothing},
    {"s18_cancel_after_errback_changes_nothing",
     test_s18_cancel_after_errback_changes_nothing},
    {"s18_cancel_after_callback_without_canceller_no_swallow",
     test_s18_cancel_after_callback_without_canceller_no_swallow},
    {"s19_cancel_is_forwarded_to_the_inner_deferred",
     test_s19_cancel_is_forwarded_to_the_inner_deferred},
    {"s19_inner_canceller_value_flows_to_outer",
     test_s19_inner_canceller_value_flows_to_outer},
    {"s19_canceller_less_inner_swallows_one_late_fire",
     test_s19_canceller_less_inner_swallows_one_late_fire},
    {"s19_cancelling_the_inner_directly_fails_the_outer",
     test_s19_cancelling_the_inner_directly_fails_the_outer},
    {"s19_fired_but_paused_inner_ignores_the_cancel",
     test_s19_fired_but_paused_inner_ignores_the_cancel},
    {"s19_r7_9_cancel_reaches_the_innermost_deferred",
     test_s19_r7_9_cancel_reaches_the_innermost_deferred},
    {"s19_cancel_of_a_list_its_member_waits_on_returns",
     test_s19_cancel_of_a_list_its_member_waits_on_returns},
    {"r7_8_cancel_of_paused_unfired_waits_for_unpause",
     test_r7_8_cancel_of_paused_unfired_waits_for_unpause},
    {"r7_8_cancel_of_paused_fired_changes_nothing",
     test_r7_8_cancel_of_paused_fired_changes_nothing},
    {"r7_8_paused_cancel_still_swallows_the_late_fire",
     test_r7_8_paused_cancel_still_swallows_the_late_fire},
    {"s20_uninterruptible_stage_fails_at_once_and_frees_late_value",
     test_s20_uninterruptible_stage_fails_at_once_and_frees_late_value},
    {"s20_cancel_of_unfired_deferred_then_release_frees_steps",
     test_s20_cancel_of_unfired_deferred_then_release_frees_steps},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("cancel", tests); }
