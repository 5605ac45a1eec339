/* df_connect_tcp(), the connection example (C2): connects to loopback
 * listeners by literal and by name served by dnsmasq, refused and hanging
 * targets, staggered attempts where the first success wins, the timeout,
 * and bad arguments. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h> /* ares.h uses fd_set */
#include <sys/socket.h>
#include <unistd.h>

#include <ares.h>

#include "dft_dns.h"
#include "dft_dnsmasq.h"
#include "dft_loopback.h"

typedef struct world {
  df_reactor *r;
  df_resolver *res;
} world;

static world world_new(void) {
  world w;
  w.r = dft_reactor_new(false);
  w.res = dft_resolver(w.r, &(df_resolver_options){.servers = dft_dns_servers(),
                                                   .timeout_ms = 1000,
                                                   .tries = 2});
  return w;
}

static void world_free(world w) {
  CU_ASSERT_EQUAL(dft_dns_teardown(w.r, w.res), 0);
}

static void connect_and_wait(world w, const char *host, int port,
                             const df_connect_options *opts, dft_outcome *o) {
  dft_capture(df_connect_tcp(w.r, w.res, host, (unsigned)port, opts), o);
  CU_ASSERT(dft_run_until(w.r, &o->fired, 10));
  CU_ASSERT_EQUAL(o->fired, 1);
}

static const df_connection *connection_of(const dft_outcome *o) {
  return o->ok ? (const df_connection *)o->value.ptr : NULL;
}

/* The socket is connected to the listener at \p port. */
static bool connected_to(const df_connection *c, int family, int port) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof peer;
  if (getpeername(c->fd, (struct sockaddr *)&peer, &len) != 0 ||
      peer.ss_family != family || c->peer.family != family) {
    return false;
  }
  int got = family == AF_INET
                ? ntohs(((struct sockaddr_in *)&peer)->sin_port)
                : ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
  return got == port;
}

static void test_c2_connect_to_ipv4_literal(void) {
  world w = world_new();
  int port = 0;
  int l = dft_listener(AF_INET, 0, 8, &port);
  CU_ASSERT_FATAL(l >= 0);
  dft_outcome o = {0};
  connect_and_wait(w, "127.0.0.1", port, NULL, &o);
  const df_connection *c = connection_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT(connected_to(c, AF_INET, port));
  CU_ASSERT_PTR_EQUAL(o.value.free, df_connection_free);
  CU_ASSERT(fcntl(c->fd, F_GETFL) & O_NONBLOCK);
  CU_ASSERT(fcntl(c->fd, F_GETFD) & FD_CLOEXEC);
  char peer[64];
  char want[64];
  snprintf(want, sizeof want, "127.0.0.1:%d", port);
  df_address_format(&c->peer, peer, sizeof peer);
  CU_ASSERT_STRING_EQUAL(peer, want);
  dft_outcome_clear(&o);
  close(l);
  world_free(w);
}

/* Connects by name, asking for \p family, to a listener of that family. */
static void check_connects_by_name(const char *host, int family) {
  world w = world_new();
  int port = 0;
  int l = dft_listener(family, 0, 8, &port);
  CU_ASSERT_FATAL(l >= 0);
  dft_outcome o = {0};
  connect_and_wait(w, host, port, &(df_connect_options){.family = family}, &o);
  const df_connection *c = connection_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT(connected_to(c, family, port));
  dft_outcome_clear(&o);
  close(l);
  world_free(w);
}

static void test_c2_connect_by_name(void) {
  check_connects_by_name(DFT_NAME_BOTH, AF_INET);
}

static void test_c2_connect_over_ipv6_by_family_option(void) {
  if (!dft_have_ipv6()) {
    CU_PASS("no IPv6 loopback here");
    return;
  }
  check_connects_by_name(DFT_NAME_DUAL, AF_INET6);
}

static void test_c2_refused_names_errno_and_address(void) {
  world w = world_new();
  int port = dft_refused_port(AF_INET);
  CU_ASSERT_FATAL(port != 0);
  dft_outcome o = {0};
  connect_and_wait(w, "127.0.0.1", port, NULL, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_CONNECT);
  CU_ASSERT_EQUAL(o.code, ECONNREFUSED);
  char where[64];
  snprintf(where, sizeof where, "127.0.0.1:%d", port);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, where));
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, strerror(ECONNREFUSED)));
  dft_outcome_clear(&o);
  world_free(w);
}

static void test_c2_every_address_refused(void) {
  if (!dft_have_ipv6()) {
    CU_PASS("no IPv6 loopback here");
    return;
  }
  world w = world_new();
  int port = dft_free_dual_port();
  CU_ASSERT_FATAL(port != 0);
  dft_outcome o = {0};
  connect_and_wait(w, DFT_NAME_DUAL, port, NULL, &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_CONNECT);
  CU_ASSERT_EQUAL(o.code, ECONNREFUSED);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, DFT_NAME_DUAL));
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "2 addresses tried"));
  dft_outcome_clear(&o);
  world_free(w);
}

static void test_c2_dns_failure_passes_through(void) {
  world w = world_new();
  dft_outcome o = {0};
  connect_and_wait(w, DFT_NAME_MISSING, 80, NULL, &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, ARES_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, DFT_NAME_MISSING));
  dft_outcome_clear(&o);
  world_free(w);
}

/* dual.test (::1 first, then 127.0.0.1) at a port where ::1 hangs (or, when
 * \p v6_hangs is false, refuses) and 127.0.0.1 accepts: the IPv4 attempt
 * wins, and the IPv6 one leaves no descriptor behind. */
static void check_ipv4_attempt_wins(bool v6_hangs, double attempt_delay) {
  if (!dft_have_ipv6()) {
    CU_PASS("no IPv6 loopback here");
    return;
  }
  int port = dft_free_dual_port();
  CU_ASSERT_FATAL(port != 0);
  int filler = -1;
  int hang =
      v6_hangs ? dft_hanging_listener(AF_INET6, port, NULL, &filler) : -1;
  int ok = dft_listener(AF_INET, port, 8, NULL);
  CU_ASSERT_FATAL(ok >= 0 && (hang >= 0 || !v6_hangs));
  int before = dft_fd_count();
  world w = world_new();
  dft_outcome o = {0};
  connect_and_wait(w, DFT_NAME_DUAL, port,
                   &(df_connect_options){.attempt_delay = attempt_delay}, &o);
  const df_connection *c = connection_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT(connected_to(c, AF_INET, port));
  dft_outcome_clear(&o);
  world_free(w);
  CU_ASSERT_EQUAL(dft_fd_count(), before); /* the loser was closed */
  if (v6_hangs) {
    close(hang);
    close(filler);
  }
  close(ok);
}

/* The first attempt (::1) hangs; after the attempt delay the second
 * (127.0.0.1) starts and wins, and the hanging one is closed. */
static void test_c2_staggered_attempt_wins_when_first_hangs(void) {
  check_ipv4_attempt_wins(true, 0.05);
}

/* A failed attempt starts the next at once: with a delay far longer than
 * the test, only the refusal of ::1 can start the IPv4 attempt. */
static void test_c2_failed_attempt_starts_the_next_at_once(void) {
  check_ipv4_attempt_wins(false, 1000);
}

static void test_s29_timeout_on_hanging_listener(void) {
  int port = 0;
  int filler = -1;
  int hang = dft_hanging_listener(AF_INET, 0, &port, &filler);
  CU_ASSERT_FATAL(hang >= 0);
  int before = dft_fd_count();
  world w = world_new();
  df_connect_options opts = {0};
  opts.timeout = 0.2;
  dft_outcome o = {0};
  connect_and_wait(w, "127.0.0.1", port, &opts, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_TIMEOUT);
  CU_ASSERT_EQUAL(o.code, 200);
  dft_outcome_clear(&o);
  world_free(w);
  CU_ASSERT_EQUAL(dft_fd_count(), before);
  close(hang);
  close(filler);
}

static void test_c2_detached_socket_stays_open(void) {
  world w = world_new();
  int port = 0;
  int l = dft_listener(AF_INET, 0, 8, &port);
  CU_ASSERT_FATAL(l >= 0);
  dft_outcome o = {0};
  connect_and_wait(w, "127.0.0.1", port, NULL, &o);
  df_connection *c = o.ok ? o.value.ptr : NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  int fd = df_connection_detach(c);
  CU_ASSERT(fd >= 0);
  CU_ASSERT_EQUAL(c->fd, -1);
  CU_ASSERT_EQUAL(df_connection_detach(c), DF_EINVAL);
  dft_outcome_clear(&o); /* frees the connection, not the socket */
  CU_ASSERT(fcntl(fd, F_GETFD) >= 0);
  close(fd);
  CU_ASSERT_EQUAL(df_connection_detach(NULL), DF_EINVAL);
  df_connection_free(NULL);
  close(l);
  world_free(w);
}

static void test_c2_connect_bad_arguments(void) {
  world w = world_new();
  const struct {
    df_reactor *r;
    df_resolver *res;
    const char *host;
    unsigned port;
    const df_connect_options *opts;
    const char *names;
  } cases[] = {
      {NULL, w.res, "127.0.0.1", 80, NULL, "reactor"},
      {w.r, NULL, "127.0.0.1", 80, NULL, "res"},
      {w.r, w.res, NULL, 80, NULL, "host"},
      {w.r, w.res, "", 80, NULL, "host"},
      {w.r, w.res, "127.0.0.1", 0, NULL, "port"},
      {w.r, w.res, "127.0.0.1", 70000, NULL, "port"},
      {w.r, w.res, "127.0.0.1", 80, &(df_connect_options){.timeout = -1},
       "timeout"},
      {w.r, w.res, "127.0.0.1", 80, &(df_connect_options){.attempt_delay = NAN},
       "attempt_delay"},
      {w.r, w.res, "127.0.0.1", 80, &(df_connect_options){.family = 77},
       "family"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    dft_expect_invalid(df_connect_tcp(cases[i].r, cases[i].res, cases[i].host,
                                      cases[i].port, cases[i].opts),
                       cases[i].names);
  }
  world_free(w);
}

static CU_TestInfo tests[] = {
    {"test_c2_connect_to_ipv4_literal", test_c2_connect_to_ipv4_literal},
    {"test_c2_connect_by_name", test_c2_connect_by_name},
    {"test_c2_connect_over_ipv6_by_family_option",
     test_c2_connect_over_ipv6_by_family_option},
    {"test_c2_refused_names_errno_and_address",
     test_c2_refused_names_errno_and_address},
    {"test_c2_every_address_refused", test_c2_every_address_refused},
    {"test_c2_dns_failure_passes_through", test_c2_dns_failure_passes_through},
    {"test_c2_staggered_attempt_wins_when_first_hangs",
     test_c2_staggered_attempt_wins_when_first_hangs},
    {"test_c2_failed_attempt_starts_the_next_at_once",
     test_c2_failed_attempt_starts_the_next_at_once},
    {"test_s29_timeout_on_hanging_listener",
     test_s29_timeout_on_hanging_listener},
    {"test_c2_detached_socket_stays_open", test_c2_detached_socket_stays_open},
    {"test_c2_connect_bad_arguments", test_c2_connect_bad_arguments},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_dns_main("connect", tests); }
