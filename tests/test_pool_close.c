/* Backpressure and shutdown of the pool: a full queue refuses at once,
 * df_pool_close() drains or cancels, later submissions fail with
 * DF_POOL_CLOSED, every Deferred fires exactly once, threads are joined, and
 * a failed thread start leaves nothing behind. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool_internal.h"
#include "dft_runner.h"
#include "dft_pool.h"

/* Opens a gate from another thread once the pool has been told to stop,
 * i.e. once df_pool_close() has taken what it drops off the queue: the
 * job behind the gate then cannot let a worker reach the queue earlier. */
typedef struct opener {
  df_pool *pool;
  dft_pool_gate *gate;
  pthread_t thread;
} opener;

static void *open_when_stopping(void *arg) {
  opener *o = arg;
  for (;;) {
    df__mutex_lock(&o->pool->jobq.mutex);
    bool stopping = o->pool->jobq.stopping;
    df__mutex_unlock(&o->pool->jobq.mutex);
    if (stopping)
      break;
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  dft_pool_gate_open(o->gate);
  return NULL;
}

static void opener_start(opener *o, df_pool *p, dft_pool_gate *g) {
  o->pool = p;
  o->gate = g;
  CU_ASSERT_EQUAL_FATAL(pthread_create(&o->thread, NULL, open_when_stopping, o),
                        0);
}

/* Closes the pool with \p mode while an opener lets \p gate go once the
 * close has taken what it drops off the queue; asserts the close worked. */
static void close_opening(dft_pool_gate *gate, df_pool_close_mode mode) {
  opener o;
  opener_start(&o, dft_pool.pool, gate);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, mode), 0);
  pthread_join(o.thread, NULL);
}

/* On a one-thread pool: submits outs[0] as a job held on \p gate, then
 * outs[1..n-1] queued behind it (odd ones run \p odd, even ones
 * dft_pool_work_value), and waits until the held job runs. */
static void start_behind_gate(dft_pool_gate *gate, dft_pool_outcome *outs,
                              int n, df_work_fn odd) {
  dft_pool_gate_init(gate);
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(0, gate), &outs[0]);
  for (int i = 1; i < n; i++)
    dft_pool_submit(i % 2 ? odd : dft_pool_work_value,
                    dft_pool_arg_new(i, NULL), &outs[i]);
  dft_pool_gate_wait_entered(gate, 1);
}

/* ------------------------------------------------------------ backpressure */

static void test_full_queue_refuses_at_once_with_pool_full(void) {
  if (!dft_pool_begin(1, 2))
    return;
  dft_pool_gate gate;
  dft_pool_gate_init(&gate);
  dft_pool_outcome running, q1, q2, refused;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(1, &gate), &running);
  dft_pool_gate_wait_entered(&gate, 1); /* running jobs do not count */
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(2, NULL), &q1);
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(3, NULL), &q2);
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(4, NULL), &refused);
  CU_ASSERT_EQUAL(refused.fired, 1);
  CU_ASSERT_PTR_EQUAL(refused.type, &DF_POOL_FULL);
  CU_ASSERT_EQUAL(dft_pool_arg_frees(), 1);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.queued, 2);
  CU_ASSERT_EQUAL(s.rejected, 1);
  CU_ASSERT_EQUAL(s.submitted, 3);

  dft_pool_gate_open(&gate);
  dft_pool_run_until_count(&q2.fired, 1);
  CU_ASSERT(running.success);
  CU_ASSERT(q1.success);
  CU_ASSERT(q2.success);
  CU_ASSERT_EQUAL(refused.fired, 1);
  /* Room again once the queue drained. */
  dft_pool_outcome later;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(5, NULL), &later);
  dft_pool_run_until_count(&later.fired, 1);
  CU_ASSERT_EQUAL(later.value, 15);
  dft_pool_end();
}

/* Only waiting jobs take room in the queue: with max_queued 2, a running
 * job and two waiting ones fill it. */
static void test_full_queue_counts_waiting_jobs_only(void) {
  if (!dft_pool_begin(1, 2))
    return;
  dft_pool_gate gate;
  dft_pool_outcome running, waiting, queued, refused;
  df_deferred *a, *b;
  dft_pool_queue_pair(&gate, &a, &running, &b, &waiting);
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(3, NULL), &queued);
  CU_ASSERT_EQUAL(queued.fired, 0);
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(4, NULL), &refused);
  CU_ASSERT_EQUAL(refused.fired, 1);
  CU_ASSERT_PTR_EQUAL(refused.type, &DF_POOL_FULL);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.queued, 2);
  CU_ASSERT_EQUAL(s.running, 1);
  CU_ASSERT_EQUAL(s.rejected, 1);
  dft_pool_gate_open(&gate);
  dft_pool_run_until_count(&queued.fired, 1);
  CU_ASSERT(running.success);
  CU_ASSERT(waiting.success);
  CU_ASSERT(queued.success);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 4); /* the holder and three jobs */
  df_unref(a);
  df_unref(b);
  dft_pool_end();
}

/* ------------------------------------------------------------ close */

static void test_close_drain_runs_every_queued_job(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  enum { N = 20 };
  dft_pool_outcome outs[N];
  start_behind_gate(&gate, outs, N, dft_pool_work_fail);
  close_opening(&gate, DF_POOL_DRAIN);
  /* Everything fired inside the close, in order, with its own result. */
  for (int i = 0; i < N; i++) {
    CU_ASSERT_EQUAL(outs[i].fired, 1);
    CU_ASSERT_EQUAL(outs[i].success, i % 2 == 0);
    if (i > 0)
      CU_ASSERT(outs[i].seq > outs[i - 1].seq);
  }
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, N);
  CU_ASSERT_EQUAL(s.threads, 0);
  CU_ASSERT_EQUAL(s.queued + s.running, 0);
  dft_pool_end();
}

static void test_close_cancel_drops_queued_jobs_with_pool_closed(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  enum { N = 6 };
  dft_pool_outcome outs[N];
  start_behind_gate(&gate, outs, N, dft_pool_work_value);
  close_opening(&gate, DF_POOL_CANCEL);
  /* The running job was waited for and delivered; the queued ones never
   * ran and failed with DF_POOL_CLOSED. */
  CU_ASSERT_EQUAL(outs[0].fired, 1);
  CU_ASSERT(outs[0].success);
  for (int i = 1; i < N; i++) {
    CU_ASSERT_EQUAL(outs[i].fired, 1);
    CU_ASSERT_PTR_EQUAL(outs[i].type, &DF_POOL_CLOSED);
  }
  CU_ASSERT_EQUAL(dft_pool_works_run(), 1);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 1);
  CU_ASSERT_EQUAL(s.cancelled, N - 1);
  CU_ASSERT_EQUAL(s.submitted, s.completed + s.cancelled);
  dft_pool_end();
}

/* DF_POOL_CANCEL drops a job waiting behind a running one: it never runs
 * and fails with DF_POOL_CLOSED, once; the running one delivers. */
static void test_close_cancel_drops_the_job_behind_a_running_one(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  dft_pool_outcome running, dropped;
  df_deferred *first, *d;
  dft_pool_queue_pair(&gate, &first, &running, &d, &dropped);
  close_opening(&gate, DF_POOL_CANCEL);
  CU_ASSERT_EQUAL(running.fired, 1);
  CU_ASSERT(running.success);
  CU_ASSERT_EQUAL(dropped.fired, 1);
  CU_ASSERT_PTR_EQUAL(dropped.type, &DF_POOL_CLOSED);
  df_cancel(d); /* fired already: nothing more */
  CU_ASSERT_EQUAL(dropped.fired, 1);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 2); /* the holder and the running job */
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 2);
  CU_ASSERT_EQUAL(s.cancelled, 1);
  CU_ASSERT_EQUAL(s.queued + s.running, 0);
  CU_ASSERT_EQUAL(s.submitted, s.completed + s.cancelled);
  df_unref(first);
  df_unref(d);
  dft_pool_end();
}

/* Two jobs dropped by DF_POOL_CANCEL, the second cancelled by a step of
 * the first's chain, which the close runs before it fails the second: the
 * second fails once, with DF_CANCELLED, and each is counted once. */
static df_result cancel_in_callback(df_result in, void *arg) {
  df_cancel(arg);
  return in;
}

static void test_close_cancel_then_cancel_of_a_dropped_job(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  dft_pool_outcome running, first, second;
  df_deferred *a, *b;
  dft_pool_queue_pair(&gate, &a, &running, &b, &first);
  df_deferred *c = dft_pool_submit_watched(dft_pool_work_value,
                                           dft_pool_arg_new(3, NULL), &second);
  df_add_both(b, cancel_in_callback, c);
  close_opening(&gate, DF_POOL_CANCEL);
  CU_ASSERT(running.success);
  CU_ASSERT_EQUAL(first.fired, 1);
  CU_ASSERT_PTR_EQUAL(first.type, &DF_POOL_CLOSED);
  CU_ASSERT_EQUAL(second.fired, 1);
  CU_ASSERT_PTR_EQUAL(second.type, &DF_CANCELLED);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 2); /* the holder and the running job */
  CU_ASSERT_EQUAL(dft_pool_args_live(), 0);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT_EQUAL(s.completed, 2);
  CU_ASSERT_EQUAL(s.cancelled, 2);
  CU_ASSERT_EQUAL(s.abandoned, 0);
  CU_ASSERT_EQUAL(s.queued + s.running, 0);
  CU_ASSERT_EQUAL(s.submitted, s.completed + s.cancelled);
  df_unref(a);
  df_unref(b);
  df_unref(c);
  dft_pool_end();
}

static void test_submissions_after_close_fail_with_pool_closed(void) {
  if (!dft_pool_begin(2, 0))
    return;
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_DRAIN), 0);
  dft_pool_outcome out;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(1, NULL), &out);
  CU_ASSERT_EQUAL(out.fired, 1);
  CU_ASSERT_PTR_EQUAL(out.type, &DF_POOL_CLOSED);
  CU_ASSERT_EQUAL(dft_pool_arg_frees(), 1);
  CU_ASSERT_EQUAL(dft_pool_works_run(), 0);
  CU_ASSERT_EQUAL(dft_pool_stats().rejected, 1);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_DRAIN), DF_ECLOSED);
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_CANCEL), DF_ECLOSED);
  dft_pool_end();
}

static void test_free_of_an_open_pool_cancels_its_queue(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  dft_pool_outcome outs[2]; /* the running job, the queued one */
  start_behind_gate(&gate, outs, 2, dft_pool_work_value);
  opener o;
  opener_start(&o, dft_pool.pool, &gate);
  CU_ASSERT_EQUAL(df_pool_free(dft_pool.pool), 0);
  pthread_join(o.thread, NULL);
  dft_pool.pool = NULL;
  CU_ASSERT_EQUAL(outs[0].fired, 1);
  CU_ASSERT(outs[0].success);
  CU_ASSERT_EQUAL(outs[1].fired, 1);
  CU_ASSERT_PTR_EQUAL(outs[1].type, &DF_POOL_CLOSED);
  dft_pool_end();
}

/* Callbacks run by the pool: freeing the pool there is refused, closing it
 * there works (the rest is delivered inside that close), submitting there
 * after the close is refused. */
typedef struct reentry {
  int free_rc;
  int close_rc;
  dft_pool_outcome after_close;
} reentry;

static df_result reenter_pool(df_result in, void *arg) {
  reentry *r = arg;
  r->free_rc = df_pool_free(dft_pool.pool);
  r->close_rc = df_pool_close(dft_pool.pool, DF_POOL_DRAIN);
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(99, NULL),
                  &r->after_close);
  return in;
}

static void test_free_from_a_callback_is_busy_and_close_from_one_works(void) {
  if (!dft_pool_begin(2, 0))
    return;
  enum { N = 10 };
  dft_pool_outcome first, others[N];
  reentry r;
  memset(&r, 0, sizeof r);
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(1, NULL), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_add_callback(d, reenter_pool, &r);
  dft_pool_watch(d, &first);
  for (int i = 0; i < N; i++)
    dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(i, NULL), &others[i]);
  dft_pool_run_until_count(&first.fired, 1);
  CU_ASSERT_EQUAL(r.free_rc, DF_EBUSY);
  CU_ASSERT_EQUAL(r.close_rc, 0);
  CU_ASSERT_EQUAL(r.after_close.fired, 1);
  CU_ASSERT_PTR_EQUAL(r.after_close.type, &DF_POOL_CLOSED);
  /* Every other job was drained by that close: those finished before the
   * first delivery came in its batch, the rest inside the close. */
  for (int i = 0; i < N; i++) {
    CU_ASSERT_EQUAL(others[i].fired, 1);
    CU_ASSERT(others[i].success);
  }
  CU_ASSERT_EQUAL(dft_pool_stats().completed, N + 1);
  dft_pool_end();
}

static int free_rc_in_cancel = 1;

static df_result free_pool_in_errback(df_result in, void *arg) {
  (void)arg;
  free_rc_in_cancel = df_pool_free(dft_pool.pool);
  return in;
}

static void test_free_from_a_callback_run_by_a_cancel_is_busy(void) {
  if (!dft_pool_begin(1, 0))
    return;
  dft_pool_gate gate;
  dft_pool_gate_init(&gate);
  dft_pool_outcome running, queued;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(1, &gate), &running);
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(2, NULL), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_add_errback(d, free_pool_in_errback, NULL);
  df_ref(d);
  dft_pool_watch(d, &queued);
  dft_pool_gate_wait_entered(&gate, 1);
  df_cancel(d);
  CU_ASSERT_EQUAL(free_rc_in_cancel, DF_EBUSY);
  CU_ASSERT_EQUAL(queued.fired, 1);
  CU_ASSERT_PTR_EQUAL(queued.type, &DF_CANCELLED);
  df_unref(d);
  dft_pool_gate_open(&gate);
  dft_pool_run_until_count(&running.fired, 1);
  dft_pool_end();
}

/* ------------------------------------------------------------ thread start */

static atomic_int create_calls;
static atomic_int fail_at_call;
static atomic_int live_threads;

typedef struct trampoline {
  void *(*start)(void *);
  void *arg;
} trampoline;

static void *counted_start(void *arg) {
  trampoline t = *(trampoline *)arg;
  free(arg);
  atomic_fetch_add(&live_threads, 1);
  void *ret = t.start(t.arg);
  atomic_fetch_sub(&live_threads, 1);
  return ret;
}

static int failing_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg) {
  if (atomic_fetch_add(&create_calls, 1) + 1 == atomic_load(&fail_at_call))
    return EAGAIN;
  trampoline *t = malloc(sizeof *t);
  if (t == NULL)
    return ENOMEM;
  t->start = start;
  t->arg = arg;
  int rc = pthread_create(thread, attr, counted_start, t);
  if (rc != 0)
    free(t);
  return rc;
}

static void check_failed_start(unsigned threads, int fail_at) {
  df_reactor *r;
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, NULL), 0);
  atomic_store(&create_calls, 0);
  atomic_store(&fail_at_call, fail_at);
  df__pool_set_thread_create_hook(failing_create);
  df_pool *p = (df_pool *)r; /* any non-NULL value: it must be reset */
  df_pool_options opts = {.threads = threads};
  CU_ASSERT_EQUAL(df_pool_new(&p, r, &opts), DF_EAGAIN);
  df__pool_set_thread_create_hook(NULL);
  CU_ASSERT_PTR_NULL(p);
  CU_ASSERT_EQUAL(atomic_load(&create_calls), fail_at);
  /* The threads that did start were joined before df_pool_new returned. */
  CU_ASSERT_EQUAL(atomic_load(&live_threads), 0);
  /* Its wake-up handle is gone too: the reactor is not busy. */
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
}

static void test_thread_start_failure_leaves_no_thread(void) {
  check_failed_start(4, 1);
  check_failed_start(4, 3);
  check_failed_start(4, 4);
}

static void test_pool_works_after_a_failed_start(void) {
  check_failed_start(2, 2);
  if (!dft_pool_begin(2, 0))
    return;
  dft_pool_outcome out;
  dft_pool_submit(dft_pool_work_value, dft_pool_arg_new(2, NULL), &out);
  dft_pool_run_until_count(&out.fired, 1);
  CU_ASSERT_EQUAL(out.value, 6);
  dft_pool_end();
}

static CU_TestInfo tests[] = {
    {"full_queue_refuses_at_once_with_pool_full",
     test_full_queue_refuses_at_once_with_pool_full},
    {"full_queue_counts_waiting_jobs_only",
     test_full_queue_counts_waiting_jobs_only},
    {"close_drain_runs_every_queued_job",
     test_close_drain_runs_every_queued_job},
    {"close_cancel_drops_queued_jobs_with_pool_closed",
     test_close_cancel_drops_queued_jobs_with_pool_closed},
    {"close_cancel_drops_the_job_behind_a_running_one",
     test_close_cancel_drops_the_job_behind_a_running_one},
    {"close_cancel_then_cancel_of_a_dropped_job",
     test_close_cancel_then_cancel_of_a_dropped_job},
    {"submissions_after_close_fail_with_pool_closed",
     test_submissions_after_close_fail_with_pool_closed},
    {"free_of_an_open_pool_cancels_its_queue",
     test_free_of_an_open_pool_cancels_its_queue},
    {"free_from_a_callback_is_busy_and_close_from_one_works",
     test_free_from_a_callback_is_busy_and_close_from_one_works},
    {"free_from_a_callback_run_by_a_cancel_is_busy",
     test_free_from_a_callback_run_by_a_cancel_is_busy},
    {"thread_start_failure_leaves_no_thread",
     test_thread_start_failure_leaves_no_thread},
    {"pool_works_after_a_failed_start", test_pool_works_after_a_failed_start},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_run("pool_close", tests, NULL, NULL, NULL, NULL); }
