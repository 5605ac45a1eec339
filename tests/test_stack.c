/* No recursion (S26, R5.9, R7.9): long chains run on a thread whose stack is
 * only 256 KiB. A recursive implementation overflows it and crashes the
 * suite. */
#include <pthread.h>
#include <stdlib.h>

#include "dft.h"

enum { DEPTH = 1000000, SMALL_STACK = 256 * 1024 };

typedef struct job {
  void (*fn)(void);
} job;

static void *trampoline(void *arg) {
  ((job *)arg)->fn();
  return NULL;
}

/* Runs \p fn, between dft_begin() and dft_end(), on a fresh thread with a
 * 256 KiB stack and waits for it. The calling thread is blocked meanwhile,
 * so CUnit is used by one thread at a time. */
static void on_small_stack(void (*fn)(void)) {
  dft_begin();
  pthread_attr_t attr;
  pthread_t thread;
  job j = {fn};
  CU_ASSERT_EQUAL_FATAL(pthread_attr_init(&attr), 0);
  CU_ASSERT_EQUAL_FATAL(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
  CU_ASSERT_EQUAL_FATAL(pthread_create(&thread, &attr, trampoline, &j), 0);
  pthread_join(thread, NULL);
  pthread_attr_destroy(&attr);
  dft_end();
}

static long counter;

static df_result cb_count(df_result in, void *arg) {
  (void)arg;
  counter++;
  return in;
}

/* A tower of DEPTH + 1 Deferreds (each made with \p canceller), each fired
 * and waiting on the one below; every outer reference but the outermost's
 * is dropped. Stores a reference to the innermost (unfired) in
 * \p innermost and returns the outermost. */
static df_deferred *waiting_tower(df_canceller_fn canceller,
                                  df_deferred **innermost) {
  *innermost = df_deferred_new(canceller, NULL);
  df_deferred *inner = df_ref(*innermost);
  for (long i = 0; i < DEPTH; i++) {
    df_deferred *outer = df_deferred_new(canceller, NULL);
    df_add_callback(outer, dft_cb_wait, inner);
    df_callback(outer, NULL, NULL);
    df_unref(inner);
    inner = outer;
  }
  return inner;
}

/* ------------------------------------------------------------ S26 */

static void million_waiting_deferreds(void) {
  /* Twisted's test_boundedStackDepth with howMany = 1,000,000: top waits on
   * inner[n-1], which waits on inner[n-2], ..., inner[0] waits on last. */
  df_deferred **inners = malloc(sizeof *inners * DEPTH);
  CU_ASSERT_PTR_NOT_NULL_FATAL(inners);
  df_deferred *top = df_deferred_new(NULL, NULL);
  df_deferred *last = df_deferred_new(NULL, NULL);
  for (long i = 0; i < DEPTH; i++)
    inners[i] = df_deferred_new(NULL, NULL);
  df_add_callback(top, dft_cb_wait, inners[DEPTH - 1]);
  df_add_callback(top, dft_cb_trace, DFT_S("top"));
  for (long i = DEPTH - 1; i > 0; i--)
    df_add_callback(inners[i], dft_cb_wait, inners[i - 1]);
  df_add_callback(inners[0], dft_cb_wait, last);

  df_callback(top, NULL, NULL);
  for (long i = 0; i < DEPTH; i++) {
    df_callback(inners[i], NULL, NULL);
    /* inner[i] now waits on inner[i-1] and holds it: drop ours. */
    if (i > 0)
      df_unref(inners[i - 1]);
  }
  df_unref(inners[DEPTH - 1]); /* top waits on it */
  free(inners);
  CU_ASSERT(df_waiting(top));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");

  df_callback(last, dft_str("bottom"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "top='bottom'");
  CU_ASSERT_FALSE(df_waiting(top));
  df_unref(last);
  df_unref(top);
}

static void test_s26_r5_9_million_waiting_deferreds_on_small_stack(void) {
  on_small_stack(million_waiting_deferreds);
}

static void million_deep_failure(void) {
  /* The same depth with a failure travelling up and every outer reference
   * dropped first: the chain frees itself as it unwinds. */
  df_deferred *innermost;
  df_deferred *inner = waiting_tower(NULL, &innermost);
  df_add_errback(inner, dft_cb_trace, DFT_S("outermost"));
  df_add_errback(inner, dft_cb_none, NULL);
  df_unref(inner);
  df_errback(innermost, df_failure_new(&DFT_RUNTIME_ERROR, 0, "deep"));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "outermost=<RuntimeError: deep>");
  df_unref(innermost);
}

static void test_s26_r5_9_million_deep_failure_on_small_stack(void) {
  on_small_stack(million_deep_failure);
}

static void million_callbacks(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  counter = 0;
  for (long i = 0; i < DEPTH; i++)
    df_add_callback(d, cb_count, NULL);
  df_callback(d, dft_str("v"), dft_str_free);
  CU_ASSERT_EQUAL(counter, DEPTH);
  CU_ASSERT(dft_peek_is_value(d, "v"));
  df_unref(d);
}

static void test_s02_million_callbacks_on_one_deferred_on_small_stack(void) {
  on_small_stack(million_callbacks);
}

static void million_discarded_steps(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  for (long i = 0; i < DEPTH; i++)
    df_add_callbacks_full(d, cb_count, dft_arg_new("step"), NULL, NULL,
                          dft_arg_free);
  df_unref(d); /* released unfired: every step is discarded */
  CU_ASSERT_EQUAL(dft_arg_frees(), DEPTH);
}

static void test_s01_million_steps_discarded_on_small_stack(void) {
  on_small_stack(million_discarded_steps);
}

/* ------------------------------------------------------------ R7.9 */

static int canceller_calls;

static void canceller_count(df_deferred *d, void *arg) {
  (void)d;
  (void)arg;
  canceller_calls++;
}

static void cancel_through_long_chain(void) {
  canceller_calls = 0;
  df_deferred *innermost;
  df_deferred *inner = waiting_tower(canceller_count, &innermost);
  df_add_errback(inner, dft_cb_trace, DFT_S("outermost"));
  df_add_errback(inner, dft_cb_none, NULL);
  df_cancel(inner);
  /* Only the innermost canceller ran; Cancelled came back up the chain. */
  CU_ASSERT_EQUAL(canceller_calls, 1);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "outermost=<Cancelled>");
  CU_ASSERT(dft_peek_is_none(innermost)); /* handed up the chain */
  df_unref(inner);
  df_unref(innermost);
}

static void test_s19_r7_9_cancel_through_million_waiting_on_small_stack(void) {
  on_small_stack(cancel_through_long_chain);
}

/* ------------------------------------------------------------ S28 */

static void million_explicit_links(void) {
  df_deferred *first = df_deferred_new(NULL, NULL);
  df_deferred *prev = df_ref(first);
  for (long i = 0; i < DEPTH; i++) {
    df_deferred *next = df_deferred_new(NULL, NULL);
    df_chain(prev, next);
    df_unref(prev);
    prev = next;
  }
  df_add_callback(prev, dft_cb_trace, DFT_S("last"));
  df_callback(first, dft_str("through"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "last='through'");
  df_unref(prev);
  df_unref(first);
}

static void test_s28_r6_3_million_explicit_links_on_small_stack(void) {
  on_small_stack(million_explicit_links);
}

static void deep_failure_causes(void) {
  df_failure *f = df_failure_new(&DF_ERROR, 0, "root");
  for (long i = 0; i < DEPTH; i++) {
    df_failure *w = df_failure_new_caused(&DF_FIRST_ERROR, 0, f, "wrap");
    df_failure_unref(f);
    f = w;
  }
  df_failure_unref(f);
}

static void test_s25_million_nested_causes_released_on_small_stack(void) {
  on_small_stack(deep_failure_causes);
}

static CU_TestInfo tests[] = {
    {"s26_r5_9_million_waiting_deferreds_on_small_stack",
     test_s26_r5_9_million_waiting_deferreds_on_small_stack},
    {"s26_r5_9_million_deep_failure_on_small_stack",
     test_s26_r5_9_million_deep_failure_on_small_stack},
    {"s02_million_callbacks_on_one_deferred_on_small_stack",
     test_s02_million_callbacks_on_one_deferred_on_small_stack},
    {"s01_million_steps_discarded_on_small_stack",
     test_s01_million_steps_discarded_on_small_stack},
    {"s19_r7_9_cancel_through_million_waiting_on_small_stack",
     test_s19_r7_9_cancel_through_million_waiting_on_small_stack},
    {"s28_r6_3_million_explicit_links_on_small_stack",
     test_s28_r6_3_million_explicit_links_on_small_stack},
    {"s25_million_nested_causes_released_on_small_stack",
     test_s25_million_nested_causes_released_on_small_stack},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main("stack", tests); }
