/* The article's HTTP client; see http_get.h. The request's canceller is the
 * C counterpart of Twisted's "abort the connection": before the connection
 * exists it cancels df_connect_tcp()'s Deferred, after that it resets the
 * socket. */
#define _POSIX_C_SOURCE 200809L

#include "http_get.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef enum stage { CONNECTING, TALKING, DONE } stage;

typedef struct request {
  df_reactor *reactor;
  df_deferred *d;          /* ours: the request's Deferred */
  df_deferred *connecting; /* borrowed, while CONNECTING */
  stage stage;
  int fd;
  df_watch *watch;
  size_t sent;
  size_t out_len;
  char *out;
  size_t in_len;
  size_t in_cap;
  char *in;
} request;

void example_http_response_free(void *response) { free(response); }

/* Frees the request (a reset when \p abort) and hands back its Deferred
 * for the caller to fire or drop. */
static df_deferred *request_free(request *q, bool abort) {
  df_deferred *d = q->d;
  q->stage = DONE;
  if (q->watch != NULL) {
    df_watch_stop(q->watch);
  }
  if (q->fd >= 0) {
    if (abort) {
      struct linger reset = {1, 0};
      setsockopt(q->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    }
    close(q->fd);
  }
  free(q->out);
  free(q->in);
  free(q);
  return d;
}

static void finish(request *q, df_result r) {
  df_deferred *d = request_free(q, false);
  df_fire(d, r);
  df_unref(d);
}

static void fail_errno(request *q, int err, const char *what) {
  finish(q, df_fail(df_failure_new(&DF_SYSTEM, err, "HTTP %s failed: %s", what,
                                   strerror(err))));
}

static void parse_response(request *q) {
  int status = 0;
  char *body = q->in != NULL ? strstr(q->in, "\r\n\r\n") : NULL;
  if (body == NULL || sscanf(q->in, "HTTP/%*d.%*d %d", &status) != 1) {
    finish(q,
           df_fail(df_failure_new(
               &DF_ERROR, 0, "not an HTTP response (%zu bytes)", q->in_len)));
    return;
  }
  example_http_response *resp = malloc(sizeof *resp + q->in_len + 1);
  if (resp == NULL) {
    finish(q, df_fail(df_failure_new(&DF_NO_MEMORY, 0, "HTTP response")));
    return;
  }
  memcpy(resp->raw, q->in, q->in_len + 1);
  resp->status = status;
  resp->body = resp->raw + (body - q->in) + 4;
  resp->body_len = q->in_len - (size_t)(resp->body - resp->raw);
  finish(q, df_ok(resp, example_http_response_free));
}

static void on_readable(request *q) {
  if (q->in_cap - q->in_len < 1024) {
    size_t cap = q->in_cap != 0 ? q->in_cap * 2 : 4096;
    char *grown = realloc(q->in, cap);
    if (grown == NULL) {
      fail_errno(q, ENOMEM, "read");
      return;
    }
    q->in = grown;
    q->in_cap = cap;
  }
  ssize_t n = recv(q->fd, q->in + q->in_len, q->in_cap - q->in_len - 1, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      fail_errno(q, errno, "read");
    }
    return;
  }
  if (n == 0) {
    parse_response(q); /* HTTP/1.0: the server closes after the body */
    return;
  }
  q->in_len += (size_t)n;
  q->in[q->in_len] = '\0';
}

static void on_writable(request *q) {
  ssize_t n = send(q->fd, q->out + q->sent, q->out_len - q->sent, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      fail_errno(q, errno, "write");
    }
    return;
  }
  q->sent += (size_t)n;
  if (q->sent == q->out_len) {
    df_watch_update(q->watch, DF_READABLE);
  }
}

static void on_socket(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w;
  (void)fd;
  request *q = arg;
  if (q->sent < q->out_len) {
    on_writable(q);
  } else if (events & (DF_READABLE | DF_HANGUP | DF_IO_ERROR)) {
    on_readable(q);
  }
}

static df_result on_connected(df_result in, void *arg) {
  request *q = arg;
  q->connecting = NULL;
  q->stage = TALKING;
  q->fd = df_connection_detach(in.ptr);
  df_result_free(in);
  int rc = df_watch_fd(&q->watch, q->reactor, q->fd, DF_WRITABLE, on_socket, q);
  if (rc != 0) {
    fail_errno(q, -rc, "watch");
  }
  return df_ok(NULL, NULL);
}

static df_result on_connect_failed(df_result in, void *arg) {
  request *q = arg;
  if (q->stage != CONNECTING) {
    df_result_free(in); /* our own cancel, from cancel_request() */
    return df_ok(NULL, NULL);
  }
  q->connecting = NULL;
  finish(q, in);
  return df_ok(NULL, NULL);
}

/* The canceller: abort whatever exists of the connection. */
static void cancel_request(df_deferred *d, void *arg) {
  (void)d;
  request *q = arg;
  df_deferred *connecting = q->stage == CONNECTING ? q->connecting : NULL;
  q->stage = DONE;
  if (connecting != NULL) {
    df_cancel(connecting);
  }
  df_unref(request_free(q, true));
}

df_deferred *example_http_get(df_reactor *r, df_resolver *res, const char *host,
                              unsigned port, const char *path, double timeout) {
  if (host == NULL || path == NULL || path[0] != '/') {
    return df_fail_now(df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                      "host is NULL or path does not start "
                                      "with '/'"));
  }
  request *q = calloc(1, sizeof *q);
  int len =
      snprintf(NULL, 0, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
  char *out = q != NULL ? malloc((size_t)len + 1) : NULL;
  df_deferred *d = out != NULL ? df_deferred_new(cancel_request, q) : NULL;
  if (d == NULL) {
    free(out);
    free(q);
    return df_fail_now(df_failure_new(&DF_NO_MEMORY, 0, "HTTP request"));
  }
  snprintf(out, (size_t)len + 1, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path,
           host);
  q->reactor = r;
  q->d = d;
  q->fd = -1;
  q->out = out;
  q->out_len = (size_t)len;
  q->stage = CONNECTING;
  if (timeout > 0) {
    df_add_timeout(d, r, timeout);
  }
  df_deferred *result = df_ref(d);
  df_deferred *connecting = df_connect_tcp(r, res, host, port, NULL);
  if (connecting == NULL) {
    finish(q, df_fail(df_failure_new(&DF_NO_MEMORY, 0, "HTTP connect")));
    return result;
  }
  /* It may fire inside df_add_callbacks (a bad argument): q is not touched
   * afterwards. */
  q->connecting = connecting;
  df_add_callbacks(connecting, on_connected, q, on_connect_failed, q);
  df_unref(connecting);
  return result;
}
