/* Remote jobs when memory runs out, against a real nats-server -js, with
 * the worker in this process: a failed allocation may fail a call or a
 * job's run, never lose a result. The Deferreds of df_remote_ready(),
 * df_remote_worker_start() and df_remote_worker_close() fire however little
 * memory the library's threads find, and a job the worker had no memory to
 * take is given back to the stream (delivered again), not dropped or
 * terminated. Allocations fail by thread (dft_remote_alloc.h). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dft_remote.h"
#include "dft_remote_alloc.h"
#include "dft_remote_jobs.h"

typedef struct rig {
  dft_remote_env env;
  df_reactor *r;
  df_remote *rc;
  df_pool *pool;
  df_remote_worker *w;
} rig;

static void rig_reactor(rig *g) {
  memset(g, 0, sizeof *g);
  dft_remote_env_init(&g->env, 5, 3);
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&g->r, NULL), 0);
}

static void rig_pool(rig *g, unsigned threads) {
  df_pool_options po = {.threads = threads};
  CU_ASSERT_EQUAL_FATAL(df_pool_new(&g->pool, g->r, &po), 0);
}

static void rig_worker(rig *g, unsigned slots) {
  df_remote_worker_options wo = {
      .remote = g->env.opts, .pool = g->pool, .slots = slots};
  CU_ASSERT_EQUAL_FATAL(df_remote_worker_new(&g->w, g->r, &wo), 0);
  dft_register_jobs(g->w, g->env.runs);
}

/* Fires \p d, bounded; true when it fired once, successfully. */
static bool fires_ok(rig *g, df_deferred *d) {
  dft_remote_outcome o;
  dft_remote_capture(d, &o);
  bool fired = dft_remote_run_until(g->r, &o.fired, 20);
  CU_ASSERT_TRUE(fired);
  CU_ASSERT_TRUE(o.ok);
  if (fired && !o.ok)
    fprintf(stderr, "failed: %s\n", o.message);
  return fired && o.ok;
}

static void rig_ready(rig *g, unsigned slots) {
  rig_reactor(g);
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&g->rc, g->r, &g->env.opts), 0);
  CU_ASSERT_TRUE_FATAL(fires_ok(g, df_remote_ready(g->rc)));
  rig_pool(g, 1);
  rig_worker(g, slots);
  CU_ASSERT_TRUE_FATAL(fires_ok(g, df_remote_worker_start(g->w)));
}

static void rig_free(rig *g) {
  dft_ralloc_fail_none();
  if (g->w != NULL) {
    fires_ok(g, df_remote_worker_close(g->w, DF_REMOTE_GIVE_BACK));
    CU_ASSERT_EQUAL(df_remote_worker_free(g->w), 0);
  }
  CU_ASSERT_EQUAL(df_remote_free(g->rc), 0);
  if (g->pool != NULL)
    CU_ASSERT_EQUAL(df_pool_free(g->pool), 0);
  CU_ASSERT_EQUAL(df_reactor_free(g->r), 0);
  dft_remote_env_clear(&g->env);
}

/* The library thread finds no memory at all while it connects: the ready
 * Deferred still fires, with the connection's failure. */
static void test_ready_fires_when_connect_starves(void) {
  rig g;
  rig_reactor(&g);
  dft_ralloc_fail_off_thread();
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&g.rc, g.r, &g.env.opts), 0);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_ready(g.rc), &o);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o.fired, 20));
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_CONNECTION);
  CU_ASSERT_TRUE(dft_ralloc_failures() > 0);
  rig_free(&g);
}

/* The same for a worker: its start Deferred fires with the failure, and
 * its close fires too. */
static void test_worker_start_fires_when_connect_starves(void) {
  rig g;
  rig_reactor(&g);
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&g.rc, g.r, &g.env.opts), 0);
  CU_ASSERT_TRUE_FATAL(fires_ok(&g, df_remote_ready(g.rc)));
  rig_pool(&g, 1);
  dft_ralloc_fail_off_thread();
  rig_worker(&g, 0);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_worker_start(g.w), &o);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o.fired, 20));
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_CONNECTION);
  CU_ASSERT_TRUE(dft_ralloc_failures() > 0);
  fires_ok(&g, df_remote_worker_close(g.w, DF_REMOTE_FINISH));
  rig_free(&g);
}

/* The fetcher finds no memory when it exits: the close still fires. */
static void test_worker_close_fires_when_fetcher_starves(void) {
  rig g;
  rig_ready(&g, 0);
  dft_ralloc_fail_off_thread();
  fires_ok(&g, df_remote_worker_close(g.w, DF_REMOTE_FINISH));
  rig_free(&g);
}

static bool two_failed(void *arg) {
  (void)arg;
  return dft_ralloc_failures() >= 2;
}

/* The fetcher has no memory to hand a job to the reactor: the job is given
 * back, and the slot it took is free again. With one slot, a lost slot
 * would leave the worker fetching nothing for ever: the job would never
 * run and the call would time out. */
static void test_job_fetched_without_memory_given_back(void) {
  rig g;
  rig_ready(&g, 1);
  dft_remote_outcome a, b;
  /* Off the reactor thread: the caller's publish notice fails first (the
   * call stays publishing; its result still finds it), then the fetcher's
   * hand-off. */
  dft_ralloc_fail_off_thread();
  dft_remote_capture(df_remote_call_timeout(g.rc, "echo", "hello", 5, 20), &a);
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, two_failed, NULL, 20));
  dft_ralloc_fail_none();
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &a.fired, 30));
  CU_ASSERT_TRUE(a.ok);
  CU_ASSERT_STRING_EQUAL(a.value, "hello");
  dft_remote_capture(df_remote_call_timeout(g.rc, "echo", "again", 5, 20), &b);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &b.fired, 30));
  CU_ASSERT_TRUE(b.ok);
  CU_ASSERT_STRING_EQUAL(b.value, "again");
  rig_free(&g);
}

/* The worker has no memory to copy a job's envelope: the job is given back
 * (delivered again and run), not terminated (lost: the call would time
 * out). */
static void test_job_envelope_without_memory_given_back(void) {
  rig g;
  rig_ready(&g, 1);
  dft_remote_outcome a;
  dft_remote_capture(df_remote_call_timeout(g.rc, "echo", "hello", 5, 20), &a);
  /* The reactor thread's next allocation is the held job of the fetched
   * message. */
  dft_ralloc_fail_nth_here(1);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &a.fired, 30));
  CU_ASSERT_EQUAL(dft_ralloc_failures(), 1);
  dft_ralloc_fail_none();
  CU_ASSERT_TRUE(a.ok);
  CU_ASSERT_STRING_EQUAL(a.value, "hello");
  struct df_remote_worker_stats ws;
  CU_ASSERT_EQUAL(df_remote_worker_stats(g.w, &ws), 0);
  CU_ASSERT_EQUAL(ws.taken, 2); /* the first delivery was given back */
  CU_ASSERT_EQUAL(ws.ran, 1);
  rig_free(&g);
}

static CU_TestInfo tests[] = {
    {"df_remote_ready fires when the connect finds no memory",
     test_ready_fires_when_connect_starves},
    {"df_remote_worker_start fires when the connect finds no memory",
     test_worker_start_fires_when_connect_starves},
    {"df_remote_worker_close fires when the fetcher finds no memory",
     test_worker_close_fires_when_fetcher_starves},
    {"a job fetched without memory is given back, its slot kept",
     test_job_fetched_without_memory_given_back},
    {"a job whose envelope finds no memory is given back, not terminated",
     test_job_envelope_without_memory_given_back},
    CU_TEST_INFO_NULL,
};

int main(void) {
  if (dft_ralloc_install() != 0) {
    fprintf(stderr, "cannot install the failing allocator\n");
    return 1;
  }
  return dft_remote_main("remote allocation", tests);
}
