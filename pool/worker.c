/* The worker threads: the job queue's consumer side, thread start-up and
 * shutdown.
 *
 * One mutex guards the queue (after libuv's threadpool.c). A worker pops a
 * job under the mutex, runs it with no lock held, and hands the result to
 * the reactor through the lock-free completion list (completion.c), so a
 * worker never holds two locks.
 *
 * A worker with nothing to do puts itself on the list of sleepers and waits
 * on a semaphore of its own; whoever wakes it takes it off the list and
 * posts the semaphore after releasing the mutex. Not a condition variable:
 * glibc's pthread_cond_signal() may wait, on a futex, for waiters it woke
 * earlier to leave the condition variable, and on a loaded machine that is
 * the reactor thread waiting for a worker to be scheduled. sem_post() never
 * waits, and a post made before the sleeper waits is not lost.
 *
 * Waking a sleeping thread is the expensive part of a hand-off (a futex call
 * for the waker, a trip through the scheduler for the woken, often at the
 * expense of the reactor's own time slice), so it is done only when needed:
 * - a job is queued: a sleeper is woken only when the queue holds more jobs
 *   than the workers that will look at it soon (awake and not running a
 *   job, including those woken and not yet running). A burst of small
 *   jobs that one worker keeps up with wakes nobody else; a job queued
 *   behind long-running ones wakes a sleeper at once;
 * - a worker takes a job and leaves a backlog: it wakes one more sleeper by
 *   the same rule, so the backlog spreads over the threads without the
 *   reactor thread paying for it;
 * - a worker finds the queue empty while the reactor has at most one job
 *   per thread outstanding (request and reply): it polls the queue for a
 *   few microseconds before it sleeps, one worker at a time, so the next
 *   job, submitted as soon as this one is delivered, needs no wake-up. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "pool_internal.h"

/* How long an idle worker polls the queue before it sleeps: about a round
 * trip through the reactor (the worker's completion wakes the reactor, which
 * fires the Deferred, whose callback submits the next job). */
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

/* The sleeper to wake, mutex held, or NULL: one is asleep, and the queue
 * holds more jobs than the workers that will look at it soon (awake and not
 * running a job: polling, on their way back from the last one, or woken and
 * not yet running). The sleeper is taken off the list here, so no other
 * caller picks it too. */
static df__pool_worker *claim_sleeper_locked(df_pool *p) {
  df__pool_worker *w = p->asleep;
  if (w == NULL || df__pool_nqueued(p) <= p->threads - p->nasleep - p->busy)
    return NULL;
  p->asleep = w->next_asleep;
  p->nasleep--;
  w->next_asleep = NULL;
  return w;
}

df__pool_worker *df__pool_enqueue_locked(df_pool *p, df__pool_job *job) {
  df__pool_link_push_back(&p->queue, &job->link);
  df__pool_add_nqueued(p, 1);
  return claim_sleeper_locked(p);
}

void df__pool_wake(df__pool_worker *w) { sem_post(&w->wake); }

static uint64_t clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Polls the queue length for up to SPIN_NS, mutex not held, when it is
 * worth it: no other worker polls, and the reactor has no more jobs
 * outstanding than there are threads. That is the request-and-reply
 * pattern, where the next job comes as soon as the reactor has delivered
 * this one, and a worker still awake saves a futex call and a trip through
 * the scheduler on each round trip. With many jobs outstanding (a burst, a
 * full pipeline), the next one needs no wake-up anyway, and a poller that
 * grabbed each job the moment it is queued would pull the queue's cache
 * lines back and forth between the reactor and itself for every job.
 *
 * The poller counts as a worker that will look at the queue soon (it is
 * neither idle nor busy), and it does look: it sees the length change, or
 * takes the mutex once its time is up and checks the queue before it
 * sleeps. So a job for which no sleeper was woken is never left behind. */
static void spin_for_job(df_pool *p) {
  bool expected = false;
  if (atomic_load_explicit(&p->outstanding, memory_order_relaxed) >
          p->threads ||
      !atomic_compare_exchange_strong_explicit(&p->spinning, &expected, true,
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

/* Sleeps, mutex held on entry and on return, until the queue has a job or
 * the pool stops. Whoever wakes the worker took it off the list; a worker
 * that finds nothing to do then (another took the job) goes back to sleep. */
static void wait_for_job(df__pool_worker *self) {
  df_pool *p = self->pool;
  while (df__pool_link_empty(&p->queue) && !p->stopping) {
    self->next_asleep = p->asleep;
    p->asleep = self;
    p->nasleep++;
    pthread_mutex_unlock(&p->mutex);
    while (sem_wait(&self->wake) != 0 && errno == EINTR)
      ;
    pthread_mutex_lock(&p->mutex);
  }
}

static void *worker_main(void *arg) {
  df__pool_worker *self = arg;
  df_pool *p = self->pool;
  pthread_mutex_lock(&p->mutex);
  for (;;) {
    if (df__pool_link_empty(&p->queue) && !p->stopping) {
      pthread_mutex_unlock(&p->mutex);
      spin_for_job(p);
      pthread_mutex_lock(&p->mutex);
      wait_for_job(self);
    }
    /* Stopping with an empty queue: DF_POOL_DRAIN has run everything,
     * DF_POOL_CANCEL emptied the queue before asking us to stop. */
    if (df__pool_link_empty(&p->queue))
      break;
    df__pool_link *link = p->queue.next;
    df__pool_link_remove(link); /* self-linked: "running" to the canceller */
    df__pool_sub_nqueued(p, 1);
    p->busy++;
    df__pool_worker *other = claim_sleeper_locked(p); /* a backlog behind */
    pthread_mutex_unlock(&p->mutex);
    if (other != NULL)
      df__pool_wake(other);

    df__pool_job *job = DF__POOL_CONTAINER_OF(link, df__pool_job, link);
    job->result = job->fn(job->arg);
    df__pool_push_done(p, job);

    pthread_mutex_lock(&p->mutex);
    p->busy--;
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
    rc = thread_create(&p->workers[i].thread, NULL, worker_main,
                       &p->workers[i]);
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
  df__pool_worker *sleepers = p->asleep;
  p->asleep = NULL;
  p->nasleep = 0;
  pthread_mutex_unlock(&p->mutex);
  /* Awake workers see `stopping` at their next look at the queue. */
  while (sleepers != NULL) {
    df__pool_worker *next = sleepers->next_asleep;
    df__pool_wake(sleepers);
    sleepers = next;
  }
  for (unsigned i = 0; i < p->nthreads; i++)
    pthread_join(p->workers[i].thread, NULL);
  p->nthreads = 0;
}
