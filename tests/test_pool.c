/* df_pool basics (deferred/pool.h): results and failures of work functions
 * come back as Deferreds fired on the reactor thread only (C1), argument
 * ownership, misuse, and the counters. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <string.h>

#include "dft_runner.h"
#include "dft_pool.h"

#define MANY 200

/* ------------------------------------------------------------ results */

static bool all_fired(dft_pool_outcome *outs, int n) {
  for (int i = 0; i < n; i++)
    if (outs[i].fired == 0)
      return false;
  return true;
}

typedef struct outcomes {
  dft_pool_outcome *outs;
  int n;
} outcomes;

static bool outcomes_fired(void *arg) {
  outcomes *o = arg;
  return all_fired(o->outs, o->n);
}

static void run_until_fired(dft_pool_outcome *outs, int n) {
  outcomes o = {outs, n};
  dft_pool_run_until(outcomes_fired, &o);
}

/* Submits n jobs, the i-th on i: dft_pool_work_fail for every i that is a
 * multiple of \p fail_every (0: none), dft_pool_work_value for the others. */
static void submit_many(dft_pool_outcome *outs, int n, int fail_every) {
  for (int i = 0; i < n; i++)
    dft_pool_submit(fail_every > 0 && i % fail_every == 0 ? dft_pool_work_fail
                                                          : dft_pool_work_value,
                    dft_pool_arg_new(i, NULL), &outs[i]);
}

static void test_c1_values_fire_on_the_reactor_thread(void) {
  if (!dft_pool_begin(4, 0))
    return;
  static dft_pool_outcome outs[MANY];
  submit_many(outs, MANY, 0);
  run_until_fired(outs, MANY);
  for (int i = 0; i < MANY; i++) {
    CU_ASSERT_EQUAL(outs[i].fired, 1);
    CU_ASSERT(outs[i].success);
    CU_ASSERT_EQUAL(outs[i].value, i * 3);
  }
  CU_ASSERT_EQUAL(dft_pool_wrong_thread_calls(), 0);
  dft_pool_end();
}

static bool result_pushed(void *arg) {
  (void)arg;
  /* The worker counts its wake-up after the result is on the list. */
  struct df_pool_stats st;
  return df_pool_stats(dft_pool.pool, &st) == 0 && st.wakeups >= 1;
}

static void test_c1_nothing_fires_until_the_reactor_runs(void) {
  if (!dft_pool_begin(1, 0))
    return;
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(7, NULL), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  /* The worker has finished and handed the result back; the Deferred still
   * waits for a round of the reactor. */
  dft_pool_wait(result_pushed, NULL);
  CU_ASSERT_FALSE(df_called(d));
  CU_ASSERT_EQUAL(dft_pool_stats().running, 1);
  dft_pool_outcome out;
  dft_pool_watch(d, &out);
  CU_ASSERT_EQUAL(out.fired, 0);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT(out.success);
  CU_ASSERT_EQUAL(out.value, 21);
  CU_ASSERT_EQUAL(dft_pool_stats().running, 0);
  dft_pool_end();
}

static pthread_t worker_seen;

static df_result work_note_thread(void *arg) {
  (void)arg;
  worker_seen = pthread_self(); /* read after delivery: ordered by it */
  return df_ok(NULL, NULL);
}

static void test_c1_work_runs_on_a_worker_thread(void) {
  if (!dft_pool_begin(2, 0))
    return;
  dft_pool_outcome out;
  dft_pool_watch(df_defer_to_thread(dft_pool.pool, work_note_thread, NULL),
                 &out);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT_FALSE(pthread_equal(worker_seen, pthread_self()));
  CU_ASSERT(out.success);
  CU_ASSERT_EQUAL(out.value, -1);
  dft_pool_end();
}

static void test_s03_failure_of_work_runs_the_errbacks(void) {
  if (!dft_pool_begin(2, 0))
    return;
  dft_pool_outcome out;
  dft_pool_submit(dft_pool_work_fail, dft_pool_arg_new(5, NULL), &out);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT_FALSE(out.success);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_ERROR);
  CU_ASSERT_EQUAL(out.code, 5);
  CU_ASSERT_STRING_EQUAL(out.message, "work failed on 5");
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 1);
  CU_ASSERT_EQUAL(s.failed, 1);
  dft_pool_end();
}

/* S02 across the pool: a callback that submits the next job and returns
 * df_wait() on it pauses the chain until that job is back (S26). */
static df_pool *chain_pool;

static df_result submit_next(df_result in, void *arg) {
  (void)arg;
  dft_pool_check_reactor_thread();
  long v = *(long *)in.ptr;
  df_result_free(in);
  df_deferred *next = df_defer_to_thread_opts(chain_pool, dft_pool_work_value,
                                              dft_pool_arg_new(v + 1, NULL),
                                              &dft_pool_owned_arg);
  df_result r = df_wait(next);
  df_unref(next);
  return r;
}

static void test_s26_callback_waits_on_a_second_job(void) {
  if (!dft_pool_begin(2, 0))
    return;
  chain_pool = dft_pool.pool;
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(1, NULL), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_add_callback(d, submit_next, NULL);
  dft_pool_outcome out;
  dft_pool_watch(d, &out);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT(out.success);
  CU_ASSERT_EQUAL(out.value, (1 * 3 + 1) * 3);
  CU_ASSERT_EQUAL(dft_pool_stats().completed, 2);
  dft_pool_end();
}

static void test_fifo_order_with_one_thread(void) {
  if (!dft_pool_begin(1, 0))
    return;
  static dft_pool_outcome outs[MANY];
  submit_many(outs, MANY, 0);
  run_until_fired(outs, MANY);
  /* One worker finishes jobs in queue order, and completions are delivered
   * in the order they finished. */
  for (int i = 1; i < MANY; i++)
    CU_ASSERT(outs[i].seq > outs[i - 1].seq);
  dft_pool_end();
}

/* Jobs queued behind long-running ones wake sleeping workers: with N
 * threads, N - 1 jobs held on a gate do not delay the N-th. */
static void test_c1_jobs_behind_long_ones_run_on_other_threads(void) {
  enum { THREADS = 4 };
  if (!dft_pool_begin(THREADS, 0))
    return;
  dft_pool_gate gate;
  dft_pool_gate_init(&gate);
  dft_pool_outcome held[THREADS - 1], free_job;
  for (int i = 0; i < THREADS - 1; i++) {
    dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(i, &gate), &held[i]);
    dft_pool_gate_wait_entered(&gate, i + 1); /* each on a thread of its own */
  }
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(9, NULL), &free_job);
  dft_pool_run_until_count(&free_job.fired, 1);
  CU_ASSERT_EQUAL(free_job.value, 27);
  for (int i = 0; i < THREADS - 1; i++)
    CU_ASSERT_EQUAL(held[i].fired, 0);
  dft_pool_gate_open(&gate);
  dft_pool_run_until_completed(THREADS);
  for (int i = 0; i < THREADS - 1; i++)
    CU_ASSERT_EQUAL(held[i].fired, 1);
  dft_pool_end();
}

/* ------------------------------------------------------------ ownership */

static long args_live_in_callback;

static df_result look_at_arg_count(df_result in, void *arg) {
  (void)arg;
  args_live_in_callback = dft_pool_args_live();
  return in;
}

static void test_arg_free_runs_once_after_the_deferred_fired(void) {
  if (!dft_pool_begin(2, 0))
    return;
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(2, NULL), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_add_callback(d, look_at_arg_count, NULL);
  dft_pool_outcome out;
  dft_pool_watch(d, &out);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT_EQUAL(args_live_in_callback, 1);
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  CU_ASSERT_EQUAL(dft_pool_arg_frees(), 1);
  dft_pool_end();
}

static void test_borrowed_arg_is_never_freed(void) {
  if (!dft_pool_begin(2, 0))
    return;
  dft_pool_arg *a = dft_pool_arg_new(4, NULL);
  dft_pool_outcome out;
  dft_pool_watch(df_defer_to_thread(dft_pool.pool, dft_pool_work_value, a),
                 &out);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT_EQUAL(out.value, 12);
  CU_ASSERT_EQUAL(dft_pool_args_live(), 1);
  dft_pool_arg_free(a);
  dft_pool_end();
}

static void test_unconsumed_result_is_freed_with_the_deferred(void) {
  if (!dft_pool_begin(2, 0))
    return;
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(3, NULL), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_unref(d); /* nobody listens: the pool's reference fires and frees it */
  dft_pool_run_until_completed(1);
  CU_ASSERT_EQUAL(dft_pool_values_live(), 0);
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  dft_pool_end();
}

/* A work function must not return a Deferred; the pool turns it into a
 * failure and drops the reference on the reactor thread. */
static df_result work_returns_deferred(void *arg) {
  df_result r = {arg, df_deferred_release};
  return r;
}

static void test_work_returning_a_deferred_fails_invalid_argument(void) {
  if (!dft_pool_begin(1, 0))
    return;
  df_deferred *inner = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(inner);
  df_ref(inner); /* the reference the work function hands back */
  dft_pool_outcome out;
  dft_pool_watch(
      df_defer_to_thread(dft_pool.pool, work_returns_deferred, inner), &out);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT_FALSE(out.success);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_INVALID_ARGUMENT);
  /* The Deferred failed, so the counters say so. */
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 1);
  CU_ASSERT_EQUAL(s.failed, 1);
  df_unref(inner);
  dft_pool_end();
}

/* ------------------------------------------------------------ misuse */

static void test_null_arguments_give_failed_deferreds(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_outcome out;
  dft_pool_watch(df_defer_to_thread_opts(NULL, dft_pool_work_value,
                                         dft_pool_arg_new(1, NULL),
                                         &dft_pool_owned_arg),
                 &out);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(out.message, "pool"));
  dft_pool_submit(NULL, dft_pool_arg_new(1, NULL), &out);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(out.message, "fn"));
  CU_ASSERT_EQUAL(dft_pool_arg_frees(), 2);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.rejected, 1); /* the NULL pool has no counters */
  CU_ASSERT_EQUAL(s.submitted, 0);
  dft_pool_end();
}

static void test_bad_arguments_of_the_life_functions(void) {
  if (!dft_pool_begin(1, 0))
    return;
  df_pool *p = dft_pool.pool; /* any non-NULL value: it must be reset */
  df_pool_options too_many = {.threads = DF_POOL_MAX_THREADS + 1};
  CU_ASSERT_EQUAL(df_pool_new(NULL, dft_pool.reactor, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_pool_new(&p, NULL, NULL), DF_EINVAL);
  CU_ASSERT_PTR_NULL(p);
  p = dft_pool.pool;
  CU_ASSERT_EQUAL(df_pool_new(&p, dft_pool.reactor, &too_many), DF_EINVAL);
  CU_ASSERT_PTR_NULL(p);
  CU_ASSERT_EQUAL(df_pool_close(NULL, DF_POOL_DRAIN), DF_EINVAL);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, (df_pool_close_mode)7),
                  DF_EINVAL);
  struct df_pool_stats s;
  CU_ASSERT_EQUAL(df_pool_stats(NULL, &s), DF_EINVAL);
  CU_ASSERT_EQUAL(df_pool_stats(dft_pool.pool, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_pool_free(NULL), 0);
  dft_pool_end();
}

/* Every call from a thread that is not the reactor's is refused. */
typedef struct off_thread_calls {
  df_pool *pool;
  int close_rc, free_rc, stats_rc;
  const df_error_type *submit_type;
  long arg_frees;
} off_thread_calls;

static df_result record_type(df_result in, void *arg) {
  *(const df_error_type **)arg = df_failure_type(df_result_failure(in));
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void *call_off_thread(void *arg) {
  off_thread_calls *c = arg;
  struct df_pool_stats s;
  c->stats_rc = df_pool_stats(c->pool, &s);
  c->close_rc = df_pool_close(c->pool, DF_POOL_DRAIN);
  c->free_rc = df_pool_free(c->pool);
  df_deferred *d = df_defer_to_thread(c->pool, dft_pool_work_null, NULL);
  if (d != NULL) {
    df_add_errback(d, record_type, &c->submit_type);
    df_unref(d);
  }
  return NULL;
}

static void test_calls_off_the_reactor_thread_are_refused(void) {
  if (!dft_pool_begin(1, 0))
    return;
  off_thread_calls c;
  memset(&c, 0, sizeof c);
  c.pool = dft_pool.pool;
  pthread_t t;
  CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, call_off_thread, &c), 0);
  pthread_join(t, NULL);
  CU_ASSERT_EQUAL(c.stats_rc, DF_EINVAL);
  CU_ASSERT_EQUAL(c.close_rc, DF_EINVAL);
  CU_ASSERT_EQUAL(c.free_rc, DF_EINVAL);
  CU_ASSERT_PTR_EQUAL(c.submit_type, &DF_INVALID_ARGUMENT);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.threads, 1); /* still open */
  CU_ASSERT_EQUAL(s.submitted, 0);
  dft_pool_end();
}

/* ------------------------------------------------------------ counters */

static void test_default_options_and_counters_add_up(void) {
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&dft_pool.reactor, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(df_pool_new(&dft_pool.pool, dft_pool.reactor, NULL), 0);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.threads, DF_POOL_DEFAULT_THREADS);
  static dft_pool_outcome outs[MANY];
  submit_many(outs, MANY, 4);
  s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.submitted, MANY);
  CU_ASSERT_EQUAL(s.submitted,
                  s.queued + s.running + s.completed + s.cancelled);
  run_until_fired(outs, MANY);
  s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, MANY);
  CU_ASSERT_EQUAL(s.failed, MANY / 4);
  CU_ASSERT_EQUAL(s.queued, 0);
  CU_ASSERT_EQUAL(s.running, 0);
  CU_ASSERT_EQUAL(s.cancelled, 0);
  /* The worker counts its wake-up after the write returned: wait for it. */
  dft_pool_wait(result_pushed, NULL);
  CU_ASSERT(dft_pool_stats().wakeups <= MANY);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_DRAIN), 0);
  CU_ASSERT_EQUAL(dft_pool_stats().threads, 0);
  dft_pool_end();
}

static CU_TestInfo tests[] = {
    {"c1_values_fire_on_the_reactor_thread",
     test_c1_values_fire_on_the_reactor_thread},
    {"c1_nothing_fires_until_the_reactor_runs",
     test_c1_nothing_fires_until_the_reactor_runs},
    {"c1_work_runs_on_a_worker_thread", test_c1_work_runs_on_a_worker_thread},
    {"s03_failure_of_work_runs_the_errbacks",
     test_s03_failure_of_work_runs_the_errbacks},
    {"s26_callback_waits_on_a_second_job",
     test_s26_callback_waits_on_a_second_job},
    {"fifo_order_with_one_thread", test_fifo_order_with_one_thread},
    {"c1_jobs_behind_long_ones_run_on_other_threads",
     test_c1_jobs_behind_long_ones_run_on_other_threads},
    {"arg_free_runs_once_after_the_deferred_fired",
     test_arg_free_runs_once_after_the_deferred_fired},
    {"borrowed_arg_is_never_freed", test_borrowed_arg_is_never_freed},
    {"unconsumed_result_is_freed_with_the_deferred",
     test_unconsumed_result_is_freed_with_the_deferred},
    {"work_returning_a_deferred_fails_invalid_argument",
     test_work_returning_a_deferred_fails_invalid_argument},
    {"null_arguments_give_failed_deferreds",
     test_null_arguments_give_failed_deferreds},
    {"bad_arguments_of_the_life_functions",
     test_bad_arguments_of_the_life_functions},
    {"calls_off_the_reactor_thread_are_refused",
     test_calls_off_the_reactor_thread_are_refused},
    {"default_options_and_counters_add_up",
     test_default_options_and_counters_add_up},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_run("pool", tests, NULL, NULL, NULL, NULL); }
