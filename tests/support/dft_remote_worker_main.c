/* The worker process of the remote suites: serves the test jobs on a pool
 * until SIGTERM, then closes (finishing what it holds) and exits 0.
 *
 * usage: remote_test_worker URL STREAM PREFIX THREADS ACK_WAIT
 *                           IN_PROGRESS MAX_DELIVER RUNS_FILE
 *
 * Jobs: see dft_remote_jobs.h.
 * RUNS_FILE is opened O_APPEND for each line, so the test can count runs
 * across processes. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <deferred.h>
#include <deferred/remote.h>

#include "dft_remote_jobs.h"

static int stop_pipe[2];

static void on_term(int sig) {
  (void)sig;
  int saved = errno;
  if (write(stop_pipe[1], "x", 1) < 0) {
    /* a wake-up is pending already */
  }
  errno = saved;
}

static df_result closed(df_result in, void *arg) {
  df_result_free(in);
  df_reactor_stop(arg);
  return df_ok(NULL, NULL);
}

static df_remote_worker *worker;

static void on_stop_pipe(df_watch *w, int fd, unsigned events, void *arg) {
  (void)fd;
  (void)events;
  df_watch_stop(w);
  df_deferred *d = df_remote_worker_close(worker, DF_REMOTE_FINISH);
  df_add_both(d, closed, arg);
  df_unref(d);
}

static df_result started(df_result in, void *arg) {
  (void)arg;
  if (df_result_is_failure(in)) {
    fprintf(stderr, "worker: %s\n", df_failure_message(df_result_failure(in)));
    exit(2);
  }
  return in;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr,
            "usage: %s URL STREAM PREFIX THREADS ACK_WAIT IN_PROGRESS "
            "MAX_DELIVER RUNS_FILE\n",
            argv[0]);
    return 2;
  }
  if (pipe(stop_pipe) != 0) {
    return 2;
  }
  fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);

  df_reactor *r = NULL;
  df_pool *pool = NULL;
  df_pool_options po = {.threads = (unsigned)atoi(argv[4])};
  if (df_reactor_new(&r, NULL) != 0 || df_pool_new(&pool, r, &po) != 0) {
    return 2;
  }
  df_remote_worker_options wo = {.remote = {.servers = argv[1],
                                            .stream = argv[2],
                                            .subject_prefix = argv[3],
                                            .ack_wait = atof(argv[5]),
                                            .max_deliver = atoi(argv[7]),
                                            .reconnect_wait = 0.1,
                                            .max_reconnect = -1},
                                 .pool = pool,
                                 .in_progress_interval = atof(argv[6])};
  if (df_remote_worker_new(&worker, r, &wo) != 0) {
    return 2;
  }
  dft_register_jobs(worker, argv[8]);
  df_watch *w;
  df_watch_fd(&w, r, stop_pipe[0], DF_READABLE, on_stop_pipe, r);
  df_deferred *d = df_remote_worker_start(worker);
  df_add_callback(d, started, NULL);
  df_unref(d);
  df_reactor_run(r);
  (void)w;
  int rc = df_remote_worker_free(worker);
  df_pool_free(pool);
  int rf = df_reactor_free(r);
  df_remote_library_close();
  close(stop_pipe[0]);
  close(stop_pipe[1]);
  return rc == 0 && rf == 0 ? 0 : 1;
}
