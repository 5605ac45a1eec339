/* The job functions of the deferred-worker example: real work a service
 * would send to a fleet. Each takes its payload as bytes and returns bytes:
 *   sha256  the SHA-256 digest of the payload, as 64 hex digits
 *   sleep   sleeps PAYLOAD milliseconds (decimal text, at most 60000), in
 *           10 ms steps so a cancelled job stops early; returns
 *           "slept N ms" or fails with Stopped when told to stop
 *   sql     runs the payload as one SQLite query on the worker's database
 *           (opened read-only per job, or an empty in-memory one) and
 *           returns the rows, one per line, columns separated by '|';
 *           fails with SqlError (code: the SQLite result code) */
#ifndef DF_EXAMPLE_WORKER_JOBS_H
#define DF_EXAMPLE_WORKER_JOBS_H

#include <deferred.h>
#include <deferred/remote.h>

extern const df_error_type DF_EXAMPLE_SQL_ERROR;
extern const df_error_type DF_EXAMPLE_STOPPED;

/* Registers sha256, sleep and sql on \p w. \p database is the SQLite file
 * the sql job reads (borrowed, kept); NULL gives an empty in-memory
 * database per job. Returns 0 or the first error of
 * df_remote_worker_register(). */
int df_example_register_jobs(df_remote_worker *w, const char *database);

/* The SHA-256 digest of \p len bytes at \p data, as 64 hex digits and a
 * NUL into \p hex. */
void df_example_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
