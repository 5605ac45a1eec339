/* Cancelling the Deferreds of the pool (S14-S18, S20, S29): a queued job is
 * removed and never runs; a running job runs on, its Deferred fails at once
 * and its late result is freed when it arrives; nothing leaks, nothing fires
 * twice. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>

#include "pool_internal.h"
#include "runner.h"
#include "test_pool_support.h"

/* Submits fn(arg) with tp_arg_free and watches it, keeping a reference of
 * the test's own so that it can cancel the Deferred later. */
static df_deferred *submit_watched(df_work_fn fn, tp_arg *arg,
                                   tp_outcome *out) {
  df_deferred *d = df_defer_to_thread_full(tp.pool, fn, arg, tp_arg_free);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_ref(d);
  tp_watch(d, out);
  return d;
}

static void test_s15_cancelled_queued_job_never_runs(void) {
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  tp_outcome blocker, queued;
  df_deferred *a = submit_watched(tp_work_value, tp_arg_new(1, &gate), &blocker);
  df_deferred *b = submit_watched(tp_work_value, tp_arg_new(2, NULL), &queued);
  tp_gate_wait_entered(&gate, 1); /* the only worker is busy with a */
  CU_ASSERT_EQUAL(tp_stats().queued, 1);

  df_cancel(b);
  /* S16: failed at once, without a round of the reactor. */
  CU_ASSERT_EQUAL(queued.fired, 1);
  CU_ASSERT_PTR_EQUAL(queued.type, &DF_CANCELLED);
  CU_ASSERT_EQUAL(tp_arg_frees(), 1); /* b's argument, released at once */
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.queued, 0);
  CU_ASSERT_EQUAL(s.cancelled, 1);

  tp_gate_open(&gate);
  tp_run_until_count(&blocker.fired, 1);
  CU_ASSERT(blocker.success);
  CU_ASSERT_EQUAL(queued.fired, 1);
  CU_ASSERT_EQUAL(tp_works_run(), 1); /* b never ran */
  s = tp_stats();
  CU_ASSERT_EQUAL(s.completed, 1);
  CU_ASSERT_EQUAL(s.submitted, s.completed + s.cancelled);
  df_unref(a);
  df_unref(b);
  tp_end();
}

static void test_s20_cancelled_running_job_fails_at_once_and_its_late_result_is_freed(void) {
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  tp_outcome out;
  df_deferred *d = submit_watched(tp_work_value, tp_arg_new(5, &gate), &out);
  tp_gate_wait_entered(&gate, 1);

  df_cancel(d);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_CANCELLED);
  /* The work still uses its argument: it is not released yet. */
  CU_ASSERT_EQUAL(tp_args_live(), 1);
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.running, 1);
  CU_ASSERT_EQUAL(s.abandoned, 1);
  CU_ASSERT_EQUAL(s.cancelled, 0);

  tp_gate_open(&gate);
  tp_run_until_completed(1);
  /* S17: the late result is dropped, not delivered; it and the argument
   * are freed on the reactor thread (tp_end checks the thread). */
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_EQUAL(tp_values_live(), 0);
  CU_ASSERT_EQUAL(tp_args_live(), 0);
  s = tp_stats();
  CU_ASSERT_EQUAL(s.running, 0);
  CU_ASSERT_EQUAL(s.completed, 1);
  df_unref(d);
  tp_end();
}

static void test_s20_late_failure_of_a_cancelled_job_is_freed_unreported(void) {
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  tp_outcome out;
  df_deferred *d = submit_watched(tp_work_fail, tp_arg_new(9, &gate), &out);
  tp_gate_wait_entered(&gate, 1);
  df_cancel(d);
  tp_gate_open(&gate);
  tp_run_until_completed(1);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_CANCELLED);
  CU_ASSERT_EQUAL(tp_stats().failed, 1);
  df_unref(d);
  tp_end();
}

static bool job_on_completion_list(void *arg) {
  df_pool *p = arg;
  return atomic_load(&p->done) != NULL;
}

static void test_s20_cancel_between_finish_and_delivery(void) {
  if (!tp_begin(1, 0))
    return;
  tp_outcome out;
  df_deferred *d = submit_watched(tp_work_value, tp_arg_new(1, NULL), &out);
  tp_wait(job_on_completion_list, tp.pool);
  CU_ASSERT_FALSE(df_called(d));
  df_cancel(d);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_CANCELLED);
  tp_run_until_completed(1);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_EQUAL(tp_values_live(), 0);
  CU_ASSERT_EQUAL(tp_stats().abandoned, 1);
  df_unref(d);
  tp_end();
}

static void test_s14_cancel_twice_fires_once(void) {
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  tp_outcome blocker, queued;
  df_deferred *a = submit_watched(tp_work_value, tp_arg_new(1, &gate), &blocker);
  df_deferred *b = submit_watched(tp_work_value, tp_arg_new(2, NULL), &queued);
  tp_gate_wait_entered(&gate, 1);
  df_cancel(b);
  df_cancel(b);
  df_cancel(a);
  df_cancel(a);
  CU_ASSERT_EQUAL(queued.fired, 1);
  CU_ASSERT_EQUAL(blocker.fired, 1);
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.cancelled, 1);
  CU_ASSERT_EQUAL(s.abandoned, 1);
  tp_gate_open(&gate);
  tp_run_until_completed(1);
  CU_ASSERT_EQUAL(queued.fired, 1);
  CU_ASSERT_EQUAL(blocker.fired, 1);
  df_unref(a);
  df_unref(b);
  tp_end();
}

static void test_s18_cancel_after_delivery_changes_nothing(void) {
  if (!tp_begin(2, 0))
    return;
  tp_outcome out;
  df_deferred *d = submit_watched(tp_work_value, tp_arg_new(4, NULL), &out);
  tp_run_until_count(&out.fired, 1);
  df_cancel(d);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT(out.success);
  CU_ASSERT_EQUAL(out.value, 12);
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.cancelled, 0);
  CU_ASSERT_EQUAL(s.abandoned, 0);
  df_unref(d);
  tp_end();
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
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  tp_outcome first, later[3];
  df_deferred *a = df_defer_to_thread_full(tp.pool, tp_work_value,
                                           tp_arg_new(1, &gate), tp_arg_free);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  cancel_others c;
  memset(&c, 0, sizeof c);
  df_add_callback(a, cancel_targets, &c);
  tp_watch(a, &first);
  for (int i = 0; i < 3; i++)
    c.targets[i] = submit_watched(tp_work_value, tp_arg_new(10 + i, NULL),
                                  &later[i]);
  c.n = 3;
  tp_gate_open(&gate);
  tp_run_until_count(&first.fired, 1);
  /* However far the worker got, each fired once; those it did not reach
   * never ran. */
  for (int i = 0; i < 3; i++) {
    CU_ASSERT_EQUAL(later[i].fired, 1);
    CU_ASSERT_PTR_EQUAL(later[i].type, &DF_CANCELLED);
  }
  tp_run_until_completed(tp_stats().submitted - tp_stats().cancelled);
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.cancelled + s.abandoned, 3);
  CU_ASSERT_EQUAL(tp_works_run(), 1 + (long)s.abandoned);
  CU_ASSERT_EQUAL(s.submitted, s.completed + s.cancelled);
  for (int i = 0; i < 3; i++) {
    CU_ASSERT_EQUAL(later[i].fired, 1);
    df_unref(c.targets[i]);
  }
  tp_end();
}

/* S29 on a pool job: the timeout cancels it, the Deferred fails with
 * DF_TIMEOUT while the work runs on; its late result is freed. */
static void test_s29_timeout_on_a_running_job(void) {
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  df_deferred *d = df_defer_to_thread_full(tp.pool, tp_work_value,
                                           tp_arg_new(3, &gate), tp_arg_free);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT_PTR_EQUAL(df_add_timeout(d, tp.reactor, 0.01), d);
  tp_outcome out;
  tp_watch(d, &out);
  tp_gate_wait_entered(&gate, 1);
  tp_run_until_count(&out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_TIMEOUT);
  CU_ASSERT_EQUAL(out.code, 10);
  CU_ASSERT_EQUAL(tp_stats().abandoned, 1);
  tp_gate_open(&gate);
  tp_run_until_completed(1);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_EQUAL(tp_values_live(), 0);
  tp_end();
}

/* The late result of a cancelled running job is also freed when it arrives
 * during df_pool_close(). */
static void test_s20_late_result_arriving_during_close_is_freed(void) {
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  tp_outcome out;
  df_deferred *d = submit_watched(tp_work_value, tp_arg_new(8, &gate), &out);
  tp_gate_wait_entered(&gate, 1);
  df_cancel(d);
  tp_gate_open(&gate);
  CU_ASSERT_EQUAL(df_pool_close(tp.pool, DF_POOL_DRAIN), 0);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_EQUAL(tp_values_live(), 0);
  CU_ASSERT_EQUAL(tp_args_live(), 0);
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.completed, 1);
  CU_ASSERT_EQUAL(s.abandoned, 1);
  df_unref(d);
  tp_end();
}

/* ------------------------------------------------------------ claimed */

static bool shared_queue_empty(void) {
  pthread_mutex_lock(&tp.pool->mutex);
  bool empty = df__pool_link_empty(&tp.pool->queue);
  pthread_mutex_unlock(&tp.pool->mutex);
  return empty;
}

static void assert_stats_add_up(void) {
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.submitted,
                  s.queued + s.running + s.completed + s.cancelled);
}

/* The only worker claims two jobs in one batch and starts the first, held
 * on \p gate: the second is claimed and not started. */
static void claim_pair(tp_gate *gate, df_deferred **first,
                       tp_outcome *first_out, df_deferred **second,
                       tp_outcome *second_out) {
  tp_holder h;
  tp_hold_begin(&h);
  *first = submit_watched(tp_work_value, tp_arg_new(1, gate), first_out);
  *second = submit_watched(tp_work_value, tp_arg_new(2, NULL), second_out);
  tp_hold_end(&h);
  tp_gate_wait_entered(gate, 1);
  /* White-box: the second job left the queue with the first, yet it has
   * not started, so it still counts as queued. */
  CU_ASSERT(shared_queue_empty());
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.queued, 1);
  CU_ASSERT_EQUAL(s.running, 1);
  assert_stats_add_up();
}

/* S15 for a job a worker claimed in a batch but did not start: it never
 * runs, its Deferred fails with DF_CANCELLED at once and once, its argument
 * is released at once and once, and the counts add up throughout. */
static void test_s15_cancelled_claimed_job_never_runs(void) {
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  tp_outcome first, second;
  df_deferred *a, *b;
  claim_pair(&gate, &a, &first, &b, &second);
  long frees = tp_arg_frees(); /* the holder's */

  df_cancel(b);
  CU_ASSERT_EQUAL(second.fired, 1);
  CU_ASSERT_PTR_EQUAL(second.type, &DF_CANCELLED);
  CU_ASSERT_EQUAL(tp_arg_frees(), frees + 1);
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.queued, 0);
  CU_ASSERT_EQUAL(s.running, 1);
  CU_ASSERT_EQUAL(s.cancelled, 1);
  CU_ASSERT_EQUAL(s.abandoned, 0);
  assert_stats_add_up();
  df_cancel(b); /* fired already: nothing more */
  CU_ASSERT_EQUAL(second.fired, 1);

  tp_gate_open(&gate);
  tp_run_until_count(&first.fired, 1);
  CU_ASSERT(first.success);
  CU_ASSERT_EQUAL(first.value, 3);
  /* A job submitted now runs after the worker handed the cancelled node
   * back: by then nothing of it may have run or been released again. */
  tp_outcome later;
  tp_watch(df_defer_to_thread_full(tp.pool, tp_work_value, tp_arg_new(4, NULL),
                                   tp_arg_free),
           &later);
  tp_run_until_count(&later.fired, 1);
  CU_ASSERT_EQUAL(second.fired, 1);
  CU_ASSERT_EQUAL(tp_works_run(), 3); /* the holder, a, the later job */
  CU_ASSERT_EQUAL(tp_arg_frees(), frees + 3);
  s = tp_stats();
  CU_ASSERT_EQUAL(s.completed, 3);
  CU_ASSERT_EQUAL(s.cancelled, 1);
  CU_ASSERT_EQUAL(s.queued + s.running, 0);
  assert_stats_add_up();
  df_unref(a);
  df_unref(b);
  tp_end();
}

/* The first job of a batch cancelled while it runs is abandoned as usual;
 * the claimed one behind it still runs and fires with its result. */
static void test_s20_cancel_running_job_of_a_batch_leaves_the_rest(void) {
  if (!tp_begin(1, 0))
    return;
  tp_gate gate;
  tp_gate_init(&gate);
  tp_outcome first, second;
  df_deferred *a, *b;
  claim_pair(&gate, &a, &first, &b, &second);
  df_cancel(a);
  CU_ASSERT_EQUAL(first.fired, 1);
  CU_ASSERT_PTR_EQUAL(first.type, &DF_CANCELLED);
  CU_ASSERT_EQUAL(tp_stats().abandoned, 1);
  CU_ASSERT_EQUAL(tp_stats().queued, 1);
  tp_gate_open(&gate);
  tp_run_until_count(&second.fired, 1);
  CU_ASSERT(second.success);
  CU_ASSERT_EQUAL(second.value, 6);
  tp_run_until_completed(3);
  CU_ASSERT_EQUAL(first.fired, 1);
  CU_ASSERT_EQUAL(tp_works_run(), 3);
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.cancelled, 0);
  CU_ASSERT_EQUAL(s.queued + s.running, 0);
  assert_stats_add_up();
  df_unref(a);
  df_unref(b);
  tp_end();
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
    {"s15_cancelled_claimed_job_never_runs",
     test_s15_cancelled_claimed_job_never_runs},
    {"s20_cancel_running_job_of_a_batch_leaves_the_rest",
     test_s20_cancel_running_job_of_a_batch_leaves_the_rest},
    CU_TEST_INFO_NULL,
};

int main(void) { return df_test_run("pool_cancel", tests, NULL, NULL); }
