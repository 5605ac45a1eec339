/* `deferred-bench pool`: the thread pool against libuv's uv_queue_work and
 * against a floor (the least a correct hand-off costs, bench/pool_floor.c),
 * all in one run, on the same workloads (bench/pool_workload.c):
 *   time, at 1, 2 and 4 threads: burst of 100,000 no-op jobs submitted at
 *     once; steady state with 256 in flight until 100,000 completed;
 *     latency of one job at a time (p50, p99);
 *   blocking: 2,000 jobs sleeping 1 ms, all submitted at once, on 8 and on
 *     64 threads, against the ideal T / 1 ms jobs per second; and one wave
 *     of 4 jobs sleeping 50 ms on 4 threads (should take 50 ms);
 *   behind: 20 jobs of 1 ms submitted right behind one of 300 ms on 2
 *     threads: time until the short ones are done, against 20 ms / (T - 1);
 *   instructions per job (callgrind, every thread, difference of two sizes)
 *     on burst and steady at 2 threads, when valgrind is installed.
 * Ours and the floor run in this process; libuv runs in a child per thread
 * count (it reads UV_THREADPOOL_SIZE once per process); callgrind runs every
 * implementation in a child. Children are this program again, with the
 * hidden arguments `pool --child ...` (pool_child_main). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "pool_bench.h"

#define MAX_THREAD_COUNTS 8
#define BUDGET_THREADS 2u
#define N_IMPLS 3
#define MAX_CALLGRIND_REPS 9
#define N_BLOCKING 3 /* 8 threads, 64 threads, one wave */

enum { OURS = 0, UV = 1, FLOOR = 2 };
static const char *const impl_names[N_IMPLS] = {"ours", "uv", "floor"};
static const char *const impl_titles[N_IMPLS] = {"deferred", "libuv", "floor"};

typedef struct pool_config {
  unsigned threads[MAX_THREAD_COUNTS];
  size_t n_threads;
  bool uv;
  bool callgrind;
  pool_suite time; /* threads filled in per row */
  pool_suite blocking[N_BLOCKING];
  pool_suite behind;
  long callgrind_jobs; /* the smaller size; the larger is twice that */
  int callgrind_reps;  /* pairs of sizes; the median is kept */
} pool_config;

/* Figures of one suite for every implementation; have[i] false when that
 * one was not run or failed. */
typedef struct pool_cell {
  pool_figures f[N_IMPLS];
  bool have[N_IMPLS];
} pool_cell;

typedef struct pool_report {
  pool_cell time[MAX_THREAD_COUNTS];
  pool_cell blocking[N_BLOCKING];
  pool_cell behind;
  /* Instructions per job; < 0 when not measured. [impl][0 burst, 1 steady] */
  double insns[N_IMPLS][2];
} pool_report;

/* ---------------------------------------------------------------- running */

/* Runs \p s on every implementation: ours and the floor here, libuv in a
 * child. Returns non-zero when one of them failed. */
static int run_cell(const pool_config *c, const pool_suite *s,
                    pool_cell *cell) {
  int failed = 0;
  for (int i = 0; i < N_IMPLS; i++) {
    cell->have[i] = false;
    if (i == UV && !c->uv)
      continue;
    int rc = i == UV ? pool_suite_run_child("uv", s, &cell->f[i])
                     : pool_suite_run(pool_impl_named(impl_names[i]), s,
                                      &cell->f[i]);
    cell->have[i] = rc == 0;
    if (rc != 0) {
      fprintf(stderr, "pool: %s, %u threads: the run failed\n", impl_titles[i],
              s->threads);
      failed = 1;
    }
  }
  return failed;
}

/* Instructions per job of \p kind on \p impl: two sizes under callgrind,
 * the median of \p reps such pairs. A pool whose idle workers poll for a
 * while counts more or fewer polls depending on how valgrind interleaved the
 * threads, so one pair can be off by a tenth or more. */
static double instructions_per_job(const char *valgrind, const char *impl,
                                   pool_suite_kind kind, long jobs,
                                   long in_flight, int reps) {
  double per_job[MAX_CALLGRIND_REPS];
  for (int i = 0; i < reps; i++) {
    pool_suite s = {kind, BUDGET_THREADS, jobs, 0, in_flight, 0, 0, 0, 1};
    double small = pool_callgrind_instructions(valgrind, impl, &s);
    s.jobs = 2 * jobs;
    double large = pool_callgrind_instructions(valgrind, impl, &s);
    if (small < 0 || large < 0) {
      fprintf(stderr, "pool: callgrind run of %s failed\n", impl);
      return -1.0;
    }
    per_job[i] = (large - small) / (double)jobs;
  }
  return df_bench_median(per_job, (size_t)reps);
}

static void run_callgrind(const pool_config *c, pool_report *r) {
  for (int i = 0; i < N_IMPLS; i++)
    r->insns[i][0] = r->insns[i][1] = -1.0;
  if (!c->callgrind) {
    printf("\ninstructions per job: not measured (--no-callgrind, or --quick "
           "without --callgrind)\n");
    return;
  }
  const char *valgrind = df_bench_find_valgrind();
  if (valgrind == NULL) {
    printf("\ninstructions per job: skipped, valgrind is not installed\n");
    return;
  }
  for (int i = 0; i < N_IMPLS; i++) {
    if (i == UV && !c->uv)
      continue;
    r->insns[i][0] =
        instructions_per_job(valgrind, impl_names[i], POOL_SUITE_BURST_ONCE,
                             c->callgrind_jobs, 0, c->callgrind_reps);
    r->insns[i][1] = instructions_per_job(
        valgrind, impl_names[i], POOL_SUITE_STEADY_ONCE, c->callgrind_jobs,
        c->time.in_flight, c->callgrind_reps);
  }
}

/* ---------------------------------------------------------------- printing */

static bool have(const pool_cell *cell, int i, double v) {
  return cell->have[i] && v >= 0;
}

static void print_ratio(double a, double b, bool ok) {
  if (ok && b > 0)
    printf(" %9.2fx", a / b);
  else
    printf(" %10s", "n/a");
}

/* How a figure is printed: significant digits or decimals. */
typedef enum figure_style {
  RATE,
  USEC,
  PER_JOB,
  COUNT,
  MSEC,
  PERCENT
} figure_style;

static void print_figure(double v, figure_style style) {
  switch (style) {
  case RATE:
    printf(" %11.4g", v);
    break;
  case USEC:
  case MSEC:
    printf(" %11.2f", v);
    break;
  case PER_JOB:
    printf(" %11.5f", v);
    break;
  case COUNT:
    printf(" %11.0f", v);
    break;
  case PERCENT:
    printf(" %10.1f%%", v);
    break;
  }
}

/* One line: ours, libuv, floor, ours/libuv, ours/floor. */
static void print_values(const char *what, const double v[N_IMPLS],
                         const bool ok[N_IMPLS], figure_style style) {
  printf("  %-28s", what);
  for (int i = 0; i < N_IMPLS; i++) {
    if (ok[i])
      print_figure(v[i], style);
    else
      printf(" %11s", "n/a");
  }
  print_ratio(v[OURS], v[UV], ok[OURS] && ok[UV]);
  print_ratio(v[OURS], v[FLOOR], ok[OURS] && ok[FLOOR]);
  printf("\n");
}

static void print_header(const char *title) {
  printf("\n  %-28s %11s %11s %11s %10s %10s\n", title, impl_titles[OURS],
         impl_titles[UV], impl_titles[FLOOR], "/libuv", "/floor");
}

/* The figure at byte offset \p off of each implementation's pool_figures. */
static void pick(const pool_cell *cell, size_t off, double v[N_IMPLS],
                 bool ok[N_IMPLS]) {
  for (int i = 0; i < N_IMPLS; i++) {
    v[i] = *(const double *)((const char *)&cell->f[i] + off);
    ok[i] = have(cell, i, v[i]);
  }
}

#define FIGURE(name) offsetof(pool_figures, name)

static void print_time(const pool_cell *cell, unsigned threads) {
  static const struct {
    const char *what;
    size_t off;
    figure_style style;
  } lines[] = {
      {"burst jobs/s", FIGURE(burst_jobs_per_s), RATE},
      {"steady jobs/s", FIGURE(steady_jobs_per_s), RATE},
      {"latency p50 us", FIGURE(latency_p50_us), USEC},
      {"latency p99 us", FIGURE(latency_p99_us), USEC},
      {"burst wake-ups/job", FIGURE(burst_wakeups_per_job), PER_JOB},
      {"steady wake-ups/job", FIGURE(steady_wakeups_per_job), PER_JOB},
  };
  char title[32];
  snprintf(title, sizeof title, "%u thread%s", threads,
           threads == 1 ? "" : "s");
  print_header(title);
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    double v[N_IMPLS];
    bool ok[N_IMPLS];
    pick(cell, lines[i].off, v, ok);
    print_values(lines[i].what, v, ok, lines[i].style);
  }
}

/* Share of the ideal, in percent: for a rate measured/ideal, for a time
 * ideal/measured. */
static double pct(double measured, double ideal, bool is_rate) {
  if (measured <= 0)
    return -1.0;
  return 100.0 * (is_rate ? measured / ideal : ideal / measured);
}

/* The ideals use the real length of the jobs' sleeps, as each
 * implementation's own jobs measured them in the same run (job_real_us):
 * nanosleep() overshoots by tens of microseconds on a 1 ms sleep, which no
 * pool can win back. Falls back to the asked length when not measured. */
static double real_us(const pool_suite *s, const pool_figures *f) {
  return f != NULL && f->job_real_us > 0 ? f->job_real_us : (double)s->sleep_us;
}

static double blocking_ideal(const pool_suite *s, const pool_figures *f) {
  return (double)s->threads * 1e6 / real_us(s, f);
}

static double behind_ideal_ms(const pool_suite *s, const pool_figures *f) {
  return (double)s->jobs * real_us(s, f) / 1e3 / (double)(s->threads - 1);
}

static void print_blocking(const pool_config *c, const pool_report *r) {
  printf("\n  blocking: sleeping jobs, all submitted at once; ideal = "
         "threads / real job length\n  (each implementation's own jobs "
         "measure how long their sleeps really took)\n");
  for (int k = 0; k < N_BLOCKING; k++) {
    const pool_suite *s = &c->blocking[k];
    const pool_cell *cell = &r->blocking[k];
    double v[N_IMPLS], p[N_IMPLS], real[N_IMPLS];
    bool ok[N_IMPLS];
    char title[64];
    printf("\n  %ld jobs of %ld us on %u threads", s->jobs, s->sleep_us,
           s->threads);
    snprintf(title, sizeof title, "%u threads", s->threads);
    print_header(title);
    pick(cell, FIGURE(blocking_jobs_per_s), v, ok);
    print_values("jobs/s", v, ok, RATE);
    pick(cell, FIGURE(job_real_us), real, ok);
    print_values("real job length, us", real, ok, USEC);
    for (int i = 0; i < N_IMPLS; i++)
      p[i] = pct(v[i], blocking_ideal(s, &cell->f[i]), true);
    print_values("% of ideal", p, ok, PERCENT);
  }
  const pool_suite *b = &c->behind;
  double v[N_IMPLS], p[N_IMPLS], real[N_IMPLS];
  bool ok[N_IMPLS];
  printf("\n  behind: %ld jobs of %ld us right behind one of %ld us, %u "
         "threads;\n  time until the short ones are done, ideal "
         "jobs * real length / (threads - 1)\n",
         b->jobs, b->sleep_us, b->long_us, b->threads);
  print_header("");
  pick(&r->behind, FIGURE(behind_short_done_ms), v, ok);
  print_values("short jobs done, ms", v, ok, MSEC);
  pick(&r->behind, FIGURE(job_real_us), real, ok);
  print_values("real job length, us", real, ok, USEC);
  for (int i = 0; i < N_IMPLS; i++)
    p[i] = pct(v[i], behind_ideal_ms(b, &r->behind.f[i]), false);
  print_values("% of ideal", p, ok, PERCENT);
}

static void print_insns(const pool_config *c, const pool_report *r) {
  if (r->insns[OURS][0] < 0 && r->insns[OURS][1] < 0 && r->insns[UV][0] < 0)
    return;
  printf("\n  instructions per job (callgrind, all threads, %u threads, "
         "(I(%ld) - I(%ld)) / %ld,\n  median of %d pair%s)\n",
         BUDGET_THREADS, 2 * c->callgrind_jobs, c->callgrind_jobs,
         c->callgrind_jobs, c->callgrind_reps,
         c->callgrind_reps == 1 ? "" : "s");
  print_header("");
  static const char *const what[2] = {"burst", "steady"};
  for (int w = 0; w < 2; w++) {
    double v[N_IMPLS];
    bool ok[N_IMPLS];
    for (int i = 0; i < N_IMPLS; i++) {
      v[i] = r->insns[i][w];
      ok[i] = v[i] >= 0;
    }
    print_values(what[w], v, ok, COUNT);
  }
}

/* ---------------------------------------------------------------- JSON */

static void metric(df_bench_json *j, int impl, const char *name,
                   unsigned threads, double v, const char *unit) {
  char full[128];
  if (v < 0)
    return;
  if (impl == OURS)
    snprintf(full, sizeof full, "%.80s_t%u", name, threads);
  else
    snprintf(full, sizeof full, "%s_%.80s_t%u", impl_names[impl], name,
             threads);
  df_bench_json_metric(j, "pool", full, v, unit);
}

static void ratio(df_bench_json *j, const char *name, unsigned threads,
                  double a, double b) {
  if (a >= 0 && b > 0)
    metric(j, OURS, name, threads, a / b, "x");
}

static void record(const pool_config *c, const pool_report *r,
                   df_bench_json *j) {
  if (j == NULL)
    return;
  for (size_t k = 0; k < c->n_threads; k++) {
    unsigned t = c->threads[k];
    const pool_cell *cell = &r->time[k];
    for (int i = 0; i < N_IMPLS; i++) {
      if (!cell->have[i])
        continue;
      const pool_figures *f = &cell->f[i];
      metric(j, i, "burst_jobs_per_second", t, f->burst_jobs_per_s, "1/s");
      metric(j, i, "steady_jobs_per_second", t, f->steady_jobs_per_s, "1/s");
      metric(j, i, "latency_p50", t, f->latency_p50_us, "us");
      metric(j, i, "latency_p99", t, f->latency_p99_us, "us");
      metric(j, i, "burst_wakeups_per_job", t, f->burst_wakeups_per_job,
             "wakeups");
      metric(j, i, "steady_wakeups_per_job", t, f->steady_wakeups_per_job,
             "wakeups");
    }
    const pool_figures *o = &cell->f[OURS];
    for (int i = UV; i <= FLOOR; i++) {
      if (!cell->have[i] || !cell->have[OURS])
        continue;
      const pool_figures *b = &cell->f[i];
      char name[64];
      snprintf(name, sizeof name, "ratio_burst_vs_%s", impl_names[i]);
      ratio(j, name, t, o->burst_jobs_per_s, b->burst_jobs_per_s);
      snprintf(name, sizeof name, "ratio_steady_vs_%s", impl_names[i]);
      ratio(j, name, t, o->steady_jobs_per_s, b->steady_jobs_per_s);
      snprintf(name, sizeof name, "ratio_latency_p50_vs_%s", impl_names[i]);
      ratio(j, name, t, o->latency_p50_us, b->latency_p50_us);
      snprintf(name, sizeof name, "ratio_latency_p99_vs_%s", impl_names[i]);
      ratio(j, name, t, o->latency_p99_us, b->latency_p99_us);
    }
  }
  for (int k = 0; k < N_BLOCKING; k++) {
    unsigned t = c->blocking[k].threads;
    const char *prefix = k == N_BLOCKING - 1 ? "wave_" : "";
    char name[96];
#define BLOCKING_NAME(what)                                                    \
  (snprintf(name, sizeof name, "%s%s", prefix, what), name)
    for (int i = 0; i < N_IMPLS; i++) {
      if (!r->blocking[k].have[i])
        continue;
      const pool_figures *f = &r->blocking[k].f[i];
      double ideal = blocking_ideal(&c->blocking[k], f);
      double v = f->blocking_jobs_per_s;
      metric(j, i, BLOCKING_NAME("blocking_ideal_jobs_per_second"), t, ideal,
             "1/s");
      metric(j, i, BLOCKING_NAME("blocking_job_real_us"), t, f->job_real_us,
             "us");
      metric(j, i, BLOCKING_NAME("blocking_jobs_per_second"), t, v, "1/s");
      metric(j, i, BLOCKING_NAME("blocking_pct_of_ideal"), t,
             pct(v, ideal, true), "%");
    }
    if (r->blocking[k].have[OURS] && r->blocking[k].have[UV])
      ratio(j, BLOCKING_NAME("ratio_blocking_vs_uv"), t,
            r->blocking[k].f[OURS].blocking_jobs_per_s,
            r->blocking[k].f[UV].blocking_jobs_per_s);
#undef BLOCKING_NAME
  }
  unsigned bt = c->behind.threads;
  for (int i = 0; i < N_IMPLS; i++) {
    if (!r->behind.have[i])
      continue;
    const pool_figures *f = &r->behind.f[i];
    double ideal = behind_ideal_ms(&c->behind, f);
    double v = f->behind_short_done_ms;
    metric(j, i, "behind_ideal_ms", bt, ideal, "ms");
    metric(j, i, "behind_job_real_us", bt, f->job_real_us, "us");
    metric(j, i, "behind_short_done_ms", bt, v, "ms");
    metric(j, i, "behind_pct_of_ideal", bt, pct(v, ideal, false), "%");
  }
  for (int i = 0; i < N_IMPLS; i++) {
    metric(j, i, "burst_instructions_per_job", BUDGET_THREADS, r->insns[i][0],
           "instructions");
    metric(j, i, "steady_instructions_per_job", BUDGET_THREADS, r->insns[i][1],
           "instructions");
  }
}

/* ---------------------------------------------------------------- budgets */

static double ratio_or_na(bool ok, double a, double b) {
  return ok && a >= 0 && b > 0 ? a / b : -1.0;
}

static void report_budgets(const df_bench_opts *o, const pool_config *c,
                           const pool_report *r) {
  const pool_cell *cell = NULL;
  for (size_t k = 0; k < c->n_threads; k++)
    if (c->threads[k] == BUDGET_THREADS)
      cell = &r->time[k];
  bool t_ok = cell != NULL && cell->have[OURS] && cell->have[UV];
  const pool_figures *us = cell != NULL ? &cell->f[OURS] : NULL;
  const pool_figures *uv = cell != NULL ? &cell->f[UV] : NULL;
  double b_pct[N_BLOCKING];
  for (int k = 0; k < N_BLOCKING; k++)
    b_pct[k] =
        r->blocking[k].have[OURS]
            ? pct(r->blocking[k].f[OURS].blocking_jobs_per_s,
                  blocking_ideal(&c->blocking[k], &r->blocking[k].f[OURS]),
                  true)
            : -1.0;
  double behind_pct =
      r->behind.have[OURS]
          ? pct(r->behind.f[OURS].behind_short_done_ms,
                behind_ideal_ms(&c->behind, &r->behind.f[OURS]), false)
          : -1.0;
  char blocking_what[N_BLOCKING][64];
  for (int k = 0; k < N_BLOCKING; k++)
    snprintf(blocking_what[k], sizeof blocking_what[k],
             "%ld blocking jobs, %% of ideal, %u threads", c->blocking[k].jobs,
             c->blocking[k].threads);
  df_bench_budget budgets[] = {
      {"burst instructions/job vs libuv, 2 threads",
       ratio_or_na(true, r->insns[OURS][0], r->insns[UV][0]), 1.0, false, "x"},
      {"steady instructions/job vs libuv, 2 threads",
       ratio_or_na(true, r->insns[OURS][1], r->insns[UV][1]), 1.0, false, "x"},
      {"burst jobs/s vs libuv, 2 threads",
       t_ok ? ratio_or_na(t_ok, us->burst_jobs_per_s, uv->burst_jobs_per_s)
            : -1.0,
       1.2, true, "x"},
      {"steady jobs/s vs libuv, 2 threads",
       t_ok ? ratio_or_na(t_ok, us->steady_jobs_per_s, uv->steady_jobs_per_s)
            : -1.0,
       1.0, true, "x"},
      {"p50 latency vs libuv's, 2 threads",
       t_ok ? ratio_or_na(t_ok, us->latency_p50_us, uv->latency_p50_us) : -1.0,
       1.05, false, "x"},
      {"p99 latency vs libuv's, 2 threads",
       t_ok ? ratio_or_na(t_ok, us->latency_p99_us, uv->latency_p99_us) : -1.0,
       1.05, false, "x"},
      {blocking_what[0], b_pct[0], 95.0, true, "%"},
      {blocking_what[1], b_pct[1], 95.0, true, "%"},
      {blocking_what[2], b_pct[2], 95.0, true, "%"},
      {"short jobs behind a long one, % of ideal", behind_pct, 95.0, true, "%"},
  };
  df_bench_print_budgets(o, "pool", budgets,
                         sizeof budgets / sizeof budgets[0]);
}

/* ---------------------------------------------------------------- driver */

static int usage(void) {
  fprintf(stderr,
          "usage: pool [--no-uv] [--threads N[,N...]] [--jobs N]\n"
          "            [--blocking-jobs N] [--callgrind-jobs N]\n"
          "  (--callgrind / --no-callgrind: see deferred-bench --help)\n");
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
    if (*end != ',' && *end != '\0')
      return -1;
    p = *end == ',' ? end + 1 : end;
  }
  return c->n_threads > 0 ? 0 : -1;
}

static long parse_count(const char *s) {
  char *end;
  long n = strtol(s, &end, 10);
  return *end == '\0' && n > 0 && n <= 10000000 ? n : -1;
}

static void defaults(const df_bench_opts *o, pool_config *c) {
  static const unsigned default_threads[] = {1, 2, 4};
  bool q = o->quick;
  memset(c, 0, sizeof *c);
  memcpy(c->threads, default_threads, sizeof default_threads);
  c->n_threads = 3;
  c->uv = true;
  c->callgrind = o->callgrind == DF_BENCH_CALLGRIND_ON ||
                 (o->callgrind == DF_BENCH_CALLGRIND_DEFAULT && !q);
  c->time = (pool_suite){POOL_SUITE_TIME,
                         0,
                         q ? 10000 : 100000,
                         q ? 10000 : 100000,
                         256,
                         q ? 1000 : 10000,
                         0,
                         0,
                         q ? 1 : 5};
  for (int k = 0; k < 2; k++)
    c->blocking[k] = (pool_suite){POOL_SUITE_BLOCKING,
                                  k == 0 ? 8 : 64,
                                  q ? 128 : 2000,
                                  0,
                                  0,
                                  0,
                                  1000,
                                  0,
                                  q ? 1 : 3};
  /* One wave: as many jobs as threads, so each must start at once. */
  c->blocking[2] = (pool_suite){POOL_SUITE_BLOCKING, 4, 4,        0, 0, 0,
                                q ? 10000 : 50000,   0, q ? 1 : 3};
  c->behind = (pool_suite){POOL_SUITE_BEHIND,  2,        20, 0, 0, 0, 1000,
                           q ? 50000 : 300000, q ? 1 : 3};
  c->callgrind_jobs = q ? 2000 : 20000;
  c->callgrind_reps = q ? 1 : 3;
}

static int parse_args(int argc, char **argv, const df_bench_opts *o,
                      pool_config *c) {
  defaults(o, c);
  for (int i = 1; i < argc; i++) {
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    long n = next != NULL ? parse_count(next) : -1;
    if (strcmp(argv[i], "--no-uv") == 0) {
      c->uv = false;
    } else if (strcmp(argv[i], "--threads") == 0 && next != NULL) {
      if (parse_threads(argv[++i], c) != 0)
        return usage();
    } else if (strcmp(argv[i], "--jobs") == 0 && n > 0) {
      c->time.jobs = c->time.steady_jobs = n;
      i++;
    } else if (strcmp(argv[i], "--blocking-jobs") == 0 && n > 0) {
      c->blocking[0].jobs = c->blocking[1].jobs = n;
      i++;
    } else if (strcmp(argv[i], "--callgrind-jobs") == 0 && n > 0) {
      c->callgrind_jobs = n;
      i++;
    } else {
      return usage();
    }
  }
  return 0;
}

int df_bench_pool(int argc, char **argv, const df_bench_opts *o) {
  if (argc >= 2 && strcmp(argv[1], "--child") == 0)
    return pool_child_main(argc, argv);
  pool_config c;
  pool_report *r = calloc(1, sizeof *r);
  if (r == NULL || parse_args(argc, argv, o, &c) != 0) {
    free(r);
    return 1;
  }
  printf("pool: jobs submitted on the loop thread, run on a worker, called "
         "back on the loop thread;\n"
         "  deferred = df_defer_to_thread + one callback; libuv = "
         "uv_queue_work (UV_THREADPOOL_SIZE = threads);\n"
         "  floor = mutex+condvar FIFO, lock-free completion stack, one pipe "
         "byte per batch.\n"
         "  burst %ld no-op jobs at once; steady %ld, %ld in flight; latency "
         "%ld one at a time; median of %d run%s.\n"
         "  Columns /libuv and /floor divide deferred's figure by theirs "
         "(rates: above 1 is better; times, counts: below 1).\n",
         c.time.jobs, c.time.steady_jobs, c.time.in_flight, c.time.latency_jobs,
         c.time.reps, c.time.reps == 1 ? "" : "s");
  fflush(stdout);
  int failed = 0;
  for (size_t k = 0; k < c.n_threads; k++) {
    pool_suite s = c.time;
    s.threads = c.threads[k];
    failed |= run_cell(&c, &s, &r->time[k]);
    print_time(&r->time[k], s.threads);
    fflush(stdout);
  }
  for (int k = 0; k < N_BLOCKING; k++)
    failed |= run_cell(&c, &c.blocking[k], &r->blocking[k]);
  failed |= run_cell(&c, &c.behind, &r->behind);
  print_blocking(&c, r);
  fflush(stdout);
  run_callgrind(&c, r);
  print_insns(&c, r);
  record(&c, r, o->json);
  printf("\n");
  report_budgets(o, &c, r);
  free(r);
  return failed;
}
