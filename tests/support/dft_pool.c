/* Helpers shared by the pool suites (see dft_pool.h). */
#define _POSIX_C_SOURCE 200809L

#include "dft_failure.h"
#include "dft_pool.h"

#include "pool_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

dft_pool_env dft_pool;

const df_job_options dft_pool_owned_arg = {.arg_free = dft_pool_arg_free};

static pthread_t reactor_thread;
static long fire_seq;
static atomic_long wrong_thread;
static atomic_long values_live;
static atomic_long args_live;
static atomic_long arg_frees;
static atomic_long works_run;

/* The loops below give up after this long, so that a lost wake-up fails a
 * test rather than hanging the suite until CTest's timeout. */
#define GIVE_UP_SECONDS 30.0

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void) {
  struct timespec ts = {0, 200000}; /* 0.2 ms */
  nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ meetings */

void dft_pool_meeting_init(dft_pool_meeting *m, int expected) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_mutex_init(&m->mutex, NULL);
  pthread_cond_init(&m->cond, &attr);
  pthread_condattr_destroy(&attr);
  m->arrived = 0;
  m->expected = expected;
}

void dft_pool_meeting_destroy(dft_pool_meeting *m) {
  pthread_cond_destroy(&m->cond);
  pthread_mutex_destroy(&m->mutex);
}

int dft_pool_meeting_attend(dft_pool_meeting *m, int count_in) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += DFT_POOL_MEETING_GIVE_UP_SECONDS;
  pthread_mutex_lock(&m->mutex);
  m->arrived += count_in;
  pthread_cond_broadcast(&m->cond);
  int rc = 0;
  while (m->arrived < m->expected && rc == 0)
    rc = pthread_cond_timedwait(&m->cond, &m->mutex, &deadline);
  int seen = m->arrived;
  pthread_mutex_unlock(&m->mutex);
  return seen;
}

df_result dft_pool_meeting_result(const dft_pool_meeting *m, int seen) {
  if (seen >= m->expected)
    return df_ok(NULL, NULL);
  return df_fail(df_failure_new(
      &DF_ERROR, seen, "only %d of %d jobs ran at once", seen, m->expected));
}

df_result dft_pool_work_meet(void *arg) {
  dft_pool_meeting *m = arg;
  return dft_pool_meeting_result(m, dft_pool_meeting_attend(m, 1));
}

/* ------------------------------------------------------------ environment */

bool dft_pool_begin(unsigned threads, size_t max_queued) {
  df_pool_options opts = {.threads = threads, .max_queued = max_queued};
  return dft_pool_begin_opts(&opts);
}

bool dft_pool_begin_reactor(void) {
  memset(&dft_pool, 0, sizeof dft_pool);
  reactor_thread = pthread_self();
  fire_seq = 0;
  atomic_store(&wrong_thread, 0);
  atomic_store(&arg_frees, 0);
  atomic_store(&works_run, 0);
  int rc = df_reactor_new(&dft_pool.reactor, NULL);
  CU_ASSERT_EQUAL(rc, 0);
  return rc == 0;
}

bool dft_pool_begin_opts(const df_pool_options *opts) {
  if (!dft_pool_begin_reactor())
    return false;
  int rc = df_pool_new(&dft_pool.pool, dft_pool.reactor, opts);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0) {
    CU_ASSERT_EQUAL(df_reactor_free(dft_pool.reactor), 0);
    dft_pool.reactor = NULL;
    return false;
  }
  return true;
}

void dft_pool_end(void) {
  CU_ASSERT_EQUAL(df_pool_free(dft_pool.pool), 0);
  CU_ASSERT_EQUAL(df_reactor_free(dft_pool.reactor), 0);
  CU_ASSERT_EQUAL(atomic_load(&values_live), 0);
  CU_ASSERT_EQUAL(atomic_load(&args_live), 0);
  CU_ASSERT_EQUAL(atomic_load(&wrong_thread), 0);
  atomic_store(&values_live, 0);
  atomic_store(&args_live, 0);
  memset(&dft_pool, 0, sizeof dft_pool);
}

void dft_pool_run_until(bool (*done)(void *arg), void *arg) {
  double give_up = now_seconds() + GIVE_UP_SECONDS;
  while (!done(arg) && now_seconds() < give_up) {
    int rc = df_reactor_run_once(dft_pool.reactor, 50);
    CU_ASSERT(rc >= 0);
    if (rc < 0)
      break;
  }
  CU_ASSERT(done(arg));
}

typedef struct count_target {
  const long *counter;
  long target;
} count_target;

static bool count_reached(void *arg) {
  const count_target *t = arg;
  return *t->counter >= t->target;
}

void dft_pool_run_until_count(const long *counter, long target) {
  count_target t = {counter, target};
  dft_pool_run_until(count_reached, &t);
}

static bool completed_reached(void *arg) {
  struct df_pool_stats s;
  return df_pool_stats(dft_pool.pool, &s) == 0 &&
         s.completed >= *(uint64_t *)arg;
}

void dft_pool_run_until_completed(uint64_t n) {
  dft_pool_run_until(completed_reached, &n);
}

void dft_pool_wait(bool (*done)(void *arg), void *arg) {
  double give_up = now_seconds() + GIVE_UP_SECONDS;
  while (!done(arg) && now_seconds() < give_up)
    nap();
  CU_ASSERT(done(arg));
}

struct df_pool_stats dft_pool_stats(void) {
  struct df_pool_stats s;
  memset(&s, 0, sizeof s);
  CU_ASSERT_EQUAL(df_pool_stats(dft_pool.pool, &s), 0);
  return s;
}

/* ------------------------------------------------------------ threads */

void dft_pool_check_reactor_thread(void) {
  if (!pthread_equal(pthread_self(), reactor_thread))
    atomic_fetch_add(&wrong_thread, 1);
}

long dft_pool_wrong_thread_calls(void) { return atomic_load(&wrong_thread); }

/* ------------------------------------------------------------ gates */

void dft_pool_gate_init(dft_pool_gate *g) {
  atomic_init(&g->entered, 0);
  atomic_init(&g->open, 0);
}

void dft_pool_gate_pass(dft_pool_gate *g) {
  atomic_fetch_add(&g->entered, 1);
  double give_up = now_seconds() + GIVE_UP_SECONDS;
  while (!atomic_load(&g->open) && now_seconds() < give_up)
    nap();
}

void dft_pool_gate_wait_entered(dft_pool_gate *g, int n) {
  double give_up = now_seconds() + GIVE_UP_SECONDS;
  while (atomic_load(&g->entered) < n && now_seconds() < give_up)
    nap();
  CU_ASSERT(atomic_load(&g->entered) >= n);
}

void dft_pool_gate_open(dft_pool_gate *g) { atomic_store(&g->open, 1); }

/* ------------------------------------------------------------ values */

long *dft_pool_value_new(long v) {
  long *p = malloc(sizeof *p);
  if (p == NULL)
    abort();
  *p = v;
  atomic_fetch_add(&values_live, 1);
  return p;
}

void dft_pool_value_free(void *v) {
  dft_pool_check_reactor_thread();
  atomic_fetch_sub(&values_live, 1);
  free(v);
}

long dft_pool_values_live(void) { return atomic_load(&values_live); }

dft_pool_arg *dft_pool_arg_new(long n, dft_pool_gate *gate) {
  dft_pool_arg *a = malloc(sizeof *a);
  if (a == NULL)
    abort();
  a->n = n;
  a->gate = gate;
  atomic_init(&a->ran, 0);
  atomic_fetch_add(&args_live, 1);
  return a;
}

void dft_pool_arg_free(void *arg) {
  dft_pool_check_reactor_thread();
  atomic_fetch_sub(&args_live, 1);
  atomic_fetch_add(&arg_frees, 1);
  free(arg);
}

long dft_pool_args_live(void) { return atomic_load(&args_live); }

long dft_pool_arg_frees(void) { return atomic_load(&arg_frees); }

/* ------------------------------------------------------------ work */

long dft_pool_works_run(void) { return atomic_load(&works_run); }

static dft_pool_arg *enter(void *arg) {
  dft_pool_arg *a = arg;
  atomic_fetch_add(&works_run, 1);
  atomic_store(&a->ran, 1);
  if (a->gate != NULL)
    dft_pool_gate_pass(a->gate);
  return a;
}

df_result dft_pool_work_value(void *arg) {
  dft_pool_arg *a = enter(arg);
  return df_ok(dft_pool_value_new(a->n * 3), dft_pool_value_free);
}

df_result dft_pool_work_fail(void *arg) {
  dft_pool_arg *a = enter(arg);
  return df_fail(
      df_failure_new(&DF_ERROR, (int)a->n, "work failed on %ld", a->n));
}

df_result dft_pool_work_null(void *arg) {
  (void)enter(arg);
  return df_ok(NULL, NULL);
}

/* ------------------------------------------------------------ outcomes */

static df_result record(df_result in, void *arg) {
  dft_pool_outcome *out = arg;
  dft_pool_check_reactor_thread();
  out->fired++;
  out->seq = ++fire_seq;
  out->success = !df_result_is_failure(in);
  if (out->success) {
    out->value =
        in.ptr != NULL && in.free == dft_pool_value_free ? *(long *)in.ptr : -1;
  } else {
    dft_note_failure(df_result_failure(in), &out->type, &out->code,
                     out->message, sizeof out->message);
  }
  df_result_free(in);
  return df_ok(NULL, NULL);
}

void dft_pool_watch(df_deferred *d, dft_pool_outcome *out) {
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  memset(out, 0, sizeof *out);
  CU_ASSERT_PTR_EQUAL(df_add_both(d, record, out), d);
  df_unref(d);
}

/* ------------------------------------------------------------ holder */

void dft_pool_hold_begin(dft_pool_holder *h) {
  dft_pool_gate_init(&h->gate);
  dft_pool_watch(df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                                         dft_pool_arg_new(0, &h->gate),
                                         &dft_pool_owned_arg),
                 &h->out);
  dft_pool_gate_wait_entered(&h->gate, 1);
}

void dft_pool_hold_end(dft_pool_holder *h) {
  dft_pool_gate_open(&h->gate);
  dft_pool_run_until_count(&h->out.fired, 1);
  CU_ASSERT(h->out.success);
}

/* ------------------------------------------------------------ batches */

void dft_pool_submit(df_work_fn fn, dft_pool_arg *arg, dft_pool_outcome *out) {
  dft_pool_watch(
      df_defer_to_thread_opts(dft_pool.pool, fn, arg, &dft_pool_owned_arg),
      out);
}

df_deferred *dft_pool_submit_watched(df_work_fn fn, dft_pool_arg *arg,
                                     dft_pool_outcome *out) {
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, fn, arg, &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_ref(d);
  dft_pool_watch(d, out);
  return d;
}

bool dft_pool_queue_empty(void) {
  df__mutex_lock(&dft_pool.pool->jobq.mutex);
  bool empty = dft_pool.pool->jobq.length == 0;
  df__mutex_unlock(&dft_pool.pool->jobq.mutex);
  return empty;
}

void dft_pool_assert_stats_add_up(void) {
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.submitted,
                  s.queued + s.running + s.completed + s.cancelled);
}

void dft_pool_queue_pair(dft_pool_gate *gate, df_deferred **first,
                         dft_pool_outcome *first_out, df_deferred **second,
                         dft_pool_outcome *second_out) {
  dft_pool_gate_init(gate);
  dft_pool_holder h;
  dft_pool_hold_begin(&h);
  *first = dft_pool_submit_watched(dft_pool_work_value,
                                   dft_pool_arg_new(1, gate), first_out);
  *second = dft_pool_submit_watched(dft_pool_work_value,
                                    dft_pool_arg_new(2, NULL), second_out);
  dft_pool_hold_end(&h);
  dft_pool_gate_wait_entered(gate, 1);
  CU_ASSERT(!dft_pool_queue_empty());
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.queued, 1);
  CU_ASSERT_EQUAL(s.running, 1);
  dft_pool_assert_stats_add_up();
}
