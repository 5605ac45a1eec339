/* The pool benchmark's "ours": df_defer_to_thread() on a df_pool bound to a
 * df_reactor, through the public API only. Each job is a Deferred with one
 * callback, the way an application uses the pool. */
#include <stdint.h>
#include <stdlib.h>

#include <deferred.h>

#include "pool_bench.h"

typedef struct ours {
  df_reactor *reactor;
  df_pool *pool;
} ours;

static df_result ours_work(void *arg) {
  pool_job_work(arg);
  return df_ok(NULL, NULL);
}

static df_result ours_done(df_result in, void *arg) {
  pool_run_job_done(arg);
  return in;
}

static int ours_open(void **ctx, unsigned threads) {
  ours *o = calloc(1, sizeof *o);
  df_pool_options opts = {.threads = threads, .max_queued = SIZE_MAX};
  if (o == NULL)
    return -1;
  if (df_reactor_new(&o->reactor, NULL) != 0) {
    free(o);
    return -1;
  }
  if (df_pool_new(&o->pool, o->reactor, &opts) != 0) {
    df_reactor_free(o->reactor);
    free(o);
    return -1;
  }
  *ctx = o;
  return 0;
}

static int ours_submit(void *ctx, const pool_job_class *c) {
  ours *o = ctx;
  df_deferred *d = df_defer_to_thread(o->pool, ours_work, (void *)c);
  if (d == NULL)
    return -1;
  /* Already fired here means refused (full, closed): results are only
   * delivered in a reactor round. */
  bool refused = df_called(d);
  df_add_callback(d, ours_done, (void *)c);
  df_unref(d);
  return refused ? -1 : 0;
}

static int ours_run_once(void *ctx) {
  ours *o = ctx;
  return df_reactor_run_once(o->reactor, -1) < 0 ? -1 : 0;
}

static double ours_wakeups(void *ctx) {
  ours *o = ctx;
  struct df_pool_stats st;
  return df_pool_stats(o->pool, &st) == 0 ? (double)st.wakeups : -1.0;
}

static void ours_close(void *ctx) {
  ours *o = ctx;
  df_pool_close(o->pool, DF_POOL_DRAIN);
  df_pool_free(o->pool);
  df_reactor_free(o->reactor);
  free(o);
}

const pool_impl pool_impl_ours = {"ours",        ours_open,    ours_submit,
                                  ours_run_once, ours_wakeups, ours_close};
