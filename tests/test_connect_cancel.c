/* The article's startConnecting / cancelClicked (S20): cancel a connection
 * attempt at each stage. During the DNS stage the attempt fails with
 * Cancelled at once, no socket is ever opened, and the lookup's late answer
 * is discarded; during the connect stage every socket is closed; after the
 * connection was made, cancel changes nothing. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dft_dns.h"
#include "dft_dns_servers.h"
#include "dft_dnsmasq.h"
#include "dft_loopback.h"

/* The article's little program: a pending connection and a Cancel button. */
typedef struct app {
  df_reactor *reactor;
  df_resolver *resolver;
  df_deferred *connecting; /* our reference */
  dft_outcome outcome;
} app;

static void startConnecting(app *a, const char *host, int port,
                            const df_connect_options *opts) {
  a->connecting =
      df_connect_tcp(a->reactor, a->resolver, host, (unsigned)port, opts);
  dft_capture(df_ref(a->connecting), &a->outcome);
}

static void cancelClicked(app *a) { df_cancel(a->connecting); }

static df_resolver *resolver_for(df_reactor *r, const char *servers,
                                 int timeout_ms) {
  return dft_resolver(r, &(df_resolver_options){.servers = servers,
                                                .timeout_ms = timeout_ms,
                                                .tries = 1});
}

static void app_init(app *a, const char *servers, int timeout_ms) {
  memset(a, 0, sizeof *a);
  a->reactor = dft_reactor_new(false);
  a->resolver = resolver_for(a->reactor, servers, timeout_ms);
}

static void app_free(app *a) {
  df_unref(a->connecting);
  dft_outcome_clear(&a->outcome);
  CU_ASSERT_EQUAL(dft_dns_teardown(a->reactor, a->resolver), 0);
}

static void assert_cancelled(const app *a) {
  CU_ASSERT_EQUAL(a->outcome.fired, 1);
  CU_ASSERT_FALSE(a->outcome.ok);
  CU_ASSERT_PTR_EQUAL(a->outcome.type, &DF_CANCELLED);
}

static bool fds_reach(const void *count) {
  return dft_fd_count() >= *(const int *)count;
}

/* Runs rounds until the process has \p n more descriptors than \p base. */
static bool run_until_fds(df_reactor *r, int base, int n) {
  int count = base + n;
  return dft_run_until_true(r, fds_reach, &count, 10);
}

static void test_s20_cancel_during_dns_stage(void) {
  char servers[32];
  int silent = dft_silent_server(servers);
  CU_ASSERT_FATAL(silent >= 0);
  int port = 0;
  int target = dft_listener(AF_INET, 0, 8, &port);
  CU_ASSERT_FATAL(target >= 0);
  app a;
  app_init(&a, servers, 250);
  startConnecting(&a, DFT_NAME_BOTH, port, NULL);
  df_reactor_run_once(a.reactor, 0);
  CU_ASSERT_EQUAL(a.outcome.fired, 0);
  CU_ASSERT_EQUAL(dft_resolver_stats(a.resolver).in_flight, 1);
  int during = dft_fd_count();

  cancelClicked(&a);
  assert_cancelled(&a); /* at once, while the lookup runs on */
  cancelClicked(&a);    /* S14 */
  CU_ASSERT_EQUAL(dft_resolver_stats(a.resolver).pending, 1);

  CU_ASSERT(dft_drain_resolver(a.reactor, a.resolver, 10));
  CU_ASSERT_EQUAL(dft_resolver_stats(a.resolver).discarded, 1);
  CU_ASSERT_EQUAL(a.outcome.fired, 1);
  CU_ASSERT(dft_fd_count() <= during); /* no connect socket, ever */
  app_free(&a);
  close(target);
  close(silent);
}

/* The lookup answers after the cancel: the answer is dropped, and no
 * connection is attempted with it. */
static void test_s20_late_answer_after_cancel_starts_no_connect(void) {
  int port = 0;
  int target = dft_listener(AF_INET, 0, 8, &port);
  CU_ASSERT_FATAL(target >= 0);
  app a;
  memset(&a, 0, sizeof a);
  a.reactor = dft_reactor_new(false);
  dft_responder *slow = dft_responder_new(a.reactor, 0.2, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
  a.resolver = resolver_for(a.reactor, dft_responder_servers(slow), 2000);
  df_connect_options copts = {0};
  copts.family = AF_INET;
  startConnecting(&a, DFT_NAME_BOTH, port, &copts);
  df_reactor_run_once(a.reactor, 0);
  cancelClicked(&a);
  assert_cancelled(&a);

  CU_ASSERT(dft_drain_resolver(a.reactor, a.resolver, 10));
  CU_ASSERT_EQUAL(dft_responder_replies(slow), 1);
  CU_ASSERT_EQUAL(dft_resolver_stats(a.resolver).discarded, 1);
  /* Nobody connected to the listener. */
  int nb = fcntl(target, F_GETFL);
  fcntl(target, F_SETFL, nb | O_NONBLOCK);
  CU_ASSERT_EQUAL(accept(target, NULL, NULL), -1);
  CU_ASSERT_EQUAL(errno, EAGAIN);
  df_resolver_free(a.resolver);
  a.resolver = NULL;
  dft_responder_free(slow);
  app_free(&a);
  close(target);
}

static void test_s20_cancel_during_connect_closes_the_socket(void) {
  int port = 0;
  int filler = -1;
  int hang = dft_hanging_listener(AF_INET, 0, &port, &filler);
  CU_ASSERT_FATAL(hang >= 0);
  app a;
  app_init(&a, dft_dns_servers(), 1000);
  int before = dft_fd_count();
  df_connect_options opts = {0};
  opts.family = AF_INET;
  startConnecting(&a, DFT_NAME_BOTH, port, &opts);
  /* The lookup is answered and the connect socket opened. */
  CU_ASSERT(run_until_fds(a.reactor, before + 1, 1));
  int connecting = dft_fd_count();
  CU_ASSERT_EQUAL(a.outcome.fired, 0);

  cancelClicked(&a);
  assert_cancelled(&a);
  CU_ASSERT_EQUAL(dft_fd_count(), connecting - 1);
  cancelClicked(&a);
  df_reactor_run_once(a.reactor, 0);
  CU_ASSERT_EQUAL(a.outcome.fired, 1);
  app_free(&a);
  close(hang);
  close(filler);
}

/* Two hanging attempts (::1 then 127.0.0.1), both closed by one cancel. */
static void test_s20_cancel_closes_every_attempt(void) {
  if (!dft_have_ipv6()) {
    CU_PASS("no IPv6 loopback here");
    return;
  }
  int port = dft_free_dual_port();
  CU_ASSERT_FATAL(port != 0);
  int filler6 = -1;
  int filler4 = -1;
  int hang6 = dft_hanging_listener(AF_INET6, port, NULL, &filler6);
  int hang4 = dft_hanging_listener(AF_INET, port, NULL, &filler4);
  CU_ASSERT_FATAL(hang6 >= 0 && hang4 >= 0);
  int before = dft_fd_count();
  app a;
  app_init(&a, dft_dns_servers(), 1000);
  int ready = dft_fd_count();
  df_connect_options opts = {0};
  opts.attempt_delay = 0.02;
  startConnecting(&a, DFT_NAME_DUAL, port, &opts);
  /* The resolver's socket and both attempts. */
  CU_ASSERT(run_until_fds(a.reactor, ready, 3));
  CU_ASSERT_EQUAL(a.outcome.fired, 0);

  cancelClicked(&a);
  assert_cancelled(&a);
  CU_ASSERT_EQUAL(dft_fd_count(), ready + 1); /* the resolver's only */
  app_free(&a);
  CU_ASSERT_EQUAL(dft_fd_count(), before);
  close(hang6);
  close(filler6);
  close(hang4);
  close(filler4);
}

static void test_s18_cancel_after_connected_changes_nothing(void) {
  int port = 0;
  int target = dft_listener(AF_INET, 0, 8, &port);
  CU_ASSERT_FATAL(target >= 0);
  app a;
  app_init(&a, dft_dns_servers(), 1000);
  df_connect_options opts = {0};
  opts.family = AF_INET;
  startConnecting(&a, DFT_NAME_BOTH, port, &opts);
  CU_ASSERT(dft_run_until(a.reactor, &a.outcome.fired, 10));
  cancelClicked(&a);
  CU_ASSERT_EQUAL(a.outcome.fired, 1);
  CU_ASSERT(a.outcome.ok);
  const df_connection *c = a.outcome.ok ? a.outcome.value.ptr : NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  char byte = 'x';
  CU_ASSERT_EQUAL(send(c->fd, &byte, 1, MSG_NOSIGNAL), 1); /* still usable */
  app_free(&a);
  close(target);
}

static void test_s29_timeout_during_dns_stage(void) {
  char servers[32];
  int silent = dft_silent_server(servers);
  CU_ASSERT_FATAL(silent >= 0);
  app a;
  app_init(&a, servers, 2000);
  df_connect_options opts = {0};
  opts.timeout = 0.1;
  startConnecting(&a, DFT_NAME_BOTH, 80, &opts);
  CU_ASSERT(dft_run_until(a.reactor, &a.outcome.fired, 10));
  CU_ASSERT_PTR_EQUAL(a.outcome.type, &DF_TIMEOUT);
  CU_ASSERT_EQUAL(a.outcome.code, 100);
  /* The lookup still runs; freeing the resolver ends it. */
  CU_ASSERT_EQUAL(dft_resolver_stats(a.resolver).pending, 1);
  app_free(&a);
  close(silent);
}

static CU_TestInfo tests[] = {
    {"test_s20_cancel_during_dns_stage", test_s20_cancel_during_dns_stage},
    {"test_s20_late_answer_after_cancel_starts_no_connect",
     test_s20_late_answer_after_cancel_starts_no_connect},
    {"test_s20_cancel_during_connect_closes_the_socket",
     test_s20_cancel_during_connect_closes_the_socket},
    {"test_s20_cancel_closes_every_attempt",
     test_s20_cancel_closes_every_attempt},
    {"test_s18_cancel_after_connected_changes_nothing",
     test_s18_cancel_after_connected_changes_nothing},
    {"test_s29_timeout_during_dns_stage", test_s29_timeout_during_dns_stage},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_dns_main("connect_cancel", tests); }
