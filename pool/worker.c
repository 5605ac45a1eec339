/* The worker threads: the job queue's consumer side, thread start-up and
 * shutdown.
 *
 * One mutex and one condition variable guard the queue (after libuv's
 * threadpool.c). A worker pops a job under the mutex, runs it with no lock
 * held, and hands the result to the reactor through the lock-free completion
 * list (completion.c), so a worker never holds two locks.
 *
 * Waking a sleeping thread is the expensive part of a hand-off (a futex call
 * for the waker, a trip through the scheduler for the woken), so it is done
 * only when needed:
 * - a worker that finds the queue empty first polls it for a few
 *   microseconds, without the lock, before it sleeps. At most one worker
 *   polls at a time, so an idle pool burns at most one core for that long.
 *   Jobs submitted back to back (a burst, or the jobs that a batch of
 *   callbacks submits) are then picked up with no wake-up at all;
 * - the submitter signals only when no worker polls and a worker sleeps
 *   that no signal is already on its way to;
 * - a worker that takes a job and leaves others queued wakes one more
 *   sleeper the same way, so a backlog spreads over the threads without the
 *   reactor thread paying for it. */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <time.h>

#include "pool_internal.h"

/* How long an idle worker polls the queue before it sleeps. Long enough to
 * bridge the gaps between jobs that a busy reactor submits (a burst, the
 * callbacks of a batch of completions); short enough that the poller does
 * not keep the pool in step with the reactor one job at a time, which costs
 * a wake-up per handful of jobs (measured with deferred-bench pool: 10 us
 * beat 0, 20 and 30 us on throughput and wake-ups per job). */
#define SPIN_NS 10000u
/* Polls between two readings of the clock. */
#define SPIN_CHECK_EVERY 16u

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define CPU_RELAX() ((void)0)
#endif

static df__pool_thread_create_fn thread_create = pthread_create;

void df__pool_set_thread_create_hook(df__pool_thread_create_fn fn) {
  thread_create = fn != NULL ? fn : pthread_create;
}

/* Whether a sleeping worker should be signalled, mutex held: one is asleep
 * with no signal on its way, and no worker is polling (that one will see the
 * job). Counts the signal as sent. */
static bool claim_signal_locked(df_pool *p) {
  if (p->idle > p->signalled &&
      !atomic_load_explicit(&p->spinning, memory_order_relaxed)) {
    p->signalled++;
    return true;
  }
  return false;
}

bool df__pool_enqueue_locked(df_pool *p, df__pool_job *job) {
  df__pool_link_push_back(&p->queue, &job->link);
  df__pool_add_nqueued(p, 1);
  return claim_signal_locked(p);
}

void df__pool_signal_worker(df_pool *p) { pthread_cond_signal(&p->cond); }

static uint64_t clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Polls the queue length for up to SPIN_NS, mutex not held, unless another
 * worker polls already. Lost wake-ups are impossible: the submitter reads
 * `spinning` under the mutex after queueing, and the poller clears it before
 * it takes the mutex to look at the queue and sleep, so either the submitter
 * sees the flag cleared and signals, or the poller finds the job. */
static void spin_for_job(df_pool *p) {
  bool expected = false;
  if (!atomic_compare_exchange_strong_explicit(&p->spinning, &expected, true,
                                               memory_order_relaxed,
                                               memory_order_relaxed))
    return;
  uint64_t deadline = 0;
  for (unsigned i = 0; df__pool_nqueued(p) == 0; i++) {
    if (i % SPIN_CHECK_EVERY == 0) {
      uint64_t now = clock_ns();
      if (deadline == 0)
        deadline = now + SPIN_NS;
      else if (now >= deadline)
        break;
    }
    CPU_RELAX();
  }
  atomic_store_explicit(&p->spinning, false, memory_order_relaxed);
}

/* Waits, mutex held, until the queue has a job or the pool stops. Every
 * return from the wait consumes one pending signal, spurious ones included:
 * `signalled` may then undercount, which costs an extra signal later but
 * never loses one. */
static void wait_for_job(df_pool *p) {
  while (df__pool_link_empty(&p->queue) && !p->stopping) {
    p->idle++;
    pthread_cond_wait(&p->cond, &p->mutex);
    p->idle--;
    if (p->signalled > 0)
      p->signalled--;
  }
}

static void *worker_main(void *arg) {
  df_pool *p = arg;
  pthread_mutex_lock(&p->mutex);
  for (;;) {
    if (df__pool_link_empty(&p->queue) && !p->stopping) {
      pthread_mutex_unlock(&p->mutex);
      spin_for_job(p);
      pthread_mutex_lock(&p->mutex);
      wait_for_job(p);
    }
    /* Stopping with an empty queue: DF_POOL_DRAIN has run everything,
     * DF_POOL_CANCEL emptied the queue before asking us to stop. */
    if (df__pool_link_empty(&p->queue))
      break;
    df__pool_link *link = p->queue.next;
    df__pool_link_remove(link); /* self-linked: "running" to the canceller */
    df__pool_sub_nqueued(p, 1);
    bool wake_other = !df__pool_link_empty(&p->queue) && claim_signal_locked(p);
    pthread_mutex_unlock(&p->mutex);
    if (wake_other)
      df__pool_signal_worker(p);

    df__pool_job *job = DF__POOL_CONTAINER_OF(link, df__pool_job, link);
    job->result = job->fn(job->arg);
    df__pool_push_done(p, job);

    pthread_mutex_lock(&p->mutex);
  }
  pthread_mutex_unlock(&p->mutex);
  return NULL;
}

/* Workers take asynchronous signals away from the application's threads
 * otherwise; faults (SEGV, BUS, FPE, ILL, TRAP, ABRT, SYS) stay deliverable
 * so that crashes are still reported where they happen. */
static void block_async_signals(sigset_t *old) {
  sigset_t set;
  sigfillset(&set);
  sigdelset(&set, SIGSEGV);
  sigdelset(&set, SIGBUS);
  sigdelset(&set, SIGFPE);
  sigdelset(&set, SIGILL);
  sigdelset(&set, SIGTRAP);
  sigdelset(&set, SIGABRT);
  sigdelset(&set, SIGSYS);
  pthread_sigmask(SIG_SETMASK, &set, old);
}

int df__pool_start_workers(df_pool *p, unsigned n) {
  sigset_t old;
  block_async_signals(&old); /* inherited by the new threads */
  int rc = 0;
  for (unsigned i = 0; i < n; i++) {
    rc = thread_create(&p->workers[i].thread, NULL, worker_main, p);
    if (rc != 0)
      break;
    p->nthreads++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    df__pool_join_workers(p);
    return rc > 0 ? -rc : DF_EAGAIN;
  }
  return 0;
}

void df__pool_join_workers(df_pool *p) {
  pthread_mutex_lock(&p->mutex);
  p->stopping = true;
  pthread_mutex_unlock(&p->mutex);
  pthread_cond_broadcast(&p->cond);
  for (unsigned i = 0; i < p->nthreads; i++)
    pthread_join(p->workers[i].thread, NULL);
  p->nthreads = 0;
}
