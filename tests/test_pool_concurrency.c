/* C1's concurrency contract: a pool of T threads runs min(T, queued) jobs
 * at once. Whenever a thread is idle and a job waits, the job starts
 * without waiting for any other job to finish.
 *
 * The jobs here block for real: they wait for each other on a meeting
 * point, or on a gate the test opens. No test measures time: a job that
 * waits gives up after a bound (dft_pool_meeting_attend()) and fails, so a
 * violation of the contract turns into a failed assertion naming how many
 * jobs ran at once, never into a hung suite. Each test runs at T = 1, 2, 4,
 * 16 and 64 threads (threads may outnumber cores). */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dft_runner.h"
#include "dft_pool.h"

static const unsigned thread_counts[] = {1, 2, 4, 16, 64};
#define N_COUNTS (sizeof thread_counts / sizeof thread_counts[0])

/* Waits for the one job that arrives without waiting. */
static df_result wait_for_signal_work(void *arg) {
  dft_pool_meeting *m = arg;
  return dft_pool_meeting_result(m, dft_pool_meeting_attend(m, 0));
}

/* Arrives without waiting: the signal the waiters wait for. */
static df_result signal_work(void *arg) {
  dft_pool_meeting *m = arg;
  pthread_mutex_lock(&m->mutex);
  m->arrived++;
  pthread_cond_broadcast(&m->cond);
  pthread_mutex_unlock(&m->mutex);
  return df_ok(NULL, NULL);
}

/* ------------------------------------------------------------ outcomes */

static void watch_all_succeed(dft_pool_outcome *outs, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    dft_pool_run_until_count(&outs[i].fired, 1);
  for (unsigned i = 0; i < n; i++) {
    CU_ASSERT_EQUAL(outs[i].fired, 1);
    CU_ASSERT(outs[i].success);
    if (!outs[i].success)
      fprintf(stderr, "      job %u: %s\n", i, outs[i].message);
  }
}

static dft_pool_outcome *outcomes(unsigned n) {
  dft_pool_outcome *outs = calloc(n, sizeof *outs);
  CU_ASSERT_PTR_NOT_NULL_FATAL(outs);
  return outs;
}

/* ------------------------------------------------------------ tests */

/* T jobs that all wait on one meeting point of T: each can finish only
 * when all T run at once. */
static void check_t_jobs_meet(unsigned threads) {
  if (!dft_pool_begin(threads, 0))
    return;
  dft_pool_meeting m;
  dft_pool_meeting_init(&m, (int)threads);
  dft_pool_outcome *outs = outcomes(threads);
  for (unsigned i = 0; i < threads; i++)
    dft_pool_watch(df_defer_to_thread(dft_pool.pool, dft_pool_work_meet, &m),
                   &outs[i]);
  watch_all_succeed(outs, threads);
  free(outs);
  dft_pool_end();
  dft_pool_meeting_destroy(&m);
}

static void test_c1_t_jobs_waiting_on_a_barrier_of_t_complete(void) {
  for (size_t i = 0; i < N_COUNTS; i++)
    check_t_jobs_meet(thread_counts[i]);
}

/* Jobs that wait for a job submitted after them: T - 1 waiters, then the
 * one they wait for, which must start on the last thread. (At T = 1 the
 * only thread is the first waiter's, so the case starts at T = 2.) */
static void check_waiting_for_a_later_job(unsigned threads) {
  if (!dft_pool_begin(threads, 0))
    return;
  dft_pool_meeting m;
  dft_pool_meeting_init(&m, 1);
  dft_pool_outcome *outs = outcomes(threads);
  for (unsigned i = 0; i + 1 < threads; i++)
    dft_pool_watch(df_defer_to_thread(dft_pool.pool, wait_for_signal_work, &m),
                   &outs[i]);
  dft_pool_watch(df_defer_to_thread(dft_pool.pool, signal_work, &m),
                 &outs[threads - 1]);
  watch_all_succeed(outs, threads);
  free(outs);
  dft_pool_end();
  dft_pool_meeting_destroy(&m);
}

static void test_c1_job_waiting_for_a_later_job_completes(void) {
  for (size_t i = 0; i < N_COUNTS; i++)
    if (thread_counts[i] >= 2)
      check_waiting_for_a_later_job(thread_counts[i]);
}

/* A short job that records the thread it ran on. */
typedef struct short_job {
  pthread_t ran_on;
} short_job;

static df_result short_work(void *arg) {
  short_job *j = arg;
  j->ran_on = pthread_self();
  return df_ok(NULL, NULL);
}

/* The thread a blocked job runs on, recorded before it blocks. */
typedef struct blocked_job {
  dft_pool_gate *gate;
  pthread_t ran_on;
} blocked_job;

static df_result blocked_work(void *arg) {
  blocked_job *b = arg;
  b->ran_on = pthread_self();
  dft_pool_gate_pass(b->gate);
  return df_ok(NULL, NULL);
}

/* With \p blocked of the T threads held on a gate, short jobs submitted
 * afterwards all complete, on the other threads, while the gate stays
 * shut. */
static void check_short_jobs_pass_blocked_ones(unsigned threads,
                                               unsigned blocked) {
  if (!dft_pool_begin(threads, 0))
    return;
  dft_pool_gate gate;
  dft_pool_gate_init(&gate);
  blocked_job *held = calloc(blocked, sizeof *held);
  dft_pool_outcome *held_outs = outcomes(blocked);
  CU_ASSERT_PTR_NOT_NULL_FATAL(held);
  for (unsigned i = 0; i < blocked; i++) {
    held[i].gate = &gate;
    dft_pool_watch(df_defer_to_thread(dft_pool.pool, blocked_work, &held[i]),
                   &held_outs[i]);
  }
  dft_pool_gate_wait_entered(&gate, (int)blocked);

  unsigned n = 8 * threads;
  short_job *jobs = calloc(n, sizeof *jobs);
  dft_pool_outcome *outs = outcomes(n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(jobs);
  for (unsigned i = 0; i < n; i++)
    dft_pool_watch(df_defer_to_thread(dft_pool.pool, short_work, &jobs[i]),
                   &outs[i]);
  watch_all_succeed(outs, n);
  for (unsigned i = 0; i < blocked; i++)
    CU_ASSERT_EQUAL(held_outs[i].fired, 0);
  for (unsigned i = 0; i < n; i++)
    for (unsigned b = 0; b < blocked; b++)
      CU_ASSERT(!pthread_equal(jobs[i].ran_on, held[b].ran_on));

  dft_pool_gate_open(&gate);
  watch_all_succeed(held_outs, blocked);
  free(outs);
  free(jobs);
  free(held_outs);
  free(held);
  dft_pool_end();
}

static void test_c1_one_blocked_thread_leaves_short_jobs_to_the_others(void) {
  for (size_t i = 0; i < N_COUNTS; i++)
    if (thread_counts[i] >= 2)
      check_short_jobs_pass_blocked_ones(thread_counts[i], 1);
}

static void test_c1_all_but_one_thread_blocked_still_runs_short_jobs(void) {
  for (size_t i = 0; i < N_COUNTS; i++)
    if (thread_counts[i] >= 2)
      check_short_jobs_pass_blocked_ones(thread_counts[i],
                                         thread_counts[i] - 1);
}

/* A burst bigger than the pool: 4T jobs meeting in groups of T, submitted
 * at once. Each group can only finish when T of its jobs run together, so
 * the pool must keep all its threads busy through the burst. */
static void check_groups_of_t(unsigned threads) {
  if (!dft_pool_begin(threads, 0))
    return;
  enum { GROUPS = 4 };
  dft_pool_meeting m[GROUPS];
  unsigned n = GROUPS * threads;
  dft_pool_outcome *outs = outcomes(n);
  for (unsigned g = 0; g < GROUPS; g++)
    dft_pool_meeting_init(&m[g], (int)threads);
  for (unsigned i = 0; i < n; i++)
    dft_pool_watch(
        df_defer_to_thread(dft_pool.pool, dft_pool_work_meet, &m[i / threads]),
        &outs[i]);
  watch_all_succeed(outs, n);
  free(outs);
  dft_pool_end();
  for (unsigned g = 0; g < GROUPS; g++)
    dft_pool_meeting_destroy(&m[g]);
}

static void test_c1_burst_of_groups_of_t_keeps_every_thread_busy(void) {
  for (size_t i = 0; i < N_COUNTS; i++)
    check_groups_of_t(thread_counts[i]);
}

static CU_TestInfo tests[] = {
    {"c1_t_jobs_waiting_on_a_barrier_of_t_complete",
     test_c1_t_jobs_waiting_on_a_barrier_of_t_complete},
    {"c1_job_waiting_for_a_later_job_completes",
     test_c1_job_waiting_for_a_later_job_completes},
    {"c1_one_blocked_thread_leaves_short_jobs_to_the_others",
     test_c1_one_blocked_thread_leaves_short_jobs_to_the_others},
    {"c1_all_but_one_thread_blocked_still_runs_short_jobs",
     test_c1_all_but_one_thread_blocked_still_runs_short_jobs},
    {"c1_burst_of_groups_of_t_keeps_every_thread_busy",
     test_c1_burst_of_groups_of_t_keeps_every_thread_busy},
    CU_TEST_INFO_NULL,
};

int main(void) {
  return dft_run("pool_concurrency", tests, NULL, NULL, NULL, NULL);
}
