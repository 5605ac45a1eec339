/* A small HTTP/1.0 server on the reactor; see dft_http_server.h. */
#define _GNU_SOURCE /* accept4 */

#include "dft_http_server.h"
#include "dft_ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct conn conn;
struct conn {
  conn *next;
  dft_http_server *server;
  int fd;
  df_watch *watch;
  bool requested; /* a complete request was read */
  size_t used;
  char buf[2048];
};

struct dft_http_server {
  df_reactor *reactor;
  int fd;
  df_watch *watch;
  conn *conns;
  size_t accepted;
  size_t requests;
  size_t answered;
  size_t aborted;
};

static void conn_close(conn *c) {
  conn **p = &c->server->conns;
  while (*p != c) {
    p = &(*p)->next;
  }
  *p = c->next;
  df_watch_stop(c->watch);
  close(c->fd);
  free(c);
}

/* The response is small: one send on a fresh loopback socket takes it. */
static void answer(conn *c) {
  char response[256];
  int n = snprintf(response, sizeof response,
                   "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                   strlen(DFT_HTTP_BODY), DFT_HTTP_BODY);
  if (send(c->fd, response, (size_t)n, MSG_NOSIGNAL) == n) {
    c->server->answered++;
  }
  conn_close(c);
}

static void on_conn(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w;
  (void)events;
  conn *c = arg;
  if (c->used == sizeof c->buf - 1) {
    conn_close(c); /* a request this long is not ours */
    return;
  }
  ssize_t n = recv(fd, c->buf + c->used, sizeof c->buf - 1 - c->used, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return;
  }
  if (n <= 0) {
    if (c->requested) {
      c->server->aborted++;
    }
    conn_close(c);
    return;
  }
  c->used += (size_t)n;
  c->buf[c->used] = '\0';
  if (c->requested || strstr(c->buf, "\r\n\r\n") == NULL) {
    return;
  }
  c->requested = true;
  c->server->requests++;
  if (strncmp(c->buf, "GET /hang ", 10) != 0) {
    answer(c);
  }
}

static void on_listener(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w;
  (void)events;
  dft_http_server *s = arg;
  for (;;) {
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
      return;
    }
    conn *c = calloc(1, sizeof *c);
    if (c != NULL) {
      c->server = s;
      c->fd = cfd;
      df_watch_fd(&c->watch, s->reactor, cfd, DF_READABLE, on_conn, c);
    }
    if (c == NULL || c->watch == NULL) {
      free(c);
      close(cfd);
      continue;
    }
    c->next = s->conns;
    s->conns = c;
    s->accepted++;
  }
}

dft_http_server *dft_http_server_new(df_reactor *r, int *port) {
  dft_http_server *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return NULL;
  }
  s->reactor = r;
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = dft_loopback_addr(0);
  socklen_t len = sizeof sin;
  if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
      listen(s->fd, 16) != 0 ||
      getsockname(s->fd, (struct sockaddr *)&sin, &len) != 0 ||
      df_watch_fd(&s->watch, r, s->fd, DF_READABLE, on_listener, s) != 0) {
    if (s->fd >= 0) {
      close(s->fd);
    }
    free(s);
    return NULL;
  }
  *port = ntohs(sin.sin_port);
  return s;
}

size_t dft_http_accepted(const dft_http_server *s) { return s->accepted; }
size_t dft_http_requests(const dft_http_server *s) { return s->requests; }
size_t dft_http_answered(const dft_http_server *s) { return s->answered; }
size_t dft_http_aborted(const dft_http_server *s) { return s->aborted; }

void dft_http_server_free(dft_http_server *s) {
  if (s == NULL) {
    return;
  }
  while (s->conns != NULL) {
    conn_close(s->conns);
  }
  df_watch_stop(s->watch);
  close(s->fd);
  free(s);
}
