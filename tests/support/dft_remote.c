/* Shared parts of the remote suites; see dft_remote.h. */
#define _POSIX_C_SOURCE 200809L

#include "dft_remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dft_failure.h"
#include "dft_runner.h"

static dft_nats server;
static int test_counter;

static int suite_init(void) { return dft_nats_start(&server) == 0 ? 0 : 1; }

static int suite_cleanup(void) {
  dft_nats_stop(&server);
  return 0;
}

int dft_remote_main(const char *suite, CU_TestInfo *tests) {
  /* DFT_ONLY=text runs the tests whose name contains it. */
  const char *only = getenv("DFT_ONLY");
  if (only != NULL && only[0] != '\0') {
    size_t kept = 0;
    for (size_t i = 0; tests[i].pName != NULL; i++) {
      if (strstr(tests[i].pName, only) != NULL) {
        tests[kept++] = tests[i];
      }
    }
    tests[kept] = (CU_TestInfo)CU_TEST_INFO_NULL;
  }
  int rc = dft_run(suite, tests, suite_init, suite_cleanup, NULL, NULL);
  df_remote_library_close();
  return rc;
}

dft_nats *dft_remote_server(void) { return &server; }

void dft_remote_env_init(dft_remote_env *e, double ack_wait, int max_deliver) {
  memset(e, 0, sizeof *e);
  test_counter++;
  snprintf(e->stream, sizeof e->stream, "T%d_%d", (int)getpid(), test_counter);
  snprintf(e->prefix, sizeof e->prefix, "t%d.n%d", (int)getpid(), test_counter);
  const char *tmp = getenv("TMPDIR");
  snprintf(e->runs, sizeof e->runs, "%s/df-runs-%d-%d",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", (int)getpid(),
           test_counter);
  unlink(e->runs);
  e->opts.servers = server.url;
  e->opts.stream = e->stream;
  e->opts.subject_prefix = e->prefix;
  e->opts.ack_wait = ack_wait;
  e->opts.max_deliver = max_deliver;
  e->opts.reconnect_wait = 0.1;
  e->opts.max_reconnect = -1;
  e->opts.timeout = 30;
}

void dft_remote_env_clear(dft_remote_env *e) { unlink(e->runs); }

int dft_runs(const dft_remote_env *e, const char *what, const char *id) {
  FILE *f = fopen(e->runs, "r");
  if (f == NULL) {
    return 0;
  }
  char line[512];
  char want[300];
  if (id != NULL) {
    snprintf(want, sizeof want, "%s %s ", what, id);
  } else {
    snprintf(want, sizeof want, "%s ", what);
  }
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, want, strlen(want)) == 0) {
      n++;
    }
  }
  fclose(f);
  return n;
}

bool dft_first_id(const dft_remote_env *e, const char *what, char *out,
                  size_t len) {
  FILE *f = fopen(e->runs, "r");
  if (f == NULL) {
    return false;
  }
  char line[512];
  bool found = false;
  size_t wl = strlen(what);
  while (!found && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, what, wl) == 0 && line[wl] == ' ') {
      char *id = line + wl + 1;
      id[strcspn(id, " \n")] = '\0';
      snprintf(out, len, "%s", id);
      found = true;
    }
  }
  fclose(f);
  return found;
}

pid_t dft_worker_start(const dft_remote_env *e, int threads,
                       double in_progress) {
  char t[16], ack[32], ip[32], md[16];
  snprintf(t, sizeof t, "%d", threads);
  snprintf(ack, sizeof ack, "%g", e->opts.ack_wait);
  snprintf(ip, sizeof ip, "%g", in_progress);
  snprintf(md, sizeof md, "%d", e->opts.max_deliver);
  char *argv[] = {(char *)DFT_REMOTE_WORKER,
                  (char *)server.url,
                  (char *)e->stream,
                  (char *)e->prefix,
                  t,
                  ack,
                  ip,
                  md,
                  (char *)e->runs,
                  NULL};
  return dft_child_start(argv);
}

bool dft_worker_exited(pid_t pid, int *status) {
  int st = 0;
  pid_t got = waitpid(pid, &st, WNOHANG);
  if (got == pid) {
    dft_child_stop(pid, 0); /* forget it (already reaped: -1 from waitpid) */
    if (status != NULL)
      *status = st;
    return true;
  }
  return false;
}

/* ------------------------------------------------------------ outcomes */

static df_result record_step(df_result in, void *arg) {
  dft_remote_outcome *o = arg;
  o->fired++;
  if (df_result_is_failure(in)) {
    o->ok = false;
    dft_note_failure(df_result_failure(in), &o->type, &o->code, o->message,
                     sizeof o->message);
  } else {
    o->ok = true;
    const df_bytes *b = in.ptr;
    if (b != NULL) {
      o->len = b->len;
      snprintf(o->value, sizeof o->value, "%.*s", (int)b->len,
               (const char *)b->data);
    }
  }
  df_result_free(in);
  return df_ok(NULL, NULL);
}

void dft_remote_capture(df_deferred *d, dft_remote_outcome *o) {
  memset(o, 0, sizeof *o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  df_add_both(d, record_step, o);
  df_unref(d);
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool flag_set(void *arg) { return *(const int *)arg != 0; }

bool dft_remote_run_until(df_reactor *r, const int *flag, double limit) {
  return dft_remote_run_until_true(r, flag_set, (void *)flag, limit);
}

bool dft_remote_run_until_true(df_reactor *r, dft_remote_cond cond, void *arg,
                               double limit) {
  double end = wall_now() + limit;
  while (!cond(arg)) {
    if (wall_now() > end) {
      return false;
    }
    df_reactor_run_once(r, 20);
  }
  return true;
}

void dft_remote_run_for(df_reactor *r, double seconds) {
  double end = wall_now() + seconds;
  while (wall_now() < end) {
    df_reactor_run_once(r, 20);
  }
}
