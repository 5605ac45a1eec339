/* A bounded stress of the pool: many jobs of random sizes submitted from the
 * reactor, random cancellations (queued and running), a close in the middle
 * with jobs in flight, a full queue now and then. Every Deferred fires
 * exactly once, the counters add up, nothing leaks.
 *
 * Size: DF_POOL_STRESS_JOBS jobs (default 200000, 20000 in sanitizer
 * builds); submissions also stop after DF_POOL_STRESS_SECONDS (default 8),
 * so slow runs (valgrind) stay bounded. DF_POOL_STRESS_SEED picks the random
 * sequence (printed, to replay a failure). */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dft_runner.h"
#include "dft_pool.h"

#ifdef DF_SANITIZED
#define DEFAULT_JOBS 20000L
#else
#define DEFAULT_JOBS 200000L
#endif
#define DEFAULT_SECONDS 8.0
#define WINDOW 1024 /* Deferreds the test keeps references to */

enum outcome { NOT_SUBMITTED, OK, FAILED, CANCELLED, CLOSED, FULL, OTHER };

typedef struct slot {
  unsigned char fired;
  unsigned char outcome;
} slot;

typedef struct stress_arg {
  uint32_t spins;
  bool fail;
} stress_arg;

static atomic_long works;
static atomic_long stress_args_live;

static uint64_t rng_state;

static uint64_t rng(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}

static double env_number(const char *name, double fallback) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0')
    return fallback;
  char *end;
  double d = strtod(v, &end);
  return *end == '\0' && d > 0 ? d : fallback;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ work */

static df_result stress_work(void *arg) {
  const stress_arg *a = arg;
  atomic_fetch_add_explicit(&works, 1, memory_order_relaxed);
  volatile uint32_t sink = 0;
  for (uint32_t i = 0; i < a->spins; i++)
    sink += i;
  if (a->fail)
    return df_fail(df_failure_new(&DF_ERROR, (int)a->spins, "unlucky job"));
  return df_ok(dft_pool_value_new((long)sink), dft_pool_value_free);
}

static void stress_arg_free(void *arg) {
  dft_pool_check_reactor_thread();
  atomic_fetch_sub(&stress_args_live, 1);
  free(arg);
}

static stress_arg *stress_arg_new(void) {
  stress_arg *a = malloc(sizeof *a);
  if (a == NULL)
    abort();
  uint64_t r = rng();
  /* Mostly tiny jobs, a few long enough to be caught running. */
  a->spins = (uint32_t)(r % 64 == 0 ? 20000 + r % 50000 : r % 2000);
  a->fail = (r >> 20) % 16 == 0;
  atomic_fetch_add(&stress_args_live, 1);
  return a;
}

static df_result record(df_result in, void *arg) {
  slot *s = arg;
  dft_pool_check_reactor_thread();
  s->fired++;
  df_failure *f = df_result_failure(in);
  const df_error_type *t = df_failure_type(f);
  if (f == NULL)
    s->outcome = OK;
  else if (t == &DF_ERROR)
    s->outcome = FAILED;
  else if (t == &DF_CANCELLED)
    s->outcome = CANCELLED;
  else if (t == &DF_POOL_CLOSED)
    s->outcome = CLOSED;
  else if (t == &DF_POOL_FULL)
    s->outcome = FULL;
  else
    s->outcome = OTHER;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

/* ------------------------------------------------------------ the window */

/* Deferreds not yet fired, with the test's reference, so that some can be
 * cancelled; fired ones are dropped as they are found. */
typedef struct window {
  df_deferred *d[WINDOW];
  slot *s[WINDOW];
  int n;
} window;

static void window_prune(window *w) {
  for (int i = 0; i < w->n;) {
    if (w->s[i]->fired) {
      df_unref(w->d[i]);
      w->n--;
      w->d[i] = w->d[w->n];
      w->s[i] = w->s[w->n];
    } else {
      i++;
    }
  }
}

/* ------------------------------------------------------------ the run */

typedef struct totals {
  long attempts;
  long cancels_hit; /* df_cancel() on a Deferred that had not fired */
  struct df_pool_stats a, b;
} totals;

static df_pool *new_pool(unsigned threads, size_t max_queued) {
  df_pool *p = NULL;
  df_pool_options opts = {.threads = threads, .max_queued = max_queued};
  CU_ASSERT_EQUAL(df_pool_new(&p, dft_pool.reactor, &opts), 0);
  return p;
}

/* Closes the first pool with jobs in flight (dropping its queue), shows it
 * refuses, frees it and carries on with a second one. */
static void close_in_the_middle(totals *t, slot *slots, long *next) {
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_CANCEL), 0);
  for (int k = 0; k < 8; k++, (*next)++, t->attempts++) {
    df_deferred *d =
        df_defer_to_thread_opts(dft_pool.pool, stress_work, stress_arg_new(),
                                &(df_job_options){.arg_free = stress_arg_free});
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    df_add_both(d, record, &slots[*next]);
    df_unref(d);
  }
  CU_ASSERT_EQUAL(df_pool_stats(dft_pool.pool, &t->a), 0);
  CU_ASSERT_EQUAL(df_pool_free(dft_pool.pool), 0);
  dft_pool.pool = new_pool(2, 768);
}

static void run(long jobs, double seconds, slot *slots, totals *t) {
  static window w;
  w.n = 0;
  double start = now_seconds();
  bool closed_once = false;
  long i = 0;
  while (i < jobs) {
    double elapsed = now_seconds() - start;
    if (elapsed > seconds)
      break;
    if (!closed_once && (i >= jobs / 2 || elapsed > seconds / 2)) {
      closed_once = true;
      close_in_the_middle(t, slots, &i);
      window_prune(&w);
      continue;
    }
    if (w.n == WINDOW) {
      if (df_reactor_run_once(dft_pool.reactor, 10) < 0)
        CU_FAIL("df_reactor_run_once failed");
      window_prune(&w);
      continue;
    }
    slot *s = &slots[i++];
    t->attempts++;
    df_deferred *d =
        df_defer_to_thread_opts(dft_pool.pool, stress_work, stress_arg_new(),
                                &(df_job_options){.arg_free = stress_arg_free});
    if (d == NULL) {
      CU_FAIL("df_defer_to_thread_opts returned NULL");
      break;
    }
    df_add_both(d, record, s);
    if (df_called(d)) {
      df_unref(d); /* refused at once (a full queue) */
    } else {
      w.d[w.n] = d;
      w.s[w.n] = s;
      w.n++;
    }
    uint64_t r = rng();
    if (r % 10 == 0 && w.n > 0) {
      int k = (int)((r >> 8) % (uint64_t)w.n);
      if (!w.s[k]->fired)
        t->cancels_hit++;
      df_cancel(w.d[k]);
    }
    if ((r >> 16) % 64 == 0) {
      if (df_reactor_run_once(dft_pool.reactor, 0) < 0)
        CU_FAIL("df_reactor_run_once failed");
      window_prune(&w);
    }
  }
  /* The second pool is closed with jobs in flight too, running them all:
   * everything has fired when the close returns. */
  CU_ASSERT_EQUAL(df_pool_close(dft_pool.pool, DF_POOL_DRAIN), 0);
  window_prune(&w);
  CU_ASSERT_EQUAL(w.n, 0);
  CU_ASSERT_EQUAL(df_pool_stats(dft_pool.pool, &t->b), 0);
}

static void test_stress_every_deferred_fires_once_and_counts_add_up(void) {
  long jobs = (long)env_number("DF_POOL_STRESS_JOBS", (double)DEFAULT_JOBS);
  double seconds = env_number("DF_POOL_STRESS_SECONDS", DEFAULT_SECONDS);
  rng_state = (uint64_t)env_number("DF_POOL_STRESS_SEED", 88172645463325252.0);
  printf("\n  stress: up to %ld jobs, %.0f s, seed %llu\n", jobs, seconds,
         (unsigned long long)rng_state);
  atomic_store(&works, 0);
  atomic_store(&stress_args_live, 0);
  /* + 8: the refused submissions made right after the close. */
  slot *slots = calloc((size_t)jobs + 8, sizeof *slots);
  CU_ASSERT_PTR_NOT_NULL_FATAL(slots);
  if (!dft_pool_begin(4, 1024)) {
    free(slots);
    return;
  }
  totals t;
  memset(&t, 0, sizeof t);
  run(jobs, seconds, slots, &t);

  long count[OTHER + 1] = {0};
  long fired_wrong = 0;
  for (long i = 0; i < t.attempts; i++) {
    fired_wrong += slots[i].fired != 1;
    count[slots[i].outcome]++;
  }
  printf("  stress: %ld submitted; ok %ld, failed %ld, cancelled %ld, "
         "closed %ld, full %ld; abandoned %llu; wake-ups %llu\n",
         t.attempts, count[OK], count[FAILED], count[CANCELLED], count[CLOSED],
         count[FULL], (unsigned long long)(t.a.abandoned + t.b.abandoned),
         (unsigned long long)(t.a.wakeups + t.b.wakeups));
  CU_ASSERT_EQUAL(fired_wrong, 0);
  CU_ASSERT_EQUAL(count[OTHER], 0);
  CU_ASSERT_EQUAL(count[NOT_SUBMITTED], 0);
  CU_ASSERT_EQUAL(count[CANCELLED], t.cancels_hit);
  /* Each pool: everything it accepted ran or was dropped. */
  CU_ASSERT_EQUAL(t.a.submitted, t.a.completed + t.a.cancelled);
  CU_ASSERT_EQUAL(t.b.submitted, t.b.completed + t.b.cancelled);
  CU_ASSERT_EQUAL(t.a.queued + t.a.running + t.b.queued + t.b.running, 0);
  /* Across both: every attempt was accepted or refused... */
  uint64_t submitted = t.a.submitted + t.b.submitted;
  uint64_t rejected = t.a.rejected + t.b.rejected;
  CU_ASSERT_EQUAL(submitted + rejected, (uint64_t)t.attempts);
  CU_ASSERT_EQUAL((uint64_t)(count[FULL] + 8), rejected);
  /* ... the accepted ones fired with their result, or were cancelled
   * (queued: never ran; running: result discarded), or closed. */
  uint64_t abandoned = t.a.abandoned + t.b.abandoned;
  uint64_t completed = t.a.completed + t.b.completed;
  CU_ASSERT_EQUAL((uint64_t)(count[OK] + count[FAILED]) + abandoned, completed);
  CU_ASSERT_EQUAL((uint64_t)count[CANCELLED],
                  abandoned + t.a.cancelled + t.b.cancelled -
                      (uint64_t)(count[CLOSED] - 8));
  CU_ASSERT_EQUAL((uint64_t)atomic_load(&works), completed);
  CU_ASSERT_EQUAL(t.a.threads + t.b.threads, 0);
  dft_pool_end();
  CU_ASSERT_EQUAL(atomic_load(&stress_args_live), 0);
  free(slots);
}

static CU_TestInfo tests[] = {
    {"stress_every_deferred_fires_once_and_counts_add_up",
     test_stress_every_deferred_fires_once_and_counts_add_up},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_run("pool_stress", tests, NULL, NULL, NULL, NULL); }
