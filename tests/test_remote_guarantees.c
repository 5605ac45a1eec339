/* The guarantees of remote jobs against a real nats-server -js, with
 * workers in processes of their own (remote_test_worker) that the tests
 * start, kill and restart: exactly once for the caller, nothing lost while
 * no worker runs or across a server restart, long jobs kept by in-progress
 * marks, max_deliver, and a worker's close giving back what it holds. */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "dft_remote.h"
#include "dft_remote_jobs.h"

typedef struct rig {
  dft_remote_env env;
  df_reactor *r;
  df_remote *rc;
} rig;

static void rig_new(rig *g, double ack_wait, int max_deliver) {
  memset(g, 0, sizeof *g);
  dft_remote_env_init(&g->env, ack_wait, max_deliver);
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&g->r, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&g->rc, g->r, &g->env.opts), 0);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_ready(g->rc), &o);
  CU_ASSERT_TRUE_FATAL(dft_remote_run_until(g->r, &o.fired, 20));
  CU_ASSERT_TRUE(o.ok);
}

static void rig_free(rig *g) {
  CU_ASSERT_EQUAL(df_remote_free(g->rc), 0);
  CU_ASSERT_EQUAL(df_reactor_free(g->r), 0);
  dft_remote_env_clear(&g->env);
}

static struct df_remote_stats stats(const rig *g) {
  struct df_remote_stats st;
  df_remote_stats(g->rc, &st);
  return st;
}

/* Stops a worker process cleanly (SIGTERM: it finishes what it holds) and
 * asserts that it exited 0. */
static void worker_stop(pid_t pid) {
  int status = dft_child_stop(pid, SIGTERM);
  CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

typedef struct runs_at_least {
  const dft_remote_env *env;
  const char *what;
  int n;
} runs_at_least;

static bool has_runs(void *arg) {
  runs_at_least *c = arg;
  return dft_runs(c->env, c->what, NULL) >= c->n;
}

static bool published_n(void *arg) {
  runs_at_least *c = arg; /* n: the count; env unused */
  return stats((const rig *)c->env).published >= (uint64_t)c->n;
}

static bool discarded_n(void *arg) {
  runs_at_least *c = arg;
  return stats((const rig *)c->env).discarded >= (uint64_t)c->n;
}

/* Exactly once for the caller: the worker running the job is SIGKILLed
 * after it started; the job is delivered again to another worker, and the
 * Deferred fires once, with that run's result. */
static void test_exactly_once_worker_killed(void) {
  rig g;
  rig_new(&g, 1.0, 5);
  pid_t first = dft_worker_start(&g.env, 1, 0.3);
  CU_ASSERT_TRUE_FATAL(first > 0);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_call(g.rc, "sleep", "1500", 4), &o);
  runs_at_least started = {&g.env, "start", 1};
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, has_runs, &started, 20));
  int status = dft_child_stop(first, SIGKILL);
  CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  pid_t second = dft_worker_start(&g.env, 1, 0.3);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o.fired, 30));
  CU_ASSERT_TRUE(o.ok);
  CU_ASSERT_STRING_EQUAL(o.value, "slept");
  dft_remote_run_for(g.r, 0.3); /* room for a wrong second fire */
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_EQUAL(dft_runs(&g.env, "start", NULL), 2);
  CU_ASSERT_EQUAL(dft_runs(&g.env, "end-done", NULL), 1);
  CU_ASSERT_EQUAL(stats(&g).completed, 1);
  worker_stop(second);
  rig_free(&g);
}

/* Exactly once for the caller when the job really runs twice: without
 * in-progress marks a job longer than ack_wait is delivered again to a
 * second worker; both finish and publish; the Deferred fires once and the
 * second result is discarded. */
static void test_exactly_once_redelivery(void) {
  rig g;
  rig_new(&g, 1.0, 5);
  pid_t a = dft_worker_start(&g.env, 1, -1);
  pid_t b = dft_worker_start(&g.env, 1, -1);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_call(g.rc, "sleep", "1500", 4), &o);
  runs_at_least both = {&g.env, "end-done", 2};
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, has_runs, &both, 30));
  CU_ASSERT_EQUAL(dft_runs(&g.env, "start", NULL), 2);
  runs_at_least one = {(const dft_remote_env *)&g, NULL, 1};
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, discarded_n, &one, 20));
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_TRUE(o.ok);
  CU_ASSERT_STRING_EQUAL(o.value, "slept");
  CU_ASSERT_EQUAL(stats(&g).completed, 1);
  CU_ASSERT_EQUAL(stats(&g).discarded, 1);
  worker_stop(a);
  worker_stop(b);
  rig_free(&g);
}

/* Nothing lost: jobs submitted while no worker runs wait in the stream and
 * complete when one starts. */
static void test_nothing_lost_without_worker(void) {
  rig g;
  rig_new(&g, 5.0, 5);
  enum { N = 5 };
  dft_remote_outcome o[N];
  for (int i = 0; i < N; i++) {
    char text[16];
    snprintf(text, sizeof text, "job-%d", i);
    dft_remote_capture(df_remote_call(g.rc, "record", text, strlen(text)),
                       &o[i]);
  }
  runs_at_least stored = {(const dft_remote_env *)&g, NULL, N};
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, published_n, &stored, 20));
  dft_remote_run_for(g.r, 0.2);
  for (int i = 0; i < N; i++)
    CU_ASSERT_EQUAL(o[i].fired, 0);
  pid_t w = dft_worker_start(&g.env, 2, 0);
  for (int i = 0; i < N; i++) {
    char text[16];
    snprintf(text, sizeof text, "job-%d", i);
    CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o[i].fired, 30));
    CU_ASSERT_TRUE(o[i].ok);
    CU_ASSERT_STRING_EQUAL(o[i].value, text);
  }
  CU_ASSERT_EQUAL(dft_runs(&g.env, "run", NULL), N);
  worker_stop(w);
  rig_free(&g);
}

/* Nothing lost across a server restart: jobs stored in the file store
 * before the server stops complete after it is back (same store), the
 * caller having reconnected meanwhile. */
static void test_nothing_lost_across_server_restart(void) {
  rig g;
  rig_new(&g, 5.0, 5);
  enum { N = 3 };
  dft_remote_outcome o[N];
  for (int i = 0; i < N; i++) {
    dft_remote_capture(df_remote_call(g.rc, "record", "kept", 4), &o[i]);
  }
  runs_at_least stored = {(const dft_remote_env *)&g, NULL, N};
  CU_ASSERT_TRUE(dft_remote_run_until_true(g.r, published_n, &stored, 20));
  dft_nats_kill(dft_remote_server());
  dft_remote_run_for(g.r, 0.3);
  CU_ASSERT_EQUAL_FATAL(dft_nats_restart(dft_remote_server()), 0);
  pid_t w = dft_worker_start(&g.env, 2, 0);
  for (int i = 0; i < N; i++) {
    CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o[i].fired, 40));
    CU_ASSERT_TRUE(o[i].ok);
    if (!o[i].ok)
      fprintf(stderr, "job %d: %s: %s\n", i, o[i].type ? o[i].type->name : "?",
              o[i].message);
  }
  CU_ASSERT_EQUAL(dft_runs(&g.env, "run", NULL), N);
  worker_stop(w);
  rig_free(&g);
}

/* A job longer than ack_wait is marked in progress and not delivered
 * again: it runs once. */
static void test_long_job_marked_in_progress(void) {
  rig g;
  rig_new(&g, 1.0, 5);
  pid_t a = dft_worker_start(&g.env, 1, 0.2);
  pid_t b = dft_worker_start(&g.env, 1, 0.2);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_call(g.rc, "sleep", "2500", 4), &o);
  CU_ASSERT_TRUE(dft_remote_run_until(g.r, &o.fired, 30));
  CU_ASSERT_TRUE(o.ok);
  CU_ASSERT_EQUAL(dft_runs(&g.env, "start", NULL), 1);
  CU_ASSERT_EQUAL(stats(&g).discarded, 0);
  worker_stop(a);
  worker_stop(b);
  rig_free(&g);
}

/* A job whose workers die on it max_deliver times is given up with a
 * clear failure instead of waiting for its deadline. */
static void test_max_deliver_gives_up(void) {
  rig g;
  rig_new(&g, 1.0, 2);
  dft_remote_outcome o;
  dft_remote_capture(df_remote_call(g.rc, "crash", "x", 1), &o);
  pid_t w = dft_worker_start(&g.env, 1, 0);
  for (int round = 0; round < 100 && o.fired == 0; round++) {
    dft_remote_run_for(g.r, 0.1);
    int status = 0;
    if (dft_worker_exited(w, &status)) {
      CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3);
      w = dft_worker_start(&g.env, 1, 0);
    }
  }
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_REMOTE_GAVE_UP);
  CU_ASSERT_EQUAL(o.code, 2);
  CU_ASSERT_EQUAL(dft_runs(&g.env, "run", NULL), 2);
  worker_stop(w);
  rig_free(&g);
}

static CU_TestInfo tests[] = {
    {"exactly once: worker SIGKILLed after it started",
     test_exactly_once_worker_killed},
    {"exactly once: a redelivery runs twice, fires once",
     test_exactly_once_redelivery},
    {"nothing lost: jobs wait for a worker", test_nothing_lost_without_worker},
    {"nothing lost: across a server restart",
     test_nothing_lost_across_server_restart},
    {"long job marked in progress runs once", test_long_job_marked_in_progress},
    {"max_deliver: given up with a clear failure", test_max_deliver_gives_up},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_remote_main("remote guarantees", tests); }
