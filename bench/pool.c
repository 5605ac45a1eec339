/* `deferred-bench pool`: round trips through df_pool (submit on the reactor,
 * run on a worker, fire back on the reactor), with 1, 2 and 4 threads, and
 * libuv's uv_queue_work on the same workloads in the same run:
 *   (a) burst: 100,000 no-op jobs submitted at once, completions counted;
 *   (b) steady state: 256 jobs kept in flight until 100,000 completed;
 *   (c) latency: one job at a time, 10,000 times, p50 and p99.
 * Each side makes one request object per job: df_defer_to_thread() a
 * Deferred, the libuv side a malloc'd uv_work_t (bench/pool_uv.c); libuv's
 * burst with requests allocated beforehand is printed too, for reference.
 * libuv reads UV_THREADPOOL_SIZE once per process, so each of its thread
 * counts runs in a child: this program again, with the hidden arguments
 * `pool --uv-child THREADS BURST STEADY IN_FLIGHT LATENCY REPS`. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deferred.h>

#include "bench.h"
#include "pool_bench.h"

#define MAX_THREAD_COUNTS 8
#define BUDGET_THREADS 2u

typedef struct pool_config {
  unsigned threads[MAX_THREAD_COUNTS];
  size_t n_threads;
  bool uv;
  pool_bench_params params; /* threads filled in per row */
} pool_config;

typedef struct pool_row {
  unsigned threads;
  pool_bench_result ours;
  pool_bench_result uv;
  bool have_uv;
} pool_row;

/* ---------------------------------------------------------------- workloads */

typedef struct run_state {
  df_reactor *reactor;
  df_pool *pool;
  long submitted;
  long done;
  long target;
  bool failed;
} run_state;

static df_result noop_work(void *arg) {
  (void)arg;
  return df_ok(NULL, NULL);
}

static df_result count_done(df_result in, void *arg) {
  ((run_state *)arg)->done++;
  return in;
}

static bool submit(run_state *s, df_callback_fn cb) {
  df_deferred *d = df_defer_to_thread(s->pool, noop_work, NULL);
  if (d == NULL)
    return false;
  bool refused = df_called(d); /* full or closed: must not happen here */
  df_add_callback(d, cb, s);
  df_unref(d);
  s->submitted++;
  return !refused;
}

static uint64_t wakeups(df_pool *p) {
  struct df_pool_stats st;
  return df_pool_stats(p, &st) == 0 ? st.wakeups : 0;
}

/* Runs the reactor until target jobs came back. */
static bool wait_done(run_state *s) {
  while (s->done < s->target && !s->failed) {
    if (df_reactor_run_once(s->reactor, -1) < 0)
      return false;
  }
  return !s->failed;
}

/* (a) Returns jobs/s (and wake-ups per job), or -1. */
static double burst(run_state *s, long jobs, double *wakeups_per_job) {
  uint64_t w0 = wakeups(s->pool);
  s->done = 0;
  s->submitted = 0;
  s->target = jobs;
  uint64_t start = df_bench_now_ns();
  for (long i = 0; i < jobs; i++)
    s->failed |= !submit(s, count_done);
  if (!wait_done(s))
    return -1.0;
  uint64_t elapsed = df_bench_now_ns() - start;
  *wakeups_per_job = (double)(wakeups(s->pool) - w0) / (double)jobs;
  return (double)jobs * 1e9 / (double)elapsed;
}

/* (b) Each completion submits the next job until target were submitted. */
static df_result resubmit(df_result in, void *arg) {
  run_state *s = arg;
  s->done++;
  if (s->submitted < s->target)
    s->failed |= !submit(s, resubmit);
  return in;
}

static double steady(run_state *s, long jobs, long in_flight,
                     double *wakeups_per_job) {
  uint64_t w0 = wakeups(s->pool);
  s->done = 0;
  s->submitted = 0;
  s->target = jobs;
  uint64_t start = df_bench_now_ns();
  for (long i = 0; i < in_flight && s->submitted < jobs; i++)
    s->failed |= !submit(s, resubmit);
  if (!wait_done(s))
    return -1.0;
  uint64_t elapsed = df_bench_now_ns() - start;
  *wakeups_per_job = (double)(wakeups(s->pool) - w0) / (double)jobs;
  return (double)jobs * 1e9 / (double)elapsed;
}

/* (c) One job at a time; samples in µs. */
static int latency(run_state *s, long jobs, double *samples) {
  for (long i = 0; i < jobs; i++) {
    s->done = 0;
    s->target = 1;
    uint64_t start = df_bench_now_ns();
    s->failed |= !submit(s, count_done);
    if (!wait_done(s))
      return -1;
    samples[i] = (double)(df_bench_now_ns() - start) / 1e3;
  }
  return 0;
}

static int measure_ours(const pool_bench_params *p, pool_bench_result *out) {
  run_state s;
  memset(&s, 0, sizeof s);
  int reps = p->reps > 0 && p->reps <= 64 ? p->reps : 1;
  double bursts[64], bwake[64], steadies[64], swake[64], p50s[64], p99s[64];
  double *samples = malloc((size_t)p->latency_jobs * sizeof *samples);
  df_pool_options opts = {.threads = p->threads, .max_queued = SIZE_MAX};
  int rc = -1;
  if (samples == NULL || df_reactor_new(&s.reactor, NULL) != 0) {
    free(samples);
    return -1;
  }
  if (df_pool_new(&s.pool, s.reactor, &opts) == 0) {
    double ignored;
    rc = burst(&s, 1000, &ignored) < 0 ? -1 : 0; /* warm-up */
    for (int r = 0; r < reps && rc == 0; r++) {
      bursts[r] = burst(&s, p->burst_jobs, &bwake[r]);
      steadies[r] = steady(&s, p->steady_jobs, p->in_flight, &swake[r]);
      if (bursts[r] < 0 || steadies[r] < 0 ||
          latency(&s, p->latency_jobs, samples) != 0) {
        rc = -1;
        break;
      }
      p50s[r] = df_bench_percentile(samples, (size_t)p->latency_jobs, 0.50);
      p99s[r] = df_bench_percentile(samples, (size_t)p->latency_jobs, 0.99);
    }
    if (rc == 0) {
      out->burst_jobs_per_s = df_bench_median(bursts, (size_t)reps);
      out->burst_preallocated_jobs_per_s = -1.0;
      out->burst_wakeups_per_job = df_bench_median(bwake, (size_t)reps);
      out->steady_jobs_per_s = df_bench_median(steadies, (size_t)reps);
      out->steady_wakeups_per_job = df_bench_median(swake, (size_t)reps);
      out->latency_p50_us = df_bench_median(p50s, (size_t)reps);
      out->latency_p99_us = df_bench_median(p99s, (size_t)reps);
    }
    df_pool_close(s.pool, DF_POOL_DRAIN);
    df_pool_free(s.pool);
  }
  df_reactor_free(s.reactor);
  free(samples);
  return rc;
}

/* ---------------------------------------------------------------- libuv child */

/* The hidden subcommand: measure libuv and print one line for the parent. */
static int uv_child(int argc, char **argv) {
  pool_bench_params p;
  pool_bench_result r;
  if (argc != 8)
    return 2;
  p.threads = (unsigned)strtoul(argv[2], NULL, 10);
  p.burst_jobs = strtol(argv[3], NULL, 10);
  p.steady_jobs = strtol(argv[4], NULL, 10);
  p.in_flight = strtol(argv[5], NULL, 10);
  p.latency_jobs = strtol(argv[6], NULL, 10);
  p.reps = (int)strtol(argv[7], NULL, 10);
  if (p.burst_jobs <= 0 || p.steady_jobs <= 0 || p.in_flight <= 0 ||
      p.latency_jobs <= 0 || pool_bench_uv_run(&p, &r) != 0)
    return 1;
  printf("uv %.6g %.6g %.6g %.6g %.6g\n", r.burst_jobs_per_s,
         r.steady_jobs_per_s, r.latency_p50_us, r.latency_p99_us,
         r.burst_preallocated_jobs_per_s);
  return 0;
}

/* Runs this program as the libuv child for p->threads threads and reads its
 * line. Returns 0, or -1 when the child failed. */
static int measure_uv(const pool_bench_params *p, pool_bench_result *out) {
  char args[6][24];
  snprintf(args[0], sizeof args[0], "%u", p->threads);
  snprintf(args[1], sizeof args[1], "%ld", p->burst_jobs);
  snprintf(args[2], sizeof args[2], "%ld", p->steady_jobs);
  snprintf(args[3], sizeof args[3], "%ld", p->in_flight);
  snprintf(args[4], sizeof args[4], "%ld", p->latency_jobs);
  snprintf(args[5], sizeof args[5], "%d", p->reps);
  char *argv[] = {(char *)"deferred-bench", (char *)"pool",
                  (char *)"--uv-child", args[0], args[1], args[2], args[3],
                  args[4], args[5], NULL};
  argv[0] = (char *)"/proc/self/exe";
  char line[1024];
  int status = df_bench_run_child(argv, "UV_THREADPOOL_SIZE", args[0], line,
                                  sizeof line);
  /* The result is the line that starts with "uv "; main() may print a
   * header before it. */
  const char *result = strncmp(line, "uv ", 3) == 0 ? line : strstr(line, "\nuv ");
  if (result != NULL && result[0] == '\n')
    result++;
  if (status != 0 || result == NULL ||
      sscanf(result, "uv %lf %lf %lf %lf %lf", &out->burst_jobs_per_s,
             &out->steady_jobs_per_s, &out->latency_p50_us,
             &out->latency_p99_us, &out->burst_preallocated_jobs_per_s) != 5)
    return -1;
  out->burst_wakeups_per_job = -1.0;
  out->steady_wakeups_per_job = -1.0;
  return 0;
}

/* ---------------------------------------------------------------- report */

/* One line of the table: deferred, libuv and the ratio oriented so that
 * above 1 means deferred is better. Rates print with 4 significant digits,
 * times with 2 decimals. */
static void print_line(const char *what, double ours, double uv, bool have_uv,
                       bool is_rate) {
  printf("  %-22s", what);
  if (is_rate)
    printf(" %12.4g", ours);
  else
    printf(" %12.2f", ours);
  if (!have_uv) {
    printf(" %12s %8s\n", "n/a", "n/a");
    return;
  }
  if (is_rate)
    printf(" %12.4g %7.2fx\n", uv, ours / uv);
  else
    printf(" %12.2f %7.2fx\n", uv, uv / ours);
}

static void print_row(const pool_row *r) {
  printf("\n  %u thread%s %23s %12s %8s\n", r->threads,
         r->threads == 1 ? " " : "s", "deferred", "libuv", "ratio");
  print_line("burst jobs/s", r->ours.burst_jobs_per_s, r->uv.burst_jobs_per_s,
             r->have_uv, true);
  if (r->have_uv)
    printf("  %-22s %12s %12.4g %7.2fx\n", "burst, libuv prealloc", "",
           r->uv.burst_preallocated_jobs_per_s,
           r->ours.burst_jobs_per_s / r->uv.burst_preallocated_jobs_per_s);
  print_line("steady jobs/s", r->ours.steady_jobs_per_s,
             r->uv.steady_jobs_per_s, r->have_uv, true);
  print_line("latency p50 us", r->ours.latency_p50_us, r->uv.latency_p50_us,
             r->have_uv, false);
  print_line("latency p99 us", r->ours.latency_p99_us, r->uv.latency_p99_us,
             r->have_uv, false);
  printf("  %-22s %12.5f\n", "burst wake-ups/job", r->ours.burst_wakeups_per_job);
  printf("  %-22s %12.5f\n", "steady wake-ups/job",
         r->ours.steady_wakeups_per_job);
}

static void record_row(df_bench_json *j, const pool_row *r) {
  char name[64];
#define METRIC(fmt, value, unit)                                               \
  do {                                                                         \
    snprintf(name, sizeof name, fmt "_t%u", r->threads);                       \
    df_bench_json_metric(j, "pool", name, (value), unit);                      \
  } while (0)
  METRIC("burst_jobs_per_second", r->ours.burst_jobs_per_s, "1/s");
  METRIC("burst_wakeups_per_job", r->ours.burst_wakeups_per_job, "wakeups");
  METRIC("steady_jobs_per_second", r->ours.steady_jobs_per_s, "1/s");
  METRIC("steady_wakeups_per_job", r->ours.steady_wakeups_per_job, "wakeups");
  METRIC("latency_p50", r->ours.latency_p50_us, "us");
  METRIC("latency_p99", r->ours.latency_p99_us, "us");
  if (r->have_uv) {
    METRIC("uv_burst_jobs_per_second", r->uv.burst_jobs_per_s, "1/s");
    METRIC("uv_burst_preallocated_jobs_per_second",
           r->uv.burst_preallocated_jobs_per_s, "1/s");
    METRIC("uv_steady_jobs_per_second", r->uv.steady_jobs_per_s, "1/s");
    METRIC("uv_latency_p50", r->uv.latency_p50_us, "us");
    METRIC("uv_latency_p99", r->uv.latency_p99_us, "us");
    METRIC("ratio_burst_vs_uv", r->ours.burst_jobs_per_s / r->uv.burst_jobs_per_s,
           "x");
    METRIC("ratio_steady_vs_uv",
           r->ours.steady_jobs_per_s / r->uv.steady_jobs_per_s, "x");
    METRIC("ratio_latency_p99_vs_uv",
           r->ours.latency_p99_us / r->uv.latency_p99_us, "x");
  }
#undef METRIC
}

static void report_budgets(const df_bench_opts *o, const pool_row *rows,
                           size_t n) {
  const pool_row *r = NULL;
  for (size_t i = 0; i < n; i++)
    if (rows[i].threads == BUDGET_THREADS)
      r = &rows[i];
  if (r == NULL)
    return;
  double na = -1.0;
  df_bench_budget budgets[] = {
      {"burst jobs/s vs libuv, 2 threads",
       r->have_uv ? r->ours.burst_jobs_per_s / r->uv.burst_jobs_per_s : na, 3.0,
       true, "x"},
      {"steady jobs/s vs libuv, 2 threads",
       r->have_uv ? r->ours.steady_jobs_per_s / r->uv.steady_jobs_per_s : na,
       1.3, true, "x"},
      {"p99 latency vs libuv's, 2 threads",
       r->have_uv ? r->ours.latency_p99_us / r->uv.latency_p99_us : na, 1.05,
       false, "x"},
      {"steady wake-ups per job, 2 threads", r->ours.steady_wakeups_per_job,
       0.01, false, "wakeups"},
  };
  printf("\n");
  df_bench_print_budgets(o, "pool", budgets,
                         sizeof budgets / sizeof budgets[0]);
}

/* ---------------------------------------------------------------- driver */

static int usage(void) {
  fprintf(stderr, "usage: pool [--no-uv] [--threads N[,N...]] [--jobs N]\n");
  return -1;
}

static int parse_threads(const char *list, pool_config *c) {
  c->n_threads = 0;
  const char *p = list;
  while (*p != '\0') {
    char *end;
    unsigned long t = strtoul(p, &end, 10);
    if (end == p || t == 0 || t > 64 || c->n_threads == MAX_THREAD_COUNTS)
      return -1;
    c->threads[c->n_threads++] = (unsigned)t;
    p = *end == ',' ? end + 1 : end;
    if (*end != ',' && *end != '\0')
      return -1;
  }
  return c->n_threads > 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, bool quick, pool_config *c) {
  static const unsigned default_threads[] = {1, 2, 4};
  memcpy(c->threads, default_threads, sizeof default_threads);
  c->n_threads = 3;
  c->uv = true;
  c->params.burst_jobs = quick ? 10000 : 100000;
  c->params.steady_jobs = quick ? 10000 : 100000;
  c->params.in_flight = 256;
  c->params.latency_jobs = quick ? 1000 : 10000;
  c->params.reps = quick ? 1 : 5;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-uv") == 0) {
      c->uv = false;
    } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      if (parse_threads(argv[++i], c) != 0)
        return usage();
    } else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
      long n = strtol(argv[++i], NULL, 10);
      if (n <= 0 || n > 10000000)
        return usage();
      c->params.burst_jobs = c->params.steady_jobs = n;
    } else {
      return usage();
    }
  }
  return 0;
}

int df_bench_pool(int argc, char **argv, const df_bench_opts *o) {
  if (argc >= 2 && strcmp(argv[1], "--uv-child") == 0)
    return uv_child(argc, argv);
  pool_config c;
  if (parse_args(argc, argv, o->quick, &c) != 0)
    return 1;
  printf("pool: no-op jobs submitted on the reactor, fired back on it\n");
  printf("  burst %ld jobs at once; steady %ld jobs, %ld in flight; latency "
         "%ld one at a time; median of %d run%s\n",
         c.params.burst_jobs, c.params.steady_jobs, c.params.in_flight,
         c.params.latency_jobs, c.params.reps, c.params.reps == 1 ? "" : "s");
  pool_row rows[MAX_THREAD_COUNTS];
  int failed = 0;
  for (size_t i = 0; i < c.n_threads; i++) {
    pool_row *r = &rows[i];
    memset(r, 0, sizeof *r);
    r->threads = c.threads[i];
    pool_bench_params p = c.params;
    p.threads = r->threads;
    if (measure_ours(&p, &r->ours) != 0) {
      fprintf(stderr, "pool: %u threads: the deferred pool failed\n",
              r->threads);
      return 1;
    }
    if (c.uv) {
      r->have_uv = measure_uv(&p, &r->uv) == 0;
      if (!r->have_uv) {
        fprintf(stderr, "pool: %u threads: the libuv child failed\n",
                r->threads);
        failed = 1;
      }
    }
    print_row(r);
    record_row(o->json, r);
  }
  report_budgets(o, rows, c.n_threads);
  return failed;
}
