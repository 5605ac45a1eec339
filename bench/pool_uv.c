/* The libuv baseline of `deferred-bench pool`: uv_queue_work on the same
 * three workloads as bench/pool.c (burst, steady state, latency), with the
 * same no-op work and a done callback that counts. Runs in a child process
 * whose UV_THREADPOOL_SIZE the parent set.
 *
 * Like df_defer_to_thread(), which makes a Deferred per job, each job makes
 * its request: a uv_work_t from malloc, freed by its done callback (the
 * request must outlive the call, so that is what an application does). The
 * burst is also measured with requests allocated beforehand, in one array,
 * as the cheapest possible use of libuv. */
#define _POSIX_C_SOURCE 200809L /* uv.h needs the POSIX thread types */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "bench.h"
#include "pool_bench.h"

typedef struct uv_bench {
  uv_loop_t loop;
  long submitted;
  long done;
  long target;
  bool failed;
} uv_bench;

static void noop_work(uv_work_t *req) { (void)req; }

/* Done callback of a request from submit(): counts, then frees it. */
static void count_done(uv_work_t *req, int status) {
  uv_bench *b = req->data;
  (void)status;
  b->done++;
  free(req);
}

static void submit(uv_bench *b, uv_after_work_cb done) {
  uv_work_t *req = malloc(sizeof *req);
  b->submitted++;
  if (req == NULL) {
    b->failed = true;
    return;
  }
  req->data = b;
  if (uv_queue_work(&b->loop, req, noop_work, done) != 0) {
    free(req);
    b->failed = true;
  }
}

static void reset(uv_bench *b, long target) {
  b->done = 0;
  b->submitted = 0;
  b->target = target;
  b->failed = false;
}

/* jobs/s of a run that started at \p start, or -1 when it went wrong. */
static double rate(const uv_bench *b, long jobs, uint64_t start) {
  uint64_t elapsed = df_bench_now_ns() - start;
  if (b->failed || b->done != jobs)
    return -1.0;
  return (double)jobs * 1e9 / (double)elapsed;
}

/* (a) Every job submitted at once. */
static double burst(uv_bench *b, long jobs) {
  reset(b, jobs);
  uint64_t start = df_bench_now_ns();
  for (long i = 0; i < jobs; i++)
    submit(b, count_done);
  uv_run(&b->loop, UV_RUN_DEFAULT);
  return rate(b, jobs, start);
}

/* (a') The same with every request allocated before the clock starts. */
static void count_done_kept(uv_work_t *req, int status) {
  uv_bench *b = req->data;
  (void)status;
  b->done++;
}

static double burst_preallocated(uv_bench *b, long jobs) {
  uv_work_t *reqs = calloc((size_t)jobs, sizeof *reqs);
  if (reqs == NULL)
    return -1.0;
  for (long i = 0; i < jobs; i++)
    reqs[i].data = b; /* touches every page before the clock starts */
  reset(b, jobs);
  uint64_t start = df_bench_now_ns();
  for (long i = 0; i < jobs; i++)
    if (uv_queue_work(&b->loop, &reqs[i], noop_work, count_done_kept) != 0)
      b->failed = true;
  uv_run(&b->loop, UV_RUN_DEFAULT);
  double r = rate(b, jobs, start);
  free(reqs);
  return r;
}

/* (b) Each completion submits the next job until target were submitted. */
static void resubmit(uv_work_t *req, int status) {
  uv_bench *b = req->data;
  (void)status;
  b->done++;
  free(req);
  if (b->submitted < b->target)
    submit(b, resubmit);
}

static double steady(uv_bench *b, long jobs, long in_flight) {
  reset(b, jobs);
  uint64_t start = df_bench_now_ns();
  for (long i = 0; i < in_flight && b->submitted < jobs; i++)
    submit(b, resubmit);
  uv_run(&b->loop, UV_RUN_DEFAULT);
  return rate(b, jobs, start);
}

/* (c) One job at a time; fills samples (µs) and returns 0, or -1. */
static int latency(uv_bench *b, long jobs, double *samples) {
  for (long i = 0; i < jobs; i++) {
    reset(b, 1);
    uint64_t start = df_bench_now_ns();
    submit(b, count_done);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    samples[i] = (double)(df_bench_now_ns() - start) / 1e3;
    if (b->failed || b->done != 1)
      return -1;
  }
  return 0;
}

int pool_bench_uv_run(const pool_bench_params *p, pool_bench_result *out) {
  uv_bench b;
  int reps = p->reps > 0 && p->reps <= 64 ? p->reps : 1;
  double burst_runs[64], prealloc_runs[64], steady_runs[64], p50s[64], p99s[64];
  double *samples = malloc((size_t)p->latency_jobs * sizeof *samples);
  int rc = -1;
  if (samples == NULL || uv_loop_init(&b.loop) != 0) {
    free(samples);
    return -1;
  }
  /* Warm-up: libuv starts its threads at the first uv_queue_work. */
  if (burst(&b, 1000) < 0)
    goto done;
  for (int r = 0; r < reps; r++) {
    burst_runs[r] = burst(&b, p->burst_jobs);
    prealloc_runs[r] = burst_preallocated(&b, p->burst_jobs);
    steady_runs[r] = steady(&b, p->steady_jobs, p->in_flight);
    if (burst_runs[r] < 0 || prealloc_runs[r] < 0 || steady_runs[r] < 0 ||
        latency(&b, p->latency_jobs, samples) != 0)
      goto done;
    p50s[r] = df_bench_percentile(samples, (size_t)p->latency_jobs, 0.50);
    p99s[r] = df_bench_percentile(samples, (size_t)p->latency_jobs, 0.99);
  }
  out->burst_jobs_per_s = df_bench_median(burst_runs, (size_t)reps);
  out->burst_preallocated_jobs_per_s =
      df_bench_median(prealloc_runs, (size_t)reps);
  out->steady_jobs_per_s = df_bench_median(steady_runs, (size_t)reps);
  out->latency_p50_us = df_bench_median(p50s, (size_t)reps);
  out->latency_p99_us = df_bench_median(p99s, (size_t)reps);
  out->burst_wakeups_per_job = -1.0; /* libuv does not count its writes */
  out->steady_wakeups_per_job = -1.0;
  rc = 0;
done:
  uv_loop_close(&b.loop);
  free(samples);
  return rc;
}
