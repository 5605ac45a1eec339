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

#include "dns_fixture.h"
#include "dnsmasq.h"
#include "loopback.h"
#include "runner.h"

static df_test_dnsmasq dns;
static bool have_ipv6;

typedef struct world {
  df_reactor *r;
  df_resolver *res;
} world;

static world world_new(void) {
  world w = {NULL, NULL};
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&w.r, NULL), 0);
  df_resolver_options o = {0};
  o.servers = dns.servers;
  o.timeout_ms = 1000;
  o.tries = 2;
  CU_ASSERT_EQUAL_FATAL(df_resolver_new(&w.res, w.r, &o), 0);
  return w;
}

static void world_free(world w) {
  CU_ASSERT_EQUAL(df_test_teardown(w.r, w.res), 0);
}

static void connect_and_wait(world w, const char *host, int port,
                             const df_connect_options *opts,
                             df_test_outcome *o) {
  df_test_capture(df_connect_tcp(w.r, w.res, host, (unsigned)port, opts), o);
  CU_ASSERT(df_test_run_until(w.r, &o->fired, 10));
  CU_ASSERT_EQUAL(o->fired, 1);
}

static const df_connection *connection_of(const df_test_outcome *o) {
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
  int l = df_test_listener(AF_INET, 0, 8, &port);
  CU_ASSERT_FATAL(l >= 0);
  df_test_outcome o = {0};
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
  df_test_outcome_clear(&o);
  close(l);
  world_free(w);
}

static void test_c2_connect_by_name(void) {
  world w = world_new();
  int port = 0;
  int l = df_test_listener(AF_INET, 0, 8, &port);
  CU_ASSERT_FATAL(l >= 0);
  df_connect_options opts = {0};
  opts.family = AF_INET;
  df_test_outcome o = {0};
  connect_and_wait(w, DF_TEST_NAME_BOTH, port, &opts, &o);
  const df_connection *c = connection_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT(connected_to(c, AF_INET, port));
  df_test_outcome_clear(&o);
  close(l);
  world_free(w);
}

static void test_c2_connect_over_ipv6_by_family_option(void) {
  if (!have_ipv6) {
    CU_PASS("no IPv6 loopback here");
    return;
  }
  world w = world_new();
  int port = 0;
  int l = df_test_listener(AF_INET6, 0, 8, &port);
  CU_ASSERT_FATAL(l >= 0);
  df_connect_options opts = {0};
  opts.family = AF_INET6;
  df_test_outcome o = {0};
  connect_and_wait(w, DF_TEST_NAME_DUAL, port, &opts, &o);
  const df_connection *c = connection_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT(connected_to(c, AF_INET6, port));
  df_test_outcome_clear(&o);
  close(l);
  world_free(w);
}

static void test_c2_refused_names_errno_and_address(void) {
  world w = world_new();
  int port = df_test_refused_port(AF_INET);
  CU_ASSERT_FATAL(port != 0);
  df_test_outcome o = {0};
  connect_and_wait(w, "127.0.0.1", port, NULL, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_CONNECT);
  CU_ASSERT_EQUAL(o.code, ECONNREFUSED);
  char where[64];
  snprintf(where, sizeof where, "127.0.0.1:%d", port);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, where));
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, strerror(ECONNREFUSED)));
  df_test_outcome_clear(&o);
  world_free(w);
}

static void test_c2_every_address_refused(void) {
  if (!have_ipv6) {
    CU_PASS("no IPv6 loopback here");
    return;
  }
  world w = world_new();
  int port = df_test_free_dual_port();
  CU_ASSERT_FATAL(port != 0);
  df_test_outcome o = {0};
  connect_and_wait(w, DF_TEST_NAME_DUAL, port, NULL, &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_CONNECT);
  CU_ASSERT_EQUAL(o.code, ECONNREFUSED);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, DF_TEST_NAME_DUAL));
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "2 addresses tried"));
  df_test_outcome_clear(&o);
  world_free(w);
}

static void test_c2_dns_failure_passes_through(void) {
  world w = world_new();
  df_test_outcome o = {0};
  connect_and_wait(w, DF_TEST_NAME_MISSING, 80, NULL, &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, ARES_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, DF_TEST_NAME_MISSING));
  df_test_outcome_clear(&o);
  world_free(w);
}

/* The first attempt (::1) hangs; after the attempt delay the second
 * (127.0.0.1) starts and wins, and the hanging one is closed. */
static void test_c2_staggered_attempt_wins_when_first_hangs(void) {
  if (!have_ipv6) {
    CU_PASS("no IPv6 loopback here");
    return;
  }
  int port = df_test_free_dual_port();
  CU_ASSERT_FATAL(port != 0);
  int filler = -1;
  int hang = df_test_hanging_listener(AF_INET6, port, NULL, &filler);
  int ok = df_test_listener(AF_INET, port, 8, NULL);
  CU_ASSERT_FATAL(hang >= 0 && ok >= 0);
  int before = df_test_fd_count();
  world w = world_new();
  df_connect_options opts = {0};
  opts.attempt_delay = 0.05;
  df_test_outcome o = {0};
  connect_and_wait(w, DF_TEST_NAME_DUAL, port, &opts, &o);
  const df_connection *c = connection_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT(connected_to(c, AF_INET, port));
  df_test_outcome_clear(&o);
  world_free(w);
  CU_ASSERT_EQUAL(df_test_fd_count(), before); /* the loser was closed */
  close(hang);
  close(filler);
  close(ok);
}

/* A failed attempt starts the next at once: with a delay far longer than
 * the test, only the refusal of ::1 can start the IPv4 attempt. */
static void test_c2_failed_attempt_starts_the_next_at_once(void) {
  if (!have_ipv6) {
    CU_PASS("no IPv6 loopback here");
    return;
  }
  int port = df_test_free_dual_port();
  CU_ASSERT_FATAL(port != 0);
  int ok = df_test_listener(AF_INET, port, 8, NULL);
  CU_ASSERT_FATAL(ok >= 0);
  world w = world_new();
  df_connect_options opts = {0};
  opts.attempt_delay = 1000;
  df_test_outcome o = {0};
  connect_and_wait(w, DF_TEST_NAME_DUAL, port, &opts, &o);
  const df_connection *c = connection_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT(connected_to(c, AF_INET, port));
  df_test_outcome_clear(&o);
  world_free(w);
  close(ok);
}

static void test_s29_timeout_on_hanging_listener(void) {
  int port = 0;
  int filler = -1;
  int hang = df_test_hanging_listener(AF_INET, 0, &port, &filler);
  CU_ASSERT_FATAL(hang >= 0);
  int before = df_test_fd_count();
  world w = world_new();
  df_connect_options opts = {0};
  opts.timeout = 0.2;
  df_test_outcome o = {0};
  connect_and_wait(w, "127.0.0.1", port, &opts, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_TIMEOUT);
  CU_ASSERT_EQUAL(o.code, 200);
  df_test_outcome_clear(&o);
  world_free(w);
  CU_ASSERT_EQUAL(df_test_fd_count(), before);
  close(hang);
  close(filler);
}

static void test_c2_detached_socket_stays_open(void) {
  world w = world_new();
  int port = 0;
  int l = df_test_listener(AF_INET, 0, 8, &port);
  CU_ASSERT_FATAL(l >= 0);
  df_test_outcome o = {0};
  connect_and_wait(w, "127.0.0.1", port, NULL, &o);
  df_connection *c = o.ok ? o.value.ptr : NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  int fd = df_connection_detach(c);
  CU_ASSERT(fd >= 0);
  CU_ASSERT_EQUAL(c->fd, -1);
  CU_ASSERT_EQUAL(df_connection_detach(c), -1);
  df_test_outcome_clear(&o); /* frees the connection, not the socket */
  CU_ASSERT(fcntl(fd, F_GETFD) >= 0);
  close(fd);
  CU_ASSERT_EQUAL(df_connection_detach(NULL), -1);
  df_connection_free(NULL);
  close(l);
  world_free(w);
}

static void expect_invalid(df_deferred *d, const char *names) {
  df_test_outcome o = {0};
  df_test_capture(d, &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, names));
  df_test_outcome_clear(&o);
}

static void test_c2_connect_bad_arguments(void) {
  world w = world_new();
  df_connect_options opts = {0};
  expect_invalid(df_connect_tcp(NULL, w.res, "127.0.0.1", 80, NULL), "reactor");
  expect_invalid(df_connect_tcp(w.r, NULL, "127.0.0.1", 80, NULL), "res");
  expect_invalid(df_connect_tcp(w.r, w.res, NULL, 80, NULL), "host");
  expect_invalid(df_connect_tcp(w.r, w.res, "", 80, NULL), "host");
  expect_invalid(df_connect_tcp(w.r, w.res, "127.0.0.1", 0, NULL), "port");
  expect_invalid(df_connect_tcp(w.r, w.res, "127.0.0.1", 70000, NULL), "port");
  opts.timeout = -1;
  expect_invalid(df_connect_tcp(w.r, w.res, "127.0.0.1", 80, &opts), "timeout");
  opts.timeout = 0;
  opts.attempt_delay = NAN;
  expect_invalid(df_connect_tcp(w.r, w.res, "127.0.0.1", 80, &opts),
                 "attempt_delay");
  opts.attempt_delay = 0;
  opts.family = 77;
  expect_invalid(df_connect_tcp(w.r, w.res, "127.0.0.1", 80, &opts), "family");
  world_free(w);
}

static int suite_init(void) {
  have_ipv6 = df_test_have_ipv6();
  return df_test_dnsmasq_start(&dns) == 0 ? 0 : 1;
}

static int suite_cleanup(void) {
  df_test_dnsmasq_stop(&dns);
  return 0;
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
    {"test_s29_timeout_on_hanging_listener", test_s29_timeout_on_hanging_listener},
    {"test_c2_detached_socket_stays_open", test_c2_detached_socket_stays_open},
    {"test_c2_connect_bad_arguments", test_c2_connect_bad_arguments},
    CU_TEST_INFO_NULL,
};

int main(void) {
  return df_test_run("connect", tests, suite_init, suite_cleanup);
}
