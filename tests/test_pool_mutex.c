/* The pool's own mutex (pool/mutex.c), which guards its queue: one thread
 * at a time inside, every thread that went to sleep on it woken, under
 * contention of 2 to 16 threads on whatever cores there are.
 *
 * The threads count inside the lock with plain, unsynchronised variables:
 * a broken exclusion shows as a count that adds up wrong or as two threads
 * inside at once (and ThreadSanitizer reports the race). A lost wake-up
 * would leave threads asleep for ever: the test waits for them with a
 * bound and fails naming how many never finished. No time is measured. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dft_runner.h"
#include "mutex.h" /* pool/ */

#define ROUNDS 20000
#define GIVE_UP_SECONDS 30

typedef struct shared {
  df__mutex mutex;
  long count;            /* under the mutex */
  int inside;            /* threads inside: 0 or 1, under the mutex */
  bool overlapped;       /* two were inside at once */
  atomic_int finished;   /* threads done with their rounds */
  bool hold;             /* thread 0 holds the lock until one sleeps */
  atomic_bool holding;   /* thread 0 has taken it to hold it */
  atomic_bool saw_sleep; /* and saw the word say "sleepers" */
} shared;

static void nap(void) {
  struct timespec ts = {0, 50000};
  nanosleep(&ts, NULL);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits, with a bound, until \p flag is set. */
static bool wait_for(atomic_bool *flag) {
  for (double give_up = now_seconds() + GIVE_UP_SECONDS;
       now_seconds() < give_up;) {
    if (atomic_load(flag))
      return true;
    nap();
  }
  return false;
}

/* Thread 0, first round: holds the mutex until another thread has gone to
 * sleep on it (the word says DF__MUTEX_WAITERS), so the sleeping path and
 * the wake-up on unlock are taken for sure, not by luck of scheduling. The
 * others start only once it holds the mutex, so they are there to sleep. */
static void hold_until_a_sleeper(shared *s) {
  atomic_store(&s->holding, true);
  for (double give_up = now_seconds() + GIVE_UP_SECONDS;
       now_seconds() < give_up;) {
    if (atomic_load(&s->mutex.state) == DF__MUTEX_WAITERS) {
      atomic_store(&s->saw_sleep, true);
      return;
    }
    nap();
  }
}

typedef struct worker {
  shared *s;
  unsigned index;
  pthread_t thread;
} worker;

static void *run_rounds(void *arg) {
  worker *w = arg;
  shared *s = w->s;
  bool holder = s->hold && w->index == 0;
  if (s->hold && !holder)
    (void)wait_for(&s->holding); /* a miss shows as saw_sleep false */
  for (int round = 0; round < ROUNDS; round++) {
    df__mutex_lock(&s->mutex);
    if (s->inside++ != 0)
      s->overlapped = true;
    if (round == 0 && holder)
      hold_until_a_sleeper(s);
    s->count++;
    s->inside--;
    df__mutex_unlock(&s->mutex);
  }
  atomic_fetch_add(&s->finished, 1);
  return NULL;
}

/* Longer than the waits of the threads, which then finish anyway. */
static bool all_finished(shared *s, int threads) {
  for (double give_up = now_seconds() + 3 * GIVE_UP_SECONDS;
       now_seconds() < give_up;) {
    if (atomic_load(&s->finished) == threads)
      return true;
    nap();
  }
  return false;
}

static void contend(unsigned threads, bool hold) {
  shared s = {.hold = hold};
  df__mutex_init(&s.mutex);
  atomic_init(&s.finished, 0);
  atomic_init(&s.holding, false);
  atomic_init(&s.saw_sleep, false);
  worker *w = calloc(threads, sizeof *w);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  for (unsigned i = 0; i < threads; i++) {
    w[i].s = &s;
    w[i].index = i;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&w[i].thread, NULL, run_rounds, &w[i]),
                          0);
  }
  if (!all_finished(&s, (int)threads)) {
    /* Threads asleep for ever cannot be joined: report and leave. */
    fprintf(stderr, "%u threads: %d never finished (a lost wake-up)\n", threads,
            (int)threads - atomic_load(&s.finished));
    exit(1);
  }
  for (unsigned i = 0; i < threads; i++)
    pthread_join(w[i].thread, NULL);
  free(w);
  CU_ASSERT_FALSE(s.overlapped);
  CU_ASSERT_EQUAL(s.count, (long)threads * ROUNDS);
  CU_ASSERT_EQUAL(atomic_load(&s.mutex.state), DF__MUTEX_FREE);
  if (hold)
    CU_ASSERT(atomic_load(&s.saw_sleep));
}

static void test_one_thread_at_a_time_under_contention(void) {
  static const unsigned counts[] = {2, 4, 16};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
    contend(counts[i], false);
}

/* One thread holds the lock until another sleeps on it: the sleeper is
 * woken by the unlock, and so is every sleeper queued behind it (with 16
 * threads, several sleep at once). */
static void test_every_sleeper_is_woken(void) {
  static const unsigned counts[] = {2, 4, 16};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
    contend(counts[i], true);
}

static CU_TestInfo tests[] = {
    {"one_thread_at_a_time_under_contention",
     test_one_thread_at_a_time_under_contention},
    {"every_sleeper_is_woken", test_every_sleeper_is_woken},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_run("pool_mutex", tests, NULL, NULL, NULL, NULL); }
