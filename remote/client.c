/* The caller side of remote jobs (df_remote): a table of pending calls on
 * the reactor thread, a library thread for the blocking NATS calls
 * (connect, publish with its acknowledgement, delete), and the NATS
 * client's delivery threads for results and advisories. Those threads
 * never touch a Deferred: what they learn goes into the reactor's hand-off
 * queue (one df_async handle) and is acted on in a reactor round.
 *
 * A call's life: made (WAITING while the connection is being set up) ->
 * PUBLISHING (the library thread publishes it, retrying with the same
 * message id until the stream stores it or its deadline passes) -> STORED
 * (stream sequence known) -> fired by the first result of its SEQ, by a
 * failure, or cancelled. A call cancelled while PUBLISHING stays in the
 * table, without Deferred, until its sequence arrives, so its message can
 * be deleted then. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_internal.h"

/* Headers and subjects a job message adds to its payload, at most. */
#define ENVELOPE_RESERVE 512

typedef enum { CALL_WAITING, CALL_PUBLISHING, CALL_STORED } call_state;

typedef struct rcall {
  struct rcall *next;  /* bucket chain */
  struct rcall *wnext; /* calls waiting for the connection */
  df_remote *rc;
  uint64_t seq;
  uint64_t stream_seq; /* 0 until stored */
  df_deferred *d;      /* our reference; NULL once fired or cancelled */
  call_state state;
  char *name;
  df_bytes *payload; /* until handed to the library thread */
  int64_t deadline_ms;
} rcall;

typedef enum { RC_CONNECTING, RC_READY, RC_FAILED } rc_state;

struct df_remote {
  df_reactor *reactor;
  df__ropts o;
  const df_error_type *const *error_types;
  char caller[64];      /* NUID: the CALLER of job ids */
  char *reply_subject;  /* PREFIX.reply.CALLER */
  char *cancel_subject; /* PREFIX.cancel */
  char *advisory;       /* the max-deliveries advisory subject */

  /* Library thread and what it owns. */
  df__rthread net;
  /* The connect's answer, made with the caller so that sending it cannot
   * fail: without it df_remote_ready() would never fire. NULL once taken. */
  struct ready_item *ready_note;
  natsConnection *nc;
  jsCtx *js;
  natsSubscription *reply_sub;
  natsSubscription *advisory_sub;
  df__rdone nats_done; /* subscriptions and the closed callback */

  /* Reactor thread. */
  df__rq inbox;
  df_async *async;
  rc_state state;
  df_failure *conn_failure; /* RC_FAILED */
  int64_t max_payload;
  uint64_t next_seq;
  rcall **buckets;
  size_t nbuckets;
  size_t ncalls;
  rcall *waiting_head, *waiting_tail;
  df_deferred **ready_waiters;
  size_t nready, ready_cap;
  int firing;
  struct df_remote_stats stats;
};

/* ------------------------------------------------------------ the table */

static size_t bucket_of(const df_remote *rc, uint64_t seq) {
  return (size_t)(seq * 0x9E3779B97F4A7C15ull) & (rc->nbuckets - 1);
}

static bool table_grow(df_remote *rc) {
  size_t n = rc->nbuckets * 2;
  rcall **b = df_calloc(n, sizeof *b);
  if (b == NULL) {
    return false;
  }
  rcall **old = rc->buckets;
  size_t old_n = rc->nbuckets;
  rc->buckets = b;
  rc->nbuckets = n;
  for (size_t i = 0; i < old_n; i++) {
    for (rcall *c = old[i], *next; c != NULL; c = next) {
      next = c->next;
      size_t k = bucket_of(rc, c->seq);
      c->next = b[k];
      b[k] = c;
    }
  }
  df_free(old);
  return true;
}

static bool table_add(df_remote *rc, rcall *c) {
  if (rc->ncalls + 1 > rc->nbuckets && !table_grow(rc)) {
    return false;
  }
  size_t k = bucket_of(rc, c->seq);
  c->next = rc->buckets[k];
  rc->buckets[k] = c;
  rc->ncalls++;
  return true;
}

static rcall *table_find(const df_remote *rc, uint64_t seq) {
  for (rcall *c = rc->buckets[bucket_of(rc, seq)]; c != NULL; c = c->next) {
    if (c->seq == seq) {
      return c;
    }
  }
  return NULL;
}

static void table_remove(df_remote *rc, rcall *c) {
  for (rcall **p = &rc->buckets[bucket_of(rc, c->seq)]; *p != NULL;
       p = &(*p)->next) {
    if (*p == c) {
      *p = c->next;
      rc->ncalls--;
      return;
    }
  }
}

static void call_free(rcall *c) {
  df_free(c->name);
  df_bytes_free(c->payload);
  df_free(c);
}

static void waiting_remove(df_remote *rc, rcall *c) {
  rcall *prev = NULL;
  for (rcall *w = rc->waiting_head; w != NULL; prev = w, w = w->wnext) {
    if (w == c) {
      if (prev != NULL) {
        prev->wnext = c->wnext;
      } else {
        rc->waiting_head = c->wnext;
      }
      if (rc->waiting_tail == c) {
        rc->waiting_tail = prev;
      }
      return;
    }
  }
}

/* Removes \p c and fires its Deferred (if it still has one) with \p r. */
static void call_finish(df_remote *rc, rcall *c, df_result r) {
  table_remove(rc, c);
  if (c->state == CALL_WAITING) {
    waiting_remove(rc, c);
  }
  df_deferred *d = c->d;
  c->d = NULL;
  call_free(c);
  if (d == NULL) { /* cancelled while publishing: nobody waits */
    df_result_free(r);
    return;
  }
  rc->stats.pending--;
  rc->firing++;
  df_fire(d, r);
  rc->firing--;
  df_unref(d);
}

/* ------------------------------------------------------------ net items */

typedef struct connect_item {
  df__ritem base;
} connect_item;

typedef struct ready_item {
  df__ritem base; /* run: ready_run, drop: drop_plain */
  natsStatus status;
  int64_t max_payload;
  char why[256];
} ready_item;

typedef struct publish_item {
  df__ritem base;
  uint64_t seq;
  char *id;
  char *subject;
  char *name;
  int64_t deadline_ms;
  df_bytes *payload;
} publish_item;

typedef struct published_item {
  df__ritem base;
  uint64_t seq;
  uint64_t stream_seq;
  natsStatus status;
  char why[256];
} published_item;

typedef struct cancel_item {
  df__ritem base;
  char *id;            /* NULL: delete only, no notice */
  uint64_t stream_seq; /* 0: notice only */
} cancel_item;

typedef struct removed_item {
  df__ritem base;
} removed_item;

typedef struct result_item {
  df__ritem base;
  uint64_t seq;
  df__result_env env;
} result_item;

typedef struct gave_up_item {
  df__ritem base;
  uint64_t stream_seq;
  int deliveries;
} gave_up_item;

typedef struct closed_item {
  df__ritem base;
  char why[256];
} closed_item;

static void drop_plain(void *owner, df__ritem *it) {
  (void)owner;
  df_free(it);
}

/* Hands \p it to the reactor; dropped when the caller is being freed. */
static void to_reactor(df_remote *rc, df__ritem *it) {
  if (!df__rq_push(&rc->inbox, it)) {
    it->drop(rc, it);
  }
}

/* ------------------------------------------------------------ NATS threads */

/* "CALLER-SEQ" of this caller: SEQ, or 0 for anyone else's id. */
static uint64_t seq_of_id(const df_remote *rc, const char *id) {
  size_t n = strlen(rc->caller);
  if (strncmp(id, rc->caller, n) != 0 || id[n] != '-') {
    return 0;
  }
  char *end = NULL;
  unsigned long long v = strtoull(id + n + 1, &end, 10);
  return end != NULL && *end == '\0' ? (uint64_t)v : 0;
}

static void result_drop(void *owner, df__ritem *it) {
  (void)owner;
  result_item *r = (result_item *)it;
  df__result_env_clear(&r->env);
  df_free(r);
}

static void result_run(void *owner, df__ritem *it);

/* A result from a worker: parsed here, confirmed to the worker once it is in
 * the reactor's queue (so the worker may acknowledge the job). */
static void on_result(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                      void *closure) {
  (void)sub;
  df_remote *rc = closure;
  result_item *r = df_calloc(1, sizeof *r);
  bool queued = false;
  bool malformed = false;
  int read = r != NULL ? df__env_read_result(msg, &r->env) : DF_ENOMEM;
  if (read == 0) {
    r->base.run = result_run;
    r->base.drop = result_drop;
    r->seq = seq_of_id(rc, r->env.id);
    queued = df__rq_push(&rc->inbox, &r->base);
    if (!queued)
      result_drop(rc, &r->base);
  } else {
    df_free(r);
    malformed = read == DF_EINVAL;
  }
  const char *receipt = natsMsg_GetReply(msg);
  /* A malformed result is confirmed too: re-sending it would not help. One
   * that could not be queued (no memory) is not: the worker sends it
   * again. */
  if (receipt != NULL && receipt[0] != '\0' && (queued || malformed)) {
    natsConnection_Publish(nc, receipt, NULL, 0);
  }
  natsMsg_Destroy(msg);
}

static void gave_up_run(void *owner, df__ritem *it);

/* Reads "key":NUMBER from the advisory's JSON; 0 when absent. */
static uint64_t json_number(const char *json, int len, const char *key) {
  char needle[64];
  snprintf(needle, sizeof needle, "\"%s\":", key);
  char buf[2048];
  int n = len < (int)sizeof buf - 1 ? len : (int)sizeof buf - 1;
  memcpy(buf, json, (size_t)n);
  buf[n] = '\0';
  const char *p = strstr(buf, needle);
  return p != NULL ? strtoull(p + strlen(needle), NULL, 10) : 0;
}

static void on_advisory(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                        void *closure) {
  (void)nc;
  (void)sub;
  df_remote *rc = closure;
  gave_up_item *g = df_calloc(1, sizeof *g);
  if (g != NULL) {
    g->base.run = gave_up_run;
    g->base.drop = drop_plain;
    g->stream_seq = json_number(natsMsg_GetData(msg),
                                natsMsg_GetDataLength(msg), "stream_seq");
    g->deliveries = (int)json_number(natsMsg_GetData(msg),
                                     natsMsg_GetDataLength(msg), "deliveries");
    to_reactor(rc, &g->base);
  }
  natsMsg_Destroy(msg);
}

static void closed_run(void *owner, df__ritem *it);

/* The connection is closed for good: reconnects ran out, or df_remote_free(). */
static void on_closed(natsConnection *nc, void *closure) {
  df_remote *rc = closure;
  closed_item *c = df_calloc(1, sizeof *c);
  if (c != NULL) {
    c->base.run = closed_run;
    c->base.drop = drop_plain;
    df__rconn_last_error(nc, c->why, sizeof c->why);
    to_reactor(rc, &c->base);
  }
  df__rdone_one(&rc->nats_done);
}

/* ------------------------------------------------------------ library thread */

static void ready_run(void *owner, df__ritem *it);

static natsStatus subscribe(df_remote *rc, natsSubscription **sub,
                            const char *subject, natsMsgHandler fn) {
  return df__rconn_subscribe(rc->nc, sub, subject, fn, rc, &rc->nats_done);
}

static void connect_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  df_free(it);
  ready_item *r = rc->ready_note;
  rc->ready_note = NULL;
  df__rconn_hooks hooks = {.closed = on_closed, .arg = rc};
  natsStatus s = df__rconn_setup(&rc->nc, &rc->js, &rc->o, &hooks,
                                 &rc->nats_done, r->why, sizeof r->why);
  if (s == NATS_OK) {
    s = subscribe(rc, &rc->reply_sub, rc->reply_subject, on_result);
    if (s == NATS_OK)
      s = subscribe(rc, &rc->advisory_sub, rc->advisory, on_advisory);
    /* The subscriptions are in place before any job can answer. */
    if (s == NATS_OK)
      s = natsConnection_FlushTimeout(rc->nc, rc->o.connect_timeout_ms);
    if (s != NATS_OK)
      df__rconn_reason(s, 0, r->why, sizeof r->why);
  }
  r->status = s;
  r->max_payload = s == NATS_OK ? natsConnection_GetMaxPayload(rc->nc) : 0;
  to_reactor(rc, &r->base);
}

static void published_run(void *owner, df__ritem *it);

static bool retryable(natsStatus s, jsErrCode jerr) {
  return jerr == 0 && (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
                       s == NATS_CONNECTION_DISCONNECTED ||
                       s == NATS_IO_ERROR || s == NATS_NOT_YET_CONNECTED);
}

static void publish_drop(void *owner, df__ritem *it) {
  (void)owner;
  publish_item *p = (publish_item *)it;
  df_free(p->id);
  df_free(p->subject);
  df_free(p->name);
  df_bytes_free(p->payload);
  df_free(p);
}

/* Publishes one job, retrying with the same message id (the stream keeps one
 * copy) until it is stored, its deadline passes, or the caller stops. */
static void publish_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  publish_item *p = (publish_item *)it;
  published_item *out = df_calloc(1, sizeof *out);
  natsStatus s = NATS_NO_MEMORY;
  jsErrCode jerr = 0;
  jsPubAck *ack = NULL;
  for (;;) {
    natsMsg *m = NULL;
    s = df__env_job(&m, p->subject, p->id, p->name, rc->reply_subject,
                    p->deadline_ms, p->payload->data, p->payload->len);
    int64_t left = p->deadline_ms - df__wall_ms();
    if (s == NATS_OK) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MsgId = p->id;
      po.MaxWait = left < 100 ? 100 : left > 2000 ? 2000 : left;
      jerr = 0;
      s = js_PublishMsg(&ack, rc->js, m, &po, &jerr);
    }
    natsMsg_Destroy(m);
    if (s == NATS_OK || !retryable(s, jerr) || left <= 0 ||
        !df__rthread_nap(&rc->net, 100)) {
      break;
    }
  }
  if (out != NULL) {
    out->base.run = published_run;
    out->base.drop = drop_plain;
    out->seq = p->seq;
    out->status = s;
    out->stream_seq = ack != NULL ? ack->Sequence : 0;
    if (s != NATS_OK)
      df__rconn_reason(s, jerr, out->why, sizeof out->why);
    to_reactor(rc, &out->base);
  }
  jsPubAck_Destroy(ack);
  publish_drop(rc, it);
}

static void removed_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  rc->stats.removed++;
  df_free(it);
}

static void cancel_drop(void *owner, df__ritem *it) {
  (void)owner;
  cancel_item *c = (cancel_item *)it;
  df_free(c->id);
  df_free(c);
}

/* Tells the workers to stop the job, and removes it from the stream: a
 * message no worker took is then never delivered. */
static void cancel_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  cancel_item *c = (cancel_item *)it;
  if (c->id != NULL) {
    natsConnection_PublishString(rc->nc, rc->cancel_subject, c->id);
  }
  if (c->stream_seq != 0 && js_DeleteMsg(rc->js, rc->o.stream, c->stream_seq,
                                         NULL, NULL) == NATS_OK) {
    removed_item *r = df_calloc(1, sizeof *r);
    if (r != NULL) {
      r->base.run = removed_run;
      r->base.drop = drop_plain;
      to_reactor(rc, &r->base);
    }
  }
  cancel_drop(rc, it);
}

static void post_cancel(df_remote *rc, const char *id, uint64_t stream_seq) {
  cancel_item *c = df_calloc(1, sizeof *c);
  if (c == NULL) {
    return;
  }
  c->base.run = cancel_run;
  c->base.drop = cancel_drop;
  c->id = id != NULL ? df_strdup(id) : NULL;
  c->stream_seq = stream_seq;
  if (!df__rthread_post(&rc->net, &c->base)) {
    cancel_drop(rc, &c->base);
  }
}

/* ------------------------------------------------------------ reactor side */

static void job_id(const df_remote *rc, uint64_t seq, char *buf, size_t len) {
  snprintf(buf, len, "%s-%" PRIu64, rc->caller, seq);
}

static df_failure *connection_failure(const char *why, natsStatus s) {
  return df_failure_new(&DF_REMOTE_CONNECTION, (int)s,
                        "NATS connection failed: %s", why);
}

static df_failure *too_large(const df_remote *rc, size_t len) {
  return df_failure_new(&DF_REMOTE_TOO_LARGE, (int)rc->max_payload,
                        "payload of %zu bytes does not fit in a message of the "
                        "server (max_payload %" PRId64 " bytes)",
                        len, rc->max_payload);
}

static void publish_call(df_remote *rc, rcall *c) {
  if (c->payload->len + ENVELOPE_RESERVE > (size_t)rc->max_payload) {
    call_finish(rc, c, df_fail(too_large(rc, c->payload->len)));
    return;
  }
  publish_item *p = df_calloc(1, sizeof *p);
  char id[96];
  job_id(rc, c->seq, id, sizeof id);
  if (p != NULL) {
    p->base.run = publish_run;
    p->base.drop = publish_drop;
    p->seq = c->seq;
    p->deadline_ms = c->deadline_ms;
    p->id = df_strdup(id);
    p->subject = df__concat(rc->o.prefix, ".job.", c->name);
    p->name = df_strdup(c->name);
    p->payload = c->payload;
    c->payload = NULL;
  }
  if (p == NULL || p->id == NULL || p->subject == NULL || p->name == NULL) {
    if (p != NULL)
      publish_drop(rc, &p->base);
    call_finish(
        rc, c,
        df_fail(df_failure_new(&DF_NO_MEMORY, 0, "publishing job %s", id)));
    return;
  }
  c->state = CALL_PUBLISHING;
  if (!df__rthread_post(&rc->net, &p->base)) {
    publish_drop(rc, &p->base);
    call_finish(rc, c,
                df_fail(df_failure_new(&DF_REMOTE_CLOSED, 0, "remote closed")));
  }
}

static void fail_everything(df_remote *rc, df_failure *f) {
  for (size_t i = 0; i < rc->nbuckets; i++) {
    while (rc->buckets[i] != NULL) {
      call_finish(rc, rc->buckets[i], df_fail(df_failure_ref(f)));
    }
  }
}

static void fire_ready_waiters(df_remote *rc) {
  df_deferred **w = rc->ready_waiters;
  size_t n = rc->nready;
  rc->ready_waiters = NULL;
  rc->nready = rc->ready_cap = 0;
  rc->firing++;
  for (size_t i = 0; i < n; i++) {
    if (rc->state == RC_READY) {
      df_callback(w[i], NULL, NULL);
    } else {
      df_errback(w[i], df_failure_ref(rc->conn_failure));
    }
    df_unref(w[i]);
  }
  rc->firing--;
  df_free(w);
}

static void ready_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  ready_item *r = (ready_item *)it;
  if (rc->state != RC_CONNECTING) {
    df_free(r); /* the connection was lost meanwhile: that failure stands */
    return;
  }
  if (r->status == NATS_OK) {
    rc->state = RC_READY;
    rc->max_payload = r->max_payload;
    while (rc->waiting_head != NULL) {
      rcall *c = rc->waiting_head;
      rc->waiting_head = c->wnext;
      if (rc->waiting_head == NULL)
        rc->waiting_tail = NULL;
      publish_call(rc, c);
    }
  } else {
    rc->state = RC_FAILED;
    rc->conn_failure = connection_failure(r->why, r->status);
    fail_everything(rc, rc->conn_failure);
  }
  df_free(r);
  fire_ready_waiters(rc);
}

static void published_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  published_item *p = (published_item *)it;
  rcall *c = table_find(rc, p->seq);
  if (c != NULL && p->status == NATS_OK) {
    rc->stats.published++;
    c->stream_seq = p->stream_seq;
    c->state = CALL_STORED;
    if (c->d == NULL) { /* cancelled while publishing */
      post_cancel(rc, NULL, c->stream_seq);
      table_remove(rc, c);
      call_free(c);
    }
  } else if (c != NULL) {
    call_finish(rc, c, df_fail(connection_failure(p->why, p->status)));
  }
  df_free(p);
}

/* A worker's failure as the caller sees it: the caller's own type of that
 * name when it listed one, else DF_REMOTE_JOB_FAILED. */
static df_failure *worker_failure(const df_remote *rc,
                                  const df__result_env *e) {
  static const df_error_type *const builtin[] = {&DF_REMOTE_UNKNOWN_JOB,
                                                 &DF_REMOTE_GAVE_UP,
                                                 &DF_REMOTE_CLOSED,
                                                 &DF_INVALID_ARGUMENT,
                                                 &DF_CANCELLED,
                                                 &DF_TIMEOUT,
                                                 NULL};
  const df_error_type *const *lists[] = {builtin, rc->error_types};
  for (size_t l = 0; l < 2; l++) {
    for (const df_error_type *const *t = lists[l]; t != NULL && *t != NULL;
         t++) {
      if (strcmp((*t)->name, e->err_type) == 0) {
        return df_failure_new(*t, e->err_code, "%s", e->err_message);
      }
    }
  }
  return df_failure_new(&DF_REMOTE_JOB_FAILED, e->err_code, "%s: %s",
                        e->err_type, e->err_message);
}

static void result_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  result_item *r = (result_item *)it;
  rcall *c = r->seq != 0 ? table_find(rc, r->seq) : NULL;
  if (c == NULL || c->d == NULL) {
    rc->stats.discarded++; /* a second run's, or a cancelled call's */
  } else {
    rc->stats.completed++;
    df_result res;
    if (r->env.ok) {
      res = df_ok(r->env.value, df_bytes_free);
      r->env.value = NULL;
    } else {
      rc->stats.failed++;
      res = df_fail(worker_failure(rc, &r->env));
    }
    call_finish(rc, c, res);
  }
  result_drop(rc, it);
}

static void gave_up_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  gave_up_item *g = (gave_up_item *)it;
  for (size_t i = 0; g->stream_seq != 0 && i < rc->nbuckets; i++) {
    for (rcall *c = rc->buckets[i]; c != NULL; c = c->next) {
      if (c->state == CALL_STORED && c->stream_seq == g->stream_seq) {
        char id[96];
        job_id(rc, c->seq, id, sizeof id);
        /* It would never be delivered again: take it out of the stream. */
        post_cancel(rc, NULL, c->stream_seq);
        call_finish(
            rc, c,
            df_fail(df_failure_new(&DF_REMOTE_GAVE_UP, g->deliveries,
                                   "job %s given up after %d deliveries "
                                   "without a result",
                                   id, g->deliveries)));
        i = rc->nbuckets;
        break;
      }
    }
  }
  df_free(g);
}

static void closed_run(void *owner, df__ritem *it) {
  df_remote *rc = owner;
  closed_item *c = (closed_item *)it;
  if (rc->state != RC_FAILED) {
    rc->state = RC_FAILED;
    df_failure_unref(rc->conn_failure);
    rc->conn_failure =
        df_failure_new(&DF_REMOTE_CONNECTION, (int)NATS_CONNECTION_CLOSED,
                       "NATS connection lost for good: %s", c->why);
    fail_everything(rc, rc->conn_failure);
    fire_ready_waiters(rc);
  }
  df_free(c);
}

static void inbox_ready(void *arg) {
  df_remote *rc = arg;
  rc->firing++;
  df__ritems_run(df__rq_take(&rc->inbox), rc);
  rc->firing--;
}

/* ------------------------------------------------------------ public */

static void call_cancel(df_deferred *d, void *arg) {
  rcall *c = arg;
  df_remote *rc = c->rc;
  (void)d;
  c->d = NULL;
  rc->stats.cancelled++;
  rc->stats.pending--;
  char id[96];
  job_id(rc, c->seq, id, sizeof id);
  switch (c->state) {
  case CALL_WAITING: /* never sent */
    waiting_remove(rc, c);
    table_remove(rc, c);
    call_free(c);
    break;
  case CALL_PUBLISHING: /* deleted once its sequence is known */
    post_cancel(rc, id, 0);
    break;
  case CALL_STORED:
    post_cancel(rc, id, c->stream_seq);
    table_remove(rc, c);
    call_free(c);
    break;
  }
  df_unref(d); /* ours; the one cancelling holds another */
}

static df_deferred *invalid(const char *what) {
  return df_fail_now(df_failure_new(&DF_INVALID_ARGUMENT, 0, "%s", what));
}

df_deferred *df_remote_call(df_remote *rc, const char *name, const void *data,
                            size_t len) {
  return df_remote_call_timeout(rc, name, data, len,
                                rc != NULL ? (double)rc->o.timeout_ms / 1000.0
                                           : 1.0);
}

df_deferred *df_remote_call_timeout(df_remote *rc, const char *name,
                                    const void *data, size_t len,
                                    double seconds) {
  if (rc == NULL || !df_reactor_in_thread(rc->reactor)) {
    return invalid("rc: NULL, or called off the reactor thread");
  }
  if (!df__token_ok(name)) {
    return invalid("name: a job name is letters, digits, '-' and '_'");
  }
  if (!(seconds > 0) || seconds > 1e7 || (data == NULL && len > 0)) {
    return invalid(data == NULL && len > 0 ? "data: NULL with a length"
                                           : "seconds: a deadline is > 0");
  }
  if (rc->state == RC_FAILED) {
    return df_fail_now(df_failure_ref(rc->conn_failure));
  }
  if (rc->state == RC_READY &&
      len + ENVELOPE_RESERVE > (size_t)rc->max_payload) {
    return df_fail_now(too_large(rc, len));
  }
  rcall *c = df_calloc(1, sizeof *c);
  df_deferred *d = c != NULL ? df_deferred_new(call_cancel, c) : NULL;
  if (c != NULL) {
    c->name = df_strdup(name);
    c->payload = df_bytes_new(data, len);
    c->seq = ++rc->next_seq;
  }
  if (d == NULL || c->name == NULL || c->payload == NULL || !table_add(rc, c)) {
    if (c != NULL)
      call_free(c);
    df_unref(d);
    return df_fail_now(
        df_failure_new(&DF_NO_MEMORY, 0, "remote call %s", name));
  }
  /* Before anything can reach the call: a call without its deadline could
   * stay pending for ever. */
  if (df_add_timeout(d, rc->reactor, seconds) == NULL) {
    table_remove(rc, c);
    call_free(c);
    df_unref(d);
    return df_fail_now(
        df_failure_new(&DF_NO_MEMORY, 0, "remote call %s: no timer", name));
  }
  c->rc = rc;
  c->d = df_ref(d);
  c->deadline_ms = df__wall_ms() + (int64_t)(seconds * 1000.0);
  rc->stats.submitted++;
  rc->stats.pending++;
  if (rc->state == RC_READY) {
    publish_call(rc, c);
  } else {
    c->state = CALL_WAITING;
    if (rc->waiting_tail != NULL) {
      rc->waiting_tail->wnext = c;
    } else {
      rc->waiting_head = c;
    }
    rc->waiting_tail = c;
  }
  return d;
}

df_deferred *df_remote_ready(df_remote *rc) {
  if (rc == NULL || !df_reactor_in_thread(rc->reactor)) {
    return invalid("rc: NULL, or called off the reactor thread");
  }
  if (rc->state == RC_READY) {
    return df_succeed(NULL, NULL);
  }
  if (rc->state == RC_FAILED) {
    return df_fail_now(df_failure_ref(rc->conn_failure));
  }
  if (rc->nready == rc->ready_cap) {
    size_t cap = rc->ready_cap == 0 ? 4 : rc->ready_cap * 2;
    df_deferred **w = df_realloc(rc->ready_waiters, cap * sizeof *w);
    if (w == NULL) {
      return df_fail_now(df_failure_new(&DF_NO_MEMORY, 0, "df_remote_ready"));
    }
    rc->ready_waiters = w;
    rc->ready_cap = cap;
  }
  df_deferred *d = df_deferred_new(NULL, NULL);
  if (d == NULL) {
    return NULL;
  }
  rc->ready_waiters[rc->nready++] = df_ref(d);
  return d;
}

int df_remote_stats(const df_remote *rc, struct df_remote_stats *out) {
  if (rc == NULL || out == NULL) {
    return DF_EINVAL;
  }
  *out = rc->stats;
  return 0;
}

static int make_names(df_remote *rc) {
  natsInbox *inbox = NULL;
  if (natsInbox_Create(&inbox) != NATS_OK) {
    return DF_ENOMEM;
  }
  const char *nuid = strrchr(inbox, '.');
  snprintf(rc->caller, sizeof rc->caller, "%s",
           nuid != NULL ? nuid + 1 : inbox);
  natsInbox_Destroy(inbox);
  rc->reply_subject = df__concat(rc->o.prefix, ".reply.", rc->caller);
  rc->cancel_subject = df__concat(rc->o.prefix, ".cancel", NULL);
  rc->advisory = df__concat("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.",
                            rc->o.stream, ".workers");
  return rc->reply_subject != NULL && rc->cancel_subject != NULL &&
                 rc->advisory != NULL
             ? 0
             : DF_ENOMEM;
}

static void release(df_remote *rc) {
  df__ropts_free(&rc->o);
  df_free(rc->reply_subject);
  df_free(rc->cancel_subject);
  df_free(rc->advisory);
  df_free(rc->buckets);
  df_free(rc->ready_waiters);
  df_failure_unref(rc->conn_failure);
  df_free(rc->ready_note); /* the connect never ran */
  df__rdone_destroy(&rc->nats_done);
  df_free(rc);
}

int df_remote_new(df_remote **out, df_reactor *reactor,
                  const df_remote_options *opts) {
  if (out == NULL) {
    return DF_EINVAL;
  }
  *out = NULL;
  if (reactor == NULL || !df_reactor_in_thread(reactor)) {
    return DF_EINVAL;
  }
  df_remote *rc = df_calloc(1, sizeof *rc);
  if (rc == NULL) {
    return DF_ENOMEM;
  }
  df__rdone_init(&rc->nats_done);
  int err = df__ropts_init(&rc->o, opts);
  if (err != 0) {
    release(rc);
    return err;
  }
  rc->reactor = reactor;
  rc->error_types = opts != NULL ? opts->error_types : NULL;
  rc->nbuckets = 64;
  rc->buckets = df_calloc(rc->nbuckets, sizeof *rc->buckets);
  err = rc->buckets == NULL ? DF_ENOMEM : make_names(rc);
  if (err == 0)
    err = df__rq_init_reactor(&rc->inbox, &rc->async, reactor, inbox_ready, rc);
  if (err != 0) {
    release(rc);
    return err;
  }
  connect_item *c = df_calloc(1, sizeof *c);
  rc->ready_note = df_calloc(1, sizeof *rc->ready_note);
  err = c == NULL || rc->ready_note == NULL ? DF_ENOMEM
                                            : df__rthread_start(&rc->net, rc);
  if (err == 0) {
    rc->ready_note->base.run = ready_run;
    rc->ready_note->base.drop = drop_plain;
    c->base.run = connect_run;
    c->base.drop = drop_plain;
    df__rthread_post(&rc->net, &c->base);
  } else {
    df_free(c);
    df__rq_destroy(&rc->inbox, rc);
    df_async_free(rc->async);
    release(rc);
    return err;
  }
  *out = rc;
  return 0;
}

/* Stops every thread that could still reach \p rc: the library thread, the
 * subscriptions' delivery threads and the connection's callback thread. */
static void stop_threads(df_remote *rc) {
  df__rthread_stop(&rc->net);
  if (rc->nc != NULL) {
    /* A result being read as the caller is freed still gets its receipt
     * to the worker, or the worker would send it again until the job's
     * deadline: drain the results' subscription (its callback returns),
     * then flush what it published. Bounded, and skipped when the
     * connection is down. */
    if (natsConnection_Status(rc->nc) == NATS_CONN_STATUS_CONNECTED) {
      if (natsSubscription_Drain(rc->reply_sub) == NATS_OK)
        (void)natsSubscription_WaitForDrainCompletion(rc->reply_sub, 2000);
      (void)natsConnection_FlushTimeout(rc->nc, 1000);
    }
    natsConnection_Close(rc->nc);
    /* Bounded: a callback that never returns is a bug of ours. */
    df__rdone_wait(&rc->nats_done, 5000);
    natsSubscription_Destroy(rc->reply_sub);
    natsSubscription_Destroy(rc->advisory_sub);
    jsCtx_Destroy(rc->js);
    natsConnection_Destroy(rc->nc);
    rc->nc = NULL;
  }
}

int df_remote_free(df_remote *rc) {
  if (rc == NULL) {
    return 0;
  }
  if (!df_reactor_in_thread(rc->reactor)) {
    return DF_EINVAL;
  }
  if (rc->firing > 0) {
    return DF_EBUSY;
  }
  /* Later calls from the callbacks fired below fail at once. */
  rc->state = RC_FAILED;
  df_failure_unref(rc->conn_failure);
  rc->conn_failure =
      df_failure_new(&DF_REMOTE_CLOSED, 0, "remote caller freed");
  rc->firing++;
  fail_everything(rc, rc->conn_failure);
  fire_ready_waiters(rc);
  rc->firing--;
  stop_threads(rc);
  df__rq_close(&rc->inbox); /* no send in flight once this returns */
  df_async_free(rc->async);
  df__rq_destroy(&rc->inbox, rc);
  /* Calls cancelled while publishing, left without Deferred. */
  for (size_t i = 0; i < rc->nbuckets; i++) {
    while (rc->buckets[i] != NULL) {
      rcall *c = rc->buckets[i];
      table_remove(rc, c);
      call_free(c);
    }
  }
  release(rc);
  return 0;
}
