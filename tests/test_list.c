/* DeferredList and gatherResults: S21-S25, R8, R9. */
#include "dft.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What an errback saw of a FirstError. */
static struct {
  int calls;
  const df_error_type *type;
  int index;
  df_failure *cause;
  const df_error_type *cause_type;
  const df_error_type *cause_cause_type;
} first_error;

static df_result eb_first_error(df_result in, void *arg) {
  (void)arg;
  df_failure *f = df_result_failure(in);
  first_error.calls++;
  first_error.type = df_failure_type(f);
  first_error.index = df_failure_code(f);
  first_error.cause = df_failure_cause(f);
  first_error.cause_type = df_failure_type(first_error.cause);
  first_error.cause_cause_type =
      df_failure_type(df_failure_cause(first_error.cause));
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void reset_first_error(void) {
  first_error.calls = 0;
  first_error.type = NULL;
  first_error.index = -1;
  first_error.cause = NULL;
  first_error.cause_type = NULL;
  first_error.cause_cause_type = NULL;
}

static void fire_value(df_deferred *d, const char *text) {
  CU_ASSERT_EQUAL(df_callback(d, dft_str(text), dft_str_free), 0);
}

static void fire_failure(df_deferred *d, const char *text) {
  CU_ASSERT_EQUAL(
      df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "%s", text)), 0);
}

static void unref_all(df_deferred **ds, size_t n) {
  for (size_t i = 0; i < n; i++)
    df_unref(ds[i]);
}

static void new_all(df_deferred **ds, size_t n) {
  for (size_t i = 0; i < n; i++)
    ds[i] = df_deferred_new(NULL, NULL);
}

/* ------------------------------------------------------------ S21 */

static void test_s21_fires_with_pairs_in_member_order(void) {
  df_deferred *ds[3];
  new_all(ds, 3);
  df_deferred *dl = df_list(ds, 3, 0);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_value(ds[1], "two");
  fire_value(ds[2], "three");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  CU_ASSERT_FALSE(df_called(dl));
  fire_value(ds[0], "one");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "dl=[(True, 'one'), (True, 'two'), (True, 'three')]");
  df_unref(dl);
  unref_all(ds, 3);
}

static void test_s21_never_errbacks_in_default_mode(void) {
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *dl = df_list(ds, 2, DF_CONSUME_ERRORS);
  df_add_callbacks(dl, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  fire_failure(ds[0], "bang!");
  fire_failure(ds[1], "boom!");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "cb=[(False, <RuntimeError: bang!>), "
                         "(False, <RuntimeError: boom!>)]");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_s21_lists_nest(void) {
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *inner = df_list(ds, 2, 0);
  df_deferred *c = df_deferred_new(NULL, NULL);
  df_deferred *outer_members[2] = {inner, c};
  df_deferred *outer = df_list(outer_members, 2, 0);
  df_add_callback(outer, dft_cb_trace, DFT_S("outer"));
  fire_value(c, "c");
  fire_value(ds[0], "a");
  fire_value(ds[1], "b");
  CU_ASSERT_STRING_EQUAL(
      dft_trace_text(),
      "outer=[(True, [(True, 'a'), (True, 'b')]), (True, 'c')]");
  df_unref(outer);
  df_unref(inner);
  df_unref(c);
  unref_all(ds, 2);
}

static void test_s21_list_keeps_itself_alive_until_it_fires(void) {
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *dl = df_list(ds, 2, 0);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  df_unref(dl); /* the members' steps hold the list */
  fire_value(ds[0], "one");
  fire_value(ds[1], "two");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=[(True, 'one'), (True, 'two')]");
  unref_all(ds, 2);
}

static void test_s21_members_may_be_released_by_the_caller(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *fire_a = df_ref(a);
  df_deferred *dl = df_list(&a, 1, 0);
  df_unref(a); /* the list took its own reference */
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_value(fire_a, "one");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=[(True, 'one')]");
  df_unref(fire_a);
  df_unref(dl);
}

static void test_r8_2_empty_list_fires_at_once(void) {
  df_deferred *plain = df_list(NULL, 0, 0);
  df_deferred *on_err = df_list(NULL, 0, DF_FIRE_ON_ONE_ERRBACK);
  df_add_callback(plain, dft_cb_trace, DFT_S("plain"));
  df_add_callback(on_err, dft_cb_trace, DFT_S("on_err"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "plain=[] on_err=[]");
  df_unref(plain);
  df_unref(on_err);
}

static void test_r8_2_empty_list_with_fire_on_one_callback_never_fires(void) {
  df_deferred *dl = df_list(NULL, 0, DF_FIRE_ON_ONE_CALLBACK);
  df_add_both(dl, dft_cb_trace, DFT_S("dl"));
  CU_ASSERT_FALSE(df_called(dl));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_unref(dl);
}

static void test_r8_3_already_fired_members_are_seen_at_construction(void) {
  /* testDeferredListWithAlreadyFiredDeferreds. */
  df_deferred *ds[2] = {df_succeed(dft_str("1"), dft_str_free),
                        df_succeed(dft_str("2"), dft_str_free)};
  df_deferred *dl = df_list(ds, 2, 0);
  CU_ASSERT(df_called(dl));
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=[(True, '1'), (True, '2')]");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_r8_3_fire_on_one_callback_with_already_fired_member(void) {
  df_deferred *ds[2] = {df_deferred_new(NULL, NULL),
                        df_succeed(dft_str("ready"), dft_str_free)};
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_CALLBACK);
  CU_ASSERT(df_called(dl));
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=('ready', 1)");
  fire_value(ds[0], "later");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_r12_6_list_keeps_members_alive_until_released(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, 0);
  fire_failure(d, "member's");
  df_unref(d); /* the list still holds the member */
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "member's");
}

/* ------------------------------------------------------------ S22 */

static void test_s22_member_failure_goes_on_down_its_chain(void) {
  /* testDeferredListDontConsumeErrors. */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, 0);
  df_add_errback(d, dft_cb_trace, DFT_S("member"));
  df_add_errback(d, dft_cb_none, NULL);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_failure(d, "Bang");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=[(False, <RuntimeError: Bang>)] "
                                           "member=<RuntimeError: Bang>");
  df_unref(dl);
  df_unref(d);
}

static void test_s22_unconsumed_member_failure_is_reported(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, 0);
  fire_failure(d, "nobody");
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "nobody");
}

static void test_s22_consume_errors_member_continues_with_null(void) {
  /* testDeferredListConsumeErrors. */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, DF_CONSUME_ERRORS);
  df_add_errback(d, dft_cb_trace, DFT_S("member-eb"));
  df_add_callback(d, dft_cb_trace, DFT_S("member-cb"));
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_failure(d, "Bang");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "dl=[(False, <RuntimeError: Bang>)] member-cb=None");
  df_unref(d);
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
}

static void test_s22_consume_errors_spares_errbacks_added_before_joining(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_trace, DFT_S("before"));
  df_deferred *dl = df_list(&d, 1, DF_CONSUME_ERRORS);
  df_add_errback(d, dft_cb_trace, DFT_S("after"));
  fire_failure(d, "Bang");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "before=<RuntimeError: Bang>");
  CU_ASSERT(dft_peek_is_none(d));
  df_unref(d);
  df_unref(dl);
}

/* ------------------------------------------------------------ S23 */

static void test_s23_callbacks_added_before_joining_shape_the_value(void) {
  df_deferred *ds[2];
  new_all(ds, 2);
  df_add_callback(ds[0], dft_cb_append, DFT_S(" ten"));
  df_deferred *dl = df_list(ds, 2, 0);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_value(ds[0], "one");
  fire_value(ds[1], "two");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "dl=[(True, 'one ten'), (True, 'two')]");
  df_unref(dl);
  unref_all(ds, 2);
}

static void
test_s23_callbacks_added_after_joining_run_after_the_list_step(void) {
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *dl = df_list(ds, 2, 0);
  df_add_callback(ds[0], dft_cb_append, DFT_S(" ten"));
  df_add_callback(ds[0], dft_cb_trace, DFT_S("member"));
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_value(ds[1], "two");
  fire_value(ds[0], "one");
  /* R8.4: the list's callbacks run inside the member's chain, before the
   * member's later callbacks; those see the value the list recorded. */
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "dl=[(True, 'one'), (True, 'two')] member='one ten'");
  df_unref(dl);
  unref_all(ds, 2);
}

static const void *seen_ptr;
static df_free_fn seen_free;

static df_result cb_look(df_result in, void *arg) {
  (void)arg;
  seen_ptr = in.ptr;
  seen_free = in.free;
  return in;
}

static void test_s23_member_chain_and_list_share_the_value(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, 0);
  df_add_callback(d, cb_look, NULL);
  char *value = dft_str("shared");
  df_callback(d, value, dft_str_free);
  /* One value, two holders: the callback reads it in one step, as before
   * the list; its result is marked shared. */
  CU_ASSERT_PTR_EQUAL(seen_ptr, value);
  CU_ASSERT_PTR_NOT_NULL(seen_free);
  CU_ASSERT_PTR_NOT_EQUAL(seen_free, dft_str_free);
  CU_ASSERT_PTR_EQUAL(df_result_release_fn(df_ok(value, seen_free)),
                      dft_str_free);
  CU_ASSERT_EQUAL(dft_str_frees(), 0);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 0);
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_s23_shared_value_is_retained_by_the_list(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, 0);
  df_add_callback(d, cb_look, NULL);
  dft_shared *s = dft_shared_new("shared");
  df_fire(d, df_ok_shared(s, dft_shared_retain, dft_shared_release));
  CU_ASSERT_EQUAL(dft_shared_retains(), 1);
  CU_ASSERT_PTR_EQUAL(seen_ptr, s);
  CU_ASSERT_PTR_EQUAL(df_result_release_fn(df_ok(s, seen_free)),
                      dft_shared_release);
  CU_ASSERT_EQUAL(s->refs, 2);
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_shared_live(), 1);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_shared_live(), 0);
}

/* ------------------------------------------------------------ S24 */

static void test_s24_fire_on_one_callback_gives_first_success_and_index(void) {
  df_deferred *ds[3];
  new_all(ds, 3);
  df_deferred *dl = df_list(ds, 3, DF_FIRE_ON_ONE_CALLBACK);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  df_add_callback(ds[0], dft_cb_trace, DFT_S("m0"));
  fire_value(ds[1], "second");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=('second', 1)");
  fire_value(ds[0], "first");
  fire_value(ds[2], "third");
  /* The list fired once; the members' own chains go on. */
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=('second', 1) m0='first'");
  df_unref(dl);
  unref_all(ds, 3);
}

static void
test_s24_fire_on_one_callback_without_success_gives_full_list(void) {
  /* R8.6: callback (not errback) with the full list. */
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_CALLBACK | DF_CONSUME_ERRORS);
  df_add_callbacks(dl, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  fire_failure(ds[0], "a");
  fire_failure(ds[1], "b");
  CU_ASSERT_STRING_EQUAL(
      dft_trace_text(),
      "cb=[(False, <RuntimeError: a>), (False, <RuntimeError: b>)]");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_s24_later_failure_still_goes_down_the_member_chain(void) {
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_CALLBACK);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_value(ds[0], "x");
  fire_failure(ds[1], "b");
  df_add_errback(ds[1], dft_cb_trace, DFT_S("b-eb"));
  df_add_errback(ds[1], dft_cb_none, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "dl=('x', 0) b-eb=<RuntimeError: b>");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_s24_fire_on_one_errback_gives_first_error(void) {
  reset_first_error();
  /* testDeferredListFireOnOneError. */
  df_deferred *ds[3];
  new_all(ds, 3);
  df_deferred *dl = df_list(ds, 3, DF_FIRE_ON_ONE_ERRBACK | DF_CONSUME_ERRORS);
  df_add_callbacks(dl, dft_cb_trace, DFT_S("cb"), eb_first_error, NULL);
  fire_value(ds[0], "cat");
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 0, "from def2");
  df_errback(ds[1], df_failure_ref(f));
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_PTR_EQUAL(first_error.type, &DF_FIRST_ERROR);
  CU_ASSERT_EQUAL(first_error.index, 1);
  CU_ASSERT_PTR_EQUAL(first_error.cause, f);
  fire_failure(ds[2], "later");
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  df_failure_unref(f);
  df_unref(dl);
  unref_all(ds, 3);
}

static void test_s24_fire_on_one_errback_with_all_success_fires_normally(void) {
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_ERRBACK);
  df_add_callbacks(dl, dft_cb_trace, DFT_S("cb"), dft_cb_trace, DFT_S("eb"));
  fire_value(ds[0], "a");
  fire_value(ds[1], "b");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb=[(True, 'a'), (True, 'b')]");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_s24_fire_on_one_errback_with_already_failed_member(void) {
  reset_first_error();
  /* testDeferredListFireOnOneErrorWithAlreadyFiredDeferreds. */
  df_deferred *ds[2] = {df_succeed(dft_str("1"), dft_str_free),
                        df_fail_now(df_failure_new(&DFT_VALUE_ERROR, 0, "x"))};
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_ERRBACK);
  CU_ASSERT(df_called(dl));
  df_add_errback(dl, eb_first_error, NULL);
  CU_ASSERT_EQUAL(first_error.index, 1);
  CU_ASSERT_PTR_EQUAL(first_error.cause_type, &DFT_VALUE_ERROR);
  df_add_errback(ds[1], dft_cb_none, NULL);
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_s24_both_flags_first_event_wins(void) {
  reset_first_error();
  unsigned both =
      DF_FIRE_ON_ONE_CALLBACK | DF_FIRE_ON_ONE_ERRBACK | DF_CONSUME_ERRORS;
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *dl = df_list(ds, 2, both);
  df_add_callbacks(dl, dft_cb_trace, DFT_S("cb"), eb_first_error, NULL);
  fire_value(ds[1], "ok");
  fire_failure(ds[0], "late");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb=('ok', 1)");
  CU_ASSERT_EQUAL(first_error.calls, 0);
  df_unref(dl);
  unref_all(ds, 2);

  new_all(ds, 2);
  dl = df_list(ds, 2, both);
  df_add_callbacks(dl, dft_cb_trace, DFT_S("cb2"), eb_first_error, NULL);
  fire_failure(ds[1], "first");
  fire_value(ds[0], "late");
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_EQUAL(first_error.index, 1);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cb=('ok', 1)");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_s24_consume_errors_applies_after_the_list_fired(void) {
  reset_first_error();
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_ERRBACK | DF_CONSUME_ERRORS);
  df_add_errback(dl, eb_first_error, NULL);
  fire_failure(ds[0], "a");
  fire_failure(ds[1], "b");
  df_add_both(ds[1], dft_cb_trace, DFT_S("b-after"));
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_EQUAL(first_error.index, 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "b-after=None");
  df_unref(dl);
  unref_all(ds, 2);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
}

static void test_s24_r12_5_unhandled_first_error_is_reported(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, DF_FIRE_ON_ONE_ERRBACK | DF_CONSUME_ERRORS);
  fire_failure(d, "member");
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_PTR_EQUAL(dft_last_unhandled()->type, &DF_FIRST_ERROR);
}

/* ------------------------------------------------------------ R8.8 */

static void test_r8_8_duplicate_member_is_watched_twice(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *ds[2] = {d, d};
  df_deferred *dl = df_list(ds, 2, DF_CONSUME_ERRORS);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_failure(d, "err");
  df_add_both(d, dft_cb_trace, DFT_S("after"));
  CU_ASSERT_STRING_EQUAL(
      dft_trace_text(),
      "dl=[(False, <RuntimeError: err>), (True, None)] after=None");
  df_unref(dl);
  df_unref(d);
}

static void test_r8_8_duplicate_member_values(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *ds[2] = {d, d};
  df_deferred *dl = df_list(ds, 2, 0);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  fire_value(d, "v");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=[(True, 'v'), (True, 'v')]");
  df_unref(d);
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_r8_8_duplicate_member_first_error_uses_first_index(void) {
  reset_first_error();
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *ds[3] = {df_deferred_new(NULL, NULL), d, d};
  df_deferred *dl = df_list(ds, 3, DF_FIRE_ON_ONE_ERRBACK);
  df_add_errback(dl, eb_first_error, NULL);
  fire_failure(d, "err");
  df_add_errback(d, dft_cb_trace, DFT_S("after"));
  df_add_errback(d, dft_cb_none, NULL);
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_EQUAL(first_error.index, 1);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "after=<RuntimeError: err>");
  fire_value(ds[0], "x");
  df_unref(dl);
  df_unref(ds[0]);
  df_unref(d);
}

/* ------------------------------------------------------------ R8.9-R8.11 */

static int canceller_calls;

static void canceller_record(df_deferred *d, void *arg) {
  (void)d;
  canceller_calls++;
  dft_trace("cancel:%s", (const char *)arg);
}

static void canceller_callbacks(df_deferred *d, void *arg) {
  canceller_calls++;
  dft_trace("cancel:%s", (const char *)arg);
  df_callback(d, dft_str("Callback Result"), dft_str_free);
}

static void test_r8_9_cancel_cancels_every_member_in_order(void) {
  /* test_cancelDeferredList. */
  df_deferred *ds[2] = {df_deferred_new(canceller_record, DFT_S("a")),
                        df_deferred_new(canceller_record, DFT_S("b"))};
  df_deferred *dl = df_list(ds, 2, DF_CONSUME_ERRORS);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  df_cancel(dl);
  CU_ASSERT_STRING_EQUAL(
      dft_trace_text(),
      "cancel:a cancel:b dl=[(False, <Cancelled>), (False, <Cancelled>)]");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_r8_9_cancel_goes_on_after_the_list_fired(void) {
  canceller_calls = 0;
  /* test_cancelDeferredListWithFireOnOneCallbackAndDeferredCallback. */
  df_deferred *ds[2] = {df_deferred_new(canceller_callbacks, DFT_S("a")),
                        df_deferred_new(canceller_record, DFT_S("b"))};
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_CALLBACK);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  df_cancel(dl);
  CU_ASSERT_EQUAL(canceller_calls, 2);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "cancel:a dl=('Callback Result', 0) cancel:b");
  df_add_errback(ds[1], dft_cb_none, NULL);
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_r8_9_list_copies_its_input(void) {
  /* test_cancelDeferredListWithOriginalDeferreds. */
  df_deferred *a = df_deferred_new(canceller_record, DFT_S("a"));
  df_deferred *other = df_deferred_new(canceller_record, DFT_S("other"));
  df_deferred *ds[1] = {a};
  df_deferred *dl = df_list(ds, 1, DF_CONSUME_ERRORS);
  ds[0] = other;
  df_cancel(dl);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "cancel:a");
  CU_ASSERT_FALSE(df_called(other));
  df_unref(dl);
  df_unref(a);
  df_unref(other);
}

static void test_r8_9_cancel_of_fired_list_does_nothing(void) {
  canceller_calls = 0;
  /* test_cancelFiredOnOneCallbackDeferredList. */
  df_deferred *ds[2] = {df_deferred_new(canceller_record, DFT_S("a")),
                        df_deferred_new(canceller_record, DFT_S("b"))};
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_CALLBACK);
  fire_value(ds[0], "test");
  df_cancel(dl);
  CU_ASSERT_EQUAL(canceller_calls, 0);
  CU_ASSERT_FALSE(df_called(ds[1]));
  fire_value(ds[1], "later");
  df_unref(dl);
  unref_all(ds, 2);
}

static void test_r8_11_cancellation_outcomes_are_ordinary_results(void) {
  /* test_cancelDeferredListCallback. */
  df_deferred *ds[2] = {df_deferred_new(canceller_callbacks, DFT_S("a")),
                        df_deferred_new(canceller_record, DFT_S("b"))};
  df_deferred *dl = df_list(ds, 2, DF_CONSUME_ERRORS);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  df_cancel(dl);
  CU_ASSERT_STRING_EQUAL(
      dft_trace_text(), "cancel:a cancel:b "
                        "dl=[(True, 'Callback Result'), (False, <Cancelled>)]");
  df_unref(dl);
  unref_all(ds, 2);
}

/* ------------------------------------------------------------ S25 */

static void test_s25_gather_gives_every_value_in_order(void) {
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *g = df_gather(ds, 2, DF_CONSUME_ERRORS);
  df_add_callback(g, dft_cb_trace, DFT_S("g"));
  fire_value(ds[1], "two");
  CU_ASSERT_FALSE(df_called(g));
  fire_value(ds[0], "one");
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "g=[(True, 'one'), (True, 'two')]");
  df_unref(g);
  unref_all(ds, 2);
}

static void test_s25_gather_errbacks_with_first_failure_and_index(void) {
  reset_first_error();
  /* test_gatherResults. */
  df_deferred *ds[2] = {df_succeed(dft_str("1"), dft_str_free),
                        df_fail_now(df_failure_new(&DFT_VALUE_ERROR, 0, "x"))};
  df_deferred *g = df_gather(ds, 2, 0);
  df_add_errback(g, eb_first_error, NULL);
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_PTR_EQUAL(first_error.type, &DF_FIRST_ERROR);
  CU_ASSERT_EQUAL(first_error.index, 1);
  CU_ASSERT_PTR_EQUAL(first_error.cause_type, &DFT_VALUE_ERROR);
  df_add_errback(ds[1], dft_cb_none, NULL); /* get rid of the error */
  df_unref(g);
  unref_all(ds, 2);
}

static void test_s25_gather_later_failures_do_not_refire(void) {
  reset_first_error();
  df_deferred *ds[3];
  new_all(ds, 3);
  df_deferred *g = df_gather(ds, 3, DF_CONSUME_ERRORS);
  df_add_errback(g, eb_first_error, NULL);
  fire_failure(ds[2], "third");
  fire_failure(ds[0], "first");
  fire_value(ds[1], "ok");
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_EQUAL(first_error.index, 2);
  df_unref(g);
  unref_all(ds, 3);
}

static void test_r9_2_nested_gather_nests_first_errors(void) {
  reset_first_error();
  df_deferred *inner_ds[2];
  new_all(inner_ds, 2);
  df_deferred *inner = df_gather(inner_ds, 2, DF_CONSUME_ERRORS);
  df_deferred *outer_ds[2] = {df_deferred_new(NULL, NULL), inner};
  df_deferred *outer = df_gather(outer_ds, 2, DF_CONSUME_ERRORS);
  df_add_errback(outer, eb_first_error, NULL);
  fire_failure(inner_ds[1], "deep");
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_EQUAL(first_error.index, 1);
  CU_ASSERT_PTR_EQUAL(first_error.cause_type, &DF_FIRST_ERROR);
  CU_ASSERT_PTR_EQUAL(first_error.cause_cause_type, &DFT_RUNTIME_ERROR);
  fire_value(inner_ds[0], "x");
  fire_value(outer_ds[0], "y");
  df_unref(outer);
  unref_all(outer_ds, 2);
  unref_all(inner_ds, 2);
}

static void test_r9_3_gather_consume_errors(void) {
  reset_first_error();
  /* test_gatherResultsWithConsumeErrors. */
  df_deferred *good = df_succeed(dft_str("1"), dft_str_free);
  df_deferred *bad =
      df_fail_now(df_failure_new(&DFT_RUNTIME_ERROR, 0, "oh noes"));
  df_deferred *ds[2] = {good, bad};
  df_deferred *g = df_gather(ds, 2, DF_CONSUME_ERRORS);
  df_add_errback(bad, dft_cb_trace, DFT_S("unconsumed"));
  df_add_errback(g, eb_first_error, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  CU_ASSERT_EQUAL(first_error.calls, 1);
  CU_ASSERT_PTR_EQUAL(first_error.cause_type, &DFT_RUNTIME_ERROR);
  df_unref(g);
  df_unref(good);
  df_unref(bad);
}

static void test_r9_4_cancel_gather_cancels_every_member(void) {
  reset_first_error();
  /* test_cancelGatherResults. */
  df_deferred *ds[2];
  new_all(ds, 2);
  df_deferred *g = df_gather(ds, 2, 0);
  df_cancel(g);
  CU_ASSERT(dft_peek_is_failure(ds[0], &DF_CANCELLED));
  CU_ASSERT(dft_peek_is_failure(ds[1], &DF_CANCELLED));
  df_add_errback(g, eb_first_error, NULL);
  CU_ASSERT_EQUAL(first_error.index, 0);
  CU_ASSERT_PTR_EQUAL(first_error.cause_type, &DF_CANCELLED);
  df_add_errback(ds[0], dft_cb_none, NULL);
  df_add_errback(ds[1], dft_cb_none, NULL);
  df_unref(g);
  unref_all(ds, 2);
}

static void test_r9_4_cancel_gather_with_cancellers_that_callback(void) {
  /* test_cancelGatherResultsWithAllDeferredsCallback. */
  df_deferred *ds[2] = {df_deferred_new(canceller_callbacks, DFT_S("a")),
                        df_deferred_new(canceller_callbacks, DFT_S("b"))};
  df_deferred *g = df_gather(ds, 2, 0);
  df_add_callback(g, dft_cb_trace, DFT_S("g"));
  df_cancel(g);
  CU_ASSERT_STRING_EQUAL(
      dft_trace_text(),
      "cancel:a cancel:b "
      "g=[(True, 'Callback Result'), (True, 'Callback Result')]");
  df_unref(g);
  unref_all(ds, 2);
}

static void test_r9_5_gather_of_nothing_fires_at_once(void) {
  df_deferred *g = df_gather(NULL, 0, 0);
  df_add_callback(g, dft_cb_trace, DFT_S("g"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "g=[]");
  df_unref(g);
}

static void test_s21_list_result_free_of_null_is_a_no_op(void) {
  df_list_result_free(NULL);
  df_list_first_free(NULL);
}

static CU_TestInfo tests[] = {
    {"s21_fires_with_pairs_in_member_order",
     test_s21_fires_with_pairs_in_member_order},
    {"s21_never_errbacks_in_default_mode",
     test_s21_never_errbacks_in_default_mode},
    {"s21_lists_nest", test_s21_lists_nest},
    {"s21_list_keeps_itself_alive_until_it_fires",
     test_s21_list_keeps_itself_alive_until_it_fires},
    {"s21_members_may_be_released_by_the_caller",
     test_s21_members_may_be_released_by_the_caller},
    {"s21_list_result_free_of_null_is_a_no_op",
     test_s21_list_result_free_of_null_is_a_no_op},
    {"r8_2_empty_list_fires_at_once", test_r8_2_empty_list_fires_at_once},
    {"r8_2_empty_list_with_fire_on_one_callback_never_fires",
     test_r8_2_empty_list_with_fire_on_one_callback_never_fires},
    {"r8_3_already_fired_members_are_seen_at_construction",
     test_r8_3_already_fired_members_are_seen_at_construction},
    {"r8_3_fire_on_one_callback_with_already_fired_member",
     test_r8_3_fire_on_one_callback_with_already_fired_member},
    {"r12_6_list_keeps_members_alive_until_released",
     test_r12_6_list_keeps_members_alive_until_released},
    {"s22_member_failure_goes_on_down_its_chain",
     test_s22_member_failure_goes_on_down_its_chain},
    {"s22_unconsumed_member_failure_is_reported",
     test_s22_unconsumed_member_failure_is_reported},
    {"s22_consume_errors_member_continues_with_null",
     test_s22_consume_errors_member_continues_with_null},
    {"s22_consume_errors_spares_errbacks_added_before_joining",
     test_s22_consume_errors_spares_errbacks_added_before_joining},
    {"s23_callbacks_added_before_joining_shape_the_value",
     test_s23_callbacks_added_before_joining_shape_the_value},
    {"s23_callbacks_added_after_joining_run_after_the_list_step",
     test_s23_callbacks_added_after_joining_run_after_the_list_step},
    {"s23_member_chain_and_list_share_the_value",
     test_s23_member_chain_and_list_share_the_value},
    {"s23_shared_value_is_retained_by_the_list",
     test_s23_shared_value_is_retained_by_the_list},
    {"s24_fire_on_one_callback_gives_first_success_and_index",
     test_s24_fire_on_one_callback_gives_first_success_and_index},
    {"s24_fire_on_one_callback_without_success_gives_full_list",
     test_s24_fire_on_one_callback_without_success_gives_full_list},
    {"s24_later_failure_still_goes_down_the_member_chain",
     test_s24_later_failure_still_goes_down_the_member_chain},
    {"s24_fire_on_one_errback_gives_first_error",
     test_s24_fire_on_one_errback_gives_first_error},
    {"s24_fire_on_one_errback_with_all_success_fires_normally",
     test_s24_fire_on_one_errback_with_all_success_fires_normally},
    {"s24_fire_on_one_errback_with_already_failed_member",
     test_s24_fire_on_one_errback_with_already_failed_member},
    {"s24_both_flags_first_event_wins", test_s24_both_flags_first_event_wins},
    {"s24_consume_errors_applies_after_the_list_fired",
     test_s24_consume_errors_applies_after_the_list_fired},
    {"s24_r12_5_unhandled_first_error_is_reported",
     test_s24_r12_5_unhandled_first_error_is_reported},
    {"r8_8_duplicate_member_is_watched_twice",
     test_r8_8_duplicate_member_is_watched_twice},
    {"r8_8_duplicate_member_values", test_r8_8_duplicate_member_values},
    {"r8_8_duplicate_member_first_error_uses_first_index",
     test_r8_8_duplicate_member_first_error_uses_first_index},
    {"r8_9_cancel_cancels_every_member_in_order",
     test_r8_9_cancel_cancels_every_member_in_order},
    {"r8_9_cancel_goes_on_after_the_list_fired",
     test_r8_9_cancel_goes_on_after_the_list_fired},
    {"r8_9_list_copies_its_input", test_r8_9_list_copies_its_input},
    {"r8_9_cancel_of_fired_list_does_nothing",
     test_r8_9_cancel_of_fired_list_does_nothing},
    {"r8_11_cancellation_outcomes_are_ordinary_results",
     test_r8_11_cancellation_outcomes_are_ordinary_results},
    {"s25_gather_gives_every_value_in_order",
     test_s25_gather_gives_every_value_in_order},
    {"s25_gather_errbacks_with_first_failure_and_index",
     test_s25_gather_errbacks_with_first_failure_and_index},
    {"s25_gather_later_failures_do_not_refire",
     test_s25_gather_later_failures_do_not_refire},
    {"r9_2_nested_gather_nests_first_errors",
     test_r9_2_nested_gather_nests_first_errors},
    {"r9_3_gather_consume_errors", test_r9_3_gather_consume_errors},
    {"r9_4_cancel_gather_cancels_every_member",
     test_r9_4_cancel_gather_cancels_every_member},
    {"r9_4_cancel_gather_with_cancellers_that_callback",
     test_r9_4_cancel_gather_with_cancellers_that_callback},
    {"r9_5_gather_of_nothing_fires_at_once",
     test_r9_5_gather_of_nothing_fires_at_once},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("list", tests); }
