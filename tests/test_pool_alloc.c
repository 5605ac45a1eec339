/* Allocation failure at every site the pool reaches: df_pool_new() (the
 * pool, its wake-up handle, each worker's bookkeeping), each submission
 * (the slab of its job and Deferred, its failure), elastic growth, cancel and
 * close. Every program below is run once per allocation it makes, with
 * that allocation failing (the counting allocator of dft_alloc.c, installed
 * through df_replace_allocator()), until a run makes no allocation that
 * fails. Each run must end with the documented error: DF_ENOMEM from
 * df_pool_new(), a Deferred failed with DF_NO_MEMORY, or NULL when even
 * that could not be allocated (its argument still released); every
 * Deferred fires exactly once, every argument and value is released once,
 * and the library holds no memory afterwards. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "blocks.h" /* pool/: DF__BLOCKS_PER_SLAB */
#include "dft_alloc.h"
#include "dft_runner.h"
#include "dft_pool.h"

#define JOBS 4

/* A program under test: makes dft_pool.pool on dft_pool.reactor with the
 * options it wants (the allocation failing may be one of df_pool_new()'s), then
 * uses it. Returns false when df_pool_new() failed (checked by the caller). */
typedef bool (*program_fn)(void);

/* One job's Deferred, watched; or NULL when even a failed Deferred could
 * not be allocated. */
typedef struct watched {
  bool made;
  dft_pool_outcome out;
} watched;

static watched jobs[JOBS];

static void submit_watched(int i, df_work_fn fn, dft_pool_arg *arg) {
  df_deferred *d = df_defer_to_thread_opts(dft_pool.pool, fn, arg,
                                           &(df_job_options){
                                               .arg_free = dft_pool_arg_free,
                                           });
  jobs[i].made = d != NULL;
  if (d != NULL)
    dft_pool_watch(d, &jobs[i].out);
}

static bool pool_made(const df_pool_options *opts) {
  df_pool *p = (df_pool *)dft_pool.reactor; /* must be reset on error */
  int rc = df_pool_new(&p, dft_pool.reactor, opts);
  if (rc != 0) {
    CU_ASSERT_EQUAL(rc, DF_ENOMEM);
    CU_ASSERT_PTR_NULL(p);
    return false;
  }
  dft_pool.pool = p;
  return true;
}

static bool all_fired(void *arg) {
  (void)arg;
  for (int i = 0; i < JOBS; i++)
    if (jobs[i].made && jobs[i].out.fired == 0)
      return false;
  return true;
}

/* Each job fired once, with its value or one of the errors its path
 * allows (DF_NO_MEMORY always: a failure that cannot be allocated is the
 * library's static DF_NO_MEMORY failure). */
static void check_outcomes(const df_error_type *also) {
  dft_pool_run_until(all_fired, NULL);
  for (int i = 0; i < JOBS; i++) {
    if (!jobs[i].made)
      continue;
    CU_ASSERT_EQUAL(jobs[i].out.fired, 1);
    if (jobs[i].out.success)
      continue;
    const df_error_type *t = jobs[i].out.type;
    CU_ASSERT(t == &DF_NO_MEMORY || (also != NULL && t == also));
  }
}

/* Submit, deliver, close with DF_POOL_DRAIN. */
static bool program_submit_and_drain(void) {
  if (!pool_made(&(df_pool_options){.threads = 2}))
    return false;
  for (int i = 0; i < JOBS; i++)
    submit_watched(i, dft_pool_work_value, dft_pool_arg_new(i, NULL));
  check_outcomes(NULL);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_DRAIN), 0);
  return true;
}

/* Cancel a running job and a queued one, close with DF_POOL_CANCEL. */
static bool program_cancel_and_close(void) {
  if (!pool_made(&(df_pool_options){.threads = 1}))
    return false;
  dft_pool_gate gate;
  dft_pool_gate_init(&gate);
  df_deferred *d[JOBS];
  for (int i = 0; i < JOBS; i++) {
    dft_pool_arg *arg = dft_pool_arg_new(i, i == 0 ? &gate : NULL);
    d[i] = df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value, arg,
                                   &dft_pool_owned_arg);
    jobs[i].made = d[i] != NULL;
    if (d[i] != NULL) {
      df_ref(d[i]);
      dft_pool_watch(d[i], &jobs[i].out);
    }
  }
  if (d[0] != NULL && jobs[0].out.fired == 0)
    dft_pool_gate_wait_entered(&gate, 1);
  if (d[0] != NULL)
    df_cancel(d[0]); /* running: abandoned */
  if (d[1] != NULL)
    df_cancel(d[1]); /* queued: taken back */
  dft_pool_gate_open(&gate);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_CANCEL), 0);
  for (int i = 0; i < JOBS; i++) {
    if (d[i] == NULL)
      continue;
    CU_ASSERT_EQUAL(jobs[i].out.fired, 1);
    if (!jobs[i].out.success)
      CU_ASSERT(jobs[i].out.type == &DF_NO_MEMORY ||
                jobs[i].out.type == &DF_CANCELLED ||
                jobs[i].out.type == &DF_POOL_CLOSED);
    df_unref(d[i]);
  }
  return true;
}

/* An elastic pool that starts its threads as the jobs come. */
static bool program_elastic_growth(void) {
  if (!pool_made(&(df_pool_options){.max_threads = 2}))
    return false;
  for (int i = 0; i < JOBS; i++)
    submit_watched(i, dft_pool_work_value, dft_pool_arg_new(i, NULL));
  check_outcomes(NULL);
  return true;
}

/* Runs \p program with the k-th allocation failing for k = 1, 2, ...
 * until a run fails none. Returns the runs that injected a failure. */
static long run_every_site(const char *name, program_fn program) {
  long runs = 0;
  for (long k = 1;; k++) {
    CU_ASSERT_FATAL(dft_pool_begin_reactor()); /* the program makes the pool */
    long before = dft_alloc_outstanding();
    memset(jobs, 0, sizeof jobs);
    dft_alloc_fail_nth(k);
    bool made = program();
    long failed = dft_alloc_failures();
    if (made)
      CU_ASSERT_EQUAL(df_pool_free(dft_pool.pool), 0);
    dft_pool.pool = NULL;
    dft_alloc_fail_none();
    CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
    CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
    CU_ASSERT_EQUAL(dft_pool_values_live(), 0);
    dft_pool_end();
    if (failed == 0)
      break;
    runs++;
  }
  printf("\n      %s: %ld allocation sites failed in turn ", name, runs);
  CU_ASSERT(runs > 0);
  return runs;
}

static void test_submit_and_drain_at_every_allocation_failure(void) {
  run_every_site("submit and drain", program_submit_and_drain);
}

static void test_cancel_and_close_at_every_allocation_failure(void) {
  run_every_site("cancel and close", program_cancel_and_close);
}

static void test_elastic_growth_at_every_allocation_failure(void) {
  run_every_site("elastic growth", program_elastic_growth);
}

/* A job and its Deferred share a block carved out of a slab of
 * DF__BLOCKS_PER_SLAB (pool/blocks.c): a burst allocates one slab per that
 * many jobs, delivery allocates nothing, and the slabs of delivered jobs
 * are freed, all but the one the pool takes blocks from and one spare. */
static void test_a_burst_allocates_a_slab_per_slab_of_jobs(void) {
  if (!dft_pool_begin(2, 0))
    return;
  dft_pool_outcome warm;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(1, NULL), &warm);
  dft_pool_run_until_count(&warm.fired, 1);
  long before = dft_alloc_outstanding(); /* the first slab, now empty */
  dft_alloc_fail_none();                 /* resets the call counter */
  enum { N = 4 * DF__BLOCKS_PER_SLAB + 3 };
  static dft_pool_outcome outs[N];
  for (int i = 0; i < N; i++)
    dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(i, NULL), &outs[i]);
  /* The first slab holds the first DF__BLOCKS_PER_SLAB; each later one
   * as many. */
  long slabs =
      (N - DF__BLOCKS_PER_SLAB + DF__BLOCKS_PER_SLAB - 1) / DF__BLOCKS_PER_SLAB;
  CU_ASSERT_EQUAL(dft_alloc_calls(), slabs);
  dft_pool_run_until_completed(N + 1);
  CU_ASSERT_EQUAL(dft_alloc_calls(), slabs);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before + 1); /* the spare */
  dft_pool_end();
}

/* One job at a time reuses the block of the job before: no allocation. */
static void test_one_job_at_a_time_allocates_nothing(void) {
  if (!dft_pool_begin(2, 0))
    return;
  dft_pool_outcome warm;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(1, NULL), &warm);
  dft_pool_run_until_count(&warm.fired, 1);
  long before = dft_alloc_outstanding();
  dft_alloc_fail_none();
  enum { N = 3 * DF__BLOCKS_PER_SLAB };
  for (uint64_t i = 0; i < N; i++) {
    dft_pool_outcome out;
    dft_pool_submit(dft_pool_work_value, dft_pool_arg_new((long)i, NULL), &out);
    dft_pool_run_until_count(&out.fired, 1);
    CU_ASSERT(out.success);
  }
  CU_ASSERT_EQUAL(dft_alloc_calls(), 0);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
  dft_pool_end();
}

/* A steady flow, each completion submitting the next job, with several
 * slabs' worth of jobs in flight: once it runs, the slab that empties is
 * the spare the next one needs, so nothing is allocated. */
enum { FLOW_IN_FLIGHT = 3 * DF__BLOCKS_PER_SLAB + 7, FLOW_JOBS = 20000 };

typedef struct flow {
  long submitted;
  long completed;
  long calls_in_steady_state; /* allocations after the first jobs */
} flow;

static df_result flow_work(void *arg) {
  (void)arg;
  return df_ok(NULL, NULL);
}

static void flow_submit(flow *f);

static df_result flow_done(df_result in, void *arg) {
  flow *f = arg;
  df_result_free(in);
  if (++f->completed == 2 * FLOW_IN_FLIGHT)
    dft_alloc_fail_none(); /* resets the call counter: steady from here */
  if (f->submitted < FLOW_JOBS)
    flow_submit(f);
  if (f->completed == FLOW_JOBS)
    f->calls_in_steady_state = dft_alloc_calls();
  return df_ok(NULL, NULL);
}

static void flow_submit(flow *f) {
  f->submitted++;
  df_deferred *d = df_defer_to_thread(dft_pool.pool, flow_work, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_add_callback(d, flow_done, f);
  df_unref(d);
}

static void test_a_steady_flow_allocates_nothing(void) {
  if (!dft_pool_begin(2, 0))
    return;
  flow f = {0, 0, -1};
  for (int i = 0; i < FLOW_IN_FLIGHT; i++)
    flow_submit(&f);
  dft_pool_run_until_completed(FLOW_JOBS);
  CU_ASSERT_EQUAL(f.completed, FLOW_JOBS);
  CU_ASSERT_EQUAL(f.calls_in_steady_state, 0);
  dft_pool_end();
}

/* Deferreds a program keeps may outlive their pool: each slab goes with
 * the last Deferred carved out of it, whichever of pool and Deferred is
 * freed first. */
static void test_deferreds_outlive_their_pool(void) {
  long before = dft_alloc_outstanding();
  if (!dft_pool_begin(2, 0))
    return;
  enum { N = DF__BLOCKS_PER_SLAB + 2 }; /* two slabs */
  df_deferred *d[N];
  static dft_pool_outcome outs[N];
  for (int i = 0; i < N; i++)
    d[i] = dft_pool_submit_watched(dft_pool_work_value,
                                   dft_pool_arg_new(i, NULL), &outs[i]);
  dft_pool_run_until_completed(N);
  df_unref(d[0]); /* the first slab still holds the others */
  dft_pool_end();
  for (int i = 1; i < N; i++) {
    CU_ASSERT_EQUAL(outs[i].fired, 1);
    CU_ASSERT(outs[i].success);
    df_unref(d[i]);
  }
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

/* Debug mode records where each Deferred was made, which needs the core's
 * own allocation: with it on, each submission allocates its Deferred. One
 * pool may hand out both kinds; each is freed its own way, before or after
 * the pool. */
static void test_debug_mode_allocates_each_deferred(void) {
  long before = dft_alloc_outstanding();
  if (!dft_pool_begin(2, 0))
    return;
  enum { N = 12 };
  df_deferred *d[N];
  static dft_pool_outcome outs[N];
  dft_alloc_fail_none();
  for (int i = 0; i < N; i++) {
    df_set_debugging(i % 3 == 0);
    d[i] = dft_pool_submit_watched(dft_pool_work_value,
                                   dft_pool_arg_new(i, NULL), &outs[i]);
  }
  df_set_debugging(false);
  CU_ASSERT_EQUAL(dft_alloc_calls(), N / 3 + 1); /* and the first slab */
  dft_pool_run_until_completed(N);
  for (int i = 0; i < N; i += 2)
    df_unref(d[i]);
  dft_pool_end();
  for (int i = 0; i < N; i++) {
    CU_ASSERT_EQUAL(outs[i].fired, 1);
    CU_ASSERT(outs[i].success);
    if (i % 2 == 1)
      df_unref(d[i]);
  }
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static int install_allocator(void) { return dft_alloc_install(); }

static int uninstall_allocator(void) {
  dft_alloc_uninstall();
  return 0;
}

static CU_TestInfo tests[] = {
    {"submit_and_drain_at_every_allocation_failure",
     test_submit_and_drain_at_every_allocation_failure},
    {"cancel_and_close_at_every_allocation_failure",
     test_cancel_and_close_at_every_allocation_failure},
    {"elastic_growth_at_every_allocation_failure",
     test_elastic_growth_at_every_allocation_failure},
    {"a_burst_allocates_a_slab_per_slab_of_jobs",
     test_a_burst_allocates_a_slab_per_slab_of_jobs},
    {"one_job_at_a_time_allocates_nothing",
     test_one_job_at_a_time_allocates_nothing},
    {"a_steady_flow_allocates_nothing", test_a_steady_flow_allocates_nothing},
    {"deferreds_outlive_their_pool", test_deferreds_outlive_their_pool},
    {"debug_mode_allocates_each_deferred",
     test_debug_mode_allocates_each_deferred},
    CU_TEST_INFO_NULL,
};

int main(void) {
  return dft_run("pool_alloc", tests, install_allocator, uninstall_allocator,
                 NULL, NULL);
}
