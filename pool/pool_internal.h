/* Internal declarations of the pool: the pool and job structures, the
 * intrusive queue, and the hooks tests use. Not installed.
 *
 * Who touches what:
 * - The reactor thread owns the pool's bookkeeping (counters, the job-node
 *   cache, the closing flag) and every Deferred.
 * - `mutex` guards the queue, its length and the list of sleeping workers;
 *   workers and the reactor take it. It is the only lock of the pool, so
 *   there is no lock order to respect. A sleeping worker waits on a
 *   semaphore of its own, posted by whoever takes it off the list.
 * - A worker claims a batch of jobs off the queue under the mutex and keeps
 *   them in a private list. Whether a claimed job runs is decided by one
 *   compare-and-swap on the job's state, which the worker (to start or drop
 *   it) and the canceller on the reactor thread race for: exactly one wins.
 * - The completion list is lock-free: workers push with compare-and-swap,
 *   the reactor takes the whole list with one exchange.
 */
#ifndef DF_POOL_INTERNAL_H
#define DF_POOL_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deferred/pool.h"

#define DF__POOL_CONTAINER_OF(ptr, type, field)                                \
  ((type *)(void *)((char *)(ptr)-offsetof(type, field)))

/* ---------------------------------------------------------------- queue */

/* A circular doubly-linked list with a sentinel head, after libuv's
 * queue.h. A removed node is re-linked to itself, so "self-linked" means
 * "not queued": the canceller relies on that to tell a queued job from one a
 * worker has taken. */
typedef struct df__pool_link {
  struct df__pool_link *next;
  struct df__pool_link *prev;
} df__pool_link;

static inline void df__pool_link_init(df__pool_link *q) {
  q->next = q;
  q->prev = q;
}

static inline bool df__pool_link_empty(const df__pool_link *q) {
  return q->next == q;
}

static inline void df__pool_link_push_back(df__pool_link *head,
                                           df__pool_link *q) {
  q->next = head;
  q->prev = head->prev;
  head->prev->next = q;
  head->prev = q;
}

static inline void df__pool_link_remove(df__pool_link *q) {
  q->prev->next = q->next;
  q->next->prev = q->prev;
  df__pool_link_init(q);
}

/* Moves every node of `from` to the end of `to` in O(1); `from` ends empty. */
static inline void df__pool_link_splice(df__pool_link *to,
                                        df__pool_link *from) {
  if (df__pool_link_empty(from))
    return;
  from->next->prev = to->prev;
  to->prev->next = from->next;
  from->prev->next = to;
  to->prev = from->prev;
  df__pool_link_init(from);
}

/* ---------------------------------------------------------------- job */

/* Where a job is. QUEUED -> CLAIMED happens under `mutex`; the ways out of
 * CLAIMED are compare-and-swaps, so a job claimed by a worker either starts
 * (RUNNING) or is taken back (CANCELLED by the canceller, DROPPED by the
 * worker during a DF_POOL_CANCEL close), never both. */
enum {
  DF__POOL_QUEUED = 0,    /* in pool->queue */
  DF__POOL_CLAIMED = 1,   /* in a worker's batch, not started */
  DF__POOL_RUNNING = 2,   /* its work function started (or returned) */
  DF__POOL_CANCELLED = 3, /* cancelled while claimed: never runs; the
                             reactor already failed it, released its
                             argument and counted it; the worker only hands
                             the node back */
  DF__POOL_DROPPED = 4    /* dropped while claimed by a DF_POOL_CANCEL
                             close: never runs; the reactor fails it with
                             DF_POOL_CLOSED when the node comes back */
};

/* One submission. The only allocation the pool makes per job, and usually
 * not even that: delivered nodes go to a cache the reactor reuses. */
typedef struct df__pool_job {
  df__pool_link link;            /* in pool->queue while queued (mutex) */
  struct df__pool_job *next;     /* a worker's batch, the completion list,
                                    then the node cache */
  df_pool *pool;
  df_work_fn fn;
  void *arg;
  df_arg_free_fn arg_free;
  df_deferred *d;                /* the pool's reference, fired on delivery */
  df_result result;              /* written by the worker before it pushes */
  struct df__pool_worker *worker; /* the claimer (set under `mutex`) */
  atomic_int state;              /* DF__POOL_QUEUED, ... */
  bool abandoned;                /* reactor only: cancelled while running */
} df__pool_job;

/* ---------------------------------------------------------------- pool */

/* Fields are grouped by who writes them, one group per cache line pair, so
 * that the reactor's bookkeeping and a worker polling the queue do not slow
 * each other down by sharing a line (the pool is allocated aligned). */
#define DF__POOL_LINE 128

/* The most jobs a worker claims at a time. */
#define DF__POOL_BATCH_MAX 32u

/* Allocated aligned, one per line pair: a worker's `pending` is written for
 * each job it starts and should not share a line with another worker's. */
typedef struct df__pool_worker {
  _Alignas(DF__POOL_LINE) pthread_t thread;
  df_pool *pool;
  sem_t wake;                          /* posted to end its sleep */
  struct df__pool_worker *next_asleep; /* in pool->asleep (mutex) */
  /* Jobs of its batch still CLAIMED: raised under `mutex` when it claims,
   * lowered by whoever wins a job's way out of CLAIMED (the worker, or the
   * canceller). Queued jobs are pool->nqueued plus these. */
  atomic_size_t pending;
} df__pool_worker;

struct df_pool {
  /* Set by df_pool_new(), then only read, by every thread. */
  _Alignas(DF__POOL_LINE) df_reactor *reactor;
  df_async *async;                 /* wakes the reactor for completions */
  size_t max_queued;
  df__pool_worker *workers;
  unsigned threads;                /* threads asked for */
  /* Set once by a DF_POOL_CANCEL close: workers drop their claimed jobs
   * instead of starting them. */
  atomic_bool drop_claimed;

  /* Shared with the workers, under `mutex`. */
  _Alignas(DF__POOL_LINE) pthread_mutex_t mutex;
  df__pool_link queue;             /* jobs waiting for a worker, FIFO */
  atomic_size_t nqueued;           /* written under `mutex`; the spinning
                                      worker reads it without the lock */
  df__pool_worker *asleep;         /* sleeping workers not yet woken, LIFO */
  unsigned nasleep;
  unsigned busy;                   /* workers running a job */
  bool stopping;                   /* workers exit once the queue is empty */
  atomic_bool spinning;            /* one worker at a time polls nqueued */

  /* Lock-free: the top of a stack of completed jobs (newest first). */
  _Alignas(DF__POOL_LINE) _Atomic(df__pool_job *) done;
  /* True while the reactor delivers and will look at `done` again before
   * it stops: a worker that finds the stack empty then needs not wake it. */
  atomic_bool draining;
  atomic_uint_fast64_t wakeups;

  /* Written by the reactor, read by a worker about to poll the queue:
   * jobs accepted and not yet delivered or dropped. */
  _Alignas(DF__POOL_LINE) atomic_size_t outstanding;

  /* Reactor thread only. */
  _Alignas(DF__POOL_LINE) unsigned nthreads; /* started, not yet joined */
  bool closed;
  unsigned delivering;             /* depth of delivery rounds on the stack */
  df__pool_job *cache;             /* free job nodes */
  size_t ncached;
  size_t cache_max;
  uint64_t submitted;
  uint64_t rejected;
  uint64_t completed;
  uint64_t failed;
  uint64_t cancelled;
  uint64_t abandoned;
};

/* The queue length: changed under `mutex` only, read without it by the
 * spinning worker, so relaxed accesses suffice (the mutex orders the queue
 * itself). */
static inline size_t df__pool_nqueued(df_pool *p) {
  return atomic_load_explicit(&p->nqueued, memory_order_relaxed);
}

static inline void df__pool_add_nqueued(df_pool *p, size_t delta) {
  atomic_store_explicit(&p->nqueued, df__pool_nqueued(p) + delta,
                        memory_order_relaxed);
}

static inline void df__pool_sub_nqueued(df_pool *p, size_t delta) {
  atomic_store_explicit(&p->nqueued, df__pool_nqueued(p) - delta,
                        memory_order_relaxed);
}

/* Reactor side: publishes submitted - completed - cancelled for the
 * workers (see spin_for_job() in worker.c). */
static inline void df__pool_update_outstanding(df_pool *p) {
  atomic_store_explicit(&p->outstanding,
                        (size_t)(p->submitted - p->completed - p->cancelled),
                        memory_order_relaxed);
}

/* ---------------------------------------------------------------- worker.c */

/* Jobs not started: in the queue or claimed by a worker. Mutex held, so
 * that no claim moves jobs between the two counts meanwhile. */
size_t df__pool_queued_locked(df_pool *p);

/* Starts `n` workers. On failure, stops and joins the ones started and
 * returns the negative errno of pthread_create(). */
int df__pool_start_workers(df_pool *p, unsigned n);

/* Wakes every worker to exit once the queue is empty, and joins them. */
void df__pool_join_workers(df_pool *p);

/* Queues a job (mutex held by the caller) and returns the sleeping worker
 * to wake once the mutex is released, or NULL. */
df__pool_worker *df__pool_enqueue_locked(df_pool *p, df__pool_job *job);

/* Wakes a worker returned by df__pool_enqueue_locked(); never blocks. */
void df__pool_wake(df__pool_worker *w);

/* The function that creates threads; tests replace it to make thread
 * creation fail. Same contract as pthread_create(). */
typedef int (*df__pool_thread_create_fn)(pthread_t *thread,
                                         const pthread_attr_t *attr,
                                         void *(*start)(void *), void *arg);

/* Replaces the thread-creation function; NULL restores pthread_create().
 * Not thread-safe: for tests, between pools. */
void df__pool_set_thread_create_hook(df__pool_thread_create_fn fn);

/* ---------------------------------------------------------------- completion.c */

/* Jobs one wake-up may deliver, snapshot after snapshot, before the reactor
 * moves on to its other work (timers, fds): bounds a round while workers
 * keep finishing jobs as fast as it delivers them. */
#define DF__POOL_ROUND_JOBS 1024

/* Worker side: hands a finished job to the reactor (lock-free) and wakes it
 * when the list was empty. The job must not be touched afterwards. */
void df__pool_push_done(df_pool *p, df__pool_job *job);

/* Reactor side: the df_async callback; delivers every completed job. */
void df__pool_on_wakeup(void *arg);

/* Reactor side: takes the completion list and delivers it, oldest first. */
void df__pool_deliver_done(df_pool *p);

/* ---------------------------------------------------------------- submit.c */

/* Reactor side: a job node from the cache or the allocator; NULL when
 * memory ran out. */
df__pool_job *df__pool_job_get(df_pool *p);

/* Reactor side: gives a node back to the cache (or frees it). */
void df__pool_job_put(df_pool *p, df__pool_job *job);

/* The most nodes the cache keeps for a pool of that configuration. */
size_t df__pool_cache_max(size_t max_queued, unsigned threads);

/* Reactor side: frees every cached node. */
void df__pool_job_cache_clear(df_pool *p);

/* Reactor side: calls the job's arg_free, once. */
void df__pool_job_release_arg(df__pool_job *job);

/* Reactor side: fails a job that never ran with \p f (reference taken),
 * counts it as cancelled and releases its argument; and its node, unless
 * \p keep_node (a worker still holds it and will hand it back). */
void df__pool_drop_job(df_pool *p, df__pool_job *job, df_failure *f,
                       bool keep_node);

#endif /* DF_POOL_INTERNAL_H */
