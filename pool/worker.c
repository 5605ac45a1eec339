/* The worker threads: the job queue's consumer side, thread start-up and
 * shutdown.
 *
 * One mutex guards the queue (after libuv's threadpool.c). A worker claims
 * a batch of jobs under the mutex (one job when there are few, up to
 * DF__POOL_BATCH_MAX off a long queue), runs them one by one with no lock
 * held, and hands each result to the reactor through the lock-free
 * completion list (completion.c), so a worker never holds two locks. A
 * claimed job not started yet still counts as queued, and cancelling it
 * still means it never runs: see run_batch().
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
 * - a job is queued: a sleeper is woken only when no worker will look at
 *   the queue soon (awake and not running a job, including those woken
 *   and not yet running). A burst of small jobs wakes one worker from the
 *   reactor thread at most; a job queued behind long-running ones wakes a
 *   sleeper at once;
 * - a worker claims jobs and leaves a backlog: it wakes one more sleeper
 *   when the queue holds more jobs than the workers that will look at it
 *   soon, so the backlog spreads over the threads without the reactor
 *   thread paying for it;
 * - a worker finds the queue empty while jobs are outstanding (accepted and
 *   not delivered): it polls the queue for a few microseconds before it
 *   sleeps, one worker at a time, so the next job, which the reactor
 *   typically submits as it delivers these, needs no wake-up. */
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

/* The reactor thread's share of the waking: only when no worker would look
 * at the queue soon. A worker that will (polling, on its way back, or woken
 * and not yet running) wakes the next one itself if it leaves a backlog
 * behind, so the reactor thread, which the pool's throughput hangs on,
 * does not pay a futex call per job when short jobs keep draining the
 * queue and the workers keep falling asleep. */
df__pool_worker *df__pool_enqueue_locked(df_pool *p, df__pool_job *job) {
  df__pool_link_push_back(&p->queue, &job->link);
  df__pool_add_nqueued(p, 1);
  if (p->threads - p->nasleep - p->busy > 0)
    return NULL;
  return claim_sleeper_locked(p);
}

void df__pool_wake(df__pool_worker *w) { sem_post(&w->wake); }

static uint64_t clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Polls the queue length for up to SPIN_NS, mutex not held, when it is
 * worth it: no other worker polls, and jobs are outstanding. Their
 * deliveries are what makes the reactor submit again, in request and reply
 * (the next job comes as soon as this one is delivered) as in a pipeline
 * (each completion refills it): a worker still awake then saves a futex
 * call on each side and a trip through the scheduler. That holds under load
 * too: short jobs drain the queue faster than the reactor fills it, so
 * without the poll the workers would sleep and be woken again for nearly
 * every job. The poller reads the queue length only, and claims a batch
 * once it sees jobs (claim_batch_locked()). With nothing outstanding the
 * pool is idle and the worker sleeps at once.
 *
 * The poller counts as a worker that will look at the queue soon (it is
 * neither idle nor busy), and it does look: it sees the length change, or
 * takes the mutex once its time is up and checks the queue before it
 * sleeps. So a job for which no sleeper was woken is never left behind. */
static void spin_for_job(df_pool *p) {
  bool expected = false;
  if (atomic_load_explicit(&p->outstanding, memory_order_relaxed) == 0 ||
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

size_t df__pool_queued_locked(df_pool *p) {
  size_t n = df__pool_nqueued(p);
  for (unsigned i = 0; i < p->threads; i++)
    n += atomic_load_explicit(&p->workers[i].pending, memory_order_relaxed);
  return n;
}

/* Takes the jobs at the head of the queue, mutex held, queue not empty:
 * the queue's fair share of the workers that will look at it soon (awake
 * and not running a batch, this one included), at most DF__POOL_BATCH_MAX.
 * A long queue is then taken in a few locks instead of one per job, while
 * jobs that the workers can take one each still go one each. Returns the
 * batch, oldest first, linked through `next`. */
static df__pool_job *claim_batch_locked(df__pool_worker *self) {
  df_pool *p = self->pool;
  unsigned awake = p->threads - p->nasleep - p->busy;
  size_t queued = df__pool_nqueued(p);
  size_t n = awake > 1 ? (queued + awake - 1) / awake : queued;
  if (n > DF__POOL_BATCH_MAX)
    n = DF__POOL_BATCH_MAX;
  df__pool_job *first = NULL;
  df__pool_job **tail = &first;
  size_t taken = 0;
  while (taken < n && !df__pool_link_empty(&p->queue)) {
    df__pool_link *link = p->queue.next;
    df__pool_link_remove(link); /* self-linked: "claimed" to the canceller */
    df__pool_job *job = DF__POOL_CONTAINER_OF(link, df__pool_job, link);
    job->worker = self;
    atomic_store_explicit(&job->state, DF__POOL_CLAIMED, memory_order_relaxed);
    *tail = job;
    tail = &job->next;
    taken++;
  }
  *tail = NULL;
  df__pool_sub_nqueued(p, taken);
  atomic_fetch_add_explicit(&self->pending, taken, memory_order_relaxed);
  return first;
}

/* Runs a claimed batch with no lock held. Each job starts only if the
 * worker wins its way out of CLAIMED; one the canceller took first is handed
 * back unrun, and so is every job left when a DF_POOL_CANCEL close began. */
static void run_batch(df__pool_worker *self, df__pool_job *job) {
  df_pool *p = self->pool;
  while (job != NULL) {
    df__pool_job *next = job->next; /* push_done() reuses the field */
    int to = atomic_load_explicit(&p->drop_claimed, memory_order_relaxed)
                 ? DF__POOL_DROPPED
                 : DF__POOL_RUNNING;
    int expected = DF__POOL_CLAIMED;
    if (atomic_compare_exchange_strong_explicit(&job->state, &expected, to,
                                                memory_order_acq_rel,
                                                memory_order_acquire)) {
      atomic_fetch_sub_explicit(&self->pending, 1, memory_order_relaxed);
      if (to == DF__POOL_RUNNING)
        job->result = job->fn(job->arg);
    }
    df__pool_push_done(p, job);
    job = next;
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
    df__pool_job *batch = claim_batch_locked(self);
    p->busy++;
    df__pool_worker *other = claim_sleeper_locked(p); /* a backlog behind */
    pthread_mutex_unlock(&p->mutex);
    if (other != NULL)
      df__pool_wake(other);

    run_batch(self, batch);

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
