/* Cancelling the Deferreds of the pool (S14-S18, S20, S29): a queued job is
 * removed and never runs; a running job runs on, its Deferred fails at once
 * and its late result is freed when it arrives; nothing leaks, nothing fires
 * twice. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>

#include "pool_internal.h"
#include "dft_runner.h"
#include "dft_pool.h"

/* Begins a test on a one-thread pool: submits a job held on \p gate and one
 * queued behind it, both watched, and waits until the held job runs.
 * Returns false when the pool could not be made (dft_pool_begin). */
static bool begin_blocked_pair(dft_pool_gate *gate, df_deferred **blocker,
                               dft_pool_outcome *blocker_out,
                               df_deferred **queued,
                               dft_pool_outcome *queued_out) {
  if (!dft_pool_begin(1, 0))
    return false;
  dft_pool_gate_init(gate);
  *blocker = dft_pool_submit_watched(dft_pool_work_value,
                                     dft_pool_arg_new(1, gate), blocker_out);
  *queued = dft_pool_submit_watched(dft_pool_work_value,
                                    dft_pool_arg_new(2, NULL), queued_out);
  dft_pool_gate_wait_entered(gate,
                             1); /* the only worker is busy with blocker */
  return true;
}

/* Begins a test on a one-thread pool: submits fn(n) held on \p gate,
 * watched, and waits until it runs. Returns the caller's reference, or NULL
 * when the pool could not be made (dft_pool_begin). */
static df_deferred *begin_held(df_work_fn fn, long n, dft_pool_gate *gate,
                               dft_pool_outcome *out) {
  if (!dft_pool_begin(1, 0))
    return NULL;
  dft_pool_gate_init(gate);
  df_deferred *d = dft_pool_submit_watched(fn, dft_pool_arg_new(n, gate), out);
  dft_pool_gate_wait_entered(gate, 1);
  return d;
}

/* Cancels \p d and asserts it failed with DF_CANCELLED at once and once. */
static void cancel_fails_at_once(df_deferred *d, const dft_pool_outcome *out) {
  df_cancel(d);
  CU_ASSERT_EQUAL(out->fired, 1);
  CU_ASSERT_PTR_EQUAL(out->type, &DF_CANCELLED);
}

/* Drops the test's references to the two jobs and ends the test. */
static void end_pair(df_deferred *a, df_deferred *b) {
  df_unref(a);
  df_unref(b);
  dft_pool_end();
}

static void test_s15_cancelled_queued_job_never_runs(void) {
  dft_pool_gate gate;
  dft_pool_outcome blocker, queued;
  df_deferred *a, *b;
  if (!begin_blocked_pair(&gate, &a, &blocker, &b, &queued))
    return;
  CU_ASSERT_EQUAL(dft_pool_stats().queued, 1);

  /* S16: failed at once, without a round of the reactor. */
  cancel_fails_at_once(b, &queued);
  CU_ASSERT_EQUAL(dft_pool_arg_frees(), 1); /* b's argument, released at once */
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.queued, 0);
  CU_ASSERT_EQUAL(s.cancelled, 1);

  dft_pool_gate_open(&gate);
  dft_pool_run_until_count(&blocker.fired, 1);
  CU_ASSERT(blocker.success);
  CU_ASSERT_EQUAL(queued.fired, 1);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 1); /* b never ran */
  s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 1);
  CU_ASSERT_EQUAL(s.submitted, s.completed + s.cancelled);
  end_pair(a, b);
}

static void
test_s20_cancelled_running_job_fails_at_once_and_its_late_result_is_freed(
    void) {
  dft_pool_gate gate;
  dft_pool_outcome out;
  df_deferred *d = begin_held(dft_pool_work_value, 5, &gate, &out);
  if (d == NULL)
    return;

  cancel_fails_at_once(d, &out);
  /* The work still uses its argument: it is not released yet. */
  CU_ASSERT_EQUAL(dft_pool_args_live(), 1);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.running, 1);
  CU_ASSERT_EQUAL(s.abandoned, 1);
  CU_ASSERT_EQUAL(s.cancelled, 0);

  dft_pool_gate_open(&gate);
  dft_pool_run_until_completed(1);
  /* S17: the late result is dropped, not delivered; it and the argument
   * are freed on the reactor thread (dft_pool_end checks the thread). */
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_EQUAL(dft_pool_values_live(), 0);
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.running, 0);
  CU_ASSERT_EQUAL(s.completed, 1);
  df_unref(d);
  dft_pool_end();
}

static void test_s20_late_failure_of_a_cancelled_job_is_freed_unreported(void) {
  dft_pool_gate gate;
  dft_pool_outcome out;
  df_deferred *d = begin_held(dft_pool_work_fail, 9, &gate, &out);
  if (d == NULL)
    return;
  df_cancel(d);
  dft_pool_gate_open(&gate);
  dft_pool_run_until_completed(1);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_CANCELLED);
  CU_ASSERT_EQUAL(dft_pool_stats().failed, 1);
  df_unref(d);
  dft_pool_end();
}

static bool job_on_completion_list(void *arg) {
  df_pool *p = arg;
  return atomic_load(&p->done) != NULL;
}

static void test_s20_cancel_between_finish_and_delivery(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_outcome out;
  df_deferred *d = dft_pool_submit_watched(dft_pool_work_value,
                                           dft_pool_arg_new(1, NULL), &out);
  dft_pool_wait(job_on_completion_list, dft_pool.pool);
  CU_ASSERT_FALSE(df_called(d));
  cancel_fails_at_once(d, &out);
  dft_pool_run_until_completed(1);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_EQUAL(dft_pool_values_live(), 0);
  CU_ASSERT_EQUAL(dft_pool_stats().abandoned, 1);
  df_unref(d);
  dft_pool_end();
}

static void test_s14_cancel_twice_fires_once(void) {
  dft_pool_gate gate;
  dft_pool_outcome blocker, queued;
  df_deferred *a, *b;
  if (!begin_blocked_pair(&gate, &a, &blocker, &b, &queued))
    return;
  df_cancel(b);
  df_cancel(b);
  df_cancel(a);
  df_cancel(a);
  CU_ASSERT_EQUAL(queued.fired, 1);
  CU_ASSERT_EQUAL(blocker.fired, 1);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.cancelled, 1);
  CU_ASSERT_EQUAL(s.abandoned, 1);
  dft_pool_gate_open(&gate);
  dft_pool_run_until_completed(1);
  CU_ASSERT_EQUAL(queued.fired, 1);
  CU_ASSERT_EQUAL(blocker.fired, 1);
  end_pair(a, b);
}

static void test_s18_cancel_after_delivery_changes_nothing(void) {
  if (!dft_pool_begin(2, 0))
    return;
  dft_pool_outcome out;
  df_deferred *d = dft_pool_submit_watched(dft_pool_work_value,
                                           dft_pool_arg_new(4, NULL), &out);
  dft_pool_run_until_count(&out.fired, 1);
  df_cancel(d);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT(out.success);
  CU_ASSERT_EQUAL(out.value, 12);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.cancelled, 0);
  CU_ASSERT_EQUAL(s.abandoned, 0);
  df_unref(d);
  dft_pool_end();
}

/* A callback run by a delivery cancels jobs of the same pool: the queued
 * ones never run, and a job finished in the same batch is not delivered. */
typedef struct cancel_others {
  df_deferred *targets[4];
  int n;
} cancel_others;

static df_result cancel_targets(df_result in, void *arg) {
  cancel_others *c = arg;
  for (int i = 0; i < c->n; i++)
    df_cancel(c->targets[i]);
  return in;
}

static void test_s15_cancel_from_a_callback_of_another_job(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  dft_pool_gate_init(&gate);
  dft_pool_outcome first, later[3];
  df_deferred *a =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(1, &gate), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  cancel_others c;
  memset(&c, 0, sizeof c);
  df_add_callback(a, cancel_targets, &c);
  dft_pool_watch(a, &first);
  for (int i = 0; i < 3; i++)
    c.targets[i] = dft_pool_submit_watched(
        dft_pool_work_value, dft_pool_arg_new(10 + i, NULL), &later[i]);
  c.n = 3;
  dft_pool_gate_open(&gate);
  dft_pool_run_until_count(&first.fired, 1);
  /* However far the worker got, each fired once; those it did not reach
   * never ran. */
  for (int i = 0; i < 3; i++) {
    CU_ASSERT_EQUAL(later[i].fired, 1);
    CU_ASSERT_PTR_EQUAL(later[i].type, &DF_CANCELLED);
  }
  dft_pool_run_until_completed(dft_pool_stats().submitted -
                               dft_pool_stats().cancelled);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.cancelled + s.abandoned, 3);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 1 + (long)s.abandoned);
  CU_ASSERT_EQUAL(s.submitted, s.completed + s.cancelled);
  for (int i = 0; i < 3; i++) {
    CU_ASSERT_EQUAL(later[i].fired, 1);
    df_unref(c.targets[i]);
  }
  dft_pool_end();
}

/* S29 on a pool job: the timeout cancels it, the Deferred fails with
 * DF_TIMEOUT while the work runs on; its late result is freed. */
static void test_s29_timeout_on_a_running_job(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  dft_pool_gate_init(&gate);
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(3, &gate), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT_PTR_EQUAL(df_add_timeout(d, dft_pool.reactor, 0.01), d);
  dft_pool_outcome out;
  dft_pool_watch(d, &out);
  dft_pool_gate_wait_entered(&gate, 1);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_TIMEOUT);
  CU_ASSERT_EQUAL(out.code, 10);
  CU_ASSERT_EQUAL(dft_pool_stats().abandoned, 1);
  dft_pool_gate_open(&gate);
  dft_pool_run_until_completed(1);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_EQUAL(dft_pool_values_live(), 0);
  dft_pool_end();
}

/* The late result of a cancelled running job is also freed when it arrives
 * during df_pool_close(). */
static void test_s20_late_result_arriving_during_close_is_freed(void) {
  dft_pool_gate gate;
  dft_pool_outcome out;
  df_deferred *d = begin_held(dft_pool_work_value, 8, &gate, &out);
  if (d == NULL)
    return;
  df_cancel(d);
  dft_pool_gate_open(&gate);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_DRAIN), 0);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_EQUAL(dft_pool_values_live(), 0);
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 1);
  CU_ASSERT_EQUAL(s.abandoned, 1);
  df_unref(d);
  dft_pool_end();
}

/* ------------------------------------------------------------ behind */

/* S15 for a job waiting behind a running one: it never runs, its Deferred
 * fails with DF_CANCELLED at once and once, its argument is released at
 * once and once, and the counts add up throughout. */
static void test_s15_cancelled_job_behind_a_running_one_never_runs(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  dft_pool_outcome first, second;
  df_deferred *a, *b;
  dft_pool_queue_pair(&gate, &a, &first, &b, &second);
  long frees = dft_pool_arg_frees(); /* the holder's */

  cancel_fails_at_once(b, &second);
  CU_ASSERT_EQUAL(dft_pool_arg_frees(), frees + 1);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.queued, 0);
  CU_ASSERT_EQUAL(s.running, 1);
  CU_ASSERT_EQUAL(s.cancelled, 1);
  CU_ASSERT_EQUAL(s.abandoned, 0);
  dft_pool_assert_stats_add_up();
  df_cancel(b); /* fired already: nothing more */
  CU_ASSERT_EQUAL(second.fired, 1);

  dft_pool_gate_open(&gate);
  dft_pool_run_until_count(&first.fired, 1);
  CU_ASSERT(first.success);
  CU_ASSERT_EQUAL(first.value, 3);
  /* A job submitted now may reuse the cancelled job's node: nothing of the
   * cancelled job may run or be released again. */
  dft_pool_outcome later;
  dft_pool_watch(df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                                         dft_pool_arg_new(4, NULL),
                                         &dft_pool_owned_arg),
                 &later);
  dft_pool_run_until_count(&later.fired, 1);
  CU_ASSERT_EQUAL(second.fired, 1);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 3); /* the holder, a, the later job */
  CU_ASSERT_EQUAL(dft_pool_arg_frees(), frees + 3);
  s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 3);
  CU_ASSERT_EQUAL(s.cancelled, 1);
  CU_ASSERT_EQUAL(s.queued + s.running, 0);
  dft_pool_assert_stats_add_up();
  end_pair(a, b);
}

/* A job cancelled while it runs is abandoned as usual; the one queued
 * behind it still runs and fires with its result. */
static void test_s20_cancel_running_job_leaves_the_one_behind_it(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  dft_pool_outcome first, second;
  df_deferred *a, *b;
  dft_pool_queue_pair(&gate, &a, &first, &b, &second);
  cancel_fails_at_once(a, &first);
  CU_ASSERT_EQUAL(dft_pool_stats().abandoned, 1);
  CU_ASSERT_EQUAL(dft_pool_stats().queued, 1);
  dft_pool_gate_open(&gate);
  dft_pool_run_until_count(&second.fired, 1);
  CU_ASSERT(second.success);
  CU_ASSERT_EQUAL(second.value, 6);
  dft_pool_run_until_completed(3);
  CU_ASSERT_EQUAL(first.fired, 1);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 3);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.cancelled, 0);
  CU_ASSERT_EQUAL(s.queued + s.running, 0);
  dft_pool_assert_stats_add_up();
  end_pair(a, b);
}

/* Jobs that finished and wait on the completion list (white-box). */
static bool done_holds(void *arg) {
  size_t n = 0;
  for (df__job *j = atomic_load(&dft_pool.pool->done); j != NULL; j = j->next)
    n++;
  return n >= *(const size_t *)arg;
}

/* Submits a job and waits until its worker handed it back, undelivered. */
static void finish_undelivered(dft_pool_outcome *out, size_t nth) {
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new((long)nth, NULL), out);
  dft_pool_wait(done_holds, &nth);
}

/* The errback of the queued job: lets the running job go and closes the
 * pool while the cancel still runs. */
static df_result close_from_errback(df_result in, void *arg) {
  dft_pool_gate_open(arg);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_DRAIN), 0);
  return in;
}

/* S15 for a queued job whose errback closes the pool: with the node cache
 * full (a queue limit of 2, more nodes finished than it keeps) the close
 * frees nodes while the cancel still runs. The cancel must not touch the
 * job's node afterwards; the argument is released once. */
static void test_s15_cancelled_queued_job_closing_the_pool(void) {
  if (!dft_pool_begin(1, 2))
    return;
  dft_pool_outcome early[3];
  for (size_t i = 0; i < 3; i++)
    finish_undelivered(&early[i], i + 1);
  dft_pool_holder h;
  dft_pool_hold_begin(&h);
  dft_pool_gate gate;
  dft_pool_gate_init(&gate);
  dft_pool_outcome first, second;
  df_deferred *a = dft_pool_submit_watched(dft_pool_work_value,
                                           dft_pool_arg_new(1, &gate), &first);
  df_deferred *b = dft_pool_submit_watched(dft_pool_work_value,
                                           dft_pool_arg_new(2, NULL), &second);
  df_add_both(b, close_from_errback, &gate);
  dft_pool_gate_open(&h.gate); /* the worker starts the first; b waits */
  dft_pool_gate_wait_entered(&gate, 1);
  CU_ASSERT_EQUAL(dft_pool_stats().queued, 1);

  cancel_fails_at_once(b, &second);
  CU_ASSERT_EQUAL(first.fired, 1);
  CU_ASSERT(first.success);
  CU_ASSERT_EQUAL(h.out.fired, 1);
  for (size_t i = 0; i < 3; i++)
    CU_ASSERT_EQUAL(early[i].fired, 1);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 5); /* three, the holder, the first */
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 5);
  CU_ASSERT_EQUAL(s.cancelled, 1);
  CU_ASSERT_EQUAL(s.queued + s.running, 0);
  dft_pool_assert_stats_add_up();
  end_pair(a, b);
}

static CU_TestInfo tests[] = {
    {"s15_cancelled_queued_job_never_runs",
     test_s15_cancelled_queued_job_never_runs},
    {"s20_cancelled_running_job_fails_at_once_and_its_late_result_is_freed",
     test_s20_cancelled_running_job_fails_at_once_and_its_late_result_is_freed},
    {"s20_late_failure_of_a_cancelled_job_is_freed_unreported",
     test_s20_late_failure_of_a_cancelled_job_is_freed_unreported},
    {"s20_cancel_between_finish_and_delivery",
     test_s20_cancel_between_finish_and_delivery},
    {"s14_cancel_twice_fires_once", test_s14_cancel_twice_fires_once},
    {"s18_cancel_after_delivery_changes_nothing",
     test_s18_cancel_after_delivery_changes_nothing},
    {"s15_cancel_from_a_callback_of_another_job",
     test_s15_cancel_from_a_callback_of_another_job},
    {"s29_timeout_on_a_running_job", test_s29_timeout_on_a_running_job},
    {"s20_late_result_arriving_during_close_is_freed",
     test_s20_late_result_arriving_during_close_is_freed},
    {"s15_cancelled_job_behind_a_running_one_never_runs",
     test_s15_cancelled_job_behind_a_running_one_never_runs},
    {"s20_cancel_running_job_leaves_the_one_behind_it",
     test_s20_cancel_running_job_leaves_the_one_behind_it},
    {"s15_cancelled_queued_job_closing_the_pool",
     test_s15_cancelled_queued_job_closing_the_pool},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_run("pool_cancel", tests, NULL, NULL, NULL, NULL); }
