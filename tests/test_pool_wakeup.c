/* The hand-off to the reactor (C1): completions wake it through the
 * self-pipe, coalesced (one wake-up for a batch), and no wake-up is lost,
 * not even when the pipe is full or the reactor sleeps without a timeout. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pool_internal.h"
#include "dft_runner.h"
#include "dft_pool.h"

enum { BATCH = 500 };

static long done_list_length(df_pool *p) {
  long n = 0;
  for (df__job *j = atomic_load(&p->done); j != NULL; j = j->next)
    n++;
  return n;
}

/* The worker counts a wake-up after its write returned, so the count may
 * trail what the reactor has already seen: wait for it to reach \p n, then
 * check that it is exactly \p n. */
static bool wakeups_reached(void *arg) {
  struct df_pool_stats s;
  return df_pool_stats(dft_pool.pool, &s) == 0 && s.wakeups >= *(uint64_t *)arg;
}

static void expect_wakeups(uint64_t n) {
  dft_pool_wait(wakeups_reached, &n);
  CU_ASSERT_EQUAL(dft_pool_stats().wakeups, n);
}

static bool batch_on_done_list(void *arg) {
  return done_list_length(dft_pool.pool) == *(long *)arg;
}

static void submit_batch(dft_pool_outcome *outs, int n) {
  for (int i = 0; i < n; i++)
    dft_pool_watch(df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                                           dft_pool_arg_new(i, NULL),
                                           &dft_pool_owned_arg),
                   &outs[i]);
}

static bool batch_fired(void *arg) {
  dft_pool_outcome *outs = arg;
  for (int i = 0; i < BATCH; i++)
    if (outs[i].fired != 1)
      return false;
  return true;
}

/* A whole batch that finishes while the reactor is busy costs one wake-up:
 * only the push that found the completion list empty writes. */
static void test_c1_one_wakeup_for_a_batch(void) {
  if (!dft_pool_begin(2, 0))
    return;
  static dft_pool_outcome outs[BATCH];
  submit_batch(outs, BATCH);
  long n = BATCH;
  dft_pool_wait(batch_on_done_list, &n);
  expect_wakeups(1);
  dft_pool_run_until(batch_fired, outs);
  expect_wakeups(1);
  CU_ASSERT_EQUAL(dft_pool_stats().completed, BATCH);

  /* The list was taken: the next completion wakes the reactor again. */
  dft_pool_outcome again;
  dft_pool_watch(df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                                         dft_pool_arg_new(1, NULL),
                                         &dft_pool_owned_arg),
                 &again);
  dft_pool_run_until_count(&again.fired, 1);
  expect_wakeups(2);
  dft_pool_end();
}

/* A job that finishes while the reactor delivers needs no wake-up: the
 * reactor looks at the completion list again before it leaves the round,
 * up to a bound; past it, it wakes itself for the next round. Each callback
 * here submits the next job and waits until that one is back on the list,
 * so every job finishes during a delivery. */
typedef struct relay {
  int remaining;
  dft_pool_outcome outs[DF__JOB_ROUND_JOBS + 8];
  int n;
} relay;

static bool job_on_done_list(void *arg) {
  (void)arg;
  return atomic_load(&dft_pool.pool->done) != NULL;
}

static df_result relay_next(df_result in, void *arg) {
  relay *r = arg;
  df_result_free(in);
  if (r->remaining > 0) {
    r->remaining--;
    df_deferred *d = df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                                             dft_pool_arg_new(r->n, NULL),
                                             &dft_pool_owned_arg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    df_add_callback(d, relay_next, r);
    dft_pool_watch(d, &r->outs[r->n++]);
    dft_pool_wait(job_on_done_list, NULL);
  }
  return df_ok(NULL, NULL);
}

static void run_relay(relay *r, int jobs) {
  memset(r, 0, sizeof *r);
  r->remaining = jobs - 1;
  df_deferred *d =
      df_defer_to_thread_opts(dft_pool.pool, dft_pool_work_value,
                              dft_pool_arg_new(0, NULL), &dft_pool_owned_arg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_add_callback(d, relay_next, r);
  dft_pool_watch(d, &r->outs[r->n++]);
  dft_pool_run_until_completed((uint64_t)jobs);
  for (int i = 0; i < jobs; i++)
    CU_ASSERT_EQUAL(r->outs[i].fired, 1);
}

static void test_c1_completion_during_delivery_needs_no_wakeup(void) {
  if (!dft_pool_begin(1, 0))
    return;
  static relay r;
  run_relay(&r, 10);
  /* The first job's wake-up served all ten, in one round. */
  expect_wakeups(1);
  dft_pool_end();
}

static void test_c1_a_round_delivers_a_bounded_number_of_jobs(void) {
  if (!dft_pool_begin(1, 0))
    return;
  static relay r;
  run_relay(&r, DF__JOB_ROUND_JOBS + 8);
  /* The first round stopped at its bound and the reactor woke itself for
   * the rest. */
  expect_wakeups(2);
  dft_pool_end();
}

/* ------------------------------------------------------------ a full pipe */

/* The write ends of the pipes of this process. Returns how many were found
 * (at most max). */
static int pipe_write_ends(int *fds, int max) {
  int n = 0;
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL)
    return 0;
  int skip = dirfd(dir);
  struct dirent *e;
  while ((e = readdir(dir)) != NULL && n < max) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end != '\0' || fd == skip)
      continue;
    struct stat st;
    if (fstat((int)fd, &st) != 0 || !S_ISFIFO(st.st_mode))
      continue;
    int flags = fcntl((int)fd, F_GETFL);
    if (flags >= 0 && (flags & O_ACCMODE) == O_WRONLY)
      fds[n++] = (int)fd;
  }
  closedir(dir);
  return n;
}

/* Writes into the non-blocking pipe until it refuses: EAGAIN. Returns the
 * number of bytes written. */
static long fill_pipe(int fd) {
  static char junk[4096];
  long total = 0;
  for (;;) {
    ssize_t w = write(fd, junk, sizeof junk);
    if (w > 0) {
      total += w;
      continue;
    }
    if (w < 0 && errno == EINTR)
      continue;
    break; /* EAGAIN: full (a last partial write was counted above) */
  }
  return total;
}

/* The reactor's self-pipe: the write end that making the reactor added (a
 * tool such as a sanitizer may own pipes of its own). */
static int reactor_pipe(const int *before, int nbefore) {
  int after[64];
  int nafter = pipe_write_ends(after, 64);
  int found = -1;
  for (int i = 0; i < nafter; i++) {
    bool known = false;
    for (int j = 0; j < nbefore; j++)
      known = known || after[i] == before[j];
    if (!known) {
      CU_ASSERT_EQUAL(found, -1); /* exactly one new pipe */
      found = after[i];
    }
  }
  return found;
}

static void test_c1_full_self_pipe_loses_no_wakeup(void) {
  int before[64];
  int nbefore = pipe_write_ends(before, 64);
  if (!dft_pool_begin(2, 0))
    return;
  int fd = reactor_pipe(before, nbefore);
  if (fd < 0) {
    CU_FAIL("the reactor's self-pipe was not found");
    dft_pool_end();
    return;
  }
  static dft_pool_outcome outs[BATCH];
  for (int round = 0; round < 3; round++) {
    /* The pipe is full before the workers send: their write gets EAGAIN,
     * which is a pending wake-up, and the reactor must still see it. */
    CU_ASSERT(fill_pipe(fd) > 0);
    CU_ASSERT_EQUAL(write(fd, "x", 1), -1);
    uint64_t wakeups = dft_pool_stats().wakeups;
    submit_batch(outs, BATCH);
    long n = BATCH;
    dft_pool_wait(batch_on_done_list, &n);
    expect_wakeups(wakeups + 1);
    dft_pool_run_until(batch_fired, outs);
  }
  CU_ASSERT_EQUAL(dft_pool_stats().completed, 3 * BATCH);
  dft_pool_end();
}

/* ------------------------------------------------------------ a sleeping
 * reactor */

/* Stops the reactor if the test has not finished in time, so that a lost
 * wake-up fails the test instead of blocking it forever. */
typedef struct watchdog {
  df_reactor *reactor;
  atomic_int finished;
  atomic_int fired;
  pthread_t thread;
} watchdog;

static void *watch(void *arg) {
  watchdog *w = arg;
  for (int i = 0; i < 30000 && !atomic_load(&w->finished); i++) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  if (!atomic_load(&w->finished)) {
    atomic_store(&w->fired, 1);
    df_reactor_stop(w->reactor);
  }
  return NULL;
}

static df_result slow_work(void *arg) {
  struct timespec ts = {0, 2000000};
  nanosleep(&ts, NULL);
  return dft_pool_work_value(arg);
}

/* df_reactor_run_once(r, -1) waits only for wake-ups: every completion must
 * produce one, or the wait never ends. Jobs finish one by one while the
 * reactor sleeps. */
static void test_c1_completions_wake_a_reactor_that_waits_forever(void) {
  if (!dft_pool_begin(1, 0))
    return;
  enum { N = 50 };
  dft_pool_outcome outs[N];
  for (int i = 0; i < N; i++)
    dft_pool_watch(df_defer_to_thread_opts(dft_pool.pool, slow_work,
                                           dft_pool_arg_new(i, NULL),
                                           &dft_pool_owned_arg),
                   &outs[i]);
  watchdog w;
  w.reactor = dft_pool.reactor;
  atomic_init(&w.finished, 0);
  atomic_init(&w.fired, 0);
  CU_ASSERT_EQUAL_FATAL(pthread_create(&w.thread, NULL, watch, &w), 0);
  while (outs[N - 1].fired == 0 && !atomic_load(&w.fired)) {
    if (df_reactor_run_once(dft_pool.reactor, -1) < 0)
      break;
  }
  atomic_store(&w.finished, 1);
  pthread_join(w.thread, NULL);
  CU_ASSERT_EQUAL(atomic_load(&w.fired), 0);
  for (int i = 0; i < N; i++)
    CU_ASSERT_EQUAL(outs[i].fired, 1);
  struct df_pool_stats s = dft_pool_stats();
  CU_ASSERT(s.wakeups >= 1);
  CU_ASSERT(s.wakeups <= N);
  dft_pool_end();
}

static CU_TestInfo tests[] = {
    {"c1_one_wakeup_for_a_batch", test_c1_one_wakeup_for_a_batch},
    {"c1_completion_during_delivery_needs_no_wakeup",
     test_c1_completion_during_delivery_needs_no_wakeup},
    {"c1_a_round_delivers_a_bounded_number_of_jobs",
     test_c1_a_round_delivers_a_bounded_number_of_jobs},
    {"c1_full_self_pipe_loses_no_wakeup",
     test_c1_full_self_pipe_loses_no_wakeup},
    {"c1_completions_wake_a_reactor_that_waits_forever",
     test_c1_completions_wake_a_reactor_that_waits_forever},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_run("pool_wakeup", tests, NULL, NULL, NULL, NULL); }
