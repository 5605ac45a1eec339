/* What the files of remote/ share: hand-off queues between threads, a
 * library thread that runs blocking NATS calls, resolved options, the NATS
 * connection, and the job and result envelopes (envelope.c documents the
 * wire format). */
#ifndef DF_REMOTE_INTERNAL_H
#define DF_REMOTE_INTERNAL_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "deferred/alloc.h"
#include "deferred/remote.h"

/* ------------------------------------------------------------ queues */

/* An item handed from one thread to another. run() consumes it on the
 * receiving side; drop() frees it unrun (a queue torn down). Both take the
 * queue's owner. */
typedef struct df__ritem df__ritem;
typedef void (*df__ritem_fn)(void *owner, df__ritem *item);
struct df__ritem {
  df__ritem *next;
  df__ritem_fn run;
  df__ritem_fn drop;
};

/* A FIFO of items from any thread to one consumer: a library thread
 * (woken through the condition variable) or the reactor (woken through
 * a df_async handle, so no allocation per hand-off and nothing queued in
 * the reactor once the handle is freed). */
typedef struct df__rq {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  df__ritem *head;
  df__ritem *tail;
  df_async *async; /* reactor consumer; NULL for a thread */
  bool closed;     /* pushes refused */
} df__rq;

int df__rq_init(df__rq *q, df_async *async);
/* A queue whose consumer is the reactor \p r: makes the df_async handle
 * \p async that runs \p fn(\p arg) there, then the queue. 0, DF_ENOMEM
 * (no handle) or df__rq_init()'s error; on error *\p async is NULL. */
int df__rq_init_reactor(df__rq *q, df_async **async, df_reactor *r,
                        df_call_fn fn, void *arg);
/* Appends \p it and wakes the consumer; false (the caller still owns \p it)
 * once the queue is closed. Any thread. */
bool df__rq_push(df__rq *q, df__ritem *it);
/* Takes everything queued, oldest first (NULL when empty). */
df__ritem *df__rq_take(df__rq *q);
/* Blocks until something is queued or the queue is closed; NULL only when
 * closed and empty. */
df__ritem *df__rq_wait(df__rq *q);
/* Refuses later pushes and wakes a waiting consumer. */
void df__rq_close(df__rq *q);
/* Runs every item of the list \p list (from df__rq_take) with \p owner. */
void df__ritems_run(df__ritem *list, void *owner);
/* Drops whatever is still queued, then releases the queue. */
void df__rq_destroy(df__rq *q, void *owner);

/* A library thread that runs the items of its queue in order (the
 * blocking NATS calls). Stopping closes the queue; the thread runs what is
 * left (items check df__rthread_stopping() to cut their retries short),
 * then exits and is joined. */
typedef struct df__rthread {
  df__rq q;
  pthread_t thread;
  atomic_bool stopping;
  bool started;
  void *owner;
} df__rthread;

int df__rthread_start(df__rthread *t, void *owner);
bool df__rthread_post(df__rthread *t, df__ritem *it);
bool df__rthread_stopping(const df__rthread *t);
void df__rthread_stop(df__rthread *t);
/* Sleeps \p ms or until the thread is asked to stop; false when it was. */
bool df__rthread_nap(df__rthread *t, int ms);

/* ------------------------------------------------------------ options */

/* df_remote_options with defaults applied and strings copied. Times in
 * milliseconds. */
typedef struct df__ropts {
  char *servers;
  char *stream;
  char *prefix;
  int64_t connect_timeout_ms;
  int64_t timeout_ms;
  int max_reconnect;
  int64_t reconnect_wait_ms;
  int64_t ack_wait_ms;
  int max_deliver;
} df__ropts;

/* 0, DF_EINVAL (a negative time, a bad prefix or stream name) or
 * DF_ENOMEM; on error nothing is held. */
int df__ropts_init(df__ropts *o, const df_remote_options *in);
void df__ropts_free(df__ropts *o);

/* True for a non-empty subject token of letters, digits, '-' and '_'. */
bool df__token_ok(const char *s);

/* Wall-clock milliseconds since the epoch. */
int64_t df__wall_ms(void);

/* A copy of "prefix + suffix" (df_malloc), or NULL. */
char *df__concat(const char *a, const char *b, const char *c);

/* ------------------------------------------------------------ connection */

/* Callbacks of the NATS connection, run on the client's threads. */
typedef struct df__rconn_hooks {
  natsConnectionHandler closed;
  natsConnectionHandler disconnected;
  natsConnectionHandler reconnected;
  void *arg;
} df__rconn_hooks;

/* Connects (blocking, bounded by connect_timeout); on failure fills
 * \p why with NATS's reason. */
natsStatus df__rconn_open(natsConnection **nc, const df__ropts *o,
                          const df__rconn_hooks *hooks, char *why,
                          size_t why_len);

/* Creates the work-queue stream, or checks that the existing one is one;
 * fills \p why on failure. */
natsStatus df__rconn_stream(jsCtx *js, const df__ropts *o, char *why,
                            size_t why_len);

/* "text of s: last error" into \p why. */
void df__rconn_reason(natsStatus s, jsErrCode jerr, char *why, size_t why_len);

/* The connection's last error text, for the closed callback. */
void df__rconn_last_error(natsConnection *nc, char *why, size_t why_len);

/* Waits for the subscriptions and connection callbacks to finish: each
 * df__rdone_add() is matched by one df__rdone_one(), called as the last
 * thing a NATS-side callback does. */
typedef struct df__rdone {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int outstanding;
} df__rdone;
void df__rdone_init(df__rdone *d);
void df__rdone_add(df__rdone *d);
void df__rdone_one(void *d);
/* Waits up to \p ms for the count to drop to zero; false on timeout. */
bool df__rdone_wait(df__rdone *d, int ms);
void df__rdone_destroy(df__rdone *d);

/* Connects as df__rconn_open() does, then gets the JetStream context
 * \p js and creates or checks the stream (df__rconn_stream()). The closed
 * callback is counted in \p done before the connect (it may run as soon as
 * the connection exists) and uncounted when no connection was made. On
 * failure \p why says why; a connection made stays in \p nc for the
 * caller to close. Library thread. */
natsStatus df__rconn_setup(natsConnection **nc, jsCtx **js, const df__ropts *o,
                           const df__rconn_hooks *hooks, df__rdone *done,
                           char *why, size_t why_len);

/* Subscribes \p fn (with \p arg) to \p subject; the subscription's end is
 * counted in \p done, so that closing waits for its last callback. */
natsStatus df__rconn_subscribe(natsConnection *nc, natsSubscription **sub,
                               const char *subject, natsMsgHandler fn,
                               void *arg, df__rdone *done);

/* ------------------------------------------------------------ envelopes */

/* Header names; envelope.c documents what each carries. */
#define DF__H_ID "Df-Job-Id"
#define DF__H_NAME "Df-Job"
#define DF__H_REPLY "Df-Reply"
#define DF__H_DEADLINE "Df-Deadline"
#define DF__H_STATUS "Df-Status"
#define DF__H_ATTEMPT "Df-Attempt"
#define DF__H_ERR_TYPE "Df-Error-Type"
#define DF__H_ERR_CODE "Df-Error-Code"
#define DF__H_ERR_MSG "Df-Error-Message"

/* A job as a worker reads it (pointers into the message's headers). */
typedef struct df__job_env {
  const char *id;
  const char *name;
  const char *reply;
  int64_t deadline_ms;
} df__job_env;

/* The job message for subject PREFIX.job.NAME. */
natsStatus df__env_job(natsMsg **out, const char *subject, const char *id,
                       const char *name, const char *reply, int64_t deadline_ms,
                       const void *data, size_t len);
/* false when a header is missing or malformed. */
bool df__env_read_job(natsMsg *m, df__job_env *out);

/* The result message to \p reply, answered at \p receipt. \p r is
 * borrowed: a df_bytes value, an empty value or a failure. */
natsStatus df__env_result(natsMsg **out, const char *reply, const char *receipt,
                          const char *id, unsigned attempt, df_result r);

/* A result as the caller reads it (owned copies). */
typedef struct df__result_env {
  char *id;
  bool ok;
  df_bytes *value; /* ok */
  char *err_type;  /* !ok */
  int err_code;
  char *err_message;
} df__result_env;
/* Reads a result message: 0; DF_EINVAL when it is malformed (a missing
 * header); DF_ENOMEM. \p out is cleared on error. */
int df__env_read_result(natsMsg *m, df__result_env *out);
void df__result_env_clear(df__result_env *e);

/* The failure a worker sends for a value a job function must not return. */
df_failure *df__env_bad_value(void);

#endif /* DF_REMOTE_INTERNAL_H */
