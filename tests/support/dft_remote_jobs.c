/* The job functions of the remote suites; see dft_remote_jobs.h. */
#define _POSIX_C_SOURCE 200809L

#include "dft_remote_jobs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const df_error_type DFT_TEST_ERROR = {"TestError", &DF_ERROR};
static const char *runs_file;

static void note(const char *what, const df_remote_job *job) {
  char line[256];
  int n = snprintf(line, sizeof line, "%s %s %u\n", what, df_remote_job_id(job),
                   df_remote_job_attempt(job));
  int fd = open(runs_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, line, (size_t)n) != n) {
      perror("runs file");
    }
    close(fd);
  }
}

static df_result bytes_of(const char *s) {
  return df_ok(df_bytes_new(s, strlen(s)), df_bytes_free);
}

static df_result job_echo(df_remote_job *job, void *arg) {
  (void)arg;
  size_t len = 0;
  const unsigned char *data = df_remote_job_data(job, &len);
  return df_ok(df_bytes_new(data, len), df_bytes_free);
}

static df_result job_fail(df_remote_job *job, void *arg) {
  (void)arg;
  return df_fail(df_failure_new(&DFT_TEST_ERROR, 42, "failed on purpose: %s",
                                (const char *)df_remote_job_data(job, NULL)));
}

static df_result job_record(df_remote_job *job, void *arg) {
  note("run", job);
  return job_echo(job, arg);
}

static df_result job_sleep(df_remote_job *job, void *arg) {
  (void)arg;
  note("start", job);
  long ms = strtol((const char *)df_remote_job_data(job, NULL), NULL, 10);
  bool stopped = false;
  for (long slept = 0; slept < ms; slept += 10) {
    if (df_remote_job_stop_requested(job)) {
      stopped = true;
      break;
    }
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  note(stopped ? "end-stopped" : "end-done", job);
  return bytes_of(stopped ? "stopped" : "slept");
}

static df_result job_crash(df_remote_job *job, void *arg) {
  (void)arg;
  note("run", job);
  _exit(3);
}

void dft_register_jobs(df_remote_worker *w, const char *runs) {
  runs_file = runs;
  df_remote_worker_register(w, "echo", job_echo, NULL);
  df_remote_worker_register(w, "fail", job_fail, NULL);
  df_remote_worker_register(w, "record", job_record, NULL);
  df_remote_worker_register(w, "sleep", job_sleep, NULL);
  df_remote_worker_register(w, "crash", job_crash, NULL);
}
