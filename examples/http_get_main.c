/* http-get: the article's HTTP client as a program.
 *
 *   http-get HOST PORT PATH [--dns SERVERS] [--cancel-after SECONDS]
 *            [--timeout SECONDS]
 *
 * Prints the status and body, or how the request failed; with
 * --cancel-after, a timer cancels the request, and its canceller aborts the
 * connection at whatever stage it is. */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deferred.h"
#include "http_get.h"

typedef struct app {
  df_reactor *reactor;
  df_deferred *request;
  df_timer *click;
  bool finished;
  int status;
} app;

static df_result got(df_result in, void *arg) {
  app *a = arg;
  const example_http_response *resp = in.ptr;
  printf("HTTP %d, %zu bytes:\n%s", resp->status, resp->body_len, resp->body);
  a->status = resp->status / 100 == 2 ? 0 : 1;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static df_result failed(df_result in, void *arg) {
  app *a = arg;
  char line[512];
  df_failure_describe(df_result_failure(in), line, sizeof line);
  printf("request failed: %s\n", line);
  a->status = 1;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static df_result done(df_result in, void *arg) {
  app *a = arg;
  a->finished = true;
  df_reactor_stop(a->reactor);
  return in;
}

static void cancel_clicked(void *arg) {
  app *a = arg;
  a->click = NULL;
  df_cancel(a->request);
}

static int usage(const char *self) {
  fprintf(stderr,
          "usage: %s HOST PORT PATH [--dns SERVERS] [--cancel-after SECONDS] "
          "[--timeout SECONDS]\n",
          self);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    return usage(argv[0]);
  }
  df_resolver_options ropts = {0};
  double cancel_after = -1;
  double timeout = 0;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dns") == 0) {
      ropts.servers = argv[i + 1];
    } else if (strcmp(argv[i], "--cancel-after") == 0) {
      cancel_after = atof(argv[i + 1]);
    } else if (strcmp(argv[i], "--timeout") == 0) {
      timeout = atof(argv[i + 1]);
    } else {
      return usage(argv[0]);
    }
  }
  app a = {NULL, NULL, NULL, false, 1};
  df_resolver *res = NULL;
  int rc = df_reactor_new(&a.reactor, NULL);
  if (rc == 0) {
    rc = df_resolver_new(&res, a.reactor, &ropts);
  }
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", argv[0], df_strerror(rc));
    df_reactor_free(a.reactor);
    return 1;
  }
  a.request = example_http_get(a.reactor, res, argv[1], (unsigned)atoi(argv[2]),
                               argv[3], timeout);
  df_add_callbacks(a.request, got, &a, failed, &a);
  df_add_both(a.request, done, &a);
  if (!a.finished && cancel_after >= 0) {
    df_call_later(&a.click, a.reactor, cancel_after, cancel_clicked, &a);
  }
  if (!a.finished) {
    df_reactor_run(a.reactor);
  }
  df_timer_cancel(a.click);
  df_unref(a.request);
  df_resolver_free(res);
  df_reactor_run_once(a.reactor, 0);
  df_reactor_free(a.reactor);
  return a.status;
}
