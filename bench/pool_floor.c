/* The pool benchmark's floor: the least a correct reactor + thread-pool
 * hand-off does per job, written here so "ours" and libuv have something to
 * be measured against besides each other.
 *
 *   submit (loop thread): take a job record from a free list (refilled by
 *     one malloc per FLOOR_CHUNK records), append it to a FIFO under one
 *     mutex, signal the condition variable only when a worker sleeps on it
 *     and no signal is already on its way to one;
 *   worker: take one job per lock (so T threads run T blocking jobs at
 *     once), run it with no lock held, push it on a lock-free completion
 *     stack; the push that finds the stack empty writes one byte to a pipe;
 *   loop thread: poll() the pipe, read the bytes, take the whole stack with
 *     one exchange, run each job's callback and put its record back on the
 *     free list (both ends of the free list are on the loop thread, so it
 *     needs no lock).
 * One pipe byte serves every completion pushed until the loop takes the
 * stack; a push after the exchange finds the stack empty and writes again,
 * so no completion is left without a wake-up. Delivery order within a batch
 * is the stack's (newest first): the floor does not pay for FIFO delivery.
 * No Deferred, no cancellation, no backpressure, no stats: those are what
 * a real pool adds on top. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "pool_bench.h"

typedef struct floor_job {
  struct floor_job *next; /* FIFO link while queued, stack link when done */
  const pool_job_class *cls;
} floor_job;

/* Records per malloc: the free list makes a record cost a pointer move. */
#define FLOOR_CHUNK 256

typedef struct floor_chunk {
  struct floor_chunk *next;
  floor_job jobs[FLOOR_CHUNK];
} floor_chunk;

typedef struct floor_pool {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  floor_job *head; /* FIFO of queued jobs, under lock */
  floor_job *tail;
  unsigned sleeping;  /* workers waiting on wake and not yet signalled */
  unsigned signalled; /* signals sent and not yet taken by a worker */
  bool stopping;
  _Atomic(floor_job *) done; /* completion stack, lock-free */
  _Atomic unsigned long wakeups;
  int pipe_rd;
  int pipe_wr;
  unsigned n_threads;
  pthread_t *threads;
  floor_job *free_jobs; /* loop thread only */
  floor_chunk *chunks;  /* every record, freed at close */
} floor_pool;

/* The worker's half of the wake-up accounting: whoever returns from the
 * wait takes a pending signal if there is one, or else it woke spuriously
 * and leaves the sleepers itself. Either way sleeping + signalled drops by
 * one, so a submission signals only while a worker really sleeps. */
static floor_job *take_job(floor_pool *p) {
  while (p->head == NULL && !p->stopping) {
    p->sleeping++;
    pthread_cond_wait(&p->wake, &p->lock);
    if (p->signalled > 0)
      p->signalled--;
    else
      p->sleeping--;
  }
  floor_job *j = p->head;
  if (j != NULL) {
    p->head = j->next;
    if (p->head == NULL)
      p->tail = NULL;
  }
  return j;
}

static void complete(floor_pool *p, floor_job *j) {
  floor_job *old = atomic_load_explicit(&p->done, memory_order_relaxed);
  do {
    j->next = old;
  } while (!atomic_compare_exchange_weak_explicit(
      &p->done, &old, j, memory_order_release, memory_order_relaxed));
  if (old != NULL)
    return; /* the loop thread has a byte coming for this batch */
  char byte = 1;
  while (write(p->pipe_wr, &byte, 1) < 0 && errno == EINTR) {
  }
  atomic_fetch_add_explicit(&p->wakeups, 1, memory_order_relaxed);
}

static void *worker(void *arg) {
  floor_pool *p = arg;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    floor_job *j = take_job(p);
    if (j == NULL)
      break; /* stopping, queue empty */
    pthread_mutex_unlock(&p->lock);
    pool_job_work(j->cls);
    complete(p, j);
    pthread_mutex_lock(&p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void stop_workers(floor_pool *p, unsigned started) {
  pthread_mutex_lock(&p->lock);
  p->stopping = true;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  for (unsigned i = 0; i < started; i++)
    pthread_join(p->threads[i], NULL);
}

static floor_job *new_job(floor_pool *p) {
  if (p->free_jobs == NULL) {
    floor_chunk *c = malloc(sizeof *c);
    if (c == NULL)
      return NULL;
    c->next = p->chunks;
    p->chunks = c;
    for (size_t i = 0; i < FLOOR_CHUNK; i++) {
      c->jobs[i].next = p->free_jobs;
      p->free_jobs = &c->jobs[i];
    }
  }
  floor_job *j = p->free_jobs;
  p->free_jobs = j->next;
  return j;
}

static void release(floor_pool *p) {
  while (p->chunks != NULL) {
    floor_chunk *c = p->chunks;
    p->chunks = c->next;
    free(c);
  }
  close(p->pipe_rd);
  close(p->pipe_wr);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->lock);
  free(p->threads);
  free(p);
}

static int floor_open(void **ctx, unsigned threads) {
  floor_pool *p = calloc(1, sizeof *p);
  int fds[2];
  if (p == NULL)
    return -1;
  p->threads = calloc(threads, sizeof *p->threads);
  if (p->threads == NULL || pipe(fds) != 0) {
    free(p->threads);
    free(p);
    return -1;
  }
  p->pipe_rd = fds[0];
  p->pipe_wr = fds[1];
  /* The loop reads every pending byte at once and must not block there. */
  fcntl(p->pipe_rd, F_SETFL, fcntl(p->pipe_rd, F_GETFL) | O_NONBLOCK);
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->wake, NULL);
  atomic_init(&p->done, NULL);
  atomic_init(&p->wakeups, 0);
  for (unsigned i = 0; i < threads; i++) {
    if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
      stop_workers(p, i);
      release(p);
      return -1;
    }
  }
  p->n_threads = threads;
  *ctx = p;
  return 0;
}

static int floor_submit(void *ctx, const pool_job_class *c) {
  floor_pool *p = ctx;
  floor_job *j = new_job(p);
  if (j == NULL)
    return -1;
  j->next = NULL;
  j->cls = c;
  pthread_mutex_lock(&p->lock);
  if (p->tail != NULL)
    p->tail->next = j;
  else
    p->head = j;
  p->tail = j;
  if (p->sleeping > 0) {
    p->sleeping--;
    p->signalled++;
    pthread_cond_signal(&p->wake);
  }
  pthread_mutex_unlock(&p->lock);
  return 0;
}

static int floor_run_once(void *ctx) {
  floor_pool *p = ctx;
  struct pollfd pfd = {p->pipe_rd, POLLIN, 0};
  char bytes[64];
  if (poll(&pfd, 1, -1) < 0)
    return errno == EINTR ? 0 : -1;
  if (read(p->pipe_rd, bytes, sizeof bytes) < 0 && errno != EAGAIN &&
      errno != EINTR)
    return -1;
  /* After the read: a completion pushed from here on finds the stack empty
   * and writes a new byte. */
  floor_job *j = atomic_exchange_explicit(&p->done, NULL, memory_order_acquire);
  while (j != NULL) {
    floor_job *next = j->next;
    const pool_job_class *c = j->cls;
    j->next = p->free_jobs;
    p->free_jobs = j;
    pool_run_job_done(c);
    j = next;
  }
  return 0;
}

static double floor_wakeups(void *ctx) {
  floor_pool *p = ctx;
  return (double)atomic_load_explicit(&p->wakeups, memory_order_relaxed);
}

static void floor_close(void *ctx) {
  floor_pool *p = ctx;
  stop_workers(p, p->n_threads);
  release(p);
}

const pool_impl pool_impl_floor = {"floor",        floor_open,    floor_submit,
                                   floor_run_once, floor_wakeups, floor_close};
