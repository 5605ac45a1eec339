/* df_connect_tcp(): the connection example. A DNS stage that cannot be
 * interrupted (df_resolve), then a connect stage that can: non-blocking
 * connects to the addresses found, staggered as in RFC 8305, the first to
 * connect winning.
 *
 * The connector is the state of one call. The outer Deferred's canceller
 * and every callback, watch and timer of the connector borrow it; it is
 * freed exactly once, by whoever ends the operation (a win, the last
 * failure, or the canceller), and the Deferred is fired after the connector
 * is gone, so user code never runs while the connector is half torn down. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "dns_internal.h"

#define DEFAULT_ATTEMPT_DELAY 0.25

typedef struct connector connector;

typedef struct attempt {
  connector *c;
  df_watch *watch; /* non-NULL while the attempt is pending */
  int fd;
} attempt;

typedef enum stage { STAGE_DNS, STAGE_CONNECT, STAGE_DONE } stage;

struct connector {
  df_reactor *reactor;
  df_deferred *d;      /* the outer Deferred: our reference */
  df_deferred *lookup; /* borrowed, valid during STAGE_DNS only */
  stage stage;
  df_addresses *addrs; /* in the order of the attempts, ports set */
  attempt *attempts;   /* one per address */
  size_t next;         /* the next address to try */
  size_t pending;      /* attempts with a watch */
  df_timer *stagger;
  double delay;
  unsigned port;
  int connect_errno; /* of the last connect() that failed, 0 if none */
  size_t connect_index;
  int socket_errno; /* of the last socket() that failed */
  char host[];
};

/* ------------------------------------------------------------ teardown */

static void close_attempt(connector *c, attempt *a) {
  if (a->watch != NULL) {
    df_watch_stop(a->watch);
    a->watch = NULL;
    c->pending--;
  }
  if (a->fd >= 0) {
    close(a->fd);
    a->fd = -1;
  }
}

/* Closes every socket and timer, frees the connector, and hands back the
 * outer Deferred's reference for the caller to fire and drop. */
static df_deferred *connector_free(connector *c) {
  df_deferred *d = c->d;
  c->stage = STAGE_DONE;
  if (c->attempts != NULL) {
    for (size_t i = 0; i < c->addrs->count; i++) {
      close_attempt(c, &c->attempts[i]);
    }
  }
  df_timer_cancel(c->stagger);
  df_free(c->attempts);
  df_addresses_free(c->addrs);
  df_free(c);
  return d;
}

/* Ends the operation with \p r: frees the connector first, then fires. */
static void finish(connector *c, df_result r) {
  df_deferred *d = connector_free(c);
  df_fire(d, r);
  df_unref(d);
}

static void fail_all(connector *c) {
  char where[64];
  df_failure *f;
  size_t tried = c->next;
  if (c->connect_errno != 0) {
    df_address_format(&c->addrs->items[c->connect_index], where, sizeof where);
    f = df_failure_new(&DF_CONNECT, c->connect_errno,
                       "connect to '%s' port %u failed: %s: %s "
                       "(%zu address%s tried)",
                       c->host, c->port, where, strerror(c->connect_errno),
                       tried, tried == 1 ? "" : "es");
  } else {
    f = df_failure_new(&DF_SYSTEM, c->socket_errno,
                       "connect to '%s' port %u failed: no socket: %s", c->host,
                       c->port, strerror(c->socket_errno));
  }
  finish(c, df_fail(f));
}

static void win(connector *c, attempt *a) {
  df_connection *conn = df_malloc(sizeof *conn);
  if (conn == NULL) {
    finish(c, df_fail(df_failure_new(&DF_NO_MEMORY, 0,
                                     "no memory for a connection to '%s'",
                                     c->host)));
    return;
  }
  conn->fd = a->fd;
  conn->peer = c->addrs->items[a - c->attempts];
  a->fd = -1; /* the connection owns it now */
  finish(c, df_ok(conn, df_connection_free));
}

/* ------------------------------------------------------------ attempts */

static void start_next(connector *c);

static void fail_no_memory(connector *c) {
  finish(c, df_fail(df_failure_new(&DF_NO_MEMORY, 0,
                                   "no memory to connect to '%s'", c->host)));
}

static void attempt_failed(connector *c, attempt *a, int err) {
  c->connect_errno = err;
  c->connect_index = (size_t)(a - c->attempts);
  close_attempt(c, a);
  /* RFC 8305: a failure starts the next attempt without waiting. */
  df_timer_cancel(c->stagger);
  c->stagger = NULL;
  start_next(c);
}

/* Writability alone proves nothing (an fd number reused within a round,
 * a spurious wake-up): SO_ERROR says how the connect ended, and
 * getpeername() whether it has ended at all. */
static void on_attempt(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w;
  attempt *a = arg;
  connector *c = a->c;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  if (err == 0) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0) {
      win(c, a);
      return;
    }
    if (errno == ENOTCONN && !(events & (DF_HANGUP | DF_IO_ERROR))) {
      return; /* still connecting */
    }
    err = errno;
  }
  attempt_failed(c, a, err);
}

static void on_stagger(void *arg) {
  connector *c = arg;
  c->stagger = NULL;
  start_next(c);
}

/* Opens the next attempt. Returns 1 when it is pending, 0 when it failed at
 * once (recorded), -1 when the operation ended (it connected at once, or
 * memory for its watch ran out: the connector is gone). */
static int open_attempt(connector *c) {
  size_t i = c->next++;
  attempt *a = &c->attempts[i];
  const df_address *addr = &c->addrs->items[i];
  int fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    c->socket_errno = errno;
    return 0;
  }
  a->fd = fd;
  if (connect(fd, (const struct sockaddr *)&addr->addr, addr->len) == 0) {
    win(c, a);
    return -1;
  }
  if (errno != EINPROGRESS) {
    c->connect_errno = errno;
    c->connect_index = i;
    close_attempt(c, a);
    return 0;
  }
  df_watch_fd(&a->watch, c->reactor, fd, DF_WRITABLE, on_attempt, a);
  if (a->watch == NULL) {
    fail_no_memory(c); /* closes the socket with the others */
    return -1;
  }
  c->pending++;
  return 1;
}

/* Starts attempts until one is pending (then arms the stagger timer for the
 * one after it) or none is left (then fails if nothing is pending). */
static void start_next(connector *c) {
  while (c->next < c->addrs->count) {
    int rc = open_attempt(c);
    if (rc < 0) {
      return;
    }
    if (rc > 0) {
      if (c->next < c->addrs->count) {
        df_call_later(&c->stagger, c->reactor, c->delay, on_stagger, c);
        if (c->stagger == NULL) {
          fail_no_memory(c); /* no later attempt could ever start */
        }
      }
      return;
    }
  }
  if (c->pending == 0) {
    fail_all(c);
  }
}

/* RFC 8305 section 4: alternate families, starting with the family of the
 * first address, keeping the order within each family. */
static df_addresses *interleave(const df_addresses *in, unsigned port) {
  df_addresses *out = df_malloc(sizeof *out + in->count * sizeof in->items[0]);
  if (out == NULL) {
    return NULL;
  }
  out->count = in->count;
  int first = in->items[0].family;
  size_t a = 0; /* next of the first family */
  size_t b = 0; /* next of the other family */
  for (size_t k = 0; k < in->count; k++) {
    bool want_first = k % 2 == 0;
    while (a < in->count && in->items[a].family != first) {
      a++;
    }
    while (b < in->count && in->items[b].family == first) {
      b++;
    }
    size_t pick;
    if ((want_first && a < in->count) || b >= in->count) {
      pick = a++;
    } else {
      pick = b++;
    }
    out->items[k] = in->items[pick];
    if (out->items[k].family == AF_INET) {
      ((struct sockaddr_in *)&out->items[k].addr)->sin_port =
          htons((uint16_t)port);
    } else {
      ((struct sockaddr_in6 *)&out->items[k].addr)->sin6_port =
          htons((uint16_t)port);
    }
  }
  return out;
}

/* ------------------------------------------------------------ DNS stage */

static df_result on_resolved(df_result in, void *arg) {
  connector *c = arg;
  if (c->stage != STAGE_DNS) {
    df_result_free(in);
    return df_ok(NULL, NULL);
  }
  c->stage = STAGE_CONNECT;
  c->lookup = NULL;
  const df_addresses *found = in.ptr;
  c->addrs = interleave(found, c->port);
  c->attempts =
      c->addrs != NULL ? df_calloc(found->count, sizeof *c->attempts) : NULL;
  df_result_free(in);
  if (c->attempts == NULL) {
    fail_no_memory(c);
    return df_ok(NULL, NULL);
  }
  for (size_t i = 0; i < c->addrs->count; i++) {
    c->attempts[i].c = c;
    c->attempts[i].fd = -1;
  }
  start_next(c);
  return df_ok(NULL, NULL);
}

static df_result on_lookup_failed(df_result in, void *arg) {
  connector *c = arg;
  if (c->stage != STAGE_DNS) {
    /* Our own cancel of the lookup (the connector is being cancelled). */
    df_result_free(in);
    return df_ok(NULL, NULL);
  }
  c->lookup = NULL;
  finish(c, in);
  return df_ok(NULL, NULL);
}

/* The outer canceller. During the DNS stage the lookup is cancelled, which
 * fails it at once (its answer is discarded later by the resolver); during
 * the connect stage every socket is closed. The canceller does not fire the
 * outer Deferred: df_cancel() then fails it with DF_CANCELLED (S16). */
static void cancel_connect(df_deferred *d, void *arg) {
  (void)d;
  connector *c = arg;
  df_deferred *lookup = c->stage == STAGE_DNS ? c->lookup : NULL;
  c->stage = STAGE_DONE;
  if (lookup != NULL) {
    df_cancel(lookup);
  }
  df_unref(connector_free(c));
}

/* ------------------------------------------------------------ entry */

static df_failure *check_args(df_reactor *reactor, df_resolver *res,
                              const char *host, unsigned port,
                              const df_connect_options *o) {
  if (reactor == NULL) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0, "reactor is NULL");
  }
  if (res == NULL) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0, "res is NULL");
  }
  if (port == 0 || port > 65535) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0, "port is %u, not 1 to 65535",
                          port);
  }
  if (!isfinite(o->timeout) || o->timeout < 0) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0,
                          "opts->timeout is negative or not finite");
  }
  if (!isfinite(o->attempt_delay) || o->attempt_delay < 0) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0,
                          "opts->attempt_delay is negative or not finite");
  }
  return df__dns_check_input(host, o->family);
}

df_deferred *df_connect_tcp(df_reactor *reactor, df_resolver *res,
                            const char *host, unsigned port,
                            const df_connect_options *opts) {
  static const df_connect_options defaults;
  const df_connect_options *o = opts != NULL ? opts : &defaults;
  df_failure *bad = check_args(reactor, res, host, port, o);
  if (bad != NULL) {
    return df_fail_now(bad);
  }
  size_t len = strlen(host) + 1;
  connector *c = df_calloc(1, sizeof *c + len);
  df_deferred *d = c != NULL ? df_deferred_new(cancel_connect, c) : NULL;
  if (d == NULL ||
      (o->timeout > 0 && !df_add_timeout(d, reactor, o->timeout))) {
    df_unref(d);
    df_free(c);
    return df_fail_now(
        df_failure_new(&DF_NO_MEMORY, 0, "no memory to connect to '%s'", host));
  }
  memcpy(c->host, host, len);
  c->reactor = reactor;
  c->d = d;
  c->port = port;
  c->delay = o->attempt_delay > 0 ? o->attempt_delay : DEFAULT_ATTEMPT_DELAY;
  c->stage = STAGE_DNS;
  df_deferred *result = df_ref(d);

  /* The lookup may fire inside these calls (an IP literal, a bad name), and
   * the connector may then be gone: it is not touched afterwards. */
  df_deferred *lookup = df_resolve(res, host, o->family);
  if (lookup == NULL) {
    finish(c, df_fail(df_failure_new(&DF_NO_MEMORY, 0,
                                     "no memory to resolve '%s'", host)));
    return result;
  }
  c->lookup = lookup;
  if (df_add_callbacks(lookup, on_resolved, c, on_lookup_failed, c) == NULL) {
    c->lookup = NULL;
    df_cancel(lookup);
    finish(c, df_fail(df_failure_new(&DF_NO_MEMORY, 0,
                                     "no memory to resolve '%s'", host)));
  }
  df_unref(lookup);
  return result;
}

void df_connection_free(void *connection) {
  df_connection *conn = connection;
  if (conn == NULL) {
    return;
  }
  if (conn->fd >= 0) {
    close(conn->fd);
  }
  df_free(conn);
}

int df_connection_detach(df_connection *c) {
  if (c == NULL || c->fd < 0) {
    return DF_EINVAL;
  }
  int fd = c->fd;
  c->fd = -1;
  return fd;
}
