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
 *  - Deferreds returned here are fired on the reactor thread only, inside a
 *    reactor round (or inside df_cancel(), df_pool_close() and
 *    df_defer_to_thread() itself for a refused job). Their callbacks never
 *    run on a worker. Argument destructors and the free functions of
 *    discarded results run on the reactor thread too.
 *
 *  Cancellation (S15-S17, S20). Each Deferred has a canceller:
 *  - a job still queued (or claimed by a worker and not started) never
 *    runs: the Deferred fails with DF_CANCELLED at once, then its argument
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
 *  Cost: one mutex guards the queue; jobs run with no lock held. A worker
 *  takes one job per lock while the queued jobs are no more than the workers
 *  awake to take them, and otherwise claims its share of the queue (up to
 *  32 jobs) in one lock and runs them in order: a job may then wait behind
 *  a long one claimed with it. A claimed job that has not started still
 *  counts as queued (df_pool_stats(), max_queued) and is cancelled, or
 *  dropped by DF_POOL_CANCEL, as a queued one: it never runs. A sleeping
 *  worker is woken (through a semaphore of its own, which never blocks the
 *  reactor thread) by a submission only when no worker is awake to take the
 *  job, and by a worker that leaves more jobs queued than the workers awake
 *  to take them; so a stream of short jobs that one worker keeps up with
 *  wakes nobody, and a backlog spreads over the threads at the workers'
 *  expense, not the reactor thread's. While jobs are outstanding (accepted
 *  and not delivered: request and reply, or a pipeline that each delivery
 *  refills), one idle worker at a time polls the queue for about ten
 *  microseconds before it sleeps, so the next job needs no wake-up either.
 *  Completed jobs go back to the reactor through a lock-free list; one
 *  wake-up of the reactor serves every completion that arrives until it has
 *  delivered them all, so under load a wake-up is written for many jobs, not
 *  one per job (df_pool_stats() counts them).
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

/*! The default number of threads (df_pool_options.threads == 0). */
#define DF_POOL_DEFAULT_THREADS 4u
/*! The largest number of threads a pool accepts. */
#define DF_POOL_MAX_THREADS 1024u
/*! The default queue limit (df_pool_options.max_queued == 0). */
#define DF_POOL_DEFAULT_MAX_QUEUED 65536u

/*! Options of df_pool_new(). Zero fields select the defaults. */
typedef struct df_pool_options {
  /*! Worker threads, started by df_pool_new(): 0 gives
   *  DF_POOL_DEFAULT_THREADS; at most DF_POOL_MAX_THREADS. */
  unsigned threads;
  /*! Jobs that may wait to start (queued, including those claimed by a
   *  worker and not started; running jobs do not count): 0 gives
   *  DF_POOL_DEFAULT_MAX_QUEUED; SIZE_MAX means no limit. Memory: the pool
   *  keeps the bookkeeping of delivered jobs for reuse, up to max_queued +
   *  threads of them (at most 131072, about 100 bytes each), until
   *  df_pool_free(). */
  size_t max_queued;
} df_pool_options;

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
  unsigned threads;    /*!< worker threads alive (0 after close) */
  size_t queued;       /*!< jobs not started now: in the queue, or claimed
                            by a worker and not started */
  size_t running;      /*!< jobs started by a worker whose result has not
                            reached the reactor thread yet (during a
                            DF_POOL_CANCEL close, also claimed jobs the
                            close dropped, until they fail) */
  uint64_t submitted;  /*!< jobs accepted by df_defer_to_thread() */
  uint64_t rejected;   /*!< submissions refused at once: full, closed, bad
                            argument (their Deferreds failed at once) */
  uint64_t completed;  /*!< jobs whose work function returned and whose
                            result reached the reactor thread */
  uint64_t failed;     /*!< of completed: the result was a failure */
  uint64_t cancelled;  /*!< jobs dropped before they started, by
                            df_cancel() or DF_POOL_CANCEL */
  uint64_t abandoned;  /*!< running jobs whose Deferred was cancelled; their
                            late results were (or will be) freed unseen */
  uint64_t wakeups;    /*!< wake-ups written to the reactor (each counted
                            by its writer once the write returned, so the
                            count may trail a delivery by a moment) */
};

/*! \brief Makes a pool and starts its worker threads.
 *
 *  \param out receives the pool (the caller owns it: df_pool_free()); set to
 *         NULL on error. Must not be NULL.
 *  \param reactor borrowed; must outlive the pool. The calling thread must
 *         be its thread (df_reactor_in_thread()).
 *  \param opts borrowed, read during the call; NULL gives every default.
 *  \return 0; DF_EINVAL for a NULL \p out or \p reactor, a thread count above
 *          DF_POOL_MAX_THREADS or a call off the reactor thread; DF_ENOMEM;
 *          or the negative errno of a failed pthread_create() (DF_EAGAIN
 *          typically). On error no thread is left running and nothing is
 *          allocated.
 *  Reactor thread only. */
DF_EXTERN int df_pool_new(df_pool **out, df_reactor *reactor,
                          const df_pool_options *opts);

/*! \brief Runs \p fn(\p arg) on a worker; returns at once.
 *
 *  df_defer_to_thread_full() without an argument destructor: \p arg is
 *  borrowed. It must stay valid until the work function has returned, which
 *  for a job cancelled while running is after its Deferred fired: wait for
 *  df_pool_stats() to show no running job, or for df_pool_close(). Prefer
 *  df_defer_to_thread_full() when \p arg is owned memory. */
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
 *  \param arg passed to \p fn; ownership is taken when \p arg_free is not
 *         NULL.
 *  \param arg_free called exactly once with \p arg, on the reactor thread,
 *         when the pool no longer needs it: right after the Deferred fired
 *         with the job's result; for a job cancelled while running, when the
 *         late result arrives (the work may use \p arg until then); for a
 *         job dropped before it ran (cancel, close) or refused at once,
 *         right after its Deferred failed (on the calling thread when the
 *         call was refused for being made off the reactor thread).
 *         Callbacks added later, or that wait on other Deferreds, must not
 *         rely on \p arg.
 *  \return the caller's reference to a new Deferred; the pool holds one of
 *          its own until it fires it. Already failed, when the job was
 *          refused, with DF_POOL_FULL (queue full), DF_POOL_CLOSED (after
 *          df_pool_close()), DF_INVALID_ARGUMENT (NULL argument, or a call
 *          off the reactor thread) or DF_NO_MEMORY. NULL only when even
 *          that Deferred could not be allocated.
 *  Reactor thread only. Cancelling the Deferred: see the file comment. */
DF_EXTERN df_deferred *df_defer_to_thread_full(df_pool *pool, df_work_fn fn,
                                               void *arg,
                                               df_arg_free_fn arg_free);

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
