/* A job's life, every transition of it (who makes it, in which function):
 *
 *   queue      reactor  df__job_submit()        a block of a slab, queued
 *   claim      worker   df__job_claim_locked()  QUEUED -> RUNNING (mutex)
 *   start      worker   df__job_start()         the work, no lock held
 *   hand back  worker   df__job_hand_back()     onto the lock-free `done`
 *   deliver    reactor  df__job_deliver()       the Deferred fires
 *   take back  reactor  cancel_job()            QUEUED or DROPPING: never runs
 *   abandon    reactor  cancel_job()            RUNNING: fails now, the late
 *                                               result is freed on delivery
 *   drop       reactor  df__job_drop_waiting()  QUEUED -> DROPPING -> failed
 *   recycle    reactor  give_back() (blocks.c)  the Deferred's last reference
 *                                               went: the block is its slab's
 *
 * The job lives in its Deferred's block, carved out of a slab (blocks.c),
 * so most submissions allocate nothing; the pool's reference to the
 * Deferred keeps the job alive until its Deferred has fired, and the
 * program's references keep it after that.
 *
 * A cancel and a claim both decide under the queue's mutex, so a job either
 * starts or is taken back, never both. Every Deferred is fired exactly once:
 * by delivery, take back or drop; an abandoned job's delivery only frees its
 * late result.
 *
 * The way back. Workers push finished jobs with compare-and-swap onto a
 * stack; the reactor takes the whole stack with one exchange and reverses
 * it, so jobs are delivered in the order they finished. Nothing pops single
 * nodes, so there is no ABA problem. Wake-ups are written only when the
 * reactor would otherwise miss a job: the push that finds the stack empty
 * wakes the reactor, and later pushes ride on that wake-up; while the
 * reactor delivers it promises (`draining`) to look at the stack again
 * before it stops, so a push then writes nothing. The promise is a
 * store-then-load handshake on both sides (sequentially consistent): the
 * worker pushes, then reads `draining`; the reactor clears `draining`, then
 * reads the stack. At least one of them sees the other. */
#include <sched.h>

#include "pool_internal.h"
#include "trace.h" /* lib/: the jobs of a traced reactor */

/* ---------------------------------------------------------------- endings */

/* Ends a job that never ran: its Deferred fails with \p f, then its
 * argument is released. */
static void end_unstarted(df_pool *p, df__job *job, df_failure *f) {
  df_deferred *d = job->d;
  df_arg_free_fn arg_free = job->arg_free;
  void *arg = job->arg;
  p->cancelled++;
  p->delivering++; /* the callbacks below must not free the pool */
  df_errback(d, f);
  if (arg_free != NULL)
    arg_free(arg);
  p->delivering--;
  df_unref(d);
}

/* A work function must not return a Deferred: it was made off the reactor
 * thread and nothing could fire it correctly. */
static df_result checked_result(df_result r) {
  if (df_result_kind(r) != DF_DEFERRED)
    return r;
  df_result_free(r);
  return df_fail(df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                "a pool work function returned a Deferred"));
}

/* df_fire(), and the span of its callbacks when the job is traced. */
static void fire_traced(df_pool *p, df__job *job, df_result r) {
  uint64_t id = job->trace_id; /* the callbacks may release the job */
  uint64_t start = id != 0 ? df__trace_clock() : 0;
  df_fire(job->d, r);
  if (id != 0)
    df__trace_span(p->trace, DF__TRACE_JOB_FIRE, start, id, 0);
}

/* Fires a finished job's Deferred, or frees the late result of one
 * cancelled while it ran (S17, S20). The pool's reference keeps the
 * Deferred alive through the fire even if every other one is gone. */
static void deliver_one(df_pool *p, df__job *job) {
  df_deferred *d = job->d;
  df_arg_free_fn arg_free = job->arg_free;
  void *arg = job->arg;
  df_result r = job->abandoned ? job->result : checked_result(job->result);
  bool abandoned = job->abandoned;
  p->completed++;
  if (df_result_is_failure(r))
    p->failed++;
  if (abandoned)
    df_result_free(r);
  else
    fire_traced(p, job, r);
  if (arg_free != NULL)
    arg_free(arg);
  df_unref(d);
}

/* ---------------------------------------------------------------- cancel */

/* The canceller of every Deferred of the pool (S15). */
static void cancel_job(df_deferred *d, void *arg) {
  df__job *job = arg;
  df_pool *p = job->pool;
  df__mutex_lock(&p->jobq.mutex);
  bool waiting = job->state != DF__JOB_RUNNING;
  if (job->state == DF__JOB_QUEUED)
    df__jobq_remove_locked(&p->jobq, &job->link, job->cls);
  else if (job->state == DF__JOB_DROPPING)
    df__jobq_remove_taken_locked(&p->jobq, &job->link);
  df__mutex_unlock(&p->jobq.mutex);

  if (waiting) {
    end_unstarted(
        p, job,
        df_failure_new(&DF_CANCELLED, 0, "pool job cancelled before it ran"));
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

/* ---------------------------------------------------------------- queue */

/* A job refused at once: its Deferred fails with \p f, its argument is
 * released (last: the destructor is user code and may free the pool). */
static df_deferred *refuse(df_pool *p, df_deferred *d, void *arg,
                           df_arg_free_fn arg_free, df_failure *f) {
  p->rejected++;
  if (d != NULL)
    df_errback(d, f);
  else
    d = df_fail_now(f);
  if (arg_free != NULL)
    arg_free(arg);
  return d;
}

/* The queue's class of each df_job_priority (checked by the caller). */
static const unsigned char class_of[] = {
    [DF_PRIORITY_NORMAL] = DF__CLASS_NORMAL,
    [DF_PRIORITY_HIGH] = DF__CLASS_HIGH,
    [DF_PRIORITY_LOW] = DF__CLASS_LOW,
};

/* A Deferred with the job in its block (blocks.c). Debug mode records
 * where each Deferred was made, which needs the core's own allocation. */
static df_deferred *new_job(df_pool *p, df__job **job) {
  if (DF__UNLIKELY(df_get_debugging()))
    return df_deferred_new_with_storage(cancel_job, sizeof **job, (void **)job);
  return df__blocks_new_deferred(&p->blocks, cancel_job, (void **)job);
}

df_deferred *df__job_submit(df_pool *p, df_work_fn fn, void *arg,
                            const df_job_options *opts, bool *start_thread) {
  df_arg_free_fn arg_free = opts->arg_free;
  uint64_t traced_from = df__trace_on(p->trace) ? df__trace_clock() : 0;
  *start_thread = false;
  df__job *job;
  df_deferred *d = new_job(p, &job);
  if (d == NULL)
    return refuse(p, NULL, arg, arg_free,
                  df_failure_new(&DF_NO_MEMORY, DF_ENOMEM,
                                 "df_defer_to_thread: out of memory"));
  job->pool = p;
  job->fn = fn;
  job->arg = arg;
  job->arg_free = arg_free;
  job->d = d;
  job->cls = class_of[opts->priority];
  job->state = DF__JOB_QUEUED;
  job->abandoned = false;
  job->trace_id = traced_from != 0 ? df__trace_new_id() : 0;

  df__mutex_lock(&p->jobq.mutex);
  if (p->jobq.length >= p->max_queued) {
    df__mutex_unlock(&p->jobq.mutex);
    return refuse(p, d, arg, arg_free,
                  df_failure_new(&DF_POOL_FULL, 0,
                                 "df_defer_to_thread: the queue is full "
                                 "(%zu jobs waiting)",
                                 p->max_queued));
  }
  df_ref(d); /* the job's reference, dropped once the pool fired d */
  df__wake wake =
      df__jobq_push_locked(&p->jobq, &job->link, job->cls, p->max_threads);
  /* Posted under the mutex, as libuv signals: the woken worker then finds
   * the mutex free or about to be, and this thread goes on queueing while
   * it wakes, instead of handing it one job at a time. */
  if (wake.sleeper != NULL)
    df__sleeper_post(wake.sleeper);
  df__mutex_unlock(&p->jobq.mutex);
  *start_thread = wake.start_thread;
  p->submitted++;
  if (job->trace_id != 0)
    df__trace_span(p->trace, DF__TRACE_JOB_SUBMIT, traced_from, job->trace_id,
                   (uint64_t)opts->priority);
  return d;
}

/* ---------------------------------------------------------------- workers */

df__job *df__job_claim_locked(df_pool *p) {
  df__queue *link = df__jobq_pop_locked(&p->jobq);
  if (link == NULL)
    return NULL;
  df__job *job = DF__QUEUE_DATA(link, df__job, link);
  job->state = DF__JOB_RUNNING;
  return job;
}

static void count_wakeup(df_pool *p) {
  atomic_fetch_add_explicit(&p->wakeups, 1, memory_order_relaxed);
}

static void hand_back(df_pool *p, df__job *job) {
  df__job *head = atomic_load_explicit(&p->done, memory_order_relaxed);
  do {
    job->next = head;
  } while (!atomic_compare_exchange_weak_explicit(
      &p->done, &head, job, memory_order_seq_cst, memory_order_relaxed));
  /* From here on the job belongs to the reactor thread. */
  if (head != NULL || atomic_load_explicit(&p->draining, memory_order_seq_cst))
    return;
  if (df_async_send(p->async) == 1)
    count_wakeup(p);
}

void df__job_start(df__job *job) {
  uint64_t id = job->trace_id;
  uint64_t start = id != 0 ? df__trace_clock() : 0;
  job->result = job->fn(job->arg);
  if (id != 0)
    df__trace_span(job->pool->trace, DF__TRACE_JOB_RUN, start, id, 0);
}

void df__job_hand_back(df__job *job) {
  df_pool *p = job->pool; /* read first: the job is the reactor's after */
  hand_back(p, job);
}

/* ---------------------------------------------------------------- delivery */

/* Takes the stack and delivers it, oldest first. Returns the number of
 * jobs delivered. */
static size_t deliver_snapshot(df_pool *p) {
  df__job *stack =
      atomic_exchange_explicit(&p->done, NULL, memory_order_acquire);
  if (stack == NULL)
    return 0;
  df__job *fifo = NULL;
  while (stack != NULL) {
    df__job *next = stack->next;
    stack->next = fifo;
    fifo = stack;
    stack = next;
  }
  size_t n = 0;
  p->delivering++; /* df_pool_free() from a callback must wait */
  while (fifo != NULL) {
    df__job *job = fifo;
    fifo = job->next;
    deliver_one(p, job);
    n++;
  }
  p->delivering--;
  return n;
}

/* Snapshot, then dispatch: jobs that finish while callbacks run are taken
 * by the next snapshot, up to DF__JOB_ROUND_JOBS per call; what is left then
 * gets a wake-up of its own, for the next round. */
void df__job_deliver(df_pool *p) {
  size_t delivered = 0;
  bool yielded = false;
  atomic_store_explicit(&p->draining, true, memory_order_relaxed);
  while (delivered < DF__JOB_ROUND_JOBS) {
    size_t n = deliver_snapshot(p);
    delivered += n;
    if (n > 0) {
      yielded = false;
      continue;
    }
    /* Jobs are out (the callbacks just run submitted them, typically):
     * give the workers the core once before leaving. A short job then
     * comes back within this round, instead of through a wake-up of the
     * reactor's poll each, a round trip of system calls and context
     * switches that would pace the pool in request-reply traffic. */
    if (!yielded && p->submitted > p->completed + p->cancelled) {
      yielded = true;
      sched_yield();
      continue;
    }
    atomic_store_explicit(&p->draining, false, memory_order_seq_cst);
    if (atomic_load_explicit(&p->done, memory_order_seq_cst) == NULL)
      return; /* a later push sees `draining` cleared and wakes us */
    atomic_store_explicit(&p->draining, true, memory_order_relaxed);
  }
  atomic_store_explicit(&p->draining, false, memory_order_seq_cst);
  if (atomic_load_explicit(&p->done, memory_order_seq_cst) != NULL &&
      df_async_send(p->async) == 1)
    count_wakeup(p);
}

/* ---------------------------------------------------------------- drop */

/* The jobs stay counted as waiting until each has failed, so the stats add
 * up while their callbacks run. A callback run here may cancel one of the
 * later ones: the canceller finds it DROPPING, unlinks it under the mutex
 * and fails it with DF_CANCELLED instead, so each still fires once. */
void df__job_drop_waiting(df_pool *p, const df_error_type *type,
                          const char *message) {
  df__queue dropped;
  df__queue_init(&dropped);
  df__mutex_lock(&p->jobq.mutex);
  df__jobq_take_all_locked(&p->jobq, &dropped);
  for (df__queue *at = df__queue_head(&dropped); at != &dropped; at = at->next)
    DF__QUEUE_DATA(at, df__job, link)->state = DF__JOB_DROPPING;
  df__mutex_unlock(&p->jobq.mutex);
  for (;;) {
    df__mutex_lock(&p->jobq.mutex);
    if (df__queue_empty(&dropped)) {
      df__mutex_unlock(&p->jobq.mutex);
      return;
    }
    df__queue *link = df__queue_head(&dropped);
    df__jobq_remove_taken_locked(&p->jobq, link);
    df__mutex_unlock(&p->jobq.mutex);
    df__job *job = DF__QUEUE_DATA(link, df__job, link);
    end_unstarted(p, job, df_failure_new(type, 0, "%s", message));
  }
}
