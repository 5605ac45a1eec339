/* The pool's queue of waiting jobs and its sleeping workers, under one
 * mutex. Not installed. Knows nothing of what a job does: jobs are links.
 * See queue.c for how wake-ups are decided. */
#ifndef DF_POOL_QUEUE_H
#define DF_POOL_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "deferred/pool.h" /* DF_POOL_AGING_LIMIT */
#include "mutex.h"

#define DF__CONTAINER_OF(ptr, type, field)                                     \
  ((type *)(void *)((char *)(ptr)-offsetof(type, field)))

/* ---------------------------------------------------------------- links */

/* A circular doubly-linked list with a sentinel head, after libuv's
 * queue.h. A removed node is re-linked to itself, so a node can be unlinked
 * without knowing which list holds it. */
typedef struct df__link {
  struct df__link *next;
  struct df__link *prev;
} df__link;

static inline void df__link_init(df__link *q) {
  q->next = q;
  q->prev = q;
}

static inline bool df__link_empty(const df__link *q) { return q->next == q; }

static inline void df__link_push_back(df__link *head, df__link *q) {
  q->next = head;
  q->prev = head->prev;
  head->prev->next = q;
  head->prev = q;
}

static inline void df__link_remove(df__link *q) {
  q->prev->next = q->next;
  q->next->prev = q->prev;
  df__link_init(q);
}

/* ---------------------------------------------------------------- queue */

/* Classes in the order they are served: index 0 first. */
enum { DF__CLASS_HIGH = 0, DF__CLASS_NORMAL = 1, DF__CLASS_LOW = 2 };
#define DF__CLASSES 3

/* Jobs of other classes that may start while a class waits, before the
 * oldest job of that class goes next (see df__queue_pop_locked()). */
#define DF__AGING_LIMIT DF_POOL_AGING_LIMIT

/* A worker as the queue sees it: something to wake. */
typedef struct df__sleeper {
  atomic_uint posted;       /* 1 once whoever took it off the list woke
                               it; the futex word it sleeps on */
  struct df__sleeper *next; /* in queue->asleep */
  bool listed;              /* on queue->asleep (mutex) */
} df__sleeper;

typedef struct df__queue {
  df__mutex mutex;
  df__link classes[DF__CLASSES]; /* FIFO each */
  size_t length;                 /* jobs waiting to start, every class */
  atomic_uint waiting;           /* bit c set: class c is not empty;
                                    written under the mutex, read without
                                    it by a worker about to sleep */
  unsigned passed[DF__CLASSES];  /* starts of other classes since this
                                    class, waiting, last started one */
  df__sleeper *asleep;           /* idle workers not yet woken, LIFO */
  unsigned nasleep;
  unsigned threads; /* workers alive, or being started */
  unsigned busy;    /* workers running a job */
  bool stopping;    /* workers exit once the queue is empty */
} df__queue;

/* An empty queue: nothing to allocate, nothing to destroy. */
void df__queue_init(df__queue *q);

/* What the thread that queued a job must do so that the job does not wait
 * while a thread could run it. */
typedef struct df__wake {
  df__sleeper *sleeper; /* post it (df__sleeper_post()), or NULL */
  bool start_thread;    /* start a worker: counted in `threads` already */
} df__wake;

/* Queues \p link in class \p cls; \p max_threads bounds the workers the
 * answer may ask to start. Mutex held. */
df__wake df__queue_push_locked(df__queue *q, df__link *link, unsigned cls,
                               unsigned max_threads);

/* Takes the job that goes next, or NULL when none waits. Mutex held. */
df__link *df__queue_pop_locked(df__queue *q);

/* Whether a job waits, read without the mutex: a hint, exact only under
 * it. */
static inline bool df__queue_has_jobs(df__queue *q) {
  return atomic_load_explicit(&q->waiting, memory_order_relaxed) != 0;
}

/* Unlinks a waiting job of class \p cls from the queue. Mutex held. */
void df__queue_remove_locked(df__queue *q, df__link *link, unsigned cls);

/* Moves every waiting job to \p out, in the order they would have started;
 * they still count in `length` until each is removed with
 * df__queue_remove_taken_locked(). Mutex held. */
void df__queue_take_all_locked(df__queue *q, df__link *out);
void df__queue_remove_taken_locked(df__queue *q, df__link *link);

/* A futex word needs no resource: nothing to destroy. */
void df__sleeper_init(df__sleeper *s);
void df__sleeper_post(df__sleeper *s);

/* Sleeps, mutex held on entry and on return, until woken or until
 * \p deadline (CLOCK_MONOTONIC; NULL waits for ever). True when woken;
 * false when the deadline passed first and nobody took \p s off the list:
 * it has then left the list itself. */
bool df__queue_sleep_locked(df__queue *q, df__sleeper *s,
                            const struct timespec *deadline);

/* Takes every sleeper off the list, for the caller to post. Mutex held. */
df__sleeper *df__queue_take_sleepers_locked(df__queue *q);

#endif /* DF_POOL_QUEUE_H */
