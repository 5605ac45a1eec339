/* What the pool benchmark's parts share. Three implementations of "run this
 * on a worker thread, call me back on the loop thread" are driven by one set
 * of workloads (bench/pool_workload.c), so each pays the same harness:
 *   - ours:  df_defer_to_thread() on a df_pool, callbacks on a df_reactor
 *            (bench/pool_ours.c);
 *   - uv:    libuv's uv_queue_work() (bench/pool_uv.c), always in a child
 *            process, since libuv reads UV_THREADPOOL_SIZE once per process;
 *   - floor: the least a correct hand-off can do (bench/pool_floor.c).
 * bench/pool.c runs them, in this process or in children of it (libuv, and
 * every implementation under callgrind: bench/pool_callgrind.c), and prints
 * the tables and budgets. */
#ifndef DF_POOL_BENCH_H
#define DF_POOL_BENCH_H

#include <stdbool.h>
#include <stdint.h>

struct pool_run;

/* What a job does on its worker, and what its completion counts as. Jobs
 * point at their class (borrowed: it lives as long as the run), so a work
 * function and a completion need no allocation of their own. */
typedef struct pool_job_class {
  struct pool_run *run;
  long sleep_ns; /* 0: a no-op job; otherwise it blocks that long */
  bool is_short; /* counted apart by the "short behind long" workload */
  bool measured; /* its real sleep length goes into job_real_us */
} pool_job_class;

/* One implementation. Every function runs on the loop thread. */
typedef struct pool_impl {
  const char *name; /* "ours", "uv", "floor" */
  /* Starts a pool of \p threads threads; *ctx receives its state. 0 or -1. */
  int (*open)(void **ctx, unsigned threads);
  /* Queues one job of class \p c; its completion, on the loop thread, calls
   * pool_run_job_done(c). 0, or -1 when the job was refused. */
  int (*submit)(void *ctx, const pool_job_class *c);
  /* Waits until at least one completion was delivered (or a spurious
   * wake-up); 0, or -1 on error. */
  int (*run_once)(void *ctx);
  /* Wake-ups of the loop thread written so far, or -1 when not counted. */
  double (*wakeups)(void *ctx);
  /* Stops the threads (every job has completed) and frees the state. */
  void (*close)(void *ctx);
} pool_impl;

extern const pool_impl pool_impl_ours;
extern const pool_impl pool_impl_floor;
extern const pool_impl pool_impl_uv;

/* Runs c->sleep_ns of blocking sleep (nothing for a no-op class): the body
 * of every implementation's work function. Thread-safe. */
void pool_job_work(const pool_job_class *c);

/* Called by an implementation for each completion, on the loop thread. */
void pool_run_job_done(const pool_job_class *c);

/* ---------------------------------------------------------------- suites */

/* What one measurement runs; the same struct travels to a child process as
 * arguments (pool_suite_to_argv / pool_suite_from_argv). */
typedef enum pool_suite_kind {
  POOL_SUITE_TIME = 0,    /* burst, steady, latency: median of reps */
  POOL_SUITE_BLOCKING,    /* jobs sleeping sleep_us, all submitted at once */
  POOL_SUITE_BEHIND,      /* jobs of sleep_us right behind one of long_us */
  POOL_SUITE_BURST_ONCE,  /* one burst of jobs, for instruction counts */
  POOL_SUITE_STEADY_ONCE, /* one steady run of jobs, for instruction counts */
  POOL_SUITE_KINDS
} pool_suite_kind;

typedef struct pool_suite {
  pool_suite_kind kind;
  unsigned threads;
  long jobs;         /* burst, blocking, short jobs, or *_ONCE jobs */
  long steady_jobs;  /* TIME: completed with in_flight kept in flight */
  long in_flight;    /* TIME and STEADY_ONCE */
  long latency_jobs; /* TIME: one at a time */
  long sleep_us;     /* BLOCKING and BEHIND: the (short) job's sleep */
  long long_us;      /* BEHIND: the long job's sleep */
  int reps;          /* runs; the median is kept */
} pool_suite;

/* What a suite measured; unused fields stay negative. */
typedef struct pool_figures {
  double burst_jobs_per_s;
  double steady_jobs_per_s;
  double latency_p50_us;
  double latency_p99_us;
  double burst_wakeups_per_job; /* < 0 when the implementation cannot say */
  double steady_wakeups_per_job;
  double blocking_jobs_per_s;  /* BLOCKING */
  double behind_short_done_ms; /* BEHIND: until every short job was done */
  double job_real_us;          /* BLOCKING, BEHIND: how long the measured
                                  sleeping jobs (the short ones of BEHIND)
                                  really slept, on average */
} pool_figures;

#define POOL_FIGURES 9 /* doubles in pool_figures, in the order above */

/* Runs \p s on \p impl in this process. 0, or -1 when a job was refused or
 * the implementation failed. */
int pool_suite_run(const pool_impl *impl, const pool_suite *s,
                   pool_figures *out);

/* The implementation called \p name, or NULL. */
const pool_impl *pool_impl_named(const char *name);

/* The hidden child entry: `pool --child IMPL KIND THREADS JOBS STEADY
 * IN_FLIGHT LATENCY SLEEP_US LONG_US REPS` runs one suite and prints one line
 * "pool-child F0 F1 ..." (the pool_figures in order). argv[0] is "pool". */
int pool_child_main(int argc, char **argv);

#define POOL_SUITE_FIELDS 9 /* numbers after IMPL on that command line */

/* Fills \p argv (at least POOL_SUITE_FIELDS + 4 entries; the numbers are
 * written into \p buf, POOL_SUITE_FIELDS strings) with "pool" "--child" IMPL
 * KIND ... REPS and a NULL. */
void pool_suite_to_argv(const char *impl, const pool_suite *s, char **argv,
                        char (*buf)[24]);

/* Finds the "pool-child ..." line in a child's output. 0 or -1. */
int pool_figures_parse(const char *output, pool_figures *out);

/* Runs \p s on the implementation \p impl in a child process (this program
 * again), with UV_THREADPOOL_SIZE set to s->threads. 0 or -1. */
int pool_suite_run_child(const char *impl, const pool_suite *s,
                         pool_figures *out);

/* ---------------------------------------------------------------- callgrind */

/* The valgrind executable found on PATH, or NULL. */

/* Instructions (Ir, every thread) of this program running \p s on \p impl
 * once under `valgrind --tool=callgrind`, or -1 when that failed. */
double pool_callgrind_instructions(const char *valgrind, const char *impl,
                                   const pool_suite *s);

#endif
