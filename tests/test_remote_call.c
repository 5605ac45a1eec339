/* Remote calls against a real nats-server -js, with the worker in this
 * process on the same reactor (its pool runs the jobs): the round trip,
 * worker failures carried back, unknown names, timeouts, cancel before and
 * after a worker took the job, bad input and connection failures. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dft_ports.h"
#include "dft_remote.h"
#include "dft_remote_jobs.h"

typedef struct rig {
  dft_remote_env env;
  df_reactor *r;
  df_remote *rc;
  df_pool *pool;
  df_remote_worker *w;
} rig;

static bool ready_ok(df_reactor *r, df_deferred *d) {
  dft_remote_outcome o;
  dft_remote_capture(d, &o);
  bool fired = dft_remote_run_until(r, &o.fired, 20);
  CU_ASSERT_TRUE(fired);
  CU_ASSERT_TRUE(o.ok);
  if (!o.ok)
    fprintf(stderr, "not ready: %s\n", o.message);
  return fired && o.ok;
}

static void rig_client(rig *g, double ack_wait,
                       const df_error_type *const *types) {
  memset(g, 0, sizeof *g);
  dft_remote_env_init(&g->env, ack_wait, 3);
  g->env.opts.error_types = types;
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&g->r, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&g->rc, g->r, &g->env.opts), 0);
  ready_ok(g->r, df_remote_ready(g->rc));
}

static void rig_worker(rig *g, unsigned threads, unsigned slots) {
  df_pool_options po = {.threads = threads};
  CU_ASSERT_EQUAL_FATAL(df_pool_new(&g->pool, g->r, &po), 0);
  df_remote_worker_options wo = {
      .remote = g->env.opts, .pool = g->pool, .slots = slots};
  CU_ASSERT_EQUAL_FATAL(df_remote_worker_new(&g->w, g->r, &wo), 0);
  dft_register_jobs(g->w, g->env.runs);
  ready_ok(g->r, df_remote_worker_start(g->w));
}

static void rig_free(rig *g) {
  if (g->w != NULL) {
    dft_remote_outcome o;
    dft_remote_capture(df_remote_worker_close(g->w, DF_REMOTE_GIVE_BACK), &o);
    CU_ASSERT_TRUE(dft_remote_run_until(g->r, &o.fired, 30));
    CU_ASSERT_EQUAL(df_remote_worker_free(g->w), 0);
  }
  CU_ASSERT_EQUAL(df_remote_free(g->rc), 0);
  if (g->pool != NULL) {
    CU_ASSERT_EQUAL(df_pool_free(g->pool), 0);
  }
  CU_ASSERT_EQUAL(df_reactor_free(g->r), 0);
  dft_remote_env_clear(&g->env);
}

static df_deferred *call(rig *g, const char *name, const char *text) {
  return df_remote_call(g->rc, name, text, strlen(text));
}

/* The round trip: the Deferred fires once with the job's bytes. */
static void test_round_trip(void) {
  rig g;
  rig_client(&g, 5, NULL);
  rig_worker(&g, 2, 0);
  dft_remote_outcome a, b;
  dft_remote_capture(call(&g, "echo", "hello"), &a);
  dft_remote_capture(df_remote_call(g.rc, "echo", NULL, 0), &b);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &a.fired, 20));
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &b.fired, 20));
  CU_ASSERT_TRUE(a.ok);
  CU_ASSERT_STRING_EQUAL(a.value, "hello");
  CU_ASSERT_EQUAL(a.len, 5);
  CU_ASSERT_TRUE(b.ok);
  CU_ASSERT_EQUAL(b.len, 0);
  struct df_remote_stats st;
  CU_ASSERT_EQUAL(df_remote_stats(g.rc, &st), 0);
  CU_ASSERT_EQUAL(st.completed, 2);
  CU_ASSERT_EQUAL(st.pending, 0);
  CU_ASSERT_EQUAL(a.fired, 1);
  rig_free(&g);
}

/* A job function's failure comes back with its type name, code and
 * message: as DF_REMOTE_JOB_FAILED when the caller does not know the type,
 * as the caller's own type when it listed it. */
static void test_worker_failure_carried_back(void) {
  rig g;
  static const df_error_type *const known[] = {&DFT_TEST_ERROR, NULL};
  rig_client(&g, 5, NULL);
  rig_worker(&g, 2, 0);
  dft_remote_outcome o;
  dft_remote_capture(call(&g, "fail", "x"), &o);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o.fired, 20));
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_JOB_FAILED);
  CU_ASSERT_EQUAL(o.code, 42);
  CU_ASSERT_STRING_EQUAL(o.message, "TestError: failed on purpose: x");
  df_remote *typed = NULL;
  df_remote_options opts = g.env.opts;
  opts.error_types = known;
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&typed, g.r, &opts), 0);
  dft_remote_capture(df_remote_call(typed, "fail", "y", 1), &o);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o.fired, 20));
  CU_ASSERT_PTR_EQUAL(o.type, &DFT_TEST_ERROR);
  CU_ASSERT_EQUAL(o.code, 42);
  CU_ASSERT_STRING_EQUAL(o.message, "failed on purpose: y");
  CU_ASSERT_EQUAL(df_remote_free(typed), 0);
  rig_free(&g);
}

/* A name no worker serves: a failure naming it, no hang. */
static void test_unknown_job_name(void) {
  rig g;
  rig_client(&g, 5, NULL);
  rig_worker(&g, 1, 0);
  dft_remote_outcome o;
  dft_remote_capture(call(&g, "nosuch-job", "x"), &o);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o.fired, 20));
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_UNKNOWN_JOB);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "nosuch-job"));
  rig_free(&g);
}

static bool started_once(void *arg) {
  return dft_runs(arg, "start", NULL) >= 1;
}

static bool stopped_once(void *arg) {
  return dft_runs(arg, "end-stopped", NULL) >= 1;
}

/* S29 across the hop: the deadline passes, the Deferred fails with
 * DF_TIMEOUT, and the worker running the job is told to stop. */
static void test_timeout_stops_the_job(void) {
  rig g;
  rig_client(&g, 5, NULL);
  rig_worker(&g, 1, 0);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_call_timeout(g.rc, "sleep", "20000", 5, 0.5),
                     &o);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o.fired, 20));
  CU_ASSERT_PTR_EQUAL(o.type, &DF_TIMEOUT);
  CU_ASSERT_EQUAL(o.code, 500);
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, stopped_once, &g.env, 20));
  CU_ASSERT_EQUAL(dft_runs(&g.env, "end-done", NULL), 0);
  rig_free(&g);
}

static bool removed_one(void *arg) {
  struct df_remote_stats st;
  df_remote_stats(arg, &st);
  return st.removed == 1;
}

static bool published(void *arg) {
  struct df_remote_stats st;
  df_remote_stats(arg, &st);
  return st.published >= 1;
}

/* S16 for a job no worker took: DF_CANCELLED at once, removed from the
 * stream; a worker started afterwards never runs it. */
static void test_cancel_not_taken_never_runs(void) {
  rig g;
  rig_client(&g, 5, NULL);
  dft_remote_outcome o, marker;
  df_deferred *d = call(&g, "record", "cancelled");
  df_ref(d);
  dft_remote_capture(d, &o);
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, published, g.rc, 20));
  df_cancel(d);
  CU_ASSERT_EQUAL(o.fired, 1); /* at once, no round ran */
  CU_ASSERT_PTR_EQUAL(o.type, &DF_CANCELLED);
  df_unref(d);
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, removed_one, g.rc, 20));
  rig_worker(&g, 1, 0);
  dft_remote_capture(call(&g, "record", "marker"), &marker);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &marker.fired, 20));
  CU_ASSERT_STRING_EQUAL(marker.value, "marker");
  CU_ASSERT_EQUAL(dft_runs(&g.env, "run", NULL), 1);
  struct df_remote_worker_stats ws;
  df_remote_worker_stats(g.w, &ws);
  CU_ASSERT_EQUAL(ws.taken, 1);
  rig_free(&g);
}

static bool discarded_one(void *arg) {
  struct df_remote_stats st;
  df_remote_stats(arg, &st);
  return st.discarded >= 1;
}

/* S16/S17 for a job a worker runs: DF_CANCELLED at once, the worker is told
 * to stop, and its late result is discarded. */
static void test_cancel_taken_stops_and_discards(void) {
  rig g;
  rig_client(&g, 5, NULL);
  rig_worker(&g, 1, 0);
  dft_remote_outcome o;
  df_deferred *d = call(&g, "sleep", "20000");
  df_ref(d);
  dft_remote_capture(d, &o);
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, started_once, &g.env, 20));
  df_cancel(d);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_CANCELLED);
  df_unref(d);
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, stopped_once, &g.env, 20));
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, discarded_one, g.rc, 20));
  CU_ASSERT_EQUAL(o.fired, 1);
  rig_free(&g);
}

/* A payload the server cannot carry fails at once. */
static void test_oversize_payload(void) {
  rig g;
  rig_client(&g, 5, NULL);
  size_t len = 2u * 1024 * 1024;
  char *big = calloc(1, len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_call(g.rc, "echo", big, len), &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_TOO_LARGE);
  CU_ASSERT_TRUE(o.code > 0);
  free(big);
  rig_free(&g);
}

/* Bad arguments give Deferreds already failed with DF_INVALID_ARGUMENT. */
static void test_bad_arguments(void) {
  rig g;
  rig_client(&g, 5, NULL);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_call(NULL, "echo", "x", 1), &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  dft_remote_capture(df_remote_call(g.rc, "a.b", "x", 1), &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  dft_remote_capture(df_remote_call(g.rc, "", "x", 1), &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  dft_remote_capture(df_remote_call_timeout(g.rc, "echo", "x", 1, 0), &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  dft_remote_capture(df_remote_call(g.rc, "echo", NULL, 3), &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  CU_ASSERT_EQUAL(df_remote_new(NULL, g.r, NULL), DF_EINVAL);
  df_remote *bad = NULL;
  df_remote_options o2 = {.subject_prefix = "a..b"};
  CU_ASSERT_EQUAL(df_remote_new(&bad, g.r, &o2), DF_EINVAL);
  CU_ASSERT_PTR_NULL(bad);
  rig_free(&g);
}

/* Nothing listens: df_remote_new returns at once, the calls fail with
 * DF_REMOTE_CONNECTION and NATS's reason in bounded time, nothing leaks. */
static void test_unreachable_at_new(void) {
  df_reactor *r = NULL;
  df_remote *rc = NULL;
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, NULL), 0);
  char url[64];
  snprintf(url, sizeof url, "nats://127.0.0.1:%d",
           dft_loopback_port(SOCK_STREAM, 0));
  df_remote_options opts = {.servers = url, .connect_timeout = 1};
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&rc, r, &opts), 0);
  dft_remote_outcome o, ready, later;
  dft_remote_capture(df_remote_call(rc, "echo", "x", 1), &o);
  dft_remote_capture(df_remote_ready(rc), &ready);
  CU_ASSERT_TRUE(dft_remote_run_until(r, &o.fired, 20));
  CU_ASSERT_TRUE(dft_remote_run_until(r, &ready.fired, 20));
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_CONNECTION);
  CU_ASSERT_PTR_EQUAL(ready.type, &DF_REMOTE_CONNECTION);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "NATS connection failed: "));
  dft_remote_capture(df_remote_call(rc, "echo", "x", 1), &later);
  CU_ASSERT_EQUAL(later.fired, 1);
  CU_ASSERT_PTR_EQUAL(later.type, &DF_REMOTE_CONNECTION);
  CU_ASSERT_EQUAL(df_remote_free(rc), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
}

/* The server goes away mid-call and does not come back within the
 * reconnect budget: the pending call fails with DF_REMOTE_CONNECTION. */
static void test_server_lost_mid_call(void) {
  dft_nats own;
  CU_ASSERT_EQUAL_FATAL(dft_nats_start(&own), 0);
  df_reactor *r = NULL;
  df_remote *rc = NULL;
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, NULL), 0);
  df_remote_options opts = {.servers = own.url,
                            .stream = "LOST",
                            .subject_prefix = "lost",
                            .max_reconnect = 3,
                            .reconnect_wait = 0.1};
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&rc, r, &opts), 0);
  ready_ok(r, df_remote_ready(rc));
  dft_remote_outcome o;
  dft_remote_capture(df_remote_call(rc, "echo", "x", 1), &o);
  CU_ASSERT_TRUE(dft_remote_run_until_true(r, published, rc, 20));
  dft_nats_stop(&own);
  CU_ASSERT_TRUE(dft_remote_run_until(r, &o.fired, 30));
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_CONNECTION);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "lost for good"));
  CU_ASSERT_EQUAL(df_remote_free(rc), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
}

/* Freeing the caller fails what is pending with DF_REMOTE_CLOSED. */
static void test_free_fails_pending(void) {
  rig g;
  rig_client(&g, 5, NULL);
  dft_remote_outcome o;
  dft_remote_capture(call(&g, "echo", "never"), &o);
  CU_ASSERT_EQUAL(df_remote_free(g.rc), 0);
  g.rc = NULL;
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_CLOSED);
  rig_free(&g);
}

static bool worker_holds_two(void *arg) {
  struct df_remote_worker_stats ws;
  df_remote_worker_stats(arg, &ws);
  return ws.held == 2;
}

/* A worker's close with DF_REMOTE_GIVE_BACK stops pulling, tells the running
 * job to stop (its result still goes out), gives back the job it took and
 * did not start; another worker then runs that one. */
static void test_close_gives_back_what_it_holds(void) {
  rig g;
  rig_client(&g, 5, NULL);
  rig_worker(&g, 1, 2); /* one thread, two slots: one job waits in the pool */
  dft_remote_outcome a, b, closed;
  dft_remote_capture(call(&g, "sleep", "20000"), &a);
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, started_once, &g.env, 20));
  dft_remote_capture(call(&g, "record", "given-back"), &b);
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, worker_holds_two, g.w, 20));
  dft_remote_capture(df_remote_worker_close(g.w, DF_REMOTE_GIVE_BACK), &closed);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &closed.fired, 20));
  CU_ASSERT_TRUE(closed.ok);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &a.fired, 20));
  CU_ASSERT_STRING_EQUAL(a.value, "stopped");
  CU_ASSERT_EQUAL(b.fired, 0);
  struct df_remote_worker_stats ws;
  df_remote_worker_stats(g.w, &ws);
  CU_ASSERT_EQUAL(ws.given_back, 1);
  CU_ASSERT_EQUAL(ws.held, 0);
  CU_ASSERT_EQUAL(df_remote_worker_free(g.w), 0);
  CU_ASSERT_EQUAL(df_pool_free(g.pool), 0);
  g.w = NULL;
  g.pool = NULL;
  CU_ASSERT_EQUAL(dft_runs(&g.env, "run", NULL), 0);
  rig_worker(&g, 1, 0);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &b.fired, 20));
  CU_ASSERT_STRING_EQUAL(b.value, "given-back");
  CU_ASSERT_EQUAL(dft_runs(&g.env, "run", NULL), 1);
  rig_free(&g);
}

static CU_TestInfo tests[] = {
    {"round trip", test_round_trip},
    {"worker failure carried back", test_worker_failure_carried_back},
    {"unknown job name", test_unknown_job_name},
    {"S29 timeout stops the job", test_timeout_stops_the_job},
    {"S16 cancel not taken: never runs", test_cancel_not_taken_never_runs},
    {"S16/S17 cancel taken: stopped, late result discarded",
     test_cancel_taken_stops_and_discards},
    {"oversize payload", test_oversize_payload},
    {"bad arguments", test_bad_arguments},
    {"server unreachable at df_remote_new", test_unreachable_at_new},
    {"server lost mid-call", test_server_lost_mid_call},
    {"free fails pending calls", test_free_fails_pending},
    {"worker close gives back what it holds",
     test_close_gives_back_what_it_holds},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_remote_main("remote call", tests); }
