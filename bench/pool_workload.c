/* The pool benchmark's workloads, written once against pool_impl so ours,
 * libuv and the floor run exactly the same loop:
 *   burst:    every job submitted, then all waited for;
 *   steady:   in_flight jobs kept in flight (each completion submits the
 *             next) until the count is reached;
 *   latency:  one job at a time, submit to callback;
 *   blocking: jobs that sleep, all submitted at once: with T threads they
 *             should take jobs * sleep / T;
 *   behind:   one long job, then short jobs right behind it: with T threads
 *             the short ones should be done after shorts * sleep / (T - 1).
 * Also the child side: a suite travels as arguments, figures come back as
 * one line of text. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "pool_bench.h"

#define MAX_REPS 64

typedef struct pool_run {
  const pool_impl *impl;
  void *ctx;
  long done;
  long submitted;
  long target;          /* jobs this workload completes */
  bool resubmit;        /* steady: a completion submits the next job */
  bool failed;          /* a submission was refused */
  long shorts_left;     /* behind: short jobs not done yet */
  uint64_t shorts_done; /* behind: when the last short job completed */
  pool_job_class noop;
  pool_job_class sleeper;   /* blocking */
  pool_job_class short_job; /* behind */
  pool_job_class long_job;  /* behind */
} pool_run;

/* The real length of the sleeps of the jobs an ideal is computed from
 * (every sleeper of BLOCKING, the short jobs of BEHIND): nanosleep()
 * overshoots by the timer slack and the wake-up, which no pool can win
 * back, so the ideal uses what the jobs really took. */
static atomic_uint_fast64_t measured_sleep_ns;
static atomic_uint_fast64_t measured_sleeps;

void pool_job_work(const pool_job_class *c) {
  if (c->sleep_ns <= 0)
    return;
  uint64_t start = df_bench_now_ns();
  struct timespec ts = {c->sleep_ns / 1000000000L, c->sleep_ns % 1000000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  if (c->measured) {
    atomic_fetch_add_explicit(&measured_sleep_ns, df_bench_now_ns() - start,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&measured_sleeps, 1, memory_order_relaxed);
  }
}

static void submit(pool_run *r, const pool_job_class *c) {
  r->submitted++;
  if (r->impl->submit(r->ctx, c) != 0)
    r->failed = true;
}

void pool_run_job_done(const pool_job_class *c) {
  pool_run *r = c->run;
  r->done++;
  if (c->is_short && --r->shorts_left == 0)
    r->shorts_done = df_bench_now_ns();
  if (r->resubmit && r->submitted < r->target)
    submit(r, c);
}

/* Runs the loop until the workload's jobs all came back. */
static int wait_done(pool_run *r) {
  while (r->done < r->target && !r->failed)
    if (r->impl->run_once(r->ctx) != 0)
      return -1;
  return r->failed ? -1 : 0;
}

static void start(pool_run *r, long target, bool resubmit) {
  r->done = 0;
  r->submitted = 0;
  r->target = target;
  r->resubmit = resubmit;
}

/* Wake-ups per job since \p before, or -1 when not counted. */
static double wakeups_per_job(pool_run *r, double before, long jobs) {
  double now = r->impl->wakeups(r->ctx);
  return now < 0 || before < 0 ? -1.0 : (now - before) / (double)jobs;
}

/* jobs/s of a run of \p jobs that started at \p t0, or -1 after a failure. */
static double rate(long jobs, uint64_t t0, int rc) {
  if (rc != 0)
    return -1.0;
  return (double)jobs * 1e9 / (double)(df_bench_now_ns() - t0);
}

static double burst(pool_run *r, const pool_job_class *c, long jobs,
                    double *wakeups) {
  double w0 = r->impl->wakeups(r->ctx);
  start(r, jobs, false);
  uint64_t t0 = df_bench_now_ns();
  for (long i = 0; i < jobs; i++)
    submit(r, c);
  double jobs_per_s = rate(jobs, t0, wait_done(r));
  if (wakeups != NULL)
    *wakeups = wakeups_per_job(r, w0, jobs);
  return jobs_per_s;
}

static double steady(pool_run *r, long jobs, long in_flight, double *wakeups) {
  double w0 = r->impl->wakeups(r->ctx);
  start(r, jobs, true);
  uint64_t t0 = df_bench_now_ns();
  for (long i = 0; i < in_flight && r->submitted < jobs; i++)
    submit(r, &r->noop);
  double jobs_per_s = rate(jobs, t0, wait_done(r));
  if (wakeups != NULL)
    *wakeups = wakeups_per_job(r, w0, jobs);
  return jobs_per_s;
}

/* Fills samples (µs) and returns 0, or -1. */
static int latency(pool_run *r, long jobs, double *samples) {
  for (long i = 0; i < jobs; i++) {
    start(r, 1, false);
    uint64_t t0 = df_bench_now_ns();
    submit(r, &r->noop);
    if (wait_done(r) != 0)
      return -1;
    samples[i] = (double)(df_bench_now_ns() - t0) / 1e3;
  }
  return 0;
}

/* ms from the long job's submission until the last short job was done. */
static double behind(pool_run *r, long shorts) {
  start(r, shorts + 1, false);
  r->shorts_left = shorts;
  uint64_t t0 = df_bench_now_ns();
  submit(r, &r->long_job);
  for (long i = 0; i < shorts; i++)
    submit(r, &r->short_job);
  if (wait_done(r) != 0)
    return -1.0;
  return (double)(r->shorts_done - t0) / 1e6;
}

static void init_classes(pool_run *r, const pool_suite *s) {
  r->noop = (pool_job_class){r, 0, false, false};
  r->sleeper = (pool_job_class){r, s->sleep_us * 1000L, false, true};
  r->short_job = (pool_job_class){r, s->sleep_us * 1000L, true, true};
  r->long_job = (pool_job_class){r, s->long_us * 1000L, false, false};
}

static void clear(pool_figures *f) {
  double *v = (double *)f;
  for (int i = 0; i < POOL_FIGURES; i++)
    v[i] = -1.0;
}

/* The TIME suite: warm-up, then reps of burst, steady and latency. */
static int run_time(pool_run *r, const pool_suite *s, int reps,
                    pool_figures *out) {
  double b[MAX_REPS], bw[MAX_REPS], st[MAX_REPS], sw[MAX_REPS];
  double p50[MAX_REPS], p99[MAX_REPS];
  size_t n_lat = (size_t)s->latency_jobs;
  double *samples = malloc(n_lat * sizeof *samples);
  if (samples == NULL || burst(r, &r->noop, 1000, NULL) < 0) {
    free(samples);
    return -1;
  }
  for (int i = 0; i < reps; i++) {
    b[i] = burst(r, &r->noop, s->jobs, &bw[i]);
    st[i] = steady(r, s->steady_jobs, s->in_flight, &sw[i]);
    if (b[i] < 0 || st[i] < 0 || latency(r, s->latency_jobs, samples) != 0) {
      free(samples);
      return -1;
    }
    p50[i] = df_bench_percentile(samples, n_lat, 0.50);
    p99[i] = df_bench_percentile(samples, n_lat, 0.99);
  }
  free(samples);
  out->burst_jobs_per_s = df_bench_median(b, (size_t)reps);
  out->burst_wakeups_per_job = df_bench_median(bw, (size_t)reps);
  out->steady_jobs_per_s = df_bench_median(st, (size_t)reps);
  out->steady_wakeups_per_job = df_bench_median(sw, (size_t)reps);
  out->latency_p50_us = df_bench_median(p50, (size_t)reps);
  out->latency_p99_us = df_bench_median(p99, (size_t)reps);
  return 0;
}

/* BLOCKING and BEHIND: no warm-up beyond one job (threads may start
 * lazily, as libuv's do; the pool's own start-up is not what is measured). */
static int run_blocking(pool_run *r, const pool_suite *s, int reps,
                        pool_figures *out) {
  double v[MAX_REPS];
  if (burst(r, &r->noop, 1, NULL) < 0)
    return -1;
  atomic_store(&measured_sleep_ns, 0);
  atomic_store(&measured_sleeps, 0);
  for (int i = 0; i < reps; i++) {
    v[i] = s->kind == POOL_SUITE_BLOCKING ? burst(r, &r->sleeper, s->jobs, NULL)
                                          : behind(r, s->jobs);
    if (v[i] < 0)
      return -1;
  }
  double median = df_bench_median(v, (size_t)reps);
  uint64_t sleeps = atomic_load(&measured_sleeps);
  out->job_real_us = sleeps > 0 ? (double)atomic_load(&measured_sleep_ns) /
                                      (double)sleeps / 1e3
                                : -1.0;
  if (s->kind == POOL_SUITE_BLOCKING)
    out->blocking_jobs_per_s = median;
  else
    out->behind_short_done_ms = median;
  return 0;
}

int pool_suite_run(const pool_impl *impl, const pool_suite *s,
                   pool_figures *out) {
  pool_run r;
  memset(&r, 0, sizeof r);
  r.impl = impl;
  init_classes(&r, s);
  clear(out);
  int reps = s->reps > 0 && s->reps <= MAX_REPS ? s->reps : 1;
  if (impl->open(&r.ctx, s->threads) != 0)
    return -1;
  int rc;
  switch (s->kind) {
  case POOL_SUITE_TIME:
    rc = run_time(&r, s, reps, out);
    break;
  case POOL_SUITE_BLOCKING:
  case POOL_SUITE_BEHIND:
    rc = run_blocking(&r, s, reps, out);
    break;
  case POOL_SUITE_BURST_ONCE:
    rc = burst(&r, &r.noop, s->jobs, NULL) < 0 ? -1 : 0;
    break;
  case POOL_SUITE_STEADY_ONCE:
    rc = steady(&r, s->jobs, s->in_flight, NULL) < 0 ? -1 : 0;
    break;
  default:
    rc = -1;
  }
  impl->close(r.ctx);
  return rc;
}

const pool_impl *pool_impl_named(const char *name) {
  static const pool_impl *const all[] = {&pool_impl_ours, &pool_impl_uv,
                                         &pool_impl_floor};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (strcmp(all[i]->name, name) == 0)
      return all[i];
  return NULL;
}

/* ---------------------------------------------------------------- child */

void pool_suite_to_argv(const char *impl, const pool_suite *s, char **argv,
                        char (*buf)[24]) {
  long fields[POOL_SUITE_FIELDS] = {
      (long)s->kind,  (long)s->threads, s->jobs,
      s->steady_jobs, s->in_flight,     s->latency_jobs,
      s->sleep_us,    s->long_us,       (long)s->reps};
  size_t n = POOL_SUITE_FIELDS;
  argv[0] = (char *)"pool";
  argv[1] = (char *)"--child";
  argv[2] = (char *)impl;
  for (size_t i = 0; i < n; i++) {
    snprintf(buf[i], 24, "%ld", fields[i]);
    argv[3 + i] = buf[i];
  }
  argv[3 + n] = NULL;
}

static int suite_from_argv(int argc, char **argv, pool_suite *s) {
  long f[POOL_SUITE_FIELDS];
  if (argc != 3 + POOL_SUITE_FIELDS)
    return -1;
  for (int i = 0; i < POOL_SUITE_FIELDS; i++) {
    char *end;
    f[i] = strtol(argv[3 + i], &end, 10);
    if (*end != '\0' || f[i] < 0)
      return -1;
  }
  if (f[0] >= POOL_SUITE_KINDS || f[1] < 1 || f[2] < 1)
    return -1;
  *s = (pool_suite){(pool_suite_kind)f[0],
                    (unsigned)f[1],
                    f[2],
                    f[3],
                    f[4],
                    f[5],
                    f[6],
                    f[7],
                    (int)f[8]};
  if (s->kind == POOL_SUITE_TIME &&
      (s->steady_jobs < 1 || s->in_flight < 1 || s->latency_jobs < 1))
    return -1;
  if (s->kind == POOL_SUITE_STEADY_ONCE && s->in_flight < 1)
    return -1;
  return 0;
}

int pool_child_main(int argc, char **argv) {
  pool_suite s;
  pool_figures f;
  const pool_impl *impl = argc > 2 ? pool_impl_named(argv[2]) : NULL;
  if (impl == NULL || suite_from_argv(argc, argv, &s) != 0) {
    fprintf(stderr, "pool --child: bad arguments\n");
    return 2;
  }
  if (pool_suite_run(impl, &s, &f) != 0)
    return 1;
  const double *v = (const double *)&f;
  printf("pool-child");
  for (int i = 0; i < POOL_FIGURES; i++)
    printf(" %.9g", v[i]);
  printf("\n");
  return 0;
}

int pool_figures_parse(const char *output, pool_figures *out) {
  const char *line = strncmp(output, "pool-child ", 11) == 0
                         ? output
                         : strstr(output, "\npool-child ");
  if (line == NULL)
    return -1;
  line = strchr(line, ' ');
  double *v = (double *)out;
  for (int i = 0; i < POOL_FIGURES; i++) {
    char *end;
    v[i] = strtod(line, &end);
    if (end == line)
      return -1;
    line = end;
  }
  return 0;
}

int pool_suite_run_child(const char *impl, const pool_suite *s,
                         pool_figures *out) {
  char buf[POOL_SUITE_FIELDS][24];
  char *argv[POOL_SUITE_FIELDS + 5];
  char threads[24];
  char output[4096];
  pool_suite_to_argv(impl, s, argv + 1, buf);
  argv[0] = (char *)"/proc/self/exe";
  snprintf(threads, sizeof threads, "%u", s->threads);
  int status = df_bench_run_child(argv, "UV_THREADPOOL_SIZE", threads, output,
                                  sizeof output);
  return status == 0 && pool_figures_parse(output, out) == 0 ? 0 : -1;
}
