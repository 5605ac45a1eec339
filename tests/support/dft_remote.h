/* What the remote suites share: the suite frame (a nats-server started
 * around the tests), options naming a stream and subjects of the test's
 * own (so tests never see each other's jobs or consumers), recording how a
 * Deferred ended, running the reactor until something happened (with a
 * generous bound, so a bug fails a test instead of hanging it; no test
 * asserts on time), worker processes, and the runs file the test jobs
 * append to. */
#ifndef DFT_REMOTE_H
#define DFT_REMOTE_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <sys/types.h>

#include <deferred.h>
#include <deferred/remote.h>

#include "dft_nats_server.h"

/* Runs one remote suite around a nats-server (the suite fails without
 * one); returns the process exit status. */
int dft_remote_main(const char *suite, CU_TestInfo *tests);

/* The suite's server (restartable by the tests). */
dft_nats *dft_remote_server(void);

/* Per-test names and settings: a fresh stream and prefix, the suite's
 * server, the runs file. Call at the start of a test. */
typedef struct dft_remote_env {
  char stream[32];
  char prefix[32];
  char runs[256];
  df_remote_options opts; /* servers, stream, prefix; short reconnects */
} dft_remote_env;
void dft_remote_env_init(dft_remote_env *e, double ack_wait, int max_deliver);
/* Removes the runs file. */
void dft_remote_env_clear(dft_remote_env *e);

/* Lines of the runs file starting with \p what followed by " \p id "; id
 * NULL counts every line starting with \p what. */
int dft_runs(const dft_remote_env *e, const char *what, const char *id);

/* The job id of call number \p seq of \p rc is not visible to the caller;
 * the tests read ids from the runs file instead: the id on the first line
 * starting with \p what, copied into \p out (false when none yet). */
bool dft_first_id(const dft_remote_env *e, const char *what, char *out,
                  size_t len);

/* A worker process (remote_test_worker) on \p e with \p threads threads
 * and \p in_progress seconds between in-progress marks (negative: off). */
pid_t dft_worker_start(const dft_remote_env *e, int threads,
                       double in_progress);
/* True when the worker process exited (reaped; \p status may be NULL). */
bool dft_worker_exited(pid_t pid, int *status);

/* ------------------------------------------------------------ outcomes */

typedef struct dft_remote_outcome {
  int fired; /* times the recording step ran: must end at 1 */
  bool ok;
  char value[256]; /* the df_bytes value as text */
  size_t len;
  const df_error_type *type; /* the failure's type, else NULL */
  int code;
  char message[512];
} dft_remote_outcome;

/* Appends a step to \p d that records its result into \p o (zeroed here)
 * and consumes it, then drops the caller's reference. */
void dft_remote_capture(df_deferred *d, dft_remote_outcome *o);

/* Runs rounds of \p r until *\p flag is non-zero or \p limit seconds of wall
 * time passed; true when the flag was set. */
bool dft_remote_run_until(df_reactor *r, const int *flag, double limit);

typedef bool (*dft_remote_cond)(void *arg);
bool dft_remote_run_until_true(df_reactor *r, dft_remote_cond cond, void *arg,
                               double limit);
void dft_remote_run_for(df_reactor *r, double seconds);

#endif
