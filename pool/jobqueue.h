/* The pool's queue of waiting jobs and its sleeping workers, under one
 * mutex. Not installed. Knows nothing of what a job does: jobs are links
 * (lib/queue.h).
 * See jobqueue.c for how wake-ups are decided. */
#ifndef DF_POOL_JOBQUEUE_H
#define DF_POOL_JOBQUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "deferred/pool.h" /* DF_POOL_AGING_LIMIT */
#include "mutex.h"
#include "queue.h" /* lib/: the links */

/* ---------------------------------------------------------------- queue */

/* Classes in the order they are served: index 0 first. */
enum { DF__CLASS_HIGH = 0, DF__CLASS_NORMAL = 1, DF__CLASS_LOW = 2 };
#define DF__CLASSES 3

/* Jobs of other classes that may start while a class waits, before the
 * oldest job of that class goes next (see df__jobq_pop_locked()). */
#define DF__AGING_LIMIT DF_POOL_AGING_LIMIT

/* A worker as the queue sees it: something to wake. */
typedef struct df__sleeper {
  atomic_uint posted;       /* 1 once whoever took it off the list woke
                               it; the futex word it sleeps on */
  struct df__sleeper *next; /* in jobq->asleep */
  bool listed;              /* on jobq->asleep (mutex) */
} df__sleeper;

typedef struct df__jobq {
  df__mutex mutex;
  df__queue classes[DF__CLASSES]; /* FIFO each */
  size_t length;                  /* jobs waiting to start, every class */
  atomic_uint waiting;            /* bit c set: class c is not empty;
                                    written under the mutex, read without
                                    it by a worker about to sleep */
  unsigned passed[DF__CLASSES];   /* starts of other classes since this
                                    class, waiting, last started one */
  df__sleeper *asleep;            /* idle workers not yet woken, LIFO */
  unsigned nasleep;
  unsigned threads; /* workers alive, or being started */
  unsigned busy;    /* workers running a job */
  bool stopping;    /* workers exit once the queue is empty */
} df__jobq;

/* An empty queue: nothing to allocate, nothing to destroy. */
void df__jobq_init(df__jobq *q);

/* What the thread that queued a job must do so that the job does not wait
 * while a thread could run it. */
typedef struct df__wake {
  df__sleeper *sleeper; /* post it (df__sleeper_post()), or NULL */
  bool start_thread;    /* start a worker: counted in `threads` already */
} df__wake;

/* Queues \p link in class \p cls; \p max_threads bounds the workers the
 * answer may ask to start. Mutex held. */
df__wake df__jobq_push_locked(df__jobq *q, df__queue *link, unsigned cls,
                              unsigned max_threads);

/* Takes the job that goes next, or NULL when none waits. Mutex held. */
df__queue *df__jobq_pop_locked(df__jobq *q);

/* Whether a job waits, read without the mutex: a hint, exact only under
 * it. */
static inline bool df__jobq_has_jobs(df__jobq *q) {
  return atomic_load_explicit(&q->waiting, memory_order_relaxed) != 0;
}

/* Unlinks a waiting job of class \p cls from the queue. Mutex held. */
void df__jobq_remove_locked(df__jobq *q, df__queue *link, unsigned cls);

/* Moves every waiting job to \p out, in the order they would have started;
 * they still count in `length` until each is removed with
 * df__jobq_remove_taken_locked(). Mutex held. */
void df__jobq_take_all_locked(df__jobq *q, df__queue *out);
void df__jobq_remove_taken_locked(df__jobq *q, df__queue *link);

/* A futex word needs no resource: nothing to destroy. */
void df__sleeper_init(df__sleeper *s);
void df__sleeper_post(df__sleeper *s);

/* Sleeps, mutex held on entry and on return, until woken or until
 * \p deadline (CLOCK_MONOTONIC; NULL waits for ever). True when woken;
 * false when the deadline passed first and nobody took \p s off the list:
 * it has then left the list itself. */
bool df__jobq_sleep_locked(df__jobq *q, df__sleeper *s,
                           const struct timespec *deadline);

/* Takes every sleeper off the list, for the caller to post. Mutex held. */
df__sleeper *df__jobq_take_sleepers_locked(df__jobq *q);

#endif /* DF_POOL_JOBQUEUE_H */
