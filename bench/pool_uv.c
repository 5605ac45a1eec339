/* The pool benchmark's libuv baseline: uv_queue_work() on a uv_loop_t. It
 * always runs in a child process whose UV_THREADPOOL_SIZE the parent set:
 * libuv reads it once per process, at the first uv_queue_work().
 *
 * Like df_defer_to_thread(), which makes a Deferred per job, each job makes
 * its request: a uv_work_t from malloc, freed by its done callback (the
 * request must outlive the call, so that is what an application does). */
#define _POSIX_C_SOURCE 200809L /* uv.h needs the POSIX thread types */

#include <stdlib.h>

#include <uv.h>

#include "pool_bench.h"

typedef struct uv_side {
  uv_loop_t loop;
} uv_side;

static void libuv_work(uv_work_t *req) { pool_job_work(req->data); }

static void libuv_done(uv_work_t *req, int status) {
  const pool_job_class *c = req->data;
  (void)status;
  free(req);
  pool_run_job_done(c);
}

static int libuv_open(void **ctx, unsigned threads) {
  uv_side *u = malloc(sizeof *u);
  (void)threads; /* UV_THREADPOOL_SIZE, set by the parent */
  if (u == NULL)
    return -1;
  if (uv_loop_init(&u->loop) != 0) {
    free(u);
    return -1;
  }
  *ctx = u;
  return 0;
}

static int libuv_submit(void *ctx, const pool_job_class *c) {
  uv_side *u = ctx;
  uv_work_t *req = malloc(sizeof *req);
  if (req == NULL)
    return -1;
  req->data = (void *)c;
  if (uv_queue_work(&u->loop, req, libuv_work, libuv_done) != 0) {
    free(req);
    return -1;
  }
  return 0;
}

/* UV_RUN_ONCE blocks for I/O while requests are pending, like
 * df_reactor_run_once(r, -1); the workload calls it only then. */
static int libuv_run_once(void *ctx) {
  uv_side *u = ctx;
  (void)uv_run(&u->loop, UV_RUN_ONCE);
  return 0;
}

static double libuv_wakeups(void *ctx) {
  (void)ctx;
  return -1.0; /* libuv does not count its async sends */
}

static void libuv_close(void *ctx) {
  uv_side *u = ctx;
  uv_loop_close(&u->loop);
  free(u);
}

const pool_impl pool_impl_uv = {"uv",           libuv_open,    libuv_submit,
                                libuv_run_once, libuv_wakeups, libuv_close};
