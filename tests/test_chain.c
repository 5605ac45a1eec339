/* Callback chains: S01-S08, R1, R2.3, R3. */
#include <string.h>

#include "dft.h"

static df_failure *seen_failure;
static int seen_calls;

/* An errback that remembers the failure it saw and passes it on. */
static df_result eb_remember(df_result in, void *arg) {
  (void)arg;
  seen_failure = df_result_failure(in);
  seen_calls++;
  return in;
}

/* S07's errorHandler: failure.trap(SpamError, EggError). */
static df_result eb_trap_spam_egg(df_result in, void *arg) {
  (void)arg;
  const df_error_type *t = df_failure_check(
      df_result_failure(in), &DFT_SPAM_ERROR, &DFT_EGG_ERROR, NULL);
  if (t == NULL)
    return in;
  dft_trace("handled:%s", t->name);
  df_result_free(in);
  return df_ok(NULL, NULL);
}

/* The same with DF_TRAP, Failure.trap's counterpart. */
static df_result eb_df_trap(df_result in, void *arg) {
  (void)arg;
  DF_TRAP(in, &DFT_SPAM_ERROR, &DFT_EGG_ERROR);
  dft_trace("trapped:%s", df_failure_type(df_result_failure(in))->name);
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void test_s01_callbacks_wait_for_the_result(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  CU_ASSERT_FALSE(df_called(d));
  CU_ASSERT_FALSE(dft_peek_is_value(d, "x") || dft_peek_is_none(d));
  CU_ASSERT_EQUAL(df_callback(d, dft_str("x"), dft_str_free), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='x'");
  CU_ASSERT(df_called(d));
  CU_ASSERT(dft_peek_is_value(d, "x"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_s01_callback_added_after_fire_runs_at_once(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_callback(d, dft_str("x"), dft_str_free);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='x'");
  df_add_callback(d, dft_cb_append, DFT_S("!"));
  df_add_callback(d, dft_cb_trace, DFT_S("b"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='x' b='x!'");
  df_unref(d);
}

static void test_s02_each_callback_gets_the_previous_return(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_append, DFT_S(" one"));
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  df_add_callback(d, dft_cb_append, DFT_S(" two"));
  df_add_callback(d, dft_cb_trace, DFT_S("b"));
  df_callback(d, dft_str("zero"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='zero one' b='zero one two'");
  CU_ASSERT(dft_peek_is_value(d, "zero one two"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 3);
}

static void test_s02_callback_gets_its_own_arg(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks(d, dft_cb_trace, DFT_S("cb-arg"), dft_cb_trace,
                   DFT_S("eb-arg"));
  df_add_callbacks(d, dft_cb_fail, DFT_S("boom"), dft_cb_trace, DFT_S("never"));
  df_add_callbacks(d, dft_cb_trace, DFT_S("never"), dft_cb_trace,
                   DFT_S("eb-arg2"));
  df_callback(d, NULL, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "cb-arg=None eb-arg2=<RuntimeError: boom>");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_s03_failure_runs_first_errback_and_skips_callbacks(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("c1"));
  df_add_errback(d, dft_cb_trace, DFT_S("e1"));
  df_add_callback(d, dft_cb_trace, DFT_S("c2"));
  df_add_errback(d, dft_cb_trace, DFT_S("e2"));
  df_add_errback(d, dft_cb_none, NULL);
  CU_ASSERT_EQUAL(df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "bang")),
                  0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "e1=<RuntimeError: bang> e2=<RuntimeError: bang>");
  CU_ASSERT(df_called(d));
  CU_ASSERT(dft_peek_is_none(d));
  df_unref(d);
}

static void test_s03_value_skips_errbacks(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_trace, DFT_S("e1"));
  df_add_callback(d, dft_cb_trace, DFT_S("c1"));
  df_add_errback(d, dft_cb_trace, DFT_S("e2"));
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "c1='v'");
  df_unref(d);
}

static void test_s04_callback_failure_goes_to_next_errback(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_fail, DFT_S("from callback"));
  df_add_callback(d, dft_cb_trace, DFT_S("skipped"));
  df_add_errback(d, dft_cb_trace, DFT_S("e"));
  df_add_errback(d, dft_cb_none, NULL);
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "e=<RuntimeError: from callback>");
  CU_ASSERT_EQUAL(dft_str_frees(), 1); /* the callback freed its input */
  df_unref(d);
}

static void test_s05_errback_value_resumes_callbacks(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_value, DFT_S("recovered"));
  df_add_errback(d, dft_cb_trace, DFT_S("skipped-eb"));
  df_add_callback(d, dft_cb_trace, DFT_S("c"));
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "bang"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "c='recovered'");
  CU_ASSERT(dft_peek_is_value(d, "recovered"));
  df_unref(d);
}

static void test_s05_errback_returning_nothing_gives_next_callback_null(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_none, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("c"));
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "bang"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "c=None");
  CU_ASSERT(dft_peek_is_none(d));
  df_unref(d);
}

static void test_s06_errback_returning_its_failure_passes_it_on(void) {
  seen_failure = NULL;
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 7, "bang");
  df_add_errback(d, dft_cb_trace, DFT_S("e1"));
  df_add_errback(d, eb_remember, NULL);
  df_add_errback(d, dft_cb_none, NULL);
  df_errback(d, f);
  CU_ASSERT_PTR_EQUAL(seen_failure, f);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "e1=<RuntimeError: bang>");
  df_unref(d);
}

static void test_s06_errback_returning_new_failure_replaces_it(void) {
  seen_failure = NULL;
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_fail, DFT_S("replacement"));
  df_add_errback(d, dft_cb_trace, DFT_S("e2"));
  df_add_errback(d, dft_cb_none, NULL);
  long before = dft_alloc_outstanding();
  df_errback(d, df_failure_new(&DFT_VALUE_ERROR, 0, "original"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "e2=<RuntimeError: replacement>");
  /* Both failures were freed: the original by the replacing errback, the
   * replacement by the handling one. */
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
  df_unref(d);
}

static void test_s07_trap_handles_listed_types_and_subtypes(void) {
  const df_error_type *types[] = {&DFT_SPAM_ERROR, &DFT_EGG_ERROR,
                                  &DFT_TIN_ERROR};
  for (size_t i = 0; i < 3; i++) {
    df_deferred *d = df_deferred_new(NULL, NULL);
    df_add_errback(d, eb_trap_spam_egg, NULL);
    df_add_callback(d, dft_cb_trace, DFT_S("after"));
    df_errback(d, df_failure_new(types[i], 0, "cooking"));
    df_unref(d);
  }
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "handled:SpamError after=None handled:EggError "
                         "after=None handled:SpamError after=None");
}

static void test_s07_trap_passes_other_failure_on_unchanged(void) {
  seen_failure = NULL;
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_failure *f = df_failure_new(&DFT_VALUE_ERROR, 3, "not spam");
  df_add_errback(d, eb_trap_spam_egg, NULL);
  df_add_errback(d, eb_remember, NULL);
  df_add_errback(d, dft_cb_trace, DFT_S("next"));
  df_add_errback(d, dft_cb_none, NULL);
  df_errback(d, f);
  CU_ASSERT_PTR_EQUAL(seen_failure, f);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "next=<ValueError: not spam>");
  df_unref(d);
}

static void test_s07_trap_of_subtype_does_not_catch_base(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, eb_trap_spam_egg, NULL);
  df_errback(d, df_failure_new(&DF_ERROR, 0, "base"));
  CU_ASSERT(dft_peek_is_failure(d, &DF_ERROR));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_s07_df_trap_handles_listed_types_passes_others(void) {
  seen_failure = NULL;
  const df_error_type *types[] = {&DFT_EGG_ERROR, &DFT_TIN_ERROR,
                                  &DFT_VALUE_ERROR};
  df_failure *last = NULL;
  for (size_t i = 0; i < 3; i++) {
    df_deferred *d = df_deferred_new(NULL, NULL);
    df_add_errback(d, eb_df_trap, NULL);
    df_add_both(d, dft_cb_trace, DFT_S("next"));
    df_add_errback(d, eb_remember, NULL);
    df_add_errback(d, dft_cb_none, NULL);
    last = df_failure_new(types[i], 0, "cooking");
    df_errback(d, last);
    df_unref(d);
  }
  /* The unmatched failure went on unchanged: same failure, same message. */
  CU_ASSERT_PTR_EQUAL(seen_failure, last);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "trapped:EggError next=None trapped:TinnedSpamError "
                         "next=None next=<ValueError: cooking>");
}

static void test_s08_pair_errback_never_sees_its_own_callback_failure(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks(d, dft_cb_fail, DFT_S("callback1"), dft_cb_trace,
                   DFT_S("errback1"));
  df_add_callbacks(d, dft_cb_trace, DFT_S("callback2"), dft_cb_trace,
                   DFT_S("errback2"));
  df_add_errback(d, dft_cb_none, NULL);
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "errback2=<RuntimeError: callback1>");
  df_unref(d);
}

static void test_s08_callback_then_errback_sees_callback_failure(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_fail, DFT_S("callback1"));
  df_add_errback(d, dft_cb_trace, DFT_S("errback1"));
  df_add_callback(d, dft_cb_trace, DFT_S("callback2"));
  df_add_errback(d, dft_cb_trace, DFT_S("errback2"));
  df_add_errback(d, dft_cb_none, NULL);
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "errback1=<RuntimeError: callback1> "
                         "errback2=<RuntimeError: callback1>");
  df_unref(d);
}

static void test_s08_pair_errback_sees_failure_reaching_the_pair(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks(d, dft_cb_trace, DFT_S("callback1"), dft_cb_value,
                   DFT_S("handled"));
  df_add_callbacks(d, dft_cb_trace, DFT_S("callback2"), dft_cb_trace,
                   DFT_S("errback2"));
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "early"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "callback2='handled'");
  df_unref(d);
}

static void test_s08_null_errback_side_passes_failure_through(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_EQUAL(
      df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), NULL, NULL), d);
  df_add_errback(d, dft_cb_trace, DFT_S("eb"));
  df_add_errback(d, dft_cb_none, NULL);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<RuntimeError: x>");
  df_unref(d);
}

static void test_s08_null_callback_side_passes_value_through(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_EQUAL(
      df_add_callbacks(d, NULL, NULL, dft_cb_trace, DFT_S("eb")), d);
  df_add_callback(d, dft_cb_trace, DFT_S("cb"));
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb='v'");
  df_unref(d);
}

static void test_s08_add_both_runs_for_value_and_failure(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_both(a, dft_cb_trace, DFT_S("a"));
  df_add_both(b, dft_cb_trace, DFT_S("b"));
  df_add_both(b, dft_cb_none, NULL);
  df_callback(a, dft_str("v"), dft_str_free);
  df_errback(b, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v' b=<RuntimeError: x>");
  df_unref(a);
  df_unref(b);
}

static void test_s08_adders_return_the_deferred_for_chaining(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_EQUAL(
      df_add_both(df_add_errback(df_add_callback(d, dft_cb_trace, DFT_S("c")),
                                 dft_cb_trace, DFT_S("e")),
                  dft_cb_trace, DFT_S("b")),
      d);
  df_callback(d, NULL, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "c=None b=None");
  df_unref(d);
}

static void test_r1_9_fire_with_failure_result_is_errback(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks(d, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  df_add_errback(d, dft_cb_none, NULL);
  CU_ASSERT_EQUAL(df_fire(d, dft_failure(&DFT_VALUE_ERROR, "via fire")), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<ValueError: via fire>");
  CU_ASSERT(df_called(d));
  df_unref(d);
}

static void test_r1_10_failure_without_errback_stays_the_result(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("c1"));
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "kept"));
  df_add_callback(d, dft_cb_trace, DFT_S("c2"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  CU_ASSERT(dft_peek_is_failure(d, &DFT_RUNTIME_ERROR));
  df_add_errback(d, dft_cb_trace, DFT_S("late"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "late=<RuntimeError: kept>");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static int refire_status;

static df_result cb_refire(df_result in, void *arg) {
  refire_status =
      df_callback((df_deferred *)arg, dft_str("again"), dft_str_free);
  return in;
}

static void test_r2_3_fire_from_own_callback_is_already_called(void) {
  refire_status = 1;
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_refire, d);
  df_add_callback(d, dft_cb_trace, DFT_S("after"));
  CU_ASSERT_EQUAL(df_callback(d, dft_str("first"), dft_str_free), 0);
  CU_ASSERT_EQUAL(refire_status, DF_EALREADY);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "after='first'");
  CU_ASSERT_EQUAL(dft_str_frees(), 1); /* "again" */
  df_unref(d);
}

static df_result cb_add_late(df_result in, void *arg) {
  dft_trace("c1-start");
  df_add_callback((df_deferred *)arg, dft_cb_trace, DFT_S("c3"));
  dft_trace("c1-end");
  return in;
}

static void test_r3_1_callback_added_while_running_is_appended(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_add_late, d);
  df_add_callback(d, dft_cb_trace, DFT_S("c2"));
  df_callback(d, NULL, NULL);
  /* Twisted test_reentrantRunCallbacks / test_nonReentrantCallbacks. */
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "c1-start c1-end c2=None c3=None");
  df_unref(d);
}

static df_result cb_add_failing(df_result in, void *arg) {
  df_add_callback((df_deferred *)arg, dft_cb_fail, DFT_S("late failure"));
  return in;
}

static void test_r3_2_late_added_callback_failure_reaches_errback(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_add_failing, d);
  df_callback(d, NULL, NULL);
  CU_ASSERT(dft_peek_is_failure(d, &DFT_RUNTIME_ERROR));
  df_add_errback(d, dft_cb_trace, DFT_S("eb"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<RuntimeError: late failure>");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static df_result cb_fire_other(df_result in, void *arg) {
  dft_trace("a1-start");
  CU_ASSERT_EQUAL(df_callback((df_deferred *)arg, dft_str("c"), dft_str_free),
                  0);
  dft_trace("a1-end");
  return in;
}

static void test_r3_3_firing_another_deferred_runs_its_chain_nested(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *c = df_deferred_new(NULL, NULL);
  df_add_callback(c, dft_cb_trace, DFT_S("c1"));
  df_add_callback(a, cb_fire_other, c);
  df_add_callback(a, dft_cb_trace, DFT_S("a2"));
  df_callback(a, dft_str("a"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a1-start c1='c' a1-end a2='a'");
  df_unref(a);
  df_unref(c);
}

static df_result cb_count(df_result in, void *arg) {
  (*(int *)arg)++;
  return in;
}

static void test_s01_many_steps_run_in_order_once(void) {
  int count = 0;
  df_deferred *d = df_deferred_new(NULL, NULL);
  for (int i = 0; i < 1000; i++)
    df_add_callback(d, cb_count, &count);
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_EQUAL(count, 1000);
  for (int i = 0; i < 1000; i++)
    df_add_callback(d, cb_count, &count);
  CU_ASSERT_EQUAL(count, 2000);
  CU_ASSERT(dft_peek_is_value(d, "v"));
  df_unref(d);
}

static void test_s01_caller_may_drop_its_reference_after_adding(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *keep = df_ref(d);
  CU_ASSERT_PTR_EQUAL(keep, d);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  df_unref(d);
  df_callback(keep, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v'");
  df_unref(keep);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static df_result cb_peek_self(df_result in, void *arg) {
  df_result view;
  df_deferred *d = arg;
  dft_trace("called=%d peek=%d", df_called(d), df_peek(d, &view));
  return in;
}

static void test_s01_running_chain_shows_no_result(void) {
  /* While a callback runs it owns the result: nothing to peek at. */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_peek_self, d);
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "called=1 peek=0");
  CU_ASSERT(dft_peek_is_value(d, "v"));
  df_unref(d);
}

/* R3.1 across a growing queue: a running callback appends enough steps to
 * its own Deferred to move the step array (more than once) while the loop
 * is between two of them; every step runs once, in order. */
struct grow_state {
  df_deferred *d;
  int next;  /* the order number the next step must have */
  int wrong; /* steps that ran out of order */
};

struct grow_cell {
  struct grow_state *g;
  int order;
};

static df_result cb_in_order(df_result in, void *arg) {
  struct grow_cell *cell = arg;
  if (cell->order != cell->g->next)
    cell->g->wrong++;
  cell->g->next++;
  return in;
}

static struct grow_cell grow_cells[301];

static df_result cb_append_many(df_result in, void *arg) {
  struct grow_state *g = arg;
  for (int i = 1; i <= 300; i++) {
    grow_cells[i].g = g;
    grow_cells[i].order = g->next + i;
    df_add_callback(g->d, cb_in_order, &grow_cells[i]);
  }
  g->next++;
  return in;
}

static void test_r3_1_steps_added_while_running_grow_the_queue(void) {
  struct grow_state g = {df_deferred_new(NULL, NULL), 0, 0};
  grow_cells[0].g = &g;
  grow_cells[0].order = 0;
  df_add_callback(g.d, cb_in_order, &grow_cells[0]);
  df_add_callback(g.d, cb_append_many, &g);
  df_callback(g.d, dft_str("v"), dft_str_free);
  CU_ASSERT_EQUAL(g.next, 302);
  CU_ASSERT_EQUAL(g.wrong, 0);
  CU_ASSERT(dft_peek_is_value(g.d, "v"));
  df_unref(g.d);
}

/* A Deferred that ran part of a long queue and now waits: steps added while
 * it waits may move the rest of the queue to the front (nothing runs it
 * meanwhile); the order is kept. */
static void test_s26_steps_added_while_waiting_keep_their_order(void) {
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_deferred *d = df_deferred_new(NULL, NULL);
  for (int i = 0; i < 40; i++)
    df_add_callback(d, dft_cb_append, DFT_S("."));
  df_add_callback(d, dft_cb_wait, inner);
  df_add_callback(d, dft_cb_append, DFT_S("|"));
  df_callback(d, dft_str(""), dft_str_free);
  CU_ASSERT(df_waiting(d));
  for (int i = 0; i < 200; i++)
    df_add_callback(d, dft_cb_append, DFT_S(i % 2 ? "b" : "a"));
  df_callback(inner, dft_str("in"), dft_str_free);
  char want[256] = "in|";
  for (int i = 0; i < 200; i++)
    strcat(want, i % 2 ? "b" : "a");
  CU_ASSERT(dft_peek_is_value(d, want));
  df_unref(d);
  df_unref(inner);
}

/* R4.2: the pause count is bounded; past it df_pause refuses and changes
 * nothing. */
static void test_r4_2_pause_count_is_bounded(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  int i = 0;
  while (i < 70000 && df_pause(d) == 0)
    i++;
  CU_ASSERT_EQUAL(i, 65535);
  CU_ASSERT_EQUAL(df_pause(d), DF_EBUSY);
  df_add_callback(d, dft_cb_trace, DFT_S("a"));
  df_callback(d, dft_str("v"), dft_str_free);
  while (i-- > 1)
    CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v'");
  df_unref(d);
}

static CU_TestInfo tests[] = {
    {"s01_callbacks_wait_for_the_result",
     test_s01_callbacks_wait_for_the_result},
    {"s01_callback_added_after_fire_runs_at_once",
     test_s01_callback_added_after_fire_runs_at_once},
    {"s01_running_chain_shows_no_result",
     test_s01_running_chain_shows_no_result},
    {"s01_many_steps_run_in_order_once", test_s01_many_steps_run_in_order_once},
    {"s01_caller_may_drop_its_reference_after_adding",
     test_s01_caller_may_drop_its_reference_after_adding},
    {"s02_each_callback_gets_the_previous_return",
     test_s02_each_callback_gets_the_previous_return},
    {"s02_callback_gets_its_own_arg", test_s02_callback_gets_its_own_arg},
    {"s03_failure_runs_first_errback_and_skips_callbacks",
     test_s03_failure_runs_first_errback_and_skips_callbacks},
    {"s03_value_skips_errbacks", test_s03_value_skips_errbacks},
    {"s04_callback_failure_goes_to_next_errback",
     test_s04_callback_failure_goes_to_next_errback},
    {"s05_errback_value_resumes_callbacks",
     test_s05_errback_value_resumes_callbacks},
    {"s05_errback_returning_nothing_gives_next_callback_null",
     test_s05_errback_returning_nothing_gives_next_callback_null},
    {"s06_errback_returning_its_failure_passes_it_on",
     test_s06_errback_returning_its_failure_passes_it_on},
    {"s06_errback_returning_new_failure_replaces_it",
     test_s06_errback_returning_new_failure_replaces_it},
    {"s07_trap_handles_listed_types_and_subtypes",
     test_s07_trap_handles_listed_types_and_subtypes},
    {"s07_trap_passes_other_failure_on_unchanged",
     test_s07_trap_passes_other_failure_on_unchanged},
    {"s07_trap_of_subtype_does_not_catch_base",
     test_s07_trap_of_subtype_does_not_catch_base},
    {"s07_df_trap_handles_listed_types_passes_others",
     test_s07_df_trap_handles_listed_types_passes_others},
    {"s08_pair_errback_never_sees_its_own_callback_failure",
     test_s08_pair_errback_never_sees_its_own_callback_failure},
    {"s08_callback_then_errback_sees_callback_failure",
     test_s08_callback_then_errback_sees_callback_failure},
    {"s08_pair_errback_sees_failure_reaching_the_pair",
     test_s08_pair_errback_sees_failure_reaching_the_pair},
    {"s08_null_errback_side_passes_failure_through",
     test_s08_null_errback_side_passes_failure_through},
    {"s08_null_callback_side_passes_value_through",
     test_s08_null_callback_side_passes_value_through},
    {"s08_add_both_runs_for_value_and_failure",
     test_s08_add_both_runs_for_value_and_failure},
    {"s08_adders_return_the_deferred_for_chaining",
     test_s08_adders_return_the_deferred_for_chaining},
    {"r1_9_fire_with_failure_result_is_errback",
     test_r1_9_fire_with_failure_result_is_errback},
    {"r1_10_failure_without_errback_stays_the_result",
     test_r1_10_failure_without_errback_stays_the_result},
    {"r2_3_fire_from_own_callback_is_already_called",
     test_r2_3_fire_from_own_callback_is_already_called},
    {"r3_1_callback_added_while_running_is_appended",
     test_r3_1_callback_added_while_running_is_appended},
    {"r3_1_steps_added_while_running_grow_the_queue",
     test_r3_1_steps_added_while_running_grow_the_queue},
    {"s26_steps_added_while_waiting_keep_their_order",
     test_s26_steps_added_while_waiting_keep_their_order},
    {"r4_2_pause_count_is_bounded", test_r4_2_pause_count_is_bounded},
    {"r3_2_late_added_callback_failure_reaches_errback",
     test_r3_2_late_added_callback_failure_reaches_errback},
    {"r3_3_firing_another_deferred_runs_its_chain_nested",
     test_r3_3_firing_another_deferred_runs_its_chain_nested},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("chain", tests); }
