/*! \file deferred/remote.h
 *  \brief Remote jobs: the Deferred API of the pool, with the work done by a
 *  fleet of worker processes reached through NATS JetStream (library
 *  `deferred_remote`, built when the NATS C client is found).
 *
 *  The caller side, a df_remote, publishes each job by name into a
 *  work-queue stream (file storage) and returns a Deferred at once. Worker
 *  processes (df_remote_worker) pull jobs from one durable pull consumer of
 *  that stream, run them on their local df_pool, publish the result to the
 *  caller, and acknowledge the job only once the caller confirmed that it
 *  holds the result (or the job's deadline passed).
 *
 *  \code
 *  df_remote *rc;
 *  df_remote_options o = {.servers = "nats://127.0.0.1:4222"};
 *  if (df_remote_new(&rc, reactor, &o) == 0) {
 *    df_deferred *d = df_remote_call(rc, "sha256", data, len);
 *    df_add_callbacks(d, got_digest, NULL, report, NULL); // value: df_bytes
 *    df_unref(d);
 *    ... df_reactor_run(reactor) ...
 *    df_remote_free(rc);
 *  }
 *  \endcode
 *
 *  What the caller sees (each row has a test in tests/test_remote_*.c):
 *
 *  | what happened                              | the Deferred                                   |
 *  |--------------------------------------------|------------------------------------------------|
 *  | the job ran (once or several times)        | fires once with the first result (df_bytes)    |
 *  | the job function failed                    | DF_REMOTE_JOB_FAILED (or the caller's own type |
 *  |                                            | of that name), the worker's code and message   |
 *  | no worker serves the name                  | DF_REMOTE_UNKNOWN_JOB naming it                |
 *  | the call's deadline passed                 | DF_TIMEOUT (code: the timeout in ms)           |
 *  | df_cancel(), job not taken by a worker     | DF_CANCELLED at once; removed from the stream, |
 *  |                                            | never runs                                     |
 *  | df_cancel(), job taken                     | DF_CANCELLED at once; the worker is told to    |
 *  |                                            | stop; the late result is discarded             |
 *  | workers died on it max_deliver times       | DF_REMOTE_GAVE_UP (code: deliveries)           |
 *  | payload larger than the server accepts     | DF_REMOTE_TOO_LARGE (at once when connected)   |
 *  | server unreachable at start, or lost for   | DF_REMOTE_CONNECTION with NATS's reason        |
 *  | longer than the reconnect budget           |                                                |
 *  | df_remote_free() with calls pending        | DF_REMOTE_CLOSED                               |
 *
 *  Exactly once: a job may run more than once (a worker killed after it
 *  started, a redelivery after the acknowledgement wait); the caller keeps
 *  one table of its pending calls and fires a Deferred only with the first
 *  result of its job, so later results are counted and freed. Nothing lost:
 *  jobs wait in the stream's file store while no worker runs and across a
 *  server restart; a publish is retried with the same message id (the
 *  stream drops duplicates), and a result is re-sent until the caller
 *  confirms it.
 *
 *  Threading. Every function here is called on the reactor thread, except
 *  the df_remote_job accessors, which a job function calls on a pool
 *  thread, and df_bytes_new()/df_bytes_free() (any thread). Blocking network
 *  calls (connect, publish and its acknowledgement, fetch) run on threads of
 *  the library and of the NATS client; what they learn reaches the reactor
 *  through a df_async handle, so Deferreds fire on the reactor thread only
 *  and the reactor thread never waits on the network.
 *
 *  Memory: the library's own allocations go through df_malloc(); the NATS
 *  client allocates with the C library's malloc(). At process exit, after
 *  every df_remote and df_remote_worker is freed, df_remote_library_close()
 *  releases the client's global state (valgrind reports it otherwise).
 *
 *  Clocks: a job's deadline travels as wall-clock time (CLOCK_REALTIME), so
 *  the hosts of callers and workers keep their clocks synchronised (NTP);
 *  the caller's own timeout runs on the reactor's monotonic clock.
 */
#ifndef DEFERRED_REMOTE_H
#define DEFERRED_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deferred.h"
#include "pool.h"
#include "reactor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ bytes */

/*! Bytes of a payload or a result: \p len bytes at \p data, followed by a
 *  NUL that is not counted (so text results print as strings). */
typedef struct df_bytes {
  size_t len;           /*!< bytes at \p data, the NUL not counted */
  unsigned char data[]; /*!< the bytes, then a NUL */
} df_bytes;

/*! \brief Copies \p len bytes of \p data into a new df_bytes.
 *  \param data may be NULL when \p len is 0.
 *  \param len how many bytes to copy.
 *  \return the new value (free it with df_bytes_free()), or NULL when memory
 *          ran out. Thread-safe. */
DF_EXTERN df_bytes *df_bytes_new(const void *data, size_t len);

/*! \brief Frees a df_bytes; a df_free_fn, so df_ok(b, df_bytes_free) hands
 *  one over. NULL is a no-op. Thread-safe.
 *  \param bytes the df_bytes to free, or NULL. */
DF_EXTERN void df_bytes_free(void *bytes);

/* ================================================================ errors */

/*! Root of the remote failures ("RemoteError"). */
DF_EXTERN extern const df_error_type DF_REMOTE;
/*! The connection to NATS failed or was lost for good. Code: the NATS
 *  status; the message carries NATS's reason. */
DF_EXTERN extern const df_error_type DF_REMOTE_CONNECTION;
/*! The job function failed with a type the caller did not list in
 *  df_remote_options.error_types. Code: the worker's code; message:
 *  "TypeName: message" as the worker had it. */
DF_EXTERN extern const df_error_type DF_REMOTE_JOB_FAILED;
/*! No job function of that name on the worker that took the job. */
DF_EXTERN extern const df_error_type DF_REMOTE_UNKNOWN_JOB;
/*! The job was delivered max_deliver times and never completed (its workers
 *  died or gave it back each time). Code: the deliveries. */
DF_EXTERN extern const df_error_type DF_REMOTE_GAVE_UP;
/*! The payload does not fit in one message of the server. Code: the
 *  server's limit in bytes (max_payload). */
DF_EXTERN extern const df_error_type DF_REMOTE_TOO_LARGE;
/*! The df_remote was freed, or the worker closed, before the job ended. */
DF_EXTERN extern const df_error_type DF_REMOTE_CLOSED;

/* ================================================================ options */

/*! Defaults of df_remote_options (zero fields select them): the stream. */
#define DF_REMOTE_DEFAULT_STREAM "DF_JOBS"
/*! Default subject prefix. */
#define DF_REMOTE_DEFAULT_PREFIX "df"
/*! Default deadline of a call, in seconds. */
#define DF_REMOTE_DEFAULT_TIMEOUT 60.0
/*! Default bound of a connect, in seconds. */
#define DF_REMOTE_DEFAULT_CONNECT_TIMEOUT 2.0
/*! Default number of reconnect attempts before the connection fails. */
#define DF_REMOTE_DEFAULT_MAX_RECONNECT 60
/*! Default wait between reconnect attempts, in seconds. */
#define DF_REMOTE_DEFAULT_RECONNECT_WAIT 0.5
/*! Default time a worker holds a job without acknowledging it, in seconds,
 *  before the server redelivers it. */
#define DF_REMOTE_DEFAULT_ACK_WAIT 30.0
/*! Default number of deliveries of a job before the server gives up. */
#define DF_REMOTE_DEFAULT_MAX_DELIVER 5

/*! Options shared by callers and workers. A zeroed struct gives the
 *  defaults; callers and workers of one fleet use the same stream, prefix,
 *  ack_wait and max_deliver (the first to start creates the stream and the
 *  consumer; the others check the stream's kind). Strings are borrowed and
 *  read during df_remote_new()/df_remote_worker_new() only. */
typedef struct df_remote_options {
  /*! NATS URLs, comma-separated ("nats://127.0.0.1:4222,nats://..."); NULL
   *  gives "nats://127.0.0.1:4222". */
  const char *servers;
  /*! The work-queue stream's name; NULL gives DF_REMOTE_DEFAULT_STREAM. */
  const char *stream;
  /*! Subject prefix: jobs go to PREFIX.job.NAME, results to
   *  PREFIX.reply.CALLER, cancel notices to PREFIX.cancel. NULL gives
   *  DF_REMOTE_DEFAULT_PREFIX. */
  const char *subject_prefix;
  /*! Seconds a connect attempt may take; 0 gives 2. */
  double connect_timeout;
  /*! Default deadline of a call, seconds (> 0); 0 gives 60. */
  double timeout;
  /*! Reconnect attempts after a lost connection before pending calls fail
   *  with DF_REMOTE_CONNECTION; 0 gives 60, negative: forever. */
  int max_reconnect;
  /*! Seconds between reconnect attempts; 0 gives 0.5. */
  double reconnect_wait;
  /*! The consumer's acknowledgement wait, seconds: a job taken and neither
   *  acknowledged nor marked in progress for this long is delivered again.
   *  0 gives 30. */
  double ack_wait;
  /*! Deliveries of one job before it is given up; 0 gives 5. */
  int max_deliver;
  /*! Caller only: error types (NULL-terminated, borrowed, must outlive the
   *  df_remote) whose names map a worker's failure back to the type; others
   *  become DF_REMOTE_JOB_FAILED. The DF_REMOTE_* types always map. */
  const df_error_type *const *error_types;
} df_remote_options;

/* ================================================================ caller */

/*! An opaque connection of a caller to the job stream. */
typedef struct df_remote df_remote;

/*! Counters of a df_remote, read by df_remote_stats(); like `struct stat`,
 *  the struct tag and the function share the name. */
struct df_remote_stats {
  uint64_t submitted; /*!< calls accepted by df_remote_call*() */
  uint64_t published; /*!< jobs the stream acknowledged (stored) */
  uint64_t completed; /*!< Deferreds fired with a result of a worker */
  uint64_t failed;    /*!< of completed: the result was a failure */
  uint64_t cancelled; /*!< Deferreds cancelled (timeouts included) */
  uint64_t removed;   /*!< cancelled jobs removed from the stream */
  uint64_t discarded; /*!< results nobody waited for any more: a second
                           run's, or a cancelled job's late result */
  uint64_t pending;   /*!< calls whose Deferred has not fired */
};

/*! \brief Makes a caller and starts connecting; returns at once.
 *
 *  A thread of the library connects (bounded by connect_timeout), creates
 *  the stream (work queue, file storage, duplicate window of the default
 *  timeout) or checks the existing one, and subscribes to the caller's
 *  result subject. Calls made meanwhile wait for it; when it fails they, and
 *  every later call, fail with DF_REMOTE_CONNECTION (df_remote_ready()
 *  tells when).
 *  \param out receives the caller (free it with df_remote_free()); NULL on
 *         error. \param reactor borrowed; must outlive it; the calling
 *         thread must be its thread. \param opts borrowed; NULL: defaults.
 *  \return 0; DF_EINVAL (NULL \p out or \p reactor, off the reactor thread,
 *          a negative time); DF_ENOMEM (the connect's answer is made here
 *          too, so that df_remote_ready() fires whatever memory is left
 *          later); the negative errno of pthread_create(). Reactor thread
 *          only. */
DF_EXTERN int df_remote_new(df_remote **out, df_reactor *reactor,
                            const df_remote_options *opts);

/*! \brief A Deferred that fires (with a borrowed NULL value) once the
 *  caller is connected and the stream is ready, or fails with
 *  DF_REMOTE_CONNECTION (NATS's reason) or DF_REMOTE_CLOSED.
 *  \param rc the caller (borrowed).
 *  \return the caller's reference; a Deferred failed with
 *          DF_INVALID_ARGUMENT for NULL \p rc. Reactor thread only. */
DF_EXTERN df_deferred *df_remote_ready(df_remote *rc);

/*! \brief Runs job \p name on a worker with a copy of \p len bytes at
 *  \p data; returns a Deferred at once, with the default timeout.
 *  \param rc the caller (borrowed). \param name the job's name.
 *  \param data the payload, copied. \param len its length.
 *  \return as df_remote_call_timeout(). */
DF_EXTERN df_deferred *df_remote_call(df_remote *rc, const char *name,
                                      const void *data, size_t len);

/*! \brief Runs job \p name on a worker; returns a Deferred at once.
 *
 *  The Deferred fires on the reactor thread with the result, a df_bytes
 *  owned by the chain (free function df_bytes_free), or fails as the table
 *  of the file comment says. Its deadline is \p seconds from now: then it
 *  fails with DF_TIMEOUT and the job is cancelled (removed from the stream
 *  if no worker took it; a worker that took it is told to stop and skips it
 *  if it has not started it). Cancelling it (df_cancel) fails it with
 *  DF_CANCELLED at once, the same way.
 *  \param rc borrowed. \param name the job's name: letters, digits, '-' and
 *         '_' (it is a subject token), copied. \param data copied; may be
 *         NULL when \p len is 0. \param len the payload's length.
 *  \param seconds the deadline, > 0.
 *  \return the caller's reference to a new Deferred; already failed with
 *          DF_INVALID_ARGUMENT (NULL \p rc, bad name or deadline, off the
 *          reactor thread), DF_REMOTE_TOO_LARGE, DF_REMOTE_CONNECTION (the
 *          connection failed for good), DF_REMOTE_CLOSED or DF_NO_MEMORY.
 *          NULL only when even that Deferred could not be made.
 *  Reactor thread only. */
DF_EXTERN df_deferred *df_remote_call_timeout(df_remote *rc, const char *name,
                                              const void *data, size_t len,
                                              double seconds);

/*! \brief Reads the caller's counters.
 *  \param rc the caller (borrowed). \param out filled in.
 *  \return 0, or DF_EINVAL for a NULL argument. Reactor thread only. */
DF_EXTERN int df_remote_stats(const df_remote *rc, struct df_remote_stats *out);

/*! \brief Frees the caller: every pending Deferred fails with
 *  DF_REMOTE_CLOSED (their jobs stay in the stream and may still run; their
 *  results are dropped), the connection is closed, the library's thread is
 *  joined. Blocks while that thread finishes the NATS call it is in: at
 *  most connect_timeout, or 2 s for a publish waiting for its
 *  acknowledgement. NULL is a no-op (0).
 *  \param rc the caller, taken.
 *  \return 0; DF_EBUSY (nothing freed) from inside a callback this caller
 *          is firing; DF_EINVAL off the reactor thread. Free it before the
 *          reactor. */
DF_EXTERN int df_remote_free(df_remote *rc);

/* ================================================================ worker */

/*! An opaque worker: serves named job functions on a df_pool. */
typedef struct df_remote_worker df_remote_worker;
/*! One job as its function sees it (valid during the call only). */
typedef struct df_remote_job df_remote_job;

/*! \brief A job function, run on a thread of the worker's pool.
 *  \param job borrowed, valid during the call: its payload, its attempt,
 *         whether the caller asked it to stop.
 *  \param arg the argument registered with the function, borrowed.
 *  \return a df_bytes value (df_ok(b, df_bytes_free), or borrowed with a
 *          NULL free function), df_ok(NULL, NULL) for an empty result, or a
 *          failure (df_fail(df_failure_new(...))): its type name, code and
 *          message go back to the caller. Any other value is a programming
 *          error reported to the caller as DF_INVALID_ARGUMENT. */
typedef df_result (*df_remote_fn)(df_remote_job *job, void *arg);

/*! \brief The payload of \p job (NUL-terminated beyond \p *len). Pool
 *  thread, during the job.
 *  \param job the job (borrowed). \param len receives the length; may be
 *         NULL.
 *  \return the bytes, valid during the job. */
DF_EXTERN const unsigned char *df_remote_job_data(const df_remote_job *job,
                                                  size_t *len);
/*! \brief The job's name. Pool thread, during the job.
 *  \param job the job (borrowed). \return the name, valid during the job. */
DF_EXTERN const char *df_remote_job_name(const df_remote_job *job);
/*! \brief The job's id, unique per call ("CALLER-SEQ"). Pool thread.
 *  \param job the job (borrowed). \return the id, valid during the job. */
DF_EXTERN const char *df_remote_job_id(const df_remote_job *job);
/*! \brief Which delivery this is.
 *  \param job the job (borrowed).
 *  \return 1, then 2 and more on redeliveries. */
DF_EXTERN unsigned df_remote_job_attempt(const df_remote_job *job);
/*! True once the caller cancelled the job (or its deadline passed, or the
 *  worker is closing with DF_REMOTE_GIVE_BACK): a long job may poll it and
 *  return early; its result is discarded anyway. Thread-safe.
 *  \param job the job (borrowed). \return whether to stop. */
DF_EXTERN bool df_remote_job_stop_requested(const df_remote_job *job);

/*! Options of df_remote_worker_new(). */
typedef struct df_remote_worker_options {
  /*! Connection, stream and consumer settings (error_types unused). */
  df_remote_options remote;
  /*! The pool whose threads run the jobs; borrowed, must outlive the
   *  worker, on the same reactor. Required. */
  df_pool *pool;
  /*! Jobs held at once (taken from the stream and not finished); 0 gives
   *  the pool's thread count, so the worker pulls only as many jobs as it
   *  has free threads. */
  unsigned slots;
  /*! Seconds between in-progress marks of running jobs (each resets the
   *  server's acknowledgement wait); 0 gives ack_wait / 3; negative turns
   *  the marks off (a job running longer than ack_wait is then delivered
   *  again). */
  double in_progress_interval;
} df_remote_worker_options;

/*! \brief Makes a worker and starts connecting; it takes no job before
 *  df_remote_worker_start().
 *  \param out receives the worker; NULL on error. \param reactor borrowed,
 *         the calling thread must be its thread. \param opts borrowed;
 *         opts->pool is required.
 *  \return 0; DF_EINVAL; DF_ENOMEM (the connect's answer and the fetcher's
 *          exit notice are made here too, so that df_remote_worker_start()
 *          and df_remote_worker_close() fire whatever memory is left
 *          later); the negative errno of pthread_create(). Reactor thread
 *          only. A job the worker has no memory to take is given back to
 *          the stream (delivered again), never dropped. */
DF_EXTERN int df_remote_worker_new(df_remote_worker **out, df_reactor *reactor,
                                   const df_remote_worker_options *opts);

/*! \brief Registers job function \p fn under \p name (copied; a subject
 *  token as for df_remote_call()). \p arg is borrowed and passed to \p fn.
 *  \param w the worker (borrowed). \param name the job's name.
 *  \param fn the job function. \param arg passed to \p fn.
 *  \return 0; DF_EINVAL (NULL, bad name, already registered, after
 *          df_remote_worker_start()); DF_ENOMEM. Reactor thread only. */
DF_EXTERN int df_remote_worker_register(df_remote_worker *w, const char *name,
                                        df_remote_fn fn, void *arg);

/*! \brief Starts pulling jobs (once connected).
 *  \param w the worker (borrowed).
 *  \return a Deferred that fires with a borrowed NULL value once the worker
 *          is connected and its consumer ready, or fails with
 *          DF_REMOTE_CONNECTION; DF_INVALID_ARGUMENT when \p w is NULL or
 *          already started. Reactor thread only. */
DF_EXTERN df_deferred *df_remote_worker_start(df_remote_worker *w);

/*! How df_remote_worker_close() treats the jobs it holds. */
typedef enum df_remote_close_mode {
  /*! Run every job taken, publish the results, then stop. */
  DF_REMOTE_FINISH = 0,
  /*! Give back (negative acknowledgement: another worker takes them at
   *  once) the jobs not started; wait for the running ones, whose stop flag
   *  is set, and publish their results. */
  DF_REMOTE_GIVE_BACK = 1
} df_remote_close_mode;

/*! Counters of a worker, read by df_remote_worker_stats(). */
struct df_remote_worker_stats {
  uint64_t taken;       /*!< messages fetched from the stream */
  uint64_t ran;         /*!< job functions called */
  uint64_t succeeded;   /*!< results published and confirmed (or expired) */
  uint64_t failed;      /*!< of ran: the function returned a failure */
  uint64_t unknown;     /*!< jobs of a name nobody registered */
  uint64_t skipped;     /*!< cancelled or expired jobs dropped unrun */
  uint64_t given_back;  /*!< jobs handed back to the stream unrun */
  uint64_t in_progress; /*!< in-progress marks sent */
  uint64_t resent;      /*!< results published again (no confirmation) */
  unsigned held;        /*!< jobs held now */
};

/*! \brief Stops pulling and finishes or gives back what the worker holds
 *  (\p mode). \return a Deferred that fires (borrowed NULL) once nothing is
 *  held any more; DF_INVALID_ARGUMENT for NULL \p w or a bad mode. A
 *  second close returns a Deferred that fires at the same time. Reactor
 *  thread only; run the reactor until it fires, then df_remote_worker_free().
 *  \param w the worker (borrowed).
 *  \param mode DF_REMOTE_FINISH or DF_REMOTE_GIVE_BACK. */
DF_EXTERN df_deferred *df_remote_worker_close(df_remote_worker *w,
                                              df_remote_close_mode mode);

/*! \brief Reads the worker's counters. \return 0, or DF_EINVAL. Reactor
 *  thread only.
 *  \param w the worker (borrowed). \param out filled in. */
DF_EXTERN int df_remote_worker_stats(const df_remote_worker *w,
                                     struct df_remote_worker_stats *out);

/*! \brief Frees a worker that holds no job (closed, and its close fired,
 *  or never started). NULL is a no-op (0).
 *  \param w the worker, taken.
 *  \return 0; DF_EBUSY (nothing freed) while the worker holds jobs, or from
 *          inside a callback the worker is firing; DF_EINVAL off the reactor
 *          thread. Free it before the pool and the reactor. */
DF_EXTERN int df_remote_worker_free(df_remote_worker *w);

/* ================================================================ process */

/*! \brief Releases the NATS client's global state, waiting up to a second
 *  for its threads. Call once at exit after freeing every caller and
 *  worker; nothing of this header may be used afterwards. */
DF_EXTERN void df_remote_library_close(void);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_REMOTE_H */
