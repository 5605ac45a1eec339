/* The DNS layer's promises about bad input and memory (C2): server lists
 * are validated before c-ares sees them, and when memory runs out anywhere
 * on a lookup's or a connect's way (ours or c-ares'), the Deferred fails
 * with DF_NO_MEMORY at once, never with a DF_DNS code or a timeout later. */
#define _POSIX_C_SOURCE 200809L

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dft_alloc.h"
#include "dft_dns.h"
#include "dft_dnsmasq.h"
#include "dft_loopback.h"

/* A lookup answered by dnsmasq would time out only after this long: a run
 * that ends within the test's bound did not wait for c-ares' timeout. */
#define LONG_TIMEOUT_MS 60000
#define RUN_LIMIT 20

/* ------------------------------------------------------------ server lists */

static void expect_refused(df_reactor *r, const char *servers) {
  long before = dft_alloc_outstanding();
  df_resolver *res = (df_resolver *)&res;
  int rc = df_resolver_new(&res, r, &(df_resolver_options){.servers = servers});
  if (rc != DF_EINVAL) {
    fprintf(stderr, "servers \"%s\": %d, not DF_EINVAL\n", servers, rc);
  }
  CU_ASSERT_EQUAL(rc, DF_EINVAL);
  CU_ASSERT_PTR_NULL(res);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
  if (rc == 0) {
    df_resolver_free(res);
  }
}

static void expect_accepted(df_reactor *r, const char *servers) {
  df_resolver *res = NULL;
  int rc = df_resolver_new(&res, r, &(df_resolver_options){.servers = servers});
  if (rc != 0) {
    fprintf(stderr, "servers \"%s\": %d, not accepted\n", servers, rc);
  }
  CU_ASSERT_EQUAL(rc, 0);
  df_resolver_free(res);
}

static void test_c2_server_lists_are_validated(void) {
  static const char *const refused[] = {
      "127.0.0.1:99999",
      "127.0.0.1:65536",
      "127.0.0.1:0",
      "127.0.0.1:",
      "127.0.0.1:+53",
      "127.0.0.1:-1",
      "127.0.0.1:053x",
      "127.0.0.1:123456",
      "[::1",
      "[::1]:",
      "[::1]x",
      "[::1]:99999",
      "[]",
      "[127.0.0.1]:53",
      "::1]",
      ",",
      "127.0.0.1,",
      ",127.0.0.1",
      "127.0.0.1,,127.0.0.2",
      " 127.0.0.1",
      "127.0.0.1 ",
      "127.0.0.1, 127.0.0.2",
      "garbage",
      "localhost:53",
      "dns://127.0.0.1",
      "127.0.0.1:53:53",
      "1.2.3",
      "256.0.0.1",
      "::1:53:zz",
      "[fe80::1%lo]:53",
      "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:53"};
  static const char *const accepted[] = {"127.0.0.1",
                                         "127.0.0.1:1",
                                         "127.0.0.1:65535",
                                         "[::1]:53",
                                         "[::1]",
                                         "::1",
                                         "::ffff:127.0.0.1",
                                         "127.0.0.1:5353,[::1]:53,127.0.0.2"};
  df_reactor *r = dft_reactor_new(false);
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    expect_refused(r, refused[i]);
  }
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
    expect_accepted(r, accepted[i]);
  }
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
}

/* c-ares would take port P + 65536 for port P, and reach the server. */
static void test_c2_port_does_not_wrap(void) {
  const char *servers = dft_dns_servers();
  const char *colon = strrchr(servers, ':');
  CU_ASSERT_PTR_NOT_NULL_FATAL(colon);
  char wrapped[64];
  snprintf(wrapped, sizeof wrapped, "127.0.0.1:%d", atoi(colon + 1) + 65536);
  df_reactor *r = dft_reactor_new(false);
  expect_refused(r, wrapped);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
}

/* Memory runs out while parsing a good list: DF_ENOMEM, nothing left. */
static void test_c2_server_list_without_memory(void) {
  df_reactor *r = dft_reactor_new(false);
  long before = dft_alloc_outstanding();
  df_resolver *res = NULL;
  dft_alloc_fail_nth(1);
  int rc = df_resolver_new(
      &res, r, &(df_resolver_options){.servers = "127.0.0.1,[::1]:53"});
  dft_alloc_fail_none();
  CU_ASSERT_EQUAL(rc, DF_ENOMEM);
  CU_ASSERT_PTR_NULL(res);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
}

/* ------------------------------------------------------------ k-th failure */

/* One run with the k-th allocation failing. The outcome's bookkeeping and
 * the reactor loop are the test's, so they run with failures paused. */
typedef struct run {
  dft_outcome o;
  long failures; /* allocations that failed during the run */
} run;

typedef df_deferred *(*start_fn)(df_reactor *r, df_resolver *res,
                                 const void *arg);

/* \p sync_only: only the allocations made inside \p start may fail, not
 * those of the reactor rounds after it. c-ares 1.18 drops an answer when
 * an allocation fails while matching it to its query, and the lookup then
 * waits for the retransmission: the tests that pin "at once" with a long
 * timeout fail only what df_resolve() itself allocates. */
static void run_once(df_reactor *r, df_resolver *res, start_fn start,
                     const void *arg, long k, bool sync_only, run *out) {
  memset(out, 0, sizeof *out);
  dft_alloc_fail_nth(k);
  df_deferred *d = start(r, res, arg);
  if (sync_only) {
    out->failures = dft_alloc_failures();
    dft_alloc_fail_none();
  }
  dft_alloc_pause();
  if (d != NULL) {
    dft_capture(d, &out->o);
  } else {
    out->o.fired = 1; /* NULL: the documented answer when memory ran out */
    out->o.type = &DF_NO_MEMORY;
  }
  dft_alloc_resume();
  (void)dft_run_until(r, &out->o.fired, RUN_LIMIT);
  if (!sync_only) {
    out->failures = dft_alloc_failures();
    dft_alloc_fail_none();
  }
}

static bool same_outcome(const dft_outcome *a, const dft_outcome *b) {
  return a->ok ? b->ok : (!b->ok && a->type == b->type && a->code == b->code);
}

/* Fails each allocation of \p start's operation in turn: every run fires
 * once, with what it gives when nothing fails or with DF_NO_MEMORY, and the
 * same resolver works again afterwards; nothing leaks. Returns the number
 * of runs. */
static long fail_each(const df_resolver_options *opts, start_fn start,
                      const void *arg, bool sync_only) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = dft_resolver(r, opts);
  run normal;
  run_once(r, res, start, arg, 0, sync_only, &normal);
  CU_ASSERT_EQUAL_FATAL(normal.o.fired, 1);
  CU_ASSERT(dft_drain_resolver(r, res, RUN_LIMIT));
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
  long k = 1;
  for (;; k++) {
    long before = dft_alloc_outstanding();
    r = dft_reactor_new(false);
    res = dft_resolver(r, opts);
    run one;
    run_once(r, res, start, arg, k, sync_only, &one);
    CU_ASSERT_EQUAL(one.o.fired, 1);
    if (one.o.fired == 1 && !same_outcome(&normal.o, &one.o) &&
        one.o.type != &DF_NO_MEMORY) {
      fprintf(stderr, "allocation %ld failed: %s (%s)\n", k,
              one.o.type != NULL ? one.o.type->name : "a value", one.o.message);
      CU_FAIL("a failed allocation did not end with DF_NO_MEMORY");
    }
    if (one.failures == 0) {
      CU_ASSERT(same_outcome(&normal.o, &one.o));
    }
    dft_outcome_clear(&one.o);
    /* The resolver recovers: the same operation works again. */
    run again;
    run_once(r, res, start, arg, 0, sync_only, &again);
    CU_ASSERT(same_outcome(&normal.o, &again.o));
    dft_outcome_clear(&again.o);
    CU_ASSERT(dft_drain_resolver(r, res, RUN_LIMIT));
    CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
    CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
    if (one.failures == 0) {
      break;
    }
  }
  dft_outcome_clear(&normal.o);
  return k;
}

typedef struct query {
  const char *host;
  int family;
} query;

static df_deferred *start_lookup(df_reactor *r, df_resolver *res,
                                 const void *arg) {
  (void)r;
  const query *q = arg;
  return df_resolve(res, q->host, q->family);
}

typedef struct target {
  const char *host;
  int port;
  int family;
} target;

static df_deferred *start_connect(df_reactor *r, df_resolver *res,
                                  const void *arg) {
  const target *t = arg;
  return df_connect_tcp(r, res, t->host, (unsigned)t->port,
                        &(df_connect_options){.family = t->family});
}

static df_resolver_options dnsmasq_options(void) {
  return (df_resolver_options){
      .servers = dft_dns_servers(), .timeout_ms = LONG_TIMEOUT_MS, .tries = 1};
}

/* The literal's address list was reported as DF_DNS code 15 (ARES_ENOMEM). */
static void test_c2_literal_without_memory(void) {
  df_resolver_options o = dnsmasq_options();
  long runs =
      fail_each(&o, start_lookup, &(query){"127.0.0.1", AF_UNSPEC}, false);
  CU_ASSERT(runs > 1);
  runs = fail_each(&o, start_lookup, &(query){"::1", AF_INET6}, false);
  CU_ASSERT(runs > 1);
}

/* A c-ares socket left unwatched (socket table or watch) made the lookup
 * wait for c-ares' whole timeout (a minute here): every allocation of
 * df_resolve(), c-ares' own and the socket's watch included, fails it at
 * once now, and the next lookup opens a new channel. */
static void test_c2_lookup_without_memory_fails_at_once(void) {
  df_resolver_options o = dnsmasq_options();
  long runs =
      fail_each(&o, start_lookup, &(query){DFT_NAME_BOTH, AF_UNSPEC}, true);
  CU_ASSERT(runs > 5);
  runs =
      fail_each(&o, start_lookup, &(query){DFT_NAME_MISSING, AF_UNSPEC}, true);
  CU_ASSERT(runs > 5);
}

/* Every allocation of a whole lookup, the answer's parsing included: with
 * a short timeout, an answer c-ares drops is asked for again. One family:
 * c-ares 1.18 may lose one family's answer of an AF_UNSPEC lookup when
 * memory runs out while parsing it (dns.h). */
static void test_c2_lookup_ends_whatever_allocation_fails(void) {
  df_resolver_options o = {
      .servers = dft_dns_servers(), .timeout_ms = 200, .tries = 3};
  CU_ASSERT(fail_each(&o, start_lookup, &(query){DFT_NAME_V4ONLY, AF_INET},
                      false) > 5);
  CU_ASSERT(fail_each(&o, start_lookup, &(query){DFT_NAME_MISSING, AF_UNSPEC},
                      false) > 5);
}

/* A connect attempt's watch failing was DF_SYSTEM ENOMEM ("no socket"). */
static void test_c2_connect_without_memory(void) {
  int port = 0;
  int listener = dft_listener(AF_INET, 0, 64, &port);
  CU_ASSERT_FATAL(listener >= 0);
  df_resolver_options o = dnsmasq_options();
  target literal = {"127.0.0.1", port, AF_UNSPEC};
  CU_ASSERT(fail_each(&o, start_connect, &literal, false) > 3);
  /* By name, one family: c-ares 1.18 may drop one family's answer of an
   * AF_UNSPEC lookup when memory runs out while parsing it, and the
   * connect would then go to ::1 only. */
  df_resolver_options quick = {
      .servers = dft_dns_servers(), .timeout_ms = 200, .tries = 3};
  target by_name = {DFT_NAME_BOTH, port, AF_INET};
  CU_ASSERT(fail_each(&quick, start_connect, &by_name, false) > 5);
  close(listener);
}

int main(void) {
  CU_TestInfo tests[] = {
      {"test_c2_server_lists_are_validated",
       test_c2_server_lists_are_validated},
      {"test_c2_port_does_not_wrap", test_c2_port_does_not_wrap},
      {"test_c2_server_list_without_memory",
       test_c2_server_list_without_memory},
      {"test_c2_literal_without_memory", test_c2_literal_without_memory},
      {"test_c2_lookup_without_memory_fails_at_once",
       test_c2_lookup_without_memory_fails_at_once},
      {"test_c2_lookup_ends_whatever_allocation_fails",
       test_c2_lookup_ends_whatever_allocation_fails},
      {"test_c2_connect_without_memory", test_c2_connect_without_memory},
      CU_TEST_INFO_NULL};
  return dft_dns_main("dns_memory", tests);
}
