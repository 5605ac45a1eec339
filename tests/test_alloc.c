/* Allocation failure: with the n-th allocation failing (or every one from
 * the n-th on), for every n the scenarios reach, the core never crashes or
 * leaks. Constructors return NULL (freeing what they were given), adders
 * return NULL and call arg_free, and failures fall back to the static
 * DF_NO_MEMORY failure. */
#include "dft.h"

/* Failure types an errback may legitimately see in these scenarios. */
static int unexpected_failures;

static df_result eb_check(df_result in, void *arg) {
  const df_error_type *expected = arg;
  const df_error_type *t = df_failure_type(df_result_failure(in));
  if (t != expected && t != &DF_NO_MEMORY)
    unexpected_failures++;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static df_result cb_read_arg(df_result in, void *arg) {
  if (dft_arg_tag(arg) == NULL)
    unexpected_failures++;
  return in;
}

static void scenario_chain(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  if (d == NULL)
    return;
  for (int i = 0; i < 12; i++)
    df_add_callback(d, dft_cb_append, DFT_S("+"));
  df_add_callbacks_full(d, cb_read_arg, dft_arg_new("cb"), NULL,
                        dft_arg_new("eb"), dft_arg_free);
  df_add_callback(d, dft_cb_fail, DFT_S("planned"));
  df_add_errback(d, eb_check, (void *)&DFT_RUNTIME_ERROR);
  df_callback(d, dft_str("v"), dft_str_free);
  df_callback(d, dft_str("refused"), dft_str_free);
  df_unref(d);
}

static void scenario_unfired_release(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  if (d == NULL)
    return;
  for (int i = 0; i < 9; i++)
    df_add_callbacks_full(d, cb_read_arg, dft_arg_new("a"), cb_read_arg,
                          dft_arg_new("b"), dft_arg_free);
  df_unref(d);
}

static void scenario_wait(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  if (a != NULL) {
    df_add_callback(a, dft_cb_wait, b); /* b may be NULL: a failure then */
    df_add_callback(a, dft_cb_append, DFT_S("!"));
    df_add_errback(a, eb_check, (void *)&DF_INVALID_ARGUMENT);
    df_callback(a, NULL, NULL);
  }
  if (b != NULL)
    df_callback(b, dft_str("inner"), dft_str_free);
  df_unref(a);
  df_unref(b);
}

static void scenario_cancel(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  if (d == NULL)
    return;
  df_add_errback(d, eb_check, (void *)&DF_CANCELLED);
  df_cancel(d);
  df_callback(d, dft_str("late"), dft_str_free);
  df_unref(d);
}

static void scenario_cancel_waiting(void) {
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_deferred *outer = df_deferred_new(NULL, NULL);
  if (outer != NULL && inner != NULL) {
    df_add_callback(outer, dft_cb_wait, inner);
    df_add_errback(outer, eb_check, (void *)&DF_CANCELLED);
    df_callback(outer, NULL, NULL);
    df_cancel(outer);
    df_cancel(inner);
  }
  df_unref(outer);
  df_unref(inner);
}

static void scenario_list(void) {
  df_deferred *ds[3];
  for (int i = 0; i < 3; i++)
    ds[i] = df_deferred_new(NULL, NULL);
  if (ds[0] != NULL && ds[1] != NULL && ds[2] != NULL) {
    df_deferred *dl = df_list(ds, 3, DF_CONSUME_ERRORS);
    df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
    df_add_errback(dl, eb_check, (void *)&DF_INVALID_ARGUMENT);
    df_callback(ds[0], dft_str("one"), dft_str_free);
    df_errback(ds[1], df_failure_new(&DFT_RUNTIME_ERROR, 0, "bang!"));
    dft_shared *s = dft_shared_new("three");
    df_fire(ds[2], df_ok_shared(s, dft_shared_retain, dft_shared_release));
    df_unref(dl);
  }
  for (int i = 0; i < 3; i++) {
    if (ds[i] != NULL)
      df_add_errback(ds[i], eb_check, (void *)&DFT_RUNTIME_ERROR);
    df_unref(ds[i]);
  }
}

static void scenario_first_results(void) {
  df_deferred *ds[2] = {df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL)};
  if (ds[0] != NULL && ds[1] != NULL) {
    df_deferred *one = df_list(ds, 2, DF_FIRE_ON_ONE_CALLBACK);
    df_deferred *g = df_gather(ds, 2, DF_CONSUME_ERRORS);
    df_add_errback(g, eb_check, (void *)&DF_FIRST_ERROR);
    df_add_errback(one, eb_check, (void *)&DF_INVALID_ARGUMENT);
    df_errback(ds[0], df_failure_new(&DFT_RUNTIME_ERROR, 0, "first"));
    df_callback(ds[1], dft_str("second"), dft_str_free);
    df_cancel(one);
    df_unref(one);
    df_unref(g);
  }
  for (int i = 0; i < 2; i++) {
    if (ds[i] != NULL)
      df_add_errback(ds[i], eb_check, (void *)&DFT_RUNTIME_ERROR);
    df_unref(ds[i]);
  }
}

static void scenario_chain_deferred(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  if (a != NULL && b != NULL) {
    df_chain(a, b);
    df_add_errback(b, eb_check, (void *)&DFT_RUNTIME_ERROR);
    df_add_errback(a, eb_check, (void *)&DF_ALREADY_CALLED);
    df_errback(a, df_failure_new(&DFT_RUNTIME_ERROR, 0, "moved"));
  }
  df_unref(a);
  df_unref(b);
}

static df_result fn_value(void *arg) {
  (void)arg;
  return df_ok(dft_str("maybe"), dft_str_free);
}

static void scenario_constructors(void) {
  df_deferred *s = df_succeed(dft_str("s"), dft_str_free); /* NULL: freed */
  df_deferred *f = df_fail_now(df_failure_new(&DFT_RUNTIME_ERROR, 0, "f"));
  df_deferred *m = df_maybe(fn_value, NULL);
  df_deferred *e = df_list(NULL, 0, 0);
  if (f != NULL)
    df_add_errback(f, eb_check, (void *)&DFT_RUNTIME_ERROR);
  df_unref(s);
  df_unref(f);
  df_unref(m);
  df_unref(e);
}

static void scenario_debug(void) {
  df_set_debugging(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  if (d != NULL) {
    df_callback(d, dft_str("first"), dft_str_free);
    df_callback(d, dft_str("second"), dft_str_free);
    df_unref(d);
  }
  df_set_debugging(false);
}

static void run_all(void) {
  scenario_chain();
  scenario_unfired_release();
  scenario_wait();
  scenario_cancel();
  scenario_cancel_waiting();
  scenario_list();
  scenario_first_results();
  scenario_chain_deferred();
  scenario_constructors();
  scenario_debug();
}

/* Runs the scenarios once per n, failing as \p arm says, until an n is no
 * longer reached. Each round must free everything it made. */
static void for_every_n(void (*arm)(long)) {
  long n;
  for (n = 1; n < 100000; n++) {
    long before = dft_alloc_outstanding();
    long strs = dft_str_live(), shared = dft_shared_live(),
         args = dft_arg_live();
    unexpected_failures = 0;
    arm(n);
    run_all();
    long failed = dft_alloc_failures();
    dft_alloc_fail_none();
    dft_take_unhandled();
    dft_take_already();
    CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
    CU_ASSERT_EQUAL(dft_str_live(), strs);
    CU_ASSERT_EQUAL(dft_shared_live(), shared);
    CU_ASSERT_EQUAL(dft_arg_live(), args);
    CU_ASSERT_EQUAL(unexpected_failures, 0);
    if (failed == 0)
      break;
  }
  /* The scenarios allocate: some n was reached and failed. */
  CU_ASSERT(n > 1);
  CU_ASSERT(n < 100000);
}

static void test_alloc_scenarios_run_clean_without_failures(void) {
  unexpected_failures = 0;
  dft_alloc_fail_none(); /* counts the calls */
  run_all();
  CU_ASSERT_EQUAL(unexpected_failures, 0);
  /* Every scenario allocates: the loops below reach many failure points. */
  CU_ASSERT(dft_alloc_calls() >= 20);
  dft_take_unhandled();
  dft_take_already();
}

static void test_alloc_fail_the_nth_allocation(void) {
  for_every_n(dft_alloc_fail_nth);
}

static void test_alloc_fail_every_allocation_from_the_nth(void) {
  for_every_n(dft_alloc_fail_from);
}

static void test_alloc_constructors_return_null_and_free_input(void) {
  dft_alloc_fail_from(1);
  CU_ASSERT_PTR_NULL(df_deferred_new(NULL, NULL));
  CU_ASSERT_PTR_NULL(df_succeed(dft_str("freed"), dft_str_free));
  CU_ASSERT_PTR_NULL(df_fail_now(df_failure_new(&DFT_RUNTIME_ERROR, 0, "x")));
  dft_alloc_fail_none();
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_alloc_adder_returns_null_and_frees_args(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  /* Fill the inline room so that the next step needs memory. */
  int added = 0;
  dft_alloc_fail_from(1);
  for (int i = 0; i < 64; i++) {
    if (df_add_callbacks_full(d, cb_read_arg, dft_arg_new("a"), cb_read_arg,
                              dft_arg_new("b"), dft_arg_free) == NULL)
      break;
    added++;
  }
  dft_alloc_fail_none();
  CU_ASSERT(added < 64);
  CU_ASSERT_EQUAL(dft_arg_live(), 2 * added);
  df_unref(d);
}

static void test_alloc_cancel_without_memory_still_fails_the_deferred(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_both(d, dft_cb_trace_type, DFT_S("d"));
  dft_alloc_fail_from(1);
  df_cancel(d);
  dft_alloc_fail_none();
  CU_ASSERT(df_called(d));
  CU_ASSERT(dft_peek_is_failure(d, &DF_NO_MEMORY) ||
            dft_peek_is_failure(d, &DF_CANCELLED));
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_alloc_list_without_memory_returns_null(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  dft_alloc_fail_from(1);
  df_deferred *dl = df_list(&a, 1, 0);
  dft_alloc_fail_none();
  CU_ASSERT_PTR_NULL(dl);
  /* a is not watched: it fires and is released normally. */
  df_callback(a, dft_str("v"), dft_str_free);
  df_unref(a);
}

static CU_TestInfo tests[] = {
    {"alloc_scenarios_run_clean_without_failures",
     test_alloc_scenarios_run_clean_without_failures},
    {"alloc_fail_the_nth_allocation", test_alloc_fail_the_nth_allocation},
    {"alloc_fail_every_allocation_from_the_nth",
     test_alloc_fail_every_allocation_from_the_nth},
    {"alloc_constructors_return_null_and_free_input",
     test_alloc_constructors_return_null_and_free_input},
    {"alloc_adder_returns_null_and_frees_args",
     test_alloc_adder_returns_null_and_frees_args},
    {"alloc_cancel_without_memory_still_fails_the_deferred",
     test_alloc_cancel_without_memory_still_fails_the_deferred},
    {"alloc_list_without_memory_returns_null",
     test_alloc_list_without_memory_returns_null},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("alloc", tests); }
