/* Elastic sizing: min_threads, max_threads and idle_timeout_ms. A thread
 * is started when a job is queued and no thread is idle, up to
 * max_threads; threads above min_threads exit after the idle timeout; a
 * failing pthread_create() leaves the pool working with the threads it
 * has. A fixed pool keeps its threads. No test measures time: "the idle
 * threads exit" is a condition the reactor loop waits for, with a bound. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>

#include "pool_internal.h"
#include "dft_runner.h"
#include "dft_pool.h"

static bool threads_at(void *arg) {
  return dft_pool_stats().threads == *(const unsigned *)arg;
}

/* Runs the reactor until the pool has exactly \p n threads. */
static void run_until_threads(unsigned n) {
  dft_pool_run_until(threads_at, &n);
}

/* Submits \p n jobs meeting at \p m and runs until all succeeded. */
static void meet(dft_pool_meeting *m, unsigned n) {
  dft_pool_outcome *outs = calloc(n, sizeof *outs);
  CU_ASSERT_PTR_NOT_NULL_FATAL(outs);
  dft_pool_meeting_init(m, (int)n);
  for (unsigned i = 0; i < n; i++)
    dft_pool_watch(df_defer_to_thread(dft_pool.pool, dft_pool_work_meet, m),
                   &outs[i]);
  for (unsigned i = 0; i < n; i++) {
    dft_pool_run_until_count(&outs[i].fired, 1);
    CU_ASSERT(outs[i].success);
  }
  free(outs);
  dft_pool_meeting_destroy(m);
}

/* ------------------------------------------------------------ options */

static int new_pool(df_pool_options opts) {
  df_reactor *r;
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, NULL), 0);
  df_pool *p = (df_pool *)r; /* must be reset to NULL on error */
  int rc = df_pool_new(&p, r, &opts);
  if (rc == 0) {
    CU_ASSERT_EQUAL(df_pool_free(p), 0);
  } else {
    CU_ASSERT_PTR_NULL(p);
  }
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  return rc;
}

static void test_sizing_options_are_checked(void) {
  CU_ASSERT_EQUAL(new_pool((df_pool_options){.threads = 2, .max_threads = 4}),
                  DF_EINVAL);
  CU_ASSERT_EQUAL(
      new_pool((df_pool_options){.min_threads = 5, .max_threads = 4}),
      DF_EINVAL);
  CU_ASSERT_EQUAL(new_pool((df_pool_options){.min_threads = 1}), DF_EINVAL);
  CU_ASSERT_EQUAL(new_pool((df_pool_options){.idle_timeout_ms = 10}),
                  DF_EINVAL);
  CU_ASSERT_EQUAL(
      new_pool((df_pool_options){.max_threads = DF_POOL_MAX_THREADS + 1}),
      DF_EINVAL);
  CU_ASSERT_EQUAL(new_pool((df_pool_options){.max_threads = 4}), 0);
  CU_ASSERT_EQUAL(
      new_pool((df_pool_options){.min_threads = 4, .max_threads = 4}), 0);
}

/* ------------------------------------------------------------ growth */

/* An elastic pool with no thread yet grows to run four jobs that must all
 * run at once, one thread per job that found no idle thread. */
static void test_elastic_pool_grows_to_run_blocking_jobs_at_once(void) {
  if (!dft_pool_begin_opts(&(df_pool_options){.max_threads = 4}))
    return;
  CU_ASSERT_EQUAL(dft_pool_stats().threads, 0);
  dft_pool_meeting m;
  meet(&m, 4);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.threads, 4);
  CU_ASSERT_EQUAL(s.threads_started, 4);
  CU_ASSERT_EQUAL(s.thread_failures, 0);
  dft_pool_end();
}

/* Submits three jobs held on \p gate and waits until two of them run: on
 * a pool that can have two threads, the third then waits in the queue. */
static void hold_three_on_two_threads(dft_pool_gate *gate,
                                      dft_pool_outcome outs[3]) {
  dft_pool_gate_init(gate);
  for (int i = 0; i < 3; i++)
    dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(i, gate), &outs[i]);
  dft_pool_gate_wait_entered(gate, 2);
}

/* Opens \p gate and runs until the three jobs succeeded. */
static void release_three(dft_pool_gate *gate, dft_pool_outcome outs[3]) {
  dft_pool_gate_open(gate);
  for (int i = 0; i < 3; i++) {
    dft_pool_run_until_count(&outs[i].fired, 1);
    CU_ASSERT(outs[i].success);
  }
}

/* Growth stops at max_threads: the jobs beyond wait in the queue. */
static void test_elastic_pool_stops_growing_at_max_threads(void) {
  if (!dft_pool_begin_opts(
          &(df_pool_options){.min_threads = 1, .max_threads = 2}))
    return;
  dft_pool_gate gate;
  dft_pool_outcome outs[3];
  hold_three_on_two_threads(&gate, outs);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.threads, 2);
  CU_ASSERT_EQUAL(s.queued, 1);
  CU_ASSERT_EQUAL(s.running, 2);
  release_three(&gate, outs);
  CU_ASSERT_EQUAL(dft_pool_stats().threads_started, 2);
  dft_pool_end();
}

/* Jobs that an idle thread can take start no thread. */
static void test_elastic_pool_reuses_idle_threads(void) {
  if (!dft_pool_begin_opts(
          &(df_pool_options){.min_threads = 2, .max_threads = 8}))
    return;
  for (int i = 0; i < 20; i++) {
    dft_pool_outcome out;
    dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(i, NULL), &out);
    dft_pool_run_until_count(&out.fired, 1);
  }
  CU_ASSERT_EQUAL(dft_pool_stats().threads_started, 2);
  dft_pool_end();
}

/* ------------------------------------------------------------ shrinking */

/* Threads above min_threads leave once idle for the timeout; the pool
 * grows again when jobs need it. */
static void test_idle_threads_above_min_exit_and_the_pool_grows_again(void) {
  if (!dft_pool_begin_opts(&(df_pool_options){
          .min_threads = 1, .max_threads = 4, .idle_timeout_ms = 20}))
    return;
  dft_pool_meeting m;
  meet(&m, 4);
  run_until_threads(1);
  CU_ASSERT_EQUAL(dft_pool_stats().idle, 1);
  meet(&m, 4);
  CU_ASSERT_EQUAL(dft_pool_stats().threads_started, 7);
  run_until_threads(1);
  dft_pool_end();
}

/* With min_threads 0 the pool goes down to no thread, and a job then
 * starts one. */
static void test_pool_with_min_zero_empties_and_restarts(void) {
  if (!dft_pool_begin_opts(
          &(df_pool_options){.max_threads = 2, .idle_timeout_ms = 10}))
    return;
  dft_pool_outcome first, second;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(1, NULL), &first);
  dft_pool_run_until_count(&first.fired, 1);
  run_until_threads(0);
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(2, NULL), &second);
  dft_pool_run_until_count(&second.fired, 1);
  CU_ASSERT(second.success);
  CU_ASSERT_EQUAL(second.value, 6);
  CU_ASSERT_EQUAL(dft_pool_stats().threads_started, 2);
  dft_pool_end();
}

/* A fixed pool keeps its threads: it starts them once and never more. */
static void test_fixed_pool_starts_its_threads_once(void) {
  if (!dft_pool_begin(3, 0))
    return;
  dft_pool_meeting m;
  meet(&m, 3);
  meet(&m, 3);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.threads, 3);
  CU_ASSERT_EQUAL(s.threads_started, 3);
  dft_pool_end();
}

/* ------------------------------------------------------------ failures */

static atomic_int create_calls;
static atomic_int failing_from; /* calls from this one on fail; 0: none */

static int failing_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg) {
  int call = atomic_fetch_add(&create_calls, 1) + 1;
  int from = atomic_load(&failing_from);
  if (from != 0 && call >= from)
    return EAGAIN;
  return pthread_create(thread, attr, start, arg);
}

static void fail_thread_creation_from(int call) {
  atomic_store(&create_calls, 0);
  atomic_store(&failing_from, call);
  df__pool_set_thread_create_hook(failing_create);
}

/* A thread that cannot be started leaves the pool with the threads it
 * has: the job waits for one of them and runs. */
static void test_failed_growth_keeps_the_pool_working(void) {
  fail_thread_creation_from(3);
  if (!dft_pool_begin_opts(
          &(df_pool_options){.min_threads = 1, .max_threads = 4})) {
    df__pool_set_thread_create_hook(NULL);
    return;
  }
  dft_pool_gate gate;
  dft_pool_outcome outs[3];
  hold_three_on_two_threads(&gate, outs);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.threads, 2);
  CU_ASSERT_EQUAL(s.thread_failures, 1);
  CU_ASSERT_EQUAL(s.queued, 1);
  release_three(&gate, outs);
  df__pool_set_thread_create_hook(NULL);
  dft_pool_end();
}

/* With no thread at all and none that can start, the job cannot run: it
 * fails with DF_SYSTEM at once and its argument is released; once threads
 * can start again, the pool works. */
static void test_no_thread_at_all_fails_the_job_with_system(void) {
  fail_thread_creation_from(1);
  if (!dft_pool_begin_opts(&(df_pool_options){.max_threads = 2})) {
    df__pool_set_thread_create_hook(NULL);
    return;
  }
  dft_pool_outcome refused, later;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(1, NULL), &refused);
  CU_ASSERT_EQUAL(refused.fired, 1);
  CU_ASSERT_PTR_EQUAL(refused.type, &DF_SYSTEM);
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.threads, 0);
  CU_ASSERT_EQUAL(s.thread_failures, 1);
  CU_ASSERT_EQUAL(s.cancelled, 1);
  dft_pool_assert_stats_add_up();
  df__pool_set_thread_create_hook(NULL);
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(2, NULL), &later);
  dft_pool_run_until_count(&later.fired, 1);
  CU_ASSERT(later.success);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 1);
  dft_pool_end();
}

static CU_TestInfo tests[] = {
    {"sizing_options_are_checked", test_sizing_options_are_checked},
    {"elastic_pool_grows_to_run_blocking_jobs_at_once",
     test_elastic_pool_grows_to_run_blocking_jobs_at_once},
    {"elastic_pool_stops_growing_at_max_threads",
     test_elastic_pool_stops_growing_at_max_threads},
    {"elastic_pool_reuses_idle_threads", test_elastic_pool_reuses_idle_threads},
    {"idle_threads_above_min_exit_and_the_pool_grows_again",
     test_idle_threads_above_min_exit_and_the_pool_grows_again},
    {"pool_with_min_zero_empties_and_restarts",
     test_pool_with_min_zero_empties_and_restarts},
    {"fixed_pool_starts_its_threads_once",
     test_fixed_pool_starts_its_threads_once},
    {"failed_growth_keeps_the_pool_working",
     test_failed_growth_keeps_the_pool_working},
    {"no_thread_at_all_fails_the_job_with_system",
     test_no_thread_at_all_fails_the_job_with_system},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_run("pool_sizing", tests, NULL, NULL, NULL, NULL); }
