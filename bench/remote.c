/* deferred-bench remote: round trips through NATS JetStream (a nats-server
 * this command starts on loopback, worker processes that are this binary
 * re-run as "remote --worker"), beside the local pool on the same work in
 * the same run.
 *
 * Work: a no-op job (empty result) and a 1 ms job (nanosleep). Each worker
 * process has a pool of one thread; the local pool has as many threads as
 * there are worker processes. Figures:
 *   jobs/s   N jobs with 64 in flight (submitted on the reactor, each
 *            Deferred fired back on it)
 *   p50/p99  latency of one job at a time (submit to callback)
 *   hop      remote p50 minus local p50: what the trip through the broker
 *            and a worker process costs per job. */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <deferred.h>
#include <deferred/remote.h>

#include "../tests/support/dft_nats_server.h"
#include "bench.h"

/* Declared here and in main.c, which runs it. */
int df_bench_remote(int argc, char **argv, const df_bench_opts *o);

#define BENCH "remote"
#define IN_FLIGHT 64

/* ---------------------------------------------------------------- jobs */

static df_result noop_local(void *arg) {
  (void)arg;
  return df_ok(NULL, NULL);
}

static df_result sleep_local(void *arg) {
  (void)arg;
  struct timespec ts = {0, 1000000L};
  nanosleep(&ts, NULL);
  return df_ok(NULL, NULL);
}

static df_result noop_remote(df_remote_job *job, void *arg) {
  (void)job;
  return noop_local(arg);
}

static df_result sleep_remote(df_remote_job *job, void *arg) {
  (void)job;
  return sleep_local(arg);
}

/* ---------------------------------------------------------------- worker */

static volatile sig_atomic_t worker_stop;
static void on_term(int sig) {
  (void)sig;
  worker_stop = 1;
}

/* remote --worker URL STREAM PREFIX: serves noop and sleep1ms on a pool of
 * one thread until SIGTERM. */
static int run_worker(char **argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  df_reactor *r = NULL;
  df_pool *pool = NULL;
  df_pool_options po = {.threads = 1};
  df_remote_worker *w = NULL;
  if (df_reactor_new(&r, NULL) != 0 || df_pool_new(&pool, r, &po) != 0)
    return 1;
  df_remote_worker_options wo = {.remote = {.servers = argv[0],
                                            .stream = argv[1],
                                            .subject_prefix = argv[2]},
                                 .pool = pool};
  if (df_remote_worker_new(&w, r, &wo) != 0)
    return 1;
  df_remote_worker_register(w, "noop", noop_remote, NULL);
  df_remote_worker_register(w, "sleep1ms", sleep_remote, NULL);
  df_deferred *d = df_remote_worker_start(w);
  df_unref(d);
  while (!worker_stop && df_reactor_run_once(r, 50) >= 0) {
  }
  d = df_remote_worker_close(w, DF_REMOTE_GIVE_BACK);
  while (df_remote_worker_free(w) == DF_EBUSY)
    df_reactor_run_once(r, 10);
  df_unref(d);
  df_pool_free(pool);
  df_reactor_free(r);
  df_remote_library_close();
  return 0;
}

/* ---------------------------------------------------------------- driver */

typedef struct driver {
  df_reactor *r;
  df_remote *rc; /* remote, or */
  df_pool *pool; /* local */
  const char *job;
  df_work_fn local_fn;
  size_t total, submitted, done, failed;
  uint64_t started_ns;
  double *lat_us;
} driver;

static void submit_one(driver *dr);

static df_result job_done(df_result in, void *arg) {
  driver *dr = arg;
  if (df_result_is_failure(in))
    dr->failed++;
  if (dr->lat_us != NULL) {
    dr->lat_us[dr->done] =
        (double)(df_bench_now_ns() - dr->started_ns) / 1000.0;
  }
  dr->done++;
  df_result_free(in);
  if (dr->submitted < dr->total)
    submit_one(dr);
  return df_ok(NULL, NULL);
}

static void submit_one(driver *dr) {
  dr->submitted++;
  dr->started_ns = df_bench_now_ns();
  df_deferred *d = dr->rc != NULL
                       ? df_remote_call(dr->rc, dr->job, NULL, 0)
                       : df_defer_to_thread(dr->pool, dr->local_fn, NULL);
  df_add_both(d, job_done, dr);
  df_unref(d);
}

/* Runs \p total jobs with \p in_flight outstanding; returns jobs/s. */
static double drive(driver *dr, size_t total, size_t in_flight,
                    double *lat_us) {
  dr->total = total;
  dr->submitted = dr->done = dr->failed = 0;
  dr->lat_us = lat_us;
  uint64_t t0 = df_bench_now_ns();
  for (size_t i = 0; i < in_flight && dr->submitted < total; i++)
    submit_one(dr);
  while (dr->done < total)
    df_reactor_run_once(dr->r, 100);
  double s = (double)(df_bench_now_ns() - t0) / 1e9;
  return (double)total / s;
}

typedef struct row {
  double rate, p50, p99;
} row;

static row measure(driver *dr, size_t n_rate, size_t n_lat) {
  row out;
  drive(dr, n_lat / 4 + 1, 1, NULL); /* warm-up */
  out.rate = drive(dr, n_rate, IN_FLIGHT, NULL);
  double *lat = calloc(n_lat, sizeof *lat);
  drive(dr, n_lat, 1, lat);
  out.p50 = df_bench_percentile(lat, n_lat, 0.5);
  out.p99 = df_bench_percentile(lat, n_lat, 0.99);
  free(lat);
  return out;
}

static void record(const df_bench_opts *o, const char *what, const row *x) {
  char name[96];
  snprintf(name, sizeof name, "%s_jobs_per_s", what);
  df_bench_json_metric(o->json, BENCH, name, x->rate, "1/s");
  snprintf(name, sizeof name, "%s_p50", what);
  df_bench_json_metric(o->json, BENCH, name, x->p50, "us");
  snprintf(name, sizeof name, "%s_p99", what);
  df_bench_json_metric(o->json, BENCH, name, x->p99, "us");
}

static int run_case(const df_bench_opts *o, const dft_nats *server, int workers,
                    int case_no) {
  char stream[32], prefix[32];
  snprintf(stream, sizeof stream, "BENCH%d", case_no);
  snprintf(prefix, sizeof prefix, "bench%d", case_no);
  df_reactor *r = NULL;
  df_remote *rc = NULL;
  df_pool *pool = NULL;
  df_pool_options po = {.threads = (unsigned)workers};
  df_remote_options ro = {
      .servers = server->url, .stream = stream, .subject_prefix = prefix};
  if (df_reactor_new(&r, NULL) != 0 || df_pool_new(&pool, r, &po) != 0 ||
      df_remote_new(&rc, r, &ro) != 0) {
    return 1;
  }
  pid_t pids[8];
  char self[4096];
  if (!df_bench_self_path(self, sizeof self))
    return 1;
  for (int i = 0; i < workers; i++) {
    char *argv[] = {self,
                    (char *)"remote",
                    (char *)"--worker",
                    (char *)server->url,
                    stream,
                    prefix,
                    NULL};
    pids[i] = dft_child_start(argv);
  }
  static const struct {
    const char *name, *job;
    df_work_fn fn;
    size_t n_rate_full, n_lat_full;
  } work[] = {{"noop", "noop", noop_local, 4000, 400},
              {"1ms", "sleep1ms", sleep_local, 2000, 300}};
  int failed = 0;
  for (size_t k = 0; k < 2; k++) {
    size_t n_rate = o->quick ? 100 : work[k].n_rate_full;
    size_t n_lat = o->quick ? 20 : work[k].n_lat_full;
    driver local = {.r = r, .pool = pool, .local_fn = work[k].fn};
    driver remote = {.r = r, .rc = rc, .job = work[k].job};
    row l = measure(&local, n_rate, n_lat);
    row x = measure(&remote, n_rate, n_lat);
    failed += (int)(local.failed + remote.failed);
    printf(
        "| %-4s | %d | %9.0f | %9.0f | %7.1f | %7.1f | %7.1f | %7.1f | %7.1f |\n",
        work[k].name, workers, x.rate, l.rate, x.p50, x.p99, l.p50, l.p99,
        x.p50 - l.p50);
    char what[64];
    snprintf(what, sizeof what, "%s_%dw_remote", work[k].name, workers);
    record(o, what, &x);
    snprintf(what, sizeof what, "%s_%dw_pool", work[k].name, workers);
    record(o, what, &l);
    snprintf(what, sizeof what, "%s_%dw_hop_us", work[k].name, workers);
    df_bench_json_metric(o->json, BENCH, what, x.p50 - l.p50, "us");
  }
  for (int i = 0; i < workers; i++)
    dft_child_stop(pids[i], SIGTERM);
  df_remote_free(rc);
  df_pool_free(pool);
  df_reactor_free(r);
  return failed != 0;
}

int df_bench_remote(int argc, char **argv, const df_bench_opts *o) {
  if (argc == 5 && strcmp(argv[1], "--worker") == 0) {
    return run_worker(argv + 2);
  }
  dft_nats server;
  if (dft_nats_start(&server) != 0) {
    return 1;
  }
  printf(
      "remote jobs through nats-server -js on loopback (each worker process: a\n"
      "pool of 1 thread), beside a local pool with as many threads; %d in flight\n"
      "for jobs/s, one at a time for latency (us); hop = remote p50 - pool p50\n\n",
      IN_FLIGHT);
  printf(
      "| job  | workers | remote jobs/s | pool jobs/s | remote p50 | remote p99 | pool p50 | pool p99 | hop |\n");
  printf("|---|---|---|---|---|---|---|---|---|\n");
  int failed = run_case(o, &server, 1, 1);
  failed |= run_case(o, &server, 4, 2);
  dft_nats_stop(&server);
  df_remote_library_close();
  return failed;
}
