/* The DNS fuzz targets' reactor, resolver and responder; see dns_fuzz.h. */
#define _POSIX_C_SOURCE 200809L

#include "dns_fuzz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "deferred/reactor.h"

#define TYPE_A 1
#define TYPE_AAAA 28
#define MAX_REPLY 512

void dns_fuzz_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: %s\n", file, line, what);
  abort();
}

/* ------------------------------------------------------------ responder */

static struct {
  int fd;
  char servers[32];
  pthread_t thread;
  atomic_bool stop;
  pthread_mutex_t lock; /* guards what follows */
  unsigned char reply[MAX_REPLY];
  size_t len;
  bool fuzzed;
  bool keep_question;
} responder = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* The end of the question of \p q (its first byte after QTYPE and QCLASS),
 * or 0 when \p q is not one query with one question. */
static size_t question_end(const unsigned char *q, size_t len) {
  if (len < 12 || q[4] != 0 || q[5] != 1)
    return 0;
  size_t i = 12;
  while (i < len && q[i] != 0) {
    if (q[i] > 63)
      return 0;
    i += (size_t)q[i] + 1;
  }
  return i + 5 <= len ? i + 5 : 0;
}

/* The header and question of \p q as a reply with \p rcode and no record. */
static size_t echo_question(const unsigned char *q, size_t qend, int rcode,
                            unsigned char *out) {
  memcpy(out, q, qend);
  out[2] = (unsigned char)(0x80 | (q[2] & 0x01)); /* QR, RD echoed */
  out[3] = (unsigned char)(0x80 | rcode);         /* RA */
  memset(out + 6, 0, 6);
  return qend;
}

static size_t proper_answer(const unsigned char *q, size_t qend,
                            unsigned char *out) {
  size_t n = echo_question(q, qend, 0, out);
  unsigned type = (unsigned)q[qend - 4] << 8 | q[qend - 3];
  if (type != TYPE_A && type != TYPE_AAAA)
    return n;
  size_t rdlen = type == TYPE_A ? 4 : 16;
  if (n + 12 + rdlen > MAX_REPLY)
    return n;
  out[7] = 1; /* one answer */
  unsigned char *a = out + n;
  const unsigned char rr[12] = {0xc0, 0x0c, 0, (unsigned char)type, 0, 1, 0, 0,
                                0,    0,    0, (unsigned char)rdlen};
  memcpy(a, rr, sizeof rr);
  memset(a + 12, 0, rdlen);
  if (type == TYPE_A) {
    a[12] = 127;
    a[15] = 1;
  } else {
    a[12 + 15] = 1;
  }
  return n + 12 + rdlen;
}

/* The fuzzed reply to \p q in \p out; 0 when there is nothing to send. */
static size_t fuzzed_answer(const unsigned char *q, size_t qlen, size_t qend,
                            unsigned char *out) {
  size_t n = responder.len;
  memcpy(out, responder.reply, n);
  if (responder.keep_question && qend > 0 && n >= 12) {
    /* The query's ID and question, the fuzzed flags, counts and records. */
    unsigned char tail[MAX_REPLY];
    size_t rest = n - 12;
    if (qend + rest > MAX_REPLY)
      rest = MAX_REPLY - qend;
    memcpy(tail, responder.reply + 12, rest);
    memcpy(out + 4, responder.reply + 4, 8);
    memcpy(out + 12, q + 12, qend - 12);
    memcpy(out + qend, tail, rest);
    n = qend + rest;
  }
  if (n >= 2 && qlen >= 2)
    memcpy(out, q, 2);
  return n;
}

static void answer(const unsigned char *q, size_t qlen,
                   const struct sockaddr *to, socklen_t tolen) {
  unsigned char out[MAX_REPLY];
  size_t qend = question_end(q, qlen);
  pthread_mutex_lock(&responder.lock);
  bool fuzzed = responder.fuzzed;
  size_t n = fuzzed ? fuzzed_answer(q, qlen, qend, out)
                    : (qend > 0 ? proper_answer(q, qend, out) : 0);
  pthread_mutex_unlock(&responder.lock);
  if (n > 0)
    (void)sendto(responder.fd, out, n, 0, to, tolen);
  if (fuzzed && qend > 0) {
    n = echo_question(q, qend, 2 /* SERVFAIL */, out);
    (void)sendto(responder.fd, out, n, 0, to, tolen);
  }
}

static void *respond(void *arg) {
  (void)arg;
  while (!atomic_load(&responder.stop)) {
    struct pollfd p = {.fd = responder.fd, .events = POLLIN};
    if (poll(&p, 1, 20) <= 0)
      continue;
    unsigned char q[MAX_REPLY];
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    ssize_t len = recvfrom(responder.fd, q, sizeof q, 0,
                           (struct sockaddr *)&from, &fromlen);
    if (len > 0)
      answer(q, (size_t)len, (struct sockaddr *)&from, fromlen);
  }
  return NULL;
}

static void responder_start(void) {
  responder.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  DNS_FUZZ_CHECK(responder.fd >= 0, "no UDP socket");
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  DNS_FUZZ_CHECK(bind(responder.fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
                     getsockname(responder.fd, (struct sockaddr *)&sin, &len) ==
                         0,
                 "cannot bind 127.0.0.1");
  snprintf(responder.servers, sizeof responder.servers, "127.0.0.1:%d",
           ntohs(sin.sin_port));
  DNS_FUZZ_CHECK(pthread_create(&responder.thread, NULL, respond, NULL) == 0,
                 "no responder thread");
}

static void responder_stop(void) {
  atomic_store(&responder.stop, true);
  pthread_join(responder.thread, NULL);
  close(responder.fd);
}

void dns_fuzz_respond(const uint8_t *reply, size_t len, int keep_question) {
  pthread_mutex_lock(&responder.lock);
  responder.fuzzed = reply != NULL;
  responder.keep_question = keep_question != 0;
  responder.len = len < MAX_REPLY ? len : MAX_REPLY;
  if (reply != NULL && responder.len > 0)
    memcpy(responder.reply, reply, responder.len);
  pthread_mutex_unlock(&responder.lock);
}

/* ------------------------------------------------------------ resolver */

static df_reactor *reactor;
static df_resolver *resolver;

static void teardown(void) {
  df_resolver_free(resolver);
  /* The lookups' sockets and timers close as the resolver goes. */
  for (int i = 0; i < 100 && df_reactor_free(reactor) != 0; i++)
    df_reactor_run_once(reactor, 10);
  responder_stop();
}

df_resolver *dns_fuzz_resolver(void) {
  if (resolver != NULL)
    return resolver;
  responder_start();
  DNS_FUZZ_CHECK(df_reactor_new(&reactor, NULL) == 0, "no reactor");
  df_resolver_options o = {
      .servers = responder.servers, .timeout_ms = 200, .tries = 1};
  DNS_FUZZ_CHECK(df_resolver_new(&resolver, reactor, &o) == 0, "no resolver");
  atexit(teardown);
  return resolver;
}

/* ------------------------------------------------------------ lookups */

typedef struct outcome {
  int fired;
  df_result result;
} outcome;

static df_result keep(df_result in, void *arg) {
  outcome *o = arg;
  o->fired++;
  o->result = in;
  return df_ok(NULL, NULL);
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_addresses(const df_addresses *a, int family) {
  DNS_FUZZ_CHECK(a != NULL && a->count >= 1, "an empty address list");
  for (size_t i = 0; i < a->count; i++) {
    const df_address *x = &a->items[i];
    DNS_FUZZ_CHECK(family == AF_UNSPEC || x->family == family,
                   "an address of the wrong family");
    if (x->family == AF_INET) {
      const struct sockaddr_in *sin = (const struct sockaddr_in *)&x->addr;
      DNS_FUZZ_CHECK(x->len == sizeof *sin && sin->sin_family == AF_INET &&
                         sin->sin_port == 0,
                     "a bad IPv4 address");
    } else {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&x->addr;
      DNS_FUZZ_CHECK(x->family == AF_INET6 && x->len == sizeof *sin6 &&
                         sin6->sin6_family == AF_INET6 && sin6->sin6_port == 0,
                     "a bad IPv6 address");
    }
    char text[64];
    DNS_FUZZ_CHECK(df_address_format(x, text, sizeof text) < sizeof text,
                   "an address too long to format");
  }
}

df_result dns_fuzz_lookup(const char *host, int family) {
  df_resolver *res = dns_fuzz_resolver();
  outcome o = {0, {NULL, NULL}};
  df_deferred *d = df_resolve(res, host, family);
  DNS_FUZZ_CHECK(d != NULL, "df_resolve returned NULL");
  DNS_FUZZ_CHECK(df_add_both(d, keep, &o) == d, "cannot add a step");
  df_unref(d);
  /* A generous bound: a lookup ends within c-ares' timeout (200 ms, one
   * try) on any machine; one that never ends is a bug to report. */
  double give_up = seconds_now() + 30.0;
  while (o.fired == 0) {
    DNS_FUZZ_CHECK(df_reactor_run_once(reactor, 50) >= 0, "reactor failed");
    DNS_FUZZ_CHECK(seconds_now() < give_up, "a lookup never ended");
  }
  df_reactor_run_once(reactor, 0);
  DNS_FUZZ_CHECK(o.fired == 1, "a lookup fired twice");
  if (df_result_is_failure(o.result)) {
    const df_error_type *t = df_failure_type(df_result_failure(o.result));
    DNS_FUZZ_CHECK(t == &DF_DNS || t == &DF_INVALID_ARGUMENT,
                   "a lookup failed with an undocumented type");
  } else {
    DNS_FUZZ_CHECK(df_result_release_fn(o.result) == df_addresses_free,
                   "a lookup's value is not a df_addresses");
    check_addresses(o.result.ptr, family);
  }
  return o.result;
}
