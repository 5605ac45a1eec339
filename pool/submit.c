/* The way in: df_defer_to_thread(), the job nodes it uses, and the
 * canceller of the Deferreds it returns.
 *
 * Everything here runs on the reactor thread. A job costs at most one
 * allocation of the pool's own, and usually none: delivered nodes go to a
 * cache that only the reactor thread touches, so it needs no lock. */
#include <stdlib.h>

#include "pool_internal.h"

/* Nodes kept for reuse: as many as the queue can hold plus one per thread,
 * up to this many (about 14 MiB of nodes). A pool that keeps its queue full
 * then allocates nothing once warm, and a burst of jobs reuses the nodes of
 * the previous one instead of faulting fresh pages in; past the bound,
 * delivered nodes are freed. */
#define CACHE_MAX ((size_t)1 << 17)

/* ---------------------------------------------------------------- nodes */

size_t df__pool_cache_max(size_t max_queued, unsigned threads) {
  return max_queued < CACHE_MAX - threads ? max_queued + threads : CACHE_MAX;
}

df__pool_job *df__pool_job_get(df_pool *p) {
  df__pool_job *job = p->cache;
  if (job != NULL) {
    p->cache = job->next;
    p->ncached--;
  } else {
    job = malloc(sizeof *job);
    if (job == NULL)
      return NULL;
  }
  df__pool_link_init(&job->link);
  job->next = NULL;
  job->pool = p;
  job->worker = NULL;
  atomic_store_explicit(&job->state, DF__POOL_QUEUED, memory_order_relaxed);
  job->abandoned = false;
  return job;
}

void df__pool_job_put(df_pool *p, df__pool_job *job) {
  if (p->ncached >= p->cache_max) {
    free(job);
    return;
  }
  job->next = p->cache;
  p->cache = job;
  p->ncached++;
}

void df__pool_job_cache_clear(df_pool *p) {
  while (p->cache != NULL) {
    df__pool_job *next = p->cache->next;
    free(p->cache);
    p->cache = next;
  }
  p->ncached = 0;
}

void df__pool_job_release_arg(df__pool_job *job) {
  df_arg_free_fn arg_free = job->arg_free;
  job->arg_free = NULL;
  if (arg_free != NULL)
    arg_free(job->arg);
}

/* ---------------------------------------------------------------- cancel */

/* Drops a job that never started (df_cancel() or DF_POOL_CANCEL): it never
 * runs, its Deferred fails with \p f, its argument is released. The job is
 * off the queue, or out of CLAIMED for good (the worker then still holds
 * the node, \p keep_node, and hands it back through the completion list).
 * The node is not touched once the callbacks ran: with \p keep_node, a
 * df_pool_close() called from one of them delivers the node the worker
 * handed back, which recycles or frees it. */
void df__pool_drop_job(df_pool *p, df__pool_job *job, df_failure *f,
                       bool keep_node) {
  df_deferred *d = job->d;
  df_arg_free_fn arg_free = job->arg_free;
  void *arg = job->arg;
  job->d = NULL;
  job->arg_free = NULL;
  if (!keep_node)
    df__pool_job_put(p, job);
  p->cancelled++;
  df__pool_update_outstanding(p);
  p->delivering++; /* the callbacks below must not free the pool under us */
  df_errback(d, f);
  if (arg_free != NULL)
    arg_free(arg);
  p->delivering--;
  df_unref(d);
}

/* Takes a claimed job back before its worker starts it: true when this
 * call won the job's way out of CLAIMED, or when a DF_POOL_CANCEL close
 * made the worker drop it and its node is still on the way back. Either
 * way the work never runs, and the node is marked so that its delivery
 * only recycles it. */
static bool take_back_claimed(df__pool_job *job) {
  int expected = DF__POOL_CLAIMED;
  if (atomic_compare_exchange_strong_explicit(
          &job->state, &expected, DF__POOL_CANCELLED, memory_order_acq_rel,
          memory_order_acquire)) {
    atomic_fetch_sub_explicit(&job->worker->pending, 1, memory_order_relaxed);
    return true;
  }
  if (expected != DF__POOL_DROPPED)
    return false;
  /* Only the reactor moves a job out of DROPPED. */
  atomic_store_explicit(&job->state, DF__POOL_CANCELLED, memory_order_relaxed);
  return true;
}

/* The canceller of every Deferred of the pool (S15). The job is in the
 * queue (linked), claimed by a worker and not started, or started (finished
 * jobs that wait for delivery count as started, their results are
 * discarded the same way). */
static void cancel_job(df_deferred *d, void *arg) {
  df__pool_job *job = arg;
  df_pool *p = job->pool;
  pthread_mutex_lock(&p->mutex);
  bool queued = !df__pool_link_empty(&job->link);
  if (queued) {
    df__pool_link_remove(&job->link);
    df__pool_sub_nqueued(p, 1);
  }
  pthread_mutex_unlock(&p->mutex);

  if (queued || take_back_claimed(job)) {
    df__pool_drop_job(p, job,
                      df_failure_new(&DF_CANCELLED, 0,
                                     "pool job cancelled before it ran"),
                      !queued);
    return;
  }
  /* S20: the work cannot be interrupted. Fail now; delivery frees the late
   * result and releases the argument, which the work may still be using. */
  job->abandoned = true;
  p->abandoned++;
  p->delivering++;
  df_errback(d, df_failure_new(&DF_CANCELLED, 0,
                               "pool job cancelled while running; its result "
                               "will be discarded"));
  p->delivering--;
}

/* ---------------------------------------------------------------- submit */

/* Whether the jobs not started (queued, or claimed by a worker) fill the
 * queue's limit. The workers' batches are summed only when they could make
 * the difference: near the limit, so never without a limit (SIZE_MAX). */
static bool queue_full_locked(df_pool *p) {
  size_t queued = df__pool_nqueued(p);
  if (queued >= p->max_queued)
    return true;
  if (p->max_queued - queued > (size_t)p->threads * DF__POOL_BATCH_MAX)
    return false;
  return df__pool_queued_locked(p) >= p->max_queued;
}

/* A job refused at once: a Deferred failed with \p f, the argument
 * released. Counted when \p p is known and this is its thread. */
static df_deferred *refuse(df_pool *p, void *arg, df_arg_free_fn arg_free,
                           df_failure *f) {
  if (p != NULL)
    p->rejected++;
  df_deferred *d = df_fail_now(f);
  /* Last: the destructor is user code and may free the pool. */
  if (arg_free != NULL)
    arg_free(arg);
  return d;
}

df_deferred *df_defer_to_thread_full(df_pool *p, df_work_fn fn, void *arg,
                                     df_arg_free_fn arg_free) {
  if (p == NULL)
    return refuse(NULL, arg, arg_free,
                  df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                 "df_defer_to_thread: pool is NULL"));
  if (!df_reactor_in_thread(p->reactor))
    return refuse(NULL, arg, arg_free,
                  df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                 "df_defer_to_thread: called off the "
                                 "reactor thread"));
  if (fn == NULL)
    return refuse(p, arg, arg_free,
                  df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                 "df_defer_to_thread: fn is NULL"));
  if (p->closed)
    return refuse(p, arg, arg_free,
                  df_failure_new(&DF_POOL_CLOSED, 0,
                                 "df_defer_to_thread: the pool is closed"));

  df__pool_job *job = df__pool_job_get(p);
  df_deferred *d = job != NULL ? df_deferred_new(cancel_job, job) : NULL;
  if (d == NULL) {
    if (job != NULL)
      df__pool_job_put(p, job);
    return refuse(p, arg, arg_free,
                  df_failure_new(&DF_NO_MEMORY, DF_ENOMEM,
                                 "df_defer_to_thread: out of memory"));
  }
  job->fn = fn;
  job->arg = arg;
  job->arg_free = arg_free;
  job->d = d;

  pthread_mutex_lock(&p->mutex);
  if (queue_full_locked(p)) {
    pthread_mutex_unlock(&p->mutex);
    df__pool_job_put(p, job);
    p->rejected++;
    df_errback(d, df_failure_new(&DF_POOL_FULL, 0,
                                 "df_defer_to_thread: the queue is full "
                                 "(%zu jobs waiting)",
                                 p->max_queued));
    if (arg_free != NULL)
      arg_free(arg);
    return d;
  }
  df_ref(d); /* the job's reference, dropped once the pool fired d */
  df__pool_worker *sleeper = df__pool_enqueue_locked(p, job);
  pthread_mutex_unlock(&p->mutex);
  if (sleeper != NULL)
    df__pool_wake(sleeper);
  p->submitted++;
  df__pool_update_outstanding(p);
  return d;
}

df_deferred *df_defer_to_thread(df_pool *p, df_work_fn fn, void *arg) {
  return df_defer_to_thread_full(p, fn, arg, NULL);
}
