/* The timeline export (deferred/trace.h): every job's submit, run and
 * callbacks in order with the worker that ran it, flow arrows that pair
 * up, reactor rounds and their phases, DNS lookups, the ring's bound and
 * its count of dropped events, DF_TRACE, and misuse. The files are
 * checked by trace_check.py with Python's json module. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deferred.h"
#include "dft_runner.h"

static char dir[64];

static int setup(void) {
  snprintf(dir, sizeof dir, "/tmp/df-trace-XXXXXX");
  return mkdtemp(dir) == NULL ? -1 : 0;
}

static int cleanup(void) { return rmdir(dir) == 0 ? 0 : -1; }

static void path_of(char *out, size_t len, const char *name) {
  snprintf(out, len, "%s/%s", dir, name);
}

/* Runs the checker on \p file with \p checks; its exit status. */
static int check_file(const char *file, const char *checks) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' %s", DFT_PYTHON, DFT_TRACE_CHECK,
           file, checks);
  int status = system(cmd);
  return status == -1 ? -1 : WEXITSTATUS(status);
}

/* ------------------------------------------------------------ jobs */

#define JOBS 120
#define THREADS 4

static df_result work(void *arg) {
  uintptr_t i = (uintptr_t)arg;
  if (i % 10 == 0) { /* some jobs block a little, so workers overlap */
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  if (i % 7 == 0)
    return df_fail(df_failure_new(&DF_SYSTEM, 0, "job %u failed", (unsigned)i));
  return df_ok((void *)(i * 2), NULL);
}

static int fired;

static df_result count_fired(df_result in, void *arg) {
  (void)arg;
  fired++;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void run_until(df_reactor *r, const int *counter, int want) {
  while (*counter < want)
    CU_ASSERT_FATAL(df_reactor_run_once(r, 1000) >= 0);
}

/* Submits JOBS jobs of the three priorities on a pool of THREADS threads,
 * traced, and checks the file. */
static void test_every_job_has_its_events_in_order(void) {
  char file[128];
  path_of(file, sizeof file, "jobs.json");
  df_reactor *r;
  df_pool *p;
  CU_ASSERT_FATAL(df_reactor_new(&r, NULL) == 0);
  CU_ASSERT_FATAL(df_pool_new(&p, r, &(df_pool_options){.threads = THREADS}) ==
                  0);
  CU_ASSERT_EQUAL_FATAL(df_trace_start(r, file), 0);
  fired = 0;
  for (uintptr_t i = 0; i < JOBS; i++) {
    df_job_options o = {.priority = (df_job_priority)(i % 3)};
    df_deferred *d = df_defer_to_thread_opts(p, work, (void *)i, &o);
    df_add_both(d, count_fired, NULL);
    df_unref(d);
  }
  run_until(r, &fired, JOBS);
  CU_ASSERT_EQUAL(df_trace_stop(r), 0);
  CU_ASSERT_EQUAL(df_trace_dropped(r), 0);
  CU_ASSERT(df_trace_recorded(r) >= 3 * JOBS);
  CU_ASSERT_EQUAL(df_pool_free(p), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  CU_ASSERT_EQUAL(check_file(file, "--jobs 120 --max-workers 4 --rounds"
                                   " --dropped 0"),
                  0);
  unlink(file);
}

/* Jobs submitted before the trace starts are not traced at all, and a job
 * submitted while tracing that finishes after the stop leaves only what
 * was recorded: the checker finds no half job among the complete ones. */
static void test_jobs_outside_the_trace_are_left_out(void) {
  char file[128];
  path_of(file, sizeof file, "outside.json");
  df_reactor *r;
  df_pool *p;
  CU_ASSERT_FATAL(df_reactor_new(&r, NULL) == 0);
  CU_ASSERT_FATAL(df_pool_new(&p, r, &(df_pool_options){.threads = 2}) == 0);
  fired = 0;
  df_deferred *before = df_defer_to_thread(p, work, (void *)1);
  df_add_both(before, count_fired, NULL);
  CU_ASSERT_EQUAL_FATAL(df_trace_start(r, file), 0);
  df_deferred *during = df_defer_to_thread(p, work, (void *)2);
  df_add_both(during, count_fired, NULL);
  run_until(r, &fired, 2);
  CU_ASSERT_EQUAL(df_trace_stop(r), 0);
  df_unref(before);
  df_unref(during);
  CU_ASSERT_EQUAL(df_pool_free(p), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  CU_ASSERT_EQUAL(check_file(file, "--jobs 1 --max-workers 2"), 0);
  unlink(file);
}

/* ------------------------------------------------------------ ring */

static int ticks;

static void tick(void *arg) {
  (void)arg;
  ticks++;
}

/* A reactor on a manual clock (no time passes between rounds), traced into
 * \p file with a ring of \p capacity events. */
static df_reactor *manual_reactor_traced(const char *file, size_t capacity) {
  df_reactor *r;
  CU_ASSERT_FATAL(
      df_reactor_new(&r, &(df_reactor_options){.manual_clock = true}) == 0);
  CU_ASSERT_EQUAL_FATAL(
      df_trace_start_opts(r, file, &(df_trace_options){.capacity = capacity}),
      0);
  return r;
}

/* \p rounds rounds of \p r, each with one due timer (tick): every round
 * records two events, its timers phase and itself. */
static void run_timer_rounds(df_reactor *r, int rounds) {
  for (int i = 0; i < rounds; i++) {
    CU_ASSERT_EQUAL_FATAL(df_call_later(NULL, r, 0, tick, NULL), 0);
    CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  }
}

#define ROUNDS 50
#define RING 16

/* A manual clock and one due timer per round: each round records exactly
 * two events (its timers phase and itself), no io and no thread calls. So
 * ROUNDS rounds record 2 * ROUNDS events and a ring of RING keeps the last
 * RING of them. */
static void test_ring_drops_the_oldest_and_says_how_many(void) {
  char file[128];
  path_of(file, sizeof file, "ring.json");
  df_reactor *r = manual_reactor_traced(file, RING);
  ticks = 0;
  run_timer_rounds(r, ROUNDS);
  CU_ASSERT_EQUAL(ticks, ROUNDS);
  CU_ASSERT_EQUAL(df_trace_recorded(r), 2 * ROUNDS);
  CU_ASSERT_EQUAL(df_trace_dropped(r), 2 * ROUNDS - RING); /* while running */
  CU_ASSERT_EQUAL(df_trace_stop(r), 0);
  CU_ASSERT_EQUAL(df_trace_dropped(r), 2 * ROUNDS - RING); /* the file's */
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  char checks[128];
  snprintf(checks, sizeof checks,
           "--events %d --dropped %d --recorded %d "
           "--rounds",
           RING, 2 * ROUNDS - RING, 2 * ROUNDS);
  CU_ASSERT_EQUAL(check_file(file, checks), 0);
  unlink(file);
}

/* A capacity that is not a power of two is rounded up. */
static void test_ring_capacity_rounds_up(void) {
  char file[128];
  path_of(file, sizeof file, "ring5.json");
  df_reactor *r = manual_reactor_traced(file, 5);
  run_timer_rounds(r, 10);
  CU_ASSERT_EQUAL(df_trace_stop(r), 0);
  CU_ASSERT_EQUAL(df_trace_dropped(r), 20 - 8);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  CU_ASSERT_EQUAL(check_file(file, "--events 8 --dropped 12 --recorded 20"), 0);
  unlink(file);
}

/* ------------------------------------------------------------ dns */

static int answered;

static df_result count_answer(df_result in, void *arg) {
  (void)arg;
  answered++; /* found in the hosts file, or refused by the port: either */
  df_result_free(in);
  return df_ok(NULL, NULL);
}

/* Names are looked up in the hosts file first (no server needed); one
 * that is not there goes to a port where nothing listens and is refused.
 * Either way each lookup is sent and answered, and shows as a span. A
 * literal address is no lookup at all and leaves no span. */
static void test_dns_lookups_are_spans(void) {
  char file[128];
  path_of(file, sizeof file, "dns.json");
  df_reactor *r;
  df_resolver *res;
  CU_ASSERT_FATAL(df_reactor_new(&r, NULL) == 0);
  CU_ASSERT_FATAL(
      df_resolver_new(&res, r,
                      &(df_resolver_options){.servers = "127.0.0.1:9",
                                             .timeout_ms = 200,
                                             .tries = 1,
                                             .hosts_file = true}) == 0);
  CU_ASSERT_EQUAL_FATAL(df_trace_start(r, file), 0);
  answered = 0;
  df_deferred *a = df_resolve(res, "localhost", AF_INET);
  df_deferred *b = df_resolve(res, "not-in-hosts.invalid", AF_INET);
  df_deferred *c = df_resolve(res, "127.0.0.1", AF_INET);
  df_add_both(a, count_answer, NULL);
  df_add_both(b, count_answer, NULL);
  df_add_both(c, count_answer, NULL);
  run_until(r, &answered, 3);
  df_unref(a);
  df_unref(b);
  df_unref(c);
  CU_ASSERT_EQUAL(df_trace_stop(r), 0);
  df_resolver_free(res);
  while (df_reactor_free(r) == DF_EBUSY)
    CU_ASSERT_FATAL(df_reactor_run_once(r, 100) >= 0);
  CU_ASSERT_EQUAL(check_file(file, "--dns 2"), 0);
  unlink(file);
}

/* ------------------------------------------------------------ environment */

/* DF_TRACE traces a reactor from its creation; df_reactor_free() writes
 * the file; a second reactor writes to the name with ".2". */
static void test_environment_traces_every_reactor(void) {
  char file[128], second[140];
  path_of(file, sizeof file, "env.json");
  snprintf(second, sizeof second, "%s.2", file);
  setenv("DF_TRACE", file, 1);
  setenv("DF_TRACE_EVENTS", "64", 1);
  df_reactor *r1, *r2;
  CU_ASSERT_FATAL(df_reactor_new(&r1, NULL) == 0);
  CU_ASSERT_FATAL(df_reactor_new(&r2, NULL) == 0);
  unsetenv("DF_TRACE");
  unsetenv("DF_TRACE_EVENTS");
  df_pool *p;
  CU_ASSERT_FATAL(df_pool_new(&p, r1, &(df_pool_options){.threads = 1}) == 0);
  fired = 0;
  for (uintptr_t i = 1; i <= 3; i++) {
    df_deferred *d = df_defer_to_thread(p, work, (void *)i);
    df_add_both(d, count_fired, NULL);
    df_unref(d);
  }
  run_until(r1, &fired, 3);
  CU_ASSERT_EQUAL(df_trace_start(r1, file), DF_EBUSY); /* already tracing */
  CU_ASSERT_EQUAL(df_pool_free(p), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r1), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r2), 0);
  CU_ASSERT_EQUAL(check_file(file, "--jobs 3 --max-workers 1 --rounds"), 0);
  CU_ASSERT_EQUAL(check_file(second, "--jobs 0 --events 0"), 0);
  unlink(file);
  unlink(second);
}

/* ------------------------------------------------------------ misuse */

static void test_misuse_is_refused(void) {
  char file[128];
  path_of(file, sizeof file, "misuse.json");
  df_reactor *r;
  CU_ASSERT_FATAL(df_reactor_new(&r, NULL) == 0);
  CU_ASSERT_EQUAL(df_trace_start(NULL, file), DF_EINVAL);
  CU_ASSERT_EQUAL(df_trace_start(r, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_trace_stop(r), DF_EINVAL); /* none runs */
  CU_ASSERT_EQUAL(df_trace_stop(NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_trace_start(r, "/nonexistent-dir/x.json"), -ENOENT);
  CU_ASSERT_EQUAL(
      df_trace_start_opts(r, file,
                          &(df_trace_options){.capacity = (size_t)1 << 31}),
      DF_EINVAL);
  CU_ASSERT_EQUAL(df_trace_dropped(NULL), 0);
  CU_ASSERT_EQUAL(df_trace_recorded(NULL), 0);
  CU_ASSERT_EQUAL(df_trace_dropped(r), 0);
  CU_ASSERT_EQUAL(df_trace_start(r, file), 0);
  CU_ASSERT_EQUAL(df_trace_start(r, file), DF_EBUSY);
  CU_ASSERT_EQUAL(df_trace_stop(r), 0);
  CU_ASSERT_EQUAL(df_trace_stop(r), DF_EINVAL);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  CU_ASSERT_EQUAL(check_file(file, "--events 0 --dropped 0"), 0);
  unlink(file);
}

int main(void) {
  CU_TestInfo tests[] = {
      {"every job has its events in order",
       test_every_job_has_its_events_in_order},
      {"jobs outside the trace are left out",
       test_jobs_outside_the_trace_are_left_out},
      {"ring drops the oldest and says how many",
       test_ring_drops_the_oldest_and_says_how_many},
      {"ring capacity rounds up", test_ring_capacity_rounds_up},
      {"dns lookups are spans", test_dns_lookups_are_spans},
      {"environment traces every reactor",
       test_environment_traces_every_reactor},
      {"misuse is refused", test_misuse_is_refused},
      CU_TEST_INFO_NULL,
  };
  return dft_run("trace", tests, setup, cleanup, NULL, NULL);
}
