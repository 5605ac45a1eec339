/* The job functions of the remote suites, for the worker process and for
 * workers the tests run in their own process. The payload is text.
 *   echo    returns the payload
 *   fail    fails with DFT_TEST_ERROR ("TestError"), code 42,
 *           "failed on purpose: PAYLOAD"
 *   record  appends "run ID ATTEMPT" to the runs file, returns the payload
 *   sleep   appends "start ID ATTEMPT", sleeps PAYLOAD milliseconds in 10 ms
 *           steps (returning early when told to stop), appends
 *           "end-stopped ID ATTEMPT" or "end-done ID ATTEMPT", returns
 *           "stopped" or "slept"
 *   crash   appends "run ID ATTEMPT", then the process dies (_exit 3)
 * Lines are appended with O_APPEND, one write each, so a test counts runs
 * across processes. */
#ifndef DFT_REMOTE_JOBS_H
#define DFT_REMOTE_JOBS_H

#include <deferred.h>
#include <deferred/remote.h>

extern const df_error_type DFT_TEST_ERROR;

/* Registers the jobs above on \p w; \p runs_file is borrowed (kept). */
void dft_register_jobs(df_remote_worker *w, const char *runs_file);

#endif
