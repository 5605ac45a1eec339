/* Ownership: every value, failure, step argument and Deferred is freed
 * exactly once on every path (the counting allocator and the counted values
 * check it; ASan and valgrind check the frees themselves). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dft.h"
#include "placed.h" /* lib/: Deferreds in their maker's memory */

static void test_s09_reported_failure_is_freed_after_the_report(void) {
  long before = dft_alloc_outstanding();
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "reported"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static void test_s10_refused_fire_frees_its_value_and_keeps_the_first(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  char *first = dft_str("first");
  df_callback(d, first, dft_str_free);
  CU_ASSERT_EQUAL(df_callback(d, dft_str("second"), dft_str_free), DF_EALREADY);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  df_result r;
  CU_ASSERT(df_peek(d, &r));
  CU_ASSERT_PTR_EQUAL(r.ptr, first);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 2);
}

static void test_s17_cancel_then_late_fire_frees_the_late_value(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_none, NULL);
  df_cancel(d);
  CU_ASSERT_EQUAL(df_callback(d, dft_str("late"), dft_str_free), 0);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  df_unref(d);
}

static void test_s17_late_fire_after_release_of_the_callers_reference(void) {
  /* The operation keeps its own reference; the caller cancels and goes. */
  df_deferred *operation = df_deferred_new(NULL, NULL);
  df_deferred *caller = df_ref(operation);
  df_add_errback(caller, dft_cb_none, NULL);
  df_cancel(caller);
  df_unref(caller);
  CU_ASSERT_EQUAL(df_callback(operation, dft_str("late"), dft_str_free), 0);
  df_unref(operation);
}

static void test_s22_list_without_consume_shares_the_failure(void) {
  long before = dft_alloc_outstanding();
  df_deferred *ds[2] = {df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL)};
  df_deferred *dl = df_list(ds, 2, 0);
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 0, "shared");
  df_errback(ds[0], f);
  df_callback(ds[1], dft_str("v"), dft_str_free);
  df_result r;
  CU_ASSERT(df_peek(ds[0], &r));
  CU_ASSERT_PTR_EQUAL(r.ptr, f); /* the member's chain holds the same failure */
  df_add_errback(ds[0], dft_cb_none, NULL);
  df_unref(dl);
  df_unref(ds[0]);
  df_unref(ds[1]);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static void test_s22_list_with_consume_frees_everything_once(void) {
  long before = dft_alloc_outstanding();
  df_deferred *ds[3] = {df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL)};
  df_deferred *dl = df_list(ds, 3, DF_CONSUME_ERRORS);
  df_callback(ds[0], dft_str("one"), dft_str_free);
  df_errback(ds[1], df_failure_new(&DF_ERROR, 0, "bang!"));
  df_callback(ds[2], dft_str("three"), dft_str_free);
  CU_ASSERT_EQUAL(dft_str_frees(), 0);
  /* Release the list first: the members still hold the values, which go
   * with the last holder, once each. */
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_str_frees(), 0);
  CU_ASSERT(dft_peek_is_value(ds[0], "one"));
  for (int i = 0; i < 3; i++)
    df_unref(ds[i]);
  CU_ASSERT_EQUAL(dft_str_frees(), 2);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
}

static void test_s23_member_callbacks_after_joining_own_their_new_values(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, 0);
  df_add_callback(d, dft_cb_append, DFT_S(" ten"));  /* drops its share */
  df_add_callback(d, dft_cb_append, DFT_S(" more")); /* frees the previous */
  df_callback(d, dft_str("one"), dft_str_free);
  CU_ASSERT(dft_peek_is_value(d, "one ten more"));
  CU_ASSERT_EQUAL(dft_str_frees(), 1); /* "one ten" */
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_str_frees(), 2); /* "one", owned by the list */
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 3); /* "one ten more" */
}

/* A list and its member share a plain owned value: whichever releases it
 * last frees it, once, and no one reads it after that (S23). */
static df_result cb_drop(df_result in, void *arg) {
  (void)arg;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void test_s23_plain_value_list_released_first(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, 0);
  df_callback(d, dft_str("one"), dft_str_free);
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_str_frees(), 0);
  CU_ASSERT(dft_peek_is_value(d, "one"));
  df_add_callback(d, dft_cb_trace, DFT_S("member"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "member='one'");
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_s23_plain_value_member_released_first(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, 0);
  df_callback(d, dft_str("one"), dft_str_free);
  df_add_callback(d, cb_drop, NULL); /* the member's chain lets go */
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 0);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=[(True, 'one')]");
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

/* The sequence: gather [a]; a fires with an owned string; the
 * gather's chain replaces its list (freeing it); a callback added to a
 * afterwards, and df_peek(a), still see the string. */
static void test_s25_gather_result_freed_before_member_callback(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *g = df_gather(&a, 1, 0);
  df_add_callback(g, dft_cb_trace, DFT_S("gather"));
  df_add_callback(g, cb_drop, NULL);
  df_callback(a, dft_str("owned"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "gather=[(True, 'owned')]");
  CU_ASSERT(dft_peek_is_none(g));
  CU_ASSERT(dft_peek_is_value(a, "owned"));
  df_add_callback(a, dft_cb_append, DFT_S("!"));
  df_add_callback(a, dft_cb_trace, DFT_S("a"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(),
                         "gather=[(True, 'owned')] a='owned!'");
  CU_ASSERT_EQUAL(dft_str_frees(), 1); /* "owned", by its last holder */
  df_unref(g);
  df_unref(a);
}

/* A value in two lists has three holders. */
static void test_s23_value_recorded_by_two_lists(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *l1 = df_list(&d, 1, 0);
  df_deferred *l2 = df_list(&d, 1, DF_FIRE_ON_ONE_CALLBACK);
  df_callback(d, dft_str("v"), dft_str_free);
  df_add_callback(d, cb_drop, NULL);
  df_unref(d);
  df_unref(l1);
  CU_ASSERT_EQUAL(dft_str_frees(), 0);
  df_add_callback(l2, dft_cb_trace, DFT_S("l2"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "l2=('v', 0)");
  df_unref(l2);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_s23_shared_values_get_one_reference_per_holder(void) {
  df_deferred *ds[2] = {df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL)};
  df_deferred *dl = df_list(ds, 2, 0);
  dft_shared *a = dft_shared_new("a");
  dft_shared *b = dft_shared_new("b");
  df_fire(ds[0], df_ok_shared(a, dft_shared_retain, dft_shared_release));
  df_fire(ds[1], df_ok_shared(b, dft_shared_retain, dft_shared_release));
  CU_ASSERT_EQUAL(a->refs, 2);
  CU_ASSERT_EQUAL(b->refs, 2);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=[(True, 'a'), (True, 'b')]");
  /* Released in the other order than test_s22_list_with_consume_... */
  df_unref(ds[0]);
  df_unref(ds[1]);
  CU_ASSERT_EQUAL(dft_shared_live(), 2);
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_shared_live(), 0);
}

static void test_s24_first_result_shared_value_is_retained(void) {
  df_deferred *ds[2] = {df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL)};
  df_deferred *dl = df_list(ds, 2, DF_FIRE_ON_ONE_CALLBACK);
  dft_shared *a = dft_shared_new("a");
  df_fire(ds[1], df_ok_shared(a, dft_shared_retain, dft_shared_release));
  CU_ASSERT_EQUAL(a->refs, 2);
  df_add_callback(dl, dft_cb_trace, DFT_S("dl"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "dl=('a', 1)");
  df_callback(ds[0], dft_str("late"), dft_str_free);
  df_unref(dl);
  CU_ASSERT_EQUAL(a->refs, 1);
  df_unref(ds[0]);
  df_unref(ds[1]);
}

static void test_s24_first_error_holds_the_member_failure(void) {
  long before = dft_alloc_outstanding();
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&d, 1, DF_FIRE_ON_ONE_ERRBACK);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "member"));
  df_add_errback(d, dft_cb_none, NULL); /* the member's own copy handled */
  df_unref(d);
  df_add_errback(dl, dft_cb_none, NULL); /* the FirstError, with its cause */
  df_unref(dl);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

/* ------------------------------------------------------------ arg_free */

static void test_s08_arg_free_runs_once_per_arg_after_the_step_ran(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_EQUAL(df_add_callbacks_full(d, dft_cb_trace, dft_arg_new("cb"),
                                            dft_cb_trace, dft_arg_new("eb"),
                                            dft_arg_free),
                      d);
  CU_ASSERT_EQUAL(dft_arg_frees(), 0);
  df_callback(d, NULL, NULL);
  CU_ASSERT_EQUAL(dft_arg_frees(), 2); /* both, though only cb ran */
  df_unref(d);
  CU_ASSERT_EQUAL(dft_arg_frees(), 2);
}

static df_result cb_read_arg(df_result in, void *arg) {
  dft_trace("arg:%s", dft_arg_tag(arg));
  return in;
}

static void test_s08_arg_is_alive_while_its_step_runs(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks_full(d, cb_read_arg, dft_arg_new("x"), NULL, NULL,
                        dft_arg_free);
  df_callback(d, NULL, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "arg:x");
  df_unref(d);
}

static void test_s08_same_arg_on_both_sides_is_freed_once(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  void *both = dft_arg_new("both");
  df_add_callbacks_full(d, cb_read_arg, both, cb_read_arg, both, dft_arg_free);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  CU_ASSERT_EQUAL(dft_arg_frees(), 1);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "arg:both");
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}

static void test_s08_null_args_are_never_freed(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks_full(d, dft_cb_none, NULL, NULL, NULL, dft_arg_free);
  df_callback(d, NULL, NULL);
  CU_ASSERT_EQUAL(dft_arg_frees(), 0);
  df_unref(d);
}

static void test_s08_discarded_steps_free_their_args(void) {
  /* Released unfired, or fired but paused, the steps never run. */
  df_deferred *unfired = df_deferred_new(NULL, NULL);
  df_add_callbacks_full(unfired, cb_read_arg, dft_arg_new("a"), cb_read_arg,
                        dft_arg_new("b"), dft_arg_free);
  df_unref(unfired);
  CU_ASSERT_EQUAL(dft_arg_frees(), 2);
  df_deferred *paused = df_succeed(dft_str("v"), dft_str_free);
  df_pause(paused);
  for (int i = 0; i < 10; i++)
    df_add_callbacks_full(paused, cb_read_arg, dft_arg_new("c"), NULL, NULL,
                          dft_arg_free);
  df_unref(paused);
  CU_ASSERT_EQUAL(dft_arg_frees(), 12);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
}

static void test_s08_steps_of_a_released_waiting_chain_are_freed(void) {
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_deferred *outer = df_deferred_new(NULL, NULL);
  df_add_callback(outer, dft_cb_wait, inner);
  df_add_callbacks_full(outer, cb_read_arg, dft_arg_new("after"), NULL, NULL,
                        dft_arg_free);
  df_callback(outer, NULL, NULL);
  df_unref(outer); /* kept alive by inner until inner fires or is cancelled */
  CU_ASSERT_EQUAL(dft_arg_frees(), 0);
  df_cancel(inner);
  /* Cancelled reached outer's step (an errback-less pair: passed on), then
   * outer was released with it. */
  CU_ASSERT_EQUAL(dft_arg_frees(), 1);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  df_unref(inner);
}

static void test_s21_unfired_list_is_freed_once_cancelled(void) {
  long before = dft_alloc_outstanding();
  df_deferred *ds[2] = {df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL)};
  df_deferred *dl = df_list(ds, 2, DF_CONSUME_ERRORS);
  df_add_callbacks_full(dl, cb_read_arg, dft_arg_new("dl"), NULL, NULL,
                        dft_arg_free);
  df_cancel(dl);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "arg:dl");
  df_unref(dl);
  df_unref(ds[0]);
  df_unref(ds[1]);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static void test_s28_chain_takes_a_reference_to_other(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(b, dft_cb_trace, DFT_S("b"));
  df_chain(a, b);
  df_unref(b); /* a's step holds b */
  df_callback(a, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "b='v'");
  df_unref(a);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_s13_succeed_value_is_freed_with_the_deferred(void) {
  df_deferred *d = df_succeed(dft_str("never read"), dft_str_free);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  char borrowed[] = "borrowed";
  d = df_succeed(borrowed, NULL);
  df_unref(d);
  CU_ASSERT_STRING_EQUAL(borrowed, "borrowed");
}

/* A Deferred placed in its maker's block (lib/placed.h, how the pool
 * recycles its jobs' memory) gives the block back exactly once, after
 * everything it held (its result, its steps' arguments) was released, and
 * allocates nothing of its own for up to four callbacks. */
typedef struct maker {
  df__placement *released;
  int releases;
  long str_frees_at_release;
  long arg_frees_at_release;
} maker;

static void maker_release(df__placement *block) {
  maker *m = block->owner;
  m->released = block;
  m->releases++;
  m->str_frees_at_release = dft_str_frees();
  m->arg_frees_at_release = dft_arg_frees();
}

static df_result keep_value(df_result in, void *arg) {
  (void)arg;
  return in;
}

static void test_placed_deferred_gives_its_block_back_last(void) {
  size_t size = df__placed_block_size(24);
  CU_ASSERT_FATAL(size >= 24);
  CU_ASSERT_EQUAL(size % _Alignof(max_align_t), 0);
  df__placement *block = malloc(size); /* fit for any object */
  CU_ASSERT_PTR_NOT_NULL_FATAL(block);
  maker m = {NULL, 0, 0, 0};
  block->release = maker_release;
  block->owner = &m;
  long before = dft_alloc_outstanding();
  long str_frees = dft_str_frees();
  long arg_frees = dft_arg_frees();
  void *storage = NULL;
  df_deferred *d = df__deferred_place(block, NULL, &storage);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT(storage != NULL && (char *)storage + 24 <= (char *)block + size);
  CU_ASSERT_EQUAL((uintptr_t)storage % _Alignof(max_align_t), 0);
  memset(storage, 0x5a, 24); /* the maker's bytes: the core never reads them */
  df_add_callbacks_full(d, keep_value, dft_arg_new("cb"), NULL, NULL,
                        dft_arg_free);
  df_add_callback(d, keep_value, NULL);
  df_ref(d);
  df_callback(d, dft_str("value"), dft_str_free);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before); /* nothing allocated */
  df_unref(d);
  CU_ASSERT_EQUAL(m.releases, 0); /* a reference is left */
  df_unref(d);
  CU_ASSERT_EQUAL(m.releases, 1);
  CU_ASSERT_PTR_EQUAL(m.released, block);
  CU_ASSERT_EQUAL(m.str_frees_at_release, str_frees + 1); /* value first */
  CU_ASSERT_EQUAL(m.arg_frees_at_release, arg_frees + 1); /* and the arg */
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
  free(block);
}

static CU_TestInfo tests[] = {
    {"placed_deferred_gives_its_block_back_last",
     test_placed_deferred_gives_its_block_back_last},
    {"s09_reported_failure_is_freed_after_the_report",
     test_s09_reported_failure_is_freed_after_the_report},
    {"s10_refused_fire_frees_its_value_and_keeps_the_first",
     test_s10_refused_fire_frees_its_value_and_keeps_the_first},
    {"s17_cancel_then_late_fire_frees_the_late_value",
     test_s17_cancel_then_late_fire_frees_the_late_value},
    {"s17_late_fire_after_release_of_the_callers_reference",
     test_s17_late_fire_after_release_of_the_callers_reference},
    {"s22_list_without_consume_shares_the_failure",
     test_s22_list_without_consume_shares_the_failure},
    {"s22_list_with_consume_frees_everything_once",
     test_s22_list_with_consume_frees_everything_once},
    {"s23_member_callbacks_after_joining_own_their_new_values",
     test_s23_member_callbacks_after_joining_own_their_new_values},
    {"s23_plain_value_list_released_first",
     test_s23_plain_value_list_released_first},
    {"s23_plain_value_member_released_first",
     test_s23_plain_value_member_released_first},
    {"s25_gather_result_freed_before_member_callback",
     test_s25_gather_result_freed_before_member_callback},
    {"s23_value_recorded_by_two_lists", test_s23_value_recorded_by_two_lists},
    {"s23_shared_values_get_one_reference_per_holder",
     test_s23_shared_values_get_one_reference_per_holder},
    {"s24_first_result_shared_value_is_retained",
     test_s24_first_result_shared_value_is_retained},
    {"s24_first_error_holds_the_member_failure",
     test_s24_first_error_holds_the_member_failure},
    {"s08_arg_free_runs_once_per_arg_after_the_step_ran",
     test_s08_arg_free_runs_once_per_arg_after_the_step_ran},
    {"s08_arg_is_alive_while_its_step_runs",
     test_s08_arg_is_alive_while_its_step_runs},
    {"s08_same_arg_on_both_sides_is_freed_once",
     test_s08_same_arg_on_both_sides_is_freed_once},
    {"s08_null_args_are_never_freed", test_s08_null_args_are_never_freed},
    {"s08_discarded_steps_free_their_args",
     test_s08_discarded_steps_free_their_args},
    {"s08_steps_of_a_released_waiting_chain_are_freed",
     test_s08_steps_of_a_released_waiting_chain_are_freed},
    {"s21_unfired_list_is_freed_once_cancelled",
     test_s21_unfired_list_is_freed_once_cancelled},
    {"s28_chain_takes_a_reference_to_other",
     test_s28_chain_takes_a_reference_to_other},
    {"s13_succeed_value_is_freed_with_the_deferred",
     test_s13_succeed_value_is_freed_with_the_deferred},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("ownership", tests); }
