/* trace-demo: writes the timeline of a small mixed workload (deferred/trace.h)
 * and says where it went; open it in Perfetto (ui.perfetto.dev) or
 * chrome://tracing.
 *
 * The workload: on a pool of three threads, eight "queries" of 2 to 9 ms
 * (normal priority), four "reports" of 12 ms (low), then, while those
 * run, four "pings" of 1 ms (high) that pass the low ones in the queue; a
 * periodic timer every 4 ms on the reactor; a DNS lookup of localhost
 * (answered from the hosts file). Each job's callback does a little work
 * of its own, so the hand-off arrows land on visible slices.
 *
 *   trace-demo [FILE]     (default: trace-demo.json) */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <deferred.h>

typedef struct demo {
  df_reactor *reactor;
  df_pool *pool;
  df_resolver *resolver;
  df_timer *ticker;
  int pending; /* jobs and lookups not finished */
  int ticks;
  unsigned long checksum;
} demo;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A blocking job: sleeps for the milliseconds its argument says. */
static df_result blocking_job(void *arg) {
  long ms = (long)(intptr_t)arg;
  sleep_ms(ms);
  return df_ok((void *)(intptr_t)(ms * 1000), NULL);
}

/* The callback: some work on the reactor thread with the job's result. */
static df_result on_result(df_result in, void *arg) {
  demo *d = arg;
  unsigned long x = (unsigned long)(uintptr_t)in.ptr;
  for (int i = 0; i < 20000; i++)
    x = x * 6364136223846793005ul + 1442695040888963407ul;
  d->checksum ^= x;
  d->pending--;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static df_result on_lookup(df_result in, void *arg) {
  demo *d = arg;
  if (df_result_is_failure(in))
    fprintf(stderr, "trace-demo: lookup failed: %s\n",
            df_failure_message(df_result_failure(in)));
  d->pending--;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void submit(demo *d, long ms, df_job_priority priority) {
  df_deferred *job =
      df_defer_to_thread_opts(d->pool, blocking_job, (void *)(intptr_t)ms,
                              &(df_job_options){.priority = priority});
  df_add_both(job, on_result, d);
  df_unref(job);
  d->pending++;
}

/* Every 4 ms until the work is done; the pings go in on the third tick. */
static void tick(void *arg) {
  demo *d = arg;
  d->ticks++;
  if (d->ticks == 3)
    for (int i = 0; i < 4; i++)
      submit(d, 1, DF_PRIORITY_HIGH);
  if (d->pending == 0) {
    df_timer_cancel(d->ticker);
    d->ticker = NULL;
    df_reactor_stop(d->reactor);
    return;
  }
  (void)df_timer_reset(d->ticker, 0.004);
}

static int run(demo *d, const char *path) {
  int rc = df_trace_start(d->reactor, path);
  if (rc != 0) {
    fprintf(stderr, "trace-demo: cannot trace into %s: %s\n", path,
            df_strerror(rc));
    return 1;
  }
  static const long query_ms[] = {2, 5, 3, 9, 4, 2, 7, 3};
  for (size_t i = 0; i < sizeof query_ms / sizeof query_ms[0]; i++)
    submit(d, query_ms[i], DF_PRIORITY_NORMAL);
  for (int i = 0; i < 4; i++)
    submit(d, 12, DF_PRIORITY_LOW);
  df_deferred *lookup = df_resolve(d->resolver, "localhost", AF_INET);
  df_add_both(lookup, on_lookup, d);
  df_unref(lookup);
  d->pending++;
  df_call_later(&d->ticker, d->reactor, 0.004, tick, d);
  if (d->ticker == NULL || df_reactor_run(d->reactor) != 0)
    return 1;
  uint64_t dropped = df_trace_dropped(d->reactor);
  rc = df_trace_stop(d->reactor);
  if (rc != 0) {
    fprintf(stderr, "trace-demo: writing %s failed: %s\n", path,
            df_strerror(rc));
    return 1;
  }
  printf("trace-demo: %d ticks, %llu events (%llu dropped) written to %s\n",
         d->ticks, (unsigned long long)df_trace_recorded(d->reactor),
         (unsigned long long)dropped, path);
  return 0;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "trace-demo.json";
  demo d;
  memset(&d, 0, sizeof d);
  if (df_reactor_new(&d.reactor, NULL) != 0)
    return 1;
  if (df_pool_new(&d.pool, d.reactor, &(df_pool_options){.threads = 3}) != 0 ||
      df_resolver_new(&d.resolver, d.reactor,
                      &(df_resolver_options){.servers = "127.0.0.1:9",
                                             .timeout_ms = 200,
                                             .tries = 1,
                                             .hosts_file = true}) != 0) {
    fprintf(stderr, "trace-demo: cannot make the pool or the resolver\n");
    return 1;
  }
  int status = run(&d, path);
  df_pool_free(d.pool);
  df_resolver_free(d.resolver);
  while (df_reactor_free(d.reactor) == DF_EBUSY)
    (void)df_reactor_run_once(d.reactor, 100);
  return status;
}
