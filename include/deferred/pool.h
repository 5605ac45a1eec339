/*! \file deferred/pool.h
 *  \brief df_pool: blocking work on a pool of pthreads, results as Deferreds
 *  fired on the reactor thread (Twisted's deferToThread, C1).
 *
 *  \code
 *  df_pool *pool;
 *  df_pool_options opts = {.threads = 4, .max_queued = 1024};
 *  if (df_pool_new(&pool, reactor, &opts) == 0) {
 *    df_deferred *d = df_defer_to_thread(pool, run_query, query);
 *    df_add_callback(d, rows_to_html, NULL);
 *    df_unref(d);
 *    ... df_reactor_run(reactor) ...
 *    df_pool_close(pool, DF_POOL_DRAIN);
 *    df_pool_free(pool);
 *  }
 *  \endcode
 *
 *  Threading rules.
 *  - Every function of this header is called on the reactor thread: the
 *    thread for which df_reactor_in_thread() is true. A call from another
 *    thread is refused (DF_EINVAL, or a Deferred already failed with
 *    DF_INVALID_ARGUMENT) and changes nothing.
 *  - A work function (df_work_fn) runs on a worker thread with no lock of the
 *    pool held. It must not touch Deferreds, the reactor or the pool: it
 *    computes a result from its argument and returns it.
 *  - Deferreds returned here are used and released on the reactor thread
 *    (deferred.h: one thread creates, fires and releases a Deferred); the
 *    last reference to one may be dropped after df_pool_free(), on one
 *    thread at a time.
 *  - They are fired on the reactor thread only, inside a
 *    reactor round (or inside df_cancel(), df_pool_close() and
 *    df_defer_to_thread() itself: for a refused job, and, when an elastic
 *    pool with no thread left cannot start one, for every job waiting). Their callbacks never
 *    run on a worker. Argument destructors and the free functions of
 *    discarded results run on the reactor thread too.
 *
 *  Cancellation (S15-S17, S20). Each Deferred has a canceller:
 *  - a job still queued never runs: the Deferred fails with DF_CANCELLED at once, then its argument
 *    is released;
 *  - a job already running is not interrupted: the Deferred fails with
 *    DF_CANCELLED at once, and the result the work function returns later is
 *    freed, on the reactor thread, when it arrives. The argument is released
 *    only then, since the work function may still be using it.
 *  Nothing leaks on either path, and no Deferred fires twice.
 *
 *  Backpressure: the pool holds at most max_queued jobs waiting to start. A
 *  submission that finds it full returns a Deferred already failed with
 *  DF_POOL_FULL; the reactor thread never waits for room.
 *
 *  Shutdown: df_pool_close() stops accepting jobs (later submissions fail
 *  with DF_POOL_CLOSED), then either runs (DF_POOL_DRAIN) or drops
 *  (DF_POOL_CANCEL) the queued jobs, waits for running jobs, fires every
 *  outstanding Deferred exactly once and joins the threads. df_pool_free()
 *  releases the pool; the reactor may be freed only after it.
 *
 *  Restrictions:
 *  - free the pool before its reactor (the reactor reports DF_EBUSY while
 *    the pool's wake-up handle exists);
 *  - a work function must return: df_pool_close() waits for running jobs,
 *    and the reactor does not run meanwhile, so work that waits for the
 *    reactor (or for a Deferred) never lets close return;
 *  - df_pool_free() is refused (DF_EBUSY) inside a callback that the pool
 *    itself is running; free the pool after the round, or from a timer.
 *
 *  Concurrency: a pool with T threads runs min(T, queued) jobs at once.
 *  Whenever a thread is idle and a job waits, the job starts without
 *  waiting for any other job to finish; jobs that block (a query, a sleep,
 *  a job waiting for another job) therefore never hold up the jobs behind
 *  them while a thread is free.
 *
 *  Sizing: a fixed pool (df_pool_options.threads, the default) starts its
 *  threads in df_pool_new() and keeps them. An elastic pool
 *  (df_pool_options.max_threads) starts min_threads, starts one more thread
 *  when a job is queued and no thread is idle, up to max_threads, and lets
 *  a thread above min_threads exit once it stayed idle for idle_timeout_ms.
 *  A thread that cannot be started (pthread_create() fails) leaves the pool
 *  running with the threads it has (counted in thread_failures); only when
 *  it has no thread at all do the waiting jobs fail, with DF_SYSTEM (or
 *  DF_NO_MEMORY when memory for the thread's bookkeeping ran out).
 *
 *  Priorities: each job is high, normal (the default) or low
 *  (df_job_options.priority). Waiting jobs start most urgent class first,
 *  in submission order within a class, with one exception so that no class
 *  starves: a class with jobs waiting while DF_POOL_AGING_LIMIT jobs of
 *  other classes started goes next. Under a constant flow of high-priority
 *  jobs, a waiting low-priority job therefore starts after at most
 *  DF_POOL_AGING_LIMIT high ones (one more when normal jobs fall due at the
 *  same time); low jobs get at least about one start in
 *  DF_POOL_AGING_LIMIT + 1 while they wait, not none.
 *
 *  Cost: one mutex guards the queue and is held for a few pointer moves;
 *  jobs run with no lock held. Results come back through a lock-free list,
 *  and one wake-up of the reactor serves the completions that arrive until
 *  it has delivered them all, up to 1024 a round (the rest get a wake-up of
 *  their own; df_pool_stats() counts the wake-ups).
 *  Memory: a job and its Deferred share one block, carved out of slabs of
 *  64 blocks that the pool allocates as jobs need them: a burst allocates
 *  once per 64 submissions; a steady flow, however many jobs it keeps in
 *  flight, reuses the blocks and slabs of delivered jobs and allocates
 *  nothing once running. Slabs no longer needed are freed, all but one
 *  spare. Deferreds may outlive their pool: a slab with Deferreds still
 *  referenced when the pool is freed goes with the last of them. A Deferred
 *  kept long after its job keeps its slab (about 15 KB) allocated; the
 *  slab's other blocks are reused meanwhile. In debug mode
 *  (df_set_debugging()) each Deferred is allocated on its own, to carry its
 *  df_debug_info. Every allocation goes through the library's allocator
 *  (deferred/alloc.h).
 */
#ifndef DEFERRED_POOL_H
#define DEFERRED_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "deferred.h"
#include "reactor.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! An opaque pool of worker threads bound to one reactor. */
typedef struct df_pool df_pool;

/*! \brief The blocking work, run on a worker thread.
 *  \param arg the argument given at submission, borrowed.
 *  \return a value (df_ok(), df_ok_shared(): its free function runs on the
 *          reactor thread, in the Deferred's chain or when the result is
 *          discarded) or a failure (df_fail(), df_failure_new() is
 *          thread-safe). Returning a Deferred (df_wait()) is a programming
 *          error: the Deferred fails with DF_INVALID_ARGUMENT instead. */
typedef df_result (*df_work_fn)(void *arg);

/*! The default number of threads of a fixed pool. */
#define DF_POOL_DEFAULT_THREADS 4u
/*! The largest number of threads a pool accepts. */
#define DF_POOL_MAX_THREADS 1024u
/*! The default queue limit (df_pool_options.max_queued == 0). */
#define DF_POOL_DEFAULT_MAX_QUEUED 65536u
/*! The default idle timeout of an elastic pool's extra threads. */
#define DF_POOL_DEFAULT_IDLE_TIMEOUT_MS 10000u
/*! Jobs of other classes that may start while a class waits before that
 *  class goes next (see Priorities in the file comment). */
#define DF_POOL_AGING_LIMIT 16u

/*! Options of df_pool_new(). Zero fields select the defaults: a fixed pool
 *  of DF_POOL_DEFAULT_THREADS threads. */
typedef struct df_pool_options {
  /*! A fixed pool of this many threads, started by df_pool_new(): 0 gives
   *  DF_POOL_DEFAULT_THREADS (when max_threads is 0 too); at most
   *  DF_POOL_MAX_THREADS. */
  unsigned threads;
  /*! Elastic pool: the threads kept alive while the pool is idle (0 is
   *  allowed: no thread until a job comes). Only with max_threads. */
  unsigned min_threads;
  /*! Elastic pool, when not 0: the most threads, started as jobs need
   *  them; at least min_threads, at most DF_POOL_MAX_THREADS. Setting both
   *  this and `threads` is DF_EINVAL. */
  unsigned max_threads;
  /*! Elastic pool: how long a thread above min_threads stays idle before
   *  it exits; 0 gives DF_POOL_DEFAULT_IDLE_TIMEOUT_MS. Only with
   *  max_threads. */
  unsigned idle_timeout_ms;
  /*! Jobs that may wait to start (running jobs do not count): 0 gives
   *  DF_POOL_DEFAULT_MAX_QUEUED; SIZE_MAX means no limit. */
  size_t max_queued;
} df_pool_options;

/*! The urgency of a job; see Priorities in the file comment. */
typedef enum df_job_priority {
  DF_PRIORITY_NORMAL = 0, /*!< the default */
  DF_PRIORITY_HIGH = 1,
  DF_PRIORITY_LOW = 2
} df_job_priority;

/*! Options of one submission (df_defer_to_thread_opts()). Zero fields
 *  select the defaults: normal priority, a borrowed argument. */
typedef struct df_job_options {
  /*! DF_PRIORITY_NORMAL, DF_PRIORITY_HIGH or DF_PRIORITY_LOW. */
  df_job_priority priority;
  /*! When not NULL, the pool owns the argument and calls this exactly
   *  once with it, on the reactor thread, when it no longer needs it:
   *  right after the Deferred fired with the job's result; for a job
   *  cancelled while running, when the late result arrives (the work may
   *  use the argument until then); for a job dropped before it ran
   *  (cancel, close) or refused at once, right after its Deferred failed
   *  (on the calling thread when the call was refused for being made off
   *  the reactor thread). Callbacks added later, or that wait on other
   *  Deferreds, must not rely on the argument. */
  df_arg_free_fn arg_free;
} df_job_options;

/*! How df_pool_close() treats the jobs still queued. */
typedef enum df_pool_close_mode {
  /*! Run them all; their Deferreds fire with their results. */
  DF_POOL_DRAIN = 0,
  /*! Drop them: they never run, their Deferreds fail with DF_POOL_CLOSED. */
  DF_POOL_CANCEL = 1
} df_pool_close_mode;

/*! Counters of a pool, read by df_pool_stats(). These hold at any time:
 *  submitted == queued + running + completed + cancelled, and every
 *  accepted job's Deferred fired or will fire once. Like `struct stat` and
 *  stat(), the struct tag and the function share the name: write
 *  `struct df_pool_stats`. */
struct df_pool_stats {
  unsigned threads;   /*!< worker threads alive, or being started (0
                           after close) */
  unsigned idle;      /*!< of threads: waiting for a job */
  size_t queued;      /*!< jobs waiting to start */
  size_t running;     /*!< jobs started by a worker whose result has not
                           reached the reactor thread yet */
  uint64_t submitted; /*!< jobs accepted by df_defer_to_thread() */
  uint64_t rejected;  /*!< submissions refused at once: full, closed, bad
                           argument (their Deferreds failed at once) */
  uint64_t completed; /*!< jobs whose work function returned and whose
                           result reached the reactor thread */
  uint64_t failed;    /*!< of completed: the result was a failure */
  uint64_t cancelled; /*!< jobs dropped before they started: by
                           df_cancel(), DF_POOL_CANCEL, or an elastic pool
                           that had no thread and could start none (those
                           were accepted, so not counted in rejected) */
  uint64_t abandoned; /*!< running jobs whose Deferred was cancelled; their
                           late results were (or will be) freed unseen */
  uint64_t threads_started; /*!< threads started, over the pool's life */
  uint64_t thread_failures; /*!< threads that could not be started */
  uint64_t wakeups;         /*!< wake-ups written to the reactor (each counted
                                 by its writer once the write returned, so the
                                 count may trail a delivery by a moment) */
};

/*! \brief Makes a pool and starts its worker threads (a fixed pool's
 *  threads, or an elastic pool's min_threads).
 *
 *  \param out receives the pool (the caller owns it: df_pool_free()); set to
 *         NULL on error. Must not be NULL.
 *  \param reactor borrowed; must outlive the pool. The calling thread must
 *         be its thread (df_reactor_in_thread()).
 *  \param opts borrowed, read during the call; NULL gives every default.
 *  \return 0; DF_EINVAL for a NULL \p out or \p reactor, a thread count above
 *          DF_POOL_MAX_THREADS, min_threads above max_threads, both threads
 *          and max_threads set, min_threads or idle_timeout_ms without
 *          max_threads, or a call off the reactor thread; DF_ENOMEM;
 *          or the negative errno of a failed pthread_create() (DF_EAGAIN
 *          typically). On error no thread is left running and nothing is
 *          allocated.
 *  Reactor thread only. */
DF_EXTERN int df_pool_new(df_pool **out, df_reactor *reactor,
                          const df_pool_options *opts);

/*! \brief Runs \p fn(\p arg) on a worker; returns a Deferred at once (C1).
 *
 *  df_defer_to_thread_opts() with the default options: normal priority,
 *  \p arg borrowed. It must stay valid until the work function has
 *  returned, which for a job cancelled while running is after its Deferred
 *  fired: wait for df_pool_stats() to show no running job, or for
 *  df_pool_close(). Give an arg_free (df_job_options) when \p arg is owned
 *  memory.
 *  \param pool the pool (borrowed).
 *  \param fn the work function, run on a worker.
 *  \param arg passed to \p fn; borrowed.
 *  \return as df_defer_to_thread_opts(). */
DF_EXTERN df_deferred *df_defer_to_thread(df_pool *pool, df_work_fn fn,
                                          void *arg);

/*! \brief Runs \p fn(\p arg) on a worker; returns a Deferred at once (C1).
 *
 *  The Deferred fires on the reactor thread with what \p fn returned: its
 *  callbacks if a value, its errbacks if a failure.
 *
 *  \param pool borrowed. NULL gives a Deferred failed with
 *         DF_INVALID_ARGUMENT naming "pool".
 *  \param fn the work. NULL gives a Deferred failed with DF_INVALID_ARGUMENT
 *         naming "fn".
 *  \param arg passed to \p fn; owned by the pool when \p opts gives an
 *         arg_free.
 *  \param opts borrowed, read during the call; NULL gives the defaults. A
 *         priority outside df_job_priority gives a Deferred failed with
 *         DF_INVALID_ARGUMENT naming "opts->priority".
 *  \return the caller's reference to a new Deferred; the pool holds one of
 *          its own until it fires it. Already failed, when the job was
 *          refused, with DF_POOL_FULL (queue full), DF_POOL_CLOSED (after
 *          df_pool_close()), DF_INVALID_ARGUMENT (bad argument, or a call
 *          off the reactor thread), DF_NO_MEMORY, or DF_SYSTEM (an elastic
 *          pool with no thread could not start one). NULL only when even
 *          that Deferred could not be allocated.
 *  Reactor thread only. Cancelling the Deferred: see the file comment. */
DF_EXTERN df_deferred *df_defer_to_thread_opts(df_pool *pool, df_work_fn fn,
                                               void *arg,
                                               const df_job_options *opts);

/*! \brief Shuts the pool down; blocks until its threads have exited.
 *
 *  In this order: later submissions fail with DF_POOL_CLOSED; the queued
 *  jobs are run (DF_POOL_DRAIN) or dropped and failed with DF_POOL_CLOSED
 *  (DF_POOL_CANCEL); running jobs are waited for (they cannot be
 *  interrupted); every result is delivered: the Deferreds fire inside this
 *  call, on the calling thread; the threads are joined. Callbacks that run
 *  here may submit jobs (refused with DF_POOL_CLOSED) but must not free the
 *  pool.
 *
 *  \param pool borrowed; NULL gives DF_EINVAL.
 *  \param mode DF_POOL_DRAIN or DF_POOL_CANCEL; anything else is DF_EINVAL.
 *  \return 0; DF_ECLOSED when the pool was already closed (nothing done);
 *          DF_EINVAL (NULL pool, bad mode, off the reactor thread).
 *  Reactor thread only: the reactor does not run during the call, so a
 *  work function must not wait for the reactor, or close never returns. */
DF_EXTERN int df_pool_close(df_pool *pool, df_pool_close_mode mode);

/*! \brief Frees the pool. A pool still open is closed with DF_POOL_CANCEL
 *  first (see df_pool_close()).
 *  \param pool taken; NULL is a no-op (0).
 *  \return 0, or DF_EBUSY (nothing freed) when called from a callback that
 *          the pool is firing (a delivery round, df_pool_close(), or the
 *          cancel of one of its Deferreds), or DF_EINVAL off the reactor
 *          thread.
 *  Reactor thread only. Free the pool before its reactor. */
DF_EXTERN int df_pool_free(df_pool *pool);

/*! \brief Reads the pool's counters.
 *  \param pool borrowed. \param out filled in.
 *  \return 0, or DF_EINVAL when either is NULL or off the reactor thread.
 *  Reactor thread only (the counters are exact there). */
DF_EXTERN int df_pool_stats(df_pool *pool, struct df_pool_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_POOL_H */
