/* The worker side of remote jobs (df_remote_worker). Threads:
 * - the fetcher pulls jobs from the durable pull consumer "workers", never
 *   more than the worker's free slots (a slot is taken when a job is
 *   fetched and given back when its pool run ends), and hands each message
 *   to the reactor;
 * - the library thread runs every other NATS call in order: connect and
 *   consumer set-up, publishing results, acknowledgements, in-progress
 *   marks, negative acknowledgements and terminations;
 * - the NATS client's threads deliver receipts and cancel notices, which go
 *   to the reactor's hand-off queue.
 * The reactor thread owns the held jobs: it starts them on the pool,
 * publishes their results through the library thread, and acknowledges a
 * job once the caller confirmed its result (envelope.c says why).
 *
 * A held job: QUEUED (submitted to the pool) -> RUNNING (its function was
 * called, on a pool thread) -> result published, waiting for the receipt
 * -> acknowledged and freed. A job cancelled, expired or given back before
 * it runs moves QUEUED -> SKIPPED by compare-and-swap, so exactly one of
 * the pool thread (running it) and the reactor (skipping it) wins. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_internal.h"

#define FETCH_WAIT_MS 500
#define RESEND_SECONDS 1.0
#define RECENT_CANCELS 256

enum { JOB_QUEUED, JOB_RUNNING, JOB_SKIPPED };
typedef enum { END_ACK, END_NAK, END_TERM } job_end;

typedef struct handler {
  struct handler *next;
  char *name;
  df_remote_fn fn;
  void *arg;
} handler;

struct df_remote_job {
  df_remote_job *next, *prev; /* held list */
  df_remote_worker *w;
  natsMsg *msg;
  uint64_t key; /* receipt subject's last token */
  char *id;
  char *name;
  char *reply;
  int64_t deadline_ms;
  unsigned attempt;
  df_bytes *payload;
  const handler *h;
  atomic_int state;
  atomic_bool stop;
  job_end skip_end; /* how a skipped job ends */
  bool awaiting_receipt;
  df_timer *resend;
  natsMsg *result_msg; /* kept for re-sending; the library thread's */
};

struct df_remote_worker {
  df_reactor *reactor;
  df_pool *pool;
  df__ropts o;
  double in_progress_interval;
  char nuid[64];
  char *receipt_prefix; /* PREFIX.receipt.NUID. */
  char *cancel_subject;
  char *job_subject;
  handler *handlers;

  df__rthread net;
  /* The connect's answer and the fetcher's exit notice, made with the
   * worker so that sending them cannot fail: without them
   * df_remote_worker_start() or df_remote_worker_close() would never fire.
   * NULL once taken (by the library thread and the fetcher). */
  struct status_item *ready_note;
  struct status_item *gone_note;
  natsConnection *nc;
  jsCtx *js;
  natsSubscription *pull;
  natsSubscription *receipt_sub;
  natsSubscription *cancel_sub;
  df__rdone nats_done;

  /* Fetcher. */
  pthread_t fetcher;
  bool fetcher_started;
  pthread_mutex_t slot_lock;
  pthread_cond_t slot_cond;
  unsigned free_slots;
  bool stop_fetching;
  bool fetcher_gone; /* reactor's view: its last item arrived */

  /* Reactor thread. */
  df__rq inbox;
  df_async *async;
  bool ready, failed, started, closing;
  df_remote_close_mode close_mode;
  df_failure *conn_failure;
  df_deferred **waiters; /* start and close Deferreds */
  size_t nwaiters, waiters_cap;
  bool *waiter_is_close;
  df_remote_job *held;
  uint64_t next_key;
  df_timer *in_progress;
  char *recent_cancel[RECENT_CANCELS];
  size_t recent_next;
  int firing;
  struct df_remote_worker_stats stats;
};

/* ------------------------------------------------------------ job access */

const unsigned char *df_remote_job_data(const df_remote_job *job, size_t *len) {
  if (len != NULL)
    *len = job->payload->len;
  return job->payload->data;
}
const char *df_remote_job_name(const df_remote_job *job) { return job->name; }
const char *df_remote_job_id(const df_remote_job *job) { return job->id; }
unsigned df_remote_job_attempt(const df_remote_job *job) {
  return job->attempt;
}
bool df_remote_job_stop_requested(const df_remote_job *job) {
  return atomic_load_explicit(&job->stop, memory_order_acquire);
}

/* ------------------------------------------------------------ items */

typedef struct msg_item { /* a fetched job, reactor-bound */
  df__ritem base;
  natsMsg *msg;
} msg_item;

typedef struct text_item { /* a receipt key or a cancelled id */
  df__ritem base;
  uint64_t key;
  char *text;
} text_item;

typedef struct status_item { /* set-up done, or the fetcher exited */
  df__ritem base;
  natsStatus status;
  char why[256];
} status_item;

typedef struct net_item { /* a NATS call on the library thread */
  df__ritem base;
  natsMsg *msg; /* ack, nak, term, in progress: ownership per op */
  int op;
} net_item;
enum { OP_PUBLISH, OP_ACK, OP_NAK, OP_TERM, OP_IN_PROGRESS, OP_DESTROY };

/* Ops that own their message (destroy it when done). */
static bool op_owns(int op) {
  return op == OP_ACK || op == OP_NAK || op == OP_TERM || op == OP_DESTROY;
}

static void drop_plain(void *owner, df__ritem *it) {
  (void)owner;
  df_free(it);
}

static void msg_drop(void *owner, df__ritem *it) {
  (void)owner;
  natsMsg_Destroy(((msg_item *)it)->msg);
  df_free(it);
}

static void text_drop(void *owner, df__ritem *it) {
  (void)owner;
  df_free(((text_item *)it)->text);
  df_free(it);
}

static void to_reactor(df_remote_worker *w, df__ritem *it) {
  if (!df__rq_push(&w->inbox, it)) {
    it->drop(w, it);
  }
}

/* ------------------------------------------------------------ library thread */

static void net_run(void *owner, df__ritem *it) {
  df_remote_worker *w = owner;
  net_item *n = (net_item *)it;
  switch (n->op) {
  case OP_PUBLISH: /* borrowed: its OP_DESTROY comes after, in order */
    natsConnection_PublishMsg(w->nc, n->msg);
    break;
  case OP_ACK:
    natsMsg_Ack(n->msg, NULL);
    break;
  case OP_NAK:
    natsMsg_Nak(n->msg, NULL);
    break;
  case OP_TERM:
    natsMsg_Term(n->msg, NULL);
    break;
  case OP_IN_PROGRESS:
    natsMsg_InProgress(n->msg, NULL);
    break;
  default: /* OP_DESTROY */
    break;
  }
  /* Ending ops own the message; marks and publishes borrow. */
  if (op_owns(n->op)) {
    natsMsg_Destroy(n->msg);
  }
  df_free(n);
}

static void net_drop(void *owner, df__ritem *it) {
  net_item *n = (net_item *)it;
  (void)owner;
  if (op_owns(n->op)) {
    natsMsg_Destroy(n->msg);
  }
  df_free(n);
}

static bool post_net(df_remote_worker *w, int op, natsMsg *msg) {
  net_item *n = df_calloc(1, sizeof *n);
  if (n == NULL) {
    if (op_owns(op)) {
      natsMsg_Destroy(msg); /* the op took it, even when it cannot run */
    }
    return false;
  }
  n->base.run = net_run;
  n->base.drop = net_drop;
  n->op = op;
  n->msg = msg;
  if (!df__rthread_post(&w->net, &n->base)) {
    net_drop(w, &n->base);
    return false;
  }
  return true;
}

static void fetched_run(void *owner, df__ritem *it);
static void fetcher_gone_run(void *owner, df__ritem *it);

/* A slot is free again (any thread). */
static void give_slot(df_remote_worker *w) {
  pthread_mutex_lock(&w->slot_lock);
  w->free_slots++;
  pthread_cond_signal(&w->slot_cond);
  pthread_mutex_unlock(&w->slot_lock);
}

/* A fetched job the reactor cannot be told about (no memory for the
 * hand-off): given back to the stream for a later delivery, and its slot
 * freed, or the worker would fetch one job fewer for ever. Fetcher thread;
 * the negative acknowledgement is sent from here, as the library thread's
 * queue needs memory too. */
static void give_back_unqueued(df_remote_worker *w, natsMsg *msg) {
  natsMsg_Nak(msg, NULL);
  natsMsg_Destroy(msg);
  give_slot(w);
}

static void *fetcher_main(void *arg) {
  df_remote_worker *w = arg;
  natsStatus last = NATS_OK;
  for (;;) {
    pthread_mutex_lock(&w->slot_lock);
    while (w->free_slots == 0 && !w->stop_fetching) {
      pthread_cond_wait(&w->slot_cond, &w->slot_lock);
    }
    int batch = (int)w->free_slots;
    bool stop = w->stop_fetching;
    pthread_mutex_unlock(&w->slot_lock);
    if (stop) {
      break;
    }
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    natsStatus s =
        natsSubscription_Fetch(&list, w->pull, batch, FETCH_WAIT_MS, &jerr);
    if (list.Count > 0) {
      pthread_mutex_lock(&w->slot_lock);
      w->free_slots -= (unsigned)list.Count;
      pthread_mutex_unlock(&w->slot_lock);
    }
    bool out_of_memory = false;
    for (int i = 0; i < list.Count; i++) {
      msg_item *m = df_calloc(1, sizeof *m);
      if (m == NULL) {
        give_back_unqueued(w, list.Msgs[i]);
        list.Msgs[i] = NULL;
        out_of_memory = true;
        continue;
      }
      m->base.run = fetched_run;
      m->base.drop = msg_drop;
      m->msg = list.Msgs[i];
      list.Msgs[i] = NULL;
      to_reactor(w, &m->base);
    }
    natsMsgList_Destroy(&list);
    if (s == NATS_CONNECTION_CLOSED || s == NATS_INVALID_SUBSCRIPTION) {
      last = s;
      break;
    }
    /* Disconnected: wait for the reconnect. Out of memory: the jobs given
     * back come again at once, so do not fetch them straight back. */
    if ((s != NATS_OK && s != NATS_TIMEOUT) || out_of_memory) {
      df__rthread_nap(&w->net, 100);
    }
  }
  status_item *g = w->gone_note;
  w->gone_note = NULL;
  g->status = last;
  to_reactor(w, &g->base);
  return NULL;
}

static void ready_run(void *owner, df__ritem *it);
static void receipt_run(void *owner, df__ritem *it);
static void cancel_run(void *owner, df__ritem *it);

static void on_receipt(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                       void *closure) {
  (void)nc;
  (void)sub;
  df_remote_worker *w = closure;
  /* The server answers a result sent while no caller listens (the caller is
   * reconnecting) with a "no responders" status on the receipt subject:
   * that is no receipt, the result is re-sent. */
  if (natsMsg_IsNoResponders(msg)) {
    natsMsg_Destroy(msg);
    return;
  }
  const char *subject = natsMsg_GetSubject(msg);
  const char *dot = strrchr(subject, '.');
  text_item *t = dot != NULL ? df_calloc(1, sizeof *t) : NULL;
  if (t != NULL) {
    t->base.run = receipt_run;
    t->base.drop = text_drop;
    t->key = strtoull(dot + 1, NULL, 10);
    to_reactor(w, &t->base);
  }
  natsMsg_Destroy(msg);
}

static void on_cancel(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                      void *closure) {
  (void)nc;
  (void)sub;
  df_remote_worker *w = closure;
  text_item *t = df_calloc(1, sizeof *t);
  if (t != NULL) {
    t->base.run = cancel_run;
    t->base.drop = text_drop;
    t->text = df_malloc((size_t)natsMsg_GetDataLength(msg) + 1);
    if (t->text == NULL) {
      df_free(t);
    } else {
      memcpy(t->text, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
      t->text[natsMsg_GetDataLength(msg)] = '\0';
      to_reactor(w, &t->base);
    }
  }
  natsMsg_Destroy(msg);
}

static void on_closed(natsConnection *nc, void *closure) {
  (void)nc;
  df_remote_worker *w = closure;
  df__rdone_one(&w->nats_done);
}

static natsStatus subscribe(df_remote_worker *w, natsSubscription **sub,
                            const char *subject, natsMsgHandler fn) {
  return df__rconn_subscribe(w->nc, sub, subject, fn, w, &w->nats_done);
}

static void connect_run(void *owner, df__ritem *it) {
  df_remote_worker *w = owner;
  df_free(it);
  status_item *r = w->ready_note;
  w->ready_note = NULL;
  df__rconn_hooks hooks = {.closed = on_closed, .arg = w};
  natsStatus s = df__rconn_setup(&w->nc, &w->js, &w->o, &hooks, &w->nats_done,
                                 r->why, sizeof r->why);
  if (s == NATS_OK) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = w->o.stream;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = w->o.ack_wait_ms * 1000000LL;
    so.Config.MaxDeliver = w->o.max_deliver;
    so.Config.MaxAckPending = 100000;
    jsErrCode jerr = 0;
    s = js_PullSubscribe(&w->pull, w->js, w->job_subject, "workers", NULL, &so,
                         &jerr);
    if (s != NATS_OK)
      df__rconn_reason(s, jerr, r->why, sizeof r->why);
  }
  if (s == NATS_OK) {
    char *receipts = df__concat(w->receipt_prefix, "*", NULL);
    s = receipts != NULL ? subscribe(w, &w->receipt_sub, receipts, on_receipt)
                         : NATS_NO_MEMORY;
    df_free(receipts);
    if (s == NATS_OK)
      s = subscribe(w, &w->cancel_sub, w->cancel_subject, on_cancel);
    if (s == NATS_OK)
      s = natsConnection_FlushTimeout(w->nc, w->o.connect_timeout_ms);
    if (s != NATS_OK)
      df__rconn_reason(s, 0, r->why, sizeof r->why);
  }
  r->status = s;
  to_reactor(w, &r->base);
}

/* ------------------------------------------------------------ reactor side */

/* Fires the start (or close) waiters. Each is taken out of the array
 * before it fires, so that one its callback adds (a close made inside the
 * start's callback) is kept, or fired too when it is of the kind being
 * fired now. */
static void fire_waiters(df_remote_worker *w, bool closes) {
  size_t i = 0;
  while (i < w->nwaiters) {
    if (w->waiter_is_close[i] != closes) {
      i++;
      continue;
    }
    df_deferred *d = w->waiters[i];
    size_t after = w->nwaiters - i - 1;
    memmove(&w->waiters[i], &w->waiters[i + 1], after * sizeof *w->waiters);
    memmove(&w->waiter_is_close[i], &w->waiter_is_close[i + 1],
            after * sizeof *w->waiter_is_close);
    w->nwaiters--;
    w->firing++;
    if (!closes && w->failed) {
      df_errback(d, df_failure_ref(w->conn_failure));
    } else {
      df_callback(d, NULL, NULL);
    }
    w->firing--;
    df_unref(d);
  }
}

static df_deferred *add_waiter(df_remote_worker *w, bool is_close) {
  if (w->nwaiters == w->waiters_cap) {
    size_t cap = w->waiters_cap == 0 ? 4 : w->waiters_cap * 2;
    df_deferred **d = df_realloc(w->waiters, cap * sizeof *d);
    if (d != NULL)
      w->waiters = d;
    bool *c =
        d != NULL ? df_realloc(w->waiter_is_close, cap * sizeof *c) : NULL;
    if (c == NULL) {
      return df_fail_now(df_failure_new(&DF_NO_MEMORY, 0, "worker waiter"));
    }
    w->waiter_is_close = c;
    w->waiters_cap = cap;
  }
  df_deferred *d = df_deferred_new(NULL, NULL);
  if (d != NULL) {
    w->waiters[w->nwaiters] = df_ref(d);
    w->waiter_is_close[w->nwaiters++] = is_close;
  }
  return d;
}

static void maybe_closed(df_remote_worker *w) {
  if (w->closing && w->held == NULL &&
      (w->fetcher_gone || !w->fetcher_started)) {
    fire_waiters(w, true);
  }
}

static void held_add(df_remote_worker *w, df_remote_job *j) {
  j->prev = NULL;
  j->next = w->held;
  if (w->held != NULL)
    w->held->prev = j;
  w->held = j;
  w->stats.held++;
}

static void job_free(df_remote_job *j) {
  if (j->resend != NULL)
    df_timer_cancel(j->resend);
  df_free(j->id);
  df_free(j->name);
  df_free(j->reply);
  df_bytes_free(j->payload);
  df_free(j);
}

/* Ends a held job towards the stream (acknowledge, give back, terminate;
 * the library thread sends it after everything posted before) and forgets
 * it. The result message, if any, is destroyed by the library thread after
 * its last publish. */
static void job_end_with(df_remote_worker *w, df_remote_job *j, job_end how) {
  static const int ops[] = {OP_ACK, OP_NAK, OP_TERM};
  if (j->prev != NULL)
    j->prev->next = j->next;
  else
    w->held = j->next;
  if (j->next != NULL)
    j->next->prev = j->prev;
  w->stats.held--;
  natsMsg *msg = j->msg;
  j->msg = NULL;
  if (!post_net(w, ops[how], msg)) {
    /* The library thread is gone (freeing): the server redelivers. */
  }
  if (j->result_msg != NULL) {
    natsMsg *r = j->result_msg;
    j->result_msg = NULL;
    /* Destroyed in order after the publishes that borrow it. */
    post_net(w, OP_DESTROY, r);
  }
  job_free(j);
  maybe_closed(w);
}

static df_remote_job *held_find_key(df_remote_worker *w, uint64_t key) {
  for (df_remote_job *j = w->held; j != NULL; j = j->next) {
    if (j->key == key)
      return j;
  }
  return NULL;
}

static df_remote_job *held_find_id(df_remote_worker *w, const char *id) {
  for (df_remote_job *j = w->held; j != NULL; j = j->next) {
    if (strcmp(j->id, id) == 0)
      return j;
  }
  return NULL;
}

static bool recently_cancelled(const df_remote_worker *w, const char *id) {
  for (size_t i = 0; i < RECENT_CANCELS; i++) {
    if (w->recent_cancel[i] != NULL && strcmp(w->recent_cancel[i], id) == 0) {
      return true;
    }
  }
  return false;
}

static void resend_due(void *arg);

static void publish_result(df_remote_worker *w, df_remote_job *j) {
  /* The message, not the job: the library thread may publish it after the
   * job ended (a receipt that raced a resend), and reads nothing else. */
  if (post_net(w, OP_PUBLISH, j->result_msg)) {
    j->awaiting_receipt = true;
    df_call_later(&j->resend, w->reactor, RESEND_SECONDS, resend_due, j);
  } else {
    job_end_with(w, j, END_NAK);
  }
}

/* Builds the result message of \p j from \p r (consumed) and publishes it. */
static void send_result(df_remote_worker *w, df_remote_job *j, df_result r) {
  char receipt[160];
  snprintf(receipt, sizeof receipt, "%s%" PRIu64, w->receipt_prefix, j->key);
  natsStatus s =
      df__env_result(&j->result_msg, j->reply, receipt, j->id, j->attempt, r);
  df_result_free(r);
  if (s != NATS_OK) {
    job_end_with(w, j, END_NAK); /* another worker may manage */
    return;
  }
  publish_result(w, j);
}

/* No receipt yet: publish again until the deadline; past it the caller has
 * timed out, so the job is acknowledged anyway. */
static void resend_due(void *arg) {
  df_remote_job *j = arg;
  df_remote_worker *w = j->w;
  j->resend = NULL;
  if (df__wall_ms() >= j->deadline_ms) {
    w->stats.succeeded++;
    job_end_with(w, j, END_ACK);
    return;
  }
  w->stats.resent++;
  publish_result(w, j);
}

static df_result run_job(void *arg) {
  df_remote_job *j = arg;
  int expected = JOB_QUEUED;
  if (!atomic_compare_exchange_strong(&j->state, &expected, JOB_RUNNING)) {
    return df_ok(NULL, NULL); /* skipped: never runs */
  }
  df_result r = j->h->fn(j, j->h->arg);
  /* Bytes, borrowed or owned (shared ones too: their release function is
   * the library's mark), or a failure; a Deferred or any other value is a
   * programming error. */
  df_free_fn release = df_result_release_fn(r);
  if (!df_result_is_failure(r) && r.ptr != NULL && release != NULL &&
      release != df_bytes_free) {
    df_result_free(r);
    r = df_fail(df__env_bad_value());
  }
  return r;
}

/* The pool run ended (on the reactor thread): the slot is free again. */
static df_result job_ran(df_result r, void *arg) {
  df_remote_job *j = arg;
  df_remote_worker *w = j->w;
  give_slot(w);
  int state = atomic_load(&j->state);
  if (state == JOB_QUEUED) {
    /* The pool refused it (full, closed): give it back. */
    int expected = JOB_QUEUED;
    atomic_compare_exchange_strong(&j->state, &expected, JOB_SKIPPED);
    df_result_free(r);
    w->stats.given_back++;
    job_end_with(w, j, END_NAK);
  } else if (state == JOB_SKIPPED) {
    df_result_free(r);
    job_end_with(w, j, j->skip_end);
  } else {
    w->stats.ran++;
    if (df_result_is_failure(r))
      w->stats.failed++;
    send_result(w, j, r);
  }
  return df_ok(NULL, NULL);
}

/* Moves a queued job to SKIPPED; false when it started already. */
static bool skip(df_remote_job *j, job_end how) {
  int expected = JOB_QUEUED;
  atomic_store_explicit(&j->stop, true, memory_order_release);
  if (!atomic_compare_exchange_strong(&j->state, &expected, JOB_SKIPPED))
    return false;
  j->skip_end = how; /* the first skip decides: a later one changes nothing */
  return true;
}

static const handler *find_handler(const df_remote_worker *w,
                                   const char *name) {
  for (const handler *h = w->handlers; h != NULL; h = h->next) {
    if (strcmp(h->name, name) == 0)
      return h;
  }
  return NULL;
}

/* The held job of \p msg into \p out: 0, DF_EINVAL (not a job: malformed)
 * or DF_ENOMEM. */
static int job_from(df_remote_worker *w, natsMsg *msg, df_remote_job **out) {
  *out = NULL;
  df__job_env env;
  if (!df__env_read_job(msg, &env)) {
    return DF_EINVAL;
  }
  df_remote_job *j = df_calloc(1, sizeof *j);
  if (j == NULL)
    return DF_ENOMEM;
  j->w = w;
  j->msg = msg;
  j->key = ++w->next_key;
  j->id = df_strdup(env.id);
  j->name = df_strdup(env.name);
  j->reply = df_strdup(env.reply);
  j->deadline_ms = env.deadline_ms;
  j->payload =
      df_bytes_new(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
  atomic_init(&j->state, JOB_QUEUED);
  atomic_init(&j->stop, false);
  jsMsgMetaData *md = NULL;
  j->attempt = 1;
  if (natsMsg_GetMetaData(&md, msg) == NATS_OK) {
    j->attempt = (unsigned)md->NumDelivered;
    jsMsgMetaData_Destroy(md);
  }
  if (j->id == NULL || j->name == NULL || j->reply == NULL ||
      j->payload == NULL) {
    j->msg = NULL;
    job_free(j);
    return DF_ENOMEM;
  }
  *out = j;
  return 0;
}

static void fetched_run(void *owner, df__ritem *it) {
  df_remote_worker *w = owner;
  msg_item *m = (msg_item *)it;
  natsMsg *msg = m->msg;
  df_free(m);
  w->stats.taken++;
  df_remote_job *j = NULL;
  int err = job_from(w, msg, &j);
  if (err != 0) {
    give_slot(w);
    /* A malformed message is no job: redelivering it would not help. One
     * this worker had no memory for is given back for a later delivery
     * (here or elsewhere), not lost. */
    post_net(w, err == DF_EINVAL ? OP_TERM : OP_NAK, msg);
    return;
  }
  held_add(w, j);
  if (w->closing) {
    give_slot(w);
    w->stats.given_back++;
    job_end_with(w, j, END_NAK);
    return;
  }
  if (df__wall_ms() >= j->deadline_ms || recently_cancelled(w, j->id)) {
    give_slot(w);
    w->stats.skipped++;
    job_end_with(w, j, END_TERM);
    return;
  }
  j->h = find_handler(w, j->name);
  if (j->h == NULL) {
    give_slot(w);
    w->stats.unknown++;
    send_result(w, j,
                df_fail(df_failure_new(
                    &DF_REMOTE_UNKNOWN_JOB, 0,
                    "no job function named '%s' on this worker", j->name)));
    return;
  }
  df_deferred *d = df_defer_to_thread(w->pool, run_job, j);
  if (d == NULL) {
    give_slot(w);
    job_end_with(w, j, END_NAK);
    return;
  }
  w->firing++;
  df_add_both(d, job_ran, j);
  w->firing--;
  df_unref(d);
}

static void receipt_run(void *owner, df__ritem *it) {
  df_remote_worker *w = owner;
  text_item *t = (text_item *)it;
  df_remote_job *j = held_find_key(w, t->key);
  if (j != NULL && j->awaiting_receipt) {
    w->stats.succeeded++;
    job_end_with(w, j, END_ACK);
  }
  text_drop(w, it);
}

static void cancel_run(void *owner, df__ritem *it) {
  df_remote_worker *w = owner;
  text_item *t = (text_item *)it;
  df_remote_job *j = held_find_id(w, t->text);
  if (j != NULL && !j->awaiting_receipt) {
    if (skip(j, END_TERM)) {
      w->stats.skipped++;
    }
    /* Started: its stop flag is set; its result goes out and is dropped. */
  } else if (j == NULL) {
    /* Not taken (yet): remembered, in case the fetch raced the delete. */
    df_free(w->recent_cancel[w->recent_next]);
    w->recent_cancel[w->recent_next] = t->text;
    w->recent_next = (w->recent_next + 1) % RECENT_CANCELS;
    t->text = NULL;
  }
  text_drop(w, it);
}

static void mark_in_progress(void *arg) {
  df_remote_worker *w = arg;
  for (df_remote_job *j = w->held; j != NULL; j = j->next) {
    if (!j->awaiting_receipt && atomic_load(&j->state) != JOB_SKIPPED &&
        post_net(w, OP_IN_PROGRESS, j->msg)) {
      w->stats.in_progress++;
    }
  }
  df_timer_reset(w->in_progress, w->in_progress_interval);
}

static int start_fetcher(df_remote_worker *w) {
  int rc = pthread_create(&w->fetcher, NULL, fetcher_main, w);
  if (rc != 0) {
    return -rc;
  }
  w->fetcher_started = true;
  if (w->in_progress_interval > 0) {
    df_call_later(&w->in_progress, w->reactor, w->in_progress_interval,
                  mark_in_progress, w);
  }
  return 0;
}

static void ready_run(void *owner, df__ritem *it) {
  df_remote_worker *w = owner;
  status_item *r = (status_item *)it;
  if (r->status == NATS_OK) {
    w->ready = true;
    if (w->started && !w->closing && start_fetcher(w) != 0) {
      w->failed = true;
      w->conn_failure =
          df_failure_new(&DF_SYSTEM, 0, "cannot start the fetcher thread");
    }
  } else {
    w->failed = true;
    w->conn_failure = df_failure_new(&DF_REMOTE_CONNECTION, (int)r->status,
                                     "NATS connection failed: %s", r->why);
  }
  df_free(r);
  fire_waiters(w, false);
  maybe_closed(w);
}

static void fetcher_gone_run(void *owner, df__ritem *it) {
  df_remote_worker *w = owner;
  w->fetcher_gone = true;
  df_free(it);
  maybe_closed(w);
}

static void inbox_ready(void *arg) {
  df_remote_worker *w = arg;
  w->firing++;
  df__ritems_run(df__rq_take(&w->inbox), w);
  w->firing--;
}

/* ------------------------------------------------------------ public */

static df_deferred *invalid(const char *what) {
  return df_fail_now(df_failure_new(&DF_INVALID_ARGUMENT, 0, "%s", what));
}

int df_remote_worker_register(df_remote_worker *w, const char *name,
                              df_remote_fn fn, void *arg) {
  if (w == NULL || fn == NULL || !df__token_ok(name) || w->started ||
      !df_reactor_in_thread(w->reactor) || find_handler(w, name) != NULL) {
    return DF_EINVAL;
  }
  handler *h = df_calloc(1, sizeof *h);
  if (h == NULL || (h->name = df_strdup(name)) == NULL) {
    df_free(h);
    return DF_ENOMEM;
  }
  h->fn = fn;
  h->arg = arg;
  h->next = w->handlers;
  w->handlers = h;
  return 0;
}

df_deferred *df_remote_worker_start(df_remote_worker *w) {
  if (w == NULL || w->started || !df_reactor_in_thread(w->reactor)) {
    return invalid("w: NULL, already started, or off the reactor thread");
  }
  w->started = true;
  if (w->failed) {
    return df_fail_now(df_failure_ref(w->conn_failure));
  }
  if (w->ready) {
    int rc = start_fetcher(w);
    return rc == 0 ? df_succeed(NULL, NULL)
                   : df_fail_now(df_failure_new(&DF_SYSTEM, -rc,
                                                "cannot start the fetcher"));
  }
  return add_waiter(w, false);
}

df_deferred *df_remote_worker_close(df_remote_worker *w,
                                    df_remote_close_mode mode) {
  if (w == NULL || !df_reactor_in_thread(w->reactor) ||
      (mode != DF_REMOTE_FINISH && mode != DF_REMOTE_GIVE_BACK)) {
    return invalid("w: NULL or off the reactor thread, or a bad mode");
  }
  if (!w->closing) {
    w->closing = true;
    w->close_mode = mode;
    pthread_mutex_lock(&w->slot_lock);
    w->stop_fetching = true;
    pthread_cond_signal(&w->slot_cond);
    pthread_mutex_unlock(&w->slot_lock);
    for (df_remote_job *j = w->held; mode == DF_REMOTE_GIVE_BACK && j != NULL;
         j = j->next) {
      if (!j->awaiting_receipt && skip(j, END_NAK)) {
        w->stats.given_back++;
      }
    }
  }
  df_deferred *d = add_waiter(w, true);
  maybe_closed(w);
  return d;
}

int df_remote_worker_stats(const df_remote_worker *w,
                           struct df_remote_worker_stats *out) {
  if (w == NULL || out == NULL) {
    return DF_EINVAL;
  }
  *out = w->stats;
  return 0;
}

static void release(df_remote_worker *w) {
  for (handler *h = w->handlers, *next; h != NULL; h = next) {
    next = h->next;
    df_free(h->name);
    df_free(h);
  }
  for (size_t i = 0; i < RECENT_CANCELS; i++)
    df_free(w->recent_cancel[i]);
  df__ropts_free(&w->o);
  df_free(w->receipt_prefix);
  df_free(w->cancel_subject);
  df_free(w->job_subject);
  df_free(w->waiters);
  df_free(w->waiter_is_close);
  df_failure_unref(w->conn_failure);
  df_free(w->ready_note); /* the connect never ran */
  df_free(w->gone_note);  /* no fetcher ran */
  df__rdone_destroy(&w->nats_done);
  pthread_cond_destroy(&w->slot_cond);
  pthread_mutex_destroy(&w->slot_lock);
  df_free(w);
}

static int make_names(df_remote_worker *w) {
  natsInbox *inbox = NULL;
  if (natsInbox_Create(&inbox) != NATS_OK)
    return DF_ENOMEM;
  const char *nuid = strrchr(inbox, '.');
  snprintf(w->nuid, sizeof w->nuid, "%s", nuid != NULL ? nuid + 1 : inbox);
  natsInbox_Destroy(inbox);
  char *p = df__concat(w->o.prefix, ".receipt.", w->nuid);
  w->receipt_prefix = p != NULL ? df__concat(p, ".", NULL) : NULL;
  df_free(p);
  w->cancel_subject = df__concat(w->o.prefix, ".cancel", NULL);
  w->job_subject = df__concat(w->o.prefix, ".job.>", NULL);
  return w->receipt_prefix && w->cancel_subject && w->job_subject ? 0
                                                                  : DF_ENOMEM;
}

int df_remote_worker_new(df_remote_worker **out, df_reactor *reactor,
                         const df_remote_worker_options *opts) {
  if (out == NULL)
    return DF_EINVAL;
  *out = NULL;
  if (reactor == NULL || opts == NULL || opts->pool == NULL ||
      !df_reactor_in_thread(reactor) || isnan(opts->in_progress_interval)) {
    return DF_EINVAL;
  }
  struct df_pool_stats ps;
  if (df_pool_stats(opts->pool, &ps) != 0)
    return DF_EINVAL;
  df_remote_worker *w = df_calloc(1, sizeof *w);
  if (w == NULL)
    return DF_ENOMEM;
  pthread_mutex_init(&w->slot_lock, NULL);
  pthread_cond_init(&w->slot_cond, NULL);
  df__rdone_init(&w->nats_done);
  int err = df__ropts_init(&w->o, &opts->remote);
  if (err != 0) {
    release(w);
    return err;
  }
  w->reactor = reactor;
  w->pool = opts->pool;
  w->free_slots =
      opts->slots != 0 ? opts->slots : (ps.threads > 0 ? ps.threads : 1);
  w->in_progress_interval = opts->in_progress_interval == 0
                                ? (double)w->o.ack_wait_ms / 3000.0
                                : opts->in_progress_interval;
  err = make_names(w);
  if (err == 0)
    err = df__rq_init_reactor(&w->inbox, &w->async, reactor, inbox_ready, w);
  if (err != 0) {
    release(w);
    return err;
  }
  df__ritem *c = df_calloc(1, sizeof *c);
  w->ready_note = df_calloc(1, sizeof *w->ready_note);
  w->gone_note = df_calloc(1, sizeof *w->gone_note);
  err = c == NULL || w->ready_note == NULL || w->gone_note == NULL
            ? DF_ENOMEM
            : df__rthread_start(&w->net, w);
  if (err != 0) {
    df_free(c);
    df__rq_destroy(&w->inbox, w);
    df_async_free(w->async);
    release(w);
    return err;
  }
  w->ready_note->base.run = ready_run;
  w->ready_note->base.drop = drop_plain;
  w->gone_note->base.run = fetcher_gone_run;
  w->gone_note->base.drop = drop_plain;
  c->run = connect_run;
  c->drop = drop_plain;
  df__rthread_post(&w->net, c);
  *out = w;
  return 0;
}

int df_remote_worker_free(df_remote_worker *w) {
  if (w == NULL)
    return 0;
  if (!df_reactor_in_thread(w->reactor))
    return DF_EINVAL;
  if (w->firing > 0 || w->held != NULL)
    return DF_EBUSY;
  w->firing++;
  w->closing = true;
  w->failed = true;
  if (w->conn_failure == NULL) {
    w->conn_failure = df_failure_new(&DF_REMOTE_CLOSED, 0, "worker freed");
  }
  fire_waiters(w, false);
  fire_waiters(w, true);
  w->firing--;
  pthread_mutex_lock(&w->slot_lock);
  w->stop_fetching = true;
  pthread_cond_signal(&w->slot_cond);
  pthread_mutex_unlock(&w->slot_lock);
  if (w->fetcher_started) {
    pthread_join(w->fetcher, NULL);
  }
  df_timer_cancel(w->in_progress);
  df__rthread_stop(&w->net); /* runs the acknowledgements still queued */
  if (w->nc != NULL) {
    natsConnection_FlushTimeout(w->nc, 1000);
    natsConnection_Close(w->nc);
    df__rdone_wait(&w->nats_done, 5000);
    natsSubscription_Destroy(w->pull);
    natsSubscription_Destroy(w->receipt_sub);
    natsSubscription_Destroy(w->cancel_sub);
    jsCtx_Destroy(w->js);
    natsConnection_Destroy(w->nc);
  }
  df__rq_close(&w->inbox);
  df_async_free(w->async);
  df__rq_destroy(&w->inbox, w);
  release(w);
  return 0;
}
