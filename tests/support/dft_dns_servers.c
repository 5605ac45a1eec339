/* Misbehaving DNS servers for the tests; see dft_dns_servers.h. */
#define _POSIX_C_SOURCE 200809L

#include "dft_dns_servers.h"
#include "dft_ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TYPE_A 1
#define TYPE_AAAA 28

static int bound_udp(int *port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  struct sockaddr_in sin = dft_loopback_addr(0);
  socklen_t len = sizeof sin;
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
      getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(sin.sin_port);
  return fd;
}

int dft_silent_server(char servers[32]) {
  int port = 0;
  int fd = bound_udp(&port);
  if (fd >= 0) {
    snprintf(servers, 32, "127.0.0.1:%d", port);
  }
  return fd;
}

int dft_closed_port(char servers[32]) {
  int port = 0;
  int fd = bound_udp(&port);
  if (fd < 0) {
    return 0;
  }
  close(fd);
  snprintf(servers, 32, "127.0.0.1:%d", port);
  return port;
}

/* ------------------------------------------------------------ responder */

typedef struct reply reply;
struct reply {
  reply *next;
  dft_responder *owner;
  df_timer *timer;
  struct sockaddr_storage to;
  socklen_t tolen;
  size_t len;
  unsigned char bytes[512];
};

struct dft_responder {
  df_reactor *reactor;
  int fd;
  df_watch *watch;
  double delay;
  unsigned flags;
  reply *pending; /* replies waiting for their timer */
  size_t queries;
  size_t replies;
  char servers[32];
};

/* Builds the answer to \p q in \p r: the question echoed, one record of
 * the asked type (TTL 0). Returns false for anything but a single A or AAAA
 * question, or when \p r should not be answered (a dropped AAAA). */
static bool build_reply(const dft_responder *s, const unsigned char *q,
                        size_t qlen, reply *r) {
  if (qlen < 12 || q[4] != 0 || q[5] != 1) {
    return false;
  }
  size_t i = 12;
  while (i < qlen && q[i] != 0) {
    i += (size_t)q[i] + 1;
  }
  if (i + 5 > qlen) {
    return false;
  }
  unsigned type = (unsigned)q[i + 1] << 8 | q[i + 2];
  size_t qend = i + 5;
  if (type != TYPE_A && type != TYPE_AAAA) {
    return false;
  }
  if (type == TYPE_AAAA && (s->flags & DFT_RESPONDER_DROP_AAAA)) {
    return false;
  }
  size_t rdlen = type == TYPE_A ? 4 : 16;
  if (qend + 12 + rdlen > sizeof r->bytes) {
    return false;
  }
  unsigned char *o = r->bytes;
  memcpy(o, q, qend);
  o[2] = (unsigned char)(0x80 | (q[2] & 0x01)); /* QR, RD echoed */
  o[3] = 0x80;                                  /* RA, NOERROR */
  o[6] = 0;
  o[7] = 1; /* one answer */
  memset(o + 8, 0, 4);
  unsigned char *a = o + qend;
  a[0] = 0xc0;
  a[1] = 0x0c; /* the name: a pointer to the question's */
  a[2] = 0;
  a[3] = (unsigned char)type;
  a[4] = 0;
  a[5] = 1;            /* IN */
  memset(a + 6, 0, 4); /* TTL 0 */
  a[10] = 0;
  a[11] = (unsigned char)rdlen;
  if (type == TYPE_A) {
    const unsigned char v4[4] = {127, 0, 0, 1};
    memcpy(a + 12, v4, 4);
  } else {
    memset(a + 12, 0, 16);
    a[12 + 15] = 1;
  }
  r->len = qend + 12 + rdlen;
  return true;
}

static void send_reply(reply *r) {
  dft_responder *s = r->owner;
  if (sendto(s->fd, r->bytes, r->len, 0, (struct sockaddr *)&r->to, r->tolen) ==
      (ssize_t)r->len) {
    s->replies++;
  }
}

static void unlink_reply(reply *r) {
  reply **p = &r->owner->pending;
  while (*p != r) {
    p = &(*p)->next;
  }
  *p = r->next;
}

static void on_delay(void *arg) {
  reply *r = arg;
  unlink_reply(r);
  send_reply(r);
  free(r);
}

static void handle_query(dft_responder *s, const unsigned char *q, size_t qlen,
                         const struct sockaddr_storage *from,
                         socklen_t fromlen) {
  reply *r = calloc(1, sizeof *r);
  if (r == NULL) {
    return;
  }
  r->owner = s;
  r->to = *from;
  r->tolen = fromlen;
  if (!build_reply(s, q, qlen, r)) {
    free(r);
    return;
  }
  if (s->delay <= 0) {
    send_reply(r);
    free(r);
    return;
  }
  df_call_later(&r->timer, s->reactor, s->delay, on_delay, r);
  if (r->timer == NULL) {
    free(r);
    return;
  }
  r->next = s->pending;
  s->pending = r;
}

static void on_readable(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w;
  (void)events;
  dft_responder *s = arg;
  for (;;) {
    unsigned char q[512];
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    ssize_t n =
        recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      return; /* EAGAIN: drained */
    }
    s->queries++;
    handle_query(s, q, (size_t)n, &from, fromlen);
  }
}

dft_responder *dft_responder_new(df_reactor *r, double delay, unsigned flags) {
  dft_responder *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return NULL;
  }
  int port = 0;
  s->reactor = r;
  s->delay = delay;
  s->flags = flags;
  s->fd = bound_udp(&port);
  if (s->fd >= 0) {
    df_watch_fd(&s->watch, r, s->fd, DF_READABLE, on_readable, s);
  }
  if (s->watch == NULL) {
    if (s->fd >= 0) {
      close(s->fd);
    }
    free(s);
    return NULL;
  }
  snprintf(s->servers, sizeof s->servers, "127.0.0.1:%d", port);
  return s;
}

const char *dft_responder_servers(const dft_responder *s) { return s->servers; }

size_t dft_responder_queries(const dft_responder *s) { return s->queries; }

size_t dft_responder_replies(const dft_responder *s) { return s->replies; }

void dft_responder_free(dft_responder *s) {
  if (s == NULL) {
    return;
  }
  while (s->pending != NULL) {
    reply *r = s->pending;
    s->pending = r->next;
    df_timer_cancel(r->timer);
    free(r);
  }
  df_watch_stop(s->watch);
  close(s->fd);
  free(s);
}
