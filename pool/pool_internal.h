/* The pool's structure, shared by pool.c (its life, threads, sizing and
 * stats) and job.c (the jobs). Not installed.
 *
 * Who touches what:
 * - `jobq` (jobqueue.h) has the only lock: the queue, the sleepers and the
 *   thread counts are under its mutex;
 * - `done` is a lock-free stack of finished jobs: workers push, the reactor
 *   thread takes the whole stack;
 * - everything else is the reactor thread's, or set once at creation. */
#ifndef DF_POOL_INTERNAL_H
#define DF_POOL_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deferred/alloc.h"
#include "blocks.h"
#include "deferred/pool.h"
#include "job.h"
#include "jobqueue.h"

/* Groups written by different threads sit on different cache lines. */
#define DF__POOL_LINE 64

struct df_pool {
  /* Set by df_pool_new(), then only read. */
  df_reactor *reactor;
  df_async *async; /* wakes the reactor: completions, exits */
  void *block;     /* what df_malloc() returned (alignment) */
  size_t max_queued;
  unsigned min_threads;
  unsigned max_threads;
  uint64_t idle_timeout_ns;     /* 0: threads never exit while open */
  struct df__trace_hook *trace; /* the reactor's (lib/trace.h) */

  /* The lock, the queue and the sleepers. */
  _Alignas(DF__POOL_LINE) df__jobq jobq;
  df__queue workers; /* every worker not yet joined (mutex; only
                       the reactor thread unlinks) */

  /* Lock-free hand-back: the top of the stack of finished jobs. */
  _Alignas(DF__POOL_LINE) _Atomic(df__job *) done;
  /* True while the reactor delivers and will look at `done` again before
   * it stops: a worker that finds the stack empty then needs not wake it. */
  atomic_bool draining;
  atomic_uint exited; /* workers exited and not yet joined */
  atomic_uint_fast64_t wakeups;

  /* Reactor thread only. */
  _Alignas(DF__POOL_LINE) bool closed;
  df__blocks blocks;   /* the jobs' memory */
  unsigned delivering; /* callbacks of the pool on the stack */
  uint64_t submitted;
  uint64_t rejected;
  uint64_t completed;
  uint64_t failed;
  uint64_t cancelled;
  uint64_t abandoned;
  uint64_t threads_started;
  uint64_t thread_failures;
};

/* The function that creates threads; tests replace it to make thread
 * creation fail. Same contract as pthread_create(). */
typedef int (*df__pool_thread_create_fn)(pthread_t *thread,
                                         const pthread_attr_t *attr,
                                         void *(*start)(void *), void *arg);

/* Replaces the thread-creation function; NULL restores pthread_create().
 * Not thread-safe: for tests, between pools. */
void df__pool_set_thread_create_hook(df__pool_thread_create_fn fn);

#endif /* DF_POOL_INTERNAL_H */
