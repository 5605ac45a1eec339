/* A pool's life: df_pool_new(), its worker threads and how many there
 * are, df_defer_to_thread(), df_pool_close(), df_pool_free() and
 * df_pool_stats(). The jobs themselves are in job.c, the queue and the
 * sleeping workers in jobqueue.c.
 *
 * Sizing. A fixed pool starts its threads in df_pool_new() and keeps them
 * until close. An elastic pool starts min_threads there; a job queued when
 * no thread is idle starts one more, up to max_threads (jobqueue.c decides, on
 * the reactor thread, in df_defer_to_thread()); a thread above min_threads
 * that stayed idle for idle_timeout leaves by itself, and the reactor joins
 * it on its next wake-up. A thread that cannot be started leaves the pool
 * with the threads it has; only when it has none are the waiting jobs
 * failed, since nothing would run them.
 *
 * Workers block asynchronous signals so that they are delivered to the
 * application's threads; faults stay deliverable so that crashes are
 * reported where they happen. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "pool_internal.h"
#include "trace.h" /* lib/: the jobs of a traced reactor */

/* Times an idle worker yields its core before it sleeps. */
#define YIELDS_BEFORE_SLEEP 4u

/* A worker thread. Allocated by the reactor thread when it starts the
 * thread, freed by it once joined. */
typedef struct df__worker {
  df__queue link; /* in pool->workers (mutex) */
  df__sleeper sleeper;
  df_pool *pool;
  pthread_t thread;
  bool exited; /* the thread is returning (mutex) */
} df__worker;

static df__pool_thread_create_fn thread_create = pthread_create;

void df__pool_set_thread_create_hook(df__pool_thread_create_fn fn) {
  thread_create = fn != NULL ? fn : pthread_create;
}

/* ---------------------------------------------------------------- workers */

static struct timespec deadline_after(uint64_t ns) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  uint64_t sum = (uint64_t)t.tv_nsec + ns % 1000000000u;
  t.tv_sec += (time_t)(ns / 1000000000u + sum / 1000000000u);
  t.tv_nsec = (long)(sum % 1000000000u);
  return t;
}

/* Sleeps until woken, mutex held on entry and return. False when the
 * worker should leave: it stayed idle for the idle timeout while the pool
 * has more threads than its minimum. */
static bool idle_wait_locked(df__worker *self) {
  df_pool *p = self->pool;
  if (p->idle_timeout_ns == 0 || p->jobq.threads <= p->min_threads) {
    (void)df__jobq_sleep_locked(&p->jobq, &self->sleeper, NULL);
    return true;
  }
  struct timespec deadline = deadline_after(p->idle_timeout_ns);
  if (df__jobq_sleep_locked(&p->jobq, &self->sleeper, &deadline))
    return true;
  return p->jobq.threads <= p->min_threads;
}

/* A worker that found the queue empty gives its core away a few times
 * before it sleeps, watching for a job: when the reactor thread submits
 * more slowly than the workers finish (short jobs), the next job is then
 * usually queued before the worker sleeps, and neither side pays a futex
 * wake-up and a context switch for it. The worker still counts as one that
 * will look at the queue, so no sleeper is woken meanwhile; it looks again
 * under the mutex before it sleeps. Mutex held on entry and return. */
static void yield_for_jobs_locked(df__jobq *q) {
  df__mutex_unlock(&q->mutex);
  for (unsigned i = 0; i < YIELDS_BEFORE_SLEEP && !df__jobq_has_jobs(q); i++)
    sched_yield();
  df__mutex_lock(&q->mutex);
}

/* Runs \p job, then the jobs queued meanwhile, one per lock. A finished
 * job is handed back once the next one is claimed: the hand-back may wake
 * the reactor, whose next submission then finds this worker busy rather
 * than gone to sleep. Returns with the worker counted idle again. */
static void run_back_to_back(df_pool *p, df__job *job) {
  df__jobq *q = &p->jobq;
  for (;;) {
    df__job_start(job);
    df__mutex_lock(&q->mutex);
    df__job *next = df__job_claim_locked(p);
    if (next == NULL)
      q->busy--;
    df__mutex_unlock(&q->mutex);
    df__job_hand_back(job);
    if (next == NULL)
      return;
    job = next;
  }
}

static void *worker_main(void *arg) {
  df__worker *self = arg;
  df_pool *p = self->pool;
  df__jobq *q = &p->jobq;
  bool yielded = false;
  df__mutex_lock(&q->mutex);
  for (;;) {
    df__job *job = df__job_claim_locked(p);
    if (job == NULL) {
      if (q->stopping)
        break;
      if (!yielded) {
        yield_for_jobs_locked(q);
        yielded = true;
        continue;
      }
      if (!idle_wait_locked(self))
        break;
      continue;
    }
    yielded = false;
    q->busy++;
    df__mutex_unlock(&q->mutex);
    run_back_to_back(p, job);
    df__mutex_lock(&q->mutex);
  }
  q->threads--;
  self->exited = true;
  df__mutex_unlock(&q->mutex);
  /* Ask the reactor to join us. df_pool_close() joins every thread before
   * the handle is freed, so this send has returned by then. */
  atomic_fetch_add_explicit(&p->exited, 1, memory_order_relaxed);
  (void)df_async_send(p->async);
  return NULL;
}

static void block_async_signals(sigset_t *old) {
  sigset_t set;
  sigfillset(&set);
  int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
    sigdelset(&set, faults[i]);
  pthread_sigmask(SIG_SETMASK, &set, old);
}

/* Starts a thread that jobq.threads counts already; on failure uncounts
 * it. Returns 0 or a negative code. */
static int start_worker(df_pool *p) {
  df__worker *w = df_malloc(sizeof *w);
  int rc = DF_ENOMEM;
  if (w != NULL) {
    df__sleeper_init(&w->sleeper);
    w->pool = p;
    w->exited = false;
    df__mutex_lock(&p->jobq.mutex);
    df__queue_insert_tail(&p->workers, &w->link);
    df__mutex_unlock(&p->jobq.mutex);
    sigset_t old;
    block_async_signals(&old); /* inherited by the new thread */
    rc = thread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0) {
      p->threads_started++;
      return 0;
    }
    rc = rc > 0 ? -rc : DF_EAGAIN;
    df__mutex_lock(&p->jobq.mutex);
    df__queue_remove(&w->link);
    df__mutex_unlock(&p->jobq.mutex);
  }
  df_free(w);
  df__mutex_lock(&p->jobq.mutex);
  p->jobq.threads--;
  df__mutex_unlock(&p->jobq.mutex);
  p->thread_failures++;
  return rc;
}

static void join_worker(df__worker *w) {
  pthread_join(w->thread, NULL);
  df_free(w);
}

/* Joins the threads that left on their idle timeout. */
static void reap_exited(df_pool *p) {
  df__queue gone;
  df__queue_init(&gone);
  df__mutex_lock(&p->jobq.mutex);
  df__queue *at = df__queue_head(&p->workers);
  while (at != &p->workers) {
    df__queue *next = at->next;
    if (DF__QUEUE_DATA(at, df__worker, link)->exited) {
      df__queue_remove(at);
      df__queue_insert_tail(&gone, at);
    }
    at = next;
  }
  df__mutex_unlock(&p->jobq.mutex);
  unsigned n = 0;
  while (!df__queue_empty(&gone)) {
    df__queue *link = df__queue_head(&gone);
    df__queue_remove(link);
    join_worker(DF__QUEUE_DATA(link, df__worker, link));
    n++;
  }
  atomic_fetch_sub_explicit(&p->exited, n, memory_order_relaxed);
}

/* Tells every thread to leave once the queue is empty, and joins them. */
static void stop_workers(df_pool *p) {
  df__mutex_lock(&p->jobq.mutex);
  p->jobq.stopping = true;
  df__sleeper *s = df__jobq_take_sleepers_locked(&p->jobq);
  df__mutex_unlock(&p->jobq.mutex);
  while (s != NULL) { /* awake workers see `stopping` at their next look */
    df__sleeper *next = s->next;
    df__sleeper_post(s);
    s = next;
  }
  for (;;) {
    df__mutex_lock(&p->jobq.mutex);
    df__queue *link =
        df__queue_empty(&p->workers) ? NULL : df__queue_head(&p->workers);
    if (link != NULL)
      df__queue_remove(link);
    df__mutex_unlock(&p->jobq.mutex);
    if (link == NULL)
      break;
    join_worker(DF__QUEUE_DATA(link, df__worker, link));
  }
  atomic_store_explicit(&p->exited, 0, memory_order_relaxed);
}

/* The df_async callback: completions, and threads to join. */
static void on_wakeup(void *arg) {
  df_pool *p = arg;
  if (atomic_load_explicit(&p->exited, memory_order_relaxed) > 0)
    reap_exited(p);
  df__job_deliver(p);
}

/* A job was queued that no thread can run now: start one, as jobqueue.c
 * asked. With no thread at all left, the waiting jobs cannot run. */
static void grow(df_pool *p) {
  int rc = start_worker(p);
  if (rc == 0)
    return;
  df__mutex_lock(&p->jobq.mutex);
  bool none = p->jobq.threads == 0;
  df__mutex_unlock(&p->jobq.mutex);
  if (!none)
    return;
  if (rc == DF_ENOMEM)
    df__job_drop_waiting(p, &DF_NO_MEMORY,
                         "no memory to start a worker thread for the job");
  else
    df__job_drop_waiting(p, &DF_SYSTEM,
                         "no worker thread could be started for the job");
}

/* ---------------------------------------------------------------- options */

typedef struct sizing {
  unsigned initial;
  unsigned min;
  unsigned max;
  uint64_t idle_timeout_ns;
} sizing;

static int read_sizing(const df_pool_options *o, sizing *s) {
  df_pool_options none = {0};
  if (o == NULL)
    o = &none;
  if (o->max_threads == 0) { /* fixed */
    if (o->min_threads != 0 || o->idle_timeout_ms != 0)
      return DF_EINVAL;
    s->initial = o->threads != 0 ? o->threads : DF_POOL_DEFAULT_THREADS;
    s->min = s->max = s->initial;
    s->idle_timeout_ns = 0;
  } else {
    if (o->threads != 0 || o->min_threads > o->max_threads)
      return DF_EINVAL;
    s->initial = s->min = o->min_threads;
    s->max = o->max_threads;
    s->idle_timeout_ns =
        (uint64_t)(o->idle_timeout_ms != 0 ? o->idle_timeout_ms
                                           : DF_POOL_DEFAULT_IDLE_TIMEOUT_MS) *
        1000000u;
  }
  return s->max > DF_POOL_MAX_THREADS ? DF_EINVAL : 0;
}

/* ---------------------------------------------------------------- life */

static df_pool *allocate_pool(void) {
  /* The cache-line groups of the struct need its alignment. */
  void *block = df_malloc(sizeof(df_pool) + _Alignof(df_pool));
  if (block == NULL)
    return NULL;
  uintptr_t at = ((uintptr_t)block + _Alignof(df_pool) - 1) &
                 ~(uintptr_t)(_Alignof(df_pool) - 1);
  df_pool *p = (df_pool *)at;
  memset(p, 0, sizeof *p);
  p->block = block;
  return p;
}

static void free_pool(df_pool *p) { df_free(p->block); }

int df_pool_new(df_pool **out, df_reactor *reactor,
                const df_pool_options *opts) {
  if (out == NULL)
    return DF_EINVAL;
  *out = NULL;
  sizing s;
  if (reactor == NULL || !df_reactor_in_thread(reactor) ||
      read_sizing(opts, &s) != 0)
    return DF_EINVAL;
  size_t max_queued = opts != NULL ? opts->max_queued : 0;
  if (max_queued == 0)
    max_queued = DF_POOL_DEFAULT_MAX_QUEUED;

  df_pool *p = allocate_pool();
  if (p == NULL)
    return DF_ENOMEM;
  p->reactor = reactor;
  p->trace = df__trace_hook_of(reactor);
  p->max_queued = max_queued;
  p->min_threads = s.min;
  p->max_threads = s.max;
  p->idle_timeout_ns = s.idle_timeout_ns;
  df__queue_init(&p->workers);
  df__blocks_init(&p->blocks, sizeof(df__job));
  atomic_init(&p->done, NULL);
  atomic_init(&p->draining, false);
  atomic_init(&p->exited, 0);
  atomic_init(&p->wakeups, 0);
  df__jobq_init(&p->jobq);
  df_async_new(&p->async, reactor, on_wakeup, p);
  int rc = p->async != NULL ? 0 : DF_ENOMEM;
  for (unsigned i = 0; rc == 0 && i < s.initial; i++) {
    df__mutex_lock(&p->jobq.mutex); /* the first workers read it */
    p->jobq.threads++;
    df__mutex_unlock(&p->jobq.mutex);
    rc = start_worker(p);
  }
  if (rc != 0) {
    if (p->async != NULL) {
      stop_workers(p);
      df_async_free(p->async);
    }
    free_pool(p);
    return rc;
  }
  *out = p;
  return 0;
}

/* A submission refused before it reached the pool's bookkeeping. */
static df_deferred *refuse(df_pool *p, void *arg, df_arg_free_fn arg_free,
                           const df_error_type *type, const char *message) {
  if (p != NULL)
    p->rejected++;
  df_deferred *d = df_fail_now(df_failure_new(type, 0, "%s", message));
  if (arg_free != NULL) /* last: user code, which may free the pool */
    arg_free(arg);
  return d;
}

static bool valid_priority(df_job_priority priority) {
  return (unsigned)priority <= (unsigned)DF_PRIORITY_LOW;
}

df_deferred *df_defer_to_thread_opts(df_pool *p, df_work_fn fn, void *arg,
                                     const df_job_options *opts) {
  static const df_job_options defaults = {DF_PRIORITY_NORMAL, NULL};
  if (opts == NULL)
    opts = &defaults;
  if (p == NULL)
    return refuse(NULL, arg, opts->arg_free, &DF_INVALID_ARGUMENT,
                  "df_defer_to_thread: pool is NULL");
  if (!df_reactor_in_thread(p->reactor))
    return refuse(NULL, arg, opts->arg_free, &DF_INVALID_ARGUMENT,
                  "df_defer_to_thread: called off the reactor thread");
  if (fn == NULL)
    return refuse(p, arg, opts->arg_free, &DF_INVALID_ARGUMENT,
                  "df_defer_to_thread: fn is NULL");
  if (!valid_priority(opts->priority))
    return refuse(p, arg, opts->arg_free, &DF_INVALID_ARGUMENT,
                  "df_defer_to_thread: opts->priority is not a "
                  "df_job_priority");
  if (p->closed)
    return refuse(p, arg, opts->arg_free, &DF_POOL_CLOSED,
                  "df_defer_to_thread: the pool is closed");
  bool start_thread;
  df_deferred *d = df__job_submit(p, fn, arg, opts, &start_thread);
  if (start_thread)
    grow(p);
  return d;
}

df_deferred *df_defer_to_thread(df_pool *p, df_work_fn fn, void *arg) {
  return df_defer_to_thread_opts(p, fn, arg, NULL);
}

/* Every finished job, delivered: the threads are joined, nothing is left
 * to arrive. */
static void deliver_all(df_pool *p) {
  while (atomic_load_explicit(&p->done, memory_order_acquire) != NULL)
    df__job_deliver(p);
}

int df_pool_close(df_pool *p, df_pool_close_mode mode) {
  if (p == NULL || (mode != DF_POOL_DRAIN && mode != DF_POOL_CANCEL) ||
      !df_reactor_in_thread(p->reactor))
    return DF_EINVAL;
  if (p->closed)
    return DF_ECLOSED;
  p->closed = true; /* from now on df_defer_to_thread() refuses */
  p->delivering++;
  if (mode == DF_POOL_CANCEL)
    df__job_drop_waiting(p, &DF_POOL_CLOSED, "pool closed before the job ran");
  stop_workers(p); /* DF_POOL_DRAIN: they leave once the queue is empty */
  deliver_all(p);
  /* Left only when no thread could be started to run them. */
  df__job_drop_waiting(p, &DF_POOL_CLOSED,
                       "pool closed with no thread to run the job");
  p->delivering--;
  return 0;
}

int df_pool_free(df_pool *p) {
  if (p == NULL)
    return 0;
  if (!df_reactor_in_thread(p->reactor))
    return DF_EINVAL;
  if (p->delivering > 0)
    return DF_EBUSY;
  if (!p->closed)
    df_pool_close(p, DF_POOL_CANCEL);
  /* The workers are joined, so nothing sends any more; a wake-up still
   * pending is dropped with the handle. */
  df_async_free(p->async);
  df__blocks_destroy(&p->blocks); /* Deferreds still held keep theirs */
  free_pool(p);
  return 0;
}

int df_pool_stats(df_pool *p, struct df_pool_stats *out) {
  if (p == NULL || out == NULL || !df_reactor_in_thread(p->reactor))
    return DF_EINVAL;
  df__mutex_lock(&p->jobq.mutex);
  size_t queued = p->jobq.length;
  unsigned threads = p->jobq.threads;
  unsigned idle = p->jobq.nasleep;
  df__mutex_unlock(&p->jobq.mutex);
  out->threads = threads;
  out->idle = idle;
  out->queued = queued;
  out->submitted = p->submitted;
  out->rejected = p->rejected;
  out->completed = p->completed;
  out->failed = p->failed;
  out->cancelled = p->cancelled;
  out->abandoned = p->abandoned;
  out->threads_started = p->threads_started;
  out->thread_failures = p->thread_failures;
  /* Claimed by a worker and not delivered: running, or on its way back.
   * Exact on the reactor thread, which alone moves jobs in and out of the
   * other counts. */
  out->running =
      (size_t)(p->submitted - p->completed - p->cancelled - (uint64_t)queued);
  out->wakeups = atomic_load_explicit(&p->wakeups, memory_order_relaxed);
  return 0;
}
