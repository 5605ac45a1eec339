/* The way back: finished jobs travel from the workers to the reactor thread
 * through a lock-free list, and their Deferreds are fired there (C1).
 *
 * Workers push with compare-and-swap onto a stack; the reactor takes the
 * whole stack with one exchange and reverses it, so jobs are delivered in
 * the order they finished. Nothing pops single nodes, so there is no ABA
 * problem.
 *
 * Wake-ups are written only when the reactor would otherwise miss the job:
 * - the worker whose push finds the stack empty wakes the reactor; until the
 *   reactor takes the stack, later pushes ride on that wake-up;
 * - while the reactor delivers, it promises (`draining`) to look at the
 *   stack again before it stops, so a push then writes nothing. Under load
 *   one round delivers several snapshots and one wake-up serves them all.
 * The promise is a store-then-load handshake on both sides (sequentially
 * consistent): the worker pushes, then reads `draining`; the reactor clears
 * `draining`, then reads the stack. At least one of them sees the other, so
 * either the worker writes or the reactor finds the job.
 * The wake-up is sent after the push, with no lock held. */
#include "pool_internal.h"

static void count_wakeup(df_pool *p) {
  atomic_fetch_add_explicit(&p->wakeups, 1, memory_order_relaxed);
}

void df__pool_push_done(df_pool *p, df__pool_job *job) {
  df__pool_job *head = atomic_load_explicit(&p->done, memory_order_relaxed);
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

/* A work function must not return a Deferred: it was made off the reactor
 * thread and nothing could fire it correctly. */
static df_result checked_result(df_result r) {
  if (df_result_kind(r) != DF_DEFERRED)
    return r;
  df_result_free(r);
  return df_fail(df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                "a pool work function returned a Deferred"));
}

/* Fires one finished job's Deferred, or frees the late result of a job
 * cancelled while it ran (S17, S20), or takes back a claimed job that never
 * started. The pool's reference to the Deferred keeps it alive through the
 * fire even if every other one is gone. */
static void deliver(df_pool *p, df__pool_job *job) {
  switch (atomic_load_explicit(&job->state, memory_order_relaxed)) {
  case DF__POOL_CANCELLED: /* failed and counted when cancelled */
    df__pool_job_put(p, job);
    return;
  case DF__POOL_DROPPED: /* a DF_POOL_CANCEL close came before it started */
    df__pool_drop_job(p, job,
                      df_failure_new(&DF_POOL_CLOSED, 0,
                                     "pool closed before the job ran"),
                      false);
    return;
  default:
    break;
  }
  /* Checked first: a Deferred returned by the work fails the job, and is
   * counted as the failure it becomes. */
  df_result r = job->abandoned ? job->result : checked_result(job->result);
  p->completed++;
  df__pool_update_outstanding(p);
  if (df_result_is_failure(r))
    p->failed++;
  if (job->abandoned)
    df_result_free(r);
  else
    df_fire(job->d, r);
  df__pool_job_release_arg(job);
  df_deferred *d = job->d;
  df__pool_job_put(p, job);
  df_unref(d);
}

/* Takes the stack and delivers it, oldest first. Returns the number of
 * jobs delivered. */
static size_t deliver_snapshot(df_pool *p) {
  df__pool_job *stack =
      atomic_exchange_explicit(&p->done, NULL, memory_order_acquire);
  size_t n = 0;
  if (stack == NULL)
    return 0;
  df__pool_job *fifo = NULL;
  while (stack != NULL) {
    df__pool_job *next = stack->next;
    stack->next = fifo;
    fifo = stack;
    stack = next;
  }
  p->delivering++; /* df_pool_free() from a callback must wait */
  while (fifo != NULL) {
    df__pool_job *job = fifo;
    fifo = job->next;
    deliver(p, job);
    n++;
  }
  p->delivering--;
  return n;
}

void df__pool_deliver_done(df_pool *p) { (void)deliver_snapshot(p); }

/* The df_async callback. Snapshot, then dispatch: jobs that finish while
 * callbacks run are taken by the next snapshot, up to DF__POOL_ROUND_JOBS jobs per
 * round; what is left then gets a wake-up of its own, for the next round. */
void df__pool_on_wakeup(void *arg) {
  df_pool *p = arg;
  size_t delivered = 0;
  atomic_store_explicit(&p->draining, true, memory_order_relaxed);
  while (delivered < DF__POOL_ROUND_JOBS) {
    size_t n = deliver_snapshot(p);
    delivered += n;
    if (n > 0)
      continue;
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
