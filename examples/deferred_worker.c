/* deferred-worker: a worker process of remote jobs, and a caller to try it.
 *
 *   deferred-worker [--server URL] [--threads N] [--db FILE]
 *       serves the jobs of worker_jobs.h (sha256, sleep, sql) from the
 *       stream until SIGINT or SIGTERM, then finishes what it holds and
 *       exits; start as many as you like, on as many machines.
 *   deferred-worker --call JOB PAYLOAD [--server URL] [--timeout S]
 *       runs one job on the fleet and prints its result (or the failure on
 *       stderr, exit status 1).
 *
 * URL defaults to nats://127.0.0.1:4222 (nats-server -js). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <deferred.h>
#include <deferred/remote.h>

#include "worker_jobs.h"

typedef struct args {
  const char *server;
  const char *db;
  const char *job;
  const char *payload;
  unsigned threads;
  double timeout;
} args;

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--server URL] [--threads N] [--db FILE]\n"
          "       %s --call JOB PAYLOAD [--server URL] [--timeout SECONDS]\n",
          argv0, argv0);
  return 2;
}

static bool parse(int argc, char **argv, args *a) {
  *a = (args){.server = "nats://127.0.0.1:4222", .threads = 4, .timeout = 30};
  for (int i = 1; i < argc; i++) {
    bool more = i + 1 < argc;
    if (strcmp(argv[i], "--server") == 0 && more) {
      a->server = argv[++i];
    } else if (strcmp(argv[i], "--threads") == 0 && more) {
      a->threads = (unsigned)atoi(argv[++i]);
    } else if (strcmp(argv[i], "--db") == 0 && more) {
      a->db = argv[++i];
    } else if (strcmp(argv[i], "--timeout") == 0 && more) {
      a->timeout = atof(argv[++i]);
    } else if (strcmp(argv[i], "--call") == 0 && i + 2 < argc) {
      a->job = argv[++i];
      a->payload = argv[++i];
    } else {
      return false;
    }
  }
  return true;
}

/* ---------------------------------------------------------------- caller */

static int exit_status = 1;

static df_result print_result(df_result in, void *arg) {
  const df_bytes *b = in.ptr;
  fwrite(b->data, 1, b->len, stdout);
  if (b->len == 0 || b->data[b->len - 1] != '\n')
    putchar('\n');
  exit_status = 0;
  df_reactor_stop(arg);
  return in;
}

static df_result print_failure(df_result in, void *arg) {
  char line[1024];
  df_failure_describe(df_result_failure(in), line, sizeof line);
  fprintf(stderr, "%s\n", line);
  df_result_free(in);
  df_reactor_stop(arg);
  return df_ok(NULL, NULL);
}

static int call(df_reactor *r, const args *a) {
  static const df_error_type *const known[] = {&DF_EXAMPLE_SQL_ERROR,
                                               &DF_EXAMPLE_STOPPED, NULL};
  df_remote *rc = NULL;
  df_remote_options o = {.servers = a->server, .error_types = known};
  if (df_remote_new(&rc, r, &o) != 0) {
    return 1;
  }
  df_deferred *d = df_remote_call_timeout(rc, a->job, a->payload,
                                          strlen(a->payload), a->timeout);
  df_add_callbacks(d, print_result, r, print_failure, r);
  df_unref(d);
  df_reactor_run(r);
  df_remote_free(rc);
  return exit_status;
}

/* ---------------------------------------------------------------- worker */

static int stop_pipe[2] = {-1, -1};
static df_remote_worker *worker;

static void on_signal(int sig) {
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

static void stop_requested(df_watch *w, int fd, unsigned events, void *arg) {
  (void)fd;
  (void)events;
  df_watch_stop(w);
  fprintf(stderr, "deferred-worker: finishing the jobs it holds\n");
  df_deferred *d = df_remote_worker_close(worker, DF_REMOTE_FINISH);
  df_add_both(d, closed, arg);
  df_unref(d);
}

static df_result serving(df_result in, void *arg) {
  if (df_result_is_failure(in)) {
    fprintf(stderr, "deferred-worker: %s\n",
            df_failure_message(df_result_failure(in)));
    df_result_free(in);
    df_reactor_stop(arg);
    return df_ok(NULL, NULL);
  }
  fprintf(stderr, "deferred-worker: serving sha256, sleep, sql\n");
  exit_status = 0;
  return in;
}

static int serve(df_reactor *r, const args *a) {
  df_pool *pool = NULL;
  df_pool_options po = {.threads = a->threads};
  if (pipe(stop_pipe) != 0 || df_pool_new(&pool, r, &po) != 0) {
    return 1;
  }
  fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  df_remote_worker_options wo = {
      .remote = {.servers = a->server, .max_reconnect = -1}, .pool = pool};
  if (df_remote_worker_new(&worker, r, &wo) != 0 ||
      df_example_register_jobs(worker, a->db) != 0) {
    return 1;
  }
  df_watch *w;
  df_watch_fd(&w, r, stop_pipe[0], DF_READABLE, stop_requested, r);
  df_deferred *d = df_remote_worker_start(worker);
  df_add_both(d, serving, r);
  df_unref(d);
  df_reactor_run(r);
  if (exit_status != 0) {
    df_watch_stop(w); /* the start failed: the watch is still live */
  }
  int rc = df_remote_worker_free(worker);
  df_pool_free(pool);
  close(stop_pipe[0]);
  close(stop_pipe[1]);
  return rc == 0 ? exit_status : 1;
}

int main(int argc, char **argv) {
  args a;
  if (!parse(argc, argv, &a)) {
    return usage(argv[0]);
  }
  df_reactor *r = NULL;
  if (df_reactor_new(&r, NULL) != 0) {
    return 1;
  }
  int status = a.job != NULL ? call(r, &a) : serve(r, &a);
  df_reactor_free(r);
  df_remote_library_close();
  return status;
}
