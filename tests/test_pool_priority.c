/* Priorities (df_job_options.priority): waiting jobs start most urgent
 * class first, in submission order within a class; a class kept waiting
 * while DF_POOL_AGING_LIMIT jobs of other classes started goes next, so a
 * low-priority job under constant high-priority load still starts.
 *
 * Each test holds the only thread of a one-thread pool while it queues the
 * jobs, so the order they start in is exactly the queue's. */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <string.h>

#include "dft_runner.h"
#include "dft_pool.h"

#define MAX_JOBS 128

/* The order jobs started in: each job appends its tag. */
static char started[MAX_JOBS + 1];
static atomic_int nstarted;

static df_result record_work(void *arg) {
  int at = atomic_fetch_add(&nstarted, 1);
  if (at < MAX_JOBS)
    started[at] = (char)(long)(intptr_t)arg;
  return df_ok(NULL, NULL);
}

static void reset_record(void) {
  memset(started, 0, sizeof started);
  atomic_store(&nstarted, 0);
}

static df_deferred *submit_tagged(char tag, df_job_priority priority) {
  df_job_options opts = {.priority = priority};
  return df_defer_to_thread_opts(dft_pool.pool, record_work,
                                 (void *)(intptr_t)tag, &opts);
}

static df_job_priority priority_of(char tag) {
  switch (tag) {
  case 'H':
    return DF_PRIORITY_HIGH;
  case 'L':
    return DF_PRIORITY_LOW;
  default:
    return DF_PRIORITY_NORMAL;
  }
}

/* Queues one job per letter of \p tags (H high, N normal, L low) behind a
 * holder, lets the thread go, and returns the order they started in. */
static const char *run_queued(const char *tags) {
  size_t n = strlen(tags);
  CU_ASSERT_FATAL(n <= MAX_JOBS);
  dft_pool_outcome outs[MAX_JOBS];
  reset_record();
  dft_pool_holder h;
  dft_pool_hold_begin(&h);
  for (size_t i = 0; i < n; i++)
    dft_pool_watch(submit_tagged(tags[i], priority_of(tags[i])), &outs[i]);
  dft_pool_hold_end(&h);
  for (size_t i = 0; i < n; i++)
    dft_pool_run_until_count(&outs[i].fired, 1);
  return started;
}

static void test_higher_classes_start_first_fifo_within_a_class(void) {
  if (!dft_pool_begin(1, 0))
    return;
  /* Lower-case letters cannot be told apart by the record; the order of
   * equal tags is checked by the next test. */
  CU_ASSERT_STRING_EQUAL(run_queued("LNHHNL"), "HHNNLL");
  dft_pool_end();
}

/* The tag is the argument, so FIFO order within a class shows as the
 * submission order of distinct tags: a, b, c normal; x, y high. */
static void test_submission_order_is_kept_within_a_class(void) {
  if (!dft_pool_begin(1, 0))
    return;
  reset_record();
  dft_pool_outcome outs[5];
  dft_pool_holder h;
  dft_pool_hold_begin(&h);
  const char *tags = "axbyc";
  for (int i = 0; i < 5; i++) {
    df_job_priority pr = tags[i] >= 'x' ? DF_PRIORITY_HIGH : DF_PRIORITY_NORMAL;
    dft_pool_watch(submit_tagged(tags[i], pr), &outs[i]);
  }
  dft_pool_hold_end(&h);
  for (int i = 0; i < 5; i++)
    dft_pool_run_until_count(&outs[i].fired, 1);
  CU_ASSERT_STRING_EQUAL(started, "xyabc");
  dft_pool_end();
}

/* Under a constant flow of high-priority jobs, a waiting low one starts
 * after DF_POOL_AGING_LIMIT of them, and so does the next. */
static void test_low_priority_starts_under_constant_high_load(void) {
  if (!dft_pool_begin(1, 0))
    return;
  char tags[64] = "LL";
  memset(tags + 2, 'H', 40);
  tags[42] = '\0';
  const char *order = run_queued(tags);
  char expected[64];
  size_t at = 0;
  for (unsigned round = 0; round < 2; round++) {
    memset(expected + at, 'H', DF_POOL_AGING_LIMIT);
    at += DF_POOL_AGING_LIMIT;
    expected[at++] = 'L';
  }
  memset(expected + at, 'H', 40 - 2 * DF_POOL_AGING_LIMIT);
  expected[at + 40 - 2 * DF_POOL_AGING_LIMIT] = '\0';
  CU_ASSERT_STRING_EQUAL(order, expected);
  dft_pool_end();
}

/* With all three classes waiting, normal and low both fall due; the one
 * kept waiting longer goes first, then the other. */
static void test_both_lower_classes_age(void) {
  if (!dft_pool_begin(1, 0))
    return;
  char tags[64] = "NL";
  memset(tags + 2, 'H', 20);
  tags[22] = '\0';
  const char *order = run_queued(tags);
  char expected[64];
  memset(expected, 'H', DF_POOL_AGING_LIMIT);
  /* Both were passed over DF_POOL_AGING_LIMIT times: normal goes first
   * (the tie goes to the more urgent class), and low, passed over once
   * more, right after it. */
  expected[DF_POOL_AGING_LIMIT] = 'N';
  expected[DF_POOL_AGING_LIMIT + 1] = 'L';
  memset(expected + DF_POOL_AGING_LIMIT + 2, 'H', 20 - DF_POOL_AGING_LIMIT);
  expected[22] = '\0';
  CU_ASSERT_STRING_EQUAL(order, expected);
  dft_pool_end();
}

static void test_bad_priority_is_refused_and_the_argument_released(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_outcome out;
  df_job_options opts = {.priority = (df_job_priority)7,
                         .arg_free = dft_pool_arg_free};
  dft_pool_watch(df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                                         dft_pool_arg_new(1, NULL), &opts),
                 &out);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(out.message, "opts->priority"));
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  CU_ASSERT_EQUAL(dft_pool_stats().rejected, 1);
  dft_pool_end();
}

static CU_TestInfo tests[] = {
    {"higher_classes_start_first_fifo_within_a_class",
     test_higher_classes_start_first_fifo_within_a_class},
    {"submission_order_is_kept_within_a_class",
     test_submission_order_is_kept_within_a_class},
    {"low_priority_starts_under_constant_high_load",
     test_low_priority_starts_under_constant_high_load},
    {"both_lower_classes_age", test_both_lower_classes_age},
    {"bad_priority_is_refused_and_the_argument_released",
     test_bad_priority_is_refused_and_the_argument_released},
    CU_TEST_INFO_NULL,
};

int main(void) {
  return dft_run("pool_priority", tests, NULL, NULL, NULL, NULL);
}
