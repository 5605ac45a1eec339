/* Helpers shared by the pool suites (see test_pool_support.h). */
#define _POSIX_C_SOURCE 200809L

#include "test_pool_support.h"

#include "pool_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

tp_env tp;

const df_job_options tp_owned_arg = {.arg_free = tp_arg_free};

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

void tp_meeting_init(tp_meeting *m, int expected) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_mutex_init(&m->mutex, NULL);
  pthread_cond_init(&m->cond, &attr);
  pthread_condattr_destroy(&attr);
  m->arrived = 0;
  m->expected = expected;
}

void tp_meeting_destroy(tp_meeting *m) {
  pthread_cond_destroy(&m->cond);
  pthread_mutex_destroy(&m->mutex);
}

int tp_meeting_attend(tp_meeting *m, int count_in) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += TP_MEETING_GIVE_UP_SECONDS;
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

df_result tp_meeting_result(const tp_meeting *m, int seen) {
  if (seen >= m->expected)
    return df_ok(NULL, NULL);
  return df_fail(df_failure_new(
      &DF_ERROR, seen, "only %d of %d jobs ran at once", seen, m->expected));
}

df_result tp_work_meet(void *arg) {
  tp_meeting *m = arg;
  return tp_meeting_result(m, tp_meeting_attend(m, 1));
}

/* ------------------------------------------------------------ environment */

bool tp_begin(unsigned threads, size_t max_queued) {
  df_pool_options opts = {.threads = threads, .max_queued = max_queued};
  return tp_begin_opts(&opts);
}

bool tp_begin_reactor(void) {
  memset(&tp, 0, sizeof tp);
  reactor_thread = pthread_self();
  fire_seq = 0;
  atomic_store(&wrong_thread, 0);
  atomic_store(&arg_frees, 0);
  atomic_store(&works_run, 0);
  int rc = df_reactor_new(&tp.reactor, NULL);
  CU_ASSERT_EQUAL(rc, 0);
  return rc == 0;
}

bool tp_begin_opts(const df_pool_options *opts) {
  if (!tp_begin_reactor())
    return false;
  int rc = df_pool_new(&tp.pool, tp.reactor, opts);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0) {
    CU_ASSERT_EQUAL(df_reactor_free(tp.reactor), 0);
    tp.reactor = NULL;
    return false;
  }
  return true;
}

void tp_end(void) {
  CU_ASSERT_EQUAL(df_pool_free(tp.pool), 0);
  CU_ASSERT_EQUAL(df_reactor_free(tp.reactor), 0);
  CU_ASSERT_EQUAL(atomic_load(&values_live), 0);
  CU_ASSERT_EQUAL(atomic_load(&args_live), 0);
  CU_ASSERT_EQUAL(atomic_load(&wrong_thread), 0);
  atomic_store(&values_live, 0);
  atomic_store(&args_live, 0);
  memset(&tp, 0, sizeof tp);
}

void tp_run_until(bool (*done)(void *arg), void *arg) {
  double give_up = now_seconds() + GIVE_UP_SECONDS;
  while (!done(arg) && now_seconds() < give_up) {
    int rc = df_reactor_run_once(tp.reactor, 50);
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

void tp_run_until_count(const long *counter, long target) {
  count_target t = {counter, target};
  tp_run_until(count_reached, &t);
}

static bool completed_reached(void *arg) {
  struct df_pool_stats s;
  return df_pool_stats(tp.pool, &s) == 0 && s.completed >= *(uint64_t *)arg;
}

void tp_run_until_completed(uint64_t n) { tp_run_until(completed_reached, &n); }

void tp_wait(bool (*done)(void *arg), void *arg) {
  double give_up = now_seconds() + GIVE_UP_SECONDS;
  while (!done(arg) && now_seconds() < give_up)
    nap();
  CU_ASSERT(done(arg));
}

struct df_pool_stats tp_stats(void) {
  struct df_pool_stats s;
  memset(&s, 0, sizeof s);
  CU_ASSERT_EQUAL(df_pool_stats(tp.pool, &s), 0);
  return s;
}

/* ------------------------------------------------------------ threads */

void tp_check_reactor_thread(void) {
  if (!pthread_equal(pthread_self(), reactor_thread))
    atomic_fetch_add(&wrong_thread, 1);
}

long tp_wrong_thread_calls(void) { return atomic_load(&wrong_thread); }

/* ------------------------------------------------------------ gates */

void tp_gate_init(tp_gate *g) {
  atomic_init(&g->entered, 0);
  atomic_init(&g->open, 0);
}

void tp_gate_pass(tp_gate *g) {
  atomic_fetch_add(&g->entered, 1);
  double give_up = now_seconds() + GIVE_UP_SECONDS;
  while (!atomic_load(&g->open) && now_seconds() < give_up)
    nap();
}

void tp_gate_wait_entered(tp_gate *g, int n) {
  double give_up = now_seconds() + GIVE_UP_SECONDS;
  while (atomic_load(&g->entered) < n && now_seconds() < give_up)
    nap();
  CU_ASSERT(atomic_load(&g->entered) >= n);
}

void tp_gate_open(tp_gate *g) { atomic_store(&g->open, 1); }

/* ------------------------------------------------------------ values */

long *tp_value_new(long v) {
  long *p = malloc(sizeof *p);
  if (p == NULL)
    abort();
  *p = v;
  atomic_fetch_add(&values_live, 1);
  return p;
}

void tp_value_free(void *v) {
  tp_check_reactor_thread();
  atomic_fetch_sub(&values_live, 1);
  free(v);
}

long tp_values_live(void) { return atomic_load(&values_live); }

tp_arg *tp_arg_new(long n, tp_gate *gate) {
  tp_arg *a = malloc(sizeof *a);
  if (a == NULL)
    abort();
  a->n = n;
  a->gate = gate;
  atomic_init(&a->ran, 0);
  atomic_fetch_add(&args_live, 1);
  return a;
}

void tp_arg_free(void *arg) {
  tp_check_reactor_thread();
  atomic_fetch_sub(&args_live, 1);
  atomic_fetch_add(&arg_frees, 1);
  free(arg);
}

long tp_args_live(void) { return atomic_load(&args_live); }

long tp_arg_frees(void) { return atomic_load(&arg_frees); }

/* ------------------------------------------------------------ work */

long tp_works_run(void) { return atomic_load(&works_run); }

static tp_arg *enter(void *arg) {
  tp_arg *a = arg;
  atomic_fetch_add(&works_run, 1);
  atomic_store(&a->ran, 1);
  if (a->gate != NULL)
    tp_gate_pass(a->gate);
  return a;
}

df_result tp_work_value(void *arg) {
  tp_arg *a = enter(arg);
  return df_ok(tp_value_new(a->n * 3), tp_value_free);
}

df_result tp_work_fail(void *arg) {
  tp_arg *a = enter(arg);
  return df_fail(
      df_failure_new(&DF_ERROR, (int)a->n, "work failed on %ld", a->n));
}

df_result tp_work_null(void *arg) {
  (void)enter(arg);
  return df_ok(NULL, NULL);
}

/* ------------------------------------------------------------ outcomes */

static df_result record(df_result in, void *arg) {
  tp_outcome *out = arg;
  tp_check_reactor_thread();
  out->fired++;
  out->seq = ++fire_seq;
  out->success = !df_result_is_failure(in);
  if (out->success) {
    out->value =
        in.ptr != NULL && in.free == tp_value_free ? *(long *)in.ptr : -1;
  } else {
    df_failure *f = df_result_failure(in);
    out->type = df_failure_type(f);
    out->code = df_failure_code(f);
    snprintf(out->message, sizeof out->message, "%s", df_failure_message(f));
  }
  df_result_free(in);
  return df_ok(NULL, NULL);
}

void tp_watch(df_deferred *d, tp_outcome *out) {
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  memset(out, 0, sizeof *out);
  CU_ASSERT_PTR_EQUAL(df_add_both(d, record, out), d);
  df_unref(d);
}

/* ------------------------------------------------------------ holder */

void tp_hold_begin(tp_holder *h) {
  tp_gate_init(&h->gate);
  tp_watch(df_defer_to_thread_opts(tp.pool, tp_work_value,
                                   tp_arg_new(0, &h->gate), &tp_owned_arg),
           &h->out);
  tp_gate_wait_entered(&h->gate, 1);
}

void tp_hold_end(tp_holder *h) {
  tp_gate_open(&h->gate);
  tp_run_until_count(&h->out.fired, 1);
  CU_ASSERT(h->out.success);
}

/* ------------------------------------------------------------ batches */

void tp_submit(df_work_fn fn, tp_arg *arg, tp_outcome *out) {
  tp_watch(df_defer_to_thread_opts(tp.pool, fn, arg, &tp_owned_arg), out);
}

df_deferred *tp_submit_watched(df_work_fn fn, tp_arg *arg, tp_outcome *out) {
  df_deferred *d = df_defer_to_thread_opts(tp.pool, fn, arg, &tp_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_ref(d);
  tp_watch(d, out);
  return d;
}

bool tp_queue_empty(void) {
  pthread_mutex_lock(&tp.pool->queue.mutex);
  bool empty = tp.pool->queue.length == 0;
  pthread_mutex_unlock(&tp.pool->queue.mutex);
  return empty;
}

void tp_assert_stats_add_up(void) {
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.submitted,
                  s.queued + s.running + s.completed + s.cancelled);
}

void tp_queue_pair(tp_gate *gate, df_deferred **first, tp_outcome *first_out,
                   df_deferred **second, tp_outcome *second_out) {
  tp_gate_init(gate);
  tp_holder h;
  tp_hold_begin(&h);
  *first = tp_submit_watched(tp_work_value, tp_arg_new(1, gate), first_out);
  *second = tp_submit_watched(tp_work_value, tp_arg_new(2, NULL), second_out);
  tp_hold_end(&h);
  tp_gate_wait_entered(gate, 1);
  CU_ASSERT(!tp_queue_empty());
  struct df_pool_stats s = tp_stats();
  CU_ASSERT_EQUAL(s.queued, 1);
  CU_ASSERT_EQUAL(s.running, 1);
  tp_assert_stats_add_up();
}
