/* The resolver: one c-ares channel driven by a reactor.
 *
 * c-ares tells us which sockets to watch through its socket-state callback
 * (df_watch_fd per socket), and when it next needs attention through
 * ares_timeout() (one reactor timer, re-armed after every call into c-ares).
 * Both of the resolver's timers (that one, and the one that delivers
 * answers) live as long as the resolver: they are re-armed, parked at the
 * far end of time when idle, and never made again, so no allocation can
 * fail between a query and its answer and leave a lookup without a way
 * back to the reactor.
 *
 * A lookup is a request that moves through
 *   queued -> in flight (owned by c-ares) -> ready -> delivered (freed),
 * and every request sits on the resolver's list of all requests, in the
 * order they were made, until it is freed. The c-ares callback never runs
 * user code: it only copies the answer into the request and moves it to the
 * ready list; a zero-delay reactor timer then fires the Deferreds from the
 * top of the reactor loop, where a callback may start lookups, cancel them or
 * free the resolver. c-ares teardown (ares_destroy) happens only in
 * df_resolver_free(), which user code calls, so never inside a c-ares
 * callback.
 *
 * A socket c-ares opens but the reactor cannot watch (no memory for the
 * socket table or the watch) would leave its queries waiting for c-ares'
 * whole timeout: the channel is dropped instead, once the c-ares call that
 * opened the socket has returned, which fails its lookups at once with
 * DF_NO_MEMORY, and a new channel is opened for the next lookup.
 *
 * df_resolve()'s Deferred has no canceller (S20): cancelling fires it with
 * DF_CANCELLED, and the request notices later, by df_called(), that nobody
 * waits: an answer is then freed unseen, a queued lookup is never sent. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "dns_internal.h"
#include "trace.h" /* lib/: the lookups of a traced reactor */

#define DEFAULT_MAX_IN_FLIGHT 64
/* A delay that never comes: the reactor clamps it to its largest deadline. */
#define PARKED INFINITY

typedef struct request request;
struct request {
  request *next;     /* queue or ready list */
  request *all_prev; /* the list of all requests, in creation order */
  request *all_next;
  df_resolver *res;
  df_deferred *d;       /* the resolver's own reference */
  df_addresses *result; /* the answer, until delivered */
  int status;           /* c-ares status of the answer */
  int family;
  bool delivering; /* being fired by deliver_ready(): not freed elsewhere */
  char host[];
};

typedef struct sock_watch {
  int fd;
  df_watch *watch;
} sock_watch;

typedef struct fifo {
  request *head;
  request *tail;
  size_t count;
} fifo;

struct df_resolver {
  df_reactor *reactor;
  ares_channel channel;     /* NULL after a drop, until the next lookup */
  df_resolver_options opts; /* copied; servers unused */
  struct ares_addr_port_node *servers; /* parsed opts->servers, or NULL */
  df_timer *ares_timer;  /* c-ares's next timeout; lives with the resolver */
  df_timer *ready_timer; /* delivers the ready list; lives with the resolver */
  sock_watch *socks;
  size_t nsocks;
  size_t capsocks;
  fifo queue;
  fifo ready;
  request *all_head;
  request *all_tail;
  size_t pending;
  size_t in_flight;
  size_t max_in_flight;
  bool keep_order;
  bool closing;
  bool batching; /* inside deliver_ready(): re-arm the c-ares timer once */
  bool rearm_due;
  bool ready_armed; /* ready_timer is due, not parked */
  bool lost_socket; /* a c-ares socket could not be watched */
  bool dropping;    /* inside drop_channel(): answers are DF_NO_MEMORY */
  unsigned refs;    /* the owner's, plus one while delivering */
  unsigned long long started;
  unsigned long long answered;
  unsigned long long discarded;
};

/* ------------------------------------------------------------ lists */

static void fifo_push(fifo *f, request *q) {
  q->next = NULL;
  if (f->tail != NULL) {
    f->tail->next = q;
  } else {
    f->head = q;
  }
  f->tail = q;
  f->count++;
}

static request *fifo_pop(fifo *f) {
  request *q = f->head;
  if (q != NULL) {
    f->head = q->next;
    if (f->head == NULL) {
      f->tail = NULL;
    }
    f->count--;
    q->next = NULL;
  }
  return q;
}

static request *request_new(df_resolver *res, const char *host, int family) {
  size_t len = strlen(host) + 1;
  request *q = df_calloc(1, sizeof *q + len);
  if (q == NULL) {
    return NULL;
  }
  q->d = df_deferred_new(NULL, NULL);
  if (q->d == NULL) {
    df_free(q);
    return NULL;
  }
  memcpy(q->host, host, len);
  q->res = res;
  q->family = family;
  q->all_prev = res->all_tail;
  if (res->all_tail != NULL) {
    res->all_tail->all_next = q;
  } else {
    res->all_head = q;
  }
  res->all_tail = q;
  res->pending++;
  return q;
}

static void request_free(request *q) {
  df_resolver *res = q->res;
  if (q->all_prev != NULL) {
    q->all_prev->all_next = q->all_next;
  } else {
    res->all_head = q->all_next;
  }
  if (q->all_next != NULL) {
    q->all_next->all_prev = q->all_prev;
  } else {
    res->all_tail = q->all_prev;
  }
  res->pending--;
  df_addresses_free(q->result);
  df_unref(q->d);
  df_free(q);
}

/* ------------------------------------------------------------ c-ares I/O */

static void on_ares_timer(void *arg);

/* Re-arms the one c-ares timer from ares_timeout(); called after every call
 * into c-ares that can change its deadlines. Rounded up to the millisecond:
 * rounding down would wake the reactor before c-ares has anything to do. */
static void rearm_ares_timer(df_resolver *res) {
  if (res->closing) {
    return;
  }
  if (res->channel == NULL) {
    (void)df_timer_reset(res->ares_timer, PARKED); /* nothing in flight */
    return;
  }
  if (res->batching) {
    res->rearm_due = true; /* lookups started by callbacks: once at the end */
    return;
  }
  struct timeval tv;
  struct timeval *next = ares_timeout(res->channel, NULL, &tv);
  double seconds = PARKED;
  if (next != NULL) {
    long long us = (long long)next->tv_sec * 1000000LL + next->tv_usec;
    seconds = (double)((us + 999) / 1000) / 1000.0;
  }
  /* A live timer: the reset cannot fail. */
  (void)df_timer_reset(res->ares_timer, seconds);
}

/* Ends every lookup in flight on the channel (they are answered with
 * DF_NO_MEMORY through on_answer()) and closes its sockets; the next lookup
 * opens a new channel. Never called inside a c-ares call. */
static void drop_channel(df_resolver *res) {
  res->lost_socket = false;
  res->dropping = true;
  ares_destroy(res->channel);
  res->channel = NULL;
  res->dropping = false;
}

/* After every call into c-ares, from the top of a reactor callback or of
 * df_resolve(): drops the channel if one of its sockets went unwatched,
 * then re-arms the timer. */
static void settle(df_resolver *res) {
  if (res->lost_socket && res->channel != NULL) {
    drop_channel(res);
  }
  rearm_ares_timer(res);
}

static void on_ares_timer(void *arg) {
  df_resolver *res = arg;
  /* Re-armed inside its own function, the handle stays valid. */
  (void)df_timer_reset(res->ares_timer, PARKED);
  if (res->channel != NULL) {
    ares_process_fd(res->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
  settle(res);
}

static void on_socket(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w;
  df_resolver *res = arg;
  ares_socket_t rfd = ARES_SOCKET_BAD;
  ares_socket_t wfd = ARES_SOCKET_BAD;
  if (events & (DF_READABLE | DF_HANGUP | DF_IO_ERROR)) {
    rfd = fd;
  }
  if (events & DF_WRITABLE) {
    wfd = fd;
  }
  ares_process_fd(res->channel, rfd, wfd);
  settle(res);
}

static sock_watch *find_sock(df_resolver *res, int fd) {
  for (size_t i = 0; i < res->nsocks; i++) {
    if (res->socks[i].fd == fd) {
      return &res->socks[i];
    }
  }
  return NULL;
}

/* Watches a new c-ares socket. When memory runs out, the socket is left
 * unwatched and marked lost: settle() drops the channel once c-ares
 * returns (it cannot be done from inside c-ares). */
static void add_sock(df_resolver *res, int fd, unsigned events) {
  if (res->nsocks == res->capsocks) {
    size_t cap = res->capsocks != 0 ? res->capsocks * 2 : 4;
    sock_watch *grown = df_realloc(res->socks, cap * sizeof *grown);
    if (grown == NULL) {
      res->lost_socket = true;
      return;
    }
    res->socks = grown;
    res->capsocks = cap;
  }
  df_watch *w;
  df_watch_fd(&w, res->reactor, fd, events, on_socket, res);
  if (w == NULL) {
    res->lost_socket = true;
    return;
  }
  res->socks[res->nsocks].fd = fd;
  res->socks[res->nsocks].watch = w;
  res->nsocks++;
}

/* c-ares's socket-state callback: (0,0) comes before it closes the fd, and
 * the fd number is often reused at once by its next socket, so the table is
 * keyed by fd and updated in place. Called from inside c-ares calls
 * (ares_getaddrinfo, ares_process_fd, ares_destroy); touches only the
 * reactor's watches. */
static void on_sock_state(void *data, ares_socket_t fd, int readable,
                          int writable) {
  df_resolver *res = data;
  unsigned events =
      (readable ? DF_READABLE : 0u) | (writable ? DF_WRITABLE : 0u);
  sock_watch *s = find_sock(res, fd);
  if (events == 0) {
    if (s != NULL) {
      df_watch_stop(s->watch);
      *s = res->socks[--res->nsocks];
    }
  } else if (s != NULL) {
    df_watch_update(s->watch, events);
  } else {
    add_sock(res, fd, events);
  }
}

/* ------------------------------------------------------------ lookups */

static void deliver_ready(void *arg);

static void arm_ready(df_resolver *res) {
  if (!res->ready_armed && res->ready.count > 0 && !res->closing) {
    (void)df_timer_reset(res->ready_timer, 0); /* live: cannot fail */
    res->ready_armed = true;
  }
}

/* The c-ares callback: exactly once per lookup, possibly inside
 * ares_getaddrinfo() itself or inside ares_destroy(). No user code here. */
static void on_answer(void *arg, int status, int timeouts,
                      struct ares_addrinfo *ai) {
  (void)timeouts;
  request *q = arg;
  df_resolver *res = q->res;
  res->in_flight--;
  res->answered++;
  df__trace_dns_answered(res->reactor, q, status);
  if (res->closing) {
    /* c-ares 1.18 may report SUCCESS with half an answer while destroying:
     * the resolver's own flag decides, not the status. */
    q->status = ARES_EDESTRUCTION;
  } else if (res->dropping) {
    q->status = ARES_ENOMEM; /* a socket of its channel went unwatched */
  } else if (df_called(q->d)) {
    q->status = status; /* abandoned: delivered as a discard */
  } else if (status == ARES_SUCCESS) {
    q->result = df__dns_copy(ai, q->family, res->keep_order, &q->status);
  } else {
    q->status = status;
  }
  if (ai != NULL) {
    ares_freeaddrinfo(ai);
  }
  fifo_push(&res->ready, q);
  arm_ready(res);
}

static int open_channel(df_resolver *res);

/* A lookup that ends without a query: delivered from the ready list like
 * an answer, so the Deferred fires from the reactor loop. */
static void end_unsent(df_resolver *res, request *q, int status) {
  q->status = status;
  fifo_push(&res->ready, q);
  arm_ready(res);
}

static void start(df_resolver *res, request *q) {
  if (res->channel == NULL && open_channel(res) != 0) {
    end_unsent(res, q, ARES_ENOMEM);
    return;
  }
  struct ares_addrinfo_hints hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = q->family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = res->keep_order ? 0 : ARES_AI_NOSORT;
  res->in_flight++;
  res->started++;
  df__trace_dns_sent(res->reactor, q, q->host);
  /* q may be answered, and moved to the ready list, before this returns. */
  ares_getaddrinfo(res->channel, q->host, NULL, &hints, on_answer, q);
  settle(res);
}

/* Sends queued lookups while slots are free; a queued lookup whose
 * Deferred was cancelled is dropped without a query. */
static void pump(df_resolver *res) {
  while (res->queue.count > 0 && res->in_flight < res->max_in_flight &&
         !res->closing) {
    request *q = fifo_pop(&res->queue);
    if (df_called(q->d)) {
      request_free(q);
    } else {
      start(res, q);
    }
  }
}

static void fire(df_resolver *res, request *q) {
  if (df_called(q->d)) {
    res->discarded++;
  } else if (q->status == ARES_SUCCESS && q->result != NULL) {
    df_addresses *list = q->result;
    q->result = NULL;
    df_callback(q->d, list, df_addresses_free);
  } else {
    df_errback(q->d, df__dns_failure(q->host, q->status));
  }
}

static void resolver_release(df_resolver *res) {
  if (--res->refs == 0) {
    df__dns_servers_free(res->servers);
    df_free(res->socks);
    df_free(res);
  }
}

/* The zero-delay timer: fires the Deferreds of the lookups that were ready
 * when it started (answers that arrive meanwhile wait for the next round).
 * A callback may free the resolver: the reference held here keeps the
 * memory, and the loop stops once it is closing. */
static void deliver_ready(void *arg) {
  df_resolver *res = arg;
  /* Parked inside its own function, the handle stays valid; a callback
   * that frees the resolver cancels it, and it goes when this returns. */
  (void)df_timer_reset(res->ready_timer, PARKED);
  res->ready_armed = false;
  res->refs++;
  res->batching = true;
  size_t n = res->ready.count;
  pump(res);
  while (n-- > 0 && !res->closing) {
    request *q = fifo_pop(&res->ready);
    if (q == NULL) {
      break;
    }
    q->delivering = true;
    fire(res, q);
    request_free(q);
  }
  pump(res);
  res->batching = false;
  if (res->rearm_due) {
    res->rearm_due = false;
    rearm_ares_timer(res);
  }
  arm_ready(res);
  resolver_release(res);
}

df_deferred *df_resolve(df_resolver *res, const char *host, int family) {
  df_failure *bad = df__dns_check_input(host, family);
  if (bad == NULL && res == NULL) {
    bad = df_failure_new(&DF_INVALID_ARGUMENT, 0, "res is NULL");
  }
  if (bad != NULL) {
    return df_fail_now(bad);
  }
  int status = ARES_SUCCESS;
  bool literal = false;
  df_addresses *list = df__dns_literal(host, family, &status, &literal);
  if (literal) {
    /* df__dns_failure() makes ARES_ENOMEM a DF_NO_MEMORY failure. */
    return list != NULL ? df_succeed(list, df_addresses_free)
                        : df_fail_now(df__dns_failure(host, status));
  }
  if (res->closing) {
    return df_fail_now(df__dns_failure(host, ARES_EDESTRUCTION));
  }
  request *q = request_new(res, host, family);
  if (q == NULL) {
    return df_fail_now(df_failure_new(&DF_NO_MEMORY, 0,
                                      "no memory for a lookup of '%s'", host));
  }
  df_deferred *d = df_ref(q->d);
  if (res->queue.count == 0 && res->in_flight < res->max_in_flight) {
    start(res, q);
  } else {
    fifo_push(&res->queue, q);
  }
  return d;
}

/* ------------------------------------------------------------ life */

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_status = ARES_SUCCESS;

/* ares_library_init is not thread-safe and does nothing to undo on Linux:
 * run it once for the process, and never pair it with a cleanup, so that
 * the reference it takes keeps c-ares initialised (and its allocator ours)
 * whatever the program does with its own references. c-ares gets the
 * df_malloc() family itself, not the functions installed now, so an
 * allocator replaced later is still the one c-ares uses. */
static void library_init(void) {
  library_status =
      ares_library_init_mem(ARES_LIB_INIT_ALL, df_malloc, df_free, df_realloc);
}

static int check_options(const df_resolver_options *o) {
  if (o->timeout_ms < 0 || o->tries < 0 || o->max_in_flight < 0) {
    return DF_EINVAL;
  }
  return 0;
}

/* Opens res->channel from the options kept in \p res: at creation, and
 * again for the first lookup after a drop. 0, DF_ENOMEM or DF_EAGAIN. */
static int open_channel(df_resolver *res) {
  const df_resolver_options *o = &res->opts;
  struct ares_options ao;
  memset(&ao, 0, sizeof ao);
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS | ARES_OPT_DOMAINS |
             ARES_OPT_LOOKUPS;
  ao.sock_state_cb = on_sock_state;
  ao.sock_state_cb_data = res;
  /* NOSEARCH alone is ignored by ares_getaddrinfo in c-ares 1.18: the
   * empty domain list is what stops suffix searching. STAYOPEN keeps the
   * UDP socket between lookups instead of reopening it each time. */
  ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_STAYOPEN;
  ao.domains = NULL;
  ao.ndomains = 0;
  ao.lookups = o->hosts_file ? (char *)"fb" : (char *)"b";
  if (o->timeout_ms > 0) {
    mask |= ARES_OPT_TIMEOUTMS;
    ao.timeout = o->timeout_ms;
  }
  if (o->tries > 0) {
    mask |= ARES_OPT_TRIES;
    ao.tries = o->tries;
  }
  int rc = ares_init_options(&res->channel, &ao, mask);
  if (rc != ARES_SUCCESS) {
    res->channel = NULL;
    return rc == ARES_ENOMEM ? DF_ENOMEM : DF_EAGAIN;
  }
  if (res->servers != NULL) {
    /* Before any query: c-ares 1.18 refuses new servers on a busy channel. */
    rc = ares_set_servers_ports(res->channel, res->servers);
    if (rc != ARES_SUCCESS) {
      ares_destroy(res->channel);
      res->channel = NULL;
      return rc == ARES_ENOMEM ? DF_ENOMEM : DF_EAGAIN;
    }
  }
  return 0;
}

int df_resolver_new(df_resolver **out, df_reactor *reactor,
                    const df_resolver_options *opts) {
  static const df_resolver_options defaults;
  if (out != NULL) {
    *out = NULL;
  }
  const df_resolver_options *o = opts != NULL ? opts : &defaults;
  if (out == NULL || reactor == NULL || check_options(o) != 0) {
    return DF_EINVAL;
  }
  pthread_once(&library_once, library_init);
  if (library_status != ARES_SUCCESS) {
    return DF_EAGAIN;
  }
  struct ares_addr_port_node *servers = NULL;
  if (o->servers != NULL && o->servers[0] != '\0') {
    int rc = df__dns_parse_servers(o->servers, &servers);
    if (rc != 0) {
      return rc;
    }
  }
  df_resolver *res = df_calloc(1, sizeof *res);
  if (res == NULL) {
    df__dns_servers_free(servers);
    return DF_ENOMEM;
  }
  res->reactor = reactor;
  res->opts = *o;
  res->opts.servers = NULL; /* parsed into res->servers */
  res->servers = servers;
  res->refs = 1;
  res->keep_order = o->rfc6724_sort;
  res->max_in_flight =
      o->max_in_flight > 0 ? (size_t)o->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
  int rc = open_channel(res);
  if (rc != 0) {
    resolver_release(res);
    return rc;
  }
  df_call_later(&res->ares_timer, reactor, PARKED, on_ares_timer, res);
  df_call_later(&res->ready_timer, reactor, PARKED, deliver_ready, res);
  if (res->ares_timer == NULL || res->ready_timer == NULL) {
    df_timer_cancel(res->ares_timer);
    df_timer_cancel(res->ready_timer);
    ares_destroy(res->channel);
    resolver_release(res);
    return DF_ENOMEM;
  }
  *out = res;
  return 0;
}

int df_resolver_free(df_resolver *res) {
  if (res == NULL) {
    return 0;
  }
  if (!df_reactor_in_thread(res->reactor)) {
    return DF_EINVAL;
  }
  if (res->closing) {
    return DF_EBUSY;
  }
  res->closing = true;
  /* Every lookup in flight is called back now, and every socket reported
   * closed; on_answer() sees the closing flag. */
  if (res->channel != NULL) {
    ares_destroy(res->channel);
    res->channel = NULL;
  }
  df_timer_cancel(res->ares_timer);
  res->ares_timer = NULL;
  df_timer_cancel(res->ready_timer);
  res->ready_timer = NULL;
  /* Fire in creation order. Callbacks cannot add requests any more
   * (df_resolve() refuses on a closing resolver), so the list only
   * shrinks, and only here. */
  for (request *q = res->all_head; q != NULL; q = q->all_next) {
    if (!q->delivering && !df_called(q->d)) {
      df_errback(q->d, df__dns_failure(q->host, ARES_EDESTRUCTION));
    }
  }
  request *q = res->all_head;
  while (q != NULL) {
    request *next = q->all_next;
    if (!q->delivering) {
      request_free(q);
    }
    q = next;
  }
  resolver_release(res);
  return 0;
}

int df_resolver_stats(const df_resolver *res, struct df_resolver_stats *out) {
  if (res == NULL || out == NULL) {
    return DF_EINVAL;
  }
  out->in_flight = res->in_flight;
  out->queued = res->queue.count;
  out->pending = res->pending;
  out->sockets = res->nsocks;
  out->started = res->started;
  out->answered = res->answered;
  out->discarded = res->discarded;
  return 0;
}
