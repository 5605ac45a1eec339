/* Chaining Deferreds: a callback that returns a Deferred (S26, R5), a callback
 * that returns its own Deferred (S27), chainDeferred (S28, R6). */
#include <stdio.h>

#include "dft.h"

/* ------------------------------------------------------------ S26 */

static void test_s26_unfired_inner_pauses_the_outer(void) {
  /* test_asynchronousImplicitChain. */
  df_deferred *first = df_deferred_new(NULL, NULL);
  df_deferred *second = df_deferred_new(NULL, NULL);
  df_add_callback(second, dft_cb_wait, first);
  df_callback(second, NULL, NULL);
  CU_ASSERT(df_waiting(second));
  CU_ASSERT_FALSE(dft_peek_is_none(second));
  df_add_callback(first, dft_cb_trace, DFT_S("first"));
  df_add_callback(second, dft_cb_trace, DFT_S("second"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_callback(first, dft_str("result"), dft_str_free);
  CU_ASSERT_FALSE(df_waiting(second));
  /* first's callback added after the hand-off sees None (R5.5), and runs
   * after second's resumed chain. */
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "second='result' first=None");
  CU_ASSERT(dft_peek_is_value(second, "result"));
  CU_ASSERT(dft_peek_is_none(first));
  df_unref(first);
  df_unref(second);
}

static void test_s26_r5_1_fired_inner_is_stolen_at_once(void) {
  /* test_synchronousImplicitChain. */
  df_deferred *first = df_succeed(dft_str("result"), dft_str_free);
  df_deferred *second = df_deferred_new(NULL, NULL);
  df_add_callback(second, dft_cb_wait, first);
  df_callback(second, NULL, NULL);
  CU_ASSERT_FALSE(df_waiting(second));
  df_add_callback(first, dft_cb_trace, DFT_S("first"));
  df_add_callback(second, dft_cb_trace, DFT_S("second"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "first=None second='result'");
  df_unref(first);
  df_unref(second);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_s26_r5_1_stolen_failure_moves_to_the_outer(void) {
  /* test_synchronousImplicitErrorChain. */
  df_deferred *first =
      df_fail_now(df_failure_new(&DFT_RUNTIME_ERROR, 0, "First's"));
  df_deferred *second = df_deferred_new(NULL, NULL);
  df_add_callback(second, dft_cb_wait, first);
  df_callback(second, NULL, NULL);
  df_add_callback(first, dft_cb_trace, DFT_S("first"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "first=None");
  CU_ASSERT(dft_peek_is_failure(second, &DFT_RUNTIME_ERROR));
  df_add_errback(second, dft_cb_none, NULL);
  df_unref(first);
  df_unref(second);
}

static void test_s26_r5_2_inner_failure_is_handed_to_the_outer(void) {
  /* test_asynchronousImplicitErrorChain. */
  df_deferred *first = df_deferred_new(NULL, NULL);
  df_deferred *second = df_deferred_new(NULL, NULL);
  df_add_callback(second, dft_cb_wait, first);
  df_callback(second, NULL, NULL);
  df_add_errback(second, dft_cb_trace, DFT_S("second-eb"));
  df_add_errback(second, dft_cb_none, NULL);
  df_add_callback(first, dft_cb_trace, DFT_S("first"));
  df_add_callback(second, dft_cb_trace, DFT_S("second"));
  df_errback(first, df_failure_new(&DFT_RUNTIME_ERROR, 0, "First's"));
  CU_ASSERT_STRING_EQUAL(
      dft_trace_text(),
      "second-eb=<RuntimeError: First's> second=None first=None");
  df_unref(first);
  df_unref(second);
}

static void test_s26_r5_2_chaining_is_transitive(void) {
  /* test_doubleAsynchronousImplicitChaining. */
  df_deferred *first = df_deferred_new(NULL, NULL);
  df_deferred *second = df_deferred_new(NULL, NULL);
  df_deferred *third = df_deferred_new(NULL, NULL);
  df_add_callback(second, dft_cb_wait, first);
  df_add_callback(third, dft_cb_wait, second);
  df_add_callback(third, dft_cb_trace, DFT_S("third"));
  df_callback(second, NULL, NULL);
  df_callback(third, NULL, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_callback(first, dft_str("result"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "third='result'");
  df_unref(first);
  df_unref(second);
  df_unref(third);
}

static void test_s26_r5_3_paused_inner_with_result_is_waited_for(void) {
  /* test_chainedPausedDeferredWithResult. */
  df_deferred *b = df_succeed(dft_str("b"), dft_str_free);
  df_pause(b);
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_callback(a, dft_cb_trace, DFT_S("a2"));
  df_callback(a, NULL, NULL);
  CU_ASSERT(df_waiting(a));
  dft_trace("before-unpause");
  df_unpause(b);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "before-unpause a2='b'");
  df_unref(a);
  df_unref(b);
}

static void test_s26_r5_3_inner_waiting_on_another_is_waited_for(void) {
  /* test_resultOfDeferredResultOfDeferredOfFiredDeferredCalled. */
  df_deferred *c = df_deferred_new(NULL, NULL);
  df_deferred *b = df_succeed(NULL, NULL);
  df_add_callback(b, dft_cb_wait, c);
  CU_ASSERT(df_waiting(b));
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_callback(a, dft_cb_trace, DFT_S("a"));
  df_callback(a, NULL, NULL);
  CU_ASSERT(df_waiting(a));
  df_callback(c, dft_str("deep"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='deep'");
  df_unref(a);
  df_unref(b);
  df_unref(c);
}

static df_result cb_inner_chain(df_result in, void *arg) {
  df_deferred *inner = arg;
  dft_trace("start-of-cb");
  df_result_free(in);
  df_deferred *d = df_succeed(dft_str("inner"), dft_str_free);
  df_add_callback(d, dft_cb_wait, inner);         /* firstCallback */
  df_add_callback(d, dft_cb_append, DFT_S("x2")); /* secondCallback */
  df_add_callback(d, dft_cb_trace, DFT_S("second"));
  df_result r = df_wait(d);
  df_unref(d);
  return r;
}

static void test_s26_r5_4_inner_callbacks_run_before_the_outer_resumes(void) {
  /* test_nestedAsynchronousChainedDeferreds / test_innerCallbacksPreserved. */
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_deferred *outer = df_succeed(dft_str("outer"), dft_str_free);
  df_add_callback(outer, cb_inner_chain, inner);
  df_add_callback(outer, dft_cb_trace, DFT_S("outer"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "start-of-cb");
  df_callback(inner, dft_str("orange"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "start-of-cb second='orangex2' outer='orangex2'");
  df_unref(outer);
  df_unref(inner);
}

static void test_s26_r5_5_r5_6_order_of_inner_and_outer_steps(void) {
  /* B's steps before it was returned, then A's resumed chain (including the
   * steps added to A while it waited), then B's steps added after. */
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(b, dft_cb_trace, DFT_S("b1"));
  df_add_callback(a, dft_cb_wait, b);
  df_add_callback(a, dft_cb_trace, DFT_S("a2"));
  df_callback(a, dft_str("x"), dft_str_free);
  df_add_callback(b, dft_cb_trace, DFT_S("b2"));
  df_add_callback(a, dft_cb_trace, DFT_S("a3"));
  df_callback(b, dft_str("y"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "b1='y' a2='y' a3='y' b2=None");
  df_unref(a);
  df_unref(b);
}

static df_result cb_gather_a(df_result in, void *arg) {
  df_deferred *a = arg;
  dft_trace("first");
  df_result_free(in);
  df_deferred *g = df_gather(&a, 1, 0);
  df_result r = df_wait(g);
  df_unref(g);
  return r;
}

static df_result cb_continue(df_result in, void *arg) {
  df_deferred *a = arg;
  dft_trace("cb");
  df_result_free(in);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_gather_a, a);
  df_add_callback(d, dft_cb_trace, DFT_S("second"));
  df_add_errback(d, dft_cb_trace, DFT_S("failure"));
  df_callback(d, NULL, NULL);
  df_result r = df_wait(d);
  df_unref(d);
  return r;
}

static void test_s26_r5_6_callback_order_preserved(void) {
  /* test_callbackOrderPreserved. */
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *outer = df_deferred_new(NULL, NULL);
  df_add_callback(outer, cb_continue, a);
  df_add_callback(outer, dft_cb_trace, DFT_S("final"));
  df_add_errback(outer, dft_cb_trace, DFT_S("failure"));
  df_callback(outer, dft_str("outer"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb first");
  df_callback(a, dft_str("withers"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "cb first second=[(True, 'withers')] "
                         "final=[(True, 'withers')]");
  df_unref(outer);
  df_unref(a);
}

static void test_s26_r5_7_explicitly_paused_outer_keeps_inner_result(void) {
  /* test_pausedDeferredChained: a later callback on the inner still runs. */
  df_deferred *first = df_deferred_new(NULL, NULL);
  df_deferred *second = df_deferred_new(NULL, NULL);
  df_add_callback(first, dft_cb_wait, second);
  df_callback(first, NULL, NULL);
  df_pause(first);
  df_callback(second, dft_str("s"), dft_str_free);
  df_add_callback(second, dft_cb_trace, DFT_S("second"));
  df_add_callback(first, dft_cb_trace, DFT_S("first"));
  dft_trace("unpause");
  df_unpause(first);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "second=None unpause first='s'");
  df_unref(first);
  df_unref(second);
}

static void test_s26_r5_10_errback_returning_deferred_recovers(void) {
  /* test_errorClearedByChaining. */
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_errback(a, dft_cb_wait, b);
  df_add_callbacks(a, dft_cb_trace, DFT_S("ok"), dft_cb_trace, DFT_S("err"));
  df_errback(a, df_failure_new(&DFT_RUNTIME_ERROR, 0, "orig"));
  CU_ASSERT(df_waiting(a));
  df_callback(b, dft_str("rec"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "ok='rec'");
  df_unref(a);
  df_unref(b);
}

static void test_s26_r5_10_inner_failure_replaces_the_original(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_errback(a, dft_cb_wait, b);
  df_add_callbacks(a, dft_cb_trace, DFT_S("ok"), dft_cb_trace, DFT_S("err"));
  df_add_errback(a, dft_cb_none, NULL);
  df_errback(a, df_failure_new(&DFT_RUNTIME_ERROR, 0, "orig"));
  df_errback(b, df_failure_new(&DFT_VALUE_ERROR, 0, "new"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "err=<ValueError: new>");
  df_unref(a);
  df_unref(b);
}

static df_result i1_fire_a(df_result in, void *arg) {
  dft_trace("i1-start");
  df_callback((df_deferred *)arg, DFT_S("go"), NULL);
  dft_trace("i1-end");
  df_result_free(in);
  return df_ok(DFT_S("i1ret"), NULL);
}

static void test_s26_r5_12_running_inner_is_waited_for(void) {
  /* Documented difference from R5.12: B's callback i1 is running when A's
   * callback returns B, so A waits for B instead of taking the value i1 was
   * given; A resumes with what B's chain produces. */
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_wait, b);
  df_add_callback(a, dft_cb_trace, DFT_S("a2"));
  df_add_callback(b, i1_fire_a, a);
  df_add_callback(b, dft_cb_trace, DFT_S("b2"));
  df_callback(b, DFT_S("binit"), NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "i1-start i1-end b2='i1ret' a2='i1ret'");
  CU_ASSERT(dft_peek_is_none(b));
  df_unref(a);
  df_unref(b);
}

static void test_s26_caller_may_drop_both_references_while_waiting(void) {
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_deferred *keep_inner = df_ref(inner);
  df_deferred *outer = df_deferred_new(NULL, NULL);
  df_add_callback(outer, dft_cb_wait, inner);
  df_add_callback(outer, dft_cb_trace, DFT_S("outer"));
  df_callback(outer, NULL, NULL);
  df_unref(outer);
  df_unref(inner);
  df_callback(keep_inner, dft_str("late"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "outer='late'");
  df_unref(keep_inner);
}

/* ------------------------------------------------------------ S27 */

static df_result cb_return_self(df_result in, void *arg) {
  df_result_free(in);
  return df_wait((df_deferred *)arg);
}

static void test_s27_callback_returning_its_own_deferred_fails(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_return_self, d);
  df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), dft_cb_trace_type,
                   DFT_S("eb"));
  df_callback(d, dft_str("foo"), dft_str_free);
  CU_ASSERT_FALSE(df_waiting(d));
  CU_ASSERT(dft_peek_is_failure(d, &DF_INVALID_ARGUMENT));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<InvalidArgument>");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_s27_errback_returning_its_own_deferred_fails(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, cb_return_self, d);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  dft_release_failed(d, &DF_INVALID_ARGUMENT);
}

static void test_s27_added_after_firing_fails_too(void) {
  df_deferred *d = df_succeed(NULL, NULL);
  df_add_callback(d, cb_return_self, d);
  CU_ASSERT(dft_peek_is_failure(d, &DF_INVALID_ARGUMENT));
  CU_ASSERT_FALSE(df_waiting(d));
  df_cancel(d); /* Twisted would recurse here (N10) */
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_s27_cycle_of_two_waiting_deferreds_fails(void) {
  /* A waits on B; B's callback returns A: a cycle (Twisted R5.11 deadlocks
   * silently). The failure reaches A through B. */
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(b, dft_cb_wait, a);
  df_add_callback(a, dft_cb_wait, b);
  df_add_callbacks(a, dft_cb_trace, DFT_S("a-cb"), dft_cb_trace_type,
                   DFT_S("a-eb"));
  df_add_errback(a, dft_cb_none, NULL);
  df_callback(a, NULL, NULL);
  CU_ASSERT(df_waiting(a));
  df_callback(b, NULL, NULL);
  CU_ASSERT_FALSE(df_waiting(a));
  CU_ASSERT_FALSE(df_waiting(b));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a-eb=<InvalidArgument>");
  df_unref(a);
  df_unref(b);
}

/* ------------------------------------------------------------ S28 */

static void test_s28_chain_fires_other_with_the_result(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(b, dft_cb_trace, DFT_S("b"));
  CU_ASSERT_PTR_EQUAL(df_chain(a, b), a);
  df_add_callback(a, dft_cb_trace, DFT_S("a"));
  df_callback(a, dft_str("v"), dft_str_free);
  /* R6.1: a's result after the chained step is None. */
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "b='v' a=None");
  CU_ASSERT(dft_peek_is_value(b, "v"));
  df_unref(a);
  df_unref(b);
}

static void test_s28_chain_moves_a_failure_into_other(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_chain(a, b);
  df_add_both(a, dft_cb_trace, DFT_S("a"));
  df_errback(a, df_failure_new(&DFT_RUNTIME_ERROR, 0, "moved"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a=None");
  CU_ASSERT(dft_peek_is_failure(b, &DFT_RUNTIME_ERROR));
  df_add_errback(b, dft_cb_none, NULL);
  df_unref(a);
  df_unref(b);
}

static void test_s28_firing_other_does_not_fire_this_one(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_chain(a, b);
  df_callback(b, dft_str("b only"), dft_str_free);
  CU_ASSERT_FALSE(df_called(a));
  df_callback(a, NULL, NULL); /* now a's step meets a fired b */
  df_add_errback(a, dft_cb_none, NULL);
  df_unref(a);
  df_unref(b);
}

static void test_s28_chain_step_sits_where_it_was_added(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(a, dft_cb_append, DFT_S(" +1"));
  df_chain(a, b);
  df_add_callback(b, dft_cb_trace, DFT_S("b"));
  df_callback(a, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "b='v +1'");
  df_unref(a);
  df_unref(b);
}

static void test_s28_r6_2_other_already_fired_fails_this_chain(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_chain(a, b);
  df_callback(b, dft_str("first"), dft_str_free);
  df_callback(a, dft_str("second"), dft_str_free);
  CU_ASSERT(dft_peek_is_failure(a, &DF_ALREADY_CALLED));
  CU_ASSERT(dft_peek_is_value(b, "first"));
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  df_unref(b);
  /* Reported at release when nothing handles it (R12.1). */
  df_unref(a);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_PTR_EQUAL(dft_last_unhandled()->type, &DF_ALREADY_CALLED);
}

static void test_s28_r6_4_cancel_of_other_does_not_reach_this_one(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_chain(a, b);
  df_cancel(b);
  CU_ASSERT_FALSE(df_called(a));
  /* b had no canceller: a's later fire of b is the swallowed one. */
  df_callback(a, dft_str("late"), dft_str_free);
  CU_ASSERT(dft_peek_is_none(a));
  CU_ASSERT(dft_peek_is_failure(b, &DF_CANCELLED));
  df_add_errback(b, dft_cb_none, NULL);
  df_unref(a);
  df_unref(b);
}

static void dummy_canceller(df_deferred *d, void *arg) {
  (void)d;
  (void)arg;
}

static void
test_s28_r6_4_cancelled_other_with_canceller_gives_already_called(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(dummy_canceller, NULL);
  df_chain(a, b);
  df_cancel(b);
  df_callback(a, NULL, NULL);
  CU_ASSERT(dft_peek_is_failure(a, &DF_ALREADY_CALLED));
  df_add_errback(a, dft_cb_none, NULL);
  df_add_errback(b, dft_cb_none, NULL);
  df_unref(a);
  df_unref(b);
}

static void test_s28_r6_4_cancel_of_this_one_flows_into_other(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_chain(a, b);
  df_add_errback(b, dft_cb_trace, DFT_S("b"));
  df_add_errback(b, dft_cb_none, NULL);
  df_cancel(a);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "b=<Cancelled>");
  df_unref(a);
  df_unref(b);
}

static void test_s28_r6_3_long_explicit_chain(void) {
  enum { LINKS = 10000 };
  df_deferred *first = df_deferred_new(NULL, NULL);
  df_deferred *prev = first;
  df_deferred *last = NULL;
  for (int i = 0; i < LINKS; i++) {
    df_deferred *next = df_deferred_new(NULL, NULL);
    df_chain(prev, next);
    if (prev != first)
      df_unref(prev);
    prev = next;
  }
  last = prev;
  df_add_callback(last, dft_cb_trace, DFT_S("last"));
  df_callback(first, dft_str("through"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "last='through'");
  df_unref(first);
  df_unref(last);
}

static df_result cb_pause_arg(df_result in, void *arg) {
  df_pause((df_deferred *)arg);
  return in;
}

/* R5.7 with R6.1: w waits on b and is paused; a is chained to b. When a
 * fires, b hands its result to the paused w and that part of the run stops,
 * but a's own chain goes on (Twisted's b.callback() returns into a's
 * _runCallbacks): a's later callback runs and a DeferredList over a fires. */
static void
test_s28_r5_7_chain_into_deferred_handing_off_to_paused_waiter(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_deferred *w = df_deferred_new(NULL, NULL);
  df_add_callback(w, dft_cb_wait, b);
  df_callback(w, NULL, NULL);
  CU_ASSERT(df_waiting(w));
  df_pause(w);
  df_chain(a, b);
  df_add_callback(a, dft_cb_trace, DFT_S("later"));
  df_deferred *dl = df_list(&a, 1, 0);
  df_add_callback(dl, dft_cb_trace, DFT_S("list"));
  df_callback(a, dft_str("x"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "later=None list=[(True, None)]");
  CU_ASSERT(df_called(b));
  CU_ASSERT(dft_peek_is_value(w, "x")); /* handed over, w still paused */
  df_add_callback(w, dft_cb_trace, DFT_S("w"));
  CU_ASSERT_EQUAL(df_unpause(w), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "later=None list=[(True, None)] w='x'");
  df_unref(dl);
  df_unref(a);
  df_unref(b);
  df_unref(w);
}

/* The same hand-off, with the waiter's callback pausing the source b, which
 * has a step of its own after the hand-off: a's chain still goes on and the
 * list fires; b's step runs when b is unpaused. */
static void test_s28_r5_7_waiter_pausing_the_source_of_the_hand_off(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_deferred *w = df_deferred_new(NULL, NULL);
  df_add_callback(w, dft_cb_wait, b);
  df_callback(w, NULL, NULL);
  df_add_callback(w, dft_cb_trace, DFT_S("w"));
  df_add_callback(w, cb_pause_arg, b);
  df_add_callback(b, dft_cb_trace, DFT_S("b-after"));
  df_chain(a, b);
  df_add_callback(a, dft_cb_trace, DFT_S("later"));
  df_deferred *dl = df_list(&a, 1, 0);
  df_add_callback(dl, dft_cb_trace, DFT_S("list"));
  df_callback(a, dft_str("x"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "w='x' later=None list=[(True, None)]");
  CU_ASSERT_EQUAL(df_unpause(b), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "w='x' later=None list=[(True, None)] b-after=None");
  df_unref(dl);
  df_unref(a);
  df_unref(b);
  df_unref(w);
}

/* Every reference dropped while w is still paused: nothing stays live. */
static void test_s28_r5_7_paused_hand_off_frees_everything(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_deferred *w = df_deferred_new(NULL, NULL);
  df_add_callback(w, dft_cb_wait, b);
  df_callback(w, NULL, NULL);
  df_pause(w);
  df_chain(a, b);
  df_add_callback(a, dft_cb_trace, DFT_S("later"));
  df_deferred *dl = df_list(&a, 1, 0);
  df_callback(a, dft_str("x"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "later=None");
  CU_ASSERT(df_called(dl));
  df_unref(dl);
  df_unref(a);
  df_unref(b);
  df_unref(w); /* still paused, holding 'x' */
}

static CU_TestInfo tests[] = {
    {"s26_unfired_inner_pauses_the_outer",
     test_s26_unfired_inner_pauses_the_outer},
    {"s26_r5_1_fired_inner_is_stolen_at_once",
     test_s26_r5_1_fired_inner_is_stolen_at_once},
    {"s26_r5_1_stolen_failure_moves_to_the_outer",
     test_s26_r5_1_stolen_failure_moves_to_the_outer},
    {"s26_r5_2_inner_failure_is_handed_to_the_outer",
     test_s26_r5_2_inner_failure_is_handed_to_the_outer},
    {"s26_r5_2_chaining_is_transitive", test_s26_r5_2_chaining_is_transitive},
    {"s26_r5_3_paused_inner_with_result_is_waited_for",
     test_s26_r5_3_paused_inner_with_result_is_waited_for},
    {"s26_r5_3_inner_waiting_on_another_is_waited_for",
     test_s26_r5_3_inner_waiting_on_another_is_waited_for},
    {"s26_r5_4_inner_callbacks_run_before_the_outer_resumes",
     test_s26_r5_4_inner_callbacks_run_before_the_outer_resumes},
    {"s26_r5_5_r5_6_order_of_inner_and_outer_steps",
     test_s26_r5_5_r5_6_order_of_inner_and_outer_steps},
    {"s26_r5_6_callback_order_preserved",
     test_s26_r5_6_callback_order_preserved},
    {"s26_r5_7_explicitly_paused_outer_keeps_inner_result",
     test_s26_r5_7_explicitly_paused_outer_keeps_inner_result},
    {"s26_r5_10_errback_returning_deferred_recovers",
     test_s26_r5_10_errback_returning_deferred_recovers},
    {"s26_r5_10_inner_failure_replaces_the_original",
     test_s26_r5_10_inner_failure_replaces_the_original},
    {"s26_r5_12_running_inner_is_waited_for",
     test_s26_r5_12_running_inner_is_waited_for},
    {"s26_caller_may_drop_both_references_while_waiting",
     test_s26_caller_may_drop_both_references_while_waiting},
    {"s27_callback_returning_its_own_deferred_fails",
     test_s27_callback_returning_its_own_deferred_fails},
    {"s27_errback_returning_its_own_deferred_fails",
     test_s27_errback_returning_its_own_deferred_fails},
    {"s27_added_after_firing_fails_too", test_s27_added_after_firing_fails_too},
    {"s27_cycle_of_two_waiting_deferreds_fails",
     test_s27_cycle_of_two_waiting_deferreds_fails},
    {"s28_chain_fires_other_with_the_result",
     test_s28_chain_fires_other_with_the_result},
    {"s28_chain_moves_a_failure_into_other",
     test_s28_chain_moves_a_failure_into_other},
    {"s28_firing_other_does_not_fire_this_one",
     test_s28_firing_other_does_not_fire_this_one},
    {"s28_chain_step_sits_where_it_was_added",
     test_s28_chain_step_sits_where_it_was_added},
    {"s28_r6_2_other_already_fired_fails_this_chain",
     test_s28_r6_2_other_already_fired_fails_this_chain},
    {"s28_r6_4_cancel_of_other_does_not_reach_this_one",
     test_s28_r6_4_cancel_of_other_does_not_reach_this_one},
    {"s28_r6_4_cancelled_other_with_canceller_gives_already_called",
     test_s28_r6_4_cancelled_other_with_canceller_gives_already_called},
    {"s28_r6_4_cancel_of_this_one_flows_into_other",
     test_s28_r6_4_cancel_of_this_one_flows_into_other},
    {"s28_r6_3_long_explicit_chain", test_s28_r6_3_long_explicit_chain},
    {"s28_r5_7_chain_into_deferred_handing_off_to_paused_waiter",
     test_s28_r5_7_chain_into_deferred_handing_off_to_paused_waiter},
    {"s28_r5_7_waiter_pausing_the_source_of_the_hand_off",
     test_s28_r5_7_waiter_pausing_the_source_of_the_hand_off},
    {"s28_r5_7_paused_hand_off_frees_everything",
     test_s28_r5_7_paused_hand_off_frees_everything},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("waiting", tests); }
