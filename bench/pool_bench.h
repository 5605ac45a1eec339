/* What the pool benchmark's two halves share: the three workloads'
 * parameters and results. bench/pool.c measures df_pool; bench/pool_uv.c
 * measures libuv's uv_queue_work on the same workloads, in a child process
 * per thread count (libuv reads UV_THREADPOOL_SIZE once per process). */
#ifndef DF_POOL_BENCH_H
#define DF_POOL_BENCH_H

#include <stdbool.h>

/* The workloads, for one thread count. */
typedef struct pool_bench_params {
  unsigned threads;
  long burst_jobs;    /* (a) submitted at once, then all waited for */
  long steady_jobs;   /* (b) completed with in_flight jobs kept in flight */
  long in_flight;
  long latency_jobs;  /* (c) one at a time */
  int reps;           /* runs of each workload; the median run is kept */
} pool_bench_params;

/* Medians over the runs; wake-ups per job < 0 when not measured. */
typedef struct pool_bench_result {
  double burst_jobs_per_s;
  double burst_preallocated_jobs_per_s; /* libuv only: requests made before
                                           the clock starts; < 0 otherwise */
  double burst_wakeups_per_job;
  double steady_jobs_per_s;
  double steady_wakeups_per_job;
  double latency_p50_us;
  double latency_p99_us;
} pool_bench_result;

/* Runs the three workloads on libuv in this process, with the thread count
 * already in UV_THREADPOOL_SIZE. Returns 0, or -1 when libuv failed. */
int pool_bench_uv_run(const pool_bench_params *p, pool_bench_result *out);

#endif
