/* A job of the pool and the transitions of its life (job.c). Not
 * installed. */
#ifndef DF_POOL_JOB_H
#define DF_POOL_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "deferred/pool.h"
#include "jobqueue.h"

/* Where a job is; changed under the queue's mutex, which is what makes a
 * cancel and a worker's claim exclusive. */
enum {
  DF__JOB_QUEUED = 0,   /* in the queue */
  DF__JOB_DROPPING = 1, /* taken off the queue by df__job_drop_waiting(),
                           not failed yet */
  DF__JOB_RUNNING = 2   /* claimed by a worker: running, or finished and on
                           its way back to the reactor thread */
};

/* One submission, in its Deferred's block (blocks.c), or in its
 * Deferred's own allocation in debug mode. */
typedef struct df__job {
  df__queue link;       /* in the queue while QUEUED */
  struct df__job *next; /* the completion stack */
  df_pool *pool;
  df_work_fn fn;
  void *arg;
  df_arg_free_fn arg_free;
  df_deferred *d;      /* the pool's reference, dropped at delivery */
  df_result result;    /* written by the worker before it hands it back */
  unsigned char cls;   /* DF__CLASS_HIGH, ... */
  unsigned char state; /* DF__JOB_QUEUED, ... (mutex) */
  bool abandoned;      /* reactor thread: cancelled while running */
  uint64_t trace_id;   /* deferred/trace.h: 0 when not traced */
} df__job;

/* Reactor thread: makes the job and its Deferred and queues it, waking a
 * sleeping worker when the job needs one; \p start_thread is set when no
 * worker sleeps and the pool may grow: the caller then starts a thread
 * (counted in the queue's threads already). The
 * Deferred is already failed when the job was refused (queue full, no
 * memory); NULL only when even that Deferred could not be made. The
 * arguments were checked by the caller. */
df_deferred *df__job_submit(df_pool *p, df_work_fn fn, void *arg,
                            const df_job_options *opts, bool *start_thread);

/* Worker, mutex held: takes the job that goes next, or NULL. */
df__job *df__job_claim_locked(df_pool *p);

/* Worker, no lock held: runs a claimed job's work function. */
void df__job_start(df__job *job);

/* Worker, no lock held: hands a started job's result to the reactor
 * thread. The job must not be touched afterwards. */
void df__job_hand_back(df__job *job);

/* Jobs one wake-up delivers, snapshot after snapshot, before the reactor
 * moves on to its timers and descriptors. */
#define DF__JOB_ROUND_JOBS 1024u

/* Reactor thread: fires the Deferreds of every job handed back so far,
 * up to DF__JOB_ROUND_JOBS (the rest gets a wake-up of its own). */
void df__job_deliver(df_pool *p);

/* Reactor thread: takes every waiting job off the queue; each fails with
 * a failure of \p type and \p message, oldest first, and never runs. */
void df__job_drop_waiting(df_pool *p, const df_error_type *type,
                          const char *message);

#endif /* DF_POOL_JOB_H */
