/* A pool's life: df_pool_new(), df_pool_close(), df_pool_free() and
 * df_pool_stats(). Submission is in submit.c, the workers in worker.c, the
 * way back to the reactor in completion.c. */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* The queue's critical sections are a few pointer moves, so a thread that
 * finds the mutex taken spins briefly before it sleeps in the kernel (glibc's
 * adaptive mutex): the reactor then rarely pays a futex call to queue a job
 * while a worker pops one. */
static int init_mutex(pthread_mutex_t *m) {
  pthread_mutexattr_t attr;
  if (pthread_mutexattr_init(&attr) != 0)
    return DF_ENOMEM;
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
  (void)pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
  int rc = pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
  return rc == 0 ? 0 : DF_ENOMEM;
}

static int init_sync(df_pool *p, unsigned threads) {
  if (init_mutex(&p->mutex) != 0)
    return DF_ENOMEM;
  for (unsigned i = 0; i < threads; i++) {
    if (sem_init(&p->workers[i].wake, 0, 0) != 0) {
      while (i-- > 0)
        sem_destroy(&p->workers[i].wake);
      pthread_mutex_destroy(&p->mutex);
      return DF_ENOMEM;
    }
    p->workers[i].pool = p;
    atomic_init(&p->workers[i].pending, 0);
  }
  return 0;
}

static void destroy_sync(df_pool *p) {
  for (unsigned i = 0; i < p->threads; i++)
    sem_destroy(&p->workers[i].wake);
  pthread_mutex_destroy(&p->mutex);
}

static void free_memory(df_pool *p) {
  df__pool_job_cache_clear(p);
  free(p->workers);
  free(p);
}

int df_pool_new(df_pool **out, df_reactor *reactor,
                const df_pool_options *opts) {
  if (out == NULL)
    return DF_EINVAL;
  *out = NULL;
  if (reactor == NULL || !df_reactor_in_thread(reactor))
    return DF_EINVAL;
  unsigned threads = opts != NULL ? opts->threads : 0;
  size_t max_queued = opts != NULL ? opts->max_queued : 0;
  if (threads == 0)
    threads = DF_POOL_DEFAULT_THREADS;
  if (threads > DF_POOL_MAX_THREADS)
    return DF_EINVAL;
  if (max_queued == 0)
    max_queued = DF_POOL_DEFAULT_MAX_QUEUED;

  /* aligned_alloc: the struct's cache-line groups need its alignment. */
  df_pool *p = aligned_alloc(_Alignof(df_pool), sizeof *p);
  if (p == NULL)
    return DF_ENOMEM;
  memset(p, 0, sizeof *p);
  p->reactor = reactor;
  p->max_queued = max_queued;
  p->threads = threads;
  p->cache_max = df__pool_cache_max(max_queued, threads);
  df__pool_link_init(&p->queue);
  atomic_init(&p->nqueued, 0);
  atomic_init(&p->spinning, false);
  atomic_init(&p->done, NULL);
  atomic_init(&p->draining, false);
  atomic_init(&p->outstanding, 0);
  atomic_init(&p->wakeups, 0);
  atomic_init(&p->drop_claimed, false);
  /* Aligned like the pool: each worker's `pending` on a line of its own.
   * The size is a multiple of the alignment, as aligned_alloc() wants. */
  p->workers = aligned_alloc(_Alignof(df__pool_worker),
                             (size_t)threads * sizeof *p->workers);
  if (p->workers != NULL)
    memset(p->workers, 0, (size_t)threads * sizeof *p->workers);
  if (p->workers == NULL) {
    free_memory(p);
    return DF_ENOMEM;
  }
  int rc = init_sync(p, threads);
  if (rc != 0) {
    free_memory(p);
    return rc;
  }
  p->async = df_async_new(reactor, df__pool_on_wakeup, p);
  if (p->async == NULL) {
    rc = DF_ENOMEM;
  } else {
    rc = df__pool_start_workers(p, threads);
    if (rc != 0)
      df_async_free(p->async);
  }
  if (rc != 0) {
    destroy_sync(p);
    free_memory(p);
    return rc;
  }
  *out = p;
  return 0;
}

/* DF_POOL_CANCEL: fails the jobs taken off the queue, oldest first. A
 * callback run here may cancel one of the later ones: the canceller finds it
 * still linked (in `dropped`), unlinks it under the mutex and fails it with
 * DF_CANCELLED instead, so each still fires once. */
static void drop_queued(df_pool *p, df__pool_link *dropped) {
  for (;;) {
    pthread_mutex_lock(&p->mutex);
    if (df__pool_link_empty(dropped)) {
      pthread_mutex_unlock(&p->mutex);
      return;
    }
    df__pool_link *link = dropped->next;
    df__pool_link_remove(link);
    df__pool_sub_nqueued(p, 1);
    pthread_mutex_unlock(&p->mutex);
    df__pool_job *job = DF__POOL_CONTAINER_OF(link, df__pool_job, link);
    df__pool_drop_job(p, job,
                      df_failure_new(&DF_POOL_CLOSED, 0,
                                     "pool closed before the job ran"),
                      false);
  }
}

int df_pool_close(df_pool *p, df_pool_close_mode mode) {
  if (p == NULL || (mode != DF_POOL_DRAIN && mode != DF_POOL_CANCEL) ||
      !df_reactor_in_thread(p->reactor))
    return DF_EINVAL;
  if (p->closed)
    return DF_ECLOSED;
  p->closed = true; /* from now on df_defer_to_thread() refuses */

  /* The jobs stay counted in nqueued until each has fired, so the stats
   * add up while their callbacks run. */
  df__pool_link dropped;
  df__pool_link_init(&dropped);
  if (mode == DF_POOL_CANCEL) {
    /* Jobs claimed by a worker and not started are dropped by the worker
     * and failed when their nodes come back (df__pool_deliver_done()). */
    atomic_store_explicit(&p->drop_claimed, true, memory_order_relaxed);
    pthread_mutex_lock(&p->mutex);
    df__pool_link_splice(&dropped, &p->queue);
    pthread_mutex_unlock(&p->mutex);
  }
  /* DF_POOL_DRAIN: the workers leave only once the queue is empty. */
  df__pool_join_workers(p);

  p->delivering++;
  df__pool_deliver_done(p);
  drop_queued(p, &dropped);
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
  destroy_sync(p);
  free_memory(p);
  return 0;
}

int df_pool_stats(df_pool *p, struct df_pool_stats *out) {
  if (p == NULL || out == NULL || !df_reactor_in_thread(p->reactor))
    return DF_EINVAL;
  pthread_mutex_lock(&p->mutex);
  size_t queued = df__pool_queued_locked(p);
  pthread_mutex_unlock(&p->mutex);
  out->threads = p->nthreads;
  out->queued = queued;
  out->submitted = p->submitted;
  out->rejected = p->rejected;
  out->completed = p->completed;
  out->failed = p->failed;
  out->cancelled = p->cancelled;
  out->abandoned = p->abandoned;
  /* Started by a worker and not delivered: running, or on the completion
   * list (with a claimed job that a DF_POOL_CANCEL close dropped, until its
   * node is back). Exact on the reactor thread, which alone moves jobs in
   * and out of the other counts. */
  out->running =
      (size_t)(p->submitted - p->completed - p->cancelled - (uint64_t)queued);
  out->wakeups = atomic_load_explicit(&p->wakeups, memory_order_relaxed);
  return 0;
}
